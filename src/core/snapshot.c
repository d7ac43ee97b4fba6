/* Snapshot and minute helpers, and the histogram quantile used for p50/p95/p99. */
#include <math.h>
#include <string.h>

#include "aether/snapshot.h"

void ae_snapshot_init(struct ae_snapshot *s, int64_t timestamp_ms)
{
    memset(s, 0, sizeof *s);
    s->timestamp_ms = timestamp_ms;
    s->missing = AE_ALL_FEATURES;
}

void ae_snapshot_set(struct ae_snapshot *s, int i, double v)
{
    if (i < 0 || i >= AE_FEATURE_COUNT)
        return;
    s->values[i] = v;
    s->missing &= ~AE_FEATURE_BIT(i);
}

int ae_snapshot_has(const struct ae_snapshot *s, int i)
{
    return i >= 0 && i < AE_FEATURE_COUNT && !(s->missing & AE_FEATURE_BIT(i));
}

void ae_minute_init(struct ae_minute *m, int64_t start_ms)
{
    memset(m, 0, sizeof *m);
    m->start_ms = start_ms;
    m->missing = AE_ALL_FEATURES;
}

int ae_minute_has(const struct ae_minute *m, int i)
{
    return i >= 0 && i < AE_FEATURE_COUNT && !(m->missing & AE_FEATURE_BIT(i));
}

int64_t ae_minute_floor(int64_t t_ms)
{
    int64_t q = t_ms / AE_MINUTE_MS;
    if (t_ms % AE_MINUTE_MS < 0)
        q--;
    return q * AE_MINUTE_MS;
}

double ae_histogram_quantile(const struct ae_histogram *h, double q)
{
    double total = 0;
    for (int i = 0; i < h->buckets; i++)
        total += h->count[i];
    if (h->buckets <= 0 || total <= 0)
        return -1;
    if (q < 0)
        q = 0;
    if (q > 1)
        q = 1;
    double rank = q * total, below = 0;
    for (int i = 0; i < h->buckets; i++) {
        double lo = i == 0 ? 0 : h->upper_ms[i - 1];
        double hi = h->upper_ms[i];
        if (below + h->count[i] >= rank && h->count[i] > 0) {
            if (isinf(hi))
                return lo; /* nothing to interpolate towards: the highest finite bound */
            return lo + (hi - lo) * (rank - below) / h->count[i];
        }
        below += h->count[i];
    }
    /* rank beyond the last non-empty bucket can only happen through rounding */
    for (int i = h->buckets - 1; i >= 0; i--)
        if (!isinf(h->upper_ms[i]))
            return h->upper_ms[i];
    return 0;
}

uint32_t ae_snapshot_drop_implausible(struct ae_snapshot *s)
{
    uint32_t dropped = 0;
    for (int i = 0; i < AE_FEATURE_COUNT; i++) {
        if ((s->missing & AE_FEATURE_BIT(i)) || ae_feature_plausible(i, s->values[i]))
            continue;
        s->values[i] = 0.0;
        s->missing |= AE_FEATURE_BIT(i);
        dropped |= AE_FEATURE_BIT(i);
    }
    return dropped;
}
