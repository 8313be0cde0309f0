/* runs.c - runs as a resource (concord/runs.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "concord/db.h"
#include "concord/runs.h"
#include "concord/util.h"

static const char *
col(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

static json_t *
opt_json(const char *text)
{
	json_t *j = text != NULL ? json_loads(text, 0, NULL) : NULL;

	return j != NULL ? j : json_null();
}

static json_t *
opt_str(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

#define RUN_COLUMNS "id, state, phase, progress_done, progress_total," \
	" counts, timings, error, created_at, started_at, finished_at," \
	" settings"

static json_t *
run_json(sqlite3_stmt *st)
{
	json_t *o, *counts, *w;

	o = json_pack("{s:s, s:s, s:o, s:{s:I, s:I}, s:o, s:o, s:o,"
	    " s:s, s:o, s:o}",
	    "id", col(st, 0), "state", col(st, 1), "phase", opt_str(col(st, 2)),
	    "progress", "done", (json_int_t)sqlite3_column_int64(st, 3),
	    "total", (json_int_t)sqlite3_column_int64(st, 4),
	    "counts", opt_json(col(st, 5)), "timings_ms", opt_json(col(st, 6)),
	    "error", opt_str(col(st, 7)), "created_at", col(st, 8),
	    "started_at", opt_str(col(st, 9)),
	    "finished_at", opt_str(col(st, 10)));
	/* The warnings are kept with the counts (no schema change) and
	 * served beside them. */
	if (o == NULL)
		return NULL;
	/* the settings the run was queued with, defaults filled */
	{
		json_t *set = NULL;
		if (runs_settings_check(opt_json(col(st, 11)), &set, NULL) !=
		    CC_OK)
			runs_settings_check(NULL, &set, NULL);
		json_object_set_new(o, "settings", set != NULL ? set :
		    json_object());
	}
	counts = json_object_get(o, "counts");
	w = json_object_get(counts, "warnings");
	json_object_set_new(o, "warnings", json_is_array(w) ? json_incref(w) :
	    json_array());
	if (json_is_object(counts))
		json_object_del(counts, "warnings");
	return o;
}

/* Opens the workspace's RUNS_LOCK and tries to lock it exclusively:
 * the descriptor (the caller closes it, which unlocks), or -1 with
 * errno EWOULDBLOCK when a living process holds it. */
static int
run_lock(struct workspace *ws)
{
	char path[PATH_MAX + 32];
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/" RUNS_LOCK, ws->dir) >=
	    sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600)) < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Ends the runs left "running" (inside the caller's write transaction):
 * done if the installed model is theirs (the process ended after
 * installing it, before recording it: out of disk, or killed), else
 * failed.  Returns how many failed, or -1. */
static int
fail_running(struct workspace *ws)
{
	char now[32];
	sqlite3_stmt *st;
	int n = -1;

	util_rfc3339(time(NULL), now, sizeof(now));
	/* model is attached by ws_open() when model.db exists */
	if (sqlite3_prepare_v2(ws->db, "UPDATE runs SET state = 'done',"
	    " finished_at = ?1 WHERE state = 'running' AND id IN (SELECT"
	    " run_id FROM model.model_info)", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, now, -1, SQLITE_STATIC);
		(void)sqlite3_step(st);
		sqlite3_finalize(st);
	}
	if (sqlite3_prepare_v2(ws->db, "UPDATE runs SET state = 'failed',"
	    " error = 'the process running it ended', finished_at = ?1 WHERE"
	    " state = 'running'", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, now, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_DONE)
		n = sqlite3_changes(ws->db);
	sqlite3_finalize(st);
	return n;
}

cc_err
runs_settings_check(json_t *in, json_t **out, struct cc_diag *diag)
{
	const char *key, *mc = "quarantine";
	json_t *v;

	*out = NULL;
	if (in != NULL && !json_is_null(in)) {
		if (!json_is_object(in)) {
			json_decref(in);
			return cc_diag_set(diag, CC_EINVALID, "bad_settings",
			    "the run settings are a JSON object");
		}
		json_object_foreach(in, key, v) {
			if (strcmp(key, "missing_customer") != 0) {
				cc_diag_set(diag, CC_EINVALID, "unknown_setting",
				    "no run setting \"%.60s\": the settings are"
				    " missing_customer", key);
				json_decref(in);
				return CC_EINVALID;
			}
			if (!json_is_string(v) || (strcmp(json_string_value(v),
			    "quarantine") && strcmp(json_string_value(v),
			    "unknown_customer"))) {
				json_decref(in);
				return cc_diag_set(diag, CC_EINVALID,
				    "bad_setting", "missing_customer is"
				    " \"quarantine\" or \"unknown_customer\"");
			}
			mc = json_string_value(v);
		}
	}
	*out = json_pack("{s:s}", "missing_customer", mc);
	json_decref(in);
	return *out != NULL ? CC_OK : CC_ENOMEM;
}

cc_err
runs_create(struct workspace *ws, char *id)
{
	return runs_create_with(ws, NULL, id);
}

/*
 * Inserts a run as runs_create_with() says.  held: the caller holds the
 * RUNS_LOCK already (runs_start()), so a run found "running" is a dead
 * one, and the new run is inserted "running" (started now) rather than
 * queued: a process that cannot record anything after this (its disk
 * full) leaves a run that the lock tells dead, never a queued run that
 * nobody will execute.
 */
static cc_err
create_run(struct workspace *ws, const json_t *settings, char *id, int held)
{
	char now[32], *set = NULL;
	sqlite3_stmt *st;
	cc_err err = CC_EDB;
	int rc;

	if (db_exec(ws->db, "BEGIN IMMEDIATE", NULL) != CC_OK)
		return CC_EDB;
	if (sqlite3_prepare_v2(ws->db, "SELECT id, state FROM runs WHERE"
	    " state IN ('queued', 'running') LIMIT 1", -1, &st, NULL) !=
	    SQLITE_OK)
		goto out;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && strcmp(col(st, 1), "running") == 0) {
		/* Running, but nobody holds the lock runs_execute() keeps:
		 * its process ended (killed, or out of memory or disk before
		 * it could say so).  That run failed; this one may start. */
		int fd = held ? -2 : run_lock(ws);
		if (fd >= 0 || held) {
			sqlite3_finalize(st);
			rc = fail_running(ws);
			if (fd >= 0)
				close(fd);
			if (rc < 0)
				goto out;
			if (sqlite3_prepare_v2(ws->db, "SELECT id, state FROM"
			    " runs WHERE state IN ('queued', 'running') LIMIT 1",
			    -1, &st, NULL) != SQLITE_OK)
				goto out;
			rc = sqlite3_step(st);
		}
	}
	if (rc == SQLITE_ROW) {
		snprintf(id, RUNS_ID_LEN + 1, "%s", col(st, 0));
		sqlite3_finalize(st);
		err = CC_ECONFLICT;
		goto out;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		goto out;
	util_random_hex(id, RUNS_ID_LEN / 2);
	util_rfc3339(time(NULL), now, sizeof(now));
	if (settings != NULL && (set = json_dumps(settings, JSON_COMPACT |
	    JSON_SORT_KEYS)) == NULL) {
		err = CC_ENOMEM;
		goto out;
	}
	if (sqlite3_prepare_v2(ws->db, held ? "INSERT INTO runs (id, state,"
	    " created_at, started_at, settings) VALUES (?1, 'running', ?2, ?2,"
	    " ?3)" : "INSERT INTO runs (id, state, created_at, settings)"
	    " VALUES (?1, 'queued', ?2, ?3)", -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, set, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		err = CC_OK;
out:
	free(set);
	if (db_exec(ws->db, err == CC_OK ? "COMMIT" : "ROLLBACK", NULL) !=
	    CC_OK && err == CC_OK)
		err = CC_EDB;
	return err;
}

cc_err
runs_create_with(struct workspace *ws, const json_t *settings, char *id)
{
	return create_run(ws, settings, id, 0);
}

cc_err
runs_get(struct workspace *ws, const char *id, json_t **out)
{
	sqlite3_stmt *st;
	cc_err err;
	int rc;

	if (sqlite3_prepare_v2(ws->db, "SELECT " RUN_COLUMNS " FROM runs"
	    " WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
		return CC_EDB;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		err = (*out = run_json(st)) != NULL ? CC_OK : CC_ENOMEM;
	else
		err = rc == SQLITE_DONE ? CC_ENOTFOUND : CC_EDB;
	sqlite3_finalize(st);
	return err;
}

cc_err
runs_list(struct workspace *ws, int limit, json_t **out)
{
	sqlite3_stmt *st;
	json_t *arr;
	int rc;

	if (sqlite3_prepare_v2(ws->db, "SELECT " RUN_COLUMNS " FROM runs"
	    " ORDER BY seq DESC LIMIT ?1", -1, &st, NULL) != SQLITE_OK)
		return CC_EDB;
	sqlite3_bind_int(st, 1, limit);
	arr = json_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(arr, run_json(st));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		return CC_EDB;
	}
	*out = arr;
	return CC_OK;
}

cc_err
runs_cancel(struct workspace *ws, const char *id)
{
	char now[32];
	sqlite3_stmt *st;
	json_t *run;
	const char *state;
	cc_err err;
	int rc;

	if ((err = runs_get(ws, id, &run)) != CC_OK)
		return err;
	state = json_string_value(json_object_get(run, "state"));
	err = strcmp(state, "queued") && strcmp(state, "running") ?
	    CC_ECONFLICT : CC_OK;
	json_decref(run);
	if (err != CC_OK)
		return err;
	util_rfc3339(time(NULL), now, sizeof(now));
	if (sqlite3_prepare_v2(ws->db, "UPDATE runs SET cancel_requested = 1,"
	    " state = CASE state WHEN 'queued' THEN 'cancelled' ELSE state END,"
	    " finished_at = CASE state WHEN 'queued' THEN ?2 ELSE finished_at"
	    " END WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
		return CC_EDB;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? CC_OK : CC_EDB;
}

cc_err
runs_quality(struct workspace *ws, const char *id, json_t **out)
{
	json_t *run, *rules, *summary, *d;
	sqlite3_stmt *st;
	cc_err err;
	int rc;

	if ((err = runs_get(ws, id, &run)) != CC_OK)
		return err;
	json_decref(run);
	if (sqlite3_prepare_v2(ws->db, "SELECT rule, dimension, target, passed,"
	    " failed, examples FROM quality_results WHERE run_id = ?1 ORDER BY"
	    " rowid", -1, &st, NULL) != SQLITE_OK)
		return CC_EDB;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rules = json_array();
	summary = json_object();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		long long p = sqlite3_column_int64(st, 3),
		    f = sqlite3_column_int64(st, 4);
		const char *dim = col(st, 1);
		const char *status = p + f == 0 ? "not_applicable" : f > 0 ?
		    "failed" : "passed";
		json_array_append_new(rules, json_pack("{s:s, s:s, s:s, s:s,"
		    " s:I, s:I, s:I, s:o, s:o}", "rule", col(st, 0), "dimension",
		    dim, "target", col(st, 2), "status", status, "checked",
		    (json_int_t)(p + f), "passed", (json_int_t)p, "failed",
		    (json_int_t)f, "pass_rate", p + f > 0 ?
		    json_real((double)p / (double)(p + f)) : json_null(),
		    "examples", opt_json(col(st, 5))));
		if ((d = json_object_get(summary, dim)) == NULL) {
			d = json_pack("{s:I, s:I, s:I}", "passed", (json_int_t)0,
			    "failed", (json_int_t)0, "not_applicable",
			    (json_int_t)0);
			json_object_set_new(summary, dim, d);
		}
		if (p + f == 0)
			json_object_set_new(d, "not_applicable", json_integer(
			    json_integer_value(json_object_get(d,
			    "not_applicable")) + 1));
		json_object_set_new(d, "passed", json_integer(json_integer_value(
		    json_object_get(d, "passed")) + p));
		json_object_set_new(d, "failed", json_integer(json_integer_value(
		    json_object_get(d, "failed")) + f));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		json_decref(rules);
		json_decref(summary);
		return CC_EDB;
	}
	*out = json_pack("{s:s, s:o, s:o}", "run_id", id, "rules", rules,
	    "summary", summary);
	return CC_OK;
}

struct tick_ctx {
	struct workspace	*ws;
	const char		*id;
	pipeline_tick		 tick;
	void			*arg;
	sqlite3_stmt		*upd;
	struct timespec		 last;
	char			 phase[16];
};

/* Records progress (at most ~5 times a second) and reads the cancel
 * flag. */
static int
on_tick(void *arg, const char *phase, long long done, long long total)
{
	struct tick_ctx *t = arg;
	struct timespec now;
	int cancel = 0;

	if (t->tick != NULL && t->tick(t->arg, phase, done, total))
		cancel = 1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (strcmp(phase, t->phase) == 0 && done < total &&
	    (now.tv_sec - t->last.tv_sec) * 1000 +
	    (now.tv_nsec - t->last.tv_nsec) / 1000000 < 200)
		return cancel;
	t->last = now;
	snprintf(t->phase, sizeof(t->phase), "%s", phase);
	sqlite3_reset(t->upd);
	sqlite3_bind_text(t->upd, 1, t->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(t->upd, 2, phase, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(t->upd, 3, done);
	sqlite3_bind_int64(t->upd, 4, total);
	if (sqlite3_step(t->upd) == SQLITE_ROW && sqlite3_column_int(t->upd, 0))
		cancel = 1;
	sqlite3_reset(t->upd);
	return cancel;
}

static void
finish(struct workspace *ws, const char *id, const char *state,
    json_t *report, const char *error)
{
	char now[32], *counts = NULL, *timings = NULL;
	sqlite3_stmt *st;

	util_rfc3339(time(NULL), now, sizeof(now));
	if (report != NULL) {
		json_t *c = json_object_get(report, "counts");
		json_object_set(c, "key_rules_detail",
		    json_object_get(report, "key_rules"));
		json_object_set(c, "files", json_object_get(report, "files"));
		json_object_set(c, "matching", json_object_get(report,
		    "matching"));
		json_object_set(c, "warnings", json_object_get(report,
		    "warnings"));
		counts = json_dumps(c, JSON_COMPACT);
		timings = json_dumps(json_object_get(report, "timings_ms"),
		    JSON_COMPACT);
	}
	if (sqlite3_prepare_v2(ws->db, "UPDATE runs SET state = ?2, counts ="
	    " ?3, timings = ?4, error = ?5, finished_at = ?6 WHERE id = ?1", -1,
	    &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, counts, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, timings, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, error, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, now, -1, SQLITE_STATIC);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	free(counts);
	free(timings);
}

static cc_err execute_locked(struct workspace *, const char *,
    const struct pipeline_options *, pipeline_tick, void *,
    struct cc_diag *, int);

cc_err
runs_start(struct workspace *ws, const json_t *settings,
    const struct pipeline_options *opt, pipeline_tick tick, void *arg,
    char *id, struct cc_diag *diag)
{
	cc_err err;
	int lock;

	if ((lock = run_lock(ws)) < 0) {
		if (errno != EWOULDBLOCK)
			return cc_diag_set(diag, CC_EIO, "io", "cannot create"
			    " the run's lock: %s", strerror(errno));
		sqlite3_stmt *st;

		/* the running run's id, for the caller to name */
		id[0] = '\0';
		if (sqlite3_prepare_v2(ws->db, "SELECT id FROM runs WHERE"
		    " state IN ('queued', 'running') LIMIT 1", -1, &st,
		    NULL) == SQLITE_OK) {
			if (sqlite3_step(st) == SQLITE_ROW)
				snprintf(id, RUNS_ID_LEN + 1, "%s", col(st, 0));
			sqlite3_finalize(st);
		}
		return cc_diag_set(diag, CC_ECONFLICT, "run_in_progress",
		    "another run of this workspace is running");
	}
	if ((err = create_run(ws, settings, id, 1)) != CC_OK) {
		close(lock);
		return err == CC_ECONFLICT ? cc_diag_set(diag, CC_ECONFLICT,
		    "run_in_progress", "run %s is queued in this workspace",
		    id) : cc_diag_set(diag, err, "db", "cannot record the run:"
		    " %s", sqlite3_errmsg(ws->db));
	}
	return execute_locked(ws, id, opt, tick, arg, diag, lock);
}

cc_err
runs_execute(struct workspace *ws, const char *id,
    const struct pipeline_options *opt, pipeline_tick tick, void *arg,
    struct cc_diag *diag)
{
	sqlite3_stmt *st;
	char now[32];
	int rc, lock;

	/* Held until the run's end is recorded (or the process ends):
	 * runs_create() tells a living run from a dead one by it. */
	if ((lock = run_lock(ws)) < 0)
		return errno == EWOULDBLOCK ? cc_diag_set(diag, CC_ECONFLICT,
		    "run_not_queued", "another run of this workspace is"
		    " running") : cc_diag_set(diag, CC_EIO, "io", "cannot"
		    " create the run's lock: %s", strerror(errno));
	util_rfc3339(time(NULL), now, sizeof(now));
	if (sqlite3_prepare_v2(ws->db, "UPDATE runs SET state = 'running',"
	    " started_at = ?2 WHERE id = ?1 AND state = 'queued'", -1, &st,
	    NULL) != SQLITE_OK) {
		close(lock);
		return CC_EDB;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE || sqlite3_changes(ws->db) != 1) {
		close(lock);
		return rc != SQLITE_DONE ? CC_EDB : cc_diag_set(diag,
		    CC_ECONFLICT, "run_not_queued", "the run is not queued");
	}
	return execute_locked(ws, id, opt, tick, arg, diag, lock);
}

/* Executes run id, marked running, whose RUNS_LOCK the caller holds
 * (the descriptor lock, closed here). */
static cc_err
execute_locked(struct workspace *ws, const char *id,
    const struct pipeline_options *opt, pipeline_tick tick, void *arg,
    struct cc_diag *diag, int lock)
{
	struct tick_ctx t;
	json_t *report = NULL;
	cc_err err;

	memset(&t, 0, sizeof(t));
	t.ws = ws;
	t.id = id;
	t.tick = tick;
	t.arg = arg;
	if (sqlite3_prepare_v2(ws->db, "UPDATE runs SET phase = ?2,"
	    " progress_done = ?3, progress_total = ?4 WHERE id = ?1"
	    " RETURNING cancel_requested", -1, &t.upd, NULL) != SQLITE_OK) {
		finish(ws, id, "failed", NULL, sqlite3_errmsg(ws->db));
		close(lock);
		return CC_EDB;
	}
	{
		/* the settings the run was queued with */
		struct pipeline_options o;
		json_t *run = NULL;
		if (opt != NULL)
			o = *opt;
		else
			memset(&o, 0, sizeof(o));
		if (runs_get(ws, id, &run) == CC_OK && !strcmp(
		    json_string_value(json_object_get(json_object_get(run,
		    "settings"), "missing_customer")), "unknown_customer"))
			o.unknown_customer = 1;
		json_decref(run);
		err = pipeline_run(ws, id, &o, on_tick, &t, &report, diag);
	}
	sqlite3_finalize(t.upd);
	if (err == CC_OK)
		finish(ws, id, "done", report, NULL);
	else if (err == CC_ECONFLICT)
		finish(ws, id, "cancelled", NULL, "cancelled on request");
	else
		finish(ws, id, "failed", NULL, diag != NULL ? diag->message :
		    cc_strerror(err));
	close(lock);
	json_decref(report);
	return err;
}

int
runs_recover(struct workspace *ws)
{
	char now[32];
	sqlite3_stmt *st;
	int n = 0;

	util_rfc3339(time(NULL), now, sizeof(now));
	if (sqlite3_prepare_v2(ws->db, "UPDATE runs SET state = 'failed',"
	    " error = 'the process running it ended', finished_at = ?1 WHERE"
	    " state = 'running'", -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, now, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_DONE)
		n = sqlite3_changes(ws->db);
	sqlite3_finalize(st);
	return n;
}
