/* The control loop's watchdog (see watchdog.h). */
#include "watchdog.h"

#include "aether/error.h"
#include "aether/monowait.h"
#include "aether/log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WATCHDOG_PERIOD_MS 500

struct watchdog {
    pthread_mutex_t mu;
    pthread_cond_t wake;
    pthread_t thread;
    int stop;
    double stall_after_s;
    struct watchdog_state st;
};

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int watchdog_check(struct watchdog_state *s, double now_s, double stall_after_s)
{
    if (!s->in_tick || s->reported || now_s - s->tick_start_s < stall_after_s)
        return 0;
    s->reported = 1;
    s->stalls++;
    return 1;
}

static void *watchdog_main(void *arg)
{
    struct watchdog *w = arg;
    pthread_mutex_lock(&w->mu);
    while (!w->stop) {
        mono_cond_wait_ms(&w->wake, &w->mu, WATCHDOG_PERIOD_MS);
        double now = mono_now();
        if (!watchdog_check(&w->st, now, w->stall_after_s))
            continue;
        long tick = w->st.tick;
        double running = now - w->st.tick_start_s;
        pthread_mutex_unlock(&w->mu);
        nlog(NLOG_ERROR, "node",
             "control loop stalled: tick %ld has been running for %.1f s (no scaling decision "
             "until it ends)",
             tick, running);
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int watchdog_start(double stall_after_s, struct watchdog **out, char *err, size_t errlen)
{
    *out = NULL;
    struct watchdog *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return AE_ENOMEM;
    }
    w->stall_after_s = stall_after_s;
    pthread_mutex_init(&w->mu, NULL);
    int rc = mono_cond_init(&w->wake);
    if (rc == 0)
        rc = pthread_create(&w->thread, NULL, watchdog_main, w);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the control loop's watchdog: %s", strerror(rc));
        pthread_mutex_destroy(&w->mu);
        free(w);
        return AE_EIO;
    }
    *out = w;
    return 0;
}

void watchdog_tick_begin(struct watchdog *w, long tick, double now_s)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->st.in_tick = 1;
    w->st.tick = tick;
    w->st.tick_start_s = now_s;
    w->st.reported = 0;
    pthread_mutex_unlock(&w->mu);
}

void watchdog_tick_end(struct watchdog *w, double now_s)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    int was_stalled = w->st.reported;
    long tick = w->st.tick;
    double took = now_s - w->st.tick_start_s;
    w->st.in_tick = 0;
    w->st.reported = 0;
    pthread_mutex_unlock(&w->mu);
    if (was_stalled)
        nlog(NLOG_INFO, "node", "control loop running again: tick %ld took %.1f s", tick, took);
}

long watchdog_stalls(struct watchdog *w)
{
    if (!w)
        return 0;
    pthread_mutex_lock(&w->mu);
    long n = w->st.stalls;
    pthread_mutex_unlock(&w->mu);
    return n;
}

void watchdog_stop(struct watchdog *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
