/* The single-core FLOP peak, measured (see fma_peak.c). */
#ifndef AETHER_BENCH_FMA_PEAK_H
#define AETHER_BENCH_FMA_PEAK_H

/* GFLOP/s of one core issuing independent `lanes`-wide FMAs (8: AVX2, 16: AVX-512), the best of
 * `repeats` timings of `rounds` steps of 12 chains. 0 when this build or CPU cannot run them. */
double measured_fma_gflops(int lanes, long rounds, int repeats);

#endif
