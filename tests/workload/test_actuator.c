/* Integration tests of the actuators with real child processes: the process supervisor runs
 * real aether-worker instances on loopback ports (start, readiness over HTTP, scale down,
 * restart after a crash, stop, no orphans when the parent is SIGKILLed); the exec actuator runs
 * a real command and reports its arguments, exit code and output. */
#include "aether/actuator.h"
#include "aether/error.h"
#include "helpers.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

/* A process blueprint of aether-worker instances on free ports. */
static void worker_blueprint(struct cfg_blueprint *bp, int max)
{
    cfg_blueprint_defaults(bp);
    snprintf(bp->name, sizeof(bp->name), "web");
    bp->max_instances = max;
    bp->port_base = free_port_block(bp->max_instances);
    bp->startup_timeout_ms = 10000;
    bp->stop_grace_ms = 2000;
    const char *argv[] = {AETHER_WORKER_BIN, "--port", "{port}", "--work-us", "200"};
    for (size_t i = 0; i < sizeof(argv) / sizeof(argv[0]); i++)
        assert_int_equal(cfg_strv_append(&bp->command, &bp->command_count, argv[i]), 0);
}

/* Waits up to ms for status field ready to equal want. */
static int wait_ready(struct actuator *a, int want, int ms)
{
    struct actuator_status st;
    for (int t = 0; t < ms; t += 50) {
        actuator_status(a, &st);
        if (st.ready == want && st.starting == 0)
            return 1;
        sleep_ms(50);
    }
    actuator_status(a, &st);
    print_error("ready %d starting %d failed %d error '%s'\n", st.ready, st.starting, st.failed,
                st.error);
    return 0;
}

static void process_scale_restart_stop(void **state)
{
    (void)state;
    struct cfg_blueprint bp;
    worker_blueprint(&bp, 3);
    char err[256];
    struct actuator *a = NULL;
    assert_int_equal(actuator_open(&bp, &a, err, sizeof(err)), 0);
    assert_non_null(a);
    assert_int_equal(actuator_set_desired(a, 2, err, sizeof(err)), 0);
    assert_true(wait_ready(a, 2, 15000));

    struct actuator_target t[4];
    assert_int_equal(actuator_targets(a, t, 4), 2);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/metrics", bp.port_base + 1);
    assert_string_equal(t[1].url, url);
    assert_int_equal(http_get(url), 200);
    pid_t second = t[1].pid, first = t[0].pid;
    assert_true(first > 0 && second > 0);

    /* Scale down: instance 1 gets SIGTERM and ends. */
    assert_int_equal(actuator_set_desired(a, 1, err, sizeof(err)), 0);
    assert_true(wait_ready(a, 1, 5000));
    for (int i = 0; i < 100 && !process_gone(second); i++)
        sleep_ms(50);
    assert_true(process_gone(second));

    /* A crash: instance 0 is SIGKILLed, comes back with a new pid. The error says why while it
     * is down (the back-off lasts at least 500 ms) and is cleared once it is ready again. */
    kill(first, SIGKILL);
    struct actuator_status st;
    int restarted = 0, error_seen = 0;
    for (int i = 0; i < 200 && !restarted; i++) {
        sleep_ms(50);
        actuator_status(a, &st);
        assert_int_equal(actuator_targets(a, t, 4), st.ready);
        error_seen |= strstr(st.error, "killed by signal 9") != NULL;
        restarted = st.ready == 1 && st.restarts >= 1 && t[0].pid != first;
    }
    assert_true(restarted);
    assert_true(error_seen);
    assert_string_equal(st.error, "");
    assert_non_null(strstr(st.last_failure, "killed by signal 9")); /* kept for the log */
    assert_true(st.failures_total >= 1);

    /* Out of range: clamped, reported. */
    assert_int_equal(actuator_set_desired(a, 7, err, sizeof(err)), AE_ERANGE);
    assert_non_null(strstr(err, "out of range 0..3"));
    assert_int_equal(actuator_set_desired(a, 1, err, sizeof(err)), 0);

    pid_t last = t[0].pid;
    actuator_close(a);
    assert_true(process_gone(last));
    cfg_blueprint_free(&bp);
}

static void process_bad_command_fails_with_reason(void **state)
{
    (void)state;
    struct cfg_blueprint bp;
    cfg_blueprint_defaults(&bp);
    snprintf(bp.name, sizeof(bp.name), "broken");
    bp.port_base = free_port();
    assert_int_equal(cfg_strv_append(&bp.command, &bp.command_count, "./no-such-program"), 0);
    char err[256];
    struct actuator *a = NULL;
    assert_int_equal(actuator_open(&bp, &a, err, sizeof(err)), 0);
    assert_non_null(a);
    actuator_set_desired(a, 1, err, sizeof(err));
    struct actuator_status st;
    for (int i = 0; i < 100; i++) {
        actuator_status(a, &st);
        if (st.failed)
            break;
        sleep_ms(20);
    }
    assert_int_equal(st.failed, 1);
    assert_int_equal(st.ready, 0);
    assert_non_null(strstr(st.error, "cannot execute ./no-such-program"));
    actuator_close(a);
    cfg_blueprint_free(&bp);
}

static void port_taken_by_another_program_is_not_ready(void **state)
{
    (void)state;
    struct cfg_blueprint bp;
    worker_blueprint(&bp, 1);
    char err[256];
    struct actuator *owner = NULL;
    assert_int_equal(actuator_open(&bp, &owner, err, sizeof(err)), 0);
    actuator_set_desired(owner, 1, err, sizeof(err));
    assert_true(wait_ready(owner, 1, 15000));
    /* A second supervisor on the same port: its worker cannot bind and exits, while the first
     * one's worker answers the probe. It must not count as ready. */
    struct actuator *second = NULL;
    assert_int_equal(actuator_open(&bp, &second, err, sizeof(err)), 0);
    actuator_set_desired(second, 1, err, sizeof(err));
    struct actuator_status st;
    int failed_seen = 0;
    for (int i = 0; i < 40; i++) {
        sleep_ms(50);
        actuator_status(second, &st);
        assert_int_equal(st.ready, 0);
        failed_seen |= strstr(st.error, "exited with status 1") != NULL;
    }
    assert_true(failed_seen);
    actuator_close(second);
    actuator_close(owner);
    cfg_blueprint_free(&bp);
}

static void no_orphans_when_parent_is_killed(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t parent = fork();
    assert_true(parent >= 0);
    if (parent == 0) { /* a stand-in node: supervises one worker, then waits to be killed */
        close(fds[0]);
        struct cfg_blueprint bp;
        worker_blueprint(&bp, 1);
        char err[256];
        struct actuator *a = NULL;
        assert_int_equal(actuator_open(&bp, &a, err, sizeof(err)), 0);
        actuator_set_desired(a, 1, err, sizeof(err));
        struct actuator_target t[1];
        for (int i = 0; i < 300 && actuator_targets(a, t, 1) < 1; i++)
            sleep_ms(50);
        pid_t w = actuator_targets(a, t, 1) == 1 ? t[0].pid : 0;
        if (write(fds[1], &w, sizeof(w)) != sizeof(w))
            _exit(1);
        for (;;)
            pause();
    }
    close(fds[1]);
    pid_t worker = 0;
    assert_int_equal(read(fds[0], &worker, sizeof(worker)), sizeof(worker));
    close(fds[0]);
    assert_true(worker > 0);
    assert_false(process_gone(worker));
    kill(parent, SIGKILL);
    waitpid(parent, NULL, 0);
    for (int i = 0; i < 100 && !process_gone(worker); i++)
        sleep_ms(20);
    assert_true(process_gone(worker));
}

/* Blueprint "api" of the exec actuator, up to 5 instances, no commands yet. */
static void exec_blueprint(struct cfg_blueprint *bp)
{
    cfg_blueprint_defaults(bp);
    snprintf(bp->name, sizeof(bp->name), "api");
    bp->actuator = CFG_ACTUATOR_EXEC;
    bp->max_instances = 5;
}

/* Replaces the file at path with text. */
static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void exec_runs_scale_command_with_arguments(void **state)
{
    (void)state;
    char log[] = "/tmp/aether-exec-test-XXXXXX";
    int fd = mkstemp(log);
    assert_true(fd >= 0);
    close(fd);
    struct cfg_blueprint bp;
    exec_blueprint(&bp);
    /* Logs its arguments; the first run for 4 instances fails with exit 3, later ones work. */
    char script[768];
    snprintf(script, sizeof(script),
             "echo \"$0 $1\" >> %s; echo scaled $0 to $1; "
             "test \"$1\" != 4 || test -e %s.failed-once || { touch %s.failed-once; exit 3; }",
             log, log, log);
    const char *argv[] = {"/bin/sh", "-c", script, "{blueprint}", "{instances}"};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(cfg_strv_append(&bp.scale_command, &bp.scale_command_count, argv[i]), 0);
    assert_int_equal(
        cfg_strv_append(&bp.metrics_urls, &bp.metrics_urls_count, "http://127.0.0.1:1/metrics"), 0);
    char err[256], result[512];
    struct actuator *a = NULL;
    assert_int_equal(actuator_open(&bp, &a, err, sizeof(err)), 0);
    assert_non_null(a);
    assert_int_equal(actuator_set_desired(a, 3, err, sizeof(err)), 0);
    struct actuator_status st;
    for (int i = 0; i < 200; i++) {
        actuator_status(a, &st);
        if (st.ready == 3 && !st.starting)
            break;
        sleep_ms(20);
    }
    assert_int_equal(st.ready, 3);
    assert_int_equal(st.failed, 0);
    actuator_last_result(a, result, sizeof(result));
    assert_string_equal(result, "exit 0: scaled api to 3");

    /* A failing run: ready stays at the last applied count; the error names the exit code. */
    actuator_set_desired(a, 4, err, sizeof(err));
    for (int i = 0; i < 200; i++) {
        actuator_status(a, &st);
        if (st.failed)
            break;
        sleep_ms(20);
    }
    assert_int_equal(st.failed, 1);
    assert_int_equal(st.ready, 3);
    assert_int_equal(st.requested, 4);
    assert_non_null(strstr(st.error, "exit 3"));

    /* The failed count is retried (after 1 s) without a new request, and then applied. */
    for (int i = 0; i < 300; i++) {
        actuator_status(a, &st);
        if (st.ready == 4)
            break;
        sleep_ms(20);
    }
    assert_int_equal(st.ready, 4);
    assert_int_equal(st.failed, 0);
    assert_string_equal(st.error, ""); /* recovered */
    actuator_last_result(a, result, sizeof(result));
    assert_string_equal(result, "exit 0: scaled api to 4");

    struct actuator_target t[2];
    assert_int_equal(actuator_targets(a, t, 2), 1);
    assert_string_equal(t[0].url, "http://127.0.0.1:1/metrics");
    assert_string_equal(actuator_kind_name(a), "exec");
    assert_string_equal(actuator_run_label(a), "scale_command");
    actuator_close(a);

    FILE *f = fopen(log, "r");
    assert_non_null(f);
    char line1[64] = "", line2[64] = "", line3[64] = "";
    assert_non_null(fgets(line1, sizeof(line1), f));
    assert_non_null(fgets(line2, sizeof(line2), f));
    assert_non_null(fgets(line3, sizeof(line3), f));
    assert_null(fgets(line3 + 10, 10, f)); /* exactly three runs */
    fclose(f);
    char marker[sizeof(log) + 16];
    snprintf(marker, sizeof(marker), "%s.failed-once", log);
    unlink(marker);
    unlink(log);
    assert_string_equal(line1, "api 3\n");
    assert_string_equal(line2, "api 4\n");
    assert_string_equal(line3, "api 4\n");
    cfg_blueprint_free(&bp);
}

/* Polls until st.ready == ready and st.starting == starting (or 7 s pass). */
static void wait_status(struct actuator *a, int ready, int starting, struct actuator_status *st)
{
    for (int i = 0; i < 350; i++) {
        actuator_status(a, st);
        if (st->ready == ready && st->starting == starting)
            return;
        sleep_ms(20);
    }
}

static void exec_status_command_gives_ready(void **state)
{
    (void)state;
    char dir[] = "/tmp/aether-exec-status-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char answer[64], log[64], cmd[256];
    snprintf(answer, sizeof(answer), "%s/answer", dir);
    snprintf(log, sizeof(log), "%s/log", dir);
    write_text(answer, "1 3\n"); /* the orchestrator already runs something */
    struct cfg_blueprint bp;
    exec_blueprint(&bp);
    snprintf(cmd, sizeof(cmd), "echo \"$1\" >> %s", log);
    const char *scale[] = {"/bin/sh", "-c", cmd, "{blueprint}", "{instances}"};
    const char *status[] = {"/bin/cat", answer};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(cfg_strv_append(&bp.scale_command, &bp.scale_command_count, scale[i]), 0);
    for (size_t i = 0; i < 2; i++)
        assert_int_equal(cfg_strv_append(&bp.status_command, &bp.status_command_count, status[i]),
                         0);
    char err[256];
    struct actuator *a = NULL;
    assert_int_equal(actuator_open(&bp, &a, err, sizeof(err)), 0);
    assert_non_null(a);
    struct actuator_status st;
    /* Before the node asks for a count: what the orchestrator says, and no scale run. */
    wait_status(a, 1, 1, &st);
    assert_int_equal(st.ready, 1);
    assert_int_equal(st.starting, 1);
    assert_int_equal(access(log, F_OK), -1);
    /* Asked for 2: scale_command runs, ready stays what the orchestrator says. */
    write_text(answer, "1 2\n");
    assert_int_equal(actuator_set_desired(a, 2, err, sizeof(err)), 0);
    for (int i = 0; i < 200 && access(log, F_OK) != 0; i++)
        sleep_ms(20);
    assert_int_equal(access(log, F_OK), 0);
    wait_status(a, 1, 1, &st);
    assert_int_equal(st.ready, 1);
    assert_int_equal(st.requested, 2);
    /* The second instance becomes ready: seen at the next status run (every 5 s). */
    write_text(answer, "2 2\n");
    wait_status(a, 2, 0, &st);
    assert_int_equal(st.ready, 2);
    assert_int_equal(st.starting, 0);
    assert_string_equal(st.error, "");
    /* Bad output: an error naming the blueprint and the output; ready keeps the last answer. */
    write_text(answer, "two\n");
    for (int i = 0; i < 350 && !st.failed; i++) {
        sleep_ms(20);
        actuator_status(a, &st);
    }
    assert_int_equal(st.failed, 1);
    assert_int_equal(st.ready, 2);
    assert_string_equal(st.error, "blueprint api status_command printed \"two\": expected one "
                                  "line \"READY REQUESTED\" (value 1 is not a whole number "
                                  "0..1000000)");
    actuator_close(a);
    FILE *f = fopen(log, "r");
    char line[16] = "";
    assert_non_null(fgets(line, sizeof(line), f));
    assert_string_equal(line, "2\n");
    assert_null(fgets(line, sizeof(line), f)); /* one run: the count never drifted */
    fclose(f);
    unlink(answer);
    unlink(log);
    rmdir(dir);
    cfg_blueprint_free(&bp);
}

static void exec_close_does_not_wait_for_a_slow_command(void **state)
{
    (void)state;
    struct cfg_blueprint bp;
    cfg_blueprint_defaults(&bp);
    snprintf(bp.name, sizeof(bp.name), "slow");
    bp.actuator = CFG_ACTUATOR_EXEC;
    const char *argv[] = {"/bin/sh", "-c", "sleep 20"};
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(cfg_strv_append(&bp.scale_command, &bp.scale_command_count, argv[i]), 0);
    char err[256];
    struct actuator *a = NULL;
    assert_int_equal(actuator_open(&bp, &a, err, sizeof(err)), 0);
    assert_non_null(a);
    actuator_set_desired(a, 2, err, sizeof(err));
    struct actuator_status st;
    sleep_ms(300);
    actuator_status(a, &st); /* a run is in progress: never blocks the caller */
    assert_int_equal(st.starting, 1);
    assert_int_equal(st.ready, 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    actuator_close(a);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(took < 5.0);
    cfg_blueprint_free(&bp);
}

/* A scale_command that cannot start: the run's outcome says so once (the node puts the kind's
 * run label in front: "scale_command not started: ..."). */
static void exec_command_not_started(void **state)
{
    (void)state;
    struct cfg_blueprint bp;
    cfg_blueprint_defaults(&bp);
    snprintf(bp.name, sizeof(bp.name), "api");
    bp.actuator = CFG_ACTUATOR_EXEC;
    assert_int_equal(
        cfg_strv_append(&bp.scale_command, &bp.scale_command_count, "/nonexistent/aether-scale"),
        0);
    char err[256], result[512] = "";
    struct actuator *a = NULL;
    assert_int_equal(actuator_open(&bp, &a, err, sizeof(err)), 0);
    assert_non_null(a);
    actuator_set_desired(a, 2, err, sizeof(err));
    struct actuator_status st;
    for (int i = 0; i < 200; i++) {
        actuator_status(a, &st);
        if (st.runs > 0)
            break;
        sleep_ms(20);
    }
    assert_int_equal(st.runs, 1);
    assert_int_equal(st.failed, 1);
    actuator_last_result(a, result, sizeof(result));
    assert_true(strncmp(result, "not started: ", 13) == 0 || strncmp(result, "exit ", 5) == 0);
    assert_null(strstr(result, "scale_command"));
    actuator_close(a);
    cfg_blueprint_free(&bp);
}

struct gate_calls {
    int allow, calls, last_count;
    char blueprint[64];
};

static int test_gate(void *ctx, const char *blueprint, int count, char *why, size_t whylen)
{
    struct gate_calls *g = ctx;
    g->calls++;
    g->last_count = count;
    snprintf(g->blueprint, sizeof(g->blueprint), "%s", blueprint);
    snprintf(why, whylen, "gate closed for %d", count);
    return g->allow;
}

/* Waits until the exec actuator has finished `runs` runs; returns its status. */
static struct actuator_status wait_runs(struct actuator *a, int runs)
{
    struct actuator_status st;
    for (int i = 0; i < 200; i++) {
        actuator_status(a, &st);
        if (st.runs >= runs && !st.starting)
            break;
        sleep_ms(20);
    }
    return st;
}

/* A gate checked right before each run: refused, the command does not run, the run is recorded
 * as "not run: <why>" and not retried; allowed, it runs. */
static void exec_gate_refuses_and_allows(void **state)
{
    (void)state;
    char log[] = "/tmp/aether-exec-gate-XXXXXX";
    int fd = mkstemp(log);
    assert_true(fd >= 0);
    close(fd);
    char script[256];
    snprintf(script, sizeof(script), "echo \"$0\" >> %s", log);
    const char *argv[] = {"/bin/sh", "-c", script, "{instances}"};
    struct cfg_blueprint bp;
    exec_blueprint(&bp);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(cfg_strv_append(&bp.scale_command, &bp.scale_command_count, argv[i]), 0);
    char err[256], result[512];
    struct actuator *a = NULL;
    assert_int_equal(actuator_open(&bp, &a, err, sizeof(err)), 0);
    assert_non_null(a);
    struct gate_calls g = {.allow = 0};
    actuator_set_gate(a, test_gate, &g);
    actuator_set_desired(a, 2, err, sizeof(err));
    struct actuator_status st = wait_runs(a, 1);
    assert_int_equal(st.runs, 1);
    assert_int_equal(st.run_count, 2);
    assert_int_equal(st.ready, 0); /* not applied */
    assert_int_equal(st.failed, 0);
    actuator_last_result(a, result, sizeof(result));
    assert_string_equal(result, "not run: gate closed for 2");
    assert_string_equal(g.blueprint, "api");
    sleep_ms(1500); /* past the first retry delay of a failed run: none */
    actuator_status(a, &st);
    assert_int_equal(st.runs, 1);
    assert_int_equal(g.calls, 1);

    g.allow = 1;
    actuator_set_desired(a, 3, err, sizeof(err));
    st = wait_runs(a, 2);
    assert_int_equal(st.ready, 3);
    assert_int_equal(g.calls, 2);
    assert_int_equal(g.last_count, 3);
    actuator_close(a);
    FILE *f = fopen(log, "r");
    assert_non_null(f);
    char line[64] = "", more[64];
    assert_non_null(fgets(line, sizeof(line), f));
    assert_null(fgets(more, sizeof(more), f)); /* only the allowed run ran */
    fclose(f);
    unlink(log);
    assert_string_equal(line, "3\n");
    cfg_blueprint_free(&bp);
}

/* actuator_open refuses what the kind's config check refuses, with the same message. */
static void process_kind_checks_its_keys(void **state)
{
    (void)state;
    struct cfg_blueprint bp;
    cfg_blueprint_defaults(&bp);
    snprintf(bp.name, sizeof(bp.name), "web");
    char err[256];
    struct actuator *refused = NULL;
    assert_int_equal(actuator_open(&bp, &refused, err, sizeof(err)), AE_EINVAL);
    assert_null(refused);
    assert_string_equal(err, "blueprint.web.command must not be empty for actuator \"process\"");
    bp.actuator = CFG_ACTUATOR_EXEC;
    assert_int_equal(actuator_open(&bp, &refused, err, sizeof(err)), AE_EINVAL);
    assert_null(refused);
    assert_string_equal(err, "blueprint.web.scale_command must not be empty for actuator \"exec\"");
    cfg_blueprint_free(&bp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(process_scale_restart_stop),
        cmocka_unit_test(process_bad_command_fails_with_reason),
        cmocka_unit_test(port_taken_by_another_program_is_not_ready),
        cmocka_unit_test(no_orphans_when_parent_is_killed),
        cmocka_unit_test(exec_runs_scale_command_with_arguments),
        cmocka_unit_test(exec_status_command_gives_ready),
        cmocka_unit_test(exec_close_does_not_wait_for_a_slow_command),
        cmocka_unit_test(exec_command_not_started),
        cmocka_unit_test(exec_gate_refuses_and_allows),
        cmocka_unit_test(process_kind_checks_its_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
