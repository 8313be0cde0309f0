/*
 * test_keymap.c - the run's hash map of byte strings to integers
 * (core/keymap.c, pipeline_int.h): keys that differ only past a NUL byte
 * or in length, the empty key, values kept across growth (100,000 keys,
 * each checked against the value this test gave it), absent keys.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "pipeline_int.h"

static void
test_bytes(void **state)
{
	struct keymap *m = keymap_new();
	long long *v;

	(void)state;
	assert_non_null(m);
	/* "a\0b" and "a\0c" differ past the NUL; "a" is a prefix of both */
	assert_non_null(v = keymap_slot(m, "a\0b", 3));
	assert_int_equal(*v, 0);		/* a new key starts at 0 */
	*v = 11;
	assert_non_null(v = keymap_slot(m, "a\0c", 3));
	*v = 12;
	assert_non_null(v = keymap_slot(m, "a", 1));
	*v = 13;
	assert_non_null(v = keymap_slot(m, "", 0));
	*v = 14;
	assert_int_equal(*keymap_get(m, "a\0b", 3), 11);
	assert_int_equal(*keymap_get(m, "a\0c", 3), 12);
	assert_int_equal(*keymap_get(m, "a", 1), 13);
	assert_int_equal(*keymap_get(m, "", 0), 14);
	assert_null(keymap_get(m, "a\0", 2));
	assert_null(keymap_get(m, "b", 1));
	/* the same key again: the same slot, its value kept */
	assert_int_equal(*keymap_slot(m, "a\0b", 3), 11);
	keymap_free(m);
	keymap_free(NULL);
}

static void
test_growth(void **state)
{
	struct keymap *m = keymap_new();
	char key[32];
	long long *v;
	int i;

	(void)state;
	assert_non_null(m);
	for (i = 0; i < 100000; i++) {
		snprintf(key, sizeof(key), "order-%d", i);
		assert_non_null(v = keymap_slot(m, key, strlen(key)));
		*v = (long long)i * 7 + 1;
	}
	for (i = 0; i < 100000; i++) {
		const long long *g;
		snprintf(key, sizeof(key), "order-%d", i);
		assert_non_null(g = keymap_get(m, key, strlen(key)));
		assert_int_equal(*g, (long long)i * 7 + 1);
	}
	snprintf(key, sizeof(key), "order-%d", 100000);
	assert_null(keymap_get(m, key, strlen(key)));
	keymap_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_growth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
