/* TTM manager: the predictive tier of one node. Each evaluation (every [ttm]
 * evaluation_interval_ms, driven by the caller's clock) it builds the model input of every
 * blueprint with enough history, runs ONE batched predict() through the ae_predictor table,
 * tracks each blueprint's confidence, analyses each forecast and hands the recommendation to the
 * blueprint's adaptive decision tree. It is pure: no clock, no files, no threads; the predictor is
 * borrowed. All buffers are allocated by ttm_open(); an evaluation allocates nothing.
 *
 * Node state: STOPPED (disabled, not leader, or no predictor with ttm.forecaster = model),
 * RUNNING, ERROR (the last evaluation had an inference failure). Per blueprint:
 * WAITING_FOR_HISTORY (fewer than max(1, floor(W/2)) minutes; with auto, no usable minute),
 * FORECASTING, ERROR. In every state but RUNNING/FORECASTING the blueprint's recommendation is
 * dropped, so tier 1 alone decides. With ttm.forecaster = auto every candidate forecasts and
 * select.h chooses the one that drives; the recommendation's scale-in is bounded by
 * ttm.scale_in_window_minutes and ttm.forecast_ceiling (docs/core.md, "Bounded churn"). */
#ifndef AETHER_TTM_H
#define AETHER_TTM_H

#include <stddef.h>
#include <stdint.h>

#include "aether/adaptive.h"
#include "aether/aggregator.h"
#include "aether/config.h"
#include "aether/confidence.h"
#include "aether/decision.h"
#include "aether/forecast.h"
#include "aether/predictor.h"
#include "aether/select.h"

/* The node's TTM state and a blueprint's; each name is its API spelling. */
#define TTM_STATE_MAP(X) X(STOPPED) X(RUNNING) X(ERROR)
#define TTM_BP_STATE_MAP(X) X(WAITING_FOR_HISTORY) X(FORECASTING) X(ERROR)

enum ttm_state {
#define TTM_STATE_ENUM(name) TTM_##name,
    TTM_STATE_MAP(TTM_STATE_ENUM)
#undef TTM_STATE_ENUM
        TTM_STATE_COUNT
};

enum ttm_bp_state {
#define TTM_BP_STATE_ENUM(name) TTM_BP_##name,
    TTM_BP_STATE_MAP(TTM_BP_STATE_ENUM)
#undef TTM_BP_STATE_ENUM
        TTM_BP_STATE_COUNT
};

typedef struct ttm ttm;

/* What one evaluation reads and writes for one blueprint; pointers borrowed for the call. */
struct ttm_bp_input {
    const agg *history;     /* the blueprint's aggregator (ticked up to now by the caller) */
    int ready;              /* ready instances now */
    int requested;          /* requested instances now */
    struct adt *controller; /* receives the recommendation, or a drop */
};

/* Status of one blueprint (for /api/ttm/status); pointers borrowed until the next evaluation. */
struct ttm_bp_status {
    const char *name;
    enum ttm_bp_state state;
    int has_forecast;
    int64_t forecast_ms;   /* when the last forecast was made */
    const float *forecast; /* horizon x 11 raw values, NULL before the first */
    int horizon;
    struct fcst_recommendation recommendation; /* of the last forecast */
    double confidence;
    double skill;      /* NAN when unknown */
    long resolved;     /* forecasts resolved so far */
    const char *error; /* "" when none */
    int forecaster;    /* enum fcr_kind that made the last forecast */
    /* ttm.forecaster = auto: every candidate's scores, the active one and why (borrowed until
     * the next evaluation); NULL otherwise */
    const struct sel *selection;
};

struct ttm_counters {
    long evaluations;                      /* evaluations that ran the model */
    long predictions;                      /* forecasts made (one per blueprint per evaluation) */
    long recommendations[FCST_TYPE_COUNT]; /* per fcst_type */
    long failures;                         /* evaluations with an inference failure */
};

/* A manager for blueprint_count blueprints (names borrowed and must outlive it, each with its
 * [[blueprint]] min/max/cpu_limit_cores) under the given [ttm] and [controller] sections (copied)
 * in *out. Returns 0, or AE_EINVAL / AE_ERANGE (bad arguments or sections) or AE_ENOMEM with a
 * message in err and *out set to NULL. Free with ttm_free(). */
int ttm_open(const struct cfg_ttm *ttm_cfg, const struct cfg_controller *ctl,
             const struct cfg_blueprint *blueprints, int blueprint_count, ttm **out, char *err,
             size_t errlen);
void ttm_free(ttm *t);

/* Hands over the predictor (borrowed; used only when ttm.forecaster is model; the caller closes it
 * after ttm_free or after replacing it; NULL = no model). The model's window and horizon must equal
 * input_window_minutes and prediction_horizon, its features 11, its schema version 0 (unstated) or
 * 1: otherwise returns AE_ESHAPE/AE_ESCHEMA with a message naming both numbers, and the manager
 * keeps no predictor. Resets every blueprint's confidence tracker to the model's val_wape. */
int ttm_set_predictor(ttm *t, ae_predictor *p, char *err, size_t errlen);

/* Feeds one stored minute of blueprint i to its series forecaster (ttm.forecaster other than
 * model; a no-op with the model), so that it starts with more history than the aggregator keeps:
 * at restart the node's stored minutes, in the simulator the trace before the evaluated part.
 * Oldest first, before the first evaluation that sees newer minutes; a minute not after the
 * newest fed is ignored. May refit Holt-Winters or linear. AE_EINVAL when i is out of range. */
int ttm_preload(ttm *t, int i, const struct ae_minute *m);

/* After the last ttm_preload of blueprint i: its fitted forecasters fit on what was fed
 * (fcr_preload_end), so the first evaluation forecasts with the fit. AE_EINVAL when i is out of
 * range. */
int ttm_preload_end(ttm *t, int i);

/* One evaluation at now_ms over bp[0..blueprint_count-1] (the order given to ttm_open). First
 * feeds the minutes closed since the last call to each blueprint's confidence tracker. When TTM
 * is disabled, is_leader is 0 or there is no predictor it then only drops every recommendation
 * (STOPPED). Otherwise one batched predict() for every blueprint with enough history, analysis,
 * and adt_apply() (or adt_drop() for a blueprint waiting or in ERROR). Returns the node state:
 * ERROR when any blueprint failed in this evaluation, else RUNNING (also when all are waiting).
 * With a series forecaster (ttm.forecaster other than model) no predictor is needed: each
 * blueprint's forecast comes from its own forecaster, fed every closed minute. */
enum ttm_state ttm_evaluate(ttm *t, int64_t now_ms, int is_leader, const struct ttm_bp_input *bp);

/* The node state. Before the first evaluation it follows from the config, the leadership and the
 * predictor: ttm_open, ttm_set_predictor and ttm_set_leader set STOPPED (with its reason) or, when
 * the manager could forecast, RUNNING with every blueprint WAITING_FOR_HISTORY; afterwards each
 * evaluation sets it. */
enum ttm_state ttm_get_state(const ttm *t);

/* Whether this node leads (1 at first); the next ttm_evaluate's is_leader overrides it. Sets
 * STOPPED ("not the leader") at once when 0, RUNNING when it becomes 1 and nothing else stops the
 * manager. */
void ttm_set_leader(ttm *t, int is_leader);
/* The message of the last failure ("" when none); borrowed. */
const char *ttm_last_error(const ttm *t);
/* Why the manager is STOPPED ("TTM disabled", "not the leader", "no model loaded"; static
 * storage), or "" when it is not. */
const char *ttm_stopped_reason(const ttm *t);
void ttm_get_counters(const ttm *t, struct ttm_counters *out);
/* Fills the status of blueprint i; AE_EINVAL when i is out of range. */
int ttm_get_blueprint(const ttm *t, int i, struct ttm_bp_status *out);
/* Index of the blueprint whose forecast was the most recent (the first by name when an evaluation
 * forecast several), or -1 before any. */
int ttm_last_forecast_blueprint(const ttm *t);
/* The TTM-tier decision record of blueprint i's last recommendation (for /api/decisions), or
 * NULL before any; borrowed until the next evaluation. */
const struct ae_decision *ttm_last_decision(const ttm *t, int i);

/* The names of TTM_STATE_MAP and TTM_BP_STATE_MAP (static storage); "UNKNOWN" for a value outside
 * the enum. */
const char *ttm_state_name(enum ttm_state s);
const char *ttm_bp_state_name(enum ttm_bp_state s);

#endif
