/*
 * test_segment.c - customer segments (concord/segment.h): the score rule
 * and the segment map on their own, then segment_build() on a model
 * built here (model_create() in memory and a handful of fact_sales rows)
 * against scores and segments worked out by hand below: ties, an invoice
 * that only holds returns, a customer with only returns, the unknown
 * customer, fewer than five customers, one customer, no facts, and a
 * database without the model.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "concord/dashboard.h"
#include "concord/db.h"
#include "concord/model.h"
#include "concord/segment.h"

/* ---- the score: ceil(5 * c / n) -------------------------------------- */

static void
test_score(void **state)
{
	(void)state;
	/* n = 1: 5 * 1 / 1 = 5 */
	assert_int_equal(segment_score(1, 1), 5);
	/* n = 2: 5/2 = 2.5 -> 3; 10/2 = 5 */
	assert_int_equal(segment_score(1, 2), 3);
	assert_int_equal(segment_score(2, 2), 5);
	/* n = 3: 5/3 = 1.67 -> 2; 10/3 = 3.33 -> 4; 15/3 = 5 */
	assert_int_equal(segment_score(1, 3), 2);
	assert_int_equal(segment_score(2, 3), 4);
	assert_int_equal(segment_score(3, 3), 5);
	/* n = 10: 5/10 = 0.5 -> 1; 10/10 = 1; 15/10 = 1.5 -> 2;
	 * 40/10 = 4; 45/10 = 4.5 -> 5 */
	assert_int_equal(segment_score(1, 10), 1);
	assert_int_equal(segment_score(2, 10), 1);
	assert_int_equal(segment_score(3, 10), 2);
	assert_int_equal(segment_score(8, 10), 4);
	assert_int_equal(segment_score(9, 10), 5);
	/* out of range */
	assert_int_equal(segment_score(0, 3), 0);
	assert_int_equal(segment_score(4, 3), 0);
	assert_int_equal(segment_score(1, 0), 0);
}

/* ---- the map: the first rule that holds ------------------------------ */

static void
test_map(void **state)
{
	const struct segment_rule *r;
	size_t n;

	(void)state;
	r = segment_rules(&n);
	assert_int_equal(n, 10);
	assert_string_equal(r[0].name, "Champions");
	assert_string_equal(r[9].name, "Lost");
	/* 555: rule 1 (R5 F5 M5) */
	assert_string_equal(segment_name(5, 5, 5), "Champions");
	/* 455: not 1 (R4); rule 2 R3-5 F3-5 M2-5 holds */
	assert_string_equal(segment_name(4, 5, 5), "Potential Loyalist");
	/* 222: 1, 2 (R2) no; rule 3 R2-4 F2-4 M2-4 holds */
	assert_string_equal(segment_name(2, 2, 2), "Loyal Customers");
	/* 315: 1, 2 (F1), 3 (F1) no; rule 4 R3-4 F1-3 M3-5 holds */
	assert_string_equal(segment_name(3, 1, 5), "Promising");
	/* 522: 1 (F2), 2 (F2), 3 (R5), 4 (R5) no; rule 5 R4-5 F1-3 M1-5 */
	assert_string_equal(segment_name(5, 2, 2), "New Customers");
	/* 235: 1-5 (R2: 1, 2, 4, 5 no; 3 M5 no); rule 6 R1-2 F3-4 M4-5 */
	assert_string_equal(segment_name(2, 3, 5), "Can't Lose Them");
	/* 255: 3 (F5), 6 (F5) no; rule 7 R1-2 F2-5 M4-5 holds */
	assert_string_equal(segment_name(2, 5, 5), "At Risk");
	/* 153: 3 (R1), 6, 7 (M3) no; rule 8 R1-3 F3-5 M3-5 holds */
	assert_string_equal(segment_name(1, 5, 3), "Need Attention");
	/* 311: 2 (F1), 3 (F1), 4 (M1), 8 (F1) no; rule 9 R2-3 F1-3 M1-4 */
	assert_string_equal(segment_name(3, 1, 1), "About To Sleep");
	/* 111: 6, 7 (F1), 8 (F1), 9 (R1) no; rule 10 R1 */
	assert_string_equal(segment_name(1, 1, 1), "Lost");
	/* 215: 3 (F1), 6 (F1), 7 (F1), 8 (F1), 9 (M5), 10 (R2) no */
	assert_string_equal(segment_name(2, 1, 5), SEGMENT_OTHERS);
	assert_null(segment_name(0, 1, 1));
	assert_null(segment_name(1, 6, 1));
	assert_null(segment_name(1, 1, -1));
}

/* ---- segment_build() ------------------------------------------------- */

static sqlite3 *
model(const char *facts)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(model_create(db, NULL), CC_OK);
	if (facts != NULL)
		assert_int_equal(db_exec(db, facts, NULL), CC_OK);
	return db;
}

#define FACT	"INSERT INTO fact_sales (order_id, line_number, order_date," \
	" customer_canonical_id, amount, is_return, _file_id, _row) VALUES "

/*
 * The example (amounts in units of 10^-4: 100.00 is 1000000):
 *
 *   customer 1  O1  2024-01-10  100.00
 *               O2  2024-03-01   30.00 and 20.00 (two lines)
 *               C2  2024-03-05  -20.00 return (an invoice of returns
 *                               only: not an order, its date no order)
 *   customer 2  O3  2024-03-10   50.00
 *   customer 3  O4  2024-02-01   50.00
 *               O5  2024-03-10   80.00
 *   customer 4  C9  2024-03-15  -10.00 return (only returns)
 *   unknown     O6  2024-03-12  999.00 (customer_canonical_id NULL)
 *   id 0        O7  2024-03-01    5.00 (canonical id 0: no segment)
 *
 * as_of = the latest order_date of a sale line = 2024-03-12 (O6: the
 * model's last order, whoever bought it; C9's 03-15 is a return).
 *
 *              last order  recency  frequency  monetary
 *   customer 1 2024-03-01  11       2 (O1 O2)  100+30+20-20 = 130.00
 *   customer 2 2024-03-10   2       1          50.00
 *   customer 3 2024-03-10   2       2          50+80 = 130.00
 *   customer 4 none         -       0          -10.00 (not scored)
 *
 * Scored: n = 3 (fewer than five), score = ceil(5 c / 3), c = the
 * customers with a value <= (ties included):
 *   R (last order): 1: c = 1 -> 2;  2, 3 tie: c = 3 -> 5
 *   F (frequency):  2: c = 1 -> 2;  1, 3 tie at 2: c = 3 -> 5
 *   M (monetary):   2: c = 1 -> 2;  1, 3 tie at 130: c = 3 -> 5
 * customer 1: 255 -> At Risk (test_map: rule 7);
 * customer 2: 522 -> New Customers (rule 5);
 * customer 3: 555 -> Champions (rule 1).
 */
static const char example[] =
	FACT "('O1', 1, '2024-01-10', 1, 1000000, 0, 'f', 1),"
	" ('O2', 1, '2024-03-01', 1, 300000, 0, 'f', 2),"
	" ('O2', 2, '2024-03-01', 1, 200000, 0, 'f', 3),"
	" ('C2', 1, '2024-03-05', 1, -200000, 1, 'f', 4),"
	" ('O3', 1, '2024-03-10', 2, 500000, 0, 'f', 5),"
	" ('O4', 1, '2024-02-01', 3, 500000, 0, 'f', 6),"
	" ('O5', 1, '2024-03-10', 3, 800000, 0, 'f', 7),"
	" ('C9', 1, '2024-03-15', 4, -100000, 1, 'f', 8),"
	" ('O6', 1, '2024-03-12', NULL, 9990000, 0, 'f', 9),"
	" ('O7', 1, '2024-03-01', 0, 50000, 0, 'f', 10);";

struct want {
	long long	 id;
	const char	*last;
	long long	 recency;	/* -1: NULL */
	long long	 frequency, monetary;
	const char	*rfm, *segment;	/* NULL: NULL */
};

static void
check_rows(sqlite3 *db, const struct want *w, size_t n, const char *as_of)
{
	sqlite3_stmt *st;
	size_t i = 0;
	char rfm[8];

	assert_int_equal(sqlite3_prepare_v2(db, "SELECT canonical_id,"
	    " last_order_date, recency_days, frequency, monetary, r_score,"
	    " f_score, m_score, rfm, segment, as_of FROM customer_segment"
	    " ORDER BY canonical_id", -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		assert_true(i < n);
		assert_int_equal(sqlite3_column_int64(st, 0), w[i].id);
		if (w[i].last == NULL)
			assert_int_equal(sqlite3_column_type(st, 1), SQLITE_NULL);
		else
			assert_string_equal(sqlite3_column_text(st, 1),
			    w[i].last);
		if (w[i].recency < 0)
			assert_int_equal(sqlite3_column_type(st, 2), SQLITE_NULL);
		else
			assert_int_equal(sqlite3_column_int64(st, 2),
			    w[i].recency);
		assert_int_equal(sqlite3_column_int64(st, 3), w[i].frequency);
		assert_int_equal(sqlite3_column_int64(st, 4), w[i].monetary);
		if (w[i].rfm == NULL) {
			assert_int_equal(sqlite3_column_type(st, 5), SQLITE_NULL);
			assert_int_equal(sqlite3_column_type(st, 8), SQLITE_NULL);
			assert_int_equal(sqlite3_column_type(st, 9), SQLITE_NULL);
		} else {
			/* the scores, the rfm text and the segment agree */
			snprintf(rfm, sizeof(rfm), "%d%d%d",
			    sqlite3_column_int(st, 5), sqlite3_column_int(st, 6),
			    sqlite3_column_int(st, 7));
			assert_string_equal(rfm, w[i].rfm);
			assert_string_equal(sqlite3_column_text(st, 8), w[i].rfm);
			assert_string_equal(sqlite3_column_text(st, 9),
			    w[i].segment);
		}
		assert_string_equal(sqlite3_column_text(st, 10), as_of);
		i++;
	}
	sqlite3_finalize(st);
	assert_int_equal(i, n);
}

static void
test_example(void **state)
{
	static const struct want w[] = {
		{ 1, "2024-03-01", 11, 2, 1300000, "255", "At Risk" },
		{ 2, "2024-03-10", 2, 1, 500000, "522", "New Customers" },
		{ 3, "2024-03-10", 2, 2, 1300000, "555", "Champions" },
		{ 4, NULL, -1, 0, -100000, NULL, NULL },
	};
	sqlite3 *db = model(example);
	long long scored = -1, all = -1;

	(void)state;
	assert_int_equal(segment_build(db, &scored, &all, NULL), CC_OK);
	assert_int_equal(scored, 3);
	assert_int_equal(all, 4);
	check_rows(db, w, 4, "2024-03-12");
	/* again: the rows are replaced, not added */
	assert_int_equal(segment_build(db, &scored, &all, NULL), CC_OK);
	assert_int_equal(all, 4);
	check_rows(db, w, 4, "2024-03-12");
	/* from the run's aggregates (as the run does): the same rows, also
	 * once the facts are gone (so they came from agg_sales_order) */
	assert_int_equal(dash_aggregate_tables(db, NULL), CC_OK);
	assert_int_equal(db_exec(db, "DELETE FROM fact_sales", NULL), CC_OK);
	assert_int_equal(segment_build(db, &scored, &all, NULL), CC_OK);
	assert_int_equal(scored, 3);
	assert_int_equal(all, 4);
	check_rows(db, w, 4, "2024-03-12");
	sqlite3_close(db);
}

/* One customer: c = n = 1, every score ceil(5 * 1 / 1) = 5: 555. */
static void
test_one(void **state)
{
	static const struct want w[] = {
		{ 7, "2024-05-02", 0, 1, 12345, "555", "Champions" },
	};
	sqlite3 *db = model(FACT "('A', 1, '2024-05-02', 7, 12345, 0,"
	    " 'f', 1);");
	long long scored, all;

	(void)state;
	assert_int_equal(segment_build(db, &scored, &all, NULL), CC_OK);
	assert_int_equal(scored, 1);
	assert_int_equal(all, 1);
	check_rows(db, w, 1, "2024-05-02");
	sqlite3_close(db);
}

/*
 * Five customers, all tied on frequency (1) and monetary (10.00), and
 * distinct order dates 05-01 .. 05-05: R c = 1..5 -> ceil(5c/5) = c;
 * F and M c = 5 -> 5.  as_of 05-05; recency 4, 3, 2, 1, 0.
 * 155: rule 7 (R1-2 F2-5 M4-5; 6 needs F3-4) At Risk;
 * 255: At Risk (test_map); 355: rule 2 R3-5 F3-5 M2-5 Potential
 * Loyalist; 455 the same; 555 Champions.
 */
static void
test_ties(void **state)
{
	static const struct want w[] = {
		{ 1, "2024-05-01", 4, 1, 100000, "155", "At Risk" },
		{ 2, "2024-05-02", 3, 1, 100000, "255", "At Risk" },
		{ 3, "2024-05-03", 2, 1, 100000, "355", "Potential Loyalist" },
		{ 4, "2024-05-04", 1, 1, 100000, "455", "Potential Loyalist" },
		{ 5, "2024-05-05", 0, 1, 100000, "555", "Champions" },
	};
	sqlite3 *db = model(FACT
	    "('A', 1, '2024-05-01', 1, 100000, 0, 'f', 1),"
	    " ('B', 1, '2024-05-02', 2, 100000, 0, 'f', 2),"
	    " ('C', 1, '2024-05-03', 3, 100000, 0, 'f', 3),"
	    " ('D', 1, '2024-05-04', 4, 100000, 0, 'f', 4),"
	    " ('E', 1, '2024-05-05', 5, 100000, 0, 'f', 5);");

	(void)state;
	assert_int_equal(segment_build(db, NULL, NULL, NULL), CC_OK);
	check_rows(db, w, 5, "2024-05-05");
	sqlite3_close(db);
}

/* No facts: no rows; a database without the model: CC_EINVAL. */
static void
test_empty_and_bad(void **state)
{
	sqlite3 *db = model(NULL);
	long long scored = -1, all = -1;
	struct cc_diag d;

	(void)state;
	assert_int_equal(segment_build(db, &scored, &all, NULL), CC_OK);
	assert_int_equal(scored, 0);
	assert_int_equal(all, 0);
	sqlite3_close(db);
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	memset(&d, 0, sizeof(d));
	assert_int_equal(segment_build(db, &scored, &all, &d), CC_EINVAL);
	assert_int_equal(db_exec(db, "CREATE TABLE fact_sales (x)", NULL),
	    CC_OK);
	assert_int_equal(segment_build(db, NULL, NULL, NULL), CC_EINVAL);
	sqlite3_close(db);
	assert_int_equal(segment_build(NULL, NULL, NULL, NULL), CC_EINVAL);
}

/* customer_segment as one text (typeof and quote of every column, in
 * canonical id order), sqlite3_free()d by the caller */
static char *
segment_rows(sqlite3 *db)
{
	sqlite3_stmt *st;
	sqlite3_str *out = sqlite3_str_new(db);
	char *text;
	int i, n;

	assert_int_equal(sqlite3_prepare_v2(db, "SELECT * FROM"
	    " customer_segment ORDER BY canonical_id", -1, &st, NULL),
	    SQLITE_OK);
	n = sqlite3_column_count(st);
	while (sqlite3_step(st) == SQLITE_ROW) {
		for (i = 0; i < n; i++)
			sqlite3_str_appendf(out, "%s%d:%s", i ? "|" : "",
			    sqlite3_column_type(st, i),
			    sqlite3_column_type(st, i) == SQLITE_NULL ? "" :
			    (const char *)sqlite3_column_text(st, i));
		sqlite3_str_appendchar(out, 1, '\n');
	}
	sqlite3_finalize(st);
	/* no rows: NULL */
	if ((text = sqlite3_str_finish(out)) == NULL)
		text = sqlite3_mprintf("%s", "");
	assert_non_null(text);
	return text;
}

/* segment_build() equals segment_build_statement() on db: rows and
 * counts, or the same error; want: segment_build()'s result */
static void
same_as_statement(sqlite3 *db, cc_err want)
{
	long long s1 = -1, a1 = -1, s2 = -2, a2 = -2;
	struct cc_diag d;
	char *got, *ref;

	cc_diag_clear(&d);
	if (segment_build(db, &s1, &a1, &d) != want)
		fail_msg("segment_build: %s", d.message);
	got = segment_rows(db);
	assert_int_equal(segment_build_statement(db, &s2, &a2, NULL), want);
	ref = segment_rows(db);
	if (strcmp(got, ref) != 0) {
		fprintf(stderr, "got:\n%s\nwant:\n%s", got, ref);
		fail_msg("segment_build() differs from its statement");
	}
	if (want == CC_OK) {
		assert_true(a1 > 0);
		assert_int_equal(s1, s2);
		assert_int_equal(a1, a2);
	}
	sqlite3_free(got);
	sqlite3_free(ref);
}

#define AGG	"INSERT INTO agg_sales_order (day, country, category," \
	" order_id, customer_canonical_id, revenue, lines, returns," \
	" return_lines) VALUES "

/*
 * The C pass against the window statement on aggregates written here:
 * thirteen customers with ties in every measure, an order in two
 * categories (two groups, one order), groups of returns only (no order,
 * no date: one customer not scored), NULL revenue, negative and zero
 * monetary values, days in byte order that is not date order
 * ('2024-3-1' after '2024-12-31') and UTF-8, the unknown customer (NULL)
 * and id 0 left out; then measures the statement orders its own way (a
 * REAL revenue, an INTEGER day), each answered as the statement does,
 * and a text canonical id, which customer_segment's INTEGER PRIMARY KEY
 * refuses to both.
 */
static void
test_pass_as_statement(void **state)
{
	static const char aggs[] = AGG
	    "('2024-01-10', 'GB', 'a', 'O1', 1, 1000, 1, NULL, NULL),"
	    "('2024-01-10', 'GB', 'b', 'O1', 1, 500, 2, NULL, 0),"
	    "('2024-02-01', 'GB', 'a', 'O2', 2, 1500, 1, NULL, NULL),"
	    "('2024-02-01', 'GB', 'a', 'O3', 3, 1500, 1, NULL, NULL),"
	    "('2024-3-1', 'FR', 'a', 'O4', 4, -200, 2, -300, 1),"
	    "('2024-12-31', 'FR', 'a', 'O5', 5, 0, 1, NULL, NULL),"
	    "('2024-12-31', 'FR', 'a', 'O6', 5, 0, 1, NULL, NULL),"
	    "('2024-12-31', 'FR', 'a', 'C6', 6, -700, 1, -700, 1),"
	    "('2024-05-05', 'FR', 'a', 'O7', 7, NULL, 1, NULL, NULL),"
	    "('2024-05-05é', 'FR', 'a', 'O8', 8, 1500, 1, NULL, NULL),"
	    "('2024-02-01', 'US', 'a', 'O9', 9, 2500, 3, NULL, NULL),"
	    "('2024-02-01', 'US', 'a', 'O10', 9, 2500, 1, NULL, NULL),"
	    "('2024-02-01', 'US', 'a', 'O11', 10, 1500, 1, NULL, NULL),"
	    "('2023-12-01', 'US', 'a', 'O12', 11, 1, 1, NULL, NULL),"
	    "('2023-12-01', 'US', 'a', 'O13', 12, 1, 1, NULL, NULL),"
	    "('2023-12-01', 'US', 'b', 'O13', 12, 1, 1, NULL, NULL),"
	    "('2024-06-01', 'US', 'a', 'O14', 13, 99, 1, NULL, NULL),"
	    "('2025-01-01', 'US', 'a', 'O15', NULL, 99, 1, NULL, NULL),"
	    "('2025-01-02', 'US', 'a', 'O16', 0, 99, 1, NULL, NULL)";
	static const char *const odd[] = {
		"UPDATE agg_sales_order SET revenue = 12.5 WHERE order_id ="
		" 'O2'",
		"UPDATE agg_sales_order SET day = 20240201 WHERE order_id ="
		" 'O11'",
		"UPDATE agg_sales_order SET customer_canonical_id = 'x7' WHERE"
		" order_id = 'O3'",
	};
	sqlite3 *db = model(NULL);
	size_t i;

	(void)state;
	assert_int_equal(db_exec(db, aggs, NULL), CC_OK);
	same_as_statement(db, CC_OK);
	for (i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		assert_int_equal(db_exec(db, odd[i], NULL), CC_OK);
		same_as_statement(db, i == 2 ? CC_EDB : CC_OK);
	}
	sqlite3_close(db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_score),
		cmocka_unit_test(test_map),
		cmocka_unit_test(test_example),
		cmocka_unit_test(test_one),
		cmocka_unit_test(test_ties),
		cmocka_unit_test(test_empty_and_bad),
		cmocka_unit_test(test_pass_as_statement),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
