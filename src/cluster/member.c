/* The cluster member runtime (see aether/cluster.h): one thread that, every lease_ttl_ms / 3,
 * keeps the member's lease alive, settles the leadership through etcd's election API, writes
 * what the node queued (closed minutes; recommendations while leading) and reads back the
 * member list and this member's recommendations. Callers only touch the member's state under
 * its mutex; no etcd call is made with the mutex held.
 *
 * The election: a member campaigns only when etcd says nobody leads, with a campaign that gives
 * up after one round (etcd then withdraws the candidacy), so the thread never waits longer
 * than a round and the lease is renewed at least every two rounds. Whether this member leads
 * is read from etcd's leader key every round: it leads when the leader key lives under its
 * lease. */
#include "aether/cluster.h"

#include "aether/error.h"
#include "etcd.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct pending_minute {
    char blueprint[CLUSTER_NAME_MAX];
    struct ae_minute minute;
};

struct cluster {
    /* set by cluster_start, then read-only */
    struct etcd_client proto; /* endpoints and timeout; each thread works on its own copy */
    char name[CLUSTER_NAME_MAX];
    char prefix[CLUSTER_PREFIX_MAX];
    char election[CLUSTER_PREFIX_MAX + 16]; /* <prefix>leader */
    int64_t ttl_s;
    int round_ms;
    pthread_t thread;

    pthread_mutex_t mu; /* guards everything below */
    pthread_cond_t wake;
    int stop;
    struct cluster_status st;
    struct etcd_leader_key lk;     /* valid while st.leader */
    int64_t lease_holds_until;     /* monotonic ms: the lease surely lives until then */
    struct pending_minute *outbox; /* ring of CLUSTER_OUTBOX_MINUTES, allocated at start */
    int out_head, out_count;
    struct cluster_recommendation *recs_out; /* CLUSTER_RECS_MAX, queued by the leader */
    int recs_out_n;
    struct cluster_recommendation *recs_in; /* CLUSTER_RECS_MAX, this member's, read back */
    int recs_in_n;
    struct cluster_exec execs[CLUSTER_EXECS_MAX]; /* exec counts, read back every round */
    int execs_n;
    struct cluster_minute_record *inbox; /* other members' minutes, while leading */
    int inbox_n, inbox_cap;
    long term;                  /* leadership terms begun by this member */
    int64_t minutes_rev;        /* next read of the minutes starts at this revision (0 = all) */
    char token[ETCD_TOKEN_MAX]; /* the thread's latest etcd auth token, for the fencing calls */
};

const char *cluster_reason_text(enum cluster_reason r)
{
    switch (r) {
    case CLUSTER_LEADING:
        return "leading";
    case CLUSTER_STARTING:
        return "starting";
    case CLUSTER_ETCD_UNREACHABLE:
        return "etcd unreachable";
    case CLUSTER_LEASE_LAPSED:
        return "lease lapsed";
    case CLUSTER_OTHER_LEADER:
        return "another member leads";
    case CLUSTER_NO_LEADER:
        return "no leader yet";
    case CLUSTER_STOPPED:
        return "stopped";
    }
    return "unknown";
}

static int64_t now_ms(int clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* [A-Za-z0-9._-]+ (member names) or [a-z0-9-]+ (blueprints, lower = 1), shorter than the max. */
static int good_name(const char *s, int lower)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n >= CLUSTER_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
                 (!lower && ((ch >= 'A' && ch <= 'Z') || ch == '.' || ch == '_'));
        if (!ok)
            return 0;
    }
    return 1;
}

/* ---- state changes (mutex held) ---- */

static void set_role(struct cluster *c, int leader, enum cluster_reason reason, const char *detail)
{
    if (leader != c->st.leader)
        c->st.leader_changes++;
    if (leader && !c->st.leader) { /* a new term: the next read of the minutes is a full one */
        c->term++;
        c->minutes_rev = 0;
        c->inbox_n = 0;
    }
    if (!leader || leader != c->st.leader)
        c->st.peers_read = 0;
    if (!leader)
        c->recs_out_n = 0; /* queued while leading: never written by a member that does not */
    c->st.leader = leader;
    c->st.reason = reason;
    if (detail && *detail)
        snprintf(c->st.why, sizeof(c->st.why), "%s: %s", cluster_reason_text(reason), detail);
    else
        snprintf(c->st.why, sizeof(c->st.why), "%s", cluster_reason_text(reason));
}

/* 1 while the lease surely holds: nobody else can lead before it lapses (mutex held). */
static int lease_holds(const struct cluster *c)
{
    return now_ms(CLOCK_MONOTONIC) < c->lease_holds_until;
}

/* An etcd call failed with rc. AE_ENOENT from a call made under the lease means etcd no longer
 * knows the lease: it lapsed. Otherwise etcd could not answer: a leader keeps leading while its
 * lease surely holds (an etcd member failing over, a slow disk), then it is not the leader until
 * etcd confirms it again. */
static void etcd_failed(struct cluster *c, const struct etcd_client *e, int rc)
{
    pthread_mutex_lock(&c->mu);
    c->st.etcd_errors++;
    snprintf(c->st.etcd_error, sizeof(c->st.etcd_error), "%s", e->last_error);
    if (rc != AE_ENOENT && c->st.leader && lease_holds(c)) {
        c->st.etcd_reachable = 0;
        snprintf(c->st.why, sizeof(c->st.why),
                 "leading (the lease holds for %lld ms more) but etcd unreachable: %.900s",
                 (long long)(c->lease_holds_until - now_ms(CLOCK_MONOTONIC)), e->last_error);
    } else if (rc == AE_ENOENT) {
        c->st.etcd_reachable = 1;
        c->st.lease_id = 0;
        set_role(c, 0, CLUSTER_LEASE_LAPSED, e->last_error);
    } else {
        c->st.etcd_reachable = 0;
        set_role(c, 0, CLUSTER_ETCD_UNREACHABLE, e->last_error);
    }
    if (!c->st.leader)
        c->st.leader_name[0] = '\0';
    pthread_mutex_unlock(&c->mu);
}

/* A grant or renewal sent at sent_ms succeeded: etcd keeps the lease at least ttl_s from when it
 * got the request, which is after sent_ms. Half a round is left as a margin for clock rates. */
static void lease_renewed(struct cluster *c, int64_t sent_ms)
{
    pthread_mutex_lock(&c->mu);
    c->lease_holds_until = sent_ms + c->ttl_s * 1000 - c->round_ms / 2;
    pthread_mutex_unlock(&c->mu);
}

/* ---- one round ---- */

static void member_key(const struct cluster *c, char *buf, size_t size)
{
    snprintf(buf, size, "%smembers/%s", c->prefix, c->name);
}

/* Grants a lease when there is none, else renews it. 0 when the member holds a live lease. */
static int keep_lease(struct cluster *c, struct etcd_client *e, int64_t *lease)
{
    int64_t sent = now_ms(CLOCK_MONOTONIC);
    if (*lease) {
        int64_t ttl = 0;
        int rc = etcd_lease_keepalive(e, *lease, &ttl);
        if (rc == 0) {
            lease_renewed(c, sent);
            return 0;
        }
        etcd_failed(c, e, rc);
        if (rc == AE_ENOENT)
            *lease = 0; /* a new lease next round, so the lapse shows for one round */
        return rc;
    }
    int rc = etcd_lease_grant(e, c->ttl_s, lease);
    if (rc != 0) {
        *lease = 0;
        etcd_failed(c, e, rc == AE_ENOENT ? AE_EIO : rc);
        return rc;
    }
    char key[CLUSTER_PREFIX_MAX + CLUSTER_NAME_MAX + 16];
    member_key(c, key, sizeof(key));
    rc = etcd_put(e, key, c->name, strlen(c->name), *lease);
    if (rc != 0) {
        etcd_failed(c, e, rc);
        return rc;
    }
    lease_renewed(c, sent);
    pthread_mutex_lock(&c->mu);
    c->st.lease_id = *lease;
    pthread_mutex_unlock(&c->mu);
    return 0;
}

/* Reads the election's leader; campaigns when there is none. */
static int settle_leadership(struct cluster *c, struct etcd_client *e, int64_t lease)
{
    struct etcd_kv kv;
    int rc = etcd_leader(e, c->election, &kv);
    if (rc == AE_ENOENT) {
        struct etcd_leader_key lk;
        struct etcd_client camp = *e;
        camp.timeout_ms = c->round_ms;
        rc = etcd_campaign(&camp, c->election, lease, c->name, &lk);
        e->current = camp.current;
        pthread_mutex_lock(&c->mu);
        c->st.etcd_reachable = 1;
        if (rc == 0 && lk.lease == lease) {
            c->lk = lk;
            set_role(c, 1, CLUSTER_LEADING, NULL);
            snprintf(c->st.leader_name, sizeof(c->st.leader_name), "%s", c->name);
        } else {
            /* Lost the race (or the answer): whoever won shows next round. */
            set_role(c, 0, CLUSTER_NO_LEADER, rc ? camp.last_error : NULL);
            c->st.leader_name[0] = '\0';
        }
        pthread_mutex_unlock(&c->mu);
        return 0;
    }
    if (rc != 0) {
        etcd_failed(c, e, rc);
        return rc;
    }
    pthread_mutex_lock(&c->mu);
    c->st.etcd_reachable = 1;
    c->st.etcd_error[0] = '\0';
    if (kv.lease == lease) {
        snprintf(c->lk.name, sizeof(c->lk.name), "%s", c->election);
        snprintf(c->lk.key, sizeof(c->lk.key), "%s", kv.key);
        c->lk.rev = kv.create_revision;
        c->lk.lease = lease;
        set_role(c, 1, CLUSTER_LEADING, NULL);
        snprintf(c->st.leader_name, sizeof(c->st.leader_name), "%s", c->name);
    } else {
        snprintf(c->st.leader_name, sizeof(c->st.leader_name), "%.*s",
                 (int)(kv.value_len < CLUSTER_NAME_MAX ? kv.value_len : CLUSTER_NAME_MAX - 1),
                 kv.value);
        set_role(c, 0, CLUSTER_OTHER_LEADER, c->st.leader_name);
    }
    pthread_mutex_unlock(&c->mu);
    etcd_kv_free(&kv);
    return 0;
}

static void minute_key(const struct cluster *c, const char *node, const char *bp, int64_t start,
                       char *buf, size_t size)
{
    /* 16 zero-padded digits: key order is time order. */
    snprintf(buf, size, "%sminutes/%s/%s/%016lld", c->prefix, node, bp, (long long)start);
}

/* Writes the queued minutes, each followed by trimming that blueprint to the last
 * CLUSTER_MINUTES_KEPT. A failed write stays queued. */
static int flush_minutes(struct cluster *c, struct etcd_client *e, int64_t lease)
{
    for (;;) {
        struct pending_minute p;
        pthread_mutex_lock(&c->mu);
        int have = c->out_count > 0;
        if (have)
            p = c->outbox[c->out_head];
        pthread_mutex_unlock(&c->mu);
        if (!have)
            return 0;
        char key[512], from[512], to[512];
        minute_key(c, c->name, p.blueprint, p.minute.start_ms, key, sizeof(key));
        char *value = cluster_minute_encode(&p.minute);
        int rc = value ? etcd_put(e, key, value, strlen(value), lease) : AE_ENOMEM;
        free(value);
        if (rc == 0) {
            int64_t oldest = p.minute.start_ms - (int64_t)(CLUSTER_MINUTES_KEPT - 1) * 60000;
            snprintf(from, sizeof(from), "%sminutes/%s/%s/", c->prefix, c->name, p.blueprint);
            minute_key(c, c->name, p.blueprint, oldest > 0 ? oldest : 0, to, sizeof(to));
            rc = etcd_delete_range(e, from, to, NULL);
        }
        if (rc != 0) {
            etcd_failed(c, e, rc);
            return rc;
        }
        pthread_mutex_lock(&c->mu);
        /* The entry may have been dropped meanwhile by a full outbox; only pop what was sent. */
        if (c->out_count > 0 && c->outbox[c->out_head].minute.start_ms == p.minute.start_ms &&
            strcmp(c->outbox[c->out_head].blueprint, p.blueprint) == 0) {
            c->out_head = (c->out_head + 1) % CLUSTER_OUTBOX_MINUTES;
            c->out_count--;
        }
        c->st.minutes_published++;
        pthread_mutex_unlock(&c->mu);
    }
}

static void rec_key(const struct cluster *c, const char *node, const char *bp, char *buf,
                    size_t size)
{
    snprintf(buf, size, "%srecommendations/%s/%s", c->prefix, node, bp);
}

/* The leader writes its queued recommendations, each guarded by its election key. */
static int flush_recommendations(struct cluster *c, struct etcd_client *e, int64_t lease)
{
    for (;;) {
        struct cluster_recommendation r;
        struct etcd_leader_key lk;
        pthread_mutex_lock(&c->mu);
        int have = c->recs_out_n > 0 && c->st.leader;
        if (have) {
            r = c->recs_out[0];
            lk = c->lk;
        }
        pthread_mutex_unlock(&c->mu);
        if (!have)
            return 0;
        snprintf(r.leader, sizeof(r.leader), "%s", c->name);
        char key[512];
        rec_key(c, r.node, r.blueprint, key, sizeof(key));
        char *value = cluster_recommendation_encode(&r);
        int ok = 0;
        int rc = value ? etcd_txn_put_if_created(e, lk.key, lk.rev, key, value, strlen(value),
                                                 lease, &ok)
                       : AE_ENOMEM;
        free(value);
        if (rc != 0) {
            etcd_failed(c, e, rc);
            return rc;
        }
        pthread_mutex_lock(&c->mu);
        if (!ok)
            set_role(c, 0, CLUSTER_NO_LEADER, "the election key is gone");
        /* Pop it unless a newer one for the same pair replaced it meanwhile. */
        if (c->recs_out_n > 0 && c->recs_out[0].issued_ms == r.issued_ms &&
            strcmp(c->recs_out[0].node, r.node) == 0 &&
            strcmp(c->recs_out[0].blueprint, r.blueprint) == 0) {
            memmove(&c->recs_out[0], &c->recs_out[1],
                    (size_t)(c->recs_out_n - 1) * sizeof(c->recs_out[0]));
            c->recs_out_n--;
        }
        pthread_mutex_unlock(&c->mu);
    }
}

/* The pairs under <prefix><sub> modified at revision since or later (0: all); a failure is
 * recorded (etcd_failed). */
static int range_under(struct cluster *c, struct etcd_client *e, const char *sub, int64_t since,
                       struct etcd_kv **kvs, int *n)
{
    char key[CLUSTER_PREFIX_MAX + CLUSTER_NAME_MAX + 32];
    snprintf(key, sizeof(key), "%s%s", c->prefix, sub);
    int rc = etcd_range_since(e, key, 1, since, kvs, n);
    if (rc != 0)
        etcd_failed(c, e, rc);
    return rc;
}

/* Reads the exec counts the leaders recorded. */
static int refresh_execs(struct cluster *c, struct etcd_client *e)
{
    struct etcd_kv *kvs;
    int n;
    int rc = range_under(c, e, "exec/", 0, &kvs, &n);
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&c->mu);
    c->execs_n = 0;
    for (int i = 0; i < n && c->execs_n < CLUSTER_EXECS_MAX; i++) {
        char why[160];
        if (cluster_exec_decode(kvs[i].value, kvs[i].value_len, &c->execs[c->execs_n], why,
                                sizeof(why)) == 0)
            c->execs_n++;
    }
    pthread_mutex_unlock(&c->mu);
    etcd_kvs_free(kvs, n);
    return 0;
}

/* Appends the decoded minutes of other members to the inbox (mutex held). */
static void inbox_add(struct cluster *c, const struct cluster_minute_record *recs, int n)
{
    if (c->inbox_n + n > c->inbox_cap) {
        int cap = c->inbox_n + n < CLUSTER_INBOX_MINUTES ? c->inbox_n + n : CLUSTER_INBOX_MINUTES;
        struct cluster_minute_record *grown =
            cap > c->inbox_cap ? realloc(c->inbox, (size_t)cap * sizeof(*grown)) : c->inbox;
        if (grown) {
            c->inbox = grown;
            c->inbox_cap = cap;
        }
    }
    for (int i = 0; i < n && c->inbox_n < c->inbox_cap; i++)
        if (strcmp(recs[i].node, c->name) != 0)
            c->inbox[c->inbox_n++] = recs[i];
}

static int decode_minutes(const struct cluster *c, const struct etcd_kv *kvs, int count,
                          struct cluster_minute_record **out, int *skipped);

/* The leader reads the minutes written since its last read (all of them in a new term). */
static int read_peer_minutes(struct cluster *c, struct etcd_client *e)
{
    pthread_mutex_lock(&c->mu);
    int leading = c->st.leader;
    int64_t since = c->minutes_rev;
    long term = c->term;
    pthread_mutex_unlock(&c->mu);
    if (!leading)
        return 0;
    struct etcd_kv *kvs;
    int count;
    int rc = range_under(c, e, "minutes/", since, &kvs, &count);
    if (rc != 0)
        return rc;
    int64_t newest = since - 1;
    for (int i = 0; i < count; i++)
        newest = kvs[i].mod_revision > newest ? kvs[i].mod_revision : newest;
    struct cluster_minute_record *recs = NULL;
    int n = decode_minutes(c, kvs, count, &recs, NULL);
    etcd_kvs_free(kvs, count);
    pthread_mutex_lock(&c->mu);
    if (term == c->term && n >= 0) { /* not a read of a term that ended meanwhile */
        inbox_add(c, recs, n);
        c->minutes_rev = newest + 1;
        c->st.peers_read = c->st.leader;
    }
    pthread_mutex_unlock(&c->mu);
    free(recs);
    return n < 0 ? n : 0;
}

/* Reads the member list and this member's recommendations. */
static int refresh(struct cluster *c, struct etcd_client *e)
{
    struct etcd_kv *kvs;
    int n;
    int rc = range_under(c, e, "members/", 0, &kvs, &n);
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&c->mu);
    c->st.member_count = 0;
    for (int i = 0; i < n && c->st.member_count < CLUSTER_MEMBERS_MAX; i++)
        if (kvs[i].value_len > 0 && kvs[i].value_len < CLUSTER_NAME_MAX)
            memcpy(c->st.members[c->st.member_count++], kvs[i].value, kvs[i].value_len + 1);
    pthread_mutex_unlock(&c->mu);
    etcd_kvs_free(kvs, n);

    char sub[CLUSTER_NAME_MAX + 32];
    snprintf(sub, sizeof(sub), "recommendations/%s/", c->name);
    rc = range_under(c, e, sub, 0, &kvs, &n);
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&c->mu);
    c->recs_in_n = 0;
    for (int i = 0; i < n && c->recs_in_n < CLUSTER_RECS_MAX; i++) {
        char why[160];
        if (cluster_recommendation_decode(kvs[i].value, kvs[i].value_len, &c->recs_in[c->recs_in_n],
                                          why, sizeof(why)) == 0)
            c->recs_in_n++;
    }
    pthread_mutex_unlock(&c->mu);
    etcd_kvs_free(kvs, n);
    return 0;
}

static void round_with_etcd(struct cluster *c, struct etcd_client *e, int64_t *lease)
{
    if (keep_lease(c, e, lease) != 0)
        return;
    int rc = settle_leadership(c, e, *lease);
    if (!rc) /* before peers_read is set: a new leader's exec runs wait for the counts */
        rc = refresh_execs(c, e);
    if (!rc) /* first: a new leader's forecasts wait for it */
        rc = read_peer_minutes(c, e);
    if (!rc)
        rc = flush_minutes(c, e, *lease);
    if (!rc)
        rc = flush_recommendations(c, e, *lease);
    if (!rc)
        rc = refresh(c, e);
    if (rc == AE_ENOENT)
        *lease = 0; /* a write under the lease found it gone (etcd_failed said so) */
}

static void *member_main(void *arg)
{
    struct cluster *c = arg;
    struct etcd_client e = c->proto;
    int64_t lease = 0;
    for (;;) {
        int64_t started = now_ms(CLOCK_MONOTONIC);
        round_with_etcd(c, &e, &lease);
        pthread_mutex_lock(&c->mu);
        memcpy(c->token, e.token, sizeof(c->token));
        int64_t wake_at = started + c->round_ms;
        while (!c->stop) {
            int64_t left = wake_at - now_ms(CLOCK_MONOTONIC);
            if (left <= 0)
                break;
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            ts.tv_sec += left / 1000;
            ts.tv_nsec += (left % 1000) * 1000000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&c->wake, &c->mu, &ts);
        }
        int stop = c->stop;
        int was_leader = c->st.leader;
        struct etcd_leader_key lk = c->lk;
        pthread_mutex_unlock(&c->mu);
        if (stop) {
            /* Hand over at once instead of letting the others wait out the lease. */
            if (was_leader)
                etcd_resign(&e, &lk);
            if (lease)
                etcd_lease_revoke(&e, lease);
            return NULL;
        }
    }
}

/* ---- the caller's side ---- */

/* What cluster_start set up, once its thread is gone (or was never started). */
static void member_free(struct cluster *c)
{
    pthread_cond_destroy(&c->wake);
    pthread_mutex_destroy(&c->mu);
    free(c->outbox);
    free(c->recs_out);
    free(c->recs_in);
    free(c->inbox);
    free(c);
}

int cluster_start(const struct cluster_options *o, struct cluster **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!good_name(o->name, 0)) {
        snprintf(err, errlen,
                 "cluster.name = \"%s\" is not a name of 1..%d characters of [A-Za-z0-9._-]",
                 o->name ? o->name : "", CLUSTER_NAME_MAX - 1);
        return AE_EINVAL;
    }
    size_t plen = o->prefix ? strlen(o->prefix) : 0;
    if (plen < 2 || plen >= CLUSTER_PREFIX_MAX || o->prefix[plen - 1] != '/') {
        snprintf(err, errlen, "cluster.prefix = \"%s\" must be 2..%d characters ending with '/'",
                 o->prefix ? o->prefix : "", CLUSTER_PREFIX_MAX - 1);
        return AE_EINVAL;
    }
    if (o->lease_ttl_ms < 2000 || o->lease_ttl_ms > 3600000) {
        snprintf(err, errlen, "cluster.lease_ttl_ms = %d is out of range 2000..3600000",
                 o->lease_ttl_ms);
        return AE_ERANGE;
    }
    struct cluster *c = calloc(1, sizeof(*c));
    if (!c)
        return AE_ENOMEM;
    int timeout = o->request_timeout_ms;
    if (timeout <= 0) {
        timeout = o->lease_ttl_ms / 6;
        timeout = timeout < 200 ? 200 : timeout > 2000 ? 2000 : timeout;
    }
    int rc =
        etcd_client_init(&c->proto, o->etcd_endpoints, o->endpoint_count, timeout, err, errlen);
    if (rc == 0 && o->username && o->username[0])
        rc = etcd_client_set_auth(&c->proto, o->username, o->password ? o->password : "", err,
                                  errlen);
    if (rc != 0) {
        free(c);
        return rc;
    }
    c->outbox = calloc(CLUSTER_OUTBOX_MINUTES, sizeof(*c->outbox));
    c->recs_out = calloc(CLUSTER_RECS_MAX, sizeof(*c->recs_out));
    c->recs_in = calloc(CLUSTER_RECS_MAX, sizeof(*c->recs_in));
    if (!c->outbox || !c->recs_out || !c->recs_in) {
        free(c->outbox);
        free(c->recs_out);
        free(c->recs_in);
        free(c);
        return AE_ENOMEM;
    }
    snprintf(c->name, sizeof(c->name), "%s", o->name);
    snprintf(c->prefix, sizeof(c->prefix), "%s", o->prefix);
    snprintf(c->election, sizeof(c->election), "%sleader", o->prefix);
    c->ttl_s = (o->lease_ttl_ms + 999) / 1000;
    c->round_ms = o->lease_ttl_ms / 3;
    c->st.reason = CLUSTER_STARTING;
    snprintf(c->st.why, sizeof(c->st.why), "%s", cluster_reason_text(CLUSTER_STARTING));
    pthread_mutex_init(&c->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->wake, &ca);
    pthread_condattr_destroy(&ca);
    rc = pthread_create(&c->thread, NULL, member_main, c);
    if (rc != 0) {
        snprintf(err, errlen, "cluster: cannot start its thread: %s", strerror(rc));
        member_free(c);
        return AE_ENOMEM;
    }
    *out = c;
    return 0;
}

void cluster_stop(struct cluster *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    c->stop = 1;
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL);
    member_free(c);
}

void cluster_status(struct cluster *c, struct cluster_status *out)
{
    pthread_mutex_lock(&c->mu);
    *out = c->st;
    if (out->leader && !lease_holds(c)) {
        /* The thread has not noticed yet (it waits on etcd, or the process was paused). */
        out->leader = 0;
        out->reason = out->etcd_reachable ? CLUSTER_LEASE_LAPSED : CLUSTER_ETCD_UNREACHABLE;
        if (out->etcd_reachable)
            snprintf(out->why, sizeof(out->why), "lease lapsed: not renewed within its TTL");
        else
            snprintf(out->why, sizeof(out->why), "etcd unreachable: %.900s", out->etcd_error);
    }
    if (c->stop) {
        out->leader = 0;
        out->reason = CLUSTER_STOPPED;
        snprintf(out->why, sizeof(out->why), "%s", cluster_reason_text(CLUSTER_STOPPED));
    }
    pthread_mutex_unlock(&c->mu);
}

int cluster_publish_minute(struct cluster *c, const char *blueprint, const struct ae_minute *m)
{
    if (!good_name(blueprint, 1) || m->start_ms < 0 || m->start_ms % 60000 != 0)
        return AE_EINVAL;
    pthread_mutex_lock(&c->mu);
    if (c->out_count == CLUSTER_OUTBOX_MINUTES) {
        c->out_head = (c->out_head + 1) % CLUSTER_OUTBOX_MINUTES;
        c->out_count--;
        c->st.minutes_dropped++;
    }
    struct pending_minute *p = &c->outbox[(c->out_head + c->out_count) % CLUSTER_OUTBOX_MINUTES];
    snprintf(p->blueprint, sizeof(p->blueprint), "%s", blueprint);
    p->minute = *m;
    c->out_count++;
    pthread_mutex_unlock(&c->mu);
    return 0;
}

int cluster_publish_recommendation(struct cluster *c, const struct cluster_recommendation *r)
{
    if (!good_name(r->node, 0) || !good_name(r->blueprint, 1) || r->floor < 0 ||
        r->ceiling < r->floor)
        return AE_EINVAL;
    pthread_mutex_lock(&c->mu);
    if (!c->st.leader || !lease_holds(c) || c->stop) {
        pthread_mutex_unlock(&c->mu);
        return AE_ESTATE;
    }
    int i = 0;
    while (i < c->recs_out_n && (strcmp(c->recs_out[i].node, r->node) != 0 ||
                                 strcmp(c->recs_out[i].blueprint, r->blueprint) != 0))
        i++;
    int rc = 0;
    if (i < c->recs_out_n)
        c->recs_out[i] = *r;
    else if (c->recs_out_n < CLUSTER_RECS_MAX)
        c->recs_out[c->recs_out_n++] = *r;
    else
        rc = AE_ENOMEM;
    pthread_mutex_unlock(&c->mu);
    return rc;
}

int cluster_recommendation_get(struct cluster *c, const char *blueprint,
                               struct cluster_recommendation *out)
{
    int rc = AE_ENOENT;
    pthread_mutex_lock(&c->mu);
    for (int i = 0; i < c->recs_in_n; i++)
        if (strcmp(c->recs_in[i].blueprint, blueprint) == 0) {
            *out = c->recs_in[i];
            rc = 0;
        }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

/* The fencing transaction: succeeds only while this member's election key exists at the
 * revision it was elected with; puts key = value (key NULL: nothing) when it does. */
static int fenced_put(struct cluster *c, const char *key, const char *value, char *why,
                      size_t whylen)
{
    struct cluster_status st;
    cluster_status(c, &st);
    if (!st.leader) {
        snprintf(why, whylen, "not the leader: %s", st.why);
        return 0;
    }
    struct etcd_client e = c->proto;
    pthread_mutex_lock(&c->mu);
    struct etcd_leader_key lk = c->lk;
    memcpy(e.token, c->token, sizeof(e.token));
    pthread_mutex_unlock(&c->mu);
    int ok = 0;
    int rc =
        etcd_txn_put_if_created(&e, lk.key, lk.rev, key, value, value ? strlen(value) : 0, 0, &ok);
    if (rc != 0) {
        snprintf(why, whylen, "etcd unreachable: %s", e.last_error);
        return 0;
    }
    if (!ok) {
        snprintf(why, whylen,
                 "election key %s is gone or was created again (not at revision "
                 "%lld): the leadership was lost",
                 lk.key, (long long)lk.rev);
        pthread_mutex_lock(&c->mu); /* proven lost: not the leader from now on */
        if (c->st.leader && c->lk.rev == lk.rev && strcmp(c->lk.key, lk.key) == 0) {
            set_role(c, 0, CLUSTER_NO_LEADER, "the election key is gone");
            c->st.leader_name[0] = '\0';
        }
        pthread_mutex_unlock(&c->mu);
        return 0;
    }
    snprintf(why, whylen, "leading");
    return 1;
}

int cluster_still_leader(struct cluster *c, char *why, size_t whylen)
{
    return fenced_put(c, NULL, NULL, why, whylen);
}

int cluster_fence_exec(struct cluster *c, const char *blueprint, int count, char *why,
                       size_t whylen)
{
    if (!good_name(blueprint, 1) || count < 0) {
        snprintf(why, whylen, "bad exec record: blueprint \"%s\", count %d",
                 blueprint ? blueprint : "", count);
        return 0;
    }
    struct cluster_exec x = {.count = count, .issued_ms = now_ms(CLOCK_REALTIME)};
    snprintf(x.blueprint, sizeof(x.blueprint), "%s", blueprint);
    snprintf(x.leader, sizeof(x.leader), "%s", c->name);
    char key[CLUSTER_PREFIX_MAX + CLUSTER_NAME_MAX + 16];
    snprintf(key, sizeof(key), "%sexec/%s", c->prefix, blueprint);
    char *value = cluster_exec_encode(&x);
    if (!value) {
        snprintf(why, whylen, "out of memory");
        return 0;
    }
    int ok = fenced_put(c, key, value, why, whylen);
    free(value);
    if (ok) { /* known at once, before the next round reads it back */
        pthread_mutex_lock(&c->mu);
        int i = 0;
        while (i < c->execs_n && strcmp(c->execs[i].blueprint, blueprint) != 0)
            i++;
        if (i < CLUSTER_EXECS_MAX) {
            c->execs[i] = x;
            c->execs_n += i == c->execs_n;
        }
        pthread_mutex_unlock(&c->mu);
    }
    return ok;
}

int cluster_exec_get(struct cluster *c, const char *blueprint, struct cluster_exec *out)
{
    int rc = AE_ENOENT;
    pthread_mutex_lock(&c->mu);
    for (int i = 0; i < c->execs_n && rc; i++)
        if (strcmp(c->execs[i].blueprint, blueprint) == 0) {
            *out = c->execs[i];
            rc = 0;
        }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

int cluster_take_peer_minutes(struct cluster *c, struct cluster_minute_record **out, int *n,
                              long *term)
{
    *out = NULL;
    *n = 0;
    pthread_mutex_lock(&c->mu);
    *term = c->term;
    int rc = 0;
    if (c->inbox_n > 0) {
        *out = malloc((size_t)c->inbox_n * sizeof(**out));
        if (*out) {
            memcpy(*out, c->inbox, (size_t)c->inbox_n * sizeof(**out));
            *n = c->inbox_n;
            c->inbox_n = 0;
        } else {
            rc = AE_ENOMEM;
        }
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

/* Splits "<prefix>minutes/<node>/<blueprint>/<minute>" into r's names. */
static int split_minute_key(const struct cluster *c, const char *key,
                            struct cluster_minute_record *r)
{
    char base[CLUSTER_PREFIX_MAX + 16];
    snprintf(base, sizeof(base), "%sminutes/", c->prefix);
    if (strncmp(key, base, strlen(base)) != 0)
        return -1;
    const char *node = key + strlen(base), *slash = strchr(node, '/');
    if (!slash || slash == node || (size_t)(slash - node) >= sizeof(r->node))
        return -1;
    const char *bp = slash + 1, *slash2 = strchr(bp, '/');
    if (!slash2 || slash2 == bp || (size_t)(slash2 - bp) >= sizeof(r->blueprint))
        return -1;
    memcpy(r->node, node, (size_t)(slash - node));
    r->node[slash - node] = '\0';
    memcpy(r->blueprint, bp, (size_t)(slash2 - bp));
    r->blueprint[slash2 - bp] = '\0';
    return 0;
}

/* Decodes minute pairs into a new array (*out; NULL when none); returns how many, or AE_ENOMEM.
 * A pair that does not decode is skipped and counted in *skipped (may be NULL). */
static int decode_minutes(const struct cluster *c, const struct etcd_kv *kvs, int count,
                          struct cluster_minute_record **out, int *skipped)
{
    *out = NULL;
    struct cluster_minute_record *recs = count ? calloc((size_t)count, sizeof(*recs)) : NULL;
    if (count && !recs)
        return AE_ENOMEM;
    int k = 0, skip = 0;
    for (int i = 0; i < count; i++) {
        char why[160];
        if (split_minute_key(c, kvs[i].key, &recs[k]) != 0 ||
            cluster_minute_decode(kvs[i].value, kvs[i].value_len, &recs[k].minute, why,
                                  sizeof(why)) != 0)
            skip++;
        else
            k++;
    }
    if (k == 0) {
        free(recs);
        recs = NULL;
    }
    *out = recs;
    if (skipped)
        *skipped = skip;
    return k;
}

int cluster_read_minutes(struct cluster *c, struct cluster_minute_record **out, int *n,
                         int *skipped, char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    if (skipped)
        *skipped = 0;
    struct etcd_client e = c->proto;
    char key[CLUSTER_PREFIX_MAX + 16];
    snprintf(key, sizeof(key), "%sminutes/", c->prefix);
    struct etcd_kv *kvs;
    int count;
    int rc = etcd_range(&e, key, 1, &kvs, &count);
    if (rc != 0) {
        snprintf(err, errlen, "%s", e.last_error);
        return rc;
    }
    int k = decode_minutes(c, kvs, count, out, skipped);
    etcd_kvs_free(kvs, count);
    if (k < 0) {
        snprintf(err, errlen, "out of memory for %d minutes", count);
        return k;
    }
    *n = k;
    return 0;
}
