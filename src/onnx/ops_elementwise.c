/* Element-wise operators: arithmetic with numpy broadcasting, comparisons, Where, Max/Min/Sum,
 * unary math, Clip, Cast, Identity and Dropout (identity at inference).
 *
 * Integer arithmetic wraps (computed unsigned) and integer division by zero gives 0, so that no
 * input can make the engine trap; float follows IEEE 754. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "nn_internal.h"
#include "vec.h"

/* ---- binary row kernels: out[k] = EXPR(x, z) with x = a[k*s0], z = b[k*s1] ---- */

#define BIN_FN(fname, T, OUT_T, EXPR)                                                              \
    static void fname(void *o, const void *const *in, const int *s, int64_t n, const void *ctx)    \
    {                                                                                              \
        (void)ctx;                                                                                 \
        OUT_T *y = o;                                                                              \
        const T *a = in[0], *b = in[1];                                                            \
        if (s[0] && s[1]) {                                                                        \
            for (int64_t k = 0; k < n; k++) {                                                      \
                T x = a[k], z = b[k];                                                              \
                y[k] = (OUT_T)(EXPR);                                                              \
            }                                                                                      \
        } else if (s[0]) {                                                                         \
            T z = b[0];                                                                            \
            for (int64_t k = 0; k < n; k++) {                                                      \
                T x = a[k];                                                                        \
                y[k] = (OUT_T)(EXPR);                                                              \
            }                                                                                      \
        } else if (s[1]) {                                                                         \
            T x = a[0];                                                                            \
            for (int64_t k = 0; k < n; k++) {                                                      \
                T z = b[k];                                                                        \
                y[k] = (OUT_T)(EXPR);                                                              \
            }                                                                                      \
        } else {                                                                                   \
            T x = a[0], z = b[0];                                                                  \
            OUT_T v = (OUT_T)(EXPR);                                                               \
            for (int64_t k = 0; k < n; k++)                                                        \
                y[k] = v;                                                                          \
        }                                                                                          \
    }

#define WRAP64(op) (int64_t)((uint64_t)x op(uint64_t) z)
#define WRAP32(op) (int32_t)((uint32_t)x op(uint32_t) z)

static inline int64_t div64(int64_t x, int64_t z)
{
    if (z == 0)
        return 0;
    if (z == -1)
        return (int64_t)(0 - (uint64_t)x);
    return x / z;
}

static inline int32_t div32(int32_t x, int32_t z)
{
    if (z == 0)
        return 0;
    if (z == -1)
        return (int32_t)(0 - (uint32_t)x);
    return x / z;
}

static inline float maxf_nan(float x, float z)
{
    return isnan(x) || x > z ? x : z;
}

static inline float minf_nan(float x, float z)
{
    return isnan(x) || x < z ? x : z;
}

BIN_FN(add_f, float, float, x + z)
BIN_FN(add_l, int64_t, int64_t, WRAP64(+))
BIN_FN(add_i, int32_t, int32_t, WRAP32(+))
BIN_FN(sub_f, float, float, x - z)
BIN_FN(sub_l, int64_t, int64_t, WRAP64(-))
BIN_FN(sub_i, int32_t, int32_t, WRAP32(-))
BIN_FN(mul_f, float, float, x *z)
BIN_FN(mul_l, int64_t, int64_t, WRAP64(*))
BIN_FN(mul_i, int32_t, int32_t, WRAP32(*))
BIN_FN(div_f, float, float, x / z)
BIN_FN(div_l, int64_t, int64_t, div64(x, z))
BIN_FN(div_i, int32_t, int32_t, div32(x, z))
BIN_FN(max_f, float, float, maxf_nan(x, z))
BIN_FN(max_l, int64_t, int64_t, x > z ? x : z)
BIN_FN(max_i, int32_t, int32_t, x > z ? x : z)
BIN_FN(min_f, float, float, minf_nan(x, z))
BIN_FN(min_l, int64_t, int64_t, x < z ? x : z)
BIN_FN(min_i, int32_t, int32_t, x < z ? x : z)
BIN_FN(eq_f, float, uint8_t, x == z)
BIN_FN(eq_l, int64_t, uint8_t, x == z)
BIN_FN(eq_i, int32_t, uint8_t, x == z)
BIN_FN(eq_b, uint8_t, uint8_t, x == z)
BIN_FN(lt_f, float, uint8_t, x < z)
BIN_FN(lt_l, int64_t, uint8_t, x < z)
BIN_FN(lt_i, int32_t, uint8_t, x < z)
BIN_FN(gt_f, float, uint8_t, x > z)
BIN_FN(gt_l, int64_t, uint8_t, x > z)
BIN_FN(gt_i, int32_t, uint8_t, x > z)
BIN_FN(le_f, float, uint8_t, x <= z)
BIN_FN(le_l, int64_t, uint8_t, x <= z)
BIN_FN(le_i, int32_t, uint8_t, x <= z)
BIN_FN(ge_f, float, uint8_t, x >= z)
BIN_FN(ge_l, int64_t, uint8_t, x >= z)
BIN_FN(ge_i, int32_t, uint8_t, x >= z)
BIN_FN(and_b, uint8_t, uint8_t, x &&z)
BIN_FN(or_b, uint8_t, uint8_t, x || z)
BIN_FN(xor_b, uint8_t, uint8_t, x != z)

/* Kernels of one binary operator by input type; NULL where the type is not supported. */
struct bin_kernels {
    nn_row_fn f, l, i, b;
    int out_bool; /* comparison: output is bool */
};

static nn_row_fn pick(const struct bin_kernels *k, int dtype)
{
    switch (dtype) {
    case NN_FLOAT:
        return k->f;
    case NN_INT64:
        return k->l;
    case NN_INT32:
        return k->i;
    case NN_BOOL:
        return k->b;
    default:
        return NULL;
    }
}

static int bin_infer(struct nn_model *m, struct nn_node *n, const struct bin_kernels *k)
{
    const struct nn_tensor *a = nn_in(m, n, 0), *b = nn_in(m, n, 1);
    if (!a || !b || n->n_in != 2)
        return nn_node_fail(m, n, AE_EINVAL, "needs two inputs");
    if (a->dtype != b->dtype)
        return nn_node_fail(m, n, AE_EINVAL, "inputs have different types (%s, %s)",
                            nn_dtype_name(a->dtype), nn_dtype_name(b->dtype));
    if (!pick(k, a->dtype))
        return nn_node_fail(m, n, AE_EUNSUPPORTED, "type %s is not supported",
                            nn_dtype_name(a->dtype));
    int r;
    int64_t dims[NN_MAX_RANK];
    if (nn_broadcast_shape(a->rank, a->dims, b->rank, b->dims, &r, dims) != 0)
        return nn_node_fail(m, n, AE_ESHAPE, "shapes of '%s' and '%s' do not broadcast", a->name,
                            b->name);
    return nn_set_output(m, n, 0, k->out_bool ? NN_BOOL : a->dtype, r, dims);
}

static int bin_exec(struct nn_model *m, struct nn_node *n, const struct bin_kernels *k)
{
    const struct nn_tensor *in[2] = {nn_in(m, n, 0), nn_in(m, n, 1)};
    nn_broadcast_run(nn_out(m, n, 0), 2, in, pick(k, in[0]->dtype), NULL);
    return 0;
}

#define BINARY_OP(opname, F, L, I, B, OUT_BOOL)                                                    \
    static const struct bin_kernels opname##_k = {F, L, I, B, OUT_BOOL};                           \
    static int opname##_infer(struct nn_model *m, struct nn_node *n)                               \
    {                                                                                              \
        return bin_infer(m, n, &opname##_k);                                                       \
    }                                                                                              \
    static int opname##_exec(struct nn_model *m, struct nn_node *n)                                \
    {                                                                                              \
        return bin_exec(m, n, &opname##_k);                                                        \
    }

BINARY_OP(add, add_f, add_l, add_i, NULL, 0)
BINARY_OP(sub, sub_f, sub_l, sub_i, NULL, 0)
BINARY_OP(mul, mul_f, mul_l, mul_i, NULL, 0)
BINARY_OP(div, div_f, div_l, div_i, NULL, 0)
BINARY_OP(equal, eq_f, eq_l, eq_i, eq_b, 1)
BINARY_OP(less, lt_f, lt_l, lt_i, NULL, 1)
BINARY_OP(greater, gt_f, gt_l, gt_i, NULL, 1)
BINARY_OP(less_eq, le_f, le_l, le_i, NULL, 1)
BINARY_OP(greater_eq, ge_f, ge_l, ge_i, NULL, 1)
BINARY_OP(and, NULL, NULL, NULL, and_b, 1)
BINARY_OP(or, NULL, NULL, NULL, or_b, 1)
BINARY_OP(xor, NULL, NULL, NULL, xor_b, 1)

/* ---- Pow: the exponent may have another type than the base; the result has the base's ---- */

static void pow_row_ff(void *o, const void *const *in, const int *s, int64_t n, const void *ctx)
{
    (void)ctx;
    float *y = o;
    const float *a = in[0], *b = in[1];
    if (!s[0] && !s[1]) {
        float v = powf(a[0], b[0]);
        for (int64_t k = 0; k < n; k++)
            y[k] = v;
    } else if (!s[1] && b[0] == 2.0f) {
        for (int64_t k = 0; k < n; k++)
            y[k] = a[k] * a[k];
    } else {
        for (int64_t k = 0; k < n; k++)
            y[k] = powf(a[k * s[0]], b[k * s[1]]);
    }
}

struct pow_ctx {
    const struct nn_tensor *a, *b, *y;
};

static double clamp_int_range(double v, double lo, double hi)
{
    if (isnan(v))
        return 0;
    return v < lo ? lo : v > hi ? hi : v;
}

/* Mixed types: computed in double through the generic accessors (rare, never a hot path). */
static void pow_row_mixed(void *o, const void *const *in, const int *s, int64_t n, const void *ctx)
{
    const struct pow_ctx *c = ctx;
    struct nn_tensor ta = *c->a, tb = *c->b;
    ta.data = (void *)in[0];
    tb.data = (void *)in[1];
    for (int64_t k = 0; k < n; k++) {
        double v = pow(nn_tensor_double(&ta, k * s[0]), nn_tensor_double(&tb, k * s[1]));
        switch (c->y->dtype) {
        case NN_FLOAT:
            ((float *)o)[k] = (float)v;
            break;
        case NN_INT64:
            ((int64_t *)o)[k] = (int64_t)clamp_int_range(v, -9.2e18, 9.2e18);
            break;
        default:
            ((int32_t *)o)[k] = (int32_t)clamp_int_range(v, INT32_MIN, INT32_MAX);
            break;
        }
    }
}

static int pow_infer(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *a = nn_in(m, n, 0), *b = nn_in(m, n, 1);
    if (!a || !b)
        return nn_node_fail(m, n, AE_EINVAL, "needs two inputs");
    if (a->dtype == NN_BOOL || b->dtype == NN_BOOL)
        return nn_node_fail(m, n, AE_EUNSUPPORTED, "bool is not supported");
    int r;
    int64_t dims[NN_MAX_RANK];
    if (nn_broadcast_shape(a->rank, a->dims, b->rank, b->dims, &r, dims) != 0)
        return nn_node_fail(m, n, AE_ESHAPE, "shapes do not broadcast");
    return nn_set_output(m, n, 0, a->dtype, r, dims);
}

static int pow_exec(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *in[2] = {nn_in(m, n, 0), nn_in(m, n, 1)};
    const struct nn_tensor *y = nn_out(m, n, 0);
    struct pow_ctx c = {in[0], in[1], y};
    int ff = in[0]->dtype == NN_FLOAT && in[1]->dtype == NN_FLOAT;
    nn_broadcast_run(y, 2, in, ff ? pow_row_ff : pow_row_mixed, &c);
    return 0;
}

/* ---- variadic Max / Min / Sum / Mean: folded pairwise into the output ---- */

static int variadic_infer(struct nn_model *m, struct nn_node *n, const struct bin_kernels *k)
{
    const struct nn_tensor *a = nn_in(m, n, 0);
    if (!a)
        return nn_node_fail(m, n, AE_EINVAL, "needs at least one input");
    if (!pick(k, a->dtype))
        return nn_node_fail(m, n, AE_EUNSUPPORTED, "type %s is not supported",
                            nn_dtype_name(a->dtype));
    int r = a->rank;
    int64_t dims[NN_MAX_RANK];
    memcpy(dims, a->dims, sizeof(int64_t) * (size_t)r);
    for (int i = 1; i < n->n_in; i++) {
        const struct nn_tensor *b = nn_in(m, n, i);
        if (!b || b->dtype != a->dtype)
            return nn_node_fail(m, n, AE_EINVAL, "input %d is missing or of another type", i);
        int64_t next[NN_MAX_RANK];
        if (nn_broadcast_shape(r, dims, b->rank, b->dims, &r, next) != 0)
            return nn_node_fail(m, n, AE_ESHAPE, "input shapes do not broadcast");
        memcpy(dims, next, sizeof(int64_t) * (size_t)r);
    }
    return nn_set_output(m, n, 0, a->dtype, r, dims);
}

static void copy_row(void *o, const void *const *in, const int *s, int64_t n, const void *ctx)
{
    size_t esize = *(const size_t *)ctx;
    char *y = o;
    if (s[0]) {
        memcpy(y, in[0], (size_t)n * esize);
        return;
    }
    for (int64_t k = 0; k < n; k++)
        memcpy(y + (size_t)k * esize, in[0], esize);
}

/* Writes the broadcast of src into dst (dst's shape). */
static void broadcast_copy(const struct nn_tensor *dst, const struct nn_tensor *src)
{
    size_t esize = nn_dtype_size(src->dtype);
    const struct nn_tensor *in[1] = {src};
    nn_broadcast_run(dst, 1, in, copy_row, &esize);
}

static int variadic_exec(struct nn_model *m, struct nn_node *n, const struct bin_kernels *k)
{
    struct nn_tensor *y = nn_out(m, n, 0);
    const struct nn_tensor *first = nn_in(m, n, 0);
    broadcast_copy(y, first);
    nn_row_fn fn = pick(k, y->dtype);
    for (int i = 1; i < n->n_in; i++) {
        /* y = y op x_i: y is read at the index it is written, so in place is safe. */
        const struct nn_tensor *in[2] = {y, nn_in(m, n, i)};
        nn_broadcast_run(y, 2, in, fn, NULL);
    }
    return 0;
}

#define VARIADIC_OP(opname, F, L, I)                                                               \
    static const struct bin_kernels opname##_vk = {F, L, I, NULL, 0};                              \
    static int opname##_infer(struct nn_model *m, struct nn_node *n)                               \
    {                                                                                              \
        return variadic_infer(m, n, &opname##_vk);                                                 \
    }                                                                                              \
    static int opname##_exec(struct nn_model *m, struct nn_node *n)                                \
    {                                                                                              \
        return variadic_exec(m, n, &opname##_vk);                                                  \
    }

VARIADIC_OP(max, max_f, max_l, max_i)
VARIADIC_OP(min, min_f, min_l, min_i)
VARIADIC_OP(sum, add_f, add_l, add_i)

static const struct bin_kernels mean_vk = {add_f, NULL, NULL, NULL, 0};

static int mean_infer(struct nn_model *m, struct nn_node *n)
{
    return variadic_infer(m, n, &mean_vk);
}

static int mean_exec(struct nn_model *m, struct nn_node *n)
{
    variadic_exec(m, n, &mean_vk);
    struct nn_tensor *y = nn_out(m, n, 0);
    float inv = 1.0f / (float)n->n_in;
    for (int64_t k = 0; k < y->numel; k++)
        ((float *)y->data)[k] *= inv;
    return 0;
}

/* ---- Where(cond, x, y) ---- */

static void where_row(void *o, const void *const *in, const int *s, int64_t n, const void *ctx)
{
    size_t esize = *(const size_t *)ctx;
    const uint8_t *c = in[0];
    const char *x = in[1], *z = in[2];
    char *y = o;
    if (esize == 4) {
        const uint32_t *xf = in[1], *zf = in[2];
        uint32_t *yf = o;
        for (int64_t k = 0; k < n; k++)
            yf[k] = c[k * s[0]] ? xf[k * s[1]] : zf[k * s[2]];
        return;
    }
    for (int64_t k = 0; k < n; k++)
        memcpy(y + (size_t)k * esize,
               c[k * s[0]] ? x + (size_t)(k * s[1]) * esize : z + (size_t)(k * s[2]) * esize,
               esize);
}

static int where_infer(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *c = nn_in(m, n, 0), *x = nn_in(m, n, 1), *z = nn_in(m, n, 2);
    if (!c || !x || !z)
        return nn_node_fail(m, n, AE_EINVAL, "needs three inputs");
    if (c->dtype != NN_BOOL || x->dtype != z->dtype)
        return nn_node_fail(m, n, AE_EINVAL, "needs a bool condition and two inputs of one type");
    int r1, r2;
    int64_t d1[NN_MAX_RANK], d2[NN_MAX_RANK];
    if (nn_broadcast_shape(c->rank, c->dims, x->rank, x->dims, &r1, d1) != 0 ||
        nn_broadcast_shape(r1, d1, z->rank, z->dims, &r2, d2) != 0)
        return nn_node_fail(m, n, AE_ESHAPE, "input shapes do not broadcast");
    return nn_set_output(m, n, 0, x->dtype, r2, d2);
}

static int where_exec(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *in[3] = {nn_in(m, n, 0), nn_in(m, n, 1), nn_in(m, n, 2)};
    size_t esize = nn_dtype_size(in[1]->dtype);
    nn_broadcast_run(nn_out(m, n, 0), 3, in, where_row, &esize);
    return 0;
}

/* ---- unary operators ---- */

static float reciprocal1(float v)
{
    return 1.0f / v;
}

static float sign1(float v)
{
    return v > 0 ? 1.0f : v < 0 ? -1.0f : v; /* 0 stays 0, NaN stays NaN */
}

static float softsign1(float v)
{
    return v / (1.0f + fabsf(v));
}

static float softplus1(float v)
{
    /* log(1 + e^v) without overflow for large v. */
    return v > 20.0f ? v : log1pf(expf(v));
}

static float relu1(float v)
{
    return v > 0 ? v : (v == v ? 0.0f : v);
}

static float gelu_tanh1(float v)
{
    return 0.5f * v * (1.0f + tanhf(0.7978845608f * (v + 0.044715f * v * v * v)));
}

typedef float (*unary_float_fn)(float);

static int unary_infer(struct nn_model *m, struct nn_node *n, int int_ok)
{
    const struct nn_tensor *x = nn_in(m, n, 0);
    if (!x)
        return nn_node_fail(m, n, AE_EINVAL, "needs an input");
    if (x->dtype != NN_FLOAT && !(int_ok && (x->dtype == NN_INT64 || x->dtype == NN_INT32)))
        return nn_node_fail(m, n, AE_EUNSUPPORTED, "type %s is not supported",
                            nn_dtype_name(x->dtype));
    return nn_set_output(m, n, 0, x->dtype, x->rank, x->dims);
}

static int unary_float_infer(struct nn_model *m, struct nn_node *n)
{
    return unary_infer(m, n, 0);
}

static int unary_exec(struct nn_model *m, struct nn_node *n, unary_float_fn f)
{
    const struct nn_tensor *x = nn_in(m, n, 0);
    struct nn_tensor *y = nn_out(m, n, 0);
    const float *a = x->data;
    float *b = y->data;
    for (int64_t k = 0; k < x->numel; k++)
        b[k] = f(a[k]);
    return 0;
}

#define UNARY_OP(opname, FN)                                                                       \
    static int opname##_exec(struct nn_model *m, struct nn_node *n)                                \
    {                                                                                              \
        return unary_exec(m, n, FN);                                                               \
    }

UNARY_OP(sqrt, sqrtf)
/* Exp, Tanh, Sigmoid, Erf: the vector kernels of the CPU chosen at planning (vec.h). */
static const struct nn_vec_kernels *kernels(const struct nn_model *m)
{
    return m->vec ? m->vec : nn_vec_kernels_baseline();
}

#define VEC_OP(opname)                                                                             \
    static int opname##_exec(struct nn_model *m, struct nn_node *n)                                \
    {                                                                                              \
        const struct nn_tensor *x = nn_in(m, n, 0);                                                \
        kernels(m)->opname(x->data, nn_out(m, n, 0)->data, x->numel);                              \
        return 0;                                                                                  \
    }

VEC_OP(erf)
VEC_OP(tanh)
VEC_OP(sigmoid)
VEC_OP(exp)
UNARY_OP(log, logf)
UNARY_OP(ceil, ceilf)
UNARY_OP(floor, floorf)
UNARY_OP(round, nearbyintf) /* ONNX rounds half to even, the default rounding mode */
UNARY_OP(sin, sinf)
UNARY_OP(cos, cosf)
UNARY_OP(tan, tanf)
UNARY_OP(asin, asinf)
UNARY_OP(acos, acosf)
UNARY_OP(atan, atanf)
UNARY_OP(sinh, sinhf)
UNARY_OP(cosh, coshf)
UNARY_OP(asinh, asinhf)
UNARY_OP(acosh, acoshf)
UNARY_OP(atanh, atanhf)
UNARY_OP(reciprocal, reciprocal1)
UNARY_OP(sign, sign1)
UNARY_OP(softsign, softsign1)
UNARY_OP(softplus, softplus1)

/* ---- activations with parameters: f[0] = alpha, f[1] = beta/gamma/lambd, from attributes ---- */

enum act_kind {
    ACT_LEAKY,
    ACT_ELU,
    ACT_SELU,
    ACT_HARDSIGMOID,
    ACT_HARDSWISH,
    ACT_THRESHOLDED,
    ACT_CELU,
    ACT_SHRINK
};

static int act_infer(struct nn_model *m, struct nn_node *n, int kind, float alpha, float beta)
{
    static const char *const beta_name[] = {"", "", "gamma", "beta", "", "", "", "lambd"};
    n->p[0] = kind;
    n->f[0] = nn_attr_float(n, kind == ACT_SHRINK ? "bias" : "alpha", alpha);
    n->f[1] = beta_name[kind][0] ? nn_attr_float(n, beta_name[kind], beta) : beta;
    return unary_infer(m, n, 0);
}

static float act1(int kind, float x, float a, float b)
{
    switch (kind) {
    case ACT_LEAKY:
        return x >= 0 ? x : a * x;
    case ACT_ELU:
        return x >= 0 ? x : a * (expf(x) - 1.0f);
    case ACT_SELU:
        return b * (x > 0 ? x : a * (expf(x) - 1.0f));
    case ACT_HARDSIGMOID: {
        float y = a * x + b;
        return y < 0 ? 0 : y > 1 ? 1 : y;
    }
    case ACT_HARDSWISH: {
        float y = x / 6.0f + 0.5f;
        return x * (y < 0 ? 0 : y > 1 ? 1 : y);
    }
    case ACT_THRESHOLDED:
        return x > a ? x : 0.0f;
    case ACT_CELU:
        return (x > 0 ? x : 0.0f) + fminf(0.0f, a * (expf(x / a) - 1.0f));
    default: /* ACT_SHRINK: a = bias, b = lambd */
        return x < -b ? x + a : x > b ? x - a : 0.0f;
    }
}

static int act_exec(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *x = nn_in(m, n, 0);
    struct nn_tensor *y = nn_out(m, n, 0);
    for (int64_t k = 0; k < x->numel; k++)
        ((float *)y->data)[k] = act1((int)n->p[0], ((const float *)x->data)[k], n->f[0], n->f[1]);
    return 0;
}

#define ACT_OP(opname, KIND, ALPHA, BETA)                                                          \
    static int opname##_infer(struct nn_model *m, struct nn_node *n)                               \
    {                                                                                              \
        return act_infer(m, n, KIND, ALPHA, BETA);                                                 \
    }

ACT_OP(leaky_relu, ACT_LEAKY, 0.01f, 0.0f)
ACT_OP(elu, ACT_ELU, 1.0f, 0.0f)
ACT_OP(selu, ACT_SELU, 1.67326319f, 1.05070102f)
ACT_OP(hard_sigmoid, ACT_HARDSIGMOID, 0.2f, 0.5f)
ACT_OP(hard_swish, ACT_HARDSWISH, 0.0f, 0.0f)
ACT_OP(thresholded_relu, ACT_THRESHOLDED, 1.0f, 0.0f)
ACT_OP(celu, ACT_CELU, 1.0f, 0.0f)
ACT_OP(shrink, ACT_SHRINK, 0.0f, 0.5f)

static int relu_exec(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *x = nn_in(m, n, 0);
    struct nn_tensor *y = nn_out(m, n, 0);
    if (x->dtype == NN_FLOAT)
        return unary_exec(m, n, relu1);
    for (int64_t k = 0; k < x->numel; k++) {
        if (x->dtype == NN_INT64) {
            int64_t v = ((const int64_t *)x->data)[k];
            ((int64_t *)y->data)[k] = v > 0 ? v : 0;
        } else {
            int32_t v = ((const int32_t *)x->data)[k];
            ((int32_t *)y->data)[k] = v > 0 ? v : 0;
        }
    }
    return 0;
}

static int int_or_float_infer(struct nn_model *m, struct nn_node *n)
{
    return unary_infer(m, n, 1);
}

static int abs_neg_exec(struct nn_model *m, struct nn_node *n, int negate)
{
    const struct nn_tensor *x = nn_in(m, n, 0);
    struct nn_tensor *y = nn_out(m, n, 0);
    for (int64_t k = 0; k < x->numel; k++) {
        if (x->dtype == NN_FLOAT) {
            float v = ((const float *)x->data)[k];
            ((float *)y->data)[k] = negate ? -v : fabsf(v);
        } else if (x->dtype == NN_INT64) {
            int64_t v = ((const int64_t *)x->data)[k];
            ((int64_t *)y->data)[k] = negate || v < 0 ? (int64_t)(0 - (uint64_t)v) : v;
        } else {
            int32_t v = ((const int32_t *)x->data)[k];
            ((int32_t *)y->data)[k] = negate || v < 0 ? (int32_t)(0 - (uint32_t)v) : v;
        }
    }
    return 0;
}

static int abs_exec(struct nn_model *m, struct nn_node *n)
{
    return abs_neg_exec(m, n, 0);
}

static int neg_exec(struct nn_model *m, struct nn_node *n)
{
    return abs_neg_exec(m, n, 1);
}

static int gelu_infer(struct nn_model *m, struct nn_node *n)
{
    const struct nn_attr *a = nn_attr_get(n, "approximate");
    n->p[0] = a && a->s && strcmp(a->s, "tanh") == 0;
    if (a && a->s && !n->p[0] && strcmp(a->s, "none") != 0)
        return nn_node_fail(m, n, AE_EUNSUPPORTED, "approximate='%s' is not supported", a->s);
    return unary_infer(m, n, 0);
}

static int gelu_exec(struct nn_model *m, struct nn_node *n)
{
    if (n->p[0])
        return unary_exec(m, n, gelu_tanh1);
    const struct nn_tensor *x = nn_in(m, n, 0);
    struct nn_tensor *y = nn_out(m, n, 0);
    if (y->data != x->data)
        memcpy(y->data, x->data, (size_t)x->numel * sizeof(float));
    m->gelu(y->data, y->numel);
    return 0;
}

const struct nn_op nn_op_gelu = {"Gelu", 1, gelu_infer, gelu_exec, 0, 0};

/* ---- Clip(x, min, max): bounds from inputs (opset 11+) or attributes (older) ---- */

static int clip_infer(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *x = nn_in(m, n, 0);
    if (!x)
        return nn_node_fail(m, n, AE_EINVAL, "needs an input");
    if (x->dtype != NN_FLOAT && x->dtype != NN_INT64 && x->dtype != NN_INT32)
        return nn_node_fail(m, n, AE_EUNSUPPORTED, "type %s is not supported",
                            nn_dtype_name(x->dtype));
    for (int i = 1; i < 3; i++) {
        const struct nn_tensor *b = nn_in(m, n, i);
        if (b && (b->dtype != x->dtype || b->numel != 1))
            return nn_node_fail(m, n, AE_EINVAL, "bound '%s' must be a scalar of the input's type",
                                b->name);
    }
    return nn_set_output(m, n, 0, x->dtype, x->rank, x->dims);
}

static int clip_exec(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *x = nn_in(m, n, 0), *lo_t = nn_in(m, n, 1), *hi_t = nn_in(m, n, 2);
    struct nn_tensor *y = nn_out(m, n, 0);
    if (x->dtype == NN_FLOAT) {
        float lo = lo_t ? *(const float *)lo_t->data : nn_attr_float(n, "min", -FLT_MAX);
        float hi = hi_t ? *(const float *)hi_t->data : nn_attr_float(n, "max", FLT_MAX);
        const float *a = x->data;
        float *b = y->data;
        for (int64_t k = 0; k < x->numel; k++) {
            float v = a[k] < lo ? lo : a[k];
            b[k] = v > hi ? hi : v;
        }
        return 0;
    }
    int64_t lo = lo_t ? nn_tensor_int(lo_t, 0) : INT64_MIN;
    int64_t hi = hi_t ? nn_tensor_int(hi_t, 0) : INT64_MAX;
    for (int64_t k = 0; k < x->numel; k++) {
        int64_t v = nn_tensor_int(x, k);
        v = v < lo ? lo : v;
        v = v > hi ? hi : v;
        if (x->dtype == NN_INT64)
            ((int64_t *)y->data)[k] = v;
        else
            ((int32_t *)y->data)[k] = (int32_t)v;
    }
    return 0;
}

/* ---- Cast ---- */

static int cast_infer(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *x = nn_in(m, n, 0);
    if (!x)
        return nn_node_fail(m, n, AE_EINVAL, "needs an input");
    int to = (int)nn_attr_int(n, "to", 0);
    if (nn_dtype_size(to) == 0)
        return nn_node_fail(m, n, AE_EUNSUPPORTED, "cast to %s is not supported",
                            nn_dtype_name(to));
    return nn_set_output(m, n, 0, to, x->rank, x->dims);
}

static int cast_exec(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *x = nn_in(m, n, 0);
    struct nn_tensor *y = nn_out(m, n, 0);
    if (x->dtype == y->dtype) {
        memcpy(y->data, x->data, (size_t)x->numel * nn_dtype_size(x->dtype));
        return 0;
    }
    for (int64_t k = 0; k < x->numel; k++) {
        switch (y->dtype) {
        case NN_FLOAT:
            ((float *)y->data)[k] = (float)nn_tensor_double(x, k);
            break;
        case NN_INT64:
            ((int64_t *)y->data)[k] = nn_tensor_int(x, k);
            break;
        case NN_INT32:
            ((int32_t *)y->data)[k] = (int32_t)nn_tensor_int(x, k);
            break;
        case NN_BOOL:
            ((uint8_t *)y->data)[k] = nn_tensor_double(x, k) != 0.0;
            break;
        }
    }
    return 0;
}

/* ---- Identity, Dropout (inference: output = input, mask all true) ---- */

static int identity_infer(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *x = nn_in(m, n, 0);
    if (!x)
        return nn_node_fail(m, n, AE_EINVAL, "needs an input");
    return nn_set_output(m, n, 0, x->dtype, x->rank, x->dims);
}

static int identity_exec(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *x = nn_in(m, n, 0);
    struct nn_tensor *y = nn_out(m, n, 0);
    memcpy(y->data, x->data, (size_t)x->numel * nn_dtype_size(x->dtype));
    return 0;
}

static int dropout_infer(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *ratio = nn_in(m, n, 1), *training = nn_in(m, n, 2);
    if ((ratio && !ratio->data) || (training && !training->data))
        return nn_node_fail(m, n, AE_EUNSUPPORTED, "ratio and training_mode must be known");
    if (training && training->numel == 1 && nn_tensor_int(training, 0) != 0) {
        double r = ratio && ratio->numel == 1 ? nn_tensor_double(ratio, 0) : 0.5;
        if (r != 0.0)
            return nn_node_fail(m, n, AE_EUNSUPPORTED,
                                "training mode (random dropout) is not supported at inference");
    }
    int rc = identity_infer(m, n);
    const struct nn_tensor *x = nn_in(m, n, 0);
    if (rc == 0)
        rc = nn_set_output(m, n, 1, NN_BOOL, x->rank, x->dims);
    return rc;
}

static int dropout_exec(struct nn_model *m, struct nn_node *n)
{
    identity_exec(m, n);
    struct nn_tensor *mask = nn_out(m, n, 1);
    if (mask)
        memset(mask->data, 1, (size_t)mask->numel);
    return 0;
}

#define BIN_ENTRY(NAME, opname)                                                                    \
    {                                                                                              \
        NAME, 7, opname##_infer, opname##_exec, 0, 0                                               \
    }

const struct nn_op nn_ops_elementwise[] = {
    BIN_ENTRY("Add", add),
    BIN_ENTRY("Sub", sub),
    BIN_ENTRY("Mul", mul),
    BIN_ENTRY("Div", div),
    BIN_ENTRY("Equal", equal),
    BIN_ENTRY("Less", less),
    BIN_ENTRY("Greater", greater),
    BIN_ENTRY("LessOrEqual", less_eq),
    BIN_ENTRY("GreaterOrEqual", greater_eq),
    BIN_ENTRY("And", and),
    BIN_ENTRY("Or", or),
    BIN_ENTRY("Xor", xor),
    {"Pow", 7, pow_infer, pow_exec, 0, 0},
    {"Max", 8, max_infer, max_exec, 0, 0},
    {"Min", 8, min_infer, min_exec, 0, 0},
    {"Sum", 8, sum_infer, sum_exec, 0, 0},
    {"Mean", 8, mean_infer, mean_exec, 0, 0},
    {"Where", 9, where_infer, where_exec, 0, 0},
    {"Sqrt", 6, unary_float_infer, sqrt_exec, 0, 0},
    {"Erf", 9, unary_float_infer, erf_exec, 0, 0},
    {"Tanh", 6, unary_float_infer, tanh_exec, 0, 0},
    {"Sigmoid", 6, unary_float_infer, sigmoid_exec, 0, 0},
    {"Exp", 6, unary_float_infer, exp_exec, 0, 0},
    {"Log", 6, unary_float_infer, log_exec, 0, 0},
    {"Ceil", 6, unary_float_infer, ceil_exec, 0, 0},
    {"Floor", 6, unary_float_infer, floor_exec, 0, 0},
    {"Round", 11, unary_float_infer, round_exec, 0, 0},
    {"Sin", 7, unary_float_infer, sin_exec, 0, 0},
    {"Cos", 7, unary_float_infer, cos_exec, 0, 0},
    {"Tan", 7, unary_float_infer, tan_exec, 0, 0},
    {"Asin", 7, unary_float_infer, asin_exec, 0, 0},
    {"Acos", 7, unary_float_infer, acos_exec, 0, 0},
    {"Atan", 7, unary_float_infer, atan_exec, 0, 0},
    {"Sinh", 9, unary_float_infer, sinh_exec, 0, 0},
    {"Cosh", 9, unary_float_infer, cosh_exec, 0, 0},
    {"Asinh", 9, unary_float_infer, asinh_exec, 0, 0},
    {"Acosh", 9, unary_float_infer, acosh_exec, 0, 0},
    {"Atanh", 9, unary_float_infer, atanh_exec, 0, 0},
    {"Reciprocal", 6, unary_float_infer, reciprocal_exec, 0, 0},
    {"Sign", 9, unary_float_infer, sign_exec, 0, 0},
    {"Softsign", 1, unary_float_infer, softsign_exec, 0, 0},
    {"Softplus", 1, unary_float_infer, softplus_exec, 0, 0},
    {"LeakyRelu", 6, leaky_relu_infer, act_exec, 0, 0},
    {"Elu", 6, elu_infer, act_exec, 0, 0},
    {"Selu", 6, selu_infer, act_exec, 0, 0},
    {"HardSigmoid", 6, hard_sigmoid_infer, act_exec, 0, 0},
    {"HardSwish", 14, hard_swish_infer, act_exec, 0, 0},
    {"ThresholdedRelu", 10, thresholded_relu_infer, act_exec, 0, 0},
    {"Celu", 12, celu_infer, act_exec, 0, 0},
    {"Shrink", 9, shrink_infer, act_exec, 0, 0},
    {"Relu", 6, int_or_float_infer, relu_exec, 0, 0},
    {"Abs", 6, int_or_float_infer, abs_exec, 0, 0},
    {"Neg", 6, int_or_float_infer, neg_exec, 0, 0},
    {"Gelu", 1, gelu_infer, gelu_exec, 0, 0},
    {"Clip", 6, clip_infer, clip_exec, 0, 0},
    {"Cast", 6, cast_infer, cast_exec, 0, 0},
    {"Identity", 1, identity_infer, identity_exec, 0, 0},
    {"Dropout", 7, dropout_infer, dropout_exec, 0, 0},
    {NULL, 0, NULL, NULL, 0, 0},
};
