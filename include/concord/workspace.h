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

/* The schema version this build migrates workspaces to. */
int	ws_schema_version(void);

#endif /* CONCORD_WORKSPACE_H */
