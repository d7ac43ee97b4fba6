/* Operators that move data without arithmetic: Transpose, Reshape, Flatten, Squeeze, Unsqueeze,
 * Concat, Slice, Gather, Shape, Expand, ConstantOfShape, Range.
 *
 * Several read the values of a small int64 input (a target shape, axes, bounds) during infer; at
 * planning those are constants or were computed by the dry run, and at run time by the node that
 * produced them earlier in the same run. */
#include <math.h>
#include <string.h>

#include "nn_internal.h"

static void strides_of(const struct nn_tensor *t, int64_t *st)
{
    int64_t s = 1;
    for (int d = t->rank - 1; d >= 0; d--) {
        st[d] = s;
        s *= t->dims[d];
    }
}

/* Copies out (its shape) from in, where element idx of out is in[base + sum idx[d] * src_st[d]]. */
static void strided_copy(const struct nn_tensor *out, const void *src, int64_t base,
                         const int64_t *src_st)
{
    if (out->numel == 0)
        return;
    size_t es = nn_dtype_size(out->dtype);
    int r = out->rank;
    int64_t idx[NN_MAX_RANK] = {0};
    int64_t inner = r ? out->dims[r - 1] : 1, is = r ? src_st[r - 1] : 0;
    int64_t rows = out->numel / inner, off = base;
    const char *s = src;
    char *o = out->data;
    for (int64_t row = 0; row < rows; row++) {
        if (is == 1) {
            memcpy(o, s + (size_t)off * es, (size_t)inner * es);
        } else if (es == 4) {
            const uint32_t *sp = (const uint32_t *)s + off;
            uint32_t *op = (uint32_t *)o;
            for (int64_t k = 0; k < inner; k++)
                op[k] = sp[k * is];
        } else {
            for (int64_t k = 0; k < inner; k++)
                memcpy(o + (size_t)k * es, s + (size_t)(off + k * is) * es, es);
        }
        o += (size_t)inner * es;
        for (int d = r - 2; d >= 0; d--) {
            idx[d]++;
            off += src_st[d];
            if (idx[d] < out->dims[d])
                break;
            off -= src_st[d] * out->dims[d];
            idx[d] = 0;
        }
    }
}

/* ---- Transpose ---- */

static int transpose_infer(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *x = nn_in(m, n, 0);
    if (!x)
        return nn_node_fail(m, n, AE_EINVAL, "needs an input");
    const struct nn_attr *perm = nn_attr_get(n, "perm");
    if (perm && perm->n != x->rank)
        return nn_node_fail(m, n, AE_EINVAL, "perm has %d entries for rank %d", perm->n, x->rank);
    int used[NN_MAX_RANK] = {0};
    int64_t dims[NN_MAX_RANK];
    for (int d = 0; d < x->rank; d++) {
        int64_t p = perm ? perm->ints[d] : x->rank - 1 - d;
        if (p < 0 || p >= x->rank || used[p])
            return nn_node_fail(m, n, AE_EINVAL, "perm is not a permutation");
        used[p] = 1;
        n->p[d] = p;
        dims[d] = x->dims[p];
    }
    return nn_set_output(m, n, 0, x->dtype, x->rank, dims);
}

static int transpose_exec(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *x = nn_in(m, n, 0);
    int64_t st[NN_MAX_RANK], src_st[NN_MAX_RANK];
    strides_of(x, st);
    for (int d = 0; d < x->rank; d++)
        src_st[d] = st[n->p[d]];
    strided_copy(nn_out(m, n, 0), x->data, 0, src_st);
    return 0;
}

/* ---- Reshape family: the data is unchanged, only the shape differs. The planner places the
 * output on its input's memory (nn_op.view), so the copy below only runs in the dry run. ---- */

static int copy_exec(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *x = nn_in(m, n, 0);
    struct nn_tensor *y = nn_out(m, n, 0);
    if (y->data != x->data)
        memcpy(y->data, x->data, (size_t)x->numel * nn_dtype_size(x->dtype));
    return 0;
}

static int reshape_infer(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *x = nn_in(m, n, 0), *s = nn_in(m, n, 1);
    int rc = nn_need_input(m, n, 1);
    if (rc != 0 || !x)
        return rc ? rc : nn_node_fail(m, n, AE_EINVAL, "needs data");
    if (s->rank != 1 || s->numel > NN_MAX_RANK || s->dtype != NN_INT64)
        return nn_node_fail(m, n, AE_EINVAL, "shape must be a 1-D int64 tensor of rank <= %d",
                            NN_MAX_RANK);
    int allowzero = nn_attr_int(n, "allowzero", 0) != 0;
    int64_t dims[NN_MAX_RANK], known = 1;
    int infer_at = -1;
    for (int64_t i = 0; i < s->numel; i++) {
        int64_t v = ((const int64_t *)s->data)[i];
        if (v == 0 && !allowzero) {
            if (i >= x->rank)
                return nn_node_fail(m, n, AE_ESHAPE, "0 copies a dimension the input lacks");
            v = x->dims[i];
        }
        if (v == -1) {
            if (infer_at >= 0)
                return nn_node_fail(m, n, AE_ESHAPE, "more than one -1 in the shape");
            infer_at = (int)i;
            v = 1;
        } else if (v < 0) {
            return nn_node_fail(m, n, AE_ESHAPE, "negative dimension %lld", (long long)v);
        }
        dims[i] = v;
        if (v != 0 && known > NN_MAX_TENSOR_BYTES / v)
            return nn_node_fail(m, n, AE_ERANGE, "shape too large");
        known *= v;
    }
    if (infer_at >= 0) {
        if (known == 0 || x->numel % known != 0)
            return nn_node_fail(m, n, AE_ESHAPE, "cannot infer -1 for %lld elements",
                                (long long)x->numel);
        dims[infer_at] = x->numel / known;
        known = x->numel;
    }
    if (known != x->numel)
        return nn_node_fail(m, n, AE_ESHAPE, "shape has %lld elements, input has %lld",
                            (long long)known, (long long)x->numel);
    return nn_set_output(m, n, 0, x->dtype, (int)s->numel, dims);
}

static int flatten_infer(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *x = nn_in(m, n, 0);
    if (!x)
        return nn_node_fail(m, n, AE_EINVAL, "needs an input");
    int64_t axis = nn_attr_int(n, "axis", 1);
    if (axis < 0)
        axis += x->rank;
    if (axis < 0 || axis > x->rank)
        return nn_node_fail(m, n, AE_EINVAL, "axis out of range");
    int64_t dims[2] = {1, 1};
    for (int d = 0; d < x->rank; d++)
        dims[d < axis ? 0 : 1] *= x->dims[d];
    return nn_set_output(m, n, 0, x->dtype, 2, dims);
}

/* Axes of Squeeze/Unsqueeze: input 1 from opset 13, attribute before. Fills mark[] against rank. */
static int read_axes(struct nn_model *m, struct nn_node *n, int rank, int *mark, int *count)
{
    *count = 0;
    if (n->opset >= 13) {
        const struct nn_tensor *a = nn_in(m, n, 1);
        if (!a)
            return 0;
        int rc = nn_need_input(m, n, 1);
        if (rc != 0)
            return rc;
        for (int64_t i = 0; i < a->numel; i++) {
            int ax = nn_axis(nn_tensor_int(a, i), rank);
            if (ax < 0 || mark[ax])
                return nn_node_fail(m, n, AE_EINVAL, "axis out of range or repeated");
            mark[ax] = 1;
            ++*count;
        }
        return 0;
    }
    const struct nn_attr *a = nn_attr_get(n, "axes");
    for (int i = 0; a && i < a->n; i++) {
        int ax = nn_axis(a->ints[i], rank);
        if (ax < 0 || mark[ax])
            return nn_node_fail(m, n, AE_EINVAL, "axis out of range or repeated");
        mark[ax] = 1;
        ++*count;
    }
    return 0;
}

static int squeeze_infer(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *x = nn_in(m, n, 0);
    if (!x)
        return nn_node_fail(m, n, AE_EINVAL, "needs an input");
    int mark[NN_MAX_RANK] = {0}, count;
    int rc = read_axes(m, n, x->rank, mark, &count);
    if (rc != 0)
        return rc;
    int64_t dims[NN_MAX_RANK];
    int r = 0;
    for (int d = 0; d < x->rank; d++) {
        if (mark[d] && x->dims[d] != 1)
            return nn_node_fail(m, n, AE_ESHAPE, "axis %d has size %lld, not 1", d,
                                (long long)x->dims[d]);
        if (!(mark[d] || (count == 0 && x->dims[d] == 1)))
            dims[r++] = x->dims[d];
    }
    return nn_set_output(m, n, 0, x->dtype, r, dims);
}

static int unsqueeze_infer(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *x = nn_in(m, n, 0);
    if (!x)
        return nn_node_fail(m, n, AE_EINVAL, "needs an input");
    int mark[NN_MAX_RANK] = {0}, count = 0;
    /* Axes refer to the output's rank, which is the input's plus their number. */
    int n_axes = 0;
    if (n->opset >= 13) {
        const struct nn_tensor *a = nn_in(m, n, 1);
        n_axes = a ? (int)a->numel : 0;
    } else {
        const struct nn_attr *a = nn_attr_get(n, "axes");
        n_axes = a ? a->n : 0;
    }
    int r = x->rank + n_axes;
    if (n_axes == 0 || r > NN_MAX_RANK)
        return nn_node_fail(m, n, AE_EINVAL, "needs 1..%d axes", NN_MAX_RANK - x->rank);
    int rc = read_axes(m, n, r, mark, &count);
    if (rc != 0)
        return rc;
    int64_t dims[NN_MAX_RANK];
    for (int d = 0, k = 0; d < r; d++)
        dims[d] = mark[d] ? 1 : x->dims[k++];
    return nn_set_output(m, n, 0, x->dtype, r, dims);
}

/* ---- Concat ---- */

static int concat_infer(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *x = nn_in(m, n, 0);
    if (!x)
        return nn_node_fail(m, n, AE_EINVAL, "needs inputs");
    int axis = nn_axis(nn_attr_int(n, "axis", 0), x->rank);
    if (axis < 0)
        return nn_node_fail(m, n, AE_EINVAL, "axis out of range for rank %d", x->rank);
    int64_t dims[NN_MAX_RANK];
    memcpy(dims, x->dims, sizeof(int64_t) * (size_t)x->rank);
    dims[axis] = 0;
    for (int i = 0; i < n->n_in; i++) {
        const struct nn_tensor *t = nn_in(m, n, i);
        if (!t || t->rank != x->rank || t->dtype != x->dtype)
            return nn_node_fail(m, n, AE_ESHAPE, "input %d differs in rank or type", i);
        for (int d = 0; d < x->rank; d++)
            if (d != axis && t->dims[d] != x->dims[d])
                return nn_node_fail(m, n, AE_ESHAPE, "input %d differs in dimension %d", i, d);
        dims[axis] += t->dims[axis];
    }
    n->p[0] = axis;
    return nn_set_output(m, n, 0, x->dtype, x->rank, dims);
}

static int concat_exec(struct nn_model *m, struct nn_node *n)
{
    struct nn_tensor *y = nn_out(m, n, 0);
    int axis = (int)n->p[0];
    size_t es = nn_dtype_size(y->dtype);
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < axis; d++)
        outer *= y->dims[d];
    for (int d = axis + 1; d < y->rank; d++)
        inner *= y->dims[d];
    size_t out_row = (size_t)(y->dims[axis] * inner) * es, col = 0;
    for (int i = 0; i < n->n_in; i++) {
        const struct nn_tensor *t = nn_in(m, n, i);
        size_t chunk = (size_t)(t->dims[axis] * inner) * es;
        for (int64_t o = 0; o < outer && chunk; o++)
            memcpy((char *)y->data + (size_t)o * out_row + col,
                   (const char *)t->data + (size_t)o * chunk, chunk);
        col += chunk;
    }
    return 0;
}

/* ---- Slice: p[0..7] start per axis, p[8..15] step per axis ---- */

static int slice_infer(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *x = nn_in(m, n, 0);
    if (!x)
        return nn_node_fail(m, n, AE_EINVAL, "needs data");
    int64_t starts[NN_MAX_RANK], ends[NN_MAX_RANK], axes[NN_MAX_RANK], steps[NN_MAX_RANK];
    int64_t count;
    if (n->opset >= 10) {
        for (int i = 1; i <= 2; i++) {
            int rc = nn_need_input(m, n, i);
            if (rc != 0)
                return rc;
        }
        const struct nn_tensor *ts = nn_in(m, n, 1), *te = nn_in(m, n, 2);
        const struct nn_tensor *ta = nn_in(m, n, 3), *tp = nn_in(m, n, 4);
        count = ts->numel;
        if (count > x->rank || te->numel != count || (ta && ta->numel != count) ||
            (tp && tp->numel != count) || (ta && !ta->data) || (tp && !tp->data))
            return nn_node_fail(m, n, AE_EINVAL, "starts, ends, axes and steps disagree");
        for (int64_t i = 0; i < count; i++) {
            starts[i] = nn_tensor_int(ts, i);
            ends[i] = nn_tensor_int(te, i);
            axes[i] = ta ? nn_tensor_int(ta, i) : i;
            steps[i] = tp ? nn_tensor_int(tp, i) : 1;
        }
    } else {
        const struct nn_attr *as = nn_attr_get(n, "starts"), *ae = nn_attr_get(n, "ends"),
                             *aa = nn_attr_get(n, "axes");
        if (!as || !ae || as->n != ae->n || as->n > x->rank || (aa && aa->n != as->n))
            return nn_node_fail(m, n, AE_EINVAL, "starts, ends and axes disagree");
        count = as->n;
        for (int64_t i = 0; i < count; i++) {
            starts[i] = as->ints[i];
            ends[i] = ae->ints[i];
            axes[i] = aa ? aa->ints[i] : i;
            steps[i] = 1;
        }
    }
    int64_t dims[NN_MAX_RANK];
    int seen[NN_MAX_RANK] = {0};
    for (int d = 0; d < x->rank; d++) {
        n->p[d] = 0;
        n->p[8 + d] = 1;
        dims[d] = x->dims[d];
    }
    for (int64_t i = 0; i < count; i++) {
        int ax = nn_axis(axes[i], x->rank);
        if (ax < 0 || seen[ax] || steps[i] == 0)
            return nn_node_fail(m, n, AE_EINVAL, "bad axis or zero step");
        seen[ax] = 1;
        int64_t dim = x->dims[ax], s = starts[i], e = ends[i], step = steps[i];
        if (s < 0)
            s = s < -dim ? 0 : s + dim;
        if (e < 0)
            e = e < -dim ? -1 : e + dim;
        if (step > 0) {
            s = s > dim ? dim : s;
            e = e > dim ? dim : (e < 0 ? 0 : e);
        } else {
            s = s > dim - 1 ? dim - 1 : s;
            e = e > dim - 1 ? dim - 1 : e;
        }
        int64_t len = step > 0 ? (e - s + step - 1) / step : (s - e + (-step) - 1) / (-step);
        dims[ax] = len > 0 ? len : 0;
        n->p[ax] = s;
        n->p[8 + ax] = step;
    }
    return nn_set_output(m, n, 0, x->dtype, x->rank, dims);
}

static int slice_exec(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *x = nn_in(m, n, 0);
    struct nn_tensor *y = nn_out(m, n, 0);
    int64_t st[NN_MAX_RANK], src_st[NN_MAX_RANK], base = 0;
    strides_of(x, st);
    for (int d = 0; d < x->rank; d++) {
        if (y->numel)
            base += n->p[d] * st[d];
        src_st[d] = n->p[8 + d] * st[d];
    }
    strided_copy(y, x->data, base, src_st);
    return 0;
}

/* ---- Gather(data, indices) along axis ---- */

static int gather_infer(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *x = nn_in(m, n, 0), *idx = nn_in(m, n, 1);
    if (!x || !idx)
        return nn_node_fail(m, n, AE_EINVAL, "needs data and indices");
    if (idx->dtype != NN_INT64 && idx->dtype != NN_INT32)
        return nn_node_fail(m, n, AE_EINVAL, "indices must be int64 or int32");
    int axis = nn_axis(nn_attr_int(n, "axis", 0), x->rank);
    if (axis < 0 || x->rank + idx->rank - 1 > NN_MAX_RANK)
        return nn_node_fail(m, n, AE_EINVAL, "axis out of range or result rank too large");
    int64_t dims[NN_MAX_RANK];
    int r = 0;
    for (int d = 0; d < axis; d++)
        dims[r++] = x->dims[d];
    for (int d = 0; d < idx->rank; d++)
        dims[r++] = idx->dims[d];
    for (int d = axis + 1; d < x->rank; d++)
        dims[r++] = x->dims[d];
    n->p[0] = axis;
    return nn_set_output(m, n, 0, x->dtype, r, dims);
}

static int gather_exec(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *x = nn_in(m, n, 0), *idx = nn_in(m, n, 1);
    struct nn_tensor *y = nn_out(m, n, 0);
    int axis = (int)n->p[0];
    size_t es = nn_dtype_size(x->dtype);
    int64_t outer = 1, inner = 1, dim = x->dims[axis];
    for (int d = 0; d < axis; d++)
        outer *= x->dims[d];
    for (int d = axis + 1; d < x->rank; d++)
        inner *= x->dims[d];
    size_t block = (size_t)inner * es;
    char *o = y->data;
    for (int64_t i = 0; i < outer; i++) {
        for (int64_t j = 0; j < idx->numel; j++) {
            int64_t k = nn_tensor_int(idx, j);
            if (k < 0)
                k += dim;
            if (k < 0 || k >= dim)
                return nn_node_fail(m, n, AE_EINFER, "index %lld out of range [0, %lld)",
                                    (long long)nn_tensor_int(idx, j), (long long)dim);
            memcpy(o, (const char *)x->data + (size_t)(i * dim + k) * block, block);
            o += block;
        }
    }
    return 0;
}

/* ---- Shape (start/end from opset 15) ---- */

static int shape_infer(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *x = nn_in(m, n, 0);
    if (!x)
        return nn_node_fail(m, n, AE_EINVAL, "needs an input");
    int64_t start = nn_attr_int(n, "start", 0), end = nn_attr_int(n, "end", x->rank);
    start = start < 0 ? start + x->rank : start;
    end = end < 0 ? end + x->rank : end;
    start = start < 0 ? 0 : start > x->rank ? x->rank : start;
    end = end < 0 ? 0 : end > x->rank ? x->rank : end;
    n->p[0] = start;
    int64_t len = end > start ? end - start : 0;
    return nn_set_output(m, n, 0, NN_INT64, 1, &len);
}

static int shape_exec(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *x = nn_in(m, n, 0);
    struct nn_tensor *y = nn_out(m, n, 0);
    for (int64_t i = 0; i < y->numel; i++)
        ((int64_t *)y->data)[i] = x->dims[n->p[0] + i];
    return 0;
}

/* ---- Expand(x, shape): bidirectional broadcast ---- */

static void expand_row(void *o, const void *const *in, const int *s, int64_t n, const void *ctx)
{
    size_t es = *(const size_t *)ctx;
    for (int64_t k = 0; k < n; k++)
        memcpy((char *)o + (size_t)k * es, (const char *)in[0] + (size_t)(k * s[0]) * es, es);
}

static int expand_infer(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *x = nn_in(m, n, 0), *s = nn_in(m, n, 1);
    int rc = nn_need_input(m, n, 1);
    if (rc != 0 || !x)
        return rc ? rc : nn_node_fail(m, n, AE_EINVAL, "needs data");
    if (s->dtype != NN_INT64 || s->rank != 1 || s->numel > NN_MAX_RANK)
        return nn_node_fail(m, n, AE_EINVAL, "shape must be 1-D int64");
    int r;
    int64_t dims[NN_MAX_RANK];
    if (nn_broadcast_shape(x->rank, x->dims, (int)s->numel, s->data, &r, dims) != 0)
        return nn_node_fail(m, n, AE_ESHAPE, "shape does not broadcast with the input");
    return nn_set_output(m, n, 0, x->dtype, r, dims);
}

static int expand_exec(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *in[1] = {nn_in(m, n, 0)};
    size_t es = nn_dtype_size(in[0]->dtype);
    nn_broadcast_run(nn_out(m, n, 0), 1, in, expand_row, &es);
    return 0;
}

/* ---- ConstantOfShape(shape), value from the attribute (default float 0) ---- */

static int const_of_shape_infer(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *s = nn_in(m, n, 0);
    int rc = nn_need_input(m, n, 0);
    if (rc != 0)
        return rc;
    if (s->dtype != NN_INT64 || s->rank != 1 || s->numel > NN_MAX_RANK)
        return nn_node_fail(m, n, AE_EINVAL, "shape must be 1-D int64");
    const struct nn_attr *v = nn_attr_get(n, "value");
    int dtype = NN_FLOAT;
    if (v && v->tensor >= 0) {
        const struct nn_tensor *vt = &m->t[v->tensor];
        if (vt->numel != 1)
            return nn_node_fail(m, n, AE_EINVAL, "value must hold one element");
        dtype = vt->dtype;
    }
    return nn_set_output(m, n, 0, dtype, (int)s->numel, s->data);
}

static int const_of_shape_exec(struct nn_model *m, struct nn_node *n)
{
    struct nn_tensor *y = nn_out(m, n, 0);
    const struct nn_attr *v = nn_attr_get(n, "value");
    size_t es = nn_dtype_size(y->dtype);
    if (!v || v->tensor < 0) {
        memset(y->data, 0, (size_t)y->numel * es);
        return 0;
    }
    for (int64_t i = 0; i < y->numel; i++)
        memcpy((char *)y->data + (size_t)i * es, m->t[v->tensor].data, es);
    return 0;
}

/* ---- Range(start, limit, delta) ---- */

static int range_infer(struct nn_model *m, struct nn_node *n)
{
    for (int i = 0; i < 3; i++) {
        int rc = nn_need_input(m, n, i);
        if (rc != 0)
            return rc;
    }
    const struct nn_tensor *s = nn_in(m, n, 0), *l = nn_in(m, n, 1), *d = nn_in(m, n, 2);
    if (s->numel != 1 || l->numel != 1 || d->numel != 1 || s->dtype != l->dtype ||
        s->dtype != d->dtype)
        return nn_node_fail(m, n, AE_EINVAL, "start, limit and delta must be scalars of one type");
    double start = nn_tensor_double(s, 0), limit = nn_tensor_double(l, 0),
           delta = nn_tensor_double(d, 0);
    if (delta == 0)
        return nn_node_fail(m, n, AE_EINVAL, "delta is 0");
    double count = ceil((limit - start) / delta);
    if (!(count < 1e9))
        return nn_node_fail(m, n, AE_ERANGE, "range too long");
    int64_t len = count > 0 ? (int64_t)count : 0;
    return nn_set_output(m, n, 0, s->dtype, 1, &len);
}

static int range_exec(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *s = nn_in(m, n, 0), *d = nn_in(m, n, 2);
    struct nn_tensor *y = nn_out(m, n, 0);
    for (int64_t i = 0; i < y->numel; i++) {
        if (y->dtype == NN_FLOAT)
            ((float *)y->data)[i] =
                ((const float *)s->data)[0] + (float)i * ((const float *)d->data)[0];
        else if (y->dtype == NN_INT64)
            ((int64_t *)y->data)[i] = (int64_t)((uint64_t)nn_tensor_int(s, 0) +
                                                (uint64_t)i * (uint64_t)nn_tensor_int(d, 0));
        else
            ((int32_t *)y->data)[i] = (int32_t)(nn_tensor_int(s, 0) + i * nn_tensor_int(d, 0));
    }
    return 0;
}

/* ---- Split(input[, split]) into the node's outputs: p[0] axis, p[1 + i] size of output i ---- */

#define SPLIT_MAX_OUT (NN_MAX_PARAMS - 1)

static int split_infer(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *x = nn_in(m, n, 0), *sizes = nn_in(m, n, 1);
    if (!x)
        return nn_node_fail(m, n, AE_EINVAL, "needs an input");
    if (n->n_out > SPLIT_MAX_OUT)
        return nn_node_fail(m, n, AE_EUNSUPPORTED, "more than %d outputs", SPLIT_MAX_OUT);
    int axis = nn_axis(nn_attr_int(n, "axis", 0), x->rank);
    if (axis < 0)
        return nn_node_fail(m, n, AE_EINVAL, "axis out of range for rank %d", x->rank);
    const struct nn_attr *attr = n->opset < 13 ? nn_attr_get(n, "split") : NULL;
    int64_t dim = x->dims[axis], total = 0;
    for (int i = 0; i < n->n_out; i++) {
        int64_t size;
        if (sizes) {
            if (!sizes->data || sizes->numel != n->n_out)
                return nn_node_fail(m, n, AE_EINVAL, "split must give one size per output");
            size = nn_tensor_int(sizes, i);
        } else if (attr) {
            if (attr->n != n->n_out)
                return nn_node_fail(m, n, AE_EINVAL, "split must give one size per output");
            size = attr->ints[i];
        } else {
            /* Equal parts; the last one takes what is left (smaller when dim does not divide). */
            int64_t part = (dim + n->n_out - 1) / n->n_out;
            size = i + 1 < n->n_out ? part : dim - part * (n->n_out - 1);
        }
        if (size < 0)
            return nn_node_fail(m, n, AE_EINVAL, "negative split size");
        n->p[1 + i] = size;
        total += size;
    }
    if (total != dim)
        return nn_node_fail(m, n, AE_ESHAPE, "split sizes add up to %lld, the axis has %lld",
                            (long long)total, (long long)dim);
    n->p[0] = axis;
    int64_t dims[NN_MAX_RANK];
    memcpy(dims, x->dims, sizeof(int64_t) * (size_t)x->rank);
    for (int i = 0; i < n->n_out; i++) {
        dims[axis] = n->p[1 + i];
        int rc = nn_set_output(m, n, i, x->dtype, x->rank, dims);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int split_exec(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *x = nn_in(m, n, 0);
    int axis = (int)n->p[0];
    size_t es = nn_dtype_size(x->dtype);
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < axis; d++)
        outer *= x->dims[d];
    for (int d = axis + 1; d < x->rank; d++)
        inner *= x->dims[d];
    size_t in_row = (size_t)(x->dims[axis] * inner) * es, col = 0;
    for (int i = 0; i < n->n_out; i++) {
        size_t chunk = (size_t)(n->p[1 + i] * inner) * es;
        struct nn_tensor *y = nn_out(m, n, i);
        for (int64_t o = 0; y && o < outer && chunk; o++)
            memcpy((char *)y->data + (size_t)o * chunk,
                   (const char *)x->data + (size_t)o * in_row + col, chunk);
        col += chunk;
    }
    return 0;
}

/* ---- Tile(input, repeats) ---- */

static int tile_infer(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *x = nn_in(m, n, 0), *r = nn_in(m, n, 1);
    int rc = nn_need_input(m, n, 1);
    if (rc != 0 || !x)
        return rc ? rc : nn_node_fail(m, n, AE_EINVAL, "needs an input");
    if (r->numel != x->rank)
        return nn_node_fail(m, n, AE_EINVAL, "repeats must have one entry per dimension");
    int64_t dims[NN_MAX_RANK];
    for (int d = 0; d < x->rank; d++) {
        int64_t k = nn_tensor_int(r, d);
        if (k < 0 || (k > 0 && x->dims[d] > NN_MAX_TENSOR_BYTES / k))
            return nn_node_fail(m, n, AE_ERANGE, "repeat %lld out of range", (long long)k);
        dims[d] = x->dims[d] * k;
    }
    return nn_set_output(m, n, 0, x->dtype, x->rank, dims);
}

static int tile_exec(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *x = nn_in(m, n, 0);
    struct nn_tensor *y = nn_out(m, n, 0);
    size_t es = nn_dtype_size(x->dtype);
    int64_t st[NN_MAX_RANK], idx[NN_MAX_RANK] = {0};
    strides_of(x, st);
    for (int64_t i = 0; i < y->numel; i++) {
        int64_t off = 0;
        for (int d = 0; d < x->rank; d++)
            off += (idx[d] % x->dims[d]) * st[d];
        memcpy((char *)y->data + (size_t)i * es, (const char *)x->data + (size_t)off * es, es);
        for (int d = y->rank - 1; d >= 0; d--) {
            if (++idx[d] < y->dims[d])
                break;
            idx[d] = 0;
        }
    }
    return 0;
}

/* ---- Size ---- */

static int size_infer(struct nn_model *m, struct nn_node *n)
{
    if (!nn_in(m, n, 0))
        return nn_node_fail(m, n, AE_EINVAL, "needs an input");
    return nn_set_output(m, n, 0, NN_INT64, 0, NULL);
}

static int size_exec(struct nn_model *m, struct nn_node *n)
{
    *(int64_t *)nn_out(m, n, 0)->data = nn_in(m, n, 0)->numel;
    return 0;
}

/* ---- ArgMax / ArgMin: p[0] axis, p[1] 1 for ArgMin, p[2] select_last_index ---- */

static int arg_infer(struct nn_model *m, struct nn_node *n, int is_min)
{
    const struct nn_tensor *x = nn_in(m, n, 0);
    if (!x)
        return nn_node_fail(m, n, AE_EINVAL, "needs an input");
    if (x->dtype == NN_BOOL)
        return nn_node_fail(m, n, AE_EUNSUPPORTED, "bool is not supported");
    int axis = nn_axis(nn_attr_int(n, "axis", 0), x->rank);
    if (axis < 0 || x->dims[axis] == 0)
        return nn_node_fail(m, n, AE_EINVAL, "axis out of range or empty");
    int keep = nn_attr_int(n, "keepdims", 1) != 0;
    n->p[0] = axis;
    n->p[1] = is_min;
    n->p[2] = nn_attr_int(n, "select_last_index", 0) != 0;
    int64_t dims[NN_MAX_RANK];
    int r = 0;
    for (int d = 0; d < x->rank; d++)
        if (d != axis || keep)
            dims[r++] = d == axis ? 1 : x->dims[d];
    return nn_set_output(m, n, 0, NN_INT64, r, dims);
}

static int arg_exec(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *x = nn_in(m, n, 0);
    int64_t *y = nn_out(m, n, 0)->data;
    int axis = (int)n->p[0], is_min = (int)n->p[1], last = (int)n->p[2];
    int64_t outer = 1, inner = 1, len = x->dims[axis];
    for (int d = 0; d < axis; d++)
        outer *= x->dims[d];
    for (int d = axis + 1; d < x->rank; d++)
        inner *= x->dims[d];
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t i = 0; i < inner; i++) {
            int64_t base = o * len * inner + i, best = 0;
            double bv = nn_tensor_double(x, base);
            for (int64_t k = 1; k < len; k++) {
                double v = nn_tensor_double(x, base + k * inner);
                int better = is_min ? (v < bv || (last && v == bv)) : (v > bv || (last && v == bv));
                if (better) {
                    bv = v;
                    best = k;
                }
            }
            y[o * inner + i] = best;
        }
    }
    return 0;
}

static int argmax_infer(struct nn_model *m, struct nn_node *n)
{
    return arg_infer(m, n, 0);
}

static int argmin_infer(struct nn_model *m, struct nn_node *n)
{
    return arg_infer(m, n, 1);
}

const struct nn_op nn_ops_shape[] = {
    {"Split", 2, split_infer, split_exec, 0, 0},
    {"Tile", 6, tile_infer, tile_exec, 0, 0},
    {"Size", 1, size_infer, size_exec, 1, 0},
    {"ArgMax", 1, argmax_infer, arg_exec, 0, 0},
    {"ArgMin", 1, argmin_infer, arg_exec, 0, 0},
    {"Transpose", 1, transpose_infer, transpose_exec, 0, 0},
    {"Reshape", 5, reshape_infer, copy_exec, 0, 1},
    {"Flatten", 1, flatten_infer, copy_exec, 0, 1},
    {"Squeeze", 1, squeeze_infer, copy_exec, 0, 1},
    {"Unsqueeze", 1, unsqueeze_infer, copy_exec, 0, 1},
    {"Concat", 4, concat_infer, concat_exec, 0, 0},
    {"Slice", 1, slice_infer, slice_exec, 0, 0},
    {"Gather", 1, gather_infer, gather_exec, 0, 0},
    {"Shape", 1, shape_infer, shape_exec, 1, 0},
    {"Expand", 8, expand_infer, expand_exec, 0, 0},
    {"ConstantOfShape", 9, const_of_shape_infer, const_of_shape_exec, 0, 0},
    {"Range", 11, range_infer, range_exec, 0, 0},
    {NULL, 0, NULL, NULL, 0, 0},
};
