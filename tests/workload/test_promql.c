/* Tests of the Prometheus-query collector's parts: the answer decoder (every shape the API
 * gives, and what it must refuse), the default queries and the API URLs, and the collector
 * against servers that fail (refused, garbage, too slow): features missing, the reason names
 * the URL and the feature, nothing crashes. Answers of a real Prometheus are checked end to end
 * (tests/e2e_prometheus). */
#include "aether/error.h"
#include "aether/features.h"
#include "aether/promql.h"
#include "helpers.h"
#include "promql_decode.h"
#include "promql_url.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static void instant_fails(const char *body, const char *want)
{
    char err[PROMQL_ERR_MAX];
    double t, v;
    assert_int_equal(promql_decode_instant(body, strlen(body), &t, &v, err, sizeof err), -1);
    if (!strstr(err, want))
        fail_msg("\"%s\" does not contain \"%s\"", err, want);
}

static void decode_instant_answers(void **state)
{
    (void)state;
    char err[PROMQL_ERR_MAX];
    double t, v;
    const char *vec = "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":"
                      "[{\"metric\":{\"job\":\"w\"},\"value\":[1700000000.5,\"42.25\"]}]}}";
    assert_int_equal(promql_decode_instant(vec, strlen(vec), &t, &v, err, sizeof err), 0);
    assert_true(t == 1700000000.5 && v == 42.25);
    const char *sc = "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":"
                     "[1,\"+Inf\"]}}";
    assert_int_equal(promql_decode_instant(sc, strlen(sc), &t, &v, err, sizeof err), 0);
    assert_true(isinf(v));

    instant_fails("{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[]}}",
                  "no data");
    instant_fails("{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
                  "{\"metric\":{},\"value\":[1,\"1\"]},{\"metric\":{},\"value\":[1,\"2\"]}]}}",
                  "2 series: the query must give one");
    instant_fails("{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"parse error\"}",
                  "Prometheus error (bad_data): parse error");
    instant_fails("<html>bad gateway</html>", "not JSON");
    instant_fails("{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[]}}",
                  "resultType \"matrix\" is not a number");
    instant_fails("{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":"
                  "[{\"metric\":{},\"value\":[1,\"fast\"]}]}}",
                  "sample value \"fast\" is not a number");
    instant_fails("{\"data\":1}", "no \"status\"");
}

static int collect_point(void *ctx, double t_s, double value)
{
    double *seen = ctx;
    seen[0] += 1;
    seen[1] += t_s;
    seen[2] += value;
    return 0;
}

static void decode_range_answers(void **state)
{
    (void)state;
    char err[PROMQL_ERR_MAX];
    double seen[3] = {0, 0, 0};
    const char *m = "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":"
                    "[{\"metric\":{},\"values\":[[60,\"1\"],[120,\"2.5\"]]}]}}";
    assert_int_equal(promql_decode_range(m, strlen(m), collect_point, seen, err, sizeof err), 2);
    assert_true(seen[0] == 2 && seen[1] == 180 && seen[2] == 3.5);
    const char *none =
        "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[]}}";
    assert_int_equal(promql_decode_range(none, strlen(none), collect_point, seen, err, sizeof err),
                     0);
    const char *vec = "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[]}}";
    assert_int_equal(promql_decode_range(vec, strlen(vec), collect_point, seen, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "not \"matrix\""));
}

static void default_queries_and_urls(void **state)
{
    (void)state;
    struct cfg_blueprint bp;
    cfg_blueprint_defaults(&bp);
    bp.memory_limit_bytes = 1000;
    bp.cpu_limit_cores = 0.5;
    char q[1024];
    assert_int_equal(promql_query_for(&bp, AE_F_INVOCATIONS, q, sizeof q), 1);
    assert_string_equal(q, "sum(rate(http_requests_total[1m]))");
    snprintf(bp.prometheus.selector, sizeof bp.prometheus.selector, "job=\"web\"");
    assert_int_equal(promql_query_for(&bp, AE_F_LATENCY_P95, q, sizeof q), 1);
    assert_string_equal(q, "1000 * histogram_quantile(0.95, sum by (le) "
                           "(rate(http_request_duration_seconds_bucket{job=\"web\"}[1m])))");
    assert_int_equal(promql_query_for(&bp, AE_F_HEAP_USAGE, q, sizeof q), 1);
    assert_string_equal(q, "avg(process_resident_memory_bytes{job=\"web\"}) / 1000");
    assert_int_equal(promql_query_for(&bp, AE_F_CPU_USAGE, q, sizeof q), 1);
    assert_string_equal(q, "sum(rate(process_cpu_seconds_total{job=\"web\"}[1m])) / "
                           "count(process_cpu_seconds_total{job=\"web\"}) / 0.5");
    assert_int_equal(promql_query_for(&bp, AE_F_EVENT_LOOP_LAG_MS, q, sizeof q), 0);
    assert_int_equal(promql_query_for(&bp, AE_F_GC_PAUSE_MS, q, sizeof q), 0);
    snprintf(bp.prometheus.queries[AE_F_ERROR_RATE], CFG_PROMQL_MAX, "off");
    assert_int_equal(promql_query_for(&bp, AE_F_ERROR_RATE, q, sizeof q), 0);
    snprintf(bp.prometheus.queries[AE_F_EVENT_LOOP_LAG_MS], CFG_PROMQL_MAX, "max(lag_ms)");
    assert_int_equal(promql_query_for(&bp, AE_F_EVENT_LOOP_LAG_MS, q, sizeof q), 1);
    assert_string_equal(q, "max(lag_ms)");
    assert_int_equal(promql_query_for(&bp, AE_F_INVOCATIONS, q, 8), -1);

    char url[PROMQL_URL_MAX];
    assert_int_equal(
        promql_url("http://p:9090/", "query", "sum(rate(x{a=\"b c\"}[1m]))", NULL, url, sizeof url),
        0);
    assert_string_equal(url, "http://p:9090/api/v1/query?query="
                             "sum%28rate%28x%7Ba%3D%22b%20c%22%7D%5B1m%5D%29%29");
    assert_int_equal(promql_url("http://p", "query_range", "up", "&step=60", url, sizeof url), 0);
    assert_string_equal(url, "http://p/api/v1/query_range?query=up&step=60");
    assert_int_equal(promql_url("http://p", "query", "up", NULL, url, 20), -1);
}

/* A collector on url; waits until its first round is in and returns the reason. */
static void reason_of(const char *url, int timeout_ms, char *reason, size_t len)
{
    struct cfg_blueprint bp;
    cfg_blueprint_defaults(&bp);
    snprintf(bp.name, sizeof bp.name, "web");
    snprintf(bp.prometheus.url, sizeof bp.prometheus.url, "%s", url);
    bp.prometheus.query_timeout_ms = timeout_ms;
    char err[256];
    struct promql_collector *c = NULL;
    assert_int_equal(promql_collector_open(&bp, 200, &c, err, sizeof err), 0);
    assert_non_null(c);
    for (int i = 0; i < 100; i++) {
        promql_collector_reason(c, reason, len);
        if (!strstr(reason, "no answer yet"))
            break;
        sleep_ms(50);
    }
    struct ae_snapshot snap;
    ae_snapshot_init(&snap, 0);
    promql_collector_fill(c, &snap);
    assert_int_equal(snap.missing, (1u << AE_FEATURE_COUNT) - 1); /* nothing filled */
    promql_collector_close(c);
}

static void failing_servers_leave_features_missing(void **state)
{
    (void)state;
    char url[128], reason[1024];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", free_port());
    reason_of(url, 500, reason, sizeof reason);
    /* features with one reason are listed together, in FeatureIndex order */
    char want[256];
    snprintf(want, sizeof want,
             "prometheus %s: cpu_usage, latency_ms, invocations, latency_p50, "
             "latency_p95, latency_p99, error_rate, event_count: cannot connect",
             url);
    if (strncmp(reason, want, strlen(want)) != 0)
        fail_msg("reason \"%s\", expected it to start with \"%s\"", reason, want);

    struct testsrv *srv = testsrv_start(NULL, 0);
    /* the test server answers 404 to the API paths: the status is the reason */
    snprintf(url, sizeof url, "http://127.0.0.1:%d", testsrv_port(srv));
    reason_of(url, 500, reason, sizeof reason);
    assert_non_null(strstr(reason, "latency_p99, error_rate, event_count: HTTP status 404"));
    testsrv_stop(srv);

    struct cfg_blueprint bp;
    cfg_blueprint_defaults(&bp);
    snprintf(bp.prometheus.url, sizeof bp.prometheus.url, "http://127.0.0.1:1");
    struct promql_collector *none = (struct promql_collector *)&bp;
    char err[256];
    bp.prometheus.url[0] = '\0';
    assert_int_equal(promql_collector_open(&bp, 1000, &none, err, sizeof err), 0);
    assert_null(none); /* no URL: no collector */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decode_instant_answers),
        cmocka_unit_test(decode_range_answers),
        cmocka_unit_test(default_queries_and_urls),
        cmocka_unit_test(failing_servers_leave_features_missing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
