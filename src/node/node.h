/* The node: one daemon's state and its control loop.
 *
 * Threads: the control loop (node_run) ticks every [controller] evaluation_interval_ms on the
 * monotonic clock; its watchdog (watchdog.h) logs a tick that stalls; the history writer
 * (swriter.h) does every write to the store, so the loop never waits on SQLite; the HTTP server
 * answers on its own thread; the main thread waits for signals (a reload runs on a thread of its
 * own). The node's state is guarded by one lock inside node.c: the control loop holds it for a tick, the HTTP
 * handlers only to copy a node_view (or to accept a push). HTTP handlers read the history through
 * read-only handles of their own. Model loading happens outside the lock and only a fully
 * checked, warmed-up predictor is swapped in.
 *
 * Time: seconds, minutes, decisions and forecasts are stamped with node time (nclock.h): the
 * wall clock carried by the monotonic clock, which never goes backwards and adopts a forward
 * step only once it has lasted. */
#ifndef AETHER_NODE_NODE_H
#define AETHER_NODE_NODE_H

#include <stdint.h>

#include "aether/cluster.h"
#include "aether/config.h"
#include "aether/decision.h"
#include "aether/predictor.h"
#include "aether/snapshot.h"
#include "aether/ttm.h"
#include "aether/lagstat.h"
#include "nclock.h"
#include "npeers.h"
#include "sources.h"
#include "store.h"
#include "swriter.h"

/* Nice value the control loop asks for: scaling decisions must not wait behind API requests or
 * model reloads (those threads run at a lower priority, see main.c). Needs CAP_SYS_NICE; without
 * it the loop stays at the process' priority. */
#define NODE_LOOP_NICE (-10)

struct node; /* opaque: its state is read through a node_view */

/* What the API and the metrics show of one blueprint, copied under the node's lock. */
struct node_bp_view {
    const struct cfg_blueprint *cfg; /* borrowed from the node (its config never changes) */
    int has_actuator;
    struct node_actuator_status status; /* as of the last tick */
    int requested;
    long pushes; /* accepted pushes */
    int has_snapshot;
    struct ae_snapshot last_snapshot; /* the newest second folded */
    int has_decision;
    struct ae_decision last_decision;               /* last change or TTM recommendation */
    long decisions[AE_TIER_COUNT][AE_ACTION_COUNT]; /* recorded for this blueprint */
    char last_result[512];
    int history_minutes; /* closed minutes held */
    int has_last_minute;
    struct ae_minute last_minute; /* the newest closed minute */
    int has_rec;                  /* a floor/ceiling is in force in the adaptive tree */
    int rec_floor, rec_ceiling;   /* 0 = none */
    int64_t rec_time_ms;          /* when it was made (by the leader, for a follower's) */
    int rec_from_leader;          /* 1: the cluster's leader published it for this node */
    int has_ttm;                  /* ttm below is filled */
    struct ttm_bp_status ttm;     /* forecast points into forecast[], error into ttm_error */
    float forecast[CONF_MAX_HORIZON * AE_FEATURE_COUNT];
    char ttm_error[256];
    struct sel selection; /* ttm.selection points here (ttm.forecaster = auto) */
};

/* What asked for a reload (node_reload_start). */
enum node_reload_source {
    NODE_RELOAD_HTTP,  /* POST /api/ttm/reload */
    NODE_RELOAD_SIGHUP /* the node's process got SIGHUP */
};

/* The last reload (node_reload_start). */
enum node_reload_state {
    NODE_RELOAD_NONE,
    NODE_RELOAD_RUNNING,
    NODE_RELOAD_OK,
    NODE_RELOAD_FAILED
};

/* The whole node as the API and the metrics see it at one moment. */
struct node_view {
    int nbp;
    struct node_bp_view *bps; /* nbp entries, sorted by name (the API's order) */
    enum ttm_state ttm_state;
    char ttm_reason[64]; /* why it is STOPPED ("not the leader", ...), "" when it is not */
    char ttm_error[512]; /* the TTM manager's last failure, "" when none */
    struct ttm_counters ttm_counters;
    int last_forecast; /* index into bps of the blueprint forecast last, -1 before any */
    int model_loaded;
    char model_error[1024]; /* why there is no model (or why the last reload failed), or "" */
    long reloads_ok, reloads_failed;
    enum node_reload_state reload; /* the last reload (HTTP or SIGHUP) */
    enum node_reload_source reload_source;
    int64_t reload_requested_ms, reload_finished_ms; /* Unix ms; -1 before one / while it runs */
    char reload_error[1024]; /* why it failed, "" unless reload is NODE_RELOAD_FAILED */
    int64_t last_eval_ms;          /* -1 before the first TTM evaluation */
    double last_eval_s;            /* duration of the control step that last evaluated TTM */
    long ticks;
    struct swriter_stats writes; /* the history's write queue */
    struct lagstat lag;
    long stalls;                   /* ticks the watchdog saw stalled */
    struct nclock clock;           /* node time and the wall clock's steps */
    int64_t now_ms;                /* node time when the view was taken */
    int loop_nice;                 /* the control loop thread's nice value */
    int cluster_enabled;           /* [cluster] etcd_endpoints is non-empty */
    int is_leader;                 /* runs the TTM tier (always 1 for a single node) */
    struct cluster_status cluster; /* the member's state as of the last tick (cluster only) */
    int npeers;                    /* the leader's windows of the other members */
    struct npeers_view *peers;     /* npeers entries (member, blueprint), or NULL */
};

/* Copies the node's state under its lock into a new view. Returns 0 and *out (caller frees with
 * node_view_free), or AE_ENOMEM. */
int node_view_take(struct node *n, struct node_view **out);
void node_view_free(struct node_view *v);

/* The node's cluster member (owned by the node), or NULL for a single node. */
struct cluster *node_cluster(struct node *n);

/* The node's config (owned by the node, never changed after node_open; borrowed). */
const struct ae_config *node_config(const struct node *n);

/* The history store (owned by the node): HTTP handlers open read-only handles from it
 * (store_reader_open); only the history writer thread writes through it. */
struct store *node_store(struct node *n);

/* Waits until the history writer has written everything queued so far, at most timeout_ms:
 * 0 or AE_ETIMEOUT. HTTP handlers call it before they read the history, so an answer shows the
 * decisions and minutes the node state already shows (unless the disk is failing). */
int node_flush_history(struct node *n, int64_t timeout_ms);

/* The port the API listens on, 0 before node_start_http. */
int node_http_port(const struct node *n);

/* 1 when a model is loaded and in use. Takes the lock. */
int node_model_loaded(struct node *n);

/* Builds the node from a validated config (taken over: the node frees it, also on failure). Opens
 * the history under node.data_dir, reloads each blueprint's recent minutes, creates the control
 * step and its TTM manager. Does not load the model nor listen. builtin is the linked engine or
 * NULL. Returns 0 and *out (free with node_free), or a negative AE_E* code with a message (*out is
 * NULL, everything already freed). */
int node_open(struct ae_config *cfg, ae_predictor_open_fn builtin, int64_t now_ms,
              struct node **out, char *err, size_t errlen);

/* Loads (or reloads) the model named by ttm.model_path, fully checked and warmed up before it
 * replaces the running one. On failure the running model stays and model_error says why.
 * Returns 0, or a negative AE_E* code with the message in err. Thread-safe. */
int node_load_model(struct node *n, int is_reload, char *err, size_t errlen);

/* Starts node_load_model(is_reload = 1) on a thread of its own and returns at once (neither an
 * API thread nor the signal thread is held by a load); source is what asked for it: 0 when it
 * started, AE_EAGAIN with a message when a reload
 * started earlier is still running, AE_ESTATE when TTM is disabled, AE_ENOMEM. Its outcome shows
 * in the view (reload, reload_error, model_error, reloads_ok and reloads_failed). */
int node_reload_start(struct node *n, enum node_reload_source source, char *err, size_t errlen);

/* Starts the HTTP API on api.bind. 0 or a negative AE_E* code with a message. */
int node_start_http(struct node *n, char *err, size_t errlen);

/* One control-loop tick at node time now_ms: folds the second that just ended, then runs the
 * control step (scl_step) and hands changes to the actuators. deadline_mono_s is when the tick was
 * due on the monotonic clock (its lateness is the control-loop lag), or < 0 to record no lag.
 * Takes the lock. */
void node_tick(struct node *n, int64_t now_ms, double deadline_mono_s);

/* Runs the control loop until node_request_stop; returns then. */
void node_run(struct node *n);
void node_request_stop(struct node *n);

/* Folds pushed values into blueprint name's snapshot for the second holding ts (now when the
 * push has no timestamp); now_ms is the wall clock's reading. ts is node time; when the wall
 * clock has stepped away from node time and ts does not fit, it is taken as a reading of the
 * stepped wall clock and shifted by the step (see docs/operations.md). Returns 0, AE_ENOENT (no
 * such blueprint) or AE_ERANGE (the second is already folded, or more than 5 s ahead), with a
 * message. Takes the lock. */
struct req_push;
int node_push(struct node *n, const char *name, const struct req_push *p, int64_t now_ms, char *err,
              size_t errlen);

/* The k-th blueprint in name order (the API's order; borrowed from the node's config), or NULL
 * when k is out of range. */
const struct cfg_blueprint *node_blueprint(const struct node *n, int k);

/* Index of blueprint name in the config, or -1. */
int node_find_blueprint(const struct node *n, const char *name);

/* Closes the open minutes into the history, stops HTTP, actuators and collectors, closes the
 * model and the store, frees everything and n itself. NULL is ignored. */
void node_free(struct node *n);

/* Wall-clock now in Unix ms, and a monotonic clock in seconds. */
int64_t node_now_ms(void);
double node_mono_s(void);

#endif
