/* Workload traces: the one reader of trace CSVs in the project (simulator, load generator).
 *
 * A trace is one time column and one value column of a CSV file, placed on a regular time grid
 * of a given step. The time column may hold datetimes (ISO 8601 like "1995-07-01 00:00" or
 * "2013-06-30T22:05:00Z"; without a zone they are taken as UTC wall-clock), Unix seconds, Unix
 * milliseconds, or a minute index (0, 1, 2, ... = minutes since an arbitrary origin). An empty
 * value cell is a missing value, never an error; time that jumps over grid slots is a gap, and
 * both are NAN in the result and counted, so the caller can say what it did with them. Anything
 * else that is wrong (unknown column, unreadable number, time going backwards) is an error whose
 * message names the file, the line and the column. */
#ifndef AETHER_TRACE_H
#define AETHER_TRACE_H

#include <stddef.h>
#include <stdint.h>

enum trace_time_format {
    TRACE_TIME_AUTO = 0, /* decided from the first data row, see trace_load() */
    TRACE_TIME_DATETIME,
    TRACE_TIME_UNIX_S,
    TRACE_TIME_UNIX_MS,
    TRACE_TIME_MINUTE, /* minute index: t = index x 60 s */
};

struct trace_options {
    const char *time_column;  /* header name, required */
    const char *value_column; /* header name, required */
    const char *mask_column;  /* optional (NULL): rows where this column is non-zero are missing */
    enum trace_time_format time_format;
    int64_t step_ms; /* grid step; 0 = the most common difference between consecutive rows */
    int has_from;    /* keep only rows with from_ms <= t (when set) ... */
    int64_t from_ms;
    int has_to; /* ... and t < to_ms (when set) */
    int64_t to_ms;
};

/* A run of grid slots that no row of the file covers (the time column jumped). */
struct trace_gap {
    int64_t start_ms; /* time of the first missing slot */
    int64_t slots;    /* number of missing slots */
};

struct trace {
    enum trace_time_format time_format; /* the format used (AUTO resolved) */
    int64_t start_ms;                   /* time of slot 0 (the first row kept), Unix ms */
    int64_t step_ms;
    size_t len;            /* slots from the first to the last row kept */
    double *values;        /* len values; NAN = missing (empty cell, masked row, gap) */
    size_t rows;           /* data rows kept (inside from/to) */
    size_t empty_cells;    /* rows whose value cell was empty */
    size_t masked_rows;    /* rows dropped by mask_column */
    size_t off_grid_rows;  /* rows whose time was not on the grid (rounded to the nearest slot) */
    size_t duplicate_rows; /* rows that fell on a slot already filled (the first one is kept) */
    size_t gap_slots;      /* total slots in gaps */
    size_t gap_count;
    struct trace_gap *gaps; /* gap_count entries, in time order */
};

/* Reads a trace CSV from path. AUTO time format: a cell with '-', ':' or 'T' is a datetime; else a
 * number >= 1e11 is Unix ms, >= 1e8 Unix seconds, anything smaller a minute index.
 * On success *out is set (caller frees with trace_free) and 0 returned. On failure a negative
 * AE_E* code is returned and err holds e.g. "t.csv:12: column 'requests': 'abc' is not a number".
 */
int trace_load(const char *path, const struct trace_options *opt, struct trace **out, char *err,
               size_t errlen);

/* As trace_load, over text[0..len) (borrowed); name labels messages. */
int trace_parse(const char *name, const char *text, size_t len, const struct trace_options *opt,
                struct trace **out, char *err, size_t errlen);

/* Frees a trace from trace_load/trace_parse; NULL is fine. */
void trace_free(struct trace *t);

/* Parses a step such as "1m", "5m", "30s", "1h", "500ms" (a bare number is minutes) into ms.
 * Returns 0, or AE_EPARSE with a message naming the text. */
int trace_parse_step(const char *text, int64_t *step_ms, char *err, size_t errlen);

/* Parses a time format name: "auto", "datetime", "unix-s", "unix-ms", "minute". 0 or AE_EINVAL. */
int trace_parse_time_format(const char *name, enum trace_time_format *out);

/* Name of a time format, as trace_parse_time_format accepts it; static storage. */
const char *trace_time_format_name(enum trace_time_format f);

/* Parses one time value: a datetime always; a number as the given format (AUTO: as in
 * trace_load). Used for the time column and for --from/--to. 0 or AE_EPARSE. */
int trace_parse_time(const char *text, enum trace_time_format fmt, int64_t *ms);

/* Writes a one-paragraph human summary of the trace (span, step, rows, missing cells, gaps with
 * their times) into buf (always NUL-terminated). Returns the length it wanted, like snprintf. */
size_t trace_describe(const struct trace *t, char *buf, size_t buflen);

/* Formats Unix ms as "YYYY-MM-DD HH:MM" (UTC) into buf (>= 20 bytes). Returns buf. */
char *trace_format_time(int64_t ms, char *buf, size_t buflen);

#endif
