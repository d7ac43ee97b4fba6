/* Kernel comparison for nn_sgemm: every kernel variant this CPU runs, and OpenBLAS's
 * cblas_sgemm when the build found it, on the matrix products of the reference mixer
 * (W=60, d_model=64, channel MLP 256; as exported, every product is row-major A x B with the
 * batch folded into M), single-threaded, same buffers for everyone.
 *
 *   gemm_bench [--batch N] [--samples N]
 *   gemm_bench --peak     only the single-core peak line
 *
 * For each shape and kernel: the median over samples of the thread CPU time per call (each sample
 * repeats the call enough times to last ~50 us), and the GFLOP/s that gives (2*M*N*K / time). The
 * last lines add the shapes up the way one inference of the mixer runs them, and state the peak of
 * one core (fma_peak.c) for scale. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fma_peak.h"
#include "gemm.h"
#include "gemm_kernel.h"

#if defined(AETHER_HAVE_OPENBLAS)
#include <cblas.h>
#endif

struct shape {
    const char *what;
    int trans_a, trans_b, m, n, k; /* m is per batch item */
    int per_inference;             /* how often one mixer inference runs it (0: extra layout) */
};

/* The reference mixer at window 60, horizon 1 (tests/onnx/reference_mixer.py). */
static const struct shape shapes[] = {
    {"input Linear(11->64)", 0, 0, 60, 64, 11, 1},
    {"temporal Linear(60->60)", 0, 0, 64, 60, 60, 6},
    {"channel Linear(64->256)", 0, 0, 60, 256, 64, 3},
    {"channel Linear(256->64)", 0, 0, 60, 64, 256, 3},
    {"output Linear(64->11)", 0, 0, 60, 11, 64, 1},
    {"head Linear(60->1)", 0, 0, 11, 1, 60, 1},
    {"temporal, A transposed", 1, 0, 64, 60, 60, 0},
    {"temporal, B transposed", 0, 1, 64, 60, 60, 0},
};
#define N_SHAPES (sizeof shapes / sizeof shapes[0])

typedef void gemm_call(const struct shape *s, int m, const float *a, const float *b, float *c);

static nn_sgemm_fn *current_variant;
static void call_variant(const struct shape *s, int m, const float *a, const float *b, float *c)
{
    current_variant(s->trans_a, s->trans_b, m, s->n, s->k, 1.0f, a, s->trans_a ? m : s->k, b,
                    s->trans_b ? s->k : s->n, 0.0f, c, s->n);
}

#if defined(AETHER_HAVE_OPENBLAS)
static void call_openblas(const struct shape *s, int m, const float *a, const float *b, float *c)
{
    cblas_sgemm(CblasRowMajor, s->trans_a ? CblasTrans : CblasNoTrans,
                s->trans_b ? CblasTrans : CblasNoTrans, m, s->n, s->k, 1.0f, a,
                s->trans_a ? m : s->k, b, s->trans_b ? s->k : s->n, 0.0f, c, s->n);
}
#endif

/* CPU time of this thread: the machine may be shared, and time spent descheduled is not the
 * kernel's. */
static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec * 1e-3;
}

static int compare_double(const void *x, const void *y)
{
    const double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* Median microseconds per call of `call` on shape s with m rows. */
static double time_call(gemm_call *call, const struct shape *s, int m, const float *a,
                        const float *b, float *c, int samples)
{
    double start = now_us();
    int reps = 0;
    do { /* warm up and size the repetitions: ~50 us per sample */
        call(s, m, a, b, c);
        reps++;
    } while (now_us() - start < 2000.0);
    reps = reps / 40 > 1 ? reps / 40 : 1;
    double *times = malloc(sizeof(double) * (size_t)samples);
    if (!times)
        return 0.0;
    for (int i = 0; i < samples; i++) {
        start = now_us();
        for (int r = 0; r < reps; r++)
            call(s, m, a, b, c);
        times[i] = (now_us() - start) / reps;
    }
    qsort(times, (size_t)samples, sizeof(double), compare_double);
    const double median = times[samples / 2];
    free(times);
    return median;
}

/* Prints the single-core peak line: the FMA throughput of the vector level nn_sgemm runs, as
 * measured on this core (fma_peak.c). */
static void print_peak(void)
{
    const char *level = nn_sgemm_kernel_name();
    const int lanes = !strcmp(level, "avx512") ? 16 : !strcmp(level, "avx2") ? 8 : 0;
    const double gflops = lanes ? measured_fma_gflops(lanes, 20000000, 5) : 0.0;
    if (gflops <= 0.0) {
        printf("single-core peak: unknown for kernel level %s\n", level);
        return;
    }
    printf("single-core peak: measured %s FMA throughput (12 independent %d-lane chains, best of "
           "5) = %.1f GFLOP/s\n",
           level, lanes, gflops);
}

static int parse_int(const char *flag, const char *text, int lo, int hi)
{
    char *end;
    const long v = text ? strtol(text, &end, 10) : 0;
    if (!text || *end || v < lo || v > hi) {
        fprintf(stderr, "gemm_bench: %s expects an integer in %d..%d, got '%s'\n", flag, lo, hi,
                text ? text : "");
        exit(2);
    }
    return (int)v;
}

int main(int argc, char **argv)
{
    int batch = 1, samples = 51;
    for (int i = 1; i < argc; i += 2) {
        const char *flag = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(flag, "--peak")) {
            print_peak();
            return 0;
        }
        if (!strcmp(flag, "--batch"))
            batch = parse_int(flag, value, 1, 64);
        else if (!strcmp(flag, "--samples"))
            samples = parse_int(flag, value, 1, 10000);
        else {
            fprintf(stderr, "usage: gemm_bench [--batch N] [--samples N] | --peak\n");
            return 2;
        }
    }

    struct {
        const char *name;
        gemm_call *call;
        nn_sgemm_fn *variant;
        double total_us;
    } kernels[5];
    struct nn_gemm_variant variants[3];
    int n_kernels = 0;
    const int n_variants = nn_gemm_variants(variants, 3);
    for (int i = 0; i < n_variants; i++) {
        kernels[n_kernels].name = variants[i].name;
        kernels[n_kernels].call = call_variant;
        kernels[n_kernels].variant = variants[i].fn;
        kernels[n_kernels++].total_us = 0.0;
    }
#if defined(AETHER_HAVE_OPENBLAS)
    openblas_set_num_threads(1);
    kernels[n_kernels].name = "openblas";
    kernels[n_kernels].call = call_openblas;
    kernels[n_kernels].variant = NULL;
    kernels[n_kernels++].total_us = 0.0;
#endif

    /* Buffers large enough for every shape, filled once. */
    const size_t size = (size_t)batch * 64 * 256 + 256 * 256;
    float *a = malloc(size * sizeof(float)), *b = malloc(size * sizeof(float));
    float *c = malloc(size * sizeof(float));
    if (!a || !b || !c) {
        fprintf(stderr, "gemm_bench: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < size; i++) {
        a[i] = (float)((i * 7919) % 1000) * 1e-3f - 0.5f;
        b[i] = (float)((i * 104729) % 1000) * 1e-3f - 0.5f;
        c[i] = 0.0f;
    }

    printf(
        "nn_sgemm kernels vs OpenBLAS, single thread, batch %d, median of %d samples (CPU time)\n",
        batch, samples);
    printf("%-26s %-12s %4s %8s", "product", "MxNxK", "op", "MFLOP");
    for (int k = 0; k < n_kernels; k++)
        printf(" %17s", kernels[k].name);
    printf("\n");
    double total_flops = 0.0;
    for (size_t s = 0; s < N_SHAPES; s++) {
        const struct shape *sh = &shapes[s];
        const int m = sh->m * batch;
        const double flops = 2.0 * m * sh->n * sh->k;
        char dims[32];
        snprintf(dims, sizeof dims, "%dx%dx%d", m, sh->n, sh->k);
        printf("%-26s %-12s %c%c x%d %8.3f", sh->what, dims, sh->trans_a ? 'T' : 'N',
               sh->trans_b ? 'T' : 'N', sh->per_inference, flops * 1e-6);
        total_flops += flops * sh->per_inference;
        for (int k = 0; k < n_kernels; k++) {
            current_variant = kernels[k].variant;
            const double us = time_call(kernels[k].call, sh, m, a, b, c, samples);
            kernels[k].total_us += us * sh->per_inference;
            printf(" %7.2fus %5.1fGF", us, flops / us * 1e-3);
        }
        printf("\n");
    }
    printf("%-26s %-12s %4s %8.3f", "one mixer inference", "", "", total_flops * 1e-6);
    for (int k = 0; k < n_kernels; k++)
        printf(" %7.1fus %5.1fGF", kernels[k].total_us, total_flops / kernels[k].total_us * 1e-3);
    printf("\n");

    print_peak();
    printf("nn_sgemm runs: %s\n", nn_sgemm_kernel_name());
#if defined(AETHER_HAVE_OPENBLAS)
    /* OpenBLAS picks its kernels from the CPU model; one it does not know gets old SSE3 ones
     * (OPENBLAS_CORETYPE overrides the choice). */
    printf("openblas kernels: %s\n", openblas_get_corename());
#endif
    free(a);
    free(b);
    free(c);
    return 0;
}
