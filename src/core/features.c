/* FeatureIndex schema v1: names, units and folding of the 11 features (one table). */
#include <string.h>

#include "aether/features.h"

/* X(name, unit, fold) in index order. error_rate is errors / requests: a request-weighted mean
 * of the per-second rates is exactly that. */
#define FEATURE_TABLE(X)                                                                           \
    X("cpu_usage", "ratio", AE_FOLD_MEAN)                                                          \
    X("heap_usage", "ratio", AE_FOLD_MEAN)                                                         \
    X("event_loop_lag_ms", "ms", AE_FOLD_MEAN)                                                     \
    X("latency_ms", "ms", AE_FOLD_REQUEST_MEAN)                                                    \
    X("invocations", "count", AE_FOLD_SUM)                                                         \
    X("gc_pause_ms", "ms", AE_FOLD_SUM)                                                            \
    X("latency_p50", "ms", AE_FOLD_PERCENTILE)                                                     \
    X("latency_p95", "ms", AE_FOLD_PERCENTILE)                                                     \
    X("latency_p99", "ms", AE_FOLD_PERCENTILE)                                                     \
    X("error_rate", "ratio", AE_FOLD_REQUEST_MEAN)                                                 \
    X("event_count", "count", AE_FOLD_SUM)

static const char *const names[AE_FEATURE_COUNT] = {
#define FEATURE_NAME(name, unit, fold) name,
    FEATURE_TABLE(FEATURE_NAME)
#undef FEATURE_NAME
};

static const struct {
    const char *name;
    const char *unit;
    enum ae_fold fold;
} features[AE_FEATURE_COUNT] = {
#define FEATURE_ROW(name, unit, fold) {name, unit, fold},
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
