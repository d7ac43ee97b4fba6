/* The node's history: minute aggregates per blueprint, the decision log and every forecast, in
 * one SQLite file (<data_dir>/aether.db, WAL mode).
 *
 * The control loop writes one row per blueprint when a minute closes, one row per decision and
 * one row per forecast step;
 * each write is its own transaction, so a crash (even SIGKILL) loses at most the minute in
 * progress. On start the node reloads the recent window from here. HTTP handlers read through
 * their own read-only handles (store_reader_open) so they never wait on the control loop.
 * Schema changes bump STORE_SCHEMA_VERSION (PRAGMA user_version) with a migration step. */
#ifndef AETHER_NODE_STORE_H
#define AETHER_NODE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "aether/snapshot.h"

#define STORE_SCHEMA_VERSION 3 /* 2: the forecasts table; 3: minutes.backfilled */
#define STORE_FEATURES AE_FEATURE_COUNT
#define STORE_FILE_NAME "aether.db"
#define STORE_LOCK_NAME "aether.lock" /* held by the writer: one node per data_dir */

struct store;

/* One entry of the decision log. Strings are borrowed for the duration of the call that takes
 * or delivers them. */
struct store_decision {
    int64_t id; /* row id to write it under (> 0), or 0: the store picks the next one */
    int64_t ts_ms;
    const char *blueprint;
    const char *tier;   /* ae_tier_name: "reactive" | "ttm" */
    const char *action; /* ae_action_name: "scale_up" | "scale_down" | "hold" */
    int from, to;
    const char *reason;
    const char *inputs_json; /* a JSON object text */
    const char *result;
};

/* One step of a stored forecast: the minute it predicts and the 11 raw values. */
struct store_forecast {
    int64_t made_ms;   /* when the forecast was made */
    int64_t minute_ms; /* start of the minute this step predicts */
    int step;          /* 1..horizon */
    double confidence; /* of the forecast when it was made; NAN when unknown */
    double values[STORE_FEATURES];
};

/* Opens (creating if needed) <dir>/aether.db, creating dir too. retention_days > 0. dir must be
 * writable, and the writer's lock <dir>/aether.lock free: a second writer in another process is
 * refused (AE_EIO, the message names node.data_dir and the holder's pid) while this one is open.
 * Returns 0 and *out, or a negative AE_E* code with a message naming the key or file in err.
 * Caller closes with store_close. The handle is for one writer thread.
 * A database SQLite finds damaged (or not a database at all) is first moved aside, and the new
 * one gets the rows that can still be read from it (store_recover.h). */
int store_open(const char *dir, int retention_days, struct store **out, char *err, size_t errlen);
/* Opens a second, read-only handle on the same file (for HTTP handlers, one per request or
 * per thread). Caller closes with store_close. */
int store_reader_open(const struct store *s, struct store **out, char *err, size_t errlen);
void store_close(struct store *s);
/* Path of the database file; borrowed, valid while s is open. */
const char *store_path(const struct store *s);

/* Inserts or replaces the minute m of blueprint bp (one transaction). */
int store_put_minute(struct store *s, const char *bp, const struct ae_minute *m, char *err,
                     size_t errlen);
/* Writes minute m of bp read from elsewhere (the Prometheus backfill), marked backfilled = 1 in
 * the minutes table, unless the store already holds that minute (which is kept). Returns 1 when
 * written, 0 when kept, or AE_EIO with a message. A minute the node closes later replaces it
 * (store_put_minute marks its minutes backfilled = 0). */
int store_put_backfilled_minute(struct store *s, const char *bp, const struct ae_minute *m,
                                char *err, size_t errlen);
/* Appends a decision (one transaction); on success *id (when id is not NULL) is its row id, for
 * store_set_decision_result. */
int store_put_decision(struct store *s, const struct store_decision *d, int64_t *id, char *err,
                       size_t errlen);
/* Replaces the result of decision id (an actuator run finished after the decision was written).
 * 0, AE_ENOENT when no such decision is kept (pruned), or AE_EIO with a message. */
int store_set_decision_result(struct store *s, int64_t id, const char *result, char *err,
                              size_t errlen);
/* Writes the horizon steps of one forecast of bp made at made_ms (one transaction): step h
 * (1-based) predicts the minute first_minute_ms + (h-1) minutes, values[(h-1)*11 + f] raw.
 * A forecast made again at the same made_ms replaces the earlier one. */
int store_put_forecast(struct store *s, const char *bp, int64_t made_ms, int64_t first_minute_ms,
                       int horizon, const float *values, double confidence, char *err,
                       size_t errlen);
/* Retention: minutes, decisions and forecasts older than retention_days before a reference time
 * are deleted. The reference is the newest stored minute's end, or now_ms when that is earlier,
 * so that a clock reading far ahead can never empty the history; and each table loses at most
 * max_rows rows per call (oldest first), so a large prune is spread over several runs. */
#define STORE_PRUNE_TABLES 3
extern const char *const store_prune_tables[STORE_PRUNE_TABLES]; /* minutes, decisions, forecasts */
struct store_prune_report {
    int64_t cutoff_ms;                /* rows with ts < cutoff_ms were due */
    int deleted[STORE_PRUNE_TABLES];  /* rows deleted per table */
    int64_t kept[STORE_PRUNE_TABLES]; /* rows left per table (counted only when some went) */
    int total;                        /* rows deleted in all */
    int more;                         /* a table hit max_rows: more rows are due */
};
/* The cutoff for now_ms, the newest stored minute's start (INT64_MIN when there is none). */
int64_t store_prune_cutoff(int64_t now_ms, int64_t newest_minute_ms, int retention_days);
/* Prunes as above. Returns rows deleted (>= 0, *r filled) or a negative AE_E* code. */
int store_prune(struct store *s, int64_t now_ms, int max_rows, struct store_prune_report *r,
                char *err, size_t errlen);

/* Start of the newest stored minute of any blueprint, INT64_MIN when none. 0 or AE_EIO. */
int store_newest_minute(struct store *s, int64_t *ts_ms, char *err, size_t errlen);
/* The largest decision row id, 0 when none. 0 or AE_EIO. */
int store_max_decision_id(struct store *s, int64_t *id, char *err, size_t errlen);

/* 1 when the last failed call on s failed for a reason that may pass (the database is busy or
 * locked, the disk is full, an I/O error, a read-only remount): the call is worth retrying. */
int store_retryable(struct store *s); /* reads the failure once */

/* Calls cb for each minute of bp with from_ms <= ts < to_ms, oldest first, reading in pages so
 * that long ranges never sit in memory. cb returns 0 to go on, non-zero to stop (that value is
 * returned). Returns 0 at the end, or a negative AE_E* code. */
typedef int (*store_minute_cb)(void *ctx, const struct ae_minute *m);
int store_each_minute(struct store *s, const char *bp, int64_t from_ms, int64_t to_ms,
                      store_minute_cb cb, void *ctx, char *err, size_t errlen);

/* Reads up to max minutes of bp with from_ms <= ts < to_ms, oldest first, starting after
 * *cursor_ts (use INT64_MIN first); updates *cursor_ts. Returns the number read (0 = end) or a
 * negative AE_E* code. This is the paging step behind store_each_minute and the streaming
 * export. */
int store_read_page(struct store *s, const char *bp, int64_t from_ms, int64_t to_ms,
                    int64_t *cursor_ts, struct ae_minute *out, int max, char *err, size_t errlen);

/* Reads the newest max minutes of bp with ts < to_ms into out, OLDEST first; returns how many
 * (0..max) or a negative AE_E* code. Used to reload the window on start. */
int store_read_latest(struct store *s, const char *bp, int64_t to_ms, struct ae_minute *out,
                      int max, char *err, size_t errlen);

/* Calls cb for the newest `limit` decisions (of bp, or of all blueprints when bp is NULL),
 * newest first. Strings in the delivered struct are valid during the call only. */
typedef int (*store_decision_cb)(void *ctx, const struct store_decision *d);
int store_each_decision(struct store *s, const char *bp, int limit, store_decision_cb cb, void *ctx,
                        char *err, size_t errlen);

/* Calls cb for each forecast step of bp whose predicted minute is in [from_ms, to_ms), ordered by
 * minute, then step, then made_ms, reading in pages (constant memory). cb returns 0 to go on,
 * non-zero to stop (returned). Returns 0 at the end, or a negative AE_E* code. */
typedef int (*store_forecast_cb)(void *ctx, const struct store_forecast *f);
int store_each_forecast(struct store *s, const char *bp, int64_t from_ms, int64_t to_ms,
                        store_forecast_cb cb, void *ctx, char *err, size_t errlen);

#endif
