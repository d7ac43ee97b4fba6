/* Pad (constant, reflect, edge, wrap; pads and the value as attributes before opset 11, inputs
 * after, optional axes from 18), CumSum and TopK. */
#include <math.h>
#include <string.h>

#include "nn_internal.h"

/* ---- Pad ---- */

enum pad_mode { PAD_CONSTANT, PAD_REFLECT, PAD_EDGE, PAD_WRAP };

/* Parameter slots: leading pads per dimension, then the mode. */
#define PAD_P_MODE NN_MAX_RANK

static int pad_infer(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *x = nn_in(m, n, 0);
    if (!x)
        return nn_node_fail(m, n, AE_EINVAL, "needs an input");
    const struct nn_attr *ma = nn_attr_get(n, "mode");
    const char *mode = ma && ma->s ? ma->s : "constant";
    int kind = strcmp(mode, "constant") == 0  ? PAD_CONSTANT
               : strcmp(mode, "reflect") == 0 ? PAD_REFLECT
               : strcmp(mode, "edge") == 0    ? PAD_EDGE
               : strcmp(mode, "wrap") == 0    ? PAD_WRAP
                                              : -1;
    if (kind < 0)
        return nn_node_fail(m, n, AE_EINVAL,
                            "mode '%s' is not one of constant, reflect, edge, wrap", mode);
    int r = x->rank;
    int64_t pb[NN_MAX_RANK] = {0}, pe[NN_MAX_RANK] = {0};
    if (n->opset < 11) {
        const struct nn_attr *pa = nn_attr_get(n, "pads");
        if (!pa || pa->n != 2 * r)
            return nn_node_fail(m, n, AE_EINVAL, "pads needs %d entries", 2 * r);
        for (int d = 0; d < r; d++)
            pb[d] = pa->ints[d], pe[d] = pa->ints[d + r];
    } else {
        int rc = nn_need_input(m, n, 1);
        if (rc != 0)
            return rc;
        const struct nn_tensor *pt = nn_in(m, n, 1), *at = nn_in(m, n, 3);
        if (pt->dtype != NN_INT64)
            return nn_node_fail(m, n, AE_EINVAL, "pads must be int64");
        int axes[NN_MAX_RANK], na = r;
        for (int d = 0; d < r; d++)
            axes[d] = d;
        if (at) {
            rc = nn_need_input(m, n, 3);
            if (rc != 0)
                return rc;
            if (at->numel > r)
                return nn_node_fail(m, n, AE_EINVAL, "more axes than dimensions");
            na = (int)at->numel;
            for (int i = 0; i < na; i++) {
                axes[i] = nn_axis(nn_tensor_int(at, i), r);
                if (axes[i] < 0)
                    return nn_node_fail(m, n, AE_EINVAL, "axis %lld out of range for rank %d",
                                        (long long)nn_tensor_int(at, i), r);
            }
        }
        if (pt->numel != 2 * na)
            return nn_node_fail(m, n, AE_EINVAL, "pads has %lld entries, expected %d",
                                (long long)pt->numel, 2 * na);
        for (int i = 0; i < na; i++)
            pb[axes[i]] = nn_tensor_int(pt, i), pe[axes[i]] = nn_tensor_int(pt, i + na);
        const struct nn_tensor *vt = nn_in(m, n, 2);
        if (vt && vt->numel > 1)
            return nn_node_fail(m, n, AE_EINVAL, "constant_value must be a scalar");
    }
    int64_t dims[NN_MAX_RANK];
    for (int d = 0; d < r; d++) {
        if (pb[d] < -x->dims[d] || pe[d] < -x->dims[d] || pb[d] > NN_MAX_TENSOR_BYTES ||
            pe[d] > NN_MAX_TENSOR_BYTES)
            return nn_node_fail(m, n, AE_EINVAL, "pads %lld, %lld out of range for dimension %d",
                                (long long)pb[d], (long long)pe[d], d);
        dims[d] = x->dims[d] + pb[d] + pe[d];
        if (dims[d] < 0)
            return nn_node_fail(m, n, AE_EINVAL, "pads make dimension %d negative", d);
        if (kind != PAD_CONSTANT && x->dims[d] == 0 && dims[d] > 0)
            return nn_node_fail(m, n, AE_EINVAL, "cannot %s-pad an empty dimension", mode);
        n->p[d] = pb[d];
    }
    n->p[PAD_P_MODE] = kind;
    return nn_set_output(m, n, 0, x->dtype, r, dims);
}

/* Source index in [0, len) of output position o (j = o - leading pad), or -1 for the constant. */
static int64_t pad_source(int64_t j, int64_t len, int kind)
{
    if (j >= 0 && j < len)
        return j;
    switch (kind) {
    case PAD_EDGE:
        return j < 0 ? 0 : len - 1;
    case PAD_WRAP:
        return ((j % len) + len) % len;
    case PAD_REFLECT: {
        if (len == 1)
            return 0;
        int64_t period = 2 * (len - 1);
        j = ((j % period) + period) % period;
        return j < len ? j : period - j;
    }
    default:
        return -1;
    }
}

/* Copies one element of es bytes; the common sizes without a call to memcpy. */
static inline void copy_element(char *dst, const char *src, size_t es)
{
    if (es == 4)
        memcpy(dst, src, 4);
    else if (es == 8)
        memcpy(dst, src, 8);
    else
        memcpy(dst, src, es);
}

/* Element k of an output row over the input row src (NULL: the row lies in a constant pad). */
static void pad_element(char *o, const char *src, int64_t k, int64_t in_len, int64_t lead, int kind,
                        const unsigned char *fill, size_t es)
{
    int64_t j = src ? pad_source(k - lead, in_len, kind) : -1;
    copy_element(o + (size_t)k * es, j < 0 ? (const char *)fill : src + (size_t)j * es, es);
}

/* One output row of the innermost dimension: the positions before and after the input by the
 * mode, the input row in between as one copy. */
static void pad_row(char *o, const char *src, int64_t inner, int64_t in_len, int64_t lead, int kind,
                    const unsigned char *fill, size_t es)
{
    int64_t a = lead < 0 ? 0 : lead < inner ? lead : inner;
    int64_t b = lead + in_len < inner ? lead + in_len : inner;
    b = !src || b < a ? a : b;
    for (int64_t k = 0; k < a; k++)
        pad_element(o, src, k, in_len, lead, kind, fill, es);
    if (b > a)
        memcpy(o + (size_t)a * es, src + (size_t)(a - lead) * es, (size_t)(b - a) * es);
    for (int64_t k = b; k < inner; k++)
        pad_element(o, src, k, in_len, lead, kind, fill, es);
}

static int pad_exec(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *x = nn_in(m, n, 0);
    struct nn_tensor *y = nn_out(m, n, 0);
    if (y->numel == 0)
        return 0;
    int kind = (int)n->p[PAD_P_MODE], r = x->rank;
    size_t es = nn_dtype_size(x->dtype);
    /* The fill value in the tensor's own type. */
    unsigned char fill[8] = {0};
    const struct nn_tensor *vt = n->opset < 11 ? NULL : nn_in(m, n, 2);
    double v = n->opset < 11          ? nn_attr_float(n, "value", 0.0f)
               : vt && vt->numel == 1 ? nn_tensor_double(vt, 0)
                                      : 0.0;
    if (x->dtype == NN_FLOAT) {
        float f = (float)v;
        memcpy(fill, &f, sizeof f);
    } else if (x->dtype == NN_INT64) {
        int64_t i = vt && vt->numel == 1 ? nn_tensor_int(vt, 0) : (int64_t)v;
        memcpy(fill, &i, sizeof i);
    } else if (x->dtype == NN_INT32) {
        int32_t i = vt && vt->numel == 1 ? (int32_t)nn_tensor_int(vt, 0) : (int32_t)v;
        memcpy(fill, &i, sizeof i);
    } else {
        fill[0] = v != 0.0;
    }
    if (r == 0) {
        memcpy(y->data, x->data, es);
        return 0;
    }
    int64_t ist[NN_MAX_RANK];
    int64_t s = 1;
    for (int d = r - 1; d >= 0; d--) {
        ist[d] = s;
        s *= x->dims[d];
    }
    int64_t inner = y->dims[r - 1], in_len = x->dims[r - 1], lead = n->p[r - 1];
    int64_t rows = y->numel / inner;
    int64_t idx[NN_MAX_RANK] = {0};
    const char *src = x->data;
    char *o = y->data;
    for (int64_t row = 0; row < rows; row++, o += (size_t)inner * es) {
        int64_t base = 0;
        int outside = 0;
        for (int d = 0; d < r - 1 && !outside; d++) {
            int64_t j = pad_source(idx[d] - n->p[d], x->dims[d], kind);
            if (j < 0)
                outside = 1;
            base += j * ist[d];
        }
        pad_row(o, outside ? NULL : src + (size_t)base * es, inner, in_len, lead, kind, fill, es);
        for (int d = r - 2; d >= 0; d--) {
            if (++idx[d] < y->dims[d])
                break;
            idx[d] = 0;
        }
    }
    return 0;
}

/* ---- CumSum(x, axis) with exclusive and reverse ---- */

static int cumsum_infer(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *x = nn_in(m, n, 0);
    int rc = nn_need_input(m, n, 1);
    if (rc != 0)
        return rc;
    if (!x || (x->dtype != NN_FLOAT && x->dtype != NN_INT64 && x->dtype != NN_INT32))
        return nn_node_fail(m, n, AE_EUNSUPPORTED, "needs a float, int64 or int32 input");
    const struct nn_tensor *at = nn_in(m, n, 1);
    if (at->numel != 1 || (at->dtype != NN_INT64 && at->dtype != NN_INT32))
        return nn_node_fail(m, n, AE_EINVAL, "axis must be one int64 or int32 value");
    int axis = nn_axis(nn_tensor_int(at, 0), x->rank);
    if (axis < 0)
        return nn_node_fail(m, n, AE_EINVAL, "axis %lld out of range for rank %d",
                            (long long)nn_tensor_int(at, 0), x->rank);
    int64_t outer = 1, len = x->dims[axis], inner = 1;
    for (int d = 0; d < x->rank; d++) {
        if (d < axis)
            outer *= x->dims[d];
        else if (d > axis)
            inner *= x->dims[d];
    }
    n->p[0] = outer, n->p[1] = len, n->p[2] = inner;
    n->p[3] = nn_attr_int(n, "exclusive", 0) != 0;
    n->p[4] = nn_attr_int(n, "reverse", 0) != 0;
    return nn_set_output(m, n, 0, x->dtype, x->rank, x->dims);
}

#define CUMSUM_LOOP(T, ACC)                                                                        \
    do {                                                                                           \
        const T *xs = x->data;                                                                     \
        T *ys = y->data;                                                                           \
        for (int64_t o = 0; o < outer; o++)                                                        \
            for (int64_t i = 0; i < inner; i++) {                                                  \
                ACC acc = 0;                                                                       \
                for (int64_t k = 0; k < len; k++) {                                                \
                    int64_t at = (o * len + (reverse ? len - 1 - k : k)) * inner + i;              \
                    ACC v = (ACC)xs[at];                                                           \
                    if (!exclusive)                                                                \
                        acc = (ACC)(acc + v);                                                      \
                    ys[at] = (T)acc;                                                               \
                    if (exclusive)                                                                 \
                        acc = (ACC)(acc + v);                                                      \
                }                                                                                  \
            }                                                                                      \
    } while (0)

static int cumsum_exec(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *x = nn_in(m, n, 0);
    struct nn_tensor *y = nn_out(m, n, 0);
    int64_t outer = n->p[0], len = n->p[1], inner = n->p[2];
    int exclusive = (int)n->p[3], reverse = (int)n->p[4];
    /* Integers wrap (unsigned accumulation): no input can trap the process. */
    if (x->dtype == NN_FLOAT)
        CUMSUM_LOOP(float, float);
    else if (x->dtype == NN_INT64)
        CUMSUM_LOOP(int64_t, uint64_t);
    else
        CUMSUM_LOOP(int32_t, uint32_t);
    return 0;
}

/* ---- TopK(X, K) -> Values, Indices along axis; ties keep the lower index first ---- */

static int topk_infer(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *x = nn_in(m, n, 0);
    if (!x || (x->dtype != NN_FLOAT && x->dtype != NN_INT64 && x->dtype != NN_INT32))
        return nn_node_fail(m, n, AE_EUNSUPPORTED, "needs a float, int64 or int32 input");
    if (!nn_out(m, n, 1))
        return nn_node_fail(m, n, AE_EUNSUPPORTED, "the Indices output is required");
    int64_t k;
    if (n->opset < 10) {
        k = nn_attr_int(n, "k", -1);
    } else {
        int rc = nn_need_input(m, n, 1);
        if (rc != 0)
            return rc;
        const struct nn_tensor *kt = nn_in(m, n, 1);
        if (kt->numel != 1 || kt->dtype != NN_INT64)
            return nn_node_fail(m, n, AE_EINVAL, "K must be one int64 value");
        k = nn_tensor_int(kt, 0);
    }
    int axis = nn_axis(nn_attr_int(n, "axis", -1), x->rank);
    if (axis < 0)
        return nn_node_fail(m, n, AE_EINVAL, "axis out of range for rank %d", x->rank);
    if (k < 0 || k > x->dims[axis])
        return nn_node_fail(m, n, AE_EINVAL, "K = %lld outside [0, %lld]", (long long)k,
                            (long long)x->dims[axis]);
    int64_t outer = 1, inner = 1, dims[NN_MAX_RANK];
    for (int d = 0; d < x->rank; d++) {
        dims[d] = d == axis ? k : x->dims[d];
        if (d < axis)
            outer *= x->dims[d];
        else if (d > axis)
            inner *= x->dims[d];
    }
    n->p[0] = outer, n->p[1] = x->dims[axis], n->p[2] = inner, n->p[3] = k;
    n->p[4] = nn_attr_int(n, "largest", 1) != 0;
    int rc = nn_set_output(m, n, 0, x->dtype, x->rank, dims);
    if (rc == 0)
        rc = nn_set_output(m, n, 1, NN_INT64, x->rank, dims);
    return rc;
}

/* Whether element a of x ranks strictly before element b (NaN ranks first when largest). */
static int ranks_before(const struct nn_tensor *x, int64_t a, int64_t b, int largest)
{
    if (x->dtype == NN_FLOAT) {
        float va = ((const float *)x->data)[a], vb = ((const float *)x->data)[b];
        if (isnan(va) || isnan(vb))
            return isnan(va) && !isnan(vb) ? largest : !isnan(va) && isnan(vb) ? !largest : 0;
        return largest ? va > vb : va < vb;
    }
    int64_t va = nn_tensor_int(x, a), vb = nn_tensor_int(x, b);
    return largest ? va > vb : va < vb;
}

static int topk_exec(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *x = nn_in(m, n, 0);
    struct nn_tensor *vt = nn_out(m, n, 0), *it = nn_out(m, n, 1);
    int64_t outer = n->p[0], len = n->p[1], inner = n->p[2], k = n->p[3];
    int largest = (int)n->p[4];
    int64_t *ind = it->data;
    size_t es = nn_dtype_size(x->dtype);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            /* Insertion into the sorted first k, kept in the Indices output (element index). */
            int64_t *best = ind + o * k * inner + i, filled = 0;
            int64_t base = o * len * inner + i;
            for (int64_t j = 0; j < len && k > 0; j++) {
                int64_t e = base + j * inner, p = filled;
                while (p > 0 && ranks_before(x, e, best[(p - 1) * inner], largest))
                    p--;
                if (p >= k)
                    continue;
                int64_t last = filled < k ? filled : k - 1;
                for (int64_t q = last; q > p; q--)
                    best[q * inner] = best[(q - 1) * inner];
                best[p * inner] = e;
                filled += filled < k;
            }
            for (int64_t q = 0; q < k; q++) {
                int64_t e = best[q * inner];
                if (vt)
                    memcpy((char *)vt->data + (size_t)(o * k * inner + q * inner + i) * es,
                           (const char *)x->data + (size_t)e * es, es);
                best[q * inner] = (e - base) / inner;
            }
        }
    return 0;
}

const struct nn_op nn_ops_pad_scan[] = {
    {"Pad", 2, pad_infer, pad_exec, 0, 0},
    {"CumSum", 11, cumsum_infer, cumsum_exec, 0, 0},
    {"TopK", 1, topk_infer, topk_exec, 0, 0},
    {NULL, 0, NULL, NULL, 0, 0},
};
