/* Forecast analyzer: every rule at and around its boundary, demand sizing, the fallback without
 * request metrics, bounds, and the NoAction reasons. */
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

/* 5 minutes at cpu c0 with 2 ready instances and inv0 requests/min (cost = c0 x 2 x 60 / inv0).
 * The tests at a boundary pick numbers whose demand is exact in float32, the model's output. */
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
    memset(fc, 0, sizeof fc);
}

/* A forecast whose demand means utilisation u at the current 2 instances. */
static void predict_util(int h, double u, double c0)
{
    fc[h * AE_FEATURE_COUNT + AE_F_INVOCATIONS] = (float)(u * inv0 / c0);
    fc[h * AE_FEATURE_COUNT + AE_F_CPU_USAGE] = (float)u;
}

static struct fcst_recommendation run(void)
{
    struct fcst_recommendation r;
    fcst_analyze(&in, &r);
    return r;
}

static void rise_of_exactly_015_does_not_scale_up(void **state)
{
    (void)state;
    history(0.5, 1);
    predict_util(0, 0.65, 0.5);
    struct fcst_recommendation r = run();
    assert_int_equal(r.sized_by_demand, 1);
    assert_float_equal(r.cost, 0.05, 1e-12);
    assert_float_equal(r.rise, 0.15, 1e-6);
    assert_int_equal(r.type, FCST_ADJUST_THRESHOLDS);
    assert_float_equal(r.cpu_up, 0.725, 1e-6);
    assert_float_equal(r.cpu_down, 0.125, 1e-6);
    predict_util(0, 0.651, 0.5);
    r = run();
    assert_int_equal(r.type, FCST_SCALE_UP);
    /* F = ceil(1562.4 x 0.05 / (60 x 0.6)) = ceil(2.17) = 3 */
    assert_int_equal(r.target_instances, 3);
    assert_int_equal(r.reason, FCST_REASON_NONE);
    assert_string_equal(r.text,
                        "utilisation 0.50 -> 0.65 predicted (rise 0.15): floor 3 instances");
}

static void high_peak_needs_rise_above_010(void **state)
{
    (void)state;
    history(0.625, 1);
    predict_util(0, 0.725, 0.625); /* peak > 0.7, rise exactly 0.10 (demand 1392): no */
    assert_int_equal(run().type, FCST_ADJUST_THRESHOLDS);
    predict_util(0, 0.7251, 0.625);
    assert_int_equal(run().type, FCST_SCALE_UP);
    history(0.56, 0);          /* no request metrics: the predicted cpu itself */
    fc[AE_F_CPU_USAGE] = 0.7f; /* rise 0.14 but peak 0.7 (float 0.69999999): no */
    assert_int_equal(run().type, FCST_ADJUST_THRESHOLDS);
    fc[AE_F_CPU_USAGE] = 0.7001f;
    assert_int_equal(run().type, FCST_SCALE_UP);
}

static void scale_down_needs_fall_and_low_trough(void **state)
{
    (void)state;
    history(0.5, 1);
    predict_util(0, 0.34, 0.5); /* fall 0.16, trough 0.34 >= 0.3: thresholds only */
    struct fcst_recommendation r = run();
    assert_int_equal(r.type, FCST_ADJUST_THRESHOLDS);
    assert_float_equal(r.cpu_up, 0.88, 1e-6);
    assert_float_equal(r.cpu_down, 0.28, 1e-6);
    predict_util(0, 0.29, 0.5);
    r = run();
    assert_int_equal(r.type, FCST_SCALE_DOWN);
    /* C = max(min, ceil(696 x 0.05 / (60 x 0.5))) = ceil(1.16) = 2 */
    assert_int_equal(r.target_instances, 2);
    history(0.4, 1);
    predict_util(0, 0.25, 0.4); /* fall exactly 0.15: no */
    assert_int_equal(run().type, FCST_ADJUST_THRESHOLDS);
    predict_util(0, 0.2499, 0.4);
    assert_int_equal(run().type, FCST_SCALE_DOWN);
    in.min_instances = 3; /* C is at least min */
    assert_int_equal(run().target_instances, 3);
}

static void small_change_is_stable(void **state)
{
    (void)state;
    history(0.5, 1);
    predict_util(0, 0.55, 0.5); /* |rise| exactly 0.05 */
    struct fcst_recommendation r = run();
    assert_int_equal(r.type, FCST_HOLD);
    assert_int_equal(r.reason, FCST_REASON_STABLE);
    assert_string_equal(fcst_reason_name(r.reason), "STABLE");
    assert_float_equal(r.cpu_up, 0.8, 0);
    predict_util(0, 0.45, 0.5);
    assert_int_equal(run().reason, FCST_REASON_STABLE);
    predict_util(0, 0.5501, 0.5);
    assert_int_equal(run().type, FCST_ADJUST_THRESHOLDS);
}

static void thresholds_bounded_from_configured(void **state)
{
    (void)state;
    history(0.9, 1);
    predict_util(0, 0.35, 0.9); /* rise -0.55, trough 0.35: adjust, clamped */
    struct fcst_recommendation r = run();
    assert_int_equal(r.type, FCST_ADJUST_THRESHOLDS);
    assert_float_equal(r.cpu_up, 0.9, 1e-9);   /* cfgUp + 0.1 */
    assert_float_equal(r.cpu_down, 0.4, 1e-9); /* cfgDown + 0.2 */
    /* low configured thresholds: down is kept at most up - 0.1 */
    history(0.7, 1);
    in.cfg_cpu_up = 0.3;
    in.cfg_cpu_down = 0.25;
    predict_util(0, 0.4, 0.7);
    r = run();
    assert_int_equal(r.type, FCST_ADJUST_THRESHOLDS);
    assert_float_equal(r.cpu_up, 0.4, 1e-9);
    assert_float_equal(r.cpu_down, 0.3, 1e-9);
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
    assert_int_equal(r.type, FCST_SCALE_UP); /* scale-up is checked first */
    assert_float_equal(r.util_peak, 0.9, 1e-6);
    assert_float_equal(r.util_trough, 0.2, 1e-6);
    assert_float_equal(r.demand_peak, 2160, 1e-3);
    assert_float_equal(r.demand_now, inv0, 0);
}

static void sized_in_demand_not_current_instances(void **state)
{
    (void)state;
    history(0.5, 1);
    predict_util(0, 1.5, 0.5); /* demand 3600/min at 0.05 core-s each = 3 cores */
    struct fcst_recommendation r = run();
    assert_int_equal(r.target_instances, 5); /* ceil(3 / 0.6) */
    in.ready = 4; /* more instances serve now: utilisation differs, the floor does not */
    r = run();
    assert_int_equal(r.target_instances, 5);
    in.max_instances = 4;
    assert_int_equal(run().target_instances, 4);
}

static void without_request_metrics_uses_cpu(void **state)
{
    (void)state;
    history(0.5, 0);
    in.ready = 4;
    fc[AE_F_CPU_USAGE] = 0.9f;
    struct fcst_recommendation r = run();
    assert_int_equal(r.sized_by_demand, 0);
    assert_int_equal(r.type, FCST_SCALE_UP);
    assert_int_equal(r.target_instances, 6); /* ceil(4 x 0.9 / 0.6) */
    fc[AE_F_CPU_USAGE] = 0.2f;
    r = run();
    assert_int_equal(r.type, FCST_SCALE_DOWN);
    assert_int_equal(r.target_instances, 2); /* ceil(4 x 0.2 / 0.5) */
    /* invocations present but zero over the 5 minutes: the same fallback */
    history(0.5, 1);
    for (int i = 0; i < 5; i++)
        hist[i].values[AE_F_INVOCATIONS] = 0;
    in.ready = 4;
    fc[AE_F_CPU_USAGE] = 0.9f;
    fc[AE_F_INVOCATIONS] = 5000;
    r = run();
    assert_int_equal(r.sized_by_demand, 0);
    assert_int_equal(r.target_instances, 6);
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
}

static void no_action_reasons(void **state)
{
    (void)state;
    history(0.5, 1);
    predict_util(0, 0.95, 0.5);
    in.confidence = 0.69;
    struct fcst_recommendation r = run();
    assert_int_equal(r.type, FCST_HOLD);
    assert_int_equal(r.reason, FCST_REASON_LOW_CONFIDENCE);
    assert_string_equal(r.text, "confidence 0.69 below 0.70");
    in.confidence = 0.7; /* at the threshold: acts */
    assert_int_equal(run().type, FCST_SCALE_UP);
    in.confidence = NAN;
    assert_int_equal(run().reason, FCST_REASON_LOW_CONFIDENCE);
    in.confidence = 0.9;
    in.history_count = 0;
    assert_int_equal(run().reason, FCST_REASON_INSUFFICIENT_DATA);
    history(0.5, 1);
    for (int i = 0; i < 5; i++)
        hist[i].missing |= AE_FEATURE_BIT(AE_F_CPU_USAGE);
    assert_int_equal(run().reason, FCST_REASON_INSUFFICIENT_DATA);
    history(0.5, 1);
    fc[AE_F_INVOCATIONS] = NAN;
    assert_int_equal(run().reason, FCST_REASON_INSUFFICIENT_DATA);
    assert_string_equal(fcst_type_name(FCST_ADJUST_THRESHOLDS), "adjust_thresholds");
    assert_string_equal(fcst_type_name(FCST_HOLD), "hold");
    assert_string_equal(fcst_reason_name(FCST_REASON_INSUFFICIENT_DATA), "INSUFFICIENT_DATA");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rise_of_exactly_015_does_not_scale_up),
        cmocka_unit_test(high_peak_needs_rise_above_010),
        cmocka_unit_test(scale_down_needs_fall_and_low_trough),
        cmocka_unit_test(small_change_is_stable),
        cmocka_unit_test(thresholds_bounded_from_configured),
        cmocka_unit_test(peak_and_trough_over_horizon),
        cmocka_unit_test(sized_in_demand_not_current_instances),
        cmocka_unit_test(without_request_metrics_uses_cpu),
        cmocka_unit_test(reads_only_the_last_five_minutes),
        cmocka_unit_test(no_action_reasons),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
