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
 * same minutes, those from count_from_ms on. The last SIM_MAX_STEPS minutes' invocations are
 * kept by minute index. */
struct scorer {
    int64_t count_from_ms;
    int64_t start[SIM_MAX_STEPS];
    double inv[SIM_MAX_STEPS]; /* NAN when that minute had no invocations */
    double err_model[SIM_MAX_STEPS], err_naive[SIM_MAX_STEPS];
    long n[SIM_MAX_STEPS];
};

static void scorer_init(struct scorer *s, int64_t count_from_ms)
{
    memset(s, 0, sizeof *s);
    s->count_from_ms = count_from_ms;
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
    int counted = m->start_ms >= s->count_from_ms;
    for (int h = 1; counted && c->forecast && !isnan(actual) && h <= SIM_MAX_STEPS; h++) {
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

/* The timeline of the minutes after the first `skip` of l. */
static int timeline_alloc(struct sim_timeline *t, const struct sim_load *l, size_t skip)
{
    memset(t, 0, sizeof *t);
    t->minutes = l->minutes - skip;
    t->start_ms = l->start_ms + (int64_t)skip * AE_MINUTE_MS;
    t->needed = malloc(t->minutes * sizeof *t->needed);
    t->ready = malloc(t->minutes * sizeof *t->ready);
    t->requested = malloc(t->minutes * sizeof *t->requested);
    if (!t->needed || !t->ready || !t->requested) {
        sim_timeline_free(t);
        return AE_ENOMEM;
    }
    return 0;
}

/* One run's state: the inputs (borrowed), the fleet, the aggregator and the running totals. */
struct run {
    const struct sim_load *l;
    const struct sim_params *p;
    struct sim_controller *c;
    tdata_writer *export_to;       /* may be NULL */
    struct sim_timeline *timeline; /* may be NULL */
    struct sim_result *out;
    int64_t count_from_ms; /* the first counted minute (after the warm-up) */
    int counting;          /* the current minute counts */
    agg *a;
    struct fleet f;
    struct scorer sc;
    double *minute_p95; /* one per simulated minute */
    long p95_count;
    double util_offered, util_capacity, inst_seconds;
    int resumed; /* the next second follows a skipped gap */
    /* The service result only changes with the load and the ready count: reuse it. */
    double cached_offered;
    int cached_ready;
    struct ae_snapshot cached_snap;
    struct sim_second cached_sec;
};

/* A closed minute: scored against the controller's forecast and exported. */
static void minute_closed(struct run *r, const struct ae_minute *m)
{
    score_minute(&r->sc, r->c, m);
    if (r->export_to && m->start_ms >= r->count_from_ms)
        export_minute(r->export_to, m);
}

/* The sums one simulated minute adds up over its seconds. */
struct minute_sums {
    double offered, capacity, dropped, p95, ready, requested;
};

/* One simulated second at now with offered_per_s requests per second: the fleet, the service,
 * the aggregator and the controller's decision. 0, or a negative AE_E* code with a message. */
static int run_second(struct run *r, int64_t now, double offered_per_s, struct minute_sums *m,
                      char *err, size_t errlen)
{
    const struct sim_params *p = r->p;
    fleet_advance(&r->f, now);
    int ready = fleet_ready(&r->f);
    if (offered_per_s != r->cached_offered || ready != r->cached_ready) {
        ae_snapshot_init(&r->cached_snap, now);
        sim_service_second(&p->service, offered_per_s, ready, &r->cached_snap, &r->cached_sec);
        r->cached_offered = offered_per_s;
        r->cached_ready = ready;
    }
    struct ae_snapshot snap = r->cached_snap;
    snap.timestamp_ms = now;
    snap.ready = ready;
    snap.requested = r->f.requested;
    m->offered += r->cached_sec.offered;
    m->capacity += r->cached_sec.capacity;
    m->dropped += r->cached_sec.dropped;
    m->p95 += r->cached_sec.p95_ms;
    m->ready += ready;

    struct ae_minute closed;
    int got = agg_add(r->a, &snap, &closed);
    if (got < 0) {
        snprintf(err, errlen, "simulation: the aggregator refused the snapshot at %lld",
                 (long long)now);
        return got;
    }
    if (got == 1)
        minute_closed(r, &closed);
    struct sim_view v = {.now_ms = now,
                         .snapshot = &snap,
                         .closed = got == 1 ? &closed : NULL,
                         .history = r->a,
                         .ready = ready,
                         .requested = r->f.requested,
                         .min_instances = p->min_instances,
                         .max_instances = p->max_instances,
                         .resumed = r->resumed};
    r->resumed = 0;
    int want = r->f.requested;
    int rc = r->c->desired(r->c, &v, &want, err, errlen);
    if (rc < 0)
        return rc;
    want = want < p->min_instances ? p->min_instances : want;
    want = want > p->max_instances ? p->max_instances : want;
    if (want != r->f.requested) {
        fleet_set(&r->f, want, now, p->startup_ms);
        if (r->counting)
            r->out->scaling_actions++;
    }
    m->requested += r->f.requested;
    if (!r->counting)
        return 0;
    if (r->f.requested > r->out->peak_requested)
        r->out->peak_requested = r->f.requested;
    r->inst_seconds += r->f.requested;
    return 0;
}

/* Simulated minute m (60 seconds, or a skipped one), then, after the warm-up, its SLO and
 * timeline entries. */
static int run_minute(struct run *r, size_t m, char *err, size_t errlen)
{
    const struct sim_load *l = r->l;
    size_t warmup = r->p->warmup_minutes;
    if (m == warmup) {
        r->counting = 1;
        if (r->c->count_start)
            r->c->count_start(r->c);
    }
    struct sim_timeline *tl = r->counting ? r->timeline : NULL;
    size_t at = m - warmup; /* the timeline's index, used once counting */
    if (isnan(l->demand[m])) {
        r->resumed = 1;
        if (tl)
            tl->needed[at] = tl->ready[at] = tl->requested[at] = NAN;
        return 0;
    }
    int64_t t0 = l->start_ms + (int64_t)m * AE_MINUTE_MS;
    double offered_per_s = l->demand[m] / 60.0;
    struct minute_sums sums = {0};
    for (int s = 0; s < 60; s++) {
        int rc = run_second(r, t0 + (int64_t)s * 1000, offered_per_s, &sums, err, errlen);
        if (rc < 0)
            return rc;
    }
    if (!r->counting)
        return 0;
    struct sim_result *out = r->out;
    out->minutes++;
    out->requests += sums.offered;
    out->dropped += sums.dropped;
    r->util_offered += sums.offered;
    r->util_capacity += sums.capacity;
    double util =
        sums.capacity > 0 ? sums.offered / sums.capacity : (sums.offered > 0 ? INFINITY : 0);
    if (util > r->p->slo_util + AE_CMP_EPS || sums.dropped > 0)
        out->slo_violation_minutes++;
    r->minute_p95[r->p95_count++] = sums.p95 / 60.0;
    if (tl) {
        tl->needed[at] = l->demand[m] / r->p->service.capacity_per_min;
        tl->ready[at] = sums.ready / 60.0;
        tl->requested[at] = sums.requested / 60.0;
    }
    return 0;
}

/* The totals of a finished run: cost, utilisation, p95 over minutes, forecast error, extras. */
static void finish(struct run *r)
{
    struct sim_result *out = r->out;
    struct ae_minute closed;
    if (agg_close(r->a, &closed) == 1)
        minute_closed(r, &closed);
    out->instance_minutes = r->inst_seconds / 60.0;
    out->mean_utilisation = r->util_capacity > 0 ? r->util_offered / r->util_capacity : 0;
    if (r->p95_count > 0) {
        double *v = r->minute_p95;
        qsort(v, (size_t)r->p95_count, sizeof *v, cmp_double);
        double pos = 0.95 * (double)(r->p95_count - 1);
        long k = (long)pos;
        out->p95_latency_ms =
            k + 1 < r->p95_count ? v[k] + (v[k + 1] - v[k]) * (pos - (double)k) : v[k];
    }
    score_result(&r->sc, out);
    if (r->c->report)
        r->c->report(r->c, out);
}

/* The count at the start: the given one, or enough for the first minute at 60%, within bounds. */
static int initial_count(const struct sim_load *l, const struct sim_params *p)
{
    int initial = p->initial_instances;
    if (initial <= 0)
        initial = (int)ceil(l->demand[0] / (p->service.capacity_per_min * 0.6));
    return initial < p->min_instances ? p->min_instances
                                      : (initial > p->max_instances ? p->max_instances : initial);
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
    if (p->warmup_minutes >= l->minutes) {
        snprintf(err, errlen,
                 "simulation: a warm-up of %zu minutes leaves nothing of the %zu minutes to count",
                 p->warmup_minutes, l->minutes);
        return AE_EINVAL;
    }
    struct run r = {.l = l,
                    .p = p,
                    .c = c,
                    .export_to = export_to,
                    .timeline = timeline,
                    .out = out,
                    .count_from_ms = l->start_ms + (int64_t)p->warmup_minutes * AE_MINUTE_MS,
                    .cached_offered = -1,
                    .cached_ready = -1};
    r.f.ready_at = malloc((size_t)p->max_instances * sizeof *r.f.ready_at);
    r.minute_p95 = malloc((l->minutes ? l->minutes : 1) * sizeof *r.minute_p95);
    ae_snapshot_init(&r.cached_snap, 0);
    scorer_init(&r.sc, r.count_from_ms);
    int rc = 0;
    if (agg_open(&r.a, NULL, 0) || !r.f.ready_at || !r.minute_p95 ||
        (timeline && timeline_alloc(timeline, l, p->warmup_minutes))) {
        snprintf(err, errlen, "simulation: out of memory");
        rc = AE_ENOMEM;
    } else {
        r.f.requested = initial_count(l, p);
        for (size_t m = 0; m < l->minutes && rc == 0; m++)
            rc = run_minute(&r, m, err, errlen);
        if (rc == 0)
            finish(&r);
    }
    if (rc < 0 && timeline)
        sim_timeline_free(timeline);
    agg_free(r.a);
    free(r.f.ready_at);
    free(r.minute_p95);
    return rc;
}
