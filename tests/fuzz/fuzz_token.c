/*
 * fuzz_token.c - the access-token verifier (core/auth.c
 * auth_token_verify(), libjwt 1.10 and Jansson), with a fixed key and
 * clock.  The input's first byte picks the mode:
 *   0  the rest is the token as sent (Authorization: Bearer ...);
 *   1  the rest is "HEADER\nCLAIMS": both base64url-encoded here and
 *      signed with the right key (HMAC-SHA256, libsodium), so that the
 *      header and claim checks are reached with any JSON;
 *   2  the same signed with another key.
 * Invariants:
 *  - the only errors are CC_EAUTH with one of the documented diag codes;
 *  - a token signed with another key is never accepted;
 *  - an accepted token passes an independent check written here (header
 *    alg HS256; iss, aud, pur, sub, jti, ver, exp, iat, nbf as
 *    concord/auth.h states them), and the claims handed out are the
 *    token's;
 *  - in mode 1, claims that pass that check under the header
 *    {"alg":"HS256","typ":"JWT"} are accepted.
 */
#include "config.h"

#include <jansson.h>
#include <sodium.h>

#include "concord/auth.h"
#include "fuzz.h"

static const time_t NOW = 1800000000;
static unsigned char key[32], other[32];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	size_t i;

	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	for (i = 0; i < sizeof(key); i++) {
		key[i] = (unsigned char)(i * 7 + 1);
		other[i] = (unsigned char)(i * 7 + 2);
	}
	return 0;
}

static int
hex(const char *s, size_t len)
{
	size_t i;

	if (s == NULL || strlen(s) != len)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static int
str_is(json_t *o, const char *k, const char *want)
{
	json_t *v = json_object_get(o, k);

	return json_is_string(v) && strcmp(json_string_value(v), want) == 0;
}

/* The claims check of concord/auth.h, written again. */
static int
claims_ok(json_t *c)
{
	json_t *aud = json_object_get(c, "aud"), *v, *exp, *iat, *nbf, *ver;
	size_t i;
	int has = 0;

	if (!json_is_object(c))
		return 0;
	exp = json_object_get(c, "exp");
	iat = json_object_get(c, "iat");
	nbf = json_object_get(c, "nbf");
	ver = json_object_get(c, "ver");
	if (json_is_string(aud))
		has = !strcmp(json_string_value(aud), AUTH_AUDIENCE);
	json_array_foreach(aud, i, v)
		has |= json_is_string(v) &&
		    !strcmp(json_string_value(v), AUTH_AUDIENCE);
	return has && str_is(c, "iss", AUTH_ISSUER) &&
	    str_is(c, "pur", AUTH_PURPOSE_ACCESS) &&
	    json_is_string(json_object_get(c, "sub")) &&
	    hex(json_string_value(json_object_get(c, "sub")), CONTROL_ID_LEN) &&
	    json_is_string(json_object_get(c, "jti")) &&
	    hex(json_string_value(json_object_get(c, "jti")), 32) &&
	    json_is_integer(ver) && json_integer_value(ver) >= 0 &&
	    json_is_integer(exp) && json_integer_value(exp) > NOW - AUTH_LEEWAY &&
	    json_is_integer(iat) && json_integer_value(iat) <= NOW + AUTH_LEEWAY &&
	    (nbf == NULL || (json_is_integer(nbf) &&
	    json_integer_value(nbf) <= NOW + AUTH_LEEWAY));
}

static char *
b64(const void *p, size_t n)
{
	size_t sz = sodium_base64_ENCODED_LEN(n,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char *s = malloc(sz);

	if (s == NULL)
		abort();
	sodium_bin2base64(s, sz, p, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return s;
}

/* header.claims.signature, signed with k. */
static char *
sign(const char *h, size_t hn, const char *c, size_t cn,
    const unsigned char *k)
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	char *eh = b64(h, hn), *ec = b64(c, cn), *es, *t;
	size_t n = strlen(eh) + strlen(ec) + 1;

	if ((t = malloc(n + 64)) == NULL)
		abort();
	snprintf(t, n + 1, "%s.%s", eh, ec);
	crypto_auth_hmacsha256(mac, (const unsigned char *)t, n, k);
	es = b64(mac, sizeof(mac));
	strcat(t, ".");
	strcat(t, es);
	free(eh);
	free(ec);
	free(es);
	return t;
}

static void
verify(const char *token, int mode, json_t *claims, int header_plain)
{
	static const char *const codes[] = { "token_malformed",
	    "token_signature", "token_alg", "token_expired",
	    "token_not_yet_valid", "token_claims" };
	struct auth_claims cl;
	struct cc_diag d;
	size_t i;
	int known = 0;
	cc_err err;

	cc_diag_clear(&d);
	memset(&cl, 0, sizeof(cl));
	err = auth_token_verify(key, sizeof(key), token, NOW, &cl, &d);
	if (err != CC_OK) {
		FUZZ_ASSERT(err == CC_EAUTH, "%s", cc_strerror(err));
		for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
			known |= !strcmp(d.code, codes[i]);
		FUZZ_ASSERT(known, "undocumented code \"%s\"", d.code);
		FUZZ_ASSERT(!(mode == 1 && header_plain && claims_ok(claims) &&
		    strlen(token) <= 4096), "valid claims refused: %s (%s)",
		    d.code, d.message);
		return;
	}
	FUZZ_ASSERT(mode != 2, "a token signed with another key was accepted");
	FUZZ_ASSERT(hex(cl.sub, CONTROL_ID_LEN) && hex(cl.jti, 32),
	    "sub/jti handed out");
	FUZZ_ASSERT(cl.exp > NOW - AUTH_LEEWAY && cl.iat <= NOW + AUTH_LEEWAY &&
	    cl.ver >= 0, "exp/iat/ver handed out");
	if (mode == 1) {
		FUZZ_ASSERT(claims_ok(claims), "claims accepted that fail the "
		    "independent check");
		FUZZ_ASSERT(!strcmp(cl.sub, json_string_value(json_object_get(
		    claims, "sub"))) && cl.exp == json_integer_value(
		    json_object_get(claims, "exp")), "claims differ");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char plain[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
	const char *h, *c, *nl;
	json_t *claims, *hdr;
	char *s, *t;
	size_t hn, cn;
	int mode;

	if (size < 1)
		return 0;
	mode = data[0] % 3;
	s = fuzz_strndup(data + 1, size - 1);
	if (mode == 0) {
		verify(s, 0, NULL, 0);
		free(s);
		return 0;
	}
	if ((nl = memchr(s, '\n', size - 1)) != NULL) {
		h = s;
		hn = (size_t)(nl - s);
		c = nl + 1;
		cn = size - 1 - hn - 1;
	} else {
		h = plain;
		hn = sizeof(plain) - 1;
		c = s;
		cn = size - 1;
	}
	/* the oracle reads JSON as libjwt does, as a C string (up to a
	 * NUL, where json_loads() stops) */
	claims = json_loadb(c, strnlen(c, cn), 0, NULL);
	hdr = json_loadb(h, strnlen(h, hn), 0, NULL);
	t = sign(h, hn, c, cn, mode == 1 ? key : other);
	/* the header test of the oracle: exactly ours, byte for byte */
	verify(t, mode, claims, hn == sizeof(plain) - 1 &&
	    memcmp(h, plain, hn) == 0);
	if (mode == 1 && t != NULL) {
		/* an accepted token's header must say HS256 */
		struct auth_claims cl;

		if (auth_token_verify(key, sizeof(key), t, NOW, &cl, NULL) ==
		    CC_OK)
			FUZZ_ASSERT(str_is(hdr, "alg", "HS256"),
			    "accepted a header without alg HS256");
	}
	json_decref(claims);
	json_decref(hdr);
	free(t);
	free(s);
	return 0;
}
