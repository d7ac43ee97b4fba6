/* Forecasters of one per-minute series (see forecaster.h): a ring of the last
 * FCR_HISTORY_MINUTES minutes and, per kind, a forecast rule. Holt-Winters, linear and periodic
 * fit their parameters on the ring by least squares of the one-step errors (Holt-Winters with a
 * bounded Nelder-Mead search, linear by trying each window length, periodic each period). Every
 * buffer is allocated in fcr_new; the fit works in those buffers. */
#include "aether/forecaster.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aether/error.h"

#define MINUTE_MS 60000
#define HW_PARAMS 4
#define HW_MAX_EVALS 400
#define PHI_MIN 0.8

const char *const fcr_kind_names[FCR_KIND_COUNT] = {"model",          "persistence",  "drift",
                                                    "seasonal-naive", "holt-winters", "linear",
                                                    "auto",           "periodic"};

/* Window lengths linear chooses from (2 = the two-point slope). */
static const int linear_candidates[] = {2, 3, 5, 10, 15, 30, 60};
#define LINEAR_CANDIDATES ((int)(sizeof linear_candidates / sizeof linear_candidates[0]))

struct hw_state {
    double level, trend;
    double *season; /* season_minutes slots, by absolute minute modulo the season */
};

struct fcr {
    enum fcr_kind kind;
    struct fcr_params p;
    double *ring;        /* FCR_HISTORY_MINUTES values, slot = minute % FCR_HISTORY_MINUTES */
    int64_t first, last; /* absolute minutes of the first value held and the last observed */
    int has;
    long observed;  /* minutes observed with a value */
    long since_fit; /* minutes observed since the last fit */
    int fixed;      /* Holt-Winters parameters fixed by the caller: never refit */
    int stale;      /* preloaded minutes not yet fitted: fit at the next observation */
    /* Holt-Winters */
    struct fcr_hw_fit fit;
    struct hw_state hw;    /* state after the last observed minute (valid when fit.fits > 0) */
    struct hw_state trial; /* scratch for the fit */
    /* linear */
    int linear_n;
    /* periodic */
    int period;       /* 0: persistence */
    long period_fits; /* fits so far */
    double *scratch;  /* PERIOD_SCRATCH values: the minutes the fit reads, oldest first */
};

/* The minutes periodic's fit reads: the scored ones and FCR_PERIOD_CYCLES longest periods
 * before them. */
#define PERIOD_SCRATCH (FCR_PERIOD_FIT_MINUTES + FCR_PERIOD_CYCLES * FCR_PERIOD_MAX)

int fcr_kind_parse(const char *name)
{
    for (int i = 0; name && i < FCR_KIND_COUNT; i++)
        if (strcmp(name, fcr_kind_names[i]) == 0)
            return i;
    return -1;
}

int fcr_is_series(int kind)
{
    return kind > FCR_MODEL && kind < FCR_KIND_COUNT && kind != FCR_AUTO;
}

void fcr_params_defaults(struct fcr_params *p)
{
    p->season_minutes = 1440;
    p->drift_minutes = 5;
    p->refit_minutes = 1440;
    p->damped = 1;
}

int fcr_open(enum fcr_kind kind, const struct fcr_params *p, fcr **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!fcr_is_series((int)kind)) {
        snprintf(err, errlen, "forecaster kind %d is not a series forecaster", (int)kind);
        return AE_EINVAL;
    }
    if (p->season_minutes < 2 || p->season_minutes > FCR_HISTORY_MINUTES / 2) {
        snprintf(err, errlen, "forecaster season = %d minutes is out of range 2..%d",
                 p->season_minutes, FCR_HISTORY_MINUTES / 2);
        return AE_ERANGE;
    }
    if (p->drift_minutes < 1 || p->drift_minutes > 1440 || p->refit_minutes < 1) {
        snprintf(err, errlen,
                 "forecaster drift = %d minutes (1..1440) or refit = %d minutes "
                 "(>= 1) is out of range",
                 p->drift_minutes, p->refit_minutes);
        return AE_ERANGE;
    }
    fcr *f = calloc(1, sizeof *f);
    if (f) {
        f->ring = malloc(FCR_HISTORY_MINUTES * sizeof *f->ring);
        f->hw.season = calloc((size_t)p->season_minutes, sizeof *f->hw.season);
        f->trial.season = calloc((size_t)p->season_minutes, sizeof *f->trial.season);
        if (kind == FCR_PERIODIC)
            f->scratch = malloc(PERIOD_SCRATCH * sizeof *f->scratch);
    }
    if (!f || !f->ring || !f->hw.season || !f->trial.season ||
        (kind == FCR_PERIODIC && !f->scratch)) {
        fcr_free(f);
        snprintf(err, errlen, "forecaster: out of memory");
        return AE_ENOMEM;
    }
    f->kind = kind;
    f->p = *p;
    f->last = INT64_MIN;
    for (int i = 0; i < FCR_HISTORY_MINUTES; i++)
        f->ring[i] = NAN;
    *out = f;
    return 0;
}

void fcr_free(fcr *f)
{
    if (!f)
        return;
    free(f->ring);
    free(f->hw.season);
    free(f->trial.season);
    free(f->scratch);
    free(f);
}

static int64_t pos_mod(int64_t a, int64_t m)
{
    return ((a % m) + m) % m;
}

/* The value of absolute minute m, NAN when missing or no longer held. */
static double at(const fcr *f, int64_t m)
{
    if (!f->has || m > f->last || m < f->first || m <= f->last - FCR_HISTORY_MINUTES)
        return NAN;
    return f->ring[pos_mod(m, FCR_HISTORY_MINUTES)];
}

/* The first minute still held. */
static int64_t held_from(const fcr *f)
{
    int64_t oldest = f->last - FCR_HISTORY_MINUTES + 1;
    return f->first > oldest ? f->first : oldest;
}

/* ---- Holt-Winters: additive damped trend, additive season ----
 * Forecast at step h after minute t: level + (phi + ... + phi^h) trend + season[(t + h) mod m].
 * Update with y at minute t, e = y - (level + phi trend + season[t mod m]):
 *   level' = level + phi trend + alpha e
 *   trend' = phi trend + alpha beta e
 *   season[t mod m] += gamma (1 - alpha) e
 * which is the usual recursion (level' = alpha (y - s) + (1 - alpha)(level + phi trend), ...).
 * Missing minutes change nothing: the next observation is treated as one step, its season slot
 * taken from its absolute minute, so a gap keeps the phase and does not extrapolate the trend. */

struct hw_params {
    double alpha, beta, gamma, phi;
    int seasonal;
};

static double damp_sum(double phi, int h)
{
    double s = 0, p = 1;
    for (int i = 0; i < h; i++) {
        p *= phi;
        s += p;
    }
    return s;
}

/* The recursion's coefficients, as its products are formed: alpha, alpha beta, gamma (1 - alpha)
 * and phi. */
struct hw_coef {
    double alpha, ab, g1, phi;
};

static struct hw_coef hw_coef_of(const struct hw_params *q)
{
    struct hw_coef k = {q->alpha, q->alpha * q->beta, q->gamma * (1 - q->alpha), q->phi};
    return k;
}

/* One update with y of level, trend and slot (the season slot of its minute; NULL without a
 * season); returns the one-step error. Level and trend are passed by address so that a loop
 * over many minutes keeps them in registers. */
static inline double hw_step(const struct hw_coef *k, double *level, double *trend, double *slot,
                             double y)
{
    double pt = k->phi * *trend;
    double sv = slot ? *slot : 0;
    double e = y - (*level + pt + sv);
    *level += pt + k->alpha * e;
    *trend = pt + k->ab * e;
    if (slot)
        *slot = sv + k->g1 * e;
    return e;
}

/* One update at minute t; returns the one-step error. */
static double hw_update(const struct hw_params *q, struct hw_state *s, int m, int64_t t, double y)
{
    struct hw_coef k = hw_coef_of(q);
    return hw_step(&k, &s->level, &s->trend, q->seasonal ? &s->season[pos_mod(t, m)] : NULL, y);
}

/* The updates of minutes from .. f->last (all held), walking the ring and the season slots by
 * index (the fit runs this once per trial: no modulo per minute); returns the sum of squared
 * one-step errors of minutes whose previous minute was observed, their count in *points. */
static double hw_pass(const fcr *f, const struct hw_params *q, struct hw_state *s, int64_t from,
                      long *points)
{
    int m = f->p.season_minutes;
    int ri = (int)pos_mod(from, FCR_HISTORY_MINUTES), si = (int)pos_mod(from, m);
    struct hw_coef k = hw_coef_of(q);
    double level = s->level, trend = s->trend, sse = 0;
    int prev_observed = 1;
    for (int64_t n = f->last - from + 1; n > 0; n--) {
        double y = f->ring[ri];
        if (isnan(y)) {
            prev_observed = 0;
        } else {
            double e = hw_step(&k, &level, &trend, q->seasonal ? &s->season[si] : NULL, y);
            if (prev_observed) {
                sse += e * e;
                (*points)++;
            }
            prev_observed = 1;
        }
        ri = ri + 1 == FCR_HISTORY_MINUTES ? 0 : ri + 1;
        si = si + 1 == m ? 0 : si + 1;
    }
    s->level = level;
    s->trend = trend;
    return sse;
}

/* Mean of the values held in [a, b), NAN when none. */
static double mean_of(const fcr *f, int64_t a, int64_t b)
{
    double sum = 0;
    long n = 0;
    for (int64_t t = a; t < b; t++) {
        double y = at(f, t);
        if (!isnan(y)) {
            sum += y;
            n++;
        }
    }
    return n ? sum / (double)n : NAN;
}

/* Runs Holt-Winters with q over the held history into s; returns the sum of squared one-step
 * errors of minutes whose previous minute was observed, with their count in *points.
 * Initial state: seasonal, from the first season (level its mean, season its deviations,
 * trend the change of the mean to the second season per minute), the run starting after it;
 * otherwise level = the first value, trend 0. */
static double hw_run(const fcr *f, const struct hw_params *q, struct hw_state *s, long *points)
{
    int m = f->p.season_minutes;
    int64_t start = held_from(f);
    while (start <= f->last && isnan(at(f, start)))
        start++;
    *points = 0;
    int64_t run_from;
    if (q->seasonal) {
        double m1 = mean_of(f, start, start + m), m2 = mean_of(f, start + m, start + 2 * m);
        s->level = m1;
        s->trend = isnan(m2) ? 0 : (m2 - m1) / m;
        for (int i = 0; i < m; i++)
            s->season[i] = 0;
        for (int64_t t = start; t < start + m; t++) {
            double y = at(f, t);
            if (!isnan(y))
                s->season[pos_mod(t, m)] = y - m1;
        }
        /* the level stands at the end of the first season */
        s->level += s->trend * (m - 1) / 2.0;
        run_from = start + m;
    } else {
        s->level = at(f, start);
        s->trend = 0;
        for (int i = 0; i < m; i++)
            s->season[i] = 0;
        run_from = start + 1;
    }
    return run_from > f->last ? 0 : hw_pass(f, q, s, run_from, points);
}

static double logistic(double z)
{
    return 1.0 / (1.0 + exp(-z));
}

static double logit(double p)
{
    return log(p / (1 - p));
}

static void hw_from_z(const fcr *f, const double *z, int seasonal, struct hw_params *q)
{
    q->alpha = logistic(z[0]);
    q->beta = logistic(z[1]);
    q->gamma = seasonal ? logistic(z[2]) : 0;
    q->phi = f->p.damped ? PHI_MIN + (1 - PHI_MIN) * logistic(z[3]) : 1.0;
    q->seasonal = seasonal;
}

/* The parameters a fit searches: slots of z = (alpha, beta, gamma, phi) that are free. */
struct hw_search {
    int seasonal;
    int dims;
    int slot[HW_PARAMS];
    double z[HW_PARAMS]; /* the full z; the free slots are overwritten from u */
};

static double hw_objective(fcr *f, struct hw_search *s, const double *u)
{
    for (int d = 0; d < s->dims; d++)
        s->z[s->slot[d]] = u[d];
    struct hw_params q;
    long n;
    hw_from_z(f, s->z, s->seasonal, &q);
    double sse = hw_run(f, &q, &f->trial, &n);
    return isfinite(sse) ? sse : HUGE_VAL;
}

/* Nelder-Mead over the free z (each parameter a logistic of its z, so the search stays inside
 * the bounds), starting from u; leaves the best point in u. */
static void nelder_mead(fcr *f, struct hw_search *s, double *u)
{
    int dims = s->dims;
    double simplex[HW_PARAMS + 1][HW_PARAMS], val[HW_PARAMS + 1];
    for (int i = 0; i <= dims; i++) {
        memcpy(simplex[i], u, sizeof simplex[i]);
        if (i > 0)
            simplex[i][i - 1] += 1.0;
        val[i] = hw_objective(f, s, simplex[i]);
    }
    int evals = dims + 1;
    while (evals < HW_MAX_EVALS) {
        for (int i = 0; i <= dims; i++) /* best first, worst last */
            for (int j = i + 1; j <= dims; j++)
                if (val[j] < val[i]) {
                    double tv = val[i], tz[HW_PARAMS];
                    val[i] = val[j];
                    val[j] = tv;
                    memcpy(tz, simplex[i], sizeof tz);
                    memcpy(simplex[i], simplex[j], sizeof tz);
                    memcpy(simplex[j], tz, sizeof tz);
                }
        if (val[dims] - val[0] <= 1e-10 * (fabs(val[0]) + 1e-12))
            break;
        double c[HW_PARAMS] = {0}, r[HW_PARAMS], x[HW_PARAMS];
        for (int d = 0; d < dims; d++) {
            for (int i = 0; i < dims; i++)
                c[d] += simplex[i][d] / dims;
            r[d] = 2 * c[d] - simplex[dims][d];
        }
        double fr = hw_objective(f, s, r);
        evals++;
        if (fr < val[0]) {
            for (int d = 0; d < dims; d++)
                x[d] = 3 * c[d] - 2 * simplex[dims][d];
            double fx = hw_objective(f, s, x);
            evals++;
            memcpy(simplex[dims], fx < fr ? x : r, sizeof x);
            val[dims] = fx < fr ? fx : fr;
            continue;
        }
        if (fr < val[dims - 1]) {
            memcpy(simplex[dims], r, sizeof r);
            val[dims] = fr;
            continue;
        }
        for (int d = 0; d < dims; d++)
            x[d] = c[d] + 0.5 * (simplex[dims][d] - c[d]);
        double fx = hw_objective(f, s, x);
        evals++;
        if (fx < val[dims]) {
            memcpy(simplex[dims], x, sizeof x);
            val[dims] = fx;
            continue;
        }
        for (int i = 1; i <= dims; i++) {
            for (int d = 0; d < dims; d++)
                simplex[i][d] = simplex[0][d] + 0.5 * (simplex[i][d] - simplex[0][d]);
            val[i] = hw_objective(f, s, simplex[i]);
            evals++;
        }
    }
    int b = 0;
    for (int i = 1; i <= dims; i++)
        if (val[i] < val[b])
            b = i;
    memcpy(u, simplex[b], sizeof simplex[b]);
}

/* Fits alpha, beta, gamma (with a season) and phi (damped) on the held history by least squares
 * of the one-step errors, then leaves the state of the fitted run in f->hw. The season is fitted
 * when the history spans two seasons (one to start it, one to learn from). */
static void hw_fit(fcr *f)
{
    struct hw_search s = {.seasonal =
                              f->last - held_from(f) + 1 >= 2 * (int64_t)f->p.season_minutes,
                          .z = {logit(0.5), logit(0.05), logit(0.1), logit(0.75)}};
    s.slot[s.dims++] = 0;
    s.slot[s.dims++] = 1;
    if (s.seasonal)
        s.slot[s.dims++] = 2;
    if (f->p.damped)
        s.slot[s.dims++] = 3;
    double u[HW_PARAMS];
    for (int d = 0; d < s.dims; d++)
        u[d] = s.z[s.slot[d]];
    nelder_mead(f, &s, u);
    for (int d = 0; d < s.dims; d++)
        s.z[s.slot[d]] = u[d];
    struct hw_params q;
    hw_from_z(f, s.z, s.seasonal, &q);
    f->fit.alpha = q.alpha;
    f->fit.beta = q.beta;
    f->fit.gamma = q.gamma;
    f->fit.phi = q.phi;
    f->fit.seasonal = s.seasonal;
    f->fit.sse = hw_run(f, &q, &f->hw, &f->fit.points);
    f->fit.fits++;
}

static void hw_params_of(const fcr *f, struct hw_params *q)
{
    q->alpha = f->fit.alpha;
    q->beta = f->fit.beta;
    q->gamma = f->fit.gamma;
    q->phi = f->fit.phi;
    q->seasonal = f->fit.seasonal;
}

static double hw_forecast(const fcr *f, int h)
{
    double s = f->fit.seasonal ? f->hw.season[pos_mod(f->last + h, f->p.season_minutes)] : 0;
    return f->hw.level + damp_sum(f->fit.phi, h) * f->hw.trend + s;
}

/* ---- linear: least-squares line over the minutes [end - n + 1, end] that have values ---- */

/* The line's value at minute `target`; NAN with fewer than 2 points. */
static double line_at(const fcr *f, int64_t end, int n, int64_t target)
{
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    int k = 0;
    for (int64_t t = end - n + 1; t <= end; t++) {
        double y = at(f, t);
        if (isnan(y))
            continue;
        double x = (double)(t - end);
        sx += x;
        sy += y;
        sxx += x * x;
        sxy += x * y;
        k++;
    }
    if (k < 2)
        return k == 1 ? sy : NAN;
    double den = k * sxx - sx * sx;
    double slope = den > 0 ? (k * sxy - sx * sy) / den : 0;
    double icpt = (sy - slope * sx) / k;
    return icpt + slope * (double)(target - end);
}

/* Chooses n among linear_candidates by the least sum of squared one-step errors over the held
 * history (minutes whose previous minute was observed, scored from the longest candidate on so
 * that every candidate is scored on the same minutes). */
static void linear_fit(fcr *f)
{
    int longest = linear_candidates[LINEAR_CANDIDATES - 1];
    double best = HUGE_VAL;
    for (int c = 0; c < LINEAR_CANDIDATES; c++) {
        double sse = 0;
        for (int64_t t = held_from(f) + longest; t <= f->last; t++) {
            double y = at(f, t);
            if (isnan(y) || isnan(at(f, t - 1)))
                continue;
            double e = y - line_at(f, t - 1, linear_candidates[c], t);
            sse += e * e;
        }
        if (sse < best) {
            best = sse;
            f->linear_n = linear_candidates[c];
        }
    }
}

/* ---- periodic: the mean of the last cycles at a fitted period ----
 * The forecast of minute T = last + h is the mean of the values at T - k P for the
 * FCR_PERIOD_CYCLES smallest k with T - k P <= last (those present; none: persistence). P is
 * chosen among 2..pmax, pmax = min(FCR_PERIOD_MAX, held span / (FCR_PERIOD_CYCLES + 1)), by the
 * least sum of squared one-step errors over the newest FCR_PERIOD_FIT_MINUTES minutes that every
 * candidate can be scored on (minutes whose previous minute was observed); P stays 0
 * (persistence) unless its sum is below persistence's on the same minutes. A recurring spike
 * (a timer, a batch job) is then forecast before it comes, up to the period ahead. */

/* The mean of x[i - c * period], c = 1..FCR_PERIOD_CYCLES, those present; NAN when none is. */
static double cycle_mean(const double *x, long i, int period)
{
    double sum = 0;
    int n = 0;
    for (int c = 1; c <= FCR_PERIOD_CYCLES; c++) {
        double v = x[i - (long)c * period];
        if (!isnan(v)) {
            sum += v;
            n++;
        }
    }
    return n ? sum / n : NAN;
}

static void periodic_fit(fcr *f)
{
    int64_t from = held_from(f);
    int64_t pmax = (f->last - from + 1) / (FCR_PERIOD_CYCLES + 1);
    if (pmax > FCR_PERIOD_MAX)
        pmax = FCR_PERIOD_MAX;
    f->period = 0;
    f->period_fits++;
    if (pmax < 2)
        return;
    int64_t t0 = from + FCR_PERIOD_CYCLES * pmax; /* the first scored minute */
    if (t0 < f->last - FCR_PERIOD_FIT_MINUTES + 1)
        t0 = f->last - FCR_PERIOD_FIT_MINUTES + 1;
    int64_t base = t0 - FCR_PERIOD_CYCLES * pmax; /* scratch[0]'s minute, held */
    long n = (long)(f->last - base + 1), i0 = (long)(t0 - base);
    double *x = f->scratch;
    for (long i = 0; i < n; i++)
        x[i] = at(f, base + i);
    double best = 0; /* persistence's sum */
    for (long i = i0; i < n; i++)
        if (!isnan(x[i]) && !isnan(x[i - 1]))
            best += (x[i] - x[i - 1]) * (x[i] - x[i - 1]);
    for (int period = 2; period <= (int)pmax; period++) {
        double sse = 0;
        for (long i = i0; i < n && sse < best; i++) {
            if (isnan(x[i]) || isnan(x[i - 1]))
                continue;
            double v = cycle_mean(x, i, period);
            double e = x[i] - (isnan(v) ? x[i - 1] : v);
            sse += e * e;
        }
        if (sse < best) {
            best = sse;
            f->period = period;
        }
    }
}

/* ---- the rule table: one row per series forecaster ---- */

/* The step-h forecast after the newest value `last`; NAN = no forecast of its own (the caller
 * falls back to persistence). */
static double persistence_at(const fcr *f, int h, double last)
{
    (void)f, (void)h;
    return last;
}

static double drift_at(const fcr *f, int h, double last)
{
    double back = at(f, f->last - f->p.drift_minutes);
    return isnan(back) ? NAN : last + h * (last - back) / f->p.drift_minutes;
}

static double seasonal_naive_at(const fcr *f, int h, double last)
{
    (void)last;
    int m = f->p.season_minutes;
    return at(f, f->last + h - (int64_t)m * ((h + m - 1) / m));
}

static double holt_winters_at(const fcr *f, int h, double last)
{
    (void)last;
    return f->fit.fits > 0 ? hw_forecast(f, h) : NAN;
}

static double linear_at(const fcr *f, int h, double last)
{
    (void)last;
    return f->linear_n > 0 ? line_at(f, f->last, f->linear_n, f->last + h) : NAN;
}

static double periodic_at(const fcr *f, int h, double last)
{
    (void)last;
    int period = f->period;
    if (period == 0)
        return NAN;
    int64_t first_back = f->last + h - (int64_t)period * ((h + period - 1) / period);
    double sum = 0;
    int n = 0;
    for (int c = 0; c < FCR_PERIOD_CYCLES; c++) {
        double v = at(f, first_back - (int64_t)c * period);
        if (!isnan(v)) {
            sum += v;
            n++;
        }
    }
    return n ? sum / n : NAN;
}

/* Holt-Winters' state follows every new value with the fitted parameters. */
static void holt_winters_update(fcr *f, int64_t m, double y)
{
    struct hw_params q;
    hw_params_of(f, &q);
    if (f->fixed && f->observed == 1)
        f->hw.level = y; /* trend and season start at 0 */
    else if (f->fit.fits > 0)
        hw_update(&q, &f->hw, f->p.season_minutes, m, y);
}

struct fcr_rule {
    double (*at)(const fcr *f, int h, double last); /* the forecast */
    void (*fit)(fcr *f);                            /* NULL: nothing to fit */
    int (*fitted)(const fcr *f);                    /* 1 once a fit exists */
    void (*update)(fcr *f, int64_t m, double y);    /* NULL: the ring is the whole state */
};

static int hw_fitted(const fcr *f)
{
    return f->fit.fits > 0;
}

static int linear_fitted(const fcr *f)
{
    return f->linear_n > 0;
}

static int periodic_fitted(const fcr *f)
{
    return f->period_fits > 0;
}

static const struct fcr_rule rules[FCR_KIND_COUNT] = {
    [FCR_PERSISTENCE] = {persistence_at, NULL, NULL, NULL},
    [FCR_DRIFT] = {drift_at, NULL, NULL, NULL},
    [FCR_SEASONAL_NAIVE] = {seasonal_naive_at, NULL, NULL, NULL},
    [FCR_HOLT_WINTERS] = {holt_winters_at, hw_fit, hw_fitted, holt_winters_update},
    [FCR_LINEAR] = {linear_at, linear_fit, linear_fitted, NULL},
    [FCR_PERIODIC] = {periodic_at, periodic_fit, periodic_fitted, NULL},
};

/* ---- observing and forecasting ---- */

/* Stores y as minute m's value; 0 when it is not stored (missing, or not after the last). */
static int store(fcr *f, int64_t m, double y)
{
    if (isnan(y) || !isfinite(y) || (f->has && m <= f->last))
        return 0;
    if (!f->has) {
        f->first = m;
        f->has = 1;
    } else {
        for (int64_t t = f->last + 1; t < m && t - f->last <= FCR_HISTORY_MINUTES; t++)
            f->ring[pos_mod(t, FCR_HISTORY_MINUTES)] = NAN;
    }
    f->ring[pos_mod(m, FCR_HISTORY_MINUTES)] = y;
    f->last = m;
    f->observed++;
    f->since_fit++;
    return 1;
}

int fcr_preload(fcr *f, int64_t minute_ms, double y)
{
    if (store(f, minute_ms / MINUTE_MS, y))
        f->stale = 1;
    return 0;
}

/* 1 when the kind fits and enough minutes are held for it. */
static int can_fit(const fcr *f)
{
    return rules[f->kind].fit && !f->fixed && f->observed >= FCR_FIT_MIN_MINUTES;
}

/* Minutes between fits. */
static long refit_every(const fcr *f)
{
    if (f->kind == FCR_PERIODIC && f->p.refit_minutes > FCR_PERIOD_REFIT_MINUTES)
        return FCR_PERIOD_REFIT_MINUTES;
    return f->p.refit_minutes;
}

static void fit_now(fcr *f)
{
    rules[f->kind].fit(f); /* leaves the state after the newest minute */
    f->since_fit = 0;
    f->stale = 0;
}

int fcr_observe(fcr *f, int64_t minute_ms, double y)
{
    int64_t m = minute_ms / MINUTE_MS;
    if (!store(f, m, y))
        return 0;
    const struct fcr_rule *r = &rules[f->kind];
    if (can_fit(f) && (f->stale || f->since_fit >= refit_every(f) || !r->fitted(f)))
        fit_now(f);
    else if (r->update)
        r->update(f, m, y);
    f->stale = 0;
    return 0;
}

void fcr_preload_end(fcr *f)
{
    if (f->stale && can_fit(f))
        fit_now(f);
}

int64_t fcr_last_minute(const fcr *f)
{
    return f->has ? f->last * MINUTE_MS : INT64_MIN;
}

int fcr_forecast(const fcr *f, int64_t first_ms, int count, double *out)
{
    if (!f->has)
        return AE_EAGAIN;
    int64_t first = first_ms / MINUTE_MS;
    if (first <= f->last || count < 0 || first + count - 1 - f->last > FCR_MAX_STEPS)
        return AE_EINVAL;
    double last = at(f, f->last);
    for (int k = 0; k < count; k++) {
        double v = rules[f->kind].at(f, (int)(first + k - f->last), last);
        out[k] = isnan(v) ? last : v;
    }
    return 0;
}

void fcr_hw_get_fit(const fcr *f, struct fcr_hw_fit *out)
{
    if (f->kind == FCR_HOLT_WINTERS)
        *out = f->fit;
    else
        memset(out, 0, sizeof *out);
}

int fcr_hw_fix(fcr *f, const struct fcr_hw_fit *fit)
{
    if (f->kind != FCR_HOLT_WINTERS || !(fit->alpha >= 0 && fit->alpha <= 1) ||
        !(fit->beta >= 0 && fit->beta <= 1) || !(fit->gamma >= 0 && fit->gamma <= 1) ||
        !(fit->phi > 0 && fit->phi <= 1) || f->has)
        return AE_EINVAL;
    f->fixed = 1;
    f->fit = *fit;
    f->fit.fits = 1;
    f->fit.sse = 0;
    f->fit.points = 0;
    return 0;
}

int fcr_linear_points(const fcr *f)
{
    return f->kind == FCR_LINEAR ? f->linear_n : 0;
}

int fcr_period(const fcr *f)
{
    return f->kind == FCR_PERIODIC ? f->period : 0;
}
