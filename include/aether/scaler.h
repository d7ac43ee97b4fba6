/* The control step of one node: the one place where the per-second tier-1 input is assembled, the
 * TTM manager is scheduled (on a grid of [ttm] evaluation_interval_ms aligned to Unix time, so an
 * evaluation is the first step after a minute closed), and
 * each blueprint's adaptive decision is taken. The daemon (src/node), the simulator (src/sim) and
 * the tests call scl_step() with their own clock and measurements; none of them schedules TTM or
 * calls adt_decide() on its own.
 *
 * All the scaling state of a blueprint lives in one plain struct (struct scl_bp: requested count,
 * adaptive tree, pushed values waiting to be folded, actuator-run bookkeeping, the latest forecast
 * and confidence), so it can be copied for the API or replicated to another node. Pure: no clock,
 * no I/O, no globals; scl_open() allocates everything, scl_step() allocates nothing. */
#ifndef AETHER_SCALER_H
#define AETHER_SCALER_H

#include <stddef.h>
#include <stdint.h>

#include "aether/adaptive.h"
#include "aether/aggregator.h"
#include "aether/confidence.h"
#include "aether/config.h"
#include "aether/decision.h"
#include "aether/forecast.h"
#include "aether/snapshot.h"
#include "aether/ttm.h"

#define SCL_PUSH_SLOTS 8 /* distinct seconds of pushed values held before they are folded */

/* Values pushed for one second of one blueprint (last write per feature wins). */
struct scl_push_slot {
    int64_t second_ms; /* -1 = free */
    double values[AE_FEATURE_COUNT];
    uint32_t present; /* AE_FEATURE_BIT per value set */
};

/* The latest forecast of one blueprint and the confidence after the latest evaluation. */
struct scl_forecast {
    long count;      /* forecasts made so far (0 = none yet) */
    int64_t made_ms; /* when the newest was made */
    int horizon;
    float values[CONF_MAX_HORIZON * AE_FEATURE_COUNT]; /* horizon x 11 raw values */
    struct fcst_recommendation recommendation;         /* of the newest forecast */
    double confidence;
    double skill; /* NAN when unknown */
};

/* The scaling state of one blueprint. Plain data: copying it copies the state. */
struct scl_bp {
    const struct cfg_blueprint *cfg; /* borrowed from scl_open's caller */
    int requested;                   /* instances asked for, as of the last step */
    struct adt controller;
    struct scl_push_slot push[SCL_PUSH_SLOTS];
    long pushes;                  /* accepted pushes */
    int64_t last_ttm_decision_ms; /* timestamp of the last TTM decision handed out */
    /* Actuator runs (the caller's bookkeeping): the newest decision that asked the actuator for a
     * count, so that the run's outcome can be attached to it once a run for that count ends. */
    int64_t asked_id; /* the caller's id of that decision, 0 = none */
    int asked_count;
    int runs_seen; /* actuator runs already handled */
    struct scl_forecast forecast;
    int64_t remote_issued_ms; /* issued_ms of the leader's recommendation applied last, or 0 */
};

/* One blueprint's measurements for a step; pointers borrowed for the call. */
struct scl_input {
    const agg *history;                 /* the blueprint's minutes, ticked up to now */
    const struct ae_snapshot *snapshot; /* the newest second folded (cpu and call rate) */
    int ready;                          /* instances serving now */
    /* Cluster followers: the floor/ceiling the leader published for this blueprint (has_remote =
     * 1), issued at remote_issued_ms. Applied like a forecast made then, so it expires 2 x the
     * [ttm] interval after it was issued. Ignored on the leader. */
    int has_remote;
    int remote_floor, remote_ceiling; /* 0 = none */
    int64_t remote_issued_ms;
};

/* What a step decided for one blueprint. */
struct scl_output {
    int desired;                 /* the requested count from now on (== the state's requested) */
    int changed;                 /* desired differs from the count before the step */
    struct ae_decision decision; /* the adaptive tree's record of this step */
    /* The TTM tier's record of a recommendation made in this step, or NULL; borrowed until the
     * next step. */
    const struct ae_decision *ttm_decision;
};

typedef struct scl scl;

/* The control step for blueprint_count blueprints (configs borrowed, must outlive it; their
 * requested counts start at cfg->instances) under the [ttm] and [controller] sections (copied).
 * Creates the TTM manager (with no predictor: see scl_ttm). Returns 0 and *out (free with
 * scl_free), or a negative AE_E* code with a message in err (*out is NULL). */
int scl_open(const struct cfg_ttm *ttm_cfg, const struct cfg_controller *ctl,
             const struct cfg_blueprint *blueprints, int blueprint_count, scl **out, char *err,
             size_t errlen);
void scl_free(scl *s);

/* Starts every blueprint's adaptive tree at now_ms (warm-up counts from here) and schedules the
 * first TTM evaluation at the first slot of the grid after now_ms (see scl_step). Call once before
 * the first step. */
void scl_start(scl *s, int64_t now_ms);

/* From now on scl_step leaves scl_output.decision unfilled: the same decisions without their
 * record (reason text and inputs), for a caller that never reads it (the simulator, where
 * formatting the record every simulated second is a good part of the run time). */
void scl_skip_records(scl *s);

/* The TTM manager (borrowed, owned by s): for ttm_set_predictor and the status readers. */
ttm *scl_ttm(scl *s);
const ttm *scl_ttm_const(const scl *s);

/* Blueprint i's state (borrowed, owned by s), or NULL when i is out of range. */
struct scl_bp *scl_bp(scl *s, int i);
const struct scl_bp *scl_bp_const(const scl *s, int i);
int scl_count(const scl *s);

/* Whether this node leads its cluster (1 from scl_open: a single node is its own leader). A
 * follower's TTM manager is STOPPED with the reason "not the leader" at its next evaluation; its
 * blueprints follow the leader's recommendations (scl_input.has_remote) instead. */
void scl_set_leader(scl *s, int is_leader);
int scl_is_leader(const scl *s);

/* The next step evaluates the TTM manager whatever the schedule (a model was just loaded). */
void scl_evaluate_next(scl *s);

/* One step at now_ms for every blueprint (in[i] and out[i] for blueprint i):
 *  1. when a TTM evaluation is due: one batched ttm_evaluate() over every blueprint (as leader or
 * not, see scl_set_leader) with its history, ready count and requested count; then each blueprint's
 * forecast and confidence are copied into its state and a new TTM decision is handed out in
 *     out[i].ttm_decision;
 *  2. on a follower (scl_set_leader 0), each blueprint's remote recommendation (in[i].has_remote)
 *     is applied to its adaptive tree when it is new or an evaluation just dropped it;
 *  3. each blueprint's tier-1 input (cpu and call rate of in[i].snapshot, in[i].ready, the
 *     state's requested count, the config's min/max) goes through adt_decide(); the state's
 *     requested count becomes the result.
 * Schedule: the slots are the Unix-ms multiples of the [ttm] interval (every minute boundary for
 * 60 s, every fifth for 5 min, six a minute for 10 s). An evaluation is due once now_ms reaches the
 * next slot; the slot then moves to the first one after now_ms (a gap or a stalled clock skips the
 * slots it missed). So with an interval of whole minutes every evaluation is the first step after a
 * minute closed, and its forecast's first minute (the one holding now_ms) has just begun. Returns 1
 * when TTM was evaluated, else 0. Allocates nothing. */
int scl_step(scl *s, int64_t now_ms, const struct scl_input *in, struct scl_output *out);

/* Holds values pushed for the second starting at second_ms (values[f] for each AE_FEATURE_BIT(f)
 * in present) until scl_push_fold() folds that second. Returns 0, or AE_ERANGE when every slot
 * holds another second. The caller checks that second_ms is not folded yet. */
int scl_push(struct scl_bp *b, int64_t second_ms, const double *values, uint32_t present);

/* Sets the values pushed for the second at second_ms into *s and frees the slots of that second
 * and of every earlier one. */
void scl_push_fold(struct scl_bp *b, int64_t second_ms, struct ae_snapshot *s);

#endif
