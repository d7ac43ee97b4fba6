/* An hour of history writes for a configuration (see wbudget.h). */
#include "wbudget.h"

/* How many times something done every period_ms happens in an hour (at least once). */
static long per_hour(long period_ms)
{
    return period_ms > 0 ? (WBUDGET_HOUR_MS + period_ms - 1) / period_ms : WBUDGET_HOUR_MS;
}

long wbudget_hour_per_bp(const struct ae_config *cfg)
{
    const struct cfg_controller *c = &cfg->controller;
    long minutes = WBUDGET_HOUR_MS / 60000;
    long ttm = cfg->ttm.enabled ? 2 * per_hour(cfg->ttm.evaluation_interval_ms) : 0;
    long gap = c->slice_cooldown_ms > c->evaluation_interval_ms ? c->slice_cooldown_ms
                                                                : c->evaluation_interval_ms;
    long changes = 2 * per_hour(gap);   /* the decision and its result */
    return minutes + ttm + changes + 1; /* + the hourly prune */
}

long wbudget_queue_capacity(const struct ae_config *cfg)
{
    long per_bp = (long)((double)wbudget_hour_per_bp(cfg) * WBUDGET_MARGIN);
    if (per_bp < WBUDGET_MIN_PER_BP)
        per_bp = WBUDGET_MIN_PER_BP;
    return WBUDGET_BASE + (long)cfg->blueprint_count * per_bp;
}
