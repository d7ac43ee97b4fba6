/* HTTP API handlers (see api.h). JSON through jansson; the training-data export streams pages
 * of rows from a read-only store handle, so any range is answered in constant memory. */
#include "api.h"

#include "aether/error.h"
#include "aether/features.h"
#include "dashboard.h"
#include "jtext.h"
#include "aether/log.h"
#include "metrics.h"
#include "ncluster.h"
#include "node.h"
#include "reqparse.h"
#include "aether/sbuf.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How long a read of the history waits for the writes queued before it. */
#define API_HISTORY_WAIT_MS 250

/* A number, or null when it is not finite (JSON has no NaN). */
static json_t *num_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static void reply_json(struct http_response *resp, int status, json_t *doc)
{
    char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
    json_decref(doc);
    if (!text) {
        http_error(resp, 500, "out of memory rendering the answer");
        return;
    }
    http_reply(resp, status, "application/json", text, strlen(text));
}

static json_t *recommendation_json(const struct fcst_recommendation *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string(fcst_type_name(r->type)));
    json_object_set_new(
        o, "reason",
        json_text(r->reason != FCST_REASON_NONE ? fcst_reason_name(r->reason) : r->text));
    if (r->text[0])
        json_object_set_new(o, "detail", json_text(r->text));
    if (r->type == FCST_SCALE_UP || r->type == FCST_SCALE_DOWN)
        json_object_set_new(o, "targetInstances", json_integer(r->target_instances));
    if (r->floor > 0)
        json_object_set_new(o, "floorInstances", json_integer(r->floor));
    if (r->ceiling > 0)
        json_object_set_new(o, "ceilingInstances", json_integer(r->ceiling));
    return o;
}

/* 1 when a forecast made at made_ms with horizon minutes no longer covers node time now_ms: the
 * last minute it predicts has ended. */
static int forecast_stale(int64_t made_ms, int horizon, int64_t now_ms)
{
    return now_ms >= ae_minute_floor(made_ms) + (int64_t)horizon * 60000;
}

/* lastForecast of one blueprint at node time now_ms, or null before its first forecast. */
static json_t *forecast_json(const struct ttm_bp_status *st, int64_t now_ms)
{
    if (!st->has_forecast || !st->forecast)
        return json_null();
    json_t *o = json_object();
    json_object_set_new(o, "blueprint", json_string(st->name));
    json_object_set_new(o, "timestamp", json_integer(st->forecast_ms));
    json_object_set_new(o, "horizon", json_integer(st->horizon));
    json_object_set_new(o, "stale",
                        json_boolean(forecast_stale(st->forecast_ms, st->horizon, now_ms)));
    json_t *preds = json_array();
    for (int h = 0; h < st->horizon; h++) {
        json_t *row = json_object();
        for (int f = 0; f < AE_FEATURE_COUNT; f++)
            json_object_set_new(row, ae_feature_name(f),
                                num_or_null(st->forecast[h * AE_FEATURE_COUNT + f]));
        json_array_append_new(preds, row);
    }
    json_object_set_new(o, "predictions", preds);
    json_object_set_new(o, "confidence", num_or_null(st->confidence));
    json_object_set_new(o, "recommendation", recommendation_json(&st->recommendation));
    return o;
}

/* ttm.forecaster = auto: the active candidate, why, the score kind, and every candidate's recent
 * error per step (scaled by persistence's at that step, under-forecasts weighted), its peak error
 * and headroom, and its score; null otherwise. */
static json_t *selection_json(const struct sel *s)
{
    if (!s)
        return json_null();
    json_t *o = json_object();
    json_object_set_new(o, "active", json_string(fcr_kind_names[s->active]));
    json_object_set_new(o, "reason", json_text(s->why));
    json_object_set_new(o, "activeSince", json_integer(s->active_since_ms));
    json_object_set_new(o, "switches", json_integer(s->switches));
    json_object_set_new(o, "steps", json_integer(s->p.steps));
    json_object_set_new(o, "underforecastWeight", json_real(s->p.underforecast_weight));
    json_object_set_new(o, "scoreKind", json_string(sel_score_names[s->p.score]));
    json_object_set_new(o, "peakQuantile", json_real(s->p.peak_quantile));
    json_t *cands = json_array();
    for (int c = 0; c < SEL_CANDIDATES; c++) {
        json_t *k = json_object();
        json_object_set_new(k, "name", json_string(fcr_kind_names[c]));
        json_object_set_new(k, "score", num_or_null(sel_score(s, c)));
        json_t *err = json_array(), *mae = json_array();
        int samples = 0;
        for (int h = 1; h <= s->p.steps; h++) {
            int n;
            json_array_append_new(err, num_or_null(sel_error(s, c, h, &n)));
            json_array_append_new(mae, num_or_null(sel_mae(s, c, h)));
            samples = h == 1 ? n : (n < samples ? n : samples);
        }
        json_object_set_new(k, "errorByStep", err);
        json_object_set_new(k, "maeByStep", mae);
        json_object_set_new(k, "samples", json_integer(samples));
        int peaks;
        json_object_set_new(k, "peakError", num_or_null(sel_peak_error(s, c, &peaks)));
        json_object_set_new(k, "peakHeadroom", num_or_null(sel_peak_headroom(s, c)));
        json_object_set_new(k, "peakSamples", json_integer(peaks));
        json_array_append_new(cands, k);
    }
    json_object_set_new(o, "candidates", cands);
    return o;
}

/* The leader's forecasts for the other members' windows (an empty list elsewhere). */
static json_t *members_json(const struct node_view *v)
{
    json_t *a = json_array();
    for (int k = 0; k < v->npeers; k++) {
        const struct npeers_view *p = &v->peers[k];
        json_t *m = json_object();
        json_object_set_new(m, "node", json_text(p->member));
        json_object_set_new(m, "blueprint", json_text(p->blueprint));
        json_object_set_new(m, "state", json_string(ttm_bp_state_name(p->state)));
        json_object_set_new(m, "historyMinutes", json_integer(p->minutes));
        json_object_set_new(m, "hasForecast", json_boolean(p->has_forecast));
        json_object_set_new(m, "forecastMs",
                            p->has_forecast ? json_integer(p->forecast_ms) : json_null());
        json_object_set_new(m, "floor", json_integer(p->floor));
        json_object_set_new(m, "ceiling", json_integer(p->ceiling));
        json_array_append_new(a, m);
    }
    return a;
}

/* A read-only handle on the history (caller closes with store_close), after the writes queued so
 * far have landed (waiting at most API_HISTORY_WAIT_MS: a failing disk must not hold the API). */
static int open_history(struct node *n, struct store **out, char *err, size_t errlen)
{
    node_flush_history(n, API_HISTORY_WAIT_MS);
    return store_reader_open(node_store(n), out, err, errlen);
}

/* The node's state for one answer (free with node_view_free), or NULL after answering 500. */
static struct node_view *take_view(struct node *n, struct http_response *resp)
{
    struct node_view *v;
    if (node_view_take(n, &v) == 0)
        return v;
    http_error(resp, 500, "out of memory reading the node's state");
    return NULL;
}

/* A Unix-ms time as JSON: the number, or null when it is -1. */
static json_t *time_or_null(int64_t ms)
{
    return ms < 0 ? json_null() : json_integer(ms);
}

/* The last reload (HTTP or SIGHUP): {"state": "none"|"running"|"ok"|"failed", "what", "source",
 * "requestedAt", "finishedAt", "error"}. */
static json_t *reload_json(const struct node_view *v)
{
    static const char *const names[] = {"none", "running", "ok", "failed"};
    static const char *const sources[] = {"http", "sighup"};
    int none = v->reload == NODE_RELOAD_NONE;
    return json_pack("{s:s,s:s,s:o,s:o,s:o,s:o}", "state", names[v->reload], "what", "model",
                     "source", none ? json_null() : json_string(sources[v->reload_source]),
                     "requestedAt", time_or_null(v->reload_requested_ms), "finishedAt",
                     time_or_null(v->reload_finished_ms), "error",
                     v->reload_error[0] ? json_text(v->reload_error) : json_null());
}

static void h_status(void *ctx, const struct http_request *req, struct http_response *resp)
{
    (void)req;
    struct node *n = ctx;
    struct node_view *v = take_view(n, resp);
    if (!v)
        return;
    json_t *o = json_object();
    const struct cfg_ttm *c = &node_config(n)->ttm;
    json_object_set_new(o, "enabled", json_boolean(c->enabled));
    json_object_set_new(o, "active", json_boolean(c->enabled && v->model_loaded));
    json_object_set_new(o, "state", json_string(ttm_state_name(v->ttm_state)));
    json_object_set_new(o, "modelPath", json_text(c->model_path));
    json_object_set_new(o, "inputWindowMinutes", json_integer(c->input_window_minutes));
    json_object_set_new(o, "predictionHorizon", json_integer(c->prediction_horizon));
    json_object_set_new(o, "evaluationIntervalMs", json_integer(c->evaluation_interval_ms));
    json_object_set_new(o, "confidenceThreshold", json_real(c->confidence_threshold));
    json_object_set_new(o, "mode", json_string(cfg_ttm_mode_names[c->mode]));
    const char *error = v->model_error[0] ? v->model_error : v->ttm_error;
    json_object_set_new(o, "error", *error ? json_text(error) : json_null());
    json_object_set_new(o, "reason", v->ttm_reason[0] ? json_text(v->ttm_reason) : json_null());
    json_object_set_new(o, "reload", reload_json(v));
    json_object_set_new(o, "leader", json_boolean(v->is_leader));

    int any = 0;
    json_t *bps = json_array();
    for (int k = 0; k < v->nbp; k++) {
        const struct node_bp_view *bv = &v->bps[k];
        if (!bv->has_ttm)
            continue;
        const struct ttm_bp_status *st = &bv->ttm;
        any |= st->has_forecast;
        json_t *b = json_object();
        json_object_set_new(b, "name", json_string(bv->cfg->name));
        json_object_set_new(b, "state", json_string(ttm_bp_state_name(st->state)));
        json_object_set_new(b, "hasForecast", json_boolean(st->has_forecast));
        json_object_set_new(b, "lastForecast", forecast_json(st, v->now_ms));
        json_object_set_new(b, "confidence", num_or_null(st->confidence));
        json_object_set_new(b, "skill", num_or_null(st->skill));
        json_object_set_new(b, "forecaster",
                            st->has_forecast ? json_string(fcr_kind_names[st->forecaster])
                                             : json_null());
        json_object_set_new(b, "selection", selection_json(st->selection));
        json_object_set_new(b, "error",
                            st->error && *st->error ? json_text(st->error) : json_null());
        json_array_append_new(bps, b);
    }
    json_object_set_new(o, "hasForecast", json_boolean(any));
    json_object_set_new(o, "members", members_json(v));
    if (v->last_forecast >= 0 && v->bps[v->last_forecast].has_ttm)
        json_object_set_new(o, "lastForecast",
                            forecast_json(&v->bps[v->last_forecast].ttm, v->now_ms));
    else
        json_object_set_new(o, "lastForecast", json_null());
    json_object_set_new(o, "nodeTime", json_integer(v->now_ms));
    json_object_set_new(o, "lastEvaluation",
                        v->last_eval_ms >= 0 ? json_integer(v->last_eval_ms) : json_null());
    node_view_free(v);
    json_object_set_new(o, "blueprints", bps);
    reply_json(resp, 200, o);
}

/* A decision as the API shows it; takes over `inputs` (a JSON object, or NULL for {}). */
static json_t *decision_json(int64_t ts, const char *bp, const char *tier, const char *action,
                             int from, int to, const char *reason, json_t *inputs,
                             const char *result)
{
    json_t *o = json_object();
    json_object_set_new(o, "timestamp", json_integer(ts));
    json_object_set_new(o, "blueprint", json_string(bp));
    json_object_set_new(o, "tier", json_string(tier));
    json_object_set_new(o, "action", json_string(action));
    json_object_set_new(o, "from", json_integer(from));
    json_object_set_new(o, "to", json_integer(to));
    json_object_set_new(o, "reason", json_text(reason));
    json_object_set_new(o, "inputs", inputs ? inputs : json_object());
    json_object_set_new(o, "result", json_text(result));
    return o;
}

static json_t *live_decision_json(const struct node_bp_view *b)
{
    if (!b->has_decision)
        return json_null();
    const struct ae_decision *d = &b->last_decision;
    json_t *inputs = json_object();
    for (int i = 0; i < d->input_count; i++)
        json_object_set_new(inputs, d->inputs[i].name, num_or_null(d->inputs[i].value));
    return decision_json(d->timestamp_ms, b->cfg->name, ae_tier_name(d->tier),
                         ae_action_name(d->action), d->from, d->to, d->reason, inputs,
                         b->last_result);
}

/* The floor/ceiling in force for a blueprint, or null. */
static json_t *bp_recommendation_json(const struct node_bp_view *b)
{
    if (!b->has_rec)
        return json_null();
    json_t *o = json_object();
    json_object_set_new(o, "floor", b->rec_floor > 0 ? json_integer(b->rec_floor) : json_null());
    json_object_set_new(o, "ceiling",
                        b->rec_ceiling > 0 ? json_integer(b->rec_ceiling) : json_null());
    json_object_set_new(o, "issued", json_integer(b->rec_time_ms));
    json_object_set_new(o, "source", json_string(b->rec_from_leader ? "leader" : "local"));
    return o;
}

/* GET /api/cluster: this node's seat in the cluster (docs/cluster.md). */
static void h_cluster(void *ctx, const struct http_request *req, struct http_response *resp)
{
    (void)req;
    struct node *n = ctx;
    struct node_view *v = take_view(n, resp);
    if (!v)
        return;
    const struct ae_config *cfg = node_config(n);
    const struct cluster_status *c = &v->cluster;
    char name[CLUSTER_NAME_MAX];
    nclu_member_name(cfg, name, sizeof name);
    json_t *o = json_object();
    json_object_set_new(o, "enabled", json_boolean(v->cluster_enabled));
    json_object_set_new(o, "name", json_text(name));
    json_object_set_new(o, "role",
                        json_string(!v->cluster_enabled ? "single"
                                    : c->leader         ? "leader"
                                                        : "follower"));
    json_object_set_new(o, "leader",
                        !v->cluster_enabled ? json_text(name)
                        : c->leader_name[0] ? json_text(c->leader_name)
                                            : json_null());
    json_object_set_new(o, "why", v->cluster_enabled ? json_text(c->why) : json_null());
    json_t *members = json_array();
    for (int k = 0; v->cluster_enabled && k < c->member_count; k++)
        json_array_append_new(members, json_text(c->members[k]));
    if (!v->cluster_enabled)
        json_array_append_new(members, json_text(name));
    json_object_set_new(o, "members", members);
    json_object_set_new(o, "leaseTtlMs",
                        v->cluster_enabled ? json_integer(cfg->cluster.lease_ttl_ms) : json_null());
    json_t *etcd = json_object();
    json_object_set_new(etcd, "reachable",
                        v->cluster_enabled ? json_boolean(c->etcd_reachable) : json_null());
    json_object_set_new(etcd, "error",
                        v->cluster_enabled && c->etcd_error[0] ? json_text(c->etcd_error)
                                                               : json_null());
    json_object_set_new(o, "etcd", etcd);
    node_view_free(v);
    reply_json(resp, 200, o);
}

static void h_blueprints(void *ctx, const struct http_request *req, struct http_response *resp)
{
    (void)req;
    struct node *n = ctx;
    struct node_view *v = take_view(n, resp);
    if (!v)
        return;
    json_t *arr = json_array();
    for (int k = 0; k < v->nbp; k++) {
        const struct node_bp_view *b = &v->bps[k];
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(b->cfg->name));
        json_object_set_new(o, "actuator", json_string(cfg_actuator_names[b->cfg->actuator]));
        json_object_set_new(o, "actuatorAvailable", json_boolean(b->has_actuator));
        json_object_set_new(o, "min", json_integer(b->cfg->min_instances));
        json_object_set_new(o, "max", json_integer(b->cfg->max_instances));
        json_object_set_new(o, "requested", json_integer(b->requested));
        json_object_set_new(o, "starting", json_integer(b->status.starting));
        json_object_set_new(o, "ready", json_integer(b->status.ready));
        json_object_set_new(o, "failed", json_integer(b->status.failed));
        const struct ae_snapshot *s = &b->last_snapshot;
        json_object_set_new(o, "cpuUsage",
                            b->has_snapshot && ae_snapshot_has(s, AE_F_CPU_USAGE)
                                ? json_real(s->values[AE_F_CPU_USAGE])
                                : json_null());
        const struct ae_minute *m = &b->last_minute;
        json_object_set_new(o, "invocationsPerMinute",
                            b->has_last_minute && ae_minute_has(m, AE_F_INVOCATIONS)
                                ? json_real(m->values[AE_F_INVOCATIONS])
                                : json_null());
        json_object_set_new(o, "recommendation", bp_recommendation_json(b));
        json_object_set_new(o, "lastDecision", live_decision_json(b));
        if (b->status.error[0])
            json_object_set_new(o, "error", json_text(b->status.error));
        json_array_append_new(arr, o);
    }
    node_view_free(v);
    reply_json(resp, 200, arr);
}

struct decisions_ctx {
    json_t *arr;
};

static int add_decision(void *ctx, const struct store_decision *d)
{
    struct decisions_ctx *c = ctx;
    json_t *inputs = d->inputs_json ? json_loads(d->inputs_json, 0, NULL) : NULL;
    json_array_append_new(c->arr, decision_json(d->ts_ms, d->blueprint, d->tier, d->action, d->from,
                                                d->to, d->reason, inputs, d->result));
    return 0;
}

static void h_decisions(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct node *n = ctx;
    char err[512];
    const char *bp = http_query(req, "blueprint");
    const char *limit_s = http_query(req, "limit");
    long limit = 50;
    if (limit_s && req_parse_int(limit_s, "limit", 1, 1000, &limit, err, sizeof err) != 0) {
        http_error(resp, 400, "%s", err);
        return;
    }
    if (bp && *bp == '\0')
        bp = NULL;
    if (bp && node_find_blueprint(n, bp) < 0) {
        http_error(resp, 404, "no blueprint named \"%.64s\"", bp);
        return;
    }
    struct store *r;
    if (open_history(n, &r, err, sizeof err) != 0) {
        http_error(resp, 500, "%s", err);
        return;
    }
    struct decisions_ctx c = {json_array()};
    int rc = store_each_decision(r, bp, (int)limit, add_decision, &c, err, sizeof err);
    store_close(r);
    if (rc != 0) {
        json_decref(c.arr);
        http_error(resp, 500, "%s", err);
        return;
    }
    reply_json(resp, 200, c.arr);
}

/* Starts the load on a thread of its own and answers at once: 202, the outcome shows in
 * /api/ttm/status ("reload"). */
static void h_reload(void *ctx, const struct http_request *req, struct http_response *resp)
{
    (void)req;
    struct node *n = ctx;
    char err[1024];
    nlog(NLOG_INFO, "ttm", "model reload requested over HTTP");
    int rc = node_reload_start(n, NODE_RELOAD_HTTP, err, sizeof err);
    if (rc == AE_ESTATE) {
        http_error(resp, 409, "%s", err);
        return;
    }
    if (rc != 0 && rc != AE_EAGAIN) {
        http_error(resp, 503, "%s", err);
        return;
    }
    const char *detail =
        rc == 0 ? "the model is loading; /api/ttm/status \"reload\" shows the outcome" : err;
    reply_json(resp, 202,
               json_pack("{s:b,s:b,s:s,s:s}", "reloaded", 0, "reloading", 1, "modelPath",
                         node_config(n)->ttm.model_path, "detail", detail));
}

static void h_push(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct node *n = ctx;
    const char *name = http_path(req) + strlen("/api/metrics/");
    if (!req_valid_blueprint(name)) {
        http_error(resp, 400, "\"%.64s\" is not a blueprint name ([a-z0-9-], 1..63 chars)", name);
        return;
    }
    size_t len;
    const char *body = http_body(req, &len);
    struct req_push p;
    char err[512];
    int parsed = req_parse_push(body, len, ae_feature_names(), &p, err, sizeof err);
    if (parsed != 0) {
        http_error(resp, parsed == AE_ERANGE ? 422 : 400, "%s", err);
        return;
    }
    int rc = node_push(n, name, &p, node_now_ms(), err, sizeof err);
    if (rc == AE_ENOENT) {
        http_error(resp, 404, "%s", err);
        return;
    }
    if (rc != 0) {
        http_error(resp, 422, "%s", err);
        return;
    }
    json_t *o = json_pack("{s:b,s:s}", "accepted", 1, "blueprint", name);
    reply_json(resp, 202, o);
}

/* Streaming state of one training-data export. */
struct export_stream {
    struct store *reader;
    char blueprint[CFG_NAME_MAX];
    int64_t from, to, cursor;
    int csv;
    int rows;     /* rows written so far */
    int finished; /* no more pages */
    struct ae_minute page[256];
    struct sbuf out; /* rendered, not yet sent */
    size_t sent;     /* bytes of out already sent */
};

static void export_free(void *ctx)
{
    struct export_stream *e = ctx;
    store_close(e->reader);
    sbuf_free(&e->out);
    free(e);
}

static void render_row(struct export_stream *e, const struct ae_minute *m)
{
    struct sbuf *b = &e->out;
    if (e->csv) {
        sbuf_printf(b, "%lld", (long long)m->start_ms);
        for (int f = 0; f < AE_FEATURE_COUNT; f++) {
            sbuf_append(b, ",", 1);
            if (ae_minute_has(m, f) && isfinite(m->values[f]))
                sbuf_number(b, m->values[f]);
        }
        sbuf_append(b, "\n", 1);
        return;
    }
    sbuf_printf(b, "%s{\"timestamp\":%lld,\"values\":[", e->rows ? "," : "",
                (long long)m->start_ms);
    for (int f = 0; f < AE_FEATURE_COUNT; f++) {
        if (f)
            sbuf_append(b, ",", 1);
        if (ae_minute_has(m, f) && isfinite(m->values[f]))
            sbuf_number(b, m->values[f]);
        else
            sbuf_append(b, "null", 4);
    }
    sbuf_printf(b, "],\"samples\":%d,\"ready\":", m->snapshots);
    sbuf_number(b, m->ready_mean);
    sbuf_append(b, ",\"requested\":", 13);
    sbuf_number(b, m->requested_mean);
    sbuf_append(b, "}", 1);
}

/* Renders the next page (or the closing text) into e->out. Returns -1 on a store error. */
static int export_fill(struct export_stream *e)
{
    sbuf_reset(&e->out);
    e->sent = 0;
    char err[512];
    int got = store_read_page(e->reader, e->blueprint, e->from, e->to, &e->cursor, e->page, 256,
                              err, sizeof err);
    if (got < 0) {
        nlog(NLOG_ERROR, "http", "training-data export aborted: %s", err);
        return -1;
    }
    for (int i = 0; i < got; i++, e->rows++)
        render_row(e, &e->page[i]);
    if (got < 256) {
        if (!e->csv)
            sbuf_append(&e->out, "]}\n", 3);
        e->finished = 1;
    }
    return e->out.oom ? -1 : 0;
}

static ssize_t export_produce(void *ctx, char *buf, size_t max)
{
    struct export_stream *e = ctx;
    while (e->sent >= e->out.len) {
        if (e->finished)
            return HTTP_STREAM_END;
        if (export_fill(e) != 0)
            return HTTP_STREAM_ERROR;
    }
    size_t n = e->out.len - e->sent;
    if (n > max)
        n = max;
    memcpy(buf, e->out.data + e->sent, n);
    e->sent += n;
    return (ssize_t)n;
}

/* The query of the history endpoints: blueprint (required when several are configured, default
 * the only one), from and to (Unix ms or ISO 8601, from <= to). On a bad query sets the error
 * answer and returns -1; *bp_out is borrowed from the request or the config. */
static int history_query(struct node *n, const struct http_request *req, struct http_response *resp,
                         const char **bp_out, int64_t *from, int64_t *to)
{
    char err[512];
    const char *bp = http_query(req, "blueprint");
    if (!bp || !*bp) {
        int nbp = node_config(n)->blueprint_count;
        if (nbp == 1) {
            bp = node_blueprint(n, 0)->name;
        } else if (nbp == 0) {
            http_error(resp, 404, "no blueprints are configured");
            return -1;
        } else {
            struct sbuf names = {0};
            for (int k = 0; k < nbp; k++)
                sbuf_printf(&names, "%s%s", k ? ", " : "", node_blueprint(n, k)->name);
            http_error(resp, 400, "blueprint is required when several are configured (%s)",
                       names.data ? names.data : "");
            sbuf_free(&names);
            return -1;
        }
    } else if (node_find_blueprint(n, bp) < 0) {
        http_error(resp, 404, "no blueprint named \"%.64s\"", bp);
        return -1;
    }
    *from = INT64_MIN;
    *to = INT64_MAX;
    const char *fs = http_query(req, "from"), *ts = http_query(req, "to");
    if ((fs && req_parse_time(fs, "from", from, err, sizeof err) != 0) ||
        (ts && req_parse_time(ts, "to", to, err, sizeof err) != 0)) {
        http_error(resp, 400, "%s", err);
        return -1;
    }
    if (*from > *to) {
        http_error(resp, 400, "from (%lld) is after to (%lld)", (long long)*from, (long long)*to);
        return -1;
    }
    *bp_out = bp;
    return 0;
}

static void h_training_data(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct node *n = ctx;
    char err[512];
    const char *format = http_query(req, "format");
    int csv = 0;
    if (format && strcmp(format, "csv") == 0)
        csv = 1;
    else if (format && strcmp(format, "json") != 0) {
        http_error(resp, 400, "format = \"%.32s\": use json or csv", format);
        return;
    }
    const char *bp;
    int64_t from, to;
    if (history_query(n, req, resp, &bp, &from, &to) != 0)
        return;
    struct export_stream *e = calloc(1, sizeof *e);
    if (!e) {
        http_error(resp, 500, "out of memory");
        return;
    }
    if (open_history(n, &e->reader, err, sizeof err) != 0) {
        free(e);
        http_error(resp, 500, "%s", err);
        return;
    }
    snprintf(e->blueprint, sizeof e->blueprint, "%s", bp);
    e->from = from;
    e->to = to;
    e->cursor = INT64_MIN;
    e->csv = csv;
    if (csv) {
        sbuf_append(&e->out, "timestamp", 9);
        for (int f = 0; f < AE_FEATURE_COUNT; f++)
            sbuf_printf(&e->out, ",%s", ae_feature_name(f));
        sbuf_append(&e->out, "\n", 1);
    } else {
        sbuf_printf(&e->out, "{\"schemaVersion\":%d,\"features\":[", AE_SCHEMA_VERSION);
        for (int f = 0; f < AE_FEATURE_COUNT; f++)
            sbuf_printf(&e->out, "%s\"%s\"", f ? "," : "", ae_feature_name(f));
        sbuf_printf(&e->out, "],\"blueprint\":\"%s\",\"rows\":[", e->blueprint);
    }
    resp->status = 200;
    resp->content_type = csv ? "text/csv; charset=utf-8" : "application/json";
    resp->stream = export_produce;
    resp->stream_ctx = e;
    resp->stream_free = export_free;
}

struct forecasts_ctx {
    struct sbuf out;
    long rows;
};

/* Renders one stored forecast step as a JSON object (struct forecasts_ctx); 1 (stop) when out of
 * memory. */
static int add_forecast(void *ctx, const struct store_forecast *f)
{
    struct forecasts_ctx *c = ctx;
    struct sbuf *b = &c->out;
    sbuf_printf(b, "%s{\"minute\":%lld,\"step\":%d,\"madeAt\":%lld,\"confidence\":",
                c->rows++ ? "," : "", (long long)f->minute_ms, f->step, (long long)f->made_ms);
    if (isfinite(f->confidence))
        sbuf_number(b, f->confidence);
    else
        sbuf_append(b, "null", 4);
    sbuf_append(b, ",\"values\":[", 11);
    for (int i = 0; i < AE_FEATURE_COUNT; i++) {
        if (i)
            sbuf_append(b, ",", 1);
        if (isfinite(f->values[i]))
            sbuf_number(b, f->values[i]);
        else
            sbuf_append(b, "null", 4);
    }
    sbuf_append(b, "]}", 2);
    return b->oom ? 1 : 0;
}

static void h_forecasts(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct node *n = ctx;
    const char *bp;
    int64_t from, to;
    if (history_query(n, req, resp, &bp, &from, &to) != 0)
        return;
    char err[512] = "";
    struct store *r;
    if (open_history(n, &r, err, sizeof err) != 0) {
        http_error(resp, 500, "%s", err);
        return;
    }
    struct forecasts_ctx c = {0};
    struct sbuf *b = &c.out;
    sbuf_printf(b, "{\"blueprint\":\"%s\",\"features\":[", bp);
    for (int f = 0; f < AE_FEATURE_COUNT; f++)
        sbuf_printf(b, "%s\"%s\"", f ? "," : "", ae_feature_name(f));
    sbuf_append(b, "],\"forecasts\":[", 15);
    int rc = store_each_forecast(r, bp, from, to, add_forecast, &c, err, sizeof err);
    store_close(r);
    sbuf_append(b, "]}\n", 3);
    if (rc != 0 || b->oom) {
        sbuf_free(b);
        http_error(resp, 500, "%s", rc < 0 ? err : "out of memory rendering forecasts");
        return;
    }
    size_t len;
    char *text = sbuf_take(b, &len);
    http_reply(resp, 200, "application/json", text, len);
}

static void h_metrics(void *ctx, const struct http_request *req, struct http_response *resp)
{
    (void)req;
    struct sbuf b = {0};
    if (metrics_render(ctx, &b) != 0 || b.oom) {
        sbuf_free(&b);
        http_error(resp, 500, "out of memory rendering metrics");
        return;
    }
    size_t len;
    char *text = sbuf_take(&b, &len);
    http_reply(resp, 200, METRICS_CONTENT_TYPE, text, len);
}

/* GET /api/keda/{blueprint}: what KEDA's metrics-api scaler reads (docs/kubernetes.md): the
 * instances the node wants and the forecast's floor, both plain numbers (0 when no forecast
 * holds a floor) so that a valueLocation of desiredInstances or forecastFloor always finds one. */
static void h_keda(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct node *n = ctx;
    const char *name = http_path(req) + strlen("/api/keda/");
    if (!req_valid_blueprint(name)) {
        http_error(resp, 400, "\"%.64s\" is not a blueprint name ([a-z0-9-], 1..63 chars)", name);
        return;
    }
    struct node_view *v = take_view(n, resp);
    if (!v)
        return;
    const struct node_bp_view *b = NULL;
    for (int k = 0; k < v->nbp && !b; k++)
        if (strcmp(v->bps[k].cfg->name, name) == 0)
            b = &v->bps[k];
    if (!b) {
        node_view_free(v);
        http_error(resp, 404, "no blueprint named \"%s\"", name);
        return;
    }
    json_t *o = json_object();
    json_object_set_new(o, "blueprint", json_string(b->cfg->name));
    json_object_set_new(o, "desiredInstances", json_integer(b->requested));
    json_object_set_new(o, "forecastFloor", json_integer(b->has_rec ? b->rec_floor : 0));
    json_object_set_new(o, "forecastCeiling", json_integer(b->has_rec ? b->rec_ceiling : 0));
    json_object_set_new(o, "readyInstances", json_integer(b->status.ready));
    json_object_set_new(o, "min", json_integer(b->cfg->min_instances));
    json_object_set_new(o, "max", json_integer(b->cfg->max_instances));
    node_view_free(v);
    reply_json(resp, 200, o);
}

const struct http_route api_routes[] = {
    {"GET", "/api/ttm/status", 0, 0, h_status},
    {"GET", "/api/ttm/training-data", 0, 0, h_training_data},
    {"GET", "/api/ttm/forecasts", 0, 0, h_forecasts},
    {"GET", "/api/blueprints", 0, 0, h_blueprints},
    {"GET", "/api/cluster", 0, 0, h_cluster},
    {"GET", "/api/decisions", 0, 0, h_decisions},
    {"GET", "/api/keda/", 1, 0, h_keda},
    {"POST", "/api/ttm/reload", 0, 1, h_reload},
    {"POST", "/api/metrics/", 1, 1, h_push},
    {"GET", "/metrics", 0, 0, h_metrics},
    {"GET", "/", 0, 0, dash_page},
    {"GET", "/dashboard", 0, 0, dash_page},
    {"GET", "/dashboard/", 1, 0, dash_file},
};
const int api_route_count = (int)(sizeof api_routes / sizeof api_routes[0]);
