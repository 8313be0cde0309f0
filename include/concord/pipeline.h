/*
 * concord/pipeline.h - a reconciliation run: from the registered files
 * and their mappings to the star schema (concord/model.h), in phases:
 *
 *   stage      each file's mapped columns cleaned (concord/clean.h) into
 *              stg_<entity>, with lineage (file, row) and the unmapped
 *              columns kept; every value that cannot be cleaned is
 *              recorded in clean_issues, every change counted in
 *              clean_changes.  A file whose bytes and mapping did not
 *              change since the last run is copied, not parsed again.
 *   reconcile  key alignment between the sources of an entity and for
 *              every reference (concord/align.h); records that share an
 *              aligned key become one entity with a canonical id, stable
 *              across runs; survivorship builds the golden record.
 *   load       dimensions (type-2 history), dim_date, fact_sales; order
 *              lines check amount = quantity x unit price and derive a
 *              missing one; rows that cannot be resolved go to quarantine
 *              with the reason.
 *   aggregate  the read side's aggregates (concord/dashboard.h
 *              dash_aggregate()): facts grouped by day, country,
 *              category, order, customer and product; the dashboards'
 *              unfiltered documents.
 *   quality    rules of completeness, validity, uniqueness, referential
 *              integrity and consistency with pass/fail counts and
 *              examples (quality_results of the workspace).
 *
 * Atomic: the run builds DIR/model.db.tmp and renames it over
 * DIR/model.db only when every phase succeeded; readers keep the previous
 * result until then, and a killed run leaves it untouched.  model.db.tmp
 * is created mode 0600 and locked for the run's life (ws_tmp_create()),
 * so the model.db it becomes is 0600 too and the model.db.tmp of a killed
 * run is removed by the next ws_sweep().
 */
#ifndef CONCORD_PIPELINE_H
#define CONCORD_PIPELINE_H

#include <jansson.h>

#include "concord/error.h"
#include "concord/workspace.h"

/*
 * Progress callback: phase ("stage", "reconcile", "load", "quality"),
 * units done and total of that phase.  Returns non-zero to cancel the
 * run (it then ends with CC_ECONFLICT and changes nothing).
 */
typedef int (*pipeline_tick)(void *arg, const char *phase, long long done,
    long long total);

struct pipeline_options {
	const char	*today;		/* "YYYY-MM-DD" for plausibility checks
					   (a birth date after today); NULL:
					   the system clock's UTC date */
	int		 restage;	/* 1: parse every file again */
	int		 unknown_customer; /* 1: an order line that names no
					   customer (neither key nor name or
					   e-mail) is loaded as a sale of the
					   one unknown member of dim_customer
					   (customer_sk 0, canonical_id 0,
					   full_name "Unknown customer", no
					   natural key), customer_canonical_id
					   NULL, so revenue is complete; 0 (the
					   default): it is quarantined
					   (customer_missing) and creates no
					   dimension row */
	const char	*until;		/* the last phase to run ("stage",
					   "reconcile", "load", "aggregate",
					   "quality"); NULL: every phase.  A
					   shortened run installs its model
					   all the same (e.g. "stage": the
					   staging tables queryable, the
					   star schema empty) */
	int		 threads;	/* 1: the run uses one thread; 0 (the
					   default) or more: up to two, where
					   the answer cannot change: the stage
					   proposes the next file's mapping
					   while it stages one, and inserts
					   a file's rows on a writer thread
					   while it reads and cleans the
					   next ones, reconcile
					   learns key rules of two pairs of
					   files at once, the matcher compares
					   pairs on two threads, quality runs
					   beside the aggregate phase (the
					   model in WAL mode meanwhile, back
					   in rollback mode when installed:
					   core/pipeline.c).  The model,
					   the report and the stored mappings
					   are the same either way (tests/unit/
					   test_pipeline.c) */
};

/*
 * Runs the pipeline on ws for the run run_id (a row of ws's runs table;
 * the caller manages its state).  *report (may be NULL) receives a new
 * JSON object: {"counts": {...}, "timings_ms": {"stage": ...},
 * "key_rules": [...], "files": [...], "warnings": [{"code", "detail",
 * "count", ...}]}; "warnings" says what a successful run must still
 * tell (order lines mostly quarantined, per reason, with the fix: see
 * core/warnings.c), an empty array when nothing.
 * Errors: CC_ECONFLICT (cancelled by tick), CC_EINVALID (nothing to run:
 * no mapped file; diag says so), CC_EINVAL (opt->until names no phase:
 * diag code "phase"), CC_EIO, CC_EDB, CC_ENOMEM; diag says which phase
 * and why.
 */
cc_err	pipeline_run(struct workspace *ws, const char *run_id,
	    const struct pipeline_options *opt, pipeline_tick tick, void *arg,
	    json_t **report, struct cc_diag *diag);

/*
 * A preview of what the stage phase would make of a file: its first
 * limit rows (>= 1) cleaned with mapping (a mapping document as
 * registry_mapping_get() or map_validate() gives it: confirmed targets,
 * or proposed ones at or above its threshold), by the same code and with
 * the same learned date and number formats (from the file's first
 * 5,000 rows) as a run.  today ("YYYY-MM-DD", NULL: the system clock's
 * UTC date) bounds plausible record dates, as in a run.  Nothing is
 * written.  *out is a new object {"rows_read": n, "limit": limit,
 * "entities": [{"entity": "customer", "columns": [{"attribute", "type",
 * "sources": [source column names]}], "rows": [{"row": 1-based row,
 * "values": [cleaned value or null], "raw": [the first source column's
 * raw value or null], "issues": [issue name (clean_issue_name()) or
 * null]}]}]}, in the order of the entities the mapping feeds; owned by
 * the caller.
 * Errors: CC_EINVAL (a NULL argument or limit < 1), CC_ENOTFOUND (no
 * such file), CC_EINVALID (the mapping names a column the file does not
 * have there; diag), CC_EIO and the reader's errors (diag), CC_ENOMEM.
 */
cc_err	stage_preview(struct workspace *ws, const char *file_id,
	    const json_t *mapping, int limit, const char *today, json_t **out,
	    struct cc_diag *diag);

#endif /* CONCORD_PIPELINE_H */
