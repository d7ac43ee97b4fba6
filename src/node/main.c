/* aether-node: the daemon. Loads aether.toml, opens the history, loads the TTM model (when
 * enabled), starts the HTTP API and runs the control loop until SIGTERM/SIGINT; SIGHUP reloads
 * the model (the new file is checked and warmed up before it replaces the running one).
 *
 *   aether-node                        run with aether.toml (in the working directory)
 *   aether-node --config FILE          run with FILE
 *   aether-node --check-config FILE    validate FILE and print the effective configuration
 *   aether-node --version              version, commit, feature schema and engine
 *   aether-node import-history FILE    backfill the history from a training-data CSV (import.h) */
#include "aether/actuator.h"
#include "aether/cfgload.h"
#include "aether/error.h"
#include "access.h"
#include "engine.h"
#include "aether/log.h"
#include "http.h"
#include "import.h"
#include "node.h"
#include "sources.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#ifndef AETHER_VERSION
#define AETHER_VERSION "unknown"
#endif
#ifndef AETHER_COMMIT
#define AETHER_COMMIT "unknown"
#endif

/* The configuration read when no --config is given (docs/config.md). */
#define DEFAULT_CONFIG "aether.toml"

/* Nice value of the API and reload threads; the control loop asks for NODE_LOOP_NICE (node.h). */
#define API_NICE 10

static void usage(FILE *to)
{
    fprintf(to, "usage: aether-node [--config FILE]   (default " DEFAULT_CONFIG ")\n"
                "       aether-node --check-config FILE\n"
                "       aether-node --version\n"
                "       aether-node import-history FILE [--config FILE] [--blueprint NAME]\n"
                "                                [--instances N] [--shift-to-now]\n");
}

static void *loop_thread(void *arg)
{
    node_run(arg);
    return NULL;
}

/* The command line: --config FILE, --check-config FILE, --version, --help; none of them runs
 * with DEFAULT_CONFIG. Returns -1 to go on (with *config or *check set), else the exit code. */
static int parse_args(int argc, char **argv, const char **config, const char **check)
{
    *config = *check = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            *config = argv[++i];
        else if (strcmp(argv[i], "--check-config") == 0 && i + 1 < argc)
            *check = argv[++i];
        else if (strcmp(argv[i], "--version") == 0) {
            printf("aether-node %s (commit %s, feature schema v%d, engine %s)\n", AETHER_VERSION,
                   AETHER_COMMIT, AE_SCHEMA_VERSION, engine_builtin_open() ? "linked" : "module");
            return 0;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "aether-node: unknown argument %s\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (!*config && !*check)
        *config = DEFAULT_CONFIG;
    return -1;
}

/* Builds the node from cfg (taken over): the API address checked first (before anything starts
 * instances), the history, collectors and actuators, the model. Returns the node, or NULL after
 * logging why. */
static struct node *start_node(struct ae_config *cfg)
{
    char err[2048];
    struct node *node = NULL;
    int rc = http_probe_bind(cfg->api.bind, err, sizeof err);
    if (rc == 0)
        rc = node_open(cfg, engine_builtin_open(), node_now_ms(), &node, err, sizeof err);
    if (rc == 0)
        rc = node_attach_sources(node, node_config(node), err, sizeof err);
    if (rc != 0) {
        nlog(NLOG_ERROR, "node", "startup failed: %s", err);
        node_free(node);
        cfg_free(cfg);
        return NULL;
    }
    if (node_config(node)->ttm.enabled)
        node_load_model(node, 0, err, sizeof err); /* failures are logged; reactive runs on */
    else
        nlog(NLOG_INFO, "ttm", "TTM is disabled (ttm.enabled = false): reactive tier only");
    return node;
}

/* Starts the control loop thread and then the API. 0, or 1 after logging why (the loop is
 * stopped again). */
static int start_threads(struct node *node, pthread_t *loop)
{
    if (pthread_create(loop, NULL, loop_thread, node) != 0) {
        nlog(NLOG_ERROR, "node", "cannot start the control loop thread");
        return 1;
    }
    /* The control loop raises its own priority (NODE_LOOP_NICE, when the process may); this
     * thread (signals, model reloads) and the HTTP server thread it creates run at a lower one
     * (on Linux the nice value is per thread and inherited by new threads), so a flood of API
     * requests cannot starve the scaling decisions. */
    if (setpriority(PRIO_PROCESS, 0, API_NICE) != 0)
        nlog(NLOG_WARN, "node", "cannot lower the API threads' priority: %s", strerror(errno));
    char err[2048];
    if (node_start_http(node, err, sizeof err) != 0) {
        nlog(NLOG_ERROR, "node", "startup failed: %s", err);
        node_request_stop(node);
        pthread_join(*loop, NULL);
        return 1;
    }
    const struct ae_config *running = node_config(node);
    nlog(NLOG_INFO, "node", "aether-node started: %d blueprint(s), API on %s (port %d), history %s",
         running->blueprint_count, running->api.bind, node_http_port(node),
         store_path(node_store(node)));
    return 0;
}

/* Waits for signals: SIGHUP reloads the model, SIGTERM/SIGINT return. */
static void serve_signals(struct node *node, const sigset_t *signals)
{
    char err[2048];
    for (;;) {
        int sig = 0;
        if (sigwait(signals, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            /* the same path as POST /api/ttm/reload: the load runs on its own thread, the
             * outcome shows in /api/ttm/status "reload" */
            nlog(NLOG_INFO, "ttm", "SIGHUP: reloading the model");
            if (node_reload_start(node, NODE_RELOAD_SIGHUP, err, sizeof err) != 0)
                nlog(NLOG_WARN, "ttm", "SIGHUP ignored: %s", err);
            continue;
        }
        nlog(NLOG_INFO, "node", "%s: shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        return;
    }
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "import-history") == 0)
        return import_main(argc - 1, argv + 1, DEFAULT_CONFIG, node_now_ms());
    const char *config, *check;
    int rc = parse_args(argc, argv, &config, &check);
    if (rc >= 0)
        return rc;
    char err[2048];
    if (check) {
        if (cfg_check_file(check, actuator_check_config, stdout, err, sizeof err) != 0) {
            fprintf(stderr, "aether-node: %s\n", err);
            return 1;
        }
        return 0;
    }
    struct ae_config cfg;
    if (cfg_load_file(config, actuator_check_config, &cfg, NULL, err, sizeof err) != 0) {
        fprintf(stderr, "aether-node: %s\n", err);
        return 1;
    }
    _Static_assert(NLOG_DEBUG == (int)CFG_LOG_DEBUG && NLOG_ERROR == (int)CFG_LOG_ERROR &&
                       NLOG_JSON == (int)CFG_LOG_JSON,
                   "log enums follow the config's order");
    nlog_setup((enum nlog_level)cfg.node.log_level, (enum nlog_format)cfg.node.log_format);
    access_warn_writable("config", config);
    engine_builtin_set_plan_limit((size_t)cfg.ttm.max_model_memory_mb << 20);

    /* Signals are taken synchronously by this thread (sigwait); every other thread inherits the
     * blocked mask, so no handler runs inside the control loop or the HTTP server. */
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct node *node = start_node(&cfg);
    if (!node)
        return 1;
    pthread_t loop;
    if (start_threads(node, &loop) != 0) {
        node_free(node);
        return 1;
    }
    serve_signals(node, &signals);
    node_request_stop(node);
    pthread_join(loop, NULL);
    node_free(node);
    nlog(NLOG_INFO, "node", "stopped");
    return 0;
}
