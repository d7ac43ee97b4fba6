/* Descendants of an instance: the /proc stat parser, and a real process tree (a shell whose
 * child left the group with setsid()) found, signalled and reaped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "kin.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void test_parse_stat(void **state)
{
    (void)state;
    pid_t ppid = 0;
    unsigned long long start = 0;
    const char *odd = "4242 (a) b) c) Z 1 4242 4242 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 123456 0";
    assert_int_equal(kin_parse_stat(odd, &ppid, &start), 1);
    assert_int_equal(ppid, 1);
    assert_true(start == 123456ULL);
    const char *run = "7 (sleep) S 6 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99 0";
    assert_int_equal(kin_parse_stat(run, &ppid, &start), 0);
    assert_int_equal(ppid, 6);
    assert_int_equal(kin_parse_stat("1 (x)", &ppid, &start), -1);
    assert_int_equal(kin_parse_stat("no parenthesis", &ppid, &start), -1);
}

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_setsid_grandchild_found_and_stopped(void **state)
{
    (void)state;
    kin_become_subreaper();
    pid_t sh = fork();
    assert_true(sh >= 0);
    if (sh == 0) {
        setpgid(0, 0);
        execl("/bin/sh", "sh", "-c", "setsid sleep 300 & wait", (char *)NULL);
        _exit(127);
    }
    struct kin k = {0};
    for (int i = 0; i < 100 && k.n == 0; i++) {
        nap_ms(20);
        kin_collect(&k, sh);
    }
    assert_int_equal(k.n, 1);
    pid_t grandchild = k.p[0].pid;
    assert_int_equal(getsid(grandchild), grandchild); /* left the shell's group and session */
    kill(-sh, SIGKILL); /* the group signal alone misses the grandchild */
    waitpid(sh, NULL, 0);
    nap_ms(50);
    assert_int_equal(kin_reap(&k), 1); /* still running, now re-parented to this process */
    kin_signal(&k, SIGKILL);
    int left = 1;
    for (int i = 0; i < 100 && left; i++) {
        nap_ms(20);
        left = kin_reap(&k);
    }
    assert_int_equal(left, 0);
    assert_int_equal(waitpid(grandchild, NULL, WNOHANG), -1); /* reaped by kin_reap */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_stat),
        cmocka_unit_test(test_setsid_grandchild_found_and_stopped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
