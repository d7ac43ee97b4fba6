/* Config sections: defaults, validation with messages that name the key and the allowed range,
 * and ownership of the heap lists of a blueprint. The TOML side lives in src/config. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aether/config.h"
#include "aether/error.h"

const char *const cfg_log_level_names[CFG_LOG_LEVEL_COUNT] = {"debug", "info", "warn", "error"};
const char *const cfg_log_format_names[CFG_LOG_FORMAT_COUNT] = {"text", "json"};
const char *const cfg_ttm_mode_names[CFG_TTM_MODE_COUNT] = {"active", "forecast-only"};
const char *const cfg_actuator_names[CFG_ACTUATOR_COUNT] = {"process", "exec"};

int cfg_enum_parse(const char *const *names, int count, const char *s)
{
    if (!s)
        return -1;
    for (int i = 0; i < count; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

/* Copies src into a fixed buffer (the defaults are all short literals). */
#define SET_STR(dst, src) snprintf((dst), sizeof(dst), "%s", (src))

void cfg_node_defaults(struct cfg_node *out)
{
    memset(out, 0, sizeof *out);
    SET_STR(out->data_dir, "data");
    SET_STR(out->extensions_dir, "extensions");
    out->history_retention_days = 14;
    out->log_level = CFG_LOG_INFO;
    out->log_format = CFG_LOG_TEXT;
}

void cfg_api_defaults(struct cfg_api *out)
{
    memset(out, 0, sizeof *out);
    SET_STR(out->bind, "127.0.0.1:8080");
    out->max_connections_per_client = 32;
    out->request_timeout_ms = 10000;
    out->max_concurrent_exports = 4;
}

void cfg_controller_defaults(struct cfg_controller *out)
{
    memset(out, 0, sizeof *out);
    out->cpu_scale_up_threshold = 0.9;
    out->cpu_scale_down_threshold = 0.2;
    out->call_rate_scale_up_threshold = 2000;
    out->evaluation_interval_ms = 1000;
    out->warm_up_period_ms = 30000;
    out->slice_cooldown_ms = 10000;
}

void cfg_ttm_defaults(struct cfg_ttm *out)
{
    memset(out, 0, sizeof *out);
    out->enabled = 0;
    SET_STR(out->model_path, "models/ttm-aether.onnx");
    out->max_model_memory_mb = 1024;
    out->input_window_minutes = 30;
    out->prediction_horizon = 5;
    out->evaluation_interval_ms = 60000;
    out->confidence_threshold = 0.7;
    out->upper_bound_utilization = 0.90;
    out->headroom_quantile = FCST_HEADROOM_QUANTILE_DEFAULT;
    out->mode = CFG_TTM_ACTIVE;
    out->forecaster = FCR_AUTO;
    out->scale_in_window_minutes = 45;
    out->forecast_ceiling = 1;
    out->selection_steps = 3;
    out->selection_window_minutes = 60;
    out->selection_min_samples = 10;
    out->selection_margin = 0.10;
    out->selection_dwell_minutes = 30;
    out->selection_underforecast_weight = 1.0;
    out->selection_score = SEL_SCORE_PEAK_QUANTILE;
    out->selection_peak_quantile = SEL_PEAK_QUANTILE_DEFAULT;
}

void cfg_cluster_defaults(struct cfg_cluster *out)
{
    memset(out, 0, sizeof *out);
    out->etcd_endpoints = NULL;
    out->etcd_endpoints_count = 0;
    out->lease_ttl_ms = 10000;
    SET_STR(out->prefix, "/aether/");
}

void cfg_metrics_names_defaults(struct cfg_metrics_names *out)
{
    memset(out, 0, sizeof *out);
    SET_STR(out->requests_total, "http_requests_total");
    SET_STR(out->errors_total, "http_request_errors_total");
    SET_STR(out->latency_histogram, "http_request_duration_seconds");
}

void cfg_blueprint_defaults(struct cfg_blueprint *out)
{
    memset(out, 0, sizeof *out);
    out->actuator = CFG_ACTUATOR_PROCESS;
    out->min_instances = 1;
    out->max_instances = 10;
    out->instances = -1;
    out->cpu_limit_cores = 1;
    out->memory_limit_bytes = 0;
    out->port_base = 9100;
    SET_STR(out->metrics_path, "/metrics");
    out->startup_timeout_ms = 30000;
    out->stop_grace_ms = 10000;
    cfg_metrics_names_defaults(&out->metrics);
    out->prometheus.query_timeout_ms = 2000;
    out->prometheus.tls_verify = 1;
    out->prometheus.backfill_minutes = 120;
}

void cfg_defaults(struct ae_config *out)
{
    cfg_node_defaults(&out->node);
    cfg_api_defaults(&out->api);
    cfg_controller_defaults(&out->controller);
    cfg_ttm_defaults(&out->ttm);
    cfg_cluster_defaults(&out->cluster);
    out->blueprints = NULL;
    out->blueprint_count = 0;
}

/* ---- validation ---- */

static int fail(int code, char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ae_verrf(err, errlen, 0, fmt, ap);
    va_end(ap);
    return code;
}

static int check_int(const char *key, long v, long lo, long hi, char *err, size_t errlen)
{
    if (v >= lo && v <= hi)
        return 0;
    return fail(AE_ERANGE, err, errlen, "%s = %ld is out of range %ld..%ld", key, v, lo, hi);
}

/* Written as !(in range) so that NaN is out of range too. */
static int check_double(const char *key, double v, double lo, double hi, char *err, size_t errlen)
{
    if (v >= lo && v <= hi)
        return 0;
    return fail(AE_ERANGE, err, errlen, "%s = %g is out of range %g..%g", key, v, lo, hi);
}

static int check_enum(const char *key, int v, const char *const *names, int count, char *err,
                      size_t errlen)
{
    if (v >= 0 && v < count)
        return 0;
    char list[256] = "";
    for (int i = 0; i < count; i++) {
        strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
        strncat(list, names[i], sizeof list - strlen(list) - 1);
    }
    return fail(AE_EINVAL, err, errlen, "%s = %d is not one of %s", key, v, list);
}

#define CHECK(expr)                                                                                \
    do {                                                                                           \
        int rc_ = (expr);                                                                          \
        if (rc_)                                                                                   \
            return rc_;                                                                            \
    } while (0)

int cfg_node_validate(const struct cfg_node *c, char *err, size_t errlen)
{
    if (!c->data_dir[0])
        return fail(AE_EINVAL, err, errlen, "node.data_dir must not be empty");
    CHECK(check_int("node.history_retention_days", c->history_retention_days,
                    CFG_RANGE_RETENTION_DAYS, err, errlen));
    CHECK(check_enum("node.log_level", (int)c->log_level, cfg_log_level_names, CFG_LOG_LEVEL_COUNT,
                     err, errlen));
    CHECK(check_enum("node.log_format", (int)c->log_format, cfg_log_format_names,
                     CFG_LOG_FORMAT_COUNT, err, errlen));
    return 0;
}

int cfg_api_validate(const struct cfg_api *c, char *err, size_t errlen)
{
    const char *colon = strrchr(c->bind, ':');
    long port = 0;
    int ok = colon && colon != c->bind && colon[1];
    for (const char *p = colon ? colon + 1 : ""; ok && *p; p++) {
        ok = *p >= '0' && *p <= '9' && port <= 65535;
        port = port * 10 + (*p - '0');
    }
    if (!ok || port < 1 || port > 65535)
        return fail(AE_EINVAL, err, errlen,
                    "api.bind = \"%s\" must be host:port with a port in 1..65535", c->bind);
    size_t tlen = strnlen(c->token, sizeof c->token);
    if (tlen >= sizeof c->token)
        return fail(AE_EINVAL, err, errlen, "api.token is longer than %d bytes", CFG_TOKEN_MAX - 1);
    for (size_t i = 0; i < tlen; i++)
        if (c->token[i] <= ' ' || c->token[i] == 0x7f)
            return fail(AE_EINVAL, err, errlen,
                        "api.token must be printable ASCII without spaces (byte %zu is not)", i);
    CHECK(check_int("api.max_connections_per_client", c->max_connections_per_client,
                    CFG_RANGE_CLIENT_CONNECTIONS, err, errlen));
    CHECK(check_int("api.request_timeout_ms", c->request_timeout_ms, CFG_RANGE_REQUEST_TIMEOUT_MS,
                    err, errlen));
    CHECK(check_int("api.max_concurrent_exports", c->max_concurrent_exports,
                    CFG_RANGE_CONCURRENT_EXPORTS, err, errlen));
    return 0;
}

int cfg_controller_validate(const struct cfg_controller *c, char *err, size_t errlen)
{
    CHECK(check_double("controller.cpu_scale_up_threshold", c->cpu_scale_up_threshold,
                       CFG_RANGE_CPU_THRESHOLD, err, errlen));
    CHECK(check_double("controller.cpu_scale_down_threshold", c->cpu_scale_down_threshold,
                       CFG_RANGE_CPU_THRESHOLD, err, errlen));
    if (!(c->cpu_scale_up_threshold > c->cpu_scale_down_threshold))
        return fail(AE_EINVAL, err, errlen,
                    "controller.cpu_scale_up_threshold = %g must be greater than "
                    "controller.cpu_scale_down_threshold = %g",
                    c->cpu_scale_up_threshold, c->cpu_scale_down_threshold);
    if (!(c->call_rate_scale_up_threshold > 0))
        return fail(AE_ERANGE, err, errlen,
                    "controller.call_rate_scale_up_threshold = %g must be greater than 0",
                    c->call_rate_scale_up_threshold);
    CHECK(check_int("controller.evaluation_interval_ms", c->evaluation_interval_ms,
                    CFG_RANGE_CONTROLLER_INTERVAL_MS, err, errlen));
    CHECK(check_int("controller.warm_up_period_ms", c->warm_up_period_ms, CFG_RANGE_WARM_UP_MS, err,
                    errlen));
    CHECK(check_int("controller.slice_cooldown_ms", c->slice_cooldown_ms, CFG_RANGE_COOLDOWN_MS,
                    err, errlen));
    return 0;
}

static int check_ttm_selection(const struct cfg_ttm *c, char *err, size_t errlen)
{
    CHECK(check_int("ttm.selection_steps", c->selection_steps, CFG_RANGE_SELECTION_STEPS, err,
                    errlen));
    CHECK(check_int("ttm.selection_window_minutes", c->selection_window_minutes,
                    CFG_RANGE_SELECTION_WINDOW, err, errlen));
    CHECK(check_int("ttm.selection_min_samples", c->selection_min_samples, 1,
                    CFG_MAX_SELECTION_WINDOW, err, errlen));
    if (c->selection_min_samples > c->selection_window_minutes)
        return fail(AE_EINVAL, err, errlen,
                    "ttm.selection_min_samples = %d must be at most "
                    "ttm.selection_window_minutes = %d",
                    c->selection_min_samples, c->selection_window_minutes);
    CHECK(check_double("ttm.selection_margin", c->selection_margin, CFG_RANGE_SELECTION_MARGIN, err,
                       errlen));
    CHECK(check_double("ttm.selection_underforecast_weight", c->selection_underforecast_weight,
                       CFG_RANGE_SELECTION_UNDERFORECAST_WEIGHT, err, errlen));
    CHECK(check_enum("ttm.selection_score", c->selection_score, sel_score_names, SEL_SCORE_COUNT,
                     err, errlen));
    CHECK(check_double("ttm.selection_peak_quantile", c->selection_peak_quantile,
                       CFG_RANGE_SELECTION_PEAK_QUANTILE, err, errlen));
    return check_int("ttm.selection_dwell_minutes", c->selection_dwell_minutes,
                     CFG_RANGE_SELECTION_DWELL, err, errlen);
}

int cfg_ttm_validate(const struct cfg_ttm *c, char *err, size_t errlen)
{
    CHECK(check_int("ttm.enabled", c->enabled, 0, 1, err, errlen));
    CHECK(check_enum("ttm.forecaster", (int)c->forecaster, fcr_kind_names, FCR_KIND_COUNT, err,
                     errlen));
    if (c->enabled && c->forecaster == FCR_MODEL && !c->model_path[0])
        return fail(
            AE_EINVAL, err, errlen,
            "ttm.model_path must not be empty when ttm.enabled with ttm.forecaster = model");
    CHECK(check_int("ttm.input_window_minutes", c->input_window_minutes, CFG_RANGE_WINDOW_MINUTES,
                    err, errlen));
    CHECK(check_int("ttm.prediction_horizon", c->prediction_horizon, CFG_RANGE_HORIZON_MINUTES, err,
                    errlen));
    CHECK(check_int("ttm.evaluation_interval_ms", c->evaluation_interval_ms,
                    CFG_RANGE_TTM_INTERVAL_MS, err, errlen));
    CHECK(check_double("ttm.confidence_threshold", c->confidence_threshold, CFG_RANGE_CONFIDENCE,
                       err, errlen));
    CHECK(check_double("ttm.upper_bound_utilization", c->upper_bound_utilization,
                       CFG_RANGE_UPPER_BOUND_UTIL, err, errlen));
    CHECK(check_double("ttm.headroom_quantile", c->headroom_quantile, CFG_RANGE_HEADROOM_QUANTILE,
                       err, errlen));
    CHECK(
        check_enum("ttm.mode", (int)c->mode, cfg_ttm_mode_names, CFG_TTM_MODE_COUNT, err, errlen));
    CHECK(check_int("ttm.scale_in_window_minutes", c->scale_in_window_minutes,
                    CFG_RANGE_SCALE_IN_WINDOW, err, errlen));
    CHECK(check_int("ttm.forecast_ceiling", c->forecast_ceiling, 0, 1, err, errlen));
    CHECK(check_int("ttm.max_model_memory_mb", c->max_model_memory_mb, CFG_RANGE_MODEL_MEMORY_MB,
                    err, errlen));
    return check_ttm_selection(c, err, errlen);
}

/* A member name: [A-Za-z0-9._-], as it appears in etcd keys. */
static int cluster_name_ok(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '.' || *s == '_' || *s == '-'))
            return 0;
    return 1;
}

int cfg_cluster_validate(const struct cfg_cluster *c, char *err, size_t errlen)
{
    if (c->etcd_endpoints_count > CFG_CLUSTER_ENDPOINTS_MAX)
        return fail(AE_ERANGE, err, errlen, "cluster.etcd_endpoints has %d entries; at most %d",
                    c->etcd_endpoints_count, CFG_CLUSTER_ENDPOINTS_MAX);
    for (int i = 0; i < c->etcd_endpoints_count; i++)
        if (strncmp(c->etcd_endpoints[i], "http://", 7) != 0 || !c->etcd_endpoints[i][7])
            return fail(AE_EINVAL, err, errlen,
                        "cluster.etcd_endpoints[%d] = \"%s\": only http:// URLs are supported", i,
                        c->etcd_endpoints[i]);
    if (!cluster_name_ok(c->name))
        return fail(AE_EINVAL, err, errlen,
                    "cluster.name = \"%s\" may only hold letters, digits, '.', '_' and '-'",
                    c->name);
    CHECK(check_int("cluster.lease_ttl_ms", c->lease_ttl_ms, 2000, 3600000, err, errlen));
    if (c->username[0] && !c->password_file[0])
        return fail(AE_EINVAL, err, errlen, "cluster.username = \"%s\" needs cluster.password_file",
                    c->username);
    size_t n = strlen(c->prefix);
    if (n < 2 || c->prefix[0] != '/' || c->prefix[n - 1] != '/')
        return fail(AE_EINVAL, err, errlen,
                    "cluster.prefix = \"%s\" must start and end with '/' (e.g. \"/aether/\")",
                    c->prefix);
    return 0;
}

static int valid_name(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
            return 0;
    return 1;
}

/* Prometheus metric name: [a-zA-Z_:][a-zA-Z0-9_:]* */
static int valid_metric_name(const char *s)
{
    for (const char *p = s; *p; p++) {
        int alpha = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' || *p == ':';
        if (!alpha && !(p > s && *p >= '0' && *p <= '9'))
            return 0;
    }
    return 1;
}

/* [blueprint.prometheus] of blueprint name: the URL's scheme and the two ranges. */
static int check_prometheus(const char *name, const struct cfg_prometheus *p, char *err,
                            size_t errlen)
{
    if (p->url[0] && strncmp(p->url, "http://", 7) != 0 && strncmp(p->url, "https://", 8) != 0)
        return fail(AE_EINVAL, err, errlen,
                    "blueprint.%s.prometheus.url = \"%s\" must be an http:// or https:// URL", name,
                    p->url);
    char key[CFG_NAME_MAX + 64];
    snprintf(key, sizeof key, "blueprint.%s.prometheus.query_timeout_ms", name);
    CHECK(check_int(key, p->query_timeout_ms, CFG_RANGE_PROM_TIMEOUT_MS, err, errlen));
    snprintf(key, sizeof key, "blueprint.%s.prometheus.backfill_minutes", name);
    CHECK(check_int(key, p->backfill_minutes, CFG_RANGE_PROM_BACKFILL_MINUTES, err, errlen));
    return 0;
}

int cfg_blueprint_validate(const struct cfg_blueprint *b, int index, char *err, size_t errlen)
{
    if (!valid_name(b->name))
        return fail(AE_EINVAL, err, errlen,
                    "blueprint[%d].name = \"%s\" must be one or more of a-z, 0-9 and '-'", index,
                    b->name);
    char key[CFG_NAME_MAX + 64];
#define KEY(k) (snprintf(key, sizeof key, "blueprint.%s." k, b->name), key)
    CHECK(check_enum(KEY("actuator"), (int)b->actuator, cfg_actuator_names, CFG_ACTUATOR_COUNT, err,
                     errlen));
    CHECK(check_int(KEY("min_instances"), b->min_instances, CFG_RANGE_MIN_INSTANCES, err, errlen));
    CHECK(check_int(KEY("max_instances"), b->max_instances, CFG_RANGE_MAX_INSTANCES, err, errlen));
    if (b->max_instances < b->min_instances)
        return fail(AE_EINVAL, err, errlen,
                    "blueprint.%s.max_instances = %d must be at least blueprint.%s.min_instances "
                    "= %d",
                    b->name, b->max_instances, b->name, b->min_instances);
    if (b->instances != -1)
        CHECK(check_int(KEY("instances"), b->instances, b->min_instances, b->max_instances, err,
                        errlen));
    CHECK(check_double(KEY("cpu_limit_cores"), b->cpu_limit_cores, CFG_RANGE_CPU_LIMIT_CORES, err,
                       errlen));
    if (b->memory_limit_bytes < 0)
        return fail(AE_ERANGE, err, errlen,
                    "blueprint.%s.memory_limit_bytes = %lld must be 0 (derived) or positive",
                    b->name, (long long)b->memory_limit_bytes);
    /* the key's own range; the process kind adds that the last instance's port fits */
    CHECK(check_int(KEY("port_base"), b->port_base, CFG_RANGE_PORT, err, errlen));
    for (int i = 0; i < b->env_count; i++) {
        const char *n = b->env[i].name;
        if (!n[0] || strchr(n, '='))
            return fail(AE_EINVAL, err, errlen,
                        "blueprint.%s.env key \"%s\" must be non-empty and without '='", b->name,
                        n);
    }
    if (b->metrics_path[0] != '/')
        return fail(AE_EINVAL, err, errlen,
                    "blueprint.%s.metrics_path = \"%s\" must start with '/'", b->name,
                    b->metrics_path);
    CHECK(check_int(KEY("startup_timeout_ms"), b->startup_timeout_ms, CFG_RANGE_STARTUP_TIMEOUT_MS,
                    err, errlen));
    CHECK(check_int(KEY("stop_grace_ms"), b->stop_grace_ms, CFG_RANGE_STOP_GRACE_MS, err, errlen));
    for (int i = 0; i < b->metrics_urls_count; i++) {
        const char *u = b->metrics_urls[i];
        if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0)
            return fail(AE_EINVAL, err, errlen,
                        "blueprint.%s.metrics_urls[%d] = \"%s\" must be an http:// or https:// URL",
                        b->name, i, u);
    }
    const struct {
        const char *key;
        const char *value;
    } names[] = {
        {"requests_total", b->metrics.requests_total},
        {"errors_total", b->metrics.errors_total},
        {"latency_histogram", b->metrics.latency_histogram},
        {"gc_pause_total", b->metrics.gc_pause_total},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!valid_metric_name(names[i].value))
            return fail(AE_EINVAL, err, errlen,
                        "blueprint.%s.metrics.%s = \"%s\" is not a Prometheus metric name", b->name,
                        names[i].key, names[i].value);
#undef KEY
    return check_prometheus(b->name, &b->prometheus, err, errlen);
}

int cfg_validate(const struct ae_config *c, char *err, size_t errlen)
{
    CHECK(cfg_node_validate(&c->node, err, errlen));
    CHECK(cfg_api_validate(&c->api, err, errlen));
    CHECK(cfg_controller_validate(&c->controller, err, errlen));
    CHECK(cfg_ttm_validate(&c->ttm, err, errlen));
    CHECK(cfg_cluster_validate(&c->cluster, err, errlen));
    for (int i = 0; i < c->blueprint_count; i++) {
        CHECK(cfg_blueprint_validate(&c->blueprints[i], i, err, errlen));
        for (int j = 0; j < i; j++)
            if (strcmp(c->blueprints[i].name, c->blueprints[j].name) == 0)
                return fail(AE_EEXIST, err, errlen,
                            "blueprint.%s is defined twice (blueprints %d and %d)",
                            c->blueprints[i].name, j, i);
    }
    return 0;
}

void cfg_blueprint_resolve(struct cfg_blueprint *b, int64_t host_memory_bytes)
{
    if (b->instances == -1 || b->instances < b->min_instances)
        b->instances = b->min_instances;
    if (b->instances > b->max_instances)
        b->instances = b->max_instances;
    if (b->memory_limit_bytes == 0 && b->max_instances > 0)
        b->memory_limit_bytes = host_memory_bytes / b->max_instances;
}

/* ---- heap lists ---- */

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

struct cfg_blueprint *cfg_blueprint_add(struct ae_config *c)
{
    struct cfg_blueprint *grown =
        realloc(c->blueprints, (size_t)(c->blueprint_count + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    c->blueprints = grown;
    struct cfg_blueprint *b = &grown[c->blueprint_count++];
    cfg_blueprint_defaults(b);
    return b;
}

int cfg_strv_append(char ***list, int *count, const char *s)
{
    char *copy = dup_str(s);
    if (!copy)
        return AE_ENOMEM;
    char **grown = realloc(*list, (size_t)(*count + 2) * sizeof *grown);
    if (!grown) {
        free(copy);
        return AE_ENOMEM;
    }
    grown[*count] = copy;
    grown[*count + 1] = NULL;
    *list = grown;
    (*count)++;
    return 0;
}

int cfg_env_set(struct cfg_blueprint *b, const char *name, const char *value)
{
    char *v = dup_str(value);
    if (!v)
        return AE_ENOMEM;
    for (int i = 0; i < b->env_count; i++)
        if (strcmp(b->env[i].name, name) == 0) {
            free(b->env[i].value);
            b->env[i].value = v;
            return 0;
        }
    char *n = dup_str(name);
    struct cfg_env_var *grown =
        n ? realloc(b->env, (size_t)(b->env_count + 1) * sizeof *grown) : NULL;
    if (!grown) {
        free(n);
        free(v);
        return AE_ENOMEM;
    }
    grown[b->env_count].name = n;
    grown[b->env_count].value = v;
    b->env = grown;
    b->env_count++;
    return 0;
}

static void free_strv(char ***list, int *count)
{
    for (int i = 0; i < *count; i++)
        free((*list)[i]);
    free(*list);
    *list = NULL;
    *count = 0;
}

void cfg_blueprint_free(struct cfg_blueprint *b)
{
    free_strv(&b->command, &b->command_count);
    free_strv(&b->scale_command, &b->scale_command_count);
    free_strv(&b->status_command, &b->status_command_count);
    free_strv(&b->metrics_urls, &b->metrics_urls_count);
    for (int i = 0; i < b->env_count; i++) {
        free(b->env[i].name);
        free(b->env[i].value);
    }
    free(b->env);
    b->env = NULL;
    b->env_count = 0;
}

void cfg_free(struct ae_config *c)
{
    for (int i = 0; i < c->cluster.etcd_endpoints_count; i++)
        free(c->cluster.etcd_endpoints[i]);
    free(c->cluster.etcd_endpoints);
    c->cluster.etcd_endpoints = NULL;
    c->cluster.etcd_endpoints_count = 0;
    for (int i = 0; i < c->blueprint_count; i++)
        cfg_blueprint_free(&c->blueprints[i]);
    free(c->blueprints);
    c->blueprints = NULL;
    c->blueprint_count = 0;
}
