/*
 * teams.c - teams, members and roles in the control database, and the
 * workspace of a request (concord/teams.h).  Every statement is a fixed
 * string with bound parameters.
 */
#include "config.h"

#define _XOPEN_SOURCE_EXTENDED 1	/* nftw() FTW_DEPTH | FTW_PHYS */

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "concord/db.h"
#include "concord/teams.h"
#include "concord/util.h"

static const char *const role_names[] = { "none", "viewer", "editor",
	"owner" };

const char *
team_role_name(enum team_role r)
{
	return r >= TEAM_NONE && r <= TEAM_OWNER ? role_names[r] : "none";
}

enum team_role
team_role_of(const char *name)
{
	int i;

	if (name == NULL)
		return TEAM_NONE;
	for (i = TEAM_VIEWER; i <= TEAM_OWNER; i++)
		if (strcmp(name, role_names[i]) == 0)
			return (enum team_role)i;
	return TEAM_NONE;
}

static void
copy_col(sqlite3_stmt *st, int i, char *dst, size_t size)
{
	const unsigned char *v = sqlite3_column_text(st, i);

	snprintf(dst, size, "%s", v != NULL ? (const char *)v : "");
}

/* 1 if s is a team id: TEAM_ID_LEN lower-case hex digits. */
static int
valid_team_id(const char *s)
{
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' &&
		    s[i] <= 'f')) || i >= TEAM_ID_LEN)
			return 0;
	return i == TEAM_ID_LEN;
}

static cc_err
team_lookup(struct control *c, const char *sql, const char *key,
    struct cc_team *out)
{
	sqlite3_stmt *st;
	cc_err err;
	int rc;

	if (key == NULL)
		return CC_ENOTFOUND;
	if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK)
		return CC_EDB;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (out != NULL) {
			memset(out, 0, sizeof(*out));
			copy_col(st, 0, out->id, sizeof(out->id));
			copy_col(st, 1, out->name, sizeof(out->name));
			copy_col(st, 2, out->created_at, sizeof(out->created_at));
		}
		err = CC_OK;
	} else
		err = rc == SQLITE_DONE ? CC_ENOTFOUND : CC_EDB;
	sqlite3_finalize(st);
	return err;
}

cc_err
team_get(struct control *c, const char *id, struct cc_team *out)
{
	return team_lookup(c, "SELECT id, name, created_at FROM teams"
	    " WHERE id = ?1", id, out);
}

cc_err
team_by_name(struct control *c, const char *name, struct cc_team *out)
{
	return team_lookup(c, "SELECT id, name, created_at FROM teams"
	    " WHERE name = ?1", name, out);
}

/* Runs a statement with text parameters ?1..?n to its end: the SQLite
 * result code of the step, or the prepare's. */
static int
run_text(struct control *c, const char *sql, int n, const char *a,
    const char *b, const char *d, const char *e)
{
	const char *v[4] = { a, b, d, e };
	sqlite3_stmt *st;
	int rc, i;

	if ((rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL)) != SQLITE_OK)
		return rc;
	for (i = 0; i < n; i++)
		sqlite3_bind_text(st, i + 1, v[i], -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc;
}

cc_err
team_create(struct control *c, const char *name, const char *owner_id,
    struct cc_team *out, struct cc_diag *diag)
{
	char id[TEAM_ID_LEN + 1], now[32];
	struct cc_user u;
	int rc;

	if (!control_valid_username(name) || strlen(name) > TEAM_NAME_MAX)
		return cc_diag_set(diag, CC_EINVALID, "team_name_invalid",
		    "a team name has 1 to %d letters, digits, '.', '_' or '-'"
		    " and starts with a letter or digit", TEAM_NAME_MAX);
	if (owner_id != NULL && control_user_by_id(c, owner_id, &u) != CC_OK)
		return cc_diag_set(diag, CC_ENOTFOUND, "user_unknown",
		    "no such user for the team's owner");
	util_random_hex(id, TEAM_ID_LEN / 2);
	util_rfc3339(time(NULL), now, sizeof(now));
	if (db_exec(c->db, "BEGIN IMMEDIATE", diag) != CC_OK)
		return CC_EDB;
	rc = run_text(c, "INSERT INTO teams (id, name, created_at)"
	    " VALUES (?1, ?2, ?3)", 3, id, name, now, NULL);
	if (rc == SQLITE_DONE && owner_id != NULL)
		rc = run_text(c, "INSERT INTO team_members (team_id, user_id,"
		    " role, added_at) VALUES (?1, ?2, 'owner', ?3)", 3, id,
		    owner_id, now, NULL);
	if (rc != SQLITE_DONE) {
		db_exec(c->db, "ROLLBACK", NULL);
		if (rc == SQLITE_CONSTRAINT_UNIQUE ||
		    rc == SQLITE_CONSTRAINT_PRIMARYKEY)
			return cc_diag_set(diag, CC_EEXIST, "team_name_taken",
			    "the team name '%s' is taken", name);
		return cc_diag_set(diag, CC_EDB, "sqlite", "%s",
		    sqlite3_errmsg(c->db));
	}
	if (db_exec(c->db, "COMMIT", diag) != CC_OK) {
		db_exec(c->db, "ROLLBACK", NULL);
		return CC_EDB;
	}
	return out != NULL ? team_get(c, id, out) : CC_OK;
}

cc_err
team_delete(struct control *c, const char *id)
{
	if (run_text(c, "DELETE FROM teams WHERE id = ?1", 1, id, NULL, NULL,
	    NULL) != SQLITE_DONE)
		return CC_EDB;
	return sqlite3_changes(c->db) == 1 ? CC_OK : CC_ENOTFOUND;
}

int
team_runs_pending(struct control *c, const char *team_id)
{
	char key[WS_KEY_MAX + 1];
	sqlite3_stmt *st;
	int rc;

	snprintf(key, sizeof(key), TEAM_WS_PREFIX "%s", team_id);
	if (sqlite3_prepare_v2(c->db, "SELECT 1 FROM run_queue WHERE"
	    " user_id = ?1 AND state IN ('queued', 'running') LIMIT 1", -1,
	    &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return (flag == FTW_DP ? rmdir(path) : unlink(path)) == 0 ? 0 : -1;
}

cc_err
team_remove_dir(const char *data_dir, const char *id)
{
	char from[PATH_MAX], to[PATH_MAX];

	if (!valid_team_id(id)) {
		errno = EINVAL;
		return CC_EINVAL;
	}
	if ((size_t)snprintf(from, sizeof(from), "%s/workspaces/"
	    TEAM_WS_PREFIX "%s", data_dir, id) >= sizeof(from) ||
	    (size_t)snprintf(to, sizeof(to), "%s/workspaces/.deleted-%s",
	    data_dir, id) >= sizeof(to)) {
		errno = ENAMETOOLONG;
		return CC_EIO;
	}
	/* ".deleted-": not a valid id, so ws_sweep() and ws_open() never
	 * see it again, even when removing it stops half-way */
	if (rename(from, to) != 0)
		return errno == ENOENT ? CC_OK : CC_EIO;
	return nftw(to, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 ? CC_OK :
	    CC_EIO;
}

cc_err
team_list(struct control *c, const char *user_id, json_t **out)
{
	sqlite3_stmt *st;
	json_t *arr, *o;
	int rc;

	if ((arr = json_array()) == NULL)
		return CC_ENOMEM;
	/* ?1 NULL: every team, no role */
	if (sqlite3_prepare_v2(c->db, "SELECT t.id, t.name, t.created_at,"
	    " (SELECT role FROM team_members WHERE team_id = t.id AND"
	    "  user_id = ?1),"
	    " (SELECT count(*) FROM team_members WHERE team_id = t.id)"
	    " FROM teams t WHERE ?1 IS NULL OR EXISTS (SELECT 1 FROM"
	    " team_members WHERE team_id = t.id AND user_id = ?1)"
	    " ORDER BY t.name", -1, &st, NULL) != SQLITE_OK) {
		json_decref(arr);
		return CC_EDB;
	}
	sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *role = sqlite3_column_text(st, 3);
		o = json_pack("{s:s, s:s, s:s, s:o, s:I}",
		    "id", (const char *)sqlite3_column_text(st, 0),
		    "name", (const char *)sqlite3_column_text(st, 1),
		    "created_at", (const char *)sqlite3_column_text(st, 2),
		    "role", role != NULL ? json_string((const char *)role) :
		    json_null(), "members",
		    (json_int_t)sqlite3_column_int64(st, 4));
		if (o == NULL || json_array_append_new(arr, o) != 0)
			break;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		return rc == SQLITE_ROW ? CC_ENOMEM : CC_EDB;
	}
	*out = arr;
	return CC_OK;
}

cc_err
team_members(struct control *c, const char *team_id, json_t **out)
{
	sqlite3_stmt *st;
	json_t *arr, *o;
	int rc;

	if ((arr = json_array()) == NULL)
		return CC_ENOMEM;
	if (sqlite3_prepare_v2(c->db, "SELECT m.user_id, u.username, m.role,"
	    " m.added_at FROM team_members m JOIN users u ON u.id = m.user_id"
	    " WHERE m.team_id = ?1 ORDER BY u.username", -1, &st, NULL) !=
	    SQLITE_OK) {
		json_decref(arr);
		return CC_EDB;
	}
	sqlite3_bind_text(st, 1, team_id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		o = json_pack("{s:s, s:s, s:s, s:s}",
		    "user_id", (const char *)sqlite3_column_text(st, 0),
		    "username", (const char *)sqlite3_column_text(st, 1),
		    "role", (const char *)sqlite3_column_text(st, 2),
		    "added_at", (const char *)sqlite3_column_text(st, 3));
		if (o == NULL || json_array_append_new(arr, o) != 0)
			break;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		return rc == SQLITE_ROW ? CC_ENOMEM : CC_EDB;
	}
	*out = arr;
	return CC_OK;
}

int
team_member_role(struct control *c, const char *team_id, const char *user_id)
{
	sqlite3_stmt *st;
	int rc, role = TEAM_NONE;

	if (team_id == NULL || user_id == NULL)
		return TEAM_NONE;
	if (sqlite3_prepare_v3(c->db, "SELECT role FROM team_members"
	    " WHERE team_id = ?1 AND user_id = ?2", -1, 0, &st, NULL) !=
	    SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, team_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, user_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		role = (int)team_role_of((const char *)sqlite3_column_text(st,
		    0));
	else if (rc != SQLITE_DONE)
		role = -1;
	sqlite3_finalize(st);
	return role;
}

/* The number of owners of team_id other than user_id, or -1. */
static int
other_owners(struct control *c, const char *team_id, const char *user_id)
{
	sqlite3_stmt *st;
	int n = -1;

	if (sqlite3_prepare_v2(c->db, "SELECT count(*) FROM team_members"
	    " WHERE team_id = ?1 AND user_id <> ?2 AND role = 'owner'", -1, &st,
	    NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, team_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, user_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* Ends the transaction of a membership change with err. */
static cc_err
finish(struct control *c, cc_err err, struct cc_diag *diag)
{
	if (err == CC_OK && db_exec(c->db, "COMMIT", diag) == CC_OK)
		return CC_OK;
	db_exec(c->db, "ROLLBACK", NULL);
	return err == CC_OK ? CC_EDB : err;
}

cc_err
team_member_set(struct control *c, const char *team_id, const char *user_id,
    enum team_role role, int add, struct cc_diag *diag)
{
	char now[32];
	struct cc_user u;
	int cur, rc;

	if (role < TEAM_VIEWER || role > TEAM_OWNER)
		return cc_diag_set(diag, CC_EINVALID, "role_invalid",
		    "role must be 'viewer', 'editor' or 'owner'");
	if (db_exec(c->db, "BEGIN IMMEDIATE", diag) != CC_OK)
		return CC_EDB;
	if (team_get(c, team_id, NULL) != CC_OK)
		return finish(c, cc_diag_set(diag, CC_ENOTFOUND, "not_found",
		    "no such team"), diag);
	if (control_user_by_id(c, user_id, &u) != CC_OK)
		return finish(c, cc_diag_set(diag, CC_ENOTFOUND,
		    "user_unknown", "no such user"), diag);
	if ((cur = team_member_role(c, team_id, user_id)) < 0)
		return finish(c, CC_EDB, diag);
	if (add && cur != TEAM_NONE)
		return finish(c, cc_diag_set(diag, CC_EEXIST, "member_exists",
		    "%s is already a member (%s)", u.username,
		    team_role_name((enum team_role)cur)), diag);
	if (!add && cur == TEAM_NONE)
		return finish(c, cc_diag_set(diag, CC_ENOTFOUND, "not_member",
		    "%s is not a member", u.username), diag);
	if (cur == TEAM_OWNER && role != TEAM_OWNER &&
	    other_owners(c, team_id, user_id) == 0)
		return finish(c, cc_diag_set(diag, CC_ECONFLICT, "last_owner",
		    "%s is the team's last owner: make another member owner"
		    " first", u.username), diag);
	util_rfc3339(time(NULL), now, sizeof(now));
	if (add)
		rc = run_text(c, "INSERT INTO team_members (team_id, user_id,"
		    " role, added_at) VALUES (?1, ?2, ?3, ?4)", 4, team_id,
		    user_id, team_role_name(role), now);
	else
		rc = run_text(c, "UPDATE team_members SET role = ?3"
		    " WHERE team_id = ?1 AND user_id = ?2", 3, team_id,
		    user_id, team_role_name(role), NULL);
	if (rc != SQLITE_DONE)
		return finish(c, cc_diag_set(diag, CC_EDB, "sqlite", "%s",
		    sqlite3_errmsg(c->db)), diag);
	return finish(c, CC_OK, diag);
}

cc_err
team_member_remove(struct control *c, const char *team_id,
    const char *user_id, struct cc_diag *diag)
{
	int cur;

	if (db_exec(c->db, "BEGIN IMMEDIATE", diag) != CC_OK)
		return CC_EDB;
	if ((cur = team_member_role(c, team_id, user_id)) < 0)
		return finish(c, CC_EDB, diag);
	if (cur == TEAM_NONE)
		return finish(c, cc_diag_set(diag, CC_ENOTFOUND, "not_member",
		    "no such member"), diag);
	if (cur == TEAM_OWNER && other_owners(c, team_id, user_id) == 0)
		return finish(c, cc_diag_set(diag, CC_ECONFLICT, "last_owner",
		    "the team's last owner cannot leave: make another member"
		    " owner first, or delete the team"), diag);
	if (run_text(c, "DELETE FROM team_members WHERE team_id = ?1 AND"
	    " user_id = ?2", 2, team_id, user_id, NULL, NULL) != SQLITE_DONE)
		return finish(c, CC_EDB, diag);
	return finish(c, CC_OK, diag);
}

cc_err
team_resolve(struct control *c, const struct cc_user *user,
    const char *selector, struct ws_access *out, struct cc_diag *diag)
{
	sqlite3_stmt *st;
	struct cc_team t;
	const char *id;
	int role = TEAM_NONE, rc;

	memset(out, 0, sizeof(*out));
	if (selector == NULL || selector[0] == '\0' ||
	    strcmp(selector, "personal") == 0) {
		snprintf(out->key, sizeof(out->key), "%s", user->id);
		snprintf(out->name, sizeof(out->name), "%s", user->username);
		out->role = TEAM_OWNER;
		return CC_OK;
	}
	if (strncmp(selector, "team:", 5) != 0 ||
	    !valid_team_id(id = selector + 5))
		return cc_diag_set(diag, CC_EINVAL, "workspace_invalid",
		    "X-Concord-Workspace is 'personal' or 'team:ID' (ID: %d"
		    " lower-case hex digits)", TEAM_ID_LEN);
	/* One look-up: no such team and not a member answer alike (no
	 * existence leak). */
	if (c->member_st == NULL && sqlite3_prepare_v3(c->db, "SELECT m.role,"
	    " t.name FROM team_members m JOIN teams t ON t.id = m.team_id"
	    " WHERE m.team_id = ?1 AND m.user_id = ?2", -1,
	    SQLITE_PREPARE_PERSISTENT, &c->member_st, NULL) != SQLITE_OK)
		return cc_diag_set(diag, CC_EDB, "sqlite", "%s",
		    sqlite3_errmsg(c->db));
	st = c->member_st;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, user->id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		role = (int)team_role_of((const char *)sqlite3_column_text(st,
		    0));
		snprintf(t.id, sizeof(t.id), "%s", id);
		copy_col(st, 1, t.name, sizeof(t.name));
	}
	/* reset at once: a statement left running holds a read
	 * transaction that would pin the WAL snapshot */
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return cc_diag_set(diag, CC_EDB, "sqlite", "%s",
		    sqlite3_errmsg(c->db));
	if (rc == SQLITE_DONE || role == TEAM_NONE)
		return cc_diag_set(diag, CC_ENOTFOUND, "workspace_not_found",
		    "no such workspace");
	snprintf(out->key, sizeof(out->key), TEAM_WS_PREFIX "%s", t.id);
	snprintf(out->team_id, sizeof(out->team_id), "%s", t.id);
	snprintf(out->name, sizeof(out->name), "%s", t.name);
	out->role = (enum team_role)role;
	return CC_OK;
}

cc_err
team_workspaces(struct control *c, const struct cc_user *user, json_t **out)
{
	char sel[TEAM_ID_LEN + 8];
	json_t *arr, *teams, *t;
	size_t i;
	cc_err err;

	if ((err = team_list(c, user->id, &teams)) != CC_OK)
		return err;
	if ((arr = json_array()) == NULL) {
		json_decref(teams);
		return CC_ENOMEM;
	}
	json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s}", "id",
	    "personal", "kind", "personal", "name", user->username, "role",
	    "owner"));
	json_array_foreach(teams, i, t) {
		snprintf(sel, sizeof(sel), "team:%s",
		    json_string_value(json_object_get(t, "id")));
		json_array_append_new(arr, json_pack("{s:s, s:s, s:O, s:O, s:O}",
		    "id", sel, "kind", "team", "team_id", json_object_get(t,
		    "id"), "name", json_object_get(t, "name"), "role",
		    json_object_get(t, "role")));
	}
	json_decref(teams);
	*out = arr;
	return CC_OK;
}
