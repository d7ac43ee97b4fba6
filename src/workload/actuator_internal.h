/* What the actuator kinds share (see include/aether/actuator.h): the common part of an actuator
 * and the table every kind fills. One file per kind (act_process.c, act_exec.c); actuator.c owns
 * the thread, the mutex and the registry that maps a blueprint's `actuator` key to its kind. A new
 * kind (kubernetes, ...) is one file, one row in the registry and one name in cfg_actuator. */
#ifndef AETHER_WORKLOAD_ACTUATOR_INTERNAL_H
#define AETHER_WORKLOAD_ACTUATOR_INTERNAL_H

#include <pthread.h>

#include "aether/actuator.h"

#define ACT_RESULT_MAX (2048 + 128) /* a run's outcome: how it ended and its output */

struct actuator_kind;

struct actuator {
    const struct actuator_kind *kind;
    struct cfg_blueprint bp; /* scalar copy; list members below are our own copies */
    char **command, **scale_command, **status_command, **metrics_urls;
    char **envp;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;                         /* close requested; guarded by mu */
    int desired;                      /* guarded by mu */
    char last_result[ACT_RESULT_MAX]; /* the last finished run's outcome (guarded by mu) */
    char error[256];                  /* the failure in progress, "" when none (guarded by mu) */
    char last_failure[256];           /* the most recent failure, kept after recovery (mu) */
    long failures_total;              /* failures so far (guarded by mu) */
    void *impl;                       /* the kind's own state, owned by the kind */
    actuator_gate_fn gate;            /* checked before each run, or NULL (guarded by mu) */
    void *gate_ctx;
};

/* One kind of actuator. Every function gets the actuator; "mu held" means a->mu is locked by the
 * caller. */
struct actuator_kind {
    /* What a finished run is called in logs and decision results ("scale_command"), or NULL when
     * the kind has no runs. */
    const char *run_label;
    /* The kind's own rules for a blueprint that passed cfg_validate (bp borrowed): 0, or a
     * negative AE_E* code with a message starting with the key it names, e.g.
     * "blueprint.web.command must not be empty for actuator \"process\"". */
    int (*check)(const struct cfg_blueprint *bp, char *err, size_t errlen);
    /* Allocates a->impl (a->bp passed check). 0, or a negative AE_E* code with
     * a message. On failure the kind's free is called. */
    int (*open)(struct actuator *a, char *err, size_t errlen);
    /* mu held: n instances were asked for. Returns 1 when the thread should act on it (a->desired
     * becomes n), 0 when nothing changes. */
    int (*wants)(struct actuator *a, int n);
    /* On the actuator's thread, mu held: one round of work. It may release mu while it works and
     * holds it again on return. Returns 1 to run again at once, 0 to wait for the next tick or a
     * new count. */
    int (*tick)(struct actuator *a);
    /* mu held: the kind's part of the status (requested and error are filled by the caller). */
    void (*status)(struct actuator *a, struct actuator_status *out);
    /* Up to max scrape targets (takes mu when it needs it); returns how many there are. */
    int (*targets)(struct actuator *a, struct actuator_target *out, int max);
    /* On the thread after the last round (mu not held): stops what the kind started. */
    void (*stop)(struct actuator *a);
    /* Frees a->impl (also after a failed open). */
    void (*free)(struct actuator *a);
};

/* mu held: records a failure: a->error (until the kind clears it on recovery), last_failure and
 * failures_total. printf-style. */
void actuator_fail(struct actuator *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

extern const struct actuator_kind actuator_process_kind; /* act_process.c */
extern const struct actuator_kind actuator_exec_kind;    /* act_exec.c */

#endif
