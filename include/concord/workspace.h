/*
 * concord/workspace.h - a user's workspace: DATA_DIR/workspaces/<user-id>/
 * holding workspace.db (registry, profiles, mappings, runs, quality, and
 * the staging and star-schema tables a run writes) and uploads/<sha256>
 * (original bytes, immutable).
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

#endif /* CONCORD_WORKSPACE_H */
