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
};

/*
 * Runs the pipeline on ws for the run run_id (a row of ws's runs table;
 * the caller manages its state).  *report (may be NULL) receives a new
 * JSON object: {"counts": {...}, "timings_ms": {"stage": ...},
 * "key_rules": [...], "files": [...]}.
 * Errors: CC_ECONFLICT (cancelled by tick), CC_EINVALID (nothing to run:
 * no mapped file; diag says so), CC_EIO, CC_EDB, CC_ENOMEM; diag says
 * which phase and why.
 */
cc_err	pipeline_run(struct workspace *ws, const char *run_id,
	    const struct pipeline_options *opt, pipeline_tick tick, void *arg,
	    json_t **report, struct cc_diag *diag);

#endif /* CONCORD_PIPELINE_H */
