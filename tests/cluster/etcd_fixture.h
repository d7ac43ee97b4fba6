/* Test fixture: real etcd servers (Debian's etcd-server) started and stopped by a test, on free
 * loopback ports with a temporary data directory, alone or as a 3-member cluster. */
#ifndef AETHER_TESTS_CLUSTER_ETCD_FIXTURE_H
#define AETHER_TESTS_CLUSTER_ETCD_FIXTURE_H

#include <sys/types.h>

#define ETCDFX_MEMBERS_MAX 3

struct etcdfx_member {
    pid_t pid; /* 0 = not running */
    int client_port, peer_port;
    char client_url[64];
};

struct etcdfx {
    int n;
    char root[256]; /* temporary directory: data dirs and logs */
    char initial_cluster[512];
    struct etcdfx_member m[ETCDFX_MEMBERS_MAX];
    const char *urls[ETCDFX_MEMBERS_MAX]; /* client URLs, for cluster_options */
};

/* The etcd binary ($AETHER_ETCD, else etcd on PATH), or NULL when there is none. */
const char *etcdfx_binary(void);

/* Starts an n-member etcd cluster and waits until every member reports healthy (at most 20 s).
 * Returns 0, or -1 with the reason printed. */
int etcdfx_start(struct etcdfx *fx, int n);

/* Starts member i again on its old ports and data, waits until it is healthy. 0 or -1. */
int etcdfx_restart(struct etcdfx *fx, int i);

/* Sends sig to member i; SIGKILL and SIGTERM also wait for it to exit. */
void etcdfx_signal(struct etcdfx *fx, int i, int sig);

/* Stops every member and deletes the temporary directory. */
void etcdfx_stop(struct etcdfx *fx);

#endif
