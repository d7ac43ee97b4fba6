/* Forecast analyzer: turns one blueprint's forecast (H minutes x 11 features) and its recent
 * history into a scaling recommendation. It sizes the fleet the forecast needs, in demand
 * (requests) with the measured CPU cost per request so that the result does not depend on how
 * many instances happen to serve right now, with headroom for the forecast's recent
 * under-forecasts; the recommendation holds that size as a floor and, when confident, a ceiling.
 * See docs/core.md for the rules and their numbers. */
#ifndef AETHER_FORECAST_H
#define AETHER_FORECAST_H

#include "aether/decision.h"
#include "aether/snapshot.h"

#define FCST_HISTORY_MINUTES 5 /* minutes of history the analyzer reads */
/* ttm.headroom_quantile: the fleet is sized for the forecast's peak demand plus this quantile of
 * recent under-forecasts (confidence.h, conf_demand_headroom); the default chosen on the
 * validation slices (docs/core.md, "Bounded churn"). */
#define FCST_HEADROOM_QUANTILE_DEFAULT 0.70
#define FCST_HEADROOM_QUANTILE_MIN 0.5
#define FCST_HEADROOM_QUANTILE_MAX 0.99
/* A minute at this cpu or more is saturated: its cost per request is left out when others have
 * one. */
#define FCST_SATURATED_UTIL 0.95

/* Recommendation types: X(name, API / metric label). HOLD is the spec's NoAction, SCALE_UP its
 * PreemptiveScaleUp (the fleet needs more, F > requested), SCALE_DOWN its PreemptiveScaleDown
 * (F < requested). The spec's AdjustThresholds is gone since v2 (docs/core.md). */
#define FCST_TYPE_MAP(X)                                                                          \
    X(HOLD, "hold")                                                                                \
    X(SCALE_UP, "scale_up")                                                                        \
    X(SCALE_DOWN, "scale_down")

enum fcst_type {
#define FCST_TYPE_ENUM(name, text) FCST_##name,
    FCST_TYPE_MAP(FCST_TYPE_ENUM)
#undef FCST_TYPE_ENUM
        FCST_TYPE_COUNT
};

/* Why a recommendation holds: X(name, API spelling). NONE: an action, the text says why;
 * STABLE: no rule fired; LOW_CONFIDENCE: confidence below the threshold; INSUFFICIENT_DATA: no
 * history, or no cpu in it, or no forecast; SATURATED: every minute with requests was saturated
 * (floor only). */
#define FCST_REASON_MAP(X)                                                                        \
    X(NONE, "")                                                                                    \
    X(STABLE, "STABLE")                                                                            \
    X(LOW_CONFIDENCE, "LOW_CONFIDENCE")                                                            \
    X(INSUFFICIENT_DATA, "INSUFFICIENT_DATA")                                                      \
    X(SATURATED, "SATURATED")

enum fcst_reason {
#define FCST_REASON_ENUM(name, text) FCST_REASON_##name,
    FCST_REASON_MAP(FCST_REASON_ENUM)
#undef FCST_REASON_ENUM
        FCST_REASON_COUNT
};

/* Everything the analyzer needs; pointers are borrowed for the call. */
struct fcst_input {
    const struct ae_minute *history; /* the last closed minutes, oldest first (the newest 5 used) */
    int history_count;
    const float *forecast; /* horizon x 11, row-major, raw feature units (per-minute sums) */
    int horizon;
    double confidence;           /* 0..1, from the confidence tracker */
    double confidence_threshold; /* [ttm] confidence_threshold */
    int ready;                   /* ready instances now (r) */
    int requested;               /* requested instances now (n) */
    int min_instances;
    int max_instances;
    double cpu_limit_cores;
    double cfg_cpu_up; /* [controller] cpu_scale_up_threshold: the forecast peak is sized at it */
    double demand_headroom; /* invocations per minute added to the predicted peak (>= 0) */
    double bound_util;      /* [ttm] upper_bound_utilization: at most this with the headroom */
};

struct fcst_recommendation {
    enum fcst_type type;
    enum fcst_reason reason;
    int target_instances; /* the fleet the forecast needs (F), within [min, max]; 0 when none */
    int floor;            /* instances held at least: F whenever there is one, else 0 */
    int ceiling;          /* instances held at most: F when confident, else 0 */
    /* The numbers behind it (NAN where not computed). */
    int sized_by_demand; /* 1: demand x cost; 0: predicted cpu directly (no request metrics) */
    int cost_saturated;  /* 1: cost from minutes at FCST_SATURATED_UTIL or more only (too low) */
    double util_now, util_peak, util_trough, rise, fall;
    double demand_now, demand_peak, demand_trough; /* invocations per minute */
    double demand_headroom;                        /* added to demand_peak for sizing */
    double cost;                                   /* core-seconds per request */
    double confidence;
    char text[AE_REASON_MAX]; /* one line for logs and the API */
};

/* Classifies one forecast. Always fills *out (a hold with a reason when it cannot act). */
void fcst_analyze(const struct fcst_input *in, struct fcst_recommendation *out);

/* F for another demand peak: the fleet that keeps demand_peak at in's scale-up threshold and
 * demand_peak plus in's headroom at its bound, at cost core-seconds per request, within in's
 * [min, max] (fcst_analyze's F of a forecast sized by demand). */
int fcst_fleet_for_peak(const struct fcst_input *in, double cost, double demand_peak);

/* The names of FCST_TYPE_MAP and FCST_REASON_MAP (static storage); "unknown" for a value outside
 * the enum. */
const char *fcst_type_name(enum fcst_type t);
const char *fcst_reason_name(enum fcst_reason r);

#endif
