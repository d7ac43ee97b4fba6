/* Descendants of an instance (see kin.h). */
#include "kin.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define SCAN_MAX 65536 /* processes looked at in one /proc scan */

struct proc_row {
    pid_t pid, ppid;
    unsigned long long start;
};

int kin_parse_stat(const char *text, pid_t *ppid, unsigned long long *start)
{
    const char *p = strrchr(text, ')'); /* the command name may hold spaces and parentheses */
    if (!p || p[1] != ' ')
        return -1;
    char state;
    int parent;
    /* After ") ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime
     * stime cutime cstime priority nice threads itrealvalue starttime (field 22). */
    if (sscanf(p + 2,
               "%c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
               &state, &parent, start) != 3)
        return -1;
    *ppid = parent;
    return state == 'Z' ? 1 : 0;
}

/* ppid and start time of pid from /proc/<pid>/stat: as kin_parse_stat, -1 also when it is gone. */
static int read_stat(pid_t pid, pid_t *ppid, unsigned long long *start)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return kin_parse_stat(buf, ppid, start);
}

/* Every process of /proc: rows in *out (caller frees), their count. */
static int scan(struct proc_row **out)
{
    *out = NULL;
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    struct proc_row *rows = malloc(sizeof *rows * SCAN_MAX);
    int n = 0;
    struct dirent *e;
    while (rows && n < SCAN_MAX && (e = readdir(d)) != NULL) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 0)
            continue;
        rows[n].pid = (pid_t)pid;
        if (read_stat(rows[n].pid, &rows[n].ppid, &rows[n].start) == 0)
            n++;
    }
    closedir(d);
    *out = rows;
    return rows ? n : 0;
}

static int known(const struct kin *k, pid_t pid)
{
    for (int i = 0; i < k->n; i++)
        if (k->p[i].pid == pid)
            return 1;
    return 0;
}

void kin_become_subreaper(void)
{
    prctl(PR_SET_CHILD_SUBREAPER, 1);
}

void kin_collect(struct kin *k, pid_t root)
{
    struct proc_row *rows;
    int n = scan(&rows);
    /* Descendants are added as their parent becomes known: repeat until a pass adds none. */
    for (int added = 1; added && k->n < KIN_MAX;) {
        added = 0;
        for (int i = 0; i < n && k->n < KIN_MAX; i++) {
            if (rows[i].pid == root || known(k, rows[i].pid))
                continue;
            if (rows[i].ppid == root || known(k, rows[i].ppid)) {
                k->p[k->n].pid = rows[i].pid;
                k->p[k->n].start = rows[i].start;
                k->n++;
                added = 1;
            }
        }
    }
    free(rows);
}

/* 1 when the remembered process i still runs (same pid, same start time, not a zombie). */
static int still_running(const struct kin *k, int i)
{
    pid_t ppid;
    unsigned long long start;
    return read_stat(k->p[i].pid, &ppid, &start) == 0 && start == k->p[i].start;
}

void kin_signal(struct kin *k, int sig)
{
    for (int i = 0; i < k->n; i++) {
        if (!still_running(k, i))
            continue;
        if (getpgid(k->p[i].pid) == k->p[i].pid)
            kill(-k->p[i].pid, sig);
        kill(k->p[i].pid, sig);
    }
}

int kin_reap(struct kin *k)
{
    int left = 0;
    for (int i = 0; i < k->n; i++) {
        pid_t ppid;
        unsigned long long start;
        int st = read_stat(k->p[i].pid, &ppid, &start);
        if (st < 0 || start != k->p[i].start)
            continue;  /* gone (its pid may be another process's by now) */
        if (st == 1) { /* ended: reap it when it was re-parented to us */
            if (ppid == getpid())
                waitpid(k->p[i].pid, NULL, WNOHANG);
            continue;
        }
        k->p[left++] = k->p[i];
    }
    k->n = left;
    return left;
}
