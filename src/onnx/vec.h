/* Vector kernels of the engine's element-wise hot spots, one build per instruction-set level,
 * chosen by the CPU at planning time (the binary itself stays at the baseline target). */
#ifndef AETHER_ONNX_VEC_H
#define AETHER_ONNX_VEC_H

#include <stdint.h>

/* x = GELU(x) in place for n floats, exact (erf) form, absolute error below 1e-6. */
typedef void nn_gelu_fn(float *x, int64_t n);

/* The kernel of each level, NULL when this build has none. */
nn_gelu_fn *nn_vec_gelu_avx512(void);
nn_gelu_fn *nn_vec_gelu_avx2(void);

/* The fastest kernel this CPU runs. Never NULL. */
nn_gelu_fn *nn_vec_gelu_best(void);

#endif
