/* nn_sgemm: the engine's one matrix-multiply entry point.
 *
 * Handles the cases with nothing to multiply, then hands the product to the fastest kernel the
 * running CPU supports (gemm_kernel.h: the blocked kernel built per instruction-set level, or
 * the plain loop). The choice is made once per process (pthread_once) from the CPU's feature
 * bits, so the binary stays portable: it is built for the baseline target and only uses
 * AVX2/AVX-512 where the CPU has them. (Choosing on every call cost about 5% of an LSTM's time
 * at batch 1, whose recurrent steps are small products.) */
#include <pthread.h>

#include "gemm.h"
#include "gemm_kernel.h"

/* C = beta * C (+ bias on every row when not NULL), with beta == 0 clearing C whatever it held
 * (NaN included). */
static void scale_c(int m, int n, float beta, float *c, int ldc, const float *bias)
{
    for (int i = 0; i < m; i++) {
        float *ci = c + (long)i * ldc;
        for (int j = 0; j < n; j++)
            ci[j] = (beta == 0.0f ? 0.0f : beta * ci[j]) + (bias ? bias[j] : 0.0f);
    }
}

/* Whether the running CPU can execute a level's instructions. The compiler's runtime reads the
 * CPU's feature bits (and the OS's support for the wider registers) once at start-up. */
static int cpu_has_avx512(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

static int cpu_has_avx2(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

int nn_gemm_variants(struct nn_gemm_variant *out, int max)
{
    const struct {
        const char *name;
        nn_sgemm_fn *(*get)(void);
        nn_sgemm_packed_fn *(*get_packed)(void);
        int panel;
        int (*cpu_has)(void);
    } levels[] = {
        {"avx512", nn_gemm_avx512, nn_gemm_avx512_packed, 32, cpu_has_avx512},
        {"avx2", nn_gemm_avx2, nn_gemm_avx2_packed, 32, cpu_has_avx2},
        {"generic", nn_gemm_generic, nn_gemm_generic_packed, 1, 0},
    };
    int count = 0;
    for (unsigned i = 0; i < sizeof levels / sizeof levels[0] && count < max; i++) {
        nn_sgemm_fn *fn = levels[i].get();
        if (fn && (!levels[i].cpu_has || levels[i].cpu_has())) {
            out[count].name = levels[i].name;
            out[count].fn = fn;
            out[count].packed = levels[i].get_packed();
            out[count].panel = levels[i].panel;
            count++;
        }
    }
    return count;
}

static struct nn_gemm_variant best;
static pthread_once_t best_once = PTHREAD_ONCE_INIT;

static void find_best(void)
{
    nn_gemm_variants(&best, 1);
}

/* The fastest usable variant (the first one listed), found once. */
static const struct nn_gemm_variant *best_variant(void)
{
    pthread_once(&best_once, find_best);
    return &best;
}

const char *nn_sgemm_kernel_name(void)
{
    return best_variant()->name;
}

void nn_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
              const float *b, int ldb, float beta, float *c, int ldc)
{
    if (m <= 0 || n <= 0)
        return;
    if (k <= 0 || alpha == 0.0f) {
        scale_c(m, n, beta, c, ldc, 0);
        return;
    }
    best_variant()->fn(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

int nn_sgemm_packed_stride(int n)
{
    int panel = best_variant()->panel;
    return (n + panel - 1) / panel * panel;
}

void nn_sgemm_pack_b(int trans_b, int n, int k, const float *b, int ldb, float *dst)
{
    int ldbp = nn_sgemm_packed_stride(n);
    for (int p = 0; p < k; p++) {
        float *row = dst + (long)p * ldbp;
        for (int j = 0; j < ldbp; j++)
            row[j] = j >= n ? 0.0f : trans_b ? b[(long)j * ldb + p] : b[(long)p * ldb + j];
    }
}

void nn_sgemm_packed_bias(int trans_a, int m, int n, int k, float alpha, const float *a, int lda,
                          const float *bp, float beta, float *c, int ldc, const float *bias)
{
    if (m <= 0 || n <= 0)
        return;
    if (k <= 0 || alpha == 0.0f) {
        scale_c(m, n, beta, c, ldc, bias);
        return;
    }
    best_variant()->packed(trans_a, m, n, k, alpha, a, lda, bp, nn_sgemm_packed_stride(n), beta, c,
                           ldc, bias);
}

void nn_sgemm_packed(int trans_a, int m, int n, int k, float alpha, const float *a, int lda,
                     const float *bp, float beta, float *c, int ldc)
{
    nn_sgemm_packed_bias(trans_a, m, n, k, alpha, a, lda, bp, beta, c, ldc, 0);
}
