/* The calls of the etcd v3 gateway client (see etcd.h): each builds its JSON request, posts it
 * to the first endpoint that answers, and hands the answer to its decoder. */
#include "etcd.h"

#include "aether/error.h"
#include "httpc.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* gRPC UNAVAILABLE: this endpoint cannot serve now (no quorum, shutting down); try another. */
#define GRPC_UNAVAILABLE 14

int etcd_client_init(struct etcd_client *c, const char *const *endpoints, int n, int timeout_ms,
                     char *err, size_t errlen)
{
    memset(c, 0, sizeof(*c));
    if (n < 1 || n > ETCD_ENDPOINTS_MAX) {
        snprintf(err, errlen, "etcd: %d endpoints given, 1..%d supported", n, ETCD_ENDPOINTS_MAX);
        return AE_EINVAL;
    }
    for (int i = 0; i < n; i++) {
        struct httpc_url u;
        char why[128];
        size_t len = strlen(endpoints[i]);
        while (len > 0 && endpoints[i][len - 1] == '/')
            len--;
        if (len >= ETCD_URL_MAX) {
            snprintf(err, errlen, "etcd endpoint %d \"%.40s...\": longer than %d bytes", i + 1,
                     endpoints[i], ETCD_URL_MAX - 1);
            return AE_EINVAL;
        }
        memcpy(c->endpoints[i], endpoints[i], len);
        c->endpoints[i][len] = '\0';
        int bad = httpc_url_parse(c->endpoints[i], &u, why, sizeof(why)) != 0;
        if (!bad && u.tls) {
            snprintf(why, sizeof(why), "only http:// URLs are supported"); /* no TLS to etcd */
            bad = 1;
        }
        if (!bad && strcmp(u.path, "/") != 0) {
            snprintf(why, sizeof(why), "has a path"); /* the calls append /v3/... themselves */
            bad = 1;
        }
        if (bad) {
            snprintf(err, errlen, "etcd endpoint %d \"%s\": %s", i + 1, endpoints[i], why);
            return AE_EINVAL;
        }
    }
    c->endpoint_count = n;
    c->timeout_ms = timeout_ms > 0 ? timeout_ms : 1000;
    return 0;
}

static void append(char *buf, size_t size, const char *fmt, ...)
{
    size_t used = strlen(buf);
    if (used + 1 >= size)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + used, size - used, fmt, ap);
    va_end(ap);
}

/* Posts req (consumed) to path on the endpoints in turn, starting at the current one. Returns 0
 * with the answer in *resp (any HTTP status but "unavailable"; the caller frees it) and the
 * endpoint that gave it in *which, or AE_EIO when none answered (last_error says why for each
 * endpoint). A call that blocks in etcd by design (blocking = 1: a campaign) and times out has
 * had its answer: it is not repeated on the next endpoint, which would only wait as long again. */
static int post(struct etcd_client *c, const char *path, json_t *req, int blocking,
                struct httpc_response *resp, int *which)
{
    char *text = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    memset(resp, 0, sizeof(*resp));
    if (!text) {
        snprintf(c->last_error, sizeof(c->last_error), "etcd %s: out of memory", path);
        return AE_ENOMEM;
    }
    snprintf(c->last_error, sizeof(c->last_error), "etcd %s: ", path);
    for (int i = 0; i < c->endpoint_count; i++) {
        int e = (c->current + i) % c->endpoint_count;
        char url[ETCD_URL_MAX + 64], why[224];
        snprintf(url, sizeof(url), "%s%s", c->endpoints[e], path);
        if (httpc_post_json(url, text, ETCD_BODY_MAX, c->timeout_ms, resp, why, sizeof(why)) != 0) {
            append(c->last_error, sizeof(c->last_error), "%s%s: %s", i ? "; " : "", c->endpoints[e],
                   why);
            if (blocking && strncmp(why, "timed out", 9) == 0)
                break;
            continue;
        }
        int code = -1;
        if (resp->status != 200 &&
            etcd_decode_error(resp->body, resp->body_len, resp->status, &code, why, sizeof(why)) !=
                0 &&
            code == GRPC_UNAVAILABLE) {
            append(c->last_error, sizeof(c->last_error), "%s%s: %s", i ? "; " : "", c->endpoints[e],
                   why);
            httpc_response_free(resp);
            continue;
        }
        c->current = e;
        *which = e;
        free(text);
        return 0;
    }
    free(text);
    return AE_EIO;
}

/* Sets last_error to "etcd <endpoint> <path>: <msg>" after a decoder's verdict rc. */
static int verdict(struct etcd_client *c, int rc, int which, const char *path, const char *msg)
{
    if (rc)
        snprintf(c->last_error, sizeof(c->last_error), "etcd %s %s: %s", c->endpoints[which], path,
                 msg);
    else
        c->last_error[0] = '\0';
    return rc;
}

/* A base64 JSON string of text. */
static json_t *b64(const char *s, size_t n)
{
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    if (!out)
        return NULL;
    etcd_base64_encode(s, n, out);
    json_t *j = json_string(out);
    free(out);
    return j;
}

static json_t *b64s(const char *s)
{
    return b64(s, strlen(s));
}

/* An int64 as etcd writes it (a decimal string: JSON numbers may lose precision). */
static json_t *i64(int64_t v)
{
    char buf[24];
    snprintf(buf, sizeof(buf), "%lld", (long long)v);
    return json_string(buf);
}

/* The smallest key after every key that starts with prefix (etcd's range_end for a prefix). */
static json_t *prefix_end(const char *prefix)
{
    size_t n = strlen(prefix);
    char buf[ETCD_KEY_MAX];
    if (n >= sizeof(buf))
        return NULL;
    memcpy(buf, prefix, n);
    while (n > 0) {
        if ((unsigned char)buf[n - 1] < 0xff) {
            buf[n - 1]++;
            return b64(buf, n);
        }
        n--;
    }
    return b64("\0", 1); /* every key */
}

/* The common shape of a call: post, decode with the status code, record the verdict. */
#define CALL(path, req, blocking, decode_expr)                                                     \
    do {                                                                                           \
        struct httpc_response resp;                                                                \
        int which = 0;                                                                             \
        int rc_ = post(c, path, req, blocking, &resp, &which);                                     \
        if (rc_)                                                                                   \
            return rc_;                                                                            \
        const char *body = resp.body;                                                              \
        size_t len = resp.body_len;                                                                \
        int status = resp.status;                                                                  \
        char msg[512];                                                                             \
        rc_ = (decode_expr);                                                                       \
        httpc_response_free(&resp);                                                                \
        return verdict(c, rc_, which, path, msg);                                                  \
    } while (0)

int etcd_lease_grant(struct etcd_client *c, int64_t ttl_s, int64_t *id)
{
    int64_t ttl = 0;
    CALL("/v3/lease/grant", json_pack("{s:o}", "TTL", i64(ttl_s)), 0,
         etcd_decode_grant(body, len, status, id, &ttl, msg, sizeof(msg)));
}

int etcd_lease_keepalive(struct etcd_client *c, int64_t id, int64_t *ttl_s)
{
    CALL("/v3/lease/keepalive", json_pack("{s:o}", "ID", i64(id)), 0,
         etcd_decode_keepalive(body, len, status, ttl_s, msg, sizeof(msg)));
}

int etcd_lease_revoke(struct etcd_client *c, int64_t id)
{
    CALL("/v3/lease/revoke", json_pack("{s:o}", "ID", i64(id)), 0,
         etcd_decode_ok(body, len, status, msg, sizeof(msg)));
}

/* A request_put object (also used inside transactions). */
static json_t *put_object(const char *key, const char *value, size_t value_len, int64_t lease)
{
    json_t *o = json_pack("{s:o,s:o}", "key", b64s(key), "value", b64(value, value_len));
    if (o && lease)
        json_object_set_new(o, "lease", i64(lease));
    return o;
}

int etcd_put(struct etcd_client *c, const char *key, const char *value, size_t value_len,
             int64_t lease)
{
    CALL("/v3/kv/put", put_object(key, value, value_len, lease), 0,
         etcd_decode_ok(body, len, status, msg, sizeof(msg)));
}

int etcd_range(struct etcd_client *c, const char *key, int prefix, struct etcd_kv **kvs, int *n)
{
    *kvs = NULL;
    *n = 0;
    json_t *req = json_pack("{s:o}", "key", b64s(key));
    if (req && prefix)
        json_object_set_new(req, "range_end", prefix_end(key));
    CALL("/v3/kv/range", req, 0, etcd_decode_range(body, len, status, kvs, n, msg, sizeof(msg)));
}

int etcd_delete_range(struct etcd_client *c, const char *from, const char *to, int64_t *deleted)
{
    int64_t d = 0;
    if (!deleted)
        deleted = &d;
    json_t *req = json_pack("{s:o}", "key", b64s(from));
    if (req && to)
        json_object_set_new(req, "range_end", b64s(to));
    CALL("/v3/kv/deleterange", req, 0,
         etcd_decode_delete(body, len, status, deleted, msg, sizeof(msg)));
}

int etcd_txn_put_if_created(struct etcd_client *c, const char *guard_key, int64_t guard_rev,
                            const char *key, const char *value, size_t value_len, int64_t lease,
                            int *succeeded)
{
    *succeeded = 0;
    json_t *cmp = json_pack("{s:o,s:s,s:s,s:o}", "key", b64s(guard_key), "target", "CREATE",
                            "result", "EQUAL", "create_revision", i64(guard_rev));
    json_t *ops =
        key ? json_pack("[{s:o}]", "request_put", put_object(key, value, value_len, lease))
            : json_array();
    json_t *req = json_pack("{s:[o],s:o}", "compare", cmp, "success", ops);
    CALL("/v3/kv/txn", req, 0, etcd_decode_txn(body, len, status, succeeded, msg, sizeof(msg)));
}

int etcd_campaign(struct etcd_client *c, const char *name, int64_t lease, const char *value,
                  struct etcd_leader_key *lk)
{
    memset(lk, 0, sizeof(*lk));
    CALL("/v3/election/campaign",
         json_pack("{s:o,s:o,s:o}", "name", b64s(name), "lease", i64(lease), "value", b64s(value)),
         1, etcd_decode_campaign(body, len, status, lk, msg, sizeof(msg)));
}

int etcd_leader(struct etcd_client *c, const char *name, struct etcd_kv *kv)
{
    memset(kv, 0, sizeof(*kv));
    CALL("/v3/election/leader", json_pack("{s:o}", "name", b64s(name)), 0,
         etcd_decode_leader(body, len, status, kv, msg, sizeof(msg)));
}

static json_t *leader_object(const struct etcd_leader_key *lk)
{
    return json_pack("{s:o,s:o,s:o,s:o}", "name", b64s(lk->name), "key", b64s(lk->key), "rev",
                     i64(lk->rev), "lease", i64(lk->lease));
}

int etcd_resign(struct etcd_client *c, const struct etcd_leader_key *lk)
{
    CALL("/v3/election/resign", json_pack("{s:o}", "leader", leader_object(lk)), 0,
         etcd_decode_ok(body, len, status, msg, sizeof(msg)));
}

int etcd_proclaim(struct etcd_client *c, const struct etcd_leader_key *lk, const char *value)
{
    CALL("/v3/election/proclaim",
         json_pack("{s:o,s:o}", "leader", leader_object(lk), "value", b64s(value)), 0,
         etcd_decode_ok(body, len, status, msg, sizeof(msg)));
}
