/*
 * concord/runs.h - reconciliation runs as a resource: a run is queued,
 * then running (phase, progress done/total), then done, failed or
 * cancelled, with counts and timings per phase at the end.  Stored in
 * the workspace's runs table; executed by pipeline_run().
 */
#ifndef CONCORD_RUNS_H
#define CONCORD_RUNS_H

#include <jansson.h>

#include "concord/error.h"
#include "concord/pipeline.h"
#include "concord/workspace.h"

#define RUNS_ID_LEN	16	/* hex characters of a run id */
#define RUNS_LOCK	"run.lock"	/* in the workspace directory: held
					 * by the process executing a run */

/*
 * Queues a run; id (RUNS_ID_LEN + 1 bytes) receives its id.  A workspace
 * has at most one queued or running run: CC_ECONFLICT otherwise, with id
 * set to that run.  A run left "running" while no process holds the
 * workspace's RUNS_LOCK (its process was killed, or ran out of memory
 * or disk before it could record its end) is marked failed first, so it
 * never blocks the next one.  Errors: CC_ECONFLICT, CC_EDB.
 */
cc_err	runs_create(struct workspace *ws, char *id);

/*
 * The same, with settings (a JSON object checked by runs_settings_check(),
 * or NULL: the defaults), stored with the run, served by runs_get() as
 * "settings" and applied by runs_execute().  Errors: as runs_create(),
 * CC_ENOMEM.
 */
cc_err	runs_create_with(struct workspace *ws, const json_t *settings,
	    char *id);

/*
 * Checks a run's settings and fills the defaults.  in (a reference this
 * call takes over, NULL or JSON null for none) is an object whose only
 * key is "missing_customer": "quarantine" (the default: an order line
 * that names no customer goes to the quarantine and creates no
 * dimension row) or "unknown_customer" (it is loaded as a sale of the
 * one "Unknown customer" member, concord/pipeline.h).  *out receives a
 * new object with every setting.  Errors: CC_EINVALID (diag code
 * bad_settings: not an object; unknown_setting; bad_setting: a value
 * outside those), CC_ENOMEM.
 */
cc_err	runs_settings_check(json_t *in, json_t **out, struct cc_diag *diag);

/*
 * A run as a new JSON object {id, state, phase, progress: {done, total},
 * counts, timings_ms, error, created_at, started_at, finished_at,
 * warnings, settings (runs_settings_check(), defaults filled)}.  warnings is an array, empty unless a run that ended "done"
 * has something to say (pipeline_run()'s report: [{"code", "detail",
 * "count", "reason", "total", "fix"}], e.g. code
 * "order_lines_quarantined" when most order lines went to the
 * quarantine); the state stays "done".  Errors: CC_ENOTFOUND, CC_EDB.
 */
cc_err	runs_get(struct workspace *ws, const char *id, json_t **out);

/* The latest runs first, at most limit, as a new JSON array. */
cc_err	runs_list(struct workspace *ws, int limit, json_t **out);

/*
 * Asks a run to stop: a queued run is cancelled at once; a running one
 * at its next progress report.  Errors: CC_ENOTFOUND, CC_ECONFLICT (the
 * run has ended), CC_EDB.
 */
cc_err	runs_cancel(struct workspace *ws, const char *id);

/*
 * The quality report of a run: {"run_id", "rules": [{rule, dimension,
 * target, status, checked, passed, failed, pass_rate, examples}],
 * "summary": {dimension: {passed, failed, not_applicable}}}.  status is
 * "passed", "failed" or "not_applicable" (nothing to check: 0 of 0 rows,
 * pass_rate null): a rule over no rows never counts as passed.
 * Errors: CC_ENOTFOUND, CC_EDB.
 */
cc_err	runs_quality(struct workspace *ws, const char *id, json_t **out);

/*
 * Executes a queued run now (the runner, or `concord run`): takes the
 * workspace's RUNS_LOCK (flock(2), held until the end is recorded), marks
 * the run running, calls pipeline_run() reporting progress into the row
 * (and to tick, which may be NULL), and marks it done, failed (with the
 * reason) or cancelled.  opt (may be NULL) is applied with the run's
 * stored settings (missing_customer "unknown_customer" sets
 * unknown_customer).  Returns pipeline_run()'s result, or
 * CC_ECONFLICT (the run is not queued, or another process holds the
 * lock), CC_EIO (the lock file cannot be created), CC_EDB.
 */
cc_err	runs_execute(struct workspace *ws, const char *id,
	    const struct pipeline_options *opt, pipeline_tick tick, void *arg,
	    struct cc_diag *diag);

/*
 * Records a run and executes it at once in this process (`concord run`):
 * takes the workspace's RUNS_LOCK first, then inserts the run (settings as
 * runs_create_with(); id, RUNS_ID_LEN + 1 bytes, receives its id) already
 * "running", then executes it as runs_execute() does.  Because the lock is
 * taken before the row exists, a process that dies or cannot write any
 * more (disk full) after the insert leaves a "running" run that the next
 * runs_create() or runs_start() tells dead by the free lock and marks
 * failed, never a queued run that nobody would execute.  Errors:
 * CC_ECONFLICT (another process holds the lock, or a run is queued for
 * the service's runner: id names that run when it can be read),
 * CC_EIO (the lock file), CC_EDB, CC_ENOMEM, and pipeline_run()'s.
 */
cc_err	runs_start(struct workspace *ws, const json_t *settings,
	    const struct pipeline_options *opt, pipeline_tick tick, void *arg,
	    char *id, struct cc_diag *diag);

/*
 * Marks runs left "running" by a process that died (the runner found
 * them at start) as failed.  Returns how many.
 */
int	runs_recover(struct workspace *ws);

#endif /* CONCORD_RUNS_H */
