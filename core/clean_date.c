/*
 * clean_date.c - dates and timestamps: parsing every form of the seeds,
 * calendar checks, column inference of the field order and of a hidden
 * local-midnight offset, plausibility checks (concord/clean.h).
 *
 * Calendar arithmetic: days_from_civil() and civil_from_days() are
 * Howard Hinnant's public-domain algorithms ("chrono-Compatible Low-Level
 * Date Algorithms"), proleptic Gregorian, day 0 = 1970-01-01.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "concord/clean.h"
#include "clean_int.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* A value read from text, before output. */
struct clean_dt {
	int		 y, mo, d;	/* the date */
	int		 f1, f2;	/* numeric D/M fields, unordered */
	int		 pending;	/* 1: f1/f2 wait for the column order */
	int		 has_time;
	int		 hh, mi, ss;
	int		 frac_nonzero;	/* a fraction of a second not zero */
	int		 zone;		/* a zone was given (or implied) */
	int		 zone_min;	/* minutes east of UTC */
	int		 day_add;	/* 24:00 is the next day */
	int		 two_digit;	/* the year had two digits */
	unsigned	 form;		/* CLEAN_DATE_FORM_* */
	enum clean_rule	 rule;		/* how the date part was read */
};

static int
clean_is_leap(long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
clean_dim(long y, int m)
{
	static const int days[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	return m == 2 && clean_is_leap(y) ? 29 : days[m - 1];
}

static long long
clean_days_from_civil(long y, int m, int d)
{
	long long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
clean_civil_from_days(long long z, long *y, int *m, int *d)
{
	long long era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (long)(yoe + era * 400 + (*m <= 2));
}

static long long
clean_floordiv(long long a, long long b)
{
	return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

/* Sets dt's date and time from seconds since the epoch (UTC). */
static int
clean_dt_from_secs(struct clean_dt *dt, long long secs)
{
	long long days = clean_floordiv(secs, 86400), rem;
	long y;

	rem = secs - days * 86400;
	clean_civil_from_days(days, &y, &dt->mo, &dt->d);
	if (y < 1 || y > 9999)
		return -1;
	dt->y = (int)y;
	dt->hh = (int)(rem / 3600);
	dt->mi = (int)(rem / 60 % 60);
	dt->ss = (int)(rem % 60);
	dt->has_time = 1;
	return 0;
}

/* Digits p[0..n) as a number (n <= 9). */
static int
clean_num(const char *p, size_t n)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = v * 10 + (p[i] - '0');
	return v;
}

static size_t
clean_digits(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && p[i] >= '0' && p[i] <= '9')
		i++;
	return i;
}

/* Writes v as w digits at p. */
static void
clean_put_digits(char *p, long v, int w)
{
	while (w-- > 0) {
		p[w] = (char)('0' + v % 10);
		v /= 10;
	}
}

/* Writes "YYYY-MM-DD" (10 bytes, no NUL) at p. */
static void
clean_put_date(char *p, long y, int m, int d)
{
	clean_put_digits(p, y, 4);
	p[4] = '-';
	clean_put_digits(p + 5, m, 2);
	p[7] = '-';
	clean_put_digits(p + 8, d, 2);
}

static int
clean_year2(int yy, int pivot)
{
	return yy < pivot ? 2000 + yy : 1900 + yy;
}

/* ------------------------------------------------------------------ */
/* Integers: YYYYMMDD, epochs, serials                                */
/* ------------------------------------------------------------------ */

/* p[0..n) is [sign] digits [. digits]: reads an integer value. */
static enum clean_issue
clean_dt_integer(const char *p, size_t n, const struct clean_date_format *fmt,
    struct clean_dt *dt)
{
	size_t i = 0, ni, nf = 0;
	long long v = 0, fnum = 0, fden = 1;
	int neg = 0, fz = 0;

	if (p[0] == '-' || p[0] == '+')
		neg = p[i++] == '-';
	ni = clean_digits(p + i, n - i);
	if (i + ni < n) {
		nf = clean_digits(p + i + ni + 1, n - i - ni - 1);
		if (p[i + ni] != '.' || i + ni + 1 + nf != n)
			return CLEAN_ISSUE_DATE_INVALID;
	}
	if (fmt->ints == CLEAN_DATE_INT_YYYYMMDD) {
		if (neg || i != 0 || ni != 8 || n != 8)
			return CLEAN_ISSUE_DATE_INVALID;
		dt->y = clean_num(p, 4);
		dt->mo = clean_num(p + 4, 2);
		dt->d = clean_num(p + 6, 2);
		dt->form = CLEAN_DATE_FORM_YYYYMMDD;
		dt->rule = CLEAN_RULE_DATE_YYYYMMDD;
		return CLEAN_ISSUE_NONE;
	}
	if (ni == 0 || ni > 15)
		return CLEAN_ISSUE_DATE_INVALID;
	for (; ni > 0; ni--, i++)
		v = v * 10 + (p[i] - '0');
	for (i++; nf > 0; nf--, i++) {
		fz |= p[i] != '0';
		if (fden < 1000000000LL) {	/* nanoseconds are enough */
			fnum = fnum * 10 + (p[i] - '0');
			fden *= 10;
		}
	}
	if (neg)
		v = -v;
	switch (fmt->ints) {
	case CLEAN_DATE_INT_EPOCH_S:
	case CLEAN_DATE_INT_EPOCH_MS:
		if (fmt->ints == CLEAN_DATE_INT_EPOCH_MS) {
			dt->frac_nonzero = v % 1000 != 0 || fz;
			v = clean_floordiv(v, 1000);
		} else {
			dt->frac_nonzero = fz;
			if (neg && fz)
				v--;
		}
		if (clean_dt_from_secs(dt, v) < 0)
			return CLEAN_ISSUE_DATE_INVALID;
		dt->zone = 1;
		dt->form = CLEAN_DATE_FORM_EPOCH;
		dt->rule = CLEAN_RULE_DATE_EPOCH;
		return CLEAN_ISSUE_NONE;
	case CLEAN_DATE_INT_SERIAL_1900:
		if (neg || v < 1 || v > 2958465)
			return CLEAN_ISSUE_DATE_INVALID;
		if (v == 60)	/* 1900-02-29: Lotus 1-2-3's leap-year bug */
			return CLEAN_ISSUE_DATE_IMPOSSIBLE;
		if (clean_dt_from_secs(dt, (clean_days_from_civil(1899, 12,
		    v < 60 ? 31 : 30) + v) * 86400 + fnum * 86400 / fden) < 0)
			return CLEAN_ISSUE_DATE_INVALID;
		dt->has_time = fz;
		dt->frac_nonzero = (fnum * 86400) % fden != 0;
		dt->form = CLEAN_DATE_FORM_SERIAL;
		dt->rule = CLEAN_RULE_DATE_SERIAL;
		return CLEAN_ISSUE_NONE;
	default:
		return CLEAN_ISSUE_DATE_INVALID;
	}
}

/* ------------------------------------------------------------------ */
/* Month names                                                        */
/* ------------------------------------------------------------------ */

static const char *const clean_months[12] = {
	"january", "february", "march", "april", "may", "june", "july",
	"august", "september", "october", "november", "december"
};

static const char *const clean_weekdays[7] = {
	"monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
	"sunday"
};

/* 1 when w[0..n) (any case) is full or a prefix of at least 3 letters
 * of name. */
static int
clean_word_is(const char *w, size_t n, const char *name)
{
	size_t i;

	if (n < 3 || n > strlen(name))
		return 0;
	for (i = 0; i < n; i++)
		if (clean_i_lower((unsigned char)w[i]) != name[i])
			return 0;
	return 1;
}

/* The month 1..12 of a word, or 0.  Abbreviations: the first three
 * letters, any longer prefix ("Sept"), or the full name. */
static int
clean_month_word(const char *w, size_t n)
{
	int m;

	for (m = 0; m < 12; m++)
		if (clean_word_is(w, n, clean_months[m]))
			return m + 1;
	return 0;
}

static int
clean_weekday_word(const char *w, size_t n)
{
	int i;

	for (i = 0; i < 7; i++)
		if (clean_word_is(w, n, clean_weekdays[i]) ||
		    (n == 4 && clean_word_is(w, 3, clean_weekdays[i]) &&
		    clean_i_lower((unsigned char)w[3]) == 's'))	/* "Tues" */
			return 1;
	return 0;
}

static int
clean_is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* A date with a month name in p[0..n). */
static enum clean_issue
clean_dt_month_name(const char *p, size_t n,
    const struct clean_date_format *fmt, struct clean_dt *dt)
{
	struct {
		size_t off, len;
	} num[2];
	size_t i = 0, k, nnum = 0, nmon = 0, mpos = 0, ntok = 0;
	int month = 0;

	while (i < n) {
		if (strchr(" ,-/.", p[i]) != NULL) {
			i++;
			continue;
		}
		if ((k = clean_digits(p + i, n - i)) > 0) {
			if (nnum == 2)
				return CLEAN_ISSUE_DATE_INVALID;
			num[nnum].off = i;
			num[nnum++].len = k;
			i += k;
			/* An ordinal suffix right after the day: 12th. */
			if (i + 2 <= n && (i + 2 == n ||
			    !clean_is_alpha(p[i + 2])) &&
			    (clean_i_casecmp(p + i, 2, "st") == 0 ||
			    clean_i_casecmp(p + i, 2, "nd") == 0 ||
			    clean_i_casecmp(p + i, 2, "rd") == 0 ||
			    clean_i_casecmp(p + i, 2, "th") == 0))
				i += 2;
			ntok++;
			continue;
		}
		for (k = 0; i + k < n && clean_is_alpha(p[i + k]); k++)
			;
		if (k == 0)
			return CLEAN_ISSUE_DATE_INVALID;
		if ((month = clean_month_word(p + i, k)) != 0 && nmon == 0) {
			nmon = 1;
			mpos = nnum;
			dt->mo = month;
		} else if (!(ntok == 0 && clean_weekday_word(p + i, k)))
			return CLEAN_ISSUE_DATE_INVALID;
		i += k;
		ntok++;
	}
	if (nmon != 1 || nnum != 2)
		return CLEAN_ISSUE_DATE_INVALID;
	if (num[0].len == 4 && mpos >= 1) {		/* 2023-Jan-12 */
		dt->y = clean_num(p + num[0].off, 4);
		k = 1;
	} else if (mpos <= 1 && (num[1].len == 4 || num[1].len == 2)) {
		/* 12 Jan 2023, Jan 12 2023, 12-JAN-23 */
		if (num[1].len == 2) {
			dt->y = clean_year2(clean_num(p + num[1].off, 2),
			    fmt->pivot);
			dt->two_digit = 1;
		} else
			dt->y = clean_num(p + num[1].off, 4);
		k = 0;
	} else
		return CLEAN_ISSUE_DATE_INVALID;
	if (num[k].len > 2)
		return CLEAN_ISSUE_DATE_INVALID;
	dt->d = clean_num(p + num[k].off, num[k].len);
	dt->form = CLEAN_DATE_FORM_MONTH_NAME;
	dt->rule = CLEAN_RULE_DATE_MONTH_NAME;
	return CLEAN_ISSUE_NONE;
}

/* ------------------------------------------------------------------ */
/* The parser                                                         */
/* ------------------------------------------------------------------ */

/* The date part p[0..n). */
static enum clean_issue
clean_dt_date(const char *p, size_t n, const struct clean_date_format *fmt,
    struct clean_dt *dt)
{
	size_t a, b, c;
	char s1, s2;

	a = clean_digits(p, n);
	if (a == n && n == 8) {
		dt->y = clean_num(p, 4);
		dt->mo = clean_num(p + 4, 2);
		dt->d = clean_num(p + 6, 2);
		dt->form = CLEAN_DATE_FORM_YYYYMMDD;
		dt->rule = CLEAN_RULE_DATE_YYYYMMDD;
		return CLEAN_ISSUE_NONE;
	}
	if (a == 0 || a == n)
		return clean_dt_month_name(p, n, fmt, dt);
	s1 = p[a];
	b = clean_digits(p + a + 1, n - a - 1);
	if (strchr("-/.", s1) == NULL || b == 0 || a + 1 + b >= n)
		return clean_dt_month_name(p, n, fmt, dt);
	s2 = p[a + 1 + b];
	c = clean_digits(p + a + b + 2, n - a - b - 2);
	if (s2 != s1 || c == 0 || a + b + c + 2 != n)
		return CLEAN_ISSUE_DATE_INVALID;
	if (a == 4 && b <= 2 && c <= 2) {
		dt->y = clean_num(p, 4);
		dt->mo = clean_num(p + 5, b);
		dt->d = clean_num(p + 6 + b, c);
		dt->form = CLEAN_DATE_FORM_ISO;
		if (b != 2 || c != 2 || s1 != '-')
			dt->rule = CLEAN_RULE_DATE_ISO;
		return CLEAN_ISSUE_NONE;
	}
	if (a <= 2 && b <= 2 && (c == 4 || c == 2)) {
		dt->f1 = clean_num(p, a);
		dt->f2 = clean_num(p + a + 1, b);
		if (c == 4)
			dt->y = clean_num(p + a + b + 2, 4);
		else {
			dt->y = clean_year2(clean_num(p + a + b + 2, 2),
			    fmt->pivot);
			dt->two_digit = 1;
		}
		dt->pending = 1;
		dt->form = CLEAN_DATE_FORM_NUMERIC;
		return CLEAN_ISSUE_NONE;
	}
	return CLEAN_ISSUE_DATE_INVALID;
}

/* The time part p[0..n): H:MM[:SS[.f]] [AM|PM] [zone]. */
static enum clean_issue
clean_dt_time(const char *p, size_t n, struct clean_dt *dt)
{
	size_t i, k;
	int pm = -1, zh, zm = 0, sign;

	k = clean_digits(p, n);
	if (k < 1 || k > 2 || k + 3 > n || p[k] != ':' ||
	    clean_digits(p + k + 1, n - k - 1) < 2)
		return CLEAN_ISSUE_DATE_INVALID;
	dt->hh = clean_num(p, k);
	dt->mi = clean_num(p + k + 1, 2);
	i = k + 3;
	if (i < n && p[i] == ':') {
		if (clean_digits(p + i + 1, n - i - 1) != 2)
			return CLEAN_ISSUE_DATE_INVALID;
		dt->ss = clean_num(p + i + 1, 2);
		i += 3;
		if (i < n && (p[i] == '.' || p[i] == ',')) {
			k = clean_digits(p + i + 1, n - i - 1);
			if (k == 0)
				return CLEAN_ISSUE_DATE_INVALID;
			for (i++; k > 0; k--, i++)
				if (p[i] != '0')
					dt->frac_nonzero = 1;
		}
	} else if (i < n && clean_digits(p + i, n - i) > 0)
		return CLEAN_ISSUE_DATE_INVALID;
	while (i < n && p[i] == ' ')
		i++;
	if (i + 2 <= n && (clean_i_casecmp(p + i, 2, "am") == 0 ||
	    clean_i_casecmp(p + i, 2, "pm") == 0)) {
		pm = clean_i_lower((unsigned char)p[i]) == 'p';
		i += 2;
	} else if (i + 4 <= n && (clean_i_casecmp(p + i, 4, "a.m.") == 0 ||
	    clean_i_casecmp(p + i, 4, "p.m.") == 0)) {
		pm = clean_i_lower((unsigned char)p[i]) == 'p';
		i += 4;
	}
	while (i < n && p[i] == ' ')
		i++;
	if (i < n) {
		if (n - i == 1 && (p[i] == 'Z' || p[i] == 'z')) {
			dt->zone = 1;
			i++;
		} else if (n - i == 3 &&
		    (clean_i_casecmp(p + i, 3, "utc") == 0 ||
		    clean_i_casecmp(p + i, 3, "gmt") == 0)) {
			dt->zone = 1;
			i += 3;
		} else if (p[i] == '+' || p[i] == '-' ||
		    (p[i] == '\xe2' && n - i >= 3 && p[i + 1] == '\x88' &&
		    p[i + 2] == '\x92')) {		/* U+2212 minus */
			sign = p[i] == '+' ? 1 : -1;
			i += p[i] == '\xe2' ? 3 : 1;
			k = clean_digits(p + i, n - i);
			if (k == 2 && i + 2 == n) {
				zh = clean_num(p + i, 2);
			} else if (k == 4 && i + 4 == n) {
				zh = clean_num(p + i, 2);
				zm = clean_num(p + i + 2, 2);
			} else if (k == 2 && i + 5 == n && p[i + 2] == ':' &&
			    clean_digits(p + i + 3, 2) == 2) {
				zh = clean_num(p + i, 2);
				zm = clean_num(p + i + 3, 2);
			} else
				return CLEAN_ISSUE_DATE_INVALID;
			if (zh > 23 || zm > 59)
				return CLEAN_ISSUE_DATE_IMPOSSIBLE;
			dt->zone = 1;
			dt->zone_min = sign * (zh * 60 + zm);
			i = n;
		} else
			return CLEAN_ISSUE_DATE_INVALID;
	}
	if (pm >= 0) {
		if (dt->hh < 1 || dt->hh > 12)
			return CLEAN_ISSUE_DATE_IMPOSSIBLE;
		dt->hh = dt->hh % 12 + (pm ? 12 : 0);
	}
	if (dt->hh == 24 && dt->mi == 0 && dt->ss == 0 && !dt->frac_nonzero) {
		dt->hh = 0;
		dt->day_add = 1;
	}
	if (dt->hh > 23 || dt->mi > 59 || dt->ss > 60)
		return CLEAN_ISSUE_DATE_IMPOSSIBLE;
	dt->has_time = 1;
	return CLEAN_ISSUE_NONE;
}

/* Reads p[0..n) (trimmed) without resolving a numeric D/M order. */
static enum clean_issue
clean_dt_parse(const char *p, size_t n, const struct clean_date_format *fmt,
    struct clean_dt *dt)
{
	const char *colon;
	size_t t = 0, dn, i, dots = 0;
	enum clean_issue is;

	memset(dt, 0, sizeof(*dt));
	if (n == 0 || n > 64)
		return CLEAN_ISSUE_DATE_INVALID;
	for (i = (p[0] == '-' || p[0] == '+'); i < n; i++) {
		if (p[i] == '.')
			dots++;
		else if (!(p[i] >= '0' && p[i] <= '9'))
			break;
	}
	if (i == n && dots <= 1)
		return clean_dt_integer(p, n, fmt, dt);
	colon = memchr(p, ':', n);
	dn = n;
	if (colon != NULL) {
		/* The time starts at the 1 or 2 digits before the colon,
		 * after one "T", space or comma. */
		t = (size_t)(colon - p);
		for (i = 0; i < 2 && t > 0 && p[t - 1] >= '0' &&
		    p[t - 1] <= '9'; i++)
			t--;
		if (i == 0 || t < 2 || strchr(" Tt,", p[t - 1]) == NULL)
			return CLEAN_ISSUE_DATE_INVALID;
		dn = t - 1;
		while (dn > 0 && (p[dn - 1] == ' ' || p[dn - 1] == ','))
			dn--;
		if (dn == 0)
			return CLEAN_ISSUE_DATE_INVALID;
	}
	if ((is = clean_dt_date(p, dn, fmt, dt)) != CLEAN_ISSUE_NONE)
		return is;
	if (colon != NULL) {
		is = clean_dt_time(p + t, n - t, dt);
		if (is != CLEAN_ISSUE_NONE)
			return is;
		dt->form |= CLEAN_DATE_FORM_TIMESTAMP;
	}
	return CLEAN_ISSUE_NONE;
}

/* Checks the date (after the order is known). */
static enum clean_issue
clean_dt_valid(const struct clean_dt *dt)
{
	if (dt->y < 1 || dt->y > 9999)
		return CLEAN_ISSUE_DATE_INVALID;
	if (dt->mo < 1 || dt->mo > 12 || dt->d < 1 ||
	    dt->d > clean_dim(dt->y, dt->mo))
		return CLEAN_ISSUE_DATE_IMPOSSIBLE;
	return CLEAN_ISSUE_NONE;
}

/* Applies the column order to a numeric D/M date. */
static enum clean_issue
clean_dt_resolve(struct clean_dt *dt, enum clean_date_order order)
{
	int m, d;

	if (!dt->pending)
		return clean_dt_valid(dt);
	if (order == CLEAN_ORDER_MDY) {
		m = dt->f1;
		d = dt->f2;
		dt->rule = CLEAN_RULE_DATE_US_MDY;
	} else if (order == CLEAN_ORDER_DMY) {
		d = dt->f1;
		m = dt->f2;
		dt->rule = CLEAN_RULE_DATE_EU_DMY;
	} else
		return CLEAN_ISSUE_DATE_ORDER_UNKNOWN;
	if (m > 12 && d >= 1 && d <= 12 && m <= 31)
		return CLEAN_ISSUE_DATE_ORDER_CONFLICT;
	dt->mo = m;
	dt->d = d;
	dt->pending = 0;
	return clean_dt_valid(dt);
}

/* Minutes since the epoch of dt's instant in UTC (zone applied). */
static long long
clean_dt_utc_minutes(const struct clean_dt *dt)
{
	return (clean_days_from_civil(dt->y, dt->mo, dt->d) + dt->day_add) *
	    1440 + dt->hh * 60 + dt->mi - (dt->zone ? dt->zone_min : 0);
}

/* ------------------------------------------------------------------ */
/* Public                                                             */
/* ------------------------------------------------------------------ */

void
clean_date_format_init(struct clean_date_format *fmt)
{
	memset(fmt, 0, sizeof(*fmt));
	fmt->order = CLEAN_ORDER_UNKNOWN;
	fmt->ints = CLEAN_DATE_INT_YYYYMMDD;
	fmt->pivot = 69;
}

/* Checks fmt (or gives the defaults); 0 when out of range. */
static int
clean_fmt_ok(const struct clean_date_format *fmt,
    struct clean_date_format *def, const struct clean_date_format **use)
{
	if (fmt == NULL) {
		clean_date_format_init(def);
		*use = def;
		return 1;
	}
	*use = fmt;
	return fmt->pivot >= 0 && fmt->pivot <= 100 &&
	    fmt->ints >= CLEAN_DATE_INT_YYYYMMDD &&
	    fmt->ints <= CLEAN_DATE_INT_SERIAL_1900 &&
	    fmt->order >= CLEAN_ORDER_UNKNOWN &&
	    fmt->order <= CLEAN_ORDER_DMY &&
	    (!fmt->has_local_offset ||
	    (fmt->local_offset >= -720 && fmt->local_offset <= 840));
}

/* Reads raw for clean_date() and clean_timestamp(): 1 with *dt, or 0
 * with res final. */
static int
clean_dt_read(const char *raw, const struct clean_date_format *fmt,
    const struct clean_opts *opt, struct clean_span *s, struct clean_dt *dt,
    char *out, struct clean_result *res)
{
	enum clean_issue is;

	if (!clean_i_prep(raw, opt, 1, s, res))
		return 0;
	is = clean_dt_parse(s->p, s->n, fmt, dt);
	if (is == CLEAN_ISSUE_NONE)
		is = clean_dt_resolve(dt, fmt->order);
	if (is != CLEAN_ISSUE_NONE) {
		clean_i_invalid(res, is, out);
		return 0;
	}
	clean_i_rule(res, dt->rule);
	if (dt->two_digit)
		clean_i_rule(res, CLEAN_RULE_DATE_TWO_DIGIT_YEAR);
	return 1;
}

cc_err
clean_date(const char *raw, const struct clean_date_format *fmt,
    const struct clean_opts *opt, char *out, size_t outsize,
    struct clean_result *res)
{
	struct clean_date_format def;
	struct clean_span s;
	struct clean_dt dt;
	char buf[16];
	long long days;
	long y;
	int m, d;
	cc_err e;

	if ((e = clean_i_start(out, outsize, res)) != CC_OK)
		return e;
	if (!clean_fmt_ok(fmt, &def, &fmt))
		return CC_EINVAL;
	if (!clean_dt_read(raw, fmt, opt, &s, &dt, out, res))
		return CC_OK;
	days = clean_days_from_civil(dt.y, dt.mo, dt.d) + dt.day_add;
	if (dt.has_time) {
		clean_i_rule(res, CLEAN_RULE_DATE_FROM_TIMESTAMP);
		if (dt.zone && fmt->has_local_offset) {
			days = clean_floordiv(clean_dt_utc_minutes(&dt) +
			    fmt->local_offset, 1440);
			clean_i_rule(res, CLEAN_RULE_DATE_LOCAL_OFFSET);
		}
	}
	clean_civil_from_days(days, &y, &m, &d);
	if (y < 1 || y > 9999)
		return clean_i_invalid(res, CLEAN_ISSUE_DATE_IMPOSSIBLE, out);
	clean_put_date(buf, y, m, d);
	if (s.n == 10 && memcmp(buf, s.p, 10) == 0)
		res->rules &= CLEAN_RULE_BIT(CLEAN_RULE_TRIM);
	if (res->rules == 0)
		res->rule = CLEAN_RULE_NONE;
	else if (!(res->rules & CLEAN_RULE_BIT(res->rule)))
		res->rule = CLEAN_RULE_TRIM;
	return clean_i_put(buf, 10, out, outsize, res);
}

cc_err
clean_timestamp(const char *raw, const struct clean_date_format *fmt,
    const struct clean_opts *opt, char *out, size_t outsize,
    struct clean_result *res)
{
	struct clean_date_format def;
	struct clean_span s;
	struct clean_dt dt;
	char buf[32];
	long long mins, days;
	long y;
	int m, d;
	cc_err e;

	if ((e = clean_i_start(out, outsize, res)) != CC_OK)
		return e;
	if (!clean_fmt_ok(fmt, &def, &fmt))
		return CC_EINVAL;
	if (!clean_dt_read(raw, fmt, opt, &s, &dt, out, res))
		return CC_OK;
	if (!dt.has_time)
		clean_i_rule(res, CLEAN_RULE_TS_FROM_DATE);
	else if (!dt.zone)
		clean_i_rule(res, CLEAN_RULE_TS_ASSUME_UTC);
	else if (dt.zone_min != 0)
		clean_i_rule(res, CLEAN_RULE_TS_ZONE_TO_UTC);
	if (dt.frac_nonzero)
		clean_i_rule(res, CLEAN_RULE_TS_TRUNCATE_FRACTION);
	mins = clean_dt_utc_minutes(&dt);
	days = clean_floordiv(mins, 1440);
	mins -= days * 1440;
	clean_civil_from_days(days, &y, &m, &d);
	if (y < 1 || y > 9999)
		return clean_i_invalid(res, CLEAN_ISSUE_DATE_IMPOSSIBLE, out);
	clean_put_date(buf, y, m, d);
	buf[10] = 'T';
	clean_put_digits(buf + 11, (long)(mins / 60), 2);
	buf[13] = ':';
	clean_put_digits(buf + 14, (long)(mins % 60), 2);
	buf[16] = ':';
	clean_put_digits(buf + 17, dt.ss, 2);
	buf[19] = 'Z';
	if (s.n != 20 || memcmp(buf, s.p, 20) != 0) {
		if ((res->rules & ~CLEAN_RULE_BIT(CLEAN_RULE_TRIM)) == 0)
			clean_i_rule(res, CLEAN_RULE_TS_REFORMAT);
	}
	return clean_i_put(buf, 20, out, outsize, res);
}

/* ------------------------------------------------------------------ */
/* Inference                                                          */
/* ------------------------------------------------------------------ */

cc_err
clean_date_infer(const char *const *values, size_t n,
    struct clean_date_format *out)
{
	unsigned hist[1440];
	struct clean_result res;
	struct clean_span s;
	struct clean_dt dt;
	char ex_mdy[32] = "", ex_dmy[32] = "";
	size_t i, win, lose, best = 0, nts0 = 0, len;
	enum clean_issue is;
	long long um;
	int ints, pivot;

	if (out == NULL || (values == NULL && n > 0))
		return CC_EINVAL;
	ints = out->ints;
	pivot = out->pivot;
	clean_date_format_init(out);
	out->ints = (enum clean_date_int)ints;
	out->pivot = pivot;
	if (out->pivot < 0 || out->pivot > 100 || (int)out->ints < 0 ||
	    out->ints > CLEAN_DATE_INT_SERIAL_1900)
		return CC_EINVAL;
	memset(hist, 0, sizeof(hist));
	out->n_values = n;
	for (i = 0; i < n; i++) {
		memset(&res, 0, sizeof(res));
		if (!clean_i_prep(values[i], NULL, 1, &s, &res)) {
			out->n_null++;
			continue;
		}
		is = clean_dt_parse(s.p, s.n, out, &dt);
		if (is == CLEAN_ISSUE_NONE && !dt.pending)
			is = clean_dt_valid(&dt);
		if (is != CLEAN_ISSUE_NONE) {
			out->n_invalid++;
			continue;
		}
		out->forms |= dt.form;
		if (dt.pending) {
			int a = dt.f1, b = dt.f2;

			if (a < 1 || b < 1 || a > 31 || b > 31 ||
			    (a > 12 && b > 12))
				out->n_invalid++;
			else if (a > 12) {
				if (out->n_dmy++ == 0)
					clean_i_example(ex_dmy, sizeof(ex_dmy),
					    s.p, s.n);
			} else if (b > 12) {
				if (out->n_mdy++ == 0)
					clean_i_example(ex_mdy, sizeof(ex_mdy),
					    s.p, s.n);
			} else
				out->n_ambiguous++;
			continue;
		}
		if (dt.has_time && dt.zone &&
		    (dt.form & CLEAN_DATE_FORM_TIMESTAMP)) {
			out->n_zoned++;
			if (dt.ss != 0 || dt.frac_nonzero)
				continue;
			um = clean_dt_utc_minutes(&dt);
			hist[um - clean_floordiv(um, 1440) * 1440]++;
		}
	}
	/* Field order. */
	len = 0;
	if (out->n_mdy + out->n_dmy + out->n_ambiguous > 0) {
		if (out->n_dmy > out->n_mdy) {
			out->order = CLEAN_ORDER_DMY;
			win = out->n_dmy;
			lose = out->n_mdy;
		} else {
			out->order = CLEAN_ORDER_MDY;
			win = out->n_mdy;
			lose = out->n_dmy;
		}
		out->confidence = (double)(win + 1) / (double)(win + lose + 2);
		if (win == 0)
			len = (size_t)snprintf(out->evidence,
			    sizeof(out->evidence), "all %zu numeric dates read "
			    "both ways (both fields <= 12): month-first (MDY) "
			    "by default, unproven.", out->n_ambiguous);
		else
			len = (size_t)snprintf(out->evidence,
			    sizeof(out->evidence), "%zu numeric dates have a "
			    "%s field > 12 (e.g. \"%s\"), which only %s "
			    "reads; %zu the other way%s%s%s: %s.", win,
			    out->order == CLEAN_ORDER_MDY ? "second" : "first",
			    out->order == CLEAN_ORDER_MDY ? ex_mdy : ex_dmy,
			    out->order == CLEAN_ORDER_MDY ? "month-first" :
			    "day-first", lose, lose ? " (e.g. \"" : "",
			    lose ? (out->order == CLEAN_ORDER_MDY ? ex_dmy :
			    ex_mdy) : "", lose ? "\")" : "",
			    out->order == CLEAN_ORDER_MDY ? "MDY" : "DMY");
	} else
		len = (size_t)snprintf(out->evidence, sizeof(out->evidence),
		    "no numeric day/month dates: order unknown.");
	if (len >= sizeof(out->evidence))
		len = sizeof(out->evidence) - 1;
	/* Local-midnight offset. */
	for (i = 1; i < 1440; i++)
		if (hist[i] > hist[best])
			best = i;
	nts0 = hist[best];
	if (out->n_zoned > 0)
		out->offset_share = (double)nts0 / (double)out->n_zoned;
	if (out->n_zoned >= 5 && best != 0 && best % 15 == 0 &&
	    nts0 * 100 >= out->n_zoned * 95) {
		out->has_local_offset = 1;
		out->local_offset = best <= 720 ? -(int)best :
		    1440 - (int)best;
		snprintf(out->evidence + len, sizeof(out->evidence) - len,
		    " %zu of %zu zoned timestamps sit at %02zu:%02zu UTC: "
		    "local midnight of UTC%c%02d:%02d stored as UTC.", nts0,
		    out->n_zoned, best / 60, best % 60,
		    out->local_offset < 0 ? '-' : '+',
		    (out->local_offset < 0 ? -out->local_offset :
		    out->local_offset) / 60,
		    (out->local_offset < 0 ? -out->local_offset :
		    out->local_offset) % 60);
	}
	return CC_OK;
}

/* ------------------------------------------------------------------ */
/* Plausibility                                                       */
/* ------------------------------------------------------------------ */

/* 10 for a canonical date, 20 for a canonical timestamp, else 0. */
static int
clean_canon_len(const char *v)
{
	static const char date[] = "dddd-dd-dd", ts[] = "dddd-dd-ddTdd:dd:ddZ";
	size_t n = strlen(v), i;
	const char *pat;

	if (n == 10)
		pat = date;
	else if (n == 20)
		pat = ts;
	else
		return 0;
	for (i = 0; i < n; i++)
		if (pat[i] == 'd' ? !(v[i] >= '0' && v[i] <= '9') :
		    v[i] != pat[i])
			return 0;
	return (int)n;
}

static int
clean_cmp(const char *a, int la, const char *b, int lb)
{
	return strncmp(a, b, la == 20 && lb == 20 ? 20 : 10);
}

cc_err
clean_date_check_range(const char *value, const char *min, const char *max,
    const char *today, enum clean_issue *issue)
{
	int lv, lmin = 0, lmax = 0, lt = 0;

	if (issue == NULL)
		return CC_EINVAL;
	*issue = CLEAN_ISSUE_NONE;
	if (value == NULL)
		return CC_OK;
	if ((lv = clean_canon_len(value)) == 0 ||
	    (min != NULL && (lmin = clean_canon_len(min)) == 0) ||
	    (max != NULL && (lmax = clean_canon_len(max)) == 0) ||
	    (today != NULL && (lt = clean_canon_len(today)) == 0))
		return CC_EINVAL;
	if (today != NULL && clean_cmp(value, lv, today, lt) > 0)
		*issue = CLEAN_ISSUE_DATE_IN_FUTURE;
	else if ((min != NULL && clean_cmp(value, lv, min, lmin) < 0) ||
	    (max != NULL && clean_cmp(value, lv, max, lmax) > 0))
		*issue = CLEAN_ISSUE_DATE_OUT_OF_RANGE;
	return CC_OK;
}

cc_err
clean_date_check_order(const char *start, const char *end,
    enum clean_issue *issue)
{
	int ls, le;

	if (issue == NULL)
		return CC_EINVAL;
	*issue = CLEAN_ISSUE_NONE;
	if (start == NULL || end == NULL)
		return CC_OK;
	if ((ls = clean_canon_len(start)) == 0 ||
	    (le = clean_canon_len(end)) == 0)
		return CC_EINVAL;
	if (clean_cmp(end, le, start, ls) < 0)
		*issue = CLEAN_ISSUE_DATE_END_BEFORE_START;
	return CC_OK;
}
