/* The forecast log of a simulated controller (controller.h): a ring of its last forecasts, so
 * that the simulator can score each minute at every step of the horizon. */
#include <string.h>

#include "controller.h"

void sim_fcst_log_add(struct sim_fcst_log *l, int64_t first_ms, const double *v, int len)
{
    int slot = -1;
    for (int i = 0; i < l->count; i++) {
        int k = (l->head + i) % SIM_FCST_LOG;
        if (l->first_ms[k] == first_ms)
            slot = k;
    }
    if (slot < 0) {
        slot = (l->head + l->count) % SIM_FCST_LOG;
        if (l->count == SIM_FCST_LOG)
            l->head = (l->head + 1) % SIM_FCST_LOG;
        else
            l->count++;
    }
    len = len < SIM_MAX_STEPS ? len : SIM_MAX_STEPS;
    l->first_ms[slot] = first_ms;
    l->len[slot] = len;
    memcpy(l->v[slot], v, (size_t)len * sizeof *v);
}

int sim_fcst_log_get(const struct sim_fcst_log *l, int64_t minute_ms, int step, double *out)
{
    if (step < 1 || step > SIM_MAX_STEPS)
        return 0;
    int64_t first = minute_ms - (int64_t)(step - 1) * AE_MINUTE_MS;
    for (int i = 0; i < l->count; i++) {
        int k = (l->head + i) % SIM_FCST_LOG;
        if (l->first_ms[k] == first && step <= l->len[k]) {
            *out = l->v[k][step - 1];
            return 1;
        }
    }
    return 0;
}
