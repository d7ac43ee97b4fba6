/* Unit tests of the Prometheus text 0.0.4 / OpenMetrics parser: what the OpenMetrics
 * conformance cases do not cover (the 0.0.4 mode, the values read back, error messages, the
 * collector's queries). */
#include "aether/error.h"
#include "aether/prom.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

static struct prom_doc *parse_ok(const char *text, enum prom_format f)
{
    struct prom_doc *doc = NULL;
    char err[256];
    int rc = prom_parse(text, strlen(text), f, &doc, err, sizeof(err));
    if (rc != 0)
        print_error("unexpected parse error: %s\n", err);
    assert_int_equal(rc, 0);
    assert_non_null(doc);
    return doc;
}

static void expect_error(const char *text, enum prom_format f, const char *fragment)
{
    struct prom_doc *doc = NULL;
    char err[256];
    assert_int_equal(prom_parse(text, strlen(text), f, &doc, err, sizeof(err)), AE_EPARSE);
    assert_null(doc);
    if (!strstr(err, fragment))
        print_error("message '%s' lacks '%s'\n", err, fragment);
    assert_non_null(strstr(err, fragment));
}

static const char text_004[] = "# HELP http_requests_total Requests served.\n"
                               "# TYPE http_requests_total counter\n"
                               "http_requests_total{code=\"200\",path=\"/\"} 1027 1395066363000\n"
                               "http_requests_total{code=\"500\",path=\"/\",} 3\n"
                               "\n"
                               "# A plain comment\n"
                               "# TYPE http_request_duration_seconds histogram\n"
                               "http_request_duration_seconds_bucket{le=\"0.05\"} 24054\n"
                               "http_request_duration_seconds_bucket{le=\"0.1\"} 33444\n"
                               "http_request_duration_seconds_bucket{le=\"+Inf\"} 144320\n"
                               "http_request_duration_seconds_sum 53423\n"
                               "http_request_duration_seconds_count 144320\n"
                               "# TYPE rpc summary\n"
                               "rpc{quantile=\"0.5\"} 4773\n"
                               "rpc_sum 1.7560473e+07\n"
                               "rpc_count 2693\n"
                               "metric_without_timestamp_and_labels 12.47\n"
                               "  spaced\t{ a = \"x\\\"y\\\\z\\n\" }   -Inf\n"
                               "msdos_file_access_time_seconds{path=\"C:\\\\DIR\\\\FILE.TXT\","
                               "error=\"Cannot find file:\\n\\\"FILE.TXT\\\"\"} 1.458255915e9\n";

static void text_format_values(void **state)
{
    (void)state;
    struct prom_doc *doc = parse_ok(text_004, PROM_FORMAT_TEXT);
    assert_int_equal(doc->nsamples, 13);
    const struct prom_parsed_sample *s = &doc->samples[0];
    assert_string_equal(s->name, "http_requests_total");
    assert_string_equal(prom_label_value(s, "code"), "200");
    assert_int_equal(s->has_timestamp, 1);
    assert_true(fabs(s->timestamp_s - 1395066363.0) < 1e-6);
    assert_int_equal(doc->families[s->family].type, PROM_TYPE_COUNTER);
    double v;
    assert_int_equal(prom_sum(doc, "http_requests_total", &v), 0);
    assert_true(v == 1030);
    assert_int_equal(prom_sum(doc, "http_requests", &v), 0); /* + "_total" */
    assert_true(v == 1030);
    assert_int_equal(prom_sum(doc, "nope_total", &v), AE_ENOENT);
    const struct prom_parsed_sample *sp = &doc->samples[11];
    assert_string_equal(sp->name, "spaced");
    assert_string_equal(prom_label_value(sp, "a"), "x\"y\\z\n");
    assert_true(isinf(sp->value) && sp->value < 0);
    assert_string_equal(prom_label_value(&doc->samples[12], "path"), "C:\\DIR\\FILE.TXT");
    assert_string_equal(doc->families[doc->samples[7].family].name, "rpc");
    assert_int_equal(doc->families[doc->samples[7].family].type, PROM_TYPE_SUMMARY);
    prom_doc_free(doc);
}

static void histogram_merge(void **state)
{
    (void)state;
    static const char om[] = "# TYPE lat histogram\n"
                             "lat_bucket{path=\"/a\",le=\"0.1\"} 1\n"
                             "lat_bucket{path=\"/a\",le=\"1\"} 3\n"
                             "lat_bucket{path=\"/a\",le=\"+Inf\"} 4\n"
                             "lat_count{path=\"/a\"} 4\n"
                             "lat_sum{path=\"/a\"} 2.5\n"
                             "lat_bucket{path=\"/b\",le=\"0.1\"} 10\n"
                             "lat_bucket{path=\"/b\",le=\"0.5\"} 10\n"
                             "lat_bucket{path=\"/b\",le=\"1\"} 20\n"
                             "lat_bucket{path=\"/b\",le=\"+Inf\"} 20\n"
                             "lat_count{path=\"/b\"} 20\n"
                             "lat_sum{path=\"/b\"} 7.5\n"
                             "# EOF\n";
    struct prom_doc *doc = parse_ok(om, PROM_FORMAT_OPENMETRICS);
    struct prom_histogram h;
    assert_int_equal(prom_histogram_get(doc, "lat", &h), 0);
    assert_int_equal(h.nbuckets, 4);
    assert_true(h.le[0] == 0.1 && h.cumulative[0] == 11);
    assert_true(h.le[1] == 0.5 && h.cumulative[1] == 10);
    assert_true(h.le[2] == 1 && h.cumulative[2] == 23);
    assert_true(isinf(h.le[3]) && h.cumulative[3] == 24);
    assert_true(h.count == 24 && h.sum == 10);
    assert_int_equal(prom_histogram_get(doc, "other", &h), AE_ENOENT);
    double v;
    assert_int_equal(prom_sum(doc, "lat_count", &v), 0);
    assert_true(v == 24);
    prom_doc_free(doc);
}

static void openmetrics_counter_family(void **state)
{
    (void)state;
    static const char om[] = "# TYPE http_requests counter\n"
                             "# HELP http_requests Requests \\\"served\\\".\n"
                             "http_requests_total{code=\"200\"} 5 1.5 # {trace_id=\"x\"} 1 2\n"
                             "http_requests_created{code=\"200\"} 100 1.5\n"
                             "# EOF";
    struct prom_doc *doc = parse_ok(om, PROM_FORMAT_OPENMETRICS);
    assert_int_equal(doc->nfamilies, 1);
    assert_string_equal(doc->families[0].help, "Requests \"served\".");
    assert_int_equal(doc->samples[0].has_exemplar, 1);
    assert_true(doc->samples[0].exemplar_value == 1);
    assert_true(doc->samples[0].timestamp_s == 1.5);
    double v;
    assert_int_equal(prom_sum(doc, "http_requests_total", &v), 0);
    assert_true(v == 5);
    prom_doc_free(doc);
}

static void errors_name_the_line(void **state)
{
    (void)state;
    expect_error("a 1\nb 2\nc{x=\"1} 3\n", PROM_FORMAT_TEXT, "line 3: c: value of label x");
    expect_error("a 1\nb two\n", PROM_FORMAT_TEXT, "line 2: b: invalid value 'two'");
    expect_error("a 1 1.5\n", PROM_FORMAT_TEXT, "integer milliseconds");
    expect_error("# TYPE a gaugehistogram\n", PROM_FORMAT_TEXT, "unknown type");
    expect_error("# TYPE a counter\na_total -1\n# EOF\n", PROM_FORMAT_OPENMETRICS,
                 "line 2: counter a_total");
    expect_error("a 1\n", PROM_FORMAT_OPENMETRICS, "missing # EOF");
    expect_error("<html>oops</html>\n", PROM_FORMAT_TEXT, "line 1: expected a metric name");
}

static void text_mode_is_lenient(void **state)
{
    (void)state;
    /* No EOF needed, blank lines and comments fine, "untyped", CRLF, # EOF ignored. */
    struct prom_doc *doc = parse_ok("# TYPE u untyped\r\nu 1\r\n\r\n# EOF\n", PROM_FORMAT_TEXT);
    assert_int_equal(doc->nsamples, 1);
    assert_true(doc->samples[0].value == 1);
    prom_doc_free(doc);
    doc = parse_ok("", PROM_FORMAT_TEXT);
    assert_int_equal(doc->nsamples, 0);
    prom_doc_free(doc);
}

static void content_type_selects_format(void **state)
{
    (void)state;
    assert_int_equal(
        prom_format_for_content_type("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        PROM_FORMAT_OPENMETRICS);
    assert_int_equal(prom_format_for_content_type("text/plain; version=0.0.4"), PROM_FORMAT_TEXT);
    assert_int_equal(prom_format_for_content_type(NULL), PROM_FORMAT_TEXT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(text_format_values),         cmocka_unit_test(histogram_merge),
        cmocka_unit_test(openmetrics_counter_family), cmocka_unit_test(errors_name_the_line),
        cmocka_unit_test(text_mode_is_lenient),       cmocka_unit_test(content_type_selects_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
