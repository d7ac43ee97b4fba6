/* nn_sgemm against a plain double-precision reference.
 *
 * Every kernel variant this build has and this CPU can run is checked (not only the one nn_sgemm
 * picks), over all transpose combinations, odd sizes around the tile edges, leading dimensions
 * wider than the matrices, several alpha/beta pairs (beta == 0 over a C full of NaN), k longer
 * than one k block, and the shapes the reference mixer runs at batch 1 and 8. Each result must
 * be within a rounding bound of the reference, and the padding between rows of C must be left
 * untouched. */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gemm.h"
#include "gemm_kernel.h"

/* Written into C's padding (columns n..ldc-1); must still be there afterwards. */
#define SENTINEL 12345.0f

/* Deterministic values in [-1, 1). */
static unsigned long long rng_state = 88172645463325252ULL;
static float next_value(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (float)((rng_state >> 40) / (double)(1ULL << 24)) * 2.0f - 1.0f;
}

struct problem {
    int trans_a, trans_b, m, n, k;
    float alpha, beta;
    int pad;   /* extra elements per row of A, B and C beyond what the shape needs */
    int nan_c; /* C starts as NaN (only meaningful with beta == 0) */
};

/* Set by test_packed_bias: each problem gets a bias of n floats added to every row (the packed
 * wrappers below pass problem_bias, NULL otherwise). */
static int with_bias;
static const float *problem_bias;

/* Runs `fn` (or nn_sgemm when fn is NULL) on one random problem and checks every element. */
static void check_problem(nn_sgemm_fn *fn, const char *name, const struct problem *p)
{
    const int a_rows = p->trans_a ? p->k : p->m, a_cols = p->trans_a ? p->m : p->k;
    const int b_rows = p->trans_b ? p->n : p->k, b_cols = p->trans_b ? p->k : p->n;
    const int lda = a_cols + p->pad, ldb = b_cols + p->pad, ldc = p->n + p->pad;
    float *a = malloc(sizeof(float) * ((size_t)a_rows * lda + 1));
    float *b = malloc(sizeof(float) * ((size_t)b_rows * ldb + 1));
    float *c = malloc(sizeof(float) * ((size_t)p->m * ldc + 1));
    float *c0 = malloc(sizeof(float) * ((size_t)p->m * ldc + 1));
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_non_null(c0);
    for (long i = 0; i < (long)a_rows * lda; i++)
        a[i] = next_value();
    for (long i = 0; i < (long)b_rows * ldb; i++)
        b[i] = next_value();
    for (int i = 0; i < p->m; i++)
        for (int j = 0; j < ldc; j++)
            c0[(long)i * ldc + j] = j >= p->n ? SENTINEL : p->nan_c ? NAN : next_value();
    memcpy(c, c0, sizeof(float) * (size_t)p->m * ldc);
    float *bias = malloc(sizeof(float) * ((size_t)p->n + 1));
    assert_non_null(bias);
    for (int j = 0; j < p->n; j++)
        bias[j] = 4.0f * next_value();
    problem_bias = with_bias ? bias : NULL;

    if (fn)
        fn(p->trans_a, p->trans_b, p->m, p->n, p->k, p->alpha, a, lda, b, ldb, p->beta, c, ldc);
    else
        nn_sgemm(p->trans_a, p->trans_b, p->m, p->n, p->k, p->alpha, a, lda, b, ldb, p->beta, c,
                 ldc);

    for (int i = 0; i < p->m; i++) {
        for (int j = 0; j < ldc; j++) {
            const float got = c[(long)i * ldc + j];
            if (j >= p->n) {
                if (got != SENTINEL)
                    fail_msg("%s: padding of C changed at (%d,%d)", name, i, j);
                continue;
            }
            double sum = 0.0, magnitude = 0.0;
            for (int q = 0; q < p->k; q++) {
                const double aiq = p->trans_a ? a[(long)q * lda + i] : a[(long)i * lda + q];
                const double bqj = p->trans_b ? b[(long)j * ldb + q] : b[(long)q * ldb + j];
                sum += aiq * bqj;
                magnitude += fabs(aiq * bqj);
            }
            double want = p->alpha * sum;
            magnitude *= fabs(p->alpha);
            if (p->beta != 0.0f) {
                want += p->beta * (double)c0[(long)i * ldc + j];
                magnitude += fabs(p->beta * (double)c0[(long)i * ldc + j]);
            }
            if (with_bias) {
                want += bias[j];
                magnitude += fabs(bias[j]);
            }
            /* float accumulation of k products in any order, plus the alpha/beta step */
            const double tolerance = 2.0 * (p->k + 3) * FLT_EPSILON * magnitude + 1e-30;
            if (!(fabs(got - want) <= tolerance))
                fail_msg("%s: trans %d%d m=%d n=%d k=%d alpha=%g beta=%g pad=%d: C(%d,%d) = %.9g, "
                         "want %.9g (tolerance %.3g)",
                         name, p->trans_a, p->trans_b, p->m, p->n, p->k, p->alpha, p->beta, p->pad,
                         i, j, got, want, tolerance);
        }
    }
    problem_bias = NULL;
    free(a);
    free(b);
    free(c);
    free(c0);
    free(bias);
}

/* The kernels to check: every usable variant, then nn_sgemm itself (fn NULL). */
static int kernels(struct nn_gemm_variant *out, int max)
{
    int count = nn_gemm_variants(out, max - 1);
    out[count].name = "nn_sgemm";
    out[count].fn = NULL;
    return count + 1;
}

static void test_variants_listed(void **state)
{
    (void)state;
    struct nn_gemm_variant v[4];
    const int count = nn_gemm_variants(v, 4);
    assert_true(count >= 1);
    assert_string_equal(v[count - 1].name, "generic");
    /* nn_sgemm runs the first (fastest) one */
    assert_string_equal(nn_sgemm_kernel_name(), v[0].name);
    print_message("kernels usable here:");
    for (int i = 0; i < count; i++)
        print_message(" %s", v[i].name);
    print_message("\n");
}

static void test_odd_sizes_all_transposes(void **state)
{
    (void)state;
    static const int sizes[] = {1, 2, 3, 7, 17, 33};
    static const float scales[][2] = {{1.0f, 0.0f}, {0.5f, 2.0f}, {-1.5f, 1.0f}, {1.0f, -0.25f}};
    struct nn_gemm_variant v[5];
    const int count = kernels(v, 5);
    const int n_sizes = (int)(sizeof sizes / sizeof sizes[0]);
    for (int kv = 0; kv < count; kv++)
        for (int t = 0; t < 4; t++)
            for (int mi = 0; mi < n_sizes; mi++)
                for (int ni = 0; ni < n_sizes; ni++)
                    for (int ki = 0; ki < n_sizes; ki++) {
                        const int s = (mi + ni + ki) % 4; /* vary alpha/beta and padding */
                        struct problem p = {
                            t >> 1,       t & 1,        sizes[mi],         sizes[ni], sizes[ki],
                            scales[s][0], scales[s][1], (mi + ki) % 3 * 5, 0};
                        check_problem(v[kv].fn, v[kv].name, &p);
                    }
}

/* beta == 0 must not read C: NaN there must not reach the result. */
static void test_beta_zero_ignores_nan(void **state)
{
    (void)state;
    struct nn_gemm_variant v[5];
    const int count = kernels(v, 5);
    for (int kv = 0; kv < count; kv++)
        for (int t = 0; t < 4; t++) {
            struct problem p = {t >> 1, t & 1, 37, 45, 19, 1.0f, 0.0f, 3, 1};
            check_problem(v[kv].fn, v[kv].name, &p);
            p.alpha = -2.0f;
            p.m = 5;
            p.n = 70;
            check_problem(v[kv].fn, v[kv].name, &p);
        }
}

/* Nothing to multiply: C = beta * C (zero for beta == 0, even over NaN), and m or n == 0 does
 * nothing at all. Only nn_sgemm handles these; the kernels require m, n, k >= 1, alpha != 0. */
static void test_degenerate_shapes(void **state)
{
    (void)state;
    float a[4] = {1, 2, 3, 4}, b[4] = {5, 6, 7, 8};
    float c[4] = {1.0f, 2.0f, NAN, 4.0f};
    nn_sgemm(0, 0, 2, 2, 0, 1.0f, a, 2, b, 2, 3.0f, c, 2); /* k == 0 */
    assert_true(c[0] == 3.0f && c[1] == 6.0f && isnan(c[2]) && c[3] == 12.0f);
    nn_sgemm(0, 0, 2, 2, 2, 0.0f, a, 2, b, 2, 0.0f, c, 2); /* alpha == 0, beta == 0 */
    for (int i = 0; i < 4; i++)
        assert_true(c[i] == 0.0f);
    c[0] = 7.0f;
    nn_sgemm(0, 0, 0, 2, 2, 1.0f, a, 2, b, 2, 0.0f, c, 2); /* m == 0 */
    nn_sgemm(0, 0, 2, 0, 2, 1.0f, a, 2, b, 2, 0.0f, c, 2); /* n == 0 */
    assert_true(c[0] == 7.0f);
    struct problem p = {0, 1, 9, 9, 0, 1.0f, 0.5f, 2, 0}; /* k == 0 through the checker */
    check_problem(NULL, "nn_sgemm", &p);
    p.k = 5;
    p.alpha = 0.0f;
    check_problem(NULL, "nn_sgemm", &p);
}

/* k longer than one k block (256): later blocks must add to, not replace, the first. */
static void test_long_k(void **state)
{
    (void)state;
    struct nn_gemm_variant v[5];
    const int count = kernels(v, 5);
    static const int ks[] = {255, 256, 257, 600};
    for (int kv = 0; kv < count; kv++)
        for (int t = 0; t < 4; t++)
            for (int i = 0; i < 4; i++) {
                struct problem p = {t >> 1, t & 1, 13, 35, ks[i], 0.75f, i == 1 ? 0.0f : 1.5f,
                                    1,      i == 1};
                check_problem(v[kv].fn, v[kv].name, &p);
            }
}

/* The products the reference mixer (W=60, d_model=64, channel MLP 256) runs, at batch 1 and 8,
 * in the layouts an engine may choose (e.g. the temporal MLP with the transpose folded in). */
static void test_mixer_shapes(void **state)
{
    (void)state;
    static const struct problem shapes[] = {
        {0, 0, 60, 64, 11, 1.0f, 0.0f, 0, 0},   /* input Linear(11->64) */
        {0, 0, 64, 60, 60, 1.0f, 0.0f, 0, 0},   /* temporal MLP on [64 x 60] */
        {1, 0, 64, 60, 60, 1.0f, 0.0f, 0, 0},   /* the same reading A transposed */
        {0, 1, 64, 60, 60, 1.0f, 1.0f, 0, 0},   /* weight as stored [out x in], add to C */
        {0, 0, 60, 64, 60, 1.0f, 0.0f, 0, 0},   /* temporal MLP as W x X */
        {0, 0, 60, 256, 64, 1.0f, 0.0f, 0, 0},  /* channel MLP up */
        {0, 0, 60, 64, 256, 1.0f, 1.0f, 0, 0},  /* channel MLP down, onto the residual */
        {0, 0, 60, 11, 64, 1.0f, 0.0f, 0, 0},   /* output Linear(64->11) */
        {0, 0, 11, 1, 60, 1.0f, 0.0f, 0, 0},    /* temporal head Linear(60->1) */
        {0, 0, 480, 256, 64, 1.0f, 0.0f, 0, 0}, /* batch 8 */
        {0, 0, 480, 64, 256, 1.0f, 0.0f, 0, 0}, {0, 0, 512, 60, 60, 1.0f, 0.0f, 0, 0},
        {0, 1, 512, 60, 60, 1.0f, 0.0f, 0, 0},
    };
    struct nn_gemm_variant v[5];
    const int count = kernels(v, 5);
    for (int kv = 0; kv < count; kv++)
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
            check_problem(v[kv].fn, v[kv].name, &shapes[i]);
}

/* nn_sgemm_pack_b + nn_sgemm_packed through the checker's nn_sgemm signature: B packed (any
 * transpose) into a buffer of the packed stride, then multiplied from there. */
static void packed_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha,
                         const float *a, int lda, const float *b, int ldb, float beta, float *c,
                         int ldc)
{
    int stride = nn_sgemm_packed_stride(n);
    assert_true(stride >= n);
    float *bp = malloc(sizeof(float) * ((size_t)k * stride + 1));
    assert_non_null(bp);
    nn_sgemm_pack_b(trans_b, n, k, b, ldb, bp);
    for (int p = 0; p < k; p++) /* zero past column n: the kernel reads whole panels */
        for (int j = n; j < stride; j++)
            assert_true(bp[(long)p * stride + j] == 0.0f);
    nn_sgemm_packed_bias(trans_a, m, n, k, alpha, a, lda, bp, beta, c, ldc, problem_bias);
    free(bp);
}

/* B packed once at planning: the same results as nn_sgemm over odd sizes around the panel
 * edges, every transpose, long k, and the mixer's shapes. */
static void test_packed_b(void **state)
{
    (void)state;
    static const int sizes[] = {1, 5, 11, 31, 32, 33, 60, 64, 65};
    for (int t = 0; t < 4; t++)
        for (int i = 0; i < 9; i++)
            for (int j = 0; j < 9; j += 2) {
                struct problem p = {t >> 1, t & 1, sizes[j] + 2, sizes[i], sizes[(i + j) % 9],
                                    1.25f, t == 3 ? 0.0f : 0.5f, 2, t == 3};
                check_problem(packed_sgemm, "packed", &p);
            }
    struct problem lk = {0, 1, 13, 35, 600, 0.75f, 1.5f, 1, 0};
    check_problem(packed_sgemm, "packed", &lk);
    struct problem mixer = {0, 0, 480, 11, 64, 1.0f, 0.0f, 0, 0};
    check_problem(packed_sgemm, "packed", &mixer);
}

/* The variant whose packed kernel variant_packed_sgemm runs (set by the test). */
static const struct nn_gemm_variant *packed_variant;

/* B packed at the variant's own panel width, then that variant's packed kernel. */
static void variant_packed_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha,
                                 const float *a, int lda, const float *b, int ldb, float beta,
                                 float *c, int ldc)
{
    int panel = packed_variant->panel, stride = (n + panel - 1) / panel * panel;
    float *bp = malloc(sizeof(float) * ((size_t)k * stride + 1));
    assert_non_null(bp);
    for (int p = 0; p < k; p++)
        for (int j = 0; j < stride; j++)
            bp[(long)p * stride + j] =
                j >= n ? 0.0f : trans_b ? b[(long)j * ldb + p] : b[(long)p * ldb + j];
    packed_variant->packed(trans_a, m, n, k, alpha, a, lda, bp, stride, beta, c, ldc, problem_bias);
    free(bp);
}

/* One-row products over a packed B (the recurrent step at batch 1 takes its own kernel): every
 * level, widths around the panel and multi-panel edges, odd and even k, both layouts of A. */
static void test_packed_one_row(void **state)
{
    (void)state;
    struct nn_gemm_variant v[4];
    int count = nn_gemm_variants(v, 4);
    static const int widths[] = {1, 7, 24, 31, 32, 33, 72, 96, 127, 128, 129, 200, 257};
    static const int depths[] = {1, 2, 3, 24, 25, 300};
    for (int kv = 0; kv < count; kv++) {
        packed_variant = &v[kv];
        for (int i = 0; i < 13; i++)
            for (int d = 0; d < 6; d++) {
                int t = (i + d) % 3; /* 0: beta 0.5, 1: A transposed, 2: beta 0 over NaN */
                float beta = t == 2 ? 0.0f : 0.5f;
                struct problem p = {t == 1, (i + d) & 1, 1, widths[i], depths[d], 0.75f, beta, 1,
                                    t == 2};
                check_problem(variant_packed_sgemm, v[kv].name, &p);
                check_problem(packed_sgemm, "packed", &p);
            }
    }
}

/* The bias epilogue of the packed kernels (nn_sgemm_packed_bias): every level, one row and
 * several, both betas (0 over NaN), k longer than one k block (the bias is added once), widths
 * around the panel, a product with nothing to multiply (k = 0: C = beta C + bias). */
static void test_packed_bias(void **state)
{
    (void)state;
    struct nn_gemm_variant v[4];
    int count = nn_gemm_variants(v, 4);
    with_bias = 1;
    static const int widths[] = {1, 11, 32, 33, 96, 129};
    static const int rows[] = {1, 5, 13, 60};
    for (int kv = 0; kv < count; kv++) {
        packed_variant = &v[kv];
        for (int i = 0; i < 6; i++)
            for (int r = 0; r < 4; r++) {
                int t = (i + r) % 3; /* 0: beta 1, 1: A transposed, 2: beta 0 over NaN */
                struct problem p = {
                    t == 1, r & 1, rows[r], widths[i], (i + 1) * 7, 0.75f, t == 2 ? 0.0f : 1.0f,
                    1,      t == 2};
                check_problem(variant_packed_sgemm, v[kv].name, &p);
                check_problem(packed_sgemm, "packed", &p);
            }
        struct problem lk = {0, 0, 13, 40, 600, 1.0f, 1.0f, 0, 0};
        check_problem(variant_packed_sgemm, v[kv].name, &lk);
    }
    struct problem empty = {0, 0, 3, 20, 0, 1.0f, 0.5f, 1, 0};
    check_problem(packed_sgemm, "packed", &empty);
    with_bias = 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_variants_listed),
        cmocka_unit_test(test_odd_sizes_all_transposes),
        cmocka_unit_test(test_beta_zero_ignores_nan),
        cmocka_unit_test(test_degenerate_shapes),
        cmocka_unit_test(test_long_k),
        cmocka_unit_test(test_mixer_shapes),
        cmocka_unit_test(test_packed_b),
        cmocka_unit_test(test_packed_one_row),
        cmocka_unit_test(test_packed_bias),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
