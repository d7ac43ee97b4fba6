/* The node's state and control loop (see node.h): collectors and pushes fold each second into the
 * blueprints' minute aggregators, the core's control step (scaler.h) decides, the actuators act,
 * and every decision goes to the log and the store. */
#include "node.h"

#include "aether/error.h"
#include "aether/hostmem.h"
#include "aether/monowait.h"
#include "aether/scaler.h"
#include "backfill.h"
#include "access.h"
#include "api.h"
#include "apred.h"
#include "http.h"
#include "aether/log.h"
#include "mload.h"
#include "ncluster.h"
#include "reqparse.h"
#include "swriter.h"
#include "watchdog.h"
#include "wbudget.h"

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
    int64_t exec_adopted_ms; /* cluster exec: issued_ms of the recorded count taken last */
    int exec_given;          /* cluster exec: the count last handed to the actuator or taken from
                              * the record (set at the first tick: exec_given_set) */
    int exec_given_set;
};

#define NODE_PRUNE_EVERY_S 3600.0
#define NODE_PUSH_AHEAD_MS 5000 /* how far ahead of node time a pushed second may be */
#define NODE_DRAIN_MS 5000      /* how long a stopping node keeps trying to write what is queued */
/* A tick running longer than this many intervals (and at least NODE_STALL_MIN_S) is a stall. */
#define NODE_STALL_INTERVALS 5
#define NODE_STALL_MIN_S 5.0

/* A reload on a thread of its own (node_reload_start); guarded by its own mutex. */
struct node_bg_reload {
    pthread_mutex_t mu;
    pthread_cond_t done;
    pthread_t thread;
    int running, joinable;
    int rc;
    char err[1024];
    enum node_reload_source source; /* what asked for the last one */
    int64_t requested_ms, finished_ms; /* Unix ms; finished_ms -1 while it runs */
};

/* Everything from `lock` on is guarded by it. */
struct node {
    struct ae_config cfg; /* owned; never changed after node_open */
    ae_predictor_open_fn builtin_engine;
    struct store *store;    /* used by the writer thread once it runs */
    struct swriter *writer; /* every history write goes through it */
    struct http_server *http;
    pthread_mutex_t reload_lock; /* one model load at a time */
    struct node_bg_reload bg;    /* a reload asked for over HTTP, run on a thread of its own */
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
    double last_prune_mono_s;
    int64_t last_decision_id;  /* the node numbers decisions itself: their rows are written later */
    struct nclock clock;       /* node time (see nclock.h); read by the control loop */
    struct watchdog *watchdog; /* set and cleared by node_run (under the lock) */
    long stalls_before;        /* stalls counted by watchdogs of earlier node_run calls */
    long ticks;
    int loop_nice;                 /* the control loop thread's nice value */
    struct cluster *cluster;       /* owned; NULL = a single node */
    struct cluster_status cstatus; /* the member's state as of the last tick */
    struct npeers *peers;          /* the leader's windows of the other members (cluster only) */
    long peers_term;               /* the leadership term those windows were read in */
    atomic_int stop;
    atomic_int evaluate_again; /* an evaluation ended off the loop: use its result at once */
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
        ttm_preload_end(scl_ttm(n->step), i);
        nlog(NLOG_INFO, "history", "blueprint %s: %d stored minutes for the %s forecaster",
             n->bps[i].cfg->name, got, fcr_kind_names[n->cfg.ttm.forecaster]);
    }
    free(buf);
    return rc;
}

/* Starts node time at now_ms, or just after the newest stored minute when the wall clock is behind
 * it (a backward step before a restart must not rewrite stored minutes). */
static int start_clock(struct node *n, int64_t now_ms, char *err, size_t errlen)
{
    int64_t newest;
    int rc = store_newest_minute(n->store, &newest, err, errlen);
    if (rc)
        return rc;
    int64_t start = now_ms;
    if (newest != INT64_MIN && newest + 60000 > now_ms) {
        start = newest + 60000;
        nlog(NLOG_WARN, "node",
             "the wall clock (%lld) is behind the newest stored minute (%lld): node time starts "
             "at %lld, %.1f s ahead of the wall clock",
             (long long)now_ms, (long long)newest, (long long)start, (start - now_ms) / 1000.0);
    }
    nclock_init(&n->clock, start, node_mono_s());
    return 0;
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
    if (rc == 0)
        rc = access_resolve_token(&n->cfg.api, n->cfg.node.data_dir, err, errlen);
    if (rc)
        return rc;
    if ((rc = start_clock(n, now_ms, err, errlen)) != 0)
        return rc;
    now_ms = nclock_peek(&n->clock, node_mono_s());
    if ((rc = store_max_decision_id(n->store, &n->last_decision_id, err, errlen)) != 0)
        return rc;

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
        if ((rc = agg_open(&b->history, err, errlen)) != 0)
            return rc;
    }
    sort_by_name(n);
    backfill_all(n->store, &n->cfg, now_ms); /* before the reload, which then includes it */
    if ((rc = reload_history(n, now_ms, err, errlen)) != 0)
        return rc;
    if ((rc = preload_forecasters(n, now_ms, err, errlen)) != 0)
        return rc;
    /* From here on the writer thread owns the store handle. */
    /* The queue holds an hour of writes while the disk is full or the database locked. */
    if ((rc = swriter_start(n->store, wbudget_queue_capacity(&n->cfg), &n->writer, err, errlen)) !=
        0)
        return rc;
    swriter_prune(n->writer, now_ms);
    n->last_prune_mono_s = node_mono_s();
    rc = nclu_open(&n->cfg, &n->cluster, err, errlen);
    if (rc == 0 && n->cluster) {
        scl_set_leader(n->step, 0); /* until etcd says otherwise */
        cluster_status(n->cluster, &n->cstatus);
        nlog(NLOG_INFO, "cluster", "member of the cluster on %s (and %d more endpoints)",
             n->cfg.cluster.etcd_endpoints[0], n->cfg.cluster.etcd_endpoints_count - 1);
        for (int i = 0; i < n->nbp; i++)
            nclu_publish_history(n->cluster, n->bps[i].cfg->name, n->bps[i].history);
        rc = npeers_open(&n->cfg, &n->peers, err, errlen);
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
    pthread_mutex_init(&n->bg.mu, NULL);
    mono_cond_init(&n->bg.done);
    int rc = node_build(n, cfg, builtin, now_ms, err, errlen);
    if (rc) {
        node_free(n);
        return rc;
    }
    *out = n;
    return 0;
}

/* An evaluation ended on the inference thread (apred.h): the next tick evaluates again and picks
 * up its result. The loop never waits for inference (apred_wrap with wait_ms 0), so the lock is
 * never held while a model runs. */
static void inference_done(void *ctx)
{
    struct node *n = ctx;
    atomic_store(&n->evaluate_again, 1);
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
        /* a leader forecasts every member's blueprints in one batch */
        .max_batch = (n->nbp > 0 ? n->nbp : 1) * (n->cluster ? CLUSTER_MEMBERS_MAX : 1),
        .builtin = n->builtin_engine,
        .max_plan_bytes = (size_t)n->cfg.ttm.max_model_memory_mb << 20,
    };
    ae_predictor *p = NULL;
    int rc = mload_open(&req, &p, err, errlen);
    if (rc == 0 && !(p = apred_wrap(p, 0, n->cfg.ttm.evaluation_interval_ms, inference_done, n))) {
        snprintf(err, errlen, "out of memory starting the inference thread");
        rc = AE_ENOMEM;
    }
    pthread_mutex_lock(&n->lock);
    ae_predictor *old = n->predictor, *retired = NULL;
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
        if (n->peers && npeers_set_predictor(n->peers, p, err, errlen) != 0)
            nlog(NLOG_ERROR, "cluster", "the members' windows have no model: %s", err);
        scl_evaluate_next(n->step); /* state and forecasts right away */
        if (is_reload)
            n->reloads_ok++;
        retired = old;
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
    ae_predictor_close(retired); /* outside the lock: it waits for an evaluation it runs */
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

static void *bg_reload_main(void *arg)
{
    struct node *n = arg;
    char err[sizeof n->bg.err];
    int rc = node_load_model(n, 1, err, sizeof err);
    pthread_mutex_lock(&n->bg.mu);
    n->bg.rc = rc;
    snprintf(n->bg.err, sizeof n->bg.err, "%s", err);
    n->bg.finished_ms = node_now_ms();
    n->bg.running = 0;
    pthread_cond_broadcast(&n->bg.done);
    pthread_mutex_unlock(&n->bg.mu);
    return NULL;
}

/* Starts the reload thread (bg.mu held). 0 or AE_ENOMEM with a message. */
static int bg_reload_start(struct node *n, char *err, size_t errlen)
{
    if (n->bg.joinable) /* the previous one has ended */
        pthread_join(n->bg.thread, NULL);
    n->bg.joinable = 0;
    int rc = pthread_create(&n->bg.thread, NULL, bg_reload_main, n);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start a reload thread: %s", strerror(rc));
        return AE_ENOMEM;
    }
    n->bg.running = n->bg.joinable = 1;
    return 0;
}

int node_reload_start(struct node *n, enum node_reload_source source, char *err, size_t errlen)
{
    if (errlen)
        err[0] = '\0';
    if (!n->cfg.ttm.enabled) {
        snprintf(err, errlen, "TTM is disabled (ttm.enabled = false)");
        return AE_ESTATE;
    }
    pthread_mutex_lock(&n->bg.mu);
    int rc = AE_EAGAIN;
    if (n->bg.running) {
        snprintf(err, errlen, "a model reload is already running");
    } else if ((rc = bg_reload_start(n, err, errlen)) == 0) {
        n->bg.source = source;
        n->bg.requested_ms = node_now_ms();
        n->bg.finished_ms = -1;
    }
    pthread_mutex_unlock(&n->bg.mu);
    return rc;
}

/* The last reload's state, source, times and, when it failed, why. Takes bg.mu, never the
 * lock. */
static void reload_view(struct node *n, struct node_view *v)
{
    pthread_mutex_lock(&n->bg.mu);
    enum node_reload_state st = n->bg.running     ? NODE_RELOAD_RUNNING
                                : !n->bg.joinable ? NODE_RELOAD_NONE
                                : n->bg.rc == 0   ? NODE_RELOAD_OK
                                                  : NODE_RELOAD_FAILED;
    v->reload = st;
    v->reload_source = n->bg.source;
    v->reload_requested_ms = st == NODE_RELOAD_NONE ? -1 : n->bg.requested_ms;
    v->reload_finished_ms = st == NODE_RELOAD_NONE ? -1 : n->bg.finished_ms;
    snprintf(v->reload_error, sizeof v->reload_error, "%s",
             st == NODE_RELOAD_FAILED ? n->bg.err : "");
    pthread_mutex_unlock(&n->bg.mu);
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
        .id = ++n->last_decision_id,
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
    int64_t id = swriter_put_decision(n->writer, &row) == 0 ? row.id : 0;
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
    swriter_set_result(n->writer, s->asked_id, b->status.run_result);
    if (s->asked_id == b->last_decision_id)
        snprintf(b->last_result, sizeof b->last_result, "%s", b->status.run_result);
}

static void store_minute(struct node *n, struct node_bp *b, const struct ae_minute *m)
{
    if (n->cluster && cluster_publish_minute(n->cluster, b->cfg->name, m) != 0)
        nlog(NLOG_ERROR, "cluster", "blueprint %s: minute %lld not published", b->cfg->name,
             (long long)m->start_ms);
    swriter_put_minute(n->writer, b->cfg->name, m);
}

/* Says (within a budget) which collected values were dropped as implausible. */
static void warn_implausible(const struct node_bp *b, uint32_t dropped)
{
    static struct nlog_limit limit = NLOG_LIMIT_INIT(5, 60.0);
    for (int i = 0; dropped && i < AE_FEATURE_COUNT; i++)
        if (dropped & AE_FEATURE_BIT(i)) {
            nlog_limited(&limit, NLOG_WARN, "collect",
                         "blueprint %s: collected %s is outside its plausible range 0..%g; the "
                         "second counts it as missing",
                         b->cfg->name, ae_feature_name(i), ae_feature_max(i));
            dropped &= ~AE_FEATURE_BIT(i);
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
    warn_implausible(b, ae_snapshot_drop_implausible(s));
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
    if (b->has_actuator && n->cluster && b->cfg->actuator == CFG_ACTUATOR_EXEC &&
        !n->cstatus.leader) {
        /* the leader's actuator thread fences each run with etcd (nclu_exec_gate) */
        snprintf(result, sizeof result,
                 "not applied: exec runs on the cluster's leader only: not the leader (%.200s)",
                 n->cstatus.why);
    } else if (b->has_actuator && n->cluster && b->cfg->actuator == CFG_ACTUATOR_EXEC &&
               !n->cstatus.peers_read) {
        /* a new leader first reads the counts the previous one ran (follow_cluster adopts) */
        snprintf(result, sizeof result,
                 "not applied: leading, the exec counts recorded in etcd not read yet");
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
    if (asked && n->cluster && b->cfg->actuator == CFG_ACTUATOR_EXEC) {
        b->exec_given = o->desired;
        b->exec_given_set = 1;
    }
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
    swriter_put_forecast(n->writer, b->cfg->name, st.forecast_ms, ae_minute_floor(st.forecast_ms),
                         st.horizon, st.forecast, st.confidence);
}

/* The control step over every blueprint, with the TTM evaluation's logs and timing. Lock held. */
static void run_step(struct node *n, int64_t now_ms)
{
    ttm *t = scl_ttm(n->step);
    enum ttm_state before = ttm_get_state(t);
    double t0 = node_mono_s();
    if (scl_step(n->step, now_ms, n->step_in, n->step_out)) {
        if (n->peers && n->cstatus.leader)
            nclu_publish(n->cluster, &n->cstatus, n->peers, &n->cfg, now_ms);
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
        if (o->ttm_decision)
            record_ttm_decision(n, &n->bps[i], o->ttm_decision);
        if (o->changed)
            apply_change(n, &n->bps[i], i, o);
    }
}

/* Cluster exec: a count tier 1 decided while this node could not actuate (a follower, or etcd
 * out of reach) is handed to the actuator once this node leads, so a new leader runs it instead
 * of waiting for the next change. Lock held. */
static void lead_exec_catch_up(struct node_bp *b, int bi, int leads)
{
    if (!b->has_actuator || b->cfg->actuator != CFG_ACTUATOR_EXEC)
        return;
    if (!b->exec_given_set) {
        b->exec_given = b->s->requested;
        b->exec_given_set = 1;
    }
    if (!leads || b->s->requested == b->exec_given)
        return;
    char why[256] = "";
    int count = b->s->requested;
    if (b->actuator.set_desired(b->actuator.state, bi, count, why, sizeof why) == 0)
        nlog(NLOG_INFO, "cluster",
             "blueprint %s: leading: %d instances handed to the exec actuator", b->cfg->name,
             count);
    else
        nlog(NLOG_WARN, "cluster", "blueprint %s: actuator exec failed: %s", b->cfg->name, why);
    b->exec_given = count;
}

/* The member's state for this tick: the leadership, the exec counts the leaders recorded, and
 * (leading) the other members' minutes read from etcd. Never waits for etcd. Lock held. */
static void follow_cluster(struct node *n)
{
    int led = n->cstatus.leader;
    cluster_status(n->cluster, &n->cstatus);
    int leads = n->cstatus.leader;
    if (leads != led) {
        nlog(NLOG_INFO, "cluster", "%s",
             leads ? "this node leads the cluster now" : n->cstatus.why);
        for (int i = 0; leads && i < n->nbp; i++)
            n->bps[i].exec_adopted_ms = INT64_MIN; /* take the last leader's count once */
    }
    /* The TTM tier starts once the other members' windows are in (a round trip later). */
    scl_set_leader(n->step, leads && n->cstatus.peers_read);
    char name[CLUSTER_NAME_MAX];
    nclu_member_name(&n->cfg, name, sizeof name);
    /* Without etcd or a leader the recorded count may be stale: tier 1 goes on alone. */
    int follow_count = leads || (n->cstatus.etcd_reachable && n->cstatus.leader_name[0]);
    for (int i = 0; follow_count && i < n->nbp; i++) {
        struct node_bp *b = &n->bps[i];
        int count;
        if (b->cfg->actuator == CFG_ACTUATOR_EXEC &&
            nclu_exec_count(n->cluster, name, leads, b->cfg->name, &b->exec_adopted_ms, &count) &&
            count != b->s->requested) {
            if (leads)
                nlog(NLOG_INFO, "cluster",
                     "blueprint %s: continuing from %d instances, the count "
                     "the previous leader applied",
                     b->cfg->name, count);
            b->s->requested = count;
            b->exec_given = count;
            b->exec_given_set = 1;
        }
    }
    for (int i = 0; i < n->nbp; i++)
        lead_exec_catch_up(&n->bps[i], i, leads && n->cstatus.peers_read);
    char err[256];
    if (leads && nclu_sync_peers(n->cluster, n->peers, &n->peers_term, err, sizeof err) < 0)
        nlog(NLOG_ERROR, "cluster", "%s", err);
}

void node_tick(struct node *n, int64_t now_ms, double deadline_mono_s)
{
    double tick_start = node_mono_s();
    pthread_mutex_lock(&n->lock);
    if (deadline_mono_s >= 0) {
        double lag = node_mono_s() - deadline_mono_s;
        lagstat_add(&n->lag, lag > 0 ? lag : 0);
    }
    n->ticks++;
    if (n->cluster)
        follow_cluster(n);
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
    if (atomic_exchange(&n->evaluate_again, 0))
        scl_evaluate_next(n->step);
    run_step(n, now_ms);
    double mono = node_mono_s();
    if (mono - n->last_prune_mono_s >= NODE_PRUNE_EVERY_S) { /* retention, hourly */
        n->last_prune_mono_s = mono;
        swriter_prune(n->writer, now_ms);
    }
    if (deadline_mono_s >= 0)
        lagstat_add_duration(&n->lag, node_mono_s() - tick_start);
    pthread_mutex_unlock(&n->lock);
}

_Static_assert(HTTP_TOKEN_MAX == CFG_TOKEN_MAX,
               "one api.token limit for the config and the server");

int node_start_http(struct node *n, char *err, size_t errlen)
{
    const struct cfg_api *api = &n->cfg.api;
    struct http_options opt = {.token = api->token,
                               .max_per_client = api->max_connections_per_client,
                               .request_timeout_ms = api->request_timeout_ms,
                               .max_streams = api->max_concurrent_exports};
    return http_start(api->bind, api_routes, api_route_count, n, &opt, &n->http, err, errlen);
}

void node_request_stop(struct node *n)
{
    atomic_store(&n->stop, 1);
}

/* The first deadline: just after the next multiple of the interval in node time (so 1-s ticks
 * fold each second right after it ends), expressed on the monotonic clock. */
static double aligned_deadline(struct node *n, int64_t interval_ms)
{
    double mono = node_mono_s();
    pthread_mutex_lock(&n->lock);
    int64_t now = nclock_peek(&n->clock, mono);
    pthread_mutex_unlock(&n->lock);
    int64_t next = floor_to(now, interval_ms) + interval_ms + 2;
    return mono + (double)(next - now) / 1000.0;
}

/* Logs what a reading of the clocks found (lock not held). */
static void log_clock_event(enum nclock_event e, int64_t offset_ms, int64_t now_ms)
{
    switch (e) {
    case NCLOCK_SUSPECT:
        nlog(NLOG_WARN, "node",
             "the wall clock jumped %.1f s ahead of node time %lld; it is adopted if it stays "
             "there for %d s",
             offset_ms / 1000.0, (long long)now_ms, NCLOCK_CONFIRM_MS / 1000);
        break;
    case NCLOCK_FORWARD:
        nlog(NLOG_WARN, "node",
             "the wall clock stepped forward and stayed: node time follows it to %lld (the "
             "minutes in between stay a gap)",
             (long long)now_ms);
        break;
    case NCLOCK_IGNORED:
        nlog(NLOG_WARN, "node", "the wall clock's jump ahead was short-lived and is ignored");
        break;
    case NCLOCK_BACKWARD:
        nlog(NLOG_WARN, "node",
             "the wall clock stepped back by %.1f s: node time keeps going on the monotonic "
             "clock (%lld), minutes never go backwards; pushed timestamps on the stepped clock "
             "are shifted by the step",
             -offset_ms / 1000.0, (long long)now_ms);
        break;
    case NCLOCK_REJOINED:
        nlog(NLOG_INFO, "node", "the wall clock is back in line with node time");
        break;
    case NCLOCK_NONE:
        break;
    }
}

/* Node time now: reads the wall and monotonic clocks and logs any step. */
static int64_t read_clock(struct node *n)
{
    int64_t wall = node_now_ms();
    double mono = node_mono_s();
    int64_t now;
    pthread_mutex_lock(&n->lock);
    enum nclock_event e = nclock_read(&n->clock, wall, mono, &now);
    int64_t offset = nclock_offset_ms(&n->clock);
    pthread_mutex_unlock(&n->lock);
    log_clock_event(e, offset, now);
    return now;
}

/* Counts the ticks skipped when the loop fell behind (more than an interval). */
static void count_missed(struct node *n, long missed)
{
    pthread_mutex_lock(&n->lock);
    n->lag.missed += missed;
    pthread_mutex_unlock(&n->lock);
    nlog(NLOG_WARN, "node", "control loop fell behind: %ld ticks skipped", missed);
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

/* Starts the watchdog for ticks of interval_ms (a failure only loses its log lines). */
static void start_watchdog(struct node *n, int64_t interval_ms)
{
    double stall = (double)interval_ms * NODE_STALL_INTERVALS / 1000.0;
    char err[256];
    if (watchdog_start(stall > NODE_STALL_MIN_S ? stall : NODE_STALL_MIN_S, &n->watchdog, err,
                       sizeof err) != 0)
        nlog(NLOG_WARN, "node", "%s", err);
}

void node_run(struct node *n)
{
    const int64_t interval = n->cfg.controller.evaluation_interval_ms;
    const double interval_s = (double)interval / 1000.0;
    raise_loop_priority(n);
    start_watchdog(n, interval);
    double deadline = aligned_deadline(n, interval);
    while (!atomic_load(&n->stop)) {
        struct timespec ts;
        ts.tv_sec = (time_t)deadline;
        ts.tv_nsec = (long)((deadline - (double)ts.tv_sec) * 1e9);
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
            ;
        if (atomic_load(&n->stop))
            break;
        /* The lag counts from the scheduled deadline, so a tick that overran delays (and shows
         * in) the next one; more than one interval behind, the ticks in between are counted as
         * missed and the schedule is realigned. */
        watchdog_tick_begin(n->watchdog, n->ticks + 1, node_mono_s());
        node_tick(n, read_clock(n), deadline);
        watchdog_tick_end(n->watchdog, node_mono_s());
        deadline += interval_s;
        long missed = lagstat_missed_ticks(node_mono_s() - deadline, interval_s);
        if (missed > 0) {
            count_missed(n, missed);
            deadline = aligned_deadline(n, interval);
        }
    }
    pthread_mutex_lock(&n->lock);
    struct watchdog *w = n->watchdog;
    n->stalls_before += watchdog_stalls(w);
    n->watchdog = NULL;
    pthread_mutex_unlock(&n->lock);
    watchdog_stop(w);
}

/* 1 when the second starting at sec (node time) can still take a push for blueprint b at node
 * time now: not folded yet and at most NODE_PUSH_AHEAD_MS ahead. *newest is the newest folded
 * second. */
static int push_accepts(const struct node_bp *b, int64_t sec, int64_t now, int64_t *newest)
{
    *newest = b->has_snapshot ? b->last_snapshot.timestamp_ms : INT64_MIN;
    if (*newest < floor_to(now, 1000) - 2000) /* before the first tick, or stalled */
        *newest = floor_to(now, 1000) - 2000;
    return sec > *newest && sec <= now + NODE_PUSH_AHEAD_MS;
}

/* The second (node time) a push at wall-clock wall_ms is for, in *sec: 0, or AE_ERANGE with a
 * message. A timestamp is taken as node time; when the wall clock has stepped
 * away from node time (nclock.h) and it does not fit, it is taken as a reading of the stepped
 * wall clock and shifted by the step. Lock held. */
static int push_second(struct node *n, const struct node_bp *b, const struct req_push *p,
                       int64_t wall_ms, int64_t *sec, char *err, size_t errlen)
{
    int64_t offset = nclock_offset_ms(&n->clock);
    int64_t now = wall_ms - offset, newest;
    *sec = floor_to(p->has_timestamp ? p->timestamp_ms : now, 1000);
    if (push_accepts(b, *sec, now, &newest))
        return 0;
    int64_t shifted = floor_to(p->timestamp_ms - offset, 1000);
    if (p->has_timestamp && offset != 0 && push_accepts(b, shifted, now, &newest)) {
        *sec = shifted;
        return 0;
    }
    if (!p->has_timestamp)
        snprintf(err, errlen, "blueprint %s: the current second %lld is already folded",
                 b->cfg->name, (long long)*sec);
    else if (*sec <= newest)
        snprintf(err, errlen,
                 "timestamp %lld is in a second the node has already folded (newest folded "
                 "second starts at %lld, node time %lld, wall clock %+.1f s from it); omit "
                 "\"timestamp\" to push for the current second",
                 (long long)p->timestamp_ms, (long long)newest, (long long)now, offset / 1000.0);
    else
        snprintf(err, errlen,
                 "timestamp %lld is more than %d s ahead of node time %lld (wall clock %+.1f s "
                 "from it)",
                 (long long)p->timestamp_ms, NODE_PUSH_AHEAD_MS / 1000, (long long)now,
                 offset / 1000.0);
    return AE_ERANGE;
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
    int64_t sec;
    rc = push_second(n, &n->bps[bi], p, now_ms, &sec, err, errlen);
    if (rc == 0 && scl_push(n->bps[bi].s, sec, p->values, p->present) != 0) {
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
    if (n->bg.joinable) /* no new reload can start: the API is stopped */
        pthread_join(n->bg.thread, NULL);
    cluster_stop(n->cluster); /* resigns: another member takes over within a round */
    n->cluster = NULL;
    npeers_free(n->peers);
    for (int i = 0; n->bps && i < n->nbp; i++) {
        struct node_bp *b = &n->bps[i];
        struct ae_minute closed;
        if (b->history && n->writer && agg_close(b->history, &closed) == 1)
            store_minute(n, b, &closed);
        if (b->has_actuator && b->actuator.close)
            b->actuator.close(b->actuator.state);
        agg_free(b->history);
    }
    for (int c = 0; c < n->ncollectors; c++)
        if (n->collectors[c].close)
            n->collectors[c].close(n->collectors[c].state);
    swriter_stop(n->writer, NODE_DRAIN_MS);
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
    pthread_cond_destroy(&n->bg.done);
    pthread_mutex_destroy(&n->bg.mu);
    free(n);
}

struct cluster *node_cluster(struct node *n)
{
    return n->cluster;
}

const struct ae_config *node_config(const struct node *n)
{
    return &n->cfg;
}

struct store *node_store(struct node *n)
{
    return n->store;
}

int node_flush_history(struct node *n, int64_t timeout_ms)
{
    return swriter_flush(n->writer, timeout_ms);
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

/* Copies the leader's windows of the other members into the view (none on a follower). Lock
 * held. */
static void view_peers(const struct node *n, struct node_view *v)
{
    int count = n->peers && scl_is_leader(n->step) ? npeers_count(n->peers) : 0;
    v->peers = count ? calloc((size_t)count, sizeof *v->peers) : NULL;
    v->npeers = v->peers ? count : 0;
    for (int k = 0; k < v->npeers; k++)
        npeers_get(n->peers, k, &v->peers[k]);
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
    view_peers(n, v);
    v->is_leader = scl_is_leader(n->step);
    snprintf(v->ttm_error, sizeof v->ttm_error, "%s", ttm_last_error(t));
    ttm_get_counters(t, &v->ttm_counters);
    v->model_loaded = n->predictor != NULL;
    snprintf(v->model_error, sizeof v->model_error, "%s", n->model_error);
    v->reloads_ok = n->reloads_ok;
    v->reloads_failed = n->reloads_failed;
    reload_view(n, v);
    v->last_eval_ms = n->last_eval_ms;
    v->last_eval_s = n->last_eval_s;
    v->ticks = n->ticks;
    if (n->writer)
        swriter_get_stats(n->writer, &v->writes);
    v->lag = n->lag;
    v->stalls = n->stalls_before + watchdog_stalls(n->watchdog);
    v->clock = n->clock;
    v->now_ms = nclock_peek(&n->clock, node_mono_s());
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
    free(v->peers);
    free(v);
}
