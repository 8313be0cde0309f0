/*
 * test_auth.c - access tokens and passwords.  One test per row of the
 * libjwt 1.10.2 table in ../shared/guides/security.md (each shows the
 * library's behaviour, then that auth_token_verify() refuses it), and one
 * per check of auth_token_verify()/auth_session_check() failing alone.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <jwt.h>
#include <sodium.h>

#include "concord/auth.h"
#include "concord/control.h"

static unsigned char key[32];
static const time_t NOW = 1800000000;	/* a fixed clock */

static const struct cc_user alice = {
	.id = "0123456789abcdef0123456789abcdef", .username = "alice",
	.role = "member", .active = 1, .token_version = 3,
};

/* Signs claims (a JSON object text) with alg and k/klen; returns a new
 * token string. */
static char *
sign(const char *claims, jwt_alg_t alg, const unsigned char *k, int klen)
{
	jwt_t *jwt;
	char *s;

	assert_int_equal(jwt_new(&jwt), 0);
	assert_int_equal(jwt_add_grants_json(jwt, claims), 0);
	assert_int_equal(jwt_set_alg(jwt, alg, k, klen), 0);
	s = jwt_encode_str(jwt);
	assert_non_null(s);
	jwt_free(jwt);
	return s;
}

/* The claims of a valid token for alice at NOW, with one change:
 * a JSON object whose members replace (or with null, remove) those of
 * the base. */
static char *
claims_with(const char *change)
{
	json_t *base, *ch, *v;
	const char *k;
	char *s;

	base = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I}",
	    "iss", AUTH_ISSUER, "aud", AUTH_AUDIENCE, "sub", alice.id,
	    "pur", AUTH_PURPOSE_ACCESS, "jti",
	    "00112233445566778899aabbccddeeff", "iat", (json_int_t)NOW,
	    "exp", (json_int_t)(NOW + 3600), "ver", (json_int_t)3);
	if (change != NULL) {
		ch = json_loads(change, 0, NULL);
		assert_non_null(ch);
		json_object_foreach(ch, k, v) {
			if (json_is_null(v))
				json_object_del(base, k);
			else
				json_object_set(base, k, v);
		}
		json_decref(ch);
	}
	s = json_dumps(base, JSON_COMPACT);
	json_decref(base);
	return s;
}

static char *
token_with(const char *change)
{
	char *c = claims_with(change), *t;

	t = sign(c, JWT_ALG_HS256, key, sizeof(key));
	free(c);
	return t;
}

static void
expect_refused(const char *token, const char *code)
{
	struct cc_diag d;

	cc_diag_clear(&d);
	assert_int_equal(auth_token_verify(key, sizeof(key), token, NOW, NULL,
	    &d), CC_EAUTH);
	assert_string_equal(d.code, code);
}

static void
test_valid_token_accepted(void **state)
{
	struct auth_claims cl;
	char *t = NULL, jti[33];
	long long exp;

	(void)state;
	assert_int_equal(auth_token_issue(key, sizeof(key), &alice, 600, NOW,
	    &t, &exp, jti), CC_OK);
	assert_int_equal(exp, NOW + 600);
	assert_int_equal(auth_token_verify(key, sizeof(key), t, NOW, &cl,
	    NULL), CC_OK);
	assert_string_equal(cl.sub, alice.id);
	assert_string_equal(cl.jti, jti);
	assert_int_equal(cl.ver, 3);
	assert_int_equal(cl.exp, NOW + 600);
	free(t);
}

/* Row 1: libjwt accepts an expired token; we do not. */
static void
test_row_expired(void **state)
{
	char *t = token_with("{\"iat\": 1000, \"exp\": 2000}");
	jwt_t *jwt = NULL;

	(void)state;
	assert_int_equal(jwt_decode(&jwt, t, key, sizeof(key)), 0);
	jwt_free(jwt);
	expect_refused(t, "token_expired");
	free(t);
}

/* Leeway: expired 30 s ago passes, 61 s ago does not. */
static void
test_expiry_leeway(void **state)
{
	char *a = token_with("{\"exp\": 1799999970}");
	char *b = token_with("{\"exp\": 1799999939}");

	(void)state;
	assert_int_equal(auth_token_verify(key, sizeof(key), a, NOW, NULL,
	    NULL), CC_OK);
	expect_refused(b, "token_expired");
	free(a);
	free(b);
}

/* Row 2: alg none with a real key is refused by libjwt and by us. */
static void
test_row_alg_none_with_key(void **state)
{
	char *c = claims_with(NULL), *t = sign(c, JWT_ALG_NONE, NULL, 0);
	jwt_t *jwt = NULL;

	(void)state;
	assert_int_not_equal(jwt_decode(&jwt, t, key, sizeof(key)), 0);
	expect_refused(t, "token_signature");
	free(c);
	free(t);
}

/* Row 3: alg none with NULL or empty key is accepted by libjwt; our
 * verify refuses to run without a real key. */
static void
test_row_alg_none_null_key(void **state)
{
	char *c = claims_with(NULL), *t = sign(c, JWT_ALG_NONE, NULL, 0);
	struct cc_diag d;
	jwt_t *jwt = NULL;

	(void)state;
	assert_int_equal(jwt_decode(&jwt, t, NULL, 0), 0);
	jwt_free(jwt);
	assert_int_equal(auth_token_verify(NULL, 0, t, NOW, NULL, &d),
	    CC_ECONFIG);
	assert_int_equal(auth_token_verify(key, 0, t, NOW, NULL, &d),
	    CC_ECONFIG);
	assert_int_equal(auth_token_verify(key, 31, t, NOW, NULL, &d),
	    CC_ECONFIG);
	free(c);
	free(t);
}

/* Row 4: any token decoded with a NULL key is accepted as alg none. */
static void
test_row_garbage_signature(void **state)
{
	char *t = token_with(NULL), *dot = strrchr(t, '.');
	jwt_t *jwt = NULL;

	(void)state;
	memcpy(dot + 1, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 43);
	assert_int_equal(jwt_decode(&jwt, t, NULL, 0), 0);
	assert_int_equal(jwt_get_alg(jwt), JWT_ALG_NONE);
	jwt_free(jwt);
	expect_refused(t, "token_signature");
	free(t);
}

/* Row 5: algorithm confusion: a token signed HS256 with an RSA public
 * key's PEM text is refused: only our random secret verifies, and only
 * HS256 is accepted. */
static void
test_row_algorithm_confusion(void **state)
{
	static const char pem[] = "-----BEGIN PUBLIC KEY-----\n"
	    "MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAMz0JvV0gXK3s6hZ3k5t3xWJmKz7xK1a\n"
	    "Vq0Q2lq2b9o9Kx0Vv1m6bqzK9e2h2p0Z3o8q3c4R5m6w7y8b9c0d1e2f3g0CAwEAAQ==\n"
	    "-----END PUBLIC KEY-----\n";
	char *c = claims_with(NULL);
	char *t = sign(c, JWT_ALG_HS256, (const unsigned char *)pem,
	    (int)strlen(pem));
	char *t384 = sign(c, JWT_ALG_HS384, key, sizeof(key));
	jwt_t *jwt = NULL;

	(void)state;
	/* libjwt verifies with whatever bytes it is handed, PEM or not. */
	assert_int_equal(jwt_decode(&jwt, t, (const unsigned char *)pem,
	    (int)strlen(pem)), 0);
	jwt_free(jwt);
	expect_refused(t, "token_signature");
	/* Our key, another algorithm: refused for the algorithm. */
	expect_refused(t384, "token_alg");
	free(c);
	free(t);
	free(t384);
}

/* Row 6: jwt_get_grant_int() cannot tell a missing claim or a string from
 * a number; we read claims as JSON and check their types. */
static void
test_row_grant_int_types(void **state)
{
	char *missing = token_with("{\"exp\": null}");
	char *string = token_with("{\"exp\": \"1900000000\"}");
	char *flt = token_with("{\"exp\": 1900000000.5}");
	char *iat_missing = token_with("{\"iat\": null}");
	char *nbf_string = token_with("{\"nbf\": \"0\"}");
	jwt_t *jwt = NULL;

	(void)state;
	assert_int_equal(jwt_decode(&jwt, missing, key, sizeof(key)), 0);
	errno = 0;
	assert_int_equal(jwt_get_grant_int(jwt, "exp"), -1);
	assert_int_equal(errno, ENOENT);
	jwt_free(jwt);
	assert_int_equal(jwt_decode(&jwt, string, key, sizeof(key)), 0);
	errno = 0;
	assert_int_equal(jwt_get_grant_int(jwt, "exp"), 0);
	assert_int_equal(errno, 0);
	jwt_free(jwt);
	expect_refused(missing, "token_claims");
	expect_refused(string, "token_claims");
	expect_refused(flt, "token_claims");
	expect_refused(iat_missing, "token_claims");
	expect_refused(nbf_string, "token_claims");
	free(missing);
	free(string);
	free(flt);
	free(iat_missing);
	free(nbf_string);
}

/* A payload changed after signing. */
static void
test_tampered_payload(void **state)
{
	char *t = token_with(NULL), *c2 = claims_with("{\"sub\":"
	    " \"ffffffffffffffffffffffffffffffff\"}");
	char b64[1024], tampered[2048];
	char *p1 = strchr(t, '.'), *p2 = strrchr(t, '.');

	(void)state;
	sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)c2,
	    strlen(c2), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	snprintf(tampered, sizeof(tampered), "%.*s.%s%s", (int)(p1 - t), t,
	    b64, p2);
	expect_refused(tampered, "token_signature");
	free(t);
	free(c2);
}

static void
test_wrong_key(void **state)
{
	unsigned char other[32];
	char *c = claims_with(NULL), *t;

	(void)state;
	memset(other, 7, sizeof(other));
	t = sign(c, JWT_ALG_HS256, other, sizeof(other));
	expect_refused(t, "token_signature");
	free(c);
	free(t);
}

static void
test_claim_checks_each(void **state)
{
	static const char *const bad[] = {
		"{\"iss\": \"someone-else\"}",
		"{\"iss\": null}",
		"{\"aud\": \"another-api\"}",
		"{\"aud\": null}",
		"{\"aud\": [\"x\", \"y\"]}",
		"{\"pur\": \"refresh\"}",
		"{\"pur\": null}",
		"{\"sub\": \"../../etc\"}",
		"{\"sub\": 5}",
		"{\"jti\": \"short\"}",
		"{\"ver\": \"3\"}",
		"{\"ver\": -1}",
	};
	size_t i;
	char *t;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t = token_with(bad[i]);
		expect_refused(t, "token_claims");
		free(t);
	}
	/* aud as an array holding ours is fine (RFC 7519 4.1.3). */
	t = token_with("{\"aud\": [\"x\", \"concord-api\"]}");
	assert_int_equal(auth_token_verify(key, sizeof(key), t, NOW, NULL,
	    NULL), CC_OK);
	free(t);
}

static void
test_not_yet_valid(void **state)
{
	char *iat = token_with("{\"iat\": 1800000100}");
	char *nbf = token_with("{\"nbf\": 1800000100}");
	char *nbf_ok = token_with("{\"nbf\": 1800000030}");

	(void)state;
	expect_refused(iat, "token_not_yet_valid");
	expect_refused(nbf, "token_not_yet_valid");
	assert_int_equal(auth_token_verify(key, sizeof(key), nbf_ok, NOW, NULL,
	    NULL), CC_OK);
	free(iat);
	free(nbf);
	free(nbf_ok);
}

static void
test_malformed(void **state)
{
	(void)state;
	expect_refused("", "token_malformed");
	expect_refused("not-a-token", "token_signature");
	expect_refused("a.b.c", "token_signature");
}

/* The server-side half: revoked, disabled, deleted, stale version. */
static void
test_session_checks(void **state)
{
	char dir[] = "/tmp/concord-test-XXXXXX", *t;
	struct control *c = NULL;
	struct auth_claims cl;
	struct cc_user u, got;
	struct cc_diag d;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(control_open(dir, &c, NULL), CC_OK);
	assert_int_equal(control_user_add(c, "carol", "password-1", "member",
	    &u, NULL), CC_OK);
	assert_int_equal(auth_token_issue(key, sizeof(key), &u, 600,
	    time(NULL), &t, NULL, NULL), CC_OK);
	assert_int_equal(auth_token_verify(key, sizeof(key), t, time(NULL),
	    &cl, NULL), CC_OK);
	assert_int_equal(auth_session_check(c, &cl, &got, &d), CC_OK);
	assert_string_equal(got.id, u.id);

	/* revoked (logout) */
	assert_int_equal(control_token_revoke(c, cl.jti, u.id, cl.exp,
	    time(NULL)), CC_OK);
	assert_int_equal(auth_session_check(c, &cl, NULL, &d), CC_EAUTH);
	assert_string_equal(d.code, "token_revoked");
	free(t);

	/* stale after a password change */
	assert_int_equal(auth_token_issue(key, sizeof(key), &u, 600,
	    time(NULL), &t, NULL, NULL), CC_OK);
	assert_int_equal(auth_token_verify(key, sizeof(key), t, time(NULL),
	    &cl, NULL), CC_OK);
	assert_int_equal(auth_session_check(c, &cl, NULL, &d), CC_OK);
	assert_int_equal(control_user_set_password(c, u.id, "password-2",
	    NULL), CC_OK);
	assert_int_equal(auth_session_check(c, &cl, NULL, &d), CC_EAUTH);
	assert_string_equal(d.code, "token_stale");
	free(t);

	/* disabled: even with a token of the current version */
	assert_int_equal(control_user_set_active(c, u.id, 0), CC_OK);
	assert_int_equal(control_user_by_id(c, u.id, &u), CC_OK);
	assert_int_equal(auth_token_issue(key, sizeof(key), &u, 600,
	    time(NULL), &t, NULL, NULL), CC_OK);
	assert_int_equal(auth_token_verify(key, sizeof(key), t, time(NULL),
	    &cl, NULL), CC_OK);
	assert_int_equal(auth_session_check(c, &cl, NULL, &d), CC_EAUTH);
	assert_string_equal(d.code, "user_disabled");

	/* deleted */
	assert_int_equal(control_user_delete(c, u.id), CC_OK);
	assert_int_equal(auth_session_check(c, &cl, NULL, &d), CC_EAUTH);
	assert_string_equal(d.code, "user_unknown");
	free(t);
	control_close(c);
	{
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		assert_int_equal(system(cmd), 0);
	}
}

static void
test_secret_file(void **state)
{
	char dir[] = "/tmp/concord-secret-XXXXXX", path[64];
	unsigned char k[AUTH_SECRET_MAX];
	struct cc_diag d;
	size_t len = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(auth_secret_load(dir, k, &len, &d), CC_EIO);
	assert_int_equal(auth_secret_create(dir), CC_OK);
	assert_int_equal(auth_secret_create(dir), CC_EEXIST);
	assert_int_equal(auth_secret_load(dir, k, &len, &d), CC_OK);
	assert_int_equal(len, 32);
	snprintf(path, sizeof(path), "%s/secret", dir);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(auth_secret_load(dir, k, &len, &d), CC_ECONFIG);
	assert_string_equal(d.code, "secret_mode");
	assert_int_equal(unlink(path), 0);
	{
		FILE *fp = fopen(path, "w");
		fputs("short", fp);
		fclose(fp);
		chmod(path, 0600);
	}
	assert_int_equal(auth_secret_load(dir, k, &len, &d), CC_ECONFIG);
	assert_string_equal(d.code, "secret_short");
	unlink(path);
	rmdir(dir);
}

static void
test_password_policy(void **state)
{
	char long_pw[1026];
	struct cc_diag d;

	(void)state;
	assert_int_equal(auth_password_policy("1234567", &d), CC_EINVALID);
	assert_int_equal(auth_password_policy("12345678", &d), CC_OK);
	memset(long_pw, 'a', 1025);
	long_pw[1025] = '\0';
	assert_int_equal(auth_password_policy(long_pw, &d), CC_EINVALID);
	long_pw[1024] = '\0';
	assert_int_equal(auth_password_policy(long_pw, &d), CC_OK);
	assert_int_equal(auth_password_policy("abc\xff\xfe" "defgh", &d),
	    CC_EINVALID);
	assert_string_equal(d.code, "password_encoding");
	assert_int_equal(auth_password_policy("Müller-пароль", &d), CC_OK);
	assert_int_equal(auth_password_policy(NULL, &d), CC_EINVALID);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_token_accepted),
		cmocka_unit_test(test_row_expired),
		cmocka_unit_test(test_expiry_leeway),
		cmocka_unit_test(test_row_alg_none_with_key),
		cmocka_unit_test(test_row_alg_none_null_key),
		cmocka_unit_test(test_row_garbage_signature),
		cmocka_unit_test(test_row_algorithm_confusion),
		cmocka_unit_test(test_row_grant_int_types),
		cmocka_unit_test(test_tampered_payload),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_claim_checks_each),
		cmocka_unit_test(test_not_yet_valid),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_session_checks),
		cmocka_unit_test(test_secret_file),
		cmocka_unit_test(test_password_policy),
	};

	if (sodium_init() < 0)
		return 1;
	randombytes_buf(key, sizeof(key));
	return cmocka_run_group_tests_name("auth", tests, NULL, NULL);
}
