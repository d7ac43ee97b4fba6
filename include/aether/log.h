/* Node logging: one line per event, as text or JSON, filtered by level.
 *
 * The daemon and its threads (control loop, HTTP) log through here; lines go to stderr, written
 * with a single write() each so lines from different threads never interleave. */
#ifndef AETHER_LOG_H
#define AETHER_LOG_H

#include <pthread.h>
#include <stdarg.h>

/* Same order as the config's cfg_log_level / cfg_log_format (main.c checks it). */
enum nlog_level { NLOG_DEBUG = 0, NLOG_INFO, NLOG_WARN, NLOG_ERROR };
enum nlog_format { NLOG_TEXT = 0, NLOG_JSON };

/* Sets the minimum level and the format for every following line (thread-safe). */
void nlog_setup(enum nlog_level min_level, enum nlog_format format);
/* Redirects output to fd (default 2); used by tests to capture lines. */
void nlog_set_fd(int fd);

/* Logs one line at `level` from component `comp` (e.g. "ttm", "http"); printf-style message. */
void nlog(enum nlog_level level, const char *comp, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* The same with a va_list (for libraries that hand us their messages). */
void nlog_v(enum nlog_level level, const char *comp, const char *fmt, va_list ap);

/* A line budget for one noisy source (malformed requests, implausible scraped values): at most
 * `burst` lines per `period_s` seconds; the others are counted, and the next line let through
 * says how many were suppressed. Define with NLOG_LIMIT_INIT; thread-safe. */
struct nlog_limit {
    pthread_mutex_t lock;
    int burst;
    double period_s;
    double window_start_s; /* CLOCK_MONOTONIC */
    int used;
    long suppressed;
};
#define NLOG_LIMIT_INIT(burst, period_s)                                                           \
    {                                                                                              \
        PTHREAD_MUTEX_INITIALIZER, (burst), (period_s), -1e9, 0, 0                                 \
    }

/* nlog within lim's budget. */
void nlog_limited(struct nlog_limit *lim, enum nlog_level level, const char *comp, const char *fmt,
                  ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
void nlog_limited_v(struct nlog_limit *lim, enum nlog_level level, const char *comp,
                    const char *fmt, va_list ap);

#endif
