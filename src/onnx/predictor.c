/* The forecaster behind include/aether/predictor.h: a model file with input "input"
 * [batch, W, 11] and output "output" [batch, H, 11], checked against the configured window and
 * horizon and the feature schema, planned for max_batch rows so that predict() never allocates. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aether/features.h"
#include "nn_internal.h"

#define NN_SCHEMA_VERSION 1

struct nn_predictor {
    ae_predictor base; /* first: the ae_predictor handed out is this struct */
    nn_model *m;
    int in, out; /* indices of "input" and "output" */
    int batch;   /* batch of the current input shape */
    struct ae_predictor_info info;
    char warning[512];
};

static int predictor_predict(void *state, const float *in, int batch, float *out, char *err,
                             size_t errlen)
{
    struct nn_predictor *p = state;
    if (batch < 1 || batch > p->info.max_batch) {
        snprintf(err, errlen, "model %s: batch %d is outside 1..%d", p->m->label, batch,
                 p->info.max_batch);
        return AE_EINVAL;
    }
    if (batch != p->batch) {
        int64_t dims[3] = {batch, p->info.window, AE_FEATURE_COUNT};
        int rc = nn_model_set_input_shape(p->m, p->in, 3, dims, err, errlen);
        if (rc != 0)
            return rc;
        p->batch = batch;
    }
    size_t n_in = (size_t)batch * (size_t)p->info.window * AE_FEATURE_COUNT;
    memcpy(nn_model_input_data(p->m, p->in), in, n_in * sizeof(float));
    int rc = nn_model_run(p->m, err, errlen);
    if (rc != 0)
        return rc;
    struct nn_tensor_info oi;
    const float *y = nn_model_output_data(p->m, p->out, &oi);
    if (oi.rank != 3 || oi.dims[0] != batch || oi.dims[1] != p->info.horizon ||
        oi.dims[2] != AE_FEATURE_COUNT) {
        snprintf(err, errlen, "model %s: output has an unexpected shape for batch %d", p->m->label,
                 batch);
        return AE_ESHAPE;
    }
    memcpy(out, y, (size_t)batch * (size_t)p->info.horizon * AE_FEATURE_COUNT * sizeof(float));
    return 0;
}

static void predictor_info(void *state, struct ae_predictor_info *out)
{
    *out = ((struct nn_predictor *)state)->info;
}

static void predictor_close(ae_predictor *self)
{
    struct nn_predictor *p = (struct nn_predictor *)self;
    if (!p)
        return;
    nn_model_free(p->m);
    free(p);
}

/* Parses metadata value as a double; def when absent or not a number. */
static double meta_number(const nn_model *m, const char *key, double def)
{
    const char *v = nn_model_metadata(m, key);
    if (!v || !v[0])
        return def;
    char *end;
    double d = strtod(v, &end);
    return *end == 0 ? d : def;
}

/* Checks names, schema and the declared shapes against the configuration. */
static int check_model(struct nn_predictor *p, int window, int horizon, char *err, size_t errlen)
{
    const nn_model *m = p->m;
    const char *label = m->label;
    p->in = nn_model_input_index(m, "input");
    if (p->in < 0 || nn_model_input_count(m) != 1) {
        snprintf(err, errlen,
                 "model %s: Expected input tensor named 'input' (the model has %d "
                 "input%s%s%s)",
                 label, nn_model_input_count(m), nn_model_input_count(m) == 1 ? "" : "s",
                 nn_model_input_count(m) > 0 ? ", the first is " : "",
                 nn_model_input_count(m) > 0 ? m->t[m->inputs[0]].name : "");
        return AE_EINVAL;
    }
    p->out = nn_model_output_index(m, "output");
    if (p->out < 0) {
        snprintf(err, errlen,
                 "model %s: Expected output tensor named 'output' (the first output "
                 "is '%s')",
                 label, m->t[m->outputs[0]].name);
        return AE_EINVAL;
    }
    const char *schema = nn_model_metadata(m, "aether.schema_version");
    if (schema && strcmp(schema, "1") != 0) {
        snprintf(err, errlen,
                 "model %s: Model trained with a different feature schema "
                 "(aether.schema_version is \"%s\", this build reads schema %d)",
                 label, schema, NN_SCHEMA_VERSION);
        return AE_ESCHEMA;
    }
    if (!schema)
        snprintf(p->warning, sizeof p->warning,
                 "model %s has no aether.schema_version; assuming feature schema %d", label,
                 NN_SCHEMA_VERSION);
    p->info.schema_version = schema ? NN_SCHEMA_VERSION : 0;
    struct nn_tensor_info in;
    nn_model_input_info(m, p->in, &in);
    if (in.dtype != NN_FLOAT) {
        snprintf(err, errlen, "model %s: input 'input' is %s, expected float", label,
                 nn_dtype_name(in.dtype));
        return AE_EINVAL;
    }
    if (in.rank >= 0 && in.rank != 3) {
        snprintf(err, errlen, "model %s: input 'input' has rank %d, expected [batch, window, %d]",
                 label, in.rank, AE_FEATURE_COUNT);
        return AE_ESHAPE;
    }
    double meta_window = meta_number(m, "aether.window", -1);
    int model_window = in.rank == 3 && in.dims[1] > 0 ? (int)in.dims[1] : (int)meta_window;
    if (model_window > 0 && model_window != window) {
        snprintf(err, errlen,
                 "model %s: the model's input window is %d minutes but the "
                 "configured window (ttm.input_window_minutes) is %d",
                 label, model_window, window);
        return AE_ESHAPE;
    }
    if (in.rank == 3 && in.dims[2] > 0 && in.dims[2] != AE_FEATURE_COUNT) {
        snprintf(err, errlen, "model %s: the model takes %lld features per minute, schema 1 has %d",
                 label, (long long)in.dims[2], AE_FEATURE_COUNT);
        return AE_ESHAPE;
    }
    double meta_horizon = meta_number(m, "aether.horizon", -1);
    if (meta_horizon > 0 && (int)meta_horizon != horizon) {
        snprintf(err, errlen,
                 "model %s: the model's horizon is %d minutes but the configured "
                 "horizon (ttm.prediction_horizon) is %d",
                 label, (int)meta_horizon, horizon);
        return AE_ESHAPE;
    }
    return 0;
}

ae_predictor *nn_predictor_open(const char *path, int window, int horizon, int max_batch, char *err,
                                size_t errlen)
{
    if (window < 1 || horizon < 1 || max_batch < 1) {
        snprintf(err, errlen, "model %s: window, horizon and max_batch must be positive", path);
        return NULL;
    }
    struct nn_predictor *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "model %s: out of memory", path);
        return NULL;
    }
    int rc = nn_model_load_file(path, &p->m, err, errlen);
    if (rc == 0)
        rc = check_model(p, window, horizon, err, errlen);
    int64_t dims[3] = {max_batch, window, AE_FEATURE_COUNT};
    if (rc == 0)
        rc = nn_model_set_input_shape(p->m, p->in, 3, dims, err, errlen);
    if (rc == 0)
        rc = nn_model_plan(p->m, err, errlen);
    if (rc == 0) {
        struct nn_tensor_info oi;
        nn_model_output_info(p->m, p->out, &oi);
        if (oi.rank != 3 || oi.dims[0] != max_batch || oi.dims[2] != AE_FEATURE_COUNT) {
            snprintf(err, errlen, "model %s: output 'output' is not [batch, horizon, %d]",
                     p->m->label, AE_FEATURE_COUNT);
            rc = AE_ESHAPE;
        } else if (oi.dims[1] != horizon) {
            snprintf(err, errlen,
                     "model %s: the model predicts %lld minutes but the configured "
                     "horizon (ttm.prediction_horizon) is %d",
                     p->m->label, (long long)oi.dims[1], horizon);
            rc = AE_ESHAPE;
        }
    }
    if (rc != 0) {
        nn_model_free(p->m);
        free(p);
        return NULL;
    }
    p->batch = max_batch;
    p->info.window = window;
    p->info.horizon = horizon;
    p->info.features = AE_FEATURE_COUNT;
    p->info.max_batch = max_batch;
    p->info.val_wape = meta_number(p->m, "aether.val_wape", -1.0);
    p->info.val_skill = meta_number(p->m, "aether.val_skill", NAN);
    p->base.state = p;
    p->base.predict = predictor_predict;
    p->base.info = predictor_info;
    p->base.close = predictor_close;
    /* Warm-up: the first run re-checks every shape against the arena. */
    rc = nn_model_run(p->m, err, errlen);
    if (rc != 0) {
        predictor_close(&p->base);
        return NULL;
    }
    return &p->base;
}

const nn_model *nn_predictor_model(const ae_predictor *p)
{
    return p && p->close == predictor_close ? ((const struct nn_predictor *)p)->m : NULL;
}

const char *nn_predictor_warning(const ae_predictor *p)
{
    if (!p || p->close != predictor_close)
        return NULL;
    const struct nn_predictor *np = (const struct nn_predictor *)p;
    return np->warning[0] ? np->warning : NULL;
}
