/* Real etcd servers for the cluster tests (see etcd_fixture.h). Each member is a child process
 * whose output goes to <root>/<name>.log, kept for a failing test's diagnosis until stop. */
#include "etcd_fixture.h"

#include "helpers.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

const char *etcdfx_binary(void)
{
    static char found[1024];
    const char *env = getenv("AETHER_ETCD");
    if (env && *env)
        return access(env, X_OK) == 0 ? env : NULL;
    const char *path = getenv("PATH");
    char dirs[4096];
    snprintf(dirs, sizeof(dirs), "%s:/usr/bin:/usr/local/bin", path ? path : "");
    for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        snprintf(found, sizeof(found), "%s/etcd", d);
        if (access(found, X_OK) == 0)
            return found;
    }
    return NULL;
}

static int launch(struct etcdfx *fx, int i)
{
    struct etcdfx_member *m = &fx->m[i];
    char name[16], data[320], log[320], listen_peer[64];
    snprintf(name, sizeof(name), "m%d", i);
    snprintf(data, sizeof(data), "%s/%s", fx->root, name);
    snprintf(log, sizeof(log), "%s/%s.log", fx->root, name);
    snprintf(listen_peer, sizeof(listen_peer), "http://127.0.0.1:%d", m->peer_port);
    const char *bin = etcdfx_binary();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        FILE *f = freopen(log, "a", stdout);
        if (f)
            dup2(fileno(f), 2);
        execl(bin, bin, "--name", name, "--data-dir", data, "--listen-client-urls", m->client_url,
              "--advertise-client-urls", m->client_url, "--listen-peer-urls", listen_peer,
              "--initial-advertise-peer-urls", listen_peer, "--initial-cluster",
              fx->initial_cluster, "--initial-cluster-state", "new", "--initial-cluster-token",
              "aether-test", (char *)NULL);
        _exit(127);
    }
    m->pid = pid;
    return 0;
}

/* Waits until member i answers /health with 200 (its cluster has a leader). */
static int wait_healthy(struct etcdfx *fx, int i, int timeout_ms)
{
    char url[96];
    snprintf(url, sizeof(url), "%s/health", fx->m[i].client_url);
    for (int waited = 0; waited < timeout_ms; waited += 100) {
        if (http_get(url) == 200)
            return 0;
        if (process_gone(fx->m[i].pid)) {
            fprintf(stderr, "etcd member %d exited; see %s/m%d.log\n", i, fx->root, i);
            return -1;
        }
        sleep_ms(100);
    }
    fprintf(stderr, "etcd member %d not healthy after %d ms; see %s/m%d.log\n", i, timeout_ms,
            fx->root, i);
    return -1;
}

int etcdfx_start(struct etcdfx *fx, int n)
{
    memset(fx, 0, sizeof(*fx));
    if (!etcdfx_binary() || n < 1 || n > ETCDFX_MEMBERS_MAX)
        return -1;
    snprintf(fx->root, sizeof(fx->root), "%s/aether-etcd-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(fx->root))
        return -1;
    int base = free_port_block(2 * n);
    if (base < 0)
        return -1;
    fx->n = n;
    size_t used = 0;
    for (int i = 0; i < n; i++) {
        struct etcdfx_member *m = &fx->m[i];
        m->client_port = base + 2 * i;
        m->peer_port = base + 2 * i + 1;
        snprintf(m->client_url, sizeof(m->client_url), "http://127.0.0.1:%d", m->client_port);
        fx->urls[i] = m->client_url;
        used += (size_t)snprintf(fx->initial_cluster + used, sizeof(fx->initial_cluster) - used,
                                 "%sm%d=http://127.0.0.1:%d", i ? "," : "", i, m->peer_port);
    }
    for (int i = 0; i < n; i++)
        if (launch(fx, i) != 0)
            return -1;
    for (int i = 0; i < n; i++)
        if (wait_healthy(fx, i, 20000) != 0)
            return -1;
    return 0;
}

int etcdfx_restart(struct etcdfx *fx, int i)
{
    if (fx->m[i].pid)
        etcdfx_signal(fx, i, SIGKILL);
    if (launch(fx, i) != 0)
        return -1;
    return wait_healthy(fx, i, 20000);
}

void etcdfx_signal(struct etcdfx *fx, int i, int sig)
{
    pid_t pid = fx->m[i].pid;
    if (!pid)
        return;
    kill(pid, sig);
    if (sig == SIGKILL || sig == SIGTERM) {
        waitpid(pid, NULL, 0);
        fx->m[i].pid = 0;
    }
}

static void remove_tree(const char *root)
{
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/rm", "rm", "-rf", root, (char *)NULL);
        _exit(127);
    }
    if (pid > 0)
        waitpid(pid, NULL, 0);
}

void etcdfx_stop(struct etcdfx *fx)
{
    for (int i = 0; i < fx->n; i++) {
        if (fx->m[i].pid)
            kill(fx->m[i].pid, SIGCONT);
        etcdfx_signal(fx, i, SIGKILL);
    }
    if (fx->root[0])
        remove_tree(fx->root);
    fx->root[0] = '\0';
}
