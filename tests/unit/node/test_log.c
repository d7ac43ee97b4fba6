/* Node logging: level filter, text and JSON line formats, escaping. Lines are captured through
 * a pipe. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "aether/log.h"

#include <jansson.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int fds[2];

static void capture(char *buf, size_t cap)
{
    ssize_t n = read(fds[0], buf, cap - 1);
    buf[n > 0 ? n : 0] = '\0';
}

static void test_levels_and_formats(void **state)
{
    (void)state;
    assert_int_equal(pipe(fds), 0);
    nlog_set_fd(fds[1]);
    char buf[4096];

    nlog_setup(NLOG_WARN, NLOG_TEXT);
    nlog(NLOG_INFO, "ttm", "hidden");
    nlog(NLOG_WARN, "ttm", "File not found: %s", "m.onnx");
    capture(buf, sizeof buf);
    assert_null(strstr(buf, "hidden"));
    assert_non_null(strstr(buf, " WARN  [ttm] File not found: m.onnx\n"));
    assert_true(buf[4] == '-' && buf[10] == 'T'); /* ISO 8601 time first */

    nlog_setup(NLOG_DEBUG, NLOG_JSON);
    nlog(NLOG_ERROR, "http", "quote \" backslash \\ newline\n tab\t");
    capture(buf, sizeof buf);
    json_error_t e;
    json_t *o = json_loads(buf, 0, &e);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "level")), "error");
    assert_string_equal(json_string_value(json_object_get(o, "component")), "http");
    assert_string_equal(json_string_value(json_object_get(o, "msg")),
                        "quote \" backslash \\ newline\n tab\t");
    assert_non_null(json_object_get(o, "ts"));
    json_decref(o);

    nlog_set_fd(2);
    close(fds[0]);
    close(fds[1]);
    nlog_setup(NLOG_INFO, NLOG_TEXT);
}

/* A limit of 3 lines a minute: 100 calls write 3 lines; the count of the others is reported
 * with the first line of the next window (a window of 0.2 s here). */
static void test_rate_limit(void **state)
{
    (void)state;
    assert_int_equal(pipe(fds), 0);
    nlog_set_fd(fds[1]);
    nlog_setup(NLOG_INFO, NLOG_TEXT);
    static struct nlog_limit lim = NLOG_LIMIT_INIT(3, 0.2);
    for (int i = 0; i < 100; i++)
        nlog_limited(&lim, NLOG_WARN, "http", "bad request %d", i);
    char buf[4096];
    capture(buf, sizeof buf);
    int lines = 0;
    for (const char *p = buf; (p = strchr(p, '\n')) != NULL; p++)
        lines++;
    assert_int_equal(lines, 3);
    assert_non_null(strstr(buf, "bad request 2\n"));
    nanosleep(&(struct timespec){0, 250 * 1000 * 1000}, NULL);
    nlog_limited(&lim, NLOG_WARN, "http", "bad request again");
    capture(buf, sizeof buf);
    assert_non_null(strstr(buf, "bad request again (97 similar lines suppressed before this one)"));
    nlog_set_fd(2);
    close(fds[0]);
    close(fds[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_levels_and_formats),
        cmocka_unit_test(test_rate_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
