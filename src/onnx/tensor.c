/* Tensor basics: element types, shapes with overflow checks, and conversion of an ONNX
 * TensorProto (initializer, Constant value, test vector) into plain little-endian memory. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aether/fileio.h"
#include "nn_internal.h"
#include "onnx/onnx.pb-c.h"

size_t nn_dtype_size(int dtype)
{
    switch (dtype) {
    case NN_FLOAT:
    case NN_INT32:
        return 4;
    case NN_INT64:
        return 8;
    case NN_BOOL:
        return 1;
    default:
        return 0;
    }
}

const char *nn_dtype_name(int dtype)
{
    /* Names of TensorProto.DataType, so that skips and errors read like ONNX's own. */
    static const char *const names[] = {"undefined",  "float",   "uint8",  "int8",   "uint16",
                                        "int16",      "int32",   "int64",  "string", "bool",
                                        "float16",    "double",  "uint32", "uint64", "complex64",
                                        "complex128", "bfloat16"};
    if (dtype >= 0 && dtype < (int)(sizeof names / sizeof names[0]))
        return names[dtype];
    return "unknown type";
}

int nn_tensor_set_shape(struct nn_tensor *t, int rank, const int64_t *dims)
{
    if (rank < 0 || rank > NN_MAX_RANK)
        return AE_ERANGE;
    int64_t numel = 1;
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 0 || (dims[i] > 0 && numel > NN_MAX_TENSOR_BYTES / dims[i]))
            return AE_ERANGE;
        numel *= dims[i];
    }
    t->rank = rank;
    for (int i = 0; i < rank; i++)
        t->dims[i] = dims[i];
    t->numel = numel;
    return 0;
}

int64_t nn_tensor_int(const struct nn_tensor *t, int64_t i)
{
    switch (t->dtype) {
    case NN_INT64:
        return ((const int64_t *)t->data)[i];
    case NN_INT32:
        return ((const int32_t *)t->data)[i];
    case NN_BOOL:
        return ((const uint8_t *)t->data)[i];
    case NN_FLOAT: {
        float v = ((const float *)t->data)[i];
        if (!(v > -9.2e18f && v < 9.2e18f))
            return 0;
        return (int64_t)v;
    }
    default:
        return 0;
    }
}

double nn_tensor_double(const struct nn_tensor *t, int64_t i)
{
    if (t->dtype == NN_FLOAT)
        return ((const float *)t->data)[i];
    return (double)nn_tensor_int(t, i);
}

/* Copies n typed values into data, narrowing to the tensor's type. */
static void copy_ints(void *data, int dtype, const int32_t *src, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (dtype == NN_BOOL)
            ((uint8_t *)data)[i] = src[i] != 0;
        else
            ((int32_t *)data)[i] = src[i];
    }
}

int nn_tensor_from_proto(const void *proto, struct nn_tensor *t, void **data, char *err,
                         size_t errlen)
{
    const Onnx__TensorProto *p = proto;
    const char *name = p->name && p->name[0] ? p->name : "(unnamed)";
    *data = NULL;
    if ((p->has_data_location && p->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) ||
        p->n_external_data > 0) {
        snprintf(err, errlen,
                 "tensor '%s' uses external data, which is not supported (save the model with "
                 "all tensors inside the file)",
                 name);
        return AE_EUNSUPPORTED;
    }
    int dtype = p->has_data_type ? p->data_type : 0;
    size_t esize = nn_dtype_size(dtype);
    if (esize == 0) {
        snprintf(err, errlen, "tensor '%s' has element type %s, which is not supported", name,
                 nn_dtype_name(dtype));
        return AE_EUNSUPPORTED;
    }
    if (p->n_dims > NN_MAX_RANK) {
        snprintf(err, errlen, "tensor '%s' has rank %zu (at most %d supported)", name, p->n_dims,
                 NN_MAX_RANK);
        return AE_EUNSUPPORTED;
    }
    t->dtype = dtype;
    if (nn_tensor_set_shape(t, (int)p->n_dims, p->dims) != 0) {
        snprintf(err, errlen, "tensor '%s' has a negative or too large shape", name);
        return AE_ERANGE;
    }
    size_t n = (size_t)t->numel;
    size_t have;
    if (p->has_raw_data)
        have = p->raw_data.len / esize;
    else if (dtype == NN_FLOAT)
        have = p->n_float_data;
    else if (dtype == NN_INT64)
        have = p->n_int64_data;
    else
        have = p->n_int32_data;
    if (have != n || (p->has_raw_data && p->raw_data.len != n * esize)) {
        snprintf(err, errlen, "tensor '%s' holds %zu values for a shape of %zu elements", name,
                 have, n);
        return AE_EPARSE;
    }
    /* At least one byte so that every tensor has a valid address, even an empty one. */
    *data = calloc(n ? n : 1, esize);
    if (!*data) {
        snprintf(err, errlen, "tensor '%s': out of memory", name);
        return AE_ENOMEM;
    }
    if (n == 0)
        return 0;
    if (p->has_raw_data)
        memcpy(*data, p->raw_data.data, n * esize); /* little-endian host, as the format */
    else if (dtype == NN_FLOAT)
        memcpy(*data, p->float_data, n * esize);
    else if (dtype == NN_INT64)
        memcpy(*data, p->int64_data, n * esize);
    else
        copy_ints(*data, dtype, p->int32_data, n);
    if (dtype == NN_BOOL) /* normalise any non-zero byte to 1 */
        for (size_t i = 0; i < n; i++)
            ((uint8_t *)*data)[i] = ((uint8_t *)*data)[i] != 0;
    return 0;
}

int nn_tensor_load_file(const char *path, struct nn_host_tensor *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    char *buf;
    size_t len;
    int rc = ae_read_file(path, &buf, &len, NULL, 0);
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", path,
                 rc == AE_ENOENT ? "File not found" : "cannot read the file");
        return rc;
    }
    Onnx__TensorProto *p = onnx__tensor_proto__unpack(NULL, len, (const uint8_t *)buf);
    free(buf);
    if (!p) {
        snprintf(err, errlen, "%s: truncated or corrupt TensorProto", path);
        return AE_EPARSE;
    }
    struct nn_tensor t = {0};
    char msg[256];
    rc = nn_tensor_from_proto(p, &t, &out->data, msg, sizeof msg);
    if (rc == 0) {
        snprintf(out->name, sizeof out->name, "%s", p->name ? p->name : "");
        out->dtype = t.dtype;
        out->rank = t.rank;
        memcpy(out->dims, t.dims, sizeof out->dims);
        out->numel = t.numel;
    } else {
        snprintf(err, errlen, "%s: %s", path, msg);
    }
    onnx__tensor_proto__free_unpacked(p, NULL);
    return rc;
}
