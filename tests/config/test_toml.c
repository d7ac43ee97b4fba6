/* Unit tests of the TOML parser: the document API, value edge cases, redefinition rules and
 * the wording and position of error messages. (Conformance as a whole is the toml-test runner.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "aether/error.h"
#include "aether/toml.h"

static toml_value *parse_ok(const char *text)
{
    char err[256];
    toml_value *doc = NULL;
    int rc = toml_parse(text, strlen(text), "t.toml", &doc, err, sizeof(err));
    if (rc != 0)
        fail_msg("unexpected parse error: %s", err);
    assert_non_null(doc);
    return doc;
}

/* Parses text that must fail; asserts the message contains `expect`. */
static void parse_fails(const char *text, const char *expect)
{
    char err[256];
    toml_value *doc = (toml_value *)1;
    int rc = toml_parse(text, strlen(text), "t.toml", &doc, err, sizeof(err));
    assert_int_equal(rc, AE_EPARSE);
    assert_null(doc);
    if (!strstr(err, expect))
        fail_msg("error \"%s\" does not contain \"%s\"", err, expect);
}

static void test_scalars_and_positions(void **state)
{
    (void)state;
    toml_value *doc = parse_ok("# comment\n"
                               "title = \"Aether\"\n"
                               "  port = 8080 # trailing\n"
                               "ratio = 0.75\n"
                               "on = true\n");
    assert_int_equal(toml_table_count(doc), 4);
    const toml_value *title = toml_table_get(doc, "title");
    assert_int_equal(toml_type_of(title), TOML_STRING);
    assert_string_equal(toml_string(title, NULL), "Aether");
    assert_int_equal(toml_line(title), 2);
    assert_int_equal(toml_column(title), 9);
    const toml_value *port = toml_table_get(doc, "port");
    assert_int_equal(toml_integer(port), 8080);
    assert_int_equal(toml_line(port), 3);
    assert_int_equal(toml_column(port), 10);
    assert_true(toml_float(toml_table_get(doc, "ratio")) == 0.75);
    assert_int_equal(toml_bool(toml_table_get(doc, "on")), 1);
    assert_null(toml_table_get(doc, "missing"));
    /* Keys keep the order in which they were written. */
    assert_string_equal(toml_table_key(doc, 0, NULL), "title");
    assert_string_equal(toml_table_key(doc, 3, NULL), "on");
    toml_free(doc);
}

static void test_integers(void **state)
{
    (void)state;
    toml_value *doc = parse_ok("max = 9223372036854775807\n"
                               "min = -9223372036854775808\n"
                               "hex = 0xDEAD_beef\n"
                               "oct = 0o755\n"
                               "bin = 0b1101\n"
                               "sep = 1_000_000\n"
                               "zero = -0\n");
    assert_true(toml_integer(toml_table_get(doc, "max")) == INT64_MAX);
    assert_true(toml_integer(toml_table_get(doc, "min")) == INT64_MIN);
    assert_int_equal(toml_integer(toml_table_get(doc, "hex")), 0xDEADBEEF);
    assert_int_equal(toml_integer(toml_table_get(doc, "oct")), 0755);
    assert_int_equal(toml_integer(toml_table_get(doc, "bin")), 13);
    assert_int_equal(toml_integer(toml_table_get(doc, "sep")), 1000000);
    assert_int_equal(toml_integer(toml_table_get(doc, "zero")), 0);
    toml_free(doc);
    parse_fails("x = 9223372036854775808\n", "out of range");
    parse_fails("x = -9223372036854775809\n", "out of range");
    parse_fails("x = 0x8000000000000000\n", "out of range");
    parse_fails("x = 012\n", "leading zeros");
    parse_fails("x = 1__2\n", "invalid number 1__2");
    parse_fails("x = -0x1\n", "sign is not allowed");
    parse_fails("x = 0X1\n", "lowercase");
}

static void test_floats(void **state)
{
    (void)state;
    toml_value *doc = parse_ok("a = 6.626e-34\n"
                               "b = -1_000.5\n"
                               "c = 1E+2\n"
                               "d = -inf\n"
                               "e = +nan\n"
                               "f = 0.0\n"
                               "g = 1e007\n");
    assert_true(toml_float(toml_table_get(doc, "a")) == 6.626e-34);
    assert_true(toml_float(toml_table_get(doc, "b")) == -1000.5);
    assert_true(toml_float(toml_table_get(doc, "c")) == 100.0);
    assert_true(isinf(toml_float(toml_table_get(doc, "d"))));
    assert_true(toml_float(toml_table_get(doc, "d")) < 0);
    assert_true(isnan(toml_float(toml_table_get(doc, "e"))));
    assert_int_equal(toml_type_of(toml_table_get(doc, "f")), TOML_FLOAT);
    assert_true(toml_float(toml_table_get(doc, "g")) == 1e7);
    toml_free(doc);
    parse_fails("x = 1.\n", "expected digits after '.'");
    parse_fails("x = .5\n", "expected a value");
    parse_fails("x = 1e\n", "exponent");
    parse_fails("x = 1e999\n", "out of range");
    parse_fails("x = Inf\n", "expected a value");
}

static void test_strings(void **state)
{
    (void)state;
    toml_value *doc = parse_ok("basic = \"tab\\there \\\"q\\\" \\u00e9 \\U0001F600\"\n"
                               "lit = 'C:\\path\\no\\escape'\n"
                               "ml = \"\"\"\nfirst\n  second \\\n     joined\"\"\"\n"
                               "quotes = \"\"\"two at the end\"\"\"\"\"\n"
                               "mll = '''\nraw \\n ''text'' '''\n"
                               "nul = \"a\\u0000b\"\n");
    assert_string_equal(toml_string(toml_table_get(doc, "basic"), NULL),
                        "tab\there \"q\" \xC3\xA9 \xF0\x9F\x98\x80");
    assert_string_equal(toml_string(toml_table_get(doc, "lit"), NULL), "C:\\path\\no\\escape");
    assert_string_equal(toml_string(toml_table_get(doc, "ml"), NULL), "first\n  second joined");
    assert_string_equal(toml_string(toml_table_get(doc, "quotes"), NULL), "two at the end\"\"");
    assert_string_equal(toml_string(toml_table_get(doc, "mll"), NULL), "raw \\n ''text'' ");
    size_t len;
    const char *nul = toml_string(toml_table_get(doc, "nul"), &len);
    assert_int_equal(len, 3);
    assert_memory_equal(nul, "a\0b", 3);
    toml_free(doc);
    parse_fails("x = \"\\uD800\"\n", "not a Unicode scalar value");
    parse_fails("x = \"\\U00110000\"\n", "not a Unicode scalar value");
    parse_fails("x = \"\\x41\"\n", "invalid escape");
    parse_fails("x = \"open\ny = 1\n", "t.toml:1:10: unterminated string");
    parse_fails("x = \"\"\"never closed\n", "unterminated multi-line string");
    parse_fails("x = \"a\x01\"\n", "control character U+0001");
    parse_fails("x = \"\xC3\x28\"\n", "t.toml:1:6: invalid UTF-8");
}

static void test_dates_and_times(void **state)
{
    (void)state;
    toml_value *doc = parse_ok("odt = 1979-05-27T07:32:00.999999-07:30\n"
                               "sp = 1979-05-27 07:32:00Z\n"
                               "ldt = 1979-05-27T00:32:00.1234567891\n"
                               "ld = 2024-02-29\n"
                               "lt = 07:32:00\n");
    const toml_value *odt = toml_table_get(doc, "odt");
    assert_int_equal(toml_type_of(odt), TOML_DATETIME);
    const struct toml_datetime *d = toml_datetime(odt);
    assert_int_equal(d->year, 1979);
    assert_int_equal(d->nanosecond, 999999000);
    assert_int_equal(d->offset_minutes, -(7 * 60 + 30));
    char buf[64];
    toml_datetime_format(odt, buf, sizeof(buf));
    assert_string_equal(buf, "1979-05-27T07:32:00.999999-07:30");
    toml_datetime_format(toml_table_get(doc, "sp"), buf, sizeof(buf));
    assert_string_equal(buf, "1979-05-27T07:32:00Z");
    const toml_value *ldt = toml_table_get(doc, "ldt");
    assert_int_equal(toml_type_of(ldt), TOML_DATETIME_LOCAL);
    toml_datetime_format(ldt, buf, sizeof(buf)); /* truncated to nanoseconds */
    assert_string_equal(buf, "1979-05-27T00:32:00.123456789");
    assert_int_equal(toml_type_of(toml_table_get(doc, "ld")), TOML_DATE_LOCAL);
    toml_datetime_format(toml_table_get(doc, "lt"), buf, sizeof(buf));
    assert_string_equal(buf, "07:32:00");
    toml_free(doc);
    parse_fails("x = 2023-02-29\n", "no day 29");
    parse_fails("x = 2023-13-01\n", "month must be 01..12");
    parse_fails("x = 07:32\n", "requires seconds");
    parse_fails("x = 1979-05-27T25:00:00\n", "invalid time");
    parse_fails("x = 1979-05-27T07:32:00+24:00\n", "invalid UTC offset");
}

static void test_tables_and_arrays(void **state)
{
    (void)state;
    toml_value *doc = parse_ok("mixed = [1, \"two\", [3.0], {four = 4},]\n"
                               "[server]\n"
                               "host.name = \"a\"\n"
                               "[server.tls]\n"
                               "[[bp]]\n"
                               "name = \"one\"\n"
                               "[bp.metrics]\n"
                               "x = 1\n"
                               "[[bp]]\n"
                               "name = \"two\"\n");
    const toml_value *mixed = toml_table_get(doc, "mixed");
    assert_int_equal(toml_array_count(mixed), 4);
    assert_int_equal(toml_type_of(toml_array_at(mixed, 1)), TOML_STRING);
    assert_int_equal(toml_type_of(toml_array_at(mixed, 3)), TOML_TABLE);
    const toml_value *server = toml_table_get(doc, "server");
    assert_int_equal(toml_line(server), 2);
    const toml_value *host = toml_table_get(server, "host");
    assert_string_equal(toml_string(toml_table_get(host, "name"), NULL), "a");
    const toml_value *bp = toml_table_get(doc, "bp");
    assert_int_equal(toml_array_count(bp), 2);
    const toml_value *first = toml_array_at(bp, 0);
    assert_int_equal(toml_integer(toml_table_get(toml_table_get(first, "metrics"), "x")), 1);
    assert_int_equal(toml_line(toml_array_at(bp, 1)), 9);
    toml_free(doc);
}

static void test_redefinition_rules(void **state)
{
    (void)state;
    parse_fails("a = 1\na = 2\n", "t.toml:2:1: duplicate key 'a' (first defined at line 1)");
    parse_fails("[a]\n[a]\n", "t.toml:2:1: table [a] is defined twice (line 1)");
    parse_fails("[a]\nb.c = 1\n[a.b]\n", "already defined with dotted keys");
    parse_fails("a = {b = 1}\n[a.c]\n", "inline table");
    parse_fails("a = {b = 1}\na.c = 2\n", "dotted keys cannot add");
    parse_fails("a = [1]\n[[a]]\n", "cannot append");
    parse_fails("[[a]]\n[a]\n", "use [[a]]");
    parse_fails("[a.b.c]\n[a]\nb.c.d = 1\n", "dotted keys cannot add");
    parse_fails("x = {a = 1,}\n", "trailing comma");
    parse_fails("x = {a = 1\n}\n", "newlines and comments are not allowed");
    /* Allowed: a parent header after a child, and sub-tables of dotted tables. */
    toml_value *doc = parse_ok("[a.b]\n[a]\n[fruit]\napple.color = 1\n[fruit.apple.texture]\n");
    toml_free(doc);
}

static void test_limits_and_files(void **state)
{
    (void)state;
    char deep[4000];
    memset(deep, '[', sizeof(deep));
    memcpy(deep, "x = ", 4);
    deep[sizeof(deep) - 1] = '\0';
    parse_fails(deep, "nested deeper than");
    char err[256];
    toml_value *doc = (toml_value *)1;
    assert_int_equal(toml_parse_file("no/such/file.toml", &doc, err, sizeof(err)), AE_ENOENT);
    assert_null(doc);
    assert_non_null(strstr(err, "no/such/file.toml"));
    /* Empty input, BOM and CRLF line ends. */
    doc = parse_ok("");
    assert_int_equal(toml_table_count(doc), 0);
    toml_free(doc);
    doc = parse_ok("\xEF\xBB\xBF"
                   "a = 1\r\nb = 2\r\n");
    assert_int_equal(toml_table_count(doc), 2);
    toml_free(doc);
    parse_fails("a = 1\rb = 2\n", "carriage return");
    toml_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalars_and_positions),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_floats),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_dates_and_times),
        cmocka_unit_test(test_tables_and_arrays),
        cmocka_unit_test(test_redefinition_rules),
        cmocka_unit_test(test_limits_and_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
