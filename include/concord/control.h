/*
 * concord/control.h - the control database DATA_DIR/control.db: users,
 * token revocation, login throttling and the audit log.  One handle per
 * process, opened after fork() (SQLite handles must not cross a fork).
 */
#ifndef CONCORD_CONTROL_H
#define CONCORD_CONTROL_H

#include <time.h>

#include <jansson.h>
#include <sqlite3.h>

#include "concord/error.h"

#define CONTROL_ID_LEN		32	/* hex characters of a user id */
#define CONTROL_NAME_MAX	64	/* bytes of a user name */

struct cc_user {
	char		id[CONTROL_ID_LEN + 1];	/* opaque, random */
	char		username[CONTROL_NAME_MAX + 1];
	char		role[16];		/* "admin" or "member" */
	int		active;			/* 0 once disabled */
	long long	token_version;		/* bumped on password change,
						   disable and enable */
	char		created_at[32];		/* RFC 3339 */
	char		updated_at[32];
};

struct control {
	sqlite3		*db;
	sqlite3_stmt	*member_st;	/* team_resolve()'s look-up, prepared
					   once (NULL until first used) */
	sqlite3_stmt	*dv_st;		/* PRAGMA data_version, prepared
					   once (control_generation()) */
};

/*
 * Opens (creating and migrating if need be) DATA_DIR/control.db with WAL
 * and a busy timeout of 5 s.  *out is freed with control_close().
 * Errors: CC_EDB (diag says why), CC_ENOMEM.
 */
cc_err	control_open(const char *data_dir, struct control **out,
	    struct cc_diag *diag);
void	control_close(struct control *c);	/* NULL is fine */

/*
 * A pair of numbers that changes whenever control.db may have changed
 * since the last call on this handle: gen[0] is SQLite's PRAGMA
 * data_version (which changes when another connection, in this process
 * or another, commits), gen[1] sqlite3_total_changes64() (this
 * connection's own writes, which data_version does not count).  Two
 * equal pairs mean no user, session,
 * revocation or membership changed in between, so a caller may keep what
 * it read from the database (the workers' authentication cache,
 * fcgi/authcache.h).  Reads the database header under a shared lock (no
 * page of a table).  gen is set only on success.  Errors: CC_EDB.
 * Source: https://sqlite.org/pragma.html#pragma_data_version.
 */
cc_err	control_generation(struct control *c, long long gen[2]);

/*
 * 1 if name is a valid user name: 1..64 bytes of [A-Za-z0-9._-], starting
 * with a letter or digit.
 */
int	control_valid_username(const char *name);

/*
 * Creates a user.  role is "admin" or "member"; the password must pass
 * auth_password_policy().  Errors: CC_EINVALID (bad name, role or
 * password: diag says which), CC_EEXIST (name taken, case-insensitively),
 * CC_EDB, CC_ENOMEM.  out (may be NULL) receives the new record.
 */
cc_err	control_user_add(struct control *c, const char *username,
	    const char *password, const char *role, struct cc_user *out,
	    struct cc_diag *diag);

/* Look-ups.  Errors: CC_ENOTFOUND, CC_EDB. */
cc_err	control_user_by_id(struct control *c, const char *id,
	    struct cc_user *out);
cc_err	control_user_by_name(struct control *c, const char *username,
	    struct cc_user *out);

/*
 * Checks a password.  For an unknown user a dummy Argon2id hash is
 * verified anyway, so that the time taken does not tell who exists
 * (security.md, "Passwords").  Rehashes when the stored hash's limits are
 * below the current ones (crypto_pwhash_str_needs_rehash).
 * Errors: CC_EAUTH (unknown user, wrong password, or disabled user),
 * CC_EDB, CC_ENOMEM.  out receives the user on success.
 */
cc_err	control_user_authenticate(struct control *c, const char *username,
	    const char *password, struct cc_user *out);

/*
 * Sets a new password and bumps the token version, so that every token
 * issued before stops working.  Errors: CC_EINVALID (policy),
 * CC_ENOTFOUND, CC_EDB.
 */
cc_err	control_user_set_password(struct control *c, const char *id,
	    const char *password, struct cc_diag *diag);

/* Enables or disables a user; bumps the token version.  Errors:
 * CC_ENOTFOUND, CC_EDB. */
cc_err	control_user_set_active(struct control *c, const char *id, int active);

/* Deletes a user record (not the workspace).  Errors: CC_ENOTFOUND, CC_EDB. */
cc_err	control_user_delete(struct control *c, const char *id);

/*
 * All users, ordered by name, as a new JSON array of user objects
 * (control_user_json()).  Errors: CC_EDB, CC_ENOMEM.
 */
cc_err	control_user_list(struct control *c, json_t **out);

/* A user as a new JSON object {id, username, role, active, created_at,
 * updated_at}; never the hash or the token version.  NULL on ENOMEM. */
json_t	*control_user_json(const struct cc_user *u);

/*
 * Token deny-list.  control_token_revoke() records jti (32 hex) until
 * expires_at (Unix seconds) and forgets entries that expired.
 * control_token_revoked() returns 1 if jti is on the list, 0 if not, -1 on
 * a database error (callers must treat -1 as revoked).
 */
cc_err	control_token_revoke(struct control *c, const char *jti,
	    const char *user_id, long long expires_at, time_t now);
int	control_token_revoked(struct control *c, const char *jti);

/*
 * Login throttling over a fixed window.  key names the subject
 * ("user:alice", "client:127.0.0.1").  control_throttle_check() returns
 * CC_ERATE when the key has max failures inside the window that began with
 * its first failure, with *retry_after set to the seconds left (>= 1);
 * CC_OK otherwise.  control_throttle_fail() counts one failure;
 * control_throttle_clear() forgets the key.  Errors: CC_EDB.
 */
cc_err	control_throttle_check(struct control *c, const char *key, time_t now,
	    int max, long window, long *retry_after);
cc_err	control_throttle_fail(struct control *c, const char *key, time_t now,
	    long window);
cc_err	control_throttle_clear(struct control *c, const char *key);

/*
 * Appends to the audit log: who (user id and name, may be NULL), what
 * (action, e.g. "login"; target, may be NULL), from where (client
 * address), outcome ("ok", "denied", "error") and the request id.
 * Errors: CC_EDB (the caller logs it; an audit failure never fails the
 * request it describes).
 */
cc_err	control_audit(struct control *c, const char *user_id,
	    const char *username, const char *action, const char *target,
	    const char *client, const char *outcome, const char *request_id);

/*
 * The same, recording the workspace the action changed (its key,
 * concord/teams.h: a user id or "team-" + a team id; NULL for actions on
 * no workspace, as control_audit() writes), so that the workspace's
 * audit log (control_audit_page()) lists it.  Errors: CC_EDB.
 */
cc_err	control_audit_ws(struct control *c, const char *workspace,
	    const char *user_id, const char *username, const char *action,
	    const char *target, const char *client, const char *outcome,
	    const char *request_id);

/*
 * One page of a workspace's audit log, newest first: at most size (>= 1)
 * entries with an id below before (0: from the newest), as a new JSON
 * array of {id, at, user_id, username, action, target, client, outcome,
 * request_id} (absent values null).  *next receives the id to pass as
 * before for the next page, 0 when this page is the last (keyset paging,
 * http-api.md).  Errors: CC_EINVAL (no workspace, size < 1), CC_EDB,
 * CC_ENOMEM.
 */
cc_err	control_audit_page(struct control *c, const char *workspace, int size,
	    long long before, json_t **out, long long *next);

/*
 * The run queue: runs are queued by a worker (POST /api/v1/runs) and
 * executed by the runner process, which must find them across
 * workspaces.  control_queue_add() queues run_id of user_id;
 * control_queue_claim() takes the oldest queued run for the runner pid
 * (run_id: 33 bytes, user_id: CONTROL_ID_LEN + 1), CC_ENOTFOUND when none;
 * control_queue_end() marks it ended; control_queue_orphans() ends the
 * runs a dead runner had claimed and returns them as a new JSON array of
 * {run_id, user_id} (their workspace rows are then marked failed).
 * Errors: CC_EDB.
 */
cc_err	control_queue_add(struct control *c, const char *run_id,
	    const char *user_id);
cc_err	control_queue_claim(struct control *c, long pid, char *run_id,
	    char *user_id);
cc_err	control_queue_end(struct control *c, const char *run_id);
cc_err	control_queue_orphans(struct control *c, json_t **out);

#endif /* CONCORD_CONTROL_H */
