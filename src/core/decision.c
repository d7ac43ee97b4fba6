/* Decision records: names of tiers and actions, and the input list. */
#include <string.h>

#include "aether/decision.h"
#include "aether/names.h"

#define MAP_TEXT(name, text) text,
static const char *const tier_names[AE_TIER_COUNT] = {AE_TIER_MAP(MAP_TEXT)};
static const char *const action_names[AE_ACTION_COUNT] = {AE_ACTION_MAP(MAP_TEXT)};
#undef MAP_TEXT

const char *ae_tier_name(enum ae_tier t)
{
    return ae_name_in(tier_names, AE_TIER_COUNT, (int)t, "unknown");
}

const char *ae_action_name(enum ae_action a)
{
    return ae_name_in(action_names, AE_ACTION_COUNT, (int)a, "unknown");
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
