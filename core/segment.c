/*
 * segment.c - customer segments: RFM scores and named segments from
 * fact_sales into customer_segment (concord/segment.h).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "concord/db.h"
#include "concord/segment.h"

/*
 * The map of the CRAN package rfm's documentation, rfm_segment()
 * (version 0.3.0): name, then the inclusive ranges of R, F and M, in the
 * package's order; the first matching rule wins.
 */
static const struct segment_rule rules[] = {
	{ "Champions",		5, 5,	5, 5,	5, 5 },
	{ "Potential Loyalist",	3, 5,	3, 5,	2, 5 },
	{ "Loyal Customers",	2, 4,	2, 4,	2, 4 },
	{ "Promising",		3, 4,	1, 3,	3, 5 },
	{ "New Customers",	4, 5,	1, 3,	1, 5 },
	{ "Can't Lose Them",	1, 2,	3, 4,	4, 5 },
	{ "At Risk",		1, 2,	2, 5,	4, 5 },
	{ "Need Attention",	1, 3,	3, 5,	3, 5 },
	{ "About To Sleep",	2, 3,	1, 3,	1, 4 },
	{ "Lost",		1, 1,	1, 5,	1, 5 },
};

#define NRULES	(sizeof(rules) / sizeof(rules[0]))

const struct segment_rule *
segment_rules(size_t *n)
{
	if (n != NULL)
		*n = NRULES;
	return rules;
}

const char *
segment_name(int r, int f, int m)
{
	size_t i;

	if (r < 1 || r > 5 || f < 1 || f > 5 || m < 1 || m > 5)
		return NULL;
	for (i = 0; i < NRULES; i++)
		if (r >= rules[i].r_lo && r <= rules[i].r_hi &&
		    f >= rules[i].f_lo && f <= rules[i].f_hi &&
		    m >= rules[i].m_lo && m <= rules[i].m_hi)
			return rules[i].name;
	return SEGMENT_OTHERS;
}

int
segment_score(long long c, long long n)
{
	if (n < 1 || c < 1 || c > n)
		return 0;
	return (int)((5 * c + n - 1) / n);
}

/*
 * The measures per customer, then the scores: c of each measure is
 * count(*) over the ordered values with the default frame (RANGE
 * UNBOUNDED PRECEDING to CURRENT ROW, peers included), so ties count
 * alike.  The segment CASE (the rules in order: the first match wins)
 * is appended from rules[]; its names are ours, quoted all the same.
 */
#define BUILD_INSERT \
	"INSERT INTO customer_segment (canonical_id, last_order_date," \
	" recency_days, frequency, monetary, r_score, f_score, m_score, rfm," \
	" segment, as_of)"
/* The measures from the facts... */
#define MEASURES_FACTS \
	" WITH asof AS (SELECT max(order_date) AS d FROM fact_sales" \
	"  WHERE NOT coalesce(is_return, 0))," \
	" c AS (SELECT customer_canonical_id AS id," \
	"  max(order_date) FILTER (WHERE NOT coalesce(is_return, 0)) AS last," \
	"  count(DISTINCT order_id) FILTER (WHERE NOT coalesce(is_return, 0))" \
	"   AS freq," \
	"  coalesce(sum(amount), 0) AS money" \
	"  FROM fact_sales WHERE customer_canonical_id IS NOT NULL AND" \
	"  customer_canonical_id <> 0 GROUP BY customer_canonical_id),"
/* ...or the same from agg_sales_order (the facts grouped by day, country,
 * category, order and customer, with their lines and return lines): a
 * group holds a line that is not a return when lines > return_lines, and
 * its revenue is the sum of all its lines' amounts. */
#define AGG_SALE "lines > coalesce(return_lines, 0)"
#define MEASURES_AGG \
	" WITH asof AS (SELECT max(day) AS d FROM agg_sales_order" \
	"  WHERE " AGG_SALE ")," \
	" c AS (SELECT customer_canonical_id AS id," \
	"  max(day) FILTER (WHERE " AGG_SALE ") AS last," \
	"  count(DISTINCT order_id) FILTER (WHERE " AGG_SALE ") AS freq," \
	"  coalesce(sum(revenue), 0) AS money" \
	"  FROM agg_sales_order WHERE customer_canonical_id IS NOT NULL AND" \
	"  customer_canonical_id <> 0 GROUP BY customer_canonical_id),"
static const char build_head[] =
	" s AS (SELECT id, count(*) OVER () AS n,"
	"  count(*) OVER (ORDER BY last) AS cr,"
	"  count(*) OVER (ORDER BY freq) AS cf,"
	"  count(*) OVER (ORDER BY money) AS cm"
	"  FROM c WHERE freq > 0 AND last IS NOT NULL),"
	" sc AS (SELECT id, (5 * cr + n - 1) / n AS r, (5 * cf + n - 1) / n"
	"  AS f, (5 * cm + n - 1) / n AS m FROM s)"
	" SELECT c.id, c.last, CAST(julianday(asof.d) - julianday(c.last) AS"
	"  INTEGER), c.freq, c.money, sc.r, sc.f, sc.m,"
	"  CASE WHEN sc.id IS NOT NULL THEN sc.r || sc.f || sc.m END,"
	"  CASE WHEN sc.id IS NULL THEN NULL";

/* 1 when db's agg_sales_order exists and holds rows, 0 when not, -1 on
 * a database error. */
static int
agg_filled(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int rc, have;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_table_info("
	    "'agg_sales_order') WHERE name = 'return_lines'", -1, &st,
	    NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? 0 : -1;
	if (sqlite3_prepare_v2(db, "SELECT EXISTS (SELECT 1 FROM"
	    " agg_sales_order)", -1, &st, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(st);
	have = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_finalize(st);
	return have;
}

/*
 * The as_of and measures of MEASURES_AGG, one row per customer.  as_of is
 * max(day) over the sale rows, read down agg_sales_order_day from the
 * greatest day to the first sale row (ORDER BY sorts as max() compares;
 * NULL days sort last descending, as max() skips them; no sale row gives
 * NULL, as max() does) instead of a scan of the whole table.
 */
static const char asof_sql[] =
	"SELECT (SELECT day FROM agg_sales_order WHERE " AGG_SALE
	" ORDER BY day DESC LIMIT 1)";
static const char measures_sql[] =
	"SELECT customer_canonical_id, max(day) FILTER (WHERE " AGG_SALE "),"
	" count(DISTINCT order_id) FILTER (WHERE " AGG_SALE "),"
	" coalesce(sum(revenue), 0) FROM agg_sales_order WHERE"
	" customer_canonical_id IS NOT NULL AND customer_canonical_id <> 0"
	" GROUP BY customer_canonical_id";
/* recency as the statement computes it, from the bound dates */
static const char insert_sql[] =
	BUILD_INSERT " VALUES (?1, ?2, CAST(julianday(?11) - julianday(?2)"
	" AS INTEGER), ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?11)";

/* One customer of the C pass. */
struct scust {
	int64_t		 id, freq, money;
	char		*last;		/* NULL: none */
	int		 llen;
	int		 r, f, m;	/* scores, 0: none */
};

/* last_order_date in ORDER BY's order (TEXT, BINARY collation) */
static int
by_last(const void *x, const void *y)
{
	const struct scust *a = *(struct scust *const *)x;
	const struct scust *b = *(struct scust *const *)y;
	int c = memcmp(a->last, b->last, (size_t)(a->llen < b->llen ?
	    a->llen : b->llen));

	return c != 0 ? c : a->llen < b->llen ? -1 : a->llen > b->llen;
}

static int
by_freq(const void *x, const void *y)
{
	const struct scust *a = *(struct scust *const *)x;
	const struct scust *b = *(struct scust *const *)y;

	return a->freq < b->freq ? -1 : a->freq > b->freq;
}

static int
by_money(const void *x, const void *y)
{
	const struct scust *a = *(struct scust *const *)x;
	const struct scust *b = *(struct scust *const *)y;

	return a->money < b->money ? -1 : a->money > b->money;
}

/* Scores of the n sorted customers v into the score at offset off of
 * each: c counts the values <= v (peers included), as count(*) OVER
 * (ORDER BY ...) with the default frame. */
static void
score_sorted(struct scust **v, size_t n, int (*cmp)(const void *,
    const void *), size_t off)
{
	size_t i, j;
	int sc;

	qsort(v, n, sizeof(*v), cmp);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && cmp(&v[i], &v[j]) == 0; j++)
			;
		sc = segment_score((long long)j, (long long)n);
		for (; i < j; i++)
			*(int *)((char *)v[i] + off) = sc;
	}
}

/*
 * segment_build() from agg_sales_order in C: the measures by the
 * statement's own GROUP BY, the three CUME_DIST scores by sorting, the
 * rows inserted with the statement's recency expression.  1 when done,
 * 0 when a measure is of a type the window statement orders its own way
 * (an id that is not INTEGER, a last date that is not TEXT, a frequency
 * or monetary value that is not INTEGER; nothing inserted), -1 on a
 * database error, -2 out of memory (diag set).
 */
static int
segment_pass(sqlite3 *db, struct cc_diag *diag)
{
	sqlite3_stmt *st = NULL, *ins = NULL;
	struct scust *cs = NULL, **v = NULL, *nc;
	size_t n = 0, cap = 0, ns = 0, i;
	const char *name;
	char rfm[16];
	int rc, ok = 1;

	if (sqlite3_prepare_v2(db, measures_sql, -1, &st, NULL) != SQLITE_OK)
		goto dberr;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_type(st, 0) != SQLITE_INTEGER ||
		    (sqlite3_column_type(st, 1) != SQLITE_TEXT &&
		    sqlite3_column_type(st, 1) != SQLITE_NULL) ||
		    sqlite3_column_type(st, 2) != SQLITE_INTEGER ||
		    sqlite3_column_type(st, 3) != SQLITE_INTEGER) {
			ok = 0;
			break;
		}
		if (n == cap) {
			cap = cap == 0 ? 1024 : cap * 2;
			if ((nc = realloc(cs, cap * sizeof(*cs))) == NULL)
				goto nomem;
			cs = nc;
		}
		memset(&cs[n], 0, sizeof(cs[n]));
		cs[n].id = sqlite3_column_int64(st, 0);
		cs[n].freq = sqlite3_column_int64(st, 2);
		cs[n].money = sqlite3_column_int64(st, 3);
		if (sqlite3_column_type(st, 1) == SQLITE_TEXT) {
			cs[n].llen = sqlite3_column_bytes(st, 1);
			if ((cs[n].last = malloc((size_t)cs[n].llen + 1)) ==
			    NULL)
				goto nomem;
			memcpy(cs[n].last, sqlite3_column_text(st, 1),
			    (size_t)cs[n].llen + 1);
		}
		n++;
	}
	if (ok && rc != SQLITE_DONE)
		goto dberr;
	sqlite3_finalize(st);
	st = NULL;
	if (!ok)
		goto out;
	/* the scored: an order and a last order date */
	if (n > 0 && (v = malloc(n * sizeof(*v))) == NULL)
		goto nomem;
	for (i = 0; i < n; i++)
		if (cs[i].freq > 0 && cs[i].last != NULL)
			v[ns++] = &cs[i];
	score_sorted(v, ns, by_last, offsetof(struct scust, r));
	score_sorted(v, ns, by_freq, offsetof(struct scust, f));
	score_sorted(v, ns, by_money, offsetof(struct scust, m));
	if (sqlite3_prepare_v2(db, asof_sql, -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW ||
	    sqlite3_prepare_v2(db, insert_sql, -1, &ins, NULL) != SQLITE_OK)
		goto dberr;
	for (i = 0; i < n; i++) {
		sqlite3_reset(ins);
		sqlite3_clear_bindings(ins);
		sqlite3_bind_int64(ins, 1, cs[i].id);
		if (cs[i].last != NULL)
			sqlite3_bind_text(ins, 2, cs[i].last, cs[i].llen,
			    SQLITE_STATIC);
		sqlite3_bind_int64(ins, 3, cs[i].freq);
		sqlite3_bind_int64(ins, 4, cs[i].money);
		if (cs[i].r > 0) {
			sqlite3_bind_int(ins, 5, cs[i].r);
			sqlite3_bind_int(ins, 6, cs[i].f);
			sqlite3_bind_int(ins, 7, cs[i].m);
			snprintf(rfm, sizeof(rfm), "%d%d%d", cs[i].r, cs[i].f,
			    cs[i].m);
			sqlite3_bind_text(ins, 8, rfm, -1, SQLITE_TRANSIENT);
			if ((name = segment_name(cs[i].r, cs[i].f, cs[i].m)) !=
			    NULL)
				sqlite3_bind_text(ins, 9, name, -1,
				    SQLITE_STATIC);
		}
		sqlite3_bind_value(ins, 11, sqlite3_column_value(st, 0));
		if (sqlite3_step(ins) != SQLITE_DONE)
			goto dberr;
	}
	goto out;
nomem:
	cc_diag_set(diag, CC_ENOMEM, "nomem", "out of memory");
	ok = -2;
	goto out;
dberr:
	cc_diag_set(diag, CC_EDB, "sqlite", "%s", sqlite3_errmsg(db));
	ok = -1;
out:
	sqlite3_finalize(st);
	sqlite3_finalize(ins);
	for (i = 0; i < n; i++)
		free(cs[i].last);
	free(cs);
	free(v);
	return ok;
}

static cc_err
build(sqlite3 *db, int statement_only, long long *scored,
    long long *customers, struct cc_diag *diag)
{
	char sql[sizeof(BUILD_INSERT MEASURES_FACTS) + sizeof(build_head) +
	    NRULES * 160 + 256], *p;
	const char *measures;
	sqlite3_stmt *st = NULL;
	size_t i, left;
	cc_err err;
	int n, agg;

	if (scored != NULL)
		*scored = 0;
	if (customers != NULL)
		*customers = 0;
	if (db == NULL)
		return cc_diag_set(diag, CC_EINVAL, "segment", "no database");
	/* the run's aggregates when they are there (far fewer rows than
	 * the facts: one per order and category), else the facts */
	if ((agg = agg_filled(db)) < 0)
		return cc_diag_set(diag, CC_EDB, "sqlite", "%s",
		    sqlite3_errmsg(db));
	measures = agg ? BUILD_INSERT MEASURES_AGG : BUILD_INSERT
	    MEASURES_FACTS;
	n = snprintf(sql, sizeof(sql), "%s%s", measures, build_head);
	if (n < 0 || (size_t)n >= sizeof(sql))
		return cc_diag_set(diag, CC_ENOMEM, "segment",
		    "segment statement too long");
	p = sql + n;
	left = sizeof(sql) - (size_t)n;
	for (i = 0; i < NRULES; i++) {
		char *q = sqlite3_mprintf(" WHEN sc.r BETWEEN %d AND %d AND"
		    " sc.f BETWEEN %d AND %d AND sc.m BETWEEN %d AND %d THEN"
		    " %Q", rules[i].r_lo, rules[i].r_hi, rules[i].f_lo,
		    rules[i].f_hi, rules[i].m_lo, rules[i].m_hi,
		    rules[i].name);
		if (q == NULL)
			return cc_diag_set(diag, CC_ENOMEM, "nomem",
			    "out of memory");
		n = snprintf(p, left, "%s", q);
		sqlite3_free(q);
		if (n < 0 || (size_t)n >= left)
			return cc_diag_set(diag, CC_ENOMEM, "segment",
			    "segment map too long");
		p += n;
		left -= (size_t)n;
	}
	n = snprintf(p, left, " ELSE '%s' END, asof.d FROM c CROSS JOIN asof"
	    " LEFT JOIN sc ON sc.id = c.id ORDER BY c.id", SEGMENT_OTHERS);
	if (n < 0 || (size_t)n >= left)
		return cc_diag_set(diag, CC_ENOMEM, "segment",
		    "segment map too long");
	if (sqlite3_prepare_v2(db, "SELECT 1 WHERE EXISTS (SELECT 1 FROM"
	    " pragma_table_info('customer_segment')) AND EXISTS (SELECT 1"
	    " FROM pragma_table_info('fact_sales'))", -1, &st, NULL) !=
	    SQLITE_OK)
		return cc_diag_set(diag, CC_EDB, "sqlite", "%s",
		    sqlite3_errmsg(db));
	n = sqlite3_step(st);
	sqlite3_finalize(st);
	st = NULL;
	if (n != SQLITE_ROW)
		return cc_diag_set(diag, CC_EINVAL, "no_model", "the model's"
		    " fact_sales or customer_segment is missing");
	if ((err = db_exec(db, "DELETE FROM customer_segment", diag)) !=
	    CC_OK)
		return err;
	/* from the aggregates in C, else (or for values it leaves to SQL)
	 * by the statement */
	if (agg && !statement_only && (n = segment_pass(db, diag)) != 0) {
		if (n < 0)
			return n == -2 ? CC_ENOMEM : CC_EDB;
	} else if ((err = db_exec(db, sql, diag)) != CC_OK)
		return err;
	if (sqlite3_prepare_v2(db, "SELECT count(segment), count(*) FROM"
	    " customer_segment", -1, &st, NULL) != SQLITE_OK)
		return cc_diag_set(diag, CC_EDB, "sqlite", "%s",
		    sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW) {
		if (scored != NULL)
			*scored = sqlite3_column_int64(st, 0);
		if (customers != NULL)
			*customers = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return CC_OK;
}

cc_err
segment_build(sqlite3 *db, long long *scored, long long *customers,
    struct cc_diag *diag)
{
	return build(db, 0, scored, customers, diag);
}

cc_err
segment_build_statement(sqlite3 *db, long long *scored, long long *customers,
    struct cc_diag *diag)
{
	return build(db, 1, scored, customers, diag);
}
