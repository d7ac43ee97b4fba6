/* The exec actuator (see include/aether/actuator.h): runs the blueprint's scale_command whenever
 * the desired count differs from the last one applied, one run at a time, on the actuator's
 * thread; a failed run is retried with back-off until one succeeds or the count changes. */
#include "actuator_internal.h"

#include "aether/error.h"
#include "spawn.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXEC_OUTPUT_MAX 2048
#define RETRY_FIRST_MS 1000
#define RETRY_MAX_MS 60000

struct exec_state {
    int pending; /* desired changed since the last run was started */
    int running;
    int applied;
    int failed;
    int failures;     /* consecutive failed runs, for the retry back-off */
    int runs;         /* finished runs */
    int run_count;    /* the count the last finished run asked for */
    int64_t retry_ms; /* a failed run is retried from then on */
};

/* The gate refused the run for n (mu not held): recorded as a run that did not start. */
static void exec_skip(struct actuator *a, int n, const char *why)
{
    struct exec_state *x = a->impl;
    pthread_mutex_lock(&a->mu);
    snprintf(a->last_result, sizeof(a->last_result), "not run: %s", why);
    x->running = 0;
    x->failed = 0; /* nothing to retry: the count is no longer this node's to apply */
    x->runs++;
    x->run_count = n;
    pthread_mutex_unlock(&a->mu);
}

static void exec_run(struct actuator *a, int n)
{
    char count[16];
    snprintf(count, sizeof(count), "%d", n);
    const char *keys[] = {"blueprint", "instances"};
    const char *vals[] = {a->bp.name, count};
    char **argv = calloc((size_t)a->bp.scale_command_count + 1, sizeof(*argv));
    int ok = argv != NULL;
    for (int k = 0; ok && k < a->bp.scale_command_count; k++)
        ok = (argv[k] = spawn_substitute(a->scale_command[k], keys, vals, 2)) != NULL;
    struct exec_state *x = a->impl;
    char result[sizeof(a->last_result)];
    char out[EXEC_OUTPUT_MAX + 1];
    size_t outlen = 0;
    int success = 0;
    int fds[2] = {-1, -1};
    char err[256] = "out of memory";
    pid_t pid = -1;
    if (ok && pipe(fds) == 0) {
        pid = spawn_process(argv, a->envp, fds[1], err, sizeof(err));
        close(fds[1]);
    } else if (ok) {
        snprintf(err, sizeof(err), "cannot create a pipe: %s", strerror(errno));
    }
    if (pid < 0) {
        snprintf(result, sizeof(result), "not started: %s", err);
    } else {
        /* Read the output (keep the first EXEC_OUTPUT_MAX bytes) until EOF or the timeout. */
        int64_t deadline = spawn_now_ms() + a->bp.startup_timeout_ms;
        int timed_out = 0;
        for (;;) {
            int64_t left = deadline - spawn_now_ms();
            pthread_mutex_lock(&a->mu);
            int closing = a->stop;
            pthread_mutex_unlock(&a->mu);
            if (left <= 0 || closing) { /* too slow, or the node is shutting down */
                timed_out = 1;
                kill(-pid, SIGKILL);
                break;
            }
            struct pollfd pfd = {fds[0], POLLIN, 0};
            int pr = poll(&pfd, 1, (int)(left < 200 ? left : 200));
            if (pr < 0 && errno != EINTR)
                break;
            if (pr <= 0)
                continue;
            char buf[512];
            ssize_t r = read(fds[0], buf, sizeof(buf));
            if (r <= 0)
                break;
            size_t keep = (size_t)r;
            if (outlen + keep > EXEC_OUTPUT_MAX)
                keep = EXEC_OUTPUT_MAX - outlen;
            memcpy(out + outlen, buf, keep);
            outlen += keep;
        }
        int status = 0;
        waitpid(pid, &status, 0);
        out[outlen] = '\0';
        while (outlen > 0 && (out[outlen - 1] == '\n' || out[outlen - 1] == ' '))
            out[--outlen] = '\0';
        char how[64];
        if (timed_out)
            snprintf(how, sizeof(how), "killed after %d ms", a->bp.startup_timeout_ms);
        else if (WIFEXITED(status))
            snprintf(how, sizeof(how), "exit %d", WEXITSTATUS(status));
        else
            spawn_describe_status(status, how, sizeof(how));
        success = !timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        snprintf(result, sizeof(result), "%s: %s", how, out);
    }
    if (fds[0] >= 0)
        close(fds[0]);
    spawn_env_free(argv);
    pthread_mutex_lock(&a->mu);
    snprintf(a->last_result, sizeof(a->last_result), "%s", result);
    x->running = 0;
    x->failed = !success;
    x->runs++;
    x->run_count = n;
    if (success) {
        x->applied = n;
        x->failures = 0;
    } else {
        /* Retry the same count after 1 s, doubling to 60 s, unless a new count comes first. */
        int shift = x->failures < 6 ? x->failures : 6;
        int64_t wait = (int64_t)RETRY_FIRST_MS << shift;
        x->retry_ms = spawn_now_ms() + (wait < RETRY_MAX_MS ? wait : RETRY_MAX_MS);
        x->failures++;
    }
    if (!success)
        actuator_fail(a, "blueprint %s scale_command (%d instances): %.100s", a->bp.name, n,
                      result);
    else
        a->error[0] = '\0'; /* recovered: the failure stays in the decisions' results */
    pthread_mutex_unlock(&a->mu);
}

static int exec_open(struct actuator *a, char *err, size_t errlen)
{
    if (a->bp.scale_command_count < 1) {
        snprintf(err, errlen, "blueprint %s: the exec actuator needs a scale_command", a->bp.name);
        return AE_EINVAL;
    }
    if (!(a->impl = calloc(1, sizeof(struct exec_state)))) {
        snprintf(err, errlen, "out of memory");
        return AE_ENOMEM;
    }
    return 0;
}

static int exec_wants(struct actuator *a, int n)
{
    struct exec_state *x = a->impl;
    if (n == a->desired && (x->running || n == x->applied))
        return 0;
    x->pending = 1;
    return 1;
}

static int exec_tick(struct actuator *a)
{
    struct exec_state *x = a->impl;
    int desired = a->desired;
    if (x->failed && !x->running && desired != x->applied && spawn_now_ms() >= x->retry_ms)
        x->pending = 1;
    if (!x->pending)
        return 0;
    x->pending = 0;
    x->running = 1;
    actuator_gate_fn gate = a->gate;
    void *ctx = a->gate_ctx;
    pthread_mutex_unlock(&a->mu);
    char why[1024];
    if (gate && !gate(ctx, a->bp.name, desired, why, sizeof(why)))
        exec_skip(a, desired, why);
    else
        exec_run(a, desired);
    pthread_mutex_lock(&a->mu);
    return x->pending;
}

static void exec_status(struct actuator *a, struct actuator_status *out)
{
    const struct exec_state *x = a->impl;
    out->ready = x->applied;
    out->starting = x->running || x->pending;
    out->failed = x->failed;
    out->runs = x->runs;
    out->run_count = x->run_count;
}

static int exec_targets(struct actuator *a, struct actuator_target *out, int max)
{
    int n = 0;
    for (int i = 0; i < a->bp.metrics_urls_count; i++, n++)
        if (n < max) {
            snprintf(out[n].url, sizeof(out[n].url), "%s", a->metrics_urls[i]);
            out[n].pid = 0;
            out[n].instance = i;
        }
    return n;
}

static void exec_stop(struct actuator *a)
{
    (void)a; /* a run in progress ends when it sees a->stop */
}

static void exec_free(struct actuator *a)
{
    free(a->impl);
    a->impl = NULL;
}

const struct actuator_kind actuator_exec_kind = {
    .run_label = "scale_command",
    .open = exec_open,
    .wants = exec_wants,
    .tick = exec_tick,
    .status = exec_status,
    .targets = exec_targets,
    .stop = exec_stop,
    .free = exec_free,
};
