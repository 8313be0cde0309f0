/* db.c - SQLite opening and numbered migrations (concord/db.h). */
#include "config.h"

#include <stdio.h>
#include <sys/stat.h>

#include "concord/db.h"

cc_err
db_exec(sqlite3 *db, const char *sql, struct cc_diag *diag)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		cc_diag_set(diag, CC_EDB, "sqlite", "%s",
		    msg != NULL ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return CC_EDB;
	}
	return CC_OK;
}

cc_err
db_open(const char *path, sqlite3 **out, struct cc_diag *diag)
{
	sqlite3 *db = NULL;
	mode_t old;
	int rc, tries;

	old = umask(077);
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	umask(old);
	if (rc != SQLITE_OK) {
		cc_diag_set(diag, CC_EDB, "sqlite_open", "cannot open %s: %s",
		    path, db != NULL ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close_v2(db);
		return CC_EDB;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, 5000);
	sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	/* Switching a new file to WAL takes an exclusive lock and answers
	 * SQLITE_BUSY at once, without the busy handler, when another
	 * process opens the same new file: retry for up to 5 s. */
	for (tries = 0; ; tries++) {
		rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
		if (rc == SQLITE_OK || (rc & 0xff) != SQLITE_BUSY || tries >= 100)
			break;
		sqlite3_sleep(50);
	}
	if (rc != SQLITE_OK || db_exec(db, "PRAGMA synchronous=NORMAL;"
	    " PRAGMA foreign_keys=ON;", diag) != CC_OK) {
		if (rc != SQLITE_OK)
			cc_diag_set(diag, CC_EDB, "sqlite", "%s",
			    sqlite3_errmsg(db));
		sqlite3_close_v2(db);
		return CC_EDB;
	}
	*out = db;
	return CC_OK;
}

static int
user_version(sqlite3 *db)
{
	sqlite3_stmt *st;
	int v = -1;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) !=
	    SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

cc_err
db_migrate(sqlite3 *db, const char *const *migrations, int n,
    struct cc_diag *diag)
{
	char pragma[64];
	int v, i;

	/* BEGIN IMMEDIATE: two processes migrating at once serialise here. */
	if (db_exec(db, "BEGIN IMMEDIATE", diag) != CC_OK)
		return CC_EDB;
	if ((v = user_version(db)) < 0) {
		db_exec(db, "ROLLBACK", NULL);
		return cc_diag_set(diag, CC_EDB, "sqlite", "%s",
		    sqlite3_errmsg(db));
	}
	if (v > n) {
		db_exec(db, "ROLLBACK", NULL);
		return cc_diag_set(diag, CC_ECONFLICT, "schema_newer",
		    "schema version %d is newer than this program's %d", v, n);
	}
	for (i = v; i < n; i++) {
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version=%d", i + 1);
		if (db_exec(db, migrations[i], diag) != CC_OK ||
		    db_exec(db, pragma, diag) != CC_OK) {
			db_exec(db, "ROLLBACK", NULL);
			if (diag != NULL) {
				char m[sizeof(diag->message)];
				char c[sizeof(diag->code)];
				snprintf(m, sizeof(m), "%.200s", diag->message);
				snprintf(c, sizeof(c), "%s", diag->code);
				cc_diag_set(diag, CC_EDB, c,
				    "migration %d: %.200s", i + 1, m);
			}
			return CC_EDB;
		}
	}
	return db_exec(db, "COMMIT", diag);
}
