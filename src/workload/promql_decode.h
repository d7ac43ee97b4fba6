/* Decoding Prometheus' HTTP API answers (private to src/workload).
 *
 * `/api/v1/query` and `/api/v1/query_range` answer with a JSON envelope:
 *   {"status":"success","data":{"resultType":"vector","result":[{"metric":{..},
 *    "value":[1700000000.123,"42.5"]}]}}
 * (resultType "scalar": result is one [time, "value"] pair; "matrix": each series has "values",
 * a list of such pairs), or {"status":"error","errorType":"bad_data","error":"..."} with an
 * HTTP error status. Sample values are strings because they may be "NaN", "+Inf" or "-Inf".
 * The collector needs one number per query, so an answer must hold exactly one series: an
 * empty result is "no data", several are refused with a hint to aggregate. Every failure is a
 * message for /api/blueprints; nothing here trusts the input (the fuzz target feeds it bytes). */
#ifndef AETHER_WORKLOAD_PROMQL_DECODE_H
#define AETHER_WORKLOAD_PROMQL_DECODE_H

#include <stddef.h>

/* Longest message written by the decoders (incl. the NUL); longer server messages are cut. */
#define PROMQL_ERR_MAX 200

/* The value of an instant query's answer (body of len bytes, need not be NUL-terminated):
 * 0 and *value (NaN and infinities included), or -1 with the reason in err, e.g.
 * "Prometheus error (bad_data): parse error at char 5", "no data (the query matched no
 * series)", "3 series: the query must give one (aggregate it, e.g. sum(...))", "not JSON: ...".
 * *t_s is the sample's time in Unix seconds. */
int promql_decode_instant(const char *body, size_t len, double *t_s, double *value, char *err,
                          size_t errlen);

/* Called for each point of a range answer, oldest first; returns 0 to go on. */
typedef int (*promql_point_cb)(void *ctx, double t_s, double value);

/* The points of a range query's answer (resultType "matrix" with one series; no series is an
 * empty answer, not an error). Returns the number of points delivered (a non-zero return of cb
 * stops early), or -1 with the reason in err (as promql_decode_instant). */
int promql_decode_range(const char *body, size_t len, promql_point_cb cb, void *ctx, char *err,
                        size_t errlen);

#endif
