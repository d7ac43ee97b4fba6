/* TTM manager: one batched forecast per evaluation for every blueprint with enough history,
 * confidence tracking, analysis, and the hand-over of each recommendation to the blueprint's
 * adaptive decision tree. The forecast comes from the model (one batched predict) or from the
 * configured series forecaster (forecaster.h) of each blueprint; either fills the same output
 * rows, so what follows is the same path. All buffers are sized in ttm_new(); ttm_evaluate()
 * allocates nothing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aether/error.h"
#include "aether/ttm.h"

struct ttm_bp {
    const char *name;
    int min_instances, max_instances;
    double cpu_limit_cores;
    enum ttm_bp_state state;
    char error[AE_REASON_MAX];
    struct conf_tracker conf;
    float *forecast; /* horizon x 11, a slice of ttm.forecasts */
    int has_forecast;
    int64_t forecast_ms;
    struct fcst_recommendation rec;
    struct ae_decision decision;
    int has_decision;
    /* series forecasters (ttm.forecaster other than model), fed every closed minute */
    fcr *inv, *cpu;
    int64_t fed_ms; /* start of the newest minute fed to them */
};

struct ttm {
    struct cfg_ttm cfg;
    struct cfg_controller ctl;
    int count;
    struct ttm_bp *bps;
    ae_predictor *pred;
    struct ae_predictor_info info;
    float *in;        /* count x W x 11 */
    float *out;       /* count x H x 11 */
    float *forecasts; /* count x H x 11, kept between evaluations */
    int *rows;        /* blueprint index of each batch row */
    struct ae_minute scratch[AGG_HISTORY_MINUTES];
    enum ttm_state state;
    char error[256];
    struct ttm_counters counters;
    int last_forecast_bp;
};

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
}

ttm *ttm_new(const struct cfg_ttm *ttm_cfg, const struct cfg_controller *ctl,
             const struct cfg_blueprint *blueprints, int blueprint_count, char *err, size_t errlen)
{
    char msg[256];
    if (!ttm_cfg || !ctl || blueprint_count < 0 || (blueprint_count && !blueprints)) {
        set_err(err, errlen, "ttm_new: invalid arguments");
        return NULL;
    }
    if (cfg_ttm_validate(ttm_cfg, msg, sizeof msg) ||
        cfg_controller_validate(ctl, msg, sizeof msg)) {
        set_err(err, errlen, msg);
        return NULL;
    }
    ttm *t = calloc(1, sizeof *t);
    size_t n = blueprint_count ? (size_t)blueprint_count : 1;
    size_t w = (size_t)ttm_cfg->input_window_minutes, h = (size_t)ttm_cfg->prediction_horizon;
    if (t) {
        t->bps = calloc(n, sizeof *t->bps);
        t->in = calloc(n * w * AE_FEATURE_COUNT, sizeof *t->in);
        t->out = calloc(n * h * AE_FEATURE_COUNT, sizeof *t->out);
        t->forecasts = calloc(n * h * AE_FEATURE_COUNT, sizeof *t->forecasts);
        t->rows = calloc(n, sizeof *t->rows);
    }
    if (!t || !t->bps || !t->in || !t->out || !t->forecasts || !t->rows) {
        ttm_free(t);
        set_err(err, errlen, "ttm_new: out of memory");
        return NULL;
    }
    t->cfg = *ttm_cfg;
    t->ctl = *ctl;
    t->count = blueprint_count;
    t->state = TTM_STOPPED;
    t->last_forecast_bp = -1;
    for (int i = 0; i < blueprint_count; i++) {
        struct ttm_bp *b = &t->bps[i];
        b->fed_ms = INT64_MIN;
        if (ttm_cfg->forecaster != FCR_MODEL) {
            struct fcr_params fp;
            fcr_params_defaults(&fp);
            b->inv = fcr_new(ttm_cfg->forecaster, &fp, msg, sizeof msg);
            b->cpu = b->inv ? fcr_new(ttm_cfg->forecaster, &fp, msg, sizeof msg) : NULL;
            if (!b->cpu) {
                t->count = i + 1;
                ttm_free(t);
                set_err(err, errlen, msg);
                return NULL;
            }
        }
        b->name = blueprints[i].name;
        b->min_instances = blueprints[i].min_instances;
        b->max_instances = blueprints[i].max_instances;
        b->cpu_limit_cores = blueprints[i].cpu_limit_cores;
        b->state = TTM_BP_WAITING_FOR_HISTORY;
        b->forecast = t->forecasts + (size_t)i * h * AE_FEATURE_COUNT;
        conf_init(&b->conf, -1);
    }
    return t;
}

void ttm_free(ttm *t)
{
    if (!t)
        return;
    for (int i = 0; t->bps && i < t->count; i++) {
        fcr_free(t->bps[i].inv);
        fcr_free(t->bps[i].cpu);
    }
    free(t->bps);
    free(t->in);
    free(t->out);
    free(t->forecasts);
    free(t->rows);
    free(t);
}

int ttm_set_predictor(ttm *t, ae_predictor *p, char *err, size_t errlen)
{
    t->pred = NULL;
    memset(&t->info, 0, sizeof t->info);
    for (int i = 0; i < t->count; i++) {
        struct ttm_bp *b = &t->bps[i];
        b->state = TTM_BP_WAITING_FOR_HISTORY;
        b->has_forecast = 0;
        b->has_decision = 0;
        b->error[0] = 0;
    }
    if (!p)
        return 0;
    struct ae_predictor_info info;
    memset(&info, 0, sizeof info);
    p->info(p->state, &info);
    char msg[256];
    int rc = 0;
    if (info.window != t->cfg.input_window_minutes) {
        snprintf(msg, sizeof msg, "model window %d does not match ttm.input_window_minutes = %d",
                 info.window, t->cfg.input_window_minutes);
        rc = AE_ESHAPE;
    } else if (info.horizon != t->cfg.prediction_horizon) {
        snprintf(msg, sizeof msg, "model horizon %d does not match ttm.prediction_horizon = %d",
                 info.horizon, t->cfg.prediction_horizon);
        rc = AE_ESHAPE;
    } else if (info.features != AE_FEATURE_COUNT) {
        snprintf(msg, sizeof msg, "model has %d features, the feature schema has %d", info.features,
                 AE_FEATURE_COUNT);
        rc = AE_ESHAPE;
    } else if (info.schema_version != 0 && info.schema_version != AE_SCHEMA_VERSION) {
        snprintf(msg, sizeof msg,
                 "Model trained with a different feature schema (version %d, expected %d)",
                 info.schema_version, AE_SCHEMA_VERSION);
        rc = AE_ESCHEMA;
    } else if (info.max_batch < 1) {
        snprintf(msg, sizeof msg, "model max_batch %d must be at least 1", info.max_batch);
        rc = AE_EINVAL;
    }
    if (rc) {
        set_err(err, errlen, msg);
        return rc;
    }
    t->pred = p;
    t->info = info;
    for (int i = 0; i < t->count; i++)
        conf_init(&t->bps[i].conf, info.val_wape);
    return 0;
}

/* Every blueprint back to tier 1 alone. */
static void drop_all(ttm *t, const struct ttm_bp_input *bp, const char *why)
{
    for (int i = 0; i < t->count; i++)
        if (bp[i].controller)
            adt_drop(bp[i].controller, why);
}

/* Feeds one closed minute to the blueprint's series forecasters (none with the model); bulk
 * history defers the fit to the first live minute. */
static void feed_forecasters(struct ttm_bp *b, const struct ae_minute *m, int bulk)
{
    if (!b->inv || m->start_ms <= b->fed_ms)
        return;
    b->fed_ms = m->start_ms;
    int (*feed)(fcr *, int64_t, double) = bulk ? fcr_preload : fcr_observe;
    feed(b->inv, m->start_ms,
         ae_minute_has(m, AE_F_INVOCATIONS) ? m->values[AE_F_INVOCATIONS] : NAN);
    feed(b->cpu, m->start_ms, ae_minute_has(m, AE_F_CPU_USAGE) ? m->values[AE_F_CPU_USAGE] : NAN);
}

int ttm_preload(ttm *t, int i, const struct ae_minute *m)
{
    if (i < 0 || i >= t->count || !m)
        return AE_EINVAL;
    feed_forecasters(&t->bps[i], m, 1);
    return 0;
}

/* Feeds the minutes closed since the last evaluation to the blueprint's confidence tracker and
 * series forecasters. */
static void observe_new_minutes(ttm *t, struct ttm_bp *b, const agg *history)
{
    int n = agg_recent(history, AGG_HISTORY_MINUTES, t->scratch);
    for (int k = 0; k < n; k++) {
        if (t->scratch[k].start_ms > b->conf.last_seen_ms)
            conf_observe(&b->conf, &t->scratch[k]);
        feed_forecasters(b, &t->scratch[k], 0);
    }
}

/* The series forecast of blueprint i into out (horizon x 11) for the minutes from the one holding
 * now. Every feature starts as the last row of the blueprint's model input (the newest minute,
 * gaps carried as the model-input rule says: persistence); invocations and cpu are then
 * forecast. cpu follows the invocations forecast at the newest minute's cpu per invocation (the
 * cost per request the analyzer assumes) when that minute had both, else its own forecast.
 * Forecasts below 0 are 0. */
static void series_forecast(ttm *t, int i, const float *input, int64_t now, float *out)
{
    struct ttm_bp *b = &t->bps[i];
    int h = t->cfg.prediction_horizon;
    const float *last = input + (size_t)(t->cfg.input_window_minutes - 1) * AE_FEATURE_COUNT;
    for (int k = 0; k < h; k++)
        memcpy(out + (size_t)k * AE_FEATURE_COUNT, last, AE_FEATURE_COUNT * sizeof *out);
    double inv[FCR_MAX_STEPS], cpu[FCR_MAX_STEPS];
    int64_t first = ae_minute_floor(now);
    int have_inv = fcr_forecast(b->inv, first, h, inv) == 0;
    int have_cpu = fcr_forecast(b->cpu, first, h, cpu) == 0;
    double inv_last = last[AE_F_INVOCATIONS], cpu_last = last[AE_F_CPU_USAGE];
    int by_cost = have_inv && inv_last > 0 && cpu_last > 0;
    for (int k = 0; k < h; k++) {
        float *row = out + (size_t)k * AE_FEATURE_COUNT;
        if (have_inv)
            row[AE_F_INVOCATIONS] = (float)(inv[k] > 0 ? inv[k] : 0);
        if (by_cost)
            row[AE_F_CPU_USAGE] = (float)(cpu_last * row[AE_F_INVOCATIONS] / inv_last);
        else if (have_cpu)
            row[AE_F_CPU_USAGE] = (float)(cpu[k] > 0 ? cpu[k] : 0);
    }
}

static enum ae_action action_of(enum fcst_type type)
{
    switch (type) {
    case FCST_SCALE_UP:
        return AE_ACTION_SCALE_UP;
    case FCST_SCALE_DOWN:
        return AE_ACTION_SCALE_DOWN;
    default:
        return AE_ACTION_HOLD;
    }
}

/* The TTM-tier record of a recommendation, for /api/decisions. */
static void record_decision(ttm *t, struct ttm_bp *b, const struct ttm_bp_input *in, int64_t now)
{
    const struct fcst_recommendation *r = &b->rec;
    struct ae_decision *d = &b->decision;
    ae_decision_init(d, now, AE_TIER_TTM, in->requested);
    d->action = action_of(r->type);
    if (r->type == FCST_SCALE_UP)
        d->to = r->target_instances > in->requested ? r->target_instances : in->requested;
    else if (r->type == FCST_SCALE_DOWN)
        d->to = r->target_instances < in->requested ? r->target_instances : in->requested;
    if (t->cfg.mode == CFG_TTM_FORECAST_ONLY)
        snprintf(d->reason, sizeof d->reason, "forecast-only: %.100s", r->text);
    else
        snprintf(d->reason, sizeof d->reason, "%s", r->text);
    ae_decision_add(d, "confidence", r->confidence);
    ae_decision_add(d, "util_now", r->util_now);
    ae_decision_add(d, "util_peak", r->util_peak);
    ae_decision_add(d, "util_trough", r->util_trough);
    ae_decision_add(d, "demand_now", r->demand_now);
    ae_decision_add(d, "demand_peak", r->demand_peak);
    ae_decision_add(d, "cost_core_seconds_per_request", r->cost);
    ae_decision_add(d, "demand_headroom", r->demand_headroom);
    ae_decision_add(d, "target_instances", r->target_instances);
    ae_decision_add(d, "floor", r->floor);
    ae_decision_add(d, "ceiling", r->ceiling);
    ae_decision_add(d, "ready", in->ready);
    b->has_decision = 1;
}

/* Confidence, analysis and hand-over for one blueprint whose forecast is in t->out row `row`. */
static void use_forecast(ttm *t, int i, int row, const struct ttm_bp_input *in, int64_t now)
{
    struct ttm_bp *b = &t->bps[i];
    size_t hn = (size_t)t->cfg.prediction_horizon * AE_FEATURE_COUNT;
    const float *out = t->out + (size_t)row * hn;
    for (size_t k = 0; k < hn; k++) {
        if (!isfinite(out[k])) {
            b->state = TTM_BP_ERROR;
            snprintf(b->error, sizeof b->error, "model output is not finite (feature %s)",
                     ae_feature_name((int)(k % AE_FEATURE_COUNT)));
            if (in->controller)
                adt_drop(in->controller, b->error);
            return;
        }
    }
    memcpy(b->forecast, out, hn * sizeof *out);
    b->has_forecast = 1;
    b->forecast_ms = now;
    b->state = TTM_BP_FORECASTING;
    b->error[0] = 0;
    t->counters.predictions++;
    conf_record(&b->conf, ae_minute_floor(now), out, t->cfg.prediction_horizon, in->ready,
                agg_last(in->history));

    int n = agg_recent(in->history, FCST_HISTORY_MINUTES, t->scratch);
    struct fcst_input fi = {
        .history = t->scratch,
        .history_count = n,
        .forecast = b->forecast,
        .horizon = t->cfg.prediction_horizon,
        .confidence = conf_confidence(&b->conf),
        .confidence_threshold = t->cfg.confidence_threshold,
        .ready = in->ready,
        .requested = in->requested,
        .min_instances = b->min_instances,
        .max_instances = b->max_instances,
        .cpu_limit_cores = b->cpu_limit_cores,
        .cfg_cpu_up = t->ctl.cpu_scale_up_threshold,
        .demand_headroom = conf_demand_headroom(&b->conf, FCST_HEADROOM_QUANTILE),
        .bound_util = t->cfg.upper_bound_utilization,
    };
    fcst_analyze(&fi, &b->rec);
    t->counters.recommendations[b->rec.type]++;
    if (in->controller)
        adt_apply(in->controller, t->cfg.mode, &b->rec, now);
    record_decision(t, b, in, now);
}

enum ttm_state ttm_evaluate(ttm *t, int64_t now_ms, int is_leader, const struct ttm_bp_input *bp)
{
    for (int i = 0; i < t->count; i++)
        observe_new_minutes(t, &t->bps[i], bp[i].history);
    int model = t->cfg.forecaster == FCR_MODEL;
    const char *stopped = !t->cfg.enabled       ? "TTM disabled"
                          : !is_leader          ? "not the leader"
                          : model && !t->pred   ? "no model loaded"
                                                : NULL;
    if (stopped) {
        t->state = TTM_STOPPED;
        drop_all(t, bp, stopped);
        return t->state;
    }

    int w = t->cfg.input_window_minutes, rows = 0;
    size_t wn = (size_t)w * AE_FEATURE_COUNT;
    size_t hn = (size_t)t->cfg.prediction_horizon * AE_FEATURE_COUNT;
    for (int i = 0; i < t->count; i++) {
        int n = agg_model_input(bp[i].history, w, now_ms, t->in + (size_t)rows * wn);
        if (n < 0) { /* fewer than W/2 usable minutes (or none since a long gap) */
            t->bps[i].state = TTM_BP_WAITING_FOR_HISTORY;
            if (bp[i].controller)
                adt_drop(bp[i].controller, "waiting for history");
            continue;
        }
        t->rows[rows++] = i;
    }
    if (rows == 0) {
        t->state = TTM_RUNNING;
        t->error[0] = 0;
        return t->state;
    }

    int failed = 0;
    t->last_forecast_bp = -1;
    int max_batch = model ? t->info.max_batch : rows;
    for (int start = 0; start < rows; start += max_batch) {
        int batch = rows - start < max_batch ? rows - start : max_batch;
        char msg[AE_REASON_MAX] = "";
        int rc = 0;
        if (model)
            rc = t->pred->predict(t->pred->state, t->in + (size_t)start * wn, batch,
                                  t->out + (size_t)start * hn, msg, sizeof msg);
        else
            for (int r = start; r < start + batch; r++)
                series_forecast(t, t->rows[r], t->in + (size_t)r * wn, now_ms,
                                t->out + (size_t)r * hn);
        for (int r = start; r < start + batch; r++) {
            int i = t->rows[r];
            struct ttm_bp *b = &t->bps[i];
            if (rc == 0)
                use_forecast(t, i, r, &bp[i], now_ms);
            else {
                b->state = TTM_BP_ERROR;
                snprintf(b->error, sizeof b->error, "inference failed: %.100s",
                         msg[0] ? msg : ae_strerror(rc));
                if (bp[i].controller)
                    adt_drop(bp[i].controller, b->error);
            }
            if (b->state == TTM_BP_ERROR) {
                if (!failed)
                    snprintf(t->error, sizeof t->error, "blueprint %s: %s", b->name, b->error);
                failed = 1;
            } else if (t->last_forecast_bp < 0 ||
                       strcmp(b->name, t->bps[t->last_forecast_bp].name) < 0) {
                t->last_forecast_bp = i;
            }
        }
    }
    t->counters.evaluations++;
    if (failed)
        t->counters.failures++;
    else
        t->error[0] = 0;
    t->state = failed ? TTM_ERROR : TTM_RUNNING;
    return t->state;
}

enum ttm_state ttm_get_state(const ttm *t)
{
    return t->state;
}

const char *ttm_last_error(const ttm *t)
{
    return t->error;
}

void ttm_get_counters(const ttm *t, struct ttm_counters *out)
{
    *out = t->counters;
}

int ttm_blueprint_count(const ttm *t)
{
    return t->count;
}

int ttm_get_blueprint(const ttm *t, int i, struct ttm_bp_status *out)
{
    if (i < 0 || i >= t->count)
        return AE_EINVAL;
    const struct ttm_bp *b = &t->bps[i];
    memset(out, 0, sizeof *out);
    out->name = b->name;
    out->state = b->state;
    out->has_forecast = b->has_forecast;
    out->forecast_ms = b->forecast_ms;
    out->forecast = b->has_forecast ? b->forecast : NULL;
    out->horizon = t->cfg.prediction_horizon;
    out->recommendation = b->rec;
    out->confidence = conf_confidence(&b->conf);
    out->skill = conf_skill(&b->conf);
    out->resolved = conf_resolved_count(&b->conf);
    out->error = b->error;
    return 0;
}

int ttm_last_forecast_blueprint(const ttm *t)
{
    return t->last_forecast_bp;
}

const struct ae_decision *ttm_last_decision(const ttm *t, int i)
{
    if (i < 0 || i >= t->count || !t->bps[i].has_decision)
        return NULL;
    return &t->bps[i].decision;
}

const char *ttm_state_name(enum ttm_state s)
{
    static const char *const names[TTM_STATE_COUNT] = {
#define TTM_STATE_TEXT(name) #name,
        TTM_STATE_MAP(TTM_STATE_TEXT)
#undef TTM_STATE_TEXT
    };
    return (unsigned)s < TTM_STATE_COUNT ? names[s] : "UNKNOWN";
}

const char *ttm_bp_state_name(enum ttm_bp_state s)
{
    static const char *const names[TTM_BP_STATE_COUNT] = {
#define TTM_BP_STATE_TEXT(name) #name,
        TTM_BP_STATE_MAP(TTM_BP_STATE_TEXT)
#undef TTM_BP_STATE_TEXT
    };
    return (unsigned)s < TTM_BP_STATE_COUNT ? names[s] : "UNKNOWN";
}
