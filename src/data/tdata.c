/* Training-data CSV reader and writer (see aether/tdata.h). The reader is strict about the
 * header and the timestamps (a file with shuffled columns would train a wrong model silently)
 * and lenient about values (an empty cell is a missing minute, as the format says). */
#include "aether/tdata.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aether/error.h"
#include "aether/features.h"
#include "aether/fileio.h"
#include "csv.h"

const char *tdata_feature_name(int i)
{
    return ae_feature_name(i);
}

void tdata_free(struct tdata *d)
{
    if (!d)
        return;
    free(d->row);
    free(d);
}

static int check_header(const char *name, const struct csv_reader *rd, char *err, size_t errlen)
{
    for (int i = 0; i <= TDATA_FEATURES; i++) {
        const char *want = i == 0 ? "timestamp" : ae_feature_name(i - 1);
        if ((size_t)i >= rd->nfields) {
            snprintf(err, errlen, "%s:%ld: header has %zu columns, expected %d (missing '%s')",
                     name, rd->line, rd->nfields, TDATA_FEATURES + 1, want);
            return AE_EPARSE;
        }
        if (strcmp(rd->field[i], want) != 0) {
            snprintf(err, errlen, "%s:%ld: column %d is '%.40s', expected '%s'", name, rd->line,
                     i + 1, rd->field[i], want);
            return AE_EPARSE;
        }
    }
    if (rd->nfields != TDATA_FEATURES + 1) {
        snprintf(err, errlen, "%s:%ld: header has %zu columns, expected %d", name, rd->line,
                 rd->nfields, TDATA_FEATURES + 1);
        return AE_EPARSE;
    }
    return 0;
}

static int parse_row(const char *name, const struct csv_reader *rd, struct tdata_row *row,
                     char *err, size_t errlen)
{
    if (rd->nfields != TDATA_FEATURES + 1) {
        snprintf(err, errlen, "%s:%ld: %zu columns, expected %d", name, rd->line, rd->nfields,
                 TDATA_FEATURES + 1);
        return AE_EPARSE;
    }
    double ts;
    if (csv_number(rd->field[0], &ts) || ts != floor(ts) || fabs(ts) > 9e15) {
        snprintf(err, errlen, "%s:%ld: column 'timestamp': '%.40s' is not Unix milliseconds", name,
                 rd->line, rd->field[0]);
        return AE_EPARSE;
    }
    row->timestamp_ms = (int64_t)ts;
    for (int i = 0; i < TDATA_FEATURES; i++) {
        const char *c = rd->field[i + 1];
        if (c[0] == '\0') {
            row->values[i] = NAN;
        } else if (csv_number(c, &row->values[i])) {
            snprintf(err, errlen, "%s:%ld: column '%s': '%.40s' is not a number", name, rd->line,
                     ae_feature_name(i), c);
            return AE_EPARSE;
        }
    }
    return 0;
}

int tdata_parse(const char *name, const char *text, size_t len, struct tdata **out, char *err,
                size_t errlen)
{
    *out = NULL;
    struct csv_reader rd;
    csv_init(&rd, name, text, len);
    struct tdata *d = calloc(1, sizeof *d);
    size_t cap = 0;
    int rc = d ? csv_next(&rd, err, errlen) : AE_ENOMEM;
    if (rc == 0) {
        snprintf(err, errlen, "%s: empty file (no header line)", name);
        rc = AE_EPARSE;
    }
    if (rc == 1)
        rc = check_header(name, &rd, err, errlen);
    while (rc >= 0 && (rc = csv_next(&rd, err, errlen)) == 1) {
        if (d->rows == cap) {
            size_t c = cap ? cap * 2 : 256;
            struct tdata_row *r = realloc(d->row, c * sizeof *r);
            if (!r) {
                snprintf(err, errlen, "%s:%ld: out of memory", name, rd.line);
                rc = AE_ENOMEM;
                break;
            }
            d->row = r;
            cap = c;
        }
        struct tdata_row *row = &d->row[d->rows];
        rc = parse_row(name, &rd, row, err, errlen);
        if (rc < 0)
            break;
        if (d->rows > 0 && row->timestamp_ms <= d->row[d->rows - 1].timestamp_ms) {
            snprintf(err, errlen, "%s:%ld: column 'timestamp': %lld does not increase", name,
                     rd.line, (long long)row->timestamp_ms);
            rc = AE_EPARSE;
            break;
        }
        d->rows++;
    }
    csv_free(&rd);
    if (rc < 0) {
        tdata_free(d);
        return rc;
    }
    *out = d;
    return 0;
}

int tdata_load(const char *path, struct tdata **out, char *err, size_t errlen)
{
    char *text;
    size_t len;
    *out = NULL;
    int rc = ae_read_file(path, &text, &len, err, errlen);
    if (rc)
        return rc;
    rc = tdata_parse(path, text, len, out, err, errlen);
    free(text);
    return rc;
}

size_t tdata_format_header(char *buf, size_t buflen)
{
    size_t n = 0;
    int k = snprintf(buf, buflen, "timestamp");
    n += (size_t)k;
    for (int i = 0; i < TDATA_FEATURES; i++) {
        k = snprintf(buf + (n < buflen ? n : buflen), n < buflen ? buflen - n : 0, ",%s",
                     ae_feature_name(i));
        n += (size_t)k;
    }
    k = snprintf(buf + (n < buflen ? n : buflen), n < buflen ? buflen - n : 0, "\n");
    return n + (size_t)k;
}

size_t tdata_format_row(char *buf, size_t buflen, int64_t timestamp_ms,
                        const double values[TDATA_FEATURES])
{
    size_t n = (size_t)snprintf(buf, buflen, "%lld", (long long)timestamp_ms);
    for (int i = 0; i < TDATA_FEATURES; i++) {
        char *at = buf + (n < buflen ? n : buflen);
        size_t room = n < buflen ? buflen - n : 0;
        int k =
            isfinite(values[i]) ? snprintf(at, room, ",%.9g", values[i]) : snprintf(at, room, ",");
        n += (size_t)k;
    }
    int k = snprintf(buf + (n < buflen ? n : buflen), n < buflen ? buflen - n : 0, "\n");
    return n + (size_t)k;
}

struct tdata_writer {
    FILE *f;
    char *path;
    int failed_errno; /* first write error, 0 when none */
};

int tdata_writer_open(const char *path, tdata_writer **out, char *err, size_t errlen)
{
    *out = NULL;
    tdata_writer *w = calloc(1, sizeof *w);
    if (w)
        w->path = strdup(path);
    if (!w || !w->path) {
        if (w)
            free(w);
        snprintf(err, errlen, "%s: out of memory", path);
        return AE_ENOMEM;
    }
    w->f = fopen(path, "w");
    if (!w->f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        free(w->path);
        free(w);
        return AE_EIO;
    }
    char line[512];
    tdata_format_header(line, sizeof line);
    if (fputs(line, w->f) == EOF)
        w->failed_errno = errno ? errno : EIO;
    *out = w;
    return 0;
}

int tdata_writer_row(tdata_writer *w, int64_t timestamp_ms, const double values[TDATA_FEATURES])
{
    char line[512];
    tdata_format_row(line, sizeof line, timestamp_ms, values);
    if (fputs(line, w->f) == EOF) {
        if (!w->failed_errno)
            w->failed_errno = errno ? errno : EIO;
        return AE_EIO;
    }
    return 0;
}

int tdata_writer_close(tdata_writer *w, char *err, size_t errlen)
{
    if (!w)
        return 0;
    if (fclose(w->f) != 0 && !w->failed_errno)
        w->failed_errno = errno ? errno : EIO;
    int rc = 0;
    if (w->failed_errno) {
        snprintf(err, errlen, "%s: write failed: %s", w->path, strerror(w->failed_errno));
        rc = AE_EIO;
    }
    free(w->path);
    free(w);
    return rc;
}
