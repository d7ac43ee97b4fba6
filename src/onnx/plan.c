/* Planning and running: constant folding, fusion, shape inference, the arena, the run loop.
 *
 * nn_model_plan() runs the graph once on zeros with a temporary buffer per tensor (freed as soon
 * as its last reader has run), which infers every shape and computes every shape-like value that
 * later operators need (Reshape targets, Slice bounds...). It then places every tensor in one
 * arena by walking the run list with a free list of blocks, best fit, like ggml's allocator: a
 * tensor's block returns to the free list after its last reader. nn_model_run() afterwards only
 * calls each node's exec on arena memory; it allocates nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_internal.h"
#include "vec.h"

static size_t tensor_bytes(const struct nn_tensor *t)
{
    return (size_t)t->numel * nn_dtype_size(t->dtype);
}

static size_t round_up(size_t n)
{
    return (n + NN_ALIGN - 1) / NN_ALIGN * NN_ALIGN;
}

/* Counts bytes the planner is about to hold: AE_ERANGE with a message when the weights, the
 * tensors held and these would pass the model's plan limit. */
static int plan_reserve(struct nn_model *m, size_t bytes)
{
    size_t held = m->weight_bytes + m->plan_live_bytes;
    if (held > m->max_plan_bytes || bytes > m->max_plan_bytes - held) {
        snprintf(m->err, m->errlen,
                 "model %s: needs more memory than the plan limit of %zu MiB (%zu MiB held, "
                 "%zu MiB more asked)",
                 m->label, m->max_plan_bytes >> 20, held >> 20, bytes >> 20);
        return AE_ERANGE;
    }
    m->plan_live_bytes += bytes;
    return 0;
}

/* Frees a planning tensor's buffer and stops counting it. */
static void plan_drop(struct nn_model *m, struct nn_tensor *t)
{
    if (!t->data)
        return;
    m->plan_live_bytes -= t->cap < m->plan_live_bytes ? t->cap : m->plan_live_bytes;
    free(t->data);
    t->data = NULL;
}

/* Infers and executes one node on temporary buffers. Outputs get malloc'ed memory. */
static int eval_with_malloc(struct nn_model *m, struct nn_node *n)
{
    int rc = n->op->infer(m, n);
    if (rc != 0)
        return rc;
    for (int i = 0; i < n->n_out; i++) {
        struct nn_tensor *t = nn_out(m, n, i);
        if (!t)
            continue;
        size_t bytes = tensor_bytes(t);
        plan_drop(m, t);
        if (plan_reserve(m, bytes) != 0)
            return AE_ERANGE;
        t->data = calloc(1, round_up(bytes ? bytes : 1));
        if (!t->data)
            return nn_node_fail(m, n, AE_ENOMEM, "out of memory for %zu bytes", bytes);
        t->cap = bytes;
    }
    return n->op->exec(m, n);
}

/* Evaluates at load every node whose inputs are all constants; its outputs become constants. */
static int fold_constants(struct nn_model *m)
{
    for (int i = 0; i < m->n_nodes; i++) {
        struct nn_node *n = &m->nodes[i];
        int all_const = 1;
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] >= 0 && m->t[n->in[k]].kind != NN_T_CONST)
                all_const = 0;
        if (!all_const)
            continue;
        int rc = eval_with_malloc(m, n);
        if (rc != 0)
            return rc;
        for (int k = 0; k < n->n_out; k++) {
            struct nn_tensor *t = nn_out(m, n, k);
            if (t) {
                t->kind = NN_T_CONST;
                m->plan_live_bytes -= t->cap < m->plan_live_bytes ? t->cap : m->plan_live_bytes;
                m->weight_bytes += t->cap; /* from the planner's tensors to the weights */
            }
        }
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] >= 0)
                m->t[n->in[k]].consumers--;
        n->dead = 1;
    }
    return 0;
}

static int build_run_list(struct nn_model *m)
{
    free(m->run);
    m->run = malloc(sizeof *m->run * (size_t)(m->n_nodes ? m->n_nodes : 1));
    if (!m->run)
        return AE_ENOMEM;
    m->n_run = 0;
    for (int i = 0; i < m->n_nodes; i++)
        if (!m->nodes[i].dead)
            m->run[m->n_run++] = i;
    /* Position of the last reader of each tensor; graph outputs live to the end. */
    for (int i = 0; i < m->n_tensors; i++)
        m->t[i].last_use = -1;
    for (int pos = 0; pos < m->n_run; pos++) {
        const struct nn_node *n = &m->nodes[m->run[pos]];
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] >= 0)
                m->t[n->in[k]].last_use = pos;
        for (int k = 0; k < n->n_out; k++)
            if (n->out[k] >= 0 && m->t[n->out[k]].last_use < pos)
                m->t[n->out[k]].last_use = pos; /* never read: free right after */
    }
    for (int i = 0; i < m->n_tensors; i++)
        if (m->t[i].is_output || m->t[i].kind == NN_T_INPUT)
            m->t[i].last_use = m->n_run;
    return 0;
}

static int is_arena_tensor(const struct nn_tensor *t)
{
    return t->kind != NN_T_CONST;
}

/* Runs the graph on the given inputs (zeros where NULL) with temporary buffers, freeing each at
 * its last use. */
static int dry_run(struct nn_model *m, const void *const *input_data)
{
    int rc = 0;
    for (int i = 0; i < m->n_inputs; i++) {
        struct nn_tensor *t = &m->t[m->inputs[i]];
        t->cap = tensor_bytes(t);
        if (plan_reserve(m, t->cap) != 0)
            return AE_ERANGE;
        t->data = calloc(1, round_up(t->cap ? t->cap : 1));
        if (!t->data)
            return AE_ENOMEM;
        if (input_data && input_data[i] && t->cap)
            memcpy(t->data, input_data[i], t->cap);
    }
    for (int pos = 0; pos < m->n_run && rc == 0; pos++) {
        struct nn_node *n = &m->nodes[m->run[pos]];
        rc = eval_with_malloc(m, n);
        for (int k = 0; k < n->n_in; k++) {
            struct nn_tensor *t = nn_in(m, n, k);
            if (t && is_arena_tensor(t) && t->last_use == pos)
                plan_drop(m, t);
        }
        for (int k = 0; k < n->n_out; k++) {
            struct nn_tensor *t = nn_out(m, n, k);
            if (t && t->last_use == pos)
                plan_drop(m, t);
        }
    }
    for (int i = 0; i < m->n_tensors; i++)
        if (is_arena_tensor(&m->t[i]))
            plan_drop(m, &m->t[i]);
    m->plan_live_bytes = 0;
    return rc;
}

/* Free blocks of the arena being planned, sorted by offset, adjacent ones merged. */
struct free_list {
    size_t *off, *len;
    int n;
    size_t end; /* current arena size */
};

static size_t block_alloc(struct free_list *fl, size_t size)
{
    int best = -1;
    for (int i = 0; i < fl->n; i++)
        if (fl->len[i] >= size && (best < 0 || fl->len[i] < fl->len[best]))
            best = i;
    if (best < 0) {
        /* Grow at the end, using a free block touching the end if there is one. */
        if (fl->n > 0 && fl->off[fl->n - 1] + fl->len[fl->n - 1] == fl->end) {
            size_t off = fl->off[fl->n - 1];
            fl->end = off + size;
            fl->n--;
            return off;
        }
        size_t off = fl->end;
        fl->end += size;
        return off;
    }
    size_t off = fl->off[best];
    fl->off[best] += size;
    fl->len[best] -= size;
    if (fl->len[best] == 0) {
        memmove(&fl->off[best], &fl->off[best + 1], sizeof(size_t) * (size_t)(fl->n - best - 1));
        memmove(&fl->len[best], &fl->len[best + 1], sizeof(size_t) * (size_t)(fl->n - best - 1));
        fl->n--;
    }
    return off;
}

static void block_free(struct free_list *fl, size_t off, size_t size)
{
    int i = 0;
    while (i < fl->n && fl->off[i] < off)
        i++;
    memmove(&fl->off[i + 1], &fl->off[i], sizeof(size_t) * (size_t)(fl->n - i));
    memmove(&fl->len[i + 1], &fl->len[i], sizeof(size_t) * (size_t)(fl->n - i));
    fl->off[i] = off;
    fl->len[i] = size;
    fl->n++;
    if (i + 1 < fl->n && fl->off[i] + fl->len[i] == fl->off[i + 1]) { /* merge with next */
        fl->len[i] += fl->len[i + 1];
        memmove(&fl->off[i + 1], &fl->off[i + 2], sizeof(size_t) * (size_t)(fl->n - i - 2));
        memmove(&fl->len[i + 1], &fl->len[i + 2], sizeof(size_t) * (size_t)(fl->n - i - 2));
        fl->n--;
    }
    if (i > 0 && fl->off[i - 1] + fl->len[i - 1] == fl->off[i]) { /* merge with previous */
        fl->len[i - 1] += fl->len[i];
        memmove(&fl->off[i], &fl->off[i + 1], sizeof(size_t) * (size_t)(fl->n - i - 1));
        memmove(&fl->len[i], &fl->len[i + 1], sizeof(size_t) * (size_t)(fl->n - i - 1));
        fl->n--;
    }
}

/* The tensor whose memory tensor i shares (itself, unless a view node made it): root[] is filled
 * in run order, so a view of a view finds the first one. */
static int view_root(const struct nn_model *m, const struct nn_node *n, const int *root)
{
    if (!n->op->view || n->n_in < 1 || n->n_out < 1 || n->in[0] < 0 || n->out[0] < 0)
        return -1;
    const struct nn_tensor *x = &m->t[n->in[0]], *y = &m->t[n->out[0]];
    if (!is_arena_tensor(x) || x->dtype != y->dtype || y->cap > m->t[root[n->in[0]]].cap)
        return -1;
    return root[n->in[0]];
}

/* root[i]: the tensor whose block tensor i lives in (views share their input's); a root's
 * last_use is extended to its views' last readers. */
static void find_views(struct nn_model *m, int *root)
{
    for (int i = 0; i < m->n_tensors; i++)
        root[i] = i;
    for (int pos = 0; pos < m->n_run; pos++) {
        const struct nn_node *n = &m->nodes[m->run[pos]];
        int r = view_root(m, n, root);
        if (r < 0)
            continue;
        int y = n->out[0];
        root[y] = r;
        if (m->t[y].last_use > m->t[r].last_use)
            m->t[r].last_use = m->t[y].last_use;
    }
}

/* Assigns every arena tensor an offset and allocates the arena. */
static int place_tensors(struct nn_model *m)
{
    struct free_list fl = {0};
    fl.off = malloc(sizeof(size_t) * (size_t)(m->n_tensors + 1));
    fl.len = malloc(sizeof(size_t) * (size_t)(m->n_tensors + 1));
    int *root = malloc(sizeof *root * (size_t)(m->n_tensors + 1));
    if (!fl.off || !fl.len || !root) {
        free(fl.off);
        free(fl.len);
        free(root);
        return AE_ENOMEM;
    }
    find_views(m, root);
    for (int i = 0; i < m->n_inputs; i++) {
        struct nn_tensor *t = &m->t[m->inputs[i]];
        t->offset = block_alloc(&fl, round_up(t->cap ? t->cap : 1));
    }
    for (int pos = 0; pos < m->n_run; pos++) {
        const struct nn_node *n = &m->nodes[m->run[pos]];
        for (int k = 0; k < n->n_out; k++) {
            struct nn_tensor *t = nn_out(m, n, k);
            if (t)
                t->offset = root[n->out[k]] != n->out[k]
                                ? m->t[root[n->out[k]]].offset
                                : block_alloc(&fl, round_up(t->cap ? t->cap : 1));
        }
        for (int k = 0; k < n->n_in + n->n_out; k++) {
            int i = k < n->n_in ? n->in[k] : n->out[k - n->n_in];
            if (i < 0 || !is_arena_tensor(&m->t[root[i]]) || m->t[root[i]].last_use != pos)
                continue;
            /* A node may read one block twice (x * x, or x and a view of x): free it once. */
            int seen = 0;
            for (int j = 0; j < k; j++) {
                int o = j < n->n_in ? n->in[j] : n->out[j - n->n_in];
                seen |= o >= 0 && root[o] == root[i];
            }
            const struct nn_tensor *t = &m->t[root[i]];
            if (!seen)
                block_free(&fl, t->offset, round_up(t->cap ? t->cap : 1));
        }
    }
    free(fl.off);
    free(fl.len);
    free(root);
    m->arena_bytes = fl.end ? fl.end : NN_ALIGN;
    m->plan_live_bytes = 0;
    if (plan_reserve(m, m->arena_bytes) != 0)
        return AE_ERANGE;
    m->arena = aligned_alloc(NN_ALIGN, m->arena_bytes);
    if (!m->arena)
        return AE_ENOMEM;
    memset(m->arena, 0, m->arena_bytes);
    for (int i = 0; i < m->n_tensors; i++)
        if (is_arena_tensor(&m->t[i]) && (m->t[i].kind == NN_T_INPUT || m->t[i].producer >= 0))
            m->t[i].data = (char *)m->arena + m->t[i].offset;
    return 0;
}

int nn_model_plan(nn_model *m, char *err, size_t errlen)
{
    return nn_model_plan_with_inputs(m, NULL, err, errlen);
}

int nn_model_plan_with_inputs(nn_model *m, const void *const *input_data, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = 0;
    if (m->planned) {
        snprintf(err, errlen, "model %s: already planned", m->label);
        return AE_ESTATE;
    }
    m->err = err;
    m->errlen = errlen;
    m->gelu = nn_vec_gelu_best();
    m->vec = nn_vec_kernels_best();
    int rc = 0;
    for (int i = 0; i < m->n_inputs && rc == 0; i++) {
        struct nn_tensor *t = &m->t[m->inputs[i]];
        if (t->rank >= 0) {
            if (tensor_bytes(t) > m->max_tensor_bytes) {
                snprintf(err, errlen, "model %s: input '%s' is larger than the tensor limit",
                         m->label, t->name);
                rc = AE_ERANGE;
            }
            continue;
        }
        const struct nn_tensor_info *d = &m->declared_in[i];
        int64_t dims[NN_MAX_RANK];
        int rank = d->rank < 0 ? 0 : d->rank;
        for (int k = 0; k < rank; k++)
            dims[k] = d->dims[k] < 0 ? 1 : d->dims[k];
        if (nn_tensor_set_shape(t, rank, dims) != 0 || tensor_bytes(t) > m->max_tensor_bytes) {
            snprintf(err, errlen, "model %s: input '%s' has a too large declared shape", m->label,
                     t->name);
            rc = AE_ERANGE;
        }
    }
    if (rc == 0)
        rc = fold_constants(m);
    if (rc == 0) {
        nn_fuse(m);
        rc = build_run_list(m);
    }
    if (rc == 0)
        rc = dry_run(m, input_data);
    if (rc == 0) {
        rc = place_tensors(m);
        if (rc == AE_ENOMEM)
            snprintf(err, errlen, "model %s: out of memory for the arena", m->label);
    }
    if (rc == 0) {
        m->planned = 1;
        /* The first run infers again so that every check runs against the arena's capacities. */
        m->reinfer = 1;
    }
    m->err = NULL;
    m->errlen = 0;
    return rc;
}

int nn_model_set_input_shape(nn_model *m, int i, int rank, const int64_t *dims, char *err,
                             size_t errlen)
{
    if (i < 0 || i >= m->n_inputs) {
        snprintf(err, errlen, "model %s: no input number %d", m->label, i);
        return AE_EINVAL;
    }
    struct nn_tensor *t = &m->t[m->inputs[i]];
    const struct nn_tensor_info *d = &m->declared_in[i];
    if (d->rank >= 0 && rank != d->rank) {
        snprintf(err, errlen, "model %s: input '%s' has rank %d, given %d", m->label, t->name,
                 d->rank, rank);
        return AE_ESHAPE;
    }
    for (int k = 0; k < rank && d->rank >= 0; k++) {
        if (d->dims[k] >= 0 && dims[k] != d->dims[k]) {
            snprintf(err, errlen,
                     "model %s: input '%s' dimension %d is %lld in the model, given %lld", m->label,
                     t->name, k, (long long)d->dims[k], (long long)dims[k]);
            return AE_ESHAPE;
        }
    }
    struct nn_tensor probe = *t;
    if (nn_tensor_set_shape(&probe, rank, dims) != 0) {
        snprintf(err, errlen, "model %s: input '%s': shape too large", m->label, t->name);
        return AE_ERANGE;
    }
    if (m->planned && (probe.rank != t->rank || tensor_bytes(&probe) > t->cap)) {
        snprintf(err, errlen,
                 "model %s: input '%s' of %zu bytes does not fit the plan (%zu bytes, rank %d)",
                 m->label, t->name, tensor_bytes(&probe), t->cap, t->rank);
        return AE_ESHAPE;
    }
    int changed = probe.rank != t->rank;
    for (int k = 0; k < rank; k++)
        changed |= probe.dims[k] != t->dims[k];
    *t = probe;
    if (changed)
        m->reinfer = 1;
    return 0;
}

void *nn_model_input_data(nn_model *m, int i)
{
    if (!m->planned || i < 0 || i >= m->n_inputs)
        return NULL;
    return m->t[m->inputs[i]].data;
}

int nn_model_run(nn_model *m, char *err, size_t errlen)
{
    if (!m->planned) {
        snprintf(err, errlen, "model %s: not planned", m->label);
        return AE_ESTATE;
    }
    m->err = err;
    m->errlen = errlen;
    int rc = 0;
    for (int pos = 0; pos < m->n_run && rc == 0; pos++) {
        struct nn_node *n = &m->nodes[m->run[pos]];
        if (m->reinfer)
            rc = n->op->infer(m, n);
        if (rc == 0)
            rc = n->op->exec(m, n);
    }
    /* After a failed re-inference the shapes are half updated: infer again next time. */
    m->reinfer = rc != 0;
    m->err = NULL;
    m->errlen = 0;
    return rc;
}

const void *nn_model_output_data(const nn_model *m, int i, struct nn_tensor_info *info)
{
    if (i < 0 || i >= m->n_outputs)
        return NULL;
    const struct nn_tensor *t = &m->t[m->outputs[i]];
    if (info)
        nn_model_output_info(m, i, info);
    return t->data;
}
