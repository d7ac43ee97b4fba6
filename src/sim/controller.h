/* The one "desired instances" interface every controller of the simulator implements: the
 * reactive tree and TTM (both the core's own code, as in the node) and the baselines used only
 * for comparison (Kubernetes HPA, Holt-Winters and linear predictors in the manner of the
 * Predictive HPA, and the oracle).
 *
 * Each simulated second the simulator builds the second's snapshot (what a node would collect),
 * folds it into the minute aggregator, and asks the controller how many instances it wants
 * requested. Controllers that forecast demand also say what they predicted for each minute, so
 * that the simulator can score their forecasts against what arrived. */
#ifndef AETHER_SIM_CONTROLLER_H
#define AETHER_SIM_CONTROLLER_H

#include <stddef.h>
#include <stdint.h>

#include "aether/aggregator.h"
#include "aether/snapshot.h"

struct sim_result;

/* Farthest forecast step the simulator scores (a step h forecast of minute M is the one made
 * when the newest closed minute was M - h minutes). */
#define SIM_MAX_STEPS 10
#define SIM_FCST_LOG 16

/* The last SIM_FCST_LOG forecasts of a controller, kept so that each minute can be scored at
 * every step. Zero-initialise. */
struct sim_fcst_log {
    int64_t first_ms[SIM_FCST_LOG]; /* the minute of step 1 */
    int len[SIM_FCST_LOG];
    double v[SIM_FCST_LOG][SIM_MAX_STEPS];
    int head, count;
};

/* Remembers a forecast of len minutes from first_ms (step 1) on (len capped at SIM_MAX_STEPS);
 * a forecast with the same first_ms replaces the earlier one. */
void sim_fcst_log_add(struct sim_fcst_log *l, int64_t first_ms, const double *v, int len);

/* The step-`step` forecast of the minute starting at minute_ms: 1 and *out, or 0 when none. */
int sim_fcst_log_get(const struct sim_fcst_log *l, int64_t minute_ms, int step, double *out);

/* What a controller sees at one simulated second; everything borrowed for the call. */
struct sim_view {
    int64_t now_ms;
    const struct ae_snapshot *snapshot; /* this second's metrics */
    const struct ae_minute *closed;     /* the minute that closed at this second, or NULL */
    const agg *history;                 /* every closed minute so far (the core aggregator) */
    int ready;                          /* instances serving */
    int requested;                      /* instances requested (serving + starting) */
    int min_instances, max_instances;
    int resumed; /* 1 on the first second after the clock jumped over a long gap */
};

struct sim_controller {
    const char *name; /* key of the results ("reactive", "ttm", "hpa", ...); static storage */
    void *state;
    /* Returns the number of instances wanted requested from now on; the simulator clamps it
     * into [min, max]. 0 or a negative AE_E* code on failure is reported as an error. */
    int (*desired)(struct sim_controller *c, const struct sim_view *v, int *out, char *err,
                   size_t errlen);
    /* Forecasters only (NULL otherwise): the demand (requests per minute) the controller had
     * predicted for the minute starting at minute_ms with the forecast made `step` minutes
     * before (1..SIM_MAX_STEPS; step 1 = right after the minute before closed). Returns 1 and
     * sets *out when it had such a forecast, else 0. */
    int (*forecast)(struct sim_controller *c, int64_t minute_ms, int step, double *out);
    /* Optional (NULL): one minute of history before the simulated part (oldest first, before the
     * run), for forecasters that fit on history: only invocations are set. NULL after the last
     * minute: the preload is over (fit on it now, as a node does at start). */
    void (*preload)(struct sim_controller *c, const struct ae_minute *m);
    /* Optional (NULL): the warm-up is over; what report() says counts from here on. */
    void (*count_start)(struct sim_controller *c);
    /* Optional (NULL): adds controller-specific figures to the result at the end of a run. */
    void (*report)(struct sim_controller *c, struct sim_result *r);
    /* Frees the state and the struct. */
    void (*free)(struct sim_controller *c);
};

static inline void sim_controller_free(struct sim_controller *c)
{
    if (c)
        c->free(c);
}

#endif
