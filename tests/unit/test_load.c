/*
 * test_load.c - the facts' INSERT (core/load.c, pipeline_int.h:
 * load_fact_sql), checked against the SQL it replaces: the INSERT that
 * came before and the two UPDATEs of fact_sales that followed it (a
 * missing price from the product's list price, then a missing amount as
 * quantity x price), fact by fact with the values' types (quote()), and
 * the run's count of derived amounts.  Fixture: the model's own schema
 * (model_create()), every combination of awkward quantities, prices and
 * amounts (NULL, 0, negative, REAL, numeric and other text, a text
 * quantity whose derived price divides by zero, an amount that overflows)
 * with products of an integer, a REAL and no list price, an unknown
 * product and none.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "concord/model.h"
#include "pipeline_int.h"

/* What load.c ran before: the INSERT, then the UPDATEs. */
static const char *const old_insert =
	"INSERT INTO fact_sales (order_id, line_number, date_key, order_date,"
	" ship_date, due_date, customer_sk, product_sk, customer_canonical_id,"
	" product_canonical_id, quantity, unit_price, amount, discount, tax,"
	" shipping_cost, status, payment_status, payment_method, amount_derived,"
	" amount_consistent, _file_id, _row) VALUES (?1, ?2,"
	" CAST(replace(?3, '-', '') AS INTEGER), ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
	" ?10,"
	" CASE WHEN (?11 IS NULL OR ?11 <= 0) AND ?12 IS NOT NULL AND ?10 > 0"
	"  THEN (?12 * 2 + ?10) / (?10 * 2) ELSE ?11 END,"
	" CASE WHEN (?12 IS NULL OR ?12 <= 0) AND ?10 IS NOT NULL AND ?11 > 0"
	"  THEN ?10 * abs(?11) ELSE ?12 END,"
	" ?13, ?14, ?15, ?16, ?17, ?18,"
	" (?11 IS NULL OR ?11 <= 0) AND ?12 IS NOT NULL AND ?10 > 0 OR"
	"  (?12 IS NULL OR ?12 <= 0) AND ?10 IS NOT NULL AND ?11 > 0,"
	" CASE WHEN ?12 > 0 AND ?10 IS NOT NULL AND ?11 > 0 THEN"
	"  ?12 = ?10 * ?11 END,"
	" ?19, ?20)";

static const char *const old_after =
	"UPDATE fact_sales SET unit_price = (SELECT p.price FROM dim_product p"
	" WHERE p.product_sk = fact_sales.product_sk), amount_derived = 1"
	" WHERE unit_price IS NULL AND (SELECT p.price FROM dim_product p WHERE"
	" p.product_sk = fact_sales.product_sk) IS NOT NULL;"
	"UPDATE fact_sales SET amount = quantity * unit_price, amount_derived = 1"
	" WHERE amount IS NULL AND quantity IS NOT NULL AND unit_price IS NOT"
	" NULL;";

static sqlite3 *
fixture(void)
{
	struct cc_diag diag;
	sqlite3 *db;

	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(model_create(db, &diag), CC_OK);
	/* list prices: an integer (units of 10^-4), none, a REAL */
	assert_int_equal(sqlite3_exec(db, "INSERT INTO dim_product"
	    " (product_sk, canonical_id, price, is_current, version) VALUES"
	    " (1, 1, 30000, 1, 1), (2, 2, NULL, 1, 1), (3, 3, 2.5, 1, 1)",
	    NULL, NULL, NULL), SQLITE_OK);
	return db;
}

/* A value of the fixture's: kind 0 NULL, 1 integer, 2 REAL, 3 text. */
struct v {
	int		 kind;
	long long	 i;
	double		 f;
	const char	*s;
};

static void
bind(sqlite3_stmt *st, int i, const struct v *v)
{
	switch (v->kind) {
	case 1:
		sqlite3_bind_int64(st, i, v->i);
		break;
	case 2:
		sqlite3_bind_double(st, i, v->f);
		break;
	case 3:
		sqlite3_bind_text(st, i, v->s, -1, SQLITE_STATIC);
		break;
	default:
		sqlite3_bind_null(st, i);
	}
}

static const struct v qtys[] = {
	{ 0, 0, 0, NULL }, { 1, 0, 0, NULL }, { 1, 2, 0, NULL },
	{ 1, -3, 0, NULL }, { 3, 0, 0, "4" }, { 3, 0, 0, "x" },
	{ 2, 0, 1.5, NULL },
};
static const struct v prices[] = {
	{ 0, 0, 0, NULL }, { 1, 0, 0, NULL }, { 1, -5, 0, NULL },
	{ 1, 12500, 0, NULL }, { 2, 0, 7.25, NULL }, { 3, 0, 0, "12" },
	{ 3, 0, 0, "abc" },
};
static const struct v amounts[] = {
	{ 0, 0, 0, NULL }, { 1, 0, 0, NULL }, { 1, -1, 0, NULL },
	{ 1, 25000, 0, NULL }, { 2, 0, 7.25, NULL }, { 3, 0, 0, "zz" },
	{ 1, 9223372036854775807LL, 0, NULL },
};
static const char *const orders[] = {
	"C536379", "C9", "CX12", "RX1", "77", "c5", "SO43697", "-1", "",
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Inserts every line (new: with load_fact_sql, the list price bound as
 * load_lines() binds it; else with the old INSERT and UPDATEs). */
static void
insert_all(sqlite3 *db, int new)
{
	sqlite3_stmt *st, *list;
	size_t q, p, a, k;
	int row = 0;

	assert_int_equal(sqlite3_prepare_v2(db, new ? load_fact_sql :
	    old_insert, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT price FROM"
	    " dim_product WHERE product_sk = ?1", -1, &list, NULL), SQLITE_OK);
	for (q = 0; q < N(qtys); q++)
	for (p = 0; p < N(prices); p++)
	for (a = 0; a < N(amounts); a++)
	for (k = 0; k < 5; k++) {	/* product: none, 1, 2, 3, unknown 9 */
		long long psk = k == 4 ? 9 : (long long)k;
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		sqlite3_bind_text(st, 1, orders[row % N(orders)], -1,
		    SQLITE_STATIC);
		sqlite3_bind_int(st, 2, row);
		sqlite3_bind_text(st, 3, "2024-02-29", -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 6, row % 3 == 0 ? 0 : 5);
		if (psk > 0)
			sqlite3_bind_int64(st, 7, psk);
		bind(st, 10, &qtys[q]);
		bind(st, 11, &prices[p]);
		bind(st, 12, &amounts[a]);
		sqlite3_bind_text(st, 19, "f", -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 20, row);
		sqlite3_reset(list);
		if (new && psk > 0) {
			/* as load_lines() binds it */
			sqlite3_bind_int64(list, 1, psk);
			if (sqlite3_step(list) == SQLITE_ROW)
				sqlite3_bind_value(st, 21,
				    sqlite3_column_value(list, 0));
		}
		assert_int_equal(sqlite3_step(st), SQLITE_DONE);
		row++;
	}
	sqlite3_finalize(st);
	sqlite3_finalize(list);
	if (!new)
		assert_int_equal(sqlite3_exec(db, old_after, NULL, NULL, NULL),
		    SQLITE_OK);
}

/* Every fact as SQL literals (quote(): types kept), in order. */
static char *
dump(sqlite3 *db)
{
	sqlite3_stmt *st;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT sales_sk,"
	    " quote(quantity), quote(unit_price), quote(amount),"
	    " quote(amount_derived), quote(amount_consistent),"
	    " quote(product_sk), quote(customer_sk), order_id FROM fact_sales"
	    " ORDER BY sales_sk", -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int i;
		for (i = 0; i < 9; i++)
			fprintf(f, "%s|", sqlite3_column_text(st, i));
		fputc('\n', f);
	}
	sqlite3_finalize(st);
	fclose(f);
	return out;
}

static long long
derived(sqlite3 *db)
{
	sqlite3_stmt *st;
	long long n;

	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FILTER"
	    " (WHERE amount_derived) FROM fact_sales", -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void
test_insert_matches_sql(void **state)
{
	sqlite3 *old = fixture(), *new = fixture();
	char *a, *b;

	(void)state;
	insert_all(old, 0);
	insert_all(new, 1);
	a = dump(old);
	b = dump(new);
	{
		/* line by line: a difference names its fact */
		char *sa, *sb, *la = strtok_r(a, "\n", &sa),
		    *lb = strtok_r(b, "\n", &sb);
		int lines = 0;
		while (la != NULL && lb != NULL) {
			assert_string_equal(la, lb);
			la = strtok_r(NULL, "\n", &sa);
			lb = strtok_r(NULL, "\n", &sb);
			lines++;
		}
		assert_null(la);
		assert_null(lb);
		assert_int_equal(lines, N(qtys) * N(prices) * N(amounts) * 5);
	}
	free(a);
	free(b);
	/* the UPDATEs' cases occur: prices taken from the list, amounts
	 * from quantity x that price */
	assert_true(derived(old) > 0);
	assert_int_equal(derived(new), derived(old));
	assert_int_equal(sqlite3_exec(old, "CREATE TEMP TABLE seen AS SELECT"
	    " 1 FROM fact_sales WHERE amount_derived AND unit_price = 30000 AND"
	    " quantity = 2 AND amount = 60000", NULL, NULL, NULL), SQLITE_OK);
	assert_true(sqlite3_changes(old) > 0);
	sqlite3_close(old);
	sqlite3_close(new);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_insert_matches_sql),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
