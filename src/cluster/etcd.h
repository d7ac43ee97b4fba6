/* A client of etcd's v3 JSON gateway (private to src/cluster; tests and the fuzzer use it too).
 *
 * etcd (3.4 in Debian) serves its gRPC API as JSON over HTTP/1.1 under /v3/: every call is a
 * POST of a JSON object, keys and values are base64, 64-bit integers come back as strings and
 * fields equal to zero or false are left out. This file has two layers:
 *
 *  - decoders (etcd_decode.c): a response body (and its HTTP status) in, plain C values out.
 *    They never trust the text: anything but the JSON etcd sends is AE_EPARSE with a message,
 *    never a crash (tests/fuzz/etcd replays and fuzzes them);
 *  - calls (etcd.c): one function per etcd operation the cluster runtime needs (lease grant,
 *    keep-alive, revoke; put, range, delete; a guarded transaction; the election API), over
 *    the module's HTTP client (src/workload/httpc.h). A client has several endpoints; a call
 *    tries the one that answered last, and on a transport failure or an "unavailable" answer
 *    the next, until one answers or all have failed.
 *
 * Errors are values: 0, or a negative AE_* code (aether/error.h) with a message naming the
 * endpoint(s), the call and what failed in the client's last_error:
 *   AE_EIO     no endpoint answered ("etcd /v3/lease/grant: http://127.0.0.1:2379: cannot
 *              connect: Connection refused"), or etcd answered with an error of its own;
 *   AE_ENOENT  etcd says the thing is not there (lease not found or expired, no leader);
 *   AE_EPARSE  the answer is not what etcd sends.
 * A client is used by one thread at a time; calls block for at most endpoint_count times the
 * client's timeout. Nothing is global. */
#ifndef AETHER_CLUSTER_ETCD_H
#define AETHER_CLUSTER_ETCD_H

#include <stddef.h>
#include <stdint.h>

#define ETCD_ENDPOINTS_MAX 8
#define ETCD_URL_MAX 256
#define ETCD_KEY_MAX 512         /* longest key (decoded) the client handles */
#define ETCD_BODY_MAX (8u << 20) /* longest response body read */
#define ETCD_ERROR_MAX 768
#define ETCD_USER_MAX 128  /* user name and password, incl. the NUL */
#define ETCD_TOKEN_MAX 512 /* auth token, incl. the NUL */

/* One key-value pair of a range, or the leader's key. key and value are decoded from base64,
 * NUL-terminated (the NUL not counted) and owned: free with etcd_kv_free / etcd_kvs_free. */
struct etcd_kv {
    char *key;
    size_t key_len;
    char *value;
    size_t value_len;
    int64_t create_revision, mod_revision, version;
    int64_t lease; /* 0 = none */
};

/* What the election API calls a leader key: the election's name, the member's key in it, the
 * revision that created that key, and the lease it lives under. Text only (decoded). */
struct etcd_leader_key {
    char name[ETCD_KEY_MAX];
    char key[ETCD_KEY_MAX];
    int64_t rev;
    int64_t lease;
};

struct etcd_client {
    char endpoints[ETCD_ENDPOINTS_MAX][ETCD_URL_MAX]; /* "http://host:port", no trailing '/' */
    int endpoint_count;
    int current;    /* endpoint tried first: the last one that answered */
    int timeout_ms; /* per request and endpoint */
    char last_error[ETCD_ERROR_MAX];
    /* etcd authentication (user "" = none): before its first call the client authenticates
     * (/v3/auth/authenticate) and sends the token with every call; a token etcd no longer
     * accepts (expired, auth re-enabled) is replaced once per call. */
    char user[ETCD_USER_MAX], password[ETCD_USER_MAX];
    char token[ETCD_TOKEN_MAX]; /* "" until authenticated */
};

/* ---- calls (etcd.c) ---- */

/* Prepares c for n endpoints (http:// URLs, 1..ETCD_ENDPOINTS_MAX). Returns 0, or AE_EINVAL
 * with a message naming the endpoint ("etcd endpoint 2 \"https://x\": only http:// URLs are
 * supported"). endpoints are copied. */
int etcd_client_init(struct etcd_client *c, const char *const *endpoints, int n, int timeout_ms,
                     char *err, size_t errlen);

/* Authenticates as user with password from now on (copied). AE_EINVAL with a message when
 * either is longer than ETCD_USER_MAX - 1 bytes or the password is empty. */
int etcd_client_set_auth(struct etcd_client *c, const char *user, const char *password, char *err,
                         size_t errlen);
/* Asks etcd for a token for the client's user into c->token (done by every call as needed),
 * waiting at least 2 s per endpoint (etcd checks the password with bcrypt). AE_EIO with etcd's
 * message ("authentication failed, invalid user ID or password"). */
int etcd_authenticate(struct etcd_client *c);

/* A lease of ttl_s seconds; its ID in *id. */
int etcd_lease_grant(struct etcd_client *c, int64_t ttl_s, int64_t *id);
/* Renews lease id once; *ttl_s gets the TTL granted. AE_ENOENT when the lease has expired or was
 * revoked. */
int etcd_lease_keepalive(struct etcd_client *c, int64_t id, int64_t *ttl_s);
/* Revokes lease id (its keys are deleted). AE_ENOENT when it was gone already. */
int etcd_lease_revoke(struct etcd_client *c, int64_t id);

/* Puts key = value (value_len bytes) under lease (0 = none). AE_ENOENT when the lease is gone. */
int etcd_put(struct etcd_client *c, const char *key, const char *value, size_t value_len,
             int64_t lease);
/* Every pair whose key starts with prefix (prefix = 1) or equals key (prefix = 0), in key
 * order. *kvs (n entries; NULL when none) is owned by the caller: etcd_kvs_free. */
int etcd_range(struct etcd_client *c, const char *key, int prefix, struct etcd_kv **kvs, int *n);
/* etcd_range of the pairs modified at revision min_mod_rev or later (0: all). */
int etcd_range_since(struct etcd_client *c, const char *key, int prefix, int64_t min_mod_rev,
                     struct etcd_kv **kvs, int *n);
/* Deletes the keys in [from, to) (to = NULL: the key from alone); *deleted (may be NULL) gets the
 * count. */
int etcd_delete_range(struct etcd_client *c, const char *from, const char *to, int64_t *deleted);

/* A transaction guarded by one compare: if guard_key exists and was created at revision
 * guard_rev, then put key = value under lease (key = NULL: do nothing). *succeeded = 1 when the
 * compare held (and the put, if any, was made), 0 when not. */
int etcd_txn_put_if_created(struct etcd_client *c, const char *guard_key, int64_t guard_rev,
                            const char *key, const char *value, size_t value_len, int64_t lease,
                            int *succeeded);

/* Election API. campaign blocks in etcd until this member leads election `name` or the client's
 * timeout passes (AE_EIO "timed out"; etcd withdraws the candidacy when it sees the request go,
 * and the campaign is not repeated on the other endpoints). On success *lk is this member's
 * leader key. */
int etcd_campaign(struct etcd_client *c, const char *name, int64_t lease, const char *value,
                  struct etcd_leader_key *lk);
/* The current leader of election name: its key-value (value = what the leader proclaimed).
 * AE_ENOENT when there is none. *kv is the caller's: etcd_kv_free. */
int etcd_leader(struct etcd_client *c, const char *name, struct etcd_kv *kv);
/* Gives up leadership (deletes the leader key). */
int etcd_resign(struct etcd_client *c, const struct etcd_leader_key *lk);
/* Replaces the leader's value; AE_EIO ("etcd: election: not leader (code 2)") when lk no
 * longer leads. */
int etcd_proclaim(struct etcd_client *c, const struct etcd_leader_key *lk, const char *value);

/* ---- decoders (etcd_decode.c) ---- */
/* Each takes the response body (len bytes, need not be NUL-terminated) and its HTTP status, and
 * writes its message into err. Same return codes as the calls. */

/* etcd's error answer {"error": "...", "code": N} (or a stream's {"error": {...}}): returns
 * 0 when body is not an error and status is 200; else the code and "etcd: <message> (code N)".
 * *grpc_code (may be NULL) gets N, -1 when unknown. */
int etcd_decode_error(const char *body, size_t len, int status, int *grpc_code, char *err,
                      size_t errlen);
int etcd_decode_grant(const char *body, size_t len, int status, int64_t *id, int64_t *ttl_s,
                      char *err, size_t errlen);
/* /v3/auth/authenticate: the token (1..size-1 printable characters) into token. */
int etcd_decode_authenticate(const char *body, size_t len, int status, char *token, size_t size,
                             char *err, size_t errlen);
int etcd_decode_keepalive(const char *body, size_t len, int status, int64_t *ttl_s, char *err,
                          size_t errlen);
/* Any answer whose content does not matter beyond "no error" (put, revoke, resign...). */
int etcd_decode_ok(const char *body, size_t len, int status, char *err, size_t errlen);
int etcd_decode_range(const char *body, size_t len, int status, struct etcd_kv **kvs, int *n,
                      char *err, size_t errlen);
int etcd_decode_delete(const char *body, size_t len, int status, int64_t *deleted, char *err,
                       size_t errlen);
int etcd_decode_txn(const char *body, size_t len, int status, int *succeeded, char *err,
                    size_t errlen);
int etcd_decode_campaign(const char *body, size_t len, int status, struct etcd_leader_key *lk,
                         char *err, size_t errlen);
int etcd_decode_leader(const char *body, size_t len, int status, struct etcd_kv *kv, char *err,
                       size_t errlen);

/* Base64 (RFC 4648, padded) of n bytes into out (room for 4 * ((n + 2) / 3) + 1 bytes). */
void etcd_base64_encode(const void *data, size_t n, char *out);
/* Decodes s (slen chars) into a new NUL-terminated buffer (caller frees); *n gets its length.
 * Returns NULL when s is not padded base64 or memory is short. */
char *etcd_base64_decode(const char *s, size_t slen, size_t *n);

void etcd_kv_free(struct etcd_kv *kv);
void etcd_kvs_free(struct etcd_kv *kvs, int n);

#endif
