/* The node's side of cluster mode (docs/cluster.md): starting its cluster member from [cluster],
 * reading the leader's recommendation for a blueprint into the control step's input, publishing
 * the leader's forecasts as recommendations for every member, and the fencing check before a
 * cluster-level (exec) actuation. The member runtime itself is include/aether/cluster.h. */
#ifndef AETHER_NODE_NCLUSTER_H
#define AETHER_NODE_NCLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include "aether/cluster.h"
#include "aether/config.h"
#include "aether/scaler.h"

/* The member's name: [cluster] name, else node.id, else the host name. Writes at most len bytes
 * (NUL included) into out. */
void nclu_member_name(const struct ae_config *cfg, char *out, size_t len);

/* Starts the member when [cluster] etcd_endpoints is non-empty (*out = NULL when it is empty:
 * a single node). Returns 0, or the cluster_start error with its message in err. */
int nclu_open(const struct ae_config *cfg, struct cluster **out, char *err, size_t errlen);

/* Fills in's remote recommendation with the leader's one for blueprint when there is one that
 * has not expired at now_ms (has_remote = 0 otherwise). */
void nclu_follow(struct cluster *c, const char *blueprint, int64_t now_ms, struct scl_input *in);

/* On the leader, after an evaluation made forecast f (at now_ms) for blueprint bp: queues its
 * floor/ceiling for every other member listed in st, expiring 2 x interval_ms after now_ms. No
 * ceiling (0) travels as bp's max_instances, which never lowers a count. Returns how many were
 * queued. */
int nclu_publish(struct cluster *c, const struct cluster_status *st, const struct cfg_blueprint *bp,
                 const struct scl_forecast *f, int64_t now_ms, int interval_ms);

/* Whether this node may run a cluster-level actuator now: it leads (st) and etcd confirms it
 * (cluster_still_leader, which blocks for at most the request timeout per endpoint). 1 or 0
 * with why in the buffer. */
int nclu_may_actuate(struct cluster *c, const struct cluster_status *st, char *why, size_t len);

#endif
