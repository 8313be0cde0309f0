/*
 * test_xlsx.c - unit tests of the xlsx reader's rules (concord/source.h):
 * Excel date serials to ISO 8601 and which number formats are dates.
 *
 * Expected dates come from two independent sources: values computed with
 * Python's datetime (datetime(1899, 12, 30) + timedelta(days=serial),
 * written next to each case), and, over the whole range, the C library's
 * gmtime() on (serial - 25569) * 86400 seconds (25569: days from
 * 1899-12-30 to the Unix epoch) - not the reader's own arithmetic.
 * Prints TAP with CMOCKA_MESSAGE_OUTPUT=TAP.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "concord/source.h"

static const char *
conv(double serial, int date1904)
{
	static char buf[64];

	if (source_xlsx_serial_date(serial, date1904, buf, sizeof(buf)) < 0)
		return "(refused)";
	return buf;
}

static void
test_serial_known(void **state)
{
	(void)state;
	/* Python: datetime(1899,12,30) + timedelta(days=...) */
	assert_string_equal(conv(45351, 0), "2024-02-29");
	assert_string_equal(conv(45351.5, 0), "2024-02-29T12:00:00");
	assert_string_equal(conv(61, 0), "1900-03-01");
	assert_string_equal(conv(2958465, 0), "9999-12-31");
	assert_string_equal(conv(36526 + 0.5 / 86400, 0),
	    "2000-01-01T00:00:00.500");
	/* 0.99999 s rounds to the millisecond: 00:00:01 */
	assert_string_equal(conv(36526.000011574, 0), "2000-01-01T00:00:01");
	/* a serial below 1 is a time of day: 0.75 -> 18:00 */
	assert_string_equal(conv(0.75, 0), "18:00:00");
	assert_string_equal(conv(0, 0), "00:00:00");
	/* Excel's 1900 leap-year bug: serials 1-59 are one day later than a
	 * count from 1899-12-30 (serial 1 is 1900-01-01, Python:
	 * date(1900,1,1) + timedelta(days=58) = 1900-02-28 for 59); 60 is
	 * the fictitious 1900-02-29, read as 1900-02-28 */
	assert_string_equal(conv(1, 0), "1900-01-01");
	assert_string_equal(conv(59, 0), "1900-02-28");
	assert_string_equal(conv(60, 0), "1900-02-28");
	assert_string_equal(conv(1.52083333333333, 0), "1900-01-01T12:30:00");
	/* the 1904 system: Python datetime(1904,1,1) + timedelta(days=...) */
	assert_string_equal(conv(1462, 1), "1908-01-02");
	assert_string_equal(conv(43830.25, 1), "2024-01-01T06:00:00");
	assert_string_equal(conv(1, 1), "1904-01-02");
}

static void
test_serial_refused(void **state)
{
	char buf[8];

	(void)state;
	assert_string_equal(conv(-1, 0), "(refused)");
	assert_string_equal(conv(2958466, 0), "(refused)");
	assert_string_equal(conv(1.0 / 0.0, 0), "(refused)");
	assert_int_equal(source_xlsx_serial_date(1, 0, buf, sizeof(buf)), -1);
	assert_int_equal(source_xlsx_serial_date(1, 0, NULL, 64), -1);
}

/* Every 7th day from 1900-03-01 to 9999-12-31, against gmtime(). */
static void
test_serial_against_gmtime(void **state)
{
	char want[32];
	long s, n = 0;
	struct tm tm;
	time_t t;

	(void)state;
	for (s = 61; s <= 2958465; s += 7, n++) {
		t = (time_t)(s - 25569) * 86400;
		assert_non_null(gmtime_r(&t, &tm));
		strftime(want, sizeof(want), "%Y-%m-%d", &tm);
		assert_string_equal(conv((double)s, 0), want);
		/* and with a time of day: + 6 h 30 min 15 s */
		t += 6 * 3600 + 30 * 60 + 15;
		assert_non_null(gmtime_r(&t, &tm));
		strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%S", &tm);
		assert_string_equal(conv((double)s + (6 * 3600 + 30 * 60 + 15) /
		    86400.0, 0), want);
	}
	assert_true(n > 400000);
}

static void
test_format_builtin(void **state)
{
	int id;

	(void)state;
	/* ECMA-376 Part 1, 18.8.30: 14-22 dates and times, 45-47 times */
	for (id = 0; id < 200; id++)
		assert_int_equal(source_xlsx_format_is_date(id, NULL),
		    (id >= 14 && id <= 22) || (id >= 45 && id <= 47));
}

static void
test_format_custom(void **state)
{
	static const struct {
		const char	*code;
		int		 date;
	} cases[] = {
		{ "yyyy-mm-dd", 1 },
		{ "dd/mm/yyyy;@", 1 },
		{ "[$-409]mmmm d, yyyy;@", 1 },
		{ "h:mm AM/PM", 1 },
		{ "[h]:mm:ss", 1 },
		{ "[mm]", 1 },
		{ "General", 0 },
		{ "0.00", 0 },
		{ "#,##0.00 \"days\"", 0 },	/* d, a, y quoted */
		{ "0.00\\d", 0 },		/* an escaped d */
		{ "[Red]0.00", 0 },		/* a colour: d in brackets */
		{ "[$USD]#,##0", 0 },		/* S, D in a locale bracket */
		{ "0_s", 0 },			/* space the width of s */
		{ "* #,##0", 0 },
		{ "0.00E+00", 0 },
		{ "0;[Red]-0;\"m\"", 0 },	/* only the first section */
		{ "", 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (source_xlsx_format_is_date(164, cases[i].code) !=
		    cases[i].date)
			fail_msg("format %s: want %d", cases[i].code,
			    cases[i].date);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_serial_known),
		cmocka_unit_test(test_serial_refused),
		cmocka_unit_test(test_serial_against_gmtime),
		cmocka_unit_test(test_format_builtin),
		cmocka_unit_test(test_format_custom),
	};

	return cmocka_run_group_tests_name("xlsx", tests, NULL, NULL);
}
