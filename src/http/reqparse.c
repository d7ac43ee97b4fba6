/* Client input parsing (see reqparse.h). */
#include "reqparse.h"

#include "aether/error.h"
#include "aether/features.h"
#include "aether/trace.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int req_parse_push(const char *body, size_t len, const char *const *names, struct req_push *out,
                   char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    json_error_t jerr;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        snprintf(err, errlen, "body is not valid JSON: %s (line %d, column %d)", jerr.text,
                 jerr.line, jerr.column);
        return AE_EPARSE;
    }
    int rc = AE_EINVAL;
    if (!json_is_object(root)) {
        snprintf(err, errlen, "body must be a JSON object with \"values\"");
        goto out;
    }
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val)
    {
        if (strcmp(key, "timestamp") != 0 && strcmp(key, "values") != 0) {
            snprintf(err, errlen, "unknown field \"%.64s\" (expected \"timestamp\", \"values\")",
                     key);
            goto out;
        }
    }
    json_t *ts = json_object_get(root, "timestamp");
    if (ts && !json_is_null(ts)) {
        if (!json_is_integer(ts) || json_integer_value(ts) < 0) {
            snprintf(err, errlen, "\"timestamp\" must be Unix milliseconds (a whole number >= 0)");
            goto out;
        }
        out->has_timestamp = 1;
        out->timestamp_ms = (int64_t)json_integer_value(ts);
    }
    json_t *values = json_object_get(root, "values");
    if (!json_is_object(values)) {
        snprintf(err, errlen, "\"values\" must be an object of feature name -> number");
        goto out;
    }
    json_object_foreach(values, key, val)
    {
        int idx = -1;
        for (int i = 0; i < REQ_FEATURES; i++)
            if (strcmp(key, names[i]) == 0)
                idx = i;
        if (idx < 0) {
            snprintf(err, errlen, "unknown feature \"%.64s\" in \"values\"", key);
            goto out;
        }
        if (!json_is_number(val)) {
            snprintf(err, errlen, "values.%s must be a number", key);
            goto out;
        }
        double v = json_number_value(val);
        if (!ae_feature_plausible(idx, v)) {
            snprintf(err, errlen,
                     "values.%s = %g is outside its plausible range 0..%g (%s per "
                     "second)",
                     key, v, ae_feature_max(idx), ae_feature_unit(idx));
            rc = AE_ERANGE;
            goto out;
        }
        out->values[idx] = v;
        out->present |= 1u << idx;
    }
    if (!out->present) {
        snprintf(err, errlen, "\"values\" is empty: give at least one feature");
        goto out;
    }
    rc = 0;
out:
    json_decref(root);
    return rc;
}

int req_parse_time(const char *s, const char *what, int64_t *out_ms, char *err, size_t errlen)
{
    /* The trace reader's time parser: ISO 8601 always, a bare number as Unix milliseconds. */
    if (trace_parse_time(s, TRACE_TIME_UNIX_MS, out_ms) != 0) {
        snprintf(err, errlen,
                 "%s = \"%.64s\" is not a time: use Unix milliseconds or ISO 8601 "
                 "(e.g. 2026-01-31T12:00:00Z)",
                 what, s);
        return AE_EINVAL;
    }
    return 0;
}

int req_parse_int(const char *s, const char *what, long lo, long hi, long *out, char *err,
                  size_t errlen)
{
    errno = 0;
    char *end;
    long v = s && *s ? strtol(s, &end, 10) : 0;
    if (!s || !*s || errno || *end || v < lo || v > hi) {
        snprintf(err, errlen, "%s = \"%.32s\" must be a whole number in %ld..%ld", what, s ? s : "",
                 lo, hi);
        return AE_EINVAL;
    }
    *out = v;
    return 0;
}

int req_valid_blueprint(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 63)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)name[i]) || isdigit((unsigned char)name[i]) || name[i] == '-'))
            return 0;
    return 1;
}
