/*
 * cli_match.c - entity resolution from the command line: `concord match`
 * re-runs matching (and what follows from it) on the staged records of a
 * workspace, applying the review decisions taken since; `concord pairs`
 * prints the pairs of the current model (match_pairs) as CSV or JSON,
 * through the same query code as GET /api/v1/tables/match_pairs.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "concord/control.h"
#include "concord/query.h"
#include "concord/review.h"
#include "concord/runs.h"
#include "concord/workspace.h"
#include "cli.h"

/* Opens NAME's workspace; prints why not and returns NULL. */
static struct workspace *
open_user(struct cc_config *cfg, const char *name)
{
	struct control *ctl;
	struct workspace *ws;
	struct cc_user u;

	ws = cli_workspace(cfg, name, &ctl, &u);
	control_close(ctl);
	return ws;
}

int
cmd_match(struct cc_config *cfg, int argc, char **argv)
{
	struct pipeline_options opt;
	struct workspace *ws;
	char id[RUNS_ID_LEN + 1];
	struct cc_diag diag;
	const char *name = NULL;
	json_t *run = NULL, *sum = NULL;
	int i, rc = 1;
	cc_err err;

	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--user") && i + 1 < argc)
			name = argv[++i];
		else
			name = NULL, i = argc;
	if (cli_wants_help(argc, argv) || name == NULL) {
		printf("usage: concord [-d DIR] match --user NAME\n\n"
		    "Re-runs entity resolution on NAME's workspace: the staged\n"
		    "records of the current model are matched again (no file is\n"
		    "parsed again unless it changed), with every review decision\n"
		    "taken since applied, and the dimensions and facts rebuilt\n"
		    "from the new clusters, atomically, as a run.  Prints the\n"
		    "matching summary (GET /api/v1/matching) as JSON.\n");
		return cli_wants_help(argc, argv) ? 0 : 2;
	}
	if ((ws = open_user(cfg, name)) == NULL)
		return 1;
	memset(&opt, 0, sizeof(opt));
	cc_diag_clear(&diag);
	id[0] = '\0';
	if ((err = runs_start(ws, NULL, &opt, NULL, NULL, id, &diag)) !=
	    CC_OK) {
		if (err == CC_ECONFLICT && !strcmp(diag.code,
		    "run_in_progress"))
			fprintf(stderr, "concord: a run is already queued or"
			    " running in this workspace\n");
		else
			fprintf(stderr, "concord: run %s failed: %s\n", id,
			    diag.message);
		goto out;
	}
	ws_close(ws);
	/* the new model is attached by a fresh open */
	if ((ws = open_user(cfg, name)) == NULL)
		return 1;
	if (review_summary(ws, &sum, &diag) != CC_OK) {
		fprintf(stderr, "concord: %s\n", diag.message);
		goto out;
	}
	json_object_set_new(sum, "run_id", json_string(id));
	json_dumpf(sum, stdout, JSON_INDENT(2));
	putchar('\n');
	rc = 0;
out:
	json_decref(run);
	json_decref(sum);
	ws_close(ws);
	return rc;
}

static int
write_stdout(void *ctx, const void *buf, size_t len)
{
	(void)ctx;
	return fwrite(buf, 1, len, stdout) == len ? 0 : -1;
}

int
cmd_pairs(struct cc_config *cfg, int argc, char **argv)
{
	struct query_param pp[4];
	struct query_limits lim;
	struct query *q = NULL;
	struct workspace *ws;
	struct cc_diag diag;
	enum query_format fmt = QUERY_CSV;
	enum query_cut cut;
	const char *name = NULL, *decision = NULL, *entity = NULL;
	long long rows = 0;
	size_t np = 0;
	int i, rc = 1;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--user") && i + 1 < argc)
			name = argv[++i];
		else if (!strcmp(argv[i], "--format") && i + 1 < argc) {
			i++;
			if (!strcmp(argv[i], "csv"))
				fmt = QUERY_CSV;
			else if (!strcmp(argv[i], "json"))
				fmt = QUERY_JSON;
			else
				name = NULL, i = argc;
		} else if (!strcmp(argv[i], "--decision") && i + 1 < argc)
			decision = argv[++i];
		else if (!strcmp(argv[i], "--entity") && i + 1 < argc)
			entity = argv[++i];
		else
			name = NULL, i = argc;
	}
	if (cli_wants_help(argc, argv) || name == NULL) {
		printf("usage: concord [-d DIR] pairs --user NAME [--format csv|json]\n"
		    "       [--entity E] [--decision matched|review|accepted|"
		    "rejected|kept_apart]\n\n"
		    "Prints the pairs of records the last run's entity resolution\n"
		    "kept (match_pairs: match weight, posterior probability,\n"
		    "comparison levels, blocking rule, decision, lineage), all of\n"
		    "them, as CSV (default) or JSON, like GET\n"
		    "/api/v1/tables/match_pairs?_stream=1.\n");
		return cli_wants_help(argc, argv) ? 0 : 2;
	}
	if ((ws = open_user(cfg, name)) == NULL)
		return 1;
	memset(pp, 0, sizeof(pp));
	pp[np].key = "_stream";
	pp[np++].value = "1";
	pp[np].key = "_formulas";
	pp[np++].value = "raw";
	if (decision != NULL) {
		pp[np].key = "decision";
		pp[np++].value = decision;
	}
	if (entity != NULL) {
		pp[np].key = "entity";
		pp[np++].value = entity;
	}
	query_limits_default(&lim);
	lim.stream_max_rows = LLONG_MAX;	/* every pair */
	lim.stream_max_bytes = LLONG_MAX;
	lim.stream_time_limit_ms = 0;
	cc_diag_clear(&diag);
	if (query_parse(ws->db, "match_pairs", fmt, pp, np, &lim, &q,
	    &diag) != CC_OK || query_open(q, ws->db,
	    "/api/v1/tables/match_pairs", &diag) != CC_OK ||
	    query_write(q, write_stdout, NULL, &rows, &cut, &diag) != CC_OK) {
		fprintf(stderr, "concord: %s\n", !strcmp(diag.code,
		    "no_such_table") ? "no run has built a model yet" :
		    diag.message);
		goto out;
	}
	if (fmt == QUERY_JSON)
		putchar('\n');
	rc = cut == QUERY_CUT_NONE ? 0 : 1;
out:
	query_close(q);
	query_free(q);
	ws_close(ws);
	return rc;
}
