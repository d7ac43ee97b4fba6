/* Node logging (see log.h): timestamps in UTC ISO 8601 with milliseconds; JSON lines carry
 * ts, level, component and msg so log shippers need no parsing rules. */
#include "aether/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_int g_min_level = NLOG_INFO;
static atomic_int g_format = NLOG_TEXT;
static atomic_int g_fd = 2;

static const char *const level_names[] = {"debug", "info", "warn", "error"};
static const char *const level_tags[] = {"DEBUG", "INFO", "WARN", "ERROR"}; /* text format */

void nlog_setup(enum nlog_level min_level, enum nlog_format format)
{
    atomic_store(&g_min_level, (int)min_level);
    atomic_store(&g_format, (int)format);
}

void nlog_set_fd(int fd)
{
    atomic_store(&g_fd, fd);
}

/* Appends s to buf as the inside of a JSON string (quotes not included). */
static size_t json_escape_into(char *buf, size_t cap, size_t len, const char *s)
{
    for (; *s && len + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            buf[len++] = '\\';
            buf[len++] = (char)c;
        } else if (c == '\n') {
            buf[len++] = '\\';
            buf[len++] = 'n';
        } else if (c < 0x20) {
            len += (size_t)snprintf(buf + len, cap - len, "\\u%04x", c);
        } else {
            buf[len++] = (char)c;
        }
    }
    return len;
}

void nlog(enum nlog_level level, const char *comp, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    nlog_v(level, comp, fmt, ap);
    va_end(ap);
}

void nlog_v(enum nlog_level level, const char *comp, const char *fmt, va_list ap)
{
    if ((int)level < atomic_load(&g_min_level))
        return;
    char msg[1536];
    vsnprintf(msg, sizeof msg, fmt, ap);
    /* Library messages often end in a newline of their own. */
    size_t ml = strlen(msg);
    while (ml > 0 && msg[ml - 1] == '\n')
        msg[--ml] = '\0';

    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[40];
    size_t wl = strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + wl, sizeof when - wl, ".%03ldZ", ts.tv_nsec / 1000000L);

    char line[2048];
    size_t len;
    if (atomic_load(&g_format) == NLOG_JSON) {
        len =
            (size_t)snprintf(line, sizeof line, "{\"ts\":\"%s\",\"level\":\"%s\",\"component\":\"",
                             when, level_names[level]);
        len = json_escape_into(line, sizeof line, len, comp ? comp : "node");
        len += (size_t)snprintf(line + len, sizeof line - len, "\",\"msg\":\"");
        len = json_escape_into(line, sizeof line, len, msg);
        len += (size_t)snprintf(line + len, sizeof line - len, "\"}\n");
    } else {
        len = (size_t)snprintf(line, sizeof line, "%s %-5s [%s] %s\n", when, level_tags[level],
                               comp ? comp : "node", msg);
    }
    if (len >= sizeof line) {
        len = sizeof line - 1;
        line[len - 1] = '\n';
    }
    ssize_t w = write(atomic_load(&g_fd), line, len);
    (void)w;
}

/* 1 when lim lets one more line through now; *suppressed gets the count held back before it. */
static int limit_take(struct nlog_limit *lim, long *suppressed)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double now = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
    pthread_mutex_lock(&lim->lock);
    if (now - lim->window_start_s >= lim->period_s) {
        lim->window_start_s = now;
        lim->used = 0;
    }
    int allowed = lim->used < lim->burst;
    *suppressed = 0;
    if (allowed) {
        lim->used++;
        *suppressed = lim->suppressed;
        lim->suppressed = 0;
    } else {
        lim->suppressed++;
    }
    pthread_mutex_unlock(&lim->lock);
    return allowed;
}

void nlog_limited_v(struct nlog_limit *lim, enum nlog_level level, const char *comp,
                    const char *fmt, va_list ap)
{
    if ((int)level < atomic_load(&g_min_level))
        return;
    long suppressed;
    if (!limit_take(lim, &suppressed))
        return;
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (suppressed > 0)
        nlog(level, comp, "%s (%ld similar lines suppressed before this one)", msg, suppressed);
    else
        nlog(level, comp, "%s", msg);
}

void nlog_limited(struct nlog_limit *lim, enum nlog_level level, const char *comp, const char *fmt,
                  ...)
{
    va_list ap;
    va_start(ap, fmt);
    nlog_limited_v(lim, level, comp, fmt, ap);
    va_end(ap);
}
