/* ae_strerror: the text side of the project-wide error list in aether/error.h; ae_errf: the
 * formatter every module's error path writes its message with. */
#include "aether/error.h"

#include <stdio.h>

const char *ae_strerror(int status)
{
    switch (status) {
    case AE_OK:
        return "ok";
#define AE_ERRNO_CASE(name, value, text)                                                           \
    case value:                                                                                    \
        return text;
        AE_ERRNO_MAP(AE_ERRNO_CASE)
#undef AE_ERRNO_CASE
    }
    return "unknown error";
}

size_t ae_verrf(char *err, size_t errlen, size_t at, const char *fmt, va_list ap)
{
    if (!err || errlen == 0 || at >= errlen)
        return at;
    int n = vsnprintf(err + at, errlen - at, fmt, ap);
    if (n < 0) {
        err[at] = '\0';
        return at;
    }
    size_t end = at + (size_t)n;
    return end < errlen ? end : errlen - 1;
}

size_t ae_errf(char *err, size_t errlen, size_t at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t end = ae_verrf(err, errlen, at, fmt, ap);
    va_end(ap);
    return end;
}
