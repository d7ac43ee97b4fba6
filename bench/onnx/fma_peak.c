/* The single-core FLOP peak the benchmarks compare against, measured rather than assumed.
 *
 * Throughput, not latency: NCHAINS independent accumulators, each updated by one vector FMA per
 * step, so that the core can keep all its FMA units busy whatever their number and latency
 * (an AMD core and an Intel core differ in both; assuming "2 units x 4 cycles" is what this file
 * replaces). 2 x lanes FLOP per FMA. The chains start from a value the compiler cannot see and
 * the result is stored to a volatile, so nothing is folded away. CPU time of this thread (not
 * wall time), so other processes sharing the core do not make the peak look lower; the best of
 * several rounds is kept. Each width is a function compiled for its instruction set (target
 * attributes) and run only when the CPU has it; otherwise the answer is 0. */
#include "fma_peak.h"

#include <time.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define NCHAINS 12 /* >= units x latency on current x86 cores (2 x 4 = 8), with room */

static double thread_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

__attribute__((target("avx2,fma"))) static double fma256(long rounds)
{
    volatile float seed = 1.0f;
    __m256 acc[NCHAINS];
    for (int c = 0; c < NCHAINS; c++)
        acc[c] = _mm256_set1_ps(seed + (float)c);
    const __m256 s = _mm256_set1_ps(0.999f), t = _mm256_set1_ps(1e-3f);
    const double start = thread_seconds();
    for (long i = 0; i < rounds; i++)
        for (int c = 0; c < NCHAINS; c++)
            acc[c] = _mm256_fmadd_ps(acc[c], s, t);
    __m256 sum = acc[0];
    for (int c = 1; c < NCHAINS; c++)
        sum = _mm256_add_ps(sum, acc[c]);
    volatile float result = _mm256_cvtss_f32(sum);
    (void)result;
    return 2.0 * 8 * NCHAINS * rounds / (thread_seconds() - start) * 1e-9;
}

__attribute__((target("avx512f,fma"))) static double fma512(long rounds)
{
    volatile float seed = 1.0f;
    __m512 acc[NCHAINS];
    for (int c = 0; c < NCHAINS; c++)
        acc[c] = _mm512_set1_ps(seed + (float)c);
    const __m512 s = _mm512_set1_ps(0.999f), t = _mm512_set1_ps(1e-3f);
    const double start = thread_seconds();
    for (long i = 0; i < rounds; i++)
        for (int c = 0; c < NCHAINS; c++)
            acc[c] = _mm512_fmadd_ps(acc[c], s, t);
    __m512 sum = acc[0];
    for (int c = 1; c < NCHAINS; c++)
        sum = _mm512_add_ps(sum, acc[c]);
    volatile float result = _mm512_reduce_add_ps(sum);
    (void)result;
    return 2.0 * 16 * NCHAINS * rounds / (thread_seconds() - start) * 1e-9;
}

double measured_fma_gflops(int lanes, long rounds, int repeats)
{
    double best = 0.0;
    for (int r = 0; r < repeats; r++) {
        double g = 0.0;
        if (lanes == 8 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
            g = fma256(rounds);
        else if (lanes == 16 && __builtin_cpu_supports("avx512f"))
            g = fma512(rounds);
        best = g > best ? g : best;
    }
    return best;
}
#else
double measured_fma_gflops(int lanes, long rounds, int repeats)
{
    (void)lanes;
    (void)rounds;
    (void)repeats;
    return 0.0;
}
#endif
