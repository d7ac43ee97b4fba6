/* A real-time shim for the clock tests, loaded with LD_PRELOAD into the daemon under test:
 * clock_gettime(CLOCK_REALTIME*), gettimeofday() and time() answer the real time plus an offset
 * in milliseconds read from the file named by AETHER_CLOCK_SHIFT_FILE (re-read every 50 ms, 0
 * when it is missing or unreadable), so a test steps the wall clock of one process by writing a
 * number. CLOCK_MONOTONIC and the other clocks are left alone. Test builds only. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);

static clock_gettime_fn real_clock_gettime(void)
{
    static clock_gettime_fn fn;
    if (!fn)
        fn = (clock_gettime_fn)dlsym(RTLD_NEXT, "clock_gettime");
    return fn;
}

/* The offset in ms, from the file, cached for 50 ms of monotonic time. */
static int64_t offset_ms(void)
{
    static __thread int64_t cached, read_at_ms = INT64_MIN;
    struct timespec mono;
    real_clock_gettime()(CLOCK_MONOTONIC, &mono);
    int64_t now = (int64_t)mono.tv_sec * 1000 + mono.tv_nsec / 1000000;
    if (read_at_ms != INT64_MIN && now - read_at_ms < 50)
        return cached;
    read_at_ms = now;
    cached = 0;
    const char *path = getenv("AETHER_CLOCK_SHIFT_FILE");
    FILE *f = path ? fopen(path, "r") : NULL;
    if (f) {
        long long v;
        if (fscanf(f, "%lld", &v) == 1)
            cached = (int64_t)v;
        fclose(f);
    }
    return cached;
}

static void shift(struct timespec *ts, int64_t ms)
{
    int64_t ns = (int64_t)ts->tv_nsec + (ms % 1000) * 1000000;
    ts->tv_sec += (time_t)(ms / 1000);
    if (ns < 0) {
        ns += 1000000000;
        ts->tv_sec--;
    } else if (ns >= 1000000000) {
        ns -= 1000000000;
        ts->tv_sec++;
    }
    ts->tv_nsec = (long)ns;
}

int clock_gettime(clockid_t id, struct timespec *ts)
{
    int rc = real_clock_gettime()(id, ts);
    if (rc == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE))
        shift(ts, offset_ms());
    return rc;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
    (void)tz;
    struct timespec ts;
    int rc = clock_gettime(CLOCK_REALTIME, &ts);
    if (rc == 0) {
        tv->tv_sec = ts.tv_sec;
        tv->tv_usec = ts.tv_nsec / 1000;
    }
    return rc;
}

time_t time(time_t *out)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (out)
        *out = ts.tv_sec;
    return ts.tv_sec;
}
