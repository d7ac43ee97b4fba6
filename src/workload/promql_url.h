/* URLs of the Prometheus HTTP API (private to src/workload). */
#ifndef AETHER_WORKLOAD_PROMQL_URL_H
#define AETHER_WORKLOAD_PROMQL_URL_H

#include <stddef.h>

/* Longest API URL built (base URL, path and the percent-encoded query). */
#define PROMQL_URL_MAX 4096

/* Writes "<base>/api/v1/<api>?query=<query percent-encoded><extra>" (trailing '/' of base
 * dropped; extra is already encoded, e.g. "&start=1&end=2&step=60", or NULL). 0, or -1 when it
 * does not fit in len. */
int promql_url(const char *base, const char *api, const char *query, const char *extra, char *out,
               size_t len);

#endif
