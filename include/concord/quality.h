/*
 * concord/quality.h - parts of the quality phase (quality_all() in
 * core/quality.c, concord/pipeline.h) that C answers instead of SQL.
 */
#ifndef CONCORD_QUALITY_H
#define CONCORD_QUALITY_H

#include <sqlite3.h>

#include "concord/error.h"

/*
 * The counts of the rule order_line_unique without grouping, when the
 * facts tell them in one scan: failed is the number of (order_id,
 * line_number) groups of fact_sales holding more than one row (GROUP BY
 * order_id, line_number HAVING count(*) > 1, BINARY collation), passed
 * the number of rows less failed.  The load phase inserts the facts
 * sorted by these keys, so when every key is INTEGER or TEXT and the keys
 * come strictly increasing in rowid order (in a total order whose
 * equality is GROUP BY's: no two are equal), failed is 0 and passed the
 * number of rows.  Any other case (a NULL, REAL or BLOB key, or two keys
 * out of order or equal) is left to the GROUP BY statement.
 * db: the model (fact_sales of concord/model.h); *answered: 1 when
 * passed and failed were set, 0 when the statement must count them
 * (passed and failed untouched).  Returns CC_OK, CC_EDB (diag: sqlite)
 * or CC_ENOMEM (diag: nomem), *answered then 0.
 */
cc_err	quality_order_lines(sqlite3 *db, int *answered, long long *passed,
	    long long *failed, struct cc_diag *diag);

/*
 * The counts of the rule sales_within_product_version without the join
 * of every fact to dim_product (1,026,766 facts: 285 ms of the statement
 * against about 90 ms): over the facts that join a version (fact_sales
 * JOIN dim_product ON product_sk), passed counts those whose version has
 * no valid_from or whose order_date is on or after it, failed those whose
 * order_date is before it (SQL's comparison of the stored values: an
 * INTEGER before any TEXT, TEXT by bytes; a NULL order_date is neither).
 * The versions are read into memory (as many as dim_product has); a
 * surrogate key that is not an INTEGER, a valid_from or order_date that
 * is REAL or BLOB, or two versions of one key leave the counts to the
 * statement.  db, *answered, passed, failed and the errors as
 * quality_order_lines().
 */
cc_err	quality_product_versions(sqlite3 *db, int *answered,
	    long long *passed, long long *failed, struct cc_diag *diag);

#endif
