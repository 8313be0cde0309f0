/*
 * test_source.c - unit tests of concord/source.h: sniffing, the CSV, JSON
 * and NDJSON readers, on the real seed data and on tiny fixtures in
 * tests/data/ whose answers are evident.  Expected counts of the seed
 * files are computed here by a separate, trivial method (counting lines,
 * or loading the whole JSON document with Jansson), not taken from the
 * reader.  Prints TAP with CMOCKA_MESSAGE_OUTPUT=TAP.
 */
#include "config.h"

#include <dirent.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "concord/source.h"

#ifndef SRCDIR
#define SRCDIR "."
#endif

/* ---- helpers ------------------------------------------------------- */

static const char *
fixture(const char *name)
{
	static char path[4][1024];
	static int k;

	k = (k + 1) % 4;
	snprintf(path[k], sizeof(path[k]), "%s/tests/data/%s", SRCDIR, name);
	return path[k];
}

/* The seed files: $CONCORD_SHARED/data/seeds (set by make check), else
 * SRCDIR/../shared/data/seeds. */
static const char *
seeds(void)
{
	static char dir[512];
	const char *s = getenv("CONCORD_SHARED");

	snprintf(dir, sizeof(dir), "%s/data/seeds", s != NULL && *s != '\0' ?
	    s : SRCDIR "/../shared");
	return dir;
}

/* Reads a whole (small) file; *n is its size. */
static char *
slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *p;
	long sz;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	sz = ftell(f);
	rewind(f);
	p = malloc((size_t)sz + 1);
	assert_non_null(p);
	assert_int_equal(fread(p, 1, (size_t)sz, f), (size_t)sz);
	p[sz] = '\0';
	fclose(f);
	*n = (size_t)sz;
	return p;
}

/* Writes data to a new temporary file; returns its path (free it). */
static char *
write_tmp(const void *data, size_t n, const char *suffix)
{
	char *path = malloc(256);
	int fd;

	assert_non_null(path);
	snprintf(path, 256, "/tmp/concord-test-XXXXXX%s", suffix);
	fd = mkstemps(path, (int)strlen(suffix));
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	close(fd);
	return path;
}

static void
sniff_ok(const char *path, struct source_dialect *d)
{
	struct cc_diag g;
	cc_err e = source_sniff(path, path, d, &g);

	if (e != CC_OK)
		fail_msg("sniff %s: %s: %s", path, cc_strerror(e), g.message);
}

static struct source_reader *
open_ok(const char *path, const struct source_dialect *d)
{
	struct source_reader *r = NULL;
	struct cc_diag g;
	cc_err e = source_open(path, d, &r, &g);

	if (e != CC_OK)
		fail_msg("open %s: %s: %s", path, cc_strerror(e), g.message);
	return r;
}

static const char *const *
next_ok(struct source_reader *r)
{
	const char *const *v = NULL;
	struct cc_diag g;
	cc_err e = source_next(r, &v, &g);

	if (e != CC_OK)
		fail_msg("next: %s: %s", cc_strerror(e), g.message);
	return v;
}

/* Reads to the end; returns the number of records read by this call. */
static long long
count_all(struct source_reader *r)
{
	const char *const *v;
	struct cc_diag g;
	long long n = 0, before = source_record_number(r);
	cc_err e;

	while ((e = source_next(r, &v, &g)) == CC_OK)
		n++;
	if (e != CC_EOF)
		fail_msg("record %lld: %s: %s (line %ld)", before + n + 1,
		    cc_strerror(e), g.message, g.line);
	assert_int_equal(source_record_number(r), before + n);
	/* The end is sticky. */
	assert_int_equal(source_next(r, &v, &g), CC_EOF);
	return n;
}

/* Files under dir (recursively) whose name ends in ext. */
static size_t
list_files(const char *dir, const char *ext, char paths[][1024], size_t max)
{
	DIR *dp = opendir(dir);
	struct dirent *de;
	struct stat st;
	char p[1024];
	size_t n = 0, l;

	if (dp == NULL)
		return 0;
	while ((de = readdir(dp)) != NULL && n < max) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (stat(p, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			n += list_files(p, ext, paths + n, max - n);
			continue;
		}
		l = strlen(p);
		if (l > strlen(ext) && strcmp(p + l - strlen(ext), ext) == 0)
			snprintf(paths[n++], 1024, "%s", p);
	}
	closedir(dp);
	return n;
}

/*
 * Trivial count of the data rows of a CSV file without quotes: non-empty
 * physical lines, minus the header.  Also the fields of line 1 and the
 * number of the last non-empty line.
 */
static long long
naive_csv(const char *path, size_t *nfields, long *last_line)
{
	size_t n, i, start = 0;
	char *t = slurp(path, &n);
	long long lines = 0;
	long line = 0;

	assert_null(memchr(t, '"', n));	/* the method needs no quotes */
	*nfields = 1;
	for (i = 0; i < n && t[i] != '\n'; i++)
		*nfields += t[i] == ',';
	for (i = 0; i <= n; i++) {
		if (i == n || t[i] == '\n') {
			line++;
			if (i > start && !(i - start == 1 && t[start] == '\r')) {
				lines++;
				*last_line = line;
			}
			start = i + 1;
		}
	}
	free(t);
	return lines - 1;
}

/* The number of records according to Jansson loading the whole file. */
static long long
naive_json(const char *path, const char *records_path)
{
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je), *a;
	long long n;

	assert_non_null(j);
	a = records_path[0] ? json_object_get(j, records_path) : j;
	assert_true(json_is_array(a));
	n = (long long)json_array_size(a);
	json_decref(j);
	return n;
}

/* Index of the column named name, or -1. */
static long
column(const struct source_reader *r, const char *name)
{
	size_t i;

	for (i = 0; i < source_ncolumns(r); i++)
		if (strcmp(source_column(r, i), name) == 0)
			return (long)i;
	return -1;
}

/* The value of column name in record v (must exist). */
static const char *
val(const struct source_reader *r, const char *const *v, const char *name)
{
	long i = column(r, name);

	if (i < 0)
		fail_msg("no column %s", name);
	return v[i];
}

/* ---- names --------------------------------------------------------- */

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(source_format_name(SOURCE_FORMAT_CSV), "csv");
	assert_string_equal(source_format_name(SOURCE_FORMAT_JSON), "json");
	assert_string_equal(source_format_name(SOURCE_FORMAT_NDJSON), "ndjson");
	assert_string_equal(source_format_name(SOURCE_FORMAT_UNKNOWN),
	    "unknown");
	assert_string_equal(source_encoding_name(SOURCE_ENC_UTF8), "utf-8");
	assert_string_equal(source_encoding_name(SOURCE_ENC_LATIN1),
	    "latin-1");
	assert_string_equal(source_delimiter_name(';'), "semicolon");
	assert_string_equal(source_delimiter_name('\t'), "tab");
	assert_string_equal(source_delimiter_name('|'), "pipe");
	assert_string_equal(source_delimiter_name(','), "comma");
}

static void
test_null_arguments(void **state)
{
	struct source_dialect d;
	struct source_reader *r = (void *)1;
	struct cc_diag g;

	(void)state;
	source_close(NULL);
	assert_int_equal(source_sniff(NULL, NULL, &d, &g), CC_EINVAL);
	assert_int_equal(source_sniff("/nonexistent/x.csv", NULL, &d, &g),
	    CC_EIO);
	assert_string_equal(g.code, "open_error");
	memset(&d, 0, sizeof(d));
	assert_int_equal(source_open(fixture("pipe.txt"), &d, &r, &g),
	    CC_EINVAL);	/* format unknown */
	assert_null(r);
	d.format = SOURCE_FORMAT_CSV;
	d.delimiter = '\n';
	assert_int_equal(source_open(fixture("pipe.txt"), &d, &r, &g),
	    CC_EINVAL);
	assert_int_equal(source_ncolumns(NULL), 0);
	assert_null(source_column(NULL, 0));
}

/* ---- the seed data ------------------------------------------------- */

static void
test_seed_csv(void **state)
{
	static char paths[64][1024];
	struct source_dialect d;
	struct source_reader *r;
	size_t n, i, nf;
	long last;
	long long expect, got;
	int anchors = 0;

	(void)state;
	n = list_files(seeds(), ".csv", paths, 64);
	if (n == 0)
		skip();
	for (i = 0; i < n; i++) {
		expect = naive_csv(paths[i], &nf, &last);
		sniff_ok(paths[i], &d);
		assert_int_equal(d.format, SOURCE_FORMAT_CSV);
		assert_int_equal(d.encoding, SOURCE_ENC_UTF8);
		assert_int_equal(d.delimiter, ',');
		assert_int_equal(d.quote, '"');
		assert_int_equal(d.has_header, 1);
		assert_int_equal(d.crlf, 0);
		r = open_ok(paths[i], &d);
		assert_int_equal(source_ncolumns(r), nf);
		got = count_all(r);
		if (got != expect)
			fail_msg("%s: %lld records, expected %lld", paths[i],
			    got, expect);
		assert_int_equal(source_record_line(r), last);
		assert_int_equal(source_ragged_rows(r), 0);
		source_close(r);
		/* The numbers the data README states, as a second check. */
		if (strstr(paths[i], "source_crm/sales_details.csv") &&
		    ++anchors)
			assert_int_equal(got, 60398);
		if (strstr(paths[i], "source_crm/cst_info.csv") && ++anchors)
			assert_int_equal(got, 18494);
		if (strstr(paths[i], "source_crm/prd_info.csv") && ++anchors)
			assert_int_equal(got, 397);
		if (strstr(paths[i], "nexusflow/orders_unstructured_data.csv") &&
		    ++anchors)
			assert_int_equal(got, 1000);
		if (strstr(paths[i],
		    "nexusflow/reconciliation_challenge_data.csv") && ++anchors)
			assert_int_equal(got, 300);
	}
	assert_int_equal(anchors, 5);
}

static void
test_seed_json(void **state)
{
	static char paths[64][1024];
	struct source_dialect d;
	struct source_reader *r;
	size_t n, i;
	long long expect, got;
	int anchors = 0;

	(void)state;
	n = list_files(seeds(), ".json", paths, 64);
	if (n == 0)
		skip();
	for (i = 0; i < n; i++) {
		sniff_ok(paths[i], &d);
		assert_int_equal(d.format, SOURCE_FORMAT_JSON);
		assert_int_equal(d.encoding, SOURCE_ENC_UTF8);
		if (strstr(paths[i], "source_samples.json"))
			assert_string_equal(d.records_path, "easy_electricity");
		else
			assert_string_equal(d.records_path, "");
		expect = naive_json(paths[i], d.records_path);
		r = open_ok(paths[i], &d);
		got = count_all(r);
		if (got != expect)
			fail_msg("%s: %lld records, expected %lld", paths[i],
			    got, expect);
		source_close(r);
		if (strstr(paths[i], "nexusflow/customers_messy_data.json") &&
		    ++anchors)
			assert_int_equal(got, 500);
		if (strstr(paths[i],
		    "nexusflow/products_inconsistent_data.json") && ++anchors)
			assert_int_equal(got, 200);
		if (strstr(paths[i], "source_samples.json") && ++anchors)
			assert_int_equal(got, 2);
	}
	assert_int_equal(anchors, 3);
}

static void
test_seed_values(void **state)
{
	char path[1024];
	struct source_dialect d;
	struct source_reader *r;
	const char *const *v;

	(void)state;
	snprintf(path, sizeof(path), "%s/crm-erp/source_crm/sales_details.csv",
	    seeds());
	if (access(path, R_OK) != 0)
		skip();
	sniff_ok(path, &d);
	r = open_ok(path, &d);
	assert_string_equal(source_column(r, 0), "sls_ord_num");
	assert_string_equal(source_column(r, 8), "sls_price");
	v = next_ok(r);
	assert_string_equal(v[0], "SO43697");
	assert_string_equal(v[3], "20101229");
	assert_int_equal(source_record_line(r), 2);
	source_close(r);

	/* Padding is data: " Jon" and "Yang " stay as they are. */
	snprintf(path, sizeof(path), "%s/crm-erp/source_crm/cst_info.csv",
	    seeds());
	sniff_ok(path, &d);
	r = open_ok(path, &d);
	v = next_ok(r);
	assert_string_equal(val(r, v, "cst_firstname"), " Jon");
	assert_string_equal(val(r, v, "cst_lastname"), "Yang ");
	source_close(r);

	snprintf(path, sizeof(path), "%s/crm-erp/source_crm/customer_info.csv",
	    seeds());
	sniff_ok(path, &d);
	r = open_ok(path, &d);
	next_ok(r);
	v = next_ok(r);
	assert_string_equal(val(r, v, "lastname"), "M\xc3\xbcller");
	source_close(r);

	/* JSON: null is NULL, "" is "", numbers as written. */
	snprintf(path, sizeof(path), "%s/nexusflow/customers_messy_data.json",
	    seeds());
	sniff_ok(path, &d);
	r = open_ok(path, &d);
	assert_int_equal(source_ncolumns(r), 25);
	v = next_ok(r);
	assert_string_equal(val(r, v, "customer_id"), "1");
	assert_null(val(r, v, "phone"));
	assert_string_equal(val(r, v, "reg_date"), "");
	assert_string_equal(val(r, v, "total_orders"), "1");
	assert_string_equal(val(r, v, "total_spent"), "4961.60");
	assert_int_equal(source_record_line(r), 2);
	source_close(r);

	snprintf(path, sizeof(path), "%s/mapping-samples/source_samples.json",
	    seeds());
	sniff_ok(path, &d);
	r = open_ok(path, &d);
	next_ok(r);
	v = next_ok(r);
	assert_string_equal(val(r, v, "consumption_kwh"), "300.0");
	assert_string_equal(val(r, v, "reading_timestamp"),
	    "2023-08-15T15:00:00Z");
	source_close(r);

	/* Another member, named explicitly: nested objects flatten. */
	snprintf(d.records_path, sizeof(d.records_path), "nested_heat");
	r = open_ok(path, &d);
	v = next_ok(r);
	assert_string_equal(val(r, v, "customer.id"), "C001");
	assert_string_equal(val(r, v, "customer.meter.readings.consumption"),
	    "275.5");
	assert_string_equal(val(r, v, "billing.type"), "residential");
	assert_int_equal(count_all(r), 1);
	source_close(r);
}

/* ---- CSV dialects --------------------------------------------------- */

static void
test_delimiters(void **state)
{
	struct source_dialect d;
	struct source_reader *r;
	const char *const *v;

	(void)state;
	sniff_ok(fixture("semicolon.csv"), &d);
	assert_int_equal(d.delimiter, ';');
	assert_int_equal(d.has_header, 1);
	r = open_ok(fixture("semicolon.csv"), &d);
	assert_int_equal(source_ncolumns(r), 3);
	v = next_ok(r);
	assert_string_equal(v[2], "12,50");
	assert_int_equal(count_all(r), 2);
	source_close(r);

	sniff_ok(fixture("tab.tsv"), &d);
	assert_int_equal(d.delimiter, '\t');
	r = open_ok(fixture("tab.tsv"), &d);
	v = next_ok(r);
	assert_string_equal(val(r, v, "city"), "New York, NY");
	source_close(r);

	sniff_ok(fixture("pipe.txt"), &d);
	assert_int_equal(d.delimiter, '|');
	r = open_ok(fixture("pipe.txt"), &d);
	assert_string_equal(source_column(r, 2), "score");
	v = next_ok(r);
	assert_string_equal(v[2], "10");
	assert_int_equal(count_all(r), 2);
	source_close(r);
}

/*
 * A ", "-separated file: the space after each delimiter is the
 * separator's, not the value's (names and values read without it); a
 * file where one delimiter is not followed by a space keeps every space
 * (" Jon" is data there).
 */
static void
test_comma_space(void **state)
{
	static const char spaced[] = "id, name, price\n1, Ada  King, 0.001\n"
	    "2,  Bob, 2.55\n";
	static const char mixed[] = "id,name\n1, Jon\n2,Ann\n";
	struct source_dialect d;
	struct source_reader *r;
	const char *const *v;
	char *path;

	(void)state;
	path = write_tmp(spaced, sizeof(spaced) - 1, ".csv");
	sniff_ok(path, &d);
	assert_int_equal(d.delimiter, ',');
	r = open_ok(path, &d);
	assert_string_equal(source_column(r, 1), "name");
	assert_string_equal(source_column(r, 2), "price");
	v = next_ok(r);
	assert_string_equal(v[1], "Ada  King");	/* inner spaces kept */
	assert_string_equal(v[2], "0.001");
	v = next_ok(r);
	assert_string_equal(v[1], "Bob");
	source_close(r);
	unlink(path);
	free(path);
	path = write_tmp(mixed, sizeof(mixed) - 1, ".csv");
	sniff_ok(path, &d);
	r = open_ok(path, &d);
	v = next_ok(r);
	assert_string_equal(v[1], " Jon");
	source_close(r);
	unlink(path);
	free(path);
}

static void
test_quoted_crlf(void **state)
{
	struct source_dialect d;
	struct source_reader *r;
	const char *const *v;

	(void)state;
	sniff_ok(fixture("quoted.csv"), &d);
	assert_int_equal(d.delimiter, ',');
	assert_int_equal(d.crlf, 1);
	assert_int_equal(d.has_header, 1);
	r = open_ok(fixture("quoted.csv"), &d);
	assert_string_equal(source_column(r, 2), "city");	/* no CR */
	v = next_ok(r);
	assert_string_equal(v[1], "Hello, world");
	assert_string_equal(v[2], "Berlin");
	assert_int_equal(source_record_line(r), 2);
	v = next_ok(r);
	assert_string_equal(v[1], "She said \"hi\"");
	v = next_ok(r);
	assert_string_equal(v[1], "two\r\nlines");	/* data, kept */
	assert_string_equal(v[2], "Rome");
	assert_int_equal(source_record_line(r), 4);
	v = next_ok(r);
	assert_string_equal(v[0], "4");
	assert_string_equal(v[2], "Oslo");
	assert_int_equal(source_record_line(r), 6);	/* after 2 lines */
	assert_int_equal(count_all(r), 0);
	assert_int_equal(source_record_number(r), 4);
	source_close(r);
}

static void
test_cr_only(void **state)
{
	struct source_dialect d;
	struct source_reader *r;
	const char *const *v;

	(void)state;
	sniff_ok(fixture("cr_only.csv"), &d);
	r = open_ok(fixture("cr_only.csv"), &d);
	assert_int_equal(source_ncolumns(r), 2);
	next_ok(r);
	v = next_ok(r);
	assert_string_equal(v[1], "Bob");
	assert_int_equal(source_record_line(r), 3);
	source_close(r);
}

static void
test_bom(void **state)
{
	struct source_dialect d;
	struct source_reader *r;
	const char *const *v;

	(void)state;
	sniff_ok(fixture("bom.csv"), &d);
	assert_int_equal(d.encoding, SOURCE_ENC_UTF8_BOM);
	r = open_ok(fixture("bom.csv"), &d);
	assert_string_equal(source_column(r, 0), "id");
	v = next_ok(r);
	assert_string_equal(v[1], "Ann");
	source_close(r);
}

static void
test_latin1(void **state)
{
	struct source_dialect d;
	struct source_reader *r;
	const char *const *v;

	(void)state;
	sniff_ok(fixture("latin1.csv"), &d);
	assert_int_equal(d.encoding, SOURCE_ENC_LATIN1);
	r = open_ok(fixture("latin1.csv"), &d);
	v = next_ok(r);
	assert_string_equal(v[1], "M\xc3\xbcller");
	assert_string_equal(v[2], "K\xc3\xb6ln");
	v = next_ok(r);
	assert_string_equal(v[1], "Fran\xc3\xa7ois");
	assert_string_equal(v[2], "Orl\xc3\xa9" "ans");
	source_close(r);
}

static void
test_headerless(void **state)
{
	struct source_dialect d;
	struct source_reader *r;
	const char *const *v;

	(void)state;
	sniff_ok(fixture("headerless.csv"), &d);
	assert_int_equal(d.has_header, 0);
	r = open_ok(fixture("headerless.csv"), &d);
	assert_int_equal(source_ncolumns(r), 3);
	assert_string_equal(source_column(r, 0), "column_1");
	assert_string_equal(source_column(r, 2), "column_3");
	assert_null(source_column(r, 3));
	v = next_ok(r);
	assert_string_equal(v[0], "1");
	assert_string_equal(v[2], "2023-01-05");
	assert_int_equal(source_record_line(r), 1);
	assert_int_equal(count_all(r), 2);
	source_close(r);
}

static void
test_header_names(void **state)
{
	struct source_dialect d;
	struct source_reader *r;

	(void)state;
	/* "name,name,,id" above numbers in the id column: a header. */
	sniff_ok(fixture("names.csv"), &d);
	assert_int_equal(d.has_header, 1);
	r = open_ok(fixture("names.csv"), &d);
	assert_int_equal(source_ncolumns(r), 4);
	assert_string_equal(source_column(r, 0), "name");
	assert_string_equal(source_column(r, 1), "name_2");
	assert_string_equal(source_column(r, 2), "column_3");
	assert_string_equal(source_column(r, 3), "id");
	assert_int_equal(count_all(r), 2);
	source_close(r);
	/* The dialect may be edited: row 1 is then a record. */
	d.has_header = 0;
	r = open_ok(fixture("names.csv"), &d);
	assert_string_equal(source_column(r, 0), "column_1");
	assert_int_equal(count_all(r), 3);
	source_close(r);
}

static void
test_ragged(void **state)
{
	struct source_dialect d;
	struct source_reader *r;
	const char *const *v;

	(void)state;
	sniff_ok(fixture("ragged.csv"), &d);
	r = open_ok(fixture("ragged.csv"), &d);
	v = next_ok(r);
	assert_int_equal(source_extra_fields(r), 0);
	v = next_ok(r);			/* "4,5": padded */
	assert_string_equal(v[0], "4");
	assert_string_equal(v[1], "5");
	assert_string_equal(v[2], "");
	assert_int_equal(source_ragged_rows(r), 1);
	v = next_ok(r);			/* "6,7,8,9,10": two extra */
	assert_string_equal(v[2], "8");
	assert_int_equal(source_extra_fields(r), 2);
	assert_int_equal(source_ragged_rows(r), 2);
	v = next_ok(r);
	assert_string_equal(v[0], "11");
	assert_int_equal(source_extra_fields(r), 0);
	assert_int_equal(source_ragged_rows(r), 2);
	assert_int_equal(count_all(r), 0);
	source_close(r);
}

/* A quoted field spanning read chunks, and a character cut by one. */
static void
test_chunk_boundaries(void **state)
{
	struct source_dialect d;
	struct source_reader *r;
	const char *const *v;
	char *buf, *path, field[1100];
	size_t n = 0, i, rows = 700, k;

	(void)state;
	buf = malloc(rows * 1200 + 64);
	assert_non_null(buf);
	n += (size_t)sprintf(buf + n, "id,text,tail\n");
	for (i = 0; i < rows; i++) {
		/* 1 + i % 3 bytes of ASCII shift "ü" across every boundary. */
		for (k = 0; k < 1 + i % 3; k++)
			field[k] = 'a';
		for (; k + 2 < 1000; k += 2)
			memcpy(field + k, "\xc3\xbc", 2);
		field[k] = '\0';
		n += (size_t)sprintf(buf + n, "%zu,\"%s\nsecond \"\"line\"\",x\","
		    "end\n", i, field);
	}
	path = write_tmp(buf, n, ".csv");
	sniff_ok(path, &d);
	assert_int_equal(d.has_header, 1);
	r = open_ok(path, &d);
	for (i = 0; i < rows; i++) {
		char expect[1200];

		for (k = 0; k < 1 + i % 3; k++)
			field[k] = 'a';
		for (; k + 2 < 1000; k += 2)
			memcpy(field + k, "\xc3\xbc", 2);
		field[k] = '\0';
		snprintf(expect, sizeof(expect), "%s\nsecond \"line\",x", field);
		v = next_ok(r);
		assert_int_equal(strtoul(v[0], NULL, 10), i);
		assert_string_equal(v[1], expect);
		assert_string_equal(v[2], "end");
		assert_int_equal(source_record_line(r), 2 + 2 * (long)i);
	}
	assert_int_equal(count_all(r), 0);
	source_close(r);
	unlink(path);
	free(path);
	free(buf);
}

/* ---- broken input ----------------------------------------------------- */

static void
test_unterminated_quote(void **state)
{
	struct source_dialect d;
	struct source_reader *r;
	const char *const *v;
	struct cc_diag g;
	size_t n;
	char *t = slurp(fixture("unterminated.csv"), &n);
	long long off = strstr(t, "\"broken") - t;

	(void)state;
	sniff_ok(fixture("unterminated.csv"), &d);
	r = open_ok(fixture("unterminated.csv"), &d);
	v = next_ok(r);
	assert_string_equal(v[1], "fine");
	assert_int_equal(source_next(r, &v, &g), CC_EPARSE);
	assert_string_equal(g.code, "csv_unterminated_quote");
	assert_int_equal(g.line, 3);
	assert_int_equal(g.column, 3);
	assert_int_equal(g.offset, off);
	/* The reader is spent: the same error again. */
	memset(&g, 0, sizeof(g));
	assert_int_equal(source_next(r, &v, &g), CC_EPARSE);
	assert_int_equal(g.line, 3);
	source_close(r);
	free(t);
}

/* The open quote is on the last line, which has no line end. */
static void
test_unterminated_quote_last_line(void **state)
{
	static const char text[] = "a,b\n1,2\n3,x\"y\n4,\"\xc3\xa9t\xc3\xa9";
	struct source_dialect d;
	struct source_reader *r;
	const char *const *v;
	struct cc_diag g;
	char *path = write_tmp(text, sizeof(text) - 1, ".csv");

	(void)state;
	sniff_ok(path, &d);
	r = open_ok(path, &d);
	next_ok(r);
	v = next_ok(r);
	assert_string_equal(v[1], "x\"y");	/* a quote inside is text */
	assert_int_equal(source_next(r, &v, &g), CC_EPARSE);
	assert_int_equal(g.line, 4);
	assert_int_equal(g.column, 3);
	assert_int_equal(g.offset, strrchr(text, '"') - text);
	source_close(r);
	unlink(path);
	free(path);
}

static void
test_not_latin1(void **state)
{
	struct source_dialect d;
	struct cc_diag g;
	size_t n;
	char *t = slurp(fixture("notlatin1.csv"), &n);
	const char *bad = memchr(t, 0x85, n);

	(void)state;
	assert_non_null(bad);
	assert_int_equal(source_sniff(fixture("notlatin1.csv"), NULL, &d, &g),
	    CC_EENCODING);
	assert_string_equal(g.code, "invalid_encoding");
	assert_int_equal(g.offset, bad - t);
	assert_int_equal(g.line, 3);
	assert_int_equal(g.column, 5);	/* "2,ab" before it */
	free(t);
}

static void
test_nul(void **state)
{
	struct source_dialect d;
	struct cc_diag g;

	(void)state;
	assert_int_equal(source_sniff(fixture("nul.csv"), NULL, &d, &g),
	    CC_EENCODING);
	assert_string_equal(g.code, "binary_data");
	assert_int_equal(g.line, 2);
	assert_int_equal(g.column, 4);
	assert_int_equal(g.offset, 11);
}

static void
test_empty(void **state)
{
	struct source_dialect d;
	struct cc_diag g;

	(void)state;
	assert_int_equal(source_sniff(fixture("empty.csv"), NULL, &d, &g),
	    CC_EINVALID);
	assert_string_equal(g.code, "empty_file");
	assert_int_equal(source_sniff(fixture("blank.csv"), NULL, &d, &g),
	    CC_EINVALID);
}

/*
 * A bad byte far beyond what source_sniff() reads: the reader returns the
 * records before it, then CC_EENCODING with its exact position.
 */
static void
test_bad_byte_far(void **state)
{
	struct source_dialect d;
	struct source_reader *r;
	const char *const *v;
	struct cc_diag g;
	char *buf, *path;
	size_t n = 0, i;
	long long off = 0, got = 0;
	cc_err e;

	(void)state;
	buf = malloc(100000 * 24);
	assert_non_null(buf);
	n += (size_t)sprintf(buf + n, "name,city\n");
	for (i = 2; i < 90000; i++)
		n += (size_t)sprintf(buf + n, "r%zu,K\xc3\xb6ln\n", i);
	off = (long long)n + 7;		/* "row,caf" then the byte */
	n += (size_t)sprintf(buf + n, "row,caf\xe9\n");	/* Latin-1 é */
	n += (size_t)sprintf(buf + n, "last,x\n");
	path = write_tmp(buf, n, ".csv");
	sniff_ok(path, &d);
	assert_int_equal(d.encoding, SOURCE_ENC_UTF8);
	r = open_ok(path, &d);
	while ((e = source_next(r, &v, &g)) == CC_OK)
		got++;
	assert_int_equal(e, CC_EENCODING);
	assert_string_equal(g.code, "invalid_utf8");
	assert_int_equal(got, 89998);
	assert_int_equal(g.line, 90000);
	assert_int_equal(g.column, 8);
	assert_int_equal(g.offset, off);
	source_close(r);
	unlink(path);
	free(path);

	/* The same in a Latin-1 file: a C1 byte is not Latin-1 text. */
	n = 0;
	n += (size_t)sprintf(buf + n, "name,city\n");
	for (i = 2; i < 90000; i++)
		n += (size_t)sprintf(buf + n, "r%zu,K\xf6ln\n", i);
	off = (long long)n + 7;
	n += (size_t)sprintf(buf + n, "row,caf\x81\n");
	path = write_tmp(buf, n, ".csv");
	sniff_ok(path, &d);
	assert_int_equal(d.encoding, SOURCE_ENC_LATIN1);
	r = open_ok(path, &d);
	got = 0;
	while ((e = source_next(r, &v, &g)) == CC_OK)
		got++;
	assert_int_equal(e, CC_EENCODING);
	assert_string_equal(g.code, "invalid_latin1");
	assert_int_equal(got, 89998);
	assert_int_equal(g.line, 90000);
	assert_int_equal(g.column, 8);
	assert_int_equal(g.offset, off);
	source_close(r);
	unlink(path);
	free(path);
	free(buf);
}

/* ---- JSON and NDJSON --------------------------------------------------- */

static void
test_bad_json(void **state)
{
	struct source_dialect d;
	struct source_reader *r;
	const char *const *v;
	struct cc_diag g;
	size_t n;
	char *t = slurp(fixture("bad.json"), &n);

	(void)state;
	sniff_ok(fixture("bad.json"), &d);
	assert_int_equal(d.format, SOURCE_FORMAT_JSON);
	r = open_ok(fixture("bad.json"), &d);
	v = next_ok(r);
	assert_string_equal(val(r, v, "ok"), "true");
	assert_int_equal(source_next(r, &v, &g), CC_EPARSE);
	assert_string_equal(g.code, "json_syntax");
	/* Jansson points at the last character of the bad token "tru". */
	assert_int_equal(g.line, 4);
	assert_int_equal(g.column, 12);
	assert_int_equal(g.offset, strstr(t, "tru}") - t + 2);
	source_close(r);
	free(t);
}

static void
test_json_not_object(void **state)
{
	struct source_dialect d;
	struct source_reader *r;
	const char *const *v;
	struct cc_diag g;
	size_t n;
	char *t = slurp(fixture("notobject.json"), &n);

	(void)state;
	sniff_ok(fixture("notobject.json"), &d);
	r = open_ok(fixture("notobject.json"), &d);
	next_ok(r);
	assert_int_equal(source_next(r, &v, &g), CC_EPARSE);
	assert_string_equal(g.code, "json_not_object");
	assert_int_equal(g.line, 3);
	assert_int_equal(g.column, 3);
	assert_int_equal(g.offset, strstr(t, "[1, 2]") - t);
	source_close(r);
	free(t);
}

static void
test_ndjson(void **state)
{
	static const char *const cols[] = { "id", "name", "amount", "tags",
	    "addr.city", "addr.geo.lat", "ok" };
	struct source_dialect d;
	struct source_reader *r;
	const char *const *v;
	size_t i;

	(void)state;
	sniff_ok(fixture("records.ndjson"), &d);
	assert_int_equal(d.format, SOURCE_FORMAT_NDJSON);
	r = open_ok(fixture("records.ndjson"), &d);
	assert_int_equal(source_ncolumns(r), 7);
	for (i = 0; i < 7; i++)
		assert_string_equal(source_column(r, i), cols[i]);
	v = next_ok(r);
	assert_string_equal(v[0], "1");
	assert_string_equal(v[2], "12.50");	/* as written */
	assert_null(v[3]);
	assert_int_equal(source_record_line(r), 1);
	v = next_ok(r);
	assert_null(v[1]);			/* missing */
	assert_string_equal(v[3], "[\"a\",\"b\"]");
	assert_string_equal(v[4], "Paris");
	assert_string_equal(v[5], "48.85");
	assert_int_equal(source_record_line(r), 3);
	v = next_ok(r);
	assert_null(v[1]);			/* JSON null */
	assert_string_equal(v[2], "1e3");
	assert_string_equal(v[6], "false");
	assert_int_equal(source_record_line(r), 5);
	assert_int_equal(count_all(r), 0);
	source_close(r);
}

static void
test_ndjson_bad_line(void **state)
{
	struct source_dialect d;
	struct source_reader *r;
	const char *const *v;
	struct cc_diag g;

	(void)state;
	sniff_ok(fixture("ndjson_bad.ndjson"), &d);
	assert_int_equal(d.format, SOURCE_FORMAT_NDJSON);
	r = open_ok(fixture("ndjson_bad.ndjson"), &d);
	next_ok(r);
	next_ok(r);
	assert_int_equal(source_next(r, &v, &g), CC_EPARSE);
	assert_int_equal(g.line, 3);
	assert_int_equal(g.column, 10);	/* the second ',' */
	assert_int_equal(g.offset, 20 + 9);
	source_close(r);
}

static void
test_json_records_member(void **state)
{
	struct source_dialect d;
	struct source_reader *r;
	const char *const *v;

	(void)state;
	sniff_ok(fixture("nested.json"), &d);
	assert_int_equal(d.format, SOURCE_FORMAT_JSON);
	assert_string_equal(d.records_path, "records");
	r = open_ok(fixture("nested.json"), &d);
	assert_int_equal(source_ncolumns(r), 7);
	v = next_ok(r);
	assert_string_equal(val(r, v, "id"), "1");
	assert_string_equal(val(r, v, "price"), "12.50");
	assert_string_equal(val(r, v, "customer.name"), "Ann");
	assert_string_equal(val(r, v, "customer.address.city"), "Paris");
	assert_string_equal(val(r, v, "tags"), "[\"x\",1.5]");
	assert_string_equal(val(r, v, "extra"), "{}");
	assert_null(val(r, v, "active"));
	assert_int_equal(source_record_line(r), 4);
	v = next_ok(r);
	assert_string_equal(val(r, v, "price"), "-0.10");
	assert_null(val(r, v, "customer.address.city"));
	assert_string_equal(val(r, v, "active"), "true");
	assert_int_equal(source_record_line(r), 5);
	assert_int_equal(count_all(r), 0);
	source_close(r);

	/* A member that is not there. */
	snprintf(d.records_path, sizeof(d.records_path), "nope");
	{
		struct cc_diag g;

		r = open_ok(fixture("nested.json"), &d);
		assert_int_equal(source_next(r, &v, &g), CC_EPARSE);
		assert_string_equal(g.code, "json_no_records");
		source_close(r);
	}
}

/*
 * The records member's name must fit records_path whole (127 bytes): a
 * longer one is refused (json_records_name), on one line as on several,
 * never cut inside a UTF-8 sequence (the fuzzer found a one-line document
 * whose name of "\xc3\xbb" pairs was cut after 127 bytes).
 */
static void
test_json_records_name_length(void **state)
{
	struct source_dialect d;
	struct cc_diag g;
	char name[300], doc[700];
	size_t lens[] = { 126, 127, 128, 200 }, i, k;
	int multi;
	char *path;
	cc_err e;

	(void)state;
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		/* "a" then two-byte characters, so that byte 127 falls
		 * inside one when the name is longer */
		name[0] = 'a';
		for (k = 1; k + 1 < lens[i]; k += 2) {
			name[k] = '\xc3';
			name[k + 1] = '\xbb';
		}
		for (; k < lens[i]; k++)
			name[k] = 'b';
		name[lens[i]] = '\0';
		for (multi = 0; multi < 2; multi++) {
			snprintf(doc, sizeof(doc), multi ? "{\n\"%s\": [\n"
			    "{\"id\": 1}\n]\n}\n" : "{\"%s\": [{\"id\": 1}]}\n",
			    name);
			path = write_tmp(doc, strlen(doc), ".json");
			memset(&d, 0, sizeof(d));
			cc_diag_clear(&g);
			e = source_sniff(path, path, &d, &g);
			if (lens[i] < sizeof(d.records_path)) {
				assert_int_equal(e, CC_OK);
				assert_string_equal(d.records_path, name);
			} else {
				assert_int_equal(e, CC_EUNSUPPORTED);
				assert_string_equal(g.code, "json_records_name");
			}
			unlink(path);
			free(path);
		}
	}
}

static void
test_json_crlf(void **state)
{
	struct source_dialect d;
	struct source_reader *r;
	const char *const *v;

	(void)state;
	sniff_ok(fixture("crlf.json"), &d);
	assert_int_equal(d.format, SOURCE_FORMAT_JSON);
	assert_int_equal(d.crlf, 1);
	r = open_ok(fixture("crlf.json"), &d);
	next_ok(r);
	v = next_ok(r);
	assert_string_equal(val(r, v, "b"), "2");
	assert_int_equal(source_record_line(r), 3);
	source_close(r);
}

/* Records spanning read chunks, and one larger than a chunk. */
static void
test_json_large(void **state)
{
	struct source_dialect d;
	struct source_reader *r;
	const char *const *v;
	char *buf, *path;
	size_t n = 0, i, cap = 4000 * 300 + 700000;
	long long got = 0;

	(void)state;
	buf = malloc(cap);
	assert_non_null(buf);
	n += (size_t)sprintf(buf + n, "[\n");
	for (i = 0; i < 4000; i++)
		n += (size_t)sprintf(buf + n, "  {\"id\": %zu, \"amount\": %zu.50,"
		    " \"note\": \"caf\xc3\xa9 %0180zu\"},\n", i, i, i);
	n += (size_t)sprintf(buf + n, "  {\"id\": 4000, \"big\": \"");
	memset(buf + n, 'x', 600000);
	n += 600000;
	n += (size_t)sprintf(buf + n, "\"}\n]\n");
	path = write_tmp(buf, n, ".json");
	sniff_ok(path, &d);
	assert_int_equal(d.format, SOURCE_FORMAT_JSON);
	r = open_ok(path, &d);
	assert_int_equal(source_ncolumns(r), 4);
	while (got < 4000) {
		v = next_ok(r);
		assert_int_equal(strtoll(val(r, v, "id"), NULL, 10), got);
		assert_int_equal(strtoll(val(r, v, "amount"), NULL, 10), got);
		assert_non_null(strstr(val(r, v, "amount"), ".50"));
		assert_int_equal(source_record_line(r), 2 + got);
		got++;
	}
	v = next_ok(r);
	assert_int_equal(strlen(val(r, v, "big")), 600000);
	assert_null(val(r, v, "note"));
	assert_int_equal(count_all(r), 0);
	source_close(r);
	unlink(path);
	free(path);
	free(buf);
}

/* A JSON syntax error whose message quotes the input cut inside a
 * character (Jansson's "near '...'"): the message stays UTF-8, as every
 * diag message does (found by tests/fuzz/fuzz_source_json). */
static void
test_error_message_utf8(void **state)
{
	static const char text[] = "{\n \"easy_\\ud\xe8\x33" "d\": [1]}\n";
	struct source_dialect d;
	struct cc_diag diag;
	char *path = write_tmp(text, sizeof(text) - 1, ".json");
	const unsigned char *p;

	(void)state;
	cc_diag_clear(&diag);
	assert_int_equal(source_sniff(path, "x.json", &d, &diag), CC_EPARSE);
	assert_string_equal(diag.code, "json_syntax");
	for (p = (const unsigned char *)diag.message; *p != '\0'; p++)
		assert_true(*p < 0x80);		/* the 0xE8 became '?' */
	assert_non_null(strchr(diag.message, '?'));
	unlink(path);
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_null_arguments),
		cmocka_unit_test(test_seed_csv),
		cmocka_unit_test(test_seed_json),
		cmocka_unit_test(test_seed_values),
		cmocka_unit_test(test_delimiters),
		cmocka_unit_test(test_comma_space),
		cmocka_unit_test(test_quoted_crlf),
		cmocka_unit_test(test_cr_only),
		cmocka_unit_test(test_bom),
		cmocka_unit_test(test_latin1),
		cmocka_unit_test(test_headerless),
		cmocka_unit_test(test_header_names),
		cmocka_unit_test(test_ragged),
		cmocka_unit_test(test_chunk_boundaries),
		cmocka_unit_test(test_unterminated_quote),
		cmocka_unit_test(test_unterminated_quote_last_line),
		cmocka_unit_test(test_not_latin1),
		cmocka_unit_test(test_nul),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_bad_byte_far),
		cmocka_unit_test(test_bad_json),
		cmocka_unit_test(test_json_not_object),
		cmocka_unit_test(test_ndjson),
		cmocka_unit_test(test_ndjson_bad_line),
		cmocka_unit_test(test_json_records_member),
		cmocka_unit_test(test_json_records_name_length),
		cmocka_unit_test(test_json_crlf),
		cmocka_unit_test(test_json_large),
		cmocka_unit_test(test_error_message_utf8),
	};

	return cmocka_run_group_tests_name("source", tests, NULL, NULL);
}
