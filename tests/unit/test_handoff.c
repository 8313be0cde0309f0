/*
 * test_handoff.c - sets of work handed in turn to a writer thread
 * (core/handoff.c, pipeline_int.h), with and without the thread: every
 * set is written once, in the order handed, and never while the caller
 * fills it (each set holds a sequence of numbers the caller wrote; the
 * writer checks it is whole and appends it to a log); the first error is
 * returned by a later handoff_post() (the next one without a thread) and
 * by handoff_end(), and the sets handed after it are discarded, not
 * written; handoff_end() twice.  With the thread, handoff_post() returns
 * while the writer still writes the set before (the caller runs a set
 * ahead).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <time.h>

#include "pipeline_int.h"

#define N	4096		/* numbers per set */
#define SETS	200		/* sets handed per test */

struct job {
	long	 set[HANDOFF_SETS][N];
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
		s = (s + 1) % HANDOFF_SETS;
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

	cc_err err;

	memset(&j, 0, sizeof(j));
	j.fail_at = 10;
	handoff_start(&h, write_set, &j, thread);
	err = feed(&h, &j, &at);
	/* seen by the post of the failing set without a thread; with one,
	 * by a later post (each waits only for the set before it to be
	 * taken), whose set is handed and discarded, or else by
	 * handoff_end() */
	if (!thread) {
		assert_int_equal(err, CC_EDB);
		assert_int_equal(at, 9);
	} else if (err == CC_EDB)
		assert_true(at >= 10 && at < SETS);
	else {
		assert_int_equal(err, CC_OK);
		assert_int_equal(at, SETS);
		at = SETS - 1;
	}
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

/* The first write waits (up to 5 s) for the caller to have handed the
 * set after it. */
struct ahead {
	volatile int	 posted;	/* sets handed so far */
	int		 saw;		/* the write saw the second handed */
};

static cc_err
write_slow(void *arg, int s, int discard)
{
	struct ahead *a = arg;
	struct timespec ts = { 0, 1000000 };
	int i;

	(void)discard;
	if (s != 0 || a->saw)
		return CC_OK;
	for (i = 0; i < 5000 && __atomic_load_n(&a->posted,
	    __ATOMIC_SEQ_CST) < 2; i++)
		nanosleep(&ts, NULL);
	a->saw = __atomic_load_n(&a->posted, __ATOMIC_SEQ_CST) >= 2;
	return CC_OK;
}

static void
test_runs_ahead(void **state)
{
	struct ahead a;
	struct handoff h;

	(void)state;
	memset(&a, 0, sizeof(a));
	handoff_start(&h, write_slow, &a, 1);
	assert_int_equal(h.on, 1);
	assert_int_equal(handoff_post(&h, 0), CC_OK);
	__atomic_store_n(&a.posted, 1, __ATOMIC_SEQ_CST);
	/* returns once set 0 is taken, while it is being written */
	assert_int_equal(handoff_post(&h, 1), CC_OK);
	__atomic_store_n(&a.posted, 2, __ATOMIC_SEQ_CST);
	assert_int_equal(handoff_end(&h), CC_OK);
	assert_int_equal(a.saw, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_thread),
		cmocka_unit_test(test_no_thread),
		cmocka_unit_test(test_error_thread),
		cmocka_unit_test(test_error_no_thread),
		cmocka_unit_test(test_runs_ahead),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
