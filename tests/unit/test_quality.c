/*
 * test_quality.c - quality_facts() (concord/quality.h) against the
 * statements it stands in for (the rules' counts, copied below), on facts
 * built here.  order_line_unique against its GROUP BY: keys in order and
 * out of order, equal keys, byte-order and UTF-8 text, text where an
 * integer is expected, a prefix of another key, REAL and NULL keys, no
 * facts; and a database without the facts.  sales_within_product_version
 * against its join: random facts over versions with and without
 * valid_from, text and integer dates, NULL dates and surrogate keys, keys
 * no version has; a REAL date and a REAL valid_from (left to the
 * statement).  The six pairs on the facts' own columns against their
 * FILTERs: random facts over NULL, INTEGER, REAL and TEXT values, and a
 * value of each class the pass leaves to the statement.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "concord/db.h"
#include "concord/model.h"
#include "concord/quality.h"

/* the rule's statement (core/quality.c) */
static const char group_sql[] =
	"SELECT count(*) - d.n, d.n FROM fact_sales, (SELECT count(*) AS n"
	" FROM (SELECT 1 FROM fact_sales GROUP BY order_id, line_number"
	" HAVING count(*) > 1)) AS d";

static sqlite3 *
model(void)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(model_create(db, NULL), CC_OK);
	return db;
}

/* Facts with these keys, in this rowid order: order_id and line_number
 * as SQL literals. */
static void
facts(sqlite3 *db, const char *const *keys)
{
	char sql[256];
	size_t i;

	assert_int_equal(db_exec(db, "DELETE FROM fact_sales", NULL), CC_OK);
	for (i = 0; keys[i] != NULL; i += 2) {
		snprintf(sql, sizeof(sql), "INSERT INTO fact_sales (order_id,"
		    " line_number, _file_id, _row) VALUES (%s, %s, 'f', %zu)",
		    keys[i], keys[i + 1], i);
		assert_int_equal(db_exec(db, sql, NULL), CC_OK);
	}
}

typedef cc_err (*counts_fn)(sqlite3 *, int *, long long *, long long *,
    struct cc_diag *);

/* quality_facts()' order_line_unique as a counts_fn */
static cc_err
order_lines(sqlite3 *db, int *answered, long long *passed,
    long long *failed, struct cc_diag *diag)
{
	struct quality_facts q;
	cc_err err = quality_facts(db, &q, diag);

	*answered = err == CC_OK && (q.answered & QUALITY_LINES);
	if (*answered) {
		*passed = q.lines_passed;
		*failed = q.lines_failed;
	}
	return err;
}

/* quality_facts()' sales_within_product_version as a counts_fn */
static cc_err
product_versions(sqlite3 *db, int *answered, long long *passed,
    long long *failed, struct cc_diag *diag)
{
	struct quality_facts q;
	cc_err err = quality_facts(db, &q, diag);

	*answered = err == CC_OK && (q.answered & QUALITY_VERSIONS);
	if (*answered) {
		*passed = q.versions_passed;
		*failed = q.versions_failed;
	}
	return err;
}

/* fn on db: answered as want, and then the counts of the statement sql;
 * returns the statement's failed count. */
static long long
check_counts(sqlite3 *db, counts_fn fn, const char *sql, int want)
{
	sqlite3_stmt *st;
	long long passed = -1, failed = -1, sp, sf;
	int answered = -1;

	assert_int_equal(fn(db, &answered, &passed, &failed, NULL), CC_OK);
	assert_int_equal(answered, want);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	sp = sqlite3_column_int64(st, 0);
	sf = sqlite3_column_int64(st, 1);
	sqlite3_finalize(st);
	if (answered) {
		assert_int_equal(passed, sp);
		assert_int_equal(failed, sf);
	} else {
		/* untouched */
		assert_int_equal(passed, -1);
		assert_int_equal(failed, -1);
	}
	return sf;
}

/* order_line_unique against the GROUP BY statement. */
static long long
check(sqlite3 *db, int want)
{
	return check_counts(db, order_lines, group_sql, want);
}

static void
test_in_order(void **state)
{
	/* byte order: 'B' (0x42) < 'a' (0x61) < 'a1' (a prefix first) <
	 * 'é' (0xc3 0xa9) < '中' (0xe4 ...); an integer order id is
	 * stored as text (TEXT affinity); a line number that is text
	 * ('x') sorts after every integer and groups apart from them;
	 * '2' in an INTEGER column is the integer 2 */
	static const char *const keys[] = {
		"'B'", "1", "'B'", "2", "'a'", "1", "'a'", "'2x'",
		"'a1'", "1", "'a1'", "'x'", "'é'", "-3", "'é'", "0",
		"'中'", "1", "'中'", "'2'+1", "'中'", "'z'", NULL
	};
	sqlite3 *db = model();

	(void)state;
	facts(db, keys);
	assert_int_equal(check(db, 1), 0);
	sqlite3_close(db);
}

static void
test_left_to_group_by(void **state)
{
	/* equal keys, adjacent: one duplicated group of three */
	static const char *const dup[] = {
		"'A'", "1", "'A'", "2", "'A'", "2", "'A'", "2", "'B'", "1", NULL
	};
	/* '7' and 7 are the same order id (TEXT affinity) */
	static const char *const same[] = {
		"'7'", "1", "7", "1", NULL
	};
	/* distinct but out of order */
	static const char *const unsorted[] = {
		"'B'", "1", "'A'", "1", "'C'", "1", NULL
	};
	/* equal keys apart: two groups of two */
	static const char *const apart[] = {
		"'A'", "1", "'B'", "1", "'A'", "1", "'B'", "1", NULL
	};
	/* a REAL line number: 2.5 stays REAL in an INTEGER column */
	static const char *const real[] = {
		"'A'", "1", "'A'", "2.5", NULL
	};
	sqlite3 *db = model();

	(void)state;
	facts(db, dup);
	assert_int_equal(check(db, 0), 1);
	facts(db, same);
	assert_int_equal(check(db, 0), 1);
	facts(db, unsorted);
	assert_int_equal(check(db, 0), 0);
	facts(db, apart);
	assert_int_equal(check(db, 0), 2);
	facts(db, real);
	assert_int_equal(check(db, 0), 0);
	sqlite3_close(db);
}

static void
test_empty_null_and_bad(void **state)
{
	long long passed = -1, failed = -1;
	int answered = -1;
	sqlite3 *db = model();

	(void)state;
	/* no facts: 0 of 0, as the statement */
	assert_int_equal(check(db, 1), 0);
	sqlite3_close(db);
	/* NULL keys (a table without the model's NOT NULL): GROUP BY
	 * puts NULLs together, so they are left to it */
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(db_exec(db, "CREATE TABLE dim_product (product_sk"
	    " INTEGER PRIMARY KEY, valid_from DATE); CREATE TABLE fact_sales"
	    " (order_id TEXT, line_number INTEGER, product_sk INTEGER,"
	    " order_date DATE, unit_price MONEY, ship_date DATE, due_date DATE,"
	    " is_return BOOLEAN, original_order_id TEXT, amount_consistent"
	    " BOOLEAN); INSERT INTO fact_sales (order_id, line_number) VALUES"
	    " ('A', 1), (NULL, 1), (NULL, 1)", NULL), CC_OK);
	assert_int_equal(check(db, 0), 1);
	sqlite3_close(db);
	/* no fact_sales, no dim_product: an error, not an answer */
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(order_lines(db, &answered, &passed, &failed, NULL),
	    CC_EDB);
	assert_int_equal(answered, 0);
	assert_int_equal(passed, -1);
	assert_int_equal(db_exec(db, "CREATE TABLE dim_product (product_sk"
	    " INTEGER PRIMARY KEY, valid_from DATE)", NULL), CC_OK);
	assert_int_equal(order_lines(db, &answered, &passed, &failed, NULL),
	    CC_EDB);
	assert_int_equal(answered, 0);
	sqlite3_close(db);
}

/* the rule's statement (core/quality.c) */
static const char version_sql[] =
	"SELECT count(*) FILTER (WHERE p.valid_from IS NULL OR f.order_date >="
	" p.valid_from), count(*) FILTER (WHERE f.order_date < p.valid_from)"
	" FROM fact_sales f JOIN dim_product p ON p.product_sk = f.product_sk";

/* sales_within_product_version against the rule's statement; both
 * counts above 0 when answered. */
static void
check_versions(sqlite3 *db, int want)
{
	long long failed = check_counts(db, product_versions,
	    version_sql, want);

	if (want)
		assert_true(failed > 0);
}

static void
test_product_versions(void **state)
{
	static const char *const dates[] = {
		"'2012-01-01'", "'2012-06-30'", "'2013-01-01'", "'2013-07-15'",
		"'2014-02-28'", "NULL", "20130101", "'2013-01-01T00:00'",
	};
	sqlite3 *db = model();
	char sql[512];
	unsigned long x = 99;
	int i;

	(void)state;
	/* versions 1-8 (no 9): some without valid_from, one an integer */
	assert_int_equal(db_exec(db, "INSERT INTO dim_product (product_sk,"
	    " canonical_id, natural_key, valid_from, is_current, version)"
	    " VALUES (1, 1, 'a', '2012-06-30', 1, 1), (2, 2, 'b', NULL, 1, 1),"
	    " (3, 3, 'c', '2013-01-01', 0, 1), (4, 3, 'c', '2013-07-15', 1, 2),"
	    " (5, 5, 'e', 20130101, 1, 1), (6, 6, 'f', '2014-02-28', 1, 1),"
	    " (7, 7, 'g', NULL, 1, 1), (8, 8, 'h', '2012-01-01', 1, 1)", NULL),
	    CC_OK);
	assert_int_equal(db_exec(db, "BEGIN", NULL), CC_OK);
	for (i = 0; i < 3000; i++) {
		x = x * 1103515245UL + 12345UL;
		snprintf(sql, sizeof(sql), "INSERT INTO fact_sales (order_id,"
		    " line_number, product_sk, order_date, _file_id, _row)"
		    " VALUES ('O%d', 1, %s, %s, 'f', %d)", i, (x >> 8) % 12 == 0 ?
		    "NULL" : (x >> 8) % 12 == 1 ? "9" : ((x >> 8) % 12 == 2 ?
		    "'3'" : "1 + abs(random()) % 8"), dates[(x >> 16) % 8], i);
		assert_int_equal(db_exec(db, sql, NULL), CC_OK);
	}
	assert_int_equal(db_exec(db, "COMMIT", NULL), CC_OK);
	check_versions(db, 1);
	/* a REAL date; then a REAL valid_from: left to the statement */
	assert_int_equal(db_exec(db, "UPDATE fact_sales SET order_date = 2.5"
	    " WHERE rowid = 10", NULL), CC_OK);
	check_versions(db, 0);
	assert_int_equal(db_exec(db, "UPDATE fact_sales SET order_date = NULL"
	    " WHERE rowid = 10; UPDATE dim_product SET valid_from = 1.5 WHERE"
	    " product_sk = 8", NULL), CC_OK);
	check_versions(db, 0);
	sqlite3_close(db);
}

/* the pairs' statement (core/quality.c fact_scan) */
static const char pairs_sql[] =
	"SELECT count(*) FILTER (WHERE unit_price > 0), count(*) FILTER"
	" (WHERE unit_price IS NULL OR unit_price <= 0),"
	" count(product_sk), count(*) - count(product_sk),"
	" count(*) FILTER (WHERE ship_date >= order_date), count(*)"
	" FILTER (WHERE ship_date < order_date),"
	" count(*) FILTER (WHERE due_date >= order_date), count(*)"
	" FILTER (WHERE due_date < order_date),"
	" count(*) FILTER (WHERE is_return AND original_order_id IS NOT NULL),"
	" count(*) FILTER (WHERE is_return AND original_order_id IS NULL),"
	" count(*) FILTER (WHERE amount_consistent = 1), count(*)"
	" FILTER (WHERE amount_consistent = 0)"
	" FROM fact_sales";

/* quality_facts()' pairs against the statement's, answered by the pass
 * as want; each pair's two counts summed over the rules above 0. */
static void
check_pairs(sqlite3 *db, int want)
{
	struct quality_facts q;
	sqlite3_stmt *st;
	int k;

	assert_int_equal(quality_facts(db, &q, NULL), CC_OK);
	assert_int_equal((q.answered & QUALITY_PAIRS) != 0, want);
	assert_int_equal(sqlite3_prepare_v2(db, pairs_sql, -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	for (k = 0; k < 2 * QUALITY_FACT_PAIRS; k++) {
		assert_int_equal(q.pairs[k], sqlite3_column_int64(st, k));
		assert_true(k % 2 == 0 || q.pairs[k] + q.pairs[k - 1] > 0);
	}
	sqlite3_finalize(st);
}

static void
test_pairs(void **state)
{
	static const char *const price[] = {
		"NULL", "-5", "0", "7", "2.5", "-0.5", "0.0", "35780000",
	};
	static const char *const date[] = {
		"NULL", "'2013-01-01'", "'2013-01-02'", "'2012-12-31'",
		"20130101", "''", "'é'", "'2013-01-01T10:00'",
	};
	static const char *const flag[] = { "NULL", "0", "1", "2", "-1" };
	sqlite3 *db = model();
	char sql[768];
	unsigned long x = 7;
	int i;

	(void)state;
	assert_int_equal(db_exec(db, "INSERT INTO dim_product (product_sk,"
	    " canonical_id, natural_key, is_current, version) VALUES"
	    " (1, 1, 'a', 1, 1)", NULL), CC_OK);
	/* no facts: every pair 0 of 0, answered */
	{
		struct quality_facts q;

		assert_int_equal(quality_facts(db, &q, NULL), CC_OK);
		assert_int_equal(q.answered, QUALITY_PAIRS | QUALITY_LINES |
		    QUALITY_VERSIONS);
		for (i = 0; i < 2 * QUALITY_FACT_PAIRS; i++)
			assert_int_equal(q.pairs[i], 0);
	}
	assert_int_equal(db_exec(db, "BEGIN", NULL), CC_OK);
	for (i = 0; i < 4000; i++) {
		x = x * 1103515245UL + 12345UL;
		snprintf(sql, sizeof(sql), "INSERT INTO fact_sales (order_id,"
		    " line_number, product_sk, order_date, unit_price,"
		    " ship_date, due_date, is_return, original_order_id,"
		    " amount_consistent, _file_id, _row) VALUES ('O%d', 1, %s,"
		    " %s, %s, %s, %s, %s, %s, %s, 'f', %d)", i,
		    (x >> 4) % 3 ? "1" : "NULL", date[(x >> 7) % 8],
		    price[(x >> 10) % 8], date[(x >> 13) % 8],
		    date[(x >> 16) % 8], flag[1 + (x >> 19) % 4],
		    (x >> 22) % 2 ? "'SO1'" : "NULL", flag[(x >> 24) % 5], i);
		assert_int_equal(db_exec(db, sql, NULL), CC_OK);
	}
	assert_int_equal(db_exec(db, "COMMIT", NULL), CC_OK);
	check_pairs(db, 1);
	/* a class each left to the statement, then back */
	assert_int_equal(db_exec(db, "UPDATE fact_sales SET unit_price = 'x'"
	    " WHERE rowid = 5", NULL), CC_OK);
	check_pairs(db, 0);
	assert_int_equal(db_exec(db, "UPDATE fact_sales SET unit_price = 1"
	    " WHERE rowid = 5; UPDATE fact_sales SET ship_date = 2.5,"
	    " order_date = '2013-01-01' WHERE rowid = 6", NULL), CC_OK);
	check_pairs(db, 0);
	assert_int_equal(db_exec(db, "UPDATE fact_sales SET ship_date = NULL"
	    " WHERE rowid = 6; UPDATE fact_sales SET due_date = x'00',"
	    " order_date = '2013-01-01' WHERE rowid = 7", NULL), CC_OK);
	check_pairs(db, 0);
	assert_int_equal(db_exec(db, "UPDATE fact_sales SET due_date = NULL"
	    " WHERE rowid = 7; UPDATE fact_sales SET is_return = 0.5"
	    " WHERE rowid = 8", NULL), CC_OK);
	check_pairs(db, 0);
	assert_int_equal(db_exec(db, "UPDATE fact_sales SET is_return = 1"
	    " WHERE rowid = 8; UPDATE fact_sales SET amount_consistent = 'yes'"
	    " WHERE rowid = 9", NULL), CC_OK);
	check_pairs(db, 0);
	/* a REAL order date whose pairs have a NULL side: still answered */
	assert_int_equal(db_exec(db, "UPDATE fact_sales SET amount_consistent"
	    " = 1 WHERE rowid = 9; UPDATE fact_sales SET order_date = 1.5,"
	    " ship_date = NULL, due_date = NULL WHERE rowid = 10", NULL),
	    CC_OK);
	check_pairs(db, 1);
	sqlite3_close(db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_left_to_group_by),
		cmocka_unit_test(test_empty_null_and_bad),
		cmocka_unit_test(test_product_versions),
		cmocka_unit_test(test_pairs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
