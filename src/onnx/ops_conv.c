/* Operators over sliding windows of [N, C, spatial...] tensors: Conv, AveragePool, MaxPool,
 * ConvTranspose, GlobalAveragePool, GlobalMaxPool, and the per-channel BatchNormalization
 * (inference form).
 *
 * One to three spatial dimensions. The window geometry (output size, stride, dilation, leading
 * pad per dimension) is worked out once by infer into the node's parameters, with fewer than three
 * spatial dimensions padded in front by dimensions of size 1, so every exec is one loop nest.
 * Nothing is allocated and no padded copy of the input is made: each kernel tap works out the range
 * of outputs whose input position falls inside the tensor, and the rest is padding. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gemm.h"
#include "nn_internal.h"
#include "vec.h"

#define SP 3 /* spatial dimensions of the normalised geometry */

/* Parameter slots of a windowed node (n->p). */
enum {
    G_N,     /* batch */
    G_C,     /* input channels */
    G_M,     /* output channels (Conv) or channels (pools) */
    G_GROUP, /* Conv groups */
    G_NSP,   /* spatial dimensions in the file (1 to 3) */
    G_EXTRA, /* operator-specific flag: count_include_pad, storage_order */
    G_DIM,   /* then per normalised dimension: in, out, kernel, stride, dilation, pads */
};
enum { D_IN, D_OUT, D_K, D_S, D_DIL, D_PAD, D_PAD_END, D_SLOTS };
#define G_AT(d, k) (G_DIM + (d)*D_SLOTS + (k))

/* Ints attribute `name` of length want into v, or dflt everywhere when absent. */
static int ints_attr(struct nn_model *m, struct nn_node *n, const char *name, int want,
                     int64_t dflt, int64_t *v)
{
    const struct nn_attr *a = nn_attr_get(n, name);
    if (a && a->n != want)
        return nn_node_fail(m, n, AE_EINVAL, "%s has %d entries, expected %d", name, a->n, want);
    for (int i = 0; i < want; i++)
        v[i] = a ? a->ints[i] : dflt;
    return 0;
}

/* A dimension of size 1 in front of a tensor with fewer than SP spatial dimensions. */
static void unit_dim(int64_t *g)
{
    g[D_IN] = g[D_OUT] = g[D_K] = g[D_S] = g[D_DIL] = 1;
    g[D_PAD] = g[D_PAD_END] = 0;
}

/* Fills the geometry of a window of size kernel[nsp] over x's spatial dimensions from the node's
 * auto_pad, pads, strides, dilations and ceil_mode attributes. */
static int window_geometry(struct nn_model *m, struct nn_node *n, const struct nn_tensor *x,
                           int nsp, const int64_t *kernel, int ceil_allowed)
{
    int64_t pads[2 * SP], strides[SP], dil[SP];
    int rc = ints_attr(m, n, "strides", nsp, 1, strides);
    if (rc == 0)
        rc = ints_attr(m, n, "dilations", nsp, 1, dil);
    if (rc == 0)
        rc = ints_attr(m, n, "pads", 2 * nsp, 0, pads);
    if (rc != 0)
        return rc;
    const struct nn_attr *ap = nn_attr_get(n, "auto_pad");
    const char *auto_pad = ap && ap->s ? ap->s : "NOTSET";
    int same_upper = strcmp(auto_pad, "SAME_UPPER") == 0;
    int same_lower = strcmp(auto_pad, "SAME_LOWER") == 0;
    int valid = strcmp(auto_pad, "VALID") == 0;
    if (!same_upper && !same_lower && !valid && strcmp(auto_pad, "NOTSET") != 0)
        return nn_node_fail(m, n, AE_EINVAL,
                            "auto_pad '%s' is not one of NOTSET, SAME_UPPER, "
                            "SAME_LOWER, VALID",
                            auto_pad);
    int ceil_mode = (int)nn_attr_int(n, "ceil_mode", 0) != 0;
    if (ceil_mode && !ceil_allowed)
        return nn_node_fail(m, n, AE_EINVAL, "ceil_mode is not an attribute of this operator");
    int off = SP - nsp;
    for (int d = 0; d < SP; d++) {
        int64_t *g = &n->p[G_AT(d, 0)];
        if (d < off) {
            unit_dim(g);
            continue;
        }
        int i = d - off;
        int64_t in = x->dims[2 + i], k = kernel[i], s = strides[i], dl = dil[i];
        const int64_t lim = NN_MAX_TENSOR_BYTES; /* keeps every product below 2^63 */
        if (k < 1 || s < 1 || dl < 1 || k > lim || s > lim || dl > lim)
            return nn_node_fail(m, n, AE_EINVAL,
                                "kernel %lld, stride %lld and dilation %lld must be in [1, %lld]",
                                (long long)k, (long long)s, (long long)dl, (long long)lim);
        int64_t span = (k - 1) * dl + 1, pb = pads[i], pe = pads[i + nsp], out;
        if (pb < 0 || pe < 0 || pb > lim || pe > lim)
            return nn_node_fail(m, n, AE_EINVAL, "pads %lld, %lld must be in [0, %lld]",
                                (long long)pb, (long long)pe, (long long)lim);
        if (same_upper || same_lower) {
            out = (in + s - 1) / s;
            int64_t total = (out - 1) * s + span - in;
            total = total > 0 ? total : 0;
            pb = same_upper ? total / 2 : total - total / 2;
            pe = total - pb;
        } else {
            if (valid)
                pb = pe = 0;
            int64_t room = in + pb + pe - span;
            if (room < 0)
                return nn_node_fail(m, n, AE_ESHAPE,
                                    "the window (%lld) is larger than the padded input (%lld)",
                                    (long long)span, (long long)(in + pb + pe));
            out = ceil_mode ? (room + s - 1) / s + 1 : room / s + 1;
            /* The last window must start inside the input or the leading pad (as PyTorch). */
            if (ceil_mode && (out - 1) * s >= in + pb)
                out--;
        }
        g[D_IN] = in, g[D_OUT] = out, g[D_K] = k, g[D_S] = s, g[D_DIL] = dl, g[D_PAD] = pb;
        g[D_PAD_END] = pe;
    }
    /* Bounded work: a tiny file must not ask for hours of window loops. */
    double work = (double)x->dims[0] * (double)x->dims[1];
    for (int d = 0; d < SP; d++)
        work *= (double)n->p[G_AT(d, D_OUT)] * (double)n->p[G_AT(d, D_K)];
    if (work > 1e12)
        return nn_node_fail(m, n, AE_ERANGE, "the windows would take %.3g multiply-adds", work);
    return 0;
}

/* Output range [lo, hi) of one dimension for which input position o * s + t falls in [0, in). */
static void valid_range(int64_t t, int64_t s, int64_t in, int64_t out, int64_t *lo, int64_t *hi)
{
    int64_t a = t >= 0 ? 0 : (-t + s - 1) / s;
    int64_t b = in - 1 - t < 0 ? 0 : (in - 1 - t) / s + 1;
    *lo = a < out ? a : out;
    *hi = b < out ? b : out;
    if (*hi < *lo)
        *hi = *lo;
}

static int out_dims_nchw(const struct nn_node *n, int64_t ch, int64_t *dims)
{
    int nsp = (int)n->p[G_NSP];
    dims[0] = n->p[G_N];
    dims[1] = ch;
    for (int i = 0; i < nsp; i++)
        dims[2 + i] = n->p[G_AT(SP - nsp + i, D_OUT)];
    return 2 + nsp;
}

static int check_nchw(struct nn_model *m, struct nn_node *n, const struct nn_tensor *x)
{
    if (!x)
        return nn_node_fail(m, n, AE_EINVAL, "needs an input");
    if (x->dtype != NN_FLOAT)
        return nn_node_fail(m, n, AE_EUNSUPPORTED, "type %s is not supported (float only)",
                            nn_dtype_name(x->dtype));
    if (x->rank < 3 || x->rank > 2 + SP)
        return nn_node_fail(m, n, AE_EUNSUPPORTED,
                            "input of rank %d: 1 to %d spatial dimensions are supported", x->rank,
                            SP);
    n->p[G_N] = x->dims[0];
    n->p[G_C] = x->dims[1];
    n->p[G_NSP] = x->rank - 2;
    return 0;
}

/* ---- Conv(X, W, B) ---- */

static int pack_taps(struct nn_model *m, struct nn_node *n, const struct nn_tensor *x,
                     const struct nn_tensor *w);

/* Checks X ([N, C, spatial...]) and W (float, X's rank) of a Conv or ConvTranspose and reads
 * the kernel from W (kernel_shape, when given, must agree). */
static int conv_operands(struct nn_model *m, struct nn_node *n, const struct nn_tensor *x,
                         const struct nn_tensor *w, int64_t *kernel)
{
    int rc = check_nchw(m, n, x);
    if (rc != 0)
        return rc;
    int nsp = x->rank - 2;
    if (!w || w->dtype != NN_FLOAT || w->rank != x->rank)
        return nn_node_fail(m, n, AE_ESHAPE, "W must be float of rank %d", x->rank);
    rc = ints_attr(m, n, "kernel_shape", nsp, 0, kernel);
    for (int i = 0; rc == 0 && i < nsp; i++) {
        if (nn_attr_get(n, "kernel_shape") && kernel[i] != w->dims[2 + i])
            return nn_node_fail(m, n, AE_ESHAPE, "kernel_shape does not match W");
        kernel[i] = w->dims[2 + i];
    }
    return rc;
}

static int check_bias(struct nn_model *m, struct nn_node *n, const struct nn_tensor *b, int64_t mo)
{
    if (b && (b->dtype != NN_FLOAT || b->numel != mo))
        return nn_node_fail(m, n, AE_ESHAPE, "B must be float with %lld elements", (long long)mo);
    return 0;
}

static int conv_infer(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *x = nn_in(m, n, 0), *w = nn_in(m, n, 1), *b = nn_in(m, n, 2);
    int64_t kernel[SP];
    int rc = conv_operands(m, n, x, w, kernel);
    if (rc != 0)
        return rc;
    int nsp = x->rank - 2;
    int64_t group = nn_attr_int(n, "group", 1);
    int64_t c = x->dims[1], mo = w->dims[0];
    if (group < 1 || c % group != 0 || mo % group != 0 || w->dims[1] * group != c)
        return nn_node_fail(m, n, AE_ESHAPE,
                            "%lld input channels, W [%lld, %lld, ...] and group %lld do not fit",
                            (long long)c, (long long)mo, (long long)w->dims[1], (long long)group);
    rc = check_bias(m, n, b, mo);
    if (rc != 0)
        return rc;
    rc = window_geometry(m, n, x, nsp, kernel, 0);
    if (rc != 0)
        return rc;
    n->p[G_M] = mo;
    n->p[G_GROUP] = group;
    rc = pack_taps(m, n, x, w);
    if (rc != 0)
        return rc;
    int64_t dims[2 + SP];
    int r = out_dims_nchw(n, mo, dims);
    return nn_set_output(m, n, 0, NN_FLOAT, r, dims);
}

/* 1-D, stride 1, constant W: the convolution is one matrix product per kernel tap,
 * Y[co, t] += W_k[co, ci] X[ci, t + k * dilation - pad], over the outputs whose input lies
 * inside the row. W is repacked once at planning as [tap][co][ci] (node-owned), so each W_k is a
 * contiguous M x C/group matrix for nn_sgemm. */
static int gemm_path(const struct nn_node *n)
{
    const int64_t *g0 = &n->p[G_AT(0, 0)], *g1 = &n->p[G_AT(1, 0)], *g2 = &n->p[G_AT(2, 0)];
    return g0[D_OUT] == 1 && g0[D_K] == 1 && g1[D_OUT] == 1 && g1[D_K] == 1 && g2[D_S] == 1;
}

static int pack_taps(struct nn_model *m, struct nn_node *n, const struct nn_tensor *x,
                     const struct nn_tensor *w)
{
    if (n->packed || w->kind != NN_T_CONST || x->kind == NN_T_CONST || !gemm_path(n))
        return 0;
    int64_t mo = w->dims[0], cg = w->dims[1], k = n->p[G_AT(2, D_K)];
    size_t bytes = (size_t)(mo * cg * k) * sizeof(float);
    n->packed = aligned_alloc(NN_ALIGN, (bytes + NN_ALIGN - 1) / NN_ALIGN * NN_ALIGN);
    if (!n->packed)
        return nn_node_fail(m, n, AE_ENOMEM, "out of memory packing '%s'", w->name);
    const float *wd = w->data;
    for (int64_t t = 0; t < k; t++)
        for (int64_t co = 0; co < mo; co++)
            for (int64_t ci = 0; ci < cg; ci++)
                n->packed[(t * mo + co) * cg + ci] = wd[(co * cg + ci) * k + t];
    m->weight_bytes += bytes;
    return 0;
}

static void conv1d_gemm(const struct nn_node *n, const float *x, const float *bias, float *y)
{
    const int64_t *g = &n->p[G_AT(2, 0)];
    int64_t batch = n->p[G_N], c = n->p[G_C], mo = n->p[G_M], group = n->p[G_GROUP];
    int64_t cg = c / group, mg = mo / group, tin = g[D_IN], tout = g[D_OUT];
    for (int64_t b = 0; b < batch; b++) {
        float *yb = y + b * mo * tout;
        for (int64_t co = 0; co < mo; co++)
            for (int64_t t = 0; t < tout; t++)
                yb[co * tout + t] = bias ? bias[co] : 0.0f;
        for (int64_t k = 0; k < g[D_K]; k++) {
            int64_t off = k * g[D_DIL] - g[D_PAD], lo, hi;
            valid_range(off, 1, tin, tout, &lo, &hi);
            if (hi <= lo)
                continue;
            for (int64_t gi = 0; gi < group; gi++)
                nn_sgemm(0, 0, (int)mg, (int)(hi - lo), (int)cg, 1.0f,
                         n->packed + (k * mo + gi * mg) * cg, (int)cg,
                         x + (b * c + gi * cg) * tin + lo + off, (int)tin, 1.0f,
                         yb + gi * mg * tout + lo, (int)tout);
        }
    }
}

/* out[o] += w * x[o * s + t] over the outputs of one row whose input falls inside the row. */
static void axpy_row(float *out, const float *x, float w, int64_t t, int64_t s, int64_t in,
                     int64_t nout)
{
    int64_t lo, hi;
    valid_range(t, s, in, nout, &lo, &hi);
    const float *xs = x + t;
    if (s == 1)
        for (int64_t o = lo; o < hi; o++)
            out[o] += w * xs[o];
    else
        for (int64_t o = lo; o < hi; o++)
            out[o] += w * xs[o * s];
}

static int conv_exec(struct nn_model *m, struct nn_node *n)
{
    const float *x = nn_in(m, n, 0)->data, *w = nn_in(m, n, 1)->data;
    const struct nn_tensor *bt = nn_in(m, n, 2);
    const float *bias = bt ? bt->data : NULL;
    float *y = nn_out(m, n, 0)->data;
    if (n->packed) {
        conv1d_gemm(n, x, bias, y);
        return 0;
    }
    const int64_t *g0 = &n->p[G_AT(0, 0)], *g1 = &n->p[G_AT(1, 0)], *g2 = &n->p[G_AT(2, 0)];
    int64_t batch = n->p[G_N], c = n->p[G_C], mo = n->p[G_M], group = n->p[G_GROUP];
    int64_t cg = c / group, mg = mo / group;
    int64_t in_plane = g0[D_IN] * g1[D_IN] * g2[D_IN];
    int64_t out_plane = g0[D_OUT] * g1[D_OUT] * g2[D_OUT];
    int64_t ktaps = g0[D_K] * g1[D_K] * g2[D_K];
    for (int64_t b = 0; b < batch; b++) {
        for (int64_t co = 0; co < mo; co++) {
            float *yp = y + (b * mo + co) * out_plane;
            float b0 = bias ? bias[co] : 0.0f;
            for (int64_t k = 0; k < out_plane; k++)
                yp[k] = b0;
            int64_t gi = co / mg;
            for (int64_t ci = 0; ci < cg; ci++) {
                const float *xp = x + (b * c + gi * cg + ci) * in_plane;
                const float *wp = w + (co * cg + ci) * ktaps;
                for (int64_t kd = 0; kd < g0[D_K]; kd++) {
                    int64_t td = kd * g0[D_DIL] - g0[D_PAD];
                    for (int64_t od = 0; od < g0[D_OUT]; od++) {
                        int64_t id = od * g0[D_S] + td;
                        if (id < 0 || id >= g0[D_IN])
                            continue;
                        for (int64_t kh = 0; kh < g1[D_K]; kh++) {
                            int64_t th = kh * g1[D_DIL] - g1[D_PAD];
                            for (int64_t oh = 0; oh < g1[D_OUT]; oh++) {
                                int64_t ih = oh * g1[D_S] + th;
                                if (ih < 0 || ih >= g1[D_IN])
                                    continue;
                                float *yr = yp + (od * g1[D_OUT] + oh) * g2[D_OUT];
                                const float *xr = xp + (id * g1[D_IN] + ih) * g2[D_IN];
                                const float *wr = wp + (kd * g1[D_K] + kh) * g2[D_K];
                                for (int64_t kw = 0; kw < g2[D_K]; kw++)
                                    axpy_row(yr, xr, wr[kw], kw * g2[D_DIL] - g2[D_PAD], g2[D_S],
                                             g2[D_IN], g2[D_OUT]);
                            }
                        }
                    }
                }
            }
        }
    }
    return 0;
}

/* ---- ConvTranspose(X, W, B): W is [C, M / group, kernel...] ---- */

/* Leading pad and output size of one dimension: from output_shape (with auto_pad or not), from
 * auto_pad SAME (output = input * stride), or from the pads. ONNX's rule splits the total
 * padding (rounding down) with the larger half at the end for SAME_UPPER, at the start
 * otherwise. */
static int transpose_dim(struct nn_model *m, struct nn_node *n, int64_t *g, int64_t full,
                         int64_t want, int same_upper, int64_t pb, int64_t pe)
{
    if (want >= 0) {
        /* A negative total (an output_shape beyond the full one) adds zeros at the end. */
        int64_t total = full - want, half = total >= 0 ? total / 2 : -((1 - total) / 2);
        if (want < 1)
            return nn_node_fail(m, n, AE_ESHAPE, "output_shape %lld is not positive",
                                (long long)want);
        g[D_PAD] = same_upper ? half : total - half;
        g[D_OUT] = want;
    } else {
        g[D_PAD] = pb;
        g[D_OUT] = full - pb - pe;
        if (g[D_OUT] < 1)
            return nn_node_fail(m, n, AE_ESHAPE, "pads %lld, %lld leave no output", (long long)pb,
                                (long long)pe);
    }
    return 0;
}

static int transpose_geometry(struct nn_model *m, struct nn_node *n, const struct nn_tensor *x,
                              int nsp, const int64_t *kernel)
{
    int64_t pads[2 * SP], strides[SP], dil[SP], outpad[SP], shape[SP];
    const struct nn_attr *os = nn_attr_get(n, "output_shape");
    int rc = ints_attr(m, n, "strides", nsp, 1, strides);
    rc = rc ? rc : ints_attr(m, n, "dilations", nsp, 1, dil);
    rc = rc ? rc : ints_attr(m, n, "pads", 2 * nsp, 0, pads);
    rc = rc ? rc : ints_attr(m, n, "output_padding", nsp, 0, outpad);
    if (rc == 0 && os && os->n != nsp && os->n != nsp + 2)
        rc = nn_node_fail(m, n, AE_EINVAL, "output_shape has %d entries", os->n);
    if (rc != 0)
        return rc;
    const struct nn_attr *ap = nn_attr_get(n, "auto_pad");
    const char *auto_pad = ap && ap->s ? ap->s : "NOTSET";
    int same = strncmp(auto_pad, "SAME_", 5) == 0, upper = strcmp(auto_pad, "SAME_UPPER") == 0;
    int valid = strcmp(auto_pad, "VALID") == 0;
    for (int i = 0; i < nsp; i++)
        shape[i] = os ? os->ints[os->n - nsp + i] : same ? x->dims[2 + i] * strides[i] : -1;
    const int64_t lim = NN_MAX_TENSOR_BYTES;
    for (int d = 0, i = 0; d < SP && rc == 0; d++) {
        int64_t *g = &n->p[G_AT(d, 0)];
        if (d < SP - nsp) {
            unit_dim(g);
            continue;
        }
        int64_t in = x->dims[2 + i], k = kernel[i], st = strides[i], dl = dil[i];
        if (k < 1 || st < 1 || dl < 1 || k > lim || st > lim || dl > lim || pads[i] < 0 ||
            pads[i + nsp] < 0 || pads[i] > lim || pads[i + nsp] > lim || outpad[i] < 0 ||
            outpad[i] >= (st > dl ? st : dl) || shape[i] > lim)
            return nn_node_fail(m, n, AE_EINVAL,
                                "kernel %lld, stride %lld, dilation %lld, pads "
                                "or output_padding out of range",
                                (long long)k, (long long)st, (long long)dl);
        g[D_IN] = in, g[D_K] = k, g[D_S] = st, g[D_DIL] = dl, g[D_PAD_END] = 0;
        int64_t full = st * (in - 1) + outpad[i] + (k - 1) * dl + 1;
        rc = transpose_dim(m, n, g, full, shape[i], upper, valid ? 0 : pads[i],
                           valid ? 0 : pads[i + nsp]);
        i++;
    }
    double work = (double)x->numel * (double)n->p[G_M] / (double)n->p[G_GROUP];
    for (int d = 0; d < SP && rc == 0; d++)
        work *= (double)n->p[G_AT(d, D_K)];
    if (rc == 0 && work > 1e12)
        return nn_node_fail(m, n, AE_ERANGE, "the windows would take %.3g multiply-adds", work);
    return rc;
}

static int conv_transpose_infer(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *x = nn_in(m, n, 0), *w = nn_in(m, n, 1), *b = nn_in(m, n, 2);
    int64_t kernel[SP];
    int rc = conv_operands(m, n, x, w, kernel);
    if (rc != 0)
        return rc;
    int nsp = x->rank - 2;
    int64_t group = nn_attr_int(n, "group", 1), c = x->dims[1];
    if (group < 1 || group > c || c % group != 0 || w->dims[0] != c)
        return nn_node_fail(m, n, AE_ESHAPE,
                            "%lld input channels, W [%lld, ...] and group %lld "
                            "do not fit",
                            (long long)c, (long long)w->dims[0], (long long)group);
    int64_t mo = w->dims[1] * group;
    rc = check_bias(m, n, b, mo);
    n->p[G_M] = mo;
    n->p[G_GROUP] = group;
    if (rc == 0)
        rc = transpose_geometry(m, n, x, nsp, kernel);
    if (rc != 0)
        return rc;
    int64_t dims[2 + SP];
    int r = out_dims_nchw(n, mo, dims);
    return nn_set_output(m, n, 0, NN_FLOAT, r, dims);
}

/* y[i * s + t] += w * x[i] for the inputs i < in whose output lies in [0, out). */
static void scatter_row(float *y, const float *x, float w, int64_t t, int64_t s, int64_t in,
                        int64_t out)
{
    int64_t lo = t >= 0 ? 0 : (-t + s - 1) / s;
    int64_t hi = out - 1 - t < 0 ? 0 : (out - 1 - t) / s + 1;
    hi = hi < in ? hi : in;
    for (int64_t i = lo; i < hi; i++)
        y[i * s + t] += w * x[i];
}

/* Adds one input channel's plane xp, through its kernel wp, to one output plane yp. */
static void transpose_plane(const struct nn_node *n, const float *xp, const float *wp, float *yp)
{
    const int64_t *g0 = &n->p[G_AT(0, 0)], *g1 = &n->p[G_AT(1, 0)], *g2 = &n->p[G_AT(2, 0)];
    for (int64_t kd = 0; kd < g0[D_K]; kd++)
        for (int64_t id = 0; id < g0[D_IN]; id++) {
            int64_t od = id * g0[D_S] + kd * g0[D_DIL] - g0[D_PAD];
            if (od < 0 || od >= g0[D_OUT])
                continue;
            for (int64_t kh = 0; kh < g1[D_K]; kh++)
                for (int64_t ih = 0; ih < g1[D_IN]; ih++) {
                    int64_t oh = ih * g1[D_S] + kh * g1[D_DIL] - g1[D_PAD];
                    if (oh < 0 || oh >= g1[D_OUT])
                        continue;
                    float *yr = yp + (od * g1[D_OUT] + oh) * g2[D_OUT];
                    const float *xr = xp + (id * g1[D_IN] + ih) * g2[D_IN];
                    const float *wr = wp + (kd * g1[D_K] + kh) * g2[D_K];
                    for (int64_t kw = 0; kw < g2[D_K]; kw++)
                        scatter_row(yr, xr, wr[kw], kw * g2[D_DIL] - g2[D_PAD], g2[D_S], g2[D_IN],
                                    g2[D_OUT]);
                }
        }
}

static int conv_transpose_exec(struct nn_model *m, struct nn_node *n)
{
    const float *x = nn_in(m, n, 0)->data, *w = nn_in(m, n, 1)->data;
    const struct nn_tensor *bt = nn_in(m, n, 2);
    float *y = nn_out(m, n, 0)->data;
    const int64_t *g0 = &n->p[G_AT(0, 0)], *g1 = &n->p[G_AT(1, 0)], *g2 = &n->p[G_AT(2, 0)];
    int64_t batch = n->p[G_N], c = n->p[G_C], mo = n->p[G_M], group = n->p[G_GROUP];
    int64_t cg = c / group, mg = mo / group;
    int64_t in_plane = g0[D_IN] * g1[D_IN] * g2[D_IN];
    int64_t out_plane = g0[D_OUT] * g1[D_OUT] * g2[D_OUT];
    int64_t ktaps = g0[D_K] * g1[D_K] * g2[D_K];
    for (int64_t b = 0; b < batch; b++)
        for (int64_t co = 0; co < mo; co++) {
            float *yp = y + (b * mo + co) * out_plane;
            float b0 = bt ? ((const float *)bt->data)[co] : 0.0f;
            for (int64_t k = 0; k < out_plane; k++)
                yp[k] = b0;
            int64_t gi = co / mg, ml = co % mg;
            for (int64_t ci = gi * cg; ci < (gi + 1) * cg; ci++)
                transpose_plane(n, x + (b * c + ci) * in_plane, w + (ci * mg + ml) * ktaps, yp);
        }
    return 0;
}

/* ---- AveragePool / MaxPool ---- */

static int pool_infer(struct nn_model *m, struct nn_node *n, int is_max)
{
    const struct nn_tensor *x = nn_in(m, n, 0);
    int rc = check_nchw(m, n, x);
    if (rc != 0)
        return rc;
    int nsp = x->rank - 2;
    if (!nn_attr_get(n, "kernel_shape"))
        return nn_node_fail(m, n, AE_EINVAL, "kernel_shape is required");
    int64_t kernel[SP];
    rc = ints_attr(m, n, "kernel_shape", nsp, 0, kernel);
    if (rc == 0)
        rc = window_geometry(m, n, x, nsp, kernel, 1);
    if (rc != 0)
        return rc;
    n->p[G_M] = x->dims[1];
    n->p[G_EXTRA] =
        is_max ? nn_attr_int(n, "storage_order", 0) : nn_attr_int(n, "count_include_pad", 0);
    int64_t dims[2 + SP];
    int r = out_dims_nchw(n, x->dims[1], dims);
    rc = nn_set_output(m, n, 0, NN_FLOAT, r, dims);
    if (rc == 0 && is_max)
        rc = nn_set_output(m, n, 1, NN_INT64, r, dims);
    return rc;
}

static int average_pool_infer(struct nn_model *m, struct nn_node *n)
{
    return pool_infer(m, n, 0);
}

static int max_pool_infer(struct nn_model *m, struct nn_node *n)
{
    return pool_infer(m, n, 1);
}

/* One pool window along one dimension: first input position and step; positions outside
 * [0, in) are padding, those beyond in + pad_end too (for the divisor of count_include_pad). */
struct win {
    int64_t start, step, k;
};

static struct win win_of(const int64_t *g, int64_t o)
{
    struct win w = {o * g[D_S] - g[D_PAD], g[D_DIL], g[D_K]};
    return w;
}

/* Taps of a window along one dimension that fall on [lo_bound, hi_bound) (the input, or the
 * input with its pads for count_include_pad) for output o. */
static int64_t taps_inside(const int64_t *g, int64_t o, int64_t lo_bound, int64_t hi_bound)
{
    int64_t start = o * g[D_S] - g[D_PAD], dl = g[D_DIL];
    int64_t first = start >= lo_bound ? 0 : (lo_bound - start + dl - 1) / dl;
    int64_t last = hi_bound - 1 - start < 0 ? -1 : (hi_bound - 1 - start) / dl;
    last = last < g[D_K] - 1 ? last : g[D_K] - 1;
    return last >= first ? last - first + 1 : 0;
}

/* Whether the innermost dimension's windows are contiguous and unpadded (stride 1, dilation 1,
 * no pads): every output then sums exactly k inputs, a stride-1 moving sum. */
static int unit_windows(const int64_t *g)
{
    return g[D_S] == 1 && g[D_DIL] == 1 && g[D_PAD] == 0 && g[D_PAD_END] == 0;
}

/* Adds (or maxes) the input row xr into the output row yr over the innermost dimension's taps. */
static void pool_row_taps(const int64_t *g, const float *xr, float *yr, int is_max)
{
    int64_t ow_n = g[D_OUT];
    for (int64_t c = 0; c < g[D_K]; c++) {
        int64_t t = c * g[D_DIL] - g[D_PAD], s = g[D_S], lo, hi;
        valid_range(t, s, g[D_IN], ow_n, &lo, &hi);
        const float *xs = xr + t;
        if (is_max)
            for (int64_t ow = lo; ow < hi; ow++)
                yr[ow] = xs[ow * s] > yr[ow] ? xs[ow * s] : yr[ow];
        else
            for (int64_t ow = lo; ow < hi; ow++)
                yr[ow] += xs[ow * s];
    }
}

/* Divides the output row yr of averages by each output's count (cnt_dh: the taps of the outer
 * dimensions); a row of unit windows has one divisor. */
static void pool_row_divide(const int64_t *g, int64_t cnt_dh, int include_pad, float *yr)
{
    int64_t ow_n = g[D_OUT];
    if (unit_windows(g)) {
        float div = (float)(cnt_dh * g[D_K]);
        for (int64_t ow = 0; ow < ow_n; ow++)
            yr[ow] = cnt_dh > 0 ? yr[ow] / div : 0.0f;
        return;
    }
    int64_t whi = include_pad ? g[D_IN] + g[D_PAD_END] : g[D_IN];
    for (int64_t ow = 0; ow < ow_n; ow++) {
        int64_t div = cnt_dh * taps_inside(g, ow, include_pad ? -g[D_PAD] : 0, whi);
        yr[ow] = div > 0 ? yr[ow] / (float)div : 0.0f;
    }
}

/* Averages of one output row (its sums in yr): divides each by its count of taps. */
static void pool_row_average(const int64_t *const *g, int64_t od, int64_t oh, int include_pad,
                             float *yr)
{
    int64_t cnt_dh = 1;
    const int64_t od_oh[2] = {od, oh};
    for (int d = 0; d < 2; d++) {
        int64_t hi = include_pad ? g[d][D_IN] + g[d][D_PAD_END] : g[d][D_IN];
        cnt_dh *= taps_inside(g[d], od_oh[d], include_pad ? -g[d][D_PAD] : 0, hi);
    }
    pool_row_divide(g[2], cnt_dh, include_pad, yr);
}

/* Pooling row by row: the output row is the accumulator; every kernel tap adds (or maxes) the
 * input row over the outputs whose input lies inside it, a loop the compiler vectorises (a
 * stride-1 unpadded average takes the moving-sum kernel of this CPU's level); the average's
 * divisor is the product of the per-dimension counts. No Indices. */
static void pool_rows(const struct nn_model *m, const struct nn_node *n, const float *x, float *y,
                      int is_max)
{
    const int64_t *g[SP] = {&n->p[G_AT(0, 0)], &n->p[G_AT(1, 0)], &n->p[G_AT(2, 0)]};
    int include_pad = !is_max && n->p[G_EXTRA];
    int64_t channels = n->p[G_N] * n->p[G_C];
    int64_t in_plane = g[0][D_IN] * g[1][D_IN] * g[2][D_IN], ow_n = g[2][D_OUT];
    int moving_sum = !is_max && unit_windows(g[2]) && g[0][D_K] == 1 && g[1][D_K] == 1;
    for (int64_t ch = 0; ch < channels; ch++) {
        const float *xp = x + ch * in_plane;
        for (int64_t od = 0; od < g[0][D_OUT]; od++)
            for (int64_t oh = 0; oh < g[1][D_OUT]; oh++) {
                float *yr = y + ((ch * g[0][D_OUT] + od) * g[1][D_OUT] + oh) * ow_n;
                for (int64_t ow = 0; ow < ow_n; ow++)
                    yr[ow] = is_max ? -INFINITY : 0.0f;
                for (int64_t a = 0; a < g[0][D_K]; a++) {
                    int64_t id = od * g[0][D_S] - g[0][D_PAD] + a * g[0][D_DIL];
                    if (id < 0 || id >= g[0][D_IN])
                        continue;
                    for (int64_t b = 0; b < g[1][D_K]; b++) {
                        int64_t ih = oh * g[1][D_S] - g[1][D_PAD] + b * g[1][D_DIL];
                        if (ih < 0 || ih >= g[1][D_IN])
                            continue;
                        const float *xr = xp + (id * g[1][D_IN] + ih) * g[2][D_IN];
                        if (moving_sum) /* the only row under the window: overwrites the zeros */
                            m->vec->window_sum(xr, yr, ow_n, g[2][D_K]);
                        else
                            pool_row_taps(g[2], xr, yr, is_max);
                    }
                }
                if (!is_max)
                    pool_row_average(g, od, oh, include_pad, yr);
            }
    }
}

static int pool_exec(struct nn_model *m, struct nn_node *n, int is_max)
{
    if (!is_max || !nn_out(m, n, 1)) {
        pool_rows(m, n, nn_in(m, n, 0)->data, nn_out(m, n, 0)->data, is_max);
        return 0;
    }
    const struct nn_tensor *xt = nn_in(m, n, 0);
    const float *x = xt->data;
    float *y = nn_out(m, n, 0)->data;
    struct nn_tensor *it = is_max ? nn_out(m, n, 1) : NULL;
    int64_t *ind = it ? it->data : NULL;
    const int64_t *g[SP] = {&n->p[G_AT(0, 0)], &n->p[G_AT(1, 0)], &n->p[G_AT(2, 0)]};
    /* Positions before in + pad_end count for count_include_pad (a ceil_mode window may reach
     * beyond the declared pads; that part is not counted, as in PyTorch). */
    int64_t padded_end[SP];
    for (int d = 0; d < SP; d++)
        padded_end[d] = g[d][D_IN] + g[d][D_PAD_END];
    int64_t channels = n->p[G_N] * n->p[G_C];
    int64_t in_plane = g[0][D_IN] * g[1][D_IN] * g[2][D_IN];
    int include_pad = !is_max && n->p[G_EXTRA];
    int col_major = is_max && n->p[G_EXTRA];
    float *yo = y;
    int64_t *io = ind;
    for (int64_t ch = 0; ch < channels; ch++) {
        const float *xp = x + ch * in_plane;
        for (int64_t od = 0; od < g[0][D_OUT]; od++) {
            struct win wd = win_of(g[0], od);
            for (int64_t oh = 0; oh < g[1][D_OUT]; oh++) {
                struct win wh = win_of(g[1], oh);
                for (int64_t ow = 0; ow < g[2][D_OUT]; ow++) {
                    struct win ww = win_of(g[2], ow);
                    float acc = is_max ? -INFINITY : 0.0f;
                    int64_t count = 0, padded = 0, best = -1;
                    for (int64_t a = 0; a < wd.k; a++) {
                        int64_t id = wd.start + a * wd.step;
                        int in_d = id >= 0 && id < g[0][D_IN];
                        int pad_d = id < padded_end[0];
                        for (int64_t b = 0; b < wh.k; b++) {
                            int64_t ih = wh.start + b * wh.step;
                            int in_h = ih >= 0 && ih < g[1][D_IN];
                            int pad_h = ih < padded_end[1];
                            for (int64_t c = 0; c < ww.k; c++) {
                                int64_t iw = ww.start + c * ww.step;
                                padded += pad_d && pad_h && iw < padded_end[2];
                                if (!in_d || !in_h || iw < 0 || iw >= g[2][D_IN])
                                    continue;
                                int64_t at = (id * g[1][D_IN] + ih) * g[2][D_IN] + iw;
                                float v = xp[at];
                                if (is_max) {
                                    if (v > acc || best < 0) {
                                        acc = v;
                                        best = col_major ? (iw * g[1][D_IN] + ih) * g[0][D_IN] + id
                                                         : at;
                                    }
                                } else {
                                    acc += v;
                                }
                                count++;
                            }
                        }
                    }
                    if (is_max) {
                        *yo++ = acc;
                        if (io)
                            *io++ = best < 0 ? -1 : ch * in_plane + best;
                    } else {
                        int64_t div = include_pad ? padded : count;
                        *yo++ = div > 0 ? acc / (float)div : 0.0f;
                    }
                }
            }
        }
    }
    return 0;
}

static int average_pool_exec(struct nn_model *m, struct nn_node *n)
{
    return pool_exec(m, n, 0);
}

static int max_pool_exec(struct nn_model *m, struct nn_node *n)
{
    return pool_exec(m, n, 1);
}

/* ---- GlobalAveragePool / GlobalMaxPool: one value per channel ---- */

static int global_pool_infer(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *x = nn_in(m, n, 0);
    if (!x)
        return nn_node_fail(m, n, AE_EINVAL, "needs an input");
    if (x->dtype != NN_FLOAT || x->rank < 2)
        return nn_node_fail(m, n, AE_EUNSUPPORTED, "needs a float [N, C, ...] input");
    int64_t dims[NN_MAX_RANK];
    for (int d = 0; d < x->rank; d++)
        dims[d] = d < 2 ? x->dims[d] : 1;
    n->p[0] = x->dims[0] * x->dims[1];
    n->p[1] = n->p[0] ? x->numel / n->p[0] : 0;
    return nn_set_output(m, n, 0, NN_FLOAT, x->rank, dims);
}

static int global_pool_exec(struct nn_model *m, struct nn_node *n, int is_max)
{
    const float *x = nn_in(m, n, 0)->data;
    float *y = nn_out(m, n, 0)->data;
    int64_t channels = n->p[0], plane = n->p[1];
    for (int64_t c = 0; c < channels; c++) {
        const float *xp = x + c * plane;
        float acc = is_max ? -INFINITY : 0.0f;
        for (int64_t k = 0; k < plane; k++)
            acc = is_max ? (xp[k] > acc ? xp[k] : acc) : acc + xp[k];
        y[c] = is_max ? acc : plane ? acc / (float)plane : 0.0f;
    }
    return 0;
}

static int global_average_pool_exec(struct nn_model *m, struct nn_node *n)
{
    return global_pool_exec(m, n, 0);
}

static int global_max_pool_exec(struct nn_model *m, struct nn_node *n)
{
    return global_pool_exec(m, n, 1);
}

/* ---- BatchNormalization(X, scale, B, mean, var), inference form ---- */

static int batchnorm_infer(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *x = nn_in(m, n, 0);
    if (!x)
        return nn_node_fail(m, n, AE_EINVAL, "needs an input");
    if (x->dtype != NN_FLOAT || x->rank < 2)
        return nn_node_fail(m, n, AE_EUNSUPPORTED, "needs a float [N, C, ...] input");
    if (nn_attr_int(n, "training_mode", 0) != 0 || n->n_out > 1)
        return nn_node_fail(m, n, AE_EUNSUPPORTED,
                            "training mode (running statistics as outputs) is not supported");
    if (n->opset < 9 && nn_attr_int(n, "spatial", 1) == 0)
        return nn_node_fail(m, n, AE_EUNSUPPORTED, "spatial=0 is not supported");
    for (int i = 1; i < 5; i++) {
        const struct nn_tensor *p = nn_in(m, n, i);
        if (!p || p->dtype != NN_FLOAT || p->numel != x->dims[1])
            return nn_node_fail(m, n, AE_ESHAPE, "input %d must be float with %lld elements", i,
                                (long long)x->dims[1]);
    }
    n->p[0] = x->dims[0];
    n->p[1] = x->dims[1];
    n->p[2] = x->dims[0] && x->dims[1] ? x->numel / (x->dims[0] * x->dims[1]) : 0;
    n->f[0] = nn_attr_float(n, "epsilon", 1e-5f);
    return nn_set_output(m, n, 0, NN_FLOAT, x->rank, x->dims);
}

/* Scale and shift of channel c: y = x * scale + shift. */
static void batchnorm_channel(struct nn_model *m, const struct nn_node *n, int64_t c, float *scale,
                              float *shift)
{
    const float *g = nn_in(m, n, 1)->data, *b = nn_in(m, n, 2)->data;
    const float *mean = nn_in(m, n, 3)->data, *var = nn_in(m, n, 4)->data;
    *scale = g[c] / sqrtf(var[c] + n->f[0]);
    *shift = b[c] - mean[c] * *scale;
}

static int batchnorm_exec(struct nn_model *m, struct nn_node *n)
{
    const float *x = nn_in(m, n, 0)->data;
    float *y = nn_out(m, n, 0)->data;
    int64_t batch = n->p[0], ch = n->p[1], plane = n->p[2];
    for (int64_t c = 0; c < ch; c++) {
        float s, t;
        batchnorm_channel(m, n, c, &s, &t);
        for (int64_t b = 0; b < batch; b++) {
            const float *xp = x + (b * ch + c) * plane;
            float *yp = y + (b * ch + c) * plane;
            for (int64_t k = 0; k < plane; k++)
                yp[k] = xp[k] * s + t;
        }
    }
    return 0;
}

/* ---- BatchNormalization over the last axis (fuse.c: Transpose -> BN -> Transpose) ---- */

/* [..., C] with C statistics: the scale and shift of each channel, computed once into memory
 * the node owns (the statistics are constants, checked by the fusion). */
static int batchnorm_last_infer(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *x = nn_in(m, n, 0);
    if (!x || x->dtype != NN_FLOAT || x->rank < 1)
        return nn_node_fail(m, n, AE_EUNSUPPORTED, "needs a float input");
    int64_t ch = x->dims[x->rank - 1];
    for (int i = 1; i < 5; i++) {
        const struct nn_tensor *p = nn_in(m, n, i);
        if (!p || p->dtype != NN_FLOAT || p->numel != ch)
            return nn_node_fail(m, n, AE_ESHAPE, "input %d must be float with %lld elements", i,
                                (long long)ch);
    }
    n->p[0] = ch ? x->numel / ch : 0;
    n->p[1] = ch;
    n->f[0] = nn_attr_float(n, "epsilon", 1e-5f);
    if (!n->packed && ch > 0) {
        n->packed = malloc(2 * (size_t)ch * sizeof *n->packed);
        if (!n->packed)
            return nn_node_fail(m, n, AE_ENOMEM, "out of memory");
        m->weight_bytes += 2 * (size_t)ch * sizeof *n->packed;
        for (int64_t c = 0; c < ch; c++)
            batchnorm_channel(m, n, c, &n->packed[c], &n->packed[ch + c]);
    }
    return nn_set_output(m, n, 0, NN_FLOAT, x->rank, x->dims);
}

static int batchnorm_last_exec(struct nn_model *m, struct nn_node *n)
{
    const float *x = nn_in(m, n, 0)->data;
    float *y = nn_out(m, n, 0)->data;
    int64_t rows = n->p[0], ch = n->p[1];
    const float *scale = n->packed, *shift = n->packed + ch;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < ch; c++)
            y[r * ch + c] = x[r * ch + c] * scale[c] + shift[c];
    return 0;
}

const struct nn_op nn_op_batchnorm_last = {
    "BatchNormalization(last axis)", 1, batchnorm_last_infer, batchnorm_last_exec, 0, 0};

/* Whether BatchNormalization bn is the inference form with ch constant float statistics. */
static int batchnorm_constant(struct nn_model *m, const struct nn_node *bn, int64_t ch)
{
    if (bn->n_in != 5 || bn->n_out != 1 || nn_attr_int(bn, "training_mode", 0) != 0 ||
        (bn->opset < 9 && nn_attr_int(bn, "spatial", 1) == 0))
        return 0;
    for (int i = 1; i < 5; i++) {
        const struct nn_tensor *p = nn_in(m, bn, i);
        if (!p || p->kind != NN_T_CONST || p->dtype != NN_FLOAT || p->numel != ch)
            return 0;
    }
    return 1;
}

int nn_fold_batchnorm(struct nn_model *m, struct nn_node *node, struct nn_node *bn, int64_t outer,
                      int64_t ch, int64_t inner)
{
    /* node(X, W[, B]) -> BN becomes node(X, W', B'): W viewed as [outer, ch, inner],
     * W'[., c, .] = W[., c, .] * s[c] and B' = (B - mean) * s + beta, s = scale / sqrt(var + eps),
     * stored in the BN's beta tensor. W and beta are rewritten in place, so each must be a float
     * constant read by this node only; the caller checked that node's output has no other
     * reader and that its bias input, when present, holds ch floats. */
    struct nn_tensor *w = nn_in(m, node, 1), *cb = nn_in(m, node, 2), *beta = nn_in(m, bn, 2);
    if (node->n_in < 2 || node->n_out != 1 || !batchnorm_constant(m, bn, ch) || !w ||
        w->kind != NN_T_CONST || w->consumers != 1 || w->dtype != NN_FLOAT ||
        w->numel != outer * ch * inner || beta->consumers != 1)
        return 0;
    if (cb && (cb->kind != NN_T_CONST || cb->dtype != NN_FLOAT || cb->numel != ch))
        return 0;
    if (node->n_in < 3) { /* planning time: the node gains its optional bias input */
        int *in = realloc(node->in, 3 * sizeof *in);
        if (!in)
            return 0;
        node->in = in;
        in[2] = -1;
        node->n_in = 3;
    }
    float eps = nn_attr_float(bn, "epsilon", 1e-5f);
    const float *g = nn_in(m, bn, 1)->data, *mean = nn_in(m, bn, 3)->data;
    const float *var = nn_in(m, bn, 4)->data;
    float *wd = w->data, *bd = beta->data;
    for (int64_t c = 0; c < ch; c++) {
        float s = g[c] / sqrtf(var[c] + eps);
        for (int64_t o = 0; o < outer; o++)
            for (int64_t k = 0; k < inner; k++)
                wd[(o * ch + c) * inner + k] *= s;
        float b0 = cb ? ((const float *)cb->data)[c] : 0.0f;
        bd[c] = (b0 - mean[c]) * s + bd[c];
    }
    if (cb)
        cb->consumers--;
    node->in[2] = bn->in[2];
    for (int i = 1; i < 5; i++)
        if (i != 2)
            m->t[bn->in[i]].consumers--;
    m->t[node->out[0]].consumers--;
    m->t[node->out[0]].producer = -1;
    node->out[0] = bn->out[0];
    m->t[bn->out[0]].producer = (int)(node - m->nodes);
    bn->dead = 1;
    return 1;
}

const struct nn_op nn_ops_conv[] = {
    {"Conv", 1, conv_infer, conv_exec, 0, 0},
    {"ConvTranspose", 1, conv_transpose_infer, conv_transpose_exec, 0, 0},
    {"AveragePool", 1, average_pool_infer, average_pool_exec, 0, 0},
    {"MaxPool", 1, max_pool_infer, max_pool_exec, 0, 0},
    {"GlobalAveragePool", 1, global_pool_infer, global_average_pool_exec, 0, 0},
    {"GlobalMaxPool", 1, global_pool_infer, global_max_pool_exec, 0, 0},
    {"BatchNormalization", 6, batchnorm_infer, batchnorm_exec, 0, 0},
    {NULL, 0, NULL, NULL, 0, 0},
};
