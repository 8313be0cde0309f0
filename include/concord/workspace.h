/*
 * concord/workspace.h - a user's workspace: DATA_DIR/workspaces/<user-id>/
 * holding workspace.db (registry, profiles, mappings, runs, quality, and
 * the staging and star-schema tables a run writes) and uploads/<sha256>
 * (original bytes, immutable).
 *
 * Files being written live beside their final name until complete:
 * uploads/.upload-XXXXXX (an upload in progress, concord/registry.h) and
 * model.db.tmp (a run's new result, concord/pipeline.h).  The process
 * writing one holds an exclusive flock(2) on it (ws_tmp_create()), so
 * that ws_sweep() can tell the files of a living process from those a
 * killed one left behind.  Every file is created mode 0600 (the process
 * umask is 077, set once at start in fcgi/main.c; temporary files are
 * created 0600 explicitly).
 *
 * The directory is derived from the authenticated user's id (a control
 * database record), never from request input.
 */
#ifndef CONCORD_WORKSPACE_H
#define CONCORD_WORKSPACE_H

#include <limits.h>

#include <sqlite3.h>

#include "concord/error.h"

struct workspace {
	sqlite3	*db;
	char	 dir[PATH_MAX];		/* .../workspaces/<user-id> */
	char	 uploads[PATH_MAX];	/* .../workspaces/<user-id>/uploads */
};

/*
 * Opens the workspace of user_id (a control-database id: 1..64 of
 * [0-9a-z_-], else CC_EINVAL), creating its directories (mode 0700) and
 * database and applying migrations.  Call after fork().  *out is freed
 * with ws_close().  Errors: CC_EINVAL, CC_EIO, CC_EDB, CC_ECONFLICT,
 * CC_ENOMEM; diag says why.
 */
cc_err	ws_open(const char *data_dir, const char *user_id,
	    struct workspace **out, struct cc_diag *diag);
void	ws_close(struct workspace *ws);		/* NULL is fine */

/*
 * A worker's cache of read-only workspace handles, one per user, kept
 * open between requests (the read side: table pages, dashboards).  A
 * cached handle is workspace.db opened by ws_open() (so the workspace
 * exists and is migrated) and then set to PRAGMA query_only, with
 * model.db attached as "model"; when model.db is replaced (a run renames
 * a new one over it: another inode, size or modification time) the
 * handle is closed and opened again on the next ws_cache_get(), so a
 * cached handle never reads a model that is no longer current.  Not
 * thread-safe: one cache per process.
 */
struct ws_cache;

/*
 * A new cache of at most max handles (1..1024; the least recently used
 * is closed to make room).  Errors: CC_EINVAL (max out of range),
 * CC_ENOMEM.  Free with ws_cache_free().
 */
cc_err	ws_cache_new(int max, struct ws_cache **out);

/* Closes every handle and frees c (NULL is fine). */
void	ws_cache_free(struct ws_cache *c);

/*
 * The read-only handle of user_id's workspace under data_dir (arguments
 * as ws_open()), from the cache or opened now.  *out is borrowed: valid
 * until the next ws_cache_get() or ws_cache_free() on c; never
 * ws_close() it.  A transaction a previous user of the handle left open
 * is rolled back first.  *version (may be NULL) receives a number that
 * changes whenever what the handle reads may have changed since the
 * previous call: model.db replaced, or workspace.db written by another
 * connection (PRAGMA data_version); equal numbers mean the same data
 * (for caches of computed answers).  Writes through the handle fail
 * (SQLITE_READONLY: query_only).
 * Errors: those of ws_open() (CC_EINVAL, CC_EIO, CC_EDB, CC_ECONFLICT,
 * CC_ENOMEM); the cache is unchanged then.
 */
cc_err	ws_cache_get(struct ws_cache *c, const char *data_dir,
	    const char *user_id, struct workspace **out, long long *version,
	    struct cc_diag *diag);

/* The schema version this build migrates workspaces to. */
int	ws_schema_version(void);

#define WS_UPLOAD_TMP_PREFIX	".upload-"	/* uploads/.upload-XXXXXX */
#define WS_MODEL_TMP		"model.db.tmp"	/* a run's model being built */

/*
 * Creates a temporary file of a workspace, mode 0600, and locks it:
 * path (at most PATH_MAX bytes, NUL-terminated) is either a mkstemp(3)
 * template ending in "XXXXXX", replaced in place by the name made, or a
 * fixed name (WS_MODEL_TMP), whose stale file is replaced, with the
 * "-wal" and "-shm" files a killed run's SQLite left beside it (a run's
 * model is in WAL mode while quality and the aggregates run together:
 * core/pipeline.c; a stale WAL would be read into the new file).  On success
 * *fd is an open read-write descriptor holding an exclusive flock(2) on
 * the file; the lock lasts until the caller closes *fd (or the process
 * ends, also when it is killed), and ws_sweep() removes only unlocked
 * files.  The caller owns *fd and removes the file when it is not
 * renamed into place.  Errors: CC_EIO (errno kept; *fd is -1 and no
 * file is left).
 */
cc_err	ws_tmp_create(char *path, int *fd);

/*
 * Removes what SQLite's WAL mode keeps beside the database file path
 * (NUL-terminated, at most PATH_MAX bytes): path "-wal" and path "-shm"
 * (sqlite.org/walformat.html), each only if it is there.  For a run's
 * model being built (WS_MODEL_TMP) once no connection has it open: after
 * a failed run, and before a new one (ws_tmp_create() calls it).
 * Returns 0 when neither is left, -1 otherwise (errno of the failed
 * unlink(2), or ENAMETOOLONG); it tries both either way.
 */
int	ws_tmp_unlink_wal(const char *path);

/*
 * Removes what killed processes left in the workspace directory dir
 * (DATA_DIR/workspaces/<user-id>): temporary uploads
 * (uploads/WS_UPLOAD_TMP_PREFIX*), WS_MODEL_TMP (and its "-wal" and
 * "-shm" when it was removed), and stored uploads
 * (uploads/<sha256>) that workspace.db's registry does not list (a
 * process killed between storing an upload and committing its row),
 * each only when no living process holds its lock (ws_tmp_create(); an
 * upload keeps it until its row is committed), so it is safe while
 * uploads and runs go on.  Never touches registered files, nor stored
 * ones when the registry cannot be read.  Returns the number of files
 * removed (0 when dir or uploads/ cannot be read).
 */
int	ws_sweep_dir(const char *dir);

/*
 * ws_sweep_dir() for every workspace under data_dir/workspaces (entries
 * whose name is a valid user id, see util_valid_id()).  Called at the
 * start of the service and of its runner.  Returns the number of files
 * removed in all (0 when there are no workspaces yet).
 */
int	ws_sweep(const char *data_dir);

#endif /* CONCORD_WORKSPACE_H */
