/*
 * concord/auth.h - passwords (libsodium Argon2id) and access tokens (JWT,
 * HS256, libjwt 1.10).
 *
 * libjwt 1.10 checks a signature only when given a key and never checks a
 * claim (../shared/guides/security.md): every token goes through
 * auth_token_verify() and then auth_session_check(), which together do the
 * six checks of that guide.  RFC 7519 (JWT), RFC 8725 (JWT best current
 * practice), RFC 9106 (Argon2).
 */
#ifndef CONCORD_AUTH_H
#define CONCORD_AUTH_H

#include <stddef.h>
#include <time.h>

#include "concord/control.h"
#include "concord/error.h"

#define AUTH_SECRET_MIN		32	/* bytes of the signing key, minimum */
#define AUTH_SECRET_MAX		256
#define AUTH_ISSUER		"concord"
#define AUTH_AUDIENCE		"concord-api"
#define AUTH_PURPOSE_ACCESS	"access"
#define AUTH_LEEWAY		60	/* seconds of clock skew accepted */
#define AUTH_PASSWORD_MIN	8	/* characters (bytes of UTF-8) */
#define AUTH_PASSWORD_MAX	1024

/* Claims of a verified access token. */
struct auth_claims {
	char		sub[CONTROL_ID_LEN + 1];	/* user id */
	char		jti[33];			/* token id, 32 hex */
	long long	iat, exp;			/* Unix seconds */
	long long	ver;				/* user token version */
};

/*
 * Creates DATA_DIR/secret: 32 fresh random bytes, mode 0600, atomically.
 * Errors: CC_EEXIST (a secret is there: never overwritten), CC_EIO.
 */
cc_err	auth_secret_create(const char *data_dir);

/*
 * Loads DATA_DIR/secret into key (AUTH_SECRET_MAX bytes), *len its length.
 * Refuses a file readable by group or others, or shorter than
 * AUTH_SECRET_MIN bytes.  Errors: CC_EIO, CC_ECONFIG (diag says why).
 */
cc_err	auth_secret_load(const char *data_dir, unsigned char *key,
	    size_t *len, struct cc_diag *diag);

/*
 * Password policy: AUTH_PASSWORD_MIN..AUTH_PASSWORD_MAX bytes, valid
 * UTF-8, no NUL.  Errors: CC_EINVALID with diag.
 */
cc_err	auth_password_policy(const char *password, struct cc_diag *diag);

/*
 * Hashes a password with crypto_pwhash_str (Argon2id, INTERACTIVE
 * limits) into out (crypto_pwhash_STRBYTES).  Errors: CC_ENOMEM.
 */
cc_err	auth_password_hash(const char *password, char *out, size_t outsize);

/*
 * Issues an access token for user u valid from now for lifetime seconds.
 * *token is a new string the caller frees with free(); *exp the expiry;
 * jti (33 bytes, may be NULL) the token's id.  Errors: CC_ECONFIG (key
 * shorter than AUTH_SECRET_MIN), CC_ENOMEM.
 */
cc_err	auth_token_issue(const unsigned char *key, size_t keylen,
	    const struct cc_user *u, long lifetime, time_t now, char **token,
	    long long *exp, char *jti);

/*
 * Verifies a token's form, signature and claims, without the database:
 *  1. the key is at least AUTH_SECRET_MIN bytes (never NULL or empty: with
 *     those libjwt 1.10 accepts any token);
 *  2. jwt_decode() with the key succeeds and jwt_get_alg() is HS256 (one
 *     key, one algorithm: RFC 8725 section 3.1);
 *  3. exp and iat are JSON integers, exp > now - leeway, iat <= now +
 *     leeway, nbf (if present) an integer <= now + leeway;
 *  4. iss is AUTH_ISSUER, aud is AUTH_AUDIENCE (a string or an array
 *     holding it), pur is AUTH_PURPOSE_ACCESS, sub a user id, jti 32 hex,
 *     ver an integer >= 0.
 * Errors: CC_ECONFIG (key too short), CC_EAUTH with diag->code one of
 * token_malformed, token_signature, token_alg, token_expired,
 * token_not_yet_valid, token_claims.
 */
cc_err	auth_token_verify(const unsigned char *key, size_t keylen,
	    const char *token, time_t now, struct auth_claims *out,
	    struct cc_diag *diag);

/*
 * The server-side half: the user named by sub exists, is active, its token
 * version equals ver, and jti is not revoked.  user (may be NULL) receives
 * the record; the workspace is derived from it, never from the request.
 * Errors: CC_EAUTH with diag->code user_unknown, user_disabled,
 * token_stale (version changed) or token_revoked.
 */
cc_err	auth_session_check(struct control *c, const struct auth_claims *cl,
	    struct cc_user *user, struct cc_diag *diag);

#endif /* CONCORD_AUTH_H */
