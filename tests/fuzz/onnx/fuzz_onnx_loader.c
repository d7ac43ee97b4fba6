/* Fuzz target: any bytes given to the engine as a model file are rejected with a message, or
 * loaded, planned (symbolic dimensions as 1) and run once, without a crash, leak or undefined
 * behaviour. Tensors are capped at 1 MiB so that a tiny file cannot ask for gigabytes. */
#include <stddef.h>
#include <stdint.h>

#include "aether/nn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    nn_model *m = NULL;
    if (nn_model_load_buffer(data, size, "fuzz", &m, err, sizeof err) != 0)
        return 0;
    nn_model_set_tensor_limit(m, (size_t)1 << 20);
    if (nn_model_plan(m, err, sizeof err) == 0)
        nn_model_run(m, err, sizeof err);
    nn_model_free(m);
    return 0;
}
