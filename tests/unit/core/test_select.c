/* Forecaster selection (select.h) against values worked by hand: the per-step error scaled by
 * persistence's, the score, the under-forecast weight, the peak scores, the cold start, the
 * margin, the dwell and the fallback when the active candidate cannot forecast, under the step
 * score and the peak-quantile score. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>
#include <cmocka.h>

#include "aether/select.h"

#define MIN 60000LL
#define T0 (1000 * MIN)

static int all[SEL_CANDIDATES] = {1, 1, 1, 1, 1, 1};

/* The default constants under the score kind `score`, all of a horizon of `steps` scored. */
static void start_scored(struct sel *s, int steps, int score)
{
    struct sel_params p;
    sel_params_defaults(&p);
    p.steps = 0;
    p.score = score;
    sel_init(s, &p, steps, FCR_PERSISTENCE, T0);
}

static void start(struct sel *s, int steps)
{
    start_scored(s, steps, SEL_SCORE_STEP);
}

static void errors_scaled_by_persistence_at_each_step(void **state)
{
    (void)state;
    struct sel s;
    start(&s, 2);
    sel_observe(&s, T0, 10);
    sel_observe(&s, T0 + MIN, 12);
    /* made in minute 2 after minute 1 closed: minute 2 is step 1, minute 3 step 2 */
    sel_record(&s, FCR_DRIFT, T0 + 2 * MIN, (const float[]){14, 16}, 2);
    sel_record(&s, FCR_LINEAR, T0 + 2 * MIN, (const float[]){13, 13}, 2);
    int n;
    assert_true(isnan(sel_error(&s, FCR_DRIFT, 1, &n)));
    assert_int_equal(n, 0);
    sel_observe(&s, T0 + 2 * MIN, 15);
    /* step 1: drift |14 - 15| = 1, linear 2; persistence (minute 1) |12 - 15| = 3 */
    assert_float_equal(sel_error(&s, FCR_DRIFT, 1, &n), 1.0 / 3, 1e-9);
    assert_int_equal(n, 1);
    assert_float_equal(sel_error(&s, FCR_LINEAR, 1, NULL), 2.0 / 3, 1e-9);
    assert_true(isnan(sel_error(&s, FCR_DRIFT, 2, &n)));
    sel_observe(&s, T0 + 3 * MIN, 18);
    /* step 2 of minute 3: drift |16 - 18| = 2, linear 5; persistence (minute 1) |12 - 18| = 6 */
    assert_float_equal(sel_error(&s, FCR_DRIFT, 2, &n), 2.0 / 6, 1e-9);
    assert_int_equal(n, 1);
    assert_float_equal(sel_error(&s, FCR_LINEAR, 2, NULL), 5.0 / 6, 1e-9);
    assert_float_equal(sel_mae(&s, FCR_LINEAR, 2), 5, 1e-6);
    assert_float_equal(sel_mae(&s, FCR_DRIFT, 1), 1, 1e-6);
    /* a step beyond S, a candidate without forecasts */
    assert_true(isnan(sel_error(&s, FCR_DRIFT, 3, &n)));
    assert_true(isnan(sel_error(&s, FCR_MODEL, 1, &n)));
    /* not scored before min_samples (10) at every step */
    assert_true(isnan(sel_score(&s, FCR_DRIFT)));
    /* a minute whose persistence base is missing is not scored; a repeated minute is ignored */
    sel_record(&s, FCR_DRIFT, T0 + 5 * MIN, (const float[]){20, 20}, 2);
    sel_observe(&s, T0 + 5 * MIN, 20); /* minute 4 never came */
    assert_int_equal(s.ring[FCR_DRIFT][0].count, 1);
    sel_observe(&s, T0 + 5 * MIN, 99);
    assert_int_equal(s.ring[FCR_DRIFT][1].count, 1);
}

/* One evaluation in minute m of a ramp of 10 per minute (persistence's step-1 error is 10):
 * minute m - 1 closes, then every candidate of err[] (NAN = none) forecasts minute m off by
 * err[c], then the choice. */
static int evaluate(struct sel *s, int m, const double *err, const int *available)
{
    sel_observe(s, T0 + (m - 1) * MIN, 10.0 * (m - 1));
    for (int c = 0; c < SEL_CANDIDATES; c++)
        if (!isnan(err[c])) {
            float v = (float)(10.0 * m + err[c]);
            sel_record(s, c, T0 + m * MIN, &v, 1);
        }
    return sel_choose(s, available, T0 + m * MIN);
}

/* On the ramp persistence under-forecasts by 10 and the candidates below over-forecast: under
 * the step score a candidate off by e scores e / 10; under peak-quantile (tau 0.65, one step: the
 * peak is the step) (1 - 0.65) e / (0.65 x 10), the step score x k with k = 0.35 / 0.65, so the
 * same sequence of choices must follow with every score multiplied by k. */
static void cold_start_margin_dwell_fallback(int score, double k)
{
    struct sel s;
    start_scored(&s, 1, score);
    /* no model yet; drift off by 5 (score 0.5), linear by 3 (0.3), the others as persistence */
    int no_model[SEL_CANDIDATES] = {0, 1, 1, 1, 1, 1};
    double err[SEL_CANDIDATES] = {NAN, -10, 5, -10, -10, 3};
    int m = 1;
    for (; m <= s.p.min_samples; m++) { /* 10 resolved after the evaluation in minute 11 */
        assert_int_equal(evaluate(&s, m, err, no_model), FCR_PERSISTENCE);
        assert_non_null(strstr(s.why, "cold start"));
    }
    assert_int_equal(evaluate(&s, m++, err, no_model), FCR_LINEAR); /* at once: no dwell yet */
    assert_float_equal(sel_score(&s, FCR_LINEAR), 0.3 * k, 1e-4);
    assert_float_equal(sel_score(&s, FCR_DRIFT), 0.5 * k, 1e-4);
    assert_float_equal(sel_score(&s, FCR_PERSISTENCE), 1.0, 1e-4);
    assert_int_equal(s.switches, 1);
    assert_non_null(strstr(s.why, "linear"));
    int64_t since = s.active_since_ms;
    assert_int_equal(since, T0 + (m - 1) * MIN);

    /* the model arrives with an error of 2.8: 0.28 is not below 0.3 x 0.9 = 0.27 */
    err[FCR_MODEL] = 2.8;
    for (int k = 0; k < s.p.min_samples + 5; k++, m++)
        assert_int_equal(evaluate(&s, m, err, all), FCR_LINEAR);
    assert_float_equal(sel_score(&s, FCR_MODEL), 0.28 * k, 1e-4);
    assert_non_null(strstr(s.why, "within the margin"));

    /* the model's errors fall to 1: once its window's mean is below 0.27 it beats linear, but
     * linear has driven for less than the dwell since it won */
    err[FCR_MODEL] = 1;
    int held = 0;
    while (evaluate(&s, m, err, all) == FCR_LINEAR) {
        if (strstr(s.why, "drives for"))
            held++;
        m++;
        assert_true(m < 200);
    }
    assert_true(held > 0);
    assert_true(T0 + m * MIN - since >= s.p.dwell_ms);
    assert_true(T0 + (m - 1) * MIN - since < s.p.dwell_ms);
    assert_int_equal(s.p.dwell_ms, 30 * MIN);
    assert_int_equal(s.active, FCR_MODEL);
    assert_int_equal(s.switches, 2);
    assert_true(sel_score(&s, FCR_MODEL) < 0.27 * k);

    /* the model cannot forecast (inference failed): the best scored available takes over at once,
     * and the model comes back only by beating it after the dwell */
    int model_down[SEL_CANDIDATES] = {0, 1, 1, 1, 1, 1};
    m++;
    assert_int_equal(evaluate(&s, m++, err, model_down), FCR_LINEAR);
    assert_non_null(strstr(s.why, "cannot forecast"));
    assert_int_equal(s.switches, 3);
    assert_int_equal(evaluate(&s, m++, err, all), FCR_LINEAR);
    assert_non_null(strstr(s.why, "drives for"));
}

static void cold_start_then_lowest_error_with_margin_and_dwell(void **state)
{
    (void)state;
    cold_start_margin_dwell_fallback(SEL_SCORE_STEP, 1);
}

static void cold_start_margin_and_dwell_under_the_peak_quantile_score(void **state)
{
    (void)state;
    cold_start_margin_dwell_fallback(SEL_SCORE_PEAK_QUANTILE, 0.35 / 0.65);
}

static void a_flat_series_keeps_persistence(void **state)
{
    (void)state;
    /* constant demand: persistence is exact, a candidate off by 1 scores about 1e9, one that is
     * exact too scores 1 (the epsilon keeps 0/0 finite) */
    struct sel s;
    start(&s, 1);
    for (int m = 1; m <= 30; m++) {
        sel_observe(&s, T0 + (m - 1) * MIN, 100);
        sel_record(&s, FCR_PERSISTENCE, T0 + m * MIN, (const float[]){100}, 1);
        sel_record(&s, FCR_DRIFT, T0 + m * MIN, (const float[]){100}, 1);
        sel_record(&s, FCR_LINEAR, T0 + m * MIN, (const float[]){101}, 1);
        int only[SEL_CANDIDATES] = {0, 1, 1, 0, 0, 1};
        assert_int_equal(sel_choose(&s, only, T0 + m * MIN), FCR_PERSISTENCE);
    }
    assert_float_equal(sel_score(&s, FCR_DRIFT), 1, 1e-12);
    assert_true(sel_score(&s, FCR_LINEAR) > 1e6);
}

/* Steps 1, 4 samples, margin 0, dwell 0, under-forecasts weighing w. Demand 10, 20, 10, 20, 10 in
 * minutes 0..4: persistence misses minutes 1..4 by -10, +10, -10, +10 (predicted - actual). Drift
 * misses them by -2, +1, -2, +1 (small, mostly under), linear by +3, -1, +3, -1 (larger, mostly
 * over).
 *   w = 1: persistence 40; drift (2 + 1 + 2 + 1) / 40 = 0.15, linear (3 + 1 + 3 + 1) / 40 = 0.2:
 *          drift wins.
 *   w = 3: persistence 3 x 10 + 10 + 3 x 10 + 10 = 80; drift (6 + 1 + 6 + 1) / 80 = 0.175,
 *          linear (3 + 3 + 3 + 3) / 80 = 0.15: linear wins.
 * The mean absolute error does not depend on w: drift 1.5, linear 2. */
static void underforecast_weight_changes_the_winner(void **state)
{
    (void)state;
    const double demand[] = {10, 20, 10, 20, 10};
    const float drift[] = {18, 11, 18, 11}, linear[] = {23, 9, 23, 9}; /* minutes 1..4 */
    const struct {
        double w, drift, linear;
        int winner;
    } want[] = {{1, 0.15, 0.2, FCR_DRIFT}, {3, 0.175, 0.15, FCR_LINEAR}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        struct sel_params p = {.steps = 1,
                               .window = 60,
                               .min_samples = 4,
                               .margin = 0,
                               .dwell_ms = 0,
                               .underforecast_weight = want[i].w};
        struct sel s;
        sel_init(&s, &p, 1, FCR_PERSISTENCE, T0);
        assert_float_equal(s.p.underforecast_weight, want[i].w, 1e-12);
        sel_observe(&s, T0, demand[0]);
        for (int m = 1; m <= 4; m++) {
            sel_record(&s, FCR_DRIFT, T0 + m * MIN, &drift[m - 1], 1);
            sel_record(&s, FCR_LINEAR, T0 + m * MIN, &linear[m - 1], 1);
            sel_observe(&s, T0 + m * MIN, demand[m]);
        }
        assert_float_equal(sel_score(&s, FCR_DRIFT), want[i].drift, 1e-9);
        assert_float_equal(sel_score(&s, FCR_LINEAR), want[i].linear, 1e-9);
        assert_float_equal(sel_mae(&s, FCR_DRIFT, 1), 1.5, 1e-6);
        assert_float_equal(sel_mae(&s, FCR_LINEAR, 1), 2, 1e-6);
        int only[SEL_CANDIDATES] = {0, 1, 1, 0, 0, 1};
        assert_int_equal(sel_choose(&s, only, T0 + 5 * MIN), want[i].winner);
        assert_int_equal(s.switches, 1);
    }
}

/* Each score kind's scores of drift and linear and the winner between them. */
struct want {
    int score;
    double drift, linear;
    int winner;
};

/* All `steps` scored under kind `score` (peak-quantile at 0.65), 4 samples, margin 0, dwell 0. */
static void start_kind(struct sel *s, int steps, int score)
{
    struct sel_params p = {
        .steps = steps, .window = 60, .min_samples = 4, .score = score, .peak_quantile = 0.65};
    sel_init(s, &p, steps, FCR_PERSISTENCE, T0);
}

/* Steps 1..2 of a ramp of 10 per minute (actual(m) = 10 m), 4 forecasts, margin 0, dwell 0. A
 * forecast made for minutes f, f + 1: persistence repeats minute f - 1, 10 f - 10: it misses the
 * steps by -10 and -20 and the peak (10 f + 10) by -20.
 *   drift  forecasts 10 f - 5, 10 f + 5: steps -5, -5; peak 10 f + 5: -5.
 *   linear forecasts 10 f + 1, 10 f + 1: steps +1, -9; peak 10 f + 1: -9.
 * step: drift (5/10 + 5/20) / 2 = 0.375, linear (1/10 + 9/20) / 2 = 0.275: linear wins.
 * peak-quantile, tau 0.65 (an under-forecast of the peak by d costs 0.65 d): persistence 13,
 *   drift 3.25 / 13 = 0.25, linear 5.85 / 13 = 0.45: drift wins. */
static void the_peak_quantile_score_picks_the_better_peak(void **state)
{
    (void)state;
    const struct want want[] = {{SEL_SCORE_STEP, 0.375, 0.275, FCR_LINEAR},
                                {SEL_SCORE_PEAK_QUANTILE, 0.25, 0.45, FCR_DRIFT}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        struct sel s;
        start_kind(&s, 2, want[i].score);
        int only[SEL_CANDIDATES] = {0, 1, 1, 0, 0, 1};
        sel_observe(&s, T0, 0);
        for (int f = 1; f <= 5; f++) { /* forecasts for minutes 1..5; 1..4 resolve both steps */
            const float drift[] = {10.0f * f - 5, 10.0f * f + 5};
            const float linear[] = {10.0f * f + 1, 10.0f * f + 1};
            sel_record(&s, FCR_DRIFT, T0 + f * MIN, drift, 2);
            sel_record(&s, FCR_LINEAR, T0 + f * MIN, linear, 2);
            sel_observe(&s, T0 + f * MIN, 10.0 * f);
        }
        int n;
        /* under "step" the peak error reported is "peak"'s: the headroom covers a constant miss,
         * drift's and persistence's alike: (0 + 1e-9) / (0 + 1e-9) */
        assert_float_equal(sel_peak_error(&s, FCR_DRIFT, &n),
                           want[i].score == SEL_SCORE_STEP ? 1 : 0.25, 1e-6);
        assert_int_equal(n, 4);
        assert_int_equal(s.peak[FCR_DRIFT].count, 4); /* each forecast once, at its last step */
        assert_float_equal(sel_score(&s, FCR_DRIFT), want[i].drift, 1e-6);
        assert_float_equal(sel_score(&s, FCR_LINEAR), want[i].linear, 1e-6);
        /* a peak short by 5 and 9 in every forecast: the headroom each would need */
        assert_float_equal(sel_peak_headroom(&s, FCR_DRIFT), 5, 1e-6);
        assert_float_equal(sel_peak_headroom(&s, FCR_LINEAR), 9, 1e-6);
        assert_int_equal(sel_choose(&s, only, T0 + 6 * MIN), want[i].winner);
    }
}

/* The "peak" score: sizing with the candidate's own headroom H (the 0.95-quantile of its peak
 * shortfalls; of 4, the largest) over-provisions m + H, m = predicted - actual peak; 19 x any
 * miss. Steps 1, demand 10, 20, 10, 20, 10 in minutes 0..4, misses of minutes 1..4:
 *   persistence -10, +10, -10, +10: H 10, over 0, 20, 0, 20: cost 10.
 *   drift       -2, +1, -2, +1:     H 2,  over 0, 3, 0, 3:   cost 1.5 -> 0.15.
 *   linear      -6, -6, -6, -6:     H 6,  over 0, 0, 0, 0:   cost 0 -> 1e-9 / 10: a constant
 *                                   under-forecast costs nothing once the headroom covers it.
 * The step score picks drift (6 / 40 = 0.15 against linear's 24 / 40 = 0.6); "peak" linear;
 * peak-quantile at 0.65 drift (persistence mean loss 5, drift 0.825 / 5 = 0.165, linear 3.9 / 5
 * = 0.78). */
static void the_peak_score_forgives_a_bias_the_headroom_covers(void **state)
{
    (void)state;
    const double demand[] = {10, 20, 10, 20, 10};
    const float drift[] = {18, 11, 18, 11}, linear[] = {14, 4, 14, 4}; /* minutes 1..4 */
    const struct want want[] = {{SEL_SCORE_STEP, 0.15, 0.6, FCR_DRIFT},
                                {SEL_SCORE_PEAK, 0.15, 1e-10, FCR_LINEAR},
                                {SEL_SCORE_PEAK_QUANTILE, 0.165, 0.78, FCR_DRIFT}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        struct sel s;
        start_kind(&s, 1, want[i].score);
        sel_observe(&s, T0, demand[0]);
        for (int m = 1; m <= 4; m++) {
            sel_record(&s, FCR_DRIFT, T0 + m * MIN, &drift[m - 1], 1);
            sel_record(&s, FCR_LINEAR, T0 + m * MIN, &linear[m - 1], 1);
            if (m == 3) /* not scored before min_samples (4) forecasts have resolved */
                assert_true(isnan(sel_score(&s, FCR_DRIFT)));
            sel_observe(&s, T0 + m * MIN, demand[m]);
        }
        assert_float_equal(sel_score(&s, FCR_DRIFT), want[i].drift, 1e-6);
        assert_float_equal(sel_score(&s, FCR_LINEAR), want[i].linear, 1e-6);
        assert_float_equal(sel_peak_headroom(&s, FCR_LINEAR), 6, 1e-6);
        assert_float_equal(sel_peak_headroom(&s, FCR_DRIFT), 2, 1e-6);
        int only[SEL_CANDIDATES] = {0, 1, 1, 0, 0, 1};
        assert_int_equal(sel_choose(&s, only, T0 + 5 * MIN), want[i].winner);
    }
}

/* A forecast whose last step never arrives resolves at the next minute on the minutes it has;
 * without persistence's minute it is not scored. */
static void a_peak_resolves_over_the_minutes_that_came(void **state)
{
    (void)state;
    struct sel_params p = {.steps = 2,
                           .window = 60,
                           .min_samples = 1,
                           .score = SEL_SCORE_PEAK_QUANTILE,
                           .peak_quantile = 0.5};
    struct sel s;
    sel_init(&s, &p, 2, FCR_PERSISTENCE, T0);
    sel_observe(&s, T0, 10);
    sel_record(&s, FCR_DRIFT, T0 + MIN, (const float[]){12, 30}, 2);
    sel_record(&s, FCR_LINEAR, T0 + 5 * MIN, (const float[]){12, 30}, 2); /* minute 4 missing */
    sel_observe(&s, T0 + MIN, 20);
    assert_int_equal(s.peak[FCR_DRIFT].count, 0);
    sel_observe(&s, T0 + 3 * MIN, 99); /* minute 2 never came: the peak is minute 1's 20 */
    assert_int_equal(s.peak[FCR_DRIFT].count, 1);
    /* drift's peak 30 over by 10, persistence's (10) under by 10: 0.5 x 10 each */
    assert_float_equal(sel_score(&s, FCR_DRIFT), 1, 1e-6);
    sel_observe(&s, T0 + 6 * MIN, 50);
    assert_int_equal(s.peak[FCR_LINEAR].count, 0);
    assert_true(isnan(sel_score(&s, FCR_LINEAR)));
}

static void nothing_available(void **state)
{
    (void)state;
    struct sel s;
    start(&s, 1);
    int none[SEL_CANDIDATES] = {0};
    assert_int_equal(sel_choose(&s, none, T0), -1);
    int model_only[SEL_CANDIDATES] = {1, 0, 0, 0, 0, 0};
    assert_int_equal(sel_choose(&s, model_only, T0), FCR_MODEL);
    assert_non_null(strstr(s.why, "nothing is scored"));
}

static void defaults_and_clamping(void **state)
{
    (void)state;
    struct sel_params p;
    sel_params_defaults(&p);
    assert_int_equal(p.steps, 3);
    assert_int_equal(p.window, 60);
    assert_int_equal(p.min_samples, 10);
    assert_float_equal(p.margin, 0.10, 1e-12);
    assert_int_equal(p.dwell_ms, 30 * MIN);
    assert_float_equal(p.underforecast_weight, 1, 1e-12);
    assert_int_equal(p.score, SEL_SCORE_PEAK_QUANTILE);
    assert_float_equal(p.peak_quantile, 0.65, 1e-12);
    assert_string_equal(sel_score_names[p.score], "peak-quantile");
    struct sel s;
    sel_init(&s, &p, 5, FCR_PERSISTENCE, T0);
    assert_int_equal(s.p.steps, 3); /* scored up to the start-up delay, not the whole horizon */
    sel_init(&s, &p, 2, FCR_PERSISTENCE, T0);
    assert_int_equal(s.p.steps, 2); /* never beyond the horizon */
    p = (struct sel_params){.steps = 0,
                            .window = 99,
                            .min_samples = 80,
                            .margin = 0.9,
                            .dwell_ms = -1,
                            .underforecast_weight = 20,
                            .score = SEL_SCORE_COUNT,
                            .peak_quantile = 2};
    sel_init(&s, &p, 4, FCR_PERSISTENCE, T0);
    assert_int_equal(s.p.steps, 4); /* 0: the horizon */
    assert_int_equal(s.p.window, SEL_WINDOW_MAX);
    assert_int_equal(s.p.min_samples, SEL_WINDOW_MAX);
    assert_float_equal(s.p.margin, 0.5, 1e-12);
    assert_int_equal(s.p.dwell_ms, 0);
    assert_float_equal(s.p.underforecast_weight, SEL_UNDERFORECAST_WEIGHT_MAX, 1e-12);
    assert_int_equal(s.p.score, SEL_SCORE_STEP); /* an unknown kind: the step score */
    assert_float_equal(s.p.peak_quantile, SEL_PEAK_QUANTILE_MAX, 1e-12);
    p.underforecast_weight = 0.5; /* below 1 (or unset): symmetric */
    p.peak_quantile = 0.1;
    sel_init(&s, &p, 4, FCR_PERSISTENCE, T0);
    assert_float_equal(s.p.underforecast_weight, 1, 1e-12);
    assert_float_equal(s.p.peak_quantile, SEL_PEAK_QUANTILE_MIN, 1e-12);
    p.peak_quantile = 0; /* unset: the default */
    sel_init(&s, &p, 4, FCR_PERSISTENCE, T0);
    assert_float_equal(s.p.peak_quantile, SEL_PEAK_QUANTILE_DEFAULT, 1e-12);
}

/* steps 1 of a horizon of 2: step 2 is neither kept nor scored; a window of 3 minutes keeps the
 * last 3; 2 samples score. */
static void configured_steps_and_window(void **state)
{
    (void)state;
    struct sel_params p = {.steps = 1, .window = 3, .min_samples = 2, .margin = 0, .dwell_ms = 0};
    struct sel s;
    sel_init(&s, &p, 2, FCR_PERSISTENCE, T0);
    /* a ramp of 10 per minute; drift forecasts step 1 off by e1[m], step 2 far off (unscored) */
    const double e1[] = {0, 5, 5, 2, 1, 1}; /* e1[m]: minute m */
    for (int m = 1; m <= 5; m++) {
        sel_observe(&s, T0 + (m - 1) * MIN, 10.0 * (m - 1));
        float v[2] = {(float)(10.0 * m + e1[m]), (float)(10.0 * (m + 1) + 500)};
        sel_record(&s, FCR_DRIFT, T0 + m * MIN, v, 2);
        sel_choose(&s, all, T0 + m * MIN);
    }
    sel_observe(&s, T0 + 5 * MIN, 50);
    int n;
    assert_true(isnan(sel_error(&s, FCR_DRIFT, 2, &n)));
    /* minutes 1..5 resolved at step 1 with errors 5, 5, 2, 1, 1 (persistence's 10 each); the
     * window keeps the last 3: (2 + 1 + 1) / 30 */
    assert_float_equal(sel_error(&s, FCR_DRIFT, 1, &n), 4.0 / 30, 1e-6);
    assert_int_equal(n, 3);
    assert_float_equal(sel_score(&s, FCR_DRIFT), 4.0 / 30, 1e-6);
    assert_int_equal(sel_choose(&s, all, T0 + 6 * MIN), FCR_DRIFT);
    /* scored once minute 2 resolved (2 samples: 10 / 20 = 0.5) while the active persistence
     * is not scored: drift took over at the evaluation in minute 3 */
    assert_int_equal(s.switches, 1);
    assert_int_equal(s.active_since_ms, T0 + 3 * MIN);
}

/* margin 0.5, dwell 5 min, 2 samples: linear (score 0.3) wins once scored; a model at 0.14 is
 * below 0.3 x (1 - 0.5) = 0.15 and takes over when linear has driven 5 minutes; one at 0.16
 * never does. With under-forecasts weighing 3 the same holds a third lower: on the ramp
 * persistence under-forecasts (its misses weigh 30) and the candidates over-forecast (theirs
 * weigh 1): linear 0.1, the model 0.14 / 3 below 0.05 or 0.16 / 3 above. */
static void configured_margin_and_dwell(void **state)
{
    (void)state;
    for (int run = 0; run < 4; run++) {
        const int beats = run % 2 == 0;
        const double w = run < 2 ? 1 : 3;
        struct sel_params p = {.steps = 1,
                               .window = 60,
                               .min_samples = 2,
                               .margin = 0.5,
                               .dwell_ms = 5 * MIN,
                               .underforecast_weight = w};
        struct sel s;
        sel_init(&s, &p, 1, FCR_PERSISTENCE, T0);
        double err[SEL_CANDIDATES] = {NAN, NAN, 5, NAN, NAN, 3};
        /* minute 1 resolves in the evaluation of minute 2, minute 2 in that of minute 3 */
        assert_int_equal(evaluate(&s, 1, err, all), FCR_PERSISTENCE);
        assert_int_equal(evaluate(&s, 2, err, all), FCR_PERSISTENCE);
        assert_int_equal(evaluate(&s, 3, err, all), FCR_LINEAR);
        assert_int_equal(s.active_since_ms, T0 + 3 * MIN);
        err[FCR_MODEL] = beats ? 1.4 : 1.6; /* forecasts from minute 4: scored in minute 6 */
        assert_int_equal(evaluate(&s, 4, err, all), FCR_LINEAR);
        assert_int_equal(evaluate(&s, 5, err, all), FCR_LINEAR);
        for (int m = 6; m <= 20; m++) {
            int expect = beats && m >= 8 ? FCR_MODEL : FCR_LINEAR;
            assert_int_equal(evaluate(&s, m, err, all), expect);
            if (beats && m < 8)
                assert_non_null(strstr(s.why, "drives for 5 min"));
            if (!beats)
                assert_non_null(strstr(s.why, "within the margin"));
        }
        assert_float_equal(sel_score(&s, FCR_LINEAR), 0.3 / w, 1e-4);
        assert_float_equal(sel_score(&s, FCR_MODEL), (beats ? 0.14 : 0.16) / w, 1e-4);
        assert_int_equal(s.switches, beats ? 2 : 1);
    }
}

/* margin 0.5, dwell 0, a window of 2 minutes, 2 samples: the margin protects a simple incumbent
 * only. The model at 0.14 needs below linear's 0.3 x 0.5 = 0.15 to take over; once linear
 * scores 0.13, below the model's 0.14 but not below 0.14 x 0.5, linear drives again; linear
 * back at 0.15 is not beaten by the model's 0.14 (it would need below 0.075). */
static void a_simple_candidate_below_the_model_drives(void **state)
{
    (void)state;
    struct sel_params p = {.steps = 1, .window = 2, .min_samples = 2, .margin = 0.5};
    struct sel s;
    sel_init(&s, &p, 1, FCR_PERSISTENCE, T0);
    double err[SEL_CANDIDATES] = {NAN, NAN, NAN, NAN, NAN, 3};
    int m = 1;
    while (evaluate(&s, m, err, all) != FCR_LINEAR && m < 10)
        m++;
    assert_int_equal(s.active, FCR_LINEAR);
    err[FCR_MODEL] = 1.4;
    while (evaluate(&s, ++m, err, all) != FCR_MODEL)
        assert_true(m < 20);
    assert_float_equal(sel_score(&s, FCR_MODEL), 0.14, 1e-4);
    err[FCR_LINEAR] = 1.3;
    while (evaluate(&s, ++m, err, all) != FCR_LINEAR) /* linear 0.3, then 0.22 */
        assert_true(m < 30);
    assert_float_equal(sel_score(&s, FCR_LINEAR), 0.13, 1e-4);
    assert_float_equal(sel_score(&s, FCR_MODEL), 0.14, 1e-4);
    assert_non_null(strstr(s.why, "linear 0.130 below model 0.140"));
    assert_int_equal(s.switches, 3);
    err[FCR_LINEAR] = 1.5;
    for (int k = 0; k < 10; k++)
        assert_int_equal(evaluate(&s, ++m, err, all), FCR_LINEAR);
    assert_float_equal(sel_score(&s, FCR_LINEAR), 0.15, 1e-4);
    assert_non_null(strstr(s.why, "within the margin"));
    assert_int_equal(s.switches, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(errors_scaled_by_persistence_at_each_step),
        cmocka_unit_test(cold_start_then_lowest_error_with_margin_and_dwell),
        cmocka_unit_test(a_flat_series_keeps_persistence),
        cmocka_unit_test(underforecast_weight_changes_the_winner),
        cmocka_unit_test(cold_start_margin_and_dwell_under_the_peak_quantile_score),
        cmocka_unit_test(the_peak_quantile_score_picks_the_better_peak),
        cmocka_unit_test(the_peak_score_forgives_a_bias_the_headroom_covers),
        cmocka_unit_test(a_peak_resolves_over_the_minutes_that_came),
        cmocka_unit_test(nothing_available),
        cmocka_unit_test(defaults_and_clamping),
        cmocka_unit_test(configured_steps_and_window),
        cmocka_unit_test(configured_margin_and_dwell),
        cmocka_unit_test(a_simple_candidate_below_the_model_drives),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
