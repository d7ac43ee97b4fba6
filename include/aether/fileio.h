/* Whole-file reading, shared by every module and tool that loads a file at once (config, traces,
 * training data, models, fuzz corpora, conformance vectors). */
#ifndef AETHER_FILEIO_H
#define AETHER_FILEIO_H

#include <stddef.h>

/* Reads the file at path into a new buffer (the caller frees it) with a NUL byte after the last
 * byte read, not counted in *len, so that text can be parsed in place. Returns 0, or AE_ENOENT (no
 * such file), AE_EIO (cannot open or read it) or AE_ENOMEM, with *data NULL and, when err is not
 * NULL, "<path>: <reason>" in err. */
int ae_read_file(const char *path, char **data, size_t *len, char *err, size_t errlen);

#endif
