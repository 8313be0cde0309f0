/*
 * concord/db.h - opening SQLite files the one way Concord does, and
 * numbered schema migrations kept in PRAGMA user_version.
 */
#ifndef CONCORD_DB_H
#define CONCORD_DB_H

#include <sqlite3.h>

#include "concord/error.h"

/*
 * Opens (creating) the database at path read-write with: WAL journal,
 * synchronous=NORMAL, foreign_keys=ON, busy timeout 5000 ms,
 * SQLITE_DBCONFIG_DEFENSIVE, and file mode 0600 for a new file (umask).
 * *out is closed with sqlite3_close_v2().  Errors: CC_EDB (diag holds
 * SQLite's message).
 */
cc_err	db_open(const char *path, sqlite3 **out, struct cc_diag *diag);

/*
 * Applies migrations[user_version .. n-1] in order, each in its own
 * transaction that also sets user_version to its 1-based number, so a
 * crash leaves the schema at a whole step.  A database whose user_version
 * is above n was written by a newer Concord: CC_ECONFLICT.  Errors:
 * CC_EDB (diag names the step), CC_ECONFLICT.
 */
cc_err	db_migrate(sqlite3 *db, const char *const *migrations, int n,
	    struct cc_diag *diag);

/* Runs one fixed SQL text (no parameters) and returns CC_OK or CC_EDB. */
cc_err	db_exec(sqlite3 *db, const char *sql, struct cc_diag *diag);

#endif /* CONCORD_DB_H */
