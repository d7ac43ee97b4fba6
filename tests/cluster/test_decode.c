/* Unit tests of the cluster module without etcd: the decoders of etcd's answers (the shapes etcd
 * 3.4 sends, its errors, and text that is not what etcd sends), base64, the minute and
 * recommendation records, and the validation of cluster_start's options. */
#include "aether/cluster.h"
#include "aether/error.h"
#include "etcd.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define S(text) text, strlen(text)

static void expect_msg(const char *err, const char *want)
{
    if (!strstr(err, want))
        print_error("got '%s', want it to contain '%s'\n", err, want);
    assert_non_null(strstr(err, want));
}

static void test_errors(void **state)
{
    (void)state;
    char err[256];
    int code;
    /* As etcd 3.4 answers them. */
    assert_int_equal(
        etcd_decode_error(S("{\"error\":\"election: no leader\",\"message\":\"election: no "
                            "leader\",\"code\":2}"),
                          500, &code, err, sizeof(err)),
        AE_ENOENT);
    assert_int_equal(code, 2);
    assert_string_equal(err, "etcd: election: no leader (code 2)");
    assert_int_equal(etcd_decode_error(S("{\"error\":\"etcdserver: requested lease not found\","
                                         "\"code\":5}"),
                                       404, &code, err, sizeof(err)),
                     AE_ENOENT);
    assert_int_equal(etcd_decode_error(S("{\"error\":\"etcdserver: request timed out\","
                                         "\"code\":14}"),
                                       503, &code, err, sizeof(err)),
                     AE_EIO);
    assert_int_equal(code, 14);
    /* A streaming call's error object. */
    assert_int_equal(
        etcd_decode_error(S("{\"error\":{\"grpc_code\":14,\"message\":\"no quorum\"}}"), 200, &code,
                          err, sizeof(err)),
        AE_EIO);
    assert_int_equal(code, 14);
    expect_msg(err, "no quorum");
    /* Not etcd's. */
    assert_int_equal(etcd_decode_error(S("<html>bad gateway</html>"), 502, &code, err, sizeof(err)),
                     AE_EPARSE);
    expect_msg(err, "answer is not JSON");
    assert_int_equal(etcd_decode_error(S("[1,2]"), 200, NULL, err, sizeof(err)), AE_EPARSE);
    assert_string_equal(err, "answer is not a JSON object");
    assert_int_equal(etcd_decode_error(S("{}"), 503, NULL, err, sizeof(err)), AE_EPARSE);
    assert_string_equal(err, "HTTP status 503 without an etcd error");
    assert_int_equal(etcd_decode_error(S("{\"error\":7}"), 500, NULL, err, sizeof(err)), AE_EPARSE);
    assert_int_equal(etcd_decode_error(NULL, 0, 200, NULL, err, sizeof(err)), AE_EPARSE);
    assert_int_equal(etcd_decode_error(S("{\"header\":{}}"), 200, NULL, err, sizeof(err)), 0);
}

static void test_leases(void **state)
{
    (void)state;
    char err[256];
    int64_t id = 0, ttl = 0;
    assert_int_equal(etcd_decode_grant(S("{\"header\":{\"revision\":\"1\"},\"ID\":"
                                         "\"2324035753211639301\",\"TTL\":\"5\"}"),
                                       200, &id, &ttl, err, sizeof(err)),
                     0);
    assert_true(id == 2324035753211639301LL);
    assert_int_equal(ttl, 5);
    assert_int_equal(
        etcd_decode_grant(S("{\"ID\":\"12x\",\"TTL\":\"5\"}"), 200, &id, &ttl, err, sizeof(err)),
        AE_EPARSE);
    assert_string_equal(err, "field \"ID\" is not a 64-bit integer");
    assert_int_equal(etcd_decode_grant(S("{\"ID\":\"99999999999999999999\",\"TTL\":5}"), 200, &id,
                                       &ttl, err, sizeof(err)),
                     AE_EPARSE);
    assert_int_equal(etcd_decode_grant(S("{\"header\":{}}"), 200, &id, &ttl, err, sizeof(err)),
                     AE_EPARSE);
    assert_string_equal(err, "lease grant answer without an ID and a TTL");

    assert_int_equal(etcd_decode_keepalive(S("{\"result\":{\"ID\":\"7\",\"TTL\":\"10\"}}"), 200,
                                           &ttl, err, sizeof(err)),
                     0);
    assert_int_equal(ttl, 10);
    /* etcd's answer for a lease it does not know: TTL left out. */
    assert_int_equal(
        etcd_decode_keepalive(S("{\"result\":{\"ID\":\"12345\"}}"), 200, &ttl, err, sizeof(err)),
        AE_ENOENT);
    assert_string_equal(err, "etcd: lease not found or expired");
    assert_int_equal(etcd_decode_keepalive(S("{\"result\":5}"), 200, &ttl, err, sizeof(err)),
                     AE_EPARSE);
    assert_int_equal(etcd_decode_keepalive(S("{}"), 200, &ttl, err, sizeof(err)), AE_EPARSE);
    assert_string_equal(err, "answer has no \"result\"");
}

static void test_kv(void **state)
{
    (void)state;
    char err[256];
    struct etcd_kv *kvs;
    int n;
    assert_int_equal(etcd_decode_range(S("{\"kvs\":[{\"key\":\"YQ==\",\"create_revision\":\"4\","
                                         "\"mod_revision\":\"4\",\"version\":\"1\",\"value\":"
                                         "\"Yg==\",\"lease\":\"9\"},{\"key\":\"YWI=\"}],"
                                         "\"count\":\"2\"}"),
                                       200, &kvs, &n, err, sizeof(err)),
                     0);
    assert_int_equal(n, 2);
    assert_string_equal(kvs[0].key, "a");
    assert_string_equal(kvs[0].value, "b");
    assert_int_equal(kvs[0].create_revision, 4);
    assert_int_equal(kvs[0].lease, 9);
    assert_string_equal(kvs[1].key, "ab");
    assert_int_equal(kvs[1].value_len, 0); /* etcd leaves an empty value out */
    etcd_kvs_free(kvs, n);
    assert_int_equal(etcd_decode_range(S("{\"count\":\"0\"}"), 200, &kvs, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 0);
    assert_null(kvs);
    assert_int_equal(etcd_decode_range(S("{\"kvs\":{}}"), 200, &kvs, &n, err, sizeof(err)),
                     AE_EPARSE);
    assert_string_equal(err, "field \"kvs\" is not an array");
    assert_int_equal(etcd_decode_range(S("{\"kvs\":[{\"key\":\"YQ==\"},{\"key\":\"Y*==\"}]}"), 200,
                                       &kvs, &n, err, sizeof(err)),
                     AE_EPARSE);
    assert_string_equal(err, "field \"key\" is not base64");
    assert_null(kvs);
    assert_int_equal(etcd_decode_range(S("{\"kvs\":[3]}"), 200, &kvs, &n, err, sizeof(err)),
                     AE_EPARSE);

    int64_t deleted;
    assert_int_equal(etcd_decode_delete(S("{\"deleted\":\"3\"}"), 200, &deleted, err, sizeof(err)),
                     0);
    assert_int_equal(deleted, 3);
    int ok = 5;
    assert_int_equal(etcd_decode_txn(S("{\"succeeded\":true}"), 200, &ok, err, sizeof(err)), 0);
    assert_int_equal(ok, 1);
    assert_int_equal(etcd_decode_txn(S("{\"header\":{}}"), 200, &ok, err, sizeof(err)), 0);
    assert_int_equal(ok, 0); /* false is left out */
    assert_int_equal(etcd_decode_txn(S("{\"succeeded\":\"yes\"}"), 200, &ok, err, sizeof(err)),
                     AE_EPARSE);
}

static void test_election(void **state)
{
    (void)state;
    char err[256];
    struct etcd_leader_key lk;
    assert_int_equal(etcd_decode_campaign(S("{\"leader\":{\"name\":\"ZWw=\",\"key\":"
                                            "\"ZWwvMjA0MGEyMzQ0YjdjYjYwNw==\",\"rev\":\"2\","
                                            "\"lease\":\"2324035753211639303\"}}"),
                                          200, &lk, err, sizeof(err)),
                     0);
    assert_string_equal(lk.name, "el");
    assert_string_equal(lk.key, "el/2040a2344b7cb607");
    assert_int_equal(lk.rev, 2);
    assert_true(lk.lease == 2324035753211639303LL);
    assert_int_equal(etcd_decode_campaign(S("{\"header\":{}}"), 200, &lk, err, sizeof(err)),
                     AE_EPARSE);
    /* A key with a NUL in it is not text. */
    assert_int_equal(etcd_decode_campaign(S("{\"leader\":{\"name\":\"ZWw=\",\"key\":\"YQBi\","
                                            "\"rev\":\"2\"}}"),
                                          200, &lk, err, sizeof(err)),
                     AE_EPARSE);
    expect_msg(err, "field \"key\"");

    struct etcd_kv kv;
    assert_int_equal(etcd_decode_leader(S("{\"kv\":{\"key\":\"YQ==\",\"value\":\"bm9kZS1h\","
                                          "\"create_revision\":\"8\",\"lease\":\"3\"}}"),
                                        200, &kv, err, sizeof(err)),
                     0);
    assert_string_equal(kv.value, "node-a");
    assert_int_equal(kv.create_revision, 8);
    etcd_kv_free(&kv);
    assert_int_equal(etcd_decode_leader(S("{\"header\":{}}"), 200, &kv, err, sizeof(err)),
                     AE_ENOENT);
}

static void test_base64(void **state)
{
    (void)state;
    const char data[] = "\x00\xff\x10hello, etcd";
    for (size_t n = 0; n < sizeof(data); n++) {
        char enc[64];
        etcd_base64_encode(data, n, enc);
        assert_int_equal(strlen(enc), 4 * ((n + 2) / 3));
        size_t m = 99;
        char *dec = etcd_base64_decode(enc, strlen(enc), &m);
        assert_non_null(dec);
        assert_int_equal(m, n);
        assert_memory_equal(dec, data, n);
        free(dec);
    }
    char enc[16];
    etcd_base64_encode("ab", 2, enc);
    assert_string_equal(enc, "YWI=");
    const char *bad[] = {"YWI", "Y=Ia", "YW=I", "YQ==YQ==", "Y*I=", "===="};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t m;
        char *dec = etcd_base64_decode(bad[i], strlen(bad[i]), &m);
        if (dec)
            print_error("'%s' decoded\n", bad[i]);
        assert_null(dec);
    }
}

static void test_minute_record(void **state)
{
    (void)state;
    struct ae_minute m, back;
    ae_minute_init(&m, 1700000040000LL);
    m.values[0] = 0.1 + 0.2; /* needs all 17 digits */
    m.missing &= ~AE_FEATURE_BIT(0);
    m.values[3] = 1e300;
    m.missing &= ~AE_FEATURE_BIT(3);
    m.estimated = AE_FEATURE_BIT(3);
    m.samples[0] = 60;
    m.samples[3] = 30;
    m.snapshots = 60;
    m.ready_mean = 2.5;
    m.requested_mean = 3;
    char *text = cluster_minute_encode(&m);
    assert_non_null(text);
    char err[256];
    assert_int_equal(cluster_minute_decode(text, strlen(text), &back, err, sizeof(err)), 0);
    free(text);
    assert_true(back.start_ms == m.start_ms);
    assert_true(back.values[0] == m.values[0]);
    assert_true(back.values[3] == m.values[3]);
    assert_int_equal(back.missing, m.missing);
    assert_int_equal(back.estimated, m.estimated);
    assert_memory_equal(back.samples, m.samples, sizeof(m.samples));
    assert_true(back.ready_mean == 2.5);

    static const struct {
        const char *text, *message;
    } bad[] = {
        {"{\"start_ms\":1}", "field \"start_ms\" = 1 is not on a minute"},
        {"{\"start_ms\":-60000}", "field \"start_ms\" = -60000 is out of range"},
        {"{\"start_ms\":60000,\"missing\":999999,\"estimated\":0}", "field \"missing\""},
        {"{\"start_ms\":60000,\"missing\":0,\"estimated\":0,\"snapshots\":1,\"ready_mean\":1,"
         "\"requested_mean\":1,\"values\":[1]}",
         "field \"values\" is not an array of"},
        {"{\"start_ms\":60000,\"missing\":1,\"estimated\":0,\"snapshots\":1,\"ready_mean\":1,"
         "\"requested_mean\":1,\"values\":[1,null,null,null,null,null,null,null,null,null,null],"
         "\"samples\":[0,0,0,0,0,0,0,0,0,0,0]}",
         "values[0] is neither null nor a number of a present feature"},
        {"{\"start_ms\":60000,\"missing\":0,\"estimated\":0,\"snapshots\":1,\"ready_mean\":1,"
         "\"requested_mean\":1,\"values\":[1,1,1,1,1,1,1,1,1,1,1],"
         "\"samples\":[0,0,0,0,0,0,0,-1,0,0,0]}",
         "samples[7] is not a count"},
        {"nope", "not JSON"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(cluster_minute_decode(S(bad[i].text), &back, err, sizeof(err)), AE_EPARSE);
        expect_msg(err, bad[i].message);
    }
}

static void test_recommendation_record(void **state)
{
    (void)state;
    struct cluster_recommendation r = {.node = "node-b",
                                       .blueprint = "web",
                                       .floor = 2,
                                       .ceiling = 7,
                                       .issued_ms = 1700000040000LL,
                                       .expires_ms = 1700000160000LL,
                                       .leader = "node-a"};
    char *text = cluster_recommendation_encode(&r);
    struct cluster_recommendation back;
    char err[256];
    assert_int_equal(cluster_recommendation_decode(text, strlen(text), &back, err, sizeof(err)), 0);
    free(text);
    assert_memory_equal(&back, &r, sizeof(r));
    assert_int_equal(cluster_recommendation_decode(
                         S("{\"node\":\"n\",\"blueprint\":\"w\",\"leader\":\"l\",\"floor\":5,"
                           "\"ceiling\":2,\"issued_ms\":0,\"expires_ms\":0}"),
                         &back, err, sizeof(err)),
                     AE_EPARSE);
    expect_msg(err, "field \"ceiling\" = 2 is out of range 5..");
    assert_int_equal(cluster_recommendation_decode(S("{\"node\":\"\"}"), &back, err, sizeof(err)),
                     AE_EPARSE);
    expect_msg(err, "field \"node\" is not a name");
}

static void test_exec_record(void **state)
{
    (void)state;
    struct cluster_exec x = {
        .blueprint = "web", .count = 4, .leader = "node-a", .issued_ms = 1700000040000LL};
    char *text = cluster_exec_encode(&x);
    struct cluster_exec back;
    char err[256];
    assert_int_equal(cluster_exec_decode(text, strlen(text), &back, err, sizeof(err)), 0);
    free(text);
    assert_string_equal(back.blueprint, x.blueprint); /* field by field: padding is not data */
    assert_int_equal(back.count, x.count);
    assert_string_equal(back.leader, x.leader);
    assert_int_equal(back.issued_ms, x.issued_ms);
    assert_int_equal(cluster_exec_decode(S("{\"blueprint\":\"w\",\"leader\":\"l\",\"count\":-1,"
                                           "\"issued_ms\":0}"),
                                         &back, err, sizeof(err)),
                     AE_EPARSE);
    expect_msg(err, "field \"count\" = -1 is out of range 0..");
    assert_int_equal(
        cluster_exec_decode(S("{\"blueprint\":\"web\",\"leader\":\"l\"}"), &back, err, sizeof(err)),
        AE_EPARSE);
    expect_msg(err, "field \"count\"");
    assert_int_equal(cluster_exec_decode(S("[1]"), &back, err, sizeof(err)), AE_EPARSE);
}

static void test_options(void **state)
{
    (void)state;
    static const char *const eps[] = {"http://127.0.0.1:2379"};
    static const char *const bad_eps[] = {"https://127.0.0.1:2379"};
    const struct {
        const char *name, *prefix;
        int ttl;
        const char *const *eps;
        int code;
        const char *message;
    } cases[] = {
        {"a/b", "/aether/", 10000, eps, AE_EINVAL, "cluster.name = \"a/b\" is not a name"},
        {"", "/aether/", 10000, eps, AE_EINVAL, "cluster.name = \"\""},
        {"a", "aether", 10000, eps, AE_EINVAL, "cluster.prefix = \"aether\" must be"},
        {"a", "/aether/", 1999, eps, AE_ERANGE,
         "cluster.lease_ttl_ms = 1999 is out of range 2000..3600000"},
        {"a", "/aether/", 10000, bad_eps, AE_EINVAL,
         "etcd endpoint 1 \"https://127.0.0.1:2379\": only http:// URLs are supported"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct cluster_options o = {.etcd_endpoints = cases[i].eps,
                                    .endpoint_count = 1,
                                    .name = cases[i].name,
                                    .prefix = cases[i].prefix,
                                    .lease_ttl_ms = cases[i].ttl};
        struct cluster *c = (struct cluster *)&o;
        char err[256] = "";
        assert_int_equal(cluster_start(&o, &c, err, sizeof(err)), cases[i].code);
        assert_null(c);
        expect_msg(err, cases[i].message);
    }
    struct etcd_client ec;
    char err[256];
    const char *path[] = {"http://127.0.0.1:2379/v3"};
    assert_int_equal(etcd_client_init(&ec, path, 1, 100, err, sizeof(err)), AE_EINVAL);
    assert_string_equal(err, "etcd endpoint 1 \"http://127.0.0.1:2379/v3\": has a path");
    assert_int_equal(etcd_client_init(&ec, path, 0, 100, err, sizeof(err)), AE_EINVAL);
    const char *slash[] = {"http://127.0.0.1:2379/"};
    assert_int_equal(etcd_client_init(&ec, slash, 1, 100, err, sizeof(err)), 0);
    assert_string_equal(ec.endpoints[0], "http://127.0.0.1:2379");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_leases),
        cmocka_unit_test(test_kv),
        cmocka_unit_test(test_election),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_minute_record),
        cmocka_unit_test(test_recommendation_record),
        cmocka_unit_test(test_exec_record),
        cmocka_unit_test(test_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
