/* The SQLite history: round trip of minutes (missing values stay missing), paging over long
 * ranges, decisions newest first, retention, schema version, and reopen after close. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "aether/error.h"
#include "store.h"

#include <limits.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TMPDIR_PREFIX "aether-store-test"
#include "tmpdir.h"
#include <unistd.h>

static struct ae_minute minute(int64_t ts, double cpu)
{
    struct ae_minute m;
    ae_minute_init(&m, ts);
    m.missing = 0;
    m.snapshots = 60;
    m.ready_mean = 2;
    m.requested_mean = 3;
    for (int i = 0; i < STORE_FEATURES; i++) {
        m.values[i] = cpu * (i + 1);
        m.samples[i] = 60;
    }
    return m;
}

struct collect {
    int n;
    struct ae_minute rows[2000];
};

static int collect_cb(void *ctx, const struct ae_minute *m)
{
    struct collect *c = ctx;
    c->rows[c->n++] = *m;
    return 0;
}

static void test_minutes_round_trip(void **state)
{
    (void)state;
    char err[512];
    struct store *s;
    char sub[300];
    snprintf(sub, sizeof sub, "%s/nested/data", dir); /* parents are created */
    assert_int_equal(store_open(sub, 14, &s, err, sizeof err), 0);
    struct ae_minute m = minute(60000, 0.5);
    m.missing = (1u << 3) | (1u << 10);
    m.estimated = AE_FEATURE_BIT(4);
    assert_int_equal(store_put_minute(s, "web", &m, err, sizeof err), 0);
    struct ae_minute other = minute(60000, 0.9);
    assert_int_equal(store_put_minute(s, "api", &other, err, sizeof err), 0);
    store_close(s);

    /* Reopen: the row is still there, missing stays missing (never 0). */
    assert_int_equal(store_open(sub, 14, &s, err, sizeof err), 0);
    static struct collect c;
    c.n = 0;
    assert_int_equal(store_each_minute(s, "web", 0, INT64_MAX, collect_cb, &c, err, sizeof err), 0);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.rows[0].start_ms, 60000);
    assert_int_equal(c.rows[0].missing, (1u << 3) | (1u << 10));
    assert_true(c.rows[0].values[0] == 0.5);
    assert_true(c.rows[0].values[4] == 2.5);
    assert_int_equal(c.rows[0].samples[7], 60);
    assert_int_equal(c.rows[0].snapshots, 60);
    assert_int_equal(c.rows[0].estimated, AE_FEATURE_BIT(4));
    assert_true(c.rows[0].requested_mean == 3 && c.rows[0].ready_mean == 2);
    store_close(s);
}

static void test_paging_and_ranges(void **state)
{
    (void)state;
    char err[512];
    struct store *s;
    assert_int_equal(store_open(dir, 14, &s, err, sizeof err), 0);
    for (int i = 0; i < 1000; i++) {
        struct ae_minute m = minute((int64_t)i * 60000, i / 1000.0);
        assert_int_equal(store_put_minute(s, "web", &m, err, sizeof err), 0);
    }
    static struct collect c;
    c.n = 0;
    assert_int_equal(store_each_minute(s, "web", 0, INT64_MAX, collect_cb, &c, err, sizeof err), 0);
    assert_int_equal(c.n, 1000);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(c.rows[i].start_ms, (int64_t)i * 60000);
    /* [from, to): from inclusive, to exclusive */
    c.n = 0;
    assert_int_equal(
        store_each_minute(s, "web", 10 * 60000, 20 * 60000, collect_cb, &c, err, sizeof err), 0);
    assert_int_equal(c.n, 10);
    assert_int_equal(c.rows[0].start_ms, 10 * 60000);
    /* Another blueprint sees nothing. */
    c.n = 0;
    assert_int_equal(store_each_minute(s, "api", 0, INT64_MAX, collect_cb, &c, err, sizeof err), 0);
    assert_int_equal(c.n, 0);
    /* A reader handle sees what the writer committed. */
    struct store *r;
    assert_int_equal(store_reader_open(s, &r, err, sizeof err), 0);
    struct ae_minute page[7];
    int64_t cursor = INT64_MIN;
    assert_int_equal(store_read_page(r, "web", 0, INT64_MAX, &cursor, page, 7, err, sizeof err), 7);
    assert_int_equal(cursor, 6 * 60000);
    assert_int_equal(store_read_page(r, "web", 0, INT64_MAX, &cursor, page, 7, err, sizeof err), 7);
    assert_int_equal(page[0].start_ms, 7 * 60000);
    /* A reader cannot write. */
    struct ae_minute m = minute(5, 1);
    assert_int_not_equal(store_put_minute(r, "web", &m, err, sizeof err), 0);
    assert_non_null(strstr(err, "aether.db"));
    store_close(r);
    /* The newest minutes before a bound, oldest first (the restart reload). */
    struct ae_minute latest[5];
    assert_int_equal(store_read_latest(s, "web", 500 * 60000, latest, 5, err, sizeof err), 5);
    assert_int_equal(latest[0].start_ms, 495 * 60000);
    assert_int_equal(latest[4].start_ms, 499 * 60000);
    store_close(s);
}

struct dcollect {
    int n;
    char reasons[10][64];
    int64_t ts[10];
};

static int dcollect_cb(void *ctx, const struct store_decision *d)
{
    struct dcollect *c = ctx;
    snprintf(c->reasons[c->n], sizeof c->reasons[0], "%s/%s/%s", d->blueprint, d->reason,
             d->inputs_json);
    c->ts[c->n++] = d->ts_ms;
    return 0;
}

static void test_decisions_and_retention(void **state)
{
    (void)state;
    char err[512];
    struct store *s;
    assert_int_equal(store_open(dir, 1, &s, err, sizeof err), 0);
    const int64_t day = 86400000LL, now = 10 * day;
    for (int i = 0; i < 5; i++) {
        char reason[32];
        snprintf(reason, sizeof reason, "r%d", i);
        struct store_decision d = {.ts_ms = now - (4 - i) * day / 2,
                                   .blueprint = i % 2 ? "api" : "web",
                                   .tier = "reactive",
                                   .action = "scale_up",
                                   .from = i,
                                   .to = i + 1,
                                   .reason = reason,
                                   .inputs_json = "{\"cpu\":0.9}",
                                   .result = "ok"};
        assert_int_equal(store_put_decision(s, &d, NULL, err, sizeof err), 0);
        struct ae_minute m = minute(d.ts_ms, 0.1);
        assert_int_equal(store_put_minute(s, "web", &m, err, sizeof err), 0);
    }
    struct dcollect c = {0};
    assert_int_equal(store_each_decision(s, NULL, 3, dcollect_cb, &c, err, sizeof err), 0);
    assert_int_equal(c.n, 3);
    assert_string_equal(c.reasons[0], "web/r4/{\"cpu\":0.9}"); /* newest first */
    assert_string_equal(c.reasons[1], "api/r3/{\"cpu\":0.9}");
    memset(&c, 0, sizeof c);
    assert_int_equal(store_each_decision(s, "api", 10, dcollect_cb, &c, err, sizeof err), 0);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.reasons[0], "api/r3/{\"cpu\":0.9}");

    /* Retention 1 day: entries at now-2d, now-1.5d go (strictly older than now-1d). */
    int deleted = store_prune(s, now, err, sizeof err);
    assert_int_equal(deleted, 2 + 2);
    memset(&c, 0, sizeof c);
    assert_int_equal(store_each_decision(s, NULL, 10, dcollect_cb, &c, err, sizeof err), 0);
    assert_int_equal(c.n, 3);
    store_close(s);
}

static int result_cb(void *ctx, const struct store_decision *d)
{
    snprintf(ctx, 64, "%s", d->result ? d->result : "(null)");
    return 1; /* the newest only */
}

/* An actuator run finishing later replaces the result of the decision that asked for it. */
static void test_decision_result_updated(void **state)
{
    (void)state;
    char err[512];
    struct store *s;
    assert_int_equal(store_open(dir, 14, &s, err, sizeof err), 0);
    struct store_decision d = {.ts_ms = 1000,
                               .blueprint = "api",
                               .tier = "reactive",
                               .action = "scale_up",
                               .from = 2,
                               .to = 3,
                               .reason = "cpu",
                               .inputs_json = "{}",
                               .result = "requested 3 from the exec actuator"};
    int64_t first = 0, second = 0;
    assert_int_equal(store_put_decision(s, &d, &first, err, sizeof err), 0);
    d.ts_ms = 2000;
    d.blueprint = "web";
    assert_int_equal(store_put_decision(s, &d, &second, err, sizeof err), 0);
    assert_true(first > 0 && second > first);

    assert_int_equal(
        store_set_decision_result(s, first, "scale_command exit 1: no quota", err, sizeof err), 0);
    char got[64];
    assert_int_equal(store_each_decision(s, "api", 1, result_cb, got, err, sizeof err), 1);
    assert_string_equal(got, "scale_command exit 1: no quota");
    /* The other decision is untouched. */
    assert_int_equal(store_each_decision(s, "web", 1, result_cb, got, err, sizeof err), 1);
    assert_string_equal(got, "requested 3 from the exec actuator");
    /* A decision that is gone (pruned) is reported, not silently ignored. */
    assert_int_equal(store_set_decision_result(s, second + 100, "x", err, sizeof err), AE_ENOENT);
    store_close(s);
}

struct fcollect {
    int n;
    struct store_forecast rows[64];
};

static int fcollect_cb(void *ctx, const struct store_forecast *f)
{
    struct fcollect *c = ctx;
    if (c->n < 64)
        c->rows[c->n++] = *f;
    return 0;
}

/* Every forecast step is kept: step h predicts first minute + (h-1) minutes; ranges go by the
 * predicted minute; a non-finite value or confidence reads back as NaN; retention prunes them. */
static void test_forecasts(void **state)
{
    (void)state;
    char err[512];
    struct store *s;
    assert_int_equal(store_open(dir, 1, &s, err, sizeof err), 0);
    const int64_t day = 86400000LL, now = 10 * day;
    float v[3 * STORE_FEATURES];
    for (int i = 0; i < 3 * STORE_FEATURES; i++)
        v[i] = (float)i;
    /* Two forecasts one minute apart, horizon 3: they overlap on two minutes. */
    assert_int_equal(store_put_forecast(s, "web", now + 1000, now, 3, v, 0.8, err, sizeof err), 0);
    v[4] = NAN;
    assert_int_equal(
        store_put_forecast(s, "web", now + 61000, now + 60000, 3, v, NAN, err, sizeof err), 0);
    assert_int_equal(store_put_forecast(s, "api", now + 1000, now, 1, v, 0.5, err, sizeof err), 0);
    assert_int_equal(store_put_forecast(s, "web", now, now, 0, v, 0.5, err, sizeof err), AE_EINVAL);

    struct fcollect c = {0};
    assert_int_equal(
        store_each_forecast(s, "web", INT64_MIN, INT64_MAX, fcollect_cb, &c, err, sizeof err), 0);
    assert_int_equal(c.n, 6);
    /* Ordered by minute, then step. */
    assert_true(c.rows[0].minute_ms == now && c.rows[0].step == 1);
    assert_true(c.rows[1].minute_ms == now + 60000 && c.rows[1].step == 1);
    assert_true(c.rows[1].made_ms == now + 61000 && isnan(c.rows[1].confidence));
    assert_true(isnan(c.rows[1].values[4]));
    assert_true(c.rows[2].minute_ms == now + 60000 && c.rows[2].step == 2);
    assert_true(c.rows[2].confidence == 0.8);
    assert_true(c.rows[2].values[4] == (float)(STORE_FEATURES + 4));
    assert_true(c.rows[5].minute_ms == now + 180000 && c.rows[5].step == 3);

    /* [from, to) on the predicted minute. */
    memset(&c, 0, sizeof c);
    assert_int_equal(
        store_each_forecast(s, "web", now + 60000, now + 120000, fcollect_cb, &c, err, sizeof err),
        0);
    assert_int_equal(c.n, 2);
    memset(&c, 0, sizeof c);
    assert_int_equal(store_each_forecast(s, "api", 0, INT64_MAX, fcollect_cb, &c, err, sizeof err),
                     0);
    assert_int_equal(c.n, 1);

    /* Retention 1 day: all of them go once they are older than that. */
    assert_int_equal(store_prune(s, now + 3 * day, err, sizeof err), 7);
    memset(&c, 0, sizeof c);
    assert_int_equal(
        store_each_forecast(s, "web", INT64_MIN, INT64_MAX, fcollect_cb, &c, err, sizeof err), 0);
    assert_int_equal(c.n, 0);
    store_close(s);
}

struct order_count {
    int n, ordered;
    int64_t last_minute;
    int last_step;
};

static int count_cb(void *ctx, const struct store_forecast *f)
{
    struct order_count *c = ctx;
    if (f->minute_ms < c->last_minute ||
        (f->minute_ms == c->last_minute && f->step <= c->last_step))
        c->ordered = 0;
    c->last_minute = f->minute_ms;
    c->last_step = f->step;
    c->n++;
    return 0;
}

/* More steps than one page: every row arrives once, in order. */
static void test_forecast_paging(void **state)
{
    (void)state;
    char err[512];
    struct store *s;
    assert_int_equal(store_open(dir, 14, &s, err, sizeof err), 0);
    float v[4 * STORE_FEATURES] = {0};
    for (int i = 0; i < 400; i++) /* 1600 steps */
        assert_int_equal(
            store_put_forecast(s, "web", i * 60000LL + 5, i * 60000LL, 4, v, 0.9, err, sizeof err),
            0);
    struct order_count c = {0, 1, INT64_MIN, 0};
    assert_int_equal(
        store_each_forecast(s, "web", INT64_MIN, INT64_MAX, count_cb, &c, err, sizeof err), 0);
    assert_int_equal(c.n, 1600);
    assert_true(c.ordered);
    store_close(s);
}

/* A version 1 file (before forecasts) is migrated in place and keeps its minutes. */
static void test_migrates_v1(void **state)
{
    (void)state;
    char err[512], path[300];
    snprintf(path, sizeof path, "%s/aether.db", dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TABLE minutes (blueprint TEXT NOT NULL, ts INTEGER NOT "
                                  "NULL, v0 REAL, v1 REAL, v2 REAL, v3 REAL, v4 REAL, v5 REAL, v6 "
                                  "REAL, v7 REAL, v8 REAL, v9 REAL, v10 REAL, c0 INTEGER, c1 "
                                  "INTEGER, c2 INTEGER, c3 INTEGER, c4 INTEGER, c5 INTEGER, c6 "
                                  "INTEGER, c7 INTEGER, c8 INTEGER, c9 INTEGER, c10 INTEGER, "
                                  "samples INTEGER NOT NULL, ready REAL, requested REAL, estimated "
                                  "INTEGER NOT NULL, PRIMARY KEY (blueprint, ts)) WITHOUT ROWID;"
                                  "CREATE TABLE decisions (id INTEGER PRIMARY KEY, ts INTEGER NOT "
                                  "NULL, blueprint TEXT NOT NULL, tier TEXT NOT NULL, action TEXT "
                                  "NOT NULL, from_n INTEGER, to_n INTEGER, reason TEXT, inputs "
                                  "TEXT, result TEXT);"
                                  "INSERT INTO minutes (blueprint, ts, v0, samples, estimated) "
                                  "VALUES ('web', 60000, 0.5, 60, 0);"
                                  "PRAGMA user_version = 1;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    struct store *s;
    assert_int_equal(store_open(dir, 14, &s, err, sizeof err), 0);
    struct ae_minute m;
    assert_int_equal(store_read_latest(s, "web", INT64_MAX, &m, 1, err, sizeof err), 1);
    assert_true(m.start_ms == 60000 && m.values[0] == 0.5);
    float v[STORE_FEATURES] = {0};
    assert_int_equal(store_put_forecast(s, "web", 120000, 120000, 1, v, 0.9, err, sizeof err), 0);
    store_close(s);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), STORE_SCHEMA_VERSION);
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT backfilled FROM minutes", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 0); /* the old minute is the node's own */
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* Backfilled minutes go only where the store has none, are marked in the file, and give way to
 * a minute the node closes itself. */
static void test_backfilled_minutes_marked(void **state)
{
    (void)state;
    char err[512], path[300];
    struct store *s;
    assert_int_equal(store_open(dir, 14, &s, err, sizeof err), 0);
    struct ae_minute own, fill;
    ae_minute_init(&own, 120000);
    own.values[AE_F_INVOCATIONS] = 100;
    own.missing &= ~AE_FEATURE_BIT(AE_F_INVOCATIONS);
    assert_int_equal(store_put_minute(s, "web", &own, err, sizeof err), 0);
    fill = own;
    fill.values[AE_F_INVOCATIONS] = 7;
    assert_int_equal(store_put_backfilled_minute(s, "web", &fill, err, sizeof err), 0); /* kept */
    fill.start_ms = 60000;
    assert_int_equal(store_put_backfilled_minute(s, "web", &fill, err, sizeof err), 1);
    fill.start_ms = 180000;
    assert_int_equal(store_put_backfilled_minute(s, "web", &fill, err, sizeof err), 1);
    own.start_ms = 180000; /* the node's own minute replaces the backfilled one */
    assert_int_equal(store_put_minute(s, "web", &own, err, sizeof err), 0);
    struct ae_minute m[3];
    assert_int_equal(store_read_latest(s, "web", INT64_MAX, m, 3, err, sizeof err), 3);
    assert_true(m[0].values[AE_F_INVOCATIONS] == 7 && m[1].values[AE_F_INVOCATIONS] == 100 &&
                m[2].values[AE_F_INVOCATIONS] == 100);
    store_close(s);
    snprintf(path, sizeof path, "%s/aether.db", dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT ts, backfilled FROM minutes ORDER BY ts", -1, &st, NULL),
        SQLITE_OK);
    const int want[3][2] = {{60000, 1}, {120000, 0}, {180000, 0}};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int(st, 0), want[i][0]);
        assert_int_equal(sqlite3_column_int(st, 1), want[i][1]);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void test_schema_version_checked(void **state)
{
    (void)state;
    char err[512];
    struct store *s;
    assert_int_equal(store_open(dir, 14, &s, err, sizeof err), 0);
    store_close(s);
    char path[300];
    snprintf(path, sizeof path, "%s/aether.db", dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(store_open(dir, 14, &s, err, sizeof err), AE_ESCHEMA);
    assert_non_null(strstr(err, "schema version 99"));
    assert_null(s);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    char err[512];
    struct store *s;
    assert_int_equal(store_open(dir, 0, &s, err, sizeof err), AE_ERANGE);
    assert_non_null(strstr(err, "history_retention_days"));
    /* A data_dir under a regular file cannot be created. */
    char file[300], sub[320];
    snprintf(file, sizeof file, "%s/plain", dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);
    snprintf(sub, sizeof sub, "%s/x", file);
    assert_int_equal(store_open(sub, 14, &s, err, sizeof err), AE_EIO);
    assert_non_null(strstr(err, "data_dir"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_minutes_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paging_and_ranges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decisions_and_retention, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decision_result_updated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forecasts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forecast_paging, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrates_v1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema_version_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backfilled_minutes_marked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
