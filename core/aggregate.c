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
 */
#include "config.h"

#include <time.h>

#include "concord/dashboard.h"
#include "concord/segment.h"
#include "pipeline_int.h"

cc_err
aggregate_all(struct run *r, struct cc_diag *diag)
{
	struct timespec t0;
	long long scored = 0, customers = 0;
	cc_err err;

	run_tick(r, "aggregate", 0, 1);
	/* the grouped tables, then the segments from them, then the
	 * stored documents (the customers dashboard shows the segments) */
	if ((err = dash_aggregate_tables(r->db, diag)) != CC_OK)
		return err;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((err = segment_build(r->db, &scored, &customers, diag)) != CC_OK)
		return err;
	json_object_set_new(r->timings, "segments",
	    json_integer(run_ms_since(&t0)));
	run_count(r, "segment_customers", customers);
	run_count(r, "segmented_customers", scored);
	if ((err = dash_aggregate_documents(r->db, diag)) != CC_OK)
		return err;
	run_tick(r, "aggregate", 1, 1);
	return CC_OK;
}
