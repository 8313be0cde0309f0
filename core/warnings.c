/*
 * warnings.c - what a run that ends "done" must still say (the last step
 * of pipeline_run(), after the load and quality phases): order lines
 * quarantined for one reason when they are most of the lines, with the
 * count, the reason in plain words and how to fix it, named by the
 * file's mapping ("500 of 500 order lines quarantined: no product —
 * upload a product file or map 'Item' to product.name").  Computed from
 * the new model's quarantine and staging tables; the run's state stays
 * "done" and the warnings go into its report (concord/runs.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "concord/map.h"
#include "concord/registry.h"
#include "pipeline_int.h"

/* A warning is raised when at least this share of the lines ended in
 * the quarantine ("mostly quarantined"). */
#define WARN_SHARE	0.5

static const struct reason {
	const char	*reason;	/* quarantine.reason */
	const char	*words;		/* what it means */
	const char	*entity;	/* whose records are missing */
	const char	*ref;		/* the reference attribute */
	const char	*name_attr;	/* what a fact file can map instead */
	int		 keyed;		/* the line has a key nobody has: name
					   one in the fix */
} reasons[] = {
	{ "order_id_missing", "no order id", NULL, "order_line.order_id",
	  NULL, 0 },
	{ "customer_missing", "no customer", "customer",
	  "order_line.customer_id", "customer.full_name", 0 },
	{ "customer_unresolved", "customer not found", "customer",
	  "order_line.customer_id", "customer.full_name", 1 },
	{ "product_missing", "no product", "product", "order_line.product_id",
	  "product.name", 0 },
	{ "product_unresolved", "product not found", "product",
	  "order_line.product_id", "product.name", 1 },
};

static const struct reason *
reason_of(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < sizeof(reasons) / sizeof(reasons[0]);
	    i++)
		if (!strcmp(reasons[i].reason, name))
			return &reasons[i];
	return NULL;
}

/* The column a fix could map, from file id's mapping (NULL if none). */
static char *
fix_column(struct run *r, const char *file_id, const struct reason *rs)
{
	json_t *doc = NULL, *file = NULL, *profile = NULL, *prop = NULL;
	const char *c = NULL;
	char *col = NULL;

	if (file_id == NULL || rs->entity == NULL ||
	    registry_mapping_get(r->ws, file_id, &doc) != CC_OK)
		return NULL;
	if (registry_get(r->ws, file_id, &file, &profile) == CC_OK &&
	    map_propose_heuristic(profile, json_string_value(json_object_get(
	    file, "name")), &prop, NULL) != CC_OK)
		prop = NULL;
	c = map_candidate_column(doc, prop, rs->entity, rs->name_attr,
	    rs->ref);
	if (c != NULL)
		col = strdup(c);
	json_decref(prop);
	json_decref(profile);
	json_decref(file);
	json_decref(doc);
	return col;
}

/* The fix, in words, for lines quarantined for rs. */
static void
fix_text(const struct reason *rs, const char *col, const char *example,
    char *out, size_t size)
{
	if (rs->entity == NULL)
		snprintf(out, size, "map %s%s%s to order_line.order_id",
		    col != NULL ? "'" : "", col != NULL ? col :
		    "the order number column", col != NULL ? "'" : "");
	else if (col != NULL)
		snprintf(out, size, "upload a %s file%s%s%s or map '%s' to %s",
		    rs->entity, example != NULL ? " that has '" : "",
		    example != NULL ? example : "", example != NULL ? "'" : "",
		    col, rs->name_attr);
	else
		snprintf(out, size, "upload a %s file%s%s%s or map a column"
		    " to %s", rs->entity, example != NULL ? " that has '" : "",
		    example != NULL ? example : "", example != NULL ? "'" : "",
		    rs->ref);
}

cc_err
run_warnings(struct run *r, struct cc_diag *diag)
{
	sqlite3_stmt *st;
	long long lines = 0, quarantined = 0;
	json_t *w = r->warnings;
	int rc;

	if (sqlite3_prepare_v2(r->db, "SELECT (SELECT count(*) FROM"
	    " stg_order_line), (SELECT count(*) FROM quarantine WHERE entity ="
	    " 'order_line' AND reason <> 'superseded')", -1, &st, NULL) !=
	    SQLITE_OK)
		return cc_diag_set(diag, CC_EDB, "sqlite", "warnings: %s",
		    sqlite3_errmsg(r->db));
	if (sqlite3_step(st) == SQLITE_ROW) {
		lines = sqlite3_column_int64(st, 0);
		quarantined = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (lines == 0 || (double)quarantined < WARN_SHARE * (double)lines)
		return CC_OK;
	/* One warning per reason, the largest first; the file that has the
	 * most of them names the fix, one of its raw values the example. */
	if (sqlite3_prepare_v2(r->db, "SELECT reason, count(*), (SELECT"
	    " q2._file_id FROM quarantine q2 WHERE q2.reason = q.reason GROUP BY"
	    " q2._file_id ORDER BY count(*) DESC LIMIT 1), (SELECT q3.raw_value"
	    " FROM quarantine q3 WHERE q3.reason = q.reason AND q3.raw_value IS"
	    " NOT NULL LIMIT 1) FROM quarantine q WHERE entity = 'order_line'"
	    " AND reason <> 'superseded' GROUP BY reason ORDER BY count(*) DESC,"
	    " reason", -1, &st, NULL) != SQLITE_OK)
		return cc_diag_set(diag, CC_EDB, "sqlite", "warnings: %s",
		    sqlite3_errmsg(r->db));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *reason = (const char *)sqlite3_column_text(st, 0),
		    *file = (const char *)sqlite3_column_text(st, 2),
		    *example = (const char *)sqlite3_column_text(st, 3);
		long long n = sqlite3_column_int64(st, 1);
		const struct reason *rs = reason_of(reason);
		char fix[256], detail[512], *col;

		if (rs == NULL) {
			snprintf(detail, sizeof(detail), "%lld of %lld order"
			    " lines quarantined: %s", n, lines, reason);
			fix[0] = '\0';
		} else {
			col = fix_column(r, file, rs);
			fix_text(rs, col, rs->keyed ? example : NULL, fix,
			    sizeof(fix));
			free(col);
			snprintf(detail, sizeof(detail), "%lld of %lld order"
			    " lines quarantined: %s — %s", n, lines, rs->words,
			    fix);
		}
		json_array_append_new(w, json_pack("{s:s, s:s, s:I, s:s, s:I,"
		    " s:s}", "code", "order_lines_quarantined", "detail", detail,
		    "count", (json_int_t)n, "reason", reason, "total",
		    (json_int_t)lines, "fix", fix));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return cc_diag_set(diag, CC_EDB, "sqlite", "warnings: %s",
		    sqlite3_errmsg(r->db));
	return CC_OK;
}
