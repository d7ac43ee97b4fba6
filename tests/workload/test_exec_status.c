/* The status_command output parser (src/workload/exec_status.c): "READY REQUESTED" and every
 * way to get it wrong. */
#include "aether/error.h"
#include "exec_status.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

static int parse(const char *text, int *ready, int *requested, char *err, size_t errlen)
{
    return exec_status_parse(text, strlen(text), ready, requested, err, errlen);
}

static void good_lines(void **state)
{
    (void)state;
    const char *lines[] = {"2 3", "2 3\n", "  2\t3  \n", "2 3\r\n"};
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        int ready = -1, requested = -1;
        char err[128] = "";
        assert_int_equal(parse(lines[i], &ready, &requested, err, sizeof err), 0);
        assert_int_equal(ready, 2);
        assert_int_equal(requested, 3);
    }
    int ready, requested;
    char err[128];
    assert_int_equal(parse("0 0", &ready, &requested, err, sizeof err), 0);
    assert_int_equal(parse("1000000 5", &ready, &requested, err, sizeof err), 0);
    assert_int_equal(ready, 1000000);
}

static void bad_lines(void **state)
{
    (void)state;
    struct {
        const char *text, *why;
    } cases[] = {
        {"", "expected two whole numbers, got 0"},
        {"\n", "expected two whole numbers, got 0"},
        {"3", "expected two whole numbers, got 1"},
        {"2 3 4", "more than two numbers"},
        {"2 3\n4 5", "more than one line"},
        {"2 3\n\n", "more than one line"},
        {"banana", "value 1 is not a whole number 0..1000000"},
        {"2 -1", "value 2 is not a whole number 0..1000000"},
        {"2.5 3", "value 1 is not a whole number 0..1000000"},
        {"2 1000001", "value 2 is not a whole number 0..1000000"},
        {"2 99999999999999999999", "value 2 is not a whole number 0..1000000"},
        {"2,3", "value 1 is not a whole number 0..1000000"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int ready = -7, requested = -7;
        char err[128] = "";
        assert_int_equal(parse(cases[i].text, &ready, &requested, err, sizeof err), AE_EPARSE);
        assert_string_equal(err, cases[i].why);
        assert_int_equal(ready, -7); /* untouched on error */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(good_lines),
        cmocka_unit_test(bad_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
