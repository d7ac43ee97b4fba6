/* Forecast analyzer: the fleet F each forecast needs (its peak at the scale-up threshold, the
 * peak plus the headroom of recent under-forecasts at the upper-bound utilisation, the epsilon in
 * ceil, [min, max]), the outcomes with the floor and ceiling each holds (F = requested holds,
 * however large the predicted change: no threshold adjustment), the cost per request from the
 * unsaturated minutes and the floor-only outcome when every minute was saturated, the fallback
 * without request metrics, and the NoAction reasons. */
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
    assert_int_equal(r.cost_saturated, 0);
    assert_float_equal(r.cost, 0.05, 1e-12);
    assert_float_equal(r.demand_peak, 2880, 0);
    assert_float_equal(r.demand_headroom, 0, 0);
    assert_float_equal(r.util_now, 0.5, 0);
    assert_float_equal(r.util_peak, 1.2, 1e-12); /* on the 2 ready instances */
    assert_float_equal(r.rise, 0.7, 1e-12);
    assert_int_equal(r.type, FCST_SCALE_UP);
    assert_int_equal(r.reason, FCST_REASON_NONE);
    assert_holds(&r, 3, 3, 3);
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
    /* a negative headroom counts as none: the peak alone, 2 = requested, held both ways (rise
     * 0.3) */
    in.bound_util = 0.85;
    in.demand_headroom = -500;
    r = run();
    assert_float_equal(r.demand_headroom, 0, 0);
    assert_int_equal(r.type, FCST_HOLD);
    assert_int_equal(r.reason, FCST_REASON_STABLE);
    assert_holds(&r, 2, 2, 2);
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
    in.requested = 4; /* F = requested: no longer a scale-down, held at F */
    r = run();
    assert_int_equal(r.type, FCST_HOLD);
    assert_int_equal(r.reason, FCST_REASON_STABLE);
    assert_holds(&r, 4, 4, 4);
}

/* F = requested: held both ways at F (hold STABLE, floor = ceiling = F), however large the
 * predicted change; load beyond the forecast is tier 1's, on the configured thresholds. */
static void right_size_holds_whatever_the_change(void **state)
{
    (void)state;
    history(0.5, 1);
    predict_demand(0, 1560); /* 1.625 instances: F = 2 = requested; utilisation 0.65, rise 0.15 */
    struct fcst_recommendation r = run();
    assert_float_equal(r.rise, 0.15, 1e-12);
    assert_int_equal(r.type, FCST_HOLD);
    assert_int_equal(r.reason, FCST_REASON_STABLE);
    assert_string_equal(fcst_reason_name(r.reason), "STABLE");
    assert_holds(&r, 2, 2, 2);
    assert_string_equal(r.text, "utilisation 0.50 -> 0.65 predicted: stable at 2 instances");
    /* a fall: 1.04 instances, 2; utilisation 0.41667 */
    predict_demand(0, 1000);
    r = run();
    assert_float_equal(r.rise, -0.5 / 6, 1e-12);
    assert_int_equal(r.reason, FCST_REASON_STABLE);
    assert_holds(&r, 2, 2, 2);
    /* either side of |rise| = 0.05 (0.55 and 0.45 at 1320 and 1080): the same */
    const double around[] = {1079, 1080, 1320, 1321};
    for (int i = 0; i < 4; i++) {
        predict_demand(0, around[i]);
        r = run();
        assert_int_equal(r.type, FCST_HOLD);
        assert_int_equal(r.reason, FCST_REASON_STABLE);
        assert_holds(&r, 2, 2, 2);
    }
    /* a rise of +0.5: 0.3 -> 0.8 on 2 instances is 1.6 cores, exactly 2 at the scale-up
     * threshold 0.8 */
    history(0.3, 1);
    predict_util(0, 0.8, 0.3);
    r = run();
    assert_float_equal(r.cost, 0.03, 1e-12);
    assert_float_equal(r.rise, 0.5, 1e-9);
    assert_int_equal(r.type, FCST_HOLD);
    assert_int_equal(r.reason, FCST_REASON_STABLE);
    assert_holds(&r, 2, 2, 2);
    assert_string_equal(r.text, "utilisation 0.30 -> 0.80 predicted: stable at 2 instances");
    /* a fall of 0.5: 0.9 -> 0.4 is 0.8 cores, 1 instance, raised to min_instances 2 */
    history(0.9, 1);
    in.min_instances = 2;
    predict_util(0, 0.4, 0.9);
    r = run();
    assert_float_equal(r.rise, -0.5, 1e-6);
    assert_int_equal(r.type, FCST_HOLD);
    assert_int_equal(r.reason, FCST_REASON_STABLE);
    assert_holds(&r, 2, 2, 2);
    /* a rise of +0.2 far above a low scale-up threshold, F capped at max_instances 2 */
    history(0.5, 1);
    in.cfg_cpu_up = 0.15;
    in.max_instances = 2;
    predict_util(0, 0.7, 0.5);
    r = run();
    assert_float_equal(r.rise, 0.2, 1e-6);
    assert_int_equal(r.reason, FCST_REASON_STABLE);
    assert_holds(&r, 2, 2, 2);
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
    assert_float_equal(r.rise, 0.25, 0);
    assert_int_equal(r.type, FCST_HOLD); /* F = requested: held at F */
    assert_int_equal(r.reason, FCST_REASON_STABLE);
    assert_holds(&r, 4, 4, 4);
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

/* Minute i of the history: cpu c and inv requests (on its 2 ready instances of 1 core). */
static void minute(int i, double c, double inv)
{
    hist[i].values[AE_F_CPU_USAGE] = c;
    hist[i].values[AE_F_INVOCATIONS] = inv;
}

/* A saturated minute's cpu is capped, so its cost per request is too low: the cost comes from the
 * minutes below FCST_SATURATED_UTIL (0.95) whenever some of them had requests. */
static void cost_from_the_unsaturated_minutes(void **state)
{
    (void)state;
    history(0.5, 1);
    minute(0, 0.5, 1200);  /* 60 core-seconds: 0.05 per request */
    minute(1, 1.0, 4000);  /* saturated: 120 core-seconds, 0.03 per request */
    minute(2, 0.3, 400);   /* 36 core-seconds: 0.09 per request */
    minute(3, 0.95, 3000); /* saturated at exactly 0.95: 114 core-seconds, 0.038 per request */
    minute(4, 1.0, 4000);  /* the newest, saturated */
    predict_demand(0, 2400);
    struct fcst_recommendation r = run();
    assert_int_equal(r.sized_by_demand, 1);
    assert_int_equal(r.cost_saturated, 0);
    assert_float_equal(r.cost, 0.06, 1e-12); /* (60 + 36) / (1200 + 400) */
    assert_float_equal(r.util_now, 1.0, 0);
    assert_float_equal(r.demand_now, 2520, 1e-9); /* every minute's requests: 12600 / 5 */
    /* 2400/min x 0.06 = 2.4 cores: 3 at 0.8 (2.82 at 0.85); held both ways */
    assert_int_equal(r.type, FCST_SCALE_UP);
    assert_holds(&r, 3, 3, 3);
    assert_string_equal(r.text,
                        "utilisation 1.00 -> 1.20 predicted: 3 instances needed, scale up from 2");
    /* 0.9499 is below saturation: that minute counts */
    minute(3, 0.9499, 3000);
    r = run();
    assert_int_equal(r.cost_saturated, 0);
    assert_float_equal(r.cost, 209.988 / 4600, 1e-12); /* (60 + 36 + 113.988) / (1600 + 3000) */
    /* one unsaturated minute is enough */
    history(1.0, 1);
    minute(2, 0.6, 1000); /* 72 core-seconds: 0.072 per request */
    predict_demand(0, 2400);
    r = run();
    assert_int_equal(r.cost_saturated, 0);
    assert_float_equal(r.cost, 0.072, 1e-12);
    assert_holds(&r, 4, 4, 4); /* 2400 x 0.072 / 60 = 2.88 cores: 3.6 at 0.8 */
}

/* Every minute with cpu and requests saturated: the cost per request (here 1.0 x 2 x 60 / 1200 =
 * 0.1) is only a lower bound, so F is only a floor: scale up to it when F > requested, otherwise
 * hold (SATURATED), never a ceiling. */
static void all_saturated_holds_a_floor_only(void **state)
{
    (void)state;
    history(1.0, 1);
    predict_demand(0, 1200); /* 2 cores: 2.5 at 0.8, 3 */
    struct fcst_recommendation r = run();
    assert_int_equal(r.sized_by_demand, 1);
    assert_int_equal(r.cost_saturated, 1);
    assert_float_equal(r.cost, 0.1, 1e-12);
    assert_int_equal(r.type, FCST_SCALE_UP);
    assert_int_equal(r.reason, FCST_REASON_NONE);
    assert_holds(&r, 3, 3, 0);
    assert_string_equal(
        r.text, "saturated (cpu >= 0.95 in every minute with requests): cost per request unknown; "
                "floor 3 only (requested 2)");
    /* a minute at exactly 0.95 is saturated too: (114 + 4 x 120) / 6000 */
    minute(1, 0.95, 1200);
    r = run();
    assert_int_equal(r.cost_saturated, 1);
    assert_float_equal(r.cost, 0.099, 1e-12);
    assert_int_equal(r.type, FCST_SCALE_UP);
    assert_holds(&r, 3, 3, 0);
    /* F = requested: hold, floor only */
    predict_demand(0, 900); /* 1.5 cores: 1.875, 2 */
    r = run();
    assert_int_equal(r.type, FCST_HOLD);
    assert_int_equal(r.reason, FCST_REASON_SATURATED);
    assert_string_equal(fcst_reason_name(r.reason), "SATURATED");
    assert_holds(&r, 2, 2, 0);
    assert_string_equal(
        r.text, "saturated (cpu >= 0.95 in every minute with requests): cost per request unknown; "
                "floor 2 only (requested 2)");
    /* F < requested: the same hold, nothing is removed */
    in.requested = 5;
    r = run();
    assert_int_equal(r.type, FCST_HOLD);
    assert_int_equal(r.reason, FCST_REASON_SATURATED);
    assert_holds(&r, 2, 2, 0);
    /* low confidence is checked first */
    in.requested = 2;
    predict_demand(0, 1200);
    in.confidence = 0.5;
    r = run();
    assert_int_equal(r.reason, FCST_REASON_LOW_CONFIDENCE);
    assert_holds(&r, 3, 3, 0);
    assert_string_equal(r.text, "confidence 0.50 below 0.70: floor 3 only");
    /* and so is missing data */
    in.confidence = 0.9;
    fc[AE_F_INVOCATIONS] = NAN;
    r = run();
    assert_int_equal(r.reason, FCST_REASON_INSUFFICIENT_DATA);
    assert_holds(&r, 0, 0, 0);
    /* 0.9499 is not saturated: that minute alone gives the cost, 113.988 / 1200, and the fleet
     * is held both ways */
    history(1.0, 1);
    minute(4, 0.9499, 1200);
    predict_demand(0, 1200); /* 1.8998 cores: 2.37 at 0.8, 3 */
    r = run();
    assert_int_equal(r.cost_saturated, 0);
    assert_float_equal(r.cost, 0.09499, 1e-12);
    assert_int_equal(r.type, FCST_SCALE_UP);
    assert_holds(&r, 3, 3, 3);
    /* unsaturated minutes without requests do not count: still saturated */
    history(1.0, 1);
    minute(0, 0.5, 0);
    minute(4, 0.3, 0);
    predict_demand(0, 1200);
    r = run();
    assert_int_equal(r.cost_saturated, 1);
    assert_float_equal(r.cost, 0.1, 1e-12); /* 360 core-seconds / 3600 requests */
    assert_float_equal(r.util_now, 0.3, 0);
    assert_holds(&r, 3, 3, 0);
    /* without request metrics it is sized by the predicted cpu: no cost, nothing saturated */
    history(1.0, 0);
    fc[AE_F_CPU_USAGE] = 1.0f; /* 2 cores: 3 */
    r = run();
    assert_int_equal(r.sized_by_demand, 0);
    assert_int_equal(r.cost_saturated, 0);
    assert_int_equal(r.type, FCST_SCALE_UP);
    assert_holds(&r, 3, 3, 3);
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
    assert_int_equal(FCST_TYPE_COUNT, 3); /* the spec's adjust_thresholds is gone since v2 */
    assert_string_equal(fcst_type_name(FCST_TYPE_COUNT), "unknown");
    assert_string_equal(fcst_reason_name(FCST_REASON_NONE), "");
    assert_string_equal(fcst_reason_name(FCST_REASON_COUNT), "unknown");
    assert_string_equal(fcst_type_name(FCST_SCALE_UP), "scale_up");
    assert_string_equal(fcst_type_name(FCST_SCALE_DOWN), "scale_down");
    assert_string_equal(fcst_type_name(FCST_HOLD), "hold");
    assert_string_equal(fcst_reason_name(FCST_REASON_INSUFFICIENT_DATA), "INSUFFICIENT_DATA");
    assert_string_equal(fcst_reason_name(FCST_REASON_SATURATED), "SATURATED");
    assert_string_equal(fcst_reason_name(FCST_REASON_NONE), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(peak_sized_at_the_scale_up_threshold),
        cmocka_unit_test(peak_plus_headroom_sized_at_the_upper_bound),
        cmocka_unit_test(counts_are_ceil_with_the_epsilon),
        cmocka_unit_test(fleet_clamped_to_min_and_max),
        cmocka_unit_test(scale_down_to_the_fleet_needed),
        cmocka_unit_test(right_size_holds_whatever_the_change),
        cmocka_unit_test(peak_and_trough_over_horizon),
        cmocka_unit_test(sized_in_demand_not_current_instances),
        cmocka_unit_test(without_request_metrics_uses_cpu),
        cmocka_unit_test(reads_only_the_last_five_minutes),
        cmocka_unit_test(cost_from_the_unsaturated_minutes),
        cmocka_unit_test(all_saturated_holds_a_floor_only),
        cmocka_unit_test(low_confidence_holds_a_floor_only),
        cmocka_unit_test(insufficient_data_holds_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
