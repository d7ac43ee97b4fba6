/* Cluster member runtime: one node's seat in an Aether cluster coordinated by etcd.
 *
 * A member keeps an etcd lease alive, campaigns in etcd's election for the cluster's
 * leadership, and knows at every moment whether it leads and, when not, why (etcd unreachable,
 * lease lapsed, another member leads). Around that it carries the data a cluster shares: each
 * member's closed minutes per blueprint (the last CLUSTER_MINUTES_KEPT under its lease, so a new
 * leader rebuilds its forecast windows without a cold start), the leader's recommendations
 * (floor and ceiling per node and blueprint, with their time), and the member list. The keys it
 * writes are laid out in docs/cluster.md.
 *
 * Threads: cluster_start runs one thread of the member's own that does every routine etcd call
 * (every lease_ttl_ms / 3). cluster_status, cluster_publish_minute,
 * cluster_publish_recommendation and cluster_recommendation_get never wait for etcd: they copy
 * into or out of the member under a mutex and may be called from any thread. Two calls do talk
 * to etcd on the caller's thread and block for at most the request timeout per endpoint:
 * cluster_still_leader (the fencing check before an actuation) and cluster_read_minutes (a new
 * leader's one-off read of the history).
 *
 * Errors are values (aether/error.h) with the message in the caller's buffer. */
#ifndef AETHER_CLUSTER_H
#define AETHER_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include "aether/snapshot.h"

#define CLUSTER_NAME_MAX 64         /* member and blueprint names, incl. the NUL */
#define CLUSTER_PREFIX_MAX 128      /* key prefix, incl. the NUL */
#define CLUSTER_MEMBERS_MAX 32      /* members listed in a status */
#define CLUSTER_RECS_MAX 256        /* recommendations held (per member: sent and received) */
#define CLUSTER_OUTBOX_MINUTES 1024 /* closed minutes waiting to be published */
#define CLUSTER_MINUTES_KEPT 120    /* per member and blueprint, in etcd */
#define CLUSTER_WHY_MAX 1024
#define CLUSTER_INBOX_MINUTES 16384 /* other members' minutes read, for the leader's node */
#define CLUSTER_EXECS_MAX 64        /* exec counts read back (one per blueprint) */

struct cluster_options {
    const char *const *etcd_endpoints; /* http:// URLs, 1..8; borrowed during cluster_start */
    int endpoint_count;
    const char *name;       /* this member, [A-Za-z0-9._-]+, unique in the cluster */
    const char *prefix;     /* every key starts with it, e.g. "/aether/"; must end with '/' */
    int lease_ttl_ms;       /* 2000..3600000; etcd counts in seconds, so rounded up to one */
    int request_timeout_ms; /* per etcd request and endpoint; 0 = lease_ttl_ms / 6, 200..2000 */
    const char *username;   /* etcd user to authenticate as; NULL or "" = no authentication */
    const char *password;   /* its password (copied) */
};

/* Why a member is or is not the leader. */
enum cluster_reason {
    CLUSTER_LEADING,          /* this member leads */
    CLUSTER_STARTING,         /* no round with etcd finished yet */
    CLUSTER_ETCD_UNREACHABLE, /* no endpoint answered (or etcd answered with an error) */
    CLUSTER_LEASE_LAPSED,     /* etcd says the member's lease expired; a new one is taken */
    CLUSTER_OTHER_LEADER,     /* another member leads */
    CLUSTER_NO_LEADER,        /* nobody leads: the election is being decided */
    CLUSTER_STOPPED,          /* cluster_stop was called */
};

/* "leading", "starting", "etcd unreachable", "lease lapsed", "another member leads",
 * "no leader yet", "stopped"; static storage. */
const char *cluster_reason_text(enum cluster_reason r);

struct cluster_status {
    int leader; /* 1 = this member leads: etcd said so in a round, and the lease renewed since
                 * surely holds (through etcd failures, until TTL - half a round after the
                 * last renewal was sent) */
    enum cluster_reason reason;
    char why[CLUSTER_WHY_MAX];          /* reason in words with the detail, e.g. "etcd unreachable:
                                         * etcd /v3/lease/keepalive: http://...: cannot connect: ..." */
    char leader_name[CLUSTER_NAME_MAX]; /* "" when unknown */
    int etcd_reachable;                 /* the last round with etcd succeeded */
    char etcd_error[CLUSTER_WHY_MAX];   /* the last etcd failure, "" when none since */
    int64_t lease_id;                   /* 0 = none */
    int64_t leader_changes;             /* times this member gained or lost the leadership */
    int64_t etcd_errors;                /* failed etcd calls */
    int64_t minutes_published;          /* closed minutes written to etcd */
    int64_t minutes_dropped;            /* closed minutes dropped from a full outbox */
    int peers_read;   /* leading, and the exec counts and the other members' minutes were read
                       * in full for this term (cluster_take_peer_minutes has them) */
    int member_count; /* members with a live lease, in name order */
    char members[CLUSTER_MEMBERS_MAX][CLUSTER_NAME_MAX];
};

/* A floor and ceiling the leader's forecaster set for one node's blueprint. */
struct cluster_recommendation {
    char node[CLUSTER_NAME_MAX]; /* the member that applies it */
    char blueprint[CLUSTER_NAME_MAX];
    int floor, ceiling;            /* instances */
    int64_t issued_ms;             /* Unix ms the leader computed it */
    int64_t expires_ms;            /* Unix ms after which it no longer applies */
    char leader[CLUSTER_NAME_MAX]; /* who published it (filled by the runtime) */
};

/* One closed minute of one member's blueprint, as read back from etcd. */
struct cluster_minute_record {
    char node[CLUSTER_NAME_MAX];
    char blueprint[CLUSTER_NAME_MAX];
    struct ae_minute minute;
};

/* The count the leader last asked a cluster-level (exec) actuator for, recorded in etcd by the
 * fencing transaction that let it run (so a new leader continues from it). */
struct cluster_exec {
    char blueprint[CLUSTER_NAME_MAX];
    int count;
    char leader[CLUSTER_NAME_MAX]; /* the member that ran it */
    int64_t issued_ms;             /* Unix ms of the fencing transaction */
};

struct cluster;

/* Validates o and starts the member's thread (it contacts etcd only from there: an unreachable
 * etcd is not an error here). Returns 0 with *out (free with cluster_stop), or AE_EINVAL /
 * AE_ERANGE with a message naming the option and value, or AE_ENOMEM. */
int cluster_start(const struct cluster_options *o, struct cluster **out, char *err, size_t errlen);

/* Stops the thread, gives up the leadership and revokes the lease (so the others need not
 * wait for it to lapse; best effort, bounded by the request timeout), frees c. NULL is fine. */
void cluster_stop(struct cluster *c);

/* Copies the member's current state into *out. */
void cluster_status(struct cluster *c, struct cluster_status *out);

/* Queues a closed minute of blueprint ([a-z0-9-]+) for publishing under
 * minutes/<member>/<blueprint>/<minute>; the oldest queued minute is dropped (and counted) when
 * the outbox is full. Returns 0 or AE_EINVAL (bad blueprint name, minute not on a minute). */
int cluster_publish_minute(struct cluster *c, const char *blueprint, const struct ae_minute *m);

/* Queues a recommendation for r->node's r->blueprint (replacing a queued one for the same
 * pair). It is written only while this member leads, in a transaction guarded by its election
 * key, under its lease (so it vanishes with the lease); the queue is emptied when the member
 * stops leading. Returns 0, AE_ESTATE (this member does not lead now), AE_EINVAL (bad names,
 * ceiling below floor), or AE_ENOMEM (CLUSTER_RECS_MAX pairs queued). */
int cluster_publish_recommendation(struct cluster *c, const struct cluster_recommendation *r);

/* The latest recommendation for this member's blueprint read from etcd (refreshed every round).
 * Returns 0 with *out, or AE_ENOENT when there is none. Expiry is the caller's to judge
 * (expires_ms against its clock). */
int cluster_recommendation_get(struct cluster *c, const char *blueprint,
                               struct cluster_recommendation *out);

/* Fencing: asks etcd, in a transaction, whether this member's election key still exists at the
 * revision it was elected with. Returns 1 when it does (this member still leads), 0 when not or
 * when etcd cannot say, with why in the buffer ("not the leader: another member leads",
 * "election key ... is gone", "etcd unreachable: ..."). Blocks (see above). */
int cluster_still_leader(struct cluster *c, char *why, size_t whylen);

/* Fencing and record in one etcd transaction, for a cluster-level actuator about to run for
 * blueprint with count instances: if this member's election key still exists at the revision
 * it was elected with, writes exec/<blueprint> = {count, leader, issued_ms} (under no lease: it
 * outlives the leader). Returns 1 when it did (run the command), 0 when not or when etcd cannot
 * say, with why in the buffer (as cluster_still_leader). Blocks (see above): call it off the
 * node's lock (the actuator's thread does). */
int cluster_fence_exec(struct cluster *c, const char *blueprint, int count, char *why,
                       size_t whylen);

/* The count last recorded by cluster_fence_exec for blueprint by any member (read every round).
 * Returns 0 with *out, or AE_ENOENT when none is known. */
int cluster_exec_get(struct cluster *c, const char *blueprint, struct cluster_exec *out);

/* While this member leads, its thread reads the minutes the other members publish: all of them
 * in the first round of a leadership term, then those written since (by etcd revision). This
 * hands them over (ordered by member, blueprint, minute within one read) and empties the inbox;
 * never waits for etcd. *term counts the terms this member led: when it differs from the last
 * call's, the minutes are a full read for a new term. Returns 0 with *out (n records, free()
 * them; NULL when none) or AE_ENOMEM. Past CLUSTER_INBOX_MINUTES unread records the newest are
 * dropped until the next full read. */
int cluster_take_peer_minutes(struct cluster *c, struct cluster_minute_record **out, int *n,
                              long *term);

/* Reads every member's published minutes (ordered by member, blueprint, minute). Returns 0 with
 * *out (n records; the caller frees it with free(); NULL when none), or AE_EIO / AE_EPARSE with
 * a message. A record that does not decode is skipped and counted in *skipped (may be NULL).
 * Blocks (see above). */
int cluster_read_minutes(struct cluster *c, struct cluster_minute_record **out, int *n,
                         int *skipped, char *err, size_t errlen);

/* ---- the values stored in etcd (records.c) ---- */

/* A minute as JSON (a missing feature, or one that is not finite, is null); returns a string
 * the caller frees with free(), or NULL when out of memory. */
char *cluster_minute_encode(const struct ae_minute *m);
/* Parses what cluster_minute_encode wrote. 0, or AE_EPARSE with the field named in err. */
int cluster_minute_decode(const char *text, size_t len, struct ae_minute *m, char *err,
                          size_t errlen);
char *cluster_recommendation_encode(const struct cluster_recommendation *r);
int cluster_recommendation_decode(const char *text, size_t len, struct cluster_recommendation *r,
                                  char *err, size_t errlen);
char *cluster_exec_encode(const struct cluster_exec *x);
int cluster_exec_decode(const char *text, size_t len, struct cluster_exec *x, char *err,
                        size_t errlen);

#endif
