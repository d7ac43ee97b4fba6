/* SQLite history of the node (see store.h). */
#include "store.h"
#include "store_recover.h"

#include "aether/error.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct store {
    sqlite3 *db;
    sqlite3_stmt *put_minute;
    sqlite3_stmt *put_backfill; /* a backfilled minute, only where none is stored */
    sqlite3_stmt *put_decision;
    sqlite3_stmt *set_result;
    sqlite3_stmt *put_forecast;
    int retention_days;
    int lock_fd;          /* the writer's lock on <data_dir>/aether.lock (owned), -1 for readers */
    int rolled_back_code; /* SQLite's code of a failure a ROLLBACK has since reset, or 0 */
    char path[4096];
};

static const char *const schema_v1 =
    "CREATE TABLE IF NOT EXISTS minutes ("
    " blueprint TEXT NOT NULL, ts INTEGER NOT NULL,"
    " v0 REAL, v1 REAL, v2 REAL, v3 REAL, v4 REAL, v5 REAL, v6 REAL, v7 REAL, v8 REAL, v9 REAL,"
    " v10 REAL,"
    " c0 INTEGER, c1 INTEGER, c2 INTEGER, c3 INTEGER, c4 INTEGER, c5 INTEGER, c6 INTEGER,"
    " c7 INTEGER, c8 INTEGER, c9 INTEGER, c10 INTEGER,"
    " samples INTEGER NOT NULL, ready REAL, requested REAL, estimated INTEGER NOT NULL,"
    " PRIMARY KEY (blueprint, ts)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS decisions ("
    " id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, blueprint TEXT NOT NULL, tier TEXT NOT NULL,"
    " action TEXT NOT NULL, from_n INTEGER, to_n INTEGER, reason TEXT, inputs TEXT, result TEXT);"
    "CREATE INDEX IF NOT EXISTS decisions_by_blueprint ON decisions (blueprint, id);"
    "CREATE INDEX IF NOT EXISTS decisions_by_ts ON decisions (ts);";

/* Version 2: every forecast, one row per step; ts is the predicted minute (retention and range
 * queries go by it), made the evaluation that produced it. */
static const char *const schema_v2 =
    "CREATE TABLE IF NOT EXISTS forecasts ("
    " blueprint TEXT NOT NULL, ts INTEGER NOT NULL, step INTEGER NOT NULL, made INTEGER NOT NULL,"
    " confidence REAL,"
    " v0 REAL, v1 REAL, v2 REAL, v3 REAL, v4 REAL, v5 REAL, v6 REAL, v7 REAL, v8 REAL, v9 REAL,"
    " v10 REAL,"
    " PRIMARY KEY (blueprint, ts, step, made)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS forecasts_by_ts ON forecasts (ts);";

/* Version 3: minutes read from a Prometheus server on start (backfilled = 1) are told apart
 * from the ones the node folded itself (0). */
static const char *const schema_v3 =
    "ALTER TABLE minutes ADD COLUMN backfilled INTEGER NOT NULL DEFAULT 0;";

const char *const store_prune_tables[STORE_PRUNE_TABLES] = {"minutes", "decisions", "forecasts"};

static int fail(sqlite3 *db, int code, const char *what, const char *path, char *err, size_t errlen)
{
    if (err && errlen)
        snprintf(err, errlen, "history %s: %s: %s", path, what,
                 db ? sqlite3_errmsg(db) : "cannot open");
    return code;
}

/* Creates dir and its parents (like mkdir -p). */
static int make_dirs(const char *dir, char *err, size_t errlen)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s", dir) >= (int)sizeof tmp) {
        snprintf(err, errlen, "data_dir %s: path too long", dir);
        return AE_EINVAL;
    }
    for (char *p = tmp + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST) {
                snprintf(err, errlen, "data_dir %s: cannot create %s: %s", dir, tmp,
                         strerror(errno));
                return AE_EIO;
            }
            *p = c;
            if (c == '\0')
                break;
        }
    }
    return 0;
}

/* The data directory must let this process create files in it (the database, its WAL and the
 * lock): checked up front so the message names the key and the reason, not SQLite's "unable to
 * open database file". */
static int check_writable(const char *dir, char *err, size_t errlen)
{
    struct stat st;
    if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "node.data_dir = \"%s\" is not a directory", dir);
        return AE_EIO;
    }
    if (access(dir, W_OK | X_OK) != 0) {
        snprintf(err, errlen, "node.data_dir = \"%s\" is not writable by this process: %s", dir,
                 strerror(errno));
        return AE_EIO;
    }
    return 0;
}

/* Takes the writer's lock: an fcntl write lock on <dir>/STORE_LOCK_NAME, held while the store is
 * open, and the holder's pid written into the file for the message a second node gets. Two nodes
 * on one data_dir would interleave their histories, so the second is refused. Returns the open
 * lock file (owned by the caller) or -1 with err set. */
static int take_lock(const char *dir, char *err, size_t errlen)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", dir, STORE_LOCK_NAME) >= (int)sizeof path) {
        snprintf(err, errlen, "node.data_dir = \"%s\": path too long", dir);
        return -1;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "node.data_dir = \"%s\": cannot open the lock %s: %s", dir, path,
                 strerror(errno));
        return -1;
    }
    struct flock lk = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (fcntl(fd, F_SETLK, &lk) != 0) {
        int e = errno;
        char holder[32] = "";
        ssize_t n = pread(fd, holder, sizeof holder - 1, 0);
        holder[n > 0 ? n : 0] = '\0';
        holder[strcspn(holder, "\n")] = '\0';
        if (e == EACCES || e == EAGAIN)
            snprintf(err, errlen,
                     "node.data_dir = \"%s\" is in use by another aether-node (pid %s, lock %s);"
                     " give each node its own data_dir",
                     dir, holder[0] ? holder : "unknown", path);
        else
            snprintf(err, errlen, "node.data_dir = \"%s\": cannot lock %s: %s", dir, path,
                     strerror(e));
        close(fd);
        return -1;
    }
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
        snprintf(err, errlen, "node.data_dir = \"%s\": cannot write the lock %s: %s", dir, path,
                 strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static int migrate(struct store *s, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    int version = 0;
    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return fail(s->db, AE_EIO, "reading schema version", s->path, err, errlen);
    if (sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (version > STORE_SCHEMA_VERSION) {
        snprintf(err, errlen,
                 "history %s: schema version %d is newer than this node understands (%d)", s->path,
                 version, STORE_SCHEMA_VERSION);
        return AE_ESCHEMA;
    }
    if (version == STORE_SCHEMA_VERSION)
        return 0;
    /* One step per version: 0 -> 1 creates minutes and decisions, 1 -> 2 adds forecasts, 2 -> 3
     * marks backfilled minutes. */
    const char *const steps[] = {schema_v1, schema_v2, schema_v3};
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", STORE_SCHEMA_VERSION);
    int ok = sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
    for (int v = version; ok && v < STORE_SCHEMA_VERSION; v++)
        ok = sqlite3_exec(s->db, steps[v], NULL, NULL, NULL) == SQLITE_OK;
    if (!ok || sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        int rc = fail(s->db, AE_EIO, "creating schema", s->path, err, errlen);
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    return 0;
}

static int open_db(const char *path, int flags, struct store **out, char *err, size_t errlen)
{
    struct store *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "history %s: out of memory", path);
        return AE_ENOMEM;
    }
    s->lock_fd = -1;
    snprintf(s->path, sizeof s->path, "%s", path);
    if (sqlite3_open_v2(path, &s->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        int rc = fail(s->db, AE_EIO, "cannot open", path, err, errlen);
        store_close(s);
        return rc;
    }
    sqlite3_busy_timeout(s->db, 2000);
    *out = s;
    return 0;
}

int store_open(const char *dir, int retention_days, struct store **out, char *err, size_t errlen)
{
    *out = NULL;
    if (retention_days <= 0) {
        snprintf(err, errlen, "node.history_retention_days = %d must be > 0", retention_days);
        return AE_ERANGE;
    }
    int rc = make_dirs(dir, err, errlen);
    if (rc == 0)
        rc = check_writable(dir, err, errlen);
    if (rc)
        return rc;
    int lock_fd = take_lock(dir, err, errlen);
    if (lock_fd < 0)
        return AE_EIO;
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", dir, STORE_FILE_NAME) >= (int)sizeof path) {
        snprintf(err, errlen, "data_dir %s: path too long", dir);
        close(lock_fd);
        return AE_EINVAL;
    }
    struct store *s;
    char aside[4200];
    rc = store_set_aside_if_corrupt(path, aside, sizeof aside, err, errlen);
    if (rc) {
        close(lock_fd);
        return rc;
    }
    rc = open_db(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &s, err, errlen);
    if (rc) {
        close(lock_fd);
        return rc;
    }
    s->lock_fd = lock_fd;
    s->retention_days = retention_days;
    /* WAL: readers never block the writer. synchronous=NORMAL: a committed minute survives a
     * process crash (the WAL is in the OS cache); only a power loss may drop the last commits. */
    if (sqlite3_exec(s->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL,
                     NULL) != SQLITE_OK) {
        rc = fail(s->db, AE_EIO, "setting WAL mode", path, err, errlen);
        store_close(s);
        return rc;
    }
    if ((rc = migrate(s, err, errlen)) != 0) {
        store_close(s);
        return rc;
    }
    if (aside[0])
        store_salvage(s->db, aside);
    if (sqlite3_prepare_v2(s->db,
                           "INSERT OR REPLACE INTO minutes VALUES (?,?, ?,?,?,?,?,?,?,?,?,?,?,"
                           " ?,?,?,?,?,?,?,?,?,?,?, ?,?,?,?, 0)",
                           -1, &s->put_minute, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db,
                           "INSERT OR IGNORE INTO minutes VALUES (?,?, ?,?,?,?,?,?,?,?,?,?,?,"
                           " ?,?,?,?,?,?,?,?,?,?,?, ?,?,?,?, 1)",
                           -1, &s->put_backfill, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db,
                           "INSERT INTO decisions (ts, blueprint, tier, action, from_n, to_n,"
                           " reason, inputs, result, id) VALUES (?,?,?,?,?,?,?,?,?,?)",
                           -1, &s->put_decision, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db, "UPDATE decisions SET result = ? WHERE id = ?", -1,
                           &s->set_result, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db,
                           "INSERT OR REPLACE INTO forecasts VALUES (?,?,?,?,?,"
                           " ?,?,?,?,?,?,?,?,?,?,?)",
                           -1, &s->put_forecast, NULL) != SQLITE_OK) {
        rc = fail(s->db, AE_EIO, "preparing statements", path, err, errlen);
        store_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

int store_reader_open(const struct store *s, struct store **out, char *err, size_t errlen)
{
    int rc = open_db(s->path, SQLITE_OPEN_READONLY, out, err, errlen);
    if (rc == 0)
        (*out)->retention_days = s->retention_days;
    return rc;
}

void store_close(struct store *s)
{
    if (!s)
        return;
    sqlite3_finalize(s->put_minute);
    sqlite3_finalize(s->put_backfill);
    sqlite3_finalize(s->put_decision);
    sqlite3_finalize(s->set_result);
    sqlite3_finalize(s->put_forecast);
    sqlite3_close(s->db);
    if (s->lock_fd >= 0)
        close(s->lock_fd); /* releases the lock; the file stays (its pid is stale, harmless) */
    free(s);
}

const char *store_path(const struct store *s)
{
    return s->path;
}

/* Runs statement st (put_minute or put_backfill) for minute m of bp. */
static int write_minute(struct store *s, sqlite3_stmt *st, const char *bp,
                        const struct ae_minute *m, char *err, size_t errlen)
{
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, bp, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, m->start_ms);
    for (int i = 0; i < STORE_FEATURES; i++) {
        if ((m->missing & AE_FEATURE_BIT(i)) || !isfinite(m->values[i]))
            sqlite3_bind_null(st, 3 + i); /* nothing non-finite is ever stored */
        else
            sqlite3_bind_double(st, 3 + i, m->values[i]);
        sqlite3_bind_int(st, 3 + STORE_FEATURES + i, m->samples[i]);
    }
    sqlite3_bind_int(st, 25, m->snapshots);
    sqlite3_bind_double(st, 26, m->ready_mean);
    sqlite3_bind_double(st, 27, m->requested_mean);
    sqlite3_bind_int64(st, 28, (sqlite3_int64)m->estimated);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return fail(s->db, AE_EIO, "writing a minute", s->path, err, errlen);
    return 0;
}

int store_put_minute(struct store *s, const char *bp, const struct ae_minute *m, char *err,
                     size_t errlen)
{
    return write_minute(s, s->put_minute, bp, m, err, errlen);
}

int store_put_backfilled_minute(struct store *s, const char *bp, const struct ae_minute *m,
                                char *err, size_t errlen)
{
    int rc = write_minute(s, s->put_backfill, bp, m, err, errlen);
    return rc ? rc : sqlite3_changes(s->db) > 0;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

int store_put_decision(struct store *s, const struct store_decision *d, int64_t *id, char *err,
                       size_t errlen)
{
    sqlite3_stmt *st = s->put_decision;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, d->ts_ms);
    sqlite3_bind_text(st, 2, d->blueprint, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, d->tier, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, d->action, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, d->from);
    sqlite3_bind_int(st, 6, d->to);
    bind_text_or_null(st, 7, d->reason);
    bind_text_or_null(st, 8, d->inputs_json);
    bind_text_or_null(st, 9, d->result);
    if (d->id > 0)
        sqlite3_bind_int64(st, 10, (sqlite3_int64)d->id);
    else
        sqlite3_bind_null(st, 10);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return fail(s->db, AE_EIO, "writing a decision", s->path, err, errlen);
    if (id)
        *id = (int64_t)sqlite3_last_insert_rowid(s->db);
    return 0;
}

int store_set_decision_result(struct store *s, int64_t id, const char *result, char *err,
                              size_t errlen)
{
    sqlite3_stmt *st = s->set_result;
    sqlite3_reset(st);
    bind_text_or_null(st, 1, result);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)id);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return fail(s->db, AE_EIO, "updating a decision's result", s->path, err, errlen);
    return sqlite3_changes(s->db) > 0 ? 0 : AE_ENOENT;
}

int store_put_forecast(struct store *s, const char *bp, int64_t made_ms, int64_t first_minute_ms,
                       int horizon, const float *values, double confidence, char *err,
                       size_t errlen)
{
    if (horizon < 1) {
        snprintf(err, errlen, "history %s: forecast of %s with horizon %d", s->path, bp, horizon);
        return AE_EINVAL;
    }
    if (sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        return fail(s->db, AE_EIO, "writing a forecast", s->path, err, errlen);
    sqlite3_stmt *st = s->put_forecast;
    int rc = SQLITE_DONE;
    for (int h = 0; h < horizon && rc == SQLITE_DONE; h++) {
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, bp, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, first_minute_ms + (int64_t)h * 60000);
        sqlite3_bind_int(st, 3, h + 1);
        sqlite3_bind_int64(st, 4, made_ms);
        if (isfinite(confidence))
            sqlite3_bind_double(st, 5, confidence);
        else
            sqlite3_bind_null(st, 5);
        for (int f = 0; f < STORE_FEATURES; f++) {
            double v = values[h * STORE_FEATURES + f];
            if (isfinite(v))
                sqlite3_bind_double(st, 6 + f, v);
            else
                sqlite3_bind_null(st, 6 + f);
        }
        rc = sqlite3_step(st);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE || sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        int code = fail(s->db, AE_EIO, "writing a forecast", s->path, err, errlen);
        s->rolled_back_code = sqlite3_errcode(s->db); /* for store_retryable */
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return code;
    }
    return 0;
}

int64_t store_prune_cutoff(int64_t now_ms, int64_t newest_minute_ms, int retention_days)
{
    int64_t reference = now_ms;
    if (newest_minute_ms != INT64_MIN && newest_minute_ms + 60000 < reference)
        reference = newest_minute_ms + 60000;
    return reference - (int64_t)retention_days * 86400000LL;
}

/* Runs sql (one integer column) and stores the first row's value in *out. */
static int query_int64(struct store *s, const char *sql, int64_t *out, const char *what, char *err,
                       size_t errlen)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return fail(s->db, AE_EIO, what, s->path, err, errlen);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return fail(s->db, AE_EIO, what, s->path, err, errlen);
    return 0;
}

int store_newest_minute(struct store *s, int64_t *ts_ms, char *err, size_t errlen)
{
    *ts_ms = INT64_MIN;
    return query_int64(s, "SELECT max(ts) FROM minutes", ts_ms, "reading the newest minute", err,
                       errlen);
}

int store_max_decision_id(struct store *s, int64_t *id, char *err, size_t errlen)
{
    *id = 0;
    return query_int64(s, "SELECT max(id) FROM decisions", id, "reading the decision ids", err,
                       errlen);
}

int store_prune(struct store *s, int64_t now_ms, int max_rows, struct store_prune_report *r,
                char *err, size_t errlen)
{
    *r = (struct store_prune_report){0};
    int64_t newest;
    int rc = store_newest_minute(s, &newest, err, errlen);
    if (rc)
        return rc;
    r->cutoff_ms = store_prune_cutoff(now_ms, newest, s->retention_days);
    const char *key[STORE_PRUNE_TABLES] = {"blueprint, ts", "id", "blueprint, ts, step, made"};
    char sql[256];
    for (int i = 0; i < STORE_PRUNE_TABLES; i++) {
        snprintf(sql, sizeof sql,
                 "DELETE FROM %s WHERE (%s) IN (SELECT %s FROM %s WHERE ts < %lld ORDER BY ts"
                 " LIMIT %d)",
                 store_prune_tables[i], key[i], key[i], store_prune_tables[i],
                 (long long)r->cutoff_ms, max_rows);
        if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
            return fail(s->db, AE_EIO, "pruning old history", s->path, err, errlen);
        r->deleted[i] = sqlite3_changes(s->db);
        r->more |= r->deleted[i] == max_rows;
        r->total += r->deleted[i];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", store_prune_tables[i]);
        if (r->deleted[i] > 0 &&
            (rc = query_int64(s, sql, &r->kept[i], "counting history rows", err, errlen)) != 0)
            return rc;
    }
    return r->total;
}

int store_retryable(struct store *s)
{
    int code = s->rolled_back_code ? s->rolled_back_code : sqlite3_errcode(s->db);
    s->rolled_back_code = 0;
    switch (code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_NOMEM:
    case SQLITE_PROTOCOL:
        return 1;
    default:
        return 0;
    }
}

#define MINUTE_COLUMNS                                                                             \
    "SELECT ts, v0,v1,v2,v3,v4,v5,v6,v7,v8,v9,v10, c0,c1,c2,c3,c4,c5,c6,c7,c8,c9,c10,"             \
    " samples, ready, requested, estimated FROM minutes "

/* Decodes the current row of a MINUTE_COLUMNS query. */
static void read_minute_row(sqlite3_stmt *st, struct ae_minute *m)
{
    ae_minute_init(m, sqlite3_column_int64(st, 0));
    m->missing = 0;
    for (int i = 0; i < STORE_FEATURES; i++) {
        double v = sqlite3_column_double(st, 1 + i);
        if (sqlite3_column_type(st, 1 + i) == SQLITE_NULL || !isfinite(v))
            m->missing |= AE_FEATURE_BIT(i); /* a row written before values were checked */
        else
            m->values[i] = v;
        m->samples[i] = sqlite3_column_int(st, 1 + STORE_FEATURES + i);
    }
    m->snapshots = sqlite3_column_int(st, 23);
    m->ready_mean = sqlite3_column_double(st, 24);
    m->requested_mean = sqlite3_column_double(st, 25);
    m->estimated = (uint32_t)sqlite3_column_int64(st, 26) & AE_ALL_FEATURES;
}

/* Steps st, decoding up to max rows into out; returns the count or a negative AE_E* code. */
static int read_minutes(struct store *s, sqlite3_stmt *st, struct ae_minute *out, int max,
                        char *err, size_t errlen)
{
    int n = 0, rc = SQLITE_DONE;
    while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
        read_minute_row(st, &out[n++]);
    if (n < max && rc != SQLITE_DONE)
        n = fail(s->db, AE_EIO, "reading minutes", s->path, err, errlen);
    sqlite3_finalize(st);
    return n;
}

int store_read_page(struct store *s, const char *bp, int64_t from_ms, int64_t to_ms,
                    int64_t *cursor_ts, struct ae_minute *out, int max, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           MINUTE_COLUMNS "WHERE blueprint = ? AND ts >= ? AND ts < ? AND ts > ?"
                                          " ORDER BY ts LIMIT ?",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(s->db, AE_EIO, "reading minutes", s->path, err, errlen);
    sqlite3_bind_text(st, 1, bp, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, from_ms);
    sqlite3_bind_int64(st, 3, to_ms);
    sqlite3_bind_int64(st, 4, *cursor_ts);
    sqlite3_bind_int(st, 5, max);
    int n = read_minutes(s, st, out, max, err, errlen);
    if (n > 0)
        *cursor_ts = out[n - 1].start_ms;
    return n;
}

int store_read_latest(struct store *s, const char *bp, int64_t to_ms, struct ae_minute *out,
                      int max, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           MINUTE_COLUMNS "WHERE blueprint = ? AND ts < ? ORDER BY ts DESC LIMIT ?",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(s->db, AE_EIO, "reading minutes", s->path, err, errlen);
    sqlite3_bind_text(st, 1, bp, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, to_ms);
    sqlite3_bind_int(st, 3, max);
    int n = read_minutes(s, st, out, max, err, errlen);
    for (int i = 0; i < n / 2; i++) { /* newest first -> oldest first */
        struct ae_minute t = out[i];
        out[i] = out[n - 1 - i];
        out[n - 1 - i] = t;
    }
    return n;
}

int store_each_minute(struct store *s, const char *bp, int64_t from_ms, int64_t to_ms,
                      store_minute_cb cb, void *ctx, char *err, size_t errlen)
{
    enum { PAGE = 256 };
    struct ae_minute *page = malloc(PAGE * sizeof *page);
    if (!page) {
        snprintf(err, errlen, "history %s: out of memory", s->path);
        return AE_ENOMEM;
    }
    int64_t cursor = INT64_MIN;
    int rc = 0, n = 0;
    while (rc == 0 &&
           (n = store_read_page(s, bp, from_ms, to_ms, &cursor, page, PAGE, err, errlen)) > 0) {
        for (int i = 0; i < n && rc == 0; i++)
            rc = cb(ctx, &page[i]);
        if (n < PAGE)
            break;
    }
    if (rc == 0 && n < 0)
        rc = n;
    free(page);
    return rc;
}

int store_each_decision(struct store *s, const char *bp, int limit, store_decision_cb cb, void *ctx,
                        char *err, size_t errlen)
{
    sqlite3_stmt *st;
    const char *sql = bp ? "SELECT ts, blueprint, tier, action, from_n, to_n, reason, inputs,"
                           " result FROM decisions WHERE blueprint = ? ORDER BY id DESC LIMIT ?"
                         : "SELECT ts, blueprint, tier, action, from_n, to_n, reason, inputs,"
                           " result FROM decisions ORDER BY id DESC LIMIT ?";
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return fail(s->db, AE_EIO, "reading decisions", s->path, err, errlen);
    int i = 1;
    if (bp)
        sqlite3_bind_text(st, i++, bp, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, i, limit);
    int rc = 0, step = SQLITE_DONE;
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_decision d = {
            .ts_ms = sqlite3_column_int64(st, 0),
            .blueprint = (const char *)sqlite3_column_text(st, 1),
            .tier = (const char *)sqlite3_column_text(st, 2),
            .action = (const char *)sqlite3_column_text(st, 3),
            .from = sqlite3_column_int(st, 4),
            .to = sqlite3_column_int(st, 5),
            .reason = (const char *)sqlite3_column_text(st, 6),
            .inputs_json = (const char *)sqlite3_column_text(st, 7),
            .result = (const char *)sqlite3_column_text(st, 8),
        };
        rc = cb(ctx, &d);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = fail(s->db, AE_EIO, "reading decisions", s->path, err, errlen);
    sqlite3_finalize(st);
    return rc;
}

int store_each_forecast(struct store *s, const char *bp, int64_t from_ms, int64_t to_ms,
                        store_forecast_cb cb, void *ctx, char *err, size_t errlen)
{
    /* Keyset paging on (ts, step, made): each page is its own short query, so a long range
     * never holds a read transaction (or its rows) for the whole answer. */
    enum { PAGE = 512 };
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT ts, step, made, confidence, v0,v1,v2,v3,v4,v5,v6,v7,v8,v9,v10"
                           " FROM forecasts WHERE blueprint = ?1 AND ts >= ?2 AND ts < ?3"
                           " AND (ts, step, made) > (?4, ?5, ?6) ORDER BY ts, step, made LIMIT ?7",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(s->db, AE_EIO, "reading forecasts", s->path, err, errlen);
    struct store_forecast f = {.minute_ms = INT64_MIN, .step = INT_MIN, .made_ms = INT64_MIN};
    int rc = 0;
    for (;;) {
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, bp, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, from_ms);
        sqlite3_bind_int64(st, 3, to_ms);
        sqlite3_bind_int64(st, 4, f.minute_ms);
        sqlite3_bind_int(st, 5, f.step);
        sqlite3_bind_int64(st, 6, f.made_ms);
        sqlite3_bind_int(st, 7, PAGE);
        int rows = 0, step = SQLITE_DONE;
        while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
            rows++;
            f.minute_ms = sqlite3_column_int64(st, 0);
            f.step = sqlite3_column_int(st, 1);
            f.made_ms = sqlite3_column_int64(st, 2);
            f.confidence =
                sqlite3_column_type(st, 3) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 3);
            for (int i = 0; i < STORE_FEATURES; i++)
                f.values[i] = sqlite3_column_type(st, 4 + i) == SQLITE_NULL
                                  ? NAN
                                  : sqlite3_column_double(st, 4 + i);
            rc = cb(ctx, &f);
        }
        if (rc != 0)
            break;
        if (step != SQLITE_DONE) {
            rc = fail(s->db, AE_EIO, "reading forecasts", s->path, err, errlen);
            break;
        }
        if (rows < PAGE)
            break;
    }
    sqlite3_finalize(st);
    return rc;
}
