/* The history's writer thread: the control loop queues minutes, decisions, results, forecasts
 * and prunes here and never waits on SQLite. The writer applies them in order, each its own
 * transaction; a write that fails for a reason that may pass (busy, locked, disk full, I/O error)
 * stays at the head of the queue and is retried with a back-off (SWRITER_RETRY_MIN_MS doubling to
 * SWRITER_RETRY_MAX_MS), so nothing is lost while the queue has room; a write that can never
 * succeed is dropped with an ERROR line. A full queue refuses new writes (counted as dropped).
 * Failures are logged when they start, at most once a minute while they last, and when writes
 * succeed again. */
#ifndef AETHER_NODE_SWRITER_H
#define AETHER_NODE_SWRITER_H

#include <stdint.h>

#include "store.h"

#define SWRITER_RETRY_MIN_MS 100
#define SWRITER_RETRY_MAX_MS 5000
#define SWRITER_PRUNE_MAX_ROWS 20000  /* per table and prune */
#define SWRITER_PRUNE_WARN_SHARE 0.10 /* a prune deleting more of a table than this logs a WARN */

struct swriter;

/* The kinds of write, in the order of swriter_stats.dropped_kind. */
enum swriter_kind {
    SWRITER_MINUTE,
    SWRITER_DECISION,
    SWRITER_RESULT,
    SWRITER_FORECAST,
    SWRITER_PRUNE,
    SWRITER_KINDS
};
/* "minute", "decision", "result", "forecast", "prune" (the metric's kind label). */
extern const char *const swriter_kind_names[SWRITER_KINDS];

struct swriter_stats {
    long depth;   /* writes waiting */
    long written; /* writes done */
    long errors;  /* failed attempts (each retry counts) */
    long dropped; /* writes lost: the queue was full or the write could never succeed */
    long dropped_kind[SWRITER_KINDS]; /* the same, by kind */
};

/* Starts the writer on store s (borrowed; only the writer uses it from now on) with room for
 * capacity queued writes. Returns 0 and *out, or a negative AE_E* code with a message. */
int swriter_start(struct store *s, long capacity, struct swriter **out, char *err, size_t errlen);

/* Queue one write (the arguments are copied). Return 0, or AE_ENOMEM when the queue is full or
 * memory is short (the write is dropped, counted by kind and logged with its kind, blueprint and
 * time: every dropped write has an ERROR line). */
int swriter_put_minute(struct swriter *w, const char *bp, const struct ae_minute *m);
int swriter_put_decision(struct swriter *w, const struct store_decision *d);
int swriter_set_result(struct swriter *w, int64_t id, const char *result);
int swriter_put_forecast(struct swriter *w, const char *bp, int64_t made_ms,
                         int64_t first_minute_ms, int horizon, const float *values,
                         double confidence);
int swriter_prune(struct swriter *w, int64_t now_ms);

void swriter_get_stats(struct swriter *w, struct swriter_stats *out);

/* Waits until every write queued before this call is done (or given up), at most timeout_ms.
 * 0, or AE_ETIMEOUT when some of them are still queued. */
int swriter_flush(struct swriter *w, int64_t timeout_ms);

/* Stops the writer: what is queued is written first, trying for at most drain_ms; what is still
 * queued then is logged as lost. Frees w (the store stays open). NULL is ignored. */
void swriter_stop(struct swriter *w, int64_t drain_ms);

#endif
