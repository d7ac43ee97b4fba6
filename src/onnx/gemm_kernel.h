/* The sgemm kernels behind nn_sgemm, one per instruction-set level.
 *
 * gemm_blocked.h is the register-blocked kernel, in plain C written so that the compiler
 * vectorises it. gemm_avx2.c and gemm_avx512.c include it once each with their own tile size
 * and are compiled with their level's flags (gemm.cmake); gemm_generic.c is a simple loop for
 * everything else. gemm.c picks the best variant the running CPU supports. Private to
 * src/onnx (and its tests). */
#ifndef AETHER_ONNX_GEMM_KERNEL_H
#define AETHER_ONNX_GEMM_KERNEL_H

/* Same contract as nn_sgemm (gemm.h), except that the caller has already handled m == 0, n == 0,
 * k == 0 and alpha == 0: here m, n, k >= 1. Allocates nothing; uses at most
 * NN_GEMM_STACK_BYTES of stack for a packed panel of B. */
typedef void nn_sgemm_fn(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                         int lda, const float *b, int ldb, float beta, float *c, int ldc);

/* C = alpha * op(A) * B + beta * C (+ bias, n floats added to every row, when not NULL) over a B
 * packed once by nn_gemm_pack_b: row-major [k][ldbp], ldbp = n rounded up to the level's panel
 * width, zeros past column n. Same conditions. */
typedef void nn_sgemm_packed_fn(int trans_a, int m, int n, int k, float alpha, const float *a,
                                int lda, const float *bp, int ldbp, float beta, float *c, int ldc,
                                const float *bias);

/* KC rows x NR columns of floats: 256 x 32 x 4 bytes. */
#define NN_GEMM_STACK_BYTES (256 * 32 * 4)

/* Each returns its level's kernel, or NULL when this build could not compile it with the level's
 * instructions (not x86-64, or gemm.cmake's flags were not applied). None checks the CPU. */
nn_sgemm_fn *nn_gemm_generic(void); /* baseline target (SSE2 on x86-64); never NULL */
nn_sgemm_fn *nn_gemm_avx2(void);    /* AVX2 + FMA: 8-wide, 16 registers */
nn_sgemm_fn *nn_gemm_avx512(void);  /* AVX-512F + FMA: 16-wide, 32 registers */
nn_sgemm_packed_fn *nn_gemm_generic_packed(void); /* the same levels over a packed B */
nn_sgemm_packed_fn *nn_gemm_avx2_packed(void);
nn_sgemm_packed_fn *nn_gemm_avx512_packed(void);

/* A kernel this build has and this CPU can run. */
struct nn_gemm_variant {
    const char *name; /* "avx512", "avx2", "generic" */
    nn_sgemm_fn *fn;
    nn_sgemm_packed_fn *packed;
    int panel; /* columns per panel of a packed B: 32, 32, 1 */
};

/* Fills out[0..max-1] with the usable variants, fastest first; returns how many (>= 1 when
 * max >= 1: the generic one always qualifies). Static data, nothing to free. */
int nn_gemm_variants(struct nn_gemm_variant *out, int max);

#endif
