/* Table, JSON and SVG output of the simulator (see report.h). */
#include "report.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "aether/error.h"
#include "aether/trace.h"

void sim_report_table(FILE *out, const struct sim_result *r, int n)
{
    fprintf(out, "%-18s %8s %10s %13s %8s %9s %8s %10s %8s\n", "controller", "minutes", "slo_viol",
            "inst_minutes", "actions", "p95_ms", "util", "mae", "mase");
    for (int i = 0; i < n; i++) {
        char mae[32] = "-", mase[32] = "-";
        if (r[i].has_forecast && r[i].forecast_minutes > 0) {
            snprintf(mae, sizeof mae, "%.2f", r[i].mae);
            if (!isnan(r[i].mase))
                snprintf(mase, sizeof mase, "%.3f", r[i].mase);
        }
        fprintf(out, "%-18s %8ld %10ld %13.1f %8ld %9.1f %8.3f %10s %8s\n", r[i].controller,
                r[i].minutes, r[i].slo_violation_minutes, r[i].instance_minutes,
                r[i].scaling_actions, r[i].p95_latency_ms, r[i].mean_utilisation, mae, mase);
    }
}

/* A JSON number, or null for NAN/infinity. */
static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

int sim_report_json(FILE *out, const struct sim_result *r, int n)
{
    json_t *root = json_object();
    if (!root)
        return AE_ENOMEM;
    for (int i = 0; i < n; i++) {
        json_t *o = json_object();
        if (!o) {
            json_decref(root);
            return AE_ENOMEM;
        }
        json_object_set_new(o, "minutes", json_integer(r[i].minutes));
        json_object_set_new(o, "slo_violation_minutes", json_integer(r[i].slo_violation_minutes));
        json_object_set_new(o, "instance_minutes", num(r[i].instance_minutes));
        json_object_set_new(o, "scaling_actions", json_integer(r[i].scaling_actions));
        json_object_set_new(o, "p95_latency_ms", num(r[i].p95_latency_ms));
        json_object_set_new(o, "requests", num(r[i].requests));
        json_object_set_new(o, "dropped_requests", num(r[i].dropped));
        json_object_set_new(o, "mean_utilisation", num(r[i].mean_utilisation));
        json_object_set_new(o, "peak_instances", json_integer(r[i].peak_requested));
        double days = r[i].minutes / 1440.0;
        json_object_set_new(o, "scaling_actions_per_day",
                            num(days > 0 ? r[i].scaling_actions / days : NAN));
        if (r[i].has_forecast) {
            json_object_set_new(o, "mae", num(r[i].mae));
            json_object_set_new(o, "mase", num(r[i].mase));
            json_object_set_new(o, "forecast_minutes", json_integer(r[i].forecast_minutes));
            json_t *mae = json_array(), *mase = json_array(), *cnt = json_array();
            for (int h = 0; h < r[i].steps; h++) {
                json_array_append_new(mae, num(r[i].mae_by_step[h]));
                json_array_append_new(mase, num(r[i].mase_by_step[h]));
                json_array_append_new(cnt, json_integer(r[i].forecast_minutes_by_step[h]));
            }
            json_object_set_new(o, "mae_by_step", mae);
            json_object_set_new(o, "mase_by_step", mase);
            json_object_set_new(o, "forecast_minutes_by_step", cnt);
        }
        for (int k = 0; k < r[i].extra_count; k++)
            json_object_set_new(o, r[i].extra[k].name, num(r[i].extra[k].value));
        json_object_set_new(root, r[i].controller, o);
    }
    int rc = json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    fputc('\n', out);
    json_decref(root);
    return rc == 0 ? 0 : AE_EIO;
}

#define SVG_W 1100
#define SVG_PANEL_H 220
#define SVG_MARGIN 50
#define SVG_MAX_POINTS 1500

/* One polyline of series s (NAN breaks the line), downsampled by taking the max per bucket so
 * that peaks stay visible. */
static void svg_series(FILE *f, const double *s, size_t len, double ymax, int top,
                       const char *colour)
{
    size_t bucket = len > SVG_MAX_POINTS ? (len + SVG_MAX_POINTS - 1) / SVG_MAX_POINTS : 1;
    size_t points = (len + bucket - 1) / bucket;
    int open = 0;
    for (size_t p = 0; p < points; p++) {
        double v = NAN;
        for (size_t i = p * bucket; i < (p + 1) * bucket && i < len; i++)
            if (!isnan(s[i]) && (isnan(v) || s[i] > v))
                v = s[i];
        if (isnan(v)) {
            if (open)
                fprintf(f, "\"/>\n");
            open = 0;
            continue;
        }
        double x = SVG_MARGIN +
                   (double)p / (double)(points > 1 ? points - 1 : 1) * (SVG_W - 2 * SVG_MARGIN);
        double y = top + SVG_PANEL_H - 30 - v / ymax * (SVG_PANEL_H - 50);
        if (!open)
            fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1\" points=\"",
                    colour);
        fprintf(f, "%.1f,%.1f ", x, y);
        open = 1;
    }
    if (open)
        fprintf(f, "\"/>\n");
}

/* Writes text with the characters XML reserves escaped. */
static void xml_text(FILE *f, const char *text)
{
    for (const char *c = text; *c; c++) {
        if (*c == '<')
            fputs("&lt;", f);
        else if (*c == '>')
            fputs("&gt;", f);
        else if (*c == '&')
            fputs("&amp;", f);
        else
            fputc(*c, f);
    }
}

int sim_report_svg(const char *path, const char *title, const struct sim_result *r,
                   const struct sim_timeline *t, int n, char *err, size_t errlen)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return AE_EIO;
    }
    int height = 40 + n * SVG_PANEL_H;
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" "
            "fill=\"white\"/>\n<text x=\"%d\" y=\"20\" font-size=\"14\">",
            SVG_W, height, SVG_MARGIN);
    xml_text(f, title);
    fprintf(f, "</text>\n");
    for (int i = 0; i < n; i++) {
        const struct sim_timeline *s = &t[i];
        int top = 30 + i * SVG_PANEL_H;
        double ymax = 1;
        for (size_t k = 0; k < s->minutes; k++) {
            if (!isnan(s->needed[k]) && s->needed[k] > ymax)
                ymax = s->needed[k];
            if (!isnan(s->requested[k]) && s->requested[k] > ymax)
                ymax = s->requested[k];
        }
        ymax *= 1.05;
        char a[32], b[32];
        fprintf(f,
                "<text x=\"%d\" y=\"%d\">%s: %ld SLO-violation minutes, %.0f instance-minutes "
                "(%s .. %s)</text>\n",
                SVG_MARGIN, top + 14, r[i].controller, r[i].slo_violation_minutes,
                r[i].instance_minutes, trace_format_time(s->start_ms, a, sizeof a),
                trace_format_time(s->start_ms + (int64_t)s->minutes * AE_MINUTE_MS, b, sizeof b));
        fprintf(f,
                "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>\n"
                "<text x=\"5\" y=\"%d\">%.0f</text><text x=\"5\" y=\"%d\">0</text>\n",
                SVG_MARGIN, top + SVG_PANEL_H - 30, SVG_W - SVG_MARGIN, top + SVG_PANEL_H - 30,
                top + 24, ymax, top + SVG_PANEL_H - 30);
        svg_series(f, s->needed, s->minutes, ymax, top, "#888888");
        svg_series(f, s->requested, s->minutes, ymax, top, "#1f77b4");
        svg_series(f, s->ready, s->minutes, ymax, top, "#d62728");
    }
    fprintf(f,
            "<text x=\"%d\" y=\"%d\"><tspan fill=\"#888888\">load (instances needed at 100%% "
            "CPU)</tspan>  <tspan fill=\"#1f77b4\">requested</tspan>  <tspan "
            "fill=\"#d62728\">ready</tspan></text>\n</svg>\n",
            SVG_MARGIN, height - 5);
    if (fclose(f) != 0) {
        snprintf(err, errlen, "%s: write failed", path);
        return AE_EIO;
    }
    return 0;
}
