/* Load errors: every rejection names its problem in the spec's words, and nothing crashes.
 * The broken models are written at build time by make_test_models.py. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "aether/error.h"
#include "aether/nn.h"

static void expect_rejected(const char *file, int window, int horizon, const char *needle)
{
    char path[512], err[1024] = "";
    snprintf(path, sizeof path, "%s/%s", AETHER_TEST_MODELS, file);
    ae_predictor *p = NULL;
    nn_predictor_open(path, window, horizon, 1, &p, err, sizeof err);
    if (p || !strstr(err, needle) || !strstr(err, path))
        print_error("%s: expected an error naming the file and containing \"%s\", got \"%s\"\n",
                    file, needle, err);
    assert_null(p);
    assert_non_null(strstr(err, needle));
    assert_non_null(strstr(err, path));
}

static void test_missing_file(void **state)
{
    (void)state;
    expect_rejected("no-such-model.onnx", 6, 2, "File not found");
}

static void test_input_name(void **state)
{
    (void)state;
    expect_rejected("bad_input_name.onnx", 6, 2, "Expected input tensor named 'input'");
}

static void test_output_name(void **state)
{
    (void)state;
    expect_rejected("bad_output_name.onnx", 6, 2, "Expected output tensor named 'output'");
}

static void test_unsupported_op(void **state)
{
    (void)state;
    expect_rejected("bad_unsupported_op.onnx", 6, 2, "unsupported operator GridSample (opset 17)");
}

static void test_every_unsupported_node_listed(void **state)
{
    (void)state;
    const char *f = "bad_unsupported_ops.onnx";
    expect_rejected(f, 6, 2, "3 unsupported nodes: ");
    expect_rejected(f, 6, 2, "unsupported operator GridSample (opset 17) in node 'grid'");
    expect_rejected(f, 6, 2, "unsupported operator Frobnicate (opset 17) in node 'frob'");
    expect_rejected(f, 6, 2, "unsupported operator Op (domain x.y) in node 'custom'");
    /* A buffer too small for the whole list ends it with the number left out. */
    char err[160] = "";
    ae_predictor *p = NULL;
    nn_predictor_open(AETHER_TEST_MODELS "/bad_unsupported_ops.onnx", 6, 2, 1, &p, err, sizeof err);
    assert_null(p);
    assert_non_null(strstr(err, "more)"));
    assert_true(strlen(err) < sizeof err);
}

static void test_window_mismatch(void **state)
{
    (void)state;
    /* Both numbers appear: the model's 6 and the configured 30. */
    expect_rejected("tiny.onnx", 30, 2, "input window is 6 minutes but the configured window");
    expect_rejected("tiny.onnx", 30, 2, "is 30");
}

static void test_horizon_mismatch(void **state)
{
    (void)state;
    expect_rejected("tiny.onnx", 6, 5, "horizon is 2 minutes but the configured horizon");
    expect_rejected("tiny.onnx", 6, 5, "is 5");
}

static void test_truncated(void **state)
{
    (void)state;
    expect_rejected("bad_truncated.onnx", 6, 2, "truncated or corrupt protobuf");
    expect_rejected("bad_garbage.onnx", 6, 2, "truncated or corrupt protobuf");
}

static void test_external_data(void **state)
{
    (void)state;
    expect_rejected("bad_external_data.onnx", 6, 2, "uses external data");
}

static void test_schema_version(void **state)
{
    (void)state;
    expect_rejected("bad_schema.onnx", 6, 2, "Model trained with a different feature schema");
}

static void test_no_schema_loads_with_warning(void **state)
{
    (void)state;
    char err[1024] = "";
    ae_predictor *p = NULL;
    nn_predictor_open(AETHER_TEST_MODELS "/noschema.onnx", 6, 2, 1, &p, err, sizeof err);
    assert_non_null(p);
    assert_non_null(nn_predictor_warning(p));
    assert_non_null(strstr(nn_predictor_warning(p), "aether.schema_version"));
    struct ae_predictor_info info;
    p->info(p->state, &info);
    assert_int_equal(info.schema_version, 0);
    assert_true(info.val_wape < 0);
    assert_true(isnan(info.val_skill));
    ae_predictor_close(p);
}

static void test_info_from_metadata(void **state)
{
    (void)state;
    char err[1024] = "";
    ae_predictor *p = NULL;
    nn_predictor_open(AETHER_TEST_MODELS "/tiny.onnx", 6, 2, 3, &p, err, sizeof err);
    assert_non_null(p);
    assert_null(nn_predictor_warning(p));
    struct ae_predictor_info info;
    p->info(p->state, &info);
    assert_int_equal(info.window, 6);
    assert_int_equal(info.horizon, 2);
    assert_int_equal(info.features, 11);
    assert_int_equal(info.max_batch, 3);
    assert_int_equal(info.schema_version, 1);
    assert_float_equal(info.val_wape, 0.25, 1e-12);
    assert_float_equal(info.val_skill, 0.4, 1e-12);
    const nn_model *m = nn_predictor_model(p);
    assert_string_equal(nn_model_metadata(m, "aether.window"), "6");
    assert_int_equal(nn_model_opset(m), 17);
    ae_predictor_close(p);
}

/* Every prefix of a valid model is rejected cleanly (a truncated download, a partial copy). */
static void test_every_truncation(void **state)
{
    (void)state;
    FILE *f = fopen(AETHER_TEST_MODELS "/tiny.onnx", "rb");
    assert_non_null(f);
    static unsigned char buf[1 << 16];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_true(len > 100 && len < sizeof buf);
    int rejected = 0;
    for (size_t n = 0; n < len; n += 7) {
        nn_model *m = NULL;
        char err[512];
        int rc = nn_model_load_buffer(buf, n, "prefix", &m, err, sizeof err);
        if (rc != 0) {
            assert_null(m);
            assert_true(err[0] != 0);
            rejected++;
        } else {
            /* A prefix that happens to be a valid smaller message must still plan or fail cleanly.
             */
            rc = nn_model_plan(m, err, sizeof err);
            nn_model_free(m);
        }
    }
    assert_true(rejected > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_input_name),
        cmocka_unit_test(test_output_name),
        cmocka_unit_test(test_unsupported_op),
        cmocka_unit_test(test_every_unsupported_node_listed),
        cmocka_unit_test(test_window_mismatch),
        cmocka_unit_test(test_horizon_mismatch),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_external_data),
        cmocka_unit_test(test_schema_version),
        cmocka_unit_test(test_no_schema_loads_with_warning),
        cmocka_unit_test(test_info_from_metadata),
        cmocka_unit_test(test_every_truncation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
