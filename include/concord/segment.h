/*
 * concord/segment.h - customer segments: RFM (recency, frequency,
 * monetary) scores and named segments of every customer, computed by a
 * run (its aggregate phase, core/aggregate.c) from fact_sales into the
 * model's table customer_segment (concord/model.h).
 *
 * Measures, per customer (fact_sales.customer_canonical_id; the lines of
 * the "unknown customer" member have none, and canonical id 0 is left
 * out all the same, so that member gets no segment):
 *   last_order_date  the latest order_date of the customer's sale lines
 *                    (lines that are not returns, is_return = 0);
 *   recency_days     as_of - last_order_date, in days;
 *   frequency        the distinct order_id of the customer's sale lines:
 *                    an invoice that only holds returns is not an order
 *                    (the sales dashboard's "orders", concord/dashboard.h);
 *   monetary         net amount: the sum of amount over every line of the
 *                    customer, returns included (their amounts are
 *                    negative), in money units of 10^-4
 *                    (QUERY_MONEY_DIGITS, concord/query.h).
 * as_of is the model's last order date: the latest order_date of any sale
 * line, the same for every row, so that a model scores the same whenever
 * it is read.
 *
 * Scores 1-5 (quintiles): among the scored customers (frequency >= 1 and
 * a last order date), n of them, a customer whose value v has c customers
 * with a value <= v (itself and its ties included) scores
 *     ceil(5 * c / n)  =  ceil(5 * CUME_DIST())
 * (CUME_DIST as defined by ISO/IEC 9075 SQL:2003 and SQLite's window
 * functions), with v = last_order_date for r_score (a more recent order
 * scores higher: the same as ordering recency_days descending), v =
 * frequency for f_score and v = monetary for m_score.  Equal values get
 * equal scores (ties take the score of their last member), the highest
 * value always scores 5, and the rule is deterministic and holds for any
 * n >= 1: with n < 5 some scores are not used (n = 1 scores 5, 5, 5; n =
 * 2 scores 3 and 5).  A customer with no order (only returns) or without
 * order dates is kept with its measures, scores and segment NULL.
 *
 * Segments: the segment map of the CRAN package rfm (Aravind Hebbali,
 * rfm_segment(), version 0.3.0; documented with this map at
 * https://rdocumentation.org/packages/rfm/versions/0.3.0/topics/rfm_segment,
 * implemented in rsquaredacademy/rfm R/rfm-segment.R): ten rules of
 * inclusive score ranges on R, F and M, tried in order, the first that
 * holds naming the segment (the package assigns a customer once), and
 * "Others" for a combination no rule holds.  segment_rules() lists them.
 */
#ifndef CONCORD_SEGMENT_H
#define CONCORD_SEGMENT_H

#include <stddef.h>

#include <sqlite3.h>

#include "concord/error.h"

/* The name of the segment of the combinations no rule matches. */
#define SEGMENT_OTHERS	"Others"

/* One rule of the segment map: inclusive ranges of each score (1-5). */
struct segment_rule {
	const char	*name;
	int		 r_lo, r_hi;
	int		 f_lo, f_hi;
	int		 m_lo, m_hi;
};

/*
 * The segment map's rules in the map's order (Champions first, Lost
 * last); *n set to their number.  Static storage, never NULL.  The
 * dashboards list segments in this order, then SEGMENT_OTHERS.
 */
const struct segment_rule *segment_rules(size_t *n);

/*
 * The segment of scores r, f, m (each 1-5): the name of the first rule
 * of segment_rules() whose three ranges hold them, else SEGMENT_OTHERS.
 * NULL when a score is outside 1-5.  Static storage.
 */
const char *segment_name(int r, int f, int m);

/*
 * The score (1-5) of a value that c of the n scored customers have a
 * value <= to (itself included: 1 <= c <= n): ceil(5 * c / n), in
 * integers.  0 when c or n is out of range.
 */
int	segment_score(long long c, long long n);

/*
 * Fills customer_segment of db (a model created by model_create(), its
 * fact_sales loaded; the run's transaction) with one row per customer
 * that has a line in fact_sales, after deleting its rows: canonical_id,
 * last_order_date, recency_days, frequency, monetary, r_score, f_score,
 * m_score, rfm ("545": the three scores as text), segment, as_of (see
 * above).  The measures come from agg_sales_order when it holds rows
 * (dash_aggregate() ran on these facts: the run calls it first; the same
 * figures from one row per order and category instead of one per line),
 * else from fact_sales.  Sets *scored and *customers (either may be NULL) to the rows
 * with a segment and all rows.  Errors: CC_EINVAL when db is NULL or has
 * no fact_sales / customer_segment; CC_ENOMEM; CC_EDB with diag (the
 * table may then be left empty: the caller's transaction, a run's,
 * rolls it back).
 */
cc_err	segment_build(sqlite3 *db, long long *scored, long long *customers,
	    struct cc_diag *diag);

/*
 * How segment_build() computes it: from agg_sales_order, the measures by
 * one GROUP BY statement and the scores in C (sorting each measure: the
 * same counts as the window functions' default frame, peers included),
 * the rows inserted with the statement's recency expression; a single
 * statement with window functions (count(*) OVER (ORDER BY ...))
 * when the measures come from fact_sales, or when a measure is not
 * of the type the C sort orders as SQLite does (a canonical id that is
 * not INTEGER, a last order date that is not TEXT, a frequency or
 * monetary value that is not INTEGER).  segment_build_statement() always
 * uses that statement (the reference of the C path; same parameters,
 * results and errors as segment_build()).
 */
cc_err	segment_build_statement(sqlite3 *db, long long *scored,
	    long long *customers, struct cc_diag *diag);

#endif /* CONCORD_SEGMENT_H */
