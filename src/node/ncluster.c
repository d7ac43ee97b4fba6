/* The node's side of cluster mode (see ncluster.h). */
#include "ncluster.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

void nclu_member_name(const struct ae_config *cfg, char *out, size_t len)
{
    const char *name = cfg->cluster.name[0] ? cfg->cluster.name : cfg->node.id;
    if (name[0]) {
        snprintf(out, len, "%s", name);
        return;
    }
    char host[256] = "";
    if (gethostname(host, sizeof host - 1) != 0 || !host[0])
        snprintf(host, sizeof host, "aether-node");
    snprintf(out, len, "%s", host);
}

int nclu_open(const struct ae_config *cfg, struct cluster **out, char *err, size_t errlen)
{
    *out = NULL;
    const struct cfg_cluster *cc = &cfg->cluster;
    if (cc->etcd_endpoints_count == 0)
        return 0;
    char name[CLUSTER_NAME_MAX];
    nclu_member_name(cfg, name, sizeof name);
    struct cluster_options o = {
        .etcd_endpoints = (const char *const *)cc->etcd_endpoints,
        .endpoint_count = cc->etcd_endpoints_count,
        .name = name,
        .prefix = cc->prefix,
        .lease_ttl_ms = cc->lease_ttl_ms,
    };
    return cluster_start(&o, out, err, errlen);
}

void nclu_follow(struct cluster *c, const char *blueprint, int64_t now_ms, struct scl_input *in)
{
    struct cluster_recommendation r;
    in->has_remote = 0;
    if (cluster_recommendation_get(c, blueprint, &r) != 0 || r.expires_ms <= now_ms)
        return;
    in->has_remote = 1;
    in->remote_floor = r.floor;
    in->remote_ceiling = r.ceiling;
    in->remote_issued_ms = r.issued_ms;
}

int nclu_publish(struct cluster *c, const struct cluster_status *st, const struct cfg_blueprint *bp,
                 const struct scl_forecast *f, int64_t now_ms, int interval_ms)
{
    struct cluster_recommendation r;
    memset(&r, 0, sizeof r);
    snprintf(r.blueprint, sizeof r.blueprint, "%s", bp->name);
    r.floor = f->recommendation.floor;
    r.ceiling = f->recommendation.ceiling > 0 ? f->recommendation.ceiling : bp->max_instances;
    if (r.ceiling < r.floor)
        r.ceiling = r.floor;
    r.issued_ms = now_ms;
    r.expires_ms = now_ms + 2 * (int64_t)interval_ms;
    int queued = 0;
    for (int k = 0; k < st->member_count; k++) {
        if (strcmp(st->members[k], st->leader_name) == 0)
            continue; /* the leader applies its own forecast directly */
        snprintf(r.node, sizeof r.node, "%s", st->members[k]);
        queued += cluster_publish_recommendation(c, &r) == 0;
    }
    return queued;
}

int nclu_may_actuate(struct cluster *c, const struct cluster_status *st, char *why, size_t len)
{
    if (!st->leader) {
        snprintf(why, len, "not the leader (%s)", st->why);
        return 0;
    }
    return cluster_still_leader(c, why, len);
}
