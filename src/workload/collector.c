/* The scrape and process collectors (see include/aether/collector.h): the scrape thread that
 * turns each target's counters into per-second features, and the /proc readings of the targets
 * the process actuator runs (they share the target list). The host collector is in
 * collect_host.c, the /proc reader of one process in proc_usage.c.
 *
 * The scrape thread keeps, per target URL, the previous scrape's counter values and time; a
 * feature is the sum over targets of (value - previous) / elapsed seconds, where a value lower
 * than the previous one means the counter was reset (the process restarted) and the delta is
 * the value itself. A target seen for the first time contributes from its second scrape. */
#include "aether/collector.h"

#include "aether/error.h"
#include "aether/monowait.h"
#include "aether/prom.h"
#include "httpc.h"
#include "spawn.h"

#include <math.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double wall_s(void)
{
    return (double)spawn_now_ms() / 1000.0;
}

/* ---- scrape ---- */

/* What one scrape of one target yielded. */
struct reading {
    int ok; /* fetched and parsed */
    int has_req, has_err, has_hist, has_gc, has_cpu, has_rss;
    double req, err, gc, cpu, rss;
    struct prom_histogram hist;
};

/* Per-target memory across scrapes. */
struct target_state {
    char url[sizeof(((struct actuator_target *)0)->url)];
    pid_t pid;
    int seen;        /* marked while matching a new target list */
    int have_prev;   /* prev holds a successful reading */
    double prev_t;   /* when prev was taken, s */
    double proc_t;   /* process collector: time of proc_cpu */
    double proc_cpu; /* process collector: previous CPU seconds, <0 if none */
    struct reading prev;
};

/* The features of the last scrape round. */
struct scrape_result {
    double taken_s; /* 0 = none yet */
    double values[AE_FEATURE_COUNT];
    uint32_t present;
    int has_hist;
    struct ae_histogram hist;
    char reason[512];
};

struct collector {
    struct cfg_blueprint bp; /* scalars and names only; list pointers cleared */
    struct collector_options opt;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
    struct target_state *targets; /* COLLECTOR_MAX_TARGETS slots, ntargets used; guarded by mu */
    struct target_state *spare;   /* COLLECTOR_MAX_TARGETS slots: the next list is built here */
    int ntargets;
    struct scrape_result result; /* guarded by mu */
};

void collector_default_options(struct collector_options *out)
{
    out->interval_ms = 1000;
    out->timeout_ms = 800;
    out->max_body_bytes = 1u << 20;
}

/* Appends the pieces (NULL-terminated list) to reason, "; "-separated from what is there,
 * cut at cap. Truncation is fine: the reason is for people. */
static void append_reason(char *reason, size_t cap, ...)
{
    size_t used = strlen(reason);
    va_list ap;
    va_start(ap, cap);
    const char *piece = used ? "; " : va_arg(ap, const char *);
    while (piece) {
        size_t pl = strlen(piece);
        if (used + pl + 1 > cap)
            pl = cap - used - 1;
        memcpy(reason + used, piece, pl);
        used += pl;
        reason[used] = '\0';
        piece = va_arg(ap, const char *);
    }
    va_end(ap);
}

/* Reads the configured series out of a parsed page. */
static void read_page(const struct collector *c, const struct prom_doc *doc, struct reading *r,
                      const char *url, char *reason, size_t rcap)
{
    const struct cfg_metrics_names *m = &c->bp.metrics;
    r->has_req = m->requests_total[0] && prom_sum(doc, m->requests_total, &r->req) == 0;
    if (m->requests_total[0] && !r->has_req)
        append_reason(reason, rcap, url, ": no metric ", m->requests_total, NULL);
    r->has_err = m->errors_total[0] && prom_sum(doc, m->errors_total, &r->err) == 0;
    r->has_hist =
        m->latency_histogram[0] && prom_histogram_get(doc, m->latency_histogram, &r->hist) == 0;
    if (m->latency_histogram[0] && !r->has_hist)
        append_reason(reason, rcap, url, ": no histogram ", m->latency_histogram, NULL);
    r->has_gc = m->gc_pause_total[0] && prom_sum(doc, m->gc_pause_total, &r->gc) == 0;
    if (m->gc_pause_total[0] && !r->has_gc)
        append_reason(reason, rcap, url, ": no metric ", m->gc_pause_total, NULL);
    r->has_cpu = prom_sum(doc, "process_cpu_seconds_total", &r->cpu) == 0;
    r->has_rss = prom_sum(doc, "process_resident_memory_bytes", &r->rss) == 0;
}

/* Counter delta with reset handling. */
static double counter_delta(double now, double prev)
{
    return now >= prev ? now - prev : now;
}

/* gc_pause_total is in seconds when its name says so (Prometheus base units), else in ms. */
static double gc_scale_to_ms(const char *name)
{
    return strstr(name, "seconds") ? 1000.0 : 1.0;
}

/* Folds the round's readings (r[i] for the targets t[i]) into a result. */
/* What one round adds up over the targets: rates summed, gauges summed with their counts, the
 * latency histogram's deltas merged (per second, cumulative by bound). */
struct round_sums {
    double req, err, gc, cpu, rss, lat_sum, lat_count;
    int n_req, n_err, n_gc, n_cpu, n_rss, n_lat, n_hist;
    struct prom_histogram merged;
};

/* Adds the per-second rate of a counter seen in both scrapes to *sum. */
static void add_rate(double *sum, int *n, int has_now, double now, int has_prev, double prev,
                     double dt)
{
    if (has_now && has_prev) {
        *sum += counter_delta(now, prev) / dt;
        (*n)++;
    }
}

/* Adds one target's histogram delta (h since ph, over dt seconds): the latency sum and count,
 * and the buckets when their bounds equal those merged so far. */
static void add_histogram(struct round_sums *s, const struct prom_histogram *h,
                          const struct prom_histogram *ph, double dt)
{
    int reset = h->count < ph->count || h->nbuckets != ph->nbuckets;
    if (!isnan(h->sum) && !isnan(ph->sum)) {
        s->lat_sum += reset ? h->sum : h->sum - ph->sum;
        s->lat_count += reset ? h->count : h->count - ph->count;
        s->n_lat++;
    }
    if (s->n_hist == 0) {
        s->merged.nbuckets = h->nbuckets;
        memcpy(s->merged.le, h->le, sizeof(h->le));
    }
    if (s->merged.nbuckets == h->nbuckets &&
        memcmp(s->merged.le, h->le, h->nbuckets * sizeof(double)) == 0) {
        for (size_t b = 0; b < h->nbuckets; b++)
            s->merged.cumulative[b] +=
                (reset ? h->cumulative[b] : h->cumulative[b] - ph->cumulative[b]) / dt;
        s->n_hist++;
    }
}

/* Adds target i's reading r (and its change since the previous scrape) to the round's sums. */
static void add_target(struct round_sums *s, const struct target_state *t, const struct reading *r,
                       double now)
{
    if (r->has_rss) {
        s->rss += r->rss;
        s->n_rss++;
    }
    const struct reading *p = &t->prev;
    double dt = now - t->prev_t;
    if (!t->have_prev || dt <= 0.05)
        return;
    add_rate(&s->req, &s->n_req, r->has_req, r->req, p->has_req, p->req, dt);
    add_rate(&s->err, &s->n_err, r->has_err, r->err, p->has_err, p->err, dt);
    add_rate(&s->gc, &s->n_gc, r->has_gc, r->gc, p->has_gc, p->gc, dt);
    add_rate(&s->cpu, &s->n_cpu, r->has_cpu, r->cpu, p->has_cpu, p->cpu, dt);
    if (r->has_hist && p->has_hist)
        add_histogram(s, &r->hist, &p->hist, dt);
}

static void put(struct scrape_result *out, int f, double v)
{
    out->values[f] = v;
    out->present |= AE_FEATURE_BIT(f);
}

/* The merged histogram as the snapshot's (ms bounds, per-bucket counts) and its percentiles. */
static void put_histogram(const struct prom_histogram *merged, struct scrape_result *out)
{
    struct ae_histogram *h = &out->hist;
    h->buckets = (int)merged->nbuckets;
    double total = 0;
    for (size_t b = 0; b < merged->nbuckets; b++) {
        double below = b ? merged->cumulative[b - 1] : 0;
        h->upper_ms[b] = isinf(merged->le[b]) ? INFINITY : merged->le[b] * 1000.0;
        h->count[b] = fmax(0.0, merged->cumulative[b] - below);
        total += h->count[b];
    }
    out->has_hist = 1;
    if (total > 0) {
        put(out, AE_F_LATENCY_P50, ae_histogram_quantile(h, 0.50));
        put(out, AE_F_LATENCY_P95, ae_histogram_quantile(h, 0.95));
        put(out, AE_F_LATENCY_P99, ae_histogram_quantile(h, 0.99));
    }
}

/* Folds one round's readings r[0..n-1] (with the targets' previous ones in t) at time now into
 * the features of *out. */
static void fold_round(struct collector *c, struct target_state *t, struct reading *r, int n,
                       double now, struct scrape_result *out)
{
    struct round_sums s;
    memset(&s, 0, sizeof(s));
    for (int i = 0; i < n; i++)
        if (r[i].ok)
            add_target(&s, &t[i], &r[i], now);
    memset(out->values, 0, sizeof(out->values));
    out->present = 0;
    out->has_hist = 0;
    if (s.n_req) {
        put(out, AE_F_INVOCATIONS, s.req);
        put(out, AE_F_EVENT_COUNT, s.req);
        if (s.n_err)
            put(out, AE_F_ERROR_RATE, s.req > 0 ? fmin(1.0, s.err / s.req) : 0.0);
    }
    if (s.n_gc)
        put(out, AE_F_GC_PAUSE_MS, s.gc * gc_scale_to_ms(c->bp.metrics.gc_pause_total));
    if (s.n_cpu && c->bp.cpu_limit_cores > 0)
        put(out, AE_F_CPU_USAGE, s.cpu / s.n_cpu / c->bp.cpu_limit_cores);
    if (s.n_rss && c->bp.memory_limit_bytes > 0)
        put(out, AE_F_HEAP_USAGE, s.rss / s.n_rss / (double)c->bp.memory_limit_bytes);
    if (s.n_lat && s.lat_count > 0)
        put(out, AE_F_LATENCY_MS, s.lat_sum / s.lat_count * 1000.0);
    if (s.n_hist && s.merged.nbuckets <= AE_HIST_MAX_BUCKETS)
        put_histogram(&s.merged, out);
}

/* The scrape thread's working memory, allocated once when the thread starts. */
struct round_buffers {
    struct target_state *t;
    struct reading *r;
    struct httpc_request *f;
};

/* One round: fetch every target in parallel, parse, fold, publish. */
static void scrape_round(struct collector *c, struct round_buffers *buf)
{
    struct target_state *t = buf->t;
    struct reading *r = buf->r;
    struct httpc_request *f = buf->f;
    pthread_mutex_lock(&c->mu);
    int n = c->ntargets;
    memcpy(t, c->targets, (size_t)n * sizeof(*t));
    pthread_mutex_unlock(&c->mu);

    struct scrape_result res;
    memset(&res, 0, sizeof(res));
    for (int i = 0; i < n; i++) {
        memset(&r[i], 0, sizeof(r[i]));
        memset(&f[i], 0, sizeof(f[i]));
        f[i].url = t[i].url;
        f[i].max_body = c->opt.max_body_bytes;
        f[i].ca_file = c->bp.prometheus.ca_file[0] ? c->bp.prometheus.ca_file : NULL;
        f[i].tls_insecure = !c->bp.prometheus.tls_verify; /* https:// targets, as for queries */
    }
    httpc_get_all(f, n, PROM_ACCEPT_HEADER, c->opt.timeout_ms);
    double now = wall_s();
    for (int i = 0; i < n; i++) {
        char what[256];
        if (!f[i].ok) {
            snprintf(what, sizeof(what), "%s", f[i].error);
        } else {
            struct prom_doc *doc = NULL;
            char perr[128];
            const char *body = f[i].resp.body ? f[i].resp.body : "";
            int prc = prom_parse(body, f[i].resp.body_len,
                                 prom_format_for_content_type(f[i].resp.content_type), &doc, perr,
                                 sizeof(perr));
            if (prc == 0) {
                read_page(c, doc, &r[i], t[i].url, res.reason, sizeof(res.reason));
                r[i].ok = 1;
                prom_doc_free(doc);
                what[0] = '\0';
            } else {
                snprintf(what, sizeof(what), "unreadable metrics page: %s", perr);
            }
        }
        if (what[0])
            append_reason(res.reason, sizeof(res.reason), t[i].url, ": ", what, NULL);
        httpc_request_free(&f[i]);
    }
    if (n == 0)
        snprintf(res.reason, sizeof(res.reason), "no ready instance or metrics URL to scrape");

    fold_round(c, t, r, n, now, &res);
    int waiting = 0;
    for (int i = 0; i < n; i++)
        waiting += r[i].ok && !t[i].have_prev;
    if (waiting && !(res.present & AE_FEATURE_BIT(AE_F_INVOCATIONS)))
        append_reason(res.reason, sizeof(res.reason),
                      "counters need a second scrape of a new target", NULL);
    res.taken_s = now;

    /* Publish, and remember the readings of targets still listed. */
    pthread_mutex_lock(&c->mu);
    c->result = res;
    for (int k = 0; k < c->ntargets; k++)
        for (int i = 0; i < n; i++)
            if (strcmp(c->targets[k].url, t[i].url) == 0 && r[i].ok) {
                c->targets[k].prev = r[i];
                c->targets[k].prev_t = now;
                c->targets[k].have_prev = 1;
            }
    pthread_mutex_unlock(&c->mu);
}

static void *scrape_thread(void *arg)
{
    struct collector *c = arg;
    struct round_buffers buf = {calloc(COLLECTOR_MAX_TARGETS, sizeof(*buf.t)),
                                calloc(COLLECTOR_MAX_TARGETS, sizeof(*buf.r)),
                                calloc(COLLECTOR_MAX_TARGETS, sizeof(*buf.f))};
    int ready = buf.t && buf.r && buf.f; /* else: no scrapes, features stay missing */
    pthread_mutex_lock(&c->mu);
    if (!ready)
        snprintf(c->result.reason, sizeof(c->result.reason), "out of memory: no scraping");
    while (!c->stop) {
        pthread_mutex_unlock(&c->mu);
        int64_t start = spawn_now_ms();
        if (ready)
            scrape_round(c, &buf);
        int64_t next = start + c->opt.interval_ms;
        pthread_mutex_lock(&c->mu);
        while (!c->stop && spawn_now_ms() < next)
            spawn_wait_until(&c->cv, &c->mu, next);
    }
    pthread_mutex_unlock(&c->mu);
    free(buf.t);
    free(buf.r);
    free(buf.f);
    return NULL;
}

/* Frees what collector_open allocated (the thread must not run); NULL is a no-op. */
static void collector_free(struct collector *c)
{
    if (!c)
        return;
    free(c->targets);
    free(c->spare);
    free(c);
}

int collector_open(const struct cfg_blueprint *bp, const struct collector_options *opt,
                   struct collector **out, char *err, size_t errlen)
{
    *out = NULL;
    struct collector *c = calloc(1, sizeof(*c));
    if (c) {
        c->targets = calloc(COLLECTOR_MAX_TARGETS, sizeof(*c->targets));
        c->spare = calloc(COLLECTOR_MAX_TARGETS, sizeof(*c->spare));
    }
    if (!c || !c->targets || !c->spare) {
        collector_free(c);
        ae_errf(err, errlen, 0, "out of memory");
        return AE_ENOMEM;
    }
    c->bp = *bp;
    c->bp.command = c->bp.scale_command = c->bp.status_command = c->bp.metrics_urls = NULL;
    c->bp.env = NULL;
    if (opt)
        c->opt = *opt;
    else
        collector_default_options(&c->opt);
    pthread_mutex_init(&c->mu, NULL);
    mono_cond_init(&c->cv);
    if (pthread_create(&c->thread, NULL, scrape_thread, c) != 0) {
        ae_errf(err, errlen, 0, "blueprint %s: cannot start the scrape thread", bp->name);
        pthread_mutex_destroy(&c->mu);
        pthread_cond_destroy(&c->cv);
        collector_free(c);
        return AE_EIO;
    }
    *out = c;
    return 0;
}

void collector_set_targets(struct collector *c, const struct actuator_target *t, int n)
{
    if (n > COLLECTOR_MAX_TARGETS)
        n = COLLECTOR_MAX_TARGETS;
    pthread_mutex_lock(&c->mu);
    /* Keep the state of targets that stay (same URL and pid); drop the others. */
    struct target_state *old = c->targets, *fresh = c->spare;
    for (int i = 0; i < n; i++) {
        int kept = 0;
        for (int k = 0; k < c->ntargets && !kept; k++)
            if (strcmp(old[k].url, t[i].url) == 0 && old[k].pid == t[i].pid) {
                fresh[i] = old[k];
                kept = 1;
            }
        if (!kept) {
            memset(&fresh[i], 0, sizeof(fresh[i]));
            snprintf(fresh[i].url, sizeof(fresh[i].url), "%s", t[i].url);
            fresh[i].pid = t[i].pid;
            fresh[i].proc_cpu = -1;
        }
    }
    c->targets = fresh;
    c->spare = old;
    c->ntargets = n;
    pthread_mutex_unlock(&c->mu);
}

void collector_fill_process(struct collector *c, struct ae_snapshot *snap)
{
    double cpu = 0, rss = 0;
    int n_cpu = 0, n_rss = 0;
    double now = wall_s();
    pthread_mutex_lock(&c->mu);
    for (int i = 0; i < c->ntargets; i++) {
        struct target_state *t = &c->targets[i];
        double cs, rb;
        if (t->pid <= 0 || proc_process_usage(t->pid, &cs, &rb) != 0)
            continue;
        rss += rb;
        n_rss++;
        if (t->proc_cpu >= 0 && now - t->proc_t > 0.05) {
            cpu += (cs - t->proc_cpu) / (now - t->proc_t);
            n_cpu++;
        }
        t->proc_cpu = cs;
        t->proc_t = now;
    }
    pthread_mutex_unlock(&c->mu);
    if (n_cpu && c->bp.cpu_limit_cores > 0)
        ae_snapshot_set(snap, AE_F_CPU_USAGE, cpu / n_cpu / c->bp.cpu_limit_cores);
    if (n_rss && c->bp.memory_limit_bytes > 0)
        ae_snapshot_set(snap, AE_F_HEAP_USAGE, rss / n_rss / (double)c->bp.memory_limit_bytes);
}

void collector_fill_scrape(struct collector *c, struct ae_snapshot *snap)
{
    pthread_mutex_lock(&c->mu);
    const struct scrape_result *r = &c->result;
    int fresh = r->taken_s > 0 && wall_s() - r->taken_s <= 3.0 * c->opt.interval_ms / 1000.0;
    if (fresh) {
        for (int f = 0; f < AE_FEATURE_COUNT; f++)
            if (r->present & AE_FEATURE_BIT(f))
                ae_snapshot_set(snap, f, r->values[f]);
        if (r->has_hist) {
            snap->hist = r->hist;
            snap->has_histogram = 1;
        }
    }
    pthread_mutex_unlock(&c->mu);
}

size_t collector_reason(struct collector *c, char *buf, size_t len)
{
    pthread_mutex_lock(&c->mu);
    int n;
    if (c->result.taken_s > 0 && wall_s() - c->result.taken_s > 3.0 * c->opt.interval_ms / 1000.0)
        n = snprintf(buf, len, "the last scrape is %.1f s old", wall_s() - c->result.taken_s);
    else
        n = snprintf(buf, len, "%s", c->result.reason);
    pthread_mutex_unlock(&c->mu);
    return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len ? len - 1 : 0;
}

void collector_close(struct collector *c)
{
    if (!c)
        return;
    spawn_thread_stop(c->thread, &c->mu, &c->cv, &c->stop);
    collector_free(c);
}
