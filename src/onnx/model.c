/* Model loading: ONNX protobuf -> tensors and nodes, checked.
 *
 * The file is decoded by the protobuf-c reader generated from the system's onnx.proto. Everything
 * the engine keeps is copied out (names, attributes, weights), so the decoded message is freed
 * before loading returns. All that can be known from the file alone is checked here: operator
 * support and opset, tensor types, names that nothing defines, external data. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>

#include "aether/error.h"
#include "aether/fileio.h"
#include "nn_internal.h"
#include "onnx/onnx.pb-c.h"

/* Oldest and newest default-domain opsets accepted. Operators check their own versions. */
#define NN_OPSET_MIN 1
#define NN_OPSET_MAX 21

/* The plan limit of models loaded from now on (nn_set_plan_limit). */
static _Atomic size_t default_plan_bytes = NN_DEFAULT_PLAN_BYTES;

static int fail(struct nn_model *m, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Writes "model LABEL: [node 'NAME' (OP): ]message" into the error buffer of the call. */
static int vfail(struct nn_model *m, const struct nn_node *n, int code, const char *fmt, va_list ap)
{
    if (!m->err || m->errlen == 0)
        return code;
    size_t k = ae_errf(m->err, m->errlen, 0, "model %s: ", m->label);
    if (n)
        k = ae_errf(m->err, m->errlen, k,
                    "node '%s' (%s): ", n->name && n->name[0] ? n->name : "(unnamed)",
                    n->op ? n->op->name : n->op_type);
    ae_verrf(m->err, m->errlen, k, fmt, ap);
    return code;
}

static int fail(struct nn_model *m, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(m, NULL, code, fmt, ap);
    va_end(ap);
    return code;
}

int nn_node_fail(struct nn_model *m, const struct nn_node *n, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(m, n, code, fmt, ap);
    va_end(ap);
    return code;
}

static char *dup_str(const char *s)
{
    if (!s)
        s = "";
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* FNV-1a over the name; the table is rebuilt when it gets half full. */
static unsigned hash_name(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

int nn_tensor_find(const struct nn_model *m, const char *name)
{
    if (!m->hash_cap)
        return -1;
    unsigned mask = (unsigned)m->hash_cap - 1;
    for (unsigned h = hash_name(name) & mask;; h = (h + 1) & mask) {
        int i = m->hash[h];
        if (i < 0)
            return -1;
        if (strcmp(m->t[i].name, name) == 0)
            return i;
    }
}

static int hash_insert_all(struct nn_model *m, int cap)
{
    int *h = malloc(sizeof *h * (size_t)cap);
    if (!h)
        return AE_ENOMEM;
    for (int i = 0; i < cap; i++)
        h[i] = -1;
    free(m->hash);
    m->hash = h;
    m->hash_cap = cap;
    unsigned mask = (unsigned)cap - 1;
    for (int i = 0; i < m->n_tensors; i++) {
        unsigned k = hash_name(m->t[i].name) & mask;
        while (h[k] >= 0)
            k = (k + 1) & mask;
        h[k] = i;
    }
    return 0;
}

/* Adds a tensor called name; returns its index or a negative code (duplicate, memory). */
static int add_tensor(struct nn_model *m, const char *name, int kind)
{
    if (nn_tensor_find(m, name) >= 0)
        return fail(m, AE_EPARSE, "tensor name '%s' is defined twice", name);
    if (m->n_tensors == m->cap_tensors) {
        int cap = m->cap_tensors ? m->cap_tensors * 2 : 64;
        struct nn_tensor *t = realloc(m->t, sizeof *t * (size_t)cap);
        if (!t)
            return fail(m, AE_ENOMEM, "out of memory");
        m->t = t;
        m->cap_tensors = cap;
    }
    struct nn_tensor *t = &m->t[m->n_tensors];
    memset(t, 0, sizeof *t);
    t->name = dup_str(name);
    if (!t->name)
        return fail(m, AE_ENOMEM, "out of memory");
    t->kind = kind;
    t->producer = -1;
    t->rank = -1;
    m->n_tensors++;
    if (m->n_tensors * 2 > m->hash_cap &&
        hash_insert_all(m, m->hash_cap ? m->hash_cap * 2 : 256) != 0)
        return fail(m, AE_ENOMEM, "out of memory");
    if (m->n_tensors * 2 <= m->hash_cap) {
        unsigned mask = (unsigned)m->hash_cap - 1;
        unsigned k = hash_name(name) & mask;
        while (m->hash[k] >= 0 && m->hash[k] != m->n_tensors - 1)
            k = (k + 1) & mask;
        m->hash[k] = m->n_tensors - 1;
    }
    return m->n_tensors - 1;
}

/* Makes tensor index idx a constant from a TensorProto. */
static int set_const_from_proto(struct nn_model *m, int idx, const Onnx__TensorProto *p)
{
    char msg[256];
    void *data;
    struct nn_tensor *t = &m->t[idx];
    int rc = nn_tensor_from_proto(p, t, &data, msg, sizeof msg);
    if (rc != 0)
        return fail(m, rc, "%s", msg);
    t->data = data;
    t->kind = NN_T_CONST;
    t->cap = (size_t)t->numel * nn_dtype_size(t->dtype);
    m->weight_bytes += t->cap;
    return 0;
}

static void declared_info(const Onnx__ValueInfoProto *v, struct nn_tensor_info *info)
{
    memset(info, 0, sizeof *info);
    info->rank = -1;
    const Onnx__TypeProto *tp = v->type;
    if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
        return;
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    info->dtype = tt->has_elem_type ? tt->elem_type : 0;
    if (!tt->shape || tt->shape->n_dim > NN_MAX_RANK)
        return;
    info->rank = (int)tt->shape->n_dim;
    for (size_t i = 0; i < tt->shape->n_dim; i++) {
        const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
        info->dims[i] = d && d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE
                            ? d->dim_value
                            : -1;
        if (info->dims[i] < 0)
            info->dims[i] = -1;
    }
}

static int copy_attr(struct nn_model *m, const Onnx__NodeProto *np, const Onnx__AttributeProto *a,
                     struct nn_attr *out)
{
    memset(out, 0, sizeof *out);
    out->tensor = -1;
    out->name = dup_str(a->name);
    if (!out->name)
        return fail(m, AE_ENOMEM, "out of memory");
    out->type = a->has_type ? (int)a->type : 0;
    out->f = a->f;
    out->i = a->i;
    if (a->has_s) {
        out->s = malloc(a->s.len + 1);
        if (!out->s)
            return fail(m, AE_ENOMEM, "out of memory");
        if (a->s.len)
            memcpy(out->s, a->s.data, a->s.len);
        out->s[a->s.len] = 0;
    } else if (a->n_strings) { /* a list of strings (RNN activations): joined with ',' */
        size_t len = 0;
        for (size_t i = 0; i < a->n_strings; i++)
            len += a->strings[i].len + 1;
        out->s = malloc(len);
        if (!out->s)
            return fail(m, AE_ENOMEM, "out of memory");
        char *w = out->s;
        for (size_t i = 0; i < a->n_strings; i++) {
            for (size_t k = 0; k < a->strings[i].len; k++) /* a ',' inside a name would split it */
                *w++ = a->strings[i].data[k] == ',' ? ' ' : (char)a->strings[i].data[k];
            *w++ = i + 1 < a->n_strings ? ',' : 0;
        }
    }
    if (a->n_ints) {
        out->ints = malloc(sizeof *out->ints * a->n_ints);
        if (!out->ints)
            return fail(m, AE_ENOMEM, "out of memory");
        memcpy(out->ints, a->ints, sizeof *out->ints * a->n_ints);
        out->n = (int)a->n_ints;
    }
    if (a->n_floats) {
        out->floats = malloc(sizeof *out->floats * a->n_floats);
        if (!out->floats)
            return fail(m, AE_ENOMEM, "out of memory");
        memcpy(out->floats, a->floats, sizeof *out->floats * a->n_floats);
        out->n_floats = (int)a->n_floats;
    }
    if (a->t) {
        /* An attribute tensor becomes an anonymous constant. */
        char name[64];
        snprintf(name, sizeof name, "\x01attr%d", m->n_tensors);
        int idx = add_tensor(m, name, NN_T_CONST);
        if (idx < 0)
            return idx;
        int rc = set_const_from_proto(m, idx, a->t);
        if (rc != 0)
            return rc;
        out->tensor = idx;
    }
    if (a->g || a->n_graphs || a->sparse_tensor)
        return fail(m, AE_EUNSUPPORTED,
                    "node '%s' (%s): attribute '%s' holds a graph or sparse "
                    "tensor, which is not supported",
                    np->name ? np->name : "", np->op_type, out->name);
    return 0;
}

/* A Constant node becomes a constant tensor directly. */
static int load_constant(struct nn_model *m, const Onnx__NodeProto *np)
{
    if (np->n_output != 1 || np->n_input != 0 || np->n_attribute != 1)
        return fail(m, AE_EPARSE, "Constant node '%s' needs one output and one value attribute",
                    np->name ? np->name : "");
    int idx = add_tensor(m, np->output[0], NN_T_CONST);
    if (idx < 0)
        return idx;
    const Onnx__AttributeProto *a = np->attribute[0];
    const char *an = a->name ? a->name : "";
    struct nn_tensor *t = &m->t[idx];
    if (strcmp(an, "value") == 0 && a->t)
        return set_const_from_proto(m, idx, a->t);
    int64_t n = 1;
    int rank = 0, dtype;
    if (strcmp(an, "value_float") == 0) {
        dtype = NN_FLOAT;
    } else if (strcmp(an, "value_int") == 0) {
        dtype = NN_INT64;
    } else if (strcmp(an, "value_floats") == 0) {
        dtype = NN_FLOAT, rank = 1, n = (int64_t)a->n_floats;
    } else if (strcmp(an, "value_ints") == 0) {
        dtype = NN_INT64, rank = 1, n = (int64_t)a->n_ints;
    } else {
        return fail(m, AE_EUNSUPPORTED, "Constant node '%s': attribute '%s' is not supported",
                    np->name ? np->name : "", an);
    }
    t->dtype = dtype;
    nn_tensor_set_shape(t, rank, &n);
    t->cap = (size_t)n * nn_dtype_size(dtype);
    t->data = calloc(n ? (size_t)n : 1, nn_dtype_size(dtype));
    if (!t->data)
        return fail(m, AE_ENOMEM, "out of memory");
    m->weight_bytes += t->cap;
    if (strcmp(an, "value_float") == 0)
        *(float *)t->data = a->f;
    else if (strcmp(an, "value_int") == 0)
        *(int64_t *)t->data = a->i;
    else if (dtype == NN_FLOAT && n)
        memcpy(t->data, a->floats, (size_t)n * sizeof(float));
    else if (n)
        memcpy(t->data, a->ints, (size_t)n * sizeof(int64_t));
    return 0;
}

/* Why the engine cannot run node np: writes the reason ("unsupported operator OP (opset N) in node
 * 'NAME'") into why and returns 1, or returns 0 when the node is supported. */
static int unsupported_reason(const struct nn_model *m, const Onnx__NodeProto *np, char *why,
                              size_t whylen)
{
    const char *op_type = np->op_type ? np->op_type : "";
    const char *domain = np->domain ? np->domain : "";
    const char *name = np->name && np->name[0] ? np->name : "(unnamed)";
    if (domain[0] && strcmp(domain, "ai.onnx") != 0) {
        snprintf(why, whylen, "unsupported operator %s (domain %s) in node '%s'", op_type, domain,
                 name);
        return 1;
    }
    if (strcmp(op_type, "Constant") == 0)
        return 0;
    const struct nn_op *op = nn_op_find(op_type);
    if (!op) {
        snprintf(why, whylen, "unsupported operator %s (opset %lld) in node '%s'", op_type,
                 (long long)m->opset, name);
        return 1;
    }
    if (m->opset < op->min_opset) {
        snprintf(why, whylen,
                 "unsupported operator %s (opset %lld; this engine implements it from opset %d) "
                 "in node '%s'",
                 op_type, (long long)m->opset, op->min_opset, name);
        return 1;
    }
    return 0;
}

/* Checks every node's operator before any is loaded, so that the error lists all the unsupported
 * nodes at once: "N unsupported nodes: REASON; REASON; ..." (one node: just its reason). When the
 * error buffer is too small the list ends with "; ... (K more)". */
static int check_operators(struct nn_model *m, const Onnx__GraphProto *g)
{
    size_t bad = 0;
    char why[512];
    for (size_t i = 0; i < g->n_node; i++)
        bad += (size_t)unsupported_reason(m, g->node[i], why, sizeof why);
    if (bad == 0)
        return 0;
    if (!m->err || m->errlen == 0)
        return AE_EUNSUPPORTED;
    size_t len = ae_errf(m->err, m->errlen, 0, "model %s: ", m->label);
    if (bad > 1)
        len = ae_errf(m->err, m->errlen, len, "%zu unsupported nodes: ", bad);
    const size_t tail = 32; /* room for "; ... (N more)" */
    size_t listed = 0;
    for (size_t i = 0; i < g->n_node; i++) {
        if (!unsupported_reason(m, g->node[i], why, sizeof why))
            continue;
        size_t need = strlen(why) + (listed ? 2 : 0);
        int last = listed + 1 == bad;
        if (len + need + (last ? 0 : tail) >= m->errlen)
            break;
        len = ae_errf(m->err, m->errlen, len, "%s%s", listed ? "; " : "", why);
        listed++;
    }
    if (listed < bad)
        ae_errf(m->err, m->errlen, len, "%s... (%zu more)", listed ? "; " : "", bad - listed);
    return AE_EUNSUPPORTED;
}

static int is_recurrent(const char *op_type)
{
    return strcmp(op_type, "RNN") == 0 || strcmp(op_type, "GRU") == 0 ||
           strcmp(op_type, "LSTM") == 0;
}

static int load_node(struct nn_model *m, const Onnx__NodeProto *np)
{
    const char *op_type = np->op_type ? np->op_type : "";
    if (strcmp(op_type, "Constant") == 0)
        return load_constant(m, np);
    const struct nn_op *op = nn_op_find(op_type); /* check_operators found it */
    struct nn_node *n = &m->nodes[m->n_nodes++];
    memset(n, 0, sizeof *n);
    n->op = op;
    n->opset = (int)m->opset;
    n->name = dup_str(np->name);
    n->op_type = dup_str(op_type);
    n->in = calloc(np->n_input ? np->n_input : 1, sizeof *n->in);
    n->out = calloc(np->n_output ? np->n_output : 1, sizeof *n->out);
    n->attr = calloc(np->n_attribute ? np->n_attribute : 1, sizeof *n->attr);
    if (!n->name || !n->op_type || !n->in || !n->out || !n->attr)
        return fail(m, AE_ENOMEM, "out of memory");
    if (np->n_input > 1000000 || np->n_output > 1000000)
        return fail(m, AE_ERANGE, "node '%s' has too many inputs or outputs", n->name);
    for (size_t i = 0; i < np->n_attribute; i++) {
        int rc = copy_attr(m, np, np->attribute[i], &n->attr[n->n_attr]);
        n->n_attr++;
        if (rc != 0)
            return rc;
    }
    for (size_t i = 0; i < np->n_input; i++) {
        const char *in = np->input[i];
        n->in[i] = -1;
        n->n_in++;
        if (!in || !in[0])
            continue; /* omitted optional input */
        int idx = nn_tensor_find(m, in);
        if (idx < 0)
            return fail(m, AE_EPARSE,
                        "node '%s' (%s) reads tensor '%s', which no earlier node, initializer or "
                        "input defines",
                        n->name, op_type, in);
        n->in[i] = idx;
        m->t[idx].consumers++;
    }
    /* The recurrent layers may omit their first output (Y) and keep only the last state. */
    int any_output = 0;
    for (size_t i = 0; i < np->n_output; i++)
        any_output |= np->output[i] && np->output[i][0] && (i == 0 || is_recurrent(op_type));
    if (!any_output)
        return fail(m, AE_EPARSE, "node '%s' (%s) has no output", n->name, op_type);
    for (size_t i = 0; i < np->n_output; i++) {
        const char *out = np->output[i];
        n->out[i] = -1;
        n->n_out++;
        if (!out || !out[0])
            continue;
        int idx = add_tensor(m, out, NN_T_ACTIVATION);
        if (idx < 0)
            return idx;
        n->out[i] = idx;
        m->t[idx].producer = (int)(n - m->nodes);
    }
    return 0;
}

/* The opset of the default ONNX domain, which must be one the engine implements. */
static int load_opset(struct nn_model *m, const Onnx__ModelProto *mp)
{
    m->opset = -1;
    for (size_t i = 0; i < mp->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = mp->opset_import[i];
        if (o && (!o->domain || !o->domain[0] || strcmp(o->domain, "ai.onnx") == 0))
            m->opset = o->version;
    }
    if (m->opset < 0)
        return fail(m, AE_EUNSUPPORTED,
                    "the file declares no opset for the default ONNX domain "
                    "(only default-domain operators are supported)");
    if (m->opset < NN_OPSET_MIN || m->opset > NN_OPSET_MAX)
        return fail(m, AE_EUNSUPPORTED, "opset %lld is not supported (accepted: %d to %d)",
                    (long long)m->opset, NN_OPSET_MIN, NN_OPSET_MAX);
    return 0;
}

static int load_initializers(struct nn_model *m, const Onnx__GraphProto *g)
{
    for (size_t i = 0; i < g->n_initializer; i++) {
        const Onnx__TensorProto *p = g->initializer[i];
        int idx = add_tensor(m, p->name ? p->name : "", NN_T_CONST);
        if (idx < 0)
            return idx;
        int rc = set_const_from_proto(m, idx, p);
        if (rc != 0)
            return rc;
        m->params += m->t[idx].numel;
    }
    return 0;
}

/* The arrays of inputs, outputs (with their declared infos) and nodes, sized for the graph. */
static int alloc_graph_arrays(struct nn_model *m, const Onnx__GraphProto *g)
{
    m->inputs = calloc(g->n_input ? g->n_input : 1, sizeof *m->inputs);
    m->declared_in = calloc(g->n_input ? g->n_input : 1, sizeof *m->declared_in);
    m->outputs = calloc(g->n_output ? g->n_output : 1, sizeof *m->outputs);
    m->declared_out = calloc(g->n_output ? g->n_output : 1, sizeof *m->declared_out);
    m->nodes = calloc(g->n_node ? g->n_node : 1, sizeof *m->nodes);
    if (!m->inputs || !m->declared_in || !m->outputs || !m->declared_out || !m->nodes)
        return fail(m, AE_ENOMEM, "out of memory");
    return 0;
}

static int load_inputs(struct nn_model *m, const Onnx__GraphProto *g)
{
    for (size_t i = 0; i < g->n_input; i++) {
        const Onnx__ValueInfoProto *v = g->input[i];
        const char *name = v->name ? v->name : "";
        /* An input with an initializer of the same name is a constant with a default (IR < 4). */
        if (nn_tensor_find(m, name) >= 0)
            continue;
        struct nn_tensor_info *info = &m->declared_in[m->n_inputs];
        declared_info(v, info);
        if (!v->type || v->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE)
            return fail(m, AE_EUNSUPPORTED,
                        "input '%s' is not a tensor (sequences, maps and "
                        "optional values are not supported)",
                        name);
        if (nn_dtype_size(info->dtype) == 0)
            return fail(m, AE_EUNSUPPORTED,
                        "input '%s' has element type %s, which is not supported", name,
                        nn_dtype_name(info->dtype));
        int idx = add_tensor(m, name, NN_T_INPUT);
        if (idx < 0)
            return idx;
        m->t[idx].dtype = info->dtype;
        m->inputs[m->n_inputs++] = idx;
    }
    return 0;
}

static int load_outputs(struct nn_model *m, const Onnx__GraphProto *g)
{
    for (size_t i = 0; i < g->n_output; i++) {
        const Onnx__ValueInfoProto *v = g->output[i];
        const char *name = v->name ? v->name : "";
        int idx = nn_tensor_find(m, name);
        if (idx < 0)
            return fail(m, AE_EPARSE, "graph output '%s' is not produced by any node", name);
        struct nn_tensor_info *info = &m->declared_out[m->n_outputs];
        declared_info(v, info);
        if (v->type && v->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE)
            return fail(m, AE_EUNSUPPORTED,
                        "output '%s' is not a tensor (sequences, maps and "
                        "optional values are not supported)",
                        name);
        m->t[idx].is_output = 1;
        m->outputs[m->n_outputs++] = idx;
    }
    return 0;
}

static int load_graph(struct nn_model *m, const Onnx__ModelProto *mp)
{
    const Onnx__GraphProto *g = mp->graph;
    if (!g)
        return fail(m, AE_EPARSE, "the file holds no graph (not an ONNX model?)");
    int rc = load_opset(m, mp);
    if (rc != 0)
        return rc;
    m->ir_version = mp->ir_version;
    if (g->n_sparse_initializer)
        return fail(m, AE_EUNSUPPORTED, "sparse initializers are not supported");
    if ((rc = check_operators(m, g)) != 0 || (rc = load_initializers(m, g)) != 0 ||
        (rc = alloc_graph_arrays(m, g)) != 0 || (rc = load_inputs(m, g)) != 0)
        return rc;
    for (size_t i = 0; i < g->n_node; i++)
        if ((rc = load_node(m, g->node[i])) != 0)
            return rc;
    if ((rc = load_outputs(m, g)) != 0)
        return rc;
    for (int i = 0; i < m->n_inputs; i++)
        m->declared_in[i].name = m->t[m->inputs[i]].name;
    for (int i = 0; i < m->n_outputs; i++)
        m->declared_out[i].name = m->t[m->outputs[i]].name;
    if (m->n_outputs == 0)
        return fail(m, AE_EPARSE, "the graph has no outputs");
    return 0;
}

static int load_metadata(struct nn_model *m, const Onnx__ModelProto *mp)
{
    size_t n = mp->n_metadata_props;
    m->meta_key = calloc(n ? n : 1, sizeof(char *));
    m->meta_value = calloc(n ? n : 1, sizeof(char *));
    if (!m->meta_key || !m->meta_value)
        return fail(m, AE_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const Onnx__StringStringEntryProto *e = mp->metadata_props[i];
        m->meta_key[i] = dup_str(e->key);
        m->meta_value[i] = dup_str(e->value);
        m->n_meta++;
        if (!m->meta_key[i] || !m->meta_value[i])
            return fail(m, AE_ENOMEM, "out of memory");
    }
    return 0;
}

int nn_model_load_buffer(const void *data, size_t len, const char *label, nn_model **out, char *err,
                         size_t errlen)
{
    *out = NULL;
    if (err && errlen)
        err[0] = 0;
    struct nn_model *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, errlen, "model %s: out of memory", label ? label : "(memory)");
        return AE_ENOMEM;
    }
    m->label = dup_str(label ? label : "(memory)");
    m->max_tensor_bytes = (size_t)NN_MAX_TENSOR_BYTES;
    m->max_plan_bytes = atomic_load(&default_plan_bytes);
    m->err = err;
    m->errlen = errlen;
    m->file_bytes = (long long)len;
    if (!m->label) {
        free(m);
        snprintf(err, errlen, "model: out of memory");
        return AE_ENOMEM;
    }
    int rc;
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, len, data);
    if (!mp) {
        rc = fail(m, AE_EPARSE,
                  "truncated or corrupt protobuf (%zu bytes): not a readable ONNX model", len);
    } else {
        rc = load_graph(m, mp);
        if (rc == 0)
            rc = load_metadata(m, mp);
        onnx__model_proto__free_unpacked(mp, NULL);
    }
    m->err = NULL;
    m->errlen = 0;
    if (rc != 0) {
        nn_model_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

int nn_model_load_file(const char *path, nn_model **out, char *err, size_t errlen)
{
    *out = NULL;
    char *buf;
    size_t len;
    int rc = ae_read_file(path, &buf, &len, NULL, 0);
    if (rc != 0) {
        snprintf(err, errlen, "model %s: %s", path,
                 rc == AE_ENOENT   ? "File not found"
                 : rc == AE_ENOMEM ? "out of memory (file too large?)"
                                   : "cannot read the file");
        return rc;
    }
    rc = nn_model_load_buffer(buf, len, path, out, err, errlen);
    free(buf);
    return rc;
}

void nn_model_free(nn_model *m)
{
    if (!m)
        return;
    for (int i = 0; i < m->n_tensors; i++) {
        if (m->t[i].kind == NN_T_CONST)
            free(m->t[i].data);
        free(m->t[i].name);
    }
    for (int i = 0; i < m->n_nodes; i++) {
        struct nn_node *n = &m->nodes[i];
        for (int a = 0; a < n->n_attr; a++) {
            free(n->attr[a].name);
            free(n->attr[a].s);
            free(n->attr[a].ints);
            free(n->attr[a].floats);
        }
        free(n->attr);
        free(n->packed);
        free(n->in);
        free(n->out);
        free(n->name);
        free(n->op_type);
    }
    for (int i = 0; i < m->n_meta; i++) {
        free(m->meta_key[i]);
        free(m->meta_value[i]);
    }
    free(m->meta_key);
    free(m->meta_value);
    free(m->nodes);
    free(m->t);
    free(m->hash);
    free(m->inputs);
    free(m->outputs);
    free(m->declared_in);
    free(m->declared_out);
    free(m->run);
    free(m->arena);
    free(m->label);
    free(m);
}

int nn_model_input_count(const nn_model *m)
{
    return m->n_inputs;
}

int nn_model_output_count(const nn_model *m)
{
    return m->n_outputs;
}

int nn_model_input_index(const nn_model *m, const char *name)
{
    for (int i = 0; i < m->n_inputs; i++)
        if (strcmp(m->t[m->inputs[i]].name, name) == 0)
            return i;
    return -1;
}

int nn_model_output_index(const nn_model *m, const char *name)
{
    for (int i = 0; i < m->n_outputs; i++)
        if (strcmp(m->t[m->outputs[i]].name, name) == 0)
            return i;
    return -1;
}

static void current_info(const struct nn_tensor *t, struct nn_tensor_info *out)
{
    out->name = t->name;
    out->dtype = t->dtype;
    out->rank = t->rank;
    for (int d = 0; d < t->rank; d++)
        out->dims[d] = t->dims[d];
}

/* Info of entry i of a graph's inputs or outputs (tensor indices idx, file declarations decl). */
static int io_info(const nn_model *m, const int *idx, const struct nn_tensor_info *decl, int n,
                   int i, struct nn_tensor_info *out)
{
    if (i < 0 || i >= n)
        return AE_EINVAL;
    if (m->planned)
        current_info(&m->t[idx[i]], out);
    else
        *out = decl[i];
    return 0;
}

int nn_model_input_info(const nn_model *m, int i, struct nn_tensor_info *out)
{
    return io_info(m, m->inputs, m->declared_in, m->n_inputs, i, out);
}

int nn_model_output_info(const nn_model *m, int i, struct nn_tensor_info *out)
{
    return io_info(m, m->outputs, m->declared_out, m->n_outputs, i, out);
}

int64_t nn_model_opset(const nn_model *m)
{
    return m->opset;
}

int64_t nn_model_parameter_count(const nn_model *m)
{
    return m->params;
}

int nn_model_metadata_count(const nn_model *m)
{
    return m->n_meta;
}

int nn_model_metadata_at(const nn_model *m, int i, const char **key, const char **value)
{
    if (i < 0 || i >= m->n_meta)
        return AE_EINVAL;
    *key = m->meta_key[i];
    *value = m->meta_value[i];
    return 0;
}

const char *nn_model_metadata(const nn_model *m, const char *key)
{
    for (int i = 0; i < m->n_meta; i++)
        if (strcmp(m->meta_key[i], key) == 0)
            return m->meta_value[i];
    return NULL;
}

void nn_model_set_plan_limit(nn_model *m, size_t max_bytes)
{
    m->max_plan_bytes = max_bytes ? max_bytes : NN_DEFAULT_PLAN_BYTES;
}

void nn_set_plan_limit(size_t max_bytes)
{
    atomic_store(&default_plan_bytes, max_bytes ? max_bytes : NN_DEFAULT_PLAN_BYTES);
}

void nn_model_set_tensor_limit(nn_model *m, size_t max_bytes)
{
    m->max_tensor_bytes =
        max_bytes < (size_t)NN_MAX_TENSOR_BYTES ? max_bytes : (size_t)NN_MAX_TENSOR_BYTES;
}

int nn_model_node_count(const nn_model *m)
{
    return m->n_nodes;
}

int nn_model_run_count(const nn_model *m)
{
    return m->planned ? m->n_run : 0;
}

size_t nn_model_arena_bytes(const nn_model *m)
{
    return m->arena_bytes;
}

size_t nn_model_weight_bytes(const nn_model *m)
{
    return m->weight_bytes;
}
