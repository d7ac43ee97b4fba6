/* The loadable predictor module (aether-ttm-onnx.so) for nodes built without the engine.
 *
 * A node built with WITH_TTM=0 dlopens this file and looks up the symbol it exports,
 * aether_ttm_predictor_open, whose signature is ae_predictor_open_fn (aether/predictor.h), and
 * aether_ttm_set_plan_limit (nn_set_plan_limit: the memory cap of models opened afterwards).
 * The engine itself is linked in statically and hidden. */
#include "aether/nn.h"

/* Same contract as nn_predictor_open(): 0 with *out, or a negative AE_E* code with the message
 * in err; the caller releases the result with ae_predictor_close(). */
__attribute__((visibility("default"))) int aether_ttm_predictor_open(const char *path, int window,
                                                                     int horizon, int max_batch,
                                                                     ae_predictor **out, char *err,
                                                                     size_t errlen)
{
    return nn_predictor_open(path, window, horizon, max_batch, out, err, errlen);
}

/* Same contract as nn_set_plan_limit(). */
__attribute__((visibility("default"))) void aether_ttm_set_plan_limit(size_t max_bytes)
{
    nn_set_plan_limit(max_bytes);
}
