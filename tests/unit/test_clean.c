/*
 * test_clean.c - the standardisers (concord/clean.h): every form of value
 * the seed files hold, garbage, buffer limits, and column inference run
 * on the real seed columns ($CONCORD_SHARED/data/seeds).
 *
 * Expected values were worked out by hand from the documented rules, and
 * the seed counts with Python's csv, json and datetime modules on the
 * seed files, never by printing this module's output.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "concord/clean.h"

#ifndef SRCDIR
#define SRCDIR "."
#endif

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------ */
/* Helpers                                                            */
/* ------------------------------------------------------------------ */

/* struct tc, V() W() N() I(), and the tables of dates, timestamps,
 * numbers and money shared with test_agree.c. */
#include "clean_cases.h"

typedef cc_err (*clean_fn)(const char *, const struct clean_opts *, char *,
    size_t, struct clean_result *);

static void
check_cases(const char *what, clean_fn f, const struct clean_opts *o,
    const struct tc *c, size_t n)
{
	struct clean_result r;
	char out[512];
	size_t i;
	cc_err e;

	for (i = 0; i < n; i++) {
		memset(out, 'x', sizeof(out));
		e = f(c[i].in, o, out, sizeof(out), &r);
		if (e != CC_OK || r.status != c[i].st ||
		    strcmp(out, c[i].out) != 0 || r.issue != c[i].issue ||
		    r.len != strlen(out))
			fail_msg("%s(\"%s\"): got err %d status %d \"%s\" %s; "
			    "want status %d \"%s\" %s", what,
			    c[i].in ? c[i].in : "(null)", (int)e, (int)r.status,
			    out, clean_issue_name(r.issue), (int)c[i].st,
			    c[i].out, clean_issue_name(c[i].issue));
	}
}

/* Checks that f(in) applies rule r as its primary rule. */
static void
check_rule(const char *what, clean_fn f, const struct clean_opts *o,
    const char *in, enum clean_rule r)
{
	struct clean_result res;
	char out[256];

	f(in, o, out, sizeof(out), &res);
	if (res.rule != r)
		fail_msg("%s(\"%s\"): rule %s, want %s", what, in,
		    clean_rule_name(res.rule), clean_rule_name(r));
	if (r != CLEAN_RULE_NONE && !(res.rules & CLEAN_RULE_BIT(r)))
		fail_msg("%s(\"%s\"): bit of %s not set", what, in,
		    clean_rule_name(r));
}

/* Checks that f(in) has rule r among its rules. */
static void
check_has_rule(const char *what, clean_fn f, const struct clean_opts *o,
    const char *in, enum clean_rule r)
{
	struct clean_result res;
	char out[256];

	f(in, o, out, sizeof(out), &res);
	if (!(res.rules & CLEAN_RULE_BIT(r)))
		fail_msg("%s(\"%s\"): no %s among the rules", what, in,
		    clean_rule_name(r));
}

static struct clean_opts opts;			/* defaults */
static struct clean_opts opts_us;		/* country US */
static struct clean_date_format fmt_mdy, fmt_dmy, fmt_unknown;
static struct clean_date_format fmt_eps, fmt_epms, fmt_serial;
static struct clean_number_format nfmt_dot, nfmt_comma;

static cc_err
date_mdy(const char *raw, const struct clean_opts *o, char *out, size_t n,
    struct clean_result *r)
{
	return clean_date(raw, &fmt_mdy, o, out, n, r);
}

static cc_err
date_dmy(const char *raw, const struct clean_opts *o, char *out, size_t n,
    struct clean_result *r)
{
	return clean_date(raw, &fmt_dmy, o, out, n, r);
}

static cc_err
date_unknown(const char *raw, const struct clean_opts *o, char *out,
    size_t n, struct clean_result *r)
{
	return clean_date(raw, &fmt_unknown, o, out, n, r);
}

static cc_err
ts_mdy(const char *raw, const struct clean_opts *o, char *out, size_t n,
    struct clean_result *r)
{
	return clean_timestamp(raw, &fmt_mdy, o, out, n, r);
}

static cc_err
ts_eps(const char *raw, const struct clean_opts *o, char *out, size_t n,
    struct clean_result *r)
{
	return clean_timestamp(raw, &fmt_eps, o, out, n, r);
}

static cc_err
ts_epms(const char *raw, const struct clean_opts *o, char *out, size_t n,
    struct clean_result *r)
{
	return clean_timestamp(raw, &fmt_epms, o, out, n, r);
}

static cc_err
ts_serial(const char *raw, const struct clean_opts *o, char *out, size_t n,
    struct clean_result *r)
{
	return clean_timestamp(raw, &fmt_serial, o, out, n, r);
}

static cc_err
date_serial(const char *raw, const struct clean_opts *o, char *out,
    size_t n, struct clean_result *r)
{
	return clean_date(raw, &fmt_serial, o, out, n, r);
}

static cc_err
num_dot(const char *raw, const struct clean_opts *o, char *out, size_t n,
    struct clean_result *r)
{
	return clean_number(raw, &nfmt_dot, o, out, n, r);
}

static cc_err
num_comma(const char *raw, const struct clean_opts *o, char *out, size_t n,
    struct clean_result *r)
{
	return clean_number(raw, &nfmt_comma, o, out, n, r);
}

static cc_err
money_dot(const char *raw, const struct clean_opts *o, char *out, size_t n,
    struct clean_result *r)
{
	return clean_money(raw, &nfmt_dot, o, out, n, r);
}

static cc_err
money_comma(const char *raw, const struct clean_opts *o, char *out,
    size_t n, struct clean_result *r)
{
	return clean_money(raw, &nfmt_comma, o, out, n, r);
}

#define CODE_FN(name, list)						\
static cc_err								\
name(const char *raw, const struct clean_opts *o, char *out, size_t n,	\
    struct clean_result *r)						\
{									\
	return clean_code(raw, list, o, out, n, r);			\
}
CODE_FN(code_gender, CLEAN_CODES_GENDER)
CODE_FN(code_marital, CLEAN_CODES_MARITAL)
CODE_FN(code_customer, CLEAN_CODES_CUSTOMER_STATUS)
CODE_FN(code_order, CLEAN_CODES_ORDER_STATUS)
CODE_FN(code_payment, CLEAN_CODES_PAYMENT_METHOD)
CODE_FN(code_generic, CLEAN_CODES_GENERIC)

/* ---- seed files ---- */

/* $CONCORD_SHARED/data/seeds (set by make check), else
 * SRCDIR/../shared/data/seeds. */
static const char *
seed_dir(void)
{
	static char dir[512];
	const char *d = getenv("CONCORD_SHARED");

	snprintf(dir, sizeof(dir), "%s/data/seeds", d != NULL && d[0] != '\0' ?
	    d : SRCDIR "/../shared");
	return dir;
}

/* A column of a seed CSV (no quoted fields: checked for the columns
 * used).  Returns the number of rows; *vals holds strdup'd values. */
static size_t
csv_column(const char *rel, const char *col, char ***vals)
{
	char path[1024], *buf, *line, *next, *f;
	size_t n = 0, cap = 1024, len;
	long idx = -1, i;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", seed_dir(), rel);
	fp = fopen(path, "rb");
	if (fp == NULL)
		fail_msg("cannot open seed file %s (set CONCORD_SHARED)", path);
	fseek(fp, 0, SEEK_END);
	len = (size_t)ftell(fp);
	rewind(fp);
	buf = malloc(len + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, len, fp), len);
	buf[len] = '\0';
	fclose(fp);
	*vals = malloc(cap * sizeof(**vals));
	assert_non_null(*vals);
	for (line = buf; line != NULL && *line != '\0'; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		assert_null(strchr(line, '"'));
		for (i = 0, f = line; f != NULL; i++) {
			char *comma = strchr(f, ',');

			if (comma != NULL)
				*comma = '\0';
			if (idx < 0 && strcmp(f, col) == 0)
				idx = i;
			else if (idx >= 0 && i == idx && line != buf) {
				if (n == cap) {
					cap *= 2;
					*vals = realloc(*vals,
					    cap * sizeof(**vals));
					assert_non_null(*vals);
				}
				(*vals)[n++] = strdup(f);
			}
			f = comma != NULL ? comma + 1 : NULL;
		}
		if (idx < 0)
			fail_msg("no column %s in %s", col, path);
	}
	free(buf);
	return n;
}

/* A key of every object of a seed JSON array, as text: NULL for null,
 * "true"/"false", integers in decimal. */
static size_t
json_column(const char *rel, const char *key, char ***vals)
{
	char path[1024], num[32];
	json_error_t jerr;
	json_t *root, *o, *v;
	size_t i, n;

	snprintf(path, sizeof(path), "%s/%s", seed_dir(), rel);
	root = json_load_file(path, 0, &jerr);
	if (root == NULL)
		fail_msg("cannot read %s: %s", path, jerr.text);
	assert_true(json_is_array(root));
	n = json_array_size(root);
	*vals = calloc(n, sizeof(**vals));
	assert_non_null(*vals);
	json_array_foreach(root, i, o) {
		v = json_object_get(o, key);
		if (json_is_string(v))
			(*vals)[i] = strdup(json_string_value(v));
		else if (json_is_true(v))
			(*vals)[i] = strdup("true");
		else if (json_is_false(v))
			(*vals)[i] = strdup("false");
		else if (json_is_integer(v)) {
			snprintf(num, sizeof(num), "%lld",
			    (long long)json_integer_value(v));
			(*vals)[i] = strdup(num);
		} else
			(*vals)[i] = NULL;
	}
	json_decref(root);
	return n;
}

static void
free_column(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Counts of the outcomes of f over a column. */
struct tally {
	size_t value, null, invalid, flagged;
};

static struct tally
run_column(clean_fn f, const struct clean_opts *o, char **v, size_t n)
{
	struct clean_result r;
	struct tally t = { 0, 0, 0, 0 };
	char out[256];
	size_t i;

	for (i = 0; i < n; i++) {
		assert_int_equal(f(v[i], o, out, sizeof(out), &r), CC_OK);
		if (r.status == CLEAN_VALUE) {
			t.value++;
			if (r.issue != CLEAN_ISSUE_NONE)
				t.flagged++;
		} else if (r.status == CLEAN_NULL)
			t.null++;
		else
			t.invalid++;
	}
	return t;
}

/* How many values of a column f turns into want. */
static size_t
count_out(clean_fn f, const struct clean_opts *o, char **v, size_t n,
    const char *want)
{
	struct clean_result r;
	char out[256];
	size_t i, c = 0;

	for (i = 0; i < n; i++) {
		f(v[i], o, out, sizeof(out), &r);
		if (r.status == CLEAN_VALUE && strcmp(out, want) == 0)
			c++;
	}
	return c;
}

/* ------------------------------------------------------------------ */
/* Setup                                                              */
/* ------------------------------------------------------------------ */

static int
group_setup(void **state)
{
	(void)state;
	clean_opts_init(&opts);
	clean_opts_init(&opts_us);
	opts_us.country = "US";
	clean_date_format_init(&fmt_unknown);
	clean_date_format_init(&fmt_mdy);
	fmt_mdy.order = CLEAN_ORDER_MDY;
	clean_date_format_init(&fmt_dmy);
	fmt_dmy.order = CLEAN_ORDER_DMY;
	clean_date_format_init(&fmt_eps);
	fmt_eps.ints = CLEAN_DATE_INT_EPOCH_S;
	clean_date_format_init(&fmt_epms);
	fmt_epms.ints = CLEAN_DATE_INT_EPOCH_MS;
	clean_date_format_init(&fmt_serial);
	fmt_serial.ints = CLEAN_DATE_INT_SERIAL_1900;
	clean_number_format_init(&nfmt_dot);
	clean_number_format_init(&nfmt_comma);
	nfmt_comma.decimal = ',';
	nfmt_comma.group = '.';
	return 0;
}

/* Loads the ISO 3166 reference (the Debian iso-codes package). */
static void
need_iso_codes(void)
{
	struct cc_diag d;

	if (clean_init(NULL, &d) != CC_OK)
		fail_msg("%s", d.message);
}

static int
group_teardown(void **state)
{
	(void)state;
	clean_free();
	return 0;
}

/* ------------------------------------------------------------------ */
/* Names of issues and rules; options                                 */
/* ------------------------------------------------------------------ */

static int
is_snake(const char *s)
{
	if (*s < 'a' || *s > 'z')
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '_'))
			return 0;
	return 1;
}

static void
test_names_of_codes(void **state)
{
	int i, j;

	(void)state;
	for (i = 0; i < CLEAN_ISSUE__MAX; i++) {
		assert_true(is_snake(clean_issue_name((enum clean_issue)i)));
		for (j = 0; j < i; j++)
			assert_string_not_equal(
			    clean_issue_name((enum clean_issue)i),
			    clean_issue_name((enum clean_issue)j));
	}
	for (i = 0; i < CLEAN_RULE__MAX; i++) {
		assert_true(is_snake(clean_rule_name((enum clean_rule)i)));
		for (j = 0; j < i; j++)
			assert_string_not_equal(
			    clean_rule_name((enum clean_rule)i),
			    clean_rule_name((enum clean_rule)j));
	}
	assert_true(CLEAN_RULE__MAX <= 64);
	assert_string_equal(clean_issue_name(CLEAN_ISSUE_DATE_INVALID),
	    "date_invalid");
	assert_string_equal(clean_issue_name(CLEAN_ISSUE__MAX), "unknown");
	assert_string_equal(clean_rule_name(CLEAN_RULE_DATE_US_MDY),
	    "date_us_mdy");
	assert_string_equal(clean_rule_name((enum clean_rule)-1), "unknown");
	assert_int_equal(opts.minor_digits, 2);
	assert_int_equal(clean_n_null_tokens_default, 10);
}

/* ------------------------------------------------------------------ */
/* Nulls                                                              */
/* ------------------------------------------------------------------ */

static void
test_nulls(void **state)
{
	static const struct tc c[] = {
		N(NULL), N(""), N(" "), N("   "), N("\t \n"),
		N("\xc2\xa0"),			/* NBSP */
		N("\xef\xbb\xbf"),		/* BOM alone */
		N("\xe2\x80\x8b \xe3\x80\x80"),	/* ZWSP, ideographic space */
		N("null"), N("NULL"), N("Null"), N(" none "), N("None"),
		N("nil"), N("(null)"), N("n/a"), N("N/A"), N("#N/A"),
		N("na"), N("NA"), N("nan"), N("NaN"), N("-"), N("?"),
		V("nulls", "nulls"), V("n/ab", "n/ab"), V("--", "--"),
		V("0", "0"), V("false", "false"),
	};
	static const char *const mine[] = { "unknown", "---" };
	struct clean_opts o;
	struct clean_result r;
	char out[32];

	(void)state;
	check_cases("text", clean_text, &opts, c, NELEM(c));
	check_rule("text", clean_text, &opts, "", CLEAN_RULE_NULL_EMPTY);
	check_rule("text", clean_text, &opts, "  ", CLEAN_RULE_NULL_BLANK);
	check_rule("text", clean_text, &opts, "N/A", CLEAN_RULE_NULL_TOKEN);
	check_rule("text", clean_text, &opts, NULL, CLEAN_RULE_NONE);
	/* opt NULL is the defaults. */
	assert_int_equal(clean_text("none", NULL, out, sizeof(out), &r), CC_OK);
	assert_int_equal(r.status, CLEAN_NULL);
	/* A list of one's own: "NA" is a value again. */
	clean_opts_init(&o);
	o.null_tokens = mine;
	o.n_null_tokens = NELEM(mine);
	assert_int_equal(clean_text("NA", &o, out, sizeof(out), &r), CC_OK);
	assert_int_equal(r.status, CLEAN_VALUE);
	assert_string_equal(out, "NA");
	assert_int_equal(clean_text("UNKNOWN", &o, out, sizeof(out), &r),
	    CC_OK);
	assert_int_equal(r.status, CLEAN_NULL);
	/* No tokens at all; blanks stay null. */
	o.n_null_tokens = 0;
	assert_int_equal(clean_text("null", &o, out, sizeof(out), &r), CC_OK);
	assert_int_equal(r.status, CLEAN_VALUE);
	assert_int_equal(clean_text(" ", &o, out, sizeof(out), &r), CC_OK);
	assert_int_equal(r.status, CLEAN_NULL);
	assert_true(clean_is_null(NULL, NULL));
	assert_true(clean_is_null(" n/a ", NULL));
	assert_false(clean_is_null("x", NULL));
	assert_false(clean_is_null("NA", &o));
}

/* ------------------------------------------------------------------ */
/* Text, case, keys                                                   */
/* ------------------------------------------------------------------ */

static void
test_text(void **state)
{
	static const struct tc c[] = {
		V("plain", "plain"),
		V("  padded  ", "padded"),
		V("a  b\t\tc\r\nd", "a b c d"),
		V("tab\there", "tab here"),
		/* NBSP inside */
		V("a\xc2\xa0" "b", "a b"),
		V("ctl\x01\x7f" "x", "ctlx"),			/* C0, DEL */
		/* NEL is space */
		V("c1\xc2\x85" "x", "c1 x"),
		V("zw\xe2\x80\x8bj", "zwj"),			/* ZWSP */
		V("\xef\xbb\xbf" "bom", "bom"),			/* BOM */
		V("Mu\xcc\x88ller", "M\xc3\xbcller"),		/* NFD -> NFC */
		V("M\xc3\xbcller", "M\xc3\xbcller"),		/* NFC stays */
		V("e\xcc\x81t\xc3\xa9", "\xc3\xa9t\xc3\xa9"),
		V("\xe2\x84\xab", "\xc3\x85"),	/* ANGSTROM SIGN -> Å (NFC) */
		V("\xef\xac\x81", "\xef\xac\x81"), /* ﬁ: NFKC only, kept */
		I("bad\xff", CLEAN_ISSUE_TEXT_INVALID_UTF8),
		I("\xc3\x28", CLEAN_ISSUE_TEXT_INVALID_UTF8),	/* bad cont. */
		I("\xc0\xaf", CLEAN_ISSUE_TEXT_INVALID_UTF8),	/* overlong */
		/* surrogate */
		I("\xed\xa0\x80", CLEAN_ISSUE_TEXT_INVALID_UTF8),
		/* >10FFFF */
		I("\xf4\x90\x80\x80", CLEAN_ISSUE_TEXT_INVALID_UTF8),
		/* cut */
		I("abc\xe2\x82", CLEAN_ISSUE_TEXT_INVALID_UTF8),
		N("\x01\x02"),				/* control only */
	};
	struct clean_opts o;
	struct clean_result r;
	char out[64];

	(void)state;
	check_cases("text", clean_text, &opts, c, NELEM(c));
	check_rule("text", clean_text, &opts, "plain", CLEAN_RULE_NONE);
	check_rule("text", clean_text, &opts, " x", CLEAN_RULE_TRIM);
	check_rule("text", clean_text, &opts, "a  b",
	    CLEAN_RULE_COLLAPSE_SPACE);
	check_rule("text", clean_text, &opts, "a\x01" "b",
	    CLEAN_RULE_STRIP_CONTROL);
	check_rule("text", clean_text, &opts, "a\xe2\x80\x8b" "b",
	    CLEAN_RULE_STRIP_INVISIBLE);
	check_rule("text", clean_text, &opts, "Mu\xcc\x88ller",
	    CLEAN_RULE_UNICODE_NFC);
	clean_opts_init(&o);
	o.flags = CLEAN_F_KEEP_NEWLINES;
	assert_int_equal(clean_text(" one \r\n two  \n\nthree ", &o, out,
	    sizeof(out), &r), CC_OK);
	assert_string_equal(out, "one\ntwo\n\nthree");
	/* Too small a buffer. */
	assert_int_equal(clean_text("abcdef", &opts, out, 4, &r), CC_ETOOBIG);
	assert_int_equal(r.status, CLEAN_INVALID);
	assert_int_equal(r.issue, CLEAN_ISSUE_VALUE_TOO_LONG);
	assert_string_equal(out, "");
	assert_int_equal(clean_text("abc", &opts, out, 4, &r), CC_OK);
	assert_string_equal(out, "abc");
	assert_int_equal(clean_text("abc", &opts, NULL, 4, &r), CC_EINVAL);
	assert_int_equal(clean_text("abc", &opts, out, 0, &r), CC_EINVAL);
	assert_int_equal(clean_text("abc", &opts, out, 4, NULL), CC_EINVAL);
}

static void
test_long_text_nfc(void **state)
{
	/* 3000 decomposed "é": past the stack buffer, through utf8proc_map. */
	size_t n = 3000, i;
	char *in = malloc(n * 3 + 1), *out = malloc(n * 2 + 1);
	struct clean_result r;

	(void)state;
	assert_non_null(in);
	assert_non_null(out);
	for (i = 0; i < n; i++)
		memcpy(in + 3 * i, "e\xcc\x81", 3);
	in[3 * n] = '\0';
	assert_int_equal(clean_text(in, &opts, out, n * 2 + 1, &r), CC_OK);
	assert_int_equal(r.len, n * 2);
	for (i = 0; i < n; i++)
		assert_memory_equal(out + 2 * i, "\xc3\xa9", 2);
	assert_true(r.rules & CLEAN_RULE_BIT(CLEAN_RULE_UNICODE_NFC));
	free(in);
	free(out);
}

static void
test_case(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(clean_case("\xc3\x89MILE M\xc3\x9cLLER",
	    CLEAN_CASE_LOWER, out, sizeof(out)), CC_OK);
	assert_string_equal(out, "\xc3\xa9mile m\xc3\xbcller");
	assert_int_equal(clean_case("\xc3\xbf" "vonne \xc3\xa9t\xc3\xa9",
	    CLEAN_CASE_UPPER, out, sizeof(out)), CC_OK);
	/* UnicodeData: ÿ U+00FF -> Ÿ U+0178, é -> É. */
	assert_string_equal(out, "\xc5\xb8" "VONNE \xc3\x89T\xc3\x89");
	assert_int_equal(clean_case("jean-luc PICARD", CLEAN_CASE_TITLE, out,
	    sizeof(out)), CC_OK);
	assert_string_equal(out, "Jean-Luc Picard");
	assert_int_equal(clean_case("\xc7\x86" "emal", CLEAN_CASE_TITLE, out,
	    sizeof(out)), CC_OK);	/* ǆ -> ǅ, the title-case digraph */
	assert_string_equal(out, "\xc7\x85" "emal");
	assert_int_equal(clean_case("bad\xff", CLEAN_CASE_LOWER, out,
	    sizeof(out)), CC_EENCODING);
	assert_int_equal(clean_case("abcdef", CLEAN_CASE_UPPER, out, 4),
	    CC_ETOOBIG);
	assert_int_equal(clean_case(NULL, CLEAN_CASE_UPPER, out, 4), CC_EINVAL);
	assert_int_equal(clean_case("a", (enum clean_case)9, out, 4),
	    CC_EINVAL);
}

static void
test_key(void **state)
{
	static const struct tc c[] = {
		V("AW00011000", "AW00011000"),
		V(" AW00011000 ", "AW00011000"),
		V("\"AW00011000\"", "AW00011000"),
		V("'CO-RF'", "CO-RF"),
		V("\xe2\x80\x9c" "CLI_0280" "\xe2\x80\x9d", "CLI_0280"),
		V("\xef\xbb\xbf" "NASAW00011000", "NASAW00011000"),
		V("AW\xe2\x80\x8b" "000\xe2\x80\x8d" "11000", "AW00011000"),
		V("AB\xc2\xa0" "CD", "AB CD"),
		V("ab\x01" "c", "abc"),
		V("\"unbalanced", "\"unbalanced"),
		V("x\"", "x\""),
		N("\"\""), N("  \"  \"  "), N("null"),
		I("k\xff", CLEAN_ISSUE_TEXT_INVALID_UTF8),
	};
	struct clean_opts o;
	struct clean_result r;
	char out[32];

	(void)state;
	check_cases("key", clean_key, &opts, c, NELEM(c));
	check_rule("key", clean_key, &opts, "\"AW1\"", CLEAN_RULE_STRIP_QUOTES);
	check_rule("key", clean_key, &opts, "AW1", CLEAN_RULE_NONE);
	check_rule("key", clean_key, &opts, "\xef\xbb\xbf" "AW1",
	    CLEAN_RULE_TRIM);
	clean_opts_init(&o);
	o.flags = CLEAN_F_KEY_UPPER;
	assert_int_equal(clean_key("aw-00011000", &o, out, sizeof(out), &r),
	    CC_OK);
	assert_string_equal(out, "AW-00011000");
	assert_int_equal(r.rule, CLEAN_RULE_UPPER_CASE);
	o.flags = CLEAN_F_KEY_LOWER;
	assert_int_equal(clean_key("PROD_076", &o, out, sizeof(out), &r),
	    CC_OK);
	assert_string_equal(out, "prod_076");
	/* "NA" as a key: pass a token list without it. */
	o.null_tokens = clean_null_tokens_default;
	o.n_null_tokens = 0;
	assert_int_equal(clean_key("NA", &o, out, sizeof(out), &r), CC_OK);
	assert_string_equal(out, "na");
}

/* ------------------------------------------------------------------ */
/* Person names                                                       */
/* ------------------------------------------------------------------ */

static void
test_names_seed_forms(void **state)
{
	static const struct tc c[] = {
		/* NexusFlow customer_name / full_name: every value. */
		V("John Smith", "John Smith"),
		V("Charlie Brown", "Charlie Brown"),
		V("frank-miller", "Frank Miller"),
		V("Bob Wilson", "Bob Wilson"),
		V("henry.davis123", "Henry Davis"),
		V("Grace Lee", "Grace Lee"),
		V("jane_doe", "Jane Doe"),
		V("EVE WHITE", "Eve White"),
		V("alice.johnson@email.com", "Alice Johnson"),
		V("diana.prince", "Diana Prince"),
		/* CRM first and last names. */
		V(" Jon", "Jon"), V("Yang ", "Yang"), V("Huang  ", "Huang"),
		V(" Torres", "Torres"),
		V("M\xc3\xbcller", "M\xc3\xbcller"),
		N(""), N(" "), N(NULL),
	};

	(void)state;
	check_cases("name", clean_name, &opts, c, NELEM(c));
	check_rule("name", clean_name, &opts, "jane_doe",
	    CLEAN_RULE_NAME_USERNAME);
	check_rule("name", clean_name, &opts, "henry.davis123",
	    CLEAN_RULE_NAME_STRIP_DIGITS);
	check_has_rule("name", clean_name, &opts, "henry.davis123",
	    CLEAN_RULE_NAME_USERNAME);
	check_rule("name", clean_name, &opts, "alice.johnson@email.com",
	    CLEAN_RULE_NAME_FROM_EMAIL);
	check_rule("name", clean_name, &opts, "EVE WHITE",
	    CLEAN_RULE_TITLE_CASE);
	check_rule("name", clean_name, &opts, " Jon", CLEAN_RULE_TRIM);
	check_rule("name", clean_name, &opts, "Grace Lee", CLEAN_RULE_NONE);
}

static void
test_names_casing(void **state)
{
	static const struct tc c[] = {
		V("MCDONALD", "McDonald"), V("mcdonald", "McDonald"),
		V("McDonald", "McDonald"),		/* mixed: trusted */
		V("MACDONALD", "MacDonald"), V("macleod", "MacLeod"),
		V("MACHADO", "Machado"),		/* Mac + h */
		V("MACK", "Mack"),			/* too short */
		V("MACRON", "Macron"),			/* exception */
		V("MACARTHUR", "MacArthur"),		/* inclusion */
		V("o'brien", "O'Brien"), V("O'BRIEN", "O'Brien"),
		V("d'angelo", "D'Angelo"),
		V("O\xe2\x80\x99NEIL", "O\xe2\x80\x99Neil"),	/* U+2019 */
		V("Smith-Jones", "Smith-Jones"),	/* capitals: kept */
		V("SMITH-JONES", "Smith-Jones"),
		V("mary-kate olsen", "Mary-Kate Olsen"),
		V("ludwig VAN BEETHOVEN", "Ludwig van Beethoven"),
		V("maria de souza", "Maria de Souza"),
		V("JEAN DE LA FONTAINE", "Jean de la Fontaine"),
		V("john le", "John Le"),		/* last: capitalised */
		V("li du", "Li Du"),
		V("van gogh", "Van Gogh"),		/* first: capitalised */
		V("Vincent van Gogh", "Vincent van Gogh"),
		V("JOHN SMITH III", "John Smith III"),
		V("john smith jr.", "John Smith Jr."),
		V("\xc3\x89MILE ZOLA", "\xc3\x89mile Zola"),	/* ÉMILE */
		V("ren\xc3\xa9" " d\xc3\xa9" "sir\xc3\xa9",
		    "Ren\xc3\xa9" " D\xc3\xa9" "sir\xc3\xa9"),
		V("M\xc3\x9cLLER", "M\xc3\xbcller"),		/* MÜLLER */
		V("\xc5\x81UKASZ", "\xc5\x81ukasz"),		/* ŁUKASZ */
		V("j. r. r. tolkien", "J. R. R. Tolkien"),
		V("Smith, John", "John Smith"),
		V("SMITH,JOHN", "John Smith"),
		V("Smith, Jr.", "Smith, Jr."),		/* a suffix: no swap */
		V("eVe wHITE", "eVe wHITE"),		/* mixed: trusted */
		V("Mu\xcc\x88ller", "M\xc3\xbcller"),		/* NFC */
	};

	(void)state;
	check_cases("name", clean_name, &opts, c, NELEM(c));
	check_rule("name", clean_name, &opts, "Smith, John",
	    CLEAN_RULE_NAME_LAST_FIRST);
}

static void
test_name_part(void **state)
{
	static const struct tc c[] = {
		V("VAN DER BERG", "Van der Berg"),
		V("de la cruz", "De la Cruz"),
		V("smith-jones", "Smith-Jones"),	/* a part keeps '-' */
		V("o'neil", "O'Neil"),
		/* '_' is never a name */
		V("mary_ann", "Mary Ann"),
		V("Jon2", "Jon"),
		V("st. john", "St. John"),
		V("smith, john", "Smith, John"),	/* no swap in a part */
		I("42", CLEAN_ISSUE_NAME_INVALID),
		N("  "),
	};

	(void)state;
	check_cases("name_part", clean_name_part, &opts, c, NELEM(c));
}

static void
test_name_garbage(void **state)
{
	static const struct tc c[] = {
		I("@@", CLEAN_ISSUE_NAME_INVALID),
		I("123", CLEAN_ISSUE_NAME_INVALID),
		I("--- ...", CLEAN_ISSUE_NAME_INVALID),
		I("@example.com", CLEAN_ISSUE_NAME_INVALID),
		I("na\xff" "me", CLEAN_ISSUE_TEXT_INVALID_UTF8),
		N("n/a"), N("None"),
	};
	char *big = malloc(5000);
	struct clean_result r;
	char out[64];

	(void)state;
	check_cases("name", clean_name, &opts, c, NELEM(c));
	assert_non_null(big);
	memset(big, 'a', 4999);
	big[4999] = '\0';
	assert_int_equal(clean_name(big, &opts, out, sizeof(out), &r), CC_OK);
	assert_int_equal(r.status, CLEAN_INVALID);
	assert_int_equal(r.issue, CLEAN_ISSUE_NAME_INVALID);
	free(big);
	/* A good name, too small a buffer. */
	assert_int_equal(clean_name("Alexandra", &opts, out, 5, &r),
	    CC_ETOOBIG);
	assert_int_equal(r.issue, CLEAN_ISSUE_VALUE_TOO_LONG);
}

static void
test_name_split_join(void **state)
{
	static const struct {
		const char *in, *first, *last;
	} s[] = {
		{ "John Smith", "John", "Smith" },
		{ "jane_doe", "Jane", "Doe" },
		{ "Ludwig van Beethoven", "Ludwig", "van Beethoven" },
		{ "jean de la fontaine", "Jean", "de la Fontaine" },
		{ "John Smith Jr.", "John", "Smith Jr." },
		{ "Mary Ann Evans", "Mary Ann", "Evans" },
		{ "Smith, John", "John", "Smith" },
		{ "alice.johnson@email.com", "Alice", "Johnson" },
		{ "Cher", "Cher", "" },
	};
	struct clean_result r;
	char first[64], last[64], out[64];
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(s); i++) {
		assert_int_equal(clean_name_split(s[i].in, &opts, first,
		    sizeof(first), last, sizeof(last), &r), CC_OK);
		assert_int_equal(r.status, CLEAN_VALUE);
		assert_string_equal(first, s[i].first);
		assert_string_equal(last, s[i].last);
		assert_int_equal(r.len, strlen(first));
	}
	assert_int_equal(clean_name_split(NULL, &opts, first, sizeof(first),
	    last, sizeof(last), &r), CC_OK);
	assert_int_equal(r.status, CLEAN_NULL);
	assert_string_equal(first, "");
	assert_string_equal(last, "");
	assert_int_equal(clean_name_split("John Smith", &opts, first,
	    sizeof(first), last, 3, &r), CC_ETOOBIG);
	assert_int_equal(clean_name_split("John Smith", &opts, first,
	    sizeof(first), NULL, 3, &r), CC_EINVAL);

	assert_int_equal(clean_name_join(" Jon", "Yang ", &opts, out,
	    sizeof(out), &r), CC_OK);
	assert_string_equal(out, "Jon Yang");
	assert_int_equal(clean_name_join("EUGENE", "HUANG", &opts, out,
	    sizeof(out), &r), CC_OK);
	assert_string_equal(out, "Eugene Huang");
	assert_int_equal(r.rule, CLEAN_RULE_TITLE_CASE);
	assert_int_equal(clean_name_join("Bob", NULL, &opts, out,
	    sizeof(out), &r), CC_OK);
	assert_string_equal(out, "Bob");
	assert_int_equal(clean_name_join("", "M\xc3\xbcller", &opts, out,
	    sizeof(out), &r), CC_OK);
	assert_string_equal(out, "M\xc3\xbcller");
	assert_int_equal(clean_name_join(NULL, " ", &opts, out, sizeof(out),
	    &r), CC_OK);
	assert_int_equal(r.status, CLEAN_NULL);
	assert_int_equal(clean_name_join("123", "Smith", &opts, out,
	    sizeof(out), &r), CC_OK);
	assert_int_equal(r.status, CLEAN_INVALID);
	assert_int_equal(r.issue, CLEAN_ISSUE_NAME_INVALID);
}

/* ------------------------------------------------------------------ */
/* Dates                                                              */
/* ------------------------------------------------------------------ */

static void
test_date_forms(void **state)
{

	(void)state;
	check_cases("date", date_mdy, &opts, clean_cases_date_mdy,
	    NELEM(clean_cases_date_mdy));
	check_rule("date", date_mdy, &opts, "2023-08-26", CLEAN_RULE_NONE);
	check_rule("date", date_mdy, &opts, " 2023-08-26", CLEAN_RULE_TRIM);
	check_rule("date", date_mdy, &opts, "2023-8-6", CLEAN_RULE_DATE_ISO);
	check_rule("date", date_mdy, &opts, "7/24/2023",
	    CLEAN_RULE_DATE_US_MDY);
	check_rule("date", date_mdy, &opts, "20101229",
	    CLEAN_RULE_DATE_YYYYMMDD);
	check_rule("date", date_mdy, &opts, "12 Jan 2023",
	    CLEAN_RULE_DATE_MONTH_NAME);
	check_has_rule("date", date_mdy, &opts, "12-JAN-23",
	    CLEAN_RULE_DATE_TWO_DIGIT_YEAR);
	check_rule("date", date_mdy, &opts, "2023-06-01T00:39:00.000Z",
	    CLEAN_RULE_DATE_FROM_TIMESTAMP);
	check_rule("date", date_dmy, &opts, "24.07.2023",
	    CLEAN_RULE_DATE_EU_DMY);
}

static void
test_date_dmy(void **state)
{

	(void)state;
	check_cases("date", date_dmy, &opts, clean_cases_date_dmy,
	    NELEM(clean_cases_date_dmy));
}

static void
test_date_garbage(void **state)
{
	struct clean_result r;
	char *big = malloc(1 << 20), out[CLEAN_DATE_SIZE];
	size_t i;

	(void)state;
	check_cases("date", date_mdy, &opts, clean_cases_date_garbage,
	    NELEM(clean_cases_date_garbage));
	/* Without an order, numeric day/month dates are not guessed. */
	assert_int_equal(date_unknown("3/4/2023", &opts, out, sizeof(out), &r),
	    CC_OK);
	assert_int_equal(r.issue, CLEAN_ISSUE_DATE_ORDER_UNKNOWN);
	assert_int_equal(date_unknown("7/24/2023", &opts, out, sizeof(out), &r),
	    CC_OK);
	assert_int_equal(r.issue, CLEAN_ISSUE_DATE_ORDER_UNKNOWN);
	assert_int_equal(clean_date("2023-08-26", NULL, NULL, out, sizeof(out),
	    &r), CC_OK);
	assert_string_equal(out, "2023-08-26");
	assert_int_equal(clean_date("3/4/2023", NULL, NULL, out, sizeof(out),
	    &r), CC_OK);
	assert_int_equal(r.issue, CLEAN_ISSUE_DATE_ORDER_UNKNOWN);
	/* A megabyte of digits, of letters. */
	assert_non_null(big);
	for (i = 0; i < 2; i++) {
		memset(big, i ? 'a' : '7', (1 << 20) - 1);
		big[(1 << 20) - 1] = '\0';
		assert_int_equal(date_mdy(big, &opts, out, sizeof(out), &r),
		    CC_OK);
		assert_int_equal(r.issue, CLEAN_ISSUE_DATE_INVALID);
	}
	free(big);
	/* Buffers. */
	assert_int_equal(date_mdy("2023-08-26", &opts, out, 10, &r),
	    CC_ETOOBIG);
	assert_int_equal(r.issue, CLEAN_ISSUE_VALUE_TOO_LONG);
	assert_string_equal(out, "");
	assert_int_equal(clean_date("2023-08-26", &fmt_mdy, &opts, NULL, 0,
	    &r), CC_EINVAL);
	fmt_unknown.pivot = 101;
	assert_int_equal(date_unknown("2023-08-26", &opts, out, sizeof(out),
	    &r), CC_EINVAL);
	fmt_unknown.pivot = 69;
}

static void
test_timestamps(void **state)
{
	struct clean_result r;
	char out[CLEAN_TIMESTAMP_SIZE];

	(void)state;
	check_cases("timestamp", ts_mdy, &opts, clean_cases_timestamp_mdy,
	    NELEM(clean_cases_timestamp_mdy));
	check_rule("ts", ts_mdy, &opts, "2023-08-15T14:30:00Z",
	    CLEAN_RULE_NONE);
	check_rule("ts", ts_mdy, &opts, "2023-06-01T00:39:00.000Z",
	    CLEAN_RULE_TS_REFORMAT);
	check_rule("ts", ts_mdy, &opts, "2023-08-15 14:30:00",
	    CLEAN_RULE_TS_ASSUME_UTC);
	check_rule("ts", ts_mdy, &opts, "2023-06-01T01:15:00+02:00",
	    CLEAN_RULE_TS_ZONE_TO_UTC);
	check_rule("ts", ts_mdy, &opts, "2023-08-26",
	    CLEAN_RULE_TS_FROM_DATE);
	check_rule("ts", ts_mdy, &opts, "2023-08-15T14:30:00.5Z",
	    CLEAN_RULE_TS_TRUNCATE_FRACTION);
	assert_int_equal(ts_mdy("2023-08-15T14:30:00Z", &opts, out, 20, &r),
	    CC_ETOOBIG);
}

static void
test_epoch_serial(void **state)
{
	static const struct tc eps[] = {
		V("1700000000", "2023-11-14T22:13:20Z"),
		V("0", "1970-01-01T00:00:00Z"),
		V("-1", "1969-12-31T23:59:59Z"),
		V("1700000000.75", "2023-11-14T22:13:20Z"),
		/* still a date */
		V("2023-08-26", "2023-08-26T00:00:00Z"),
		/* year > 9999 */
		I("99999999999999", CLEAN_ISSUE_DATE_INVALID),
		I("17e8", CLEAN_ISSUE_DATE_INVALID),
	};
	static const struct tc epms[] = {
		V("1690000000123", "2023-07-22T04:26:40Z"),
		V("1690000000000", "2023-07-22T04:26:40Z"),
		V("-1", "1969-12-31T23:59:59Z"),
	};
	static const struct tc ser[] = {
		V("45000", "2023-03-15T00:00:00Z"),
		V("45000.5", "2023-03-15T12:00:00Z"),
		V("45000.25", "2023-03-15T06:00:00Z"),
		V("1", "1900-01-01T00:00:00Z"),
		V("59", "1900-02-28T00:00:00Z"),
		V("61", "1900-03-01T00:00:00Z"),
		V("2958465", "9999-12-31T00:00:00Z"),
		I("60", CLEAN_ISSUE_DATE_IMPOSSIBLE),	/* Lotus 1900-02-29 */
		I("0", CLEAN_ISSUE_DATE_INVALID),
		I("-5", CLEAN_ISSUE_DATE_INVALID),
		I("2958466", CLEAN_ISSUE_DATE_INVALID),
	};
	static const struct tc serd[] = {
		V("45000", "2023-03-15"),
		V("45000.99", "2023-03-15"),
		V("32154", "1988-01-12"),
	};

	(void)state;
	check_cases("ts_epoch_s", ts_eps, &opts, eps, NELEM(eps));
	check_cases("ts_epoch_ms", ts_epms, &opts, epms, NELEM(epms));
	check_cases("ts_serial", ts_serial, &opts, ser, NELEM(ser));
	check_cases("date_serial", date_serial, &opts, serd, NELEM(serd));
	check_has_rule("ts", ts_eps, &opts, "1700000000",
	    CLEAN_RULE_DATE_EPOCH);
	check_has_rule("ts", ts_epms, &opts, "1690000000123",
	    CLEAN_RULE_TS_TRUNCATE_FRACTION);
	check_rule("date", date_serial, &opts, "45000",
	    CLEAN_RULE_DATE_SERIAL);
}

static void
test_date_infer_synthetic(void **state)
{
	static const char *const dmy[] = {
		"3/4/2023", "24/7/2023", "1/2/2023", NULL, "", "13.1.2023",
	};
	static const char *const mdy[] = {
		"3/4/2023", "7/24/2023", "1/2/2023",
	};
	static const char *const amb[] = { "3/4/2023", "1/2/2023", "5/6/23" };
	static const char *const iso[] = { "2023-01-01", "20230102", "abc" };
	static const char *const both[] = {
		"24/7/2023", "7/25/2023", "7/26/2023", "7/27/2023",
	};
	static const char *const west[] = {
		"2023-03-01T05:00:00Z", "2023-03-02T05:00:00Z",
		"2023-03-03T05:00:00Z", "2023-03-04T05:00:00.000Z",
		"2023-03-05T05:00:00Z", "2023-03-06T05:00:00Z",
	};
	static const char *const few[] = {
		"2023-03-01T18:30:00Z", "2023-03-02T18:30:00Z",
		"2023-03-03T18:30:00Z", "2023-03-04T18:30:00Z",
	};
	static const char *const midnight[] = {
		"2023-03-01T00:00:00Z", "2023-03-02T00:00:00Z",
		"2023-03-03T00:00:00Z", "2023-03-04T00:00:00Z",
		"2023-03-05T00:00:00Z",
	};
	static const char *const mixed[] = {
		"2023-03-01T18:30:00Z", "2023-03-02T18:30:00Z",
		"2023-03-03T18:30:00Z", "2023-03-04T18:30:00Z",
		"2023-03-05T18:30:00Z", "2023-03-06T11:00:00Z",
	};
	/* 18:31 is no zone's midnight */
	static const char *const odd[] = {
		"2023-03-01T18:31:00Z", "2023-03-02T18:31:00Z",
		"2023-03-03T18:31:00Z", "2023-03-04T18:31:00Z",
		"2023-03-05T18:31:00Z",
	};
	struct clean_date_format f;
	struct clean_result r;
	char out[CLEAN_DATE_SIZE];

	(void)state;
	clean_date_format_init(&f);
	assert_int_equal(clean_date_infer(dmy, NELEM(dmy), &f), CC_OK);
	assert_int_equal(f.order, CLEAN_ORDER_DMY);
	assert_int_equal(f.n_dmy, 2);
	assert_int_equal(f.n_mdy, 0);
	assert_int_equal(f.n_ambiguous, 2);
	assert_int_equal(f.n_null, 2);
	assert_int_equal(f.n_values, 6);
	assert_true(f.confidence > 0.74 && f.confidence < 0.76); /* 3/4 */
	assert_non_null(strstr(f.evidence, "24/7/2023"));
	assert_int_equal(clean_date("3/4/2023", &f, &opts, out, sizeof(out),
	    &r), CC_OK);
	assert_string_equal(out, "2023-04-03");

	assert_int_equal(clean_date_infer(mdy, NELEM(mdy), &f), CC_OK);
	assert_int_equal(f.order, CLEAN_ORDER_MDY);
	assert_true(f.confidence > 0.66 && f.confidence < 0.67); /* 2/3 */
	assert_int_equal(clean_date("3/4/2023", &f, &opts, out, sizeof(out),
	    &r), CC_OK);
	assert_string_equal(out, "2023-03-04");

	assert_int_equal(clean_date_infer(amb, NELEM(amb), &f), CC_OK);
	assert_int_equal(f.order, CLEAN_ORDER_MDY);	/* documented default */
	assert_true(f.confidence == 0.5);
	assert_int_equal(f.n_ambiguous, 3);

	assert_int_equal(clean_date_infer(iso, NELEM(iso), &f), CC_OK);
	assert_int_equal(f.order, CLEAN_ORDER_UNKNOWN);
	assert_true(f.confidence == 0);
	assert_int_equal(f.n_invalid, 1);
	assert_int_equal(f.forms, CLEAN_DATE_FORM_ISO |
	    CLEAN_DATE_FORM_YYYYMMDD);

	/* Proofs both ways: the majority wins; the others conflict. */
	assert_int_equal(clean_date_infer(both, NELEM(both), &f), CC_OK);
	assert_int_equal(f.order, CLEAN_ORDER_MDY);
	assert_int_equal(f.n_dmy, 1);
	assert_int_equal(f.n_mdy, 3);
	assert_true(f.confidence > 0.66 && f.confidence < 0.67); /* 4/6 */
	assert_int_equal(clean_date("24/7/2023", &f, &opts, out, sizeof(out),
	    &r), CC_OK);
	assert_int_equal(r.issue, CLEAN_ISSUE_DATE_ORDER_CONFLICT);

	/* UTC-05:00 midnights. */
	assert_int_equal(clean_date_infer(west, NELEM(west), &f), CC_OK);
	assert_true(f.has_local_offset);
	assert_int_equal(f.local_offset, -300);
	assert_int_equal(f.n_zoned, 6);
	assert_int_equal(clean_date("2023-03-01T05:00:00Z", &f, &opts, out,
	    sizeof(out), &r), CC_OK);
	assert_string_equal(out, "2023-03-01");
	assert_int_equal(clean_date("2023-03-01T04:00:00Z", &f, &opts, out,
	    sizeof(out), &r), CC_OK);
	assert_string_equal(out, "2023-02-28");
	/* Not enough, midnight UTC, not nearly all, no zone's midnight. */
	assert_int_equal(clean_date_infer(few, NELEM(few), &f), CC_OK);
	assert_false(f.has_local_offset);
	assert_int_equal(clean_date_infer(midnight, NELEM(midnight), &f),
	    CC_OK);
	assert_false(f.has_local_offset);
	assert_int_equal(clean_date_infer(mixed, NELEM(mixed), &f), CC_OK);
	assert_false(f.has_local_offset);
	assert_int_equal(clean_date_infer(odd, NELEM(odd), &f), CC_OK);
	assert_false(f.has_local_offset);
	/* The caller's ints and pivot survive inference. */
	clean_date_format_init(&f);
	f.ints = CLEAN_DATE_INT_EPOCH_S;
	f.pivot = 30;
	assert_int_equal(clean_date_infer(amb, NELEM(amb), &f), CC_OK);
	assert_int_equal(f.ints, CLEAN_DATE_INT_EPOCH_S);
	assert_int_equal(f.pivot, 30);
	assert_int_equal(clean_date_infer(NULL, 0, &f), CC_OK);
	assert_int_equal(clean_date_infer(NULL, 3, &f), CC_EINVAL);
	assert_int_equal(clean_date_infer(amb, 3, NULL), CC_EINVAL);
}

/* The brief's acceptance test: NexusFlow order_date is month-first. */
static void
test_date_infer_seed_order_date(void **state)
{
	struct clean_date_format f;
	struct tally t;
	char **v;
	size_t n;

	(void)state;
	n = csv_column("nexusflow/orders_unstructured_data.csv", "order_date",
	    &v);
	assert_int_equal(n, 1000);
	clean_date_format_init(&f);
	assert_int_equal(clean_date_infer((const char *const *)v, n, &f),
	    CC_OK);
	/* Python: 542 M/D/Y values, 310 with a second field > 12, none
	 * with a first field > 12; 372 ISO; 86 empty. */
	assert_int_equal(f.order, CLEAN_ORDER_MDY);
	assert_int_equal(f.n_mdy, 310);
	assert_int_equal(f.n_dmy, 0);
	assert_int_equal(f.n_ambiguous, 232);
	assert_int_equal(f.n_null, 86);
	assert_int_equal(f.n_invalid, 0);
	assert_true(f.confidence > 0.996);		/* 311/312 */
	assert_int_equal(f.forms, CLEAN_DATE_FORM_ISO |
	    CLEAN_DATE_FORM_NUMERIC);
	assert_false(f.has_local_offset);
	assert_non_null(strstr(f.evidence, "MDY"));
	t = run_column(date_mdy, &opts, v, n);
	assert_int_equal(t.value, 914);
	assert_int_equal(t.null, 86);
	assert_int_equal(t.invalid, 0);
	free_column(v, n);

	/* The same in the re-upload and in reconciliation_challenge_data. */
	n = csv_column("nexusflow/reconciliation_challenge_data.csv",
	    "transaction_date", &v);
	assert_int_equal(clean_date_infer((const char *const *)v, n, &f),
	    CC_OK);
	assert_int_equal(f.order, CLEAN_ORDER_MDY);
	assert_int_equal(f.n_mdy, 164);
	assert_int_equal(f.n_ambiguous, 136);
	free_column(v, n);

	/* order_datetime: varied times of day, no offset to learn. */
	n = csv_column("nexusflow/orders_unstructured_data.csv",
	    "order_datetime", &v);
	assert_int_equal(clean_date_infer((const char *const *)v, n, &f),
	    CC_OK);
	assert_false(f.has_local_offset);
	assert_int_equal(f.n_zoned, 795);
	assert_int_equal(f.forms, CLEAN_DATE_FORM_ISO |
	    CLEAN_DATE_FORM_TIMESTAMP);
	free_column(v, n);

	/* JSON customers' registration_date: ISO and M/D/Y mixed. */
	n = json_column("nexusflow/customers_messy_data.json",
	    "registration_date", &v);
	assert_int_equal(clean_date_infer((const char *const *)v, n, &f),
	    CC_OK);
	assert_int_equal(f.order, CLEAN_ORDER_MDY);
	assert_int_equal(f.n_mdy, 106);
	assert_int_equal(f.n_ambiguous, 96);
	assert_int_equal(f.n_null, 88);
	t = run_column(date_mdy, &opts, v, n);
	assert_int_equal(t.value, 412);
	assert_int_equal(t.invalid, 0);
	free_column(v, n);
}

/* The brief's second acceptance test: +05:30 midnights stored as UTC. */
static void
test_date_infer_seed_offset(void **state)
{
	static const struct {
		const char *in, *date;
	} s[] = {	/* local dates worked out with Python's datetime */
		{ "2023-12-26T18:30:00.000Z", "2023-12-27" },
		{ "2023-06-30T18:30:00.000Z", "2023-07-01" },
		{ "2023-02-28T18:30:00.000Z", "2023-03-01" },
		{ "2022-12-31T18:30:00.000Z", "2023-01-01" },
		{ "2023-06-01T18:29:00.000Z", "2023-06-01" },
		{ "2023-06-01", "2023-06-01" },		/* a date stays */
		{ "2023-06-01T18:30:00", "2023-06-01" },	/* no zone */
	};
	struct clean_date_format f;
	struct clean_result r;
	char out[CLEAN_TIMESTAMP_SIZE], **v;
	size_t n, i;

	(void)state;
	n = csv_column("nexusflow/reconciliation_challenge_data.csv",
	    "last_modified_timestamp", &v);
	assert_int_equal(n, 300);
	clean_date_format_init(&f);
	assert_int_equal(clean_date_infer((const char *const *)v, n, &f),
	    CC_OK);
	/* Python: all 300 values end in T18:30:00.000Z. */
	assert_true(f.has_local_offset);
	assert_int_equal(f.local_offset, 330);
	assert_int_equal(f.n_zoned, 300);
	assert_true(f.offset_share == 1.0);
	assert_non_null(strstr(f.evidence, "UTC+05:30"));
	for (i = 0; i < NELEM(s); i++) {
		assert_int_equal(clean_date(s[i].in, &f, &opts, out,
		    sizeof(out), &r), CC_OK);
		assert_string_equal(out, s[i].date);
	}
	assert_int_equal(clean_date(s[0].in, &f, &opts, out, sizeof(out), &r),
	    CC_OK);
	assert_int_equal(r.rule, CLEAN_RULE_DATE_LOCAL_OFFSET);
	/* As a timestamp the instant is kept as stored. */
	assert_int_equal(clean_timestamp(s[0].in, &f, &opts, out, sizeof(out),
	    &r), CC_OK);
	assert_string_equal(out, "2023-12-26T18:30:00Z");
	/* Every value of the column becomes its next calendar day. */
	for (i = 0; i < n; i++) {
		char want[CLEAN_DATE_SIZE];
		struct tm tm;
		time_t t;

		memset(&tm, 0, sizeof(tm));
		assert_int_equal(sscanf(v[i], "%4d-%2d-%2d", &tm.tm_year,
		    &tm.tm_mon, &tm.tm_mday), 3);
		tm.tm_year -= 1900;
		tm.tm_mon -= 1;
		tm.tm_mday += 1;
		tm.tm_hour = 12;
		t = timegm(&tm);
		strftime(want, sizeof(want), "%Y-%m-%d", gmtime(&t));
		assert_int_equal(clean_date(v[i], &f, &opts, out, sizeof(out),
		    &r), CC_OK);
		assert_string_equal(out, want);
	}
	free_column(v, n);

	/* The products' last_updated (JSON) has the same pattern. */
	n = json_column("nexusflow/products_inconsistent_data.json",
	    "last_updated", &v);
	assert_int_equal(clean_date_infer((const char *const *)v, n, &f),
	    CC_OK);
	assert_true(f.has_local_offset);
	assert_int_equal(f.local_offset, 330);
	assert_int_equal(f.n_zoned, 183);
	assert_int_equal(f.n_null, 17);
	free_column(v, n);
}

static void
test_date_seed_columns(void **state)
{
	enum clean_issue is;
	struct clean_result r;
	char out[CLEAN_DATE_SIZE], end[CLEAN_DATE_SIZE], **v, **w;
	size_t n, m, i, future = 0, before = 0;
	struct tally t;

	(void)state;
	/* CRM sales order dates: 19 integers are no dates (Python). */
	n = csv_column("crm-erp/source_crm/sales_details.csv", "sls_order_dt",
	    &v);
	assert_int_equal(n, 60398);
	t = run_column(date_mdy, &opts, v, n);
	assert_int_equal(t.invalid, 19);
	assert_int_equal(t.value, 60379);
	free_column(v, n);

	/* ERP birth dates in the future of 2026-02-01 (Python: 16). */
	n = csv_column("crm-erp/source_erp/CST_AZ12.csv", "BDATE", &v);
	for (i = 0; i < n; i++) {
		assert_int_equal(date_mdy(v[i], &opts, out, sizeof(out), &r),
		    CC_OK);
		assert_int_equal(r.status, CLEAN_VALUE);
		assert_int_equal(clean_date_check_range(out, "1900-01-01",
		    NULL, "2026-02-01", &is), CC_OK);
		future += is == CLEAN_ISSUE_DATE_IN_FUTURE;
		assert_true(is != CLEAN_ISSUE_DATE_OUT_OF_RANGE);
	}
	assert_int_equal(future, 16);
	free_column(v, n);

	/* CRM products: 200 rows end before they start (Python). */
	n = csv_column("crm-erp/source_crm/prd_info.csv", "prd_start_dt", &v);
	m = csv_column("crm-erp/source_crm/prd_info.csv", "prd_end_dt", &w);
	assert_int_equal(n, m);
	for (i = 0; i < n; i++) {
		char start[CLEAN_DATE_SIZE];
		struct clean_result r2;

		date_mdy(v[i], &opts, start, sizeof(start), &r);
		date_mdy(w[i], &opts, end, sizeof(end), &r2);
		assert_int_equal(clean_date_check_order(
		    r.status == CLEAN_VALUE ? start : NULL,
		    r2.status == CLEAN_VALUE ? end : NULL, &is), CC_OK);
		before += is == CLEAN_ISSUE_DATE_END_BEFORE_START;
	}
	assert_int_equal(before, 200);
	free_column(v, n);
	free_column(w, m);

	/* CRM customer creation dates: ISO, 4 blank. */
	n = csv_column("crm-erp/source_crm/cst_info.csv", "cst_create_date",
	    &v);
	t = run_column(date_mdy, &opts, v, n);
	assert_int_equal(t.null, 4);
	assert_int_equal(t.value, n - 4);
	free_column(v, n);
}

static void
test_date_checks(void **state)
{
	enum clean_issue is;

	(void)state;
	assert_int_equal(clean_date_check_range("2050-05-21", "1900-01-01",
	    NULL, "2026-02-01", &is), CC_OK);
	assert_int_equal(is, CLEAN_ISSUE_DATE_IN_FUTURE);
	assert_int_equal(clean_date_check_range("1850-05-21", "1900-01-01",
	    NULL, "2026-02-01", &is), CC_OK);
	assert_int_equal(is, CLEAN_ISSUE_DATE_OUT_OF_RANGE);
	assert_int_equal(clean_date_check_range("2025-05-21", "1900-01-01",
	    "2024-12-31", NULL, &is), CC_OK);
	assert_int_equal(is, CLEAN_ISSUE_DATE_OUT_OF_RANGE);
	assert_int_equal(clean_date_check_range("2026-02-01", NULL, NULL,
	    "2026-02-01", &is), CC_OK);
	/* today is not future */
	assert_int_equal(is, CLEAN_ISSUE_NONE);
	assert_int_equal(clean_date_check_range("2026-02-01T23:00:00Z", NULL,
	    NULL, "2026-02-01", &is), CC_OK);
	assert_int_equal(is, CLEAN_ISSUE_NONE);		/* same date */
	assert_int_equal(clean_date_check_range("2026-02-02T00:00:00Z", NULL,
	    NULL, "2026-02-01", &is), CC_OK);
	assert_int_equal(is, CLEAN_ISSUE_DATE_IN_FUTURE);
	assert_int_equal(clean_date_check_range("2026-02-01T10:00:00Z",
	    "2026-02-01T11:00:00Z", NULL, NULL, &is), CC_OK);
	assert_int_equal(is, CLEAN_ISSUE_DATE_OUT_OF_RANGE);
	assert_int_equal(clean_date_check_range(NULL, "x", "y", "z", &is),
	    CC_OK);
	assert_int_equal(is, CLEAN_ISSUE_NONE);
	assert_int_equal(clean_date_check_range("7/24/2023", NULL, NULL, NULL,
	    &is), CC_EINVAL);
	assert_int_equal(clean_date_check_range("2023-07-24", "garbage", NULL,
	    NULL, &is), CC_EINVAL);
	assert_int_equal(clean_date_check_range("2023-07-24", NULL, NULL,
	    NULL, NULL), CC_EINVAL);

	assert_int_equal(clean_date_check_order("2011-07-01", "2007-12-28",
	    &is), CC_OK);
	assert_int_equal(is, CLEAN_ISSUE_DATE_END_BEFORE_START);
	assert_int_equal(clean_date_check_order("2011-07-01", "2011-07-01",
	    &is), CC_OK);
	assert_int_equal(is, CLEAN_ISSUE_NONE);
	assert_int_equal(clean_date_check_order("2011-07-01", NULL, &is),
	    CC_OK);
	assert_int_equal(is, CLEAN_ISSUE_NONE);
	assert_int_equal(clean_date_check_order("2023-06-01T10:00:00Z",
	    "2023-06-01T09:59:59Z", &is), CC_OK);
	assert_int_equal(is, CLEAN_ISSUE_DATE_END_BEFORE_START);
	assert_int_equal(clean_date_check_order("2023-06-01", "bad", &is),
	    CC_EINVAL);
}

/* ------------------------------------------------------------------ */
/* Numbers and money                                                  */
/* ------------------------------------------------------------------ */

static void
test_numbers(void **state)
{
	struct clean_result r;
	struct clean_opts o;
	char out[256], *big;

	(void)state;
	check_cases("number", num_dot, &opts, clean_cases_number_dot,
	    NELEM(clean_cases_number_dot));
	check_cases("number", num_comma, &opts, clean_cases_number_comma,
	    NELEM(clean_cases_number_comma));
	/* fmt NULL is '.' */
	assert_int_equal(clean_number("1,234.5", NULL, NULL, out, sizeof(out),
	    &r), CC_OK);
	assert_string_equal(out, "1234.5");
	/* Typed accessors. */
	assert_int_equal(num_dot("1,234", &opts, out, sizeof(out), &r), CC_OK);
	assert_true(r.has_i64);
	assert_true(r.i64 == 1234);
	assert_true(r.f64 == 1234.0);
	assert_int_equal(num_dot("-381.29", &opts, out, sizeof(out), &r),
	    CC_OK);
	assert_false(r.has_i64);
	assert_true(r.f64 == -381.29);
	assert_int_equal(num_dot("9223372036854775807", &opts, out,
	    sizeof(out), &r), CC_OK);
	assert_true(r.has_i64 && r.i64 == INT64_MAX);
	assert_int_equal(num_dot("-9223372036854775808", &opts, out,
	    sizeof(out), &r), CC_OK);
	assert_true(r.has_i64 && r.i64 == INT64_MIN);
	assert_int_equal(num_dot("9223372036854775808", &opts, out,
	    sizeof(out), &r), CC_OK);
	assert_string_equal(out, "9223372036854775808");
	assert_false(r.has_i64);
	assert_int_equal(num_dot("$5", &opts, out, sizeof(out), &r), CC_OK);
	assert_string_equal(r.currency, "USD");
	assert_int_equal(num_dot("12 eur", &opts, out, sizeof(out), &r), CC_OK);
	assert_string_equal(r.currency, "EUR");
	assert_int_equal(num_dot("12", &opts, out, sizeof(out), &r), CC_OK);
	assert_string_equal(r.currency, "");
	/* Percent as a fraction, exactly in text. */
	clean_opts_init(&o);
	o.flags = CLEAN_F_PERCENT_FRACTION;
	assert_int_equal(num_dot("12.5%", &o, out, sizeof(out), &r), CC_OK);
	assert_string_equal(out, "0.125");
	assert_int_equal(num_dot("5%", &o, out, sizeof(out), &r), CC_OK);
	assert_string_equal(out, "0.05");
	assert_int_equal(num_dot("250%", &o, out, sizeof(out), &r), CC_OK);
	assert_string_equal(out, "2.5");
	assert_int_equal(num_dot("12.5", &o, out, sizeof(out), &r), CC_OK);
	assert_string_equal(out, "12.5");
	/* Rules. */
	check_rule("number", num_dot, &opts, "381.29", CLEAN_RULE_NONE);
	check_rule("number", num_dot, &opts, "007", CLEAN_RULE_NUM_CANONICAL);
	check_rule("number", num_dot, &opts, "1,234", CLEAN_RULE_NUM_THOUSANDS);
	check_rule("number", num_dot, &opts, "$5", CLEAN_RULE_NUM_CURRENCY);
	check_rule("number", num_dot, &opts, "(5)",
	    CLEAN_RULE_NUM_PARENS_NEGATIVE);
	check_rule("number", num_dot, &opts, "+5", CLEAN_RULE_NUM_PLUS_SIGN);
	check_rule("number", num_dot, &opts, "5%", CLEAN_RULE_NUM_PERCENT);
	check_rule("number", num_dot, &opts, "5e2", CLEAN_RULE_NUM_EXPONENT);
	check_rule("number", num_comma, &opts, "0,5",
	    CLEAN_RULE_NUM_DECIMAL_COMMA);
	/* 100 digits; a megabyte. */
	big = malloc(1 << 20);
	assert_non_null(big);
	memset(big, '9', 100);
	big[100] = '\0';
	assert_int_equal(num_dot(big, &opts, out, sizeof(out), &r), CC_OK);
	assert_int_equal(r.issue, CLEAN_ISSUE_NUMBER_OUT_OF_RANGE);
	memset(big, '1', (1 << 20) - 1);
	big[(1 << 20) - 1] = '\0';
	assert_int_equal(num_dot(big, &opts, out, sizeof(out), &r), CC_OK);
	assert_int_equal(r.status, CLEAN_INVALID);
	free(big);
	assert_int_equal(num_dot("123456", &opts, out, 4, &r), CC_ETOOBIG);
	nfmt_dot.decimal = 'x';
	assert_int_equal(num_dot("1", &opts, out, sizeof(out), &r), CC_EINVAL);
	nfmt_dot.decimal = '.';
}

static void
test_money(void **state)
{
	struct clean_result r;
	struct clean_opts o;
	char out[64];

	(void)state;
	check_cases("money", money_dot, &opts, clean_cases_money_dot,
	    NELEM(clean_cases_money_dot));
	check_cases("money", money_comma, &opts, clean_cases_money_comma,
	    NELEM(clean_cases_money_comma));
	assert_int_equal(money_dot("-3578", &opts, out, sizeof(out), &r),
	    CC_OK);
	assert_true(r.has_i64 && r.i64 == -357800);
	assert_int_equal(money_dot("92233720368547758.07", &opts, out,
	    sizeof(out), &r), CC_OK);
	assert_true(r.i64 == INT64_MAX);
	check_rule("money", money_dot, &opts, "774.00", CLEAN_RULE_NONE);
	check_rule("money", money_dot, &opts, "10.5", CLEAN_RULE_MONEY_SCALE);
	check_rule("money", money_dot, &opts, "1.005", CLEAN_RULE_MONEY_ROUND);
	check_has_rule("money", money_dot, &opts, "$1,234.5",
	    CLEAN_RULE_NUM_CURRENCY);
	clean_opts_init(&o);
	o.minor_digits = 0;		/* JPY */
	assert_int_equal(money_dot("\xc2\xa5" "1,234", &o, out, sizeof(out),
	    &r), CC_OK);
	assert_string_equal(out, "1234");
	assert_string_equal(r.currency, "JPY");
	assert_int_equal(money_dot("2.5", &o, out, sizeof(out), &r), CC_OK);
	assert_string_equal(out, "3");
	assert_int_equal(money_dot("-2.5", &o, out, sizeof(out), &r), CC_OK);
	assert_string_equal(out, "-3");
	o.minor_digits = 3;		/* KWD, BHD */
	assert_int_equal(money_dot("1.5", &o, out, sizeof(out), &r), CC_OK);
	assert_string_equal(out, "1.500");
	assert_true(r.i64 == 1500);
	o.minor_digits = 19;
	assert_int_equal(money_dot("1.5", &o, out, sizeof(out), &r),
	    CC_EINVAL);
	/* kept to four decimals, written with at least two: sub-cent
	 * prices keep their value, more digits are rounded and say so */
	clean_opts_init(&o);
	o.unit_digits = 4;
	assert_int_equal(money_dot("0.001", &o, out, sizeof(out), &r), CC_OK);
	assert_string_equal(out, "0.001");
	assert_true(r.i64 == 10);
	assert_false(r.rules & CLEAN_RULE_BIT(CLEAN_RULE_MONEY_ROUND));
	assert_int_equal(money_dot("2.55", &o, out, sizeof(out), &r), CC_OK);
	assert_string_equal(out, "2.55");
	assert_true(r.i64 == 25500);
	assert_int_equal(r.rules, 0);
	assert_int_equal(money_dot("-1.2345", &o, out, sizeof(out), &r),
	    CC_OK);
	assert_string_equal(out, "-1.2345");
	assert_true(r.i64 == -12345);
	check_rule("money", money_dot, &o, "10.5", CLEAN_RULE_MONEY_SCALE);
	check_rule("money", money_dot, &o, "10.5000", CLEAN_RULE_MONEY_SCALE);
	check_rule("money", money_dot, &o, "1.00005", CLEAN_RULE_MONEY_ROUND);
	assert_int_equal(money_dot("1.00005", &o, out, sizeof(out), &r),
	    CC_OK);
	assert_string_equal(out, "1.0001");
	assert_true(r.i64 == 10001);
	assert_int_equal(money_dot("922337203685477.5807", &o, out,
	    sizeof(out), &r), CC_OK);
	assert_true(r.i64 == INT64_MAX);
	assert_int_equal(money_dot("922337203685477.5808", &o, out,
	    sizeof(out), &r), CC_OK);
	assert_int_equal(r.issue, CLEAN_ISSUE_NUMBER_OUT_OF_RANGE);
	o.unit_digits = 19;
	assert_int_equal(money_dot("1.5", &o, out, sizeof(out), &r),
	    CC_EINVAL);
}

static void
test_number_seed_columns(void **state)
{
	struct clean_number_format f;
	struct clean_result r;
	char out[64], **v;
	size_t n, i, neg = 0, zero = 0;
	struct tally t;

	(void)state;
	/* NexusFlow unit prices: '.' decimals (Python: 1000 values,
	 * every one with two decimals). */
	n = csv_column("nexusflow/orders_unstructured_data.csv", "unit_price",
	    &v);
	clean_number_format_init(&f);
	assert_int_equal(clean_number_infer((const char *const *)v, n, &f),
	    CC_OK);
	assert_int_equal(f.decimal, '.');
	assert_int_equal(f.n_dot, 1000);
	assert_int_equal(f.n_comma, 0);
	assert_true(f.confidence > 0.998);
	t = run_column(money_dot, &opts, v, n);
	assert_int_equal(t.value, 1000);
	free_column(v, n);

	/* CRM sales: 8 missing, 2 zero, 3 negative (Python). */
	n = csv_column("crm-erp/source_crm/sales_details.csv", "sls_sales",
	    &v);
	for (i = 0; i < n; i++) {
		assert_int_equal(money_dot(v[i], &opts, out, sizeof(out), &r),
		    CC_OK);
		if (r.status == CLEAN_VALUE) {
			neg += r.i64 < 0;
			zero += r.i64 == 0;
		}
	}
	t = run_column(money_dot, &opts, v, n);
	assert_int_equal(t.null, 8);
	assert_int_equal(t.invalid, 0);
	assert_int_equal(zero, 2);
	assert_int_equal(neg, 3);
	free_column(v, n);

	/* JSON product prices are numbers stored as strings. */
	n = json_column("nexusflow/products_inconsistent_data.json", "price",
	    &v);
	t = run_column(money_dot, &opts, v, n);
	assert_int_equal(t.value, 200);
	free_column(v, n);
}

static void
test_number_infer(void **state)
{
	static const char *const eu[] = { "1.234,56", "12,5", "3.000", NULL };
	static const char *const amb[] = { "1,234", "5,678" };
	static const char *const us[] = { "1,234,567", "381.29", "$5.00" };
	static const char *const zero[] = { "0,123" };
	struct clean_number_format f;

	(void)state;
	assert_int_equal(clean_number_infer(eu, NELEM(eu), &f), CC_OK);
	assert_int_equal(f.decimal, ',');
	assert_int_equal(f.group, '.');
	assert_int_equal(f.n_comma, 2);
	assert_int_equal(f.n_ambiguous, 1);
	assert_int_equal(f.n_null, 1);
	assert_true(f.confidence == 0.75);
	assert_int_equal(clean_number_infer(amb, NELEM(amb), &f), CC_OK);
	assert_int_equal(f.decimal, '.');
	assert_true(f.confidence == 0.5);
	assert_int_equal(f.n_ambiguous, 2);
	assert_int_equal(clean_number_infer(us, NELEM(us), &f), CC_OK);
	assert_int_equal(f.decimal, '.');
	assert_int_equal(f.n_dot, 3);
	assert_int_equal(clean_number_infer(zero, NELEM(zero), &f), CC_OK);
	assert_int_equal(f.decimal, ',');
	assert_int_equal(clean_number_infer(NULL, 1, &f), CC_EINVAL);
}

/* ------------------------------------------------------------------ */
/* Booleans and codes                                                 */
/* ------------------------------------------------------------------ */

static void
test_bool(void **state)
{
	static const struct tc c[] = {
		V("true", "true"), V("false", "false"), V("TRUE", "true"),
		V("True", "true"), V("t", "true"), V("F", "false"),
		V("yes", "true"), V("No", "false"), V(" Yes ", "true"),
		V("y", "true"), V("N", "false"), V("on", "true"),
		V("OFF", "false"), V("1", "true"), V("0", "false"),
		V("1.0", "true"), V("0.0", "false"),
		N(""), N("n/a"), N("NA"), N("-"), N(NULL),
		I("maybe", CLEAN_ISSUE_BOOL_INVALID),
		I("2", CLEAN_ISSUE_BOOL_INVALID),
		I("yess", CLEAN_ISSUE_BOOL_INVALID),
		I("tru\xff", CLEAN_ISSUE_BOOL_INVALID),
	};
	struct clean_result r;
	char out[8], **v;
	size_t n;

	(void)state;
	check_cases("bool", clean_bool, &opts, c, NELEM(c));
	check_rule("bool", clean_bool, &opts, "true", CLEAN_RULE_NONE);
	check_rule("bool", clean_bool, &opts, "Yes", CLEAN_RULE_BOOL_TOKEN);
	assert_int_equal(clean_bool("yes", &opts, out, sizeof(out), &r), CC_OK);
	assert_true(r.has_i64 && r.i64 == 1);
	/* JSON is_active: true, "true", "yes", false, 0, "no", "false", 1
	 * (Python: 36+33+29+13 true, 24+23+21+21 false). */
	n = json_column("nexusflow/products_inconsistent_data.json",
	    "is_active", &v);
	assert_int_equal(count_out(clean_bool, &opts, v, n, "true"), 111);
	assert_int_equal(count_out(clean_bool, &opts, v, n, "false"), 89);
	free_column(v, n);
	/* ERP MAINTENANCE: 20 Yes, 17 No. */
	n = csv_column("crm-erp/source_erp/PX_CAT_G1V2.csv", "MAINTENANCE", &v);
	assert_int_equal(count_out(clean_bool, &opts, v, n, "true"), 20);
	assert_int_equal(count_out(clean_bool, &opts, v, n, "false"), 17);
	free_column(v, n);
}

static void
test_codes(void **state)
{
	static const struct tc g[] = {
		V("M", "M"), V("Male", "M"), V("MALE", "M"), V("m", "M"),
		V("F", "F"), V("Female", "F"), V("female ", "F"),
		V("Other", "O"), V("O", "O"), V("M ", "M"), V("F ", "F"),
		V("1", "M"), V("2", "F"), V("Unknown", "U"),
		N(""), N(" "), N("  "), N(NULL), N("n/a"), N("N/A"),
		W("Helicopter", "helicopter", CLEAN_ISSUE_CODE_UNKNOWN),
		I("M\xff", CLEAN_ISSUE_TEXT_INVALID_UTF8),
	};
	static const struct tc m[] = {
		V("M", "M"), V("S", "S"), V("married", "M"),
		V("Single", "S"), V("Divorced", "D"), V("widowed", "W"),
		V("separated", "A"), N(""),
		W("Complicated", "complicated", CLEAN_ISSUE_CODE_UNKNOWN),
	};
	static const struct tc cs[] = {
		V("active", "active"), V("ACTIVE", "active"),
		V("INACTIVE", "inactive"), V("pending", "pending"),
		V("suspended", "suspended"), V("Disabled", "inactive"),
		N(""), N(NULL),
	};
	static const struct tc os[] = {
		V("pending", "pending"), V("processing", "processing"),
		V("SHIPPED", "shipped"), V("IN_TRANSIT", "in_transit"),
		V("In Transit", "in_transit"), V("in-transit", "in_transit"),
		V("intransit", "in_transit"), V("delivered", "delivered"),
		V("CANCELLED", "cancelled"), V("canceled", "cancelled"),
		V("returned", "returned"), V("Completed", "completed"),
		V("COMPLETED", "completed"), V("FAILED", "failed"),
		V("PENDING", "pending"), V("On Hold", "on_hold"),
		N(""),
		W("Lost In Space", "lost_in_space", CLEAN_ISSUE_CODE_UNKNOWN),
		W("  ??weird--CODE!!  ", "weird_code",
		    CLEAN_ISSUE_CODE_UNKNOWN),
		W("\xc3\x89TAT Sp\xc3\xa9" "cial",
		    "\xc3\xa9tat_sp\xc3\xa9" "cial", CLEAN_ISSUE_CODE_UNKNOWN),
		N("--"), N("@@"),
	};
	static const struct tc pm[] = {
		V("credit_card", "credit_card"),
		V("Credit Card", "credit_card"),
		V("debit_card", "debit_card"), V("Debit Card", "debit_card"),
		V("bank_transfer", "bank_transfer"), V("paypal", "paypal"),
		V("PayPal", "paypal"), V("cash", "cash"), V("Check", "cheque"),
		N(""), N(NULL),
	};
	static const struct tc gen[] = {
		V("STANDARD", "standard"), V("VIP", "vip"),
		V("vip", "vip"),
		/* "&" is the word "and", as the matching key reads it: one
		 * code whichever way it is written, and the kept form reads
		 * back as itself (found by tests/fuzz/fuzz_clean) */
		V("Home & Garden", "home_and_garden"),
		V("Home and Garden", "home_and_garden"),
		V("home_and_garden", "home_and_garden"),
		V("R&D", "r_and_d"),
	};
	enum clean_codelist l;
	char **v;
	size_t n;

	(void)state;
	check_cases("gender", code_gender, &opts, g, NELEM(g));
	check_cases("marital", code_marital, &opts, m, NELEM(m));
	check_cases("customer_status", code_customer, &opts, cs, NELEM(cs));
	check_cases("order_status", code_order, &opts, os, NELEM(os));
	check_cases("payment_method", code_payment, &opts, pm, NELEM(pm));
	check_cases("generic", code_generic, &opts, gen, NELEM(gen));
	check_rule("gender", code_gender, &opts, "M", CLEAN_RULE_NONE);
	check_rule("gender", code_gender, &opts, "M ", CLEAN_RULE_TRIM);
	check_rule("gender", code_gender, &opts, "Male",
	    CLEAN_RULE_CODE_SYNONYM);
	check_rule("gender", code_gender, &opts, "m",
	    CLEAN_RULE_CODE_NORMALISE);
	check_rule("order", code_order, &opts, "IN_TRANSIT",
	    CLEAN_RULE_CODE_NORMALISE);
	check_rule("order", code_order, &opts, "canceled",
	    CLEAN_RULE_CODE_SYNONYM);
	assert_string_equal(clean_codelist_name(CLEAN_CODES_ORDER_STATUS),
	    "order_status");
	assert_int_equal(clean_codelist_by_name("marital_status", &l), CC_OK);
	assert_int_equal(l, CLEAN_CODES_MARITAL);
	assert_int_equal(clean_codelist_by_name("nope", &l), CC_ENOTFOUND);
	assert_int_equal(clean_code("M", CLEAN_CODES__MAX, &opts, (char[4]){0},
	    4, &(struct clean_result){0}), CC_EINVAL);

	/* ERP GEN (Python): Male 8608 + M 4; Female 8391 + F 5; 1476
	 * blank ("", " ", "  ", "M ", "F " trimmed). */
	n = csv_column("crm-erp/source_erp/CST_AZ12.csv", "GEN", &v);
	assert_int_equal(count_out(code_gender, &opts, v, n, "M"), 8612);
	assert_int_equal(count_out(code_gender, &opts, v, n, "F"), 8396);
	assert_int_equal(run_column(code_gender, &opts, v, n).null, 1476);
	assert_int_equal(run_column(code_gender, &opts, v, n).flagged, 0);
	free_column(v, n);
	/* CRM marital status: M 10013, S 8474, 7 blank. */
	n = csv_column("crm-erp/source_crm/cst_info.csv", "cst_marital_status",
	    &v);
	assert_int_equal(count_out(code_marital, &opts, v, n, "M"), 10013);
	assert_int_equal(count_out(code_marital, &opts, v, n, "S"), 8474);
	free_column(v, n);
	/* JSON gender: "", null, M, Female, F, Other, Male: none unknown. */
	n = json_column("nexusflow/customers_messy_data.json", "gender", &v);
	assert_int_equal(run_column(code_gender, &opts, v, n).flagged, 0);
	assert_int_equal(run_column(code_gender, &opts, v, n).null, 171);
	free_column(v, n);
	/* Statuses and payment methods of every seed: all known. */
	n = csv_column("nexusflow/orders_unstructured_data.csv", "status", &v);
	assert_int_equal(run_column(code_order, &opts, v, n).flagged, 0);
	assert_int_equal(run_column(code_order, &opts, v, n).null, 137);
	free_column(v, n);
	n = csv_column("nexusflow/reconciliation_challenge_data.csv",
	    "delivery_status", &v);
	assert_int_equal(count_out(code_order, &opts, v, n, "in_transit"),
	    106);
	free_column(v, n);
	n = json_column("nexusflow/customers_messy_data.json", "status", &v);
	assert_int_equal(run_column(code_customer, &opts, v, n).flagged,
	    0);
	assert_int_equal(count_out(code_customer, &opts, v, n, "active"), 128);
	free_column(v, n);
	n = csv_column("retail-mini/orders.csv", "payment_mode", &v);
	assert_int_equal(count_out(code_payment, &opts, v, n, "credit_card"),
	    60);
	assert_int_equal(count_out(code_payment, &opts, v, n, "paypal"), 20);
	free_column(v, n);
	n = csv_column("nexusflow/orders_unstructured_data.csv",
	    "payment_method", &v);
	assert_int_equal(run_column(code_payment, &opts, v, n).flagged,
	    0);
	free_column(v, n);
}

static void
test_code_key(void **state)
{
	static const struct tc c[] = {
		/* the NexusFlow brands: each spelling, one key */
		V("BRAND-C", "BRAND C"), V("brand_b", "BRAND B"),
		V("Brand D", "BRAND D"), V("BrandA", "BRAND A"),
		V("brandE", "BRAND E"), V("brand  a", "BRAND A"),
		V("Brand-A", "BRAND A"), V("BRAND A", "BRAND A"),
		/* CRM product lines with trailing blanks */
		V("R ", "R"), V("M ", "M"),
		/* categories */
		V("Home & Garden", "HOME AND GARDEN"),
		V("home and garden", "HOME AND GARDEN"),
		V("electronics", "ELECTRONICS"), V("CLOTHING", "CLOTHING"),
		V("PayPal", "PAYPAL"), V("iPhone", "IPHONE"),
		V("McDonald's", "MCDONALDS"),
		V("caf\xc3\xa9", "CAF\xc3\x89"),
		V("Model3", "MODEL3"), V("BRANDA", "BRANDA"),
		N(""), N("--"), N("None"),
		I("b\xff", CLEAN_ISSUE_TEXT_INVALID_UTF8),
	};
	struct clean_opts o;
	struct clean_result r;
	char out[32], **v;
	size_t n;

	(void)state;
	check_cases("code_key", clean_code_key, &opts, c, NELEM(c));
	check_rule("code_key", clean_code_key, &opts, "BRAND C",
	    CLEAN_RULE_NONE);
	check_rule("code_key", clean_code_key, &opts, "BRAND-C",
	    CLEAN_RULE_CODE_NORMALISE);
	check_rule("code_key", clean_code_key, &opts, "Brand D",
	    CLEAN_RULE_UPPER_CASE);
	clean_opts_init(&o);
	o.flags = CLEAN_F_CODE_COMPACT;
	assert_int_equal(clean_code_key("Brand A", &o, out, sizeof(out), &r),
	    CC_OK);
	assert_string_equal(out, "BRANDA");
	assert_int_equal(clean_code_key("BRANDA", &o, out, sizeof(out), &r),
	    CC_OK);
	assert_string_equal(out, "BRANDA");
	/* The seed brand column: 5 keys, 49 missing (Python). */
	n = json_column("nexusflow/products_inconsistent_data.json", "brand",
	    &v);
	assert_int_equal(count_out(clean_code_key, &opts, v, n, "BRAND C"), 39);
	assert_int_equal(count_out(clean_code_key, &opts, v, n, "BRAND B"), 34);
	assert_int_equal(count_out(clean_code_key, &opts, v, n, "BRAND D"), 30);
	assert_int_equal(count_out(clean_code_key, &opts, v, n, "BRAND A"), 25);
	assert_int_equal(count_out(clean_code_key, &opts, v, n, "BRAND E"), 23);
	assert_int_equal(run_column(clean_code_key, &opts, v, n).null,
	    49);
	free_column(v, n);
}

/* ------------------------------------------------------------------ */
/* Places                                                             */
/* ------------------------------------------------------------------ */

static void
test_country(void **state)
{
	static const struct tc c[] = {
		V("United States", "US"), V("USA", "US"), V("US", "US"),
		V("us", "US"), V("U.S.A.", "US"), V("U.S.", "US"),
		V("United States of America", "US"), V("america", "US"),
		V("Germany", "DE"), V("DE", "DE"), V("DEU", "DE"),
		V("Deutschland", "DE"), V("germany ", "DE"),
		V("United Kingdom", "GB"), V("UK", "GB"),
		V("Great Britain", "GB"), V("England", "GB"),
		V("Holland", "NL"), V("The Netherlands", "NL"),
		V("Australia", "AU"), V("France", "FR"), V("Canada", "CA"),
		V("C\xc3\xb4te d'Ivoire", "CI"), V("cote divoire", "CI"),
		V("Ivory Coast", "CI"),
		V("T\xc3\xbcrkiye", "TR"), V("turkey", "TR"),
		V("South Korea", "KR"), V("Korea, Republic of", "KR"),
		V("Republic of Korea", "KR"),
		V("Holy See", "VA"), V("Vatican", "VA"),
		V("Democratic Republic of the Congo", "CD"),
		V("Bosnia & Herzegovina", "BA"),
		V("\xc3\x96sterreich", "AT"), V("Espa\xc3\xb1" "a", "ES"),
		V("NA", "NA"),		/* Namibia before the null token */
		V("LA", "LA"),		/* Laos */
		N(""), N("  "), N("n/a"), N("-"), N(NULL),
		I("Atlantis", CLEAN_ISSUE_COUNTRY_UNKNOWN),
		I("XX", CLEAN_ISSUE_COUNTRY_UNKNOWN),
		I("Korea", CLEAN_ISSUE_COUNTRY_UNKNOWN),	/* which one? */
		I("Germ\xff" "any", CLEAN_ISSUE_COUNTRY_UNKNOWN),
	};
	struct cc_diag d;
	char **v;
	size_t n;

	(void)state;
	need_iso_codes();
	check_cases("country", clean_country, &opts, c, NELEM(c));
	check_rule("country", clean_country, &opts, "US", CLEAN_RULE_NONE);
	check_rule("country", clean_country, &opts, "us",
	    CLEAN_RULE_COUNTRY_CODE);
	check_rule("country", clean_country, &opts, "USA",
	    CLEAN_RULE_COUNTRY_ALPHA3);
	check_rule("country", clean_country, &opts, "Germany",
	    CLEAN_RULE_COUNTRY_NAME);
	check_rule("country", clean_country, &opts, "UK",
	    CLEAN_RULE_COUNTRY_ALIAS);
	/* ERP LOC_A101 (Python): 13 spellings, 6 countries, 337 blank. */
	n = csv_column("crm-erp/source_erp/LOC_A101.csv", "CNTRY", &v);
	assert_int_equal(count_out(clean_country, &opts, v, n, "US"), 7482);
	assert_int_equal(count_out(clean_country, &opts, v, n, "DE"), 1780);
	assert_int_equal(count_out(clean_country, &opts, v, n, "AU"), 3591);
	assert_int_equal(count_out(clean_country, &opts, v, n, "GB"), 1913);
	assert_int_equal(count_out(clean_country, &opts, v, n, "FR"), 1810);
	assert_int_equal(count_out(clean_country, &opts, v, n, "CA"), 1571);
	assert_int_equal(run_column(clean_country, &opts, v, n).null,
	    337);
	free_column(v, n);
	/* A missing reference file is an error, said once per call. */
	assert_int_equal(clean_init("/nonexistent/iso.json", &d), CC_EIO);
	assert_string_equal(d.code, "clean_iso3166_unreadable");
	assert_int_equal(clean_country("US", &opts, (char[4]){0}, 4,
	    &(struct clean_result){0}), CC_EIO);
	assert_int_equal(clean_init(SRCDIR "/configure.ac", &d), CC_EPARSE);
	assert_int_equal(clean_init(NULL, &d), CC_OK);
	/* Lazy loading after clean_free(). */
	clean_free();
	check_cases("country", clean_country, &opts, c, 3);
}

static void
test_state_city(void **state)
{
	static const struct tc st[] = {
		V("NY", "NY"), V("New York", "NY"), V("ny", "NY"),
		V("California", "CA"), V("N.Y.", "NY"), V("IL", "IL"),
		V("district of columbia", "DC"), V("Puerto Rico", "PR"),
		V("AE", "AE"),
		N(""), N("n/a"),
		I("Narnia", CLEAN_ISSUE_STATE_UNKNOWN),
		I("XX", CLEAN_ISSUE_STATE_UNKNOWN),
	};
	static const struct tc ci[] = {
		/* every spelling in the NexusFlow customers */
		V("New York", "New York"), V("Los Angeles", "Los Angeles"),
		V("la", "Los Angeles"), V("Chicago", "Chicago"),
		V("NYC", "New York"), V("chicago", "Chicago"),
		V("Phoenix", "Phoenix"), V("new_york", "New York"),
		V("philadelphia", "Philadelphia"), V("Houston", "Houston"),
		/* general rules */
		V("SAN ANTONIO", "San Antonio"), V("rio de janeiro",
		    "Rio de Janeiro"), V("winston-salem", "Winston-Salem"),
		V("st. louis", "St. Louis"), V("M\xc3\x9cNCHEN",
		    "M\xc3\xbcnchen"), V("McAllen", "McAllen"),
		V("  new   york ", "New York"),
		N(""), N("n/a"),
	};
	struct clean_opts o;
	struct clean_result r;
	char out[32], **v;
	size_t n;

	(void)state;
	check_cases("state", clean_state, &opts, st, NELEM(st));
	check_cases("state", clean_state, &opts_us, st, NELEM(st));
	check_rule("state", clean_state, &opts, "New York",
	    CLEAN_RULE_STATE_NAME);
	check_rule("state", clean_state, &opts, "ny", CLEAN_RULE_STATE_CODE);
	check_cases("city", clean_city, &opts, ci, NELEM(ci));
	check_rule("city", clean_city, &opts, "NYC", CLEAN_RULE_CITY_ALIAS);
	/* Outside the US a state is text. */
	clean_opts_init(&o);
	o.country = "DE";
	assert_int_equal(clean_state(" Bayern ", &o, out, sizeof(out), &r),
	    CC_OK);
	assert_string_equal(out, "Bayern");
	/* Seed states: all 500 known (Python: 8 spellings). */
	n = json_column("nexusflow/customers_messy_data.json", "state", &v);
	assert_int_equal(run_column(clean_state, &opts, v, n).value, 500);
	assert_int_equal(count_out(clean_state, &opts, v, n, "NY"), 140);
	free_column(v, n);
	n = json_column("nexusflow/customers_messy_data.json", "city", &v);
	assert_int_equal(count_out(clean_city, &opts, v, n, "New York"), 153);
	assert_int_equal(count_out(clean_city, &opts, v, n, "Los Angeles"),
	    116);
	free_column(v, n);
}

/* ------------------------------------------------------------------ */
/* Contacts                                                           */
/* ------------------------------------------------------------------ */

static void
test_email(void **state)
{
	static const struct tc c[] = {
		V("john.smith@email.com", "john.smith@email.com"),
		V("reconcile1@test.com", "reconcile1@test.com"),
		V(" Alice@Email.COM ", "alice@email.com"),
		V("First.Last+tag@Sub.Example.co.uk",
		    "first.last+tag@sub.example.co.uk"),
		V("mailto:x@y.org", "x@y.org"),
		V("Jane Doe <Jane@X.org>", "jane@x.org"),
		V("o'brien@x-y.com", "o'brien@x-y.com"),
		V("a@b.c", "a@b.c"),
		N(""), N(NULL), N("none"),
		I("a@b", CLEAN_ISSUE_EMAIL_INVALID),
		I("@@", CLEAN_ISSUE_EMAIL_INVALID),
		I("plainaddress", CLEAN_ISSUE_EMAIL_INVALID),
		I("a..b@c.com", CLEAN_ISSUE_EMAIL_INVALID),
		I(".a@c.com", CLEAN_ISSUE_EMAIL_INVALID),
		I("a.@c.com", CLEAN_ISSUE_EMAIL_INVALID),
		I("a@b@c.com", CLEAN_ISSUE_EMAIL_INVALID),
		I("a b@c.com", CLEAN_ISSUE_EMAIL_INVALID),
		I("a@-b.com", CLEAN_ISSUE_EMAIL_INVALID),
		I("a@b-.com", CLEAN_ISSUE_EMAIL_INVALID),
		I("a@b..com", CLEAN_ISSUE_EMAIL_INVALID),
		I("a@b.123", CLEAN_ISSUE_EMAIL_INVALID),
		I("a@[1.2.3.4]", CLEAN_ISSUE_EMAIL_INVALID),
		I("\"a b\"@c.com", CLEAN_ISSUE_EMAIL_INVALID),
		I("m\xc3\xbcller@x.de", CLEAN_ISSUE_EMAIL_INVALID),
		I("x\xff@y.com", CLEAN_ISSUE_EMAIL_INVALID),
		I("<>", CLEAN_ISSUE_EMAIL_INVALID),
	};
	struct clean_opts o;
	struct clean_result r;
	char out[320], local[80];
	size_t n;
	char **v;

	(void)state;
	check_cases("email", clean_email, &opts, c, NELEM(c));
	check_rule("email", clean_email, &opts, "A@b.com",
	    CLEAN_RULE_EMAIL_LOWER);
	clean_opts_init(&o);
	o.flags = CLEAN_F_EMAIL_KEEP_LOCAL_CASE;
	assert_int_equal(clean_email("John.Smith@EMAIL.com", &o, out,
	    sizeof(out), &r), CC_OK);
	assert_string_equal(out, "John.Smith@email.com");
	/* Lengths: 64 for the local part, 254 in all. */
	memset(local, 'a', 64);
	strcpy(local + 64, "@x.com");
	assert_int_equal(clean_email(local, &opts, out, sizeof(out), &r),
	    CC_OK);
	assert_int_equal(r.status, CLEAN_VALUE);
	memset(local, 'a', 65);
	strcpy(local + 65, "@x.com");
	assert_int_equal(clean_email(local, &opts, out, sizeof(out), &r),
	    CC_OK);
	assert_int_equal(r.issue, CLEAN_ISSUE_EMAIL_INVALID);
	/* Seeds: every e-mail of the customers is valid. */
	n = json_column("nexusflow/customers_messy_data.json", "email", &v);
	assert_int_equal(run_column(clean_email, &opts, v, n).invalid, 0);
	assert_int_equal(run_column(clean_email, &opts, v, n).null, 91);
	free_column(v, n);
	n = json_column("nexusflow/customers_messy_data.json", "email_address",
	    &v);
	assert_int_equal(run_column(clean_email, &opts, v, n).value, 338);
	free_column(v, n);
}

static void
test_phone(void **state)
{
	static const struct tc us[] = {
		W("555-4748", "5554748", CLEAN_ISSUE_PHONE_INCOMPLETE),
		V("(555) 584-4439", "+15555844439"),
		V("555.584.4439", "+15555844439"),
		V("5555844439", "+15555844439"),
		V("1-555-584-4439", "+15555844439"),
		V("+1 (555) 584-4439", "+15555844439"),
		V("+15555844439", "+15555844439"),
		V("+44 20 7946 0958", "+442079460958"),
		V("0044 20 7946 0958", "+442079460958"),
		V("011 44 20 7946 0958", "+442079460958"),
		V("(555) 584-4439 x123", "+15555844439;ext=123"),
		V("555-584-4439 ext. 45", "+15555844439;ext=45"),
		V("555-584-4439 extension 7", "+15555844439;ext=7"),
		V("555 584 4439 #9", "+15555844439;ext=9"),
		W("555-4748 x12", "5554748;ext=12",
		    CLEAN_ISSUE_PHONE_INCOMPLETE),
		N(""), N(NULL), N("n/a"),
		I("abc", CLEAN_ISSUE_PHONE_INVALID),
		I("1-800-FLOWERS", CLEAN_ISSUE_PHONE_INVALID),
		I("12", CLEAN_ISSUE_PHONE_INVALID),
		I("555584443912", CLEAN_ISSUE_PHONE_INVALID),
		I("+1 555", CLEAN_ISSUE_PHONE_INVALID),
		I("+1234567890123456", CLEAN_ISSUE_PHONE_INVALID),
		I("555+4748", CLEAN_ISSUE_PHONE_INVALID),
		I("555-4748\xff", CLEAN_ISSUE_PHONE_INVALID),
	};
	struct clean_opts o;
	struct clean_result r;
	char out[40], **v;
	size_t n;

	(void)state;
	check_cases("phone", clean_phone, &opts_us, us, NELEM(us));
	check_rule("phone", clean_phone, &opts_us, "(555) 584-4439",
	    CLEAN_RULE_PHONE_E164);
	check_rule("phone", clean_phone, &opts_us, "555-4748",
	    CLEAN_RULE_PHONE_DIGITS);
	check_rule("phone", clean_phone, &opts_us, "+15555844439",
	    CLEAN_RULE_NONE);
	check_has_rule("phone", clean_phone, &opts_us, "555-584-4439 x1",
	    CLEAN_RULE_PHONE_EXTENSION);
	/* No country: national numbers are incomplete. */
	assert_int_equal(clean_phone("(555) 584-4439", &opts, out, sizeof(out),
	    &r), CC_OK);
	assert_string_equal(out, "5555844439");
	assert_int_equal(r.issue, CLEAN_ISSUE_PHONE_INCOMPLETE);
	assert_int_equal(clean_phone("+49 30 123456", &opts, out, sizeof(out),
	    &r), CC_OK);
	assert_string_equal(out, "+4930123456");
	/* Trunk prefixes. */
	clean_opts_init(&o);
	o.country = "GB";
	assert_int_equal(clean_phone("020 7946 0958", &o, out, sizeof(out),
	    &r), CC_OK);
	assert_string_equal(out, "+442079460958");
	o.country = "DE";
	assert_int_equal(clean_phone("030 123456", &o, out, sizeof(out), &r),
	    CC_OK);
	assert_string_equal(out, "+4930123456");
	o.country = "IT";		/* the leading 0 is kept */
	assert_int_equal(clean_phone("06 1234 5678", &o, out, sizeof(out),
	    &r), CC_OK);
	assert_string_equal(out, "+390612345678");
	/* Seeds (Python): 187 "555-xxxx", 244 "(555) xxx-xxxx". */
	n = json_column("nexusflow/customers_messy_data.json", "phone", &v);
	assert_int_equal(run_column(clean_phone, &opts_us, v, n).flagged,
	    187);
	free_column(v, n);
	n = json_column("nexusflow/customers_messy_data.json", "phone_number",
	    &v);
	assert_int_equal(run_column(clean_phone, &opts_us, v, n).value,
	    244);
	assert_int_equal(run_column(clean_phone, &opts_us, v, n).flagged,
	    0);
	free_column(v, n);
	assert_int_equal(clean_phone("(555) 584-4439", &opts_us, out, 12, &r),
	    CC_ETOOBIG);
}

static void
test_postal(void **state)
{
	static const struct tc us[] = {
		V("44794", "44794"), V("46867-5820", "46867-5820"),
		V(" 44794 ", "44794"), V("2134", "02134"),
		V("501", "00501"), V("2134-1234", "02134-1234"),
		V("123456789", "12345-6789"), V("12345 6789", "12345-6789"),
		N(""), N(NULL),
		I("ABCDE", CLEAN_ISSUE_POSTAL_INVALID),
		I("12", CLEAN_ISSUE_POSTAL_INVALID),
		I("00500", CLEAN_ISSUE_POSTAL_INVALID),
		I("123456", CLEAN_ISSUE_POSTAL_INVALID),
		I("12345-678", CLEAN_ISSUE_POSTAL_INVALID),
		I("12345-", CLEAN_ISSUE_POSTAL_INVALID),
		I("1234\xff", CLEAN_ISSUE_POSTAL_INVALID),
		I("12345678901234567", CLEAN_ISSUE_POSTAL_INVALID),
	};
	static const struct tc none[] = {
		V("44794", "44794"), V("sw1a 1aa", "SW1A 1AA"),
		V("2134", "2134"),		/* no country: not padded */
		V("k1a-0b1", "K1A-0B1"),
		I("x", CLEAN_ISSUE_POSTAL_INVALID),
		I("!!!", CLEAN_ISSUE_POSTAL_INVALID),
	};
	struct clean_opts o;
	struct clean_result r;
	char out[16], **v;
	size_t n;

	(void)state;
	check_cases("postal", clean_postal, &opts_us, us, NELEM(us));
	check_cases("postal", clean_postal, &opts, none, NELEM(none));
	check_rule("postal", clean_postal, &opts_us, "2134",
	    CLEAN_RULE_ZIP_ZERO_PAD);
	check_rule("postal", clean_postal, &opts_us, "123456789",
	    CLEAN_RULE_ZIP_PLUS4_HYPHEN);
	check_rule("postal", clean_postal, &opts_us, "44794", CLEAN_RULE_NONE);
	clean_opts_init(&o);
	o.country = "GB";
	assert_int_equal(clean_postal("sw1a1aa", &o, out, sizeof(out), &r),
	    CC_OK);
	assert_string_equal(out, "SW1A 1AA");
	assert_int_equal(clean_postal("12345", &o, out, sizeof(out), &r),
	    CC_OK);
	assert_int_equal(r.issue, CLEAN_ISSUE_POSTAL_INVALID);
	o.country = "CA";
	assert_int_equal(clean_postal("k1a0b1", &o, out, sizeof(out), &r),
	    CC_OK);
	assert_string_equal(out, "K1A 0B1");
	o.country = "NL";
	assert_int_equal(clean_postal("1234ab", &o, out, sizeof(out), &r),
	    CC_OK);
	assert_string_equal(out, "1234 AB");
	o.country = "DE";
	assert_int_equal(clean_postal("1067", &o, out, sizeof(out), &r), CC_OK);
	assert_string_equal(out, "01067");
	o.country = "AU";
	assert_int_equal(clean_postal("800", &o, out, sizeof(out), &r), CC_OK);
	assert_string_equal(out, "0800");
	/* Seeds (Python): 361 ZIPs, 310 ZIP+4s, all valid. */
	n = json_column("nexusflow/customers_messy_data.json", "zip_code", &v);
	assert_int_equal(run_column(clean_postal, &opts_us, v, n).value,
	    361);
	assert_int_equal(run_column(clean_postal, &opts_us, v, n).invalid,
	    0);
	free_column(v, n);
	n = json_column("nexusflow/customers_messy_data.json", "postal_code",
	    &v);
	assert_int_equal(run_column(clean_postal, &opts_us, v, n).value,
	    310);
	free_column(v, n);
}

/* ------------------------------------------------------------------ */
/* Every standardiser against garbage                                 */
/* ------------------------------------------------------------------ */

static void
test_garbage_everywhere(void **state)
{
	static const clean_fn fns[] = {
		clean_text, clean_key, clean_name, clean_name_part, clean_city,
		clean_email, clean_phone, clean_postal, clean_bool,
		clean_code_key, clean_country, clean_state, date_mdy, ts_mdy,
		num_dot, money_dot, code_gender, code_order,
	};
	static const char *const junk[] = {
		"", " ", "\xff\xfe", "\xc0\x80", "\x01\x02\x03", "@@", "((5))",
		"$-", "1.2.3", "\xe2\x80\x8b", "\"", "''", "\xed\xbf\xbf",
		"abc\xf0\x9f", "0", "-", "?", "2023-02-30", "13/13/2023",
	};
	struct clean_result r;
	char out[64], *big;
	size_t i, j, k;
	cc_err e;

	(void)state;
	big = malloc(1 << 20);
	assert_non_null(big);
	for (i = 0; i < NELEM(fns); i++) {
		for (j = 0; j < NELEM(junk); j++) {
			memset(out, 'x', sizeof(out));
			e = fns[i](junk[j], &opts_us, out, sizeof(out), &r);
			assert_true(e == CC_OK);
			assert_true(strlen(out) == r.len);
			assert_true(r.status == CLEAN_VALUE || out[0] == '\0');
			assert_true(r.status != CLEAN_INVALID ||
			    r.issue != CLEAN_ISSUE_NONE);
		}
		/* A megabyte of letters, of spaces, of multi-byte text. */
		for (k = 0; k < 3; k++) {
			size_t m;

			if (k < 2)
				memset(big, k ? ' ' : 'a', (1 << 20) - 1);
			else
				for (m = 0; m + 2 < (1 << 20); m += 2)
					memcpy(big + m, "\xc3\xa9", 2);
			big[(1 << 20) - 1] = '\0';
			if (k == 2)
				big[(1 << 20) - 2] = '\0';
			e = fns[i](big, &opts_us, out, sizeof(out), &r);
			assert_true(e == CC_OK || e == CC_ETOOBIG);
			if (k == 1)
				assert_int_equal(r.status, CLEAN_NULL);
			else
				assert_int_not_equal(r.status, CLEAN_VALUE);
		}
	}
	free(big);
}

/*
 * What tests/fuzz/fuzz_clean found (each also kept as a regression input
 * under tests/fuzz/regressions/clean/): a cleaned value is read back as
 * itself, a change always names a rule, evidence is UTF-8.  The expected
 * values follow from the rules in clean.h, worked out by hand.
 */
static int
utf8_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int k, i;

	for (; *p != '\0'; p += k) {
		k = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 && *p >= 0xc2 ? 2 :
		    (*p & 0xf0) == 0xe0 ? 3 : (*p & 0xf8) == 0xf0 &&
		    *p <= 0xf4 ? 4 : 0;
		if (k == 0)
			return 0;
		for (i = 1; i < k; i++)
			if ((p[i] & 0xc0) != 0x80)
				return 0;
	}
	return 1;
}

static cc_err
key_plain(const char *raw, const struct clean_opts *o, char *out, size_t n,
    struct clean_result *r)
{
	return clean_key(raw, o, out, n, r);
}

static cc_err
phone_us(const char *raw, const struct clean_opts *o, char *out, size_t n,
    struct clean_result *r)
{
	(void)o;
	return clean_phone(raw, &opts_us, out, n, r);
}

static cc_err
postal_us(const char *raw, const struct clean_opts *o, char *out, size_t n,
    struct clean_result *r)
{
	(void)o;
	return clean_postal(raw, &opts_us, out, n, r);
}

static cc_err
code_key_fn(const char *raw, const struct clean_opts *o, char *out, size_t n,
    struct clean_result *r)
{
	return clean_code_key(raw, o, out, n, r);
}

static cc_err
name_fn(const char *raw, const struct clean_opts *o, char *out, size_t n,
    struct clean_result *r)
{
	return clean_name(raw, o, out, n, r);
}

static void
test_fuzz_findings(void **state)
{
	static const struct tc keys[] = {
		V("AB \x11", "AB"),		/* a space a control left */
		V("\x11 AB", "AB"),
		V("\"'A1'\"", "A1"),		/* nested quotes */
		V("\x0e'A1'", "A1"),		/* a control hiding quotes */
		N("''''"),
	};
	static const struct tc phones[] = {
		V("+15555844439;ext=123", "+15555844439;ext=123"),
		V("555-584-4439;ext=7", "+15555844439;ext=7"),
	};
	static const struct tc zips[] = {
		I("000070000", CLEAN_ISSUE_POSTAL_INVALID), /* ZIP 00007 */
		V("005010000", "00501-0000"),
	};
	static const struct tc genders[] = {
		V("N", "N"), V("9", "N"), V("not applicable", "N"),
	};
	static const struct tc names[] = {
		V("e2\xcc\x81", "\xc3\x89"),	/* e + U+0301: NFC U+00C9 */
		V("ann-123", "Ann"), V("20 -ann", "Ann"),
		V("Ann-", "Ann"), V("Smith- Jones", "Smith Jones"),
		V("Smith-Jones", "Smith-Jones"),
		/* a hyphen before a comma ends the last name: the name
		 * turned round is the same when cleaned again */
		V("F-011,047FY-", "Fy F"), V("Smith-, Ann", "Ann Smith"),
		V("Smith, -Ann", "Ann Smith"),
		/* no user name when it starts with a letter without case */
		V("\xe6\x80\x89" "22023-08-26001\xe2\x80\x99S3L",
		    "\xe6\x80\x89--\xe2\x80\x99sl"),
		V("\xe6\x80\x89--\xe2\x80\x99sl",
		    "\xe6\x80\x89--\xe2\x80\x99sl"),
		V("john.smith", "John Smith"),
	};
	const char *col[] = { "\xba\xd2-3\xff\xff" "24.07.2023\xff", "1,5" };
	struct clean_number_format nf;
	struct clean_result r, r2;
	char out[256], again[256];

	(void)state;
	check_cases("key", key_plain, &opts, keys, NELEM(keys));
	check_cases("phone", phone_us, &opts, phones, NELEM(phones));
	check_rule("phone", phone_us, &opts, "+15555844439;ext=123",
	    CLEAN_RULE_NONE);
	check_cases("postal", postal_us, &opts, zips, NELEM(zips));
	check_cases("gender", code_gender, &opts, genders, NELEM(genders));
	check_cases("name", name_fn, &opts, names, NELEM(names));
	/* a combining mark composed after the case was set: cleaned again,
	 * "r\u0301" (now one letter) took another case; the first result
	 * must be what cleaning it again gives */
	assert_int_equal(clean_name_part("\xcc\x81'r1\xcc\x81'r1''e\xcc\x81'"
	    "\xcc\x81'r", &opts, out, sizeof(out), &r), CC_OK);
	assert_int_equal(r.status, CLEAN_VALUE);
	assert_int_equal(clean_name_part(out, &opts, again, sizeof(again),
	    &r2), CC_OK);
	assert_string_equal(again, out);
	/* money: ".30" became "0.30", which is a change with a rule */
	assert_int_equal(clean_money(".30", NULL, &opts, out, sizeof(out), &r),
	    CC_OK);
	assert_string_equal(out, "0.30");
	assert_int_equal(r.rule, CLEAN_RULE_NUM_CANONICAL);
	/* number: the 66 digits written for 1.645452e-59 are read back */
	assert_int_equal(clean_number("16.45452e-60", NULL, &opts, out,
	    sizeof(out), &r), CC_OK);
	assert_int_equal(r.status, CLEAN_VALUE);
	assert_int_equal(clean_number(out, NULL, &opts, again, sizeof(again),
	    &r2), CC_OK);
	assert_int_equal(r2.status, CLEAN_VALUE);
	assert_string_equal(again, out);
	assert_int_equal(r2.rule, CLEAN_RULE_NONE);
	/* code key: the ligature U+FB01 has no capital and opens no word */
	assert_int_equal(clean_code_key("Toy-\xef\xac\x81s", &opts, out,
	    sizeof(out), &r), CC_OK);
	assert_string_equal(out, "TOY \xef\xac\x81S");
	check_rule("code_key", code_key_fn, &opts, out, CLEAN_RULE_NONE);
	/* evidence of a learned number format is UTF-8 whatever the input */
	assert_int_equal(clean_number_infer(col, NELEM(col), &nf), CC_OK);
	assert_true(utf8_ok(nf.evidence));
}

/*
 * Money written without snprintf() and its double without strtod(): the
 * text must be what "%llu" and ".%0*llu" give (the fraction trimmed to
 * minor_digits) and f64 what strtod() reads from it, for amounts of every
 * size (xorshift64, Marsaglia 2003) and each scale.
 */
static void
test_money_format(void **state)
{
	struct clean_opts o;
	struct clean_result r;
	uint64_t x = 88172645463325252ULL, m, scale;
	char raw[64], want[64], out[64];
	int i, j, ud, md, keep, neg;

	(void)state;
	clean_opts_init(&o);
	for (i = 0; i < 20000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		/* 1 to 62 bits: small amounts as often as large ones */
		m = x >> (2 + (x % 62));
		md = (int)((x >> 8) % 5);
		ud = md + (int)((x >> 16) % 5);
		neg = (int)((x >> 24) & 1);
		for (scale = 1, j = 0; j < ud; j++)
			scale *= 10;
		o.minor_digits = md;
		o.unit_digits = ud;
		if (ud > 0)
			snprintf(raw, sizeof(raw), "%s%llu.%0*llu", neg ? "-" : "",
			    (unsigned long long)(m / scale), ud,
			    (unsigned long long)(m % scale));
		else
			snprintf(raw, sizeof(raw), "%s%llu", neg ? "-" : "",
			    (unsigned long long)m);
		/* the expected text: the fraction's zeros cut down to md */
		snprintf(want, sizeof(want), "%s", neg && m != 0 ? raw :
		    raw + neg);
		if (ud > 0) {
			keep = ud;
			while (keep > md && want[strlen(want) - 1] == '0') {
				want[strlen(want) - 1] = '\0';
				keep--;
			}
			if (keep == 0)
				want[strlen(want) - 1] = '\0';	/* the point */
		}
		assert_int_equal(clean_money(raw, NULL, &o, out,
		    sizeof(out), &r), CC_OK);
		assert_int_equal(r.status, CLEAN_VALUE);
		assert_string_equal(out, want);
		assert_true(r.has_i64);
		assert_true(r.i64 == (neg ? -(int64_t)m : (int64_t)m));
		assert_true(memcmp(&r.f64, &(double){ strtod(out, NULL) },
		    sizeof(double)) == 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_of_codes),
		cmocka_unit_test(test_nulls),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_long_text_nfc),
		cmocka_unit_test(test_case),
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_names_seed_forms),
		cmocka_unit_test(test_names_casing),
		cmocka_unit_test(test_name_part),
		cmocka_unit_test(test_name_garbage),
		cmocka_unit_test(test_name_split_join),
		cmocka_unit_test(test_date_forms),
		cmocka_unit_test(test_date_dmy),
		cmocka_unit_test(test_date_garbage),
		cmocka_unit_test(test_timestamps),
		cmocka_unit_test(test_epoch_serial),
		cmocka_unit_test(test_date_infer_synthetic),
		cmocka_unit_test(test_date_infer_seed_order_date),
		cmocka_unit_test(test_date_infer_seed_offset),
		cmocka_unit_test(test_date_seed_columns),
		cmocka_unit_test(test_date_checks),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_money),
		cmocka_unit_test(test_money_format),
		cmocka_unit_test(test_number_seed_columns),
		cmocka_unit_test(test_number_infer),
		cmocka_unit_test(test_bool),
		cmocka_unit_test(test_codes),
		cmocka_unit_test(test_code_key),
		cmocka_unit_test(test_country),
		cmocka_unit_test(test_state_city),
		cmocka_unit_test(test_email),
		cmocka_unit_test(test_phone),
		cmocka_unit_test(test_postal),
		cmocka_unit_test(test_garbage_everywhere),
		cmocka_unit_test(test_fuzz_findings),
	};

	return cmocka_run_group_tests_name("clean", tests, group_setup,
	    group_teardown);
}
