/* A cgroup v2 per blueprint, with real processes: an instance and the grandchild it started with
 * setsid() join the blueprint's cgroup; closing the blueprint kills both and removes the cgroup;
 * a node started again on the same data_dir (after the first run vanished without closing
 * anything, as after a SIGKILL) kills what was left and counts it. Skipped (77) where cgroup v2
 * is not writable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "aether/actuator.h"
#include "cgroup.h"
#include "spawn.h"
#include "helpers.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char data_dir[64];
static char node_dir[1024]; /* from the start message */

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int gone_within(pid_t pid, int ms)
{
    for (int t = 0; t < ms && !process_gone(pid); t += 20)
        nap_ms(20);
    return process_gone(pid);
}

static int dir_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int start(int *killed)
{
    char msg[2048];
    int on = actuator_cgroup_start(data_dir, killed, msg, sizeof(msg));
    if (on && sscanf(msg, "cgroup v2 at %1023s", node_dir) != 1)
        fail_msg("start message: %s", msg);
    if (!on)
        printf("%s\n", msg);
    return on;
}

/* The pid written to path followed by a newline, 0 before it is there. */
static pid_t read_pid(const char *path)
{
    FILE *f = fopen(path, "r");
    int pid = 0;
    char nl = 0;
    if (f && fscanf(f, "%d%c", &pid, &nl) != 2)
        pid = 0;
    if (f)
        fclose(f);
    return nl == '\n' ? (pid_t)pid : 0;
}

/* 1 once pid runs the program named comm. */
static int runs_program(pid_t pid, const char *comm)
{
    char path[64], buf[64] = "";
    snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    int ok = fgets(buf, sizeof(buf), f) && strncmp(buf, comm, strlen(comm)) == 0;
    fclose(f);
    return ok;
}

/* Starts, in blueprint "web/1"'s cgroup, a shell that leaves a setsid() grandchild (its pid in
 * *grandchild) and becomes a sleep; returns once both sleep, so the cgroup holds exactly those
 * two. Returns the shell's pid. */
static pid_t start_instance(int fd, pid_t *grandchild)
{
    char marker[128], script[512];
    snprintf(marker, sizeof(marker), "%s/grandchild", data_dir);
    unlink(marker);
    snprintf(script, sizeof(script), "setsid sleep 300 & echo $! > %s; exec sleep 300", marker);
    char *argv[] = {"/bin/sh", "-c", script, NULL};
    extern char **environ;
    char err[256];
    pid_t pid = spawn_process_in(argv, environ, -1, fd, err, sizeof(err));
    assert_true(pid > 0);
    pid_t g = 0;
    for (int t = 0; t < 20000; t += 20) {
        if (!g)
            g = read_pid(marker);
        if (g && runs_program(g, "sleep") && runs_program(pid, "sleep"))
            break;
        nap_ms(20);
    }
    assert_true(g > 0 && runs_program(g, "sleep") && runs_program(pid, "sleep"));
    *grandchild = g;
    char path[64], cg[1024] = "";
    snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)g);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(cg, 1, sizeof(cg) - 1, f);
    fclose(f);
    cg[n] = '\0';
    assert_non_null(strstr(cg, "/bp-web_1-")); /* '/' is not a cgroup name character */
    return pid;
}

/* Whatever a failed check left: killed, and the node's cgroup removed. */
static int teardown(void **state)
{
    (void)state;
    actuator_cgroup_stop();
    return 0;
}

static void test_blueprint_close_kills_and_removes(void **state)
{
    (void)state;
    int killed = -1;
    assert_true(start(&killed));
    assert_int_equal(killed, 0);
    int fd = cg_bp_open("web/1");
    assert_true(fd >= 0);
    pid_t g, pid = start_instance(fd, &g);
    cg_bp_close("web/1", fd); /* reaps pid, our child */
    assert_true(gone_within(pid, 10000));
    assert_true(gone_within(g, 10000));
    actuator_cgroup_stop();
    assert_false(dir_exists(node_dir));
}

static void test_leftovers_killed_on_restart(void **state)
{
    (void)state;
    int killed = -1;
    assert_true(start(&killed));
    int fd = cg_bp_open("web/1");
    assert_true(fd >= 0);
    pid_t g, pid = start_instance(fd, &g);
    close(fd); /* the run vanishes: nothing closed, nothing stopped */
    char first[1024];
    snprintf(first, sizeof(first), "%s", node_dir);
    assert_true(start(&killed));
    assert_string_equal(node_dir, first); /* same data_dir, same cgroup */
    assert_int_equal(killed, 2);          /* the instance and its grandchild */
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == 9);
    assert_true(gone_within(g, 10000));
    actuator_cgroup_stop();
    assert_false(dir_exists(first));
}

int main(void)
{
    snprintf(data_dir, sizeof(data_dir), "/tmp/aether-cgroup-XXXXXX");
    if (!mkdtemp(data_dir))
        return 1;
    int killed;
    if (!start(&killed)) {
        rmdir(data_dir);
        return 77;
    }
    actuator_cgroup_stop();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_blueprint_close_kills_and_removes, teardown),
        cmocka_unit_test_teardown(test_leftovers_killed_on_restart, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char marker[128];
    snprintf(marker, sizeof(marker), "%s/grandchild", data_dir);
    unlink(marker);
    rmdir(data_dir);
    return rc;
}
