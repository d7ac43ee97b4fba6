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
#include <sys/resource.h>
#include <time.h>

#include "tool.h"

#define FEATURES 11

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

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
    ae_predictor *p = nn_predictor_open(path, window, horizon, batch, err, sizeof err);
    if (!p) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    size_t n_in = (size_t)batch * (size_t)window * FEATURES;
    float *in = malloc(n_in * sizeof *in);
    float *out = malloc((size_t)batch * (size_t)horizon * FEATURES * sizeof *out);
    double *lat = malloc(sizeof *lat * (size_t)iterations);
    int rc = in && out && lat ? 0 : 1;
    /* A fixed pseudo-random window (LCG), values in [-1, 1). */
    unsigned seed = 12345;
    for (size_t i = 0; rc == 0 && i < n_in; i++) {
        seed = seed * 1103515245u + 12345u;
        in[i] = (float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
    int warmup = iterations / 10 > 10 ? iterations / 10 : 10;
    for (int i = 0; rc == 0 && i < warmup; i++)
        rc = p->predict(p->state, in, batch, out, err, sizeof err);
    double total = 0;
    for (int i = 0; rc == 0 && i < iterations; i++) {
        double t0 = now_us();
        rc = p->predict(p->state, in, batch, out, err, sizeof err);
        lat[i] = now_us() - t0;
        total += lat[i];
    }
    if (rc != 0) {
        fprintf(stderr, "%s\n", in && out && lat ? err : "out of memory");
    } else {
        qsort(lat, (size_t)iterations, sizeof *lat, cmp_double);
        int p99 = (int)((double)iterations * 0.99);
        if (p99 >= iterations)
            p99 = iterations - 1;
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        const nn_model *m = nn_predictor_model(p);
        printf("latency_us min=%.1f median=%.1f p99=%.1f\n", lat[0], lat[iterations / 2], lat[p99]);
        printf("throughput inferences_per_s=%.0f batch=%d\n",
               total > 0 ? (double)iterations * batch / (total / 1e6) : 0.0, batch);
        printf("memory arena_bytes=%zu weight_bytes=%zu peak_rss_kb=%ld\n", nn_model_arena_bytes(m),
               nn_model_weight_bytes(m), ru.ru_maxrss);
    }
    free(in);
    free(out);
    free(lat);
    ae_predictor_close(p);
    return rc ? 1 : 0;
}
