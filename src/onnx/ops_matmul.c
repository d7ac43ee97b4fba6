/* Matrix products: MatMul (numpy semantics, batched, broadcast), Gemm, and the fused
 * MatMul + bias [+ GELU] that the fusion pass makes out of exported linear layers.
 * Every product goes through nn_sgemm (gemm.h); a constant B shared by all the products of a
 * node is packed once at planning (nn_sgemm_pack_b, any transpose) and read from there. */
#include <stdlib.h>
#include <string.h>

#include "gemm.h"
#include "nn_internal.h"

/* Node parameters cached by infer (n->p): */
enum {
    MM_M,
    MM_K,
    MM_N,
    MM_BATCH, /* number of products */
    MM_FLAT,  /* 1: B is shared by all batches and A is contiguous: one product of BATCH*M rows */
    MM_BRANK, /* rank of the broadcast batch shape */
    MM_BDIMS, /* BRANK batch dims, then A's and B's batch strides (in matrices) */
    MM_TRANS_A = MM_BDIMS + 3 * 6,
};
#define MM_MAX_BATCH_RANK 6

/* Packs the constant B (k x n as op(B) with trans_b) of node n once, at planning: the first
 * infer allocates, later ones (a batch change) find it done. Only when A is computed (a product
 * of two constants is folded, and run once). */
static int pack_constant_b(struct nn_model *m, struct nn_node *n, const struct nn_tensor *a,
                           const struct nn_tensor *b, int trans_b, int64_t k, int64_t cols)
{
    if (n->packed || b->kind != NN_T_CONST || a->kind == NN_T_CONST || k < 1 || cols < 1)
        return 0;
    size_t bytes = (size_t)k * (size_t)nn_sgemm_packed_stride((int)cols) * sizeof(float);
    bytes = (bytes + NN_ALIGN - 1) / NN_ALIGN * NN_ALIGN;
    n->packed = aligned_alloc(NN_ALIGN, bytes);
    if (!n->packed)
        return nn_node_fail(m, n, AE_ENOMEM, "out of memory packing '%s'", b->name);
    nn_sgemm_pack_b(trans_b, (int)cols, (int)k, b->data, trans_b ? (int)k : (int)cols, n->packed);
    m->weight_bytes += bytes;
    return 0;
}

static int matmul_shapes(struct nn_model *m, struct nn_node *n, const struct nn_tensor *a,
                         const struct nn_tensor *b)
{
    if (a->dtype != NN_FLOAT || b->dtype != NN_FLOAT)
        return nn_node_fail(m, n, AE_EUNSUPPORTED, "type %s is not supported (float only)",
                            nn_dtype_name(a->dtype != NN_FLOAT ? a->dtype : b->dtype));
    if (a->rank < 1 || b->rank < 1)
        return nn_node_fail(m, n, AE_ESHAPE, "inputs must have rank >= 1");
    int ta = n->p[MM_TRANS_A] != 0;
    int64_t M = a->rank == 1 ? 1 : a->dims[a->rank - (ta ? 1 : 2)];
    int64_t K = a->dims[a->rank - (ta && a->rank > 1 ? 2 : 1)];
    int64_t Kb = b->rank == 1 ? b->dims[0] : b->dims[b->rank - 2];
    int64_t N = b->rank == 1 ? 1 : b->dims[b->rank - 1];
    if (K != Kb)
        return nn_node_fail(m, n, AE_ESHAPE,
                            "inner dimensions differ: '%s' has %lld, '%s' has %lld", a->name,
                            (long long)K, b->name, (long long)Kb);
    int ra = a->rank > 2 ? a->rank - 2 : 0, rb = b->rank > 2 ? b->rank - 2 : 0;
    int rbatch;
    int64_t batch[NN_MAX_RANK];
    if (nn_broadcast_shape(ra, a->dims, rb, b->dims, &rbatch, batch) != 0)
        return nn_node_fail(m, n, AE_ESHAPE, "batch dimensions of '%s' and '%s' do not broadcast",
                            a->name, b->name);
    if (rbatch > MM_MAX_BATCH_RANK)
        return nn_node_fail(m, n, AE_EUNSUPPORTED, "more than %d batch dimensions",
                            MM_MAX_BATCH_RANK);
    int64_t count = 1, b_count = 1;
    for (int i = 0; i < rbatch; i++)
        count *= batch[i];
    for (int i = 0; i < rb; i++)
        b_count *= b->dims[i];
    n->p[MM_M] = M;
    n->p[MM_K] = K;
    n->p[MM_N] = N;
    n->p[MM_BATCH] = count;
    n->p[MM_FLAT] = b_count == 1 && !ta;
    n->p[MM_BRANK] = rbatch;
    /* Batch strides in whole matrices, 0 where an operand is broadcast. */
    int64_t sa = 1, sb = 1;
    for (int i = rbatch - 1; i >= 0; i--) {
        int ia = i - (rbatch - ra), ib = i - (rbatch - rb);
        int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        n->p[MM_BDIMS + i] = batch[i];
        n->p[MM_BDIMS + 6 + i] = da == 1 ? 0 : sa;
        n->p[MM_BDIMS + 12 + i] = db == 1 ? 0 : sb;
        sa *= da;
        sb *= db;
    }
    if (b->rank >= 2 && b_count == 1) {
        int rc = pack_constant_b(m, n, a, b, 0, K, N);
        if (rc != 0)
            return rc;
    }
    int64_t dims[NN_MAX_RANK];
    int r = 0;
    for (int i = 0; i < rbatch; i++)
        dims[r++] = batch[i];
    if (a->rank > 1)
        dims[r++] = M;
    if (b->rank > 1)
        dims[r++] = N;
    return nn_set_output(m, n, 0, NN_FLOAT, r, dims);
}

/* y = op(A) @ B, plus bias (N floats, or NULL) on every row when B is packed (the product adds
 * it as it stores); returns whether it added the bias. */
static int matmul_run(const struct nn_node *n, const float *a, const float *b, float *y,
                      const float *bias)
{
    int M = (int)n->p[MM_M], K = (int)n->p[MM_K], N = (int)n->p[MM_N];
    int ta = n->p[MM_TRANS_A] != 0;
    if (n->p[MM_FLAT]) {
        if (n->packed)
            nn_sgemm_packed_bias(0, (int)(M * n->p[MM_BATCH]), N, K, 1.0f, a, K, n->packed, 0.0f, y,
                                 N, bias);
        else
            nn_sgemm(0, 0, (int)(M * n->p[MM_BATCH]), N, K, 1.0f, a, K, b, N, 0.0f, y, N);
        return n->packed != NULL;
    }
    int rb = (int)n->p[MM_BRANK];
    int64_t idx[MM_MAX_BATCH_RANK] = {0}, oa = 0, ob = 0;
    for (int64_t i = 0; i < n->p[MM_BATCH]; i++) {
        if (n->packed) /* B is shared by every product (ob stays 0) */
            nn_sgemm_packed_bias(ta, M, N, K, 1.0f, a + oa * M * K, ta ? M : K, n->packed, 0.0f,
                                 y + i * M * N, N, bias);
        else
            nn_sgemm(ta, 0, M, N, K, 1.0f, a + oa * M * K, ta ? M : K, b + ob * K * N, N, 0.0f,
                     y + i * M * N, N);
        for (int d = rb - 1; d >= 0; d--) {
            idx[d]++;
            oa += n->p[MM_BDIMS + 6 + d];
            ob += n->p[MM_BDIMS + 12 + d];
            if (idx[d] < n->p[MM_BDIMS + d])
                break;
            oa -= n->p[MM_BDIMS + 6 + d] * idx[d];
            ob -= n->p[MM_BDIMS + 12 + d] * idx[d];
            idx[d] = 0;
        }
    }
    return n->packed != NULL;
}

static int matmul_infer(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *a = nn_in(m, n, 0), *b = nn_in(m, n, 1);
    if (!a || !b)
        return nn_node_fail(m, n, AE_EINVAL, "needs two inputs");
    return matmul_shapes(m, n, a, b);
}

static int matmul_exec(struct nn_model *m, struct nn_node *n)
{
    matmul_run(n, nn_in(m, n, 0)->data, nn_in(m, n, 1)->data, nn_out(m, n, 0)->data, NULL);
    return 0;
}

/* Fused: y = act(op(A) @ B + bias), bias of N elements. Built by fuse.c only. */
static int matmul_bias_infer(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *a = nn_in(m, n, 0), *b = nn_in(m, n, 1), *c = nn_in(m, n, 2);
    int rc = matmul_shapes(m, n, a, b);
    if (rc == 0 && (c->dtype != NN_FLOAT || c->numel != n->p[MM_N]))
        return nn_node_fail(m, n, AE_ESHAPE, "bias '%s' must have %lld floats", c->name,
                            (long long)n->p[MM_N]);
    return rc;
}

static int matmul_bias_exec(struct nn_model *m, struct nn_node *n)
{
    struct nn_tensor *y = nn_out(m, n, 0);
    const float *bias = nn_in(m, n, 2)->data;
    float *out = y->data;
    int64_t N = n->p[MM_N], rows = y->numel / (N ? N : 1);
    if (matmul_run(n, nn_in(m, n, 0)->data, nn_in(m, n, 1)->data, out, bias))
        rows = 0; /* added by the product */
    for (int64_t r = 0; r < rows; r++) {
        float *row = out + r * N;
        for (int64_t j = 0; j < N; j++)
            row[j] += bias[j];
    }
    /* One call over the whole output: rows are often not a multiple of the vector width, and a
     * per-row call would leave a scalar tail on every row. */
    if (n->act == NN_ACT_GELU)
        m->gelu(out, y->numel);
    return 0;
}

void nn_matmul_set_trans_a(struct nn_node *n)
{
    n->p[MM_TRANS_A] = 1;
}

const struct nn_op nn_op_matmul_bias = {"MatMul+Add", 1, matmul_bias_infer, matmul_bias_exec, 0, 0};

/* Gemm: Y = alpha * op(A) @ op(B) + beta * C, C broadcast to [M, N]. */
static int gemm_infer(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *a = nn_in(m, n, 0), *b = nn_in(m, n, 1), *c = nn_in(m, n, 2);
    if (!a || !b)
        return nn_node_fail(m, n, AE_EINVAL, "needs inputs A and B");
    if (a->dtype != NN_FLOAT || b->dtype != NN_FLOAT || (c && c->dtype != NN_FLOAT))
        return nn_node_fail(m, n, AE_EUNSUPPORTED, "only float is supported");
    if (a->rank != 2 || b->rank != 2)
        return nn_node_fail(m, n, AE_ESHAPE, "A and B must be matrices");
    int ta = nn_attr_int(n, "transA", 0) != 0, tb = nn_attr_int(n, "transB", 0) != 0;
    int64_t M = a->dims[ta ? 1 : 0], K = a->dims[ta ? 0 : 1];
    int64_t Kb = b->dims[tb ? 1 : 0], N = b->dims[tb ? 0 : 1];
    if (K != Kb)
        return nn_node_fail(m, n, AE_ESHAPE, "inner dimensions differ (%lld and %lld)",
                            (long long)K, (long long)Kb);
    int64_t dims[2] = {M, N};
    if (c) {
        int r;
        int64_t out[NN_MAX_RANK];
        if (c->rank > 2 || nn_broadcast_shape(2, dims, c->rank, c->dims, &r, out) != 0 ||
            out[0] != M || out[1] != N)
            return nn_node_fail(m, n, AE_ESHAPE, "C does not broadcast to [%lld, %lld]",
                                (long long)M, (long long)N);
    }
    int rc = pack_constant_b(m, n, a, b, tb, K, N);
    if (rc != 0)
        return rc;
    n->p[0] = M, n->p[1] = N, n->p[2] = K, n->p[3] = ta, n->p[4] = tb;
    n->f[0] = nn_attr_float(n, "alpha", 1.0f);
    n->f[1] = nn_attr_float(n, "beta", 1.0f);
    return nn_set_output(m, n, 0, NN_FLOAT, 2, dims);
}

static int gemm_exec(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *a = nn_in(m, n, 0), *b = nn_in(m, n, 1), *c = nn_in(m, n, 2);
    float *y = nn_out(m, n, 0)->data;
    int M = (int)n->p[0], N = (int)n->p[1], K = (int)n->p[2], ta = (int)n->p[3], tb = (int)n->p[4];
    float beta = n->f[1];
    if (c && beta != 0.0f) {
        /* Broadcast C into Y scaled by beta, then accumulate the product onto it. */
        int64_t s0 = c->rank == 2 && c->dims[0] != 1 ? (c->rank == 2 ? c->dims[1] : 0) : 0;
        int64_t s1 = c->rank >= 1 && c->dims[c->rank - 1] != 1 ? 1 : 0;
        const float *cd = c->data;
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++)
                y[(int64_t)i * N + j] = beta * cd[i * s0 + j * s1];
    } else {
        beta = 0.0f;
    }
    float accumulate = c && beta != 0.0f ? 1.0f : 0.0f;
    if (n->packed)
        nn_sgemm_packed(ta, M, N, K, n->f[0], a->data, ta ? M : K, n->packed, accumulate, y, N);
    else
        nn_sgemm(ta, tb, M, N, K, n->f[0], a->data, ta ? M : K, b->data, tb ? K : N, accumulate,
                 y, N);
    return 0;
}

const struct nn_op nn_ops_matmul[] = {
    {"MatMul", 1, matmul_infer, matmul_exec, 0, 0},
    {"Gemm", 7, gemm_infer, gemm_exec, 0, 0},
    {NULL, 0, NULL, NULL, 0, 0},
};
