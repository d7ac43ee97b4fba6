/* The node: one daemon's state and its control loop.
 *
 * Threads: the control loop (node_run) ticks every [controller] evaluation_interval_ms; the HTTP
 * server answers on its own thread; the main thread waits for signals and performs reloads.
 * Everything below `lock` is guarded by it; the store handle is used by the control loop only
 * (HTTP handlers open read-only handles of their own). Model loading happens outside the lock and
 * only a fully checked, warmed-up predictor is swapped in. */
#ifndef AETHER_NODE_NODE_H
#define AETHER_NODE_NODE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "aether/adaptive.h"
#include "aether/aggregator.h"
#include "aether/config.h"
#include "aether/decision.h"
#include "aether/predictor.h"
#include "aether/ttm.h"
#include "http.h"
#include "lagstat.h"
#include "sources.h"
#include "store.h"

/* Nice value the control loop asks for: scaling decisions must not wait behind API requests or
 * model reloads (those threads run at a lower priority, see main.c). Needs CAP_SYS_NICE; without
 * it the loop stays at the process' priority. */
#define NODE_LOOP_NICE (-10)

#define NODE_PUSH_SLOTS 8 /* seconds of pushed values kept before they are folded */

/* Values pushed for one second of one blueprint (last write per feature wins). */
struct node_push_slot {
    int64_t second_ms; /* -1 = free */
    double values[AE_FEATURE_COUNT];
    uint32_t present;
};

struct node_bp {
    const struct cfg_blueprint *cfg; /* borrowed from node.cfg */
    agg *history;
    struct adt controller;
    int has_actuator;
    struct node_actuator actuator;
    struct node_actuator_status status; /* refreshed every tick */
    int requested;                      /* what the node asks for */
    struct node_push_slot push[NODE_PUSH_SLOTS];
    long pushes; /* accepted pushes */
    struct ae_snapshot last_snapshot;
    int has_snapshot;
    struct ae_decision last_decision; /* last change or TTM recommendation */
    int has_decision;
    char last_result[512];
    int64_t last_decision_id;     /* its row in the store, 0 when it could not be written */
    int64_t last_ttm_decision_ms; /* timestamp of the last TTM decision recorded */
    int64_t last_forecast_ms;     /* made_ms of the last forecast written to the store */
    /* The newest decision that asked the actuator for a count: when a run for that count
     * finishes (exec), its outcome becomes the decision's result. */
    int64_t asked_id; /* row in the store, 0 = none */
    int asked_count;
    int runs_seen; /* status.runs already handled */
};

struct node {
    struct ae_config cfg; /* owned */
    ae_predictor_open_fn builtin_engine;
    pthread_mutex_t lock;
    pthread_mutex_t reload_lock; /* one model load at a time */
    struct node_bp *bps;         /* cfg.blueprint_count, in config order */
    int nbp;
    int *by_name; /* indices of bps sorted by name (API order) */
    struct node_collector *collectors;
    int ncollectors;
    ttm *ttm;
    struct ttm_bp_input *ttm_inputs; /* nbp entries, filled before each evaluation */
    ae_predictor *predictor;         /* owned; NULL when no model */
    char model_error[1024]; /* why there is no model (or why the last reload failed), or "" */
    long reloads_ok, reloads_failed;
    struct store *store;
    struct http_server *http;
    struct lagstat lag;
    int64_t started_ms;
    int64_t next_ttm_ms;
    int64_t last_eval_ms;
    double last_eval_s; /* duration of the last TTM evaluation */
    int64_t last_prune_ms;
    long ticks;
    int loop_nice; /* the control loop thread's nice value */
    long store_errors;
    long decisions[3][4]; /* [ae_tier][ae_action] recorded */
    atomic_int stop;
};

/* Builds the node from a validated config (taken over: the node frees it). Opens the history
 * under node.data_dir, reloads each blueprint's recent minutes, creates the TTM manager. Does not
 * load the model nor listen. Returns 0 or a negative AE_E* code with a message. On failure the
 * node is left for node_free. builtin is the linked engine or NULL. */
int node_init(struct node *n, struct ae_config *cfg, ae_predictor_open_fn builtin, int64_t now_ms,
              char *err, size_t errlen);

/* Loads (or reloads) the model named by ttm.model_path, fully checked and warmed up before it
 * replaces the running one. On failure the running model stays and model_error says why.
 * Returns 0, or a negative AE_E* code with the message in err. Thread-safe. */
int node_load_model(struct node *n, int is_reload, char *err, size_t errlen);

/* Starts the HTTP API on api.bind. 0 or a negative AE_E* code with a message. */
int node_start_http(struct node *n, char *err, size_t errlen);

/* One control-loop tick at wall-clock now_ms (the second that just ended is folded), with the
 * measured lag of this tick in seconds. Takes the lock. */
void node_tick(struct node *n, int64_t now_ms, double lag_s);

/* Runs the control loop until node_request_stop; returns then. */
void node_run(struct node *n);
void node_request_stop(struct node *n);

/* Folds pushed values into blueprint name's snapshot for the second holding ts (now when the
 * push has no timestamp). Returns 0, AE_ENOENT (no such blueprint) or AE_ERANGE (the second is
 * already folded, or more than a few seconds ahead), with a message. Takes the lock. */
struct req_push;
int node_push(struct node *n, const char *name, const struct req_push *p, int64_t now_ms, char *err,
              size_t errlen);

/* Index of blueprint name, or -1. */
int node_find_blueprint(const struct node *n, const char *name);

/* Closes the open minutes into the history, stops HTTP, actuators and collectors, closes the
 * model and the store, frees everything (also after a failed node_init). */
void node_free(struct node *n);

/* Wall-clock now in Unix ms, and a monotonic clock in seconds. */
int64_t node_now_ms(void);
double node_mono_s(void);

#endif
