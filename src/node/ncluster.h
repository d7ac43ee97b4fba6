/* The node's side of cluster mode (docs/cluster.md): starting its cluster member from [cluster],
 * reading the leader's recommendation for a blueprint into the control step's input, the
 * leader's forecasts for every other member from their published minutes (npeers.h), the
 * fencing gate before a cluster-level (exec) actuation and the count it stands at. The member
 * runtime itself is include/aether/cluster.h. */
#ifndef AETHER_NODE_NCLUSTER_H
#define AETHER_NODE_NCLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include "aether/cluster.h"
#include "aether/config.h"
#include "aether/scaler.h"
#include "npeers.h"

/* The member's name: [cluster] name, else node.id, else the host name. Writes at most len bytes
 * (NUL included) into out. */
void nclu_member_name(const struct ae_config *cfg, char *out, size_t len);

/* Starts the member when [cluster] etcd_endpoints is non-empty (*out = NULL when it is empty:
 * a single node). Returns 0, or the cluster_start error with its message in err. */
int nclu_open(const struct ae_config *cfg, struct cluster **out, char *err, size_t errlen);

/* Fills in's remote recommendation with the leader's one for blueprint when there is one that
 * has not expired at now_ms (has_remote = 0 otherwise). */
void nclu_follow(struct cluster *c, const char *blueprint, int64_t now_ms, struct scl_input *in);

/* Queues the minutes the node already holds for blueprint (reloaded from its history at start),
 * so a leader forecasts for this member from its first evaluation. Returns how many. */
int nclu_publish_history(struct cluster *c, const char *blueprint, const agg *history);

/* On the leader, before its TTM evaluation: moves the other members' minutes the member read
 * from etcd into their windows (all of them again when a new leadership term began: *term is
 * the term the windows belong to). Returns how many minutes were added, or a negative AE_E*
 * code with a message. */
int nclu_sync_peers(struct cluster *c, struct npeers *p, long *term, char *err, size_t errlen);

/* On the leader, after its TTM evaluation at now_ms: one batched evaluation of the other
 * members' windows, and for every member listed in st whose window forecast, its own
 * floor/ceiling queued for it, expiring 2 x [ttm] evaluation_interval_ms after now_ms. No
 * ceiling (0) travels as the blueprint's max_instances, which never lowers a count. Returns how
 * many were queued. */
int nclu_publish(struct cluster *c, const struct cluster_status *st, struct npeers *p,
                 const struct ae_config *cfg, int64_t now_ms);

/* The fencing gate of a cluster-level (exec) actuator (actuator_gate_fn, ctx = the member): runs
 * on the actuator's thread, so the etcd transaction never holds the node's lock. */
int nclu_exec_gate(void *ctx, const char *blueprint, int count, char *why, size_t whylen);

/* The count a cluster-level actuator stands at, as the leaders recorded it in etcd: a follower
 * always takes it (so whoever leads next starts from it); a leader takes a record only when
 * another member wrote it and it is newer than *adopted_ms (the one taken last), i.e. once after
 * a failover. Returns 1 with *count when the blueprint's requested count should become it. */
int nclu_exec_count(struct cluster *c, const char *self, int is_leader, const char *blueprint,
                    int64_t *adopted_ms, int *count);

#endif
