/* Starting child processes for the actuators (private to src/workload).
 *
 * A child gets its own process group (so a stop reaches everything it started), dies with the
 * thread that spawned it (PR_SET_PDEATHSIG(SIGKILL): no orphans when the node is killed), an
 * empty signal mask and default dispositions, and stdin from /dev/null. */
#ifndef AETHER_WORKLOAD_SPAWN_H
#define AETHER_WORKLOAD_SPAWN_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Starts argv[0] (searched in PATH when it has no '/') with argv and envp (both borrowed,
 * NULL-terminated). out_fd, when >= 0, becomes the child's stdout and stderr. Returns the pid,
 * or -1 with a message in err (e.g. "cannot execute ./x: No such file or directory"). */
pid_t spawn_process(char *const argv[], char *const envp[], int out_fd, char *err, size_t errlen);
/* spawn_process, the child joining a cgroup first: cg_procs_fd, when >= 0, is an open write
 * descriptor of the cgroup's cgroup.procs (borrowed; see cgroup.h). A child that cannot join
 * still runs (the /proc walk still stops it). */
pid_t spawn_process_in(char *const argv[], char *const envp[], int out_fd, int cg_procs_fd,
                       char *err, size_t errlen);

/* The current environment plus names=values (names[i] replaces an existing entry). Caller frees
 * with spawn_env_free. NULL when out of memory. */
char **spawn_env_build(char *const names[], char *const values[], int n);
void spawn_env_free(char **envp);

/* Copies template replacing each "{key}" by its value (keys[i] -> values[i], n pairs). Caller
 * frees with free(). NULL when out of memory. */
char *spawn_substitute(const char *template_, const char *const keys[], const char *const values[],
                       int n);

/* Describes a waitpid status: "exited with status 1", "killed by signal 9". */
void spawn_describe_status(int status, char *buf, size_t len);

/* CLOCK_MONOTONIC in ms. */
int64_t spawn_now_ms(void);

/* Waits on cv (mu held, as pthread_cond_wait) until it is signalled or spawn_now_ms() reaches
 * deadline_ms; returns at once when the deadline has passed. Callers loop on their own stop
 * flag. */
void spawn_wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t deadline_ms);

/* Ends a module thread that loops until *stop under mu, waiting on cv: sets *stop, wakes it,
 * joins it, then destroys mu and cv (the thread's owner frees the rest). */
void spawn_thread_stop(pthread_t thread, pthread_mutex_t *mu, pthread_cond_t *cv, int *stop);

#endif
