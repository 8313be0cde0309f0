/*
 * quality.c - the quality phase of a run (concord/pipeline.h): rules of
 * completeness, validity, uniqueness, referential integrity and
 * consistency (the data-quality dimensions of DAMA-DMBOK, 2nd ed., ch.
 * 13), each with the count of passing and failing rows and a few failing
 * examples, written to the workspace's quality_results for the run.
 *
 * A rule is two fixed SQL texts over the new model: one returning
 * (passed, failed), one returning up to five failing rows.  A rule with
 * 0 passed and 0 failed had nothing to check: the report calls it
 * not applicable (runs_quality()), never passed.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "concord/quality.h"
#include "pipeline_int.h"

static const struct rule {
	const char	*name;
	const char	*dimension;
	const char	*target;
	const char	*counts;	/* SELECT passed, failed; NULL: */
	const char	*examples;	/* failing rows, LIMIT 5 */
	int		 fact;		/* ... pairs[2 * fact - 2] and
					   pairs[2 * fact - 1] of
					   quality_facts() (fact_scan's);
					   -1: its order lines, -2: its
					   versions, else counts (and
					   when it leaves those to the
					   statement) */
} rules[] = {
	{ "customer_name_present", "completeness", "dim_customer.full_name",
	  "SELECT count(*) FILTER (WHERE coalesce(full_name, first_name,"
	  " last_name) IS NOT NULL), count(*) FILTER (WHERE coalesce(full_name,"
	  " first_name, last_name) IS NULL) FROM dim_customer WHERE is_current",
	  "SELECT canonical_id, natural_key FROM dim_customer WHERE is_current"
	  " AND coalesce(full_name, first_name, last_name) IS NULL LIMIT 5", 0 },
	{ "customer_country_present", "completeness", "dim_customer.country",
	  "SELECT count(country), count(*) - count(country) FROM dim_customer"
	  " WHERE is_current",
	  "SELECT canonical_id, natural_key FROM dim_customer WHERE is_current"
	  " AND country IS NULL LIMIT 5", 0 },
	{ "customer_birth_date_present", "completeness",
	  "dim_customer.birth_date",
	  "SELECT count(birth_date), count(*) - count(birth_date) FROM"
	  " dim_customer WHERE is_current",
	  "SELECT canonical_id, natural_key FROM dim_customer WHERE is_current"
	  " AND birth_date IS NULL LIMIT 5", 0 },
	{ "product_category_present", "completeness", "dim_product.category",
	  "SELECT count(category), count(*) - count(category) FROM dim_product",
	  "SELECT product_sk, natural_key, valid_from FROM dim_product WHERE"
	  " category IS NULL LIMIT 5", 0 },
	{ "values_cleaned", "validity", "staging",
	  "SELECT (SELECT coalesce(sum(count), 0) FROM clean_changes WHERE rule"
	  " NOT LIKE 'null_%'), (SELECT count(*) FROM clean_issues)",
	  "SELECT entity, column_name, issue, raw_value, _file_id, _row FROM"
	  " clean_issues ORDER BY issue_id LIMIT 5", 0 },
	{ "dates_valid", "validity", "staging.dates",
	  "SELECT 0, count(*) FROM clean_issues WHERE issue LIKE 'date_%'",
	  "SELECT entity, column_name, issue, raw_value, _file_id, _row FROM"
	  " clean_issues WHERE issue LIKE 'date_%' ORDER BY issue_id LIMIT 5", 0 },
	{ "unit_price_positive", "validity", "fact_sales.unit_price", NULL,
	  "SELECT order_id, line_number, quantity, unit_price, amount FROM"
	  " fact_sales WHERE unit_price IS NULL OR unit_price <= 0 LIMIT 5", 1 },
	{ "order_line_unique", "uniqueness", "fact_sales.order_id,line_number",
	  "SELECT count(*) - d.n, d.n FROM fact_sales, (SELECT count(*) AS n"
	  " FROM (SELECT 1 FROM fact_sales GROUP BY order_id, line_number"
	  " HAVING count(*) > 1)) AS d",
	  "SELECT order_id, line_number, count(*) FROM fact_sales GROUP BY"
	  " order_id, line_number HAVING count(*) > 1 LIMIT 5", -1 },
	{ "customer_one_record", "uniqueness", "dim_customer.canonical_id",
	  "SELECT count(*) FILTER (WHERE json_array_length(sources) = 1),"
	  " count(*) FILTER (WHERE json_array_length(sources) > 1) FROM"
	  " dim_customer WHERE is_current",
	  "SELECT canonical_id, natural_key, sources FROM dim_customer WHERE"
	  " is_current AND json_array_length(sources) > 1 LIMIT 5", 0 },
	/* A line is checked for its customer once it has an order id, and
	 * for its product once its customer resolved (the load phase
	 * quarantines a line for its first problem only): a line set aside
	 * for its customer is not counted as a product that resolved. */
	{ "sales_customer_resolved", "referential_integrity",
	  "stg_order_line.customer_id",
	  "SELECT (SELECT count(*) FROM stg_order_line) - (SELECT count(*) FROM"
	  " quarantine WHERE reason IN ('order_id_missing',"
	  " 'customer_unresolved', 'customer_missing')), (SELECT count(*) FROM"
	  " quarantine WHERE reason IN ('customer_unresolved',"
	  " 'customer_missing'))",
	  "SELECT _file_id, _row, raw_value, detail FROM quarantine WHERE reason"
	  " IN ('customer_unresolved', 'customer_missing') LIMIT 5", 0 },
	{ "sales_product_resolved", "referential_integrity",
	  "stg_order_line.product_id",
	  "SELECT (SELECT count(*) FROM stg_order_line) - (SELECT count(*) FROM"
	  " quarantine WHERE reason IN ('order_id_missing',"
	  " 'customer_unresolved', 'customer_missing', 'product_unresolved',"
	  " 'product_missing')), (SELECT count(*) FROM quarantine WHERE reason"
	  " IN ('product_unresolved', 'product_missing'))",
	  "SELECT _file_id, _row, raw_value, detail FROM quarantine WHERE reason"
	  " IN ('product_unresolved', 'product_missing') LIMIT 5", 0 },
	{ "sales_product_version", "referential_integrity",
	  "fact_sales.product_sk", NULL,
	  "SELECT order_id, line_number, order_date, product_canonical_id FROM"
	  " fact_sales WHERE product_sk IS NULL LIMIT 5", 2 },
	{ "sales_within_product_version", "consistency",
	  "fact_sales.order_date",
	  "SELECT count(*) FILTER (WHERE p.valid_from IS NULL OR f.order_date >="
	  " p.valid_from), count(*) FILTER (WHERE f.order_date < p.valid_from)"
	  " FROM fact_sales f JOIN dim_product p ON p.product_sk = f.product_sk",
	  "SELECT f.order_id, f.line_number, f.order_date, p.natural_key,"
	  " p.valid_from FROM fact_sales f JOIN dim_product p ON p.product_sk ="
	  " f.product_sk WHERE f.order_date < p.valid_from LIMIT 5", -2 },
	{ "product_category_resolved", "referential_integrity",
	  "dim_product.category_sk",
	  "SELECT count(category_sk), count(*) - count(category_sk) FROM"
	  " dim_product",
	  "SELECT DISTINCT natural_key, product_id FROM dim_product WHERE"
	  " category_sk IS NULL LIMIT 5", 0 },
	{ "ship_after_order", "consistency", "fact_sales.ship_date", NULL,
	  "SELECT order_id, line_number, order_date, ship_date FROM fact_sales"
	  " WHERE ship_date < order_date LIMIT 5", 3 },
	{ "due_after_order", "consistency", "fact_sales.due_date", NULL,
	  "SELECT order_id, line_number, order_date, due_date FROM fact_sales"
	  " WHERE due_date < order_date LIMIT 5", 4 },
	/* a return names its original order (returns and cancellations:
	 * load.c's mark_returns()); none to check: not applicable */
	{ "return_has_original", "consistency", "fact_sales.original_order_id",
	  NULL,
	  "SELECT sales_sk, order_id, quantity, amount, _file_id, _row FROM"
	  " fact_sales WHERE is_return AND original_order_id IS NULL LIMIT 5",
	  5 },
	{ "amount_is_quantity_times_price", "consistency", "fact_sales.amount",
	  NULL,
	  "SELECT order_id, line_number, quantity, unit_price, amount FROM"
	  " fact_sales WHERE amount_consistent = 0 LIMIT 5", 6 },
	{ "effective_end_after_start", "consistency", "stg_product.valid_to",
	  "SELECT count(*) FILTER (WHERE valid_to >= valid_from), count(*)"
	  " FILTER (WHERE valid_to < valid_from) FROM stg_product",
	  "SELECT product_id, valid_from, valid_to, _file_id, _row FROM"
	  " stg_product WHERE valid_to < valid_from LIMIT 5", 0 },
};

/*
 * The counts (passed, failed) of the rules on fact_sales' own columns as
 * one statement: what quality_facts() counts itself, and its answer when
 * a value is of a class it leaves to SQL (rule.fact: the pair).
 */
static const char *const fact_scan =
	/* 1 unit_price_positive */
	"SELECT count(*) FILTER (WHERE unit_price > 0), count(*) FILTER"
	" (WHERE unit_price IS NULL OR unit_price <= 0),"
	/* 2 sales_product_version */
	" count(product_sk), count(*) - count(product_sk),"
	/* 3 ship_after_order */
	" count(*) FILTER (WHERE ship_date >= order_date), count(*)"
	" FILTER (WHERE ship_date < order_date),"
	/* 4 due_after_order */
	" count(*) FILTER (WHERE due_date >= order_date), count(*)"
	" FILTER (WHERE due_date < order_date),"
	/* 5 return_has_original */
	" count(*) FILTER (WHERE is_return AND original_order_id IS NOT NULL),"
	" count(*) FILTER (WHERE is_return AND original_order_id IS NULL),"
	/* 6 amount_is_quantity_times_price */
	" count(*) FILTER (WHERE amount_consistent = 1), count(*)"
	" FILTER (WHERE amount_consistent = 0)"
	" FROM fact_sales";

/* One key column: its storage class (INTEGER or TEXT) and value; s is
 * the key's own copy (cap bytes) or, for a view, the column's text. */
struct qkey {
	int		 type;
	long long	 i;
	unsigned char	*s;
	int		 len;
	size_t		 cap;
};

/* <0, 0, >0 as a is before, equal to, after b in a total order whose
 * equality is GROUP BY's for INTEGER and TEXT (BINARY collation), and
 * whose order is SQL's comparison of two stored values of one affinity
 * (an INTEGER before any TEXT, TEXT by bytes: SQLite's datatype3.html,
 * "Sort Order"). */
static int
qkey_cmp(const struct qkey *a, const struct qkey *b)
{
	int c;

	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	if (a->type == SQLITE_INTEGER)
		return a->i < b->i ? -1 : a->i > b->i;
	c = memcmp(a->s, b->s, (size_t)(a->len < b->len ? a->len : b->len));
	return c != 0 ? c : a->len < b->len ? -1 : a->len > b->len;
}

/* Column i of st viewed as a key (k->s the column's text, valid until
 * the statement steps): 0; 1 for a class left to SQL (NULL, REAL, BLOB),
 * -1 out of memory. */
static int
qkey_view(sqlite3_stmt *st, int i, struct qkey *k)
{
	k->type = sqlite3_column_type(st, i);
	if (k->type == SQLITE_INTEGER) {
		k->i = sqlite3_column_int64(st, i);
		return 0;
	}
	if (k->type != SQLITE_TEXT)
		return 1;
	if ((k->s = (unsigned char *)sqlite3_column_text(st, i)) == NULL)
		return -1;
	k->len = sqlite3_column_bytes(st, i);
	return 0;
}

/* Column i of st into k, a text copied into k's buffer: as
 * qkey_view(). */
static int
qkey_read(sqlite3_stmt *st, int i, struct qkey *k)
{
	struct qkey v;
	unsigned char *nb;
	int r;

	if ((r = qkey_view(st, i, &v)) != 0) {
		k->type = v.type;
		return r;
	}
	k->type = v.type;
	k->i = v.i;
	if (v.type != SQLITE_TEXT)
		return 0;
	if ((size_t)v.len + 1 > k->cap) {
		if ((nb = realloc(k->s, (size_t)v.len * 2 + 16)) == NULL)
			return -1;
		k->s = nb;
		k->cap = (size_t)v.len * 2 + 16;
	}
	memcpy(k->s, v.s, (size_t)v.len);
	k->len = v.len;
	return 0;
}

/* A version of dim_product: its surrogate key and valid_from. */
struct pver {
	long long	 sk;
	struct qkey	 from;		/* type SQLITE_NULL: none */
};

static int
pver_cmp(const void *x, const void *y)
{
	const struct pver *a = x, *b = y;

	return a->sk < b->sk ? -1 : a->sk > b->sk;
}

static void
pvers_free(struct pver *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].from.s);
	free(v);
}

/* The versions of dim_product sorted by surrogate key into *vp (*np of
 * them; the caller frees them: pvers_free()): 0; 1 when the join is left
 * to SQL (a key that is not an INTEGER, two versions of one key, a
 * valid_from that is REAL or BLOB); -1 out of memory; -2 an error of db
 * (no dim_product). */
static int
pvers_read(sqlite3 *db, struct pver **vp, size_t *np)
{
	struct pver *v = NULL, *nv;
	sqlite3_stmt *st;
	size_t n = 0, cap = 0, i;
	int rc, r = 0, t;

	*vp = NULL;
	*np = 0;
	if (sqlite3_prepare_v2(db, "SELECT product_sk, valid_from FROM"
	    " dim_product", -1, &st, NULL) != SQLITE_OK)
		return -2;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_type(st, 0) != SQLITE_INTEGER) {
			r = 1;
			break;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			if ((nv = realloc(v, cap * sizeof(*nv))) == NULL) {
				r = -1;
				break;
			}
			v = nv;
		}
		memset(&v[n], 0, sizeof(v[n]));
		v[n].sk = sqlite3_column_int64(st, 0);
		t = sqlite3_column_type(st, 1);
		if (t != SQLITE_NULL && (r = qkey_read(st, 1, &v[n].from)) !=
		    0) {
			free(v[n].from.s);
			break;
		}
		v[n].from.type = t;
		n++;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = -2;
	sqlite3_finalize(st);
	if (r == 0 && n > 1) {
		qsort(v, n, sizeof(*v), pver_cmp);
		for (i = 1; i < n && r == 0; i++)
			if (v[i].sk == v[i - 1].sk)
				r = 1;		/* the join's rows: SQL's */
	}
	if (r != 0) {
		pvers_free(v, n);
		return r;
	}
	*vp = v;
	*np = n;
	return 0;
}

/* The columns of the facts' pass, in the statement's order. */
enum { F_ORDER, F_LINE, F_PRODUCT, F_DATE, F_PRICE, F_SHIP, F_DUE,
	F_RETURN, F_ORIGINAL, F_CONSISTENT };

static const char facts_pass[] =
	"SELECT order_id, line_number, product_sk, order_date, unit_price,"
	" ship_date, due_date, is_return, original_order_id,"
	" amount_consistent FROM fact_sales ORDER BY rowid";

/* date column i against order_date d (already viewed; dr its
 * qkey_view()): counts pc[0] (on or after) or pc[1] (before); a NULL on
 * either side counts neither.  0, or 1: the pair left to SQL (REAL,
 * BLOB), -1 out of memory. */
static int
date_pair(sqlite3_stmt *st, int i, const struct qkey *d, int dr,
    long long *pc)
{
	struct qkey k;
	int r;

	if (sqlite3_column_type(st, i) == SQLITE_NULL || d->type ==
	    SQLITE_NULL)
		return 0;
	if (dr != 0)
		return dr;
	if ((r = qkey_view(st, i, &k)) != 0)
		return r;
	pc[qkey_cmp(&k, d) >= 0 ? 0 : 1]++;
	return 0;
}

/*
 * One row's pairs (fact_scan's columns, counted into pc) as the
 * statement's FILTERs count them: 0, 1 when a value is of a class left
 * to the statement, -1 out of memory.  od: the row's order_date viewed
 * (odr: what qkey_view() returned for it).
 */
static int
pairs_row(sqlite3_stmt *st, const struct qkey *od, int odr, long long *pc)
{
	double d;
	long long x;
	int r, t;

	/* 1 unit_price > 0; IS NULL OR <= 0 (a TEXT is greater than any
	 * number: left to the statement with BLOB) */
	switch (sqlite3_column_type(st, F_PRICE)) {
	case SQLITE_INTEGER:
		pc[sqlite3_column_int64(st, F_PRICE) > 0 ? 0 : 1]++;
		break;
	case SQLITE_FLOAT:
		d = sqlite3_column_double(st, F_PRICE);
		pc[d > 0 ? 0 : 1]++;
		break;
	case SQLITE_NULL:
		pc[1]++;
		break;
	default:
		return 1;
	}
	/* 2 count(product_sk), count(*) - count(product_sk) */
	pc[sqlite3_column_type(st, F_PRODUCT) == SQLITE_NULL ? 3 : 2]++;
	/* 3, 4 ship_date, due_date >= order_date; < order_date */
	if ((r = date_pair(st, F_SHIP, od, odr, pc + 4)) != 0 ||
	    (r = date_pair(st, F_DUE, od, odr, pc + 6)) != 0)
		return r;
	/* 5 is_return AND original_order_id IS [NOT] NULL: an INTEGER is
	 * true when not 0; a NULL is neither true nor false */
	if ((t = sqlite3_column_type(st, F_RETURN)) == SQLITE_INTEGER) {
		if (sqlite3_column_int64(st, F_RETURN) != 0)
			pc[sqlite3_column_type(st, F_ORIGINAL) ==
			    SQLITE_NULL ? 9 : 8]++;
	} else if (t != SQLITE_NULL)
		return 1;
	/* 6 amount_consistent = 1; = 0 */
	if ((t = sqlite3_column_type(st, F_CONSISTENT)) == SQLITE_INTEGER) {
		x = sqlite3_column_int64(st, F_CONSISTENT);
		if (x == 1 || x == 0)
			pc[x == 1 ? 10 : 11]++;
	} else if (t != SQLITE_NULL)
		return 1;
	return 0;
}

/*
 * One row's fact for sales_within_product_version: its version found in
 * v (n of them) by product_sk; passed when the version has no valid_from
 * or od is on or after it, failed when before; a NULL product_sk or
 * order_date, or a key no version has, joins nothing (the statement's
 * inner join).  0, 1 when left to the statement, -1 out of memory.
 */
static int
version_row(sqlite3_stmt *st, const struct pver *v, size_t n,
    const struct qkey *od, int odr, long long *p, long long *f)
{
	struct pver key, *hit;
	int t = sqlite3_column_type(st, F_PRODUCT);

	if (t == SQLITE_NULL)
		return 0;
	if (t != SQLITE_INTEGER)
		return 1;
	key.sk = sqlite3_column_int64(st, F_PRODUCT);
	if ((hit = bsearch(&key, v, n, sizeof(*v), pver_cmp)) == NULL)
		return 0;
	if (hit->from.type == SQLITE_NULL) {
		(*p)++;
		return 0;
	}
	if (od->type == SQLITE_NULL)
		return 0;
	if (odr != 0)
		return odr;
	if (qkey_cmp(od, &hit->from) >= 0)
		(*p)++;
	else
		(*f)++;
	return 0;
}

cc_err
quality_facts(sqlite3 *db, struct quality_facts *q, struct cc_diag *diag)
{
	struct qkey key[2][2], *prev = key[0], *cur = key[1], *t, od;
	struct pver *v = NULL;
	sqlite3_stmt *st = NULL;
	size_t n = 0;
	long long rows = 0, pc[2 * QUALITY_FACT_PAIRS];
	long long vp = 0, vf = 0;
	int rc = SQLITE_DONE, k, c, r = 0, odr;
	int pairs = 1, lines = 1, versions = 1;

	memset(q, 0, sizeof(*q));
	memset(key, 0, sizeof(key));
	memset(pc, 0, sizeof(pc));
	if ((r = pvers_read(db, &v, &n)) == 1) {
		versions = 0;
		r = 0;
	}
	if (r == 0 && sqlite3_prepare_v2(db, facts_pass, -1, &st, NULL) !=
	    SQLITE_OK)
		r = -2;
	while (r == 0 && (pairs || lines || versions) &&
	    (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((odr = qkey_view(st, F_DATE, &od)) < 0) {
			r = -1;
			break;
		}
		if (pairs && (r = pairs_row(st, &od, odr, pc)) != 0) {
			if (r > 0)
				pairs = r = 0;
			else
				break;
		}
		if (versions && (r = version_row(st, v, n, &od, odr, &vp,
		    &vf)) != 0) {
			if (r > 0)
				versions = r = 0;
			else
				break;
		}
		if (!lines)
			continue;
		/* the keys strictly after the previous row's */
		for (k = 0; k < 2 && r == 0; k++)
			r = qkey_read(st, k, &cur[k]);
		if (r != 0) {
			if (r > 0)
				lines = r = 0;
			else
				break;
			continue;
		}
		if (rows > 0) {
			if ((c = qkey_cmp(&prev[0], &cur[0])) == 0)
				c = qkey_cmp(&prev[1], &cur[1]);
			if (c >= 0) {
				lines = 0;
				continue;
			}
		}
		t = prev;
		prev = cur;
		cur = t;
		rows++;
	}
	if (r == 0 && st != NULL && rc != SQLITE_DONE && rc != SQLITE_ROW)
		r = -2;
	sqlite3_finalize(st);
	st = NULL;
	for (k = 0; k < 2; k++) {
		free(key[k][0].s);
		free(key[k][1].s);
	}
	pvers_free(v, n);
	/* the pairs from the statement when a value was left to it */
	if (r == 0 && !pairs) {
		if (sqlite3_prepare_v2(db, fact_scan, -1, &st, NULL) !=
		    SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
			r = -2;
		else
			for (k = 0; k < 2 * QUALITY_FACT_PAIRS; k++)
				pc[k] = sqlite3_column_int64(st, k);
		sqlite3_finalize(st);
	}
	if (r == -2)
		return cc_diag_set(diag, CC_EDB, "sqlite", "%s",
		    sqlite3_errmsg(db));
	if (r == -1)
		return cc_diag_set(diag, CC_ENOMEM, "nomem", "out of memory");
	memcpy(q->pairs, pc, sizeof(pc));
	q->answered = (pairs ? QUALITY_PAIRS : 0) |
	    (lines ? QUALITY_LINES : 0) | (versions ? QUALITY_VERSIONS : 0);
	if (lines) {
		/* every row was read: all distinct, none duplicated */
		q->lines_passed = rows;
		q->lines_failed = 0;
	}
	if (versions) {
		q->versions_passed = vp;
		q->versions_failed = vf;
	}
	return CC_OK;
}

/* The failing examples as a JSON array of objects. */
static json_t *
examples(sqlite3 *db, const char *sql)
{
	json_t *arr = json_array(), *o;
	sqlite3_stmt *st;
	int i, n;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return arr;
	n = sqlite3_column_count(st);
	while (sqlite3_step(st) == SQLITE_ROW) {
		o = json_object();
		for (i = 0; i < n; i++) {
			const char *name = sqlite3_column_name(st, i);
			switch (sqlite3_column_type(st, i)) {
			case SQLITE_NULL:
				json_object_set_new(o, name, json_null());
				break;
			case SQLITE_INTEGER:
				json_object_set_new(o, name, json_integer(
				    sqlite3_column_int64(st, i)));
				break;
			default:
				json_object_set_new(o, name, json_string(
				    (const char *)sqlite3_column_text(st, i)));
			}
		}
		json_array_append_new(arr, o);
	}
	sqlite3_finalize(st);
	return arr;
}

cc_err
quality_all(struct run *r, struct cc_diag *diag)
{
	struct quality_facts qf;
	sqlite3_stmt *st, *ins;
	long long passed, failed, fails = 0, empty = 0;
	size_t i;
	char *ex;
	cc_err err;

	/* the rules on the facts, in one pass */
	if ((err = quality_facts(r->db, &qf, diag)) != CC_OK)
		return err;

	if (sqlite3_prepare_v2(r->ws->db, "INSERT OR REPLACE INTO"
	    " quality_results (run_id, rule, dimension, target, passed, failed,"
	    " examples) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", -1, &ins, NULL) !=
	    SQLITE_OK)
		return cc_diag_set(diag, CC_EDB, "sqlite", "%s",
		    sqlite3_errmsg(r->ws->db));
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		if (run_tick(r, "quality", (long long)i,
		    (long long)(sizeof(rules) / sizeof(rules[0])))) {
			sqlite3_finalize(ins);
			return CC_ECONFLICT;
		}
		passed = failed = 0;
		if (rules[i].fact == -1 && (qf.answered & QUALITY_LINES)) {
			passed = qf.lines_passed;
			failed = qf.lines_failed;
		} else if (rules[i].fact == -2 &&
		    (qf.answered & QUALITY_VERSIONS)) {
			passed = qf.versions_passed;
			failed = qf.versions_failed;
		} else if (rules[i].counts == NULL) {
			passed = qf.pairs[2 * rules[i].fact - 2];
			failed = qf.pairs[2 * rules[i].fact - 1];
		} else if (sqlite3_prepare_v2(r->db, rules[i].counts, -1, &st,
		    NULL) != SQLITE_OK) {
			cc_diag_set(diag, CC_EDB, "sqlite", "rule %s: %s",
			    rules[i].name, sqlite3_errmsg(r->db));
			sqlite3_finalize(ins);
			return CC_EDB;
		} else {
			if (sqlite3_step(st) == SQLITE_ROW) {
				passed = sqlite3_column_int64(st, 0);
				failed = sqlite3_column_int64(st, 1);
			}
			sqlite3_finalize(st);
		}
		{
			/* every examples query selects failing rows only:
			 * none failed, none to look for */
			json_t *ej = failed > 0 ? examples(r->db,
			    rules[i].examples) : json_array();
			ex = json_dumps(ej, JSON_COMPACT);
			json_decref(ej);
		}
		sqlite3_reset(ins);
		sqlite3_bind_text(ins, 1, r->run_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 2, rules[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 3, rules[i].dimension, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 4, rules[i].target, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 5, passed);
		sqlite3_bind_int64(ins, 6, failed);
		sqlite3_bind_text(ins, 7, ex, -1, free);
		if (sqlite3_step(ins) != SQLITE_DONE) {
			cc_diag_set(diag, CC_EDB, "sqlite", "%s",
			    sqlite3_errmsg(r->ws->db));
			sqlite3_finalize(ins);
			return CC_EDB;
		}
		fails += failed > 0;
		empty += passed + failed == 0;
	}
	sqlite3_finalize(ins);
	run_tick(r, "quality", (long long)i, (long long)i);
	run_count(r, "quality_rules", (long long)(sizeof(rules) /
	    sizeof(rules[0])));
	run_count(r, "quality_rules_failing", fails);
	/* a rule with nothing to check neither passed nor failed */
	run_count(r, "quality_rules_not_applicable", empty);
	return CC_OK;
}
