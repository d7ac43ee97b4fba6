/* Forecast analyzer: the fleet a forecast needs, sized in demand with the measured cost per
 * request and headroom for recent under-forecasts. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "aether/forecast.h"
#include "aether/names.h"
#include "aether/tree.h"

/* ceil() that does not turn 5.0000000001 (floating-point noise) into 6. */
static int ceil_count(double x)
{
    return (int)ceil(x - AE_CMP_EPS);
}

static int clamp_int(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static void hold(struct fcst_recommendation *out, enum fcst_reason reason, const char *text)
{
    out->type = FCST_HOLD;
    out->reason = reason;
    snprintf(out->text, sizeof out->text, "%s", text);
}

/* Demand and cost from the last minutes; returns 0 when there is no cpu to start from. */
static int measure_now(const struct fcst_input *in, struct fcst_recommendation *out)
{
    int from =
        in->history_count > FCST_HISTORY_MINUTES ? in->history_count - FCST_HISTORY_MINUTES : 0;
    /* cost from the minutes below saturation when there are any: a saturated minute's cpu is
     * capped, so its cost per request only bounds the real one from below */
    double inv_sum = 0, both_inv[2] = {0, 0}, both_cores[2] = {0, 0};
    int inv_n = 0, both_n[2] = {0, 0}, has_now = 0;
    for (int i = from; i < in->history_count; i++) {
        const struct ae_minute *m = &in->history[i];
        if (ae_minute_has(m, AE_F_CPU_USAGE)) {
            out->util_now = m->values[AE_F_CPU_USAGE]; /* the newest minute with cpu */
            has_now = 1;
        }
        if (!ae_minute_has(m, AE_F_INVOCATIONS))
            continue;
        inv_sum += m->values[AE_F_INVOCATIONS];
        inv_n++;
        if (ae_minute_has(m, AE_F_CPU_USAGE)) {
            int sat = m->values[AE_F_CPU_USAGE] >= FCST_SATURATED_UTIL - AE_CMP_EPS;
            both_inv[sat] += m->values[AE_F_INVOCATIONS];
            /* core-seconds used in that minute */
            both_cores[sat] += m->values[AE_F_CPU_USAGE] * m->ready_mean * in->cpu_limit_cores * 60;
            both_n[sat]++;
        }
    }
    if (inv_n)
        out->demand_now = inv_sum / inv_n;
    int k = both_n[0] > 0 && both_inv[0] > 0 ? 0 : 1;
    out->sized_by_demand = both_n[k] > 0 && both_inv[k] > 0;
    out->cost_saturated = out->sized_by_demand && k == 1;
    if (out->sized_by_demand)
        out->cost = both_cores[k] / both_inv[k];
    return has_now;
}

/* Predicted peak and trough (demand, or cpu without request metrics) and the utilisations they
 * mean for the ready instances. Returns 0 when the forecast is not finite. */
static int read_forecast(const struct fcst_input *in, struct fcst_recommendation *out)
{
    double r = in->ready > 1 ? in->ready : 1;
    double lo = INFINITY, hi = -INFINITY;
    int f = out->sized_by_demand ? AE_F_INVOCATIONS : AE_F_CPU_USAGE;
    for (int h = 0; h < in->horizon; h++) {
        double v = in->forecast[h * AE_FEATURE_COUNT + f];
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    if (!isfinite(lo) || !isfinite(hi))
        return 0;
    if (out->sized_by_demand) {
        out->demand_peak = hi > 0 ? hi : 0;
        out->demand_trough = lo > 0 ? lo : 0;
        out->util_peak = out->demand_peak * out->cost / (60 * r * in->cpu_limit_cores);
        out->util_trough = out->demand_trough * out->cost / (60 * r * in->cpu_limit_cores);
    } else {
        out->util_peak = hi;
        out->util_trough = lo;
    }
    out->rise = out->util_peak - out->util_now;
    out->fall = out->util_trough - out->util_now;
    return 1;
}

/* F, within [min, max]: the instances that keep the predicted peak at the configured scale-up
 * threshold and the peak plus the headroom of recent under-forecasts at bound_util. */
static int fleet_needed(const struct fcst_input *in, struct fcst_recommendation *out)
{
    double peak_cores, bound_cores; /* cores the peak and its upper bound keep busy */
    if (out->sized_by_demand) {
        out->demand_headroom = in->demand_headroom > 0 ? in->demand_headroom : 0;
        peak_cores = out->demand_peak * out->cost / 60;
        bound_cores = (out->demand_peak + out->demand_headroom) * out->cost / 60;
    } else {
        peak_cores = bound_cores =
            (in->ready > 1 ? in->ready : 1) * out->util_peak * in->cpu_limit_cores;
    }
    double by_peak = peak_cores / (in->cpu_limit_cores * in->cfg_cpu_up);
    double by_bound = in->bound_util > 0 ? bound_cores / (in->cpu_limit_cores * in->bound_util) : 0;
    return clamp_int(ceil_count(by_peak > by_bound ? by_peak : by_bound), in->min_instances,
                     in->max_instances);
}

int fcst_fleet_for_peak(const struct fcst_input *in, double cost, double demand_peak)
{
    struct fcst_recommendation r = {.sized_by_demand = 1, .demand_peak = demand_peak, .cost = cost};
    return fleet_needed(in, &r);
}

void fcst_analyze(const struct fcst_input *in, struct fcst_recommendation *out)
{
    memset(out, 0, sizeof *out);
    out->util_now = out->util_peak = out->util_trough = out->rise = out->fall = NAN;
    out->demand_now = out->demand_peak = out->demand_trough = out->cost = NAN;
    out->demand_headroom = NAN;
    out->confidence = in->confidence;

    const char *missing = NULL;
    if (in->history_count < 1 || !in->forecast || in->horizon < 1 || !measure_now(in, out))
        missing = "no cpu history or no forecast";
    else if (!read_forecast(in, out))
        missing = "forecast is not finite";
    int fleet = missing ? 0 : fleet_needed(in, out);
    char text[AE_REASON_MAX];
    if (!(in->confidence >= in->confidence_threshold - AE_CMP_EPS)) {
        /* Too uncertain to shrink the fleet on; a floor only risks cost, never the SLO. */
        out->target_instances = out->floor = fleet;
        if (fleet)
            snprintf(text, sizeof text, "confidence %.2f below %.2f: floor %d only", in->confidence,
                     in->confidence_threshold, fleet);
        else
            snprintf(text, sizeof text, "confidence %.2f below %.2f", in->confidence,
                     in->confidence_threshold);
        hold(out, FCST_REASON_LOW_CONFIDENCE, text);
        return;
    }
    if (missing) {
        hold(out, FCST_REASON_INSUFFICIENT_DATA, missing);
        return;
    }
    out->target_instances = out->floor = out->ceiling = fleet;
    int n = in->requested;
    if (out->cost_saturated) {
        /* F is only a lower bound: keep it, never shrink towards it */
        out->ceiling = 0;
        snprintf(text, sizeof text,
                 "saturated (cpu >= %.2f in every minute with requests): cost per request "
                 "unknown; floor %d only (requested %d)",
                 FCST_SATURATED_UTIL, fleet, n);
        if (fleet > n) {
            out->type = FCST_SCALE_UP;
            snprintf(out->text, sizeof out->text, "%s", text);
        } else {
            hold(out, FCST_REASON_SATURATED, text);
        }
        return;
    }
    if (fleet > n) {
        out->type = FCST_SCALE_UP;
        snprintf(out->text, sizeof out->text,
                 "utilisation %.2f -> %.2f predicted: %d instances needed, scale up from %d",
                 out->util_now, out->util_peak, fleet, n);
    } else if (fleet < n) {
        out->type = FCST_SCALE_DOWN;
        snprintf(out->text, sizeof out->text,
                 "utilisation %.2f -> %.2f predicted: %d instances needed, scale down from %d",
                 out->util_now, out->util_trough, fleet, n);
    } else {
        snprintf(text, sizeof text, "utilisation %.2f -> %.2f predicted: stable at %d instances",
                 out->util_now, out->util_peak, fleet);
        hold(out, FCST_REASON_STABLE, text);
    }
}

#define MAP_TEXT(name, text) text,
static const char *const type_names[FCST_TYPE_COUNT] = {FCST_TYPE_MAP(MAP_TEXT)};
static const char *const reason_names[FCST_REASON_COUNT] = {FCST_REASON_MAP(MAP_TEXT)};
#undef MAP_TEXT

const char *fcst_type_name(enum fcst_type t)
{
    return ae_name_in(type_names, FCST_TYPE_COUNT, (int)t, "unknown");
}

const char *fcst_reason_name(enum fcst_reason r)
{
    return ae_name_in(reason_names, FCST_REASON_COUNT, (int)r, "unknown");
}
