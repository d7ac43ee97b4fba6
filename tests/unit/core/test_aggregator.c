/* Minute aggregator: folding, partial and missed minutes, roll-over, preload, and the model-input
 * rule (carry-forward, never-seen = 0, left padding, gaps). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>
#include <cmocka.h>

#include "aether/aggregator.h"
#include "aether/error.h"

#define T0 1700000040000LL /* a minute boundary (divisible by 60000) */
#define MIN 60000LL

static agg *a;

static int setup(void **state)
{
    (void)state;
    return agg_open(&a, NULL, 0) ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    agg_free(a);
    return 0;
}

/* Second `sec` of minute `minute`: cpu, invocations and latency set, ready 2, requested 3. */
static struct ae_snapshot snap(int minute, int sec, double cpu, double inv, double lat)
{
    struct ae_snapshot s;
    ae_snapshot_init(&s, T0 + minute * MIN + sec * 1000LL);
    ae_snapshot_set(&s, AE_F_CPU_USAGE, cpu);
    ae_snapshot_set(&s, AE_F_INVOCATIONS, inv);
    ae_snapshot_set(&s, AE_F_LATENCY_MS, lat);
    s.ready = 2;
    s.requested = 3;
    return s;
}

/* Feeds seconds [from, to) of a minute with constant values (the first may close the previous
 * minute; only the first may). */
static void feed(int minute, int from, int to, double cpu, double inv)
{
    for (int sec = from; sec < to; sec++) {
        struct ae_snapshot s = snap(minute, sec, cpu, inv, 10);
        int rc = agg_add(a, &s, NULL);
        assert_true(rc == 0 || (rc == 1 && sec == from));
    }
}

static void full_minute_folds(void **state)
{
    (void)state;
    assert_true(T0 % MIN == 0);
    struct ae_minute m;
    for (int sec = 0; sec < 60; sec++) {
        /* cpu alternates 0.2/0.4; first half 10 req/s at 100 ms, second half 30 req/s at 20 ms */
        struct ae_snapshot s =
            snap(0, sec, sec % 2 ? 0.4 : 0.2, sec < 30 ? 10 : 30, sec < 30 ? 100 : 20);
        ae_snapshot_set(&s, AE_F_ERROR_RATE, sec < 30 ? 0.1 : 0.0);
        ae_snapshot_set(&s, AE_F_GC_PAUSE_MS, 1.5);
        assert_int_equal(agg_add(a, &s, &m), 0);
    }
    assert_int_equal(agg_count(a), 0); /* still open */
    struct ae_snapshot next = snap(1, 0, 0.5, 1, 1);
    assert_int_equal(agg_add(a, &next, &m), 1);
    assert_int_equal(agg_count(a), 1);
    assert_int_equal(m.start_ms, T0);
    assert_int_equal(m.snapshots, 60);
    assert_float_equal(m.values[AE_F_CPU_USAGE], 0.3, 1e-12);
    assert_float_equal(m.values[AE_F_INVOCATIONS], 30 * 10 + 30 * 30, 1e-9); /* per minute */
    /* request-weighted: (300 x 100 + 900 x 20) / 1200 = 40, not the plain mean 60 */
    assert_float_equal(m.values[AE_F_LATENCY_MS], 40, 1e-9);
    /* errors / requests: 30 errors / 1200 requests */
    assert_float_equal(m.values[AE_F_ERROR_RATE], 30.0 / 1200, 1e-12);
    assert_float_equal(m.values[AE_F_GC_PAUSE_MS], 90, 1e-9);
    assert_float_equal(m.ready_mean, 2, 0);
    assert_float_equal(m.requested_mean, 3, 0);
    assert_int_equal(m.estimated, 0);
    assert_int_equal(m.samples[AE_F_CPU_USAGE], 60);
    assert_false(ae_minute_has(&m, AE_F_HEAP_USAGE)); /* never reported: missing, not 0 */
    assert_false(ae_minute_has(&m, AE_F_LATENCY_P95));
    assert_int_equal(agg_last(a)->start_ms, T0);
    assert_non_null(agg_find(a, T0));
    assert_null(agg_find(a, T0 + MIN));
}

static void percentiles_from_histograms(void **state)
{
    (void)state;
    struct ae_minute m;
    for (int sec = 0; sec < 60; sec++) {
        struct ae_snapshot s = snap(0, sec, 0.5, 10, 5);
        s.has_histogram = 1;
        s.hist.buckets = 3;
        s.hist.upper_ms[0] = 10;
        s.hist.upper_ms[1] = 100;
        s.hist.upper_ms[2] = INFINITY;
        /* the first 50 seconds are fast, the last 10 all in (10, 100] */
        s.hist.count[0] = sec < 50 ? 10 : 0;
        s.hist.count[1] = sec < 50 ? 0 : 10;
        ae_snapshot_set(&s, AE_F_LATENCY_P50, 99); /* per-second values, must not be used */
        ae_snapshot_set(&s, AE_F_LATENCY_P95, 99);
        ae_snapshot_set(&s, AE_F_LATENCY_P99, 99);
        agg_add(a, &s, NULL);
    }
    assert_int_equal(agg_tick(a, T0 + MIN, &m), 1);
    /* 600 requests: 500 <= 10 ms, 100 in (10, 100]. p50 rank 300 -> 6 ms; p95 rank 570 ->
     * 10 + 90 x 70/100 = 73; p99 rank 594 -> 10 + 90 x 94/100 = 94.6 */
    assert_float_equal(m.values[AE_F_LATENCY_P50], 6, 1e-9);
    assert_float_equal(m.values[AE_F_LATENCY_P95], 73, 1e-9);
    assert_float_equal(m.values[AE_F_LATENCY_P99], 94.6, 1e-9);
}

static void percentiles_fall_back_to_means(void **state)
{
    (void)state;
    struct ae_minute m;
    for (int sec = 0; sec < 60; sec++) {
        struct ae_snapshot s = snap(0, sec, 0.5, 10, 5);
        s.has_histogram = 1;
        s.hist.buckets = 2;
        s.hist.upper_ms[0] = sec < 30 ? 10 : 20; /* bounds change mid-minute */
        s.hist.upper_ms[1] = INFINITY;
        s.hist.count[0] = 10;
        ae_snapshot_set(&s, AE_F_LATENCY_P50, sec < 30 ? 4 : 8);
        agg_add(a, &s, NULL);
    }
    assert_int_equal(agg_close(a, &m), 1);
    assert_float_equal(m.values[AE_F_LATENCY_P50], 6, 1e-9);
    assert_false(ae_minute_has(&m, AE_F_LATENCY_P95));
}

static void partial_minutes(void **state)
{
    (void)state;
    struct ae_minute m;
    /* node started at second 15: 45 samples, sums scaled to the full minute and flagged */
    feed(0, 15, 60, 0.5, 10);
    assert_int_equal(agg_tick(a, T0 + MIN - 1, &m), 0); /* not over yet */
    assert_int_equal(agg_tick(a, T0 + MIN, &m), 1);
    assert_int_equal(m.snapshots, 45);
    assert_float_equal(m.values[AE_F_INVOCATIONS], 600, 1e-9); /* 450 x 60 / 45 */
    assert_true(m.estimated & AE_FEATURE_BIT(AE_F_INVOCATIONS));
    assert_false(m.estimated & AE_FEATURE_BIT(AE_F_CPU_USAGE)); /* means are not scaled */
    assert_float_equal(m.values[AE_F_CPU_USAGE], 0.5, 0);
    /* exactly 30 samples: still kept */
    feed(1, 0, 30, 0.5, 10);
    assert_int_equal(agg_tick(a, T0 + 2 * MIN, &m), 1);
    assert_float_equal(m.values[AE_F_INVOCATIONS], 600, 1e-9);
    /* 29 samples (node stopped): the minute is missing, not zero */
    feed(2, 0, 29, 0.5, 10);
    assert_int_equal(agg_close(a, &m), 0);
    assert_int_equal(agg_count(a), 2);
    assert_null(agg_find(a, T0 + 2 * MIN));
}

static void sparse_feature_in_full_minute(void **state)
{
    (void)state;
    struct ae_minute m;
    for (int sec = 0; sec < 60; sec++) {
        struct ae_snapshot s;
        ae_snapshot_init(&s, T0 + sec * 1000LL);
        if (sec % 3 == 0) { /* 20 of 60 seconds */
            ae_snapshot_set(&s, AE_F_CPU_USAGE, 0.6);
            ae_snapshot_set(&s, AE_F_EVENT_COUNT, 5);
        }
        agg_add(a, &s, NULL);
    }
    assert_int_equal(agg_close(a, &m), 1);
    assert_int_equal(m.samples[AE_F_CPU_USAGE], 20);
    assert_float_equal(m.values[AE_F_CPU_USAGE], 0.6, 0);
    /* a count seen in only 20 seconds cannot be estimated for the minute */
    assert_false(ae_minute_has(&m, AE_F_EVENT_COUNT));
}

static void missed_minutes_and_old_snapshots(void **state)
{
    (void)state;
    struct ae_minute m;
    feed(0, 0, 60, 0.1, 1);
    /* minutes 1 and 2 never seen (node down); the next snapshot closes minute 0 */
    struct ae_snapshot s = snap(3, 0, 0.2, 1, 1);
    assert_int_equal(agg_add(a, &s, &m), 1);
    assert_int_equal(m.start_ms, T0);
    assert_int_equal(agg_count(a), 1);
    /* history is never rewritten */
    struct ae_snapshot old = snap(2, 59, 0.2, 1, 1);
    assert_int_equal(agg_add(a, &old, NULL), AE_ERANGE);
    old = snap(0, 10, 0.2, 1, 1);
    assert_int_equal(agg_add(a, &old, NULL), AE_ERANGE);
    assert_int_equal(agg_add(a, NULL, NULL), AE_EINVAL);
    feed(3, 1, 60, 0.2, 1);
    assert_int_equal(agg_tick(a, T0 + 4 * MIN, &m), 1);
    assert_int_equal(m.start_ms, T0 + 3 * MIN);
    assert_int_equal(agg_count(a), 2);
    assert_null(agg_find(a, T0 + MIN));
    assert_int_equal(agg_tick(a, T0 + 9 * MIN, &m), 0); /* nothing open: nothing invented */
    assert_int_equal(agg_count(a), 2);
}

static void rolls_over_at_120(void **state)
{
    (void)state;
    for (int minute = 0; minute < 125; minute++)
        feed(minute, 0, 60, minute / 1000.0, minute);
    assert_int_equal(agg_tick(a, T0 + 125 * MIN, NULL), 1);
    assert_int_equal(agg_count(a), AGG_HISTORY_MINUTES);
    struct ae_minute out[AGG_HISTORY_MINUTES + 5];
    assert_int_equal(agg_recent(a, 200, out), 120);
    assert_int_equal(out[0].start_ms, T0 + 5 * MIN);
    assert_int_equal(out[119].start_ms, T0 + 124 * MIN);
    assert_int_equal(agg_recent(a, 3, out), 3);
    assert_int_equal(out[0].start_ms, T0 + 122 * MIN);
    assert_float_equal(out[2].values[AE_F_INVOCATIONS], 124 * 60, 1e-9);
    assert_int_equal(agg_recent(a, 0, out), 0);
}

static struct ae_minute minute_at(int i, double cpu, double inv)
{
    struct ae_minute m;
    ae_minute_init(&m, T0 + i * MIN);
    m.values[AE_F_CPU_USAGE] = cpu;
    m.values[AE_F_INVOCATIONS] = inv;
    m.missing &= ~(AE_FEATURE_BIT(AE_F_CPU_USAGE) | AE_FEATURE_BIT(AE_F_INVOCATIONS));
    m.snapshots = 60;
    return m;
}

static void preload_orders(void **state)
{
    (void)state;
    struct ae_minute m = minute_at(0, 0.1, 1);
    assert_int_equal(agg_preload(a, &m), 0);
    assert_int_equal(agg_preload(a, &m), AE_ERANGE);
    m = minute_at(5, 0.2, 2);
    assert_int_equal(agg_preload(a, &m), 0);
    feed(7, 0, 10, 0.3, 3); /* opens minute 7 */
    m = minute_at(7, 0.2, 2);
    assert_int_equal(agg_preload(a, &m), AE_ERANGE);
    m = minute_at(6, 0.2, 2);
    m.start_ms += 1; /* not a minute boundary */
    assert_int_equal(agg_preload(a, &m), AE_EINVAL);
    m.start_ms -= 1;
    assert_int_equal(agg_preload(a, &m), 0);
    assert_int_equal(agg_count(a), 3);
}

#define W 8 /* gaps up to 2 carried, W/2 = 4 */
static float in[W * AE_FEATURE_COUNT];

static float cell(int row, int f)
{
    return in[row * AE_FEATURE_COUNT + f];
}

static void window_full_and_carry_forward(void **state)
{
    (void)state;
    struct ae_minute h[10];
    for (int i = 0; i < 10; i++)
        h[i] = minute_at(i, i / 10.0, 100 * i);
    h[8].missing |= AE_FEATURE_BIT(AE_F_CPU_USAGE); /* missing: carried from minute 7 */
    h[3].values[AE_F_HEAP_USAGE] = 0.25;            /* heap only ever seen in minute 3 */
    h[3].missing &= ~AE_FEATURE_BIT(AE_F_HEAP_USAGE);
    memset(in, 0xff, sizeof in);
    assert_int_equal(ae_model_input(h, 10, W, T0 + 9 * MIN, in), W);
    /* rows are minutes 2..9 */
    assert_float_equal(cell(0, AE_F_CPU_USAGE), 0.2f, 0);
    assert_float_equal(cell(7, AE_F_INVOCATIONS), 900, 0);
    assert_float_equal(cell(6, AE_F_CPU_USAGE), 0.7f, 0);
    assert_float_equal(cell(7, AE_F_CPU_USAGE), 0.9f, 0);
    assert_float_equal(cell(0, AE_F_HEAP_USAGE), 0, 0); /* minute 2: heap not seen yet */
    assert_float_equal(cell(1, AE_F_HEAP_USAGE), 0.25f, 0);
    assert_float_equal(cell(7, AE_F_HEAP_USAGE), 0.25f, 0); /* carried to the end */
    assert_float_equal(cell(7, AE_F_LATENCY_P99), 0, 0);    /* never seen: 0 */
    /* a value seen before the window is carried into it */
    h[2].values[AE_F_EVENT_COUNT] = 7;
    h[2].missing &= ~AE_FEATURE_BIT(AE_F_EVENT_COUNT);
    assert_int_equal(ae_model_input(h, 10, W, T0 + 9 * MIN, in), W);
    assert_float_equal(cell(0, AE_F_EVENT_COUNT), 7, 0);
    h[1].values[AE_F_EVENT_COUNT] = 6;
    h[1].missing &= ~AE_FEATURE_BIT(AE_F_EVENT_COUNT);
    h[2].missing |= AE_FEATURE_BIT(AE_F_EVENT_COUNT);
    assert_int_equal(ae_model_input(h, 10, W, T0 + 9 * MIN, in), W);
    assert_float_equal(cell(0, AE_F_EVENT_COUNT), 6, 0);
    /* minutes after the end are ignored */
    assert_int_equal(ae_model_input(h, 10, W, T0 + 7 * MIN, in), W);
    assert_float_equal(cell(7, AE_F_INVOCATIONS), 700, 0);
}

static void window_left_padding(void **state)
{
    (void)state;
    struct ae_minute h[5];
    for (int i = 0; i < 5; i++)
        h[i] = minute_at(i, 0.1 * (i + 1), i);
    /* 3 minutes < W/2 = 4: not enough */
    memset(in, 0, sizeof in);
    assert_int_equal(ae_model_input(h, 3, W, T0 + 2 * MIN, in), AE_EAGAIN);
    assert_float_equal(cell(0, AE_F_CPU_USAGE), 0, 0); /* untouched */
    /* exactly W/2 = 4: padded with the oldest minute */
    assert_int_equal(ae_model_input(h, 4, W, T0 + 3 * MIN, in), 4);
    for (int r = 0; r < 4; r++)
        assert_float_equal(cell(r, AE_F_CPU_USAGE), 0.1f, 0);
    assert_float_equal(cell(4, AE_F_CPU_USAGE), 0.1f, 0);
    assert_float_equal(cell(5, AE_F_CPU_USAGE), 0.2f, 0);
    assert_float_equal(cell(7, AE_F_CPU_USAGE), 0.4f, 0);
    assert_int_equal(ae_model_input(h, 5, W, T0 + 4 * MIN, in), 5);
    assert_float_equal(cell(2, AE_F_CPU_USAGE), 0.1f, 0); /* padding */
    assert_float_equal(cell(3, AE_F_CPU_USAGE), 0.1f, 0); /* minute 0 itself */
    assert_float_equal(cell(4, AE_F_CPU_USAGE), 0.2f, 0);
    /* W = 1: half is 1, one minute is a full window */
    float one[AE_FEATURE_COUNT];
    assert_int_equal(ae_model_input(h, 5, 1, T0 + 4 * MIN, one), 1);
    assert_float_equal(one[AE_F_CPU_USAGE], 0.5f, 0);
    assert_int_equal(ae_model_input(h, 0, W, T0, in), AE_EAGAIN);
    assert_int_equal(ae_model_input(h, 5, 0, T0, in), AE_EINVAL);
    assert_int_equal(ae_model_input(h, 5, 121, T0, in), AE_EINVAL);
}

static void window_gaps(void **state)
{
    (void)state;
    /* minutes 0..3, a gap of 2 (4, 5), then 6..7: W/4 = 2, so carried forward */
    struct ae_minute h[8];
    int n = 0;
    for (int i = 0; i < 8; i++)
        if (i != 4 && i != 5)
            h[n++] = minute_at(i, 0.1 * (i + 1), i);
    assert_int_equal(ae_model_input(h, n, W, T0 + 7 * MIN, in), W);
    assert_float_equal(cell(4, AE_F_CPU_USAGE), 0.4f, 0); /* minute 4 = minute 3 carried */
    assert_float_equal(cell(5, AE_F_CPU_USAGE), 0.4f, 0);
    assert_float_equal(cell(6, AE_F_CPU_USAGE), 0.7f, 0);
    /* a gap of 3 > 2 restarts after it: only minutes 7..10 remain (4 = W/2, padded) */
    n = 0;
    for (int i = 0; i < 11; i++)
        if (i < 4 || i > 6)
            h[n++] = minute_at(i, 0.1 * (i + 1), i);
    assert_int_equal(ae_model_input(h, n, W, T0 + 10 * MIN, in), 4);
    assert_float_equal(cell(0, AE_F_CPU_USAGE), 0.8f, 0);
    assert_float_equal(cell(3, AE_F_CPU_USAGE), 0.8f, 0);
    assert_float_equal(cell(7, AE_F_CPU_USAGE), 1.1f, 0);
    /* restarted with only 3 minutes after the gap: not enough */
    assert_int_equal(ae_model_input(h, n - 1, W, T0 + 9 * MIN, in), AE_EAGAIN);
    /* a trailing gap: the node was down for the last minutes */
    for (int i = 0; i < 8; i++)
        h[i] = minute_at(i, 0.1 * (i + 1), i);
    assert_int_equal(ae_model_input(h, 8, W, T0 + 9 * MIN, in), W); /* 2 missing: carried */
    assert_float_equal(cell(7, AE_F_CPU_USAGE), 0.8f, 0);
    assert_int_equal(ae_model_input(h, 8, W, T0 + 10 * MIN, in), AE_EAGAIN); /* 3: too old */
    /* unordered input is refused */
    struct ae_minute bad[2] = {minute_at(1, 0, 0), minute_at(0, 0, 0)};
    assert_int_equal(ae_model_input(bad, 2, 1, T0 + MIN, in), AE_EINVAL);
    /* so are minutes or an end off the minute boundaries */
    bad[0] = minute_at(0, 0, 0);
    bad[1] = minute_at(1, 0, 0);
    bad[0].start_ms += 500;
    assert_int_equal(ae_model_input(bad, 2, 2, T0 + MIN, in), AE_EINVAL);
    bad[0].start_ms -= 500;
    assert_int_equal(ae_model_input(bad, 2, 2, T0 + MIN, in), 2);
    assert_int_equal(ae_model_input(bad, 2, 2, T0 + MIN + 1, in), AE_EINVAL);
}

static void aggregator_window_uses_now(void **state)
{
    (void)state;
    for (int minute = 0; minute < 6; minute++)
        feed(minute, 0, 60, 0.1 * (minute + 1), minute);
    agg_tick(a, T0 + 6 * MIN, NULL);
    assert_int_equal(agg_count(a), 6);
    assert_int_equal(agg_history_minutes(a, W, T0 + 6 * MIN + 500), 6);
    assert_int_equal(agg_model_input(a, W, T0 + 6 * MIN + 500, in), 6);
    assert_float_equal(cell(7, AE_F_CPU_USAGE), 0.6f, 1e-7);
    assert_float_equal(cell(0, AE_F_CPU_USAGE), 0.1f, 1e-7);
    /* three minutes later with no data: the history is too old */
    assert_int_equal(agg_history_minutes(a, W, T0 + 9 * MIN), 0);
    assert_int_equal(agg_model_input(a, W, T0 + 9 * MIN, in), AE_EAGAIN);
    assert_int_equal(agg_history_minutes(a, W, T0 + 8 * MIN), 8);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
int main(void)
{
    const struct CMUnitTest tests[] = {
        T(full_minute_folds),
        T(percentiles_from_histograms),
        T(percentiles_fall_back_to_means),
        T(partial_minutes),
        T(sparse_feature_in_full_minute),
        T(missed_minutes_and_old_snapshots),
        T(rolls_over_at_120),
        T(preload_orders),
        T(window_full_and_carry_forward),
        T(window_left_padding),
        T(window_gaps),
        T(aggregator_window_uses_now),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
