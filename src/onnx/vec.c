/* Baseline build of the vector kernels and the choice among the builds by CPU features. */
#include "vec.h"

#define NN_VEC_NAME gelu_baseline
#include "vec_kernel.h"

static const struct nn_vec_kernels baseline = {"baseline", NN_VEC_TABLE_ENTRIES};

const struct nn_vec_kernels *nn_vec_kernels_baseline(void)
{
    return &baseline;
}

const struct nn_vec_kernels *nn_vec_kernels_best(void)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (nn_vec_kernels_avx512() && __builtin_cpu_supports("avx512f"))
        return nn_vec_kernels_avx512();
    if (nn_vec_kernels_avx2() && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return nn_vec_kernels_avx2();
#endif
    return &baseline;
}

nn_gelu_fn *nn_vec_gelu_best(void)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (nn_vec_gelu_avx512() && __builtin_cpu_supports("avx512f"))
        return nn_vec_gelu_avx512();
    if (nn_vec_gelu_avx2() && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return nn_vec_gelu_avx2();
#endif
    return gelu_baseline;
}
