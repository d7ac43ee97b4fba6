/* The trace reader: each kind of time column, steps, gaps, missing cells, masks, ranges, and bad
 * input whose messages name the file, the line and the column. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "aether/error.h"
#include "aether/trace.h"

static char err[512];

static struct trace *parse_ok(const char *text, const struct trace_options *opt)
{
    struct trace *t = NULL;
    err[0] = '\0';
    int rc = trace_parse("t.csv", text, strlen(text), opt, &t, err, sizeof err);
    if (rc != 0)
        fail_msg("unexpected error %d: %s", rc, err);
    assert_non_null(t);
    return t;
}

static int parse_fail(const char *text, const struct trace_options *opt)
{
    struct trace *t = (struct trace *)1;
    err[0] = '\0';
    int rc = trace_parse("t.csv", text, strlen(text), opt, &t, err, sizeof err);
    assert_true(rc < 0);
    assert_null(t);
    assert_true(strlen(err) > 0);
    return rc;
}

static void datetime_column_with_gap(void **state)
{
    (void)state;
    const char *csv = "timestamp_local,requests,outage\n"
                      "1995-07-01 00:00,42,0\n"
                      "1995-07-01 00:01,61,0\n"
                      "1995-07-01 00:04,57,0\n"
                      "1995-07-01 00:05,71,0\n";
    struct trace_options o = {
        .time_column = "timestamp_local", .value_column = "requests", .step_ms = 60000};
    struct trace *t = parse_ok(csv, &o);
    assert_int_equal(t->time_format, TRACE_TIME_DATETIME);
    assert_int_equal(t->start_ms, 804556800000LL); /* 1995-07-01T00:00Z */
    assert_int_equal(t->len, 6);
    assert_int_equal(t->rows, 4);
    assert_true(t->values[0] == 42 && t->values[1] == 61);
    assert_true(isnan(t->values[2]) && isnan(t->values[3]));
    assert_true(t->values[4] == 57 && t->values[5] == 71);
    assert_int_equal(t->gap_count, 1);
    assert_int_equal(t->gaps[0].start_ms, 804556800000LL + 2 * 60000);
    assert_int_equal(t->gaps[0].slots, 2);
    assert_int_equal(t->gap_slots, 2);
    char text[512];
    trace_describe(t, text, sizeof text);
    assert_non_null(strstr(text, "1 gaps, 2 slots"));
    assert_non_null(strstr(text, "1995-07-01 00:02 (2 min)"));
    trace_free(t);
}

static void unix_seconds_with_empty_cells(void **state)
{
    (void)state;
    const char *csv = "timestamp_utc,unix_s,vm61_cpu_pct,vm64_cpu_pct\n"
                      "2013-06-30 22:05:00,1372629900,0.47,0.47\n"
                      "2013-06-30 22:10:00,1372630200,,0.47\n"
                      "2013-06-30 22:15:00,1372630500,0.48,\n";
    struct trace_options o = {.time_column = "unix_s", .value_column = "vm61_cpu_pct"};
    struct trace *t = parse_ok(csv, &o);
    assert_int_equal(t->time_format, TRACE_TIME_UNIX_S);
    assert_int_equal(t->step_ms, 300000); /* inferred */
    assert_int_equal(t->start_ms, 1372629900000LL);
    assert_int_equal(t->len, 3);
    assert_int_equal(t->empty_cells, 1);
    assert_int_equal(t->gap_count, 0);
    assert_true(isnan(t->values[1]));
    assert_float_equal(t->values[2], 0.48, 1e-12);
    trace_free(t);
    /* The datetime column of the same file gives the same grid. */
    o.time_column = "timestamp_utc";
    t = parse_ok(csv, &o);
    assert_int_equal(t->time_format, TRACE_TIME_DATETIME);
    assert_int_equal(t->start_ms, 1372629900000LL);
    trace_free(t);
}

static void unix_ms_and_forced_formats(void **state)
{
    (void)state;
    const char *csv = "t,v\n1700000000000,1\n1700000060000,2\n1700000120000,3\n";
    struct trace_options o = {.time_column = "t", .value_column = "v"};
    struct trace *t = parse_ok(csv, &o);
    assert_int_equal(t->time_format, TRACE_TIME_UNIX_MS);
    assert_int_equal(t->step_ms, 60000);
    trace_free(t);
    /* Forced as minutes the same numbers span far too many slots of 1 min: a clear error. */
    o.time_format = TRACE_TIME_MINUTE;
    o.step_ms = 60000;
    parse_fail(csv, &o);
    /* Forced as seconds they are 60 s apart; the grid step follows the flag. */
    o.time_format = TRACE_TIME_UNIX_S;
    o.step_ms = 0;
    o.time_column = "t";
    const char *secs = "t,v\n1700000000,1\n1700000060,2\n";
    t = parse_ok(secs, &o);
    assert_int_equal(t->start_ms, 1700000000000LL);
    assert_int_equal(t->step_ms, 60000);
    trace_free(t);
    /* A datetime column forced to be numbers is reported with file, line and column. */
    o.time_format = TRACE_TIME_DATETIME;
    parse_fail(secs, &o);
    assert_string_equal(
        err, "t.csv:2: column 't': '1700000000' is not a datetime (YYYY-MM-DD HH:MM[:SS])");
}

static void minute_index_column(void **state)
{
    (void)state;
    const char *csv = "minute_of_day,total_invocations,inv_http\n"
                      "480,6351,143\n481,7138,119\n482,6483,96\n";
    struct trace_options o = {
        .time_column = "minute_of_day", .value_column = "inv_http", .step_ms = 60000};
    struct trace *t = parse_ok(csv, &o);
    assert_int_equal(t->time_format, TRACE_TIME_MINUTE);
    assert_int_equal(t->start_ms, 480 * 60000);
    assert_int_equal(t->len, 3);
    assert_float_equal(t->values[2], 96, 0);
    trace_free(t);
}

static void step_coarser_than_rows_and_off_grid(void **state)
{
    (void)state;
    /* 1-minute rows read on a 2-minute grid: every second row falls on a filled slot. A row at
     * 30 s is off the grid and rounded. */
    const char *csv = "m,v\n0,1\n1,2\n2,3\n3,4\n4.5,5\n";
    struct trace_options o = {.time_column = "m", .value_column = "v", .step_ms = 120000};
    struct trace *t = parse_ok(csv, &o);
    assert_int_equal(t->len, 3);
    assert_int_equal(t->duplicate_rows, 2);
    assert_int_equal(t->off_grid_rows, 3); /* minutes 1, 3 and 4.5 */
    assert_float_equal(t->values[0], 1, 0);
    assert_float_equal(t->values[1], 2, 0); /* minute 1 rounds to slot 1 (half away from 0) */
    assert_float_equal(t->values[2], 4, 0);
    trace_free(t);
}

static void mask_column_and_range(void **state)
{
    (void)state;
    const char *csv = "timestamp_local,requests,outage\n"
                      "1995-08-01 14:52,10,0\n"
                      "1995-08-01 14:53,0,1\n"
                      "1995-08-01 14:54,0,1\n"
                      "1995-08-01 14:55,12,0\n"
                      "1995-08-01 14:56,13,\n";
    struct trace_options o = {.time_column = "timestamp_local",
                              .value_column = "requests",
                              .mask_column = "outage",
                              .step_ms = 60000};
    struct trace *t = parse_ok(csv, &o);
    assert_int_equal(t->masked_rows, 2);
    assert_true(isnan(t->values[1]) && isnan(t->values[2]));
    assert_float_equal(t->values[3], 12, 0);
    assert_float_equal(t->values[4], 13, 0); /* empty mask cell = not masked */
    trace_free(t);
    assert_int_equal(trace_parse_time("1995-08-01 14:54", TRACE_TIME_AUTO, &o.from_ms), 0);
    assert_int_equal(trace_parse_time("1995-08-01 14:56", TRACE_TIME_AUTO, &o.to_ms), 0);
    o.has_from = o.has_to = 1;
    t = parse_ok(csv, &o);
    assert_int_equal(t->rows, 2);
    assert_int_equal(t->len, 2);
    assert_int_equal(t->masked_rows, 1);
    assert_float_equal(t->values[1], 12, 0);
    trace_free(t);
    o.from_ms = o.to_ms;
    parse_fail(csv, &o);
    assert_string_equal(err, "t.csv: no data rows inside the --from/--to range");
}

static void quoting_crlf_bom_and_blank_lines(void **state)
{
    (void)state;
    const char *csv = "\xEF\xBB\xBF\"time\", \"a,b\"\r\n"
                      "\r\n"
                      "0,\"1.5\"\r\n"
                      "1 , 2 \r\n";
    struct trace_options o = {.time_column = "time", .value_column = "a,b", .step_ms = 60000};
    struct trace *t = parse_ok(csv, &o);
    assert_int_equal(t->len, 2);
    assert_float_equal(t->values[0], 1.5, 0);
    assert_float_equal(t->values[1], 2, 0);
    trace_free(t);
}

static void errors_name_file_line_and_column(void **state)
{
    (void)state;
    struct trace_options o = {.time_column = "m", .value_column = "v", .step_ms = 60000};
    assert_int_equal(parse_fail("m,w\n0,1\n", &o), AE_ENOENT);
    assert_string_equal(err, "t.csv:1: no column named 'v' in the header");
    parse_fail("m,v\n0,1\n1,abc\n", &o);
    assert_string_equal(err, "t.csv:3: column 'v': 'abc' is not a number");
    parse_fail("m,v\n0,1\n\n5,2\n3,1\n", &o);
    assert_string_equal(err, "t.csv:5: column 'm': time '3' is earlier than the row before");
    parse_fail("m,v\n0,1\n1\n", &o);
    assert_string_equal(err, "t.csv:3: only 1 column(s): no cell for column 'v'");
    parse_fail("m,v\n0,\"1\n", &o);
    assert_string_equal(err, "t.csv:2: unterminated quoted field");
    parse_fail("", &o);
    assert_string_equal(err, "t.csv: empty file (no header line)");
    parse_fail("m,v\nyesterday,1\n", &o);
    assert_string_equal(err, "t.csv:2: column 'm': 'yesterday' is not a datetime or a number");
    parse_fail("m,v\n0,nan\n", &o);
    assert_string_equal(err, "t.csv:2: column 'v': 'nan' is not a number");
    o.step_ms = 0;
    parse_fail("m,v\n0,1\n", &o);
    assert_string_equal(err, "t.csv: cannot infer the step from 1 row(s); give it");
    o.mask_column = "outage";
    parse_fail("m,v,outage\n0,1,x\n", &o);
    assert_string_equal(err, "t.csv:2: column 'outage': 'x' is not a number");
    struct trace *t;
    assert_int_equal(trace_load("no/such/trace.csv", &o, &t, err, sizeof err), AE_ENOENT);
    assert_non_null(strstr(err, "no/such/trace.csv"));
}

static void datetime_forms(void **state)
{
    (void)state;
    int64_t ms;
    assert_int_equal(trace_parse_time("1970-01-01", TRACE_TIME_DATETIME, &ms), 0);
    assert_int_equal(ms, 0);
    assert_int_equal(trace_parse_time("2013-06-30T22:05:00Z", TRACE_TIME_AUTO, &ms), 0);
    assert_int_equal(ms, 1372629900000LL);
    assert_int_equal(trace_parse_time("2013-06-30T23:05:00+01:00", TRACE_TIME_AUTO, &ms), 0);
    assert_int_equal(ms, 1372629900000LL);
    assert_int_equal(trace_parse_time("2013-06-30 18:05:00.250-0400", TRACE_TIME_AUTO, &ms), 0);
    assert_int_equal(ms, 1372629900250LL);
    assert_int_equal(trace_parse_time("2012-02-29 00:00", TRACE_TIME_AUTO, &ms), 0);
    assert_int_not_equal(trace_parse_time("2013-02-29 00:00", TRACE_TIME_AUTO, &ms), 0);
    assert_int_not_equal(trace_parse_time("2013-06-30 24:00", TRACE_TIME_AUTO, &ms), 0);
    assert_int_not_equal(trace_parse_time("2013-06-30 22:05 junk", TRACE_TIME_AUTO, &ms), 0);
    assert_int_equal(trace_parse_time("1372629900", TRACE_TIME_AUTO, &ms), 0);
    assert_int_equal(ms, 1372629900000LL);
    assert_int_equal(trace_parse_time("90", TRACE_TIME_AUTO, &ms), 0);
    assert_int_equal(ms, 90 * 60000);
    char buf[32];
    assert_string_equal(trace_format_time(1372629900000LL, buf, sizeof buf), "2013-06-30 22:05");
    assert_string_equal(trace_format_time(-60000, buf, sizeof buf), "1969-12-31 23:59");
}

static void steps_and_format_names(void **state)
{
    (void)state;
    int64_t ms;
    const struct {
        const char *text;
        int64_t ms;
    } ok[] = {{"1m", 60000},   {"5m", 300000}, {"5", 300000},     {"30s", 30000},
              {"1h", 3600000}, {"500ms", 500}, {"2.5min", 150000}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        assert_int_equal(trace_parse_step(ok[i].text, &ms, err, sizeof err), 0);
        assert_int_equal(ms, ok[i].ms);
    }
    const char *bad[] = {"", "m", "0m", "-1m", "5x", "0.1ms"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(trace_parse_step(bad[i], &ms, err, sizeof err), AE_EPARSE);
    assert_string_equal(err, "step '0.1ms': expected a positive duration like 1m, 5m, 30s or 1h");
    enum trace_time_format f;
    for (int i = TRACE_TIME_AUTO; i <= TRACE_TIME_MINUTE; i++) {
        assert_int_equal(trace_parse_time_format(trace_time_format_name(i), &f), 0);
        assert_int_equal(f, i);
    }
    assert_int_equal(trace_parse_time_format("epoch", &f), AE_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(datetime_column_with_gap),
        cmocka_unit_test(unix_seconds_with_empty_cells),
        cmocka_unit_test(unix_ms_and_forced_formats),
        cmocka_unit_test(minute_index_column),
        cmocka_unit_test(step_coarser_than_rows_and_off_grid),
        cmocka_unit_test(mask_column_and_range),
        cmocka_unit_test(quoting_crlf_bom_and_blank_lines),
        cmocka_unit_test(errors_name_file_line_and_column),
        cmocka_unit_test(datetime_forms),
        cmocka_unit_test(steps_and_format_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
