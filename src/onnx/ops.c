/* The operator table: every ONNX operator the engine runs, found by name. */
#include <string.h>

#include "nn_internal.h"

const struct nn_op *nn_op_find(const char *op_type)
{
    const struct nn_op *const tables[] = {nn_ops_elementwise, nn_ops_matmul, nn_ops_norm,
                                          nn_ops_shape,       nn_ops_conv,   nn_ops_pad_scan,
                                          nn_ops_rnn};
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
        for (const struct nn_op *op = tables[t]; op->name; op++)
            if (strcmp(op->name, op_type) == 0)
                return op;
    return NULL;
}
