/* Confidence tracker: fallback to val_wape, WAPE over the last 30 resolved forecasts, falling
 * after bad forecasts and recovering after good ones, horizon resolution, skill, and the demand
 * headroom (quantile of the last 240 under-forecasts). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>
#include <cmocka.h>

#include "aether/confidence.h"

#define MIN 60000LL

static struct conf_tracker t;

static struct ae_minute minute(int i, double cpu, double inv, double ready)
{
    struct ae_minute m;
    ae_minute_init(&m, i * MIN);
    m.values[AE_F_CPU_USAGE] = cpu;
    m.values[AE_F_INVOCATIONS] = inv;
    m.missing &= ~(AE_FEATURE_BIT(AE_F_CPU_USAGE) | AE_FEATURE_BIT(AE_F_INVOCATIONS));
    m.ready_mean = ready;
    return m;
}

/* A one-minute forecast for minute i made after minute i-1 (which had cpu/inv as given). */
static void forecast(int i, double cpu, double inv, double ready)
{
    float f[AE_FEATURE_COUNT] = {0};
    f[AE_F_CPU_USAGE] = (float)cpu;
    f[AE_F_INVOCATIONS] = (float)inv;
    struct ae_minute last = minute(i - 1, 0.5, 1000, ready);
    conf_record(&t, i * MIN, f, 1, ready, &last);
}

/* Minute i actually had cpu 0.5 and 1000 requests at 2 ready. pred_factor scales the forecast. */
static void step(int i, double pred_factor)
{
    forecast(i, 0.5 * pred_factor, 1000 * pred_factor, 2);
    struct ae_minute m = minute(i, 0.5, 1000, 2);
    conf_observe(&t, &m);
}

static void falls_back_to_val_wape(void **state)
{
    (void)state;
    conf_init(&t, 0.12);
    assert_float_equal(conf_confidence(&t), 0.88, 1e-12);
    for (int i = 1; i <= 9; i++)
        step(i, 3.0); /* terrible, but fewer than 10 resolved: the model's own number */
    assert_int_equal(conf_resolved_count(&t), 9);
    assert_float_equal(conf_confidence(&t), 0.88, 1e-12);
    step(10, 3.0);
    assert_float_equal(conf_confidence(&t), 0, 0); /* WAPE 2 each: clamped to 0 */
    conf_init(&t, -1);                             /* no aether.val_wape: 0 until 10 resolved */
    assert_float_equal(conf_confidence(&t), 0, 0);
    double wc, wi;
    conf_wape(&t, &wc, &wi);
    assert_true(isnan(wc) && isnan(wi));
    assert_true(isnan(conf_skill(&t)));
}

static void falls_after_bad_and_recovers_after_good(void **state)
{
    (void)state;
    conf_init(&t, -1);
    int i = 1;
    for (; i <= 30; i++)
        step(i, 1.0);
    assert_float_equal(conf_confidence(&t), 1, 1e-9);
    /* a run of forecasts 50 % too high: confidence = 1 - 0.5 x bad / 30 */
    int bad = 0;
    while (conf_confidence(&t) >= 0.7) {
        step(i++, 1.5);
        bad++;
    }
    /* 18 bad give exactly 0.7 (still acting); the 19th takes it below */
    assert_int_equal(bad, 19);
    for (int k = 0; k < 11; k++)
        step(i++, 1.5);
    assert_float_equal(conf_confidence(&t), 0.5, 1e-12); /* all 30 bad */
    int good = 0;
    while (conf_confidence(&t) < 0.7) {
        step(i++, 1.0);
        good++;
    }
    /* back to 0.7 when 18 bad remain in the window */
    assert_int_equal(good, 12);
    assert_float_equal(conf_confidence(&t), 0.7, 1e-12);
    double wc, wi;
    conf_wape(&t, &wc, &wi);
    assert_float_equal(wc, 0.3, 1e-12);
    assert_float_equal(wi, 0.3, 1e-12);
}

static void scaling_during_forecast_is_not_error(void **state)
{
    (void)state;
    conf_init(&t, -1);
    for (int i = 1; i <= 10; i++) {
        /* forecast cpu 0.8 at 2 instances = 1.6 cores; the node scaled to 4 and cpu was 0.4 */
        forecast(i, 0.8, 1000, 2);
        struct ae_minute m = minute(i, 0.4, 1000, 4);
        conf_observe(&t, &m);
    }
    assert_float_equal(conf_confidence(&t), 1, 1e-6);
}

/* A 3-minute forecast of cpu 0.5 and 1000 requests each minute. */
static void three_flat_minutes(float *f)
{
    memset(f, 0, 3 * AE_FEATURE_COUNT * sizeof *f);
    for (int h = 0; h < 3; h++) {
        f[h * AE_FEATURE_COUNT + AE_F_CPU_USAGE] = 0.5f;
        f[h * AE_FEATURE_COUNT + AE_F_INVOCATIONS] = 1000;
    }
}

static void horizon_resolves_when_all_minutes_arrived(void **state)
{
    (void)state;
    conf_init(&t, -1);
    float f[3 * AE_FEATURE_COUNT];
    three_flat_minutes(f);
    conf_record(&t, 10 * MIN, f, 3, 2, NULL);
    conf_record(&t, 10 * MIN, f, 3, 2, NULL); /* a second evaluation in the same minute */
    assert_int_equal(t.pending_count, 1);
    struct ae_minute m = minute(9, 0.5, 1000, 2); /* before the forecast: ignored */
    conf_observe(&t, &m);
    m = minute(10, 0.5, 500, 2);
    conf_observe(&t, &m);
    conf_observe(&t, &m); /* repeated: ignored */
    m = minute(11, 0.5, 1000, 2);
    conf_observe(&t, &m);
    assert_int_equal(conf_resolved_count(&t), 0);
    m = minute(12, 0.5, 1000, 2);
    conf_observe(&t, &m);
    assert_int_equal(conf_resolved_count(&t), 1);
    assert_float_equal(t.resolved[0].err_inv, 500, 1e-9);
    assert_float_equal(t.resolved[0].act_inv, 2500, 1e-9);
    assert_int_equal(t.pending_count, 0);
    /* a forecast whose minutes never came (node down) is discarded, not counted */
    conf_record(&t, 20 * MIN, f, 1, 2, NULL);
    m = minute(30, 0.5, 1000, 2);
    conf_observe(&t, &m);
    assert_int_equal(conf_resolved_count(&t), 1);
    assert_int_equal(t.pending_count, 0);
}

static void without_requests_cpu_alone(void **state)
{
    (void)state;
    conf_init(&t, -1);
    for (int i = 1; i <= 10; i++) {
        forecast(i, 0.6, 0, 2);
        struct ae_minute m = minute(i, 0.5, 0, 2);
        m.missing |= AE_FEATURE_BIT(AE_F_INVOCATIONS);
        conf_observe(&t, &m);
    }
    /* cpu WAPE 0.2 alone, not averaged with a perfect-looking 0 */
    assert_float_equal(conf_confidence(&t), 0.8, 1e-6);
}

static void zero_actual_rule(void **state)
{
    (void)state;
    conf_init(&t, -1);
    for (int i = 1; i <= 10; i++) {
        forecast(i, 0.5, 5, 2); /* 5 requests predicted, none came */
        struct ae_minute m = minute(i, 0.5, 0, 2);
        conf_observe(&t, &m);
    }
    double wc, wi;
    conf_wape(&t, &wc, &wi);
    assert_float_equal(wc, 0, 1e-6);
    assert_float_equal(wi, 1, 0);
    assert_float_equal(conf_confidence(&t), 0.5, 1e-6);
}

static void skill_against_persistence(void **state)
{
    (void)state;
    conf_init(&t, -1);
    /* actual alternates 1000/2000 requests; persistence is always off by 1000, the model by 100 */
    for (int i = 1; i <= 20; i++) {
        double actual = i % 2 ? 2000 : 1000, previous = i % 2 ? 1000 : 2000;
        float f[AE_FEATURE_COUNT] = {0};
        f[AE_F_CPU_USAGE] = 0.5f;
        f[AE_F_INVOCATIONS] = (float)(actual + 100);
        struct ae_minute last = minute(i - 1, 0.5, previous, 2);
        conf_record(&t, i * MIN, f, 1, 2, &last);
        struct ae_minute m = minute(i, 0.5, actual, 2);
        conf_observe(&t, &m);
    }
    /* model: cpu 0, inv 100/1500; persistence: cpu 0, inv 1000/1500 -> 1 - 0.0333/0.3333 */
    assert_float_equal(conf_skill(&t), 0.9, 1e-6);
}

/* A one-minute forecast of pred requests for minute i, which then had actual requests. */
static void demand_step(int i, double pred, double actual)
{
    forecast(i, 0.5, pred, 2);
    struct ae_minute m = minute(i, 0.5, actual, 2);
    conf_observe(&t, &m);
}

static void demand_headroom_is_a_quantile_of_shortfalls(void **state)
{
    (void)state;
    conf_init(&t, 0.1);
    assert_float_equal(conf_demand_headroom(&t, 0.95), 0, 0); /* none resolved */
    /* shortfalls 10, 20, ..., 200 requests, resolved in a scrambled order */
    for (int k = 0; k < 20; k++) {
        int s = 1 + (k * 7) % 20;
        demand_step(k + 1, 1000 - 10 * s, 1000);
    }
    assert_int_equal(t.shortfall_total, 20);
    /* the smallest value with at least a fraction q of the 20 at or below it */
    assert_float_equal(conf_demand_headroom(&t, 0.95), 190, 1e-9); /* 19 of 20 */
    assert_float_equal(conf_demand_headroom(&t, 0.951), 200, 1e-9);
    assert_float_equal(conf_demand_headroom(&t, 0.5), 100, 1e-9);
    assert_float_equal(conf_demand_headroom(&t, 0.51), 110, 1e-9);
    assert_float_equal(conf_demand_headroom(&t, 1), 200, 1e-9);
    assert_float_equal(conf_demand_headroom(&t, 0), 10, 1e-9);
}

static void over_forecasts_give_no_headroom(void **state)
{
    (void)state;
    conf_init(&t, 0.1);
    for (int i = 1; i <= 19; i++)
        demand_step(i, 1000 + 10 * i, 1000);                  /* shortfalls -10 .. -190 */
    demand_step(20, 1000, 1300);                              /* one under-forecast by 300 */
    assert_float_equal(t.shortfall[0], -10, 1e-9);            /* kept as they are ... */
    assert_float_equal(conf_demand_headroom(&t, 0.95), 0, 0); /* ... but never below 0 */
    assert_float_equal(conf_demand_headroom(&t, 1), 300, 1e-9);
    /* a forecast without requests to compare adds no shortfall */
    forecast(21, 0.5, 1000, 2);
    struct ae_minute m = minute(21, 0.5, 0, 2);
    m.missing |= AE_FEATURE_BIT(AE_F_INVOCATIONS);
    conf_observe(&t, &m);
    assert_int_equal(conf_resolved_count(&t), 21);
    assert_int_equal(t.shortfall_total, 20);
}

static void shortfall_is_the_worst_minute_of_a_forecast(void **state)
{
    (void)state;
    conf_init(&t, -1);
    float f[3 * AE_FEATURE_COUNT];
    three_flat_minutes(f);
    conf_record(&t, 10 * MIN, f, 3, 2, NULL);
    const double actual[3] = {500, 1300, 1100}; /* -500, +300, +100 */
    for (int h = 0; h < 3; h++) {
        struct ae_minute m = minute(10 + h, 0.5, actual[h], 2);
        conf_observe(&t, &m);
    }
    assert_int_equal(t.shortfall_total, 1);
    assert_float_equal(t.shortfall[0], 300, 1e-9);
    assert_float_equal(conf_demand_headroom(&t, 0.95), 300, 1e-9);
    /* every minute over-forecast: the least negative one, and no headroom */
    conf_record(&t, 13 * MIN, f, 3, 2, NULL);
    const double lower[3] = {900, 800, 950}; /* -100, -200, -50 */
    for (int h = 0; h < 3; h++) {
        struct ae_minute m = minute(13 + h, 0.5, lower[h], 2);
        conf_observe(&t, &m);
    }
    assert_int_equal(t.shortfall_total, 2);
    assert_float_equal(t.shortfall[1], -50, 1e-9);
    assert_float_equal(conf_demand_headroom(&t, 0.5), 0, 0);
}

static void shortfall_ring_keeps_the_last_240(void **state)
{
    (void)state;
    conf_init(&t, 0.1);
    demand_step(1, 0, 1000); /* the oldest: 1000 short */
    for (int i = 2; i <= CONF_SHORTFALL_WINDOW; i++)
        demand_step(i, 1000, 1005); /* 5 short */
    assert_int_equal(CONF_SHORTFALL_WINDOW, 240);
    assert_float_equal(conf_demand_headroom(&t, 1), 1000, 1e-9);
    /* 239 of 240 at or below 5: the 0.995-quantile is 5, above that the 1000 */
    assert_float_equal(conf_demand_headroom(&t, 0.995), 5, 1e-9);
    assert_float_equal(conf_demand_headroom(&t, 0.996), 1000, 1e-9);
    demand_step(CONF_SHORTFALL_WINDOW + 1, 1000, 1005); /* the 241st evicts the oldest */
    assert_int_equal(t.shortfall_total, 241);
    assert_float_equal(conf_demand_headroom(&t, 1), 5, 1e-9);
    demand_step(CONF_SHORTFALL_WINDOW + 2, 1000, 1100); /* and the next the second oldest */
    assert_float_equal(conf_demand_headroom(&t, 1), 100, 1e-9);
    assert_float_equal(conf_demand_headroom(&t, 0.995), 5, 1e-9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(falls_back_to_val_wape),
        cmocka_unit_test(falls_after_bad_and_recovers_after_good),
        cmocka_unit_test(scaling_during_forecast_is_not_error),
        cmocka_unit_test(horizon_resolves_when_all_minutes_arrived),
        cmocka_unit_test(without_requests_cpu_alone),
        cmocka_unit_test(zero_actual_rule),
        cmocka_unit_test(skill_against_persistence),
        cmocka_unit_test(demand_headroom_is_a_quantile_of_shortfalls),
        cmocka_unit_test(over_forecasts_give_no_headroom),
        cmocka_unit_test(shortfall_is_the_worst_minute_of_a_forecast),
        cmocka_unit_test(shortfall_ring_keeps_the_last_240),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
