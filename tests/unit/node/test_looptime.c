/* The control loop's time keeping, pure parts: node time against wall-clock steps (nclock.h),
 * missed ticks and the tick-duration histogram (lagstat.h), and the watchdog's stall rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "aether/lagstat.h"
#include "nclock.h"
#include "watchdog.h"

#define T0 1767225600000LL /* 2026-01-01T00:00:00Z */

/* Reads the clocks every second of [from_s, to_s) with the wall clock offset by step_ms; returns
 * how often `want` came back, and the last node time in *now. */
static int run(struct nclock *c, int from_s, int to_s, int64_t step_ms, enum nclock_event want,
               int64_t *now)
{
    int seen = 0;
    for (int s = from_s; s < to_s; s++)
        seen += nclock_read(c, T0 + s * 1000LL + step_ms, 100.0 + s, now) == want;
    return seen;
}

/* Without steps node time is the wall clock, and a jitter inside the tolerance is no step. */
static void test_no_step(void **state)
{
    (void)state;
    struct nclock c;
    nclock_init(&c, T0, 100.0);
    int64_t now;
    assert_int_equal(run(&c, 0, 60, 0, NCLOCK_NONE, &now), 60);
    assert_true(now == T0 + 59000);
    assert_int_equal(nclock_read(&c, T0 + 60000 + NCLOCK_TOLERANCE_MS, 160.0, &now), NCLOCK_NONE);
    assert_true(now == T0 + 60000);
    assert_true(c.forward == 0 && c.backward == 0 && c.ignored == 0);
}

/* A 3-s excursion to +15 days (a bad RTC read) is watched, then ignored: node time never left
 * the monotonic clock. */
static void test_short_forward_excursion_ignored(void **state)
{
    (void)state;
    struct nclock c;
    nclock_init(&c, T0, 100.0);
    int64_t now, days15 = 15 * 86400000LL;
    run(&c, 0, 10, 0, NCLOCK_NONE, &now);
    assert_int_equal(nclock_read(&c, T0 + 10000 + days15, 110.0, &now), NCLOCK_SUSPECT);
    assert_true(now == T0 + 10000);
    assert_true(nclock_offset_ms(&c) == days15);
    assert_int_equal(run(&c, 11, 13, days15, NCLOCK_NONE, &now), 2);
    assert_true(now == T0 + 12000);
    assert_int_equal(nclock_read(&c, T0 + 13000, 113.0, &now), NCLOCK_IGNORED);
    assert_true(now == T0 + 13000 && nclock_offset_ms(&c) == 0);
    assert_true(c.ignored == 1 && c.forward == 0);
}

/* A forward step that lasts is adopted after NCLOCK_CONFIRM_MS: node time jumps once. */
static void test_lasting_forward_step_adopted(void **state)
{
    (void)state;
    struct nclock c;
    nclock_init(&c, T0, 100.0);
    int64_t now, h2 = 2 * 3600000LL;
    run(&c, 0, 10, 0, NCLOCK_NONE, &now);
    int confirm_s = NCLOCK_CONFIRM_MS / 1000;
    assert_int_equal(run(&c, 10, 10 + confirm_s, h2, NCLOCK_SUSPECT, &now), 1);
    assert_true(now == T0 + (9 + confirm_s) * 1000LL); /* not yet adopted */
    assert_int_equal(
        nclock_read(&c, T0 + (10 + confirm_s) * 1000LL + h2, 100.0 + 10 + confirm_s, &now),
        NCLOCK_FORWARD);
    assert_true(now == T0 + (10 + confirm_s) * 1000LL + h2);
    assert_true(c.forward == 1 && nclock_offset_ms(&c) == 0);
    assert_int_equal(run(&c, 11 + confirm_s, 20 + confirm_s, h2, NCLOCK_NONE, &now), 9);
}

/* A backward step is never adopted: node time goes on, the offset shows the step; when the wall
 * clock comes back in line that is reported once. */
static void test_backward_step_kept_ahead(void **state)
{
    (void)state;
    struct nclock c;
    nclock_init(&c, T0, 100.0);
    int64_t now, back = -600000; /* -10 min */
    run(&c, 0, 10, 0, NCLOCK_NONE, &now);
    assert_int_equal(nclock_read(&c, T0 + 10000 + back, 110.0, &now), NCLOCK_BACKWARD);
    assert_true(now == T0 + 10000);
    assert_int_equal(run(&c, 11, 100, back, NCLOCK_NONE, &now), 89);
    assert_true(now == T0 + 99000); /* minutes keep their order */
    assert_true(nclock_offset_ms(&c) == back);
    assert_true(c.backward == 1);
    assert_int_equal(nclock_read(&c, T0 + 100000, 200.0, &now), NCLOCK_REJOINED);
    assert_true(nclock_offset_ms(&c) == 0);
}

/* Every whole interval the loop is behind after a tick is one missed tick. */
static void test_missed_ticks(void **state)
{
    (void)state;
    assert_int_equal(lagstat_missed_ticks(-0.5, 1.0), 0);
    assert_int_equal(lagstat_missed_ticks(0.99, 1.0), 0);
    assert_int_equal(lagstat_missed_ticks(1.0, 1.0), 1);
    assert_int_equal(lagstat_missed_ticks(3.5, 1.0), 3);
    assert_int_equal(lagstat_missed_ticks(37.0, 1.0), 37);
    assert_int_equal(lagstat_missed_ticks(5.0, 0), 0);
}

/* Durations land in the first bucket whose bound they do not exceed; beyond the last, +Inf. */
static void test_duration_histogram(void **state)
{
    (void)state;
    struct lagstat l = {0};
    lagstat_add_duration(&l, 0.0005);
    lagstat_add_duration(&l, 0.001);
    lagstat_add_duration(&l, 0.3);
    lagstat_add_duration(&l, 3.5);
    lagstat_add_duration(&l, 60);
    assert_int_equal(l.duration_counts[0], 2);
    assert_int_equal(l.duration_counts[7], 1);  /* (0.25, 0.5] */
    assert_int_equal(l.duration_counts[10], 1); /* (2.5, 10] */
    assert_int_equal(l.duration_counts[LAG_DURATION_BUCKETS], 1);
    assert_int_equal(l.duration_total, 5);
    assert_true(l.duration_sum > 63.8 && l.duration_sum < 63.81);
}

/* A tick is a stall once it has run stall_after_s, reported once; idle is never a stall. */
static void test_watchdog_rule(void **state)
{
    (void)state;
    struct watchdog_state s = {0};
    assert_int_equal(watchdog_check(&s, 100.0, 5.0), 0); /* not in a tick */
    s.in_tick = 1;
    s.tick_start_s = 100.0;
    s.tick = 7;
    assert_int_equal(watchdog_check(&s, 104.9, 5.0), 0);
    assert_int_equal(watchdog_check(&s, 105.0, 5.0), 1);
    assert_int_equal(watchdog_check(&s, 130.0, 5.0), 0); /* once per tick */
    assert_int_equal(s.stalls, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_step),
        cmocka_unit_test(test_short_forward_excursion_ignored),
        cmocka_unit_test(test_lasting_forward_step_adopted),
        cmocka_unit_test(test_backward_step_kept_ahead),
        cmocka_unit_test(test_missed_ticks),
        cmocka_unit_test(test_duration_histogram),
        cmocka_unit_test(test_watchdog_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
