/*
 * concord/dashboard.h - the read side's dashboards: fixed aggregates of
 * the star schema (concord/model.h) and of the workspace's own tables
 * (files, runs, quality_results), served as one JSON document each by
 * GET /api/v1/dashboards/{name}.
 *
 * Every figure is computed by SQLite from fixed statements with bound
 * parameters, each checked with sqlite3_stmt_readonly(), all inside one
 * read transaction, so that one document is one consistent snapshot even
 * while a run commits.  Money is summed as INTEGER units of 10^-4
 * (concord/query.h QUERY_MONEY_DIGITS) and printed as the exact decimal
 * string ("1234.50", "0.001"), never a binary float.  Averages of money
 * are rounded half to even (IEEE 754's default rounding, "banker's
 * rounding") to the cent with integer arithmetic.
 *
 * A workspace without a model yet (no run) gets the same document shape
 * with zeros, empty arrays and "run_id": null.
 *
 * Aggregates: a run's aggregate phase (dash_aggregate()) stores in the
 * model the facts grouped by day x country x category x order x customer
 * (agg_sales_order) and by day x country x category x product
 * (agg_sales_product), per product the top sellers' quantity, revenue
 * and orders (agg_product_sales), the grouped counts of the sources
 * dashboard (agg_source_groups) and the unfiltered documents of sales,
 * customers and products (agg_dashboard).  dash_build() answers from them when the
 * model has them: unfiltered documents as stored, filtered sales from
 * the grouped tables (every filter is a grouping key, so the figures are
 * the facts' own: sums of sums, distinct counts on the keys), sources
 * from the stored counts; a model without them (built by an older
 * version, or by a stage-only run) is read from the facts as before.
 * Both paths give the same figures; tests/unit/test_dashboard.c checks
 * it.
 *
 * Dashboards and their keys (beyond "dashboard", "filters" as applied,
 * "generated_at" and "run_id": the latest run whose state is "done", or
 * null).  Series are arrays of objects; "null" names the group of rows
 * whose attribute is NULL, counted like any other, sorted last.
 *
 *   sales      tiles {revenue, orders (distinct order_id), order_lines,
 *              average_order_value (revenue / orders, null without
 *              orders), customers (distinct customer_canonical_id),
 *              gross_sales (the amounts of the lines that are not
 *              returns), returns (the value of the return lines,
 *              fact_sales.is_return, as a positive amount: minus their
 *              sum), net_sales (gross_sales - returns = revenue: every
 *              series' revenue is net), return_lines; the four are null
 *              for a model built before returns were marked};
 *              series {by_month [{month "YYYY-MM", revenue, orders}]
 *              ascending (months without sales are absent; facts
 *              without a date last, month null); by_country [{country,
 *              revenue, orders, customers}] and by_category [{category,
 *              revenue, orders}], by revenue descending then name;
 *              top_products [{canonical_id, name, revenue, quantity}]
 *              and top_customers [{canonical_id, name, revenue, orders}],
 *              ten each by revenue descending then canonical_id};
 *              currencies [ISO 4217 codes the order lines' amounts were
 *              written in ("$", "USD"), most values first] and currency
 *              (the code when there is exactly one, else null: amounts
 *              are never converted).
 *              Country is the customer version's the fact points at
 *              (customer_sk: the version valid on the order date),
 *              category the product version's (product_sk); names are
 *              the current version's (a customer's: full_name, else first
 *              and last name).  Filters: from, to (inclusive, on
 *              order_date), country (ISO 3166-1 alpha-2), category; one
 *              WHERE clause (SALES_FACTS in dashboard.c) serves every
 *              figure, so tiles and series always agree.
 *   customers  tiles {customers, versions (rows of dim_customer),
 *              with_history (members with more than one version),
 *              duplicates_resolved (current golden records built from
 *              more than one source record: json_array_length(sources)
 *              > 1), duplicate_records (the records those merged away:
 *              sum of length - 1), source_records (sum of lengths),
 *              segmented_customers (customers with an RFM segment),
 *              unsegmented_customers (customer_segment rows without one:
 *              no order)};
 *              series {new_by_month [{month, customers}] (created_date),
 *              by_country, by_gender, by_segment [{<attr>, customers}]}
 *              by count descending then value; all of current versions
 *              (by_segment is dim_customer's own "segment" attribute);
 *              segments [{segment, customers, revenue (money: sum of
 *              monetary), customers_share, revenue_share (of the
 *              segmented customers' totals, null when that total is not
 *              positive)}]: the RFM segments of customer_segment
 *              (concord/segment.h) in the map's order (segment_rules(),
 *              then "Others"), every one listed, zeros when empty;
 *              [] when the model has no customer_segment (no run, or
 *              a model of an older version).
 *   products   tiles {products, versions, with_history, categories
 *              (distinct current categories), price_unknown}; series
 *              {by_category [{category, products}]; top_sellers
 *              [{canonical_id, name, quantity, revenue, orders}] ten by
 *              quantity descending then canonical_id; price_bands [{min,
 *              max, products}]: fixed bands of the current list price,
 *              min inclusive, max exclusive, null = unbounded: under
 *              10.00, 10.00-50.00, 50.00-100.00, 100.00-500.00,
 *              500.00-1000.00, 1000.00-5000.00, 5000.00 and above (fixed,
 *              not quantiles, so that they compare across runs)}.
 *   quality    runs: the latest 20 runs, newest first [{id, state,
 *              created_at, started_at, finished_at, counts (the run's
 *              JSON, null if absent or invalid), quality {rules,
 *              rules_passed, rules_failed, rules_not_applicable,
 *              passed, failed, by_dimension [{dimension, rules,
 *              rules_passed, rules_failed, rules_not_applicable, passed,
 *              failed}]}}] (a rule passed when it checked rows and failed
 *              none; with no row to check it is not applicable, never
 *              passed); latest {run_id, rules [{rule, dimension, target,
 *              passed, failed, pass_rate (passed / (passed + failed),
 *              null when both are 0), status ("passed", "failed",
 *              "not_applicable")}]} of the latest done run.
 *   sources    files, in upload order [{id, name, status, format, rows
 *              (row_count), entities [{entity, staged (stg_<entity> rows
 *              of the file), quarantined (distinct quarantined records),
 *              matched (staged rows some dimension row names in its
 *              sources; null for entities without lineage: location,
 *              order_line), lost}], quarantined {rows, records,
 *              by_reason {reason: rows}}, clean_issues, facts_loaded,
 *              lost}]; tiles {files, rows, quarantined, clean_issues,
 *              facts_loaded, lost, files_with_loss}; lost_note.
 *              lost = rows - records staged or quarantined (the union:
 *              the load phase quarantines order lines it has staged, so
 *              rows - staged - quarantined would count them twice), per
 *              entity the file fed, summed per file (null when it fed
 *              nothing or has no row count).  It should be 0: every
 *              source record ends staged or quarantined; anything else is
 *              a pipeline defect to look at.
 */
#ifndef CONCORD_DASHBOARD_H
#define CONCORD_DASHBOARD_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>
#include <sqlite3.h>

#include "concord/error.h"

enum dash_name {
	DASH_SALES = 0,
	DASH_CUSTOMERS,
	DASH_PRODUCTS,
	DASH_QUALITY,
	DASH_SOURCES,
	DASH__MAX
};

#define DASH_MAX_VALUES		50	/* values of one repeatable filter */
#define DASH_MAX_VALUE_LEN	200	/* bytes of one category value */

/*
 * Filters of a dashboard, filled by dash_filter_add() only (validated
 * once, at the edge).  Empty from/to and zero counts mean "not filtered".
 */
struct dash_filters {
	char	 from[11];			/* "" or YYYY-MM-DD */
	char	 to[11];			/* "" or YYYY-MM-DD */
	char	 country[DASH_MAX_VALUES][3];	/* upper-case alpha-2 */
	size_t	 ncountry;
	char	*category[DASH_MAX_VALUES];	/* owned copies */
	size_t	 ncategory;
};

/* The dashboard called name ("sales", ...) or -1. */
int		 dash_lookup(const char *name);

/* The name of d, or NULL when out of range. */
const char	*dash_name_str(enum dash_name d);

/*
 * A new JSON array describing every dashboard: [{name, filters: [names
 * of the query parameters it takes]}].  NULL when out of memory.
 */
json_t		*dash_catalogue(void);

/* Empties f (no filter). */
void		 dash_filters_init(struct dash_filters *f);

/* Frees what f owns and empties it. */
void		 dash_filters_free(struct dash_filters *f);

/*
 * Validates one query parameter key=value for dashboard d and adds it to
 * f.  Keys and values:
 *   from, to   a calendar date YYYY-MM-DD (proleptic Gregorian, years
 *              0001-9999), at most once each; from <= to once both are
 *              given;
 *   country    ISO 3166-1 alpha-2 codes (two ASCII letters, upper-cased),
 *              comma-separated and/or repeated; spaces around a code are
 *              ignored;
 *   category   one category name per parameter (names may hold commas),
 *              repeated, 1..DASH_MAX_VALUE_LEN bytes.
 * Duplicate values are kept once.  Only the sales dashboard takes
 * filters.  Errors: CC_EINVAL with diag.code one of filter_unknown
 * (a key d does not take), filter_date, filter_range (from > to),
 * filter_repeated (from or to twice), filter_country, filter_category,
 * filter_too_many (more than DASH_MAX_VALUES values); CC_ENOMEM.
 */
cc_err		 dash_filter_add(struct dash_filters *f, enum dash_name d,
		     const char *key, const char *value, struct cc_diag *diag);

/*
 * The filters as applied, a new JSON object: {} for dashboards without
 * filters, else {from, to (string or null), country [...], category
 * [...]}.  NULL when out of memory.
 */
json_t		*dash_filters_json(const struct dash_filters *f,
		     enum dash_name d);

/*
 * Builds dashboard d of the workspace database db with filters f (NULL:
 * none), stamped with generated_at = now.  On success *out is a new JSON
 * object {"dashboard", "filters", "generated_at", "run_id", ...} the
 * caller decrefs (the HTTP layer adds "ok").  Reads only; runs in its own
 * read transaction (db must not be inside one).  A missing model table
 * is not an error: its figures are zero.
 * Errors: CC_EINVAL (d out of range, a NULL argument), CC_EDB (SQLite
 * failed, e.g. a table of another schema version; diag has the message),
 * CC_ENOMEM.
 */
cc_err		 dash_build(sqlite3 *db, enum dash_name d,
		     const struct dash_filters *f, time_t now, json_t **out,
		     struct cc_diag *diag);

/* Limits of one dash_build_limited() call. */
struct dash_limits {
	long	  deadline_ms;		/* wall-clock budget from the call's
					   start, milliseconds; 0: none */
	int	(*gone)(void *ctx);	/* non-zero when the client went away;
					   asked about every 50 ms while
					   SQLite works; NULL: not asked */
	void	 *ctx;			/* gone()'s argument */
};

/*
 * dash_build() under limits (NULL: none, as dash_build()): a progress
 * handler (sqlite3_progress_handler(), every 1000 virtual machine
 * instructions) interrupts SQLite once the deadline has passed or gone()
 * says the client left; db's progress handler is removed again before
 * returning.  Errors as dash_build(), and CC_EDB with diag.code
 * "query_time_limit" (the deadline passed) or "client_gone".
 */
cc_err		 dash_build_limited(sqlite3 *db, enum dash_name d,
		     const struct dash_filters *f, time_t now,
		     const struct dash_limits *lim, json_t **out,
		     struct cc_diag *diag);

/*
 * Fills the aggregates of a model being built (see the top of this
 * file) from its facts, dimensions, staging and quarantine tables, all
 * in the main schema of db, which is a run's model.db.tmp inside the
 * run's transaction (this function begins none).  Replaces whatever the
 * aggregate tables held.  Call after the load phase, when fact_sales
 * and the dimensions are complete.
 * Errors: CC_EINVAL (db NULL, or the model's tables missing: diag code
 * "no_model"), CC_EDB (SQLite failed; diag has the message), CC_ENOMEM.
 */
cc_err		 dash_aggregate(sqlite3 *db, struct cc_diag *diag);

/*
 * dash_aggregate() in its two steps, for a caller that fills a table
 * between them (the run: customer_segment, from agg_sales_order, before
 * the customers dashboard's document is stored): dash_aggregate_tables()
 * replaces the grouped tables (agg_sales_order, agg_sales_product,
 * agg_product_sales when the model has it, agg_source_groups) and empties
 * agg_dashboard; dash_aggregate_documents() then stores the unfiltered
 * documents.  The three sales tables and the facts' count per file come
 * from one scan of fact_sales grouped in memory (as many groups as the
 * tables get rows), inserted in the order of the GROUP BY statements they
 * replace; a value that pass does not take (a REAL or BLOB key or amount,
 * an integer sum beyond int64) leaves them to those statements, and order
 * ids out of order (an order's lines not consecutive in rowid order)
 * leave agg_product_sales's distinct orders to its statement.  Errors as
 * dash_aggregate().
 */
cc_err		 dash_aggregate_tables(sqlite3 *db, struct cc_diag *diag);

/*
 * dash_aggregate_tables() in parts, so that the sources dashboard's
 * groups (agg_source_groups: per file and entity, the staged, accounted
 * and matched rows, the quarantine and clean issues, the facts) can be
 * read on another connection while the run goes on (core/aggregate.c):
 *
 * dash_aggregate_facts() replaces agg_sales_order and agg_sales_product
 * (with their indexes), empties agg_dashboard and agg_source_groups, and
 * returns in *out (a new struct; free it with dash_sources_free()) the
 * facts' count per file when its pass over fact_sales took them.
 * Errors as dash_aggregate(); *out NULL on error.
 *
 * dash_sources_read() runs the grouped statements (but the facts' one
 * that *out answers) on db, the model being built or a connection that
 * reads the same committed model (query_only is enough: it writes
 * nothing), keeping their rows in src.  It may run on another thread
 * than the other calls on src, never at the same time as one.  Errors:
 * CC_EINVAL (db or src NULL, or src read already), CC_EDB, CC_ENOMEM.
 *
 * dash_sources_store() inserts the groups into agg_source_groups of db
 * (the model being built, inside the run's transaction), in the order
 * dash_aggregate_tables() inserts them: the rows read ahead when
 * dash_sources_read() was called, else the statements run now on db.
 * Errors: CC_EINVAL (db or src NULL), CC_EDB, CC_ENOMEM.
 */
struct dash_sources;
cc_err		 dash_aggregate_facts(sqlite3 *db, struct dash_sources **out,
		     struct cc_diag *diag);

/*
 * dash_aggregate_facts() with its pass over fact_sales read beforehand,
 * maybe on another connection and thread (core/aggregate.c reads it
 * while the run's connection builds the facts' indexes):
 * dash_facts_read() reads the pass on db (the model being built, or a
 * connection that reads the same committed model: query_only is enough)
 * into *out (a new struct: dash_facts_free(); NULL is fine); a value the
 * pass leaves to the statements is no error: the statements run then.
 * dash_aggregate_facts_from() is dash_aggregate_facts() on db with the
 * pass taken from pre (NULL: read now on db), which must have been read
 * from the same facts; pre's groups are moved out of it.  Errors:
 * dash_facts_read(): CC_EINVAL (db or out NULL), CC_EDB, CC_ENOMEM (*out
 * NULL); dash_aggregate_facts_from(): as dash_aggregate_facts().
 */
struct dash_facts;
cc_err		 dash_facts_read(sqlite3 *db, struct dash_facts **out,
		     struct cc_diag *diag);
cc_err		 dash_aggregate_facts_from(sqlite3 *db, struct dash_facts *pre,
		     struct dash_sources **out, struct cc_diag *diag);
void		 dash_facts_free(struct dash_facts *f);
cc_err		 dash_sources_read(sqlite3 *db, struct dash_sources *src,
		     struct cc_diag *diag);
cc_err		 dash_sources_store(sqlite3 *db, struct dash_sources *src,
		     struct cc_diag *diag);
/* Frees src (NULL is fine). */
void		 dash_sources_free(struct dash_sources *src);
cc_err		 dash_aggregate_documents(sqlite3 *db, struct cc_diag *diag);

/*
 * dash_aggregate_documents() in its parts, for a run that builds some
 * stored documents on a second connection to the model while it fills
 * customer_segment on its own (core/aggregate.c):
 * - dash_stored_count() stored documents, dash_stored_at(i) the i-th
 *   (0 <= i < count; the order they are stored in);
 *   dash_stored_needs_segments(d) is 1 when d's document reads
 *   customer_segment (build it after segment_build()), else 0;
 * - dash_documents_begin(db) empties agg_dashboard and writes the marker
 *   row that makes the builders read the aggregates; the documents are
 *   built after it (on another connection: once it is committed);
 * - dash_document_build(db, d, &text) builds the unfiltered document of
 *   stored dashboard d from db's aggregates, reading only (a connection
 *   with PRAGMA query_only will do); *text is compact JSON, malloc()ed,
 *   the caller's to free(); NULL after an error;
 * - dash_documents_store(db, texts) writes texts[i] (dash_stored_count()
 *   non-NULL JSON texts, still the caller's) as the document of
 *   dash_stored_at(i), for every i, in that order, after
 *   dash_documents_begin() in the same transaction.
 * Errors: CC_EINVAL (d is not a stored dashboard, a text is missing,
 * diag code "dashboard"; or the model's tables are missing, diag code
 * "no_model"), CC_EDB, CC_ENOMEM (diag says which).
 */
int		 dash_stored_count(void);
enum dash_name	 dash_stored_at(int i);
int		 dash_stored_needs_segments(enum dash_name d);
cc_err		 dash_documents_begin(sqlite3 *db, struct cc_diag *diag);
cc_err		 dash_document_build(sqlite3 *db, enum dash_name d, char **text,
		     struct cc_diag *diag);
cc_err		 dash_documents_store(sqlite3 *db, char *const *texts,
		     struct cc_diag *diag);

#endif /* CONCORD_DASHBOARD_H */
