/* A cluster member in a process of its own, for the tests that pause one with SIGSTOP.
 *
 *   member_child <name> <lease_ttl_ms> <actions file> <status file> <etcd endpoint>...
 *
 * Every 50 ms it writes its status (reason and leader, one line) to the status file (through
 * a rename, so a reader never sees half a line) and, like an exec actuator guarded by fencing,
 * appends "<name> <ms>" to the actions file when cluster_still_leader() says it leads, where
 * <ms> is the wall-clock time read just before the check. Runs until SIGTERM. */
#include "aether/cluster.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t done;

static void on_term(int sig)
{
    (void)sig;
    done = 1;
}

static long long wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: member_child name ttl_ms actions status endpoint...\n");
        return 2;
    }
    signal(SIGTERM, on_term);
    signal(SIGPIPE, SIG_IGN);
    struct cluster_options o = {.etcd_endpoints = (const char *const *)(argv + 5),
                                .endpoint_count = argc - 5,
                                .name = argv[1],
                                .prefix = "/aether-test/",
                                .lease_ttl_ms = atoi(argv[2])};
    struct cluster *c;
    char err[1024];
    if (cluster_start(&o, &c, err, sizeof(err)) != 0) {
        fprintf(stderr, "member_child: %s\n", err);
        return 1;
    }
    char tmp[1100];
    snprintf(tmp, sizeof(tmp), "%s.tmp", argv[4]);
    while (!done) {
        long long t = wall_ms();
        char why[1024];
        if (cluster_still_leader(c, why, sizeof(why))) {
            FILE *f = fopen(argv[3], "a");
            if (f) {
                fprintf(f, "%s %lld\n", argv[1], t);
                fclose(f);
            }
        }
        struct cluster_status st;
        cluster_status(c, &st);
        FILE *f = fopen(tmp, "w");
        if (f) {
            fprintf(f, "%d %s|%s\n", st.leader, cluster_reason_text(st.reason), st.why);
            fclose(f);
            rename(tmp, argv[4]);
        }
        struct timespec ts = {0, 50 * 1000000};
        nanosleep(&ts, NULL);
    }
    cluster_stop(c);
    return 0;
}
