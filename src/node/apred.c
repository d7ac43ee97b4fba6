/* Inference on a thread of its own (see apred.h). */
#include "apred.h"

#include "aether/error.h"
#include "aether/monowait.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct apred {
    ae_predictor self;
    ae_predictor *inner;
    struct ae_predictor_info info;
    int64_t wait_ms, timeout_ms;
    void (*done)(void *ctx);
    void *done_ctx;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* a job was handed over, ended, or stop */
    pthread_t thread;
    int stop;
    /* The one job: its input, output and state. */
    float *in, *out;
    int batch;
    int running;    /* handed over, not ended */
    int has_result; /* ended; rc and out hold its answer for input `in` */
    int late;       /* predict() returned before it ended: `done` is due when it ends */
    int rc;
    char msg[256];
    double started_s; /* monotonic */
};

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static size_t in_floats(const struct apred *a, int batch)
{
    return (size_t)batch * (size_t)a->info.window * (size_t)a->info.features;
}

static size_t out_floats(const struct apred *a, int batch)
{
    return (size_t)batch * (size_t)a->info.horizon * (size_t)a->info.features;
}

static void *inference_main(void *arg)
{
    struct apred *a = arg;
    pthread_mutex_lock(&a->mu);
    while (!a->stop) {
        if (!a->running || a->has_result) {
            pthread_cond_wait(&a->cv, &a->mu);
            continue;
        }
        int batch = a->batch;
        pthread_mutex_unlock(&a->mu);
        char msg[256] = "";
        int rc = a->inner->predict(a->inner->state, a->in, batch, a->out, msg, sizeof msg);
        pthread_mutex_lock(&a->mu);
        a->rc = rc;
        snprintf(a->msg, sizeof a->msg, "%s", msg);
        a->running = 0;
        a->has_result = 1;
        pthread_cond_broadcast(&a->cv);
        int late = a->late;
        a->late = 0;
        if (late && a->done) {
            pthread_mutex_unlock(&a->mu);
            a->done(a->done_ctx);
            pthread_mutex_lock(&a->mu);
        }
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

/* 1 when the job (running or ended) is for exactly this input. Lock held. */
static int same_job(const struct apred *a, const float *in, int batch)
{
    return (a->running || a->has_result) && a->batch == batch &&
           memcmp(a->in, in, in_floats(a, batch) * sizeof *in) == 0;
}

/* The job has not ended: AE_ETIMEOUT once it has run past the limit, else AE_EAGAIN. Lock
 * held. */
static int still_running(const struct apred *a, const char *what, char *err, size_t errlen)
{
    double ran = mono_now() - a->started_s;
    if (ran * 1000.0 >= (double)a->timeout_ms) {
        snprintf(err, errlen,
                 "inference timed out: %s has run for %.1f s (limit %.1f s, "
                 "ttm.evaluation_interval_ms)",
                 what, ran, (double)a->timeout_ms / 1000.0);
        return AE_ETIMEOUT;
    }
    snprintf(err, errlen, "inference still running: %s (%.1f s so far)", what, ran);
    return AE_EAGAIN;
}

/* Waits (lock held) until the job for this input ends or wait_ms pass; answers from it. */
static int answer(struct apred *a, float *out, char *err, size_t errlen)
{
    double until = mono_now() + (double)a->wait_ms / 1000.0, now;
    while (a->running && (now = mono_now()) < until)
        mono_cond_wait_ms(&a->cv, &a->mu, (int64_t)((until - now) * 1000.0) + 1);
    if (!a->has_result) {
        a->late = 1;
        return still_running(a, "this evaluation", err, errlen);
    }
    a->has_result = 0; /* each answer is used once */
    if (a->rc == 0)
        memcpy(out, a->out, out_floats(a, a->batch) * sizeof *out);
    else
        snprintf(err, errlen, "%s", a->msg);
    return a->rc;
}

static int apred_predict(void *state, const float *in, int batch, float *out, char *err,
                         size_t errlen)
{
    struct apred *a = state;
    if (batch < 1 || batch > a->info.max_batch) {
        snprintf(err, errlen, "batch %d outside 1..%d", batch, a->info.max_batch);
        return AE_EINVAL;
    }
    pthread_mutex_lock(&a->mu);
    int rc;
    if (!same_job(a, in, batch) && a->running) {
        rc = still_running(a, "the evaluation of an earlier window", err, errlen);
    } else {
        if (!same_job(a, in, batch)) { /* hand this input over */
            memcpy(a->in, in, in_floats(a, batch) * sizeof *in);
            a->batch = batch;
            a->running = 1;
            a->has_result = 0;
            a->late = 0;
            a->started_s = mono_now();
            pthread_cond_broadcast(&a->cv);
        }
        rc = answer(a, out, err, errlen);
    }
    pthread_mutex_unlock(&a->mu);
    return rc;
}

static void apred_info(void *state, struct ae_predictor_info *out)
{
    struct apred *a = state;
    *out = a->info;
}

static void apred_close(ae_predictor *self)
{
    struct apred *a = self->state;
    pthread_mutex_lock(&a->mu);
    a->stop = 1;
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
    pthread_join(a->thread, NULL);
    pthread_cond_destroy(&a->cv);
    pthread_mutex_destroy(&a->mu);
    ae_predictor_close(a->inner);
    free(a->in);
    free(a->out);
    free(a);
}

ae_predictor *apred_wrap(ae_predictor *p, int64_t wait_ms, int64_t timeout_ms,
                         void (*done)(void *ctx), void *ctx)
{
    if (!p)
        return NULL;
    struct apred *a = calloc(1, sizeof *a);
    if (!a) {
        ae_predictor_close(p);
        return NULL;
    }
    a->inner = p;
    p->info(p->state, &a->info);
    a->wait_ms = wait_ms;
    a->timeout_ms = timeout_ms;
    a->done = done;
    a->done_ctx = ctx;
    int max = a->info.max_batch > 0 ? a->info.max_batch : 1;
    a->in = malloc(in_floats(a, max) * sizeof *a->in + 1);
    a->out = malloc(out_floats(a, max) * sizeof *a->out + 1);
    pthread_mutex_init(&a->mu, NULL);
    int ok = a->in && a->out && mono_cond_init(&a->cv) == 0;
    if (ok && pthread_create(&a->thread, NULL, inference_main, a) != 0) {
        pthread_cond_destroy(&a->cv);
        ok = 0;
    }
    if (!ok) {
        pthread_mutex_destroy(&a->mu);
        free(a->in);
        free(a->out);
        free(a);
        ae_predictor_close(p);
        return NULL;
    }
    a->self = (ae_predictor){a, apred_predict, apred_info, apred_close};
    return &a->self;
}
