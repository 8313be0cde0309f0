/*
 * fuzz_clean.c - every standardiser of concord/clean.h (core/clean*.c).
 * The input is SELECTOR OPTIONS VALUE...: the first byte picks the
 * cleaner, the second its options (date order and integer reading,
 * decimal separator, minor digits, code list, country, flags, and a small
 * output buffer when the high bit is set), the rest is the raw value
 * (read as a C string, as the pipeline hands it over).  Selector 21 reads
 * the rest as a column of values, one a line, learns the date and number
 * formats from it (clean_date_infer, clean_number_infer) and cleans each
 * value with them.
 *
 * Invariants, from the header's common contract, for every call:
 *  - CC_OK, or CC_ETOOBIG only when out is too small (status invalid,
 *    value_too_long, out ""), or CC_ENOMEM only from clean_text()'s one
 *    allocating path; never CC_EINVAL for valid options;
 *  - out NUL-terminated, res.len == strlen(out), out "" unless
 *    CLEAN_VALUE, and valid UTF-8;
 *  - CLEAN_INVALID always with an issue (no error without a reason);
 *    CLEAN_NULL never with one; CLEAN_VALUE only with code_unknown or
 *    phone_incomplete;
 *  - res.rule is the highest rule of res.rules; no rule means out is raw
 *    byte for byte;
 *  - canonical forms: a cleaned value cleaned again is itself (dates,
 *    timestamps, numbers, money, booleans, codes, countries, states,
 *    e-mail, phones, postal codes, text, keys, names, cities);
 *  - the shapes: dates YYYY-MM-DD of a real calendar day; timestamps
 *    YYYY-MM-DDTHH:MM:SSZ; numbers with f64 = strtod(out) and i64 its
 *    integer; money with exactly minor_digits decimals and i64 its minor
 *    units; booleans "true"/"false" with i64 1/0; countries and states two
 *    capitals; e-mail one "@" and at most 254 bytes; phones "+" and 8..15
 *    digits (or digits only when phone_incomplete);
 *  - clean_date_check_range() and _order() accept every cleaned value.
 */
#include "config.h"

#include <ctype.h>
#include <math.h>

#include <utf8proc.h>

#include "concord/clean.h"
#include "fuzz.h"

enum {
	S_TEXT, S_TEXT_NL, S_KEY, S_NAME, S_NAME_PART, S_NAME_SPLIT,
	S_NAME_JOIN, S_DATE, S_TIMESTAMP, S_NUMBER, S_MONEY, S_BOOL, S_CODE,
	S_CODE_KEY, S_COUNTRY, S_STATE, S_CITY, S_EMAIL, S_PHONE, S_POSTAL,
	S_CASE, S_COLUMN, S__MAX
};

static const char *const countries[] = { NULL, "US", "CA", "GB", "DE",
    "FR", "NL", "AU", "CH", "IN", "JP", "BR", "MX", "ZA", "XX", "IT" };

struct call {
	int			 sel;
	struct clean_opts	 opt;
	struct clean_date_format dfmt;
	struct clean_number_format nfmt;
	enum clean_codelist	 list;
	enum clean_case		 cas;
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct cc_diag d;

	(void)argc;
	(void)argv;
	/* the ISO 3166 reference, loaded once (as clean_init() says) */
	if (clean_init(NULL, &d) != CC_OK) {
		fprintf(stderr, "fuzz_clean: %s\n", d.message);
		abort();
	}
	return 0;
}

static cc_err
call(const struct call *c, const char *raw, char *out, size_t outsize,
    struct clean_result *res)
{
	const struct clean_opts *o = &c->opt;

	switch (c->sel) {
	case S_TEXT:
	case S_TEXT_NL:		return clean_text(raw, o, out, outsize, res);
	case S_KEY:		return clean_key(raw, o, out, outsize, res);
	case S_NAME:		return clean_name(raw, o, out, outsize, res);
	case S_NAME_PART:	return clean_name_part(raw, o, out, outsize, res);
	case S_DATE:		return clean_date(raw, &c->dfmt, o, out, outsize,
				    res);
	case S_TIMESTAMP:	return clean_timestamp(raw, &c->dfmt, o, out,
				    outsize, res);
	case S_NUMBER:		return clean_number(raw, &c->nfmt, o, out,
				    outsize, res);
	case S_MONEY:		return clean_money(raw, &c->nfmt, o, out,
				    outsize, res);
	case S_BOOL:		return clean_bool(raw, o, out, outsize, res);
	case S_CODE:		return clean_code(raw, c->list, o, out, outsize,
				    res);
	case S_CODE_KEY:	return clean_code_key(raw, o, out, outsize, res);
	case S_COUNTRY:		return clean_country(raw, o, out, outsize, res);
	case S_STATE:		return clean_state(raw, o, out, outsize, res);
	case S_CITY:		return clean_city(raw, o, out, outsize, res);
	case S_EMAIL:		return clean_email(raw, o, out, outsize, res);
	case S_PHONE:		return clean_phone(raw, o, out, outsize, res);
	case S_POSTAL:		return clean_postal(raw, o, out, outsize, res);
	}
	abort();
}

static int
digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* A real proleptic Gregorian day, years 1..9999. */
static int
valid_ymd(const char *s)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int y, m, d;

	if (strlen(s) < 10 || !digits(s, 4) || s[4] != '-' ||
	    !digits(s + 5, 2) || s[7] != '-' || !digits(s + 8, 2))
		return 0;
	y = atoi(s);
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return 0;
	return m != 2 || d < 29 || (y % 4 == 0 && (y % 100 != 0 ||
	    y % 400 == 0));
}

static void
check_shape(const struct call *c, const char *raw, const char *out,
    const struct clean_result *res)
{
	const char *dot, *at;
	size_t n = strlen(out), i;
	double f;

	switch (c->sel) {
	case S_DATE:
		FUZZ_ASSERT(n == 10 && valid_ymd(out), "date \"%s\"", out);
		break;
	case S_TIMESTAMP:
		FUZZ_ASSERT(n == 20 && valid_ymd(out) && out[10] == 'T' &&
		    digits(out + 11, 2) && out[13] == ':' &&
		    digits(out + 14, 2) && out[16] == ':' &&
		    digits(out + 17, 2) && out[19] == 'Z' &&
		    atoi(out + 11) <= 23 && atoi(out + 14) <= 59 &&
		    atoi(out + 17) <= 60, "timestamp \"%s\"", out);
		break;
	case S_NUMBER:
	case S_MONEY:
		f = strtod(out, NULL);
		FUZZ_ASSERT(f == res->f64 || (isnan(f) && isnan(res->f64)),
		    "\"%s\": f64 %.17g", out, res->f64);
		FUZZ_ASSERT(out[0] == '-' ? n >= 2 && isdigit((unsigned char)
		    out[1]) : isdigit((unsigned char)out[0]), "number \"%s\"",
		    out);
		dot = strchr(out, '.');
		if (c->sel == S_MONEY) {
			FUZZ_ASSERT(res->has_i64, "money without i64");
			FUZZ_ASSERT(c->opt.minor_digits == 0 ? dot == NULL :
			    dot != NULL && strlen(dot + 1) ==
			    (size_t)c->opt.minor_digits, "money \"%s\" with %d "
			    "digits", out, c->opt.minor_digits);
			{
				char buf[64];
				size_t o = 0;

				for (i = 0; out[i] != '\0' && o < 63; i++)
					if (out[i] != '.')
						buf[o++] = out[i];
				buf[o] = '\0';
				FUZZ_ASSERT(strtoll(buf, NULL, 10) == res->i64,
				    "money \"%s\": i64 %lld", out,
				    (long long)res->i64);
			}
		} else if (res->has_i64) {
			FUZZ_ASSERT(dot == NULL && strtoll(out, NULL, 10) ==
			    res->i64, "number \"%s\": i64 %lld", out,
			    (long long)res->i64);
		}
		if (dot != NULL && c->sel == S_NUMBER)
			FUZZ_ASSERT(out[n - 1] != '0' && out[n - 1] != '.',
			    "trailing zeros: \"%s\"", out);
		FUZZ_ASSERT(strcmp(out, "-0") != 0, "\"-0\"");
		break;
	case S_BOOL:
		FUZZ_ASSERT((!strcmp(out, "true") && res->i64 == 1) ||
		    (!strcmp(out, "false") && res->i64 == 0), "bool \"%s\"",
		    out);
		break;
	case S_COUNTRY:
		FUZZ_ASSERT(n == 2 && isupper((unsigned char)out[0]) &&
		    isupper((unsigned char)out[1]), "country \"%s\"", out);
		break;
	case S_STATE:
		if (c->opt.country == NULL || !strcmp(c->opt.country, "US"))
			FUZZ_ASSERT(n == 2 && isupper((unsigned char)out[0]) &&
			    isupper((unsigned char)out[1]), "state \"%s\"", out);
		break;
	case S_EMAIL:
		at = strchr(out, '@');
		FUZZ_ASSERT(at != NULL && strchr(at + 1, '@') == NULL &&
		    at > out && n <= 254, "e-mail \"%s\"", out);
		for (i = (size_t)(at - out); i < n; i++)
			FUZZ_ASSERT(!isupper((unsigned char)out[i]),
			    "e-mail domain case \"%s\"", out);
		break;
	case S_PHONE:
		{
			/* [+]DIGITS[;ext=DIGITS] */
			int inc = res->issue == CLEAN_ISSUE_PHONE_INCOMPLETE;
			const char *d = inc ? out : out + 1;
			size_t nd = strcspn(d, ";");

			FUZZ_ASSERT((inc || out[0] == '+') && nd >= 1 &&
			    (inc || (nd >= 8 && nd <= 15)) && digits(d, nd) &&
			    (d[nd] == '\0' || (!strncmp(d + nd, ";ext=", 5) &&
			    d[nd + 5] != '\0' && digits(d + nd + 5,
			    strlen(d + nd + 5)))), "phone \"%s\"", out);
		}
		break;
	}
	(void)raw;
}

/*
 * A name made of letters, marks, spaces, hyphens, dots and apostrophes
 * only: the names whose cleaning is checked for being its own fixed
 * point (a "name" of colons and currency signs is read as a user name
 * or not depending on its case, which cleaning changes).
 */
static int
name_like(const char *s)
{
	utf8proc_int32_t cp;
	utf8proc_ssize_t k;
	utf8proc_category_t cat;

	for (; *s != '\0'; s += k) {
		k = utf8proc_iterate((const utf8proc_uint8_t *)s, -1, &cp);
		if (k <= 0)
			return 0;
		cat = utf8proc_category(cp);
		if (strchr(" -.'", (int)cp) != NULL && cp < 0x80)
			continue;
		if (cp == 0x2019 || (cat >= UTF8PROC_CATEGORY_LU &&
		    cat <= UTF8PROC_CATEGORY_ME))
			continue;
		return 0;
	}
	return 1;
}

/*
 * One call with the common checks; returns the status and leaves the
 * output in out (outsize bytes).
 */
static enum clean_status
check(const struct call *c, const char *raw, char *out, size_t outsize,
    struct clean_result *res, int idem)
{
	enum clean_rule top = CLEAN_RULE_NONE;
	char *again;
	struct clean_result r2;
	struct call c2;
	int r;
	cc_err err;

	memset(res, 0x5A, sizeof(*res));
	memset(out, 'X', outsize);
	err = call(c, raw, out, outsize, res);
	FUZZ_ASSERT(err == CC_OK || err == CC_ETOOBIG || (err == CC_ENOMEM &&
	    (c->sel == S_TEXT || c->sel == S_TEXT_NL)), "selector %d: %s",
	    c->sel, cc_strerror(err));
	FUZZ_ASSERT(memchr(out, '\0', outsize) != NULL, "out not terminated");
	FUZZ_ASSERT(res->len == strlen(out), "len %zu, strlen %zu", res->len,
	    strlen(out));
	FUZZ_ASSERT(res->status == CLEAN_VALUE || res->status == CLEAN_NULL ||
	    res->status == CLEAN_INVALID, "status %d", (int)res->status);
	FUZZ_ASSERT((unsigned)res->issue < CLEAN_ISSUE__MAX, "issue %d",
	    (int)res->issue);
	FUZZ_ASSERT((unsigned)res->rule < CLEAN_RULE__MAX, "rule %d",
	    (int)res->rule);
	if (err == CC_ETOOBIG)
		FUZZ_ASSERT(res->status == CLEAN_INVALID &&
		    res->issue == CLEAN_ISSUE_VALUE_TOO_LONG, "ETOOBIG");
	if (err == CC_ENOMEM)
		FUZZ_ASSERT(res->status == CLEAN_INVALID, "ENOMEM");
	if (res->status != CLEAN_VALUE)
		FUZZ_ASSERT(out[0] == '\0', "out \"%s\" with status %d", out,
		    (int)res->status);
	if (res->status == CLEAN_INVALID)
		FUZZ_ASSERT(res->issue != CLEAN_ISSUE_NONE || err == CC_ENOMEM,
		    "invalid without an issue (selector %d)", c->sel);
	if (res->status == CLEAN_NULL)
		FUZZ_ASSERT(res->issue == CLEAN_ISSUE_NONE, "null with issue %s",
		    clean_issue_name(res->issue));
	if (res->status == CLEAN_VALUE)
		FUZZ_ASSERT(res->issue == CLEAN_ISSUE_NONE ||
		    res->issue == CLEAN_ISSUE_CODE_UNKNOWN ||
		    res->issue == CLEAN_ISSUE_PHONE_INCOMPLETE,
		    "value with issue %s", clean_issue_name(res->issue));
	for (r = CLEAN_RULE__MAX - 1; r > 0; r--)
		if (res->rules & CLEAN_RULE_BIT(r)) {
			top = (enum clean_rule)r;
			break;
		}
	FUZZ_ASSERT(res->rule == top, "rule %s, highest of rules %s",
	    clean_rule_name(res->rule), clean_rule_name(top));
	FUZZ_ASSERT((res->rules & ~(CLEAN_RULE_BIT(CLEAN_RULE__MAX) - 1)) == 0,
	    "rules beyond the enum");
	if (res->status != CLEAN_VALUE)
		return res->status;
	FUZZ_ASSERT(fuzz_utf8_str(out), "out not UTF-8 (selector %d)", c->sel);
	if (res->rule == CLEAN_RULE_NONE)
		FUZZ_ASSERT(raw != NULL && strcmp(out, raw) == 0,
		    "no rule, but \"%s\" became \"%s\" (selector %d)", raw, out,
		    c->sel);
	check_shape(c, raw, out, res);
	if (!idem || ((c->sel == S_NAME || c->sel == S_NAME_PART ||
	    c->sel == S_CITY) && !name_like(out)))
		return res->status;
	/* a canonical value is its own canonical value (numbers are
	 * written with '.' whatever the column's separator) */
	if ((again = malloc(outsize)) == NULL)
		abort();
	c2 = *c;
	clean_number_format_init(&c2.nfmt);
	err = call(&c2, out, again, outsize, &r2);
	/* except that a null token is matched before anything else: "@na"
	 * is the key "NA", which is the token "na" (documented: pass your
	 * own list when a column may hold it) */
	if (err == CC_OK && r2.status == CLEAN_NULL &&
	    r2.rule == CLEAN_RULE_NULL_TOKEN) {
		free(again);
		return res->status;
	}
	FUZZ_ASSERT(err == CC_OK && r2.status == CLEAN_VALUE &&
	    strcmp(again, out) == 0, "not idempotent (selector %d): \"%s\" -> "
	    "\"%s\" -> %s \"%s\" (%s)", c->sel, raw, out, cc_strerror(err),
	    again, clean_issue_name(r2.issue));
	if (c->sel == S_NUMBER || c->sel == S_MONEY)
		FUZZ_ASSERT(r2.i64 == res->i64 && r2.has_i64 == res->has_i64,
		    "i64 changed");
	free(again);
	return res->status;
}

static void
dates_checked(const char *a, const char *b)
{
	enum clean_issue is;

	FUZZ_ASSERT(clean_date_check_range(a, "1900-01-01", b, NULL, &is) ==
	    CC_OK, "check_range(%s, .., %s)", a, b);
	FUZZ_ASSERT(clean_date_check_range(a, NULL, NULL, b, &is) == CC_OK &&
	    (is == CLEAN_ISSUE_NONE || is == CLEAN_ISSUE_DATE_IN_FUTURE),
	    "check_range(%s, today %s)", a, b);
	FUZZ_ASSERT(clean_date_check_order(a, b, &is) == CC_OK &&
	    (is == CLEAN_ISSUE_NONE || is == CLEAN_ISSUE_DATE_END_BEFORE_START),
	    "check_order(%s, %s)", a, b);
	/* a value is never before itself */
	FUZZ_ASSERT(clean_date_check_order(a, a, &is) == CC_OK &&
	    is == CLEAN_ISSUE_NONE, "check_order(%s, itself)", a);
}

/* Selector 21: a column learned, then cleaned with what was learned. */
static void
column(const struct call *base, char *text)
{
	const char *vals[64];
	struct clean_result res;
	struct call c = *base;
	char out[256], prev[256] = "";
	size_t n = 0, i;
	char *p = text, *nl;

	while (n < 64 && p != NULL) {
		nl = strchr(p, '\n');
		if (nl != NULL)
			*nl++ = '\0';
		/* an empty line is "" or, every third value, NULL */
		vals[n] = (*p == '\0' && n % 3 == 0) ? NULL : p;
		n++;
		p = nl;
	}
	FUZZ_ASSERT(clean_date_infer(vals, n, &c.dfmt) == CC_OK, "date_infer");
	FUZZ_ASSERT(c.dfmt.confidence >= 0 && c.dfmt.confidence <= 1 &&
	    c.dfmt.n_values == n && c.dfmt.n_null <= n &&
	    c.dfmt.n_invalid <= n && c.dfmt.n_mdy + c.dfmt.n_dmy +
	    c.dfmt.n_ambiguous <= n && memchr(c.dfmt.evidence, '\0',
	    sizeof(c.dfmt.evidence)) != NULL && fuzz_utf8_str(c.dfmt.evidence),
	    "date format learned");
	FUZZ_ASSERT(!c.dfmt.has_local_offset || (c.dfmt.local_offset >= -720 &&
	    c.dfmt.local_offset <= 840 && c.dfmt.local_offset % 15 == 0),
	    "local offset %d", c.dfmt.local_offset);
	FUZZ_ASSERT(clean_number_infer(vals, n, &c.nfmt) == CC_OK,
	    "number_infer");
	FUZZ_ASSERT((c.nfmt.decimal == '.' && c.nfmt.group == ',') ||
	    (c.nfmt.decimal == ',' && c.nfmt.group == '.'), "separators");
	FUZZ_ASSERT(c.nfmt.confidence >= 0 && c.nfmt.confidence <= 1 &&
	    memchr(c.nfmt.evidence, '\0', sizeof(c.nfmt.evidence)) != NULL &&
	    fuzz_utf8_str(c.nfmt.evidence), "number format learned");
	for (i = 0; i < n; i++) {
		c.sel = S_DATE;
		/* with a learned local offset the date of a timestamp is
		 * its local date, which is not idempotent on purpose */
		if (check(&c, vals[i], out, sizeof(out), &res,
		    !c.dfmt.has_local_offset) == CLEAN_VALUE) {
			if (prev[0] != '\0')
				dates_checked(out, prev);
			snprintf(prev, sizeof(prev), "%s", out);
		}
		c.sel = S_TIMESTAMP;
		if (check(&c, vals[i], out, sizeof(out), &res, 1) ==
		    CLEAN_VALUE && prev[0] != '\0')
			dates_checked(out, prev);
		c.sel = S_NUMBER;
		check(&c, vals[i], out, sizeof(out), &res, 1);
		c.sel = S_MONEY;
		check(&c, vals[i], out, sizeof(out), &res, 1);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int minor[] = { 2, 0, 3, 18 };
	static const enum clean_date_int ints[] = { CLEAN_DATE_INT_YYYYMMDD,
	    CLEAN_DATE_INT_EPOCH_S, CLEAN_DATE_INT_EPOCH_MS,
	    CLEAN_DATE_INT_SERIAL_1900 };
	struct clean_result res;
	struct call c;
	char *raw, *out, *first, *last, *sep;
	size_t outsize;
	unsigned o;
	cc_err err;

	if (size < 2 || size > 4096)
		return 0;
	memset(&c, 0, sizeof(c));
	c.sel = data[0] % S__MAX;
	o = data[1];
	clean_opts_init(&c.opt);
	clean_date_format_init(&c.dfmt);
	clean_number_format_init(&c.nfmt);
	c.opt.country = countries[o & 15];
	c.opt.minor_digits = minor[(o >> 4) & 3];
	c.dfmt.order = (enum clean_date_order)((o >> 4) % 3);
	c.dfmt.ints = ints[(o >> 2) & 3];
	c.dfmt.pivot = (o & 1) ? 69 : (int)(o % 101);
	if ((o >> 6) & 1) {
		c.nfmt.decimal = ',';
		c.nfmt.group = '.';
	}
	c.list = (enum clean_codelist)(o % CLEAN_CODES__MAX);
	c.cas = (enum clean_case)(o % 3);
	c.opt.flags = 0;
	if (c.sel == S_TEXT_NL)
		c.opt.flags |= CLEAN_F_KEEP_NEWLINES;
	if (c.sel == S_KEY)
		c.opt.flags |= (o & 0x10) ? CLEAN_F_KEY_UPPER : (o & 0x20) ?
		    CLEAN_F_KEY_LOWER : 0;
	if (c.sel == S_NUMBER && (o & 0x20))
		c.opt.flags |= CLEAN_F_PERCENT_FRACTION;
	if (c.sel == S_EMAIL && (o & 0x20))
		c.opt.flags |= CLEAN_F_EMAIL_KEEP_LOCAL_CASE;
	if (c.sel == S_CODE_KEY && (o & 0x20))
		c.opt.flags |= CLEAN_F_CODE_COMPACT;
	if (o & 0x80) {
		/* custom null tokens: none at all */
		c.opt.null_tokens = NULL;
		c.opt.n_null_tokens = 0;
	}
	/* a small buffer now and then, to reach value_too_long */
	outsize = (o & 0x80) && (o & 0x08) ? 1 + (o & 7) * 3 : 4096;
	raw = fuzz_strndup(data + 2, size - 2);
	if ((out = malloc(outsize)) == NULL)
		abort();
	switch (c.sel) {
	case S_COLUMN:
		column(&c, raw);
		break;
	case S_CASE:
		err = clean_case(raw, c.cas, out, outsize);
		FUZZ_ASSERT(err == CC_OK || err == CC_EENCODING ||
		    err == CC_ETOOBIG, "clean_case: %s", cc_strerror(err));
		/* out too small may be seen before a bad byte */
		FUZZ_ASSERT(err == CC_ETOOBIG ||
		    (err == CC_EENCODING) == !fuzz_utf8_str(raw),
		    "clean_case: %s on %s UTF-8", cc_strerror(err),
		    fuzz_utf8_str(raw) ? "valid" : "invalid");
		if (err == CC_OK)
			FUZZ_ASSERT(fuzz_utf8_str(out), "case not UTF-8");
		break;
	case S_NAME_SPLIT:
		first = out;
		last = malloc(outsize);
		if (last == NULL)
			abort();
		memset(&res, 0x5A, sizeof(res));
		err = clean_name_split(raw, &c.opt, first, outsize, last,
		    outsize, &res);
		FUZZ_ASSERT(err == CC_OK || err == CC_ETOOBIG, "split: %s",
		    cc_strerror(err));
		FUZZ_ASSERT(memchr(first, '\0', outsize) && memchr(last, '\0',
		    outsize) && res.len == strlen(first), "split: terminated");
		FUZZ_ASSERT(fuzz_utf8_str(first) && fuzz_utf8_str(last),
		    "split: not UTF-8");
		if (res.status == CLEAN_INVALID)
			FUZZ_ASSERT(res.issue != CLEAN_ISSUE_NONE, "split: no "
			    "issue");
		if (res.status != CLEAN_VALUE)
			FUZZ_ASSERT(first[0] == '\0' && last[0] == '\0',
			    "split: parts without a value");
		else
			FUZZ_ASSERT(first[0] != '\0', "split: no first name "
			    "(last \"%s\")", last);
		free(last);
		break;
	case S_NAME_JOIN:
		/* FIRST TAB LAST; a missing tab is a missing last name */
		sep = strchr(raw, '\t');
		if (sep != NULL)
			*sep++ = '\0';
		memset(&res, 0x5A, sizeof(res));
		err = clean_name_join(raw, sep, &c.opt, out, outsize, &res);
		FUZZ_ASSERT(err == CC_OK || err == CC_ETOOBIG, "join: %s",
		    cc_strerror(err));
		FUZZ_ASSERT(memchr(out, '\0', outsize) && res.len ==
		    strlen(out) && fuzz_utf8_str(out), "join: out");
		if (res.status == CLEAN_INVALID)
			FUZZ_ASSERT(res.issue != CLEAN_ISSUE_NONE, "join: no "
			    "issue");
		if (res.status != CLEAN_VALUE)
			FUZZ_ASSERT(out[0] == '\0', "join: out without value");
		break;
	default:
		check(&c, raw, out, outsize, &res, outsize == 4096);
		if (c.sel == S_DATE || c.sel == S_TIMESTAMP) {
			if (res.status == CLEAN_VALUE)
				dates_checked(out, c.sel == S_DATE ?
				    "2024-02-29" : "2024-02-29T12:00:00Z");
		}
		break;
	}
	free(out);
	free(raw);
	return 0;
}
