/* Forecasters: what drives the TTM decision path besides the ONNX model. One table of named
 * forecasters ("model", "persistence", "drift", "seasonal-naive", "holt-winters", "linear",
 * "periodic"); the TTM manager asks the model through its predictor and every other one through
 * an fcr series, so the analyzer, sizing and confidence path is the same whichever forecaster
 * drives it.
 *
 * An fcr is the forecaster of ONE per-minute series (e.g. a blueprint's invocations). It keeps
 * its own history, longer than the model window (a day for the season): a ring of the last
 * FCR_HISTORY_MINUTES minutes indexed by absolute minute (Unix ms / 60000), fed with each closed
 * minute. Everything is allocated by fcr_new; observing and forecasting allocate nothing.
 * Holt-Winters, linear and periodic fit their parameters on the history they hold (least squares
 * of the one-step errors), first when the ring holds FCR_FIT_MIN_MINUTES, then every
 * refit_minutes (periodic: every FCR_PERIOD_REFIT_MINUTES, or refit_minutes when shorter).
 * Pure: no clock, no I/O, no globals. */
#ifndef AETHER_FORECASTER_H
#define AETHER_FORECASTER_H

#include <stddef.h>
#include <stdint.h>

enum fcr_kind {
    FCR_MODEL,          /* the ONNX predictor (not an fcr series: the TTM manager batches it) */
    FCR_PERSISTENCE,    /* the last value */
    FCR_DRIFT,          /* the last value plus step x the slope over the last drift_minutes */
    FCR_SEASONAL_NAIVE, /* the value one season earlier (persistence when that is missing) */
    FCR_HOLT_WINTERS,   /* additive damped trend and additive season, fitted */
    FCR_LINEAR,         /* least-squares line over the last n minutes, n fitted */
    FCR_AUTO,           /* all of the above side by side, the best by recent error drives
                           (select.h; not an fcr series) */
    /* series forecasters a blueprint may be fixed to that auto does not run */
    FCR_PERIODIC, /* the mean of the last FCR_PERIOD_CYCLES cycles at a fitted period of
                     2..FCR_PERIOD_MAX minutes (persistence when none fits better) */
    FCR_KIND_COUNT
};

/* "model" "persistence" "drift" "seasonal-naive" "holt-winters" "linear" "auto" "periodic";
 * static storage. */
extern const char *const fcr_kind_names[FCR_KIND_COUNT];

/* The kind named name, or -1. */
int fcr_kind_parse(const char *name);

/* 1 when kind is a series forecaster (every kind but FCR_MODEL and FCR_AUTO). */
int fcr_is_series(int kind);

#define FCR_HISTORY_MINUTES (7 * 1440) /* minutes of history an fcr keeps */
#define FCR_FIT_MIN_MINUTES 60         /* observed minutes before the first fit */
#define FCR_MAX_STEPS 64               /* farthest step a forecast may ask for */
#define FCR_PERIOD_MAX 180             /* longest period periodic fits, minutes */
#define FCR_PERIOD_CYCLES 3            /* cycles periodic averages */
#define FCR_PERIOD_FIT_MINUTES 1440    /* newest minutes periodic's fit scores */
#define FCR_PERIOD_REFIT_MINUTES 60    /* periodic refits at least this often */

struct fcr_params {
    int season_minutes; /* 1440; the season position is the absolute minute modulo it */
    int drift_minutes;  /* 5: drift's slope is (y[t] - y[t - k]) / k */
    int refit_minutes;  /* 1440: Holt-Winters and linear refit after this many new minutes */
    int damped;         /* 1: Holt-Winters fits phi in [0.8, 1]; 0: phi = 1 */
};

void fcr_params_defaults(struct fcr_params *p);

/* Fitted Holt-Winters parameters (read-only view, for reports and tests). seasonal = 0 when the
 * history held less than two seasons at the last fit (then the method is Holt's damped trend). */
struct fcr_hw_fit {
    double alpha, beta, gamma, phi;
    int seasonal;
    double sse;  /* sum of squared one-step errors at the fit */
    long points; /* one-step errors summed */
    long fits;   /* fits so far */
};

typedef struct fcr fcr;

/* A forecaster of one series in *out (caller frees with fcr_free). kind must be a series kind
 * (fcr_is_series). Returns 0, or AE_EINVAL (bad kind), AE_ERANGE (bad parameter) or AE_ENOMEM
 * with a message in err and *out NULL. */
int fcr_open(enum fcr_kind kind, const struct fcr_params *p, fcr **out, char *err, size_t errlen);
void fcr_free(fcr *f);

/* The closed minute starting at minute_ms (a multiple of 60000) had value y. Minutes must come
 * in increasing order: one not after the last observed is ignored (returns 0); so is a NAN y
 * (a missing minute: time passes, nothing is learned). May refit (Holt-Winters, linear). */
int fcr_observe(fcr *f, int64_t minute_ms, double y);

/* Like fcr_observe for a minute of older history fed in bulk (oldest first, before the live
 * minutes): stored, but the fit is deferred to the next fcr_observe, which fits once on
 * everything held. Until then forecasts are those of the state before the preload. */
int fcr_preload(fcr *f, int64_t minute_ms, double y);

/* Ends a bulk preload: fits once on everything held now (Holt-Winters, linear) instead of at
 * the next fcr_observe, so that the next forecast already uses the fit (a node's first
 * evaluation after a restart). Nothing happens when no preloaded minute waits for a fit or fewer
 * than FCR_FIT_MIN_MINUTES are held. */
void fcr_preload_end(fcr *f);

/* The start of the last minute observed with a value, or INT64_MIN before any. */
int64_t fcr_last_minute(const fcr *f);

/* Forecasts the minutes first_ms, first_ms + 1 min, ... (count of them, into out). Each is
 * forecast at its step h = minutes after the last observed one (h >= 1). Returns 0, AE_EAGAIN
 * before any observation, or AE_EINVAL when first_ms is not after the last observed minute or
 * a step exceeds FCR_MAX_STEPS. */
int fcr_forecast(const fcr *f, int64_t first_ms, int count, double *out);

/* The Holt-Winters fit in force (zeros before the first fit, or for other kinds). */
void fcr_hw_get_fit(const fcr *f, struct fcr_hw_fit *out);

/* Fixes Holt-Winters' parameters to fit's alpha, beta, gamma, phi and seasonal (no fitting from
 * then on); the state starts at the first observation: level = that value, trend and season 0.
 * Only before the first observation; AE_EINVAL otherwise or for a parameter outside [0, 1]
 * (phi in (0, 1]). For tests and for callers with parameters fitted elsewhere. */
int fcr_hw_fix(fcr *f, const struct fcr_hw_fit *fit);

/* The number of minutes linear fitted its line over (0 before the first fit or other kinds). */
int fcr_linear_points(const fcr *f);

/* The period periodic fitted, in minutes (0 before the first fit, when no period fitted better
 * than persistence, or for other kinds). */
int fcr_period(const fcr *f);

#endif
