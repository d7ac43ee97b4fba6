/* The node's state and control loop (see node.h). */
#include "node.h"

#include "aether/error.h"
#include "aether/tree.h"
#include "api.h"
#include "log.h"
#include "mload.h"
#include "reqparse.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

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

static const struct node *sort_ctx;
static int by_name_cmp(const void *a, const void *b)
{
    return strcmp(sort_ctx->bps[*(const int *)a].cfg->name,
                  sort_ctx->bps[*(const int *)b].cfg->name);
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
            ttm_preload(n->ttm, i, &buf[k]);
        nlog(NLOG_INFO, "history", "blueprint %s: %d stored minutes for the %s forecaster",
             n->bps[i].cfg->name, got, fcr_kind_names[n->cfg.ttm.forecaster]);
    }
    free(buf);
    return rc;
}

int node_init(struct node *n, struct ae_config *cfg, ae_predictor_open_fn builtin, int64_t now_ms,
              char *err, size_t errlen)
{
    memset(n, 0, sizeof *n);
    n->cfg = *cfg;
    cfg->blueprints = NULL; /* ownership moves to the node */
    cfg->blueprint_count = 0;
    n->builtin_engine = builtin;
    pthread_mutex_init(&n->lock, NULL);
    pthread_mutex_init(&n->reload_lock, NULL);
    n->started_ms = now_ms;
    n->last_eval_ms = -1;
    n->next_ttm_ms = now_ms + n->cfg.ttm.evaluation_interval_ms;
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    int64_t host_mem = pages > 0 && page > 0 ? (int64_t)pages * page : 0;

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
    n->ttm_inputs = calloc(count, sizeof *n->ttm_inputs);
    if (!n->bps || !n->by_name || !n->ttm_inputs) {
        snprintf(err, errlen, "out of memory");
        return AE_ENOMEM;
    }
    n->nbp = n->cfg.blueprint_count;
    for (int i = 0; i < n->nbp; i++) {
        struct cfg_blueprint *c = &n->cfg.blueprints[i];
        cfg_blueprint_resolve(c, host_mem);
        struct node_bp *b = &n->bps[i];
        b->cfg = c;
        b->history = agg_new();
        if (!b->history) {
            snprintf(err, errlen, "out of memory");
            return AE_ENOMEM;
        }
        adt_init(&b->controller, now_ms);
        b->requested = c->instances;
        b->last_ttm_decision_ms = INT64_MIN;
        for (int k = 0; k < NODE_PUSH_SLOTS; k++)
            b->push[k].second_ms = -1;
        n->by_name[i] = i;
    }
    sort_ctx = n;
    qsort(n->by_name, (size_t)n->nbp, sizeof *n->by_name, by_name_cmp);
    sort_ctx = NULL;

    if ((rc = reload_history(n, now_ms, err, errlen)) != 0)
        return rc;
    n->ttm = ttm_new(&n->cfg.ttm, &n->cfg.controller, n->cfg.blueprints, n->nbp, err, errlen);
    if (!n->ttm)
        return AE_EINVAL;
    return preload_forecasters(n, now_ms, err, errlen);
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
        rc = ttm_set_predictor(n->ttm, p, err, errlen);
        if (rc != 0) {
            ae_predictor_close(p);
            p = NULL;
            char ignored[256];
            if (old) /* the manager dropped it: put the running model back */
                ttm_set_predictor(n->ttm, old, ignored, sizeof ignored);
        }
    }
    if (rc == 0) {
        n->predictor = p;
        n->model_error[0] = '\0';
        n->next_ttm_ms = 0; /* evaluate at the next tick: state and forecasts right away */
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
    if ((int)d->tier >= 0 && d->tier < 3 && (int)d->action >= 0 && d->action < 4)
        n->decisions[d->tier][d->action]++;
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
    if (b->status.runs == b->runs_seen)
        return;
    b->runs_seen = b->status.runs;
    if (!b->asked_id || b->status.run_count != b->asked_count || !b->status.run_result[0])
        return;
    char err[512];
    int rc =
        store_set_decision_result(n->store, b->asked_id, b->status.run_result, err, sizeof err);
    if (rc == AE_EIO) {
        n->store_errors++;
        nlog(NLOG_ERROR, "history", "%s", err);
    }
    if (b->asked_id == b->last_decision_id)
        snprintf(b->last_result, sizeof b->last_result, "%s", b->status.run_result);
}

static void store_minute(struct node *n, struct node_bp *b, const struct ae_minute *m)
{
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
    s->requested = b->requested;
    /* event_loop_lag_ms: the workload's own lag when a collector knows it, else ours. */
    ae_snapshot_set(s, AE_F_EVENT_LOOP_LAG_MS, n->lag.last * 1000.0);
    for (int c = 0; c < n->ncollectors; c++)
        n->collectors[c].collect(n->collectors[c].state, bi, s);
    for (int k = 0; k < NODE_PUSH_SLOTS; k++) {
        struct node_push_slot *p = &b->push[k];
        if (p->second_ms == sec_ms)
            for (int f = 0; f < AE_FEATURE_COUNT; f++)
                if (p->present & AE_FEATURE_BIT(f))
                    ae_snapshot_set(s, f, p->values[f]);
        if (p->second_ms != -1 && p->second_ms <= sec_ms)
            p->second_ms = -1;
    }
    b->has_snapshot = 1;
    struct ae_minute closed;
    if (agg_add(b->history, s, &closed) == 1)
        store_minute(n, b, &closed);
}

/* Tier 1 + the recommendation in force, every tick. */
static void decide(struct node *n, struct node_bp *b, int bi, int64_t now_ms)
{
    struct tree_input in;
    memset(&in, 0, sizeof in);
    tree_input_from_snapshot(&in, &b->last_snapshot);
    in.ready = b->status.ready;
    in.requested = b->requested;
    in.min_instances = b->cfg->min_instances;
    in.max_instances = b->cfg->max_instances;
    struct ae_decision d;
    int desired = adt_decide(&b->controller, &n->cfg.controller, n->cfg.ttm.evaluation_interval_ms,
                             &in, now_ms, &d);
    if (desired == b->requested)
        return;
    char result[300];
    int asked = 0;
    if (b->has_actuator) {
        char why[256] = "";
        int rc = b->actuator.set_desired(b->actuator.state, bi, desired, why, sizeof why);
        asked = rc == 0;
        if (rc == 0)
            snprintf(result, sizeof result, "requested %d from the %s actuator", desired,
                     b->actuator.kind);
        else
            snprintf(result, sizeof result, "actuator %s failed: %s", b->actuator.kind, why);
    } else {
        snprintf(result, sizeof result,
                 "not applied: actuator \"%s\" is not available in this build",
                 cfg_actuator_names[b->cfg->actuator]);
    }
    d.from = b->requested;
    d.to = desired;
    b->requested = desired;
    int64_t id = record_decision(n, b, &d, result);
    if (b->has_actuator && asked) {
        b->asked_id = id;
        b->asked_count = desired;
    }
}

/* The TTM manager's evaluation, when due; records each new recommendation. */
static void evaluate_ttm(struct node *n, int64_t now_ms)
{
    struct ttm_bp_input *in = n->ttm_inputs;
    for (int i = 0; i < n->nbp; i++) {
        in[i].history = n->bps[i].history;
        in[i].ready = n->bps[i].status.ready;
        in[i].requested = n->bps[i].requested;
        in[i].controller = &n->bps[i].controller;
    }
    enum ttm_state before = ttm_get_state(n->ttm);
    double t0 = node_mono_s();
    enum ttm_state after = ttm_evaluate(n->ttm, now_ms, 1, in);
    n->last_eval_ms = now_ms;
    n->last_eval_s = node_mono_s() - t0;
    nlog(NLOG_DEBUG, "ttm", "evaluation took %.1f ms", n->last_eval_s * 1000.0);
    if (after == TTM_ERROR)
        nlog(NLOG_ERROR, "ttm", "inference failed, the reactive tier decides alone: %s",
             ttm_last_error(n->ttm));
    else if (before == TTM_ERROR && after == TTM_RUNNING)
        nlog(NLOG_INFO, "ttm", "inference works again, state RUNNING");
    for (int i = 0; i < n->nbp; i++) {
        const struct ae_decision *d = ttm_last_decision(n->ttm, i);
        struct node_bp *b = &n->bps[i];
        if (!d || d->timestamp_ms == b->last_ttm_decision_ms)
            continue;
        b->last_ttm_decision_ms = d->timestamp_ms;
        const char *result = n->cfg.ttm.mode == CFG_TTM_FORECAST_ONLY
                                 ? "recorded only (ttm.mode = forecast-only)"
                             : d->action == AE_ACTION_HOLD ? "no action"
                                                           : "target handed to the controller";
        record_decision(n, b, d, result);
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
    int64_t sec = floor_to(now_ms, 1000) - 1000; /* the second that just ended */
    for (int i = 0; i < n->nbp; i++) {
        struct node_bp *b = &n->bps[i];
        if (b->has_actuator) {
            b->actuator.status(b->actuator.state, i, &b->status);
            attach_run_result(n, b);
        } else {
            memset(&b->status, 0, sizeof b->status);
            b->status.requested = b->requested;
        }
        if (!b->has_snapshot || b->last_snapshot.timestamp_ms < sec)
            fold_second(n, i, sec);
        struct ae_minute closed;
        if (agg_tick(b->history, now_ms, &closed) == 1)
            store_minute(n, b, &closed);
        decide(n, b, i, now_ms);
    }
    if (now_ms >= n->next_ttm_ms) {
        n->next_ttm_ms += n->cfg.ttm.evaluation_interval_ms;
        if (n->next_ttm_ms <= now_ms)
            n->next_ttm_ms = now_ms + n->cfg.ttm.evaluation_interval_ms;
        evaluate_ttm(n, now_ms);
    }
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
    struct node_push_slot *slot = NULL;
    for (int k = 0; k < NODE_PUSH_SLOTS && !slot; k++)
        if (b->push[k].second_ms == sec)
            slot = &b->push[k];
    for (int k = 0; k < NODE_PUSH_SLOTS && !slot; k++)
        if (b->push[k].second_ms == -1)
            slot = &b->push[k];
    if (!slot) {
        snprintf(err, errlen, "too many distinct seconds pushed ahead for blueprint %s", name);
        rc = AE_ERANGE;
        goto out;
    }
    if (slot->second_ms != sec) {
        slot->second_ms = sec;
        slot->present = 0;
    }
    for (int f = 0; f < AE_FEATURE_COUNT; f++)
        if (p->present & (1u << f)) {
            slot->values[f] = p->values[f];
            slot->present |= AE_FEATURE_BIT(f);
        }
    b->pushes++;
out:
    pthread_mutex_unlock(&n->lock);
    return rc;
}

void node_free(struct node *n)
{
    http_stop(n->http);
    n->http = NULL;
    for (int i = 0; i < n->nbp; i++) {
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
    ttm_free(n->ttm);
    ae_predictor_close(n->predictor);
    store_close(n->store);
    cfg_free(&n->cfg);
    free(n->collectors);
    free(n->bps);
    free(n->by_name);
    free(n->ttm_inputs);
    pthread_mutex_destroy(&n->lock);
    pthread_mutex_destroy(&n->reload_lock);
    memset(n, 0, sizeof *n);
}
