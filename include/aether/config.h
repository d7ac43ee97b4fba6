/* Configuration structs for every section of aether.toml, their defaults and their validation.
 *
 * The core owns the shape and the rules; src/config maps TOML keys onto these fields through one
 * table (key, type, default, range, help). One field per key, named like the key; durations carry
 * their unit in the name (_ms). Short strings live in fixed buffers (a value that does not fit is
 * a validation error of the parser); lists (argv arrays, env tables, URL lists) are heap-owned and
 * released with cfg_free() / cfg_blueprint_free().
 *
 * Validation functions return 0 or AE_ERANGE/AE_EINVAL and write the first problem into err as
 * "<section>.<key> = <value> is out of range <lo>..<hi>" (or a sentence naming the key). */
#ifndef AETHER_CONFIG_H
#define AETHER_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "aether/aggregator.h"
#include "aether/confidence.h"
#include "aether/forecast.h"
#include "aether/forecaster.h"
#include "aether/select.h"

#define CFG_NAME_MAX 64   /* blueprint names, node id, log level (incl. the NUL) */
#define CFG_PATH_MAX 1024 /* paths, URLs, bind address, metric names (incl. the NUL) */
#define CFG_TOKEN_MAX 256 /* api.token (incl. the NUL): the one limit the loader, the node and
                             the HTTP server share */
#define CFG_TOKEN_FILE "api-token" /* in node.data_dir: the token generated when unset */
#define CFG_MAX_SCALE_IN_WINDOW 60  /* ttm.scale_in_window_minutes at most */
#define CFG_MAX_SELECTION_WINDOW 60 /* ttm.selection_window_minutes at most (SEL_WINDOW_MAX) */

/* The numeric range (lo, hi) of each key that has a fixed one, defined once: the core's
 * validation (cfg_*_validate) checks it and the loader's key table (src/config/cfg_schema.c)
 * enforces and documents the same pair. Ranges that depend on other keys (instances within
 * min..max, port_base + max_instances) are checked by the core on top. */
#define CFG_RANGE_RETENTION_DAYS 1, 3650
#define CFG_RANGE_CPU_THRESHOLD 0, 1
#define CFG_RANGE_CLIENT_CONNECTIONS 1, 1024
#define CFG_RANGE_REQUEST_TIMEOUT_MS 100, 600000
#define CFG_RANGE_CONCURRENT_EXPORTS 1, 64
#define CFG_RANGE_MODEL_MEMORY_MB 1, 65536
#define CFG_RANGE_CONTROLLER_INTERVAL_MS 1, 3600000
#define CFG_RANGE_WARM_UP_MS 0, 86400000
#define CFG_RANGE_COOLDOWN_MS 0, 86400000
#define CFG_RANGE_WINDOW_MINUTES 1, AGG_MAX_WINDOW
#define CFG_RANGE_HORIZON_MINUTES 1, CONF_MAX_HORIZON
#define CFG_RANGE_TTM_INTERVAL_MS 10000, 300000
#define CFG_RANGE_CONFIDENCE 0, 1
#define CFG_RANGE_UPPER_BOUND_UTIL 0.1, 1
#define CFG_RANGE_HEADROOM_QUANTILE FCST_HEADROOM_QUANTILE_MIN, FCST_HEADROOM_QUANTILE_MAX
#define CFG_RANGE_SCALE_IN_WINDOW 0, CFG_MAX_SCALE_IN_WINDOW
#define CFG_RANGE_SELECTION_STEPS 0, CONF_MAX_HORIZON
#define CFG_RANGE_SELECTION_WINDOW 1, CFG_MAX_SELECTION_WINDOW
#define CFG_RANGE_SELECTION_MARGIN 0, 0.5
#define CFG_RANGE_SELECTION_DWELL 0, 1440
#define CFG_MAX_SELECTION_UNDERFORECAST_WEIGHT 10 /* SEL_UNDERFORECAST_WEIGHT_MAX */
#define CFG_RANGE_SELECTION_UNDERFORECAST_WEIGHT 1, CFG_MAX_SELECTION_UNDERFORECAST_WEIGHT
#define CFG_RANGE_SELECTION_PEAK_QUANTILE SEL_PEAK_QUANTILE_MIN, SEL_PEAK_QUANTILE_MAX
#define CFG_RANGE_MIN_INSTANCES 0, 10000
#define CFG_RANGE_MAX_INSTANCES 1, 10000
#define CFG_RANGE_CPU_LIMIT_CORES 0.001, 4096
#define CFG_RANGE_PORT 1, 65535
#define CFG_RANGE_STARTUP_TIMEOUT_MS 1, 3600000
#define CFG_RANGE_STOP_GRACE_MS 0, 3600000
#define CFG_RANGE_PROM_TIMEOUT_MS 100, 60000
#define CFG_RANGE_PROM_BACKFILL_MINUTES 0, 10080

/* Enumerated values: the enum, and the spelling used in TOML at the same index. */
enum cfg_log_level {
    CFG_LOG_DEBUG,
    CFG_LOG_INFO,
    CFG_LOG_WARN,
    CFG_LOG_ERROR,
    CFG_LOG_LEVEL_COUNT
};
extern const char
    *const cfg_log_level_names[CFG_LOG_LEVEL_COUNT]; /* "debug" "info" "warn" "error" */

enum cfg_log_format { CFG_LOG_TEXT, CFG_LOG_JSON, CFG_LOG_FORMAT_COUNT };
extern const char *const cfg_log_format_names[CFG_LOG_FORMAT_COUNT]; /* "text" "json" */

enum cfg_ttm_mode { CFG_TTM_ACTIVE, CFG_TTM_FORECAST_ONLY, CFG_TTM_MODE_COUNT };
extern const char *const cfg_ttm_mode_names[CFG_TTM_MODE_COUNT]; /* "active" "forecast-only" */

enum cfg_actuator { CFG_ACTUATOR_PROCESS, CFG_ACTUATOR_EXEC, CFG_ACTUATOR_COUNT };
#define CFG_KIND(actuator) (1u << (actuator)) /* a set of actuator kinds, as bits */
extern const char *const cfg_actuator_names[CFG_ACTUATOR_COUNT]; /* "process" "exec" */

/* Index of s in names[0..count-1], or -1 (also for NULL). */
int cfg_enum_parse(const char *const *names, int count, const char *s);

/* [node] */
struct cfg_node {
    char id[CFG_NAME_MAX];             /* "" = the node derives one (host name) */
    char data_dir[CFG_PATH_MAX];       /* "data" */
    char extensions_dir[CFG_PATH_MAX]; /* "extensions" */
    int history_retention_days;        /* 14, 1..3650 */
    enum cfg_log_level log_level;      /* info */
    enum cfg_log_format log_format;    /* text */
};

/* [api] */
struct cfg_api {
    char bind[CFG_PATH_MAX];   /* "127.0.0.1:8080": host:port, port 1..65535 */
    char token[CFG_TOKEN_MAX]; /* when given, POST requests must carry it; "" = none */
    int token_given;           /* 0: api.token not written; the node generates one into
                                  data_dir/CFG_TOKEN_FILE (or reads the one it made before) */
    int allow_remote_without_token; /* 0: a bind that is not loopback needs a token */
    int max_connections_per_client; /* 32, 1..1024: open connections one address may hold */
    int request_timeout_ms;         /* 10000, 100..600000: headers and body must arrive within */
    int max_concurrent_exports;     /* 4, 1..64: streamed training-data exports at once */
};

/* [controller]: the reactive tier (decision tree, tier 1). */
struct cfg_controller {
    double cpu_scale_up_threshold;       /* 0.9, 0..1, > cpu_scale_down_threshold */
    double cpu_scale_down_threshold;     /* 0.2, 0..1 */
    double call_rate_scale_up_threshold; /* 2000 calls/s per requested instance, > 0 */
    int evaluation_interval_ms;          /* 1000, 1..3600000 */
    int warm_up_period_ms;               /* 30000, 0..86400000 */
    int slice_cooldown_ms;               /* 10000, 0..86400000 */
};

/* [ttm]: the predictive tier. */
struct cfg_ttm {
    int enabled;                    /* 0 */
    char model_path[CFG_PATH_MAX];  /* "models/ttm-aether.onnx" */
    int max_model_memory_mb;        /* 1024, 1..65536: weights + planned tensors of a model */
    int input_window_minutes;       /* 30, 1..120 */
    int prediction_horizon;         /* 5, 1..10 */
    int evaluation_interval_ms;     /* 60000, 10000..300000 */
    double confidence_threshold;    /* 0.7, 0..1 */
    double upper_bound_utilization; /* 0.90, 0.1..1 */
    double headroom_quantile;       /* 0.70, 0.5..0.99: of recent under-forecasts, for sizing */
    enum cfg_ttm_mode mode;         /* active */
    enum fcr_kind forecaster;       /* auto: what forecasts (forecaster.h's table) */
    int scale_in_window_minutes;    /* 45, 0..CFG_MAX_SCALE_IN_WINDOW: a forecast lowers the
                                       held count only below every target of this window */
    int forecast_ceiling;           /* 1: forecasts hold a ceiling too; 0: floor only */
    /* forecaster = auto: the selection's constants (select.h, struct sel_params) */
    int selection_steps;          /* 3, 0..CONF_MAX_HORIZON: steps 1..S scored; 0 = horizon */
    int selection_window_minutes; /* 60, 1..CFG_MAX_SELECTION_WINDOW: resolved minutes kept */
    int selection_min_samples;    /* 10, 1..selection_window_minutes: before a score */
    double selection_margin;      /* 0.10, 0..0.5: a challenger must be this much better */
    int selection_dwell_minutes;  /* 30, 0..1440: least time a winner drives */
    double selection_underforecast_weight; /* 1, 1..10: an under-forecast's weight in a score */
    int selection_score; /* enum sel_score_kind, peak-quantile: what a score measures (select.h) */
    double selection_peak_quantile; /* 0.65, 0.5..0.99: tau of the peak-quantile score */
};

/* [cluster]: cluster mode on etcd (docs/cluster.md). No endpoints = a single node. */
#define CFG_CLUSTER_ENDPOINTS_MAX 8
#define CFG_CLUSTER_PREFIX_MAX 128
struct cfg_cluster {
    char **etcd_endpoints;    /* heap, etcd_endpoints_count http:// URLs + a NULL; may be empty */
    int etcd_endpoints_count; /* 0..CFG_CLUSTER_ENDPOINTS_MAX */
    char name[CFG_NAME_MAX];  /* "" = node.id; [A-Za-z0-9._-] */
    int lease_ttl_ms;         /* 10000, 2000..3600000 */
    char prefix[CFG_CLUSTER_PREFIX_MAX]; /* "/aether/": starts and ends with '/' */
    char username[CFG_NAME_MAX];         /* etcd user; "" = etcd without authentication */
    char password_file[CFG_PATH_MAX];    /* file whose first line is that user's password */
};

/* [blueprint.metrics]: Prometheus metric names scraped from each instance. "" = unset. */
struct cfg_metrics_names {
    char requests_total[CFG_PATH_MAX];    /* "http_requests_total" */
    char errors_total[CFG_PATH_MAX];      /* "http_request_errors_total" */
    char latency_histogram[CFG_PATH_MAX]; /* "http_request_duration_seconds" */
    char gc_pause_total[CFG_PATH_MAX];    /* "" (unset) */
};

/* [blueprint.prometheus]: features read by PromQL from an existing Prometheus (docs/config.md,
 * "Prometheus as a source"). url "" = none. queries[f] "" = the default query of feature f
 * (built from [blueprint.metrics] and selector, see collector.h), "off" = not queried. */
#define CFG_PROMQL_MAX 512
struct cfg_prometheus {
    char url[CFG_PATH_MAX];      /* "" = no Prometheus source; http:// or https:// base URL */
    int query_timeout_ms;        /* 2000, CFG_RANGE_PROM_TIMEOUT_MS */
    char selector[CFG_PATH_MAX]; /* "" = every series; label matchers put into default queries */
    char ca_file[CFG_PATH_MAX];  /* "" = the system's CAs; PEM bundle for https:// */
    int tls_verify;              /* 1; 0 = accept any certificate (testing only) */
    int backfill_minutes;        /* 120, CFG_RANGE_PROM_BACKFILL_MINUTES; 0 = no backfill */
    char queries[AE_FEATURE_COUNT][CFG_PROMQL_MAX];
};

/* One entry of a blueprint's env table. Both strings heap-owned by the blueprint. */
struct cfg_env_var {
    char *name;
    char *value;
};

/* [[blueprint]] */
struct cfg_blueprint {
    char name[CFG_NAME_MAX];    /* required, unique, [a-z0-9-]+ */
    enum cfg_actuator actuator; /* process */
    int min_instances;          /* 1, 0..10000 */
    int max_instances;          /* 10, 1..10000, >= min_instances */
    int instances;              /* initial count; -1 = min_instances (see cfg_blueprint_resolve) */
    double cpu_limit_cores;     /* 1, 0.001..4096 */
    int64_t memory_limit_bytes; /* 0 = host memory / max_instances (see cfg_blueprint_resolve) */
    int host_metrics;           /* 0; 1 = cpu/heap of the whole host, lowest precedence */

    /* actuator = "process" */
    char **command;          /* heap argv, command_count strings + a NULL; {port} {instance} */
    int command_count;       /* >= 1 for the process actuator */
    struct cfg_env_var *env; /* heap, env_count entries */
    int env_count;
    int port_base;                   /* 9100; instance i listens on port_base + i; 1..65535 */
    char metrics_path[CFG_PATH_MAX]; /* "/metrics", must start with '/' */
    int startup_timeout_ms;          /* 30000, 1..3600000 */
    int stop_grace_ms;               /* 10000, 0..3600000 */

    /* actuator = "exec" */
    char **scale_command; /* heap argv + NULL; {blueprint} {instances}; required for exec */
    int scale_command_count;
    char **status_command; /* heap argv + NULL; {blueprint}; may be empty (ready = last run) */
    int status_command_count;
    char **metrics_urls; /* heap, metrics_urls_count http(s) URLs + a NULL; may be empty */
    int metrics_urls_count;

    struct cfg_metrics_names metrics;
    struct cfg_prometheus prometheus;
};

/* The whole file. */
struct ae_config {
    struct cfg_node node;
    struct cfg_api api;
    struct cfg_controller controller;
    struct cfg_ttm ttm;
    struct cfg_cluster cluster;       /* its list is heap-owned (cfg_free) */
    struct cfg_blueprint *blueprints; /* heap, blueprint_count entries, in file order */
    int blueprint_count;
};

/* Defaults of each section (overwrite *out entirely; nothing allocated). */
void cfg_node_defaults(struct cfg_node *out);
void cfg_api_defaults(struct cfg_api *out);
void cfg_controller_defaults(struct cfg_controller *out);
void cfg_ttm_defaults(struct cfg_ttm *out);
void cfg_cluster_defaults(struct cfg_cluster *out); /* no endpoints (nothing allocated) */
void cfg_metrics_names_defaults(struct cfg_metrics_names *out);
/* A blueprint with every default and no name, no lists (all list pointers NULL, counts 0). */
void cfg_blueprint_defaults(struct cfg_blueprint *out);
/* Every section's defaults and no blueprints. Free with cfg_free() once blueprints are added. */
void cfg_defaults(struct ae_config *out);

/* Validation of each section on its own; 0 when valid, else AE_ERANGE (a number out of range) or
 * AE_EINVAL (a bad string or combination) with the message in err (may be NULL). */
int cfg_node_validate(const struct cfg_node *c, char *err, size_t errlen);
int cfg_api_validate(const struct cfg_api *c, char *err, size_t errlen);
int cfg_controller_validate(const struct cfg_controller *c, char *err, size_t errlen);
int cfg_ttm_validate(const struct cfg_ttm *c, char *err, size_t errlen);
int cfg_cluster_validate(const struct cfg_cluster *c, char *err, size_t errlen);
/* Keys are reported as blueprint.<name>.<key> (blueprint[<index>].<key> while the name itself is
 * invalid), e.g. "blueprint.web.max_instances = 0 is out of range 1..10000". */
int cfg_blueprint_validate(const struct cfg_blueprint *b, int index, char *err, size_t errlen);
/* Every section, every blueprint, and names unique across blueprints. */
int cfg_validate(const struct ae_config *c, char *err, size_t errlen);

/* Fills the derived defaults of a valid blueprint: instances = min_instances when -1 (and
 * clamped into [min, max]), memory_limit_bytes = host_memory_bytes / max_instances when 0. */
void cfg_blueprint_resolve(struct cfg_blueprint *b, int64_t host_memory_bytes);

/* Appends a blueprint with defaults to c->blueprints and returns it (borrowed, valid until the
 * next append or cfg_free), or NULL when out of memory. */
struct cfg_blueprint *cfg_blueprint_add(struct ae_config *c);

/* Appends a copy of s to a heap string list (*list has *count strings and a NULL terminator, or
 * is NULL). Returns 0 or AE_ENOMEM (the list is unchanged then). Used for command,
 * scale_command and metrics_urls. */
int cfg_strv_append(char ***list, int *count, const char *s);

/* Sets env var name=value in b->env (replacing an existing name). Returns 0 or AE_ENOMEM. */
int cfg_env_set(struct cfg_blueprint *b, const char *name, const char *value);

/* Frees the heap members of one blueprint and resets its lists to empty (the struct itself is
 * the caller's). */
void cfg_blueprint_free(struct cfg_blueprint *b);

/* Frees every blueprint, the blueprint array and the cluster's endpoint list; c keeps its scalar
 * sections. Safe on a config from cfg_defaults() and to call twice. */
void cfg_free(struct ae_config *c);

#endif
