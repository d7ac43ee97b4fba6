/* A corrupt history database (private to store.c and store_recover.c): moved aside, then what
 * can still be read from it copied into the new one. */
#ifndef AETHER_NODE_STORE_RECOVER_H
#define AETHER_NODE_STORE_RECOVER_H

#include <sqlite3.h>
#include <stddef.h>

/* When the database at path exists and PRAGMA quick_check finds it corrupt (or it is not a
 * database), renames it and its -wal/-shm files to <path>.corrupt-<unix seconds> (that name in
 * aside, else aside is "") and logs an error naming both paths. 0 (nothing to do, or moved), or
 * AE_EIO when it cannot be moved. */
int store_set_aside_if_corrupt(const char *path, char *aside, size_t aside_size, char *err,
                               size_t errlen);

/* Copies the rows of minutes, decisions and forecasts that can still be read from the moved
 * file at aside into db (same schema; a table stops at its first unreadable page), and logs how
 * many of each. */
void store_salvage(sqlite3 *db, const char *aside);

#endif
