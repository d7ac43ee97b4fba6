/* The etcd client and the cluster member runtime against real etcd servers on loopback (started
 * and stopped here, see etcd_fixture.h): every client call; one leader among three members; a
 * revoked leader lease (the old leader's fencing check fails at once, another member leads within
 * the lease TTL + 5 s); minutes published by one member read back by another; recommendations
 * from the leader reaching their node, and never from a follower; etcd stopped (nobody leads,
 * each says why) and back (one leader again); a 3-member etcd cluster losing the member every
 * runtime talks to first; minutes kept to the last 120 per member and blueprint and gone with
 * the member's lease; a leader process paused with SIGSTOP past its lease (it takes no fenced
 * action after its pause). Skips (exit 77) when there is no etcd binary. */
#include "aether/cluster.h"
#include "aether/error.h"
#include "etcd.h"
#include "etcd_fixture.h"
#include "httpc.h"
#include "helpers.h"

#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#define TTL_MS 2000
#define FAILOVER_MS (TTL_MS + 5000)

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The etcd servers, member runtimes and member processes of the running test: stopped by the
 * teardown, also when an assertion ended the test early. */
static struct etcdfx fx;
static struct cluster *running[8];
static pid_t children[3];

/* A member on the first `endpoints` etcd members, authenticating as user (NULL: none). */
static struct cluster *member_as(int endpoints, const char *name, int ttl_ms, const char *user,
                                 const char *password)
{
    struct cluster_options o = {.etcd_endpoints = fx.urls,
                                .endpoint_count = endpoints,
                                .name = name,
                                .prefix = "/aether-test/",
                                .lease_ttl_ms = ttl_ms,
                                .username = user,
                                .password = password};
    struct cluster *c = NULL;
    char err[256];
    int rc = cluster_start(&o, &c, err, sizeof(err));
    if (rc != 0)
        print_error("cluster_start %s: %s\n", name, err);
    assert_int_equal(rc, 0);
    for (int i = 0; i < 8; i++)
        if (!running[i]) {
            running[i] = c;
            break;
        }
    return c;
}

static struct cluster *member_ttl(int endpoints, const char *name, int ttl_ms)
{
    return member_as(endpoints, name, ttl_ms, NULL, NULL);
}

static struct cluster *member(int endpoints, const char *name)
{
    return member_ttl(endpoints, name, TTL_MS);
}

static void stop_member(struct cluster *c)
{
    for (int i = 0; i < 8; i++)
        if (running[i] == c)
            running[i] = NULL;
    cluster_stop(c);
}

/* Index of the one member that leads while every other names it as leader, or -1. */
static int sole_leader(struct cluster **m, int n)
{
    int leader = -1;
    struct cluster_status st[8];
    for (int i = 0; i < n; i++) {
        cluster_status(m[i], &st[i]);
        if (st[i].leader) {
            if (leader >= 0)
                return -2; /* two leaders: never acceptable */
            leader = i;
        }
    }
    if (leader < 0)
        return -1;
    for (int i = 0; i < n; i++)
        if (i != leader && (st[i].reason != CLUSTER_OTHER_LEADER ||
                            strcmp(st[i].leader_name, st[leader].leader_name) != 0))
            return -1;
    return leader;
}

/* Waits up to ms for a sole leader; fails the test on two leaders at once. */
static int wait_sole_leader(struct cluster **m, int n, int ms)
{
    int64_t end = mono_ms() + ms;
    for (;;) {
        int l = sole_leader(m, n);
        assert_int_not_equal(l, -2);
        if (l >= 0 || mono_ms() > end)
            return l;
        sleep_ms(50);
    }
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < 3; i++)
        if (children[i] > 0) {
            kill(children[i], SIGCONT);
            kill(children[i], SIGKILL);
            waitpid(children[i], NULL, 0);
            children[i] = 0;
        }
    for (int i = 0; i < 8; i++)
        if (running[i]) {
            cluster_stop(running[i]);
            running[i] = NULL;
        }
    etcdfx_stop(&fx);
    return 0;
}

static void start_or_skip(int n)
{
    if (!etcdfx_binary()) {
        print_message("no etcd binary (Debian's etcd-server, or set AETHER_ETCD); skipped\n");
        exit(77);
    }
    if (etcdfx_start(&fx, n) != 0) {
        etcdfx_stop(&fx);
        fail_msg("could not start %d etcd member(s)", n);
    }
}

/* ---- the client ---- */

static void test_client_calls(void **state)
{
    (void)state;
    start_or_skip(1);
    /* The first endpoint refuses: every call moves on to the second. */
    char dead[64];
    snprintf(dead, sizeof(dead), "http://127.0.0.1:%d", free_port());
    const char *eps[] = {dead, fx.urls[0]};
    struct etcd_client c;
    char err[256];
    assert_int_equal(etcd_client_init(&c, eps, 2, 1000, err, sizeof(err)), 0);

    int64_t lease = 0, ttl = 0;
    assert_int_equal(etcd_lease_grant(&c, 5, &lease), 0);
    assert_true(lease != 0);
    assert_int_equal(c.current, 1);
    assert_int_equal(etcd_lease_keepalive(&c, lease, &ttl), 0);
    assert_int_equal(ttl, 5);

    assert_int_equal(etcd_put(&c, "/t/a/1", "one", 3, lease), 0);
    assert_int_equal(etcd_put(&c, "/t/a/2", "two\0x", 5, 0), 0); /* bytes, not text */
    assert_int_equal(etcd_put(&c, "/t/b", "bee", 3, 0), 0);
    struct etcd_kv *kvs;
    int n;
    assert_int_equal(etcd_range(&c, "/t/a/", 1, &kvs, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(kvs[0].key, "/t/a/1");
    assert_string_equal(kvs[0].value, "one");
    assert_int_equal(kvs[0].lease, lease);
    assert_int_equal(kvs[1].value_len, 5);
    assert_memory_equal(kvs[1].value, "two\0x", 5);
    int64_t rev = kvs[1].create_revision;
    etcd_kvs_free(kvs, n);
    assert_int_equal(etcd_range(&c, "/t/b", 0, &kvs, &n), 0);
    assert_int_equal(n, 1);
    etcd_kvs_free(kvs, n);
    assert_int_equal(etcd_range(&c, "/t/none/", 1, &kvs, &n), 0);
    assert_int_equal(n, 0);
    assert_null(kvs);

    /* The guarded transaction holds only at the guard's creation revision. */
    int ok = 0;
    assert_int_equal(etcd_txn_put_if_created(&c, "/t/a/2", rev, "/t/g", "yes", 3, 0, &ok), 0);
    assert_int_equal(ok, 1);
    assert_int_equal(etcd_txn_put_if_created(&c, "/t/a/2", rev + 1, "/t/h", "no", 2, 0, &ok), 0);
    assert_int_equal(ok, 0);
    assert_int_equal(etcd_range(&c, "/t/h", 0, &kvs, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(etcd_txn_put_if_created(&c, "/t/a/2", rev, NULL, NULL, 0, 0, &ok), 0);
    assert_int_equal(ok, 1);

    int64_t deleted = 0;
    assert_int_equal(etcd_delete_range(&c, "/t/a/", "/t/a/2", &deleted), 0);
    assert_int_equal(deleted, 1); /* [/t/a/, /t/a/2) holds /t/a/1 only */

    /* Election: campaign, leader, proclaim, resign. */
    struct etcd_leader_key lk;
    assert_int_equal(etcd_campaign(&c, "/t/el", lease, "me", &lk), 0);
    assert_int_equal(lk.lease, lease);
    struct etcd_kv kv;
    assert_int_equal(etcd_leader(&c, "/t/el", &kv), 0);
    assert_string_equal(kv.value, "me");
    etcd_kv_free(&kv);
    /* A second candidate waits in etcd until its request times out; etcd then withdraws it. */
    int64_t lease2 = 0;
    assert_int_equal(etcd_lease_grant(&c, 5, &lease2), 0);
    struct etcd_client impatient = c;
    impatient.timeout_ms = 300;
    struct etcd_leader_key lk2;
    assert_int_equal(etcd_campaign(&impatient, "/t/el", lease2, "other", &lk2), AE_EIO);
    print_message("second candidate: %s\n", impatient.last_error);
    assert_non_null(strstr(impatient.last_error, "timed out after 300 ms"));
    assert_null(strstr(impatient.last_error, dead)); /* not repeated on the next endpoint */
    int candidates = 99;
    for (int64_t end = mono_ms() + 2000; candidates != 1 && mono_ms() < end; sleep_ms(50)) {
        assert_int_equal(etcd_range(&c, "/t/el/", 1, &kvs, &candidates), 0);
        etcd_kvs_free(kvs, candidates);
    }
    assert_int_equal(candidates, 1);
    assert_int_equal(etcd_lease_revoke(&c, lease2), 0);
    assert_int_equal(etcd_leader(&c, "/t/el", &kv), 0);
    assert_string_equal(kv.key, lk.key);
    etcd_kv_free(&kv);
    assert_int_equal(etcd_proclaim(&c, &lk, "me again"), 0);
    assert_int_equal(etcd_leader(&c, "/t/el", &kv), 0);
    assert_string_equal(kv.value, "me again");
    etcd_kv_free(&kv);
    assert_int_equal(etcd_resign(&c, &lk), 0);
    assert_int_equal(etcd_leader(&c, "/t/el", &kv), AE_ENOENT);
    print_message("no leader: %s\n", c.last_error);
    assert_non_null(strstr(c.last_error, "no leader"));
    assert_int_equal(etcd_proclaim(&c, &lk, "not any more"), AE_EIO);
    print_message("proclaim after resign: %s\n", c.last_error);
    assert_non_null(strstr(c.last_error, "election: not leader"));

    /* A revoked lease: keep-alive and put say so, naming the endpoint. */
    assert_int_equal(etcd_lease_revoke(&c, lease), 0);
    assert_int_equal(etcd_lease_keepalive(&c, lease, &ttl), AE_ENOENT);
    assert_int_equal(etcd_put(&c, "/t/x", "x", 1, lease), AE_ENOENT);
    print_message("revoked: %s\n", c.last_error);
    assert_non_null(strstr(c.last_error, fx.urls[0]));
    assert_non_null(strstr(c.last_error, "/v3/kv/put"));
    assert_non_null(strstr(c.last_error, "lease not found"));

    /* Nothing answers: each endpoint and its failure are named. */
    etcdfx_stop(&fx);
    assert_int_equal(etcd_lease_grant(&c, 5, &lease), AE_EIO);
    print_message("down: %s\n", c.last_error);
    assert_non_null(strstr(c.last_error, "etcd /v3/lease/grant: "));
    assert_non_null(strstr(c.last_error, dead));
    assert_non_null(strstr(c.last_error, fx.urls[0]));
    assert_non_null(strstr(c.last_error, "cannot connect"));
}

/* ---- the runtime ---- */

/* The leader's thread reads the other members' minutes into its inbox (the follower f
 * published 3); a follower's inbox stays empty. */
static void expect_peer_minutes(struct cluster **m, int l, int f, const char *fname)
{
    struct cluster_minute_record *recs = NULL;
    int n = 0, got = 0;
    long term = 0;
    for (int64_t end = mono_ms() + 5000; got < 3 && mono_ms() < end; sleep_ms(100)) {
        assert_int_equal(cluster_take_peer_minutes(m[l], &recs, &n, &term), 0);
        for (int k = 0; k < n; k++)
            assert_string_equal(recs[k].node, fname);
        got += n;
        free(recs);
    }
    assert_int_equal(got, 3);
    assert_true(term >= 1);
    sleep_ms(TTL_MS / 2); /* more rounds: nothing is read twice */
    assert_int_equal(cluster_take_peer_minutes(m[l], &recs, &n, &term), 0);
    assert_int_equal(n, 0);
    assert_int_equal(cluster_take_peer_minutes(m[f], &recs, &n, &term), 0);
    assert_int_equal(n, 0);
    assert_int_equal(term, 0);
}

/* Only the leader records an exec count; every member reads it back. */
static void expect_exec_records(struct cluster **m, int l, const char *lname)
{
    char why[1024];
    int f = (l + 1) % 3;
    assert_int_equal(cluster_fence_exec(m[f], "web", 7, why, sizeof(why)), 0);
    assert_non_null(strstr(why, "not the leader"));
    assert_int_equal(cluster_fence_exec(m[l], "web", 4, why, sizeof(why)), 1);
    struct cluster_exec x = {0};
    int seen = 0;
    for (int64_t end = mono_ms() + 5000; !seen && mono_ms() < end; sleep_ms(100))
        seen = cluster_exec_get(m[f], "web", &x) == 0;
    assert_true(seen);
    assert_int_equal(x.count, 4);
    assert_string_equal(x.leader, lname);
    assert_int_equal(cluster_exec_get(m[f], "db", &x), AE_ENOENT);
}

static void test_leader_failover_fencing(void **state)
{
    (void)state;
    start_or_skip(1);
    const char *names[] = {"node-a", "node-b", "node-c"};
    struct cluster *m[3];
    for (int i = 0; i < 3; i++)
        m[i] = member(1, names[i]);

    int64_t t0 = mono_ms();
    int l = wait_sole_leader(m, 3, FAILOVER_MS);
    assert_true(l >= 0);
    print_message("first leader %s after %lld ms\n", names[l], (long long)(mono_ms() - t0));
    char why[1024];
    assert_int_equal(cluster_still_leader(m[l], why, sizeof(why)), 1);
    for (int i = 0; i < 3; i++)
        if (i != l) {
            assert_int_equal(cluster_still_leader(m[i], why, sizeof(why)), 0);
            assert_non_null(strstr(why, "not the leader: another member leads"));
        }
    /* Every member sees the others. */
    sleep_ms(TTL_MS);
    struct cluster_status st;
    cluster_status(m[(l + 1) % 3], &st);
    assert_int_equal(st.member_count, 3);
    assert_string_equal(st.members[0], "node-a");
    assert_string_equal(st.members[2], "node-c");

    /* Minutes of one member read back by another. */
    int f = (l + 1) % 3;
    for (int k = 0; k < 3; k++) {
        struct ae_minute mn;
        ae_minute_init(&mn, 1700000040000LL + k * 60000);
        mn.values[0] = 0.25 * k;
        mn.missing &= ~AE_FEATURE_BIT(0);
        mn.snapshots = 60;
        mn.samples[0] = 60;
        mn.ready_mean = 2;
        mn.requested_mean = 3;
        assert_int_equal(cluster_publish_minute(m[f], "web", &mn), 0);
    }
    struct cluster_minute_record *recs = NULL;
    int n = 0, skipped = -1;
    char err[1024];
    for (int64_t end = mono_ms() + 5000; mono_ms() < end; sleep_ms(100)) {
        free(recs);
        assert_int_equal(cluster_read_minutes(m[l], &recs, &n, &skipped, err, sizeof(err)), 0);
        if (n == 3)
            break;
    }
    assert_int_equal(n, 3);
    assert_int_equal(skipped, 0);
    assert_string_equal(recs[0].node, names[f]);
    assert_string_equal(recs[0].blueprint, "web");
    assert_int_equal(recs[2].minute.start_ms, 1700000040000LL + 120000);
    assert_true(recs[2].minute.values[0] == 0.5);
    assert_true(ae_minute_has(&recs[2].minute, 0));
    assert_false(ae_minute_has(&recs[2].minute, 1));
    free(recs);
    expect_peer_minutes(m, l, f, names[f]);
    expect_exec_records(m, l, names[l]);

    /* A recommendation from a follower is never written; the leader's reaches its node. */
    struct cluster_recommendation r = {
        .floor = 2, .ceiling = 5, .issued_ms = 1000, .expires_ms = 121000};
    snprintf(r.node, sizeof(r.node), "%s", names[f]);
    snprintf(r.blueprint, sizeof(r.blueprint), "web");
    int other = (l + 2) % 3;
    assert_int_equal(cluster_publish_recommendation(m[other], &r), AE_ESTATE);
    struct cluster_recommendation got;
    assert_int_equal(cluster_recommendation_get(m[f], "web", &got), AE_ENOENT);
    assert_int_equal(cluster_publish_recommendation(m[l], &r), 0);
    int arrived = 0;
    for (int64_t end = mono_ms() + 5000; !arrived && mono_ms() < end; sleep_ms(100))
        arrived = cluster_recommendation_get(m[f], "web", &got) == 0;
    assert_true(arrived);
    assert_int_equal(got.floor, 2);
    assert_int_equal(got.ceiling, 5);
    assert_int_equal(got.expires_ms, 121000);
    assert_string_equal(got.leader, names[l]);

    /* The leader's lease is revoked behind its back (as if it had paused past its TTL): its
     * fencing check fails at once, before its own thread notices. */
    struct etcd_client admin;
    assert_int_equal(etcd_client_init(&admin, fx.urls, 1, 1000, err, sizeof(err)), 0);
    cluster_status(m[l], &st);
    int64_t revoked_at = mono_ms();
    assert_int_equal(etcd_lease_revoke(&admin, st.lease_id), 0);
    assert_int_equal(cluster_still_leader(m[l], why, sizeof(why)), 0);
    print_message("old leader: %s\n", why);
    assert_non_null(strstr(why, "the leadership was lost"));
    cluster_status(m[l], &st);
    assert_false(st.leader); /* a failed fencing check ends the leadership at once */

    int l2 = -1;
    while (mono_ms() - revoked_at < FAILOVER_MS) {
        l2 = sole_leader(m, 3);
        assert_int_not_equal(l2, -2);
        if (l2 >= 0 && l2 != l)
            break;
        sleep_ms(50);
    }
    print_message("new leader %s after %lld ms\n", l2 >= 0 ? names[l2] : "none",
                  (long long)(mono_ms() - revoked_at));
    assert_true(l2 >= 0 && l2 != l);
    assert_int_equal(cluster_still_leader(m[l2], why, sizeof(why)), 1);
    assert_int_equal(cluster_still_leader(m[l], why, sizeof(why)), 0);
    assert_int_equal(cluster_fence_exec(m[l], "web", 9, why, sizeof(why)), 0);
    struct cluster_exec x;
    assert_int_equal(cluster_exec_get(m[l], "web", &x), 0);
    assert_int_equal(x.count, 4); /* the fenced-out run left no record */
    cluster_status(m[l], &st);
    assert_true(st.leader_changes >= 2); /* gained, then lost */
    /* The old leader's recommendation went with its lease. */
    struct etcd_kv *kvs;
    assert_int_equal(etcd_range(&admin, "/aether-test/recommendations/", 1, &kvs, &n), 0);
    etcd_kvs_free(kvs, n);
    assert_int_equal(n, 0);

    /* A member that stops hands over at once (resign + revoke), without waiting for the TTL. */
    int64_t stopped_at = mono_ms();
    stop_member(m[l2]);
    struct cluster *rest[2];
    int k = 0;
    for (int i = 0; i < 3; i++)
        if (i != l2)
            rest[k++] = m[i];
    int l3 = wait_sole_leader(rest, 2, FAILOVER_MS);
    print_message("after a clean stop: leader after %lld ms\n",
                  (long long)(mono_ms() - stopped_at));
    assert_true(l3 >= 0);
    assert_true(mono_ms() - stopped_at < TTL_MS);
    stop_member(rest[0]);
    stop_member(rest[1]);
    etcdfx_stop(&fx);
}

static void test_etcd_down_and_back(void **state)
{
    (void)state;
    start_or_skip(1);
    struct cluster *m[2] = {member(1, "n1"), member(1, "n2")};
    int l = wait_sole_leader(m, 2, FAILOVER_MS);
    assert_true(l >= 0);

    etcdfx_signal(&fx, 0, SIGKILL);
    int64_t down_at = mono_ms();
    struct cluster_status st[2];
    int nobody = 0, held = 0;
    char held_why[1024] = "";
    while (!nobody && mono_ms() - down_at < TTL_MS + 2000) {
        cluster_status(m[0], &st[0]);
        cluster_status(m[1], &st[1]);
        /* The leader keeps leading, saying etcd is away, while its lease surely holds. */
        if (st[l].leader && !st[l].etcd_reachable && !held++)
            snprintf(held_why, sizeof(held_why), "%s", st[l].why);
        nobody =
            st[0].reason == CLUSTER_ETCD_UNREACHABLE && st[1].reason == CLUSTER_ETCD_UNREACHABLE;
        sleep_ms(10);
    }
    assert_true(nobody);
    int64_t nobody_after = mono_ms() - down_at;
    print_message("etcd killed: the leader said \"%.80s...\"; both members unreachable after "
                  "%lld ms\n",
                  held_why, (long long)nobody_after);
    assert_true(held > 0);
    assert_non_null(strstr(held_why, "but etcd unreachable"));
    assert_true(nobody_after <= TTL_MS); /* never past the lease TTL */
    for (int i = 0; i < 2; i++) {
        print_message("n%d: %s\n", i + 1, st[i].why);
        assert_false(st[i].leader);
        assert_false(st[i].etcd_reachable);
        assert_non_null(strstr(st[i].why, "etcd unreachable: etcd /v3/"));
        assert_non_null(strstr(st[i].why, fx.urls[0]));
        assert_true(st[i].etcd_errors > 0);
        char why[1024];
        assert_int_equal(cluster_still_leader(m[i], why, sizeof(why)), 0);
    }
    /* Minutes closed while etcd is away wait in the outbox. */
    struct ae_minute mn;
    ae_minute_init(&mn, 1700000040000LL);
    assert_int_equal(cluster_publish_minute(m[0], "api", &mn), 0);
    sleep_ms(TTL_MS); /* longer than a lease: etcd must restore or replace it */

    assert_int_equal(etcdfx_restart(&fx, 0), 0);
    int64_t up_at = mono_ms();
    l = wait_sole_leader(m, 2, FAILOVER_MS);
    print_message("after etcd came back: leader n%d after %lld ms\n", l + 1,
                  (long long)(mono_ms() - up_at));
    assert_true(l >= 0);
    cluster_status(m[l], &st[0]);
    assert_true(st[0].etcd_reachable);
    struct cluster_minute_record *recs = NULL;
    int n = 0;
    char err[1024];
    for (int64_t end = mono_ms() + 5000; n == 0 && mono_ms() < end; sleep_ms(100)) {
        free(recs);
        assert_int_equal(cluster_read_minutes(m[1], &recs, &n, NULL, err, sizeof(err)), 0);
    }
    assert_int_equal(n, 1);
    assert_string_equal(recs[0].node, "n1");
    free(recs);
    stop_member(m[0]);
    stop_member(m[1]);
    etcdfx_stop(&fx);
}

static void test_three_member_etcd(void **state)
{
    (void)state;
    start_or_skip(3);
    /* A longer lease here: losing the raft leader stalls etcd's answers for an election
     * (about a second, more on a loaded machine), which a 2 s lease barely covers. */
    const int ttl = 10000;
    struct cluster *m[2] = {member_ttl(3, "n1", ttl), member_ttl(3, "n2", ttl)};
    /* Each member's first lease, as soon as it has one. */
    int64_t first_lease[2] = {0, 0};
    for (int64_t end = mono_ms() + 5000; (!first_lease[0] || !first_lease[1]) && mono_ms() < end;
         sleep_ms(5))
        for (int i = 0; i < 2; i++) {
            struct cluster_status st;
            cluster_status(m[i], &st);
            if (!first_lease[i])
                first_lease[i] = st.lease_id;
        }
    assert_true(first_lease[0] && first_lease[1]);
    int l = wait_sole_leader(m, 2, FAILOVER_MS);
    assert_true(l >= 0);
    /* Lose the member both runtimes talk to first. */
    etcdfx_signal(&fx, 0, SIGKILL);
    int64_t killed_at = mono_ms();
    struct ae_minute mn;
    ae_minute_init(&mn, 1700000040000LL);
    assert_int_equal(cluster_publish_minute(m[1 - l], "api", &mn), 0);
    /* For two lease TTLs the same member keeps leading, and nobody else claims it. */
    while (mono_ms() - killed_at < 2 * ttl) {
        int now = sole_leader(m, 2);
        assert_int_not_equal(now, -2);
        if (now >= 0)
            assert_int_equal(now, l);
        sleep_ms(50);
    }
    assert_int_equal(wait_sole_leader(m, 2, 1000), l);
    char why[1024];
    assert_int_equal(cluster_still_leader(m[l], why, sizeof(why)), 1);
    struct cluster_minute_record *recs = NULL;
    int n = 0;
    char err[1024];
    assert_int_equal(cluster_read_minutes(m[l], &recs, &n, NULL, err, sizeof(err)), 0);
    assert_int_equal(n, 1);
    free(recs);
    struct cluster_status st;
    cluster_status(m[l], &st);
    assert_true(st.etcd_reachable);
    /* Both kept their first lease throughout (a member's round never outlasts its lease, even
     * when a losing campaign could wait on every endpoint), and the leader never changed. */
    assert_int_equal(st.leader_changes, 1);
    for (int i = 0; i < 2; i++) {
        cluster_status(m[i], &st);
        assert_int_equal(st.lease_id, first_lease[i]);
    }
    stop_member(m[0]);
    stop_member(m[1]);
    etcdfx_stop(&fx);
}

/* Minutes are kept per member and blueprint up to the last CLUSTER_MINUTES_KEPT, and live under
 * the member's lease: they go when it stops. */
static void test_minutes_bounded_and_leased(void **state)
{
    (void)state;
    start_or_skip(1);
    struct cluster *a = member(1, "a"), *b = member(1, "b");
    const int64_t t0 = 1700000040000LL;
    const int extra = 5;
    for (int k = 0; k < CLUSTER_MINUTES_KEPT + extra; k++) {
        struct ae_minute mn;
        ae_minute_init(&mn, t0 + (int64_t)k * 60000);
        mn.snapshots = k;
        assert_int_equal(cluster_publish_minute(a, "web", &mn), 0);
    }
    struct ae_minute one;
    ae_minute_init(&one, t0);
    assert_int_equal(cluster_publish_minute(a, "api", &one), 0);
    struct cluster_minute_record *recs = NULL;
    int n = 0;
    char err[1024];
    struct cluster_status st;
    for (int64_t end = mono_ms() + 20000; mono_ms() < end; sleep_ms(100)) {
        cluster_status(a, &st);
        if (st.minutes_published == CLUSTER_MINUTES_KEPT + extra + 1)
            break;
    }
    assert_int_equal(st.minutes_published, CLUSTER_MINUTES_KEPT + extra + 1);
    assert_int_equal(st.minutes_dropped, 0);
    assert_int_equal(cluster_read_minutes(b, &recs, &n, NULL, err, sizeof(err)), 0);
    assert_int_equal(n, 1 + CLUSTER_MINUTES_KEPT);
    /* Ordered by member, blueprint, minute: api first, then the newest 120 of web. */
    assert_string_equal(recs[0].blueprint, "api");
    assert_string_equal(recs[1].blueprint, "web");
    assert_true(recs[1].minute.start_ms == t0 + extra * 60000);
    assert_int_equal(recs[1].minute.snapshots, extra);
    assert_true(recs[n - 1].minute.start_ms == t0 + (CLUSTER_MINUTES_KEPT + extra - 1) * 60000LL);
    for (int i = 2; i < n; i++)
        assert_true(recs[i].minute.start_ms == recs[i - 1].minute.start_ms + 60000);
    free(recs);

    stop_member(a);
    assert_int_equal(cluster_read_minutes(b, &recs, &n, NULL, err, sizeof(err)), 0);
    assert_int_equal(n, 0);
    assert_null(recs);
    stop_member(b);
    etcdfx_stop(&fx);
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The leader's name as etcd's election API reports it, or "" when none. */
static void etcd_leader_name(struct etcd_client *admin, char *buf, size_t size)
{
    struct etcd_kv kv;
    buf[0] = '\0';
    if (etcd_leader(admin, "/aether-test/leader", &kv) == 0) {
        snprintf(buf, size, "%s", kv.value);
        etcd_kv_free(&kv);
    }
}

static void read_line(const char *path, char *buf, size_t size)
{
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (f) {
        if (!fgets(buf, (int)size, f))
            buf[0] = '\0';
        fclose(f);
    }
}

/* 1 when every thread of pid is stopped (state T in /proc/<pid>/task/<tid>/stat). */
static int all_threads_stopped(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (!d)
        return 0;
    int stopped = 1, seen = 0;
    for (struct dirent *e; stopped && (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        char stat[128], buf[512];
        snprintf(stat, sizeof(stat), "%s/%.32s/stat", path, e->d_name);
        read_line(stat, buf, sizeof(buf));
        char *p = strrchr(buf, ')');
        stopped = p && p[1] == ' ' && p[2] == 'T';
        seen++;
    }
    closedir(d);
    return stopped && seen > 0;
}

/* SIGSTOP to pid, then waits until all its threads are stopped: kill() returns before the
 * signal takes effect, and a loaded host may run the target for a while in between. */
static void pause_process(pid_t pid)
{
    kill(pid, SIGSTOP);
    int64_t end = mono_ms() + 20000;
    while (!all_threads_stopped(pid) && mono_ms() < end)
        sleep_ms(5);
    assert_true(all_threads_stopped(pid));
}

/* Waits up to ms for the status file's line to start with want ('0': not the leader). */
static void wait_status(const char *path, char want, char *line, size_t size, int ms)
{
    for (int64_t end = mono_ms() + ms; mono_ms() < end; sleep_ms(50)) {
        read_line(path, line, size);
        if (line[0] == want)
            return;
    }
    read_line(path, line, size);
}

/* Three member processes each run a fenced "actuation" (see member_child.c). The leader is
 * paused with SIGSTOP past its lease TTL: another member leads within TTL + 5 s; once resumed,
 * the old leader's fencing check fails, so it writes no action dated after its pause, and the
 * actions of the two leaders never interleave. */
static void test_paused_leader_is_fenced(void **state)
{
    (void)state;
    start_or_skip(1);
    char actions[320], status[3][320], ttl[16];
    snprintf(actions, sizeof(actions), "%s/actions", fx.root);
    snprintf(ttl, sizeof(ttl), "%d", TTL_MS);
    const char *names[] = {"p0", "p1", "p2"};
    for (int i = 0; i < 3; i++) {
        snprintf(status[i], sizeof(status[i]), "%s/%s.status", fx.root, names[i]);
        children[i] = fork();
        assert_true(children[i] >= 0);
        if (children[i] == 0) {
            execl(AETHER_MEMBER_CHILD, AETHER_MEMBER_CHILD, names[i], ttl, actions, status[i],
                  fx.urls[0], (char *)NULL);
            _exit(127);
        }
    }
    struct etcd_client admin;
    char err[256], leader[64] = "";
    assert_int_equal(etcd_client_init(&admin, fx.urls, 1, 1000, err, sizeof(err)), 0);
    for (int64_t end = mono_ms() + FAILOVER_MS; !leader[0] && mono_ms() < end; sleep_ms(50))
        etcd_leader_name(&admin, leader, sizeof(leader));
    assert_true(leader[0] != '\0');
    int old = leader[1] - '0';
    sleep_ms(700); /* the leader acts a few times */

    /* Dated once every thread is stopped: the child may act until the signal takes effect. */
    int64_t stopped_mono = mono_ms();
    pause_process(children[old]);
    int64_t stopped = wall_ms();
    char now[64] = "";
    while (mono_ms() - stopped_mono < FAILOVER_MS) {
        etcd_leader_name(&admin, now, sizeof(now));
        if (now[0] && strcmp(now, names[old]) != 0)
            break;
        sleep_ms(50);
    }
    print_message("%s paused; %s leads after %lld ms\n", names[old], now[0] ? now : "nobody",
                  (long long)(mono_ms() - stopped_mono));
    assert_true(now[0] && strcmp(now, names[old]) != 0);
    int fresh = now[1] - '0';
    sleep_ms(700);
    kill(children[old], SIGCONT);
    /* the old leader wakes, fails its check and rejoins as a follower (within a round or two;
     * generous for a loaded host) */
    char line[1100];
    wait_status(status[old], '0', line, sizeof(line), FAILOVER_MS);
    print_message("old leader after resuming: %s", line);
    assert_true(line[0] == '0');
    etcd_leader_name(&admin, now, sizeof(now));
    assert_string_equal(now, names[fresh]);

    FILE *f = fopen(actions, "r");
    assert_non_null(f);
    char who[64];
    long long t, old_last = 0, fresh_first = 0;
    int old_n = 0, fresh_n = 0;
    while (fscanf(f, "%63s %lld", who, &t) == 2) {
        if (strcmp(who, names[old]) == 0) {
            old_n++;
            if (t > stopped)
                fail_msg("%s acted at %lld, after its pause at %lld", who, t, (long long)stopped);
            old_last = t;
        } else if (strcmp(who, names[fresh]) == 0) {
            if (!fresh_n++)
                fresh_first = t;
        } else {
            fail_msg("%s acted without ever leading", who);
        }
    }
    fclose(f);
    print_message("actions: %d by the old leader (last %lld ms before its pause), %d by the new "
                  "one (first %lld ms after the pause)\n",
                  old_n, (long long)(stopped - old_last), fresh_n,
                  (long long)(fresh_first - stopped));
    assert_true(old_n > 0);
    assert_true(fresh_n > 0);
    assert_true(old_last < fresh_first);
    for (int i = 0; i < 3; i++) {
        kill(children[i], SIGTERM);
        waitpid(children[i], NULL, 0);
        children[i] = 0;
    }
    etcdfx_stop(&fx);
}

/* POSTs json to path on etcd member 0 with token (NULL: none); returns the HTTP status and
 * copies the body into out. */
static int admin_post(const char *path, const char *json, const char *token, char *out, size_t size)
{
    char url[128], err[224];
    snprintf(url, sizeof(url), "%s%s", fx.urls[0], path);
    struct httpc_response resp;
    assert_int_equal(httpc_post_json(url, json, token, 1 << 16, 2000, &resp, err, sizeof(err)), 0);
    snprintf(out, size, "%s", resp.body ? resp.body : "");
    int status = resp.status;
    httpc_response_free(&resp);
    return status;
}

/* Turns etcd's authentication on with user root / "rootpw" (etcd's gateway, as etcdctl would). */
static void enable_auth(void)
{
    char body[4096];
    assert_int_equal(
        admin_post("/v3/auth/role/add", "{\"name\":\"root\"}", NULL, body, sizeof(body)), 200);
    assert_int_equal(admin_post("/v3/auth/user/add", "{\"name\":\"root\",\"password\":\"rootpw\"}",
                                NULL, body, sizeof(body)),
                     200);
    assert_int_equal(admin_post("/v3/auth/user/grant", "{\"user\":\"root\",\"role\":\"root\"}",
                                NULL, body, sizeof(body)),
                     200);
    assert_int_equal(admin_post("/v3/auth/enable", "{}", NULL, body, sizeof(body)), 200);
}

/* etcd with authentication: a member with the right password leads and publishes; wrong or no
 * credentials are not the leader and say why; a token etcd stops accepting (auth disabled and
 * enabled again) is replaced without losing the leadership. */
static void test_authentication(void **state)
{
    (void)state;
    start_or_skip(1);
    enable_auth();
    struct cluster *good = member_as(1, "node-a", TTL_MS, "root", "rootpw");
    int l = wait_sole_leader(&good, 1, FAILOVER_MS);
    assert_int_equal(l, 0);
    struct cluster *bad = member_as(1, "node-b", TTL_MS, "root", "wrong");
    struct cluster *anon = member(1, "node-c");
    struct cluster_status st;
    for (int64_t end = mono_ms() + FAILOVER_MS; mono_ms() < end; sleep_ms(100)) {
        cluster_status(bad, &st);
        if (strstr(st.why, "authentication failed"))
            break;
    }
    print_message("wrong password: %s\n", st.why);
    assert_false(st.leader);
    assert_non_null(strstr(st.why, "authentication failed"));
    for (int64_t end = mono_ms() + FAILOVER_MS; mono_ms() < end; sleep_ms(100)) {
        cluster_status(anon, &st);
        if (strstr(st.why, "user name is empty"))
            break;
    }
    print_message("no credentials: %s\n", st.why);
    assert_false(st.leader);
    assert_non_null(strstr(st.why, "user name is empty"));
    char why[1024];
    assert_int_equal(cluster_still_leader(good, why, sizeof(why)), 1);

    /* Tokens die with auth disable; the member fetches a new one on the next call. */
    struct etcd_client root;
    char err[256], body[4096];
    assert_int_equal(etcd_client_init(&root, fx.urls, 1, 1000, err, sizeof(err)), 0);
    assert_int_equal(etcd_client_set_auth(&root, "root", "rootpw", err, sizeof(err)), 0);
    assert_int_equal(etcd_authenticate(&root), 0);
    assert_int_equal(admin_post("/v3/auth/disable", "{}", root.token, body, sizeof(body)), 200);
    assert_int_equal(admin_post("/v3/auth/enable", "{}", NULL, body, sizeof(body)), 200);
    /* the old tokens are dead indeed */
    assert_int_not_equal(
        admin_post("/v3/kv/range", "{\"key\":\"YQ==\"}", root.token, body, sizeof(body)), 200);
    assert_non_null(strstr(body, "invalid auth token"));
    int still = cluster_still_leader(good, why, sizeof(why));
    print_message("fencing check right after: %s\n", why);
    assert_int_equal(still, 1);
    cluster_status(good, &st);
    int64_t errors = st.etcd_errors;
    for (int k = 0; k < 6; k++) {
        sleep_ms(TTL_MS / 3);
        cluster_status(good, &st);
        assert_true(st.leader);
        assert_true(st.etcd_reachable);
    }
    print_message("after auth was re-enabled: %s, etcd errors %lld -> %lld\n", st.why,
                  (long long)errors, (long long)st.etcd_errors);
    assert_int_equal(st.etcd_errors, errors);
    stop_member(good);
    stop_member(bad);
    stop_member(anon);
    etcdfx_stop(&fx);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    if (getenv("AETHER_TEST_FILTER")) /* one test only, e.g. to repeat it */
        cmocka_set_test_filter(getenv("AETHER_TEST_FILTER"));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_client_calls, teardown),
        cmocka_unit_test_teardown(test_leader_failover_fencing, teardown),
        cmocka_unit_test_teardown(test_etcd_down_and_back, teardown),
        cmocka_unit_test_teardown(test_three_member_etcd, teardown),
        cmocka_unit_test_teardown(test_minutes_bounded_and_leased, teardown),
        cmocka_unit_test_teardown(test_paused_leader_is_fenced, teardown),
        cmocka_unit_test_teardown(test_authentication, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
