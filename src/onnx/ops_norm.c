/* Operators that work along axes: LayerNormalization, Softmax / LogSoftmax, and the reductions
 * ReduceMean / ReduceSum / ReduceMax / ReduceMin. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "nn_internal.h"
#include "vec.h"

/* Sum of x[j] (squares == 0) or of (x[j] - mean)^2 (squares == 1), in 8 interleaved partial sums
 * so that the compiler can keep them in one vector (a single running sum forces scalar code). */
static float row_sum(const float *x, int64_t n, float mean, int squares)
{
    float acc[8] = {0};
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) {
        for (int k = 0; k < 8; k++) {
            float d = x[j + k] - mean;
            acc[k] += squares ? d * d : x[j + k];
        }
    }
    float sum = 0.0f;
    for (; j < n; j++) {
        float d = x[j] - mean;
        sum += squares ? d * d : x[j];
    }
    return sum + ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

/* ---- LayerNormalization(X, Scale, B) -> Y, Mean, InvStdDev over the axes from `axis` on ---- */

static int layernorm_infer(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *x = nn_in(m, n, 0), *s = nn_in(m, n, 1), *b = nn_in(m, n, 2);
    if (!x || !s)
        return nn_node_fail(m, n, AE_EINVAL, "needs X and Scale");
    if (x->dtype != NN_FLOAT || s->dtype != NN_FLOAT || (b && b->dtype != NN_FLOAT))
        return nn_node_fail(m, n, AE_EUNSUPPORTED, "only float is supported");
    int axis = nn_axis(n->has_fused_eps ? -1 : nn_attr_int(n, "axis", -1), x->rank);
    if (axis < 0)
        return nn_node_fail(m, n, AE_EINVAL, "axis out of range for rank %d", x->rank);
    int64_t inner = 1;
    for (int d = axis; d < x->rank; d++)
        inner *= x->dims[d];
    if (s->numel != inner || (b && b->numel != inner))
        return nn_node_fail(m, n, AE_ESHAPE, "Scale and B must have %lld elements",
                            (long long)inner);
    n->p[0] = inner;
    n->p[1] = inner ? x->numel / inner : 0;
    n->f[0] = n->has_fused_eps ? n->fused_eps : nn_attr_float(n, "epsilon", 1e-5f);
    int64_t stat_dims[NN_MAX_RANK];
    for (int d = 0; d < x->rank; d++)
        stat_dims[d] = d < axis ? x->dims[d] : 1;
    int rc = nn_set_output(m, n, 0, NN_FLOAT, x->rank, x->dims);
    if (rc == 0)
        rc = nn_set_output(m, n, 1, NN_FLOAT, x->rank, stat_dims);
    if (rc == 0)
        rc = nn_set_output(m, n, 2, NN_FLOAT, x->rank, stat_dims);
    return rc;
}

static int layernorm_exec(struct nn_model *m, struct nn_node *n)
{
    const float *x = nn_in(m, n, 0)->data, *scale = nn_in(m, n, 1)->data;
    const struct nn_tensor *bt = nn_in(m, n, 2);
    const float *bias = bt ? bt->data : NULL;
    struct nn_tensor *yt = nn_out(m, n, 0), *mt = nn_out(m, n, 1), *it = nn_out(m, n, 2);
    float *y = yt ? yt->data : NULL;
    int64_t inner = n->p[0], rows = n->p[1];
    float eps = n->f[0];
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * inner;
        /* Two passes (mean, then variance around it): stable, and the row is in L1 anyway. */
        float mean = row_sum(xr, inner, 0.0f, 0) / (float)inner;
        float var = row_sum(xr, inner, mean, 1);
        float inv = 1.0f / sqrtf(var / (float)inner + eps);
        if (y) {
            float *yr = y + r * inner;
            if (bias)
                for (int64_t j = 0; j < inner; j++)
                    yr[j] = (xr[j] - mean) * inv * scale[j] + bias[j];
            else
                for (int64_t j = 0; j < inner; j++)
                    yr[j] = (xr[j] - mean) * inv * scale[j];
        }
        if (mt)
            ((float *)mt->data)[r] = mean;
        if (it)
            ((float *)it->data)[r] = inv;
    }
    return 0;
}

/* ---- Softmax / LogSoftmax ---- */

static int softmax_infer(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *x = nn_in(m, n, 0);
    if (!x)
        return nn_node_fail(m, n, AE_EINVAL, "needs an input");
    if (x->dtype != NN_FLOAT)
        return nn_node_fail(m, n, AE_EUNSUPPORTED, "only float is supported");
    int legacy = n->opset < 13; /* before 13: softmax over the flattened axes from `axis` on */
    int axis = nn_axis(nn_attr_int(n, "axis", legacy ? 1 : -1), x->rank > 0 ? x->rank : 1);
    if (axis < 0)
        return nn_node_fail(m, n, AE_EINVAL, "axis out of range for rank %d", x->rank);
    int64_t outer = 1, len = 1, inner = 1;
    for (int d = 0; d < x->rank; d++) {
        if (d < axis)
            outer *= x->dims[d];
        else if (d == axis || legacy)
            len *= x->dims[d];
        else
            inner *= x->dims[d];
    }
    n->p[0] = outer, n->p[1] = len, n->p[2] = inner;
    return nn_set_output(m, n, 0, NN_FLOAT, x->rank, x->dims);
}

static void softmax_run(struct nn_model *m, struct nn_node *n, int log_form)
{
    const float *x = nn_in(m, n, 0)->data;
    float *y = nn_out(m, n, 0)->data;
    int64_t outer = n->p[0], len = n->p[1], inner = n->p[2];
    if (inner == 1 && !log_form) { /* the usual case: contiguous rows, the vector kernels */
        const struct nn_vec_kernels *vk = m->vec ? m->vec : nn_vec_kernels_baseline();
        if (len >= 64) {
            for (int64_t o = 0; o < outer; o++)
                vk->softmax(x + o * len, y + o * len, len);
            return;
        }
        /* Short rows (a gate over 8 to 32 patches) would leave the row kernel a scalar tail:
         * subtract each row's maximum, take e^ over the whole block in one vector call, then
         * normalise each row. */
        for (int64_t o = 0; o < outer; o++) {
            const float *xr = x + o * len;
            float *yr = y + o * len;
            float mx = xr[0];
            for (int64_t k = 1; k < len; k++)
                mx = xr[k] > mx ? xr[k] : mx;
            for (int64_t k = 0; k < len; k++)
                yr[k] = xr[k] - mx;
        }
        vk->exp(y, y, outer * len);
        for (int64_t o = 0; o < outer; o++) {
            float *yr = y + o * len, sum = 0.0f;
            for (int64_t k = 0; k < len; k++)
                sum += yr[k];
            float inv = 1.0f / sum;
            for (int64_t k = 0; k < len; k++)
                yr[k] *= inv;
        }
        return;
    }
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t i = 0; i < inner; i++) {
            const float *xs = x + o * len * inner + i;
            float *ys = y + o * len * inner + i;
            float mx = -INFINITY;
            for (int64_t k = 0; k < len; k++)
                mx = xs[k * inner] > mx ? xs[k * inner] : mx;
            float sum = 0.0f;
            for (int64_t k = 0; k < len; k++) {
                float e = expf(xs[k * inner] - mx);
                ys[k * inner] = e;
                sum += e;
            }
            if (log_form) {
                float lse = logf(sum);
                for (int64_t k = 0; k < len; k++)
                    ys[k * inner] = xs[k * inner] - mx - lse;
            } else {
                float inv = 1.0f / sum;
                for (int64_t k = 0; k < len; k++)
                    ys[k * inner] *= inv;
            }
        }
    }
}

static int softmax_exec(struct nn_model *m, struct nn_node *n)
{
    softmax_run(m, n, 0);
    return 0;
}

static int log_softmax_exec(struct nn_model *m, struct nn_node *n)
{
    softmax_run(m, n, 1);
    return 0;
}

/* ---- Reductions ---- */

enum reduce_kind {
    RED_SUM,
    RED_MEAN,
    RED_MAX,
    RED_MIN,
    RED_PROD,
    RED_SUM_SQUARE,
    RED_L1,
    RED_L2,
    RED_LOG_SUM,
    RED_LOG_SUM_EXP,
};

/* Axes come from an input from opset 13 (ReduceSum) or 18 (the others), else an attribute. */
static int reduce_infer(struct nn_model *m, struct nn_node *n, int axes_input_from, int kind)
{
    const struct nn_tensor *x = nn_in(m, n, 0);
    if (!x)
        return nn_node_fail(m, n, AE_EINVAL, "needs an input");
    int float_only = kind == RED_L2 || kind == RED_LOG_SUM || kind == RED_LOG_SUM_EXP;
    if (x->dtype != NN_FLOAT && (float_only || (x->dtype != NN_INT64 && x->dtype != NN_INT32)))
        return nn_node_fail(m, n, AE_EUNSUPPORTED, "type %s is not supported",
                            nn_dtype_name(x->dtype));
    int reduce[NN_MAX_RANK] = {0};
    int n_axes = 0;
    if (n->opset >= axes_input_from) {
        const struct nn_tensor *axes = nn_in(m, n, 1);
        if (axes) {
            int rc = nn_need_input(m, n, 1);
            if (rc != 0)
                return rc;
            for (int64_t i = 0; i < axes->numel; i++) {
                int a = nn_axis(nn_tensor_int(axes, i), x->rank);
                if (a < 0)
                    return nn_node_fail(m, n, AE_EINVAL, "axis out of range");
                reduce[a] = 1;
                n_axes++;
            }
        }
    } else {
        const struct nn_attr *a = nn_attr_get(n, "axes");
        for (int i = 0; a && i < a->n; i++) {
            int ax = nn_axis(a->ints[i], x->rank);
            if (ax < 0)
                return nn_node_fail(m, n, AE_EINVAL, "axis out of range");
            reduce[ax] = 1;
            n_axes++;
        }
    }
    int keep = nn_attr_int(n, "keepdims", 1) != 0;
    int noop = n_axes == 0 && nn_attr_int(n, "noop_with_empty_axes", 0) != 0;
    int64_t dims[NN_MAX_RANK];
    int r = 0;
    for (int d = 0; d < x->rank; d++) {
        if (n_axes == 0 && !noop)
            reduce[d] = 1;
        n->p[d] = reduce[d];
        if (!reduce[d])
            dims[r++] = x->dims[d];
        else if (keep)
            dims[r++] = 1;
    }
    return nn_set_output(m, n, 0, x->dtype, r, dims);
}

/* Value entering the accumulation (|v|, v^2, e^v for the kinds that need it). */
static double reduce_map(int kind, double v)
{
    switch (kind) {
    case RED_SUM_SQUARE:
    case RED_L2:
        return v * v;
    case RED_L1:
        return fabs(v);
    case RED_LOG_SUM_EXP:
        return exp(v);
    default:
        return v;
    }
}

static double reduce_init(int kind)
{
    return kind == RED_MAX ? -INFINITY : kind == RED_MIN ? INFINITY : kind == RED_PROD ? 1.0 : 0.0;
}

/* Every output element starts at the reduction's identity. */
static void reduce_fill_init(struct nn_tensor *y, int kind)
{
    for (int64_t i = 0; i < y->numel; i++) {
        if (y->dtype == NN_FLOAT)
            ((float *)y->data)[i] = (float)reduce_init(kind);
        else if (y->dtype == NN_INT64)
            ((int64_t *)y->data)[i] = kind == RED_MAX   ? INT64_MIN
                                      : kind == RED_MIN ? INT64_MAX
                                                        : kind == RED_PROD;
        else
            ((int32_t *)y->data)[i] = kind == RED_MAX   ? INT32_MIN
                                      : kind == RED_MIN ? INT32_MAX
                                                        : kind == RED_PROD;
    }
}

/* Folds input element i of a float tensor into output element o (NaN wins max and min). */
static inline void reduce_float(const struct nn_tensor *x, struct nn_tensor *y, int64_t i,
                                int64_t o, int kind)
{
    float v = (float)reduce_map(kind, ((const float *)x->data)[i]);
    float *acc = (float *)y->data + o;
    if (kind == RED_MAX)
        *acc = v > *acc || isnan(v) ? v : *acc;
    else if (kind == RED_MIN)
        *acc = v < *acc || isnan(v) ? v : *acc;
    else if (kind == RED_PROD)
        *acc *= v;
    else
        *acc += v;
}

/* Folds input element i of an integer tensor into output element o, wrapping on overflow. */
static inline void reduce_int(const struct nn_tensor *x, struct nn_tensor *y, int64_t i,
                              int64_t o, int kind)
{
    int64_t v = nn_tensor_int(x, i), a = nn_tensor_int(y, o);
    if (kind == RED_SUM_SQUARE)
        v = (int64_t)((uint64_t)v * (uint64_t)v);
    else if (kind == RED_L1 && v < 0)
        v = (int64_t)(0 - (uint64_t)v);
    if (kind == RED_MAX)
        a = v > a ? v : a;
    else if (kind == RED_MIN)
        a = v < a ? v : a;
    else if (kind == RED_PROD)
        a = (int64_t)((uint64_t)a * (uint64_t)v);
    else
        a = (int64_t)((uint64_t)a + (uint64_t)v);
    if (y->dtype == NN_INT64)
        ((int64_t *)y->data)[o] = a;
    else
        ((int32_t *)y->data)[o] = (int32_t)a;
}

/* The last step of mean, L2 and the log reductions over count elements each. */
static void reduce_finish(struct nn_tensor *y, int kind, int64_t count)
{
    for (int64_t i = 0; i < y->numel; i++) {
        if (y->dtype == NN_FLOAT) {
            float *v = (float *)y->data + i;
            if (kind == RED_MEAN && count > 0)
                *v /= (float)count;
            else if (kind == RED_L2)
                *v = sqrtf(*v);
            else if (kind == RED_LOG_SUM || kind == RED_LOG_SUM_EXP)
                *v = logf(*v);
        } else if (kind == RED_MEAN && count > 0) {
            if (y->dtype == NN_INT64)
                ((int64_t *)y->data)[i] /= count;
            else
                ((int32_t *)y->data)[i] = (int32_t)(((int32_t *)y->data)[i] / count);
        }
    }
}

static int reduce_exec(struct nn_model *m, struct nn_node *n, int kind)
{
    const struct nn_tensor *x = nn_in(m, n, 0);
    struct nn_tensor *y = nn_out(m, n, 0);
    /* Output strides over the input's dimensions, 0 on reduced axes. */
    int64_t ost[NN_MAX_RANK], s = 1;
    for (int d = x->rank - 1; d >= 0; d--) {
        ost[d] = n->p[d] ? 0 : s;
        s *= n->p[d] ? 1 : x->dims[d];
    }
    int64_t count = y->numel ? x->numel / y->numel : 0;
    int is_float = x->dtype == NN_FLOAT;
    /* Floats accumulate in float (as the reference implementations), integers in int64. */
    reduce_fill_init(y, kind);
    int64_t idx[NN_MAX_RANK] = {0}, o = 0;
    for (int64_t i = 0; i < x->numel; i++) {
        if (is_float)
            reduce_float(x, y, i, o, kind);
        else
            reduce_int(x, y, i, o, kind);
        for (int d = x->rank - 1; d >= 0; d--) {
            idx[d]++;
            o += ost[d];
            if (idx[d] < x->dims[d])
                break;
            o -= ost[d] * x->dims[d];
            idx[d] = 0;
        }
    }
    reduce_finish(y, kind, count);
    return 0;
}

#define REDUCE_OP(opname, KIND, AXES_INPUT_FROM)                                                   \
    static int opname##_infer(struct nn_model *m, struct nn_node *n)                               \
    {                                                                                              \
        return reduce_infer(m, n, AXES_INPUT_FROM, KIND);                                          \
    }                                                                                              \
    static int opname##_exec(struct nn_model *m, struct nn_node *n)                                \
    {                                                                                              \
        return reduce_exec(m, n, KIND);                                                            \
    }

REDUCE_OP(reduce_sum, RED_SUM, 13)
REDUCE_OP(reduce_mean, RED_MEAN, 18)
REDUCE_OP(reduce_max, RED_MAX, 18)
REDUCE_OP(reduce_min, RED_MIN, 18)
REDUCE_OP(reduce_prod, RED_PROD, 18)
REDUCE_OP(reduce_sum_square, RED_SUM_SQUARE, 18)
REDUCE_OP(reduce_l1, RED_L1, 18)
REDUCE_OP(reduce_l2, RED_L2, 18)
REDUCE_OP(reduce_log_sum, RED_LOG_SUM, 18)
REDUCE_OP(reduce_log_sum_exp, RED_LOG_SUM_EXP, 18)

const struct nn_op nn_ops_norm[] = {
    {"LayerNormalization", 17, layernorm_infer, layernorm_exec, 0, 0},
    {"Softmax", 1, softmax_infer, softmax_exec, 0, 0},
    {"LogSoftmax", 1, softmax_infer, log_softmax_exec, 0, 0},
    {"ReduceSum", 1, reduce_sum_infer, reduce_sum_exec, 0, 0},
    {"ReduceMean", 1, reduce_mean_infer, reduce_mean_exec, 0, 0},
    {"ReduceMax", 1, reduce_max_infer, reduce_max_exec, 0, 0},
    {"ReduceMin", 1, reduce_min_infer, reduce_min_exec, 0, 0},
    {"ReduceProd", 1, reduce_prod_infer, reduce_prod_exec, 0, 0},
    {"ReduceSumSquare", 1, reduce_sum_square_infer, reduce_sum_square_exec, 0, 0},
    {"ReduceL1", 1, reduce_l1_infer, reduce_l1_exec, 0, 0},
    {"ReduceL2", 1, reduce_l2_infer, reduce_l2_exec, 0, 0},
    {"ReduceLogSum", 1, reduce_log_sum_infer, reduce_log_sum_exec, 0, 0},
    {"ReduceLogSumExp", 1, reduce_log_sum_exp_infer, reduce_log_sum_exp_exec, 0, 0},
    {NULL, 0, NULL, NULL, 0, 0},
};
