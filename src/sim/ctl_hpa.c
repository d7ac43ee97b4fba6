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
#include "aether/forecaster.h"
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

int sim_ctl_hpa_open(const struct sim_hpa_params *p, struct sim_controller **out, char *err,
                     size_t errlen)
{
    *out = NULL;
    struct hpa_ctl *k = calloc(1, sizeof *k);
    if (!k) {
        snprintf(err, errlen, "hpa controller: out of memory");
        return AE_ENOMEM;
    }
    k->hpa.p = *p;
    k->base.name = "hpa";
    k->base.state = k;
    k->base.desired = hpa_desired;
    k->base.free = plain_free;
    *out = &k->base;
    return 0;
}

/* ---- HPA + classical forecast ---- */

#define THROUGHPUT_MINUTES 5

struct pred_ctl {
    struct sim_controller base;
    struct hpa hpa;
    fcr *f;   /* the core's fitted forecaster of invocations */
    int lead; /* minutes until an instance requested now serves */
    /* throughput: invocations and cores in use of the last minutes */
    double tp_inv[THROUGHPUT_MINUTES], tp_cores[THROUGHPUT_MINUTES];
    int tp_count, tp_head;
    /* the forecast made at the last closed minute: minutes next_minute_ms + h, h = 0..lead */
    int64_t next_minute_ms;
    double next_pred[SIM_MAX_STEPS];
    int has_pred;
    struct sim_fcst_log log;
};

static void pred_closed_minute(struct pred_ctl *k, const struct ae_minute *m)
{
    if (!ae_minute_has(m, AE_F_INVOCATIONS))
        return;
    double y = m->values[AE_F_INVOCATIONS];
    fcr_observe(k->f, m->start_ms, y);
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
    if (fcr_forecast(k->f, k->next_minute_ms, k->lead + 1, k->next_pred) != 0)
        return;
    for (int h = 0; h <= k->lead; h++)
        k->next_pred[h] = k->next_pred[h] > 0 ? k->next_pred[h] : 0;
    k->has_pred = 1;
    sim_fcst_log_add(&k->log, k->next_minute_ms, k->next_pred, k->lead + 1);
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

static int pred_forecast(struct sim_controller *c, int64_t minute_ms, int step, double *out)
{
    struct pred_ctl *k = c->state;
    return sim_fcst_log_get(&k->log, minute_ms, step, out);
}

static void pred_preload(struct sim_controller *c, const struct ae_minute *m)
{
    struct pred_ctl *k = c->state;
    if (!m)
        fcr_preload_end(k->f);
    else if (ae_minute_has(m, AE_F_INVOCATIONS))
        fcr_preload(k->f, m->start_ms, m->values[AE_F_INVOCATIONS]);
}

static void pred_report(struct sim_controller *c, struct sim_result *r)
{
    struct pred_ctl *k = c->state;
    struct fcr_hw_fit fit;
    fcr_hw_get_fit(k->f, &fit);
    if (fit.fits > 0) {
        sim_result_extra(r, "hw_alpha", fit.alpha);
        sim_result_extra(r, "hw_beta", fit.beta);
        sim_result_extra(r, "hw_gamma", fit.gamma);
        sim_result_extra(r, "hw_phi", fit.phi);
        sim_result_extra(r, "hw_seasonal", fit.seasonal);
        sim_result_extra(r, "fits", (double)fit.fits);
    } else if (fcr_linear_points(k->f) > 0) {
        sim_result_extra(r, "linear_minutes", fcr_linear_points(k->f));
    }
}

static void pred_free(struct sim_controller *c)
{
    struct pred_ctl *k = c->state;
    fcr_free(k->f);
    free(k);
}

int sim_ctl_predictive_open(const char *kind, const struct sim_hpa_params *p, int64_t startup_ms,
                            int season_minutes, struct sim_controller **out, char *err,
                            size_t errlen)
{
    *out = NULL;
    int hw = strcmp(kind, "holt-winters") == 0;
    if (!hw && strcmp(kind, "linear") != 0) {
        snprintf(err, errlen, "unknown forecasting baseline '%s'", kind);
        return AE_EINVAL;
    }
    struct fcr_params fp;
    fcr_params_defaults(&fp);
    fp.season_minutes = season_minutes;
    struct pred_ctl *k = calloc(1, sizeof *k);
    if (!k) {
        snprintf(err, errlen, "%s controller: out of memory", kind);
        return AE_ENOMEM;
    }
    k->base.state = k;
    int rc = fcr_open(hw ? FCR_HOLT_WINTERS : FCR_LINEAR, &fp, &k->f, err, errlen);
    if (rc) {
        pred_free(&k->base);
        return rc;
    }
    k->hpa.p = *p;
    int lead = (int)((startup_ms + AE_MINUTE_MS - 1) / AE_MINUTE_MS);
    k->lead = lead > SIM_MAX_STEPS - 1 ? SIM_MAX_STEPS - 1 : lead;
    k->base.name = hw ? "holt-winters" : "linear";
    k->base.desired = pred_desired;
    k->base.forecast = pred_forecast;
    k->base.preload = pred_preload;
    k->base.report = pred_report;
    k->base.free = pred_free;
    *out = &k->base;
    return 0;
}
