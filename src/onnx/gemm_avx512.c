/* nn_sgemm's kernel for CPUs with AVX-512F and FMA (32 registers of 16 floats). 12 x 32
 * micro-tiles: 24 registers of sums, 2 for a row of B, 1 for A. One-row products over a packed
 * B sum 4 panels at once (16 registers: 128 columns, even and odd k apart). Compiled with -mavx512f
 * -mfma -mprefer-vector-width=512 (gemm.cmake); without those flags it builds nothing and
 * nn_gemm_avx512 returns NULL. */
#include "gemm_kernel.h"

#if defined(__AVX512F__) && defined(__FMA__)
#define NN_GEMM_NAME sgemm_avx512
#define NN_GEMM_PACKED_NAME sgemm_avx512_packed
#define NN_GEMM_MR 12
#define NN_GEMM_NR 32
#define NN_GEMM_ROW_PANELS 4
#include "gemm_blocked.h"

nn_sgemm_fn *nn_gemm_avx512(void)
{
    return sgemm_avx512;
}

nn_sgemm_packed_fn *nn_gemm_avx512_packed(void)
{
    return sgemm_avx512_packed;
}
#else
nn_sgemm_packed_fn *nn_gemm_avx512_packed(void)
{
    return 0;
}

nn_sgemm_fn *nn_gemm_avx512(void)
{
    return 0;
}
#endif
