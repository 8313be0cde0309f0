/*
 * dashboard.c - the dashboards of the read side (concord/dashboard.h).
 *
 * Every statement is a fixed string declared below, with its parameters
 * bound, prepared by prep() which refuses a statement that could write
 * (sqlite3_stmt_readonly()).  A document is built inside one read
 * transaction: with WAL, every figure of it comes from the same snapshot.
 * Rows become JSON through tables of columns (struct col): the SQL text
 * and the JSON keys of one series sit side by side.
 */
#include "config.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "concord/dashboard.h"
#include "concord/segment.h"
#include "concord/query.h"
#include "concord/db.h"
#include "concord/util.h"

#define DASH_GONE_EVERY_MS	50.0	/* how often the client is checked */

#define N(a)	(sizeof(a) / sizeof((a)[0]))

/* ---- catalogue ------------------------------------------------------- */

static const char *const sales_filters[] = {
	"from", "to", "country", "category", NULL
};
static const char *const no_filters[] = { NULL };

static const struct dash_def {
	const char		*name;
	const char *const	*filters;	/* NULL-terminated */
} dashes[DASH__MAX] = {
	/* DASH_SALES */	{ "sales", sales_filters },
	/* DASH_CUSTOMERS */	{ "customers", no_filters },
	/* DASH_PRODUCTS */	{ "products", no_filters },
	/* DASH_QUALITY */	{ "quality", no_filters },
	/* DASH_SOURCES */	{ "sources", no_filters },
};

int
dash_lookup(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < N(dashes); i++)
		if (strcmp(dashes[i].name, name) == 0)
			return (int)i;
	return -1;
}

const char *
dash_name_str(enum dash_name d)
{
	return (unsigned)d < DASH__MAX ? dashes[d].name : NULL;
}

json_t *
dash_catalogue(void)
{
	json_t *all = json_array(), *fs, *one;
	size_t i, k;

	for (i = 0; all != NULL && i < N(dashes); i++) {
		if ((fs = json_array()) == NULL)
			goto fail;
		for (k = 0; dashes[i].filters[k] != NULL; k++)
			if (json_array_append_new(fs,
			    json_string(dashes[i].filters[k])) != 0) {
				json_decref(fs);
				goto fail;
			}
		one = json_pack("{s:s, s:o}", "name", dashes[i].name,
		    "filters", fs);
		if (one == NULL || json_array_append_new(all, one) != 0)
			goto fail;
	}
	return all;
fail:
	json_decref(all);
	return NULL;
}

/* ---- money ----------------------------------------------------------- */

static json_t *
json_money(int64_t units)
{
	char buf[32];

	query_money_format(units, buf);	/* the exports' own formatter */
	return json_string(buf);
}

/*
 * num / den rounded half to even (den > 0), in integers: the remainder
 * is compared with den - r, never doubled, so nothing overflows.
 * Negative quotients round symmetrically.
 */
static int64_t
div_half_even(int64_t num, int64_t den)
{
	uint64_t m = num < 0 ? (uint64_t)0 - (uint64_t)num : (uint64_t)num;
	uint64_t d = (uint64_t)den, q = m / d, r = m % d;

	if (r > d - r || (r == d - r && (q & 1) != 0))
		q++;
	/* Back through uint64_t: -2^63 / 1 has no positive int64_t. */
	return (int64_t)(num < 0 ? (uint64_t)0 - q : q);
}

/* An average of money, num / den (den > 0) rounded half to even to the
 * cent (QUERY_MONEY_MIN_DIGITS), in units. */
static int64_t
avg_cent(int64_t num, int64_t den)
{
	const int64_t cent = QUERY_MONEY_UNIT / 100;

	if (den > INT64_MAX / cent)
		return div_half_even(num, den);
	return div_half_even(num, den * cent) * cent;
}

/* ---- filters --------------------------------------------------------- */

void
dash_filters_init(struct dash_filters *f)
{
	memset(f, 0, sizeof(*f));
}

void
dash_filters_free(struct dash_filters *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->ncategory; i++)
		free(f->category[i]);
	dash_filters_init(f);
}

static int
takes(enum dash_name d, const char *key)
{
	size_t i;

	for (i = 0; dashes[d].filters[i] != NULL; i++)
		if (strcmp(dashes[d].filters[i], key) == 0)
			return 1;
	return 0;
}

/* 1 if s is a calendar date YYYY-MM-DD (years 0001-9999). */
static int
valid_date(const char *s)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30,
	    31, 30, 31 };
	int y, m, d, i, leap;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return 0;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
	    (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1 || m < 1 || m > 12 || d < 1)
		return 0;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return d <= mdays[m - 1] + (m == 2 && leap);
}

/*
 * The length (1..4) of the well-formed UTF-8 sequence s starts with, or
 * 0 when it starts none (NUL, a stray byte, an overlong form, a
 * surrogate, above U+10FFFF).  RFC 3629.
 */
static size_t
utf8_seq(const unsigned char *s)
{
	unsigned cp, min;
	size_t n, i;

	if (s[0] == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2; cp = s[0] & 0x1f; min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3; cp = s[0] & 0x0f; min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4; cp = s[0] & 0x07; min = 0x10000;
	} else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* 1 if s is well-formed UTF-8. */
static int
valid_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	while (*p != 0) {
		if ((n = utf8_seq(p)) == 0)
			return 0;
		p += n;
	}
	return 1;
}

/*
 * A JSON string of s; bytes that are not UTF-8 (a table written by
 * something else than the cleaners) become U+FFFD instead of failing the
 * whole document.  NULL when out of memory.
 */
static json_t *
text_json(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char *buf, *o;
	json_t *v;
	size_t n;

	if (valid_utf8(s))
		return json_string(s);
	if ((buf = malloc(strlen(s) * 3 + 1)) == NULL)
		return NULL;
	for (o = buf; *p != 0; ) {
		if ((n = utf8_seq(p)) > 0) {
			memcpy(o, p, n);
			p += n;
			o += n;
		} else {
			memcpy(o, "\xef\xbf\xbd", 3);
			p++;
			o += 3;
		}
	}
	*o = '\0';
	v = json_string(buf);
	free(buf);
	return v;
}

static cc_err
add_date(char *slot, const char *other, int is_from, const char *value,
    struct cc_diag *diag)
{
	const char *key = is_from ? "from" : "to";

	if (slot[0] != '\0')
		return cc_diag_set(diag, CC_EINVAL, "filter_repeated",
		    "give %s once", key);
	if (!valid_date(value))
		return cc_diag_set(diag, CC_EINVAL, "filter_date",
		    "%s must be a date YYYY-MM-DD", key);
	if (other[0] != '\0' && (is_from ? strcmp(value, other) > 0 :
	    strcmp(other, value) > 0))
		return cc_diag_set(diag, CC_EINVAL, "filter_range",
		    "from must not be after to");
	memcpy(slot, value, 11);
	return CC_OK;
}

static cc_err
add_countries(struct dash_filters *f, const char *value,
    struct cc_diag *diag)
{
	const char *p = value, *e;
	char code[3];
	size_t i, n;

	for (;;) {
		e = p + strcspn(p, ",");
		while (p < e && *p == ' ')
			p++;
		n = (size_t)(e - p);
		while (n > 0 && p[n - 1] == ' ')
			n--;
		if (n != 2 || !((p[0] | 0x20) >= 'a' && (p[0] | 0x20) <= 'z') ||
		    !((p[1] | 0x20) >= 'a' && (p[1] | 0x20) <= 'z'))
			return cc_diag_set(diag, CC_EINVAL, "filter_country",
			    "country takes ISO 3166-1 alpha-2 codes (US, DE),"
			    " comma-separated or repeated");
		code[0] = (char)(p[0] & ~0x20);
		code[1] = (char)(p[1] & ~0x20);
		code[2] = '\0';
		for (i = 0; i < f->ncountry; i++)
			if (strcmp(f->country[i], code) == 0)
				break;
		if (i == f->ncountry) {
			if (f->ncountry == DASH_MAX_VALUES)
				return cc_diag_set(diag, CC_EINVAL,
				    "filter_too_many", "at most %d countries",
				    DASH_MAX_VALUES);
			memcpy(f->country[f->ncountry++], code, 3);
		}
		if (*e == '\0')
			return CC_OK;
		p = e + 1;
	}
}

static cc_err
add_category(struct dash_filters *f, const char *value,
    struct cc_diag *diag)
{
	size_t i, n = strlen(value);

	if (n == 0 || n > DASH_MAX_VALUE_LEN || !valid_utf8(value))
		return cc_diag_set(diag, CC_EINVAL, "filter_category",
		    "category takes one name of 1 to %d bytes of UTF-8 per"
		    " parameter", DASH_MAX_VALUE_LEN);
	for (i = 0; i < f->ncategory; i++)
		if (strcmp(f->category[i], value) == 0)
			return CC_OK;
	if (f->ncategory == DASH_MAX_VALUES)
		return cc_diag_set(diag, CC_EINVAL, "filter_too_many",
		    "at most %d categories", DASH_MAX_VALUES);
	if ((f->category[f->ncategory] = strdup(value)) == NULL)
		return CC_ENOMEM;
	f->ncategory++;
	return CC_OK;
}

cc_err
dash_filter_add(struct dash_filters *f, enum dash_name d, const char *key,
    const char *value, struct cc_diag *diag)
{
	if (f == NULL || key == NULL || value == NULL || (unsigned)d >=
	    DASH__MAX)
		return cc_diag_set(diag, CC_EINVAL, "filter_unknown",
		    "no such filter");
	if (!takes(d, key)) {
		if (dashes[d].filters[0] == NULL)
			return cc_diag_set(diag, CC_EINVAL, "filter_unknown",
			    "the %s dashboard takes no filters", dashes[d].name);
		return cc_diag_set(diag, CC_EINVAL, "filter_unknown",
		    "unknown filter %.40s%s: the %s dashboard takes from, to,"
		    " country and category", key, strlen(key) > 40 ? "..." : "",
		    dashes[d].name);
	}
	if (strcmp(key, "from") == 0)
		return add_date(f->from, f->to, 1, value, diag);
	if (strcmp(key, "to") == 0)
		return add_date(f->to, f->from, 0, value, diag);
	if (strcmp(key, "country") == 0)
		return add_countries(f, value, diag);
	return add_category(f, value, diag);
}

static json_t *
opt_string(const char *s)
{
	return s[0] != '\0' ? json_string(s) : json_null();
}

json_t *
dash_filters_json(const struct dash_filters *f, enum dash_name d)
{
	json_t *c, *k;
	size_t i;

	if ((unsigned)d >= DASH__MAX || dashes[d].filters[0] == NULL)
		return json_object();
	if ((c = json_array()) == NULL || (k = json_array()) == NULL) {
		json_decref(c);
		return NULL;
	}
	for (i = 0; i < f->ncountry; i++)
		json_array_append_new(c, json_string(f->country[i]));
	for (i = 0; i < f->ncategory; i++)
		json_array_append_new(k, json_string(f->category[i]));
	if (json_array_size(c) != f->ncountry ||
	    json_array_size(k) != f->ncategory) {
		json_decref(c);
		json_decref(k);
		return NULL;
	}
	return json_pack("{s:o, s:o, s:o, s:o}", "from", opt_string(f->from),
	    "to", opt_string(f->to), "country", c, "category", k);
}

/* ---- statements ------------------------------------------------------ */

/* Prepares a fixed statement and refuses one that could write. */
static cc_err
prep(sqlite3 *db, const char *sql, sqlite3_stmt **st, struct cc_diag *diag)
{
	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK) {
		cc_diag_set(diag, CC_EDB, "sqlite", "%s", sqlite3_errmsg(db));
		sqlite3_finalize(*st);
		*st = NULL;
		return CC_EDB;
	}
	if (!sqlite3_stmt_readonly(*st)) {
		sqlite3_finalize(*st);
		*st = NULL;
		return cc_diag_set(diag, CC_EDB, "not_readonly",
		    "a dashboard statement could write");
	}
	return CC_OK;
}

/* Binds texts (NULL: SQL NULL) to ?1..?n; CC_EDB on failure. */
static cc_err
bind_texts(sqlite3 *db, sqlite3_stmt *st, const char *const *binds,
    int nbinds, struct cc_diag *diag)
{
	int i, rc;

	for (i = 0; i < nbinds; i++) {
		rc = binds[i] != NULL ? sqlite3_bind_text(st, i + 1, binds[i],
		    -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i + 1);
		if (rc != SQLITE_OK)
			return cc_diag_set(diag, CC_EDB, "sqlite", "%s",
			    sqlite3_errmsg(db));
	}
	return CC_OK;
}

/* Finishes a stepping loop: CC_OK when rc is SQLITE_DONE. */
static cc_err
stepped(sqlite3 *db, int rc, struct cc_diag *diag)
{
	if (rc == SQLITE_DONE)
		return CC_OK;
	return cc_diag_set(diag, CC_EDB, "sqlite", "%s", sqlite3_errmsg(db));
}

/*
 * 1 if every table of the NULL-terminated names exists, 0 if not, -1 on
 * error (diag set).  The model's tables live in model.db, attached to the
 * workspace as "model" once a run has built it (core/workspace.c):
 * sqlite_master would only see main, so the name is looked up the way
 * the dashboards' unqualified names resolve (pragma_table_info searches
 * every schema, main first).
 */
static int
have_tables(sqlite3 *db, const char *const *names, struct cc_diag *diag)
{
	sqlite3_stmt *st = NULL;
	int yes = 1, rc;
	size_t i;

	if (prep(db, "SELECT 1 FROM pragma_table_info(?1) LIMIT 1", &st,
	    diag) != CC_OK)
		return -1;
	for (i = 0; yes == 1 && names[i] != NULL; i++) {
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, names[i], -1, SQLITE_STATIC);
		if ((rc = sqlite3_step(st)) == SQLITE_DONE)
			yes = 0;
		else if (rc != SQLITE_ROW) {
			stepped(db, rc, diag);
			yes = -1;
		}
	}
	sqlite3_finalize(st);
	return yes;
}

/*
 * 1 if the model holds the run's aggregates (the aggregate phase ran:
 * its marker row is in agg_dashboard), 0 if not (a model of an older
 * version, or of a stage-only run), -1 on error (diag set).
 */
static int
agg_built(sqlite3 *db, struct cc_diag *diag)
{
	static const char *const names[] = { "agg_dashboard", NULL };
	sqlite3_stmt *st = NULL;
	int have, rc;

	if ((have = have_tables(db, names, diag)) <= 0)
		return have;
	if (prep(db, "SELECT 1 FROM agg_dashboard WHERE name = '_aggregates'",
	    &st, diag) != CC_OK)
		return -1;
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : (stepped(db, rc, diag), -1);
}

static int64_t
col_money(sqlite3_stmt *st, int i)
{
	double v;

	/* A MONEY column holds integers of units (QUERY_MONEY_DIGITS); a
	 * REAL there (it should not be) is rounded to the nearest unit. */
	if (sqlite3_column_type(st, i) != SQLITE_FLOAT)
		return sqlite3_column_int64(st, i);
	v = sqlite3_column_double(st, i);
	return (int64_t)(v < 0 ? v - 0.5 : v + 0.5);
}

/* ---- rows as JSON ---------------------------------------------------- */

enum kind {
	K_TEXT,		/* text, or null */
	K_INT,		/* integer, or null */
	K_MONEY,	/* integer of units (10^-4) as "12.50", or null */
	K_JSON		/* JSON text parsed, null when absent or invalid */
};

struct col {
	const char	*name;		/* JSON key */
	enum kind	 kind;
};

/* A series: a statement whose rows become an array of objects. */
struct series {
	const char	*key;		/* JSON key of the array */
	const char	*sql;
	struct col	 cols[6];	/* the statement's columns, in order;
					   ends at a NULL name */
};

static json_t *
col_value(sqlite3_stmt *st, int i, enum kind k)
{
	json_t *v;

	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return json_null();
	switch (k) {
	case K_INT:
		return json_integer((json_int_t)sqlite3_column_int64(st, i));
	case K_MONEY:
		return json_money(col_money(st, i));
	case K_JSON:
		v = json_loads((const char *)sqlite3_column_text(st, i),
		    JSON_DECODE_ANY, NULL);
		return v != NULL ? v : json_null();
	default:
		return text_json((const char *)sqlite3_column_text(st, i));
	}
}

/* The current row of st as an object keyed by cols. */
static json_t *
row_object(sqlite3_stmt *st, const struct col *cols)
{
	json_t *o = json_object();
	int i;

	for (i = 0; o != NULL && cols[i].name != NULL; i++)
		if (json_object_set_new(o, cols[i].name,
		    col_value(st, i, cols[i].kind)) != 0) {
			json_decref(o);
			return NULL;
		}
	return o;
}

/*
 * Runs sql with binds and appends every row, as an object of cols, to
 * arr.  Errors: CC_EDB, CC_ENOMEM.
 */
static cc_err
query_rows(sqlite3 *db, const char *sql, const char *const *binds,
    int nbinds, const struct col *cols, json_t *arr, struct cc_diag *diag)
{
	sqlite3_stmt *st = NULL;
	cc_err err;
	json_t *o;
	int rc;

	if ((err = prep(db, sql, &st, diag)) != CC_OK ||
	    (err = bind_texts(db, st, binds, nbinds, diag)) != CC_OK)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((o = row_object(st, cols)) == NULL ||
		    json_array_append_new(arr, o) != 0) {
			err = CC_ENOMEM;
			goto out;
		}
	err = stepped(db, rc, diag);
out:
	sqlite3_finalize(st);
	return err;
}

/* Runs a one-row statement and sets each column into obj under cols. */
static cc_err
query_object(sqlite3 *db, const char *sql, const char *const *binds,
    int nbinds, const struct col *cols, json_t *obj, struct cc_diag *diag)
{
	sqlite3_stmt *st = NULL;
	cc_err err;
	int i, rc;

	if ((err = prep(db, sql, &st, diag)) != CC_OK ||
	    (err = bind_texts(db, st, binds, nbinds, diag)) != CC_OK)
		goto out;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (i = 0; cols[i].name != NULL; i++)
			if (json_object_set_new(obj, cols[i].name,
			    col_value(st, i, cols[i].kind)) != 0) {
				err = CC_ENOMEM;
				goto out;
			}
	} else
		err = stepped(db, rc, diag);
out:
	sqlite3_finalize(st);
	return err;
}

/* Sets key of obj to v (stolen); CC_ENOMEM when v is NULL or on failure. */
static cc_err
put(json_t *obj, const char *key, json_t *v)
{
	if (v == NULL)
		return CC_ENOMEM;
	return json_object_set_new(obj, key, v) == 0 ? CC_OK : CC_ENOMEM;
}

/* Sets each series key of obj to a new empty array. */
static cc_err
empty_series(json_t *obj, const struct series *s, size_t n)
{
	size_t i;
	cc_err err = CC_OK;

	for (i = 0; i < n && err == CC_OK; i++)
		err = put(obj, s[i].key, json_array());
	return err;
}

/* Fills each series of obj (see empty_series()) from its statement. */
static cc_err
fill_series(sqlite3 *db, json_t *obj, const struct series *s, size_t n,
    const char *const *binds, int nbinds, struct cc_diag *diag)
{
	size_t i;
	cc_err err = CC_OK;

	for (i = 0; i < n && err == CC_OK; i++)
		err = query_rows(db, s[i].sql, binds, nbinds, s[i].cols,
		    json_object_get(obj, s[i].key), diag);
	return err;
}

/* ---- sales ----------------------------------------------------------- */

/*
 * The filtered facts every sales figure reads: the one WHERE clause of
 * the filters.  ?1 from, ?2 to (inclusive, order_date), ?3 a JSON array
 * of countries, ?4 a JSON array of categories; NULL: not filtered.
 * Country and category are those of the versions the fact points at.
 */
#define SALES_FACTS \
	"WITH s AS (SELECT f.order_id AS order_id," \
	" f.order_date AS order_date, f.amount AS amount," \
	" f.quantity AS quantity, f.customer_canonical_id AS customer_id," \
	" f.product_canonical_id AS product_id, c.country AS country," \
	" p.category AS category, f.is_return AS is_return," \
	" NOT COALESCE(f.is_return, 0) AS sale" \
	" FROM fact_sales f" \
	" LEFT JOIN dim_customer c ON c.customer_sk = f.customer_sk" \
	" LEFT JOIN dim_product p ON p.product_sk = f.product_sk" \
	" WHERE (?1 IS NULL OR f.order_date >= ?1)" \
	" AND (?2 IS NULL OR f.order_date <= ?2)" \
	" AND (?3 IS NULL OR c.country IN (SELECT value FROM json_each(?3)))" \
	" AND (?4 IS NULL OR p.category IN" \
	" (SELECT value FROM json_each(?4)))) "

/* A customer's display name: full_name, else first and last names. */
#define CUSTOMER_NAME(d) \
	"COALESCE(NULLIF(trim(" d ".full_name), '')," \
	" NULLIF(trim(COALESCE(" d ".first_name, '') || ' ' ||" \
	" COALESCE(" d ".last_name, '')), ''))"

/* The name of the current (else latest) version of a member. */
#define CURRENT_PRODUCT_NAME(id) \
	"(SELECT d.name FROM dim_product d WHERE d.canonical_id = " id \
	" ORDER BY d.is_current DESC, d.valid_from DESC, d.product_sk DESC" \
	" LIMIT 1)"
#define CURRENT_CUSTOMER_NAME(id) \
	"(SELECT " CUSTOMER_NAME("d") " FROM dim_customer d" \
	" WHERE d.canonical_id = " id " ORDER BY d.is_current DESC," \
	" d.valid_from DESC, d.customer_sk DESC LIMIT 1)"

static const char *const sales_tables[] = {
	"fact_sales", "dim_customer", "dim_product", NULL
};

/*
 * The same facts from the run's aggregates (agg_sales_order: grouped by
 * day, country, category, order and customer; agg_sales_product: by day,
 * country, category and product), with the same filters and the same
 * column names: every filter key is a grouping key, so the filtered
 * groups are exactly the groups of the filtered facts, sums of group
 * sums are the sums, and distinct orders and customers are counted on
 * the keys themselves.  "lines" counts the facts of a group.
 */
#define AGG_FILTERS \
	" WHERE (?1 IS NULL OR day >= ?1) AND (?2 IS NULL OR day <= ?2)" \
	" AND (?3 IS NULL OR country IN (SELECT value FROM json_each(?3)))" \
	" AND (?4 IS NULL OR category IN (SELECT value FROM json_each(?4)))) "
#define AGG_ORDERS \
	"WITH s AS (SELECT order_id, day AS order_date, revenue AS amount," \
	" lines, customer_canonical_id AS customer_id, country, category," \
	" returns, return_lines, lines > COALESCE(return_lines, 0) AS sale" \
	" FROM agg_sales_order" AGG_FILTERS
#define AGG_PRODUCTS \
	"WITH s AS (SELECT day AS order_date, revenue AS amount, quantity," \
	" lines, product_canonical_id AS product_id, country, category" \
	" FROM agg_sales_product" AGG_FILTERS

/*
 * The statements after the facts' CTE, shared by both sources.  An order
 * is counted where it holds a sale line ("sale": not a return): an
 * invoice that only cancels or returns ("C536379") is not an order of the
 * period; it is counted by the return_orders tile.
 */
#define ORDERS "COUNT(DISTINCT order_id) FILTER (WHERE sale)"
#define BY_MONTH \
	"SELECT substr(order_date, 1, 7) AS month," \
	" COALESCE(SUM(amount), 0), " ORDERS \
	" FROM s GROUP BY month ORDER BY month IS NULL, month"
#define BY_COUNTRY \
	"SELECT country, COALESCE(SUM(amount), 0) AS revenue," \
	" " ORDERS ", COUNT(DISTINCT customer_id)" \
	" FROM s GROUP BY country" \
	" ORDER BY revenue DESC, country IS NULL, country"
#define BY_CATEGORY \
	"SELECT category, COALESCE(SUM(amount), 0) AS revenue," \
	" " ORDERS " FROM s GROUP BY category" \
	" ORDER BY revenue DESC, category IS NULL, category"
#define TOP_PRODUCTS \
	"SELECT t.id, " CURRENT_PRODUCT_NAME("t.id") ", t.revenue," \
	" t.quantity FROM (SELECT product_id AS id," \
	" COALESCE(SUM(amount), 0) AS revenue," \
	" COALESCE(SUM(quantity), 0) AS quantity FROM s" \
	" WHERE product_id IS NOT NULL GROUP BY product_id" \
	" ORDER BY revenue DESC, id LIMIT 10) t" \
	" ORDER BY t.revenue DESC, t.id"
#define TOP_CUSTOMERS \
	"SELECT t.id, " CURRENT_CUSTOMER_NAME("t.id") ", t.revenue," \
	" t.orders FROM (SELECT customer_id AS id," \
	" COALESCE(SUM(amount), 0) AS revenue," \
	" " ORDERS " AS orders FROM s" \
	" WHERE customer_id IS NOT NULL GROUP BY customer_id" \
	" ORDER BY revenue DESC, id LIMIT 10) t" \
	" ORDER BY t.revenue DESC, t.id"

static const char sales_tiles_sql[] = SALES_FACTS
	"SELECT COALESCE(SUM(amount), 0), " ORDERS ","
	" COUNT(*), COUNT(DISTINCT customer_id) FROM s";
static const char agg_tiles_sql[] = AGG_ORDERS
	"SELECT COALESCE(SUM(amount), 0), " ORDERS ","
	" COALESCE(SUM(lines), 0), COUNT(DISTINCT customer_id) FROM s";

/* Returns: the amounts of the lines marked is_return (the load phase's
 * rule, core/load.c), and their count; the net is every amount; the
 * orders that hold no sale line (return or cancellation invoices). */
static const char sales_returns_sql[] = SALES_FACTS
	"SELECT COALESCE(SUM(amount), 0), COALESCE(SUM(amount) FILTER (WHERE"
	" is_return), 0), COUNT(*) FILTER (WHERE is_return),"
	" COUNT(DISTINCT order_id) - " ORDERS " FROM s";
static const char agg_returns_sql[] = AGG_ORDERS
	"SELECT COALESCE(SUM(amount), 0), COALESCE(SUM(returns), 0),"
	" COALESCE(SUM(return_lines), 0),"
	" COUNT(DISTINCT order_id) - " ORDERS " FROM s";

#define MONTH_COLS \
	{ { "month", K_TEXT }, { "revenue", K_MONEY }, { "orders", K_INT } }
#define COUNTRY_COLS \
	{ { "country", K_TEXT }, { "revenue", K_MONEY }, \
	  { "orders", K_INT }, { "customers", K_INT } }
#define CATEGORY_COLS \
	{ { "category", K_TEXT }, { "revenue", K_MONEY }, { "orders", K_INT } }
#define PRODUCT_COLS \
	{ { "canonical_id", K_INT }, { "name", K_TEXT }, \
	  { "revenue", K_MONEY }, { "quantity", K_INT } }
#define CUSTOMER_COLS \
	{ { "canonical_id", K_INT }, { "name", K_TEXT }, \
	  { "revenue", K_MONEY }, { "orders", K_INT } }

static const struct series sales_series[] = {
	{ "by_month", SALES_FACTS BY_MONTH, MONTH_COLS },
	{ "by_country", SALES_FACTS BY_COUNTRY, COUNTRY_COLS },
	{ "by_category", SALES_FACTS BY_CATEGORY, CATEGORY_COLS },
	{ "top_products", SALES_FACTS TOP_PRODUCTS, PRODUCT_COLS },
	{ "top_customers", SALES_FACTS TOP_CUSTOMERS, CUSTOMER_COLS },
};

/* The same series from the aggregates, in the same order. */
static const struct series agg_series[] = {
	{ "by_month", AGG_ORDERS BY_MONTH, MONTH_COLS },
	{ "by_country", AGG_ORDERS BY_COUNTRY, COUNTRY_COLS },
	{ "by_category", AGG_ORDERS BY_CATEGORY, CATEGORY_COLS },
	{ "top_products", AGG_PRODUCTS TOP_PRODUCTS, PRODUCT_COLS },
	{ "top_customers", AGG_ORDERS TOP_CUSTOMERS, CUSTOMER_COLS },
};

/* A JSON array text of the n strings v (a bound parameter), or NULL if
 * n is 0; *err becomes CC_ENOMEM when it cannot be made. */
static char *
values_json(const char *const *v, size_t n, cc_err *err)
{
	json_t *a;
	char *s = NULL;
	size_t i;

	if (n == 0)
		return NULL;
	if ((a = json_array()) != NULL) {
		for (i = 0; i < n; i++)
			json_array_append_new(a, json_string(v[i]));
		if (json_array_size(a) == n)
			s = json_dumps(a, JSON_COMPACT);
		json_decref(a);
	}
	if (s == NULL)
		*err = CC_ENOMEM;
	return s;
}

/*
 * The tiles: revenue as the integer sum of units (10^-4), and the average
 * order value from it, rounded half to even to the cent (null without
 * orders).
 */
static cc_err
sales_tiles(sqlite3 *db, const char *sql, const char *const *binds,
    json_t *tiles, struct cc_diag *diag)
{
	sqlite3_stmt *st = NULL;
	int64_t revenue, orders;
	cc_err err;
	int rc;

	if ((err = prep(db, sql, &st, diag)) != CC_OK ||
	    (err = bind_texts(db, st, binds, 4, diag)) != CC_OK)
		goto out;
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		err = stepped(db, rc, diag);
		goto out;
	}
	revenue = col_money(st, 0);
	orders = sqlite3_column_int64(st, 1);
	if ((err = put(tiles, "revenue", json_money(revenue))) != CC_OK ||
	    (err = put(tiles, "orders", json_integer(orders))) != CC_OK ||
	    (err = put(tiles, "order_lines", json_integer(
	    sqlite3_column_int64(st, 2)))) != CC_OK ||
	    (err = put(tiles, "average_order_value", orders > 0 ?
	    json_money(avg_cent(revenue, orders)) : json_null())) !=
	    CC_OK)
		goto out;
	err = put(tiles, "customers", json_integer(sqlite3_column_int64(st,
	    3)));
out:
	sqlite3_finalize(st);
	return err;
}

/* 1 if table has column (both fixed names), 0 if not, -1 on error. */
static int
has_column(sqlite3 *db, const char *table, const char *column,
    struct cc_diag *diag)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (prep(db, "SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2",
	    &st, diag) != CC_OK)
		return -1;
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, column, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : (stepped(db, rc, diag), -1);
}

/*
 * Gross sales, returns and net sales of the filtered facts: net_sales is
 * every amount (the revenue tile), returns the value of the return lines
 * as a positive amount (the negation of their amounts' sum), gross_sales
 * the other lines' (net + returns), return_lines their count,
 * return_orders the orders holding only return lines (not in "orders").  From the
 * aggregates when agg, else from the facts; a model from before returns
 * (no is_return, no returns column) gets nulls: not known there.
 */
static cc_err
sales_returns(sqlite3 *db, int agg, const char *const *binds,
    json_t *tiles, struct cc_diag *diag)
{
	sqlite3_stmt *st = NULL;
	int64_t net, ret;
	cc_err err;
	int rc, have;

	if ((have = has_column(db, agg ? "agg_sales_order" : "fact_sales",
	    agg ? "returns" : "is_return", diag)) < 0)
		return CC_EDB;
	if (!have) {
		if ((err = put(tiles, "gross_sales", json_null())) != CC_OK ||
		    (err = put(tiles, "returns", json_null())) != CC_OK ||
		    (err = put(tiles, "net_sales", json_null())) != CC_OK ||
		    (err = put(tiles, "return_orders", json_null())) != CC_OK)
			return err;
		return put(tiles, "return_lines", json_null());
	}
	if ((err = prep(db, agg ? agg_returns_sql : sales_returns_sql, &st,
	    diag)) != CC_OK ||
	    (err = bind_texts(db, st, binds, 4, diag)) != CC_OK)
		goto out;
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		err = stepped(db, rc, diag);
		goto out;
	}
	net = col_money(st, 0);
	ret = col_money(st, 1);
	/* gross = net - ret and -ret, without overflow (one sum of int64s
	 * that SQLite computed; beyond it the statement failed) */
	if ((ret < 0 && net > INT64_MAX + ret) ||
	    (ret > 0 && net < INT64_MIN + ret) || ret == INT64_MIN) {
		err = cc_diag_set(diag, CC_EDB, "sqlite", "integer overflow");
		goto out;
	}
	if ((err = put(tiles, "gross_sales", json_money(net - ret))) !=
	    CC_OK || (err = put(tiles, "returns", json_money(-ret))) !=
	    CC_OK || (err = put(tiles, "net_sales", json_money(net))) != CC_OK)
		goto out;
	if ((err = put(tiles, "return_lines", json_integer(
	    sqlite3_column_int64(st, 2)))) != CC_OK)
		goto out;
	err = put(tiles, "return_orders", json_integer(sqlite3_column_int64(st,
	    3)));
out:
	sqlite3_finalize(st);
	return err;
}

/*
 * The currencies the order lines' amounts were written in (clean_currencies,
 * filled by the stage phase from symbols and codes such as "$" or "USD"):
 * doc's "currencies" (most values first) and "currency", the one currency
 * when there is exactly one, else null.
 */
static cc_err
sales_currency(sqlite3 *db, json_t *doc, struct cc_diag *diag)
{
	static const char *const tables[] = { "clean_currencies", NULL };
	json_t *list;
	sqlite3_stmt *st;
	cc_err err;
	int have, rc;

	if ((err = put(doc, "currencies", list = json_array())) != CC_OK ||
	    (err = put(doc, "currency", json_null())) != CC_OK)
		return err;
	if ((have = have_tables(db, tables, diag)) <= 0)
		return have < 0 ? CC_EDB : CC_OK;
	if (sqlite3_prepare_v2(db, "SELECT currency FROM clean_currencies"
	    " WHERE entity = 'order_line' GROUP BY currency ORDER BY"
	    " SUM(count) DESC, currency", -1, &st, NULL) != SQLITE_OK)
		return cc_diag_set(diag, CC_EDB, "sqlite", "%s",
		    sqlite3_errmsg(db));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(list, json_string((const char *)
		    sqlite3_column_text(st, 0)));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return cc_diag_set(diag, CC_EDB, "sqlite", "%s",
		    sqlite3_errmsg(db));
	if (json_array_size(list) == 1)
		err = put(doc, "currency",
		    json_incref(json_array_get(list, 0)));
	return err;
}

/* ---- sales from the aggregates in one pass --------------------------- */

/*
 * The filtered sales of agg_sales_order read once and grouped in memory:
 * the tiles and the series by month, country and category and the top
 * customers that the SQL statements above (agg_tiles_sql, agg_series)
 * compute in five scans, with the same figures and the same orders
 * (SQLite's BINARY collation: bytes, then length; NULL groups last).
 * The return tiles too (sales_returns() from the aggregates: returns,
 * return lines, orders holding only return lines, gross and net sales),
 * counted as the sorted orders go by.
 * Any value of an unexpected storage class (a REAL amount, a numeric
 * order id...) or an integer overflow returns 1: the caller then runs
 * the statements, whose answer is the reference (and whose error, if
 * any, is reported).  The unit tests compare the two on every fixture.
 */
/* Sorted by order: a group's distinct orders are counted as the order
 * changes (agg_sales_order_by_order covers the whole row). */
static const char onepass_sql[] =
	"SELECT day, country, category, order_id, customer_canonical_id,"
	" revenue, lines, lines > COALESCE(return_lines, 0), returns,"
	" return_lines FROM agg_sales_order"
	/* +day: no NUMERIC affinity (the column's DATE) applied to the bound
	 * text at every row; dates are compared as text either way */
	" WHERE (?1 IS NULL OR +day >= ?1) AND (?2 IS NULL OR +day <= ?2)"
	" AND (?3 IS NULL OR country IN (SELECT value FROM json_each(?3)))"
	" AND (?4 IS NULL OR category IN (SELECT value FROM json_each(?4)))"
	" ORDER BY order_id";

static const char customer_name_sql[] =
	"SELECT " CUSTOMER_NAME("d") " FROM dim_customer d"
	" WHERE d.canonical_id = ?1 ORDER BY d.is_current DESC,"
	" d.valid_from DESC, d.customer_sk DESC LIMIT 1";

/* One entry of a hash table of byte strings (kept in its arena). */
struct hent {
	uint64_t	 h;
	size_t		 off;		/* the key in the arena */
	size_t		 klen;
	size_t		 v;		/* a group's index */
	int		 used;
};

struct htab {
	struct hent	*e;
	size_t		 cap, n;
	char		*arena;
	size_t		 alen, acap;
};

static void
htab_free(struct htab *t)
{
	free(t->e);
	free(t->arena);
	memset(t, 0, sizeof(*t));
}

/*
 * The entry of key (added with v = SIZE_MAX when new: *added = 1), or
 * NULL when out of memory.
 */
static struct hent *
htab_get(struct htab *t, const void *key, size_t klen, int *added)
{
	uint64_t h = util_fnv1a64(key, klen);
	struct hent *e, *old;
	size_t i, j, oc;

	*added = 0;
	if ((t->n + 1) * 2 > t->cap) {
		old = t->e;
		oc = t->cap;
		t->cap = oc == 0 ? 1024 : oc * 2;
		if ((t->e = calloc(t->cap, sizeof(*t->e))) == NULL) {
			t->e = old;
			t->cap = oc;
			return NULL;
		}
		for (i = 0; i < oc; i++) {
			if (!old[i].used)
				continue;
			for (j = old[i].h & (t->cap - 1); t->e[j].used;
			    j = (j + 1) & (t->cap - 1))
				;
			t->e[j] = old[i];
		}
		free(old);
	}
	for (i = h & (t->cap - 1); (e = &t->e[i])->used;
	    i = (i + 1) & (t->cap - 1))
		if (e->h == h && e->klen == klen &&
		    memcmp(t->arena + e->off, key, klen) == 0)
			return e;
	if (t->alen + klen > t->acap) {
		size_t nc = t->acap == 0 ? 65536 : t->acap;
		char *na;
		while (nc < t->alen + klen)
			nc *= 2;
		if ((na = realloc(t->arena, nc)) == NULL)
			return NULL;
		t->arena = na;
		t->acap = nc;
	}
	memcpy(t->arena + t->alen, key, klen);
	e->off = t->alen;
	t->alen += klen;
	e->klen = klen;
	e->h = h;
	e->v = SIZE_MAX;
	e->used = 1;
	t->n++;
	*added = 1;
	return e;
}

/* 1 when t holds key, else 0 (t not empty). */
static int
htab_has(const struct htab *t, const void *key, size_t klen)
{
	uint64_t h = util_fnv1a64(key, klen);
	const struct hent *e;
	size_t i;

	for (i = h & (t->cap - 1); (e = &t->e[i])->used;
	    i = (i + 1) & (t->cap - 1))
		if (e->h == h && e->klen == klen &&
		    memcmp(t->arena + e->off, key, klen) == 0)
			return 1;
	return 0;
}

/* A group of a series: its key (NULL flag, bytes) and figures. */
struct grp {
	int		 null;
	char		*key;		/* NUL-terminated copy */
	size_t		 klen;
	int64_t		 id;		/* customer groups */
	int64_t		 revenue;
	int64_t		 orders;
	int64_t		 customers;
	uint64_t	 last_order;	/* the order last counted (its
					   number in onepass()'s sorted rows) */
	int64_t		 quantity;	/* top_sellers_pass() */
};

struct grps {
	struct grp	*g;
	size_t		 n, cap;
	struct htab	 idx;
	size_t		 last;		/* 1 + the group grp_of() returned
					   last (0: none): sorted rows meet
					   the same group row after row */
};

static void
grps_free(struct grps *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->g[i].key);
	free(s->g);
	htab_free(&s->idx);
}

/*
 * The group of key (tag, then the NULL flag and bytes), added when new;
 * NULL when out of memory.
 */
static struct grp *
grp_of(struct grps *s, char *buf, size_t cap, int null, const void *bytes,
    size_t n, int64_t id)
{
	struct hent *e;
	struct grp *g;
	int added;

	if (s->last > 0) {
		g = &s->g[s->last - 1];
		if (g->null == null && g->klen == n &&
		    (n == 0 || memcmp(g->key, bytes, n) == 0))
			return g;
	}
	if (n + 2 > cap)
		return NULL;
	buf[0] = (char)(null ? 'n' : 'v');
	memcpy(buf + 1, bytes, n);
	if ((e = htab_get(&s->idx, buf, n + 1, &added)) == NULL)
		return NULL;
	if (!added) {
		s->last = e->v + 1;
		return &s->g[e->v];
	}
	if (s->n == s->cap) {
		struct grp *ng;
		s->cap = s->cap == 0 ? 64 : s->cap * 2;
		if ((ng = realloc(s->g, s->cap * sizeof(*ng))) == NULL)
			return NULL;
		s->g = ng;
	}
	g = &s->g[s->n];
	memset(g, 0, sizeof(*g));
	if ((g->key = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(g->key, bytes, n);
	g->key[n] = '\0';
	g->klen = n;
	g->null = null;
	g->id = id;
	e->v = s->n++;
	s->last = s->n;
	return g;
}

/*
 * A set of (group, customer id) pairs for the distinct customer counts:
 * open addressing on the pair itself (no key bytes to copy or compare).
 */
struct pairset {
	struct pair {
		uint64_t	 a, b;
		int		 used;
	}		*e;
	size_t		 cap, n;
};

static void
pairset_free(struct pairset *t)
{
	free(t->e);
	memset(t, 0, sizeof(*t));
}

static size_t
pair_slot(const struct pairset *t, uint64_t a, uint64_t b)
{
	/* a 64-bit mix of both (splitmix64's finaliser) */
	uint64_t h = a * 0x9e3779b97f4a7c15ULL ^ b;

	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return (size_t)h & (t->cap - 1);
}

/*
 * 1 if customer id was not seen before in group index gi of series k;
 * 0 if it was; -1 when out of memory.
 */
static int
first_time(struct pairset *t, int k, size_t gi, int64_t id)
{
	uint64_t a = ((uint64_t)(unsigned)k << 56) ^ (uint64_t)gi,
	    b = (uint64_t)id;
	struct pair *old;
	size_t i, j, oc;

	if ((t->n + 1) * 2 > t->cap) {
		old = t->e;
		oc = t->cap;
		t->cap = oc == 0 ? 1024 : oc * 2;
		if ((t->e = calloc(t->cap, sizeof(*t->e))) == NULL) {
			t->e = old;
			t->cap = oc;
			return -1;
		}
		for (i = 0; i < oc; i++) {
			if (!old[i].used)
				continue;
			for (j = pair_slot(t, old[i].a, old[i].b); t->e[j].used;
			    j = (j + 1) & (t->cap - 1))
				;
			t->e[j] = old[i];
		}
		free(old);
	}
	for (i = pair_slot(t, a, b); t->e[i].used; i = (i + 1) & (t->cap - 1))
		if (t->e[i].a == a && t->e[i].b == b)
			return 0;
	t->e[i].a = a;
	t->e[i].b = b;
	t->e[i].used = 1;
	t->n++;
	return 1;
}

/* BINARY collation of two keys; NULL after every value. */
static int
key_cmp(const struct grp *a, const struct grp *b)
{
	size_t n = a->klen < b->klen ? a->klen : b->klen;
	int c;

	if (a->null != b->null)
		return a->null - b->null;
	if ((c = memcmp(a->key, b->key, n)) != 0)
		return c;
	return a->klen < b->klen ? -1 : a->klen > b->klen;
}

static int
by_key(const void *x, const void *y)
{
	return key_cmp(x, y);
}

/* revenue DESC, then the key (NULL last) */
static int
by_revenue(const void *x, const void *y)
{
	const struct grp *a = x, *b = y;

	if (a->revenue != b->revenue)
		return a->revenue > b->revenue ? -1 : 1;
	return key_cmp(a, b);
}

/* revenue DESC, then the customer id */
static int
by_revenue_id(const void *x, const void *y)
{
	const struct grp *a = x, *b = y;

	if (a->revenue != b->revenue)
		return a->revenue > b->revenue ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

static json_t *
grp_text(const struct grp *g)
{
	return g->null ? json_null() : text_json(g->key);
}

/* The series of s as an array of cols (key, revenue, orders[, customers]). */
static cc_err
grps_json(struct grps *s, json_t *arr, const char *key, int customers,
    int (*cmp)(const void *, const void *))
{
	json_t *o;
	size_t i;

	if (s->n > 0)
		qsort(s->g, s->n, sizeof(*s->g), cmp);
	for (i = 0; i < s->n; i++) {
		o = json_pack("{s:o, s:o, s:I}", key, grp_text(&s->g[i]),
		    "revenue", json_money(s->g[i].revenue), "orders",
		    (json_int_t)s->g[i].orders);
		if (o != NULL && customers && json_object_set_new(o,
		    "customers", json_integer(s->g[i].customers)) != 0) {
			json_decref(o);
			o = NULL;
		}
		if (o == NULL || json_array_append_new(arr, o) != 0)
			return CC_ENOMEM;
	}
	return CC_OK;
}

static int
add64(int64_t *a, int64_t b)
{
	return __builtin_add_overflow(*a, b, a);
}

/* The ten best customers of s with their current names. */
static cc_err
top_customers_json(sqlite3 *db, struct grps *s, json_t *arr,
    struct cc_diag *diag)
{
	sqlite3_stmt *st = NULL;
	json_t *o, *name;
	cc_err err;
	size_t i;
	int rc;

	if (s->n > 0)
		qsort(s->g, s->n, sizeof(*s->g), by_revenue_id);
	if ((err = prep(db, customer_name_sql, &st, diag)) != CC_OK)
		return err;
	for (i = 0; i < s->n && i < 10 && err == CC_OK; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, s->g[i].id);
		if ((rc = sqlite3_step(st)) == SQLITE_ROW)
			name = col_value(st, 0, K_TEXT);
		else if (rc == SQLITE_DONE)
			name = json_null();
		else {
			err = stepped(db, rc, diag);
			break;
		}
		o = json_pack("{s:I, s:o, s:o, s:I}", "canonical_id",
		    (json_int_t)s->g[i].id, "name", name, "revenue",
		    json_money(s->g[i].revenue), "orders",
		    (json_int_t)s->g[i].orders);
		if (o == NULL || json_array_append_new(arr, o) != 0)
			err = CC_ENOMEM;
	}
	sqlite3_finalize(st);
	return err;
}

enum { OP_MONTH, OP_COUNTRY, OP_CATEGORY, OP_CUSTOMER, OP_TOTAL, OP__MAX };

static const char products_pass_sql[] =
	"SELECT product_canonical_id, revenue, quantity FROM agg_sales_product"
	" WHERE (?1 IS NULL OR day >= ?1) AND (?2 IS NULL OR day <= ?2)"
	" AND (?3 IS NULL OR country IN (SELECT value FROM json_each(?3)))"
	" AND (?4 IS NULL OR category IN (SELECT value FROM json_each(?4)))"
	" AND product_canonical_id IS NOT NULL";

static const char product_name_sql[] =
	"SELECT d.name FROM dim_product d WHERE d.canonical_id = ?1"
	" ORDER BY d.is_current DESC, d.valid_from DESC, d.product_sk DESC"
	" LIMIT 1";

/*
 * The top products of agg_sales_product in one pass (TOP_PRODUCTS'
 * figures and order: revenue DESC, then id); revenue in g->revenue,
 * quantity in g->orders.  1: a value of another storage class or an
 * overflow (the caller runs the statements); 0 done; -err.
 */
static int
products_pass(sqlite3 *db, const char *const *binds, struct grps *ps,
    struct cc_diag *diag)
{
	sqlite3_stmt *st = NULL;
	char kb[64];
	struct grp *g;
	int64_t id;
	cc_err err;
	int rc;

	if ((err = prep(db, products_pass_sql, &st, diag)) != CC_OK ||
	    (err = bind_texts(db, st, binds, 4, diag)) != CC_OK) {
		sqlite3_finalize(st);
		return -(int)err;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_type(st, 0) != SQLITE_INTEGER ||
		    (sqlite3_column_type(st, 1) != SQLITE_INTEGER &&
		    sqlite3_column_type(st, 1) != SQLITE_NULL) ||
		    (sqlite3_column_type(st, 2) != SQLITE_INTEGER &&
		    sqlite3_column_type(st, 2) != SQLITE_NULL)) {
			sqlite3_finalize(st);
			return 1;
		}
		id = sqlite3_column_int64(st, 0);
		if ((g = grp_of(ps, kb, sizeof(kb), 0, &id, sizeof(id), id)) ==
		    NULL) {
			sqlite3_finalize(st);
			return -(int)CC_ENOMEM;
		}
		if (add64(&g->revenue, sqlite3_column_int64(st, 1)) ||
		    add64(&g->orders, sqlite3_column_int64(st, 2))) {
			sqlite3_finalize(st);
			return 1;
		}
	}
	err = stepped(db, rc, diag);
	sqlite3_finalize(st);
	return err == CC_OK ? 0 : -(int)err;
}

static cc_err
top_products_json(sqlite3 *db, struct grps *s, json_t *arr,
    struct cc_diag *diag)
{
	sqlite3_stmt *st = NULL;
	json_t *o, *name;
	cc_err err;
	size_t i;
	int rc;

	if (s->n > 0)
		qsort(s->g, s->n, sizeof(*s->g), by_revenue_id);
	if ((err = prep(db, product_name_sql, &st, diag)) != CC_OK)
		return err;
	for (i = 0; i < s->n && i < 10 && err == CC_OK; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, s->g[i].id);
		if ((rc = sqlite3_step(st)) == SQLITE_ROW)
			name = col_value(st, 0, K_TEXT);
		else if (rc == SQLITE_DONE)
			name = json_null();
		else {
			err = stepped(db, rc, diag);
			break;
		}
		o = json_pack("{s:I, s:o, s:o, s:I}", "canonical_id",
		    (json_int_t)s->g[i].id, "name", name, "revenue",
		    json_money(s->g[i].revenue), "quantity",
		    (json_int_t)s->g[i].orders);
		if (o == NULL || json_array_append_new(arr, o) != 0)
			err = CC_ENOMEM;
	}
	sqlite3_finalize(st);
	return err;
}

static int
onepass(sqlite3 *db, const char *const *binds, json_t *tiles,
    json_t *series, struct cc_diag *diag)
{
	struct grps gs[OP__MAX], ps;
	struct pairset seen;
	sqlite3_stmt *st = NULL;
	struct grp *g[OP__MAX];
	char kb[1024];
	int64_t lines = 0, rev, cid, ret = 0, rlines = 0, rorders = 0;
	int64_t seen_cid[OP__MAX];	/* the last customer first_time() */
	size_t seen_gi[OP__MAX];	/* saw, per series, and its group */
	int seen_set[OP__MAX] = { 0 };
	int order_sale = 1;		/* the current order has a sale line */
	uint64_t oseq = 0;		/* the current order's number */
	char *prev = NULL;		/* the current order's id */
	size_t prevlen = 0, prevcap = 0;
	int rc, k, fresh, sale, fallback = 0, nulls[OP__MAX];
	const void *v[OP__MAX];
	size_t n[OP__MAX], on = 0, i;
	const void *order;
	cc_err err = CC_OK;

	memset(gs, 0, sizeof(gs));
	memset(&ps, 0, sizeof(ps));
	memset(&seen, 0, sizeof(seen));
	if ((err = prep(db, onepass_sql, &st, diag)) != CC_OK ||
	    (err = bind_texts(db, st, binds, 4, diag)) != CC_OK)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (i = 0; i < 4; i++)
			if (sqlite3_column_type(st, (int)i) != SQLITE_TEXT &&
			    sqlite3_column_type(st, (int)i) != SQLITE_NULL)
				break;
		if (i < 4 || (sqlite3_column_type(st, 4) != SQLITE_INTEGER &&
		    sqlite3_column_type(st, 4) != SQLITE_NULL) ||
		    (sqlite3_column_type(st, 5) != SQLITE_INTEGER &&
		    sqlite3_column_type(st, 5) != SQLITE_NULL) ||
		    sqlite3_column_type(st, 6) != SQLITE_INTEGER ||
		    (sqlite3_column_type(st, 8) != SQLITE_INTEGER &&
		    sqlite3_column_type(st, 8) != SQLITE_NULL) ||
		    (sqlite3_column_type(st, 9) != SQLITE_INTEGER &&
		    sqlite3_column_type(st, 9) != SQLITE_NULL)) {
			fallback = 1;
			break;
		}
		/* month: the first 7 characters of day, ASCII only here */
		v[OP_MONTH] = sqlite3_column_text(st, 0);
		nulls[OP_MONTH] = v[OP_MONTH] == NULL;
		n[OP_MONTH] = 0;
		if (!nulls[OP_MONTH]) {
			const unsigned char *d = v[OP_MONTH];
			size_t dl = (size_t)sqlite3_column_bytes(st, 0);
			for (i = 0; i < dl && i < 7; i++)
				if (d[i] >= 0x80 || d[i] == 0)
					break;
			if (i < 7 && i < dl) {
				fallback = 1;
				break;
			}
			n[OP_MONTH] = dl < 7 ? dl : 7;
		}
		for (k = OP_COUNTRY; k <= OP_CATEGORY; k++) {
			v[k] = sqlite3_column_text(st, k);
			nulls[k] = v[k] == NULL;
			n[k] = (size_t)sqlite3_column_bytes(st, k);
		}
		nulls[OP_CUSTOMER] = sqlite3_column_type(st, 4) ==
		    SQLITE_NULL;
		cid = sqlite3_column_int64(st, 4);
		order = sqlite3_column_text(st, 3);
		on = (size_t)sqlite3_column_bytes(st, 3);
		if (order != NULL && (oseq == 0 || on != prevlen ||
		    memcmp(order, prev, on) != 0)) {
			/* the next order in the sorted rows */
			if (on + 1 > prevcap) {
				char *np = realloc(prev, on + 1);
				if (np == NULL) {
					err = CC_ENOMEM;
					goto out;
				}
				prev = np;
				prevcap = on + 1;
			}
			memcpy(prev, order, on);
			prevlen = on;
			if (oseq > 0 && !order_sale)
				rorders++;	/* the order before: returns only */
			order_sale = 0;
			oseq++;
		}
		rev = sqlite3_column_int64(st, 5);	/* NULL: 0 */
		sale = sqlite3_column_int(st, 7);
		if (order != NULL && sale)
			order_sale = 1;
		if (add64(&lines, sqlite3_column_int64(st, 6)) ||
		    add64(&ret, sqlite3_column_int64(st, 8)) ||
		    add64(&rlines, sqlite3_column_int64(st, 9))) {
			fallback = 1;
			break;
		}
		for (k = 0; k < OP__MAX; k++) {
			if (k == OP_CUSTOMER) {
				if (nulls[k]) {
					g[k] = NULL;
					continue;
				}
				g[k] = grp_of(&gs[k], kb, sizeof(kb), 0, &cid,
				    sizeof(cid), cid);
			} else if (k == OP_TOTAL)
				g[k] = grp_of(&gs[k], kb, sizeof(kb), 0, "", 0, 0);
			else
				g[k] = grp_of(&gs[k], kb, sizeof(kb), nulls[k],
				    nulls[k] ? "" : v[k], n[k], 0);
			if (g[k] == NULL) {
				if ((k == OP_COUNTRY || k == OP_CATEGORY) &&
				    n[k] + 2 > sizeof(kb))
					fallback = 1;	/* a huge name */
				else
					err = CC_ENOMEM;
				goto out;
			}
			if (add64(&g[k]->revenue, rev)) {
				fallback = 1;
				goto out;
			}
			if (order != NULL && sale &&
			    g[k]->last_order != oseq) {
				/* rows come sorted by order: a group meets
				 * each of its orders in one run of rows; an
				 * order counts where it holds a sale line */
				g[k]->last_order = oseq;
				g[k]->orders++;
			}
			if ((k == OP_COUNTRY || k == OP_TOTAL) &&
			    !nulls[OP_CUSTOMER]) {
				size_t gi = (size_t)(g[k] - gs[k].g);
				/* the previous row's customer in the same
				 * group: seen (rows come by order) */
				if (seen_set[k] && seen_gi[k] == gi &&
				    seen_cid[k] == cid)
					continue;
				if ((fresh = first_time(&seen, k, gi, cid)) < 0) {
					err = CC_ENOMEM;
					goto out;
				}
				g[k]->customers += fresh;
				seen_set[k] = 1;
				seen_gi[k] = gi;
				seen_cid[k] = cid;
			}
		}
	}
	if (fallback)
		goto out;
	if (rc != SQLITE_DONE) {
		err = stepped(db, rc, diag);
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (oseq > 0 && !order_sale)
		rorders++;		/* the last order */
	if ((rc = products_pass(db, binds, &ps, diag)) != 0) {
		if (rc > 0)
			fallback = 1;
		else
			err = (cc_err)-rc;
		goto out;
	}
	{
		int64_t r = gs[OP_TOTAL].n > 0 ? gs[OP_TOTAL].g[0].revenue : 0,
		    o = gs[OP_TOTAL].n > 0 ? gs[OP_TOTAL].g[0].orders : 0,
		    c = gs[OP_TOTAL].n > 0 ? gs[OP_TOTAL].g[0].customers : 0;
		if ((err = put(tiles, "revenue", json_money(r))) != CC_OK ||
		    (err = put(tiles, "orders", json_integer(o))) != CC_OK ||
		    (err = put(tiles, "order_lines", json_integer(lines))) !=
		    CC_OK ||
		    (err = put(tiles, "average_order_value", o > 0 ?
		    json_money(avg_cent(r, o)) : json_null())) != CC_OK ||
		    (err = put(tiles, "customers", json_integer(c))) != CC_OK)
			goto out;
		/* as sales_returns(): gross = net - returns' (negative) sum */
		if ((ret < 0 && r > INT64_MAX + ret) ||
		    (ret > 0 && r < INT64_MIN + ret) || ret == INT64_MIN) {
			fallback = 1;
			goto out;
		}
		if ((err = put(tiles, "gross_sales", json_money(r - ret))) !=
		    CC_OK ||
		    (err = put(tiles, "returns", json_money(-ret))) != CC_OK ||
		    (err = put(tiles, "net_sales", json_money(r))) != CC_OK ||
		    (err = put(tiles, "return_lines", json_integer(rlines))) !=
		    CC_OK ||
		    (err = put(tiles, "return_orders", json_integer(rorders))) !=
		    CC_OK)
			goto out;
	}
	if ((err = grps_json(&gs[OP_MONTH], json_object_get(series,
	    "by_month"), "month", 0, by_key)) != CC_OK ||
	    (err = grps_json(&gs[OP_COUNTRY], json_object_get(series,
	    "by_country"), "country", 1, by_revenue)) != CC_OK ||
	    (err = grps_json(&gs[OP_CATEGORY], json_object_get(series,
	    "by_category"), "category", 0, by_revenue)) != CC_OK ||
	    (err = top_products_json(db, &ps, json_object_get(series,
	    "top_products"), diag)) != CC_OK)
		goto out;
	err = top_customers_json(db, &gs[OP_CUSTOMER], json_object_get(series,
	    "top_customers"), diag);
out:
	sqlite3_finalize(st);
	for (k = 0; k < OP__MAX; k++)
		grps_free(&gs[k]);
	grps_free(&ps);
	pairset_free(&seen);
	free(prev);
	if (fallback && err == CC_OK) {
		/* start again with the statements, from empty series */
		json_array_clear(json_object_get(series, "by_month"));
		json_array_clear(json_object_get(series, "by_country"));
		json_array_clear(json_object_get(series, "by_category"));
		json_array_clear(json_object_get(series, "top_products"));
		json_array_clear(json_object_get(series, "top_customers"));
		return 1;
	}
	return err == CC_OK ? 0 : -(int)err;
}

static cc_err
sales(sqlite3 *db, const struct dash_filters *f, json_t *doc,
    struct cc_diag *diag)
{
	const char *countries[DASH_MAX_VALUES], *binds[4];
	char *cjson = NULL, *kjson = NULL;
	json_t *tiles, *series;
	cc_err err = CC_OK;
	size_t i;
	int have, agg;

	if ((tiles = json_pack("{s:s, s:i, s:i, s:n, s:i, s:s, s:s, s:s,"
	    " s:i, s:i}", "revenue", "0.00", "orders", 0, "order_lines", 0,
	    "average_order_value", "customers", 0, "gross_sales", "0.00",
	    "returns", "0.00", "net_sales", "0.00", "return_lines", 0,
	    "return_orders", 0)) ==
	    NULL || (err = put(doc, "tiles", tiles)) !=
	    CC_OK || (err = put(doc, "series", series = json_object())) !=
	    CC_OK || (err = empty_series(series, sales_series,
	    N(sales_series))) != CC_OK ||
	    (err = sales_currency(db, doc, diag)) != CC_OK)
		return err != CC_OK ? err : CC_ENOMEM;
	if ((have = have_tables(db, sales_tables, diag)) <= 0)
		return have < 0 ? CC_EDB : CC_OK;
	/* A model built before the aggregates existed: the facts. */
	if ((agg = agg_built(db, diag)) < 0)
		return CC_EDB;
	for (i = 0; i < f->ncountry; i++)
		countries[i] = f->country[i];
	cjson = values_json(countries, f->ncountry, &err);
	kjson = values_json((const char *const *)f->category, f->ncategory,
	    &err);
	if (err != CC_OK)
		goto out;
	binds[0] = f->from[0] != '\0' ? f->from : NULL;
	binds[1] = f->to[0] != '\0' ? f->to : NULL;
	binds[2] = cjson;
	binds[3] = kjson;
	/* the aggregates with their return columns: one pass for all */
	if (agg && (have = has_column(db, "agg_sales_order", "returns",
	    diag)) < 0) {
		err = CC_EDB;
		goto out;
	}
	if (agg && have) {
		int rc = onepass(db, binds, tiles, series, diag);
		if (rc <= 0) {
			err = (cc_err)-rc;
			goto out;
		}
		/* 1: a value onepass() does not handle: the statements */
	}
	if ((err = sales_returns(db, agg, binds, tiles, diag)) != CC_OK)
		goto out;
	if ((err = sales_tiles(db, agg ? agg_tiles_sql : sales_tiles_sql,
	    binds, tiles, diag)) == CC_OK)
		err = fill_series(db, series, agg ? agg_series : sales_series,
		    N(sales_series), binds, 4, diag);
out:
	free(cjson);
	free(kjson);
	return err;
}

/* ---- customers ------------------------------------------------------- */

static const char *const customer_tables[] = { "dim_customer", NULL };

/* Current versions; n = records merged into the golden record. */
static const char customer_tiles_sql[] =
	"WITH cur AS (SELECT canonical_id, CASE WHEN json_valid(sources)"
	" THEN json_array_length(sources) ELSE 0 END AS n"
	" FROM dim_customer WHERE is_current = 1)"
	" SELECT (SELECT COUNT(DISTINCT canonical_id) FROM cur),"
	" (SELECT COUNT(*) FROM dim_customer),"
	" (SELECT COUNT(*) FROM (SELECT canonical_id FROM dim_customer"
	" GROUP BY canonical_id HAVING COUNT(*) > 1)),"
	" (SELECT COUNT(DISTINCT canonical_id) FROM cur WHERE n > 1),"
	" (SELECT COALESCE(SUM(n - 1), 0) FROM cur WHERE n > 1),"
	" (SELECT COALESCE(SUM(n), 0) FROM cur)";
static const struct col customer_tiles_cols[] = {
	{ "customers", K_INT }, { "versions", K_INT },
	{ "with_history", K_INT }, { "duplicates_resolved", K_INT },
	{ "duplicate_records", K_INT }, { "source_records", K_INT },
	{ NULL, K_TEXT },
};

#define CUSTOMERS_BY(attr) \
	"SELECT " attr ", COUNT(DISTINCT canonical_id) AS customers" \
	" FROM dim_customer WHERE is_current = 1 GROUP BY " attr \
	" ORDER BY customers DESC, " attr " IS NULL, " attr

static const struct series customer_series[] = {
	{ "new_by_month",
	  "SELECT substr(created_date, 1, 7) AS month,"
	  " COUNT(DISTINCT canonical_id) FROM dim_customer"
	  " WHERE is_current = 1 GROUP BY month ORDER BY month IS NULL, month",
	  { { "month", K_TEXT }, { "customers", K_INT } } },
	{ "by_country", CUSTOMERS_BY("country"),
	  { { "country", K_TEXT }, { "customers", K_INT } } },
	{ "by_gender", CUSTOMERS_BY("gender"),
	  { { "gender", K_TEXT }, { "customers", K_INT } } },
	{ "by_segment", CUSTOMERS_BY("segment"),
	  { { "segment", K_TEXT }, { "customers", K_INT } } },
};

/*
 * The RFM segments (customer_segment, concord/segment.h) in the map's
 * order, then SEGMENT_OTHERS, each with its customers and revenue (the
 * sum of monetary) and their shares of the scored customers' (null when
 * that total is not positive); every segment is listed, with zeros when
 * empty, none when the model has no customer_segment (an older model).
 * tiles.segmented_customers counts the scored customers,
 * tiles.unsegmented_customers the customers without an order.
 */
static cc_err
customer_segments(sqlite3 *db, json_t *tiles, json_t *arr,
    struct cc_diag *diag)
{
	static const char *const tables[] = { "customer_segment", NULL };
	const struct segment_rule *rules;
	long long cust[16] = { 0 }, ncust = 0, unscored = 0;
	int64_t rev[16] = { 0 }, nrev = 0;
	sqlite3_stmt *st = NULL;
	size_t nr, i;
	cc_err err;
	int have, rc = SQLITE_DONE;

	rules = segment_rules(&nr);
	if (nr + 1 > N(cust))
		return cc_diag_set(diag, CC_EINVAL, "segment", "segment map"
		    " too long");
	if ((have = have_tables(db, tables, diag)) < 0)
		return CC_EDB;
	if (have && (err = prep(db, "SELECT segment, count(*),"
	    " coalesce(sum(monetary), 0) FROM customer_segment"
	    " GROUP BY segment", &st, diag)) != CC_OK)
		return err;
	while (have && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		for (i = 0; name != NULL && i < nr; i++)
			if (strcmp(name, rules[i].name) == 0)
				break;
		if (name == NULL) {
			unscored += sqlite3_column_int64(st, 1);
			continue;
		}
		/* a name not in the map (there should be none) is Others */
		cust[i] += sqlite3_column_int64(st, 1);
		rev[i] += col_money(st, 2);
		ncust += sqlite3_column_int64(st, 1);
		nrev += col_money(st, 2);
	}
	if (have && (err = stepped(db, rc, diag)) != CC_OK) {
		sqlite3_finalize(st);
		return err;
	}
	sqlite3_finalize(st);
	if ((err = put(tiles, "segmented_customers", json_integer(ncust))) !=
	    CC_OK || (err = put(tiles, "unsegmented_customers",
	    json_integer(unscored))) != CC_OK)
		return err;
	for (i = 0; have && i <= nr; i++) {
		json_t *o = json_pack("{s:s, s:I, s:o, s:o, s:o}", "segment",
		    i < nr ? rules[i].name : SEGMENT_OTHERS, "customers",
		    (json_int_t)cust[i], "revenue", json_money(rev[i]),
		    "customers_share", ncust > 0 ? json_real((double)cust[i] /
		    (double)ncust) : json_null(), "revenue_share", nrev > 0 ?
		    json_real((double)rev[i] / (double)nrev) : json_null());
		if (o == NULL || json_array_append_new(arr, o) != 0)
			return CC_ENOMEM;
	}
	return CC_OK;
}

static cc_err
customers(sqlite3 *db, const struct dash_filters *f, json_t *doc,
    struct cc_diag *diag)
{
	json_t *tiles, *series;
	cc_err err = CC_OK;
	int have;

	(void)f;
	if ((tiles = json_pack("{s:i, s:i, s:i, s:i, s:i, s:i}", "customers",
	    0, "versions", 0, "with_history", 0, "duplicates_resolved", 0,
	    "duplicate_records", 0, "source_records", 0)) == NULL ||
	    (err = put(doc, "tiles", tiles)) != CC_OK ||
	    (err = put(doc, "series", series = json_object())) != CC_OK ||
	    (err = empty_series(series, customer_series,
	    N(customer_series))) != CC_OK)
		return err != CC_OK ? err : CC_ENOMEM;
	if ((err = put(series, "segments", json_array())) != CC_OK)
		return err;
	if ((have = have_tables(db, customer_tables, diag)) <= 0) {
		if (have < 0)
			return CC_EDB;
		return customer_segments(db, tiles, json_object_get(series,
		    "segments"), diag);
	}
	if ((err = query_object(db, customer_tiles_sql, NULL, 0,
	    customer_tiles_cols, tiles, diag)) != CC_OK ||
	    (err = customer_segments(db, tiles, json_object_get(series,
	    "segments"), diag)) != CC_OK)
		return err;
	return fill_series(db, series, customer_series, N(customer_series),
	    NULL, 0, diag);
}

/* ---- products -------------------------------------------------------- */

static const char *const product_tables[] = {
	"dim_product", "fact_sales", NULL
};
static const char *const agg_sellers_tables[] = {
	"agg_product_sales", NULL
};

static const char product_tiles_sql[] =
	"SELECT (SELECT COUNT(DISTINCT canonical_id) FROM dim_product"
	" WHERE is_current = 1),"
	" (SELECT COUNT(*) FROM dim_product),"
	" (SELECT COUNT(*) FROM (SELECT canonical_id FROM dim_product"
	" GROUP BY canonical_id HAVING COUNT(*) > 1)),"
	" (SELECT COUNT(DISTINCT category) FROM dim_product"
	" WHERE is_current = 1),"
	" (SELECT COUNT(DISTINCT canonical_id) FROM dim_product"
	" WHERE is_current = 1 AND price IS NULL)";
static const struct col product_tiles_cols[] = {
	{ "products", K_INT }, { "versions", K_INT },
	{ "with_history", K_INT }, { "categories", K_INT },
	{ "price_unknown", K_INT }, { NULL, K_TEXT },
};

/*
 * The products dashboard's top sellers: per product (its canonical id),
 * the quantity and revenue of its facts and the orders that hold a sale
 * of it (SELLERS_FIGURES, from the facts; agg_sellers_sql stores the
 * same rows in agg_product_sales), then the ten that sold the most
 * (TOP_SELLERS of either) with the current name.
 */
#define SELLERS_FIGURES \
	"SELECT product_canonical_id AS id," \
	" COALESCE(SUM(quantity), 0) AS quantity," \
	" COALESCE(SUM(amount), 0) AS revenue," \
	" COUNT(DISTINCT order_id) FILTER (WHERE NOT" \
	" COALESCE(is_return, 0)) AS orders FROM fact_sales" \
	" WHERE product_canonical_id IS NOT NULL" \
	" GROUP BY product_canonical_id"
#define TOP_SELLERS(figures) \
	"SELECT t.id, " CURRENT_PRODUCT_NAME("t.id") ", t.quantity," \
	" t.revenue, t.orders FROM (" figures \
	" ORDER BY quantity DESC, id LIMIT 10) t" \
	" ORDER BY t.quantity DESC, t.id"
#define TOP_SELLERS_COLS \
	{ { "canonical_id", K_INT }, { "name", K_TEXT }, \
	  { "quantity", K_INT }, { "revenue", K_MONEY }, \
	  { "orders", K_INT } }

static const struct series product_series[] = {
	{ "by_category",
	  "SELECT category, COUNT(DISTINCT canonical_id) AS products"
	  " FROM dim_product WHERE is_current = 1 GROUP BY category"
	  " ORDER BY products DESC, category IS NULL, category",
	  { { "category", K_TEXT }, { "products", K_INT } } },
	{ "top_sellers", TOP_SELLERS(SELLERS_FIGURES), TOP_SELLERS_COLS },
};

/* top_sellers from agg_product_sales (the run's aggregate phase). */
static const struct series agg_top_sellers = {
	"top_sellers", TOP_SELLERS("SELECT product_canonical_id AS id,"
	" quantity, revenue, orders FROM agg_product_sales"),
	TOP_SELLERS_COLS,
};

static const char top_seller_sql[] =
	"SELECT ?1, " CURRENT_PRODUCT_NAME("?1") ", ?2, ?3, ?4";

/* quantity DESC, then id: top_sellers' order */
static int
by_quantity_id(const void *x, const void *y)
{
	const struct grp *a = x, *b = y;

	if (a->quantity != b->quantity)
		return a->quantity > b->quantity ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

/*
 * product_series' top_sellers (its figures, order and names) in one pass
 * over fact_sales in rowid order instead of a sort of every fact by
 * product (1,026,766 facts: the statement took 0.5 s of the products
 * document), for a model without agg_product_sales (built by an older
 * version, or by a stage-only run): a run's model has those figures from
 * its aggregate pass (agg_read(): this pass took ~0.2 s of the documents'
 * thread, the tail of the 1M-line aggregate phase).  The rowids follow
 * the order ids (load.c inserts the facts sorted by order id, line
 * number), so an order's lines are consecutive
 * and a product's orders are counted as onepass() counts them: when the
 * order last counted for it is not the current one.  1: an order id that
 * is not TEXT or comes before the previous one, a value of another
 * storage class than the statement's sums take as they are, an overflow
 * (the caller runs the statement, which gives the answer or the error);
 * 0: the rows appended to arr; -err.
 */
static int
top_sellers_pass(sqlite3 *db, json_t *arr, const struct col *cols,
    struct cc_diag *diag)
{
	sqlite3_stmt *st = NULL;
	struct grps ps;
	struct grp *g;
	char kb[64], *prev = NULL;
	size_t plen = 0, pcap = 0, i;
	uint64_t order = 0;
	int64_t id, q, a;
	int rc, t, c, res = 0;
	cc_err err;

	memset(&ps, 0, sizeof(ps));
	if ((err = prep(db, "SELECT product_canonical_id, quantity, amount,"
	    " order_id, is_return FROM fact_sales ORDER BY rowid", &st,
	    diag)) != CC_OK)
		return -(int)err;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *o;
		size_t olen;
		/* the order id: TEXT, in order (BINARY collation) */
		if (sqlite3_column_type(st, 3) != SQLITE_TEXT) {
			res = 1;
			break;
		}
		o = (const char *)sqlite3_column_text(st, 3);
		olen = (size_t)sqlite3_column_bytes(st, 3);
		c = order == 0 ? 1 : memcmp(o, prev, olen < plen ? olen : plen);
		if (c == 0)
			c = olen < plen ? -1 : olen > plen;
		if (c < 0) {
			res = 1;
			break;
		}
		if (c > 0) {
			if (olen + 1 > pcap) {
				char *np = realloc(prev, olen + 64);
				if (np == NULL) {
					res = -(int)CC_ENOMEM;
					break;
				}
				prev = np;
				pcap = olen + 64;
			}
			memcpy(prev, o, olen);
			plen = olen;
			order++;
		}
		if ((t = sqlite3_column_type(st, 0)) == SQLITE_NULL)
			continue;
		if (t != SQLITE_INTEGER ||
		    ((t = sqlite3_column_type(st, 1)) != SQLITE_INTEGER &&
		    t != SQLITE_NULL) ||
		    ((t = sqlite3_column_type(st, 2)) != SQLITE_INTEGER &&
		    t != SQLITE_NULL) ||
		    ((t = sqlite3_column_type(st, 4)) != SQLITE_INTEGER &&
		    t != SQLITE_NULL)) {
			res = 1;
			break;
		}
		id = sqlite3_column_int64(st, 0);
		if ((g = grp_of(&ps, kb, sizeof(kb), 0, &id, sizeof(id),
		    id)) == NULL) {
			res = -(int)CC_ENOMEM;
			break;
		}
		q = sqlite3_column_int64(st, 1);	/* NULL: 0 */
		a = sqlite3_column_int64(st, 2);
		if (add64(&g->quantity, q) || add64(&g->revenue, a)) {
			res = 1;
			break;
		}
		/* a sale: NOT COALESCE(is_return, 0) */
		if (sqlite3_column_int64(st, 4) == 0 && g->last_order != order) {
			g->orders++;
			g->last_order = order;
		}
	}
	if (res == 0 && (err = stepped(db, rc, diag)) != CC_OK)
		res = -(int)err;
	sqlite3_finalize(st);
	st = NULL;
	free(prev);
	if (res == 0 && ps.n > 1)
		qsort(ps.g, ps.n, sizeof(*ps.g), by_quantity_id);
	if (res == 0 && (err = prep(db, top_seller_sql, &st, diag)) != CC_OK)
		res = -(int)err;
	for (i = 0; res == 0 && i < ps.n && i < 10; i++) {
		json_t *row;
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, ps.g[i].id);
		sqlite3_bind_int64(st, 2, ps.g[i].quantity);
		sqlite3_bind_int64(st, 3, ps.g[i].revenue);
		sqlite3_bind_int64(st, 4, ps.g[i].orders);
		if ((rc = sqlite3_step(st)) != SQLITE_ROW)
			res = -(int)stepped(db, rc, diag);
		else if ((row = row_object(st, cols)) == NULL ||
		    json_array_append_new(arr, row) != 0)
			res = -(int)CC_ENOMEM;
	}
	sqlite3_finalize(st);
	grps_free(&ps);
	return res;
}

/*
 * Price bands of the current versions' list price, fixed (not quantiles,
 * so that bands compare across runs and workspaces): lower bound
 * inclusive, upper bound exclusive, in units (QUERY_MONEY_UNIT); -1:
 * unbounded.
 * A negative price (there should be none) falls in the first band.
 */
static const struct band {
	int64_t	min, max;
} dash_price_bands[] = {
#define U(x)	((x) * QUERY_MONEY_UNIT)
	{ -1, U(10) }, { U(10), U(50) }, { U(50), U(100) }, { U(100), U(500) },
	{ U(500), U(1000) }, { U(1000), U(5000) }, { U(5000), -1 },
#undef U
};

static const char price_sql[] =
	"SELECT price, COUNT(DISTINCT canonical_id) FROM dim_product"
	" WHERE is_current = 1 AND price IS NOT NULL GROUP BY price";

static cc_err
price_bands(sqlite3 *db, json_t *arr, int fill, struct cc_diag *diag)
{
	long long counts[N(dash_price_bands)] = { 0 };
	sqlite3_stmt *st = NULL;
	cc_err err = CC_OK;
	int64_t price;
	size_t i;
	int rc;

	if (fill) {
		if ((err = prep(db, price_sql, &st, diag)) != CC_OK)
			return err;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			price = col_money(st, 0);
			for (i = 0; i + 1 < N(dash_price_bands) &&
			    price >= dash_price_bands[i].max; i++)
				;
			counts[i] += sqlite3_column_int64(st, 1);
		}
		err = stepped(db, rc, diag);
		sqlite3_finalize(st);
		if (err != CC_OK)
			return err;
	}
	for (i = 0; i < N(dash_price_bands) && err == CC_OK; i++) {
		const struct band *b = &dash_price_bands[i];
		json_t *o = json_pack("{s:o, s:o, s:I}", "min", b->min < 0 ?
		    json_null() : json_money(b->min), "max", b->max < 0 ?
		    json_null() : json_money(b->max), "products",
		    (json_int_t)counts[i]);
		if (o == NULL || json_array_append_new(arr, o) != 0)
			err = CC_ENOMEM;
	}
	return err;
}

static cc_err
products(sqlite3 *db, const struct dash_filters *f, json_t *doc,
    struct cc_diag *diag)
{
	json_t *tiles, *series, *bands;
	cc_err err = CC_OK;
	int have;

	(void)f;
	if ((tiles = json_pack("{s:i, s:i, s:i, s:i, s:i}", "products", 0,
	    "versions", 0, "with_history", 0, "categories", 0,
	    "price_unknown", 0)) == NULL ||
	    (err = put(doc, "tiles", tiles)) != CC_OK ||
	    (err = put(doc, "series", series = json_object())) != CC_OK ||
	    (err = empty_series(series, product_series,
	    N(product_series))) != CC_OK ||
	    (err = put(series, "price_bands", bands = json_array())) != CC_OK)
		return err != CC_OK ? err : CC_ENOMEM;
	if ((have = have_tables(db, product_tables, diag)) < 0)
		return CC_EDB;
	if ((err = price_bands(db, bands, have, diag)) != CC_OK || !have)
		return err;
	if ((err = query_object(db, product_tiles_sql, NULL, 0,
	    product_tiles_cols, tiles, diag)) != CC_OK ||
	    (err = fill_series(db, series, product_series, 1, NULL, 0,
	    diag)) != CC_OK)
		return err;
	/* top_sellers: from the aggregates when the model has them, else
	 * one pass, else its statement */
	if ((have = agg_built(db, diag)) < 0 ||
	    (have && (have = have_tables(db, agg_sellers_tables, diag)) < 0))
		return CC_EDB;
	if (have)
		return fill_series(db, series, &agg_top_sellers, 1, NULL, 0,
		    diag);
	{
		json_t *top = json_object_get(series, product_series[1].key);
		int rc = top_sellers_pass(db, top, product_series[1].cols,
		    diag);
		if (rc < 0)
			return (cc_err)-rc;
		if (rc == 0)
			return CC_OK;
		json_array_clear(top);
		return fill_series(db, series, product_series + 1, 1, NULL, 0,
		    diag);
	}
}

/* ---- quality --------------------------------------------------------- */

#define QUALITY_RUNS	"20"	/* runs on the quality dashboard */

static const char *const quality_tables[] = {
	"runs", "quality_results", NULL
};

static const char runs_sql[] =
	"SELECT id, state, created_at, started_at, finished_at, counts"
	" FROM runs ORDER BY seq DESC LIMIT " QUALITY_RUNS;
static const struct col runs_cols[] = {
	{ "id", K_TEXT }, { "state", K_TEXT }, { "created_at", K_TEXT },
	{ "started_at", K_TEXT }, { "finished_at", K_TEXT },
	{ "counts", K_JSON }, { NULL, K_TEXT },
};

/*
 * The members of a run's counts the quality trend leaves out: the run's
 * per-file report, its key rules and its entity matching (15-20 KB for a
 * run of the CRM/ERP files, up to 20 runs on the dashboard).  GET
 * /api/v1/runs/{id} and GET /api/v1/matching answer them.
 */
static const char *const run_details[] = {
	"files", "key_rules_detail", "matching",
};

/* A rule passed when it checked rows and found no failing one; a rule
 * with nothing to check (0 of 0) is not applicable, never passed. */
static const char run_dims_sql[] =
	"SELECT dimension, COUNT(*), SUM(failed = 0 AND passed > 0),"
	" SUM(failed > 0), SUM(passed), SUM(failed), SUM(passed + failed = 0)"
	" FROM quality_results WHERE run_id = ?1"
	" GROUP BY dimension ORDER BY dimension";
static const struct col run_dims_cols[] = {
	{ "dimension", K_TEXT }, { "rules", K_INT }, { "rules_passed", K_INT },
	{ "rules_failed", K_INT }, { "passed", K_INT }, { "failed", K_INT },
	{ "rules_not_applicable", K_INT }, { NULL, K_TEXT },
};

static const char rules_sql[] =
	"SELECT rule, dimension, target, passed, failed FROM quality_results"
	" WHERE run_id = ?1 ORDER BY dimension, rule, target";
static const struct col rules_cols[] = {
	{ "rule", K_TEXT }, { "dimension", K_TEXT }, { "target", K_TEXT },
	{ "passed", K_INT }, { "failed", K_INT }, { NULL, K_TEXT },
};

/* The quality summary of one run: totals and by_dimension. */
static cc_err
run_quality(sqlite3 *db, json_t *run, struct cc_diag *diag)
{
	static const char *const keys[] = { "rules", "rules_passed",
	    "rules_failed", "passed", "failed", "rules_not_applicable" };
	const char *id = json_string_value(json_object_get(run, "id"));
	json_int_t tot[N(keys)] = { 0 };
	json_t *dims, *q, *d;
	size_t i, k;
	cc_err err;

	if ((dims = json_array()) == NULL)
		return CC_ENOMEM;
	if ((err = query_rows(db, run_dims_sql, &id, 1, run_dims_cols, dims,
	    diag)) != CC_OK) {
		json_decref(dims);
		return err;
	}
	json_array_foreach(dims, i, d)
		for (k = 0; k < N(keys); k++)
			tot[k] += json_integer_value(json_object_get(d,
			    keys[k]));
	q = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:o}", keys[0], tot[0],
	    keys[1], tot[1], keys[2], tot[2], keys[3], tot[3], keys[4], tot[4],
	    keys[5], tot[5], "by_dimension", dims);
	return put(run, "quality", q);
}

static cc_err
quality(sqlite3 *db, const struct dash_filters *f, json_t *doc,
    struct cc_diag *diag)
{
	json_t *runs, *latest, *rules, *run, *r;
	const char *latest_id;
	cc_err err = CC_OK;
	json_int_t p, fl;
	size_t i;
	int have;

	(void)f;
	latest_id = json_string_value(json_object_get(doc, "run_id"));
	if ((err = put(doc, "runs", runs = json_array())) != CC_OK ||
	    (err = put(doc, "latest", latest = json_pack("{s:o, s:[]}",
	    "run_id", latest_id != NULL ? json_string(latest_id) :
	    json_null(), "rules"))) != CC_OK)
		return err;
	rules = json_object_get(latest, "rules");
	if ((have = have_tables(db, quality_tables, diag)) <= 0)
		return have < 0 ? CC_EDB : CC_OK;
	if ((err = query_rows(db, runs_sql, NULL, 0, runs_cols, runs,
	    diag)) != CC_OK)
		return err;
	json_array_foreach(runs, i, run) {
		json_t *counts = json_object_get(run, "counts");
		size_t k;

		for (k = 0; json_is_object(counts) && k < N(run_details); k++)
			json_object_del(counts, run_details[k]);
		if ((err = run_quality(db, run, diag)) != CC_OK)
			return err;
	}
	if (latest_id == NULL)
		return CC_OK;
	if ((err = query_rows(db, rules_sql, &latest_id, 1, rules_cols,
	    rules, diag)) != CC_OK)
		return err;
	json_array_foreach(rules, i, r) {
		p = json_integer_value(json_object_get(r, "passed"));
		fl = json_integer_value(json_object_get(r, "failed"));
		if ((err = put(r, "pass_rate", p + fl > 0 ?
		    json_real((double)p / (double)(p + fl)) : json_null())) !=
		    CC_OK ||
		    (err = put(r, "status", json_string(p + fl == 0 ?
		    "not_applicable" : fl > 0 ? "failed" : "passed"))) != CC_OK)
			return err;
	}
	return CC_OK;
}

/* ---- sources --------------------------------------------------------- */

/*
 * What each entity's staging table fed, per file: staged rows; the
 * records staged or quarantined ("accounted": the load phase quarantines
 * order lines it staged but cannot resolve, so the two sets overlap and
 * rows - staged - quarantined would go negative); and for the dimensions
 * that keep lineage ("sources", a JSON array of {"file_id", "row"}) the
 * staged rows some dimension row was built from ("matched").  The
 * references are made distinct once, then joined to staging through its
 * primary key (_file_id, _row).  dim_location keeps no lineage; order
 * lines become facts (facts_loaded).  Fixed statements per entity, in
 * the order of schema_entities(); the unit test checks that every entity
 * of the target schema is here.
 */
#define STAGED(stg) \
	"SELECT _file_id, COUNT(*) FROM " stg " GROUP BY _file_id"
/* |staged ∪ quarantined| = |staged| + |quarantined and not staged|: a
 * staging table's rows are distinct (PRIMARY KEY (_file_id, _row)), so
 * only the few quarantined records are looked up (the UNION this
 * replaces sorted every staged row again). */
#define ACCOUNTED(stg, entity) \
	"SELECT _file_id, SUM(n) FROM (SELECT _file_id, COUNT(*) AS n FROM " \
	stg " GROUP BY _file_id UNION ALL SELECT _file_id, COUNT(*) FROM" \
	" (SELECT DISTINCT _file_id, _row FROM quarantine q WHERE entity = '" \
	entity "' AND NOT EXISTS (SELECT 1 FROM " stg " s WHERE" \
	" s._file_id = q._file_id AND s._row = q._row)) GROUP BY _file_id)" \
	" GROUP BY _file_id"
#define MATCHED(dim, stg) \
	"WITH refs AS (SELECT DISTINCT" \
	" json_extract(j.value, '$.file_id') AS fid," \
	" json_extract(j.value, '$.row') AS rec" \
	" FROM " dim " d, json_each(CASE WHEN json_valid(d.sources)" \
	" THEN d.sources ELSE '[]' END) j WHERE j.type = 'object')" \
	" SELECT s._file_id, COUNT(*) FROM refs JOIN " stg " s" \
	" ON s._file_id = refs.fid AND s._row = refs.rec GROUP BY s._file_id"
#define STG_SOURCE(entity) \
	entity, "stg_" entity, STAGED("stg_" entity), \
	ACCOUNTED("stg_" entity, entity)
#define WITH_LINEAGE(entity, dim) \
	STG_SOURCE(entity), dim, MATCHED(dim, "stg_" entity)

static const struct stg_source {
	const char	*entity;
	const char	*stg;		/* staging table */
	const char	*staged_sql;	/* _file_id, rows */
	const char	*accounted_sql;	/* _file_id, staged or quarantined */
	const char	*dim;		/* dimension with lineage, or NULL */
	const char	*matched_sql;	/* _file_id, rows; NULL without dim */
} stg_sources[] = {
	{ WITH_LINEAGE("customer", "dim_customer") },
	{ WITH_LINEAGE("product_category", "dim_product_category") },
	{ WITH_LINEAGE("product", "dim_product") },
	{ STG_SOURCE("location"), NULL, NULL },
	{ STG_SOURCE("order_line"), NULL, NULL },
};

/* Grouped by file (first column _file_id), each landing in one place
 * of the file's object (enum src_target). */
enum src_target {
	SRC_STAGED,		/* entity's staged rows */
	SRC_ACCOUNTED,		/* entity's records staged or quarantined */
	SRC_MATCHED,		/* entity's rows a dimension row names */
	SRC_QUARANTINED,	/* entity's quarantined records */
	SRC_QUARANTINE,		/* the file's quarantine rows and records */
	SRC_REASON,		/* quarantine rows of one reason */
	SRC_ISSUES,		/* clean_issues rows */
	SRC_FACTS		/* fact_sales rows */
};

static const struct file_group {
	const char		*table;	/* skipped while it does not exist */
	const char		*sql;
	enum src_target		 target;
} file_groups[] = {
	{ "quarantine", "SELECT _file_id, entity, COUNT(DISTINCT _row)"
	  " FROM quarantine GROUP BY _file_id, entity", SRC_QUARANTINED },
	{ "quarantine", "SELECT _file_id, COUNT(*), COUNT(DISTINCT _row)"
	  " FROM quarantine GROUP BY _file_id", SRC_QUARANTINE },
	{ "quarantine", "SELECT _file_id, reason, COUNT(*) AS n"
	  " FROM quarantine GROUP BY _file_id, reason"
	  " ORDER BY _file_id, n DESC, reason", SRC_REASON },
	{ "clean_issues", "SELECT _file_id, COUNT(*) FROM clean_issues"
	  " GROUP BY _file_id", SRC_ISSUES },
	{ "fact_sales", "SELECT _file_id, COUNT(*) FROM fact_sales"
	  " GROUP BY _file_id", SRC_FACTS },
};

/*
 * The statements above are numbered for agg_source_groups: stg_sources
 * entry i has 3i (staged), 3i + 1 (accounted), 3i + 2 (matched);
 * file_groups entry j has SRC_GROUP_BASE + j.
 */
#define SRC_GROUP_BASE	100
static const char source_groups_sql[] =
	"SELECT file_id, c1, c2 FROM agg_source_groups WHERE stmt = ?1"
	" ORDER BY rowid";

static const char files_sql[] =
	"SELECT id, name, status, format, row_count FROM files ORDER BY seq";
static const struct col files_cols[] = {
	{ "id", K_TEXT }, { "name", K_TEXT }, { "status", K_TEXT },
	{ "format", K_TEXT }, { "rows", K_INT }, { NULL, K_TEXT },
};

/* The stg_sources entry of entity, or NULL. */
static const struct stg_source *
stg_source(const char *entity)
{
	size_t i;

	for (i = 0; i < N(stg_sources); i++)
		if (strcmp(stg_sources[i].entity, entity) == 0)
			return &stg_sources[i];
	return NULL;
}

/*
 * The working object of entity in file (its "_entities" map), created
 * on first use: matched starts at 0 for entities whose dimension keeps
 * lineage, null for the others.
 */
static json_t *
entity_of(json_t *file, const char *entity)
{
	json_t *ents = json_object_get(file, "_entities"), *e;
	const struct stg_source *s = stg_source(entity);

	if ((e = json_object_get(ents, entity)) != NULL)
		return e;
	e = json_pack("{s:s, s:I, s:I, s:o}", "entity", entity, "staged",
	    (json_int_t)0, "quarantined", (json_int_t)0, "matched", s != NULL &&
	    s->dim != NULL ? json_integer(0) : json_null());
	if (e == NULL || json_object_set_new(ents, entity, e) != 0)
		return NULL;
	return e;
}

/* Column i as text for a JSON key: "" for NULL or bytes not UTF-8. */
static const char *
col_text(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);

	return s != NULL && valid_utf8(s) ? s : "";
}

/* Adds the current row of a grouped statement to file. */
static cc_err
group_row(sqlite3_stmt *st, enum src_target t, const char *entity,
    json_t *file)
{
	json_t *q = json_object_get(file, "quarantined"), *e;

	switch (t) {
	case SRC_STAGED:
	case SRC_ACCOUNTED:
	case SRC_MATCHED:
		if ((e = entity_of(file, entity)) == NULL)
			return CC_ENOMEM;
		return put(e, t == SRC_STAGED ? "staged" : t == SRC_MATCHED ?
		    "matched" : "_accounted", json_integer(
		    sqlite3_column_int64(st, 1)));
	case SRC_QUARANTINED:
		if ((e = entity_of(file, col_text(st, 1))) == NULL)
			return CC_ENOMEM;
		return put(e, "quarantined", json_integer(
		    sqlite3_column_int64(st, 2)));
	case SRC_QUARANTINE:
		if (put(q, "rows", json_integer(sqlite3_column_int64(st, 1))) !=
		    CC_OK)
			return CC_ENOMEM;
		return put(q, "records", json_integer(sqlite3_column_int64(st,
		    2)));
	case SRC_REASON:
		return put(json_object_get(q, "by_reason"), col_text(st, 1),
		    json_integer(sqlite3_column_int64(st, 2)));
	case SRC_ISSUES:
		return put(file, "clean_issues", json_integer(
		    sqlite3_column_int64(st, 1)));
	default:
		return put(file, "facts_loaded", json_integer(
		    sqlite3_column_int64(st, 1)));
	}
}

/*
 * Runs one grouped statement when its tables (table, and table2 unless
 * NULL) exist and adds its counts to the files of byid (file id -> file
 * object); rows of files no longer registered are ignored.  entity names
 * the entity of SRC_STAGED, SRC_ACCOUNTED and SRC_MATCHED.
 */
static cc_err
group_into(sqlite3 *db, const char *table, const char *table2,
    const char *sql, enum src_target t, const char *entity, int stmt,
    int agg, json_t *byid, struct cc_diag *diag)
{
	const char *names[3] = { table, table2, NULL };
	sqlite3_stmt *st = NULL;
	int rc = SQLITE_DONE, have;
	const char *fid;
	json_t *file;
	cc_err err;

	if (agg) {
		/* the rows the run stored for this statement, in its order */
		if ((err = prep(db, source_groups_sql, &st, diag)) != CC_OK)
			return err;
		sqlite3_bind_int(st, 1, stmt);
	} else {
		if ((have = have_tables(db, names, diag)) <= 0)
			return have < 0 ? CC_EDB : CC_OK;
		if ((err = prep(db, sql, &st, diag)) != CC_OK)
			return err;
	}
	while (err == CC_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		fid = (const char *)sqlite3_column_text(st, 0);
		if (fid != NULL && (file = json_object_get(byid, fid)) != NULL)
			err = group_row(st, t, entity, file);
	}
	if (err == CC_OK)
		err = stepped(db, rc, diag);
	sqlite3_finalize(st);
	return err;
}

/*
 * Appends entity e to arr with its lost count: the file's rows less the
 * records staged or quarantined (both when the union was not counted:
 * an entity only quarantine names).
 */
static cc_err
finish_entity(json_t *arr, json_t *e, json_t *rows, json_int_t *lost)
{
	json_t *acc = json_object_get(e, "_accounted");
	json_int_t l;
	cc_err err;

	if (json_is_integer(rows)) {
		l = json_integer_value(rows) - (acc != NULL ?
		    json_integer_value(acc) : json_integer_value(
		    json_object_get(e, "staged")) + json_integer_value(
		    json_object_get(e, "quarantined")));
		*lost += l;
		err = put(e, "lost", json_integer(l));
	} else
		err = put(e, "lost", json_null());
	json_object_del(e, "_accounted");
	if (err == CC_OK && json_array_append(arr, e) != 0)
		err = CC_ENOMEM;
	return err;
}

/*
 * Turns a file's working entity map into its "entities" array (the
 * schema's order, then any other entity quarantine named) with lost per
 * entity, and the file's lost: their sum, null when the file fed nothing
 * or has no row count.
 */
static cc_err
finish_file(json_t *file, json_int_t *lost_total, json_int_t *with_loss)
{
	json_t *ents = json_object_get(file, "_entities"), *e,
	    *arr = json_object_get(file, "entities"),
	    *rows = json_object_get(file, "rows");
	json_int_t lost = 0;
	const char *name;
	cc_err err = CC_OK;
	size_t i;

	for (i = 0; i < N(stg_sources) && err == CC_OK; i++)
		if ((e = json_object_get(ents, stg_sources[i].entity)) != NULL)
			err = finish_entity(arr, e, rows, &lost);
	json_object_foreach(ents, name, e)
		if (err == CC_OK && stg_source(name) == NULL)
			err = finish_entity(arr, e, rows, &lost);
	if (err == CC_OK && json_array_size(arr) > 0 &&
	    json_is_integer(rows)) {
		*lost_total += lost;
		*with_loss += lost != 0;
		err = put(file, "lost", json_integer(lost));
	}
	json_object_del(file, "_entities");
	return err;
}

/* Adds the zero figures and the working entity map to one file. */
static cc_err
start_file(json_t *file)
{
	cc_err err;

	if ((err = put(file, "entities", json_array())) != CC_OK ||
	    (err = put(file, "quarantined", json_pack("{s:I, s:I, s:{}}",
	    "rows", (json_int_t)0, "records", (json_int_t)0,
	    "by_reason"))) != CC_OK ||
	    (err = put(file, "clean_issues", json_integer(0))) != CC_OK ||
	    (err = put(file, "facts_loaded", json_integer(0))) != CC_OK ||
	    (err = put(file, "lost", json_null())) != CC_OK)
		return err;
	return put(file, "_entities", json_object());
}

static cc_err
sources(sqlite3 *db, const struct dash_filters *f, json_t *doc,
    struct cc_diag *diag)
{
	static const char *const files_table[] = { "files", NULL };
	json_int_t rows = 0, qrows = 0, issues = 0, facts = 0, lost = 0,
	    with_loss = 0;
	json_t *files, *byid = NULL, *file;
	const struct stg_source *s;
	cc_err err = CC_OK;
	size_t i;
	int have, agg;

	(void)f;
	if ((err = put(doc, "tiles", json_object())) != CC_OK ||
	    (err = put(doc, "files", files = json_array())) != CC_OK ||
	    (err = put(doc, "lost_note", json_string("lost = rows - records"
	    " staged or quarantined, per entity a file fed; it should be 0:"
	    " every source record ends staged or quarantined"))) != CC_OK)
		return err;
	if ((have = have_tables(db, files_table, diag)) < 0)
		return CC_EDB;
	if (have && (err = query_rows(db, files_sql, NULL, 0, files_cols,
	    files, diag)) != CC_OK)
		return err;
	if ((agg = agg_built(db, diag)) < 0)
		return CC_EDB;
	if ((byid = json_object()) == NULL)
		return CC_ENOMEM;
	json_array_foreach(files, i, file)
		if ((err = start_file(file)) != CC_OK ||
		    (err = json_object_set(byid, json_string_value(
		    json_object_get(file, "id")), file) != 0 ? CC_ENOMEM :
		    CC_OK) != CC_OK)
			goto out;
	for (i = 0; i < N(stg_sources) && err == CC_OK; i++) {
		s = &stg_sources[i];
		if ((err = group_into(db, s->stg, NULL, s->staged_sql,
		    SRC_STAGED, s->entity, (int)(3 * i), agg, byid, diag)) ==
		    CC_OK)
			err = group_into(db, s->stg, "quarantine",
			    s->accounted_sql, SRC_ACCOUNTED, s->entity,
			    (int)(3 * i + 1), agg, byid, diag);
		if (err == CC_OK && s->dim != NULL)
			err = group_into(db, s->dim, s->stg, s->matched_sql,
			    SRC_MATCHED, s->entity, (int)(3 * i + 2), agg, byid,
			    diag);
	}
	for (i = 0; i < N(file_groups) && err == CC_OK; i++)
		err = group_into(db, file_groups[i].table, NULL,
		    file_groups[i].sql, file_groups[i].target, NULL,
		    SRC_GROUP_BASE + (int)i, agg, byid, diag);
	json_array_foreach(files, i, file) {
		if (err != CC_OK ||
		    (err = finish_file(file, &lost, &with_loss)) != CC_OK)
			break;
		rows += json_integer_value(json_object_get(file, "rows"));
		qrows += json_integer_value(json_object_get(json_object_get(
		    file, "quarantined"), "rows"));
		issues += json_integer_value(json_object_get(file,
		    "clean_issues"));
		facts += json_integer_value(json_object_get(file,
		    "facts_loaded"));
	}
	if (err == CC_OK && json_object_update(json_object_get(doc, "tiles"),
	    file = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "files",
	    (json_int_t)json_array_size(files), "rows", rows, "quarantined",
	    qrows, "clean_issues", issues, "facts_loaded", facts, "lost", lost,
	    "files_with_loss", with_loss)) != 0)
		err = CC_ENOMEM;
	if (err == CC_OK)
		json_decref(file);
out:
	json_decref(byid);
	return err;
}

/* ---- the document ---------------------------------------------------- */

typedef cc_err (*dash_builder)(sqlite3 *, const struct dash_filters *,
    json_t *, struct cc_diag *);

static const dash_builder builders[DASH__MAX] = {
	/* DASH_SALES */	sales,
	/* DASH_CUSTOMERS */	customers,
	/* DASH_PRODUCTS */	products,
	/* DASH_QUALITY */	quality,
	/* DASH_SOURCES */	sources,
};

/* The run that built the model (model_info), else the latest done run. */
static const char model_run_sql[] = "SELECT run_id FROM model_info LIMIT 1";
static const char latest_run_sql[] =
	"SELECT id FROM runs WHERE state = 'done' ORDER BY seq DESC LIMIT 1";

static cc_err
latest_run(sqlite3 *db, json_t *doc, struct cc_diag *diag)
{
	static const char *const runs[] = { "runs", NULL };
	static const char *const info[] = { "model_info", NULL };
	static const struct col cols[] = { { "run_id", K_TEXT },
	    { NULL, K_TEXT } };
	cc_err err;
	int have;

	if ((err = put(doc, "run_id", json_null())) != CC_OK)
		return err;
	if ((have = have_tables(db, info, diag)) > 0 &&
	    (err = query_object(db, model_run_sql, NULL, 0, cols, doc,
	    diag)) != CC_OK)
		return err;
	if (!json_is_null(json_object_get(doc, "run_id")))
		return CC_OK;
	if ((have = have_tables(db, runs, diag)) <= 0)
		return have < 0 ? CC_EDB : CC_OK;
	return query_object(db, latest_run_sql, NULL, 0, cols, doc, diag);
}

/* ---- limits ---------------------------------------------------------- */

static double
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* The progress handler's state: a wall-clock deadline and the client. */
struct dclock {
	const struct dash_limits *lim;
	double	 deadline;		/* ms, monotonic; 0: none */
	double	 next_gone;		/* next time gone() is asked */
	int	 fired;			/* 1 deadline, 2 client gone */
};

static int
dprogress(void *ctx)
{
	struct dclock *c = ctx;
	double now = mono_ms();

	if (c->deadline > 0 && now > c->deadline) {
		c->fired = 1;
		return 1;
	}
	if (c->lim->gone != NULL && now >= c->next_gone) {
		c->next_gone = now + DASH_GONE_EVERY_MS;
		if (c->lim->gone(c->lim->ctx)) {
			c->fired = 2;
			return 1;
		}
	}
	return 0;
}

/* ---- aggregates ------------------------------------------------------ */

/* The facts grouped by the keys of every sales filter and figure (the
 * statements agg_fill() computes in one pass; kept for the values it
 * does not take). */
static const char agg_fill_sql[] =
	"INSERT INTO agg_sales_order (day, country, category, order_id,"
	" customer_canonical_id, revenue, lines, returns, return_lines)"
	" SELECT f.order_date, c.country, p.category, f.order_id,"
	" f.customer_canonical_id, SUM(f.amount), COUNT(*),"
	" SUM(f.amount) FILTER (WHERE f.is_return),"
	" COUNT(*) FILTER (WHERE f.is_return) FROM fact_sales f"
	" LEFT JOIN dim_customer c ON c.customer_sk = f.customer_sk"
	" LEFT JOIN dim_product p ON p.product_sk = f.product_sk"
	" GROUP BY 1, 2, 3, 4, 5;"
	"INSERT INTO agg_sales_product (day, country, category,"
	" product_canonical_id, revenue, quantity, lines)"
	" SELECT f.order_date, c.country, p.category, f.product_canonical_id,"
	" SUM(f.amount), SUM(f.quantity), COUNT(*) FROM fact_sales f"
	" LEFT JOIN dim_customer c ON c.customer_sk = f.customer_sk"
	" LEFT JOIN dim_product p ON p.product_sk = f.product_sk"
	" GROUP BY 1, 2, 3, 4;";

/* The products dashboard's top sellers' figures per product, which
 * agg_fill() counts in the same pass when it can. */
static const char agg_sellers_sql[] =
	"INSERT INTO agg_product_sales (product_canonical_id, quantity,"
	" revenue, orders) " SELLERS_FIGURES;

/*
 * The aggregates' indexes: the ones a plan uses, no more.  The filters
 * are written "(?1 IS NULL OR day >= ?1)" so that one prepared statement
 * serves every combination; SQLite plans it once, before the values are
 * bound (this build has no STAT4 re-prepare), so an index on country,
 * category or day cannot serve those WHERE clauses.  What reads them:
 * onepass_sql's ORDER BY order_id (agg_sales_order_by_order, covering
 * the whole row: no sort and no table lookups) and segment.c's as_of
 * (the greatest sale day, read down agg_sales_order_day); the rest scan.
 * Until 2026-12-04 five more were built, (country, day) and (category,
 * day) on both tables and (day) on agg_sales_product, that no plan used
 * (EXPLAIN QUERY PLAN of every statement above): 85 ms of the CRM/ERP
 * run's aggregate phase (tests/bench/README.md).  The unit tests check
 * the plans of these statements (test_dashboard.c).
 */
static const char agg_index_sql[] =
	"CREATE INDEX IF NOT EXISTS agg_sales_order_day ON agg_sales_order (day);"
	"CREATE INDEX IF NOT EXISTS agg_sales_order_by_order ON agg_sales_order"
	" (order_id, day, country, category, customer_canonical_id, revenue,"
	" lines, return_lines, returns);";

/*
 * agg_fill_sql in one pass over the facts (rowid order, no sort), the
 * dimensions' countries and categories held by surrogate key, the
 * groups in hash tables (as many groups as the aggregates hold),
 * then sorted as SQLite's GROUP BY sorts them (NULL before integers
 * before text, text by memcmp: the BINARY collation, datatype3.html
 * "Sort Order") and inserted in that order, so the tables hold the same
 * rows in the same order as the statements'.  The same pass counts the
 * facts per file (the sources dashboard's facts_loaded group).
 *
 * It takes what the statements' values are in a model: keys NULL,
 * integers or text; amounts, quantities and is_return NULL or integers.
 * Anything else (a REAL or a BLOB), or a sum that would overflow, and
 * agg_fill() answers 0 without having written anything: the caller runs
 * the statements, whose answer (or integer overflow error) is then the
 * model's.
 */

/* An encoded grouping key: per component a tag, then 8 bytes of an
 * integer or 4 bytes of length and the text. */
enum { AK_NULL = 0, AK_INT = 1, AK_TEXT = 3 };

struct akey {
	char	*b;
	size_t	 n, cap;
};

/* Room for extra more bytes in k: 0, -1 when out of memory. */
static int
akey_reserve(struct akey *k, size_t extra)
{
	char *nb;

	if (k->n + extra <= k->cap)
		return 0;
	if ((nb = realloc(k->b, (k->n + extra) * 2 + 64)) == NULL)
		return -1;
	k->b = nb;
	k->cap = (k->n + extra) * 2 + 64;
	return 0;
}

/* Copies the n bytes of src to k (replacing its content). */
static int
akey_copy(struct akey *k, const char *src, size_t n)
{
	k->n = 0;
	if (akey_reserve(k, n) != 0)
		return -1;
	memcpy(k->b, src, n);
	k->n = n;
	return 0;
}

static int
akey_put(struct akey *k, int type, long long i, const void *s, int len)
{
	uint32_t l = (uint32_t)len;

	if (akey_reserve(k, 1 + 8 + (type == AK_TEXT ? (size_t)len : 0)) != 0)
		return -1;
	k->b[k->n++] = (char)type;
	if (type == AK_INT) {
		memcpy(k->b + k->n, &i, 8);
		k->n += 8;
	} else if (type == AK_TEXT) {
		memcpy(k->b + k->n, &l, 4);
		k->n += 4;
		memcpy(k->b + k->n, s, (size_t)len);
		k->n += (size_t)len;
	}
	return 0;
}

/* Column i of st onto k: 0, else 1 for a type agg_fill() leaves to
 * SQLite, -1 when out of memory. */
static int
akey_col(struct akey *k, sqlite3_value *v)
{
	switch (sqlite3_value_type(v)) {
	case SQLITE_NULL:
		return akey_put(k, AK_NULL, 0, NULL, 0);
	case SQLITE_INTEGER:
		return akey_put(k, AK_INT, sqlite3_value_int64(v), NULL, 0);
	case SQLITE_TEXT:
		return akey_put(k, AK_TEXT, 0, sqlite3_value_text(v),
		    sqlite3_value_bytes(v));
	default:
		return 1;
	}
}

/* Decodes the component at *p of an encoded key; advances *p. */
static int
akey_next(const char **p, long long *i, const char **s, uint32_t *len)
{
	int type = (unsigned char)*(*p)++;

	if (type == AK_INT) {
		memcpy(i, *p, 8);
		*p += 8;
	} else if (type == AK_TEXT) {
		memcpy(len, *p, 4);
		*s = *p + 4;
		*p += 4 + *len;
	}
	return type;
}

/* Two encoded keys of the same shape, in SQLite's order. */
static int
akey_cmp(const char *a, const char *b, int ncomp)
{
	long long ia = 0, ib = 0;
	const char *sa = NULL, *sb = NULL;
	uint32_t la = 0, lb = 0;
	int c, ta, tb;

	while (ncomp-- > 0) {
		ta = akey_next(&a, &ia, &sa, &la);
		tb = akey_next(&b, &ib, &sb, &lb);
		if (ta != tb)
			return ta < tb ? -1 : 1;
		if (ta == AK_INT && ia != ib)
			return ia < ib ? -1 : 1;
		if (ta == AK_TEXT) {
			c = memcmp(sa, sb, la < lb ? la : lb);
			if (c != 0)
				return c < 0 ? -1 : 1;
			if (la != lb)
				return la < lb ? -1 : 1;
		}
	}
	return 0;
}

/* Binds the components of an encoded key to ?first.. of st. */
static void
akey_bind(sqlite3_stmt *st, int first, const char *p, int ncomp)
{
	long long i = 0;
	const char *s = NULL;
	uint32_t len = 0;
	int k;

	for (k = 0; k < ncomp; k++)
		switch (akey_next(&p, &i, &s, &len)) {
		case AK_INT:
			sqlite3_bind_int64(st, first + k, i);
			break;
		case AK_TEXT:
			sqlite3_bind_text(st, first + k, s, (int)len,
			    SQLITE_STATIC);
			break;
		default:
			sqlite3_bind_null(st, first + k);
		}
}

/* One group: its encoded key (in the arena) and its sums (has: the sum
 * is not NULL). */
struct agroup {
	size_t		 koff;
	size_t		 klen;
	uint64_t	 hash;
	long long	 sum[2], count[2];
	long long	 last;		/* agg_product_sales: the order last
					   counted (agg_read()'s number) */
	int		 has[2];
};

/*
 * The groups of one table: an open-addressing hash table of group
 * indexes (linear probing, at most half full, FNV-1a hashes, as
 * core/keymap.c), the groups in an array, their keys in one arena (no
 * allocation per group), and after agroups_sort() their order.
 */
struct agroups {
	uint32_t	*slot;		/* index + 1; 0: empty */
	size_t		 cap;		/* a power of two */
	struct agroup	*g;
	size_t		 n, gcap;
	struct akey	 arena;
	uint32_t	*ord;		/* agroups_sort(): sorted indexes */
	int		 ncomp;
};


static int
agroups_grow(struct agroups *gs)
{
	size_t cap = gs->cap ? gs->cap * 2 : 1024, i, j;
	uint32_t *t = calloc(cap, sizeof(*t));

	if (t == NULL)
		return -1;
	for (i = 0; i < gs->n; i++) {
		for (j = gs->g[i].hash & (cap - 1); t[j] != 0;
		    j = (j + 1) & (cap - 1))
			;
		t[j] = (uint32_t)i + 1;
	}
	free(gs->slot);
	gs->slot = t;
	gs->cap = cap;
	return 0;
}

/* The group of key k (created empty), or NULL when out of memory. */
static struct agroup *
agroup_of(struct agroups *gs, const struct akey *k)
{
	uint64_t h = util_fnv1a64(k->b, k->n);
	struct agroup *g;
	size_t j;

	if ((gs->n + 1) * 2 > gs->cap && agroups_grow(gs) != 0)
		return NULL;
	for (j = h & (gs->cap - 1); gs->slot[j] != 0;
	    j = (j + 1) & (gs->cap - 1)) {
		g = &gs->g[gs->slot[j] - 1];
		if (g->hash == h && g->klen == k->n &&
		    memcmp(gs->arena.b + g->koff, k->b, k->n) == 0)
			return g;
	}
	if (gs->n == gs->gcap) {
		size_t cap = gs->gcap ? gs->gcap * 2 : 1024;
		if ((g = realloc(gs->g, cap * sizeof(*g))) == NULL)
			return NULL;
		gs->g = g;
		gs->gcap = cap;
	}
	if (gs->n >= UINT32_MAX - 1 || akey_reserve(&gs->arena, k->n) != 0)
		return NULL;
	g = &gs->g[gs->n];
	memset(g, 0, sizeof(*g));
	g->koff = gs->arena.n;
	g->klen = k->n;
	g->hash = h;
	memcpy(gs->arena.b + gs->arena.n, k->b, k->n);
	gs->arena.n += k->n;
	gs->slot[j] = (uint32_t)++gs->n;
	return g;
}

static void
agroups_free(struct agroups *gs)
{
	free(gs->slot);
	free(gs->g);
	free(gs->arena.b);
	free(gs->ord);
	memset(gs, 0, sizeof(*gs));
}

/* Adds v (column i of st: NULL or an integer) to sum j of g: 0, else 1
 * for a value or an overflow agg_fill() leaves to SQLite. */
static int
agroup_add(struct agroup *g, int j, sqlite3_value *v)
{
	int t = sqlite3_value_type(v);

	if (t == SQLITE_NULL)
		return 0;
	if (t != SQLITE_INTEGER)
		return 1;
	if (__builtin_add_overflow(g->sum[j], sqlite3_value_int64(v),
	    &g->sum[j]))
		return 1;
	g->has[j] = 1;
	return 0;
}

static int
agroup_cmp(const void *x, const void *y, void *ctx)
{
	const struct agroups *gs = ctx;
	const struct agroup *a = &gs->g[*(const uint32_t *)x];
	const struct agroup *b = &gs->g[*(const uint32_t *)y];

	return akey_cmp(gs->arena.b + a->koff, gs->arena.b + b->koff,
	    gs->ncomp);
}

/* gs->ord: the groups in their keys' order (qsort_r(), glibc). */
static int
agroups_sort(struct agroups *gs)
{
	size_t i;

	if ((gs->ord = malloc((gs->n + 1) * sizeof(*gs->ord))) == NULL)
		return -1;
	for (i = 0; i < gs->n; i++)
		gs->ord[i] = (uint32_t)i;
	qsort_r(gs->ord, gs->n, sizeof(*gs->ord), agroup_cmp, gs);
	return 0;
}

/* A dimension's text column by surrogate key (rowid order: sorted). */
struct skcol {
	long long	*sk;
	struct akey	 val;		/* one encoded component per key */
	size_t		*off;
	size_t		 n, cap;
};

static void
skcol_free(struct skcol *c)
{
	free(c->sk);
	free(c->off);
	free(c->val.b);
	memset(c, 0, sizeof(*c));
}

/* 0, 1 for a value agg_fill() leaves to SQLite, -1 out of memory, -2 a
 * database error (diag set). */
static int
skcol_load(sqlite3 *db, const char *sql, struct skcol *c,
    struct cc_diag *diag)
{
	sqlite3_stmt *st = NULL;
	int rc = SQLITE_DONE, r = 0;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		cc_diag_set(diag, CC_EDB, "sqlite", "%s", sqlite3_errmsg(db));
		return -1;
	}
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (c->n == c->cap) {
			size_t cap = c->cap ? c->cap * 2 : 1024;
			long long *sk = realloc(c->sk, cap * sizeof(*sk));
			size_t *off;
			if (sk == NULL) {
				r = -1;
				break;
			}
			c->sk = sk;
			if ((off = realloc(c->off, cap * sizeof(*off))) == NULL) {
				r = -1;
				break;
			}
			c->off = off;
			c->cap = cap;
		}
		if (sqlite3_column_type(st, 0) != SQLITE_INTEGER ||
		    (c->n > 0 && sqlite3_column_int64(st, 0) <= c->sk[c->n - 1]))
			r = 1;	/* not a rowid in order: the statements' */
		else {
			c->sk[c->n] = sqlite3_column_int64(st, 0);
			c->off[c->n] = c->val.n;
			if ((r = akey_col(&c->val, sqlite3_column_value(st,
			    1))) == 0)
				c->n++;
		}
	}
	if (r == 0 && rc != SQLITE_DONE) {
		cc_diag_set(diag, CC_EDB, "sqlite", "%s", sqlite3_errmsg(db));
		r = -2;
	} else if (r == -1)
		cc_diag_set(diag, CC_ENOMEM, "nomem", "out of memory");
	sqlite3_finalize(st);
	return r;
}

/* Appends the value of surrogate key column i of st (the LEFT JOIN's:
 * NULL without a member) to k. */
static int
skcol_join(const struct skcol *c, sqlite3_value *v, struct akey *k)
{
	size_t lo = 0, hi = c->n, end;
	long long sk;

	if (sqlite3_value_type(v) == SQLITE_INTEGER) {
		sk = sqlite3_value_int64(v);
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (c->sk[mid] < sk)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < c->n && c->sk[lo] == sk) {
			end = lo + 1 < c->n ? c->off[lo + 1] : c->val.n;
			if (akey_reserve(k, end - c->off[lo]) != 0)
				return -1;
			memcpy(k->b + k->n, c->val.b + c->off[lo], end -
			    c->off[lo]);
			k->n += end - c->off[lo];
			return 0;
		}
	}
	return akey_put(k, AK_NULL, 0, NULL, 0);
}

/* The facts' columns agg_fill() reads. */
enum {
	AF_DAY, AF_CSK, AF_PSK, AF_ORDER, AF_CUST, AF_PROD, AF_AMOUNT, AF_QTY,
	AF_RETURN, AF_FILE, AF__N
};

static const char agg_scan_sql[] =
	"SELECT order_date, customer_sk, product_sk, order_id,"
	" customer_canonical_id, product_canonical_id, amount, quantity,"
	" is_return, _file_id FROM fact_sales";

/* Inserts the groups of gs, sorted, through sql: the key components,
 * then sums and counts as bind() binds them. */
static int
agroups_insert(sqlite3 *db, struct agroups *gs, const char *sql,
    void (*bind)(sqlite3_stmt *, int, const struct agroup *),
    struct cc_diag *diag)
{
	sqlite3_stmt *ins = NULL;
	const struct agroup *g;
	size_t i;

	if (agroups_sort(gs) != 0) {
		cc_diag_set(diag, CC_ENOMEM, "nomem", "out of memory");
		return -1;
	}
	if (sqlite3_prepare_v2(db, sql, -1, &ins, NULL) != SQLITE_OK) {
		cc_diag_set(diag, CC_EDB, "sqlite", "%s", sqlite3_errmsg(db));
		return -2;
	}
	for (i = 0; i < gs->n; i++) {
		g = &gs->g[gs->ord[i]];
		sqlite3_reset(ins);
		akey_bind(ins, 1, gs->arena.b + g->koff, gs->ncomp);
		bind(ins, gs->ncomp + 1, g);
		if (sqlite3_step(ins) != SQLITE_DONE) {
			cc_diag_set(diag, CC_EDB, "sqlite", "%s",
			    sqlite3_errmsg(db));
			sqlite3_finalize(ins);
			return -2;
		}
	}
	sqlite3_finalize(ins);
	return 0;
}

static void
bind_sum(sqlite3_stmt *st, int i, const struct agroup *g, int j)
{
	if (g->has[j])
		sqlite3_bind_int64(st, i, g->sum[j]);
	else
		sqlite3_bind_null(st, i);
}

/* revenue, lines, returns, return_lines */
static void
bind_order(sqlite3_stmt *st, int i, const struct agroup *g)
{
	bind_sum(st, i, g, 0);
	sqlite3_bind_int64(st, i + 1, g->count[0]);
	bind_sum(st, i + 2, g, 1);
	sqlite3_bind_int64(st, i + 3, g->count[1]);
}

/* revenue, quantity, lines */
static void
bind_product(sqlite3_stmt *st, int i, const struct agroup *g)
{
	bind_sum(st, i, g, 0);
	bind_sum(st, i + 1, g, 1);
	sqlite3_bind_int64(st, i + 2, g->count[0]);
}

/* quantity, revenue (COALESCE(SUM(...), 0)), orders */
static void
bind_seller(sqlite3_stmt *st, int i, const struct agroup *g)
{
	sqlite3_bind_int64(st, i, g->has[0] ? g->sum[0] : 0);
	sqlite3_bind_int64(st, i + 1, g->has[1] ? g->sum[1] : 0);
	sqlite3_bind_int64(st, i + 2, g->count[0]);
}

/* The groups of the facts' pass (agg_read()), until they are written. */
struct dash_facts {
	struct agroups	 orders, products, files;
	struct agroups	 sellers;	/* agg_product_sales, when sold */
	int		 sold;		/* sellers counted (the order ids
					   came in order) */
	int		 r;		/* agg_read()'s answer */
};

/* Frees f's groups (not f). */
static void
facts_clear(struct dash_facts *f)
{
	agroups_free(&f->orders);
	agroups_free(&f->products);
	agroups_free(&f->files);
	agroups_free(&f->sellers);
}

void
dash_facts_free(struct dash_facts *f)
{
	if (f == NULL)
		return;
	facts_clear(f);
	free(f);
}

/*
 * One fact (its columns v, ret: a return) into f's sellers: its order
 * numbered (*order, from 1) when its id differs from the previous fact's
 * (*poid), its product's quantity and revenue summed, the order counted
 * once for the product when the fact is a sale (NOT COALESCE(is_return,
 * 0)) and has an order id (COUNT(DISTINCT order_id) leaves NULL out).
 * An order id before the previous one in SQLite's order stops the
 * counting (f->sold 0: the statement's).  0, 1 for a value or an
 * overflow the pass leaves to the statements, -1 out of memory.
 */
static int
seller_add(struct dash_facts *f, sqlite3_value **v, int ret, struct akey *ks,
    struct akey *oid, struct akey *poid, long long *order)
{
	struct agroup *g;
	int r, c;

	oid->n = 0;
	if ((r = akey_col(oid, v[AF_ORDER])) != 0)
		return r;
	if (*order == 0 || (c = akey_cmp(oid->b, poid->b, 1)) > 0) {
		if (akey_copy(poid, oid->b, oid->n) != 0)
			return -1;
		++*order;
	} else if (c < 0) {
		f->sold = 0;
		return 0;
	}
	if (sqlite3_value_type(v[AF_PROD]) == SQLITE_NULL)
		return 0;		/* WHERE product_canonical_id IS NOT NULL */
	ks->n = 0;
	if ((r = akey_col(ks, v[AF_PROD])) != 0)
		return r;
	if ((g = agroup_of(&f->sellers, ks)) == NULL)
		return -1;
	if ((r = agroup_add(g, 0, v[AF_QTY])) != 0 ||
	    (r = agroup_add(g, 1, v[AF_AMOUNT])) != 0)
		return r;
	if (!ret && oid->b[0] != AK_NULL && g->last != *order) {
		g->count[0]++;
		g->last = *order;
	}
	return 0;
}

/*
 * The pass over fact_sales of agg_fill() on db (it writes nothing): the
 * groups of agg_sales_order, agg_sales_product and the facts' count per
 * file into f (ncomp 1: _file_id; count[0]: facts), and those of
 * agg_product_sales (agg_sellers_sql) when the order ids come in order
 * (f->sold: load.c inserts the facts sorted by order id, so an order's
 * lines are consecutive and its products' orders are counted when the
 * order changes, as top_sellers_pass() counts them; else the statement
 * fills that table).  0: read; 1: a value the pass leaves to the
 * statements (f's groups empty); -1: out of memory, -2: SQLite failed
 * (diag set).
 */
static int
agg_read(sqlite3 *db, struct dash_facts *f, struct cc_diag *diag)
{
	struct skcol country, category;
	struct agroups *files = &f->files;
	struct agroup *go = NULL, *gp, *gf;
	struct akey ko, kp, kf, prev, ks, oid, poid;
	sqlite3_stmt *st = NULL;
	long long order = 0;		/* the order's number, from 1 */
	int r = 0, rc = SQLITE_DONE, ret;

	memset(&country, 0, sizeof(country));
	memset(&category, 0, sizeof(category));
	memset(&ko, 0, sizeof(ko));
	memset(&kp, 0, sizeof(kp));
	memset(&kf, 0, sizeof(kf));
	memset(&prev, 0, sizeof(prev));
	memset(&ks, 0, sizeof(ks));
	memset(&oid, 0, sizeof(oid));
	memset(&poid, 0, sizeof(poid));
	f->orders.ncomp = 5;
	f->products.ncomp = 4;
	f->sellers.ncomp = 1;
	f->sold = 1;
	files->ncomp = 1;
	if ((r = skcol_load(db, "SELECT customer_sk, country FROM"
	    " dim_customer ORDER BY customer_sk", &country, diag)) != 0 ||
	    (r = skcol_load(db, "SELECT product_sk, category FROM"
	    " dim_product ORDER BY product_sk", &category, diag)) != 0)
		goto out;
	if (sqlite3_prepare_v2(db, agg_scan_sql, -1, &st, NULL) != SQLITE_OK) {
		cc_diag_set(diag, CC_EDB, "sqlite", "%s", sqlite3_errmsg(db));
		r = -2;
		goto out;
	}
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		/* the row's values (unprotected: read before the next step;
		 * sqlite3_column_*() would take the connection's mutex per
		 * call) */
		sqlite3_value *v[AF__N];
		int c;
		for (c = 0; c < AF__N; c++)
			v[c] = sqlite3_column_value(st, c);
		/* the shared head: day, country, category */
		ko.n = kf.n = 0;
		if ((r = akey_col(&ko, v[AF_DAY])) != 0 ||
		    (r = skcol_join(&country, v[AF_CSK], &ko)) != 0 ||
		    (r = skcol_join(&category, v[AF_PSK], &ko)) != 0)
			break;
		if (akey_copy(&kp, ko.b, ko.n) != 0) {
			r = -1;
			break;
		}
		if ((r = akey_col(&ko, v[AF_ORDER])) != 0 ||
		    (r = akey_col(&ko, v[AF_CUST])) != 0 ||
		    (r = akey_col(&kp, v[AF_PROD])) != 0 ||
		    (r = akey_col(&kf, v[AF_FILE])) != 0)
			break;
		if ((ret = sqlite3_value_type(v[AF_RETURN])) != SQLITE_NULL &&
		    ret != SQLITE_INTEGER) {
			r = 1;
			break;
		}
		ret = ret == SQLITE_INTEGER &&
		    sqlite3_value_int64(v[AF_RETURN]) != 0;
		/* the facts come by order: the last group is often the one */
		if (go == NULL || prev.n != ko.n || memcmp(prev.b, ko.b,
		    ko.n) != 0) {
			if ((go = agroup_of(&f->orders, &ko)) == NULL ||
			    akey_copy(&prev, ko.b, ko.n) != 0) {
				r = -1;
				break;
			}
		}
		if ((gp = agroup_of(&f->products, &kp)) == NULL ||
		    (gf = agroup_of(files, &kf)) == NULL) {
			r = -1;
			break;
		}
		if ((r = agroup_add(go, 0, v[AF_AMOUNT])) != 0 ||
		    (ret && (r = agroup_add(go, 1, v[AF_AMOUNT])) != 0) ||
		    (r = agroup_add(gp, 0, v[AF_AMOUNT])) != 0 ||
		    (r = agroup_add(gp, 1, v[AF_QTY])) != 0)
			break;
		go->count[0]++;
		go->count[1] += ret;
		gp->count[0]++;
		gf->count[0]++;
		if (f->sold && (r = seller_add(f, v, ret, &ks, &oid, &poid,
		    &order)) != 0)
			break;
	}
	if (r == -1)
		cc_diag_set(diag, CC_ENOMEM, "nomem", "out of memory");
	else if (r == 0 && rc != SQLITE_DONE) {
		cc_diag_set(diag, CC_EDB, "sqlite", "%s", sqlite3_errmsg(db));
		r = -2;
	}
	sqlite3_finalize(st);
out:
	if (r != 0)
		facts_clear(f);
	if (!f->sold)
		agroups_free(&f->sellers);
	skcol_free(&country);
	skcol_free(&category);
	free(ko.b);
	free(kp.b);
	free(kf.b);
	free(prev.b);
	free(ks.b);
	free(oid.b);
	free(poid.b);
	f->r = r;
	return r;
}

/*
 * Writes the groups agg_read() left in f (r 0) into agg_sales_order and
 * agg_sales_product of db (and agg_product_sales when f->sold), in the
 * order of the GROUP BY statements they replace, and moves the facts'
 * count per file into files (sorted).  1: done; -1: out of memory, -2:
 * SQLite failed (diag set).
 */
static int
agg_write(sqlite3 *db, struct dash_facts *f, struct agroups *files,
    struct cc_diag *diag)
{
	int r;

	if ((r = agroups_insert(db, &f->orders, "INSERT INTO agg_sales_order"
	    " (day, country, category, order_id, customer_canonical_id,"
	    " revenue, lines, returns, return_lines) VALUES (?1, ?2, ?3, ?4,"
	    " ?5, ?6, ?7, ?8, ?9)", bind_order, diag)) == 0 &&
	    (r = agroups_insert(db, &f->products, "INSERT INTO"
	    " agg_sales_product (day, country, category, product_canonical_id,"
	    " revenue, quantity, lines) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	    bind_product, diag)) == 0 && (!f->sold ||
	    (r = agroups_insert(db, &f->sellers, "INSERT INTO"
	    " agg_product_sales (product_canonical_id, quantity, revenue,"
	    " orders) VALUES (?1, ?2, ?3, ?4)", bind_seller, diag)) == 0)) {
		if (agroups_sort(&f->files) != 0) {
			cc_diag_set(diag, CC_ENOMEM, "nomem", "out of memory");
			return -1;
		}
		agroups_free(files);
		*files = f->files;
		memset(&f->files, 0, sizeof(f->files));
		return 1;
	}
	return r;
}

/*
 * Fills agg_sales_order and agg_sales_product (see above) and the facts'
 * count per file into files (ncomp 1: _file_id; count[0]: facts), from
 * the pass read already in pre (NULL: read now on db); agg_product_sales
 * too when *sold is 1 (the model has it) and the pass counted them, *sold
 * then left 1, else set to 0 (agg_sellers_sql's to fill).
 * 1: done; 0: left to the statements, nothing written (files empty);
 * -1: out of memory, -2: SQLite failed (diag set).
 */
static int
agg_fill(sqlite3 *db, struct dash_facts *pre, struct agroups *files,
    int *sold, struct cc_diag *diag)
{
	struct dash_facts own;
	int r;

	if (pre == NULL) {
		memset(&own, 0, sizeof(own));
		pre = &own;
		if ((r = agg_read(db, pre, diag)) != 0) {
			*sold = 0;
			return r == 1 ? 0 : r;
		}
	} else if (pre->r != 0) {
		*sold = 0;
		return pre->r == 1 ? 0 : pre->r;
	}
	pre->sold = pre->sold && *sold;
	*sold = pre->sold;
	r = agg_write(db, pre, files, diag);
	if (pre == &own)
		facts_clear(&own);
	return r;
}

cc_err
dash_facts_read(sqlite3 *db, struct dash_facts **out, struct cc_diag *diag)
{
	struct dash_facts *f;
	int r;

	if (out != NULL)
		*out = NULL;
	if (db == NULL || out == NULL)
		return cc_diag_set(diag, CC_EINVAL, "dashboard", "no database");
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return cc_diag_set(diag, CC_ENOMEM, "nomem", "out of memory");
	if ((r = agg_read(db, f, diag)) < 0) {
		dash_facts_free(f);
		return r == -1 ? CC_ENOMEM : CC_EDB;
	}
	*out = f;
	return CC_OK;
}

/*
 * The sources dashboard's groups (agg_source_groups rows), gathered by
 * dash_aggregate_facts(), dash_sources_read() and dash_sources_store():
 * the facts per file from agg_fill(), and the rows of the grouped
 * statements when they were read ahead (on another connection to the
 * committed model), kept as their values.
 */
struct gval {
	int		 type;		/* SQLITE_INTEGER, ... */
	sqlite3_int64	 i;
	double		 f;
	char		*p;		/* TEXT or BLOB bytes (owned when kept) */
	int		 n;
};

struct grow {
	int		 stmt;
	int		 nv;
	struct gval	 v[3];		/* file_id, c1, c2 */
};

struct dash_sources {
	struct agroups	 files;		/* facts per file (filled) */
	int		 filled;	/* agg_fill() counted them */
	int		 read;		/* rows read ahead */
	struct grow	*rows;
	size_t		 n, cap;
};

/* Where a group's rows go: an INSERT into agg_source_groups (ins), else
 * kept in src. */
struct gsink {
	sqlite3		*db;		/* ins's */
	sqlite3_stmt	*ins;
	struct dash_sources *src;
};

/* One row of statement stmt into k (v: nv values, their bytes only read
 * during the call).  Errors: CC_EDB (diag), CC_ENOMEM. */
static cc_err
sink_row(struct gsink *k, int stmt, const struct gval *v, int nv,
    struct cc_diag *diag)
{
	struct grow *g;
	int i;

	if (k->ins != NULL) {
		sqlite3_reset(k->ins);
		sqlite3_clear_bindings(k->ins);
		sqlite3_bind_int(k->ins, 1, stmt);
		for (i = 0; i < nv && i < 3; i++)
			switch (v[i].type) {
			case SQLITE_INTEGER:
				sqlite3_bind_int64(k->ins, i + 2, v[i].i);
				break;
			case SQLITE_FLOAT:
				sqlite3_bind_double(k->ins, i + 2, v[i].f);
				break;
			case SQLITE_TEXT:
				sqlite3_bind_text(k->ins, i + 2, v[i].p,
				    v[i].n, SQLITE_STATIC);
				break;
			case SQLITE_BLOB:
				sqlite3_bind_blob(k->ins, i + 2, v[i].p,
				    v[i].n, SQLITE_STATIC);
				break;
			default:
				sqlite3_bind_null(k->ins, i + 2);
			}
		if (sqlite3_step(k->ins) != SQLITE_DONE)
			return stepped(k->db, sqlite3_errcode(k->db), diag);
		return CC_OK;
	}
	if (k->src->n == k->src->cap) {
		size_t cap = k->src->cap ? k->src->cap * 2 : 64;
		if ((g = realloc(k->src->rows, cap * sizeof(*g))) == NULL)
			return cc_diag_set(diag, CC_ENOMEM, "nomem",
			    "out of memory");
		k->src->rows = g;
		k->src->cap = cap;
	}
	g = &k->src->rows[k->src->n];
	memset(g, 0, sizeof(*g));
	g->stmt = stmt;
	for (i = 0; i < nv && i < 3; i++) {
		g->v[i] = v[i];
		g->v[i].p = NULL;
		if ((v[i].type == SQLITE_TEXT || v[i].type == SQLITE_BLOB) &&
		    (g->v[i].p = malloc((size_t)v[i].n + 1)) == NULL) {
			while (i-- > 0)
				free(g->v[i].p);
			return cc_diag_set(diag, CC_ENOMEM, "nomem",
			    "out of memory");
		}
		if (g->v[i].p != NULL)
			memcpy(g->v[i].p, v[i].p, (size_t)v[i].n);
	}
	g->nv = nv < 3 ? nv : 3;
	k->src->n++;
	return CC_OK;
}

/* Column i of st as a gval (its bytes st's, until st steps). */
static void
gval_col(sqlite3_stmt *st, int i, struct gval *v)
{
	memset(v, 0, sizeof(*v));
	switch ((v->type = sqlite3_column_type(st, i))) {
	case SQLITE_INTEGER:
		v->i = sqlite3_column_int64(st, i);
		break;
	case SQLITE_FLOAT:
		v->f = sqlite3_column_double(st, i);
		break;
	case SQLITE_TEXT:
		v->p = (char *)sqlite3_column_text(st, i);
		v->n = sqlite3_column_bytes(st, i);
		break;
	case SQLITE_BLOB:
		v->p = (char *)sqlite3_column_blob(st, i);
		v->n = sqlite3_column_bytes(st, i);
		break;
	}
}

/* Runs one grouped statement of the sources dashboard and stores its
 * rows under its number. */
static cc_err
store_group(sqlite3 *db, struct gsink *k, const char *sql, int stmt,
    struct cc_diag *diag)
{
	sqlite3_stmt *st = NULL;
	struct gval v[3];
	cc_err err = CC_OK;
	int rc, i, n;

	if ((err = prep(db, sql, &st, diag)) != CC_OK)
		return err;
	n = sqlite3_column_count(st);
	if (n > 3)
		n = 3;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (i = 0; i < n; i++)
			gval_col(st, i, &v[i]);
		if ((err = sink_row(k, stmt, v, n, diag)) != CC_OK)
			break;
	}
	if (err == CC_OK)
		err = stepped(db, rc, diag);
	sqlite3_finalize(st);
	return err;
}

/* The facts' count per file from agg_fill() (the rows the fact_sales
 * group's statement would give, in its order), stored as statement stmt. */
static cc_err
store_counts(sqlite3 *db, sqlite3_stmt *ins, const struct agroups *files,
    int stmt, struct cc_diag *diag)
{
	const struct agroup *g;
	size_t i;

	for (i = 0; i < files->n; i++) {
		g = &files->g[files->ord[i]];
		sqlite3_reset(ins);
		sqlite3_clear_bindings(ins);
		sqlite3_bind_int(ins, 1, stmt);
		akey_bind(ins, 2, files->arena.b + g->koff, 1);
		sqlite3_bind_int64(ins, 3, g->count[0]);
		if (sqlite3_step(ins) != SQLITE_DONE)
			return stepped(db, sqlite3_errcode(db), diag);
	}
	return CC_OK;
}

/* One file's count of matched staging rows (matched_group()). */
struct mfile {
	char		*id;
	size_t		 len;
	int64_t		 n;
};

/* _file_id order of GROUP BY (BINARY: bytes, then the shorter first) */
static int
mfile_cmp(const void *x, const void *y)
{
	const struct mfile *a = x, *b = y;
	int c = memcmp(a->id, b->id, a->len < b->len ? a->len : b->len);

	return c != 0 ? c : a->len < b->len ? -1 : a->len > b->len;
}

/* The key of a reference in a hash table: the row, then the file id. */
static size_t
mref_key(char *buf, size_t cap, int64_t row, const char *fid, size_t len)
{
	if (len + sizeof(row) > cap)
		return 0;
	memcpy(buf, &row, sizeof(row));
	memcpy(buf + sizeof(row), fid, len);
	return len + sizeof(row);
}

/*
 * The distinct (file_id, row) references of dim's lineage into refs, as
 * the MATCHED statement's refs read them (json_each over a valid sources
 * array, its objects' "file_id" and "row"; NULL and what json_valid()
 * refuses as '[]'): 1, 0 when a value is one the statement may read
 * otherwise (a text with an escape or a NUL, a sources value that is not
 * a text or not an array of flat objects, a file_id that is not a string,
 * a row that is not an integer, a duplicate key, valid JSON that Jansson
 * refuses), -1 out of memory or on a database error (diag set).
 */
/* 1 when SQLite's json_valid() refuses text, 0 when not, -1 on error
 * (diag set); *st: its statement, prepared on first use. */
static int
json_invalid(sqlite3 *db, sqlite3_stmt **st, const char *text,
    struct cc_diag *diag)
{
	int rc;

	if (*st == NULL && prep(db, "SELECT json_valid(?1)", st, diag) !=
	    CC_OK)
		return -1;
	sqlite3_reset(*st);
	sqlite3_bind_text(*st, 1, text, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(*st)) != SQLITE_ROW) {
		stepped(db, rc, diag);
		return -1;
	}
	rc = sqlite3_column_int(*st, 0) == 0;
	sqlite3_reset(*st);
	return rc;
}

static int
matched_refs(sqlite3 *db, const char *dim, struct htab *refs,
    struct cc_diag *diag)
{
	char sql[128], key[512];
	sqlite3_stmt *st = NULL, *valid = NULL;
	const char *text, *k;
	json_t *arr, *o, *v, *fid, *row;
	size_t i, klen;
	int rc, ok = 1, added, oom = 0;

	snprintf(sql, sizeof(sql), "SELECT sources FROM %s", dim);
	if (prep(db, sql, &st, diag) != CC_OK)
		return -1;
	while (ok == 1 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rc = sqlite3_column_type(st, 0)) == SQLITE_NULL)
			continue;	/* json_valid(NULL): '[]' */
		if (rc != SQLITE_TEXT ||
		    (text = (const char *)sqlite3_column_text(st, 0)) == NULL ||
		    strlen(text) != (size_t)sqlite3_column_bytes(st, 0) ||
		    strchr(text, '\\') != NULL) {
			ok = 0;
			break;
		}
		if ((arr = json_loads(text, JSON_REJECT_DUPLICATES, NULL)) ==
		    NULL) {
			/* what SQLite does not read as JSON reads as '[]' */
			if ((ok = json_invalid(db, &valid, text, diag)) == 1)
				continue;
			break;
		}
		if (!json_is_array(arr))
			ok = 0;
		json_array_foreach(arr, i, o) {
			if (!ok)
				break;
			if (!json_is_object(o)) {
				ok = 0;
				break;
			}
			json_object_foreach(o, k, v)
				if (json_is_object(v) || json_is_array(v))
					ok = 0;
			fid = json_object_get(o, "file_id");
			row = json_object_get(o, "row");
			if (!ok || (fid != NULL && !json_is_string(fid)) ||
			    (row != NULL && !json_is_integer(row))) {
				ok = 0;
				break;
			}
			/* a NULL file id or row joins no staging row */
			if (fid == NULL || row == NULL)
				continue;
			if ((klen = mref_key(key, sizeof(key),
			    (int64_t)json_integer_value(row),
			    json_string_value(fid), json_string_length(fid))) ==
			    0) {
				ok = 0;
				break;
			}
			if (htab_get(refs, key, klen, &added) == NULL) {
				ok = -1;
				oom = 1;
				break;
			}
		}
		json_decref(arr);
	}
	if (ok == 1 && rc != SQLITE_DONE) {
		stepped(db, rc, diag);
		ok = -1;
	} else if (ok == -1 && oom)
		cc_diag_set(diag, CC_ENOMEM, "nomem", "out of memory");
	sqlite3_finalize(st);
	sqlite3_finalize(valid);
	return ok;
}

/*
 * The MATCHED(dim, stg) statement's rows (per _file_id of stg, in its
 * order, the staged rows dim's lineage names) without json_each: the
 * references in a hash table, then one scan of stg.  Stored under stmt
 * through ins: 1; 0 when the statement must answer (matched_refs(), or a
 * staging key that is not TEXT and INTEGER), nothing stored; -1 on error
 * (diag set).
 */
static int
matched_group(sqlite3 *db, struct gsink *k, const char *dim,
    const char *stg, int stmt, struct cc_diag *diag)
{
	struct htab refs;
	struct mfile *files = NULL, *f;
	size_t nfiles = 0, cap = 0, i, klen, last = SIZE_MAX;
	sqlite3_stmt *st = NULL;
	const char *fid;
	char sql[128], key[512];
	int rc, ok, flen;

	memset(&refs, 0, sizeof(refs));
	if ((ok = matched_refs(db, dim, &refs, diag)) != 1) {
		htab_free(&refs);
		return ok;
	}
	snprintf(sql, sizeof(sql), "SELECT _file_id, _row FROM %s", stg);
	if (prep(db, sql, &st, diag) != CC_OK) {
		htab_free(&refs);
		return -1;
	}
	while (ok == 1 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_type(st, 0) != SQLITE_TEXT ||
		    sqlite3_column_type(st, 1) != SQLITE_INTEGER ||
		    (fid = (const char *)sqlite3_column_text(st, 0)) == NULL) {
			ok = 0;
			break;
		}
		flen = sqlite3_column_bytes(st, 0);
		if ((klen = mref_key(key, sizeof(key),
		    sqlite3_column_int64(st, 1), fid, (size_t)flen)) == 0) {
			ok = 0;
			break;
		}
		if (refs.n == 0 || !htab_has(&refs, key, klen))
			continue;
		/* the rows of a file come together: the last one first */
		if (last == SIZE_MAX || files[last].len != (size_t)flen ||
		    memcmp(files[last].id, fid, (size_t)flen) != 0) {
			for (last = 0; last < nfiles; last++)
				if (files[last].len == (size_t)flen &&
				    memcmp(files[last].id, fid, (size_t)flen)
				    == 0)
					break;
			if (last == nfiles) {
				if (nfiles == cap) {
					cap = cap == 0 ? 8 : cap * 2;
					if ((f = realloc(files, cap *
					    sizeof(*files))) == NULL) {
						ok = -1;
						break;
					}
					files = f;
				}
				if ((files[nfiles].id = malloc((size_t)flen +
				    1)) == NULL) {
					ok = -1;
					break;
				}
				memcpy(files[nfiles].id, fid, (size_t)flen);
				files[nfiles].len = (size_t)flen;
				files[nfiles].n = 0;
				nfiles++;
			}
		}
		files[last].n++;
	}
	if (ok == 1 && rc != SQLITE_DONE) {
		stepped(db, rc, diag);
		ok = -1;
	} else if (ok == -1)
		cc_diag_set(diag, CC_ENOMEM, "nomem", "out of memory");
	sqlite3_finalize(st);
	htab_free(&refs);
	if (ok == 1 && nfiles > 1)
		qsort(files, nfiles, sizeof(*files), mfile_cmp);
	for (i = 0; ok == 1 && i < nfiles; i++) {
		struct gval v[2];
		memset(v, 0, sizeof(v));
		v[0].type = SQLITE_TEXT;
		v[0].p = files[i].id;
		v[0].n = (int)files[i].len;
		v[1].type = SQLITE_INTEGER;
		v[1].i = files[i].n;
		if (sink_row(k, stmt, v, 2, diag) != CC_OK)
			ok = -1;
	}
	for (i = 0; i < nfiles; i++)
		free(files[i].id);
	free(files);
	return ok;
}

/*
 * The sources dashboard's grouped statements on db (the model, or a
 * connection reading the committed model) into k, in their order.  The
 * facts' statement, when agg_fill() counted the facts per file (files
 * not NULL), is replaced by those counts (store_counts()) when k inserts,
 * and left out when k keeps the rows (dash_sources_store() puts the
 * counts in its place).
 */
static cc_err
groups_run(sqlite3 *db, struct gsink *k, const struct agroups *files,
    struct cc_diag *diag)
{
	cc_err err = CC_OK;
	size_t i;
	int done;

	for (i = 0; i < N(stg_sources) && err == CC_OK; i++) {
		if ((err = store_group(db, k, stg_sources[i].staged_sql,
		    (int)(3 * i), diag)) == CC_OK)
			err = store_group(db, k, stg_sources[i].accounted_sql,
			    (int)(3 * i + 1), diag);
		if (err == CC_OK && stg_sources[i].matched_sql != NULL &&
		    (done = matched_group(db, k, stg_sources[i].dim,
		    stg_sources[i].stg, (int)(3 * i + 2), diag)) <= 0)
			err = done < 0 ? CC_EDB : store_group(db, k,
			    stg_sources[i].matched_sql, (int)(3 * i + 2), diag);
	}
	for (i = 0; i < N(file_groups) && err == CC_OK; i++) {
		if (files == NULL || file_groups[i].target != SRC_FACTS)
			err = store_group(db, k, file_groups[i].sql,
			    SRC_GROUP_BASE + (int)i, diag);
		else if (k->ins != NULL)
			err = store_counts(db, k->ins, files,
			    SRC_GROUP_BASE + (int)i, diag);
	}
	return err;
}

void
dash_sources_free(struct dash_sources *src)
{
	size_t i;
	int k;

	if (src == NULL)
		return;
	for (i = 0; i < src->n; i++)
		for (k = 0; k < src->rows[i].nv; k++)
			free(src->rows[i].v[k].p);
	free(src->rows);
	agroups_free(&src->files);
	free(src);
}

cc_err
dash_sources_read(sqlite3 *db, struct dash_sources *src, struct cc_diag *diag)
{
	struct gsink k;
	cc_err err;

	if (db == NULL || src == NULL || src->read)
		return cc_diag_set(diag, CC_EINVAL, "sources", "no model, no"
		    " aggregates, or their groups read already");
	memset(&k, 0, sizeof(k));
	k.src = src;
	if ((err = groups_run(db, &k, src->filled ? &src->files : NULL,
	    diag)) != CC_OK)
		return err;
	src->read = 1;
	return CC_OK;
}

/* The facts' statement's number (file_groups' SRC_FACTS entry). */
static int
facts_stmt(void)
{
	size_t i;

	for (i = 0; i < N(file_groups); i++)
		if (file_groups[i].target == SRC_FACTS)
			return SRC_GROUP_BASE + (int)i;
	return -1;
}

cc_err
dash_sources_store(sqlite3 *db, struct dash_sources *src, struct cc_diag *diag)
{
	struct gsink k;
	cc_err err = CC_OK;
	size_t i;
	int facts = facts_stmt(), counted = 0;

	if (db == NULL || src == NULL)
		return cc_diag_set(diag, CC_EINVAL, "sources", "no model or"
		    " no aggregates");
	memset(&k, 0, sizeof(k));
	k.db = db;
	if (sqlite3_prepare_v2(db, "INSERT INTO agg_source_groups (stmt,"
	    " file_id, c1, c2) VALUES (?1, ?2, ?3, ?4)", -1, &k.ins, NULL) !=
	    SQLITE_OK)
		return cc_diag_set(diag, CC_EDB, "sqlite", "%s",
		    sqlite3_errmsg(db));
	if (!src->read)
		err = groups_run(db, &k, src->filled ? &src->files : NULL,
		    diag);
	else
		/* the rows read ahead, in their order; the facts' counts
		 * where their statement's rows would be */
		for (i = 0; i <= src->n && err == CC_OK; i++) {
			if (src->filled && !counted && (i == src->n ||
			    src->rows[i].stmt > facts)) {
				counted = 1;
				err = store_counts(db, k.ins, &src->files,
				    facts, diag);
			}
			if (i < src->n && err == CC_OK)
				err = sink_row(&k, src->rows[i].stmt,
				    src->rows[i].v, src->rows[i].nv, diag);
		}
	sqlite3_finalize(k.ins);
	return err;
}

/* The dashboards whose unfiltered document depends on the model only. */
static const enum dash_name stored_dashes[] = {
	DASH_SALES, DASH_CUSTOMERS, DASH_PRODUCTS
};

static int
is_stored(enum dash_name d)
{
	size_t i;

	for (i = 0; i < N(stored_dashes); i++)
		if (stored_dashes[i] == d)
			return 1;
	return 0;
}

/* 1 if f filters nothing. */
static int
unfiltered(const struct dash_filters *f)
{
	return f->from[0] == '\0' && f->to[0] == '\0' && f->ncountry == 0 &&
	    f->ncategory == 0;
}

/* The model's tables dash_aggregate() reads and writes are there:
 * CC_OK, else CC_EINVAL (diag: no_model) or CC_EDB. */
static cc_err
aggregate_model(sqlite3 *db, struct cc_diag *diag)
{
	static const char *const model[] = { "fact_sales", "dim_customer",
	    "dim_product", "agg_sales_order", "agg_dashboard", NULL };
	int have;

	if (db == NULL)
		return cc_diag_set(diag, CC_EINVAL, "dashboard", "no database");
	if ((have = have_tables(db, model, diag)) <= 0)
		return have < 0 ? CC_EDB : cc_diag_set(diag, CC_EINVAL,
		    "no_model", "the model's tables are missing");
	return CC_OK;
}

cc_err
dash_aggregate(sqlite3 *db, struct cc_diag *diag)
{
	cc_err err;

	if ((err = dash_aggregate_tables(db, diag)) != CC_OK)
		return err;
	return dash_aggregate_documents(db, diag);
}

cc_err
dash_aggregate_facts(sqlite3 *db, struct dash_sources **out,
    struct cc_diag *diag)
{
	return dash_aggregate_facts_from(db, NULL, out, diag);
}

cc_err
dash_aggregate_facts_from(sqlite3 *db, struct dash_facts *pre,
    struct dash_sources **out, struct cc_diag *diag)
{
	struct dash_sources *src;
	cc_err err;
	int filled, has, sold;

	*out = NULL;
	if ((err = aggregate_model(db, diag)) != CC_OK)
		return err;
	/* agg_product_sales: a model of an older version has none */
	if ((has = have_tables(db, agg_sellers_tables, diag)) < 0)
		return CC_EDB;
	if ((err = db_exec(db, "DELETE FROM agg_sales_order;"
	    " DELETE FROM agg_sales_product; DELETE FROM agg_dashboard;"
	    " DELETE FROM agg_source_groups;", diag)) != CC_OK ||
	    (has && (err = db_exec(db, "DELETE FROM agg_product_sales",
	    diag)) != CC_OK))
		return err;
	if ((src = calloc(1, sizeof(*src))) == NULL)
		return cc_diag_set(diag, CC_ENOMEM, "nomem", "out of memory");
	/* the groups in one pass, else (a value it leaves to SQLite) by
	 * the statements */
	sold = has;
	if ((filled = agg_fill(db, pre, &src->files, &sold, diag)) < 0) {
		dash_sources_free(src);
		return filled == -1 ? CC_ENOMEM : CC_EDB;
	}
	src->filled = filled;
	if ((filled == 0 && (err = db_exec(db, agg_fill_sql, diag)) != CC_OK) ||
	    (has && !sold && (err = db_exec(db, agg_sellers_sql, diag)) !=
	    CC_OK) ||
	    (err = db_exec(db, agg_index_sql, diag)) != CC_OK) {
		dash_sources_free(src);
		return err;
	}
	*out = src;
	return CC_OK;
}

cc_err
dash_aggregate_tables(sqlite3 *db, struct cc_diag *diag)
{
	struct dash_sources *src;
	cc_err err;

	if ((err = dash_aggregate_facts(db, &src, diag)) != CC_OK)
		return err;
	err = dash_sources_store(db, src, diag);
	dash_sources_free(src);
	return err;
}

int
dash_stored_count(void)
{
	return (int)N(stored_dashes);
}

enum dash_name
dash_stored_at(int i)
{
	return stored_dashes[i];
}

int
dash_stored_needs_segments(enum dash_name d)
{
	return d == DASH_CUSTOMERS;	/* customer_segments() */
}

cc_err
dash_document_build(sqlite3 *db, enum dash_name d, char **text,
    struct cc_diag *diag)
{
	struct dash_filters none;
	json_t *part;
	cc_err err;

	*text = NULL;
	if ((int)d < 0 || d >= DASH__MAX || !is_stored(d))
		return cc_diag_set(diag, CC_EINVAL, "dashboard", "dashboard"
		    " %d has no stored document", (int)d);
	if ((err = aggregate_model(db, diag)) != CC_OK)
		return err;
	if ((part = json_object()) == NULL)
		return cc_diag_set(diag, CC_ENOMEM, "nomem", "out of memory");
	dash_filters_init(&none);
	if ((err = builders[d](db, &none, part, diag)) == CC_OK &&
	    (*text = json_dumps(part, JSON_COMPACT)) == NULL)
		err = cc_diag_set(diag, CC_ENOMEM, "nomem", "out of memory");
	if (err == CC_ENOMEM && diag != NULL && diag->code[0] == '\0')
		cc_diag_set(diag, err, "nomem", "out of memory");
	json_decref(part);
	return err;
}

cc_err
dash_documents_begin(sqlite3 *db, struct cc_diag *diag)
{
	cc_err err;

	if ((err = aggregate_model(db, diag)) != CC_OK)
		return err;
	/* the marker first: the builders read the aggregates once it is
	 * there (agg_built()) */
	return db_exec(db, "DELETE FROM agg_dashboard;"
	    " INSERT INTO agg_dashboard (name, document)"
	    " VALUES ('_aggregates', '{}')", diag);
}

cc_err
dash_documents_store(sqlite3 *db, char *const *texts, struct cc_diag *diag)
{
	sqlite3_stmt *ins = NULL;
	cc_err err = CC_OK;
	size_t i;

	for (i = 0; i < N(stored_dashes); i++)
		if (texts == NULL || texts[i] == NULL)
			return cc_diag_set(diag, CC_EINVAL, "dashboard", "no"
			    " document for %s", dashes[stored_dashes[i]].name);
	if (sqlite3_prepare_v2(db, "INSERT INTO agg_dashboard (name, document)"
	    " VALUES (?1, ?2)", -1, &ins, NULL) != SQLITE_OK)
		return cc_diag_set(diag, CC_EDB, "sqlite", "%s",
		    sqlite3_errmsg(db));
	for (i = 0; i < N(stored_dashes) && err == CC_OK; i++) {
		sqlite3_reset(ins);
		sqlite3_bind_text(ins, 1, dashes[stored_dashes[i]].name, -1,
		    SQLITE_STATIC);
		sqlite3_bind_text(ins, 2, texts[i], -1, SQLITE_STATIC);
		if (sqlite3_step(ins) != SQLITE_DONE)
			err = cc_diag_set(diag, CC_EDB, "sqlite", "%s",
			    sqlite3_errmsg(db));
	}
	sqlite3_finalize(ins);
	return err;
}

cc_err
dash_aggregate_documents(sqlite3 *db, struct cc_diag *diag)
{
	char *texts[N(stored_dashes)];
	cc_err err = CC_OK;
	size_t i;

	memset(texts, 0, sizeof(texts));
	err = dash_documents_begin(db, diag);
	for (i = 0; i < N(stored_dashes) && err == CC_OK; i++)
		err = dash_document_build(db, stored_dashes[i], &texts[i],
		    diag);
	if (err == CC_OK)
		err = dash_documents_store(db, texts, diag);
	for (i = 0; i < N(stored_dashes); i++)
		free(texts[i]);
	return err;
}

/*
 * The stored unfiltered document of d into doc: 1 when there was one, 0
 * when not (no aggregates, or d is not stored), -1 on error.
 */
static int
stored_document(sqlite3 *db, enum dash_name d, json_t *doc,
    struct cc_diag *diag)
{
	sqlite3_stmt *st = NULL;
	json_t *part;
	int rc = 0, found = 0;

	if (!is_stored(d) || (rc = agg_built(db, diag)) <= 0)
		return rc < 0 ? -1 : 0;
	if (prep(db, "SELECT document FROM agg_dashboard WHERE name = ?1",
	    &st, diag) != CC_OK)
		return -1;
	sqlite3_bind_text(st, 1, dashes[d].name, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		part = json_loads((const char *)sqlite3_column_text(st, 0), 0,
		    NULL);
		if (part != NULL && json_object_update(doc, part) == 0)
			found = 1;
		json_decref(part);
		if (!found)
			cc_diag_set(diag, CC_EDB, "agg_dashboard",
			    "a stored document cannot be read");
		found = found ? 1 : -1;
	} else if (rc != SQLITE_DONE) {
		stepped(db, rc, diag);
		found = -1;
	}
	sqlite3_finalize(st);
	return found;
}

/* ---- the document (continued) ---------------------------------------- */

cc_err
dash_build(sqlite3 *db, enum dash_name d, const struct dash_filters *f,
    time_t now, json_t **out, struct cc_diag *diag)
{
	return dash_build_limited(db, d, f, now, NULL, out, diag);
}

cc_err
dash_build_limited(sqlite3 *db, enum dash_name d,
    const struct dash_filters *f, time_t now, const struct dash_limits *lim,
    json_t **out, struct cc_diag *diag)
{
	static const struct dash_limits nolim = { 0, NULL, NULL };
	struct dash_filters none;
	struct dclock clk;
	char ts[32];
	json_t *doc;
	cc_err err;
	int st;

	if (out != NULL)
		*out = NULL;
	if (db == NULL || out == NULL || (unsigned)d >= DASH__MAX)
		return cc_diag_set(diag, CC_EINVAL, "dashboard",
		    "no such dashboard");
	if (f == NULL) {
		dash_filters_init(&none);
		f = &none;
	}
	if (lim == NULL)
		lim = &nolim;
	if ((doc = json_pack("{s:s, s:o, s:s}", "dashboard", dashes[d].name,
	    "filters", dash_filters_json(f, d), "generated_at",
	    util_rfc3339(now, ts, sizeof(ts)))) == NULL)
		return CC_ENOMEM;
	memset(&clk, 0, sizeof(clk));
	clk.lim = lim;
	if (lim->deadline_ms > 0)
		clk.deadline = mono_ms() + (double)lim->deadline_ms;
	if (lim->deadline_ms > 0 || lim->gone != NULL)
		sqlite3_progress_handler(db, 1000, dprogress, &clk);
	/* One read transaction: one snapshot for every figure. */
	if ((err = db_exec(db, "BEGIN", diag)) != CC_OK) {
		sqlite3_progress_handler(db, 0, NULL, NULL);
		json_decref(doc);
		return err;
	}
	if ((err = latest_run(db, doc, diag)) == CC_OK) {
		st = unfiltered(f) ? stored_document(db, d, doc, diag) : 0;
		if (st < 0)
			err = CC_EDB;
		else if (st == 0)
			err = builders[d](db, f, doc, diag);
	}
	db_exec(db, err == CC_OK ? "COMMIT" : "ROLLBACK", NULL);
	sqlite3_progress_handler(db, 0, NULL, NULL);
	if (err != CC_OK) {
		if (clk.fired == 1)
			cc_diag_set(diag, err, "query_time_limit", "the dashboard"
			    " took longer than the %ld ms limit",
			    lim->deadline_ms);
		else if (clk.fired == 2)
			cc_diag_set(diag, err, "client_gone", "the client went"
			    " away");
		else if (err == CC_ENOMEM)
			cc_diag_set(diag, err, "nomem", "out of memory");
		json_decref(doc);
		return err;
	}
	*out = doc;
	return CC_OK;
}
