/* cgroup v2 per blueprint (see cgroup.h): finding a writable cgroup2 mount and the node's own
 * cgroup in it, the node's cgroup for its data_dir, killing and removing cgroups.
 *
 * The node's cgroup is <mount><own path>/aether-<hash of the data_dir's real path>, one child per
 * blueprint. State is process-wide and set once by actuator_cgroup_start, before any actuator
 * opens (the node's main thread); afterwards it is only read. */
#define _XOPEN_SOURCE 700 /* realpath */
#include "cgroup.h"

#include "aether/actuator.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CG_WAIT_MS 5000 /* how long killed processes get to leave a cgroup */

static char node_cg[PATH_MAX]; /* the node's cgroup directory, "" when none */

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* The mount point of the cgroup2 file system from /proc/self/mountinfo into out. 0, or -1 with
 * why. */
static int cg_mount_point(char *out, size_t len, char *why, size_t whylen)
{
    FILE *f = fopen("/proc/self/mountinfo", "r");
    if (!f) {
        snprintf(why, whylen, "cannot read /proc/self/mountinfo: %s", strerror(errno));
        return -1;
    }
    char line[4096];
    int found = 0;
    while (!found && fgets(line, sizeof(line), f)) {
        /* id parent major:minor root mount-point options ... - fstype source super-options */
        char mnt[PATH_MAX];
        const char *sep = strstr(line, " - ");
        if (sep && strncmp(sep + 3, "cgroup2 ", 8) == 0 &&
            sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1 && strlen(mnt) < len) {
            snprintf(out, len, "%s", mnt); /* octal escapes (\040) are not expected here */
            found = 1;
        }
    }
    fclose(f);
    if (!found)
        snprintf(why, whylen, "no cgroup2 mount in /proc/self/mountinfo");
    return found ? 0 : -1;
}

/* This process's cgroup v2 path (the "0::" line of /proc/self/cgroup) into out. 0, or -1. */
static int cg_own_path(char *out, size_t len, char *why, size_t whylen)
{
    FILE *f = fopen("/proc/self/cgroup", "r");
    if (!f) {
        snprintf(why, whylen, "cannot read /proc/self/cgroup: %s", strerror(errno));
        return -1;
    }
    char line[PATH_MAX + 16];
    int found = 0;
    while (!found && fgets(line, sizeof(line), f)) {
        if (strncmp(line, "0::", 3) != 0)
            continue;
        line[strcspn(line, "\n")] = '\0';
        const char *p = strcmp(line + 3, "/") == 0 ? "" : line + 3;
        found = strlen(p) < len;
        if (found)
            snprintf(out, len, "%s", p);
    }
    fclose(f);
    if (!found)
        snprintf(why, whylen, "no cgroup v2 entry (0::) in /proc/self/cgroup");
    return found ? 0 : -1;
}

/* Reads dir/file into buf (NUL-terminated). Returns the length, or -1. */
static ssize_t cg_read(const char *dir, const char *file, char *buf, size_t len)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t got = 0;
    ssize_t r;
    while (got + 1 < len && (r = read(fd, buf + got, len - 1 - got)) > 0)
        got += (size_t)r;
    close(fd);
    buf[got] = '\0';
    return (ssize_t)got;
}

/* Writes text to dir/file. 0, or -1 (errno set). */
static int cg_write(const char *dir, const char *file, const char *text)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t w = write(fd, text, strlen(text));
    int e = errno;
    close(fd);
    errno = e;
    return w == (ssize_t)strlen(text) ? 0 : -1;
}

/* Calls fn(pid, ctx) for each pid in dir/cgroup.procs; returns how many there were. */
static int cg_each_pid(const char *dir, void (*fn)(pid_t, void *), void *ctx)
{
    size_t cap = 65536;
    char *buf = malloc(cap);
    if (!buf || cg_read(dir, "cgroup.procs", buf, cap) < 0) {
        free(buf);
        return 0;
    }
    int n = 0;
    for (char *s = buf, *end; *s; s = end) {
        long pid = strtol(s, &end, 10);
        if (end == s)
            break;
        if (pid > 0) {
            n++;
            if (fn)
                fn((pid_t)pid, ctx);
        }
    }
    free(buf);
    return n;
}

static void cg_kill_pid(pid_t pid, void *ctx)
{
    (void)ctx;
    kill(pid, SIGKILL);
}

static void cg_reap_pid(pid_t pid, void *ctx)
{
    (void)ctx;
    waitpid(pid, NULL, WNOHANG); /* ECHILD for those not ours: nothing to do */
}

/* Counts the processes in dir and its child cgroups, kills them (cgroup.kill, or SIGKILL to each
 * listed pid where the kernel has no cgroup.kill), waits up to CG_WAIT_MS for them to leave,
 * reaping our own children, then removes dir's child cgroups and, when rm_self, dir. Returns how
 * many processes there were. */
static int cg_kill_tree(const char *dir, int rm_self)
{
    int n = cg_each_pid(dir, NULL, NULL);
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char sub[PATH_MAX];
        struct stat st;
        if (e->d_name[0] == '.' ||
            snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name) >= (int)sizeof(sub) ||
            stat(sub, &st) != 0 || !S_ISDIR(st.st_mode))
            continue;
        n += cg_kill_tree(sub, 1);
    }
    if (d)
        closedir(d);
    if (n > 0 && cg_write(dir, "cgroup.kill", "1") != 0)
        cg_each_pid(dir, cg_kill_pid, NULL);
    for (int waited = 0; waited < CG_WAIT_MS; waited += 10) {
        cg_each_pid(dir, cg_reap_pid, NULL);
        if (!rm_self || rmdir(dir) == 0 || errno == ENOENT)
            return n;
        if (errno != EBUSY)
            return n;
        cg_each_pid(dir, cg_kill_pid, NULL); /* one that joined while we looked */
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return n;
}

/* The blueprint's cgroup directory: name characters other than [A-Za-z0-9_.-] become '_', and
 * a hash of the whole name keeps two blueprints apart. */
static int cg_bp_path(const char *blueprint, char *out, size_t len)
{
    char safe[64];
    size_t k = 0;
    for (const char *s = blueprint; *s && k + 1 < sizeof(safe); s++) {
        char c = *s;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '-' || c == '.';
        safe[k++] = ok ? c : '_';
    }
    safe[k] = '\0';
    unsigned h = (unsigned)(fnv1a(blueprint) & 0xffffffffu);
    int w = snprintf(out, len, "%s/bp-%s-%08x", node_cg, safe, h);
    return w >= 0 && (size_t)w < len ? 0 : -1;
}

int cg_bp_open(const char *blueprint)
{
    if (!node_cg[0])
        return -1;
    char dir[PATH_MAX], procs[PATH_MAX + 16];
    if (cg_bp_path(blueprint, dir, sizeof(dir)) != 0)
        return -1;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return -1;
    snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
    return open(procs, O_WRONLY | O_CLOEXEC);
}

void cg_bp_close(const char *blueprint, int fd)
{
    if (fd >= 0)
        close(fd);
    if (!node_cg[0])
        return;
    char dir[PATH_MAX];
    if (cg_bp_path(blueprint, dir, sizeof(dir)) == 0)
        cg_kill_tree(dir, 1);
}

/* The node's cgroup for data_dir, created, with what a previous run left killed (*killed). 0, or
 * -1 with why. */
static int cg_node_make(const char *data_dir, int *killed, char *why, size_t whylen)
{
    char mnt[PATH_MAX], own[PATH_MAX], real[PATH_MAX], dir[PATH_MAX];
    if (cg_mount_point(mnt, sizeof(mnt), why, whylen) != 0 ||
        cg_own_path(own, sizeof(own), why, whylen) != 0)
        return -1;
    if (!realpath(data_dir, real)) {
        snprintf(why, whylen, "data_dir %.200s: %s", data_dir, strerror(errno));
        return -1;
    }
    if (snprintf(dir, sizeof(dir), "%s%s/aether-%016llx", mnt, own,
                 (unsigned long long)fnv1a(real)) >= (int)sizeof(dir)) {
        snprintf(why, whylen, "cgroup path too long under %.200s", mnt);
        return -1;
    }
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        snprintf(why, whylen, "cannot create %.200s: %s", dir, strerror(errno));
        return -1;
    }
    char probe[8];
    if (cg_read(dir, "cgroup.procs", probe, sizeof(probe)) < 0) {
        snprintf(why, whylen, "%.200s is not a cgroup v2 directory", dir);
        rmdir(dir);
        return -1;
    }
    *killed = cg_kill_tree(dir, 0);
    snprintf(node_cg, sizeof(node_cg), "%s", dir);
    return 0;
}

int actuator_cgroup_start(const char *data_dir, int *killed, char *msg, size_t len)
{
    char why[512];
    *killed = 0;
    node_cg[0] = '\0';
    if (cg_node_make(data_dir, killed, why, sizeof(why)) != 0) {
        snprintf(msg, len, "no writable cgroup v2 (%s): /proc walk", why);
        return 0;
    }
    snprintf(msg, len, "cgroup v2 at %s", node_cg);
    return 1;
}

void actuator_cgroup_stop(void)
{
    if (!node_cg[0])
        return;
    cg_kill_tree(node_cg, 1);
    node_cg[0] = '\0';
}
