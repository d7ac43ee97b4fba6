/* The reactive and TTM controllers: the core's own control step (scaler.h), driven exactly as the
 * node drives it: one scl_step() every simulated second, which runs tier 1 through the adaptive
 * decision tree and the TTM manager on its schedule, with a real model through the ONNX engine.
 * The reactive controller is the same step with TTM disabled, as in a node without [ttm]. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aether/error.h"
#include "aether/nn.h"
#include "aether/scaler.h"
#include "controllers.h"
#include "sim.h"

struct core_ctl {
    struct sim_controller base;
    struct cfg_controller ctl;
    struct cfg_ttm ttm_cfg;
    struct cfg_blueprint bp;
    scl *step; /* one blueprint: bp */
    int started;
    ae_predictor *predictor;
    struct sim_fcst_log log;     /* the forecasts' invocations, for scoring */
    long forecasts_seen;         /* the state's forecast count at the previous second */
    long driven[FCR_KIND_COUNT]; /* forecasts made by each forecaster */
    /* How the forecasts were used: holds for low confidence, and seconds during which a floor or
     * a ceiling was in force (reported as extras). */
    long low_confidence;
    long floor_s, ceiling_s;
    /* The core's counters when the warm-up ended: the report counts from there. */
    struct ttm_counters at_count_start;
    long switches_at_count_start;
};

static int core_desired(struct sim_controller *c, const struct sim_view *v, int *out, char *err,
                        size_t errlen)
{
    struct core_ctl *k = c->state;
    (void)err;
    (void)errlen;
    if (!k->started) {
        scl_start(k->step, v->now_ms);
        k->started = 1;
    }
    /* The blueprint's bounds and count are the simulator's (the step reads the config it
     * borrows from k->bp). */
    k->bp.min_instances = v->min_instances;
    k->bp.max_instances = v->max_instances;
    struct scl_bp *b = scl_bp(k->step, 0);
    b->requested = v->requested;
    struct scl_input in = {.history = v->history, .snapshot = v->snapshot, .ready = v->ready};
    struct scl_output o;
    scl_step(k->step, v->now_ms, &in, &o);
    if (b->forecast.count != k->forecasts_seen) {
        k->forecasts_seen = b->forecast.count;
        double inv[SIM_MAX_STEPS];
        int len = b->forecast.horizon < SIM_MAX_STEPS ? b->forecast.horizon : SIM_MAX_STEPS;
        for (int h = 0; h < len; h++)
            inv[h] = b->forecast.values[h * AE_FEATURE_COUNT + AE_F_INVOCATIONS];
        /* row 0 = the minute of the evaluation, step 1 after the minute that just closed */
        sim_fcst_log_add(&k->log, ae_minute_floor(b->forecast.made_ms), inv, len);
        struct ttm_bp_status st;
        if (ttm_get_blueprint(scl_ttm(k->step), 0, &st) == 0 && st.forecaster >= 0 &&
            st.forecaster < FCR_KIND_COUNT)
            k->driven[st.forecaster]++;
        if (b->forecast.recommendation.reason == FCST_REASON_LOW_CONFIDENCE)
            k->low_confidence++;
    }
    *out = o.desired;
    if (b->controller.has_rec) {
        k->floor_s += b->controller.floor > 0;
        k->ceiling_s += b->controller.ceiling > 0;
    }
    return 0;
}

static int core_forecast(struct sim_controller *c, int64_t minute_ms, int step, double *out)
{
    struct core_ctl *k = c->state;
    return sim_fcst_log_get(&k->log, minute_ms, step, out);
}

static void core_preload(struct sim_controller *c, const struct ae_minute *m)
{
    struct core_ctl *k = c->state;
    if (m)
        ttm_preload(scl_ttm(k->step), 0, m);
    else
        ttm_preload_end(scl_ttm(k->step), 0);
}

/* The end of the warm-up: the forecasts driven, the holds and the core's counters so far are
 * left out of the report. */
static void core_count_start(struct sim_controller *c)
{
    struct core_ctl *k = c->state;
    memset(k->driven, 0, sizeof k->driven);
    k->low_confidence = k->floor_s = k->ceiling_s = 0;
    const ttm *t = scl_ttm(k->step);
    ttm_get_counters(t, &k->at_count_start);
    struct ttm_bp_status st;
    k->switches_at_count_start =
        ttm_get_blueprint(t, 0, &st) == 0 && st.selection ? st.selection->switches : 0;
}

static void core_report(struct sim_controller *c, struct sim_result *r)
{
    struct core_ctl *k = c->state;
    const ttm *t = scl_ttm(k->step);
    struct ttm_counters n;
    ttm_get_counters(t, &n);
    const struct ttm_counters *n0 = &k->at_count_start;
    n.predictions -= n0->predictions;
    n.failures -= n0->failures;
    for (int i = 0; i < FCST_TYPE_COUNT; i++)
        n.recommendations[i] -= n0->recommendations[i];
    sim_result_extra(r, "predictions", (double)n.predictions);
    sim_result_extra(r, "rec_scale_up", (double)n.recommendations[FCST_SCALE_UP]);
    sim_result_extra(r, "rec_scale_down", (double)n.recommendations[FCST_SCALE_DOWN]);
    sim_result_extra(r, "rec_hold", (double)n.recommendations[FCST_HOLD]);
    sim_result_extra(r, "inference_failures", (double)n.failures);
    sim_result_extra(r, "holds_low_confidence", (double)k->low_confidence);
    sim_result_extra(r, "floor_minutes", k->floor_s / 60.0);
    sim_result_extra(r, "ceiling_minutes", k->ceiling_s / 60.0);
    /* the tunables the run had, so that a report can say what it measured */
    sim_result_extra(r, "cpu_scale_up_threshold", k->ctl.cpu_scale_up_threshold);
    sim_result_extra(r, "upper_bound_utilization", k->ttm_cfg.upper_bound_utilization);
    sim_result_extra(r, "headroom_quantile", k->ttm_cfg.headroom_quantile);
    sim_result_extra(r, "confidence_threshold", k->ttm_cfg.confidence_threshold);
    sim_result_extra(r, "scale_in_window_minutes", k->ttm_cfg.scale_in_window_minutes);
    sim_result_extra(r, "forecast_ceiling", k->ttm_cfg.forecast_ceiling);
    struct ttm_bp_status st;
    if (ttm_get_blueprint(t, 0, &st) == 0) {
        sim_result_extra(r, "final_confidence", st.confidence);
        sim_result_extra(r, "final_skill", st.skill);
        if (st.selection) {
            sim_result_extra(r, "forecaster_switches",
                             (double)(st.selection->switches - k->switches_at_count_start));
            sim_result_extra(r, "selection_score", st.selection->p.score);
            static const char *const share[] = {"driven_model",        "driven_persistence",
                                                "driven_drift",        "driven_seasonal_naive",
                                                "driven_holt_winters", "driven_linear"};
            _Static_assert(sizeof share / sizeof *share == SEL_CANDIDATES, "one per candidate");
            for (int c = 0; c < SEL_CANDIDATES; c++)
                sim_result_extra(r, share[c],
                                 n.predictions ? (double)k->driven[c] / (double)n.predictions : 0);
            static const char *const score[] = {"score_model",        "score_persistence",
                                                "score_drift",        "score_seasonal_naive",
                                                "score_holt_winters", "score_linear"};
            _Static_assert(sizeof score / sizeof *score == SEL_CANDIDATES, "one per candidate");
            for (int c = 0; c < SEL_CANDIDATES; c++)
                sim_result_extra(r, score[c], sel_score(st.selection, c));
        }
    }
}

static void core_free(struct sim_controller *c)
{
    struct core_ctl *k = c->state;
    scl_free(k->step);
    ae_predictor_close(k->predictor);
    free(k);
}

/* A controller of one blueprint named "sim" with TTM disabled ([ttm] defaults); the caller may
 * change ttm_cfg before core_open_step. */
static struct core_ctl *core_alloc(const struct cfg_controller *ctl, const char *name, char *err,
                                   size_t errlen)
{
    struct core_ctl *k = calloc(1, sizeof *k);
    if (!k) {
        snprintf(err, errlen, "%s controller: out of memory", name);
        return NULL;
    }
    k->ctl = *ctl;
    cfg_ttm_defaults(&k->ttm_cfg);
    cfg_blueprint_defaults(&k->bp);
    snprintf(k->bp.name, sizeof k->bp.name, "sim");
    k->base.name = name;
    k->base.state = k;
    k->base.desired = core_desired;
    k->base.count_start = core_count_start;
    k->base.free = core_free;
    return k;
}

int sim_ctl_reactive_open(const struct cfg_controller *ctl, struct sim_controller **out, char *err,
                          size_t errlen)
{
    *out = NULL;
    struct core_ctl *k = core_alloc(ctl, "reactive", err, errlen);
    if (!k)
        return AE_ENOMEM;
    int rc = scl_open(&k->ttm_cfg, &k->ctl, &k->bp, 1, &k->step, err, errlen);
    if (rc) {
        core_free(&k->base);
        return rc;
    }
    scl_skip_records(k->step);
    *out = &k->base;
    return 0;
}

/* The model's window and horizon, from its metadata (aether.window / aether.horizon), else from
 * the declared shapes of its input and output. */
static int model_shape(const char *path, int *window, int *horizon, char *err, size_t errlen)
{
    nn_model *m;
    int rc = nn_model_load_file(path, &m, err, errlen);
    if (rc)
        return rc;
    const char *w = nn_model_metadata(m, "aether.window");
    const char *h = nn_model_metadata(m, "aether.horizon");
    *window = w ? atoi(w) : 0;
    *horizon = h ? atoi(h) : 0;
    struct nn_tensor_info info;
    if (*window <= 0 && nn_model_input_info(m, 0, &info) == 0 && info.rank == 3)
        *window = (int)info.dims[1];
    if (*horizon <= 0 && nn_model_output_info(m, 0, &info) == 0 && info.rank == 3)
        *horizon = (int)info.dims[1];
    nn_model_free(m);
    if (*window <= 0 || *horizon <= 0) {
        snprintf(err, errlen, "model %s: cannot tell its window and horizon", path);
        return AE_ESHAPE;
    }
    return 0;
}

int sim_ctl_ttm_open(const struct cfg_controller *ctl, const struct cfg_ttm *ttm,
                     const char *model_path, int horizon_default, int min_instances,
                     int max_instances, struct sim_controller **out, char *err, size_t errlen)
{
    *out = NULL;
    const char *name = ttm->mode == CFG_TTM_FORECAST_ONLY ? "ttm-forecast-only" : "ttm";
    struct core_ctl *k = core_alloc(ctl, name, err, errlen);
    if (!k)
        return AE_ENOMEM;
    int rc;
    k->ttm_cfg = *ttm;
    k->ttm_cfg.enabled = 1;
    int window = k->ttm_cfg.input_window_minutes, horizon = horizon_default;
    if (model_path && (rc = model_shape(model_path, &window, &horizon, err, errlen)) != 0)
        goto fail;
    k->ttm_cfg.input_window_minutes = window;
    k->ttm_cfg.prediction_horizon = horizon;
    snprintf(k->ttm_cfg.model_path, sizeof k->ttm_cfg.model_path, "%s",
             model_path ? model_path : "");
    if ((rc = cfg_ttm_validate(&k->ttm_cfg, err, errlen)) != 0)
        goto fail;
    k->bp.min_instances = min_instances;
    k->bp.max_instances = max_instances;
    k->bp.instances = min_instances;
    if (model_path && (k->ttm_cfg.forecaster == FCR_MODEL || k->ttm_cfg.forecaster == FCR_AUTO)) {
        rc = nn_predictor_open(model_path, window, horizon, 1, &k->predictor, err, errlen);
        if (rc)
            goto fail;
    }
    if ((rc = scl_open(&k->ttm_cfg, &k->ctl, &k->bp, 1, &k->step, err, errlen)) != 0 ||
        (k->predictor &&
         (rc = ttm_set_predictor(scl_ttm(k->step), k->predictor, err, errlen)) != 0))
        goto fail;
    scl_skip_records(k->step);
    k->base.forecast = core_forecast;
    k->base.preload = core_preload;
    k->base.report = core_report;
    *out = &k->base;
    return 0;
fail:
    core_free(&k->base);
    return rc;
}
