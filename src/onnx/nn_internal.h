/* Private structures of the inference engine, shared by its files.
 *
 * A model is a list of tensors and a list of nodes in execution order. Each node refers to its
 * tensors by index. Every operator has two functions: infer (output types and shapes from the
 * inputs' shapes, and from the values of small shape-like inputs) and exec (compute into the
 * already placed output buffers). Planning runs both once on zeros; afterwards only exec runs,
 * unless an input shape changed, in which case infer runs again before each exec. */
#ifndef AETHER_ONNX_INTERNAL_H
#define AETHER_ONNX_INTERNAL_H

#include <stdint.h>
#include <stddef.h>

#include "aether/error.h"
#include "aether/nn.h"

/* The largest tensor the engine will plan; protects against absurd declared shapes. */
#define NN_MAX_TENSOR_BYTES ((int64_t)256 << 20)
/* Alignment of every buffer in the arena (a cache line, enough for any SIMD load). */
#define NN_ALIGN 64
/* Integer parameters an operator may cache on its node between infer and exec. */
#define NN_MAX_PARAMS 32

enum nn_tensor_kind {
    NN_T_ACTIVATION, /* computed by a node, lives in the arena */
    NN_T_CONST,      /* initializer, Constant node or folded: owned memory, never changes */
    NN_T_INPUT,      /* graph input, lives in the arena */
};

struct nn_tensor {
    char *name;
    int dtype;
    int rank;
    int64_t dims[NN_MAX_RANK];
    int64_t numel;
    void *data;
    size_t cap; /* bytes planned for it */
    int kind;
    int is_output; /* a graph output: never reused */
    int producer;  /* node index, or -1 */
    int consumers; /* number of node inputs reading it */
    int last_use;  /* position in the run list of the last reader (planning) */
    size_t offset; /* in the arena */
};

/* One attribute as stored in the file, copied out of the protobuf. */
struct nn_attr {
    char *name;
    int type; /* ONNX AttributeType: 1 float, 2 int, 3 string, 4 tensor, 6 floats, 7 ints */
    float f;
    int64_t i;
    char *s; /* a string, or a list of strings joined with ',' (type 8) */
    int n;   /* number of ints */
    int64_t *ints;
    int n_floats;
    float *floats;
    int tensor; /* index of a constant tensor, or -1 */
};

struct nn_model;
struct nn_node;

struct nn_op {
    const char *name;
    int min_opset; /* oldest version whose semantics we implement */
    int (*infer)(struct nn_model *m, struct nn_node *n);
    int (*exec)(struct nn_model *m, struct nn_node *n);
    int shape_only; /* exec reads only its inputs' shapes (Shape): foldable once shapes are known */
    int view;       /* output 0 is input 0's data unchanged (Reshape): planned on the same memory */
};

enum nn_activation { NN_ACT_NONE, NN_ACT_GELU };

struct nn_node {
    const struct nn_op *op;
    char *name;
    char *op_type;
    int opset;
    int n_in, n_out;
    int *in; /* tensor index, -1 for an omitted optional input */
    int *out;
    int n_attr;
    struct nn_attr *attr;
    int dead; /* folded into constants or fused into another node */
    /* Filled by infer, read by exec. */
    int64_t p[NN_MAX_PARAMS];
    float f[4];
    int act; /* activation fused after the node (enum nn_activation) */
    /* LayerNormalization fused from its decomposed form: epsilon from the graph, not an attribute.
     */
    float fused_eps;
    int has_fused_eps;
    /* A constant B operand of MatMul/Gemm packed once at planning (nn_sgemm_pack_b), or NULL.
     * Owned by the node, freed with the model. */
    float *packed;
};

struct nn_model {
    char *label;
    int64_t opset, ir_version;
    long long file_bytes;
    int n_tensors, cap_tensors;
    struct nn_tensor *t;
    int *hash; /* open addressing over tensor names, size hash_cap */
    int hash_cap;
    int n_nodes;
    struct nn_node *nodes;
    int n_inputs, n_outputs;
    int *inputs, *outputs;
    struct nn_tensor_info *declared_in, *declared_out; /* as in the file */
    int n_meta;
    char **meta_key, **meta_value;
    int64_t params;
    size_t weight_bytes;     /* constants, packed copies of product operands included */
    size_t max_tensor_bytes; /* planning refuses larger tensors */
    size_t max_plan_bytes;   /* weights + planning tensors + arena may not pass this */
    size_t plan_live_bytes;  /* tensors the planner holds right now (outside the weights) */
    /* After planning. */
    int planned;
    int reinfer; /* an input shape changed since the last run */
    int *run;    /* node indices to execute, in order */
    int n_run;
    void *arena;
    size_t arena_bytes;
    /* GELU kernel for this CPU (vec.h), chosen at planning. */
    void (*gelu)(float *x, int64_t n);
    /* exp, tanh, sigmoid, erf and softmax kernels for this CPU (vec.h), chosen at planning. */
    const struct nn_vec_kernels *vec;
    /* Error buffer of the call in progress. */
    char *err;
    size_t errlen;
};

/* --- model.c --- */
/* Writes "model LABEL: node NAME (OP): message" into m->err and returns code. */
int nn_node_fail(struct nn_model *m, const struct nn_node *n, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
/* Index of the tensor called name, or -1. */
int nn_tensor_find(const struct nn_model *m, const char *name);

/* --- tensor.c --- */
/* Bytes of one element of dtype, or 0 for an unsupported type. */
size_t nn_dtype_size(int dtype);
/* Sets rank/dims/numel; returns 0 or AE_ERANGE when the size is negative or too large. */
int nn_tensor_set_shape(struct nn_tensor *t, int rank, const int64_t *dims);
/* Converts a protobuf TensorProto (passed as const void * to keep protobuf out of this header)
 * into freshly allocated data in *data (caller frees with free()), type and shape in *t (name
 * untouched). Returns 0 or an AE_E* code with a message naming the tensor in err. */
int nn_tensor_from_proto(const void *proto, struct nn_tensor *t, void **data, char *err,
                         size_t errlen);
/* Reads element i of a int64/int32/bool tensor as int64. */
int64_t nn_tensor_int(const struct nn_tensor *t, int64_t i);
/* Reads element i of any supported tensor as double. */
double nn_tensor_double(const struct nn_tensor *t, int64_t i);

/* --- ops.c: operator table --- */
/* The operator called op_type in the default domain, or NULL. */
const struct nn_op *nn_op_find(const char *op_type);

/* --- helpers for operators (ops_util.c) --- */
struct nn_tensor *nn_in(struct nn_model *m, const struct nn_node *n, int i);  /* NULL if absent */
struct nn_tensor *nn_out(struct nn_model *m, const struct nn_node *n, int i); /* NULL if absent */
const struct nn_attr *nn_attr_get(const struct nn_node *n, const char *name);
int64_t nn_attr_int(const struct nn_node *n, const char *name, int64_t dflt);
float nn_attr_float(const struct nn_node *n, const char *name, float dflt);
/* Normalises a possibly negative axis against rank; -1 when out of range. */
int nn_axis(int64_t axis, int rank);
/* Numpy broadcast of shapes a and b into out; returns 0 or AE_ESHAPE. */
int nn_broadcast_shape(int ra, const int64_t *a, int rb, const int64_t *b, int *rout, int64_t *out);
/* Makes output i a tensor of dtype and shape; checks the plan's capacity once planned. */
int nn_set_output(struct nn_model *m, const struct nn_node *n, int i, int dtype, int rank,
                  const int64_t *dims);
/* Requires input i to be present and its values known (a constant or computed earlier). */
int nn_need_input(struct nn_model *m, const struct nn_node *n, int i);

/* Row kernel for nn_broadcast_run: out[k] = f(in0[k*s0], in1[k*s1], ...) for k < len, where each
 * stride s is 0 (broadcast scalar) or 1. */
typedef void (*nn_row_fn)(void *out, const void *const *in, const int *stride, int64_t len,
                          const void *ctx);
/* Applies row over the broadcast of n_in inputs into out (shape already set). Allocates nothing. */
void nn_broadcast_run(const struct nn_tensor *out, int n_in, const struct nn_tensor *const *in,
                      nn_row_fn row, const void *ctx);

/* --- op implementations, one registration function per file --- */
extern const struct nn_op nn_ops_elementwise[];
extern const struct nn_op nn_ops_matmul[];
extern const struct nn_op nn_ops_norm[];
extern const struct nn_op nn_ops_shape[];
extern const struct nn_op nn_ops_conv[];
extern const struct nn_op nn_ops_pad_scan[];
extern const struct nn_op nn_ops_rnn[];

/* --- ops_conv.c --- */
/* Folds BatchNormalization bn (inference, ch constant float statistics) into node (Conv, Gemm or
 * MatMul+Add: input 1 the weight, optional input 2 a bias of ch floats) whose output only bn
 * reads and whose output channel c comes from the weight's elements [., c, .] when it is viewed
 * as [outer, ch, inner]. Rewrites the weight and bn's beta in place (each must be a constant with
 * no other reader), makes that beta node's bias input, node writes bn's output and bn dies.
 * Returns 1 when folded, 0 when a condition does not hold (nothing changed). Planning time. */
int nn_fold_batchnorm(struct nn_model *m, struct nn_node *node, struct nn_node *bn, int64_t outer,
                      int64_t ch, int64_t inner);

/* BatchNormalization over the last axis of its input, constant statistics (made by fuse.c from
 * Transpose -> BatchNormalization -> Transpose, as PyTorch exports BatchNorm1d over tokens). */
extern const struct nn_op nn_op_batchnorm_last;

/* --- fuse.c --- */
/* Rewrites known patterns (exported GELU, MatMul + bias [+ GELU]) into fused nodes. */
void nn_fuse(struct nn_model *m);
/* The fused operators (not reachable from files). */
extern const struct nn_op nn_op_gelu;
extern const struct nn_op nn_op_matmul_bias;
/* Makes a MatMul (or MatMul+Add) node read its first input transposed in the last two axes. */
void nn_matmul_set_trans_a(struct nn_node *n);

#endif
