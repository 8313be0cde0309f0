/*
 * test_authcache.c - the workers' memory of checked tokens
 * (fcgi/authcache.h): hits only for the same token at the same
 * control.db generation before its expiry, least recently used evicted,
 * workspaces kept per token.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "../../fcgi/authcache.h"

static void
claims_of(struct auth_claims *cl, struct cc_user *u, const char *who,
    long long exp)
{
	memset(cl, 0, sizeof(*cl));
	memset(u, 0, sizeof(*u));
	snprintf(cl->sub, sizeof(cl->sub), "%s", who);
	snprintf(u->id, sizeof(u->id), "%s", who);
	snprintf(u->username, sizeof(u->username), "user-%s", who);
	cl->exp = exp;
	cl->ver = 3;
}

static void
test_hit_and_misses(void **state)
{
	const long long gen[2] = { 7, 100 }, other[2] = { 7, 101 },
	    other2[2] = { 8, 100 };
	struct auth_claims cl, got;
	struct cc_user u, gu;
	struct authcache *c;
	time_t now = 1000000;

	(void)state;
	assert_int_equal(authcache_new(0, &c), CC_EINVAL);
	assert_int_equal(authcache_new(4, &c), CC_OK);
	claims_of(&cl, &u, "alice", now + 600);
	assert_int_equal(authcache_get(c, "tok.a.sig", gen, now, &got, &gu), -1);
	assert_true(authcache_put(c, "tok.a.sig", gen, &cl, &u) >= 0);
	assert_true(authcache_get(c, "tok.a.sig", gen, now, &got, &gu) >= 0);
	assert_string_equal(got.sub, "alice");
	assert_string_equal(gu.username, "user-alice");
	assert_int_equal(got.ver, 3);
	/* another token: one byte more, one byte less, one byte changed */
	assert_int_equal(authcache_get(c, "tok.a.sigx", gen, now, &got, &gu), -1);
	assert_int_equal(authcache_get(c, "tok.a.si", gen, now, &got, &gu), -1);
	assert_int_equal(authcache_get(c, "tok.a.sih", gen, now, &got, &gu), -1);
	/* control.db moved (own write, another connection's write) */
	assert_int_equal(authcache_get(c, "tok.a.sig", other, now, &got, &gu), -1);
	assert_int_equal(authcache_get(c, "tok.a.sig", other2, now, &got, &gu),
	    -1);
	/* expiry: exp must stay later than now - AUTH_LEEWAY */
	assert_true(authcache_get(c, "tok.a.sig", gen,
	    now + 600 + AUTH_LEEWAY - 1, &got, &gu) >= 0);
	assert_int_equal(authcache_get(c, "tok.a.sig", gen,
	    now + 600 + AUTH_LEEWAY, &got, &gu), -1);
	assert_int_equal(authcache_get(NULL, "tok.a.sig", gen, now, &got, &gu),
	    -1);
	authcache_free(c);
}

static void
test_put_again_takes_new_generation(void **state)
{
	const long long g1[2] = { 1, 1 }, g2[2] = { 2, 1 };
	struct auth_claims cl, got;
	struct cc_user u, gu;
	struct ws_access ws, out;
	struct authcache *c;
	int s1, s2;

	(void)state;
	assert_int_equal(authcache_new(4, &c), CC_OK);
	claims_of(&cl, &u, "bob", 5000);
	s1 = authcache_put(c, "t", g1, &cl, &u);
	memset(&ws, 0, sizeof(ws));
	snprintf(ws.key, sizeof(ws.key), "team-x");
	ws.role = TEAM_EDITOR;
	authcache_ws_put(c, s1, "team:x", &ws);
	assert_int_equal(authcache_ws_get(c, s1, "team:x", &out), 1);
	/* re-checked at a newer generation: the same slot, nothing of
	 * what the old generation resolved */
	s2 = authcache_put(c, "t", g2, &cl, &u);
	assert_int_equal(s1, s2);
	assert_int_equal(authcache_ws_get(c, s2, "team:x", &out), 0);
	assert_int_equal(authcache_get(c, "t", g1, 1000, &got, &gu), -1);
	assert_true(authcache_get(c, "t", g2, 1000, &got, &gu) >= 0);
	authcache_free(c);
}

static void
test_lru_eviction(void **state)
{
	const long long gen[2] = { 1, 1 };
	struct auth_claims cl, got;
	struct cc_user u, gu;
	struct authcache *c;
	char tok[16];
	int i;

	(void)state;
	assert_int_equal(authcache_new(3, &c), CC_OK);
	claims_of(&cl, &u, "carol", 5000);
	for (i = 0; i < 3; i++) {
		snprintf(tok, sizeof(tok), "t%d", i);
		assert_true(authcache_put(c, tok, gen, &cl, &u) >= 0);
	}
	/* t0 used again: t1 is now the least recently used */
	assert_true(authcache_get(c, "t0", gen, 1000, &got, &gu) >= 0);
	assert_true(authcache_put(c, "t3", gen, &cl, &u) >= 0);
	assert_int_equal(authcache_get(c, "t1", gen, 1000, &got, &gu), -1);
	assert_true(authcache_get(c, "t0", gen, 1000, &got, &gu) >= 0);
	assert_true(authcache_get(c, "t2", gen, 1000, &got, &gu) >= 0);
	assert_true(authcache_get(c, "t3", gen, 1000, &got, &gu) >= 0);
	authcache_free(c);
}

static void
test_workspaces(void **state)
{
	const long long gen[2] = { 1, 1 };
	struct auth_claims cl;
	struct cc_user u;
	struct ws_access ws, out;
	struct authcache *c;
	char sel[16], longsel[AUTHCACHE_SEL_MAX + 2];
	int slot, i;

	(void)state;
	assert_int_equal(authcache_new(2, &c), CC_OK);
	claims_of(&cl, &u, "dan", 5000);
	slot = authcache_put(c, "t", gen, &cl, &u);
	memset(&ws, 0, sizeof(ws));
	/* NULL (no header) and "" are both the empty selector */
	snprintf(ws.key, sizeof(ws.key), "personal-dan");
	authcache_ws_put(c, slot, NULL, &ws);
	assert_int_equal(authcache_ws_get(c, slot, NULL, &out), 1);
	assert_string_equal(out.key, "personal-dan");
	assert_int_equal(authcache_ws_get(c, slot, "personal", &out), 0);
	/* at most AUTHCACHE_WS selectors: the oldest goes */
	for (i = 0; i < AUTHCACHE_WS; i++) {
		snprintf(sel, sizeof(sel), "team:%d", i);
		snprintf(ws.key, sizeof(ws.key), "team-%d", i);
		authcache_ws_put(c, slot, sel, &ws);
	}
	assert_int_equal(authcache_ws_get(c, slot, NULL, &out), 0);
	assert_int_equal(authcache_ws_get(c, slot, "team:0", &out), 1);
	assert_string_equal(out.key, "team-0");
	/* a selector longer than AUTHCACHE_SEL_MAX is not kept */
	memset(longsel, 'a', sizeof(longsel) - 1);
	longsel[sizeof(longsel) - 1] = '\0';
	authcache_ws_put(c, slot, longsel, &ws);
	assert_int_equal(authcache_ws_get(c, slot, longsel, &out), 0);
	/* no slot, a slot out of range */
	assert_int_equal(authcache_ws_get(c, -1, "team:0", &out), 0);
	assert_int_equal(authcache_ws_get(c, 2, "team:0", &out), 0);
	authcache_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hit_and_misses),
		cmocka_unit_test(test_put_again_takes_new_generation),
		cmocka_unit_test(test_lru_eviction),
		cmocka_unit_test(test_workspaces),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name("authcache", tests, NULL, NULL);
}
