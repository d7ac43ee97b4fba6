/* The simulation loop (see sim.h): virtual clock, instances with a start-up delay, the service
 * model, the core's minute aggregator, the controller, and the accounting of SLO, cost, actions,
 * latency and forecast error. */
#include "sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aether/error.h"
#include "aether/tree.h"

void sim_result_extra(struct sim_result *r, const char *name, double value)
{
    if (r->extra_count < SIM_EXTRA_MAX) {
        r->extra[r->extra_count].name = name;
        r->extra[r->extra_count].value = value;
        r->extra_count++;
    }
}

void sim_timeline_free(struct sim_timeline *t)
{
    free(t->needed);
    free(t->ready);
    free(t->requested);
    memset(t, 0, sizeof *t);
}

/* Instances: `requested` of them, the last `pending` still starting (ready_at ascending). */
struct fleet {
    int requested;
    int pending;
    int64_t *ready_at; /* max_instances slots, oldest first */
};

static int fleet_ready(const struct fleet *f)
{
    return f->requested - f->pending;
}

static void fleet_advance(struct fleet *f, int64_t now_ms)
{
    int k = 0;
    while (k < f->pending && f->ready_at[k] <= now_ms)
        k++;
    if (k) {
        memmove(f->ready_at, f->ready_at + k, (size_t)(f->pending - k) * sizeof *f->ready_at);
        f->pending -= k;
    }
}

static void fleet_set(struct fleet *f, int want, int64_t now_ms, int64_t startup_ms)
{
    if (want > f->requested) {
        for (int i = f->requested; i < want; i++)
            f->ready_at[f->pending++] = now_ms + startup_ms;
    } else {
        int remove = f->requested - want;
        int cancel = remove < f->pending ? remove : f->pending; /* newest starting first */
        f->pending -= cancel;
    }
    f->requested = want;
}

/* Forecast scoring at every step: the controller's and persistence's absolute errors over the
 * same minutes. The last SIM_MAX_STEPS minutes' invocations are kept by minute index. */
struct scorer {
    int64_t start[SIM_MAX_STEPS];
    double inv[SIM_MAX_STEPS]; /* NAN when that minute had no invocations */
    double err_model[SIM_MAX_STEPS], err_naive[SIM_MAX_STEPS];
    long n[SIM_MAX_STEPS];
};

static void scorer_init(struct scorer *s)
{
    memset(s, 0, sizeof *s);
    for (int i = 0; i < SIM_MAX_STEPS; i++) {
        s->start[i] = INT64_MIN;
        s->inv[i] = NAN;
    }
}

static int64_t slot_of(int64_t start_ms)
{
    int64_t m = start_ms / AE_MINUTE_MS;
    return ((m % SIM_MAX_STEPS) + SIM_MAX_STEPS) % SIM_MAX_STEPS;
}

static void score_minute(struct scorer *s, struct sim_controller *c, const struct ae_minute *m)
{
    double actual = ae_minute_has(m, AE_F_INVOCATIONS) ? m->values[AE_F_INVOCATIONS] : NAN;
    for (int h = 1; c->forecast && !isnan(actual) && h <= SIM_MAX_STEPS; h++) {
        int64_t origin = m->start_ms - (int64_t)h * AE_MINUTE_MS;
        int64_t k = slot_of(origin);
        double pred;
        if (s->start[k] != origin || isnan(s->inv[k]) || !c->forecast(c, m->start_ms, h, &pred))
            continue;
        s->err_model[h - 1] += fabs(pred - actual);
        s->err_naive[h - 1] += fabs(s->inv[k] - actual);
        s->n[h - 1]++;
    }
    int64_t k = slot_of(m->start_ms);
    s->start[k] = m->start_ms;
    s->inv[k] = actual;
}

static void score_result(const struct scorer *s, struct sim_result *out)
{
    for (int h = 0; h < SIM_MAX_STEPS; h++) {
        long n = s->n[h];
        out->forecast_minutes_by_step[h] = n;
        out->mae_by_step[h] = n ? s->err_model[h] / (double)n : NAN;
        out->mase_by_step[h] = n && s->err_naive[h] > 0 ? s->err_model[h] / s->err_naive[h] : NAN;
        if (n)
            out->steps = h + 1;
    }
    out->forecast_minutes = out->forecast_minutes_by_step[0];
    out->mae = out->mae_by_step[0];
    out->mase = out->mase_by_step[0];
}

static int export_minute(tdata_writer *w, const struct ae_minute *m)
{
    double v[AE_FEATURE_COUNT];
    for (int i = 0; i < AE_FEATURE_COUNT; i++)
        v[i] = ae_minute_has(m, i) ? m->values[i] : NAN;
    return tdata_writer_row(w, m->start_ms, v);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int timeline_alloc(struct sim_timeline *t, const struct sim_load *l)
{
    memset(t, 0, sizeof *t);
    t->minutes = l->minutes;
    t->start_ms = l->start_ms;
    t->needed = malloc(l->minutes * sizeof *t->needed);
    t->ready = malloc(l->minutes * sizeof *t->ready);
    t->requested = malloc(l->minutes * sizeof *t->requested);
    if (!t->needed || !t->ready || !t->requested) {
        sim_timeline_free(t);
        return AE_ENOMEM;
    }
    return 0;
}

int sim_run(const struct sim_load *l, const struct sim_params *p, struct sim_controller *c,
            tdata_writer *export_to, struct sim_timeline *timeline, struct sim_result *out,
            char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->controller = c->name;
    out->has_forecast = c->forecast != NULL;
    if (p->min_instances < 1 || p->max_instances < p->min_instances ||
        !(p->service.capacity_per_min > 0)) {
        snprintf(err, errlen, "simulation: need 1 <= min <= max instances and a capacity > 0");
        return AE_EINVAL;
    }
    agg *a = agg_new();
    struct fleet f = {0};
    f.ready_at = malloc((size_t)p->max_instances * sizeof *f.ready_at);
    double *minute_p95 = malloc((l->minutes ? l->minutes : 1) * sizeof *minute_p95);
    int rc = 0;
    if (!a || !f.ready_at || !minute_p95 || (timeline && timeline_alloc(timeline, l))) {
        snprintf(err, errlen, "simulation: out of memory");
        rc = AE_ENOMEM;
        goto done;
    }
    int initial = p->initial_instances;
    if (initial <= 0) {
        double first = l->demand[0];
        initial = (int)ceil(first / (p->service.capacity_per_min * 0.6));
    }
    f.requested = initial < p->min_instances
                      ? p->min_instances
                      : (initial > p->max_instances ? p->max_instances : initial);

    struct scorer sc;
    scorer_init(&sc);
    double util_offered = 0, util_capacity = 0, inst_seconds = 0;
    long p95_count = 0;
    int resumed = 0;
    /* The service result only changes with the load and the ready count: reuse it. */
    double cached_offered = -1;
    int cached_ready = -1;
    struct ae_snapshot cached_snap;
    struct sim_second cached_sec;
    ae_snapshot_init(&cached_snap, 0);

    for (size_t m = 0; m < l->minutes && rc == 0; m++) {
        if (isnan(l->demand[m])) {
            resumed = 1;
            if (timeline)
                timeline->needed[m] = timeline->ready[m] = timeline->requested[m] = NAN;
            continue;
        }
        int64_t t0 = l->start_ms + (int64_t)m * AE_MINUTE_MS;
        double offered_per_s = l->demand[m] / 60.0;
        double m_offered = 0, m_capacity = 0, m_dropped = 0, m_p95 = 0, m_ready = 0, m_req = 0;
        for (int s = 0; s < 60; s++) {
            int64_t now = t0 + (int64_t)s * 1000;
            fleet_advance(&f, now);
            int ready = fleet_ready(&f);
            if (offered_per_s != cached_offered || ready != cached_ready) {
                ae_snapshot_init(&cached_snap, now);
                sim_service_second(&p->service, offered_per_s, ready, &cached_snap, &cached_sec);
                cached_offered = offered_per_s;
                cached_ready = ready;
            }
            struct ae_snapshot snap = cached_snap;
            snap.timestamp_ms = now;
            snap.ready = ready;
            snap.requested = f.requested;
            m_offered += cached_sec.offered;
            m_capacity += cached_sec.capacity;
            m_dropped += cached_sec.dropped;
            m_p95 += cached_sec.p95_ms;
            m_ready += ready;

            struct ae_minute closed;
            int got = agg_add(a, &snap, &closed);
            if (got < 0) {
                snprintf(err, errlen, "simulation: the aggregator refused the snapshot at %lld",
                         (long long)now);
                rc = got;
                break;
            }
            if (got == 1) {
                score_minute(&sc, c, &closed);
                if (export_to)
                    export_minute(export_to, &closed);
            }
            struct sim_view v = {.now_ms = now,
                                 .snapshot = &snap,
                                 .closed = got == 1 ? &closed : NULL,
                                 .history = a,
                                 .ready = ready,
                                 .requested = f.requested,
                                 .min_instances = p->min_instances,
                                 .max_instances = p->max_instances,
                                 .resumed = resumed};
            resumed = 0;
            int want = f.requested;
            rc = c->desired(c, &v, &want, err, errlen);
            if (rc < 0)
                break;
            want = want < p->min_instances ? p->min_instances : want;
            want = want > p->max_instances ? p->max_instances : want;
            if (want != f.requested) {
                fleet_set(&f, want, now, p->startup_ms);
                out->scaling_actions++;
            }
            if (f.requested > out->peak_requested)
                out->peak_requested = f.requested;
            inst_seconds += f.requested;
            m_req += f.requested;
        }
        out->minutes++;
        out->requests += m_offered;
        out->dropped += m_dropped;
        util_offered += m_offered;
        util_capacity += m_capacity;
        double util = m_capacity > 0 ? m_offered / m_capacity : (m_offered > 0 ? INFINITY : 0);
        if (util > p->slo_util + AE_CMP_EPS || m_dropped > 0)
            out->slo_violation_minutes++;
        minute_p95[p95_count++] = m_p95 / 60.0;
        if (timeline) {
            timeline->needed[m] = l->demand[m] / p->service.capacity_per_min;
            timeline->ready[m] = m_ready / 60.0;
            timeline->requested[m] = m_req / 60.0;
        }
    }
    if (rc == 0) {
        struct ae_minute closed;
        if (agg_close(a, &closed) == 1) {
            score_minute(&sc, c, &closed);
            if (export_to)
                export_minute(export_to, &closed);
        }
        out->instance_minutes = inst_seconds / 60.0;
        out->mean_utilisation = util_capacity > 0 ? util_offered / util_capacity : 0;
        if (p95_count > 0) {
            qsort(minute_p95, (size_t)p95_count, sizeof *minute_p95, cmp_double);
            double pos = 0.95 * (double)(p95_count - 1);
            long k = (long)pos;
            out->p95_latency_ms =
                k + 1 < p95_count
                    ? minute_p95[k] + (minute_p95[k + 1] - minute_p95[k]) * (pos - (double)k)
                    : minute_p95[k];
        }
        score_result(&sc, out);
        if (c->report)
            c->report(c, out);
    }
done:
    if (rc < 0 && timeline)
        sim_timeline_free(timeline);
    agg_free(a);
    free(f.ready_at);
    free(minute_p95);
    return rc;
}
