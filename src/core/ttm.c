/* TTM manager: one batched forecast per evaluation for every blueprint with enough history,
 * confidence tracking, analysis, and the hand-over of each recommendation to the blueprint's
 * adaptive decision tree. The forecast comes from the model (one batched predict) or from the
 * configured series forecaster (forecaster.h) of each blueprint; either fills the same output
 * rows, so what follows is the same path. All buffers are sized in ttm_open(); ttm_evaluate()
 * allocates nothing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aether/error.h"
#include "aether/ttm.h"
#include "aether/names.h"

#define TTM_TARGET_SLOTS (CFG_MAX_SCALE_IN_WINDOW + 1)

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
    /* series forecasters by kind (the configured one, or every one with auto), fed every
     * closed minute; NULL for the model and kinds not run */
    fcr *inv[FCR_KIND_COUNT], *cpu[FCR_KIND_COUNT];
    int64_t fed_ms; /* start of the newest minute fed to them */
    /* this evaluation: the batch row of its model input (-1 = none), whether the series
     * forecasters could forecast, and the model's outcome */
    int row, series_ready, model_rc;
    int forecaster; /* the kind that made the newest forecast */
    struct sel sel; /* auto: the candidates' scores and the active one */
    int sel_started;
    /* scale-in stabilisation: the largest target of each recent minute, by minute, and the
     * largest count tier 1 raised above the held target in that minute (0 = none) */
    int64_t target_minute[TTM_TARGET_SLOTS];
    int target[TTM_TARGET_SLOTS];
    int raised[TTM_TARGET_SLOTS];
    /* the demand peak (NaN once confirmed or when not sized by demand) and the cost per request
     * behind each minute's target, for confirm_targets */
    double peak[TTM_TARGET_SLOTS], cost[TTM_TARGET_SLOTS];
    int issued; /* the ceiling of the last recommendation, 0 before any */
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
    float *cand;      /* auto: count x SEL_CANDIDATES x H x 11, each candidate's forecast */
    float *last;      /* count x 11: the newest row of each blueprint's input */
    int *rows;        /* blueprint index of each batch row */
    struct ae_minute scratch[AGG_HISTORY_MINUTES];
    enum ttm_state state;
    char error[256];
    const char *stopped; /* why the manager is STOPPED, static text, "" = it is not */
    int is_leader;       /* as of the last ttm_evaluate or ttm_set_leader (1 at first) */
    struct ttm_counters counters;
    int last_forecast_bp;
};

static void settle_state(ttm *t);

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
}

/* Every buffer of a manager for count blueprints (at least one row each); 0 or AE_ENOMEM. */
static int alloc_buffers(ttm *t, const struct cfg_ttm *ttm_cfg, int count)
{
    size_t n = count ? (size_t)count : 1;
    size_t w = (size_t)ttm_cfg->input_window_minutes, h = (size_t)ttm_cfg->prediction_horizon;
    t->bps = calloc(n, sizeof *t->bps);
    t->in = calloc(n * w * AE_FEATURE_COUNT, sizeof *t->in);
    t->out = calloc(n * h * AE_FEATURE_COUNT, sizeof *t->out);
    t->forecasts = calloc(n * h * AE_FEATURE_COUNT, sizeof *t->forecasts);
    t->rows = calloc(n, sizeof *t->rows);
    t->last = calloc(n * AE_FEATURE_COUNT, sizeof *t->last);
    if (ttm_cfg->forecaster == FCR_AUTO)
        t->cand = calloc(n * SEL_CANDIDATES * h * AE_FEATURE_COUNT, sizeof *t->cand);
    if (!t->bps || !t->in || !t->out || !t->forecasts || !t->rows || !t->last ||
        (ttm_cfg->forecaster == FCR_AUTO && !t->cand))
        return AE_ENOMEM;
    return 0;
}

/* Blueprint i of t from bp: its series forecasters and limits. 0, or AE_EINVAL with the
 * forecaster's message in err. */
static int init_bp(ttm *t, int i, const struct cfg_blueprint *bp, char *err, size_t errlen)
{
    struct ttm_bp *b = &t->bps[i];
    b->fed_ms = INT64_MIN;
    b->forecaster = t->cfg.forecaster;
    for (int k = 0; k < TTM_TARGET_SLOTS; k++)
        b->target_minute[k] = INT64_MIN;
    for (int c = 0; c < FCR_KIND_COUNT; c++) {
        int automatic = t->cfg.forecaster == FCR_AUTO;
        if (!fcr_is_series(c) || (automatic ? c >= SEL_CANDIDATES : (int)t->cfg.forecaster != c))
            continue;
        struct fcr_params fp;
        char msg[256];
        fcr_params_defaults(&fp);
        if (fcr_open(c, &fp, &b->inv[c], msg, sizeof msg) != 0 ||
            fcr_open(c, &fp, &b->cpu[c], msg, sizeof msg) != 0) {
            set_err(err, errlen, msg);
            return AE_EINVAL;
        }
    }
    b->name = bp->name;
    b->min_instances = bp->min_instances;
    b->max_instances = bp->max_instances;
    b->cpu_limit_cores = bp->cpu_limit_cores;
    b->state = TTM_BP_WAITING_FOR_HISTORY;
    b->forecast = t->forecasts + (size_t)i * t->cfg.prediction_horizon * AE_FEATURE_COUNT;
    conf_init(&b->conf, -1);
    return 0;
}

int ttm_open(const struct cfg_ttm *ttm_cfg, const struct cfg_controller *ctl,
             const struct cfg_blueprint *blueprints, int blueprint_count, ttm **out, char *err,
             size_t errlen)
{
    char msg[256];
    if (out)
        *out = NULL;
    if (!out || !ttm_cfg || !ctl || blueprint_count < 0 || (blueprint_count && !blueprints)) {
        set_err(err, errlen, "ttm_open: invalid arguments");
        return AE_EINVAL;
    }
    int rc = cfg_ttm_validate(ttm_cfg, msg, sizeof msg);
    if (!rc)
        rc = cfg_controller_validate(ctl, msg, sizeof msg);
    if (rc) {
        set_err(err, errlen, msg);
        return rc;
    }
    ttm *t = calloc(1, sizeof *t);
    if (!t || alloc_buffers(t, ttm_cfg, blueprint_count)) {
        ttm_free(t);
        set_err(err, errlen, "ttm_open: out of memory");
        return AE_ENOMEM;
    }
    t->cfg = *ttm_cfg;
    t->ctl = *ctl;
    t->count = blueprint_count;
    t->state = TTM_STOPPED;
    t->is_leader = 1;
    t->last_forecast_bp = -1;
    for (int i = 0; i < blueprint_count; i++)
        if ((rc = init_bp(t, i, &blueprints[i], err, errlen)) != 0) {
            ttm_free(t);
            return rc;
        }
    settle_state(t);
    *out = t;
    return 0;
}

void ttm_free(ttm *t)
{
    if (!t)
        return;
    for (int i = 0; t->bps && i < t->count; i++)
        for (int c = 0; c < FCR_KIND_COUNT; c++) {
            fcr_free(t->bps[i].inv[c]);
            fcr_free(t->bps[i].cpu[c]);
        }
    free(t->bps);
    free(t->in);
    free(t->out);
    free(t->forecasts);
    free(t->rows);
    free(t->last);
    free(t->cand);
    free(t);
}

/* Why the manager cannot forecast now (static text), or NULL when it can. */
static const char *stop_reason(const ttm *t)
{
    if (!t->cfg.enabled)
        return "TTM disabled";
    if (!t->is_leader)
        return "not the leader";
    if (t->cfg.forecaster == FCR_MODEL && !t->pred)
        return "no model loaded";
    return NULL;
}

/* The state between evaluations: STOPPED when it cannot forecast, RUNNING (every blueprint
 * waiting for its first evaluation) when it could and was STOPPED; ERROR and RUNNING stay. */
static void settle_state(ttm *t)
{
    const char *why = stop_reason(t);
    t->stopped = why ? why : "";
    if (why)
        t->state = TTM_STOPPED;
    else if (t->state == TTM_STOPPED)
        t->state = TTM_RUNNING;
}

void ttm_set_leader(ttm *t, int is_leader)
{
    t->is_leader = is_leader != 0;
    settle_state(t);
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
    if (!p) {
        settle_state(t);
        return 0;
    }
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
        settle_state(t);
        return rc;
    }
    t->pred = p;
    t->info = info;
    for (int i = 0; i < t->count; i++)
        conf_init(&t->bps[i].conf, info.val_wape);
    settle_state(t);
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
    if (m->start_ms <= b->fed_ms)
        return;
    b->fed_ms = m->start_ms;
    int (*feed)(fcr *, int64_t, double) = bulk ? fcr_preload : fcr_observe;
    double inv = ae_minute_has(m, AE_F_INVOCATIONS) ? m->values[AE_F_INVOCATIONS] : NAN;
    double cpu = ae_minute_has(m, AE_F_CPU_USAGE) ? m->values[AE_F_CPU_USAGE] : NAN;
    for (int c = 0; c < FCR_KIND_COUNT; c++)
        if (b->inv[c]) {
            feed(b->inv[c], m->start_ms, inv);
            feed(b->cpu[c], m->start_ms, cpu);
        }
}

_Static_assert(CFG_MAX_SELECTION_WINDOW == SEL_WINDOW_MAX, "selection window bound");
_Static_assert((int)SEL_UNDERFORECAST_WEIGHT_MAX == CFG_MAX_SELECTION_UNDERFORECAST_WEIGHT,
               "selection under-forecast weight bound");

/* auto: the selection of b starts (cold start) at now, once. */
static void start_selection(ttm *t, struct ttm_bp *b, int64_t now)
{
    if (t->cfg.forecaster == FCR_AUTO && !b->sel_started) {
        const struct sel_params p = {
            .steps = t->cfg.selection_steps,
            .window = t->cfg.selection_window_minutes,
            .min_samples = t->cfg.selection_min_samples,
            .margin = t->cfg.selection_margin,
            .dwell_ms = (int64_t)t->cfg.selection_dwell_minutes * AE_MINUTE_MS,
            .underforecast_weight = t->cfg.selection_underforecast_weight,
            .score = t->cfg.selection_score,
            .peak_quantile = t->cfg.selection_peak_quantile,
        };
        sel_init(&b->sel, &p, t->cfg.prediction_horizon, FCR_PERSISTENCE, now);
        b->sel_started = 1;
    }
}

static void record_series(ttm *t, struct ttm_bp *b, int64_t minute_ms);

/* auto: scores the series candidates on closed minute m before it is fed to them. */
static void score_minute(ttm *t, struct ttm_bp *b, const struct ae_minute *m)
{
    if (!b->sel_started || m->start_ms <= b->sel.last_ms)
        return;
    record_series(t, b, m->start_ms);
    sel_observe(&b->sel, m->start_ms,
                ae_minute_has(m, AE_F_INVOCATIONS) ? m->values[AE_F_INVOCATIONS] : NAN);
}

int ttm_preload(ttm *t, int i, const struct ae_minute *m)
{
    if (i < 0 || i >= t->count || !m)
        return AE_EINVAL;
    struct ttm_bp *b = &t->bps[i];
    start_selection(t, b, m->start_ms);
    if (m->start_ms > b->fed_ms)
        score_minute(t, b, m);
    feed_forecasters(b, m, 1);
    return 0;
}

int ttm_preload_end(ttm *t, int i)
{
    if (i < 0 || i >= t->count)
        return AE_EINVAL;
    struct ttm_bp *b = &t->bps[i];
    for (int c = 0; c < FCR_KIND_COUNT; c++)
        if (b->inv[c]) {
            fcr_preload_end(b->inv[c]);
            fcr_preload_end(b->cpu[c]);
        }
    return 0;
}

/* auto: each series candidate's forecast of the minutes from minute_ms on, made with what it
 * has observed before that minute (as if forecast when the minute before closed), recorded for
 * scoring. So the simple candidates are scored on every minute, also on the stored minutes a
 * node starts with, whatever the evaluation schedule. */
static void record_series(ttm *t, struct ttm_bp *b, int64_t minute_ms)
{
    int h = t->cfg.prediction_horizon;
    for (int c = FCR_MODEL + 1; c < SEL_CANDIDATES; c++) {
        double v[FCR_MAX_STEPS];
        if (!b->inv[c] || fcr_last_minute(b->inv[c]) >= minute_ms ||
            fcr_forecast(b->inv[c], minute_ms, h, v) != 0)
            continue;
        float inv[CONF_MAX_HORIZON];
        for (int k = 0; k < h; k++)
            inv[k] = (float)(v[k] > 0 ? v[k] : 0);
        sel_record(&b->sel, c, minute_ms, inv, h);
    }
}

/* Feeds the minutes closed since the last evaluation to the blueprint's confidence tracker,
 * series forecasters and (auto) candidates' scores. */
static void observe_new_minutes(ttm *t, struct ttm_bp *b, const agg *history, int64_t now)
{
    start_selection(t, b, now);
    int n = agg_recent(history, AGG_HISTORY_MINUTES, t->scratch);
    for (int k = 0; k < n; k++) {
        const struct ae_minute *m = &t->scratch[k];
        if (m->start_ms > b->conf.last_seen_ms)
            conf_observe(&b->conf, m);
        score_minute(t, b, m);
        feed_forecasters(b, m, 0);
    }
}

/* The series forecast of blueprint i into out (horizon x 11) for the minutes from the one holding
 * now. Every feature starts as the last row of the blueprint's model input (the newest minute,
 * gaps carried as the model-input rule says: persistence); invocations and cpu are then
 * forecast. cpu follows the invocations forecast at the newest minute's cpu per invocation (the
 * cost per request the analyzer assumes) when that minute had both, else its own forecast.
 * Forecasts below 0 are 0. */
static void series_forecast(ttm *t, const struct ttm_bp *b, int kind, const float *last,
                            int64_t now, float *out)
{
    int h = t->cfg.prediction_horizon;
    for (int k = 0; k < h; k++)
        memcpy(out + (size_t)k * AE_FEATURE_COUNT, last, AE_FEATURE_COUNT * sizeof *out);
    double inv[FCR_MAX_STEPS], cpu[FCR_MAX_STEPS];
    int64_t first = ae_minute_floor(now);
    int have_inv = fcr_forecast(b->inv[kind], first, h, inv) == 0;
    int have_cpu = fcr_forecast(b->cpu[kind], first, h, cpu) == 0;
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
    else if (r->type == FCST_SCALE_DOWN) { /* to the held ceiling (the stabilised target) */
        int to = r->ceiling > 0 ? r->ceiling : r->target_instances;
        d->to = to < in->requested ? to : in->requested;
    }
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

/* Scale-in stabilisation: notes target F of this minute and the count tier 1 raised (0 = none),
 * and returns in held the largest target of the last ttm.scale_in_window_minutes minutes (this
 * one included) and in ceiling the larger of that and the largest raised count of the window: a
 * forecast may raise the held count at once, but lowers it only once every target of the window
 * is lower, and its ceiling never undoes a scale-up of tier 1 within the window. */
static void stabilised_target(ttm *t, struct ttm_bp *b, int target, int raised, int64_t now,
                              int *held, int *ceiling)
{
    int64_t minute = ae_minute_floor(now) / AE_MINUTE_MS;
    int slot = (int)(minute % TTM_TARGET_SLOTS);
    if (b->target_minute[slot] != minute) {
        b->target_minute[slot] = minute;
        b->target[slot] = b->raised[slot] = 0;
    }
    if (target > b->target[slot]) { /* with the peak and cost of the minute's largest target */
        int by_demand = b->rec.sized_by_demand && !b->rec.cost_saturated;
        b->target[slot] = target;
        b->peak[slot] = by_demand ? b->rec.demand_peak : NAN;
        b->cost[slot] = b->rec.cost;
    }
    b->raised[slot] = raised > b->raised[slot] ? raised : b->raised[slot];
    int window = t->cfg.scale_in_window_minutes;
    *held = target;
    *ceiling = raised;
    for (int k = 0; k < TTM_TARGET_SLOTS; k++) {
        if (b->target_minute[k] == INT64_MIN || b->target_minute[k] <= minute - window ||
            b->target_minute[k] > minute)
            continue;
        *held = b->target[k] > *held ? b->target[k] : *held;
        *ceiling = b->raised[k] > *ceiling ? b->raised[k] : *ceiling;
    }
    *ceiling = *held > *ceiling ? *held : *ceiling;
}

/* Scale-in stabilisation holds only peaks that were forecast and came: once every minute of
 * the forecast made in a minute of the window has closed, that minute's target is lowered to
 * the fleet for the smaller of its forecast peak and the actual peak of those minutes (at that
 * minute's cost per request and the headroom of fi). Targets not sized by demand are held as
 * they are. */
static void confirm_targets(ttm *t, struct ttm_bp *b, const agg *history,
                            const struct fcst_input *fi)
{
    const struct ae_minute *last = agg_last(history);
    if (!last)
        return;
    int64_t newest = last->start_ms / AE_MINUTE_MS;
    int h = t->cfg.prediction_horizon;
    for (int k = 0; k < TTM_TARGET_SLOTS; k++) {
        int64_t first = b->target_minute[k];
        if (first == INT64_MIN || first + h - 1 > newest || !isfinite(b->peak[k]))
            continue;
        double actual = -1;
        for (int64_t m = first; m < first + h; m++) {
            const struct ae_minute *x = agg_find(history, m * AE_MINUTE_MS);
            if (x && !(x->missing & AE_FEATURE_BIT(AE_F_INVOCATIONS)) &&
                x->values[AE_F_INVOCATIONS] > actual)
                actual = x->values[AE_F_INVOCATIONS];
        }
        if (actual < 0)
            continue; /* none of its minutes has requests: held as it is */
        double peak = actual < b->peak[k] ? actual : b->peak[k];
        int confirmed = fcst_fleet_for_peak(fi, b->cost[k], peak);
        b->target[k] = confirmed < b->target[k] ? confirmed : b->target[k];
        b->peak[k] = NAN; /* confirmed once */
    }
}

/* Bounded churn on the analyzer's recommendation: the floor becomes the stabilised target and
 * the ceiling the stabilised target or a count tier 1 raised within the window (so tier 1
 * scaling up and the forecast's ceiling scaling in do not alternate); without
 * ttm.forecast_ceiling the ceiling is dropped (forecasts only ever hold instances up). A
 * scale-down the window holds back becomes a hold. */
static void bound_churn(ttm *t, struct ttm_bp *b, int requested, int64_t now)
{
    struct fcst_recommendation *r = &b->rec;
    if (r->floor <= 0 && r->ceiling <= 0)
        return;
    int target = r->floor > r->ceiling ? r->floor : r->ceiling;
    int raised = b->issued > 0 && requested > b->issued ? requested : 0;
    int held, ceiling;
    stabilised_target(t, b, target, raised, now, &held, &ceiling);
    b->issued = ceiling;
    if (r->floor > 0)
        r->floor = held;
    r->ceiling = t->cfg.forecast_ceiling && r->ceiling > 0 ? ceiling : 0;
    if (r->type == FCST_SCALE_DOWN && (ceiling >= requested || r->ceiling == 0)) {
        r->type = FCST_HOLD;
        r->reason = FCST_REASON_STABLE;
        size_t len = strlen(r->text);
        if (held >= requested)
            snprintf(r->text + len, sizeof r->text - len,
                     "; scale-in held: target %d within the last %d min", held,
                     t->cfg.scale_in_window_minutes);
        else if (r->ceiling == 0)
            snprintf(r->text + len, sizeof r->text - len, "; floor only: tier 1 scales in");
        else
            snprintf(r->text + len, sizeof r->text - len,
                     "; scale-in held: tier 1 raised to %d within the last %d min", ceiling,
                     t->cfg.scale_in_window_minutes);
    }
}

/* Confidence, analysis and hand-over for one blueprint whose forecast (horizon x 11) is out. */
static void use_forecast(ttm *t, int i, const float *out, const struct ttm_bp_input *in,
                         int64_t now)
{
    struct ttm_bp *b = &t->bps[i];
    size_t hn = (size_t)t->cfg.prediction_horizon * AE_FEATURE_COUNT;
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
        .demand_headroom = conf_demand_headroom(&b->conf, t->cfg.headroom_quantile),
        .bound_util = t->cfg.upper_bound_utilization,
    };
    fcst_analyze(&fi, &b->rec);
    confirm_targets(t, b, in->history, &fi);
    bound_churn(t, b, in->requested, now);
    t->counters.recommendations[b->rec.type]++;
    if (in->controller)
        adt_apply(in->controller, t->cfg.mode, &b->rec, now);
    record_decision(t, b, in, now);
}

static int all_finite(const float *v, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (!isfinite(v[k]))
            return 0;
    return 1;
}

/* Blueprint i forecast in this evaluation: the status shows the first such by name. */
static void note_last_forecast(ttm *t, int i)
{
    if (t->last_forecast_bp < 0 || strcmp(t->bps[i].name, t->bps[t->last_forecast_bp].name) < 0)
        t->last_forecast_bp = i;
}

/* auto: every candidate that can forecast blueprint i now does so into t->cand (the model's
 * forecast is recorded for scoring here; the series candidates are recorded minute by minute in
 * record_series), and the selection picks the one that drives. Returns its rows, or NULL when no
 * candidate could forecast. */
static const float *auto_forecast(ttm *t, int i, int64_t now)
{
    struct ttm_bp *b = &t->bps[i];
    int h = t->cfg.prediction_horizon;
    size_t hn = (size_t)h * AE_FEATURE_COUNT;
    float *cand = t->cand + (size_t)i * SEL_CANDIDATES * hn;
    int available[SEL_CANDIDATES] = {0};
    for (int c = 0; c < SEL_CANDIDATES; c++) {
        float *rows = cand + (size_t)c * hn;
        if (c == FCR_MODEL) {
            if (b->row < 0 || b->model_rc)
                continue;
            memcpy(rows, t->out + (size_t)b->row * hn, hn * sizeof *rows);
            if (!all_finite(rows, hn))
                continue;
        } else {
            if (!b->series_ready)
                continue;
            series_forecast(t, b, c, t->last + (size_t)i * AE_FEATURE_COUNT, now, rows);
        }
        available[c] = 1;
        if (c != FCR_MODEL)
            continue;
        float inv[CONF_MAX_HORIZON];
        for (int k = 0; k < h; k++)
            inv[k] = rows[(size_t)k * AE_FEATURE_COUNT + AE_F_INVOCATIONS];
        sel_record(&b->sel, c, ae_minute_floor(now), inv, h);
    }
    int a = sel_choose(&b->sel, available, now);
    if (a < 0)
        return NULL;
    b->forecaster = a;
    return cand + (size_t)a * hn;
}

/* One batched predict over the model's `rows` rows; each row's blueprint gets the call's code in
 * model_rc (AE_EAGAIN: the predictor is still evaluating off this thread, what is in force
 * stays). The first failure's message goes to model_msg. Returns 1 when a call was pending. */
static int run_model(ttm *t, int rows, size_t wn, size_t hn, char model_msg[AE_REASON_MAX])
{
    int pending = 0;
    for (int start = 0; start < rows; start += t->info.max_batch) {
        int batch = rows - start < t->info.max_batch ? rows - start : t->info.max_batch;
        char msg[AE_REASON_MAX] = "";
        int rc = t->pred->predict(t->pred->state, t->in + (size_t)start * wn, batch,
                                  t->out + (size_t)start * hn, msg, sizeof msg);
        pending |= rc == AE_EAGAIN;
        if (rc && rc != AE_EAGAIN && !model_msg[0])
            snprintf(model_msg, AE_REASON_MAX, "inference failed: %.100s",
                     msg[0] ? msg : ae_strerror(rc));
        for (int r = start; r < start + batch; r++)
            t->bps[t->rows[r]].model_rc = rc;
    }
    return pending;
}

/* Blueprint i's inputs for this evaluation: a model row in t->in (and its last minute in
 * t->last) when the model or a fixed series forecaster can run, the last minute alone for auto's
 * series candidates. Without either it waits for history. Appends its row to *rows. */
static void prepare_input(ttm *t, int i, const struct ttm_bp_input *in, int with_model,
                          int64_t now_ms, int *rows)
{
    enum fcr_kind kind = t->cfg.forecaster;
    int w = t->cfg.input_window_minutes;
    struct ttm_bp *b = &t->bps[i];
    float *last = t->last + (size_t)i * AE_FEATURE_COUNT;
    b->row = -1;
    b->model_rc = 0;
    b->series_ready = 0;
    if (kind != FCR_AUTO || with_model) {
        float *row = t->in + (size_t)*rows * w * AE_FEATURE_COUNT;
        if (agg_model_input(in->history, w, now_ms, row) >= 0) {
            b->row = *rows;
            t->rows[(*rows)++] = i;
            memcpy(last, row + (size_t)(w - 1) * AE_FEATURE_COUNT,
                   AE_FEATURE_COUNT * sizeof *last);
            b->series_ready = kind != FCR_MODEL;
        }
    }
    if (kind == FCR_AUTO)
        b->series_ready = agg_model_input(in->history, 1, now_ms, last) >= 0;
    if (b->row < 0 && !b->series_ready) {
        b->state = TTM_BP_WAITING_FOR_HISTORY;
        if (in->controller)
            adt_drop(in->controller, "waiting for history");
    }
}

/* The rows that drive blueprint i's tier now, or NULL when no forecaster could forecast. */
static const float *forecast_rows(ttm *t, int i, int64_t now_ms)
{
    enum fcr_kind kind = t->cfg.forecaster;
    struct ttm_bp *b = &t->bps[i];
    size_t hn = (size_t)t->cfg.prediction_horizon * AE_FEATURE_COUNT;
    if (kind == FCR_AUTO)
        return auto_forecast(t, i, now_ms);
    if (kind == FCR_MODEL)
        return b->model_rc ? NULL : t->out + (size_t)b->row * hn;
    float *o = t->out + (size_t)b->row * hn;
    series_forecast(t, b, kind, t->last + (size_t)i * AE_FEATURE_COUNT, now_ms, o);
    return o;
}

/* Forecasts blueprint i and applies the result, or puts it in error. Sets *failed (and t->error
 * on the first failure) when it erred or the model failed. Returns 1 when it forecast now, 0 when
 * it waits for history or (fixed model) for the pending predictor. */
static int evaluate_bp(ttm *t, int i, const struct ttm_bp_input *in, int64_t now_ms,
                       const char *model_msg, int *failed)
{
    enum fcr_kind kind = t->cfg.forecaster;
    struct ttm_bp *b = &t->bps[i];
    if (b->row < 0 && !b->series_ready)
        return 0;
    if (kind == FCR_MODEL && b->model_rc == AE_EAGAIN) { /* its last forecast stays */
        if (b->state == TTM_BP_FORECASTING)
            note_last_forecast(t, i);
        return 0;
    }
    int model_failed = b->model_rc && b->model_rc != AE_EAGAIN; /* auto: pending is no error */
    const float *rows_out = forecast_rows(t, i, now_ms);
    if (rows_out) {
        use_forecast(t, i, rows_out, in, now_ms);
    } else {
        b->state = TTM_BP_ERROR;
        snprintf(b->error, sizeof b->error, "%s",
                 b->model_rc ? model_msg : "no forecaster could forecast");
        if (in->controller)
            adt_drop(in->controller, b->error);
    }
    if (b->state == TTM_BP_FORECASTING && model_failed && kind == FCR_AUTO)
        snprintf(b->error, sizeof b->error, "model: %.100s", model_msg); /* auto went on */
    if (b->state == TTM_BP_ERROR || model_failed) {
        if (!*failed)
            snprintf(t->error, sizeof t->error, "blueprint %s: %s", b->name, b->error);
        *failed = 1;
    }
    if (b->state != TTM_BP_ERROR)
        note_last_forecast(t, i);
    return 1;
}

/* The node state after an evaluation; only one that forecast counts. */
static enum ttm_state finish_evaluation(ttm *t, int forecast_any, int failed, int pending)
{
    if (!forecast_any) {
        if (!pending) {
            t->state = TTM_RUNNING;
            t->error[0] = 0;
        }
        return t->state;
    }
    t->counters.evaluations++;
    if (failed)
        t->counters.failures++;
    else
        t->error[0] = 0;
    t->state = failed ? TTM_ERROR : TTM_RUNNING;
    return t->state;
}

enum ttm_state ttm_evaluate(ttm *t, int64_t now_ms, int is_leader, const struct ttm_bp_input *bp)
{
    for (int i = 0; i < t->count; i++)
        observe_new_minutes(t, &t->bps[i], bp[i].history, now_ms);
    enum fcr_kind kind = t->cfg.forecaster;
    t->is_leader = is_leader != 0;
    const char *stopped = stop_reason(t);
    t->stopped = stopped ? stopped : "";
    if (stopped) {
        t->state = TTM_STOPPED;
        drop_all(t, bp, stopped);
        return t->state;
    }

    /* Inputs. The model (and a fixed series forecaster, whose readiness is the model's) needs
     * max(1, floor(W/2)) minutes; with auto the series candidates need one (cold start). */
    int rows = 0;
    int with_model = t->pred && (kind == FCR_MODEL || kind == FCR_AUTO);
    for (int i = 0; i < t->count; i++)
        prepare_input(t, i, &bp[i], with_model, now_ms, &rows);

    char model_msg[AE_REASON_MAX] = "";
    size_t wn = (size_t)t->cfg.input_window_minutes * AE_FEATURE_COUNT;
    size_t hn = (size_t)t->cfg.prediction_horizon * AE_FEATURE_COUNT;
    int pending = with_model ? run_model(t, rows, wn, hn, model_msg) : 0;

    int forecast_any = 0, failed = 0;
    t->last_forecast_bp = -1;
    for (int i = 0; i < t->count; i++)
        forecast_any |= evaluate_bp(t, i, &bp[i], now_ms, model_msg, &failed);
    return finish_evaluation(t, forecast_any, failed, pending);
}

enum ttm_state ttm_get_state(const ttm *t)
{
    return t->state;
}

const char *ttm_stopped_reason(const ttm *t)
{
    return t->stopped ? t->stopped : "";
}

const char *ttm_last_error(const ttm *t)
{
    return t->error;
}

void ttm_get_counters(const ttm *t, struct ttm_counters *out)
{
    *out = t->counters;
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
    out->forecaster = b->forecaster;
    out->selection = b->sel_started ? &b->sel : NULL;
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

#define MAP_TEXT(name) #name,
static const char *const state_names[TTM_STATE_COUNT] = {TTM_STATE_MAP(MAP_TEXT)};
static const char *const bp_state_names[TTM_BP_STATE_COUNT] = {TTM_BP_STATE_MAP(MAP_TEXT)};
#undef MAP_TEXT

const char *ttm_state_name(enum ttm_state s)
{
    return ae_name_in(state_names, TTM_STATE_COUNT, (int)s, "UNKNOWN");
}

const char *ttm_bp_state_name(enum ttm_bp_state s)
{
    return ae_name_in(bp_state_names, TTM_BP_STATE_COUNT, (int)s, "UNKNOWN");
}
