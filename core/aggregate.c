/*
 * aggregate.c - the run's aggregate phase: after load, before quality,
 * the read side's aggregates are computed into the model being built
 * (dash_aggregate() in core/dashboard.c, which owns the statements the
 * dashboards read them with), so that a dashboard request reads a few
 * grouped rows instead of scanning the facts.
 */
#include "config.h"

#include "concord/dashboard.h"
#include "pipeline_int.h"

cc_err
aggregate_all(struct run *r, struct cc_diag *diag)
{
	cc_err err;

	run_tick(r, "aggregate", 0, 1);
	if ((err = dash_aggregate(r->db, diag)) != CC_OK)
		return err;
	run_tick(r, "aggregate", 1, 1);
	return CC_OK;
}
