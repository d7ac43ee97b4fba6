/* The Prometheus-query collector: a blueprint's features read by PromQL from an existing
 * Prometheus server ([blueprint.prometheus], docs/config.md), and the history backfilled from
 * it.
 *
 * Each feature has one query (queries[f] of the config, or the default built from
 * [blueprint.metrics] and the selector, see promql_query_for); each gives one number in the
 * 1-second snapshot's unit (invocations and event_count per second, latencies in ms, ratios
 * 0..1). A thread per blueprint sends every query to `<url>/api/v1/query` once a second, all in
 * parallel, within query_timeout_ms, and the fill copies the latest round. A query that fails
 * (refused, timeout, HTTP or Prometheus error, garbage, no series, several series, NaN) leaves
 * its feature missing, and promql_collector_reason says why. Instance counts are not read
 * here: they still come from the actuator.
 *
 * The backfill (promql_fetch_range) reads one feature's values per minute over a time range
 * from `/api/v1/query_range` with a 60 s step: the point at a minute's end is that minute's
 * value (a rate over [1m] covers exactly that minute). */
#ifndef AETHER_PROMQL_H
#define AETHER_PROMQL_H

#include <stddef.h>
#include <stdint.h>

#include "aether/config.h"
#include "aether/snapshot.h"

/* The query of feature f for blueprint bp into out: 1 when there is one (written or default), 0
 * when the feature is not queried ("off", or no default), -1 when out is too small. */
int promql_query_for(const struct cfg_blueprint *bp, int f, char *out, size_t len);

struct promql_collector;

/* Starts the query thread of bp (copied) when bp->prometheus.url is set; *out is NULL without a
 * URL. interval_ms is the round period (1000 in the node). 0, or AE_ENOMEM / AE_EINVAL with a
 * message. Free with promql_collector_close. */
int promql_collector_open(const struct cfg_blueprint *bp, int interval_ms,
                          struct promql_collector **out, char *err, size_t errlen);

/* The latest round's features, or nothing when it is older than three intervals. */
void promql_collector_fill(struct promql_collector *c, struct ae_snapshot *snap);

/* Why features are missing ("" when every query answered), e.g. "prometheus
 * http://127.0.0.1:9090: invocations: no data (the query matched no series)". Returns the
 * length written. */
size_t promql_collector_reason(struct promql_collector *c, char *buf, size_t len);

/* Stops the thread and frees c (NULL allowed). */
void promql_collector_close(struct promql_collector *c);

/* Per-minute values of feature f of bp over the minutes starting in [from_ms, to_ms): calls
 * cb(ctx, minute_start_ms, value) for each minute Prometheus has a number for, oldest first
 * (NaN points skipped). Blocks for up to query_timeout_ms. Returns the number of minutes
 * delivered, 0 when the feature is not queried, or a negative AE_E* code with the reason in err
 * (naming the URL and the feature). */
typedef void (*promql_minute_cb)(void *ctx, int64_t minute_ms, double value);
int promql_fetch_range(const struct cfg_blueprint *bp, int f, int64_t from_ms, int64_t to_ms,
                       promql_minute_cb cb, void *ctx, char *err, size_t errlen);

#endif
