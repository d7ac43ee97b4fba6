/* The forecaster behind include/aether/predictor.h: a model file with input "input"
 * [batch, W, 11] and output "output" [batch, H, 11], checked against the configured window and
 * horizon and the feature schema, planned for max_batch rows so that predict() never allocates.
 *
 * A model may take more inputs (a frequency token, exogenous values), each [batch, ...] with
 * static dimensions after the batch, listed in its metadata `aether.inputs` as
 * "name[=default],...". Their values come from the default (every element) until
 * nn_predictor_set_input() gives others; predict() copies them in with the window. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aether/features.h"
#include "nn_internal.h"

#define NN_SCHEMA_VERSION 1

#define NN_MAX_EXTRA_INPUTS 8

/* One input beyond the window. */
struct nn_extra_input {
    int index; /* in the model's inputs */
    int dtype; /* NN_FLOAT, NN_INT64 or NN_INT32 */
    int rank;  /* of the tensor, batch included */
    int64_t dims[NN_MAX_RANK];
    int64_t per_row; /* elements per batch row */
    int64_t rows;    /* rows of values held: 1 (broadcast to the batch) up to max_batch; 0 unset */
    void *values;    /* max_batch * per_row elements of dtype, owned */
};

struct nn_predictor {
    ae_predictor base; /* first: the ae_predictor handed out is this struct */
    nn_model *m;
    int in, out; /* indices of "input" and "output" */
    int batch;   /* batch of the current input shape */
    struct ae_predictor_info info;
    int n_extra;
    struct nn_extra_input extra[NN_MAX_EXTRA_INPUTS];
    char warning[512];
};

/* Gives every input its shape for batch rows. */
static int set_batch(struct nn_predictor *p, int batch, char *err, size_t errlen)
{
    int64_t dims[3] = {batch, p->info.window, AE_FEATURE_COUNT};
    int rc = nn_model_set_input_shape(p->m, p->in, 3, dims, err, errlen);
    for (int i = 0; i < p->n_extra && rc == 0; i++) {
        struct nn_extra_input *e = &p->extra[i];
        e->dims[0] = batch;
        rc = nn_model_set_input_shape(p->m, e->index, e->rank, e->dims, err, errlen);
    }
    return rc;
}

/* Copies the extra inputs' values into the model for batch rows (one row held: every row). */
static int copy_extra_inputs(struct nn_predictor *p, int batch, char *err, size_t errlen)
{
    for (int i = 0; i < p->n_extra; i++) {
        const struct nn_extra_input *e = &p->extra[i];
        const char *name = p->m->t[p->m->inputs[e->index]].name;
        if (e->rows == 0) {
            snprintf(err, errlen,
                     "model %s: input '%s' has no value (give a default in aether.inputs or set "
                     "it with nn_predictor_set_input)",
                     p->m->label, name);
            return AE_EINVAL;
        }
        if (e->rows != 1 && e->rows < batch) {
            snprintf(err, errlen, "model %s: input '%s' holds %lld rows, the batch has %d",
                     p->m->label, name, (long long)e->rows, batch);
            return AE_EINVAL;
        }
        size_t row_bytes = (size_t)e->per_row * nn_dtype_size(e->dtype);
        char *dst = nn_model_input_data(p->m, e->index);
        for (int b = 0; b < batch; b++)
            memcpy(dst + (size_t)b * row_bytes,
                   (const char *)e->values + (e->rows == 1 ? 0 : (size_t)b * row_bytes), row_bytes);
    }
    return 0;
}

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
        int rc = set_batch(p, batch, err, errlen);
        if (rc != 0)
            return rc;
        p->batch = batch;
    }
    size_t n_in = (size_t)batch * (size_t)p->info.window * AE_FEATURE_COUNT;
    memcpy(nn_model_input_data(p->m, p->in), in, n_in * sizeof(float));
    int rc = copy_extra_inputs(p, batch, err, errlen);
    if (rc == 0)
        rc = nn_model_run(p->m, err, errlen);
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
    for (int i = 0; i < p->n_extra; i++)
        free(p->extra[i].values);
    nn_model_free(p->m);
    free(p);
}

/* Stores value v in element k of an extra input's values. */
static void put_value(struct nn_extra_input *e, int64_t k, double v)
{
    if (e->dtype == NN_FLOAT)
        ((float *)e->values)[k] = (float)v;
    else if (e->dtype == NN_INT64)
        ((int64_t *)e->values)[k] = (int64_t)v;
    else
        ((int32_t *)e->values)[k] = (int32_t)v;
}

/* Whether v can be stored in dtype: any number for float, integers whole and in range. */
static int value_fits(int dtype, double v)
{
    if (dtype == NN_FLOAT)
        return 1;
    double lim = dtype == NN_INT64 ? 9007199254740992.0 : 2147483647.0;
    return v == floor(v) && fabs(v) <= lim;
}

/* The entry "name" or "name=value" of name in the aether.inputs list, or NULL. */
static const char *find_input_entry(const char *list, const char *name)
{
    size_t len = strlen(name);
    for (const char *s = list; s && *s;) {
        while (*s == ' ' || *s == ',')
            s++;
        if (strncmp(s, name, len) == 0 &&
            (s[len] == 0 || s[len] == ',' || s[len] == '=' || s[len] == ' '))
            return s;
        s = strchr(s, ',');
    }
    return NULL;
}

/* Describes model input i as the next extra input: its type, shape and a zeroed value buffer
 * for max_batch rows. */
static int add_extra_input(struct nn_predictor *p, int i, int max_batch, char *err, size_t errlen)
{
    const nn_model *m = p->m;
    const char *name = m->t[m->inputs[i]].name;
    if (p->n_extra == NN_MAX_EXTRA_INPUTS) {
        snprintf(err, errlen, "model %s: more than %d extra inputs", m->label,
                 NN_MAX_EXTRA_INPUTS);
        return AE_EUNSUPPORTED;
    }
    struct nn_tensor_info ti;
    nn_model_input_info(m, i, &ti);
    struct nn_extra_input *e = &p->extra[p->n_extra];
    if (ti.dtype != NN_FLOAT && ti.dtype != NN_INT64 && ti.dtype != NN_INT32) {
        snprintf(err, errlen, "model %s: input '%s' is %s (float, int64 or int32 expected)",
                 m->label, name, nn_dtype_name(ti.dtype));
        return AE_EUNSUPPORTED;
    }
    if (ti.rank < 1) {
        snprintf(err, errlen, "model %s: input '%s' needs a declared shape [batch, ...]",
                 m->label, name);
        return AE_ESHAPE;
    }
    e->index = i;
    e->dtype = ti.dtype;
    e->rank = ti.rank;
    e->per_row = 1;
    for (int d = 1; d < ti.rank; d++) {
        if (ti.dims[d] < 1 || ti.dims[d] > 1000000) {
            snprintf(err, errlen,
                     "model %s: input '%s' dimension %d must be a fixed size (only the batch "
                     "may vary)",
                     m->label, name, d);
            return AE_ESHAPE;
        }
        e->dims[d] = ti.dims[d];
        e->per_row *= ti.dims[d];
    }
    e->values = calloc((size_t)max_batch * (size_t)e->per_row, nn_dtype_size(e->dtype));
    p->n_extra++;
    if (!e->values) {
        snprintf(err, errlen, "model %s: out of memory", m->label);
        return AE_ENOMEM;
    }
    return 0;
}

/* Fills extra input e with the default after its name in the list entry, when there is one
 * ("name=value"). */
static int set_extra_default(const nn_model *m, struct nn_extra_input *e, const char *name,
                             const char *after_name, char *err, size_t errlen)
{
    const char *eq = after_name;
    while (*eq == ' ')
        eq++;
    if (*eq != '=')
        return 0;
    char *end;
    double v = strtod(eq + 1, &end);
    while (*end == ' ')
        end++;
    if (end == eq + 1 || (*end != ',' && *end != 0) || !value_fits(e->dtype, v)) {
        snprintf(err, errlen, "model %s: aether.inputs: the default of '%s' is not a %s",
                 m->label, name, e->dtype == NN_FLOAT ? "number" : "whole number");
        return AE_EINVAL;
    }
    for (int64_t k = 0; k < e->per_row; k++)
        put_value(e, k, v);
    e->rows = 1;
    return 0;
}

/* Every name the aether.inputs list holds must be an extra input of the model. */
static int check_listed_inputs(const struct nn_predictor *p, const char *list, char *err,
                               size_t errlen)
{
    for (const char *s = list; s && *s;) {
        while (*s == ' ' || *s == ',')
            s++;
        size_t len = strcspn(s, "=, ");
        if (len > 0) {
            char name[256];
            snprintf(name, sizeof name, "%.*s", (int)(len < 255 ? len : 255), s);
            int idx = nn_model_input_index(p->m, name);
            if (idx < 0 || idx == p->in) {
                snprintf(err, errlen,
                         "model %s: aether.inputs lists '%s', which is not an extra "
                         "input of the model",
                         p->m->label, name);
                return AE_EINVAL;
            }
        }
        s = strchr(s, ',');
    }
    return 0;
}

/* Reads aether.inputs ("name[=default],...") and checks it against the model's inputs: every
 * input but "input" must be listed, every listed name must be an input. */
static int setup_extra_inputs(struct nn_predictor *p, int max_batch, char *err, size_t errlen)
{
    const nn_model *m = p->m;
    const char *list = nn_model_metadata(m, "aether.inputs");
    int n_inputs = nn_model_input_count(m);
    for (int i = 0; i < n_inputs; i++) {
        if (i == p->in)
            continue;
        const char *name = m->t[m->inputs[i]].name;
        const char *entry = find_input_entry(list, name);
        if (!entry) {
            snprintf(err, errlen,
                     "model %s: Expected input tensor named 'input' only, or the other inputs "
                     "listed in the metadata aether.inputs (\"name[=default],...\"); input '%s' "
                     "is not listed",
                     m->label, name);
            return AE_EINVAL;
        }
        int rc = add_extra_input(p, i, max_batch, err, errlen);
        if (rc == 0)
            rc = set_extra_default(m, &p->extra[p->n_extra - 1], name, entry + strlen(name), err,
                                   errlen);
        if (rc != 0)
            return rc;
    }
    return check_listed_inputs(p, list, err, errlen);
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
    if (p->in < 0) {
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

/* Loads path into p, checks it against window and horizon and plans its arena for max_batch
 * rows. 0, or a negative AE_E* code with the message in err. */
static int load_and_plan(struct nn_predictor *p, const char *path, int window, int horizon,
                         int max_batch, char *err, size_t errlen)
{
    int rc = nn_model_load_file(path, &p->m, err, errlen);
    if (rc == 0)
        rc = check_model(p, window, horizon, err, errlen);
    if (rc == 0)
        rc = setup_extra_inputs(p, max_batch, err, errlen);
    p->info.window = window;
    if (rc == 0)
        rc = set_batch(p, max_batch, err, errlen);
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
    return rc;
}

/* The first run re-checks every shape against the arena (planning ran on zeros; here the extra
 * inputs hold their defaults, zeros where they have none). 0 or the run's code. */
static int warm_up(struct nn_predictor *p, int max_batch, char *err, size_t errlen)
{
    for (int i = 0; i < p->n_extra; i++) {
        const struct nn_extra_input *e = &p->extra[i];
        size_t row_bytes = (size_t)e->per_row * nn_dtype_size(e->dtype);
        char *dst = nn_model_input_data(p->m, e->index);
        for (int b = 0; b < max_batch && e->rows; b++)
            memcpy(dst + (size_t)b * row_bytes, e->values, row_bytes);
    }
    return nn_model_run(p->m, err, errlen);
}

int nn_predictor_open(const char *path, int window, int horizon, int max_batch, ae_predictor **out,
                      char *err, size_t errlen)
{
    *out = NULL;
    if (window < 1 || horizon < 1 || max_batch < 1) {
        snprintf(err, errlen, "model %s: window, horizon and max_batch must be positive", path);
        return AE_EINVAL;
    }
    struct nn_predictor *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "model %s: out of memory", path);
        return AE_ENOMEM;
    }
    int rc = load_and_plan(p, path, window, horizon, max_batch, err, errlen);
    if (rc == 0) {
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
        rc = warm_up(p, max_batch, err, errlen);
    }
    if (rc != 0) {
        predictor_close(&p->base);
        return rc;
    }
    *out = &p->base;
    return 0;
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

static struct nn_predictor *engine_predictor(const ae_predictor *p)
{
    return p && p->close == predictor_close ? (struct nn_predictor *)p : NULL;
}

int nn_predictor_input_count(const ae_predictor *p)
{
    const struct nn_predictor *np = engine_predictor(p);
    return np ? np->n_extra : 0;
}

int nn_predictor_input_at(const ae_predictor *p, int i, struct nn_tensor_info *out)
{
    const struct nn_predictor *np = engine_predictor(p);
    if (!np || i < 0 || i >= np->n_extra)
        return AE_EINVAL;
    return nn_model_input_info(np->m, np->extra[i].index, out);
}

int nn_predictor_set_input(ae_predictor *p, const char *name, const double *values, int64_t count,
                           char *err, size_t errlen)
{
    struct nn_predictor *np = engine_predictor(p);
    if (!np) {
        snprintf(err, errlen, "not a predictor of the ONNX engine");
        return AE_EINVAL;
    }
    for (int i = 0; i < np->n_extra; i++) {
        struct nn_extra_input *e = &np->extra[i];
        if (strcmp(np->m->t[np->m->inputs[e->index]].name, name) != 0)
            continue;
        if (count < e->per_row || count % e->per_row != 0 ||
            count / e->per_row > np->info.max_batch) {
            snprintf(err, errlen,
                     "model %s: input '%s' takes %lld values per row (one row for every row of "
                     "the batch, or up to %d rows), got %lld",
                     np->m->label, name, (long long)e->per_row, np->info.max_batch,
                     (long long)count);
            return AE_EINVAL;
        }
        for (int64_t k = 0; k < count; k++)
            if (!value_fits(e->dtype, values[k])) {
                snprintf(err, errlen,
                         "model %s: input '%s' value %d (%g) is not a whole number "
                         "in range",
                         np->m->label, name, (int)k, values[k]);
                return AE_EINVAL;
            }
        for (int64_t k = 0; k < count; k++)
            put_value(e, k, values[k]);
        e->rows = count / e->per_row;
        return 0;
    }
    snprintf(err, errlen, "model %s: no extra input named '%s'", np->m->label, name);
    return AE_EINVAL;
}
