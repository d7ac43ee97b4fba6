/* Child processes for the actuators: fork + exec with the no-orphans setup (see spawn.h). */
#include "spawn.h"

#include "aether/monowait.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ; /* POSIX, but only declared by unistd.h under _GNU_SOURCE */

int64_t spawn_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void spawn_wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t deadline_ms)
{
    int64_t wait = deadline_ms - spawn_now_ms();
    if (wait > 0)
        mono_cond_wait_ms(cv, mu, wait); /* cv made by mono_cond_init */
}

void spawn_thread_stop(pthread_t thread, pthread_mutex_t *mu, pthread_cond_t *cv, int *stop)
{
    pthread_mutex_lock(mu);
    *stop = 1;
    pthread_cond_signal(cv);
    pthread_mutex_unlock(mu);
    pthread_join(thread, NULL);
    pthread_mutex_destroy(mu);
    pthread_cond_destroy(cv);
}

/* Runs in the child between fork and exec: async-signal-safe calls only. */
static void child_setup_and_exec(char *const argv[], char *const envp[], int out_fd, int cg_fd,
                                 int err_pipe, pid_t parent)
{
    if (cg_fd >= 0) { /* "0": the writing process, before it can start anything */
        ssize_t cw = write(cg_fd, "0", 1);
        (void)cw;
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    struct sigaction dfl;
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    for (int s = 1; s < 32; s++)
        if (s != SIGKILL && s != SIGSTOP)
            sigaction(s, &dfl, NULL);
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) /* the parent died before prctl took effect */
        _exit(127);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) {
        dup2(devnull, 0);
        close(devnull);
    }
    if (out_fd >= 0) {
        dup2(out_fd, 1);
        dup2(out_fd, 2);
        close(out_fd);
    }
    environ = (char **)envp;
    execvp(argv[0], argv);
    int e = errno;
    ssize_t w = write(err_pipe, &e, sizeof(e));
    (void)w;
    _exit(127);
}

pid_t spawn_process(char *const argv[], char *const envp[], int out_fd, char *err, size_t errlen)
{
    return spawn_process_in(argv, envp, out_fd, -1, err, errlen);
}

pid_t spawn_process_in(char *const argv[], char *const envp[], int out_fd, int cg_procs_fd,
                       char *err, size_t errlen)
{
    int fds[2];
    if (pipe(fds) != 0) {
        snprintf(err, errlen, "cannot create a pipe: %s", strerror(errno));
        return -1;
    }
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "cannot fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        close(fds[0]);
        child_setup_and_exec(argv, envp, out_fd, cg_procs_fd, fds[1], parent);
    }
    close(fds[1]);
    /* Also set the group from the parent side, so a stop sent at once reaches the group. */
    setpgid(pid, pid);
    int child_errno = 0;
    ssize_t r;
    do
        r = read(fds[0], &child_errno, sizeof(child_errno));
    while (r < 0 && errno == EINTR);
    close(fds[0]);
    if (r == (ssize_t)sizeof(child_errno)) {
        int status;
        waitpid(pid, &status, 0);
        snprintf(err, errlen, "cannot execute %s: %s", argv[0], strerror(child_errno));
        return -1;
    }
    return pid;
}

char **spawn_env_build(char *const names[], char *const values[], int n)
{
    size_t base = 0;
    while (environ && environ[base])
        base++;
    char **env = calloc(base + (size_t)n + 1, sizeof(*env));
    if (!env)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < base; i++) {
        int replaced = 0;
        for (int j = 0; j < n; j++) {
            size_t nl = strlen(names[j]);
            if (strncmp(environ[i], names[j], nl) == 0 && environ[i][nl] == '=')
                replaced = 1;
        }
        if (!replaced && !(env[k++] = strdup(environ[i])))
            goto oom;
    }
    for (int j = 0; j < n; j++) {
        size_t len = strlen(names[j]) + strlen(values[j]) + 2;
        if (!(env[k] = malloc(len)))
            goto oom;
        snprintf(env[k++], len, "%s=%s", names[j], values[j]);
    }
    return env;
oom:
    spawn_env_free(env);
    return NULL;
}

void spawn_env_free(char **envp)
{
    if (!envp)
        return;
    for (char **e = envp; *e; e++)
        free(*e);
    free(envp);
}

/* Length of the key at s ("{key}") among keys, or -1. */
static int match_key(const char *s, const char *const keys[], int n)
{
    for (int i = 0; i < n; i++) {
        size_t kl = strlen(keys[i]);
        if (s[0] == '{' && strncmp(s + 1, keys[i], kl) == 0 && s[kl + 1] == '}')
            return i;
    }
    return -1;
}

char *spawn_substitute(const char *template_, const char *const keys[], const char *const values[],
                       int n)
{
    /* Two passes: measure, then write. */
    char *out = NULL;
    size_t need = 0;
    for (int pass = 0; pass < 2; pass++) {
        size_t k = 0;
        for (const char *s = template_; *s;) {
            int i = match_key(s, keys, n);
            if (i >= 0) {
                size_t vl = strlen(values[i]);
                if (out)
                    memcpy(out + k, values[i], vl);
                k += vl;
                s += strlen(keys[i]) + 2;
            } else {
                if (out)
                    out[k] = *s;
                k++;
                s++;
            }
        }
        if (out) {
            out[k] = '\0';
            return out;
        }
        need = k + 1;
        if (!(out = malloc(need)))
            return NULL;
    }
    return out;
}

void spawn_describe_status(int status, char *buf, size_t len)
{
    if (WIFEXITED(status))
        snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, len, "killed by signal %d", WTERMSIG(status));
    else
        snprintf(buf, len, "ended (status 0x%x)", (unsigned)status);
}
