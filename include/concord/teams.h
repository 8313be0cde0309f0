/*
 * concord/teams.h - team workspaces: teams and their members in the
 * control database (concord/control.h), each member with a role, and the
 * one rule that picks the workspace of a request.
 *
 * A workspace is named by a key, which is also its directory under
 * DATA_DIR/workspaces/ (concord/workspace.h): a user's personal
 * workspace is the user's id (32 hex), a team's is TEAM_WS_PREFIX and
 * the team's id ("team-" + 32 hex).  The two never collide (a user id
 * has no '-').  Keys are made here from control-database records, never
 * taken from a request.
 *
 * Roles, from least to most (each includes the ones before):
 *   viewer  read dashboards, tables, files, runs, exports;
 *   editor  + upload and delete files, save and confirm mappings, start
 *           and cancel runs, decide on review pairs, edit entities;
 *   owner   + manage the members, read the audit log, delete the team.
 * A user is the owner of their personal workspace.  Membership is read
 * from control.db on every request (no cache): removing a member or
 * changing a role takes effect at the member's next request, whatever
 * tokens they hold.
 */
#ifndef CONCORD_TEAMS_H
#define CONCORD_TEAMS_H

#include <jansson.h>

#include "concord/control.h"
#include "concord/error.h"

#define TEAM_ID_LEN	32		/* hex characters of a team id */
#define TEAM_NAME_MAX	64		/* bytes of a team name */
#define TEAM_WS_PREFIX	"team-"		/* a team workspace's key */
#define WS_KEY_MAX	64		/* bytes of any workspace key
					   (util_valid_id()) */

enum team_role {
	TEAM_NONE = 0,		/* not a member */
	TEAM_VIEWER,
	TEAM_EDITOR,
	TEAM_OWNER,
};

struct cc_team {
	char	id[TEAM_ID_LEN + 1];		/* opaque, random */
	char	name[TEAM_NAME_MAX + 1];
	char	created_at[32];			/* RFC 3339 */
};

/* "viewer", "editor", "owner" ("none" for TEAM_NONE). */
const char	*team_role_name(enum team_role r);

/* The role named name ("viewer", "editor", "owner"), or TEAM_NONE for
 * anything else (NULL too). */
enum team_role	 team_role_of(const char *name);

/*
 * Creates a team named name (the rules of control_valid_username(),
 * unique case-insensitively) and, when owner_id is not NULL, makes that
 * user its first owner in the same transaction.  out (may be NULL)
 * receives the record.  Errors: CC_EINVALID (bad name: diag code
 * team_name_invalid), CC_EEXIST (name taken: team_name_taken),
 * CC_ENOTFOUND (no user owner_id: user_unknown), CC_EDB.
 */
cc_err	team_create(struct control *c, const char *name, const char *owner_id,
	    struct cc_team *out, struct cc_diag *diag);

/* One team by id, or by name (case-insensitive).  Errors: CC_ENOTFOUND,
 * CC_EDB. */
cc_err	team_get(struct control *c, const char *id, struct cc_team *out);
cc_err	team_by_name(struct control *c, const char *name, struct cc_team *out);

/* Deletes a team and its memberships (not its workspace directory:
 * team_remove_dir()).  Errors: CC_ENOTFOUND, CC_EDB. */
cc_err	team_delete(struct control *c, const char *id);

/*
 * 1 when the run queue (control_queue_add()) holds a queued or running
 * run of team_id's workspace, 0 when not, -1 on a database error.  A
 * team is not deleted under a run.
 */
int	team_runs_pending(struct control *c, const char *team_id);

/*
 * Removes a deleted team's workspace directory data_dir/workspaces/
 * TEAM_WS_PREFIX<id>: renamed first to a name ws_sweep() skips, then
 * removed file by file (nftw(3), no symlink followed).  Errors: CC_EINVAL
 * (not a team id), CC_EIO (errno kept; what is left has the skipped
 * name).  A missing directory is CC_OK.
 */
cc_err	team_remove_dir(const char *data_dir, const char *id);

/*
 * The teams as a new JSON array of {id, name, created_at, role, members}
 * ordered by name: all of them when user_id is NULL (role null), else
 * those user_id belongs to with that user's role.  Errors: CC_EDB,
 * CC_ENOMEM.
 */
cc_err	team_list(struct control *c, const char *user_id, json_t **out);

/*
 * The members of a team as a new JSON array of {user_id, username, role,
 * added_at} ordered by user name.  Errors: CC_EDB, CC_ENOMEM.
 */
cc_err	team_members(struct control *c, const char *team_id, json_t **out);

/*
 * The role of user_id in team_id: TEAM_NONE when either does not exist
 * or the user is not a member.  One indexed look-up; -1 on a database
 * error (callers must treat it as TEAM_NONE).
 */
int	team_member_role(struct control *c, const char *team_id,
	    const char *user_id);

/*
 * Adds user_id to team_id with role (add = 1: CC_EEXIST when already a
 * member), or changes the role of a member (add = 0: CC_ENOTFOUND when
 * not one).  A change that would leave the team without an owner is
 * refused.  Errors: CC_EINVALID (role not viewer/editor/owner:
 * role_invalid), CC_ENOTFOUND (no such team or user), CC_EEXIST,
 * CC_ECONFLICT (last_owner), CC_EDB.
 */
cc_err	team_member_set(struct control *c, const char *team_id,
	    const char *user_id, enum team_role role, int add,
	    struct cc_diag *diag);

/*
 * Removes user_id from team_id.  Errors: CC_ENOTFOUND (not a member),
 * CC_ECONFLICT (the team's last owner: last_owner), CC_EDB.
 */
cc_err	team_member_remove(struct control *c, const char *team_id,
	    const char *user_id, struct cc_diag *diag);

/* The workspace a request works in (team_resolve()). */
struct ws_access {
	char		key[WS_KEY_MAX + 1];	/* directory under workspaces/ */
	char		team_id[TEAM_ID_LEN + 1];	/* "" when personal */
	char		name[TEAM_NAME_MAX + 1];	/* team or user name */
	enum team_role	role;			/* owner when personal */
};

/*
 * Resolves the selector a client sent (the X-Concord-Workspace header:
 * NULL, "" or "personal" for the user's own workspace; "team:ID" for a
 * team) against user's memberships.  Errors: CC_EINVAL (malformed
 * selector: workspace_invalid), CC_ENOTFOUND (no such team, or user is
 * not a member: the same answer, so that a team's existence does not
 * leak: workspace_not_found), CC_EDB.
 */
cc_err	team_resolve(struct control *c, const struct cc_user *user,
	    const char *selector, struct ws_access *out, struct cc_diag *diag);

/*
 * The workspaces user may pick, as a new JSON array: first {"id":
 * "personal", "kind": "personal", "name": username, "role": "owner"},
 * then one {"id": "team:ID", "kind": "team", "team_id", "name", "role"}
 * per membership, by team name.  Errors: CC_EDB, CC_ENOMEM.
 */
cc_err	team_workspaces(struct control *c, const struct cc_user *user,
	    json_t **out);

#endif /* CONCORD_TEAMS_H */
