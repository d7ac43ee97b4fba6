/* Project-wide error codes.
 *
 * Functions that can fail return int: 0 on success, a negative AE_E* code on failure, and write a
 * human-readable message (naming the file, key, line or value) into a caller-provided buffer.
 * The list is an X-macro so that the enum and ae_strerror() cannot drift apart. Append new codes
 * at the end; never renumber. */
#ifndef AETHER_ERROR_H
#define AETHER_ERROR_H

#define AE_ERRNO_MAP(X)                                                                           \
    X(EINVAL, -1, "invalid argument")                                                              \
    X(ENOMEM, -2, "out of memory")                                                                 \
    X(ENOENT, -3, "not found")                                                                     \
    X(EIO, -4, "input/output error")                                                               \
    X(EPARSE, -5, "parse error")                                                                   \
    X(ERANGE, -6, "value out of range")                                                            \
    X(EUNSUPPORTED, -7, "not supported")                                                           \
    X(ESHAPE, -8, "shape mismatch")                                                                \
    X(ESCHEMA, -9, "feature schema mismatch")                                                      \
    X(ESTATE, -10, "invalid state")                                                                \
    X(ETIMEOUT, -11, "timed out")                                                                  \
    X(EEXIST, -12, "already exists")                                                               \
    X(EAGAIN, -13, "not ready yet")                                                                \
    X(EINFER, -14, "inference failed")                                                             \
    X(EPERM, -15, "not permitted")

enum ae_status {
    AE_OK = 0,
#define AE_ERRNO_ENUM(name, value, text) AE_##name = value,
    AE_ERRNO_MAP(AE_ERRNO_ENUM)
#undef AE_ERRNO_ENUM
};

/* Short description of a status code; never NULL, static storage. */
const char *ae_strerror(int status);

#include <stdarg.h>
#include <stddef.h>

/* The one error-message formatter: writes fmt at offset `at` of the caller's buffer err[errlen]
 * (at = 0 starts the message; a later call appends, e.g. a message after a "file:line: " prefix).
 * Does nothing when err is NULL, errlen is 0 or at is past the end; a message that does not fit
 * is cut and stays NUL-terminated. Returns the offset after what was written (at most
 * errlen - 1), for the next part. */
size_t ae_errf(char *err, size_t errlen, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
size_t ae_verrf(char *err, size_t errlen, size_t at, const char *fmt, va_list ap);

#endif
