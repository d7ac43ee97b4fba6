/* Setting a corrupt history aside (see store.h, store_set_aside_if_corrupt). */
#include "store.h"

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

int store_set_aside_if_corrupt(const char *path, char *err, size_t errlen)
{
    char why[512] = "";
    if (access(path, F_OK) != 0 || !is_corrupt(path, why, sizeof why))
        return 0;
    char aside[4200];
    snprintf(aside, sizeof aside, "%s.corrupt-%lld", path, (long long)time(NULL));
    /* The database first: once it is gone a stray WAL cannot be applied to a new one. */
    if (move_file(path, aside, "") != 0 || move_file(path, aside, "-wal") != 0 ||
        move_file(path, aside, "-shm") != 0) {
        snprintf(err, errlen, "history %s is corrupt (%s) and cannot be moved aside to %s: %s",
                 path, why, aside, strerror(errno));
        return AE_EIO;
    }
    nlog(NLOG_ERROR, "history",
         "%s is corrupt (%s): moved aside to %s; starting with an empty history (the sqlite3 "
         "shell's .recover command may salvage rows from the moved file)",
         path, why, aside);
    return 0;
}
