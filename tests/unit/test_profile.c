/*
 * test_profile.c - unit tests of concord/profile.h: value typing, and
 * profiles of tiny fixtures (tests/data/types.csv, records.ndjson) whose
 * answers are evident, of a seed file (checked against a naive
 * computation done here), of generated files beyond the exact limits, and
 * of a file broken far from its start.  Prints TAP with
 * CMOCKA_MESSAGE_OUTPUT=TAP.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "concord/profile.h"

#ifndef SRCDIR
#define SRCDIR "."
#endif

/* ---- helpers ------------------------------------------------------- */

static const char *
fixture(const char *name)
{
	static char path[1024];

	snprintf(path, sizeof(path), "%s/tests/data/%s", SRCDIR, name);
	return path;
}

static char *
write_tmp(const void *data, size_t n)
{
	char *path = strdup("/tmp/concord-profile-XXXXXX");
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	close(fd);
	return path;
}

/* Sniffs and profiles path; fails the test on an error. */
static json_t *
profile_ok(const char *path)
{
	struct source_dialect d;
	struct cc_diag g;
	json_t *p = NULL;
	cc_err e;

	if ((e = source_sniff(path, path, &d, &g)) != CC_OK)
		fail_msg("sniff %s: %s", path, g.message);
	if ((e = profile_source(path, &d, &p, &g)) != CC_OK)
		fail_msg("profile %s: %s: %s", path, cc_strerror(e), g.message);
	assert_non_null(p);
	return p;
}

/* The profile of the column named name. */
static json_t *
col(json_t *p, const char *name)
{
	json_t *c;
	size_t i;

	json_array_foreach(json_object_get(p, "columns"), i, c)
		if (strcmp(json_string_value(json_object_get(c, "name")),
		    name) == 0)
			return c;
	fail_msg("no column %s", name);
	return NULL;
}

static const char *
str(json_t *c, const char *key)
{
	json_t *v = json_object_get(c, key);

	assert_non_null(v);
	return json_string_value(v);
}

static long long
num(json_t *c, const char *key)
{
	json_t *v = json_object_get(c, key);

	assert_true(json_is_integer(v));
	return json_integer_value(v);
}

static const char *
top_value(json_t *c, size_t i)
{
	return json_string_value(json_object_get(json_array_get(
	    json_object_get(c, "top"), i), "value"));
}

static long long
top_count(json_t *c, size_t i)
{
	return json_integer_value(json_object_get(json_array_get(
	    json_object_get(c, "top"), i), "count"));
}

static const char *
example(json_t *c, size_t i)
{
	return json_string_value(json_array_get(json_object_get(c, "examples"),
	    i));
}

/* Sum of the histogram's bin counts. */
static long long
histogram_total(json_t *c)
{
	json_t *b;
	size_t i;
	long long n = 0;

	json_array_foreach(json_object_get(json_object_get(c, "histogram"),
	    "bins"), i, b)
		n += json_integer_value(json_object_get(b, "count"));
	return n;
}

/* ---- typing --------------------------------------------------------- */

static void
test_classify(void **state)
{
	static const struct {
		const char		*value;
		enum profile_type	 type;
	} cases[] = {
		{ "", PROFILE_TYPE_EMPTY },
		{ "   ", PROFILE_TYPE_EMPTY },
		{ "0", PROFILE_TYPE_INTEGER },
		{ "1", PROFILE_TYPE_INTEGER },
		{ "-42", PROFILE_TYPE_INTEGER },
		{ " 17 ", PROFILE_TYPE_INTEGER },
		{ "20101229", PROFILE_TYPE_INTEGER },	/* YYYYMMDD: integer */
		{ "007", PROFILE_TYPE_TEXT },		/* a code */
		{ "12.50", PROFILE_TYPE_DECIMAL },
		{ "-.5", PROFILE_TYPE_DECIMAL },
		{ "1e3", PROFILE_TYPE_DECIMAL },
		/* what the cleaners read (clean_number(), clean_date()) */
		{ "1,234.5", PROFILE_TYPE_DECIMAL },
		{ "$29.95", PROFILE_TYPE_MONEY },
		{ "USD 29.95", PROFILE_TYPE_MONEY },
		{ "1 Jun 2024", PROFILE_TYPE_DATE },
		{ "7/24/2023 3:05 PM", PROFILE_TYPE_TIMESTAMP },
		{ "true", PROFILE_TYPE_BOOLEAN },
		{ "FALSE", PROFILE_TYPE_BOOLEAN },
		{ "Yes", PROFILE_TYPE_BOOLEAN },
		{ "n", PROFILE_TYPE_BOOLEAN },
		{ "2023-08-26", PROFILE_TYPE_DATE },
		{ "2023/08/26", PROFILE_TYPE_DATE },
		{ "7/24/2023", PROFILE_TYPE_DATE },	/* US */
		{ "24.07.2023", PROFILE_TYPE_DATE },	/* European */
		{ "2024-02-29", PROFILE_TYPE_DATE },
		{ "2023-02-29", PROFILE_TYPE_TEXT },	/* not a leap year */
		{ "13/01/2023", PROFILE_TYPE_DATE },	/* day first, as the
							   cleaner reads it */
		{ "13/13/2023", PROFILE_TYPE_TEXT },	/* no month 13 */
		{ "2023-06-01T00:39:00.000Z", PROFILE_TYPE_TIMESTAMP },
		{ "2023-06-01 00:39", PROFILE_TYPE_TIMESTAMP },
		{ "2023-06-01T00:39:00+05:30", PROFILE_TYPE_TIMESTAMP },
		{ "2023-06-01T24:39:00", PROFILE_TYPE_TEXT },
		{ "alice.johnson@email.com", PROFILE_TYPE_EMAIL },
		{ "a@b", PROFILE_TYPE_TEXT },
		{ "a@@b.com", PROFILE_TYPE_TEXT },
		{ "a@b.c0", PROFILE_TYPE_TEXT },
		{ "555-4748", PROFILE_TYPE_TEXT },
		{ "46867-5820", PROFILE_TYPE_TEXT },
		{ "M\xc3\xbcller", PROFILE_TYPE_TEXT },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum profile_type t = profile_classify(cases[i].value,
		    strlen(cases[i].value));
		if (t != cases[i].type)
			fail_msg("\"%s\": %s, expected %s", cases[i].value,
			    profile_type_name(t),
			    profile_type_name(cases[i].type));
	}
	/* The length bounds the value: no NUL needed. */
	assert_int_equal(profile_classify("12abc", 2), PROFILE_TYPE_INTEGER);
	assert_int_equal(profile_classify(NULL, 0), PROFILE_TYPE_EMPTY);
	assert_string_equal(profile_type_name(PROFILE_TYPE_TIMESTAMP),
	    "timestamp");
	assert_string_equal(profile_type_name(PROFILE_TYPE__MAX), "text");
}

/* ---- tiny fixtures ----------------------------------------------------- */

static void
test_profile_types(void **state)
{
	json_t *p = profile_ok(fixture("types.csv")), *c, *h;

	(void)state;
	assert_int_equal(num(p, "rows"), 5);
	assert_int_equal(num(p, "ragged_rows"), 0);
	assert_int_equal(json_array_size(json_object_get(p, "columns")), 9);

	/* Numbers: numeric order ("10" > "3"), nulls, ties by value. */
	c = col(p, "id");
	assert_int_equal(num(c, "ordinal"), 1);
	assert_string_equal(str(c, "type"), "integer");
	assert_int_equal(num(c, "nulls"), 1);
	assert_int_equal(num(c, "distinct"), 4);
	assert_true(json_is_true(json_object_get(c, "distinct_exact")));
	assert_string_equal(str(c, "min"), "1");
	assert_string_equal(str(c, "max"), "10");
	assert_string_equal(top_value(c, 0), "1");
	assert_string_equal(top_value(c, 1), "10");
	assert_string_equal(example(c, 3), "10");
	assert_int_equal(num(c, "min_length"), 1);
	assert_int_equal(num(c, "max_length"), 2);

	c = col(p, "amount");
	assert_string_equal(str(c, "type"), "decimal");
	assert_true(json_real_value(json_object_get(c, "type_confidence")) ==
	    1.0);
	assert_string_equal(str(c, "min"), "-2");
	assert_string_equal(str(c, "max"), "100");
	h = json_object_get(c, "histogram");
	assert_non_null(h);
	assert_true(json_is_false(json_object_get(h, "sampled")));
	assert_int_equal(json_array_size(json_object_get(h, "bins")), 10);
	assert_int_equal(histogram_total(c), 4);
	/* -2 in the first bin, 100 in the last, 9.5 and 10 in the second. */
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
	    json_object_get(h, "bins"), 0), "count")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
	    json_object_get(h, "bins"), 1), "count")), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
	    json_object_get(h, "bins"), 9), "count")), 1);
	assert_true(json_real_value(json_object_get(json_array_get(
	    json_object_get(h, "bins"), 9), "hi")) == 100.0);

	/* true/False/yes with 0 and 1: boolean. */
	c = col(p, "flag");
	assert_string_equal(str(c, "type"), "boolean");
	assert_int_equal(num(c, "distinct"), 5);
	assert_null(json_object_get(c, "histogram"));

	/* Dates in three notations, in chronological order. */
	c = col(p, "day");
	assert_string_equal(str(c, "type"), "date");
	assert_string_equal(str(c, "min"), "12/31/2022");
	assert_string_equal(str(c, "max"), "24.07.2023");
	assert_string_equal(top_value(c, 0), "2023-01-02");
	assert_int_equal(top_count(c, 0), 2);

	/* 23:00-02:00 is 01:00 UTC the next day: after 23:59:59.5Z. */
	c = col(p, "seen_at");
	assert_string_equal(str(c, "type"), "timestamp");
	assert_string_equal(str(c, "min"), "2023-01-01T23:59:59.5Z");
	assert_string_equal(str(c, "max"), "2023-01-03T00:00:00Z");

	c = col(p, "email");
	assert_string_equal(str(c, "type"), "email");
	assert_true(json_real_value(json_object_get(c, "type_confidence")) ==
	    0.8);

	/* Blanks are values but not examples; lengths count characters. */
	c = col(p, "name");
	assert_string_equal(str(c, "type"), "text");
	assert_int_equal(num(c, "nulls"), 0);
	assert_int_equal(num(c, "blanks"), 1);
	assert_int_equal(num(c, "distinct"), 4);
	assert_string_equal(top_value(c, 0), "Ann");
	assert_int_equal(top_count(c, 0), 2);
	assert_string_equal(top_value(c, 1), " ");
	assert_int_equal(json_array_size(json_object_get(c, "examples")), 3);
	assert_string_equal(example(c, 0), "Ann");
	assert_string_equal(example(c, 1), " Bob ");
	assert_string_equal(example(c, 2), "Zo\xc3\xab \xc3\x9cnal");
	assert_string_equal(str(c, "min"), " Bob ");
	assert_string_equal(str(c, "max"), "Zo\xc3\xab \xc3\x9cnal");
	assert_int_equal(num(c, "min_length"), 1);
	assert_int_equal(num(c, "max_length"), 8);	/* 10 bytes */

	c = col(p, "empty");
	assert_string_equal(str(c, "type"), "empty");
	assert_int_equal(num(c, "nulls"), 5);
	assert_int_equal(num(c, "distinct"), 0);
	assert_true(json_is_null(json_object_get(c, "min")));
	assert_true(json_is_null(json_object_get(c, "max_length")));
	assert_int_equal(json_array_size(json_object_get(c, "top")), 0);

	/* Leading zeros: a code, not a number. */
	c = col(p, "code");
	assert_string_equal(str(c, "type"), "text");
	assert_string_equal(top_value(c, 0), "007");
	assert_int_equal(top_count(c, 0), 2);
	json_decref(p);
}

static void
test_profile_ndjson(void **state)
{
	json_t *p = profile_ok(fixture("records.ndjson")), *c;

	(void)state;
	assert_int_equal(num(p, "rows"), 3);
	assert_null(json_object_get(p, "ragged_rows"));
	c = col(p, "name");		/* "Ann", missing, null */
	assert_int_equal(num(c, "nulls"), 2);
	assert_int_equal(num(c, "distinct"), 1);
	c = col(p, "amount");		/* 12.50, missing, 1e3 */
	assert_string_equal(str(c, "type"), "decimal");
	assert_string_equal(str(c, "min"), "12.50");
	assert_string_equal(str(c, "max"), "1e3");
	c = col(p, "ok");
	assert_string_equal(str(c, "type"), "boolean");
	json_decref(p);
}

/* ---- a seed file, against a naive computation ---------------------------- */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
test_profile_seed(void **state)
{
	char path[1024], *text, *line, *save, *f, **keys;
	const char *s = getenv("CONCORD_SHARED");
	FILE *fp;
	long sz;
	size_t rows = 0, cap = 70000, i, distinct, run, best = 0;
	long long nulls[9] = { 0 };
	double smin = 1e300, smax = -1e300, x;
	char *prd[70000], *bestval = NULL;
	json_t *p, *c;
	int k;

	(void)state;
	/* make check sets CONCORD_SHARED; without it, the shared/ beside
	 * the source tree */
	snprintf(path, sizeof(path), "%s/data/seeds/crm-erp/source_crm/"
	    "sales_details.csv", s != NULL && s[0] != '\0' ? s :
	    SRCDIR "/../shared");
	if ((fp = fopen(path, "rb")) == NULL)
		skip();
	fseek(fp, 0, SEEK_END);
	sz = ftell(fp);
	rewind(fp);
	text = malloc((size_t)sz + 1);
	keys = malloc(cap * sizeof(*keys));
	assert_non_null(text);
	assert_non_null(keys);
	assert_int_equal(fread(text, 1, (size_t)sz, fp), (size_t)sz);
	text[sz] = '\0';
	fclose(fp);
	assert_null(strchr(text, '"'));	/* naive splitting is exact */

	/* Naive: split lines on '\n' and fields on ','. */
	line = strtok_r(text, "\n", &save);	/* header */
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		assert_true(rows < cap);
		for (k = 0, f = line; k < 9; k++) {
			char *e = strchr(f, ',');

			if (e != NULL)
				*e = '\0';
			if (*f == '\0')
				nulls[k]++;
			if (k == 0)
				keys[rows] = f;
			if (k == 1)
				prd[rows] = f;
			if (k == 6 && *f != '\0') {
				x = strtod(f, NULL);
				smin = x < smin ? x : smin;
				smax = x > smax ? x : smax;
			}
			f = e != NULL ? e + 1 : f + strlen(f);
		}
		rows++;
	}
	qsort(keys, rows, sizeof(*keys), cmp_str);
	for (i = 0, distinct = 0; i < rows; i++)
		distinct += i == 0 || strcmp(keys[i - 1], keys[i]) != 0;
	qsort(prd, rows, sizeof(*prd), cmp_str);
	for (i = 0; i < rows; i += run) {
		for (run = 1; i + run < rows && strcmp(prd[i], prd[i + run]) ==
		    0; run++)
			;
		if (run > best) {
			best = run;
			bestval = prd[i];
		}
	}

	p = profile_ok(path);
	assert_int_equal(num(p, "rows"), (long long)rows);
	assert_int_equal(rows, 60398);
	for (k = 0; k < 9; k++) {
		c = json_array_get(json_object_get(p, "columns"), (size_t)k);
		assert_int_equal(num(c, "nulls"), nulls[k]);
	}
	c = col(p, "sls_ord_num");
	assert_string_equal(str(c, "type"), "text");
	assert_int_equal(num(c, "distinct"), (long long)distinct);
	assert_true(json_is_true(json_object_get(c, "distinct_exact")));
	c = col(p, "sls_prd_key");
	assert_string_equal(top_value(c, 0), bestval);
	assert_int_equal(top_count(c, 0), (long long)best);
	c = col(p, "sls_order_dt");	/* YYYYMMDD integers stay integers */
	assert_string_equal(str(c, "type"), "integer");
	assert_string_equal(str(c, "min"), "0");
	c = col(p, "sls_sales");
	assert_string_equal(str(c, "type"), "integer");
	assert_true(strtod(str(c, "min"), NULL) == smin);
	assert_true(strtod(str(c, "max"), NULL) == smax);
	assert_true(json_is_true(json_object_get(json_object_get(c,
	    "histogram"), "sampled")));
	assert_int_equal(histogram_total(c), PROFILE_SAMPLE);
	c = col(p, "sls_quantity");
	assert_string_equal(str(c, "type"), "integer");
	json_decref(p);
	free(keys);
	free(text);
}

/* ---- beyond the exact limits ------------------------------------------ */

static void
test_profile_approximate(void **state)
{
	const size_t n = 150000;
	char *buf, *path;
	size_t len = 0, i;
	json_t *p, *c;
	long long d, top;

	(void)state;
	buf = malloc(n * 40 + 64);
	assert_non_null(buf);
	len += (size_t)sprintf(buf + len, "id,grp,hot,amount\n");
	for (i = 0; i < n; i++)
		len += (size_t)sprintf(buf + len, "u%06zu,g%zu,%s%zu,%zu\n", i,
		    i % 7, i % 5 == 0 ? "hot" : "c", i % 5 == 0 ? (size_t)0 : i,
		    i);
	path = write_tmp(buf, len);
	p = profile_ok(path);
	assert_int_equal(num(p, "rows"), (long long)n);

	/* 150000 distinct values: HyperLogLog, within 3% (0.8% expected). */
	c = col(p, "id");
	assert_true(json_is_false(json_object_get(c, "distinct_exact")));
	assert_true(json_is_false(json_object_get(c, "top_exact")));
	d = num(c, "distinct");
	assert_true(d > 145500 && d < 154500);	/* 150000 +- 3% */
	assert_int_equal(top_count(c, 0), 1);	/* guaranteed counts */
	assert_string_equal(str(c, "min"), "u000000");	/* exact anyway */
	assert_string_equal(str(c, "max"), "u149999");

	/* Few distinct values: exact. */
	c = col(p, "grp");
	assert_true(json_is_true(json_object_get(c, "distinct_exact")));
	assert_int_equal(num(c, "distinct"), 7);
	assert_string_equal(top_value(c, 0), "g0");	/* 21429 times */
	assert_int_equal(top_count(c, 0), 21429);

	/*
	 * "hot0" is one row in five among 120000 other distinct values:
	 * Space-Saving finds it; its count is within n / counters below.
	 */
	c = col(p, "hot");
	assert_true(json_is_false(json_object_get(c, "distinct_exact")));
	assert_string_equal(top_value(c, 0), "hot0");
	top = top_count(c, 0);
	assert_true(top <= 30000 && top >= 30000 - (long long)(n /
	    PROFILE_TOP_COUNTERS));
	assert_int_equal(top_count(c, 1), 1);

	/* 150000 numbers: the histogram comes from the sample. */
	c = col(p, "amount");
	assert_string_equal(str(c, "min"), "0");
	assert_string_equal(str(c, "max"), "149999");
	assert_true(json_is_true(json_object_get(json_object_get(c,
	    "histogram"), "sampled")));
	assert_int_equal(histogram_total(c), PROFILE_SAMPLE);
	{
		/* Uniform data: each bin holds about a tenth of the sample. */
		json_t *b;
		size_t j;

		json_array_foreach(json_object_get(json_object_get(c,
		    "histogram"), "bins"), j, b) {
			long long k = json_integer_value(json_object_get(b,
			    "count"));

			assert_true(k > 800 && k < 1200);
		}
	}
	json_decref(p);
	unlink(path);
	free(path);
	free(buf);
}

/* ---- broken files --------------------------------------------------------- */

/* A byte that is neither UTF-8 nor Latin-1 at line 90000. */
static void
test_profile_bad_byte(void **state)
{
	struct source_dialect d;
	struct cc_diag g;
	char *buf, *path;
	size_t n = 0, i;
	long long off;
	json_t *p = (void *)1;

	(void)state;
	buf = malloc(100000 * 24);
	assert_non_null(buf);
	n += (size_t)sprintf(buf + n, "id,city\n");
	for (i = 2; i < 90000; i++)
		n += (size_t)sprintf(buf + n, "%zu,K\xc3\xb6ln\n", i);
	off = (long long)n + 4;
	n += (size_t)sprintf(buf + n, "bad,\x80x\n");
	path = write_tmp(buf, n);
	assert_int_equal(source_sniff(path, NULL, &d, &g), CC_OK);
	assert_int_equal(profile_source(path, &d, &p, &g), CC_EENCODING);
	assert_null(p);
	assert_int_equal(g.line, 90000);
	assert_int_equal(g.column, 5);
	assert_int_equal(g.offset, off);
	unlink(path);
	free(path);
	free(buf);
}

static void
test_profile_errors(void **state)
{
	struct source_dialect d;
	struct cc_diag g;
	json_t *p = (void *)1;

	(void)state;
	assert_int_equal(source_sniff(fixture("unterminated.csv"), NULL, &d,
	    &g), CC_OK);
	assert_int_equal(profile_source(fixture("unterminated.csv"), &d, &p,
	    &g), CC_EPARSE);
	assert_null(p);
	assert_string_equal(g.code, "csv_unterminated_quote");
	assert_int_equal(g.line, 3);
	assert_int_equal(source_sniff(fixture("bad.json"), NULL, &d, &g),
	    CC_OK);
	assert_int_equal(profile_source(fixture("bad.json"), &d, &p, &g),
	    CC_EPARSE);
	assert_int_equal(g.line, 4);
	assert_int_equal(profile_source(NULL, &d, &p, &g), CC_EINVAL);
	assert_int_equal(profile_source(fixture("types.csv"), NULL, &p, &g),
	    CC_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_profile_types),
		cmocka_unit_test(test_profile_ndjson),
		cmocka_unit_test(test_profile_seed),
		cmocka_unit_test(test_profile_approximate),
		cmocka_unit_test(test_profile_bad_byte),
		cmocka_unit_test(test_profile_errors),
	};

	return cmocka_run_group_tests_name("profile", tests, NULL, NULL);
}
