/* The linked inference engine, when there is one (see engine.h). */
#include "engine.h"

#ifdef AETHER_WITH_TTM
#include "aether/nn.h"

ae_predictor_open_fn engine_builtin_open(void)
{
    return nn_predictor_open;
}
#else
ae_predictor_open_fn engine_builtin_open(void)
{
    return NULL;
}
#endif
