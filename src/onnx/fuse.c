/* Operator fusion: rewrites the patterns exporters emit for common layers into single nodes.
 *
 *   Div(x, sqrt 2) -> Erf -> Add 1 -> Mul x -> Mul 0.5        => Gelu(x)      (PyTorch's GELU)
 *   MatMul(A, W) -> Add(bias)                                  => MatMul+Add  (a linear layer)
 *   MatMul+Add -> Gelu                                         => MatMul+Add with GELU epilogue
 *   Transpose(last two axes) -> MatMul                         => MatMul reading A transposed
 *   Conv -> BatchNormalization (constant statistics)           => Conv, weights and bias folded
 *   Gemm / MatMul(+Add) -> BatchNormalization (2-D product)    => same, weights and bias folded
 *   Transpose [0,2,1] -> BatchNormalization -> Transpose [0,2,1]
 *                                                              => BatchNorm over the last axis
 *   Pad with constant pads that are all zero                   => removed (readers read its input)
 *   ReduceMean -> Sub -> Pow 2 -> ReduceMean -> Add eps -> Sqrt -> Div -> Mul g -> Add b
 *                                                              => LayerNormalization (last axis)
 *
 * A pattern is only rewritten when its intermediate tensors have no other reader and are not
 * graph outputs, so the result is the same graph with fewer passes over memory. Runs before
 * planning; the dead nodes are skipped by the run list. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn_internal.h"

/* The only reader of tensor t (alive, not a graph output), or NULL. */
static struct nn_node *sole_reader(struct nn_model *m, int t)
{
    if (t < 0 || m->t[t].is_output || m->t[t].consumers != 1)
        return NULL;
    for (int i = 0; i < m->n_nodes; i++) {
        struct nn_node *n = &m->nodes[i];
        if (n->dead)
            continue;
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] == t)
                return n;
    }
    return NULL;
}

static int is_op(const struct nn_node *n, const char *name)
{
    return n && n->op && strcmp(n->op->name, name) == 0 && n->n_out >= 1;
}

/* Whether tensor t is a float scalar constant close to v. */
static int is_scalar(const struct nn_model *m, int t, float v)
{
    if (t < 0)
        return 0;
    const struct nn_tensor *c = &m->t[t];
    return c->kind == NN_T_CONST && c->dtype == NN_FLOAT && c->numel == 1 &&
           fabsf(*(const float *)c->data - v) <= 1e-6f * fabsf(v);
}

/* For a binary node reading t, the index of its other input; -1 when it does not read t. */
static int other_input(const struct nn_node *n, int t)
{
    if (n->n_in != 2)
        return -1;
    if (n->in[0] == t)
        return n->in[1];
    if (n->in[1] == t)
        return n->in[0];
    return -1;
}

/* Replaces node n's inputs with one input x and its outputs with one output y. */
static void rewire(struct nn_model *m, struct nn_node *n, const struct nn_op *op, int n_in,
                   const int *in, int y)
{
    n->op = op;
    n->n_in = n_in;
    for (int k = 0; k < n_in; k++)
        n->in[k] = in[k];
    n->out[0] = y;
    n->n_out = 1;
    m->t[y].producer = (int)(n - m->nodes);
}

static void kill(struct nn_node *n)
{
    n->dead = 1;
}

static void fuse_gelu(struct nn_model *m, struct nn_node *div)
{
    if (!is_op(div, "Div") || div->n_in != 2 || !is_scalar(m, div->in[1], 1.41421356f))
        return;
    int x = div->in[0];
    if (x < 0)
        return;
    struct nn_node *erf = sole_reader(m, div->out[0]);
    if (!is_op(erf, "Erf"))
        return;
    struct nn_node *add = sole_reader(m, erf->out[0]);
    if (!is_op(add, "Add") || !is_scalar(m, other_input(add, erf->out[0]), 1.0f))
        return;
    struct nn_node *mul = sole_reader(m, add->out[0]);
    if (!is_op(mul, "Mul") || other_input(mul, add->out[0]) != x)
        return;
    struct nn_node *half = sole_reader(m, mul->out[0]);
    if (!is_op(half, "Mul") || !is_scalar(m, other_input(half, mul->out[0]), 0.5f))
        return;
    /* x is read by div and mul; after fusion only by the Gelu node. */
    m->t[x].consumers -= 1;
    rewire(m, div, &nn_op_gelu, 1, &x, half->out[0]);
    kill(erf);
    kill(add);
    kill(mul);
    kill(half);
}

static void fuse_linear(struct nn_model *m, struct nn_node *mm)
{
    if (!is_op(mm, "MatMul") || mm->n_in != 2 || mm->in[0] < 0 || mm->in[1] < 0)
        return;
    const struct nn_tensor *w = &m->t[mm->in[1]];
    if (w->kind != NN_T_CONST || w->rank < 2 || w->dtype != NN_FLOAT)
        return;
    struct nn_node *add = sole_reader(m, mm->out[0]);
    if (!is_op(add, "Add"))
        return;
    int bias = other_input(add, mm->out[0]);
    if (bias < 0 || m->t[bias].kind != NN_T_CONST || m->t[bias].dtype != NN_FLOAT ||
        m->t[bias].rank != 1 || m->t[bias].numel != w->dims[w->rank - 1])
        return;
    int in[3] = {mm->in[0], mm->in[1], bias};
    /* n->in was sized for the file's two inputs: make room for the bias. */
    int *grown = realloc(mm->in, sizeof *grown * 3);
    if (!grown)
        return;
    mm->in = grown;
    rewire(m, mm, &nn_op_matmul_bias, 3, in, add->out[0]);
    kill(add);
    struct nn_node *gelu = sole_reader(m, mm->out[0]);
    const struct nn_attr *approx = gelu ? nn_attr_get(gelu, "approximate") : NULL;
    if (is_op(gelu, "Gelu") && gelu->n_in == 1 &&
        (!approx || (approx->s && strcmp(approx->s, "none") == 0))) {
        mm->act = NN_ACT_GELU;
        mm->out[0] = gelu->out[0];
        m->t[gelu->out[0]].producer = (int)(mm - m->nodes);
        kill(gelu);
    }
}

/* Whether node n is a ReduceMean over the last axis only, keeping it, axes as an attribute. */
static int is_mean_last_axis(const struct nn_node *n)
{
    if (!is_op(n, "ReduceMean") || n->n_in != 1 || nn_attr_int(n, "keepdims", 1) != 1)
        return 0;
    const struct nn_attr *axes = nn_attr_get(n, "axes");
    return axes && axes->n == 1 && axes->ints[0] == -1;
}

/* The reader of tensor t other than node skip, when t has exactly two readers. */
static struct nn_node *other_reader(struct nn_model *m, int t, const struct nn_node *skip)
{
    if (t < 0 || m->t[t].is_output || m->t[t].consumers != 2)
        return NULL;
    for (int i = 0; i < m->n_nodes; i++) {
        struct nn_node *n = &m->nodes[i];
        if (n->dead || n == skip)
            continue;
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] == t)
                return n;
    }
    return NULL;
}

static int is_float_vector(const struct nn_model *m, int t)
{
    return t >= 0 && m->t[t].kind == NN_T_CONST && m->t[t].dtype == NN_FLOAT && m->t[t].rank == 1;
}

/* LayerNorm as exported before opset 17 (one ReduceMean on x, the centred value read twice). */
static void fuse_layernorm(struct nn_model *m, struct nn_node *mean)
{
    if (!is_mean_last_axis(mean))
        return;
    int x = mean->in[0];
    if (x < 0)
        return;
    struct nn_node *sub = sole_reader(m, mean->out[0]);
    if (!is_op(sub, "Sub") || sub->in[0] != x || sub->in[1] != mean->out[0])
        return;
    int centred = sub->out[0];
    struct nn_node *pow = NULL, *div = NULL;
    for (int i = 0; i < m->n_nodes && (!pow || !div); i++) {
        struct nn_node *n = &m->nodes[i];
        if (n->dead || n->n_in != 2 || n->in[0] != centred)
            continue;
        if (is_op(n, "Pow") && is_scalar(m, n->in[1], 2.0f))
            pow = n;
        else if (is_op(n, "Div"))
            div = n;
    }
    if (!pow || !div || other_reader(m, centred, pow) != div)
        return;
    struct nn_node *var = sole_reader(m, pow->out[0]);
    if (!is_mean_last_axis(var))
        return;
    struct nn_node *add_eps = sole_reader(m, var->out[0]);
    int eps = add_eps ? other_input(add_eps, var->out[0]) : -1;
    if (!is_op(add_eps, "Add") || eps < 0 || m->t[eps].kind != NN_T_CONST ||
        m->t[eps].dtype != NN_FLOAT || m->t[eps].numel != 1)
        return;
    struct nn_node *sqrt = sole_reader(m, add_eps->out[0]);
    if (!is_op(sqrt, "Sqrt") || sole_reader(m, sqrt->out[0]) != div || div->in[1] != sqrt->out[0])
        return;
    struct nn_node *scale = sole_reader(m, div->out[0]);
    int gamma = scale ? other_input(scale, div->out[0]) : -1;
    if (!is_op(scale, "Mul") || !is_float_vector(m, gamma))
        return;
    struct nn_node *shift = sole_reader(m, scale->out[0]);
    int beta = shift ? other_input(shift, scale->out[0]) : -1;
    if (!is_op(shift, "Add") || !is_float_vector(m, beta) || m->t[beta].numel != m->t[gamma].numel)
        return;
    const struct nn_op *ln = nn_op_find("LayerNormalization");
    /* The mean node becomes LayerNormalization(x, gamma, beta) with the file's epsilon. */
    int *grown = realloc(mean->in, sizeof *grown * 3);
    if (!grown || !ln)
        return;
    mean->in = grown;
    int in[3] = {x, gamma, beta};
    m->t[x].consumers -= 1; /* read by mean and sub, now once */
    rewire(m, mean, ln, 3, in, shift->out[0]);
    mean->fused_eps = *(const float *)m->t[eps].data;
    mean->has_fused_eps = 1;
    kill(sub);
    kill(pow);
    kill(var);
    kill(add_eps);
    kill(sqrt);
    kill(div);
    kill(scale);
    kill(shift);
}

/* Whether a Transpose node only swaps its input's last two axes. */
static int swaps_last_two(const struct nn_node *t)
{
    const struct nn_attr *perm = nn_attr_get(t, "perm");
    if (!perm || perm->n < 2)
        return 0;
    int r = perm->n;
    for (int d = 0; d < r - 2; d++)
        if (perm->ints[d] != d)
            return 0;
    return perm->ints[r - 2] == r - 1 && perm->ints[r - 1] == r - 2;
}

/* MatMul(Transpose(X), W): nn_sgemm reads X transposed itself (its trans_a flag). */
static void fuse_transposed_a(struct nn_model *m, struct nn_node *mm)
{
    if (mm->op != &nn_op_matmul_bias && !is_op(mm, "MatMul"))
        return;
    int a = mm->in[0];
    if (a < 0 || m->t[a].producer < 0)
        return;
    struct nn_node *t = &m->nodes[m->t[a].producer];
    if (t->dead || !is_op(t, "Transpose") || t->n_in != 1 || t->in[0] < 0 || !swaps_last_two(t) ||
        sole_reader(m, a) != mm)
        return;
    mm->in[0] = t->in[0];
    nn_matmul_set_trans_a(mm);
    kill(t);
}

/* Conv -> BatchNormalization (inference, constant statistics) => Conv with folded weights. */
static void fuse_batchnorm(struct nn_model *m, struct nn_node *conv)
{
    if (!is_op(conv, "Conv") || conv->n_in < 2 || conv->in[1] < 0)
        return;
    const struct nn_tensor *w = &m->t[conv->in[1]];
    struct nn_node *bn = sole_reader(m, conv->out[0]);
    if (w->rank >= 3 && w->dims[0] > 0 && is_op(bn, "BatchNormalization") &&
        bn->in[0] == conv->out[0])
        nn_fold_batchnorm(m, conv, bn, 1, w->dims[0], w->numel / w->dims[0]);
}

/* Rank of tensor t before planning: known for inputs and constants, else derived through a few
 * rank-keeping producers (-1 when not known). */
static int rank_before_plan(const struct nn_model *m, int t, int depth)
{
    static const char *const same_rank[] = {
        "Relu",    "Gelu", "Sigmoid", "Tanh", "LeakyRelu", "Dropout", "BatchNormalization",
        "Identity"};
    if (t < 0 || m->t[t].rank >= 0 || depth > 16 || m->t[t].producer < 0)
        return t < 0 ? -1 : m->t[t].rank;
    const struct nn_node *p = &m->nodes[m->t[t].producer];
    if (p->dead || !p->op || p->n_in < 1)
        return -1;
    if (is_op(p, "Gemm") || (is_op(p, "Flatten") && p->n_out == 1))
        return 2;
    if (p->op == &nn_op_gelu || p->op == &nn_op_batchnorm_last)
        return rank_before_plan(m, p->in[0], depth + 1);
    for (size_t i = 0; i < sizeof same_rank / sizeof same_rank[0]; i++)
        if (is_op(p, same_rank[i]))
            return rank_before_plan(m, p->in[0], depth + 1);
    if (is_op(p, "MatMul") || p->op == &nn_op_matmul_bias) {
        int ra = rank_before_plan(m, p->in[0], depth + 1),
            rb = rank_before_plan(m, p->in[1], depth + 1);
        return ra < 0 || rb < 0 ? -1 : ra > rb ? ra : rb;
    }
    return -1;
}

/* Gemm or MatMul(+Add) with a constant matrix weight -> BatchNormalization => the product with
 * the statistics folded into its weight and bias. BatchNormalization normalises axis 1, which is
 * the product's output axis only for a 2-D output: always for Gemm, for MatMul only when A is
 * known to be a matrix (rank_before_plan) ([B, T, N] outputs normalise T, which the weight cannot
 * carry). */
static void fuse_batchnorm_product(struct nn_model *m, struct nn_node *mm)
{
    int gemm = is_op(mm, "Gemm"), matmul = is_op(mm, "MatMul") || mm->op == &nn_op_matmul_bias;
    if ((!gemm && !matmul) || mm->n_in < 2 || mm->in[0] < 0 || mm->in[1] < 0 ||
        mm->act != NN_ACT_NONE)
        return;
    const struct nn_tensor *w = &m->t[mm->in[1]];
    struct nn_node *bn = sole_reader(m, mm->out[0]);
    if (!is_op(bn, "BatchNormalization") || bn->in[0] != mm->out[0] || w->rank != 2)
        return;
    int tb = gemm && nn_attr_int(mm, "transB", 0) != 0;
    int64_t n = w->dims[tb ? 0 : 1], k = w->dims[tb ? 1 : 0];
    if (gemm) {
        /* The bias must be one value per output column, added once (beta 1). */
        const struct nn_tensor *c = mm->n_in > 2 && mm->in[2] >= 0 ? &m->t[mm->in[2]] : NULL;
        if (nn_attr_float(mm, "beta", 1.0f) != 1.0f ||
            (c && (c->numel != n || (c->rank == 2 && c->dims[0] != 1))))
            return;
    } else if (rank_before_plan(m, mm->in[0], 0) != 2) {
        return;
    }
    if (!nn_fold_batchnorm(m, mm, bn, tb ? 1 : k, n, tb ? k : 1))
        return;
    if (!gemm)
        mm->op = &nn_op_matmul_bias;
}

/* Whether Pad node n has constant pads, all zero (opset 11 on; earlier ones as the attribute). */
static int pads_all_zero(const struct nn_model *m, const struct nn_node *n)
{
    if (n->opset < 11) {
        const struct nn_attr *a = nn_attr_get(n, "pads");
        for (int i = 0; a && i < a->n; i++)
            if (a->ints[i] != 0)
                return 0;
        return a != NULL;
    }
    if (n->n_in < 2 || n->in[1] < 0)
        return 0;
    const struct nn_tensor *p = &m->t[n->in[1]];
    if (p->kind != NN_T_CONST || (p->dtype != NN_INT64 && p->dtype != NN_INT32))
        return 0;
    for (int64_t i = 0; i < p->numel; i++)
        if (nn_tensor_int(p, i) != 0)
            return 0;
    return 1;
}

/* A Pad that adds nothing (PyTorch's AvgPool1d exports one before every pool): its readers read
 * its input instead. */
static void drop_zero_pad(struct nn_model *m, struct nn_node *pad)
{
    if (!is_op(pad, "Pad") || pad->n_out != 1 || pad->in[0] < 0 || !pads_all_zero(m, pad))
        return;
    int x = pad->in[0], y = pad->out[0];
    if (m->t[y].is_output || m->t[x].dtype != m->t[y].dtype)
        return;
    for (int i = 0; i < m->n_nodes; i++) {
        struct nn_node *n = &m->nodes[i];
        for (int k = 0; !n->dead && k < n->n_in; k++)
            if (n->in[k] == y) {
                n->in[k] = x;
                m->t[x].consumers++;
            }
    }
    for (int k = 0; k < pad->n_in; k++)
        if (pad->in[k] >= 0)
            m->t[pad->in[k]].consumers--;
    m->t[y].consumers = 0;
    kill(pad);
}

/* Whether node n is a Transpose [0, 2, 1] of a rank-3 tensor. */
static int swaps_last_of_three(const struct nn_node *n)
{
    const struct nn_attr *perm = is_op(n, "Transpose") ? nn_attr_get(n, "perm") : NULL;
    return perm && perm->n == 3 && n->n_in == 1 && n->in[0] >= 0 && swaps_last_two(n);
}

/* Transpose [0,2,1] -> BatchNormalization (constant statistics) -> Transpose [0,2,1]: one
 * BatchNorm over the last axis, without the two copies. */
static void fuse_batchnorm_last(struct nn_model *m, struct nn_node *bn)
{
    if (!is_op(bn, "BatchNormalization") || bn->n_in != 5 || bn->n_out != 1 || bn->in[0] < 0 ||
        m->t[bn->in[0]].producer < 0 || nn_attr_int(bn, "training_mode", 0) != 0 ||
        (bn->opset < 9 && nn_attr_int(bn, "spatial", 1) == 0))
        return;
    for (int i = 1; i < 5; i++)
        if (bn->in[i] < 0 || m->t[bn->in[i]].kind != NN_T_CONST)
            return;
    struct nn_node *before = &m->nodes[m->t[bn->in[0]].producer];
    struct nn_node *after = sole_reader(m, bn->out[0]);
    if (before->dead || !swaps_last_of_three(before) || sole_reader(m, bn->in[0]) != bn ||
        !swaps_last_of_three(after))
        return;
    int in[5];
    for (int i = 0; i < 5; i++)
        in[i] = i == 0 ? before->in[0] : bn->in[i];
    m->t[bn->in[0]].consumers--;
    m->t[bn->out[0]].consumers--;
    rewire(m, bn, &nn_op_batchnorm_last, 5, in, after->out[0]);
    kill(before);
    kill(after);
}

void nn_fuse(struct nn_model *m)
{
    /* In this order: each pass sees the nodes the earlier ones left alive. */
    void (*const passes[])(struct nn_model *, struct nn_node *) = {
        fuse_batchnorm_last, drop_zero_pad, fuse_batchnorm,         fuse_layernorm,
        fuse_gelu,           fuse_linear,   fuse_batchnorm_product, fuse_transposed_a};
    for (size_t p = 0; p < sizeof passes / sizeof passes[0]; p++)
        for (int i = 0; i < m->n_nodes; i++)
            if (!m->nodes[i].dead)
                passes[p](m, &m->nodes[i]);
}
