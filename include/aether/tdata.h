/* Training data: the per-minute feature CSV that train.py reads, generate_synthetic.py and
 * `aether-sim --export-features` write, and the node serves at /api/ttm/training-data?format=csv.
 *
 * Format: a header `timestamp,` + the 11 FeatureIndex v1 names in schema order; one row per
 * minute; timestamp in Unix ms (the minute's start), increasing; a value is a decimal number, or
 * an empty cell for a missing value (never an error: the model-input rule handles it). */
#ifndef AETHER_TDATA_H
#define AETHER_TDATA_H

#include <stddef.h>
#include <stdint.h>

#include "aether/features.h"

#define TDATA_FEATURES AE_FEATURE_COUNT

struct tdata_row {
    int64_t timestamp_ms;
    double values[TDATA_FEATURES]; /* NAN = missing */
};

struct tdata {
    size_t rows;
    struct tdata_row *row; /* rows entries, timestamps increasing */
};

/* Reads a training-data CSV. On success *out is set (caller frees with tdata_free) and 0 is
 * returned; on failure a negative AE_E* code and a message naming file, line and column, e.g.
 * "f.csv:1: column 3 is 'latency', expected 'event_loop_lag_ms'". */
int tdata_load(const char *path, struct tdata **out, char *err, size_t errlen);

/* As tdata_load over text[0..len) (borrowed); name labels messages. */
int tdata_parse(const char *name, const char *text, size_t len, struct tdata **out, char *err,
                size_t errlen);

/* Frees what tdata_load/tdata_parse returned; NULL is fine. */
void tdata_free(struct tdata *d);

/* Formats the header line (with '\n') into buf, like snprintf: returns the length it needed. */
size_t tdata_format_header(char *buf, size_t buflen);

/* Formats one row (with '\n'); NAN or infinite values become empty cells. Like snprintf. */
size_t tdata_format_row(char *buf, size_t buflen, int64_t timestamp_ms,
                        const double values[TDATA_FEATURES]);

/* A file being written row by row. */
typedef struct tdata_writer tdata_writer;

/* Creates (truncates) path and writes the header. Caller closes with tdata_writer_close.
 * Returns 0, or AE_EIO with "path: reason" in err. */
int tdata_writer_open(const char *path, tdata_writer **out, char *err, size_t errlen);

/* Appends one row. Returns 0 or AE_EIO (the error is also reported again at close). */
int tdata_writer_row(tdata_writer *w, int64_t timestamp_ms, const double values[TDATA_FEATURES]);

/* Flushes and closes; frees w. Returns 0, or AE_EIO with "path: reason" in err when any write
 * failed. NULL is fine. */
int tdata_writer_close(tdata_writer *w, char *err, size_t errlen);

/* The name of feature i in schema order (ae_feature_name; static storage), NULL when out of
 * range. */
const char *tdata_feature_name(int i);

#endif
