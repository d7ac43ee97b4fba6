/* Randomised streams (fixed seeds, so every run is the same) against the invariants the rest of
 * the product relies on: the aggregator keeps ordered, aligned, sane minutes whatever arrives; the
 * model input is finite and its n matches agg_history_minutes; every change of the adaptive tree
 * stays in [min, max], respects the cooldown and runs tier 1 on the configured thresholds; the
 * analyzer's fleet, floor and ceiling stay in their bounds and agree with the outcome. Run under
 * ASan+UBSan too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>
#include <cmocka.h>

#include "aether/adaptive.h"
#include "aether/aggregator.h"
#include "aether/error.h"
#include "aether/forecast.h"

static uint64_t rng = 88172645463325252ULL;

static uint32_t next(void)
{
    rng ^= rng << 13; /* xorshift64 */
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 32);
}

static double uniform(double lo, double hi)
{
    return lo + (hi - lo) * (next() / 4294967296.0);
}

static int chance(int percent)
{
    return (int)(next() % 100) < percent;
}

static void check_minutes(const agg *a)
{
    static struct ae_minute m[AGG_HISTORY_MINUTES];
    int n = agg_recent(a, AGG_HISTORY_MINUTES, m);
    assert_int_equal(n, agg_count(a));
    assert_true(n <= AGG_HISTORY_MINUTES);
    for (int i = 0; i < n; i++) {
        assert_int_equal(m[i].start_ms % 60000, 0);
        if (i)
            assert_true(m[i].start_ms > m[i - 1].start_ms);
        assert_true(m[i].snapshots >= AGG_MIN_SAMPLES);
        for (int f = 0; f < AE_FEATURE_COUNT; f++) {
            if (!ae_minute_has(&m[i], f))
                continue;
            assert_true(isfinite(m[i].values[f]));
            if (ae_feature_fold(f) == AE_FOLD_SUM) {
                assert_true(m[i].samples[f] >= AGG_MIN_SAMPLES);
                assert_int_equal(!!(m[i].estimated & AE_FEATURE_BIT(f)), m[i].samples[f] < 60);
            }
        }
    }
}

static void aggregator_under_random_streams(void **state)
{
    (void)state;
    static float in[AGG_MAX_WINDOW * AE_FEATURE_COUNT];
    agg *a = NULL;
    assert_int_equal(agg_open(&a, NULL, 0), 0);
    int64_t t = 1700000040000LL;
    for (int step = 0; step < 40000; step++) {
        /* mostly the next second; sometimes a jump of minutes, a repeat, or a step back */
        int r = (int)(next() % 1000);
        t += r < 5    ? (int64_t)(next() % 600) * 1000
             : r < 10 ? -(int64_t)(next() % 120) * 1000
             : r < 15 ? 0
                      : 1000;
        struct ae_snapshot s;
        ae_snapshot_init(&s, t);
        for (int f = 0; f < AE_FEATURE_COUNT; f++)
            if (chance(80))
                ae_snapshot_set(&s, f, uniform(0, 1000));
        s.ready = (int)(next() % 5);
        s.requested = s.ready;
        if (chance(30)) {
            s.has_histogram = 1;
            s.hist.buckets = 1 + (int)(next() % 4);
            for (int b = 0; b < s.hist.buckets; b++) {
                s.hist.upper_ms[b] =
                    b == s.hist.buckets - 1 && chance(50) ? INFINITY : 10 * (b + 1);
                s.hist.count[b] = next() % 20;
            }
        }
        int rc = agg_add(a, &s, NULL);
        assert_true(rc == 0 || rc == 1 || rc == AE_ERANGE);
        if (chance(2))
            assert_true(agg_tick(a, t + (int64_t)(next() % 120000), NULL) >= 0);
        if (step % 500 == 0) {
            check_minutes(a);
            int w = 1 + (int)(next() % AGG_MAX_WINDOW);
            int64_t now = t + (int64_t)(next() % 300000);
            int n = agg_model_input(a, w, now, in);
            int usable = agg_history_minutes(a, w, now), half = w / 2 > 1 ? w / 2 : 1;
            assert_true(usable >= 0 && usable <= w);
            if (usable < half) {
                assert_int_equal(n, AE_EAGAIN);
                continue;
            }
            assert_int_equal(n, usable);
            for (int k = 0; k < w * AE_FEATURE_COUNT; k++)
                assert_true(isfinite(in[k]));
        }
    }
    check_minutes(a);
    agg_free(a);
}

static void adaptive_changes_stay_in_bounds(void **state)
{
    (void)state;
    struct cfg_controller ctl;
    cfg_controller_defaults(&ctl);
    struct adt a;
    adt_init(&a, 0);
    int n = 3;
    int64_t last_change = INT64_MIN / 2;
    for (int64_t now = 0; now < 6 * 3600 * 1000LL; now += 1000) {
        if (now % 60000 == 0 && chance(70)) {
            struct fcst_recommendation r;
            memset(&r, 0, sizeof r);
            r.type = (enum fcst_type)(next() % FCST_TYPE_COUNT);
            r.target_instances = 1 + (int)(next() % 10);
            r.floor = chance(80) ? r.target_instances : 0;
            r.ceiling = chance(60) ? r.target_instances : 0;
            adt_apply(&a, chance(20) ? CFG_TTM_FORECAST_ONLY : CFG_TTM_ACTIVE, &r, now);
        }
        if (chance(1))
            adt_drop(&a, "random drop");
        struct tree_input in = {.has_cpu = chance(90),
                                .cpu_usage = uniform(0, 1),
                                .has_calls = chance(90),
                                .calls_per_s = uniform(0, 3000 * n),
                                .ready = n - (int)(next() % 2),
                                .requested = n,
                                .min_instances = 1,
                                .max_instances = 10};
        struct ae_decision d;
        int desired = adt_decide(&a, &ctl, 60000, &in, now, &d);
        assert_int_equal(d.from, n);
        assert_int_equal(d.to, desired);
        if (desired != n) {
            assert_true(desired >= 1 && desired <= 10);
            assert_true(now >= 30000);
            assert_true(now - last_change >= ctl.slice_cooldown_ms);
            if (desired < n)
                assert_int_equal(desired, n - 1);
            last_change = now;
        }
        n = desired;
    }
}

static void analyzer_outputs_stay_in_bounds(void **state)
{
    (void)state;
    struct ae_minute hist[5];
    float fc[10 * AE_FEATURE_COUNT];
    int seen[FCST_TYPE_COUNT] = {0}, stable = 0, low_sized = 0, saturated_up = 0,
        saturated_hold = 0, stable_big_change = 0;
    for (int round = 0; round < 20000; round++) {
        for (int i = 0; i < 5; i++) {
            ae_minute_init(&hist[i], i * 60000LL);
            for (int f = 0; f < AE_FEATURE_COUNT; f++)
                if (chance(85)) {
                    /* cpu: a quarter of the minutes saturated (at 0.95 or more) */
                    hist[i].values[f] = f == AE_F_CPU_USAGE
                                            ? (chance(25) ? uniform(0.95, 1) : uniform(0, 0.95))
                                            : uniform(0, 1e5);
                    hist[i].missing &= ~AE_FEATURE_BIT(f);
                }
            hist[i].ready_mean = uniform(0, 10);
        }
        int h = 1 + (int)(next() % 10);
        for (int k = 0; k < h * AE_FEATURE_COUNT; k++)
            fc[k] = (float)(k % AE_FEATURE_COUNT == AE_F_CPU_USAGE ? uniform(-0.2, 1.5)
                                                                   : uniform(-100, 2e5));
        double up = uniform(0.15, 1);
        struct fcst_input in = {.history = hist,
                                .history_count = 1 + (int)(next() % 5),
                                .forecast = fc,
                                .horizon = h,
                                .confidence = uniform(0, 1),
                                .confidence_threshold = uniform(0, 1),
                                .ready = (int)(next() % 10),
                                .requested = 1 + (int)(next() % 10),
                                .min_instances = 1 + (int)(next() % 3),
                                .max_instances = 3 + (int)(next() % 20),
                                .cpu_limit_cores = uniform(0.1, 4),
                                .cfg_cpu_up = up,
                                .demand_headroom = chance(20) ? 0 : uniform(-1e3, 1e5),
                                .bound_util = uniform(0.1, 1)};
        struct fcst_recommendation r;
        fcst_analyze(&in, &r);
        int sized = r.target_instances != 0;
        if (sized) { /* F within [min, max]; the floor is F, the ceiling F or none */
            assert_true(r.target_instances >= in.min_instances);
            assert_true(r.target_instances <= in.max_instances);
            assert_int_equal(r.floor, r.target_instances);
            assert_true(r.ceiling == 0 || r.ceiling == r.target_instances);
            assert_true(!r.sized_by_demand || r.demand_headroom >= 0);
        } else {
            assert_int_equal(r.floor, 0);
            assert_int_equal(r.ceiling, 0);
        }
        /* a saturated cost only when sized in demand; the confident outcomes then hold no
         * ceiling */
        assert_true(!r.cost_saturated || r.sized_by_demand);
        int confident = r.reason != FCST_REASON_LOW_CONFIDENCE;
        if (r.cost_saturated && confident)
            assert_int_equal(r.ceiling, 0);
        seen[r.type]++;
        stable += r.reason == FCST_REASON_STABLE;
        stable_big_change += r.reason == FCST_REASON_STABLE && fabs(r.rise) > 0.3;
        low_sized += r.reason == FCST_REASON_LOW_CONFIDENCE && sized;
        saturated_up += r.type == FCST_SCALE_UP && r.cost_saturated;
        switch (r.type) {
        case FCST_SCALE_UP:
            assert_true(sized && r.target_instances > in.requested);
            assert_int_equal(r.ceiling, r.cost_saturated ? 0 : r.target_instances);
            assert_int_equal(r.reason, FCST_REASON_NONE);
            break;
        case FCST_SCALE_DOWN:
            assert_true(sized && r.target_instances < in.requested);
            assert_false(r.cost_saturated);
            assert_int_equal(r.ceiling, r.target_instances);
            assert_int_equal(r.reason, FCST_REASON_NONE);
            break;
        case FCST_HOLD:
            if (r.reason == FCST_REASON_STABLE) {
                assert_true(sized && r.target_instances == in.requested);
                assert_false(r.cost_saturated);
                assert_int_equal(r.ceiling, r.target_instances);
            } else if (r.reason == FCST_REASON_SATURATED) {
                assert_true(sized && r.cost_saturated);
                assert_true(r.target_instances <= in.requested);
                assert_int_equal(r.ceiling, 0); /* F is a lower bound: never removes any */
                saturated_hold++;
            } else if (r.reason == FCST_REASON_LOW_CONFIDENCE) {
                assert_int_equal(r.ceiling, 0); /* never removes instances */
            } else {
                assert_int_equal(r.reason, FCST_REASON_INSUFFICIENT_DATA);
                assert_false(sized);
            }
            break;
        default: /* no other type exists */
            fail_msg("outcome %s", fcst_type_name(r.type));
        }
    }
    /* every outcome was exercised */
    assert_true(seen[FCST_HOLD] > 100 && seen[FCST_SCALE_UP] > 100 && seen[FCST_SCALE_DOWN] > 100);
    assert_true(stable > 10 && stable_big_change > 10 && low_sized > 100);
    assert_true(saturated_up > 100 && saturated_hold > 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(aggregator_under_random_streams),
        cmocka_unit_test(adaptive_changes_stay_in_bounds),
        cmocka_unit_test(analyzer_outputs_stay_in_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
