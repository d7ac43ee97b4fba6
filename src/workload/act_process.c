/* The process actuator (see include/aether/actuator.h): the embedded process supervisor. Instance
 * i runs the blueprint's command on port_base + i; the actuator's thread starts, probes, restarts
 * with back-off and stops the instances. */
#include "actuator_internal.h"

#include "aether/error.h"
#include "cgroup.h"
#include "httpc.h"
#include "kin.h"
#include "portowner.h"
#include "spawn.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BACKOFF_FIRST_MS 500
#define BACKOFF_MAX_MS 30000
#define PROBE_TIMEOUT_MS 300

enum inst_state { INST_EMPTY, INST_STARTING, INST_READY, INST_BACKOFF, INST_STOPPING };

struct instance {
    enum inst_state state;
    pid_t pid;
    int64_t since_ms;    /* started (STARTING/READY) or stop sent (STOPPING) */
    int64_t retry_at_ms; /* BACKOFF: when to start again */
    int failures;        /* consecutive failures, for the back-off */
    int killed;          /* STOPPING: SIGKILL sent */
    struct kin kin;      /* what the instance started, found when it is stopped */
};

struct process_state {
    struct instance *inst; /* max_instances slots; thread-owned, read under mu */
    int restarts;
    int error_instance; /* the instance a->error is about, -1 when none (guarded by mu) */
    int cg_fd;          /* the blueprint's cgroup.procs (cgroup.h), -1 without a cgroup */
};

static struct instance *inst_of(struct actuator *a)
{
    return ((struct process_state *)a->impl)->inst;
}

/* mu held: instance i failed; a->error says why until it recovers. */
static void sup_set_error_instance(struct actuator *a, int i)
{
    ((struct process_state *)a->impl)->error_instance = i;
}

/* mu held: instance i is ready again, or no longer wanted and gone: an error about it is over
 * (its history stays in the log and the decisions' results). */
static void sup_recovered(struct actuator *a, int i)
{
    struct process_state *p = a->impl;
    if (p->error_instance == i) {
        p->error_instance = -1;
        a->error[0] = '\0';
    }
}

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
    struct instance *in = &inst_of(a)[i];
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
    pid_t pid = ok ? spawn_process_in(argv, a->envp, -1, ((struct process_state *)a->impl)->cg_fd,
                                      err, sizeof(err))
                   : -1;
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
        actuator_fail(a, "blueprint %s instance %d: %.150s", a->bp.name, i, err);
        sup_set_error_instance(a, i);
    }
    pthread_mutex_unlock(&a->mu);
}

/* An instance ended or failed: back off before the next start (if still wanted). */
static void sup_failed(struct actuator *a, int i, int64_t now, const char *why)
{
    struct instance *in = &inst_of(a)[i];
    int shift = in->failures < 6 ? in->failures : 6;
    int64_t wait = (int64_t)BACKOFF_FIRST_MS << shift;
    pthread_mutex_lock(&a->mu);
    actuator_fail(a, "blueprint %s instance %d (port %d): %.150s", a->bp.name, i,
                  a->bp.port_base + i, why);
    sup_set_error_instance(a, i);
    in->state = INST_BACKOFF;
    in->pid = 0;
    in->retry_at_ms = now + (wait < BACKOFF_MAX_MS ? wait : BACKOFF_MAX_MS);
    in->failures++;
    pthread_mutex_unlock(&a->mu);
}

/* Signals the instance, its process group and every descendant found (also those that left
 * the group with setsid()). */
static void sup_signal(struct instance *in, int sig)
{
    if (in->pid > 0) {
        kin_collect(&in->kin, in->pid);
        if (kill(-in->pid, sig) != 0)
            kill(in->pid, sig); /* the group may not exist yet */
    }
    kin_signal(&in->kin, sig);
}

static void sup_begin_stop(struct actuator *a, int i, int64_t now)
{
    struct instance *in = &inst_of(a)[i];
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

/* Reaps instance i's process when it has exited: a stopping one is gone, any other failed (and
 * counts a restart when still wanted). Reaps its exited descendants first. */
static void sup_reap(struct actuator *a, int i, int desired, int64_t now)
{
    struct instance *in = &inst_of(a)[i];
    if (in->kin.n)
        kin_reap(&in->kin);
    if (in->pid <= 0)
        return;
    int status;
    if (waitpid(in->pid, &status, WNOHANG) != in->pid)
        return;
    char why[64];
    spawn_describe_status(status, why, sizeof(why));
    if (in->state == INST_STOPPING) {
        /* Descendants outliving a stopped instance had their SIGTERM: none stays. */
        kin_signal(&in->kin, SIGKILL);
        pthread_mutex_lock(&a->mu);
        in->state = INST_EMPTY;
        in->pid = 0;
        if (i >= desired)
            sup_recovered(a, i);
        pthread_mutex_unlock(&a->mu);
        return;
    }
    /* What the instance left in its process group goes with it (the group's id cannot be reused
     * while members remain), so a restart starts clean. */
    kill(-in->pid, SIGKILL);
    sup_failed(a, i, now, why);
    if (i < desired) {
        pthread_mutex_lock(&a->mu);
        ((struct process_state *)a->impl)->restarts++;
        pthread_mutex_unlock(&a->mu);
    }
}

/* A stopping instance still running after the grace period gets SIGKILL, once. */
static void sup_kill_after_grace(struct actuator *a, struct instance *in, int64_t now)
{
    if (in->state == INST_STOPPING && !in->killed && now - in->since_ms >= a->bp.stop_grace_ms) {
        sup_signal(in, SIGKILL);
        in->killed = 1;
    }
}

/* A starting instance becomes ready when its port answers, or fails after the start-up
 * timeout. */
static void sup_check_starting(struct actuator *a, int i, int64_t now)
{
    struct instance *in = &inst_of(a)[i];
    /* Ready only if the port that answered is held by our instance's process group and our
     * process still runs: another program on the port (ours is still starting, or failed to
     * bind and is exiting) must not pass for the instance. Where /proc cannot tell who listens,
     * the answer and a running process decide. */
    if (sup_probe(a, a->bp.port_base + i) && sup_running(in->pid) &&
        port_listened_by_group(a->bp.port_base + i, in->pid) != 0) {
        pthread_mutex_lock(&a->mu);
        in->state = INST_READY;
        in->failures = 0;
        sup_recovered(a, i);
        pthread_mutex_unlock(&a->mu);
    } else if (now - in->since_ms > a->bp.startup_timeout_ms) {
        char why[96];
        snprintf(why, sizeof(why), "not ready after %d ms; killed", a->bp.startup_timeout_ms);
        sup_signal(in, SIGKILL);
        waitpid(in->pid, NULL, 0);
        sup_failed(a, i, now, why);
    }
}

/* Moves wanted instance i on: start it (now or after its back-off) or probe it. */
static void sup_advance(struct actuator *a, int i, int64_t now)
{
    struct instance *in = &inst_of(a)[i];
    switch (in->state) {
    case INST_EMPTY:
        sup_start_instance(a, i, now);
        break;
    case INST_BACKOFF:
        if (now >= in->retry_at_ms)
            sup_start_instance(a, i, now);
        break;
    case INST_STARTING:
        sup_check_starting(a, i, now);
        break;
    case INST_STOPPING: /* wanted again while stopping: let it end, then restart */
        sup_kill_after_grace(a, in, now);
        break;
    case INST_READY:
        break;
    }
}

/* One pass: reap, stop the unwanted, kill the slow to stop, start and probe the wanted. */
static void sup_tick(struct actuator *a, int desired, int64_t now)
{
    for (int i = 0; i < a->bp.max_instances; i++) {
        struct instance *in = &inst_of(a)[i];
        sup_reap(a, i, desired, now);
        if (i < desired) {
            sup_advance(a, i, now);
            continue;
        }
        if (in->state != INST_EMPTY)
            sup_begin_stop(a, i, now);
        sup_kill_after_grace(a, in, now);
    }
}

/* Stops every instance and its descendants: SIGTERM now, SIGKILL after the grace period (or as
 * soon as the instance has exited, for descendants), reaps them all. */
static void sup_stop_all(struct actuator *a)
{
    int64_t start = spawn_now_ms();
    for (int i = 0; i < a->bp.max_instances; i++)
        sup_begin_stop(a, i, start);
    for (;;) {
        int left = 0, kin_left = 0;
        int64_t now = spawn_now_ms();
        sup_tick(a, 0, now);
        for (int i = 0; i < a->bp.max_instances; i++) {
            left += inst_of(a)[i].state != INST_EMPTY;
            kin_left += inst_of(a)[i].kin.n;
        }
        /* Descendants got SIGKILL with their instance; a few moments for them to be gone. */
        if (!left && (!kin_left || now - start > a->bp.stop_grace_ms + 2000))
            return;
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static int process_check(const struct cfg_blueprint *bp, char *err, size_t errlen)
{
    if (bp->command_count < 1) {
        ae_errf(err, errlen, 0, "blueprint.%s.command must not be empty for actuator \"process\"",
                bp->name);
        return AE_EINVAL;
    }
    int top = 65536 - bp->max_instances; /* the last instance's port is at most 65535 */
    if (bp->port_base < 1 || bp->port_base > top) {
        ae_errf(err, errlen, 0, "blueprint.%s.port_base = %d is out of range 1..%d", bp->name,
                bp->port_base, top);
        return AE_ERANGE;
    }
    return 0;
}

static int process_open(struct actuator *a, char *err, size_t errlen)
{
    kin_become_subreaper(); /* orphaned descendants come back to us, not to init */
    struct process_state *p = calloc(1, sizeof(*p));
    if (p)
        p->inst =
            calloc((size_t)(a->bp.max_instances > 0 ? a->bp.max_instances : 1), sizeof(*p->inst));
    a->impl = p;
    if (p) {
        p->error_instance = -1;
        p->cg_fd = cg_bp_open(a->bp.name);
    }
    if (!p || !p->inst) {
        snprintf(err, errlen, "out of memory");
        return AE_ENOMEM;
    }
    return 0;
}

static int process_wants(struct actuator *a, int n)
{
    return n != a->desired;
}

static int process_tick(struct actuator *a)
{
    int desired = a->desired;
    pthread_mutex_unlock(&a->mu);
    sup_tick(a, desired, spawn_now_ms());
    pthread_mutex_lock(&a->mu);
    return 0;
}

static void process_status(struct actuator *a, struct actuator_status *out)
{
    const struct process_state *p = a->impl;
    for (int i = 0; i < a->bp.max_instances; i++) {
        enum inst_state s = p->inst[i].state;
        out->starting += s == INST_STARTING;
        out->ready += s == INST_READY;
        out->failed += s == INST_BACKOFF && i < a->desired;
    }
    out->restarts = p->restarts;
}

static int process_targets(struct actuator *a, struct actuator_target *out, int max)
{
    int n = 0;
    pthread_mutex_lock(&a->mu);
    for (int i = 0; i < a->bp.max_instances; i++) {
        if (inst_of(a)[i].state != INST_READY)
            continue;
        if (n < max) {
            snprintf(out[n].url, sizeof(out[n].url), "http://127.0.0.1:%d%s", a->bp.port_base + i,
                     a->bp.metrics_path);
            out[n].pid = inst_of(a)[i].pid;
            out[n].instance = i;
        }
        n++;
    }
    pthread_mutex_unlock(&a->mu);
    return n;
}

static void process_free(struct actuator *a)
{
    struct process_state *p = a->impl;
    if (p) {
        /* Instances were stopped one by one (the /proc walk); what escaped that ends here. */
        cg_bp_close(a->bp.name, p->cg_fd);
        free(p->inst);
    }
    free(p);
    a->impl = NULL;
}

const struct actuator_kind actuator_process_kind = {
    .run_label = NULL,
    .check = process_check,
    .open = process_open,
    .wants = process_wants,
    .tick = process_tick,
    .status = process_status,
    .targets = process_targets,
    .stop = sup_stop_all,
    .free = process_free,
};
