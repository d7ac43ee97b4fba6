/* Forecaster selection by measured skill (see select.h). */
#include "aether/select.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "aether/forecast.h"
#include "aether/snapshot.h"

/* Tiny offset so that a flat series (persistence exact) gives 1 for an exact candidate, not 0/0. */
#define SEL_EPS 1e-9

const char *const sel_score_names[SEL_SCORE_COUNT] = {"step", "peak", "peak-quantile"};

void sel_params_defaults(struct sel_params *p)
{
    p->steps = 3;
    p->window = 60;
    p->min_samples = 10;
    p->margin = 0.10;
    p->dwell_ms = 30 * AE_MINUTE_MS;
    p->underforecast_weight = SEL_UNDERFORECAST_WEIGHT_DEFAULT;
    p->score = SEL_SCORE_PEAK_QUANTILE;
    p->peak_quantile = SEL_PEAK_QUANTILE_DEFAULT;
}

static int clamp(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

void sel_init(struct sel *s, const struct sel_params *p, int horizon, int initial, int64_t now_ms)
{
    memset(s, 0, sizeof *s);
    s->p = *p;
    horizon = clamp(horizon, 1, CONF_MAX_HORIZON);
    s->p.steps = p->steps < 1 || p->steps > horizon ? horizon : p->steps;
    s->p.window = clamp(p->window, 1, SEL_WINDOW_MAX);
    s->p.min_samples = clamp(p->min_samples, 1, s->p.window);
    s->p.margin = p->margin > 0 ? (p->margin < 0.5 ? p->margin : 0.5) : 0;
    s->p.dwell_ms = p->dwell_ms > 0 ? p->dwell_ms : 0;
    double w = p->underforecast_weight;
    s->p.underforecast_weight = w >= 1 ? fmin(w, SEL_UNDERFORECAST_WEIGHT_MAX) : 1; /* NAN: 1 */
    s->p.score = p->score > 0 && p->score < SEL_SCORE_COUNT ? p->score : SEL_SCORE_STEP;
    double q = p->peak_quantile;
    s->p.peak_quantile = q > 0 ? fmin(fmax(q, SEL_PEAK_QUANTILE_MIN), SEL_PEAK_QUANTILE_MAX)
                               : SEL_PEAK_QUANTILE_DEFAULT; /* 0 (unset) or NAN: the default */
    for (int c = 0; c < SEL_CANDIDATES; c++)
        for (int k = 0; k < SEL_PENDING; k++)
            s->pending[c][k].first_ms = INT64_MIN;
    for (int k = 0; k <= CONF_MAX_HORIZON; k++) {
        s->actual[k] = NAN;
        s->actual_ms[k] = INT64_MIN;
    }
    s->last_ms = INT64_MIN;
    s->initial = initial;
    s->active = initial;
    s->active_since_ms = now_ms;
    snprintf(s->why, sizeof s->why, "cold start: %s until the candidates are scored",
             fcr_kind_names[initial]);
}

void sel_record(struct sel *s, int c, int64_t first_ms, const float *inv, int len)
{
    if (c < 0 || c >= SEL_CANDIDATES || len < 1)
        return;
    struct sel_pending *slot = NULL, *oldest = NULL;
    for (int k = 0; k < SEL_PENDING; k++) {
        struct sel_pending *p = &s->pending[c][k];
        if (p->first_ms == first_ms)
            slot = p;
        if (!oldest || p->first_ms < oldest->first_ms)
            oldest = p;
    }
    if (!slot)
        slot = oldest;
    slot->first_ms = first_ms;
    slot->peak_done = 0;
    slot->len = len < CONF_MAX_HORIZON ? len : CONF_MAX_HORIZON;
    memcpy(slot->inv, inv, (size_t)slot->len * sizeof *inv);
}

/* The actual invocations of the minute at minute_ms, or NAN when not held. */
static double actual_at(const struct sel *s, int64_t minute_ms)
{
    for (int k = 0; k <= CONF_MAX_HORIZON; k++)
        if (s->actual_ms[k] == minute_ms)
            return s->actual[k];
    return NAN;
}

/* Appends the pair (e, n) to the ring err/naive of `window` slots at *head holding *count. */
static void ring_put(float *err, float *naive, int *head, int *count, int window, double e,
                     double n)
{
    int slot = (*head + *count) % window;
    if (*count == window)
        *head = (*head + 1) % window;
    else
        (*count)++;
    err[slot] = (float)e;
    naive[slot] = (float)n;
}

static void ring_push(struct sel_ring *r, int window, double err, double naive)
{
    ring_put(r->err, r->naive, &r->head, &r->count, window, err, naive);
}

/* Once minute_ms reaches the last scored step of p (steps 1..n, n = min(len, S)): pushes its peak
 * miss and persistence's (the minute before p's first) to ring r. Minutes not held are left out
 * of the actual peak; nothing is pushed without persistence's minute or any actual one. */
static void score_peak(struct sel *s, struct sel_pending *p, struct sel_peak_ring *r,
                       int64_t minute_ms)
{
    int n = p->len < s->p.steps ? p->len : s->p.steps;
    if (p->peak_done || minute_ms < p->first_ms + (int64_t)(n - 1) * AE_MINUTE_MS)
        return;
    p->peak_done = 1;
    double base = actual_at(s, p->first_ms - AE_MINUTE_MS);
    double pred = -INFINITY, act = -INFINITY;
    for (int h = 0; h < n; h++) {
        pred = fmax(pred, p->inv[h]);
        double a = actual_at(s, p->first_ms + (int64_t)h * AE_MINUTE_MS);
        if (!isnan(a))
            act = fmax(act, a);
    }
    if (!isnan(base) && act > -INFINITY)
        ring_put(r->err, r->naive, &r->head, &r->count, SEL_PEAK_WINDOW, pred - act, base - act);
}

void sel_observe(struct sel *s, int64_t minute_ms, double actual)
{
    if (s->last_ms != INT64_MIN && minute_ms <= s->last_ms)
        return;
    s->last_ms = minute_ms;
    int slot = (int)((minute_ms / AE_MINUTE_MS) % (CONF_MAX_HORIZON + 1));
    s->actual_ms[slot] = minute_ms;
    s->actual[slot] = actual;
    if (isnan(actual))
        return;
    for (int c = 0; c < SEL_CANDIDATES; c++)
        for (int k = 0; k < SEL_PENDING; k++) {
            struct sel_pending *p = &s->pending[c][k];
            if (p->first_ms == INT64_MIN || minute_ms < p->first_ms)
                continue;
            score_peak(s, p, &s->peak[c], minute_ms);
            int64_t h = (minute_ms - p->first_ms) / AE_MINUTE_MS + 1;
            if (h > p->len || h > s->p.steps)
                continue;
            /* persistence at step h: the minute h minutes before */
            double base = actual_at(s, minute_ms - h * AE_MINUTE_MS);
            if (isnan(base))
                continue;
            ring_push(&s->ring[c][h - 1], s->p.window, p->inv[h - 1] - actual, base - actual);
        }
}

/* A signed miss (predicted - actual) as the score counts it: under-forecasts weigh w. */
static double weighted_miss(double miss, double w)
{
    return miss < 0 ? -miss * w : miss;
}

double sel_error(const struct sel *s, int c, int h, int *samples)
{
    if (samples)
        *samples = 0;
    if (c < 0 || c >= SEL_CANDIDATES || h < 1 || h > s->p.steps)
        return NAN;
    const struct sel_ring *r = &s->ring[c][h - 1];
    if (samples)
        *samples = r->count;
    if (r->count == 0)
        return NAN;
    double e = 0, n = 0;
    for (int k = 0; k < r->count; k++) {
        e += weighted_miss(r->err[k], s->p.underforecast_weight);
        n += weighted_miss(r->naive[k], s->p.underforecast_weight);
    }
    return (e + SEL_EPS) / (n + SEL_EPS);
}

double sel_mae(const struct sel *s, int c, int h)
{
    if (c < 0 || c >= SEL_CANDIDATES || h < 1 || h > s->p.steps)
        return NAN;
    const struct sel_ring *r = &s->ring[c][h - 1];
    if (r->count == 0)
        return NAN;
    double e = 0;
    for (int k = 0; k < r->count; k++)
        e += fabsf(r->err[k]);
    return e / r->count;
}

/* The headroom of the peak misses m[0..n-1] (predicted - actual peak): max(0, the
 * SEL_PEAK_HEADROOM_QUANTILE quantile of the shortfalls -m). */
static double headroom(const float *m, int n)
{
    double shortfall[SEL_PEAK_WINDOW];
    for (int k = 0; k < n; k++)
        shortfall[k] = -m[k];
    return fmax(0, conf_quantile(shortfall, n, SEL_PEAK_HEADROOM_QUANTILE));
}

/* The peak cost of the misses m[0..n-1] under the constants p (see select.h). */
static double peak_cost(const float *m, int n, const struct sel_params *p)
{
    int peak = p->score != SEL_SCORE_PEAK_QUANTILE; /* "peak", also for "step"'s report */
    double q = peak ? SEL_PEAK_HEADROOM_QUANTILE : p->peak_quantile;
    double h = peak ? headroom(m, n) : 0, sum = 0;
    for (int k = 0; k < n; k++) {
        double over = m[k] + h; /* forecast peak + headroom - actual peak */
        sum += over >= 0 ? (1 - q) * over : -q * over;
    }
    return sum / n / (peak ? 1 - q : 1);
}

/* The peak ring of candidate c, or NULL when c is out of range or nothing resolved. */
static const struct sel_peak_ring *peak_ring(const struct sel *s, int c, int *samples)
{
    if (samples)
        *samples = 0;
    if (c < 0 || c >= SEL_CANDIDATES)
        return NULL;
    const struct sel_peak_ring *r = &s->peak[c];
    if (samples)
        *samples = r->count;
    return r->count > 0 ? r : NULL;
}

double sel_peak_error(const struct sel *s, int c, int *samples)
{
    const struct sel_peak_ring *r = peak_ring(s, c, samples);
    if (!r)
        return NAN;
    return (peak_cost(r->err, r->count, &s->p) + SEL_EPS) /
           (peak_cost(r->naive, r->count, &s->p) + SEL_EPS);
}

double sel_peak_headroom(const struct sel *s, int c)
{
    const struct sel_peak_ring *r = peak_ring(s, c, NULL);
    return r ? headroom(r->err, r->count) : NAN;
}

double sel_score(const struct sel *s, int c)
{
    if (s->p.score != SEL_SCORE_STEP) {
        int n;
        double e = sel_peak_error(s, c, &n);
        return n < s->p.min_samples ? NAN : e;
    }
    double sum = 0;
    for (int h = 1; h <= s->p.steps; h++) {
        int n;
        double e = sel_error(s, c, h, &n);
        if (n < s->p.min_samples)
            return NAN;
        sum += e;
    }
    return sum / s->p.steps;
}

static void take(struct sel *s, int c, int by_score, int64_t now_ms)
{
    s->by_score = by_score;
    if (c != s->active) {
        s->active = c;
        s->active_since_ms = now_ms;
        s->switches++;
    }
}

int sel_choose(struct sel *s, const int *available, int64_t now_ms)
{
    int best = -1;
    double best_score = NAN;
    for (int c = 0; c < SEL_CANDIDATES; c++) {
        double sc = available[c] ? sel_score(s, c) : NAN;
        if (!isnan(sc) && (best < 0 || sc < best_score)) {
            best = c;
            best_score = sc;
        }
    }
    int a = s->active;
    double a_score = sel_score(s, a);
    const char *name_a = fcr_kind_names[a];
    if (!available[a] || isnan(a_score)) {
        if (best >= 0) {
            snprintf(s->why, sizeof s->why, "%s %s; %s has the lowest error %.3f", name_a,
                     available[a] ? "not scored yet" : "cannot forecast now", fcr_kind_names[best],
                     best_score);
            take(s, best, 1, now_ms);
            return s->active;
        }
        if (available[a])
            return s->active; /* cold start: keeps its why */
        int c = available[s->initial] ? s->initial : -1;
        for (int k = 0; k < SEL_CANDIDATES && c < 0; k++)
            if (available[k])
                c = k;
        if (c < 0)
            return -1;
        snprintf(s->why, sizeof s->why, "%s cannot forecast now and nothing is scored: %s", name_a,
                 fcr_kind_names[c]);
        take(s, c, 0, now_ms);
        return s->active;
    }
    if (best == a || best < 0) {
        snprintf(s->why, sizeof s->why, "lowest recent error: %.3f", a_score);
        if (!s->by_score) { /* the cold-start choice won on its score: its dwell starts now */
            s->by_score = 1;
            s->active_since_ms = now_ms;
        }
        return a;
    }
    /* The margin protects a simple incumbent; the model keeps driving only while no simple
     * candidate scores below it (so on a tie a simple forecaster drives). */
    double bar = a == FCR_MODEL ? a_score : a_score * (1 - s->p.margin);
    if (!(best_score < bar)) {
        snprintf(s->why, sizeof s->why,
                 "%s %.3f is within the margin of %s %.3f (needs below %.3f)", fcr_kind_names[best],
                 best_score, name_a, a_score, bar);
        return a;
    }
    if (s->by_score && now_ms - s->active_since_ms < s->p.dwell_ms) {
        snprintf(s->why, sizeof s->why, "%s %.3f beats %s %.3f but %s drives for %d min first",
                 fcr_kind_names[best], best_score, name_a, a_score, name_a,
                 (int)(s->p.dwell_ms / AE_MINUTE_MS));
        return a;
    }
    if (a == FCR_MODEL)
        snprintf(s->why, sizeof s->why, "%s %.3f below %s %.3f", fcr_kind_names[best], best_score,
                 name_a, a_score);
    else
        snprintf(s->why, sizeof s->why, "%s %.3f below %s %.3f x (1 - %.2f)",
                 fcr_kind_names[best], best_score, name_a, a_score, s->p.margin);
    take(s, best, 1, now_ms);
    return s->active;
}
