/* Decoding Prometheus' query API answers with jansson (see promql_decode.h). */
#include "promql_decode.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A sample [time, "value"]: 0 with both numbers, -1 with the reason. */
static int read_sample(const json_t *pair, double *t_s, double *value, char *err, size_t errlen)
{
    const json_t *t = json_array_get(pair, 0), *v = json_array_get(pair, 1);
    if (!json_is_array(pair) || json_array_size(pair) != 2 || !json_is_number(t) ||
        !json_is_string(v)) {
        snprintf(err, errlen, "a sample is not [time, \"value\"]");
        return -1;
    }
    const char *text = json_string_value(v);
    char *end = NULL;
    double x = strtod(text, &end);
    if (end == text || *end != '\0') {
        snprintf(err, errlen, "sample value \"%.40s\" is not a number", text);
        return -1;
    }
    *t_s = json_number_value(t);
    *value = x;
    return 0;
}

/* Parses the envelope: the "data" object when status is "success", else NULL with the reason
 * (the server's own error when it gave one). *root owns everything; free it with json_decref. */
static const json_t *open_data(const char *body, size_t len, json_t **root, char *err,
                               size_t errlen)
{
    json_error_t je;
    *root = json_loadb(body ? body : "", body ? len : 0, 0, &je);
    if (!*root) {
        snprintf(err, errlen, "not JSON: %.120s (at byte %d)", je.text, je.position);
        return NULL;
    }
    const char *status = json_string_value(json_object_get(*root, "status"));
    if (!status) {
        snprintf(err, errlen, "not a Prometheus API answer (no \"status\")");
        return NULL;
    }
    if (strcmp(status, "success") != 0) {
        const char *type = json_string_value(json_object_get(*root, "errorType"));
        const char *msg = json_string_value(json_object_get(*root, "error"));
        snprintf(err, errlen, "Prometheus error (%.30s): %.140s", type ? type : "?",
                 msg ? msg : "no message");
        return NULL;
    }
    const json_t *data = json_object_get(*root, "data");
    if (!json_is_object(data) || !json_is_string(json_object_get(data, "resultType"))) {
        snprintf(err, errlen, "answer has no data.resultType");
        return NULL;
    }
    return data;
}

/* The one series of a vector or matrix result, or NULL with the reason (none, several). */
static const json_t *single_series(const json_t *result, int empty_ok, char *err, size_t errlen)
{
    if (!json_is_array(result)) {
        snprintf(err, errlen, "data.result is not a list");
        return NULL;
    }
    size_t n = json_array_size(result);
    if (n == 1 && json_is_object(json_array_get(result, 0)))
        return json_array_get(result, 0);
    if (n == 0 && !empty_ok)
        snprintf(err, errlen, "no data (the query matched no series)");
    else if (n == 0)
        err[0] = '\0';
    else if (n > 1)
        snprintf(err, errlen, "%zu series: the query must give one (aggregate it, e.g. sum(...))",
                 n);
    else
        snprintf(err, errlen, "a series is not an object");
    return NULL;
}

int promql_decode_instant(const char *body, size_t len, double *t_s, double *value, char *err,
                          size_t errlen)
{
    json_t *root = NULL;
    const json_t *data = open_data(body, len, &root, err, errlen);
    int rc = -1;
    if (data) {
        const char *type = json_string_value(json_object_get(data, "resultType"));
        const json_t *result = json_object_get(data, "result");
        if (strcmp(type, "scalar") == 0) {
            rc = read_sample(result, t_s, value, err, errlen);
        } else if (strcmp(type, "vector") == 0) {
            const json_t *s = single_series(result, 0, err, errlen);
            rc = s ? read_sample(json_object_get(s, "value"), t_s, value, err, errlen) : -1;
        } else {
            snprintf(err, errlen, "resultType \"%.20s\" is not a number (need vector or scalar)",
                     type);
        }
    }
    json_decref(root);
    return rc;
}

int promql_decode_range(const char *body, size_t len, promql_point_cb cb, void *ctx, char *err,
                        size_t errlen)
{
    json_t *root = NULL;
    const json_t *data = open_data(body, len, &root, err, errlen);
    int rc = -1;
    if (data && strcmp(json_string_value(json_object_get(data, "resultType")), "matrix") != 0) {
        snprintf(err, errlen, "resultType of a range query is not \"matrix\"");
    } else if (data) {
        const json_t *s = single_series(json_object_get(data, "result"), 1, err, errlen);
        const json_t *values = s ? json_object_get(s, "values") : NULL;
        if (!s) {
            rc = err[0] ? -1 : 0;
        } else if (!json_is_array(values)) {
            snprintf(err, errlen, "a series has no \"values\" list");
        } else {
            rc = 0;
            for (size_t i = 0; i < json_array_size(values); i++) {
                double t, v;
                if (read_sample(json_array_get(values, i), &t, &v, err, errlen) != 0) {
                    rc = -1;
                    break;
                }
                rc++;
                if (cb(ctx, t, v) != 0)
                    break;
            }
        }
    }
    json_decref(root);
    return rc;
}
