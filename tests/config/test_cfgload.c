/* Unit tests of the configuration loader: the shipped aether.toml, every kind of error message
 * (each must name the file and line, the key and what is allowed), the effective-config
 * printout, and that the key table's ranges agree with the core's validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aether/cfgload.h"
#include "aether/error.h"
#include "cfg_schema.h"

/* A blueprint that is valid on its own, to append keys to. */
#define BP_WEB "[[blueprint]]\nname = \"web\"\ncommand = [\"w\", \"{port}\"]\n"

/* Loads text that must fail with status `code`; asserts the message contains every string in
 * the NULL-terminated list. */
static void load_fails(int code, const char *text, ...)
{
    char err[1024];
    struct ae_config c;
    cfg_sources *src = (cfg_sources *)1;
    int rc = cfg_load_string(text, strlen(text), "t.toml", NULL, &c, &src, err, sizeof(err));
    if (rc != code)
        fail_msg("status %d (%s), expected %d; message: %s", rc, ae_strerror(rc), code, err);
    assert_null(src);
    assert_int_equal(c.blueprint_count, 0);
    va_list ap;
    va_start(ap, text);
    for (const char *want = va_arg(ap, const char *); want; want = va_arg(ap, const char *))
        if (!strstr(err, want))
            fail_msg("message \"%s\" does not contain \"%s\"", err, want);
    va_end(ap);
}

static void load_ok(const char *text, struct ae_config *c, cfg_sources **src)
{
    char err[1024];
    int rc = cfg_load_string(text, strlen(text), "t.toml", NULL, c, src, err, sizeof(err));
    if (rc != 0)
        fail_msg("unexpected error: %s", err);
}

/* A check of the caller's, run after the core's validation: its message gets the key's line. */
static int odd_count_refused(const struct ae_config *c, char *err, size_t errlen)
{
    for (int i = 0; i < c->blueprint_count; i++)
        if (c->blueprints[i].max_instances % 2) {
            snprintf(err, errlen, "blueprint.%s.max_instances = %d is odd", c->blueprints[i].name,
                     c->blueprints[i].max_instances);
            return AE_EINVAL;
        }
    return 0;
}

static void test_caller_check(void **state)
{
    (void)state;
    const char *text = BP_WEB "max_instances = 3\n";
    char err[256];
    struct ae_config c;
    cfg_sources *src = (cfg_sources *)1;
    assert_int_equal(
        cfg_load_string(text, strlen(text), "t.toml", odd_count_refused, &c, &src, err, sizeof err),
        AE_EINVAL);
    assert_string_equal(err, "t.toml:4: blueprint.web.max_instances = 3 is odd");
    assert_null(src);
    assert_int_equal(c.blueprint_count, 0);
    text = BP_WEB "max_instances = 4\n";
    assert_int_equal(
        cfg_load_string(text, strlen(text), "t.toml", odd_count_refused, &c, NULL, err, sizeof err),
        0);
    assert_int_equal(c.blueprints[0].max_instances, 4);
    cfg_free(&c);
}

static void test_default_file(void **state)
{
    (void)state;
    char err[1024];
    struct ae_config c;
    cfg_sources *src;
    int rc = cfg_load_file(AETHER_SOURCE_DIR "/aether.toml", NULL, &c, &src, err, sizeof(err));
    if (rc)
        fail_msg("aether.toml: %s", err);
    assert_int_equal(c.ttm.enabled, 1);
    assert_string_equal(c.ttm.model_path, "models/ttm-aether.onnx");
    assert_int_equal(c.ttm.input_window_minutes, 30);
    assert_int_equal(c.ttm.prediction_horizon, 5);
    assert_int_equal(c.blueprint_count, 1);
    const struct cfg_blueprint *b = &c.blueprints[0];
    assert_int_equal(b->actuator, CFG_ACTUATOR_PROCESS);
    assert_int_equal(b->min_instances, 1);
    assert_int_equal(b->max_instances, 8);
    assert_int_equal(b->port_base, 9100);
    assert_true(b->command_count >= 3);
    assert_string_equal(b->command[0], "build/bin/aether-worker");
    assert_null(b->command[b->command_count]);
    /* Derived defaults are resolved. */
    assert_int_equal(b->instances, 1);
    assert_true(b->memory_limit_bytes > 0);
    assert_true(cfg_sources_line(src, "ttm.enabled") > 0);
    assert_int_equal(cfg_sources_line(src, "node.id"), 0);
    assert_true(cfg_sources_line(src, "blueprint[0].metrics.requests_total") > 0);
    assert_true(cfg_validate(&c, err, sizeof(err)) == 0);
    cfg_sources_free(src);
    cfg_free(&c);
}

static void test_empty_file_is_all_defaults(void **state)
{
    (void)state;
    struct ae_config c, d;
    load_ok("", &c, NULL);
    cfg_defaults(&d);
    assert_memory_equal(&c.node, &d.node, sizeof(d.node));
    assert_memory_equal(&c.api, &d.api, sizeof(d.api));
    assert_memory_equal(&c.controller, &d.controller, sizeof(d.controller));
    assert_memory_equal(&c.ttm, &d.ttm, sizeof(d.ttm));
    assert_int_equal(c.blueprint_count, 0);
    cfg_free(&c);
}

static void test_values_of_every_type(void **state)
{
    (void)state;
    struct ae_config c;
    load_ok("[node]\nid = \"n1\"\nlog_level = \"debug\"\n"
            "[controller]\ncall_rate_scale_up_threshold = 150.5\ncpu_scale_up_threshold = 1\n"
            "[ttm]\nmode = \"forecast-only\"\n" BP_WEB "instances = 3\nmax_instances = 4\n"
            "memory_limit_bytes = 1_073_741_824\nenv = { A = \"1\", \"B C\" = \"x\" }\n"
            "[blueprint.metrics]\ngc_pause_total = \"gc_seconds_total\"\n"
            "[[blueprint]]\nname = \"batch\"\nactuator = \"exec\"\n"
            "scale_command = [\"scale\", \"{blueprint}\", \"{instances}\"]\n"
            "metrics_urls = [\"http://127.0.0.1:9200/metrics\"]\n",
            &c, NULL);
    assert_string_equal(c.node.id, "n1");
    assert_int_equal(c.node.log_level, CFG_LOG_DEBUG);
    assert_true(c.controller.call_rate_scale_up_threshold == 150.5);
    assert_true(c.controller.cpu_scale_up_threshold == 1.0);
    assert_int_equal(c.ttm.mode, CFG_TTM_FORECAST_ONLY);
    assert_int_equal(c.blueprint_count, 2);
    struct cfg_blueprint *web = &c.blueprints[0], *batch = &c.blueprints[1];
    assert_int_equal(web->instances, 3);
    assert_int_equal(web->memory_limit_bytes, 1073741824);
    assert_int_equal(web->env_count, 2);
    assert_string_equal(web->env[1].name, "B C");
    assert_string_equal(web->metrics.gc_pause_total, "gc_seconds_total");
    assert_string_equal(web->metrics.requests_total, "http_requests_total");
    assert_int_equal(batch->actuator, CFG_ACTUATOR_EXEC);
    assert_int_equal(batch->scale_command_count, 3);
    assert_string_equal(batch->metrics_urls[0], "http://127.0.0.1:9200/metrics");
    cfg_free(&c);
}

static void test_range_errors(void **state)
{
    (void)state;
    load_fails(AE_ERANGE, "[ttm]\ninput_window_minutes = 500\n",
               "t.toml:2: ttm.input_window_minutes = 500 is out of range 1..120", NULL);
    load_fails(AE_ERANGE, "[ttm]\n\nevaluation_interval_ms = 5000\n",
               "t.toml:3: ttm.evaluation_interval_ms = 5000 is out of range 10000..300000", NULL);
    load_fails(AE_ERANGE, "[controller]\ncpu_scale_up_threshold = 1.5\n",
               "t.toml:2: controller.cpu_scale_up_threshold = 1.5 is out of range 0..1", NULL);
    load_fails(AE_ERANGE, "[controller]\ncall_rate_scale_up_threshold = 0\n",
               "t.toml:2: controller.call_rate_scale_up_threshold = 0 is out of range", "> 0",
               NULL);
    load_fails(AE_ERANGE, "[ttm]\nconfidence_threshold = nan\n",
               "t.toml:2: ttm.confidence_threshold = nan is out of range 0..1", NULL);
    load_fails(AE_ERANGE, "[ttm]\nupper_bound_utilization = 0.05\n",
               "t.toml:2: ttm.upper_bound_utilization = 0.05 is out of range 0.1..1", NULL);
    load_fails(AE_ERANGE, "[ttm]\nheadroom_quantile = 1\n",
               "t.toml:2: ttm.headroom_quantile = 1 is out of range 0.5..0.99", NULL);
    load_fails(AE_ERANGE, "[ttm]\nselection_underforecast_weight = 0.5\n",
               "t.toml:2: ttm.selection_underforecast_weight = 0.5 is out of range 1..10", NULL);
    load_fails(AE_ERANGE, "[ttm]\nselection_peak_quantile = 0.3\n",
               "t.toml:2: ttm.selection_peak_quantile = 0.3 is out of range 0.5..0.99", NULL);
    load_fails(AE_ERANGE, BP_WEB "max_instances = 99999999999\n",
               "t.toml:4: blueprint.web.max_instances = 99999999999 is out of range 1..10000",
               NULL);
    load_fails(AE_ERANGE, BP_WEB "memory_limit_bytes = -1\n",
               "t.toml:4: blueprint.web.memory_limit_bytes = -1 is out of range", ">= 0", NULL);
}

static void test_type_errors(void **state)
{
    (void)state;
    load_fails(AE_EINVAL, "[ttm]\nenabled = \"yes\"\n",
               "t.toml:2: ttm.enabled must be a boolean (true or false), found string \"yes\"",
               NULL);
    load_fails(AE_EINVAL, "[ttm]\nprediction_horizon = 1.5\n",
               "t.toml:2: ttm.prediction_horizon must be an integer (1..10), found float 1.5",
               NULL);
    load_fails(AE_EINVAL, "[controller]\ncpu_scale_down_threshold = \"0.2\"\n",
               "t.toml:2: controller.cpu_scale_down_threshold must be a number (0..1)", NULL);
    load_fails(AE_EINVAL, "[node]\ndata_dir = 5\n",
               "t.toml:2: node.data_dir must be a string, found integer 5", NULL);
    load_fails(AE_EINVAL, "[ttm]\nselection_score = \"mean\"\n",
               "t.toml:2: ttm.selection_score = \"mean\" is not allowed: it must be one of: step, "
               "peak, peak-quantile",
               NULL);
    load_fails(AE_EINVAL, "[ttm]\nmode = \"passive\"\n",
               "t.toml:2: ttm.mode = \"passive\" is not allowed: it must be one of: active, "
               "forecast-only",
               NULL);
    load_fails(AE_EINVAL, "[[blueprint]]\nname = \"web\"\ncommand = \"w --port {port}\"\n",
               "t.toml:3: blueprint.web.command must be an array of strings", NULL);
    load_fails(AE_EINVAL, "[[blueprint]]\nname = \"web\"\ncommand = [\"w\", 5]\n",
               "t.toml:3: blueprint.web.command[1] must be an array of strings, found integer 5",
               NULL);
    load_fails(AE_EINVAL, "[[blueprint]]\nname = \"web\"\ncommand = []\n",
               "t.toml:3: blueprint.web.command must not be empty", NULL);
    load_fails(AE_EINVAL, BP_WEB "env = { PORT = 80 }\n",
               "t.toml:4: blueprint.web.env.PORT must be a table of strings, found integer 80",
               NULL);
    load_fails(AE_EINVAL, "[node]\nid = \"a\\u0000b\"\n",
               "t.toml:2: node.id must not contain a NUL", NULL);
    char long_id[200];
    snprintf(long_id, sizeof(long_id), "[node]\nid = \"%0100d\"\n", 0);
    load_fails(AE_EINVAL, long_id, "t.toml:2: node.id is 100 bytes long; at most 63", NULL);
    load_fails(AE_EINVAL, "node = 1\n", "t.toml:1: node must be a section ([node])", NULL);
    load_fails(AE_EINVAL, "[blueprint]\nname = \"web\"\n",
               "t.toml:1: blueprint must be an array of tables: write [[blueprint]]", NULL);
}

/* [cluster]: defaults (a single node), a full section, and each rule's message. */
static void test_cluster_section(void **state)
{
    (void)state;
    struct ae_config c;
    cfg_sources *src;
    load_ok("[node]\n", &c, &src);
    assert_int_equal(c.cluster.etcd_endpoints_count, 0);
    assert_null(c.cluster.etcd_endpoints);
    assert_string_equal(c.cluster.name, "");
    assert_int_equal(c.cluster.lease_ttl_ms, 10000);
    assert_string_equal(c.cluster.prefix, "/aether/");
    assert_string_equal(c.cluster.username, "");
    cfg_sources_free(src);
    cfg_free(&c);

    load_ok("[cluster]\netcd_endpoints = [\"http://10.0.0.1:2379\", \"http://10.0.0.2:2379\"]\n"
            "name = \"node-1.eu_west\"\nlease_ttl_ms = 5000\nprefix = \"/prod/aether/\"\n"
            "username = \"aether\"\npassword_file = \"/etc/aether/etcd.pass\"\n",
            &c, &src);
    assert_string_equal(c.cluster.username, "aether");
    assert_string_equal(c.cluster.password_file, "/etc/aether/etcd.pass");
    assert_int_equal(c.cluster.etcd_endpoints_count, 2);
    assert_string_equal(c.cluster.etcd_endpoints[1], "http://10.0.0.2:2379");
    assert_null(c.cluster.etcd_endpoints[2]);
    assert_string_equal(c.cluster.name, "node-1.eu_west");
    assert_int_equal(c.cluster.lease_ttl_ms, 5000);
    assert_string_equal(c.cluster.prefix, "/prod/aether/");
    cfg_sources_free(src);
    cfg_free(&c);

    load_fails(AE_EINVAL, "[cluster]\netcd_endpoints = [\"https://10.0.0.1:2379\"]\n",
               "t.toml:2: cluster.etcd_endpoints[0] = \"https://10.0.0.1:2379\": only http:// URLs "
               "are supported",
               NULL);
    load_fails(AE_ERANGE, "[cluster]\nlease_ttl_ms = 1000\n", "cluster.lease_ttl_ms = 1000",
               "2000..3600000", NULL);
    load_fails(AE_EINVAL, "[cluster]\nprefix = \"aether\"\n",
               "cluster.prefix = \"aether\" must start and end with '/'", NULL);
    load_fails(AE_EINVAL, "[cluster]\nusername = \"aether\"\n",
               "cluster.username = \"aether\" needs cluster.password_file", NULL);
    load_fails(AE_EINVAL, "[cluster]\nname = \"a/b\"\n",
               "cluster.name = \"a/b\" may only hold letters, digits", NULL);
    load_fails(AE_ERANGE,
               "[cluster]\netcd_endpoints = [\"http://a\", \"http://b\", \"http://c\", "
               "\"http://d\", \"http://e\", \"http://f\", \"http://g\", \"http://h\", "
               "\"http://i\"]\n",
               "cluster.etcd_endpoints has 9 entries; at most 8", NULL);
}

static void test_unknown_keys(void **state)
{
    (void)state;
    load_fails(AE_EINVAL, "[ttm]\nenable = true\n",
               "t.toml:2: unknown key ttm.enable (did you mean enabled?)", NULL);
    load_fails(AE_EINVAL, "[node]\ncolour = \"blue\"\n", "t.toml:2: unknown key node.colour;",
               "[node] has: id, data_dir", NULL);
    load_fails(AE_EINVAL, "[node]\n[clusters]\nsize = 3\n", "t.toml:2: unknown section [clusters]",
               NULL);
    load_fails(AE_EINVAL, "verbose = true\n", "t.toml:1: unknown key verbose outside any section",
               NULL);
    load_fails(AE_EINVAL, BP_WEB "[blueprint.metrics]\nrequest_total = \"x\"\n",
               "t.toml:5: unknown key blueprint.web.metrics.request_total (did you mean "
               "requests_total?)",
               NULL);
    load_fails(AE_EINVAL, BP_WEB "replicas = 3\n", "t.toml:4: unknown key blueprint.web.replicas",
               NULL);
}

static void test_blueprint_rules(void **state)
{
    (void)state;
    load_fails(AE_EINVAL, "[[blueprint]]\nmin_instances = 2\n",
               "t.toml:1: blueprint[0].name is missing", NULL);
    load_fails(AE_EINVAL, "[[blueprint]]\nname = \"Web_1\"\ncommand = [\"w\"]\n",
               "t.toml:2: blueprint[0].name = \"Web_1\" must be one or more of a-z, 0-9 and '-'",
               NULL);
    load_fails(AE_EINVAL, BP_WEB "min_instances = 5\nmax_instances = 3\n",
               "t.toml:5: blueprint.web.max_instances = 3 must be at least "
               "blueprint.web.min_instances = 5",
               NULL);
    load_fails(AE_EEXIST, BP_WEB BP_WEB, "t.toml:4: blueprint.web is defined twice", NULL);
    load_fails(AE_EINVAL, BP_WEB "scale_command = [\"s\"]\n",
               "t.toml:4: blueprint.web.scale_command applies only to actuator \"exec\"", NULL);
    load_fails(AE_EINVAL,
               "[[blueprint]]\nport_base = 9000\nname = \"b\"\nactuator = \"exec\"\n"
               "scale_command = [\"s\"]\n",
               "t.toml:2: blueprint.b.port_base applies only to actuator \"process\"", NULL);
    load_fails(AE_EINVAL, BP_WEB "status_command = [\"s\"]\n",
               "t.toml:4: blueprint.web.status_command applies only to actuator \"exec\"", NULL);
    /* startup_timeout_ms bounds the exec runs too */
    struct ae_config ok;
    const char *exec_bp = "[[blueprint]]\nname = \"b\"\nactuator = \"exec\"\n"
                          "scale_command = [\"s\"]\nstatus_command = [\"q\", \"{blueprint}\"]\n"
                          "startup_timeout_ms = 2000\n";
    load_ok(exec_bp, &ok, NULL);
    assert_int_equal(ok.blueprints[0].status_command_count, 2);
    assert_string_equal(ok.blueprints[0].status_command[1], "{blueprint}");
    assert_int_equal(ok.blueprints[0].startup_timeout_ms, 2000);
    cfg_free(&ok);
    load_fails(AE_EINVAL, BP_WEB "metrics_path = \"metrics\"\n",
               "t.toml:4: blueprint.web.metrics_path = \"metrics\" must start with '/'", NULL);
    load_fails(AE_EINVAL,
               "[[blueprint]]\nname = \"api\"\nactuator = \"exec\"\nscale_command = [\"s\"]\n"
               "metrics_urls = [\"https://a/m\",\n  \"ftp://b/m\"]\n",
               "t.toml:6: blueprint.api.metrics_urls[1] = \"ftp://b/m\": only http:// and "
               "https:// URLs are supported",
               NULL);
}

static void test_cross_field_and_syntax(void **state)
{
    (void)state;
    load_fails(AE_EINVAL,
               "[controller]\ncpu_scale_down_threshold = 0.5\ncpu_scale_up_threshold = 0.3\n",
               "t.toml:3: controller.cpu_scale_up_threshold = 0.3 must be greater than "
               "controller.cpu_scale_down_threshold = 0.5",
               NULL);
    load_fails(AE_EINVAL, "[api]\nbind = \"localhost\"\n",
               "t.toml:2: api.bind = \"localhost\" must be host:port", NULL);
    load_fails(AE_EPARSE, "[ttm]\nenabled = tru\n", "t.toml:2:11: expected a value", NULL);
    char err[256];
    struct ae_config c;
    assert_int_equal(cfg_load_file("no/such/aether.toml", NULL, &c, NULL, err, sizeof(err)),
                     AE_ENOENT);
    assert_non_null(strstr(err, "no/such/aether.toml"));
    assert_int_equal(c.blueprint_count, 0);
}

/* cfg_print_effective's text into *out (caller frees). */
static void printout(const struct ae_config *c, const cfg_sources *src, char **out)
{
    size_t len = 0;
    FILE *mem = open_memstream(out, &len);
    assert_non_null(mem);
    assert_int_equal(cfg_print_effective(mem, c, src), 0);
    fclose(mem);
}

/* The printout says where each value came from, masks the token, and is itself a config that
 * loads back to the same values. */
static void test_effective_printout(void **state)
{
    (void)state;
    const char *text =
        "[api]\ntoken = \"s3cret\"\n[ttm]\nenabled = true\n" BP_WEB "env = { A = \"1\" }\n";
    struct ae_config c, again;
    cfg_sources *src;
    load_ok(text, &c, &src);
    char *out = NULL;
    printout(&c, src, &out);
    assert_non_null(strstr(out, "enabled = true"));
    assert_non_null(strstr(out, "# t.toml:4"));
    assert_non_null(strstr(out, "history_retention_days = 14"));
    assert_null(strstr(out, "s3cret"));
    assert_non_null(strstr(out, "token = \"********\""));
    assert_non_null(strstr(out, "env = { A = \"1\" }"));
    assert_null(strstr(out, "scale_command")); /* exec keys are not shown for process */
    /* Each key's line ends in "# default..." or "# t.toml:N". */
    char *hist = strstr(out, "history_retention_days");
    assert_non_null(hist);
    char *eol = strchr(hist, '\n');
    assert_non_null(eol);
    *eol = '\0';
    assert_non_null(strstr(hist, "# default"));
    *eol = '\n';
    load_ok(out, &again, NULL);
    assert_int_equal(again.ttm.enabled, 1);
    assert_int_equal(again.blueprint_count, 1);
    assert_string_equal(again.blueprints[0].command[1], "{port}");
    assert_int_equal(again.blueprints[0].memory_limit_bytes, c.blueprints[0].memory_limit_bytes);
    assert_memory_equal(&again.controller, &c.controller, sizeof(c.controller));
    free(out);
    cfg_free(&again);
    cfg_sources_free(src);
    cfg_free(&c);
}

/* A config with one valid process blueprint, for validating single fields. */
static void valid_config(struct ae_config *c)
{
    cfg_defaults(c);
    struct cfg_blueprint *b = cfg_blueprint_add(c);
    assert_non_null(b);
    snprintf(b->name, sizeof(b->name), "web");
    assert_int_equal(cfg_strv_append(&b->command, &b->command_count, "w"), 0);
}

/* Sets row k of a valid config to x and returns what the core's validation says (0 = valid). */
static int core_verdict(const struct cfg_key *k, double x, char *msg, size_t n)
{
    struct ae_config c;
    valid_config(&c);
    struct cfg_blueprint *b = &c.blueprints[0];
    if (strcmp(k->name, "port_base") == 0)
        b->max_instances = 1; /* port_base + max_instances - 1 <= 65535 */
    if (strcmp(k->name, "instances") == 0 || strcmp(k->name, "min_instances") == 0) {
        b->min_instances = 0; /* instances must lie in min_instances..max_instances */
        b->max_instances = 10000;
    }
    char *field = (char *)cfg_key_base(k, &c, b) + k->offset;
    if (k->type == CFG_INT)
        *(int *)field = (int)x;
    else if (k->type == CFG_INT64)
        *(int64_t *)field = (int64_t)x;
    else
        *(double *)field = x;
    msg[0] = '\0';
    int rc = cfg_validate(&c, msg, n);
    cfg_free(&c);
    return rc;
}

/* At the table's bounds the core must not call the value out of range (a cross-field complaint
 * such as "must be greater than" is a different rule and may fire). */
static int core_rejects_bound(const struct cfg_key *k, double x, char *msg, size_t n)
{
    return core_verdict(k, x, msg, n) != 0 && strstr(msg, "out of range") != NULL;
}

/* Just outside the table's bounds the core must reject the value, naming the key. */
static int core_rejects_outside(const struct cfg_key *k, double x, char *msg, size_t n)
{
    return core_verdict(k, x, msg, n) != 0 && strstr(msg, k->name) != NULL;
}

static void test_table_ranges_match_core(void **state)
{
    (void)state;
    char msg[512];
    int checked = 0;
    for (size_t i = 0; i < cfg_key_count; i++) {
        const struct cfg_key *k = &cfg_keys[i];
        if (k->type != CFG_INT && k->type != CFG_INT64 && k->type != CFG_DOUBLE)
            continue;
        double step = k->type == CFG_DOUBLE ? 1e-6 : 1;
        if (!(k->flags & CFG_MIN_EXCLUSIVE)) {
            if (core_rejects_bound(k, k->min, msg, sizeof(msg)))
                fail_msg("%s: the table allows %g, the core says: %s", k->name, k->min, msg);
            /* instances = -1 is the core's "not set" marker, not a value a file may hold. */
            int sentinel = strcmp(k->name, "instances") == 0 && k->min - step == -1;
            if (!sentinel && !core_rejects_outside(k, k->min - step, msg, sizeof(msg)))
                fail_msg("%s: the core accepts %g, below the table's minimum", k->name,
                         k->min - step);
        }
        if (!(k->flags & CFG_NO_MAX)) {
            if (core_rejects_bound(k, k->max, msg, sizeof(msg)))
                fail_msg("%s: the table allows %g, the core says: %s", k->name, k->max, msg);
            if (!core_rejects_outside(k, k->max + step, msg, sizeof(msg)))
                fail_msg("%s: the core accepts %g, above the table's maximum", k->name,
                         k->max + step);
        }
        checked++;
    }
    assert_true(checked >= 15);
}

/* api.token: unset (generate one), "" (written: no token), one length limit, no spaces; an
 * unwritten token prints as a comment so the printout keeps meaning "generate". */
static void test_token_rules(void **state)
{
    (void)state;
    struct ae_config c;
    load_ok("", &c, NULL);
    assert_int_equal(c.api.token_given, 0);
    char *out = NULL;
    printout(&c, NULL, &out);
    assert_non_null(strstr(out, "# token = \"\""));
    free(out);
    cfg_free(&c);
    load_ok("[api]\ntoken = \"\"\n", &c, NULL);
    assert_int_equal(c.api.token_given, 1);
    assert_string_equal(c.api.token, "");
    cfg_free(&c);
    char text[400];
    snprintf(text, sizeof text, "[api]\ntoken = \"%0255d\"\n", 7);
    load_ok(text, &c, NULL);
    assert_int_equal(strlen(c.api.token), 255);
    cfg_free(&c);
    snprintf(text, sizeof text, "[api]\ntoken = \"%0256d\"\n", 7);
    load_fails(AE_EINVAL, text, "t.toml:2", "api.token is 256 bytes long; at most 255", NULL);
    load_fails(AE_EINVAL, "[api]\ntoken = \"a b\"\n", "api.token must be printable", NULL);
}

/* Every key in the table is reachable from a file, and the core's defaults are what an empty
 * file yields (the table holds no defaults of its own). */
static void test_table_is_complete(void **state)
{
    (void)state;
    const char *expected[] = {"node.id",
                              "node.data_dir",
                              "node.extensions_dir",
                              "node.history_retention_days",
                              "node.log_level",
                              "node.log_format",
                              "api.bind",
                              "api.token",
                              "api.allow_remote_without_token",
                              "api.max_connections_per_client",
                              "api.request_timeout_ms",
                              "api.max_concurrent_exports",
                              "controller.cpu_scale_up_threshold",
                              "controller.cpu_scale_down_threshold",
                              "controller.call_rate_scale_up_threshold",
                              "controller.evaluation_interval_ms",
                              "controller.warm_up_period_ms",
                              "controller.slice_cooldown_ms",
                              "ttm.enabled",
                              "ttm.model_path",
                              "ttm.max_model_memory_mb",
                              "ttm.input_window_minutes",
                              "ttm.prediction_horizon",
                              "ttm.evaluation_interval_ms",
                              "ttm.confidence_threshold",
                              "ttm.upper_bound_utilization",
                              "ttm.headroom_quantile",
                              "ttm.forecaster",
                              "ttm.scale_in_window_minutes",
                              "ttm.forecast_ceiling",
                              "ttm.selection_steps",
                              "ttm.selection_window_minutes",
                              "ttm.selection_min_samples",
                              "ttm.selection_margin",
                              "ttm.selection_dwell_minutes",
                              "ttm.selection_underforecast_weight",
                              "ttm.selection_score",
                              "ttm.selection_peak_quantile",
                              "ttm.mode",
                              "cluster.etcd_endpoints",
                              "cluster.name",
                              "cluster.lease_ttl_ms",
                              "cluster.prefix",
                              "cluster.username",
                              "cluster.password_file",
                              "blueprint.name",
                              "blueprint.actuator",
                              "blueprint.min_instances",
                              "blueprint.max_instances",
                              "blueprint.instances",
                              "blueprint.cpu_limit_cores",
                              "blueprint.memory_limit_bytes",
                              "blueprint.host_metrics",
                              "blueprint.command",
                              "blueprint.env",
                              "blueprint.port_base",
                              "blueprint.metrics_path",
                              "blueprint.startup_timeout_ms",
                              "blueprint.stop_grace_ms",
                              "blueprint.scale_command",
                              "blueprint.status_command",
                              "blueprint.metrics_urls",
                              "blueprint.metrics.requests_total",
                              "blueprint.metrics.errors_total",
                              "blueprint.metrics.latency_histogram",
                              "blueprint.metrics.gc_pause_total",
                              "blueprint.prometheus.url",
                              "blueprint.prometheus.query_timeout_ms",
                              "blueprint.prometheus.selector",
                              "blueprint.prometheus.ca_file",
                              "blueprint.prometheus.tls_verify",
                              "blueprint.prometheus.backfill_minutes",
                              "blueprint.prometheus.queries.cpu_usage",
                              "blueprint.prometheus.queries.heap_usage",
                              "blueprint.prometheus.queries.event_loop_lag_ms",
                              "blueprint.prometheus.queries.latency_ms",
                              "blueprint.prometheus.queries.invocations",
                              "blueprint.prometheus.queries.gc_pause_ms",
                              "blueprint.prometheus.queries.latency_p50",
                              "blueprint.prometheus.queries.latency_p95",
                              "blueprint.prometheus.queries.latency_p99",
                              "blueprint.prometheus.queries.error_rate",
                              "blueprint.prometheus.queries.event_count"};
    size_t n = sizeof(expected) / sizeof(expected[0]);
    assert_int_equal(cfg_key_count, n);
    for (size_t i = 0; i < n; i++) {
        const char *dot = strrchr(expected[i], '.');
        char section[64];
        snprintf(section, sizeof(section), "%.*s", (int)(dot - expected[i]), expected[i]);
        int found = 0;
        for (int s = 0; s < CFG_SEC_COUNT; s++)
            if (strcmp(cfg_sections[s].name, section) == 0 &&
                cfg_key_find((enum cfg_section_id)s, dot + 1))
                found = 1;
        if (!found)
            fail_msg("key %s is not in the table", expected[i]);
    }
    char def[128];
    cfg_key_default_text(cfg_key_find(CFG_SEC_TTM, "input_window_minutes"), def, sizeof(def));
    assert_string_equal(def, "30");
    cfg_key_default_text(cfg_key_find(CFG_SEC_API, "bind"), def, sizeof(def));
    assert_string_equal(def, "\"127.0.0.1:8080\"");
}

/* [blueprint.prometheus] and its queries table load into the blueprint; mistakes name the line
 * and the key. */
static void test_prometheus_section(void **state)
{
    (void)state;
    struct ae_config c;
    load_ok(BP_WEB "[blueprint.prometheus]\nurl = \"https://prom:9090/\"\nquery_timeout_ms = 500\n"
                   "selector = \"job=\\\"web\\\"\"\nca_file = \"ca.pem\"\nbackfill_minutes = 60\n"
                   "[blueprint.prometheus.queries]\n"
                   "invocations = \"sum(rate(http_requests_total{job=\\\"api\\\"}[1m]))\"\n"
                   "latency_p99 = \"off\"\n",
            &c, NULL);
    const struct cfg_prometheus *p = &c.blueprints[0].prometheus;
    assert_string_equal(p->url, "https://prom:9090/");
    assert_int_equal(p->query_timeout_ms, 500);
    assert_string_equal(p->selector, "job=\"web\"");
    assert_string_equal(p->ca_file, "ca.pem");
    assert_int_equal(p->tls_verify, 1);
    assert_int_equal(p->backfill_minutes, 60);
    assert_string_equal(p->queries[AE_F_INVOCATIONS],
                        "sum(rate(http_requests_total{job=\"api\"}[1m]))");
    assert_string_equal(p->queries[AE_F_LATENCY_P99], "off");
    assert_string_equal(p->queries[AE_F_CPU_USAGE], "");
    cfg_free(&c);

    load_fails(AE_EINVAL, BP_WEB "[blueprint.prometheus]\nurl = \"prom:9090\"\n",
               "blueprint.web.prometheus.url = \"prom:9090\" must be an http:// or https:// URL",
               NULL);
    load_fails(AE_ERANGE, BP_WEB "[blueprint.prometheus]\nquery_timeout_ms = 5\n",
               "t.toml:5: blueprint.web.prometheus.query_timeout_ms = 5", NULL);
    load_fails(AE_EINVAL, BP_WEB "[blueprint.prometheus.queries]\ninvocation = \"up\"\n",
               "t.toml:5: unknown key blueprint.web.prometheus.queries.invocation (did you mean "
               "invocations?)",
               NULL);
    load_fails(AE_EINVAL, BP_WEB "prometheus = 3\n",
               "blueprint.web.prometheus must be a table ([blueprint.prometheus])", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_file),
        cmocka_unit_test(test_caller_check),
        cmocka_unit_test(test_empty_file_is_all_defaults),
        cmocka_unit_test(test_values_of_every_type),
        cmocka_unit_test(test_range_errors),
        cmocka_unit_test(test_type_errors),
        cmocka_unit_test(test_unknown_keys),
        cmocka_unit_test(test_blueprint_rules),
        cmocka_unit_test(test_cross_field_and_syntax),
        cmocka_unit_test(test_effective_printout),
        cmocka_unit_test(test_table_ranges_match_core),
        cmocka_unit_test(test_cluster_section),
        cmocka_unit_test(test_table_is_complete),
        cmocka_unit_test(test_prometheus_section),
        cmocka_unit_test(test_token_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
