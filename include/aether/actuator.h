/* Actuators: what changes a blueprint's instance count for real.
 *
 * The node's control loop decides a desired count each second and hands it to the blueprint's
 * actuator; the actuator works in its own thread, so no call here blocks the loop (each takes a
 * mutex for a few microseconds at most). One kind per value of the blueprint's `actuator` key,
 * each in its own file behind one table (src/workload/actuator_internal.h):
 *   process  the embedded process supervisor: instance i runs the blueprint's `command` (argv,
 *            no shell, "{port}" and "{instance}" substituted, the `env` table added) on port
 *            port_base + i; it is "starting" until http://127.0.0.1:<port><metrics_path>
 *            answers 200, then "ready"; a crashed instance is restarted with exponential
 *            back-off (0.5 s doubling to 30 s); stopping sends SIGTERM to the instance's process
 *            group, then SIGKILL after stop_grace_ms. Every instance runs in its own process
 *            group with PR_SET_PDEATHSIG(SIGKILL), so none outlives a node that is killed;
 *            where cgroup v2 is writable, in its blueprint's cgroup too (actuator_cgroup_start),
 *            so that what it starts is killed when the node stops or, after a SIGKILL of the
 *            node, when it starts again.
 *   exec     runs `scale_command` (argv, "{blueprint}" and "{instances}" substituted) whenever
 *            the desired count differs from the last one applied, one run at a time, killed
 *            after startup_timeout_ms; a failed run is retried (1 s doubling to 60 s) until one
 *            succeeds or the count changes; exit code and output are kept for the log.
 *            ready = requested once the command succeeded. */
#ifndef AETHER_ACTUATOR_H
#define AETHER_ACTUATOR_H

#include <stddef.h>
#include <sys/types.h>

#include "aether/config.h"

struct actuator;

struct actuator_status {
    int requested;   /* the last desired count */
    int starting;    /* process: running, not answering yet; exec: a run is in progress */
    int ready;       /* process: answering its metrics URL; exec: the count last applied */
    int failed;      /* process: instances waiting to restart; exec: 1 if the last run failed */
    int restarts;    /* process: restarts since start */
    int runs;        /* exec: scale_command runs finished since start (0 for process) */
    int run_count;   /* exec: the instance count the last finished run asked for */
    char error[256]; /* the most recent failure while it lasts, "" when none: cleared when the
                      * failed instance is ready again or no longer wanted (process), or when a
                      * later run succeeds (exec) */
    char last_failure[256]; /* the most recent failure, kept after recovery ("" before any) */
    long failures_total;    /* failures since start: a change means a new one (perhaps already
                             * over, so error may be "" again) */
};

/* One scrape target: a ready instance (process) or a configured metrics URL (exec). */
struct actuator_target {
    char url[CFG_PATH_MAX + 32];
    pid_t pid;    /* 0 when the process is not ours (exec) */
    int instance; /* instance index, or the URL's index */
};

/* Each blueprint's actuator kind checks its own rules (process: a command, and port_base +
 * max_instances - 1 <= 65535; exec: a scale_command). A cfg_check_fn for cfg_load_file and cfg_check_file:
 * 0, or AE_EINVAL/AE_ERANGE with a message starting with the key it names, e.g.
 * "blueprint.web.command must not be empty for actuator \"process\"". */
int actuator_check_config(const struct ae_config *c, char *err, size_t errlen);

/* Creates the actuator of a blueprint (bp must have passed cfg_validate, actuator_check_config and
 * cfg_blueprint_resolve; it is copied) in *out. Nothing runs until actuator_set_desired. Returns 0,
 * or AE_EINVAL (unknown kind or the kind refused bp), AE_ENOMEM or AE_EIO (the thread cannot
 * start) with a message in err and *out set to NULL. Free with actuator_close. */
int actuator_open(const struct cfg_blueprint *bp, struct actuator **out, char *err, size_t errlen);

/* Asks for n instances, clamped to [0, max_instances]; returns at once (the thread acts). 0, or
 * AE_ERANGE (with a message; n is clamped and still applied) when n was out of range. */
int actuator_set_desired(struct actuator *a, int n, char *err, size_t errlen);

/* A check a run must pass right before it starts, on the actuator's thread (the node's lock is
 * not held, so it may wait, e.g. for etcd's fencing transaction). Returns 1 to run the command
 * for count instances, 0 to skip it, with why in the buffer. */
typedef int (*actuator_gate_fn)(void *ctx, const char *blueprint, int count, char *why,
                                size_t whylen);

/* Puts every later run of kinds with runs (exec) behind gate (NULL: none). A skipped run counts
 * as a run (runs, run_count) whose result is "not run: <why>"; it is not retried, and the count
 * it was for is not applied. Call before the first actuator_set_desired. */
void actuator_set_gate(struct actuator *a, actuator_gate_fn gate, void *ctx);

/* What runs now (never blocks). */
void actuator_status(struct actuator *a, struct actuator_status *out);

/* The outcome of the last finished run: "exit 0: <output>", "killed after 30000 ms: ...", "not
 * started: ...", "" before the first run (and always for kinds without runs). Returns the length
 * written (NUL-terminated). */
size_t actuator_last_result(struct actuator *a, char *buf, size_t len);

/* The kind's name, as the blueprint's `actuator` key spells it ("process", "exec"); static
 * storage. */
const char *actuator_kind_name(const struct actuator *a);

/* What a finished run of this kind is called in logs and decision results ("scale_command"), or
 * NULL when the kind reports no runs (process). Static storage. */
const char *actuator_run_label(const struct actuator *a);

/* Fills up to max scrape targets and returns how many there are. Never blocks. */
int actuator_targets(struct actuator *a, struct actuator_target *out, int max);

/* Once at start, before the first actuator_open: where cgroup v2 is writable at this process's
 * own cgroup, the node's cgroup for data_dir (an existing directory) is made, named after the
 * data_dir's real path so that a restarted node finds the one its previous run left, and every
 * process still in it is killed (*killed: how many). Process actuators then put each instance
 * in a cgroup of its blueprint's under it. Returns 1 when cgroups are used, 0 when not; msg says
 * which ("cgroup v2 at PATH", or "no writable cgroup v2 (why): /proc walk"). */
int actuator_cgroup_start(const char *data_dir, int *killed, char *msg, size_t len);

/* After the last actuator_close: kills what is left in the node's cgroup and removes it. */
void actuator_cgroup_stop(void);

/* Stops what it started (process: SIGTERM, SIGKILL after stop_grace_ms, waits for every
 * instance) and frees a. NULL is allowed. Blocks for at most stop_grace_ms plus a moment. */
void actuator_close(struct actuator *a);

#endif
