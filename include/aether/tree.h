/* Decision tree, tier 1 (reactive, every evaluation_interval_ms of [controller]).
 *
 * Two pure pieces: the rule (what the metrics of this second ask for: +1, 0 or -1) and the gate
 * (warm-up after start, cooldown after the blueprint's last change from either tier). The
 * adaptive decision tree (adaptive.h) combines them with the TTM tier and the [min, max] bounds;
 * with TTM off it is exactly tier 1. */
#ifndef AETHER_TREE_H
#define AETHER_TREE_H

#include <stdint.h>

#include "aether/config.h"
#include "aether/decision.h"
#include "aether/snapshot.h"

/* Differences of at most this much count as equal in every threshold comparison of the core, so
 * that "a rise of exactly 0.15" stays exactly 0.15 after floating-point subtraction. */
#define AE_CMP_EPS 1e-9

/* The CPU thresholds tier 1 uses now (configured, or adjusted by a forecast). */
struct tree_thresholds {
    double cpu_up;
    double cpu_down;
};

/* What tier 1 looks at for one blueprint in one evaluation. */
struct tree_input {
    int has_cpu;        /* 0 when the cpu feature is missing this second */
    double cpu_usage;   /* ratio 0..1 */
    int has_calls;      /* 0 when invocations are missing this second */
    double calls_per_s; /* calls/s summed over the blueprint's instances */
    int ready;          /* ready instances */
    int requested;      /* requested instances n */
    int min_instances;
    int max_instances;
};

/* Fills in the cpu and call-rate parts of *in from a 1-second snapshot (invocations of that second
 * = calls/s) and ready/requested from its counts; min/max are left as they are. */
void tree_input_from_snapshot(struct tree_input *in, const struct ae_snapshot *s);

/* The rule, over the instances requested (n = max(requested, ready)), so that instances still
 * starting count: with cpu' = cpu x ready / n, +1 when cpu' > t->cpu_up or calls_per_s / max(n, 1)
 * > call_rate_up; otherwise -1 when cpu' < t->cpu_down and requested > min_instances; otherwise 0.
 * With every instance ready that is DESIGN.md's rule. Comparisons are strict
 * (within AE_CMP_EPS counts as equal); a missing feature triggers nothing. Writes the reason and
 * the inputs into why (may be NULL; why->action/from/to are the caller's to set). */
int tree_rule(const struct tree_thresholds *t, double call_rate_up, const struct tree_input *in,
              struct ae_decision *why);

/* Warm-up and cooldown of one blueprint (shared by both tiers). */
struct tree_gate {
    int64_t start_ms;       /* when the controller started */
    int64_t last_change_ms; /* last change of the requested count, from any tier */
    int has_changed;        /* 0 until the first change */
};

void tree_gate_init(struct tree_gate *g, int64_t start_ms);

/* 1 when a change is allowed at now_ms: after warm_up_period_ms from the start (now - start >=
 * warm-up) and at least slice_cooldown_ms after the last change. Otherwise 0, with *why (may be
 * NULL) set to "warm-up" or "cooldown" (static storage). */
int tree_gate_allows(const struct tree_gate *g, const struct cfg_controller *c, int64_t now_ms,
                     const char **why);

/* Records a change of the requested count at now_ms (by any tier or the operator). */
void tree_gate_record(struct tree_gate *g, int64_t now_ms);

#endif
