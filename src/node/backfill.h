/* The history backfill from Prometheus: on start, before the node reloads its window from the
 * store, every blueprint with a [blueprint.prometheus] url gets the last backfill_minutes
 * minutes read by its PromQL queries (/api/v1/query_range, one request per feature, 60 s step)
 * and written to the store as backfilled minutes, where the store has none of its own. The
 * minute in progress is not backfilled. A Prometheus that fails costs only the backfill: the
 * failure is logged and the node starts cold. */
#ifndef AETHER_NODE_BACKFILL_H
#define AETHER_NODE_BACKFILL_H

#include <stdint.h>

#include "aether/config.h"
#include "store.h"

/* Backfills blueprint bp (resolved: limits known) into s at now_ms. Returns the number of minutes
 * written (>= 0), or a negative AE_E* code with the reason in err (nothing is fatal to the
 * caller: it logs and goes on). */
int backfill_blueprint(struct store *s, const struct cfg_blueprint *bp, int64_t now_ms, char *err,
                       size_t errlen);

/* backfill_blueprint for every blueprint of cfg with a Prometheus url, logging each outcome. */
void backfill_all(struct store *s, const struct ae_config *cfg, int64_t now_ms);

#endif
