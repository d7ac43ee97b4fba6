/* aether-model bench FILE [--batch N] [--iterations N]: latency of the predictor on one model.
 *
 * Opens the model as the node does (nn_predictor_open, planned for the batch), warms up, then
 * times each predict() call on a fixed pseudo-random input. Prints
 *   latency_us min=X median=X p99=X
 *   throughput inferences_per_s=X
 *   memory arena_bytes=N weight_bytes=N peak_rss_kb=N
 * Peak RSS is the whole process's (getrusage), loading included. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "latency.h"
#include "tool.h"

#define FEATURES 11

int cmd_bench(int argc, char **argv)
{
    const char *path = NULL;
    int batch = 1, iterations = 1000;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--batch") == 0) {
            if ((batch = tool_parse_int("--batch", i + 1 < argc ? argv[++i] : NULL)) < 0)
                return 2;
        } else if (strcmp(argv[i], "--iterations") == 0) {
            if ((iterations = tool_parse_int("--iterations", i + 1 < argc ? argv[++i] : NULL)) < 0)
                return 2;
        } else if (!path && argv[i][0] != '-') {
            path = argv[i];
        } else {
            fprintf(stderr, "usage: aether-model bench FILE [--batch N] [--iterations N]\n");
            return 2;
        }
    }
    if (!path) {
        fprintf(stderr, "usage: aether-model bench FILE [--batch N] [--iterations N]\n");
        return 2;
    }
    int window, horizon;
    if (tool_model_dims(path, 0, 0, &window, &horizon) != 0)
        return 1;
    char err[1024];
    ae_predictor *p = NULL;
    if (nn_predictor_open(path, window, horizon, batch, &p, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    size_t n_in = (size_t)batch * (size_t)window * FEATURES;
    float *in = malloc(n_in * sizeof *in);
    float *out = malloc((size_t)batch * (size_t)horizon * FEATURES * sizeof *out);
    double *lat = malloc(sizeof *lat * (size_t)iterations);
    int rc = in && out && lat ? 0 : 1;
    if (rc == 0)
        bench_fill_window(in, n_in);
    int warmup = iterations / 10 > 10 ? iterations / 10 : 10;
    for (int i = 0; rc == 0 && i < warmup; i++)
        rc = p->predict(p->state, in, batch, out, err, sizeof err);
    for (int i = 0; rc == 0 && i < iterations; i++) {
        double t0 = bench_now_us();
        rc = p->predict(p->state, in, batch, out, err, sizeof err);
        lat[i] = bench_now_us() - t0;
    }
    if (rc != 0) {
        fprintf(stderr, "%s\n", in && out && lat ? err : "out of memory");
    } else {
        const nn_model *m = nn_predictor_model(p);
        bench_print_latency(lat, iterations, batch);
        printf("memory arena_bytes=%zu weight_bytes=%zu peak_rss_kb=%ld\n", nn_model_arena_bytes(m),
               nn_model_weight_bytes(m), bench_peak_rss_kb());
    }
    free(in);
    free(out);
    free(lat);
    ae_predictor_close(p);
    return rc ? 1 : 0;
}
