/* GELU for CPUs with AVX2 and FMA (8 floats per instruction). Compiled with -mavx2 -mfma
 * (CMakeLists.txt); without those flags nn_vec_gelu_avx2 returns NULL. */
#include "vec.h"

#if defined(__AVX2__) && defined(__FMA__)
#define NN_VEC_NAME gelu_avx2
#include "vec_kernel.h"

nn_gelu_fn *nn_vec_gelu_avx2(void)
{
    return gelu_avx2;
}

static const struct nn_vec_kernels kernels = {"avx2", NN_VEC_TABLE_ENTRIES};

const struct nn_vec_kernels *nn_vec_kernels_avx2(void)
{
    return &kernels;
}
#else
const struct nn_vec_kernels *nn_vec_kernels_avx2(void)
{
    return 0;
}

nn_gelu_fn *nn_vec_gelu_avx2(void)
{
    return 0;
}
#endif
