/* nn_sgemm's baseline kernel, for CPUs (or builds) without the x86 vector variants.
 *
 * Row by row, i-k-j order: the innermost loop runs along a row of C and a row of B, both
 * contiguous when B is not transposed, which the compiler vectorises for any target. Measured on
 * the reference mixer with SSE2 only, this simple loop beats the register-blocked kernel
 * (gemm_blocked.h), whose accumulators do not fit 16 registers of 4 floats. */
#include "gemm_kernel.h"

static void sgemm_generic(int trans_a, int trans_b, int m, int n, int k, float alpha,
                          const float *a, int lda, const float *b, int ldb, float beta, float *c,
                          int ldc)
{
    for (int i = 0; i < m; i++) {
        float *ci = c + (long)i * ldc;
        for (int j = 0; j < n; j++)
            ci[j] = beta == 0.0f ? 0.0f : beta * ci[j];
        for (int p = 0; p < k; p++) {
            const float aip = alpha * (trans_a ? a[(long)p * lda + i] : a[(long)i * lda + p]);
            if (trans_b) {
                for (int j = 0; j < n; j++)
                    ci[j] += aip * b[(long)j * ldb + p];
            } else {
                const float *bp = b + (long)p * ldb;
                for (int j = 0; j < n; j++)
                    ci[j] += aip * bp[j];
            }
        }
    }
}

nn_sgemm_fn *nn_gemm_generic(void)
{
    return sgemm_generic;
}

/* Over a B packed once: row-major, nothing to skip (the generic level's panel width is 1). */
static void sgemm_generic_packed(int trans_a, int m, int n, int k, float alpha, const float *a,
                                 int lda, const float *bp, int ldbp, float beta, float *c, int ldc,
                                 const float *bias)
{
    sgemm_generic(trans_a, 0, m, n, k, alpha, a, lda, bp, ldbp, beta, c, ldc);
    for (int i = 0; bias && i < m; i++)
        for (int j = 0; j < n; j++)
            c[(long)i * ldc + j] += bias[j];
}

nn_sgemm_packed_fn *nn_gemm_generic_packed(void)
{
    return sgemm_generic_packed;
}
