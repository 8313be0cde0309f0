/*
 * fcgi/authcache.h - a worker's memory of the access tokens it checked
 * and of the workspaces they resolved, so that a repeated request skips
 * the HMAC check, the JSON of the claims and the control.db look-ups
 * (user, revocation, membership) when nothing can have changed.
 *
 * An entry is found by a keyed BLAKE2b digest of the whole token (the key
 * is random per cache, so neither an entry's place nor a comparison's
 * time tells anything about a token; digests are compared in constant
 * time with sodium_memcmp()).  It holds what auth_token_verify() and
 * auth_session_check() returned, and for up to AUTHCACHE_WS selectors
 * what team_resolve() returned, together with the control.db generation
 * they were read at (control_generation()).  An entry serves only a
 * request that sees the same generation: a revocation, a password change,
 * a disabled user or a membership change (by any process) moves the
 * generation, and every entry is checked again on its next use.  The
 * token's expiry is checked again on every hit (the one claim that
 * depends on the clock alone: iat and nbf were in the past once and stay
 * there).  Only successes are kept, never a refusal.  One cache per
 * worker, not shared between threads.
 */
#ifndef CONCORD_FCGI_AUTHCACHE_H
#define CONCORD_FCGI_AUTHCACHE_H

#include <time.h>

#include "concord/auth.h"
#include "concord/control.h"
#include "concord/error.h"
#include "concord/teams.h"

#define AUTHCACHE_WS		4	/* selectors kept per token */
#define AUTHCACHE_SEL_MAX	64	/* longer selectors are not kept */

struct authcache;

/*
 * A cache of n entries (1..4096; least recently used goes first).
 * *out is freed with authcache_free().  Errors: CC_EINVAL (n out of
 * range), CC_ENOMEM.
 */
cc_err	authcache_new(int n, struct authcache **out);
void	authcache_free(struct authcache *c);	/* NULL is fine */

/*
 * Looks token (NUL-terminated, as sent) up.  On a hit (an entry for
 * exactly this token, read at generation gen, whose exp is later than
 * now - AUTH_LEEWAY) fills *claims and *user and returns the entry's slot
 * (>= 0) for authcache_ws_get()/authcache_ws_put(); else -1 and changes
 * nothing.  gen is control_generation()'s pair for this request.
 */
int	authcache_get(struct authcache *c, const char *token,
	    const long long gen[2], time_t now, struct auth_claims *claims,
	    struct cc_user *user);

/*
 * Keeps a token that auth_token_verify() and auth_session_check() both
 * accepted at generation gen (claims and user are copied).  Returns its
 * slot (>= 0), or -1 when c is NULL.
 */
int	authcache_put(struct authcache *c, const char *token,
	    const long long gen[2], const struct auth_claims *claims,
	    const struct cc_user *user);

/*
 * The workspace selector sel (NULL for none: the personal workspace)
 * resolved for the token in slot: 1 and *out filled when it was kept,
 * else 0.  A slot is valid for the request that got it.
 */
int	authcache_ws_get(struct authcache *c, int slot, const char *sel,
	    struct ws_access *out);

/* Keeps what team_resolve() returned for sel in slot (a longer selector
 * than AUTHCACHE_SEL_MAX is not kept; the oldest of AUTHCACHE_WS goes). */
void	authcache_ws_put(struct authcache *c, int slot, const char *sel,
	    const struct ws_access *ws);

#endif
