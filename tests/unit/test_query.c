/*
 * test_query.c - unit tests of concord/query.h on temporary workspace
 * databases built with model_create() and hand-written rows (plus the
 * integration fixture tests/integration/fixtures/star.sql, which this file
 * also checks against model_create()'s DDL).  Expected answers come from
 * SQL written here by hand (an independent oracle), never from the code
 * under test.  Prints TAP with CMOCKA_MESSAGE_OUTPUT=TAP.
 *
 * CONCORD_QUERY_BENCH=1 runs a measurement instead (not an assertion):
 * CSV, NDJSON and JSON export of a generated 1,000,000-row fact_sales,
 * rows/s and the peak RSS before and after:
 *   CONCORD_QUERY_BENCH=1 CMOCKA_MESSAGE_OUTPUT=TAP tests/unit/test_query
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "concord/db.h"
#include "concord/model.h"
#include "concord/query.h"
#include "concord/workspace.h"

#ifndef SRCDIR
#define SRCDIR "."
#endif

/* ---- helpers ------------------------------------------------------- */

struct membuf {
	char	*p;
	size_t	 len;
	size_t	 cap;
	int	 fail_after;	/* > 0: the writer fails on that call */
	int	 calls;
};

static int
mem_writer(void *ctx, const void *buf, size_t len)
{
	struct membuf *m = ctx;

	if (m->fail_after > 0 && ++m->calls >= m->fail_after)
		return -1;
	if (m->len + len + 1 > m->cap) {
		m->cap = (m->len + len + 1) * 2;
		m->p = realloc(m->p, m->cap);
		assert_non_null(m->p);
	}
	memcpy(m->p + m->len, buf, len);
	m->len += len;
	m->p[m->len] = '\0';
	return 0;
}

/* Counts bytes only (the benchmark). */
static int
null_writer(void *ctx, const void *buf, size_t len)
{
	(void)buf;
	*(long long *)ctx += (long long)len;
	return 0;
}

static void
exec_ok(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("SQL failed: %s\n  %s", msg, sql);
}

/* A temporary database file opened the way workspaces are. */
static sqlite3 *
tmp_db(char *path, size_t size)
{
	struct cc_diag d;
	sqlite3 *db;
	int fd;

	snprintf(path, size, "/tmp/concord-query-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	if (db_open(path, &db, &d) != CC_OK)
		fail_msg("db_open: %s", d.message);
	return db;
}

static void
tmp_db_close(sqlite3 *db, const char *path)
{
	char p[300];

	query_cache_drop(db);
	sqlite3_close_v2(db);
	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

static void load_fixture_rows(sqlite3 *);

/* A database with the model (in main) and the fixture's rows. */
static sqlite3 *
model_db(char *path, size_t size, int with_fixture)
{
	struct cc_diag d;
	sqlite3 *db = tmp_db(path, size);

	exec_ok(db, "BEGIN");
	if (model_create(db, &d) != CC_OK)
		fail_msg("model_create: %s", d.message);
	exec_ok(db, "COMMIT");
	if (with_fixture)
		load_fixture_rows(db);
	return db;
}

/* The fixture's INSERT statements into db (a model_create() database). */
static void
load_fixture_rows(sqlite3 *db)
{
	char *sql = NULL, *p;
	size_t n = 0;
	FILE *f;
	char fpath[1024];

	/* The fixture's INSERT statements only (its DDL duplicates the
	 * model's and is checked by fixture_matches_model). */
	snprintf(fpath, sizeof(fpath),
	    "%s/tests/integration/fixtures/star.sql", SRCDIR);
	assert_non_null(f = fopen(fpath, "r"));
	sql = malloc(1 << 20);
	assert_non_null(sql);
	n = fread(sql, 1, (1 << 20) - 1, f);
	fclose(f);
	sql[n] = '\0';
	exec_ok(db, "DELETE FROM table_columns WHERE table_name IN"
	    " ('dim_date', 'dim_product', 'fact_sales')");
	p = strstr(sql, "INSERT INTO table_columns");
	assert_non_null(p);
	exec_ok(db, p);
	free(sql);

}

/* Percent-decodes s[0..e) into o. */
static void
decode(const char *s, const char *e, char *o)
{
	unsigned v;

	while (s < e) {
		if (*s == '%' && e - s >= 3 && sscanf(s + 1, "%2x", &v) == 1) {
			*o++ = (char)v;
			s += 3;
		} else
			*o++ = *s++;
	}
	*o = '\0';
}

/* Splits "a=b&c=d" (with %XX escapes) into params; returns the count. */
static size_t
split_qs(const char *qs, struct query_param *pp, char store[][512],
    size_t max)
{
	const char *p = qs, *e, *eq;
	size_t n = 0;

	while (*p != '\0' && n < max) {
		e = p + strcspn(p, "&");
		eq = memchr(p, '=', (size_t)(e - p));
		decode(p, eq != NULL ? eq : e, store[2 * n]);
		decode(eq != NULL ? eq + 1 : e, e, store[2 * n + 1]);
		pp[n].key = store[2 * n];
		pp[n].value = store[2 * n + 1];
		n++;
		p = *e == '&' ? e + 1 : e;
	}
	return n;
}

static char qs_store[64][512];

/*
 * Runs one request on db: parse, open, write to m.  Returns the first
 * error; diag says why.  *qout (optional) keeps the query (free it).
 */
static cc_err
run_q(sqlite3 *db, const char *table, enum query_format fmt, const char *qs,
    const struct query_limits *lim, struct membuf *m, enum query_cut *cut,
    struct query **qout, struct cc_diag *d)
{
	struct query_param pp[32];
	struct query_limits dl;
	struct query *q = NULL;
	long long rows;
	enum query_cut c;
	size_t n;
	cc_err e;

	memset(pp, 0, sizeof(pp));
	memset(qs_store, 0, sizeof(qs_store));
	n = split_qs(qs, pp, qs_store, 32);
	if (lim == NULL) {
		query_limits_default(&dl);
		lim = &dl;
	}
	cc_diag_clear(d);
	if ((e = query_parse(db, table, fmt, pp, n, lim, &q, d)) != CC_OK)
		return e;
	if ((e = query_open(q, db, "/api/v1/tables/t", d)) == CC_OK)
		e = query_write(q, mem_writer, m, &rows, &c, d);
	else
		c = QUERY_CUT_ERROR;
	if (cut != NULL)
		*cut = c;
	query_close(q);
	if (qout != NULL)
		*qout = q;
	else
		query_free(q);
	return e;
}

/* The sales_sk of every NDJSON line [n] of m, as "1,2,3". */
static char *
ids_of_ndjson(const char *text)
{
	char *out = calloc(1, 65536);
	const char *p = text;
	json_t *j;

	assert_non_null(out);
	while (p != NULL && *p != '\0') {
		const char *e = strchr(p, '\n');
		assert_non_null(e);
		j = json_loadb(p, (size_t)(e - p), 0, NULL);
		assert_non_null(j);
		if (json_is_array(j)) {
			long long v = json_integer_value(json_array_get(j, 0));
			snprintf(out + strlen(out), 65536 - strlen(out),
			    "%s%lld", out[0] != '\0' ? "," : "", v);
		}
		json_decref(j);
		p = e + 1;
	}
	return out;
}

/* The first column of a hand-written SELECT as "1,2,3". */
static char *
ids_of_sql(sqlite3 *db, const char *sql)
{
	char *out = calloc(1, 65536);
	sqlite3_stmt *st;

	assert_non_null(out);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("oracle SQL: %s: %s", sqlite3_errmsg(db), sql);
	while (sqlite3_step(st) == SQLITE_ROW)
		snprintf(out + strlen(out), 65536 - strlen(out), "%s%lld",
		    out[0] != '\0' ? "," : "",
		    (long long)sqlite3_column_int64(st, 0));
	sqlite3_finalize(st);
	return out;
}

/* ---- money, CSV fields --------------------------------------------- */

static void
money_format(void **state)
{
	static const struct {
		int64_t		 v;
		const char	*want;
	} cases[] = {
		/* units of 10^-4: at least two decimals, every further
		 * non-zero digit */
		{ 0, "0.00" }, { 500, "0.05" }, { -500, "-0.05" },
		{ 5000, "0.50" }, { 10000, "1.00" }, { -10000, "-1.00" },
		{ 125000, "12.50" }, { 35780000, "3578.00" },
		{ 123456700, "12345.67" }, { -123456700, "-12345.67" },
		{ 10, "0.001" }, { 1, "0.0001" }, { -1, "-0.0001" },
		{ 12345, "1.2345" }, { 12340, "1.234" }, { 12300, "1.23" },
		{ 100001, "10.0001" }, { -15, "-0.0015" },
		{ INT64_MAX, "922337203685477.5807" },
		{ INT64_MIN, "-922337203685477.5808" },
		{ INT64_MIN + 1, "-922337203685477.5807" },
		{ INT64_MAX - 7, "922337203685477.58" },
	};
	char buf[32];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = query_money_format(cases[i].v, buf);
		assert_string_equal(buf, cases[i].want);
		assert_int_equal(n, strlen(cases[i].want));
	}
}

static void
money_parse(void **state)
{
	static const struct {
		const char	*s;
		int		 ok;
		int64_t		 v;
	} cases[] = {
		{ "0", 1, 0 }, { "12", 1, 120000 }, { "12.5", 1, 125000 },
		{ "12.50", 1, 125000 }, { "-0.05", 1, -500 }, { "-0", 1, 0 },
		{ "0.5", 1, 5000 }, { "007.10", 1, 71000 },
		{ "3578", 1, 35780000 }, { "0.001", 1, 10 },
		{ "1.2345", 1, 12345 }, { "-0.0001", 1, -1 },
		{ "922337203685477.5807", 1, INT64_MAX },
		{ "-922337203685477.5808", 1, INT64_MIN },
		{ "922337203685477.5808", 0, 0 },
		{ "-922337203685477.5809", 0, 0 },
		{ "99999999999999999999999", 0, 0 },
		{ "1.23456", 0, 0 }, { "", 0, 0 }, { "-", 0, 0 }, { ".5", 0, 0 },
		{ "5.", 0, 0 }, { "1e3", 0, 0 }, { "+1", 0, 0 }, { " 1", 0, 0 },
		{ "1 ", 0, 0 }, { "1,5", 0, 0 }, { "--1", 0, 0 },
		{ "0x10", 0, 0 }, { "NaN", 0, 0 },
	};
	int64_t v;
	char buf[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cc_err e = query_money_parse(cases[i].s, &v);
		if (cases[i].ok) {
			if (e != CC_OK)
				fail_msg("'%s' refused", cases[i].s);
			assert_true(v == cases[i].v);
		} else if (e != CC_EINVAL)
			fail_msg("'%s' accepted", cases[i].s);
	}
	/* Round trip of formatted values. */
	for (i = 0; i < 2000; i++) {
		int64_t x = (int64_t)(i * 7919) - 5000;
		query_money_format(x, buf);
		assert_int_equal(query_money_parse(buf, &v), CC_OK);
		assert_true(v == x);
	}
}

static void
csv_field(void **state)
{
	static const struct {
		const char	*in;
		size_t		 len;
		int		 safe, first;
		const char	*want;
	} cases[] = {
		{ "plain", 5, 1, 0, "plain" },
		{ "", 0, 1, 0, "\"\"" },
		{ "a,b", 3, 1, 0, "\"a,b\"" },
		{ "say \"hi\"", 8, 1, 0, "\"say \"\"hi\"\"\"" },
		{ "l1\nl2", 5, 1, 0, "\"l1\nl2\"" },
		{ "l1\r\nl2", 6, 1, 0, "\"l1\r\nl2\"" },
		{ "=1+2", 4, 1, 0, "'=1+2" },
		{ "+x", 2, 1, 0, "'+x" },
		{ "-3", 2, 1, 0, "'-3" },
		{ "@SUM(A1)", 8, 1, 0, "'@SUM(A1)" },
		{ "\ttab", 4, 1, 0, "'\ttab" },
		{ "\rcr", 3, 1, 0, "\"'\rcr\"" },
		{ "=A1,B1", 6, 1, 0, "\"'=A1,B1\"" },
		{ "=1+2", 4, 0, 0, "=1+2" },
		{ "-3", 2, 0, 0, "-3" },
		{ "\rcr", 3, 0, 0, "\"\rcr\"" },
		{ "a=1", 3, 1, 0, "a=1" },
		{ "#x", 2, 1, 1, "\"#x\"" },
		{ "#x", 2, 1, 0, "#x" },
		{ "'apostrophe", 11, 1, 0, "'apostrophe" },
		{ "caf\xc3\xa9", 5, 1, 0, "caf\xc3\xa9" },
		{ "bad\xff", 4, 1, 0, "bad\xef\xbf\xbd" },
		{ "\xc0\xaf", 2, 1, 0, "\xef\xbf\xbd\xef\xbf\xbd" },
		{ "\xed\xa0\x80", 3, 1, 0,
		    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		{ "q\"\xff", 3, 1, 0, "\"q\"\"\xef\xbf\xbd\"" },
	};
	char out[64];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = query_csv_field(cases[i].in, cases[i].len, cases[i].safe,
		    cases[i].first, out, sizeof(out));
		assert_true(n < sizeof(out));
		if (n != strlen(cases[i].want) || strcmp(out, cases[i].want))
			fail_msg("case %zu: got [%s] want [%s]", i, out,
			    cases[i].want);
	}
	/* A leading NUL is prefixed too. */
	n = query_csv_field("\0nul", 4, 1, 0, out, sizeof(out));
	assert_int_equal(n, 5);
	assert_memory_equal(out, "'\0nul", 5);
	/* Too small a buffer: the length, nothing written. */
	out[0] = 'X';
	assert_int_equal(query_csv_field("abcdef", 6, 1, 0, out, 3), 6);
	assert_int_equal(out[0], 'X');
}

static void
names(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < QUERY__OP_MAX; i++)
		assert_int_equal(query_op_of(query_op_name((enum query_op)i)),
		    i);
	assert_int_equal(query_op_of("like"), -1);
	assert_int_equal(query_op_of(""), -1);
	for (i = 0; i < QUERY__T_MAX; i++)
		assert_int_equal(query_type_of(query_type_name(
		    (enum query_type)i)), i);
	assert_int_equal(query_type_of("varchar"), QUERY_T_TEXT);
	assert_string_equal(query_content_type(QUERY_CSV),
	    "text/csv; charset=utf-8");
	assert_string_equal(query_content_type(QUERY_NDJSON),
	    "application/x-ndjson");
	assert_string_equal(query_extension(QUERY_JSON), "json");
}

/* ---- the fixture mirrors the model --------------------------------- */

static char *
rows_text(sqlite3 *db, const char *sql)
{
	size_t cap = 1 << 16, len = 0;
	char *out = calloc(1, cap);
	sqlite3_stmt *st;
	int i;

	assert_non_null(out);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sqlite3_errmsg(db), sql);
	while (sqlite3_step(st) == SQLITE_ROW) {
		for (i = 0; i < sqlite3_column_count(st); i++) {
			const char *t;
			t = (const char *)sqlite3_column_text(st, i);
			len += (size_t)snprintf(out + len, cap - len, "%s|",
			    t != NULL ? t : "NULL");
			assert_true(len < cap - 1);
		}
		len += (size_t)snprintf(out + len, cap - len, "\n");
	}
	sqlite3_finalize(st);
	return out;
}

static void
fixture_matches_model(void **state)
{
	char fpath[1024], sql[512], *fix, *text, *a, *b;
	sqlite3 *fdb, *mdb;
	struct cc_diag d;
	sqlite3_stmt *st;
	size_t n;
	FILE *f;
	int tables = 0;

	(void)state;
	snprintf(fpath, sizeof(fpath),
	    "%s/tests/integration/fixtures/star.sql", SRCDIR);
	assert_non_null(f = fopen(fpath, "r"));
	assert_non_null(fix = malloc(1 << 20));
	n = fread(fix, 1, (1 << 20) - 1, f);
	fclose(f);
	fix[n] = '\0';
	assert_int_equal(sqlite3_open(":memory:", &fdb), SQLITE_OK);
	assert_int_equal(sqlite3_open(":memory:", &mdb), SQLITE_OK);
	exec_ok(fdb, fix);
	free(fix);
	if (model_create(mdb, &d) != CC_OK)
		fail_msg("model_create: %s", d.message);
	assert_int_equal(sqlite3_prepare_v2(fdb, "SELECT name FROM"
	    " sqlite_master WHERE type = 'table' ORDER BY name", -1, &st,
	    NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		tables++;
		/* Columns: name, declared type, NOT NULL, default, pk. */
		snprintf(sql, sizeof(sql), "SELECT cid, name, type,"
		    " \"notnull\", dflt_value, pk FROM"
		    " pragma_table_info('%s')", t);
		a = rows_text(fdb, sql);
		b = rows_text(mdb, sql);
		if (strcmp(a, b) != 0)
			fail_msg("table %s differs from core/model.c:\n"
			    "fixture:\n%s\nmodel:\n%s", t, a, b);
		assert_true(strlen(a) > 0);
		free(a);
		free(b);
		/* Indexes and their columns. */
		snprintf(sql, sizeof(sql), "SELECT l.name, l.\"unique\","
		    " i.seqno, i.name FROM pragma_index_list('%s') AS l,"
		    " pragma_index_info(l.name) AS i ORDER BY l.name, i.seqno",
		    t);
		a = rows_text(fdb, sql);
		b = rows_text(mdb, sql);
		if (strcmp(a, b) != 0)
			fail_msg("indexes of %s differ:\nfixture:\n%s\nmodel:"
			    "\n%s", t, a, b);
		free(a);
		free(b);
		/* the catalogue and the scale are not catalogued */
		if (strcmp(t, "table_columns") == 0 ||
		    strcmp(t, "model_units") == 0)
			continue;
		/* Catalogue rows. */
		snprintf(sql, sizeof(sql), "SELECT table_name, column_name,"
		    " ordinal, type, description FROM table_columns WHERE"
		    " table_name = '%s' ORDER BY ordinal", t);
		a = rows_text(fdb, sql);
		b = rows_text(mdb, sql);
		if (strcmp(a, b) != 0)
			fail_msg("table_columns of %s differ:\nfixture:\n%s\n"
			    "model:\n%s", t, a, b);
		assert_true(strlen(a) > 0);
		free(a);
		free(b);
	}
	sqlite3_finalize(st);
	assert_true(tables >= 4);
	/* The fixture catalogues no table it does not create. */
	text = rows_text(fdb, "SELECT DISTINCT table_name FROM table_columns"
	    " WHERE table_name NOT IN (SELECT name FROM sqlite_master)");
	assert_string_equal(text, "");
	free(text);
	sqlite3_close(fdb);
	sqlite3_close(mdb);
}

/* ---- parsing and validation ---------------------------------------- */

static void
not_found(void **state)
{
	static const char *const tables[] = {
		"sqlite_master", "table_columns", "files", "runs",
		"canonical_ids", "fact_sales; DROP TABLE runs", "FACT_SALES",
		"fact_sales ", "", "\"fact_sales\"", "main.fact_sales",
	};
	char path[64];
	struct cc_diag d;
	struct membuf m = { 0 };
	sqlite3 *db = model_db(path, sizeof(path), 0), *empty;
	char epath[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		assert_int_equal(run_q(db, tables[i], QUERY_JSON, "", NULL, &m,
		    NULL, NULL, &d), CC_ENOTFOUND);
		assert_string_equal(d.code, "not_found");
	}
	assert_int_equal(run_q(db, NULL, QUERY_JSON, "", NULL, &m, NULL, NULL,
	    &d), CC_ENOTFOUND);
	/* A workspace without a run: the table does not exist yet. */
	empty = tmp_db(epath, sizeof(epath));
	assert_int_equal(run_q(empty, "fact_sales", QUERY_JSON, "", NULL, &m,
	    NULL, NULL, &d), CC_ENOTFOUND);
	assert_string_equal(d.code, "no_such_table");
	/* Catalogue present, table absent. */
	exec_ok(empty, "CREATE TABLE table_columns (table_name TEXT,"
	    " column_name TEXT, ordinal INTEGER, type TEXT, description TEXT);"
	    "INSERT INTO table_columns VALUES ('fact_sales', 'sales_sk', 1,"
	    " 'integer', NULL)");
	assert_int_equal(run_q(empty, "fact_sales", QUERY_JSON, "", NULL, &m,
	    NULL, NULL, &d), CC_ENOTFOUND);
	assert_string_equal(d.code, "no_such_table");
	tmp_db_close(empty, epath);
	free(m.p);
	tmp_db_close(db, path);
}

static void
bad_requests(void **state)
{
	static const struct {
		const char	*qs;
		const char	*code;
		const char	*names;		/* the message must say this */
	} cases[] = {
		{ "nosuch=1", "unknown_column", "nosuch" },
		{ "nosuch__gt=1", "unknown_column", "nosuch" },
		{ "_foo=1", "unknown_column", "_foo" },
		{ "amount__like=1", "unknown_operator", "like" },
		{ "amount__=1", "unknown_operator", "amount__" },
		{ "amount__gt__lt=1", "unknown_column", "amount__gt" },
		{ "x%3B%20DROP%20TABLE%20fact_sales=1", "unknown_column",
		    "DROP TABLE" },
		{ "a%22b=1", "unknown_column", "a\"b" },
		{ "quantity=abc", "bad_value", "quantity" },
		{ "quantity=1.5", "bad_value", "quantity" },
		{ "quantity=", "bad_value", "quantity" },
		{ "quantity=99999999999999999999", "bad_value", "quantity" },
		{ "quantity__gt=0x10", "bad_value", "quantity" },
		{ "amount=12.34567", "bad_value", "amount" },
		{ "amount__gte=abc", "bad_value", "amount" },
		{ "amount=1e3", "bad_value", "amount" },
		{ "amount_derived=maybe", "bad_value", "amount_derived" },
		{ "amount_derived=on", "bad_value", "amount_derived" },
		{ "ship_date__isnull=2", "bad_value", "isnull" },
		{ "quantity__in=1,x", "bad_value", "item 2" },
		{ "quantity__in=1,", "bad_value", "item 2" },
		{ "status__in=%5B1%2C%7B%7D%5D", "bad_value", "strings and" },
		{ "status__in=%5Bbroken", "bad_value", "JSON array" },
		{ "status__in=%5B%5D", "bad_value", "1 to 1000" },
		{ "quantity__contains=1", "bad_operator", "contains" },
		{ "amount__startswith=1", "bad_operator", "startswith" },
		{ "status=a&status__exact=b", "duplicate_filter",
		    "status__exact" },
		{ "status=%FF", "bad_value", "UTF-8" },
		{ "_size=0", "bad_size", "1 to 1000" },
		{ "_size=1001", "bad_size", "1 to 1000" },
		{ "_size=abc", "bad_size", "_size" },
		{ "_size=10x", "bad_size", "_size" },
		{ "_size=-1", "bad_size", "_size" },
		{ "_size=%2B5", "bad_size", "_size" },
		{ "_size=5&_size=6", "bad_parameter", "once" },
		{ "_sort=nosuch", "unknown_column", "nosuch" },
		{ "_sort_desc=a%22b", "unknown_column", "a\"b" },
		{ "_sort=amount&_sort_desc=amount", "bad_sort", "not both" },
		{ "_shape=dict", "bad_parameter", "_shape" },
		{ "_header=maybe", "bad_parameter", "_header" },
		{ "_formulas=unsafe", "bad_parameter", "_formulas" },
		{ "_stream=2", "bad_parameter", "_stream" },
		{ "_dl=yes", "bad_parameter", "_dl" },
		{ "_col=nosuch", "unknown_column", "nosuch" },
		{ "_col=amount,", "bad_parameter", "empty" },
		{ "_col=", "bad_parameter", "empty" },
		{ "_nocol=nosuch", "unknown_column", "nosuch" },
		{ "_col=amount&_nocol=amount", "no_columns", "no column" },
		{ "_next=", "bad_next", "_next" },
		{ "_next=abc%21", "bad_next", "_next" },
		/* padded */
		{ "_next=eyJyIjoxfQ%3D%3D", "bad_next", "_next" },
		{ "_next=eyJyIjoiMSJ9", "bad_next", "_next" },	/* {"r":"1"} */
		/* an extra key */
		{ "_next=eyJyIjoxLCJ4IjoxfQ", "bad_next", "_next" },
		{ "_next=W10", "bad_next", "_next" },		/* [] */
		/* a duplicate key */
		{ "_next=eyJyIjoxLCJyIjoyfQ", "bad_next", "_next" },
		{ "_next=eyJyIjoxfR", "bad_next", "_next" },	/* bad bits */
		/* {"r":1} given to a sorted request: another sort. */
		{ "_sort=amount&_next=eyJyIjoxfQ", "bad_next", "another sort" },
		/* {"s":"amount","d":0,"v":5,"r":1} for _sort_desc. */
		{ "_sort_desc=amount&_next="
		    "eyJzIjoiYW1vdW50IiwiZCI6MCwidiI6NSwiciI6MX0",
		    "bad_next", "another sort" },
		/* The same token without "v". */
		{ "_sort=amount&_next=eyJzIjoiYW1vdW50IiwiZCI6MCwiciI6MX0",
		    "bad_next", "_next" },
		/* {"s":"amount","d":0,"v":[1],"r":1} */
		{ "_sort=amount&_next="
		    "eyJzIjoiYW1vdW50IiwiZCI6MCwidiI6WzFdLCJyIjoxfQ",
		    "bad_next", "_next" },
	};
	char path[64];
	struct cc_diag d;
	struct membuf m = { 0 };
	sqlite3 *db = model_db(path, sizeof(path), 1);
	size_t i;
	cc_err e;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		e = run_q(db, "fact_sales", QUERY_JSON, cases[i].qs, NULL, &m,
		    NULL, NULL, &d);
		if (e != CC_EINVAL)
			fail_msg("%s: got %s, want 400 %s", cases[i].qs,
			    cc_strerror(e), cases[i].code);
		if (strcmp(d.code, cases[i].code) != 0 ||
		    strstr(d.message, cases[i].names) == NULL)
			fail_msg("%s: got %s (%s), want %s naming '%s'",
			    cases[i].qs, d.code, d.message, cases[i].code,
			    cases[i].names);
	}
	/* 1001 items in an __in list. */
	{
		char big[4096] = "quantity__in=1";
		for (i = 1; i < 1001; i++)
			strcat(big, ",1");
		/* split_qs keeps 511 bytes a value: build the params here. */
		struct query_param pp[1] = { { "quantity__in", big + 13 } };
		struct query_limits lim;
		struct query *q = NULL;
		query_limits_default(&lim);
		assert_int_equal(query_parse(db, "fact_sales", QUERY_JSON, pp,
		    1, &lim, &q, &d), CC_EINVAL);
		assert_string_equal(d.code, "bad_value");
		big[13 + 2 * 1000 - 1] = '\0';		/* 1000 items */
		assert_int_equal(query_parse(db, "fact_sales", QUERY_JSON, pp,
		    1, &lim, &q, &d), CC_OK);
		query_free(q);
	}
	/* A configured maximum is the limit. */
	{
		struct query_limits lim;
		query_limits_default(&lim);
		lim.size_max = 50;
		assert_int_equal(run_q(db, "fact_sales", QUERY_JSON, "_size=51",
		    &lim, &m, NULL, NULL, &d), CC_EINVAL);
		assert_int_equal(run_q(db, "fact_sales", QUERY_JSON, "_size=50",
		    &lim, &m, NULL, NULL, &d), CC_OK);
	}
	/* Stream mode ignores _size and _next (not even validated). */
	assert_int_equal(run_q(db, "fact_sales", QUERY_JSON,
	    "_stream=1&_size=99999&_next=garbage", NULL, &m, NULL, NULL, &d),
	    CC_OK);
	free(m.p);
	tmp_db_close(db, path);
}

/* Messages echo request text: always valid UTF-8, never cut inside a
 * character (the envelope is JSON: otherwise a 400 would become a 500). */
static void
messages_are_utf8(void **state)
{
	static const char *const cases[] = {
		"%FF=1", "%FF__gt=1", "amount__%FF=1", "amount__gt%FF=1",
		"_col=%FF", "_nocol=a%FFb", "_sort=%C3", "_sort_desc=%80",
		"_shape=%FF", "_dl=%E2%82", "quantity=%FF%FE", "status=%ED%A0%80",
		"amount=%01%02", "%0A%0D=1", NULL,	/* long ones below */
	};
	char path[64], qs[2048];
	struct cc_diag d;
	struct membuf m = { 0 };
	sqlite3 *db = model_db(path, sizeof(path), 1);
	json_t *j;
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]) + 3; i++) {
		if (i < sizeof(cases) / sizeof(cases[0]) - 1)
			snprintf(qs, sizeof(qs), "%s", cases[i]);
		else {
			/* 150 two-byte characters, as a key, an operator and a
			 * sort column. */
			static const char *const pre[] = { "", "amount__",
			    "_sort=", "quantity=" };
			snprintf(qs, sizeof(qs), "%s", pre[i -
			    (sizeof(cases) / sizeof(cases[0]) - 1)]);
			for (k = 0; k < 150; k++)
				strcat(qs, "%C3%A9");
			if (strchr(qs, '=') == NULL)
				strcat(qs, "=1");
		}
		assert_int_equal(run_q(db, "fact_sales", QUERY_JSON, qs, NULL,
		    &m, NULL, NULL, &d), CC_EINVAL);
		j = json_string(d.message);
		if (j == NULL)
			fail_msg("%s: message is not UTF-8: %s", qs, d.message);
		json_decref(j);
		assert_true(strlen(d.message) < sizeof(d.message) - 1);
		for (k = 0; d.message[k] != '\0'; k++)
			assert_true((unsigned char)d.message[k] >= 0x20);
	}
	free(m.p);
	tmp_db_close(db, path);
}

/* Every operator, against hand-written SQL. */
static void
filters(void **state)
{
	static const struct {
		const char	*qs;
		const char	*where;		/* the oracle */
	} cases[] = {
		{ "status=shipped", "status = 'shipped'" },
		{ "status__exact=shipped", "status = 'shipped'" },
		{ "status__not=shipped", "status IS NOT 'shipped'" },
		{ "status=", "status = ''" },
		{ "status__contains=i", "instr(status, 'i') > 0" },
		{ "payment_method__contains=%22", "instr(payment_method, '\"')"
		    " > 0" },
		{ "payment_method__contains=%25", "instr(payment_method, '%')"
		    " > 0" },
		{ "order_id__startswith=SO-10", "order_id LIKE 'SO-10%'" },
		{ "order_id__startswith=%3D", "substr(order_id, 1, 1) = '='" },
		{ "status__startswith=_", "0" },	/* _ is no wildcard */
		{ "quantity=1", "quantity = 1" },
		{ "quantity__gt=1", "quantity > 1" },
		{ "quantity__gte=2", "quantity >= 2" },
		{ "quantity__lt=1", "quantity < 1" },
		{ "quantity__lte=-3", "quantity <= -3" },
		{ "quantity__not=1", "quantity IS NOT 1" },
		{ "quantity__in=1,2,10", "quantity IN (1, 2, 10)" },
		{ "amount=12.5", "amount = 125000" },
		{ "amount=12.50", "amount = 125000" },
		{ "amount=0.001", "amount = 10" },
		{ "amount=3578", "amount = 35780000" },
		{ "amount__gt=3578", "amount > 35780000" },
		{ "amount__gte=-0.05", "amount >= -500" },
		{ "amount__lt=0", "amount < 0" },
		{ "amount__lte=0.05", "amount <= 500" },
		{ "amount__in=12.5,0.05,-37.5",
		    "amount IN (125000, 500, -375000)" },
		{ "unit_price=922337203685477.5807",
		    "unit_price = 9223372036854775807" },
		{ "unit_price=-922337203685477.5808",
		    "unit_price = -9223372036854775807 - 1" },
		{ "discount__not=0", "discount IS NOT 0" },
		{ "order_date=2024-01-05", "order_date = '2024-01-05'" },
		{ "order_date__gte=2024-02", "order_date >= '2024-02'" },
		/* Text: '2024-01-05' > '2024' (not the number 2024). */
		{ "order_date__lt=2024", "0" },
		{ "order_date__gt=2024", "order_date IS NOT NULL" },
		{ "ship_date__lte=2024-01-08", "ship_date <= '2024-01-08'" },
		{ "order_date__startswith=2024-12",
		    "order_date LIKE '2024-12%'" },
		{ "ship_date__isnull=1", "ship_date IS NULL" },
		{ "ship_date__isnull=true", "ship_date IS NULL" },
		{ "ship_date__isnull=0", "ship_date IS NOT NULL" },
		{ "amount_derived=true", "amount_derived = 1" },
		{ "amount_derived=0", "amount_derived = 0" },
		{ "amount_consistent__isnull=1", "amount_consistent IS NULL" },
		{ "amount_consistent__not=1", "amount_consistent IS NOT 1" },
		{ "status__in=%5B%22a%2Cb%22%2C%22open%22%5D",
		    "status IN ('a,b', 'open')" },
		{ "quantity__in=%5B1%2C%222%22%5D", "quantity IN (1, 2)" },
		{ "status__in=open", "status = 'open'" },
		{ "_file_id=f2", "_file_id = 'f2'" },
		{ "_row__gte=8", "_row >= 8" },
		{ "payment_method=%E6%97%A5%E6%9C%AC%E8%AA%9E",
		    "payment_method = '日本語'" },
		{ "payment_method=x%3BDROP%20TABLE%20fact_sales",
		    "payment_method = 'x;DROP TABLE fact_sales'" },
		{ "payment_method=a%22b", "payment_method = 'a\"b'" },
		{ "payment_method=%27apostrophe", "payment_method ="
		    " '''apostrophe'" },
		{ "status=shipped&quantity__gte=2&ship_date__isnull=0",
		    "status = 'shipped' AND quantity >= 2 AND ship_date IS NOT"
		    " NULL" },
		{ "order_date__gte=2024-01-06&order_date__lt=2024-03",
		    "order_date >= '2024-01-06' AND order_date < '2024-03'" },
	};
	char path[64], qs[600], sql[600], *got, *want;
	struct cc_diag d;
	sqlite3 *db = model_db(path, sizeof(path), 1);
	size_t i;
	cc_err e;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct membuf m = { 0 };
		snprintf(qs, sizeof(qs), "%s&_col=sales_sk&_shape=arrays"
		    "&_stream=1", cases[i].qs);
		e = run_q(db, "fact_sales", QUERY_NDJSON, qs, NULL, &m, NULL,
		    NULL, &d);
		if (e != CC_OK)
			fail_msg("%s: %s", cases[i].qs, d.message);
		got = ids_of_ndjson(m.p != NULL ? m.p : "");
		snprintf(sql, sizeof(sql), "SELECT sales_sk FROM fact_sales"
		    " WHERE %s ORDER BY rowid", cases[i].where);
		want = ids_of_sql(db, sql);
		if (strcmp(got, want) != 0)
			fail_msg("%s: got [%s], want [%s]", cases[i].qs, got,
			    want);
		free(got);
		free(want);
		free(m.p);
	}
	/* The fixture still has its table and rows after the injection
	 * attempts. */
	want = ids_of_sql(db, "SELECT count(*) FROM fact_sales");
	assert_string_equal(want, "32");
	free(want);
	tmp_db_close(db, path);
}

/* Identifiers are quoted, values bound: a table with hostile names. */
static void
sql_quoting(void **state)
{
	char path[64], *ids;
	struct cc_diag d;
	struct membuf m = { 0 };
	struct query *q = NULL;
	sqlite3 *db = tmp_db(path, sizeof(path));
	const char *sql;

	(void)state;
	/* key_rules is a public name; its columns here are not the model's. */
	exec_ok(db, "CREATE TABLE table_columns (table_name TEXT NOT NULL,"
	    " column_name TEXT NOT NULL, ordinal INTEGER NOT NULL, type TEXT"
	    " NOT NULL, description TEXT, PRIMARY KEY (table_name,"
	    " column_name));"
	    "CREATE TABLE key_rules (id INTEGER PRIMARY KEY, \"a\"\"b\" TEXT,"
	    " \"x; DROP TABLE key_rules\" INTEGER, \"select\" MONEY,"
	    " \"rowid\" TEXT);"
	    "INSERT INTO table_columns VALUES ('key_rules', 'id', 1, 'integer',"
	    " NULL), ('key_rules', 'a\"b', 2, 'text', NULL), ('key_rules',"
	    " 'x; DROP TABLE key_rules', 3, 'integer', NULL), ('key_rules',"
	    " 'select', 4, 'money', NULL), ('key_rules', 'rowid', 5, 'text',"
	    " NULL), ('key_rules', 'ghost', 6, 'text', NULL);"
	    "INSERT INTO key_rules VALUES (1, 'q\"1', 10, 10000, 'r1'),"
	    " (2, 'two', 20, -25000, 'r2'), (3, NULL, 30, 0, NULL);");
	assert_int_equal(run_q(db, "key_rules", QUERY_NDJSON,
	    "a%22b=q%221&_col=id&_shape=arrays&_stream=1", NULL, &m, NULL, &q,
	    &d), CC_OK);
	sql = query_sql(q);
	assert_non_null(strstr(sql, "\"a\"\"b\" = ?1"));
	assert_null(strstr(sql, "q\"1"));
	query_free(q);
	ids = ids_of_ndjson(m.p);
	assert_string_equal(ids, "1");
	free(ids);
	m.len = 0;
	assert_int_equal(run_q(db, "key_rules", QUERY_NDJSON,
	    "x%3B%20DROP%20TABLE%20key_rules__gte=20&select__lt=0&_col=id"
	    "&_shape=arrays&_stream=1", NULL, &m, NULL, &q, &d), CC_OK);
	sql = query_sql(q);
	assert_non_null(strstr(sql, "\"x; DROP TABLE key_rules\" >= ?1"));
	assert_non_null(strstr(sql, "\"select\" < ?2"));
	/* "rowid" is a column here: the keyset uses another alias. */
	assert_non_null(strstr(sql, "ORDER BY _rowid_ ASC"));
	query_free(q);
	ids = ids_of_ndjson(m.p);
	assert_string_equal(ids, "2");
	free(ids);
	/* Header of the hostile names; a catalogue name the table lacks is
	 * not a column (ghost). */
	m.len = 0;
	assert_int_equal(run_q(db, "key_rules", QUERY_CSV, "", NULL, &m, NULL,
	    NULL, &d), CC_OK);
	assert_true(strncmp(m.p, "id,\"a\"\"b\",x; DROP TABLE key_rules,"
	    "select,rowid\r\n", 46) == 0);
	assert_non_null(strstr(m.p, "\r\n2,two,20,-2.50,r2\r\n"));
	assert_int_equal(run_q(db, "key_rules", QUERY_CSV, "ghost=1", NULL, &m,
	    NULL, NULL, &d), CC_EINVAL);
	/* Sorting by a hostile name pages correctly. */
	m.len = 0;
	assert_int_equal(run_q(db, "key_rules", QUERY_JSON,
	    "_sort_desc=a%22b&_size=1", NULL, &m, NULL, &q, &d), CC_OK);
	assert_non_null(query_next_token(q));
	assert_non_null(strstr(query_probe_sql(q), "ORDER BY \"a\"\"b\" DESC,"
	    " _rowid_ DESC LIMIT 2"));
	query_free(q);
	ids = rows_text(db, "SELECT count(*) FROM key_rules");
	assert_string_equal(ids, "3|\n");
	free(ids);
	free(m.p);
	tmp_db_close(db, path);
}

/* ---- keyset paging ------------------------------------------------- */

/*
 * Walks every page of a request (JSON, _size) following the tokens, and
 * compares the sales_sk sequence with the oracle's full ordered SELECT.
 */
static void
walk(sqlite3 *db, const char *base, int size, const char *oracle)
{
	char qs[1024], *got = calloc(1, 1 << 20), *want;
	struct cc_diag d;
	char *token = NULL;
	int pages = 0, rows = 0;

	assert_non_null(got);
	for (;;) {
		struct membuf m = { 0 };
		struct query *q = NULL;
		json_t *doc, *r;
		size_t i;
		snprintf(qs, sizeof(qs), "%s%s_size=%d%s%s", base,
		    *base != '\0' ? "&" : "", size, token != NULL ? "&_next=" :
		    "", token != NULL ? token : "");
		if (run_q(db, "fact_sales", QUERY_JSON, qs, NULL, &m, NULL, &q,
		    &d) != CC_OK)
			fail_msg("%s: %s", qs, d.message);
		doc = json_loads(m.p, JSON_ALLOW_NUL, NULL);
		if (doc == NULL)
			fail_msg("%s: not JSON: %.300s", qs, m.p);
		json_array_foreach(json_object_get(doc, "rows"), i, r) {
			snprintf(got + strlen(got), (1 << 20) - strlen(got),
			    "%s%lld", *got != '\0' ? "," : "", (long long)
			    json_integer_value(json_object_get(r, "sales_sk")));
			rows++;
		}
		assert_int_equal(json_integer_value(json_object_get(doc,
		    "count")), json_array_size(json_object_get(doc, "rows")));
		assert_true((int)json_array_size(json_object_get(doc, "rows"))
		    <= size);
		free(token);
		token = NULL;
		pages++;
		if (query_next_token(q) != NULL) {
			token = strdup(query_next_token(q));
			assert_string_equal(json_string_value(
			    json_object_get(doc, "next")), token);
			assert_true(json_is_true(json_object_get(doc,
			    "truncated")));
			/* next_url keeps the other parameters. */
			assert_non_null(strstr(query_next_url(q),
			    "/api/v1/tables/t?"));
			assert_int_equal((int)json_array_size(
			    json_object_get(doc, "rows")), size);
		} else {
			assert_true(json_is_null(json_object_get(doc, "next")));
			assert_true(json_is_null(json_object_get(doc,
			    "next_url")));
			assert_true(json_is_false(json_object_get(doc,
			    "truncated")));
		}
		json_decref(doc);
		query_free(q);
		free(m.p);
		if (token == NULL)
			break;
		assert_true(pages < 100000);
	}
	want = ids_of_sql(db, oracle);
	if (strcmp(got, want) != 0)
		fail_msg("walk %s (size %d, %d pages): got\n[%s]\nwant\n[%s]",
		    base, size, pages, got, want);
	free(want);
	free(got);
}

static void
keyset(void **state)
{
	static const struct {
		const char	*base;
		const char	*oracle;
	} cases[] = {
		{ "", "ORDER BY rowid" },
		{ "_sort=ship_date", "ORDER BY ship_date, rowid" },
		{ "_sort_desc=ship_date",
		    "ORDER BY ship_date DESC, rowid DESC" },
		{ "_sort=amount", "ORDER BY amount, rowid" },
		{ "_sort_desc=amount", "ORDER BY amount DESC, rowid DESC" },
		{ "_sort=status", "ORDER BY status, rowid" },
		{ "_sort_desc=status", "ORDER BY status DESC, rowid DESC" },
		{ "_sort=payment_method", "ORDER BY payment_method, rowid" },
		{ "_sort_desc=payment_method",
		    "ORDER BY payment_method DESC, rowid DESC" },
		{ "_sort=amount_consistent", "ORDER BY amount_consistent,"
		    " rowid" },
		{ "_sort=sales_sk", "ORDER BY sales_sk, rowid" },
		{ "status__not=open&_sort=ship_date",
		    "WHERE status IS NOT 'open' ORDER BY ship_date, rowid" },
		{ "ship_date__isnull=1&_sort_desc=ship_date",
		    "WHERE ship_date IS NULL ORDER BY ship_date DESC,"
		    " rowid DESC" },
		{ "_sort=ship_date&_col=order_id,sales_sk",
		    "ORDER BY ship_date, rowid" },
		{ "_sort_desc=ship_date&_nocol=ship_date",
		    "ORDER BY ship_date DESC, rowid DESC" },
		{ "amount__gt=1000000",
		    "WHERE amount > 10000000000 ORDER BY rowid" },
	};
	static const int sizes[] = { 1, 2, 7, 100, 1000 };
	char path[64], oracle[512];
	sqlite3 *db = model_db(path, sizeof(path), 1);
	size_t i, k;

	(void)state;
	/* 400 more rows: ties, NULLs, reals in a money column, text that
	 * is not UTF-8 and blobs in a sort column. */
	exec_ok(db, "INSERT INTO fact_sales (sales_sk, order_id, line_number,"
	    " ship_date, amount, status, payment_method, amount_consistent,"
	    " _file_id, _row)"
	    " WITH RECURSIVE n(i) AS (SELECT 100 UNION ALL SELECT i + 1 FROM n"
	    " WHERE i < 499) SELECT i, 'G-' || i, 1,"
	    " CASE WHEN i % 5 = 0 THEN NULL ELSE '2024-05-0' || (i % 9) END,"
	    " CASE WHEN i % 7 = 0 THEN NULL WHEN i % 11 = 0 THEN 2.5"
	    " ELSE (i % 13) * 100 END,"
	    " CASE WHEN i % 17 = 0 THEN CAST(x'ff41' AS TEXT)"
	    " WHEN i % 19 = 0 THEN"
	    " CASE i % 2 WHEN 0 THEN x'00ff' ELSE x'01' END"
	    " WHEN i % 3 = 0 THEN NULL ELSE 's' || (i % 4) END,"
	    " CASE i % 6 WHEN 0 THEN '' WHEN 1 THEN 'b' ELSE 'a' END,"
	    " CASE WHEN i % 2 = 0 THEN NULL ELSE i % 3 END, 'g', i FROM n");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(oracle, sizeof(oracle), "SELECT sales_sk FROM"
		    " fact_sales %s", cases[i].oracle);
		for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++)
			walk(db, cases[i].base, sizes[k], oracle);
	}
	tmp_db_close(db, path);
}

/* ---- output formats ------------------------------------------------ */

static void
json_output(void **state)
{
	char path[64];
	struct cc_diag d;
	struct membuf m = { 0 };
	sqlite3 *db = model_db(path, sizeof(path), 1);
	json_t *doc, *row, *prov, *cols;
	size_t i;

	(void)state;
	assert_int_equal(run_q(db, "fact_sales", QUERY_JSON,
	    "status=shipped&_size=3", NULL, &m, NULL, NULL, &d), CC_OK);
	assert_non_null(doc = json_loads(m.p, JSON_REJECT_DUPLICATES, NULL));
	assert_true(json_is_true(json_object_get(doc, "ok")));
	assert_string_equal(json_string_value(json_object_get(doc, "table")),
	    "fact_sales");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    doc, "filters"), "status__exact")), "shipped");
	assert_true(json_is_null(json_object_get(doc, "sort")));
	cols = json_object_get(doc, "columns");
	assert_int_equal(json_array_size(cols), 26);	/* fact_sales's columns */
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    cols, 13), "name")), "amount");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    cols, 13), "type")), "money");
	row = json_array_get(json_object_get(doc, "rows"), 0);
	assert_int_equal(json_integer_value(json_object_get(row, "sales_sk")),
	    1);
	assert_string_equal(json_string_value(json_object_get(row,
	    "shipping_cost")), "3578.00");
	assert_string_equal(json_string_value(json_object_get(row, "amount")),
	    "25.00");
	assert_string_equal(json_string_value(json_object_get(row, "discount")),
	    "0.00");
	assert_true(json_is_false(json_object_get(row, "amount_derived")));
	assert_true(json_is_true(json_object_get(row, "amount_consistent")));
	assert_string_equal(json_string_value(json_object_get(row,
	    "order_date")), "2024-01-05");
	row = json_array_get(json_object_get(doc, "rows"), 1);
	assert_true(json_is_null(json_object_get(row, "ship_date")));
	prov = json_object_get(doc, "provenance");
	assert_string_equal(json_string_value(json_object_get(prov, "table")),
	    "fact_sales");
	assert_int_equal(json_integer_value(json_object_get(prov,
	    "row_count")), 3);
	assert_true(json_is_null(json_object_get(prov, "run_id")));
	assert_int_equal(strlen(json_string_value(json_object_get(prov,
	    "generated_at"))), 20);
	assert_true(json_is_true(json_object_get(doc, "truncated")));
	json_decref(doc);

	/* Every row of the fixture, arrays shape, and a done run. */
	exec_ok(db, "CREATE TABLE runs (seq INTEGER PRIMARY KEY, id TEXT,"
	    " state TEXT); INSERT INTO runs VALUES (1, 'r-old', 'done'),"
	    " (2, 'r-new', 'done'), (3, 'r-failed', 'failed')");
	m.len = 0;
	assert_int_equal(run_q(db, "fact_sales", QUERY_JSON,
	    "_shape=arrays&_col=sales_sk,unit_price,quantity,status,"
	    "payment_method,amount_consistent&_stream=1", NULL, &m, NULL, NULL,
	    &d), CC_OK);
	assert_non_null(doc = json_loads(m.p, JSON_REJECT_DUPLICATES, NULL));
	assert_int_equal(json_array_size(json_object_get(doc, "rows")), 32);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    doc, "provenance"), "run_id")), "r-new");
	json_array_foreach(json_object_get(doc, "rows"), i, row) {
		long long sk = json_integer_value(json_array_get(row, 0));
		const char *up = json_string_value(json_array_get(row, 1));
		const char *pm = json_string_value(json_array_get(row, 4));
		assert_int_equal(json_array_size(row), 6);
		if (sk == 4) {
			assert_int_equal(json_integer_value(json_array_get(row,
			    2)), -3);
			assert_string_equal(json_string_value(json_array_get(
			    row, 3)), "-3");
			assert_true(json_is_null(json_array_get(row, 5)));
		}
		if (sk == 5)
			assert_string_equal(up, "922337203685477.5807");
		if (sk == 6)
			assert_string_equal(up, "-922337203685477.5808");
		if (sk == 10)
			assert_string_equal(pm, "crlf\r\nend");
		if (sk == 11)
			assert_string_equal(pm, "日本語");
		if (sk == 12)
			assert_string_equal(json_string_value(
			    json_array_get(row, 3)), "emoji 😀");
		if (sk == 13)
			assert_true(json_is_null(json_array_get(row, 1)));
		if (sk == 24)
			assert_string_equal(pm, "a\"b");
	}
	assert_true(json_is_false(json_object_get(doc, "truncated")));
	assert_null(json_object_get(doc, "truncated_reason"));
	json_decref(doc);

	/* Reals, booleans and an empty description in dim_product. */
	m.len = 0;
	assert_int_equal(run_q(db, "dim_product", QUERY_JSON, "", NULL, &m,
	    NULL, NULL, &d), CC_OK);
	assert_non_null(doc = json_loads(m.p, 0, NULL));
	row = json_array_get(json_object_get(doc, "rows"), 2);
	assert_true(json_real_value(json_object_get(row, "weight")) == 1e-7);
	assert_string_equal(json_string_value(json_object_get(row, "cost")),
	    "-0.05");
	assert_true(json_is_false(json_object_get(row, "is_current")));
	row = json_array_get(json_object_get(doc, "rows"), 3);
	assert_true(json_real_value(json_object_get(row, "weight")) ==
	    12345.678);
	assert_string_equal(json_string_value(json_object_get(row,
	    "description")), "");
	assert_null(strstr(m.p, "12345.677999"));
	json_decref(doc);

	/* Invalid UTF-8 in the database becomes U+FFFD; JSON stays valid. */
	exec_ok(db, "UPDATE fact_sales SET status = CAST(x'41ff42' AS TEXT)"
	    " WHERE sales_sk = 1");
	m.len = 0;
	assert_int_equal(run_q(db, "fact_sales", QUERY_JSON, "_col=status"
	    "&_size=1", NULL, &m, NULL, NULL, &d), CC_OK);
	assert_non_null(doc = json_loads(m.p, 0, NULL));
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(doc, "rows"), 0), "status")), "A\xef\xbf\xbd" "B");
	json_decref(doc);
	free(m.p);
	tmp_db_close(db, path);
}

static void
csv_output(void **state)
{
	char path[64];
	struct cc_diag d;
	struct membuf m = { 0 };
	sqlite3 *db = model_db(path, sizeof(path), 1);
	const char *p;
	int lines = 0;

	(void)state;
	assert_int_equal(run_q(db, "fact_sales", QUERY_CSV,
	    "_col=sales_sk,order_id,quantity,amount,status,payment_method,"
	    "amount_derived,ship_date&_stream=1", NULL, &m, NULL, NULL, &d),
	    CC_OK);
	p = m.p;
	assert_true(strncmp(p, "sales_sk,order_id,quantity,amount,status,"
	    "payment_method,amount_derived,ship_date\r\n", 82) == 0);
#define HAS(s) do { if (strstr(m.p, s) == NULL) \
	fail_msg("CSV lacks [%s]:\n%s", s, m.p); } while (0)
	HAS("\r\n1,SO-1001,2,25.00,shipped,card,false,2024-01-08\r\n");
	HAS("\r\n2,SO-1001,1,0.05,shipped,card,false,\r\n");
	HAS("\r\n3,'=1+2,3,10734.00,open,'=cmd|' /C calc'!A0,true,"
	    "2024-01-09\r\n");
	HAS("\r\n4,'+x,-3,-37.50,'-3,'@SUM(A1:A9),false,\r\n");
	HAS("\r\n5,'-3,1,922337203685477.5807,shipped,'\ttab,true,"
	    "2024-03-01\r\n");
	HAS("\r\n6,'@SUM(1),1,-922337203685477.5808,shipped,\"'\rcr\",false,"
	    "2024-03-01\r\n");
	HAS("\r\n7,'\tSO-1007,10,0.00,open,,,\r\n");
	HAS("\r\n8,\"'\rSO-1008\",1,0.01,open,cash,false,2025-01-02\r\n");
	HAS("\r\n9,SO-1009,7,6.93,\"a,b\",\"say \"\"hi\"\"\",false,"
	    "2024-01-08\r\n");
	HAS("\r\n10,SO-1010,1,1234567.00,\"line1\nline2\",\"crlf\r\nend\","
	    "true,\r\n");
	HAS("\r\n11,SO-1011,1,0.50,naïve café,日本語,false,2024-01-07\r\n");
	HAS("\r\n12,SO-1012,1,0.50,emoji 😀,\"\",false,2024-01-07\r\n");
	HAS("\r\n13,SO-1013,,,,,,2024-03-02\r\n");
	HAS("\r\n14,SO-1014,2,25.00,\"\", leading space,false,\r\n");
	HAS("\r\n15,#SO-1015,1,0.05,shipped,'apostrophe,false,2024-03-05\r\n");
	HAS("\r\n16,SO-1016,1,12.50,shipped,'-,false,2025-01-03\r\n");
	HAS("\r\n17,SO-1017,4,50.00,shipped,0042,false,2025-01-03\r\n");
	HAS("\r\n23,SO-1023,1,0.01,shipped,x;DROP TABLE fact_sales,false,"
	    "2024-03-01\r\n");
	HAS("\r\n24,SO-1024,1,0.10,shipped,\"a\"\"b\",false,2024-03-01\r\n");
	for (p = m.p; (p = strstr(p, "\r\n")) != NULL; p += 2)
		lines++;
	/* Header and 32 records, one with a CRLF inside a quoted field. */
	assert_int_equal(lines, 33 + 1);
	assert_null(strstr(m.p, "# truncated"));

	/* _formulas=raw, _header=off; '#' first is quoted. */
	m.len = 0;
	assert_int_equal(run_q(db, "fact_sales", QUERY_CSV,
	    "_col=order_id,status&_formulas=raw&_header=off&_stream=1", NULL,
	    &m, NULL, NULL, &d), CC_OK);
	assert_true(strncmp(m.p, "SO-1001,shipped\r\n", 17) == 0);
	HAS("\r\n=1+2,open\r\n");
	HAS("\r\n+x,-3\r\n");
	HAS("\r\n\"#SO-1015\",shipped\r\n");
	HAS("\r\n\"\rSO-1008\",open\r\n");
#undef HAS
	free(m.p);
	tmp_db_close(db, path);
}

static void
ndjson_output(void **state)
{
	char path[64];
	struct cc_diag d;
	struct membuf m = { 0 };
	sqlite3 *db = model_db(path, sizeof(path), 1);
	const char *p, *e;
	json_t *j;
	int n = 0;

	(void)state;
	assert_int_equal(run_q(db, "fact_sales", QUERY_NDJSON, "_stream=1",
	    NULL, &m, NULL, NULL, &d), CC_OK);
	for (p = m.p; *p != '\0'; p = e + 1) {
		assert_non_null(e = strchr(p, '\n'));
		j = json_loadb(p, (size_t)(e - p), JSON_REJECT_DUPLICATES,
		    NULL);
		assert_non_null(j);
		assert_true(json_is_object(j));
		assert_int_equal(json_object_size(j), 26);
		n++;
		if (n == 10)
			assert_string_equal(json_string_value(json_object_get(j,
			    "status")), "line1\nline2");
		json_decref(j);
	}
	assert_int_equal(n, 32);
	/* A page of NDJSON: the Link header carries next; no marker. */
	m.len = 0;
	assert_int_equal(run_q(db, "fact_sales", QUERY_NDJSON, "_size=5", NULL,
	    &m, NULL, NULL, &d), CC_OK);
	for (n = 0, p = m.p; (p = strchr(p, '\n')) != NULL; p++)
		n++;
	assert_int_equal(n, 5);
	assert_null(strstr(m.p, "_truncated"));
	free(m.p);
	tmp_db_close(db, path);
}

/* ---- limits -------------------------------------------------------- */

static void
stream_caps(void **state)
{
	char path[64];
	struct cc_diag d;
	struct query_limits lim;
	struct membuf m = { 0 };
	enum query_cut cut;
	sqlite3 *db = model_db(path, sizeof(path), 1);
	json_t *doc;
	const char *p;

	(void)state;
	query_limits_default(&lim);
	lim.stream_max_rows = 10;
	assert_int_equal(run_q(db, "fact_sales", QUERY_CSV,
	    "_stream=1&_col=sales_sk", &lim, &m, &cut, NULL, &d), CC_OK);
	assert_int_equal(cut, QUERY_CUT_ROWS);
	assert_string_equal(m.p, "sales_sk\r\n1\r\n2\r\n3\r\n4\r\n5\r\n6\r\n7"
	    "\r\n8\r\n9\r\n10\r\n# truncated: row cap reached\r\n");
	m.len = 0;
	assert_int_equal(run_q(db, "fact_sales", QUERY_NDJSON,
	    "_stream=1&_col=sales_sk", &lim, &m, &cut, NULL, &d), CC_OK);
	p = strstr(m.p, "{\"sales_sk\":10}\n");
	assert_non_null(p);
	assert_string_equal(p + 16, "{\"_truncated\":true,\"reason\":"
	    "\"row_cap\"}\n");
	m.len = 0;
	assert_int_equal(run_q(db, "fact_sales", QUERY_JSON,
	    "_stream=1&_col=sales_sk", &lim, &m, &cut, NULL, &d), CC_OK);
	assert_non_null(doc = json_loads(m.p, 0, NULL));
	assert_true(json_is_true(json_object_get(doc, "truncated")));
	assert_string_equal(json_string_value(json_object_get(doc,
	    "truncated_reason")), "row_cap");
	assert_int_equal(json_integer_value(json_object_get(doc, "count")), 10);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    doc, "provenance"), "row_count")), 10);
	json_decref(doc);
	/* Exactly at the cap: complete, no marker. */
	m.len = 0;
	assert_int_equal(run_q(db, "fact_sales", QUERY_CSV,
	    "_stream=1&_col=sales_sk&sales_sk__lte=10", &lim, &m, &cut, NULL,
	    &d), CC_OK);
	assert_int_equal(cut, QUERY_CUT_NONE);
	assert_null(strstr(m.p, "truncated"));
	/* Byte cap. */
	lim.stream_max_rows = 1000;
	lim.stream_max_bytes = 100;
	m.len = 0;
	assert_int_equal(run_q(db, "fact_sales", QUERY_CSV,
	    "_stream=1&_col=sales_sk", &lim, &m, &cut, NULL, &d), CC_OK);
	assert_int_equal(cut, QUERY_CUT_BYTES);
	p = strstr(m.p, "# truncated: byte cap reached\r\n");
	assert_non_null(p);
	assert_true(p - m.p >= 100 && p - m.p < 110);
	assert_string_equal(p, "# truncated: byte cap reached\r\n");
	/* A writer that fails: the query stops. */
	m.len = 0;
	m.fail_after = 1;
	lim.stream_max_bytes = 1LL << 40;
	exec_ok(db, "INSERT INTO fact_sales (sales_sk, order_id, line_number,"
	    " _file_id, _row) WITH RECURSIVE n(i) AS (SELECT 1000 UNION ALL"
	    " SELECT i + 1 FROM n WHERE i < 30000) SELECT i, 'X', 1, 'x', i"
	    " FROM n");
	assert_int_equal(run_q(db, "fact_sales", QUERY_CSV, "_stream=1",
	    &lim, &m, &cut, NULL, &d), CC_OK);
	assert_int_equal(cut, QUERY_CUT_WRITER);
	assert_int_equal(m.len, 0);
	m.fail_after = 0;
	free(m.p);
	tmp_db_close(db, path);
}

static void
time_limit(void **state)
{
	char path[64];
	struct cc_diag d;
	struct query_limits lim;
	struct membuf m = { 0 };
	enum query_cut cut;
	sqlite3 *db = model_db(path, sizeof(path), 0);

	(void)state;
	exec_ok(db, "INSERT INTO fact_sales (sales_sk, order_id, line_number,"
	    " status, _file_id, _row) WITH RECURSIVE n(i) AS (SELECT 1 UNION"
	    " ALL SELECT i + 1 FROM n WHERE i < 400000) SELECT i, 'SO-' || i,"
	    " 1, 'shipped ' || i, 'f', i FROM n");
	query_limits_default(&lim);
	lim.time_limit_ms = 1;
	/* Page mode: the probe runs out of time before the answer began. */
	assert_int_equal(run_q(db, "fact_sales", QUERY_JSON,
	    "status__contains=nowhere", &lim, &m, &cut, NULL, &d), CC_EDB);
	assert_string_equal(d.code, "query_time_limit");
	assert_int_equal(m.len, 0);
	/* Stream: its own limit; cut in band. */
	lim.time_limit_ms = 0;
	lim.stream_time_limit_ms = 1;
	assert_int_equal(run_q(db, "fact_sales", QUERY_NDJSON,
	    "status__contains=nowhere&_stream=1", &lim, &m, &cut, NULL, &d),
	    CC_OK);
	assert_int_equal(cut, QUERY_CUT_TIME);
	assert_string_equal(m.p, "{\"_truncated\":true,\"reason\":"
	    "\"time_limit\"}\n");
	/* The connection is usable afterwards, with no handler left. */
	lim.stream_time_limit_ms = 0;
	m.len = 0;
	assert_int_equal(run_q(db, "fact_sales", QUERY_CSV,
	    "status__contains=nowhere&_stream=1", &lim, &m, &cut, NULL, &d),
	    CC_OK);
	assert_int_equal(cut, QUERY_CUT_NONE);
	exec_ok(db, "BEGIN; DELETE FROM fact_sales WHERE sales_sk = 1; COMMIT");
	free(m.p);
	tmp_db_close(db, path);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/*
 * The service's layout: workspace.db with the last run's model.db
 * attached as "model" (ws_open()).  A table of the same name in
 * workspace.db is never read instead.
 */
static void
attached_model(void **state)
{
	char dir[] = "/tmp/concord-query-ws-XXXXXX", mpath[PATH_MAX + 64];
	struct workspace *ws = NULL;
	struct query_limits lim;
	struct membuf m = { 0 };
	struct cc_diag d;
	sqlite3 *mdb;
	json_t *doc, *list;
	char *ids;

	(void)state;
	assert_non_null(mkdtemp(dir));
	query_limits_default(&lim);
	/* Before a run: no model.db.  A decoy in workspace.db is ignored
	 * (no catalogue there). */
	if (ws_open(dir, "u1", &ws, &d) != CC_OK)
		fail_msg("ws_open: %s", d.message);
	exec_ok(ws->db, "CREATE TABLE fact_sales (sales_sk INTEGER PRIMARY"
	    " KEY, secret TEXT); INSERT INTO fact_sales VALUES (1, 'decoy')");
	assert_int_equal(run_q(ws->db, "fact_sales", QUERY_JSON, "", NULL, &m,
	    NULL, NULL, &d), CC_ENOTFOUND);
	assert_string_equal(d.code, "no_such_table");
	assert_int_equal(query_tables(ws->db, &lim, &list, &d), CC_OK);
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);
	exec_ok(ws->db, "INSERT INTO runs (id, state, created_at) VALUES"
	    " ('r1', 'done', '2026-01-01T00:00:00Z'), ('r2', 'failed',"
	    " '2026-01-02T00:00:00Z')");
	ws_close(ws);
	/* A run's result. */
	snprintf(mpath, sizeof(mpath), "%s/workspaces/u1/model.db", dir);
	assert_int_equal(sqlite3_open(mpath, &mdb), SQLITE_OK);
	exec_ok(mdb, "BEGIN");
	if (model_create(mdb, &d) != CC_OK)
		fail_msg("model_create: %s", d.message);
	exec_ok(mdb, "COMMIT");
	load_fixture_rows(mdb);
	sqlite3_close(mdb);
	if (ws_open(dir, "u1", &ws, &d) != CC_OK)
		fail_msg("ws_open: %s", d.message);
	m.len = 0;
	assert_int_equal(run_q(ws->db, "fact_sales", QUERY_NDJSON,
	    "_col=sales_sk&_shape=arrays&_stream=1&sales_sk__lte=3", NULL, &m,
	    NULL, NULL, &d), CC_OK);
	ids = ids_of_ndjson(m.p);
	assert_string_equal(ids, "1,2,3");
	free(ids);
	assert_int_equal(run_q(ws->db, "fact_sales", QUERY_JSON, "_col=secret",
	    NULL, &m, NULL, NULL, &d), CC_EINVAL);
	m.len = 0;
	assert_int_equal(run_q(ws->db, "fact_sales", QUERY_JSON, "_size=5",
	    NULL, &m, NULL, NULL, &d), CC_OK);
	assert_non_null(doc = json_loads(m.p, 0, NULL));
	assert_int_equal(json_integer_value(json_object_get(doc, "count")), 5);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    doc, "provenance"), "run_id")), "r1");
	assert_null(strstr(m.p, "decoy"));
	json_decref(doc);
	assert_int_equal(query_tables(ws->db, &lim, &list, &d), CC_OK);
	assert_int_equal(json_array_size(list), 18);	/* the public tables */
	json_decref(list);
	ws_close(ws);
	free(m.p);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
tables_list(void **state)
{
	char path[64], epath[64];
	struct cc_diag d;
	struct query_limits lim;
	sqlite3 *db = model_db(path, sizeof(path), 1), *empty;
	json_t *list, *t, *fact = NULL;
	size_t i;
	int seg = 0;

	(void)state;
	query_limits_default(&lim);
	assert_int_equal(query_tables(db, &lim, &list, &d), CC_OK);
	assert_int_equal(json_array_size(list), 18);	/* the public tables */
	json_array_foreach(list, i, t) {
		const char *name;
		name = json_string_value(json_object_get(t, "name"));
		assert_true(model_is_public_table(name));
		if (strcmp(name, "fact_sales") == 0)
			fact = t;
		if (strcmp(name, "customer_segment") == 0) {
			/* RFM segments: monetary (5th column) is money */
			json_t *c = json_array_get(json_object_get(t,
			    "columns"), 4);
			assert_string_equal(json_string_value(json_object_get(
			    c, "name")), "monetary");
			assert_string_equal(json_string_value(json_object_get(
			    c, "type")), "money");
			seg = 1;
		}
		assert_null(strstr(name, "table_columns"));
	}
	assert_true(seg);
	assert_non_null(fact);
	assert_int_equal(json_integer_value(json_object_get(fact, "rows")), 32);
	assert_string_equal(json_string_value(json_object_get(fact, "url")),
	    "/api/v1/tables/fact_sales");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(fact, "columns"), 12), "type")), "money");
	json_decref(list);
	empty = tmp_db(epath, sizeof(epath));
	assert_int_equal(query_tables(empty, &lim, &list, &d), CC_OK);
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);
	tmp_db_close(empty, epath);
	tmp_db_close(db, path);
}

/* ---- the benchmark (CONCORD_QUERY_BENCH=1) -------------------------- */

static long
max_rss_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static void
bench(void **state)
{
	static const struct {
		enum query_format	 fmt;
		const char		*qs;
		const char		*what;
	} runs[] = {
		{ QUERY_CSV, "_stream=1", "CSV, all columns" },
		{ QUERY_NDJSON, "_stream=1", "NDJSON, all columns" },
		{ QUERY_JSON, "_stream=1", "JSON, all columns" },
		{ QUERY_CSV, "_stream=1&_sort_desc=amount",
		    "CSV, sorted by amount (no index)" },
	};
	char path[64], qs[128];
	struct query_param pp[4];
	struct query_limits lim;
	struct cc_diag d;
	struct query *q;
	enum query_cut cut;
	long long bytes, rows;
	double t0, t1;
	struct timespec ts;
	sqlite3 *db;
	long rss0;
	size_t i, n;

	(void)state;
	db = model_db(path, sizeof(path), 0);
	exec_ok(db, "INSERT INTO fact_sales WITH RECURSIVE n(i) AS (SELECT 1"
	    " UNION ALL SELECT i + 1 FROM n WHERE i < 1000000) SELECT i,"
	    " 'SO-' || (i / 3), i % 3 + 1, 20240101 + i % 28,"
	    " printf('2024-01-%02d', 1 + i % 28), CASE WHEN i % 7 = 0 THEN NULL"
	    " ELSE printf('2024-02-%02d', 1 + i % 28) END, NULL, i % 5000,"
	    " i % 300, i % 5000, i % 300, 1 + i % 5, 100 + i % 90000,"
	    " (1 + i % 5) * (100 + i % 90000), 0, (i % 100) * 7, 495,"
	    " CASE i % 3 WHEN 0 THEN 'shipped' WHEN 1 THEN 'open'"
	    " ELSE 'cancelled' END, 'paid', CASE WHEN i % 50 = 0 THEN '=x'"
	    " ELSE 'card' END, i % 2, 1, 'f' || (i % 4), i FROM n");
	query_limits_default(&lim);
	rss0 = max_rss_kib();
	print_message("# bench: 1,000,000 fact_sales rows (24 columns),"
	    " peak RSS before: %ld KiB\n", rss0);
	for (i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		memset(qs_store, 0, sizeof(qs_store));
		snprintf(qs, sizeof(qs), "%s", runs[i].qs);
		n = split_qs(qs, pp, qs_store, 4);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		t0 = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
		bytes = 0;
		assert_int_equal(query_parse(db, "fact_sales", runs[i].fmt, pp,
		    n, &lim, &q, &d), CC_OK);
		assert_int_equal(query_open(q, db, "/x", &d), CC_OK);
		assert_int_equal(query_write(q, null_writer, &bytes, &rows,
		    &cut, &d), CC_OK);
		query_free(q);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		t1 = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
		assert_int_equal(rows, 1000000);
		assert_int_equal(cut, QUERY_CUT_NONE);
		print_message("# bench: %-34s %7.0f rows/s, %6.1f MB/s, %.2f s,"
		    " %lld bytes, peak RSS %ld KiB\n", runs[i].what,
		    (double)rows / (t1 - t0), (double)bytes / 1e6 / (t1 - t0),
		    t1 - t0, bytes, max_rss_kib());
	}
	tmp_db_close(db, path);
}

/* Times the statements kept on db were prepared again by SQLite. */
static int
reprepared(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int n = 0;

	while ((st = sqlite3_next_stmt(db, st)) != NULL)
		n += sqlite3_stmt_status(st, SQLITE_STMTSTATUS_REPREPARE, 0);
	return n;
}

/* Two JSON pages alike but for their generated_at stamp. */
static void
same_page(const struct membuf *a, const struct membuf *b)
{
	const char *at = strstr(b->p, "\"generated_at\"");
	size_t n = at != NULL ? (size_t)(at - b->p) : b->len;

	assert_int_equal(a->len, b->len);
	assert_memory_equal(a->p, b->p, n);
}

/* Denies everything: stands for another module's authorizer (ask.c). */
static int
deny_all(void *ctx, int action, const char *a, const char *b,
    const char *dbname, const char *trigger)
{
	(void)ctx; (void)action; (void)a; (void)b; (void)dbname; (void)trigger;
	return SQLITE_DENY;
}

/*
 * The page statements are kept between requests and not prepared again
 * (setting an authorizer per request would expire them all); the page
 * is the same each time; after another authorizer was installed and
 * removed, query.c installs its own again.
 */
static void
kept_statements(void **state)
{
	struct membuf m = { 0 }, first = { 0 };
	struct cc_diag d;
	char path[64];
	sqlite3 *db;
	int i, warm;

	(void)state;
	db = model_db(path, sizeof(path), 1);
	/* the first request installs the authorizer, which expires the
	 * catalogue statements prepared before it: once per connection */
	assert_int_equal(run_q(db, "fact_sales", QUERY_JSON,
	    "_size=3&quantity__gte=1", NULL, &first, NULL, NULL, &d), CC_OK);
	assert_int_equal(run_q(db, "dim_product", QUERY_JSON,
	    "_size=2", NULL, &m, NULL, NULL, &d), CC_OK);
	warm = reprepared(db);
	for (i = 0; i < 5; i++) {
		m.len = 0;
		assert_int_equal(run_q(db, "fact_sales", QUERY_JSON,
		    "_size=3&quantity__gte=1", NULL, &m, NULL, NULL, &d), CC_OK);
		same_page(&m, &first);
		/* another table between: its own statements */
		assert_int_equal(run_q(db, "dim_product", QUERY_JSON,
		    "_size=2", NULL, &m, NULL, NULL, &d), CC_OK);
	}
	assert_int_equal(reprepared(db), warm);
	/* another authorizer, then none (what ask_check/ask_finish do) */
	query_authorizer_lost(db);
	sqlite3_set_authorizer(db, deny_all, NULL);
	sqlite3_set_authorizer(db, NULL, NULL);
	m.len = 0;
	assert_int_equal(run_q(db, "fact_sales", QUERY_JSON,
	    "_size=3&quantity__gte=1", NULL, &m, NULL, NULL, &d), CC_OK);
	same_page(&m, &first);
	/* installed again (expiring, once more, what this request had
	 * prepared before it): from the request after next, kept again */
	assert_int_equal(run_q(db, "fact_sales", QUERY_JSON,
	    "_size=3&quantity__gte=1", NULL, &m, NULL, NULL, &d), CC_OK);
	i = reprepared(db);
	m.len = 0;
	assert_int_equal(run_q(db, "fact_sales", QUERY_JSON,
	    "_size=3&quantity__gte=1", NULL, &m, NULL, NULL, &d), CC_OK);
	assert_int_equal(reprepared(db), i);
	free(m.p);
	free(first.p);
	tmp_db_close(db, path);
}

/* The names in a JSON page's "columns", comma-separated, into out. */
static void
page_columns(const struct membuf *m, char *out, size_t size)
{
	json_error_t e;
	json_t *doc = json_loads(m->p, 0, &e), *c;
	size_t i, n = 0;

	assert_non_null(doc);
	out[0] = '\0';
	json_array_foreach(json_object_get(doc, "columns"), i, c)
		n += (size_t)snprintf(out + n, size - n, "%s%s", i ? "," : "",
		    json_string_value(json_object_get(c, "name")));
	json_decref(doc);
}

/*
 * The columns a connection keeps between requests (load_columns()'s
 * memory) follow every change of the catalogue or the table: made on
 * the same connection, and committed by another one.
 */
static void
kept_columns_follow_changes(void **state)
{
	struct membuf m = { 0 };
	struct cc_diag d;
	char path[64], first[4096], now[4096];
	sqlite3 *db, *other;

	(void)state;
	db = model_db(path, sizeof(path), 1);
	assert_int_equal(run_q(db, "dim_product", QUERY_JSON, "_size=2", NULL,
	    &m, NULL, NULL, &d), CC_OK);
	page_columns(&m, first, sizeof(first));
	assert_null(strstr(first, "zz_note"));
	m.len = 0;
	assert_int_equal(run_q(db, "dim_product", QUERY_JSON, "_size=2", NULL,
	    &m, NULL, NULL, &d), CC_OK);
	page_columns(&m, now, sizeof(now));
	assert_string_equal(now, first);
	/* a column added on this connection, catalogue and table */
	exec_ok(db, "ALTER TABLE dim_product ADD COLUMN zz_note TEXT;"
	    " INSERT INTO table_columns (table_name, column_name, ordinal,"
	    " type) VALUES ('dim_product', 'zz_note', 999, 'text')");
	m.len = 0;
	assert_int_equal(run_q(db, "dim_product", QUERY_JSON, "_size=2", NULL,
	    &m, NULL, NULL, &d), CC_OK);
	page_columns(&m, now, sizeof(now));
	assert_non_null(strstr(now, ",zz_note"));
	assert_int_equal(strncmp(now, first, strlen(first)), 0);
	/* its catalogue row removed by another connection */
	assert_int_equal(sqlite3_open_v2(path, &other, SQLITE_OPEN_READWRITE,
	    NULL), SQLITE_OK);
	sqlite3_busy_timeout(other, 5000);
	exec_ok(other, "DELETE FROM table_columns WHERE column_name ="
	    " 'zz_note'");
	sqlite3_close(other);
	m.len = 0;
	assert_int_equal(run_q(db, "dim_product", QUERY_JSON, "_size=2", NULL,
	    &m, NULL, NULL, &d), CC_OK);
	page_columns(&m, now, sizeof(now));
	assert_string_equal(now, first);
	free(m.p);
	tmp_db_close(db, path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(money_format),
		cmocka_unit_test(money_parse),
		cmocka_unit_test(csv_field),
		cmocka_unit_test(names),
		cmocka_unit_test(fixture_matches_model),
		cmocka_unit_test(not_found),
		cmocka_unit_test(bad_requests),
		cmocka_unit_test(messages_are_utf8),
		cmocka_unit_test(filters),
		cmocka_unit_test(sql_quoting),
		cmocka_unit_test(keyset),
		cmocka_unit_test(json_output),
		cmocka_unit_test(csv_output),
		cmocka_unit_test(ndjson_output),
		cmocka_unit_test(stream_caps),
		cmocka_unit_test(time_limit),
		cmocka_unit_test(tables_list),
		cmocka_unit_test(attached_model),
		cmocka_unit_test(kept_statements),
		cmocka_unit_test(kept_columns_follow_changes),
	};
	/* Not a test: only on request (a skipped test would count as a
	 * failure under automake's TAP driver). */
	const struct CMUnitTest measure[] = {
		cmocka_unit_test(bench),
	};

	if (getenv("CONCORD_QUERY_BENCH") != NULL)
		return cmocka_run_group_tests_name("query_bench", measure, NULL,
		    NULL);
	return cmocka_run_group_tests_name("query", tests, NULL, NULL);
}
