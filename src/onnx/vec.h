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

/* The transcendental kernels of one instruction-set level: y[k] = f(x[k]) for k < n (y may be
 * x), and softmax over n contiguous floats. Branch-free polynomial forms; their measured
 * accuracy against libm is in docs/engine.md (tests/onnx/test_vec.c checks the bounds). NaN in
 * gives NaN out. Allocate nothing; thread-safe. */
typedef void nn_vec_map_fn(const float *x, float *y, int64_t n);
/* y[o] = x[o] + ... + x[o + k - 1] for o < n (x holds n + k - 1 floats). */
typedef void nn_vec_window_fn(const float *x, float *y, int64_t n, int64_t k);
/* An LSTM step's gates in place (ONNX order [i o f c~], the default activations): rows of
 * `stride` floats, `ldg` apart; sigmoid over the first nsig of each row, tanh over the rest,
 * computed as 2 sigmoid(2x) - 1 (absolute error up to 1.8e-7, near +-1). */
typedef void nn_vec_lstm_gates_fn(float *g, int64_t rows, int64_t ldg, int64_t stride,
                                  int64_t nsig);
/* The LSTM cell after its gates, for `rows` rows: g rows [i o f c~] activated (4 hid floats,
 * ldg apart), c and h rows of hid floats, contiguous: c = f c + i c~, h = o tanh(c), that tanh
 * again by sigmoid. */
typedef void nn_vec_lstm_cell_fn(const float *g, int64_t ldg, float *c, float *h, int64_t rows,
                                 int64_t hid);
struct nn_vec_kernels {
    const char *level; /* "avx512", "avx2" or "baseline"; static string */
    nn_vec_map_fn *exp, *tanh, *sigmoid, *erf, *softmax;
    nn_vec_window_fn *window_sum; /* stride-1 moving sums (AveragePool) */
    nn_vec_lstm_gates_fn *lstm_gates;
    nn_vec_lstm_cell_fn *lstm_cell;
};

/* The kernels of each level, NULL when this build has none (the CPU may still lack them). */
const struct nn_vec_kernels *nn_vec_kernels_avx512(void);
const struct nn_vec_kernels *nn_vec_kernels_avx2(void);
const struct nn_vec_kernels *nn_vec_kernels_baseline(void);
/* The fastest level this CPU runs. Never NULL. */
const struct nn_vec_kernels *nn_vec_kernels_best(void);

#endif
