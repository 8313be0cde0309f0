/*
 * profile.c - column profiles of a source in one streaming pass (see
 * concord/profile.h for what is computed and the papers it follows).
 *
 * Per column: counters, the extremes of each candidate type (the type is
 * only known at the end), a HyperLogLog sketch fed from the first value,
 * an exact table of distinct values that gives way to Space-Saving when it
 * fills up, a numeric reservoir sample and the first examples.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "concord/clean.h"
#include "concord/profile.h"

#define HLL_REGISTERS	(1U << PROFILE_HLL_PRECISION)
#define SS_BUCKETS	2048		/* power of two, > PROFILE_TOP_COUNTERS */

/* What a value can be read as (several bits may be set). */
#define V_INT		0x01
#define V_DEC		0x02		/* integers too */
#define V_BOOLWORD	0x04		/* true false yes no y n */
#define V_01		0x08		/* "0" or "1" */
#define V_DATE		0x10
#define V_TS		0x20
#define V_EMAIL		0x40
#define V_MONEY		0x80		/* with a currency (V_DEC too) */

/* A value recognised: its kinds and its keys for ordering. */
struct value_info {
	unsigned	 flags;
	long double	 num;		/* V_DEC */
	long		 date;		/* V_DATE: yyyymmdd */
	long double	 ts;		/* V_DATE, V_TS: seconds since 1970 UTC */
};

/* A minimum or maximum: the ordering key and the value as written. */
struct extreme {
	int		 set;
	long double	 key;
	char		*text;
	size_t		 len, cap;
};

/* One distinct value of the exact table; count 0 marks a free slot. */
struct dentry {
	uint64_t	 hash;
	uint64_t	 count;
	uint32_t	 off, len;	/* in the table's arena */
};

struct dtable {
	struct dentry	*e;
	size_t		 cap, n;	/* cap: power of two */
	char		*arena;
	size_t		 alen, acap;
};

/* Space-Saving (Metwally et al. 2005): counters in a min-heap by count. */
struct sscounter {
	char		*val;
	size_t		 len, cap;
	uint64_t	 hash, count, err;
	int		 next;		/* hash chain */
};

struct spacesaving {
	struct sscounter c[PROFILE_TOP_COUNTERS];
	int		 n;
	int		 heap[PROFILE_TOP_COUNTERS];
	int		 hpos[PROFILE_TOP_COUNTERS];
	int		 bucket[SS_BUCKETS];
};

struct column {
	uint64_t	 nulls, blanks, nonnull;
	uint64_t	 n_int, n_dec, n_boolword, n_01, n_date, n_ts, n_email;
	uint64_t	 n_money;
	size_t		 minlen, maxlen;
	struct extreme	 num_min, num_max, date_min, date_max, ts_min, ts_max;
	struct extreme	 text_min, text_max;
	int		 exact;		/* dt in use, else ss */
	struct dtable	 dt;
	struct spacesaving *ss;
	uint8_t		*hll;
	char		*ex[PROFILE_EXAMPLES];
	size_t		 exlen[PROFILE_EXAMPLES];
	size_t		 nex;
	double		*sample;
	size_t		 nsample;
	uint64_t	 nnum;		/* numeric values seen */
	uint64_t	 rng;		/* xorshift64* state */
	int		 oom;
};

static const char *const type_names[PROFILE_TYPE__MAX] = {
	"empty",		/* PROFILE_TYPE_EMPTY */
	"integer",		/* PROFILE_TYPE_INTEGER */
	"decimal",		/* PROFILE_TYPE_DECIMAL */
	"boolean",		/* PROFILE_TYPE_BOOLEAN */
	"date",			/* PROFILE_TYPE_DATE */
	"timestamp",		/* PROFILE_TYPE_TIMESTAMP */
	"email",		/* PROFILE_TYPE_EMAIL */
	"money",		/* PROFILE_TYPE_MONEY */
	"text",			/* PROFILE_TYPE_TEXT */
};

const char *
profile_type_name(enum profile_type t)
{
	if ((int)t < 0 || t >= PROFILE_TYPE__MAX)
		return "text";
	return type_names[t];
}

/* ---- recognising values ------------------------------------------- */

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
	    c == '\f';
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Value of the digits s[0, n), or -1 if one is not a digit. */
static long
digits(const char *s, size_t n)
{
	long v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Days from 1970-01-01 to y-m-d, proleptic Gregorian (H. Hinnant). */
static long
days_from_civil(long y, long m, long d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
valid_date(long y, long m, long d)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int leap;

	if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1)
		return 0;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return d <= mdays[m - 1] + (m == 2 && leap);
}

/*
 * A date at the start of s[0, n): ISO yyyy-mm-dd or yyyy/mm/dd (10 bytes),
 * or, when whole is set (nothing may follow), m/d/yyyy or d.m.yyyy.
 * Returns the bytes used, 0 if none.
 */
static size_t
parse_date(const char *s, size_t n, int whole, long *y, long *m, long *d)
{
	size_t a, b;
	char sep;

	if (n >= 10 && (s[4] == '-' || s[4] == '/') && s[7] == s[4] &&
	    (*y = digits(s, 4)) >= 0 && (*m = digits(s + 5, 2)) >= 0 &&
	    (*d = digits(s + 8, 2)) >= 0 && valid_date(*y, *m, *d) &&
	    (!whole || n == 10))
		return 10;
	if (!whole || n < 8 || n > 10)
		return 0;
	for (a = 0; a < n && is_digit(s[a]); a++)
		;
	if (a < 1 || a > 2 || a >= n || (s[a] != '/' && s[a] != '.'))
		return 0;
	sep = s[a];
	for (b = a + 1; b < n && is_digit(s[b]); b++)
		;
	if (b - a - 1 < 1 || b - a - 1 > 2 || b >= n || s[b] != sep ||
	    n - b - 1 != 4)
		return 0;
	*y = digits(s + b + 1, 4);
	if (sep == '/') {		/* US: month first */
		*m = digits(s, a);
		*d = digits(s + a + 1, b - a - 1);
	} else {			/* European: day first */
		*d = digits(s, a);
		*m = digits(s + a + 1, b - a - 1);
	}
	return valid_date(*y, *m, *d) ? n : 0;
}

static int parse_timestamp_raw(const char *s, size_t n, long double *ts);

/*
 * ISO 8601 timestamp: seconds since 1970 UTC in *ts; the instant must lie
 * in years 0001..9999 once in UTC, as the cleaners require
 * (9999-12-31T23:00:00-05:00 is in year 10000: not a timestamp).
 */
static int
parse_timestamp(const char *s, size_t n, long double *ts)
{
	return parse_timestamp_raw(s, n, ts) && *ts >= -62135596800.0L &&
	    *ts < 253402300800.0L;
}

static int
parse_timestamp_raw(const char *s, size_t n, long double *ts)
{
	long y, mo, d, h, mi, sec = 0, oh, om = 0;
	long double frac = 0, scale = 1;
	size_t i;
	int sign;

	if (n < 16 || parse_date(s, n, 0, &y, &mo, &d) != 10 || s[4] != '-' ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' ||
	    (h = digits(s + 11, 2)) < 0 || h > 23 ||
	    (mi = digits(s + 14, 2)) < 0 || mi > 59)
		return 0;
	i = 16;
	if (i < n && s[i] == ':') {
		if (i + 3 > n || (sec = digits(s + i + 1, 2)) < 0 || sec > 60)
			return 0;
		i += 3;
		if (i < n && (s[i] == '.' || s[i] == ',')) {
			for (i++; i < n && is_digit(s[i]); i++) {
				scale /= 10;
				frac += (s[i] - '0') * scale;
			}
			if (scale == 1)
				return 0;
		}
	}
	*ts = (long double)days_from_civil(y, mo, d) * 86400 + h * 3600 +
	    mi * 60 + sec + frac;
	if (i == n)
		return 1;
	if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == n)
		return 1;
	if (s[i] != '+' && s[i] != '-')
		return 0;
	sign = s[i] == '-' ? -1 : 1;
	i++;
	if (i + 2 > n || (oh = digits(s + i, 2)) < 0 || oh > 23)
		return 0;
	i += 2;
	if (i < n && s[i] == ':')
		i++;
	if (i < n) {
		if (i + 2 != n || (om = digits(s + i, 2)) < 0 || om > 59)
			return 0;
	}
	*ts -= sign * (oh * 3600 + om * 60);
	return 1;
}

/*
 * A number: [+-] digits [. digits] [e [+-] digits], or [+-] . digits.
 * No leading zero before other integer digits.  *is_int when no fraction
 * or exponent.
 */
static int
parse_number(const char *s, size_t n, int *is_int, long double *val)
{
	char buf[128];
	size_t i = 0, ds, nd, fd = 0;
	long long v = 0;

	if (i < n && (s[i] == '+' || s[i] == '-'))
		i++;
	for (ds = i; i < n && is_digit(s[i]); i++)
		;
	nd = i - ds;
	if (nd > 1 && s[ds] == '0')
		return 0;
	*is_int = 1;
	if (i < n && s[i] == '.') {
		*is_int = 0;
		for (i++; i < n && is_digit(s[i]); i++)
			fd++;
		if (nd == 0 && fd == 0)
			return 0;
	} else if (nd == 0)
		return 0;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		*is_int = 0;
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		for (fd = 0; i < n && is_digit(s[i]); i++)
			fd++;
		if (fd == 0)
			return 0;
	}
	if (i != n)
		return 0;
	if (*is_int && nd <= 18) {
		for (i = ds; i < n; i++)
			v = v * 10 + (s[i] - '0');
		*val = s[0] == '-' ? -(long double)v : (long double)v;
		return 1;
	}
	if (n >= sizeof(buf))
		return 0;
	memcpy(buf, s, n);
	buf[n] = '\0';
	*val = strtold(buf, NULL);
	return *val - *val == 0;	/* finite: inf - inf and NaN are NaN */
}

static int
is_boolword(const char *s, size_t n)
{
	static const char *const words[] = { "true", "false", "yes", "no",
	    "y", "n" };
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strlen(words[i]) == n && strncasecmp(s, words[i], n) == 0)
			return 1;
	return 0;
}

static int
is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/*
 * local@domain.tld, a simple check (not RFC 5322): a non-empty local part
 * of letters, digits and ._%+-' not starting or ending with a dot; a
 * domain of two or more non-empty labels of letters, digits and '-',
 * the last one (the top-level domain) of two or more letters.
 */
static int
is_email(const char *s, size_t n)
{
	const char *at = memchr(s, '@', n), *p, *e = s + n, *tld;
	int dots = 0;

	if (at == NULL || at == s || s[0] == '.' || at[-1] == '.')
		return 0;
	for (p = s; p < at; p++)
		if (!is_alnum(*p) && (*p == '\0' || strchr("._%+-'", *p) == NULL))
			return 0;
	tld = NULL;
	for (p = at + 1; p < e; p++) {
		if (*p == '.') {
			if (p == at + 1 || p[-1] == '.' || p + 1 == e)
				return 0;
			dots++;
			tld = p + 1;
		} else if (!is_alnum(*p) && *p != '-')
			return 0;
	}
	if (dots == 0 || e - tld < 2)
		return 0;
	for (p = tld; p < e; p++)
		if (!is_alpha(*p))
			return 0;
	return 1;
}

/*
 * What the cleaners read that the fast paths above do not (one
 * recogniser for the profile and the stage phase, so that a column the
 * profile calls a date is one the run can clean): numbers with thousands
 * separators, a decimal comma, parentheses, a percent or a currency
 * (clean_number(): with a currency it is money), and dates in every form
 * clean_date() accepts (month names, "1 Jun 2024", day-first 13/09/2024,
 * two-digit years, US times "7/24/2023 3:05 PM"), tried month-first then
 * day-first as a column's learned order could be either.  Only values
 * with a digit are tried.  s[0, n) is trimmed, n > 0.
 */
static void
classify_cleaners(const char *s, size_t n, struct value_info *vi)
{
	static const enum clean_date_order orders[] = { CLEAN_ORDER_MDY,
	    CLEAN_ORDER_DMY };
	struct clean_number_format nf;
	struct clean_date_format df;
	struct clean_result res;
	struct clean_opts o;
	char buf[96], out[64];
	long y, m, d;
	size_t i;

	if (n >= sizeof(buf) || memchr(s, '\0', n) != NULL)
		return;
	for (i = 0; i < n && !is_digit(s[i]); i++)
		;
	if (i == n)
		return;
	memcpy(buf, s, n);
	buf[n] = '\0';
	clean_opts_init(&o);
	/* Digits with a leading zero were refused on purpose: "007" is a
	 * code, not the number 7. */
	for (i = 0; i < 2 && !(buf[0] == '0' && is_digit(buf[1]) &&
	    strspn(buf, "0123456789.") == n); i++) {
		clean_number_format_init(&nf);
		if (i == 1) {
			nf.decimal = ',';
			nf.group = '.';
		}
		if (clean_number(buf, &nf, &o, out, sizeof(out), &res) ==
		    CC_OK && res.status == CLEAN_VALUE) {
			vi->flags |= V_DEC;
			vi->num = (long double)res.f64;
			if (res.currency[0] != '\0')
				vi->flags |= V_MONEY;
			else if (res.has_i64)
				vi->flags |= V_INT;
			return;
		}
	}
	for (i = 0; i < 2; i++) {
		clean_date_format_init(&df);
		df.order = orders[i];
		if (clean_date(buf, &df, &o, out, sizeof(out), &res) != CC_OK ||
		    res.status != CLEAN_VALUE)
			continue;
		if (res.rules &
		    CLEAN_RULE_BIT(CLEAN_RULE_DATE_FROM_TIMESTAMP)) {
			if (clean_timestamp(buf, &df, &o, out, sizeof(out),
			    &res) == CC_OK && res.status == CLEAN_VALUE &&
			    parse_timestamp(out, strlen(out), &vi->ts))
				vi->flags |= V_TS;
			return;
		}
		if (parse_date(out, strlen(out), 1, &y, &m, &d) == 10) {
			vi->flags |= V_DATE;
			vi->date = y * 10000 + m * 100 + d;
			vi->ts = (long double)days_from_civil(y, m, d) * 86400;
		}
		return;
	}
}

/* Recognises the trimmed value s[0, n) (n > 0). */
static void
classify(const char *s, size_t n, struct value_info *vi)
{
	long y, m, d;
	int is_int;

	vi->flags = 0;
	if (is_digit(s[0]) || s[0] == '-' || s[0] == '+' || s[0] == '.') {
		if (parse_number(s, n, &is_int, &vi->num)) {
			vi->flags |= V_DEC;
			if (is_int)
				vi->flags |= V_INT;
			if (n == 1 && (s[0] == '0' || s[0] == '1'))
				vi->flags |= V_01;
			return;
		}
		if (is_digit(s[0]) && parse_date(s, n, 1, &y, &m, &d)) {
			vi->flags |= V_DATE;
			vi->date = y * 10000 + m * 100 + d;
			vi->ts = (long double)days_from_civil(y, m, d) * 86400;
			return;
		}
		if (is_digit(s[0]) && parse_timestamp(s, n, &vi->ts)) {
			vi->flags |= V_TS;
			return;
		}
	} else {
		if (n <= 5 && is_boolword(s, n)) {
			vi->flags |= V_BOOLWORD;
			return;
		}
		if (is_email(s, n)) {
			vi->flags |= V_EMAIL;
			return;
		}
	}
	classify_cleaners(s, n, vi);
}

/*
 * classify() through a direct-mapped memory of the values it classified
 * last (the answer depends on the value alone, so any column may reuse
 * it): files repeat values (an order's lines share its number, date and
 * customer; a few product codes fill a column), and the cleaners'
 * recognisers are the profiler's largest cost.  Slot by the value's
 * hash; a hit compares the whole trimmed value.
 */
#define KEPT_SLOTS	4096
#define KEPT_MAX	95	/* longer values are classified every time */

struct kept_class {
	size_t			n;	/* 0: empty */
	char			v[KEPT_MAX];
	struct value_info	vi;
};

/* kept: KEPT_SLOTS slots, one table per profile_source() call (calls on
 * several threads share nothing); NULL: classify() every value. */
static void
classify_kept(struct kept_class *kept, const char *s, size_t n, uint64_t h,
    struct value_info *vi)
{
	struct kept_class *k;

	if (kept == NULL || n > KEPT_MAX) {
		classify(s, n, vi);
		return;
	}
	k = &kept[h & (KEPT_SLOTS - 1)];
	if (k->n == n && memcmp(k->v, s, n) == 0) {
		*vi = k->vi;
		return;
	}
	classify(s, n, vi);
	k->n = n;
	memcpy(k->v, s, n);
	k->vi = *vi;
}

/* Trims ASCII white space: *s and *n describe what is left. */
static void
trim(const char **s, size_t *n)
{
	while (*n > 0 && is_space(**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && is_space((*s)[*n - 1]))
		(*n)--;
}

enum profile_type
profile_classify(const char *s, size_t len)
{
	struct value_info vi;

	if (s == NULL)
		return PROFILE_TYPE_EMPTY;
	trim(&s, &len);
	if (len == 0)
		return PROFILE_TYPE_EMPTY;
	classify(s, len, &vi);
	if (vi.flags & V_INT)
		return PROFILE_TYPE_INTEGER;
	if (vi.flags & V_MONEY)
		return PROFILE_TYPE_MONEY;
	if (vi.flags & V_DEC)
		return PROFILE_TYPE_DECIMAL;
	if (vi.flags & V_BOOLWORD)
		return PROFILE_TYPE_BOOLEAN;
	if (vi.flags & V_DATE)
		return PROFILE_TYPE_DATE;
	if (vi.flags & V_TS)
		return PROFILE_TYPE_TIMESTAMP;
	if (vi.flags & V_EMAIL)
		return PROFILE_TYPE_EMAIL;
	return PROFILE_TYPE_TEXT;
}

/* ---- hashing, extremes ----------------------------------------------- */

/* MurmurHash64A (Austin Appleby, public domain). */
static uint64_t
hash64(const char *s, size_t n)
{
	const uint64_t m = 0xc6a4a7935bd1e995ULL;
	uint64_t h = 0x8445d61a4e774912ULL ^ (n * m), k;

	while (n >= 8) {
		memcpy(&k, s, 8);
		k *= m;
		k ^= k >> 47;
		k *= m;
		h ^= k;
		h *= m;
		s += 8;
		n -= 8;
	}
	if (n > 0) {
		/* In a register: bytes stored then loaded as one word stall. */
		for (k = 0; n > 0; n--)
			k = (k << 8) | (unsigned char)s[n - 1];
		h ^= k;
		h *= m;
	}
	h ^= h >> 47;
	h *= m;
	h ^= h >> 47;
	return h;
}

/* Code-point order of UTF-8 strings is their byte order. */
static int
cmp_text(const char *a, size_t an, const char *b, size_t bn)
{
	int c;

	if (an > 0 && bn > 0 && a[0] != b[0])
		return (unsigned char)a[0] < (unsigned char)b[0] ? -1 : 1;
	c = memcmp(a, b, an < bn ? an : bn);

	if (c != 0)
		return c;
	return an < bn ? -1 : an > bn;
}

/* Stores s[0, n) as the text of e. */
static int
extreme_set(struct extreme *e, long double key, const char *s, size_t n)
{
	char *p;

	if (n + 1 > e->cap) {
		if ((p = realloc(e->text, n + 1)) == NULL)
			return -1;
		e->text = p;
		e->cap = n + 1;
	}
	memcpy(e->text, s, n);
	e->text[n] = '\0';
	e->len = n;
	e->key = key;
	e->set = 1;
	return 0;
}

/*
 * Keeps the smaller key in lo and the larger in hi, with their texts;
 * the first value seen wins ties.
 */
static inline int
extreme_keys(struct extreme *lo, struct extreme *hi, long double key,
    const char *s, size_t n)
{
	int rc = 0;

	if (!lo->set || key < lo->key)
		rc |= extreme_set(lo, key, s, n);
	if (!hi->set || key > hi->key)
		rc |= extreme_set(hi, key, s, n);
	return rc;
}

static int
extreme_text(struct extreme *e, int max, const char *s, size_t n)
{
	int c;

	if (e->set) {
		c = cmp_text(s, n, e->text, e->len);
		if (max ? c <= 0 : c >= 0)
			return 0;
	}
	return extreme_set(e, 0, s, n);
}

static void
extreme_free(struct extreme *e)
{
	free(e->text);
}

/* ---- HyperLogLog (Flajolet et al. 2007) ------------------------------ */

static void
hll_add(uint8_t *reg, uint64_t h)
{
	uint32_t idx = (uint32_t)(h >> (64 - PROFILE_HLL_PRECISION));
	uint64_t w = (h << PROFILE_HLL_PRECISION) |
	    (1ULL << (PROFILE_HLL_PRECISION - 1));
	uint8_t rho = (uint8_t)(__builtin_clzll(w) + 1);

	if (rho > reg[idx])
		reg[idx] = rho;
}

/*
 * Natural logarithm of x > 0, without libm (the build does not link it):
 * x = f * 2^k with f in [1, 2), ln f = 2 atanh((f - 1) / (f + 1)).
 */
static double
ln(double x)
{
	double z, z2, term, sum = 0;
	int k = 0, i;

	while (x >= 2) {
		x /= 2;
		k++;
	}
	while (x < 1) {
		x *= 2;
		k--;
	}
	z = (x - 1) / (x + 1);		/* 0 <= z < 1/3 */
	z2 = z * z;
	for (i = 1, term = z; i < 60; i += 2, term *= z2)
		sum += term / i;
	return 2 * sum + k * 0.69314718055994530942;
}

/* The raw estimate with the small-range (linear counting) correction. */
static uint64_t
hll_estimate(const uint8_t *reg)
{
	double m = HLL_REGISTERS, sum = 0, e, alpha;
	uint32_t i, zeros = 0;

	for (i = 0; i < HLL_REGISTERS; i++) {
		sum += 1.0 / (double)(1ULL << reg[i]);	/* 2^-M[j] */
		zeros += reg[i] == 0;
	}
	alpha = 0.7213 / (1 + 1.079 / m);
	e = alpha * m * m / sum;
	if (e <= 2.5 * m && zeros > 0)
		e = m * ln(m / zeros);
	return (uint64_t)(e + 0.5);
}

/* ---- Space-Saving (Metwally et al. 2005) ------------------------------ */

static void
ss_swap(struct spacesaving *ss, int a, int b)
{
	int t = ss->heap[a];

	ss->heap[a] = ss->heap[b];
	ss->heap[b] = t;
	ss->hpos[ss->heap[a]] = a;
	ss->hpos[ss->heap[b]] = b;
}

static void
ss_sift_up(struct spacesaving *ss, int i)
{
	while (i > 0 && ss->c[ss->heap[(i - 1) / 2]].count >
	    ss->c[ss->heap[i]].count) {
		ss_swap(ss, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void
ss_sift_down(struct spacesaving *ss, int i)
{
	int l, s;

	for (;;) {
		l = 2 * i + 1;
		s = i;
		if (l < ss->n && ss->c[ss->heap[l]].count <
		    ss->c[ss->heap[s]].count)
			s = l;
		if (l + 1 < ss->n && ss->c[ss->heap[l + 1]].count <
		    ss->c[ss->heap[s]].count)
			s = l + 1;
		if (s == i)
			return;
		ss_swap(ss, i, s);
		i = s;
	}
}

static void
ss_unlink(struct spacesaving *ss, int idx)
{
	int *p = &ss->bucket[ss->c[idx].hash & (SS_BUCKETS - 1)];

	while (*p != idx)
		p = &ss->c[*p].next;
	*p = ss->c[idx].next;
}

static int
ss_setval(struct sscounter *c, const char *s, size_t n, uint64_t h)
{
	char *p;

	if (n + 1 > c->cap) {
		if ((p = realloc(c->val, n + 1)) == NULL)
			return -1;
		c->val = p;
		c->cap = n + 1;
	}
	memcpy(c->val, s, n);
	c->val[n] = '\0';
	c->len = n;
	c->hash = h;
	return 0;
}

/* Counts count more occurrences of s[0, n) (hash h). */
static int
ss_add(struct spacesaving *ss, const char *s, size_t n, uint64_t h,
    uint64_t count)
{
	struct sscounter *c;
	int idx = ss->bucket[h & (SS_BUCKETS - 1)];

	for (; idx >= 0; idx = ss->c[idx].next) {
		c = &ss->c[idx];
		if (c->hash == h && c->len == n && memcmp(c->val, s, n) == 0) {
			c->count += count;
			ss_sift_down(ss, ss->hpos[idx]);
			return 0;
		}
	}
	if (ss->n < PROFILE_TOP_COUNTERS) {
		idx = ss->n++;
		c = &ss->c[idx];
		c->count = count;
		c->err = 0;
		ss->heap[idx] = idx;
		ss->hpos[idx] = idx;
		ss_sift_up(ss, idx);
	} else {
		/* Replace the least counted: it may have had up to its count. */
		idx = ss->heap[0];
		c = &ss->c[idx];
		ss_unlink(ss, idx);
		c->err = c->count;
		c->count += count;
		ss_sift_down(ss, 0);
	}
	if (ss_setval(c, s, n, h) != 0)
		return -1;
	c->next = ss->bucket[h & (SS_BUCKETS - 1)];
	ss->bucket[h & (SS_BUCKETS - 1)] = idx;
	return 0;
}

/* ---- exact distinct table -------------------------------------------- */

static int
dt_grow(struct dtable *t)
{
	size_t ncap = t->cap ? t->cap * 2 : 64, i, j;
	struct dentry *e;

	if ((e = calloc(ncap, sizeof(*e))) == NULL)
		return -1;
	for (i = 0; i < t->cap; i++) {
		if (t->e[i].count == 0)
			continue;
		j = t->e[i].hash & (ncap - 1);
		while (e[j].count != 0)
			j = (j + 1) & (ncap - 1);
		e[j] = t->e[i];
	}
	free(t->e);
	t->e = e;
	t->cap = ncap;
	return 0;
}

/*
 * Counts s[0, n) in t.  Returns 0, 1 when the value is new and the table
 * is full (nothing stored: time to switch to Space-Saving), -1 on ENOMEM.
 */
static int
dt_add(struct dtable *t, const char *s, size_t n, uint64_t h)
{
	size_t i, ncap;
	struct dentry *e;
	char *p;

	if (t->cap == 0 && dt_grow(t) != 0)
		return -1;
	for (i = h & (t->cap - 1); (e = &t->e[i])->count != 0;
	    i = (i + 1) & (t->cap - 1))
		if (e->hash == h && e->len == n &&
		    memcmp(t->arena + e->off, s, n) == 0) {
			e->count++;
			return 0;
		}
	if (t->n >= PROFILE_EXACT_DISTINCT ||
	    t->alen + n > PROFILE_EXACT_BYTES)
		return 1;
	if (t->alen + n > t->acap) {
		ncap = t->acap ? t->acap * 2 : 4096;
		while (ncap < t->alen + n)
			ncap *= 2;
		if ((p = realloc(t->arena, ncap)) == NULL)
			return -1;
		t->arena = p;
		t->acap = ncap;
	}
	memcpy(t->arena + t->alen, s, n);
	e->hash = h;
	e->count = 1;
	e->off = (uint32_t)t->alen;
	e->len = (uint32_t)n;
	t->alen += n;
	t->n++;
	if (t->n * 10 >= t->cap * 7 && dt_grow(t) != 0)
		return -1;
	return 0;
}

static void
dt_free(struct dtable *t)
{
	free(t->e);
	free(t->arena);
	memset(t, 0, sizeof(*t));
}

static int
cmp_dentry_count(const void *a, const void *b)
{
	const struct dentry *x = *(const struct dentry *const *)a;
	const struct dentry *y = *(const struct dentry *const *)b;

	return x->count < y->count ? 1 : x->count > y->count ? -1 : 0;
}

/*
 * The exact table is full: seed Space-Saving with its most frequent
 * PROFILE_TOP_COUNTERS values (the others were seen no more often than
 * the least of these, which keeps Space-Saving's bound), then free it.
 */
static int
col_to_approximate(struct column *c)
{
	struct dentry **all;
	size_t i, k = 0;
	int rc = 0;

	if ((c->ss = calloc(1, sizeof(*c->ss))) == NULL)
		return -1;
	memset(c->ss->bucket, 0xff, sizeof(c->ss->bucket));
	if ((all = malloc(c->dt.n * sizeof(*all))) == NULL)
		return -1;
	for (i = 0; i < c->dt.cap; i++)
		if (c->dt.e[i].count != 0)
			all[k++] = &c->dt.e[i];
	qsort(all, k, sizeof(*all), cmp_dentry_count);
	for (i = 0; i < k && i < PROFILE_TOP_COUNTERS && rc == 0; i++)
		rc = ss_add(c->ss, c->dt.arena + all[i]->off, all[i]->len,
		    all[i]->hash, all[i]->count);
	free(all);
	dt_free(&c->dt);
	c->exact = 0;
	return rc;
}

/* ---- columns ----------------------------------------------------------- */

static int
col_init(struct column *c, size_t ordinal)
{
	memset(c, 0, sizeof(*c));
	c->exact = 1;
	c->minlen = SIZE_MAX;
	c->rng = 0x9E3779B97F4A7C15ULL ^ (uint64_t)(ordinal + 1);
	if ((c->hll = calloc(HLL_REGISTERS, 1)) == NULL)
		return -1;
	return 0;
}

static void
col_free(struct column *c)
{
	size_t i;

	extreme_free(&c->num_min);
	extreme_free(&c->num_max);
	extreme_free(&c->date_min);
	extreme_free(&c->date_max);
	extreme_free(&c->ts_min);
	extreme_free(&c->ts_max);
	extreme_free(&c->text_min);
	extreme_free(&c->text_max);
	dt_free(&c->dt);
	if (c->ss != NULL)
		for (i = 0; i < (size_t)c->ss->n; i++)
			free(c->ss->c[i].val);
	free(c->ss);
	free(c->hll);
	for (i = 0; i < c->nex; i++)
		free(c->ex[i]);
	free(c->sample);
}

/* xorshift64* (Vigna): uniform enough to pick reservoir slots. */
static uint64_t
rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

/* Vitter's Algorithm R: a uniform sample of the numeric values. */
static int
col_sample(struct column *c, double x)
{
	uint64_t j;

	c->nnum++;
	if (c->sample == NULL &&
	    (c->sample = malloc(PROFILE_SAMPLE * sizeof(double))) == NULL)
		return -1;
	if (c->nsample < PROFILE_SAMPLE) {
		c->sample[c->nsample++] = x;
		return 0;
	}
	j = rng_next(&c->rng) % c->nnum;
	if (j < PROFILE_SAMPLE)
		c->sample[j] = x;
	return 0;
}

static int
col_example(struct column *c, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < c->nex; i++)
		if (c->exlen[i] == n && memcmp(c->ex[i], s, n) == 0)
			return 0;
	if ((c->ex[c->nex] = malloc(n + 1)) == NULL)
		return -1;
	memcpy(c->ex[c->nex], s, n);
	c->ex[c->nex][n] = '\0';
	c->exlen[c->nex++] = n;
	return 0;
}

/*
 * Adds one value v to column c: n is its length, h its hash64() (v NULL
 * or n 0: JSON null, a missing key or an empty string).
 */
static void
col_add(struct column *c, struct kept_class *kept, const char *v, size_t n,
    uint64_t h)
{
	struct value_info vi;
	const char *t;
	size_t tn, chars, i;
	int rc = 0;

	if (v == NULL || n == 0) {
		c->nulls++;
		return;
	}
	c->nonnull++;
	for (chars = n, i = 0; i < n; i++)
		chars -= ((unsigned char)v[i] & 0xC0) == 0x80;
	if (chars < c->minlen)
		c->minlen = chars;
	if (chars > c->maxlen)
		c->maxlen = chars;
	hll_add(c->hll, h);
	if (c->exact) {
		rc = dt_add(&c->dt, v, n, h);
		if (rc == 1 && (rc = col_to_approximate(c)) == 0)
			rc = ss_add(c->ss, v, n, h, 1);
	} else
		rc = ss_add(c->ss, v, n, h, 1);
	t = v;
	tn = n;
	trim(&t, &tn);
	if (tn == 0) {
		c->blanks++;
		goto out;
	}
	if (c->nex < PROFILE_EXAMPLES && rc == 0)
		rc = col_example(c, v, n);
	classify_kept(kept, t, tn, h, &vi);
	if (vi.flags & V_DEC) {
		c->n_dec++;
		c->n_int += (vi.flags & V_INT) != 0;
		c->n_money += (vi.flags & V_MONEY) != 0;
		c->n_01 += (vi.flags & V_01) != 0;
		if (rc == 0)
			rc = extreme_keys(&c->num_min, &c->num_max, vi.num,
			    v, n) | col_sample(c, (double)vi.num);
	} else if (vi.flags & V_BOOLWORD)
		c->n_boolword++;
	else if (vi.flags & V_EMAIL)
		c->n_email++;
	if (vi.flags & (V_DATE | V_TS)) {
		if (vi.flags & V_DATE) {
			c->n_date++;
			if (rc == 0)
				rc = extreme_keys(&c->date_min, &c->date_max,
				    vi.date, v, n);
		} else
			c->n_ts++;
		if (rc == 0)
			rc = extreme_keys(&c->ts_min, &c->ts_max, vi.ts, v,
			    n);
	}
	if (rc == 0)
		rc = extreme_text(&c->text_min, 0, v, n) |
		    extreme_text(&c->text_max, 1, v, n);
out:
	if (rc != 0)
		c->oom = 1;
}

/* The type of column c and the share of its values that match it. */
static enum profile_type
col_type(const struct column *c, double *confidence)
{
	static const enum profile_type order[] = { PROFILE_TYPE_INTEGER,
	    PROFILE_TYPE_MONEY, PROFILE_TYPE_DECIMAL, PROFILE_TYPE_BOOLEAN,
	    PROFILE_TYPE_DATE, PROFILE_TYPE_TIMESTAMP, PROFILE_TYPE_EMAIL };
	uint64_t v = c->nonnull - c->blanks, hits[7];
	enum profile_type best = PROFILE_TYPE_TEXT;
	double share, top = 0;
	size_t i;

	*confidence = 1;
	if (v == 0)
		return PROFILE_TYPE_EMPTY;
	hits[0] = c->n_int;
	/* money: numbers of which some carry a currency ("450.00",
	 * "$29.95", "USD 29.95") */
	hits[1] = c->n_money > 0 ? c->n_dec : 0;
	hits[2] = c->n_dec;
	hits[3] = c->n_boolword > 0 ? c->n_boolword + c->n_01 : 0;
	hits[4] = c->n_date;
	hits[5] = c->n_ts > 0 ? c->n_ts + c->n_date : 0;
	hits[6] = c->n_email;
	for (i = 0; i < 7; i++) {
		share = (double)hits[i] / (double)v;
		/* a number is a number in all its values: a column where
		 * more than 1 in 100 values has letters ("C536379", "85123A")
		 * is a code, typed text, not integer */
		if (i <= 2 && share < PROFILE_NUMERIC_SHARE)
			continue;
		if (share > top) {
			top = share;
			best = order[i];
		}
	}
	if (top < 0.5)
		return PROFILE_TYPE_TEXT;
	*confidence = top;
	return best;
}

/* A top-values candidate. */
struct topval {
	const char	*val;
	size_t		 len;
	uint64_t	 count;
};

/* Most frequent first, then code-point order. */
static int
top_before(const struct topval *a, const struct topval *b)
{
	if (a->count != b->count)
		return a->count > b->count;
	return cmp_text(a->val, a->len, b->val, b->len) < 0;
}

/* Inserts cand into the sorted list top[0, *n) of at most PROFILE_TOP. */
static void
top_insert(struct topval *top, size_t *n, const struct topval *cand)
{
	size_t i;

	if (*n == PROFILE_TOP && !top_before(cand, &top[*n - 1]))
		return;
	i = *n < PROFILE_TOP ? (*n)++ : *n - 1;
	while (i > 0 && top_before(cand, &top[i - 1])) {
		top[i] = top[i - 1];
		i--;
	}
	top[i] = *cand;
}

static json_t *
json_text(const struct extreme *e)
{
	return e->set ? json_stringn(e->text, e->len) : json_null();
}

/* {"sampled":..., "sample_size":..., "bins": [...]} of column c. */
static json_t *
col_histogram(const struct column *c)
{
	double lo = (double)c->num_min.key, hi = (double)c->num_max.key, w;
	uint64_t counts[PROFILE_BINS];
	size_t i, nb = lo < hi ? PROFILE_BINS : 1, b;
	json_t *bins, *h;

	memset(counts, 0, sizeof(counts));
	w = (hi - lo) / (double)nb;
	for (i = 0; i < c->nsample; i++) {
		b = nb == 1 ? 0 : (size_t)((c->sample[i] - lo) / w);
		if (b >= nb)
			b = nb - 1;
		counts[b]++;
	}
	if ((bins = json_array()) == NULL)
		return NULL;
	for (i = 0; i < nb; i++)
		json_array_append_new(bins, json_pack("{s:f,s:f,s:I}",
		    "lo", lo + w * (double)i,
		    "hi", i + 1 == nb ? hi : lo + w * (double)(i + 1),
		    "count", (json_int_t)counts[i]));
	h = json_pack("{s:b,s:I,s:o}", "sampled", c->nnum > c->nsample,
	    "sample_size", (json_int_t)c->nsample, "bins", bins);
	return h;
}

/* The profile of column c (number ordinal, named name) as JSON. */
static json_t *
col_json(const struct column *c, size_t ordinal, const char *name)
{
	struct topval top[PROFILE_TOP], cand;
	const struct extreme *mn, *mx;
	enum profile_type type;
	double conf;
	size_t ntop = 0, i;
	uint64_t distinct;
	json_t *o, *jt, *ex;

	type = col_type(c, &conf);
	switch (type) {
	case PROFILE_TYPE_INTEGER:
	case PROFILE_TYPE_DECIMAL:
	case PROFILE_TYPE_MONEY:
		mn = &c->num_min;
		mx = &c->num_max;
		break;
	case PROFILE_TYPE_DATE:
		mn = &c->date_min;
		mx = &c->date_max;
		break;
	case PROFILE_TYPE_TIMESTAMP:
		mn = &c->ts_min;
		mx = &c->ts_max;
		break;
	default:
		mn = &c->text_min;
		mx = &c->text_max;
		break;
	}
	if (c->exact) {
		distinct = c->dt.n;
		for (i = 0; i < c->dt.cap; i++) {
			if (c->dt.e[i].count == 0)
				continue;
			cand.val = c->dt.arena + c->dt.e[i].off;
			cand.len = c->dt.e[i].len;
			cand.count = c->dt.e[i].count;
			top_insert(top, &ntop, &cand);
		}
	} else {
		distinct = hll_estimate(c->hll);
		for (i = 0; i < (size_t)c->ss->n; i++) {
			/* The guaranteed count: Space-Saving's minus its error. */
			cand.val = c->ss->c[i].val;
			cand.len = c->ss->c[i].len;
			cand.count = c->ss->c[i].count - c->ss->c[i].err;
			top_insert(top, &ntop, &cand);
		}
	}
	if ((jt = json_array()) == NULL || (ex = json_array()) == NULL) {
		json_decref(jt);
		return NULL;
	}
	for (i = 0; i < ntop; i++)
		json_array_append_new(jt, json_pack("{s:s%,s:I}", "value",
		    top[i].val, top[i].len, "count", (json_int_t)top[i].count));
	for (i = 0; i < c->nex; i++)
		json_array_append_new(ex, json_stringn(c->ex[i], c->exlen[i]));
	o = json_pack("{s:I,s:s,s:s,s:f,s:I,s:I,s:I,s:b,s:o,s:o,s:o,s:o,"
	    "s:o,s:b,s:o}",
	    "ordinal", (json_int_t)ordinal,
	    "name", name,
	    "type", profile_type_name(type),
	    "type_confidence", (double)(long long)(conf * 10000 + 0.5) / 10000,
	    "nulls", (json_int_t)c->nulls,
	    "blanks", (json_int_t)c->blanks,
	    "distinct", (json_int_t)distinct,
	    "distinct_exact", c->exact,
	    "min", json_text(mn),
	    "max", json_text(mx),
	    "min_length", c->nonnull ? json_integer((json_int_t)c->minlen) :
	    json_null(),
	    "max_length", c->nonnull ? json_integer((json_int_t)c->maxlen) :
	    json_null(),
	    "top", jt,
	    "top_exact", c->exact,
	    "examples", ex);
	if (o != NULL && c->nsample > 0 && (type == PROFILE_TYPE_INTEGER ||
	    type == PROFILE_TYPE_DECIMAL || type == PROFILE_TYPE_MONEY))
		json_object_set_new(o, "histogram", col_histogram(c));
	return o;
}

cc_err
profile_source(const char *path, const struct source_dialect *d,
    json_t **out, struct cc_diag *diag)
{
	struct source_reader *r = NULL;
	struct column *cols = NULL;
	struct kept_class *kept = NULL;
	struct cc_diag ld;
	const char *const *v;
	size_t ncol = 0, i, ninit = 0, *len = NULL;
	uint64_t *hash = NULL;
	long long rows = 0;
	json_t *res = NULL, *jc, *c;
	cc_err err;

	cc_diag_clear(&ld);
	if (out != NULL)
		*out = NULL;
	if (path == NULL || d == NULL || out == NULL) {
		err = cc_diag_set(&ld, CC_EINVAL, "invalid_argument",
		    "profile_source: NULL argument");
		goto out;
	}
	if ((err = source_open(path, d, &r, &ld)) != CC_OK)
		goto out;
	ncol = source_ncolumns(r);
	if ((cols = calloc(ncol ? ncol : 1, sizeof(*cols))) == NULL)
		goto nomem;
	for (ninit = 0; ninit < ncol; ninit++)
		if (col_init(&cols[ninit], ninit) != 0)
			goto nomem;
	if ((len = calloc(ncol ? ncol : 1, sizeof(*len))) == NULL ||
	    (hash = calloc(ncol ? ncol : 1, sizeof(*hash))) == NULL)
		goto nomem;
	kept = calloc(KEPT_SLOTS, sizeof(*kept));	/* NULL: no memory */
	while ((err = source_next(r, &v, &ld)) == CC_OK) {
		rows++;
		/*
		 * Hash the whole row first and prefetch the table slots: the
		 * probes of the columns then miss the cache in parallel.
		 */
		for (i = 0; i < ncol; i++) {
			len[i] = v[i] != NULL ? strlen(v[i]) : 0;
			hash[i] = hash64(v[i], len[i]);
			if (cols[i].exact && cols[i].dt.cap > 0)
				__builtin_prefetch(&cols[i].dt.e[hash[i] &
				    (cols[i].dt.cap - 1)]);
		}
		for (i = 0; i < ncol; i++)
			col_add(&cols[i], kept, v[i], len[i], hash[i]);
	}
	if (err != CC_EOF)
		goto out;
	for (i = 0; i < ncol; i++)
		if (cols[i].oom)
			goto nomem;
	if ((jc = json_array()) == NULL)
		goto nomem;
	res = json_pack("{s:I,s:o}", "rows", (json_int_t)rows, "columns", jc);
	if (res == NULL)
		goto nomem;
	if (d->format == SOURCE_FORMAT_CSV)
		json_object_set_new(res, "ragged_rows",
		    json_integer(source_ragged_rows(r)));
	for (i = 0; i < ncol; i++) {
		if ((c = col_json(&cols[i], i + 1, source_column(r, i))) ==
		    NULL || json_array_append_new(jc, c) != 0)
			goto nomem;
	}
	*out = res;
	res = NULL;
	err = CC_OK;
	goto out;
nomem:
	err = cc_diag_set(&ld, CC_ENOMEM, "out_of_memory",
	    "out of memory profiling the source");
out:
	json_decref(res);
	for (i = 0; i < ninit; i++)
		col_free(&cols[i]);
	free(cols);
	free(len);
	free(hash);
	free(kept);
	source_close(r);
	if (diag != NULL)
		*diag = ld;
	return err;
}
