/*
 * clean_number.c - numbers and money as decimal text: separators,
 * currencies, signs, percent, exponents, the column's decimal separator
 * (concord/clean.h).  Digits stay text (and money int64 minor units): no
 * binary floating point touches a value before it is written.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "concord/clean.h"
#include "clean_int.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* Longest mantissa kept (digits); beyond it, number_out_of_range. */
#define CLEAN_NUM_DIGITS	64
/* Largest exponent accepted (either sign). */
#define CLEAN_NUM_EXP		60

/* Currency symbols, longest first; the code is the usual reading ("$"
 * is taken as US dollars). */
static const struct {
	const char	*sym;
	const char	*code;
} clean_symbols[] = {
	{ "US$", "USD" },		/* United States dollar */
	{ "R$", "BRL" },		/* Brazilian real */
	{ "C$", "CAD" },		/* Canadian dollar */
	{ "A$", "AUD" },		/* Australian dollar */
	{ "$", "USD" },			/* dollar sign */
	{ "\xe2\x82\xac", "EUR" },	/* U+20AC euro */
	{ "\xc2\xa3", "GBP" },		/* U+00A3 pound */
	{ "\xc2\xa5", "JPY" },		/* U+00A5 yen */
	{ "\xe2\x82\xb9", "INR" },	/* U+20B9 rupee */
	{ "\xe2\x82\xa9", "KRW" },	/* U+20A9 won */
	{ "\xe2\x82\xbd", "RUB" },	/* U+20BD ruble */
	{ "\xe2\x82\xba", "TRY" },	/* U+20BA lira */
	{ "\xe2\x82\xab", "VND" },	/* U+20AB dong */
	{ "\xe2\x82\xaa", "ILS" },	/* U+20AA shekel */
	{ "\xe2\x82\xb1", "PHP" },	/* U+20B1 peso */
	{ "\xe2\x82\xa6", "NGN" },	/* U+20A6 naira */
};

/* ISO 4217 codes accepted around an amount (the most traded). */
static const char *const clean_codes[] = {
	"USD", "EUR", "GBP", "JPY", "CNY", "INR", "CHF", "CAD", "AUD", "NZD",
	"SEK", "NOK", "DKK", "PLN", "CZK", "HUF", "MXN", "BRL", "ZAR", "SGD",
	"HKD", "KRW", "RUB", "TRY", "ILS", "AED", "SAR",
};

/* The parts around the digits of a number. */
struct clean_shell {
	const char	*p;		/* the body: digits and separators */
	size_t		 n;
	int		 neg, plus, paren, percent;
	char		 cur[4];	/* ISO 4217 code or "" */
};

static int
clean_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Length of a space (ASCII or one of the Unicode spaces used in numbers)
 * at p, or 0. */
static size_t
clean_numspace(const char *p, size_t n)
{
	if (n >= 1 && p[0] == ' ')
		return 1;
	if (n >= 2 && memcmp(p, "\xc2\xa0", 2) == 0)		/* NBSP */
		return 2;
	if (n >= 3 && (memcmp(p, "\xe2\x80\xaf", 3) == 0 ||	/* NNBSP */
	    memcmp(p, "\xe2\x80\x89", 3) == 0))		/* thin */
		return 3;
	return 0;
}

/* A space ending at p[n-1]: its length, or 0. */
static size_t
clean_numspace_end(const char *p, size_t n)
{
	if (n >= 1 && p[n - 1] == ' ')
		return 1;
	if (n >= 2 && clean_numspace(p + n - 2, 2) == 2)
		return 2;
	if (n >= 3 && clean_numspace(p + n - 3, 3) == 3)
		return 3;
	return 0;
}

/* A currency at the start (end 0) or end (end 1) of p[0..n): returns its
 * length and sets code, or 0. */
static size_t
clean_currency(const char *p, size_t n, int end, char *code)
{
	size_t i, l;
	unsigned char c;

	/* every symbol begins and ends with '$', a letter or a byte of a
	 * UTF-8 sequence, and every code is letters: a digit (the common
	 * case) or other punctuation there is no currency */
	if (n == 0)
		return 0;
	c = (unsigned char)(end ? p[n - 1] : p[0]);
	if (c < 0x80 && c != '$' && !clean_alpha(c))
		return 0;
	/* symbols begin with '$', U, R, C, A or a UTF-8 lead byte and end
	 * with '$' or a UTF-8 continuation byte: letters other than those
	 * can only start a code */
	for (i = 0; (c >= 0x80 || c == '$' || (!end && (c == 'U' ||
	    c == 'R' || c == 'C' || c == 'A'))) && i < NELEM(clean_symbols);
	    i++) {
		l = strlen(clean_symbols[i].sym);
		if (l <= n && memcmp(end ? p + n - l : p, clean_symbols[i].sym,
		    l) == 0) {
			memcpy(code, clean_symbols[i].code, 4);
			return l;
		}
	}
	if (n < 3)
		return 0;
	if (end ? (n > 3 && clean_alpha((unsigned char)p[n - 4])) :
	    (n > 3 && clean_alpha((unsigned char)p[3])))
		return 0;
	for (i = 0; i < NELEM(clean_codes); i++)
		if (clean_i_casecmp(end ? p + n - 3 : p, 3, clean_codes[i]) ==
		    0) {
			memcpy(code, clean_codes[i], 4);
			return 3;
		}
	return 0;
}

/* Strips sign, currency, parentheses and percent around the digits of
 * p[0..n) (trimmed).  0, or -1 when the shell itself is malformed. */
static int
clean_num_shell(const char *p, size_t n, struct clean_shell *sh)
{
	int sign = 0;
	size_t l;

	memset(sh, 0, sizeof(*sh));
	if (n >= 2 && p[0] == '(' && p[n - 1] == ')') {
		sh->paren = 1;
		p++;
		n -= 2;
	}
	for (;;) {
		if (n > 0 && (p[0] == '-' || p[0] == '+') && !sign) {
			sign = 1;
			sh->neg = p[0] == '-';
			sh->plus = p[0] == '+';
			p++, n--;
		} else if (n >= 3 && memcmp(p, "\xe2\x88\x92", 3) == 0 &&
		    !sign) {				/* U+2212 minus */
			sign = 1;
			sh->neg = 1;
			p += 3, n -= 3;
		} else if (sh->cur[0] == '\0' &&
		    (l = clean_currency(p, n, 0, sh->cur)) > 0)
			p += l, n -= l;
		else if ((l = clean_numspace(p, n)) > 0)
			p += l, n -= l;
		else
			break;
	}
	for (;;) {
		if (n > 0 && p[n - 1] == '%' && !sh->percent) {
			sh->percent = 1;
			n--;
		} else if (sh->cur[0] == '\0' &&
		    (l = clean_currency(p, n, 1, sh->cur)) > 0)
			n -= l;
		else if ((l = clean_numspace_end(p, n)) > 0)
			n -= l;
		else
			break;
	}
	if (n == 0 || (sh->paren && sign))
		return -1;
	if (sh->paren)
		sh->neg = 1;
	sh->p = p;
	sh->n = n;
	return 0;
}

/* A parsed body: digits D[0..nd) with the point after dp of them. */
struct clean_dec {
	char		 d[CLEAN_NUM_DIGITS + 1];
	size_t		 nd;
	long		 dp;
	size_t		 nfrac;		/* fraction digits as written */
	int		 grouped;	/* a group separator was seen */
	int		 comma;		/* the decimal separator was ',' */
	int		 exp;		/* an exponent was seen */
};

/* A group separator at p: its length, or 0. */
static size_t
clean_groupsep(const char *p, size_t n, char group)
{
	if (n >= 1 && (p[0] == group || p[0] == '\''))
		return 1;
	if (n >= 3 && memcmp(p, "\xe2\x80\x99", 3) == 0)	/* U+2019 */
		return 3;
	return clean_numspace(p, n);
}

/* Writes v in decimal at p (no NUL; room for 20 digits); returns its
 * length ("%llu"). */
static size_t
clean_put_u64(char *p, uint64_t v)
{
	char tmp[20];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (i = 0; i < n; i++)
		p[i] = tmp[n - 1 - i];
	return n;
}

/* Reads the body; returns CLEAN_ISSUE_NONE or the issue. */
static enum clean_issue
clean_dec_parse(const char *p, size_t n, char decimal, char group,
    struct clean_dec *v)
{
	size_t i = 0, run = 0, groups = 0, l, seen = 0;
	int e = 0, eneg = 0, ed = 0;

	memset(v, 0, sizeof(*v));
	/* Integer part, with groups of three after the first; leading
	 * zeros are not kept. */
	while (i < n) {
		if (p[i] >= '0' && p[i] <= '9') {
			if (v->nd >= CLEAN_NUM_DIGITS)
				return CLEAN_ISSUE_NUMBER_OUT_OF_RANGE;
			if (v->nd > 0 || p[i] != '0')
				v->d[v->nd++] = p[i];
			i++;
			run++;
			seen++;
			continue;
		}
		if ((l = clean_groupsep(p + i, n - i, group)) > 0) {
			if (run == 0 || (groups == 0 ? run > 3 : run != 3))
				return CLEAN_ISSUE_NUMBER_INVALID;
			groups++;
			run = 0;
			i += l;
			v->grouped = 1;
			continue;
		}
		break;
	}
	if (groups > 0 && run != 3)
		return CLEAN_ISSUE_NUMBER_INVALID;
	v->dp = (long)v->nd;
	if (i < n && p[i] == decimal) {
		v->comma = decimal == ',';
		for (i++; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
			if (v->nd == 0 && p[i] == '0') {
				/* nor those after the point of a number below
				 * 1 ("0.0012"): they count no digit, as the
				 * output's do not when it is read back */
				v->dp--;
				v->nfrac++;
				seen++;
				continue;
			}
			if (v->nd >= CLEAN_NUM_DIGITS)
				return CLEAN_ISSUE_NUMBER_OUT_OF_RANGE;
			v->d[v->nd++] = p[i];
			v->nfrac++;
			seen++;
		}
	}
	if (seen == 0)
		return CLEAN_ISSUE_NUMBER_INVALID;
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		i++;
		if (i < n && (p[i] == '+' || p[i] == '-'))
			eneg = p[i++] == '-';
		for (; i < n && p[i] >= '0' && p[i] <= '9'; i++, ed++)
			if ((e = e * 10 + (p[i] - '0')) > 999)
				e = 999;
		if (ed == 0)
			return CLEAN_ISSUE_NUMBER_INVALID;
		if (e > CLEAN_NUM_EXP)
			return CLEAN_ISSUE_NUMBER_OUT_OF_RANGE;
		v->dp += eneg ? -e : e;
		v->exp = 1;
	}
	if (i != n)
		return CLEAN_ISSUE_NUMBER_INVALID;
	v->d[v->nd] = '\0';
	return CLEAN_ISSUE_NONE;
}

/* Digit at position k of the number (0 = first digit of D), '0' outside. */
static char
clean_dec_at(const struct clean_dec *v, long k)
{
	return k >= 0 && (size_t)k < v->nd ? v->d[k] : '0';
}

/* Writes the canonical decimal of v (negative when neg) into buf; returns
 * its length.  buf holds CLEAN_NUM_DIGITS + 2 * CLEAN_NUM_EXP + 4. */
static size_t
clean_dec_canon(const struct clean_dec *v, int neg, char *buf)
{
	long first = 0, last = (long)v->nd - 1, k;
	size_t o = 0;

	/* Significant range: first non-zero digit to last non-zero. */
	while (first < (long)v->nd && v->d[first] == '0')
		first++;
	if (first == (long)v->nd) {
		buf[0] = '0';
		buf[1] = '\0';
		return 1;
	}
	while (last >= 0 && v->d[last] == '0' && last >= v->dp)
		last--;
	if (neg)
		buf[o++] = '-';
	if (first >= v->dp)
		buf[o++] = '0';
	for (k = first < v->dp ? first : v->dp; k < v->dp; k++)
		buf[o++] = clean_dec_at(v, k);
	if (last >= v->dp) {
		buf[o++] = '.';
		for (k = v->dp; k <= last; k++)
			buf[o++] = clean_dec_at(v, k);
	}
	buf[o] = '\0';
	return o;
}

/* Parses the trimmed s with fmt: fills sh and v, records rules; returns
 * the issue. */
static enum clean_issue
clean_num_read(const struct clean_span *s,
    const struct clean_number_format *fmt, struct clean_shell *sh,
    struct clean_dec *v, struct clean_result *res)
{
	char decimal = fmt != NULL ? fmt->decimal : '.';
	char group = fmt != NULL ? fmt->group : ',';
	enum clean_issue is;

	if (clean_num_shell(s->p, s->n, sh) < 0)
		return CLEAN_ISSUE_NUMBER_INVALID;
	if ((is = clean_dec_parse(sh->p, sh->n, decimal, group, v)) !=
	    CLEAN_ISSUE_NONE)
		return is;
	if (sh->cur[0] != '\0') {
		memcpy(res->currency, sh->cur, 4);
		clean_i_rule(res, CLEAN_RULE_NUM_CURRENCY);
	}
	if (sh->paren)
		clean_i_rule(res, CLEAN_RULE_NUM_PARENS_NEGATIVE);
	if (sh->plus)
		clean_i_rule(res, CLEAN_RULE_NUM_PLUS_SIGN);
	if (v->grouped)
		clean_i_rule(res, CLEAN_RULE_NUM_THOUSANDS);
	if (v->comma)
		clean_i_rule(res, CLEAN_RULE_NUM_DECIMAL_COMMA);
	if (v->exp)
		clean_i_rule(res, CLEAN_RULE_NUM_EXPONENT);
	return CLEAN_ISSUE_NONE;
}

static int
clean_numfmt_ok(const struct clean_number_format *fmt)
{
	return fmt == NULL || ((fmt->decimal == '.' || fmt->decimal == ',') &&
	    (fmt->group == '.' || fmt->group == ',' || fmt->group == ' ' ||
	    fmt->group == '\'') && fmt->group != fmt->decimal);
}

void
clean_number_format_init(struct clean_number_format *fmt)
{
	memset(fmt, 0, sizeof(*fmt));
	fmt->decimal = '.';
	fmt->group = ',';
}

cc_err
clean_number(const char *raw, const struct clean_number_format *fmt,
    const struct clean_opts *opt, char *out, size_t outsize,
    struct clean_result *res)
{
	char buf[CLEAN_NUM_DIGITS + 2 * CLEAN_NUM_EXP + 8];
	struct clean_shell sh;
	struct clean_dec v;
	struct clean_span s;
	enum clean_issue is;
	size_t n, i;
	cc_err e;

	if ((e = clean_i_start(out, outsize, res)) != CC_OK)
		return e;
	if (!clean_numfmt_ok(fmt))
		return CC_EINVAL;
	if (!clean_i_prep(raw, opt, 1, &s, res))
		return CC_OK;
	if ((is = clean_num_read(&s, fmt, &sh, &v, res)) != CLEAN_ISSUE_NONE)
		return clean_i_invalid(res, is, out);
	if (sh.percent) {
		clean_i_rule(res, CLEAN_RULE_NUM_PERCENT);
		if (opt != NULL && (opt->flags & CLEAN_F_PERCENT_FRACTION))
			v.dp -= 2;
	}
	/* At most CLEAN_NUM_DIGITS digits before the point, however the
	 * value was written: its canonical form (every digit written out)
	 * must read back ("5...59.e9", 62 digits and an exponent, is 71
	 * digits long written out) */
	if (v.dp > CLEAN_NUM_DIGITS || v.dp < -CLEAN_NUM_EXP - 2)
		return clean_i_invalid(res, CLEAN_ISSUE_NUMBER_OUT_OF_RANGE,
		    out);
	n = clean_dec_canon(&v, sh.neg, buf);
	if ((n != s.n || memcmp(buf, s.p, n) != 0) &&
	    (res->rules & ~CLEAN_RULE_BIT(CLEAN_RULE_TRIM)) == 0)
		clean_i_rule(res, CLEAN_RULE_NUM_CANONICAL);
	if ((e = clean_i_put(buf, n, out, outsize, res)) != CC_OK)
		return e;
	res->f64 = strtod(out, NULL);
	if (memchr(out, '.', n) == NULL && n <= 20) {
		unsigned long long m = 0;
		int ok = 1;

		/* Up to 2^63 for a negative value, 2^63 - 1 otherwise. */
		for (i = out[0] == '-'; i < n && ok; i++) {
			unsigned dg = (unsigned)(out[i] - '0');

			if (m > (UINT64_C(9223372036854775808) - dg) / 10)
				ok = 0;
			m = m * 10 + dg;
		}
		if (ok && (out[0] == '-' || m <= INT64_MAX)) {
			res->has_i64 = 1;
			res->i64 = out[0] == '-' ? (int64_t)(0 - m) :
			    (int64_t)m;
		}
	}
	return CC_OK;
}

cc_err
clean_money(const char *raw, const struct clean_number_format *fmt,
    const struct clean_opts *opt, char *out, size_t outsize,
    struct clean_result *res)
{
	char buf[48];
	struct clean_shell sh;
	struct clean_dec v;
	struct clean_span s;
	enum clean_issue is;
	int md = opt != NULL ? opt->minor_digits : 2, dropped = 0;
	int ud = opt != NULL ? opt->unit_digits : 0;
	uint64_t m = 0, scale = 1, frac;
	long k, end;
	size_t o = 0;
	int j, keep;
	cc_err e;

	if ((e = clean_i_start(out, outsize, res)) != CC_OK)
		return e;
	if (!clean_numfmt_ok(fmt) || md < 0 || md > 18 || ud < 0 || ud > 18)
		return CC_EINVAL;
	if (ud < md)
		ud = md;
	if (!clean_i_prep(raw, opt, 1, &s, res))
		return CC_OK;
	if ((is = clean_num_read(&s, fmt, &sh, &v, res)) != CLEAN_ISSUE_NONE)
		return clean_i_invalid(res, is, out);
	if (sh.percent)
		return clean_i_invalid(res, CLEAN_ISSUE_NUMBER_INVALID, out);
	/* Units: the digits up to ud places after the point (v has no
	 * leading zeros, so an overflow shows within 20 digits). */
	end = v.dp + ud;
	for (k = 0; k < end; k++) {
		unsigned dgt = (unsigned)(clean_dec_at(&v, k) - '0');

		if (m > (UINT64_C(0x7fffffffffffffff) - dgt) / 10)
			return clean_i_invalid(res,
			    CLEAN_ISSUE_NUMBER_OUT_OF_RANGE, out);
		m = m * 10 + dgt;
	}
	for (k = end > 0 ? end : 0; k < (long)v.nd; k++)
		if (v.d[k] != '0')
			dropped = 1;
	if (dropped) {
		/* Half away from zero: the first dropped digit decides. */
		if (clean_dec_at(&v, end) >= '5') {
			if (m == UINT64_C(0x7fffffffffffffff))
				return clean_i_invalid(res,
				    CLEAN_ISSUE_NUMBER_OUT_OF_RANGE, out);
			m++;
		}
		clean_i_rule(res, CLEAN_RULE_MONEY_ROUND);
	}
	for (j = 0; j < ud; j++)
		scale *= 10;
	if (sh.neg && m != 0)
		buf[o++] = '-';
	o += clean_put_u64(buf + o, m / scale);
	/* the fraction: md digits, then those up to the last non-zero */
	for (keep = ud, frac = m % scale; keep > md && frac % 10 == 0;
	    keep--)
		frac /= 10;
	if (!dropped && ((size_t)keep != v.nfrac || v.exp))
		clean_i_rule(res, CLEAN_RULE_MONEY_SCALE);
	if (keep > 0) {
		/* ".%0*llu": keep digits, zero-padded */
		buf[o] = '.';
		for (j = keep; j > 0; j--, frac /= 10)
			buf[o + (size_t)j] = (char)('0' + frac % 10);
		o += (size_t)keep + 1;
	}
	/* a leading zero added or dropped, a sign dropped (".30", "007.50",
	 * "-0.00"): changed, so a rule is named, as in clean_number() */
	if ((o != s.n || memcmp(buf, s.p, o) != 0) &&
	    (res->rules & ~CLEAN_RULE_BIT(CLEAN_RULE_TRIM)) == 0)
		clean_i_rule(res, CLEAN_RULE_NUM_CANONICAL);
	if ((e = clean_i_put(buf, o, out, outsize, res)) != CC_OK)
		return e;
	res->has_i64 = 1;
	res->i64 = sh.neg ? -(int64_t)m : (int64_t)m;
	/* out is exactly +-m / 10^ud: when both are exact doubles (m <=
	 * 2^53, 10^ud <= 10^22), their IEEE 754 quotient is the correctly
	 * rounded value, which strtod() returns too (IEEE 754-2008, 5.1,
	 * 5.12.2) */
	if (m <= (UINT64_C(1) << 53)) {
		res->f64 = (double)m / (double)scale;
		if (sh.neg && m != 0)
			res->f64 = -res->f64;
	} else
		res->f64 = strtod(out, NULL);
	return CC_OK;
}

/* ------------------------------------------------------------------ */
/* Inference                                                          */
/* ------------------------------------------------------------------ */

cc_err
clean_number_infer(const char *const *values, size_t n,
    struct clean_number_format *out)
{
	struct clean_result res;
	struct clean_shell sh;
	struct clean_span s;
	char ex_dot[32] = "", ex_comma[32] = "";
	size_t i, j, ndot, ncom, lastdot, lastcom, after, win, lose;
	int vote;

	if (out == NULL || (values == NULL && n > 0))
		return CC_EINVAL;
	clean_number_format_init(out);
	out->n_values = n;
	for (i = 0; i < n; i++) {
		memset(&res, 0, sizeof(res));
		if (!clean_i_prep(values[i], NULL, 1, &s, &res)) {
			out->n_null++;
			continue;
		}
		if (clean_num_shell(s.p, s.n, &sh) < 0)
			continue;
		ndot = ncom = 0;
		lastdot = lastcom = 0;
		for (j = 0; j < sh.n; j++) {
			if (sh.p[j] == '.')
				ndot++, lastdot = j;
			else if (sh.p[j] == ',')
				ncom++, lastcom = j;
		}
		/* vote 1: '.' decimal; 2: ',' decimal; 3: ambiguous */
		vote = 0;
		if (ndot > 0 && ncom > 0)
			vote = lastdot > lastcom ? (ndot == 1 ? 1 : 0) :
			    (ncom == 1 ? 2 : 0);
		else if (ndot > 1)
			vote = 2;
		else if (ncom > 1)
			vote = 1;
		else if (ndot == 1 || ncom == 1) {
			j = ndot ? lastdot : lastcom;
			for (after = 0; j + 1 + after < sh.n &&
			    sh.p[j + 1 + after] >= '0' &&
			    sh.p[j + 1 + after] <= '9'; after++)
				;
			if (after == 3 && j > 0 && !(j == 1 && sh.p[0] == '0'))
				vote = 3;
			else
				vote = ndot ? 1 : 2;
		}
		if (vote == 1 && out->n_dot++ == 0)
			clean_i_example(ex_dot, sizeof(ex_dot), s.p, s.n);
		else if (vote == 2 && out->n_comma++ == 0)
			clean_i_example(ex_comma, sizeof(ex_comma), s.p, s.n);
		else if (vote == 3)
			out->n_ambiguous++;
	}
	if (out->n_comma > out->n_dot) {
		out->decimal = ',';
		out->group = '.';
		win = out->n_comma;
		lose = out->n_dot;
	} else {
		win = out->n_dot;
		lose = out->n_comma;
	}
	out->confidence = (double)(win + 1) / (double)(win + lose + 2);
	if (win == 0)
		snprintf(out->evidence, sizeof(out->evidence),
		    "no value shows its decimal separator (%zu ambiguous like "
		    "\"1,234\"): '.' by default.", out->n_ambiguous);
	else
		snprintf(out->evidence, sizeof(out->evidence),
		    "%zu values read only with '%c' as the decimal separator "
		    "(e.g. \"%s\"), %zu only with '%c'%s%s%s; %zu ambiguous.",
		    win, out->decimal, out->decimal == '.' ? ex_dot : ex_comma,
		    lose, out->group, lose ? " (e.g. \"" : "",
		    lose ? (out->decimal == '.' ? ex_comma : ex_dot) : "",
		    lose ? "\")" : "", out->n_ambiguous);
	return CC_OK;
}
