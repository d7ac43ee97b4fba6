/* FeatureIndex schema v1 and the snapshot/minute helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>
#include <cmocka.h>

#include "aether/features.h"
#include "aether/snapshot.h"

static void schema_order_names_units(void **state)
{
    (void)state;
    static const char *const order[AE_FEATURE_COUNT] = {
        "cpu_usage",   "heap_usage",  "event_loop_lag_ms", "latency_ms",
        "invocations", "gc_pause_ms", "latency_p50",       "latency_p95",
        "latency_p99", "error_rate",  "event_count"};
    assert_int_equal(AE_FEATURE_COUNT, 11);
    assert_int_equal(AE_SCHEMA_VERSION, 1);
    char csv[512] = "";
    for (int i = 0; i < AE_FEATURE_COUNT; i++) {
        assert_string_equal(ae_feature_name(i), order[i]);
        assert_int_equal(ae_feature_lookup(order[i]), i);
        assert_non_null(ae_feature_unit(i));
        if (i)
            strcat(csv, ",");
        strcat(csv, order[i]);
    }
    assert_string_equal(ae_feature_names_csv(), csv);
    assert_int_equal(AE_F_INVOCATIONS, 4);
    assert_int_equal(AE_F_EVENT_COUNT, 10);
    assert_string_equal(ae_feature_unit(AE_F_CPU_USAGE), "ratio");
    assert_string_equal(ae_feature_unit(AE_F_LATENCY_P99), "ms");
    assert_string_equal(ae_feature_unit(AE_F_INVOCATIONS), "count");
    assert_int_equal(ae_feature_fold(AE_F_INVOCATIONS), AE_FOLD_SUM);
    assert_int_equal(ae_feature_fold(AE_F_GC_PAUSE_MS), AE_FOLD_SUM);
    assert_int_equal(ae_feature_fold(AE_F_LATENCY_MS), AE_FOLD_REQUEST_MEAN);
    assert_int_equal(ae_feature_fold(AE_F_LATENCY_P95), AE_FOLD_PERCENTILE);
    assert_int_equal(ae_feature_fold(AE_F_CPU_USAGE), AE_FOLD_MEAN);
}

static void lookup_rejects_unknown(void **state)
{
    (void)state;
    assert_int_equal(ae_feature_lookup("cpu"), -1);
    assert_int_equal(ae_feature_lookup("CPU_USAGE"), -1);
    assert_int_equal(ae_feature_lookup(""), -1);
    assert_int_equal(ae_feature_lookup(NULL), -1);
    assert_null(ae_feature_name(-1));
    assert_null(ae_feature_name(11));
    assert_null(ae_feature_unit(11));
}

static void snapshot_missing_mask(void **state)
{
    (void)state;
    struct ae_snapshot s;
    ae_snapshot_init(&s, 1234);
    assert_int_equal(s.timestamp_ms, 1234);
    for (int i = 0; i < AE_FEATURE_COUNT; i++)
        assert_false(ae_snapshot_has(&s, i));
    ae_snapshot_set(&s, AE_F_INVOCATIONS, 0.0);
    assert_true(ae_snapshot_has(&s, AE_F_INVOCATIONS)); /* 0 is a value, not missing */
    assert_false(ae_snapshot_has(&s, AE_F_CPU_USAGE));
    ae_snapshot_set(&s, 99, 1.0); /* ignored */
    assert_false(ae_snapshot_has(&s, 99));
    assert_int_equal(s.missing, AE_ALL_FEATURES & ~AE_FEATURE_BIT(AE_F_INVOCATIONS));
}

static void minute_floor_handles_negative(void **state)
{
    (void)state;
    assert_int_equal(ae_minute_floor(0), 0);
    assert_int_equal(ae_minute_floor(59999), 0);
    assert_int_equal(ae_minute_floor(60000), 60000);
    assert_int_equal(ae_minute_floor(-1), -60000);
    assert_int_equal(ae_minute_floor(-60000), -60000);
}

static void histogram_quantiles(void **state)
{
    (void)state;
    struct ae_histogram h = {.buckets = 3, .upper_ms = {10, 20, INFINITY}, .count = {50, 40, 10}};
    /* 100 requests: p50 is the top of bucket 1 (rank 50 of 50 in (0,10]) */
    assert_float_equal(ae_histogram_quantile(&h, 0.5), 10.0, 1e-9);
    /* p70: rank 70, 20 into the 40 of (10,20] -> 15 */
    assert_float_equal(ae_histogram_quantile(&h, 0.7), 15.0, 1e-9);
    /* p95 falls in +Inf: the highest finite bound */
    assert_float_equal(ae_histogram_quantile(&h, 0.95), 20.0, 1e-9);
    struct ae_histogram empty = {.buckets = 2, .upper_ms = {1, 2}, .count = {0, 0}};
    assert_true(ae_histogram_quantile(&empty, 0.5) < 0);
}

/* Implausible values (negative, non-finite, past the feature's maximum) become missing. */
static void implausible_values_dropped(void **state)
{
    (void)state;
    struct ae_snapshot s;
    ae_snapshot_init(&s, 0);
    ae_snapshot_set(&s, AE_F_INVOCATIONS, 1.7e308);
    ae_snapshot_set(&s, AE_F_CPU_USAGE, 0.5);
    ae_snapshot_set(&s, AE_F_ERROR_RATE, NAN);
    ae_snapshot_set(&s, AE_F_LATENCY_MS, -1);
    ae_snapshot_set(&s, AE_F_EVENT_COUNT, 1e9);
    uint32_t dropped = ae_snapshot_drop_implausible(&s);
    assert_int_equal(dropped, AE_FEATURE_BIT(AE_F_INVOCATIONS) | AE_FEATURE_BIT(AE_F_ERROR_RATE) |
                                  AE_FEATURE_BIT(AE_F_LATENCY_MS));
    assert_true(s.missing & AE_FEATURE_BIT(AE_F_INVOCATIONS));
    assert_false(s.missing & AE_FEATURE_BIT(AE_F_CPU_USAGE));
    assert_false(s.missing & AE_FEATURE_BIT(AE_F_EVENT_COUNT));
    assert_true(ae_feature_plausible(AE_F_ERROR_RATE, 1.0));
    assert_false(ae_feature_plausible(AE_F_ERROR_RATE, 1.01));
    assert_false(ae_feature_plausible(AE_F_CPU_USAGE, INFINITY));
    assert_false(ae_feature_plausible(AE_FEATURE_COUNT, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(schema_order_names_units), cmocka_unit_test(lookup_rejects_unknown),
        cmocka_unit_test(snapshot_missing_mask),    cmocka_unit_test(minute_floor_handles_negative),
        cmocka_unit_test(histogram_quantiles),      cmocka_unit_test(implausible_values_dropped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
