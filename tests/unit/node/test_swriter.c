/* The history's writer thread on real SQLite files: writes wait in memory while a second
 * connection holds the database's write lock and while the disk is full (a tiny tmpfs, when the
 * test may mount one), and all of them land once the obstacle is gone; a full queue drops and
 * counts; a write that can never succeed is dropped without blocking the ones behind it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "aether/error.h"
#include "store.h"
#include "swriter.h"
#include "wbudget.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TMPDIR_PREFIX "aether-swriter-test"
#include "tmpdir.h"

#define T0 1767225600000LL

static struct ae_minute minute(int64_t ts)
{
    struct ae_minute m;
    ae_minute_init(&m, ts);
    m.missing = 0;
    m.snapshots = 60;
    for (int i = 0; i < STORE_FEATURES; i++) {
        m.values[i] = 0.25 * (i + 1);
        m.samples[i] = 60;
    }
    return m;
}

static int count_cb(void *ctx, const struct ae_minute *m)
{
    (void)m;
    ++*(int *)ctx;
    return 0;
}

/* Minutes of "web" in the store at path dir, read through a reader handle. */
static int stored_minutes(struct store *s)
{
    struct store *r;
    char err[512];
    assert_int_equal(store_reader_open(s, &r, err, sizeof err), 0);
    int n = 0;
    assert_int_equal(
        store_each_minute(r, "web", INT64_MIN, INT64_MAX, count_cb, &n, err, sizeof err), 0);
    store_close(r);
    return n;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Polls until the writer has counted at least `errors` failed attempts (at most 15 s). */
static void wait_errors(struct swriter *w, long errors)
{
    struct swriter_stats st;
    for (int i = 0; i < 300; i++) {
        swriter_get_stats(w, &st);
        if (st.errors >= errors)
            return;
        sleep_ms(50);
    }
    fail_msg("the writer never failed %ld times", errors);
}

static void put_minutes(struct swriter *w, int from, int count)
{
    for (int i = from; i < from + count; i++) {
        struct ae_minute m = minute(T0 + i * 60000LL);
        assert_int_equal(swriter_put_minute(w, "web", &m), 0);
    }
}

/* Opens the store in dir into *s, and a second connection that holds its write lock. */
static sqlite3 *open_locked(struct store **s)
{
    char err[512], path[300];
    assert_int_equal(store_open(dir, 14, s, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/" STORE_FILE_NAME, dir);
    sqlite3 *other;
    assert_int_equal(sqlite3_open(path, &other), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    return other;
}

/* A second connection holds the write lock: the writes stay queued, retried, then all land. */
static void test_locked_database(void **state)
{
    (void)state;
    char err[512];
    struct store *s;
    sqlite3 *other = open_locked(&s);

    struct swriter *w;
    assert_int_equal(swriter_start(s, 100, &w, err, sizeof err), 0);
    put_minutes(w, 0, 10);
    wait_errors(w, 1);
    struct swriter_stats st;
    swriter_get_stats(w, &st);
    assert_int_equal(st.written, 0);
    assert_int_equal(st.depth, 10);
    assert_int_equal(st.dropped, 0);
    assert_int_equal(swriter_flush(w, 100), AE_ETIMEOUT);

    assert_int_equal(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    assert_int_equal(swriter_flush(w, 20000), 0);
    swriter_get_stats(w, &st);
    assert_int_equal(st.written, 10);
    assert_int_equal(st.depth, 0);
    assert_int_equal(stored_minutes(s), 10);
    swriter_stop(w, 1000);
    store_close(s);
}

/* A queue of 3 refuses the 4th and 5th write while the database is locked, and counts them. */
static void test_full_queue_drops_and_counts(void **state)
{
    (void)state;
    char err[512];
    struct store *s;
    sqlite3 *other = open_locked(&s);
    struct swriter *w;
    assert_int_equal(swriter_start(s, 3, &w, err, sizeof err), 0);
    put_minutes(w, 0, 3);
    for (int i = 3; i < 5; i++) {
        struct ae_minute m = minute(T0 + i * 60000LL);
        assert_int_equal(swriter_put_minute(w, "web", &m), AE_ENOMEM);
    }
    struct swriter_stats st;
    swriter_get_stats(w, &st);
    assert_int_equal(st.dropped, 2);
    assert_int_equal(st.dropped_kind[SWRITER_MINUTE], 2);
    assert_int_equal(st.dropped_kind[SWRITER_DECISION], 0);
    sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(other);
    assert_int_equal(swriter_flush(w, 20000), 0);
    assert_int_equal(stored_minutes(s), 3);
    swriter_stop(w, 1000);
    store_close(s);
}

/* A decision under an id already taken fails for good: it is dropped and the next write goes. */
static void test_permanent_failure_dropped(void **state)
{
    (void)state;
    char err[512];
    struct store *s;
    assert_int_equal(store_open(dir, 14, &s, err, sizeof err), 0);
    struct swriter *w;
    assert_int_equal(swriter_start(s, 10, &w, err, sizeof err), 0);
    struct store_decision d = {.id = 5,
                               .ts_ms = T0,
                               .blueprint = "web",
                               .tier = "reactive",
                               .action = "scale_up",
                               .from = 1,
                               .to = 2,
                               .reason = "cpu",
                               .inputs_json = "{}",
                               .result = "requested"};
    assert_int_equal(swriter_put_decision(w, &d), 0);
    assert_int_equal(swriter_put_decision(w, &d), 0); /* the same id again */
    assert_int_equal(swriter_set_result(w, 5, "done"), 0);
    put_minutes(w, 0, 1);
    assert_int_equal(swriter_flush(w, 10000), 0);
    struct swriter_stats st;
    swriter_get_stats(w, &st);
    assert_int_equal(st.written, 3);
    assert_int_equal(st.dropped, 1);
    assert_int_equal(st.dropped_kind[SWRITER_DECISION], 1);
    assert_int_equal(st.dropped_kind[SWRITER_MINUTE], 0);
    assert_int_equal(stored_minutes(s), 1);
    swriter_stop(w, 1000);
    store_close(s);
}

/* Stopping writes what is queued first. */
static void test_stop_drains(void **state)
{
    (void)state;
    char err[512];
    struct store *s;
    assert_int_equal(store_open(dir, 14, &s, err, sizeof err), 0);
    struct swriter *w;
    assert_int_equal(swriter_start(s, 1000, &w, err, sizeof err), 0);
    put_minutes(w, 0, 200);
    float v[2 * STORE_FEATURES] = {0};
    assert_int_equal(swriter_put_forecast(w, "web", T0, T0, 2, v, 0.5), 0);
    assert_int_equal(swriter_prune(w, T0 + 200 * 60000LL), 0);
    swriter_stop(w, 10000);
    assert_int_equal(stored_minutes(s), 200);
    store_close(s);
}

/* Fills the file system holding path until it is full; returns the filler's fd. */
static int fill_disk(const char *path)
{
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    assert_true(fd >= 0);
    char block[4096];
    memset(block, 'x', sizeof block);
    while (write(fd, block, sizeof block) > 0)
        ;
    while (write(fd, block, 1) > 0)
        ;
    return fd;
}

/* Mounts an 8 MiB tmpfs at dir/mnt, or skips the test where it may not. */
static void mount_tiny_tmpfs(char *mnt, size_t len)
{
    snprintf(mnt, len, "%s/mnt", dir);
    assert_int_equal(mkdir(mnt, 0700), 0);
    if (mount("tmpfs", mnt, "tmpfs", 0, "size=8m") != 0) {
        fprintf(stderr, "cannot mount a tmpfs (%s): disk-full case skipped\n", strerror(errno));
        skip();
    }
}

/* Disk full on an 8 MiB tmpfs (room for the database and its write-ahead log): the writes stay
 * queued and retried, none dropped, and all land once space is freed. Skipped where the test may
 * not mount a tmpfs. */
static void test_disk_full(void **state)
{
    (void)state;
    char mnt[300], err[512], filler[320];
    mount_tiny_tmpfs(mnt, sizeof mnt);
    struct store *s;
    assert_int_equal(store_open(mnt, 14, &s, err, sizeof err), 0);
    struct swriter *w;
    assert_int_equal(swriter_start(s, 5000, &w, err, sizeof err), 0);
    put_minutes(w, 0, 5);
    assert_int_equal(swriter_flush(w, 10000), 0);
    snprintf(filler, sizeof filler, "%s/filler", mnt);
    int fd = fill_disk(filler);
    put_minutes(w, 5, 300); /* each needs a new page in the write-ahead log */
    wait_errors(w, 2);
    struct swriter_stats st;
    swriter_get_stats(w, &st);
    assert_true(st.depth > 0);
    assert_int_equal(st.dropped, 0);

    close(fd);
    assert_int_equal(unlink(filler), 0);
    assert_int_equal(swriter_flush(w, 30000), 0);
    swriter_get_stats(w, &st);
    assert_int_equal(st.dropped, 0);
    assert_int_equal(stored_minutes(s), 305);
    swriter_stop(w, 1000);
    store_close(s);
}

/* A count of rows in the store file under mnt (SQL text sql). */
static long count_rows(const char *mnt, const char *sql)
{
    char path[400];
    snprintf(path, sizeof path, "%s/" STORE_FILE_NAME, mnt);
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long n = (long)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* The worst configuration the budget must cover in the test below: TTM at its shortest
 * interval (10 s) and a reactive change at every cooldown (10 s), on two blueprints. */
static void hour_config(struct ae_config *cfg)
{
    cfg_defaults(cfg);
    cfg->ttm.enabled = 1;
    cfg->ttm.evaluation_interval_ms = 10000;
    cfg->controller.evaluation_interval_ms = 1000;
    cfg->controller.slice_cooldown_ms = 10000;
    cfg->blueprint_count = 2;
}

/* One second of blueprint bp's writes at second sec of the hour: a closed minute at the end of
 * each minute; every 10 s a forecast, a TTM decision and a reactive change (decision, then its
 * result). Returns how many writes it queued. */
static long put_second(struct swriter *w, const char *bp, long sec, int64_t *next_id)
{
    int64_t t = T0 + sec * 1000;
    long n = 0;
    if (sec % 60 == 59) {
        struct ae_minute m = minute(T0 + (sec / 60) * 60000LL);
        assert_int_equal(swriter_put_minute(w, bp, &m), 0);
        n++;
    }
    if (sec % 10 != 0)
        return n;
    float values[2 * STORE_FEATURES] = {0};
    assert_int_equal(swriter_put_forecast(w, bp, t, t - t % 60000, 2, values, 0.9), 0);
    const char *tiers[] = {"ttm", "reactive"};
    for (int k = 0; k < 2; k++) {
        struct store_decision d = {.id = (*next_id)++,
                                   .ts_ms = t,
                                   .blueprint = bp,
                                   .tier = tiers[k],
                                   .action = "scale_up",
                                   .from = 1,
                                   .to = 2,
                                   .reason = "test",
                                   .inputs_json = "{}",
                                   .result = "pending"};
        assert_int_equal(swriter_put_decision(w, &d), 0);
    }
    assert_int_equal(swriter_set_result(w, *next_id - 1, "requested 2"), 0);
    return n + 4;
}

/* An hour of writes for two blueprints at the shortest TTM interval and cooldown arrives while
 * the disk is full: the queue the node sizes for that configuration takes all of it (none
 * dropped) and every minute, decision, result and forecast lands once space is freed. */
static void test_hour_of_disk_full(void **state)
{
    (void)state;
    char mnt[300], err[512], filler[320];
    mount_tiny_tmpfs(mnt, sizeof mnt);
    struct ae_config cfg;
    hour_config(&cfg);
    const long hour_per_bp = 60 + 4 * 360; /* what put_second queues per blueprint */
    assert_true(wbudget_hour_per_bp(&cfg) >= hour_per_bp);
    struct store *s;
    assert_int_equal(store_open(mnt, 14, &s, err, sizeof err), 0);
    struct swriter *w;
    assert_int_equal(swriter_start(s, wbudget_queue_capacity(&cfg), &w, err, sizeof err), 0);
    snprintf(filler, sizeof filler, "%s/filler", mnt);
    int fd = fill_disk(filler);
    int64_t next_id = 1;
    long queued = 0;
    for (long sec = 0; sec < WBUDGET_HOUR_MS / 1000; sec++) {
        queued += put_second(w, "web", sec, &next_id);
        queued += put_second(w, "api", sec, &next_id);
    }
    assert_int_equal(queued, 2 * hour_per_bp);
    assert_int_equal(swriter_prune(w, T0 + WBUDGET_HOUR_MS), 0);
    wait_errors(w, 2);
    struct swriter_stats st;
    swriter_get_stats(w, &st);
    assert_true(st.depth > queued / 2); /* the disk refuses them: they wait in memory */
    assert_int_equal(st.dropped, 0);

    close(fd);
    assert_int_equal(unlink(filler), 0);
    assert_int_equal(swriter_flush(w, 60000), 0);
    swriter_get_stats(w, &st);
    assert_int_equal(st.dropped, 0);
    swriter_stop(w, 1000);
    store_close(s);
    assert_int_equal(count_rows(mnt, "SELECT count(*) FROM minutes"), 2 * 60);
    assert_int_equal(count_rows(mnt, "SELECT count(*) FROM decisions"), 2 * 2 * 360);
    assert_int_equal(count_rows(mnt, "SELECT count(*) FROM decisions WHERE result = "
                                     "'requested 2'"),
                     2 * 360);
    assert_int_equal(count_rows(mnt, "SELECT count(DISTINCT blueprint || made) FROM forecasts"),
                     2 * 360);
}

/* Unmounts the tmpfs of test_disk_full (if it got that far), then removes the directory. */
static int teardown_mount(void **state)
{
    char mnt[300];
    snprintf(mnt, sizeof mnt, "%s/mnt", dir);
    umount2(mnt, MNT_DETACH);
    return teardown(state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_locked_database, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_queue_drops_and_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_permanent_failure_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_drains, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disk_full, setup, teardown_mount),
        cmocka_unit_test_setup_teardown(test_hour_of_disk_full, setup, teardown_mount),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
