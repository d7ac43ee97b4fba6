/* The error list: every code has its own text, and unknown codes are reported as such; the
 * message formatter appends, cuts and tolerates a missing buffer. */
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

static void errf_prefix_message_and_cut(void **state)
{
    (void)state;
    char err[24];
    size_t at = ae_errf(err, sizeof err, 0, "%s:%d: ", "a.toml", 12);
    assert_int_equal(at, 11);
    at = ae_errf(err, sizeof err, at, "key %s", "x");
    assert_string_equal(err, "a.toml:12: key x");
    assert_int_equal(at, strlen(err));
    /* too long: cut, NUL-terminated, offset at the last byte */
    at = ae_errf(err, sizeof err, at, " is far too long for the buffer");
    assert_int_equal(strlen(err), sizeof err - 1);
    assert_int_equal(at, sizeof err - 1);
    assert_string_equal(err, "a.toml:12: key x is far");
    /* appending to a full buffer changes nothing */
    assert_int_equal(ae_errf(err, sizeof err, at, "more"), sizeof err - 1);
    assert_string_equal(err, "a.toml:12: key x is far");
    /* no buffer: nothing written, the offset comes back */
    assert_int_equal(ae_errf(NULL, 0, 0, "x"), 0);
    assert_int_equal(ae_errf(err, 0, 3, "x"), 3);
    assert_int_equal(ae_errf(err, sizeof err, 99, "x"), 99);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_code_has_distinct_text),
        cmocka_unit_test(ok_and_unknown),
        cmocka_unit_test(errf_prefix_message_and_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
