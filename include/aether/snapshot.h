/* Snapshot (one second of a blueprint's metrics) and minute aggregate (one closed minute), as the
 * FeatureIndex schema v1 contract defines them. Collectors fill snapshots; the minute aggregator
 * (aggregator.h) folds them into minutes; the store persists minutes; the model reads minutes. */
#ifndef AETHER_SNAPSHOT_H
#define AETHER_SNAPSHOT_H

#include <stdint.h>

#include "aether/features.h"

/* Most buckets a latency histogram delta may carry (Prometheus defaults have 11 + Inf). */
#define AE_HIST_MAX_BUCKETS 32

/* Bit i of a feature mask stands for feature i. */
#define AE_FEATURE_BIT(i) (1u << (i))
#define AE_MINUTE_MS 60000 /* one minute of the history, in ms */
#define AE_ALL_FEATURES ((1u << AE_FEATURE_COUNT) - 1u)

/* The latency histogram delta of one second: how many requests completed in each bucket during
 * that second (NOT cumulative across buckets, NOT cumulative over time: the collector subtracts
 * the previous scrape). upper_ms is ascending; the last bound may be INFINITY. */
struct ae_histogram {
    int buckets;                          /* 0..AE_HIST_MAX_BUCKETS */
    double upper_ms[AE_HIST_MAX_BUCKETS]; /* bucket upper bounds (le), ms */
    double count[AE_HIST_MAX_BUCKETS];    /* requests in (upper_ms[i-1], upper_ms[i]] */
};

/* One second of one blueprint. A feature whose bit is set in `missing` has no value (its slot in
 * values[] is meaningless); missing never means 0. */
struct ae_snapshot {
    int64_t timestamp_ms;            /* Unix ms of the second */
    double values[AE_FEATURE_COUNT]; /* per the FeatureIndex table, per-second units */
    uint32_t missing;                /* AE_FEATURE_BIT(i) set = feature i missing */
    int ready;                       /* ready instances of the blueprint in that second */
    int requested;                   /* requested instances */
    int has_histogram;               /* 1 when hist holds this second's latency delta */
    struct ae_histogram hist;
};

/* One closed minute of one blueprint. */
struct ae_minute {
    int64_t start_ms;                /* Unix ms of the minute's start (a multiple of 60000) */
    double values[AE_FEATURE_COUNT]; /* per the FeatureIndex table, per-minute units */
    uint32_t missing;                /* AE_FEATURE_BIT(i) set = missing for the whole minute */
    uint32_t estimated;            /* AE_FEATURE_BIT(i) set = a sum scaled from a partial minute */
    int samples[AE_FEATURE_COUNT]; /* snapshots that carried feature i */
    int snapshots;                 /* snapshots folded into this minute */
    double ready_mean;             /* mean ready instances over the snapshots */
    double requested_mean;         /* mean requested instances */
};

/* Clears s to "every feature missing, no histogram" at timestamp_ms, counts 0. */
void ae_snapshot_init(struct ae_snapshot *s, int64_t timestamp_ms);

/* Sets feature i to v and clears its missing bit. Ignores an out-of-range i. */
void ae_snapshot_set(struct ae_snapshot *s, int i, double v);
/* Marks missing every present feature whose value is not ae_feature_plausible (non-finite,
 * negative, past the feature's maximum). Returns the AE_FEATURE_BITs dropped (0: none). */
uint32_t ae_snapshot_drop_implausible(struct ae_snapshot *s);

/* 1 when feature i has a value in the snapshot, else 0 (also for an out-of-range i). */
int ae_snapshot_has(const struct ae_snapshot *s, int i);

/* Clears m to "every feature missing" at start_ms, counts 0. */
void ae_minute_init(struct ae_minute *m, int64_t start_ms);

/* 1 when feature i has a value in the minute, else 0 (also for an out-of-range i). */
int ae_minute_has(const struct ae_minute *m, int i);

/* Start of the minute holding t (floor to a multiple of AE_MINUTE_MS, also for negative t). */
int64_t ae_minute_floor(int64_t t_ms);

/* Quantile q (0..1) of the requests in a histogram, interpolated linearly inside the bucket as
 * Prometheus' histogram_quantile does (the first bucket starts at 0; a quantile that falls into
 * an infinite last bucket returns the highest finite bound). Returns a negative value when the
 * histogram holds no requests. */
double ae_histogram_quantile(const struct ae_histogram *h, double q);

#endif
