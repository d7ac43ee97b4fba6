/* Model loading (see mload.h). */
#include "mload.h"

#include "aether/error.h"
#include "aether/features.h"
#include "access.h"
#include "fault.h"
#include "aether/log.h"

#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static pthread_mutex_t module_lock = PTHREAD_MUTEX_INITIALIZER;
static void *module_handle; /* never closed: predictors' code lives in it */
static ae_predictor_open_fn module_open;

/* Hands the model memory cap to the module (when it has the symbol). */
static void set_module_limit(size_t max_bytes)
{
    void *sym = dlsym(module_handle, MLOAD_LIMIT_SYMBOL);
    void (*set_limit)(size_t) = NULL;
    if (sym)
        memcpy(&set_limit, &sym, sizeof set_limit);
    if (set_limit)
        set_limit(max_bytes);
    else
        nlog(NLOG_WARN, "ttm", "engine module has no %s: ttm.max_model_memory_mb not applied",
             MLOAD_LIMIT_SYMBOL);
}

/* Nonzero (with the reason) unless the module and its directory belong to this user or root;
 * warns when anyone may write either. */
static int module_untrusted(const char *dir, const char *path, char *why, size_t whylen)
{
    access_warn_writable("node.extensions_dir", dir);
    access_warn_writable("engine module", path);
    return access_check_owner(dir, why, whylen) || access_check_owner(path, why, whylen);
}

ae_predictor_open_fn mload_find_engine(const struct mload_request *req, char *err, size_t errlen)
{
    if (req->builtin)
        return req->builtin;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", req->extensions_dir, MLOAD_MODULE_NAME);
    pthread_mutex_lock(&module_lock);
    ae_predictor_open_fn fn = module_open;
    if (!fn) {
        struct stat st;
        char why[CFG_PATH_MAX + 256];
        if (stat(path, &st) != 0) {
            snprintf(err, errlen,
                     "No TTM predictor implementation available (this node is built without the "
                     "engine and %s does not exist)",
                     path);
        } else if (module_untrusted(req->extensions_dir, path, why, sizeof why)) {
            snprintf(err, errlen, "No TTM predictor implementation available (%s)", why);
        } else if (!(module_handle = dlopen(path, RTLD_NOW | RTLD_LOCAL))) {
            snprintf(err, errlen, "No TTM predictor implementation available (cannot load %s: %s)",
                     path, dlerror());
        } else {
            /* POSIX: dlsym returns void *; converting it to a function pointer is the documented
             * way to fetch a function from a shared object. */
            void *sym = dlsym(module_handle, MLOAD_MODULE_SYMBOL);
            if (!sym) {
                snprintf(err, errlen,
                         "No TTM predictor implementation available (%s has no symbol %s)", path,
                         MLOAD_MODULE_SYMBOL);
            } else {
                memcpy(&fn, &sym, sizeof fn);
                module_open = fn;
                set_module_limit(req->max_plan_bytes);
                nlog(NLOG_INFO, "ttm", "Loaded TTM engine module %s", path);
            }
        }
    }
    pthread_mutex_unlock(&module_lock);
    return fn;
}

/* Runs one inference on an all-zero window and checks the output is finite. */
static int warm_up(ae_predictor *p, const struct mload_request *req, char *err, size_t errlen)
{
    size_t in_n = (size_t)req->window * AE_FEATURE_COUNT;
    size_t out_n = (size_t)req->horizon * AE_FEATURE_COUNT;
    float *in = calloc(in_n, sizeof(float));
    float *out = calloc(out_n, sizeof(float));
    int rc = AE_ENOMEM;
    if (!in || !out) {
        snprintf(err, errlen, "model %s: out of memory for the warm-up inference", req->model_path);
        goto done;
    }
    char why[512] = "";
    rc = p->predict(p->state, in, 1, out, why, sizeof why);
    if (rc != 0) {
        snprintf(err, errlen, "model %s: warm-up inference failed: %s", req->model_path, why);
        goto done;
    }
    for (size_t i = 0; i < out_n; i++)
        if (!isfinite(out[i])) {
            snprintf(err, errlen,
                     "model %s: warm-up inference produced a non-finite value (output %zu)",
                     req->model_path, i);
            rc = AE_EINFER;
            goto done;
        }
done:
    free(in);
    free(out);
    return rc;
}

int mload_open(const struct mload_request *req, ae_predictor **out, char *err, size_t errlen)
{
    *out = NULL;
    ae_predictor_open_fn open_fn = mload_find_engine(req, err, errlen);
    if (!open_fn)
        return AE_EUNSUPPORTED;
    struct stat st;
    if (stat(req->model_path, &st) != 0) {
        snprintf(err, errlen, "File not found: %s (ttm.model_path)", req->model_path);
        return AE_ENOENT;
    }
    access_warn_writable("model", req->model_path);
    char why[1024] = "";
    ae_predictor *p = NULL;
    if (open_fn(req->model_path, req->window, req->horizon, req->max_batch, &p, why, sizeof why)) {
        snprintf(err, errlen, "%s", why[0] ? why : "model could not be loaded");
        return AE_EPARSE;
    }
    struct ae_predictor_info info;
    p->info(p->state, &info);
    if (info.window != req->window || info.horizon != req->horizon ||
        info.features != AE_FEATURE_COUNT) {
        snprintf(err, errlen,
                 "model %s: window %d, horizon %d, %d features; ttm.input_window_minutes = %d and "
                 "ttm.prediction_horizon = %d need %d, %d, %d",
                 req->model_path, info.window, info.horizon, info.features, req->window,
                 req->horizon, req->window, req->horizon, AE_FEATURE_COUNT);
        ae_predictor_close(p);
        return AE_ESHAPE;
    }
    if (info.schema_version != 0 && info.schema_version != AE_SCHEMA_VERSION) {
        snprintf(err, errlen,
                 "model %s: Model trained with a different feature schema (%d, node "
                 "uses %d)",
                 req->model_path, info.schema_version, AE_SCHEMA_VERSION);
        ae_predictor_close(p);
        return AE_ESCHEMA;
    }
    nlog(NLOG_INFO, "ttm", "Loaded TTM model from %s", req->model_path);
    if (info.schema_version == 0)
        nlog(NLOG_WARN, "ttm", "model %s does not state aether.schema_version; assuming %d",
             req->model_path, AE_SCHEMA_VERSION);
    p = fault_wrap_predictor(p);
    if (!p) {
        snprintf(err, errlen, "model %s: out of memory", req->model_path);
        return AE_ENOMEM;
    }
    int rc = warm_up(p, req, err, errlen);
    if (rc != 0) {
        ae_predictor_close(p);
        return rc;
    }
    nlog(NLOG_INFO, "ttm", "Warm-up inference complete");
    *out = p;
    return 0;
}
