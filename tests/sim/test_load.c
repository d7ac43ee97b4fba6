/* The load builder: levels interpolated on coarse steps, averaged on fine ones, short gaps
 * bridged, long ones skipped, slicing by time, and the sizing percentile. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "aether/trace.h"
#include "load.h"

static char err[256];

static struct trace *parse(const char *csv, int64_t step_ms)
{
    struct trace_options o = {.time_column = "t", .value_column = "v", .step_ms = step_ms};
    struct trace *t;
    assert_int_equal(trace_parse("t.csv", csv, strlen(csv), &o, &t, err, sizeof err), 0);
    return t;
}

static void coarse_step_is_interpolated(void **state)
{
    (void)state;
    /* Unix seconds, 5-minute points 10 and 20, then 30: minutes in between are interpolated. */
    struct trace *t = parse("t,v\n1372629900,10\n1372630200,20\n1372630500,30\n", 300000);
    struct sim_load l;
    assert_int_equal(sim_load_from_trace(t, 2.0, 15, &l, err, sizeof err), 0);
    assert_int_equal(l.start_ms, 1372629900000LL);
    assert_int_equal(l.minutes, 11);
    assert_float_equal(l.demand[0], 20, 1e-12);
    assert_float_equal(l.demand[1], 24, 1e-12);
    assert_float_equal(l.demand[5], 40, 1e-12);
    assert_float_equal(l.demand[10], 60, 1e-12);
    sim_load_free(&l);
    trace_free(t);
}

static void fine_step_is_averaged(void **state)
{
    (void)state;
    /* Unix ms below 1e11 would read as minutes: the format is forced. */
    struct trace *t;
    struct trace_options o = {.time_column = "t",
                              .value_column = "v",
                              .time_format = TRACE_TIME_UNIX_MS,
                              .step_ms = 30000};
    const char *csv = "t,v\n0,1\n30000,3\n60000,5\n90000,\n";
    assert_int_equal(trace_parse("t.csv", csv, strlen(csv), &o, &t, err, sizeof err), 0);
    struct sim_load l;
    assert_int_equal(sim_load_from_trace(t, 1.0, 15, &l, err, sizeof err), 0);
    assert_int_equal(l.minutes, 2);
    assert_float_equal(l.demand[0], 2, 1e-12);
    assert_float_equal(l.demand[1], 5, 1e-12);
    sim_load_free(&l);
    trace_free(t);
}

static void gaps_bridged_or_skipped(void **state)
{
    (void)state;
    /* A 2-minute hole (bridged at max_fill 2) and a 3-minute one (skipped). */
    struct trace *t = parse("t,v\n0,10\n1,20\n4,50\n5,60\n9,100\n", 60000);
    struct sim_load l;
    assert_int_equal(sim_load_from_trace(t, 1.0, 2, &l, err, sizeof err), 0);
    assert_int_equal(l.minutes, 10);
    assert_float_equal(l.demand[2], 30, 1e-12);
    assert_float_equal(l.demand[3], 40, 1e-12);
    assert_true(isnan(l.demand[6]) && isnan(l.demand[7]) && isnan(l.demand[8]));
    assert_int_equal(l.filled_runs, 1);
    assert_int_equal(l.filled_minutes, 2);
    assert_int_equal(l.skipped_runs, 1);
    assert_int_equal(l.skipped_minutes, 3);
    /* The percentile leaves skipped minutes out: 10,20,30,40,50,60,100 -> median 40. */
    assert_float_equal(sim_load_percentile(&l, 50), 40, 1e-12);
    assert_float_equal(sim_load_percentile(&l, 100), 100, 1e-12);
    assert_float_equal(sim_load_percentile(&l, 0), 10, 1e-12);
    /* Slicing [minute 3, minute 8): the skipped tail is trimmed too. */
    assert_int_equal(sim_load_slice(&l, 1, 3 * 60000, 1, 8 * 60000, err, sizeof err), 0);
    assert_int_equal(l.start_ms, 3 * 60000);
    assert_int_equal(l.minutes, 3);
    assert_float_equal(l.demand[0], 40, 1e-12);
    assert_int_not_equal(sim_load_slice(&l, 1, 100 * 60000, 0, 0, err, sizeof err), 0);
    assert_string_equal(err, "no load left inside the --from/--to range");
    sim_load_free(&l);
    trace_free(t);
}

static void bad_loads_are_refused(void **state)
{
    (void)state;
    struct trace *t = parse("t,v\n0,10\n1,-5\n", 60000);
    struct sim_load l;
    assert_int_not_equal(sim_load_from_trace(t, 1.0, 2, &l, err, sizeof err), 0);
    assert_string_equal(err, "load value -5 at minute 1 is negative");
    trace_free(t);
    t = parse("t,v\n0,\n1,\n", 60000);
    assert_int_not_equal(sim_load_from_trace(t, 1.0, 2, &l, err, sizeof err), 0);
    assert_string_equal(err, "the trace has no usable load values");
    trace_free(t);
    t = parse("t,v\n0,1\n1,2\n", 45000);
    assert_int_not_equal(sim_load_from_trace(t, 1.0, 2, &l, err, sizeof err), 0);
    assert_string_equal(err, "step of 45000 ms is neither a multiple nor a divisor of a minute");
    trace_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(coarse_step_is_interpolated),
        cmocka_unit_test(fine_step_is_averaged),
        cmocka_unit_test(gaps_bridged_or_skipped),
        cmocka_unit_test(bad_loads_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
