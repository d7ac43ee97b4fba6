/* Forecast confidence from measured error, per blueprint.
 *
 * Every forecast is remembered until its minutes have arrived, then resolved: its absolute errors
 * and the actual magnitudes of cpu and invocations are added up. Over the last 30 resolved
 * forecasts, WAPE_f = sum|predicted - actual| / sum|actual|, and confidence = clamp(1 - (WAPE_cpu +
 * WAPE_inv) / 2, 0, 1). Until 10 forecasts have resolved, confidence is 1 - the model's val_wape
 * (0 when the model does not state it). cpu is compared as cores in use (cpu_usage x ready
 * instances), so that the node's own scaling during a forecast's minutes does not count as
 * forecast error; invocations (demand) are compared as they are. When one of the two features was
 * never observed in the window (no request metrics), confidence uses the other alone. Skill over
 * persistence (the last minute repeated) is computed on the same forecasts for reports. Fixed-size,
 * no allocation. */
#ifndef AETHER_CONFIDENCE_H
#define AETHER_CONFIDENCE_H

#include <stdint.h>

#include "aether/snapshot.h"

#define CONF_WINDOW 30       /* K: resolved forecasts that count */
#define CONF_MIN_RESOLVED 10 /* below this, the model's own val_wape decides */
#define CONF_MAX_PENDING 16  /* forecasts awaiting their minutes */
#define CONF_MAX_HORIZON 10
/* Under-forecasts of demand remembered for the sizing headroom (4 hours of 1-minute forecasts). */
#define CONF_SHORTFALL_WINDOW 240

/* The totals of one forecast's comparable minutes. */
struct conf_resolved {
    double err_cpu, act_cpu, pers_cpu; /* sum |pred - actual|, sum |actual|, sum |last - actual| */
    double err_inv, act_inv, pers_inv; /* the same for invocations */
    int n_cpu, n_inv;                  /* minutes that had the feature */
    double shortfall_inv; /* max over the forecast's minutes of (actual - predicted) invocations */
};

struct conf_pending {
    int64_t first_start_ms; /* start of the first forecast minute */
    int horizon;
    double cpu[CONF_MAX_HORIZON]; /* predicted cpu_usage */
    double inv[CONF_MAX_HORIZON]; /* predicted invocations per minute */
    double ready;                 /* ready instances the cpu forecast assumes */
    double last_cpu;              /* persistence: the last minute's cpu_usage (NAN if missing) */
    double last_inv;              /* persistence: the last minute's invocations (NAN if missing) */
    struct conf_resolved acc;     /* accumulating */
};

struct conf_tracker {
    double val_wape; /* the model's aether.val_wape, negative when absent */
    struct conf_pending pending[CONF_MAX_PENDING];
    int pending_count;
    struct conf_resolved resolved[CONF_WINDOW]; /* ring */
    int resolved_next;
    long resolved_total;                     /* resolved since start */
    double shortfall[CONF_SHORTFALL_WINDOW]; /* ring of shortfall_inv, resolutions with demand */
    long shortfall_total;
    int64_t last_seen_ms; /* newest minute observed, INT64_MIN before any */
};

/* Starts empty with the model's val_wape (negative = absent). */
void conf_init(struct conf_tracker *t, double val_wape);

/* Remembers a forecast of the H minutes starting at first_start_ms. forecast is H x 11 raw
 * values, ready the instances serving when it was made, last the newest closed minute (for the
 * persistence baseline; may be NULL). A forecast for the same first minute as the newest pending
 * one replaces it; when the pending list is full the oldest is dropped. H above CONF_MAX_HORIZON
 * is cut to it. */
void conf_record(struct conf_tracker *t, int64_t first_start_ms, const float *forecast, int horizon,
                 double ready, const struct ae_minute *last);

/* Feeds one closed minute (in time order; older or repeated minutes are ignored). Forecasts whose
 * last minute has now passed are resolved (those with no comparable minute are discarded). */
void conf_observe(struct conf_tracker *t, const struct ae_minute *m);

/* Forecasts resolved so far (all time). */
long conf_resolved_count(const struct conf_tracker *t);

/* Confidence 0..1 as described above. */
double conf_confidence(const struct conf_tracker *t);

/* WAPE of cpu and invocations over the window (NAN before the first resolution). */
void conf_wape(const struct conf_tracker *t, double *wape_cpu, double *wape_inv);

/* Skill over persistence: 1 - (model error) / (persistence error), both as the mean WAPE of cpu
 * and invocations over the window; NAN before the first resolution or when persistence was
 * exact. Reported, never gating. */
double conf_skill(const struct conf_tracker *t);

/* Demand headroom for sizing, in invocations per minute: the q-quantile (0..1) of the shortfalls
 * (largest under-forecast of demand within one forecast's minutes) of the last
 * CONF_SHORTFALL_WINDOW resolved forecasts, and never below 0. 0 before the first resolution with
 * demand. Adding it to a forecast's peak gives a peak the actual demand stayed under in about a
 * fraction q of recent forecasts. */
double conf_demand_headroom(const struct conf_tracker *t, double q);

/* The q-quantile (0..1) of v[0..n-1], n >= 1: the smallest value with at least a fraction q of
 * them at or below it. Reorders v; allocates nothing. */
double conf_quantile(double *v, int n, double q);

#endif
