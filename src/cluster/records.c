/* The values the cluster stores in etcd (see aether/cluster.h, docs/cluster.md): a closed minute
 * and a recommendation, each a small JSON object. Decoding reads what another member wrote, so it
 * checks every field (types, ranges, names) and never trusts the text. */
#include "aether/cluster.h"

#include "aether/error.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return AE_EPARSE;
}

static char *dump(json_t *o)
{
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
    json_decref(o);
    return s;
}

char *cluster_minute_encode(const struct ae_minute *m)
{
    json_t *values = json_array(), *samples = json_array();
    for (int i = 0; values && samples && i < AE_FEATURE_COUNT; i++) {
        int has = ae_minute_has(m, i) && isfinite(m->values[i]);
        json_array_append_new(values, has ? json_real(m->values[i]) : json_null());
        json_array_append_new(samples, json_integer(m->samples[i]));
    }
    double ready = isfinite(m->ready_mean) ? m->ready_mean : 0;
    double requested = isfinite(m->requested_mean) ? m->requested_mean : 0;
    return dump(json_pack("{s:I,s:o,s:I,s:I,s:o,s:i,s:f,s:f}", "start_ms", (json_int_t)m->start_ms,
                          "values", values, "missing", (json_int_t)m->missing, "estimated",
                          (json_int_t)m->estimated, "samples", samples, "snapshots", m->snapshots,
                          "ready_mean", ready, "requested_mean", requested));
}

static json_t *load(const char *text, size_t len, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        fail(err, errlen, "not JSON: %s", je.text);
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        fail(err, errlen, "not a JSON object");
        return NULL;
    }
    return root;
}

/* An integer field within [lo, hi]. */
static int get_int(json_t *o, const char *name, long long lo, long long hi, long long *out,
                   char *err, size_t errlen)
{
    json_t *v = json_object_get(o, name);
    if (!json_is_integer(v))
        return fail(err, errlen, "field \"%s\" is missing or not an integer", name);
    *out = json_integer_value(v);
    if (*out < lo || *out > hi)
        return fail(err, errlen, "field \"%s\" = %lld is out of range %lld..%lld", name, *out, lo,
                    hi);
    return 0;
}

static int get_number(json_t *o, const char *name, double *out, char *err, size_t errlen)
{
    json_t *v = json_object_get(o, name);
    if (!json_is_number(v))
        return fail(err, errlen, "field \"%s\" is missing or not a number", name);
    *out = json_number_value(v);
    return 0;
}

static json_t *get_array(json_t *o, const char *name, char *err, size_t errlen)
{
    json_t *v = json_object_get(o, name);
    if (!json_is_array(v) || json_array_size(v) != AE_FEATURE_COUNT) {
        fail(err, errlen, "field \"%s\" is not an array of %d entries", name, AE_FEATURE_COUNT);
        return NULL;
    }
    return v;
}

int cluster_minute_decode(const char *text, size_t len, struct ae_minute *m, char *err,
                          size_t errlen)
{
    json_t *root = load(text, len, err, errlen);
    if (!root)
        return AE_EPARSE;
    long long start = 0, missing = 0, estimated = 0, snapshots = 0;
    int rc = get_int(root, "start_ms", 0, INT64_MAX, &start, err, errlen);
    if (!rc && start % 60000 != 0)
        rc = fail(err, errlen, "field \"start_ms\" = %lld is not on a minute", start);
    if (!rc)
        rc = get_int(root, "missing", 0, AE_ALL_FEATURES, &missing, err, errlen);
    if (!rc)
        rc = get_int(root, "estimated", 0, AE_ALL_FEATURES, &estimated, err, errlen);
    if (!rc)
        rc = get_int(root, "snapshots", 0, 1000000, &snapshots, err, errlen);
    if (!rc) {
        ae_minute_init(m, start);
        m->missing = (uint32_t)missing;
        m->estimated = (uint32_t)estimated;
        m->snapshots = (int)snapshots;
        rc = get_number(root, "ready_mean", &m->ready_mean, err, errlen);
    }
    if (!rc)
        rc = get_number(root, "requested_mean", &m->requested_mean, err, errlen);
    json_t *values = rc ? NULL : get_array(root, "values", err, errlen);
    json_t *samples = values ? get_array(root, "samples", err, errlen) : NULL;
    if (!rc && !samples)
        rc = AE_EPARSE;
    for (int i = 0; !rc && i < AE_FEATURE_COUNT; i++) {
        json_t *v = json_array_get(values, (size_t)i), *s = json_array_get(samples, (size_t)i);
        if (json_is_null(v))
            m->missing |= AE_FEATURE_BIT(i);
        else if (json_is_number(v) && !(m->missing & AE_FEATURE_BIT(i)))
            m->values[i] = json_number_value(v);
        else
            rc = fail(err, errlen, "values[%d] is neither null nor a number of a present feature",
                      i);
        if (!rc &&
            (!json_is_integer(s) || json_integer_value(s) < 0 || json_integer_value(s) > 1000000))
            rc = fail(err, errlen, "samples[%d] is not a count", i);
        if (!rc)
            m->samples[i] = (int)json_integer_value(s);
    }
    json_decref(root);
    return rc;
}

char *cluster_recommendation_encode(const struct cluster_recommendation *r)
{
    return dump(json_pack("{s:s,s:s,s:i,s:i,s:I,s:I,s:s}", "node", r->node, "blueprint",
                          r->blueprint, "floor", r->floor, "ceiling", r->ceiling, "issued_ms",
                          (json_int_t)r->issued_ms, "expires_ms", (json_int_t)r->expires_ms,
                          "leader", r->leader));
}

static int get_name(json_t *o, const char *name, char *buf, size_t size, char *err, size_t errlen)
{
    json_t *v = json_object_get(o, name);
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= size ||
        strlen(json_string_value(v)) != json_string_length(v))
        return fail(err, errlen, "field \"%s\" is not a name of 1..%zu characters", name, size - 1);
    memcpy(buf, json_string_value(v), json_string_length(v) + 1);
    return 0;
}

int cluster_recommendation_decode(const char *text, size_t len, struct cluster_recommendation *r,
                                  char *err, size_t errlen)
{
    memset(r, 0, sizeof(*r));
    json_t *root = load(text, len, err, errlen);
    if (!root)
        return AE_EPARSE;
    long long floor_ = 0, ceiling = 0, issued = 0, expires = 0;
    int rc = get_name(root, "node", r->node, sizeof(r->node), err, errlen);
    if (!rc)
        rc = get_name(root, "blueprint", r->blueprint, sizeof(r->blueprint), err, errlen);
    if (!rc)
        rc = get_name(root, "leader", r->leader, sizeof(r->leader), err, errlen);
    if (!rc)
        rc = get_int(root, "floor", 0, 1000000, &floor_, err, errlen);
    if (!rc)
        rc = get_int(root, "ceiling", floor_, 1000000, &ceiling, err, errlen);
    if (!rc)
        rc = get_int(root, "issued_ms", 0, INT64_MAX, &issued, err, errlen);
    if (!rc)
        rc = get_int(root, "expires_ms", issued, INT64_MAX, &expires, err, errlen);
    if (!rc) {
        r->floor = (int)floor_;
        r->ceiling = (int)ceiling;
        r->issued_ms = issued;
        r->expires_ms = expires;
    }
    json_decref(root);
    return rc;
}

char *cluster_exec_encode(const struct cluster_exec *x)
{
    return dump(json_pack("{s:s,s:i,s:s,s:I}", "blueprint", x->blueprint, "count", x->count,
                          "leader", x->leader, "issued_ms", (json_int_t)x->issued_ms));
}

int cluster_exec_decode(const char *text, size_t len, struct cluster_exec *x, char *err,
                        size_t errlen)
{
    memset(x, 0, sizeof(*x));
    json_t *root = load(text, len, err, errlen);
    if (!root)
        return AE_EPARSE;
    long long count = 0, issued = 0;
    int rc = get_name(root, "blueprint", x->blueprint, sizeof(x->blueprint), err, errlen);
    if (!rc)
        rc = get_name(root, "leader", x->leader, sizeof(x->leader), err, errlen);
    if (!rc)
        rc = get_int(root, "count", 0, 1000000, &count, err, errlen);
    if (!rc)
        rc = get_int(root, "issued_ms", 0, INT64_MAX, &issued, err, errlen);
    if (!rc) {
        x->count = (int)count;
        x->issued_ms = issued;
    }
    json_decref(root);
    return rc;
}
