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
/* The fleet is sized for the forecast's peak demand plus this quantile of recent under-forecasts
 * (confidence.h, conf_demand_headroom). */
#define FCST_HEADROOM_QUANTILE 0.95
/* A minute at this cpu or more is saturated: its cost per request is left out when others have
 * one. */
#define FCST_SATURATED_UTIL 0.95

enum fcst_type {
    FCST_HOLD,              /* NoAction */
    FCST_SCALE_UP,          /* PreemptiveScaleUp: the fleet needs more (F > requested) */
    FCST_SCALE_DOWN,        /* PreemptiveScaleDown: the fleet needs fewer (F < requested) */
    FCST_ADJUST_THRESHOLDS, /* the spec's AdjustThresholds: not produced since v2 (docs/core.md);
                             * kept so that the API's and the metrics' type set stays the same */
    FCST_TYPE_COUNT,
};

enum fcst_reason {
    FCST_REASON_NONE,              /* an action: the reason text says why */
    FCST_REASON_STABLE,            /* no rule fired */
    FCST_REASON_LOW_CONFIDENCE,    /* confidence below the threshold */
    FCST_REASON_INSUFFICIENT_DATA, /* no history, or no cpu in it, or no forecast */
    FCST_REASON_SATURATED,         /* every minute with requests was saturated: floor only */
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

/* "scale_up" "scale_down" "adjust_thresholds" "hold" (the API / metric label spelling), and
 * "STABLE" "LOW_CONFIDENCE" "INSUFFICIENT_DATA" "SATURATED" "" for the reasons. Static storage. */
const char *fcst_type_name(enum fcst_type t);
const char *fcst_reason_name(enum fcst_reason r);

#endif
