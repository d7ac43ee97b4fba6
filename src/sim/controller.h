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
     * predicted, before it started, for the minute starting at minute_ms. Returns 1 and sets *out
     * when it had such a forecast, else 0. */
    int (*forecast)(struct sim_controller *c, int64_t minute_ms, double *out);
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
