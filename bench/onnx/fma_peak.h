/* The core's clock, measured (see fma_peak.c). */
#ifndef AETHER_BENCH_FMA_PEAK_H
#define AETHER_BENCH_FMA_PEAK_H

/* GHz of this core while busy: the best of `repeats` timings of a dependent FMA chain of
 * 8 x `rounds` links. 0 when not built with FMA. */
double measured_clock_ghz(long rounds, int repeats);

#endif
