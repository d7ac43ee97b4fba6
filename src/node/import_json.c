/* Training-data JSON reader (see import_json.h). */
#include "import_json.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aether/error.h"
#include "aether/features.h"

/* A short, printable rendering of a JSON value for messages. */
static void show(const json_t *v, char *buf, size_t len)
{
    char *text = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    snprintf(buf, len, "%.40s%s", text ? text : "(missing)",
             text && strlen(text) > 40 ? "..." : "");
    free(text);
}

static int bad(const char *name, const char *field, const json_t *v, const char *want, char *err,
               size_t errlen)
{
    char shown[64];
    show(v, shown, sizeof shown);
    snprintf(err, errlen, "%s: %s is %s, expected %s", name, field, shown, want);
    return AE_EPARSE;
}

/* schemaVersion, features and blueprint, each optional. */
static int check_header(const char *name, const json_t *doc, char *blueprint, size_t bplen,
                        char *err, size_t errlen)
{
    const json_t *v = json_object_get(doc, "schemaVersion");
    if (v && !(json_is_integer(v) && json_integer_value(v) == AE_SCHEMA_VERSION))
        return bad(name, "schemaVersion", v, "1 (FeatureIndex v1)", err, errlen);
    const json_t *f = json_object_get(doc, "features");
    if (f && (!json_is_array(f) || json_array_size(f) != AE_FEATURE_COUNT))
        return bad(name, "features", f, "the 11 feature names of schema v1", err, errlen);
    for (size_t i = 0; f && i < AE_FEATURE_COUNT; i++) {
        const json_t *n = json_array_get(f, i);
        const char *want = ae_feature_name((int)i);
        if (!json_is_string(n) || strcmp(json_string_value(n), want) != 0) {
            char field[32], quoted[48];
            snprintf(field, sizeof field, "features[%zu]", i);
            snprintf(quoted, sizeof quoted, "\"%s\"", want);
            return bad(name, field, n, quoted, err, errlen);
        }
    }
    const json_t *b = json_object_get(doc, "blueprint");
    if (b && !json_is_string(b))
        return bad(name, "blueprint", b, "a blueprint name", err, errlen);
    snprintf(blueprint, bplen, "%s", b ? json_string_value(b) : "");
    return 0;
}

/* An optional non-negative number of row r; NAN when absent. */
static int optional_count(const char *name, const json_t *row, size_t r, const char *key,
                          double *out, char *err, size_t errlen)
{
    const json_t *v = json_object_get(row, key);
    *out = NAN;
    if (!v)
        return 0;
    if (!json_is_number(v) || json_number_value(v) < 0) {
        char field[64];
        snprintf(field, sizeof field, "rows[%zu].%s", r, key);
        return bad(name, field, v, "a number >= 0", err, errlen);
    }
    *out = json_number_value(v);
    return 0;
}

static int parse_values(const char *name, const json_t *vals, size_t r, struct tdata_row *out,
                        char *err, size_t errlen)
{
    char field[48];
    snprintf(field, sizeof field, "rows[%zu].values", r);
    if (!json_is_array(vals) || json_array_size(vals) != AE_FEATURE_COUNT)
        return bad(name, field, vals, "an array of 11 values", err, errlen);
    for (size_t f = 0; f < AE_FEATURE_COUNT; f++) {
        const json_t *v = json_array_get(vals, f);
        if (json_is_null(v)) {
            out->values[f] = NAN;
        } else if (json_is_number(v) && isfinite(json_number_value(v))) {
            out->values[f] = json_number_value(v);
        } else {
            snprintf(field, sizeof field, "rows[%zu].values[%zu] (%s)", r, f,
                     ae_feature_name((int)f));
            return bad(name, field, v, "a number or null", err, errlen);
        }
    }
    return 0;
}

static int parse_row(const char *name, const json_t *row, size_t r, int64_t prev_ms,
                     struct tdata_row *out, struct import_counts *c, char *err, size_t errlen)
{
    char field[48];
    snprintf(field, sizeof field, "rows[%zu]", r);
    if (!json_is_object(row))
        return bad(name, field, row, "an object", err, errlen);
    const json_t *ts = json_object_get(row, "timestamp");
    snprintf(field, sizeof field, "rows[%zu].timestamp", r);
    if (!json_is_integer(ts))
        return bad(name, field, ts, "an integer (Unix ms)", err, errlen);
    out->timestamp_ms = json_integer_value(ts);
    if (r > 0 && out->timestamp_ms <= prev_ms) {
        snprintf(err, errlen, "%s: %s = %lld is not after rows[%zu].timestamp = %lld", name, field,
                 (long long)out->timestamp_ms, r - 1, (long long)prev_ms);
        return AE_EPARSE;
    }
    double samples;
    int rc = parse_values(name, json_object_get(row, "values"), r, out, err, errlen);
    if (rc == 0)
        rc = optional_count(name, row, r, "samples", &samples, err, errlen);
    if (rc == 0)
        rc = optional_count(name, row, r, "ready", &c->ready, err, errlen);
    if (rc == 0)
        rc = optional_count(name, row, r, "requested", &c->requested, err, errlen);
    return rc;
}

static int parse_rows(const char *name, const json_t *rows, struct tdata **out,
                      struct import_counts **counts, char *err, size_t errlen)
{
    if (!json_is_array(rows))
        return bad(name, "rows", rows, "an array of minutes", err, errlen);
    size_t n = json_array_size(rows);
    struct tdata *d = calloc(1, sizeof *d);
    struct import_counts *c = calloc(n ? n : 1, sizeof *c);
    if (d)
        d->row = calloc(n ? n : 1, sizeof *d->row);
    if (!d || !c || !d->row) {
        tdata_free(d);
        free(c);
        snprintf(err, errlen, "%s: out of memory", name);
        return AE_ENOMEM;
    }
    int rc = 0;
    for (size_t r = 0; rc == 0 && r < n; r++)
        rc = parse_row(name, json_array_get(rows, r), r, r ? d->row[r - 1].timestamp_ms : 0,
                       &d->row[r], &c[r], err, errlen);
    if (rc) {
        tdata_free(d);
        free(c);
        return rc;
    }
    d->rows = n;
    *out = d;
    *counts = c;
    return 0;
}

int import_json_parse(const char *name, const char *text, size_t len, struct tdata **out,
                      struct import_counts **counts, char *blueprint, size_t blueprint_len,
                      char *err, size_t errlen)
{
    *out = NULL;
    *counts = NULL;
    json_error_t je;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!doc) {
        snprintf(err, errlen, "%s:%d:%d: not valid JSON: %s", name, je.line, je.column, je.text);
        return AE_EPARSE;
    }
    int rc = json_is_object(doc)
                 ? check_header(name, doc, blueprint, blueprint_len, err, errlen)
                 : bad(name, "the document", doc, "an object with \"rows\"", err, errlen);
    if (rc == 0)
        rc = parse_rows(name, json_object_get(doc, "rows"), out, counts, err, errlen);
    json_decref(doc);
    return rc;
}
