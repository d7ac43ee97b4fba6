/* Plan-time folding of BatchNormalization into the node before it: the folded graphs run one
 * node, the ones where folding would be wrong keep both (their values are checked against
 * PyTorch by the extra node tests). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "aether/nn.h"

/* Nodes run by the planned model of the extra node test `name`. */
static int run_count(const char *name)
{
    char path[512], err[1024];
    snprintf(path, sizeof path, "%s/test_%s/model.onnx", AETHER_NODE_TESTS, name);
    nn_model *m = NULL;
    if (nn_model_load_file(path, &m, err, sizeof err) != 0)
        fail_msg("%s", err);
    if (nn_model_plan(m, err, sizeof err) != 0)
        fail_msg("%s", err);
    int n = nn_model_run_count(m);
    nn_model_free(m);
    return n;
}

static void test_folded(void **state)
{
    (void)state;
    assert_int_equal(run_count("conv_batchnorm_folded"), 1);
    assert_int_equal(run_count("gemm_batchnorm"), 1);
    assert_int_equal(run_count("gemm_batchnorm_folded"), 1);
    assert_int_equal(run_count("matmul_add_batchnorm_folded"), 1);
    assert_int_equal(run_count("matmul_batchnorm_folded"), 1);
    assert_int_equal(run_count("relu_matmul_batchnorm_folded"), 2);
}

static void test_not_folded(void **state)
{
    (void)state;
    /* [B, T, N] product: BatchNorm normalises T. W @ X: channels are W's rows, not columns. */
    assert_int_equal(run_count("matmul_rank3_batchnorm"), 2);
    assert_int_equal(run_count("matmul_batchnorm"), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_folded),
        cmocka_unit_test(test_not_folded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
