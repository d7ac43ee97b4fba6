/* The host collector (see include/aether/collector.h): cpu_usage from /proc/stat since the
 * previous reading, heap_usage from /proc/meminfo, for blueprints with host_metrics = true. */
#include "aether/collector.h"
#include "aether/error.h"

#include "aether/hostmem.h"

#include <stdio.h>
#include <stdlib.h>

struct host_collector {
    int have_cpu;
    unsigned long long busy, total;
};

static int read_host_cpu(unsigned long long *busy, unsigned long long *total)
{
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return -1;
    unsigned long long v[8] = {0};
    int got = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                     &v[4], &v[5], &v[6], &v[7]);
    fclose(f);
    if (got < 4)
        return -1;
    *total = 0;
    for (int i = 0; i < 8; i++)
        *total += v[i];
    *busy = *total - v[3] - v[4]; /* minus idle and iowait */
    return 0;
}

int host_collector_open(struct host_collector **out, char *err, size_t errlen)
{
    struct host_collector *h = calloc(1, sizeof(*h));
    *out = h;
    if (!h) {
        ae_errf(err, errlen, 0, "host collector: out of memory");
        return AE_ENOMEM;
    }
    h->have_cpu = read_host_cpu(&h->busy, &h->total) == 0;
    return 0;
}

void host_collector_fill(struct host_collector *h, struct ae_snapshot *snap)
{
    unsigned long long busy, total;
    if (read_host_cpu(&busy, &total) == 0) {
        if (h->have_cpu && total > h->total && busy >= h->busy)
            ae_snapshot_set(snap, AE_F_CPU_USAGE,
                            (double)(busy - h->busy) / (double)(total - h->total));
        h->busy = busy;
        h->total = total;
        h->have_cpu = 1;
    }
    int64_t mt, ma;
    ae_host_memory(&mt, &ma);
    if (mt > 0 && ma >= 0 && ma <= mt)
        ae_snapshot_set(snap, AE_F_HEAP_USAGE, (double)(mt - ma) / (double)mt);
}

void host_collector_close(struct host_collector *h)
{
    free(h);
}
