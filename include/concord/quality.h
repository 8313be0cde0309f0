/*
 * concord/quality.h - parts of the quality phase (quality_all() in
 * core/quality.c, concord/pipeline.h) that C answers instead of SQL.
 */
#ifndef CONCORD_QUALITY_H
#define CONCORD_QUALITY_H

#include <sqlite3.h>

#include "concord/error.h"

/* The rules quality_facts() counts on fact_sales' own columns, as pairs
 * (passed, failed) in this order. */
#define QUALITY_FACT_PAIRS	6

/* What quality_facts() answered itself (struct quality_facts.answered). */
#define QUALITY_PAIRS		0x1	/* the pairs, without the statement */
#define QUALITY_LINES		0x2	/* order_line_unique */
#define QUALITY_VERSIONS	0x4	/* sales_within_product_version */

struct quality_facts {
	int		 answered;	/* QUALITY_* bits */
	/*
	 * The rules on the facts' own columns, counted as SQL's FILTERs
	 * count them (core/quality.c fact_scan), pairs[2 * k] passed and
	 * pairs[2 * k + 1] failed of rule k:
	 * 0 unit_price_positive: unit_price > 0; IS NULL OR <= 0;
	 * 1 sales_product_version: product_sk IS NOT NULL; IS NULL;
	 * 2 ship_after_order: ship_date >= order_date; <;
	 * 3 due_after_order: due_date >= order_date; <;
	 * 4 return_has_original: is_return AND original_order_id IS NOT
	 *   NULL; ... IS NULL;
	 * 5 amount_is_quantity_times_price: amount_consistent = 1; = 0.
	 * Always set: by the statement when QUALITY_PAIRS is not set.
	 */
	long long	 pairs[2 * QUALITY_FACT_PAIRS];
	/*
	 * order_line_unique (QUALITY_LINES): failed is the number of
	 * (order_id, line_number) groups holding more than one row (GROUP BY
	 * order_id, line_number HAVING count(*) > 1, BINARY collation),
	 * passed the number of rows less failed.
	 */
	long long	 lines_passed, lines_failed;
	/*
	 * sales_within_product_version (QUALITY_VERSIONS): over the facts
	 * that join a version (fact_sales JOIN dim_product ON product_sk),
	 * passed counts those whose version has no valid_from or whose
	 * order_date is on or after it, failed those whose order_date is
	 * before it (a NULL order_date is neither).
	 */
	long long	 versions_passed, versions_failed;
};

/*
 * The counts of the quality rules on fact_sales in one pass over the
 * facts in rowid order, instead of a statement each (1,026,766 facts:
 * the three statements about 0.6 s of CPU, the pass about 0.2 s).
 *
 * Values are compared as SQL compares two stored values of one affinity
 * (SQLite's datatype3.html, "Comparison Expressions" and "Sort Order"):
 * NULL compares to nothing, an INTEGER is before any TEXT, TEXT by bytes
 * (BINARY collation).  A rule meeting a value of a class the pass does
 * not compare (a REAL date or key, a BLOB, a TEXT price, flag or count)
 * is left to its statement: for the pairs, quality_facts() runs it
 * itself; for the others the bit is not set and the caller runs the
 * rule's statement.
 *
 * order_line_unique is answered when every key is INTEGER or TEXT and
 * the keys come strictly increasing in rowid order (no two equal: the
 * load phase inserts the facts sorted by them), failed then 0.
 * sales_within_product_version reads the versions into memory (as many
 * as dim_product has); a surrogate key that is not an INTEGER or two
 * versions of one key leave it to the statement.
 *
 * db: the model (fact_sales and dim_product of concord/model.h); *q set
 * on CC_OK (counts a rule was left with: 0).  Returns CC_OK, CC_EDB
 * (diag: sqlite; no such table) or CC_ENOMEM (diag: nomem).
 */
cc_err	quality_facts(sqlite3 *db, struct quality_facts *q,
	    struct cc_diag *diag);

#endif
