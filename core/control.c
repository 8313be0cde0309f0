/*
 * control.c - the control database: users, token deny-list, login
 * throttling and the audit log (concord/control.h).  Every statement is a
 * fixed string with bound parameters.
 */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "concord/auth.h"
#include "concord/control.h"
#include "concord/db.h"
#include "concord/util.h"

/* Numbered migrations: append, never edit a released step. */
static const char *const migrations[] = {
	/* 1: users, deny-list, throttling, audit */
	"CREATE TABLE users ("
	"  id TEXT PRIMARY KEY,"
	"  username TEXT NOT NULL UNIQUE COLLATE NOCASE,"
	"  password_hash TEXT NOT NULL,"
	"  role TEXT NOT NULL CHECK (role IN ('admin', 'member')),"
	"  active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),"
	"  token_version INTEGER NOT NULL DEFAULT 0,"
	"  created_at TEXT NOT NULL,"
	"  updated_at TEXT NOT NULL);"
	"CREATE TABLE revoked_tokens ("
	"  jti TEXT PRIMARY KEY,"
	"  user_id TEXT NOT NULL,"
	"  expires_at INTEGER NOT NULL);"
	"CREATE TABLE login_throttle ("
	"  key TEXT PRIMARY KEY,"
	"  failures INTEGER NOT NULL,"
	"  window_start INTEGER NOT NULL);"
	"CREATE TABLE audit_log ("
	"  id INTEGER PRIMARY KEY,"
	"  at TEXT NOT NULL,"
	"  user_id TEXT,"
	"  username TEXT,"
	"  action TEXT NOT NULL,"
	"  target TEXT,"
	"  client TEXT,"
	"  outcome TEXT NOT NULL,"
	"  request_id TEXT);"
	"CREATE INDEX audit_log_at ON audit_log (at);",
	/* 2: the queue of runs the runner process executes */
	"CREATE TABLE run_queue ("
	"  run_id TEXT PRIMARY KEY,"
	"  user_id TEXT NOT NULL,"
	"  state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'ended')),"
	"  runner_pid INTEGER,"
	"  queued_at TEXT NOT NULL);"
	"CREATE INDEX run_queue_state ON run_queue (state, queued_at);",
	/* 3: teams and their members (concord/teams.h); the workspace an
	 * audited action changed (a user id or "team-" + a team id);
	 * earlier workspace actions were all in their user's workspace */
	"CREATE TABLE teams ("
	"  id TEXT PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE COLLATE NOCASE,"
	"  created_at TEXT NOT NULL);"
	"CREATE TABLE team_members ("
	"  team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,"
	"  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
	"  role TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'owner')),"
	"  added_at TEXT NOT NULL,"
	"  PRIMARY KEY (team_id, user_id)) WITHOUT ROWID;"
	"CREATE INDEX team_members_user ON team_members (user_id);"
	"ALTER TABLE audit_log ADD COLUMN workspace TEXT;"
	"UPDATE audit_log SET workspace = user_id WHERE action IN"
	"  ('file.delete', 'mapping.confirm', 'run.create', 'run.cancel',"
	"   'review.accept', 'review.reject', 'review.split',"
	"   'entity.create', 'entity.replace', 'entity.delete');"
	"CREATE INDEX audit_log_workspace ON audit_log (workspace, id);",
};

/* A dummy Argon2id hash, made once per process, verified for unknown
 * users so that their failed logins take as long as a known user's. */
static char dummy_hash[crypto_pwhash_STRBYTES];

cc_err
control_open(const char *data_dir, struct control **out, struct cc_diag *diag)
{
	char path[4096];
	struct control *c;
	cc_err err;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return CC_ENOMEM;
	snprintf(path, sizeof(path), "%s/control.db", data_dir);
	if ((err = db_open(path, &c->db, diag)) != CC_OK ||
	    (err = db_migrate(c->db, migrations,
	    (int)(sizeof(migrations) / sizeof(migrations[0])), diag)) != CC_OK) {
		control_close(c);
		return err;
	}
	*out = c;
	return CC_OK;
}

void
control_close(struct control *c)
{
	if (c == NULL)
		return;
	sqlite3_finalize(c->member_st);
	sqlite3_finalize(c->dv_st);
	sqlite3_close_v2(c->db);
	free(c);
}

cc_err
control_generation(struct control *c, long long gen[2])
{
	long long dv;
	int rc;

	if (c->dv_st == NULL && sqlite3_prepare_v3(c->db,
	    "PRAGMA main.data_version", -1, SQLITE_PREPARE_PERSISTENT,
	    &c->dv_st, NULL) != SQLITE_OK)
		return CC_EDB;
	rc = sqlite3_step(c->dv_st);
	dv = rc == SQLITE_ROW ? sqlite3_column_int64(c->dv_st, 0) : 0;
	sqlite3_reset(c->dv_st);
	if (rc != SQLITE_ROW)
		return CC_EDB;
	gen[0] = dv;
	gen[1] = sqlite3_total_changes64(c->db);
	return CC_OK;
}

int
control_valid_username(const char *name)
{
	size_t i;

	if (name == NULL || !isalnum((unsigned char)name[0]))
		return 0;
	for (i = 0; name[i] != '\0'; i++) {
		unsigned char ch = (unsigned char)name[i];
		if (i >= CONTROL_NAME_MAX)
			return 0;
		if (!(isalnum(ch) || ch == '.' || ch == '_' || ch == '-') ||
		    ch >= 0x80)
			return 0;
	}
	return 1;
}

static void
now_text(char *buf, size_t size)
{
	util_rfc3339(time(NULL), buf, size);
}

static void
copy_col(sqlite3_stmt *st, int i, char *dst, size_t size)
{
	const unsigned char *v = sqlite3_column_text(st, i);

	snprintf(dst, size, "%s", v != NULL ? (const char *)v : "");
}

#define USER_COLUMNS \
	"id, username, role, active, token_version, created_at, updated_at"

static void
read_user(sqlite3_stmt *st, struct cc_user *u)
{
	memset(u, 0, sizeof(*u));
	copy_col(st, 0, u->id, sizeof(u->id));
	copy_col(st, 1, u->username, sizeof(u->username));
	copy_col(st, 2, u->role, sizeof(u->role));
	u->active = sqlite3_column_int(st, 3);
	u->token_version = sqlite3_column_int64(st, 4);
	copy_col(st, 5, u->created_at, sizeof(u->created_at));
	copy_col(st, 6, u->updated_at, sizeof(u->updated_at));
}

/* Runs a look-up of one user by a text key. */
static cc_err
user_lookup(struct control *c, const char *sql, const char *key,
    struct cc_user *out, char *hash, size_t hashsize)
{
	sqlite3_stmt *st;
	cc_err err;
	int rc;

	if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK)
		return CC_EDB;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		read_user(st, out);
		if (hash != NULL)
			copy_col(st, 7, hash, hashsize);
		err = CC_OK;
	} else
		err = rc == SQLITE_DONE ? CC_ENOTFOUND : CC_EDB;
	sqlite3_finalize(st);
	return err;
}

cc_err
control_user_by_id(struct control *c, const char *id, struct cc_user *out)
{
	return user_lookup(c, "SELECT " USER_COLUMNS ", password_hash"
	    " FROM users WHERE id = ?1", id, out, NULL, 0);
}

cc_err
control_user_by_name(struct control *c, const char *username,
    struct cc_user *out)
{
	return user_lookup(c, "SELECT " USER_COLUMNS ", password_hash"
	    " FROM users WHERE username = ?1", username, out, NULL, 0);
}

cc_err
control_user_add(struct control *c, const char *username,
    const char *password, const char *role, struct cc_user *out,
    struct cc_diag *diag)
{
	char hash[crypto_pwhash_STRBYTES], id[CONTROL_ID_LEN + 1], now[32];
	sqlite3_stmt *st;
	cc_err err;
	int rc;

	if (!control_valid_username(username))
		return cc_diag_set(diag, CC_EINVALID, "username_invalid",
		    "a user name has 1 to %d letters, digits, '.', '_' or '-'"
		    " and starts with a letter or digit", CONTROL_NAME_MAX);
	if (role == NULL || (strcmp(role, "admin") != 0 &&
	    strcmp(role, "member") != 0))
		return cc_diag_set(diag, CC_EINVALID, "role_invalid",
		    "role must be 'admin' or 'member'");
	if ((err = auth_password_policy(password, diag)) != CC_OK)
		return err;
	if ((err = auth_password_hash(password, hash, sizeof(hash))) != CC_OK)
		return err;
	util_random_hex(id, CONTROL_ID_LEN / 2);
	now_text(now, sizeof(now));
	if (sqlite3_prepare_v2(c->db, "INSERT INTO users (id, username,"
	    " password_hash, role, created_at, updated_at)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?5)", -1, &st, NULL) != SQLITE_OK)
		return cc_diag_set(diag, CC_EDB, "sqlite", "%s",
		    sqlite3_errmsg(c->db));
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, username, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, role, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, now, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	sodium_memzero(hash, sizeof(hash));
	if (rc == SQLITE_CONSTRAINT_UNIQUE)
		return cc_diag_set(diag, CC_EEXIST, "username_taken",
		    "the user name '%s' is taken", username);
	if (rc != SQLITE_DONE)
		return cc_diag_set(diag, CC_EDB, "sqlite", "%s",
		    sqlite3_errmsg(c->db));
	if (out != NULL)
		return control_user_by_id(c, id, out);
	return CC_OK;
}

static const char *
get_dummy_hash(void)
{
	if (dummy_hash[0] == '\0') {
		char pw[33];
		util_random_hex(pw, 16);
		if (auth_password_hash(pw, dummy_hash, sizeof(dummy_hash)) !=
		    CC_OK)
			dummy_hash[0] = '\0';
	}
	return dummy_hash;
}

/* Stores a new hash without touching the token version (a rehash). */
static void
store_hash(struct control *c, const char *id, const char *password)
{
	char hash[crypto_pwhash_STRBYTES];
	sqlite3_stmt *st;

	if (auth_password_hash(password, hash, sizeof(hash)) != CC_OK)
		return;
	if (sqlite3_prepare_v2(c->db, "UPDATE users SET password_hash = ?2"
	    " WHERE id = ?1", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	sodium_memzero(hash, sizeof(hash));
}

cc_err
control_user_authenticate(struct control *c, const char *username,
    const char *password, struct cc_user *out)
{
	char hash[crypto_pwhash_STRBYTES + 1];
	struct cc_user u;
	cc_err err;
	size_t plen;

	if (password == NULL)
		password = "";
	plen = strlen(password);
	err = user_lookup(c, "SELECT " USER_COLUMNS ", password_hash"
	    " FROM users WHERE username = ?1", username != NULL ? username : "",
	    &u, hash, sizeof(hash));
	if (err == CC_EDB)
		return CC_EDB;
	if (err != CC_OK || plen > AUTH_PASSWORD_MAX) {
		/* Same work as for a real user: verify against a dummy. */
		if (crypto_pwhash_str_verify(get_dummy_hash(), password,
		    plen > AUTH_PASSWORD_MAX ? AUTH_PASSWORD_MAX : plen) == 0)
			return CC_EAUTH;	/* cannot happen: random */
		return CC_EAUTH;
	}
	if (crypto_pwhash_str_verify(hash, password, plen) != 0) {
		sodium_memzero(hash, sizeof(hash));
		return CC_EAUTH;
	}
	if (crypto_pwhash_str_needs_rehash(hash,
	    crypto_pwhash_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		store_hash(c, u.id, password);
	sodium_memzero(hash, sizeof(hash));
	if (!u.active)
		return CC_EAUTH;
	if (out != NULL)
		*out = u;
	return CC_OK;
}

/* Runs an UPDATE on one user by id; CC_ENOTFOUND if no row changed. */
static cc_err
update_user(struct control *c, const char *sql, const char *id,
    const char *text, int num)
{
	char now[32];
	sqlite3_stmt *st;
	int rc;

	now_text(now, sizeof(now));
	if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK)
		return CC_EDB;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
	if (text != NULL)
		sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int(st, 3, num);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return CC_EDB;
	return sqlite3_changes(c->db) == 1 ? CC_OK : CC_ENOTFOUND;
}

cc_err
control_user_set_password(struct control *c, const char *id,
    const char *password, struct cc_diag *diag)
{
	char hash[crypto_pwhash_STRBYTES];
	cc_err err;

	if ((err = auth_password_policy(password, diag)) != CC_OK)
		return err;
	if ((err = auth_password_hash(password, hash, sizeof(hash))) != CC_OK)
		return err;
	err = update_user(c, "UPDATE users SET password_hash = ?3,"
	    " token_version = token_version + 1, updated_at = ?2"
	    " WHERE id = ?1", id, hash, 0);
	sodium_memzero(hash, sizeof(hash));
	return err;
}

cc_err
control_user_set_active(struct control *c, const char *id, int active)
{
	return update_user(c, "UPDATE users SET active = ?3,"
	    " token_version = token_version + 1, updated_at = ?2"
	    " WHERE id = ?1", id, NULL, active ? 1 : 0);
}

/* Runs one fixed statement with one text parameter (?1) to its end. */
static cc_err
exec1(struct control *c, const char *sql, const char *arg)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK)
		return CC_EDB;
	sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? CC_OK : CC_EDB;
}

cc_err
control_user_delete(struct control *c, const char *id)
{
	if (exec1(c, "DELETE FROM users WHERE id = ?1", id) != CC_OK)
		return CC_EDB;
	return sqlite3_changes(c->db) == 1 ? CC_OK : CC_ENOTFOUND;
}

json_t *
control_user_json(const struct cc_user *u)
{
	return json_pack("{s:s, s:s, s:s, s:b, s:s, s:s}",
	    "id", u->id, "username", u->username, "role", u->role,
	    "active", u->active, "created_at", u->created_at,
	    "updated_at", u->updated_at);
}

cc_err
control_user_list(struct control *c, json_t **out)
{
	sqlite3_stmt *st;
	struct cc_user u;
	json_t *arr;
	int rc;

	if ((arr = json_array()) == NULL)
		return CC_ENOMEM;
	if (sqlite3_prepare_v2(c->db, "SELECT " USER_COLUMNS " FROM users"
	    " ORDER BY username", -1, &st, NULL) != SQLITE_OK) {
		json_decref(arr);
		return CC_EDB;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_user(st, &u);
		json_array_append_new(arr, control_user_json(&u));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		return CC_EDB;
	}
	*out = arr;
	return CC_OK;
}

cc_err
control_token_revoke(struct control *c, const char *jti, const char *user_id,
    long long expires_at, time_t now)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(c->db, "DELETE FROM revoked_tokens"
	    " WHERE expires_at < ?1", -1, &st, NULL) == SQLITE_OK) {
		/* Tokens past expiry (and leeway) fail anyway: forget them. */
		sqlite3_bind_int64(st, 1, (sqlite3_int64)now - 2 * AUTH_LEEWAY);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	if (sqlite3_prepare_v2(c->db, "INSERT OR IGNORE INTO revoked_tokens"
	    " (jti, user_id, expires_at) VALUES (?1, ?2, ?3)", -1, &st,
	    NULL) != SQLITE_OK)
		return CC_EDB;
	sqlite3_bind_text(st, 1, jti, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, user_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, expires_at);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? CC_OK : CC_EDB;
}

int
control_token_revoked(struct control *c, const char *jti)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(c->db, "SELECT 1 FROM revoked_tokens"
	    " WHERE jti = ?1", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, jti, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : -1;
}

cc_err
control_throttle_check(struct control *c, const char *key, time_t now,
    int max, long window, long *retry_after)
{
	sqlite3_stmt *st;
	cc_err err = CC_OK;
	int rc;

	if (sqlite3_prepare_v2(c->db, "SELECT failures, window_start"
	    " FROM login_throttle WHERE key = ?1", -1, &st, NULL) != SQLITE_OK)
		return CC_EDB;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		long long failures = sqlite3_column_int64(st, 0);
		long long end = sqlite3_column_int64(st, 1) + window;
		if (failures >= max && (long long)now < end) {
			*retry_after = (long)(end - now);
			if (*retry_after < 1)
				*retry_after = 1;
			err = CC_ERATE;
		}
	} else if (rc != SQLITE_DONE)
		err = CC_EDB;
	sqlite3_finalize(st);
	return err;
}

cc_err
control_throttle_fail(struct control *c, const char *key, time_t now,
    long window)
{
	sqlite3_stmt *st;
	int rc;

	/* A new window starts with the first failure after the last one
	 * ended. */
	if (sqlite3_prepare_v2(c->db, "INSERT INTO login_throttle"
	    " (key, failures, window_start) VALUES (?1, 1, ?2)"
	    " ON CONFLICT (key) DO UPDATE SET"
	    "  failures = CASE WHEN window_start + ?3 <= ?2 THEN 1"
	    "   ELSE failures + 1 END,"
	    "  window_start = CASE WHEN window_start + ?3 <= ?2 THEN ?2"
	    "   ELSE window_start END", -1, &st, NULL) != SQLITE_OK)
		return CC_EDB;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)now);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)window);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? CC_OK : CC_EDB;
}

cc_err
control_throttle_clear(struct control *c, const char *key)
{
	return exec1(c, "DELETE FROM login_throttle WHERE key = ?1", key);
}

cc_err
control_audit(struct control *c, const char *user_id, const char *username,
    const char *action, const char *target, const char *client,
    const char *outcome, const char *request_id)
{
	return control_audit_ws(c, NULL, user_id, username, action, target,
	    client, outcome, request_id);
}

cc_err
control_audit_ws(struct control *c, const char *workspace,
    const char *user_id, const char *username, const char *action,
    const char *target, const char *client, const char *outcome,
    const char *request_id)
{
	char now[32];
	sqlite3_stmt *st;
	int rc;

	now_text(now, sizeof(now));
	if (sqlite3_prepare_v2(c->db, "INSERT INTO audit_log (at, user_id,"
	    " username, action, target, client, outcome, request_id,"
	    " workspace) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", -1, &st,
	    NULL) != SQLITE_OK)
		return CC_EDB;
	sqlite3_bind_text(st, 1, now, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, user_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, username, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, target, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, client, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, outcome, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, request_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, workspace, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? CC_OK : CC_EDB;
}

/* A column's text as a JSON string, or null. */
static json_t *
text_or_null(sqlite3_stmt *st, int i)
{
	const unsigned char *v = sqlite3_column_text(st, i);

	return v != NULL ? json_string((const char *)v) : json_null();
}

cc_err
control_audit_page(struct control *c, const char *workspace, int size,
    long long before, json_t **out, long long *next)
{
	sqlite3_stmt *st;
	json_t *arr, *row;
	long long last = 0;
	int rc, n = 0;

	*next = 0;
	if (workspace == NULL || size < 1)
		return CC_EINVAL;
	if ((arr = json_array()) == NULL)
		return CC_ENOMEM;
	if (sqlite3_prepare_v2(c->db, "SELECT id, at, user_id, username,"
	    " action, target, client, outcome, request_id FROM audit_log"
	    " WHERE workspace = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3", -1,
	    &st, NULL) != SQLITE_OK) {
		json_decref(arr);
		return CC_EDB;
	}
	sqlite3_bind_text(st, 1, workspace, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, before > 0 ? before : INT64_MAX);
	sqlite3_bind_int(st, 3, size + 1);	/* one more: is there a next? */
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n++ == size) {
			*next = last;
			break;
		}
		last = sqlite3_column_int64(st, 0);
		row = json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
		    "id", (json_int_t)last, "at", text_or_null(st, 1),
		    "user_id", text_or_null(st, 2), "username",
		    text_or_null(st, 3), "action", text_or_null(st, 4),
		    "target", text_or_null(st, 5), "client", text_or_null(st, 6),
		    "outcome", text_or_null(st, 7), "request_id",
		    text_or_null(st, 8));
		if (row == NULL || json_array_append_new(arr, row) != 0) {
			sqlite3_finalize(st);
			json_decref(arr);
			return CC_ENOMEM;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		json_decref(arr);
		*next = 0;
		return CC_EDB;
	}
	*out = arr;
	return CC_OK;
}

cc_err
control_queue_add(struct control *c, const char *run_id, const char *user_id)
{
	char now[32];
	sqlite3_stmt *st;
	int rc;

	now_text(now, sizeof(now));
	if (sqlite3_prepare_v2(c->db, "INSERT INTO run_queue (run_id, user_id,"
	    " state, queued_at) VALUES (?1, ?2, 'queued', ?3)", -1, &st, NULL) !=
	    SQLITE_OK)
		return CC_EDB;
	sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, user_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, now, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? CC_OK : CC_EDB;
}

cc_err
control_queue_claim(struct control *c, long pid, char *run_id,
    char *user_id)
{
	sqlite3_stmt *st;
	cc_err err;
	int rc;

	if (sqlite3_prepare_v2(c->db, "UPDATE run_queue SET state = 'running',"
	    " runner_pid = ?1 WHERE run_id = (SELECT run_id FROM run_queue"
	    " WHERE state = 'queued' ORDER BY queued_at, rowid LIMIT 1)"
	    " RETURNING run_id, user_id", -1, &st, NULL) != SQLITE_OK)
		return CC_EDB;
	sqlite3_bind_int64(st, 1, pid);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		copy_col(st, 0, run_id, 33);
		copy_col(st, 1, user_id, 64 + 1);
		err = CC_OK;
	} else
		err = rc == SQLITE_DONE ? CC_ENOTFOUND : CC_EDB;
	sqlite3_finalize(st);
	return err;
}

cc_err
control_queue_end(struct control *c, const char *run_id)
{
	return exec1(c, "UPDATE run_queue SET state = 'ended'"
	    " WHERE run_id = ?1", run_id);
}

cc_err
control_queue_orphans(struct control *c, json_t **out)
{
	sqlite3_stmt *st;
	json_t *arr = json_array();

	if (sqlite3_prepare_v2(c->db, "UPDATE run_queue SET state = 'ended'"
	    " WHERE state = 'running' RETURNING run_id, user_id", -1, &st,
	    NULL) != SQLITE_OK) {
		json_decref(arr);
		return CC_EDB;
	}
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(arr, json_pack("{s:s, s:s}", "run_id",
		    (const char *)sqlite3_column_text(st, 0), "user_id",
		    (const char *)sqlite3_column_text(st, 1)));
	sqlite3_finalize(st);
	*out = arr;
	return CC_OK;
}
