/* Helpers shared by the operators: inputs, outputs, attributes, axes and numpy broadcasting. */
#include <string.h>

#include "nn_internal.h"

struct nn_tensor *nn_in(struct nn_model *m, const struct nn_node *n, int i)
{
    if (i < 0 || i >= n->n_in || n->in[i] < 0)
        return NULL;
    return &m->t[n->in[i]];
}

struct nn_tensor *nn_out(struct nn_model *m, const struct nn_node *n, int i)
{
    if (i < 0 || i >= n->n_out || n->out[i] < 0)
        return NULL;
    return &m->t[n->out[i]];
}

const struct nn_attr *nn_attr_get(const struct nn_node *n, const char *name)
{
    for (int i = 0; i < n->n_attr; i++)
        if (strcmp(n->attr[i].name, name) == 0)
            return &n->attr[i];
    return NULL;
}

int64_t nn_attr_int(const struct nn_node *n, const char *name, int64_t dflt)
{
    const struct nn_attr *a = nn_attr_get(n, name);
    return a ? a->i : dflt;
}

float nn_attr_float(const struct nn_node *n, const char *name, float dflt)
{
    const struct nn_attr *a = nn_attr_get(n, name);
    return a ? a->f : dflt;
}

int nn_axis(int64_t axis, int rank)
{
    if (axis < 0)
        axis += rank;
    if (axis < 0 || axis >= rank)
        return -1;
    return (int)axis;
}

int nn_broadcast_shape(int ra, const int64_t *a, int rb, const int64_t *b, int *rout, int64_t *out)
{
    int r = ra > rb ? ra : rb;
    for (int i = 0; i < r; i++) {
        int64_t da = i < r - ra ? 1 : a[i - (r - ra)];
        int64_t db = i < r - rb ? 1 : b[i - (r - rb)];
        if (da != db && da != 1 && db != 1)
            return AE_ESHAPE;
        out[i] = da == 1 ? db : da;
    }
    *rout = r;
    return 0;
}

int nn_set_output(struct nn_model *m, const struct nn_node *n, int i, int dtype, int rank,
                  const int64_t *dims)
{
    struct nn_tensor *t = nn_out(m, n, i);
    if (!t)
        return 0;
    if (m->planned && t->dtype != dtype)
        return nn_node_fail(m, n, AE_ESTATE, "output type changed after planning");
    struct nn_tensor probe = *t;
    if (nn_tensor_set_shape(&probe, rank, dims) != 0)
        return nn_node_fail(m, n, AE_ERANGE, "output '%s' would be too large", t->name);
    probe.dtype = dtype;
    size_t bytes = (size_t)probe.numel * nn_dtype_size(dtype);
    if (bytes > m->max_tensor_bytes)
        return nn_node_fail(m, n, AE_ERANGE, "output '%s' would need %zu bytes", t->name, bytes);
    if (m->planned && bytes > t->cap)
        return nn_node_fail(m, n, AE_ESHAPE,
                            "output '%s' needs %zu bytes, the plan has %zu (an input is larger "
                            "than the shape the model was planned for)",
                            t->name, bytes, t->cap);
    *t = probe;
    return 0;
}

int nn_need_input(struct nn_model *m, const struct nn_node *n, int i)
{
    const struct nn_tensor *t = nn_in(m, n, i);
    if (!t)
        return nn_node_fail(m, n, AE_EINVAL, "input %d is required", i);
    if (!t->data)
        return nn_node_fail(m, n, AE_EUNSUPPORTED, "the value of input '%s' is not known", t->name);
    return 0;
}

#define NN_BCAST_MAX_IN 3

void nn_broadcast_run(const struct nn_tensor *out, int n_in, const struct nn_tensor *const *in,
                      nn_row_fn row, const void *ctx)
{
    if (out->numel == 0)
        return;
    /* Element strides of each input over the output's dimensions (0 where broadcast), then
     * adjacent dimensions merged wherever every operand stays contiguous across them. */
    int r = out->rank;
    int64_t dims[NN_MAX_RANK + 1];
    int64_t st[NN_BCAST_MAX_IN][NN_MAX_RANK + 1];
    for (int k = 0; k < n_in; k++) {
        int64_t s = 1;
        int off = r - in[k]->rank;
        for (int d = r - 1; d >= 0; d--) {
            int64_t dim = d < off ? 1 : in[k]->dims[d - off];
            st[k][d] = dim == 1 ? 0 : s;
            s *= dim;
        }
    }
    int nd = 0;
    for (int d = 0; d < r; d++) {
        if (out->dims[d] == 1)
            continue;
        int merge = nd > 0;
        for (int k = 0; k < n_in && merge; k++)
            merge = st[k][nd - 1] == st[k][d] * out->dims[d];
        if (merge) {
            dims[nd - 1] *= out->dims[d];
            for (int k = 0; k < n_in; k++)
                st[k][nd - 1] = st[k][d];
        } else {
            dims[nd] = out->dims[d];
            for (int k = 0; k < n_in; k++)
                st[k][nd] = st[k][d];
            nd++;
        }
    }
    if (nd == 0) {
        dims[0] = 1;
        for (int k = 0; k < n_in; k++)
            st[k][0] = 0;
        nd = 1;
    }
    int64_t inner = dims[nd - 1];
    int inner_stride[NN_BCAST_MAX_IN];
    size_t esize[NN_BCAST_MAX_IN];
    for (int k = 0; k < n_in; k++) {
        inner_stride[k] = st[k][nd - 1] != 0;
        esize[k] = nn_dtype_size(in[k]->dtype);
    }
    size_t out_esize = nn_dtype_size(out->dtype);
    int64_t idx[NN_MAX_RANK + 1] = {0};
    int64_t rows = out->numel / inner;
    int64_t offs[NN_BCAST_MAX_IN] = {0};
    char *o = out->data;
    for (int64_t rix = 0; rix < rows; rix++) {
        const void *ptr[NN_BCAST_MAX_IN];
        for (int k = 0; k < n_in; k++)
            ptr[k] = (const char *)in[k]->data + (size_t)offs[k] * esize[k];
        row(o + (size_t)(rix * inner) * out_esize, ptr, inner_stride, inner, ctx);
        /* Advance the outer index (all dimensions but the last). */
        for (int d = nd - 2; d >= 0; d--) {
            idx[d]++;
            for (int k = 0; k < n_in; k++)
                offs[k] += st[k][d];
            if (idx[d] < dims[d])
                break;
            for (int k = 0; k < n_in; k++)
                offs[k] -= st[k][d] * dims[d];
            idx[d] = 0;
        }
    }
}
