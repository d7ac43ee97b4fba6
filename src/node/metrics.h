/* GET /metrics: the node's metrics in Prometheus text format 0.0.4.
 *
 * Counters: ttm_predictions_count_total, ttm_recommendations_total{type}, ttm_evaluations_total,
 * ttm_inference_failures_total, ttm_model_reloads_total{result}, aether_decisions_total{tier,
 * action}, aether_metric_pushes_total{blueprint}, aether_history_write_errors_total.
 * Gauges: ttm_enabled, ttm_model_loaded, ttm_state{state}, ttm_blueprint_state{blueprint,state},
 * ttm_confidence{blueprint}, ttm_skill{blueprint}, ttm_forecast_value{blueprint,feature,minute},
 * ttm_recommendation_target_instances{blueprint}, aether_instances{blueprint,state},
 * aether_blueprint_min_instances / _max_instances{blueprint}, aether_history_minutes{blueprint},
 * aether_control_loop_lag_seconds (summary over the last LAG_WINDOW ticks),
 * aether_control_loop_lag_max_seconds, aether_control_loop_last_lag_seconds,
 * aether_control_loop_nice. See docs/api.md. */
#ifndef AETHER_NODE_METRICS_H
#define AETHER_NODE_METRICS_H

#include "prom_write.h"

#define METRICS_CONTENT_TYPE PROM_CONTENT_TYPE

struct node;

/* Renders every metric of node n into b from a node_view (the node's lock is held only while the
 * view is copied). Returns 0, or AE_ENOMEM when the view could not be taken (b untouched). */
int metrics_render(struct node *n, struct sbuf *b);

#endif
