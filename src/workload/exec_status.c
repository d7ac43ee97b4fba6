/* The status_command output parser (see exec_status.h). */
#include "exec_status.h"

#include <stdio.h>
#include <string.h>

#include "aether/error.h"

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* One whole number at text[*i..len), moving *i past it; -1 when there is none or it is too big. */
static long read_count(const char *text, size_t len, size_t *i)
{
    long v = 0;
    size_t start = *i;
    while (*i < len && text[*i] >= '0' && text[*i] <= '9') {
        v = v * 10 + (text[*i] - '0');
        if (v > EXEC_STATUS_MAX_COUNT)
            return -1;
        (*i)++;
    }
    return *i > start ? v : -1;
}

int exec_status_parse(const char *text, size_t len, int *ready, int *requested, char *err,
                      size_t errlen)
{
    if (len > 0 && text[len - 1] == '\n')
        len--;
    if (len > 0 && text[len - 1] == '\r')
        len--;
    if (memchr(text, '\n', len)) {
        snprintf(err, errlen, "more than one line");
        return AE_EPARSE;
    }
    long v[2];
    int n = 0;
    size_t i = 0;
    for (;;) {
        while (i < len && is_blank(text[i]))
            i++;
        if (i == len)
            break;
        if (n == 2) {
            snprintf(err, errlen, "more than two numbers");
            return AE_EPARSE;
        }
        if ((v[n] = read_count(text, len, &i)) < 0 || (i < len && !is_blank(text[i]))) {
            snprintf(err, errlen, "value %d is not a whole number 0..%d", n + 1,
                     EXEC_STATUS_MAX_COUNT);
            return AE_EPARSE;
        }
        n++;
    }
    if (n != 2) {
        snprintf(err, errlen, "expected two whole numbers, got %d", n);
        return AE_EPARSE;
    }
    *ready = (int)v[0];
    *requested = (int)v[1];
    return 0;
}
