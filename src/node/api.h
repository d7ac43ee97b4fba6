/* The node's HTTP API (DESIGN.md "HTTP API"): the route table and its handlers.
 *
 *   GET  /api/ttm/status          TTM state, model, last forecast, per-blueprint status
 *   GET  /api/ttm/training-data   minute history as JSON or CSV (?format=csv), streamed
 *   GET  /api/blueprints          instances, load and last decision per blueprint
 *   GET  /api/decisions           recent decisions, newest first (?blueprint=&limit=)
 *   POST /api/ttm/reload          reload the model (token)
 *   POST /api/metrics/{blueprint} push feature values for this second -> 202 (token)
 *   GET  /api/ttm/forecasts       every stored forecast step (?blueprint=&from=&to=)
 *   GET  /api/keda/{blueprint}    desired instances and forecast floor, for KEDA's metrics-api
 *   GET  /metrics                 Prometheus text format 0.0.4
 *   GET  /, /dashboard, /dashboard/{file}   the dashboard (dashboard.h)
 *
 * Handlers take the node's lock only to copy what they render. */
#ifndef AETHER_NODE_API_H
#define AETHER_NODE_API_H

#include "http.h"

/* The route table (static storage); handlers expect the struct node * as their context. */
extern const struct http_route api_routes[];
extern const int api_route_count;

#endif
