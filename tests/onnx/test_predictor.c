/* The predictor contract over a real model: batches of any size up to max_batch give each row the
 * result it gets alone, out-of-range batches are refused, the loadable module aether-ttm-onnx.so
 * opens the same predictor through its exported opener, and extra named inputs (metadata
 * aether.inputs) take their defaults or the values set, broadcast or per row. */
#include <dlfcn.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "aether/error.h"
#include "aether/nn.h"

enum { W = 6, H = 2, F = 11, MAX_BATCH = 5 };
#define TINY AETHER_TEST_MODELS "/tiny.onnx"

static void fill(float *in, int n)
{
    unsigned s = 99;
    for (int i = 0; i < n; i++) {
        s = s * 1103515245u + 12345u;
        in[i] = (float)((s >> 9) & 0x3fff) / 4096.0f - 2.0f;
    }
}

static void test_batches_match_single_rows(void **state)
{
    (void)state;
    char err[1024];
    ae_predictor *p = NULL;
    nn_predictor_open(TINY, W, H, MAX_BATCH, &p, err, sizeof err);
    assert_non_null(p);
    static float in[MAX_BATCH * W * F], out[MAX_BATCH * H * F], one[H * F];
    fill(in, MAX_BATCH * W * F);
    for (int batch = MAX_BATCH; batch >= 1; batch -= 2) {
        assert_int_equal(p->predict(p->state, in, batch, out, err, sizeof err), 0);
        for (int b = 0; b < batch; b++) {
            assert_int_equal(p->predict(p->state, in + b * W * F, 1, one, err, sizeof err), 0);
            for (int k = 0; k < H * F; k++)
                assert_float_equal(out[b * H * F + k], one[k], 1e-5);
        }
    }
    assert_int_equal(p->predict(p->state, in, MAX_BATCH + 1, out, err, sizeof err), AE_EINVAL);
    assert_non_null(strstr(err, "batch"));
    assert_int_equal(p->predict(p->state, in, 0, out, err, sizeof err), AE_EINVAL);
    /* Still usable after a refused call. */
    assert_int_equal(p->predict(p->state, in, 2, out, err, sizeof err), 0);
    ae_predictor_close(p);
}

static void test_module_exports_the_predictor(void **state)
{
    (void)state;
    void *lib = dlopen(AETHER_TTM_MODULE, RTLD_NOW | RTLD_LOCAL);
    if (!lib)
        print_error("dlopen %s: %s\n", AETHER_TTM_MODULE, dlerror());
    assert_non_null(lib);
    ae_predictor_open_fn open_fn;
    void *sym = dlsym(lib, "aether_ttm_predictor_open");
    assert_non_null(sym);
    memcpy(&open_fn, &sym, sizeof open_fn);
    assert_null(dlsym(lib, "nn_predictor_open")); /* the engine stays hidden */
    char err[1024];
    ae_predictor *viamod = NULL;
    open_fn(TINY, W, H, 1, &viamod, err, sizeof err);
    ae_predictor *direct = NULL;
    nn_predictor_open(TINY, W, H, 1, &direct, err, sizeof err);
    assert_non_null(viamod);
    assert_non_null(direct);
    static float in[W * F], a[H * F], b[H * F];
    fill(in, W * F);
    assert_int_equal(viamod->predict(viamod->state, in, 1, a, err, sizeof err), 0);
    assert_int_equal(direct->predict(direct->state, in, 1, b, err, sizeof err), 0);
    assert_memory_equal(a, b, sizeof a);
    ae_predictor *missing = NULL;
    assert_int_not_equal(open_fn("/nonexistent/model.onnx", W, H, 1, &missing, err, sizeof err), 0);
    assert_null(missing);
    assert_non_null(strstr(err, "File not found"));
    ae_predictor_close(viamod);
    ae_predictor_close(direct);
    dlclose(lib);
}

/* Extra named inputs (tiny_freq.onnx: output = tiny's + EMB[freq_token], EMB[t][k] = 10t + k,
 * default token 2 from aether.inputs; tiny_exog.onnx: + exog, no default). */
static void test_extra_inputs(void **state)
{
    (void)state;
    char err[1024];
    ae_predictor *base = NULL;
    nn_predictor_open(TINY, W, H, MAX_BATCH, &base, err, sizeof err);
    ae_predictor *p = NULL;
    nn_predictor_open(AETHER_TEST_MODELS "/tiny_freq.onnx", W, H, MAX_BATCH, &p, err, sizeof err);
    assert_non_null(base);
    if (!p)
        print_error("%s\n", err);
    assert_non_null(p);
    assert_int_equal(nn_predictor_input_count(base), 0);
    assert_int_equal(nn_predictor_input_count(p), 1);
    struct nn_tensor_info ti;
    assert_int_equal(nn_predictor_input_at(p, 0, &ti), 0);
    assert_string_equal(ti.name, "freq_token");
    assert_int_equal(ti.dtype, NN_INT64);
    assert_int_equal(ti.rank, 2);
    assert_int_equal(nn_predictor_input_at(p, 1, &ti), AE_EINVAL);
    static float in[MAX_BATCH * W * F], want[MAX_BATCH * H * F], got[MAX_BATCH * H * F];
    fill(in, MAX_BATCH * W * F);
    assert_int_equal(base->predict(base->state, in, 3, want, err, sizeof err), 0);
    /* The default token, then one token for every row, then one per row. */
    const double one[] = {3}, rows[] = {0, 1, 3};
    const int expect_default[] = {2, 2, 2}, expect_one[] = {3, 3, 3}, expect_rows[] = {0, 1, 3};
    const int *expect[] = {expect_default, expect_one, expect_rows};
    for (int step = 0; step < 3; step++) {
        if (step == 1)
            assert_int_equal(nn_predictor_set_input(p, "freq_token", one, 1, err, sizeof err), 0);
        if (step == 2)
            assert_int_equal(nn_predictor_set_input(p, "freq_token", rows, 3, err, sizeof err), 0);
        assert_int_equal(p->predict(p->state, in, 3, got, err, sizeof err), 0);
        for (int b = 0; b < 3; b++)
            for (int k = 0; k < H * F; k++)
                assert_float_equal(got[b * H * F + k],
                                   want[b * H * F + k] + 10.0f * expect[step][b] + (float)(k % F),
                                   1e-4);
    }
    /* Three rows held: a batch of four is refused, a batch of one uses the first row. */
    assert_int_equal(p->predict(p->state, in, 4, got, err, sizeof err), AE_EINVAL);
    assert_non_null(strstr(err, "holds 3 rows"));
    assert_int_equal(p->predict(p->state, in, 1, got, err, sizeof err), 0);
    assert_float_equal(got[0], want[0], 1e-4);
    /* Refused values name the problem and change nothing. */
    const double half[] = {1.5}, many[MAX_BATCH + 1] = {0};
    assert_int_equal(nn_predictor_set_input(p, "freq_token", half, 1, err, sizeof err), AE_EINVAL);
    assert_non_null(strstr(err, "whole number"));
    assert_int_equal(nn_predictor_set_input(p, "freq_token", many, MAX_BATCH + 1, err, sizeof err),
                     AE_EINVAL);
    assert_int_equal(nn_predictor_set_input(p, "freq_token", many, 0, err, sizeof err), AE_EINVAL);
    assert_int_equal(nn_predictor_set_input(p, "season", one, 1, err, sizeof err), AE_EINVAL);
    assert_non_null(strstr(err, "no extra input named 'season'"));
    assert_int_equal(nn_predictor_set_input(base, "freq_token", one, 1, err, sizeof err),
                     AE_EINVAL);
    assert_int_equal(p->predict(p->state, in, 1, got, err, sizeof err), 0);
    assert_float_equal(got[0], want[0], 1e-4);
    ae_predictor_close(p);

    /* No default: predict() refuses until the input is set. */
    nn_predictor_open(AETHER_TEST_MODELS "/tiny_exog.onnx", W, H, 2, &p, err, sizeof err);
    assert_non_null(p);
    assert_int_equal(p->predict(p->state, in, 1, got, err, sizeof err), AE_EINVAL);
    assert_non_null(strstr(err, "input 'exog' has no value"));
    double exog[F];
    for (int k = 0; k < F; k++)
        exog[k] = 0.5 * k;
    assert_int_equal(nn_predictor_set_input(p, "exog", exog, F, err, sizeof err), 0);
    assert_int_equal(p->predict(p->state, in, 2, got, err, sizeof err), 0);
    for (int k = 0; k < 2 * H * F; k++)
        assert_float_equal(got[k], want[k] + 0.5f * (float)(k % F), 1e-4);
    ae_predictor_close(p);
    ae_predictor_close(base);
}

static void expect_open_error(const char *file, const char *needle)
{
    char path[512], err[1024] = "";
    snprintf(path, sizeof path, "%s/%s", AETHER_TEST_MODELS, file);
    ae_predictor *p = NULL;
    nn_predictor_open(path, W, H, 1, &p, err, sizeof err);
    if (p || !strstr(err, needle))
        print_error("%s: expected \"%s\", got \"%s\"\n", file, needle, err);
    assert_null(p);
    assert_non_null(strstr(err, needle));
}

static void test_extra_input_errors(void **state)
{
    (void)state;
    expect_open_error("bad_extra_input_unlisted.onnx", "input 'freq_token' is not listed");
    expect_open_error("bad_extra_input_missing.onnx",
                      "aether.inputs lists 'season', which is not an extra input");
    expect_open_error("bad_extra_input_default.onnx",
                      "the default of 'freq_token' is not a whole number");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batches_match_single_rows),
        cmocka_unit_test(test_module_exports_the_predictor),
        cmocka_unit_test(test_extra_inputs),
        cmocka_unit_test(test_extra_input_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
