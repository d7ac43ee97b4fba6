/* The CSV tokenizer and shared helpers of src/data (see csv.h). Every trace and training-data
 * file of the project goes through csv_next, so its fuzz target covers both readers. */
#include "csv.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aether/error.h"

void csv_init(struct csv_reader *r, const char *name, const char *text, size_t len)
{
    memset(r, 0, sizeof *r);
    r->name = name;
    r->p = text;
    r->end = text + len;
    r->next_line = 1;
    if (len >= 3 && (unsigned char)text[0] == 0xEF && (unsigned char)text[1] == 0xBB &&
        (unsigned char)text[2] == 0xBF)
        r->p += 3;
}

void csv_free(struct csv_reader *r)
{
    free(r->scratch);
    free(r->field);
    free(r->start);
    r->scratch = NULL;
    r->field = NULL;
    r->start = NULL;
}

static int grow(void **buf, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t cap2 = *cap ? *cap : 64;
    while (cap2 < need)
        cap2 *= 2;
    void *p = realloc(*buf, cap2 * elem);
    if (!p)
        return AE_ENOMEM;
    *buf = p;
    *cap = cap2;
    return 0;
}

static int is_blank_line(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
        p++;
    return p == end || *p == '\n';
}

static void skip_blank_lines(struct csv_reader *r)
{
    while (r->p < r->end && is_blank_line(r->p, r->end)) {
        const char *nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
        r->p = nl ? nl + 1 : r->end;
        r->next_line++;
    }
}

/* Appends c to the field text at scratch[*used] (room is kept for the closing NUL). */
static int push_char(struct csv_reader *r, size_t *used, char c)
{
    if (grow((void **)&r->scratch, &r->scratch_cap, *used + 2, 1))
        return AE_ENOMEM;
    r->scratch[(*used)++] = c;
    return 0;
}

/* The text of a quoted field, r->p just after its opening quote; "" stands for one quote. */
static int read_quoted(struct csv_reader *r, size_t *used, char *err, size_t errlen)
{
    for (;;) {
        if (r->p >= r->end) {
            snprintf(err, errlen, "%s:%ld: unterminated quoted field", r->name, r->line);
            return AE_EPARSE;
        }
        char c = *r->p++;
        if (c == '"') {
            if (r->p >= r->end || *r->p != '"')
                return 0;
            r->p++;
        } else if (c == '\n') {
            r->next_line++;
        }
        if (push_char(r, used, c))
            return AE_ENOMEM;
    }
}

/* One field into scratch at *used, NUL-terminated. Returns 1 when another field of the record
 * follows, 0 at the record's end, or a negative AE_E* code. */
static int read_field(struct csv_reader *r, size_t *used, char *err, size_t errlen)
{
    /* Leading spaces of a field. */
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t'))
        r->p++;
    size_t last_content = *used;
    if (r->p < r->end && *r->p == '"') {
        r->p++;
        int rc = read_quoted(r, used, err, errlen);
        if (rc)
            return rc;
        last_content = *used;
    }
    /* Unquoted text (or anything after a closing quote, kept as written). */
    while (r->p < r->end && *r->p != ',' && *r->p != '\n') {
        char c = *r->p++;
        if (push_char(r, used, c))
            return AE_ENOMEM;
        if (c != ' ' && c != '\t' && c != '\r')
            last_content = *used;
    }
    *used = last_content; /* trailing spaces, tabs and the CR of CRLF */
    if (grow((void **)&r->scratch, &r->scratch_cap, *used + 1, 1))
        return AE_ENOMEM;
    r->scratch[(*used)++] = '\0';
    if (r->p < r->end && *r->p == ',') {
        r->p++;
        return 1;
    }
    if (r->p < r->end && *r->p == '\n') {
        r->p++;
        r->next_line++;
    }
    return 0;
}

/* Reads the record's fields; their offsets into scratch go to r->start[0..*nstarts). */
static int read_fields(struct csv_reader *r, size_t *nstarts, char *err, size_t errlen)
{
    size_t used = 0;
    for (;;) {
        if (grow((void **)&r->start, &r->start_cap, *nstarts + 1, sizeof *r->start))
            return AE_ENOMEM;
        r->start[(*nstarts)++] = used;
        int rc = read_field(r, &used, err, errlen);
        if (rc <= 0)
            return rc;
    }
}

int csv_next(struct csv_reader *r, char *err, size_t errlen)
{
    skip_blank_lines(r);
    if (r->p >= r->end)
        return 0;
    r->line = r->next_line;
    r->nfields = 0;
    /* Field offsets are recorded first (scratch may move while growing), pointers set at the end.
     */
    size_t nstarts = 0;
    int rc = read_fields(r, &nstarts, err, errlen);
    if (rc == 0 && grow((void **)&r->field, &r->field_cap, nstarts, sizeof *r->field))
        rc = AE_ENOMEM;
    if (rc == 0) {
        for (size_t i = 0; i < nstarts; i++)
            r->field[i] = r->scratch + r->start[i];
        r->nfields = nstarts;
    }
    if (rc == AE_ENOMEM)
        snprintf(err, errlen, "%s:%ld: out of memory", r->name, r->line);
    return rc ? rc : 1;
}

int csv_number(const char *text, double *out)
{
    if (!text || !*text)
        return AE_EPARSE;
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end != '\0' || !isfinite(v) || errno == ERANGE)
        return AE_EPARSE;
    *out = v;
    return 0;
}

int csv_find_column(const struct csv_reader *r, const char *name)
{
    for (size_t i = 0; i < r->nfields; i++)
        if (strcmp(r->field[i], name) == 0)
            return (int)i;
    return -1;
}
