/* Adaptive decision tree: the per-blueprint controller that runs every second. It applies tier 1
 * (tree.h) and the recommendation of the latest forecast (forecast.h) as DESIGN.md's merge rules
 * say, and enforces warm-up, cooldown and [min, max] on every change. A recommendation is a
 * target (a floor, a ceiling, or both) held until the next forecast, never an increment
 * repeated every second. With no recommendation it is exactly tier 1: that is the reactive-only
 * path when TTM is disabled, missing or failing. One struct per blueprint, no allocation. */
#ifndef AETHER_ADAPTIVE_H
#define AETHER_ADAPTIVE_H

#include <stdint.h>

#include "aether/config.h"
#include "aether/decision.h"
#include "aether/forecast.h"
#include "aether/tree.h"

struct adt {
    struct tree_gate gate;
    /* The recommendation in force (active mode only). */
    int has_rec;
    int64_t rec_time_ms;
    int floor;   /* > 0 when a floor holds */
    int ceiling; /* > 0 when a ceiling holds */
    /* The latest recommendation received, applied or not (forecast-only mode records it here). */
    struct fcst_recommendation last_rec;
    int has_last_rec;
    char drop_reason[AE_REASON_MAX]; /* why the last recommendation was dropped, "" if none */
    int64_t raised_ms;               /* when tier 1 last scaled up; INT64_MIN before */
};

/* Starts a blueprint's controller at start_ms (warm-up counts from here) with no
 * recommendation. */
void adt_init(struct adt *a, int64_t start_ms);

/* Takes the recommendation of a new forecast made at now_ms. In active mode it replaces the one
 * in force: its floor and ceiling (0 = none). In forecast-only mode it is only recorded. */
void adt_apply(struct adt *a, enum cfg_ttm_mode mode, const struct fcst_recommendation *rec,
               int64_t now_ms);
/* Drops the recommendation in force (no floor, no ceiling), with a reason kept in drop_reason:
 * TTM went to ERROR or STOPPED, or was disabled. */
void adt_drop(struct adt *a, const char *reason);

/* One evaluation at now_ms. First drops a recommendation older than 2 x ttm_interval_ms. Then,
 * with s = tree_rule() on the configured thresholds and n = in->requested:
 *   s = +1                 -> max(n + 1, floor if one holds)   (a ceiling is ignored)
 *   else floor F > n holds -> F
 *   else ceiling C < n     -> n - 1
 *   else                   -> n + s, but never below a floor that holds
 * clamped into [min, max]; a change only when tree_gate_allows(), and then recorded in the gate.
 * Returns the desired requested count and fills *out (tier ttm when the floor/ceiling decided,
 * else reactive; action hold when nothing changes, with the reason: "warm-up", "cooldown",
 * "within thresholds", "at max_instances", ...). out may be NULL. */
int adt_decide(struct adt *a, const struct cfg_controller *c, int ttm_interval_ms,
               const struct tree_input *in, int64_t now_ms, struct ae_decision *out);

/* Records a change made outside the controller (operator) so the cooldown counts from it. */
void adt_note_change(struct adt *a, int64_t now_ms);

#endif
