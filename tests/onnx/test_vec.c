/* Accuracy of the engine's vector kernels (exp, tanh, sigmoid, erf, softmax) against libm.
 *
 * Every level this build has and this CPU runs is checked (not only the one the engine picks).
 * Each function is swept densely: 2^21 points evenly spaced over its interesting range plus 2^21
 * bit patterns evenly spaced over the positive floats from 1e-30 up to that range, both signs
 * (so tiny arguments, where a relative error shows, are covered). The reference is libm in double
 * precision. The largest error is measured in ulps of the float nearest the reference, and as a
 * relative error; results below FLT_MIN (exp, sigmoid in the subnormal range) are judged by their
 * absolute error instead. The bounds are the measured maxima (docs/engine.md) with a small
 * margin; `test_vec -v` prints the measured values. */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vec.h"

static int verbose;

#define SWEEP (1 << 21)

struct accuracy {
    double max_ulp, max_rel, max_abs_subnormal;
    float worst_x;
};

typedef double ref_fn(double x);

static double ref_exp(double x)
{
    return exp(x);
}
static double ref_tanh(double x)
{
    return tanh(x);
}
static double ref_sigmoid(double x)
{
    return x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x));
}
static double ref_erf(double x)
{
    return erf(x);
}

static double ulp_of(double ref)
{
    float f = fabsf((float)ref);
    if (f >= FLT_MAX)
        return INFINITY;
    return (double)nextafterf(f, INFINITY) - (double)f;
}

static void measure_one(float x, float y, ref_fn *ref, struct accuracy *acc)
{
    double r = ref((double)x);
    if (isnan(r)) {
        assert_true(isnan(y));
        return;
    }
    if (fabs(r) < FLT_MIN) {
        double e = fabs((double)y - r);
        if (e > acc->max_abs_subnormal)
            acc->max_abs_subnormal = e;
        return;
    }
    if (fabs(r) > FLT_MAX) {
        if (!isinf(y))
            print_error("x=%.9g: got %.9g, expected inf\n", x, y);
        assert_true(isinf(y));
        return;
    }
    double err = fabs((double)y - r);
    double u = err / ulp_of(r), rel = err / fabs(r);
    if (u > acc->max_ulp) {
        acc->max_ulp = u;
        acc->worst_x = x;
    }
    if (rel > acc->max_rel)
        acc->max_rel = rel;
}

/* Sweeps fn over [-hi, hi] (linear) and the positive floats in [1e-30, hi] (by bit pattern),
 * both signs. */
static struct accuracy sweep(nn_vec_map_fn *fn, ref_fn *ref, float lo, float hi)
{
    struct accuracy acc = {0, 0, 0, 0};
    float *x = malloc(sizeof(float) * SWEEP), *y = malloc(sizeof(float) * SWEEP);
    assert_non_null(x);
    assert_non_null(y);
    for (int pass = 0; pass < 3; pass++) {
        uint32_t b0, b1;
        float f0 = 1e-30f;
        memcpy(&b0, &f0, sizeof b0);
        memcpy(&b1, &hi, sizeof b1);
        for (int i = 0; i < SWEEP; i++) {
            if (pass == 0) {
                x[i] = lo + (hi - lo) * (float)i / (float)(SWEEP - 1);
            } else {
                uint32_t b = b0 + (uint32_t)((uint64_t)(b1 - b0) * (uint64_t)i / (SWEEP - 1));
                memcpy(&x[i], &b, sizeof b);
                if (pass == 2)
                    x[i] = -x[i];
            }
        }
        if (pass == 2 && lo >= 0) /* a one-sided range (none today) */
            break;
        fn(x, y, SWEEP);
        for (int i = 0; i < SWEEP; i++)
            measure_one(x[i], y[i], ref, &acc);
    }
    free(x);
    free(y);
    return acc;
}

static void check(const char *level, const char *name, struct accuracy a, double ulp_bound,
                  double rel_bound)
{
    if (verbose || a.max_ulp > ulp_bound || a.max_rel > rel_bound)
        printf("%-8s %-8s max %.2f ulp (at x=%.9g), max relative error %.3g, max absolute error "
               "below FLT_MIN %.3g\n",
               level, name, a.max_ulp, a.worst_x, a.max_rel, a.max_abs_subnormal);
    assert_true(a.max_ulp <= ulp_bound);
    assert_true(a.max_rel <= rel_bound);
    /* Subnormal results: within a few of the smallest subnormals (2^-149 = 1.4e-45). */
    assert_true(a.max_abs_subnormal <= 8 * 1.4013e-45);
}

static void special_values(const struct nn_vec_kernels *k)
{
    float x[] = {NAN, INFINITY, -INFINITY, 0.0f, 89.0f, 100.0f, -104.0f, -200.0f};
    float y[8];
    k->exp(x, y, 8);
    assert_true(isnan(y[0]));
    assert_true(isinf(y[1]) && y[1] > 0);
    assert_true(y[2] == 0.0f && y[3] == 1.0f);
    assert_true(isinf(y[4]) && isinf(y[5]));
    assert_true(y[6] == 0.0f && y[7] == 0.0f);
    k->tanh(x, y, 8);
    assert_true(isnan(y[0]) && y[1] == 1.0f && y[2] == -1.0f && y[3] == 0.0f);
    k->sigmoid(x, y, 8);
    assert_true(isnan(y[0]) && y[1] == 1.0f && y[2] == 0.0f && y[3] == 0.5f);
    k->erf(x, y, 8);
    assert_true(isnan(y[0]) && y[1] == 1.0f && y[2] == -1.0f && y[3] == 0.0f);
}

/* Softmax rows of every length 1..200 with values up to +-40, against a double reference. */
static double softmax_error(const struct nn_vec_kernels *k)
{
    enum { MAXN = 200 };
    float x[MAXN], y[MAXN];
    unsigned long long s = 88172645463325252ULL;
    double worst = 0.0;
    for (int n = 1; n <= MAXN; n++) {
        for (int rep = 0; rep < 20; rep++) {
            for (int i = 0; i < n; i++) {
                s ^= s << 13, s ^= s >> 7, s ^= s << 17;
                x[i] = (float)((double)(s >> 40) / (double)(1ULL << 24) * 2.0 - 1.0) *
                       (float)(rep + 1) * 2.0f;
            }
            /* x - max is rounded to float as any float softmax does (up to 4e-6 relative for
             * differences near 40); the reference takes the same difference, so that what is
             * measured is the kernel's own error. */
            float mx = -INFINITY;
            double sum = 0.0;
            for (int i = 0; i < n; i++)
                mx = x[i] > mx ? x[i] : mx;
            for (int i = 0; i < n; i++)
                sum += exp((double)(x[i] - mx));
            k->softmax(x, y, n);
            for (int i = 0; i < n; i++) {
                double r = exp((double)(x[i] - mx)) / sum;
                if (r < FLT_MIN)
                    continue;
                double rel = fabs((double)y[i] - r) / r;
                worst = rel > worst ? rel : worst;
            }
        }
    }
    return worst;
}

/* Moving sums of every row length 1..80 and window 1..30 against a double reference: each within
 * the float summation bound k * 2^-24 * sum |x|, so a dropped, repeated or misplaced tap fails. */
static void window_sums(const struct nn_vec_kernels *k)
{
    enum { MAXN = 80, MAXK = 30 };
    float x[MAXN + MAXK], y[MAXN + 1];
    unsigned long long s = 2463534242ULL;
    for (int i = 0; i < MAXN + MAXK; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        x[i] = (float)((double)(s >> 40) / (double)(1ULL << 24) * 2.0 - 1.0);
    }
    for (int n = 1; n <= MAXN; n++)
        for (int kw = 1; kw <= MAXK; kw++) {
            y[n] = 12345.0f; /* the kernel writes n outputs, not one more */
            k->window_sum(x, y, n, kw);
            assert_true(y[n] == 12345.0f);
            for (int o = 0; o < n; o++) {
                double ref = 0.0, mag = 0.0;
                for (int t = 0; t < kw; t++)
                    ref += x[o + t], mag += fabs(x[o + t]);
                if (fabs((double)y[o] - ref) > kw * 6e-8 * mag + 1e-30)
                    fail_msg("%s window_sum n=%d k=%d output %d: %.9g, expected %.9g", k->level, n,
                             kw, o, (double)y[o], ref);
            }
        }
}

/* The LSTM kernels against a double reference, every row count 1..5 and hidden size 1..40 (so
 * rows shorter and longer than a vector, vectors spanning rows), a gate row stride wider than the
 * gates (ldg > stride): every output within LSTM_ABS of the
 * reference (tanh by sigmoid: measured 1.8e-7 for the gates, 1.9e-7 for h, mostly near +-1),
 * nothing written outside the rows. */
#define LSTM_ABS 2.5e-7
static float lstm_value(unsigned long long *s)
{
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
    return (float)((double)(*s >> 40) / (double)(1ULL << 24) * 8.0 - 4.0);
}

static double ref_tanh_gate(double x)
{
    return tanh(x);
}

static void lstm_kernels(const struct nn_vec_kernels *k)
{
    enum { MAXR = 5, MAXH = 40, PAD = 3, LDG = 4 * MAXH + PAD };
    static float g[MAXR * LDG], g0[MAXR * LDG], c[MAXR * MAXH + 1], c0[MAXR * MAXH + 1];
    static float h[MAXR * MAXH + 1];
    unsigned long long s = 1234567ULL;
    double worst = 0.0, worst_h = 0.0;
    for (int rows = 1; rows <= MAXR; rows++)
        for (int hid = 1; hid <= MAXH; hid++) {
            int ldg = 4 * hid + PAD, cells = rows * hid;
            for (int i = 0; i < rows * ldg; i++)
                g0[i] = g[i] = lstm_value(&s);
            for (int i = 0; i < cells; i++)
                c0[i] = c[i] = lstm_value(&s);
            c[cells] = h[cells] = 12345.0f;
            k->lstm_gates(g, rows, ldg, 4 * hid, 3 * hid);
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < ldg; j++) {
                    double x = g0[r * ldg + j];
                    double ref = j >= 4 * hid  ? x /* past the gates: untouched */
                                 : j < 3 * hid ? ref_sigmoid(x)
                                               : ref_tanh_gate(x);
                    double e = fabs((double)g[r * ldg + j] - ref);
                    worst = e > worst ? e : worst;
                    if (j >= 4 * hid)
                        assert_true(g[r * ldg + j] == g0[r * ldg + j]);
                }
            k->lstm_cell(g, ldg, c, h, rows, hid);
            assert_true(c[cells] == 12345.0f && h[cells] == 12345.0f);
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < hid; j++) {
                    const float *gr = g + r * ldg;
                    double cn =
                        (double)gr[2 * hid + j] * c0[r * hid + j] + (double)gr[j] * gr[3 * hid + j];
                    double hn = (double)gr[hid + j] * tanh(cn);
                    /* c: within an ulp of |c| <= 5 and two rounded products */
                    if (fabs((double)c[r * hid + j] - cn) > 1e-6)
                        fail_msg("%s lstm_cell rows=%d hid=%d cell %d: c %.9g, expected %.9g",
                                 k->level, rows, hid, r * hid + j, (double)c[r * hid + j], cn);
                    double e = fabs((double)h[r * hid + j] - hn);
                    worst_h = e > worst_h ? e : worst_h;
                }
        }
    if (verbose || worst > LSTM_ABS || worst_h > LSTM_ABS)
        printf("%-8s lstm_gates max absolute error %.3g, lstm_cell h %.3g\n", k->level, worst,
               worst_h);
    assert_true(worst <= LSTM_ABS);
    assert_true(worst_h <= LSTM_ABS);
}

/* GELU (exact erf form) of every level over [-10, 10] against double precision: absolute error
 * below GELU_ABS, the bound documented in vec.h. */
#define GELU_ABS 1e-6
static void gelu_accuracy(const char *level, nn_gelu_fn *gelu)
{
    enum { N = 1 << 20 };
    float *x = malloc(sizeof(float) * N);
    assert_non_null(x);
    for (int i = 0; i < N; i++)
        x[i] = -10.0f + 20.0f * (float)i / (float)(N - 1);
    gelu(x, N);
    double worst = 0.0;
    for (int i = 0; i < N; i++) {
        double xi = (double)(-10.0f + 20.0f * (float)i / (float)(N - 1));
        double e = fabs((double)x[i] - 0.5 * xi * (1.0 + erf(xi / sqrt(2.0))));
        worst = e > worst ? e : worst;
    }
    free(x);
    if (verbose || worst > GELU_ABS)
        printf("%-8s gelu     max absolute error %.3g\n", level, worst);
    assert_true(worst <= GELU_ABS);
}

/* Bounds: the largest values measured on the development machine (docs/engine.md) rounded up. */
#define EXP_ULP 1.5
#define TANH_ULP 2.0
#define SIGMOID_ULP 3.0
#define ERF_ULP 5.0
#define SOFTMAX_REL 6e-7

static void check_level(const struct nn_vec_kernels *k)
{
    check(k->level, "exp", sweep(k->exp, ref_exp, -104.0f, 89.0f), EXP_ULP, EXP_ULP * 1.2e-7);
    check(k->level, "tanh", sweep(k->tanh, ref_tanh, -10.0f, 10.0f), TANH_ULP, TANH_ULP * 1.2e-7);
    check(k->level, "sigmoid", sweep(k->sigmoid, ref_sigmoid, -100.0f, 30.0f), SIGMOID_ULP,
          SIGMOID_ULP * 1.2e-7);
    check(k->level, "erf", sweep(k->erf, ref_erf, -5.0f, 5.0f), ERF_ULP, ERF_ULP * 1.2e-7);
    double sm = softmax_error(k);
    if (verbose || sm > SOFTMAX_REL)
        printf("%-8s softmax  max relative error %.3g\n", k->level, sm);
    assert_true(sm <= SOFTMAX_REL);
    special_values(k);
    window_sums(k);
    lstm_kernels(k);
}

static void test_baseline(void **state)
{
    (void)state;
    check_level(nn_vec_kernels_baseline());
}

static void test_avx2(void **state)
{
    (void)state;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (nn_vec_kernels_avx2() && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        check_level(nn_vec_kernels_avx2());
        gelu_accuracy("avx2", nn_vec_gelu_avx2());
        return;
    }
#endif
    skip();
}

static void test_avx512(void **state)
{
    (void)state;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (nn_vec_kernels_avx512() && __builtin_cpu_supports("avx512f")) {
        check_level(nn_vec_kernels_avx512());
        gelu_accuracy("avx512", nn_vec_gelu_avx512());
        return;
    }
#endif
    skip();
}

/* The sweep itself must see an error: a kernel one ulp off everywhere fails the exp bound. */
static void shifted_exp(const float *x, float *y, int64_t n)
{
    nn_vec_kernels_baseline()->exp(x, y, n);
    for (int64_t i = 0; i < n; i++)
        y[i] = nextafterf(nextafterf(nextafterf(y[i], INFINITY), INFINITY), INFINITY);
}

static void test_sweep_detects_errors(void **state)
{
    (void)state;
    struct accuracy a = sweep(shifted_exp, ref_exp, -104.0f, 89.0f);
    assert_true(a.max_ulp > EXP_ULP);
}

int main(int argc, char **argv)
{
    verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_baseline),
        cmocka_unit_test(test_avx2),
        cmocka_unit_test(test_avx512),
        cmocka_unit_test(test_sweep_detects_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
