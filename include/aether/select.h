/* Forecaster selection by measured skill (ttm.forecaster = "auto"): every candidate of the
 * forecaster table forecasts each blueprint side by side; each forecast of invocations is scored
 * when its minutes resolve, at every step 1..S of the horizon; the candidate with the lowest
 * recent error drives the TTM tier, with a margin and a minimum dwell so that it does not flap.
 *
 * Error of candidate c at step h: the sum of the weighted misses of its forecasts over the last
 * `window` minutes resolved at that step, divided by the sum of persistence's weighted misses at
 * the same step over the same minutes (persistence at step h predicts the minute h minutes
 * before), so 1 = as good as repeating the last minute, below 1 better. A miss is
 * predicted - actual invocations when over, and underforecast_weight x (actual - predicted) when
 * under: sizing pays for an under-forecast in SLO minutes, for an over-forecast in instances. Score
 * of c (score kind "step") = the mean of its errors over steps 1..S; a candidate is scored once
 * every step has `min_samples` minutes.
 *
 * The peak score kinds read what sizing reads, the peak: per forecast resolved at all its steps
 * 1..S, its peak miss m = max predicted - max actual invocations over those minutes (persistence's:
 * the minute before the forecast - that max). Over the last SEL_PEAK_WINDOW (240, as many as the
 * analyzer's headroom reads) resolved forecasts, with the pinball loss
 * L_q(d) = (1 - q) d when d >= 0, -q d when d < 0:
 *   "peak-quantile": cost = mean L_tau(m), tau = peak_quantile: the loss of the forecast peak
 *                    read as the tau-quantile of the actual peak;
 *   "peak":          cost = mean L_q(m + H) / (1 - q), q = SEL_PEAK_HEADROOM_QUANTILE (0.95), H =
 *                    max(0, the q-quantile of -m): sizing with the candidate's own headroom H
 *                    over-provisions m + H when the actual peak stays under, and misses by
 *                    -(m + H) (weighing q / (1 - q) = 19 times) when it does not.
 * Score = cost of c / cost of persistence (+1e-9 on both); scored once `min_samples` forecasts
 * have resolved. The under-forecast weight applies to "step" only.
 *
 * Plain data, nothing allocated, no clock (times are the caller's Unix ms). */
#ifndef AETHER_SELECT_H
#define AETHER_SELECT_H

#include <stdint.h>

#include "aether/confidence.h"
#include "aether/decision.h"
#include "aether/forecaster.h"

#define SEL_CANDIDATES FCR_AUTO               /* model .. linear: the kinds before auto */
#define SEL_WINDOW_MAX 60                     /* resolved minutes per step a ring can keep */
#define SEL_PENDING (CONF_MAX_HORIZON + 2)    /* forecasts per candidate waiting to resolve */
#define SEL_PEAK_WINDOW CONF_SHORTFALL_WINDOW /* resolved forecasts the peak scores read */
/* the headroom quantile of the "peak" score (the analyzer's headroom quantile when the score was
 * chosen; the default score, "peak-quantile", does not read it) */
#define SEL_PEAK_HEADROOM_QUANTILE 0.95
#define SEL_UNDERFORECAST_WEIGHT_DEFAULT 1.0 /* ttm.selection_underforecast_weight */
#define SEL_UNDERFORECAST_WEIGHT_MAX 10.0
#define SEL_PEAK_QUANTILE_DEFAULT 0.65 /* ttm.selection_peak_quantile */
#define SEL_PEAK_QUANTILE_MIN 0.5
#define SEL_PEAK_QUANTILE_MAX 0.99

/* ttm.selection_score: what a candidate's score measures (see above). */
enum sel_score_kind { SEL_SCORE_STEP, SEL_SCORE_PEAK, SEL_SCORE_PEAK_QUANTILE, SEL_SCORE_COUNT };
extern const char *const sel_score_names[SEL_SCORE_COUNT]; /* "step", "peak", "peak-quantile" */

/* The selection constants ([ttm] selection_* keys; defaults in sel_params_defaults). */
struct sel_params {
    int steps;        /* S: steps 1..S scored (0 = the whole horizon); 3 */
    int window;       /* resolved minutes per step kept for the error, 1..SEL_WINDOW_MAX; 60 */
    int min_samples;  /* minutes at every step before a candidate is scored, 1..window; 10 */
    double margin;    /* a challenger must score below active x (1 - margin), 0..0.5; 0.10
                         (a challenger to the model: below its score) */
    int64_t dwell_ms; /* and the active one must have driven for this long; 30 min */
    double underforecast_weight; /* w: an under-forecast weighs w x an over-forecast, 1..10; 1 */
    int score;                   /* enum sel_score_kind; SEL_SCORE_PEAK_QUANTILE */
    double peak_quantile;        /* tau of "peak-quantile", 0.5..0.99 (0: 0.65); 0.65 */
};

void sel_params_defaults(struct sel_params *p);

/* One forecast of invocations waiting for its minutes: minute first_ms is step 1. */
struct sel_pending {
    int64_t first_ms; /* INT64_MIN = free */
    int len;
    int peak_done; /* its peak miss is in the peak ring */
    float inv[CONF_MAX_HORIZON];
};

/* The last `window` (candidate, persistence) signed misses (predicted - actual) of one step. */
struct sel_ring {
    float err[SEL_WINDOW_MAX], naive[SEL_WINDOW_MAX];
    int head, count;
};

/* The last SEL_PEAK_WINDOW (candidate, persistence) signed misses of the peak over steps 1..S. */
struct sel_peak_ring {
    float err[SEL_PEAK_WINDOW], naive[SEL_PEAK_WINDOW];
    int head, count;
};

struct sel {
    struct sel_params p; /* p.steps resolved: 1..CONF_MAX_HORIZON */
    struct sel_pending pending[SEL_CANDIDATES][SEL_PENDING];
    struct sel_ring ring[SEL_CANDIDATES][CONF_MAX_HORIZON];
    struct sel_peak_ring peak[SEL_CANDIDATES]; /* peak misses of forecasts resolved at 1..S */
    /* actual invocations of the last minutes (NAN = missing), for persistence's error */
    double actual[CONF_MAX_HORIZON + 1];
    int64_t actual_ms[CONF_MAX_HORIZON + 1];
    int64_t last_ms; /* the newest minute observed, INT64_MIN before any */
    int initial;     /* the cold-start choice */
    int active;      /* enum fcr_kind of the candidate driving the tier */
    int64_t active_since_ms;
    int by_score; /* the active one won on its score (0: cold start or a fallback) */
    long switches;
    char why[AE_REASON_MAX]; /* why the active one drives */
};

/* Starts with `initial` active (the cold-start choice) since now_ms, nothing scored, with the
 * constants p (out-of-range values clamped; p->steps 0 or above the horizon: the horizon). */
void sel_init(struct sel *s, const struct sel_params *p, int horizon, int initial, int64_t now_ms);

/* Candidate c forecast invocations inv[0..len-1] for the minutes first_ms, first_ms + 1 min, ...
 * (inv[h - 1] at step h). Replaces an earlier forecast of c with the same first_ms. */
void sel_record(struct sel *s, int c, int64_t first_ms, const float *inv, int len);

/* The minute starting at minute_ms closed with `actual` invocations (NAN = missing): scores every
 * waiting forecast of a minute up to it at its step. Minutes must come in increasing order; one
 * not after the last is ignored. */
void sel_observe(struct sel *s, int64_t minute_ms, double actual);

/* Candidate c's error at step h (1..S) as defined above, and its minutes; NAN when none. */
double sel_error(const struct sel *s, int c, int h, int *samples);
/* Candidate c's mean absolute error at step h in invocations per minute; NAN when none. */
double sel_mae(const struct sel *s, int c, int h);
/* Candidate c's peak cost relative to persistence's under the score kind p.score ("peak" when
 * it is "step"), and its resolved forecasts; NAN when none. */
double sel_peak_error(const struct sel *s, int c, int *samples);
/* Candidate c's headroom for its peak: max(0, the 0.95-quantile of max actual - max predicted)
 * over its resolved forecasts, in invocations per minute; NAN when none. */
double sel_peak_headroom(const struct sel *s, int c);
/* Candidate c's score under p.score (step: mean error over steps 1..S; peak kinds:
 * sel_peak_error), or NAN while it is not scored. */
double sel_score(const struct sel *s, int c);

/* Chooses the candidate that drives from now_ms among those with available[c] != 0 (they could
 * forecast now): the active one stays while it is available, unless a scored challenger's score
 * is below the active score x (1 - margin) (below the active score when the model is active:
 * the margin protects a simple incumbent only) and the active one has driven dwell_ms since
 * it won on its score (no dwell for the cold-start choice or a fallback); the
 * best scored challenger takes over at once when the active one is unscored or unavailable (the
 * cold-start choice when nothing is scored, or the first available one in table order). Sets
 * s->why. Returns the active candidate, or -1 when none is available. */
int sel_choose(struct sel *s, const int *available, int64_t now_ms);

#endif
