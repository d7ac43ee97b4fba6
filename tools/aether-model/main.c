/* aether-model: inspect and run TTM models on the project's own ONNX engine.
 *
 *   aether-model validate FILE [--window W] [--horizon H]
 *   aether-model run FILE --input X.csv [--set NAME=V[,V...]]...
 *   aether-model bench FILE [--batch N] [--iterations N]
 *   aether-model conformance DIR
 *
 * validate and run go through the same predictor the node uses (nn_predictor_open). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "aether/error.h"
#include "tool.h"

#define FEATURES 11

static void usage(FILE *f)
{
    fprintf(f, "usage: aether-model validate FILE [--window W] [--horizon H]\n"
               "       aether-model run FILE --input X.csv [--set NAME=V[,V...]]...\n"
               "       aether-model bench FILE [--batch N] [--iterations N]\n"
               "       aether-model conformance DIR\n");
}

int tool_parse_int(const char *opt, const char *value)
{
    if (!value) {
        fprintf(stderr, "aether-model: %s needs a value\n", opt);
        return -1;
    }
    char *end;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (errno || *end || v < 1 || v > 1000000000L) {
        fprintf(stderr, "aether-model: %s %s: expected a positive integer\n", opt, value);
        return -1;
    }
    return (int)v;
}

int tool_model_dims(const char *path, int want_window, int want_horizon, int *window, int *horizon)
{
    char err[1024];
    nn_model *m;
    if (nn_model_load_file(path, &m, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    int in = nn_model_input_index(m, "input");
    struct nn_tensor_info info = {0};
    if (in >= 0)
        nn_model_input_info(m, in, &info);
    int w = want_window;
    const char *meta = nn_model_metadata(m, "aether.window");
    if (w <= 0 && info.rank == 3 && info.dims[1] > 0)
        w = (int)info.dims[1];
    if (w <= 0 && meta)
        w = atoi(meta);
    int h = want_horizon;
    const char *meta_h = nn_model_metadata(m, "aether.horizon");
    int out = nn_model_output_index(m, "output");
    struct nn_tensor_info oinfo = {0};
    if (out >= 0)
        nn_model_output_info(m, out, &oinfo);
    if (h <= 0 && meta_h)
        h = atoi(meta_h);
    if (h <= 0 && oinfo.rank == 3 && oinfo.dims[1] > 0)
        h = (int)oinfo.dims[1];
    int rc = 0;
    if (in >= 0 && w <= 0) {
        fprintf(stderr, "model %s: the input window is not fixed in the model; pass --window\n",
                path);
        rc = 1;
    } else if (in >= 0 && out >= 0 && h <= 0) {
        /* Plan for the window to learn the horizon; on failure the predictor reports it. */
        int64_t dims[3] = {1, w, FEATURES};
        if (nn_model_set_input_shape(m, in, 3, dims, err, sizeof err) == 0 &&
            nn_model_plan(m, err, sizeof err) == 0) {
            nn_model_output_info(m, out, &oinfo);
            h = oinfo.rank == 3 ? (int)oinfo.dims[1] : 1;
        }
    }
    /* Where nothing says, let the predictor report what is wrong with its standard message. */
    w = w > 0 ? w : 1;
    h = h > 0 ? h : 1;
    nn_model_free(m);
    *window = w;
    *horizon = h;
    return rc ? 1 : 0;
}

static void print_info(const char *kind, const struct nn_tensor_info *t)
{
    printf("  %s: %s %s[", kind, t->name, nn_dtype_name(t->dtype));
    for (int d = 0; d < t->rank; d++) {
        if (t->dims[d] < 0)
            printf("%s?", d ? ", " : "");
        else
            printf("%s%lld", d ? ", " : "", (long long)t->dims[d]);
    }
    printf("%s\n", t->rank < 0 ? "unknown]" : "]");
}

int cmd_validate(int argc, char **argv)
{
    const char *path = NULL;
    int want_w = 0, want_h = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--window") == 0) {
            if ((want_w = tool_parse_int("--window", i + 1 < argc ? argv[++i] : NULL)) < 0)
                return 2;
        } else if (strcmp(argv[i], "--horizon") == 0) {
            if ((want_h = tool_parse_int("--horizon", i + 1 < argc ? argv[++i] : NULL)) < 0)
                return 2;
        } else if (!path) {
            path = argv[i];
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (!path) {
        usage(stderr);
        return 2;
    }
    int window, horizon;
    if (tool_model_dims(path, want_w, want_h, &window, &horizon) != 0)
        return 1;
    char err[1024];
    ae_predictor *p = NULL;
    if (nn_predictor_open(path, window, horizon, 1, &p, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        printf("Validation failed\n");
        return 1;
    }
    const nn_model *m = nn_predictor_model(p);
    struct stat st;
    printf("Model: %s\n", path);
    if (stat(path, &st) == 0)
        printf("  File size: %.1f KB (%lld bytes)\n", (double)st.st_size / 1024.0,
               (long long)st.st_size);
    printf("  Opset: %lld\n", (long long)nn_model_opset(m));
    printf("  Parameters: %lld\n", (long long)nn_model_parameter_count(m));
    printf("  Nodes: %d (%d run after constant folding and fusion)\n", nn_model_node_count(m),
           nn_model_run_count(m));
    for (int i = 0; i < nn_model_input_count(m); i++) {
        struct nn_tensor_info t;
        nn_model_input_info(m, i, &t);
        t.dims[0] = -1; /* the batch dimension is whatever the caller plans for */
        print_info("Input", &t);
    }
    for (int i = 0; i < nn_model_output_count(m); i++) {
        struct nn_tensor_info t;
        nn_model_output_info(m, i, &t);
        t.dims[0] = -1;
        print_info("Output", &t);
    }
    printf("  Metadata:%s\n", nn_model_metadata_count(m) ? "" : " (none)");
    for (int i = 0; i < nn_model_metadata_count(m); i++) {
        const char *k, *v;
        nn_model_metadata_at(m, i, &k, &v);
        printf("    %s = %s\n", k, v);
    }
    printf("  Memory: arena %zu bytes, weights %zu bytes\n", nn_model_arena_bytes(m),
           nn_model_weight_bytes(m));
    if (nn_predictor_warning(p))
        printf("  Warning: %s\n", nn_predictor_warning(p));
    /* The predictor ran a warm-up at open; run once more to report the shapes end to end. */
    size_t n_in = (size_t)window * FEATURES, n_out = (size_t)horizon * FEATURES;
    float *in = calloc(n_in, sizeof *in), *out = calloc(n_out, sizeof *out);
    int rc = in && out ? p->predict(p->state, in, 1, out, err, sizeof err) : AE_ENOMEM;
    free(in);
    free(out);
    if (rc != 0) {
        fprintf(stderr, "%s\n", rc == AE_ENOMEM ? "out of memory" : err);
        printf("Validation failed\n");
        ae_predictor_close(p);
        return 1;
    }
    printf("  Test inference: input=[1, %d, %d] -> output=[1, %d, %d]\n", window, FEATURES, horizon,
           FEATURES);
    printf("Validation passed!\n");
    ae_predictor_close(p);
    return 0;
}

/* Reads the CSV of a window: one row per minute, FEATURES numbers; an optional header line. */
static int read_window_csv(const char *path, float **rows_out, int *n_rows)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "%s: File not found\n", path);
        return 1;
    }
    char line[8192];
    int n = 0, cap = 128, lineno = 0;
    float *rows = malloc(sizeof(float) * FEATURES * (size_t)cap);
    while (rows && fgets(line, sizeof line, f)) {
        lineno++;
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s == '\n' || *s == '\r' || *s == 0)
            continue;
        float vals[FEATURES];
        int k = 0, bad = 0;
        for (char *tok = s;; k++) {
            char *end;
            double v = strtod(tok, &end);
            while (*end == ' ' || *end == '\t')
                end++;
            if (end == tok || (*end != ',' && *end != '\n' && *end != '\r' && *end != 0)) {
                bad = 1;
                break;
            }
            if (k < FEATURES)
                vals[k] = (float)v;
            if (*end != ',') {
                k++;
                break;
            }
            tok = end + 1;
        }
        if (bad && n == 0 && lineno == 1)
            continue; /* header line */
        if (bad || k != FEATURES) {
            fprintf(stderr, "%s line %d: expected %d comma-separated numbers%s\n", path, lineno,
                    FEATURES, bad ? "" : " (wrong column count)");
            free(rows);
            fclose(f);
            return 1;
        }
        if (n == cap) {
            float *bigger = realloc(rows, sizeof(float) * FEATURES * (size_t)cap * 2);
            if (!bigger)
                break;
            rows = bigger;
            cap *= 2;
        }
        memcpy(rows + (size_t)n * FEATURES, vals, sizeof vals);
        n++;
    }
    fclose(f);
    if (!rows) {
        fprintf(stderr, "%s: out of memory\n", path);
        return 1;
    }
    if (n == 0) {
        fprintf(stderr, "%s: no data rows\n", path);
        free(rows);
        return 1;
    }
    *rows_out = rows;
    *n_rows = n;
    return 0;
}

/* Applies one --set NAME=V[,V...] to the predictor's extra input NAME. */
static int set_extra_input(ae_predictor *p, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg || !eq[1]) {
        fprintf(stderr, "aether-model: --set %s: expected NAME=V[,V...]\n", arg);
        return 1;
    }
    char name[256];
    snprintf(name, sizeof name, "%.*s", (int)(eq - arg < 255 ? eq - arg : 255), arg);
    int64_t n = 1;
    for (const char *c = eq + 1; *c; c++)
        n += *c == ',';
    double *v = malloc(sizeof *v * (size_t)n);
    if (!v) {
        fprintf(stderr, "aether-model: out of memory\n");
        return 1;
    }
    const char *s = eq + 1;
    for (int64_t k = 0; k < n; k++) {
        char *end;
        errno = 0;
        v[k] = strtod(s, &end);
        if (end == s || errno || (*end != ',' && *end != 0)) {
            fprintf(stderr, "aether-model: --set %s: value %lld is not a number\n", arg,
                    (long long)k + 1);
            free(v);
            return 1;
        }
        s = end + 1;
    }
    char err[1024];
    int rc = nn_predictor_set_input(p, name, v, n, err, sizeof err);
    free(v);
    if (rc != 0)
        fprintf(stderr, "%s\n", err);
    return rc != 0;
}

int cmd_run(int argc, char **argv)
{
    const char *path = NULL, *csv = NULL;
    const char *sets[16];
    int n_sets = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--input") == 0 && i + 1 < argc)
            csv = argv[++i];
        else if (strcmp(argv[i], "--set") == 0 && i + 1 < argc && n_sets < 16)
            sets[n_sets++] = argv[++i];
        else if (!path && argv[i][0] != '-')
            path = argv[i];
        else {
            usage(stderr);
            return 2;
        }
    }
    if (!path || !csv) {
        usage(stderr);
        return 2;
    }
    float *in;
    int window;
    if (read_window_csv(csv, &in, &window) != 0)
        return 1;
    int w, horizon;
    if (tool_model_dims(path, window, 0, &w, &horizon) != 0) {
        free(in);
        return 1;
    }
    char err[1024];
    ae_predictor *p = NULL;
    if (nn_predictor_open(path, window, horizon, 1, &p, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        free(in);
        return 1;
    }
    for (int i = 0; i < n_sets; i++)
        if (set_extra_input(p, sets[i]) != 0) {
            free(in);
            ae_predictor_close(p);
            return 1;
        }
    float *out = calloc((size_t)horizon * FEATURES, sizeof *out);
    int rc = out ? p->predict(p->state, in, 1, out, err, sizeof err) : AE_ENOMEM;
    if (rc != 0) {
        fprintf(stderr, "%s\n", rc == AE_ENOMEM ? "out of memory" : err);
    } else {
        for (int h = 0; h < horizon; h++)
            for (int k = 0; k < FEATURES; k++)
                printf("%.9g%c", out[h * FEATURES + k], k + 1 < FEATURES ? ',' : '\n');
    }
    free(out);
    free(in);
    ae_predictor_close(p);
    return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "validate") == 0)
        return cmd_validate(argc - 2, argv + 2);
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc - 2, argv + 2);
    if (strcmp(cmd, "bench") == 0)
        return cmd_bench(argc - 2, argv + 2);
    if (strcmp(cmd, "conformance") == 0)
        return cmd_conformance(argc - 2, argv + 2);
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "aether-model: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
