/* The training-data CSV: what the writer writes the reader reads back (missing values as empty
 * cells), and a wrong header, column count, timestamp or value is an error naming its place. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "aether/error.h"
#include "aether/tdata.h"

static char err[512];
static const char *header = "timestamp,cpu_usage,heap_usage,event_loop_lag_ms,latency_ms,"
                            "invocations,gc_pause_ms,latency_p50,latency_p95,latency_p99,"
                            "error_rate,event_count\n";

static void header_is_the_schema(void **state)
{
    (void)state;
    char buf[512];
    assert_int_equal(tdata_format_header(buf, sizeof buf), strlen(header));
    assert_string_equal(buf, header);
    char small[10];
    assert_int_equal(tdata_format_header(small, sizeof small), strlen(header));
    assert_string_equal(small, "timestamp");
    assert_string_equal(tdata_feature_name(0), "cpu_usage");
    assert_string_equal(tdata_feature_name(10), "event_count");
    assert_null(tdata_feature_name(11));
}

static void row_format_marks_missing_as_empty(void **state)
{
    (void)state;
    double v[TDATA_FEATURES] = {0.5, NAN, 1, 2.25, 600, 0, 3, 4, 5, 0.01, INFINITY};
    char buf[512];
    tdata_format_row(buf, sizeof buf, 1700000000000LL, v);
    assert_string_equal(buf, "1700000000000,0.5,,1,2.25,600,0,3,4,5,0.01,\n");
}

static void write_then_read_back(void **state)
{
    (void)state;
    char path[] = "/tmp/aether-tdata-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    tdata_writer *w;
    assert_int_equal(tdata_writer_open(path, &w, err, sizeof err), 0);
    for (int r = 0; r < 3; r++) {
        double v[TDATA_FEATURES];
        for (int i = 0; i < TDATA_FEATURES; i++)
            v[i] = r * 100 + i + 0.125;
        if (r == 1)
            v[3] = NAN;
        assert_int_equal(tdata_writer_row(w, 60000LL * r, v), 0);
    }
    assert_int_equal(tdata_writer_close(w, err, sizeof err), 0);
    struct tdata *d;
    assert_int_equal(tdata_load(path, &d, err, sizeof err), 0);
    unlink(path);
    assert_int_equal(d->rows, 3);
    for (int r = 0; r < 3; r++) {
        assert_int_equal(d->row[r].timestamp_ms, 60000LL * r);
        for (int i = 0; i < TDATA_FEATURES; i++) {
            if (r == 1 && i == 3)
                assert_true(isnan(d->row[r].values[i]));
            else
                assert_float_equal(d->row[r].values[i], r * 100 + i + 0.125, 0);
        }
    }
    tdata_free(d);
}

static int parse_fail(const char *body, int with_header)
{
    char text[2048];
    snprintf(text, sizeof text, "%s%s", with_header ? header : "", body);
    struct tdata *d = (struct tdata *)1;
    int rc = tdata_parse("f.csv", text, strlen(text), &d, err, sizeof err);
    assert_true(rc < 0);
    assert_null(d);
    return rc;
}

static void bad_input_is_named(void **state)
{
    (void)state;
    parse_fail("timestamp,cpu_usage,heap_usage,latency_ms\n", 0);
    assert_string_equal(err, "f.csv:1: column 4 is 'latency_ms', expected 'event_loop_lag_ms'");
    parse_fail("timestamp,cpu_usage\n", 0);
    assert_string_equal(err, "f.csv:1: header has 2 columns, expected 12 (missing 'heap_usage')");
    parse_fail("0,1,2,3,4,5,6,7,8,9,10\n", 1);
    assert_string_equal(err, "f.csv:2: 11 columns, expected 12");
    parse_fail("60000,1,2,3,4,5,6,7,8,9,10,11\n0,1,2,3,4,5,6,7,8,9,10,11\n", 1);
    assert_string_equal(err, "f.csv:3: column 'timestamp': 0 does not increase");
    parse_fail("1.5,1,2,3,4,5,6,7,8,9,10,11\n", 1);
    assert_string_equal(err, "f.csv:2: column 'timestamp': '1.5' is not Unix milliseconds");
    parse_fail("0,1,2,3,4,x,6,7,8,9,10,11\n", 1);
    assert_string_equal(err, "f.csv:2: column 'invocations': 'x' is not a number");
    parse_fail("", 0);
    assert_string_equal(err, "f.csv: empty file (no header line)");
    struct tdata *d;
    assert_int_equal(tdata_load("no/such.csv", &d, err, sizeof err), AE_ENOENT);
    assert_non_null(strstr(err, "no/such.csv"));
    tdata_writer *w;
    assert_int_equal(tdata_writer_open("no/such/dir/x.csv", &w, err, sizeof err), AE_EIO);
    assert_non_null(strstr(err, "no/such/dir/x.csv"));
}

static void empty_cells_are_missing_not_errors(void **state)
{
    (void)state;
    char text[1024];
    snprintf(text, sizeof text, "%s0,,,,,,,,,,,\n60000,0.5,,,,10,,,,,,\n", header);
    struct tdata *d;
    assert_int_equal(tdata_parse("f.csv", text, strlen(text), &d, err, sizeof err), 0);
    assert_int_equal(d->rows, 2);
    assert_true(isnan(d->row[0].values[0]));
    assert_float_equal(d->row[1].values[4], 10, 0);
    tdata_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(header_is_the_schema),
        cmocka_unit_test(row_format_marks_missing_as_empty),
        cmocka_unit_test(write_then_read_back),
        cmocka_unit_test(bad_input_is_named),
        cmocka_unit_test(empty_cells_are_missing_not_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
