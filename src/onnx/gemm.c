/* nn_sgemm: straightforward reference kernel (i-k-j loop order, contiguous inner loop). */
#include "gemm.h"

void nn_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
              const float *b, int ldb, float beta, float *c, int ldc)
{
    for (int i = 0; i < m; i++) {
        float *ci = c + (long)i * ldc;
        for (int j = 0; j < n; j++)
            ci[j] = beta == 0.0f ? 0.0f : beta * ci[j];
        for (int p = 0; p < k; p++) {
            float aip = alpha * (trans_a ? a[(long)p * lda + i] : a[(long)i * lda + p]);
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
