/*
 * test_handoff.c - two sets of work handed to a writer thread
 * (core/handoff.c, pipeline_int.h), with and without the thread: every
 * set is written once, in the order handed, and never while the caller
 * fills it (each set holds a sequence of numbers the caller wrote; the
 * writer checks it is whole and appends it to a log); the first error is
 * returned by the next handoff_post() and by handoff_end(), and the sets
 * handed after it are discarded, not written; handoff_end() twice.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "pipeline_int.h"

#define N	4096		/* numbers per set */
#define SETS	200		/* sets handed per test */

struct job {
	long	 set[2][N];
	long	 log[SETS * N];
	size_t	 nlog;
	int	 written, discarded, torn;
	int	 fail_at;		/* the write that fails (0: none) */
};

static cc_err
write_set(void *arg, int s, int discard)
{
	struct job *j = arg;
	size_t i;

	if (discard) {
		j->discarded++;
		return CC_OK;
	}
	if (++j->written == j->fail_at)
		return CC_EDB;
	/* a whole set: consecutive numbers (the caller writes them all
	 * before it hands the set) */
	for (i = 1; i < N; i++)
		if (j->set[s][i] != j->set[s][0] + (long)i)
			j->torn++;
	memcpy(j->log + j->nlog, j->set[s], sizeof(j->set[s]));
	j->nlog += N;
	return CC_OK;
}

/* Fills and hands SETS sets; the first error handoff_post() returned, or
 * CC_OK, and at which set. */
static cc_err
feed(struct handoff *h, struct job *j, int *at)
{
	long next = 0;
	cc_err err;
	int k, s = 0;
	size_t i;

	for (k = 0; k < SETS; k++) {
		for (i = 0; i < N; i++)
			j->set[s][i] = next++;
		if ((err = handoff_post(h, s)) != CC_OK) {
			*at = k;
			return err;
		}
		s = !s;
	}
	*at = SETS;
	return CC_OK;
}

static void
check_all(int thread)
{
	static struct job j;
	struct handoff h;
	size_t i;
	int at;

	memset(&j, 0, sizeof(j));
	handoff_start(&h, write_set, &j, thread);
	assert_int_equal(h.on, thread);
	assert_int_equal(feed(&h, &j, &at), CC_OK);
	assert_int_equal(handoff_end(&h), CC_OK);
	assert_int_equal(handoff_end(&h), CC_OK);	/* twice */
	assert_int_equal(j.written, SETS);
	assert_int_equal(j.discarded, 0);
	assert_int_equal(j.torn, 0);
	assert_int_equal(j.nlog, (size_t)SETS * N);
	for (i = 0; i < j.nlog; i++)	/* in the order handed */
		assert_int_equal(j.log[i], (long)i);
}

static void
check_error(int thread)
{
	static struct job j;
	struct handoff h;
	int at;

	memset(&j, 0, sizeof(j));
	j.fail_at = 10;
	handoff_start(&h, write_set, &j, thread);
	assert_int_equal(feed(&h, &j, &at), CC_EDB);
	/* seen by the post of the failing set without a thread; with one,
	 * by the next post (it waits for that write), whose set is handed
	 * and discarded */
	assert_int_equal(at, thread ? 10 : 9);
	assert_int_equal(handoff_end(&h), CC_EDB);
	assert_int_equal(handoff_end(&h), CC_EDB);
	assert_int_equal(j.written, 10);
	assert_int_equal(j.nlog, (size_t)9 * N);
	assert_int_equal(j.written + j.discarded, at + 1);
	assert_int_equal(j.torn, 0);
}

static void
test_thread(void **state)
{
	(void)state;
	check_all(1);
}

static void
test_no_thread(void **state)
{
	(void)state;
	check_all(0);
}

static void
test_error_thread(void **state)
{
	(void)state;
	check_error(1);
}

static void
test_error_no_thread(void **state)
{
	(void)state;
	check_error(0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_thread),
		cmocka_unit_test(test_no_thread),
		cmocka_unit_test(test_error_thread),
		cmocka_unit_test(test_error_no_thread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
