/* The exec actuator (see include/aether/actuator.h): runs the blueprint's scale_command whenever
 * the desired count differs from the last one applied, one run at a time, on the actuator's
 * thread; a failed run is retried with back-off until one succeeds or the count changes. With a
 * status_command, that command is run every EXEC_STATUS_PERIOD_MS and after each scale run, and
 * its `READY REQUESTED` line is the blueprint's ready count. */
#include "actuator_internal.h"

#include "aether/error.h"
#include "exec_status.h"
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
#define EXEC_STATUS_PERIOD_MS 5000

struct exec_state {
    int pending; /* desired changed since the last run was started */
    int running;
    int applied;
    int failed;
    int failures;       /* consecutive failed runs, for the retry back-off */
    int runs;           /* finished runs */
    int run_count;      /* the count the last finished run asked for */
    int64_t retry_ms;   /* a failed run is retried from then on */
    int64_t run_end_ms; /* when the last scale run ended */
    /* status_command: what it said last (has_status = 1 once it answered well) */
    int has_status, status_failed;
    int status_ready, status_requested;
    int64_t status_due_ms;
};

/* Reads the child's output (the first EXEC_OUTPUT_MAX bytes into out) until EOF, the timeout or
 * the node's shutdown; kills the child's group on the last two. Returns 1 when it timed out. */
static int read_output(struct actuator *a, pid_t pid, int fd, char *out, size_t *outlen)
{
    int64_t deadline = spawn_now_ms() + a->bp.startup_timeout_ms;
    for (;;) {
        int64_t left = deadline - spawn_now_ms();
        pthread_mutex_lock(&a->mu);
        int closing = a->stop;
        pthread_mutex_unlock(&a->mu);
        if (left <= 0 || closing) { /* too slow, or the node is shutting down */
            kill(-pid, SIGKILL);
            return 1;
        }
        struct pollfd pfd = {fd, POLLIN, 0};
        int pr = poll(&pfd, 1, (int)(left < 200 ? left : 200));
        if (pr < 0 && errno != EINTR)
            return 0;
        if (pr <= 0)
            continue;
        char buf[512];
        ssize_t r = read(fd, buf, sizeof(buf));
        if (r <= 0)
            return 0;
        size_t keep = (size_t)r;
        if (*outlen + keep > EXEC_OUTPUT_MAX)
            keep = EXEC_OUTPUT_MAX - *outlen;
        memcpy(out + *outlen, buf, keep);
        *outlen += keep;
    }
}

/* One run of argv (mu not held): its output, trailing blanks cut, in out (EXEC_OUTPUT_MAX + 1
 * bytes) and how it ended in how ("exit 0", "killed after N ms", "not started: ..."). Returns 1
 * when it exited 0, 0 when it failed, -1 when it did not start. */
static int run_captured(struct actuator *a, char **argv, char *out, char *how, size_t howlen)
{
    int fds[2] = {-1, -1};
    char err[256] = "out of memory";
    pid_t pid = -1;
    out[0] = '\0';
    if (argv && pipe(fds) == 0) {
        pid = spawn_process(argv, a->envp, fds[1], err, sizeof(err));
        close(fds[1]);
    } else if (argv) {
        snprintf(err, sizeof(err), "cannot create a pipe: %s", strerror(errno));
    }
    if (pid < 0) {
        if (fds[0] >= 0)
            close(fds[0]);
        snprintf(how, howlen, "not started: %s", err);
        return -1;
    }
    size_t outlen = 0;
    int timed_out = read_output(a, pid, fds[0], out, &outlen);
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    out[outlen] = '\0';
    while (outlen > 0 && (out[outlen - 1] == '\n' || out[outlen - 1] == ' '))
        out[--outlen] = '\0';
    if (timed_out)
        snprintf(how, howlen, "killed after %d ms", a->bp.startup_timeout_ms);
    else if (WIFEXITED(status))
        snprintf(how, howlen, "exit %d", WEXITSTATUS(status));
    else
        spawn_describe_status(status, how, howlen);
    return !timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* argv of command (argc strings) with {blueprint} (and {instances} = n when n >= 0) substituted;
 * NULL when out of memory. Free with spawn_env_free. */
static char **command_argv(struct actuator *a, char **command, int argc, int n)
{
    char count[16];
    snprintf(count, sizeof(count), "%d", n);
    const char *keys[] = {"blueprint", "instances"};
    const char *vals[] = {a->bp.name, count};
    char **argv = calloc((size_t)argc + 1, sizeof(*argv));
    int ok = argv != NULL;
    for (int k = 0; ok && k < argc; k++)
        ok = (argv[k] = spawn_substitute(command[k], keys, vals, n >= 0 ? 2 : 1)) != NULL;
    if (!ok) {
        spawn_env_free(argv);
        return NULL;
    }
    return argv;
}

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
    char **argv = command_argv(a, a->scale_command, a->bp.scale_command_count, n);
    struct exec_state *x = a->impl;
    char result[sizeof(a->last_result)];
    char out[EXEC_OUTPUT_MAX + 1];
    char how[300];
    int rc = run_captured(a, argv, out, how, sizeof(how));
    int success = rc == 1;
    if (rc < 0)
        snprintf(result, sizeof(result), "%s", how);
    else
        snprintf(result, sizeof(result), "%.100s: %s", how, out);
    spawn_env_free(argv);
    pthread_mutex_lock(&a->mu);
    snprintf(a->last_result, sizeof(a->last_result), "%s", result);
    x->running = 0;
    x->failed = !success;
    x->runs++;
    x->run_count = n;
    x->run_end_ms = spawn_now_ms();
    x->status_due_ms = 0; /* ask the orchestrator at once */
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
    else if (!x->status_failed)
        a->error[0] = '\0'; /* recovered: the failure stays in the decisions' results */
    pthread_mutex_unlock(&a->mu);
}

/* mu held: what a good status line means. The orchestrator's requested count differing from the
 * node's (someone else scaled it, or a run was lost) makes the node run scale_command again, at
 * most once a status period after its last run, and only once a run has set the node's count
 * (before that the node has asked for nothing). */
static void take_status(struct actuator *a, int ready, int requested)
{
    struct exec_state *x = a->impl;
    x->has_status = 1;
    x->status_ready = ready;
    x->status_requested = requested;
    if (x->status_failed && !x->failed)
        a->error[0] = '\0';
    x->status_failed = 0;
    if (x->runs > 0 && requested != a->desired && !x->running && !x->pending && !x->failed &&
        spawn_now_ms() - x->run_end_ms >= EXEC_STATUS_PERIOD_MS) {
        x->applied = requested;
        x->pending = 1;
    }
}

/* One status_command run (mu not held). */
static void status_run(struct actuator *a)
{
    char **argv = command_argv(a, a->status_command, a->bp.status_command_count, -1);
    char out[EXEC_OUTPUT_MAX + 1], how[300], why[128] = "";
    int rc = run_captured(a, argv, out, how, sizeof(how));
    spawn_env_free(argv);
    int ready = 0, requested = 0;
    int parsed =
        rc == 1 && exec_status_parse(out, strlen(out), &ready, &requested, why, sizeof(why)) == 0;
    pthread_mutex_lock(&a->mu);
    struct exec_state *x = a->impl;
    if (parsed) {
        take_status(a, ready, requested);
    } else {
        x->status_failed = 1;
        if (rc == 1)
            actuator_fail(a,
                          "blueprint %s status_command printed \"%.60s\": expected one line "
                          "\"READY REQUESTED\" (%s)",
                          a->bp.name, out, why);
        else
            actuator_fail(a, "blueprint %s status_command: %s%s%.80s", a->bp.name, how,
                          rc < 0 ? "" : ": ", out);
    }
    pthread_mutex_unlock(&a->mu);
}

static int exec_check(const struct cfg_blueprint *bp, char *err, size_t errlen)
{
    if (bp->scale_command_count < 1) {
        ae_errf(err, errlen, 0,
                "blueprint.%s.scale_command must not be empty for actuator \"exec\"", bp->name);
        return AE_EINVAL;
    }
    return 0;
}

static int exec_open(struct actuator *a, char *err, size_t errlen)
{
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
    int64_t now = spawn_now_ms();
    if (x->failed && !x->running && desired != x->applied && now >= x->retry_ms)
        x->pending = 1;
    if (x->pending) {
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
    } else if (a->bp.status_command_count > 0 && now >= x->status_due_ms) {
        x->status_due_ms = now + EXEC_STATUS_PERIOD_MS;
        pthread_mutex_unlock(&a->mu);
        status_run(a);
    } else {
        return 0;
    }
    pthread_mutex_lock(&a->mu);
    return x->pending || (a->bp.status_command_count > 0 && x->status_due_ms == 0);
}

static void exec_status(struct actuator *a, struct actuator_status *out)
{
    const struct exec_state *x = a->impl;
    out->ready = x->has_status ? x->status_ready : x->applied;
    out->starting =
        x->running || x->pending || (x->has_status && x->status_ready < x->status_requested);
    out->failed = x->failed || x->status_failed;
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
    .check = exec_check,
    .open = exec_open,
    .wants = exec_wants,
    .tick = exec_tick,
    .status = exec_status,
    .targets = exec_targets,
    .stop = exec_stop,
    .free = exec_free,
};
