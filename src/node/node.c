/* The node's state and control loop (see node.h): collectors and pushes fold each second into the
 * blueprints' minute aggregators, the core's control step (scaler.h) decides, the actuators act,
 * and every decision goes to the log and the store. */
#include "node.h"

#include "aether/error.h"
#include "aether/hostmem.h"
#include "aether/scaler.h"
#include "api.h"
#include "http.h"
#include "log.h"
#include "mload.h"
#include "ncluster.h"
#include "reqparse.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* What the node keeps of one blueprint beside its scaling state (struct scl_bp, in n->step): its
 * minutes, its actuator, and what the API shows of it. */
struct node_bp {
    const struct cfg_blueprint *cfg; /* borrowed from node.cfg */
    struct scl_bp *s;                /* its scaling state, owned by n->step */
    agg *history;
    int has_actuator;
    struct node_actuator actuator;
    struct node_actuator_status status; /* refreshed every tick */
    struct ae_snapshot last_snapshot;
    int has_snapshot;
    struct ae_decision last_decision; /* last change or TTM recommendation */
    int has_decision;
    char last_result[512];
    int64_t last_decision_id; /* its row in the store, 0 when it could not be written */
    int64_t last_forecast_ms; /* made_ms of the last forecast written to the store */
    long decisions[AE_TIER_COUNT][AE_ACTION_COUNT]; /* recorded for this blueprint */
};

/* Everything from `lock` on is guarded by it. */
struct node {
    struct ae_config cfg; /* owned; never changed after node_open */
    ae_predictor_open_fn builtin_engine;
    struct store *store;
    struct http_server *http;
    pthread_mutex_t reload_lock; /* one model load at a time */
    pthread_mutex_t lock;
    struct node_bp *bps; /* cfg.blueprint_count, in config order */
    int nbp;
    int *by_name; /* indices of bps sorted by name (API order) */
    struct node_collector *collectors;
    int ncollectors;
    scl *step;                 /* the control step, with the TTM manager */
    struct scl_input *step_in; /* nbp entries, filled each tick */
    struct scl_output *step_out;
    ae_predictor *predictor; /* owned; NULL when no model */
    char model_error[1024];  /* why there is no model (or why the last reload failed), or "" */
    long reloads_ok, reloads_failed;
    struct lagstat lag;
    int64_t last_eval_ms;
    double last_eval_s; /* duration of the step that last evaluated TTM */
    int64_t last_prune_ms;
    long ticks;
    int loop_nice; /* the control loop thread's nice value */
    long store_errors;
    struct cluster *cluster;       /* owned; NULL = a single node */
    struct cluster_status cstatus; /* the member's state as of the last tick */
    atomic_int stop;
};

int64_t node_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double node_mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int64_t floor_to(int64_t t, int64_t unit)
{
    int64_t q = t / unit;
    if (t % unit < 0)
        q--;
    return q * unit;
}

int node_find_blueprint(const struct node *n, const char *name)
{
    for (int i = 0; i < n->nbp; i++)
        if (strcmp(n->bps[i].cfg->name, name) == 0)
            return i;
    return -1;
}

const struct cfg_blueprint *node_blueprint(const struct node *n, int k)
{
    return k >= 0 && k < n->nbp ? n->bps[n->by_name[k]].cfg : NULL;
}

int node_add_collector(struct node *n, const struct node_collector *c)
{
    struct node_collector *grown =
        realloc(n->collectors, sizeof *grown * (size_t)(n->ncollectors + 1));
    if (!grown)
        return AE_ENOMEM;
    n->collectors = grown;
    /* Keep them sorted by precedence (stable): lower sources run first, higher ones overwrite. */
    int at = n->ncollectors;
    while (at > 0 && n->collectors[at - 1].source > c->source) {
        n->collectors[at] = n->collectors[at - 1];
        at--;
    }
    n->collectors[at] = *c;
    n->ncollectors++;
    return 0;
}

int node_set_actuator(struct node *n, int bp, const struct node_actuator *a)
{
    if (bp < 0 || bp >= n->nbp)
        return AE_EINVAL;
    n->bps[bp].actuator = *a;
    n->bps[bp].has_actuator = 1;
    return 0;
}

/* Fills n->by_name with the blueprint indices in name order (insertion sort: a config has few). */
static void sort_by_name(struct node *n)
{
    for (int i = 0; i < n->nbp; i++) {
        int at = i;
        while (at > 0 && strcmp(n->bps[n->by_name[at - 1]].cfg->name, n->bps[i].cfg->name) > 0) {
            n->by_name[at] = n->by_name[at - 1];
            at--;
        }
        n->by_name[at] = i;
    }
}

/* Reloads the newest minutes of every blueprint from the store into its aggregator. */
static int reload_history(struct node *n, int64_t now_ms, char *err, size_t errlen)
{
    struct ae_minute *buf = malloc(sizeof *buf * AGG_HISTORY_MINUTES);
    if (!buf)
        return AE_ENOMEM;
    int rc = 0;
    for (int i = 0; i < n->nbp && rc == 0; i++) {
        struct node_bp *b = &n->bps[i];
        int got = store_read_latest(n->store, b->cfg->name, now_ms + 1, buf, AGG_HISTORY_MINUTES,
                                    err, errlen);
        if (got < 0) {
            rc = got;
            break;
        }
        int kept = 0;
        for (int k = 0; k < got; k++)
            kept += agg_preload(b->history, &buf[k]) == 0;
        if (got > 0)
            nlog(NLOG_INFO, "history",
                 "blueprint %s: reloaded %d minutes from %s (newest %lld); usable for a window "
                 "of %d: %d minutes",
                 b->cfg->name, kept, store_path(n->store), (long long)buf[got - 1].start_ms,
                 n->cfg.ttm.input_window_minutes,
                 agg_history_minutes(b->history, n->cfg.ttm.input_window_minutes, now_ms));
    }
    free(buf);
    return rc;
}

/* With a classical ttm.forecaster: feeds each blueprint's forecaster the stored minutes of the
 * last FCR_HISTORY_MINUTES (oldest first), more than the aggregator keeps, so that it fits on the
 * node's own history. */
static int preload_forecasters(struct node *n, int64_t now_ms, char *err, size_t errlen)
{
    if (n->cfg.ttm.forecaster == FCR_MODEL)
        return 0;
    struct ae_minute *buf = malloc(sizeof *buf * FCR_HISTORY_MINUTES);
    if (!buf)
        return AE_ENOMEM;
    int rc = 0;
    for (int i = 0; i < n->nbp && rc == 0; i++) {
        int got = store_read_latest(n->store, n->bps[i].cfg->name, now_ms + 1, buf,
                                    FCR_HISTORY_MINUTES, err, errlen);
        if (got < 0) {
            rc = got;
            break;
        }
        for (int k = 0; k < got; k++)
            ttm_preload(scl_ttm(n->step), i, &buf[k]);
        nlog(NLOG_INFO, "history", "blueprint %s: %d stored minutes for the %s forecaster",
             n->bps[i].cfg->name, got, fcr_kind_names[n->cfg.ttm.forecaster]);
    }
    free(buf);
    return rc;
}

/* node_open's work on a zeroed node; on failure the caller frees it. */
static int node_build(struct node *n, struct ae_config *cfg, ae_predictor_open_fn builtin,
                      int64_t now_ms, char *err, size_t errlen)
{
    n->cfg = *cfg;
    cfg->blueprints = NULL; /* ownership moves to the node */
    cfg->blueprint_count = 0;
    n->builtin_engine = builtin;
    n->last_eval_ms = -1;
    int64_t host_mem = ae_host_memory_bytes();

    int rc = store_open(n->cfg.node.data_dir, n->cfg.node.history_retention_days, &n->store, err,
                        errlen);
    if (rc)
        return rc;
    rc = store_prune(n->store, now_ms, err, errlen);
    n->last_prune_ms = now_ms;
    if (rc < 0)
        return rc;
    if (rc > 0)
        nlog(NLOG_INFO, "history", "pruned %d rows older than %d days", rc,
             n->cfg.node.history_retention_days);

    size_t count = (size_t)(n->cfg.blueprint_count > 0 ? n->cfg.blueprint_count : 1);
    n->bps = calloc(count, sizeof *n->bps);
    n->by_name = calloc(count, sizeof *n->by_name);
    n->step_in = calloc(count, sizeof *n->step_in);
    n->step_out = calloc(count, sizeof *n->step_out);
    if (!n->bps || !n->by_name || !n->step_in || !n->step_out) {
        snprintf(err, errlen, "out of memory");
        return AE_ENOMEM;
    }
    n->nbp = n->cfg.blueprint_count;
    for (int i = 0; i < n->nbp; i++)
        cfg_blueprint_resolve(&n->cfg.blueprints[i], host_mem);
    rc =
        scl_open(&n->cfg.ttm, &n->cfg.controller, n->cfg.blueprints, n->nbp, &n->step, err, errlen);
    if (rc)
        return rc;
    scl_start(n->step, now_ms);
    for (int i = 0; i < n->nbp; i++) {
        struct node_bp *b = &n->bps[i];
        b->cfg = &n->cfg.blueprints[i];
        b->s = scl_bp(n->step, i);
        b->last_forecast_ms = INT64_MIN;
        b->history = agg_new();
        if (!b->history) {
            snprintf(err, errlen, "out of memory");
            return AE_ENOMEM;
        }
    }
    sort_by_name(n);
    if ((rc = reload_history(n, now_ms, err, errlen)) != 0)
        return rc;
    if ((rc = preload_forecasters(n, now_ms, err, errlen)) != 0)
        return rc;
    rc = nclu_open(&n->cfg, &n->cluster, err, errlen);
    if (rc == 0 && n->cluster) {
        scl_set_leader(n->step, 0); /* until etcd says otherwise */
        cluster_status(n->cluster, &n->cstatus);
        nlog(NLOG_INFO, "cluster", "member of the cluster on %s (and %d more endpoints)",
             n->cfg.cluster.etcd_endpoints[0], n->cfg.cluster.etcd_endpoints_count - 1);
    }
    return rc;
}

int node_open(struct ae_config *cfg, ae_predictor_open_fn builtin, int64_t now_ms,
              struct node **out, char *err, size_t errlen)
{
    *out = NULL;
    struct node *n = calloc(1, sizeof *n);
    if (!n) {
        cfg_free(cfg);
        snprintf(err, errlen, "out of memory");
        return AE_ENOMEM;
    }
    pthread_mutex_init(&n->lock, NULL);
    pthread_mutex_init(&n->reload_lock, NULL);
    int rc = node_build(n, cfg, builtin, now_ms, err, errlen);
    if (rc) {
        node_free(n);
        return rc;
    }
    *out = n;
    return 0;
}

int node_load_model(struct node *n, int is_reload, char *err, size_t errlen)
{
    if (!n->cfg.ttm.enabled) {
        snprintf(err, errlen, "TTM is disabled (ttm.enabled = false)");
        return AE_ESTATE;
    }
    pthread_mutex_lock(&n->reload_lock);
    struct mload_request req = {
        .model_path = n->cfg.ttm.model_path,
        .extensions_dir = n->cfg.node.extensions_dir,
        .window = n->cfg.ttm.input_window_minutes,
        .horizon = n->cfg.ttm.prediction_horizon,
        .max_batch = n->nbp > 0 ? n->nbp : 1,
        .builtin = n->builtin_engine,
    };
    ae_predictor *p = NULL;
    int rc = mload_open(&req, &p, err, errlen);
    pthread_mutex_lock(&n->lock);
    ae_predictor *old = n->predictor;
    if (rc == 0) {
        rc = ttm_set_predictor(scl_ttm(n->step), p, err, errlen);
        if (rc != 0) {
            ae_predictor_close(p);
            p = NULL;
            char ignored[256];
            if (old) /* the manager dropped it: put the running model back */
                ttm_set_predictor(scl_ttm(n->step), old, ignored, sizeof ignored);
        }
    }
    if (rc == 0) {
        n->predictor = p;
        n->model_error[0] = '\0';
        scl_evaluate_next(n->step); /* state and forecasts right away */
        if (is_reload)
            n->reloads_ok++;
        ae_predictor_close(old);
    } else {
        if (is_reload)
            n->reloads_failed++;
        if (old)
            snprintf(n->model_error, sizeof n->model_error,
                     "reload failed, previous model kept: %s", err);
        else
            snprintf(n->model_error, sizeof n->model_error, "%s", err);
    }
    pthread_mutex_unlock(&n->lock);
    pthread_mutex_unlock(&n->reload_lock);
    if (rc != 0) {
        if (old)
            nlog(NLOG_ERROR, "ttm", "model reload failed, the running model stays: %s", err);
        else if (rc == AE_ENOENT || rc == AE_EUNSUPPORTED)
            nlog(NLOG_WARN, "ttm", "TTM stays disabled: %s; the reactive tier runs alone", err);
        else
            nlog(NLOG_ERROR, "ttm", "TTM model rejected: %s; the reactive tier runs alone", err);
    } else if (is_reload) {
        nlog(NLOG_INFO, "ttm", "model reloaded from %s", n->cfg.ttm.model_path);
    }
    return rc;
}

/* The decision's inputs as a JSON object text (caller frees), or NULL. */
static char *inputs_json(const struct ae_decision *d)
{
    json_t *o = json_object();
    for (int i = 0; o && i < d->input_count; i++)
        json_object_set_new(o, d->inputs[i].name, json_real(d->inputs[i].value));
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
    json_decref(o);
    return s;
}

/* Writes a decision to the log, the store and the blueprint's "last decision". Lock held.
 * Returns its row id in the store, or 0 when it could not be written. */
static int64_t record_decision(struct node *n, struct node_bp *b, const struct ae_decision *d,
                               const char *result)
{
    b->last_decision = *d;
    b->has_decision = 1;
    snprintf(b->last_result, sizeof b->last_result, "%s", result);
    if ((unsigned)d->tier < AE_TIER_COUNT && (unsigned)d->action < AE_ACTION_COUNT)
        b->decisions[d->tier][d->action]++;
    char *inputs = inputs_json(d);
    struct store_decision row = {
        .ts_ms = d->timestamp_ms,
        .blueprint = b->cfg->name,
        .tier = ae_tier_name(d->tier),
        .action = ae_action_name(d->action),
        .from = d->from,
        .to = d->to,
        .reason = d->reason,
        .inputs_json = inputs ? inputs : "{}",
        .result = result,
    };
    char err[512];
    int64_t id = 0;
    if (store_put_decision(n->store, &row, &id, err, sizeof err) != 0) {
        n->store_errors++;
        nlog(NLOG_ERROR, "history", "%s", err);
    }
    b->last_decision_id = id;
    nlog(d->action == AE_ACTION_HOLD ? NLOG_DEBUG : NLOG_INFO, "decision",
         "blueprint %s: %s %s %d -> %d (%s) inputs %s: %s", b->cfg->name, ae_tier_name(d->tier),
         ae_action_name(d->action), d->from, d->to, d->reason, inputs ? inputs : "{}", result);
    free(inputs);
    return id;
}

/* An actuator run finished (status just refreshed): if it ran the count the newest asking
 * decision wanted, that decision's result becomes the run's outcome, in the store and, when it
 * is still the blueprint's last decision, in memory. A run for an older count (the count
 * changed while it ran) is only logged by the actuator. Lock held. */
static void attach_run_result(struct node *n, struct node_bp *b)
{
    struct scl_bp *s = b->s;
    if (b->status.runs == s->runs_seen)
        return;
    s->runs_seen = b->status.runs;
    if (!s->asked_id || b->status.run_count != s->asked_count || !b->status.run_result[0])
        return;
    char err[512];
    int rc =
        store_set_decision_result(n->store, s->asked_id, b->status.run_result, err, sizeof err);
    if (rc == AE_EIO) {
        n->store_errors++;
        nlog(NLOG_ERROR, "history", "%s", err);
    }
    if (s->asked_id == b->last_decision_id)
        snprintf(b->last_result, sizeof b->last_result, "%s", b->status.run_result);
}

static void store_minute(struct node *n, struct node_bp *b, const struct ae_minute *m)
{
    if (n->cluster && cluster_publish_minute(n->cluster, b->cfg->name, m) != 0)
        nlog(NLOG_ERROR, "cluster", "blueprint %s: minute %lld not published", b->cfg->name,
             (long long)m->start_ms);
    char err[512];
    if (store_put_minute(n->store, b->cfg->name, m, err, sizeof err) != 0) {
        n->store_errors++;
        nlog(NLOG_ERROR, "history", "%s", err);
    }
}

/* Builds the snapshot of the second starting at sec_ms and folds it into the history. */
static void fold_second(struct node *n, int bi, int64_t sec_ms)
{
    struct node_bp *b = &n->bps[bi];
    struct ae_snapshot *s = &b->last_snapshot;
    ae_snapshot_init(s, sec_ms);
    s->ready = b->status.ready;
    s->requested = b->s->requested;
    /* event_loop_lag_ms: the workload's own lag when a collector knows it, else ours. */
    ae_snapshot_set(s, AE_F_EVENT_LOOP_LAG_MS, n->lag.last * 1000.0);
    for (int c = 0; c < n->ncollectors; c++)
        n->collectors[c].collect(n->collectors[c].state, bi, s);
    scl_push_fold(b->s, sec_ms, s); /* pushed values win */
    b->has_snapshot = 1;
    struct ae_minute closed;
    if (agg_add(b->history, s, &closed) == 1)
        store_minute(n, b, &closed);
}

/* Hands a change the control step decided to the blueprint's actuator and records it. */
static void apply_change(struct node *n, struct node_bp *b, int bi, const struct scl_output *o)
{
    char result[300];
    int asked = 0;
    char fence[CLUSTER_WHY_MAX];
    if (b->has_actuator && n->cluster && b->cfg->actuator == CFG_ACTUATOR_EXEC &&
        !nclu_may_actuate(n->cluster, &n->cstatus, fence, sizeof fence)) {
        snprintf(result, sizeof result,
                 "not applied: exec runs on the cluster's leader only: %.200s", fence);
    } else if (b->has_actuator) {
        char why[256] = "";
        int rc = b->actuator.set_desired(b->actuator.state, bi, o->desired, why, sizeof why);
        asked = rc == 0;
        if (rc == 0)
            snprintf(result, sizeof result, "requested %d from the %s actuator", o->desired,
                     b->actuator.kind);
        else
            snprintf(result, sizeof result, "actuator %s failed: %s", b->actuator.kind, why);
    } else {
        snprintf(result, sizeof result,
                 "not applied: actuator \"%s\" is not available in this build",
                 cfg_actuator_names[b->cfg->actuator]);
    }
    int64_t id = record_decision(n, b, &o->decision, result);
    if (asked) {
        b->s->asked_id = id;
        b->s->asked_count = o->desired;
    }
}

/* Records a recommendation the TTM tier made in this tick's step. */
static void record_ttm_decision(struct node *n, struct node_bp *b, const struct ae_decision *d)
{
    const char *result = n->cfg.ttm.mode == CFG_TTM_FORECAST_ONLY
                             ? "recorded only (ttm.mode = forecast-only)"
                         : d->action == AE_ACTION_HOLD ? "no action"
                                                       : "target handed to the controller";
    record_decision(n, b, d, result);
}

/* Writes blueprint i's forecast to the history when the step made a new one. Step 1 predicts the
 * minute holding the evaluation time (the one the confidence tracker resolves it against). */
static void store_forecast(struct node *n, int i)
{
    struct node_bp *b = &n->bps[i];
    struct ttm_bp_status st;
    if (ttm_get_blueprint(scl_ttm_const(n->step), i, &st) != 0 || !st.has_forecast ||
        !st.forecast || st.forecast_ms == b->last_forecast_ms)
        return;
    b->last_forecast_ms = st.forecast_ms;
    char err[512];
    if (store_put_forecast(n->store, b->cfg->name, st.forecast_ms, ae_minute_floor(st.forecast_ms),
                           st.horizon, st.forecast, st.confidence, err, sizeof err) != 0) {
        n->store_errors++;
        nlog(NLOG_ERROR, "history", "%s", err);
    }
}

/* The control step over every blueprint, with the TTM evaluation's logs and timing. Lock held. */
static void run_step(struct node *n, int64_t now_ms)
{
    ttm *t = scl_ttm(n->step);
    enum ttm_state before = ttm_get_state(t);
    double t0 = node_mono_s();
    if (scl_step(n->step, now_ms, n->step_in, n->step_out)) {
        n->last_eval_ms = now_ms;
        n->last_eval_s = node_mono_s() - t0;
        nlog(NLOG_DEBUG, "ttm", "evaluation took %.1f ms", n->last_eval_s * 1000.0);
        enum ttm_state after = ttm_get_state(t);
        if (after == TTM_ERROR)
            nlog(NLOG_ERROR, "ttm", "inference failed, the reactive tier decides alone: %s",
                 ttm_last_error(t));
        else if (before == TTM_ERROR && after == TTM_RUNNING)
            nlog(NLOG_INFO, "ttm", "inference works again, state RUNNING");
    }
    for (int i = 0; i < n->nbp; i++) {
        const struct scl_output *o = &n->step_out[i];
        store_forecast(n, i);
        const struct scl_forecast *f = &n->bps[i].s->forecast;
        if (n->cluster && n->cstatus.leader && f->count > 0 && f->made_ms == now_ms)
            nclu_publish(n->cluster, &n->cstatus, n->bps[i].cfg, f, now_ms,
                         n->cfg.ttm.evaluation_interval_ms);
        if (o->ttm_decision)
            record_ttm_decision(n, &n->bps[i], o->ttm_decision);
        if (o->changed)
            apply_change(n, &n->bps[i], i, o);
    }
}

void node_tick(struct node *n, int64_t now_ms, double deadline_mono_s)
{
    pthread_mutex_lock(&n->lock);
    if (deadline_mono_s >= 0) {
        double lag = node_mono_s() - deadline_mono_s;
        lagstat_add(&n->lag, lag > 0 ? lag : 0);
    }
    n->ticks++;
    if (n->cluster) {
        cluster_status(n->cluster, &n->cstatus);
        if (n->cstatus.leader != scl_is_leader(n->step))
            nlog(NLOG_INFO, "cluster", "%s",
                 n->cstatus.leader ? "this node leads the cluster now" : n->cstatus.why);
        scl_set_leader(n->step, n->cstatus.leader);
    }
    int64_t sec = floor_to(now_ms, 1000) - 1000; /* the second that just ended */
    for (int i = 0; i < n->nbp; i++) {
        struct node_bp *b = &n->bps[i];
        if (b->has_actuator) {
            b->actuator.status(b->actuator.state, i, &b->status);
            attach_run_result(n, b);
        } else {
            memset(&b->status, 0, sizeof b->status);
            b->status.requested = b->s->requested;
        }
        if (!b->has_snapshot || b->last_snapshot.timestamp_ms < sec)
            fold_second(n, i, sec);
        struct ae_minute closed;
        if (agg_tick(b->history, now_ms, &closed) == 1)
            store_minute(n, b, &closed);
        n->step_in[i] = (struct scl_input){
            .history = b->history, .snapshot = &b->last_snapshot, .ready = b->status.ready};
        if (n->cluster && !n->cstatus.leader)
            nclu_follow(n->cluster, b->cfg->name, now_ms, &n->step_in[i]);
    }
    run_step(n, now_ms);
    if (now_ms - n->last_prune_ms >= 3600000) { /* retention, hourly */
        char err[512];
        n->last_prune_ms = now_ms;
        if (store_prune(n->store, now_ms, err, sizeof err) < 0)
            nlog(NLOG_ERROR, "history", "%s", err);
    }
    pthread_mutex_unlock(&n->lock);
}

int node_start_http(struct node *n, char *err, size_t errlen)
{
    return http_start(n->cfg.api.bind, api_routes, api_route_count, n, n->cfg.api.token, &n->http,
                      err, errlen);
}

void node_request_stop(struct node *n)
{
    atomic_store(&n->stop, 1);
}

/* The first deadline: just after the next multiple of the interval in wall-clock time (so 1-s
 * ticks fold each second right after it ends), expressed on the monotonic clock. */
static double aligned_deadline(int64_t interval_ms)
{
    int64_t now = node_now_ms();
    int64_t next = floor_to(now, interval_ms) + interval_ms + 2;
    return node_mono_s() + (double)(next - now) / 1000.0;
}

/* Raises the calling thread's priority (Linux: nice is per thread) when the process may. */
static void raise_loop_priority(struct node *n)
{
    errno = 0;
    int before = getpriority(PRIO_PROCESS, 0);
    if (errno != 0 || before <= NODE_LOOP_NICE)
        ; /* already at least that high */
    else if (setpriority(PRIO_PROCESS, 0, NODE_LOOP_NICE) == 0)
        nlog(NLOG_INFO, "node", "control loop runs at nice %d", NODE_LOOP_NICE);
    else
        nlog(NLOG_INFO, "node",
             "control loop runs at nice %d (raising it to %d needs CAP_SYS_NICE: %s)", before,
             NODE_LOOP_NICE, strerror(errno));
    errno = 0;
    n->loop_nice = getpriority(PRIO_PROCESS, 0);
}

void node_run(struct node *n)
{
    const int64_t interval = n->cfg.controller.evaluation_interval_ms;
    raise_loop_priority(n);
    double deadline = aligned_deadline(interval);
    while (!atomic_load(&n->stop)) {
        struct timespec ts;
        ts.tv_sec = (time_t)deadline;
        ts.tv_nsec = (long)((deadline - (double)ts.tv_sec) * 1e9);
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
            ;
        if (atomic_load(&n->stop))
            break;
        /* The lag counts from the scheduled deadline, so a tick that overran delays (and shows
         * in) the next one; more than one interval behind, the schedule is realigned. */
        node_tick(n, node_now_ms(), deadline);
        deadline += (double)interval / 1000.0;
        if (node_mono_s() - deadline > (double)interval / 1000.0)
            deadline = aligned_deadline(interval);
    }
}

int node_push(struct node *n, const char *name, const struct req_push *p, int64_t now_ms, char *err,
              size_t errlen)
{
    pthread_mutex_lock(&n->lock);
    int rc = 0;
    int bi = node_find_blueprint(n, name);
    if (bi < 0) {
        snprintf(err, errlen, "no blueprint named \"%.64s\"", name);
        rc = AE_ENOENT;
        goto out;
    }
    struct node_bp *b = &n->bps[bi];
    int64_t sec = floor_to(p->has_timestamp ? p->timestamp_ms : now_ms, 1000);
    int64_t newest_folded = b->has_snapshot ? b->last_snapshot.timestamp_ms : INT64_MIN;
    if (newest_folded < floor_to(now_ms, 1000) - 2000) /* before the first tick, or stalled */
        newest_folded = floor_to(now_ms, 1000) - 2000;
    if (sec <= newest_folded) {
        snprintf(err, errlen,
                 "timestamp %lld is in a second the node has already folded (newest folded "
                 "second starts at %lld); omit \"timestamp\" to push for the current second",
                 (long long)p->timestamp_ms, (long long)newest_folded);
        rc = AE_ERANGE;
        goto out;
    }
    if (sec > now_ms + 5000) {
        snprintf(err, errlen, "timestamp %lld is more than 5 s in the future (now %lld)",
                 (long long)p->timestamp_ms, (long long)now_ms);
        rc = AE_ERANGE;
        goto out;
    }
    if (scl_push(b->s, sec, p->values, p->present) != 0) {
        snprintf(err, errlen, "too many distinct seconds pushed ahead for blueprint %s", name);
        rc = AE_ERANGE;
    }
out:
    pthread_mutex_unlock(&n->lock);
    return rc;
}

void node_free(struct node *n)
{
    if (!n)
        return;
    http_stop(n->http);
    cluster_stop(n->cluster); /* resigns: another member takes over within a round */
    n->cluster = NULL;
    for (int i = 0; n->bps && i < n->nbp; i++) {
        struct node_bp *b = &n->bps[i];
        struct ae_minute closed;
        if (b->history && n->store && agg_close(b->history, &closed) == 1)
            store_minute(n, b, &closed);
        if (b->has_actuator && b->actuator.close)
            b->actuator.close(b->actuator.state);
        agg_free(b->history);
    }
    for (int c = 0; c < n->ncollectors; c++)
        if (n->collectors[c].close)
            n->collectors[c].close(n->collectors[c].state);
    scl_free(n->step);
    ae_predictor_close(n->predictor);
    store_close(n->store);
    cfg_free(&n->cfg);
    free(n->collectors);
    free(n->bps);
    free(n->by_name);
    free(n->step_in);
    free(n->step_out);
    pthread_mutex_destroy(&n->lock);
    pthread_mutex_destroy(&n->reload_lock);
    free(n);
}

const struct ae_config *node_config(const struct node *n)
{
    return &n->cfg;
}

struct store *node_store(struct node *n)
{
    return n->store;
}

int node_http_port(const struct node *n)
{
    return n->http ? http_port(n->http) : 0;
}

int node_model_loaded(struct node *n)
{
    pthread_mutex_lock(&n->lock);
    int loaded = n->predictor != NULL;
    pthread_mutex_unlock(&n->lock);
    return loaded;
}

/* Copies blueprint b's part of the view. Lock held. */
static void view_blueprint(const struct node *n, int i, struct node_bp_view *v)
{
    const struct node_bp *b = &n->bps[i];
    v->cfg = b->cfg;
    v->has_actuator = b->has_actuator;
    v->status = b->status;
    v->requested = b->s->requested;
    v->pushes = b->s->pushes;
    v->has_snapshot = b->has_snapshot;
    v->last_snapshot = b->last_snapshot;
    v->has_decision = b->has_decision;
    v->last_decision = b->last_decision;
    memcpy(v->decisions, b->decisions, sizeof v->decisions);
    snprintf(v->last_result, sizeof v->last_result, "%s", b->last_result);
    const struct adt *ctl = &b->s->controller;
    v->has_rec = ctl->has_rec;
    v->rec_floor = ctl->floor;
    v->rec_ceiling = ctl->ceiling;
    v->rec_time_ms = ctl->rec_time_ms;
    v->rec_from_leader =
        ctl->has_rec && !scl_is_leader(n->step) && ctl->rec_time_ms == b->s->remote_issued_ms;
    v->history_minutes = agg_count(b->history);
    const struct ae_minute *m = agg_last(b->history);
    v->has_last_minute = m != NULL;
    if (m)
        v->last_minute = *m;
    const ttm *t = scl_ttm_const(n->step);
    v->has_ttm = ttm_get_blueprint(t, i, &v->ttm) == 0;
    if (!v->has_ttm)
        return;
    snprintf(v->ttm_error, sizeof v->ttm_error, "%s", v->ttm.error ? v->ttm.error : "");
    v->ttm.error = v->ttm_error;
    if (v->ttm.selection) {
        v->selection = *v->ttm.selection;
        v->ttm.selection = &v->selection;
    }
    if (v->ttm.forecast) {
        int h = v->ttm.horizon < CONF_MAX_HORIZON ? v->ttm.horizon : CONF_MAX_HORIZON;
        memcpy(v->forecast, v->ttm.forecast, (size_t)h * AE_FEATURE_COUNT * sizeof *v->forecast);
        v->ttm.forecast = v->forecast;
        v->ttm.horizon = h;
    }
}

int node_view_take(struct node *n, struct node_view **out)
{
    *out = NULL;
    struct node_view *v = calloc(1, sizeof *v);
    struct node_bp_view *bps = calloc((size_t)(n->nbp > 0 ? n->nbp : 1), sizeof *bps);
    if (!v || !bps) {
        free(v);
        free(bps);
        return AE_ENOMEM;
    }
    v->bps = bps;
    v->nbp = n->nbp;
    v->last_forecast = -1;
    pthread_mutex_lock(&n->lock);
    const ttm *t = scl_ttm_const(n->step);
    int last = ttm_last_forecast_blueprint(t);
    for (int k = 0; k < n->nbp; k++) {
        view_blueprint(n, n->by_name[k], &bps[k]);
        if (n->by_name[k] == last)
            v->last_forecast = k;
    }
    v->ttm_state = ttm_get_state(t);
    snprintf(v->ttm_reason, sizeof v->ttm_reason, "%s", ttm_stopped_reason(t));
    v->cluster_enabled = n->cluster != NULL;
    if (n->cluster)
        v->cluster = n->cstatus;
    v->is_leader = scl_is_leader(n->step);
    snprintf(v->ttm_error, sizeof v->ttm_error, "%s", ttm_last_error(t));
    ttm_get_counters(t, &v->ttm_counters);
    v->model_loaded = n->predictor != NULL;
    snprintf(v->model_error, sizeof v->model_error, "%s", n->model_error);
    v->reloads_ok = n->reloads_ok;
    v->reloads_failed = n->reloads_failed;
    v->last_eval_ms = n->last_eval_ms;
    v->last_eval_s = n->last_eval_s;
    v->ticks = n->ticks;
    v->store_errors = n->store_errors;
    v->lag = n->lag;
    v->loop_nice = n->loop_nice;
    pthread_mutex_unlock(&n->lock);
    *out = v;
    return 0;
}

void node_view_free(struct node_view *v)
{
    if (!v)
        return;
    free(v->bps);
    free(v);
}
