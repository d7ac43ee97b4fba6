/* What collectors and actuators this build attaches to the node (see sources.h).
 *
 * The workload module provides them (aether/actuator.h, aether/collector.h); this file adapts
 * its calls to the node's seam. Per blueprint: one actuator (process supervisor or exec hook)
 * and one collector (scrape thread + /proc readings of the actuator's ready instances). Two
 * node collectors run each second for every blueprint, in precedence order:
 *   process  refreshes the scrape targets from the actuator, then CPU/RSS from /proc/<pid>;
 *   scrape   the latest scrape of every target.
 * A third, the host collector, runs below them only for blueprints with host_metrics = true:
 * the host's CPU and memory are not a blueprint's unless the host runs nothing else (a process
 * blueprint with no ready instance, or an exec blueprint whose instances run elsewhere, would
 * otherwise borrow numbers that are not its own).
 * A blueprint with [blueprint.prometheus] url also has a Prometheus-query collector, run above
 * the scrape (its PromQL answers win over what the instances' pages say).
 * Why features are missing (the scrape's and the queries' reasons) and actuator failures are
 * logged when they change, and the reasons are shown in /api/blueprints as the blueprint's error
 * when the actuator has none. Each finished exec run is logged and its outcome handed to the node
 * (run_result), which writes it into the result of the decision that asked for it. */
#include "sources.h"

#include "aether/actuator.h"
#include "aether/collector.h"
#include "aether/error.h"
#include "aether/log.h"
#include "aether/promql.h"
#include "ncluster.h"
#include "node.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXEC_RESULT_MAX 4096 /* more than the actuator keeps of a run's output */

struct wl_bp {
    const struct cfg_blueprint *cfg; /* borrowed from the node's config */
    struct actuator *act;
    struct collector *coll;
    struct host_collector *host;    /* only with host_metrics */
    struct promql_collector *query; /* only with [blueprint.prometheus] url */
    char last_reason[512];
    char last_query_reason[512];
    int last_runs;        /* exec runs already logged */
    char last_error[256]; /* the actuator's error as last shown */
    long failures_seen;   /* its failures_total when last looked at */
};

struct wl_sources {
    int n;
    struct wl_bp *bps;
    struct actuator_target *targets; /* COLLECTOR_MAX_TARGETS, the process collector's scratch */
};

static void collect_host(void *state, int bp, struct ae_snapshot *snap)
{
    struct wl_sources *w = state;
    if (bp >= 0 && bp < w->n && w->bps[bp].host)
        host_collector_fill(w->bps[bp].host, snap);
}

static void collect_process(void *state, int bp, struct ae_snapshot *snap)
{
    struct wl_sources *w = state;
    if (bp < 0 || bp >= w->n || !w->bps[bp].act)
        return;
    struct wl_bp *b = &w->bps[bp];
    int n = actuator_targets(b->act, w->targets, COLLECTOR_MAX_TARGETS);
    collector_set_targets(b->coll, w->targets,
                          n < COLLECTOR_MAX_TARGETS ? n : COLLECTOR_MAX_TARGETS);
    collector_fill_process(b->coll, snap);
}

/* Logs reason under what when it differs from *last (then remembered there). */
static void log_reason_change(const char *bp, const char *what, const char *reason, char *last,
                              size_t cap)
{
    if (strcmp(reason, last) == 0)
        return;
    if (reason[0])
        nlog(NLOG_WARN, "collector", "blueprint %s: metrics missing: %s", bp, reason);
    else
        nlog(NLOG_INFO, "collector", "blueprint %s: %s", bp, what);
    snprintf(last, cap, "%s", reason);
}

static void collect_scrape(void *state, int bp, struct ae_snapshot *snap)
{
    struct wl_sources *w = state;
    if (bp < 0 || bp >= w->n)
        return;
    struct wl_bp *b = &w->bps[bp];
    collector_fill_scrape(b->coll, snap);
    char reason[sizeof(b->last_reason)];
    collector_reason(b->coll, reason, sizeof(reason));
    if (b->query && !b->cfg->metrics_urls_count && b->cfg->actuator == CFG_ACTUATOR_EXEC)
        reason[0] = '\0'; /* nothing to scrape: the queries are this blueprint's source */
    log_reason_change(b->cfg->name, "every target scraped", reason, b->last_reason,
                      sizeof(b->last_reason));
}

static void collect_query(void *state, int bp, struct ae_snapshot *snap)
{
    struct wl_sources *w = state;
    if (bp < 0 || bp >= w->n || !w->bps[bp].query)
        return;
    struct wl_bp *b = &w->bps[bp];
    promql_collector_fill(b->query, snap);
    char reason[sizeof(b->last_query_reason)];
    promql_collector_reason(b->query, reason, sizeof(reason));
    log_reason_change(b->cfg->name, "every Prometheus query answered", reason, b->last_query_reason,
                      sizeof(b->last_query_reason));
}

static void close_sources(void *state)
{
    struct wl_sources *w = state;
    for (int i = 0; i < w->n; i++) {
        actuator_close(w->bps[i].act); /* normally already closed by the node */
        collector_close(w->bps[i].coll);
        promql_collector_close(w->bps[i].query);
        host_collector_close(w->bps[i].host);
    }
    actuator_cgroup_stop(); /* after every actuator closed */
    free(w->bps);
    free(w->targets);
    free(w);
}

static int act_set_desired(void *state, int bp, int n, char *err, size_t errlen)
{
    (void)bp;
    struct wl_bp *b = state;
    return b->act ? actuator_set_desired(b->act, n, err, errlen) : AE_ESTATE;
}

static void act_status(void *state, int bp, struct node_actuator_status *out)
{
    (void)bp;
    struct wl_bp *b = state;
    memset(out, 0, sizeof(*out));
    if (!b->act)
        return;
    struct actuator_status st;
    actuator_status(b->act, &st);
    out->requested = st.requested;
    out->starting = st.starting;
    out->ready = st.ready;
    out->failed = st.failed;
    /* Each new failure is logged, also one already over by now (a quick restart); its end is
     * logged when the error shown in /api/blueprints goes away. */
    int new_failure = st.failures_total != b->failures_seen;
    if (new_failure) {
        nlog(NLOG_WARN, "actuator", "%s", st.last_failure);
        b->failures_seen = st.failures_total;
    }
    if (!st.error[0] && (new_failure || b->last_error[0]))
        nlog(NLOG_INFO, "actuator", "recovered: %s", new_failure ? st.last_failure : b->last_error);
    memcpy(b->last_error, st.error, sizeof(st.error));
    if (st.error[0])
        snprintf(out->error, sizeof(out->error), "%s", st.error);
    else if (b->last_reason[0] && b->last_query_reason[0])
        snprintf(out->error, sizeof(out->error), "metrics: %.120s; %.120s", b->last_query_reason,
                 b->last_reason);
    else if (b->last_reason[0] || b->last_query_reason[0])
        snprintf(out->error, sizeof(out->error), "metrics: %.240s",
                 b->last_reason[0] ? b->last_reason : b->last_query_reason);
    out->runs = st.runs;
    out->run_count = st.run_count;
    if (st.runs == 0)
        return;
    char result[EXEC_RESULT_MAX];
    size_t len = actuator_last_result(b->act, result, sizeof(result));
    const char *label = actuator_run_label(b->act);
    label = label ? label : actuator_kind_name(b->act);
    if (st.runs != b->last_runs) { /* a run finished */
        nlog(st.failed ? NLOG_ERROR : NLOG_INFO, "actuator",
             "blueprint %s: %s for %d instances: %s", b->cfg->name, label, st.run_count, result);
        b->last_runs = st.runs;
    }
    /* The decision log keeps the start of long output: "<label> exit 1: <output> ...". */
    const char *more = " ... (truncated)";
    size_t room = sizeof(out->run_result) - strlen(label) - 1 - strlen(more) - 1;
    while (len > room && room > 0 && ((unsigned char)result[room] & 0xC0) == 0x80)
        room--; /* cut before a UTF-8 character, not inside it (the API speaks JSON) */
    snprintf(out->run_result, sizeof(out->run_result), "%s %.*s%s", label, (int)room, result,
             len > room ? more : "");
}

static void act_close(void *state)
{
    struct wl_bp *b = state;
    actuator_close(b->act);
    b->act = NULL;
}

/* The collector, host collector, query collector and actuator of b->cfg. 0, or a negative AE_E*
 * code with a message (what opened is for close_sources). */
static int open_blueprint_sources(struct wl_bp *b, char *err, size_t errlen)
{
    int rc = collector_open(b->cfg, NULL, &b->coll, err, errlen);
    if (rc)
        return rc;
    if (b->cfg->host_metrics && (rc = host_collector_open(&b->host, err, errlen)) != 0)
        return rc;
    rc = promql_collector_open(b->cfg, 1000, &b->query, err, errlen);
    if (rc)
        return rc;
    return actuator_open(b->cfg, &b->act, err, errlen);
}

/* The process actuators' cgroups, and what a previous run of this data_dir left (after a
 * SIGKILL of the node) killed before any instance starts. */
static void start_cgroups(const struct ae_config *cfg)
{
    char msg[1024];
    int killed = 0;
    actuator_cgroup_start(cfg->node.data_dir, &killed, msg, sizeof(msg));
    nlog(NLOG_INFO, "actuator", "instances are stopped with %s", msg);
    if (killed > 0)
        nlog(NLOG_WARN, "actuator",
             "stopped %d process(es) left running by the previous run of this data_dir", killed);
}

int node_attach_sources(struct node *n, const struct ae_config *cfg, char *err, size_t errlen)
{
    start_cgroups(cfg);
    struct wl_sources *w = calloc(1, sizeof(*w));
    if (w) {
        w->bps = calloc((size_t)(cfg->blueprint_count ? cfg->blueprint_count : 1), sizeof(*w->bps));
        w->targets = calloc(COLLECTOR_MAX_TARGETS, sizeof(*w->targets));
    }
    if (!w || !w->bps || !w->targets) {
        if (w)
            close_sources(w);
        snprintf(err, errlen, "out of memory");
        return AE_ENOMEM;
    }
    for (int i = 0; i < cfg->blueprint_count; i++) {
        struct wl_bp *b = &w->bps[i];
        b->cfg = &cfg->blueprints[i];
        w->n = i + 1;
        int rc = open_blueprint_sources(b, err, errlen);
        if (rc) {
            close_sources(w);
            return rc;
        }
    }
    /* The first one registered owns w (its close frees the workload and its threads), so that
     * from then on the node frees w whichever registration fails; the node runs them in
     * precedence order whatever the order they are added in. */
    const struct node_collector collectors[] = {
        {"scrape", NODE_SRC_SCRAPE, w, collect_scrape, close_sources},
        {"prometheus", NODE_SRC_QUERY, w, collect_query, NULL},
        {"process", NODE_SRC_PROCESS, w, collect_process, NULL},
        {"host", NODE_SRC_HOST, w, collect_host, NULL},
    };
    for (size_t k = 0; k < sizeof(collectors) / sizeof(collectors[0]); k++) {
        if (node_add_collector(n, &collectors[k]) != 0) {
            if (k == 0) /* not registered: nobody else frees it */
                close_sources(w);
            snprintf(err, errlen, "out of memory");
            return AE_ENOMEM;
        }
    }
    for (int i = 0; i < cfg->blueprint_count; i++) {
        struct wl_bp *b = &w->bps[i];
        const struct node_actuator a = {actuator_kind_name(b->act), b, act_set_desired, act_status,
                                        act_close};
        node_set_actuator(n, i, &a);
        if (cfg->cluster.etcd_endpoints_count > 0 && b->cfg->actuator == CFG_ACTUATOR_EXEC) {
            /* a cluster-level actuator: run by the leader only, each run fenced with etcd */
            actuator_set_gate(b->act, nclu_exec_gate, node_cluster(n));
            nlog(NLOG_INFO, "actuator", "blueprint %s: exec actuator, run by the cluster's leader",
                 b->cfg->name);
            continue;
        }
        char why[256];
        if (actuator_set_desired(b->act, b->cfg->instances, why, sizeof(why)) != 0)
            nlog(NLOG_WARN, "actuator", "%s", why);
        nlog(NLOG_INFO, "actuator", "blueprint %s: %s actuator, %d instance(s) to start",
             b->cfg->name, actuator_kind_name(b->act), b->cfg->instances);
    }
    return 0;
}
