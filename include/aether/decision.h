/* A scaling decision as the node records and shows it (/api/decisions): which tier, what it did,
 * from which count to which, why, and the numbers that triggered it. Produced by the adaptive
 * decision tree (every second) and the TTM manager (every forecast). */
#ifndef AETHER_DECISION_H
#define AETHER_DECISION_H

#include <stdint.h>

#define AE_DECISION_MAX_INPUTS 16
#define AE_REASON_MAX 128

enum ae_tier { AE_TIER_REACTIVE, AE_TIER_TTM, AE_TIER_OPERATOR };
enum ae_action {
    AE_ACTION_HOLD,
    AE_ACTION_SCALE_UP,
    AE_ACTION_SCALE_DOWN,
    AE_ACTION_ADJUST_THRESHOLDS,
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
    int to;   /* requested instances wanted (== from for hold / adjust_thresholds) */
    char reason[AE_REASON_MAX];
    struct ae_decision_input inputs[AE_DECISION_MAX_INPUTS];
    int input_count;
};

/* "reactive" "ttm" "operator"; "hold" "scale_up" "scale_down" "adjust_thresholds" (the API's
 * spelling). Static storage; "unknown" for a value outside the enum. */
const char *ae_tier_name(enum ae_tier t);
const char *ae_action_name(enum ae_action a);

/* Resets d to a hold at timestamp_ms from n to n with no reason and no inputs. */
void ae_decision_init(struct ae_decision *d, int64_t timestamp_ms, enum ae_tier tier, int n);

/* Appends one input (name must be static storage); ignored when the list is full. */
void ae_decision_add(struct ae_decision *d, const char *name, double value);

#endif
