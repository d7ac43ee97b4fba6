/* aether-sim: replays a workload trace through the node's own decision core and the baseline
 * controllers in virtual time, and reports SLO violations, cost, scaling actions, latency and
 * forecast error per controller (table, or JSON with --json). See docs/simulator.md. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aether/config.h"
#include "aether/error.h"
#include "aether/forecaster.h"
#include "aether/tdata.h"
#include "aether/trace.h"
#include "controllers.h"
#include "load.h"
#include "report.h"
#include "sim.h"

/* OPT_SPAN: a duration like OPT_DURATION, or 0 (none). */
enum opt_kind { OPT_STRING, OPT_DOUBLE, OPT_INT, OPT_DURATION, OPT_SPAN, OPT_FLAG };

struct options {
    const char *trace, *time_column, *value_column, *mask_column, *time_format, *step, *from, *to;
    double scale;
    int64_t max_fill_ms;
    const char *controllers, *model, *mode, *forecaster, *selection_score;
    int horizon;
    int64_t startup_ms;
    int64_t warmup_ms;
    int peak_instances;
    double peak_util, peak_percentile, capacity;
    int min_instances, max_instances, initial_instances;
    double slo_util, service_ms, timeout_ms;
    double hpa_target, hpa_tolerance;
    int64_t hpa_stabilization_ms, hpa_sync_ms;
    double oracle_util;
    int season_minutes;
    int64_t ttm_interval_ms;
    double confidence_threshold, upper_bound_util, headroom_quantile, scale_up_threshold;
    int scale_in_window, forecast_ceiling, selection_steps;
    double selection_uf_weight, selection_peak_quantile;
    int json, quiet, help;
    const char *export_features, *plot;
};

/* shown: SHOWN when --help prints the option's value after defaults() as "(default X)";
 * NOT_SHOWN when it has no default, or one its help text describes. */
struct opt {
    const char *name;
    enum opt_kind kind;
    size_t offset;
    const char *help;
    int shown;
};
enum { NOT_SHOWN, SHOWN };

#define O(field) offsetof(struct options, field)
static const struct opt opts[] = {
    {"trace", OPT_STRING, O(trace), "trace CSV file (required)", NOT_SHOWN},
    {"time-column", OPT_STRING, O(time_column), "name of the time column (required)", NOT_SHOWN},
    {"value-column", OPT_STRING, O(value_column), "name of the load column (required)", NOT_SHOWN},
    {"time-format", OPT_STRING, O(time_format), "auto | datetime | unix-s | unix-ms | minute",
     SHOWN},
    {"step", OPT_STRING, O(step), "trace step: 1m, 5m, 30s, ... (default: inferred)", NOT_SHOWN},
    {"mask-column", OPT_STRING, O(mask_column), "rows where this column is non-zero are missing",
     NOT_SHOWN},
    {"from", OPT_STRING, O(from),
     "simulate from this time (datetime, the time column's unit, or P% of the trace)", NOT_SHOWN},
    {"to", OPT_STRING, O(to), "simulate up to (excluding) this time (same forms)", NOT_SHOWN},
    {"warm-up", OPT_SPAN, O(warmup_ms),
     "with --from: also run this much of the trace before it, counted in no figure, so that "
     "every controller starts from the state it has after running that long, in whole minutes",
     SHOWN},
    {"scale", OPT_DOUBLE, O(scale), "requests per minute = value x scale", SHOWN},
    {"max-fill", OPT_DURATION, O(max_fill_ms),
     "bridge missing runs up to this long, skip longer ones", SHOWN},
    {"controller", OPT_STRING, O(controllers), "reactive,ttm,hpa,holt-winters,linear,oracle or all",
     SHOWN},
    {"model", OPT_STRING, O(model), "ONNX model for the ttm controller", NOT_SHOWN},
    {"mode", OPT_STRING, O(mode), "ttm mode: active | forecast-only", SHOWN},
    {"forecaster", OPT_STRING, O(forecaster),
     "what drives ttm: model | persistence | drift | seasonal-naive | holt-winters | linear | "
     "periodic | auto; auto is the node's: the ones before it side by side and the best recent "
     "one drives, the model only with --model",
     SHOWN},
    {"horizon", OPT_INT, O(horizon),
     "ttm horizon in minutes without --model (with --model the model's)", SHOWN},
    {"startup-delay", OPT_DURATION, O(startup_ms), "instance start-up delay", SHOWN},
    {"peak-instances", OPT_INT, O(peak_instances),
     "size capacity so the trace's peak load needs this many instances", SHOWN},
    {"peak-util", OPT_DOUBLE, O(peak_util), "... at this utilisation", SHOWN},
    {"peak-percentile", OPT_DOUBLE, O(peak_percentile),
     "... taking this percentile of the whole trace as its peak", SHOWN},
    {"capacity", OPT_DOUBLE, O(capacity),
     "requests per minute one instance serves at 100% CPU (overrides the sizing)", NOT_SHOWN},
    {"min-instances", OPT_INT, O(min_instances), "fewest instances", SHOWN},
    {"max-instances", OPT_INT, O(max_instances), "default 3 x peak-instances", NOT_SHOWN},
    {"initial-instances", OPT_INT, O(initial_instances),
     "ready at the start (default: enough for the first minute at 60%)", NOT_SHOWN},
    {"slo-util", OPT_DOUBLE, O(slo_util),
     "a minute violates the SLO above this utilisation of ready capacity", SHOWN},
    {"service-ms", OPT_DOUBLE, O(service_ms), "mean service time of a request", SHOWN},
    {"timeout-ms", OPT_DOUBLE, O(timeout_ms), "latency cap and saturated latency", SHOWN},
    {"hpa-target", OPT_DOUBLE, O(hpa_target), "HPA target CPU utilisation", SHOWN},
    {"hpa-tolerance", OPT_DOUBLE, O(hpa_tolerance), "HPA tolerance", SHOWN},
    {"hpa-stabilization", OPT_DURATION, O(hpa_stabilization_ms),
     "HPA scale-down stabilisation window", SHOWN},
    {"hpa-sync", OPT_DURATION, O(hpa_sync_ms), "HPA sync period", SHOWN},
    {"oracle-util", OPT_DOUBLE, O(oracle_util),
     "utilisation the oracle sizes for (default: the SLO utilisation)", NOT_SHOWN},
    {"season", OPT_INT, O(season_minutes), "Holt-Winters season in minutes", SHOWN},
    {"ttm-interval", OPT_DURATION, O(ttm_interval_ms), "TTM evaluation interval, simulated time",
     SHOWN},
    {"confidence-threshold", OPT_DOUBLE, O(confidence_threshold), "TTM ttm.confidence_threshold",
     SHOWN},
    {"scale-up-threshold", OPT_DOUBLE, O(scale_up_threshold),
     "tier 1's controller.cpu_scale_up_threshold (reactive and ttm)", SHOWN},
    {"upper-bound-util", OPT_DOUBLE, O(upper_bound_util), "TTM ttm.upper_bound_utilization", SHOWN},
    {"headroom-quantile", OPT_DOUBLE, O(headroom_quantile), "TTM ttm.headroom_quantile", SHOWN},
    {"scale-in-window", OPT_INT, O(scale_in_window), "TTM ttm.scale_in_window_minutes", SHOWN},
    {"forecast-ceiling", OPT_INT, O(forecast_ceiling),
     "TTM ttm.forecast_ceiling: 1 floor and ceiling, 0 floor only", SHOWN},
    {"selection-steps", OPT_INT, O(selection_steps),
     "TTM ttm.selection_steps: auto scores steps 1..N, 0 = the horizon", SHOWN},
    {"selection-underforecast-weight", OPT_DOUBLE, O(selection_uf_weight),
     "TTM ttm.selection_underforecast_weight: auto weighs an under-forecast this many times an "
     "over-forecast",
     SHOWN},
    {"selection-score", OPT_STRING, O(selection_score),
     "TTM ttm.selection_score: what auto's score measures: step | peak | peak-quantile", SHOWN},
    {"selection-peak-quantile", OPT_DOUBLE, O(selection_peak_quantile),
     "TTM ttm.selection_peak_quantile: the quantile the peak-quantile score reads", SHOWN},
    {"json", OPT_FLAG, O(json), "print one JSON object keyed by controller", NOT_SHOWN},
    {"export-features", OPT_STRING, O(export_features),
     "write the first controller's per-minute features as training-data CSV", NOT_SHOWN},
    {"plot", OPT_STRING, O(plot), "write an SVG plot of load and instances per controller",
     NOT_SHOWN},
    {"quiet", OPT_FLAG, O(quiet), "no notes on stderr", NOT_SHOWN},
    {"help", OPT_FLAG, O(help), "this help", NOT_SHOWN},
};
#undef O
#define NOPTS (sizeof opts / sizeof opts[0])

static void defaults(struct options *o)
{
    memset(o, 0, sizeof *o);
    o->scale = 1;
    o->max_fill_ms = 15 * 60000;
    o->time_format = "auto";
    o->controllers = "all";
    o->mode = "active";
    o->forecaster = "auto";
    o->horizon = 1;
    o->startup_ms = 180000;
    o->peak_instances = 20;
    o->peak_util = 0.7;
    o->peak_percentile = 99.5;
    o->min_instances = 1;
    o->slo_util = 0.9;
    o->service_ms = 50;
    o->timeout_ms = 2000;
    struct sim_hpa_params hpa;
    sim_hpa_defaults(&hpa);
    o->hpa_target = hpa.target;
    o->hpa_tolerance = hpa.tolerance;
    o->hpa_stabilization_ms = hpa.stabilization_ms;
    o->hpa_sync_ms = hpa.sync_ms;
    o->season_minutes = 1440;
    o->ttm_interval_ms = 60000;
    struct cfg_ttm ttm;
    cfg_ttm_defaults(&ttm);
    o->confidence_threshold = ttm.confidence_threshold;
    struct cfg_controller ctl;
    cfg_controller_defaults(&ctl);
    o->scale_up_threshold = ctl.cpu_scale_up_threshold;
    o->upper_bound_util = ttm.upper_bound_utilization;
    o->headroom_quantile = ttm.headroom_quantile;
    o->scale_in_window = ttm.scale_in_window_minutes;
    o->forecast_ceiling = ttm.forecast_ceiling;
    o->selection_steps = ttm.selection_steps;
    o->selection_uf_weight = ttm.selection_underforecast_weight;
    o->selection_score = sel_score_names[ttm.selection_score];
    o->selection_peak_quantile = ttm.selection_peak_quantile;
}

/* A duration in the unit --help's readers type: 15m, 15s, 250ms. */
static void duration_text(int64_t ms, char *buf, size_t len)
{
    if (ms % 60000 == 0)
        snprintf(buf, len, "%lldm", (long long)(ms / 60000));
    else if (ms % 1000 == 0)
        snprintf(buf, len, "%llds", (long long)(ms / 1000));
    else
        snprintf(buf, len, "%lldms", (long long)ms);
}

/* The default of op in d, as --help prints it. */
static void default_text(const struct opt *op, const struct options *d, char *buf, size_t len)
{
    const void *field = (const char *)d + op->offset;
    switch (op->kind) {
    case OPT_STRING: {
        const char *text = *(const char *const *)field;
        snprintf(buf, len, "%s", text ? text : "none");
        break;
    }
    case OPT_DOUBLE:
        snprintf(buf, len, "%g", *(const double *)field);
        break;
    case OPT_INT:
        snprintf(buf, len, "%d", *(const int *)field);
        break;
    case OPT_SPAN:
        if (*(const int64_t *)field == 0) {
            snprintf(buf, len, "0");
            break;
        }
        /* fall through */
    case OPT_DURATION:
        duration_text(*(const int64_t *)field, buf, len);
        break;
    case OPT_FLAG:
        snprintf(buf, len, "off");
        break;
    }
}

static void usage(FILE *f)
{
    struct options d;
    defaults(&d);
    fprintf(f, "usage: aether-sim --trace FILE --time-column NAME --value-column NAME "
               "[options]\n\n");
    for (size_t i = 0; i < NOPTS; i++) {
        char dflt[64] = "";
        if (opts[i].shown) {
            char value[48];
            default_text(&opts[i], &d, value, sizeof value);
            snprintf(dflt, sizeof dflt, " (default %s)", value);
        }
        fprintf(f, "  --%-22s %s%s\n", opts[i].name, opts[i].help, dflt);
    }
}

static int parse_args(int argc, char **argv, struct options *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0) {
            fprintf(stderr, "aether-sim: unexpected argument '%s'\n", a);
            return -1;
        }
        a += 2;
        const char *eq = strchr(a, '=');
        size_t len = eq ? (size_t)(eq - a) : strlen(a);
        const struct opt *op = NULL;
        for (size_t k = 0; k < NOPTS; k++)
            if (strlen(opts[k].name) == len && strncmp(opts[k].name, a, len) == 0)
                op = &opts[k];
        if (!op) {
            fprintf(stderr, "aether-sim: unknown option '--%.*s' (see --help)\n", (int)len, a);
            return -1;
        }
        void *field = (char *)o + op->offset;
        if (op->kind == OPT_FLAG) {
            *(int *)field = 1;
            continue;
        }
        const char *val = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!val) {
            fprintf(stderr, "aether-sim: --%s needs a value\n", op->name);
            return -1;
        }
        char *end = NULL, err[256];
        switch (op->kind) {
        case OPT_STRING:
            *(const char **)field = val;
            break;
        case OPT_DOUBLE:
            *(double *)field = strtod(val, &end);
            break;
        case OPT_INT:
            *(int *)field = (int)strtol(val, &end, 10);
            break;
        case OPT_SPAN:
            if (strcmp(val, "0") == 0) {
                *(int64_t *)field = 0;
                break;
            }
            /* fall through */
        case OPT_DURATION:
            if (trace_parse_step(val, (int64_t *)field, err, sizeof err)) {
                fprintf(stderr, "aether-sim: --%s: %s\n", op->name, err);
                return -1;
            }
            break;
        case OPT_FLAG:
            break;
        }
        if (end && (*end != '\0' || end == val)) {
            fprintf(stderr, "aether-sim: --%s '%s' is not a number\n", op->name, val);
            return -1;
        }
    }
    return 0;
}

/* Checks the numbers that must be in range, naming the flag. */
static int check_ranges(const struct options *o)
{
    const struct {
        const char *name;
        double v, lo, hi;
    } r[] = {
        {"scale", o->scale, 1e-12, 1e12},
        {"peak-instances", o->peak_instances, 1, 10000},
        {"peak-util", o->peak_util, 0.01, 1},
        {"peak-percentile", o->peak_percentile, 0, 100},
        {"min-instances", o->min_instances, 1, 10000},
        {"slo-util", o->slo_util, 0.01, 1},
        {"service-ms", o->service_ms, 0.001, 1e6},
        {"timeout-ms", o->timeout_ms, 0.001, 1e7},
        {"hpa-target", o->hpa_target, 0.01, 1},
        {"hpa-tolerance", o->hpa_tolerance, 0, 1},
        {"season", o->season_minutes, 2, FCR_HISTORY_MINUTES / 2},
        {"horizon", o->horizon, 1, SIM_MAX_STEPS},
        {"confidence-threshold", o->confidence_threshold, 0, 1},
        {"upper-bound-util", o->upper_bound_util, 0.1, 1},
        {"headroom-quantile", o->headroom_quantile, CFG_RANGE_HEADROOM_QUANTILE},
        {"scale-in-window", o->scale_in_window, 0, CFG_MAX_SCALE_IN_WINDOW},
        {"forecast-ceiling", o->forecast_ceiling, 0, 1},
        {"selection-steps", o->selection_steps, CFG_RANGE_SELECTION_STEPS},
        {"selection-underforecast-weight", o->selection_uf_weight,
         CFG_RANGE_SELECTION_UNDERFORECAST_WEIGHT},
        {"selection-peak-quantile", o->selection_peak_quantile, CFG_RANGE_SELECTION_PEAK_QUANTILE},
    };
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++)
        if (!(r[i].v >= r[i].lo && r[i].v <= r[i].hi)) {
            fprintf(stderr, "aether-sim: --%s = %g is out of range %g..%g\n", r[i].name, r[i].v,
                    r[i].lo, r[i].hi);
            return -1;
        }
    if (o->capacity < 0 || o->max_instances < 0 || o->initial_instances < 0) {
        fprintf(stderr, "aether-sim: --capacity, --max-instances and --initial-instances must "
                        "not be negative\n");
        return -1;
    }
    if (o->warmup_ms != 0 && !o->from) {
        fprintf(stderr, "aether-sim: --warm-up needs --from: it runs the trace before --from\n");
        return -1;
    }
    return 0;
}

/* --from/--to: a time of the trace's kind, or "P%" = P percent of the way through the trace's
 * minutes (for chronological splits). */
static int parse_bound(const char *flag, const char *text, enum trace_time_format fmt, int64_t *ms,
                       double *pct)
{
    size_t len = strlen(text);
    if (len > 1 && text[len - 1] == '%') {
        char *end;
        *pct = strtod(text, &end);
        if (end == text + len - 1 && *pct >= 0 && *pct <= 100)
            return 0;
        fprintf(stderr, "aether-sim: %s '%s': a percentage must be 0%%..100%%\n", flag, text);
        return -1;
    }
    if (trace_parse_time(text, fmt, ms)) {
        fprintf(stderr, "aether-sim: %s '%s' is not a time of the trace's kind (or a percentage)\n",
                flag, text);
        return -1;
    }
    return 0;
}

#define MAX_CONTROLLERS 8

/* Splits the --controller list (or "all") into names; returns how many, -1 on a bad name. */
static int controller_list(const char *spec, const char **names)
{
    static const char *const known[] = {"reactive",     "ttm",    "hpa",
                                        "holt-winters", "linear", "oracle"};
    const int nknown = (int)(sizeof known / sizeof known[0]);
    if (strcmp(spec, "all") == 0) {
        for (int i = 0; i < nknown; i++)
            names[i] = known[i];
        return nknown;
    }
    int n = 0;
    const char *p = spec;
    while (*p) {
        size_t len = strcspn(p, ",");
        int found = -1;
        for (int i = 0; i < nknown; i++)
            if (strlen(known[i]) == len && strncmp(known[i], p, len) == 0)
                found = i;
        if (found < 0 || n == MAX_CONTROLLERS) {
            fprintf(stderr,
                    "aether-sim: --controller: unknown controller '%.*s' (known: "
                    "reactive, ttm, hpa, holt-winters, linear, oracle, all)\n",
                    (int)len, p);
            return -1;
        }
        names[n++] = known[found];
        p += len;
        if (*p == ',')
            p++;
    }
    return n;
}

/* The controller called name in *out (caller frees with sim_controller_free): 0, or a negative
 * AE_E* code with a message and *out NULL. */
static int make_controller(const char *name, const struct options *o, const struct sim_load *load,
                           double capacity, int max_instances, struct sim_controller **out,
                           char *err, size_t errlen)
{
    *out = NULL;
    struct cfg_controller ctl;
    cfg_controller_defaults(&ctl);
    ctl.cpu_scale_up_threshold = o->scale_up_threshold;
    if (cfg_controller_validate(&ctl, err, errlen))
        return AE_EINVAL; /* names the key and the value given with --scale-up-threshold */
    struct sim_hpa_params hp;
    sim_hpa_defaults(&hp);
    hp.target = o->hpa_target;
    hp.tolerance = o->hpa_tolerance;
    hp.stabilization_ms = o->hpa_stabilization_ms;
    hp.sync_ms = o->hpa_sync_ms;
    if (strcmp(name, "reactive") == 0)
        return sim_ctl_reactive_open(&ctl, out, err, errlen);
    if (strcmp(name, "ttm") == 0) {
        struct cfg_ttm t;
        cfg_ttm_defaults(&t);
        int mode = cfg_enum_parse(cfg_ttm_mode_names, CFG_TTM_MODE_COUNT, o->mode);
        if (mode < 0) {
            snprintf(err, errlen, "--mode '%s': expected active or forecast-only", o->mode);
            return AE_EINVAL;
        }
        int fk = fcr_kind_parse(o->forecaster);
        if (fk < 0) {
            snprintf(err, errlen,
                     "--forecaster '%s': expected model, persistence, drift, seasonal-naive, "
                     "holt-winters, linear, periodic or auto",
                     o->forecaster);
            return AE_EINVAL;
        }
        if (fk == FCR_MODEL && !o->model) {
            snprintf(err, errlen, "the ttm controller with --forecaster model needs --model FILE");
            return AE_EINVAL;
        }
        int score = cfg_enum_parse(sel_score_names, SEL_SCORE_COUNT, o->selection_score);
        if (score < 0) {
            snprintf(err, errlen, "--selection-score '%s': expected step, peak or peak-quantile",
                     o->selection_score);
            return AE_EINVAL;
        }
        t.selection_score = score;
        t.selection_peak_quantile = o->selection_peak_quantile;
        t.forecaster = (enum fcr_kind)fk;
        t.mode = (enum cfg_ttm_mode)mode;
        t.evaluation_interval_ms = (int)o->ttm_interval_ms;
        t.confidence_threshold = o->confidence_threshold;
        t.upper_bound_utilization = o->upper_bound_util;
        t.headroom_quantile = o->headroom_quantile;
        t.scale_in_window_minutes = o->scale_in_window;
        t.forecast_ceiling = o->forecast_ceiling;
        t.selection_steps = o->selection_steps;
        t.selection_underforecast_weight = o->selection_uf_weight;
        return sim_ctl_ttm_open(&ctl, &t, o->model, o->horizon, o->min_instances, max_instances,
                                out, err, errlen);
    }
    if (strcmp(name, "hpa") == 0)
        return sim_ctl_hpa_open(&hp, out, err, errlen);
    if (strcmp(name, "holt-winters") == 0 || strcmp(name, "linear") == 0)
        return sim_ctl_predictive_open(name, &hp, o->startup_ms, o->season_minutes, out, err,
                                       errlen);
    double util = o->oracle_util > 0 ? o->oracle_util : o->slo_util;
    return sim_ctl_oracle_open(load, capacity, util, o->startup_ms, out, err, errlen);
}

/* Feeds the history before the simulated part to a controller, one minute of invocations each
 * (skipped minutes left out). */
static void preload(struct sim_controller *c, const struct sim_load *before)
{
    for (size_t i = 0; i < before->minutes; i++) {
        if (isnan(before->demand[i]))
            continue;
        struct ae_minute m;
        ae_minute_init(&m, before->start_ms + (int64_t)i * AE_MINUTE_MS);
        m.values[AE_F_INVOCATIONS] = before->demand[i];
        m.missing &= ~AE_FEATURE_BIT(AE_F_INVOCATIONS);
        m.snapshots = 60;
        c->preload(c, &m);
    }
    c->preload(c, NULL); /* the end: fit on it now */
}

/* --from and --to: a time, or a share of the trace (pct >= 0) resolved once it is loaded. */
struct bounds {
    int64_t from_ms, to_ms;
    double from_pct, to_pct;
};

/* The trace reader's options and the bounds from o. Returns 0, or 2 (usage error, reported). */
static int read_options(const struct options *o, struct trace_options *to, struct bounds *b)
{
    char err[1024];
    *to = (struct trace_options){.time_column = o->time_column,
                                 .value_column = o->value_column,
                                 .mask_column = o->mask_column};
    if (o->time_format && trace_parse_time_format(o->time_format, &to->time_format)) {
        fprintf(stderr,
                "aether-sim: --time-format '%s': expected auto, datetime, unix-s, "
                "unix-ms or minute\n",
                o->time_format);
        return 2;
    }
    if (o->step && trace_parse_step(o->step, &to->step_ms, err, sizeof err)) {
        fprintf(stderr, "aether-sim: --step: %s\n", err);
        return 2;
    }
    *b = (struct bounds){.from_pct = -1, .to_pct = -1};
    if (o->from && parse_bound("--from", o->from, to->time_format, &b->from_ms, &b->from_pct))
        return 2;
    if (o->to && parse_bound("--to", o->to, to->time_format, &b->to_ms, &b->to_pct))
        return 2;
    return 0;
}

/* The whole trace as per-minute demand. Returns 0, or 1 (reported). */
static int load_trace(const struct options *o, const struct trace_options *to,
                      struct sim_load *load)
{
    char err[1024];
    struct trace *tr;
    if (trace_load(o->trace, to, &tr, err, sizeof err)) {
        fprintf(stderr, "aether-sim: %s\n", err);
        return 1;
    }
    int rc =
        sim_load_from_trace(tr, o->scale, (int)(o->max_fill_ms / 60000), load, err, sizeof err);
    if (!o->quiet) {
        char desc[2048];
        trace_describe(tr, desc, sizeof desc);
        fprintf(stderr, "aether-sim: %s: %s\n", o->trace, desc);
    }
    trace_free(tr);
    if (rc) {
        fprintf(stderr, "aether-sim: %s: %s\n", o->trace, err);
        return 1;
    }
    return 0;
}

/* Capacity is sized on the whole trace, so that a split into parts keeps one sizing. Returns 0,
 * or 1 (reported). */
static int size_capacity(const struct options *o, const struct sim_load *load, double *capacity)
{
    *capacity = o->capacity;
    if (*capacity > 0)
        return 0;
    double peak = sim_load_percentile(load, o->peak_percentile);
    *capacity = peak / (o->peak_instances * o->peak_util);
    if (!(*capacity > 0)) {
        fprintf(stderr, "aether-sim: the trace's peak load is 0: give --capacity\n");
        return 1;
    }
    return 0;
}

/* Cuts load to --from/--to, starting --warm-up before --from (clamped to the trace's start;
 * *warmup_minutes = how much of it was there); the trace before that goes to *before (history
 * the fitted forecasters learn from before the run). Returns 0, or 1 (reported). */
static int split_load(const struct options *o, struct bounds *b, struct sim_load *load,
                      struct sim_load *before, size_t *warmup_minutes)
{
    char err[1024];
    if (b->from_pct >= 0)
        b->from_ms = load->start_ms +
                     (int64_t)floor(b->from_pct / 100.0 * (double)load->minutes) * AE_MINUTE_MS;
    if (b->to_pct >= 0)
        b->to_ms = load->start_ms +
                   (int64_t)floor(b->to_pct / 100.0 * (double)load->minutes) * AE_MINUTE_MS;
    *warmup_minutes = 0;
    if (o->from) {
        int64_t start = b->from_ms - o->warmup_ms / AE_MINUTE_MS * AE_MINUTE_MS;
        start = start > load->start_ms ? start : load->start_ms;
        if (start < b->from_ms)
            *warmup_minutes = (size_t)((b->from_ms - start) / AE_MINUTE_MS);
        b->from_ms = start;
    }
    if (o->from && b->from_ms > load->start_ms) {
        size_t n = (size_t)((b->from_ms - load->start_ms) / AE_MINUTE_MS);
        before->start_ms = load->start_ms;
        before->minutes = n < load->minutes ? n : load->minutes;
        before->demand = malloc((before->minutes ? before->minutes : 1) * sizeof *before->demand);
        if (!before->demand) {
            fprintf(stderr, "aether-sim: out of memory\n");
            return 1;
        }
        memcpy(before->demand, load->demand, before->minutes * sizeof *before->demand);
    }
    if ((o->from || o->to) && sim_load_slice(load, o->from != NULL, b->from_ms, o->to != NULL,
                                             b->to_ms, err, sizeof err)) {
        fprintf(stderr, "aether-sim: %s\n", err);
        return 1;
    }
    return 0;
}

static void describe_run(const struct sim_load *load, size_t warmup, double capacity,
                         const struct options *o, int max_instances)
{
    char a[32], b[32];
    if (warmup > 0)
        fprintf(stderr,
                "aether-sim: warm-up %s .. %s: %zu minutes run first, counted in no "
                "figure\n",
                trace_format_time(load->start_ms, a, sizeof a),
                trace_format_time(load->start_ms + (int64_t)warmup * AE_MINUTE_MS, b, sizeof b),
                warmup);
    int64_t start_ms = load->start_ms + (int64_t)warmup * AE_MINUTE_MS;
    size_t minutes = load->minutes - warmup, skipped = 0;
    for (size_t i = warmup; i < load->minutes; i++)
        skipped += isnan(load->demand[i]) != 0;
    fprintf(stderr,
            "aether-sim: simulating %s .. %s: %zu minutes, %zu of them skipped; in the whole "
            "trace %zu short gaps (%zu min) bridged, %zu long gaps (%zu min) skipped; "
            "capacity %.4g requests/min per instance; instances %d..%d; start-up delay %llds\n",
            trace_format_time(start_ms, a, sizeof a),
            trace_format_time(start_ms + (int64_t)minutes * AE_MINUTE_MS, b, sizeof b),
            minutes - skipped, skipped, load->filled_runs, load->filled_minutes, load->skipped_runs,
            load->skipped_minutes, capacity, o->min_instances, max_instances,
            (long long)(o->startup_ms / 1000));
}

/* What one run of the simulation needs besides the controller. */
struct run_setup {
    const struct options *o;
    const struct sim_load *load, *before;
    struct sim_params params;
    double capacity;
};

/* Runs controller `name` into *result (and *timeline with --plot; features exported on the
 * first). Returns 0; 1 when *result holds but exporting the features failed; -1 when there is no
 * result (each reported). */
static int run_one(const struct run_setup *r, const char *name, int first,
                   struct sim_result *result, struct sim_timeline *timeline)
{
    char err[1024];
    const struct options *o = r->o;
    struct sim_controller *c;
    if (make_controller(name, o, r->load, r->capacity, r->params.max_instances, &c, err,
                        sizeof err) != 0) {
        fprintf(stderr, "aether-sim: %s: %s\n", name, err);
        return -1;
    }
    if (c->preload)
        preload(c, r->before);
    tdata_writer *w = NULL;
    if (first && o->export_features && tdata_writer_open(o->export_features, &w, err, sizeof err)) {
        fprintf(stderr, "aether-sim: %s\n", err);
        sim_controller_free(c);
        return -1;
    }
    int rc = sim_run(r->load, &r->params, c, w, o->plot ? timeline : NULL, result, err, sizeof err);
    sim_controller_free(c);
    int status = 0;
    char werr[512];
    if (w && tdata_writer_close(w, werr, sizeof werr)) {
        fprintf(stderr, "aether-sim: %s\n", werr);
        status = 1;
    }
    if (rc) {
        fprintf(stderr, "aether-sim: %s: %s\n", name, err);
        return -1;
    }
    return status;
}

/* Every controller in names, then the report (table or JSON, and the plot). Returns the exit
 * status. */
static int run_all(const struct run_setup *r, const char *const *names, int ncontrollers)
{
    char err[1024];
    const struct options *o = r->o;
    struct sim_result results[MAX_CONTROLLERS];
    struct sim_timeline timelines[MAX_CONTROLLERS];
    memset(results, 0, sizeof results);
    memset(timelines, 0, sizeof timelines);
    int done = 0, status = 0;
    for (int i = 0; i < ncontrollers && status == 0; i++) {
        int rc = run_one(r, names[i], i == 0, &results[i], &timelines[i]);
        if (rc >= 0)
            done++;
        status = rc != 0;
    }
    if (done > 0) {
        if (o->json)
            sim_report_json(stdout, results, done);
        else
            sim_report_table(stdout, results, done);
    }
    if (status == 0 && o->plot &&
        sim_report_svg(o->plot, o->trace, results, timelines, done, err, sizeof err)) {
        fprintf(stderr, "aether-sim: %s\n", err);
        status = 1;
    }
    for (int i = 0; i < done; i++)
        sim_timeline_free(&timelines[i]);
    return status;
}

int main(int argc, char **argv)
{
    struct options o;
    defaults(&o);
    if (parse_args(argc, argv, &o))
        return 2;
    if (o.help) {
        usage(stdout);
        return 0;
    }
    if (!o.trace || !o.time_column || !o.value_column) {
        fprintf(stderr, "aether-sim: --trace, --time-column and --value-column are required\n");
        usage(stderr);
        return 2;
    }
    if (check_ranges(&o))
        return 2;
    struct trace_options to;
    struct bounds bounds;
    if (read_options(&o, &to, &bounds))
        return 2;
    const char *names[MAX_CONTROLLERS];
    int ncontrollers = controller_list(o.controllers, names);
    if (ncontrollers < 0)
        return 2;

    struct sim_load load, before = {0};
    if (load_trace(&o, &to, &load))
        return 1;
    double capacity;
    size_t warmup = 0;
    int status =
        size_capacity(&o, &load, &capacity) || split_load(&o, &bounds, &load, &before, &warmup);
    int max_instances = o.max_instances > 0 ? o.max_instances : 3 * o.peak_instances;
    if (status == 0 && !o.quiet)
        describe_run(&load, warmup, capacity, &o, max_instances);
    struct run_setup r = {.o = &o,
                          .load = &load,
                          .before = &before,
                          .capacity = capacity,
                          .params = {.service = {.capacity_per_min = capacity,
                                                 .service_ms = o.service_ms,
                                                 .timeout_ms = o.timeout_ms,
                                                 .overload_util = 0.99},
                                     .startup_ms = o.startup_ms,
                                     .min_instances = o.min_instances,
                                     .max_instances = max_instances,
                                     .initial_instances = o.initial_instances,
                                     .slo_util = o.slo_util,
                                     .warmup_minutes = warmup}};
    if (status == 0)
        status = run_all(&r, names, ncontrollers);
    sim_load_free(&load);
    free(before.demand);
    return status;
}
