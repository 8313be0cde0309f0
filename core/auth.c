/*
 * auth.c - passwords and access tokens (concord/auth.h).
 *
 * libjwt 1.10.2 facts this file is written against (security.md): a NULL
 * or empty key makes jwt_decode() accept any token as alg "none"; claims
 * are never checked; jwt_get_grant_int() cannot tell a missing claim from
 * a string.  So the claims are read as JSON and checked here.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <jwt.h>
#include <sodium.h>
#include <utf8proc.h>

#include "concord/auth.h"
#include "concord/util.h"

cc_err
auth_secret_create(const char *data_dir)
{
	unsigned char key[AUTH_SECRET_MIN];
	char path[4096];
	cc_err err;

	snprintf(path, sizeof(path), "%s/secret", data_dir);
	if (access(path, F_OK) == 0)
		return CC_EEXIST;
	randombytes_buf(key, sizeof(key));
	err = util_write_file_atomic(path, key, sizeof(key), 0600);
	sodium_memzero(key, sizeof(key));
	return err;
}

cc_err
auth_secret_load(const char *data_dir, unsigned char *key, size_t *len,
    struct cc_diag *diag)
{
	char path[4096];
	struct stat st;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/secret", data_dir);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return cc_diag_set(diag, CC_EIO, "secret_open",
		    "cannot open %s: %s (run 'concord init')", path,
		    strerror(errno));
	if (fstat(fd, &st) != 0 || (st.st_mode & 077) != 0) {
		close(fd);
		return cc_diag_set(diag, CC_ECONFIG, "secret_mode",
		    "%s must be readable by its owner only (chmod 600)", path);
	}
	n = read(fd, key, AUTH_SECRET_MAX);
	close(fd);
	if (n < AUTH_SECRET_MIN)
		return cc_diag_set(diag, CC_ECONFIG, "secret_short",
		    "%s must hold at least %d random bytes", path,
		    AUTH_SECRET_MIN);
	*len = (size_t)n;
	return CC_OK;
}

/* 1 if s is valid UTF-8 (RFC 3629), checked by utf8proc. */
static int
valid_utf8(const unsigned char *s, size_t len)
{
	utf8proc_int32_t cp;
	utf8proc_ssize_t n;
	size_t i = 0;

	while (i < len) {
		n = utf8proc_iterate(s + i, (utf8proc_ssize_t)(len - i), &cp);
		if (n <= 0)
			return 0;
		i += (size_t)n;
	}
	return 1;
}

cc_err
auth_password_policy(const char *password, struct cc_diag *diag)
{
	size_t len;

	if (password == NULL)
		return cc_diag_set(diag, CC_EINVALID, "password_missing",
		    "a password is required");
	len = strlen(password);
	if (len < AUTH_PASSWORD_MIN || len > AUTH_PASSWORD_MAX)
		return cc_diag_set(diag, CC_EINVALID, "password_length",
		    "a password must have %d to %d characters",
		    AUTH_PASSWORD_MIN, AUTH_PASSWORD_MAX);
	if (!valid_utf8((const unsigned char *)password, len))
		return cc_diag_set(diag, CC_EINVALID, "password_encoding",
		    "a password must be valid UTF-8");
	return CC_OK;
}

cc_err
auth_password_hash(const char *password, char *out, size_t outsize)
{
	if (outsize < crypto_pwhash_STRBYTES)
		return CC_EINVAL;
	if (crypto_pwhash_str(out, password, strlen(password),
	    crypto_pwhash_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		return CC_ENOMEM;
	return CC_OK;
}

cc_err
auth_token_issue(const unsigned char *key, size_t keylen,
    const struct cc_user *u, long lifetime, time_t now, char **token,
    long long *exp, char *jti)
{
	char id[33];
	jwt_t *jwt = NULL;
	cc_err err = CC_ENOMEM;
	char *s;

	if (key == NULL || keylen < AUTH_SECRET_MIN)
		return CC_ECONFIG;
	util_random_hex(id, 16);
	if (jwt_new(&jwt) != 0)
		return CC_ENOMEM;
	if (jwt_add_grant(jwt, "iss", AUTH_ISSUER) != 0 ||
	    jwt_add_grant(jwt, "aud", AUTH_AUDIENCE) != 0 ||
	    jwt_add_grant(jwt, "sub", u->id) != 0 ||
	    jwt_add_grant(jwt, "pur", AUTH_PURPOSE_ACCESS) != 0 ||
	    jwt_add_grant(jwt, "jti", id) != 0 ||
	    jwt_add_grant_int(jwt, "iat", (long)now) != 0 ||
	    jwt_add_grant_int(jwt, "exp", (long)(now + lifetime)) != 0 ||
	    jwt_add_grant_int(jwt, "ver", (long)u->token_version) != 0 ||
	    jwt_set_alg(jwt, JWT_ALG_HS256, key, (int)keylen) != 0)
		goto out;
	if ((s = jwt_encode_str(jwt)) == NULL)
		goto out;
	*token = s;
	if (exp != NULL)
		*exp = (long long)now + lifetime;
	if (jti != NULL)
		memcpy(jti, id, sizeof(id));
	err = CC_OK;
out:
	jwt_free(jwt);
	return err;
}

static int
is_hex(const char *s, size_t len)
{
	size_t i;

	if (strlen(s) != len)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* aud may be a string or an array of strings (RFC 7519 section 4.1.3). */
static int
has_audience(json_t *aud)
{
	size_t i;
	json_t *v;

	if (json_is_string(aud))
		return strcmp(json_string_value(aud), AUTH_AUDIENCE) == 0;
	if (!json_is_array(aud))
		return 0;
	json_array_foreach(aud, i, v)
		if (json_is_string(v) &&
		    strcmp(json_string_value(v), AUTH_AUDIENCE) == 0)
			return 1;
	return 0;
}

static const char *
str_claim(json_t *claims, const char *name)
{
	json_t *v = json_object_get(claims, name);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

cc_err
auth_token_verify(const unsigned char *key, size_t keylen, const char *token,
    time_t now, struct auth_claims *out, struct cc_diag *diag)
{
	json_t *claims = NULL, *exp, *iat, *nbf, *ver;
	const char *iss, *pur, *sub, *jti;
	jwt_t *jwt = NULL;
	char *grants = NULL;
	cc_err err;

	/* 1. never decode without a real key: NULL or empty accepts "none". */
	if (key == NULL || keylen < AUTH_SECRET_MIN)
		return cc_diag_set(diag, CC_ECONFIG, "secret_short",
		    "token key shorter than %d bytes", AUTH_SECRET_MIN);
	if (token == NULL || *token == '\0' || strlen(token) > 4096)
		return cc_diag_set(diag, CC_EAUTH, "token_malformed",
		    "token missing or too long");
	/* 2. signature with our key, and only HS256. */
	if (jwt_decode(&jwt, token, key, (int)keylen) != 0 || jwt == NULL)
		return cc_diag_set(diag, CC_EAUTH, "token_signature",
		    "token signature or format invalid");
	if (jwt_get_alg(jwt) != JWT_ALG_HS256) {
		err = cc_diag_set(diag, CC_EAUTH, "token_alg",
		    "token algorithm is not HS256");
		goto out;
	}
	/* 3. and 4. claims, read as JSON so that types are checked. */
	if ((grants = jwt_get_grants_json(jwt, NULL)) == NULL ||
	    (claims = json_loads(grants, 0, NULL)) == NULL ||
	    !json_is_object(claims)) {
		err = cc_diag_set(diag, CC_EAUTH, "token_claims",
		    "token claims unreadable");
		goto out;
	}
	exp = json_object_get(claims, "exp");
	iat = json_object_get(claims, "iat");
	nbf = json_object_get(claims, "nbf");
	ver = json_object_get(claims, "ver");
	if (!json_is_integer(exp) || !json_is_integer(iat) ||
	    (nbf != NULL && !json_is_integer(nbf))) {
		err = cc_diag_set(diag, CC_EAUTH, "token_claims",
		    "token exp, iat and nbf must be integers");
		goto out;
	}
	if (json_integer_value(exp) <= (json_int_t)now - AUTH_LEEWAY) {
		err = cc_diag_set(diag, CC_EAUTH, "token_expired",
		    "token expired");
		goto out;
	}
	if (json_integer_value(iat) > (json_int_t)now + AUTH_LEEWAY ||
	    (nbf != NULL &&
	    json_integer_value(nbf) > (json_int_t)now + AUTH_LEEWAY)) {
		err = cc_diag_set(diag, CC_EAUTH, "token_not_yet_valid",
		    "token not valid yet");
		goto out;
	}
	iss = str_claim(claims, "iss");
	pur = str_claim(claims, "pur");
	sub = str_claim(claims, "sub");
	jti = str_claim(claims, "jti");
	if (iss == NULL || strcmp(iss, AUTH_ISSUER) != 0 ||
	    !has_audience(json_object_get(claims, "aud")) ||
	    pur == NULL || strcmp(pur, AUTH_PURPOSE_ACCESS) != 0 ||
	    sub == NULL || !is_hex(sub, CONTROL_ID_LEN) ||
	    jti == NULL || !is_hex(jti, 32) ||
	    !json_is_integer(ver) || json_integer_value(ver) < 0) {
		err = cc_diag_set(diag, CC_EAUTH, "token_claims",
		    "token issuer, audience, purpose or subject invalid");
		goto out;
	}
	if (out != NULL) {
		memcpy(out->sub, sub, CONTROL_ID_LEN + 1);
		memcpy(out->jti, jti, 33);
		out->iat = json_integer_value(iat);
		out->exp = json_integer_value(exp);
		out->ver = json_integer_value(ver);
	}
	err = CC_OK;
out:
	json_decref(claims);
	free(grants);
	jwt_free(jwt);
	return err;
}

cc_err
auth_session_check(struct control *c, const struct auth_claims *cl,
    struct cc_user *user, struct cc_diag *diag)
{
	struct cc_user u;
	int revoked;

	if (control_user_by_id(c, cl->sub, &u) != CC_OK)
		return cc_diag_set(diag, CC_EAUTH, "user_unknown",
		    "the token's user does not exist");
	if (!u.active)
		return cc_diag_set(diag, CC_EAUTH, "user_disabled",
		    "the token's user is disabled");
	if (u.token_version != cl->ver)
		return cc_diag_set(diag, CC_EAUTH, "token_stale",
		    "the token was issued before a password change");
	revoked = control_token_revoked(c, cl->jti);
	if (revoked != 0)
		return cc_diag_set(diag, CC_EAUTH, "token_revoked",
		    "the token was revoked");
	if (user != NULL)
		*user = u;
	return CC_OK;
}
