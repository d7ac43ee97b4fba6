/* How many history writes an hour brings for a configuration: the size of the writer's queue,
 * so that an hour of a failing disk (full, locked, read-only) loses nothing.
 *
 * Per blueprint and hour, at most: 60 closed minutes; with TTM enabled one forecast and one TTM
 * decision per ttm.evaluation_interval_ms; one reactive change (its decision and its result)
 * per max(controller.evaluation_interval_ms, controller.slice_cooldown_ms), as a change waits
 * for the cooldown of the one before; one prune per hour. The queue takes that with a margin
 * (WBUDGET_MARGIN) and never less than WBUDGET_MIN_PER_BP per blueprint. */
#ifndef AETHER_NODE_WBUDGET_H
#define AETHER_NODE_WBUDGET_H

#include "aether/config.h"

#define WBUDGET_HOUR_MS 3600000L
#define WBUDGET_MARGIN 1.25
#define WBUDGET_BASE 1024       /* room for prunes and writes of the node as a whole */
#define WBUDGET_MIN_PER_BP 1024 /* the floor per blueprint */

/* The writes one blueprint may bring in an hour under cfg (without the margin). */
long wbudget_hour_per_bp(const struct ae_config *cfg);

/* The writer queue's capacity for cfg: an hour of every blueprint's writes with the margin. */
long wbudget_queue_capacity(const struct ae_config *cfg);

#endif
