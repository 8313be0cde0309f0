/*
 * test_control.c - the control database: users, passwords, throttling,
 * the deny-list, the audit log, migrations.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "concord/auth.h"
#include "concord/control.h"
#include "concord/workspace.h"

static char dir[64];

static int
setup(void **state)
{
	struct control *c = NULL;

	snprintf(dir, sizeof(dir), "/tmp/concord-ctl-XXXXXX");
	if (mkdtemp(dir) == NULL || control_open(dir, &c, NULL) != CC_OK)
		return -1;
	*state = c;
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	control_close(*state);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_user_add_and_lookup(void **state)
{
	struct control *c = *state;
	struct cc_user u, v;
	struct cc_diag d;

	assert_int_equal(control_user_add(c, "Alice", "correct horse", "admin",
	    &u, &d), CC_OK);
	assert_int_equal(strlen(u.id), CONTROL_ID_LEN);
	assert_string_equal(u.role, "admin");
	assert_true(u.active);
	/* names are unique whatever their case */
	assert_int_equal(control_user_add(c, "alice", "correct horse",
	    "member", NULL, &d), CC_EEXIST);
	assert_int_equal(control_user_by_name(c, "ALICE", &v), CC_OK);
	assert_string_equal(v.id, u.id);
	assert_int_equal(control_user_by_id(c, "nope", &v), CC_ENOTFOUND);
}

static void
test_user_add_invalid(void **state)
{
	struct control *c = *state;
	struct cc_diag d;

	assert_int_equal(control_user_add(c, "", "password1", "member", NULL,
	    &d), CC_EINVALID);
	assert_string_equal(d.code, "username_invalid");
	assert_int_equal(control_user_add(c, "a b", "password1", "member",
	    NULL, &d), CC_EINVALID);
	assert_int_equal(control_user_add(c, "-x", "password1", "member",
	    NULL, &d), CC_EINVALID);
	assert_int_equal(control_user_add(c, "bob'; DROP TABLE users;--",
	    "password1", "member", NULL, &d), CC_EINVALID);
	assert_int_equal(control_user_add(c, "bob", "password1", "root", NULL,
	    &d), CC_EINVALID);
	assert_string_equal(d.code, "role_invalid");
	assert_int_equal(control_user_add(c, "bob", "short", "member", NULL,
	    &d), CC_EINVALID);
	assert_string_equal(d.code, "password_length");
}

static void
test_authenticate(void **state)
{
	struct control *c = *state;
	struct cc_user u;

	assert_int_equal(control_user_add(c, "bob", "password-1", "member",
	    NULL, NULL), CC_OK);
	assert_int_equal(control_user_authenticate(c, "bob", "password-1", &u),
	    CC_OK);
	assert_string_equal(u.username, "bob");
	assert_int_equal(control_user_authenticate(c, "bob", "password-2", &u),
	    CC_EAUTH);
	assert_int_equal(control_user_authenticate(c, "nobody", "password-1",
	    &u), CC_EAUTH);
	assert_int_equal(control_user_authenticate(c, "bob", NULL, &u),
	    CC_EAUTH);
	/* disabled users cannot sign in, even with the right password */
	assert_int_equal(control_user_set_active(c, u.id, 0), CC_OK);
	assert_int_equal(control_user_authenticate(c, "bob", "password-1", &u),
	    CC_EAUTH);
	assert_int_equal(control_user_set_active(c, u.id, 1), CC_OK);
	assert_int_equal(control_user_authenticate(c, "bob", "password-1", &u),
	    CC_OK);
}

/* CPU seconds of this thread (the hash is CPU work: a busy machine that
 * delays the process does not change it). */
static double
cpu_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Unknown users cost the same Argon2id work as known ones: the CPU time
 * of each, median of three measured in turn. */
static void
test_unknown_user_timing(void **state)
{
	struct control *c = *state;
	double known[3], unknown[3], t;
	int i;

	assert_int_equal(control_user_add(c, "dave", "password-1", "member",
	    NULL, NULL), CC_OK);
	/* the first unknown look-up makes the dummy hash: warm it */
	control_user_authenticate(c, "ghost", "password-1", NULL);
	for (i = 0; i < 3; i++) {
		t = cpu_now();
		control_user_authenticate(c, "dave", "wrong-pass", NULL);
		known[i] = cpu_now() - t;
		t = cpu_now();
		control_user_authenticate(c, "ghost", "wrong-pass", NULL);
		unknown[i] = cpu_now() - t;
	}
	qsort(known, 3, sizeof(double), cmp_double);
	qsort(unknown, 3, sizeof(double), cmp_double);
	assert_true(known[1] > 0.01);
	assert_true(unknown[1] > known[1] * 0.5 && unknown[1] < known[1] * 2.0);
}

static void
test_password_change_bumps_version(void **state)
{
	struct control *c = *state;
	struct cc_user u, v;

	assert_int_equal(control_user_add(c, "erin", "password-1", "member",
	    &u, NULL), CC_OK);
	assert_int_equal(control_user_set_password(c, u.id, "password-2",
	    NULL), CC_OK);
	assert_int_equal(control_user_by_id(c, u.id, &v), CC_OK);
	assert_int_equal(v.token_version, u.token_version + 1);
	assert_int_equal(control_user_authenticate(c, "erin", "password-1",
	    NULL), CC_EAUTH);
	assert_int_equal(control_user_authenticate(c, "erin", "password-2",
	    NULL), CC_OK);
	assert_int_equal(control_user_set_password(c, "missing", "password-3",
	    NULL), CC_ENOTFOUND);
}

static void
test_throttle_window(void **state)
{
	struct control *c = *state;
	long retry = 0;
	int i;

	for (i = 0; i < 4; i++) {
		assert_int_equal(control_throttle_check(c, "user:x", 1000, 5,
		    900, &retry), CC_OK);
		assert_int_equal(control_throttle_fail(c, "user:x", 1000 + i,
		    900), CC_OK);
	}
	assert_int_equal(control_throttle_check(c, "user:x", 1010, 5, 900,
	    &retry), CC_OK);
	assert_int_equal(control_throttle_fail(c, "user:x", 1010, 900), CC_OK);
	/* five failures in the window that began at 1000: locked to 1900 */
	assert_int_equal(control_throttle_check(c, "user:x", 1100, 5, 900,
	    &retry), CC_ERATE);
	assert_int_equal(retry, 800);
	assert_int_equal(control_throttle_check(c, "user:y", 1100, 5, 900,
	    &retry), CC_OK);
	/* the window ends */
	assert_int_equal(control_throttle_check(c, "user:x", 1900, 5, 900,
	    &retry), CC_OK);
	/* a failure after it starts a new window with one failure */
	assert_int_equal(control_throttle_fail(c, "user:x", 1950, 900), CC_OK);
	assert_int_equal(control_throttle_check(c, "user:x", 1951, 1, 900,
	    &retry), CC_ERATE);
	assert_int_equal(control_throttle_check(c, "user:x", 1951, 2, 900,
	    &retry), CC_OK);
	assert_int_equal(control_throttle_clear(c, "user:x"), CC_OK);
	assert_int_equal(control_throttle_check(c, "user:x", 1951, 1, 900,
	    &retry), CC_OK);
}

static void
test_revocation(void **state)
{
	struct control *c = *state;

	assert_int_equal(control_token_revoked(c, "aa"), 0);
	assert_int_equal(control_token_revoke(c, "aa", "u", 5000, 1000), CC_OK);
	assert_int_equal(control_token_revoked(c, "aa"), 1);
	/* revoking again is harmless */
	assert_int_equal(control_token_revoke(c, "aa", "u", 5000, 1000), CC_OK);
	/* entries long expired are forgotten at the next revoke */
	assert_int_equal(control_token_revoke(c, "bb", "u", 9000, 6000), CC_OK);
	assert_int_equal(control_token_revoked(c, "aa"), 0);
	assert_int_equal(control_token_revoked(c, "bb"), 1);
}

/* control_generation(): moves with every write, by this handle or by
 * another connection, and only then. */
static void
test_generation(void **state)
{
	struct control *c = *state, *other = NULL;
	long long g0[2], g1[2], g2[2], g3[2];
	struct cc_user u;

	assert_int_equal(control_generation(c, g0), CC_OK);
	/* reads move nothing */
	assert_int_equal(control_user_by_name(c, "nobody", &u), CC_ENOTFOUND);
	assert_int_equal(control_token_revoked(c, "aa"), 0);
	assert_int_equal(control_generation(c, g1), CC_OK);
	assert_memory_equal(g0, g1, sizeof(g0));
	/* this handle's own write: data_version does not count it */
	assert_int_equal(control_token_revoke(c, "aa", "u", 5000, 1000), CC_OK);
	assert_int_equal(control_generation(c, g2), CC_OK);
	assert_true(g2[0] != g1[0] || g2[1] != g1[1]);
	/* another connection's write (as another worker's would be) */
	assert_int_equal(control_open(dir, &other, NULL), CC_OK);
	assert_int_equal(control_token_revoke(other, "bb", "u", 5000, 1000),
	    CC_OK);
	assert_int_equal(control_generation(c, g3), CC_OK);
	assert_true(g3[0] != g2[0] || g3[1] != g2[1]);
	control_close(other);
	assert_int_equal(control_generation(c, g1), CC_OK);
	assert_memory_equal(g1, g3, sizeof(g1));
}

static void
test_audit_and_list(void **state)
{
	struct control *c = *state;
	sqlite3_stmt *st;
	json_t *list;

	assert_int_equal(control_user_add(c, "zed", "password-1", "member",
	    NULL, NULL), CC_OK);
	assert_int_equal(control_user_add(c, "amy", "password-1", "admin",
	    NULL, NULL), CC_OK);
	assert_int_equal(control_user_list(c, &list), CC_OK);
	assert_int_equal(json_array_size(list), 2);
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(list, 0), "username")), "amy");
	/* the hash never leaves the module */
	assert_null(json_object_get(json_array_get(list, 0), "password_hash"));
	json_decref(list);
	assert_int_equal(control_audit(c, NULL, "amy", "login", NULL,
	    "127.0.0.1", "denied", "r1"), CC_OK);
	assert_int_equal(sqlite3_prepare_v2(c->db, "SELECT action, outcome,"
	    " client FROM audit_log", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 1), "denied");
	assert_string_equal((const char *)sqlite3_column_text(st, 2),
	    "127.0.0.1");
	sqlite3_finalize(st);
}

/* Opening again does not re-run migrations; a newer schema is refused. */
static void
test_migrations(void **state)
{
	struct control *c2 = NULL;
	struct workspace *ws = NULL;
	struct cc_diag d;

	(void)state;
	assert_int_equal(control_open(dir, &c2, NULL), CC_OK);
	control_close(c2);
	assert_int_equal(ws_open(dir, "0123abcd", &ws, &d), CC_OK);
	assert_int_equal(sqlite3_exec(ws->db, "PRAGMA user_version=999", NULL,
	    NULL, NULL), SQLITE_OK);
	ws_close(ws);
	assert_int_equal(ws_open(dir, "0123abcd", &ws, &d), CC_ECONFLICT);
	/* ids that could leave the data directory are refused */
	assert_int_equal(ws_open(dir, "../x", &ws, &d), CC_EINVAL);
	assert_int_equal(ws_open(dir, "", &ws, &d), CC_EINVAL);
}

/* Workers opening a brand-new workspace at once all succeed (switching
 * a new file to WAL answers SQLITE_BUSY without the busy handler). */
static void
test_workspace_concurrent_open(void **state)
{
	int round, i, st, bad = 0;
	char id[32];

	(void)state;
	for (round = 0; round < 15; round++) {
		snprintf(id, sizeof(id), "fresh%d", round);
		for (i = 0; i < 4; i++)
			if (fork() == 0) {
				struct workspace *ws = NULL;
				_exit(ws_open(dir, id, &ws, NULL) == CC_OK ?
				    (ws_close(ws), 0) : 1);
			}
		for (i = 0; i < 4; i++) {
			wait(&st);
			bad += !WIFEXITED(st) || WEXITSTATUS(st) != 0;
		}
	}
	assert_int_equal(bad, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_user_add_and_lookup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_user_add_invalid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_authenticate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_user_timing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_password_change_bumps_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_throttle_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revocation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_generation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_and_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_workspace_concurrent_open, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name("control", tests, NULL, NULL);
}
