/*
 * authcache.c - the workers' memory of checked tokens (fcgi/authcache.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "authcache.h"

struct ws_kept {
	int			used;		/* 0: empty */
	char			sel[AUTHCACHE_SEL_MAX + 1];
	struct ws_access	ws;
};

struct entry {
	unsigned long long	used;		/* 0: empty; else LRU clock */
	unsigned char		digest[crypto_generichash_BYTES];
	long long		gen[2];
	struct auth_claims	claims;
	struct cc_user		user;
	struct ws_kept		ws[AUTHCACHE_WS];
	int			ws_next;	/* the next to replace */
};

struct authcache {
	int			n;
	unsigned long long	clock;
	unsigned char		key[crypto_generichash_KEYBYTES];
	struct entry		e[];
};

cc_err
authcache_new(int n, struct authcache **out)
{
	struct authcache *c;

	*out = NULL;
	if (n < 1 || n > 4096)
		return CC_EINVAL;
	if ((c = calloc(1, sizeof(*c) + (size_t)n * sizeof(c->e[0]))) == NULL)
		return CC_ENOMEM;
	c->n = n;
	crypto_generichash_keygen(c->key);
	*out = c;
	return CC_OK;
}

void
authcache_free(struct authcache *c)
{
	if (c == NULL)
		return;
	/* tokens are secrets; what is kept of them too */
	sodium_memzero(c, sizeof(*c) + (size_t)c->n * sizeof(c->e[0]));
	free(c);
}

static void
digest_of(const struct authcache *c, const char *token,
    unsigned char d[crypto_generichash_BYTES])
{
	crypto_generichash(d, crypto_generichash_BYTES,
	    (const unsigned char *)token, strlen(token), c->key, sizeof(c->key));
}

int
authcache_get(struct authcache *c, const char *token, const long long gen[2],
    time_t now, struct auth_claims *claims, struct cc_user *user)
{
	unsigned char d[crypto_generichash_BYTES];
	struct entry *e;
	int i, hit = -1;

	if (c == NULL || token == NULL)
		return -1;
	digest_of(c, token, d);
	/* every entry is compared, in constant time each */
	for (i = 0; i < c->n; i++)
		if (c->e[i].used != 0 &&
		    sodium_memcmp(c->e[i].digest, d, sizeof(d)) == 0)
			hit = i;
	if (hit < 0)
		return -1;
	e = &c->e[hit];
	if (e->gen[0] != gen[0] || e->gen[1] != gen[1] ||
	    e->claims.exp <= (long long)now - AUTH_LEEWAY) {
		/* read again by the caller, and put back if still good */
		return -1;
	}
	e->used = ++c->clock;
	*claims = e->claims;
	*user = e->user;
	return hit;
}

int
authcache_put(struct authcache *c, const char *token, const long long gen[2],
    const struct auth_claims *claims, const struct cc_user *user)
{
	unsigned char d[crypto_generichash_BYTES];
	struct entry *e = NULL;
	int i, slot = 0;

	if (c == NULL || token == NULL)
		return -1;
	digest_of(c, token, d);
	for (i = 0; i < c->n; i++) {
		if (c->e[i].used != 0 &&
		    sodium_memcmp(c->e[i].digest, d, sizeof(d)) == 0) {
			slot = i;
			break;
		}
		if (c->e[i].used < c->e[slot].used)
			slot = i;
	}
	e = &c->e[slot];
	/* a new generation: what was resolved before may be stale */
	memset(e, 0, sizeof(*e));
	memcpy(e->digest, d, sizeof(d));
	e->gen[0] = gen[0];
	e->gen[1] = gen[1];
	e->claims = *claims;
	e->user = *user;
	e->used = ++c->clock;
	return slot;
}

static const char *
sel_text(const char *sel)
{
	return sel != NULL ? sel : "";
}

int
authcache_ws_get(struct authcache *c, int slot, const char *sel,
    struct ws_access *out)
{
	struct entry *e;
	int i;

	if (c == NULL || slot < 0 || slot >= c->n)
		return 0;
	e = &c->e[slot];
	for (i = 0; i < AUTHCACHE_WS; i++)
		if (e->ws[i].used && strcmp(e->ws[i].sel, sel_text(sel)) == 0) {
			*out = e->ws[i].ws;
			return 1;
		}
	return 0;
}

void
authcache_ws_put(struct authcache *c, int slot, const char *sel,
    const struct ws_access *ws)
{
	struct ws_kept *k;
	struct entry *e;

	if (c == NULL || slot < 0 || slot >= c->n ||
	    strlen(sel_text(sel)) > AUTHCACHE_SEL_MAX)
		return;
	e = &c->e[slot];
	k = &e->ws[e->ws_next];
	e->ws_next = (e->ws_next + 1) % AUTHCACHE_WS;
	k->used = 1;
	memcpy(k->sel, sel_text(sel), strlen(sel_text(sel)) + 1);
	k->ws = *ws;
}
