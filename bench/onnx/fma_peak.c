/* The core's clock, measured, for the FLOP peak the benchmarks compare against.
 *
 * A chain of dependent scalar FMAs runs at one FMA per FMA latency (4 cycles on the Intel cores
 * with AVX-512 FMA units since Skylake-SP, including Sapphire/Emerald Rapids), so cycles = 4 x
 * chain length, and the clock is cycles / CPU time. CPU time of this thread (not wall time), so
 * other processes sharing the core do not make the clock look slower; the best of several
 * rounds is kept. Compiled with -mfma -ffp-contract=fast (bench/onnx/CMakeLists.txt); built
 * without FMA it reports 0. */
#include "fma_peak.h"

#include <time.h>

#if defined(__FMA__)
enum { FMA_LATENCY_CYCLES = 4, CHAIN_PER_ROUND = 8 };

static double thread_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

double measured_clock_ghz(long rounds, int repeats)
{
    double best = 0.0;
    for (int r = 0; r < repeats; r++) {
        volatile float seed = 1.0f; /* unknown to the compiler: the chain cannot be folded */
        float x = seed;
        const float s = 0.999f, t = 1e-3f;
        const double start = thread_seconds();
        for (long i = 0; i < rounds; i++) {
            x = x * s + t;
            x = x * s + t;
            x = x * s + t;
            x = x * s + t;
            x = x * s + t;
            x = x * s + t;
            x = x * s + t;
            x = x * s + t;
        }
        volatile float result = x; /* the chain must finish before the clock is read again */
        (void)result;
        const double seconds = thread_seconds() - start;
        const double ghz = (double)FMA_LATENCY_CYCLES * CHAIN_PER_ROUND * rounds / seconds * 1e-9;
        if (ghz > best)
            best = ghz;
    }
    return best;
}
#else
double measured_clock_ghz(long rounds, int repeats)
{
    (void)rounds;
    (void)repeats;
    return 0.0;
}
#endif
