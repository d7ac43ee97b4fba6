/* Adaptive decision tree: the merge rules of both tiers, held targets, drops, staleness,
 * forecast-only mode, tier 1 on the configured thresholds whatever the forecast, and
 * warm-up/cooldown/[min, max] on every change. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "aether/adaptive.h"

#define START 1000000LL
#define LIVE (START + 30000) /* warm-up over */
#define TTM_MS 60000

static struct cfg_controller ctl;
static struct adt a;

static int setup(void **state)
{
    (void)state;
    cfg_controller_defaults(&ctl);
    ctl.cpu_scale_up_threshold = 0.8; /* the hand-worked cases below scale up above 0.8 */
    adt_init(&a, START);
    return 0;
}

static struct tree_input at(double cpu, int n)
{
    struct tree_input in = {.has_cpu = 1,
                            .cpu_usage = cpu,
                            .has_calls = 1,
                            .calls_per_s = 10,
                            .ready = n,
                            .requested = n,
                            .min_instances = 1,
                            .max_instances = 10};
    return in;
}

/* A recommendation as fcst_analyze makes them: floor and ceiling (0 = none). */
static struct fcst_recommendation rec(enum fcst_type type, int floor, int ceiling)
{
    struct fcst_recommendation r;
    memset(&r, 0, sizeof r);
    r.type = type;
    r.target_instances = floor;
    r.floor = floor;
    r.ceiling = ceiling;
    return r;
}

/* Every minute with requests was saturated: F is a floor only (hold SATURATED when F <= n). */
static struct fcst_recommendation saturated(int fleet)
{
    struct fcst_recommendation r = rec(FCST_HOLD, fleet, 0);
    r.reason = FCST_REASON_SATURATED;
    r.cost_saturated = 1;
    return r;
}

static void reactive_only_is_tier_1(void **state)
{
    (void)state;
    struct tree_input in = at(0.9, 3);
    struct ae_decision d;
    assert_int_equal(adt_decide(&a, &ctl, TTM_MS, &in, START + 1000, &d), 3);
    assert_int_equal(d.action, AE_ACTION_HOLD);
    assert_string_equal(d.reason, "warm-up (cpu_usage 0.900 > 0.800)");
    assert_int_equal(adt_decide(&a, &ctl, TTM_MS, &in, LIVE, &d), 4);
    assert_int_equal(d.tier, AE_TIER_REACTIVE);
    assert_int_equal(d.action, AE_ACTION_SCALE_UP);
    assert_int_equal(d.from, 3);
    assert_int_equal(d.to, 4);
    assert_string_equal(d.reason, "cpu_usage 0.900 > 0.800");
    /* the fourth is starting: 0.9 on 3 of 4 is 0.675 once it serves, nothing more to add,
     * however long it takes to start */
    in.requested = 4;
    assert_int_equal(adt_decide(&a, &ctl, TTM_MS, &in, LIVE + 9999, &d), 4);
    assert_string_equal(d.reason, "within thresholds (over 4 requested, 3 ready)");
    assert_int_equal(adt_decide(&a, &ctl, TTM_MS, &in, LIVE + 60000, &d), 4);
    assert_int_equal(d.action, AE_ACTION_HOLD);
    /* it serves and cpu is still 0.9: +1, after the cooldown */
    in = at(0.9, 4);
    assert_int_equal(adt_decide(&a, &ctl, TTM_MS, &in, LIVE + 60000, &d), 5);
    in.requested = 5;
    in.ready = 5;
    assert_int_equal(adt_decide(&a, &ctl, TTM_MS, &in, LIVE + 69999, &d), 5);
    assert_string_equal(d.reason, "cooldown (cpu_usage 0.900 > 0.800)");
    assert_int_equal(adt_decide(&a, &ctl, TTM_MS, &in, LIVE + 70000, &d), 6);
    in = at(0.1, 6);
    assert_int_equal(adt_decide(&a, &ctl, TTM_MS, &in, LIVE + 80000, &d), 5);
    assert_int_equal(d.action, AE_ACTION_SCALE_DOWN);
    in = at(0.5, 5);
    assert_int_equal(adt_decide(&a, &ctl, TTM_MS, &in, LIVE + 100000, &d), 5);
    assert_int_equal(d.action, AE_ACTION_HOLD);
    assert_string_equal(d.reason, "within thresholds");
}

static void bounds_min_max(void **state)
{
    (void)state;
    struct tree_input in = at(0.95, 10);
    struct ae_decision d;
    assert_int_equal(adt_decide(&a, &ctl, TTM_MS, &in, LIVE, &d), 10);
    assert_int_equal(d.action, AE_ACTION_HOLD);
    assert_string_equal(d.reason, "cpu_usage 0.950 > 0.800; at max_instances 10");
    /* a count above max (max lowered by a reload) comes down to max */
    in = at(0.5, 12);
    assert_int_equal(adt_decide(&a, &ctl, TTM_MS, &in, LIVE, &d), 10);
    assert_int_equal(d.action, AE_ACTION_SCALE_DOWN);
}

static void floor_jumps_once_and_holds(void **state)
{
    (void)state;
    struct fcst_recommendation r = rec(FCST_SCALE_UP, 7, 7);
    adt_apply(&a, CFG_TTM_ACTIVE, &r, LIVE);
    struct tree_input in = at(0.5, 3);
    struct ae_decision d;
    /* s = 0 and floor 7 > 3: one jump to 7 */
    assert_int_equal(adt_decide(&a, &ctl, TTM_MS, &in, LIVE, &d), 7);
    assert_int_equal(d.tier, AE_TIER_TTM);
    assert_int_equal(d.action, AE_ACTION_SCALE_UP);
    assert_string_equal(d.reason, "forecast floor 7");
    /* at the floor it is a target, not an increment: nothing more */
    in = at(0.5, 7);
    assert_int_equal(adt_decide(&a, &ctl, TTM_MS, &in, LIVE + 20000, &d), 7);
    assert_int_equal(d.action, AE_ACTION_HOLD);
    /* low cpu does not take it below the held floor */
    in = at(0.05, 7);
    assert_int_equal(adt_decide(&a, &ctl, TTM_MS, &in, LIVE + 40000, &d), 7);
    assert_string_equal(d.reason, "held at the forecast floor 7");
    /* s = +1 at the floor: n + 1 */
    in = at(0.9, 7);
    assert_int_equal(adt_decide(&a, &ctl, TTM_MS, &in, LIVE + 60000, &d), 8);
    assert_int_equal(d.tier, AE_TIER_REACTIVE);
    /* s = +1 below the floor: max(n + 1, F) */
    in = at(0.9, 2);
    assert_int_equal(adt_decide(&a, &ctl, TTM_MS, &in, LIVE + 80000, &d), 7);
    assert_int_equal(d.tier, AE_TIER_TTM);
}

static void floor_respects_cooldown_and_max(void **state)
{
    (void)state;
    struct fcst_recommendation r = rec(FCST_SCALE_UP, 7, 7);
    adt_apply(&a, CFG_TTM_ACTIVE, &r, LIVE);
    adt_note_change(&a, LIVE); /* an operator change just now */
    struct tree_input in = at(0.5, 3);
    struct ae_decision d;
    assert_int_equal(adt_decide(&a, &ctl, TTM_MS, &in, LIVE + 5000, &d), 3);
    assert_string_equal(d.reason, "cooldown (forecast floor 7)");
    in.max_instances = 5;
    assert_int_equal(adt_decide(&a, &ctl, TTM_MS, &in, LIVE + 10000, &d), 5);
}

static void ceiling_steps_down_per_cooldown(void **state)
{
    (void)state;
    struct fcst_recommendation r = rec(FCST_SCALE_DOWN, 3, 3);
    adt_apply(&a, CFG_TTM_ACTIVE, &r, LIVE);
    struct tree_input in = at(0.5, 6);
    struct ae_decision d;
    assert_int_equal(adt_decide(&a, &ctl, TTM_MS, &in, LIVE, &d), 5);
    assert_int_equal(d.tier, AE_TIER_TTM);
    assert_string_equal(d.reason, "forecast ceiling 3");
    in.requested = 5;
    assert_int_equal(adt_decide(&a, &ctl, TTM_MS, &in, LIVE + 1000, &d), 5); /* cooldown */
    assert_int_equal(adt_decide(&a, &ctl, TTM_MS, &in, LIVE + 10000, &d), 4);
    in.requested = 4;
    assert_int_equal(adt_decide(&a, &ctl, TTM_MS, &in, LIVE + 20000, &d), 3);
    in.requested = 3;
    assert_int_equal(adt_decide(&a, &ctl, TTM_MS, &in, LIVE + 30000, &d), 3); /* reached C */
    assert_int_equal(d.action, AE_ACTION_HOLD);
    /* s = +1 ignores the ceiling */
    in = at(0.9, 3);
    assert_int_equal(adt_decide(&a, &ctl, TTM_MS, &in, LIVE + 40000, &d), 4);
    assert_int_equal(d.tier, AE_TIER_REACTIVE);
}

/* A saturated forecast holds F as a floor only: tier 1 adds above it on the configured thresholds
 * (a recommendation never changes them), steps down to it, never below. */
static void saturated_floor_only_tier_1_above(void **state)
{
    (void)state;
    struct fcst_recommendation r = saturated(3);
    adt_apply(&a, CFG_TTM_ACTIVE, &r, LIVE);
    assert_int_equal(a.floor, 3);
    assert_int_equal(a.ceiling, 0);
    struct tree_input in = at(0.7, 3); /* within the configured thresholds */
    struct ae_decision d;
    assert_int_equal(adt_decide(&a, &ctl, TTM_MS, &in, LIVE, &d), 3);
    assert_int_equal(d.action, AE_ACTION_HOLD);
    assert_string_equal(d.reason, "within thresholds");
    in = at(0.9, 3);
    assert_int_equal(adt_decide(&a, &ctl, TTM_MS, &in, LIVE, &d), 4);
    assert_int_equal(d.tier, AE_TIER_REACTIVE);
    assert_string_equal(d.reason, "cpu_usage 0.900 > 0.800");
    /* no ceiling: 4 above F = 3 stays while cpu is within the thresholds */
    in = at(0.3, 4);
    assert_int_equal(adt_decide(&a, &ctl, TTM_MS, &in, LIVE + 20000, &d), 4);
    assert_int_equal(d.action, AE_ACTION_HOLD);
    /* below the down threshold tier 1 steps down, but not below the floor F */
    in = at(0.1, 4);
    assert_int_equal(adt_decide(&a, &ctl, TTM_MS, &in, LIVE + 20000, &d), 3);
    assert_int_equal(d.tier, AE_TIER_REACTIVE);
    in = at(0.1, 3);
    assert_int_equal(adt_decide(&a, &ctl, TTM_MS, &in, LIVE + 40000, &d), 3);
    assert_string_equal(d.reason, "held at the forecast floor 3");
    /* below the floor: one jump to it */
    in = at(0.5, 1);
    assert_int_equal(adt_decide(&a, &ctl, TTM_MS, &in, LIVE + 60000, &d), 3);
    assert_int_equal(d.tier, AE_TIER_TTM);
    assert_string_equal(d.reason, "forecast floor 3");
}

/* Tier 1 runs on the configured thresholds, whatever recommendation was applied (any type), and
 * after it is dropped. */
static void tier_1_runs_on_the_configured_thresholds(void **state)
{
    (void)state;
    ctl.cpu_scale_up_threshold = 0.7;
    ctl.cpu_scale_down_threshold = 0.3;
    adt_init(&a, START);
    for (int t = 0; t < FCST_TYPE_COUNT; t++) {
        struct fcst_recommendation r = rec((enum fcst_type)t, 3, 3);
        adt_apply(&a, CFG_TTM_ACTIVE, &r, LIVE + t * 60000);
    }
    struct fcst_recommendation r = saturated(3);
    adt_apply(&a, CFG_TTM_ACTIVE, &r, LIVE + 300000);
    struct tree_input in = at(0.75, 3); /* above the configured 0.7 */
    struct ae_decision d;
    assert_int_equal(adt_decide(&a, &ctl, TTM_MS, &in, LIVE + 300000, &d), 4);
    assert_string_equal(d.reason, "cpu_usage 0.750 > 0.700");
    adt_drop(&a, "TTM state ERROR");
    in = at(0.75, 4);
    assert_int_equal(adt_decide(&a, &ctl, TTM_MS, &in, LIVE + 400000, &d), 5);
    assert_string_equal(d.reason, "cpu_usage 0.750 > 0.700");
}

/* Every confident forecast holds floor = ceiling = F (a saturated one: the floor alone): the
 * requested count follows F, jumping up to it and stepping down to it once per cooldown, and
 * tier 1 adds instances above it only when the load outruns the forecast. */
static void floor_and_ceiling_make_n_track_the_fleet(void **state)
{
    (void)state;
    struct ae_decision d;
    int64_t now = LIVE;
    int n = 2;
    struct fcst_recommendation r = rec(FCST_SCALE_UP, 6, 6);
    adt_apply(&a, CFG_TTM_ACTIVE, &r, now);
    assert_int_equal(a.floor, 6);
    assert_int_equal(a.ceiling, 6);
    struct tree_input in = at(0.5, n);
    n = adt_decide(&a, &ctl, TTM_MS, &in, now, &d);
    assert_int_equal(n, 6); /* one jump */
    assert_string_equal(d.reason, "forecast floor 6");
    /* at F, neither low nor moderate cpu moves it */
    in = at(0.05, n);
    assert_int_equal(adt_decide(&a, &ctl, TTM_MS, &in, now + 20000, &d), 6);
    assert_string_equal(d.reason, "held at the forecast floor 6");
    in = at(0.5, n);
    assert_int_equal(adt_decide(&a, &ctl, TTM_MS, &in, now + 30000, &d), 6);
    assert_int_equal(d.action, AE_ACTION_HOLD);
    /* the next forecast needs 3: down one per cooldown, whatever tier 1 thinks of cpu 0.5 */
    now += 60000;
    r = rec(FCST_SCALE_DOWN, 3, 3);
    adt_apply(&a, CFG_TTM_ACTIVE, &r, now);
    int steps = 0;
    for (int64_t t = now; t < now + 60000; t += 1000) {
        in = at(0.5, n);
        int next = adt_decide(&a, &ctl, TTM_MS, &in, t, &d);
        if (next != n) {
            assert_int_equal(next, n - 1);
            assert_int_equal(d.tier, AE_TIER_TTM);
            assert_string_equal(d.reason, "forecast ceiling 3");
            assert_int_equal((t - now) % ctl.slice_cooldown_ms, 0);
            steps++;
        }
        n = next;
    }
    assert_int_equal(steps, 3);
    assert_int_equal(n, 3);
    /* stable at 3: held both ways; load beyond the forecast still adds one; a ceiling made
     * before that scale-up does not undo it (tier 1 and the ceiling would alternate), the
     * next recommendation's does */
    now += 60000;
    r = rec(FCST_HOLD, 3, 3);
    r.reason = FCST_REASON_STABLE;
    adt_apply(&a, CFG_TTM_ACTIVE, &r, now);
    in = at(0.05, 3);
    assert_int_equal(adt_decide(&a, &ctl, TTM_MS, &in, now, &d), 3);
    in = at(0.9, 3);
    assert_int_equal(adt_decide(&a, &ctl, TTM_MS, &in, now + 1000, &d), 4);
    assert_int_equal(d.tier, AE_TIER_REACTIVE);
    in = at(0.5, 4);
    assert_int_equal(adt_decide(&a, &ctl, TTM_MS, &in, now + 11000, &d), 4);
    now += 60000;
    adt_apply(&a, CFG_TTM_ACTIVE, &r, now);
    assert_int_equal(adt_decide(&a, &ctl, TTM_MS, &in, now, &d), 3);
    assert_int_equal(d.tier, AE_TIER_TTM);
    assert_string_equal(d.reason, "forecast ceiling 3");
}

static void stale_forecast_is_dropped(void **state)
{
    (void)state;
    struct fcst_recommendation r = rec(FCST_SCALE_UP, 7, 7);
    adt_apply(&a, CFG_TTM_ACTIVE, &r, LIVE);
    struct tree_input in = at(0.5, 3);
    /* exactly 2 x interval old: still held */
    assert_int_equal(adt_decide(&a, &ctl, TTM_MS, &in, LIVE + 120000, NULL), 7);
    assert_true(a.has_rec);
    adt_init(&a, START);
    adt_apply(&a, CFG_TTM_ACTIVE, &r, LIVE);
    assert_int_equal(adt_decide(&a, &ctl, TTM_MS, &in, LIVE + 120001, NULL), 3);
    assert_false(a.has_rec);
    assert_int_equal(a.floor, 0);
    assert_int_equal(a.ceiling, 0);
    assert_string_equal(a.drop_reason, "forecast older than 2 x ttm.evaluation_interval_ms");
}

static void drop_restores_configured(void **state)
{
    (void)state;
    struct fcst_recommendation r = saturated(3);
    adt_apply(&a, CFG_TTM_ACTIVE, &r, LIVE);
    adt_drop(&a, "TTM state ERROR");
    assert_false(a.has_rec);
    assert_int_equal(a.floor, 0);
    assert_string_equal(a.drop_reason, "TTM state ERROR");
}

static void low_confidence_holds_a_floor_only(void **state)
{
    (void)state;
    struct fcst_recommendation r = rec(FCST_SCALE_UP, 9, 9);
    adt_apply(&a, CFG_TTM_ACTIVE, &r, LIVE);
    /* a low-confidence forecast that could not be sized holds nothing */
    r = rec(FCST_HOLD, 0, 0);
    r.reason = FCST_REASON_LOW_CONFIDENCE;
    adt_apply(&a, CFG_TTM_ACTIVE, &r, LIVE + 60000);
    assert_true(a.has_rec);
    assert_int_equal(a.floor, 0);
    assert_int_equal(a.ceiling, 0);
    struct tree_input in = at(0.5, 3);
    struct ae_decision d;
    assert_int_equal(adt_decide(&a, &ctl, TTM_MS, &in, LIVE + 60000, &d), 3);
    assert_string_equal(d.reason, "within thresholds");
    /* one that was sized keeps F = 5 instances, never removes any */
    r = rec(FCST_HOLD, 5, 0);
    r.reason = FCST_REASON_LOW_CONFIDENCE;
    adt_apply(&a, CFG_TTM_ACTIVE, &r, LIVE + 120000);
    assert_int_equal(adt_decide(&a, &ctl, TTM_MS, &in, LIVE + 120000, &d), 5);
    assert_string_equal(d.reason, "forecast floor 5");
    in = at(0.5, 8); /* above F: no ceiling takes it down */
    assert_int_equal(adt_decide(&a, &ctl, TTM_MS, &in, LIVE + 140000, &d), 8);
    assert_int_equal(d.action, AE_ACTION_HOLD);
    in = at(0.05, 8); /* tier 1 may, down to the floor */
    assert_int_equal(adt_decide(&a, &ctl, TTM_MS, &in, LIVE + 140000, &d), 7);
    assert_int_equal(d.tier, AE_TIER_REACTIVE);
    in = at(0.05, 5);
    assert_int_equal(adt_decide(&a, &ctl, TTM_MS, &in, LIVE + 160000, &d), 5);
    assert_string_equal(d.reason, "held at the forecast floor 5");
}

static void forecast_only_records_never_applies(void **state)
{
    (void)state;
    struct fcst_recommendation r = rec(FCST_SCALE_UP, 7, 7);
    adt_apply(&a, CFG_TTM_FORECAST_ONLY, &r, LIVE);
    assert_true(a.has_last_rec);
    assert_int_equal(a.last_rec.target_instances, 7);
    assert_int_equal(a.last_rec.floor, 7);
    assert_false(a.has_rec);
    assert_int_equal(a.floor, 0);
    assert_int_equal(a.ceiling, 0);
    struct tree_input in = at(0.5, 3);
    assert_int_equal(adt_decide(&a, &ctl, TTM_MS, &in, LIVE, NULL), 3);
    r = saturated(5);
    adt_apply(&a, CFG_TTM_FORECAST_ONLY, &r, LIVE);
    assert_int_equal(a.last_rec.reason, FCST_REASON_SATURATED);
    assert_int_equal(a.floor, 0);
    assert_int_equal(adt_decide(&a, &ctl, TTM_MS, &in, LIVE, NULL), 3);
    r = rec(FCST_SCALE_DOWN, 1, 1);
    adt_apply(&a, CFG_TTM_FORECAST_ONLY, &r, LIVE);
    in = at(0.5, 3);
    assert_int_equal(adt_decide(&a, &ctl, TTM_MS, &in, LIVE + 20000, NULL), 3);
}

#define T(f) cmocka_unit_test_setup(f, setup)
int main(void)
{
    const struct CMUnitTest tests[] = {
        T(reactive_only_is_tier_1),
        T(bounds_min_max),
        T(floor_jumps_once_and_holds),
        T(floor_respects_cooldown_and_max),
        T(ceiling_steps_down_per_cooldown),
        T(saturated_floor_only_tier_1_above),
        T(tier_1_runs_on_the_configured_thresholds),
        T(floor_and_ceiling_make_n_track_the_fleet),
        T(stale_forecast_is_dropped),
        T(drop_restores_configured),
        T(low_confidence_holds_a_floor_only),
        T(forecast_only_records_never_applies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
