/* The Prometheus-query collector and the range reads of the backfill (see aether/promql.h).
 *
 * The thread builds every query's URL once, then each round sends them all through the module's
 * HTTP client in parallel (any status read, so that Prometheus' own error message reaches the
 * reason), decodes each answer and publishes the round under the mutex. */
#include "aether/promql.h"

#include "aether/error.h"
#include "aether/features.h"
#include "httpc.h"
#include "promql_decode.h"
#include "promql_url.h"
#include "spawn.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROMQL_MAX_BODY (1u << 20)

struct promql_round {
    int64_t taken_ms; /* 0 = none yet */
    double values[AE_FEATURE_COUNT];
    uint32_t present;
    char reason[768];
};

struct promql_collector {
    struct cfg_blueprint bp; /* scalars and names only; list pointers cleared */
    int interval_ms;
    int nq;                        /* queries sent each round */
    int feature[AE_FEATURE_COUNT]; /* feature of query i */
    char (*url)[PROMQL_URL_MAX];   /* nq URLs, heap */
    struct httpc_request *req;     /* nq requests, heap (the thread's) */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
    struct promql_round round; /* guarded by mu */
};

/* Sets the request's TLS options from the blueprint's [blueprint.prometheus]. */
static void set_tls(struct httpc_request *r, const struct cfg_prometheus *p)
{
    r->ca_file = p->ca_file[0] ? p->ca_file : NULL;
    r->tls_insecure = !p->tls_verify;
}

/* Why query i of a round has no value ("" when it has one). */
typedef char promql_why[sizeof(((struct httpc_request *)0)->error) + PROMQL_ERR_MAX];

/* The reason of a round: the failed features grouped by their reason, "cpu_usage, invocations:
 * timed out after 2000 ms; latency_p99: no data (...)". */
static void write_reason(struct promql_round *r, const struct promql_collector *c, promql_why *why)
{
    size_t used = 0, cap = sizeof r->reason;
    for (int i = 0; i < c->nq && used < cap; i++) {
        if (!why[i][0])
            continue;
        for (int k = i; k < c->nq; k++)
            if (k == i || strcmp(why[k], why[i]) == 0)
                used = ae_errf(r->reason, cap, used, "%s%s", k == i ? (used ? "; " : "") : ", ",
                               ae_feature_name(c->feature[k]));
        used = ae_errf(r->reason, cap, used, ": %s", why[i]);
        for (int k = c->nq - 1; k > i; k--)
            if (strcmp(why[k], why[i]) == 0)
                why[k][0] = '\0';
    }
}

/* The value of one finished request into the round, or the reason it has none into why. */
static void take_answer(struct promql_round *round, int f, const struct httpc_request *q, char *why,
                        size_t len)
{
    double t, v;
    why[0] = '\0';
    if (!q->ok) {
        snprintf(why, len, "%s", q->error);
    } else if (promql_decode_instant(q->resp.body, q->resp.body_len, &t, &v, why, len)) {
        if (q->resp.status != 200 && strncmp(why, "Prometheus error", 16) != 0)
            snprintf(why, len, "HTTP status %d", q->resp.status);
    } else if (!isfinite(v)) {
        snprintf(why, len, "%s", isnan(v) ? "NaN (no traffic to divide by?)" : "infinite");
    } else {
        round->values[f] = v;
        round->present |= AE_FEATURE_BIT(f);
    }
}

static void query_round(struct promql_collector *c)
{
    struct promql_round round;
    memset(&round, 0, sizeof round);
    for (int i = 0; i < c->nq; i++) {
        memset(&c->req[i], 0, sizeof c->req[i]);
        c->req[i].url = c->url[i];
        c->req[i].max_body = PROMQL_MAX_BODY;
        c->req[i].any_status = 1;
        set_tls(&c->req[i], &c->bp.prometheus);
    }
    httpc_get_all(c->req, c->nq, "application/json", c->bp.prometheus.query_timeout_ms);
    promql_why why[AE_FEATURE_COUNT];
    for (int i = 0; i < c->nq; i++) {
        take_answer(&round, c->feature[i], &c->req[i], why[i], sizeof why[i]);
        httpc_request_free(&c->req[i]);
    }
    write_reason(&round, c, why);
    round.taken_ms = spawn_now_ms();
    pthread_mutex_lock(&c->mu);
    c->round = round;
    pthread_mutex_unlock(&c->mu);
}

static void *query_thread(void *arg)
{
    struct promql_collector *c = arg;
    pthread_mutex_lock(&c->mu);
    while (!c->stop) {
        pthread_mutex_unlock(&c->mu);
        int64_t next = spawn_now_ms() + c->interval_ms;
        query_round(c);
        pthread_mutex_lock(&c->mu);
        while (!c->stop && spawn_now_ms() < next)
            spawn_wait_until(&c->cv, &c->mu, next);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* Builds the URL of every queried feature. 0, or AE_EINVAL naming the feature. */
static int build_queries(struct promql_collector *c, char *err, size_t errlen)
{
    for (int f = 0; f < AE_FEATURE_COUNT; f++) {
        char q[CFG_PROMQL_MAX + CFG_PATH_MAX];
        int has = promql_query_for(&c->bp, f, q, sizeof q);
        if (has == 0)
            continue;
        if (has < 0 || promql_url(c->bp.prometheus.url, "query", q, NULL, c->url[c->nq],
                                  PROMQL_URL_MAX) != 0) {
            ae_errf(err, errlen, 0, "blueprint.%s.prometheus.queries.%s: the query is too long",
                    c->bp.name, ae_feature_name(f));
            return AE_EINVAL;
        }
        c->feature[c->nq++] = f;
    }
    return 0;
}

static void free_parts(struct promql_collector *c)
{
    free(c->url);
    free(c->req);
    free(c);
}

int promql_collector_open(const struct cfg_blueprint *bp, int interval_ms,
                          struct promql_collector **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!bp->prometheus.url[0])
        return 0;
    struct promql_collector *c = calloc(1, sizeof *c);
    if (c) {
        c->url = calloc(AE_FEATURE_COUNT, sizeof *c->url);
        c->req = calloc(AE_FEATURE_COUNT, sizeof *c->req);
    }
    if (!c || !c->url || !c->req) {
        if (c)
            free_parts(c);
        ae_errf(err, errlen, 0, "out of memory");
        return AE_ENOMEM;
    }
    c->bp = *bp;
    c->bp.command = c->bp.scale_command = c->bp.metrics_urls = NULL;
    c->bp.env = NULL;
    c->interval_ms = interval_ms;
    int rc = build_queries(c, err, errlen);
    if (rc) {
        free_parts(c);
        return rc;
    }
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    if (pthread_create(&c->thread, NULL, query_thread, c) != 0) {
        pthread_mutex_destroy(&c->mu);
        pthread_cond_destroy(&c->cv);
        free_parts(c);
        ae_errf(err, errlen, 0, "blueprint %s: cannot start the Prometheus query thread", bp->name);
        return AE_ENOMEM;
    }
    *out = c;
    return 0;
}

/* 1 when the latest round is recent enough to use. */
static int fresh(const struct promql_collector *c)
{
    return c->round.taken_ms > 0 && spawn_now_ms() - c->round.taken_ms <= 3 * c->interval_ms;
}

void promql_collector_fill(struct promql_collector *c, struct ae_snapshot *snap)
{
    pthread_mutex_lock(&c->mu);
    if (fresh(c))
        for (int f = 0; f < AE_FEATURE_COUNT; f++)
            if (c->round.present & AE_FEATURE_BIT(f))
                ae_snapshot_set(snap, f, c->round.values[f]);
    pthread_mutex_unlock(&c->mu);
}

size_t promql_collector_reason(struct promql_collector *c, char *buf, size_t len)
{
    pthread_mutex_lock(&c->mu);
    int n;
    if (c->round.taken_ms == 0)
        n = snprintf(buf, len, "prometheus %s: no answer yet", c->bp.prometheus.url);
    else if (!fresh(c))
        n = snprintf(buf, len, "prometheus %s: the last round of queries is %.1f s old",
                     c->bp.prometheus.url, (double)(spawn_now_ms() - c->round.taken_ms) / 1000.0);
    else if (c->round.reason[0])
        n = snprintf(buf, len, "prometheus %s: %s", c->bp.prometheus.url, c->round.reason);
    else
        n = snprintf(buf, len, "%s", "");
    pthread_mutex_unlock(&c->mu);
    return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len ? len - 1 : 0;
}

void promql_collector_close(struct promql_collector *c)
{
    if (!c)
        return;
    spawn_thread_stop(c->thread, &c->mu, &c->cv, &c->stop);
    free_parts(c);
}

/* ---- range reads (backfill) ---- */

struct range_ctx {
    promql_minute_cb cb;
    void *ctx;
    int delivered;
};

/* A point at time t closes the minute that started 60 s before it. */
static int deliver_point(void *arg, double t_s, double v)
{
    struct range_ctx *r = arg;
    if (isfinite(v)) {
        int64_t end_ms = (int64_t)llround(t_s * 1000.0);
        r->cb(r->ctx, end_ms - AE_MINUTE_MS, v);
        r->delivered++;
    }
    return 0;
}

int promql_fetch_range(const struct cfg_blueprint *bp, int f, int64_t from_ms, int64_t to_ms,
                       promql_minute_cb cb, void *ctx, char *err, size_t errlen)
{
    char q[CFG_PROMQL_MAX + CFG_PATH_MAX], extra[96];
    int has = promql_query_for(bp, f, q, sizeof q);
    if (has <= 0)
        return 0;
    /* points at every minute end: from + 1 min .. to */
    snprintf(extra, sizeof extra, "&start=%lld&end=%lld&step=60",
             (long long)((from_ms + AE_MINUTE_MS) / 1000), (long long)(to_ms / 1000));
    struct httpc_request r;
    memset(&r, 0, sizeof r);
    char *u = malloc(PROMQL_URL_MAX);
    if (!u)
        return AE_ENOMEM;
    if (promql_url(bp->prometheus.url, "query_range", q, extra, u, PROMQL_URL_MAX) != 0) {
        free(u);
        ae_errf(err, errlen, 0, "%s: %s: the query is too long", bp->prometheus.url,
                ae_feature_name(f));
        return AE_EINVAL;
    }
    r.url = u;
    r.max_body = 16u << 20;
    r.any_status = 1;
    set_tls(&r, &bp->prometheus);
    httpc_get_all(&r, 1, "application/json", bp->prometheus.query_timeout_ms);
    struct range_ctx rc = {cb, ctx, 0};
    char why[sizeof r.error + PROMQL_ERR_MAX] = "";
    int n = r.ok ? promql_decode_range(r.resp.body, r.resp.body_len, deliver_point, &rc, why,
                                       sizeof why)
                 : -1;
    if (!r.ok)
        snprintf(why, sizeof why, "%s", r.error);
    httpc_request_free(&r);
    free(u);
    if (n < 0) {
        ae_errf(err, errlen, 0, "%s/api/v1/query_range: %s: %s", bp->prometheus.url,
                ae_feature_name(f), why);
        return AE_EIO;
    }
    return rc.delivered;
}
