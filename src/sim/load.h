/* The offered load of a simulation: a trace turned into requests per minute, one value per
 * simulated minute, with short gaps bridged and long ones marked to be skipped.
 *
 * A trace value is a load level: value x scale = requests per minute. On a step coarser than a
 * minute the level is interpolated linearly between points; on a finer step the minute is the
 * mean of its points. A run of missing minutes (empty cells, masked rows, jumps in time) of at
 * most max_fill minutes is bridged linearly between its neighbours; a longer run stays NAN and
 * the simulator jumps over it (as if the node were down: no load, no cost, no SLO). */
#ifndef AETHER_SIM_LOAD_H
#define AETHER_SIM_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "aether/trace.h"

struct sim_load {
    int64_t start_ms;                   /* start of minute 0 (a multiple of AE_MINUTE_MS) */
    size_t minutes;                     /* length of demand */
    double *demand;                     /* requests per minute; NAN = skipped (inside a long gap) */
    size_t filled_runs, filled_minutes; /* short runs bridged */
    size_t skipped_runs, skipped_minutes; /* long runs left out */
};

/* Builds the load from a trace. Returns 0, or AE_EINVAL with a message (negative values, a step
 * that is neither a multiple nor a divisor of one minute, nothing left). Free with
 * sim_load_free. */
int sim_load_from_trace(const struct trace *t, double scale, int max_fill_minutes,
                        struct sim_load *out, char *err, size_t errlen);

/* Builds a load from per-minute values (copied; NAN = missing, bridged or skipped as above). */
int sim_load_from_minutes(int64_t start_ms, const double *per_minute, size_t minutes,
                          int max_fill_minutes, struct sim_load *out, char *err, size_t errlen);

/* Keeps minutes [from_ms, to_ms) (either bound may be absent: has_* = 0). Returns 0 or AE_EINVAL
 * when nothing is left. */
int sim_load_slice(struct sim_load *l, int has_from, int64_t from_ms, int has_to, int64_t to_ms,
                   char *err, size_t errlen);

void sim_load_free(struct sim_load *l);

/* The p-th percentile (0..100, linear interpolation between order statistics) of the simulated
 * minutes' demand (NAN minutes left out); 0 when there are none. */
double sim_load_percentile(const struct sim_load *l, double p);

#endif
