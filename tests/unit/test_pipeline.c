/*
 * test_pipeline.c - a run on one thread and on two (pipeline_options'
 * threads, concord/pipeline.h) gives the same model, report and stored
 * mappings: the stage's proposer and writer threads (core/stage.c: the
 * clean issues and staged rows in the same order), reconcile's key
 * rules learned two pairs of files at once (core/reconcile.c) and the
 * matcher's comparison vectors on two threads (core/match.c), quality
 * beside the aggregate phase (core/pipeline.c), the sales and products
 * documents beside the segments (core/aggregate.c).  The files
 * are uploaded once and the data directory copied, so that both runs
 * start from the same bytes, file ids and empty caches; every model
 * table is compared row by row (the masks of the helpers' cmpmodel2.sh:
 * the matcher's own timings; the stored dashboards whole), the
 * report without its timings.  A run on two threads cancelled before
 * and after quality's thread started ends cancelled and leaves the
 * previous model installed; order lines an older version left unnumbered
 * are numbered by the run that copies them.  Needs the CRM/ERP seeds
 * (SRCDIR/../shared/data/seeds, or CONCORD_SHARED/data/seeds); skipped
 * without them.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "concord/pipeline.h"
#include "concord/registry.h"
#include "concord/runs.h"
#include "concord/workspace.h"

static const char *
seeds_dir(void)
{
	static char dir[1024];
	const char *shared = getenv("CONCORD_SHARED");

	if (shared != NULL && shared[0] != '\0')
		snprintf(dir, sizeof(dir), "%s/data/seeds/crm-erp", shared);
	else
		snprintf(dir, sizeof(dir), "%s/../shared/data/seeds/crm-erp",
		    SRCDIR);
	return dir;
}

/* Uploads bytes as name into ws. */
static void
upload(struct workspace *ws, const char *name, const char *data, size_t len)
{
	struct registry_upload *up = NULL;
	json_t *file = NULL;
	int dup = 0;

	assert_int_equal(registry_upload_begin(ws, 1LL << 30, &up), CC_OK);
	assert_int_equal(registry_upload_write(up, data, len), CC_OK);
	assert_int_equal(registry_upload_finish(ws, up, name, "text/csv",
	    &file, &dup, NULL), CC_OK);
	assert_int_equal(dup, 0);
	json_decref(file);
}

/* The bytes of seeds/rel (new, *len bytes), or NULL. */
static char *
slurp(const char *rel, size_t *len)
{
	char path[1400], *buf;
	FILE *fp;
	long n;

	snprintf(path, sizeof(path), "%s/%s", seeds_dir(), rel);
	if ((fp = fopen(path, "rb")) == NULL)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

/* The report without what differs between any two runs (timings). */
static json_t *
report_core(json_t *rep)
{
	json_t *c = json_deep_copy(rep), *m;
	const char *k;

	json_object_del(c, "timings_ms");
	json_object_foreach(json_object_get(c, "matching"), k, m)
		json_object_del(m, "timings_ms");
	return c;
}

/* Every row of every model table of db's "a" and "b" the same (as
 * multisets: counts and both differences), with cmpmodel2.sh's masks. */
static void
same_tables(sqlite3 *db)
{
	sqlite3_stmt *st, *q;
	char sql[1024];
	int ntables = 0;

	assert_int_equal(sqlite3_prepare_v2(db, "SELECT name FROM"
	    " a.sqlite_schema WHERE type = 'table' ORDER BY name", -1, &st,
	    NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		const char *cols = "*";
		if (!strcmp(t, "run_info") || !strcmp(t, "runs") ||
		    !strcmp(t, "model_info"))
			continue;
		if (!strcmp(t, "match_models"))
			cols = "entity, json_remove(model, '$.timings_ms')";
		/* agg_dashboard whole: the documents built on the second
		 * thread (core/aggregate.c) are the one thread's, byte for
		 * byte, and stored in the same rows */
		else if (!strcmp(t, "agg_dashboard"))
			cols = "rowid, name, document";
		snprintf(sql, sizeof(sql), "SELECT (SELECT count(*) FROM"
		    " a.\"%s\") - (SELECT count(*) FROM b.\"%s\"),"
		    " (SELECT count(*) FROM (SELECT %s FROM a.\"%s\" EXCEPT"
		    " SELECT %s FROM b.\"%s\")), (SELECT count(*) FROM (SELECT"
		    " %s FROM b.\"%s\" EXCEPT SELECT %s FROM a.\"%s\"))", t, t,
		    cols, t, cols, t, cols, t, cols, t);
		assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL),
		    SQLITE_OK);
		assert_int_equal(sqlite3_step(q), SQLITE_ROW);
		if (sqlite3_column_int64(q, 0) != 0 ||
		    sqlite3_column_int64(q, 1) != 0 ||
		    sqlite3_column_int64(q, 2) != 0)
			fail_msg("table %s differs: %lld rows more, %lld and"
			    " %lld rows not in the other", t,
			    (long long)sqlite3_column_int64(q, 0),
			    (long long)sqlite3_column_int64(q, 1),
			    (long long)sqlite3_column_int64(q, 2));
		sqlite3_finalize(q);
		ntables++;
	}
	sqlite3_finalize(st);
	assert_true(ntables > 10);
}

/* One run of dir's workspace u1 (threads as given); *rep its report. */
static void
run_in(const char *dir, const char *id, int threads, json_t **rep)
{
	struct pipeline_options opt;
	struct workspace *ws = NULL;
	struct cc_diag diag;

	memset(&opt, 0, sizeof(opt));
	memset(&diag, 0, sizeof(diag));
	opt.today = "2026-12-03";
	opt.threads = threads;
	assert_int_equal(ws_open(dir, "u1", &ws, NULL), CC_OK);
	if (pipeline_run(ws, id, &opt, NULL, NULL, rep, &diag) != CC_OK)
		fail_msg("run (threads %d): %s", threads, diag.message);
	ws_close(ws);
}

/* A new data directory (dir: a mkdtemp() template, filled in) with the
 * seed files rel[0..n) uploaded for u1; the test is skipped without
 * them. */
static void
seeded_dir(char *dir, const char *const *rel, size_t n)
{
	struct workspace *ws = NULL;
	size_t i, len;
	char *data;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(ws_open(dir, "u1", &ws, NULL), CC_OK);
	for (i = 0; i < n; i++) {
		if ((data = slurp(rel[i], &len)) == NULL) {
			ws_close(ws);
			skip();
		}
		upload(ws, strrchr(rel[i], '/') + 1, data, len);
		free(data);
	}
	ws_close(ws);
}

/*
 * Uploads the seed files rel[0..n) (edit: a copy of the first whose
 * first "Male" is "Female", uploaded last as "copy.csv"), copies the data
 * directory, runs one copy on one thread and the other on two, and
 * compares.
 */
static void
one_and_two(const char *const *rel, size_t n, int edit)
{
	char a[64], b[128], cmd[400], path[300], rid[RUNS_ID_LEN + 1];
	struct workspace *ws = NULL;
	json_t *ra = NULL, *rb = NULL, *ca, *cb;
	sqlite3 *db = NULL;
	size_t len;
	char *data;

	snprintf(a, sizeof(a), "/tmp/concord-pipe-XXXXXX");
	seeded_dir(a, rel, n);
	snprintf(b, sizeof(b), "%s-b", a);
	assert_int_equal(ws_open(a, "u1", &ws, NULL), CC_OK);
	if (edit) {
		data = slurp(rel[0], &len);
		{
			char *m = strstr(data, ",Male"), *e;
			assert_non_null(m);
			e = malloc(len + 3);
			assert_non_null(e);
			memcpy(e, data, (size_t)(m - data));
			memcpy(e + (m - data), ",Female", 7);
			memcpy(e + (m - data) + 7, m + 5, len - (size_t)(m + 5 -
			    data));
			upload(ws, "copy.csv", e, len + 2);
			free(e);
		}
		free(data);
	}
	/* the run queued before the copy: the same run id in both */
	assert_int_equal(runs_create(ws, rid), CC_OK);
	ws_close(ws);
	snprintf(cmd, sizeof(cmd), "cp -a '%s' '%s'", a, b);
	assert_int_equal(system(cmd), 0);
	run_in(a, rid, 1, &ra);
	run_in(b, rid, 0, &rb);

	ca = report_core(ra);
	cb = report_core(rb);
	assert_true(json_integer_value(json_object_get(json_object_get(ca,
	    "counts"), "key_pairs_learned")) > 0);
	if (!json_equal(ca, cb)) {
		char *x = json_dumps(json_object_get(ca, "counts"), JSON_COMPACT),
		    *y = json_dumps(json_object_get(cb, "counts"), JSON_COMPACT);
		fail_msg("the reports differ; counts:\n%.2000s\n%.2000s", x, y);
	}
	/* the same keys in the same order (the report as a client reads it) */
	{
		char *x = json_dumps(json_object_get(ra, "counts"), 0),
		    *y = json_dumps(json_object_get(rb, "counts"), 0);
		assert_string_equal(x, y);
		free(x);
		free(y);
	}
	json_decref(ca);
	json_decref(cb);
	json_decref(ra);
	json_decref(rb);

	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	snprintf(path, sizeof(path), "ATTACH '%s/workspaces/u1/model.db' AS"
	    " a", a);
	assert_int_equal(sqlite3_exec(db, path, NULL, NULL, NULL), SQLITE_OK);
	snprintf(path, sizeof(path), "ATTACH '%s/workspaces/u1/model.db' AS"
	    " b", b);
	assert_int_equal(sqlite3_exec(db, path, NULL, NULL, NULL), SQLITE_OK);
	same_tables(db);
	/* both installed in rollback mode, nothing of WAL beside them (two
	 * threads: quality read the model in WAL mode beside the aggregate
	 * phase, core/pipeline.c) */
	{
		const char *dirs[2] = { a, b };
		sqlite3_stmt *q;
		int k;
		for (k = 0; k < 2; k++) {
			snprintf(path, sizeof(path), "SELECT * FROM"
			    " pragma_journal_mode('%c')", "ab"[k]);
			assert_int_equal(sqlite3_prepare_v2(db, path, -1, &q,
			    NULL), SQLITE_OK);
			assert_int_equal(sqlite3_step(q), SQLITE_ROW);
			assert_string_equal(sqlite3_column_text(q, 0),
			    "delete");
			sqlite3_finalize(q);
			snprintf(path, sizeof(path), "%s/workspaces/u1/"
			    "model.db-wal", dirs[k]);
			assert_int_not_equal(access(path, F_OK), 0);
			snprintf(path, sizeof(path), "%s/workspaces/u1/"
			    "model.db.tmp-wal", dirs[k]);
			assert_int_not_equal(access(path, F_OK), 0);
		}
	}
	sqlite3_exec(db, "DETACH a; DETACH b", NULL, NULL, NULL);
	/* the mappings the runs proposed and stored */
	snprintf(path, sizeof(path), "ATTACH '%s/workspaces/u1/workspace.db'"
	    " AS a", a);
	assert_int_equal(sqlite3_exec(db, path, NULL, NULL, NULL), SQLITE_OK);
	snprintf(path, sizeof(path), "ATTACH '%s/workspaces/u1/workspace.db'"
	    " AS b", b);
	assert_int_equal(sqlite3_exec(db, path, NULL, NULL, NULL), SQLITE_OK);
	{
		sqlite3_stmt *q;
		assert_int_equal(sqlite3_prepare_v2(db, "SELECT (SELECT count(*)"
		    " FROM a.mappings), (SELECT count(*) FROM (SELECT file_id,"
		    " document FROM a.mappings EXCEPT SELECT file_id, document"
		    " FROM b.mappings)), (SELECT count(*) FROM b.mappings)", -1,
		    &q, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(q), SQLITE_ROW);
		assert_int_equal(sqlite3_column_int64(q, 0), (long long)n +
		    (edit != 0));
		assert_int_equal(sqlite3_column_int64(q, 1), 0);
		assert_int_equal(sqlite3_column_int64(q, 2), (long long)n +
		    (edit != 0));
		sqlite3_finalize(q);
		/* the quality results, from the second thread in b */
		assert_int_equal(sqlite3_prepare_v2(db, "SELECT (SELECT count(*)"
		    " FROM a.quality_results), (SELECT count(*) FROM (SELECT"
		    " * FROM a.quality_results EXCEPT SELECT * FROM"
		    " b.quality_results)), (SELECT count(*) FROM"
		    " b.quality_results)", -1, &q, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(q), SQLITE_ROW);
		assert_true(sqlite3_column_int64(q, 0) > 0);
		assert_int_equal(sqlite3_column_int64(q, 1), 0);
		assert_int_equal(sqlite3_column_int64(q, 2),
		    sqlite3_column_int64(q, 0));
		sqlite3_finalize(q);
	}
	sqlite3_close(db);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", a, b);
	assert_int_equal(system(cmd), 0);
}

/* Every CRM/ERP file: four customer files (key rules on two threads),
 * 18,493 customers to match (comparison vectors on two threads), nine
 * proposals. */
static void
test_crm_erp_one_and_two_threads(void **state)
{
	static const char *const rel[] = {
		"source_crm/cst_info.csv", "source_crm/customer_info.csv",
		"source_crm/prd_info.csv", "source_crm/sales_details.csv",
		"source_erp/CST_AZ12.csv", "source_erp/LOC_A101.csv",
		"source_erp/PX_CAT_G1V2.csv", "source_erp/product_info.csv",
		"source_erp/sales_transactions.csv",
	};

	(void)state;
	one_and_two(rel, sizeof(rel) / sizeof(rel[0]), 0);
}

/* Two customer files with the same key values (a copy of CST_AZ12 with
 * one gender changed) and a third: their pairs' rules would be one
 * cache entry, so reconcile learns that entity's pairs on one thread;
 * the report (key_pairs_reused) and model are those of one thread. */
static void
test_same_key_values_one_thread(void **state)
{
	static const char *const rel[] = {
		"source_erp/CST_AZ12.csv", "source_crm/cst_info.csv",
		"source_erp/LOC_A101.csv",
	};

	(void)state;
	one_and_two(rel, sizeof(rel) / sizeof(rel[0]), 1);
}

/* Records and executes a run in dir (runs_start(): its row done,
 * failed or cancelled after), on up to two threads; its result, diag
 * set. */
static cc_err
start_in(const char *dir, pipeline_tick tick, void *arg, char *id,
    struct cc_diag *diag)
{
	struct pipeline_options opt;
	struct workspace *ws = NULL;
	cc_err err;

	memset(&opt, 0, sizeof(opt));
	memset(diag, 0, sizeof(*diag));
	opt.today = "2026-12-03";
	assert_int_equal(ws_open(dir, "u1", &ws, NULL), CC_OK);
	err = runs_start(ws, NULL, &opt, tick, arg, id, diag);
	ws_close(ws);
	return err;
}

/* A tick that cancels the run when it reaches phase (arg). */
static int
cancel_at(void *arg, const char *phase, long long done, long long total)
{
	(void)done;
	(void)total;
	return strcmp(phase, (const char *)arg) == 0;
}

/* The run id model.db at dir says built it, into id (RUNS_ID_LEN + 1). */
static void
model_run(const char *dir, char *id)
{
	char path[300];
	sqlite3 *db;
	sqlite3_stmt *q;

	snprintf(path, sizeof(path), "%s/workspaces/u1/model.db", dir);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT run_id FROM"
	    " model_info", -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	snprintf(id, RUNS_ID_LEN + 1, "%s", sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	sqlite3_close(db);
}

/*
 * A run on two threads cancelled when it reaches the aggregate phase
 * (before quality's thread starts) and when it reaches the quality phase
 * (quality's thread started, waited for, then joined): CC_ECONFLICT, the
 * previous model still installed, no model being built left beside it.
 */
static void
test_cancelled_two_threads(void **state)
{
	static const char *const rel[] = {
		"source_crm/cst_info.csv", "source_crm/prd_info.csv",
		"source_crm/sales_details.csv",
	};
	static const char *const at[] = { "aggregate", "quality" };
	char dir[64], path[300], rid[RUNS_ID_LEN + 1], got[RUNS_ID_LEN + 1];
	char first[RUNS_ID_LEN + 1];
	struct cc_diag diag;
	size_t i;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/concord-cancel-XXXXXX");
	seeded_dir(dir, rel, sizeof(rel) / sizeof(rel[0]));
	assert_int_equal(start_in(dir, NULL, NULL, first, &diag), CC_OK);
	for (i = 0; i < 2; i++) {
		assert_int_equal(start_in(dir, cancel_at, (void *)at[i], rid,
		    &diag), CC_ECONFLICT);
		assert_string_equal(diag.code, "cancelled");
		model_run(dir, got);
		assert_string_equal(got, first);
		snprintf(path, sizeof(path), "%s/workspaces/u1/" WS_MODEL_TMP,
		    dir);
		assert_int_not_equal(access(path, F_OK), 0);
		snprintf(path, sizeof(path), "%s/workspaces/u1/" WS_MODEL_TMP
		    "-wal", dir);
		assert_int_not_equal(access(path, F_OK), 0);
	}
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	assert_int_equal(system(path), 0);
}

/*
 * Order lines an older version staged without numbers (line_number NULL
 * in the previous model) are numbered by the next run that copies them
 * (the files unchanged): every fact has the number the stage gave its
 * line before, by the line's place among its order's lines.
 */
static void
test_copied_lines_numbered(void **state)
{
	static const char *const rel[] = {
		"source_crm/cst_info.csv", "source_crm/prd_info.csv",
		"source_crm/sales_details.csv",
	};
	char dir[64], path[300], side[128], rid[RUNS_ID_LEN + 1];
	struct cc_diag diag;
	sqlite3 *db;
	sqlite3_stmt *q;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/concord-lines-XXXXXX");
	seeded_dir(dir, rel, sizeof(rel) / sizeof(rel[0]));
	assert_int_equal(start_in(dir, NULL, NULL, rid, &diag), CC_OK);
	/* a third of the staged lines unnumbered; their numbers kept in a
	 * file of the test's (the run replaces model.db) */
	snprintf(path, sizeof(path), "%s/workspaces/u1/model.db", dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	snprintf(side, sizeof(side), "ATTACH '%s/was.db' AS side", dir);
	assert_int_equal(sqlite3_exec(db, side, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE side.was AS SELECT"
	    " _file_id, _row, line_number FROM stg_order_line; UPDATE"
	    " stg_order_line SET line_number = NULL WHERE _row % 3 = 0", NULL,
	    NULL, NULL), SQLITE_OK);
	assert_true(sqlite3_changes(db) > 1000);
	sqlite3_close(db);
	if (start_in(dir, NULL, NULL, rid, &diag) != CC_OK)
		fail_msg("second run: %s", diag.message);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, side, NULL, NULL, NULL), SQLITE_OK);
	/* every line numbered again, as before; every fact's number its
	 * line's */
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM"
	    " side.was), (SELECT count(*) FROM stg_order_line s JOIN side.was w"
	    " USING (_file_id, _row) WHERE s.line_number IS w.line_number),"
	    " (SELECT count(*) FROM fact_sales), (SELECT count(*) FROM"
	    " fact_sales f JOIN side.was w USING (_file_id, _row) WHERE"
	    " f.line_number IS w.line_number AND w.line_number IS NOT NULL)",
	    -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_true(sqlite3_column_int64(q, 0) > 1000);
	assert_int_equal(sqlite3_column_int64(q, 1),
	    sqlite3_column_int64(q, 0));
	assert_true(sqlite3_column_int64(q, 2) > 1000);
	assert_int_equal(sqlite3_column_int64(q, 3),
	    sqlite3_column_int64(q, 2));
	sqlite3_finalize(q);
	sqlite3_close(db);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	assert_int_equal(system(path), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crm_erp_one_and_two_threads),
		cmocka_unit_test(test_same_key_values_one_thread),
		cmocka_unit_test(test_cancelled_two_threads),
		cmocka_unit_test(test_copied_lines_numbered),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
