/* The reactive and TTM controllers: the core's own adaptive decision tree and TTM manager,
 * driven exactly as the node drives them (tier 1 every simulated second; the TTM manager every
 * evaluation_interval_ms of simulated time, with a real model through the ONNX engine). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aether/adaptive.h"
#include "aether/error.h"
#include "aether/nn.h"
#include "aether/ttm.h"
#include "controllers.h"
#include "sim.h"

struct core_ctl {
    struct sim_controller base;
    struct cfg_controller ctl;
    struct cfg_ttm ttm_cfg;
    struct cfg_blueprint bp;
    struct adt adt;
    int started;
    ttm *ttm;
    ae_predictor *predictor;
    int64_t next_eval_ms;
    struct sim_fcst_log log; /* the forecasts' invocations, for scoring */
    /* How the forecasts were used: holds for low confidence, and seconds during which a floor or
     * a ceiling was in force (reported as extras). */
    long low_confidence;
    long floor_s, ceiling_s;
};

static int core_desired(struct sim_controller *c, const struct sim_view *v, int *out, char *err,
                        size_t errlen)
{
    struct core_ctl *k = c->state;
    (void)err;
    (void)errlen;
    if (!k->started) {
        adt_init(&k->adt, v->now_ms);
        k->next_eval_ms = v->now_ms + k->ttm_cfg.evaluation_interval_ms;
        k->started = 1;
    }
    if (k->ttm) {
        if (v->resumed && k->next_eval_ms < v->now_ms)
            k->next_eval_ms = v->now_ms;
        if (v->now_ms >= k->next_eval_ms) {
            struct ttm_bp_input in = {.history = v->history,
                                      .ready = v->ready,
                                      .requested = v->requested,
                                      .controller = &k->adt};
            struct ttm_counters before, after;
            ttm_get_counters(k->ttm, &before);
            ttm_evaluate(k->ttm, v->now_ms, 1, &in);
            ttm_get_counters(k->ttm, &after);
            while (k->next_eval_ms <= v->now_ms)
                k->next_eval_ms += k->ttm_cfg.evaluation_interval_ms;
            struct ttm_bp_status st;
            if (after.predictions > before.predictions && ttm_get_blueprint(k->ttm, 0, &st) == 0 &&
                st.has_forecast && st.forecast) {
                double inv[SIM_MAX_STEPS];
                int len = st.horizon < SIM_MAX_STEPS ? st.horizon : SIM_MAX_STEPS;
                for (int h = 0; h < len; h++)
                    inv[h] = st.forecast[h * AE_FEATURE_COUNT + AE_F_INVOCATIONS];
                /* row 0 = this minute, step 1 after the minute that just closed */
                sim_fcst_log_add(&k->log, ae_minute_floor(v->now_ms), inv, len);
                if (st.recommendation.reason == FCST_REASON_LOW_CONFIDENCE)
                    k->low_confidence++;
            }
        }
    }
    struct tree_input in;
    memset(&in, 0, sizeof in);
    tree_input_from_snapshot(&in, v->snapshot);
    in.ready = v->ready;
    in.requested = v->requested;
    in.min_instances = v->min_instances;
    in.max_instances = v->max_instances;
    *out = adt_decide(&k->adt, &k->ctl, k->ttm_cfg.evaluation_interval_ms, &in, v->now_ms, NULL);
    if (k->adt.has_rec) {
        k->floor_s += k->adt.floor > 0;
        k->ceiling_s += k->adt.ceiling > 0;
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
    if (k->ttm)
        ttm_preload(k->ttm, 0, m);
}

static void core_report(struct sim_controller *c, struct sim_result *r)
{
    struct core_ctl *k = c->state;
    if (!k->ttm)
        return;
    struct ttm_counters n;
    ttm_get_counters(k->ttm, &n);
    sim_result_extra(r, "predictions", (double)n.predictions);
    sim_result_extra(r, "rec_scale_up", (double)n.recommendations[FCST_SCALE_UP]);
    sim_result_extra(r, "rec_scale_down", (double)n.recommendations[FCST_SCALE_DOWN]);
    sim_result_extra(r, "rec_hold", (double)n.recommendations[FCST_HOLD]);
    sim_result_extra(r, "inference_failures", (double)n.failures);
    sim_result_extra(r, "holds_low_confidence", (double)k->low_confidence);
    sim_result_extra(r, "floor_minutes", k->floor_s / 60.0);
    sim_result_extra(r, "ceiling_minutes", k->ceiling_s / 60.0);
    struct ttm_bp_status st;
    if (ttm_get_blueprint(k->ttm, 0, &st) == 0) {
        sim_result_extra(r, "final_confidence", st.confidence);
        sim_result_extra(r, "final_skill", st.skill);
    }
}

static void core_free(struct sim_controller *c)
{
    struct core_ctl *k = c->state;
    ttm_free(k->ttm);
    ae_predictor_close(k->predictor);
    free(k);
}

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
    k->base.name = name;
    k->base.state = k;
    k->base.desired = core_desired;
    k->base.free = core_free;
    return k;
}

struct sim_controller *sim_ctl_reactive_new(const struct cfg_controller *ctl, char *err,
                                            size_t errlen)
{
    struct core_ctl *k = core_alloc(ctl, "reactive", err, errlen);
    return k ? &k->base : NULL;
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

struct sim_controller *sim_ctl_ttm_new(const struct cfg_controller *ctl, const struct cfg_ttm *ttm,
                                       const char *model_path, int horizon_default,
                                       int min_instances, int max_instances, char *err,
                                       size_t errlen)
{
    const char *name = ttm->mode == CFG_TTM_FORECAST_ONLY ? "ttm-forecast-only" : "ttm";
    struct core_ctl *k = core_alloc(ctl, name, err, errlen);
    if (!k)
        return NULL;
    k->ttm_cfg = *ttm;
    k->ttm_cfg.enabled = 1;
    int window = k->ttm_cfg.input_window_minutes, horizon = horizon_default;
    if (model_path && model_shape(model_path, &window, &horizon, err, errlen))
        goto fail;
    k->ttm_cfg.input_window_minutes = window;
    k->ttm_cfg.prediction_horizon = horizon;
    snprintf(k->ttm_cfg.model_path, sizeof k->ttm_cfg.model_path, "%s",
             model_path ? model_path : "");
    if (cfg_ttm_validate(&k->ttm_cfg, err, errlen))
        goto fail;
    cfg_blueprint_defaults(&k->bp);
    snprintf(k->bp.name, sizeof k->bp.name, "sim");
    k->bp.min_instances = min_instances;
    k->bp.max_instances = max_instances;
    k->bp.instances = min_instances;
    if (k->ttm_cfg.forecaster == FCR_MODEL) {
        k->predictor = nn_predictor_open(model_path, window, horizon, 1, err, errlen);
        if (!k->predictor)
            goto fail;
    }
    k->ttm = ttm_new(&k->ttm_cfg, &k->ctl, &k->bp, 1, err, errlen);
    if (!k->ttm || (k->predictor && ttm_set_predictor(k->ttm, k->predictor, err, errlen)))
        goto fail;
    k->base.forecast = core_forecast;
    k->base.preload = core_preload;
    k->base.report = core_report;
    return &k->base;
fail:
    core_free(&k->base);
    return NULL;
}
