/* Collectors: how a blueprint's 1-second snapshot gets its features from real workloads.
 *
 * The node calls the fill functions once per second per blueprint, on its control loop, from the
 * lowest source precedence to the highest (host < process < scrape < push); each writes the
 * features it knows with ae_snapshot_set and leaves the rest untouched (missing). None blocks:
 *   host     /proc/stat and /proc/meminfo, read at call time: cpu_usage = busy share of all
 *            host CPUs, heap_usage = used share of host memory (only for blueprints
 *            with host_metrics = true, see docs/workloads.md);
 *   process  /proc/<pid>/stat and /statm of each ready instance the process actuator runs, read
 *            at call time: cpu_usage = mean over instances of CPU seconds per second /
 *            cpu_limit_cores, heap_usage = mean of RSS / memory_limit_bytes;
 *   scrape   a thread per blueprint fetches every target's metrics page each second (the
 *            module's http(s):// GET client, all targets in parallel, one timeout per round, a
 *            body size cap, Accept negotiating OpenMetrics 1.0 / text
 *            0.0.4, parser chosen by Content-Type) and the fill copies its latest result:
 *            invocations and event_count (request counter delta per second, counter resets
 *            handled), error_rate, latency_ms and p50/p95/p99 from the histogram delta (also
 *            copied into the snapshot), gc_pause_ms from the configured counter, and cpu/heap
 *            from process_cpu_seconds_total / process_resident_memory_bytes when exported.
 * Whatever fails (no target, refused, timeout, HTTP error, garbage, a body over the cap, a metric
 * the page lacks) leaves the feature missing and is described by collector_reason(). */
#ifndef AETHER_COLLECTOR_H
#define AETHER_COLLECTOR_H

#include <stddef.h>
#include <sys/types.h>

#include "aether/actuator.h"
#include "aether/config.h"
#include "aether/snapshot.h"

struct collector_options {
    int interval_ms;       /* scrape period, 1000 */
    int timeout_ms;        /* per scrape, 800 */
    size_t max_body_bytes; /* larger pages are rejected, 1 MiB */
};

/* The defaults above. */
void collector_default_options(struct collector_options *out);

struct collector;

/* Creates the collector of a blueprint (bp is copied: metric names, limits, name) in *out and
 * starts its scrape thread. opt may be NULL (defaults). Returns 0, or AE_ENOMEM / AE_EIO (the
 * thread cannot start) with a message in err and *out set to NULL. Free with collector_close. */
int collector_open(const struct cfg_blueprint *bp, const struct collector_options *opt,
                   struct collector **out, char *err, size_t errlen);

/* Most targets one collector scrapes (instances of a blueprint or metrics_urls); more are
 * ignored. */
#define COLLECTOR_MAX_TARGETS 256

/* Replaces the scrape/process targets (copied): the ready instances of the actuator, or the
 * blueprint's metrics_urls (at most COLLECTOR_MAX_TARGETS). Cheap; call it every second with
 * actuator_targets' result. */
void collector_set_targets(struct collector *c, const struct actuator_target *t, int n);

/* Process source: cpu_usage and heap_usage of the targets that have a pid, from /proc. */
void collector_fill_process(struct collector *c, struct ae_snapshot *snap);

/* Scrape source: the latest scrape's features (see above), or nothing when it is older than
 * three intervals. */
void collector_fill_scrape(struct collector *c, struct ae_snapshot *snap);

/* Why features are missing after the last scrape ("" when every target answered with every
 * configured metric), e.g. "http://127.0.0.1:9101/metrics: timed out after 800 ms". Returns
 * the length written. */
size_t collector_reason(struct collector *c, char *buf, size_t len);

/* Stops the scrape thread and frees c (NULL allowed). */
void collector_close(struct collector *c);

/* ---- host ---- */

struct host_collector;

/* Reads /proc once to have a baseline, in *out (caller frees with host_collector_close). 0, or
 * AE_ENOMEM with a message and *out NULL. */
int host_collector_open(struct host_collector **out, char *err, size_t errlen);
/* cpu_usage and heap_usage of the whole host since the previous call (heap only on the first).
 */
void host_collector_fill(struct host_collector *h, struct ae_snapshot *snap);
void host_collector_close(struct host_collector *h);

/* ---- /proc readers (also used by tests) ---- */

/* CPU seconds (user + system) and resident bytes of process pid. 0, or AE_ENOENT when the
 * process is gone, AE_EPARSE when /proc could not be read. */
int proc_process_usage(pid_t pid, double *cpu_seconds, double *rss_bytes);

#endif
