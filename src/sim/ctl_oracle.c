/* The oracle: perfect foresight of the trace, the cost limit for the SLO. At every second it wants
 * the fewest instances that keep the utilisation of ready capacity at or below its target for
 * every minute from now until instances requested now are ready, and it scales down at once.
 * Comparison only; no real controller can know the load ahead. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "aether/error.h"
#include "controllers.h"
#include "sim.h"

struct oracle_ctl {
    struct sim_controller base;
    const struct sim_load *load;
    double per_instance; /* requests per minute at the target utilisation */
    int64_t startup_ms;
};

static int oracle_desired(struct sim_controller *c, const struct sim_view *v, int *out, char *err,
                          size_t errlen)
{
    (void)err;
    (void)errlen;
    struct oracle_ctl *k = c->state;
    const struct sim_load *l = k->load;
    int64_t first = (v->now_ms - l->start_ms) / AE_MINUTE_MS;
    int64_t last = (v->now_ms + k->startup_ms - l->start_ms) / AE_MINUTE_MS;
    double peak = 0;
    for (int64_t m = first; m <= last && m < (int64_t)l->minutes; m++)
        if (m >= 0 && !isnan(l->demand[m]) && l->demand[m] > peak)
            peak = l->demand[m];
    *out = (int)ceil(peak / k->per_instance - 1e-9);
    return 0;
}

static void oracle_free(struct sim_controller *c)
{
    free(c->state);
}

int sim_ctl_oracle_open(const struct sim_load *load, double capacity_per_min, double util,
                        int64_t startup_ms, struct sim_controller **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!(capacity_per_min > 0) || !(util > 0)) {
        snprintf(err, errlen, "oracle: capacity and utilisation must be positive");
        return AE_EINVAL;
    }
    struct oracle_ctl *k = calloc(1, sizeof *k);
    if (!k) {
        snprintf(err, errlen, "oracle controller: out of memory");
        return AE_ENOMEM;
    }
    k->load = load;
    k->per_instance = capacity_per_min * util;
    k->startup_ms = startup_ms;
    k->base.name = "oracle";
    k->base.state = k;
    k->base.desired = oracle_desired;
    k->base.free = oracle_free;
    *out = &k->base;
    return 0;
}
