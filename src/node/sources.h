/* The node's seam to metric collectors and actuators.
 *
 * Collectors fill the features they know into a blueprint's snapshot for the second that just
 * ended; the node runs them from the lowest source precedence to the highest (host, process,
 * scrape, query), then applies pushed values (POST /api/metrics/{blueprint}), so that when several
 * know a feature, push > query > scrape > process > host. Actuators take the desired instance count
 * and report what is running; both calls must return at once (work happens in the background).
 *
 * The daemon asks node_attach_sources() (sources.c) to attach what this build provides. A
 * blueprint without an actuator is reported as "unavailable": its requested count is what the
 * node would ask for, and nothing runs (ready stays 0). */
#ifndef AETHER_NODE_SOURCES_H
#define AETHER_NODE_SOURCES_H

#include <stddef.h>
#include <stdint.h>

#include "aether/config.h"
#include "aether/snapshot.h"

enum node_source {
    NODE_SRC_HOST = 0,
    NODE_SRC_PROCESS,
    NODE_SRC_SCRAPE,
    NODE_SRC_QUERY, /* PromQL against the blueprint's Prometheus */
    NODE_SRC_PUSH
};

struct node_collector {
    const char *name;        /* for logs, static storage */
    enum node_source source; /* precedence */
    void *state;
    /* Writes what it knows of blueprint bp (index into the config's blueprints) for the second
     * starting at snap->timestamp_ms into snap (ae_snapshot_set; may also set the histogram).
     * Called on the control loop: must not block. */
    void (*collect)(void *state, int bp, struct ae_snapshot *snap);
    void (*close)(void *state); /* may be NULL */
};

struct node_actuator_status {
    int requested;
    int starting;
    int ready;
    int failed;
    char error[256]; /* last failure, "" if none */
    /* Runs of an actuator that reports each one (exec): how many have finished, the count the
     * last one asked for, and its outcome for the decision log ("" when none). The node copies
     * the outcome into the result of the decision that asked for that count. */
    int runs;
    int run_count;
    char run_result[512];
};

struct node_actuator {
    const char *kind; /* "process" | "exec" */
    void *state;
    /* Asks for n instances of blueprint bp; returns at once. 0, or a negative AE_E* code with a
     * message in err (the decision log records it as the result). */
    int (*set_desired)(void *state, int bp, int n, char *err, size_t errlen);
    /* What is running now. */
    void (*status)(void *state, int bp, struct node_actuator_status *out);
    void (*close)(void *state); /* stops what it started; may be NULL */
};

struct node;

/* Adds a collector (copied; the node calls its close at node_free). Collectors run in precedence
 * order whatever the order they are added in (in the order added among equal sources). Returns 0
 * or AE_ENOMEM. */
int node_add_collector(struct node *n, const struct node_collector *c);
/* Sets the actuator of blueprint bp (copied); the node closes it at shutdown. 0 or AE_EINVAL. */
int node_set_actuator(struct node *n, int bp, const struct node_actuator *a);

/* Attaches every collector and actuator this build provides for the node's config. Returns 0,
 * or a negative AE_E* code with a message (a startup error). Defined in sources.c. */
int node_attach_sources(struct node *n, const struct ae_config *cfg, char *err, size_t errlen);

#endif
