/* Output of aether-sim: the results table, the JSON object keyed by controller, and an SVG plot
 * of load, capacity and instances over time per controller. */
#ifndef AETHER_SIM_REPORT_H
#define AETHER_SIM_REPORT_H

#include <stdio.h>

#include "sim.h"

/* Writes a fixed-width table with one row per result. */
void sim_report_table(FILE *out, const struct sim_result *r, int n);

/* Writes one JSON object keyed by controller name, each with slo_violation_minutes,
 * instance_minutes, scaling_actions, p95_latency_ms, minutes, requests, dropped_requests,
 * mean_utilisation, peak_instances, scaling_actions_per_day, and for forecasters mae, mase and
 * forecast_minutes (step 1; null when not scored) and the arrays mae_by_step, mase_by_step and
 * forecast_minutes_by_step (steps 1..steps), plus the controller's extra figures. Returns 0 or AE_ENOMEM/AE_EIO. */
int sim_report_json(FILE *out, const struct sim_result *r, int n);

/* Writes an SVG file to path: one panel per run, the instances needed at 100% CPU (load), the
 * requested and the ready instances per minute. Returns 0, or AE_EIO with a message in err. */
int sim_report_svg(const char *path, const char *title, const struct sim_result *r,
                   const struct sim_timeline *t, int n, char *err, size_t errlen);

#endif
