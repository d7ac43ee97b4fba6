/* Fuzz target: the decoders of etcd's answers and of the records members store must never
 * crash, leak, or read out of bounds, whatever the text. The first input byte picks the HTTP
 * status the answer came with (200, 404, 500 or 503); the rest goes to every decoder, and what
 * a decoder claims on success must hold. */
#include "aether/cluster.h"
#include "etcd.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    static const int statuses[] = {200, 404, 500, 503};
    int status = statuses[data[0] & 3];
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    char err[256];
    int64_t a, b;
    int ok, code;
    etcd_decode_error(p, n, status, &code, err, sizeof(err));
    etcd_decode_ok(p, n, status, err, sizeof(err));
    if (etcd_decode_grant(p, n, status, &a, &b, err, sizeof(err)) == 0 && (a == 0 || b <= 0))
        abort();
    if (etcd_decode_keepalive(p, n, status, &a, err, sizeof(err)) == 0 && a <= 0)
        abort();
    etcd_decode_delete(p, n, status, &a, err, sizeof(err));
    if (etcd_decode_txn(p, n, status, &ok, err, sizeof(err)) == 0 && ok != 0 && ok != 1)
        abort();
    struct etcd_kv *kvs;
    int count;
    if (etcd_decode_range(p, n, status, &kvs, &count, err, sizeof(err)) == 0) {
        for (int i = 0; i < count; i++)
            if (kvs[i].key[kvs[i].key_len] != '\0' || kvs[i].value[kvs[i].value_len] != '\0')
                abort();
        etcd_kvs_free(kvs, count);
    }
    struct etcd_leader_key lk;
    if (etcd_decode_campaign(p, n, status, &lk, err, sizeof(err)) == 0 &&
        (strlen(lk.key) == 0 || lk.rev <= 0))
        abort();
    char token[ETCD_TOKEN_MAX];
    if (etcd_decode_authenticate(p, n, status, token, sizeof(token), err, sizeof(err)) == 0 &&
        (strlen(token) == 0 || strlen(token) >= sizeof(token)))
        abort();
    struct etcd_kv kv;
    if (etcd_decode_leader(p, n, status, &kv, err, sizeof(err)) == 0)
        etcd_kv_free(&kv);
    size_t m;
    char *dec = etcd_base64_decode(p, n, &m);
    if (dec && m > n)
        abort();
    free(dec);
    struct ae_minute minute;
    if (cluster_minute_decode(p, n, &minute, err, sizeof(err)) == 0 && minute.start_ms % 60000)
        abort();
    struct cluster_recommendation r;
    if (cluster_recommendation_decode(p, n, &r, err, sizeof(err)) == 0 && r.ceiling < r.floor)
        abort();
    struct cluster_exec x;
    if (cluster_exec_decode(p, n, &x, err, sizeof(err)) == 0 && (x.count < 0 || !x.blueprint[0]))
        abort();
    return 0;
}
