/* The replay simulator: runs one controller over a load in virtual time, driving the same core
 * code as the node.
 *
 * Per simulated minute it feeds 60 one-second snapshots (the minute's load, steady within the
 * minute; the service model turns it into the 11 features) to the core's minute aggregator and
 * asks the controller every second how many instances it wants. Instances requested cost from
 * that second on and serve once the start-up delay has passed; removing instances cancels
 * starting ones first (newest first), then stops ready ones at once. Minutes the load marks as
 * skipped (long gaps) are jumped over: no load, no cost, no SLO, no snapshots. */
#ifndef AETHER_SIM_SIM_H
#define AETHER_SIM_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "aether/tdata.h"
#include "controller.h"
#include "load.h"
#include "service.h"

#define SIM_EXTRA_MAX 32

struct sim_params {
    struct sim_service service;
    int64_t startup_ms;    /* start-up delay of a new instance */
    int min_instances;     /* >= 1 */
    int max_instances;     /* >= min_instances */
    int initial_instances; /* ready at the start; 0 = enough for the first minute at 60% */
    double slo_util;       /* a minute violates the SLO above this utilisation of ready capacity
                            * (by more than AE_CMP_EPS: float sums are not exact) */
    size_t warmup_minutes; /* the load's first minutes run but count in no figure (< minutes) */
};

/* One named figure a controller adds to its result (e.g. TTM's final confidence). */
struct sim_extra {
    const char *name; /* static storage */
    double value;
};

struct sim_result {
    const char *controller;
    long minutes;               /* simulated minutes */
    long slo_violation_minutes; /* utilisation of ready capacity > slo_util, or any drop */
    double instance_minutes;    /* requested instances integrated over time (cost) */
    long scaling_actions;       /* changes of the requested count */
    double p95_latency_ms;      /* 95th percentile over minutes of the minute's p95 latency */
    double requests, dropped;   /* offered and rejected requests */
    double mean_utilisation;    /* offered / ready capacity over the run */
    int peak_requested;         /* most instances requested at once */
    int has_forecast;           /* the controller forecasts demand */
    long forecast_minutes;      /* minutes scored at step 1 (a forecast and the minute before) */
    double mae;                 /* mean absolute error of the step-1 demand forecast, req/min */
    double mase;                /* mae / mae of persistence (last minute) on the same minutes */
    /* The same at every step h = 1..steps (index h - 1): the forecast made when the newest
     * closed minute was h minutes before, against persistence at the same step (that newest
     * minute repeated), over the minutes where both exist. steps = the farthest step scored. */
    int steps;
    long forecast_minutes_by_step[SIM_MAX_STEPS];
    double mae_by_step[SIM_MAX_STEPS], mase_by_step[SIM_MAX_STEPS];
    struct sim_extra extra[SIM_EXTRA_MAX];
    int extra_count;
};

/* Per-minute series of a run, for plots (all arrays of length minutes, the counted minutes
 * after the warm-up; NAN in skipped minutes). */
struct sim_timeline {
    size_t minutes;
    int64_t start_ms;
    double *needed;    /* demand / capacity of one instance: instances needed at 100% */
    double *ready;     /* mean ready instances */
    double *requested; /* mean requested instances */
};

/* Adds an extra figure to r (ignored when full). */
void sim_result_extra(struct sim_result *r, const char *name, double value);

/* Runs controller c over load l. The first p->warmup_minutes run as every other minute (the
 * controller sees them and learns from them) but count in no figure of *out, the timeline or the
 * export: they bring the controller to the state it would have after running for that long,
 * rather than starting it cold. export_to (may be NULL) receives every counted closed minute in
 * the training-data format; timeline (may be NULL) is allocated and filled (free with
 * sim_timeline_free). Returns 0 and fills *out, or a negative AE_E* code with a message. */
int sim_run(const struct sim_load *l, const struct sim_params *p, struct sim_controller *c,
            tdata_writer *export_to, struct sim_timeline *timeline, struct sim_result *out,
            char *err, size_t errlen);

void sim_timeline_free(struct sim_timeline *t);

#endif
