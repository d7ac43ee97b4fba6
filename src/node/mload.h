/* Model loading for the node: finds an engine (linked, or the loadable module in
 * node.extensions_dir), opens the configured model file, checks it against [ttm], and runs the
 * warm-up inference. A model is only handed to the TTM manager after all of that succeeded, so a
 * bad file never replaces a working one (hot reload relies on this).
 *
 * Messages use the spec's wording where it has one: "No TTM predictor implementation
 * available", "File not found". Success logs "Loaded TTM model from <path>" and
 * "Warm-up inference complete". */
#ifndef AETHER_NODE_MLOAD_H
#define AETHER_NODE_MLOAD_H

#include <stddef.h>

#include "aether/predictor.h"

#define MLOAD_MODULE_NAME "aether-ttm-onnx.so"
#define MLOAD_MODULE_SYMBOL "aether_ttm_predictor_open"

struct mload_request {
    const char *model_path;
    const char *extensions_dir;
    int window;                   /* [ttm] input_window_minutes */
    int horizon;                  /* [ttm] prediction_horizon */
    int max_batch;                /* number of blueprints (>= 1) */
    ae_predictor_open_fn builtin; /* the linked engine, or NULL (WITH_TTM=0) */
    size_t max_plan_bytes;        /* [ttm] max_model_memory_mb, handed to the module (the linked
                                     engine gets it from main.c) */
};

#define MLOAD_LIMIT_SYMBOL "aether_ttm_set_plan_limit"

/* Finds the engine: req->builtin when set, else MLOAD_MODULE_SYMBOL from
 * <extensions_dir>/aether-ttm-onnx.so (loaded once, kept for the process lifetime). Returns NULL
 * with "No TTM predictor implementation available ..." in err when there is none. */
ae_predictor_open_fn mload_find_engine(const struct mload_request *req, char *err, size_t errlen);

/* Opens, checks and warms up the model. Returns 0 and *out (caller closes with
 * ae_predictor_close), or a negative AE_E* code with the reason in err (AE_EUNSUPPORTED: no
 * engine; AE_ENOENT: "File not found"; others: the engine's or the check's message). */
int mload_open(const struct mload_request *req, ae_predictor **out, char *err, size_t errlen);

#endif
