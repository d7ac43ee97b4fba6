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

int csv_next(struct csv_reader *r, char *err, size_t errlen)
{
    /* Skip blank lines. */
    while (r->p < r->end && is_blank_line(r->p, r->end)) {
        const char *nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
        r->p = nl ? nl + 1 : r->end;
        r->next_line++;
    }
    if (r->p >= r->end)
        return 0;
    r->line = r->next_line;
    r->nfields = 0;
    /* Field offsets are recorded first (scratch may move while growing), pointers set at the end.
     */
    size_t used = 0, nstarts = 0;
    int rc = 0;
    for (;;) {
        if (grow((void **)&r->start, &r->start_cap, nstarts + 1, sizeof *r->start)) {
            rc = AE_ENOMEM;
            break;
        }
        r->start[nstarts++] = used;
        /* Leading spaces of a field. */
        while (r->p < r->end && (*r->p == ' ' || *r->p == '\t'))
            r->p++;
        int quoted = r->p < r->end && *r->p == '"';
        size_t last_content = used;
        if (quoted) {
            r->p++;
            for (;;) {
                if (r->p >= r->end) {
                    snprintf(err, errlen, "%s:%ld: unterminated quoted field", r->name, r->line);
                    rc = AE_EPARSE;
                    break;
                }
                char c = *r->p++;
                if (c == '"') {
                    if (r->p < r->end && *r->p == '"') {
                        r->p++;
                    } else {
                        break;
                    }
                } else if (c == '\n') {
                    r->next_line++;
                }
                if (grow((void **)&r->scratch, &r->scratch_cap, used + 2, 1)) {
                    rc = AE_ENOMEM;
                    break;
                }
                r->scratch[used++] = c;
            }
            if (rc)
                break;
            last_content = used;
        }
        /* Unquoted text (or anything after a closing quote, kept as written). */
        while (r->p < r->end && *r->p != ',' && *r->p != '\n') {
            char c = *r->p++;
            if (grow((void **)&r->scratch, &r->scratch_cap, used + 2, 1)) {
                rc = AE_ENOMEM;
                break;
            }
            r->scratch[used++] = c;
            if (c != ' ' && c != '\t' && c != '\r')
                last_content = used;
        }
        if (rc)
            break;
        used = last_content; /* trailing spaces, tabs and the CR of CRLF */
        if (grow((void **)&r->scratch, &r->scratch_cap, used + 1, 1)) {
            rc = AE_ENOMEM;
            break;
        }
        r->scratch[used++] = '\0';
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == '\n') {
            r->p++;
            r->next_line++;
        }
        break;
    }
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
