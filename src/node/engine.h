/* Which inference engine this executable carries.
 *
 * engine.c is compiled into each node executable (not into the aether_node library): with
 * AETHER_WITH_TTM it returns the linked engine's nn_predictor_open, without it NULL, and the node
 * then looks for the loadable module aether-ttm-onnx.so in node.extensions_dir. */
#ifndef AETHER_NODE_ENGINE_H
#define AETHER_NODE_ENGINE_H

#include "aether/predictor.h"

/* The linked engine's opener, or NULL when the executable was built without it (WITH_TTM=0). */
ae_predictor_open_fn engine_builtin_open(void);

/* Sets the memory cap of models opened afterwards (nn_set_plan_limit); no-op without the
 * engine (the module has its own, see mload.h). */
void engine_builtin_set_plan_limit(size_t max_bytes);

#endif
