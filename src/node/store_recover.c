/* Setting a corrupt history aside and salvaging its rows (see store_recover.h). */
#include "store_recover.h"

#include "aether/error.h"
#include "aether/log.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* 1 when SQLite's last error on db says the file is damaged or not a database. */
static int corruption(sqlite3 *db)
{
    int code = db ? sqlite3_errcode(db) & 0xff : SQLITE_OK;
    return code == SQLITE_CORRUPT || code == SQLITE_NOTADB;
}

/* 1 (with the reason in why) when the file at path fails PRAGMA quick_check as corrupt. Other
 * failures (busy, permissions) are not corruption: the normal open reports them. */
static int is_corrupt(const char *path, char *why, size_t whylen)
{
    sqlite3 *db = NULL;
    int corrupt = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "PRAGMA quick_check(1)", -1, &st, NULL) != SQLITE_OK) {
        corrupt = corruption(db);
    } else if (sqlite3_step(st) != SQLITE_ROW) {
        corrupt = corruption(db);
    } else {
        const char *verdict = (const char *)sqlite3_column_text(st, 0);
        corrupt = !verdict || strcmp(verdict, "ok") != 0;
        if (corrupt)
            snprintf(why, whylen, "quick_check: %.200s", verdict ? verdict : "no answer");
    }
    if (corrupt && !why[0])
        snprintf(why, whylen, "%s", sqlite3_errmsg(db));
    for (char *c = why; *c; c++)
        if (*c == '\n')
            *c = ' '; /* quick_check lists one problem per line: the log line stays one line */
    sqlite3_finalize(st);
    sqlite3_close(db);
    return corrupt;
}

/* Renames path+suffix to aside+suffix when it exists. 0 or -1 (errno set). */
static int move_file(const char *path, const char *aside, const char *suffix)
{
    char from[4200], to[4300];
    snprintf(from, sizeof from, "%s%s", path, suffix);
    snprintf(to, sizeof to, "%s%s", aside, suffix);
    if (rename(from, to) != 0 && errno != ENOENT)
        return -1;
    return 0;
}

int store_set_aside_if_corrupt(const char *path, char *aside, size_t aside_size, char *err,
                               size_t errlen)
{
    char why[512] = "";
    aside[0] = '\0';
    if (access(path, F_OK) != 0 || !is_corrupt(path, why, sizeof why))
        return 0;
    snprintf(aside, aside_size, "%s.corrupt-%lld", path, (long long)time(NULL));
    /* The database first: once it is gone a stray WAL cannot be applied to a new one. */
    if (move_file(path, aside, "") != 0 || move_file(path, aside, "-wal") != 0 ||
        move_file(path, aside, "-shm") != 0) {
        snprintf(err, errlen, "history %s is corrupt (%s) and cannot be moved aside to %s: %s",
                 path, why, aside, strerror(errno));
        return AE_EIO;
    }
    nlog(NLOG_ERROR, "history",
         "%s is corrupt (%s): moved aside to %s; a new history gets the rows still readable "
         "(the sqlite3 shell's .recover command may find more in the moved file)",
         path, why, aside);
    return 0;
}

/* Copies the readable rows of table from old into db (INSERT OR IGNORE, one transaction).
 * Returns the count; -1 when the table cannot be read at all (or has another shape). */
static long copy_rows(sqlite3 *old, sqlite3 *db, const char *table)
{
    char sql[128];
    sqlite3_stmt *sel = NULL, *ins = NULL;
    snprintf(sql, sizeof sql, "SELECT * FROM %s", table);
    if (sqlite3_prepare_v2(old, sql, -1, &sel, NULL) != SQLITE_OK)
        return -1;
    int cols = sqlite3_column_count(sel);
    int at = snprintf(sql, sizeof sql, "INSERT OR IGNORE INTO %s VALUES (?", table);
    for (int i = 1; i < cols && at < (int)sizeof sql - 4; i++)
        at += snprintf(sql + at, sizeof sql - (size_t)at, ",?");
    snprintf(sql + at, sizeof sql - (size_t)at, ")");
    long copied = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &ins, NULL) == SQLITE_OK &&
        sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK) {
        copied = 0;
        while (sqlite3_step(sel) == SQLITE_ROW) { /* stops at the first unreadable page */
            for (int i = 0; i < cols; i++)
                sqlite3_bind_value(ins, i + 1, sqlite3_column_value(sel, i));
            if (sqlite3_step(ins) == SQLITE_DONE)
                copied++;
            sqlite3_reset(ins);
        }
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    }
    sqlite3_finalize(ins);
    sqlite3_finalize(sel);
    return copied;
}

void store_salvage(sqlite3 *db, const char *aside)
{
    sqlite3 *old = NULL;
    long n[3] = {-1, -1, -1};
    const char *const tables[3] = {"minutes", "decisions", "forecasts"};
    if (sqlite3_open_v2(aside, &old, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK)
        for (int t = 0; t < 3; t++)
            n[t] = copy_rows(old, db, tables[t]);
    sqlite3_close(old);
    nlog(NLOG_WARN, "history",
         "salvaged from %s: %ld minute rows, %ld decisions, %ld forecast steps (-1: unreadable)",
         aside, n[0], n[1], n[2]);
}
