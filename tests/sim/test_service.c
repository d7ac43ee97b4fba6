/* The service model and the simulator's accounting, against figures computed by hand:
 * M/M/1 and M/M/2 closed forms, overload and rejection, and a three-minute run whose SLO
 * minutes, instance-minutes, actions and drops follow from the rules in docs/simulator.md. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "aether/error.h"
#include "service.h"
#include "sim.h"

static void erlang_c_closed_forms(void **state)
{
    (void)state;
    /* M/M/1: the waiting probability is rho. M/M/2 with a = 1: C = 1/3. */
    assert_float_equal(sim_erlang_c(1, 0.5), 0.5, 1e-12);
    assert_float_equal(sim_erlang_c(2, 1.0), 1.0 / 3.0, 1e-12);
    assert_float_equal(sim_erlang_c(3, 3.0), 1.0, 0);
    assert_float_equal(sim_erlang_c(4, 0.0), 0.0, 0);
}

static void mm1_response_time(void **state)
{
    (void)state;
    /* M/M/1: T ~ Exp(mu - lambda): mean 1/(1-rho), quantile q = -ln(1-q)/(1-rho). */
    assert_float_equal(sim_mmc_response_mean(1, 0.5), 2.0, 1e-12);
    assert_float_equal(sim_mmc_response_quantile(1, 0.5, 0.95), 2.0 * log(20.0), 1e-9);
    assert_float_equal(sim_mmc_response_quantile(1, 0.8, 0.5), 5.0 * log(2.0), 1e-9);
    /* M/M/2 at a = 1 (rho = 0.5): mean = 1 + C / (c (1 - rho)) = 1 + (1/3) / 1. */
    assert_float_equal(sim_mmc_response_mean(2, 0.5), 4.0 / 3.0, 1e-12);
    /* Many servers at low load: almost no waiting, p95 -> that of Exp(1) = ln 20. */
    assert_float_equal(sim_mmc_response_quantile(50, 0.1, 0.95), log(20.0), 1e-6);
}

static const struct sim_service svc = {
    .capacity_per_min = 60, .service_ms = 100, .timeout_ms = 2000, .overload_util = 0.99};

static void one_second_under_and_over_capacity(void **state)
{
    (void)state;
    struct ae_snapshot s;
    struct sim_second sec;
    /* One instance serving 1 request/s; 0.5 offered: M/M/1 at rho 0.5. */
    ae_snapshot_init(&s, 0);
    sim_service_second(&svc, 0.5, 1, &s, &sec);
    assert_float_equal(sec.util, 0.5, 1e-12);
    assert_float_equal(sec.dropped, 0, 0);
    assert_float_equal(s.values[AE_F_CPU_USAGE], 0.5, 1e-12);
    assert_float_equal(s.values[AE_F_LATENCY_MS], 200.0, 1e-9);
    assert_float_equal(s.values[AE_F_EVENT_LOOP_LAG_MS], 100.0, 1e-9);
    assert_float_equal(s.values[AE_F_LATENCY_P95], 200.0 * log(20.0), 1e-6);
    assert_float_equal(s.values[AE_F_HEAP_USAGE], 0.5, 1e-12);
    assert_float_equal(s.values[AE_F_INVOCATIONS], 0.5, 0);
    assert_float_equal(s.values[AE_F_ERROR_RATE], 0, 0);
    assert_true(ae_snapshot_has(&s, AE_F_GC_PAUSE_MS));
    /* Two instances (2/s), 3/s offered: 1/s rejected, saturated, latency at the timeout. */
    ae_snapshot_init(&s, 0);
    sim_service_second(&svc, 3.0, 2, &s, &sec);
    assert_float_equal(sec.served, 2.0, 1e-12);
    assert_float_equal(sec.dropped, 1.0, 1e-12);
    assert_float_equal(sec.util, 1.5, 1e-12);
    assert_float_equal(s.values[AE_F_CPU_USAGE], 1.0, 0);
    assert_float_equal(s.values[AE_F_ERROR_RATE], 1.0 / 3.0, 1e-12);
    assert_float_equal(s.values[AE_F_INVOCATIONS], 3.0, 0);
    assert_float_equal(s.values[AE_F_LATENCY_P99], 2000.0, 0);
    /* Nothing ready: everything rejected, no cpu, no latency. */
    ae_snapshot_init(&s, 0);
    sim_service_second(&svc, 1.0, 0, &s, &sec);
    assert_float_equal(sec.dropped, 1.0, 0);
    assert_false(ae_snapshot_has(&s, AE_F_CPU_USAGE));
    assert_false(ae_snapshot_has(&s, AE_F_LATENCY_MS));
    assert_float_equal(s.values[AE_F_ERROR_RATE], 1.0, 0);
}

/* A scripted controller: always wants `want` instances; counts its calls. */
struct scripted {
    int want;
    int64_t until_ms; /* when > 0: want `want` before this time, then `after` */
    int after;
    long calls;
    long closed;
    long count_starts;
    int64_t count_start_ms; /* now_ms of the last call before count_start */
    int64_t last_ms;
};

static int scripted_desired(struct sim_controller *c, const struct sim_view *v, int *out, char *err,
                            size_t errlen)
{
    (void)err;
    (void)errlen;
    struct scripted *s = c->state;
    s->calls++;
    s->last_ms = v->now_ms;
    if (v->closed)
        s->closed++;
    *out = s->until_ms > 0 && v->now_ms >= s->until_ms ? s->after : s->want;
    return 0;
}

static void scripted_free(struct sim_controller *c)
{
    (void)c;
}

static void scripted_count_start(struct sim_controller *c)
{
    struct scripted *s = c->state;
    s->count_starts++;
    s->count_start_ms = s->last_ms;
}

/* 1 to 10 instances, one ready at the start, 60 s start-up, SLO at 90%. */
static struct sim_params one_minute_startup(void)
{
    struct sim_params p = {.service = svc,
                           .startup_ms = 60000,
                           .min_instances = 1,
                           .max_instances = 10,
                           .initial_instances = 1,
                           .slo_util = 0.9};
    return p;
}

static struct sim_controller scripted_controller(struct scripted *s)
{
    struct sim_controller c = {
        .name = "scripted", .state = s, .desired = scripted_desired, .free = scripted_free};
    return c;
}

static void three_minutes_by_hand(void **state)
{
    (void)state;
    /* 120 requests/min = 2/s; one instance serves 1/s. One instance at the start, the controller
     * wants 3 from the first second; they serve after 60 s.
     * minute 0: ready 1, util 2 -> violated, 60 requests dropped; requested 3 all minute.
     * minutes 1, 2: ready 3, util 2/3 <= 0.9 -> fine.
     * cost: 3 instances x 3 minutes = 9 instance-minutes; one scaling action. */
    double demand[3] = {120, 120, 120};
    struct sim_load l;
    char err[256];
    assert_int_equal(sim_load_from_minutes(0, demand, 3, 15, &l, err, sizeof err), 0);
    struct sim_params p = one_minute_startup();
    struct scripted s = {.want = 3};
    struct sim_controller c = scripted_controller(&s);
    struct sim_result r;
    struct sim_timeline t;
    assert_int_equal(sim_run(&l, &p, &c, NULL, &t, &r, err, sizeof err), 0);
    assert_int_equal(s.calls, 180);
    assert_int_equal(s.closed, 2); /* minutes 0 and 1 close in the run, minute 2 at its end */
    assert_int_equal(r.minutes, 3);
    assert_int_equal(r.slo_violation_minutes, 1);
    assert_float_equal(r.instance_minutes, 9.0, 1e-9);
    assert_int_equal(r.scaling_actions, 1);
    assert_float_equal(r.requests, 360, 1e-9);
    assert_float_equal(r.dropped, 60, 1e-9);
    assert_int_equal(r.peak_requested, 3);
    assert_float_equal(r.mean_utilisation, 360.0 / (60 + 180 + 180), 1e-12);
    assert_false(r.has_forecast);
    assert_float_equal(t.ready[0], 1, 0);
    assert_float_equal(t.ready[1], 3, 0);
    assert_float_equal(t.needed[2], 2, 0);
    sim_timeline_free(&t);

    /* The same with the controller asking for more than max: clamped to max = 2, and minute 1
     * on has util 1 -> violated. */
    p.max_instances = 2;
    s.want = 50;
    assert_int_equal(sim_run(&l, &p, &c, NULL, NULL, &r, err, sizeof err), 0);
    assert_int_equal(r.slo_violation_minutes, 3);
    assert_float_equal(r.instance_minutes, 6.0, 1e-9);
    assert_int_equal(r.peak_requested, 2);

    /* Scaling down cancels starting instances first: 3 wanted for 10 s (1 ready + 2 starting),
     * then 1: the two starting ones go, the ready one stays. Cost 10 x 3 + 170 x 1 seconds. */
    p.max_instances = 10;
    s.want = 3;
    s.until_ms = 10000;
    s.after = 1;
    assert_int_equal(sim_run(&l, &p, &c, NULL, NULL, &r, err, sizeof err), 0);
    assert_int_equal(r.scaling_actions, 2);
    assert_float_equal(r.instance_minutes, 200.0 / 60.0, 1e-9);
    assert_int_equal(r.slo_violation_minutes, 3);
    assert_float_equal(r.dropped, 180, 1e-9);
    sim_load_free(&l);
}

static void warm_up_minutes_count_in_nothing(void **state)
{
    (void)state;
    /* The three minutes by hand above after a warm-up of two minutes of the same load: the
     * controller sees all five (300 calls) and its 3 instances are ready from second 60, so the
     * counted minutes 2..4 have ready 3 and no violation, cost 3 x 3 = 9 instance-minutes, no
     * drop and no action (the one action came in the warm-up); the timeline starts at minute 2.
     * Then one scale-down to 1 at 150 s (minute 2, 30 s in): counted, and 30 x 3 + 150 x 1
     * instance-seconds = 4 instance-minutes, minutes 2 (30 s at 1 instance) and 3, 4 violated. */
    double demand[5] = {120, 120, 120, 120, 120};
    struct sim_load l;
    char err[256];
    assert_int_equal(sim_load_from_minutes(0, demand, 5, 15, &l, err, sizeof err), 0);
    struct sim_params p = one_minute_startup();
    p.warmup_minutes = 2;
    struct scripted s = {.want = 3};
    struct sim_controller c = scripted_controller(&s);
    c.count_start = scripted_count_start;
    struct sim_result r;
    struct sim_timeline t;
    assert_int_equal(sim_run(&l, &p, &c, NULL, &t, &r, err, sizeof err), 0);
    assert_int_equal(s.calls, 300);
    assert_int_equal(s.count_starts, 1);
    assert_int_equal(s.count_start_ms, 119000); /* after the last second of the warm-up */
    assert_int_equal(r.minutes, 3);
    assert_int_equal(r.slo_violation_minutes, 0);
    assert_float_equal(r.instance_minutes, 9.0, 1e-9);
    assert_int_equal(r.scaling_actions, 0);
    assert_float_equal(r.requests, 360, 1e-9);
    assert_float_equal(r.dropped, 0, 1e-9);
    assert_int_equal(r.peak_requested, 3);
    assert_int_equal(t.minutes, 3);
    assert_int_equal(t.start_ms, 120000);
    assert_float_equal(t.ready[0], 3, 0);
    sim_timeline_free(&t);

    s = (struct scripted){.want = 3, .until_ms = 150000, .after = 1};
    assert_int_equal(sim_run(&l, &p, &c, NULL, NULL, &r, err, sizeof err), 0);
    assert_int_equal(r.scaling_actions, 1);
    assert_float_equal(r.instance_minutes, 4.0, 1e-9);
    assert_int_equal(r.slo_violation_minutes, 3);
    assert_int_equal(r.peak_requested, 3);

    /* A warm-up that leaves nothing to count is refused. */
    p.warmup_minutes = 5;
    assert_int_equal(sim_run(&l, &p, &c, NULL, NULL, &r, err, sizeof err), AE_EINVAL);
    assert_non_null(strstr(err, "warm-up of 5 minutes"));
    sim_load_free(&l);
}

static void skipped_minutes_cost_nothing(void **state)
{
    (void)state;
    /* Minutes 2..21 are a long gap (20 > max_fill 15): skipped, no cost, no SLO. */
    double demand[24];
    for (int i = 0; i < 24; i++)
        demand[i] = (i >= 2 && i < 22) ? NAN : 30;
    struct sim_load l;
    char err[256];
    assert_int_equal(sim_load_from_minutes(0, demand, 24, 15, &l, err, sizeof err), 0);
    assert_int_equal(l.skipped_runs, 1);
    assert_int_equal(l.skipped_minutes, 20);
    struct sim_params p = one_minute_startup();
    struct scripted s = {.want = 1};
    struct sim_controller c = scripted_controller(&s);
    struct sim_result r;
    assert_int_equal(sim_run(&l, &p, &c, NULL, NULL, &r, err, sizeof err), 0);
    assert_int_equal(r.minutes, 4);
    assert_float_equal(r.instance_minutes, 4, 1e-9);
    assert_int_equal(r.slo_violation_minutes, 0);
    assert_int_equal(s.calls, 240);
    sim_load_free(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(erlang_c_closed_forms),
        cmocka_unit_test(mm1_response_time),
        cmocka_unit_test(one_second_under_and_over_capacity),
        cmocka_unit_test(three_minutes_by_hand),
        cmocka_unit_test(warm_up_minutes_count_in_nothing),
        cmocka_unit_test(skipped_minutes_cost_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
