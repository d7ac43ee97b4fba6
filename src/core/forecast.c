/* Forecast analyzer: the spec's utilisation rules, sized in demand with the measured cost per
 * request, thresholds adjusted from the configured values. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "aether/forecast.h"
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

static double clamp(double v, double lo, double hi)
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
    double inv_sum = 0, both_inv = 0, both_cores = 0;
    int inv_n = 0, both_n = 0, has_now = 0;
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
            both_inv += m->values[AE_F_INVOCATIONS];
            /* core-seconds used in that minute */
            both_cores += m->values[AE_F_CPU_USAGE] * m->ready_mean * in->cpu_limit_cores * 60;
            both_n++;
        }
    }
    if (inv_n)
        out->demand_now = inv_sum / inv_n;
    out->sized_by_demand = both_n > 0 && both_inv > 0;
    if (out->sized_by_demand)
        out->cost = (both_cores / both_n) / (both_inv / both_n);
    return has_now;
}

void fcst_analyze(const struct fcst_input *in, struct fcst_recommendation *out)
{
    memset(out, 0, sizeof *out);
    out->util_now = out->util_peak = out->util_trough = out->rise = out->fall = NAN;
    out->demand_now = out->demand_peak = out->demand_trough = out->cost = NAN;
    out->cpu_up = in->cfg_cpu_up;
    out->cpu_down = in->cfg_cpu_down;
    out->confidence = in->confidence;

    if (!(in->confidence >= in->confidence_threshold - AE_CMP_EPS)) {
        char text[AE_REASON_MAX];
        snprintf(text, sizeof text, "confidence %.2f below %.2f", in->confidence,
                 in->confidence_threshold);
        hold(out, FCST_REASON_LOW_CONFIDENCE, text);
        return;
    }
    if (in->history_count < 1 || !in->forecast || in->horizon < 1 || !measure_now(in, out)) {
        hold(out, FCST_REASON_INSUFFICIENT_DATA, "no cpu history or no forecast");
        return;
    }
    double r = in->ready > 1 ? in->ready : 1, cores = in->cpu_limit_cores;
    double lo = INFINITY, hi = -INFINITY;
    int f = out->sized_by_demand ? AE_F_INVOCATIONS : AE_F_CPU_USAGE;
    for (int h = 0; h < in->horizon; h++) {
        double v = in->forecast[h * AE_FEATURE_COUNT + f];
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    if (!isfinite(lo) || !isfinite(hi)) {
        hold(out, FCST_REASON_INSUFFICIENT_DATA, "forecast is not finite");
        return;
    }
    if (out->sized_by_demand) {
        out->demand_peak = hi > 0 ? hi : 0;
        out->demand_trough = lo > 0 ? lo : 0;
        out->util_peak = out->demand_peak * out->cost / (60 * r * cores);
        out->util_trough = out->demand_trough * out->cost / (60 * r * cores);
    } else {
        out->util_peak = hi;
        out->util_trough = lo;
    }
    double rise = out->util_peak - out->util_now, fall = out->util_trough - out->util_now;
    out->rise = rise;
    out->fall = fall;

    if (rise > 0.15 + AE_CMP_EPS ||
        (out->util_peak > 0.7 + AE_CMP_EPS && rise > 0.10 + AE_CMP_EPS)) {
        double need =
            out->sized_by_demand ? out->demand_peak * out->cost / (60 * cores) : r * out->util_peak;
        out->type = FCST_SCALE_UP;
        out->target_instances =
            clamp_int(ceil_count(need / FCST_TARGET_UP_UTIL), in->min_instances, in->max_instances);
        snprintf(out->text, sizeof out->text,
                 "utilisation %.2f -> %.2f predicted (rise %.2f): floor %d instances",
                 out->util_now, out->util_peak, rise, out->target_instances);
    } else if (fall < -0.15 - AE_CMP_EPS && out->util_trough < 0.3 - AE_CMP_EPS) {
        double need = out->sized_by_demand ? out->demand_trough * out->cost / (60 * cores)
                                           : r * out->util_trough;
        out->type = FCST_SCALE_DOWN;
        out->target_instances = clamp_int(ceil_count(need / FCST_TARGET_DOWN_UTIL),
                                          in->min_instances, in->max_instances);
        snprintf(out->text, sizeof out->text,
                 "utilisation %.2f -> %.2f predicted (fall %.2f): ceiling %d instances",
                 out->util_now, out->util_trough, fall, out->target_instances);
    } else if (fabs(rise) > 0.05 + AE_CMP_EPS) {
        double up = in->cfg_cpu_up - 0.5 * rise;
        up = clamp(clamp(up, in->cfg_cpu_up - 0.3, in->cfg_cpu_up + 0.1), 0.05, 0.95);
        double down = in->cfg_cpu_down - 0.5 * rise;
        down = clamp(clamp(down, in->cfg_cpu_down - 0.1, in->cfg_cpu_down + 0.2), 0, up - 0.1);
        out->type = FCST_ADJUST_THRESHOLDS;
        out->cpu_up = up;
        out->cpu_down = down;
        snprintf(out->text, sizeof out->text,
                 "utilisation %.2f -> %.2f predicted (change %+.2f): thresholds %.2f/%.2f",
                 out->util_now, out->util_peak, rise, up, down);
    } else {
        char text[AE_REASON_MAX];
        snprintf(text, sizeof text, "utilisation %.2f -> %.2f predicted: stable", out->util_now,
                 out->util_peak);
        hold(out, FCST_REASON_STABLE, text);
    }
}

const char *fcst_type_name(enum fcst_type t)
{
    static const char *const names[FCST_TYPE_COUNT] = {"hold", "scale_up", "scale_down",
                                                       "adjust_thresholds"};
    return t >= 0 && t < FCST_TYPE_COUNT ? names[t] : "unknown";
}

const char *fcst_reason_name(enum fcst_reason r)
{
    switch (r) {
    case FCST_REASON_STABLE:
        return "STABLE";
    case FCST_REASON_LOW_CONFIDENCE:
        return "LOW_CONFIDENCE";
    case FCST_REASON_INSUFFICIENT_DATA:
        return "INSUFFICIENT_DATA";
    default:
        return "";
    }
}
