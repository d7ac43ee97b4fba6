/* The control step (scaler.h) on its own: when the TTM manager is evaluated (schedule, resumption
 * after a gap, an evaluation asked for by a model load), the tier-1 input it assembles, and the
 * pushed-value slots. The whole loop with a forecasting predictor is in test_pipeline.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "aether/error.h"
#include "aether/scaler.h"

#define T0 1700000040000LL /* a minute start */

struct fixture {
    struct cfg_controller ctl;
    struct cfg_ttm tc;
    struct cfg_blueprint bp;
    scl *s;
    agg *history;
    struct ae_snapshot snap;
};

static void open_step(struct fixture *f)
{
    cfg_controller_defaults(&f->ctl);
    f->ctl.warm_up_period_ms = 0;
    cfg_ttm_defaults(&f->tc); /* disabled: every evaluation is STOPPED, but it is scheduled */
    cfg_blueprint_defaults(&f->bp);
    strcpy(f->bp.name, "web");
    f->bp.instances = 2;
    char err[256];
    assert_int_equal(scl_open(&f->tc, &f->ctl, &f->bp, 1, &f->s, err, sizeof err), 0);
    scl_start(f->s, T0);
    assert_int_equal(agg_open(&f->history, NULL, 0), 0);
    assert_non_null(f->history);
    ae_snapshot_init(&f->snap, T0);
}

static void close_step(struct fixture *f)
{
    scl_free(f->s);
    agg_free(f->history);
}

static int step(struct fixture *f, int64_t now, struct scl_output *out)
{
    struct scl_output ignored;
    struct scl_input in = {.history = f->history, .snapshot = &f->snap, .ready = 2};
    return scl_step(f->s, now, &in, out ? out : &ignored);
}

static void evaluates_just_after_each_minute_closes(void **state)
{
    (void)state;
    struct fixture f;
    open_step(&f);
    scl_free(f.s); /* started mid-minute, as a node is */
    char err[256];
    assert_int_equal(scl_open(&f.tc, &f.ctl, &f.bp, 1, &f.s, err, sizeof err), 0);
    scl_start(f.s, T0 + 25003);
    for (int64_t t = T0 + 25003; t < T0 + 180000; t += 1000) {
        int e = step(&f, t, NULL);
        /* the first tick of each minute, never one interval after the start */
        assert_int_equal(e, t == T0 + 60003 || t == T0 + 120003);
    }
    close_step(&f);

    /* 5 minutes: the Unix-time multiples of 300 s only (T0 + 60 s is one) */
    open_step(&f);
    scl_free(f.s);
    f.tc.evaluation_interval_ms = 300000;
    assert_int_equal(scl_open(&f.tc, &f.ctl, &f.bp, 1, &f.s, err, sizeof err), 0);
    scl_start(f.s, T0);
    int evaluations = 0;
    for (int64_t t = T0; t < T0 + 900000; t += 1000) {
        int e = step(&f, t, NULL);
        evaluations += e;
        assert_int_equal(e, t % 300000 == 0);
    }
    assert_int_equal(evaluations, 3);
    close_step(&f);
}

static void a_gap_skips_the_slots_it_missed(void **state)
{
    (void)state;
    struct fixture f;
    open_step(&f);
    for (int64_t t = T0; t < T0 + 60000; t += 1000)
        assert_int_equal(step(&f, t, NULL), 0);
    /* 30 s are skipped: the slot at T0 + 60 s is overdue, the next stays on the grid */
    assert_int_equal(step(&f, T0 + 90000, NULL), 1);
    assert_int_equal(step(&f, T0 + 119000, NULL), 0);
    assert_int_equal(step(&f, T0 + 120000, NULL), 1);
    /* far behind (several slots missed): one evaluation, then the next minute boundary */
    assert_int_equal(step(&f, T0 + 400000, NULL), 1);
    assert_int_equal(step(&f, T0 + 401000, NULL), 0);
    assert_int_equal(step(&f, T0 + 419000, NULL), 0);
    assert_int_equal(step(&f, T0 + 420000, NULL), 1);
    close_step(&f);
}

static void evaluate_next_evaluates_at_the_next_step(void **state)
{
    (void)state;
    struct fixture f;
    open_step(&f);
    assert_int_equal(step(&f, T0 + 1000, NULL), 0);
    scl_evaluate_next(f.s);
    assert_int_equal(step(&f, T0 + 2000, NULL), 1);
    /* then back on the grid */
    assert_int_equal(step(&f, T0 + 59000, NULL), 0);
    assert_int_equal(step(&f, T0 + 60000, NULL), 1);
    close_step(&f);
}

static void tier1_input_and_the_state_requested(void **state)
{
    (void)state;
    struct fixture f;
    open_step(&f);
    struct scl_bp *b = scl_bp(f.s, 0);
    assert_non_null(b);
    assert_null(scl_bp(f.s, 1));
    assert_int_equal(scl_count(f.s), 1);
    assert_int_equal(b->requested, 2); /* from cfg->instances */
    /* 0.95 on 2 ready, 2 requested: +1 */
    ae_snapshot_set(&f.snap, AE_F_CPU_USAGE, 0.95);
    struct scl_output out;
    step(&f, T0 + 1000, &out);
    assert_int_equal(out.changed, 1);
    assert_int_equal(out.desired, 3);
    assert_int_equal(b->requested, 3);
    assert_int_equal(out.decision.action, AE_ACTION_SCALE_UP);
    assert_int_equal(out.decision.from, 2);
    assert_int_equal(out.decision.to, 3);
    assert_null(out.ttm_decision);
    /* the same cpu on 2 ready of 3 requested: 0.95 x 2/3 = 0.63 holds (the requested count is the
     * state's, not the snapshot's) */
    step(&f, T0 + 20000, &out);
    assert_int_equal(out.changed, 0);
    assert_int_equal(out.desired, 3);
    assert_int_equal(out.decision.action, AE_ACTION_HOLD);
    /* the bounds are the config's */
    f.bp.max_instances = 3;
    ae_snapshot_set(&f.snap, AE_F_CPU_USAGE, 1.0);
    struct scl_input in = {.history = f.history, .snapshot = &f.snap, .ready = 3};
    scl_step(f.s, T0 + 40000, &in, &out);
    assert_int_equal(out.desired, 3);
    assert_non_null(strstr(out.decision.reason, "at max_instances 3"));
    close_step(&f);
}

/* Without records (scl_skip_records) the decisions are the same, second by second, over a cpu
 * series that scales up, holds, and scales down; the record is left as it was. */
static void skipping_records_keeps_the_decisions(void **state)
{
    (void)state;
    struct fixture with, without;
    open_step(&with);
    open_step(&without);
    scl_skip_records(without.s);
    static const double cpu[] = {0.95, 0.95, 0.5, 0.1, 0.1, 0.95, 0.3, 0.05, 0.05, 0.05};
    for (int i = 0; i < 200; i++) {
        double c = cpu[(i / 20) % 10];
        ae_snapshot_set(&with.snap, AE_F_CPU_USAGE, c);
        ae_snapshot_set(&without.snap, AE_F_CPU_USAGE, c);
        struct scl_output a, b;
        memset(&b.decision, 0x5a, sizeof b.decision);
        step(&with, T0 + 1000 * (i + 1), &a);
        step(&without, T0 + 1000 * (i + 1), &b);
        assert_int_equal(a.desired, b.desired);
        assert_int_equal(a.changed, b.changed);
        assert_int_equal((unsigned char)b.decision.reason[0], 0x5a); /* not written */
        assert_true(a.decision.reason[0] != 0);
    }
    assert_int_equal(scl_bp(with.s, 0)->requested, scl_bp(without.s, 0)->requested);
    close_step(&with);
    close_step(&without);
}

static void pushed_values_wait_for_their_second(void **state)
{
    (void)state;
    struct fixture f;
    open_step(&f);
    struct scl_bp *b = scl_bp(f.s, 0);
    double v[AE_FEATURE_COUNT] = {0};
    v[AE_F_CPU_USAGE] = 0.7;
    assert_int_equal(scl_push(b, T0 + 5000, v, AE_FEATURE_BIT(AE_F_CPU_USAGE)), 0);
    v[AE_F_CPU_USAGE] = 0.9; /* the last write wins */
    v[AE_F_HEAP_USAGE] = 0.4;
    assert_int_equal(
        scl_push(b, T0 + 5000, v, AE_FEATURE_BIT(AE_F_CPU_USAGE) | AE_FEATURE_BIT(AE_F_HEAP_USAGE)),
        0);
    assert_int_equal(scl_push(b, T0 + 6000, v, AE_FEATURE_BIT(AE_F_INVOCATIONS)), 0);
    assert_int_equal(b->pushes, 3);

    struct ae_snapshot s;
    ae_snapshot_init(&s, T0 + 4000);
    scl_push_fold(b, T0 + 4000, &s); /* nothing pushed for that second */
    assert_false(ae_snapshot_has(&s, AE_F_CPU_USAGE));
    ae_snapshot_init(&s, T0 + 5000);
    scl_push_fold(b, T0 + 5000, &s);
    assert_true(s.values[AE_F_CPU_USAGE] == 0.9);
    assert_true(s.values[AE_F_HEAP_USAGE] == 0.4);
    assert_false(ae_snapshot_has(&s, AE_F_INVOCATIONS)); /* second 6's value waits */

    /* second 6 is still held; 7 more distinct seconds fill the 8 slots, the next is refused */
    for (int k = 0; k < SCL_PUSH_SLOTS - 1; k++)
        assert_int_equal(scl_push(b, T0 + 10000 + k * 1000, v, AE_FEATURE_BIT(AE_F_CPU_USAGE)), 0);
    assert_int_equal(scl_push(b, T0 + 30000, v, AE_FEATURE_BIT(AE_F_CPU_USAGE)), AE_ERANGE);
    /* folding a later second frees every slot up to it */
    ae_snapshot_init(&s, T0 + 30000);
    scl_push_fold(b, T0 + 30000, &s);
    assert_int_equal(scl_push(b, T0 + 31000, v, AE_FEATURE_BIT(AE_F_CPU_USAGE)), 0);
    close_step(&f);
}

/* A follower's TTM manager stops with "not the leader"; the leader's floor, handed in as the
 * remote recommendation, raises the count and lapses 2 x the [ttm] interval after it was issued,
 * also across the follower's own evaluations (which drop what is in force). */
static void a_follower_applies_the_leaders_floor_until_it_expires(void **state)
{
    (void)state;
    struct fixture f;
    cfg_controller_defaults(&f.ctl);
    f.ctl.warm_up_period_ms = 0;
    f.ctl.slice_cooldown_ms = 0;
    cfg_ttm_defaults(&f.tc);
    f.tc.enabled = 1;
    cfg_blueprint_defaults(&f.bp);
    strcpy(f.bp.name, "web");
    f.bp.instances = 2;
    f.bp.min_instances = 1;
    f.bp.max_instances = 10;
    char err[256];
    assert_int_equal(scl_open(&f.tc, &f.ctl, &f.bp, 1, &f.s, err, sizeof err), 0);
    scl_start(f.s, T0);
    assert_int_equal(agg_open(&f.history, NULL, 0), 0);
    assert_non_null(f.history);
    ae_snapshot_init(&f.snap, T0);
    ae_snapshot_set(&f.snap, AE_F_CPU_USAGE, 0.05); /* tier 1 alone would scale down */
    assert_int_equal(scl_is_leader(f.s), 1);
    scl_set_leader(f.s, 0);
    assert_int_equal(scl_is_leader(f.s), 0);

    int64_t interval = f.tc.evaluation_interval_ms;
    struct scl_input in = {.history = f.history,
                           .snapshot = &f.snap,
                           .ready = 2,
                           .has_remote = 1,
                           .remote_floor = 5,
                           .remote_issued_ms = T0 + 1000};
    struct scl_output out;
    int64_t t = T0 + 1000;
    for (; t <= T0 + 1000 + 2 * interval; t += 1000) {
        scl_step(f.s, t, &in, &out);
        assert_int_equal(out.desired, 5); /* held through the evaluation at T0 + interval */
    }
    assert_int_equal(ttm_get_state(scl_ttm_const(f.s)), TTM_STOPPED);
    assert_string_equal(ttm_stopped_reason(scl_ttm_const(f.s)), "not the leader");
    /* past 2 x the interval since it was issued: tier 1 alone (low cpu: one down) */
    scl_step(f.s, t + 1000, &in, &out);
    assert_true(out.desired < 5);

    /* the leader ignores a remote recommendation */
    scl_set_leader(f.s, 1);
    in.remote_issued_ms = t + 2000;
    in.remote_floor = 9;
    scl_step(f.s, t + 2000, &in, &out);
    assert_true(out.desired < 9);
    close_step(&f);
}

static void open_rejects_bad_arguments(void **state)
{
    (void)state;
    struct cfg_controller ctl;
    struct cfg_ttm tc;
    cfg_controller_defaults(&ctl);
    cfg_ttm_defaults(&tc);
    char err[256];
    scl *s = (scl *)&err; /* any non-NULL value: a failure clears it */
    assert_int_equal(scl_open(&tc, &ctl, NULL, 2, &s, err, sizeof err), AE_EINVAL);
    assert_null(s);
    assert_non_null(strstr(err, "2 blueprints"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(evaluates_just_after_each_minute_closes),
        cmocka_unit_test(a_gap_skips_the_slots_it_missed),
        cmocka_unit_test(evaluate_next_evaluates_at_the_next_step),
        cmocka_unit_test(tier1_input_and_the_state_requested),
        cmocka_unit_test(skipping_records_keeps_the_decisions),
        cmocka_unit_test(pushed_values_wait_for_their_second),
        cmocka_unit_test(a_follower_applies_the_leaders_floor_until_it_expires),
        cmocka_unit_test(open_rejects_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
