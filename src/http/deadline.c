/* Request deadlines (see deadline.h). */
#include "deadline.h"

#include "aether/error.h"
#include "aether/log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

struct deadline_entry {
    struct deadline_entry *prev, *next;
    int fd;
    int paused;     /* answering: no deadline */
    int shut;       /* already shut down */
    double start_s; /* CLOCK_MONOTONIC */
    char peer[64];
};

struct deadline_watch {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    int stop;
    double timeout_s;
    struct deadline_entry *head;
};

static struct nlog_limit expired_log = NLOG_LIMIT_INIT(5, 60.0);

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Shuts down every connection past its deadline; called with the lock held. */
static void expire(struct deadline_watch *w, double now)
{
    for (struct deadline_entry *e = w->head; e; e = e->next) {
        if (e->paused || e->shut || now - e->start_s < w->timeout_s)
            continue;
        shutdown(e->fd, SHUT_RDWR);
        e->shut = 1;
        nlog_limited(&expired_log, NLOG_WARN, "http",
                     "closed the connection from %s: no whole request within %.0f ms", e->peer,
                     w->timeout_s * 1000.0);
    }
}

static void *watch_thread(void *arg)
{
    struct deadline_watch *w = arg;
    double period = w->timeout_s / 8.0;
    if (period > 1.0)
        period = 1.0;
    pthread_mutex_lock(&w->lock);
    while (!w->stop) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        long ns = until.tv_nsec + (long)(period * 1e9);
        until.tv_sec += ns / 1000000000L;
        until.tv_nsec = ns % 1000000000L;
        pthread_cond_timedwait(&w->wake, &w->lock, &until);
        expire(w, mono_s());
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

int deadline_open(int timeout_ms, struct deadline_watch **out)
{
    *out = NULL;
    struct deadline_watch *w = calloc(1, sizeof *w);
    if (!w)
        return AE_ENOMEM;
    w->timeout_s = timeout_ms / 1000.0;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&w->wake, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&w->lock, NULL);
    if (pthread_create(&w->thread, NULL, watch_thread, w) != 0) {
        pthread_cond_destroy(&w->wake);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return AE_ENOMEM;
    }
    *out = w;
    return 0;
}

void deadline_close(struct deadline_watch *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stop = 1;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    while (w->head) {
        struct deadline_entry *e = w->head;
        w->head = e->next;
        free(e);
    }
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

struct deadline_entry *deadline_add(struct deadline_watch *w, int fd, const char *peer)
{
    struct deadline_entry *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->fd = fd;
    e->start_s = mono_s();
    snprintf(e->peer, sizeof e->peer, "%s", peer ? peer : "?");
    pthread_mutex_lock(&w->lock);
    e->next = w->head;
    if (w->head)
        w->head->prev = e;
    w->head = e;
    pthread_mutex_unlock(&w->lock);
    return e;
}

void deadline_remove(struct deadline_watch *w, struct deadline_entry *e)
{
    if (!e)
        return;
    pthread_mutex_lock(&w->lock);
    if (e->prev)
        e->prev->next = e->next;
    else
        w->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    pthread_mutex_unlock(&w->lock);
    free(e);
}

void deadline_pause(struct deadline_watch *w, struct deadline_entry *e)
{
    if (!e)
        return;
    pthread_mutex_lock(&w->lock);
    e->paused = 1;
    pthread_mutex_unlock(&w->lock);
}

void deadline_restart(struct deadline_watch *w, struct deadline_entry *e)
{
    if (!e)
        return;
    pthread_mutex_lock(&w->lock);
    e->paused = 0;
    e->start_s = mono_s();
    pthread_mutex_unlock(&w->lock);
}
