/* Baselines in the Kubernetes manner: the HPA (target tracking on CPU), and the HPA with a
 * classical demand forecast (Holt-Winters or a linear trend) in the manner of the Predictive HPA.
 * These exist only for comparison; the node never runs them.
 *
 * HPA rules modelled (Kubernetes' replica calculator and default behaviour):
 *  - every sync period (15 s) the metric is the mean cpu_usage of the ready instances over the
 *    period; usage ratio u = cpu / target;
 *  - with no starting instances, or when u <= 1: |u - 1| <= tolerance holds the count, else
 *    recommendation = ceil(u x ready);
 *  - with starting instances and u > 1 (scale-up), the starting ones count at 0% usage:
 *    u' = ready x cpu / (requested x target); hold when |u' - 1| <= tolerance or u' <= 1, else
 *    ceil(u' x requested) = ceil(ready x cpu / target), i.e. ceil(n x cpu / target) over all n;
 *  - scale-up is limited per period to max(2 x current, current + 4) (default policies);
 *  - scale-down is stabilised: the count never drops below the highest recommendation of the
 *    last 5 minutes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aether/error.h"
#include "controllers.h"
#include "sim.h"

#define HPA_HISTORY 256 /* recommendations kept for the stabilisation window */

void sim_hpa_defaults(struct sim_hpa_params *p)
{
    p->target = 0.6;
    p->tolerance = 0.1;
    p->sync_ms = 15000;
    p->stabilization_ms = 300000;
}

struct hpa {
    struct sim_hpa_params p;
    int started;
    int64_t next_sync_ms;
    double cpu_sum;
    int cpu_n;
    int desired; /* the replica count set at the last sync */
    int64_t rec_ms[HPA_HISTORY];
    int rec[HPA_HISTORY];
    int rec_head, rec_count;
};

/* The raw recommendation of one sync (before limits and stabilisation). */
static int hpa_recommend(const struct hpa *h, double cpu, int ready, int requested)
{
    double u = cpu / h->p.target;
    int starting = requested - ready;
    if (starting > 0 && u > 1.0) {
        double u2 = ready * cpu / (requested * h->p.target);
        if (fabs(u2 - 1.0) <= h->p.tolerance || u2 <= 1.0)
            return requested;
        return (int)ceil(u2 * requested - 1e-9);
    }
    if (fabs(u - 1.0) <= h->p.tolerance)
        return requested;
    return (int)ceil(u * ready - 1e-9);
}

/* Applies the scale-up limit and the scale-down stabilisation to rec at now. */
static int hpa_behave(struct hpa *h, int rec, int current, int64_t now_ms)
{
    int slot = (h->rec_head + h->rec_count) % HPA_HISTORY;
    if (h->rec_count == HPA_HISTORY)
        h->rec_head = (h->rec_head + 1) % HPA_HISTORY;
    else
        h->rec_count++;
    h->rec_ms[slot] = now_ms;
    h->rec[slot] = rec;
    if (rec > current) {
        int limit = current * 2 > current + 4 ? current * 2 : current + 4;
        return rec < limit ? rec : limit;
    }
    int highest = rec;
    for (int i = 0; i < h->rec_count; i++) {
        int k = (h->rec_head + i) % HPA_HISTORY;
        if (now_ms - h->rec_ms[k] <= h->p.stabilization_ms && h->rec[k] > highest)
            highest = h->rec[k];
    }
    return highest < current ? highest : current;
}

/* One second of the HPA. floor (0 = none) is a replica target from a forecast, merged as the
 * larger of the two before limits and stabilisation. Returns the replica count in force. */
static int hpa_step(struct hpa *h, const struct sim_view *v, int floor)
{
    if (!h->started) {
        h->started = 1;
        h->next_sync_ms = v->now_ms + h->p.sync_ms;
        h->desired = v->requested;
    }
    if (v->resumed && h->next_sync_ms < v->now_ms) {
        h->next_sync_ms = v->now_ms + h->p.sync_ms;
        h->cpu_sum = 0;
        h->cpu_n = 0;
    }
    if (ae_snapshot_has(v->snapshot, AE_F_CPU_USAGE)) {
        h->cpu_sum += v->snapshot->values[AE_F_CPU_USAGE];
        h->cpu_n++;
    }
    if (v->now_ms < h->next_sync_ms)
        return h->desired;
    while (h->next_sync_ms <= v->now_ms)
        h->next_sync_ms += h->p.sync_ms;
    int rec = v->requested;
    if (h->cpu_n > 0 && v->ready > 0)
        rec = hpa_recommend(h, h->cpu_sum / h->cpu_n, v->ready, v->requested);
    h->cpu_sum = 0;
    h->cpu_n = 0;
    if (floor > rec)
        rec = floor;
    h->desired = hpa_behave(h, rec, v->requested, v->now_ms);
    return h->desired;
}

/* ---- plain HPA ---- */

struct hpa_ctl {
    struct sim_controller base;
    struct hpa hpa;
};

static int hpa_desired(struct sim_controller *c, const struct sim_view *v, int *out, char *err,
                       size_t errlen)
{
    (void)err;
    (void)errlen;
    struct hpa_ctl *k = c->state;
    *out = hpa_step(&k->hpa, v, 0);
    return 0;
}

static void plain_free(struct sim_controller *c)
{
    free(c->state);
}

struct sim_controller *sim_ctl_hpa_new(const struct sim_hpa_params *p, char *err, size_t errlen)
{
    struct hpa_ctl *k = calloc(1, sizeof *k);
    if (!k) {
        snprintf(err, errlen, "hpa controller: out of memory");
        return NULL;
    }
    k->hpa.p = *p;
    k->base.name = "hpa";
    k->base.state = k;
    k->base.desired = hpa_desired;
    k->base.free = plain_free;
    return &k->base;
}

/* ---- HPA + classical forecast ---- */

#define LINEAR_POINTS 30
#define THROUGHPUT_MINUTES 5
#define MAX_LEAD 60

/* Holt-Winters, additive, with fixed smoothing constants chosen before any evaluation; the season
 * position is the absolute minute modulo the season, so gaps keep the phase. Until a whole season
 * has been seen it is Holt's linear trend method; then the season is initialised from that first
 * season's deviations from its mean. */
#define HW_ALPHA 0.2
#define HW_BETA 0.01
#define HW_GAMMA 0.2

struct pred_ctl {
    struct sim_controller base;
    struct hpa hpa;
    int holt_winters; /* else linear */
    int lead;         /* minutes until an instance requested now serves */
    int season;
    /* Holt-Winters state */
    int have;
    int64_t last_minute; /* absolute minute index of the last observation */
    double level, trend;
    double *seasonal, *first_season;
    int seen, seasonal_ready;
    /* linear: the last LINEAR_POINTS observations (minute index, value) */
    double lx[LINEAR_POINTS], ly[LINEAR_POINTS];
    int lcount, lhead;
    /* throughput: invocations and cores in use of the last minutes */
    double tp_inv[THROUGHPUT_MINUTES], tp_cores[THROUGHPUT_MINUTES];
    int tp_count, tp_head;
    /* forecasts made at the last closed minute: for minutes next_minute_ms + h, h = 0..lead */
    int64_t next_minute_ms;
    double next_pred[MAX_LEAD + 1];
    int has_pred;
};

static double hw_season_at(const struct pred_ctl *k, int64_t minute)
{
    if (!k->seasonal_ready)
        return 0;
    return k->seasonal[((minute % k->season) + k->season) % k->season];
}

static void hw_observe(struct pred_ctl *k, int64_t minute, double y)
{
    if (!k->have) {
        k->have = 1;
        k->level = y;
        k->trend = 0;
        k->last_minute = minute;
        k->first_season[((minute % k->season) + k->season) % k->season] = y;
        k->seen = 1;
        return;
    }
    /* Minutes without an observation: the state moves on along its own forecast. */
    for (int64_t m = k->last_minute + 1; m < minute && m - k->last_minute <= 7 * 1440; m++)
        k->level += k->trend;
    double s = hw_season_at(k, minute);
    double prev_level = k->level;
    k->level = HW_ALPHA * (y - s) + (1 - HW_ALPHA) * (k->level + k->trend);
    k->trend = HW_BETA * (k->level - prev_level) + (1 - HW_BETA) * k->trend;
    int pos = (int)(((minute % k->season) + k->season) % k->season);
    if (k->seasonal_ready) {
        k->seasonal[pos] = HW_GAMMA * (y - k->level) + (1 - HW_GAMMA) * k->seasonal[pos];
    } else {
        k->first_season[pos] = y;
        if (++k->seen >= k->season) {
            double mean = 0;
            for (int i = 0; i < k->season; i++)
                mean += k->first_season[i];
            mean /= k->season;
            for (int i = 0; i < k->season; i++)
                k->seasonal[i] = k->first_season[i] - mean;
            k->level = mean;
            k->trend = 0;
            k->seasonal_ready = 1;
        }
    }
    k->last_minute = minute;
}

static double hw_forecast(const struct pred_ctl *k, int h)
{
    return k->level + h * k->trend + hw_season_at(k, k->last_minute + h);
}

static void linear_observe(struct pred_ctl *k, int64_t minute, double y)
{
    int slot = (k->lhead + k->lcount) % LINEAR_POINTS;
    if (k->lcount == LINEAR_POINTS)
        k->lhead = (k->lhead + 1) % LINEAR_POINTS;
    else
        k->lcount++;
    k->lx[slot] = (double)minute;
    k->ly[slot] = y;
    k->last_minute = minute;
    k->have = 1;
}

static double linear_forecast(const struct pred_ctl *k, int h)
{
    double mx = 0, my = 0;
    for (int i = 0; i < k->lcount; i++) {
        mx += k->lx[i];
        my += k->ly[i];
    }
    mx /= k->lcount;
    my /= k->lcount;
    double sxx = 0, sxy = 0;
    for (int i = 0; i < k->lcount; i++) {
        sxx += (k->lx[i] - mx) * (k->lx[i] - mx);
        sxy += (k->lx[i] - mx) * (k->ly[i] - my);
    }
    double slope = sxx > 0 ? sxy / sxx : 0;
    return my + slope * ((double)(k->last_minute + h) - mx);
}

static void pred_closed_minute(struct pred_ctl *k, const struct ae_minute *m)
{
    if (!ae_minute_has(m, AE_F_INVOCATIONS))
        return;
    double y = m->values[AE_F_INVOCATIONS];
    int64_t minute = m->start_ms / AE_MINUTE_MS;
    if (k->holt_winters)
        hw_observe(k, minute, y);
    else
        linear_observe(k, minute, y);
    if (ae_minute_has(m, AE_F_CPU_USAGE) && m->values[AE_F_CPU_USAGE] > 0.05) {
        int slot = (k->tp_head + k->tp_count) % THROUGHPUT_MINUTES;
        if (k->tp_count == THROUGHPUT_MINUTES)
            k->tp_head = (k->tp_head + 1) % THROUGHPUT_MINUTES;
        else
            k->tp_count++;
        k->tp_inv[slot] = y;
        k->tp_cores[slot] = m->values[AE_F_CPU_USAGE] * m->ready_mean;
    }
    k->next_minute_ms = m->start_ms + AE_MINUTE_MS;
    for (int h = 0; h <= k->lead; h++) {
        double f = k->holt_winters ? hw_forecast(k, h + 1) : linear_forecast(k, h + 1);
        k->next_pred[h] = f > 0 ? f : 0;
    }
    k->has_pred = 1;
}

static int pred_desired(struct sim_controller *c, const struct sim_view *v, int *out, char *err,
                        size_t errlen)
{
    (void)err;
    (void)errlen;
    struct pred_ctl *k = c->state;
    if (v->closed)
        pred_closed_minute(k, v->closed);
    int floor = 0;
    double inv = 0, cores = 0;
    for (int i = 0; i < k->tp_count; i++) {
        inv += k->tp_inv[i];
        cores += k->tp_cores[i];
    }
    if (k->has_pred && cores > 0 && inv > 0) {
        double per_instance = inv / cores; /* requests per minute one instance serves at 100% */
        double peak = 0;
        for (int h = 0; h <= k->lead; h++)
            peak = k->next_pred[h] > peak ? k->next_pred[h] : peak;
        double want = ceil(peak / (per_instance * k->hpa.p.target) - 1e-9);
        floor = want > v->max_instances ? v->max_instances : (int)want;
    }
    *out = hpa_step(&k->hpa, v, floor);
    return 0;
}

static int pred_forecast(struct sim_controller *c, int64_t minute_ms, double *out)
{
    struct pred_ctl *k = c->state;
    if (!k->has_pred || minute_ms < k->next_minute_ms)
        return 0;
    int64_t h = (minute_ms - k->next_minute_ms) / AE_MINUTE_MS;
    if (h > k->lead)
        return 0;
    *out = k->next_pred[h];
    return 1;
}

static void pred_free(struct sim_controller *c)
{
    struct pred_ctl *k = c->state;
    free(k->seasonal);
    free(k->first_season);
    free(k);
}

struct sim_controller *sim_ctl_predictive_new(const char *kind, const struct sim_hpa_params *p,
                                              int64_t startup_ms, int season_minutes, char *err,
                                              size_t errlen)
{
    int hw = strcmp(kind, "holt-winters") == 0;
    if (!hw && strcmp(kind, "linear") != 0) {
        snprintf(err, errlen, "unknown forecasting baseline '%s'", kind);
        return NULL;
    }
    if (hw && season_minutes < 2) {
        snprintf(err, errlen, "holt-winters: season of %d minutes is too short", season_minutes);
        return NULL;
    }
    struct pred_ctl *k = calloc(1, sizeof *k);
    if (k && hw) {
        k->seasonal = calloc((size_t)season_minutes, sizeof *k->seasonal);
        k->first_season = calloc((size_t)season_minutes, sizeof *k->first_season);
    }
    if (!k || (hw && (!k->seasonal || !k->first_season))) {
        if (k)
            pred_free(&k->base);
        snprintf(err, errlen, "%s controller: out of memory", kind);
        return NULL;
    }
    k->base.state = k;
    k->hpa.p = *p;
    k->holt_winters = hw;
    k->season = season_minutes;
    int lead = (int)((startup_ms + AE_MINUTE_MS - 1) / AE_MINUTE_MS);
    k->lead = lead > MAX_LEAD ? MAX_LEAD : lead;
    k->base.name = hw ? "holt-winters" : "linear";
    k->base.desired = pred_desired;
    k->base.forecast = pred_forecast;
    k->base.free = pred_free;
    return &k->base;
}
