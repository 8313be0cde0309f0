/*
 * clean.c - standardisers: the common steps (trimming, null tokens,
 * results), text, keys, person names, cities, e-mail addresses, phone
 * numbers, postal codes and booleans (concord/clean.h).  Dates are in
 * clean_date.c, numbers in clean_number.c, code lists and countries in
 * clean_code.c.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "concord/clean.h"
#include "clean_int.h"

/* Longest name or city handled (bytes); longer values are not names. */
#define CLEAN_NAME_MAX		1024
/* Code points normalised on the stack; longer text allocates. */
#define CLEAN_NFC_MAX		1024

#define NELEM(a)		(sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------ */
/* Names of issues and rules                                          */
/* ------------------------------------------------------------------ */

static const char *const clean_issue_names[CLEAN_ISSUE__MAX] = {
	"none",				/* CLEAN_ISSUE_NONE */
	"value_too_long",		/* CLEAN_ISSUE_VALUE_TOO_LONG */
	"text_invalid_utf8",		/* CLEAN_ISSUE_TEXT_INVALID_UTF8 */
	"name_invalid",			/* CLEAN_ISSUE_NAME_INVALID */
	"date_invalid",			/* CLEAN_ISSUE_DATE_INVALID */
	"date_impossible",		/* CLEAN_ISSUE_DATE_IMPOSSIBLE */
	"date_order_unknown",		/* CLEAN_ISSUE_DATE_ORDER_UNKNOWN */
	"date_order_conflict",		/* CLEAN_ISSUE_DATE_ORDER_CONFLICT */
	"date_out_of_range",		/* CLEAN_ISSUE_DATE_OUT_OF_RANGE */
	"date_in_future",		/* CLEAN_ISSUE_DATE_IN_FUTURE */
	"date_end_before_start",	/* CLEAN_ISSUE_DATE_END_BEFORE_START */
	"number_invalid",		/* CLEAN_ISSUE_NUMBER_INVALID */
	"number_out_of_range",		/* CLEAN_ISSUE_NUMBER_OUT_OF_RANGE */
	"bool_invalid",			/* CLEAN_ISSUE_BOOL_INVALID */
	"code_unknown",			/* CLEAN_ISSUE_CODE_UNKNOWN */
	"country_unknown",		/* CLEAN_ISSUE_COUNTRY_UNKNOWN */
	"state_unknown",		/* CLEAN_ISSUE_STATE_UNKNOWN */
	"email_invalid",		/* CLEAN_ISSUE_EMAIL_INVALID */
	"phone_invalid",		/* CLEAN_ISSUE_PHONE_INVALID */
	"phone_incomplete",		/* CLEAN_ISSUE_PHONE_INCOMPLETE */
	"postal_invalid",		/* CLEAN_ISSUE_POSTAL_INVALID */
};

static const char *const clean_rule_names[CLEAN_RULE__MAX] = {
	"none",				/* CLEAN_RULE_NONE */
	"trim",				/* CLEAN_RULE_TRIM */
	"collapse_space",		/* CLEAN_RULE_COLLAPSE_SPACE */
	"strip_control",		/* CLEAN_RULE_STRIP_CONTROL */
	"strip_invisible",		/* CLEAN_RULE_STRIP_INVISIBLE */
	"unicode_nfc",			/* CLEAN_RULE_UNICODE_NFC */
	"strip_quotes",			/* CLEAN_RULE_STRIP_QUOTES */
	"null_empty",			/* CLEAN_RULE_NULL_EMPTY */
	"null_blank",			/* CLEAN_RULE_NULL_BLANK */
	"null_token",			/* CLEAN_RULE_NULL_TOKEN */
	"lower_case",			/* CLEAN_RULE_LOWER_CASE */
	"upper_case",			/* CLEAN_RULE_UPPER_CASE */
	"title_case",			/* CLEAN_RULE_TITLE_CASE */
	"name_username",		/* CLEAN_RULE_NAME_USERNAME */
	"name_strip_digits",		/* CLEAN_RULE_NAME_STRIP_DIGITS */
	"name_from_email",		/* CLEAN_RULE_NAME_FROM_EMAIL */
	"name_last_first",		/* CLEAN_RULE_NAME_LAST_FIRST */
	"date_iso",			/* CLEAN_RULE_DATE_ISO */
	"date_us_mdy",			/* CLEAN_RULE_DATE_US_MDY */
	"date_eu_dmy",			/* CLEAN_RULE_DATE_EU_DMY */
	"date_yyyymmdd",		/* CLEAN_RULE_DATE_YYYYMMDD */
	"date_month_name",		/* CLEAN_RULE_DATE_MONTH_NAME */
	"date_two_digit_year",		/* CLEAN_RULE_DATE_TWO_DIGIT_YEAR */
	"date_epoch",			/* CLEAN_RULE_DATE_EPOCH */
	"date_serial",			/* CLEAN_RULE_DATE_SERIAL */
	"date_from_timestamp",		/* CLEAN_RULE_DATE_FROM_TIMESTAMP */
	"date_local_offset",		/* CLEAN_RULE_DATE_LOCAL_OFFSET */
	"ts_reformat",			/* CLEAN_RULE_TS_REFORMAT */
	"ts_truncate_fraction",		/* CLEAN_RULE_TS_TRUNCATE_FRACTION */
	"ts_assume_utc",		/* CLEAN_RULE_TS_ASSUME_UTC */
	"ts_zone_to_utc",		/* CLEAN_RULE_TS_ZONE_TO_UTC */
	"ts_from_date",			/* CLEAN_RULE_TS_FROM_DATE */
	"num_canonical",		/* CLEAN_RULE_NUM_CANONICAL */
	"num_plus_sign",		/* CLEAN_RULE_NUM_PLUS_SIGN */
	"num_thousands",		/* CLEAN_RULE_NUM_THOUSANDS */
	"num_decimal_comma",		/* CLEAN_RULE_NUM_DECIMAL_COMMA */
	"num_currency",			/* CLEAN_RULE_NUM_CURRENCY */
	"num_parens_negative",		/* CLEAN_RULE_NUM_PARENS_NEGATIVE */
	"num_percent",			/* CLEAN_RULE_NUM_PERCENT */
	"num_exponent",			/* CLEAN_RULE_NUM_EXPONENT */
	"money_scale",			/* CLEAN_RULE_MONEY_SCALE */
	"money_round",			/* CLEAN_RULE_MONEY_ROUND */
	"bool_token",			/* CLEAN_RULE_BOOL_TOKEN */
	"code_normalise",		/* CLEAN_RULE_CODE_NORMALISE */
	"code_synonym",			/* CLEAN_RULE_CODE_SYNONYM */
	"country_code",			/* CLEAN_RULE_COUNTRY_CODE */
	"country_alpha3",		/* CLEAN_RULE_COUNTRY_ALPHA3 */
	"country_name",			/* CLEAN_RULE_COUNTRY_NAME */
	"country_alias",		/* CLEAN_RULE_COUNTRY_ALIAS */
	"state_code",			/* CLEAN_RULE_STATE_CODE */
	"state_name",			/* CLEAN_RULE_STATE_NAME */
	"city_alias",			/* CLEAN_RULE_CITY_ALIAS */
	"email_extract",		/* CLEAN_RULE_EMAIL_EXTRACT */
	"email_lower",			/* CLEAN_RULE_EMAIL_LOWER */
	"phone_extension",		/* CLEAN_RULE_PHONE_EXTENSION */
	"phone_e164",			/* CLEAN_RULE_PHONE_E164 */
	"phone_digits",			/* CLEAN_RULE_PHONE_DIGITS */
	"postal_format",		/* CLEAN_RULE_POSTAL_FORMAT */
	"zip_plus4_hyphen",		/* CLEAN_RULE_ZIP_PLUS4_HYPHEN */
	"zip_zero_pad",			/* CLEAN_RULE_ZIP_ZERO_PAD */
};

/* The rule bits must fit in struct clean_result's uint64_t. */
typedef char clean_rules_fit[CLEAN_RULE__MAX <= 64 ? 1 : -1];

/* Default null tokens: why each is there is in concord/clean.h. */
const char *const clean_null_tokens_default[] = {
	"null",		/* SQL/JSON null written as text */
	"none",		/* Python None */
	"nil",		/* Ruby, Lisp, Go */
	"(null)",	/* glibc printf of a NULL string */
	"n/a",		/* not applicable */
	"#n/a",		/* spreadsheet lookup failure */
	"na",		/* R NA, pandas na_values */
	"nan",		/* IEEE 754 NaN printed */
	"-",		/* placeholder dash */
	"?",		/* ARFF/Weka, surveys */
	NULL
};
const size_t clean_n_null_tokens_default =
    NELEM(clean_null_tokens_default) - 1;

void
clean_opts_init(struct clean_opts *opt)
{
	memset(opt, 0, sizeof(*opt));
	opt->null_tokens = clean_null_tokens_default;
	opt->n_null_tokens = clean_n_null_tokens_default;
	opt->minor_digits = 2;
}

const char *
clean_issue_name(enum clean_issue issue)
{
	if ((int)issue < 0 || issue >= CLEAN_ISSUE__MAX)
		return "unknown";
	return clean_issue_names[issue];
}

const char *
clean_rule_name(enum clean_rule rule)
{
	if ((int)rule < 0 || rule >= CLEAN_RULE__MAX)
		return "unknown";
	return clean_rule_names[rule];
}

/* ------------------------------------------------------------------ */
/* Common helpers (clean_int.h)                                       */
/* ------------------------------------------------------------------ */

int
clean_i_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

int
clean_i_upper(int c)
{
	return c >= 'a' && c <= 'z' ? c - ('a' - 'A') : c;
}

/* Compares a[0..an) with the NUL-terminated b, ASCII case-insensitively;
 * 0 when equal. */
int
clean_i_casecmp(const char *a, size_t an, const char *b)
{
	size_t i;

	for (i = 0; i < an; i++) {
		if (b[i] == '\0')
			return 1;
		if (clean_i_lower((unsigned char)a[i]) !=
		    clean_i_lower((unsigned char)b[i]))
			return 1;
	}
	return b[an] != '\0';
}

cc_err
clean_i_start(char *out, size_t outsize, struct clean_result *res)
{
	if (res != NULL)
		memset(res, 0, sizeof(*res));
	if (out == NULL || outsize == 0 || res == NULL)
		return CC_EINVAL;
	out[0] = '\0';
	res->status = CLEAN_VALUE;
	return CC_OK;
}

void
clean_i_rule(struct clean_result *res, enum clean_rule r)
{
	if (r == CLEAN_RULE_NONE)
		return;
	res->rules |= CLEAN_RULE_BIT(r);
	if (r > res->rule)
		res->rule = r;
}

void
clean_i_null(struct clean_result *res, enum clean_rule why)
{
	res->status = CLEAN_NULL;
	res->issue = CLEAN_ISSUE_NONE;
	res->rules = 0;
	res->rule = CLEAN_RULE_NONE;
	res->len = 0;
	clean_i_rule(res, why);
}

cc_err
clean_i_put(const char *p, size_t n, char *out, size_t outsize,
    struct clean_result *res)
{
	if (n >= outsize)
		return clean_i_toobig(res, out);
	if (p != out)
		memmove(out, p, n);
	out[n] = '\0';
	res->len = n;
	res->status = CLEAN_VALUE;
	return CC_OK;
}

cc_err
clean_i_invalid(struct clean_result *res, enum clean_issue issue, char *out)
{
	out[0] = '\0';
	res->status = CLEAN_INVALID;
	res->issue = issue;
	res->len = 0;
	res->has_i64 = 0;
	res->i64 = 0;
	res->f64 = 0;
	return CC_OK;
}

cc_err
clean_i_toobig(struct clean_result *res, char *out)
{
	clean_i_invalid(res, CLEAN_ISSUE_VALUE_TOO_LONG, out);
	return CC_ETOOBIG;
}

int
clean_i_utf8(const char *p, size_t n, int32_t *cp)
{
	utf8proc_ssize_t k;

	if (n == 0)
		return -1;
	if ((unsigned char)p[0] < 0x80) {
		*cp = (unsigned char)p[0];
		return 1;
	}
	k = utf8proc_iterate((const utf8proc_uint8_t *)p,
	    (utf8proc_ssize_t)(n > 4 ? 4 : n), cp);
	return k > 0 ? (int)k : -1;
}

void
clean_i_example(char *dst, size_t size, const char *p, size_t n)
{
	size_t i = 0, o = 0;
	int32_t cp;
	int k;

	while (i < n) {
		k = clean_i_utf8(p + i, n - i, &cp);
		if (k < 0) {
			if (o + 3 >= size)
				break;
			memcpy(dst + o, "\xEF\xBF\xBD", 3);	/* U+FFFD */
			o += 3;
			i++;
			continue;
		}
		if (o + (size_t)k >= size)
			break;
		memcpy(dst + o, p + i, (size_t)k);
		o += (size_t)k;
		i += (size_t)k;
	}
	dst[o] = '\0';
}

int
clean_i_encode(int32_t cp, char *dst)
{
	return (int)utf8proc_encode_char(cp, (utf8proc_uint8_t *)dst);
}

int
clean_i_is_space(int32_t cp)
{
	if (cp < 0x80)
		return cp == ' ' || (cp >= '\t' && cp <= '\r');
	return cp == 0x85 || cp == 0xa0 || cp == 0x1680 ||
	    (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 ||
	    cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

int
clean_i_is_invisible(int32_t cp)
{
	return cp == 0xfeff || (cp >= 0x200b && cp <= 0x200d) ||
	    cp == 0x2060 || cp == 0xad;
}

/* C0 and C1 control characters and DEL (general category Cc). */
static int
clean_is_control(int32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

/* Length of the code point that ends at p[n-1], or 0 when none is
 * well-formed there. */
static size_t
clean_last_cp(const char *p, size_t n, int32_t *cp)
{
	size_t k;

	for (k = 1; k <= 4 && k <= n; k++) {
		unsigned char c = (unsigned char)p[n - k];

		if ((c & 0xc0) == 0x80)
			continue;
		if (clean_i_utf8(p + n - k, k, cp) == (int)k)
			return k;
		return 0;
	}
	return 0;
}

void
clean_i_trim(struct clean_span *s)
{
	int32_t cp;
	int k;
	size_t m;

	while (s->n > 0) {
		if ((k = clean_i_utf8(s->p, s->n, &cp)) < 0 ||
		    !(clean_i_is_space(cp) || clean_i_is_invisible(cp)))
			break;
		s->p += k;
		s->n -= (size_t)k;
	}
	while (s->n > 0) {
		if ((m = clean_last_cp(s->p, s->n, &cp)) == 0 ||
		    !(clean_i_is_space(cp) || clean_i_is_invisible(cp)))
			break;
		s->n -= m;
	}
}

int
clean_i_null_token(const char *p, size_t n, const struct clean_opts *opt)
{
	const char *const *t = clean_null_tokens_default;
	size_t i, nt = clean_n_null_tokens_default;

	if (opt != NULL && opt->null_tokens != NULL) {
		t = opt->null_tokens;
		nt = opt->n_null_tokens;
	}
	if (n > 16)
		return 0;
	/* the first letters differ: no need to compare the rest */
	for (i = 0; i < nt; i++)
		if (t[i] != NULL && (n == 0 || clean_i_lower((unsigned char)
		    p[0]) == clean_i_lower((unsigned char)t[i][0])) &&
		    clean_i_casecmp(p, n, t[i]) == 0)
			return 1;
	return 0;
}

int
clean_i_prep(const char *raw, const struct clean_opts *opt,
    int check_tokens, struct clean_span *s, struct clean_result *res)
{
	if (raw == NULL) {
		clean_i_null(res, CLEAN_RULE_NONE);
		return 0;
	}
	if (raw[0] == '\0') {
		clean_i_null(res, CLEAN_RULE_NULL_EMPTY);
		return 0;
	}
	s->p = raw;
	s->n = strlen(raw);
	clean_i_trim(s);
	if (s->n == 0) {
		clean_i_null(res, CLEAN_RULE_NULL_BLANK);
		return 0;
	}
	if (check_tokens && clean_i_null_token(s->p, s->n, opt)) {
		clean_i_null(res, CLEAN_RULE_NULL_TOKEN);
		return 0;
	}
	if (s->p != raw || s->p[s->n] != '\0')
		clean_i_rule(res, CLEAN_RULE_TRIM);
	return 1;
}

int
clean_is_null(const char *raw, const struct clean_opts *opt)
{
	struct clean_result res;
	struct clean_span s;

	memset(&res, 0, sizeof(res));
	return !clean_i_prep(raw, opt, 1, &s, &res);
}

size_t
clean_i_fold(const char *p, size_t n, char *out, size_t outsize)
{
	utf8proc_int32_t buf[8];
	utf8proc_ssize_t m, j;
	int32_t cp;
	size_t i = 0, o = 0;
	int k, bc;

	while (i < n) {
		unsigned char c = (unsigned char)p[i];

		if (c < 0x80) {
			i++;
			if (c == '&') {
				if (o + 3 >= outsize)
					return (size_t)-1;
				memcpy(out + o, "and", 3);
				o += 3;
			} else if ((c >= '0' && c <= '9') ||
			    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
				if (o + 1 >= outsize)
					return (size_t)-1;
				out[o++] = (char)clean_i_lower(c);
			}
			continue;
		}
		if ((k = clean_i_utf8(p + i, n - i, &cp)) < 0)
			return (size_t)-1;
		i += (size_t)k;
		bc = 0;
		m = utf8proc_decompose_char(cp, buf,
		    (utf8proc_ssize_t)NELEM(buf), UTF8PROC_DECOMPOSE |
		    UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK, &bc);
		if (m < 0 || m > (utf8proc_ssize_t)NELEM(buf))
			continue;
		for (j = 0; j < m; j++) {
			utf8proc_category_t cat = utf8proc_category(buf[j]);

			if (cat < UTF8PROC_CATEGORY_LU ||
			    (cat > UTF8PROC_CATEGORY_LO &&
			    (cat < UTF8PROC_CATEGORY_ND ||
			    cat > UTF8PROC_CATEGORY_NO)))
				continue;
			if (o + 4 >= outsize)
				return (size_t)-1;
			o += (size_t)clean_i_encode(buf[j], out + o);
		}
	}
	out[o] = '\0';
	return o;
}

/* ------------------------------------------------------------------ */
/* Text                                                               */
/* ------------------------------------------------------------------ */

static int
clean_is_newline(int32_t cp)
{
	return cp == '\n' || cp == '\r' || cp == 0x0b || cp == 0x0c ||
	    cp == 0x85 || cp == 0x2028 || cp == 0x2029;
}

/* Normalises out[0..*len) to NFC in place (UAX #15). */
static cc_err
clean_nfc(char *out, size_t outsize, size_t *len, struct clean_result *res)
{
	utf8proc_int32_t buf[CLEAN_NFC_MAX + 1];
	const utf8proc_option_t o = UTF8PROC_COMPOSE | UTF8PROC_STABLE;
	utf8proc_uint8_t *dst = NULL;
	utf8proc_ssize_t r;
	const char *src;

	r = utf8proc_decompose((const utf8proc_uint8_t *)out,
	    (utf8proc_ssize_t)*len, buf, CLEAN_NFC_MAX, o);
	if (r < 0)
		return r == UTF8PROC_ERROR_NOMEM ? CC_ENOMEM : CC_EENCODING;
	if (r <= CLEAN_NFC_MAX) {
		r = utf8proc_reencode(buf, r, o);
		src = (const char *)buf;
	} else {
		r = utf8proc_map((const utf8proc_uint8_t *)out,
		    (utf8proc_ssize_t)*len, &dst, o);
		src = (const char *)dst;
	}
	if (r < 0) {
		free(dst);
		return r == UTF8PROC_ERROR_NOMEM ? CC_ENOMEM : CC_EENCODING;
	}
	if ((size_t)r != *len || memcmp(src, out, *len) != 0) {
		if ((size_t)r >= outsize) {
			free(dst);
			return CC_ETOOBIG;
		}
		memcpy(out, src, (size_t)r);
		out[r] = '\0';
		*len = (size_t)r;
		clean_i_rule(res, CLEAN_RULE_UNICODE_NFC);
	}
	free(dst);
	return CC_OK;
}

static int
clean_all_ascii(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] >= 0x80)
			return 0;
	return 1;
}

/* The first pass of clean_i_text(): everything but NFC.  *ascii says
 * whether NFC has anything to do. */
static cc_err
clean_text_pass(const char *p, size_t n, unsigned flags, char *out,
    size_t outsize, size_t *len, int *asciip, struct clean_result *res)
{
	size_t i = 0, o = 0, run = 0, nl = 0;
	int ascii = 1, plain = 1;
	int32_t cp;
	int k;

	*len = 0;
	while (i < n) {
		if ((k = clean_i_utf8(p + i, n - i, &cp)) < 0)
			return CC_EENCODING;
		if (k > 1)
			ascii = 0;
		if (clean_i_is_space(cp) || clean_is_newline(cp)) {
			if ((flags & CLEAN_F_KEEP_NEWLINES) &&
			    clean_is_newline(cp)) {
				if (cp == '\r' && i + 1 < n && p[i + 1] == '\n')
					i++, plain = 0;
				if (cp != '\n')
					plain = 0;
				nl++;
			} else if (cp != ' ')
				plain = 0;
			run++;
			i += (size_t)k;
			continue;
		}
		if (clean_i_is_invisible(cp) || clean_is_control(cp)) {
			clean_i_rule(res, clean_is_control(cp) ?
			    CLEAN_RULE_STRIP_CONTROL :
			    CLEAN_RULE_STRIP_INVISIBLE);
			i += (size_t)k;
			continue;
		}
		if (run > 0) {
			if (o == 0)
				clean_i_rule(res, CLEAN_RULE_TRIM);
			else if (nl > 0) {
				if (o + nl >= outsize)
					return CC_ETOOBIG;
				if (run != nl || !plain)
					clean_i_rule(res,
					    CLEAN_RULE_COLLAPSE_SPACE);
				memset(out + o, '\n', nl);
				o += nl;
			} else {
				if (o + 1 >= outsize)
					return CC_ETOOBIG;
				if (run != 1 || !plain)
					clean_i_rule(res,
					    CLEAN_RULE_COLLAPSE_SPACE);
				out[o++] = ' ';
			}
			run = nl = 0;
			plain = 1;
		}
		if (o + (size_t)k >= outsize)
			return CC_ETOOBIG;
		memcpy(out + o, p + i, (size_t)k);
		o += (size_t)k;
		i += (size_t)k;
	}
	if (run > 0)
		clean_i_rule(res, CLEAN_RULE_TRIM);
	out[o] = '\0';
	*len = o;
	*asciip = ascii;
	return CC_OK;
}

cc_err
clean_i_text(const char *p, size_t n, unsigned flags, char *out,
    size_t outsize, size_t *len, struct clean_result *res)
{
	char *tmp;
	int ascii;
	cc_err e;

	e = clean_text_pass(p, n, flags, out, outsize, len, &ascii, res);
	if (e == CC_OK)
		return ascii ? CC_OK : clean_nfc(out, outsize, len, res);
	if (e != CC_ETOOBIG)
		return e;
	/*
	 * Too long before NFC; NFC may still shrink decomposed text, by at
	 * most 3 to 1 (conjoining Hangul jamo): the one path that
	 * allocates.  ASCII never shrinks.  The first pass never grows text.
	 */
	if (n / 3 >= outsize || clean_all_ascii(p, n))
		return CC_ETOOBIG;
	if ((tmp = malloc(n + 1)) == NULL)
		return CC_ENOMEM;
	e = clean_text_pass(p, n, flags, tmp, n + 1, len, &ascii, res);
	if (e == CC_OK && ascii)
		e = CC_ETOOBIG;
	if (e == CC_OK)
		e = clean_nfc(tmp, n + 1, len, res);
	if (e == CC_OK && *len >= outsize)
		e = CC_ETOOBIG;
	if (e == CC_OK)
		memcpy(out, tmp, *len + 1);
	free(tmp);
	return e;
}

/* Maps a clean_i_text() error onto the result. */
static cc_err
clean_text_err(cc_err e, struct clean_result *res, char *out)
{
	if (e == CC_EENCODING)
		return clean_i_invalid(res, CLEAN_ISSUE_TEXT_INVALID_UTF8, out);
	if (e == CC_ETOOBIG)
		return clean_i_toobig(res, out);
	clean_i_invalid(res, CLEAN_ISSUE_VALUE_TOO_LONG, out);
	return e;
}

cc_err
clean_text(const char *raw, const struct clean_opts *opt, char *out,
    size_t outsize, struct clean_result *res)
{
	struct clean_span s;
	size_t len;
	cc_err e;

	if ((e = clean_i_start(out, outsize, res)) != CC_OK)
		return e;
	if (!clean_i_prep(raw, opt, 1, &s, res))
		return CC_OK;
	e = clean_i_text(s.p, s.n, opt != NULL ? opt->flags : 0, out, outsize,
	    &len, res);
	if (e != CC_OK)
		return clean_text_err(e, res, out);
	if (len == 0) {
		clean_i_null(res, CLEAN_RULE_NULL_BLANK);
		out[0] = '\0';
		return CC_OK;
	}
	res->len = len;
	return CC_OK;
}

static int	clean_emit(int32_t, char *, size_t, size_t *);

/* One code point mapped to a case. */
static int32_t
clean_map_cp(int32_t cp, enum clean_case c)
{
	switch (c) {
	case CLEAN_CASE_LOWER:
		return cp < 0x80 ? clean_i_lower(cp) : utf8proc_tolower(cp);
	case CLEAN_CASE_UPPER:
		return cp < 0x80 ? clean_i_upper(cp) : utf8proc_toupper(cp);
	default:
		return cp < 0x80 ? clean_i_upper(cp) : utf8proc_totitle(cp);
	}
}

/* Case-maps p[0..n) into out; c TITLE capitalises after white space and
 * hyphens.  Returns the length, or -1 (not UTF-8) or -2 (too long). */
static long
clean_case_span(const char *p, size_t n, enum clean_case c, char *out,
    size_t outsize)
{
	size_t i = 0, o = 0;
	int start = 1, k;
	int32_t cp, m;

	while (i < n) {
		if ((k = clean_i_utf8(p + i, n - i, &cp)) < 0)
			return -1;
		i += (size_t)k;
		if (c == CLEAN_CASE_TITLE) {
			m = clean_map_cp(cp, start ? CLEAN_CASE_TITLE :
			    CLEAN_CASE_LOWER);
			start = clean_i_is_space(cp) || cp == '-';
		} else
			m = clean_map_cp(cp, c);
		if (clean_emit(m, out, outsize, &o) < 0)
			return -2;
	}
	out[o] = '\0';
	return (long)o;
}

cc_err
clean_case(const char *in, enum clean_case c, char *out, size_t outsize)
{
	long r;

	if (in == NULL || out == NULL || outsize == 0)
		return CC_EINVAL;
	if (c != CLEAN_CASE_LOWER && c != CLEAN_CASE_UPPER &&
	    c != CLEAN_CASE_TITLE)
		return CC_EINVAL;
	r = clean_case_span(in, strlen(in), c, out, outsize);
	if (r < 0) {
		out[0] = '\0';
		return r == -1 ? CC_EENCODING : CC_ETOOBIG;
	}
	return CC_OK;
}

/* ------------------------------------------------------------------ */
/* Keys                                                               */
/* ------------------------------------------------------------------ */

/* Strips one pair of matching quotes around s; 1 when it did. */
static int
clean_unquote(struct clean_span *s)
{
	static const struct {
		const char *open, *close;
	} q[] = {
		{ "\"", "\"" },				/* ASCII double */
		{ "'", "'" },				/* ASCII single */
		{ "`", "`" },				/* backtick */
		{ "\xe2\x80\x9c", "\xe2\x80\x9d" },	/* U+201C U+201D */
		{ "\xe2\x80\x98", "\xe2\x80\x99" },	/* U+2018 U+2019 */
		{ "\xc2\xab", "\xc2\xbb" },		/* U+00AB U+00BB */
	};
	size_t i, lo, lc;

	/* what every opening quote starts with: '"', '\'', '`', 0xE2, 0xC2 */
	if (s->n < 2 || strchr("\"'`\xe2\xc2", s->p[0]) == NULL ||
	    s->p[0] == '\0')
		return 0;
	for (i = 0; i < NELEM(q); i++) {
		lo = strlen(q[i].open);
		lc = strlen(q[i].close);
		if (s->n >= lo + lc && memcmp(s->p, q[i].open, lo) == 0 &&
		    memcmp(s->p + s->n - lc, q[i].close, lc) == 0) {
			s->p += lo;
			s->n -= lo + lc;
			clean_i_trim(s);
			return 1;
		}
	}
	return 0;
}

cc_err
clean_key(const char *raw, const struct clean_opts *opt, char *out,
    size_t outsize, struct clean_result *res)
{
	struct clean_span s;
	unsigned flags = opt != NULL ? opt->flags : 0;
	size_t i, o = 0;
	int32_t cp, m;
	int k;
	cc_err e;

	if ((e = clean_i_start(out, outsize, res)) != CC_OK)
		return e;
	if (!clean_i_prep(raw, opt, 1, &s, res))
		return CC_OK;
	/* Every pair of quotes, nested ones too ("'A1'" quoted again by an
	 * export), and control characters at the ends first, so that they
	 * hide no quotes ("\x0e'A'"): a cleaned key reads back as itself. */
	for (;;) {
		int32_t c0 = 0, c1 = 0;
		size_t lm;
		int fk;

		if (s.n > 0 && (fk = clean_i_utf8(s.p, s.n, &c0)) > 0 &&
		    clean_is_control(c0)) {
			s.p += fk;
			s.n -= (size_t)fk;
			clean_i_rule(res, CLEAN_RULE_STRIP_CONTROL);
			clean_i_trim(&s);
		} else if (s.n > 0 && (lm = clean_last_cp(s.p, s.n, &c1)) > 0 &&
		    clean_is_control(c1)) {
			s.n -= lm;
			clean_i_rule(res, CLEAN_RULE_STRIP_CONTROL);
			clean_i_trim(&s);
		} else if (clean_unquote(&s))
			clean_i_rule(res, CLEAN_RULE_STRIP_QUOTES);
		else
			break;
	}
	if (s.n == 0) {
		clean_i_null(res, CLEAN_RULE_NULL_BLANK);
		return CC_OK;
	}
	for (i = 0; i < s.n; i += (size_t)k) {
		if ((k = clean_i_utf8(s.p + i, s.n - i, &cp)) < 0)
			return clean_i_invalid(res,
			    CLEAN_ISSUE_TEXT_INVALID_UTF8, out);
		if (clean_i_is_invisible(cp) || clean_is_control(cp)) {
			clean_i_rule(res, clean_is_control(cp) ?
			    CLEAN_RULE_STRIP_CONTROL :
			    CLEAN_RULE_STRIP_INVISIBLE);
			continue;
		}
		m = cp;
		if (cp >= 0x80 && clean_i_is_space(cp)) {
			m = ' ';
			clean_i_rule(res, CLEAN_RULE_COLLAPSE_SPACE);
		} else if (flags & (CLEAN_F_KEY_UPPER | CLEAN_F_KEY_LOWER)) {
			m = clean_map_cp(cp, (flags & CLEAN_F_KEY_UPPER) ?
			    CLEAN_CASE_UPPER : CLEAN_CASE_LOWER);
			if (m != cp)
				clean_i_rule(res, (flags & CLEAN_F_KEY_UPPER) ?
				    CLEAN_RULE_UPPER_CASE :
				    CLEAN_RULE_LOWER_CASE);
		}
		/* a space that a removed character left at the start */
		if (m == ' ' && o == 0) {
			clean_i_rule(res, CLEAN_RULE_TRIM);
			continue;
		}
		if (clean_emit(m, out, outsize, &o) < 0)
			return clean_i_toobig(res, out);
	}
	/* ... or at the end ("AB \x11") */
	for (; o > 0 && out[o - 1] == ' '; o--)
		clean_i_rule(res, CLEAN_RULE_TRIM);
	out[o] = '\0';
	if (o == 0) {
		clean_i_null(res, CLEAN_RULE_NULL_BLANK);
		return CC_OK;
	}
	res->len = o;
	return CC_OK;
}

/* ------------------------------------------------------------------ */
/* Person names                                                       */
/* ------------------------------------------------------------------ */

/* Particles kept lower case between two words of a name. */
static const char *const clean_particles[] = {
	"van",		/* Dutch: van Gogh */
	"von",		/* German: von Neumann */
	"de",		/* French, Spanish, Portuguese, Dutch */
	"der",		/* Dutch, German: van der Berg */
	"den",		/* Dutch: van den Broek */
	"del",		/* Spanish, Italian: del Toro */
	"della",	/* Italian: della Robbia */
	"des",		/* French: des Prés */
	"da",		/* Italian, Portuguese: da Silva */
	"das",		/* Portuguese: das Neves */
	"do",		/* Portuguese: do Carmo */
	"dos",		/* Portuguese: dos Santos */
	"di",		/* Italian: di Caprio */
	"du",		/* French: du Pont */
	"le",		/* French: le Carré */
	"la",		/* French, Spanish, Italian: de la Cruz */
	"ter",		/* Dutch: ter Stegen */
	"ten",		/* Dutch: ten Hag */
};

/* Suffixes: "Last, Jr." is no "Last, First"; kept with the last name. */
static const char *const clean_suffixes[] = {
	"jr", "sr",				/* junior, senior */
	"ii", "iii", "iv", "vi", "vii", "viii",	/* generational numerals */
	"phd", "md", "esq",			/* degrees and titles */
};

/* Roman numerals written upper case when not first. */
static const char *const clean_numerals[] = {
	"ii", "iii", "iv", "vi", "vii", "viii",
};

/* Mac-names that get the capital before a vowel (see clean_name()). */
static const char *const clean_mac_yes[] = {
	"macarthur", "macalister", "macallister", "macaulay", "macewan",
	"macinnes", "macintyre", "maciver", "mackinnon",
};

/* Names that start with Mac + consonant but are not Mac-names. */
static const char *const clean_mac_no[] = {
	"macbeth",	/* Shakespeare's spelling */
	"macron",	/* French surname */
	"macdui",	/* Ben Macdui, a place */
	"macquarie",	/* usually written so */
};

static int
clean_in_list(const char *p, size_t n, const char *const *list, size_t nl)
{
	size_t i;

	for (i = 0; i < nl; i++)
		if (clean_i_casecmp(p, n, list[i]) == 0)
			return 1;
	return 0;
}

/* p[0..n) without a trailing '.' is in list. */
static int
clean_in_list_dot(const char *p, size_t n, const char *const *list,
    size_t nl)
{
	if (n > 1 && p[n - 1] == '.')
		n--;
	return clean_in_list(p, n, list, nl);
}

static int
clean_is_apostrophe(int32_t cp)
{
	return cp == '\'' || cp == 0x2019 || cp == 0x02bc;
}

static int
clean_is_letter(int32_t cp)
{
	utf8proc_category_t cat;

	if (cp < 0x80)
		return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
	cat = utf8proc_category(cp);
	return cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO;
}

static int
clean_is_digit_cp(int32_t cp)
{
	if (cp < 0x80)
		return cp >= '0' && cp <= '9';
	return utf8proc_category(cp) == UTF8PROC_CATEGORY_ND;
}

/* Appends cp to out; -1 when it does not fit. */
static int
clean_emit(int32_t cp, char *out, size_t outsize, size_t *o)
{
	char tmp[4];
	int k;

	if (cp >= 0 && cp < 0x80) {	/* one byte, as UTF-8 writes it */
		if (*o + 1 >= outsize)
			return -1;
		out[(*o)++] = (char)cp;
		return 0;
	}
	k = clean_i_encode(cp, tmp);
	if (*o + (size_t)k >= outsize)
		return -1;
	memcpy(out + *o, tmp, (size_t)k);
	*o += (size_t)k;
	return 0;
}

/*
 * Lower-cases the word w[0..n) into low (ASCII and Unicode) for the
 * table look-ups; returns its length or -1.
 */
static long
clean_lower_word(const char *w, size_t n, char *low, size_t lowsize)
{
	return clean_case_span(w, n, CLEAN_CASE_LOWER, low, lowsize);
}

/* Letters of the sub-part that starts at low[i] (up to '-' or end). */
static size_t
clean_subpart_len(const char *low, size_t n, size_t i)
{
	size_t j = i;

	while (j < n && low[j] != '-' && low[j] != ' ')
		j++;
	return j - i;
}

/* The Mac rule at low[i..] of sub-part length len: 1 to capitalise the
 * letter after "mac". */
static int
clean_mac_rule(const char *low, size_t i, size_t len)
{
	char c;

	if (len < 4 || memcmp(low + i, "mac", 3) != 0)
		return 0;
	if (clean_in_list(low + i, len, clean_mac_yes, NELEM(clean_mac_yes)))
		return 1;
	if (clean_in_list(low + i, len, clean_mac_no, NELEM(clean_mac_no)))
		return 0;
	if (len < 6)
		return 0;
	c = low[i + 3];
	return strchr("bdfglmnprstvw", c) != NULL && c != '\0';
}

/*
 * Re-cases one word (w[0..n), all upper or all lower case) into out at
 * *o: first and last say where the word stands in the name.
 */
static int
clean_recase_word(const char *w, size_t n, int first, int last, char *out,
    size_t outsize, size_t *o)
{
	char low[CLEAN_NAME_MAX];
	long ln;
	size_t i, sub = 0, letters = 0;
	int32_t cp, prev = 0;
	int k, cap = 1;

	if ((ln = clean_lower_word(w, n, low, sizeof(low))) < 0)
		return -1;
	if (!first && !last &&
	    clean_in_list(low, (size_t)ln, clean_particles,
	    NELEM(clean_particles))) {
		if (*o + (size_t)ln >= outsize)
			return -1;
		memcpy(out + *o, low, (size_t)ln);
		*o += (size_t)ln;
		return 0;
	}
	if (!first && clean_in_list(low, (size_t)ln, clean_numerals,
	    NELEM(clean_numerals))) {
		for (i = 0; i < (size_t)ln; i++)
			if (clean_emit(clean_i_upper(low[i]), out, outsize,
			    o) < 0)
				return -1;
		return 0;
	}
	for (i = 0; i < (size_t)ln; i += (size_t)k) {
		if ((k = clean_i_utf8(low + i, (size_t)ln - i, &cp)) < 0)
			return -1;
		if (cap && clean_is_letter(cp)) {
			sub = clean_subpart_len(low, (size_t)ln, i);
			if (sub > 2 && memcmp(low + i, "mc", 2) == 0) {
				if (clean_emit('M', out, outsize, o) < 0 ||
				    clean_emit('c', out, outsize, o) < 0)
					return -1;
				i += 2;
				k = clean_i_utf8(low + i, (size_t)ln - i, &cp);
				if (k < 0)
					return -1;
			} else if (clean_mac_rule(low, i, sub)) {
				if (clean_emit('M', out, outsize, o) < 0 ||
				    clean_emit('a', out, outsize, o) < 0 ||
				    clean_emit('c', out, outsize, o) < 0)
					return -1;
				i += 3;
				k = clean_i_utf8(low + i, (size_t)ln - i, &cp);
				if (k < 0)
					return -1;
			}
			if (clean_emit(clean_map_cp(cp, CLEAN_CASE_TITLE), out,
			    outsize, o) < 0)
				return -1;
			cap = 0;
			letters = 1;
			prev = cp;
			continue;
		}
		if (clean_emit(cp, out, outsize, o) < 0)
			return -1;
		if (cp == '-' || cp == '.')
			cap = 1, letters = 0;
		else if (clean_is_apostrophe(cp))
			cap = letters == 1 && clean_is_letter(prev);
		else if (clean_is_letter(cp))
			letters++;
		prev = cp;
	}
	return 0;
}

/* 1 when the word has both upper- and lower-case letters. */
static int
clean_mixed_case(const char *w, size_t n)
{
	int up = 0, lo = 0, k;
	size_t i;
	int32_t cp;

	for (i = 0; i < n; i += (size_t)k) {
		if ((k = clean_i_utf8(w + i, n - i, &cp)) < 0)
			return 0;
		if (cp < 0x80) {
			up |= cp >= 'A' && cp <= 'Z';
			lo |= cp >= 'a' && cp <= 'z';
		} else {
			up |= utf8proc_isupper(cp);
			lo |= utf8proc_islower(cp);
		}
	}
	return up && lo;
}

/* Re-cases every word of w[0..*n) (single spaces) in place. */
static int
clean_recase(char *w, size_t *n, size_t size, struct clean_result *res)
{
	char tmp[CLEAN_NAME_MAX];
	size_t i = 0, o = 0, j, nw = 0, wi = 0;

	for (j = 0; j < *n; j++)
		if (j == 0 || w[j - 1] == ' ')
			nw++;
	while (i < *n) {
		j = i;
		while (j < *n && w[j] != ' ')
			j++;
		if (clean_mixed_case(w + i, j - i)) {
			if (o + (j - i) >= sizeof(tmp))
				return -1;
			memcpy(tmp + o, w + i, j - i);
			o += j - i;
		} else if (clean_recase_word(w + i, j - i, wi == 0,
		    wi + 1 == nw, tmp, sizeof(tmp), &o) < 0)
			return -1;
		wi++;
		if (j < *n) {
			if (o + 1 >= sizeof(tmp))
				return -1;
			tmp[o++] = ' ';
		}
		i = j + 1;
	}
	if (o >= size)
		return -1;
	if (o != *n || memcmp(tmp, w, o) != 0) {
		memcpy(w, tmp, o);
		clean_i_rule(res, CLEAN_RULE_TITLE_CASE);
	}
	w[o] = '\0';
	*n = o;
	return 0;
}

/* Collapses spaces in w[0..*n) in place, trimming the ends. */
static void
clean_squeeze(char *w, size_t *n)
{
	size_t i, o = 0;

	for (i = 0; i < *n; i++) {
		if (w[i] == ' ' && (o == 0 || w[o - 1] == ' '))
			continue;
		w[o++] = w[i];
	}
	while (o > 0 && w[o - 1] == ' ')
		o--;
	w[o] = '\0';
	*n = o;
}

/* 1 when w has a letter. */
static int
clean_has_letter(const char *w, size_t n)
{
	size_t i;
	int32_t cp;
	int k;

	for (i = 0; i < n; i += (size_t)k) {
		if ((k = clean_i_utf8(w + i, n - i, &cp)) < 0)
			return 0;
		if (clean_is_letter(cp))
			return 1;
	}
	return 0;
}

enum clean_name_mode {
	CLEAN_NAME_FULL,	/* a full name */
	CLEAN_NAME_PART,	/* a first or last name */
	CLEAN_NAME_CITY		/* a place name */
};

/*
 * The name pipeline into w (CLEAN_NAME_MAX bytes): returns 1 with w and
 * *wn set, 0 when res is final (NULL or invalid; *err the return value).
 */
static int
clean_name_core(const char *raw, const struct clean_opts *opt,
    enum clean_name_mode mode, char *w, size_t *wn, struct clean_result *res,
    cc_err *err)
{
	struct clean_span s;
	size_t n, i, o, ncomma = 0, comma = 0;
	int32_t cp;
	int k, upper = 0, space = 0, seps = 0;
	cc_err e;

	*err = CC_OK;
	if (!clean_i_prep(raw, opt, 1, &s, res))
		return 0;
	e = clean_i_text(s.p, s.n, 0, w, CLEAN_NAME_MAX, &n, res);
	if (e == CC_ETOOBIG) {
		clean_i_invalid(res, CLEAN_ISSUE_NAME_INVALID, w);
		return 0;
	}
	if (e != CC_OK) {
		*err = clean_text_err(e, res, w);
		return 0;
	}
	if (mode == CLEAN_NAME_FULL) {
		char *at = memchr(w, '@', n);

		if (at != NULL) {
			n = (size_t)(at - w);
			w[n] = '\0';
			clean_i_rule(res, CLEAN_RULE_NAME_FROM_EMAIL);
		}
	}
	for (i = 0; i < n; i++) {
		if (w[i] >= 'A' && w[i] <= 'Z')
			upper = 1;
		else if (w[i] == ' ')
			space = 1;
		else if (w[i] == '.' || w[i] == '-')
			seps = 1;
	}
	for (i = 0; i < n; i += (size_t)k) {
		if ((k = clean_i_utf8(w + i, n - i, &cp)) < 0)
			return 0;
		if (cp >= 0x80 && utf8proc_isupper(cp))
			upper = 1;
	}
	/* A user name ("john.smith") starts with a cased letter: one that
	 * starts with a letter without case ("\xe6\x80\x89-'sl") stays as
	 * written, since recasing it leaves no capital that would tell the
	 * cleaned name from a user name when it is cleaned again. */
	if (n > 0 && clean_i_utf8(w, n, &cp) > 0 &&
	    utf8proc_tolower(cp) == cp && utf8proc_toupper(cp) == cp)
		seps = 0;
	for (i = 0; i < n; i++) {
		if (w[i] == '_' || (mode == CLEAN_NAME_FULL && !space &&
		    !upper && seps && (w[i] == '.' || w[i] == '-'))) {
			w[i] = ' ';
			clean_i_rule(res, CLEAN_RULE_NAME_USERNAME);
		}
	}
	if (mode != CLEAN_NAME_CITY) {
		for (i = o = 0; i < n; i += (size_t)k) {
			if ((k = clean_i_utf8(w + i, n - i, &cp)) < 0)
				return 0;
			if (clean_is_digit_cp(cp)) {
				clean_i_rule(res, CLEAN_RULE_NAME_STRIP_DIGITS);
				continue;
			}
			memmove(w + o, w + i, (size_t)k);
			o += (size_t)k;
		}
		n = o;
		/* a hyphen at a word's edge ("Ann-", or left by the digits:
		 * "20 -Ann", "ann-123") joins nothing: dropped, so that the
		 * name reads back as itself; a comma is an edge too, since
		 * "Last, First" is turned round below ("F-011,047FY-" is
		 * "F-,FY" without its digits: "Fy F", not "Fy F-") */
		for (k = 1; k;) {
			k = 0;
			for (i = o = 0; i < n; i++) {
				if (w[i] == '-' && (o == 0 || w[o - 1] == ' ' ||
				    w[o - 1] == ',' || i + 1 == n ||
				    w[i + 1] == ' ' || w[i + 1] == ',')) {
					k = 1;
					clean_i_rule(res, CLEAN_RULE_TRIM);
					continue;
				}
				w[o++] = w[i];
			}
			n = o;
		}
	}
	clean_squeeze(w, &n);
	if (mode == CLEAN_NAME_FULL) {
		for (i = 0; i < n; i++)
			if (w[i] == ',')
				ncomma++, comma = i;
		if (ncomma == 1) {
			char tmp[CLEAN_NAME_MAX];
			size_t a = comma, b = comma + 1;

			while (b < n && w[b] == ' ')
				b++;
			if (a > 0 && b < n && !clean_in_list_dot(w + b, n - b,
			    clean_suffixes, NELEM(clean_suffixes))) {
				memcpy(tmp, w + b, n - b);
				tmp[n - b] = ' ';
				memcpy(tmp + n - b + 1, w, a);
				n = n - b + 1 + a;
				memcpy(w, tmp, n);
				w[n] = '\0';
				clean_squeeze(w, &n);
				clean_i_rule(res, CLEAN_RULE_NAME_LAST_FIRST);
			}
		}
	}
	if (!clean_has_letter(w, n)) {
		if (mode == CLEAN_NAME_CITY && n > 0) {
			/* A place without letters: kept as text. */
			*wn = n;
			return 1;
		}
		if (mode == CLEAN_NAME_CITY)
			clean_i_null(res, CLEAN_RULE_NULL_BLANK);
		else
			clean_i_invalid(res, CLEAN_ISSUE_NAME_INVALID, w);
		return 0;
	}
	/* Dropping digits or moving words can bring a combining mark next
	 * to a letter it composes with ("e2\u0301" -> "e\u0301"): NFC
	 * again, before the case is set (which counts characters: "r\u0301"
	 * must be the one letter it reads as when cleaned again) and after
	 * it, so that the name is NFC and reads back as itself. */
	if (!clean_all_ascii(w, n) && (e = clean_nfc(w, CLEAN_NAME_MAX, &n,
	    res)) != CC_OK) {
		if (e == CC_ETOOBIG)
			clean_i_invalid(res, CLEAN_ISSUE_NAME_INVALID, w);
		else
			*err = clean_text_err(e, res, w);
		return 0;
	}
	if (clean_recase(w, &n, CLEAN_NAME_MAX, res) < 0) {
		clean_i_invalid(res, CLEAN_ISSUE_NAME_INVALID, w);
		return 0;
	}
	if (!clean_all_ascii(w, n) && (e = clean_nfc(w, CLEAN_NAME_MAX, &n,
	    res)) != CC_OK) {
		if (e == CC_ETOOBIG)
			clean_i_invalid(res, CLEAN_ISSUE_NAME_INVALID, w);
		else
			*err = clean_text_err(e, res, w);
		return 0;
	}
	*wn = n;
	return 1;
}

static cc_err
clean_name_mode(const char *raw, const struct clean_opts *opt,
    enum clean_name_mode mode, char *out, size_t outsize,
    struct clean_result *res)
{
	char w[CLEAN_NAME_MAX];
	size_t n;
	cc_err e;

	if ((e = clean_i_start(out, outsize, res)) != CC_OK)
		return e;
	if (!clean_name_core(raw, opt, mode, w, &n, res, &e)) {
		out[0] = '\0';
		return e;
	}
	return clean_i_put(w, n, out, outsize, res);
}

cc_err
clean_name(const char *raw, const struct clean_opts *opt, char *out,
    size_t outsize, struct clean_result *res)
{
	return clean_name_mode(raw, opt, CLEAN_NAME_FULL, out, outsize, res);
}

cc_err
clean_name_part(const char *raw, const struct clean_opts *opt, char *out,
    size_t outsize, struct clean_result *res)
{
	return clean_name_mode(raw, opt, CLEAN_NAME_PART, out, outsize, res);
}

cc_err
clean_name_split(const char *raw, const struct clean_opts *opt, char *first,
    size_t firstsize, char *last, size_t lastsize, struct clean_result *res)
{
	char w[CLEAN_NAME_MAX];
	size_t n, ws[CLEAN_NAME_MAX / 2], nw = 0, i, start, cut;
	cc_err e;

	if (last == NULL || lastsize == 0) {
		clean_i_start(first, firstsize, res);
		return CC_EINVAL;
	}
	last[0] = '\0';
	if ((e = clean_i_start(first, firstsize, res)) != CC_OK)
		return e;
	if (!clean_name_core(raw, opt, CLEAN_NAME_FULL, w, &n, res, &e))
		return e;
	for (i = 0; i < n; i++)
		if (i == 0 || w[i - 1] == ' ')
			ws[nw++] = i;
	if (nw < 2)
		return clean_i_put(w, n, first, firstsize, res);
	start = nw - 1;
	if (nw >= 3 && clean_in_list_dot(w + ws[start], n - ws[start],
	    clean_suffixes, NELEM(clean_suffixes)))
		start--;
	while (start > 1) {
		size_t b = ws[start - 1], l = ws[start] - 1 - b;

		if (!clean_in_list(w + b, l, clean_particles,
		    NELEM(clean_particles)))
			break;
		start--;
	}
	cut = ws[start];
	if (n - cut >= lastsize)
		return clean_i_toobig(res, first);
	memcpy(last, w + cut, n - cut);
	last[n - cut] = '\0';
	if ((e = clean_i_put(w, cut - 1, first, firstsize, res)) != CC_OK)
		last[0] = '\0';
	return e;
}

cc_err
clean_name_join(const char *first, const char *last,
    const struct clean_opts *opt, char *out, size_t outsize,
    struct clean_result *res)
{
	char a[CLEAN_NAME_MAX], b[CLEAN_NAME_MAX];
	struct clean_result ra, rb;
	size_t na = 0, nb = 0;
	int ha, hb;
	cc_err e;

	if ((e = clean_i_start(out, outsize, res)) != CC_OK)
		return e;
	memset(&ra, 0, sizeof(ra));
	memset(&rb, 0, sizeof(rb));
	ha = clean_name_core(first, opt, CLEAN_NAME_PART, a, &na, &ra, &e);
	if (!ha && ra.status == CLEAN_INVALID) {
		*res = ra;
		return e;
	}
	hb = clean_name_core(last, opt, CLEAN_NAME_PART, b, &nb, &rb, &e);
	if (!hb && rb.status == CLEAN_INVALID) {
		*res = rb;
		return e;
	}
	res->rules = ra.rules | rb.rules;
	res->rule = ra.rule > rb.rule ? ra.rule : rb.rule;
	if (!ha && !hb) {
		clean_i_null(res, ra.rule > rb.rule ? ra.rule : rb.rule);
		return CC_OK;
	}
	if (ha && hb) {
		if (na + 1 + nb >= outsize)
			return clean_i_toobig(res, out);
		memcpy(out, a, na);
		out[na] = ' ';
		memcpy(out + na + 1, b, nb);
		out[na + 1 + nb] = '\0';
		res->len = na + 1 + nb;
		res->status = CLEAN_VALUE;
		return CC_OK;
	}
	return ha ? clean_i_put(a, na, out, outsize, res) :
	    clean_i_put(b, nb, out, outsize, res);
}

/* ------------------------------------------------------------------ */
/* Cities                                                             */
/* ------------------------------------------------------------------ */

/* Abbreviations of a few cities, keyed by clean_i_fold(). */
static const struct {
	const char *key, *city;
} clean_city_aliases[] = {
	{ "nyc", "New York" },			/* New York City */
	{ "newyorkcity", "New York" },		/* its full name */
	{ "la", "Los Angeles" },		/* Los Angeles */
	{ "sf", "San Francisco" },		/* San Francisco */
	{ "philly", "Philadelphia" },		/* Philadelphia */
	{ "vegas", "Las Vegas" },		/* Las Vegas */
};

cc_err
clean_city(const char *raw, const struct clean_opts *opt, char *out,
    size_t outsize, struct clean_result *res)
{
	char key[32];
	struct clean_span s;
	size_t i, n;
	cc_err e;

	if ((e = clean_i_start(out, outsize, res)) != CC_OK)
		return e;
	if (raw != NULL) {
		s.p = raw;
		s.n = strlen(raw);
		clean_i_trim(&s);
		n = clean_i_fold(s.p, s.n, key, sizeof(key));
		for (i = 0; n != (size_t)-1 && i < NELEM(clean_city_aliases);
		    i++)
			if (strcmp(key, clean_city_aliases[i].key) == 0) {
				clean_i_rule(res, CLEAN_RULE_CITY_ALIAS);
				return clean_i_put(clean_city_aliases[i].city,
				    strlen(clean_city_aliases[i].city), out,
				    outsize, res);
			}
	}
	return clean_name_mode(raw, opt, CLEAN_NAME_CITY, out, outsize, res);
}

/* ------------------------------------------------------------------ */
/* E-mail                                                             */
/* ------------------------------------------------------------------ */

/* RFC 5322 atext. */
static int
clean_atext(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$%&'*+/=?^_`{|}~-", c) != NULL);
}

static int
clean_email_valid(const char *p, size_t n)
{
	const char *at = memchr(p, '@', n);
	size_t nl, nd, i, lab = 0, labels = 0, last = 0;
	int alldig = 1;

	if (at == NULL || n > 254)
		return 0;
	nl = (size_t)(at - p);
	nd = n - nl - 1;
	if (nl == 0 || nl > 64 || nd == 0 || nd > 253)
		return 0;
	if (p[0] == '.' || p[nl - 1] == '.')
		return 0;
	for (i = 0; i < nl; i++) {
		if (p[i] == '.') {
			if (p[i + 1] == '.')
				return 0;
		} else if (!clean_atext((unsigned char)p[i]))
			return 0;
	}
	for (i = nl + 1; i <= n; i++) {
		int c = i < n ? (unsigned char)p[i] : '.';

		if (c == '.') {
			if (lab == 0 || lab > 63 || p[i - 1] == '-')
				return 0;
			labels++;
			last = i - lab;
			lab = 0;
			continue;
		}
		if (lab == 0 && c == '-')
			return 0;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-'))
			return 0;
		lab++;
	}
	for (i = last; i < n; i++)
		if (!(p[i] >= '0' && p[i] <= '9'))
			alldig = 0;
	return labels >= 2 && !alldig;
}

cc_err
clean_email(const char *raw, const struct clean_opts *opt, char *out,
    size_t outsize, struct clean_result *res)
{
	struct clean_span s;
	const char *lt, *at;
	size_t i;
	int keep = opt != NULL && (opt->flags & CLEAN_F_EMAIL_KEEP_LOCAL_CASE);
	cc_err e;

	if ((e = clean_i_start(out, outsize, res)) != CC_OK)
		return e;
	if (!clean_i_prep(raw, opt, 1, &s, res))
		return CC_OK;
	if (s.n > 7 && clean_i_casecmp(s.p, 7, "mailto:") == 0) {
		s.p += 7;
		s.n -= 7;
		clean_i_trim(&s);
		clean_i_rule(res, CLEAN_RULE_EMAIL_EXTRACT);
	}
	lt = NULL;
	for (i = 0; s.n > 2 && s.p[s.n - 1] == '>' && i < s.n; i++)
		if (s.p[i] == '<')
			lt = s.p + i;
	if (lt != NULL) {
		s.n = (size_t)(s.p + s.n - 1 - (lt + 1));
		s.p = lt + 1;
		clean_i_trim(&s);
		clean_i_rule(res, CLEAN_RULE_EMAIL_EXTRACT);
	}
	if (!clean_email_valid(s.p, s.n))
		return clean_i_invalid(res, CLEAN_ISSUE_EMAIL_INVALID, out);
	if (s.n >= outsize)
		return clean_i_toobig(res, out);
	at = memchr(s.p, '@', s.n);
	for (i = 0; i < s.n; i++) {
		char c = s.p[i];

		if (!keep || s.p + i > at)
			c = (char)clean_i_lower((unsigned char)c);
		if (c != s.p[i])
			clean_i_rule(res, CLEAN_RULE_EMAIL_LOWER);
		out[i] = c;
	}
	out[s.n] = '\0';
	res->len = s.n;
	return CC_OK;
}

/* ------------------------------------------------------------------ */
/* Phones                                                             */
/* ------------------------------------------------------------------ */

/* Calling codes, trunk prefixes and national significant number lengths
 * (ITU-T E.164 assignments and the national numbering plans). */
static const struct clean_phone_plan {
	const char	*country;	/* ISO 3166-1 alpha-2 */
	const char	*cc;		/* country calling code */
	int		 trunk0;	/* national trunk prefix "0" dropped */
	int		 min, max;	/* national significant number */
} clean_phone_plans[] = {
	{ "US", "1", 0, 10, 10 },	/* United States (NANP) */
	{ "CA", "1", 0, 10, 10 },	/* Canada (NANP) */
	{ "PR", "1", 0, 10, 10 },	/* Puerto Rico (NANP) */
	{ "GB", "44", 1, 9, 10 },	/* United Kingdom */
	{ "IE", "353", 1, 7, 9 },	/* Ireland */
	{ "DE", "49", 1, 6, 13 },	/* Germany */
	{ "FR", "33", 1, 9, 9 },	/* France */
	{ "IT", "39", 0, 6, 11 },	/* Italy: the 0 is part of the number */
	{ "ES", "34", 0, 9, 9 },	/* Spain */
	{ "PT", "351", 0, 9, 9 },	/* Portugal */
	{ "NL", "31", 1, 9, 9 },	/* Netherlands */
	{ "BE", "32", 1, 8, 9 },	/* Belgium */
	{ "CH", "41", 1, 9, 9 },	/* Switzerland */
	{ "AT", "43", 1, 4, 13 },	/* Austria */
	{ "DK", "45", 0, 8, 8 },	/* Denmark */
	{ "NO", "47", 0, 8, 8 },	/* Norway */
	{ "SE", "46", 1, 7, 9 },	/* Sweden */
	{ "PL", "48", 0, 9, 9 },	/* Poland */
	{ "AU", "61", 1, 9, 9 },	/* Australia */
	{ "NZ", "64", 1, 8, 10 },	/* New Zealand */
	{ "IN", "91", 1, 10, 10 },	/* India */
	{ "JP", "81", 1, 9, 10 },	/* Japan */
	{ "CN", "86", 1, 10, 11 },	/* China */
	{ "SG", "65", 0, 8, 8 },	/* Singapore */
	{ "BR", "55", 1, 10, 11 },	/* Brazil */
	{ "MX", "52", 0, 10, 10 },	/* Mexico */
	{ "ZA", "27", 1, 9, 9 },	/* South Africa */
};

static const struct clean_phone_plan *
clean_phone_plan(const char *country)
{
	size_t i;

	if (country == NULL)
		return NULL;
	for (i = 0; i < NELEM(clean_phone_plans); i++)
		if (clean_i_casecmp(country, strlen(country),
		    clean_phone_plans[i].country) == 0)
			return &clean_phone_plans[i];
	return NULL;
}

/* Finds an extension at the end of p[0..n): returns the length of the
 * number before it (n when none) and sets ext (digits) and *ne. */
static size_t
clean_phone_ext(const char *p, size_t n, const char **ext, size_t *ne)
{
	static const char *const marks[] = {
		"extension", "ext.", "ext", "x", "#",
	};
	size_t j = n, m, i, l;

	*ne = 0;
	while (j > 0 && p[j - 1] >= '0' && p[j - 1] <= '9')
		j--;
	if (j == n || n - j > 10)
		return n;
	/* RFC 3966's own ";ext=" (what this function writes) */
	if (j >= 6 && clean_i_casecmp(p + j - 5, 5, ";ext=") == 0 &&
	    p[j - 6] >= '0' && p[j - 6] <= '9') {
		*ext = p + j;
		*ne = n - j;
		return j - 5;
	}
	m = j;
	while (m > 0 && (p[m - 1] == ' ' || p[m - 1] == ':' ||
	    p[m - 1] == '.'))
		m--;
	for (i = 0; i < NELEM(marks); i++) {
		l = strlen(marks[i]);
		if (m < l + 1 || clean_i_casecmp(p + m - l, l, marks[i]) != 0)
			continue;
		if (!(p[m - l - 1] == ' ' || p[m - l - 1] == ')' ||
		    (p[m - l - 1] >= '0' && p[m - l - 1] <= '9')))
			continue;
		*ext = p + j;
		*ne = n - j;
		return m - l;
	}
	return n;
}

cc_err
clean_phone(const char *raw, const struct clean_opts *opt, char *out,
    size_t outsize, struct clean_result *res)
{
	const struct clean_phone_plan *plan;
	struct clean_span s;
	const char *ext = NULL, *d, *cc = NULL;
	char dig[24], buf[64];
	size_t n, i, nd = 0, ne, o;
	int plus = 0;
	cc_err e;

	if ((e = clean_i_start(out, outsize, res)) != CC_OK)
		return e;
	if (!clean_i_prep(raw, opt, 1, &s, res))
		return CC_OK;
	if (s.n > 48)
		return clean_i_invalid(res, CLEAN_ISSUE_PHONE_INVALID, out);
	n = clean_phone_ext(s.p, s.n, &ext, &ne);
	while (n > 0 && s.p[n - 1] == ' ')
		n--;
	for (i = 0; i < n; i++) {
		char c = s.p[i];

		if (c >= '0' && c <= '9') {
			if (nd + 1 >= sizeof(dig))
				return clean_i_invalid(res,
				    CLEAN_ISSUE_PHONE_INVALID, out);
			dig[nd++] = c;
		} else if (c == '+' && nd == 0 && !plus)
			plus = 1;
		else if (!strchr(" -./()", c))
			return clean_i_invalid(res, CLEAN_ISSUE_PHONE_INVALID,
			    out);
	}
	dig[nd] = '\0';
	d = dig;
	plan = clean_phone_plan(opt != NULL ? opt->country : NULL);
	if (!plus && nd > 2 && d[0] == '0' && d[1] == '0')
		plus = 1, d += 2, nd -= 2;
	else if (!plus && plan != NULL && strcmp(plan->cc, "1") == 0 &&
	    nd > 3 && strncmp(d, "011", 3) == 0)
		plus = 1, d += 3, nd -= 3;
	if (plus) {
		if (nd < 8 || nd > 15)
			return clean_i_invalid(res, CLEAN_ISSUE_PHONE_INVALID,
			    out);
	} else {
		if (nd < 4)
			return clean_i_invalid(res, CLEAN_ISSUE_PHONE_INVALID,
			    out);
		const char *d2 = d;
		size_t n2 = nd;

		if (plan != NULL) {
			if (strcmp(plan->cc, "1") == 0 && nd == 11 &&
			    d[0] == '1')
				d2++, n2--;
			else if (plan->trunk0 && d[0] == '0')
				d2++, n2--;
		}
		if (plan == NULL || (int)n2 < plan->min)
			res->issue = CLEAN_ISSUE_PHONE_INCOMPLETE;
		else if ((int)n2 > plan->max ||
		    strlen(plan->cc) + n2 > 15)
			return clean_i_invalid(res, CLEAN_ISSUE_PHONE_INVALID,
			    out);
		else {
			cc = plan->cc;
			d = d2;
			nd = n2;
		}
	}
	o = 0;
	if (plus || cc != NULL) {
		buf[o++] = '+';
		if (cc != NULL) {
			memcpy(buf + o, cc, strlen(cc));
			o += strlen(cc);
		}
	}
	memcpy(buf + o, d, nd);
	o += nd;
	if (ne > 0) {
		memcpy(buf + o, ";ext=", 5);
		memcpy(buf + o + 5, ext, ne);
		o += 5 + ne;
		if (ext < s.p + 5 || memcmp(ext - 5, ";ext=", 5) != 0)
			clean_i_rule(res, CLEAN_RULE_PHONE_EXTENSION);
	}
	if (o != s.n || memcmp(buf, s.p, o) != 0)
		clean_i_rule(res, res->issue == CLEAN_ISSUE_NONE ?
		    CLEAN_RULE_PHONE_E164 : CLEAN_RULE_PHONE_DIGITS);
	return clean_i_put(buf, o, out, outsize, res);
}

/* ------------------------------------------------------------------ */
/* Postal codes                                                       */
/* ------------------------------------------------------------------ */

/* Countries whose postal codes are n digits (UPU addressing data). */
static const struct {
	const char	*country;
	int		 digits;
} clean_postal_digits[] = {
	{ "US", 5 },	/* ZIP Code (also ZIP+4) */
	{ "DE", 5 },	/* Postleitzahl */
	{ "FR", 5 },	/* code postal */
	{ "IT", 5 },	/* CAP */
	{ "ES", 5 },	/* código postal */
	{ "FI", 5 },	/* postinumero */
	{ "MX", 5 },	/* código postal */
	{ "AT", 4 },	/* Postleitzahl */
	{ "AU", 4 },	/* postcode */
	{ "BE", 4 },	/* code postal */
	{ "CH", 4 },	/* PLZ/NPA */
	{ "DK", 4 },	/* postnummer */
	{ "NO", 4 },	/* postnummer */
	{ "NZ", 4 },	/* postcode */
	{ "ZA", 4 },	/* postal code */
};

static int
clean_is_ascii_digits(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return 0;
	return n > 0;
}

static int
clean_is_ascii_alpha(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* A US ZIP or ZIP+4 from the compacted value v[0..n) (upper case, single
 * spaces). */
static cc_err
clean_zip(const char *v, size_t n, int digits, int us, char *out,
    size_t outsize, struct clean_result *res)
{
	char buf[16];
	size_t lead = n, i;
	int pad;

	for (i = 0; i < n; i++)
		if (v[i] == '-' || v[i] == ' ') {
			lead = i;
			break;
		}
	if (us && lead == n && n == 9 && clean_is_ascii_digits(v, 9)) {
		/* the lowest ZIP holds here too ("000070000") */
		if (strncmp(v, "00501", 5) < 0)
			return clean_i_invalid(res, CLEAN_ISSUE_POSTAL_INVALID,
			    out);
		memcpy(buf, v, 5);
		buf[5] = '-';
		memcpy(buf + 6, v + 5, 4);
		clean_i_rule(res, CLEAN_RULE_ZIP_PLUS4_HYPHEN);
		return clean_i_put(buf, 10, out, outsize, res);
	}
	if (!clean_is_ascii_digits(v, lead) || (int)lead > digits || lead < 3)
		return clean_i_invalid(res, CLEAN_ISSUE_POSTAL_INVALID, out);
	if (lead < n && !(us && n - lead == 5 &&
	    clean_is_ascii_digits(v + lead + 1, 4)))
		return clean_i_invalid(res, CLEAN_ISSUE_POSTAL_INVALID, out);
	pad = digits - (int)lead;
	memset(buf, '0', (size_t)pad);
	memcpy(buf + pad, v, lead);
	if (us && strncmp(buf, "00501", 5) < 0)
		return clean_i_invalid(res, CLEAN_ISSUE_POSTAL_INVALID, out);
	if (pad > 0)
		clean_i_rule(res, CLEAN_RULE_ZIP_ZERO_PAD);
	if (lead < n) {
		if (v[lead] != '-')
			clean_i_rule(res, CLEAN_RULE_POSTAL_FORMAT);
		buf[digits] = '-';
		memcpy(buf + digits + 1, v + lead + 1, 4);
		return clean_i_put(buf, (size_t)digits + 5, out, outsize, res);
	}
	return clean_i_put(buf, (size_t)digits, out, outsize, res);
}

cc_err
clean_postal(const char *raw, const struct clean_opts *opt, char *out,
    size_t outsize, struct clean_result *res)
{
	const char *country = opt != NULL ? opt->country : NULL;
	struct clean_span s;
	char v[16], c2[16];
	size_t i, n = 0, m = 0;
	int upper = 0, spaced = 0;
	cc_err e;

	if ((e = clean_i_start(out, outsize, res)) != CC_OK)
		return e;
	if (!clean_i_prep(raw, opt, 1, &s, res))
		return CC_OK;
	if (s.n > 14)
		return clean_i_invalid(res, CLEAN_ISSUE_POSTAL_INVALID, out);
	for (i = 0; i < s.n; i++) {
		int c = (unsigned char)s.p[i];

		if (c == ' ' || c == '\t') {
			if (n > 0 && v[n - 1] != ' ')
				v[n++] = ' ';
			if (c != ' ' || (i > 0 && s.p[i - 1] == ' '))
				spaced = 1;
			continue;
		}
		if (!(clean_is_ascii_alpha(c) || (c >= '0' && c <= '9') ||
		    c == '-'))
			return clean_i_invalid(res, CLEAN_ISSUE_POSTAL_INVALID,
			    out);
		if (c >= 'a' && c <= 'z')
			upper = 1;
		v[n++] = (char)clean_i_upper(c);
		if (clean_is_ascii_alpha(c) || (c >= '0' && c <= '9'))
			c2[m++] = (char)clean_i_upper(c);
	}
	v[n] = '\0';
	c2[m] = '\0';
	if (upper)
		clean_i_rule(res, CLEAN_RULE_UPPER_CASE);
	if (spaced)
		clean_i_rule(res, CLEAN_RULE_POSTAL_FORMAT);
	if (country != NULL) {
		for (i = 0; i < NELEM(clean_postal_digits); i++)
			if (clean_i_casecmp(country, strlen(country),
			    clean_postal_digits[i].country) == 0)
				return clean_zip(v, n,
				    clean_postal_digits[i].digits,
				    strcmp(clean_postal_digits[i].country,
				    "US") == 0, out, outsize, res);
		if (clean_i_casecmp(country, strlen(country), "GB") == 0 ||
		    clean_i_casecmp(country, strlen(country), "CA") == 0) {
			int ca = clean_i_casecmp(country, strlen(country),
			    "CA") == 0;
			char buf[16];

			if (ca ? m != 6 || !clean_is_ascii_alpha(c2[0]) ||
			    !clean_is_ascii_digits(c2 + 1, 1) ||
			    !clean_is_ascii_alpha(c2[2]) ||
			    !clean_is_ascii_digits(c2 + 3, 1) ||
			    !clean_is_ascii_alpha(c2[4]) ||
			    !clean_is_ascii_digits(c2 + 5, 1) :
			    m < 5 || m > 7 || !clean_is_ascii_alpha(c2[0]) ||
			    !clean_is_ascii_digits(c2 + m - 3, 1) ||
			    !clean_is_ascii_alpha(c2[m - 2]) ||
			    !clean_is_ascii_alpha(c2[m - 1]))
				return clean_i_invalid(res,
				    CLEAN_ISSUE_POSTAL_INVALID, out);
			memcpy(buf, c2, m - 3);
			buf[m - 3] = ' ';
			memcpy(buf + m - 2, c2 + m - 3, 3);
			if (n != m + 1 || memcmp(v, buf, m + 1) != 0)
				clean_i_rule(res, CLEAN_RULE_POSTAL_FORMAT);
			return clean_i_put(buf, m + 1, out, outsize, res);
		}
		if (clean_i_casecmp(country, strlen(country), "NL") == 0) {
			char buf[8];

			if (m != 6 || !clean_is_ascii_digits(c2, 4) ||
			    !clean_is_ascii_alpha(c2[4]) ||
			    !clean_is_ascii_alpha(c2[5]))
				return clean_i_invalid(res,
				    CLEAN_ISSUE_POSTAL_INVALID, out);
			memcpy(buf, c2, 4);
			buf[4] = ' ';
			memcpy(buf + 5, c2 + 4, 2);
			if (n != 7 || memcmp(v, buf, 7) != 0)
				clean_i_rule(res, CLEAN_RULE_POSTAL_FORMAT);
			return clean_i_put(buf, 7, out, outsize, res);
		}
	}
	if (n < 2 || n > 10 || m == 0)
		return clean_i_invalid(res, CLEAN_ISSUE_POSTAL_INVALID, out);
	return clean_i_put(v, n, out, outsize, res);
}

/* ------------------------------------------------------------------ */
/* Booleans                                                           */
/* ------------------------------------------------------------------ */

static const struct {
	const char	*token;
	int		 value;
} clean_bools[] = {
	{ "true", 1 }, { "false", 0 },		/* JSON, SQL */
	{ "t", 1 }, { "f", 0 },			/* PostgreSQL output */
	{ "yes", 1 }, { "no", 0 },		/* forms, ERP MAINTENANCE */
	{ "y", 1 }, { "n", 0 },			/* one-letter flags */
	{ "on", 1 }, { "off", 0 },		/* HTML checkboxes, config */
	{ "1", 1 }, { "0", 0 },			/* C, spreadsheets */
	{ "1.0", 1 }, { "0.0", 0 },		/* the same through a float */
};

cc_err
clean_bool(const char *raw, const struct clean_opts *opt, char *out,
    size_t outsize, struct clean_result *res)
{
	struct clean_span s;
	const char *v;
	size_t i;
	cc_err e;

	if ((e = clean_i_start(out, outsize, res)) != CC_OK)
		return e;
	if (!clean_i_prep(raw, opt, 0, &s, res))
		return CC_OK;
	for (i = 0; i < NELEM(clean_bools); i++) {
		if (clean_i_casecmp(s.p, s.n, clean_bools[i].token) != 0)
			continue;
		v = clean_bools[i].value ? "true" : "false";
		if (s.n != strlen(v) || memcmp(s.p, v, s.n) != 0)
			clean_i_rule(res, CLEAN_RULE_BOOL_TOKEN);
		res->has_i64 = 1;
		res->i64 = clean_bools[i].value;
		return clean_i_put(v, strlen(v), out, outsize, res);
	}
	if (clean_i_null_token(s.p, s.n, opt)) {
		clean_i_null(res, CLEAN_RULE_NULL_TOKEN);
		return CC_OK;
	}
	return clean_i_invalid(res, CLEAN_ISSUE_BOOL_INVALID, out);
}
