/* The configuration key table: every key of aether.toml, one row each (see cfg_schema.h), and
 * the helpers that turn a row into words (range, type, default) and a field into TOML text.
 * The loader (cfg_load.c), the effective-config printout and the docs (cfg_print.c) all read
 * this table and nothing else. */
#include "cfg_schema.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIZEOF_FIELD(st, f) sizeof(((st *)0)->f)
#define AT(st, f) .offset = offsetof(st, f)
#define BOOL_KEY(st, f) .type = CFG_BOOL, AT(st, f)
#define INT_KEY(st, f, lo, hi) .type = CFG_INT, AT(st, f), .min = (lo), .max = (hi)
#define DOUBLE_KEY(st, f, lo, hi) .type = CFG_DOUBLE, AT(st, f), .min = (lo), .max = (hi)
/* A key whose range is one of config.h's CFG_RANGE_* pairs (expanded before the split). */
#define INT_RANGE_KEY(st, f, range) EXPAND_KEY(INT_KEY, st, f, range)
#define DOUBLE_RANGE_KEY(st, f, range) EXPAND_KEY(DOUBLE_KEY, st, f, range)
#define EXPAND_KEY(kind, st, f, ...) kind(st, f, __VA_ARGS__)
#define STRING_KEY(st, f) .type = CFG_STRING, AT(st, f), .aux = SIZEOF_FIELD(st, f)
#define ENUM_KEY(st, f, names_, count_)                                                            \
    .type = CFG_ENUM, AT(st, f), .names = (names_), .name_count = (count_)
#define STRV_KEY(st, f, count_field) .type = CFG_STRV, AT(st, f), .aux = offsetof(st, count_field)

#define NODE .section = CFG_SEC_NODE
#define API .section = CFG_SEC_API
#define CTRL .section = CFG_SEC_CONTROLLER
#define TTM .section = CFG_SEC_TTM
#define CLUSTER .section = CFG_SEC_CLUSTER
#define BP .section = CFG_SEC_BLUEPRINT
#define BPM .section = CFG_SEC_BLUEPRINT_METRICS
#define BPP .section = CFG_SEC_BLUEPRINT_PROMETHEUS
#define BPQ .section = CFG_SEC_BLUEPRINT_QUERIES
/* One PromQL query per feature, keyed by the FeatureIndex name. */
#define QUERY_KEY(name_, f, help_)                                                                 \
    {                                                                                              \
        BPQ, name_, STRING_KEY(bp_t, prometheus.queries[f]), .default_text = "(see help)",         \
                                                             .help = help_                         \
    }
/* the actuator kinds a blueprint key applies to */
#define PROCESS CFG_KIND(CFG_ACTUATOR_PROCESS)
#define EXEC CFG_KIND(CFG_ACTUATOR_EXEC)

typedef struct cfg_node node_t;
typedef struct cfg_api api_t;
typedef struct cfg_controller ctrl_t;
typedef struct cfg_ttm ttm_t;
typedef struct cfg_cluster cluster_t;
typedef struct cfg_blueprint bp_t;

const struct cfg_section_info cfg_sections[CFG_SEC_COUNT] = {
    [CFG_SEC_NODE] = {"node", "The node itself: identity, storage, extensions and logging."},
    [CFG_SEC_API] = {"api", "The HTTP API (`/api/...`) and Prometheus `/metrics`."},
    [CFG_SEC_CONTROLLER] = {"controller",
                            "The reactive tier (decision tree), evaluated for every blueprint."},
    [CFG_SEC_TTM] = {"ttm", "The predictive tier: the TTM forecaster (an ONNX model) and how its "
                            "recommendations are used."},
    [CFG_SEC_CLUSTER] = {"cluster",
                         "Cluster mode on etcd (see docs/cluster.md). Without endpoints the node "
                         "runs alone, as its own leader."},
    [CFG_SEC_BLUEPRINT] = {"blueprint",
                           "One `[[blueprint]]` per workload the node keeps scaled. Keys marked "
                           "*process* apply to `actuator = \"process\"` only, *exec* to "
                           "`actuator = \"exec\"` only; setting them for the other actuator is an "
                           "error."},
    [CFG_SEC_BLUEPRINT_METRICS] = {"blueprint.metrics",
                                   "Names of the Prometheus metrics scraped from each instance of "
                                   "the blueprint above it (each a Prometheus metric name); an "
                                   "empty name means the metric is not scraped."},
    [CFG_SEC_BLUEPRINT_PROMETHEUS] = {"blueprint.prometheus",
                                      "Features read by PromQL from an existing Prometheus "
                                      "(`/api/v1/query`, once a second), and the history "
                                      "backfilled from it on start (`/api/v1/query_range`); see "
                                      "\"Prometheus as a source\" above."},
    [CFG_SEC_BLUEPRINT_QUERIES] = {"blueprint.prometheus.queries",
                                   "One PromQL query per feature, keyed by the FeatureIndex name, "
                                   "each giving one number in the 1-second snapshot's unit; `\"\"` "
                                   "is the default query (built from `[blueprint.metrics]` and "
                                   "`selector`, listed in the help), `\"off\"` queries nothing. "
                                   "Features without a default are queried only when written."},
};

const struct cfg_key cfg_keys[] = {
    {NODE, "id", STRING_KEY(node_t, id), .default_text = "\"\" (the host name)",
     .help = "Name of this node in logs, metrics and the API; empty means the host name."},
    {NODE, "data_dir", STRING_KEY(node_t, data_dir), .flags = CFG_PATH,
     .help = "Directory of the SQLite history (minute aggregates and decisions), created when "
             "missing."},
    {NODE, "extensions_dir", STRING_KEY(node_t, extensions_dir), .flags = CFG_PATH,
     .help = "Directory searched for the loadable TTM engine (`aether-ttm-onnx.so`) when the node "
             "was built without it."},
    {NODE, "history_retention_days",
     INT_RANGE_KEY(node_t, history_retention_days, CFG_RANGE_RETENTION_DAYS),
     .help = "Days of minute history, decisions and forecasts kept in the store."},
    {NODE, "log_level", ENUM_KEY(node_t, log_level, cfg_log_level_names, CFG_LOG_LEVEL_COUNT),
     .help = "Least severe log messages written."},
    {NODE, "log_format", ENUM_KEY(node_t, log_format, cfg_log_format_names, CFG_LOG_FORMAT_COUNT),
     .help = "Log lines as plain text or as one JSON object per line."},

    {API, "bind", STRING_KEY(api_t, bind),
     .help = "Address of the HTTP API and `/metrics`, as host:port (port 1..65535)."},
    {API, "token", STRING_KEY(api_t, token), .flags = CFG_SECRET | CFG_RECORDS_GIVEN,
     .given = offsetof(api_t, token_given),
     .default_text = "(generated into data_dir/" CFG_TOKEN_FILE ")",
     .help = "POST requests must carry `Authorization: Bearer <token>` (at most 255 printable "
             "bytes). Not written: the node generates one at first start into "
             "`data_dir/" CFG_TOKEN_FILE "` (mode 0600) and logs where it is. `\"\"` turns the "
             "check off (a warning is logged). Never printed."},
    {API, "allow_remote_without_token", BOOL_KEY(api_t, allow_remote_without_token),
     .help = "Lets the node start without a token on an address other than loopback (anyone who "
             "reaches the port can then push metrics and reload the model)."},
    {API, "max_connections_per_client",
     INT_RANGE_KEY(api_t, max_connections_per_client, CFG_RANGE_CLIENT_CONNECTIONS),
     .help = "Open connections one client address may hold; more are refused."},
    {API, "request_timeout_ms",
     INT_RANGE_KEY(api_t, request_timeout_ms, CFG_RANGE_REQUEST_TIMEOUT_MS),
     .help = "A connection whose request headers and body have not arrived within this (or that "
             "stays idle this long) is closed."},
    {API, "max_concurrent_exports",
     INT_RANGE_KEY(api_t, max_concurrent_exports, CFG_RANGE_CONCURRENT_EXPORTS),
     .help = "Training-data exports streamed at once; more are answered 503."},

    {CTRL, "cpu_scale_up_threshold",
     DOUBLE_RANGE_KEY(ctrl_t, cpu_scale_up_threshold, CFG_RANGE_CPU_THRESHOLD),
     .help = "Scale up when CPU usage (ratio of the allowance) is above this. Must be greater "
             "than `cpu_scale_down_threshold`."},
    {CTRL, "cpu_scale_down_threshold",
     DOUBLE_RANGE_KEY(ctrl_t, cpu_scale_down_threshold, CFG_RANGE_CPU_THRESHOLD),
     .help = "Scale down when CPU usage is below this (and no scale-up rule fires)."},
    {CTRL, "call_rate_scale_up_threshold", DOUBLE_KEY(ctrl_t, call_rate_scale_up_threshold, 0, 0),
     .flags = CFG_MIN_EXCLUSIVE | CFG_NO_MAX,
     .help = "Scale up when calls per second per instance (summed over the blueprint's "
             "instances, divided by the requested ones, starting instances included) exceed "
             "this."},
    {CTRL, "evaluation_interval_ms",
     INT_RANGE_KEY(ctrl_t, evaluation_interval_ms, CFG_RANGE_CONTROLLER_INTERVAL_MS),
     .help = "How often the reactive tier evaluates each blueprint, in milliseconds."},
    {CTRL, "warm_up_period_ms", INT_RANGE_KEY(ctrl_t, warm_up_period_ms, CFG_RANGE_WARM_UP_MS),
     .help = "No scaling for this long after the node starts, in milliseconds."},
    {CTRL, "slice_cooldown_ms", INT_RANGE_KEY(ctrl_t, slice_cooldown_ms, CFG_RANGE_COOLDOWN_MS),
     .help = "No scaling of a blueprint within this long of its last change (by either tier), "
             "in milliseconds."},

    {TTM, "enabled", BOOL_KEY(ttm_t, enabled),
     .help = "Run the TTM forecaster. When false, or when the model cannot be loaded, the "
             "reactive tier works alone."},
    {TTM, "model_path", STRING_KEY(ttm_t, model_path), .flags = CFG_PATH,
     .help = "The ONNX model file."},
    {TTM, "max_model_memory_mb",
     INT_RANGE_KEY(ttm_t, max_model_memory_mb, CFG_RANGE_MODEL_MEMORY_MB),
     .help = "Memory one model may take in all, in MiB (weights, folded constants, the tensors "
             "of planning and the arena); a model asking for more is rejected and the running "
             "one kept."},
    {TTM, "input_window_minutes",
     INT_RANGE_KEY(ttm_t, input_window_minutes, CFG_RANGE_WINDOW_MINUTES),
     .help = "Minutes of history the model reads (W); must match the model."},
    {TTM, "prediction_horizon", INT_RANGE_KEY(ttm_t, prediction_horizon, CFG_RANGE_HORIZON_MINUTES),
     .help = "Minutes the model forecasts (H); must match the model."},
    {TTM, "evaluation_interval_ms",
     INT_RANGE_KEY(ttm_t, evaluation_interval_ms, CFG_RANGE_TTM_INTERVAL_MS),
     .help = "How often the forecaster runs, in milliseconds (10 s to 5 min)."},
    {TTM, "confidence_threshold",
     DOUBLE_RANGE_KEY(ttm_t, confidence_threshold, CFG_RANGE_CONFIDENCE),
     .help = "Below it a forecast may only keep instances (a floor), never remove them."},
    {TTM, "upper_bound_utilization",
     DOUBLE_RANGE_KEY(ttm_t, upper_bound_utilization, CFG_RANGE_UPPER_BOUND_UTIL),
     .help = "Utilisation the upper bound of predicted demand (the forecast peak plus the "
             "`headroom_quantile` of recent under-forecasts) may reach; the forecast peak itself "
             "is sized at `cpu_scale_up_threshold`."},
    {TTM, "headroom_quantile",
     DOUBLE_RANGE_KEY(ttm_t, headroom_quantile, CFG_RANGE_HEADROOM_QUANTILE),
     .help = "The upper bound of predicted demand is the forecast peak plus this quantile of the "
             "last 240 forecasts' under-forecasts: higher keeps more spare capacity for demand "
             "above the forecast (fewer SLO minutes, more instances)."},
    {TTM, "forecaster", ENUM_KEY(ttm_t, forecaster, fcr_kind_names, FCR_KIND_COUNT),
     .help = "What forecasts demand for the predictive tier: `model` (the ONNX model), or a "
             "classical forecaster of invocations and cpu kept on the node's own history: "
             "`persistence`, `drift`, `seasonal-naive` (one day ago), `holt-winters` (fitted, "
             "daily season, damped trend), `linear` (fitted window); or `auto`: all of these "
             "side by side per blueprint, the one with the lowest recent score (selection_score) "
             "drives (simple ones from the first minute, the model once it has history); or "
             "`periodic` (the mean of the last three cycles at a fitted period of 2..180 minutes, "
             "for recurring spikes such as timers; not one of auto's candidates). The analyzer, "
             "sizing and confidence are the same whichever forecasts."},
    {TTM, "scale_in_window_minutes",
     INT_RANGE_KEY(ttm_t, scale_in_window_minutes, CFG_RANGE_SCALE_IN_WINDOW),
     .help = "Bounded churn: a forecast lowers the count it holds only once every target of the "
             "last this many minutes is lower (raising is at once), as the HPA's scale-down "
             "stabilisation window. 0 = off."},
    {TTM, "forecast_ceiling", BOOL_KEY(ttm_t, forecast_ceiling),
     .help = "Forecasts hold a ceiling as well as a floor (they also scale in). false = floor "
             "only: forecasts only ever add instances and tier 1 scales in."},
    {TTM, "selection_steps", INT_RANGE_KEY(ttm_t, selection_steps, CFG_RANGE_SELECTION_STEPS),
     .help = "forecaster = auto: candidates are scored at steps 1..this many minutes ahead (set "
             "it to the instances' start-up delay: those are the forecasts sizing acts on in "
             "time); 0 = the whole horizon."},
    {TTM, "selection_window_minutes",
     INT_RANGE_KEY(ttm_t, selection_window_minutes, CFG_RANGE_SELECTION_WINDOW),
     .help = "forecaster = auto: a candidate's recent error is over this many resolved minutes "
             "at each step (the step score; the peak scores read the last 240 forecasts)."},
    {TTM, "selection_min_samples",
     INT_KEY(ttm_t, selection_min_samples, 1, CFG_MAX_SELECTION_WINDOW),
     .help = "forecaster = auto: resolved minutes at every step before a candidate is scored "
             "(at most selection_window_minutes)."},
    {TTM, "selection_margin", DOUBLE_RANGE_KEY(ttm_t, selection_margin, CFG_RANGE_SELECTION_MARGIN),
     .help = "forecaster = auto: a challenger takes over only with a score below the active "
             "one's x (1 - margin); from the model, a simple one with any lower score."},
    {TTM, "selection_dwell_minutes",
     INT_RANGE_KEY(ttm_t, selection_dwell_minutes, CFG_RANGE_SELECTION_DWELL),
     .help = "forecaster = auto: a candidate that won on its score drives at least this long."},
    {TTM, "selection_underforecast_weight",
     DOUBLE_RANGE_KEY(ttm_t, selection_underforecast_weight,
                      CFG_RANGE_SELECTION_UNDERFORECAST_WEIGHT),
     .help = "forecaster = auto: in a candidate's score an under-forecast (actual above the "
             "forecast) weighs this many times an over-forecast of the same size."},
    {TTM, "selection_score", ENUM_KEY(ttm_t, selection_score, sel_score_names, SEL_SCORE_COUNT),
     .help = "forecaster = auto: what a candidate's score measures: `step` (its error at each "
             "step 1..selection_steps), `peak-quantile` (the pinball loss of its forecast peak "
             "over those steps read as the selection_peak_quantile quantile of the actual peak) "
             "or `peak` (what sizing with its own headroom, the 95th percentile of its peak "
             "shortfalls, over-provisions, plus 19 x what it misses); each relative to "
             "persistence's."},
    {TTM, "selection_peak_quantile",
     DOUBLE_RANGE_KEY(ttm_t, selection_peak_quantile, CFG_RANGE_SELECTION_PEAK_QUANTILE),
     .help = "forecaster = auto, selection_score = peak-quantile: the quantile of the actual "
             "peak a candidate's forecast peak is scored as (an under-forecast of the peak weighs "
             "q / (1 - q) times an over-forecast)."},
    {TTM, "mode", ENUM_KEY(ttm_t, mode, cfg_ttm_mode_names, CFG_TTM_MODE_COUNT),
     .help = "`forecast-only` records and exports recommendations without acting on them and "
             "leaves the thresholds alone."},

    {CLUSTER, "etcd_endpoints", STRV_KEY(cluster_t, etcd_endpoints, etcd_endpoints_count),
     .flags = CFG_HTTP_URL, .default_text = "[] (single node)",
     .help = "`http://` client URLs of the etcd cluster (at most 8), tried in turn when one "
             "fails; empty means a single node."},
    {CLUSTER, "name", STRING_KEY(cluster_t, name), .default_text = "\"\" (node.id)",
     .help = "Name of this node in the cluster (letters, digits, `.`, `_`, `-`), unique among "
             "its members; empty means `node.id`."},
    {CLUSTER, "lease_ttl_ms", INT_KEY(cluster_t, lease_ttl_ms, 2000, 3600000),
     .help = "TTL of the node's etcd lease, in milliseconds (rounded up to whole seconds): a "
             "leader that stops renewing it loses the leadership this long after."},
    {CLUSTER, "prefix", STRING_KEY(cluster_t, prefix),
     .help = "Prefix of every key the cluster writes in etcd; starts and ends with `/`."},
    {CLUSTER, "username", STRING_KEY(cluster_t, username), .default_text = "\"\" (no auth)",
     .help = "etcd user the node authenticates as (etcd with `auth enable`); empty means etcd "
             "without authentication."},
    {CLUSTER, "password_file", STRING_KEY(cluster_t, password_file), .flags = CFG_PATH,
     .default_text = "\"\"",
     .help = "File whose first line is the password of `username` (keep it readable by the "
             "node only); required with `username`."},

    {BP, "name", STRING_KEY(bp_t, name), .flags = CFG_REQUIRED,
     .help = "Unique name: lowercase letters, digits and `-`."},
    {BP, "actuator", ENUM_KEY(bp_t, actuator, cfg_actuator_names, CFG_ACTUATOR_COUNT),
     .help = "How instances are started and stopped: `process` supervises child processes, "
             "`exec` runs `scale_command`."},
    {BP, "min_instances", INT_RANGE_KEY(bp_t, min_instances, CFG_RANGE_MIN_INSTANCES),
     .help = "Never fewer instances than this."},
    {BP, "max_instances", INT_RANGE_KEY(bp_t, max_instances, CFG_RANGE_MAX_INSTANCES),
     .help = "Never more instances than this; at least `min_instances`."},
    {BP, "instances", INT_RANGE_KEY(bp_t, instances, CFG_RANGE_MIN_INSTANCES),
     .default_text = "min_instances",
     .help = "Instances requested at start, within min_instances..max_instances."},
    {BP, "cpu_limit_cores", DOUBLE_RANGE_KEY(bp_t, cpu_limit_cores, CFG_RANGE_CPU_LIMIT_CORES),
     .help = "CPU allowance of one instance in cores; CPU usage is measured against it."},
    {BP, "memory_limit_bytes", .type = CFG_INT64, AT(bp_t, memory_limit_bytes), .min = 0,
     .flags = CFG_NO_MAX, .default_text = "host memory / max_instances",
     .help = "Memory allowance of one instance in bytes; heap usage is measured against it. 0 "
             "means the default."},
    {BP, "host_metrics", BOOL_KEY(bp_t, host_metrics),
     .help = "Use the whole host's CPU and memory as the blueprint's cpu_usage and heap_usage "
             "when no instance, scrape or push gives them (for a host that runs only this "
             "workload)."},
    {BP, "command", STRV_KEY(bp_t, command, command_count), .kinds = PROCESS, .flags = CFG_NONEMPTY,
     .default_text = "(required)",
     .help = "*process*: program and arguments of one instance; `{port}` and `{instance}` are "
             "replaced by the instance's port and index (from 0). A relative program path is "
             "relative to the working directory."},
    {BP, "env", .type = CFG_ENV, AT(bp_t, env), .aux = offsetof(bp_t, env_count), .kinds = PROCESS,
     .default_text = "{}",
     .help = "*process*: environment variables added for each instance (a table of strings)."},
    {BP, "port_base", INT_RANGE_KEY(bp_t, port_base, CFG_RANGE_PORT), .kinds = PROCESS,
     .help = "*process*: instance i listens on port_base + i (so port_base + max_instances - 1 "
             "must stay within 65535)."},
    {BP, "metrics_path", STRING_KEY(bp_t, metrics_path), .kinds = PROCESS,
     .help = "*process*: path of each instance's Prometheus metrics, starting with `/`; an "
             "instance is ready once it answers there."},
    {BP, "startup_timeout_ms",
     INT_RANGE_KEY(bp_t, startup_timeout_ms, CFG_RANGE_STARTUP_TIMEOUT_MS), .kinds = PROCESS | EXEC,
     .help = "*process*: an instance not ready within this long is counted as failed and "
             "restarted; *exec*: a `scale_command` or `status_command` run still going after "
             "this long is killed and counts as failed. In milliseconds."},
    {BP, "stop_grace_ms", INT_RANGE_KEY(bp_t, stop_grace_ms, CFG_RANGE_STOP_GRACE_MS),
     .kinds = PROCESS,
     .help = "*process*: time between SIGTERM and SIGKILL when stopping an instance, in "
             "milliseconds."},
    {BP, "scale_command", STRV_KEY(bp_t, scale_command, scale_command_count), .kinds = EXEC,
     .flags = CFG_NONEMPTY, .default_text = "(required)",
     .help = "*exec*: command run to set the instance count; `{blueprint}` and `{instances}` "
             "are replaced."},
    {BP, "status_command", STRV_KEY(bp_t, status_command, status_command_count), .kinds = EXEC,
     .default_text = "[]",
     .help = "*exec*: command printing the orchestrator's count as one line `READY REQUESTED` "
             "(two whole numbers, e.g. `2 3`), run every 5 s and after each `scale_command` "
             "run; `{blueprint}` is replaced. With it the blueprint's ready count is the "
             "orchestrator's; without it, the count of the last successful run."},
    {BP, "metrics_urls", STRV_KEY(bp_t, metrics_urls, metrics_urls_count), .kinds = EXEC,
     .flags = CFG_WEB_URL, .default_text = "[]",
     .help = "*exec*: `http://` or `https://` URLs scraped for metrics (TLS as set in "
             "`[blueprint.prometheus]`: ca_file, tls_verify); without them only pushed metrics "
             "(`POST /api/metrics/{blueprint}`) "
             "are used."},

    {BPM, "requests_total", STRING_KEY(bp_t, metrics.requests_total),
     .help = "Counter of completed requests."},
    {BPM, "errors_total", STRING_KEY(bp_t, metrics.errors_total),
     .help = "Counter of failed requests."},
    {BPM, "latency_histogram", STRING_KEY(bp_t, metrics.latency_histogram),
     .help = "Histogram of request durations in seconds (its `_bucket`, `_sum` and `_count`)."},
    {BPM, "gc_pause_total", STRING_KEY(bp_t, metrics.gc_pause_total),
     .default_text = "\"\" (unset)", .help = "Counter of garbage-collection pause seconds."},

    {BPP, "url", STRING_KEY(bp_t, prometheus.url), .default_text = "\"\" (none)",
     .help = "Base URL of the Prometheus server (`http://` or `https://`), e.g. "
             "`http://127.0.0.1:9090`; empty means no Prometheus source."},
    {BPP, "query_timeout_ms",
     INT_RANGE_KEY(bp_t, prometheus.query_timeout_ms, CFG_RANGE_PROM_TIMEOUT_MS),
     .help = "Time limit of one round of queries (and of each backfill request), in "
             "milliseconds; a query not answered by then leaves its feature missing."},
    {BPP, "selector", STRING_KEY(bp_t, prometheus.selector),
     .help = "Label matchers put into every default query, e.g. `job=\"web\"`; empty selects "
             "every series of the metric."},
    {BPP, "ca_file", STRING_KEY(bp_t, prometheus.ca_file), .flags = CFG_PATH,
     .default_text = "\"\" (system CAs)",
     .help = "PEM file of the certificate authorities an `https://` server is verified "
             "against (also used for the blueprint's https:// scrape targets)."},
    {BPP, "tls_verify", BOOL_KEY(bp_t, prometheus.tls_verify),
     .help = "Verify the certificate and host name of `https://` servers; false accepts any "
             "certificate (for tests only)."},
    {BPP, "backfill_minutes",
     INT_RANGE_KEY(bp_t, prometheus.backfill_minutes, CFG_RANGE_PROM_BACKFILL_MINUTES),
     .help = "Minutes of history read from Prometheus on start into the store (minutes the "
             "store already has are kept); at least the model window makes forecasts start at "
             "once, more feeds the forecaster selection (`ttm.forecaster = \"auto\"` reads up "
             "to 7 days). 0 disables the backfill."},

    QUERY_KEY("cpu_usage", AE_F_CPU_USAGE,
              "Default: `sum(rate(process_cpu_seconds_total{S}[1m])) / "
              "count(process_cpu_seconds_total{S}) / cpu_limit_cores`."),
    QUERY_KEY("heap_usage", AE_F_HEAP_USAGE,
              "Default: `avg(process_resident_memory_bytes{S}) / memory_limit_bytes`."),
    QUERY_KEY("event_loop_lag_ms", AE_F_EVENT_LOOP_LAG_MS, "No default."),
    QUERY_KEY("latency_ms", AE_F_LATENCY_MS,
              "Default: `1000 * sum(rate(H_sum{S}[1m])) / sum(rate(H_count{S}[1m]))`, H = "
              "metrics.latency_histogram."),
    QUERY_KEY("invocations", AE_F_INVOCATIONS,
              "Requests per second. Default: `sum(rate(R{S}[1m]))`, R = metrics.requests_total."),
    QUERY_KEY("gc_pause_ms", AE_F_GC_PAUSE_MS,
              "Default (only with metrics.gc_pause_total = G): `1000 * sum(rate(G{S}[1m]))`."),
    QUERY_KEY("latency_p50", AE_F_LATENCY_P50,
              "Default: `1000 * histogram_quantile(0.5, sum by (le) (rate(H_bucket{S}[1m])))`."),
    QUERY_KEY("latency_p95", AE_F_LATENCY_P95, "Default: as latency_p50 with 0.95."),
    QUERY_KEY("latency_p99", AE_F_LATENCY_P99, "Default: as latency_p50 with 0.99."),
    QUERY_KEY("error_rate", AE_F_ERROR_RATE,
              "Default: `sum(rate(E{S}[1m])) / sum(rate(R{S}[1m]))`, E = metrics.errors_total."),
    QUERY_KEY("event_count", AE_F_EVENT_COUNT,
              "Events per second. Default: the invocations query."),
};

int cfg_subsection(enum cfg_section_id parent, const char *name)
{
    if (parent == CFG_SEC_BLUEPRINT && strcmp(name, "metrics") == 0)
        return CFG_SEC_BLUEPRINT_METRICS;
    if (parent == CFG_SEC_BLUEPRINT && strcmp(name, "prometheus") == 0)
        return CFG_SEC_BLUEPRINT_PROMETHEUS;
    if (parent == CFG_SEC_BLUEPRINT_PROMETHEUS && strcmp(name, "queries") == 0)
        return CFG_SEC_BLUEPRINT_QUERIES;
    return -1;
}

const size_t cfg_key_count = sizeof(cfg_keys) / sizeof(cfg_keys[0]);

const struct cfg_key *cfg_key_find(enum cfg_section_id section, const char *name)
{
    for (size_t i = 0; i < cfg_key_count; i++)
        if (cfg_keys[i].section == section && strcmp(cfg_keys[i].name, name) == 0)
            return &cfg_keys[i];
    return NULL;
}

void *cfg_key_base(const struct cfg_key *k, struct ae_config *c, struct cfg_blueprint *b)
{
    return cfg_section_base(k->section, c, b);
}

void *cfg_section_base(enum cfg_section_id section, struct ae_config *c, struct cfg_blueprint *b)
{
    switch (section) {
    case CFG_SEC_NODE:
        return &c->node;
    case CFG_SEC_API:
        return &c->api;
    case CFG_SEC_CONTROLLER:
        return &c->controller;
    case CFG_SEC_TTM:
        return &c->ttm;
    case CFG_SEC_CLUSTER:
        return &c->cluster;
    default:
        return b;
    }
}

/* A number as TOML would write it, as short as still reads back exactly. */
static void format_double(double v, char *buf, size_t size)
{
    if (isnan(v)) {
        snprintf(buf, size, "nan");
        return;
    }
    if (isinf(v)) {
        snprintf(buf, size, "%sinf", v < 0 ? "-" : "");
        return;
    }
    snprintf(buf, size, "%.15g", v);
    if (strtod(buf, NULL) != v)
        snprintf(buf, size, "%.17g", v);
}

void cfg_key_range_text(const struct cfg_key *k, char *buf, size_t size)
{
    char lo[32], hi[32];
    buf[0] = '\0';
    if (k->type == CFG_ENUM) {
        size_t used = (size_t)snprintf(buf, size, "one of:");
        for (int i = 0; i < k->name_count && used < size; i++)
            used += (size_t)snprintf(buf + used, size - used, "%s %s", i ? "," : "", k->names[i]);
        return;
    }
    if (k->type != CFG_INT && k->type != CFG_INT64 && k->type != CFG_DOUBLE)
        return;
    format_double(k->min, lo, sizeof(lo));
    format_double(k->max, hi, sizeof(hi));
    if (k->flags & CFG_NO_MAX)
        snprintf(buf, size, "%s %s", (k->flags & CFG_MIN_EXCLUSIVE) ? ">" : ">=", lo);
    else
        snprintf(buf, size, "%s..%s", lo, hi);
}

void cfg_toml_quote(const char *s, char *buf, size_t size)
{
    size_t used = 0;
    if (size == 0)
        return;
#define PUT(...)                                                                                   \
    do {                                                                                           \
        int n_ = snprintf(buf + used, size - used, __VA_ARGS__);                                   \
        used = (n_ < 0 || (size_t)n_ >= size - used) ? size - 1 : used + (size_t)n_;               \
    } while (0)
    PUT("\"");
    for (const unsigned char *p = (const unsigned char *)s; *p && used < size - 1; p++) {
        if (*p == '"' || *p == '\\')
            PUT("\\%c", *p);
        else if (*p == '\n')
            PUT("\\n");
        else if (*p == '\t')
            PUT("\\t");
        else if (*p < 0x20 || *p == 0x7F)
            PUT("\\u%04X", *p);
        else
            PUT("%c", *p);
    }
    PUT("\"");
#undef PUT
}

/* Appends text to buf at *used, truncating at the end of the buffer. */
static void append(char *buf, size_t size, size_t *used, const char *text)
{
    int n = snprintf(buf + *used, size - *used, "%s", text);
    *used = (n < 0 || (size_t)n >= size - *used) ? size - 1 : *used + (size_t)n;
}

static int is_bare_key(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-'))
            return 0;
    return 1;
}

void cfg_key_format_value(const struct cfg_key *k, const void *base, char *buf, size_t size)
{
    const char *field = (const char *)base + k->offset;
    char item[CFG_PATH_MAX * 2 + 8];
    size_t used = 0;
    buf[0] = '\0';
    switch (k->type) {
    case CFG_BOOL:
        snprintf(buf, size, "%s", *(const int *)field ? "true" : "false");
        return;
    case CFG_INT:
        snprintf(buf, size, "%d", *(const int *)field);
        return;
    case CFG_INT64:
        snprintf(buf, size, "%lld", (long long)*(const int64_t *)field);
        return;
    case CFG_DOUBLE:
        format_double(*(const double *)field, buf, size);
        return;
    case CFG_STRING:
        cfg_toml_quote(field, buf, size);
        return;
    case CFG_ENUM: {
        int v = *(const int *)field;
        cfg_toml_quote(v >= 0 && v < k->name_count ? k->names[v] : "?", buf, size);
        return;
    }
    case CFG_STRV: {
        char *const *list = *(char *const *const *)field;
        int count = *(const int *)((const char *)base + k->aux);
        append(buf, size, &used, "[");
        for (int i = 0; i < count; i++) {
            cfg_toml_quote(list[i], item, sizeof(item));
            append(buf, size, &used, i ? ", " : "");
            append(buf, size, &used, item);
        }
        append(buf, size, &used, "]");
        return;
    }
    case CFG_ENV: {
        const struct cfg_env_var *env = *(const struct cfg_env_var *const *)field;
        int count = *(const int *)((const char *)base + k->aux);
        append(buf, size, &used, count ? "{ " : "{}");
        for (int i = 0; i < count; i++) {
            if (is_bare_key(env[i].name))
                snprintf(item, sizeof(item), "%s", env[i].name);
            else
                cfg_toml_quote(env[i].name, item, sizeof(item));
            append(buf, size, &used, i ? ", " : "");
            append(buf, size, &used, item);
            append(buf, size, &used, " = ");
            cfg_toml_quote(env[i].value, item, sizeof(item));
            append(buf, size, &used, item);
        }
        append(buf, size, &used, count ? " }" : "");
        return;
    }
    }
}

void cfg_key_default_text(const struct cfg_key *k, char *buf, size_t size)
{
    if (k->default_text) {
        snprintf(buf, size, "%s", k->default_text);
        return;
    }
    struct ae_config c;
    struct cfg_blueprint b;
    cfg_defaults(&c);
    cfg_blueprint_defaults(&b);
    cfg_key_format_value(k, cfg_key_base(k, &c, &b), buf, size);
}

const char *cfg_type_words(const struct cfg_key *k)
{
    switch (k->type) {
    case CFG_BOOL:
        return "boolean";
    case CFG_INT:
    case CFG_INT64:
        return "integer";
    case CFG_DOUBLE:
        return "float";
    case CFG_STRING:
        return "string";
    case CFG_ENUM:
        return "string";
    case CFG_STRV:
        return "array of strings";
    case CFG_ENV:
        return "table of strings";
    }
    return "?";
}
