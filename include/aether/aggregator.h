/* Minute aggregator, one per blueprint: folds 1-second snapshots into minute aggregates, keeps the
 * last 120 closed minutes, and builds the model input [W x 11] by the one "model input from the
 * history" rule (which is also exported on its own, for the simulator and the training export).
 *
 * Folding (per FeatureIndex v1): ratios and latencies are means, latency_ms is weighted by the
 * second's invocations, counts are summed, error_rate is errors / requests over the minute,
 * p50/p95/p99 come from the merged histogram deltas when every snapshot with a histogram used the
 * same bucket bounds, else the mean of the per-second values. A minute closes when a snapshot of a
 * later minute arrives, when agg_tick() sees its end pass, or on agg_close(). A closed minute with
 * fewer than 30 snapshots is dropped (a gap, never zeros); a sum needs 30 samples of its feature
 * and is scaled to 60 (sum x 60 / samples, flagged estimated) when it has fewer than 60. */
#ifndef AETHER_AGGREGATOR_H
#define AETHER_AGGREGATOR_H

#include <stddef.h>
#include <stdint.h>

#include "aether/snapshot.h"

#define AGG_HISTORY_MINUTES 120
#define AGG_MIN_SAMPLES 30 /* snapshots a minute needs to be kept */
#define AGG_MAX_WINDOW 120

typedef struct agg agg;

/* A new, empty aggregator in *out: 0, or AE_EINVAL (out is NULL) / AE_ENOMEM with a message in err
 * (may be NULL) and *out set to NULL. Caller frees with agg_free(). All memory is allocated here:
 * adding, closing and reading never allocate. */
int agg_open(agg **out, char *err, size_t errlen);
void agg_free(agg *a);

/* Folds one snapshot. If it belongs to a later minute than the open one, the open minute closes
 * first. Returns 1 when a minute closed and was kept (copied to *closed when closed != NULL),
 * 0 when none was, AE_ERANGE when the snapshot is older than the open minute or not newer than
 * the newest closed one (dropped: history is never rewritten), AE_EINVAL for a NULL argument. */
int agg_add(agg *a, const struct ae_snapshot *s, struct ae_minute *closed);

/* Closes the open minute when now_ms is at or past its end (no snapshot needed). Same returns
 * as agg_add (never AE_ERANGE). Call it once per second or per minute. */
int agg_tick(agg *a, int64_t now_ms, struct ae_minute *closed);

/* Closes the open minute whatever the time (the node is stopping). Same returns as agg_tick. */
int agg_close(agg *a, struct ae_minute *closed);

/* Appends a closed minute from the store (restart). Minutes must come oldest first, each newer
 * than the newest held and older than any open minute: returns 0, AE_ERANGE otherwise, or
 * AE_EINVAL when start_ms is not a minute boundary. When more than 120 are loaded only the newest
 * 120 stay. */
int agg_preload(agg *a, const struct ae_minute *m);

/* Number of closed minutes held (0..120). */
int agg_count(const agg *a);

/* Copies the newest min(n, agg_count) closed minutes into out, oldest first; returns how many. */
int agg_recent(const agg *a, int n, struct ae_minute *out);

/* The newest closed minute (borrowed, valid until the next add/tick/close/preload), or NULL. */
const struct ae_minute *agg_last(const agg *a);

/* The closed minute starting at start_ms (borrowed as agg_last), or NULL when not held. */
const struct ae_minute *agg_find(const agg *a, int64_t start_ms);

/* The model input rule over an array of closed minutes (oldest first, strictly increasing
 * start_ms), for a window of W minutes ending with the minute that starts at end_start_ms (the
 * last closed minute slot; minutes after it are ignored):
 *  - the window covers minute slots end-W+1 .. end; a slot without a minute, or a missing
 *    feature, carries the previous minute's value forward; a feature never seen yet is 0;
 *  - a run of more than max(1, floor(W/4)) empty slots restarts the history after it (a run that
 *    ends at end_start_ms too: then there is no usable history);
 *  - n = slots from the first minute after the last restart to end (at most W). When
 *    max(1, floor(W/2)) <= n < W, the first n-W rows repeat the oldest row (left padding).
 * Writes W*11 float32 into out (row-major, oldest first) and returns n, or AE_EAGAIN when n is
 * below max(1, floor(W/2)) (out untouched), AE_EINVAL when W is outside 1..120 or the minutes
 * used are not in increasing order or not on minute boundaries (start_ms % 60000 != 0). */
int ae_model_input(const struct ae_minute *minutes, int count, int window, int64_t end_start_ms,
                   float *out);

/* Minutes of usable history for a window of W at now_ms (the "n" above, with end = the minute
 * before the one holding now_ms), 0..W. Never allocates. */
int agg_history_minutes(const agg *a, int window, int64_t now_ms);

/* ae_model_input over the aggregator's minutes with end = the minute before the one holding
 * now_ms. Same returns. */
int agg_model_input(const agg *a, int window, int64_t now_ms, float *out);

#endif
