/*
 * test_anscache.c - a worker's kept answers (fcgi/anscache.h): a hit
 * only for the same workspace, key and version; one answer per key; the
 * entry and byte budgets; the generated_at stamp found where a page's
 * provenance writes it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../fcgi/anscache.h"

static char *
dup_text(const char *s)
{
	char *p = strdup(s);

	assert_non_null(p);
	return p;
}

static void
test_hits_need_the_same_workspace_key_and_version(void **state)
{
	const struct answer *a;

	(void)state;
	anscache_clear();
	assert_int_equal(anscache_keep("ws1", "table 0 k", 7,
	    "application/json", "<x>; rel=\"next\"", dup_text("{\"a\":1}"), 7,
	    ANSCACHE_NO_STAMP), 1);
	assert_non_null(a = anscache_find("ws1", "table 0 k", 7));
	assert_int_equal(a->len, 7);
	assert_memory_equal(a->body, "{\"a\":1}", 7);
	assert_string_equal(a->ctype, "application/json");
	assert_string_equal(a->link, "<x>; rel=\"next\"");
	assert_null(anscache_find("ws2", "table 0 k", 7));
	assert_null(anscache_find("ws1", "table 0 k2", 7));
	assert_null(anscache_find("ws1", "table 0 k", 8));
	/* the same request at a newer version replaces the older answer */
	assert_int_equal(anscache_keep("ws1", "table 0 k", 8, "text/csv", NULL,
	    dup_text("b"), 1, ANSCACHE_NO_STAMP), 1);
	assert_null(anscache_find("ws1", "table 0 k", 7));
	assert_non_null(a = anscache_find("ws1", "table 0 k", 8));
	assert_null(a->link);
	anscache_clear();
	assert_null(anscache_find("ws1", "table 0 k", 8));
}

static void
test_budgets(void **state)
{
	char key[32], *big;
	size_t i, n, per = ANSCACHE_BYTES / 8;

	(void)state;
	anscache_clear();
	/* more entries than slots: the oldest go first */
	for (i = 0; i < ANSCACHE_ENTRIES + 5; i++) {
		snprintf(key, sizeof(key), "k%zu", i);
		assert_int_equal(anscache_keep("ws", key, 1, "t", NULL,
		    dup_text("x"), 1, ANSCACHE_NO_STAMP), 1);
	}
	for (i = 0, n = 0; i < ANSCACHE_ENTRIES + 5; i++) {
		snprintf(key, sizeof(key), "k%zu", i);
		if (anscache_find("ws", key, 1) != NULL) {
			n++;
			assert_true(i >= 5);
		}
	}
	assert_int_equal(n, ANSCACHE_ENTRIES);
	/* a body over an eighth of the budget is not kept */
	assert_non_null(big = calloc(1, per + 1));
	assert_int_equal(anscache_keep("ws", "big", 1, "t", NULL, big,
	    per + 1, ANSCACHE_NO_STAMP), 0);
	assert_null(anscache_find("ws", "big", 1));
	/* bodies of an eighth each: never more than the budget kept */
	anscache_clear();
	for (i = 0; i < 12; i++) {
		snprintf(key, sizeof(key), "e%zu", i);
		assert_non_null(big = calloc(1, per));
		assert_int_equal(anscache_keep("ws", key, 1, "t", NULL, big,
		    per, ANSCACHE_NO_STAMP), 1);
		assert_non_null(anscache_find("ws", key, 1));
	}
	for (i = 0, n = 0; i < 12; i++) {
		snprintf(key, sizeof(key), "e%zu", i);
		n += anscache_find("ws", key, 1) != NULL;
	}
	assert_int_equal(n, 8);
	/* a stamp offset outside the body is refused */
	assert_int_equal(anscache_keep("ws", "s", 1, "t", NULL,
	    dup_text("short"), 5, 0), 0);
	anscache_clear();
}

static void
test_stamp_of_a_page(void **state)
{
	/* a row holding the same member text comes before the provenance */
	static const char page[] = "{\"rows\":[{\"generated_at\":"
	    "\"1999-01-01T00:00:00Z\"}],\"provenance\":{\"table\":\"t\","
	    "\"generated_at\":\"2026-12-03T17:00:00Z\",\"row_count\":1}}";
	static const char none[] = "{\"rows\":[],\"generated_at\":\"soon\"}";
	const char *p;
	size_t at;

	(void)state;
	at = anscache_stamp_at(page, sizeof(page) - 1);
	p = strstr(page, "2026-12-03T17:00:00Z");
	assert_non_null(p);
	assert_int_equal(at, (size_t)(p - page));
	assert_int_equal(anscache_stamp_at(none, sizeof(none) - 1),
	    ANSCACHE_NO_STAMP);
	assert_int_equal(anscache_stamp_at("{}", 2), ANSCACHE_NO_STAMP);
	assert_int_equal(anscache_stamp_at("", 0), ANSCACHE_NO_STAMP);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hits_need_the_same_workspace_key_and_version),
		cmocka_unit_test(test_budgets),
		cmocka_unit_test(test_stamp_of_a_page),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
