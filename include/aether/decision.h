/* A scaling decision as the node records and shows it (/api/decisions): which tier, what it did,
 * from which count to which, why, and the numbers that triggered it. Produced by the adaptive
 * decision tree (every second) and the TTM manager (every forecast). */
#ifndef AETHER_DECISION_H
#define AETHER_DECISION_H

#include <stdint.h>

#define AE_DECISION_MAX_INPUTS 16
#define AE_REASON_MAX 128

/* Which tier decided: X(name, API spelling). */
#define AE_TIER_MAP(X)                                                                            \
    X(REACTIVE, "reactive")                                                                        \
    X(TTM, "ttm")

enum ae_tier {
#define AE_TIER_ENUM(name, text) AE_TIER_##name,
    AE_TIER_MAP(AE_TIER_ENUM)
#undef AE_TIER_ENUM
        AE_TIER_COUNT
};

/* What a decision did: X(name, API spelling). */
#define AE_ACTION_MAP(X)                                                                          \
    X(HOLD, "hold")                                                                                \
    X(SCALE_UP, "scale_up")                                                                        \
    X(SCALE_DOWN, "scale_down")

enum ae_action {
#define AE_ACTION_ENUM(name, text) AE_ACTION_##name,
    AE_ACTION_MAP(AE_ACTION_ENUM)
#undef AE_ACTION_ENUM
        AE_ACTION_COUNT
};

/* One named number behind a decision; name is static storage ("cpu_usage", "floor", ...). */
struct ae_decision_input {
    const char *name;
    double value;
};

struct ae_decision {
    int64_t timestamp_ms;
    enum ae_tier tier;
    enum ae_action action;
    int from; /* requested instances before */
    int to;   /* requested instances wanted (== from for hold) */
    char reason[AE_REASON_MAX];
    struct ae_decision_input inputs[AE_DECISION_MAX_INPUTS];
    int input_count;
};

/* The names of AE_TIER_MAP and AE_ACTION_MAP (static storage); "unknown" for a value outside the
 * enum. */
const char *ae_tier_name(enum ae_tier t);
const char *ae_action_name(enum ae_action a);

/* Resets d to a hold at timestamp_ms from n to n with no reason and no inputs. */
void ae_decision_init(struct ae_decision *d, int64_t timestamp_ms, enum ae_tier tier, int n);

/* Appends one input (name must be static storage); ignored when the list is full. */
void ae_decision_add(struct ae_decision *d, const char *name, double value);

#endif
