/* The node's side of cluster mode (see ncluster.h). */
#include "ncluster.h"

#include "aether/error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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

/* The first line of the password file (without its line break) into buf. 0, or AE_EIO /
 * AE_EINVAL with a message naming the file. */
static int read_password(const char *path, char *buf, size_t size, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cluster.password_file \"%s\": cannot open: %s", path,
                 strerror(errno));
        return AE_EIO;
    }
    int got = fgets(buf, (int)size, f) != NULL;
    fclose(f);
    size_t n = got ? strcspn(buf, "\r\n") : 0;
    if (got)
        buf[n] = '\0';
    if (n == 0) {
        snprintf(err, errlen, "cluster.password_file \"%s\": the first line is empty", path);
        return AE_EINVAL;
    }
    if (n >= size - 1) {
        snprintf(err, errlen,
                 "cluster.password_file \"%s\": the password is longer than %zu "
                 "bytes",
                 path, size - 2);
        return AE_EINVAL;
    }
    return 0;
}

int nclu_open(const struct ae_config *cfg, struct cluster **out, char *err, size_t errlen)
{
    *out = NULL;
    const struct cfg_cluster *cc = &cfg->cluster;
    if (cc->etcd_endpoints_count == 0)
        return 0;
    char name[CLUSTER_NAME_MAX];
    nclu_member_name(cfg, name, sizeof name);
    char password[256] = "";
    if (cc->username[0]) {
        int rc = read_password(cc->password_file, password, sizeof password, err, errlen);
        if (rc)
            return rc;
    }
    struct cluster_options o = {
        .etcd_endpoints = (const char *const *)cc->etcd_endpoints,
        .endpoint_count = cc->etcd_endpoints_count,
        .name = name,
        .prefix = cc->prefix,
        .lease_ttl_ms = cc->lease_ttl_ms,
        .username = cc->username,
        .password = password,
    };
    int rc = cluster_start(&o, out, err, errlen); /* copies it */
    volatile char *wipe = password;
    for (size_t i = 0; i < sizeof password; i++)
        wipe[i] = 0;
    return rc;
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

int nclu_publish_history(struct cluster *c, const char *blueprint, const agg *history)
{
    struct ae_minute *buf = malloc(sizeof(*buf) * CLUSTER_MINUTES_KEPT);
    if (!buf)
        return 0;
    int got = agg_recent(history, CLUSTER_MINUTES_KEPT, buf), queued = 0;
    for (int k = 0; k < got; k++)
        queued += cluster_publish_minute(c, blueprint, &buf[k]) == 0;
    free(buf);
    return queued;
}

int nclu_sync_peers(struct cluster *c, struct npeers *p, long *term, char *err, size_t errlen)
{
    struct cluster_minute_record *recs;
    int n;
    long now_term;
    int rc = cluster_take_peer_minutes(c, &recs, &n, &now_term);
    if (rc != 0) {
        snprintf(err, errlen, "out of memory for the members' minutes");
        return rc;
    }
    if (now_term != *term) {
        rc = npeers_reset(p, err, errlen);
        *term = now_term;
    }
    int added = rc == 0 ? npeers_add(p, recs, n) : rc;
    free(recs);
    return added;
}

static int listed(const struct cluster_status *st, const char *member)
{
    for (int k = 0; k < st->member_count; k++)
        if (strcmp(st->members[k], member) == 0)
            return 1;
    return 0;
}

int nclu_publish(struct cluster *c, const struct cluster_status *st, struct npeers *p,
                 const struct ae_config *cfg, int64_t now_ms)
{
    npeers_evaluate(p, now_ms);
    int queued = 0;
    for (int k = 0; k < npeers_count(p); k++) {
        struct npeers_view v;
        npeers_get(p, k, &v);
        if (!v.has_forecast || v.forecast_ms != now_ms || !listed(st, v.member))
            continue;
        const struct cfg_blueprint *bp = &cfg->blueprints[k % cfg->blueprint_count];
        struct cluster_recommendation r;
        memset(&r, 0, sizeof r);
        snprintf(r.node, sizeof r.node, "%s", v.member);
        snprintf(r.blueprint, sizeof r.blueprint, "%s", bp->name);
        r.floor = v.floor;
        r.ceiling = v.ceiling > 0 ? v.ceiling : bp->max_instances;
        if (r.ceiling < r.floor)
            r.ceiling = r.floor;
        r.issued_ms = now_ms;
        r.expires_ms = now_ms + 2 * (int64_t)cfg->ttm.evaluation_interval_ms;
        queued += cluster_publish_recommendation(c, &r) == 0;
    }
    return queued;
}

int nclu_exec_gate(void *ctx, const char *blueprint, int count, char *why, size_t whylen)
{
    return cluster_fence_exec(ctx, blueprint, count, why, whylen);
}

int nclu_exec_count(struct cluster *c, const char *self, int is_leader, const char *blueprint,
                    int64_t *adopted_ms, int *count)
{
    struct cluster_exec x;
    if (cluster_exec_get(c, blueprint, &x) != 0)
        return 0;
    if (is_leader && (strcmp(x.leader, self) == 0 || x.issued_ms <= *adopted_ms))
        return 0;
    *adopted_ms = x.issued_ms;
    *count = x.count;
    return 1;
}
