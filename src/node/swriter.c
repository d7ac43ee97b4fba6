/* The history's writer thread (see swriter.h). */
#include "swriter.h"

#include "aether/error.h"
#include "aether/monowait.h"
#include "aether/log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SWRITER_LOG_EVERY_S 60.0

const char *const swriter_kind_names[SWRITER_KINDS] = {"minute", "decision", "result", "forecast",
                                                       "prune"};

/* One queued write; its strings and values are owned copies. */
struct op {
    struct op *next;
    enum swriter_kind kind;
    char *bp;
    struct ae_minute minute;                        /* SWRITER_MINUTE */
    struct store_decision d;                        /* SWRITER_DECISION: strings below */
    char *tier, *action, *reason, *inputs, *result; /* SWRITER_DECISION; result: RESULT too */
    int64_t id;                                     /* SWRITER_RESULT */
    int64_t made_ms, first_ms; /* SWRITER_FORECAST; made_ms is now_ms for SWRITER_PRUNE */
    int horizon;
    float *values;
    double confidence;
};

struct swriter {
    struct store *store;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    pthread_cond_t drained; /* signalled whenever a write finishes */
    pthread_t thread;
    struct op *head, *tail;
    long capacity;
    int stop;
    double drain_until_s; /* monotonic; set by swriter_stop */
    struct swriter_stats st;
    long failing;       /* failed attempts in the current streak */
    long long queued;   /* writes accepted into the queue since start */
    long long finished; /* of those, written or given up */
    double last_log_s;
};

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void op_free(struct op *o)
{
    if (!o)
        return;
    free(o->bp);
    free(o->tier);
    free(o->action);
    free(o->reason);
    free(o->inputs);
    free(o->result);
    free(o->values);
    free(o);
}

/* strdup that keeps NULL as NULL; *ok is cleared when memory is short. */
static char *dup_or_null(const char *s, int *ok)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *ok = 0;
    return d;
}

/* What a write is about, for the line that says it was lost: "minute 1767225600000 of
 * blueprint web", "decision 42 of blueprint web", "forecast made at ... of blueprint web". */
static void describe_op(const struct op *o, char *buf, size_t len)
{
    int64_t at = o->kind == SWRITER_MINUTE     ? o->minute.start_ms
                 : o->kind == SWRITER_DECISION ? o->d.ts_ms
                 : o->kind == SWRITER_RESULT   ? o->id
                                               : o->made_ms;
    const char *what = o->kind == SWRITER_DECISION   ? "decision at"
                       : o->kind == SWRITER_RESULT   ? "result of decision"
                       : o->kind == SWRITER_FORECAST ? "forecast made at"
                       : o->kind == SWRITER_PRUNE    ? "prune at"
                                                     : "minute";
    snprintf(buf, len, "%s %lld%s%s", what, (long long)at, o->bp ? " of blueprint " : "",
             o->bp ? o->bp : "");
}

/* Counts and logs one lost write of kind (o may be NULL: out of memory building it). */
static void drop_op(struct swriter *w, enum swriter_kind kind, const struct op *o, const char *why)
{
    pthread_mutex_lock(&w->mu);
    w->st.dropped++;
    w->st.dropped_kind[kind]++;
    long dropped = w->st.dropped;
    pthread_mutex_unlock(&w->mu);
    char what[160] = "";
    if (o)
        describe_op(o, what, sizeof what);
    nlog(NLOG_ERROR, "history", "%s: a %s write was dropped%s%s (%ld dropped so far)", why,
         swriter_kind_names[kind], o ? ": " : "", what, dropped);
}

/* Appends o to the queue, or drops it when the queue is full (or o is NULL: out of memory). */
static int enqueue(struct swriter *w, enum swriter_kind kind, struct op *o)
{
    pthread_mutex_lock(&w->mu);
    int full = w->st.depth >= w->capacity;
    if (!o || full) {
        pthread_mutex_unlock(&w->mu);
        drop_op(w, kind, o, full ? "the write queue is full" : "out of memory");
        op_free(o);
        return AE_ENOMEM;
    }
    if (w->tail)
        w->tail->next = o;
    else
        w->head = o;
    w->tail = o;
    w->st.depth++;
    w->queued++;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->mu);
    return 0;
}

static struct op *op_new(enum swriter_kind kind, const char *bp)
{
    struct op *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->kind = kind;
    int ok = 1;
    o->bp = dup_or_null(bp, &ok);
    if (!ok) {
        op_free(o);
        return NULL;
    }
    return o;
}

int swriter_put_minute(struct swriter *w, const char *bp, const struct ae_minute *m)
{
    struct op *o = op_new(SWRITER_MINUTE, bp);
    if (o)
        o->minute = *m;
    return enqueue(w, SWRITER_MINUTE, o);
}

int swriter_put_decision(struct swriter *w, const struct store_decision *d)
{
    struct op *o = op_new(SWRITER_DECISION, d->blueprint);
    int ok = o != NULL;
    if (o) {
        o->d = *d;
        o->d.blueprint = o->bp;
        o->d.tier = o->tier = dup_or_null(d->tier, &ok);
        o->d.action = o->action = dup_or_null(d->action, &ok);
        o->d.reason = o->reason = dup_or_null(d->reason, &ok);
        o->d.inputs_json = o->inputs = dup_or_null(d->inputs_json, &ok);
        o->d.result = o->result = dup_or_null(d->result, &ok);
    }
    if (!ok) {
        op_free(o);
        o = NULL;
    }
    return enqueue(w, SWRITER_DECISION, o);
}

int swriter_set_result(struct swriter *w, int64_t id, const char *result)
{
    struct op *o = op_new(SWRITER_RESULT, NULL);
    int ok = o != NULL;
    if (o) {
        o->id = id;
        o->result = dup_or_null(result, &ok);
    }
    if (!ok) {
        op_free(o);
        o = NULL;
    }
    return enqueue(w, SWRITER_RESULT, o);
}

int swriter_put_forecast(struct swriter *w, const char *bp, int64_t made_ms,
                         int64_t first_minute_ms, int horizon, const float *values,
                         double confidence)
{
    struct op *o = op_new(SWRITER_FORECAST, bp);
    size_t n = (size_t)(horizon > 0 ? horizon : 0) * STORE_FEATURES;
    if (o && n > 0 && !(o->values = malloc(n * sizeof *values))) {
        op_free(o);
        o = NULL;
    }
    if (o) {
        if (n > 0)
            memcpy(o->values, values, n * sizeof *values);
        o->made_ms = made_ms;
        o->first_ms = first_minute_ms;
        o->horizon = horizon;
        o->confidence = confidence;
    }
    return enqueue(w, SWRITER_FORECAST, o);
}

int swriter_prune(struct swriter *w, int64_t now_ms)
{
    struct op *o = op_new(SWRITER_PRUNE, NULL);
    if (o)
        o->made_ms = now_ms;
    return enqueue(w, SWRITER_PRUNE, o);
}

/* Logs what a prune did: INFO normally, WARN when it took a large share of a table or left more
 * for the next run. */
static void log_prune(const struct store *s, const struct store_prune_report *r)
{
    if (r->total == 0)
        return;
    int large = r->more;
    for (int i = 0; i < STORE_PRUNE_TABLES; i++)
        large |= r->deleted[i] > SWRITER_PRUNE_WARN_SHARE * (double)(r->deleted[i] + r->kept[i]);
    nlog(large ? NLOG_WARN : NLOG_INFO, "history",
         "%s %s: pruned rows older than %lld: %d minutes, %d decisions, %d forecasts (%lld, "
         "%lld, %lld left)%s",
         large ? "large prune of" : "retention of", store_path(s), (long long)r->cutoff_ms,
         r->deleted[0], r->deleted[1], r->deleted[2], (long long)r->kept[0], (long long)r->kept[1],
         (long long)r->kept[2], r->more ? "; more are due, the next prune goes on" : "");
}

/* Performs o on the store. 0 when done (or nothing to do), else the store's error. */
static int apply(struct store *s, const struct op *o, char *err, size_t errlen)
{
    struct store_prune_report r;
    int rc = 0;
    switch (o->kind) {
    case SWRITER_MINUTE:
        return store_put_minute(s, o->bp, &o->minute, err, errlen);
    case SWRITER_DECISION:
        return store_put_decision(s, &o->d, NULL, err, errlen);
    case SWRITER_RESULT:
        rc = store_set_decision_result(s, o->id, o->result, err, errlen);
        return rc == AE_ENOENT ? 0 : rc; /* pruned meanwhile: nothing to update */
    case SWRITER_FORECAST:
        return store_put_forecast(s, o->bp, o->made_ms, o->first_ms, o->horizon, o->values,
                                  o->confidence, err, errlen);
    case SWRITER_PRUNE:
        rc = store_prune(s, o->made_ms, SWRITER_PRUNE_MAX_ROWS, &r, err, errlen);
        if (rc >= 0)
            log_prune(s, &r);
        return rc < 0 ? rc : 0;
    case SWRITER_KINDS: /* a count, never a queued kind */
        break;
    }
    return 0;
}

/* After a failed attempt on the head (lock held): counts it and says whether to log it now. */
static int note_failure(struct swriter *w)
{
    w->st.errors++;
    double now = mono_now();
    int log_it = w->failing == 0 || now - w->last_log_s >= SWRITER_LOG_EVERY_S;
    if (log_it)
        w->last_log_s = now;
    w->failing++;
    return log_it;
}

/* Removes the head (lock held) after it was written or given up. */
static void pop_head(struct swriter *w)
{
    struct op *o = w->head;
    w->head = o->next;
    if (!w->head)
        w->tail = NULL;
    w->st.depth--;
    w->finished++;
    op_free(o);
    pthread_cond_broadcast(&w->drained);
}

/* The milliseconds to wait after the n-th consecutive failure. */
static int64_t backoff_ms(long n)
{
    int64_t ms = SWRITER_RETRY_MIN_MS;
    while (n-- > 1 && ms < SWRITER_RETRY_MAX_MS)
        ms *= 2;
    return ms < SWRITER_RETRY_MAX_MS ? ms : SWRITER_RETRY_MAX_MS;
}

/* One attempt at the head of the queue (lock held on entry and exit). */
static void write_head(struct swriter *w)
{
    struct op *o = w->head;
    enum swriter_kind kind = o->kind; /* o is freed by pop_head */
    pthread_mutex_unlock(&w->mu);
    char err[512] = "";
    int rc = apply(w->store, o, err, sizeof err);
    int retry = rc != 0 && store_retryable(w->store);
    pthread_mutex_lock(&w->mu);
    if (rc == 0 || !retry) {
        long failed = w->failing;
        w->failing = 0;
        pop_head(w);
        if (rc == 0)
            w->st.written++;
        else {
            w->st.dropped++;
            w->st.dropped_kind[kind]++;
        }
        long depth = w->st.depth;
        pthread_mutex_unlock(&w->mu);
        if (rc != 0)
            nlog(NLOG_ERROR, "history", "a %s write that cannot succeed was dropped: %s",
                 swriter_kind_names[kind], err);
        else if (failed > 0)
            nlog(NLOG_INFO, "history", "writes succeed again after %ld failed attempts; %ld queued",
                 failed, depth);
        pthread_mutex_lock(&w->mu);
        return;
    }
    int log_it = note_failure(w);
    long depth = w->st.depth, failing = w->failing;
    pthread_mutex_unlock(&w->mu);
    if (log_it)
        nlog(NLOG_ERROR, "history",
             "write failed, kept in memory and retried (%ld queued, %ld "
             "failed attempts): %s",
             depth, failing, err);
    pthread_mutex_lock(&w->mu);
    if (!w->stop)
        mono_cond_wait_ms(&w->wake, &w->mu, backoff_ms(failing));
    else if (mono_now() < w->drain_until_s)
        mono_cond_wait_ms(&w->wake, &w->mu, SWRITER_RETRY_MIN_MS);
}

static void *writer_main(void *arg)
{
    struct swriter *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->head && !w->stop)
            pthread_cond_wait(&w->wake, &w->mu);
        if (!w->head || (w->stop && mono_now() >= w->drain_until_s))
            break;
        write_head(w);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int swriter_start(struct store *s, long capacity, struct swriter **out, char *err, size_t errlen)
{
    *out = NULL;
    struct swriter *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return AE_ENOMEM;
    }
    w->store = s;
    w->capacity = capacity > 0 ? capacity : 1;
    pthread_mutex_init(&w->mu, NULL);
    int rc = mono_cond_init(&w->wake);
    if (rc == 0)
        rc = mono_cond_init(&w->drained);
    if (rc == 0)
        rc = pthread_create(&w->thread, NULL, writer_main, w);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the history writer: %s", strerror(rc));
        pthread_mutex_destroy(&w->mu);
        free(w);
        return AE_EIO;
    }
    *out = w;
    return 0;
}

void swriter_get_stats(struct swriter *w, struct swriter_stats *out)
{
    pthread_mutex_lock(&w->mu);
    *out = w->st;
    pthread_mutex_unlock(&w->mu);
}

int swriter_flush(struct swriter *w, int64_t timeout_ms)
{
    double until = mono_now() + (double)timeout_ms / 1000.0;
    pthread_mutex_lock(&w->mu);
    long long target = w->queued; /* what was queued before this call */
    double now;
    while (w->finished < target && (now = mono_now()) < until)
        mono_cond_wait_ms(&w->drained, &w->mu, (int64_t)((until - now) * 1000.0) + 1);
    int rc = w->finished < target ? AE_ETIMEOUT : 0;
    pthread_mutex_unlock(&w->mu);
    return rc;
}

void swriter_stop(struct swriter *w, int64_t drain_ms)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    w->drain_until_s = mono_now() + (double)drain_ms / 1000.0;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    if (w->st.depth > 0)
        nlog(NLOG_ERROR, "history", "stopping: %ld queued writes could not be written to %s",
             w->st.depth, store_path(w->store));
    while (w->head)
        pop_head(w);
    pthread_cond_destroy(&w->wake);
    pthread_cond_destroy(&w->drained);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
