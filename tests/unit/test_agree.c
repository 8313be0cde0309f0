/*
 * test_agree.c - the profiler and the cleaners agree: every value of the
 * cleaners' own tables (clean_cases.h) that a cleaner accepts as a date,
 * a timestamp, a number or money, the profiler (profile_classify()) types
 * as one too, and what no reading of the cleaners accepts it does not
 * call a date or a number.  A column the profile calls a date is then one
 * the stage phase can clean, and the other way round.
 *
 * The documented differences, checked here as such: a bare integer is an
 * integer for the profiler (20101229 is a date only when a column's format
 * says so, as are epochs and serials); the profiler reads a date with
 * either field order (a column's order is learned later, from all its
 * values), so a date refused only for its order (date_order_conflict) is
 * still a date to it; a number the cleaners refuse only for its size
 * (number_out_of_range) is still a number to it; and digits with a
 * leading zero ("007") are a code to it, not a number.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "concord/clean.h"
#include "concord/profile.h"
#include "clean_cases.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

enum kind { DATES, NUMBERS, MONEY };

static int
all_digits(const char *s)
{
	size_t i, n = 0;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == ' ' || (s[i] == '-' && i == 0))
			continue;
		if (s[i] < '0' || s[i] > '9')
			return 0;
		n++;
	}
	return n > 0;
}

/* Digits with a leading zero before another digit ("007", "0012.50"). */
static int
leading_zero_code(const char *s)
{
	return s[0] == '0' && s[1] >= '0' && s[1] <= '9' &&
	    strspn(s, "0123456789.") == strlen(s);
}

/* Prints one disagreement; returns 1 (to count it). */
static int
report(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static int
is_date(enum profile_type t)
{
	return t == PROFILE_TYPE_DATE || t == PROFILE_TYPE_TIMESTAMP;
}

static int
is_number(enum profile_type t)
{
	return t == PROFILE_TYPE_INTEGER || t == PROFILE_TYPE_DECIMAL ||
	    t == PROFILE_TYPE_MONEY;
}

/* 1 if value carries a currency, by the cleaner's reading. */
static int
has_currency(const char *v, char decimal)
{
	struct clean_number_format f;
	struct clean_result r;
	struct clean_opts o;
	char out[256];

	clean_opts_init(&o);
	clean_number_format_init(&f);
	if (decimal == ',') {
		f.decimal = ',';
		f.group = '.';
	}
	return clean_number(v, &f, &o, out, sizeof(out), &r) == CC_OK &&
	    r.status == CLEAN_VALUE && r.currency[0] != '\0';
}

/* Checks one table; returns the number of cases checked. */
static size_t
agree(const char *name, const struct tc *c, size_t n, enum kind k,
    char decimal)
{
	enum profile_type t;
	size_t i, checked = 0, bad = 0;

	for (i = 0; i < n; i++) {
		const char *v = c[i].in;
		if (v == NULL || c[i].st == CLEAN_NULL)
			continue;
		t = profile_classify(v, strlen(v));
		checked++;
		if (c[i].st == CLEAN_VALUE) {
			if (k != DATES && leading_zero_code(v)) {
				if (t != PROFILE_TYPE_TEXT)
					bad += report("%s: \"%s\" is a code to"
					    " the profiler, got %s", name, v,
					    profile_type_name(t));
			} else if (k == DATES && all_digits(v)) {
				if (t != PROFILE_TYPE_INTEGER)
					bad += report("%s: \"%s\" is an"
					    " integer to the profiler, got %s",
					    name, v,
					    profile_type_name(t));
			} else if (k == DATES && !is_date(t))
				bad += report("%s: the cleaner reads \"%s\""
				    " as a date (%s), the profiler as %s", name, v,
				    c[i].out, profile_type_name(t));
			else if (k != DATES && !is_number(t))
				bad += report("%s: the cleaner reads \"%s\""
				    " as a number (%s), the profiler as %s", name, v,
				    c[i].out, profile_type_name(t));
			else if (k != DATES && has_currency(v, decimal) &&
			    t != PROFILE_TYPE_MONEY)
				bad += report("%s: \"%s\" has a currency:"
				    " money, not %s", name, v,
				    profile_type_name(t));
			continue;
		}
		/* Refused by the cleaner. */
		if (k == DATES &&
		    c[i].issue != CLEAN_ISSUE_DATE_ORDER_CONFLICT &&
		    !all_digits(v) && is_date(t))
			bad += report("%s: the cleaner refuses \"%s\" (%s), the"
			    " profiler calls it %s", name, v,
			    clean_issue_name(c[i].issue), profile_type_name(t));
		if (k != DATES && c[i].issue == CLEAN_ISSUE_NUMBER_INVALID &&
		    !strchr(v, '%') && !strchr(v, ',') && is_number(t))
			bad += report("%s: the cleaner refuses \"%s\", the"
			    " profiler calls it %s", name, v,
			    profile_type_name(t));
	}
	assert_int_equal(bad, 0);
	return checked;
}

static void
test_dates_agree(void **state)
{
	(void)state;
	assert_true(agree("date (month first)", clean_cases_date_mdy,
	    NELEM(clean_cases_date_mdy), DATES, '.') > 30);
	assert_true(agree("date (day first)", clean_cases_date_dmy,
	    NELEM(clean_cases_date_dmy), DATES, '.') > 5);
	assert_true(agree("date garbage", clean_cases_date_garbage,
	    NELEM(clean_cases_date_garbage), DATES, '.') > 20);
	assert_true(agree("timestamp", clean_cases_timestamp_mdy,
	    NELEM(clean_cases_timestamp_mdy), DATES, '.') > 20);
}

static void
test_numbers_agree(void **state)
{
	(void)state;
	assert_true(agree("number ('.')", clean_cases_number_dot,
	    NELEM(clean_cases_number_dot), NUMBERS, '.') > 40);
	assert_true(agree("number (',')", clean_cases_number_comma,
	    NELEM(clean_cases_number_comma), NUMBERS, ',') > 4);
	assert_true(agree("money ('.')", clean_cases_money_dot,
	    NELEM(clean_cases_money_dot), MONEY, '.') > 15);
	assert_true(agree("money (',')", clean_cases_money_comma,
	    NELEM(clean_cases_money_comma), MONEY, ',') > 1);
}

/* The issue's orders export: its forms, one value at a time. */
static void
test_orders_export_forms(void **state)
{
	static const struct {
		const char		*v;
		enum profile_type	 want;
	} c[] = {
		{ "1 Jun 2024", PROFILE_TYPE_DATE },
		{ "11/09/2024", PROFILE_TYPE_DATE },
		{ "13/09/2024", PROFILE_TYPE_DATE },	/* day first */
		{ "2024-05-23", PROFILE_TYPE_DATE },
		{ "Jun 1, 2024", PROFILE_TYPE_DATE },
		{ "$29.95", PROFILE_TYPE_MONEY },
		{ "USD 29.95", PROFILE_TYPE_MONEY },
		{ "29,95 EUR", PROFILE_TYPE_MONEY },
		{ "450.00", PROFILE_TYPE_DECIMAL },
		{ "1,234.50", PROFILE_TYPE_DECIMAL },
		{ "Dubois, Quinn", PROFILE_TYPE_TEXT },
		{ "U.S.", PROFILE_TYPE_TEXT },
		{ "Cable 2m", PROFILE_TYPE_TEXT },
		{ "12 Main Street", PROFILE_TYPE_TEXT },
	};
	size_t i, bad = 0;

	(void)state;
	for (i = 0; i < NELEM(c); i++)
		if (profile_classify(c[i].v, strlen(c[i].v)) != c[i].want) {
			bad++;
			print_error("\"%s\": got %s, want %s\n", c[i].v,
			    profile_type_name(profile_classify(c[i].v,
			    strlen(c[i].v))), profile_type_name(c[i].want));
		}
	assert_int_equal(bad, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dates_agree),
		cmocka_unit_test(test_numbers_agree),
		cmocka_unit_test(test_orders_export_forms),
	};

	return cmocka_run_group_tests_name("agree", tests, NULL, NULL);
}
