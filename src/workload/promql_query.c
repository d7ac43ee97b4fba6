/* The PromQL query of each feature (promql_query_for, see aether/promql.h) and the URLs that
 * carry queries to the Prometheus HTTP API (promql_url.h). */
#include "aether/promql.h"

#include "aether/features.h"
#include "promql_url.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* printf into out: 1, or -1 when it does not fit. */
static int put(char *out, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, len, fmt, ap);
    va_end(ap);
    return n >= 0 && (size_t)n < len ? 1 : -1;
}

/* 1000 * histogram_quantile(q, ...) of the latency histogram. */
static int quantile(const struct cfg_blueprint *bp, const char *sel, const char *q, char *out,
                    size_t len)
{
    const char *h = bp->metrics.latency_histogram;
    if (!h[0])
        return 0;
    return put(out, len, "1000 * histogram_quantile(%s, sum by (le) (rate(%s_bucket%s[1m])))", q, h,
               sel);
}

/* The default query of feature f (see the key table's help), 0 when there is none. */
static int default_query(const struct cfg_blueprint *bp, int f, const char *sel, char *out,
                         size_t len)
{
    const struct cfg_metrics_names *m = &bp->metrics;
    switch (f) {
    case AE_F_CPU_USAGE:
        return put(out, len,
                   "sum(rate(process_cpu_seconds_total%s[1m])) / "
                   "count(process_cpu_seconds_total%s) / %.17g",
                   sel, sel, bp->cpu_limit_cores);
    case AE_F_HEAP_USAGE:
        if (bp->memory_limit_bytes <= 0)
            return 0;
        return put(out, len, "avg(process_resident_memory_bytes%s) / %lld", sel,
                   (long long)bp->memory_limit_bytes);
    case AE_F_LATENCY_MS:
        if (!m->latency_histogram[0])
            return 0;
        return put(out, len, "1000 * sum(rate(%s_sum%s[1m])) / sum(rate(%s_count%s[1m]))",
                   m->latency_histogram, sel, m->latency_histogram, sel);
    case AE_F_INVOCATIONS:
    case AE_F_EVENT_COUNT:
        if (!m->requests_total[0])
            return 0;
        return put(out, len, "sum(rate(%s%s[1m]))", m->requests_total, sel);
    case AE_F_GC_PAUSE_MS:
        if (!m->gc_pause_total[0])
            return 0;
        return put(out, len, "%s * sum(rate(%s%s[1m]))",
                   strstr(m->gc_pause_total, "seconds") ? "1000" : "1", m->gc_pause_total, sel);
    case AE_F_LATENCY_P50:
        return quantile(bp, sel, "0.5", out, len);
    case AE_F_LATENCY_P95:
        return quantile(bp, sel, "0.95", out, len);
    case AE_F_LATENCY_P99:
        return quantile(bp, sel, "0.99", out, len);
    case AE_F_ERROR_RATE:
        if (!m->errors_total[0] || !m->requests_total[0])
            return 0;
        return put(out, len, "sum(rate(%s%s[1m])) / sum(rate(%s%s[1m]))", m->errors_total, sel,
                   m->requests_total, sel);
    default:
        return 0;
    }
}

int promql_query_for(const struct cfg_blueprint *bp, int f, char *out, size_t len)
{
    if (f < 0 || f >= AE_FEATURE_COUNT || len == 0)
        return -1;
    out[0] = '\0';
    const char *q = bp->prometheus.queries[f];
    if (strcmp(q, "off") == 0)
        return 0;
    if (q[0])
        return put(out, len, "%s", q);
    char sel[CFG_PATH_MAX + 2] = "";
    if (bp->prometheus.selector[0])
        snprintf(sel, sizeof sel, "{%s}", bp->prometheus.selector);
    return default_query(bp, f, sel, out, len);
}

/* Appends s percent-encoded (everything but RFC 3986's unreserved characters). */
static size_t encode(char *out, size_t len, size_t at, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p && at + 4 < len; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~", *p)) {
            out[at++] = (char)*p;
        } else {
            out[at++] = '%';
            out[at++] = hex[*p >> 4];
            out[at++] = hex[*p & 15];
        }
    }
    out[at] = '\0';
    return *s && at + 4 >= len ? len : at;
}

int promql_url(const char *base, const char *api, const char *query, const char *extra, char *out,
               size_t len)
{
    size_t b = strlen(base);
    while (b > 0 && base[b - 1] == '/')
        b--;
    int n = snprintf(out, len, "%.*s/api/v1/%s?query=", (int)b, base, api);
    if (n < 0 || (size_t)n >= len)
        return -1;
    size_t at = encode(out, len, (size_t)n, query);
    if (at >= len)
        return -1;
    n = snprintf(out + at, len - at, "%s", extra ? extra : "");
    return n >= 0 && (size_t)n < len - at ? 0 : -1;
}
