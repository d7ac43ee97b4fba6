/* Client input parsing: push bodies, time bounds (Unix ms and ISO 8601), integers, names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "aether/error.h"
#include "reqparse.h"

#include <string.h>

static const char *const names[REQ_FEATURES] = {
    "cpu_usage",   "heap_usage",  "event_loop_lag_ms", "latency_ms", "invocations", "gc_pause_ms",
    "latency_p50", "latency_p95", "latency_p99",       "error_rate", "event_count"};

static void test_push_ok(void **state)
{
    (void)state;
    char err[256];
    struct req_push p;
    const char *body = "{\"timestamp\": 1700000000123, \"values\": {\"cpu_usage\": 0.5, "
                       "\"invocations\": 120, \"event_count\": 3}}";
    assert_int_equal(req_parse_push(body, strlen(body), names, &p, err, sizeof err), 0);
    assert_true(p.has_timestamp);
    assert_int_equal(p.timestamp_ms, 1700000000123LL);
    assert_int_equal(p.present, (1u << 0) | (1u << 4) | (1u << 10));
    assert_true(p.values[0] == 0.5 && p.values[4] == 120 && p.values[10] == 3);
    body = "{\"values\": {\"latency_p99\": 12}}";
    assert_int_equal(req_parse_push(body, strlen(body), names, &p, err, sizeof err), 0);
    assert_false(p.has_timestamp);
}

static void test_push_rejects(void **state)
{
    (void)state;
    struct {
        const char *body;
        const char *needle;
    } cases[] = {
        {"", "not valid JSON"},
        {"{\"values\": {\"cpu_usage\": 0.5}", "not valid JSON"},
        {"[1,2]", "JSON object"},
        {"{\"values\": {}}", "empty"},
        {"{\"values\": 3}", "\"values\" must be an object"},
        {"{\"values\": {\"cpu\": 1}}", "unknown feature \"cpu\""},
        {"{\"values\": {\"cpu_usage\": \"high\"}}", "values.cpu_usage must be a number"},
        {"{\"values\": {\"cpu_usage\": -1}}",
         "values.cpu_usage = -1 is outside its plausible range 0..100"},
        {"{\"values\": {\"invocations\": 1.7e308}}",
         "values.invocations = 1.7e+308 is outside its plausible range 0..1e+09"},
        {"{\"values\": {\"error_rate\": 1.5}}",
         "values.error_rate = 1.5 is outside its plausible range 0..1"},
        {"{\"values\": {\"latency_ms\": 1e300}}", "latency_ms"},
        {"{\"timestamp\": \"now\", \"values\": {\"cpu_usage\": 1}}", "Unix milliseconds"},
        {"{\"timestamp\": 1.5, \"values\": {\"cpu_usage\": 1}}", "Unix milliseconds"},
        {"{\"value\": {\"cpu_usage\": 1}}", "unknown field \"value\""},
        {"{\"values\": {\"cpu_usage\": 1, \"cpu_usage\": 2}}", "not valid JSON"},
        {"{\"values\": {\"cpu_usage\": 1}} trailing", "not valid JSON"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[256] = "";
        struct req_push p;
        int rc = req_parse_push(cases[i].body, strlen(cases[i].body), names, &p, err, sizeof err);
        assert_true(rc < 0);
        if (!strstr(err, cases[i].needle))
            fail_msg("case %zu (%s): message \"%s\" lacks \"%s\"", i, cases[i].body, err,
                     cases[i].needle);
    }
    /* Out-of-range values are AE_ERANGE (the API answers 422), the rest of the rejects not. */
    char err[256];
    struct req_push p;
    const char *huge = "{\"values\": {\"invocations\": 1.7e308}}";
    assert_int_equal(req_parse_push(huge, strlen(huge), names, &p, err, sizeof err), AE_ERANGE);
    const char *edge = "{\"values\": {\"invocations\": 1e9, \"error_rate\": 1}}";
    assert_int_equal(req_parse_push(edge, strlen(edge), names, &p, err, sizeof err), 0);
    /* Not NUL-terminated: only len bytes are read. */
    char raw[] = {'{', '}', 'x'};
    assert_true(req_parse_push(raw, 2, names, &p, err, sizeof err) < 0);
}

static void test_time(void **state)
{
    (void)state;
    char err[256];
    int64_t t;
    struct {
        const char *in;
        int64_t want;
    } ok[] = {
        {"0", 0},
        {"1700000000123", 1700000000123LL},
        {"-5", -5},
        {"1970-01-01", 0},
        {"2026-01-31T12:00:00Z", 1769860800000LL},
        {"2026-01-31T12:00:00.250Z", 1769860800250LL},
        {"2026-01-31T13:30:00+01:30", 1769860800000LL},
        {"2026-01-31T10:00:00-0200", 1769860800000LL},
        {"2026-01-31 12:00", 1769860800000LL},
        {"2026-01-31T12:00", 1769860800000LL},
        {"2024-02-29T00:00:00Z", 1709164800000LL},
        {"1969-12-31T23:59:59Z", -1000},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        assert_int_equal(req_parse_time(ok[i].in, "from", &t, err, sizeof err), 0);
        if (t != ok[i].want)
            fail_msg("%s -> %lld, want %lld", ok[i].in, (long long)t, (long long)ok[i].want);
    }
    const char *bad[] = {"",
                         "abc",
                         "2026-13-01",
                         "2026-01-32",
                         "2026-01-31T25:00",
                         "2026-1-1",
                         "12x",
                         "2026-01-31T12:00:00+5",
                         "2026-01-31T",
                         "2026-01-31T12:00:00.Z",
                         "99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (req_parse_time(bad[i], "to", &t, err, sizeof err) != AE_EINVAL)
            fail_msg("accepted bad time \"%s\"", bad[i]);
        assert_non_null(strstr(err, "to = \""));
    }
}

static void test_int_and_names(void **state)
{
    (void)state;
    char err[256];
    long v;
    assert_int_equal(req_parse_int("50", "limit", 1, 1000, &v, err, sizeof err), 0);
    assert_int_equal(v, 50);
    assert_int_equal(req_parse_int("0", "limit", 1, 1000, &v, err, sizeof err), AE_EINVAL);
    assert_non_null(strstr(err, "limit = \"0\" must be a whole number in 1..1000"));
    assert_int_equal(req_parse_int("5x", "limit", 1, 1000, &v, err, sizeof err), AE_EINVAL);
    assert_int_equal(req_parse_int("", "limit", 1, 1000, &v, err, sizeof err), AE_EINVAL);
    assert_true(req_valid_blueprint("web-1"));
    assert_false(req_valid_blueprint("Web"));
    assert_false(req_valid_blueprint(""));
    assert_false(req_valid_blueprint("a/b"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_push_ok),
        cmocka_unit_test(test_push_rejects),
        cmocka_unit_test(test_time),
        cmocka_unit_test(test_int_and_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
