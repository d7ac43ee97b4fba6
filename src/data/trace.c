/* Trace CSV reader (see aether/trace.h): columns by name, time in any of four forms, values put
 * on a regular grid with empty cells and jumps in time kept as NAN and counted. Two passes: the
 * rows are collected first (so the step can be inferred from them), then placed on the grid. */
#include "aether/trace.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aether/error.h"
#include "aether/calendar.h"
#include "aether/fileio.h"
#include "aether/snapshot.h"
#include "csv.h"

/* A guard against a wrong step or time format turning a small file into gigabytes. */
#define TRACE_MAX_SLOTS 20000000

static const char *const format_names[] = {
    [TRACE_TIME_AUTO] = "auto",     [TRACE_TIME_DATETIME] = "datetime",
    [TRACE_TIME_UNIX_S] = "unix-s", [TRACE_TIME_UNIX_MS] = "unix-ms",
    [TRACE_TIME_MINUTE] = "minute",
};

/* What a cell of each format looks like, for messages. */
static const char *const format_what[] = {
    [TRACE_TIME_AUTO] = "a datetime or a number",
    [TRACE_TIME_DATETIME] = "a datetime (YYYY-MM-DD HH:MM[:SS])",
    [TRACE_TIME_UNIX_S] = "Unix seconds",
    [TRACE_TIME_UNIX_MS] = "Unix milliseconds",
    [TRACE_TIME_MINUTE] = "a minute index",
};

const char *trace_time_format_name(enum trace_time_format f)
{
    if ((int)f < 0 || (size_t)f >= sizeof format_names / sizeof format_names[0])
        return "?";
    return format_names[f];
}

int trace_parse_time_format(const char *name, enum trace_time_format *out)
{
    for (size_t i = 0; i < sizeof format_names / sizeof format_names[0]; i++)
        if (strcmp(name, format_names[i]) == 0) {
            *out = (enum trace_time_format)i;
            return 0;
        }
    return AE_EINVAL;
}

/* Reads exactly n digits at *p. */
static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

static int days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 ? 28 + leap : dm[m - 1];
}

/* YYYY-MM-DD[( |T)HH:MM[:SS[.fff]]][Z|(+|-)HH[:]MM] -> Unix ms. */
static int parse_datetime(const char *s, int64_t *ms)
{
    int y, mo, d, h = 0, mi = 0, sec = 0;
    double frac = 0;
    if (digits(&s, 4, &y) || *s++ != '-' || digits(&s, 2, &mo) || *s++ != '-' || digits(&s, 2, &d))
        return AE_EPARSE;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return AE_EPARSE;
    if (*s == ' ' || *s == 'T') {
        s++;
        if (digits(&s, 2, &h) || *s++ != ':' || digits(&s, 2, &mi))
            return AE_EPARSE;
        if (*s == ':') {
            s++;
            if (digits(&s, 2, &sec))
                return AE_EPARSE;
            if (*s == '.') {
                const char *f = s;
                s++;
                if (!isdigit((unsigned char)*s))
                    return AE_EPARSE;
                while (isdigit((unsigned char)*s))
                    s++;
                frac = strtod(f, NULL);
            }
        }
        if (h > 23 || mi > 59 || sec > 60)
            return AE_EPARSE;
    }
    int offset_min = 0;
    if (*s == 'Z') {
        s++;
    } else if (*s == '+' || *s == '-') {
        int sign = *s++ == '-' ? -1 : 1, oh, om;
        if (digits(&s, 2, &oh))
            return AE_EPARSE;
        if (*s == ':')
            s++;
        if (digits(&s, 2, &om) || oh > 23 || om > 59)
            return AE_EPARSE;
        offset_min = sign * (oh * 60 + om);
    }
    if (*s != '\0')
        return AE_EPARSE;
    int64_t secs = ae_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    *ms = (secs - (int64_t)offset_min * 60) * 1000 + (int64_t)llround(frac * 1000.0);
    return 0;
}

int trace_parse_time(const char *text, enum trace_time_format fmt, int64_t *ms)
{
    if (parse_datetime(text, ms) == 0)
        return 0;
    if (fmt == TRACE_TIME_DATETIME)
        return AE_EPARSE;
    double v;
    if (csv_number(text, &v))
        return AE_EPARSE;
    if (fmt == TRACE_TIME_AUTO)
        fmt = fabs(v) >= 1e11 ? TRACE_TIME_UNIX_MS
                              : (fabs(v) >= 1e8 ? TRACE_TIME_UNIX_S : TRACE_TIME_MINUTE);
    double scale = fmt == TRACE_TIME_UNIX_MS ? 1.0 : (fmt == TRACE_TIME_UNIX_S ? 1e3 : 6e4);
    double t = v * scale;
    if (!(fabs(t) < 9e15)) /* far beyond any real trace; keeps the int64 conversion defined */
        return AE_EPARSE;
    *ms = (int64_t)llround(t);
    return 0;
}

static enum trace_time_format detect_format(const char *text)
{
    int64_t ms;
    if (parse_datetime(text, &ms) == 0)
        return TRACE_TIME_DATETIME;
    double v;
    if (csv_number(text, &v))
        return TRACE_TIME_AUTO; /* not a time at all: reported by the caller */
    return fabs(v) >= 1e11 ? TRACE_TIME_UNIX_MS
                           : (fabs(v) >= 1e8 ? TRACE_TIME_UNIX_S : TRACE_TIME_MINUTE);
}

int trace_parse_step(const char *text, int64_t *step_ms, char *err, size_t errlen)
{
    char *end = NULL;
    double v = strtod(text, &end);
    double unit = 0;
    if (end != text) {
        if (strcmp(end, "") == 0 || strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
            unit = AE_MINUTE_MS;
        else if (strcmp(end, "s") == 0)
            unit = 1000;
        else if (strcmp(end, "ms") == 0)
            unit = 1;
        else if (strcmp(end, "h") == 0)
            unit = 3600000;
    }
    if (unit == 0 || !(v > 0) || v * unit < 1 || v * unit > 86400000.0 * 366) {
        snprintf(err, errlen, "step '%s': expected a positive duration like 1m, 5m, 30s or 1h",
                 text);
        return AE_EPARSE;
    }
    *step_ms = (int64_t)llround(v * unit);
    return 0;
}

void trace_free(struct trace *t)
{
    if (!t)
        return;
    free(t->values);
    free(t->gaps);
    free(t);
}

/* The rows as read, before they are put on the grid. */
struct raw_rows {
    int64_t *t;
    double *v;
    size_t n, cap;
};

static int raw_push(struct raw_rows *r, int64_t t, double v)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 1024;
        int64_t *t2 = realloc(r->t, cap * sizeof *t2);
        if (!t2)
            return AE_ENOMEM;
        r->t = t2;
        double *v2 = realloc(r->v, cap * sizeof *v2);
        if (!v2)
            return AE_ENOMEM;
        r->v = v2;
        r->cap = cap;
    }
    r->t[r->n] = t;
    r->v[r->n] = v;
    r->n++;
    return 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The most common positive difference between consecutive times (ties: the smaller). */
static int64_t infer_step(const struct raw_rows *r)
{
    if (r->n < 2)
        return 0;
    int64_t *d = malloc((r->n - 1) * sizeof *d);
    if (!d)
        return -1;
    size_t m = 0;
    for (size_t i = 1; i < r->n; i++)
        if (r->t[i] > r->t[i - 1])
            d[m++] = r->t[i] - r->t[i - 1];
    qsort(d, m, sizeof *d, cmp_i64);
    int64_t best = 0;
    size_t best_run = 0;
    for (size_t i = 0; i < m;) {
        size_t j = i;
        while (j < m && d[j] == d[i])
            j++;
        if (j - i > best_run) {
            best_run = j - i;
            best = d[i];
        }
        i = j;
    }
    free(d);
    return best;
}

static int add_gap(struct trace *t, size_t *cap, int64_t start_ms, int64_t slots)
{
    if (t->gap_count == *cap) {
        size_t c = *cap ? *cap * 2 : 16;
        struct trace_gap *g = realloc(t->gaps, c * sizeof *g);
        if (!g)
            return AE_ENOMEM;
        t->gaps = g;
        *cap = c;
    }
    t->gaps[t->gap_count].start_ms = start_ms;
    t->gaps[t->gap_count].slots = slots;
    t->gap_count++;
    t->gap_slots += (size_t)slots;
    return 0;
}

/* Puts the collected rows on the grid of t->step_ms starting at the first row. */
static int place_on_grid(const char *name, const struct raw_rows *r, struct trace *t, char *err,
                         size_t errlen)
{
    t->start_ms = r->t[0];
    double span = (double)(r->t[r->n - 1] - r->t[0]) / (double)t->step_ms;
    if (span + 1 > TRACE_MAX_SLOTS) {
        snprintf(err, errlen,
                 "%s: the rows span %.0f slots of %lld ms (limit %d): wrong --step or time "
                 "format?",
                 name, span + 1, (long long)t->step_ms, TRACE_MAX_SLOTS);
        return AE_ERANGE;
    }
    t->len = (size_t)llround(span) + 1;
    t->values = malloc(t->len * sizeof *t->values);
    if (!t->values) {
        snprintf(err, errlen, "%s: out of memory for %zu slots", name, t->len);
        return AE_ENOMEM;
    }
    size_t gap_cap = 0;
    int64_t last_slot = -1;
    for (size_t i = 0; i < r->n; i++) {
        int64_t off = r->t[i] - t->start_ms;
        int64_t slot = (int64_t)llround((double)off / (double)t->step_ms);
        if (slot >= (int64_t)t->len)
            slot = (int64_t)t->len - 1;
        if (off != slot * t->step_ms)
            t->off_grid_rows++;
        if (slot <= last_slot) {
            t->duplicate_rows++;
            continue;
        }
        if (slot > last_slot + 1 &&
            add_gap(t, &gap_cap, t->start_ms + (last_slot + 1) * t->step_ms, slot - last_slot - 1))
            goto oom;
        for (int64_t s = last_slot + 1; s < slot; s++)
            t->values[s] = NAN;
        t->values[slot] = r->v[i];
        last_slot = slot;
    }
    return 0;
oom:
    snprintf(err, errlen, "%s: out of memory", name);
    return AE_ENOMEM;
}

/* The columns a trace reads, by index in the header; need = the highest of them. */
struct columns {
    int time, value, mask, need;
};

/* Finds the named columns in the header just read. 0, or AE_ENOENT naming the missing one. */
static int find_columns(const char *name, struct csv_reader *rd, const struct trace_options *opt,
                        struct columns *c, char *err, size_t errlen)
{
    c->time = csv_find_column(rd, opt->time_column);
    c->value = csv_find_column(rd, opt->value_column);
    c->mask = opt->mask_column ? csv_find_column(rd, opt->mask_column) : -1;
    const char *missing =
        c->time < 0 ? opt->time_column
                    : (c->value < 0 ? opt->value_column
                                    : (opt->mask_column && c->mask < 0 ? opt->mask_column : NULL));
    if (missing) {
        snprintf(err, errlen, "%s:%ld: no column named '%s' in the header", name, rd->line,
                 missing);
        return AE_ENOENT;
    }
    c->need = c->time > c->value ? c->time : c->value;
    c->need = c->mask > c->need ? c->mask : c->need;
    return 0;
}

/* The value of the row just read: NAN when masked or empty (counted in t). 0, or AE_EPARSE. */
static int row_value(const char *name, const struct csv_reader *rd, const struct trace_options *opt,
                     const struct columns *c, struct trace *t, double *v, char *err, size_t errlen)
{
    *v = NAN;
    const char *vc = rd->field[c->value];
    if (c->mask >= 0 && rd->field[c->mask][0] != '\0') {
        double m;
        if (csv_number(rd->field[c->mask], &m)) {
            snprintf(err, errlen, "%s:%ld: column '%s': '%.40s' is not a number", name, rd->line,
                     opt->mask_column, rd->field[c->mask]);
            return AE_EPARSE;
        }
        if (m != 0) {
            t->masked_rows++;
            vc = NULL;
        }
    }
    if (vc && vc[0] == '\0') {
        t->empty_cells++;
    } else if (vc && csv_number(vc, v)) {
        snprintf(err, errlen, "%s:%ld: column '%s': '%.40s' is not a number", name, rd->line,
                 opt->value_column, vc);
        return AE_EPARSE;
    }
    return 0;
}

/* Reads the row just read into raw (or skips it outside --from/--to). 0 or a negative code. */
static int read_row(const char *name, const struct csv_reader *rd, const struct trace_options *opt,
                    const struct columns *c, struct trace *t, struct raw_rows *raw, char *err,
                    size_t errlen)
{
    if ((int)rd->nfields <= c->need) {
        const char *absent = (int)rd->nfields <= c->time    ? opt->time_column
                             : (int)rd->nfields <= c->value ? opt->value_column
                                                            : opt->mask_column;
        snprintf(err, errlen, "%s:%ld: only %zu column(s): no cell for column '%s'", name, rd->line,
                 rd->nfields, absent);
        return AE_EPARSE;
    }
    const char *tc = rd->field[c->time];
    if (t->time_format == TRACE_TIME_AUTO)
        t->time_format = detect_format(tc);
    int64_t ms;
    if (t->time_format == TRACE_TIME_AUTO || trace_parse_time(tc, t->time_format, &ms)) {
        snprintf(err, errlen, "%s:%ld: column '%s': '%.40s' is not %s", name, rd->line,
                 opt->time_column, tc, format_what[t->time_format]);
        return AE_EPARSE;
    }
    if (raw->n > 0 && ms < raw->t[raw->n - 1]) {
        snprintf(err, errlen, "%s:%ld: column '%s': time '%.40s' is earlier than the row before",
                 name, rd->line, opt->time_column, tc);
        return AE_EPARSE;
    }
    if ((opt->has_from && ms < opt->from_ms) || (opt->has_to && ms >= opt->to_ms))
        return 0;
    double v;
    int rc = row_value(name, rd, opt, c, t, &v, err, errlen);
    if (rc)
        return rc;
    if (raw_push(raw, ms, v)) {
        snprintf(err, errlen, "%s:%ld: out of memory", name, rd->line);
        return AE_ENOMEM;
    }
    return 0;
}

/* The rows read (raw) onto the trace's grid: the step given or inferred. */
static int build_grid(const char *name, const struct trace_options *opt, struct raw_rows *raw,
                      struct trace *t, char *err, size_t errlen)
{
    if (raw->n == 0) {
        snprintf(err, errlen, "%s: no data rows%s", name,
                 opt->has_from || opt->has_to ? " inside the --from/--to range" : "");
        return AE_EPARSE;
    }
    t->rows = raw->n;
    t->step_ms = opt->step_ms;
    if (t->step_ms <= 0) {
        t->step_ms = infer_step(raw);
        if (t->step_ms <= 0) {
            snprintf(err, errlen, "%s: cannot infer the step from %zu row(s); give it", name,
                     raw->n);
            return AE_EINVAL;
        }
    }
    return place_on_grid(name, raw, t, err, errlen);
}

int trace_parse(const char *name, const char *text, size_t len, const struct trace_options *opt,
                struct trace **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!opt || !opt->time_column || !opt->value_column) {
        snprintf(err, errlen, "%s: a time column and a value column must be named", name);
        return AE_EINVAL;
    }
    struct csv_reader rd;
    csv_init(&rd, name, text, len);
    struct raw_rows raw = {0};
    struct trace *t = calloc(1, sizeof *t);
    int rc = t ? csv_next(&rd, err, errlen) : AE_ENOMEM;
    if (rc == 0) {
        snprintf(err, errlen, "%s: empty file (no header line)", name);
        rc = AE_EPARSE;
    }
    struct columns c;
    if (rc > 0)
        rc = find_columns(name, &rd, opt, &c, err, errlen);
    if (rc == 0) {
        t->time_format = opt->time_format;
        while ((rc = csv_next(&rd, err, errlen)) == 1)
            if ((rc = read_row(name, &rd, opt, &c, t, &raw, err, errlen)) != 0)
                break;
    }
    if (rc == 0)
        rc = build_grid(name, opt, &raw, t, err, errlen);
    csv_free(&rd);
    free(raw.t);
    free(raw.v);
    if (rc < 0) {
        trace_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

int trace_load(const char *path, const struct trace_options *opt, struct trace **out, char *err,
               size_t errlen)
{
    char *text;
    size_t len;
    *out = NULL;
    int rc = ae_read_file(path, &text, &len, err, errlen);
    if (rc)
        return rc;
    rc = trace_parse(path, text, len, opt, out, err, errlen);
    free(text);
    return rc;
}

char *trace_format_time(int64_t ms, char *buf, size_t buflen)
{
    int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    int64_t rem = secs - days * 86400;
    int y, m, d;
    ae_civil_from_days(days, &y, &m, &d);
    snprintf(buf, buflen, "%04d-%02d-%02d %02d:%02d", y, m, d, (int)(rem / 3600),
             (int)(rem % 3600 / 60));
    return buf;
}

static void describe_duration(int64_t ms, char *buf, size_t n)
{
    if (ms % 3600000 == 0 && ms >= 3600000)
        snprintf(buf, n, "%lld h", (long long)(ms / 3600000));
    else if (ms % AE_MINUTE_MS == 0)
        snprintf(buf, n, "%lld min", (long long)(ms / AE_MINUTE_MS));
    else
        snprintf(buf, n, "%lld ms", (long long)ms);
}

size_t trace_describe(const struct trace *t, char *buf, size_t buflen)
{
    char a[32], b[32], st[32], dur[32];
    size_t n = 0;
#define PUT(...)                                                                                   \
    do {                                                                                           \
        int k =                                                                                    \
            snprintf(buf + (n < buflen ? n : buflen), n < buflen ? buflen - n : 0, __VA_ARGS__);   \
        if (k > 0)                                                                                 \
            n += (size_t)k;                                                                        \
    } while (0)
    if (buflen)
        buf[0] = '\0';
    describe_duration(t->step_ms, st, sizeof st);
    PUT("%zu rows, %zu slots of %s from %s to %s (time column: %s)", t->rows, t->len, st,
        trace_format_time(t->start_ms, a, sizeof a),
        trace_format_time(t->start_ms + (int64_t)(t->len - 1) * t->step_ms, b, sizeof b),
        trace_time_format_name(t->time_format));
    if (t->empty_cells)
        PUT("; %zu empty value cells (missing)", t->empty_cells);
    if (t->masked_rows)
        PUT("; %zu rows masked (missing)", t->masked_rows);
    if (t->off_grid_rows)
        PUT("; %zu rows off the grid (rounded to the nearest slot)", t->off_grid_rows);
    if (t->duplicate_rows)
        PUT("; %zu rows on an already filled slot (ignored)", t->duplicate_rows);
    if (t->gap_count) {
        PUT("; %zu gaps, %zu slots in total:", t->gap_count, t->gap_slots);
        for (size_t i = 0; i < t->gap_count && i < 8; i++) {
            describe_duration(t->gaps[i].slots * t->step_ms, dur, sizeof dur);
            PUT(" %s (%s)", trace_format_time(t->gaps[i].start_ms, a, sizeof a), dur);
        }
        if (t->gap_count > 8)
            PUT(" ...");
    } else {
        PUT("; no gaps");
    }
#undef PUT
    return n;
}
