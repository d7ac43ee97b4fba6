/* The per-second and per-minute path of the decision core allocates nothing once set up:
 * agg_add, adt_decide and ttm_evaluate (confidence resolution, headroom quantile, analysis,
 * hand-over) run for two simulated hours with every allocation function counted, with the model
 * and with a fitted Holt-Winters forecaster (its fits run inside the evaluations). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aether/adaptive.h"
#include "aether/aggregator.h"
#include "aether/ttm.h"
#include "alloc_count.h"

#define W 30
#define H 5
#define T0 1700000040000LL

/* A predictor that forecasts a rising demand, wrong by a varying amount, so that forecasts
 * resolve with shortfalls of both signs and every recommendation type can come up. */
static int calls;
static int fake_predict(void *state, const float *in, int batch, float *out, char *err,
                        size_t errlen)
{
    (void)state, (void)in, (void)err, (void)errlen;
    calls++;
    for (int b = 0; b < batch; b++)
        for (int h = 0; h < H; h++) {
            float *row = out + ((size_t)b * H + h) * AE_FEATURE_COUNT;
            memset(row, 0, AE_FEATURE_COUNT * sizeof *row);
            row[AE_F_CPU_USAGE] = 0.5f + 0.05f * (float)((calls + h) % 7);
            row[AE_F_INVOCATIONS] = 1000.0f + 150.0f * (float)((calls * 3 + h) % 11);
        }
    return 0;
}

static void fake_info(void *state, struct ae_predictor_info *out)
{
    (void)state;
    *out = (struct ae_predictor_info){.window = W,
                                      .horizon = H,
                                      .features = AE_FEATURE_COUNT,
                                      .max_batch = 1,
                                      .schema_version = 1,
                                      .val_wape = 0.1,
                                      .val_skill = 0.2};
}

static void fake_close(ae_predictor *self)
{
    (void)self;
}

static void the_wrappers_see_the_core(void **state)
{
    (void)state;
    alloc_count = 0;
    alloc_counting = 1;
    agg *a = NULL;
    assert_int_equal(agg_open(&a, NULL, 0), 0);
    agg_free(a);
    alloc_counting = 0;
    assert_non_null(a);
    assert_true(alloc_count >= 2); /* agg_open's allocation and agg_free's release */
}

static void two_hours(enum fcr_kind kind)
{
    static ae_predictor pred = {NULL, fake_predict, fake_info, fake_close};
    struct cfg_ttm tcfg;
    struct cfg_controller ctl;
    struct cfg_blueprint bp;
    char err[256];
    cfg_ttm_defaults(&tcfg);
    tcfg.enabled = 1;
    tcfg.input_window_minutes = W;
    tcfg.prediction_horizon = H;
    tcfg.confidence_threshold = 0.5;
    tcfg.forecaster = kind;
    cfg_controller_defaults(&ctl);
    cfg_blueprint_defaults(&bp);
    strcpy(bp.name, "web");
    bp.max_instances = 50;
    agg *history = NULL;
    assert_int_equal(agg_open(&history, NULL, 0), 0);
    assert_non_null(history);
    /* with auto the churn bound's ring is exercised too */
    tcfg.scale_in_window_minutes = kind == FCR_AUTO ? 10 : 0;
    ttm *t = NULL;
    assert_int_equal(ttm_open(&tcfg, &ctl, &bp, 1, &t, err, sizeof err), 0);
    assert_non_null(t);
    if (kind == FCR_MODEL || kind == FCR_AUTO)
        assert_int_equal(ttm_set_predictor(t, &pred, err, sizeof err), 0);
    struct adt a;
    adt_init(&a, T0);

    int requested = 4, ready = 4;
    long evaluations = 0;
    alloc_count = 0;
    alloc_counting = 1;
    for (int64_t s = 0; s < 2 * 3600; s++) {
        int64_t now = T0 + s * 1000;
        struct ae_snapshot snap;
        ae_snapshot_init(&snap, now);
        double load = 20 + 10 * (double)((s / 600) % 4); /* calls/s, a step every 10 minutes */
        snap.values[AE_F_INVOCATIONS] = load;
        snap.values[AE_F_CPU_USAGE] = load / (10.0 * ready) > 1 ? 1 : load / (10.0 * ready);
        snap.missing &= ~(AE_FEATURE_BIT(AE_F_CPU_USAGE) | AE_FEATURE_BIT(AE_F_INVOCATIONS));
        snap.ready = ready;
        snap.requested = requested;
        struct ae_minute closed;
        assert_true(agg_add(history, &snap, &closed) >= 0);
        if (s % 60 == 1) {
            struct ttm_bp_input in = {history, ready, requested, &a};
            ttm_evaluate(t, now, 1, &in);
            evaluations++;
        }
        struct tree_input ti;
        memset(&ti, 0, sizeof ti);
        tree_input_from_snapshot(&ti, &snap);
        ti.min_instances = bp.min_instances;
        ti.max_instances = bp.max_instances;
        struct ae_decision d;
        requested = adt_decide(&a, &ctl, tcfg.evaluation_interval_ms, &ti, now, &d);
        ready = requested; /* instances start at once here */
    }
    alloc_counting = 0;

    struct ttm_counters n;
    ttm_get_counters(t, &n);
    struct ttm_bp_status st;
    assert_int_equal(ttm_get_blueprint(t, 0, &st), 0);
    /* The run exercised what it claims to: forecasts made and resolved, several kinds of
     * recommendation, and the reactive tier changing the count. */
    assert_true(evaluations >= 119);
    assert_true(n.predictions > 80);
    assert_true(st.resolved > 60);
    if (kind == FCR_MODEL) {
        assert_true(n.recommendations[FCST_SCALE_UP] > 0);
        assert_true(n.recommendations[FCST_SCALE_DOWN] > 0);
    }
    if (kind == FCR_AUTO) { /* every candidate was scored, and something drove */
        assert_non_null(st.selection);
        for (int c = 0; c < SEL_CANDIDATES; c++)
            assert_false(isnan(sel_score(st.selection, c)));
    }
    assert_int_equal(alloc_count, 0);

    ttm_free(t);
    agg_free(history);
}

static void two_hours_without_allocation(void **state)
{
    (void)state;
    two_hours(FCR_MODEL);
}

static void two_hours_of_fitted_holt_winters_without_allocation(void **state)
{
    (void)state;
    two_hours(FCR_HOLT_WINTERS);
}

static void two_hours_of_auto_selection_without_allocation(void **state)
{
    (void)state;
    two_hours(FCR_AUTO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_wrappers_see_the_core),
        cmocka_unit_test(two_hours_without_allocation),
        cmocka_unit_test(two_hours_of_fitted_holt_winters_without_allocation),
        cmocka_unit_test(two_hours_of_auto_selection_without_allocation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
