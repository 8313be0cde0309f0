/*
 * pipeline_int.h - what the phases of a run share (not a public header:
 * see concord/pipeline.h for the contract).
 */
#ifndef CONCORD_PIPELINE_INT_H
#define CONCORD_PIPELINE_INT_H

#include <jansson.h>
#include <sqlite3.h>

#include "concord/clean.h"
#include "concord/pipeline.h"
#include "concord/workspace.h"

struct run {
	struct workspace	*ws;		/* files, mappings, runs */
	sqlite3			*db;		/* model.db.tmp; "old" attached
						   when a previous model exists */
	int			 has_old;
	const char		*run_id;
	char			 today[11];
	int			 restage;
	pipeline_tick		 tick;
	void			*arg;
	json_t			*counts;	/* {"name": n} */
	json_t			*timings;	/* {"phase": ms} */
	json_t			*key_rules;	/* [rule report] */
	json_t			*files;		/* [per-file report] */
	struct clean_opts	 copt;
};

/* Reports progress; returns 1 when the run must stop (cancelled). */
int	run_tick(struct run *r, const char *phase, long long done,
	    long long total);

/* Adds n to counts[key]. */
void	run_count(struct run *r, const char *key, long long n);

/* Runs one fixed SQL text on the model database (CC_EDB with diag). */
cc_err	run_exec(struct run *r, const char *sql, struct cc_diag *diag);

/* The phases, in order. */
cc_err	stage_all(struct run *r, struct cc_diag *diag);
cc_err	reconcile_all(struct run *r, struct cc_diag *diag);
cc_err	load_all(struct run *r, struct cc_diag *diag);
cc_err	aggregate_all(struct run *r, struct cc_diag *diag);	/* aggregate.c */
cc_err	quality_all(struct run *r, struct cc_diag *diag);

#endif /* CONCORD_PIPELINE_INT_H */
