/* Recurrent layers: RNN, GRU and LSTM with ONNX semantics (forward, reverse, bidirectional;
 * layout 0 [seq, batch, ...] or 1 [batch, seq, ...]; sequence_lens; initial states; LSTM
 * peepholes; GRU linear_before_reset; clip; any of ONNX's activation functions).
 *
 * Per direction: one matrix product gives X W^T plus the biases for every time step at once,
 * then each step multiplies the previous hidden state by R^T (nn_sgemm over the whole batch) and
 * combines the gates row by row, Sigmoid and Tanh through this CPU's vector kernels. The
 * products and the state live in scratch memory the node allocates while it is planned, sized
 * for the planned shapes, so a run allocates nothing; constant W and R are packed there once
 * (nn_sgemm_pack_b), so no step copies a weight panel. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gemm.h"
#include "nn_internal.h"
#include "vec.h"

enum rnn_kind { RNN_PLAIN, RNN_GRU, RNN_LSTM };
enum rnn_act {
    ACT_SIGMOID,
    ACT_TANH,
    ACT_RELU,
    ACT_AFFINE,
    ACT_LEAKY_RELU,
    ACT_THRESHOLDED_RELU,
    ACT_SCALED_TANH,
    ACT_HARD_SIGMOID,
    ACT_ELU,
    ACT_SOFTSIGN,
    ACT_SOFTPLUS,
    ACT_COUNT
};

/* Parameter slots (n->p). Activations: 3 per direction, their alpha/beta in the node's floats
 * are not enough, so they are stored as float bits in p too. */
enum {
    R_SEQ,
    R_BATCH,
    R_IN,
    R_HID,
    R_DIRS,
    R_GATES,
    R_LAYOUT,
    R_REVERSE,
    R_LBR,
    R_CLIP,
    R_SCRATCH_CAP, /* floats of n->packed before the packed weights, set once while planning */
    R_PACKED,      /* 1: constant W and R packed for nn_sgemm_packed after the scratch */
    R_KIND,        /* enum rnn_kind, read once while planning (a run compares no strings) */
    R_ACT,         /* 6 activations (3 per direction) */
    R_ALPHA = R_ACT + 6,
    R_BETA = R_ALPHA + 6,
    R_END = R_BETA + 6
};
_Static_assert(R_END <= NN_MAX_PARAMS, "RNN parameters fit the node");

static const char *const act_names[ACT_COUNT] = {
    "Sigmoid",    "Tanh",        "Relu", "Affine",   "LeakyRelu", "ThresholdedRelu",
    "ScaledTanh", "HardSigmoid", "Elu",  "Softsign", "Softplus"};

static int kind_of(const struct nn_node *n)
{
    return strcmp(n->op->name, "GRU") == 0    ? RNN_GRU
           : strcmp(n->op->name, "LSTM") == 0 ? RNN_LSTM
                                              : RNN_PLAIN;
}

static int64_t float_bits(float f)
{
    int32_t b;
    memcpy(&b, &f, sizeof b);
    return b;
}

static float bits_float(int64_t v)
{
    int32_t b = (int32_t)v;
    float f;
    memcpy(&f, &b, sizeof f);
    return f;
}

/* The default alpha and beta of activation a (ONNX's table). */
static void act_defaults(int a, float *alpha, float *beta)
{
    *alpha = a == ACT_LEAKY_RELU ? 0.01f : a == ACT_HARD_SIGMOID ? 0.2f : 1.0f;
    *beta = a == ACT_HARD_SIGMOID ? 0.5f : a == ACT_AFFINE ? 0.0f : 1.0f;
}

/* Reads the activations attribute ("Sigmoid,Tanh,..."), the defaults of the layer when absent,
 * with activation_alpha / activation_beta, into the node's parameters. */
static int parse_activations(struct nn_model *m, struct nn_node *n, int per_dir, int dirs)
{
    static const int defaults[3][3] = {
        {ACT_TANH}, {ACT_SIGMOID, ACT_TANH}, {ACT_SIGMOID, ACT_TANH, ACT_TANH}};
    const struct nn_attr *a = nn_attr_get(n, "activations");
    const struct nn_attr *al = nn_attr_get(n, "activation_alpha");
    const struct nn_attr *be = nn_attr_get(n, "activation_beta");
    const char *s = a && a->s ? a->s : NULL;
    for (int i = 0; i < per_dir * dirs; i++) {
        int act = defaults[kind_of(n)][i % per_dir];
        if (a && a->s && !s && i == per_dir) /* one list for both directions */
            s = a->s;
        if (s) {
            size_t len = strcspn(s, ",");
            act = -1;
            for (int k = 0; k < ACT_COUNT && act < 0; k++)
                if (strlen(act_names[k]) == len && strncmp(s, act_names[k], len) == 0)
                    act = k;
            if (act < 0)
                return nn_node_fail(m, n, AE_EUNSUPPORTED, "activation '%.*s' is not supported",
                                    (int)len, s);
            s = s[len] ? s + len + 1 : NULL;
        } else if (a) {
            return nn_node_fail(m, n, AE_EINVAL, "activations lists fewer than %d functions",
                                per_dir * dirs);
        }
        float alpha, beta;
        act_defaults(act, &alpha, &beta);
        n->p[R_ACT + i] = act;
        n->p[R_ALPHA + i] = float_bits(al && i < al->n_floats ? al->floats[i] : alpha);
        n->p[R_BETA + i] = float_bits(be && i < be->n_floats ? be->floats[i] : beta);
    }
    return 0;
}

static float act_scalar(int a, float alpha, float beta, float x)
{
    switch (a) {
    case ACT_SIGMOID:
        return 1.0f / (1.0f + expf(-x));
    case ACT_TANH:
        return tanhf(x);
    case ACT_RELU:
        return x > 0.0f ? x : 0.0f;
    case ACT_AFFINE:
        return alpha * x + beta;
    case ACT_LEAKY_RELU:
        return x >= 0.0f ? x : alpha * x;
    case ACT_THRESHOLDED_RELU:
        return x > alpha ? x : 0.0f;
    case ACT_SCALED_TANH:
        return alpha * tanhf(beta * x);
    case ACT_HARD_SIGMOID: {
        float v = alpha * x + beta;
        return v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
    }
    case ACT_ELU:
        return x >= 0.0f ? x : alpha * (expf(x) - 1.0f);
    case ACT_SOFTSIGN:
        return x / (1.0f + fabsf(x));
    default:
        return log1pf(expf(x));
    }
}

/* x = act_i(clip(x)) for count floats; act_i is activation slot i of the node. */
static void activate(struct nn_model *m, const struct nn_node *n, int i, float *x, int64_t count)
{
    float clip = bits_float(n->p[R_CLIP]);
    if (clip > 0.0f)
        for (int64_t k = 0; k < count; k++)
            x[k] = x[k] < -clip ? -clip : x[k] > clip ? clip : x[k];
    int a = (int)n->p[R_ACT + i];
    if (a == ACT_SIGMOID) {
        m->vec->sigmoid(x, x, count);
    } else if (a == ACT_TANH) {
        m->vec->tanh(x, x, count);
    } else {
        float alpha = bits_float(n->p[R_ALPHA + i]), beta = bits_float(n->p[R_BETA + i]);
        for (int64_t k = 0; k < count; k++)
            x[k] = act_scalar(a, alpha, beta, x[k]);
    }
}

/* activate, except that a Tanh without clip runs as tanh(x) = 2 sigmoid(2x) - 1: the sigmoid
 * kernel is the shorter one (absolute error up to 1.8e-7 near +-1; the relative error near 0 is
 * larger, which a recurrent state, multiplied and summed, does not see). */
static void activate_by_sigmoid(struct nn_model *m, const struct nn_node *n, int i, float *x,
                                int64_t count)
{
    if (n->p[R_ACT + i] != ACT_TANH || bits_float(n->p[R_CLIP]) > 0.0f) {
        activate(m, n, i, x, count);
        return;
    }
    for (int64_t k = 0; k < count; k++)
        x[k] *= 2.0f;
    m->vec->sigmoid(x, x, count);
    for (int64_t k = 0; k < count; k++)
        x[k] = 2.0f * x[k] - 1.0f;
}

/* ---- shapes ---- */

/* Requires optional input i, when present, to be float of exactly the given dims. */
static int check_dims(struct nn_model *m, struct nn_node *n, int i, const char *what, int rank,
                      const int64_t *dims)
{
    const struct nn_tensor *t = nn_in(m, n, i);
    int ok = t && t->dtype == NN_FLOAT && t->rank == rank;
    for (int d = 0; ok && d < rank; d++)
        ok = t->dims[d] == dims[d];
    if (ok)
        return 0;
    if (rank == 2)
        return nn_node_fail(m, n, AE_ESHAPE, "%s must be float [%lld, %lld]", what,
                            (long long)dims[0], (long long)dims[1]);
    return nn_node_fail(m, n, AE_ESHAPE, "%s must be float [%lld, %lld, %lld]", what,
                        (long long)dims[0], (long long)dims[1], (long long)dims[2]);
}

static int check_optional_inputs(struct nn_model *m, struct nn_node *n)
{
    int64_t dirs = n->p[R_DIRS], gh = n->p[R_GATES] * n->p[R_HID], hid = n->p[R_HID];
    int64_t batch = n->p[R_BATCH];
    int64_t bias[2] = {dirs, 2 * gh}, peep[2] = {dirs, 3 * hid};
    int64_t state[3] = {dirs, batch, hid};
    if (n->p[R_LAYOUT])
        state[0] = batch, state[1] = dirs;
    int rc = nn_in(m, n, 3) ? check_dims(m, n, 3, "B", 2, bias) : 0;
    const struct nn_tensor *lens = nn_in(m, n, 4);
    if (rc == 0 && lens &&
        ((lens->dtype != NN_INT32 && lens->dtype != NN_INT64) || lens->numel != batch))
        rc = nn_node_fail(m, n, AE_ESHAPE, "sequence_lens must be %lld integers", (long long)batch);
    if (rc == 0 && nn_in(m, n, 5))
        rc = check_dims(m, n, 5, "initial_h", 3, state);
    if (rc == 0 && kind_of(n) == RNN_LSTM && nn_in(m, n, 6))
        rc = check_dims(m, n, 6, "initial_c", 3, state);
    if (rc == 0 && kind_of(n) == RNN_LSTM && nn_in(m, n, 7))
        rc = check_dims(m, n, 7, "P", 2, peep);
    return rc;
}

/* Reads the attributes and checks X, W and R: sequence, batch, input and hidden sizes. */
static int read_geometry(struct nn_model *m, struct nn_node *n)
{
    const struct nn_tensor *x = nn_in(m, n, 0), *w = nn_in(m, n, 1), *r = nn_in(m, n, 2);
    if (!x || !w || !r || x->dtype != NN_FLOAT || x->rank != 3)
        return nn_node_fail(m, n, AE_EINVAL, "needs a float X of rank 3, W and R");
    const struct nn_attr *dir = nn_attr_get(n, "direction");
    const char *d = dir && dir->s ? dir->s : "forward";
    int bidi = strcmp(d, "bidirectional") == 0, reverse = strcmp(d, "reverse") == 0;
    if (!bidi && !reverse && strcmp(d, "forward") != 0)
        return nn_node_fail(m, n, AE_EINVAL,
                            "direction '%s' is not forward, reverse or "
                            "bidirectional",
                            d);
    if (kind_of(n) == RNN_LSTM && nn_attr_int(n, "input_forget", 0) != 0)
        return nn_node_fail(m, n, AE_EUNSUPPORTED, "input_forget=1 is not supported");
    int layout = n->opset >= 14 && nn_attr_int(n, "layout", 0) != 0;
    int64_t gates = kind_of(n) == RNN_LSTM ? 4 : kind_of(n) == RNN_GRU ? 3 : 1;
    int64_t hid = nn_attr_int(n, "hidden_size", r->rank == 3 ? r->dims[2] : -1);
    n->p[R_SEQ] = x->dims[layout ? 1 : 0];
    n->p[R_BATCH] = x->dims[layout ? 0 : 1];
    n->p[R_IN] = x->dims[2];
    n->p[R_HID] = hid;
    n->p[R_DIRS] = bidi ? 2 : 1;
    n->p[R_GATES] = gates;
    n->p[R_LAYOUT] = layout;
    n->p[R_REVERSE] = reverse;
    n->p[R_LBR] = nn_attr_int(n, "linear_before_reset", 0) != 0;
    n->p[R_CLIP] = float_bits(nn_attr_float(n, "clip", 0.0f));
    if (hid < 1 || hid > (1 << 20) || x->dims[2] > (1 << 20))
        return nn_node_fail(m, n, AE_EINVAL, "hidden_size %lld must be in [1, 2^20]",
                            (long long)hid);
    int64_t wd[3] = {n->p[R_DIRS], gates * hid, x->dims[2]}, rd[3] = {wd[0], wd[1], hid};
    int rc = check_dims(m, n, 1, "W", 3, wd);
    if (rc == 0)
        rc = check_dims(m, n, 2, "R", 3, rd);
    if (rc == 0)
        rc = check_optional_inputs(m, n);
    return rc;
}

/* Scratch floats: X W^T for every step, the recurrent product, h, c, r * h (or GRU's third gate)
 * and GRU's z and r of the batch, and the input product's bias. */
static int64_t scratch_floats(const struct nn_node *n)
{
    int64_t gh = n->p[R_GATES] * n->p[R_HID], rows = n->p[R_SEQ] * n->p[R_BATCH];
    return rows * gh + n->p[R_BATCH] * (gh + 5 * n->p[R_HID]) + gh;
}

static int64_t round16(int64_t v)
{
    return (v + 15) / 16 * 16;
}

/* Columns of the first recurrent product (GRU without linear_before_reset: z and r only). */
static int64_t recurrent_cols(const struct nn_node *n)
{
    int gru_split = n->p[R_KIND] == RNN_GRU && !n->p[R_LBR];
    return gru_split ? 2 * n->p[R_HID] : n->p[R_GATES] * n->p[R_HID];
}

/* Floats of one direction's packed weights: W^T, R^T (its first recurrent_cols rows), and for
 * the split GRU the third gate's R^T. */
static int64_t packed_floats(const struct nn_node *n, int64_t *w, int64_t *r)
{
    int64_t hid = n->p[R_HID], gh = n->p[R_GATES] * hid;
    *w = round16(n->p[R_IN] * nn_sgemm_packed_stride((int)gh));
    *r = round16(hid * nn_sgemm_packed_stride((int)recurrent_cols(n)));
    int64_t rh = recurrent_cols(n) < gh ? round16(hid * nn_sgemm_packed_stride((int)hid)) : 0;
    return *w + *r + rh;
}

/* Packs direction d's W^T and R^T into dst (packed_floats layout). */
static void pack_weights(struct nn_model *m, const struct nn_node *n, int64_t d, float *dst)
{
    int64_t hid = n->p[R_HID], gh = n->p[R_GATES] * hid, in = n->p[R_IN], wsz, rsz;
    packed_floats(n, &wsz, &rsz);
    const float *w = (const float *)nn_in(m, n, 1)->data + d * gh * in;
    const float *r = (const float *)nn_in(m, n, 2)->data + d * gh * hid;
    int64_t cols = recurrent_cols(n);
    nn_sgemm_pack_b(1, (int)gh, (int)in, w, (int)in, dst);
    nn_sgemm_pack_b(1, (int)cols, (int)hid, r, (int)hid, dst + wsz);
    if (cols < gh)
        nn_sgemm_pack_b(1, (int)hid, (int)hid, r + cols * hid, (int)hid, dst + wsz + rsz);
}

static int reserve_scratch(struct nn_model *m, struct nn_node *n)
{
    double work = (double)n->p[R_SEQ] * (double)n->p[R_BATCH] * (double)n->p[R_DIRS] *
                  (double)(n->p[R_GATES] * n->p[R_HID]) * (double)(n->p[R_IN] + n->p[R_HID]);
    if (work > 1e12 || (double)scratch_floats(n) * 4 > (double)m->max_tensor_bytes)
        return nn_node_fail(m, n, AE_ERANGE, "the recurrence is too large (%.3g multiply-adds)",
                            work);
    int64_t need = scratch_floats(n);
    if (need <= n->p[R_SCRATCH_CAP] && n->packed)
        return 0;
    if (m->planned)
        return nn_node_fail(m, n, AE_ESHAPE, "the sequence outgrew the plan");
    free(n->packed);
    int constant = nn_in(m, n, 1)->kind == NN_T_CONST && nn_in(m, n, 2)->kind == NN_T_CONST;
    int64_t wsz, rsz, per_dir = constant ? packed_floats(n, &wsz, &rsz) : 0;
    int64_t total = round16(need) + n->p[R_DIRS] * per_dir;
    n->packed = aligned_alloc(NN_ALIGN, (size_t)(total > 0 ? total : 16) * sizeof(float));
    n->p[R_SCRATCH_CAP] = n->packed ? round16(need) : 0;
    n->p[R_PACKED] = n->packed && constant;
    if (!n->packed)
        return nn_node_fail(m, n, AE_ENOMEM, "out of memory for the recurrence");
    for (int64_t d = 0; d < n->p[R_DIRS] && constant; d++)
        pack_weights(m, n, d, n->packed + n->p[R_SCRATCH_CAP] + d * per_dir);
    m->weight_bytes += (size_t)(n->p[R_DIRS] * per_dir) * sizeof(float);
    return 0;
}

static int rnn_infer(struct nn_model *m, struct nn_node *n)
{
    int64_t cap = n->packed ? n->p[R_SCRATCH_CAP] : 0;
    n->p[R_SCRATCH_CAP] = cap;
    int kind = kind_of(n);
    n->p[R_KIND] = kind;
    int rc = read_geometry(m, n);
    if (rc == 0)
        rc = parse_activations(m, n,
                               kind == RNN_LSTM  ? 3
                               : kind == RNN_GRU ? 2
                                                 : 1,
                               (int)n->p[R_DIRS]);
    if (rc == 0)
        rc = reserve_scratch(m, n);
    int64_t seq = n->p[R_SEQ], batch = n->p[R_BATCH], dirs = n->p[R_DIRS], hid = n->p[R_HID];
    int layout = (int)n->p[R_LAYOUT];
    int64_t y[4] = {seq, dirs, batch, hid}, yl[4] = {batch, seq, dirs, hid};
    int64_t h[3] = {dirs, batch, hid}, hl[3] = {batch, dirs, hid};
    for (int i = 0; rc == 0 && i < n->n_out; i++)
        if (nn_out(m, n, i))
            rc = i == 0 ? nn_set_output(m, n, 0, NN_FLOAT, 4, layout ? yl : y)
                        : nn_set_output(m, n, i, NN_FLOAT, 3, layout ? hl : h);
    return rc;
}

/* ---- running ---- */

/* Where one direction's work happens (pointers into the scratch and the tensors). */
struct rnn_dir {
    int d;
    int64_t seq, batch, in, hid, gh;
    const float *w, *r, *wb, *rb, *peep; /* wb, rb, peep may be NULL */
    const float *wp, *rp, *rhp;          /* packed W^T, R^T, GRU's third R^T, or NULL */
    float *xw, *rec, *h, *c, *rh, *zr;   /* zr: GRU's [batch, 2H] z and r */
    float *bias;                         /* the input product's bias, gh floats */
};

/* Row of time step t, batch entry b in a [seq, batch] (layout 0) or [batch, seq] order. */
static int64_t row_of(const struct nn_node *n, int64_t t, int64_t b)
{
    return n->p[R_LAYOUT] ? b * n->p[R_SEQ] + t : t * n->p[R_BATCH] + b;
}

static int64_t seq_len(struct nn_model *m, const struct nn_node *n, int64_t b)
{
    const struct nn_tensor *lens = nn_in(m, n, 4);
    int64_t len = lens ? nn_tensor_int(lens, b) : n->p[R_SEQ];
    return len < 0 ? 0 : len > n->p[R_SEQ] ? n->p[R_SEQ] : len;
}

/* xw = X W^T + Wb + Rb for every step (GRU with linear_before_reset keeps Rb of its third gate
 * for the recurrent part): the two biases summed once, then added by the product as it stores
 * its rows (over packed weights; otherwise xw starts as the bias rows and the product adds to
 * them). */
static void input_products(struct nn_model *m, const struct nn_node *n, const struct rnn_dir *s)
{
    int64_t rows = s->seq * s->batch;
    const float *x = nn_in(m, n, 0)->data, *bias = NULL;
    if (s->wb) {
        int64_t keep = n->p[R_KIND] == RNN_GRU && n->p[R_LBR] ? 2 * s->hid : s->gh;
        for (int64_t j = 0; j < s->gh; j++)
            s->bias[j] = s->wb[j] + (j < keep ? s->rb[j] : 0.0f);
        bias = s->bias;
    }
    if (s->wp) {
        nn_sgemm_packed_bias(0, (int)rows, (int)s->gh, (int)s->in, 1.0f, x, (int)s->in, s->wp, 0.0f,
                             s->xw, (int)s->gh, bias);
        return;
    }
    for (int64_t i = 0; bias && i < rows; i++)
        memcpy(s->xw + i * s->gh, bias, (size_t)s->gh * sizeof *bias);
    nn_sgemm(0, 1, (int)rows, (int)s->gh, (int)s->in, 1.0f, x, (int)s->in, s->w, (int)s->in,
             bias ? 1.0f : 0.0f, s->xw, (int)s->gh);
}

static float *y_at(struct nn_model *m, const struct nn_node *n, const struct rnn_dir *s, int64_t t,
                   int64_t b)
{
    struct nn_tensor *y = nn_out(m, n, 0);
    if (!y)
        return NULL;
    int64_t dirs = n->p[R_DIRS];
    int64_t at = n->p[R_LAYOUT] ? ((b * s->seq + t) * dirs + s->d) * s->hid
                                : ((t * dirs + s->d) * s->batch + b) * s->hid;
    return (float *)y->data + at;
}

/* LSTM with peepholes, one batch row: g = [i o f c] pre-activations, h and c updated in place
 * (o needs the new c, so the gates go through their functions one row at a time). */
static void lstm_row(struct nn_model *m, const struct nn_node *n, const struct rnn_dir *s, float *g,
                     float *h, float *c)
{
    int64_t H = s->hid;
    float *gi = g, *go = g + H, *gf = g + 2 * H, *gc = g + 3 * H;
    int a = 3 * s->d;
    for (int64_t k = 0; s->peep && k < H; k++) {
        gi[k] += s->peep[k] * c[k];
        gf[k] += s->peep[2 * H + k] * c[k];
    }
    activate(m, n, a, gi, H);
    activate(m, n, a, gf, H);
    activate(m, n, a + 1, gc, H);
    for (int64_t k = 0; k < H; k++)
        c[k] = gf[k] * c[k] + gi[k] * gc[k];
    for (int64_t k = 0; s->peep && k < H; k++)
        go[k] += s->peep[H + k] * c[k];
    activate(m, n, a, go, H);
    memcpy(gc, c, (size_t)H * sizeof *gc);
    activate(m, n, a + 2, gc, H);
    for (int64_t k = 0; k < H; k++)
        h[k] = go[k] * gc[k];
}

/* Whether an LSTM step can put its gates through their functions for the whole batch at once:
 * no peepholes (o would need the new c) and the step's rows contiguous in xw. */
static int lstm_batched(const struct nn_node *n, const struct rnn_dir *s)
{
    return n->p[R_KIND] == RNN_LSTM && !s->peep && (!n->p[R_LAYOUT] || s->batch == 1);
}

/* Whether the LSTM's f, g and h are ONNX's defaults, Sigmoid, Tanh and Tanh, without clip: then
 * the step runs on the lstm_gates and lstm_cell kernels, both computing tanh(x) as
 * 2 sigmoid(2x) - 1 (absolute error up to 1.8e-7 near +-1): all four gates of a row in one
 * pass, the cell update and h in another. */
static int lstm_default_acts(const struct nn_node *n, const struct rnn_dir *s)
{
    int a = 3 * s->d;
    return n->p[R_ACT + a] == ACT_SIGMOID && n->p[R_ACT + a + 1] == ACT_TANH &&
           n->p[R_ACT + a + 2] == ACT_TANH && bits_float(n->p[R_CLIP]) <= 0.0f;
}

/* i, o, f and c~ of every row of step t through their functions, over the [batch, 4H] block: f
 * over the block and g over the c gates set aside in rec (an LSTM's recurrent products go
 * straight into xw), put back after. */
static void lstm_activate_block(struct nn_model *m, const struct nn_node *n,
                                const struct rnn_dir *s, float *g0)
{
    int64_t H = s->hid, gh = s->gh;
    for (int64_t b = 0; b < s->batch; b++)
        memcpy(s->rec + b * H, g0 + b * gh + 3 * H, (size_t)H * sizeof *g0);
    activate(m, n, 3 * s->d, g0, s->batch * gh);
    activate(m, n, 3 * s->d + 1, s->rec, s->batch * H);
    for (int64_t b = 0; b < s->batch; b++)
        memcpy(g0 + b * gh + 3 * H, s->rec + b * H, (size_t)H * sizeof *g0);
}

/* The new c and h of every row of step t still inside its sequence, from the activated gates
 * g0, with any activations: c, then h(c) of all rows in one call into rec, then h. */
static void lstm_cells_general(struct nn_model *m, const struct nn_node *n, const struct rnn_dir *s,
                               int64_t t, const float *g0)
{
    int64_t H = s->hid, gh = s->gh;
    for (int64_t b = 0; b < s->batch; b++) {
        const float *g = g0 + b * gh;
        float *c = s->c + b * H;
        if (t < seq_len(m, n, b))
            for (int64_t k = 0; k < H; k++)
                c[k] = g[2 * H + k] * c[k] + g[k] * g[3 * H + k];
    }
    memcpy(s->rec, s->c, (size_t)(s->batch * H) * sizeof *s->rec);
    activate_by_sigmoid(m, n, 3 * s->d + 2, s->rec, s->batch * H);
    for (int64_t b = 0; b < s->batch; b++)
        if (t < seq_len(m, n, b))
            for (int64_t k = 0; k < H; k++)
                s->h[b * H + k] = g0[b * gh + H + k] * s->rec[b * H + k];
}

/* One LSTM step without peepholes for the whole batch: the gates, the cells of the rows still
 * inside their sequence (all rows in one lstm_cell call without sequence_lens), then Y. */
static void lstm_step_batched(struct nn_model *m, const struct nn_node *n, const struct rnn_dir *s,
                              int64_t t)
{
    int64_t H = s->hid, gh = s->gh;
    float *g0 = s->xw + row_of(n, t, 0) * gh;
    if (!lstm_default_acts(n, s)) {
        lstm_activate_block(m, n, s, g0);
        lstm_cells_general(m, n, s, t, g0);
    } else {
        m->vec->lstm_gates(g0, s->batch, gh, gh, 3 * H);
        if (!nn_in(m, n, 4))
            m->vec->lstm_cell(g0, gh, s->c, s->h, s->batch, H);
        else
            for (int64_t b = 0; b < s->batch; b++)
                if (t < seq_len(m, n, b))
                    m->vec->lstm_cell(g0 + b * gh, gh, s->c + b * H, s->h + b * H, 1, H);
    }
    for (int64_t b = 0; b < s->batch; b++) {
        float *y = y_at(m, n, s, t, b);
        if (y && t >= seq_len(m, n, b))
            memset(y, 0, (size_t)H * sizeof *y);
        else if (y)
            memcpy(y, s->h + b * H, (size_t)H * sizeof *y);
    }
}

/* The recurrent products of one step for the whole batch: C = h R^T + beta C, C's rows ldc
 * floats apart; all gates, or GRU's z and r only (without linear_before_reset). */
static void recurrent_products(const struct nn_node *n, const struct rnn_dir *s, float *c,
                               int64_t ldc, float beta)
{
    int cols = (int)recurrent_cols(n);
    if (s->rp)
        nn_sgemm_packed(0, (int)s->batch, cols, (int)s->hid, 1.0f, s->h, (int)s->hid, s->rp, beta,
                        c, (int)ldc);
    else
        nn_sgemm(0, 1, (int)s->batch, cols, (int)s->hid, 1.0f, s->h, (int)s->hid, s->r, (int)s->hid,
                 beta, c, (int)ldc);
}

/* GRU's third gate before its function, for every row into rh: the input side plus
 * r * (R_h h + Rb_h) with linear_before_reset, else plus R_h (r * h), whose product needs
 * r * h of the whole batch first. */
static void gru_candidate(const struct nn_node *n, const struct rnn_dir *s, int64_t t)
{
    int64_t H = s->hid, gh = s->gh;
    const float *rbh = s->rb ? s->rb + 2 * H : NULL;
    if (!n->p[R_LBR]) {
        for (int64_t b = 0; b < s->batch; b++)
            for (int64_t k = 0; k < H; k++)
                s->rh[b * H + k] = s->zr[b * 2 * H + H + k] * s->h[b * H + k];
        if (s->rhp)
            nn_sgemm_packed(0, (int)s->batch, (int)H, (int)H, 1.0f, s->rh, (int)H, s->rhp, 0.0f,
                            s->rec + 2 * H, (int)gh);
        else
            nn_sgemm(0, 1, (int)s->batch, (int)H, (int)H, 1.0f, s->rh, (int)H, s->r + 2 * H * H,
                     (int)H, 0.0f, s->rec + 2 * H, (int)gh);
    }
    for (int64_t b = 0; b < s->batch; b++) {
        const float *g = s->xw + row_of(n, t, b) * gh + 2 * H, *rec = s->rec + b * gh + 2 * H;
        const float *r = s->zr + b * 2 * H + H;
        float *out = s->rh + b * H;
        for (int64_t k = 0; k < H; k++)
            out[k] = n->p[R_LBR] ? g[k] + r[k] * (rec[k] + (rbh ? rbh[k] : 0.0f)) : g[k] + rec[k];
    }
}

/* One GRU step for the whole batch: z and r of every row in one call (zr), the candidate of every
 * row in one call (rh), then h of the rows still inside their sequence. */
static void gru_step(struct nn_model *m, const struct nn_node *n, const struct rnn_dir *s,
                     int64_t t)
{
    int64_t H = s->hid;
    for (int64_t b = 0; b < s->batch; b++) {
        const float *g = s->xw + row_of(n, t, b) * s->gh, *rec = s->rec + b * s->gh;
        for (int64_t j = 0; j < 2 * H; j++)
            s->zr[b * 2 * H + j] = g[j] + rec[j];
    }
    activate(m, n, 2 * s->d, s->zr, s->batch * 2 * H);
    gru_candidate(n, s, t);
    activate_by_sigmoid(m, n, 2 * s->d + 1, s->rh, s->batch * H);
    for (int64_t b = 0; b < s->batch; b++) {
        float *y = y_at(m, n, s, t, b), *h = s->h + b * H;
        const float *z = s->zr + b * 2 * H, *hc = s->rh + b * H;
        if (t >= seq_len(m, n, b)) {
            if (y)
                memset(y, 0, (size_t)H * sizeof *y);
            continue;
        }
        for (int64_t k = 0; k < H; k++)
            h[k] = (1.0f - z[k]) * hc[k] + z[k] * h[k];
        if (y)
            memcpy(y, h, (size_t)H * sizeof *y);
    }
}

/* One time step of one direction for every batch row still inside its sequence. */
static void step(struct nn_model *m, const struct nn_node *n, const struct rnn_dir *s, int64_t t)
{
    int kind = (int)n->p[R_KIND];
    if (kind == RNN_GRU) {
        recurrent_products(n, s, s->rec, s->gh, 0.0f);
        gru_step(m, n, s, t);
        return;
    }
    /* added straight onto the input side of step t's rows */
    recurrent_products(n, s, s->xw + row_of(n, t, 0) * s->gh, (n->p[R_LAYOUT] ? s->seq : 1) * s->gh,
                       1.0f);
    if (lstm_batched(n, s)) {
        lstm_step_batched(m, n, s, t);
        return;
    }
    for (int64_t b = 0; b < s->batch; b++) {
        float *y = y_at(m, n, s, t, b), *h = s->h + b * s->hid;
        if (t >= seq_len(m, n, b)) {
            if (y)
                memset(y, 0, (size_t)s->hid * sizeof *y);
            continue;
        }
        float *g = s->xw + row_of(n, t, b) * s->gh;
        if (kind == RNN_LSTM) {
            lstm_row(m, n, s, g, h, s->c + b * s->hid);
        } else {
            activate(m, n, s->d, g, s->hid);
            memcpy(h, g, (size_t)s->hid * sizeof *h);
        }
        if (y)
            memcpy(y, h, (size_t)s->hid * sizeof *y);
    }
}

/* Copies state row b of direction d between the [dirs, batch, H] (or layout 1 [batch, dirs, H])
 * tensor t and the batch-major buffer buf, in the direction to_tensor says. */
static void state_rows(const struct nn_node *n, const struct rnn_dir *s, float *t, float *buf,
                       int to_tensor)
{
    for (int64_t b = 0; b < s->batch; b++) {
        int64_t at =
            n->p[R_LAYOUT] ? (b * n->p[R_DIRS] + s->d) * s->hid : (s->d * s->batch + b) * s->hid;
        float *src = to_tensor ? buf + b * s->hid : t + at;
        float *dst = to_tensor ? t + at : buf + b * s->hid;
        memcpy(dst, src, (size_t)s->hid * sizeof *dst);
    }
}

static void run_direction(struct nn_model *m, const struct nn_node *n, struct rnn_dir *s)
{
    const struct nn_tensor *h0 = nn_in(m, n, 5), *c0 = nn_in(m, n, 6);
    memset(s->h, 0, (size_t)(s->batch * s->hid) * sizeof *s->h);
    memset(s->c, 0, (size_t)(s->batch * s->hid) * sizeof *s->c);
    if (h0)
        state_rows(n, s, h0->data, s->h, 0);
    if (c0 && n->p[R_KIND] == RNN_LSTM)
        state_rows(n, s, c0->data, s->c, 0);
    input_products(m, n, s);
    int backward = n->p[R_REVERSE] || s->d == 1;
    for (int64_t i = 0; i < s->seq; i++)
        step(m, n, s, backward ? s->seq - 1 - i : i);
    struct nn_tensor *yh = nn_out(m, n, 1), *yc = nn_out(m, n, 2);
    if (yh)
        state_rows(n, s, yh->data, s->h, 1);
    if (yc && n->p[R_KIND] == RNN_LSTM)
        state_rows(n, s, yc->data, s->c, 1);
}

static int rnn_exec(struct nn_model *m, struct nn_node *n)
{
    struct rnn_dir s = {0};
    s.seq = n->p[R_SEQ], s.batch = n->p[R_BATCH], s.in = n->p[R_IN], s.hid = n->p[R_HID];
    s.gh = n->p[R_GATES] * s.hid;
    if (s.seq == 0 || s.batch == 0)
        return 0;
    s.xw = n->packed;
    s.rec = s.xw + s.seq * s.batch * s.gh;
    s.h = s.rec + s.batch * s.gh;
    s.c = s.h + s.batch * s.hid;
    s.rh = s.c + s.batch * s.hid;
    s.zr = s.rh + s.batch * s.hid;
    s.bias = s.zr + s.batch * 2 * s.hid;
    const struct nn_tensor *bias = nn_in(m, n, 3), *peep = nn_in(m, n, 7);
    for (s.d = 0; s.d < n->p[R_DIRS]; s.d++) {
        s.w = (const float *)nn_in(m, n, 1)->data + s.d * s.gh * s.in;
        s.r = (const float *)nn_in(m, n, 2)->data + s.d * s.gh * s.hid;
        s.wb = bias ? (const float *)bias->data + s.d * 2 * s.gh : NULL;
        s.rb = bias ? s.wb + s.gh : NULL;
        s.peep =
            n->p[R_KIND] == RNN_LSTM && peep ? (const float *)peep->data + s.d * 3 * s.hid : NULL;
        if (n->p[R_PACKED]) {
            int64_t wsz, rsz, per_dir = packed_floats(n, &wsz, &rsz);
            s.wp = n->packed + n->p[R_SCRATCH_CAP] + s.d * per_dir;
            s.rp = s.wp + wsz;
            s.rhp = recurrent_cols(n) < s.gh ? s.rp + rsz : NULL;
        }
        run_direction(m, n, &s);
    }
    return 0;
}

const struct nn_op nn_ops_rnn[] = {
    {"RNN", 7, rnn_infer, rnn_exec, 0, 0},
    {"GRU", 7, rnn_infer, rnn_exec, 0, 0},
    {"LSTM", 7, rnn_infer, rnn_exec, 0, 0},
    {NULL, 0, NULL, NULL, 0, 0},
};
