/*
 * test_dashboard.c - the dashboards (concord/dashboard.h): filters
 * accepted and refused, every tile and series of each dashboard on a
 * fixture built here (model_create() into the workspace's model.db,
 * attached as a run leaves it, then a handful of INSERTs) against
 * values worked out by hand in the comments, filters narrowing, type-2
 * history (facts stay with the version valid on their date), NULL
 * groups, half-to-even averages, money formatting at the int64 limits,
 * an empty workspace and an empty model, a model of another shape (an
 * error, not a crash), and the integration fixture's DDL against
 * model_create() (tests/integration/fixtures/dashboards.sql).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "concord/dashboard.h"
#include "concord/db.h"
#include "concord/model.h"
#include "concord/segment.h"
#include "concord/schema.h"
#include "concord/util.h"
#include "concord/workspace.h"

#ifndef SRCDIR
#define SRCDIR "."
#endif

#define NOW	1735689600	/* 2025-01-01T00:00:00Z */

/* ---- helpers --------------------------------------------------------- */

struct fx {
	char			 dir[64];
	struct workspace	*ws;
};

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/concord-dash-XXXXXX");
	if (mkdtemp(fx->dir) == NULL ||
	    ws_open(fx->dir, "u1", &fx->ws, NULL) != CC_OK) {
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

/*
 * Runs sql on a new DIR/model.db of the workspace (NULL: model_create()
 * only), then reopens the workspace, which attaches it as "model": the
 * layout a run leaves (concord/pipeline.h).
 */
static int
with_model(struct fx *fx, const char *sql)
{
	char path[PATH_MAX + 16];
	sqlite3 *m = NULL;
	int rc = -1;

	snprintf(path, sizeof(path), "%s/model.db", fx->ws->dir);
	if (sqlite3_open(path, &m) == SQLITE_OK &&
	    (sql != NULL ? db_exec(m, sql, NULL) : model_create(m, NULL)) ==
	    CC_OK)
		rc = 0;
	sqlite3_close(m);
	ws_close(fx->ws);
	fx->ws = NULL;
	if (ws_open(fx->dir, "u1", &fx->ws, NULL) != CC_OK)
		return -1;
	return rc;
}

/* A workspace with the model's (empty) tables in model.db. */
static int
setup_model(void **state)
{
	if (setup(state) != 0)
		return -1;
	return with_model(*state, NULL);
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	char cmd[128];
	int rc;

	ws_close(fx->ws);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	rc = system(cmd);
	free(fx);
	return rc == 0 ? 0 : -1;
}

static sqlite3 *
db_of(void **state)
{
	return ((struct fx *)*state)->ws->db;
}

static void
exec(sqlite3 *db, const char *sql)
{
	struct cc_diag d;

	cc_diag_clear(&d);
	if (db_exec(db, sql, &d) != CC_OK)
		fail_msg("SQL failed: %s\n%s", d.message, sql);
}

/* 1 if db has the model's aggregate tables (model_create() made them). */
static int
has_aggregates(sqlite3 *db)
{
	sqlite3_stmt *st;
	int yes;

	assert_int_equal(sqlite3_prepare_v2(db, "SELECT 1 FROM"
	    " pragma_table_info('agg_dashboard')", -1, &st, NULL), SQLITE_OK);
	yes = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return yes;
}

/*
 * The aggregates give the facts' own figures: doc (built from the facts)
 * equals the document built again after dash_aggregate() filled the
 * aggregates of what the model holds now, through dash_build_limited()
 * with generous limits.  The aggregates are emptied again afterwards, so
 * that the test's next statements change the facts only.  Models
 * without the aggregate tables (a fixture of its own) are skipped.
 */
static void
same_from_aggregates(sqlite3 *db, enum dash_name k,
    const struct dash_filters *f, json_t *doc)
{
	struct dash_limits lim = { 60000, NULL, NULL };
	struct cc_diag d;
	json_t *again = NULL;
	sqlite3 *m = NULL;
	char *a, *b;

	if (!has_aggregates(db))
		return;
	/* as a run does: on the model's own connection, the model as main */
	assert_int_equal(sqlite3_open(sqlite3_db_filename(db, "model"), &m),
	    SQLITE_OK);
	cc_diag_clear(&d);
	if (dash_aggregate(m, &d) != CC_OK)
		fail_msg("dash_aggregate: %s", d.message);
	sqlite3_close(m);
	cc_diag_clear(&d);
	if (dash_build_limited(db, k, f, NOW, &lim, &again, &d) != CC_OK)
		fail_msg("dashboard %s from the aggregates: %s",
		    dash_name_str(k), d.message);
	if (!json_equal(doc, again)) {
		a = json_dumps(doc, JSON_SORT_KEYS | JSON_COMPACT);
		b = json_dumps(again, JSON_SORT_KEYS | JSON_COMPACT);
		fail_msg("%s differs from the aggregates:\nfacts      %s\n"
		    "aggregates %s", dash_name_str(k), a, b);
	}
	json_decref(again);
	exec(db, "DELETE FROM agg_sales_order; DELETE FROM agg_sales_product;"
	    " DELETE FROM agg_product_sales; DELETE FROM agg_dashboard;"
	    " DELETE FROM agg_source_groups;");
}

/*
 * Builds dashboard name with the filters of query ("k=v&k=v", values
 * not encoded; NULL: none); fails the test unless it succeeds.
 */
static json_t *
build(sqlite3 *db, const char *name, const char *query)
{
	struct dash_filters f;
	struct cc_diag d;
	char *copy, *part, *save = NULL, *eq;
	json_t *doc = NULL;
	int k = dash_lookup(name);

	assert_true(k >= 0);
	dash_filters_init(&f);
	if (query != NULL) {
		copy = strdup(query);
		assert_non_null(copy);
		for (part = strtok_r(copy, "&", &save); part != NULL;
		    part = strtok_r(NULL, "&", &save)) {
			eq = strchr(part, '=');
			assert_non_null(eq);
			*eq++ = '\0';
			cc_diag_clear(&d);
			if (dash_filter_add(&f, (enum dash_name)k, part, eq,
			    &d) != CC_OK)
				fail_msg("filter %s=%s refused: %s", part, eq,
				    d.message);
		}
		free(copy);
	}
	cc_diag_clear(&d);
	if (dash_build(db, (enum dash_name)k, &f, NOW, &doc, &d) != CC_OK)
		fail_msg("dashboard %s: %s", name, d.message);
	assert_non_null(doc);
	same_from_aggregates(db, (enum dash_name)k, &f, doc);
	dash_filters_free(&f);
	return doc;
}

/* The value at a dotted path ("series.by_month.0.revenue"), or NULL. */
static json_t *
at(json_t *doc, const char *path)
{
	char buf[256], *part, *save = NULL, *end;
	json_t *v = doc;
	long i;

	snprintf(buf, sizeof(buf), "%s", path);
	for (part = strtok_r(buf, ".", &save); v != NULL && part != NULL;
	    part = strtok_r(NULL, ".", &save)) {
		if (json_is_array(v)) {
			i = strtol(part, &end, 10);
			v = *end == '\0' ? json_array_get(v, (size_t)i) : NULL;
		} else
			v = json_object_get(v, part);
	}
	return v;
}

static void
want_str(json_t *doc, const char *path, const char *want)
{
	json_t *v = at(doc, path);

	if (!json_is_string(v) || strcmp(json_string_value(v), want) != 0) {
		char *s = v != NULL ? json_dumps(v, JSON_ENCODE_ANY) : NULL;
		fail_msg("%s: got %s, want \"%s\"", path, s != NULL ? s :
		    "(absent)", want);
	}
}

static void
want_int(json_t *doc, const char *path, long long want)
{
	json_t *v = at(doc, path);

	if (!json_is_integer(v) || json_integer_value(v) != want) {
		char *s = v != NULL ? json_dumps(v, JSON_ENCODE_ANY) : NULL;
		fail_msg("%s: got %s, want %lld", path, s != NULL ? s :
		    "(absent)", want);
	}
}

static void
want_null(json_t *doc, const char *path)
{
	json_t *v = at(doc, path);

	if (!json_is_null(v)) {
		char *s = v != NULL ? json_dumps(v, JSON_ENCODE_ANY) : NULL;
		fail_msg("%s: got %s, want null", path, s != NULL ? s :
		    "(absent)");
	}
}

static void
want_len(json_t *doc, const char *path, size_t want)
{
	json_t *v = at(doc, path);

	if (!json_is_array(v) || json_array_size(v) != want)
		fail_msg("%s: got %zu elements, want %zu", path,
		    json_is_array(v) ? json_array_size(v) : (size_t)-1, want);
}

/* One group of a series: key value (NULL: JSON null) and its figures,
 * checked in order. */
static void
want_group(json_t *doc, const char *series, size_t i, const char *key,
    const char *value, const char *revenue, long long orders)
{
	char p[128];

	snprintf(p, sizeof(p), "series.%s.%zu.%s", series, i, key);
	if (value != NULL)
		want_str(doc, p, value);
	else
		want_null(doc, p);
	snprintf(p, sizeof(p), "series.%s.%zu.revenue", series, i);
	want_str(doc, p, revenue);
	snprintf(p, sizeof(p), "series.%s.%zu.orders", series, i);
	want_int(doc, p, orders);
}

/* "123.45" / "-0.05" / "0.001" -> units of 10^-4 (read digit by digit,
 * not with the formatter's own parser). */
static long long
cents(json_t *v)
{
	const char *s = json_string_value(v);
	long long c = 0;
	int neg, frac = -1;

	assert_non_null(s);
	neg = *s == '-';
	for (s += neg; *s != '\0'; s++)
		if (*s == '.')
			frac = 0;
		else {
			c = c * 10 + (*s - '0');
			frac += frac >= 0;
		}
	for (; frac < 4; frac = frac < 0 ? 1 : frac + 1)
		c *= 10;
	return neg ? -c : c;
}

/* ---- the fixture ----------------------------------------------------- */

/*
 * Customers: 101 (Ada) moved from GB to FR on 2024-03-01 and changed her
 * name (versions sk 1 and 2; the current one merged two source
 * records); 102 has first and last names only (Bob Stone, US); 103 has
 * no country, gender nor created_date and lineage that is not JSON.
 * Products: 201 Widget (Tools, 10.00); 202 Gadget, renamed Gadget II on
 * 2024-03-01 (Toys, 20.50, sk 11 and 12); 203 Thing (no category, no
 * price).  Orders:
 *   O1 2024-01-15 Ada (sk 1, GB)  line 1 Widget    x1  10.00
 *   O2 2024-02-10 Bob (US)        line 1 Gadget    x2  15.00
 *                                 line 2 Thing     x1   5.50
 *   O3 2024-03-05 Ada (sk 2, FR)  line 1 Gadget II x1   5.25
 * so three orders of 10.00, 20.50 and 5.25.
 */
static const char base_sql[] =
	"INSERT INTO dim_customer (customer_sk, canonical_id, natural_key,"
	" first_name, last_name, full_name, gender, country, segment,"
	" created_date, valid_from, valid_to, is_current, version, sources)"
	" VALUES"
	" (1, 101, 'A', 'Ada', 'Lovelace', 'Ada Lovelace', 'F', 'GB',"
	"  'consumer', '2023-11-05', '2023-01-01', '2024-02-29', 0, 1,"
	"  '[{\"file_id\":\"f1\",\"row\":1}]'),"
	" (2, 101, 'A', 'Ada', 'King', 'Ada King', 'F', 'FR', 'consumer',"
	"  '2023-11-05', '2024-03-01', NULL, 1, 2,"
	"  '[{\"file_id\":\"f1\",\"row\":1},{\"file_id\":\"f2\",\"row\":3}]'),"
	" (3, 102, 'B', 'Bob', 'Stone', NULL, 'M', 'US', 'consumer',"
	"  '2024-01-20', '2023-01-01', NULL, 1, 1,"
	"  '[{\"file_id\":\"f1\",\"row\":2}]'),"
	" (4, 103, 'C', NULL, NULL, 'Cy Null', NULL, NULL, 'corporate',"
	"  NULL, '2023-01-01', NULL, 1, 1, 'garbage');"
	"INSERT INTO dim_product (product_sk, canonical_id, natural_key, name,"
	" category, price, valid_from, valid_to, is_current, version, sources)"
	" VALUES"
	" (10, 201, 'W', 'Widget', 'Tools', 100000, '2023-01-01', NULL, 1,"
	"  1,"
	"  '[{\"file_id\":\"f3\",\"row\":1}]'),"
	" (11, 202, 'G', 'Gadget', 'Toys', 205000, '2023-01-01',"
	"  '2024-02-29',"
	"  0, 1, '[{\"file_id\":\"f3\",\"row\":2}]'),"
	" (12, 202, 'G', 'Gadget II', 'Toys', 205000, '2024-03-01', NULL,"
	"  1, 2,"
	"  '[{\"file_id\":\"f3\",\"row\":3}]'),"
	" (13, 203, 'T', 'Thing', NULL, NULL, '2023-01-01', NULL, 1, 1, NULL);"
	"INSERT INTO fact_sales (order_id, line_number, date_key, order_date,"
	" customer_sk, product_sk, customer_canonical_id,"
	" product_canonical_id, quantity, amount, _file_id, _row) VALUES"
	" ('O1', 1, 20240115, '2024-01-15', 1, 10, 101, 201, 1, 100000,"
	"  'f2', 1),"
	" ('O2', 1, 20240210, '2024-02-10', 3, 11, 102, 202, 2, 150000,"
	"  'f2', 2),"
	" ('O2', 2, 20240210, '2024-02-10', 3, 13, 102, 203, 1, 55000,"
	"  'f2', 3),"
	" ('O3', 1, 20240305, '2024-03-05', 2, 12, 101, 202, 1, 52500,"
	"  'f2', 4);";

/* ---- names and filters ----------------------------------------------- */

static void
test_lookup_and_catalogue(void **state)
{
	json_t *c;
	size_t i;

	(void)state;
	assert_int_equal(dash_lookup("sales"), DASH_SALES);
	assert_int_equal(dash_lookup("customers"), DASH_CUSTOMERS);
	assert_int_equal(dash_lookup("products"), DASH_PRODUCTS);
	assert_int_equal(dash_lookup("quality"), DASH_QUALITY);
	assert_int_equal(dash_lookup("sources"), DASH_SOURCES);
	assert_int_equal(dash_lookup("Sales"), -1);
	assert_int_equal(dash_lookup(""), -1);
	assert_int_equal(dash_lookup(NULL), -1);
	assert_int_equal(dash_lookup("sales.json"), -1);
	assert_null(dash_name_str(DASH__MAX));
	for (i = 0; i < DASH__MAX; i++)
		assert_int_equal(dash_lookup(dash_name_str((enum dash_name)i)),
		    (int)i);
	c = dash_catalogue();
	assert_non_null(c);
	assert_int_equal(json_array_size(c), DASH__MAX);
	want_str(c, "0.name", "sales");
	want_str(c, "0.filters.0", "from");
	want_str(c, "0.filters.3", "category");
	want_len(c, "1.filters", 0);
	json_decref(c);
}

static void
test_filters_accepted(void **state)
{
	struct dash_filters f;
	struct cc_diag d;
	json_t *j;

	(void)state;
	dash_filters_init(&f);
	assert_int_equal(dash_filter_add(&f, DASH_SALES, "from", "2024-02-29",
	    &d), CC_OK);				/* leap day */
	assert_int_equal(dash_filter_add(&f, DASH_SALES, "to", "2024-02-29",
	    &d), CC_OK);				/* from == to */
	/* comma-separated, repeated, lower case, spaces, duplicates */
	assert_int_equal(dash_filter_add(&f, DASH_SALES, "country",
	    "us, de", &d), CC_OK);
	assert_int_equal(dash_filter_add(&f, DASH_SALES, "country", "FR",
	    &d), CC_OK);
	assert_int_equal(dash_filter_add(&f, DASH_SALES, "country", "US",
	    &d), CC_OK);
	assert_int_equal(f.ncountry, 3);
	assert_string_equal(f.country[0], "US");
	assert_string_equal(f.country[1], "DE");
	assert_string_equal(f.country[2], "FR");
	/* a category may hold commas and non-ASCII; one per parameter */
	assert_int_equal(dash_filter_add(&f, DASH_SALES, "category",
	    "Bikes, Road", &d), CC_OK);
	assert_int_equal(dash_filter_add(&f, DASH_SALES, "category",
	    "V\xc3\xa9los", &d), CC_OK);
	assert_int_equal(dash_filter_add(&f, DASH_SALES, "category",
	    "Bikes, Road", &d), CC_OK);
	assert_int_equal(f.ncategory, 2);
	j = dash_filters_json(&f, DASH_SALES);
	want_str(j, "from", "2024-02-29");
	want_str(j, "to", "2024-02-29");
	want_len(j, "country", 3);
	want_str(j, "country.2", "FR");
	want_str(j, "category.0", "Bikes, Road");
	json_decref(j);
	dash_filters_free(&f);
	assert_int_equal(f.ncategory, 0);
	/* no filter: nulls and empty lists; other dashboards: {} */
	j = dash_filters_json(&f, DASH_SALES);
	want_null(j, "from");
	want_null(j, "to");
	want_len(j, "country", 0);
	want_len(j, "category", 0);
	json_decref(j);
	j = dash_filters_json(&f, DASH_QUALITY);
	assert_true(json_is_object(j) && json_object_size(j) == 0);
	json_decref(j);
}

/* Each refused value, alone in fresh filters, with its code. */
static void
test_filters_refused(void **state)
{
	static const struct {
		enum dash_name	 d;
		const char	*key, *value, *code;
	} bad[] = {
		{ DASH_SALES, "from", "2024-1-01", "filter_date" },
		{ DASH_SALES, "from", "2024-02-30", "filter_date" },
		{ DASH_SALES, "from", "2023-02-29", "filter_date" },
		{ DASH_SALES, "from", "1900-02-29", "filter_date" },
		{ DASH_SALES, "to", "2024-13-01", "filter_date" },
		{ DASH_SALES, "to", "2024-00-10", "filter_date" },
		{ DASH_SALES, "to", "2024-04-31", "filter_date" },
		{ DASH_SALES, "to", "0000-01-01", "filter_date" },
		{ DASH_SALES, "from", "2024-01-01T00:00:00Z", "filter_date" },
		{ DASH_SALES, "from", "yesterday", "filter_date" },
		{ DASH_SALES, "from", "", "filter_date" },
		{ DASH_SALES, "from", "2024/01/01", "filter_date" },
		{ DASH_SALES, "from", "+2024-1-1", "filter_date" },
		{ DASH_SALES, "country", "USA", "filter_country" },
		{ DASH_SALES, "country", "U1", "filter_country" },
		{ DASH_SALES, "country", "U", "filter_country" },
		{ DASH_SALES, "country", "", "filter_country" },
		{ DASH_SALES, "country", "US,", "filter_country" },
		{ DASH_SALES, "country", "US,,DE", "filter_country" },
		{ DASH_SALES, "country", "U S", "filter_country" },
		{ DASH_SALES, "country", "\xc3\x9c\x53", "filter_country" },
		{ DASH_SALES, "category", "", "filter_category" },
		{ DASH_SALES, "category", "bad \xff byte", "filter_category" },
		{ DASH_SALES, "category", "\xc0\xaf", "filter_category" },
		{ DASH_SALES, "category", "\xed\xa0\x80", "filter_category" },
		{ DASH_SALES, "countries", "US", "filter_unknown" },
		{ DASH_SALES, "FROM", "2024-01-01", "filter_unknown" },
		{ DASH_SALES, "", "x", "filter_unknown" },
		{ DASH_CUSTOMERS, "country", "US", "filter_unknown" },
		{ DASH_PRODUCTS, "from", "2024-01-01", "filter_unknown" },
		{ DASH_QUALITY, "category", "x", "filter_unknown" },
		{ DASH_SOURCES, "to", "2024-01-01", "filter_unknown" },
	};
	struct dash_filters f;
	struct cc_diag d;
	char big[DASH_MAX_VALUE_LEN + 2], v[8];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		dash_filters_init(&f);
		cc_diag_clear(&d);
		if (dash_filter_add(&f, bad[i].d, bad[i].key, bad[i].value,
		    &d) != CC_EINVAL)
			fail_msg("%s=%s accepted", bad[i].key, bad[i].value);
		if (strcmp(d.code, bad[i].code) != 0)
			fail_msg("%s=%s: code %s, want %s", bad[i].key,
			    bad[i].value, d.code, bad[i].code);
		assert_true(d.message[0] != '\0');
		dash_filters_free(&f);
	}
	/* twice the same date filter; from after to in either order */
	dash_filters_init(&f);
	assert_int_equal(dash_filter_add(&f, DASH_SALES, "from", "2024-01-01",
	    &d), CC_OK);
	assert_int_equal(dash_filter_add(&f, DASH_SALES, "from", "2024-01-01",
	    &d), CC_EINVAL);
	assert_string_equal(d.code, "filter_repeated");
	assert_int_equal(dash_filter_add(&f, DASH_SALES, "to", "2023-12-31",
	    &d), CC_EINVAL);
	assert_string_equal(d.code, "filter_range");
	dash_filters_free(&f);
	assert_int_equal(dash_filter_add(&f, DASH_SALES, "to", "2023-12-31",
	    &d), CC_OK);
	assert_int_equal(dash_filter_add(&f, DASH_SALES, "from", "2024-01-01",
	    &d), CC_EINVAL);
	assert_string_equal(d.code, "filter_range");
	dash_filters_free(&f);
	/* a category of exactly the limit passes, one byte more fails */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(dash_filter_add(&f, DASH_SALES, "category", big, &d),
	    CC_EINVAL);
	big[DASH_MAX_VALUE_LEN] = '\0';
	assert_int_equal(dash_filter_add(&f, DASH_SALES, "category", big, &d),
	    CC_OK);
	dash_filters_free(&f);
	/* at most DASH_MAX_VALUES distinct values (AA, AB, ...) */
	for (i = 0; i < DASH_MAX_VALUES; i++) {
		snprintf(v, sizeof(v), "%c%c", 'A' + (int)(i / 26),
		    'A' + (int)(i % 26));
		assert_int_equal(dash_filter_add(&f, DASH_SALES, "country", v,
		    &d), CC_OK);
		snprintf(v, sizeof(v), "c%zu", i);
		assert_int_equal(dash_filter_add(&f, DASH_SALES, "category", v,
		    &d), CC_OK);
	}
	assert_int_equal(dash_filter_add(&f, DASH_SALES, "country", "AA", &d),
	    CC_OK);				/* a duplicate is not one more */
	assert_int_equal(dash_filter_add(&f, DASH_SALES, "country", "ZZ", &d),
	    CC_EINVAL);
	assert_string_equal(d.code, "filter_too_many");
	assert_int_equal(dash_filter_add(&f, DASH_SALES, "category", "more",
	    &d), CC_EINVAL);
	assert_string_equal(d.code, "filter_too_many");
	dash_filters_free(&f);
	/* bad arguments */
	assert_int_equal(dash_filter_add(NULL, DASH_SALES, "from",
	    "2024-01-01", &d), CC_EINVAL);
	assert_int_equal(dash_filter_add(&f, DASH__MAX, "from", "2024-01-01",
	    &d), CC_EINVAL);
	assert_int_equal(dash_filter_add(&f, DASH_SALES, "from", NULL, &d),
	    CC_EINVAL);
}

/* ---- empty workspaces ------------------------------------------------ */

static void
check_empty_sales(json_t *doc)
{
	want_str(doc, "tiles.revenue", "0.00");
	want_int(doc, "tiles.orders", 0);
	want_int(doc, "tiles.order_lines", 0);
	want_null(doc, "tiles.average_order_value");
	want_int(doc, "tiles.customers", 0);
	want_len(doc, "series.by_month", 0);
	want_len(doc, "series.by_country", 0);
	want_len(doc, "series.by_category", 0);
	want_len(doc, "series.top_products", 0);
	want_len(doc, "series.top_customers", 0);
}

/* A new workspace: no model tables at all.  Every dashboard answers,
 * with zeros and "run_id": null. */
static void
test_empty_workspace(void **state)
{
	sqlite3 *db = db_of(state);
	json_t *doc;
	size_t i;

	for (i = 0; i < DASH__MAX; i++) {
		doc = build(db, dash_name_str((enum dash_name)i), NULL);
		want_str(doc, "dashboard", dash_name_str((enum dash_name)i));
		want_str(doc, "generated_at", "2025-01-01T00:00:00Z");
		want_null(doc, "run_id");
		assert_true(json_is_object(at(doc, "filters")));
		json_decref(doc);
	}
	doc = build(db, "sales", "from=2024-01-01&country=US");
	check_empty_sales(doc);
	want_str(doc, "filters.from", "2024-01-01");
	want_str(doc, "filters.country.0", "US");
	json_decref(doc);
	doc = build(db, "customers", NULL);
	want_int(doc, "tiles.customers", 0);
	want_int(doc, "tiles.duplicates_resolved", 0);
	want_len(doc, "series.new_by_month", 0);
	want_len(doc, "series.by_segment", 0);
	json_decref(doc);
	doc = build(db, "products", NULL);
	want_int(doc, "tiles.products", 0);
	want_len(doc, "series.price_bands", 7);		/* every band, 0 */
	want_int(doc, "series.price_bands.3.products", 0);
	want_len(doc, "series.top_sellers", 0);
	json_decref(doc);
	doc = build(db, "quality", NULL);
	want_len(doc, "runs", 0);
	want_null(doc, "latest.run_id");
	want_len(doc, "latest.rules", 0);
	json_decref(doc);
	/* a registered file but no run: no entities, lost unknown */
	exec(db, "INSERT INTO files (id, name, sha256, size, content_type,"
	    " format, encoding, status, row_count, uploaded_at) VALUES ('f1',"
	    " 'a.csv', 'aa', 10, 'text/csv', 'csv', 'utf-8', 'profiled', 5,"
	    " '2024-01-01T00:00:00Z')");
	doc = build(db, "sources", NULL);
	want_str(doc, "files.0.id", "f1");
	want_int(doc, "files.0.rows", 5);
	want_len(doc, "files.0.entities", 0);
	want_null(doc, "files.0.lost");
	want_int(doc, "files.0.quarantined.rows", 0);
	want_int(doc, "tiles.files", 1);
	want_int(doc, "tiles.rows", 5);
	want_int(doc, "tiles.lost", 0);
	json_decref(doc);
}

/* The model's tables exist but hold nothing (a run that loaded
 * nothing). */
static void
test_empty_model(void **state)
{
	sqlite3 *db = db_of(state);
	json_t *doc;

	doc = build(db, "sales", NULL);
	check_empty_sales(doc);
	json_decref(doc);
	doc = build(db, "products", NULL);
	want_int(doc, "tiles.versions", 0);
	want_int(doc, "series.price_bands.0.products", 0);
	json_decref(doc);
	doc = build(db, "customers", NULL);
	want_int(doc, "tiles.source_records", 0);
	json_decref(doc);
	doc = build(db, "sources", NULL);
	want_len(doc, "files", 0);
	want_int(doc, "tiles.files", 0);
	json_decref(doc);
}

/* ---- sales ----------------------------------------------------------- */

/*
 * revenue = 10.00 + 15.00 + 5.50 + 5.25 = 35.75; orders O1, O2, O3 = 3;
 * 4 lines; customers 101 and 102 = 2; average 35.75 / 3 = 11.91666...,
 * to the cent 11.92.
 */
static void
test_sales_tiles(void **state)
{
	sqlite3 *db = db_of(state);
	json_t *doc;

	exec(db, base_sql);
	doc = build(db, "sales", NULL);
	want_str(doc, "dashboard", "sales");
	want_null(doc, "run_id");
	want_null(doc, "filters.from");
	want_str(doc, "tiles.revenue", "35.75");
	want_int(doc, "tiles.orders", 3);
	want_int(doc, "tiles.order_lines", 4);
	want_str(doc, "tiles.average_order_value", "11.92");
	want_int(doc, "tiles.customers", 2);
	json_decref(doc);
}

/*
 * by_month: 2024-01 10.00 (O1), 2024-02 20.50 (O2), 2024-03 5.25 (O3).
 * by_country (the version on the order date): US 20.50 (O2, Bob), GB
 * 10.00 (O1, Ada's first version), FR 5.25 (O3, Ada's second).
 * by_category: Toys 15.00 + 5.25 = 20.25 (O2, O3), Tools 10.00 (O1),
 * no category 5.50 (O2's Thing), null last.
 * top_products: 202 Gadget II (current name) 20.25 x3, 201 Widget 10.00
 * x1, 203 Thing 5.50 x1.  top_customers: 102 "Bob Stone" (first + last)
 * 20.50 in 1 order, 101 "Ada King" (current) 15.25 in 2.
 */
static void
test_sales_series(void **state)
{
	sqlite3 *db = db_of(state);
	json_t *doc;

	exec(db, base_sql);
	doc = build(db, "sales", NULL);
	want_len(doc, "series.by_month", 3);
	want_group(doc, "by_month", 0, "month", "2024-01", "10.00", 1);
	want_group(doc, "by_month", 1, "month", "2024-02", "20.50", 1);
	want_group(doc, "by_month", 2, "month", "2024-03", "5.25", 1);
	want_len(doc, "series.by_country", 3);
	want_group(doc, "by_country", 0, "country", "US", "20.50", 1);
	want_int(doc, "series.by_country.0.customers", 1);
	want_group(doc, "by_country", 1, "country", "GB", "10.00", 1);
	want_group(doc, "by_country", 2, "country", "FR", "5.25", 1);
	want_int(doc, "series.by_country.2.customers", 1);
	want_len(doc, "series.by_category", 3);
	want_group(doc, "by_category", 0, "category", "Toys", "20.25", 2);
	want_group(doc, "by_category", 1, "category", "Tools", "10.00", 1);
	want_group(doc, "by_category", 2, "category", NULL, "5.50", 1);
	want_len(doc, "series.top_products", 3);
	want_int(doc, "series.top_products.0.canonical_id", 202);
	want_str(doc, "series.top_products.0.name", "Gadget II");
	want_str(doc, "series.top_products.0.revenue", "20.25");
	want_int(doc, "series.top_products.0.quantity", 3);
	want_int(doc, "series.top_products.1.canonical_id", 201);
	want_str(doc, "series.top_products.1.name", "Widget");
	want_int(doc, "series.top_products.2.canonical_id", 203);
	want_str(doc, "series.top_products.2.revenue", "5.50");
	want_len(doc, "series.top_customers", 2);
	want_int(doc, "series.top_customers.0.canonical_id", 102);
	want_str(doc, "series.top_customers.0.name", "Bob Stone");
	want_str(doc, "series.top_customers.0.revenue", "20.50");
	want_int(doc, "series.top_customers.0.orders", 1);
	want_int(doc, "series.top_customers.1.canonical_id", 101);
	want_str(doc, "series.top_customers.1.name", "Ada King");
	want_str(doc, "series.top_customers.1.revenue", "15.25");
	want_int(doc, "series.top_customers.1.orders", 2);
	json_decref(doc);
}

/* Every filter narrows every figure; values by hand from the table
 * above the fixture. */
static void
test_sales_filters(void **state)
{
	sqlite3 *db = db_of(state);
	json_t *doc;

	exec(db, base_sql);
	/* from 2024-02-01: O2 + O3 = 25.75 in 2 orders, 3 lines; average
	 * 12.875: half to even at the cent -> 12.88 (1287 is odd). */
	doc = build(db, "sales", "from=2024-02-01");
	want_str(doc, "filters.from", "2024-02-01");
	want_str(doc, "tiles.revenue", "25.75");
	want_int(doc, "tiles.orders", 2);
	want_int(doc, "tiles.order_lines", 3);
	want_str(doc, "tiles.average_order_value", "12.88");
	want_len(doc, "series.by_month", 2);
	want_group(doc, "by_month", 0, "month", "2024-02", "20.50", 1);
	want_len(doc, "series.by_country", 2);		/* no GB any more */
	want_str(doc, "series.top_products.0.revenue", "20.25");
	json_decref(doc);
	/* to is inclusive: to 2024-02-10 keeps O2 of that day: O1 + O2 =
	 * 30.50, average 15.25 */
	doc = build(db, "sales", "to=2024-02-10");
	want_str(doc, "tiles.revenue", "30.50");
	want_str(doc, "tiles.average_order_value", "15.25");
	json_decref(doc);
	/* one day */
	doc = build(db, "sales", "from=2024-02-10&to=2024-02-10");
	want_str(doc, "tiles.revenue", "20.50");
	want_int(doc, "tiles.order_lines", 2);
	want_len(doc, "series.by_month", 1);
	json_decref(doc);
	/* category Toys: O2 line 1 + O3 = 20.25 in 2 orders of 1 line;
	 * average 10.125 -> 10.12 (1012 is even) */
	doc = build(db, "sales", "category=Toys");
	want_str(doc, "tiles.revenue", "20.25");
	want_int(doc, "tiles.orders", 2);
	want_int(doc, "tiles.order_lines", 2);
	want_str(doc, "tiles.average_order_value", "10.12");
	want_len(doc, "series.by_category", 1);
	want_len(doc, "series.top_products", 1);
	want_int(doc, "series.top_customers.0.canonical_id", 102);
	want_str(doc, "series.top_customers.0.revenue", "15.00");
	json_decref(doc);
	/* two categories; category and country together */
	doc = build(db, "sales", "category=Toys&category=Tools");
	want_str(doc, "tiles.revenue", "30.25");
	json_decref(doc);
	doc = build(db, "sales", "category=Toys&country=us");
	want_str(doc, "tiles.revenue", "15.00");
	want_int(doc, "tiles.orders", 1);
	want_str(doc, "series.by_country.0.country", "US");
	json_decref(doc);
	/* a category nobody has, a date range without sales */
	doc = build(db, "sales", "category=Tool");
	check_empty_sales(doc);
	json_decref(doc);
	doc = build(db, "sales", "from=2025-01-01");
	check_empty_sales(doc);
	json_decref(doc);
}

/*
 * Type 2: Ada (101) was in GB until 2024-02-29, in FR from 2024-03-01.
 * O1 (January) counts under GB, O3 (March) under FR: country=GB gives
 * 10.00, FR 5.25, both 15.25 in 2 orders by 1 customer.
 */
static void
test_sales_scd_country(void **state)
{
	sqlite3 *db = db_of(state);
	json_t *doc;

	exec(db, base_sql);
	doc = build(db, "sales", "country=GB");
	want_str(doc, "tiles.revenue", "10.00");
	want_int(doc, "tiles.orders", 1);
	want_len(doc, "series.by_country", 1);
	want_str(doc, "series.by_country.0.country", "GB");
	/* her name is the current version's, whatever the filter */
	want_str(doc, "series.top_customers.0.name", "Ada King");
	json_decref(doc);
	doc = build(db, "sales", "country=FR");
	want_str(doc, "tiles.revenue", "5.25");
	want_str(doc, "series.by_month.0.month", "2024-03");
	json_decref(doc);
	doc = build(db, "sales", "country=GB,FR");
	want_str(doc, "tiles.revenue", "15.25");
	want_int(doc, "tiles.orders", 2);
	want_int(doc, "tiles.customers", 1);
	want_len(doc, "series.by_country", 2);
	want_group(doc, "by_country", 0, "country", "GB", "10.00", 1);
	want_group(doc, "by_country", 1, "country", "FR", "5.25", 1);
	want_len(doc, "series.top_customers", 1);
	json_decref(doc);
	/* the same customer is in both groups of the unfiltered series */
	doc = build(db, "sales", "country=US&country=GB&country=FR");
	want_int(doc, "tiles.customers", 2);
	want_int(doc, "series.by_country.1.customers", 1);
	want_int(doc, "series.by_country.2.customers", 1);
	json_decref(doc);
}

/*
 * NULL groups: O4 by Cy (no country) 7.00; O5 with neither customer nor
 * product 1.00; O6 without a date 2.00 (Bob).  Totals 35.75 + 10.00 =
 * 45.75 in 6 orders, 7 lines, customers 101, 102, 103 = 3.
 */
static void
test_sales_null_groups(void **state)
{
	sqlite3 *db = db_of(state);
	json_t *doc;

	exec(db, base_sql);
	exec(db, "INSERT INTO fact_sales (order_id, line_number, order_date,"
	    " customer_sk, product_sk, customer_canonical_id,"
	    " product_canonical_id, quantity, amount, _file_id, _row) VALUES"
	    " ('O4', 1, '2024-03-20', 4, 10, 103, 201, 1, 70000, 'f2', 5),"
	    " ('O5', 1, '2024-03-21', NULL, NULL, NULL, NULL, 1, 10000,"
	    "  'f2', 6),"
	    " ('O6', 1, NULL, 3, 10, 102, 201, 1, 20000, 'f2', 7)");
	doc = build(db, "sales", NULL);
	want_str(doc, "tiles.revenue", "45.75");
	want_int(doc, "tiles.orders", 6);
	want_int(doc, "tiles.order_lines", 7);
	want_int(doc, "tiles.customers", 3);
	/* 45.75 / 6 = 7.625 -> 7.62 (762 even) */
	want_str(doc, "tiles.average_order_value", "7.62");
	/* months ascending, the undated order last: 2024-03 = 5.25 + 7.00
	 * + 1.00 = 13.25 in 3 orders */
	want_len(doc, "series.by_month", 4);
	want_group(doc, "by_month", 2, "month", "2024-03", "13.25", 3);
	want_group(doc, "by_month", 3, "month", NULL, "2.00", 1);
	/* countries: US 20.50 + 2.00 = 22.50, GB 10.00, no country 7.00 +
	 * 1.00 = 8.00 in 2 orders by 1 known customer (O5 has none), FR */
	want_len(doc, "series.by_country", 4);
	want_group(doc, "by_country", 0, "country", "US", "22.50", 2);
	want_group(doc, "by_country", 1, "country", "GB", "10.00", 1);
	want_group(doc, "by_country", 2, "country", NULL, "8.00", 2);
	want_int(doc, "series.by_country.2.customers", 1);
	want_group(doc, "by_country", 3, "country", "FR", "5.25", 1);
	/* categories: Toys 20.25, Tools 10.00 + 7.00 + 2.00 = 19.00, none
	 * 5.50 + 1.00 = 6.50 */
	want_group(doc, "by_category", 1, "category", "Tools", "19.00", 3);
	want_group(doc, "by_category", 2, "category", NULL, "6.50", 2);
	/* no unknown product or customer in the top lists */
	want_len(doc, "series.top_products", 3);
	want_len(doc, "series.top_customers", 3);
	want_str(doc, "series.top_customers.2.name", "Cy Null");
	json_decref(doc);
	/* a date filter drops the undated order */
	doc = build(db, "sales", "from=2000-01-01");
	want_str(doc, "tiles.revenue", "43.75");
	json_decref(doc);
}

/*
 * Returns beside sales: the fixture (35.75 of sales) plus a cancellation
 * C1 of O1 (Ada, GB, -10.00, is_return) and a sale O7 of 0.001 (Bob,
 * US): gross 35.75 + 0.001 = 35.751, returns 10.00, net 25.751, which
 * is the revenue; under country=GB: 10.00, 10.00 and 0.00.
 */
static void
test_sales_returns(void **state)
{
	sqlite3 *db = db_of(state);
	json_t *doc;

	exec(db, base_sql);
	exec(db, "INSERT INTO fact_sales (order_id, line_number, order_date,"
	    " customer_sk, product_sk, customer_canonical_id,"
	    " product_canonical_id, quantity, amount, is_return,"
	    " original_order_id, _file_id, _row) VALUES"
	    " ('C1', 1, '2024-01-20', 1, 10, 101, 201, -1, -100000, 1, 'O1',"
	    "  'f2', 5),"
	    " ('O7', 1, '2024-02-11', 3, 10, 102, 201, 1, 10, 0, NULL,"
	    "  'f2', 6)");
	doc = build(db, "sales", NULL);
	want_str(doc, "tiles.gross_sales", "35.751");
	want_str(doc, "tiles.returns", "10.00");
	want_str(doc, "tiles.net_sales", "25.751");
	want_str(doc, "tiles.revenue", "25.751");
	want_int(doc, "tiles.return_lines", 1);
	json_decref(doc);
	doc = build(db, "sales", "country=GB");
	want_str(doc, "tiles.gross_sales", "10.00");
	want_str(doc, "tiles.returns", "10.00");
	want_str(doc, "tiles.net_sales", "0.00");
	want_int(doc, "tiles.return_lines", 1);
	json_decref(doc);
	doc = build(db, "sales", "country=US");
	want_str(doc, "tiles.returns", "0.00");
	want_str(doc, "tiles.gross_sales", "20.501");
	want_int(doc, "tiles.return_lines", 0);
	json_decref(doc);
}

/*
 * An invoice that only returns is not an order: the fixture's orders O1,
 * O2 and O3, plus C1 (a return-only invoice of Ada's O1, GB, January),
 * O8 (Bob, US, February: a sale line and a return line, so an order) and
 * O9 (Bob, US, March: two return lines).  Orders are O1, O2, O3, O8 = 4
 * and return_orders C1, O9 = 2; January has O1 only (C1 not), GB O1
 * only; the Widget (201) sells in O1 and O8 (C1 and O9 return it).  Every figure is checked
 * from the facts and again from the aggregates (build()).
 */
static void
test_sales_return_orders(void **state)
{
	sqlite3 *db = db_of(state);
	json_t *doc;

	exec(db, base_sql);
	exec(db, "INSERT INTO fact_sales (order_id, line_number, order_date,"
	    " customer_sk, product_sk, customer_canonical_id,"
	    " product_canonical_id, quantity, amount, is_return,"
	    " original_order_id, _file_id, _row) VALUES"
	    " ('C1', 1, '2024-01-20', 1, 10, 101, 201, -1, -100000, 1, 'O1',"
	    "  'f2', 5),"
	    " ('O8', 1, '2024-02-11', 3, 10, 102, 201, 2, 200000, 0, NULL,"
	    "  'f2', 6),"
	    " ('O8', 2, '2024-02-11', 3, 13, 102, 203, -1, -55000, 1, NULL,"
	    "  'f2', 7),"
	    " ('O9', 1, '2024-03-02', 3, 10, 102, 201, -1, -100000, 1, NULL,"
	    "  'f2', 8),"
	    " ('O9', 2, '2024-03-02', 3, 13, 102, 203, -1, -55000, 1, NULL,"
	    "  'f2', 9)");
	doc = build(db, "sales", NULL);
	want_int(doc, "tiles.orders", 4);
	want_int(doc, "tiles.return_orders", 2);
	want_int(doc, "tiles.return_lines", 4);
	want_int(doc, "tiles.order_lines", 9);
	/* 2024-01: O1 (C1 only returns); 2024-02: O2 and O8; 2024-03: O3 */
	want_str(doc, "series.by_month.0.month", "2024-01");
	want_int(doc, "series.by_month.0.orders", 1);
	want_int(doc, "series.by_month.1.orders", 2);
	want_int(doc, "series.by_month.2.orders", 1);
	json_decref(doc);
	doc = build(db, "sales", "country=GB");
	want_int(doc, "tiles.orders", 1);
	want_int(doc, "tiles.return_orders", 1);
	json_decref(doc);
	doc = build(db, "sales", "from=2024-03-01");
	want_int(doc, "tiles.orders", 1);		/* O3; O9 returns */
	want_int(doc, "tiles.return_orders", 1);
	want_int(doc, "series.by_country.0.orders", 1);
	json_decref(doc);
	doc = build(db, "sales", "category=Tools");
	/* the Widget's lines: O1, C1, O8 line 1, O9 line 1 */
	want_int(doc, "tiles.orders", 2);
	want_int(doc, "tiles.return_orders", 2);
	want_int(doc, "series.by_category.0.orders", 2);
	json_decref(doc);
	doc = build(db, "products", NULL);
	/* by quantity: Gadget 202 (3), Widget 201 (1 - 1 + 2 - 1), Thing */
	want_int(doc, "series.top_sellers.1.canonical_id", 201);
	want_int(doc, "series.top_sellers.1.orders", 2);	/* O1, O8 */
	json_decref(doc);
}

/* The tiles of orders of the given amounts (units of 10^-4), one line
 * each, all on one day. */
static json_t *
orders_of(sqlite3 *db, const long long *amounts, size_t n)
{
	sqlite3_stmt *st;
	size_t i;

	exec(db, "DELETE FROM fact_sales");
	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO fact_sales"
	    " (order_id, line_number, order_date, amount, _file_id, _row)"
	    " VALUES (?1, 1, '2024-05-05', ?2, 'f', ?1)", -1, &st, NULL),
	    SQLITE_OK);
	for (i = 0; i < n; i++) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)i + 1);
		sqlite3_bind_int64(st, 2, amounts[i]);
		assert_int_equal(sqlite3_step(st), SQLITE_DONE);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return build(db, "sales", NULL);
}

/*
 * Averages are rounded half to even at the cent, in integers:
 *   0.01 + 0.02 = 0.03 / 2 = 0.015  -> 0.02 (2 even)
 *   0.02 + 0.03 = 0.05 / 2 = 0.025  -> 0.02 (2 even)
 *   0.05 + 0.02 = 0.07 / 2 = 0.035  -> 0.04 (4 even)
 *   0.01 + 0.01 + 0 = 0.02 / 3      -> 0.01 (0.0066.. nearest)
 *   1.00 + 1.00 + 1.01 = 3.01 / 3   -> 1.00 (1.0033..)
 *   -0.01 - 0.02 = -0.03 / 2        -> -0.02 (symmetric)
 *   -3.05 alone                     -> -3.05, revenue "-3.05"
 *   0.07 alone                      -> "0.07"
 *   10.00 - 10.00 = 0 / 2           -> "0.00"
 * (amounts in units of 10^-4: 0.01 is 100) and the formatter at the
 * int64 limits: (2^63 - 2) / 2 units, and -2^63 units (whose magnitude
 * has no int64).
 */
static void
test_sales_average_half_even(void **state)
{
	static const struct {
		long long	 a[3];
		size_t		 n;
		const char	*revenue, *average;
	} cases[] = {
		{ { 100, 200 }, 2, "0.03", "0.02" },
		{ { 200, 300 }, 2, "0.05", "0.02" },
		{ { 500, 200 }, 2, "0.07", "0.04" },
		{ { 100, 100, 0 }, 3, "0.02", "0.01" },
		{ { 10000, 10000, 10100 }, 3, "3.01", "1.00" },
		{ { -100, -200 }, 2, "-0.03", "-0.02" },
		{ { -30500 }, 1, "-3.05", "-3.05" },
		{ { 700 }, 1, "0.07", "0.07" },
		{ { 100000, -100000 }, 2, "0.00", "0.00" },
		/* sub-cent amounts: the total keeps them, the average is at
		 * the cent: 0.001 + 0.0015 = 0.0025 / 2 = 0.00125 -> 0.00 */
		{ { 10, 15 }, 2, "0.0025", "0.00" },
		{ { 12345, 1 }, 2, "1.2346", "0.62" },
		/* (2^63 - 2) units = 922337203685477.5806; / 2 =
		 * 461168601842738.7903 -> .79 */
		{ { INT64_MAX / 2, INT64_MAX / 2 }, 2,
		  "922337203685477.5806", "461168601842738.79" },
		{ { INT64_MIN }, 1, "-922337203685477.5808",
		  "-922337203685477.58" },
	};
	sqlite3 *db = db_of(state);
	json_t *doc;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		doc = orders_of(db, cases[i].a, cases[i].n);
		want_str(doc, "tiles.revenue", cases[i].revenue);
		want_str(doc, "tiles.average_order_value", cases[i].average);
		want_str(doc, "series.by_month.0.revenue", cases[i].revenue);
		json_decref(doc);
	}
}

/*
 * Twelve products with revenue 1.00 .. 12.00 (product 300 + i earns i
 * units), but products 305 and 306 both earn 20.00: the top 10 is 305,
 * 306 (tie: lower id first), 312, 311, 310, 309, 308, 307, 304, 303.
 */
static void
test_sales_top_ten(void **state)
{
	sqlite3 *db = db_of(state);
	json_t *doc;
	static const int want[10] = { 305, 306, 312, 311, 310, 309, 308, 307,
	    304, 303 };
	char p[64];
	int i;

	exec(db, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1"
	    " FROM n WHERE i < 12)"
	    " INSERT INTO dim_product (product_sk, canonical_id, name,"
	    " is_current, version) SELECT i, 300 + i, 'p' || i, 1, 1 FROM n;"
	    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1"
	    " FROM n WHERE i < 12)"
	    " INSERT INTO fact_sales (order_id, line_number, order_date,"
	    " product_sk, product_canonical_id, customer_canonical_id,"
	    " quantity, amount, _file_id, _row) SELECT 'O' || i, 1,"
	    " '2024-01-01', i, 300 + i, 500 + i, 1, CASE WHEN i IN (5, 6)"
	    " THEN 200000 ELSE 10000 * i END, 'f', i FROM n");
	doc = build(db, "sales", NULL);
	want_len(doc, "series.top_products", 10);
	want_len(doc, "series.top_customers", 10);
	for (i = 0; i < 10; i++) {
		snprintf(p, sizeof(p), "series.top_products.%d.canonical_id",
		    i);
		want_int(doc, p, want[i]);
		snprintf(p, sizeof(p), "series.top_customers.%d.canonical_id",
		    i);
		want_int(doc, p, want[i] + 200);
	}
	want_str(doc, "series.top_products.0.name", "p5");
	want_null(doc, "series.top_customers.0.name");	/* no dim row */
	json_decref(doc);
}

/* ---- customers and products ------------------------------------------ */

/*
 * Current versions: sk 2 (101, FR, F, consumer, 2023-11, 2 sources),
 * sk 3 (102, US, M, consumer, 2024-01, 1 source), sk 4 (103, no
 * country, no gender, corporate, no date, lineage not JSON: 0).
 * customers 3; versions 4 rows; with_history 1 (101); duplicates
 * resolved 1 (101), records merged away 2 - 1 = 1, source records
 * 2 + 1 + 0 = 3.
 */
static void
test_customers(void **state)
{
	sqlite3 *db = db_of(state);
	json_t *doc;

	exec(db, base_sql);
	doc = build(db, "customers", NULL);
	want_str(doc, "dashboard", "customers");
	want_int(doc, "tiles.customers", 3);
	want_int(doc, "tiles.versions", 4);
	want_int(doc, "tiles.with_history", 1);
	want_int(doc, "tiles.duplicates_resolved", 1);
	want_int(doc, "tiles.duplicate_records", 1);
	want_int(doc, "tiles.source_records", 3);
	want_len(doc, "series.new_by_month", 3);
	want_str(doc, "series.new_by_month.0.month", "2023-11");
	want_int(doc, "series.new_by_month.0.customers", 1);
	want_str(doc, "series.new_by_month.1.month", "2024-01");
	want_null(doc, "series.new_by_month.2.month");
	want_int(doc, "series.new_by_month.2.customers", 1);
	/* one each: by value, null last; Ada counts once, in FR */
	want_len(doc, "series.by_country", 3);
	want_str(doc, "series.by_country.0.country", "FR");
	want_str(doc, "series.by_country.1.country", "US");
	want_null(doc, "series.by_country.2.country");
	want_len(doc, "series.by_gender", 3);
	want_str(doc, "series.by_gender.0.gender", "F");
	want_null(doc, "series.by_gender.2.gender");
	/* consumer 2 (Ada, Bob), corporate 1 */
	want_len(doc, "series.by_segment", 2);
	want_str(doc, "series.by_segment.0.segment", "consumer");
	want_int(doc, "series.by_segment.0.customers", 2);
	want_str(doc, "series.by_segment.1.segment", "corporate");
	json_decref(doc);
}

/*
 * Current products: 201 Widget (Tools, 10.00), 202 Gadget II (Toys,
 * 20.50), 203 Thing (none, no price), plus three added here to try the
 * band edges: 204 at 9.99, 205 at 50.00, 206 at 5000.00.
 * products 6, versions 7, with_history 1 (202), categories 2 (Tools,
 * Toys), price_unknown 1.  Bands: under 10.00: 204; 10.00-50.00: 201,
 * 202; 50.00-100.00: 205; 5000.00 and above: 206.
 * Top sellers by quantity: 202 x3 (20.25, 2 orders), then 201 and 203
 * x1 each (tie: lower id first).
 */
static void
test_products(void **state)
{
	sqlite3 *db = db_of(state);
	json_t *doc;

	exec(db, base_sql);
	exec(db, "INSERT INTO dim_product (product_sk, canonical_id, name,"
	    " price, is_current, version) VALUES (14, 204, 'a', 99900, 1, 1),"
	    " (15, 205, 'b', 500000, 1, 1), (16, 206, 'c', 50000000, 1, 1)");
	doc = build(db, "products", NULL);
	want_int(doc, "tiles.products", 6);
	want_int(doc, "tiles.versions", 7);
	want_int(doc, "tiles.with_history", 1);
	want_int(doc, "tiles.categories", 2);
	want_int(doc, "tiles.price_unknown", 1);
	/* 4 without category first, then Tools and Toys (1 each) */
	want_len(doc, "series.by_category", 3);
	want_null(doc, "series.by_category.0.category");
	want_int(doc, "series.by_category.0.products", 4);
	want_str(doc, "series.by_category.1.category", "Tools");
	want_len(doc, "series.price_bands", 7);
	want_null(doc, "series.price_bands.0.min");
	want_str(doc, "series.price_bands.0.max", "10.00");
	want_int(doc, "series.price_bands.0.products", 1);
	want_str(doc, "series.price_bands.1.min", "10.00");
	want_str(doc, "series.price_bands.1.max", "50.00");
	want_int(doc, "series.price_bands.1.products", 2);
	want_int(doc, "series.price_bands.2.products", 1);
	want_int(doc, "series.price_bands.3.products", 0);
	want_int(doc, "series.price_bands.5.products", 0);
	want_str(doc, "series.price_bands.6.min", "5000.00");
	want_null(doc, "series.price_bands.6.max");
	want_int(doc, "series.price_bands.6.products", 1);
	want_len(doc, "series.top_sellers", 3);
	want_int(doc, "series.top_sellers.0.canonical_id", 202);
	want_str(doc, "series.top_sellers.0.name", "Gadget II");
	want_int(doc, "series.top_sellers.0.quantity", 3);
	want_str(doc, "series.top_sellers.0.revenue", "20.25");
	want_int(doc, "series.top_sellers.0.orders", 2);
	want_int(doc, "series.top_sellers.1.canonical_id", 201);
	want_int(doc, "series.top_sellers.2.canonical_id", 203);
	json_decref(doc);
}

/* top_sellers of the products document against its statement (the
 * SQL of product_series, written here again), on the facts as they
 * are in fact_sales; 0 rows compared when the document has none. */
static void
expect_top_sellers(sqlite3 *db)
{
	sqlite3_stmt *st;
	json_t *doc = build(db, "products", NULL), *top, *row;
	size_t k = 0;

	top = json_object_get(json_object_get(doc, "series"), "top_sellers");
	assert_non_null(top);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT t.id, (SELECT d.name"
	    " FROM dim_product d WHERE d.canonical_id = t.id ORDER BY"
	    " d.is_current DESC, d.valid_from DESC, d.product_sk DESC LIMIT 1),"
	    " t.quantity, t.revenue, t.orders FROM (SELECT product_canonical_id"
	    " AS id, COALESCE(SUM(quantity), 0) AS quantity, COALESCE(SUM(amount),"
	    " 0) AS revenue, COUNT(DISTINCT order_id) FILTER (WHERE NOT"
	    " COALESCE(is_return, 0)) AS orders FROM fact_sales WHERE"
	    " product_canonical_id IS NOT NULL GROUP BY product_canonical_id"
	    " ORDER BY quantity DESC, id LIMIT 10) t ORDER BY t.quantity DESC,"
	    " t.id", -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		long long rev = sqlite3_column_int64(st, 3);
		unsigned long long mag = rev < 0 ? 0ULL - (unsigned long long)rev :
		    (unsigned long long)rev;
		char want[64];
		assert_true(k < json_array_size(top));
		row = json_array_get(top, k);
		assert_int_equal(json_integer_value(json_object_get(row,
		    "canonical_id")), sqlite3_column_int64(st, 0));
		if (sqlite3_column_type(st, 1) == SQLITE_NULL)
			assert_true(json_is_null(json_object_get(row, "name")));
		else
			assert_string_equal(json_string_value(json_object_get(row,
			    "name")), (const char *)sqlite3_column_text(st, 1));
		assert_int_equal(json_integer_value(json_object_get(row,
		    "quantity")), sqlite3_column_int64(st, 2));
		assert_int_equal(json_integer_value(json_object_get(row,
		    "orders")), sqlite3_column_int64(st, 4));
		/* whole cents (the amounts below): no rounding to mirror */
		snprintf(want, sizeof(want), "%s%llu.%02llu", rev < 0 ? "-" : "",
		    mag / 10000, mag % 10000 / 100);
		assert_string_equal(json_string_value(json_object_get(row,
		    "revenue")), want);
		k++;
	}
	sqlite3_finalize(st);
	assert_int_equal(k, json_array_size(top));
	json_decref(doc);
}

/*
 * The products document's top sellers, counted in one pass over the
 * facts in rowid order (dashboard.c's top_sellers_pass(): the facts are
 * in order id order as load.c inserts them), give the statement's
 * answer: 4,000 random lines of 1,000+ orders over 14 products (NULL
 * quantities, amounts and products, returns, an order's lines of one
 * product more than once), then the same lines in reverse rowid order
 * (order ids out of order: the statement answers), then a REAL quantity
 * (a storage class the pass leaves to the statement).
 */
static void
test_top_sellers_pass(void **state)
{
	sqlite3 *db = db_of(state);
	sqlite3_stmt *st;
	unsigned long x = 4242;
	int order = 0, line = 0, i;

	exec(db, base_sql);
	exec(db, "DELETE FROM fact_sales; WITH RECURSIVE n(v) AS (SELECT 0"
	    " UNION ALL SELECT v + 1 FROM n WHERE v < 10) INSERT INTO"
	    " dim_product (product_sk, canonical_id, natural_key, name,"
	    " is_current, version) SELECT 20 + v, 204 + v, 'P' || v,"
	    " 'Product ' || v, 1, 1 FROM n");
	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO fact_sales"
	    " (order_id, line_number, order_date, product_canonical_id,"
	    " quantity, amount, is_return, _file_id, _row) VALUES (printf('O%05d',"
	    " ?1), ?2, '2024-05-05', ?3, ?4, ?5, ?6, 'f', ?7)", -1, &st, NULL),
	    SQLITE_OK);
	for (i = 0; i < 4000; i++) {
		x = x * 1103515245UL + 12345UL;
		if (line == 0 || (x >> 16) % 8 < 3) {	/* a new order */
			order++;
			line = 0;
		}
		sqlite3_reset(st);
		sqlite3_bind_int(st, 1, order);
		sqlite3_bind_int(st, 2, ++line);
		if ((x >> 8) % 20 == 0)
			sqlite3_bind_null(st, 3);
		else
			sqlite3_bind_int(st, 3, 201 + (int)((x >> 10) % 14));
		if ((x >> 12) % 15 == 0)
			sqlite3_bind_null(st, 4);
		else
			sqlite3_bind_int(st, 4, (int)((x >> 14) % 9) - 2);
		if ((x >> 18) % 17 == 0)
			sqlite3_bind_null(st, 5);
		else
			sqlite3_bind_int64(st, 5, 100LL * ((long long)((x >> 20) %
			    5000) - 500));
		sqlite3_bind_int(st, 6, (x >> 24) % 6 == 0);	/* a return */
		sqlite3_bind_int(st, 7, i + 1);
		assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	}
	sqlite3_finalize(st);
	assert_true(order > 1000);
	expect_top_sellers(db);
	/* the same lines, the last first */
	exec(db, "CREATE TEMP TABLE f AS SELECT * FROM fact_sales;"
	    " UPDATE temp.f SET sales_sk = NULL;"	/* new rowids */
	    " DELETE FROM fact_sales; INSERT INTO fact_sales SELECT * FROM"
	    " temp.f ORDER BY order_id DESC, line_number DESC;"
	    " DROP TABLE temp.f");
	/* the greatest order id has the first rowid now */
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM"
	    " fact_sales WHERE rowid = (SELECT min(rowid) FROM fact_sales) AND"
	    " order_id = (SELECT max(order_id) FROM fact_sales)", -1, &st,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 1);
	sqlite3_finalize(st);
	expect_top_sellers(db);
	exec(db, "UPDATE fact_sales SET quantity = 2.5 WHERE rowid = 7");
	expect_top_sellers(db);
}

/* ---- quality --------------------------------------------------------- */

/*
 * Runs r1 (done), r2 (failed), r3 (done), r4 (running): run_id is r3.
 * r3's rules: not_null email 8 / 2 (completeness, failed), valid_country
 * 10 / 0 (validity), unique_id 0 / 0 (uniqueness): 3 rules, 2 passed
 * (no failing row), 1 failed; rows 18 passed, 2 failed.  pass rates
 * 8 / 10 = 0.8, 1.0, and null for 0 / 0.
 */
static void
test_quality(void **state)
{
	sqlite3 *db = db_of(state);
	json_t *doc;

	exec(db, "INSERT INTO runs (id, state, counts, created_at,"
	    " finished_at) VALUES"
	    " ('r1', 'done', 'oops', '2024-01-01T00:00:00Z',"
	    "  '2024-01-01T00:01:00Z'),"
	    " ('r2', 'failed', NULL, '2024-01-02T00:00:00Z', NULL),"
	    " ('r3', 'done', '{\"facts\": 4}', '2024-01-03T00:00:00Z',"
	    "  '2024-01-03T00:01:00Z'),"
	    " ('r4', 'running', NULL, '2024-01-04T00:00:00Z', NULL);"
	    "INSERT INTO quality_results (run_id, rule, dimension, target,"
	    " passed, failed) VALUES"
	    " ('r1', 'not_null_email', 'completeness', 'dim_customer.email',"
	    "  5, 5),"
	    " ('r3', 'not_null_email', 'completeness', 'dim_customer.email',"
	    "  8, 2),"
	    " ('r3', 'valid_country', 'validity', 'dim_customer.country',"
	    "  10, 0),"
	    " ('r3', 'unique_id', 'uniqueness', 'dim_customer.customer_id',"
	    "  0, 0)");
	doc = build(db, "quality", NULL);
	want_str(doc, "run_id", "r3");
	want_len(doc, "runs", 4);
	want_str(doc, "runs.0.id", "r4");
	want_str(doc, "runs.0.state", "running");
	want_null(doc, "runs.0.finished_at");
	want_int(doc, "runs.0.quality.rules", 0);
	want_len(doc, "runs.0.quality.by_dimension", 0);
	want_str(doc, "runs.1.id", "r3");
	want_int(doc, "runs.1.counts.facts", 4);
	want_str(doc, "runs.1.finished_at", "2024-01-03T00:01:00Z");
	want_int(doc, "runs.1.quality.rules", 3);
	/* unique_id checked 0 of 0 rows: not applicable, never passed */
	want_int(doc, "runs.1.quality.rules_passed", 1);
	want_int(doc, "runs.1.quality.rules_failed", 1);
	want_int(doc, "runs.1.quality.rules_not_applicable", 1);
	want_int(doc, "runs.1.quality.passed", 18);
	want_int(doc, "runs.1.quality.failed", 2);
	want_len(doc, "runs.1.quality.by_dimension", 3);
	want_str(doc, "runs.1.quality.by_dimension.0.dimension",
	    "completeness");
	want_int(doc, "runs.1.quality.by_dimension.0.rules_failed", 1);
	want_int(doc, "runs.1.quality.by_dimension.0.failed", 2);
	want_str(doc, "runs.1.quality.by_dimension.2.dimension", "validity");
	want_int(doc, "runs.1.quality.by_dimension.2.passed", 10);
	want_null(doc, "runs.2.counts");
	want_null(doc, "runs.3.counts");		/* not JSON */
	want_int(doc, "runs.3.quality.failed", 5);
	want_str(doc, "latest.run_id", "r3");
	want_len(doc, "latest.rules", 3);
	want_str(doc, "latest.rules.0.rule", "not_null_email");
	want_str(doc, "latest.rules.0.target", "dim_customer.email");
	want_int(doc, "latest.rules.0.passed", 8);
	assert_true(json_real_value(at(doc, "latest.rules.0.pass_rate")) ==
	    0.8);
	want_str(doc, "latest.rules.1.rule", "unique_id");
	want_null(doc, "latest.rules.1.pass_rate");
	want_str(doc, "latest.rules.1.status", "not_applicable");
	want_str(doc, "latest.rules.0.status", "failed");
	want_str(doc, "latest.rules.2.status", "passed");
	assert_true(json_real_value(at(doc, "latest.rules.2.pass_rate")) ==
	    1.0);
	json_decref(doc);
}

/* The latest 20 runs only, newest first; no done run: run_id null. */
static void
test_quality_latest_twenty(void **state)
{
	sqlite3 *db = db_of(state);
	json_t *doc;

	exec(db, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1"
	    " FROM n WHERE i < 25) INSERT INTO runs (id, state, created_at)"
	    " SELECT printf('r%02d', i), 'failed', '2024-01-01T00:00:00Z'"
	    " FROM n");
	doc = build(db, "quality", NULL);
	want_null(doc, "run_id");
	want_len(doc, "runs", 20);
	want_str(doc, "runs.0.id", "r25");
	want_str(doc, "runs.19.id", "r06");
	want_null(doc, "latest.run_id");
	want_len(doc, "latest.rules", 0);
	json_decref(doc);
}

/* ---- sources --------------------------------------------------------- */

/*
 * f1 customers.csv, 5 rows: rows 1-3 staged as customers, row 4
 * quarantined twice (2 reasons: 2 rows, 1 record), row 5 nowhere: lost
 * 5 - 3 - 1 = 1.  Dimension lineage names f1 rows 1 and 2 (row 3 is
 * staged, unmatched) and f2 row 3.  2 clean issues.
 * f2 sales.csv, 6 rows: 6 customers staged (rows 1-6; row 3 matched);
 * 6 order lines staged, 4 loaded as facts (base_sql), rows 5 and 6
 * quarantined by the load (staged too): lost 6 - |{1..6}| = 0 for both
 * entities (6 - 6 - 2 = -2 would count them twice).
 * f3 products.csv, 3 rows: 3 staged, all matched (sk 10, 11, 12).
 * f4 notes.csv: fed nothing; lost null.
 * Rows of an unregistered file (gone) are not reported.
 */
static void
test_sources(void **state)
{
	sqlite3 *db = db_of(state);
	json_t *doc;

	exec(db, base_sql);
	exec(db, "INSERT INTO files (id, name, sha256, size, content_type,"
	    " format, encoding, status, row_count, uploaded_at) VALUES"
	    " ('f1', 'customers.csv', 'a1', 1, 'text/csv', 'csv', 'utf-8',"
	    "  'processed', 5, 't'),"
	    " ('f2', 'sales.csv', 'a2', 1, 'text/csv', 'csv', 'utf-8',"
	    "  'processed', 6, 't'),"
	    " ('f3', 'products.csv', 'a3', 1, 'text/csv', 'csv', 'utf-8',"
	    "  'processed', 3, 't'),"
	    " ('f4', 'notes.csv', 'a4', 1, 'text/csv', 'csv', 'utf-8',"
	    "  'profiled', 9, 't');"
	    "INSERT INTO stg_customer (_file_id, _row) VALUES ('f1', 1),"
	    " ('f1', 2), ('f1', 3), ('f2', 1), ('f2', 2), ('f2', 3), ('f2', 4),"
	    " ('f2', 5), ('f2', 6), ('gone', 1);"
	    "INSERT INTO stg_order_line (_file_id, _row) VALUES ('f2', 1),"
	    " ('f2', 2), ('f2', 3), ('f2', 4), ('f2', 5), ('f2', 6);"
	    "INSERT INTO stg_product (_file_id, _row) VALUES ('f3', 1),"
	    " ('f3', 2), ('f3', 3);"
	    "INSERT INTO quarantine (entity, _file_id, _row, reason) VALUES"
	    " ('customer', 'f1', 4, 'invalid_email'),"
	    " ('customer', 'f1', 4, 'invalid_date'),"
	    " ('order_line', 'f2', 5, 'unknown_product'),"
	    " ('order_line', 'f2', 6, 'unknown_product'),"
	    " ('customer', 'gone', 2, 'missing_key');"
	    "INSERT INTO clean_issues (_file_id, _row, entity, column_name,"
	    " issue) VALUES ('f1', 1, 'customer', 'phone', 'phone_incomplete'),"
	    " ('f1', 2, 'customer', 'email', 'email_invalid'),"
	    " ('gone', 1, 'customer', 'email', 'email_invalid')");
	doc = build(db, "sources", NULL);
	want_len(doc, "files", 4);
	want_str(doc, "files.0.id", "f1");
	want_str(doc, "files.0.name", "customers.csv");
	want_str(doc, "files.0.status", "processed");
	want_int(doc, "files.0.rows", 5);
	want_len(doc, "files.0.entities", 1);
	want_str(doc, "files.0.entities.0.entity", "customer");
	want_int(doc, "files.0.entities.0.staged", 3);
	want_int(doc, "files.0.entities.0.quarantined", 1);
	want_int(doc, "files.0.entities.0.matched", 2);
	want_int(doc, "files.0.entities.0.lost", 1);
	want_int(doc, "files.0.quarantined.rows", 2);
	want_int(doc, "files.0.quarantined.records", 1);
	want_int(doc, "files.0.quarantined.by_reason.invalid_email", 1);
	want_int(doc, "files.0.quarantined.by_reason.invalid_date", 1);
	want_int(doc, "files.0.clean_issues", 2);
	want_int(doc, "files.0.facts_loaded", 0);
	want_int(doc, "files.0.lost", 1);
	/* schema order: customer before order_line */
	want_len(doc, "files.1.entities", 2);
	want_str(doc, "files.1.entities.0.entity", "customer");
	want_int(doc, "files.1.entities.0.staged", 6);
	want_int(doc, "files.1.entities.0.matched", 1);
	want_int(doc, "files.1.entities.0.lost", 0);
	want_str(doc, "files.1.entities.1.entity", "order_line");
	want_int(doc, "files.1.entities.1.staged", 6);
	want_int(doc, "files.1.entities.1.quarantined", 2);
	want_null(doc, "files.1.entities.1.matched");	/* facts instead */
	want_int(doc, "files.1.entities.1.lost", 0);
	want_int(doc, "files.1.quarantined.by_reason.unknown_product", 2);
	want_int(doc, "files.1.facts_loaded", 4);
	want_int(doc, "files.1.lost", 0);
	want_str(doc, "files.2.entities.0.entity", "product");
	want_int(doc, "files.2.entities.0.matched", 3);
	want_int(doc, "files.2.lost", 0);
	want_len(doc, "files.3.entities", 0);
	want_null(doc, "files.3.lost");
	want_int(doc, "tiles.files", 4);
	want_int(doc, "tiles.rows", 23);
	want_int(doc, "tiles.quarantined", 4);
	want_int(doc, "tiles.clean_issues", 2);
	want_int(doc, "tiles.facts_loaded", 4);
	want_int(doc, "tiles.lost", 1);
	want_int(doc, "tiles.files_with_loss", 1);
	assert_true(json_is_string(at(doc, "lost_note")));
	json_decref(doc);
}

/* Every entity of the target schema is reported when a file fed it:
 * the dashboard's table of staging statements covers the schema. */
static void
test_sources_every_entity(void **state)
{
	const struct schema_entity *es;
	sqlite3 *db = db_of(state);
	char sql[256], p[64];
	size_t n, i;
	json_t *doc;

	exec(db, "INSERT INTO files (id, name, sha256, size, content_type,"
	    " format, encoding, status, row_count, uploaded_at) VALUES ('f1',"
	    " 'all.csv', 'a1', 1, 'text/csv', 'csv', 'utf-8', 'processed', 1,"
	    " 't')");
	es = schema_entities(&n);
	for (i = 0; i < n; i++) {
		snprintf(sql, sizeof(sql), "INSERT INTO \"stg_%s\" (_file_id,"
		    " _row) VALUES ('f1', 1)", es[i].name);
		exec(db, sql);
	}
	doc = build(db, "sources", NULL);
	want_len(doc, "files.0.entities", n);
	for (i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "files.0.entities.%zu.entity", i);
		want_str(doc, p, es[i].name);
		snprintf(p, sizeof(p), "files.0.entities.%zu.staged", i);
		want_int(doc, p, 1);
		snprintf(p, sizeof(p), "files.0.entities.%zu.lost", i);
		want_int(doc, p, 0);
	}
	json_decref(doc);
}

/* ---- failures -------------------------------------------------------- */

/* A model of another shape is an error (500 for the caller), not a
 * crash, and leaves no transaction open. */
static void
test_foreign_schema(void **state)
{
	sqlite3 *db = db_of(state);
	struct cc_diag d;
	json_t *doc = (json_t *)1;

	exec(db, "CREATE TABLE fact_sales (order_id TEXT);"
	    "CREATE TABLE dim_customer (x); CREATE TABLE dim_product (y)");
	cc_diag_clear(&d);
	assert_int_equal(dash_build(db, DASH_SALES, NULL, NOW, &doc, &d),
	    CC_EDB);
	assert_null(doc);
	assert_string_equal(d.code, "sqlite");
	assert_true(sqlite3_get_autocommit(db));
	/* the other dashboards do not read fact_sales' amount */
	doc = build(db, "quality", NULL);
	json_decref(doc);
	assert_int_equal(dash_build(NULL, DASH_SALES, NULL, NOW, &doc, &d),
	    CC_EINVAL);
	assert_int_equal(dash_build(db, DASH__MAX, NULL, NOW, &doc, &d),
	    CC_EINVAL);
	assert_int_equal(dash_build(db, DASH_SALES, NULL, NOW, NULL, &d),
	    CC_EINVAL);
}

/* Text that is not UTF-8 in a table does not sink the document. */
static void
test_bad_bytes(void **state)
{
	sqlite3 *db = db_of(state);
	json_t *doc;

	exec(db, base_sql);
	exec(db, "UPDATE dim_product SET name = CAST(X'576964C3' AS TEXT)"
	    " WHERE product_sk = 10");
	doc = build(db, "sales", NULL);
	want_str(doc, "series.top_products.1.name", "Wid\xef\xbf\xbd");
	json_decref(doc);
}

/* ---- the integration fixture ----------------------------------------- */

/* Columns of table in db as "cid name type notnull dflt pk;..." */
static char *
columns_of(sqlite3 *db, const char *table)
{
	char sql[128], *out = NULL, *n;
	sqlite3_stmt *st;
	size_t len = 0;

	snprintf(sql, sizeof(sql), "PRAGMA table_info(\"%s\")", table);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
	    SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		char row[512];
		int k = snprintf(row, sizeof(row), "%d %s %s %d %s %d;",
		    sqlite3_column_int(st, 0), sqlite3_column_text(st, 1),
		    sqlite3_column_text(st, 2), sqlite3_column_int(st, 3),
		    sqlite3_column_type(st, 4) == SQLITE_NULL ? "-" :
		    (const char *)sqlite3_column_text(st, 4),
		    sqlite3_column_int(st, 5));
		n = realloc(out, len + (size_t)k + 1);
		assert_non_null(n);
		out = n;
		memcpy(out + len, row, (size_t)k + 1);
		len += (size_t)k;
	}
	sqlite3_finalize(st);
	return out;
}

/* The sum of a money field over the elements of an array. */
static long long
sum_money(json_t *arr, const char *key)
{
	long long s = 0;
	json_t *e;
	size_t i;

	json_array_foreach(arr, i, e)
		s += cents(json_object_get(e, key));
	return s;
}

/*
 * tests/integration/fixtures/dashboards.sql says its DDL is copied from
 * core/model.c: every table and index it creates in model.db must match
 * what model_create() creates, column by column.  Loaded the way the
 * integration test loads it (model part into model.db, the rest into
 * workspace.db), every series of the sales dashboard adds up to the
 * tiles under each filter (one WHERE clause for all).
 */
static void
test_fixture_ddl_matches_model(void **state)
{
	static const char *const queries[] = {
		NULL, "from=2024-03-01", "to=2024-05-31&from=2024-01-01",
		"country=US,DE&category=Bikes", "country=NL",
		"category=Clothing&category=Accessories&from=2024-06-01",
	};
	struct fx *fx = *state;
	sqlite3 *db, *model;
	sqlite3_stmt *st;
	char *sql, *a, *b, *mark;
	size_t len, i, nt = 0;
	json_t *doc, *tiles;

	assert_int_equal(util_read_file(SRCDIR
	    "/tests/integration/fixtures/dashboards.sql", 1 << 20, &sql, &len),
	    CC_OK);
	mark = strstr(sql, "\n-- @@ workspace.db");
	assert_non_null(mark);
	*mark = '\0';
	assert_int_equal(with_model(fx, sql), 0);
	db = fx->ws->db;
	exec(db, mark + 1);
	free(sql);
	assert_int_equal(sqlite3_open(":memory:", &model), SQLITE_OK);
	assert_int_equal(model_create(model, NULL), CC_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT type, name, tbl_name"
	    " FROM model.sqlite_master WHERE type IN ('table', 'index') AND"
	    " name NOT LIKE 'sqlite%'", -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *type = (const char *)sqlite3_column_text(st, 0),
		    *name = (const char *)sqlite3_column_text(st, 1);
		if (strcmp(type, "index") == 0) {
			sqlite3_stmt *s2;
			assert_int_equal(sqlite3_prepare_v2(model, "SELECT 1 FROM"
			    " sqlite_master WHERE type = 'index' AND name = ?1"
			    " AND tbl_name = ?2", -1, &s2, NULL), SQLITE_OK);
			sqlite3_bind_text(s2, 1, name, -1, SQLITE_STATIC);
			sqlite3_bind_text(s2, 2, (const char *)
			    sqlite3_column_text(st, 2), -1, SQLITE_STATIC);
			if (sqlite3_step(s2) != SQLITE_ROW)
				fail_msg("fixture index %s is not the model's",
				    name);
			sqlite3_finalize(s2);
			continue;
		}
		/* model_units (the scale of money) is no public table */
		assert_true(model_is_public_table(name) ||
		    strcmp(name, "model_units") == 0);
		a = columns_of(db, name);
		b = columns_of(model, name);
		if (a == NULL || b == NULL || strcmp(a, b) != 0)
			fail_msg("fixture table %s differs from core/model.c:\n"
			    "fixture %s\nmodel   %s", name, a, b);
		free(a);
		free(b);
		nt++;
	}
	sqlite3_finalize(st);
	sqlite3_close(model);
	assert_int_equal(nt, 12);
	/* the model really is the attached one */
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM"
	    " main.sqlite_master WHERE name = 'fact_sales'", -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 0);
	sqlite3_finalize(st);
	for (i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
		doc = build(db, "sales", queries[i]);
		tiles = at(doc, "tiles");
		assert_true(json_integer_value(at(tiles, "orders")) > 0);
		assert_int_equal(cents(at(tiles, "revenue")),
		    sum_money(at(doc, "series.by_month"), "revenue"));
		assert_int_equal(cents(at(tiles, "revenue")),
		    sum_money(at(doc, "series.by_country"), "revenue"));
		assert_int_equal(cents(at(tiles, "revenue")),
		    sum_money(at(doc, "series.by_category"), "revenue"));
		json_decref(doc);
	}
	for (i = 0; i < DASH__MAX; i++) {
		doc = build(db, dash_name_str((enum dash_name)i), NULL);
		want_str(doc, "run_id", "r-fix-3");
		json_decref(doc);
	}
	doc = build(db, "sources", NULL);
	want_int(doc, "tiles.files", 7);
	want_int(doc, "tiles.lost", 1);		/* fx-customers row 40 */
	json_decref(doc);
}

/*
 * The aggregates group several facts: O1 gets a second line of the same
 * product and a third of another product of the same category, O4 (Bob,
 * the same day as O2) a line of Widget; every figure, filtered or not,
 * must still equal the facts' (build() compares the two).
 */
static void
test_aggregates_many_lines(void **state)
{
	static const char *const queries[] = {
		NULL, "from=2024-01-15", "to=2024-02-10", "country=GB",
		"country=US,FR", "category=Tools", "category=Toys",
		"category=Tools&country=US", "from=2024-02-10&to=2024-02-10",
		"from=2024-01-01&to=2024-12-31&country=GB,US,FR"
		"&category=Tools&category=Toys",
	};
	sqlite3 *db = db_of(state);
	json_t *doc;
	size_t i;

	exec(db, base_sql);
	exec(db, "INSERT INTO dim_product (product_sk, canonical_id,"
	    " natural_key, name, category, price, valid_from, is_current,"
	    " version) VALUES (14, 204, 'S', 'Spanner', 'Tools', 30000,"
	    " '2023-01-01', 1, 1);"
	    "INSERT INTO fact_sales (order_id, line_number, date_key,"
	    " order_date, customer_sk, product_sk, customer_canonical_id,"
	    " product_canonical_id, quantity, amount, _file_id, _row) VALUES"
	    " ('O1', 2, 20240115, '2024-01-15', 1, 10, 101, 201, 3, 300000,"
	    "  'f2', 5),"
	    " ('O1', 3, 20240115, '2024-01-15', 1, 14, 101, 204, 1, 30000,"
	    "  'f2', 6),"
	    " ('O4', 1, 20240210, '2024-02-10', 3, 10, 102, 201, 2, 200000,"
	    "  'f2', 7);");
	for (i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
		doc = build(db, "sales", queries[i]);
		json_decref(doc);
	}
	/* by hand: 4 orders, 7 lines, 35.75 + 30.00 + 3.00 + 20.00 */
	doc = build(db, "sales", NULL);
	want_str(doc, "tiles.revenue", "88.75");
	want_int(doc, "tiles.orders", 4);
	want_int(doc, "tiles.order_lines", 7);
	want_str(doc, "series.top_products.0.revenue", "60.00");
	want_int(doc, "series.top_products.0.quantity", 6);
	json_decref(doc);
	doc = build(db, "products", NULL);
	json_decref(doc);
	doc = build(db, "sources", NULL);
	json_decref(doc);
}

/*
 * The aggregate tables as the statements the run's aggregate pass
 * replaced build them (GROUP BY over the facts joined to their
 * dimensions), in their order: the reference the pass is checked
 * against, row by row and in rowid order.
 */
static const char ref_orders_sql[] =
	"SELECT f.order_date, c.country, p.category, f.order_id,"
	" f.customer_canonical_id, SUM(f.amount), COUNT(*),"
	" SUM(f.amount) FILTER (WHERE f.is_return),"
	" COUNT(*) FILTER (WHERE f.is_return) FROM fact_sales f"
	" LEFT JOIN dim_customer c ON c.customer_sk = f.customer_sk"
	" LEFT JOIN dim_product p ON p.product_sk = f.product_sk"
	" GROUP BY 1, 2, 3, 4, 5";
static const char ref_products_sql[] =
	"SELECT f.order_date, c.country, p.category, f.product_canonical_id,"
	" SUM(f.amount), SUM(f.quantity), COUNT(*) FROM fact_sales f"
	" LEFT JOIN dim_customer c ON c.customer_sk = f.customer_sk"
	" LEFT JOIN dim_product p ON p.product_sk = f.product_sk"
	" GROUP BY 1, 2, 3, 4";
static const char ref_files_sql[] =
	"SELECT _file_id, COUNT(*) FROM fact_sales GROUP BY _file_id";
/* agg_product_sales: per product, its quantity and revenue (0 without
 * any), and its orders that hold a sale of it, counted here per product
 * with a correlated subquery instead of COUNT(DISTINCT) ... FILTER */
static const char ref_sellers_sql[] =
	"SELECT f.product_canonical_id, COALESCE(SUM(f.quantity), 0),"
	" COALESCE(SUM(f.amount), 0), (SELECT COUNT(*) FROM (SELECT DISTINCT"
	" g.order_id FROM fact_sales g WHERE g.product_canonical_id ="
	" f.product_canonical_id AND g.order_id IS NOT NULL AND"
	" (g.is_return IS NULL OR g.is_return = 0))) FROM fact_sales f"
	" WHERE f.product_canonical_id IS NOT NULL"
	" GROUP BY f.product_canonical_id";

/* Every row of sql as one text (typeof() and quote() of each column,
 * rows in order), sqlite3_free()d by the caller. */
static char *
rows_text(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	sqlite3_str *out = sqlite3_str_new(db);
	int i, n;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sqlite3_errmsg(db), sql);
	n = sqlite3_column_count(st);
	while (sqlite3_step(st) == SQLITE_ROW) {
		for (i = 0; i < n; i++) {
			int t = sqlite3_column_type(st, i);
			sqlite3_str_appendf(out, "%s%d:%s", i ? "|" : "", t,
			    t == SQLITE_NULL ? "" : (const char *)
			    sqlite3_column_text(st, i));
		}
		sqlite3_str_appendchar(out, 1, '\n');
	}
	sqlite3_finalize(st);
	return sqlite3_str_finish(out);
}

/* Counts the statements that fill agg_product_sales by SQL
 * (SQLITE_TRACE_STMT). */
static int
sellers_trace(unsigned type, void *ctx, void *p, void *x)
{
	const char *sql = sqlite3_sql(p);

	(void)type;
	(void)x;
	if (sql != NULL && strstr(sql, "INSERT INTO agg_product_sales") !=
	    NULL && strstr(sql, "SELECT") != NULL)
		++*(int *)ctx;
	return 0;
}

/* The aggregate tables dash_aggregate_tables() filled equal the
 * reference statements' rows, in the same order; by_sql: whether
 * agg_product_sales was to be filled by its statement (1) or by the
 * pass (0). */
static void
same_as_statements_by(sqlite3 *m, int by_sql)
{
	static const struct { const char *got, *want; } cmp[] = {
		{ "SELECT day, country, category, order_id,"
		  " customer_canonical_id, revenue, lines, returns,"
		  " return_lines FROM agg_sales_order ORDER BY rowid",
		  ref_orders_sql },
		{ "SELECT day, country, category, product_canonical_id,"
		  " revenue, quantity, lines FROM agg_sales_product"
		  " ORDER BY rowid", ref_products_sql },
		/* the facts per file: the sources dashboard's last group */
		{ "SELECT file_id, c1 FROM agg_source_groups WHERE stmt ="
		  " (SELECT max(stmt) FROM agg_source_groups) ORDER BY rowid",
		  ref_files_sql },
		{ "SELECT product_canonical_id, quantity, revenue, orders"
		  " FROM agg_product_sales ORDER BY rowid", ref_sellers_sql },
	};
	struct cc_diag d;
	char *got, *want;
	size_t i;

	int ran = 0;

	cc_diag_clear(&d);
	sqlite3_trace_v2(m, SQLITE_TRACE_STMT, sellers_trace, &ran);
	if (dash_aggregate_tables(m, &d) != CC_OK)
		fail_msg("dash_aggregate_tables: %s", d.message);
	sqlite3_trace_v2(m, 0, NULL, NULL);
	if (by_sql >= 0)
		assert_int_equal(ran, by_sql);
	for (i = 0; i < sizeof(cmp) / sizeof(cmp[0]); i++) {
		got = rows_text(m, cmp[i].got);
		want = rows_text(m, cmp[i].want);
		if (got == NULL)
			fail_msg("no rows: %s", cmp[i].got);
		if (strcmp(got, want) != 0) {
			fprintf(stderr, "%s\ngot:\n%s\nwant:\n%s", cmp[i].got,
			    got, want);
			fail_msg("the aggregate pass differs from the"
			    " statements (above)");
		}
		sqlite3_free(got);
		sqlite3_free(want);
	}
}

static void
same_as_statements(sqlite3 *m)
{
	same_as_statements_by(m, -1);
}

/*
 * The aggregate pass (one scan of the facts, groups in memory) against
 * the GROUP BY statements it replaced, on facts that hit every case:
 * groups whose lines are far apart in rowid order, NULL and missing
 * members (customer_sk NULL, a surrogate key no dimension row has, the
 * unknown member 0), NULL dates, countries and categories, a canonical
 * id kept as text, returns with and without amounts, NULL quantities,
 * text that sorts by bytes ('a' after 'Z', a prefix before the longer
 * text), several files.  Then the values the pass leaves to SQLite: a
 * REAL amount (the statements' floating sum), and a sum beyond int64
 * (the statements' "integer overflow" error).
 */
static void
test_aggregate_pass(void **state)
{
	sqlite3 *db = db_of(state), *m = NULL;
	struct cc_diag d;

	exec(db, base_sql);
	exec(db, "INSERT INTO dim_customer (customer_sk, canonical_id,"
	    " country, is_current, version) VALUES (0, 0, NULL, 1, 1),"
	    " (5, 105, 'a', 1, 1), (6, 106, 'Z', 1, 1), (7, 107, 'ZZ', 1, 1);"
	    "INSERT INTO fact_sales (order_id, line_number, order_date,"
	    " customer_sk, product_sk, customer_canonical_id,"
	    " product_canonical_id, quantity, amount, is_return, _file_id,"
	    " _row) VALUES"
	    " ('O9', 1, '2024-01-15', 5, 10, 105, 201, 2, 7000, 0, 'f9', 1),"
	    " ('C9', 1, '2024-01-15', 5, 10, 105, 201, -2, -7000, 1, 'f9', 2),"
	    " ('C9', 2, '2024-01-15', 5, 10, 105, 201, -1, NULL, 1, 'f9', 3),"
	    " ('O10', 1, NULL, NULL, 13, NULL, 203, NULL, NULL, 0, 'f1', 1),"
	    " ('O10', 2, NULL, 99, 99, 'x7', 299, 1, 100, 0, 'f1', 2),"
	    " ('O11', 1, '2024-01-15', 0, 12, 0, 202, 1, 52500, 0, 'f9', 4),"
	    " ('O12', 1, '2024-02-10', 6, 11, 106, 202, 3, 1, 0, 'f2', 9),"
	    " ('O12', 2, '2024-02-10', 7, 11, 107, 202, 3, 2, 0, 'f2', 10),"
	    " ('O9', 2, '2024-01-15', 5, 10, 105, 201, 1, 3500, 0, 'f9', 5),"
	    " ('O2', 3, '2024-02-10', 3, 11, 102, 202, 1, 75000, 0, 'f1', 3);");
	assert_int_equal(sqlite3_open(sqlite3_db_filename(db, "model"), &m),
	    SQLITE_OK);
	/* the facts in order id order, as load.c inserts them: the pass
	 * counts agg_product_sales too (a product twice in an order, an
	 * order of returns only, a NULL quantity and amount) */
	exec(m, "CREATE TEMP TABLE f AS SELECT * FROM fact_sales;"
	    " UPDATE temp.f SET sales_sk = NULL;"	/* new rowids */
	    " DELETE FROM fact_sales; INSERT INTO fact_sales SELECT * FROM"
	    " temp.f ORDER BY order_id, line_number");
	same_as_statements_by(m, 0);
	/* order ids out of order (C9's second line last): its statement */
	exec(m, "DELETE FROM fact_sales; INSERT INTO fact_sales SELECT * FROM"
	    " temp.f ORDER BY order_id = 'C9' AND line_number = 2, order_id,"
	    " line_number; DROP TABLE temp.f");
	same_as_statements_by(m, 1);
	/* a REAL amount: the statements' sums */
	exec(m, "UPDATE fact_sales SET amount = 12.5 WHERE order_id = 'O12'"
	    " AND line_number = 1");
	same_as_statements(m);
	/* a sum beyond int64: the statements' error, nothing half done */
	exec(m, "UPDATE fact_sales SET amount = 9223372036854775807 WHERE"
	    " order_id IN ('O9', 'O12')");
	cc_diag_clear(&d);
	assert_int_equal(dash_aggregate_tables(m, &d), CC_EDB);
	assert_non_null(strstr(d.message, "overflow"));
	sqlite3_close(m);
}

/* The statements a connection prepared and ran (SQLITE_TRACE_STMT),
 * each once. */
struct ran {
	char	*sql[64];
	size_t	 n;
};

static int
ran_trace(unsigned type, void *ctx, void *p, void *x)
{
	struct ran *r = ctx;
	const char *sql = sqlite3_sql(p);
	size_t i;

	(void)type;
	(void)x;
	if (sql == NULL || strstr(sql, "agg_sales_") == NULL)
		return 0;
	for (i = 0; i < r->n; i++)
		if (strcmp(r->sql[i], sql) == 0)
			return 0;
	/* every statement kept: a plan left out could hide an unused index */
	assert_true(r->n < sizeof(r->sql) / sizeof(r->sql[0]));
	assert_non_null(r->sql[r->n++] = strdup(sql));
	return 0;
}

/* Appends to used (a text of " name" words) the indexes of sql's plan on
 * db; 1 when the plan sorts its ORDER BY in a temporary B-tree. */
static int
plan_indexes(sqlite3 *db, const char *sql, sqlite3_str *used)
{
	sqlite3_stmt *st;
	char *q = sqlite3_mprintf("EXPLAIN QUERY PLAN %s", sql);
	const char *detail, *ix;
	int sorts = 0;
	size_t len;

	if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sqlite3_errmsg(db), q);
	while (sqlite3_step(st) == SQLITE_ROW) {
		detail = (const char *)sqlite3_column_text(st, 3);
		if (strstr(detail, "TEMP B-TREE FOR ORDER BY") != NULL)
			sorts = 1;
		if (strstr(detail, "VIRTUAL TABLE") != NULL ||
		    (ix = strstr(detail, "INDEX ")) == NULL)
			continue;	/* json_each's "INDEX 1:" is no index */
		ix += 6;
		len = strcspn(ix, " ()");
		sqlite3_str_appendf(used, " %.*s ", (int)len, ix);
	}
	sqlite3_finalize(st);
	sqlite3_free(q);
	return sorts;
}

/*
 * Every index the aggregate phase builds on agg_sales_order and
 * agg_sales_product is in the plan of a statement that reads them: the
 * dashboards from the aggregates (sales with and without each filter,
 * products, customers, sources) and the customer segments.  The plans
 * are EXPLAIN QUERY PLAN's of the very statements traced as they ran;
 * an index no plan uses only costs the run its build.  The one-pass
 * sales read sorted by order id must not sort (its covering index).
 */
static void
test_aggregate_indexes_used(void **state)
{
	static const struct { const char *name, *query; } builds[] = {
		{ "sales", NULL }, { "sales", "from=2024-02-01" },
		{ "sales", "to=2024-02-10" }, { "sales", "country=GB" },
		{ "sales", "category=Toys" },
		{ "sales", "from=2024-01-01&country=GB,US&category=Tools" },
		{ "products", NULL }, { "customers", NULL },
		{ "sources", NULL },
	};
	struct dash_limits lim = { 60000, NULL, NULL };
	struct dash_filters f;
	struct cc_diag d;
	struct ran ran_ws, ran_m;
	sqlite3 *db = db_of(state), *m = NULL;
	sqlite3_stmt *st;
	sqlite3_str *used;
	long long scored, customers;
	json_t *doc;
	char *u, *q, *part, *save, *eq, want[128];
	size_t i;
	int k, nix = 0, sorted_read = 0;

	memset(&ran_ws, 0, sizeof(ran_ws));
	memset(&ran_m, 0, sizeof(ran_m));
	exec(db, base_sql);
	assert_int_equal(sqlite3_open(sqlite3_db_filename(db, "model"), &m),
	    SQLITE_OK);
	sqlite3_trace_v2(m, SQLITE_TRACE_STMT, ran_trace, &ran_m);
	cc_diag_clear(&d);
	if (dash_aggregate_tables(m, &d) != CC_OK ||
	    segment_build(m, &scored, &customers, &d) != CC_OK ||
	    dash_aggregate_documents(m, &d) != CC_OK)
		fail_msg("aggregates: %s", d.message);
	sqlite3_trace_v2(db, SQLITE_TRACE_STMT, ran_trace, &ran_ws);
	for (i = 0; i < sizeof(builds) / sizeof(builds[0]); i++) {
		k = dash_lookup(builds[i].name);
		assert_true(k >= 0);
		dash_filters_init(&f);
		if (builds[i].query != NULL) {
			q = strdup(builds[i].query);
			save = NULL;
			for (part = strtok_r(q, "&", &save); part != NULL;
			    part = strtok_r(NULL, "&", &save)) {
				eq = strchr(part, '=');
				*eq++ = '\0';
				assert_int_equal(dash_filter_add(&f,
				    (enum dash_name)k, part, eq, &d), CC_OK);
			}
			free(q);
		}
		doc = NULL;
		if (dash_build_limited(db, (enum dash_name)k, &f, NOW, &lim,
		    &doc, &d) != CC_OK)
			fail_msg("%s: %s", builds[i].name, d.message);
		json_decref(doc);
		dash_filters_free(&f);
	}
	sqlite3_trace_v2(db, 0, NULL, NULL);
	sqlite3_trace_v2(m, 0, NULL, NULL);
	used = sqlite3_str_new(NULL);
	for (i = 0; i < ran_m.n; i++) {
		/* the reads only: not the aggregate phase's own writes */
		if (strncmp(ran_m.sql[i], "SELECT", 6) == 0 ||
		    strncmp(ran_m.sql[i], "WITH", 4) == 0)
			plan_indexes(m, ran_m.sql[i], used);
		free(ran_m.sql[i]);
	}
	for (i = 0; i < ran_ws.n; i++) {
		if (plan_indexes(db, ran_ws.sql[i], used) &&
		    strstr(ran_ws.sql[i], "ORDER BY order_id") != NULL)
			fail_msg("the one-pass read sorts: %s", ran_ws.sql[i]);
		sorted_read += strstr(ran_ws.sql[i], "ORDER BY order_id") !=
		    NULL;
		free(ran_ws.sql[i]);
	}
	/* the filtered sales were read in one pass, sorted by order id */
	assert_true(sorted_read > 0);
	u = sqlite3_str_finish(used);
	assert_non_null(u);
	assert_int_equal(sqlite3_prepare_v2(m, "SELECT name FROM"
	    " sqlite_schema WHERE type = 'index' AND tbl_name IN"
	    " ('agg_sales_order', 'agg_sales_product') AND sql IS NOT NULL",
	    -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(want, sizeof(want), " %s ",
		    (const char *)sqlite3_column_text(st, 0));
		if (strstr(u, want) == NULL)
			fail_msg("index%s is used by no plan (plans used:%s)",
			    want, u);
		nix++;
	}
	sqlite3_finalize(st);
	assert_true(nix > 0);
	sqlite3_free(u);
	sqlite3_close(m);
}

/*
 * The stored documents' parts refuse what they cannot store: a
 * dashboard without a stored document (quality, an out-of-range
 * value), a missing text; nothing is written then.  Built part by part,
 * the documents are dash_aggregate_documents()'s.
 */
static void
test_document_parts(void **state)
{
	sqlite3 *db = db_of(state), *m = NULL;
	struct cc_diag d;
	char *texts[8], *text = (char *)"x", *whole, *parts;
	int i, n = dash_stored_count();

	exec(db, base_sql);
	assert_int_equal(sqlite3_open(sqlite3_db_filename(db, "model"), &m),
	    SQLITE_OK);
	cc_diag_clear(&d);
	assert_int_equal(dash_aggregate(m, &d), CC_OK);
	whole = rows_text(m, "SELECT rowid, name, document FROM"
	    " agg_dashboard ORDER BY rowid");
	assert_int_equal(dash_document_build(m, DASH_QUALITY, &text, &d),
	    CC_EINVAL);
	assert_null(text);
	assert_string_equal(d.code, "dashboard");
	text = (char *)"x";
	assert_int_equal(dash_document_build(m, DASH__MAX, &text, &d),
	    CC_EINVAL);
	assert_null(text);
	assert_true(n > 0 && n <= 8);
	assert_int_equal(dash_documents_begin(m, &d), CC_OK);
	for (i = 0; i < n; i++)
		assert_int_equal(dash_document_build(m, dash_stored_at(i),
		    &texts[i], &d), CC_OK);
	/* one missing: refused, nothing stored beyond the marker */
	text = texts[n - 1];
	texts[n - 1] = NULL;
	cc_diag_clear(&d);
	assert_int_equal(dash_documents_store(m, texts, &d), CC_EINVAL);
	assert_string_equal(d.code, "dashboard");
	parts = rows_text(m, "SELECT count(*) FROM agg_dashboard");
	assert_string_equal(parts, "1:1\n");
	sqlite3_free(parts);
	texts[n - 1] = text;
	assert_int_equal(dash_documents_store(m, texts, &d), CC_OK);
	parts = rows_text(m, "SELECT rowid, name, document FROM"
	    " agg_dashboard ORDER BY rowid");
	assert_string_equal(parts, whole);
	for (i = 0; i < n; i++)
		free(texts[i]);
	sqlite3_free(parts);
	sqlite3_free(whole);
	sqlite3_close(m);
}

/* the sources dashboard's MATCHED(dim_customer, stg_customer)
 * statement (core/dashboard.c) */
static const char ref_matched_sql[] =
	"WITH refs AS (SELECT DISTINCT"
	" json_extract(j.value, '$.file_id') AS fid,"
	" json_extract(j.value, '$.row') AS rec"
	" FROM dim_customer d, json_each(CASE WHEN json_valid(d.sources)"
	" THEN d.sources ELSE '[]' END) j WHERE j.type = 'object')"
	" SELECT s._file_id, COUNT(*) FROM refs JOIN stg_customer s"
	" ON s._file_id = refs.fid AND s._row = refs.rec GROUP BY s._file_id";

/* The customers' matched rows dash_aggregate_tables() stored equal the
 * statement's rows, in the same order; want: their number. */
static void
matched_as_statement(sqlite3 *m, int want)
{
	struct cc_diag d;
	char *got, *ref;
	int n = 0;
	const char *p;

	cc_diag_clear(&d);
	if (dash_aggregate_tables(m, &d) != CC_OK)
		fail_msg("dash_aggregate_tables: %s", d.message);
	/* stmt 2: stg_sources[0] (customer), matched */
	got = rows_text(m, "SELECT file_id, c1 FROM agg_source_groups"
	    " WHERE stmt = 2 ORDER BY rowid");
	ref = rows_text(m, ref_matched_sql);
	if (strcmp(got, ref) != 0) {
		fprintf(stderr, "got:\n%s\nwant:\n%s", got, ref);
		fail_msg("matched rows differ from the statement (above)");
	}
	for (p = ref; *p != '\0'; p++)
		n += *p == '\n';
	assert_int_equal(n, want);
	sqlite3_free(got);
	sqlite3_free(ref);
}

/*
 * The matched rows per file without json_each against the statement, on
 * lineage that hits every case: references repeated within a row and
 * across rows, to missing rows and files, NULL, invalid and empty
 * sources, objects without a row, file ids in byte order ('B' before 'a',
 * a prefix first) and UTF-8; then values the statement reads its own way
 * (a row as text or REAL, a file id as a number, an escape, an object
 * instead of an array, a non-object element, a staged row stored as
 * text, a duplicate key), each answered as the statement does.
 */
static void
test_matched_lineage(void **state)
{
	static const char *const odd[] = {
		"'[{\"file_id\":\"f1\",\"row\":\"3\"}]'",
		"'[{\"file_id\":\"f1\",\"row\":3.0}]'",
		"'[{\"file_id\":7,\"row\":1}]'",
		"'[{\"file_id\":\"f\\u0031\",\"row\":3}]'",
		"'{\"a\":{\"file_id\":\"f1\",\"row\":3}}'",
		"'[1,{\"file_id\":\"f1\",\"row\":3}]'",
		"'[{\"file_id\":\"f1\",\"row\":3,\"x\":{\"y\":1}}]'",
		"'[{\"file_id\":\"f1\",\"row\":3,\"row\":4}]'",
		"'[{\"file_id\":\"f1\",\"row\":null}]'",
		"X'5b5d'",
		"5",
	};
	sqlite3 *db = db_of(state), *m = NULL;
	char sql[256];
	size_t i;

	exec(db, base_sql);
	exec(db, "INSERT INTO stg_customer (_file_id, _row) VALUES ('f1', 1),"
	    " ('f1', 2), ('f1', 3), ('f1', 4), ('f2', 3), ('a', 1), ('B', 1),"
	    " ('B1', 1), ('fé', 2), ('7', 1), ('zz', 9);"
	    "UPDATE dim_customer SET sources = CASE customer_sk"
	    " WHEN 1 THEN '[{\"file_id\":\"f1\",\"row\":1},"
	    "{\"file_id\":\"f1\",\"row\":1},{\"file_id\":\"a\",\"row\":1}]'"
	    " WHEN 2 THEN '[{\"file_id\":\"f1\",\"row\":1},"
	    "{\"file_id\":\"f2\",\"row\":3},{\"file_id\":\"B1\",\"row\":1},"
	    "{\"file_id\":\"B\",\"row\":1},{\"file_id\":\"gone\",\"row\":1},"
	    "{\"file_id\":\"f1\",\"row\":99},{\"file_id\":\"fé\",\"row\":2},"
	    "{\"file_id\":\"f1\"},{\"row\":4}]'"
	    " WHEN 3 THEN 'not json' WHEN 4 THEN '[]' ELSE NULL END");
	assert_int_equal(sqlite3_open(sqlite3_db_filename(db, "model"), &m),
	    SQLITE_OK);
	/* B, B1, a, f1 (rows 1), f2, fé */
	matched_as_statement(m, 6);
	for (i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		snprintf(sql, sizeof(sql), "UPDATE dim_customer SET sources ="
		    " %s WHERE customer_sk = 4", odd[i]);
		exec(m, sql);
		/* the number 7 names file '7' (TEXT affinity): a group */
		matched_as_statement(m, i == 2 ? 7 : 6);
	}
	/* a staged row whose _row is text: compared as the statement */
	exec(m, "UPDATE dim_customer SET sources = '[]' WHERE customer_sk = 4;"
	    " INSERT INTO stg_customer (_file_id, _row) VALUES ('f1', 'x')");
	matched_as_statement(m, 6);
	sqlite3_close(m);
}

/* agg_source_groups as a reader sees it: every row with its rowid and
 * the types of its values. */
static char *
groups_text(sqlite3 *m)
{
	return rows_text(m, "SELECT rowid, stmt, quote(file_id), quote(c1),"
	    " quote(c2) FROM agg_source_groups ORDER BY rowid");
}

/* The fixture's model on two more connections: *m read-write, *r2
 * read-only (query_only), as the run and one of its threads have it. */
static void
two_connections(sqlite3 *db, sqlite3 **m, sqlite3 **r2)
{
	exec(db, base_sql);
	assert_int_equal(sqlite3_open(sqlite3_db_filename(db, "model"), m),
	    SQLITE_OK);
	assert_int_equal(sqlite3_open_v2(sqlite3_db_filename(db, "model"),
	    r2, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	exec(*r2, "PRAGMA query_only=1");
}

/* Round 0: the facts as they are; round 1: a REAL amount (the
 * statements' sums).  dash_aggregate_tables() on m, then text(m). */
static char *
tables_inline(sqlite3 *m, int round, char *(*text)(sqlite3 *))
{
	struct cc_diag d;
	char *t;

	if (round == 1)
		exec(m, "UPDATE fact_sales SET amount = 12.5 WHERE rowid ="
		    " (SELECT min(rowid) FROM fact_sales)");
	cc_diag_clear(&d);
	if (dash_aggregate_tables(m, &d) != CC_OK)
		fail_msg("dash_aggregate_tables: %s", d.message);
	t = text(m);
	assert_non_null(t);
	return t;
}

/*
 * The sources dashboard's groups read on a second connection
 * (dash_sources_read()) and stored by the first (dash_sources_store())
 * are the rows dash_aggregate_tables() stores, rowids included, the
 * facts' counts in their place; stored without reading ahead, the same;
 * the facts pass left to the statements (a REAL amount), the same; a
 * second read, and NULL arguments, are refused.
 */
static void
test_sources_read_elsewhere(void **state)
{
	sqlite3 *db = db_of(state), *m = NULL, *r2 = NULL;
	struct dash_sources *src = NULL;
	struct cc_diag d;
	char *want, *got;
	int round;

	two_connections(db, &m, &r2);
	cc_diag_clear(&d);
	for (round = 0; round < 2; round++) {
		want = tables_inline(m, round, groups_text);
		/* the facts' statement among them */
		assert_non_null(strstr(want, "|1:104|"));
		/* read on the second connection, stored on the first */
		assert_int_equal(dash_aggregate_facts(m, &src, &d), CC_OK);
		got = groups_text(m);
		assert_true(got == NULL || got[0] == '\0');
		sqlite3_free(got);
		assert_int_equal(dash_sources_read(r2, src, &d), CC_OK);
		assert_int_equal(dash_sources_read(r2, src, &d), CC_EINVAL);
		assert_int_equal(dash_sources_store(m, src, &d), CC_OK);
		dash_sources_free(src);
		got = groups_text(m);
		assert_string_equal(got, want);
		sqlite3_free(got);
		/* not read ahead: read and stored on the first */
		assert_int_equal(dash_aggregate_facts(m, &src, &d), CC_OK);
		assert_int_equal(dash_sources_store(m, src, &d), CC_OK);
		dash_sources_free(src);
		got = groups_text(m);
		assert_string_equal(got, want);
		sqlite3_free(got);
		sqlite3_free(want);
	}
	assert_int_equal(dash_aggregate_facts(m, &src, &d), CC_OK);
	assert_int_equal(dash_sources_read(NULL, src, &d), CC_EINVAL);
	assert_int_equal(dash_sources_read(r2, NULL, &d), CC_EINVAL);
	assert_int_equal(dash_sources_store(NULL, src, &d), CC_EINVAL);
	assert_int_equal(dash_sources_store(m, NULL, &d), CC_EINVAL);
	dash_sources_free(src);
	dash_sources_free(NULL);
	sqlite3_close(r2);
	sqlite3_close(m);
}

/* The aggregate tables and the sources' groups as a reader sees them. */
static char *
aggregates_text(sqlite3 *m)
{
	return rows_text(m, "SELECT 'o', rowid, quote(day), quote(country),"
	    " quote(category), quote(order_id), quote(customer_canonical_id),"
	    " quote(revenue), lines, quote(returns), quote(return_lines) FROM"
	    " agg_sales_order UNION ALL SELECT 'p', rowid, quote(day),"
	    " quote(country), quote(category), quote(product_canonical_id),"
	    " quote(revenue), quote(quantity), lines, NULL, NULL FROM"
	    " agg_sales_product UNION ALL SELECT 'g', rowid, stmt,"
	    " quote(file_id), quote(c1), quote(c2), NULL, NULL, NULL, NULL,"
	    " NULL FROM agg_source_groups ORDER BY 1, 2");
}

/*
 * The facts' pass read on a second, read-only connection
 * (dash_facts_read()) and written by the first
 * (dash_aggregate_facts_from(): the run reads it on a thread while it
 * builds the facts' indexes) gives the tables dash_aggregate_tables()
 * gives, rowids included, from the facts the pass read (an amount changed
 * after it does not count); so does a pass the statements answer (a REAL
 * amount); NULL arguments are refused.
 */
static void
test_facts_read_elsewhere(void **state)
{
	sqlite3 *db = db_of(state), *m = NULL, *r2 = NULL;
	struct dash_sources *src = NULL;
	struct dash_facts *f = NULL;
	struct cc_diag d;
	char *want, *got;
	int round;

	two_connections(db, &m, &r2);
	cc_diag_clear(&d);
	for (round = 0; round < 2; round++) {
		want = tables_inline(m, round, aggregates_text);
		/* rows of each table there */
		assert_non_null(strstr(want, "3:o|1:1|"));
		assert_non_null(strstr(want, "3:p|1:1|"));
		assert_non_null(strstr(want, "3:g|1:1|"));
		exec(m, "DELETE FROM agg_sales_order; DELETE FROM"
		    " agg_sales_product; DELETE FROM agg_source_groups");
		assert_int_equal(dash_facts_read(r2, &f, &d), CC_OK);
		assert_non_null(f);
		/* the tables are the pass's, not the facts' now (an amount
		 * changed after the pass: put back below) */
		if (round == 0)
			exec(m, "UPDATE fact_sales SET amount = amount + 100"
			    " WHERE rowid = (SELECT max(rowid) FROM fact_sales)");
		assert_int_equal(dash_aggregate_facts_from(m, f, &src, &d),
		    CC_OK);
		dash_facts_free(f);
		if (round == 0)
			exec(m, "UPDATE fact_sales SET amount = amount - 100"
			    " WHERE rowid = (SELECT max(rowid) FROM fact_sales)");
		assert_int_equal(dash_sources_store(m, src, &d), CC_OK);
		dash_sources_free(src);
		got = aggregates_text(m);
		assert_string_equal(got, want);
		sqlite3_free(got);
		sqlite3_free(want);
	}
	f = (struct dash_facts *)1;
	assert_int_equal(dash_facts_read(NULL, &f, &d), CC_EINVAL);
	assert_null(f);
	assert_int_equal(dash_facts_read(r2, NULL, &d), CC_EINVAL);
	dash_facts_free(NULL);
	sqlite3_close(r2);
	sqlite3_close(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup_and_catalogue),
		cmocka_unit_test(test_filters_accepted),
		cmocka_unit_test(test_filters_refused),
		cmocka_unit_test_setup_teardown(test_empty_workspace, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_empty_model, setup_model,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sales_tiles, setup_model,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sales_series, setup_model,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sales_filters,
		    setup_model, teardown),
		cmocka_unit_test_setup_teardown(test_sales_returns,
		    setup_model, teardown),
		cmocka_unit_test_setup_teardown(test_sales_return_orders,
		    setup_model, teardown),
		cmocka_unit_test_setup_teardown(test_sales_scd_country,
		    setup_model, teardown),
		cmocka_unit_test_setup_teardown(test_sales_null_groups,
		    setup_model, teardown),
		cmocka_unit_test_setup_teardown(test_sales_average_half_even,
		    setup_model, teardown),
		cmocka_unit_test_setup_teardown(test_sales_top_ten,
		    setup_model, teardown),
		cmocka_unit_test_setup_teardown(test_aggregate_pass,
		    setup_model, teardown),
		cmocka_unit_test_setup_teardown(test_facts_read_elsewhere,
		    setup_model, teardown),
		cmocka_unit_test_setup_teardown(test_sources_read_elsewhere,
		    setup_model, teardown),
		cmocka_unit_test_setup_teardown(test_aggregate_indexes_used,
		    setup_model, teardown),
		cmocka_unit_test_setup_teardown(test_document_parts,
		    setup_model, teardown),
		cmocka_unit_test_setup_teardown(test_aggregates_many_lines,
		    setup_model, teardown),
		cmocka_unit_test_setup_teardown(test_matched_lineage,
		    setup_model, teardown),
		cmocka_unit_test_setup_teardown(test_customers, setup_model,
		    teardown),
		cmocka_unit_test_setup_teardown(test_top_sellers_pass,
		    setup_model, teardown),
		cmocka_unit_test_setup_teardown(test_products, setup_model,
		    teardown),
		cmocka_unit_test_setup_teardown(test_quality, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_quality_latest_twenty,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_sources, setup_model,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sources_every_entity,
		    setup_model, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_schema, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_bytes, setup_model,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_fixture_ddl_matches_model, setup, teardown),
	};

	return cmocka_run_group_tests_name("dashboard", tests, NULL, NULL);
}
