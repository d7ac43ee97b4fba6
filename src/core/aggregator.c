/* Minute aggregator: 1-second snapshots in, closed minute aggregates out, and the model input
 * built from the kept minutes. Everything is sized in agg_open(); nothing allocates afterwards.
 * The kept minutes are a plain array, oldest first (the oldest is shifted out once a minute when
 * full), so the model-input rule can run over it as over any array of minutes. */
#include <stdlib.h>
#include <string.h>

#include "aether/aggregator.h"
#include "aether/error.h"

/* Accumulators of the open minute. */
struct open_minute {
    int active;
    int64_t start_ms;
    int snapshots;
    double ready_sum, requested_sum;
    double sum[AE_FEATURE_COUNT]; /* plain sums of the per-second values */
    int samples[AE_FEATURE_COUNT];
    double wsum[AE_FEATURE_COUNT];   /* sum of value x invocations (request-weighted features) */
    double weight[AE_FEATURE_COUNT]; /* sum of invocations behind wsum */
    int hist_state;                  /* 0 none yet, 1 merging, -1 bounds differed */
    struct ae_histogram hist;
};

struct agg {
    struct ae_minute minutes[AGG_HISTORY_MINUTES];
    int count;
    struct open_minute open;
};

int agg_open(agg **out, char *err, size_t errlen)
{
    if (!out) {
        ae_errf(err, errlen, 0, "agg_open: out is NULL");
        return AE_EINVAL;
    }
    *out = calloc(1, sizeof(agg));
    if (!*out) {
        ae_errf(err, errlen, 0, "aggregator: out of memory");
        return AE_ENOMEM;
    }
    return 0;
}

void agg_free(agg *a)
{
    free(a);
}

static void keep(agg *a, const struct ae_minute *m)
{
    if (a->count == AGG_HISTORY_MINUTES) {
        memmove(&a->minutes[0], &a->minutes[1], (AGG_HISTORY_MINUTES - 1) * sizeof a->minutes[0]);
        a->count--;
    }
    a->minutes[a->count++] = *m;
}

static void merge_histogram(struct open_minute *o, const struct ae_histogram *h)
{
    if (o->hist_state < 0 || h->buckets <= 0 || h->buckets > AE_HIST_MAX_BUCKETS)
        return;
    if (o->hist_state == 0) {
        o->hist = *h;
        o->hist_state = 1;
        return;
    }
    if (h->buckets != o->hist.buckets ||
        memcmp(h->upper_ms, o->hist.upper_ms, (size_t)h->buckets * sizeof h->upper_ms[0]) != 0) {
        o->hist_state = -1; /* bounds changed inside the minute: fall back to means */
        return;
    }
    for (int i = 0; i < h->buckets; i++)
        o->hist.count[i] += h->count[i];
}

static void fold(struct open_minute *o, const struct ae_snapshot *s)
{
    o->snapshots++;
    o->ready_sum += s->ready;
    o->requested_sum += s->requested;
    int has_inv = ae_snapshot_has(s, AE_F_INVOCATIONS);
    for (int i = 0; i < AE_FEATURE_COUNT; i++) {
        if (!ae_snapshot_has(s, i))
            continue;
        o->sum[i] += s->values[i];
        o->samples[i]++;
        if (has_inv && s->values[AE_F_INVOCATIONS] > 0) {
            o->wsum[i] += s->values[i] * s->values[AE_F_INVOCATIONS];
            o->weight[i] += s->values[AE_F_INVOCATIONS];
        }
    }
    if (s->has_histogram)
        merge_histogram(o, &s->hist);
}

/* Turns the open minute into an aggregate; returns 0 when it has too few snapshots to keep. */
static int finish(const struct open_minute *o, struct ae_minute *m)
{
    ae_minute_init(m, o->start_ms);
    if (o->snapshots < AGG_MIN_SAMPLES)
        return 0;
    m->snapshots = o->snapshots;
    m->ready_mean = o->ready_sum / o->snapshots;
    m->requested_mean = o->requested_sum / o->snapshots;
    double total_requests = 0;
    for (int i = 0; o->hist_state > 0 && i < o->hist.buckets; i++)
        total_requests += o->hist.count[i];
    static const double quantiles[] = {0.50, 0.95, 0.99}; /* for p50, p95, p99 */
    for (int i = 0; i < AE_FEATURE_COUNT; i++) {
        int n = o->samples[i];
        m->samples[i] = n;
        if (n == 0)
            continue;
        double v = o->sum[i] / n;
        switch (ae_feature_fold(i)) {
        case AE_FOLD_MEAN:
            break;
        case AE_FOLD_REQUEST_MEAN:
            if (o->weight[i] > 0)
                v = o->wsum[i] / o->weight[i];
            break;
        case AE_FOLD_SUM:
            if (n < AGG_MIN_SAMPLES)
                continue; /* too little of this count to estimate a minute: missing */
            v = o->sum[i] * 60.0 / n;
            if (n < 60)
                m->estimated |= AE_FEATURE_BIT(i);
            break;
        case AE_FOLD_PERCENTILE:
            if (total_requests > 0)
                v = ae_histogram_quantile(&o->hist, quantiles[i - AE_F_LATENCY_P50]);
            break;
        }
        m->values[i] = v;
        m->missing &= ~AE_FEATURE_BIT(i);
    }
    return 1;
}

static int close_open(agg *a, struct ae_minute *closed)
{
    if (!a->open.active)
        return 0;
    struct ae_minute m;
    int kept = finish(&a->open, &m);
    memset(&a->open, 0, sizeof a->open);
    if (!kept)
        return 0;
    keep(a, &m);
    if (closed)
        *closed = m;
    return 1;
}

int agg_add(agg *a, const struct ae_snapshot *s, struct ae_minute *closed)
{
    if (!a || !s)
        return AE_EINVAL;
    int64_t start = ae_minute_floor(s->timestamp_ms);
    if (a->open.active && start < a->open.start_ms)
        return AE_ERANGE;
    if (a->count && start <= a->minutes[a->count - 1].start_ms)
        return AE_ERANGE;
    int rc = 0;
    if (a->open.active && start > a->open.start_ms)
        rc = close_open(a, closed);
    if (!a->open.active) {
        a->open.active = 1;
        a->open.start_ms = start;
    }
    fold(&a->open, s);
    return rc;
}

int agg_tick(agg *a, int64_t now_ms, struct ae_minute *closed)
{
    if (!a)
        return AE_EINVAL;
    if (a->open.active && now_ms >= a->open.start_ms + AE_MINUTE_MS)
        return close_open(a, closed);
    return 0;
}

int agg_close(agg *a, struct ae_minute *closed)
{
    if (!a)
        return AE_EINVAL;
    return close_open(a, closed);
}

int agg_preload(agg *a, const struct ae_minute *m)
{
    if (!a || !m || m->start_ms % AE_MINUTE_MS != 0)
        return AE_EINVAL;
    if (a->count && m->start_ms <= a->minutes[a->count - 1].start_ms)
        return AE_ERANGE;
    if (a->open.active && m->start_ms >= a->open.start_ms)
        return AE_ERANGE;
    keep(a, m);
    return 0;
}

int agg_count(const agg *a)
{
    return a ? a->count : 0;
}

int agg_recent(const agg *a, int n, struct ae_minute *out)
{
    if (!a || n <= 0)
        return 0;
    if (n > a->count)
        n = a->count;
    memcpy(out, &a->minutes[a->count - n], (size_t)n * sizeof *out);
    return n;
}

const struct ae_minute *agg_last(const agg *a)
{
    return a && a->count ? &a->minutes[a->count - 1] : NULL;
}

const struct ae_minute *agg_find(const agg *a, int64_t start_ms)
{
    for (int i = a ? a->count - 1 : -1; i >= 0; i--)
        if (a->minutes[i].start_ms == start_ms)
            return &a->minutes[i];
    return NULL;
}

/* ---- the model-input rule ---- */

static int half_window(int window)
{
    return window / 2 > 1 ? window / 2 : 1;
}

static int max_gap(int window)
{
    return window / 4 > 1 ? window / 4 : 1;
}

/* Where the usable history of a window ending at slot `end` begins: *seg = index of the first
 * minute after the last long gap, *first = the first slot inside the window. Returns n (slots
 * from *first to end), 0 when there is no usable history, or AE_EINVAL for unordered minutes. */
static int usable_span(const struct ae_minute *m, int count, int window, int64_t end, int *seg,
                       int *last, int64_t *first)
{
    int k = count - 1;
    while (k >= 0 && m[k].start_ms > end)
        k--;
    if (k < 0)
        return 0;
    if ((end - m[k].start_ms) / AE_MINUTE_MS > max_gap(window))
        return 0; /* the history stopped too long ago */
    int s = k;
    if (end % AE_MINUTE_MS != 0 || m[k].start_ms % AE_MINUTE_MS != 0)
        return AE_EINVAL;
    while (s > 0) {
        int64_t step = m[s].start_ms - m[s - 1].start_ms;
        if (step <= 0 || m[s - 1].start_ms % AE_MINUTE_MS != 0)
            return AE_EINVAL;
        if (step / AE_MINUTE_MS - 1 > max_gap(window))
            break;
        s--;
    }
    int64_t window_start = end - (int64_t)(window - 1) * AE_MINUTE_MS;
    *seg = s;
    *last = k;
    *first = m[s].start_ms > window_start ? m[s].start_ms : window_start;
    return (int)((end - *first) / AE_MINUTE_MS) + 1;
}

int ae_model_input(const struct ae_minute *minutes, int count, int window, int64_t end_start_ms,
                   float *out)
{
    if (window < 1 || window > AGG_MAX_WINDOW || count < 0 || !out || (count && !minutes))
        return AE_EINVAL;
    int seg = 0, last = 0;
    int64_t first = 0;
    int n = usable_span(minutes, count, window, end_start_ms, &seg, &last, &first);
    if (n < 0)
        return n;
    if (n < half_window(window))
        return AE_EAGAIN;
    double carry[AE_FEATURE_COUNT] = {0}; /* never seen yet: 0 */
    int pad = window - n, p = seg;
    for (int64_t t = minutes[seg].start_ms; t <= end_start_ms; t += AE_MINUTE_MS) {
        if (p <= last && minutes[p].start_ms == t) {
            for (int i = 0; i < AE_FEATURE_COUNT; i++)
                if (ae_minute_has(&minutes[p], i))
                    carry[i] = minutes[p].values[i];
            p++;
        }
        if (t < first)
            continue;
        float *row = out + (size_t)(pad + (t - first) / AE_MINUTE_MS) * AE_FEATURE_COUNT;
        for (int i = 0; i < AE_FEATURE_COUNT; i++)
            row[i] = (float)carry[i];
    }
    for (int r = 0; r < pad; r++) /* left padding: repeat the oldest row */
        memcpy(out + (size_t)r * AE_FEATURE_COUNT, out + (size_t)pad * AE_FEATURE_COUNT,
               AE_FEATURE_COUNT * sizeof *out);
    return n;
}

int agg_history_minutes(const agg *a, int window, int64_t now_ms)
{
    if (!a || window < 1 || window > AGG_MAX_WINDOW)
        return 0;
    int seg, last;
    int64_t first;
    int n = usable_span(a->minutes, a->count, window, ae_minute_floor(now_ms) - AE_MINUTE_MS, &seg,
                        &last, &first);
    return n > 0 ? n : 0;
}

int agg_model_input(const agg *a, int window, int64_t now_ms, float *out)
{
    if (!a)
        return AE_EINVAL;
    return ae_model_input(a->minutes, a->count, window, ae_minute_floor(now_ms) - AE_MINUTE_MS,
                          out);
}
