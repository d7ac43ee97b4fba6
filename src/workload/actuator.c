/* Actuators (see include/aether/actuator.h): the process supervisor (sup_) and the exec hook.
 *
 * Each actuator owns one thread. The control loop only writes `desired` and reads the status
 * under the mutex; the thread does everything slow: fork/exec, readiness probes over HTTP,
 * reaping, restarts with back-off, stopping with SIGTERM then SIGKILL, running scale commands.
 * The thread ticks every 100 ms, or at once when the desired count changes. */
#include "aether/actuator.h"

#include "aether/error.h"
#include "httpc.h"
#include "spawn.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define TICK_MS 100
#define BACKOFF_FIRST_MS 500
#define BACKOFF_MAX_MS 30000
#define PROBE_TIMEOUT_MS 300
#define EXEC_OUTPUT_MAX 2048

enum inst_state { INST_EMPTY, INST_STARTING, INST_READY, INST_BACKOFF, INST_STOPPING };

struct instance {
    enum inst_state state;
    pid_t pid;
    int64_t since_ms;    /* started (STARTING/READY) or stop sent (STOPPING) */
    int64_t retry_at_ms; /* BACKOFF: when to start again */
    int failures;        /* consecutive failures, for the back-off */
    int killed;          /* STOPPING: SIGKILL sent */
};

struct actuator {
    struct cfg_blueprint bp; /* scalar copy; list members below are our own copies */
    char **command, **scale_command, **metrics_urls;
    char **envp;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;    /* close requested */
    int desired; /* guarded by mu */
    /* process */
    struct instance *inst; /* max_instances slots; thread-owned, read under mu */
    int restarts;
    /* exec */
    int exec_pending; /* desired changed since the last run was started */
    int exec_running;
    int exec_applied;
    int exec_failed;
    int exec_failures;     /* consecutive failed runs, for the retry back-off */
    int exec_runs;         /* finished runs */
    int exec_run_count;    /* the count the last finished run asked for */
    int64_t exec_retry_ms; /* a failed run is retried from then on */
    char last_result[EXEC_OUTPUT_MAX + 128];
    char error[256];
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

/* ---- process supervisor ---- */

/* 1 when http://127.0.0.1:<port><metrics_path> answers 200 within PROBE_TIMEOUT_MS (the body
 * is not read). */
static int sup_probe(struct actuator *a, int port)
{
    char url[CFG_PATH_MAX + 32];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, a->bp.metrics_path);
    struct httpc_request req;
    memset(&req, 0, sizeof(req));
    req.url = url;
    req.headers_only = 1;
    httpc_get_all(&req, 1, "*/*", PROBE_TIMEOUT_MS);
    int ok = req.ok;
    httpc_request_free(&req);
    return ok;
}

/* 1 while pid has not ended (checked without reaping it; the next tick reaps). */
static int sup_running(pid_t pid)
{
    siginfo_t info;
    memset(&info, 0, sizeof(info));
    if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0)
        return 0;
    return info.si_pid == 0;
}

static void sup_start_instance(struct actuator *a, int i, int64_t now)
{
    struct instance *in = &a->inst[i];
    char port[16], index[16];
    snprintf(port, sizeof(port), "%d", a->bp.port_base + i);
    snprintf(index, sizeof(index), "%d", i);
    const char *keys[] = {"port", "instance"};
    const char *vals[] = {port, index};
    char **argv = calloc((size_t)a->bp.command_count + 1, sizeof(*argv));
    int ok = argv != NULL;
    for (int k = 0; ok && k < a->bp.command_count; k++)
        ok = (argv[k] = spawn_substitute(a->command[k], keys, vals, 2)) != NULL;
    char err[256] = "out of memory";
    pid_t pid = ok ? spawn_process(argv, a->envp, -1, err, sizeof(err)) : -1;
    spawn_env_free(argv);
    pthread_mutex_lock(&a->mu);
    if (pid > 0) {
        in->state = INST_STARTING;
        in->pid = pid;
        in->since_ms = now;
    } else {
        in->state = INST_BACKOFF;
        in->pid = 0;
        int shift = in->failures < 6 ? in->failures : 6;
        int64_t wait = (int64_t)BACKOFF_FIRST_MS << shift;
        in->retry_at_ms = now + (wait < BACKOFF_MAX_MS ? wait : BACKOFF_MAX_MS);
        in->failures++;
        snprintf(a->error, sizeof(a->error), "blueprint %s instance %d: %.150s", a->bp.name, i,
                 err);
    }
    pthread_mutex_unlock(&a->mu);
}

/* An instance ended or failed: back off before the next start (if still wanted). */
static void sup_failed(struct actuator *a, int i, int64_t now, const char *why)
{
    struct instance *in = &a->inst[i];
    int shift = in->failures < 6 ? in->failures : 6;
    int64_t wait = (int64_t)BACKOFF_FIRST_MS << shift;
    pthread_mutex_lock(&a->mu);
    snprintf(a->error, sizeof(a->error), "blueprint %s instance %d (port %d): %s", a->bp.name, i,
             a->bp.port_base + i, why);
    in->state = INST_BACKOFF;
    in->pid = 0;
    in->retry_at_ms = now + (wait < BACKOFF_MAX_MS ? wait : BACKOFF_MAX_MS);
    in->failures++;
    pthread_mutex_unlock(&a->mu);
}

static void sup_signal(struct instance *in, int sig)
{
    if (in->pid > 0 && kill(-in->pid, sig) != 0)
        kill(in->pid, sig); /* the group may not exist yet */
}

static void sup_begin_stop(struct actuator *a, int i, int64_t now)
{
    struct instance *in = &a->inst[i];
    pthread_mutex_lock(&a->mu);
    if (in->state == INST_BACKOFF || in->pid <= 0) {
        in->state = INST_EMPTY;
        in->pid = 0;
    } else if (in->state != INST_STOPPING) {
        sup_signal(in, SIGTERM);
        in->state = INST_STOPPING;
        in->since_ms = now;
        in->killed = 0;
    }
    pthread_mutex_unlock(&a->mu);
}

/* One pass: reap, stop the unwanted, kill the slow to stop, start and probe the wanted. */
static void sup_tick(struct actuator *a, int desired, int64_t now)
{
    for (int i = 0; i < a->bp.max_instances; i++) {
        struct instance *in = &a->inst[i];
        if (in->pid > 0) {
            int status;
            pid_t r = waitpid(in->pid, &status, WNOHANG);
            if (r == in->pid) {
                char why[64];
                spawn_describe_status(status, why, sizeof(why));
                if (in->state == INST_STOPPING) {
                    pthread_mutex_lock(&a->mu);
                    in->state = INST_EMPTY;
                    in->pid = 0;
                    pthread_mutex_unlock(&a->mu);
                } else {
                    sup_failed(a, i, now, why);
                    if (i < desired) {
                        pthread_mutex_lock(&a->mu);
                        a->restarts++;
                        pthread_mutex_unlock(&a->mu);
                    }
                }
            }
        }
        if (i >= desired) {
            if (in->state != INST_EMPTY)
                sup_begin_stop(a, i, now);
            if (in->state == INST_STOPPING && !in->killed &&
                now - in->since_ms >= a->bp.stop_grace_ms) {
                sup_signal(in, SIGKILL);
                in->killed = 1;
            }
            continue;
        }
        switch (in->state) {
        case INST_EMPTY:
            sup_start_instance(a, i, now);
            break;
        case INST_BACKOFF:
            if (now >= in->retry_at_ms)
                sup_start_instance(a, i, now);
            break;
        case INST_STARTING:
            /* Ready only if our process still runs after the probe: another program on the
             * port (ours failed to bind it and is exiting) must not pass for the instance. */
            if (sup_probe(a, a->bp.port_base + i) && sup_running(in->pid)) {
                pthread_mutex_lock(&a->mu);
                in->state = INST_READY;
                in->failures = 0;
                pthread_mutex_unlock(&a->mu);
            } else if (now - in->since_ms > a->bp.startup_timeout_ms) {
                char why[96];
                snprintf(why, sizeof(why), "not ready after %d ms; killed",
                         a->bp.startup_timeout_ms);
                sup_signal(in, SIGKILL);
                waitpid(in->pid, NULL, 0);
                sup_failed(a, i, now, why);
            }
            break;
        case INST_STOPPING: /* wanted again while stopping: let it end, then restart */
            if (!in->killed && now - in->since_ms >= a->bp.stop_grace_ms) {
                sup_signal(in, SIGKILL);
                in->killed = 1;
            }
            break;
        case INST_READY:
            break;
        }
    }
}

/* Stops every instance: SIGTERM now, SIGKILL after the grace period, reaps them all. */
static void sup_stop_all(struct actuator *a)
{
    int64_t start = spawn_now_ms();
    for (int i = 0; i < a->bp.max_instances; i++)
        sup_begin_stop(a, i, start);
    for (;;) {
        int left = 0;
        int64_t now = spawn_now_ms();
        sup_tick(a, 0, now);
        for (int i = 0; i < a->bp.max_instances; i++)
            left += a->inst[i].state != INST_EMPTY;
        if (!left)
            return;
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* ---- exec hook ---- */

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
        snprintf(result, sizeof(result), "scale_command not started: %s", err);
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
    a->exec_running = 0;
    a->exec_failed = !success;
    a->exec_runs++;
    a->exec_run_count = n;
    if (success) {
        a->exec_applied = n;
        a->exec_failures = 0;
    } else {
        /* Retry the same count after 1 s, doubling to 60 s, unless a new count comes first. */
        int shift = a->exec_failures < 6 ? a->exec_failures : 6;
        int64_t wait = (int64_t)1000 << shift;
        a->exec_retry_ms = spawn_now_ms() + (wait < 60000 ? wait : 60000);
        a->exec_failures++;
    }
    if (!success)
        snprintf(a->error, sizeof(a->error), "blueprint %s scale_command (%d instances): %.100s",
                 a->bp.name, n, result);
    pthread_mutex_unlock(&a->mu);
}

/* ---- the thread ---- */

static void *actuator_thread(void *arg)
{
    struct actuator *a = arg;
    int process = a->bp.actuator == CFG_ACTUATOR_PROCESS;
    pthread_mutex_lock(&a->mu);
    while (!a->stop) {
        int desired = a->desired;
        if (!process && a->exec_failed && !a->exec_running && desired != a->exec_applied &&
            spawn_now_ms() >= a->exec_retry_ms)
            a->exec_pending = 1;
        int run_exec = !process && a->exec_pending;
        if (run_exec) {
            a->exec_pending = 0;
            a->exec_running = 1;
        }
        pthread_mutex_unlock(&a->mu);
        if (process)
            sup_tick(a, desired, spawn_now_ms());
        else if (run_exec)
            exec_run(a, desired);
        pthread_mutex_lock(&a->mu);
        if (a->stop || (!process && a->exec_pending))
            continue;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += TICK_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&a->cv, &a->mu, &until);
    }
    pthread_mutex_unlock(&a->mu);
    if (process)
        sup_stop_all(a);
    return NULL;
}

struct actuator *actuator_open(const struct cfg_blueprint *bp, char *err, size_t errlen)
{
    struct actuator *a = calloc(1, sizeof(*a));
    if (!a) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    a->bp = *bp;
    a->bp.command = a->bp.scale_command = a->bp.metrics_urls = NULL;
    a->bp.env = NULL;
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
        a->metrics_urls = strv_copy(bp->metrics_urls, bp->metrics_urls_count);
        a->envp = spawn_env_build(names, values, bp->env_count);
        a->inst = calloc((size_t)(bp->max_instances > 0 ? bp->max_instances : 1), sizeof(*a->inst));
        ok = a->command && a->scale_command && a->metrics_urls && a->envp && a->inst;
    }
    free(names);
    free(values);
    if (ok && bp->actuator == CFG_ACTUATOR_PROCESS && bp->command_count < 1) {
        snprintf(err, errlen, "blueprint %s: the process actuator needs a command", bp->name);
        ok = -1;
    } else if (ok && bp->actuator == CFG_ACTUATOR_EXEC && bp->scale_command_count < 1) {
        snprintf(err, errlen, "blueprint %s: the exec actuator needs a scale_command", bp->name);
        ok = -1;
    }
    if (ok == 1) {
        pthread_mutex_init(&a->mu, NULL);
        pthread_cond_init(&a->cv, NULL);
        if (pthread_create(&a->thread, NULL, actuator_thread, a) != 0) {
            pthread_mutex_destroy(&a->mu);
            pthread_cond_destroy(&a->cv);
            snprintf(err, errlen, "blueprint %s: cannot start the actuator thread", bp->name);
            ok = -1;
        }
    } else if (ok == 0) {
        snprintf(err, errlen, "out of memory");
    }
    if (ok != 1) {
        spawn_env_free(a->command);
        spawn_env_free(a->scale_command);
        spawn_env_free(a->metrics_urls);
        spawn_env_free(a->envp);
        free(a->inst);
        free(a);
        return NULL;
    }
    return a;
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
    if (n != a->desired ||
        (a->bp.actuator == CFG_ACTUATOR_EXEC && !a->exec_running && n != a->exec_applied)) {
        a->desired = n;
        a->exec_pending = 1;
        pthread_cond_signal(&a->cv);
    }
    pthread_mutex_unlock(&a->mu);
    return rc;
}

void actuator_status(struct actuator *a, struct actuator_status *out)
{
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&a->mu);
    out->requested = a->desired;
    if (a->bp.actuator == CFG_ACTUATOR_PROCESS) {
        for (int i = 0; i < a->bp.max_instances; i++) {
            enum inst_state s = a->inst[i].state;
            out->starting += s == INST_STARTING;
            out->ready += s == INST_READY;
            out->failed += s == INST_BACKOFF && i < a->desired;
        }
        out->restarts = a->restarts;
    } else {
        out->ready = a->exec_applied;
        out->starting = a->exec_running || a->exec_pending;
        out->failed = a->exec_failed;
        out->runs = a->exec_runs;
        out->run_count = a->exec_run_count;
    }
    snprintf(out->error, sizeof(out->error), "%s", a->error);
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
    int n = 0;
    if (a->bp.actuator == CFG_ACTUATOR_EXEC) {
        for (int i = 0; i < a->bp.metrics_urls_count; i++, n++)
            if (n < max) {
                snprintf(out[n].url, sizeof(out[n].url), "%s", a->metrics_urls[i]);
                out[n].pid = 0;
                out[n].instance = i;
            }
        return n;
    }
    pthread_mutex_lock(&a->mu);
    for (int i = 0; i < a->bp.max_instances; i++) {
        if (a->inst[i].state != INST_READY)
            continue;
        if (n < max) {
            snprintf(out[n].url, sizeof(out[n].url), "http://127.0.0.1:%d%s", a->bp.port_base + i,
                     a->bp.metrics_path);
            out[n].pid = a->inst[i].pid;
            out[n].instance = i;
        }
        n++;
    }
    pthread_mutex_unlock(&a->mu);
    return n;
}

void actuator_close(struct actuator *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->mu);
    a->stop = 1;
    pthread_cond_signal(&a->cv);
    pthread_mutex_unlock(&a->mu);
    pthread_join(a->thread, NULL);
    pthread_mutex_destroy(&a->mu);
    pthread_cond_destroy(&a->cv);
    spawn_env_free(a->command);
    spawn_env_free(a->scale_command);
    spawn_env_free(a->metrics_urls);
    spawn_env_free(a->envp);
    free(a->inst);
    free(a);
}
