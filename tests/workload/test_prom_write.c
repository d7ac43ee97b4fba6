/* The Prometheus text writer: header lines, label escaping, number spelling, name checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "prom_write.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void test_family_and_samples(void **state)
{
    (void)state;
    struct sbuf b = {0};
    prom_write_family(&b, "ttm_recommendations_total", "counter",
                      "Recommendations by type.\nSecond");
    prom_write_sample(&b, "ttm_recommendations_total", (const char *[]){"type", "scale_up", NULL},
                      3);
    prom_write_sample(&b, "aether_instances",
                      (const char *[]){"blueprint", "we\"b\\x\ny", "state", "ready", NULL}, 2.5);
    prom_write_sample(&b, "ttm_predictions_count_total", NULL, 0);
    prom_write_sample(&b, "aether_x", NULL, NAN);
    prom_write_sample(&b, "aether_x", NULL, INFINITY);
    prom_write_sample(&b, "aether_x", NULL, -INFINITY);
    prom_write_sample(&b, "aether_x", NULL, 0.1);
    prom_write_sample(&b, "aether_x", NULL, 1e-300);
    assert_false(b.oom);
    assert_string_equal(b.data,
                        "# HELP ttm_recommendations_total Recommendations by type.\\nSecond\n"
                        "# TYPE ttm_recommendations_total counter\n"
                        "ttm_recommendations_total{type=\"scale_up\"} 3\n"
                        "aether_instances{blueprint=\"we\\\"b\\\\x\\ny\",state=\"ready\"} 2.5\n"
                        "ttm_predictions_count_total 0\n"
                        "aether_x NaN\n"
                        "aether_x +Inf\n"
                        "aether_x -Inf\n"
                        "aether_x 0.1\n"
                        "aether_x 1e-300\n");
    sbuf_free(&b);
}

static void test_number_round_trip(void **state)
{
    (void)state;
    const double vals[] = {1.0 / 3.0, 123456789.123456789, 5e-324, 1.7976931348623157e308, -0.0};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        struct sbuf b = {0};
        sbuf_number(&b, vals[i]);
        assert_true(strtod(b.data, NULL) == vals[i]);
        sbuf_free(&b);
    }
}

static void test_names(void **state)
{
    (void)state;
    assert_true(prom_write_valid_name("ttm_predictions_count_total"));
    assert_true(prom_write_valid_name("a:b_c9"));
    assert_false(prom_write_valid_name("9abc"));
    assert_false(prom_write_valid_name("ttm.predictions"));
    assert_false(prom_write_valid_name(""));
    assert_true(prom_write_valid_label("blueprint"));
    assert_false(prom_write_valid_label("__name__"));
    assert_false(prom_write_valid_label("a:b"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_family_and_samples),
        cmocka_unit_test(test_number_round_trip),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
