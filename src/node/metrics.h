/* GET /metrics: the node's metrics in Prometheus text format 0.0.4.
 *
 * The spec's two counters keep their names (ttm_predictions_count_total,
 * ttm_recommendations_total{type}); every other metric is aether_*, in base units, counters
 * ending in _total. The list, with types, labels and meaning, is docs/api.md "GET /metrics"
 * (tests/e2e_prometheus keeps it in step with what is exported). */
#ifndef AETHER_NODE_METRICS_H
#define AETHER_NODE_METRICS_H

#include "prom_write.h"

#define METRICS_CONTENT_TYPE PROM_CONTENT_TYPE

struct node;

/* Renders every metric of node n into b from a node_view (the node's lock is held only while the
 * view is copied). Returns 0, or AE_ENOMEM when the view could not be taken (b untouched). */
int metrics_render(struct node *n, struct sbuf *b);

#endif
