/* Whole-file reading with an error that names the file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aether/error.h"
#include "aether/fileio.h"

static int failed(int code, const char *path, const char *why, char *err, size_t errlen)
{
    if (err && errlen)
        snprintf(err, errlen, "%s: %s", path, why);
    return code;
}

int ae_read_file(const char *path, char **data, size_t *len, char *err, size_t errlen)
{
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        return failed(e == ENOENT ? AE_ENOENT : AE_EIO, path, strerror(e), err, errlen);
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n - 1, f); /* one byte kept for the NUL */
        n += got;
        if (got == 0)
            break;
        if (n + 1 < cap)
            continue;
        char *bigger = cap < ((size_t)1 << 31) ? realloc(buf, cap * 2) : NULL;
        if (!bigger) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    int read_error = ferror(f);
    fclose(f);
    if (!buf)
        return failed(AE_ENOMEM, path, "out of memory (or larger than 2 GiB)", err, errlen);
    if (read_error) {
        free(buf);
        return failed(AE_EIO, path, "read error", err, errlen);
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return 0;
}
