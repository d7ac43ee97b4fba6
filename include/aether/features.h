/* FeatureIndex schema v1: the 11 features every snapshot, minute aggregate, model input and
 * training-data row carries, in this order. This header is the one source of truth for their
 * indices, names and units. Never reorder: a change is a new schema version. */
#ifndef AETHER_FEATURES_H
#define AETHER_FEATURES_H

#define AE_SCHEMA_VERSION 1
#define AE_FEATURE_COUNT 11

enum ae_feature {
    AE_F_CPU_USAGE = 0,         /* ratio 0..1 of the CPU allowance, mean over ready instances */
    AE_F_HEAP_USAGE = 1,        /* ratio 0..1 of memory_limit_bytes */
    AE_F_EVENT_LOOP_LAG_MS = 2, /* ms */
    AE_F_LATENCY_MS = 3,        /* ms, mean request latency */
    AE_F_INVOCATIONS = 4,       /* requests completed: per second in a snapshot, per minute in
                                   a minute aggregate */
    AE_F_GC_PAUSE_MS = 5,       /* GC pause ms in that second / minute */
    AE_F_LATENCY_P50 = 6,       /* ms */
    AE_F_LATENCY_P95 = 7,       /* ms */
    AE_F_LATENCY_P99 = 8,       /* ms */
    AE_F_ERROR_RATE = 9,        /* errors / requests, 0..1 */
    AE_F_EVENT_COUNT = 10,      /* events (requests + other work items) in that second / minute */
};

/* How a feature's 1-second values fold into a minute aggregate. */
enum ae_fold {
    AE_FOLD_MEAN,         /* mean of the samples */
    AE_FOLD_REQUEST_MEAN, /* mean weighted by the second's invocations (plain mean without) */
    AE_FOLD_SUM,          /* sum over the minute (scaled for partial minutes) */
    AE_FOLD_PERCENTILE,   /* from merged histogram deltas, else mean of per-second values */
};

/* The AE_FEATURE_COUNT names in index order (static storage). */
const char *const *ae_feature_names(void);

/* Name of feature i ("cpu_usage", ...), static storage; NULL when i is out of range. */
const char *ae_feature_name(int i);

/* Unit of feature i as a short word ("ratio", "ms", "count"); NULL when out of range. In a minute
 * aggregate, "count" features are per minute; in a snapshot, per second. */
const char *ae_feature_unit(int i);

/* How feature i folds into a minute; AE_FOLD_MEAN for an out-of-range i. */
enum ae_fold ae_feature_fold(int i);

/* The largest plausible per-second value of feature i (snapshot units; every feature's least is
 * 0); 0 for an out-of-range i. Pushed and scraped values outside 0..max are refused. */
double ae_feature_max(int i);
/* 1 when v is finite and within 0..ae_feature_max(i), else 0. */
int ae_feature_plausible(int i, double v);
/* The largest plausible value of feature i in a minute aggregate: ae_feature_max, times 60 for
 * the features a minute sums (AE_FOLD_SUM). */
double ae_feature_minute_max(int i);

/* Index of the feature with this exact name, or -1 when there is none (NULL gives -1). */
int ae_feature_lookup(const char *name);

/* The 11 names joined by commas, in index order, as the model metadata key aether.features
 * spells them. Static storage. */
const char *ae_feature_names_csv(void);

#endif
