/*
 * aggregate.c - the run's aggregate phase: after load, before quality,
 * the customer segments are computed from the facts (segment_build() in
 * core/segment.c: customer_segment, timed as "segments" in the run's
 * timings_ms, counted as "segmented_customers" and "segment_customers"),
 * then the read side's aggregates into the model being built
 * (dash_aggregate() in core/dashboard.c, which owns the statements the
 * dashboards read them with; the customers dashboard stores the
 * segments' series), so that a dashboard request reads a few grouped
 * rows instead of scanning the facts.
 *
 * When the model is in WAL mode (quality runs beside this phase:
 * core/pipeline.c), the stored documents that do not read the segments
 * (sales, products) are built on a second thread, through its own
 * connection to the committed model, while this one fills
 * customer_segment and builds the customers document; the documents are
 * then stored in their usual order, so the model is the same as on one
 * thread (tests/unit/test_pipeline.c).  On the CRM/ERP files that takes
 * the sales and products documents off the run's path (about 65 and
 * 35 ms in a profile of the aggregate phase, 2026-12-04).  The same
 * thread then reads the sources dashboard's groups (dash_sources_read():
 * the staged, accounted and matched rows per file, the quarantine; about
 * 105 ms, most of it the customers' lineage), which this thread stores
 * after joining it; on one thread they are read and stored there.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "concord/dashboard.h"
#include "concord/segment.h"
#include "pipeline_int.h"

/* The documents built on the second thread, and the sources
 * dashboard's groups read there. */
struct docjob {
	sqlite3		*db;		/* its own connection, query_only */
	char		**texts;	/* dash_stored_count() documents */
	struct dash_sources *src;	/* read into, after the documents */
	struct cc_diag	 diag;
	cc_err		 err;
	pthread_t	 th;
	int		 started;
};

static void *
doc_thread(void *arg)
{
	struct docjob *j = arg;
	int i, n = dash_stored_count();

	/* one read transaction: one snapshot of the committed aggregates */
	if (sqlite3_exec(j->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		j->err = cc_diag_set(&j->diag, CC_EDB, "sqlite", "%s",
		    sqlite3_errmsg(j->db));
		return NULL;
	}
	for (i = 0; i < n && j->err == CC_OK; i++)
		if (!dash_stored_needs_segments(dash_stored_at(i)))
			j->err = dash_document_build(j->db, dash_stored_at(i),
			    &j->texts[i], &j->diag);
	if (j->err == CC_OK)
		j->err = dash_sources_read(j->db, j->src, &j->diag);
	sqlite3_exec(j->db, "COMMIT", NULL, NULL, NULL);
	return NULL;
}

/*
 * Commits the aggregate tables and the documents' marker and starts the
 * second thread on them; j->started 0 (not an error): this thread builds
 * every document.  Errors: those of COMMIT and BEGIN (CC_EDB, diag).
 */
static cc_err
doc_start(struct run *r, struct docjob *j, struct cc_diag *diag)
{
	cc_err err;

	if (!r->model_wal || r->threads == 1)
		return CC_OK;
	if ((err = run_exec(r, "COMMIT", diag)) != CC_OK ||
	    (err = run_exec(r, "BEGIN", diag)) != CC_OK)
		return err;
	if (run_model_reader(r, &j->db) != CC_OK)
		return CC_OK;
	if (pthread_create(&j->th, NULL, doc_thread, j) != 0) {
		sqlite3_close_v2(j->db);
		j->db = NULL;
		return CC_OK;
	}
	j->started = 1;
	return CC_OK;
}

/*
 * The facts' pass of the aggregate tables (dash_facts_read()) on a thread
 * of its own, through its own connection to the model as committed after
 * the load, while the run's thread builds the first two of the facts'
 * indexes (run_fact_indexes_upto(): the pass is a scan of the table,
 * which they do not change; every statement the documents and segments
 * run after them gives the same rows with or without them: each LIMIT
 * has a total ORDER BY, every sum is of integers), the others while the
 * documents' thread works.  Quality's thread waits meanwhile and begins
 * after the pass (run_quality_go()).
 */
#define FACT_INDEXES_BESIDE	2	/* of the 3 (1M facts: the pass ~0.5 s,
					   an index ~0.22 s; all 3 beside it
					   and the documents wait longer) */

struct factjob {
	sqlite3			*db;
	struct dash_facts	*facts;
	struct cc_diag		 diag;
	cc_err			 err;
	pthread_t		 th;
	int			 started;
};

static void *
fact_thread(void *arg)
{
	struct factjob *j = arg;

	if (sqlite3_exec(j->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		j->err = cc_diag_set(&j->diag, CC_EDB, "sqlite", "%s",
		    sqlite3_errmsg(j->db));
	else {
		j->err = dash_facts_read(j->db, &j->facts, &j->diag);
		sqlite3_exec(j->db, "COMMIT", NULL, NULL, NULL);
	}
	return NULL;
}

/* Starts the pass on its thread when quality runs beside (the model
 * committed and in WAL mode); j->started 0: the pass runs in
 * dash_aggregate_facts_from() on this thread. */
static void
fact_start(struct run *r, struct factjob *j)
{
	memset(j, 0, sizeof(*j));
	if (!r->quality_beside || !r->model_wal || r->threads == 1 ||
	    run_model_reader(r, &j->db) != CC_OK)
		return;
	if (pthread_create(&j->th, NULL, fact_thread, j) != 0) {
		sqlite3_close_v2(j->db);
		j->db = NULL;
		return;
	}
	j->started = 1;
}

/* Joins a reading thread (once: *started cleared) and closes its
 * connection: its error *err, its diagnostic *jdiag copied to diag (both
 * read after the join). */
static cc_err
reader_join(pthread_t th, int *started, sqlite3 **db, const cc_err *err,
    const struct cc_diag *jdiag, struct cc_diag *diag)
{
	if (!*started)
		return CC_OK;
	pthread_join(th, NULL);
	*started = 0;
	sqlite3_close_v2(*db);
	*db = NULL;
	if (*err != CC_OK && diag != NULL)
		*diag = *jdiag;
	return *err;
}

/* Joins the pass's thread (once): its error (diag copied); *facts its
 * groups (the caller's: dash_facts_free()). */
static cc_err
fact_join(struct factjob *j, struct dash_facts **facts, struct cc_diag *diag)
{
	cc_err err = reader_join(j->th, &j->started, &j->db, &j->err,
	    &j->diag, diag);

	*facts = j->facts;
	j->facts = NULL;
	return err;
}

/* Joins the second thread (once); its error, diag copied. */
static cc_err
doc_join(struct docjob *j, struct cc_diag *diag)
{
	return reader_join(j->th, &j->started, &j->db, &j->err, &j->diag,
	    diag);
}

cc_err
aggregate_all(struct run *r, struct cc_diag *diag)
{
	struct timespec t0;
	struct docjob j;
	struct factjob fj;
	struct dash_facts *facts = NULL;
	long long scored = 0, customers = 0;
	int i, n = dash_stored_count(), side;
	cc_err err, jerr;

	memset(&j, 0, sizeof(j));
	if ((j.texts = calloc((size_t)n, sizeof(*j.texts))) == NULL)
		return cc_diag_set(diag, CC_ENOMEM, "nomem", "out of memory");
	run_tick(r, "aggregate", 0, 1);
	/* the facts' pass on its thread while the first of the facts'
	 * indexes are built here (with quality beside: else all at the
	 * run's end); the last one while the documents are built */
	fact_start(r, &fj);
	if (fj.started) {
		err = run_fact_indexes_upto(r, FACT_INDEXES_BESIDE, diag);
		jerr = fact_join(&fj, &facts, err == CC_OK ? diag : NULL);
		if (err == CC_OK)
			err = jerr;
		if (err != CC_OK) {
			dash_facts_free(facts);
			free(j.texts);
			return err;
		}
	}
	/* quality's thread from here on (run_quality_go()) */
	run_quality_go(r);
	/* the grouped tables, then the segments from them, then the
	 * stored documents (the customers dashboard shows the segments);
	 * the sources dashboard's groups last (no document reads them),
	 * read on the second thread after its documents when it runs */
	err = dash_aggregate_facts_from(r->db, facts, &j.src, diag);
	dash_facts_free(facts);
	if (err != CC_OK ||
	    (err = dash_documents_begin(r->db, diag)) != CC_OK ||
	    (err = doc_start(r, &j, diag)) != CC_OK) {
		dash_sources_free(j.src);
		free(j.texts);
		return err;
	}
	side = j.started;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((err = segment_build(r->db, &scored, &customers, diag)) == CC_OK) {
		json_object_set_new(r->timings, "segments",
		    json_integer(run_ms_since(&t0)));
		run_count(r, "segment_customers", customers);
		run_count(r, "segmented_customers", scored);
		for (i = 0; i < n && err == CC_OK; i++)
			if (!side || dash_stored_needs_segments(
			    dash_stored_at(i)))
				err = dash_document_build(r->db,
				    dash_stored_at(i), &j.texts[i], diag);
	}
	/* the facts' indexes while the other threads read (run_fact_indexes():
	 * neither the documents' thread nor quality's sees them) */
	if (err == CC_OK && side && r->quality_beside)
		err = run_fact_indexes(r, diag);
	jerr = doc_join(&j, err == CC_OK ? diag : NULL);
	if (err == CC_OK)
		err = jerr;
	if (err == CC_OK)
		err = dash_sources_store(r->db, j.src, diag);
	if (err == CC_OK)
		err = dash_documents_store(r->db, j.texts, diag);
	dash_sources_free(j.src);
	for (i = 0; i < n; i++)
		free(j.texts[i]);
	free(j.texts);
	if (err == CC_OK)
		run_tick(r, "aggregate", 1, 1);
	return err;
}
