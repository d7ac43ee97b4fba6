/* Actuators (see include/aether/actuator.h): what every kind shares, and the registry of kinds.
 *
 * Each actuator owns one thread. The control loop only writes `desired` and reads the status
 * under the mutex; the thread does everything slow through its kind (act_process.c: fork/exec,
 * readiness probes over HTTP, reaping, restarts with back-off, stopping with SIGTERM then
 * SIGKILL; act_exec.c: running scale commands). The thread ticks every 100 ms, or at once when
 * the desired count changes. */
#include "actuator_internal.h"

#include "aether/error.h"
#include "aether/monowait.h"
#include "spawn.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TICK_MS 100

/* The kind of each value of the blueprint's `actuator` key. */
static const struct actuator_kind *const kinds[CFG_ACTUATOR_COUNT] = {
    [CFG_ACTUATOR_PROCESS] = &actuator_process_kind,
    [CFG_ACTUATOR_EXEC] = &actuator_exec_kind,
};

static char **strv_copy(char *const *v, int n)
{
    char **c = calloc((size_t)n + 1, sizeof(*c));
    if (!c)
        return NULL;
    for (int i = 0; i < n; i++)
        if (!(c[i] = strdup(v[i]))) {
            spawn_env_free(c);
            return NULL;
        }
    return c;
}

static void *actuator_thread(void *arg)
{
    struct actuator *a = arg;
    pthread_mutex_lock(&a->mu);
    while (!a->stop) {
        int again = a->kind->tick(a);
        if (a->stop || again)
            continue;
        mono_cond_wait_ms(&a->cv, &a->mu, TICK_MS);
    }
    pthread_mutex_unlock(&a->mu);
    a->kind->stop(a);
    return NULL;
}

/* Frees what actuator_open allocated (the thread is not running). */
static void actuator_free(struct actuator *a)
{
    if (a->kind)
        a->kind->free(a);
    spawn_env_free(a->command);
    spawn_env_free(a->scale_command);
    spawn_env_free(a->status_command);
    spawn_env_free(a->metrics_urls);
    spawn_env_free(a->envp);
    free(a);
}

/* Copies the blueprint's lists (command, scale_command, metrics_urls, env) into a. */
static int copy_lists(struct actuator *a, const struct cfg_blueprint *bp)
{
    char **names = calloc((size_t)bp->env_count + 1, sizeof(*names));
    char **values = calloc((size_t)bp->env_count + 1, sizeof(*values));
    for (int i = 0; names && values && i < bp->env_count; i++) {
        names[i] = bp->env[i].name;
        values[i] = bp->env[i].value;
    }
    int ok = names && values;
    if (ok) {
        a->command = strv_copy(bp->command, bp->command_count);
        a->scale_command = strv_copy(bp->scale_command, bp->scale_command_count);
        a->status_command = strv_copy(bp->status_command, bp->status_command_count);
        a->metrics_urls = strv_copy(bp->metrics_urls, bp->metrics_urls_count);
        a->envp = spawn_env_build(names, values, bp->env_count);
        ok = a->command && a->scale_command && a->status_command && a->metrics_urls && a->envp;
    }
    free(names);
    free(values);
    return ok ? 0 : AE_ENOMEM;
}

/* bp's kind exists and its kind-specific rules hold. 0, or a negative AE_E* code with a
 * message naming the key. */
static int check_blueprint(const struct cfg_blueprint *bp, char *err, size_t errlen)
{
    if ((unsigned)bp->actuator >= CFG_ACTUATOR_COUNT || !kinds[bp->actuator]) {
        ae_errf(err, errlen, 0, "blueprint.%s.actuator: no actuator of kind %d", bp->name,
                (int)bp->actuator);
        return AE_EINVAL;
    }
    return kinds[bp->actuator]->check(bp, err, errlen);
}

/* The actuator of bp before its thread starts: lists copied, the kind opened. 0, or a negative
 * AE_E* code with a message (a is then for actuator_free). */
static int prepare(struct actuator *a, const struct cfg_blueprint *bp, char *err, size_t errlen)
{
    a->bp = *bp;
    a->bp.command = a->bp.scale_command = a->bp.status_command = a->bp.metrics_urls = NULL;
    a->bp.env = NULL;
    int rc = check_blueprint(bp, err, errlen);
    if (rc)
        return rc;
    if (copy_lists(a, bp) != 0) {
        ae_errf(err, errlen, 0, "out of memory");
        return AE_ENOMEM;
    }
    a->kind = kinds[bp->actuator];
    return a->kind->open(a, err, errlen);
}

int actuator_check_config(const struct ae_config *c, char *err, size_t errlen)
{
    for (int i = 0; i < c->blueprint_count; i++) {
        int rc = check_blueprint(&c->blueprints[i], err, errlen);
        if (rc)
            return rc;
    }
    return 0;
}

int actuator_open(const struct cfg_blueprint *bp, struct actuator **out, char *err, size_t errlen)
{
    *out = NULL;
    struct actuator *a = calloc(1, sizeof(*a));
    if (!a) {
        ae_errf(err, errlen, 0, "out of memory");
        return AE_ENOMEM;
    }
    int rc = prepare(a, bp, err, errlen);
    if (rc) {
        actuator_free(a);
        return rc;
    }
    pthread_mutex_init(&a->mu, NULL);
    mono_cond_init(&a->cv);
    if (pthread_create(&a->thread, NULL, actuator_thread, a) != 0) {
        pthread_mutex_destroy(&a->mu);
        pthread_cond_destroy(&a->cv);
        ae_errf(err, errlen, 0, "blueprint %s: cannot start the actuator thread", bp->name);
        actuator_free(a);
        return AE_EIO;
    }
    *out = a;
    return 0;
}

int actuator_set_desired(struct actuator *a, int n, char *err, size_t errlen)
{
    int rc = 0;
    if (n < 0 || n > a->bp.max_instances) {
        int c = n < 0 ? 0 : a->bp.max_instances;
        if (err && errlen)
            snprintf(err, errlen, "blueprint %s: %d instances is out of range 0..%d; using %d",
                     a->bp.name, n, a->bp.max_instances, c);
        n = c;
        rc = AE_ERANGE;
    }
    pthread_mutex_lock(&a->mu);
    if (a->kind->wants(a, n)) {
        a->desired = n;
        pthread_cond_signal(&a->cv);
    }
    pthread_mutex_unlock(&a->mu);
    return rc;
}

void actuator_set_gate(struct actuator *a, actuator_gate_fn gate, void *ctx)
{
    pthread_mutex_lock(&a->mu);
    a->gate = gate;
    a->gate_ctx = ctx;
    pthread_mutex_unlock(&a->mu);
}

void actuator_fail(struct actuator *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->error, sizeof(a->error), fmt, ap);
    va_end(ap);
    memcpy(a->last_failure, a->error, sizeof(a->last_failure));
    a->failures_total++;
}

void actuator_status(struct actuator *a, struct actuator_status *out)
{
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&a->mu);
    out->requested = a->desired;
    a->kind->status(a, out);
    snprintf(out->error, sizeof(out->error), "%s", a->error);
    snprintf(out->last_failure, sizeof(out->last_failure), "%s", a->last_failure);
    out->failures_total = a->failures_total;
    pthread_mutex_unlock(&a->mu);
}

size_t actuator_last_result(struct actuator *a, char *buf, size_t len)
{
    pthread_mutex_lock(&a->mu);
    int n = snprintf(buf, len, "%s", a->last_result);
    pthread_mutex_unlock(&a->mu);
    return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len ? len - 1 : 0;
}

int actuator_targets(struct actuator *a, struct actuator_target *out, int max)
{
    return a->kind->targets(a, out, max);
}

const char *actuator_kind_name(const struct actuator *a)
{
    return cfg_actuator_names[a->bp.actuator];
}

const char *actuator_run_label(const struct actuator *a)
{
    return a->kind->run_label;
}

void actuator_close(struct actuator *a)
{
    if (!a)
        return;
    spawn_thread_stop(a->thread, &a->mu, &a->cv, &a->stop);
    actuator_free(a);
}
