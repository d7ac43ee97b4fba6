/* The service model of the simulator (see service.h): M/M/c latency from Erlang C, saturation
 * and rejection above capacity, and the 11 features a node would collect from such a service. */
#include "service.h"

#include <math.h>

double sim_erlang_c(int c, double a)
{
    if (c <= 0 || a >= c)
        return 1.0;
    if (a <= 0)
        return 0.0;
    /* Erlang B by its stable recursion, then C from B. */
    double b = 1.0;
    for (int k = 1; k <= c; k++)
        b = a * b / (k + a * b);
    double rho = a / c;
    return b / (1.0 - rho * (1.0 - b));
}

/* P(T > t) for the M/M/c response time T, time in units of the mean service time (mu = 1):
 * T = S + W with S ~ Exp(1), and W = 0 with probability 1 - C, else Exp(theta), theta = c(1-rho).
 */
static double response_tail(double C, double theta, double t)
{
    double es = exp(-t);
    double conv =
        fabs(theta - 1.0) < 1e-9 ? (1.0 + t) * es : (exp(-theta * t) - theta * es) / (1.0 - theta);
    return (1.0 - C) * es + C * conv;
}

double sim_mmc_response_quantile(int c, double rho, double q)
{
    double C = sim_erlang_c(c, rho * c);
    double theta = c * (1.0 - rho);
    double lo = 0, hi = 1;
    while (response_tail(C, theta, hi) > 1.0 - q && hi < 1e9)
        hi *= 2;
    for (int i = 0; i < 60; i++) {
        double mid = 0.5 * (lo + hi);
        if (response_tail(C, theta, mid) > 1.0 - q)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

double sim_mmc_response_mean(int c, double rho)
{
    return 1.0 + sim_erlang_c(c, rho * c) / (c * (1.0 - rho));
}

void sim_service_second(const struct sim_service *svc, double offered_per_s, int ready,
                        struct ae_snapshot *s, struct sim_second *out)
{
    double cap = ready > 0 ? ready * svc->capacity_per_min / 60.0 : 0.0;
    double offered = offered_per_s > 0 ? offered_per_s : 0.0;
    out->offered = offered;
    out->capacity = cap;
    out->util = cap > 0 ? offered / cap : (offered > 0 ? INFINITY : 0.0);
    int saturated = out->util >= svc->overload_util;
    out->served = offered < cap ? offered : cap;
    out->dropped = offered - out->served;

    ae_snapshot_set(s, AE_F_INVOCATIONS, offered);
    ae_snapshot_set(s, AE_F_EVENT_COUNT, offered);
    ae_snapshot_set(s, AE_F_GC_PAUSE_MS, 0.0);
    ae_snapshot_set(s, AE_F_ERROR_RATE, offered > 0 ? out->dropped / offered : 0.0);
    if (ready > 0) {
        double cpu = cap > 0 ? out->served / cap : 0.0;
        ae_snapshot_set(s, AE_F_CPU_USAGE, cpu > 1 ? 1 : cpu);
        ae_snapshot_set(s, AE_F_HEAP_USAGE, 0.25 + 0.5 * (cpu > 1 ? 1 : cpu));
    }
    double t = svc->timeout_ms;
    double mean = t, wait = t, p50 = t, p95 = t, p99 = t;
    if (!saturated && ready > 0) {
        double rho = out->util, ms = svc->service_ms;
        mean = fmin(t, ms * sim_mmc_response_mean(ready, rho));
        wait = fmin(t, mean - ms);
        p50 = fmin(t, ms * sim_mmc_response_quantile(ready, rho, 0.50));
        p95 = fmin(t, ms * sim_mmc_response_quantile(ready, rho, 0.95));
        p99 = fmin(t, ms * sim_mmc_response_quantile(ready, rho, 0.99));
    }
    out->p95_ms = p95;
    if (ready > 0)
        ae_snapshot_set(s, AE_F_EVENT_LOOP_LAG_MS, wait > 0 ? wait : 0);
    if (out->served > 0) {
        ae_snapshot_set(s, AE_F_LATENCY_MS, mean);
        ae_snapshot_set(s, AE_F_LATENCY_P50, p50);
        ae_snapshot_set(s, AE_F_LATENCY_P95, p95);
        ae_snapshot_set(s, AE_F_LATENCY_P99, p99);
    }
}
