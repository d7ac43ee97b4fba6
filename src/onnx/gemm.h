/* Single-precision matrix multiply used by every MatMul/Gemm of the inference engine.
 *
 * Private to src/onnx. One entry point so the kernel behind it can be chosen by measurement
 * without touching the operators. */
#ifndef AETHER_ONNX_GEMM_H
#define AETHER_ONNX_GEMM_H

/* C[M x N] = alpha * op(A)[M x K] * op(B)[K x N] + beta * C, all row-major.
 * op(X) is X, or X transposed when trans_x is non-zero (then X is stored [K x M] / [N x K]).
 * lda, ldb, ldc are the row strides of A, B and C as stored. beta == 0 ignores C's old contents
 * (NaN included). Allocates nothing on the heap (up to 32 KiB of stack); thread-safe. */
void nn_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
              const float *b, int ldb, float beta, float *c, int ldc);

/* A constant B packed once (at planning) so that no product copies it again: row-major
 * [k][nn_sgemm_packed_stride(n)], zero past column n, whatever op(B)'s layout was.
 * nn_sgemm_pack_b writes it into dst (k * stride floats, the caller's memory); nn_sgemm_packed
 * then computes C = alpha * op(A) * B + beta * C from it with the same conventions as nn_sgemm.
 * The stride depends on the kernel this CPU runs: pack and multiply in the same process. */
int nn_sgemm_packed_stride(int n);
void nn_sgemm_pack_b(int trans_b, int n, int k, const float *b, int ldb, float *dst);
void nn_sgemm_packed(int trans_a, int m, int n, int k, float alpha, const float *a, int lda,
                     const float *bp, float beta, float *c, int ldc);
/* nn_sgemm_packed plus a bias: C = alpha * op(A) * B + beta * C + bias, the n floats of bias
 * added to every row of C as the product is stored (no second pass over C). bias may be NULL. */
void nn_sgemm_packed_bias(int trans_a, int m, int n, int k, float alpha, const float *a, int lda,
                          const float *bp, float beta, float *c, int ldc, const float *bias);

/* Name of the kernel nn_sgemm runs on this CPU ("avx512", "avx2" or "generic"), for reports.
 * Static string, never freed. */
const char *nn_sgemm_kernel_name(void);

#endif
