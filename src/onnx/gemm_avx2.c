/* nn_sgemm's kernel for CPUs with AVX2 and FMA (16 registers of 8 floats). 3 x 32 micro-tiles:
 * 12 registers of sums; the row of B is read as memory operands of the FMAs. (6 x 16, the
 * classic shape, made GCC 12 vectorise along k instead, at a tenth of the speed.) Compiled with
 * -mavx2 -mfma (gemm.cmake); without those flags it builds nothing and nn_gemm_avx2 returns NULL.
 */
#include "gemm_kernel.h"

#if defined(__AVX2__) && defined(__FMA__)
#define NN_GEMM_NAME sgemm_avx2
#define NN_GEMM_PACKED_NAME sgemm_avx2_packed
#define NN_GEMM_MR 3
#define NN_GEMM_NR 32
#define NN_GEMM_ROW_PANELS 1
#include "gemm_blocked.h"

nn_sgemm_fn *nn_gemm_avx2(void)
{
    return sgemm_avx2;
}

nn_sgemm_packed_fn *nn_gemm_avx2_packed(void)
{
    return sgemm_avx2_packed;
}
#else
nn_sgemm_packed_fn *nn_gemm_avx2_packed(void)
{
    return 0;
}

nn_sgemm_fn *nn_gemm_avx2(void)
{
    return 0;
}
#endif
