/* Config sections: defaults per DESIGN.md, and validation messages that name key and range. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "aether/config.h"
#include "aether/error.h"

static char err[512];

static void defaults_match_design(void **state)
{
    (void)state;
    struct ae_config c;
    cfg_defaults(&c);
    assert_string_equal(c.node.data_dir, "data");
    assert_string_equal(c.node.extensions_dir, "extensions");
    assert_int_equal(c.node.history_retention_days, 14);
    assert_int_equal(c.node.log_level, CFG_LOG_INFO);
    assert_int_equal(c.node.log_format, CFG_LOG_TEXT);
    assert_string_equal(c.api.bind, "127.0.0.1:8080");
    assert_string_equal(c.api.token, "");
    assert_float_equal(c.controller.cpu_scale_up_threshold, 0.9, 0);
    assert_float_equal(c.controller.cpu_scale_down_threshold, 0.2, 0);
    assert_float_equal(c.controller.call_rate_scale_up_threshold, 2000, 0);
    assert_int_equal(c.controller.evaluation_interval_ms, 1000);
    assert_int_equal(c.controller.warm_up_period_ms, 30000);
    assert_int_equal(c.controller.slice_cooldown_ms, 10000);
    assert_false(c.ttm.enabled);
    assert_string_equal(c.ttm.model_path, "models/ttm-aether.onnx");
    assert_int_equal(c.ttm.input_window_minutes, 30);
    assert_int_equal(c.ttm.prediction_horizon, 5);
    assert_int_equal(c.ttm.evaluation_interval_ms, 60000);
    assert_float_equal(c.ttm.confidence_threshold, 0.7, 0);
    assert_float_equal(c.ttm.upper_bound_utilization, 0.90, 0);
    assert_float_equal(c.ttm.headroom_quantile, 0.70, 0);
    assert_int_equal(c.ttm.mode, CFG_TTM_ACTIVE);
    assert_int_equal(c.blueprint_count, 0);
    assert_int_equal(cfg_validate(&c, err, sizeof err), 0);
    cfg_free(&c);
}

static void blueprint_defaults_and_lists(void **state)
{
    (void)state;
    struct ae_config c;
    cfg_defaults(&c);
    struct cfg_blueprint *b = cfg_blueprint_add(&c);
    assert_non_null(b);
    assert_int_equal(b->actuator, CFG_ACTUATOR_PROCESS);
    assert_int_equal(b->min_instances, 1);
    assert_int_equal(b->max_instances, 10);
    assert_int_equal(b->instances, -1);
    assert_float_equal(b->cpu_limit_cores, 1, 0);
    assert_int_equal(b->port_base, 9100);
    assert_string_equal(b->metrics_path, "/metrics");
    assert_int_equal(b->startup_timeout_ms, 30000);
    assert_int_equal(b->stop_grace_ms, 10000);
    assert_string_equal(b->metrics.requests_total, "http_requests_total");
    assert_string_equal(b->metrics.errors_total, "http_request_errors_total");
    assert_string_equal(b->metrics.latency_histogram, "http_request_duration_seconds");
    assert_string_equal(b->metrics.gc_pause_total, "");
    strcpy(b->name, "web");
    assert_int_equal(cfg_strv_append(&b->command, &b->command_count, "./server"), 0);
    assert_int_equal(cfg_strv_append(&b->command, &b->command_count, "--port={port}"), 0);
    assert_int_equal(b->command_count, 2);
    assert_string_equal(b->command[1], "--port={port}");
    assert_null(b->command[2]); /* argv is NULL-terminated */
    assert_int_equal(cfg_env_set(b, "MODE", "a"), 0);
    assert_int_equal(cfg_env_set(b, "MODE", "b"), 0);
    assert_int_equal(cfg_env_set(b, "X", "1"), 0);
    assert_int_equal(b->env_count, 2);
    assert_string_equal(b->env[0].value, "b");
    assert_int_equal(cfg_validate(&c, err, sizeof err), 0);

    cfg_blueprint_resolve(b, 16000);
    assert_int_equal(b->instances, 1);
    assert_int_equal(b->memory_limit_bytes, 1600);

    /* a second blueprint with the same name */
    b = cfg_blueprint_add(&c);
    strcpy(b->name, "web");
    b->actuator = CFG_ACTUATOR_EXEC;
    assert_int_equal(cfg_strv_append(&b->scale_command, &b->scale_command_count, "scale.sh"), 0);
    assert_int_equal(cfg_strv_append(&b->metrics_urls, &b->metrics_urls_count, "ftp://x/m"), 0);
    assert_int_equal(cfg_validate(&c, err, sizeof err), AE_EINVAL);
    assert_string_equal(err, "blueprint.web.metrics_urls[0] = \"ftp://x/m\" must be an http:// or "
                             "https:// URL");
    free(b->metrics_urls[0]);
    b->metrics_urls[0] = NULL;
    b->metrics_urls_count = 0;
    assert_int_equal(cfg_validate(&c, err, sizeof err), AE_EEXIST);
    assert_string_equal(err, "blueprint.web is defined twice (blueprints 0 and 1)");
    cfg_free(&c);
    assert_int_equal(c.blueprint_count, 0);
    cfg_free(&c); /* twice is harmless */
}

/* Each case: mutate one field of a valid config, expect this exact message. */
struct bad_case {
    void (*mutate)(struct ae_config *c);
    int code;
    const char *message;
};

#define MUT(name, body)                                                                            \
    static void name(struct ae_config *c)                                                          \
    {                                                                                              \
        body;                                                                                      \
    }
MUT(m_window, c->ttm.input_window_minutes = 500)
MUT(m_window0, c->ttm.input_window_minutes = 0)
MUT(m_horizon, c->ttm.prediction_horizon = 11)
MUT(m_ttm_interval, c->ttm.evaluation_interval_ms = 9999)
MUT(m_ttm_interval_hi, c->ttm.evaluation_interval_ms = 300001)
MUT(m_conf, c->ttm.confidence_threshold = 1.5)
MUT(m_conf_nan, c->ttm.confidence_threshold = NAN)
MUT(m_bound_lo, c->ttm.upper_bound_utilization = 0.09)
MUT(m_bound_hi, c->ttm.upper_bound_utilization = 1.01)
MUT(m_bound_nan, c->ttm.upper_bound_utilization = NAN)
MUT(m_headroom_lo, c->ttm.headroom_quantile = 0.49)
MUT(m_headroom_hi, c->ttm.headroom_quantile = 0.995)
MUT(m_headroom_nan, c->ttm.headroom_quantile = NAN)
MUT(m_mode, c->ttm.mode = (enum cfg_ttm_mode)7)
MUT(m_forecaster, c->ttm.forecaster = (enum fcr_kind)9)
MUT(m_model_path, (c->ttm.enabled = 1, c->ttm.forecaster = FCR_MODEL, c->ttm.model_path[0] = 0))
MUT(m_scale_in, c->ttm.scale_in_window_minutes = 61)
MUT(m_ceiling, c->ttm.forecast_ceiling = 2)
MUT(m_up, c->controller.cpu_scale_up_threshold = 1.2)
MUT(m_down, c->controller.cpu_scale_down_threshold = -0.1)
MUT(m_order,
    (c->controller.cpu_scale_up_threshold = 0.3, c->controller.cpu_scale_down_threshold = 0.3))
MUT(m_rate, c->controller.call_rate_scale_up_threshold = 0)
MUT(m_ctl_interval, c->controller.evaluation_interval_ms = 0)
MUT(m_cooldown, c->controller.slice_cooldown_ms = -1)
MUT(m_retention, c->node.history_retention_days = 0)
MUT(m_data_dir, c->node.data_dir[0] = 0)
MUT(m_log_level, c->node.log_level = (enum cfg_log_level)9)
MUT(m_bind, strcpy(c->api.bind, "localhost"))
MUT(m_bind_port, strcpy(c->api.bind, "0.0.0.0:70000"))
MUT(m_bp_name, strcpy(c->blueprints[0].name, "Web_1"))
MUT(m_bp_max, c->blueprints[0].max_instances = 0)
MUT(m_bp_min_max, (c->blueprints[0].min_instances = 3, c->blueprints[0].max_instances = 2))
MUT(m_bp_instances, c->blueprints[0].instances = 11)
MUT(m_bp_cores, c->blueprints[0].cpu_limit_cores = 0)
MUT(m_bp_path, strcpy(c->blueprints[0].metrics_path, "metrics"))
MUT(m_bp_metric, strcpy(c->blueprints[0].metrics.requests_total, "http requests"))
MUT(m_bp_memory, c->blueprints[0].memory_limit_bytes = -5)

static const struct bad_case bad_cases[] = {
    {m_window, AE_ERANGE, "ttm.input_window_minutes = 500 is out of range 1..120"},
    {m_window0, AE_ERANGE, "ttm.input_window_minutes = 0 is out of range 1..120"},
    {m_horizon, AE_ERANGE, "ttm.prediction_horizon = 11 is out of range 1..10"},
    {m_ttm_interval, AE_ERANGE, "ttm.evaluation_interval_ms = 9999 is out of range 10000..300000"},
    {m_ttm_interval_hi, AE_ERANGE,
     "ttm.evaluation_interval_ms = 300001 is out of range 10000..300000"},
    {m_conf, AE_ERANGE, "ttm.confidence_threshold = 1.5 is out of range 0..1"},
    {m_conf_nan, AE_ERANGE, "ttm.confidence_threshold = nan is out of range 0..1"},
    {m_bound_lo, AE_ERANGE, "ttm.upper_bound_utilization = 0.09 is out of range 0.1..1"},
    {m_bound_hi, AE_ERANGE, "ttm.upper_bound_utilization = 1.01 is out of range 0.1..1"},
    {m_bound_nan, AE_ERANGE, "ttm.upper_bound_utilization = nan is out of range 0.1..1"},
    {m_headroom_lo, AE_ERANGE, "ttm.headroom_quantile = 0.49 is out of range 0.5..0.99"},
    {m_headroom_hi, AE_ERANGE, "ttm.headroom_quantile = 0.995 is out of range 0.5..0.99"},
    {m_headroom_nan, AE_ERANGE, "ttm.headroom_quantile = nan is out of range 0.5..0.99"},
    {m_mode, AE_EINVAL, "ttm.mode = 7 is not one of active, forecast-only"},
    {m_model_path, AE_EINVAL,
     "ttm.model_path must not be empty when ttm.enabled with ttm.forecaster = model"},
    {m_forecaster, AE_EINVAL,
     "ttm.forecaster = 9 is not one of model, persistence, drift, seasonal-naive, holt-winters, "
     "linear, auto, periodic"},
    {m_scale_in, AE_ERANGE, "ttm.scale_in_window_minutes = 61 is out of range 0..60"},
    {m_ceiling, AE_ERANGE, "ttm.forecast_ceiling = 2 is out of range 0..1"},
    {m_up, AE_ERANGE, "controller.cpu_scale_up_threshold = 1.2 is out of range 0..1"},
    {m_down, AE_ERANGE, "controller.cpu_scale_down_threshold = -0.1 is out of range 0..1"},
    {m_order, AE_EINVAL,
     "controller.cpu_scale_up_threshold = 0.3 must be greater than "
     "controller.cpu_scale_down_threshold = 0.3"},
    {m_rate, AE_ERANGE, "controller.call_rate_scale_up_threshold = 0 must be greater than 0"},
    {m_ctl_interval, AE_ERANGE, "controller.evaluation_interval_ms = 0 is out of range 1..3600000"},
    {m_cooldown, AE_ERANGE, "controller.slice_cooldown_ms = -1 is out of range 0..86400000"},
    {m_retention, AE_ERANGE, "node.history_retention_days = 0 is out of range 1..3650"},
    {m_data_dir, AE_EINVAL, "node.data_dir must not be empty"},
    {m_log_level, AE_EINVAL, "node.log_level = 9 is not one of debug, info, warn, error"},
    {m_bind, AE_EINVAL, "api.bind = \"localhost\" must be host:port with a port in 1..65535"},
    {m_bind_port, AE_EINVAL,
     "api.bind = \"0.0.0.0:70000\" must be host:port with a port in 1..65535"},
    {m_bp_name, AE_EINVAL, "blueprint[0].name = \"Web_1\" must be one or more of a-z, 0-9 and '-'"},
    {m_bp_max, AE_ERANGE, "blueprint.api.max_instances = 0 is out of range 1..10000"},
    {m_bp_min_max, AE_EINVAL,
     "blueprint.api.max_instances = 2 must be at least blueprint.api.min_instances = 3"},
    {m_bp_instances, AE_ERANGE, "blueprint.api.instances = 11 is out of range 1..10"},
    {m_bp_cores, AE_ERANGE, "blueprint.api.cpu_limit_cores = 0 is out of range 0.001..4096"},
    {m_bp_path, AE_EINVAL, "blueprint.api.metrics_path = \"metrics\" must start with '/'"},
    {m_bp_metric, AE_EINVAL,
     "blueprint.api.metrics.requests_total = \"http requests\" is not a Prometheus metric name"},
    {m_bp_memory, AE_ERANGE,
     "blueprint.api.memory_limit_bytes = -5 must be 0 (derived) or positive"},
};

static void validation_messages(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        struct ae_config c;
        cfg_defaults(&c);
        struct cfg_blueprint *b = cfg_blueprint_add(&c);
        assert_non_null(b);
        strcpy(b->name, "api");
        assert_int_equal(cfg_strv_append(&b->command, &b->command_count, "./api"), 0);
        err[0] = 0;
        assert_int_equal(cfg_validate(&c, err, sizeof err), 0);
        bad_cases[i].mutate(&c);
        int rc = cfg_validate(&c, err, sizeof err);
        print_message("case %zu: %s\n", i, err);
        assert_int_equal(rc, bad_cases[i].code);
        assert_string_equal(err, bad_cases[i].message);
        cfg_free(&c);
    }
}

static void boundaries_are_inclusive(void **state)
{
    (void)state;
    struct cfg_ttm t;
    cfg_ttm_defaults(&t);
    t.input_window_minutes = 1;
    t.prediction_horizon = 10;
    t.evaluation_interval_ms = 10000;
    t.confidence_threshold = 0;
    t.upper_bound_utilization = 0.1;
    t.headroom_quantile = 0.5;
    assert_int_equal(cfg_ttm_validate(&t, err, sizeof err), 0);
    t.input_window_minutes = 120;
    t.evaluation_interval_ms = 300000;
    t.confidence_threshold = 1;
    t.upper_bound_utilization = 1;
    t.headroom_quantile = 0.99;
    t.mode = CFG_TTM_FORECAST_ONLY;
    assert_int_equal(cfg_ttm_validate(&t, NULL, 0), 0);
    struct cfg_controller ctl;
    cfg_controller_defaults(&ctl);
    ctl.cpu_scale_up_threshold = 1;
    ctl.cpu_scale_down_threshold = 0;
    ctl.warm_up_period_ms = 0;
    ctl.slice_cooldown_ms = 0;
    assert_int_equal(cfg_controller_validate(&ctl, err, sizeof err), 0);
    struct cfg_api api;
    cfg_api_defaults(&api);
    strcpy(api.bind, "[::1]:65535");
    assert_int_equal(cfg_api_validate(&api, err, sizeof err), 0);
}

static void enum_spellings(void **state)
{
    (void)state;
    assert_int_equal(cfg_enum_parse(cfg_ttm_mode_names, CFG_TTM_MODE_COUNT, "forecast-only"),
                     CFG_TTM_FORECAST_ONLY);
    assert_int_equal(cfg_enum_parse(cfg_actuator_names, CFG_ACTUATOR_COUNT, "exec"),
                     CFG_ACTUATOR_EXEC);
    assert_int_equal(cfg_enum_parse(cfg_log_format_names, CFG_LOG_FORMAT_COUNT, "json"),
                     CFG_LOG_JSON);
    assert_int_equal(cfg_enum_parse(cfg_log_level_names, CFG_LOG_LEVEL_COUNT, "warn"),
                     CFG_LOG_WARN);
    assert_int_equal(cfg_enum_parse(cfg_ttm_mode_names, CFG_TTM_MODE_COUNT, "Active"), -1);
    assert_int_equal(cfg_enum_parse(cfg_ttm_mode_names, CFG_TTM_MODE_COUNT, NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_match_design), cmocka_unit_test(blueprint_defaults_and_lists),
        cmocka_unit_test(validation_messages),   cmocka_unit_test(boundaries_are_inclusive),
        cmocka_unit_test(enum_spellings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
