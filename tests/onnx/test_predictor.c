/* The predictor contract over a real model: batches of any size up to max_batch give each row the
 * result it gets alone, out-of-range batches are refused, and the loadable module
 * aether-ttm-onnx.so opens the same predictor through its one exported symbol. */
#include <dlfcn.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
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
    ae_predictor *p = nn_predictor_open(TINY, W, H, MAX_BATCH, err, sizeof err);
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
    ae_predictor *viamod = open_fn(TINY, W, H, 1, err, sizeof err);
    ae_predictor *direct = nn_predictor_open(TINY, W, H, 1, err, sizeof err);
    assert_non_null(viamod);
    assert_non_null(direct);
    static float in[W * F], a[H * F], b[H * F];
    fill(in, W * F);
    assert_int_equal(viamod->predict(viamod->state, in, 1, a, err, sizeof err), 0);
    assert_int_equal(direct->predict(direct->state, in, 1, b, err, sizeof err), 0);
    assert_memory_equal(a, b, sizeof a);
    assert_null(open_fn("/nonexistent/model.onnx", W, H, 1, err, sizeof err));
    assert_non_null(strstr(err, "File not found"));
    ae_predictor_close(viamod);
    ae_predictor_close(direct);
    dlclose(lib);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batches_match_single_rows),
        cmocka_unit_test(test_module_exports_the_predictor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
