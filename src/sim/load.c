/* From a trace on its own grid to the per-minute offered load of the simulation (see load.h). */
#include "load.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aether/error.h"
#include "aether/snapshot.h"

void sim_load_free(struct sim_load *l)
{
    free(l->demand);
    memset(l, 0, sizeof *l);
}

/* Bridges runs of NAN of at most max_fill minutes linearly; counts bridged and skipped runs.
 * Leading and trailing NAN are trimmed. */
static int fill_and_trim(struct sim_load *l, int max_fill, char *err, size_t errlen)
{
    size_t first = 0, last = l->minutes;
    while (first < l->minutes && isnan(l->demand[first]))
        first++;
    while (last > first && isnan(l->demand[last - 1]))
        last--;
    if (first == last) {
        snprintf(err, errlen, "the trace has no usable load values");
        return AE_EINVAL;
    }
    for (size_t i = first; i < last;) {
        if (!isnan(l->demand[i])) {
            i++;
            continue;
        }
        size_t j = i;
        while (isnan(l->demand[j]))
            j++;
        size_t run = j - i;
        if ((int)run <= max_fill) {
            double a = l->demand[i - 1], b = l->demand[j];
            for (size_t k = i; k < j; k++)
                l->demand[k] = a + (b - a) * (double)(k - i + 1) / (double)(run + 1);
            l->filled_runs++;
            l->filled_minutes += run;
        } else {
            l->skipped_runs++;
            l->skipped_minutes += run;
        }
        i = j;
    }
    if (first > 0)
        memmove(l->demand, l->demand + first, (last - first) * sizeof *l->demand);
    l->start_ms += (int64_t)first * AE_MINUTE_MS;
    l->minutes = last - first;
    return 0;
}

int sim_load_from_minutes(int64_t start_ms, const double *per_minute, size_t minutes,
                          int max_fill_minutes, struct sim_load *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->demand = malloc((minutes ? minutes : 1) * sizeof *out->demand);
    if (!out->demand) {
        snprintf(err, errlen, "out of memory for %zu minutes of load", minutes);
        return AE_ENOMEM;
    }
    for (size_t i = 0; i < minutes; i++) {
        if (per_minute[i] < 0) {
            snprintf(err, errlen, "load value %g at minute %zu is negative", per_minute[i], i);
            sim_load_free(out);
            return AE_EINVAL;
        }
        out->demand[i] = per_minute[i];
    }
    out->start_ms = start_ms;
    out->minutes = minutes;
    int rc = fill_and_trim(out, max_fill_minutes, err, errlen);
    if (rc)
        sim_load_free(out);
    return rc;
}

int sim_load_from_trace(const struct trace *t, double scale, int max_fill_minutes,
                        struct sim_load *out, char *err, size_t errlen)
{
    int64_t step = t->step_ms;
    if (!(step % AE_MINUTE_MS == 0 || AE_MINUTE_MS % step == 0)) {
        snprintf(err, errlen, "step of %lld ms is neither a multiple nor a divisor of a minute",
                 (long long)step);
        return AE_EINVAL;
    }
    int64_t first_min = t->start_ms - (((t->start_ms % AE_MINUTE_MS) + AE_MINUTE_MS) % AE_MINUTE_MS);
    int64_t end_ms = t->start_ms + (int64_t)(t->len - 1) * step;
    size_t minutes = (size_t)((end_ms - first_min) / AE_MINUTE_MS) + 1;
    double *m = malloc(minutes * sizeof *m);
    if (!m) {
        snprintf(err, errlen, "out of memory for %zu minutes of load", minutes);
        return AE_ENOMEM;
    }
    for (size_t i = 0; i < minutes; i++)
        m[i] = NAN;
    if (step >= AE_MINUTE_MS) {
        /* Level interpolated between points; NAN when either neighbour is missing. */
        for (size_t i = 0; i < minutes; i++) {
            int64_t at = first_min + (int64_t)i * AE_MINUTE_MS - t->start_ms;
            if (at < 0)
                continue;
            size_t k = (size_t)(at / step);
            int64_t off = at % step;
            double a = t->values[k];
            if (off == 0)
                m[i] = a * scale;
            else if (k + 1 < t->len)
                m[i] = (a + (t->values[k + 1] - a) * (double)off / (double)step) * scale;
        }
    } else {
        /* Mean of the points inside each minute (missing points left out). */
        double *sum = calloc(minutes, sizeof *sum);
        int *cnt = calloc(minutes, sizeof *cnt);
        if (!sum || !cnt) {
            free(sum);
            free(cnt);
            free(m);
            snprintf(err, errlen, "out of memory for %zu minutes of load", minutes);
            return AE_ENOMEM;
        }
        for (size_t k = 0; k < t->len; k++) {
            if (isnan(t->values[k]))
                continue;
            size_t i = (size_t)((t->start_ms + (int64_t)k * step - first_min) / AE_MINUTE_MS);
            sum[i] += t->values[k];
            cnt[i]++;
        }
        for (size_t i = 0; i < minutes; i++)
            if (cnt[i])
                m[i] = sum[i] / cnt[i] * scale;
        free(sum);
        free(cnt);
    }
    int rc = sim_load_from_minutes(first_min, m, minutes, max_fill_minutes, out, err, errlen);
    free(m);
    return rc;
}

int sim_load_slice(struct sim_load *l, int has_from, int64_t from_ms, int has_to, int64_t to_ms,
                   char *err, size_t errlen)
{
    int64_t lo = 0, hi = (int64_t)l->minutes;
    if (has_from && from_ms > l->start_ms)
        lo = (from_ms - l->start_ms + AE_MINUTE_MS - 1) / AE_MINUTE_MS;
    if (has_to && to_ms < l->start_ms + hi * AE_MINUTE_MS)
        hi = to_ms <= l->start_ms ? 0 : (to_ms - l->start_ms + AE_MINUTE_MS - 1) / AE_MINUTE_MS;
    /* Trim skipped minutes at the new ends. */
    while (lo < hi && isnan(l->demand[lo]))
        lo++;
    while (hi > lo && isnan(l->demand[hi - 1]))
        hi--;
    if (lo >= hi) {
        snprintf(err, errlen, "no load left inside the --from/--to range");
        return AE_EINVAL;
    }
    memmove(l->demand, l->demand + lo, (size_t)(hi - lo) * sizeof *l->demand);
    l->start_ms += lo * AE_MINUTE_MS;
    l->minutes = (size_t)(hi - lo);
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double sim_load_percentile(const struct sim_load *l, double p)
{
    double *v = malloc((l->minutes ? l->minutes : 1) * sizeof *v);
    if (!v)
        return 0;
    size_t n = 0;
    for (size_t i = 0; i < l->minutes; i++)
        if (!isnan(l->demand[i]))
            v[n++] = l->demand[i];
    double r = 0;
    if (n > 0) {
        qsort(v, n, sizeof *v, cmp_double);
        double pos = p / 100.0 * (double)(n - 1);
        size_t k = (size_t)pos;
        r = k + 1 < n ? v[k] + (v[k + 1] - v[k]) * (pos - (double)k) : v[n - 1];
    }
    free(v);
    return r;
}
