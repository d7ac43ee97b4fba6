/* TTM manager state machine, driven by a scripted predictor: STOPPED/RUNNING/ERROR, per-blueprint
 * WAITING_FOR_HISTORY/FORECASTING/ERROR, cold start at W/2, one batched call, counters, the
 * hand-over to the adaptive tree and the reactive-only path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "aether/error.h"
#include "aether/ttm.h"

#define T0 1700000040000LL
#define MIN 60000LL
#define W 8
#define NBP 3

/* The scripted predictor: every row gets the same cpu/invocations forecast. */
struct script {
    struct ae_predictor_info info;
    int fail;    /* predict() fails */
    int pending; /* predict() answers AE_EAGAIN: still evaluating elsewhere */
    int nan_row; /* row whose output is NaN, -1 for none */
    int calls;
    int last_batch;
    float cpu, inv;
    float last_row_cpu[NBP]; /* cpu of the newest input minute of each row */
};

static int script_predict(void *state, const float *in, int batch, float *out, char *err,
                          size_t errlen)
{
    struct script *s = state;
    s->calls++;
    s->last_batch = batch;
    if (s->fail) {
        snprintf(err, errlen, "scripted failure");
        return AE_EINFER;
    }
    if (s->pending) {
        snprintf(err, errlen, "inference still running");
        return AE_EAGAIN;
    }
    int w = s->info.window, h = s->info.horizon;
    for (int b = 0; b < batch; b++) {
        s->last_row_cpu[b] = in[((size_t)b * w + (w - 1)) * AE_FEATURE_COUNT + AE_F_CPU_USAGE];
        for (int k = 0; k < h; k++) {
            float *row = out + ((size_t)b * h + k) * AE_FEATURE_COUNT;
            memset(row, 0, AE_FEATURE_COUNT * sizeof *row);
            row[AE_F_CPU_USAGE] = s->cpu;
            row[AE_F_INVOCATIONS] = b == s->nan_row ? NAN : s->inv;
        }
    }
    return 0;
}

static void script_info(void *state, struct ae_predictor_info *out)
{
    *out = ((struct script *)state)->info;
}

static void script_close(ae_predictor *self)
{
    (void)self; /* static storage in the test */
}

static struct script sc;
static ae_predictor pred = {&sc, script_predict, script_info, script_close};
static struct cfg_ttm tcfg;
static struct cfg_controller ctl;
static struct cfg_blueprint bps[NBP];
static agg *hist[NBP];
static struct adt adts[NBP];
static struct ttm_bp_input inputs[NBP];
static ttm *t;
static char err[256];

/* Minutes from..to-1 of blueprint b with inv requests each at cpu 0.5 on inv / 600 ready
 * instances: 0.05 core-seconds per request (one core per instance, the config's default). */
static void add_load(int b, int from, int to, double inv)
{
    for (int i = from; i < to; i++) {
        struct ae_minute m;
        ae_minute_init(&m, T0 + i * MIN);
        m.values[AE_F_CPU_USAGE] = 0.5;
        m.values[AE_F_INVOCATIONS] = inv;
        m.missing &= ~(AE_FEATURE_BIT(AE_F_CPU_USAGE) | AE_FEATURE_BIT(AE_F_INVOCATIONS));
        m.ready_mean = inv / 600;
        m.snapshots = 60;
        assert_int_equal(agg_preload(hist[b], &m), 0);
    }
}

static void add_minutes(int b, int from, int to)
{
    add_load(b, from, to, 1200);
}

/* now in minute `minute`: the last closed minute is minute - 1 */
static int64_t at(int minute)
{
    return T0 + minute * MIN + 500;
}

static int setup(void **state)
{
    (void)state;
    memset(&sc, 0, sizeof sc);
    sc.info = (struct ae_predictor_info){.window = W,
                                         .horizon = 1,
                                         .features = 11,
                                         .max_batch = NBP,
                                         .schema_version = 1,
                                         .val_wape = 0.1,
                                         .val_skill = 0.2};
    sc.nan_row = -1;
    sc.cpu = 0.5f;
    sc.inv = 1200;
    cfg_ttm_defaults(&tcfg);
    tcfg.forecaster = FCR_MODEL; /* the model path; auto and the churn bound have their cases */
    tcfg.scale_in_window_minutes = 0;
    tcfg.enabled = 1;
    tcfg.input_window_minutes = W;
    tcfg.prediction_horizon = 1;
    cfg_controller_defaults(&ctl);
    static const char *const names[NBP] = {"web", "api", "batch"};
    for (int b = 0; b < NBP; b++) {
        cfg_blueprint_defaults(&bps[b]);
        strcpy(bps[b].name, names[b]);
        assert_int_equal(agg_open(&hist[b], NULL, 0), 0);
        adt_init(&adts[b], T0);
        inputs[b] = (struct ttm_bp_input){hist[b], 2, 2, &adts[b]};
    }
    assert_int_equal(ttm_open(&tcfg, &ctl, bps, NBP, &t, err, sizeof err), 0);
    assert_non_null(t);
    assert_int_equal(ttm_set_predictor(t, &pred, err, sizeof err), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ttm_free(t);
    for (int b = 0; b < NBP; b++)
        agg_free(hist[b]);
    return 0;
}

static enum ttm_bp_state bp_state(int i)
{
    struct ttm_bp_status st;
    assert_int_equal(ttm_get_blueprint(t, i, &st), 0);
    return st.state;
}

static void stopped_when_disabled_not_leader_or_no_model(void **state)
{
    (void)state;
    for (int b = 0; b < NBP; b++)
        add_minutes(b, 0, W);
    assert_int_equal(ttm_get_state(t), TTM_RUNNING); /* model loaded, before any evaluation */
    assert_string_equal(ttm_bp_state_name(bp_state(0)), "WAITING_FOR_HISTORY");
    adts[0].has_rec = 1; /* pretend a floor was held */
    adts[0].floor = 5;
    assert_int_equal(ttm_evaluate(t, at(W), 0, inputs), TTM_STOPPED);
    assert_int_equal(sc.calls, 0);
    assert_false(adts[0].has_rec);
    assert_string_equal(adts[0].drop_reason, "not the leader");
    assert_int_equal(ttm_evaluate(t, at(W), 1, inputs), TTM_RUNNING);
    assert_int_equal(sc.calls, 1);
    assert_int_equal(ttm_set_predictor(t, NULL, err, sizeof err), 0);
    assert_int_equal(ttm_evaluate(t, at(W), 1, inputs), TTM_STOPPED);
    assert_int_equal(sc.calls, 1);
    ttm_free(t);
    tcfg.enabled = 0;
    assert_int_equal(ttm_open(&tcfg, &ctl, bps, NBP, &t, err, sizeof err), 0);
    assert_int_equal(ttm_set_predictor(t, &pred, err, sizeof err), 0);
    assert_int_equal(ttm_evaluate(t, at(W), 1, inputs), TTM_STOPPED);
    assert_int_equal(sc.calls, 1);
    assert_string_equal(ttm_state_name(TTM_STOPPED), "STOPPED");
}

static void state_before_the_first_evaluation(void **state)
{
    (void)state;
    assert_int_equal(ttm_get_state(t), TTM_RUNNING); /* setup loaded the model */
    assert_string_equal(ttm_stopped_reason(t), "");
    ttm_set_leader(t, 0);
    assert_int_equal(ttm_get_state(t), TTM_STOPPED);
    assert_string_equal(ttm_stopped_reason(t), "not the leader");
    ttm_set_leader(t, 1);
    assert_int_equal(ttm_get_state(t), TTM_RUNNING);
    assert_int_equal(ttm_set_predictor(t, NULL, err, sizeof err), 0);
    assert_int_equal(ttm_get_state(t), TTM_STOPPED);
    assert_string_equal(ttm_stopped_reason(t), "no model loaded");
    sc.info.window = W + 1; /* refused: still no model */
    assert_int_not_equal(ttm_set_predictor(t, &pred, err, sizeof err), 0);
    assert_int_equal(ttm_get_state(t), TTM_STOPPED);
    sc.info.window = W;
    assert_int_equal(ttm_set_predictor(t, &pred, err, sizeof err), 0);
    assert_int_equal(ttm_get_state(t), TTM_RUNNING);
    assert_int_equal(sc.calls, 0); /* none of this evaluated */
    ttm_free(t);

    tcfg.forecaster = FCR_AUTO; /* needs no model */
    assert_int_equal(ttm_open(&tcfg, &ctl, bps, NBP, &t, err, sizeof err), 0);
    assert_non_null(t);
    assert_int_equal(ttm_get_state(t), TTM_RUNNING);
    ttm_free(t);
    tcfg.enabled = 0;
    assert_int_equal(ttm_open(&tcfg, &ctl, bps, NBP, &t, err, sizeof err), 0);
    assert_non_null(t);
    assert_int_equal(ttm_get_state(t), TTM_STOPPED);
    assert_string_equal(ttm_stopped_reason(t), "TTM disabled");
}

static void predictor_must_match_config(void **state)
{
    (void)state;
    sc.info.window = 30;
    assert_int_equal(ttm_set_predictor(t, &pred, err, sizeof err), AE_ESHAPE);
    assert_string_equal(err, "model window 30 does not match ttm.input_window_minutes = 8");
    sc.info.window = W;
    sc.info.horizon = 3;
    assert_int_equal(ttm_set_predictor(t, &pred, err, sizeof err), AE_ESHAPE);
    assert_string_equal(err, "model horizon 3 does not match ttm.prediction_horizon = 1");
    sc.info.horizon = 1;
    sc.info.schema_version = 2;
    assert_int_equal(ttm_set_predictor(t, &pred, err, sizeof err), AE_ESCHEMA);
    assert_string_equal(err,
                        "Model trained with a different feature schema (version 2, expected 1)");
    /* a refused model leaves none: STOPPED */
    for (int b = 0; b < NBP; b++)
        add_minutes(b, 0, W);
    assert_int_equal(ttm_evaluate(t, at(W), 1, inputs), TTM_STOPPED);
    sc.info.schema_version = 0; /* unstated: accepted */
    assert_int_equal(ttm_set_predictor(t, &pred, err, sizeof err), 0);
    /* bad config is refused at creation */
    tcfg.input_window_minutes = 500;
    ttm *refused = t;
    assert_int_equal(ttm_open(&tcfg, &ctl, bps, NBP, &refused, err, sizeof err), AE_ERANGE);
    assert_null(refused);
    assert_string_equal(err, "ttm.input_window_minutes = 500 is out of range 1..120");
}

static void cold_start_at_half_window_and_one_batch(void **state)
{
    (void)state;
    add_minutes(0, 1, 4); /* web: 3 minutes < W/2 = 4 */
    add_minutes(1, 0, 4); /* api: exactly W/2 */
    add_minutes(2, 0, 4);
    assert_int_equal(ttm_evaluate(t, at(4), 1, inputs), TTM_RUNNING);
    assert_int_equal(bp_state(0), TTM_BP_WAITING_FOR_HISTORY);
    assert_int_equal(bp_state(1), TTM_BP_FORECASTING);
    assert_string_equal(ttm_bp_state_name(bp_state(1)), "FORECASTING");
    assert_int_equal(bp_state(2), TTM_BP_FORECASTING);
    assert_int_equal(sc.calls, 1); /* one call for both */
    assert_int_equal(sc.last_batch, 2);
    struct ttm_counters c;
    ttm_get_counters(t, &c);
    assert_int_equal(c.predictions, 2);
    struct ttm_bp_status st;
    ttm_get_blueprint(t, 0, &st);
    assert_false(st.has_forecast);
    assert_null(st.forecast);

    add_minutes(0, 4, 5);
    add_minutes(1, 4, 5); /* batch misses minute 4: carried forward */
    assert_int_equal(ttm_evaluate(t, at(5), 1, inputs), TTM_RUNNING);
    for (int b = 0; b < NBP; b++)
        assert_int_equal(bp_state(b), TTM_BP_FORECASTING);
    assert_int_equal(sc.calls, 2);
    assert_int_equal(sc.last_batch, 3);
    assert_float_equal(sc.last_row_cpu[2], 0.5f, 0);
    ttm_get_counters(t, &c);
    assert_int_equal(c.predictions, 5);
    assert_int_equal(c.evaluations, 2);

    /* five minutes later without data (collection stopped): history too old, back to waiting */
    assert_int_equal(ttm_evaluate(t, at(10), 1, inputs), TTM_RUNNING);
    for (int b = 0; b < NBP; b++)
        assert_int_equal(bp_state(b), TTM_BP_WAITING_FOR_HISTORY);
    assert_int_equal(sc.calls, 2);
    assert_string_equal(adts[0].drop_reason, "waiting for history");
}

static void batch_split_by_max_batch(void **state)
{
    (void)state;
    for (int b = 0; b < NBP; b++)
        add_minutes(b, 0, W);
    sc.info.max_batch = 2;
    assert_int_equal(ttm_set_predictor(t, &pred, err, sizeof err), 0);
    assert_int_equal(ttm_evaluate(t, at(W), 1, inputs), TTM_RUNNING);
    assert_int_equal(sc.calls, 2);
    assert_int_equal(sc.last_batch, 1);
}

static void inference_failure_is_error_then_recovers(void **state)
{
    (void)state;
    for (int b = 0; b < NBP; b++)
        add_minutes(b, 0, W);
    sc.inv = 4000; /* a big rise: scale-up floors */
    assert_int_equal(ttm_evaluate(t, at(W), 1, inputs), TTM_RUNNING);
    assert_true(adts[0].has_rec);
    assert_true(adts[0].floor > 2);
    sc.fail = 1;
    assert_int_equal(ttm_evaluate(t, at(W) + 60000, 1, inputs), TTM_ERROR);
    assert_string_equal(ttm_state_name(ttm_get_state(t)), "ERROR");
    struct ttm_bp_status st;
    ttm_get_blueprint(t, 0, &st);
    assert_int_equal(st.state, TTM_BP_ERROR);
    assert_string_equal(st.error, "inference failed: scripted failure");
    assert_string_equal(ttm_last_error(t), "blueprint web: inference failed: scripted failure");
    for (int b = 0; b < NBP; b++) /* reactive only */
        assert_false(adts[b].has_rec);
    struct tree_input in = {.has_cpu = 1,
                            .cpu_usage = 0.5,
                            .ready = 2,
                            .requested = 2,
                            .min_instances = 1,
                            .max_instances = 10};
    assert_int_equal(
        adt_decide(&adts[0], &ctl, tcfg.evaluation_interval_ms, &in, T0 + 3600000, NULL), 2);
    struct ttm_counters c;
    ttm_get_counters(t, &c);
    assert_int_equal(c.failures, 1);
    sc.fail = 0;
    assert_int_equal(ttm_evaluate(t, at(W) + 120000, 1, inputs), TTM_RUNNING);
    assert_int_equal(bp_state(0), TTM_BP_FORECASTING);
    assert_string_equal(ttm_last_error(t), "");
}

/* A predictor still evaluating (off the caller's thread) is no failure: the state, the forecast
 * and the recommendation in force stay until it answers. */
static void pending_evaluation_keeps_what_is_in_force(void **state)
{
    (void)state;
    for (int b = 0; b < NBP; b++)
        add_minutes(b, 0, W);
    sc.inv = 4000;
    assert_int_equal(ttm_evaluate(t, at(W), 1, inputs), TTM_RUNNING);
    assert_true(adts[0].has_rec);
    int floor = adts[0].floor;
    struct ttm_bp_status before;
    ttm_get_blueprint(t, 0, &before);
    sc.pending = 1;
    assert_int_equal(ttm_evaluate(t, at(W) + 60000, 1, inputs), TTM_RUNNING);
    struct ttm_bp_status st;
    ttm_get_blueprint(t, 0, &st);
    assert_int_equal(st.state, TTM_BP_FORECASTING);
    assert_true(st.forecast_ms == before.forecast_ms);
    assert_true(adts[0].has_rec);
    assert_int_equal(adts[0].floor, floor);
    assert_int_equal(ttm_last_forecast_blueprint(t), 1); /* "api", first by name, still shown */
    struct ttm_counters c;
    ttm_get_counters(t, &c);
    assert_int_equal(c.failures, 0);
    assert_string_equal(ttm_last_error(t), "");
    sc.pending = 0;
    assert_int_equal(ttm_evaluate(t, at(W) + 61000, 1, inputs), TTM_RUNNING);
    ttm_get_blueprint(t, 0, &st);
    assert_true(st.forecast_ms > before.forecast_ms);
}

static void non_finite_output_is_a_blueprint_error(void **state)
{
    (void)state;
    for (int b = 0; b < NBP; b++)
        add_minutes(b, 0, W);
    sc.nan_row = 1;
    assert_int_equal(ttm_evaluate(t, at(W), 1, inputs), TTM_ERROR);
    struct ttm_bp_status st;
    ttm_get_blueprint(t, 1, &st);
    assert_int_equal(st.state, TTM_BP_ERROR);
    assert_string_equal(st.error, "model output is not finite (feature invocations)");
    assert_int_equal(bp_state(0), TTM_BP_FORECASTING);
    assert_int_equal(bp_state(2), TTM_BP_FORECASTING);
}

static double input_named(const struct ae_decision *d, const char *name)
{
    for (int i = 0; i < d->input_count; i++)
        if (strcmp(d->inputs[i].name, name) == 0)
            return d->inputs[i].value;
    fail_msg("decision input %s missing", name);
    return NAN;
}

static void recommendations_counted_and_applied(void **state)
{
    (void)state;
    for (int b = 0; b < NBP; b++)
        add_minutes(b, 0, W);
    sc.inv = 3600; /* 3 x demand at 0.05 core-s per request: 3 cores -> ceil(3 / 0.9) = 4 */
    ttm_evaluate(t, at(W), 1, inputs);
    struct ttm_counters c;
    ttm_get_counters(t, &c);
    assert_int_equal(c.recommendations[FCST_SCALE_UP], 3);
    assert_true(adts[2].has_rec);
    assert_int_equal(adts[2].floor, 4);
    assert_int_equal(adts[2].ceiling, 4);
    struct ttm_bp_status st;
    ttm_get_blueprint(t, 2, &st);
    assert_float_equal(st.confidence, 0.9, 1e-12); /* 1 - val_wape */
    assert_true(st.has_forecast);
    assert_float_equal(st.forecast[AE_F_INVOCATIONS], 3600, 0);
    assert_int_equal(st.forecast_ms, at(W));
    assert_int_equal(st.recommendation.type, FCST_SCALE_UP);
    assert_int_equal(st.recommendation.target_instances, 4);
    const struct ae_decision *d = ttm_last_decision(t, 2);
    assert_non_null(d);
    assert_int_equal(d->tier, AE_TIER_TTM);
    assert_int_equal(d->action, AE_ACTION_SCALE_UP);
    assert_int_equal(d->from, 2);
    assert_int_equal(d->to, 4);
    assert_string_equal(d->reason,
                        "utilisation 0.50 -> 1.50 predicted: 4 instances needed, scale up from 2");
    assert_true(d->input_count <= AE_DECISION_MAX_INPUTS);
    assert_float_equal(input_named(d, "target_instances"), 4, 0);
    assert_float_equal(input_named(d, "floor"), 4, 0);
    assert_float_equal(input_named(d, "ceiling"), 4, 0);
    assert_float_equal(input_named(d, "demand_headroom"), 0, 0); /* nothing resolved yet */
    assert_float_equal(input_named(d, "ready"), 2, 0);           /* the last one fits */
    /* "first by name": api < batch < web */
    assert_int_equal(ttm_last_forecast_blueprint(t), 1);
    /* a stable forecast next: the fleet of 2 is held both ways, hold counted */
    sc.inv = 1200;
    ttm_evaluate(t, at(W) + 60000, 1, inputs);
    ttm_get_counters(t, &c);
    assert_int_equal(c.recommendations[FCST_HOLD], 3);
    assert_int_equal(ttm_get_blueprint(t, 2, &st), 0);
    assert_int_equal(st.recommendation.reason, FCST_REASON_STABLE);
    assert_int_equal(adts[2].floor, 2);
    assert_int_equal(adts[2].ceiling, 2);
    assert_int_equal(ttm_last_decision(t, 2)->action, AE_ACTION_HOLD);
    /* less demand than 2 instances need: a scale-down to 1, held both ways */
    sc.inv = 600;
    ttm_evaluate(t, at(W) + 120000, 1, inputs);
    ttm_get_counters(t, &c);
    assert_int_equal(c.recommendations[FCST_SCALE_DOWN], 3);
    assert_int_equal(adts[2].floor, 1);
    assert_int_equal(adts[2].ceiling, 1);
    d = ttm_last_decision(t, 2);
    assert_int_equal(d->action, AE_ACTION_SCALE_DOWN);
    assert_int_equal(d->to, 1);
}

static void low_confidence_holds(void **state)
{
    (void)state;
    sc.info.val_wape = -1; /* absent: confidence 0 until 10 forecasts resolved */
    assert_int_equal(ttm_set_predictor(t, &pred, err, sizeof err), 0);
    for (int b = 0; b < NBP; b++)
        add_minutes(b, 0, W);
    sc.inv = 3600;
    ttm_evaluate(t, at(W), 1, inputs);
    struct ttm_bp_status st;
    ttm_get_blueprint(t, 0, &st);
    assert_int_equal(st.recommendation.type, FCST_HOLD);
    assert_int_equal(st.recommendation.reason, FCST_REASON_LOW_CONFIDENCE);
    /* the 4 instances the forecast needs are kept, none would be removed */
    assert_true(adts[0].has_rec);
    assert_int_equal(adts[0].floor, 4);
    assert_int_equal(adts[0].ceiling, 0);
    assert_int_equal(ttm_last_decision(t, 0)->action, AE_ACTION_HOLD);
    sc.inv = 600; /* 1 instance would do: still nothing removed, the floor is 1 */
    ttm_evaluate(t, at(W) + 60000, 1, inputs);
    assert_int_equal(adts[0].floor, 1);
    assert_int_equal(adts[0].ceiling, 0);
}

/* Forecasts that fall short of the demand that then comes make the next ones size the fleet
 * for their peak plus the ttm.headroom_quantile quantile of those shortfalls, at
 * ttm.upper_bound_utilization. */
static void shortfalls_add_headroom(void **state)
{
    (void)state;
    ttm_free(t);
    tcfg.upper_bound_utilization = 0.5;
    assert_int_equal(ttm_open(&tcfg, &ctl, bps, NBP, &t, err, sizeof err), 0);
    assert_non_null(t);
    assert_int_equal(ttm_set_predictor(t, &pred, err, sizeof err), 0);
    add_minutes(0, 0, W);
    agg *empty = NULL;
    assert_int_equal(agg_open(&empty, NULL, 0), 0);
    inputs[1].history = empty;
    inputs[2].history = empty;
    /* 12 forecasts of 1140 requests for minutes that had 1200: 60 short each (WAPE 0.05) */
    sc.inv = 1140;
    int minute = W;
    for (int k = 0; k < 12; k++) {
        ttm_evaluate(t, at(minute), 1, inputs);
        add_minutes(0, minute, minute + 1);
        minute++;
    }
    /* 2400 predicted: 2 cores, 2.5 instances at 0.8, (2400 + 60) / 1200 / 0.5 = 4.1 with the
     * headroom: 5 (4 without it) */
    sc.inv = 2400;
    ttm_evaluate(t, at(minute), 1, inputs);
    struct ttm_bp_status st;
    ttm_get_blueprint(t, 0, &st);
    assert_int_equal(st.resolved, 12);
    assert_true(st.confidence >= 0.7);
    assert_float_equal(st.recommendation.demand_headroom, 60, 1e-3);
    assert_int_equal(st.recommendation.type, FCST_SCALE_UP);
    assert_int_equal(st.recommendation.target_instances, 5);
    assert_int_equal(adts[0].floor, 5);
    assert_float_equal(input_named(ttm_last_decision(t, 0), "demand_headroom"), 60, 1e-3);
    agg_free(empty);
}

static void confidence_earned_from_resolved_forecasts(void **state)
{
    (void)state;
    sc.info.val_wape = -1;
    assert_int_equal(ttm_set_predictor(t, &pred, err, sizeof err), 0);
    add_minutes(0, 0, W);
    agg *empty = NULL;
    assert_int_equal(agg_open(&empty, NULL, 0), 0); /* the other two blueprints have no history */
    inputs[1].history = empty;
    inputs[2].history = empty;
    /* the model predicts exactly what then happens: after 10 resolved, confidence 1 */
    int minute = W;
    for (int k = 0; k < 10; k++) {
        ttm_evaluate(t, at(minute), 1, inputs);
        add_minutes(0, minute, minute + 1);
        minute++;
    }
    struct ttm_bp_status st;
    ttm_get_blueprint(t, 0, &st);
    assert_int_equal(st.resolved, 9); /* the 10th forecast's minute is fed next evaluation */
    assert_float_equal(st.confidence, 0, 0);
    sc.inv = 3600; /* now a rise, acted on because the record is good */
    ttm_evaluate(t, at(minute), 1, inputs);
    ttm_get_blueprint(t, 0, &st);
    assert_int_equal(st.resolved, 10);
    assert_float_equal(st.confidence, 1, 1e-9);
    assert_int_equal(st.recommendation.type, FCST_SCALE_UP);
    assert_int_equal(bp_state(1), TTM_BP_WAITING_FOR_HISTORY);
    agg_free(empty);
}

static void forecast_only_records(void **state)
{
    (void)state;
    ttm_free(t);
    tcfg.mode = CFG_TTM_FORECAST_ONLY;
    assert_int_equal(ttm_open(&tcfg, &ctl, bps, NBP, &t, err, sizeof err), 0);
    assert_int_equal(ttm_set_predictor(t, &pred, err, sizeof err), 0);
    for (int b = 0; b < NBP; b++)
        add_minutes(b, 0, W);
    sc.inv = 3600;
    ttm_evaluate(t, at(W), 1, inputs);
    assert_false(adts[0].has_rec);
    assert_int_equal(adts[0].floor, 0);
    assert_true(adts[0].has_last_rec);
    assert_int_equal(adts[0].last_rec.type, FCST_SCALE_UP);
    const struct ae_decision *d = ttm_last_decision(t, 0);
    assert_non_null(d);
    assert_int_equal(strncmp(d->reason, "forecast-only: ", 15), 0);
    struct ttm_counters c;
    ttm_get_counters(t, &c);
    assert_int_equal(c.recommendations[FCST_SCALE_UP], 3);
}

static struct ae_minute rising_minute(int i)
{
    struct ae_minute m;
    ae_minute_init(&m, T0 + i * MIN);
    m.values[AE_F_CPU_USAGE] = 0.5;
    m.values[AE_F_INVOCATIONS] = 1000 + 100 * i;
    m.missing &= ~(AE_FEATURE_BIT(AE_F_CPU_USAGE) | AE_FEATURE_BIT(AE_F_INVOCATIONS));
    m.ready_mean = 2;
    m.snapshots = 60;
    return m;
}

/* ttm.forecaster = drift: no predictor needed, the forecast comes from the blueprint's own
 * forecaster (fed the aggregator's minutes and the preloaded older ones), cpu follows the
 * invocations at the newest minute's cost, and the same analysis path runs. */
static void series_forecaster_drives_the_same_path(void **state)
{
    (void)state;
    struct cfg_ttm c = tcfg;
    c.forecaster = FCR_DRIFT;
    c.prediction_horizon = 2;
    c.model_path[0] = 0; /* no model needed */
    for (int preload = 0; preload <= 1; preload++) {
        ttm *d = NULL;
        assert_int_equal(ttm_open(&c, &ctl, bps, 1, &d, err, sizeof err), 0);
        assert_non_null(d);
        agg *h = NULL;
        assert_int_equal(agg_open(&h, NULL, 0), 0);
        struct adt a;
        adt_init(&a, T0);
        struct ttm_bp_input in = {h, 2, 2, &a};
        for (int i = 0; i < 8; i++) {
            struct ae_minute m = rising_minute(i);
            if (i >= 4)
                assert_int_equal(agg_preload(h, &m), 0);
            else if (preload)
                assert_int_equal(ttm_preload(d, 0, &m), 0);
        }
        assert_int_equal(ttm_evaluate(d, at(8), 1, &in), TTM_RUNNING);
        struct ttm_bp_status st;
        assert_int_equal(ttm_get_blueprint(d, 0, &st), 0);
        assert_int_equal(st.state, TTM_BP_FORECASTING);
        assert_non_null(st.forecast);
        /* drift over 5 minutes: 1700 + h x (1700 - 1200) / 5; without minute 2 (not preloaded)
         * it is persistence */
        double f1 = preload ? 1800 : 1700, f2 = preload ? 1900 : 1700;
        assert_float_equal(st.forecast[AE_F_INVOCATIONS], f1, 1e-3);
        assert_float_equal(st.forecast[AE_FEATURE_COUNT + AE_F_INVOCATIONS], f2, 1e-3);
        assert_float_equal(st.forecast[AE_F_CPU_USAGE], 0.5 * f1 / 1700, 1e-6);
        assert_float_equal(st.forecast[AE_FEATURE_COUNT + AE_F_CPU_USAGE], 0.5 * f2 / 1700, 1e-6);
        assert_int_equal(sc.calls, 0);
        struct ttm_counters n;
        ttm_get_counters(d, &n);
        assert_int_equal(n.predictions, 1);
        assert_true(a.has_rec);
        assert_int_equal(ttm_preload(d, 1, &(struct ae_minute){0}), AE_EINVAL);
        ttm_free(d);
        agg_free(h);
    }
}

/* ttm.forecaster = periodic (after auto in the table: not one of its candidates) drives a
 * blueprint on its own: 120 minutes with a spike every 15 (minute i % 15 == 1), 112 of them
 * preloaded; the forecast made in minute 120 has the spike of minute 121 at step 2, where
 * persistence would repeat minute 119's level. */
static void periodic_forecaster_drives_a_blueprint(void **state)
{
    (void)state;
    struct cfg_ttm c = tcfg;
    c.forecaster = FCR_PERIODIC;
    c.prediction_horizon = 3;
    c.model_path[0] = 0;
    ttm *d = NULL;
    assert_int_equal(ttm_open(&c, &ctl, bps, 1, &d, err, sizeof err), 0);
    agg *h = NULL;
    assert_int_equal(agg_open(&h, NULL, 0), 0);
    struct adt a;
    adt_init(&a, T0);
    struct ttm_bp_input in = {h, 2, 2, &a};
    for (int i = 0; i < 120; i++) {
        struct ae_minute m;
        ae_minute_init(&m, T0 + i * MIN);
        m.values[AE_F_INVOCATIONS] = i % 15 == 1 ? 2000 : 200;
        m.values[AE_F_CPU_USAGE] = m.values[AE_F_INVOCATIONS] / 4000;
        m.missing &= ~(AE_FEATURE_BIT(AE_F_CPU_USAGE) | AE_FEATURE_BIT(AE_F_INVOCATIONS));
        m.ready_mean = 2;
        m.snapshots = 60;
        if (i < 112)
            assert_int_equal(ttm_preload(d, 0, &m), 0);
        else
            assert_int_equal(agg_preload(h, &m), 0);
    }
    assert_int_equal(ttm_evaluate(d, at(120), 1, &in), TTM_RUNNING);
    struct ttm_bp_status st;
    assert_int_equal(ttm_get_blueprint(d, 0, &st), 0);
    assert_int_equal(st.state, TTM_BP_FORECASTING);
    assert_int_equal(st.forecaster, FCR_PERIODIC);
    assert_null(st.selection);
    assert_float_equal(st.forecast[AE_F_INVOCATIONS], 200, 1e-3);                        /* 120 */
    assert_float_equal(st.forecast[AE_FEATURE_COUNT + AE_F_INVOCATIONS], 2000, 1e-3);    /* 121 */
    assert_float_equal(st.forecast[2 * AE_FEATURE_COUNT + AE_F_INVOCATIONS], 200, 1e-3); /* 122 */
    assert_float_equal(st.forecast[AE_FEATURE_COUNT + AE_F_CPU_USAGE], 0.5, 1e-6);
    assert_int_equal(sc.calls, 0);
    ttm_free(d);
    agg_free(h);
}

/* ttm.forecaster = auto: a blueprint forecasts from its first closed minute (the simple
 * candidates, persistence until they are scored), the model joins once it has W/2 minutes, and
 * every candidate is recorded for scoring; the status says who drives and why. */
static void auto_forecasts_from_the_first_minute(void **state)
{
    (void)state;
    struct cfg_ttm c = tcfg;
    c.forecaster = FCR_AUTO;
    ttm *d = NULL;
    assert_int_equal(ttm_open(&c, &ctl, bps, 1, &d, err, sizeof err), 0);
    assert_non_null(d);
    assert_int_equal(ttm_set_predictor(d, &pred, err, sizeof err), 0);
    agg *h = NULL;
    assert_int_equal(agg_open(&h, NULL, 0), 0);
    struct adt a;
    adt_init(&a, T0);
    struct ttm_bp_input in = {h, 2, 2, &a};
    assert_int_equal(ttm_evaluate(d, at(0), 1, &in), TTM_RUNNING);
    struct ttm_bp_status st;
    ttm_get_blueprint(d, 0, &st);
    assert_int_equal(st.state, TTM_BP_WAITING_FOR_HISTORY); /* nothing closed yet */
    struct ae_minute m = rising_minute(0);
    assert_int_equal(agg_preload(h, &m), 0);
    assert_int_equal(ttm_evaluate(d, at(1), 1, &in), TTM_RUNNING);
    ttm_get_blueprint(d, 0, &st);
    assert_int_equal(st.state, TTM_BP_FORECASTING); /* one minute: W/2 = 4 for the model */
    assert_int_equal(sc.calls, 0);
    assert_int_equal(st.forecaster, FCR_PERSISTENCE);
    assert_non_null(st.selection);
    assert_non_null(strstr(st.selection->why, "cold start"));
    assert_float_equal(st.forecast[AE_F_INVOCATIONS], 1000, 1e-3);
    assert_true(a.has_rec);
    for (int i = 1; i < 7; i++) {
        m = rising_minute(i);
        assert_int_equal(agg_preload(h, &m), 0);
        ttm_evaluate(d, at(i + 1), 1, &in);
    }
    assert_int_equal(sc.calls, 4); /* the model ran from W/2 = 4 minutes on: minutes 4..7 */
    ttm_get_blueprint(d, 0, &st);
    /* step 1 of the forecasts made in minutes 1..6 resolved on the ramp of 100 per minute:
     * persistence is 100 off each time; drift is persistence until minute 6, which has the
     * minute 5 minutes earlier and is exact: 500 / 600; the model (1200 flat, from minute 4)
     * misses 1400, 1500, 1600 by 200 + 300 + 400 against persistence's 300 */
    int n;
    assert_float_equal(sel_error(st.selection, FCR_PERSISTENCE, 1, &n), 1, 1e-9);
    assert_int_equal(n, 6);
    assert_float_equal(sel_error(st.selection, FCR_DRIFT, 1, &n), 500.0 / 600, 1e-9);
    assert_float_equal(sel_error(st.selection, FCR_MODEL, 1, &n), 3, 1e-9);
    assert_int_equal(n, 3);
    assert_int_equal(st.forecaster, FCR_PERSISTENCE); /* nothing scored yet (10 minutes) */
    ttm_free(d);
    agg_free(h);
}

/* A manager of blueprint 0 alone with the given scale-in window and forecast ceiling, its
 * history holding minutes 0..W-1. */
static ttm *open_with_window(int window, int ceiling)
{
    struct cfg_ttm c = tcfg;
    c.scale_in_window_minutes = window;
    c.forecast_ceiling = ceiling;
    ttm *d = NULL;
    assert_int_equal(ttm_open(&c, &ctl, bps, 1, &d, err, sizeof err), 0);
    assert_non_null(d);
    assert_int_equal(ttm_set_predictor(d, &pred, err, sizeof err), 0);
    add_minutes(0, 0, W);
    return d;
}

/* Bounded churn: a forecast raises the held count at once and lowers it only when every target
 * of the last ttm.scale_in_window_minutes is lower; floor only (no ceiling) leaves scale-in to
 * tier 1. The peak forecast at minute W comes (3600 requests in minute W), so it is held. */
static void scale_in_waits_for_the_window(void **state)
{
    (void)state;
    for (int ceiling = 1; ceiling >= 0; ceiling--) {
        ttm *d = open_with_window(3, ceiling);
        struct ttm_bp_input in = {hist[0], 2, 2, &adts[0]};
        sc.inv = 3600; /* F = 4 (see recommendations_counted_and_applied) */
        ttm_evaluate(d, at(W), 1, &in);
        assert_int_equal(adts[0].floor, 4);
        assert_int_equal(adts[0].ceiling, ceiling ? 4 : 0);
        in.requested = 4;
        add_load(0, W, W + 1, 3600);
        sc.inv = 600; /* F = 1 from now on */
        for (int k = 1; k <= 3; k++) {
            if (k > 1)
                add_load(0, W + k - 1, W + k, 600);
            ttm_evaluate(d, at(W + k), 1, &in);
            struct ttm_bp_status st;
            ttm_get_blueprint(d, 0, &st);
            int f = st.recommendation.target_instances; /* 1, or 2 with the headroom */
            assert_true(f < 4);
            int held = k < 3 ? 4 : f; /* minute W is in the window of W + 1 and W + 2 */
            assert_int_equal(adts[0].floor, held);
            assert_int_equal(adts[0].ceiling, ceiling ? held : 0);
            if (k < 3) {
                assert_int_equal(st.recommendation.type, FCST_HOLD);
                assert_non_null(strstr(st.recommendation.text, "scale-in held"));
            } else if (!ceiling) {
                assert_int_equal(st.recommendation.type, FCST_HOLD);
                assert_non_null(strstr(st.recommendation.text, "floor only"));
            } else {
                assert_int_equal(st.recommendation.type, FCST_SCALE_DOWN);
            }
        }
        ttm_free(d);
        agg_free(hist[0]);
        assert_int_equal(agg_open(&hist[0], NULL, 0), 0);
    }
}

/* A forecast peak that does not come stops holding the fleet once its minutes have closed: the
 * target of minute W (3600 forecast, F = 4) becomes the fleet for the 1200 requests that came,
 * 1200 x 0.05 / 60 = 1 core: ceil(1 / 0.9) = 2 (no shortfall, so no headroom), and the window
 * holds 2, not 4, while this minute's forecast of 600 needs 1. With no request metrics in those
 * minutes the target is held as it is. */
static void scale_in_holds_only_peaks_that_came(void **state)
{
    (void)state;
    for (int with_requests = 1; with_requests >= 0; with_requests--) {
        ttm *d = open_with_window(10, 1);
        struct ttm_bp_input in = {hist[0], 2, 2, &adts[0]};
        sc.inv = 3600;
        ttm_evaluate(d, at(W), 1, &in);
        assert_int_equal(adts[0].floor, 4);
        in.requested = 4;
        if (with_requests) {
            add_minutes(0, W, W + 1); /* 1200 came, not 3600 */
        } else {
            struct ae_minute m;
            ae_minute_init(&m, T0 + W * MIN);
            m.values[AE_F_CPU_USAGE] = 0.5;
            m.missing &= ~AE_FEATURE_BIT(AE_F_CPU_USAGE);
            m.ready_mean = 2;
            m.snapshots = 60;
            assert_int_equal(agg_preload(hist[0], &m), 0);
        }
        sc.inv = 600;
        ttm_evaluate(d, at(W + 1), 1, &in);
        struct ttm_bp_status st;
        ttm_get_blueprint(d, 0, &st);
        assert_int_equal(st.recommendation.target_instances, 1);
        assert_int_equal(adts[0].floor, with_requests ? 2 : 4);
        assert_int_equal(adts[0].ceiling, with_requests ? 2 : 4);
        assert_int_equal(st.recommendation.type, with_requests ? FCST_SCALE_DOWN : FCST_HOLD);
        ttm_free(d);
        agg_free(hist[0]);
        assert_int_equal(agg_open(&hist[0], NULL, 0), 0);
    }
}

/* The ceiling never undoes tier 1's scale-up: a count raised above the last ceiling is held as
 * the ceiling for the window (the floor stays the forecast's), then the forecast scales in. */
static void tier1_scale_up_is_held_as_the_ceiling(void **state)
{
    (void)state;
    ttm *d = open_with_window(3, 1);
    struct ttm_bp_input in = {hist[0], 2, 2, &adts[0]};
    sc.inv = 3600; /* F = 4 throughout */
    ttm_evaluate(d, at(W), 1, &in);
    assert_int_equal(adts[0].ceiling, 4);
    in.requested = 6; /* tier 1 added two instances after that evaluation */
    for (int k = 1; k <= 4; k++) {
        add_minutes(0, W + k - 1, W + k);
        ttm_evaluate(d, at(W + k), 1, &in);
        struct ttm_bp_status st;
        ttm_get_blueprint(d, 0, &st);
        assert_int_equal(st.recommendation.target_instances, 4);
        assert_int_equal(adts[0].floor, 4);
        /* raised in minute W + 1: in the window of W + 1 .. W + 3 */
        assert_int_equal(adts[0].ceiling, k <= 3 ? 6 : 4);
        if (k <= 3) {
            assert_int_equal(st.recommendation.type, FCST_HOLD);
            assert_non_null(strstr(st.recommendation.text, "tier 1 raised to 6"));
        } else {
            assert_int_equal(st.recommendation.type, FCST_SCALE_DOWN);
        }
    }
    ttm_free(d);
}

/* auto after a restart: minutes preloaded into the forecasters score the simple candidates as
 * they go (each forecast from the minutes before it), so the first evaluation can already
 * choose by score. */
static void auto_scores_preloaded_minutes(void **state)
{
    (void)state;
    struct cfg_ttm c = tcfg;
    c.forecaster = FCR_AUTO;
    ttm *d = NULL;
    assert_int_equal(ttm_open(&c, &ctl, bps, 1, &d, err, sizeof err), 0);
    assert_non_null(d);
    agg *h = NULL;
    assert_int_equal(agg_open(&h, NULL, 0), 0);
    struct adt a;
    adt_init(&a, T0);
    struct ttm_bp_input in = {h, 2, 2, &a};
    for (int i = 0; i < 30; i++) { /* 1000 + 100 i: persistence is 100 off at step 1 */
        struct ae_minute m = rising_minute(i);
        assert_int_equal(ttm_preload(d, 0, &m), 0);
        if (i >= 28)
            assert_int_equal(agg_preload(h, &m), 0);
    }
    assert_int_equal(ttm_evaluate(d, at(30), 1, &in), TTM_RUNNING);
    struct ttm_bp_status st;
    ttm_get_blueprint(d, 0, &st);
    int n;
    assert_float_equal(sel_error(st.selection, FCR_PERSISTENCE, 1, &n), 1, 1e-9);
    assert_int_equal(n, 29); /* minutes 1..29, each against the one before */
    /* drift is exact from minute 6 on (5 minutes of slope): 5 of 29 minutes off by 100 */
    assert_float_equal(sel_error(st.selection, FCR_DRIFT, 1, &n), 5.0 / 29, 1e-9);
    assert_true(st.forecaster != FCR_PERSISTENCE);
    assert_int_equal(st.selection->switches, 1);
    ttm_free(d);
    agg_free(h);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
int main(void)
{
    const struct CMUnitTest tests[] = {
        T(stopped_when_disabled_not_leader_or_no_model),
        T(state_before_the_first_evaluation),
        T(predictor_must_match_config),
        T(cold_start_at_half_window_and_one_batch),
        T(batch_split_by_max_batch),
        T(inference_failure_is_error_then_recovers),
        T(pending_evaluation_keeps_what_is_in_force),
        T(non_finite_output_is_a_blueprint_error),
        T(recommendations_counted_and_applied),
        T(low_confidence_holds),
        T(shortfalls_add_headroom),
        T(confidence_earned_from_resolved_forecasts),
        T(forecast_only_records),
        T(series_forecaster_drives_the_same_path),
        T(periodic_forecaster_drives_a_blueprint),
        T(auto_forecasts_from_the_first_minute),
        T(auto_scores_preloaded_minutes),
        T(scale_in_waits_for_the_window),
        T(scale_in_holds_only_peaks_that_came),
        T(tier1_scale_up_is_held_as_the_ceiling),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
