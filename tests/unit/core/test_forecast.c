/* Forecast analyzer: the fleet F each forecast needs (its peak at the scale-up threshold, the
 * peak plus the headroom of recent under-forecasts at the upper-bound utilisation, the epsilon in
 * ceil, [min, max]), the six outcomes with the floor and ceiling each holds, the thresholds
 * adjustment at and around its boundary, the fallback without request metrics, and the NoAction
 * reasons. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>
#include <cmocka.h>

#include "aether/forecast.h"

static double inv0 = 1200; /* invocations per minute in the history */

static struct ae_minute hist[8];
static float fc[10 * AE_FEATURE_COUNT];
static struct fcst_input in;

/* 5 minutes at cpu c0 with 2 ready (and requested) instances of 1 core and inv0 requests/min
 * (cost = c0 x 2 x 60 / inv0: 0.05 core-seconds per request at c0 = 0.5, so a demand of D
 * requests/min keeps D / 1200 cores busy, D / 960 instances at the scale-up threshold 0.8, and
 * D / 1020 at the upper-bound utilisation 0.85). No headroom. The tests at a boundary pick numbers
 * whose demand is exact in float32, the model's output. */
static void history(double c0, int with_requests)
{
    inv0 = 1200;
    for (int i = 0; i < 5; i++) {
        ae_minute_init(&hist[i], i * 60000LL);
        hist[i].values[AE_F_CPU_USAGE] = c0;
        hist[i].missing &= ~AE_FEATURE_BIT(AE_F_CPU_USAGE);
        if (with_requests) {
            hist[i].values[AE_F_INVOCATIONS] = inv0;
            hist[i].missing &= ~AE_FEATURE_BIT(AE_F_INVOCATIONS);
        }
        hist[i].ready_mean = 2;
    }
    memset(&in, 0, sizeof in);
    in.history = hist;
    in.history_count = 5;
    in.forecast = fc;
    in.horizon = 1;
    in.confidence = 0.9;
    in.confidence_threshold = 0.7;
    in.ready = 2;
    in.requested = 2;
    in.min_instances = 1;
    in.max_instances = 20;
    in.cpu_limit_cores = 1;
    in.cfg_cpu_up = 0.8;
    in.cfg_cpu_down = 0.2;
    in.bound_util = 0.85;
    in.demand_headroom = 0;
    memset(fc, 0, sizeof fc);
}

/* A forecast whose demand means utilisation u at the current 2 instances. */
static void predict_util(int h, double u, double c0)
{
    fc[h * AE_FEATURE_COUNT + AE_F_INVOCATIONS] = (float)(u * inv0 / c0);
    fc[h * AE_FEATURE_COUNT + AE_F_CPU_USAGE] = (float)u;
}

/* A forecast of d requests per minute in minute h. */
static void predict_demand(int h, double d)
{
    fc[h * AE_FEATURE_COUNT + AE_F_INVOCATIONS] = (float)d;
}

static struct fcst_recommendation run(void)
{
    struct fcst_recommendation r;
    fcst_analyze(&in, &r);
    return r;
}

/* Floor and ceiling of a recommendation, and target_instances = F. */
static void assert_holds(const struct fcst_recommendation *r, int fleet, int floor, int ceiling)
{
    assert_int_equal(r->target_instances, fleet);
    assert_int_equal(r->floor, floor);
    assert_int_equal(r->ceiling, ceiling);
}

static void peak_sized_at_the_scale_up_threshold(void **state)
{
    (void)state;
    history(0.5, 1);
    predict_demand(0, 2880); /* 2.4 cores: 3 instances at 0.8 (2.82 at 0.85) */
    struct fcst_recommendation r = run();
    assert_int_equal(r.sized_by_demand, 1);
    assert_float_equal(r.cost, 0.05, 1e-12);
    assert_float_equal(r.demand_peak, 2880, 0);
    assert_float_equal(r.demand_headroom, 0, 0);
    assert_float_equal(r.util_now, 0.5, 0);
    assert_float_equal(r.util_peak, 1.2, 1e-12); /* on the 2 ready instances */
    assert_float_equal(r.rise, 0.7, 1e-12);
    assert_int_equal(r.type, FCST_SCALE_UP);
    assert_int_equal(r.reason, FCST_REASON_NONE);
    assert_holds(&r, 3, 3, 3);
    assert_float_equal(r.cpu_up, 0.8, 0); /* the configured thresholds */
    assert_float_equal(r.cpu_down, 0.2, 0);
    assert_string_equal(r.text,
                        "utilisation 0.50 -> 1.20 predicted: 3 instances needed, scale up from 2");
    /* with some headroom the peak still decides: (2880 + 100) / 1020 = 2.92 */
    in.demand_headroom = 100;
    r = run();
    assert_float_equal(r.demand_headroom, 100, 0);
    assert_holds(&r, 3, 3, 3);
    predict_demand(0, 2881); /* 3.001 at 0.8, 2.92 at 0.85 */
    assert_holds((r = run(), &r), 4, 4, 4);
}

static void peak_plus_headroom_sized_at_the_upper_bound(void **state)
{
    (void)state;
    history(0.5, 1);
    predict_demand(0, 1920); /* exactly 2 instances at 0.8 */
    in.demand_headroom = 1140;
    /* (1920 + 1140) / 1020 = 3 instances at 0.85: the upper bound decides */
    struct fcst_recommendation r = run();
    assert_float_equal(r.demand_headroom, 1140, 0);
    assert_float_equal(r.demand_peak, 1920, 0); /* the headroom is not in the peak */
    assert_float_equal(r.util_peak, 0.8, 1e-12);
    assert_int_equal(r.type, FCST_SCALE_UP);
    assert_holds(&r, 3, 3, 3);
    in.demand_headroom = 1141; /* 3.001 */
    assert_holds((r = run(), &r), 4, 4, 4);
    in.bound_util = 1; /* 3061 / 1200 = 2.55 */
    assert_holds((r = run(), &r), 3, 3, 3);
    /* a negative headroom counts as none: the peak alone, 2 = requested */
    in.bound_util = 0.85;
    in.demand_headroom = -500;
    r = run();
    assert_float_equal(r.demand_headroom, 0, 0);
    assert_int_equal(r.type, FCST_ADJUST_THRESHOLDS);
    assert_holds(&r, 2, 2, 0);
}

static void counts_are_ceil_with_the_epsilon(void **state)
{
    (void)state;
    history(0.5, 1);
    in.cfg_cpu_up = 0.7;
    predict_demand(0, 2520); /* 2.1 cores / 0.7 = 3.0000000000000004 in doubles: 3 */
    struct fcst_recommendation r = run();
    assert_holds(&r, 3, 3, 3);
    predict_demand(0, 2521);
    assert_holds((r = run(), &r), 4, 4, 4);
    /* the same for the upper bound: (1000 + 1520) / 60 x 0.05 / 0.7 */
    in.cfg_cpu_up = 0.8;
    in.bound_util = 0.7;
    predict_demand(0, 1000);
    in.demand_headroom = 1520;
    assert_holds((r = run(), &r), 3, 3, 3);
    in.demand_headroom = 1521;
    assert_holds((r = run(), &r), 4, 4, 4);
}

static void fleet_clamped_to_min_and_max(void **state)
{
    (void)state;
    history(0.5, 1);
    predict_demand(0, 2881); /* 4 */
    in.max_instances = 3;
    struct fcst_recommendation r = run();
    assert_int_equal(r.type, FCST_SCALE_UP);
    assert_holds(&r, 3, 3, 3);
    in.max_instances = 20;
    in.min_instances = 5;
    predict_demand(0, 1200); /* 1.25: 2, at least min */
    r = run();
    assert_int_equal(r.type, FCST_SCALE_UP);
    assert_holds(&r, 5, 5, 5);
    /* no demand at all (a negative prediction is none): min */
    in.min_instances = 1;
    predict_demand(0, -300);
    r = run();
    assert_float_equal(r.demand_peak, 0, 0);
    assert_int_equal(r.type, FCST_SCALE_DOWN);
    assert_holds(&r, 1, 1, 1);
}

static void scale_down_to_the_fleet_needed(void **state)
{
    (void)state;
    history(0.5, 1);
    predict_demand(0, 840); /* 0.875 instances: 1 < 2 */
    struct fcst_recommendation r = run();
    assert_int_equal(r.type, FCST_SCALE_DOWN);
    assert_int_equal(r.reason, FCST_REASON_NONE);
    assert_holds(&r, 1, 1, 1);
    assert_float_equal(r.util_trough, 0.35, 1e-12);
    assert_string_equal(
        r.text, "utilisation 0.50 -> 0.35 predicted: 1 instances needed, scale down from 2");
    /* more requested than F needs, whatever the current utilisation says */
    predict_demand(0, 2881);
    in.requested = 6;
    r = run();
    assert_int_equal(r.type, FCST_SCALE_DOWN);
    assert_holds(&r, 4, 4, 4);
    in.requested = 4; /* F = requested: no longer a scale-down */
    assert_int_equal(run().type, FCST_ADJUST_THRESHOLDS);
}

static void right_size_adjusts_thresholds_beyond_005(void **state)
{
    (void)state;
    history(0.5, 1);
    predict_demand(0, 1560); /* 1.625 instances: F = 2 = requested; utilisation 0.65, rise 0.15 */
    struct fcst_recommendation r = run();
    assert_float_equal(r.rise, 0.15, 1e-12);
    assert_int_equal(r.type, FCST_ADJUST_THRESHOLDS);
    assert_int_equal(r.reason, FCST_REASON_NONE);
    assert_holds(&r, 2, 2, 0);                    /* the floor only: tier 1 reacts above F */
    assert_float_equal(r.cpu_up, 0.725, 1e-12);   /* 0.8 - 0.15 / 2 */
    assert_float_equal(r.cpu_down, 0.125, 1e-12); /* 0.2 - 0.15 / 2 */
    assert_string_equal(r.text,
                        "utilisation 0.50 -> 0.65 predicted (change +0.15): thresholds 0.73/0.12");
    /* a fall: thresholds go up */
    predict_demand(0, 1000); /* 1.04: 2; utilisation 0.41667 */
    r = run();
    assert_int_equal(r.type, FCST_ADJUST_THRESHOLDS);
    assert_float_equal(r.cpu_up, 0.8 + 0.5 / 12, 1e-12);
    assert_float_equal(r.cpu_down, 0.2 + 0.5 / 12, 1e-12);
    /* |rise| of exactly 0.05 either way is stable */
    predict_demand(0, 1320);
    assert_int_equal(run().reason, FCST_REASON_STABLE);
    predict_demand(0, 1321);
    assert_int_equal(run().type, FCST_ADJUST_THRESHOLDS);
    predict_demand(0, 1080);
    assert_int_equal(run().reason, FCST_REASON_STABLE);
    predict_demand(0, 1079);
    assert_int_equal(run().type, FCST_ADJUST_THRESHOLDS);
}

static void right_size_and_small_change_is_stable(void **state)
{
    (void)state;
    history(0.5, 1);
    predict_util(0, 0.55, 0.5); /* 1320/min: F = 2 = requested, |rise| exactly 0.05 */
    struct fcst_recommendation r = run();
    assert_int_equal(r.type, FCST_HOLD);
    assert_int_equal(r.reason, FCST_REASON_STABLE);
    assert_string_equal(fcst_reason_name(r.reason), "STABLE");
    assert_holds(&r, 2, 2, 2); /* held both ways */
    assert_float_equal(r.cpu_up, 0.8, 0);
    assert_float_equal(r.cpu_down, 0.2, 0);
    assert_string_equal(r.text, "utilisation 0.50 -> 0.55 predicted: stable at 2 instances");
    predict_util(0, 0.45, 0.5);
    assert_int_equal(run().reason, FCST_REASON_STABLE);
}

static void thresholds_bounded_from_configured(void **state)
{
    (void)state;
    history(0.9, 1);
    in.min_instances = 2;       /* F = max(1, min) = 2 = requested */
    predict_util(0, 0.35, 0.9); /* rise -0.55: adjust, clamped */
    struct fcst_recommendation r = run();
    assert_int_equal(r.type, FCST_ADJUST_THRESHOLDS);
    assert_holds(&r, 2, 2, 0);
    assert_float_equal(r.cpu_up, 0.9, 1e-9);   /* cfgUp + 0.1 */
    assert_float_equal(r.cpu_down, 0.4, 1e-9); /* cfgDown + 0.2 */
    /* low configured thresholds: down is kept at most up - 0.1 */
    history(0.7, 1);
    in.cfg_cpu_up = 0.3;
    in.cfg_cpu_down = 0.25;
    in.max_instances = 2; /* F = min(3, max) = 2 = requested */
    predict_util(0, 0.4, 0.7);
    r = run();
    assert_int_equal(r.type, FCST_ADJUST_THRESHOLDS);
    assert_holds(&r, 2, 2, 0);
    assert_float_equal(r.cpu_up, 0.4, 1e-9);
    assert_float_equal(r.cpu_down, 0.3, 1e-9);
    /* so low that up - 0.1 < 0: down is 0 */
    history(0.5, 1);
    in.cfg_cpu_up = 0.15;
    in.cfg_cpu_down = 0.1;
    in.max_instances = 2;
    predict_util(0, 0.7, 0.5); /* rise 0.2: up 0.05, down 0 before the last bound */
    r = run();
    assert_int_equal(r.type, FCST_ADJUST_THRESHOLDS);
    assert_float_equal(r.cpu_up, 0.05, 1e-9);
    assert_float_equal(r.cpu_down, 0, 0);
}

static void peak_and_trough_over_horizon(void **state)
{
    (void)state;
    history(0.5, 1);
    in.horizon = 3;
    predict_util(0, 0.5, 0.5);
    predict_util(1, 0.9, 0.5);
    predict_util(2, 0.2, 0.5);
    struct fcst_recommendation r = run();
    assert_float_equal(r.util_peak, 0.9, 1e-6);
    assert_float_equal(r.util_trough, 0.2, 1e-6);
    assert_float_equal(r.fall, -0.3, 1e-6);
    assert_float_equal(r.demand_peak, 2160, 1e-3);
    assert_float_equal(r.demand_trough, 480, 1e-3);
    assert_float_equal(r.demand_now, inv0, 0);
    /* sized by the peak over the horizon (2.25: 3), not the trough */
    assert_int_equal(r.type, FCST_SCALE_UP);
    assert_holds(&r, 3, 3, 3);
}

static void sized_in_demand_not_current_instances(void **state)
{
    (void)state;
    history(0.5, 1);
    predict_demand(0, 2881); /* 2.4 cores: 4 instances */
    struct fcst_recommendation r = run();
    assert_int_equal(r.target_instances, 4);
    in.ready = 4; /* more instances serve now: utilisation differs, the fleet does not */
    r = run();
    assert_float_equal(r.util_peak, 2881 * 0.05 / 240, 1e-9);
    assert_int_equal(r.target_instances, 4);
}

static void without_request_metrics_uses_cpu(void **state)
{
    (void)state;
    history(0.5, 0);
    in.ready = 4;
    in.requested = 4;
    fc[AE_F_CPU_USAGE] = 0.75f; /* 3 cores: 3.75 at 0.8, 3.53 at 0.85: 4 = requested */
    struct fcst_recommendation r = run();
    assert_int_equal(r.sized_by_demand, 0);
    assert_true(isnan(r.cost) && isnan(r.demand_headroom));
    assert_float_equal(r.util_peak, 0.75, 0);
    assert_int_equal(r.type, FCST_ADJUST_THRESHOLDS);
    assert_holds(&r, 4, 4, 0);
    /* F = ceil(r x util_peak / min(up, bound)): at 0.6, exactly 5 */
    in.bound_util = 0.6;
    r = run();
    assert_int_equal(r.type, FCST_SCALE_UP);
    assert_holds(&r, 5, 5, 5);
    in.demand_headroom = 1e6; /* a headroom of requests means nothing here */
    assert_holds((r = run(), &r), 5, 5, 5);
    in.bound_util = 0.5999;
    assert_holds((r = run(), &r), 6, 6, 6);
    in.bound_util = 0.85;
    fc[AE_F_CPU_USAGE] = 0.125f; /* 0.5 cores: 1 */
    r = run();
    assert_int_equal(r.type, FCST_SCALE_DOWN);
    assert_holds(&r, 1, 1, 1);
    fc[AE_F_CPU_USAGE] = 0.25f; /* 1 core: 1.25, 2 */
    assert_holds((r = run(), &r), 2, 2, 2);
    /* invocations present but zero over the 5 minutes: the same fallback */
    history(0.5, 1);
    for (int i = 0; i < 5; i++)
        hist[i].values[AE_F_INVOCATIONS] = 0;
    in.ready = 4;
    in.requested = 4;
    in.bound_util = 0.6;
    fc[AE_F_CPU_USAGE] = 0.75f;
    fc[AE_F_INVOCATIONS] = 5000;
    r = run();
    assert_int_equal(r.sized_by_demand, 0);
    assert_holds(&r, 5, 5, 5);
}

static void reads_only_the_last_five_minutes(void **state)
{
    (void)state;
    history(0.5, 1);
    memmove(&hist[3], &hist[0], 5 * sizeof hist[0]);
    for (int i = 0; i < 3; i++) { /* older minutes with a very different cost */
        hist[i] = hist[3];
        hist[i].values[AE_F_INVOCATIONS] = 10;
    }
    in.history_count = 8;
    predict_util(0, 0.5, 0.5);
    struct fcst_recommendation r = run();
    assert_float_equal(r.cost, 0.05, 1e-12);
    assert_int_equal(r.reason, FCST_REASON_STABLE);
    assert_holds(&r, 2, 2, 2);
}

static void low_confidence_holds_a_floor_only(void **state)
{
    (void)state;
    history(0.5, 1);
    predict_demand(0, 2881); /* F = 4 */
    in.confidence = 0.69;
    struct fcst_recommendation r = run();
    assert_int_equal(r.type, FCST_HOLD);
    assert_int_equal(r.reason, FCST_REASON_LOW_CONFIDENCE);
    assert_string_equal(fcst_reason_name(r.reason), "LOW_CONFIDENCE");
    assert_holds(&r, 4, 4, 0);
    assert_float_equal(r.confidence, 0.69, 0);
    assert_float_equal(r.cpu_up, 0.8, 0);
    assert_string_equal(r.text, "confidence 0.69 below 0.70: floor 4 only");
    /* more than F requested: still only a floor, nothing is removed */
    in.requested = 6;
    assert_holds((r = run(), &r), 4, 4, 0);
    in.requested = 2;
    in.confidence = 0.7; /* at the threshold: acts */
    r = run();
    assert_int_equal(r.type, FCST_SCALE_UP);
    assert_holds(&r, 4, 4, 4);
    in.confidence = NAN;
    r = run();
    assert_int_equal(r.reason, FCST_REASON_LOW_CONFIDENCE);
    assert_holds(&r, 4, 4, 0);
    /* without request metrics, sized by cpu: the same */
    history(0.5, 0);
    in.ready = 4;
    in.requested = 4;
    in.bound_util = 0.6;
    in.confidence = 0.5;
    fc[AE_F_CPU_USAGE] = 0.75f;
    r = run();
    assert_int_equal(r.reason, FCST_REASON_LOW_CONFIDENCE);
    assert_holds(&r, 5, 5, 0);
    /* nothing to size from: low confidence holds nothing */
    history(0.5, 1);
    in.confidence = 0.69;
    in.history_count = 0;
    r = run();
    assert_int_equal(r.reason, FCST_REASON_LOW_CONFIDENCE);
    assert_holds(&r, 0, 0, 0);
    assert_string_equal(r.text, "confidence 0.69 below 0.70");
    history(0.5, 1);
    in.confidence = 0.69;
    fc[AE_F_INVOCATIONS] = NAN;
    r = run();
    assert_int_equal(r.reason, FCST_REASON_LOW_CONFIDENCE);
    assert_holds(&r, 0, 0, 0);
}

static void insufficient_data_holds_nothing(void **state)
{
    (void)state;
    history(0.5, 1);
    in.history_count = 0;
    struct fcst_recommendation r = run();
    assert_int_equal(r.type, FCST_HOLD);
    assert_int_equal(r.reason, FCST_REASON_INSUFFICIENT_DATA);
    assert_holds(&r, 0, 0, 0);
    assert_string_equal(r.text, "no cpu history or no forecast");
    history(0.5, 1);
    for (int i = 0; i < 5; i++)
        hist[i].missing |= AE_FEATURE_BIT(AE_F_CPU_USAGE);
    assert_int_equal(run().reason, FCST_REASON_INSUFFICIENT_DATA);
    history(0.5, 1);
    in.forecast = NULL;
    assert_int_equal(run().reason, FCST_REASON_INSUFFICIENT_DATA);
    history(0.5, 1);
    fc[AE_F_INVOCATIONS] = NAN;
    r = run();
    assert_int_equal(r.reason, FCST_REASON_INSUFFICIENT_DATA);
    assert_holds(&r, 0, 0, 0);
    assert_string_equal(r.text, "forecast is not finite");
    assert_float_equal(r.cpu_up, 0.8, 0);
    assert_string_equal(fcst_type_name(FCST_ADJUST_THRESHOLDS), "adjust_thresholds");
    assert_string_equal(fcst_type_name(FCST_SCALE_UP), "scale_up");
    assert_string_equal(fcst_type_name(FCST_SCALE_DOWN), "scale_down");
    assert_string_equal(fcst_type_name(FCST_HOLD), "hold");
    assert_string_equal(fcst_reason_name(FCST_REASON_INSUFFICIENT_DATA), "INSUFFICIENT_DATA");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(peak_sized_at_the_scale_up_threshold),
        cmocka_unit_test(peak_plus_headroom_sized_at_the_upper_bound),
        cmocka_unit_test(counts_are_ceil_with_the_epsilon),
        cmocka_unit_test(fleet_clamped_to_min_and_max),
        cmocka_unit_test(scale_down_to_the_fleet_needed),
        cmocka_unit_test(right_size_adjusts_thresholds_beyond_005),
        cmocka_unit_test(right_size_and_small_change_is_stable),
        cmocka_unit_test(thresholds_bounded_from_configured),
        cmocka_unit_test(peak_and_trough_over_horizon),
        cmocka_unit_test(sized_in_demand_not_current_instances),
        cmocka_unit_test(without_request_metrics_uses_cpu),
        cmocka_unit_test(reads_only_the_last_five_minutes),
        cmocka_unit_test(low_confidence_holds_a_floor_only),
        cmocka_unit_test(insufficient_data_holds_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
