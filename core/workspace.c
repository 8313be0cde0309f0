/* workspace.c - per-user workspace files and schema (concord/workspace.h). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "concord/db.h"
#include "concord/entities.h"
#include "concord/schema.h"
#include "concord/model.h"
#include "concord/query.h"
#include "concord/util.h"
#include "concord/workspace.h"

/*
 * Numbered migrations (append only).  Step 1 holds the registry and the
 * tables every pipeline stage reports into; the staging and star-schema
 * tables are (re)built by a run inside its own transaction.
 */
static const char *const migrations[] = {
	/* 1: file registry, column profiles, mappings, runs, quality */
	"CREATE TABLE files ("
	"  seq INTEGER PRIMARY KEY,"		/* upload order; keyset paging */
	"  id TEXT NOT NULL UNIQUE,"		/* opaque id */
	"  name TEXT NOT NULL,"			/* name given at upload */
	"  sha256 TEXT NOT NULL UNIQUE,"	/* hex; uploads/<sha256> */
	"  size INTEGER NOT NULL,"		/* bytes */
	"  content_type TEXT NOT NULL,"
	"  format TEXT NOT NULL,"		/* csv | json | ndjson */
	"  encoding TEXT NOT NULL,"		/* utf-8 | utf-8-bom | latin-1 */
	"  delimiter TEXT,"			/* csv */
	"  quote TEXT,"				/* csv */
	"  has_header INTEGER,"			/* csv */
	"  line_ending TEXT,"			/* lf | crlf */
	"  records_path TEXT,"			/* json: member holding records */
	"  status TEXT NOT NULL CHECK (status IN"
	"    ('uploaded', 'profiled', 'mapped', 'processed', 'failed')),"
	"  error TEXT,"				/* reason when failed */
	"  row_count INTEGER,"
	"  column_count INTEGER,"
	"  header_fingerprint TEXT,"		/* sha256 of the column names */
	"  uploaded_at TEXT NOT NULL,"		/* RFC 3339 */
	"  profiled_at TEXT);"
	"CREATE INDEX files_fingerprint ON files (header_fingerprint);"
	"CREATE TABLE file_columns ("
	"  file_id TEXT NOT NULL REFERENCES files (id) ON DELETE CASCADE,"
	"  ordinal INTEGER NOT NULL,"		/* 1-based */
	"  name TEXT NOT NULL,"
	"  inferred_type TEXT NOT NULL,"
	"  nulls INTEGER NOT NULL,"
	"  blanks INTEGER NOT NULL,"
	"  distinct_count INTEGER NOT NULL,"
	"  distinct_exact INTEGER NOT NULL,"
	"  min_value TEXT,"
	"  max_value TEXT,"
	"  profile TEXT NOT NULL,"		/* the column's whole profile, JSON */
	"  PRIMARY KEY (file_id, ordinal));"
	"CREATE TABLE mappings ("
	"  file_id TEXT PRIMARY KEY REFERENCES files (id) ON DELETE CASCADE,"
	"  header_fingerprint TEXT NOT NULL,"
	"  state TEXT NOT NULL CHECK (state IN ('proposed', 'confirmed')),"
	"  mapper TEXT NOT NULL,"		/* heuristic | llm | user */
	"  document TEXT NOT NULL,"		/* entities and column targets, JSON */
	"  updated_at TEXT NOT NULL);"
	"CREATE TABLE runs ("
	"  seq INTEGER PRIMARY KEY,"
	"  id TEXT NOT NULL UNIQUE,"
	"  state TEXT NOT NULL CHECK (state IN"
	"    ('queued', 'running', 'done', 'failed', 'cancelled')),"
	"  phase TEXT,"
	"  progress_done INTEGER NOT NULL DEFAULT 0,"
	"  progress_total INTEGER NOT NULL DEFAULT 0,"
	"  counts TEXT,"			/* JSON */
	"  timings TEXT,"			/* JSON, milliseconds per phase */
	"  error TEXT,"
	"  cancel_requested INTEGER NOT NULL DEFAULT 0,"
	"  created_at TEXT NOT NULL,"
	"  started_at TEXT,"
	"  finished_at TEXT);"
	"CREATE TABLE quality_results ("
	"  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
	"  rule TEXT NOT NULL,"
	"  dimension TEXT NOT NULL,"		/* completeness, validity, ... */
	"  target TEXT NOT NULL,"		/* table.column the rule checks */
	"  passed INTEGER NOT NULL,"
	"  failed INTEGER NOT NULL,"
	"  examples TEXT,"			/* JSON array of failing rows */
	"  PRIMARY KEY (run_id, rule, target));",
	/* 2: decisions people made on pairs of records (the review queue);
	 * a and b are the two records' lineage, (a_file_id, a_row) <
	 * (b_file_id, b_row); every later run applies them */
	"CREATE TABLE match_decisions ("
	"  id INTEGER PRIMARY KEY,"
	"  entity TEXT NOT NULL,"
	"  a_file_id TEXT NOT NULL, a_row INTEGER NOT NULL,"
	"  b_file_id TEXT NOT NULL, b_row INTEGER NOT NULL,"
	"  decision TEXT NOT NULL CHECK (decision IN ('accept', 'reject')),"
	"  user_id TEXT,"
	"  request_id TEXT,"
	"  decided_at TEXT NOT NULL,"		/* RFC 3339 */
	"  UNIQUE (entity, a_file_id, a_row, b_file_id, b_row));",
	/* 3: entities the user adds to the target schema (entities.h) */
	"CREATE TABLE custom_entities ("
	"  seq INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  definition TEXT NOT NULL,"		/* JSON, schema_custom_validate() */
	"  created_at TEXT NOT NULL,"
	"  updated_at TEXT NOT NULL);",
	/* 4: key-overlap evidence of mapping proposals, by the two columns'
	 * fingerprints (file bytes, column ordinal and name) */
	"CREATE TABLE key_overlap_cache ("
	"  from_sha256 TEXT NOT NULL,"
	"  from_ordinal INTEGER NOT NULL,"
	"  from_column TEXT NOT NULL,"
	"  to_sha256 TEXT NOT NULL,"
	"  to_ordinal INTEGER NOT NULL,"
	"  to_column TEXT NOT NULL,"
	"  method TEXT NOT NULL,"		/* what was sampled and learned */
	"  found INTEGER NOT NULL,"		/* 1: a rule passed the guard */
	"  matched_one_to_one INTEGER NOT NULL,"
	"  coverage REAL NOT NULL,"
	"  from_n INTEGER NOT NULL,"		/* values sampled on the from side */
	"  description TEXT NOT NULL,"
	"  PRIMARY KEY (from_sha256, from_ordinal, from_column, to_sha256,"
	"    to_ordinal, to_column, method));",
	/* 5: the language model's answers by the SHA-256 of what determines
	 * them, and the requests made per UTC day (concord/llm.h) */
	"CREATE TABLE llm_cache ("
	"  key TEXT PRIMARY KEY,"		/* SHA-256 hex */
	"  purpose TEXT NOT NULL,"		/* mapping | ask */
	"  model TEXT NOT NULL,"
	"  answer TEXT NOT NULL,"		/* the validated JSON object */
	"  created_at TEXT NOT NULL);"
	"CREATE TABLE llm_usage ("
	"  day TEXT PRIMARY KEY,"		/* YYYY-MM-DD, UTC */
	"  requests INTEGER NOT NULL);",
	/* 6: key rules learned by runs, by the fingerprint of the two value
	 * lists (reconcile.c learn()) */
	"CREATE TABLE align_cache ("
	"  fingerprint TEXT PRIMARY KEY,"	/* BLAKE2b-256 hex */
	"  rule BLOB NOT NULL,"		/* struct align_rule */
	"  created_at TEXT NOT NULL);",
	/* 7: a run's settings (runs_settings_check(), JSON) */
	"ALTER TABLE runs ADD COLUMN settings TEXT;",
};

int
ws_schema_version(void)
{
	return (int)(sizeof(migrations) / sizeof(migrations[0]));
}

cc_err
ws_open(const char *data_dir, const char *user_id, struct workspace **out,
    struct cc_diag *diag)
{
	char path[PATH_MAX + 32];
	struct workspace *ws;
	cc_err err;

	if (!util_valid_id(user_id))
		return cc_diag_set(diag, CC_EINVAL, "workspace_id",
		    "invalid user id for a workspace");
	if ((ws = calloc(1, sizeof(*ws))) == NULL)
		return CC_ENOMEM;
	if ((size_t)snprintf(ws->dir, sizeof(ws->dir), "%s/workspaces/%s",
	    data_dir, user_id) >= sizeof(ws->dir) ||
	    (size_t)snprintf(ws->uploads, sizeof(ws->uploads), "%s/uploads",
	    ws->dir) >= sizeof(ws->uploads)) {
		ws_close(ws);
		return cc_diag_set(diag, CC_EINVAL, "workspace_path",
		    "data directory path too long");
	}
	if (util_mkdir_p(ws->uploads, 0700) != CC_OK) {
		ws_close(ws);
		return cc_diag_set(diag, CC_EIO, "workspace_mkdir",
		    "cannot create the workspace directory");
	}
	snprintf(path, sizeof(path), "%s/workspace.db", ws->dir);
	if ((err = db_open(path, &ws->db, diag)) != CC_OK ||
	    (err = db_migrate(ws->db, migrations, ws_schema_version(),
	    diag)) != CC_OK ||
	    (err = entities_load(ws, diag)) != CC_OK) {
		ws_close(ws);
		return err;
	}
	/* The last run's result, if any: read as if it were part of the
	 * workspace (model.h's tables resolve to it). */
	snprintf(path, sizeof(path), "%s/model.db", ws->dir);
	if (access(path, R_OK) == 0) {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(ws->db, "ATTACH DATABASE ?1 AS model", -1,
		    &st, NULL) == SQLITE_OK) {
			sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
			if (sqlite3_step(st) == SQLITE_DONE)
				/* a model of an older version: money in
				 * cents (best effort: tried at every open) */
				model_money_upgrade(ws->db, "model", NULL);
			sqlite3_finalize(st);
		}
	}
	*out = ws;
	return CC_OK;
}

void
ws_close(struct workspace *ws)
{
	if (ws == NULL)
		return;
	schema_custom_set(NULL);	/* the built-in schema again */
	query_cache_drop(ws->db);	/* statements the read side kept */
	sqlite3_close_v2(ws->db);
	free(ws);
}

/* Removes path + suffix ("-wal", "-shm"); 0 when gone, -1 otherwise. */
static int
unlink_side(const char *path, const char *suffix)
{
	char side[PATH_MAX + 8];

	if ((size_t)snprintf(side, sizeof(side), "%s%s", path, suffix) >=
	    sizeof(side)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return unlink(side) == 0 || errno == ENOENT ? 0 : -1;
}

int
ws_tmp_unlink_wal(const char *path)
{
	int a = unlink_side(path, "-wal"), e = errno;
	int b = unlink_side(path, "-shm");

	if (a != 0)
		errno = e;	/* the first failure's */
	return a == 0 && b == 0 ? 0 : -1;
}

cc_err
ws_tmp_create(char *path, int *fd)
{
	char orig[PATH_MAX];
	size_t len = strlen(path);
	struct stat st;
	int templ, f, e, tries;

	*fd = -1;
	if (len >= sizeof(orig)) {
		errno = ENAMETOOLONG;
		return CC_EIO;
	}
	memcpy(orig, path, len + 1);
	templ = len >= 6 && strcmp(path + len - 6, "XXXXXX") == 0;
	for (tries = 0; tries < 8; tries++) {
		if (templ) {
			memcpy(path, orig, len + 1);
			f = mkostemp(path, O_CLOEXEC);	/* mode 0600 */
		} else {
			if (unlink(path) != 0 && errno != ENOENT)
				return CC_EIO;
			/* and what a killed run left of its WAL: SQLite
			 * would read it into the new file (pipeline.c) */
			if (ws_tmp_unlink_wal(path) != 0)
				return CC_EIO;
			f = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
			    O_CLOEXEC, 0600);
			if (f < 0 && errno == EEXIST)
				continue;
		}
		if (f < 0)
			return CC_EIO;
		if (flock(f, LOCK_EX) != 0) {
			e = errno;
			close(f);
			unlink(path);
			errno = e;
			return CC_EIO;
		}
		/* A sweep may have locked and removed the file between its
		 * creation and our lock: then it has no name any more. */
		if (fstat(f, &st) == 0 && st.st_nlink > 0) {
			*fd = f;
			return CC_OK;
		}
		close(f);
	}
	errno = EAGAIN;
	return CC_EIO;
}

/* Whether uploads/<name> is a registered file's content (1), or may be
 * (the registry cannot be read: -1), or is nobody's (0). */
static int
registered(sqlite3 *db, const char *name)
{
	sqlite3_stmt *st;
	int rc;

	if (db == NULL || sqlite3_prepare_v2(db, "SELECT 1 FROM files WHERE"
	    " sha256 = ?1", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* Removes path if it is a regular file nobody holds locked (1), else 0.
 * With db, only when the registry does not list it either. */
static int
sweep_file(const char *path, sqlite3 *db, const char *name)
{
	struct stat a, b;
	int fd, n = 0;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) < 0)
		return 0;
	/* The inode check: the name may have been given to a new file
	 * since we opened the old one. */
	if (flock(fd, LOCK_EX | LOCK_NB) == 0 && fstat(fd, &a) == 0 &&
	    S_ISREG(a.st_mode) && (db == NULL || registered(db, name) == 0) &&
	    lstat(path, &b) == 0 && a.st_dev == b.st_dev &&
	    a.st_ino == b.st_ino && unlink(path) == 0)
		n = 1;
	close(fd);
	return n;
}

/* A stored upload's name: 64 lowercase hex digits (its SHA-256). */
static int
stored_name(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == 64;
}

int
ws_sweep_dir(const char *dir)
{
	char path[PATH_MAX + 300];
	const size_t plen = strlen(WS_UPLOAD_TMP_PREFIX);
	struct dirent *de;
	sqlite3 *db = NULL;
	int n = 0, tmp;
	DIR *d;

	if ((size_t)snprintf(path, sizeof(path), "%s/" WS_MODEL_TMP, dir) <
	    sizeof(path) && sweep_file(path, NULL, NULL)) {
		n++;
		/* the killed run's WAL, if it got that far (pipeline.c) */
		ws_tmp_unlink_wal(path);
	}
	/* A stored upload the registry does not list was left by a process
	 * killed between storing it and committing its row (registry.h):
	 * that process held the upload's lock until its commit. */
	if ((size_t)snprintf(path, sizeof(path), "%s/workspace.db", dir) <
	    sizeof(path) && access(path, F_OK) == 0 &&
	    sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		sqlite3_close_v2(db);
		db = NULL;
	}
	if (db != NULL)
		sqlite3_busy_timeout(db, 5000);
	if ((size_t)snprintf(path, sizeof(path), "%s/uploads", dir) >=
	    sizeof(path) || (d = opendir(path)) == NULL) {
		sqlite3_close_v2(db);
		return n;
	}
	while ((de = readdir(d)) != NULL) {
		tmp = strncmp(de->d_name, WS_UPLOAD_TMP_PREFIX, plen) == 0;
		if ((!tmp && (db == NULL || !stored_name(de->d_name))) ||
		    (size_t)snprintf(path, sizeof(path), "%s/uploads/%s", dir,
		    de->d_name) >= sizeof(path))
			continue;
		n += sweep_file(path, tmp ? NULL : db, de->d_name);
	}
	closedir(d);
	sqlite3_close_v2(db);
	return n;
}

int
ws_sweep(const char *data_dir)
{
	char path[PATH_MAX + 300];
	struct dirent *de;
	int n = 0;
	DIR *d;

	if ((size_t)snprintf(path, sizeof(path), "%s/workspaces", data_dir) >=
	    sizeof(path) || (d = opendir(path)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (!util_valid_id(de->d_name) ||
		    (size_t)snprintf(path, sizeof(path), "%s/workspaces/%s",
		    data_dir, de->d_name) >= sizeof(path))
			continue;
		n += ws_sweep_dir(path);
	}
	closedir(d);
	return n;
}

/* ---- the read side's cache of handles --------------------------------- */

struct ws_entry {
	char			 user[72];	/* "" when free */
	struct workspace	*ws;
	int			 has_model;	/* model.db existed at open */
	dev_t			 dev;		/* model.db when opened */
	ino_t			 ino;
	off_t			 size;
	struct timespec		 mtime;
	sqlite3_stmt		*dv;		/* PRAGMA main.data_version */
	long long		 gen;		/* bumped at every (re)open */
	unsigned long long	 used;		/* LRU clock */
	/* The schema this entry set last: schema_custom_stamp() just
	 * after, and workspace.db's data_version it was read at. */
	unsigned long long	 schema_stamp;
	long long		 schema_dv;
};

struct ws_cache {
	struct ws_entry		*e;
	int			 max;
	unsigned long long	 clock;
	long long		 gen;
};

cc_err
ws_cache_new(int max, struct ws_cache **out)
{
	struct ws_cache *c;

	if (out == NULL || max < 1 || max > 1024)
		return CC_EINVAL;
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->e = calloc((size_t)max, sizeof(*c->e))) == NULL) {
		free(c);
		return CC_ENOMEM;
	}
	c->max = max;
	*out = c;
	return CC_OK;
}

static void
entry_close(struct ws_entry *e)
{
	sqlite3_finalize(e->dv);
	ws_close(e->ws);
	memset(e, 0, sizeof(*e));
}

void
ws_cache_free(struct ws_cache *c)
{
	int i;

	if (c == NULL)
		return;
	for (i = 0; i < c->max; i++)
		entry_close(&c->e[i]);
	free(c->e);
	free(c);
}

/* model.db's identity now: 1 and *st filled when it exists, else 0. */
static int
model_stat(const char *dir, struct stat *st)
{
	char path[PATH_MAX + 16];

	if (strlen(dir) >= PATH_MAX)
		return 0;
	snprintf(path, sizeof(path), "%s/model.db", dir);
	return stat(path, st) == 0;
}

static int
same_model(const struct ws_entry *e, int has, const struct stat *st)
{
	if (has != e->has_model)
		return 0;
	return !has || (st->st_dev == e->dev && st->st_ino == e->ino &&
	    st->st_size == e->size && st->st_mtim.tv_sec == e->mtime.tv_sec &&
	    st->st_mtim.tv_nsec == e->mtime.tv_nsec);
}

/* Opens e for user under data_dir. */
static cc_err
entry_open(struct ws_cache *c, struct ws_entry *e, const char *data_dir,
    const char *user_id, struct cc_diag *diag)
{
	struct workspace *ws = NULL;
	struct stat st;
	char path[PATH_MAX];
	cc_err err;
	int has;

	if (!util_valid_id(user_id))
		return cc_diag_set(diag, CC_EINVAL, "workspace_id",
		    "invalid user id for a workspace");
	/* model.db's identity before ws_open() attaches it: if it is
	 * replaced in between, the next call sees another identity and
	 * opens again, so the handle is never kept on a stale model. */
	if ((size_t)snprintf(path, sizeof(path), "%s/workspaces/%s", data_dir,
	    user_id) >= sizeof(path))
		return cc_diag_set(diag, CC_EINVAL, "workspace_path",
		    "data directory path too long");
	has = model_stat(path, &st);
	if ((err = ws_open(data_dir, user_id, &ws, diag)) != CC_OK)
		return err;
	if (db_exec(ws->db, "PRAGMA query_only=1", diag) != CC_OK) {
		ws_close(ws);
		return CC_EDB;
	}
	memset(e, 0, sizeof(*e));
	if (sqlite3_prepare_v3(ws->db, "PRAGMA main.data_version", -1,
	    SQLITE_PREPARE_PERSISTENT, &e->dv, NULL) != SQLITE_OK) {
		cc_diag_set(diag, CC_EDB, "sqlite", "%s", sqlite3_errmsg(ws->db));
		ws_close(ws);
		return CC_EDB;
	}
	snprintf(e->user, sizeof(e->user), "%s", user_id);
	e->ws = ws;
	e->has_model = has;
	if (has) {
		e->dev = st.st_dev;
		e->ino = st.st_ino;
		e->size = st.st_size;
		e->mtime = st.st_mtim;
	}
	e->gen = ++c->gen;
	return CC_OK;
}

cc_err
ws_cache_get(struct ws_cache *c, const char *data_dir, const char *user_id,
    struct workspace **out, long long *version, struct cc_diag *diag)
{
	struct ws_entry *e = NULL, *lru = NULL;
	struct stat st;
	long long dv = 0;
	cc_err err;
	int i, has;

	if (c == NULL || data_dir == NULL || user_id == NULL || out == NULL)
		return cc_diag_set(diag, CC_EINVAL, "workspace_cache",
		    "no cache or no user");
	for (i = 0; i < c->max; i++) {
		if (c->e[i].ws != NULL && strcmp(c->e[i].user, user_id) == 0) {
			e = &c->e[i];
			break;
		}
		if (lru == NULL || c->e[i].ws == NULL ||
		    (lru->ws != NULL && c->e[i].used < lru->used))
			lru = &c->e[i];
	}
	if (e != NULL) {
		if (!sqlite3_get_autocommit(e->ws->db))
			sqlite3_exec(e->ws->db, "ROLLBACK", NULL, NULL, NULL);
		has = model_stat(e->ws->dir, &st);
		if (!same_model(e, has, &st)) {
			/* a run installed a new model: open again */
			entry_close(e);
			lru = e;
			e = NULL;
		}
	}
	if (e == NULL) {
		entry_close(lru);
		if ((err = entry_open(c, lru, data_dir, user_id, diag)) != CC_OK)
			return err;
		e = lru;
	}
	e->used = ++c->clock;
	sqlite3_reset(e->dv);
	if (sqlite3_step(e->dv) == SQLITE_ROW)
		dv = sqlite3_column_int64(e->dv, 0);
	else
		e->schema_stamp = 0;	/* unknown: read the schema again */
	sqlite3_reset(e->dv);
	if (version != NULL)
		*version = (e->gen << 32) ^ dv;
	/* the schema of this process is the workspace's (its own
	 * entities): another user's request may have set or cleared it
	 * while this handle stayed open */
	if (e->schema_stamp == 0 || e->schema_stamp != schema_custom_stamp() ||
	    e->schema_dv != dv) {
		if ((err = entities_load(e->ws, diag)) != CC_OK)
			return err;
		e->schema_stamp = schema_custom_stamp();
		e->schema_dv = dv;
	}
	*out = e->ws;
	return CC_OK;
}
