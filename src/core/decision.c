/* Decision records: names of tiers and actions, and the input list. */
#include <string.h>

#include "aether/decision.h"

const char *ae_tier_name(enum ae_tier t)
{
    switch (t) {
    case AE_TIER_REACTIVE:
        return "reactive";
    case AE_TIER_TTM:
        return "ttm";
    case AE_TIER_OPERATOR:
        return "operator";
    }
    return "unknown";
}

const char *ae_action_name(enum ae_action a)
{
    switch (a) {
    case AE_ACTION_HOLD:
        return "hold";
    case AE_ACTION_SCALE_UP:
        return "scale_up";
    case AE_ACTION_SCALE_DOWN:
        return "scale_down";
    case AE_ACTION_ADJUST_THRESHOLDS:
        return "adjust_thresholds";
    }
    return "unknown";
}

void ae_decision_init(struct ae_decision *d, int64_t timestamp_ms, enum ae_tier tier, int n)
{
    memset(d, 0, sizeof *d);
    d->timestamp_ms = timestamp_ms;
    d->tier = tier;
    d->action = AE_ACTION_HOLD;
    d->from = n;
    d->to = n;
}

void ae_decision_add(struct ae_decision *d, const char *name, double value)
{
    if (d->input_count >= AE_DECISION_MAX_INPUTS)
        return;
    d->inputs[d->input_count].name = name;
    d->inputs[d->input_count].value = value;
    d->input_count++;
}
