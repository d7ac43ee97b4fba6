/* ort_c_bench LIB MODEL --window W [--batch N] [--iterations N]: ONNX Runtime's C API timed the
 * way `aether-model bench` times our engine, for bench/onnx/run.sh.
 *
 * LIB is libonnxruntime.so (the one inside the onnxruntime-node npm package), opened with dlopen
 * at run time, so this program builds without ONNX Runtime's headers or library: it declares the
 * handful of entry points it calls by their position in the OrtApi table (ORT only appends to
 * that table, so the positions hold for every version since 1.0). One session, one intra-op and
 * one inter-op thread, sequential execution, all graph optimisations. The input `input`
 * [batch, W, 11] gets the same pseudo-random window as aether-model bench (the same LCG), bound
 * once to caller memory, and the output `output` is read back into caller memory on every call
 * (ORT allocates the output per run: that is part of its cost). Warm-up and statistics as
 * aether-model bench: iterations / 10 (at least 10) untimed calls, then min / median / p99 of
 * the timed ones. Prints
 *   latency_us min=X median=X p99=X
 *   throughput inferences_per_s=X batch=N
 *   memory peak_rss_kb=N
 * with the peak RSS of the whole process (getrusage), loading included, as aether-model bench. */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "latency.h"

#define FEATURES 11

/* Positions of the entry points used, in struct OrtApi (onnxruntime_c_api.h). */
enum {
    ORT_GET_ERROR_MESSAGE = 2,
    ORT_CREATE_ENV = 3,
    ORT_CREATE_SESSION = 7,
    ORT_RUN = 9,
    ORT_CREATE_SESSION_OPTIONS = 10,
    ORT_SET_EXECUTION_MODE = 13,
    ORT_SET_GRAPH_OPTIMIZATION_LEVEL = 23,
    ORT_SET_INTRA_OP_THREADS = 24,
    ORT_SET_INTER_OP_THREADS = 25,
    ORT_CREATE_TENSOR_WITH_DATA = 49,
    ORT_GET_TENSOR_MUTABLE_DATA = 51,
    ORT_CREATE_CPU_MEMORY_INFO = 69,
    ORT_RELEASE_ENV = 92,
    ORT_RELEASE_MEMORY_INFO = 94,
    ORT_RELEASE_SESSION = 95,
    ORT_RELEASE_VALUE = 96,
    ORT_RELEASE_SESSION_OPTIONS = 100,
};
#define ORT_API_VERSION_USED 1 /* every entry above exists since version 1 */
#define ORT_LOGGING_ERROR 3
#define ORT_ENABLE_ALL 99
#define ORT_SEQUENTIAL 0
#define ORT_ARENA_ALLOCATOR 1
#define ORT_MEM_TYPE_DEFAULT 0
#define ORT_FLOAT 1

typedef void *status_t; /* OrtStatus *, NULL on success */
struct ort_api_base {
    const void *const *(*get_api)(uint32_t version);
    const char *(*get_version_string)(void);
};

static const void *const *api;

#define ORT_FN(idx, type) ((type)api[idx])

static int check(status_t st, const char *what)
{
    if (!st)
        return 0;
    const char *msg = ORT_FN(ORT_GET_ERROR_MESSAGE, const char *(*)(status_t))(st);
    fprintf(stderr, "ort_c_bench: %s: %s\n", what, msg);
    return 1;
}

static int positive(const char *opt, const char *v)
{
    char *end;
    long n = v ? strtol(v, &end, 10) : 0;
    if (!v || *end || n < 1 || n > 100000000) {
        fprintf(stderr, "ort_c_bench: %s expects a positive integer\n", opt);
        exit(2);
    }
    return (int)n;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: ort_c_bench LIB MODEL --window W [--batch N] [--iterations N]\n");
        return 2;
    }
    const char *lib = argv[1], *model = argv[2];
    int window = 0, batch = 1, iterations = 1000;
    for (int i = 3; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--window"))
            window = positive("--window", v), i++;
        else if (!strcmp(argv[i], "--batch"))
            batch = positive("--batch", v), i++;
        else if (!strcmp(argv[i], "--iterations"))
            iterations = positive("--iterations", v), i++;
        else {
            fprintf(stderr, "ort_c_bench: unknown option '%s'\n", argv[i]);
            return 2;
        }
    }
    if (window == 0) {
        fprintf(stderr, "ort_c_bench: --window is required\n");
        return 2;
    }
    void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "ort_c_bench: %s\n", dlerror());
        return 1;
    }
    const struct ort_api_base *(*get_base)(void);
    void *sym = dlsym(h, "OrtGetApiBase");
    if (!sym) {
        fprintf(stderr, "ort_c_bench: %s has no OrtGetApiBase\n", lib);
        return 1;
    }
    memcpy(&get_base, &sym, sizeof get_base);
    api = get_base()->get_api(ORT_API_VERSION_USED);
    if (!api) {
        fprintf(stderr, "ort_c_bench: the library refuses API version %d\n",
                ORT_API_VERSION_USED);
        return 1;
    }

    void *env = NULL, *opts = NULL, *session = NULL, *mem = NULL, *input = NULL;
    int rc = check(ORT_FN(ORT_CREATE_ENV, status_t (*)(int, const char *, void **))(
                       ORT_LOGGING_ERROR, "bench", &env),
                   "CreateEnv");
    rc = rc || check(ORT_FN(ORT_CREATE_SESSION_OPTIONS, status_t (*)(void **))(&opts),
                     "CreateSessionOptions");
    rc = rc || check(ORT_FN(ORT_SET_INTRA_OP_THREADS, status_t (*)(void *, int))(opts, 1),
                     "SetIntraOpNumThreads");
    rc = rc || check(ORT_FN(ORT_SET_INTER_OP_THREADS, status_t (*)(void *, int))(opts, 1),
                     "SetInterOpNumThreads");
    rc = rc || check(ORT_FN(ORT_SET_EXECUTION_MODE, status_t (*)(void *, int))(opts,
                                                                                ORT_SEQUENTIAL),
                     "SetSessionExecutionMode");
    rc = rc || check(ORT_FN(ORT_SET_GRAPH_OPTIMIZATION_LEVEL, status_t (*)(void *, int))(
                         opts, ORT_ENABLE_ALL),
                     "SetSessionGraphOptimizationLevel");
    rc = rc || check(ORT_FN(ORT_CREATE_SESSION,
                            status_t (*)(void *, const char *, void *, void **))(env, model, opts,
                                                                                 &session),
                     "CreateSession");
    rc = rc || check(ORT_FN(ORT_CREATE_CPU_MEMORY_INFO, status_t (*)(int, int, void **))(
                         ORT_ARENA_ALLOCATOR, ORT_MEM_TYPE_DEFAULT, &mem),
                     "CreateCpuMemoryInfo");
    size_t n_in = (size_t)batch * (size_t)window * FEATURES;
    float *in = malloc(n_in * sizeof *in);
    double *lat = malloc(sizeof *lat * (size_t)iterations);
    if (!in || !lat) {
        fprintf(stderr, "ort_c_bench: out of memory\n");
        return 1;
    }
    bench_fill_window(in, n_in); /* the window aether-model bench uses */
    const int64_t shape[3] = {batch, window, FEATURES};
    rc = rc || check(ORT_FN(ORT_CREATE_TENSOR_WITH_DATA,
                            status_t (*)(void *, void *, size_t, const int64_t *, size_t, int,
                                         void **))(mem, in, n_in * sizeof *in, shape, 3,
                                                   ORT_FLOAT, &input),
                     "CreateTensorWithDataAsOrtValue");
    const char *in_names[1] = {"input"}, *out_names[1] = {"output"};
    typedef status_t (*run_fn)(void *, void *, const char *const *, const void *const *, size_t,
                               const char *const *, size_t, void **);
    typedef void (*release_fn)(void *);
    float sink = 0.0f;
    int warmup = iterations / 10 > 10 ? iterations / 10 : 10;
    for (int i = 0; !rc && i < warmup + iterations; i++) {
        void *output = NULL;
        const void *inputs[1] = {input};
        double t0 = bench_now_us();
        rc = check(ORT_FN(ORT_RUN, run_fn)(session, NULL, in_names, inputs, 1, out_names, 1,
                                           &output),
                   "Run");
        float *y = NULL;
        if (!rc)
            rc = check(ORT_FN(ORT_GET_TENSOR_MUTABLE_DATA, status_t (*)(void *, void **))(
                           output, (void **)&y),
                       "GetTensorMutableData");
        if (!rc)
            sink += y[0];
        ORT_FN(ORT_RELEASE_VALUE, release_fn)(output);
        double dt = bench_now_us() - t0;
        if (i >= warmup)
            lat[i - warmup] = dt;
    }
    if (!rc) {
        bench_print_latency(lat, iterations, batch);
        printf("memory peak_rss_kb=%ld\n", bench_peak_rss_kb());
        printf("onnxruntime version=%s checksum=%g\n", get_base()->get_version_string(),
               (double)sink);
    }
    if (input)
        ORT_FN(ORT_RELEASE_VALUE, release_fn)(input);
    if (mem)
        ORT_FN(ORT_RELEASE_MEMORY_INFO, release_fn)(mem);
    if (session)
        ORT_FN(ORT_RELEASE_SESSION, release_fn)(session);
    if (opts)
        ORT_FN(ORT_RELEASE_SESSION_OPTIONS, release_fn)(opts);
    if (env)
        ORT_FN(ORT_RELEASE_ENV, release_fn)(env);
    free(in);
    free(lat);
    return rc ? 1 : 0;
}
