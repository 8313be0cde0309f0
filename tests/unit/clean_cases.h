/*
 * clean_cases.h - the cleaners' own tables of cases for dates,
 * timestamps, numbers and money (inputs with the expected status, output
 * and issue, worked out by hand from the documented rules).  Used by
 * test_clean.c, which checks the cleaners against them, and by
 * test_agree.c, which checks that the profiler recognises every form the
 * cleaners accept.  Each table names the column format it is read with
 * (month-first or day-first dates; '.' or ',' as the decimal separator).
 */
#ifndef CONCORD_TEST_CLEAN_CASES_H
#define CONCORD_TEST_CLEAN_CASES_H

#include "concord/clean.h"

/* One case: input, expected status, output and issue. */
struct tc {
	const char		*in;
	enum clean_status	 st;
	const char		*out;
	enum clean_issue	 issue;
};

#define V(i, o)		{ i, CLEAN_VALUE, o, CLEAN_ISSUE_NONE }
#define W(i, o, is)	{ i, CLEAN_VALUE, o, is }
#define N(i)		{ i, CLEAN_NULL, "", CLEAN_ISSUE_NONE }
#define I(i, is)	{ i, CLEAN_INVALID, "", is }

static const struct tc clean_cases_date_mdy[] = {
	/* ISO 8601 */
	V("2023-08-26", "2023-08-26"),
	V(" 2023-08-26 ", "2023-08-26"),
	V("2023-8-6", "2023-08-06"),
	V("2023/08/26", "2023-08-26"),
	V("2023.08.26", "2023-08-26"),
	/* US month first (the column is MDY) */
	V("7/24/2023", "2023-07-24"),
	V("12/4/2023", "2023-12-04"),
	V("11/2/2023", "2023-11-02"),
	V("07-24-2023", "2023-07-24"),
	V("12/4/23", "2023-12-04"),
	V("1/2/68", "2068-01-02"),	/* POSIX pivot: 00..68 */
	V("1/2/69", "1969-01-02"),	/* 69..99 */
	/* YYYYMMDD (ISO 8601 basic) */
	V("20101229", "2010-12-29"),
	V("20110105", "2011-01-05"),
	/* month names */
	V("12 Jan 2023", "2023-01-12"),
	V("January 12, 2023", "2023-01-12"),
	V("Jan-12-2023", "2023-01-12"),
	V("12-JAN-23", "2023-01-12"),
	V("12-jan-2023", "2023-01-12"),
	V("Sept 3 2023", "2023-09-03"),
	V("3 SEPTEMBER 2023", "2023-09-03"),
	V("Jan 12th, 2023", "2023-01-12"),
	V("1st March 2024", "2024-03-01"),
	V("2023-Jan-12", "2023-01-12"),
	V("Thu, 12 Jan 2023", "2023-01-12"),
	V("Tuesday, May 2, 2023", "2023-05-02"),
	/* timestamps: their date as written */
	V("2023-06-01T00:39:00.000Z", "2023-06-01"),
	V("2023-11-22T17:08:00.000Z", "2023-11-22"),
	V("2023-06-01 10:00:00", "2023-06-01"),
	V("2023-06-01T01:15:00+02:00", "2023-06-01"),
	V("7/24/2023 3:05 PM", "2023-07-24"),
	V("2023-06-01T24:00:00Z", "2023-06-02"),
	/* calendar */
	V("2024-02-29", "2024-02-29"),		/* leap year */
	V("2000-02-29", "2000-02-29"),		/* 400 rule */
	V("0001-01-01", "0001-01-01"),
	V("9999-12-31", "9999-12-31"),
	V("9999-05-10", "9999-05-10"),		/* valid, implausible */
	V("2050-05-21", "2050-05-21"),
	N(""), N("  "), N(NULL), N("N/A"),
};

static const struct tc clean_cases_date_dmy[] = {
	V("24/7/2023", "2023-07-24"),
	V("24.07.2023", "2023-07-24"),
	V("1.2.2023", "2023-02-01"),
	V("12/4/2023", "2023-04-12"),
	V("31-12-99", "1999-12-31"),
	V("2023-08-26", "2023-08-26"),		/* ISO is ISO */
	I("7/24/2023", CLEAN_ISSUE_DATE_ORDER_CONFLICT),
	I("31/2/2023", CLEAN_ISSUE_DATE_IMPOSSIBLE),
};

static const struct tc clean_cases_date_garbage[] = {
	/* the ERP's YYYYMMDD integers that are not dates */
	I("0", CLEAN_ISSUE_DATE_INVALID),
	I("32154", CLEAN_ISSUE_DATE_INVALID),
	I("5489", CLEAN_ISSUE_DATE_INVALID),
	/* impossible calendar days */
	I("2023-02-30", CLEAN_ISSUE_DATE_IMPOSSIBLE),
	I("2023-02-29", CLEAN_ISSUE_DATE_IMPOSSIBLE),
	I("1900-02-29", CLEAN_ISSUE_DATE_IMPOSSIBLE),	/* 100 rule */
	I("2023-04-31", CLEAN_ISSUE_DATE_IMPOSSIBLE),
	I("2023-13-01", CLEAN_ISSUE_DATE_IMPOSSIBLE),
	I("2023-00-10", CLEAN_ISSUE_DATE_IMPOSSIBLE),
	I("2023-01-00", CLEAN_ISSUE_DATE_IMPOSSIBLE),
	I("20231301", CLEAN_ISSUE_DATE_IMPOSSIBLE),
	I("13/13/2023", CLEAN_ISSUE_DATE_IMPOSSIBLE),
	I("0/5/2023", CLEAN_ISSUE_DATE_IMPOSSIBLE),
	I("24/7/2023", CLEAN_ISSUE_DATE_ORDER_CONFLICT),
	I("2023-06-01T25:00:00Z", CLEAN_ISSUE_DATE_IMPOSSIBLE),
	I("2023-06-01T10:60:00Z", CLEAN_ISSUE_DATE_IMPOSSIBLE),
	I("2023-06-01T13:00 PM", CLEAN_ISSUE_DATE_IMPOSSIBLE),
	/* not dates */
	I("abc", CLEAN_ISSUE_DATE_INVALID),
	I("1.2.3", CLEAN_ISSUE_DATE_INVALID),
	I("2023-08", CLEAN_ISSUE_DATE_INVALID),
	I("2023-08-26-1", CLEAN_ISSUE_DATE_INVALID),
	I("2023-08/26", CLEAN_ISSUE_DATE_INVALID),
	I("12 Foo 2023", CLEAN_ISSUE_DATE_INVALID),
	I("12 Jan", CLEAN_ISSUE_DATE_INVALID),
	I("Jan Feb 2023", CLEAN_ISSUE_DATE_INVALID),
	I("12:30", CLEAN_ISSUE_DATE_INVALID),
	I("2023-06-01T18:30:00.000Q", CLEAN_ISSUE_DATE_INVALID),
	I("2023-06-01T18:30:00+5", CLEAN_ISSUE_DATE_INVALID),
	/* not told: epoch */
	I("1690000000", CLEAN_ISSUE_DATE_INVALID),
	/* not told: serial */
	I("45000", CLEAN_ISSUE_DATE_INVALID),
	I("-20230101", CLEAN_ISSUE_DATE_INVALID),
	I("2023-08-26\xff", CLEAN_ISSUE_DATE_INVALID),
	I("\xe2\x80\x8b" "@@", CLEAN_ISSUE_DATE_INVALID),
};

static const struct tc clean_cases_timestamp_mdy[] = {
	V("2023-06-01T00:39:00.000Z", "2023-06-01T00:39:00Z"),
	V("2023-06-01T18:30:00.000Z", "2023-06-01T18:30:00Z"),
	V("2023-08-15T14:30:00Z", "2023-08-15T14:30:00Z"),
	V("2023-08-15t14:30:00z", "2023-08-15T14:30:00Z"),
	V("2023-08-15 14:30:00", "2023-08-15T14:30:00Z"),
	V("2023-08-15 14:30", "2023-08-15T14:30:00Z"),
	V("2023-08-15T14:30:00.999Z", "2023-08-15T14:30:00Z"),
	V("2023-12-31T23:59:59.999999999Z", "2023-12-31T23:59:59Z"),
	/* zones: computed with Python's datetime */
	V("2023-06-01T01:15:00+02:00", "2023-05-31T23:15:00Z"),
	V("2023-12-31T23:30:00-05:30", "2024-01-01T05:00:00Z"),
	V("2023-06-01T10:00:00+0530", "2023-06-01T04:30:00Z"),
	V("2023-06-01T10:00:00-07", "2023-06-01T17:00:00Z"),
	V("2023-06-01 10:00:00 UTC", "2023-06-01T10:00:00Z"),
	V("2023-06-01 10:00:00 GMT", "2023-06-01T10:00:00Z"),
	V("2024-03-01T00:30:00+01:00", "2024-02-29T23:30:00Z"),
	V("2023-06-01T24:00:00Z", "2023-06-02T00:00:00Z"),
	V("2016-12-31T23:59:60Z", "2016-12-31T23:59:60Z"),
	V("7/24/2023 3:05 PM", "2023-07-24T15:05:00Z"),
	V("7/24/2023 12:00 AM", "2023-07-24T00:00:00Z"),
	V("7/24/2023 12:00 p.m.", "2023-07-24T12:00:00Z"),
	V("Thu, 12 Jan 2023 10:00:00 GMT", "2023-01-12T10:00:00Z"),
	V("2023-08-26", "2023-08-26T00:00:00Z"),
	V("7/24/2023", "2023-07-24T00:00:00Z"),
	V("20101229", "2010-12-29T00:00:00Z"),
	V("20101229 08:00", "2010-12-29T08:00:00Z"),
	V("2023-06-01T18:30", "2023-06-01T18:30:00Z"),
	I("9999-12-31T23:00:00-05:00", CLEAN_ISSUE_DATE_IMPOSSIBLE),
};

static const struct tc clean_cases_number_dot[] = {
	V("381.29", "381.29"), V("0.00", "0"), V("12.0", "12"),
	V("3578", "3578"), V("-18", "-18"), V("007", "7"),
	V("0.0500", "0.05"), V(".5", "0.5"), V("5.", "5"),
	V("-0", "0"), V("-0.00", "0"), V("+5", "5"),
	V("\xe2\x88\x92" "5", "-5"),			/* U+2212 */
	V("1,234.56", "1234.56"), V("1,234,567", "1234567"),
	V("1 234.5", "1234.5"), V("1\xc2\xa0" "234", "1234"),
	V("1'234.50", "1234.5"),
	V("$1,234.56", "1234.56"), V("$ 5", "5"), V("5$", "5"),
	V("-$5.10", "-5.1"), V("$-5.10", "-5.1"),
	V("USD 1,000", "1000"), V("1,000 EUR", "1000"),
	V("usd12", "12"),
	V("\xe2\x82\xac" "12", "12"),			/* €12 */
	V("\xc2\xa3" "5.5", "5.5"),			/* £5.5 */
	V("(123.45)", "-123.45"), V("( $1,234.00 )", "-1234"),
	V("12.5%", "12.5"), V("100 %", "100"),
	V("1.5e3", "1500"), V("1.5E-3", "0.0015"), V("2e+2", "200"),
	V("-1.25e1", "-12.5"), V("1e-60", "0." "000000000000000000"
	    "000000000000000000000000000000000000000001"),
	N("-"), N(""), N("nan"), N("N/A"),
	I("abc", CLEAN_ISSUE_NUMBER_INVALID),
	I("1.2.3", CLEAN_ISSUE_NUMBER_INVALID),
	I("$-", CLEAN_ISSUE_NUMBER_INVALID),
	I("((5))", CLEAN_ISSUE_NUMBER_INVALID),
	I("(-5)", CLEAN_ISSUE_NUMBER_INVALID),
	I("--5", CLEAN_ISSUE_NUMBER_INVALID),
	I("+-5", CLEAN_ISSUE_NUMBER_INVALID),
	I("5-", CLEAN_ISSUE_NUMBER_INVALID),
	I("1,2,3", CLEAN_ISSUE_NUMBER_INVALID),
	I("12,34", CLEAN_ISSUE_NUMBER_INVALID),	/* not '.' grouping */
	I("1,2345", CLEAN_ISSUE_NUMBER_INVALID),
	I("1 2", CLEAN_ISSUE_NUMBER_INVALID),
	I("1e", CLEAN_ISSUE_NUMBER_INVALID),
	I("e5", CLEAN_ISSUE_NUMBER_INVALID),
	I("$", CLEAN_ISSUE_NUMBER_INVALID),
	I("%", CLEAN_ISSUE_NUMBER_INVALID),
	I(".", CLEAN_ISSUE_NUMBER_INVALID),
	I("5 apples", CLEAN_ISSUE_NUMBER_INVALID),
	I("XYZ 5", CLEAN_ISSUE_NUMBER_INVALID),
	I("0x1F", CLEAN_ISSUE_NUMBER_INVALID),
	I("1\xff", CLEAN_ISSUE_NUMBER_INVALID),
	I("1e61", CLEAN_ISSUE_NUMBER_OUT_OF_RANGE),
	/* 64 digits before the point at most, however written: the
	 * written-out form reads back */
	V("1000e60", "1000000000000000000000000000000000000000000000000000000000000000"), V("1000000000000000000000000000000000000000000000000000000000000000", "1000000000000000000000000000000000000000000000000000000000000000"),
	I("10000e60", CLEAN_ISSUE_NUMBER_OUT_OF_RANGE),
	I("10000000000000000000000000000000000000000000000000000000000000000", CLEAN_ISSUE_NUMBER_OUT_OF_RANGE),
	I("55555555555555555555555555555555555555555555555555555555555559.e9",
	    CLEAN_ISSUE_NUMBER_OUT_OF_RANGE),
};

static const struct tc clean_cases_number_comma[] = {
	V("1.234,56", "1234.56"), V("1 234,56", "1234.56"),
	V("0,5", "0.5"), V("12,5%", "12.5"),
	V("\xe2\x82\xac" "1.234,56", "1234.56"),
	V("1.234.567", "1234567"),
	I("1,234.56", CLEAN_ISSUE_NUMBER_INVALID),
	I("1,2,3", CLEAN_ISSUE_NUMBER_INVALID),
};

static const struct tc clean_cases_money_dot[] = {
	V("3578", "3578.00"), V("10.5", "10.50"), V("12.0", "12.00"),
	V("0", "0.00"), V("-769", "-769.00"), V("774.00", "774.00"),
	V("$1,234.5", "1234.50"), V("(123.45)", "-123.45"),
	V("1.005", "1.01"), V("-1.005", "-1.01"), V("1.004", "1.00"),
	V("0.125", "0.13"), V("0.124999", "0.12"), V("2.675", "2.68"),
	V("-0.001", "0.00"), V("1.500", "1.50"), V("1.5e3", "1500.00"),
	V("92233720368547758.07", "92233720368547758.07"),
	N(""), N("-"),
	I("12%", CLEAN_ISSUE_NUMBER_INVALID),
	I("$-", CLEAN_ISSUE_NUMBER_INVALID),
	I("abc", CLEAN_ISSUE_NUMBER_INVALID),
	I("92233720368547758.08", CLEAN_ISSUE_NUMBER_OUT_OF_RANGE),
	I("1e30", CLEAN_ISSUE_NUMBER_OUT_OF_RANGE),
};

static const struct tc clean_cases_money_comma[] = {
	V("1.234,5", "1234.50"), V("0,995", "1.00"),
};

#endif /* CONCORD_TEST_CLEAN_CASES_H */
