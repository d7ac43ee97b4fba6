/* Control-loop lag statistics (see aether/lagstat.h). */
#include "aether/lagstat.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void lagstat_add(struct lagstat *l, double seconds)
{
    l->ring[l->next] = seconds;
    l->next = (l->next + 1) % LAG_WINDOW;
    if (l->count < LAG_WINDOW)
        l->count++;
    l->total++;
    l->last = seconds;
    l->sum += seconds;
    if (seconds > l->max_seen)
        l->max_seen = seconds;
}

const double lag_duration_bounds[LAG_DURATION_BUCKETS] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                          0.25,  0.5,   1,    2.5,   10};

void lagstat_add_duration(struct lagstat *l, double seconds)
{
    int b = 0;
    while (b < LAG_DURATION_BUCKETS && seconds > lag_duration_bounds[b])
        b++;
    l->duration_counts[b]++;
    l->duration_sum += seconds;
    l->duration_total++;
}

long lagstat_missed_ticks(double behind_s, double interval_s)
{
    if (!(behind_s >= interval_s) || !(interval_s > 0))
        return 0;
    return (long)floor(behind_s / interval_s);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double lagstat_quantile(const struct lagstat *l, double q)
{
    if (l->count == 0)
        return 0;
    double sorted[LAG_WINDOW];
    memcpy(sorted, l->ring, sizeof(double) * (size_t)l->count);
    qsort(sorted, (size_t)l->count, sizeof(double), cmp_double);
    int rank = (int)ceil(q * l->count);
    if (rank < 1)
        rank = 1;
    if (rank > l->count)
        rank = l->count;
    return sorted[rank - 1];
}
