/* The simulated service: what one second of offered load does to a set of ready instances.
 *
 * A deterministic fluid model (expected values, no random sampling, so runs are reproducible):
 *  - each ready instance serves `capacity_per_min` requests per minute at 100% CPU; utilisation
 *    rho = offered / (ready x capacity), and cpu_usage = min(rho, 1);
 *  - latency is that of an M/M/c queue with c = ready instances and a mean service time of
 *    `service_ms` (exact Erlang-C waiting probability; response-time quantiles solved from the
 *    exact M/M/c response-time distribution), capped at `timeout_ms`;
 *  - requests beyond capacity (rho > 1) are rejected: they count as errors and as dropped;
 *  - at rho >= `overload_util` the queue is saturated: served requests wait until the timeout;
 *  - invocations and event_count count every request (served or rejected, as an HTTP request
 *    counter would), error_rate = rejected / offered; heap_usage = 0.25 + 0.5 x cpu_usage;
 *    event_loop_lag_ms = the mean queueing wait; gc_pause_ms = 0 (no garbage collector).
 * See docs/simulator.md. */
#ifndef AETHER_SIM_SERVICE_H
#define AETHER_SIM_SERVICE_H

#include "aether/snapshot.h"

struct sim_service {
    double capacity_per_min; /* requests per minute one instance serves at 100% CPU, > 0 */
    double service_ms;       /* mean service time of one request, > 0 */
    double timeout_ms;       /* latency cap, and the latency of a saturated queue */
    double overload_util;    /* utilisation from which the queue is saturated (0.99) */
};

/* What one second did, for the simulator's accounting. */
struct sim_second {
    double offered;  /* requests offered in the second */
    double served;   /* requests served */
    double dropped;  /* requests rejected */
    double capacity; /* requests the ready instances could serve in the second */
    double util;     /* offered / capacity (INFINITY when nothing is ready and load > 0) */
    double p95_ms;   /* p95 latency of the served requests (timeout when saturated) */
};

/* Fills s->values (the 11 features of one second; latency features missing when nothing was
 * served, cpu missing when nothing is ready) and *out for `offered_per_s` requests offered to
 * `ready` instances. s must be initialised (timestamp, counts) by the caller. */
void sim_service_second(const struct sim_service *svc, double offered_per_s, int ready,
                        struct ae_snapshot *s, struct sim_second *out);

/* Erlang C: the probability that an arrival waits in an M/M/c queue with c servers and offered
 * load a = lambda / mu (Erlangs); 1 when a >= c. */
double sim_erlang_c(int c, double a);

/* Quantile q (0..1) of the response time (wait + service) of an M/M/c queue in units of the mean
 * service time, for c servers at utilisation rho < 1. */
double sim_mmc_response_quantile(int c, double rho, double q);

/* Mean response time of an M/M/c queue in units of the mean service time (rho < 1). */
double sim_mmc_response_mean(int c, double rho);

#endif
