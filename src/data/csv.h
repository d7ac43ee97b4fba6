/* Private to src/data: a small RFC 4180 CSV tokenizer over an in-memory buffer, and the helpers
 * the trace and training-data readers share (whole-file read, strict number parsing, messages
 * that name the file and line).
 *
 * Fields may be double-quoted ("" inside quotes is one quote); unquoted fields are trimmed of
 * spaces and tabs; lines end in LF or CRLF; a UTF-8 byte-order mark at the start is skipped; blank
 * lines are skipped. */
#ifndef AETHER_DATA_CSV_H
#define AETHER_DATA_CSV_H

#include <stddef.h>

struct csv_reader {
    const char *name; /* file name for messages; borrowed */
    const char *p, *end;
    long line;      /* line where the current record starts (1-based) */
    long next_line; /* line of the next unread byte */
    char *scratch;  /* unquoted field text, NUL-separated; owned */
    size_t scratch_cap;
    const char **field; /* nfields pointers into scratch; owned array */
    size_t nfields, field_cap;
    size_t *start; /* field offsets into scratch while a record is read; owned */
    size_t start_cap;
};

/* Starts reading text[0..len) (borrowed, must outlive the reader); name labels messages. */
void csv_init(struct csv_reader *r, const char *name, const char *text, size_t len);

/* Reads the next record into r->field[0..r->nfields). Returns 1 for a record, 0 at the end, or
 * a negative AE_E* code with "name:line: ..." in err (unterminated quote, out of memory). */
int csv_next(struct csv_reader *r, char *err, size_t errlen);

/* Releases the reader's buffers (not the text). */
void csv_free(struct csv_reader *r);

/* Parses a whole field as a finite decimal number (no trailing characters). 0 or AE_EPARSE. */
int csv_number(const char *text, double *out);



/* Index of the header field equal to name, or -1. */
int csv_find_column(const struct csv_reader *r, const char *name);

#endif
