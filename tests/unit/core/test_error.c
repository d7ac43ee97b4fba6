/* The error list: every code has its own text, and unknown codes are reported as such. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "aether/error.h"

static void each_code_has_distinct_text(void **state)
{
    (void)state;
    const int codes[] = {
#define AE_CODE(name, value, text) AE_##name,
        AE_ERRNO_MAP(AE_CODE)
#undef AE_CODE
    };
    size_t n = sizeof codes / sizeof codes[0];
    for (size_t i = 0; i < n; i++) {
        assert_true(codes[i] < 0);
        assert_string_not_equal(ae_strerror(codes[i]), "unknown error");
        for (size_t j = i + 1; j < n; j++) {
            assert_int_not_equal(codes[i], codes[j]);
            assert_string_not_equal(ae_strerror(codes[i]), ae_strerror(codes[j]));
        }
    }
}

static void ok_and_unknown(void **state)
{
    (void)state;
    assert_string_equal(ae_strerror(AE_OK), "ok");
    assert_string_equal(ae_strerror(-9999), "unknown error");
    assert_string_equal(ae_strerror(AE_ENOENT), "not found");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_code_has_distinct_text),
        cmocka_unit_test(ok_and_unknown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
