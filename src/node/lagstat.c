/* Control-loop lag statistics (see lagstat.h). */
#include "lagstat.h"

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
