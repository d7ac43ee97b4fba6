/* The whole core in one loop, through the control step the node and the simulator call
 * (scl_step): 1-s snapshots into the aggregator, tier 1 every second through the adaptive tree,
 * the TTM manager on the step's schedule (every minute from the first) with a scripted predictor
 * that knows the coming demand. Checks that a forecast floor is a one-time
 * target (no runaway), that a ceiling steps down once per cooldown, that with TTM disabled the
 * same loop is tier 1 alone, and that neither tier adds instances while new ones start. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "aether/scaler.h"

#define T0 1700000040000LL
#define W 8
#define COST 0.01 /* core-seconds per request */

/* Requests per second in minute m: a step up at minute 20, back down at minute 35. */
static double demand(int m)
{
    return m >= 20 && m < 35 ? 300 : 100;
}

struct oracle {     /* what the "model" predicts for the minute being forecast */
    double per_min; /* invocations */
    double cpu;     /* cpu_usage at the instances serving now */
};

static int oracle_predict(void *state, const float *in, int batch, float *out, char *err,
                          size_t errlen)
{
    (void)in;
    (void)err;
    (void)errlen;
    const struct oracle *o = state;
    memset(out, 0, (size_t)batch * AE_FEATURE_COUNT * sizeof *out);
    for (int b = 0; b < batch; b++) {
        out[b * AE_FEATURE_COUNT + AE_F_INVOCATIONS] = (float)o->per_min;
        out[b * AE_FEATURE_COUNT + AE_F_CPU_USAGE] = (float)o->cpu;
    }
    return 0;
}

static void oracle_info(void *state, struct ae_predictor_info *out)
{
    (void)state;
    *out = (struct ae_predictor_info){.window = W,
                                      .horizon = 1,
                                      .features = 11,
                                      .max_batch = 1,
                                      .schema_version = 1,
                                      .val_wape = 0.05};
}

static void oracle_close(ae_predictor *self)
{
    (void)self;
}

/* Instances each minute (count[m] = requested at the end of minute m) and the peak; the fleet F
 * of the forecast made at the start of minute m and whether its cost per request came from
 * saturated minutes only. */
struct run {
    int count[45];
    int fleet[45];
    int cost_saturated[45];
    int peak;
    long scale_up_recs, scale_down_recs;
    double confidence;
    long resolved;
};

#define SECONDS (45 * 60)

/* ttm_enabled: the TTM tier runs; startup_s: seconds from an instance's request to its serving
 * (removed ones stop at once). */
static void run_loop(int ttm_enabled, int startup_s, struct run *r)
{
    static int requested_at[SECONDS]; /* requested count in each second */
    struct oracle o = {0};
    ae_predictor pred = {&o, oracle_predict, oracle_info, oracle_close};
    struct cfg_controller ctl;
    cfg_controller_defaults(&ctl);
    struct cfg_ttm tc;
    cfg_ttm_defaults(&tc);
    tc.forecaster = FCR_MODEL; /* the model path, each recommendation as the analyzer made it */
    tc.scale_in_window_minutes = 0;
    tc.enabled = ttm_enabled;
    tc.input_window_minutes = W;
    tc.prediction_horizon = 1;
    struct cfg_blueprint bp;
    cfg_blueprint_defaults(&bp);
    strcpy(bp.name, "web");
    bp.instances = 2;
    char err[256];
    scl *step;
    assert_int_equal(scl_open(&tc, &ctl, &bp, 1, &step, err, sizeof err), 0);
    ttm *t = scl_ttm(step);
    assert_int_equal(ttm_set_predictor(t, &pred, err, sizeof err), 0);
    scl_start(step, T0);
    struct scl_bp *b = scl_bp(step, 0);
    agg *history = NULL;
    assert_int_equal(agg_open(&history, NULL, 0), 0);

    int64_t last_change_ms = INT64_MIN / 2;
    memset(r, 0, sizeof *r);
    for (int m = 0; m < 45; m++) {
        for (int sec = 0; sec < 60; sec++) {
            int64_t now = T0 + m * 60000LL + sec * 1000LL;
            int n = b->requested;
            int k = m * 60 + sec, ready = n;
            requested_at[k] = n;
            if (k >= startup_s && requested_at[k - startup_s] < ready)
                ready = requested_at[k - startup_s];
            else if (k < startup_s)
                ready = 2; /* the first two served from the start */
            struct ae_snapshot s;
            ae_snapshot_init(&s, now);
            double cpu = demand(m) * COST / ready; /* the ready instances serve it all */
            ae_snapshot_set(&s, AE_F_CPU_USAGE, cpu > 1 ? 1 : cpu);
            ae_snapshot_set(&s, AE_F_INVOCATIONS, demand(m));
            s.ready = ready;
            s.requested = n;
            assert_true(agg_add(history, &s, NULL) >= 0);
            /* what the "model" will say if this second's step evaluates: this minute's demand */
            o.per_min = demand(m) * 60;
            o.cpu = demand(m) * COST / ready;
            struct scl_input in = {.history = history, .snapshot = &s, .ready = ready};
            struct scl_output out;
            int evaluated = scl_step(step, now, &in, &out);
            /* the schedule: one evaluation a minute, at its first second, from minute 1 */
            assert_int_equal(evaluated, m > 0 && sec == 0);
            if (sec == 0) {
                r->fleet[m] = b->controller.last_rec.target_instances;
                r->cost_saturated[m] = b->controller.last_rec.cost_saturated;
            }
            int desired = out.desired;
            assert_int_equal(b->requested, desired);
            assert_int_equal(out.changed, desired != n);
            if (desired != n) {
                assert_true(now - last_change_ms >= ctl.slice_cooldown_ms);
                last_change_ms = now;
            }
            if (desired < n)
                assert_int_equal(desired, n - 1); /* down one step at a time */
            if (ttm_enabled && m == 20 && sec == 0) {
                assert_int_equal(out.decision.tier, AE_TIER_TTM);
                assert_string_equal(out.decision.reason, "forecast floor 4");
                assert_non_null(out.ttm_decision); /* the recommendation made in this step */
            }
            r->peak = desired > r->peak ? desired : r->peak;
        }
        r->count[m] = b->requested;
    }
    struct ttm_counters c;
    ttm_get_counters(t, &c);
    r->scale_up_recs = c.recommendations[FCST_SCALE_UP];
    r->scale_down_recs = c.recommendations[FCST_SCALE_DOWN];
    struct ttm_bp_status st;
    ttm_get_blueprint(t, 0, &st);
    r->confidence = st.confidence;
    r->resolved = st.resolved;
    assert_true(b->forecast.confidence == st.confidence); /* copied after each evaluation */
    scl_free(step);
    agg_free(history);
}

static void floor_and_ceiling_without_runaway(void **state)
{
    (void)state;
    struct run r;
    run_loop(1, 0, &r);
    assert_int_equal(r.count[19], 2); /* 100 req/s x 0.01 = 1 core: 0.5 on 2, stable */
    /* the step to 300 req/s (3 cores) needs ceil(3 / 0.9) = 4 (3.33 at the upper bound 0.90,
     * no headroom: the oracle never under-forecasts), reached in one jump at the first second of
     * the step, then held by floor and ceiling: not ratcheting up every second */
    assert_int_equal(r.count[20], 4);
    for (int m = 20; m < 35; m++) {
        assert_int_equal(r.count[m], 4);
        assert_int_equal(r.fleet[m], 4);
    }
    assert_int_equal(r.peak, 4);
    /* back to 1 core: ceil(1 / 0.9) = 2, stepped down one per cooldown within the minute */
    assert_int_equal(r.count[35], 2);
    assert_int_equal(r.count[44], 2);
    assert_true(r.scale_up_recs >= 1);
    assert_true(r.scale_down_recs >= 1);
    assert_true(r.resolved >= 30);
    /* the oracle was right every minute, except for the second of each step when the saturated
     * instances (cpu clamped at 1) used fewer cores than the demand needed */
    assert_true(r.confidence > 0.99);
}

static void reactive_only_when_disabled(void **state)
{
    (void)state;
    struct run r;
    run_loop(0, 0, &r);
    /* tier 1 alone: +1 per cooldown while cpu > 0.8 (1.0 on 2, 1.0 on 3), then 0.75 on 4 holds */
    assert_int_equal(r.count[19], 2);
    assert_int_equal(r.count[20], 4);
    assert_int_equal(r.count[34], 4);
    assert_int_equal(r.peak, 4);
    /* back at 1 core: 0.25 on 4 is not below 0.2, so it stays */
    assert_int_equal(r.count[44], 4);
    assert_int_equal(r.scale_up_recs, 0);
    assert_int_equal(r.resolved, 0);
}

/* Instances take 3 minutes to start. Tier 1 counts the requested ones, so it adds one, waits for
 * it to serve, and adds the next only if the load still needs it; it does not add one every
 * cooldown while the first is starting (that would reach max_instances 10 here). */
static void reactive_waits_for_starting_instances(void **state)
{
    (void)state;
    struct run r;
    run_loop(0, 180, &r);
    assert_int_equal(r.count[19], 2);
    /* 1.0 (capped) on 2 ready: +1; then 1.0 x 2/3 = 0.67 once the third serves: hold */
    assert_int_equal(r.count[20], 3);
    assert_int_equal(r.count[22], 3);
    /* the third serves at the start of minute 23: 1.0 on 3 is still > 0.8: +1, 0.75 holds */
    assert_int_equal(r.count[23], 4);
    assert_int_equal(r.count[34], 4);
    assert_int_equal(r.peak, 4);
}

/* The same start-up delay with the forecast: the jump to 4 comes at once, nothing is added on top
 * while the new instances start, and the ceiling brings it back to 2. In minutes 21-23 the 2
 * ready instances are saturated (3 cores of demand, cpu capped at 1): the cost per request comes
 * from the unsaturated minutes before the step, so every forecast still needs 4, and tier 1 sees
 * 1.0 x 2 / 4 = 0.5 over the requested instances: the count stays 4 the whole time. */
static void forecast_with_starting_instances_does_not_run_away(void **state)
{
    (void)state;
    struct run r;
    run_loop(1, 180, &r);
    for (int m = 0; m < 45; m++) {
        int want = m >= 20 && m < 35 ? 4 : 2;
        assert_int_equal(r.count[m], want);
        if (m >= W / 2) /* forecasting from minute 4 (half the window) */
            assert_int_equal(r.fleet[m], want);
        assert_int_equal(r.cost_saturated[m], 0);
    }
    assert_int_equal(r.peak, 4);
    assert_true(r.scale_up_recs >= 1);
    assert_true(r.scale_down_recs >= 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(floor_and_ceiling_without_runaway),
        cmocka_unit_test(reactive_only_when_disabled),
        cmocka_unit_test(reactive_waits_for_starting_instances),
        cmocka_unit_test(forecast_with_starting_instances_does_not_run_away),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
