/* The inference engine: load an ONNX model, plan its memory once, run it without allocating.
 *
 * Life of a model: nn_model_load_file() parses and checks the file (operators, tensors, names);
 * nn_model_set_input_shape() fixes the shape of each graph input (symbolic dimensions such as a
 * dynamic batch must be given); nn_model_plan() infers every shape, folds constants, fuses
 * operators and places every intermediate tensor in one arena; then fill nn_model_input_data()
 * and call nn_model_run() as often as needed. A run allocates nothing. Inputs may later be given a
 * smaller shape (e.g. a smaller batch) without re-planning, as long as every tensor still fits.
 *
 * Errors are values (AE_E* from aether/error.h) with a message naming the file and the problem.
 * A model is not thread-safe; use one per thread. */
#ifndef AETHER_NN_H
#define AETHER_NN_H

#include <stddef.h>
#include <stdint.h>

#include "aether/predictor.h"

#define NN_MAX_RANK 8

/* Element types, numbered as ONNX's TensorProto.DataType. */
enum nn_dtype { NN_UNDEFINED = 0, NN_FLOAT = 1, NN_INT32 = 6, NN_INT64 = 7, NN_BOOL = 9 };

typedef struct nn_model nn_model;

/* Name, type and shape of a graph input or output. Before planning, dims are the file's
 * declaration (-1 for a symbolic or absent dimension, rank -1 when the shape is not declared);
 * after planning they are the planned (or last run's) shape. */
struct nn_tensor_info {
    const char *name; /* borrowed, valid while the model lives */
    int dtype;        /* enum nn_dtype, or the file's type number when unsupported */
    int rank;
    int64_t dims[NN_MAX_RANK];
};

/* Loads and checks a model file. On success *out owns the model (free with nn_model_free).
 * Failure: "File not found", truncated or corrupt protobuf, external data, unsupported operator
 * (name and opset), unsupported tensor type, unknown tensor names. Never crashes on a bad file. */
int nn_model_load_file(const char *path, nn_model **out, char *err, size_t errlen);

/* Same from bytes in memory; label names the model in messages (borrowed, copied). */
int nn_model_load_buffer(const void *data, size_t len, const char *label, nn_model **out, char *err,
                         size_t errlen);

/* Frees the model and its arena. NULL is fine. */
void nn_model_free(nn_model *m);

int nn_model_input_count(const nn_model *m);
int nn_model_output_count(const nn_model *m);
/* Index of the input/output called name, or -1. */
int nn_model_input_index(const nn_model *m, const char *name);
int nn_model_output_index(const nn_model *m, const char *name);
/* Fills *out for input/output i (see struct nn_tensor_info). Returns 0 or AE_EINVAL. */
int nn_model_input_info(const nn_model *m, int i, struct nn_tensor_info *out);
int nn_model_output_info(const nn_model *m, int i, struct nn_tensor_info *out);

/* Opset of the default ONNX domain the model was exported with. */
int64_t nn_model_opset(const nn_model *m);
/* Number of scalar weights (elements of all initializers and Constant nodes). */
int64_t nn_model_parameter_count(const nn_model *m);
/* metadata_props of the file, in file order; key/value borrowed, valid while the model lives. */
int nn_model_metadata_count(const nn_model *m);
int nn_model_metadata_at(const nn_model *m, int i, const char **key, const char **value);
/* Value of one metadata key, or NULL when absent (borrowed). */
const char *nn_model_metadata(const nn_model *m, const char *key);

/* Caps the bytes of any one tensor the plan may create (default 256 MiB); a model needing more
 * fails to plan with AE_ERANGE. For callers that load untrusted files with tight memory. */
void nn_model_set_tensor_limit(nn_model *m, size_t max_bytes);

/* Caps the memory a model may hold in all: weights, folded constants, the tensors of the planning
 * run and the arena (default NN_DEFAULT_PLAN_BYTES). A plan that would pass it fails with
 * AE_ERANGE and a message giving the limit. nn_set_plan_limit sets the default for models loaded
 * afterwards (process-wide, thread-safe); 0 restores NN_DEFAULT_PLAN_BYTES. */
#define NN_DEFAULT_PLAN_BYTES ((size_t)1 << 30)
void nn_model_set_plan_limit(nn_model *m, size_t max_bytes);
void nn_set_plan_limit(size_t max_bytes);

/* Sets the shape of input i. Before planning any shape compatible with the declaration; after
 * planning the same rank and a shape whose tensors fit the plan (checked by the next run).
 * Returns 0, AE_EINVAL or AE_ESHAPE with a message. Allocates nothing. */
int nn_model_set_input_shape(nn_model *m, int i, int rank, const int64_t *dims, char *err,
                             size_t errlen);

/* Infers all shapes for the inputs' shapes, folds constants, fuses operators and allocates the
 * arena (running the graph once on zeros). Inputs whose shape was not set use their declared
 * shape with symbolic dimensions set to 1. Returns 0 or an AE_E* code with a message. */
int nn_model_plan(nn_model *m, char *err, size_t errlen);

/* Same, but the planning run uses input_data[i] (numel elements of input i's type, borrowed for
 * the call; NULL for zeros) as the inputs' values. Needed when an input feeds a shape (a Reshape
 * target, Slice bounds...): the plan is made for those values. The arena starts zeroed. */
int nn_model_plan_with_inputs(nn_model *m, const void *const *input_data, char *err, size_t errlen);

/* Operator nodes of the file (Constant nodes excluded), and how many a run executes after
 * constant folding and fusion (0 before planning). */
int nn_model_node_count(const nn_model *m);
int nn_model_run_count(const nn_model *m);

/* Bytes of the arena holding the inputs, outputs and intermediate tensors (after planning). */
size_t nn_model_arena_bytes(const nn_model *m);
/* Bytes held by weights and folded constants. */
size_t nn_model_weight_bytes(const nn_model *m);

/* Buffer of input i (after planning; borrowed). Write numel elements of the input's dtype in the
 * shape last set. */
void *nn_model_input_data(nn_model *m, int i);

/* Runs the graph. Allocates nothing. Returns 0, or AE_EINFER / AE_ESHAPE with a message naming the
 * node. */
int nn_model_run(nn_model *m, char *err, size_t errlen);

/* Output i of the last run (borrowed, valid until the next run); fills *info when not NULL. */
const void *nn_model_output_data(const nn_model *m, int i, struct nn_tensor_info *info);

/* A tensor read from a serialized ONNX TensorProto (the format of the ONNX test vectors). */
struct nn_host_tensor {
    char name[128]; /* the tensor's name in the file, "" when unnamed (truncated if longer) */
    int dtype;
    int rank;
    int64_t dims[NN_MAX_RANK];
    int64_t numel;
    void *data; /* numel elements of dtype; caller frees with free() */
};

/* Reads a TensorProto file into *out. Returns 0, AE_ENOENT, AE_EPARSE or AE_EUNSUPPORTED (a type
 * the engine does not run, named in err). */
int nn_tensor_load_file(const char *path, struct nn_host_tensor *out, char *err, size_t errlen);

/* Name of a dtype ("float", "int64", ... as ONNX names them); static storage. */
const char *nn_dtype_name(int dtype);

/* The predictor of include/aether/predictor.h over a model file: input "input" [batch, W, 11],
 * output "output" [batch, H, 11], arena planned for max_batch. Checks aether.schema_version
 * ("Model trained with a different feature schema"), runs one warm-up inference. A model without
 * aether.schema_version loads; the warning is in nn_predictor_warning(). Returns 0 with the
 * predictor in *out, or a negative AE_E* code with the message in err and *out set to NULL.
 * Caller releases with ae_predictor_close(). */
int nn_predictor_open(const char *path, int window, int horizon, int max_batch, ae_predictor **out,
                      char *err, size_t errlen);

/* The model behind a predictor opened by nn_predictor_open (borrowed; for metadata and logging). */
const nn_model *nn_predictor_model(const ae_predictor *p);
/* A load warning ("... has no aether.schema_version ..."), or NULL (borrowed). */
const char *nn_predictor_warning(const ae_predictor *p);

/* Extra named inputs. Besides "input", a model may take other inputs [batch, ...] (fixed
 * dimensions after the batch; float, int64 or int32), e.g. TTM-r2's frequency token, each listed
 * in its metadata `aether.inputs` as "name" or "name=default" (comma-separated). A listed input
 * gets its default in every element until set; one without a default must be set before
 * predict(). predict() (the contract of predictor.h, unchanged) copies them in with the window,
 * allocating nothing. Unlisted extra inputs, or listed names the model lacks, fail at open.
 *
 * nn_predictor_input_count: how many extra inputs (0 for other predictors).
 * nn_predictor_input_at: name, type and planned shape ([max_batch, ...]) of extra input i.
 * nn_predictor_set_input: values for the next predictions, converted to the input's type: one
 *   row (count = elements per row) for every row of the batch, or r rows (r <= max_batch) for
 *   batches of up to r rows. Integers must be whole and in range. Returns 0 or AE_EINVAL with
 *   the reason in err. Copies the values; allocates nothing. */
int nn_predictor_input_count(const ae_predictor *p);
int nn_predictor_input_at(const ae_predictor *p, int i, struct nn_tensor_info *out);
int nn_predictor_set_input(ae_predictor *p, const char *name, const double *values, int64_t count,
                           char *err, size_t errlen);

#endif
