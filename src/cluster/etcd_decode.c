/* Decoding of etcd v3 gateway answers (see etcd.h): JSON text in, C values out, through jansson.
 * Nothing here trusts the text: a missing field that etcd leaves out when it is zero reads as
 * zero; a field of the wrong type, a 64-bit integer that is not one, base64 that is not, or a key
 * longer than the client handles is AE_EPARSE with the field named. */
#include "etcd.h"

#include "aether/error.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(int code, char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return code;
}

/* ---- base64 ---- */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void etcd_base64_encode(const void *data, size_t n, char *out)
{
    const unsigned char *p = data;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        out[o++] = b64_alphabet[(v >> 18) & 63];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        out[o++] = i + 1 < n ? b64_alphabet[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? b64_alphabet[v & 63] : '=';
    }
    out[o] = '\0';
}

static int b64_value(char c)
{
    const char *at = c ? strchr(b64_alphabet, c) : NULL;
    return at ? (int)(at - b64_alphabet) : -1;
}

char *etcd_base64_decode(const char *s, size_t slen, size_t *n)
{
    if (slen % 4 != 0)
        return NULL;
    char *out = malloc(slen / 4 * 3 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < slen; i += 4) {
        int last = i + 4 == slen;
        int pad = (s[i + 3] == '=') + (s[i + 2] == '=' && s[i + 3] == '=');
        int v[4];
        for (int k = 0; k < 4; k++) {
            v[k] = k >= 4 - pad ? 0 : b64_value(s[i + k]);
            if (v[k] < 0 || (pad && !last)) {
                free(out);
                return NULL;
            }
        }
        unsigned bits =
            (unsigned)v[0] << 18 | (unsigned)v[1] << 12 | (unsigned)v[2] << 6 | (unsigned)v[3];
        out[o++] = (char)(bits >> 16);
        if (pad < 2)
            out[o++] = (char)(bits >> 8);
        if (pad < 1)
            out[o++] = (char)bits;
    }
    out[o] = '\0';
    *n = o;
    return out;
}

/* ---- JSON fields ---- */

/* Parses the body; etcd answers are JSON objects. */
static json_t *parse_object(const char *body, size_t len, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = body ? json_loadb(body, len, JSON_REJECT_DUPLICATES, &je) : NULL;
    if (!root) {
        fail(AE_EPARSE, err, errlen, "answer is not JSON: %s", body ? je.text : "empty body");
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        fail(AE_EPARSE, err, errlen, "answer is not a JSON object");
        return NULL;
    }
    return root;
}

/* An int64 field, written by etcd as a decimal string (or a number); absent = 0. */
static int get_int64(json_t *obj, const char *name, int64_t *out, char *err, size_t errlen)
{
    json_t *v = json_object_get(obj, name);
    *out = 0;
    if (!v || json_is_null(v))
        return 0;
    if (json_is_integer(v)) {
        *out = (int64_t)json_integer_value(v);
        return 0;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        errno = 0;
        long long x = strtoll(s, &end, 10);
        if (*s && !*end && errno == 0 && (s[0] == '-' || (s[0] >= '0' && s[0] <= '9'))) {
            *out = x;
            return 0;
        }
    }
    return fail(AE_EPARSE, err, errlen, "field \"%s\" is not a 64-bit integer", name);
}

/* A base64 field decoded into a new buffer (absent = ""). */
static int get_bytes(json_t *obj, const char *name, char **out, size_t *n, char *err, size_t errlen)
{
    json_t *v = json_object_get(obj, name);
    *out = NULL;
    *n = 0;
    const char *s = "";
    size_t slen = 0;
    if (v && !json_is_null(v)) {
        if (!json_is_string(v))
            return fail(AE_EPARSE, err, errlen, "field \"%s\" is not a string", name);
        s = json_string_value(v);
        slen = json_string_length(v);
    }
    *out = etcd_base64_decode(s, slen, n);
    if (!*out)
        return fail(AE_EPARSE, err, errlen, "field \"%s\" is not base64", name);
    return 0;
}

/* A base64 field that must decode to text (no NUL) shorter than size, into buf. */
static int get_text(json_t *obj, const char *name, char *buf, size_t size, char *err, size_t errlen)
{
    char *b;
    size_t n;
    int rc = get_bytes(obj, name, &b, &n, err, errlen);
    if (rc)
        return rc;
    if (n >= size || memchr(b, '\0', n)) {
        free(b);
        return fail(AE_EPARSE, err, errlen, "field \"%s\" is longer than %zu bytes or not text",
                    name, size - 1);
    }
    memcpy(buf, b, n + 1);
    free(b);
    return 0;
}

static int get_bool(json_t *obj, const char *name, int *out, char *err, size_t errlen)
{
    json_t *v = json_object_get(obj, name);
    *out = 0;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_boolean(v))
        return fail(AE_EPARSE, err, errlen, "field \"%s\" is not a boolean", name);
    *out = json_is_true(v);
    return 0;
}

/* An object field; absent = NULL with status 0 unless required. */
static int get_object(json_t *obj, const char *name, int required, json_t **out, char *err,
                      size_t errlen)
{
    json_t *v = json_object_get(obj, name);
    *out = NULL;
    if (!v || json_is_null(v))
        return required ? fail(AE_EPARSE, err, errlen, "answer has no \"%s\"", name) : 0;
    if (!json_is_object(v))
        return fail(AE_EPARSE, err, errlen, "field \"%s\" is not an object", name);
    *out = v;
    return 0;
}

/* ---- errors ---- */

/* The error of an already parsed answer, or 0. */
static int error_of(json_t *root, int status, int *grpc_code, char *err, size_t errlen)
{
    if (grpc_code)
        *grpc_code = -1;
    json_t *e = json_object_get(root, "error");
    if (!e) {
        if (status == 200)
            return 0;
        return fail(AE_EPARSE, err, errlen, "HTTP status %d without an etcd error", status);
    }
    const char *msg = NULL;
    json_t *code = json_object_get(root, "code");
    if (json_is_string(e)) {
        msg = json_string_value(e);
    } else if (json_is_object(e)) { /* a streaming call's error: {"error": {"message", ...}} */
        json_t *m = json_object_get(e, "message");
        msg = json_is_string(m) ? json_string_value(m) : NULL;
        code = json_object_get(e, "grpc_code");
    }
    if (!msg)
        return fail(AE_EPARSE, err, errlen, "field \"error\" is neither a string nor an object");
    int c = json_is_integer(code) ? (int)json_integer_value(code) : -1;
    if (grpc_code)
        *grpc_code = c;
    fail(0, err, errlen, "etcd: %.300s (code %d)", msg, c);
    /* gRPC NOT_FOUND (5): lease not found; the election API's "no leader" comes as UNKNOWN. */
    if (c == 5 || strstr(msg, "no leader") || strstr(msg, "lease not found"))
        return AE_ENOENT;
    return AE_EIO;
}

/* Parses the body and checks it for an error; *root is the caller's on success. */
static int open_answer(const char *body, size_t len, int status, json_t **root, char *err,
                       size_t errlen)
{
    *root = parse_object(body, len, err, errlen);
    if (!*root)
        return AE_EPARSE;
    int rc = error_of(*root, status, NULL, err, errlen);
    if (rc) {
        json_decref(*root);
        *root = NULL;
    }
    return rc;
}

int etcd_decode_error(const char *body, size_t len, int status, int *grpc_code, char *err,
                      size_t errlen)
{
    if (grpc_code)
        *grpc_code = -1;
    json_t *root = parse_object(body, len, err, errlen);
    if (!root)
        return AE_EPARSE;
    int rc = error_of(root, status, grpc_code, err, errlen);
    json_decref(root);
    return rc;
}

int etcd_decode_ok(const char *body, size_t len, int status, char *err, size_t errlen)
{
    json_t *root;
    int rc = open_answer(body, len, status, &root, err, errlen);
    json_decref(root);
    return rc;
}

/* ---- leases ---- */

int etcd_decode_grant(const char *body, size_t len, int status, int64_t *id, int64_t *ttl_s,
                      char *err, size_t errlen)
{
    json_t *root;
    int rc = open_answer(body, len, status, &root, err, errlen);
    if (rc)
        return rc;
    rc = get_int64(root, "ID", id, err, errlen);
    if (!rc)
        rc = get_int64(root, "TTL", ttl_s, err, errlen);
    if (!rc && (*id == 0 || *ttl_s <= 0))
        rc = fail(AE_EPARSE, err, errlen, "lease grant answer without an ID and a TTL");
    json_decref(root);
    return rc;
}

int etcd_decode_authenticate(const char *body, size_t len, int status, char *token, size_t size,
                             char *err, size_t errlen)
{
    json_t *root;
    int rc = open_answer(body, len, status, &root, err, errlen);
    if (rc)
        return rc;
    json_t *t = json_object_get(root, "token");
    const char *s = json_is_string(t) ? json_string_value(t) : NULL;
    size_t n = s ? json_string_length(t) : 0;
    int printable = s && n > 0 && n < size && strlen(s) == n;
    for (size_t i = 0; printable && i < n; i++)
        printable = (unsigned char)s[i] > ' ' && (unsigned char)s[i] < 0x7f;
    if (printable)
        memcpy(token, s, n + 1);
    else
        rc = fail(AE_EPARSE, err, errlen,
                  "authenticate answer without a token of 1..%zu printable characters", size - 1);
    json_decref(root);
    return rc;
}

int etcd_decode_keepalive(const char *body, size_t len, int status, int64_t *ttl_s, char *err,
                          size_t errlen)
{
    json_t *root, *result;
    int rc = open_answer(body, len, status, &root, err, errlen);
    if (rc)
        return rc;
    rc = get_object(root, "result", 1, &result, err, errlen);
    if (!rc)
        rc = get_int64(result, "TTL", ttl_s, err, errlen);
    if (!rc && *ttl_s <= 0) /* etcd answers an unknown lease with TTL 0 (left out) */
        rc = fail(AE_ENOENT, err, errlen, "etcd: lease not found or expired");
    json_decref(root);
    return rc;
}

/* ---- kv ---- */

static int decode_kv(json_t *o, struct etcd_kv *kv, char *err, size_t errlen)
{
    memset(kv, 0, sizeof(*kv));
    if (!json_is_object(o))
        return fail(AE_EPARSE, err, errlen, "a key-value is not an object");
    int rc = get_bytes(o, "key", &kv->key, &kv->key_len, err, errlen);
    if (!rc)
        rc = get_bytes(o, "value", &kv->value, &kv->value_len, err, errlen);
    if (!rc)
        rc = get_int64(o, "create_revision", &kv->create_revision, err, errlen);
    if (!rc)
        rc = get_int64(o, "mod_revision", &kv->mod_revision, err, errlen);
    if (!rc)
        rc = get_int64(o, "version", &kv->version, err, errlen);
    if (!rc)
        rc = get_int64(o, "lease", &kv->lease, err, errlen);
    if (rc)
        etcd_kv_free(kv);
    return rc;
}

int etcd_decode_range(const char *body, size_t len, int status, struct etcd_kv **kvs, int *n,
                      char *err, size_t errlen)
{
    *kvs = NULL;
    *n = 0;
    json_t *root;
    int rc = open_answer(body, len, status, &root, err, errlen);
    if (rc)
        return rc;
    json_t *arr = json_object_get(root, "kvs");
    if (arr && !json_is_null(arr) && !json_is_array(arr))
        rc = fail(AE_EPARSE, err, errlen, "field \"kvs\" is not an array");
    size_t count = json_is_array(arr) ? json_array_size(arr) : 0;
    if (!rc && count > 0) {
        *kvs = calloc(count, sizeof(**kvs));
        if (!*kvs)
            rc = fail(AE_ENOMEM, err, errlen, "out of memory for %zu key-values", count);
    }
    for (size_t i = 0; !rc && i < count; i++) {
        rc = decode_kv(json_array_get(arr, i), &(*kvs)[i], err, errlen);
        if (!rc)
            (*n)++;
    }
    if (rc) {
        etcd_kvs_free(*kvs, *n);
        *kvs = NULL;
        *n = 0;
    }
    json_decref(root);
    return rc;
}

int etcd_decode_delete(const char *body, size_t len, int status, int64_t *deleted, char *err,
                       size_t errlen)
{
    json_t *root;
    int rc = open_answer(body, len, status, &root, err, errlen);
    if (rc)
        return rc;
    rc = get_int64(root, "deleted", deleted, err, errlen);
    json_decref(root);
    return rc;
}

int etcd_decode_txn(const char *body, size_t len, int status, int *succeeded, char *err,
                    size_t errlen)
{
    json_t *root;
    int rc = open_answer(body, len, status, &root, err, errlen);
    if (rc)
        return rc;
    rc = get_bool(root, "succeeded", succeeded, err, errlen);
    json_decref(root);
    return rc;
}

/* ---- election ---- */

int etcd_decode_campaign(const char *body, size_t len, int status, struct etcd_leader_key *lk,
                         char *err, size_t errlen)
{
    memset(lk, 0, sizeof(*lk));
    json_t *root, *l;
    int rc = open_answer(body, len, status, &root, err, errlen);
    if (rc)
        return rc;
    rc = get_object(root, "leader", 1, &l, err, errlen);
    if (!rc)
        rc = get_text(l, "name", lk->name, sizeof(lk->name), err, errlen);
    if (!rc)
        rc = get_text(l, "key", lk->key, sizeof(lk->key), err, errlen);
    if (!rc)
        rc = get_int64(l, "rev", &lk->rev, err, errlen);
    if (!rc)
        rc = get_int64(l, "lease", &lk->lease, err, errlen);
    if (!rc && (lk->key[0] == '\0' || lk->rev <= 0))
        rc = fail(AE_EPARSE, err, errlen, "campaign answer without a leader key and revision");
    json_decref(root);
    return rc;
}

int etcd_decode_leader(const char *body, size_t len, int status, struct etcd_kv *kv, char *err,
                       size_t errlen)
{
    memset(kv, 0, sizeof(*kv));
    json_t *root, *o;
    int rc = open_answer(body, len, status, &root, err, errlen);
    if (rc)
        return rc;
    rc = get_object(root, "kv", 0, &o, err, errlen);
    if (!rc && !o)
        rc = fail(AE_ENOENT, err, errlen, "etcd: election: no leader");
    if (!rc)
        rc = decode_kv(o, kv, err, errlen);
    json_decref(root);
    return rc;
}

void etcd_kv_free(struct etcd_kv *kv)
{
    free(kv->key);
    free(kv->value);
    kv->key = kv->value = NULL;
    kv->key_len = kv->value_len = 0;
}

void etcd_kvs_free(struct etcd_kv *kvs, int n)
{
    for (int i = 0; i < n; i++)
        etcd_kv_free(&kvs[i]);
    free(kvs);
}
