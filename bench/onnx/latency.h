/* Timing shared by the two sides of the engine benchmark (`aether-model bench` and ort_c_bench),
 * so that both use the same input window, clock and latency statistics. */
#ifndef AETHER_BENCH_LATENCY_H
#define AETHER_BENCH_LATENCY_H

#include <stddef.h>

/* Monotonic clock in microseconds. */
double bench_now_us(void);

/* Fills x[0..n) with the fixed pseudo-random window of the benchmark (an LCG), values in
 * [-1, 1). */
void bench_fill_window(float *x, size_t n);

/* Sorts the n latencies lat[] (microseconds, n >= 1) and prints
 *   latency_us min=X median=X p99=X
 *   throughput inferences_per_s=X batch=N */
void bench_print_latency(double *lat, int n, int batch);

/* Peak resident set of this process in KiB (getrusage), loading included. */
long bench_peak_rss_kb(void);

#endif
