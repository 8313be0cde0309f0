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
 * product and none.  The C rules (load_fact_rules(), load_fact_plain_sql)
 * against load_fact_sql on the same lines and on integer operands up to
 * 64 bits' extremes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* How insert_all() inserts: with the old INSERT and UPDATEs, with
 * load_fact_sql, or as load_lines() does (load_fact_rules() in C where
 * it applies, load_fact_plain_sql then, else load_fact_sql). */
enum { OLD, NEW, RULES };

/* The operands of the lines insert_all() makes. */
struct grid {
	const struct v	*q, *p, *a;
	size_t		 nq, np, na;
};

static void
num(const struct v *v, struct fact_num *n)
{
	n->type = v->kind == 0 ? SQLITE_NULL : v->kind == 1 ? SQLITE_INTEGER :
	    v->kind == 2 ? SQLITE_FLOAT : SQLITE_TEXT;
	n->i = v->i;
}

static void
bind_n(sqlite3_stmt *st, int i, const struct fact_num *n)
{
	if (n->type == SQLITE_INTEGER)
		sqlite3_bind_int64(st, i, n->i);
	else
		sqlite3_bind_null(st, i);
}

/* Inserts every line of g; returns the lines load_fact_rules() took. */
static int
insert_all(sqlite3 *db, int how, const struct grid *g)
{
	sqlite3_stmt *st, *sql, *plain, *list;
	size_t q, p, a, k;
	int row = 0, took = 0;

	assert_int_equal(sqlite3_prepare_v2(db, how == OLD ? old_insert :
	    load_fact_sql, -1, &sql, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, load_fact_plain_sql, -1,
	    &plain, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT price FROM"
	    " dim_product WHERE product_sk = ?1", -1, &list, NULL), SQLITE_OK);
	for (q = 0; q < g->nq; q++)
	for (p = 0; p < g->np; p++)
	for (a = 0; a < g->na; a++)
	for (k = 0; k < 5; k++) {	/* product: none, 1, 2, 3, unknown 9 */
		long long psk = k == 4 ? 9 : (long long)k;
		struct fact_num nq, np, na, nl = { SQLITE_NULL, 0 }, rp, ra,
		    rd, rk;
		int lp = 0, c = 0;
		sqlite3_reset(list);
		if (how != OLD && psk > 0) {
			/* as load_lines() binds it */
			sqlite3_bind_int64(list, 1, psk);
			lp = sqlite3_step(list) == SQLITE_ROW;
			if (lp) {
				nl.type = sqlite3_column_type(list, 0);
				nl.i = sqlite3_column_int64(list, 0);
			}
		}
		num(&g->q[q], &nq);
		num(&g->p[p], &np);
		num(&g->a[a], &na);
		if (how == RULES)
			c = load_fact_rules(&nq, &np, &na, &nl, &rp, &ra, &rd,
			    &rk);
		took += c;
		st = c ? plain : sql;
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		sqlite3_bind_text(st, 1, orders[row % N(orders)], -1,
		    SQLITE_STATIC);
		sqlite3_bind_int(st, 2, row);
		sqlite3_bind_text(st, 3, "2024-02-29", -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 6, row % 3 == 0 ? 0 : 5);
		if (psk > 0)
			sqlite3_bind_int64(st, 7, psk);
		bind(st, 10, &g->q[q]);
		bind(st, 11, &g->p[p]);
		bind(st, 12, &g->a[a]);
		sqlite3_bind_text(st, 19, "f", -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 20, row);
		if (c) {
			bind_n(st, 11, &rp);
			bind_n(st, 12, &ra);
			bind_n(st, 21, &rd);
			bind_n(st, 22, &rk);
		} else if (lp)
			sqlite3_bind_value(st, 21, sqlite3_column_value(list,
			    0));
		assert_int_equal(sqlite3_step(st), SQLITE_DONE);
		row++;
	}
	sqlite3_finalize(sql);
	sqlite3_finalize(plain);
	sqlite3_finalize(list);
	if (how == OLD)
		assert_int_equal(sqlite3_exec(db, old_after, NULL, NULL, NULL),
		    SQLITE_OK);
	return took;
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

/* The facts of a and b, line by line (a difference names its fact). */
static void
same_facts(sqlite3 *x, sqlite3 *y, size_t lines)
{
	char *a = dump(x), *b = dump(y);
	char *sa, *sb, *la = strtok_r(a, "\n", &sa),
	    *lb = strtok_r(b, "\n", &sb);
	size_t n = 0;

	while (la != NULL && lb != NULL) {
		assert_string_equal(la, lb);
		la = strtok_r(NULL, "\n", &sa);
		lb = strtok_r(NULL, "\n", &sb);
		n++;
	}
	assert_null(la);
	assert_null(lb);
	assert_int_equal(n, lines);
	free(a);
	free(b);
}

static const struct grid awkward = {
	qtys, prices, amounts, N(qtys), N(prices), N(amounts)
};

static void
test_insert_matches_sql(void **state)
{
	sqlite3 *old = fixture(), *new = fixture(), *c = fixture();
	size_t lines = N(qtys) * N(prices) * N(amounts) * 5;
	int took;

	(void)state;
	insert_all(old, OLD, &awkward);
	insert_all(new, NEW, &awkward);
	took = insert_all(c, RULES, &awkward);
	same_facts(old, new, lines);
	same_facts(new, c, lines);
	/* the C rules took the integer lines, the SQL the others */
	assert_true(took > 0 && (size_t)took < lines);
	/* the UPDATEs' cases occur: prices taken from the list, amounts
	 * from quantity x that price */
	assert_true(derived(old) > 0);
	assert_int_equal(derived(new), derived(old));
	assert_int_equal(derived(c), derived(old));
	assert_int_equal(sqlite3_exec(old, "CREATE TEMP TABLE seen AS SELECT"
	    " 1 FROM fact_sales WHERE amount_derived AND unit_price = 30000 AND"
	    " quantity = 2 AND amount = 60000", NULL, NULL, NULL), SQLITE_OK);
	assert_true(sqlite3_changes(old) > 0);
	sqlite3_close(old);
	sqlite3_close(new);
	sqlite3_close(c);
}

/* Integer and NULL operands only, the extremes of 64 bits among them:
 * the C rules give what load_fact_sql stores (the overflowing ones left
 * to the SQL, which computes them in REAL). */
static const struct v iq[] = {
	{ 0, 0, 0, NULL }, { 1, 0, 0, NULL }, { 1, 1, 0, NULL },
	{ 1, 3, 0, NULL }, { 1, -2, 0, NULL },
	{ 1, 4611686018427387904LL, 0, NULL },
	{ 1, -9223372036854775807LL - 1, 0, NULL },
};
static const struct v ip[] = {
	{ 0, 0, 0, NULL }, { 1, 0, 0, NULL }, { 1, 1, 0, NULL },
	{ 1, 33333, 0, NULL }, { 1, -7, 0, NULL },
	{ 1, 9223372036854775807LL, 0, NULL },
};
static const struct v ia[] = {
	{ 0, 0, 0, NULL }, { 1, 0, 0, NULL }, { 1, 1, 0, NULL },
	{ 1, 100000, 0, NULL }, { 1, 99999, 0, NULL }, { 1, -40, 0, NULL },
	{ 1, 4611686018427387903LL, 0, NULL },
	{ 1, 9223372036854775807LL, 0, NULL },
};

static void
test_rules_integers(void **state)
{
	static const struct grid g = { iq, ip, ia, N(iq), N(ip), N(ia) };
	sqlite3 *new = fixture(), *c = fixture();
	size_t lines = N(iq) * N(ip) * N(ia) * 5;
	struct fact_num q = { SQLITE_INTEGER, 3 }, p = { SQLITE_NULL, 0 },
	    a = { SQLITE_INTEGER, 100000 }, l = { SQLITE_NULL, 0 }, rp, ra,
	    rd, rk;
	int took;

	(void)state;
	insert_all(new, NEW, &g);
	took = insert_all(c, RULES, &g);
	same_facts(new, c, lines);
	/* most lines in C; the REAL list price (product 3) and the
	 * overflows not */
	assert_true((size_t)took > lines / 2 && (size_t)took < lines);
	/* one line worked by hand: a price from 100000 / 3 rounded half
	 * away from zero, the amount kept, derived */
	assert_int_equal(load_fact_rules(&q, &p, &a, &l, &rp, &ra, &rd, &rk),
	    1);
	assert_int_equal(rp.type, SQLITE_INTEGER);
	assert_int_equal(rp.i, 33333);
	assert_int_equal(ra.i, 100000);
	assert_int_equal(rd.i, 1);
	assert_int_equal(rk.type, SQLITE_NULL);
	/* a REAL or a text operand is the SQL's */
	p.type = SQLITE_FLOAT;
	assert_int_equal(load_fact_rules(&q, &p, &a, &l, &rp, &ra, &rd, &rk),
	    0);
	p.type = SQLITE_TEXT;
	assert_int_equal(load_fact_rules(&q, &p, &a, &l, &rp, &ra, &rd, &rk),
	    0);
	sqlite3_close(new);
	sqlite3_close(c);
}

/* ---- the staged lines' reader (lines_open(): sorted runs merged) ---- */

static const char *const stg_sql =
	"CREATE TABLE IF NOT EXISTS stg_order_line (_file_id TEXT NOT NULL,"
	" _row INTEGER NOT NULL, order_id TEXT, line_number INTEGER,"
	" order_date DATE, ship_date DATE, due_date DATE, customer_id TEXT,"
	" product_id TEXT, quantity INTEGER, unit_price MONEY, amount MONEY,"
	" discount MONEY, tax MONEY, shipping_cost MONEY, status TEXT,"
	" payment_status TEXT, payment_method TEXT, PRIMARY KEY (_file_id,"
	" _row))";

static unsigned long long lcg = 42;

static unsigned
rnd(unsigned n)
{
	lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned)((lcg >> 33) % n);
}

/*
 * Every line the reader gives, in its order, each as the quote() of all
 * its columns, against SQLite's own ORDER BY order_id, line_number,
 * rowid DESC of the same table; *runs gets lines_runs().  With plan_db,
 * the runs are found there (lines_plan()) and read on db
 * (lines_open_planned()).
 */
static void
same_as_order_by_planned(sqlite3 *db, sqlite3 *plan_db, size_t max_runs,
    size_t *runs)
{
	struct lines *L = NULL;
	sqlite3_stmt *st, *ref;
	char *a, *b;
	size_t n = 0;
	int rc, i;

	assert_int_equal(sqlite3_prepare_v2(db, "SELECT rowid, _file_id,"
	    " _row, order_id, line_number, order_date, ship_date, due_date,"
	    " customer_id, product_id, quantity, unit_price, amount, discount,"
	    " tax, shipping_cost, status, payment_status, payment_method FROM"
	    " stg_order_line ORDER BY order_id, line_number, rowid DESC", -1,
	    &ref, NULL), SQLITE_OK);
	if (plan_db == NULL)
		assert_int_equal(lines_open(db, max_runs, &L), CC_OK);
	else {
		struct lines_plan p;
		assert_int_equal(lines_plan(plan_db, max_runs, &p), CC_OK);
		assert_true(p.ok);
		assert_int_equal(lines_open_planned(db, &p, &L), CC_OK);
		lines_plan_free(&p);
	}
	assert_non_null(lines_stmt(L));
	*runs = lines_runs(L);
	while ((rc = lines_next(L, &st)) == SQLITE_ROW) {
		assert_int_equal(sqlite3_step(ref), SQLITE_ROW);
		assert_int_equal(sqlite3_column_count(st), 19);
		for (i = 0; i < 19; i++) {
			a = sqlite3_mprintf("%d:%s", sqlite3_column_type(st, i),
			    sqlite3_column_text(st, i));
			b = sqlite3_mprintf("%d:%s", sqlite3_column_type(ref,
			    i), sqlite3_column_text(ref, i));
			if (strcmp(a, b) != 0)
				fail_msg("line %zu, column %d: %s, want %s", n,
				    i, a, b);
			sqlite3_free(a);
			sqlite3_free(b);
		}
		n++;
	}
	assert_int_equal(rc, SQLITE_DONE);
	assert_int_equal(sqlite3_step(ref), SQLITE_DONE);
	assert_int_equal(lines_next(L, &st), SQLITE_DONE);
	lines_close(L);
	sqlite3_finalize(ref);
}

static void
same_as_order_by(sqlite3 *db, size_t max_runs, size_t *runs)
{
	same_as_order_by_planned(db, NULL, max_runs, runs);
}

static void
line(sqlite3_stmt *ins, int run, int row, const char *oid, long long ln,
    int ln_null)
{
	char f[16];

	snprintf(f, sizeof(f), "f%d", run);
	sqlite3_reset(ins);
	sqlite3_bind_text(ins, 1, f, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(ins, 2, row);
	if (oid != NULL)
		sqlite3_bind_text(ins, 3, oid, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(ins, 3);
	if (ln_null)
		sqlite3_bind_null(ins, 4);
	else
		sqlite3_bind_int64(ins, 4, ln);
	sqlite3_bind_int(ins, 5, rnd(1000));
	assert_int_equal(sqlite3_step(ins), SQLITE_DONE);
}

/*
 * Runs of strictly increasing (order_id, line_number) written one after
 * the other, each starting at or below where the one before ended (so
 * each is a run of its own), sharing keys (the lines a later file
 * supersedes), with NULL order ids and line numbers, text line numbers
 * and text order ids by bytes ("SO9" after "SO00123"): the reader merges exactly the
 * runs written and gives SQLite's order; with fewer runs allowed than
 * there are, or a REAL key, it reads through ORDER BY, in the same order.
 */
static void
test_lines_merged(void **state)
{
	sqlite3 *db;
	sqlite3_stmt *ins;
	char oid[32];
	size_t runs;
	int r, k, row = 0, nruns = 9;

	(void)state;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, stg_sql, NULL, NULL, NULL),
	    SQLITE_OK);
	/* no line at all */
	same_as_order_by(db, LINES_RUNS_MAX, &runs);
	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO stg_order_line"
	    " (_file_id, _row, order_id, line_number, quantity) VALUES (?1, ?2,"
	    " ?3, ?4, ?5)", -1, &ins, NULL), SQLITE_OK);
	for (r = 0; r < nruns; r++) {
		int o = (int)rnd(5), n = 40 + (int)rnd(80);
		if (r % 3 == 0)
			line(ins, r, ++row, NULL, 0, 1);	/* NULLs first */
		if (r % 4 == 1)
			line(ins, r, ++row, NULL, 2, 0);
		for (k = 0; k < n; k++) {
			int lines = 1 + (int)rnd(3), l;
			snprintf(oid, sizeof(oid), "SO%05d", o);
			for (l = 1; l <= lines; l++)
				line(ins, r, ++row, oid, l, 0);
			o += 1 + (int)rnd(3);
		}
	}
	/* a text line number sorts after the integers of its order; "SO9"
	 * follows the last run's "SO00..." (bytes, not numbers) */
	sqlite3_reset(ins);
	assert_int_equal(sqlite3_exec(db, "INSERT INTO stg_order_line"
	    " (_file_id, _row, order_id, line_number) VALUES ('g', 1, 'SO9',"
	    " 'x'), ('g', 2, 'SO90', 'y'), ('g', 3, 'SO90', 1)", NULL, NULL,
	    NULL), SQLITE_OK);
	same_as_order_by(db, LINES_RUNS_MAX, &runs);
	/* the runs written, and one more where 'SO90', 1 follows 'SO90',
	 * 'y' (an integer sorts before text) */
	assert_int_equal(runs, (size_t)nruns + 1);
	same_as_order_by(db, (size_t)nruns, &runs);
	assert_int_equal(runs, 0);
	same_as_order_by(db, 0, &runs);
	assert_int_equal(runs, 0);
	/* a REAL line number: read through ORDER BY */
	assert_int_equal(sqlite3_exec(db, "INSERT INTO stg_order_line"
	    " (_file_id, _row, order_id, line_number) VALUES ('h', 1, 'SO95',"
	    " 1.5)", NULL, NULL, NULL), SQLITE_OK);
	same_as_order_by(db, LINES_RUNS_MAX, &runs);
	assert_int_equal(runs, 0);
	sqlite3_finalize(ins);
	sqlite3_close(db);
}

/*
 * The runs found on one connection (lines_plan()) read on another to the
 * same file (lines_open_planned(): the load reads the runs its reconcile
 * phase's thread found): the same lines in SQLite's order, the same runs
 * as lines_open() finds; none (the ORDER BY statement) with more runs
 * than allowed.
 */
static void
test_lines_planned_elsewhere(void **state)
{
	char dir[] = "/tmp/test_load.XXXXXX", path[64];
	sqlite3 *a, *b;
	sqlite3_stmt *ins;
	char oid[32];
	size_t runs, want;
	int r, k, row = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/m.db", dir);
	assert_int_equal(sqlite3_open(path, &a), SQLITE_OK);
	assert_int_equal(sqlite3_exec(a, stg_sql, NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(a, "INSERT INTO stg_order_line"
	    " (_file_id, _row, order_id, line_number, quantity) VALUES (?1, ?2,"
	    " ?3, ?4, ?5)", -1, &ins, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(a, "BEGIN", NULL, NULL, NULL),
	    SQLITE_OK);
	for (r = 0; r < 7; r++)
		for (k = 0; k < 300; k++) {
			snprintf(oid, sizeof(oid), "SO%05d", k * 3 + (int)rnd(3));
			line(ins, r, ++row, oid, 1 + (int)rnd(2), 0);
		}
	sqlite3_finalize(ins);
	assert_int_equal(sqlite3_exec(a, "COMMIT", NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_open(path, &b), SQLITE_OK);
	same_as_order_by(a, LINES_RUNS_MAX, &want);
	assert_true(want >= 7);
	same_as_order_by_planned(a, b, LINES_RUNS_MAX, &runs);
	assert_int_equal(runs, want);
	same_as_order_by_planned(b, a, LINES_RUNS_MAX, &runs);
	assert_int_equal(runs, want);
	same_as_order_by_planned(b, a, 3, &runs);
	assert_int_equal(runs, 0);
	sqlite3_close(a);
	sqlite3_close(b);
	unlink(path);
	rmdir(dir);
}

/* A table in one run (every key after the one before) is one range;
 * equal keys next to each other start a new run. */
static void
test_lines_one_run(void **state)
{
	sqlite3 *db;
	size_t runs;

	(void)state;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, stg_sql, NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "INSERT INTO stg_order_line"
	    " (_file_id, _row, order_id, line_number) VALUES ('a', 1, 'A', 1),"
	    " ('a', 2, 'A', 2), ('a', 3, 'B', 1), ('a', 4, 'C', 1)", NULL, NULL,
	    NULL), SQLITE_OK);
	same_as_order_by(db, LINES_RUNS_MAX, &runs);
	assert_int_equal(runs, 1);
	assert_int_equal(sqlite3_exec(db, "INSERT INTO stg_order_line"
	    " (_file_id, _row, order_id, line_number) VALUES ('a', 5, 'C', 1),"
	    " ('a', 6, 'C', 1), ('a', 7, 'D', 1)", NULL, NULL, NULL),
	    SQLITE_OK);
	same_as_order_by(db, LINES_RUNS_MAX, &runs);
	assert_int_equal(runs, 3);
	sqlite3_close(db);
}

/*
 * load_date_key() against the statement's CAST(replace(?, '-', '') AS
 * INTEGER) on the same value: where it answers, the same key; it
 * answers the cleaned form (YYYY-MM-DD) and leaves every other one to
 * the statement (a short, long, spaced, signed, non-digit or non-ASCII
 * text, a blob, a number, NULL).
 */
static void
test_date_key(void **state)
{
	static const struct { const char *s; int answers; } cases[] = {
		{ "2024-01-15", 1 }, { "0000-00-00", 1 }, { "9999-12-31", 1 },
		{ "1970-02-30", 1 },	/* the statement does not check it */
		{ "2024-1-15", 0 }, { "2024-01-1", 0 }, { " 2024-01-15", 0 },
		{ "2024-01-15 ", 0 }, { "+024-01-15", 0 }, { "-024-01-15", 0 },
		{ "2024/01/15", 0 }, { "2024-01-1x", 0 }, { "20240115", 0 },
		{ "2024-01-15T10:00", 0 }, { "2O24-01-15", 0 }, { "", 0 },
		{ "\xd9\xa2" "024-01-15", 0 },
	};
	sqlite3 *db;
	sqlite3_stmt *st;
	long long key;
	size_t i;

	(void)state;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT CAST(replace(?1, '-',"
	    " '') AS INTEGER)", -1, &st, NULL), SQLITE_OK);
	for (i = 0; i < N(cases); i++) {
		int len = (int)strlen(cases[i].s);
		key = -1;
		assert_int_equal(load_date_key(SQLITE_TEXT, cases[i].s, len,
		    &key), cases[i].answers);
		if (!cases[i].answers) {
			assert_int_equal(key, -1);	/* untouched */
			continue;
		}
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, cases[i].s, len, SQLITE_STATIC);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_int_equal(sqlite3_column_type(st, 0), SQLITE_INTEGER);
		assert_int_equal(key, sqlite3_column_int64(st, 0));
	}
	/* a text's bytes only: ten of a longer buffer */
	assert_int_equal(load_date_key(SQLITE_TEXT, "2024-01-15xyz", 10, &key),
	    1);
	assert_int_equal(key, 20240115);
	/* other storage classes, and no bytes */
	assert_int_equal(load_date_key(SQLITE_BLOB, "2024-01-15", 10, &key), 0);
	assert_int_equal(load_date_key(SQLITE_INTEGER, "2024-01-15", 10, &key),
	    0);
	assert_int_equal(load_date_key(SQLITE_NULL, NULL, 0, &key), 0);
	assert_int_equal(load_date_key(SQLITE_TEXT, NULL, 10, &key), 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_insert_matches_sql),
		cmocka_unit_test(test_date_key),
		cmocka_unit_test(test_rules_integers),
		cmocka_unit_test(test_lines_merged),
		cmocka_unit_test(test_lines_one_run),
		cmocka_unit_test(test_lines_planned_elsewhere),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
