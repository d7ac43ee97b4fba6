/* Forecasters of one series: persistence, drift, seasonal-naive, linear, periodic and Holt-Winters
 * against values worked by hand; Holt-Winters fitted on a series generated from known parameters
 * recovers them; bad arguments give messages, not crashes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>
#include <cmocka.h>

#include "aether/error.h"
#include "aether/forecaster.h"

#define MIN 60000LL
#define PI 3.14159265358979323846

static fcr *make(enum fcr_kind kind, int season, int drift)
{
    struct fcr_params p;
    fcr_params_defaults(&p);
    if (season)
        p.season_minutes = season;
    if (drift)
        p.drift_minutes = drift;
    char err[128] = "";
    fcr *f = NULL;
    assert_int_equal(fcr_open(kind, &p, &f, err, sizeof err), 0);
    assert_non_null(f);
    return f;
}

static void feed(fcr *f, const double *y, int n)
{
    for (int i = 0; i < n; i++)
        fcr_observe(f, i * MIN, y[i]);
}

static void persistence_repeats_the_last_value(void **state)
{
    (void)state;
    fcr *f = make(FCR_PERSISTENCE, 0, 0);
    double out[3];
    assert_int_equal(fcr_forecast(f, 0, 3, out), AE_EAGAIN);
    feed(f, (double[]){10, 20, 30}, 3);
    assert_int_equal(fcr_forecast(f, 3 * MIN, 3, out), 0);
    for (int k = 0; k < 3; k++)
        assert_float_equal(out[k], 30, 1e-12);
    assert_int_equal(fcr_forecast(f, 2 * MIN, 1, out), AE_EINVAL); /* not after the last */
    assert_int_equal(fcr_forecast(f, 3 * MIN, FCR_MAX_STEPS + 1, out), AE_EINVAL);
    fcr_observe(f, 2 * MIN, 99);  /* history is not rewritten */
    fcr_observe(f, 3 * MIN, NAN); /* a missing minute teaches nothing */
    assert_int_equal(fcr_forecast(f, 3 * MIN, 1, out), 0);
    assert_float_equal(out[0], 30, 1e-12);
    assert_int_equal(fcr_last_minute(f), 2 * MIN);
    fcr_free(f);
}

static void drift_adds_the_slope_of_the_last_k_minutes(void **state)
{
    (void)state;
    fcr *f = make(FCR_DRIFT, 0, 2);
    feed(f, (double[]){10, 20, 30, 50}, 4);
    double out[2];
    assert_int_equal(fcr_forecast(f, 4 * MIN, 2, out), 0);
    assert_float_equal(out[0], 65, 1e-12); /* 50 + 1 x (50 - 20) / 2 */
    assert_float_equal(out[1], 80, 1e-12); /* 50 + 2 x 15 */
    /* step 2 from the last minute when the first asked minute is one later */
    assert_int_equal(fcr_forecast(f, 5 * MIN, 1, out), 0);
    assert_float_equal(out[0], 80, 1e-12);
    fcr_free(f);
    /* without the minute k back: persistence */
    f = make(FCR_DRIFT, 0, 5);
    feed(f, (double[]){10, 20, 30}, 3);
    assert_int_equal(fcr_forecast(f, 3 * MIN, 1, out), 0);
    assert_float_equal(out[0], 30, 1e-12);
    fcr_free(f);
}

static void seasonal_naive_takes_the_same_minute_one_season_ago(void **state)
{
    (void)state;
    fcr *f = make(FCR_SEASONAL_NAIVE, 4, 0);
    feed(f, (double[]){1, 2, 3, 4, 5, 6, 7, 8}, 8);
    double out[5];
    assert_int_equal(fcr_forecast(f, 8 * MIN, 5, out), 0);
    const double want[5] = {5, 6, 7, 8, 5}; /* minutes 8..12 from 4, 5, 6, 7, 4+4 = 8-4 */
    for (int k = 0; k < 5; k++)
        assert_float_equal(out[k], want[k], 1e-12);
    fcr_free(f);
    /* less than a season of history: persistence */
    f = make(FCR_SEASONAL_NAIVE, 4, 0);
    feed(f, (double[]){1, 2}, 2);
    assert_int_equal(fcr_forecast(f, 2 * MIN, 1, out), 0);
    assert_float_equal(out[0], 2, 1e-12);
    fcr_free(f);
}

static void holt_winters_recursion_by_hand(void **state)
{
    (void)state;
    fcr *f = make(FCR_HOLT_WINTERS, 2, 0);
    struct fcr_hw_fit fit = {.alpha = 0.5, .beta = 0.2, .gamma = 0.4, .phi = 0.9, .seasonal = 1};
    assert_int_equal(fcr_hw_fix(f, &fit), 0);
    feed(f, (double[]){10, 14, 12}, 3);
    /* t0: level 10, trend 0, season [0, 0]
     * t1 (slot 1): e = 14 - 10 = 4; level 12; trend 0.5 x 0.2 x 4 = 0.4; s1 = 0.4 x 0.5 x 4 = 0.8
     * t2 (slot 0): e = 12 - (12 + 0.9 x 0.4) = -0.36; level 12 + 0.36 - 0.18 = 12.18;
     *     trend 0.36 + 0.1 x -0.36 = 0.324; s0 = 0.2 x -0.36 = -0.072
     * h1 (slot 1): 12.18 + 0.9 x 0.324 + 0.8 = 13.2716
     * h2 (slot 0): 12.18 + (0.9 + 0.81) x 0.324 - 0.072 = 12.66204 */
    double out[2];
    assert_int_equal(fcr_forecast(f, 3 * MIN, 2, out), 0);
    assert_float_equal(out[0], 13.2716, 1e-9);
    assert_float_equal(out[1], 12.66204, 1e-9);
    /* a gap keeps the phase: minute 5 is slot 1 again, observed as one step */
    fcr_observe(f, 5 * MIN, 13.2716 + 0.0);
    struct fcr_hw_fit got;
    fcr_hw_get_fit(f, &got);
    assert_float_equal(got.alpha, 0.5, 0);
    assert_int_equal(fcr_hw_fix(f, &fit), AE_EINVAL); /* only before the first observation */
    fcr_free(f);
}

/* A reproducible standard normal (xorshift + Box-Muller). */
static uint64_t rng = 88172645463325252ULL;
static double uniform(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return ((double)(rng >> 11) + 0.5) / 9007199254740992.0;
}
static double normal(void)
{
    return sqrt(-2 * log(uniform())) * cos(2 * PI * uniform());
}

static void holt_winters_fit_recovers_known_parameters(void **state)
{
    (void)state;
    const double alpha = 0.3, beta = 0.1, gamma = 0.25, phi = 0.9, sigma = 1.0;
    const int m = 24, n = FCR_HISTORY_MINUTES;
    struct fcr_params p;
    fcr_params_defaults(&p);
    p.season_minutes = m;
    p.refit_minutes = n - FCR_FIT_MIN_MINUTES;
    char err[128];
    fcr *f = NULL;
    assert_int_equal(fcr_open(FCR_HOLT_WINTERS, &p, &f, err, sizeof err), 0);
    assert_non_null(f);
    /* the series of the innovations form of the same model; the fit after the last point
     * (refit_minutes = n - 1 after the first fit at FCR_FIT_MIN_MINUTES) sees all of it */
    double level = 100, trend = 0.5, season[24];
    for (int i = 0; i < m; i++)
        season[i] = 10 * sin(2 * PI * i / m);
    double sse_true = 0;
    for (int t = 0; t < n; t++) {
        double e = sigma * normal();
        double y = level + phi * trend + season[t % m] + e;
        level += phi * trend + alpha * e;
        trend = phi * trend + alpha * beta * e;
        season[t % m] += gamma * (1 - alpha) * e;
        if (t >= 2 * m)
            sse_true += e * e;
        fcr_observe(f, (int64_t)t * MIN, y);
    }
    struct fcr_hw_fit fit;
    fcr_hw_get_fit(f, &fit);
    print_message("fit: alpha %.4f beta %.4f gamma %.4f phi %.4f rmse %.4f (true rmse %.4f) "
                  "points %ld fits %ld\n",
                  fit.alpha, fit.beta, fit.gamma, fit.phi, sqrt(fit.sse / fit.points),
                  sqrt(sse_true / (n - 2 * m)), fit.points, fit.fits);
    assert_int_equal(fit.seasonal, 1);
    assert_int_equal(fit.fits, 2);
    assert_float_equal(fit.alpha, alpha, 0.02);
    assert_float_equal(fit.beta, beta, 0.04);
    assert_float_equal(fit.gamma, gamma, 0.03);
    assert_float_equal(fit.phi, phi, 0.05);
    /* the fitted one-step error is that of the true model, within 3% */
    assert_true(sqrt(fit.sse / fit.points) < 1.03 * sqrt(sse_true / (n - 2 * m)));
    fcr_free(f);
}

static void holt_winters_without_two_seasons_is_not_seasonal(void **state)
{
    (void)state;
    fcr *f = make(FCR_HOLT_WINTERS, 1440, 0);
    for (int t = 0; t < 200; t++)
        fcr_observe(f, (int64_t)t * MIN, 5.0 + 2.0 * t);
    struct fcr_hw_fit fit;
    fcr_hw_get_fit(f, &fit);
    assert_int_equal(fit.seasonal, 0);
    assert_true(fit.fits >= 1);
    double out[3];
    assert_int_equal(fcr_forecast(f, 200 * MIN, 3, out), 0);
    for (int k = 0; k < 3; k++) /* a straight line is continued */
        assert_float_equal(out[k], 5.0 + 2.0 * (200 + k), 0.5);
    fcr_free(f);
}

static void preload_end_fits_at_once(void **state)
{
    (void)state;
    /* two days of a daily square wave, preloaded in bulk: no fit until the preload ends */
    fcr *f = make(FCR_HOLT_WINTERS, 1440, 0);
    for (int t = 0; t < 2 * 1440; t++)
        fcr_preload(f, (int64_t)t * MIN, t % 1440 < 60 ? 200.0 : 100.0);
    struct fcr_hw_fit fit;
    fcr_hw_get_fit(f, &fit);
    assert_int_equal(fit.fits, 0);
    double out[3];
    assert_int_equal(fcr_forecast(f, 2 * 1440 * MIN, 3, out), 0);
    assert_float_equal(out[0], 100.0, 1e-9); /* unfitted: the last value */
    fcr_preload_end(f);
    fcr_hw_get_fit(f, &fit);
    assert_int_equal(fit.fits, 1);
    assert_int_equal(fit.seasonal, 1);
    /* the next day starts with the hour at 200: the fitted season says so */
    assert_int_equal(fcr_forecast(f, 2 * 1440 * MIN, 3, out), 0);
    for (int k = 0; k < 3; k++)
        assert_float_equal(out[k], 200.0, 5.0);
    fcr_preload_end(f); /* nothing waits: no second fit */
    fcr_hw_get_fit(f, &fit);
    assert_int_equal(fit.fits, 1);
    fcr_free(f);
    /* persistence has nothing to fit: the call is harmless */
    f = make(FCR_PERSISTENCE, 0, 0);
    fcr_preload(f, 0, 7.0);
    fcr_preload_end(f);
    assert_int_equal(fcr_forecast(f, MIN, 1, out), 0);
    assert_float_equal(out[0], 7.0, 1e-12);
    fcr_free(f);
}

static void linear_continues_a_line_and_fits_its_window(void **state)
{
    (void)state;
    fcr *f = make(FCR_LINEAR, 0, 0);
    double out[4];
    for (int t = 0; t < 100; t++)
        fcr_observe(f, (int64_t)t * MIN, 3.0 * t + 5);
    assert_int_equal(fcr_forecast(f, 100 * MIN, 4, out), 0);
    for (int k = 0; k < 4; k++)
        assert_float_equal(out[k], 3.0 * (100 + k) + 5, 1e-6);
    assert_true(fcr_linear_points(f) > 0);
    fcr_free(f);
    /* a noisy level: the longest window averages the noise best */
    f = make(FCR_LINEAR, 0, 0);
    rng = 12345;
    for (int t = 0; t < 2000; t++)
        fcr_observe(f, (int64_t)t * MIN, 50 + normal());
    assert_int_equal(fcr_linear_points(f), 60);
    fcr_free(f);
}

/* A spike every 15 minutes (minute t % 15 == 7) of 100 + its cycle number t / 15, 10 between. */
static double spiky(int t)
{
    return t % 15 == 7 ? 100 + t / 15 : 10;
}

static void periodic_forecasts_a_recurring_spike_before_it_comes(void **state)
{
    (void)state;
    fcr *f = make(FCR_PERIODIC, 0, 0);
    double out[18];
    for (int t = 0; t < 59; t++)
        fcr_observe(f, (int64_t)t * MIN, spiky(t));
    assert_int_equal(fcr_period(f), 0); /* no fit before FCR_FIT_MIN_MINUTES: persistence */
    assert_int_equal(fcr_forecast(f, 59 * MIN, 1, out), 0);
    assert_float_equal(out[0], spiky(58), 1e-12);
    for (int t = 59; t < 200; t++)
        if (t != 187) /* one spike missing */
            fcr_observe(f, (int64_t)t * MIN, spiky(t));
    assert_int_equal(fcr_period(f), 15);
    /* last minute 199; steps 1, 2: minutes 200, 201 from 185, 170, 155 and 186, 171, 156 */
    assert_int_equal(fcr_forecast(f, 200 * MIN, 18, out), 0);
    assert_float_equal(out[0], 10, 1e-12);
    assert_float_equal(out[1], 10, 1e-12);
    /* step 3, minute 202: the spikes of minutes 187 (missing), 172 and 157 = 111 and 110 */
    assert_float_equal(out[2], 110.5, 1e-12);
    /* step 18, minute 217, beyond one period: from 187 (missing), 172, 157 again */
    assert_float_equal(out[17], 110.5, 1e-12);
    assert_float_equal(out[16], 10, 1e-12);
    /* the newest minute is a spike; step 15 (one period) reads it: 202, 187 (missing), 172 */
    for (int t = 200; t <= 202; t++)
        fcr_observe(f, (int64_t)t * MIN, spiky(t));
    assert_int_equal(fcr_forecast(f, 217 * MIN, 1, out), 0);
    assert_float_equal(out[0], (113 + 111) / 2.0, 1e-12);
    fcr_free(f);
}

static void periodic_is_persistence_without_a_period(void **state)
{
    (void)state;
    fcr *f = make(FCR_PERIODIC, 0, 0);
    double out[4];
    for (int t = 0; t < 300; t++)
        fcr_observe(f, (int64_t)t * MIN, 3.0 * t + 5);
    assert_int_equal(fcr_period(f), 0); /* a line: no cycle mean beats the last value */
    assert_int_equal(fcr_forecast(f, 300 * MIN, 2, out), 0);
    assert_float_equal(out[0], 3.0 * 299 + 5, 1e-12);
    assert_float_equal(out[1], 3.0 * 299 + 5, 1e-12);
    fcr_free(f);
    /* a period longer than a quarter of the history is found once the history is long enough:
       a spike every 20 minutes, refitted every FCR_PERIOD_REFIT_MINUTES */
    f = make(FCR_PERIODIC, 0, 0);
    for (int t = 0; t < 119; t++)
        fcr_observe(f, (int64_t)t * MIN, t % 20 == 3 ? 90 : 10);
    assert_int_not_equal(fcr_period(f), 20); /* fitted at 60 minutes: periods up to 15 */
    fcr_observe(f, 119 * MIN, 10);
    assert_int_equal(fcr_period(f), 20); /* refitted at 120: up to 30 */
    assert_int_equal(fcr_forecast(f, 120 * MIN, 4, out), 0);
    assert_float_equal(out[0], 10, 1e-12); /* minute 120 from 100, 80, 60 */
    assert_float_equal(out[3], 90, 1e-12); /* minute 123 from the spikes at 103, 83, 63 */
    fcr_free(f);
}

static void bad_arguments_are_refused_with_a_message(void **state)
{
    (void)state;
    struct fcr_params p;
    fcr_params_defaults(&p);
    char err[128] = "";
    fcr *f = (fcr *)1;
    assert_int_equal(fcr_open(FCR_MODEL, &p, &f, err, sizeof err), AE_EINVAL);
    assert_null(f);
    assert_non_null(strstr(err, "not a series forecaster"));
    p.season_minutes = 1;
    assert_int_equal(fcr_open(FCR_HOLT_WINTERS, &p, &f, err, sizeof err), AE_ERANGE);
    assert_null(f);
    assert_non_null(strstr(err, "season = 1 minutes"));
    assert_int_equal(fcr_kind_parse("holt-winters"), FCR_HOLT_WINTERS);
    assert_int_equal(fcr_kind_parse("seasonal-naive"), FCR_SEASONAL_NAIVE);
    assert_int_equal(fcr_kind_parse("model"), FCR_MODEL);
    assert_int_equal(fcr_kind_parse("periodic"), FCR_PERIODIC);
    assert_int_equal(fcr_kind_parse("arima"), -1);
    assert_int_equal(fcr_kind_parse(NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(persistence_repeats_the_last_value),
        cmocka_unit_test(drift_adds_the_slope_of_the_last_k_minutes),
        cmocka_unit_test(seasonal_naive_takes_the_same_minute_one_season_ago),
        cmocka_unit_test(holt_winters_recursion_by_hand),
        cmocka_unit_test(holt_winters_fit_recovers_known_parameters),
        cmocka_unit_test(holt_winters_without_two_seasons_is_not_seasonal),
        cmocka_unit_test(preload_end_fits_at_once),
        cmocka_unit_test(linear_continues_a_line_and_fits_its_window),
        cmocka_unit_test(periodic_forecasts_a_recurring_spike_before_it_comes),
        cmocka_unit_test(periodic_is_persistence_without_a_period),
        cmocka_unit_test(bad_arguments_are_refused_with_a_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
