/* The processes an instance started (private to src/workload).
 *
 * Found through /proc by parent links (so a grandchild that called setsid() and left the
 * instance's process group is found too), remembered with their start time (a pid the kernel
 * reused is never signalled), signalled with the instance, and reaped once they are the node's:
 * the process actuator makes the node a child subreaper, so descendants whose parent exits are
 * re-parented to it rather than to init. */
#ifndef AETHER_WORKLOAD_KIN_H
#define AETHER_WORKLOAD_KIN_H

#include <sys/types.h>

#define KIN_MAX 64 /* descendants remembered per instance */

struct kin {
    int n;
    struct {
        pid_t pid;
        unsigned long long start; /* /proc/<pid>/stat starttime */
    } p[KIN_MAX];
};

/* Parses the text of a /proc/<pid>/stat file (NUL-terminated): the parent pid and the start time
 * (field 22). 0 for a running process, 1 for a zombie, -1 when the text does not parse. */
int kin_parse_stat(const char *text, pid_t *ppid, unsigned long long *start);

/* Marks this process a child subreaper (PR_SET_CHILD_SUBREAPER); once per process is enough. */
void kin_become_subreaper(void);
/* Adds every running descendant of root that k does not hold yet (up to KIN_MAX). */
void kin_collect(struct kin *k, pid_t root);
/* Sends sig to each remembered process still running (and to its process group when it leads
 * one, as a setsid() grandchild does). */
void kin_signal(struct kin *k, int sig);
/* Reaps the remembered processes that ended (when they are this process's children) and forgets
 * those gone. Returns how many still run. */
int kin_reap(struct kin *k);

#endif
