/* GELU for CPUs with AVX-512F (16 floats per instruction). Compiled with -mavx512f -mfma
 * (CMakeLists.txt); without those flags nn_vec_gelu_avx512 returns NULL. */
#include "vec.h"

#if defined(__AVX512F__)
#define NN_VEC_NAME gelu_avx512
#include "vec_kernel.h"

nn_gelu_fn *nn_vec_gelu_avx512(void)
{
    return gelu_avx512;
}
#else
nn_gelu_fn *nn_vec_gelu_avx512(void)
{
    return 0;
}
#endif
