/* json_text keeps valid UTF-8 and never loses a text that is not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "jtext.h"

static void keeps_valid_text(void **state)
{
    (void)state;
    json_t *j = json_text("exit 0: caf\xc3\xa9 \xe2\x82\xac");
    assert_non_null(j);
    assert_string_equal(json_string_value(j), "exit 0: caf\xc3\xa9 \xe2\x82\xac");
    json_decref(j);
    j = json_text(NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(j), "");
    json_decref(j);
}

static void marks_invalid_bytes(void **state)
{
    (void)state;
    /* a lone continuation byte, a truncated sequence, and a byte never valid in UTF-8 */
    json_t *j = json_text("exit 3: \x80 bad \xc3 end \xff");
    assert_non_null(j);
    assert_string_equal(json_string_value(j), "exit 3: ? bad ? end ?");
    json_decref(j);
}

static void survives_object_rendering(void **state)
{
    (void)state;
    json_t *o = json_object();
    json_object_set_new(o, "result", json_text("out \xfe\xfe"));
    char *text = json_dumps(o, JSON_COMPACT);
    assert_non_null(text);
    assert_string_equal(text, "{\"result\":\"out ??\"}");
    free(text);
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keeps_valid_text),
        cmocka_unit_test(marks_invalid_bytes),
        cmocka_unit_test(survives_object_rendering),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
