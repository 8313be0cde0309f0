/*
 * test_reconcile.c - reconcile_values() (core/reconcile.c,
 * pipeline_int.h): the distinct values of a staging column in one file,
 * checked against the SQL it replaces (SELECT DISTINCT ... ORDER BY, the
 * BINARY collation) on a small fixture: duplicates, NULLs, another file's
 * rows, case, digits before letters, a prefix before its extensions,
 * UTF-8 and bytes above 0x7f, the empty string, numbers bound as integers
 * into a TEXT column; 5,000 random keys; unknown names (an error, not a
 * string literal) and a file without rows.  reconcile_values_all(): the
 * same answers for every file and two columns read in one scan (random
 * keys, NULLs, a file with no values in one column), and its errors.
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

#include "pipeline_int.h"

static sqlite3 *
fixture(void)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	/* a staging table as model.c makes them: keys have TEXT affinity */
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE stg_thing (_file_id"
	    " TEXT NOT NULL, _row INTEGER NOT NULL, \"code\" TEXT, _key TEXT,"
	    " PRIMARY KEY (_file_id, _row))", NULL, NULL, NULL), SQLITE_OK);
	return db;
}

static void
put(sqlite3 *db, const char *file, int row, const char *text, long long num,
    int isnum)
{
	sqlite3_stmt *st;

	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO stg_thing"
	    " (_file_id, _row, code) VALUES (?1, ?2, ?3)", -1, &st, NULL),
	    SQLITE_OK);
	sqlite3_bind_text(st, 1, file, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, row);
	if (isnum)
		sqlite3_bind_int64(st, 3, num);
	else if (text != NULL)
		sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

/* The SQL answer for column col of file (SELECT DISTINCT ... ORDER BY),
 * one value per line. */
static void
expect_sql_col(sqlite3 *db, const char *col, const char *file,
    char *const *got, size_t n)
{
	sqlite3_stmt *st;
	char sql[256];
	size_t k = 0;

	snprintf(sql, sizeof(sql), "SELECT DISTINCT \"%s\" FROM stg_thing"
	    " WHERE _file_id = ?1 AND \"%s\" IS NOT NULL ORDER BY \"%s\"",
	    col, col, col);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
	    SQLITE_OK);
	sqlite3_bind_text(st, 1, file, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		assert_true(k < n);
		assert_string_equal(got[k], (const char *)
		    sqlite3_column_text(st, 0));
		k++;
	}
	sqlite3_finalize(st);
	assert_int_equal(k, n);
}

/* What load_rows() read before: the SQL answer for code. */
static void
expect_sql(sqlite3 *db, const char *file, char *const *got, size_t n)
{
	expect_sql_col(db, "code", file, got, n);
}

static void
free_values(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
test_fixture_matches_sql(void **state)
{
	static const char *const texts[] = {
		"b", "B", "a", "ab", "a", "a-1", "a_1", "A1", "10", "9", "1",
		"", "é", "e\xcc\x81", "z", "\xff", "AW00011000", "AW0001100",
		"b", "10",
	};
	sqlite3 *db = fixture();
	char **v;
	size_t n, i;
	int row = 1;

	(void)state;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		put(db, "f1", row++, texts[i], 0, 0);
	put(db, "f1", row++, NULL, 0, 0);		/* NULL: left out */
	put(db, "f1", row++, NULL, 11, 1);		/* stored as '11' */
	put(db, "f1", row++, NULL, 10, 1);		/* = the text "10" */
	put(db, "f2", row++, "only-in-f2", 0, 0);	/* another file */
	assert_int_equal(reconcile_values(db, "thing", "code", "f1", &v, &n),
	    CC_OK);
	/* 20 texts, of which "b", "a" and "10" twice, plus "11" */
	assert_int_equal(n, 18);
	expect_sql(db, "f1", v, n);
	for (i = 0; i < n; i++)
		assert_string_not_equal(v[i], "only-in-f2");
	free_values(v, n);
	sqlite3_close(db);
}

static void
test_random_keys_match_sql(void **state)
{
	sqlite3 *db = fixture();
	char key[32], **v;
	unsigned long x = 12345;
	size_t n;
	int i;

	(void)state;
	assert_int_equal(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL),
	    SQLITE_OK);
	for (i = 0; i < 5000; i++) {
		/* a linear congruential generator: keys repeat */
		x = x * 1103515245UL + 12345UL;
		snprintf(key, sizeof(key), "%s%lu", (x >> 16) % 3 == 0 ?
		    "AW-" : (x >> 16) % 3 == 1 ? "aw" : "", (x >> 8) % 1500);
		put(db, (x >> 4) % 4 == 0 ? "g" : "f", i + 1, key, 0, 0);
	}
	assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(reconcile_values(db, "thing", "code", "f", &v, &n),
	    CC_OK);
	assert_true(n > 1000);
	expect_sql(db, "f", v, n);
	free_values(v, n);
	sqlite3_close(db);
}

static void
test_empty_and_bad(void **state)
{
	sqlite3 *db = fixture();
	char **v = (char **)1;
	size_t n = 7;

	(void)state;
	assert_int_equal(reconcile_values(db, "thing", "code", "none", &v, &n),
	    CC_OK);
	assert_null(v);
	assert_int_equal(n, 0);
	v = (char **)1;
	/* an unknown column is an error, not the string 'nope' per row */
	put(db, "f", 1, "x", 0, 0);
	assert_int_equal(reconcile_values(db, "thing", "nope", "f", &v, &n),
	    CC_EDB);
	assert_null(v);
	assert_int_equal(reconcile_values(db, "nothing", "code", "f", &v, &n),
	    CC_EDB);
	assert_null(v);
	assert_int_equal(n, 0);
	sqlite3_close(db);
}

static void
test_all_columns_in_one_scan(void **state)
{
	static const char *const files[] = { "f", "g", "h", "none" };
	static const char *const attrs[] = { "code", "ref" };
	sqlite3 *db = fixture();
	sqlite3_stmt *st;
	struct refvalues *v = (struct refvalues *)1;
	unsigned long x = 777;
	char key[32], ref[32];
	size_t n = 9, i, j, k;
	int row;

	(void)state;
	assert_int_equal(sqlite3_exec(db, "ALTER TABLE stg_thing ADD COLUMN"
	    " ref TEXT; BEGIN", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO stg_thing"
	    " (_file_id, _row, code, ref) VALUES (?1, ?2, ?3, ?4)", -1, &st,
	    NULL), SQLITE_OK);
	for (row = 1; row <= 6000; row++) {
		/* files interleaved in runs, as several uploads; file h has
		 * no ref at all; NULLs in both columns */
		const char *file = files[(row / 700) % 3];
		x = x * 1103515245UL + 12345UL;
		snprintf(key, sizeof(key), "K%lu", (x >> 8) % 900);
		snprintf(ref, sizeof(ref), "%lu", (x >> 12) % 400);
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, file, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, row);
		if ((x >> 20) % 7 == 0)
			sqlite3_bind_null(st, 3);
		else
			sqlite3_bind_text(st, 3, key, -1, SQLITE_TRANSIENT);
		if (!strcmp(file, "h") || (x >> 24) % 5 == 0)
			sqlite3_bind_null(st, 4);
		else
			sqlite3_bind_text(st, 4, ref, -1, SQLITE_TRANSIENT);
		assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	}
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(reconcile_values_all(db, "thing", attrs, 2, &v, &n),
	    CC_OK);
	/* f and g with both columns, h with code only */
	assert_int_equal(n, 5);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		for (j = 0; j < 2; j++) {
			const struct refvalues *e = NULL;
			for (k = 0; k < n; k++)
				if (!strcmp(v[k].file_id, files[i]) &&
				    v[k].attr == attrs[j]) {
					assert_null(e);	/* one entry */
					e = &v[k];
				}
			if (e != NULL)
				assert_true(e->n >= 1);
			expect_sql_col(db, attrs[j], files[i], e != NULL ?
			    e->values : NULL, e != NULL ? e->n : 0);
		}
	reconcile_values_free(v, n);
	/* errors: *out NULL, *nout 0 */
	v = (struct refvalues *)1;
	assert_int_equal(reconcile_values_all(db, "thing", attrs, 0, &v, &n),
	    CC_EINVAL);
	assert_null(v);
	assert_int_equal(n, 0);
	{
		static const char *const bad[] = { "code", "nope" };
		v = (struct refvalues *)1;
		assert_int_equal(reconcile_values_all(db, "thing", bad, 2, &v,
		    &n), CC_EDB);
		assert_null(v);
		assert_int_equal(reconcile_values_all(db, "nothing", attrs, 2,
		    &v, &n), CC_EDB);
	}
	reconcile_values_free(NULL, 0);
	sqlite3_close(db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture_matches_sql),
		cmocka_unit_test(test_random_keys_match_sql),
		cmocka_unit_test(test_empty_and_bad),
		cmocka_unit_test(test_all_columns_in_one_scan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
