/* A forecast allocates nothing: every allocation function is wrapped at link time (--wrap; the
 * engine is linked statically, so its calls go through the wrappers) and counted while predict()
 * runs, including after batch-size changes that make the engine re-infer shapes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aether/nn.h"
#include "alloc_count.h"

static void test_hook_sees_the_engine(void **state)
{
    (void)state;
    /* The wrappers are live for the engine's code: opening a model is seen allocating. */
    char err[1024];
    alloc_count = 0;
    alloc_counting = 1;
    ae_predictor *p = NULL;
    nn_predictor_open(AETHER_TEST_MODELS "/tiny.onnx", 6, 2, 1, &p, err, sizeof err);
    alloc_counting = 0;
    assert_non_null(p);
    assert_true(alloc_count > 10);
    ae_predictor_close(p);
}

/* Predictions with changing batches on the model at path allocate nothing. */
static void predict_allocates_nothing(const char *path)
{
    enum { W = 6, H = 2, F = 11, MAX_BATCH = 4 };
    char err[1024];
    ae_predictor *p = NULL;
    nn_predictor_open(path, W, H, MAX_BATCH, &p, err, sizeof err);
    if (!p)
        fail_msg("%s", err);
    static float in[MAX_BATCH * W * F], out[MAX_BATCH * H * F];
    for (int i = 0; i < MAX_BATCH * W * F; i++)
        in[i] = (float)((i * 7) % 13) / 13.0f - 0.5f;
    const int batches[] = {MAX_BATCH, 1, 3, MAX_BATCH, 2, 2};
    alloc_count = 0;
    alloc_counting = 1;
    int rc = 0;
    for (size_t k = 0; k < sizeof batches / sizeof batches[0] && rc == 0; k++)
        rc = p->predict(p->state, in, batches[k], out, err, sizeof err);
    alloc_counting = 0;
    assert_int_equal(rc, 0);
    assert_int_equal(alloc_count, 0);
    ae_predictor_close(p);
}

static void test_predict_allocates_nothing(void **state)
{
    (void)state;
    predict_allocates_nothing(AETHER_TEST_MODELS "/tiny.onnx");
}

/* LSTM and GRU: their scratch and packed weights are made while planning, not per run. */
static void test_recurrent_layers_allocate_nothing(void **state)
{
    (void)state;
    predict_allocates_nothing(AETHER_TEST_MODELS "/tiny_recurrent.onnx");
}

/* With an extra input: setting its values and predicting allocate nothing either. */
static void test_extra_inputs_allocate_nothing(void **state)
{
    (void)state;
    enum { W = 6, H = 2, F = 11, MAX_BATCH = 3 };
    char err[1024];
    ae_predictor *p = NULL;
    nn_predictor_open(AETHER_TEST_MODELS "/tiny_freq.onnx", W, H, MAX_BATCH, &p, err, sizeof err);
    assert_non_null(p);
    static float in[MAX_BATCH * W * F], out[MAX_BATCH * H * F];
    const double one[] = {1}, rows[] = {3, 0, 2};
    alloc_count = 0;
    alloc_counting = 1;
    int rc = p->predict(p->state, in, MAX_BATCH, out, err, sizeof err);
    if (rc == 0)
        rc = nn_predictor_set_input(p, "freq_token", one, 1, err, sizeof err);
    if (rc == 0)
        rc = p->predict(p->state, in, 1, out, err, sizeof err);
    if (rc == 0)
        rc = nn_predictor_set_input(p, "freq_token", rows, 3, err, sizeof err);
    if (rc == 0)
        rc = p->predict(p->state, in, MAX_BATCH, out, err, sizeof err);
    alloc_counting = 0;
    assert_int_equal(rc, 0);
    assert_int_equal(alloc_count, 0);
    ae_predictor_close(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hook_sees_the_engine),
        cmocka_unit_test(test_predict_allocates_nothing),
        cmocka_unit_test(test_recurrent_layers_allocate_nothing),
        cmocka_unit_test(test_extra_inputs_allocate_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
