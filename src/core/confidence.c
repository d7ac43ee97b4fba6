/* Confidence tracker: forecasts wait for their minutes, are resolved into error sums, and the
 * last CONF_WINDOW resolutions give WAPE, confidence and skill. */
#include <math.h>
#include <string.h>

#include "aether/confidence.h"

void conf_init(struct conf_tracker *t, double val_wape)
{
    memset(t, 0, sizeof *t);
    t->val_wape = val_wape;
    t->last_seen_ms = INT64_MIN;
}

void conf_record(struct conf_tracker *t, int64_t first_start_ms, const float *forecast, int horizon,
                 double ready, const struct ae_minute *last)
{
    if (horizon < 1)
        return;
    if (horizon > CONF_MAX_HORIZON)
        horizon = CONF_MAX_HORIZON;
    struct conf_pending *p;
    if (t->pending_count && t->pending[t->pending_count - 1].first_start_ms == first_start_ms) {
        p = &t->pending[t->pending_count - 1]; /* a re-evaluation of the same minutes */
    } else {
        if (t->pending_count == CONF_MAX_PENDING) {
            memmove(&t->pending[0], &t->pending[1], (CONF_MAX_PENDING - 1) * sizeof t->pending[0]);
            t->pending_count--;
        }
        p = &t->pending[t->pending_count++];
    }
    memset(p, 0, sizeof *p);
    p->first_start_ms = first_start_ms;
    p->horizon = horizon;
    p->ready = ready;
    for (int h = 0; h < horizon; h++) {
        p->cpu[h] = forecast[h * AE_FEATURE_COUNT + AE_F_CPU_USAGE];
        p->inv[h] = forecast[h * AE_FEATURE_COUNT + AE_F_INVOCATIONS];
    }
    p->last_cpu = last && ae_minute_has(last, AE_F_CPU_USAGE) ? last->values[AE_F_CPU_USAGE] : NAN;
    p->last_inv =
        last && ae_minute_has(last, AE_F_INVOCATIONS) ? last->values[AE_F_INVOCATIONS] : NAN;
}

/* Adds one actual minute to a pending forecast. cpu is compared as cores in use, so that a change
 * of the instance count during the forecast is not counted as forecast error. */
static void accumulate(struct conf_pending *p, int h, const struct ae_minute *m)
{
    struct conf_resolved *a = &p->acc;
    if (ae_minute_has(m, AE_F_CPU_USAGE)) {
        double actual = m->values[AE_F_CPU_USAGE] * m->ready_mean;
        a->err_cpu += fabs(p->cpu[h] * p->ready - actual);
        a->act_cpu += fabs(actual);
        a->pers_cpu += isnan(p->last_cpu) ? fabs(actual) : fabs(p->last_cpu * p->ready - actual);
        a->n_cpu++;
    }
    if (ae_minute_has(m, AE_F_INVOCATIONS)) {
        double actual = m->values[AE_F_INVOCATIONS];
        if (a->n_inv == 0 || actual - p->inv[h] > a->shortfall_inv)
            a->shortfall_inv = actual - p->inv[h];
        a->err_inv += fabs(p->inv[h] - actual);
        a->act_inv += fabs(actual);
        a->pers_inv += isnan(p->last_inv) ? fabs(actual) : fabs(p->last_inv - actual);
        a->n_inv++;
    }
}

void conf_observe(struct conf_tracker *t, const struct ae_minute *m)
{
    if (m->start_ms <= t->last_seen_ms)
        return;
    t->last_seen_ms = m->start_ms;
    int kept = 0;
    for (int i = 0; i < t->pending_count; i++) {
        struct conf_pending *p = &t->pending[i];
        int64_t h = (m->start_ms - p->first_start_ms) / AE_MINUTE_MS;
        if (m->start_ms >= p->first_start_ms && h < p->horizon)
            accumulate(p, (int)h, m);
        int64_t last_start = p->first_start_ms + (int64_t)(p->horizon - 1) * AE_MINUTE_MS;
        if (m->start_ms < last_start) {
            t->pending[kept++] = *p; /* still waiting for minutes */
            continue;
        }
        if (p->acc.n_cpu + p->acc.n_inv == 0)
            continue; /* none of its minutes could be compared: discarded */
        if (p->acc.n_inv)
            t->shortfall[t->shortfall_total++ % CONF_SHORTFALL_WINDOW] = p->acc.shortfall_inv;
        t->resolved[t->resolved_next] = p->acc;
        t->resolved_next = (t->resolved_next + 1) % CONF_WINDOW;
        t->resolved_total++;
    }
    t->pending_count = kept;
}

long conf_resolved_count(const struct conf_tracker *t)
{
    return t->resolved_total;
}

/* Window totals; returns the number of resolutions in the window. */
static int totals(const struct conf_tracker *t, struct conf_resolved *sum)
{
    memset(sum, 0, sizeof *sum);
    int n = t->resolved_total < CONF_WINDOW ? (int)t->resolved_total : CONF_WINDOW;
    for (int i = 0; i < n; i++) {
        const struct conf_resolved *r = &t->resolved[i];
        sum->err_cpu += r->err_cpu;
        sum->act_cpu += r->act_cpu;
        sum->pers_cpu += r->pers_cpu;
        sum->err_inv += r->err_inv;
        sum->act_inv += r->act_inv;
        sum->pers_inv += r->pers_inv;
        sum->n_cpu += r->n_cpu;
        sum->n_inv += r->n_inv;
    }
    return n;
}

/* WAPE with the contract's rule for an all-zero actual: 0 when exact, else 1. */
static double wape(double err, double act)
{
    if (act > 0)
        return err / act;
    return err == 0 ? 0 : 1;
}

/* Mean of the WAPEs of the features that were observed at all. */
static double mean_error(const struct conf_resolved *s, double err_cpu, double err_inv)
{
    double total = 0;
    int k = 0;
    if (s->n_cpu) {
        total += wape(err_cpu, s->act_cpu);
        k++;
    }
    if (s->n_inv) {
        total += wape(err_inv, s->act_inv);
        k++;
    }
    return k ? total / k : NAN;
}

double conf_confidence(const struct conf_tracker *t)
{
    double c;
    if (t->resolved_total < CONF_MIN_RESOLVED) {
        c = t->val_wape >= 0 ? 1 - t->val_wape : 0;
    } else {
        struct conf_resolved s;
        totals(t, &s);
        c = 1 - mean_error(&s, s.err_cpu, s.err_inv);
    }
    return c < 0 || isnan(c) ? 0 : c > 1 ? 1 : c;
}

void conf_wape(const struct conf_tracker *t, double *wape_cpu, double *wape_inv)
{
    struct conf_resolved s;
    int n = totals(t, &s);
    *wape_cpu = n && s.n_cpu ? wape(s.err_cpu, s.act_cpu) : NAN;
    *wape_inv = n && s.n_inv ? wape(s.err_inv, s.act_inv) : NAN;
}

double conf_skill(const struct conf_tracker *t)
{
    struct conf_resolved s;
    if (!totals(t, &s))
        return NAN;
    double model = mean_error(&s, s.err_cpu, s.err_inv);
    double persistence = mean_error(&s, s.pers_cpu, s.pers_inv);
    if (!(persistence > 0))
        return NAN;
    return 1 - model / persistence;
}

/* The k-th smallest (from 0) of v[0..n-1], reordering v: Hoare's selection, O(n) on average,
 * in place (no allocation). */
static double kth_smallest(double *v, int n, int k)
{
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        double pivot = v[lo + (hi - lo) / 2];
        int i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i <= j) {
                double x = v[i];
                v[i++] = v[j];
                v[j--] = x;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            break; /* between j and i: every value there equals the pivot */
    }
    return v[k];
}

double conf_quantile(double *v, int n, double q)
{
    int k = (int)ceil(q * n - 1e-9) - 1;
    k = k < 0 ? 0 : k >= n ? n - 1 : k;
    return kth_smallest(v, n, k);
}

double conf_demand_headroom(const struct conf_tracker *t, double q)
{
    int n = t->shortfall_total < CONF_SHORTFALL_WINDOW ? (int)t->shortfall_total
                                                       : CONF_SHORTFALL_WINDOW;
    if (n == 0)
        return 0;
    double copy[CONF_SHORTFALL_WINDOW];
    memcpy(copy, t->shortfall, (size_t)n * sizeof *copy);
    double v = conf_quantile(copy, n, q);
    return v > 0 ? v : 0;
}
