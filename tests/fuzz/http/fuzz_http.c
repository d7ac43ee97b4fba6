/* Fuzz target for what HTTP clients send the node: the push-metrics body, time bounds and
 * integer query parameters, and the routing step. The first input byte picks the parser; the
 * rest is its input. Every parser must return an error, never crash or leak. */
#include "http.h"
#include "reqparse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[REQ_FEATURES] = {
    "cpu_usage",   "heap_usage",  "event_loop_lag_ms", "latency_ms", "invocations", "gc_pause_ms",
    "latency_p50", "latency_p95", "latency_p99",       "error_rate", "event_count"};

static void noop(void *ctx, const struct http_request *req, struct http_response *resp)
{
    (void)ctx;
    (void)req;
    (void)resp;
}

static const struct http_route routes[] = {
    {"GET", "/api/ttm/status", 0, 0, noop},
    {"POST", "/api/metrics/", 1, 1, noop},
    {"POST", "/api/ttm/reload", 0, 1, noop},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char err[512];
    uint8_t which = data[0] % 4;
    const char *in = (const char *)data + 1;
    size_t len = size - 1;
    if (which == 0) {
        struct req_push p;
        req_parse_push(in, len, names, &p, err, sizeof err);
        return 0;
    }
    char *s = malloc(len + 1);
    if (!s)
        return 0;
    memcpy(s, in, len);
    s[len] = '\0';
    if (which == 1) {
        int64_t t;
        req_parse_time(s, "from", &t, err, sizeof err);
    } else if (which == 2) {
        long v;
        req_parse_int(s, "limit", 1, 10000, &v, err, sizeof err);
        req_valid_blueprint(s);
    } else {
        /* "METHOD path" */
        char *sp = strchr(s, ' ');
        if (sp) {
            *sp = '\0';
            http_route_find(routes, 3, s, sp + 1);
        }
    }
    free(s);
    return 0;
}
