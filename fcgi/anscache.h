/*
 * anscache.h - a worker's kept answers: the bodies of the last read
 * answers it computed (dashboards, table pages), each under the
 * workspace it was read from, a key naming the request (the caller's
 * canonical text of the route and its parameters) and the workspace
 * version it was read at (ws_cache_get(): it changes with every write
 * to workspace.db and every new model.db).  A request with the same
 * workspace, key and version is answered with the same bytes, its
 * generated_at stamp (if any) set to now.
 *
 * Memory: at most ANSCACHE_ENTRIES answers and ANSCACHE_BYTES bytes of
 * bodies per worker; the oldest kept answer goes first (round-robin).
 * One set per process: workers are processes (fcgi/server.c), and a
 * worker answers one request at a time, so nothing here is locked.
 */
#ifndef CONCORD_FCGI_ANSCACHE_H
#define CONCORD_FCGI_ANSCACHE_H

#include <stddef.h>

struct http_req;

#define ANSCACHE_ENTRIES	64
#define ANSCACHE_BYTES		(8u << 20)	/* bodies, all entries */

/* stamp_at when a body has no generated_at stamp to refresh */
#define ANSCACHE_NO_STAMP	((size_t)-1)

/* The length of the stamp written at stamp_at: util_rfc3339()'s UTC
 * form, "YYYY-MM-DDTHH:MM:SSZ". */
#define ANSCACHE_STAMP_LEN	20

struct answer {
	char		 ws[72];	/* workspace key ("" when free) */
	char		*key;		/* the caller's request text */
	long long	 version;	/* the workspace's version */
	char		*ctype;		/* Content-Type */
	char		*link;		/* a Link header's value, or NULL */
	char		*body;
	size_t		 len;		/* bytes of body */
	size_t		 stamp_at;	/* offset of generated_at's value, or
					   ANSCACHE_NO_STAMP */
};

/*
 * The kept answer for (ws, key, version), or NULL.  Borrowed: valid
 * until the next anscache_keep() or anscache_clear().
 */
const struct answer *anscache_find(const char *ws, const char *key,
	    long long version);

/*
 * Keeps an answer.  ws, key, ctype and link (NULL: none) are copied;
 * body (len bytes, malloc'd) is taken over and freed by the cache,
 * also when the answer is not kept.  stamp_at is the offset of a
 * generated_at value of ANSCACHE_STAMP_LEN bytes inside body, or
 * ANSCACHE_NO_STAMP.  An answer of more than ANSCACHE_BYTES / 8 bytes,
 * or one that cannot be copied (out of memory), is not kept; older
 * answers make room for a new one.  Returns 1 when kept, else 0.
 */
int		 anscache_keep(const char *ws, const char *key,
	    long long version, const char *ctype, const char *link,
	    char *body, size_t len, size_t stamp_at);

/*
 * Answers req with a (200, its Content-Type and Content-Length, its
 * Link header if any, plus the headers req already has) and its body,
 * generated_at set to now (util_rfc3339()).
 */
void		 anscache_send(struct http_req *req, const struct answer *a);

/*
 * The offset of the value of the last "generated_at":"..." member in
 * body (len bytes) when that value is ANSCACHE_STAMP_LEN bytes long,
 * else ANSCACHE_NO_STAMP.  The last: an answer's provenance is written
 * after its rows, and a row's text can hold the same characters only
 * before it.
 */
size_t		 anscache_stamp_at(const char *body, size_t len);

/* Frees every kept answer (tests; a worker keeps them until it ends). */
void		 anscache_clear(void);

#endif
