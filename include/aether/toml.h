/* TOML 1.0 documents: parse text into a tree of tables, arrays and typed values.
 *
 * The configuration loader (cfgload.h) reads aether.toml through this API; nothing here knows
 * about configuration keys. Every value remembers the line and column where it was written, so
 * that later checks (unknown key, wrong type, out of range) can point at the exact spot. Parse
 * errors name the file, line and column and say what was expected there.
 *
 * A parsed tree is immutable and owned by the caller: free it with toml_free(). Every pointer
 * obtained from it (keys, strings, child values) is borrowed and valid until then. */
#ifndef AETHER_TOML_H
#define AETHER_TOML_H

#include <stddef.h>
#include <stdint.h>

enum toml_type {
    TOML_TABLE,
    TOML_ARRAY,
    TOML_STRING,
    TOML_INTEGER,
    TOML_FLOAT,
    TOML_BOOL,
    TOML_DATETIME,       /* offset date-time: 1979-05-27T07:32:00-08:00 */
    TOML_DATETIME_LOCAL, /* local date-time: 1979-05-27T07:32:00 */
    TOML_DATE_LOCAL,     /* local date: 1979-05-27 */
    TOML_TIME_LOCAL,     /* local time: 07:32:00 */
};

/* Date and time fields; which ones are meaningful depends on the value's type. */
struct toml_datetime {
    int year, month, day;     /* dates and date-times */
    int hour, minute, second; /* times and date-times */
    int nanosecond;           /* fraction of the second, 0..999999999 */
    int frac_digits;          /* fraction digits as written (0..9; more are truncated) */
    int offset_minutes;       /* TOML_DATETIME only: offset from UTC ("Z" is 0) */
};

typedef struct toml_value toml_value;

/* Parses `len` bytes of TOML 1.0 text. `name` (borrowed, e.g. the file name) prefixes error
 * messages: "aether.toml:12:7: expected '=' after key 'port', found ':'".
 * On success returns 0 and stores the root table in *out (caller frees with toml_free).
 * On failure returns AE_EPARSE (or AE_ENOMEM), stores NULL and writes the message to err. */
int toml_parse(const char *text, size_t len, const char *name, toml_value **out, char *err,
               size_t errlen);

/* Reads and parses a file; errors name `path`. Returns 0, AE_ENOENT, AE_EIO, AE_EPARSE or
 * AE_ENOMEM. Caller frees *out with toml_free. */
int toml_parse_file(const char *path, toml_value **out, char *err, size_t errlen);

/* Frees a tree returned by toml_parse or toml_parse_file (NULL is fine). */
void toml_free(toml_value *root);

enum toml_type toml_type_of(const toml_value *v);
/* "table", "array", "string", "integer", "float", "boolean", "offset date-time",
 * "local date-time", "local date", "local time". Static storage. */
const char *toml_type_name(enum toml_type type);
/* 1-based line and column (in characters) where the value, or for a table its header or first
 * key, was written. */
int toml_line(const toml_value *v);
int toml_column(const toml_value *v);

/* Tables keep their keys in the order they were first written. Keys may contain NUL bytes when
 * written with \u0000; `len` (optional) receives the exact length. */
size_t toml_table_count(const toml_value *table);
const char *toml_table_key(const toml_value *table, size_t i, size_t *len);
const toml_value *toml_table_value(const toml_value *table, size_t i);
/* Looks a key up by its NUL-terminated name; NULL when absent. */
const toml_value *toml_table_get(const toml_value *table, const char *key);

size_t toml_array_count(const toml_value *array);
const toml_value *toml_array_at(const toml_value *array, size_t i);

/* Typed accessors; the value must have the matching type (asserted). */
const char *toml_string(const toml_value *v, size_t *len); /* NUL-terminated as well */
int64_t toml_integer(const toml_value *v);
double toml_float(const toml_value *v);
int toml_bool(const toml_value *v);
const struct toml_datetime *toml_datetime(const toml_value *v); /* any of the 4 date types */

/* Writes a date/time value in RFC 3339 form (T separator, Z for a zero offset), as snprintf
 * does: returns the length it needed. */
int toml_datetime_format(const toml_value *v, char *buf, size_t size);

#endif
