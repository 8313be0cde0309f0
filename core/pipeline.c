/*
 * pipeline.c - a run's phases and its atomic result (concord/pipeline.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "concord/db.h"
#include "concord/model.h"
#include "concord/pipeline.h"
#include "concord/query.h"
#include "concord/util.h"
#include "pipeline_int.h"

int
run_tick(struct run *r, const char *phase, long long done, long long total)
{
	if (r->tick == NULL)
		return 0;
	return r->tick(r->arg, phase, done, total) != 0;
}

void
run_count(struct run *r, const char *key, long long n)
{
	json_int_t v = json_integer_value(json_object_get(r->counts, key));

	json_object_set_new(r->counts, key, json_integer(v + n));
}

cc_err
run_exec(struct run *r, const char *sql, struct cc_diag *diag)
{
	return db_exec(r->db, sql, diag);
}

long
run_ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 +
	    (t.tv_nsec - t0->tv_nsec) / 1000000;
}

cc_err
run_ws_open(const struct run *r, struct workspace *out)
{
	char path[PATH_MAX + 16];

	*out = *r->ws;
	out->db = NULL;
	if ((size_t)snprintf(path, sizeof(path), "%s/workspace.db",
	    r->ws->dir) >= sizeof(path))
		return CC_EINVAL;
	return db_open(path, &out->db, NULL);
}

void
run_ws_close(struct workspace *ws)
{
	sqlite3_close_v2(ws->db);
	ws->db = NULL;
}

cc_err
run_model_reader(const struct run *r, sqlite3 **out)
{
	*out = NULL;
	if (!r->model_wal || r->model_path == NULL)
		return CC_EINVAL;
	if (sqlite3_open_v2(r->model_path, out, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
	    sqlite3_exec(*out, "PRAGMA query_only=1", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		sqlite3_close_v2(*out);
		*out = NULL;
		return CC_EDB;
	}
	sqlite3_busy_timeout(*out, 5000);
	return CC_OK;
}

/* fsync of a file or directory by path. */
static int
sync_path(const char *path, int dir)
{
	int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDWR) |
	    O_CLOEXEC), rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* Opens the new model file (made empty, 0600 and locked by the caller:
 * ws_tmp_create()) and attaches the previous one as "old". */
static cc_err
open_model(struct run *r, const char *tmp, const char *cur,
    struct cc_diag *diag)
{
	sqlite3_stmt *st;
	int rc;

	rc = sqlite3_open_v2(tmp, &r->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK)
		return cc_diag_set(diag, CC_EDB, "sqlite", "cannot create the"
		    " model: %s", r->db != NULL ? sqlite3_errmsg(r->db) :
		    "out of memory");
	sqlite3_busy_timeout(r->db, 5000);
	/* A file nobody reads until it is complete: no journal needed; a
	 * failure discards the file.  Sorts and temporary B-trees go to
	 * temporary files and the page cache is 16 MiB, so that a run's
	 * memory does not grow with its input (1,026,766 sales lines: peak
	 * RSS 322 MiB with temp_store=MEMORY and a 64 MiB cache, 78 MiB so,
	 * in the same time; tests/bench/README.md).  PRAGMA threads=2 was
	 * measured and left out: CRM/ERP 0.15 s faster, but the 1M-line run
	 * 0.4 s slower, 1.7 s more CPU and 89 -> 119 MiB peak RSS.  Pages of
	 * 64 KiB (SQLite's largest; set before the first table), as a bulk
	 * load wants: the 1M-line run 7.6 -> 6.9 s (fewer pages to write, read
	 * back and split; the cache is 16 MiB either way), and the read side
	 * behind nginx unchanged (http_bench.sh, the same model at 4 and 64 KiB
	 * pages, 2026-12-06). */
	if (run_exec(r, "PRAGMA page_size=65536;"
	    " PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
	    " PRAGMA temp_store=FILE; PRAGMA cache_size=-16384;", diag) !=
	    CC_OK)
		return CC_EDB;
	if (access(cur, R_OK) == 0) {
		if (sqlite3_prepare_v2(r->db, "ATTACH DATABASE ?1 AS old", -1,
		    &st, NULL) != SQLITE_OK)
			return cc_diag_set(diag, CC_EDB, "sqlite", "%s",
			    sqlite3_errmsg(r->db));
		sqlite3_bind_text(st, 1, cur, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return cc_diag_set(diag, CC_EDB, "sqlite", "%s",
			    sqlite3_errmsg(r->db));
		r->has_old = 1;
	}
	return CC_OK;
}

/* 1 if the previous model has table name. */
static int
old_has(struct run *r, const char *name)
{
	sqlite3_stmt *st;
	int has = 0;

	if (!r->has_old || sqlite3_prepare_v2(r->db, "SELECT 1 FROM"
	    " old.sqlite_schema WHERE type = 'table' AND name = ?1", -1, &st,
	    NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	has = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return has;
}

/* Marks the files this run read as processed. */
static void
mark_processed(struct run *r)
{
	sqlite3_stmt *st;
	size_t i;
	json_t *f;

	if (sqlite3_prepare_v2(r->ws->db, "UPDATE files SET status ="
	    " 'processed' WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
		return;
	json_array_foreach(r->files, i, f) {
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, json_string_value(json_object_get(f,
		    "file_id")), -1, SQLITE_STATIC);
		sqlite3_step(st);
	}
	sqlite3_finalize(st);
}

/*
 * The quality phase on a second thread, while the aggregate phase runs:
 * quality only reads what load left in the model (the facts, the
 * dimensions, staging, clean issues, quarantine: core/quality.c) and
 * writes quality_results to workspace.db; the aggregates only read the
 * facts and dimensions and write their own tables.  So after load the
 * model's transaction is committed and the model switched to WAL
 * (sqlite.org/wal.html: a reader and one writer do not block each
 * other), quality reads the committed model through its own connection
 * in one read transaction (one snapshot: none of the aggregate phase's
 * writes), and writes through its own workspace connection; the run's
 * transaction goes on with the aggregates.  The thread takes its
 * snapshot when it starts and waits for run_quality_go(), which the
 * aggregate phase calls once its pass over the facts is done: the pass
 * and the first indexes have both cores, and quality runs beside the
 * phase's end (the documents, the last index), which left a core idle
 * (1M-line run: the aggregate phase 1.31 -> 1.14 s, 2026-12-06).
 * Before the model is installed it is checkpointed and put back in
 * rollback mode (DELETE: no -wal or -shm beside model.db, which the read
 * side opens read-only).
 * The quality thread has no progress callback (the run's tick is not
 * its to call) and its own counts, added to the run's after it is
 * joined, in the order a run on one thread gives them.  With
 * pipeline_options.threads = 1, or when anything of this cannot be set
 * up, quality runs after the aggregates as before; the model and the
 * report are the same either way (tests/unit/test_pipeline.c).
 * The CRM/ERP files: the run about 0.1 s shorter (tests/bench/README.md).
 */
struct qjob {
	struct run		 q;	/* the run's copy: own connections,
					   counts, no tick */
	struct workspace	 ws;
	struct cc_diag		 diag;
	cc_err			 err;
	long			 ms;
	pthread_t		 th;
	pthread_mutex_t		 mu;	/* go, under mu; cv: it was set */
	pthread_cond_t		 cv;
	int			 go;
	int			 started, joined;
};

static void *
quality_thread(void *arg)
{
	struct qjob *j = arg;
	struct timespec t0;

	if ((j->err = run_exec(&j->q, "BEGIN", &j->diag)) == CC_OK) {
		/* the read transaction's snapshot taken now (the model as
		 * load committed it), the work begun when the run says */
		run_exec(&j->q, "SELECT 1 FROM sqlite_schema LIMIT 1", NULL);
		pthread_mutex_lock(&j->mu);
		while (!j->go)
			pthread_cond_wait(&j->cv, &j->mu);
		pthread_mutex_unlock(&j->mu);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		j->err = quality_all(&j->q, &j->diag);
		j->ms = run_ms_since(&t0);
		run_exec(&j->q, "COMMIT", NULL);	/* reads only */
	}
	return NULL;
}

void
run_quality_go(struct run *r)
{
	struct qjob *j = r->qjob;

	if (j == NULL || !j->started)
		return;
	pthread_mutex_lock(&j->mu);
	j->go = 1;
	pthread_cond_signal(&j->cv);
	pthread_mutex_unlock(&j->mu);
}

/* The model's journal mode set to mode ("wal", "delete"): 1 when it is. */
static int
model_journal(struct run *r, const char *mode)
{
	char sql[64];
	sqlite3_stmt *st;
	int ok = 0;

	snprintf(sql, sizeof(sql), "PRAGMA main.journal_mode=%s", mode);
	if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) !=
	    NULL)
		ok = strcmp((const char *)sqlite3_column_text(st, 0), mode) ==
		    0;
	sqlite3_finalize(st);
	return ok;
}

cc_err
run_fact_indexes(struct run *r, struct cc_diag *diag)
{
	return run_fact_indexes_upto(r, model_fact_index_count(), diag);
}

cc_err
run_fact_indexes_upto(struct run *r, int n, struct cc_diag *diag)
{
	cc_err err;

	while (r->fact_indexes < n && r->fact_indexes <
	    model_fact_index_count()) {
		if ((err = model_fact_index(r->db, r->fact_indexes, diag)) !=
		    CC_OK)
			return err;
		r->fact_indexes++;
	}
	return CC_OK;
}

cc_err
run_model_share(struct run *r, struct cc_diag *diag)
{
	cc_err err;

	if ((err = run_exec(r, "COMMIT", diag)) != CC_OK)
		return err;
	if (!r->model_wal)
		r->model_wal = model_journal(r, "wal");
	return run_exec(r, "BEGIN", diag);
}

/*
 * Starts quality on its own thread over the committed model.
 * j->started says whether it runs; 0 is no error (the caller runs
 * quality itself).  Errors: those of COMMIT or BEGIN of the run's
 * transaction (CC_EDB, diag).
 */
static cc_err
quality_start(struct run *r, struct qjob *j, struct cc_diag *diag)
{
	cc_err err;

	memset(j, 0, sizeof(*j));
	if (r->threads == 1)
		return CC_OK;
	if ((err = run_model_share(r, diag)) != CC_OK || !r->model_wal)
		return err;
	j->q = *r;
	j->q.tick = NULL;
	j->q.db = NULL;		/* not the run's: fail closes it */
	j->q.counts = json_object();
	if (j->q.counts == NULL || run_model_reader(r, &j->q.db) != CC_OK ||
	    run_ws_open(r, &j->ws) != CC_OK)
		goto fail;
	j->q.ws = &j->ws;
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->cv, NULL);
	if (pthread_create(&j->th, NULL, quality_thread, j) != 0) {
		pthread_cond_destroy(&j->cv);
		pthread_mutex_destroy(&j->mu);
		goto fail;
	}
	j->started = 1;
	r->quality_beside = 1;
	r->qjob = j;
	return CC_OK;
fail:
	run_ws_close(&j->ws);
	sqlite3_close_v2(j->q.db);
	j->q.db = NULL;
	json_decref(j->q.counts);
	j->q.counts = NULL;
	return CC_OK;
}

/*
 * Joins the quality thread (once; nothing when it did not start): its
 * counts into the run's, its time as the quality phase's.  Returns its
 * error (diag copied), CC_OK.
 */
static cc_err
quality_join(struct run *r, struct qjob *j, struct cc_diag *diag)
{
	const char *k;
	json_t *v;

	if (!j->started || j->joined)
		return CC_OK;
	run_quality_go(r);	/* when the aggregate phase did not */
	pthread_join(j->th, NULL);
	j->joined = 1;
	r->qjob = NULL;
	pthread_cond_destroy(&j->cv);
	pthread_mutex_destroy(&j->mu);
	sqlite3_close_v2(j->q.db);
	j->q.db = NULL;
	run_ws_close(&j->ws);
	json_object_foreach(j->q.counts, k, v)
		run_count(r, k, json_integer_value(v));
	json_decref(j->q.counts);
	j->q.counts = NULL;
	if (j->err != CC_OK && diag != NULL)
		*diag = j->diag;
	return j->err;
}

cc_err
pipeline_run(struct workspace *ws, const char *run_id,
    const struct pipeline_options *opt, pipeline_tick tick, void *arg,
    json_t **report, struct cc_diag *diag)
{
	static const struct {
		const char	*name;
		cc_err		(*fn)(struct run *, struct cc_diag *);
	} phases[] = {
		{ "stage", stage_all },
		{ "reconcile", reconcile_all },
		{ "load", load_all },
		{ "aggregate", aggregate_all },
		{ "quality", quality_all },
	};
	char tmp[PATH_MAX + 32], cur[PATH_MAX + 32];
	struct timespec t0, tall;
	struct run r;
	struct qjob qj;
	cc_err err = CC_OK;
	size_t i;
	int lockfd = -1;

	memset(&r, 0, sizeof(r));
	memset(&qj, 0, sizeof(qj));
	r.ws = ws;
	r.run_id = run_id;
	r.tick = tick;
	r.arg = arg;
	r.restage = opt != NULL && opt->restage;
	r.unknown_customer = opt != NULL && opt->unknown_customer;
	r.threads = opt != NULL ? opt->threads : 0;
	if (opt != NULL && opt->today != NULL)
		snprintf(r.today, sizeof(r.today), "%s", opt->today);
	else {
		char now[32];
		util_rfc3339(time(NULL), now, sizeof(now));
		snprintf(r.today, sizeof(r.today), "%.10s", now);
	}
	clean_opts_init(&r.copt);
	r.copt.unit_digits = QUERY_MONEY_DIGITS;	/* money as stored */
	r.counts = json_object();
	r.timings = json_object();
	r.key_rules = json_array();
	r.files = json_array();
	r.matching = json_object();
	snprintf(tmp, sizeof(tmp), "%s/" WS_MODEL_TMP, ws->dir);
	r.model_path = tmp;
	r.warnings = json_array();
	snprintf(cur, sizeof(cur), "%s/model.db", ws->dir);
	if (opt != NULL && opt->until != NULL) {
		for (i = 0; i < sizeof(phases) / sizeof(phases[0]); i++)
			if (strcmp(phases[i].name, opt->until) == 0)
				break;
		if (i == sizeof(phases) / sizeof(phases[0])) {
			err = cc_diag_set(diag, CC_EINVAL, "phase", "no phase"
			    " %.40s: stage, reconcile, load, aggregate or"
			    " quality", opt->until);
			goto out;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &tall);
	/* Locked while this run lives, so that ws_sweep() removes it only
	 * after a killed run. */
	if (ws_tmp_create(tmp, &lockfd) != CC_OK) {
		err = cc_diag_set(diag, CC_EIO, "io", "cannot create the"
		    " model: %s", strerror(errno));
		goto out;
	}
	if ((err = open_model(&r, tmp, cur, diag)) != CC_OK ||
	    (err = run_exec(&r, "BEGIN", diag)) != CC_OK ||
	    (err = model_create(r.db, diag)) != CC_OK)
		goto out;
	/* Canonical ids outlive runs. */
	if (old_has(&r, "canonical_ids") && (err = run_exec(&r, "INSERT INTO"
	    " main.canonical_ids SELECT * FROM old.canonical_ids", diag)) !=
	    CC_OK)
		goto out;
	for (i = 0; i < sizeof(phases) / sizeof(phases[0]); i++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (run_tick(&r, phases[i].name, 0, 1)) {
			err = CC_ECONFLICT;
			break;
		}
		/* quality beside the aggregates, when a run goes that far */
		if (phases[i].fn == aggregate_all && (opt == NULL ||
		    opt->until == NULL || strcmp(opt->until, "aggregate") !=
		    0) && (err = quality_start(&r, &qj, diag)) != CC_OK)
			break;
		if (phases[i].fn == quality_all && qj.started) {
			if ((err = quality_join(&r, &qj, diag)) != CC_OK)
				break;
			json_object_set_new(r.timings, phases[i].name,
			    json_integer(qj.ms));
			/* the thread had no tick: the phase's end, as
			 * quality_all() reports it on this thread */
			run_tick(&r, phases[i].name, 1, 1);
			continue;
		}
		if ((err = phases[i].fn(&r, diag)) != CC_OK)
			break;
		json_object_set_new(r.timings, phases[i].name,
		    json_integer(run_ms_since(&t0)));
		if (opt != NULL && opt->until != NULL &&
		    strcmp(phases[i].name, opt->until) == 0)
			break;
	}
	/* a run that ended before the load: reconcile's thread is done
	 * with the model before it leaves WAL mode */
	run_prefetch_join(&r);
	if (err == CC_ECONFLICT)
		cc_diag_set(diag, CC_ECONFLICT, "cancelled", "the run was"
		    " cancelled");
	if (err != CC_OK || (err = run_warnings(&r, diag)) != CC_OK ||
	    (err = run_fact_indexes(&r, diag)) != CC_OK)
		goto out;
	{
		/* the model says which run built it (provenance of exports) */
		sqlite3_stmt *st;
		char now[32];
		util_rfc3339(time(NULL), now, sizeof(now));
		if (sqlite3_prepare_v2(r.db, "INSERT INTO model_info (run_id,"
		    " built_at) VALUES (?1, ?2)", -1, &st, NULL) != SQLITE_OK) {
			err = cc_diag_set(diag, CC_EDB, "sqlite", "%s",
			    sqlite3_errmsg(r.db));
			goto out;
		}
		sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
		err = sqlite3_step(st) == SQLITE_DONE ? CC_OK : CC_EDB;
		sqlite3_finalize(st);
		if (err != CC_OK)
			goto out;
	}
	if ((err = run_exec(&r, "COMMIT", diag)) != CC_OK)
		goto out;
	/* back from WAL: checkpointed, -wal and -shm removed */
	if (r.model_wal && !model_journal(&r, "delete")) {
		err = cc_diag_set(diag, CC_EDB, "sqlite", "cannot leave WAL"
		    " mode: %s", sqlite3_errmsg(r.db));
		goto out;
	}
	if (r.has_old)
		run_exec(&r, "DETACH DATABASE old", NULL);
	sqlite3_close_v2(r.db);
	r.db = NULL;
	/* Durable, then visible: fsync the file, rename, fsync the dir. */
	if (sync_path(tmp, 0) != 0 || rename(tmp, cur) != 0) {
		err = cc_diag_set(diag, CC_EIO, "io", "cannot install the new"
		    " model: %s", strerror(errno));
		goto out;
	}
	/* Renamed: the new model is the one served, so the run is done;
	 * only its surviving a power loss is in doubt. */
	if (sync_path(ws->dir, 1) != 0)
		json_array_append_new(r.warnings, json_pack("{s:s, s:s}",
		    "code", "model_not_durable", "detail", "the new model is"
		    " installed, but the directory could not be synced: a"
		    " power loss may bring back the previous one"));
	mark_processed(&r);
	json_object_set_new(r.timings, "total", json_integer(run_ms_since(&tall)));
out:
	/* a failed or cancelled aggregate phase: quality is waited for
	 * (let go first if it still waits: quality_join()) */
	quality_join(&r, &qj, NULL);
	run_prefetch_join(&r);
	lines_plan_free(r.lines_plan);
	free(r.lines_plan);
	if (r.db != NULL)
		sqlite3_close_v2(r.db);
	if (err != CC_OK && lockfd >= 0) {
		unlink(tmp);
		ws_tmp_unlink_wal(tmp);	/* the model's WAL, if it had one */
	}
	/* After the model's connection is closed: closing a descriptor
	 * drops the process's POSIX locks on the file (SQLite's). */
	if (lockfd >= 0)
		close(lockfd);
	if (report != NULL && err == CC_OK)
		*report = json_pack("{s:O, s:O, s:O, s:O, s:O, s:O}", "counts",
		    r.counts, "timings_ms", r.timings, "key_rules", r.key_rules,
		    "files", r.files, "matching", r.matching,
		    "warnings", r.warnings);
	json_decref(r.counts);
	json_decref(r.timings);
	json_decref(r.key_rules);
	json_decref(r.files);
	json_decref(r.matching);
	json_decref(r.warnings);
	return err;
}
