/* Each controller through the one "desired instances" interface, with views built by hand:
 * the HPA's rules (tolerance, starting instances at 0%, scale-up limit, 5-minute scale-down
 * stabilisation), the forecasting baselines' forecasts on series they must get exactly, the
 * oracle's look-ahead over the start-up delay, and the reactive tree's wiring (warm-up, cooldown,
 * starting instances).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "aether/error.h"
#include "aether/config.h"
#include "controllers.h"
#include "sim.h"

static char err[256];

static int ask(struct sim_controller *c, int64_t now, double cpu, int ready, int requested,
               const struct ae_minute *closed)
{
    struct ae_snapshot s;
    ae_snapshot_init(&s, now);
    if (!isnan(cpu))
        ae_snapshot_set(&s, AE_F_CPU_USAGE, cpu);
    ae_snapshot_set(&s, AE_F_INVOCATIONS, 10);
    s.ready = ready;
    s.requested = requested;
    struct sim_view v = {.now_ms = now,
                         .snapshot = &s,
                         .closed = closed,
                         .ready = ready,
                         .requested = requested,
                         .min_instances = 1,
                         .max_instances = 60};
    int out = -1;
    assert_int_equal(c->desired(c, &v, &out, err, sizeof err), 0);
    return out;
}

/* Feeds every second of [from, to] (ms) and returns the last answer. */
static int feed(struct sim_controller *c, int64_t from, int64_t to, double cpu, int ready,
                int requested)
{
    int out = -1;
    for (int64_t t = from; t <= to; t += 1000)
        out = ask(c, t, cpu, ready, requested, NULL);
    return out;
}

static struct sim_controller *hpa(double target)
{
    struct sim_hpa_params p;
    sim_hpa_defaults(&p);
    assert_float_equal(p.target, 0.6, 0);
    assert_float_equal(p.tolerance, 0.1, 0);
    assert_int_equal(p.stabilization_ms, 300000);
    p.target = target;
    struct sim_controller *c;
    assert_int_equal(sim_ctl_hpa_open(&p, &c, err, sizeof err), 0);
    assert_non_null(c);
    assert_string_equal(c->name, "hpa");
    assert_null(c->forecast);
    return c;
}

static void hpa_scales_to_ceil_of_usage_ratio(void **state)
{
    (void)state;
    struct sim_controller *c = hpa(0.6);
    /* No sync before 15 s: the count stays. At 15 s: ceil(4 x 0.9 / 0.6) = 6. */
    assert_int_equal(feed(c, 0, 14000, 0.9, 4, 4), 4);
    assert_int_equal(feed(c, 15000, 15000, 0.9, 4, 4), 6);
    /* Between syncs the decision holds. */
    assert_int_equal(feed(c, 16000, 29000, 0.2, 6, 6), 6);
    sim_controller_free(c);

    /* Within the tolerance: 0.65 / 0.6 = 1.083 -> hold. */
    c = hpa(0.6);
    assert_int_equal(feed(c, 0, 15000, 0.65, 5, 5), 5);
    sim_controller_free(c);

    /* Starting instances count at 0%: 4 ready at 100% of 8 requested -> ratio 4/(8 x 0.6) =
     * 0.83 <= 1 -> hold 8 (the HPA does not pile up while instances start). */
    c = hpa(0.6);
    assert_int_equal(feed(c, 0, 15000, 1.0, 4, 8), 8);
    /* ... but 6 ready of 8 at 100%: 6 / 4.8 = 1.25 -> ceil(6 / 0.6) = 10. */
    assert_int_equal(feed(c, 16000, 30000, 1.0, 6, 8), 10);
    sim_controller_free(c);

    /* Scale-up limit per period: max(2 x 2, 2 + 4) = 6 even though ceil(2 x 1 / 0.1) = 20. */
    c = hpa(0.1);
    assert_int_equal(feed(c, 0, 15000, 1.0, 2, 2), 6);
    sim_controller_free(c);
}

static void hpa_scale_down_is_stabilised(void **state)
{
    (void)state;
    struct sim_controller *c = hpa(0.6);
    assert_int_equal(feed(c, 0, 15000, 0.6, 6, 6), 6); /* recommendation 6 at 15 s */
    /* From then on cpu 0.3: recommendation ceil(0.5 x 6) = 3, held back while the 6 of 15 s is
     * inside the 5-minute window (<= 300 s old), taken at the first sync after. */
    assert_int_equal(feed(c, 16000, 315000, 0.3, 6, 6), 6);
    assert_int_equal(feed(c, 316000, 330000, 0.3, 6, 6), 3);
    sim_controller_free(c);
}

static struct ae_minute minute(int64_t start, double invocations, double cpu, double ready)
{
    struct ae_minute m;
    ae_minute_init(&m, start);
    m.values[AE_F_INVOCATIONS] = invocations;
    m.values[AE_F_CPU_USAGE] = cpu;
    m.missing &= ~(AE_FEATURE_BIT(AE_F_INVOCATIONS) | AE_FEATURE_BIT(AE_F_CPU_USAGE));
    m.ready_mean = ready;
    m.snapshots = 60;
    return m;
}

static void linear_baseline_extrapolates_a_line(void **state)
{
    (void)state;
    struct sim_hpa_params p;
    sim_hpa_defaults(&p);
    struct sim_controller *c;
    assert_int_equal(sim_ctl_predictive_open("linear", &p, 180000, 1440, &c, err, sizeof err), 0);
    assert_non_null(c);
    assert_string_equal(c->name, "linear");
    double f;
    assert_int_equal(c->forecast(c, 0, 1, &f), 0); /* nothing seen yet */
    /* 100 minutes on a line (the window is fitted after 60): the line is continued */
    for (int m = 0; m < 100; m++) {
        struct ae_minute closed = minute(m * 60000LL, 100 + 100 * m, 0.8, 2);
        ask(c, (m + 1) * 60000LL, 0.5, 2, 2, &closed);
    }
    assert_int_equal(c->forecast(c, 100 * 60000LL, 1, &f), 1);
    assert_float_equal(f, 10100, 1e-6);
    /* Up to the start-up delay ahead (3 minutes + the current one): steps 1..4 */
    assert_int_equal(c->forecast(c, 103 * 60000LL, 4, &f), 1);
    assert_float_equal(f, 10400, 1e-6);
    assert_int_equal(c->forecast(c, 104 * 60000LL, 5, &f), 0);
    assert_int_equal(c->forecast(c, 103 * 60000LL, 3, &f), 0); /* not made yet */
    /* the step-2 forecast of minute 100 was made after minute 98 closed */
    assert_int_equal(c->forecast(c, 100 * 60000LL, 2, &f), 1);
    assert_float_equal(f, 10100, 1e-6);
    /* Throughput over the last 5 minutes: 49,000 requests / (5 x 0.8 x 2 cores) = 6,125 per
     * instance at 100%. The forecast peak over the delay is 10,400 -> ceil(10400 / (6125 x 0.6))
     * = 3, where the HPA alone stays at ceil(0.5 / 0.6 x 2) = 2. */
    int n = feed(c, 101 * 60000LL, 101 * 60000LL + 15000, 0.5, 2, 2);
    assert_int_equal(n, 3);
    sim_controller_free(c);
    assert_int_equal(sim_ctl_predictive_open("arima", &p, 180000, 1440, &c, err, sizeof err),
                     AE_EINVAL);
    assert_null(c);
    assert_string_equal(err, "unknown forecasting baseline 'arima'");
}

static void holt_winters_learns_a_season(void **state)
{
    (void)state;
    struct sim_hpa_params p;
    sim_hpa_defaults(&p);
    struct sim_controller *c;
    assert_int_equal(sim_ctl_predictive_open("holt-winters", &p, 60000, 4, &c, err, sizeof err), 0);
    assert_non_null(c);
    assert_string_equal(c->name, "holt-winters");
    const double season[4] = {10, 20, 40, 30};
    /* the first 60 minutes as history before the run, then 40 simulated */
    for (int m = 0; m < 60; m++) {
        struct ae_minute old = minute(m * 60000LL, season[m % 4], NAN, 0);
        c->preload(c, &old);
    }
    for (int m = 60; m < 100; m++) {
        struct ae_minute closed = minute(m * 60000LL, season[m % 4], 0.5, 2);
        ask(c, (m + 1) * 60000LL, 0.5, 2, 2, &closed);
    }
    /* A purely periodic series: the fitted season is exact. */
    double f;
    assert_int_equal(c->forecast(c, 100 * 60000LL, 1, &f), 1);
    assert_float_equal(f, season[0], 1e-9);
    assert_int_equal(c->forecast(c, 101 * 60000LL, 2, &f), 1);
    assert_float_equal(f, season[1], 1e-9);
    struct sim_result r;
    memset(&r, 0, sizeof r);
    c->report(c, &r);
    assert_true(r.extra_count >= 5);
    assert_string_equal(r.extra[4].name, "hw_seasonal");
    assert_float_equal(r.extra[4].value, 1, 0);
    sim_controller_free(c);
}

/* The SLO test compares with the project's epsilon: at exactly the SLO utilisation the float
 * sums of a minute give 0.9000000000000009 (7 instances of 60/min serving 378/min), which is not
 * a violation. */
static void oracle_at_the_slo_utilisation_violates_nothing(void **state)
{
    (void)state;
    double demand[10];
    for (int i = 0; i < 10; i++)
        demand[i] = 378;
    struct sim_load l;
    assert_int_equal(sim_load_from_minutes(0, demand, 10, 15, &l, err, sizeof err), 0);
    struct sim_controller *c;
    assert_int_equal(sim_ctl_oracle_open(&l, 60, 0.9, 60000, &c, err, sizeof err), 0);
    assert_non_null(c);
    struct sim_params p = {.service = {.capacity_per_min = 60,
                                       .service_ms = 50,
                                       .timeout_ms = 2000,
                                       .overload_util = 0.99},
                           .startup_ms = 60000,
                           .min_instances = 1,
                           .max_instances = 60,
                           .initial_instances = 7,
                           .slo_util = 0.9};
    struct sim_result r;
    assert_int_equal(sim_run(&l, &p, c, NULL, NULL, &r, err, sizeof err), 0);
    assert_int_equal(r.peak_requested, 7);
    assert_true(r.mean_utilisation > 0.9);        /* the float artefact is there ... */
    assert_int_equal(r.slo_violation_minutes, 0); /* ... and not counted */
    sim_controller_free(c);
    /* one request per minute more is a violation */
    for (int i = 0; i < 10; i++)
        demand[i] = 379;
    sim_load_free(&l);
    assert_int_equal(sim_load_from_minutes(0, demand, 10, 15, &l, err, sizeof err), 0);
    assert_int_equal(sim_ctl_oracle_open(&l, 60, 0.9, 60000, &c, err, sizeof err), 0);
    p.initial_instances = 7;
    /* the oracle wants 8 from the start; the first minute runs on the 7 ready */
    assert_int_equal(sim_run(&l, &p, c, NULL, NULL, &r, err, sizeof err), 0);
    assert_int_equal(r.slo_violation_minutes, 1);
    sim_controller_free(c);
    sim_load_free(&l);
}

static void oracle_looks_ahead_by_the_startup_delay(void **state)
{
    (void)state;
    /* capacity 60/min at util 0.9 = 54 per instance: 60 -> 2 instances, 600 -> 12. */
    double demand[5] = {60, 60, 600, 60, 60};
    struct sim_load l;
    assert_int_equal(sim_load_from_minutes(0, demand, 5, 15, &l, err, sizeof err), 0);
    struct sim_controller *c;
    assert_int_equal(sim_ctl_oracle_open(&l, 60, 0.9, 60000, &c, err, sizeof err), 0);
    assert_non_null(c);
    assert_string_equal(c->name, "oracle");
    assert_int_equal(ask(c, 0, 0.5, 2, 2, NULL), 2);
    assert_int_equal(ask(c, 59000, 0.5, 2, 2, NULL), 2);  /* minute 2 starts after 119 s */
    assert_int_equal(ask(c, 60000, 0.5, 2, 2, NULL), 12); /* ready exactly when it starts */
    assert_int_equal(ask(c, 179000, 0.5, 2, 12, NULL), 12);
    assert_int_equal(ask(c, 180000, 0.5, 12, 12, NULL), 2);
    sim_controller_free(c);
    sim_load_free(&l);
}

static void reactive_is_the_core_tree(void **state)
{
    (void)state;
    struct cfg_controller ctl;
    cfg_controller_defaults(&ctl);
    ctl.cpu_scale_up_threshold = 0.8; /* the hand-worked steps below scale up above 0.8 */
    struct sim_controller *c;
    assert_int_equal(sim_ctl_reactive_open(&ctl, &c, err, sizeof err), 0);
    assert_non_null(c);
    assert_string_equal(c->name, "reactive");
    assert_null(c->forecast);
    /* cpu 0.9 > 0.8: +1, but not during the 30 s warm-up nor within the 10 s cooldown. */
    assert_int_equal(ask(c, 0, 0.9, 4, 4, NULL), 4);
    assert_int_equal(ask(c, 29000, 0.9, 4, 4, NULL), 4);
    assert_int_equal(ask(c, 30000, 0.9, 4, 4, NULL), 5);
    assert_int_equal(ask(c, 31000, 0.9, 4, 5, NULL), 5);
    /* the fifth still starting: 0.9 on 4 of 5 is 0.72 once it serves, below 0.8: no +1 */
    assert_int_equal(ask(c, 40000, 0.9, 4, 5, NULL), 5);
    assert_int_equal(ask(c, 100000, 0.9, 4, 5, NULL), 5);
    /* it serves and cpu is still 0.9: +1 */
    assert_int_equal(ask(c, 101000, 0.9, 5, 5, NULL), 6);
    /* cpu 0.1 < 0.2: -1 per cooldown. */
    assert_int_equal(ask(c, 111000, 0.1, 6, 6, NULL), 5);
    assert_int_equal(ask(c, 112000, 0.1, 5, 5, NULL), 5);
    sim_controller_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hpa_scales_to_ceil_of_usage_ratio),
        cmocka_unit_test(hpa_scale_down_is_stabilised),
        cmocka_unit_test(linear_baseline_extrapolates_a_line),
        cmocka_unit_test(holt_winters_learns_a_season),
        cmocka_unit_test(oracle_looks_ahead_by_the_startup_delay),
        cmocka_unit_test(oracle_at_the_slo_utilisation_violates_nothing),
        cmocka_unit_test(reactive_is_the_core_tree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
