/* Decision records: names of tiers and actions, and the input list. */
#include <string.h>

#include "aether/decision.h"

const char *ae_tier_name(enum ae_tier t)
{
    static const char *const names[AE_TIER_COUNT] = {
#define AE_TIER_TEXT(name, text) text,
        AE_TIER_MAP(AE_TIER_TEXT)
#undef AE_TIER_TEXT
    };
    return (unsigned)t < AE_TIER_COUNT ? names[t] : "unknown";
}

const char *ae_action_name(enum ae_action a)
{
    static const char *const names[AE_ACTION_COUNT] = {
#define AE_ACTION_TEXT(name, text) text,
        AE_ACTION_MAP(AE_ACTION_TEXT)
#undef AE_ACTION_TEXT
    };
    return (unsigned)a < AE_ACTION_COUNT ? names[a] : "unknown";
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
