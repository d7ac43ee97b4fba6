/* Timing shared by `aether-model bench` and ort_c_bench (latency.h). */
#include "latency.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

double bench_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

void bench_fill_window(float *x, size_t n)
{
    unsigned seed = 12345;
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        x[i] = (float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void bench_print_latency(double *lat, int n, int batch)
{
    double total = 0.0;
    for (int i = 0; i < n; i++)
        total += lat[i];
    qsort(lat, (size_t)n, sizeof *lat, cmp_double);
    int p99 = (int)((double)n * 0.99);
    if (p99 >= n)
        p99 = n - 1;
    printf("latency_us min=%.1f median=%.1f p99=%.1f\n", lat[0], lat[n / 2], lat[p99]);
    printf("throughput inferences_per_s=%.0f batch=%d\n",
           total > 0 ? (double)n * batch / (total / 1e6) : 0.0, batch);
}

long bench_peak_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}
