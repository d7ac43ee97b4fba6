/* The forecaster seen from the core: a table of functions over an opaque state.
 *
 * The core never opens files. Whoever owns a model (the node, the simulator, a test) opens a
 * predictor and hands it to the TTM manager. The ONNX engine provides nn_predictor_open(); a node
 * built without the engine finds the same signature as the symbol `aether_ttm_predictor_open` in
 * the loadable module aether-ttm-onnx.so. Unit tests of the core may script a predictor. */
#ifndef AETHER_PREDICTOR_H
#define AETHER_PREDICTOR_H

#include <stddef.h>

/* What a loaded model says about itself. */
struct ae_predictor_info {
    int window;         /* W: input minutes */
    int horizon;        /* H: output minutes */
    int features;       /* 11 for schema v1 */
    int max_batch;      /* predict() accepts 1..max_batch without allocating */
    int schema_version; /* aether.schema_version, 0 when the model does not say */
    double val_wape;    /* aether.val_wape, negative when absent */
    double val_skill;   /* aether.val_skill, NAN when absent */
};

typedef struct ae_predictor ae_predictor;
struct ae_predictor {
    void *state;
    /* in: batch*W*11 floats (row-major [batch][W][11]); out: batch*H*11 floats.
     * Returns 0, or a negative AE_E* code with a message in err. Allocates nothing. */
    int (*predict)(void *state, const float *in, int batch, float *out, char *err, size_t errlen);
    void (*info)(void *state, struct ae_predictor_info *out);
    /* Frees the state and the ae_predictor itself. */
    void (*close)(ae_predictor *self);
};

/* Opens a model for the configured window and horizon, planning memory for max_batch rows, into
 * *out. Returns 0, or a negative AE_E* code with a message naming the file and the problem in err
 * and *out set to NULL. Caller releases the result with ae_predictor_close(). */
typedef int (*ae_predictor_open_fn)(const char *path, int window, int horizon, int max_batch,
                                    ae_predictor **out, char *err, size_t errlen);

static inline void ae_predictor_close(ae_predictor *p)
{
    if (p)
        p->close(p);
}

#endif
