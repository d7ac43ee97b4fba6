/* Adaptive decision tree: tier 1 every second, merged with the forecast's held target. */
#include <stdio.h>
#include <string.h>

#include "aether/adaptive.h"

void adt_init(struct adt *a, int64_t start_ms)
{
    memset(a, 0, sizeof *a);
    tree_gate_init(&a->gate, start_ms);
    a->raised_ms = INT64_MIN;
}

void adt_drop(struct adt *a, const char *reason)
{
    if (a->has_rec)
        snprintf(a->drop_reason, sizeof a->drop_reason, "%s", reason ? reason : "");
    a->has_rec = 0;
    a->floor = 0;
    a->ceiling = 0;
}

void adt_apply(struct adt *a, enum cfg_ttm_mode mode, const struct fcst_recommendation *rec,
               int64_t now_ms)
{
    a->last_rec = *rec;
    a->has_last_rec = 1;
    if (mode == CFG_TTM_FORECAST_ONLY)
        return; /* recorded and exported, never applied */
    a->has_rec = 1;
    a->rec_time_ms = now_ms;
    a->floor = rec->floor;
    a->ceiling = rec->ceiling;
    a->drop_reason[0] = 0;
}

void adt_note_change(struct adt *a, int64_t now_ms)
{
    tree_gate_record(&a->gate, now_ms);
}

int adt_decide(struct adt *a, const struct cfg_controller *c, int ttm_interval_ms,
               const struct tree_input *in, int64_t now_ms, struct ae_decision *out)
{
    if (a->has_rec && now_ms - a->rec_time_ms > 2 * (int64_t)ttm_interval_ms)
        adt_drop(a, "forecast older than 2 x ttm.evaluation_interval_ms");
    int n = in->requested;
    struct ae_decision d;
    ae_decision_init(&d, now_ms, AE_TIER_REACTIVE, n);
    const struct tree_thresholds configured = {c->cpu_scale_up_threshold,
                                               c->cpu_scale_down_threshold};
    /* without out (no record wanted) tier 1 skips formatting its reason and inputs */
    int s = tree_rule(&configured, c->call_rate_scale_up_threshold, in, out ? &d : NULL);
    int floor = a->has_rec ? a->floor : 0, ceiling = a->has_rec ? a->ceiling : 0;
    if (floor > 0 && out)
        ae_decision_add(&d, "floor", floor);
    if (ceiling > 0 && out)
        ae_decision_add(&d, "ceiling", ceiling);

    int desired, by_forecast = 0;
    if (s > 0) {
        desired = n + 1;
        if (floor > desired) {
            desired = floor;
            by_forecast = 1;
        }
    } else if (floor > n) {
        desired = floor;
        by_forecast = 1;
    } else if (ceiling > 0 && ceiling < n && a->rec_time_ms > a->raised_ms) {
        /* (a ceiling made before tier 1's last scale-up does not undo it) */
        desired = n - 1;
        by_forecast = 1;
    } else {
        desired = n + s;
        if (floor > 0 && desired < floor) {
            desired = floor; /* a held floor also stops the reactive tier going below it */
            snprintf(d.reason, sizeof d.reason, "held at the forecast floor %d", floor);
        }
    }
    if (by_forecast) {
        d.tier = AE_TIER_TTM;
        /* a step down is the ceiling's, even the last one onto a floor of the same F */
        if (desired < n)
            snprintf(d.reason, sizeof d.reason, "forecast ceiling %d", ceiling);
        else if (floor > 0 && desired == floor)
            snprintf(d.reason, sizeof d.reason, "forecast floor %d", floor);
    }
    if (desired > in->max_instances) {
        desired = in->max_instances;
        if (desired <= n)
            snprintf(d.reason + strlen(d.reason), sizeof d.reason - strlen(d.reason),
                     "; at max_instances %d", in->max_instances);
    }
    if (desired < in->min_instances) {
        desired = in->min_instances;
        if (desired >= n)
            snprintf(d.reason + strlen(d.reason), sizeof d.reason - strlen(d.reason),
                     "; at min_instances %d", in->min_instances);
    }
    const char *blocked = NULL;
    if (desired != n && !tree_gate_allows(&a->gate, c, now_ms, &blocked)) {
        char why[AE_REASON_MAX];
        memcpy(why, d.reason, sizeof why);
        snprintf(d.reason, sizeof d.reason, "%s (%.100s)", blocked, why);
        desired = n;
    }
    if (desired != n)
        tree_gate_record(&a->gate, now_ms);
    if (desired > n && !by_forecast)
        a->raised_ms = now_ms;
    d.to = desired;
    d.action = desired > n   ? AE_ACTION_SCALE_UP
               : desired < n ? AE_ACTION_SCALE_DOWN
                             : AE_ACTION_HOLD;
    if (out)
        *out = d;
    return desired;
}
