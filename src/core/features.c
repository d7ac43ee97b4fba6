/* FeatureIndex schema v1: names, units and folding of the 11 features (one table). */
#include <string.h>

#include "aether/features.h"

/* Plausible per-second values (ae_feature_max): a ratio may pass 1 (a process over its CPU
 * allowance, a heap over its limit) but not by a hundredfold; durations up to an hour; counts up
 * to a billion a second. Every sum the aggregator and the store form of such values stays far
 * from overflowing (a minute of counts: 6e10; a request-weighted latency sum: 2e17). */
#define MAX_RATIO 100.0
#define MAX_MS 3600000.0
#define MAX_COUNT 1e9

/* X(name, unit, fold, max) in index order. error_rate is errors / requests: a request-weighted mean
 * of the per-second rates is exactly that. */
#define FEATURE_TABLE(X)                                                                           \
    X("cpu_usage", "ratio", AE_FOLD_MEAN, MAX_RATIO)                                               \
    X("heap_usage", "ratio", AE_FOLD_MEAN, MAX_RATIO)                                              \
    X("event_loop_lag_ms", "ms", AE_FOLD_MEAN, MAX_MS)                                             \
    X("latency_ms", "ms", AE_FOLD_REQUEST_MEAN, MAX_MS)                                            \
    X("invocations", "count", AE_FOLD_SUM, MAX_COUNT)                                              \
    X("gc_pause_ms", "ms", AE_FOLD_SUM, MAX_MS)                                                    \
    X("latency_p50", "ms", AE_FOLD_PERCENTILE, MAX_MS)                                             \
    X("latency_p95", "ms", AE_FOLD_PERCENTILE, MAX_MS)                                             \
    X("latency_p99", "ms", AE_FOLD_PERCENTILE, MAX_MS)                                             \
    X("error_rate", "ratio", AE_FOLD_REQUEST_MEAN, 1.0)                                            \
    X("event_count", "count", AE_FOLD_SUM, MAX_COUNT)

static const char *const names[AE_FEATURE_COUNT] = {
#define FEATURE_NAME(name, unit, fold, max) name,
    FEATURE_TABLE(FEATURE_NAME)
#undef FEATURE_NAME
};

static const struct {
    const char *name;
    const char *unit;
    enum ae_fold fold;
    double max;
} features[AE_FEATURE_COUNT] = {
#define FEATURE_ROW(name, unit, fold, max) {name, unit, fold, max},
    FEATURE_TABLE(FEATURE_ROW)
#undef FEATURE_ROW
};

const char *const *ae_feature_names(void)
{
    return names;
}

const char *ae_feature_name(int i)
{
    return i >= 0 && i < AE_FEATURE_COUNT ? features[i].name : NULL;
}

const char *ae_feature_unit(int i)
{
    return i >= 0 && i < AE_FEATURE_COUNT ? features[i].unit : NULL;
}

enum ae_fold ae_feature_fold(int i)
{
    return i >= 0 && i < AE_FEATURE_COUNT ? features[i].fold : AE_FOLD_MEAN;
}

double ae_feature_max(int i)
{
    return i >= 0 && i < AE_FEATURE_COUNT ? features[i].max : 0.0;
}

double ae_feature_minute_max(int i)
{
    return ae_feature_max(i) * (ae_feature_fold(i) == AE_FOLD_SUM ? 60.0 : 1.0);
}

int ae_feature_plausible(int i, double v)
{
    return i >= 0 && i < AE_FEATURE_COUNT && v >= 0.0 && v <= features[i].max; /* NaN fails */
}

int ae_feature_lookup(const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < AE_FEATURE_COUNT; i++)
        if (strcmp(features[i].name, name) == 0)
            return i;
    return -1;
}

const char *ae_feature_names_csv(void)
{
    return "cpu_usage,heap_usage,event_loop_lag_ms,latency_ms,invocations,gc_pause_ms,"
           "latency_p50,latency_p95,latency_p99,error_rate,event_count";
}
