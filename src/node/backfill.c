/* The history backfill from Prometheus (see backfill.h). */
#include "backfill.h"

#include "aether/error.h"
#include "aether/features.h"
#include "aether/promql.h"
#include "aether/log.h"

#include <stdio.h>
#include <stdlib.h>

/* Samples a backfilled value stands for: a full minute of 1-second snapshots. */
#define BACKFILL_SAMPLES 60

struct window {
    struct ae_minute *m; /* n minutes from from_ms */
    int n;
    int64_t from_ms;
    int feature;
};

/* A per-second value of the feature into its minute, in the minute's unit (sums: per minute). */
static void put_value(void *ctx, int64_t minute_ms, double value)
{
    struct window *w = ctx;
    int64_t i = (minute_ms - w->from_ms) / AE_MINUTE_MS;
    if (minute_ms % AE_MINUTE_MS != 0 || i < 0 || i >= w->n)
        return; /* Prometheus answers on the step grid we asked for; anything else is dropped */
    struct ae_minute *m = &w->m[i];
    int f = w->feature;
    m->values[f] = ae_feature_fold(f) == AE_FOLD_SUM ? value * 60.0 : value;
    m->missing &= ~AE_FEATURE_BIT(f);
    m->samples[f] = BACKFILL_SAMPLES;
}

/* Writes the minutes that got any feature; returns how many the store took, or AE_EIO. */
static int write_window(struct store *s, const struct cfg_blueprint *bp, struct window *w,
                        char *err, size_t errlen)
{
    int written = 0;
    for (int i = 0; i < w->n; i++) {
        struct ae_minute *m = &w->m[i];
        if (m->missing == (uint32_t)((1u << AE_FEATURE_COUNT) - 1))
            continue;
        m->snapshots = BACKFILL_SAMPLES;
        m->ready_mean = m->requested_mean = bp->instances;
        int rc = store_put_backfilled_minute(s, bp->name, m, err, errlen);
        if (rc < 0)
            return rc;
        written += rc;
    }
    return written;
}

int backfill_blueprint(struct store *s, const struct cfg_blueprint *bp, int64_t now_ms, char *err,
                       size_t errlen)
{
    int n = bp->prometheus.backfill_minutes;
    if (!bp->prometheus.url[0] || n <= 0)
        return 0;
    struct window w = {calloc((size_t)n, sizeof(struct ae_minute)), n, 0, 0};
    if (!w.m) {
        snprintf(err, errlen, "out of memory");
        return AE_ENOMEM;
    }
    int64_t to_ms = now_ms - now_ms % AE_MINUTE_MS; /* the minute in progress is the node's */
    w.from_ms = to_ms - (int64_t)n * AE_MINUTE_MS;
    for (int i = 0; i < n; i++)
        ae_minute_init(&w.m[i], w.from_ms + (int64_t)i * AE_MINUTE_MS);
    /* A feature whose query fails is logged and skipped; the first failure before any answer
     * ends the backfill (Prometheus is down or too slow: no use waiting for every query). */
    int rc = 0, answered = 0;
    for (int f = 0; f < AE_FEATURE_COUNT; f++) {
        w.feature = f;
        rc = promql_fetch_range(bp, f, w.from_ms, to_ms, put_value, &w, err, errlen);
        if (rc < 0 && !answered)
            break;
        if (rc < 0)
            nlog(NLOG_WARN, "history", "blueprint %s: backfill of %s skipped: %s", bp->name,
                 ae_feature_name(f), err);
        answered += rc >= 0;
    }
    if (answered)
        rc = write_window(s, bp, &w, err, errlen);
    free(w.m);
    return rc;
}

void backfill_all(struct store *s, const struct ae_config *cfg, int64_t now_ms)
{
    for (int i = 0; i < cfg->blueprint_count; i++) {
        const struct cfg_blueprint *bp = &cfg->blueprints[i];
        if (!bp->prometheus.url[0] || bp->prometheus.backfill_minutes <= 0)
            continue;
        char err[512];
        int rc = backfill_blueprint(s, bp, now_ms, err, sizeof err);
        if (rc < 0)
            nlog(NLOG_WARN, "history",
                 "blueprint %s: no backfill from Prometheus (the node starts with what it has "
                 "stored): %s",
                 bp->name, err);
        else
            nlog(NLOG_INFO, "history",
                 "blueprint %s: backfilled %d minutes from Prometheus %s (last %d minutes asked; "
                 "minutes already stored kept)",
                 bp->name, rc, bp->prometheus.url, bp->prometheus.backfill_minutes);
    }
}
