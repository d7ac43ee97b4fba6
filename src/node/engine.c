/* The linked inference engine, when there is one (see engine.h). */
#include "engine.h"

#ifdef AETHER_WITH_TTM
#include "aether/nn.h"

ae_predictor_open_fn engine_builtin_open(void)
{
    return nn_predictor_open;
}

void engine_builtin_set_plan_limit(size_t max_bytes)
{
    nn_set_plan_limit(max_bytes);
}
#else
ae_predictor_open_fn engine_builtin_open(void)
{
    return NULL;
}

void engine_builtin_set_plan_limit(size_t max_bytes)
{
    (void)max_bytes;
}
#endif
