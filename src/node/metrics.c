
/* Prometheus metrics of the node (see metrics.h). */
#include "metrics.h"

#include "aether/features.h"
#include "node.h"

#include <math.h>
#include <stdio.h>

static void counter(struct sbuf *b, const char *name, const char *help, double v)
{
    prom_write_family(b, name, "counter", help);
    prom_write_sample(b, name, NULL, v);
}

static void gauge(struct sbuf *b, const char *name, const char *help, double v)
{
    prom_write_family(b, name, "gauge", help);
    prom_write_sample(b, name, NULL, v);
}

/* Node-wide TTM counters and gauges. */
static void ttm_counter_metrics(const struct node_view *n, const struct ae_config *cfg,
                                struct sbuf *b)
{
    const struct ttm_counters c = n->ttm_counters;
    counter(b, "ttm_predictions_count_total", "Forecasts made (one per blueprint per evaluation).",
            (double)c.predictions);
    prom_write_family(b, "ttm_recommendations_total", "counter",
                      "Recommendations of the forecast analyzer, by type.");
    for (int t = 0; t < FCST_TYPE_COUNT; t++)
        prom_write_sample(b, "ttm_recommendations_total",
                          (const char *[]){"type", fcst_type_name((enum fcst_type)t), NULL},
                          (double)c.recommendations[t]);
    counter(b, "aether_ttm_evaluations_total", "TTM evaluations that ran the model.",
            (double)c.evaluations);
    counter(b, "aether_ttm_inference_failures_total", "TTM evaluations with an inference failure.",
            (double)c.failures);
    prom_write_family(b, "aether_ttm_model_reloads_total", "counter", "Model reloads, by result.");
    prom_write_sample(b, "aether_ttm_model_reloads_total", (const char *[]){"result", "ok", NULL},
                      (double)n->reloads_ok);
    prom_write_sample(b, "aether_ttm_model_reloads_total",
                      (const char *[]){"result", "failed", NULL}, (double)n->reloads_failed);
    gauge(b, "aether_ttm_enabled", "1 when ttm.enabled is true.", cfg->ttm.enabled);
    gauge(b, "aether_ttm_model_loaded", "1 when a model is loaded and in use.", n->model_loaded);
    enum ttm_state state = n->ttm_state;
    prom_write_family(b, "aether_ttm_state", "gauge", "TTM node state: 1 for the current one.");
    for (int s = 0; s < TTM_STATE_COUNT; s++)
        prom_write_sample(b, "aether_ttm_state",
                          (const char *[]){"state", ttm_state_name((enum ttm_state)s), NULL},
                          s == (int)state);
}

/* Per blueprint with a TTM tier: its state, confidence and skill. */
static void ttm_blueprint_metrics(const struct node_view *n, struct sbuf *b)
{
    prom_write_family(b, "aether_ttm_blueprint_state", "gauge",
                      "TTM state per blueprint: 1 for the current one.");
    for (int k = 0; k < n->nbp; k++) {
        const struct ttm_bp_status st = n->bps[k].ttm;
        if (!n->bps[k].has_ttm)
            continue;
        for (int s = 0; s < TTM_BP_STATE_COUNT; s++)
            prom_write_sample(b, "aether_ttm_blueprint_state",
                              (const char *[]){"blueprint", n->bps[k].cfg->name, "state",
                                               ttm_bp_state_name((enum ttm_bp_state)s), NULL},
                              s == (int)st.state);
    }
    prom_write_family(b, "aether_ttm_confidence", "gauge",
                      "Forecast confidence 0..1 (1 - mean WAPE of cpu and invocations).");
    for (int k = 0; k < n->nbp; k++) {
        const struct ttm_bp_status st = n->bps[k].ttm;
        if (n->bps[k].has_ttm)
            prom_write_sample(b, "aether_ttm_confidence",
                              (const char *[]){"blueprint", n->bps[k].cfg->name, NULL},
                              st.confidence);
    }
    prom_write_family(b, "aether_ttm_skill", "gauge",
                      "Forecast skill over persistence (1 - model error / persistence error).");
    for (int k = 0; k < n->nbp; k++) {
        const struct ttm_bp_status st = n->bps[k].ttm;
        if (n->bps[k].has_ttm)
            prom_write_sample(b, "aether_ttm_skill",
                              (const char *[]){"blueprint", n->bps[k].cfg->name, NULL}, st.skill);
    }
}

/* The last forecast of every blueprint, per feature and minute ahead. */
static void ttm_forecast_value_metrics(const struct node_view *n, struct sbuf *b)
{
    prom_write_family(b, "aether_ttm_forecast_value", "gauge",
                      "Last forecast per blueprint, feature and minute ahead (raw units).");
    for (int k = 0; k < n->nbp; k++) {
        const struct ttm_bp_status st = n->bps[k].ttm;
        if (!n->bps[k].has_ttm || !st.has_forecast || !st.forecast)
            continue;
        for (int h = 0; h < st.horizon; h++) {
            char minute[16];
            snprintf(minute, sizeof minute, "%d", h + 1);
            for (int f = 0; f < AE_FEATURE_COUNT; f++)
                prom_write_sample(b, "aether_ttm_forecast_value",
                                  (const char *[]){"blueprint", n->bps[k].cfg->name, "feature",
                                                   ae_feature_name(f), "minute", minute, NULL},
                                  st.forecast[h * AE_FEATURE_COUNT + f]);
        }
    }
}

/* Which candidate forecaster drives each blueprint. */
static void ttm_forecaster_active_metrics(const struct node_view *n, struct sbuf *b)
{
    prom_write_family(b, "aether_ttm_forecaster_active", "gauge",
                      "1 for the forecaster that drives the blueprint's TTM tier, 0 for the "
                      "other candidates (ttm.forecaster = auto runs them all).");
    for (int k = 0; k < n->nbp; k++) {
        const struct ttm_bp_status st = n->bps[k].ttm;
        if (!n->bps[k].has_ttm || !st.has_forecast)
            continue;
        for (int c = 0; c < SEL_CANDIDATES; c++)
            if (st.selection || c == st.forecaster)
                prom_write_sample(b, "aether_ttm_forecaster_active",
                                  (const char *[]){"blueprint", n->bps[k].cfg->name, "forecaster",
                                                   fcr_kind_names[c], NULL},
                                  c == st.forecaster);
    }
}

/* Recent error of each candidate of one blueprint's selection, per step. */
static void ttm_selection_error_samples(const char *blueprint, const struct sel *s, struct sbuf *b)
{
    for (int c = 0; c < SEL_CANDIDATES; c++)
        for (int h = 1; h <= s->p.steps; h++) {
            int samples;
            double e = sel_error(s, c, h, &samples);
            if (samples == 0)
                continue;
            char step[16];
            snprintf(step, sizeof step, "%d", h);
            prom_write_sample(b, "aether_ttm_forecast_error",
                              (const char *[]){"blueprint", blueprint, "forecaster",
                                               fcr_kind_names[c], "step", step, NULL},
                              e);
        }
}

/* Candidate errors (ttm.forecaster = auto) and the last recommendation's target. */
static void ttm_selection_metrics(const struct node_view *n, struct sbuf *b)
{
    prom_write_family(b, "aether_ttm_forecast_error", "gauge",
                      "Recent error of each candidate forecaster of invocations at each step, "
                      "scaled by persistence's at that step (1 = as good as the last minute; "
                      "ttm.forecaster = auto).");
    for (int k = 0; k < n->nbp; k++) {
        const struct sel *s = n->bps[k].ttm.selection;
        if (n->bps[k].has_ttm && s)
            ttm_selection_error_samples(n->bps[k].cfg->name, s, b);
    }
    prom_write_family(b, "aether_ttm_recommendation_target_instances", "gauge",
                      "Floor (scale_up) or ceiling (scale_down) of the last recommendation.");
    for (int k = 0; k < n->nbp; k++) {
        const struct ttm_bp_status st = n->bps[k].ttm;
        if (n->bps[k].has_ttm && st.has_forecast &&
            (st.recommendation.type == FCST_SCALE_UP || st.recommendation.type == FCST_SCALE_DOWN))
            prom_write_sample(b, "aether_ttm_recommendation_target_instances",
                              (const char *[]){"blueprint", n->bps[k].cfg->name, NULL},
                              st.recommendation.target_instances);
    }
}

static void ttm_metrics(const struct node_view *n, const struct ae_config *cfg, struct sbuf *b)
{
    ttm_counter_metrics(n, cfg, b);
    ttm_blueprint_metrics(n, b);
    ttm_forecast_value_metrics(n, b);
    ttm_forecaster_active_metrics(n, b);
    ttm_selection_metrics(n, b);
}

/* The history's write queue (swriter.h). */
static void history_write_metrics(const struct node_view *n, struct sbuf *b)
{
    counter(b, "aether_history_write_errors_total",
            "Failed attempts to write to the SQLite history (each retry counts).",
            (double)n->writes.errors);
    prom_write_family(b, "aether_history_dropped_total", "counter",
                      "History writes lost, by kind: the write queue was full or the write could "
                      "never succeed (each one has an ERROR line).");
    for (int k = 0; k < SWRITER_KINDS; k++)
        prom_write_sample(b, "aether_history_dropped_total",
                          (const char *[]){"kind", swriter_kind_names[k], NULL},
                          (double)n->writes.dropped_kind[k]);
    gauge(b, "aether_history_write_queue_depth",
          "History writes waiting for the writer thread (kept in memory until written).",
          (double)n->writes.depth);
}

/* How long control-loop ticks ran, as a Prometheus histogram. */
static void tick_duration_metrics(const struct lagstat *l, struct sbuf *b)
{
    const char *name = "aether_control_loop_tick_duration_seconds";
    prom_write_family(b, name, "histogram", "How long control-loop ticks ran.");
    long cumulative = 0;
    char le[32], bucket[64];
    snprintf(bucket, sizeof bucket, "%s_bucket", name);
    for (int k = 0; k <= LAG_DURATION_BUCKETS; k++) {
        cumulative += l->duration_counts[k];
        if (k < LAG_DURATION_BUCKETS)
            snprintf(le, sizeof le, "%g", lag_duration_bounds[k]);
        else
            snprintf(le, sizeof le, "+Inf");
        prom_write_sample(b, bucket, (const char *[]){"le", le, NULL}, (double)cumulative);
    }
    char sum[64], count[64];
    snprintf(sum, sizeof sum, "%s_sum", name);
    snprintf(count, sizeof count, "%s_count", name);
    prom_write_sample(b, sum, NULL, l->duration_sum);
    prom_write_sample(b, count, NULL, (double)l->duration_total);
}

/* Node time against the wall clock (nclock.h). */
static void clock_metrics(const struct nclock *c, struct sbuf *b)
{
    gauge(b, "aether_clock_offset_seconds",
          "Wall clock minus node time: > 0 while a forward step is watched, < 0 after a "
          "backward step.",
          (double)nclock_offset_ms(c) / 1000.0);
    prom_write_family(b, "aether_clock_steps_total", "counter",
                      "Steps of the wall clock seen, by kind: forward (adopted), ignored (a "
                      "short jump ahead), backward (never adopted).");
    const char *kinds[] = {"forward", "ignored", "backward"};
    const long counts[] = {c->forward, c->ignored, c->backward};
    for (int k = 0; k < 3; k++)
        prom_write_sample(b, "aether_clock_steps_total", (const char *[]){"kind", kinds[k], NULL},
                          (double)counts[k]);
}

/* Instances per blueprint and state, then the per-blueprint configured bounds. */
static void instance_metrics(const struct node_view *n, struct sbuf *b)
{
    prom_write_family(b, "aether_instances", "gauge", "Instances per blueprint, by state.");
    for (int k = 0; k < n->nbp; k++) {
        const struct node_bp_view *bp = &n->bps[k];
        const char *name = bp->cfg->name;
        const struct {
            const char *state;
            int v;
        } rows[] = {{"requested", bp->requested},
                    {"starting", bp->status.starting},
                    {"ready", bp->status.ready},
                    {"failed", bp->status.failed}};
        for (int r = 0; r < 4; r++)
            prom_write_sample(b, "aether_instances",
                              (const char *[]){"blueprint", name, "state", rows[r].state, NULL},
                              rows[r].v);
    }
    const struct {
        const char *metric, *help;
        int which;
    } bounds[] = {{"aether_blueprint_min_instances", "Configured min_instances.", 0},
                  {"aether_blueprint_max_instances", "Configured max_instances.", 1},
                  {"aether_actuator_available", "1 when the blueprint's actuator is available.", 2},
                  {"aether_history_window_seconds",
                   "Span of the closed minutes held in memory per blueprint.", 3}};
    for (int m = 0; m < 4; m++) {
        prom_write_family(b, bounds[m].metric, "gauge", bounds[m].help);
        for (int k = 0; k < n->nbp; k++) {
            const struct node_bp_view *bp = &n->bps[k];
            double v = bounds[m].which == 0   ? bp->cfg->min_instances
                       : bounds[m].which == 1 ? bp->cfg->max_instances
                       : bounds[m].which == 2 ? bp->has_actuator
                                              : 60.0 * bp->history_minutes;
            prom_write_sample(b, bounds[m].metric,
                              (const char *[]){"blueprint", bp->cfg->name, NULL}, v);
        }
    }
}

/* Per blueprint: the last closed minute, accepted pushes and recorded decisions. */
static void blueprint_input_metrics(const struct node_view *n, struct sbuf *b)
{
    prom_write_family(b, "aether_minute_value", "gauge",
                      "Last closed minute per blueprint and feature (the forecaster's input, "
                      "in the feature's unit).");
    for (int k = 0; k < n->nbp; k++) {
        const struct node_bp_view *bp = &n->bps[k];
        for (int f = 0; bp->has_last_minute && f < AE_FEATURE_COUNT; f++)
            if (ae_minute_has(&bp->last_minute, f))
                prom_write_sample(b, "aether_minute_value",
                                  (const char *[]){"blueprint", bp->cfg->name, "feature",
                                                   ae_feature_name(f), NULL},
                                  bp->last_minute.values[f]);
    }
    prom_write_family(b, "aether_metric_pushes_total", "counter",
                      "Accepted POST /api/metrics pushes per blueprint.");
    for (int k = 0; k < n->nbp; k++) {
        const struct node_bp_view *bp = &n->bps[k];
        prom_write_sample(b, "aether_metric_pushes_total",
                          (const char *[]){"blueprint", bp->cfg->name, NULL}, (double)bp->pushes);
    }
    prom_write_family(b, "aether_decisions_total", "counter",
                      "Decisions recorded, by blueprint, tier and action.");
    for (int k = 0; k < n->nbp; k++)
        for (int t = 0; t < AE_TIER_COUNT; t++)
            for (int a = 0; a < AE_ACTION_COUNT; a++)
                prom_write_sample(b, "aether_decisions_total",
                                  (const char *[]){"blueprint", n->bps[k].cfg->name, "tier",
                                                   ae_tier_name((enum ae_tier)t), "action",
                                                   ae_action_name((enum ae_action)a), NULL},
                                  (double)n->bps[k].decisions[t][a]);
}

/* The control loop's lag, nice value, missed ticks and stalls. */
static void control_loop_metrics(const struct node_view *n, struct sbuf *b)
{
    const struct lagstat *l = &n->lag;
    prom_write_family(b, "aether_control_loop_lag_seconds", "summary",
                      "How late control-loop ticks started after their deadline (quantiles over "
                      "the last 600 ticks).");
    const double qs[] = {0.5, 0.9, 0.99, 1.0};
    const char *qnames[] = {"0.5", "0.9", "0.99", "1"};
    for (int q = 0; q < 4; q++)
        prom_write_sample(b, "aether_control_loop_lag_seconds",
                          (const char *[]){"quantile", qnames[q], NULL},
                          lagstat_quantile(l, qs[q]));
    prom_write_sample(b, "aether_control_loop_lag_seconds_sum", NULL, l->sum);
    prom_write_sample(b, "aether_control_loop_lag_seconds_count", NULL, (double)l->total);
    gauge(b, "aether_control_loop_lag_max_seconds", "Largest control-loop lag since start.",
          l->max_seen);
    gauge(b, "aether_control_loop_last_lag_seconds", "Lag of the latest control-loop tick.",
          l->last);
    gauge(b, "aether_control_loop_nice", "Nice value of the control-loop thread.", n->loop_nice);
    counter(b, "aether_control_loop_missed_ticks_total",
            "Ticks skipped because the loop fell more than an interval behind.", (double)l->missed);
    counter(b, "aether_control_loop_stalls_total",
            "Ticks the watchdog saw running far longer than the interval.", (double)n->stalls);
}

static void node_metrics(const struct node_view *n, struct sbuf *b)
{
    instance_metrics(n, b);
    blueprint_input_metrics(n, b);
    history_write_metrics(n, b);
    control_loop_metrics(n, b);
    tick_duration_metrics(&n->lag, b);
    clock_metrics(&n->clock, b);
}

/* Cluster mode; a single node is its own leader and counts no changes or etcd errors. */
static void cluster_metrics(const struct node_view *n, struct sbuf *b)
{
    const struct cluster_status *c = &n->cluster;
    gauge(b, "aether_cluster_enabled", "1 when [cluster] etcd_endpoints is set.",
          n->cluster_enabled);
    gauge(b, "aether_cluster_leader", "1 while this node leads (runs the TTM tier).", n->is_leader);
    counter(b, "aether_cluster_leader_changes_total",
            "Times this node gained or lost the cluster's leadership.",
            n->cluster_enabled ? (double)c->leader_changes : 0);
    counter(b, "aether_cluster_etcd_errors_total", "Failed etcd calls.",
            n->cluster_enabled ? (double)c->etcd_errors : 0);
    gauge(b, "aether_cluster_etcd_reachable", "1 when the last round with etcd succeeded.",
          n->cluster_enabled && c->etcd_reachable);
    gauge(b, "aether_cluster_members", "Members with a live lease.",
          n->cluster_enabled ? c->member_count : 1);
    counter(b, "aether_cluster_published_records_total",
            "Closed minutes (records of one blueprint's minute) written to etcd.",
            n->cluster_enabled ? (double)c->minutes_published : 0);
}

int metrics_render(struct node *n, struct sbuf *b)
{
    struct node_view *v;
    int rc = node_view_take(n, &v);
    if (rc)
        return rc;
    ttm_metrics(v, node_config(n), b);
    node_metrics(v, b);
    cluster_metrics(v, b);
    node_view_free(v);
    return 0;
}
