/*
 * anscache.c - a worker's kept answers (anscache.h).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "concord/util.h"
#include "anscache.h"
#include "http.h"

static struct answer	kept[ANSCACHE_ENTRIES];
static size_t		kept_next;	/* the slot replaced next */
static size_t		kept_bytes;	/* bodies of all slots */

static void
answer_free(struct answer *a)
{
	kept_bytes -= a->len;
	free(a->key);
	free(a->ctype);
	free(a->link);
	free(a->body);
	memset(a, 0, sizeof(*a));
}

const struct answer *
anscache_find(const char *ws, const char *key, long long version)
{
	size_t i;

	for (i = 0; i < ANSCACHE_ENTRIES; i++)
		if (kept[i].body != NULL && kept[i].version == version &&
		    strcmp(kept[i].key, key) == 0 &&
		    strcmp(kept[i].ws, ws) == 0)
			return &kept[i];
	return NULL;
}

int
anscache_keep(const char *ws, const char *key, long long version,
    const char *ctype, const char *link, char *body, size_t len,
    size_t stamp_at)
{
	struct answer *a;
	size_t i;

	if (body == NULL || len > ANSCACHE_BYTES / 8 ||
	    strlen(ws) >= sizeof(a->ws) ||
	    (stamp_at != ANSCACHE_NO_STAMP &&
	    (stamp_at > len || len - stamp_at < ANSCACHE_STAMP_LEN))) {
		free(body);
		return 0;
	}
	/* the same request kept at an older version goes first */
	for (i = 0; i < ANSCACHE_ENTRIES; i++)
		if (kept[i].body != NULL && strcmp(kept[i].key, key) == 0 &&
		    strcmp(kept[i].ws, ws) == 0)
			answer_free(&kept[i]);
	a = &kept[kept_next];
	kept_next = (kept_next + 1) % ANSCACHE_ENTRIES;
	answer_free(a);
	/* then the oldest ones until the body fits */
	for (i = kept_next; kept_bytes + len > ANSCACHE_BYTES;
	    i = (i + 1) % ANSCACHE_ENTRIES)
		if (kept[i].body != NULL)
			answer_free(&kept[i]);
	snprintf(a->ws, sizeof(a->ws), "%s", ws);
	if ((a->key = strdup(key)) == NULL ||
	    (a->ctype = strdup(ctype)) == NULL ||
	    (link != NULL && (a->link = strdup(link)) == NULL)) {
		free(body);
		answer_free(a);
		return 0;
	}
	a->version = version;
	a->body = body;
	a->len = len;
	a->stamp_at = stamp_at;
	kept_bytes += len;
	return 1;
}

void
anscache_send(struct http_req *req, const struct answer *a)
{
	char ts[32];

	if (a->stamp_at != ANSCACHE_NO_STAMP) {
		util_rfc3339(time(NULL), ts, sizeof(ts));
		if (strlen(ts) == ANSCACHE_STAMP_LEN)
			memcpy(a->body + a->stamp_at, ts, ANSCACHE_STAMP_LEN);
	}
	if (a->link != NULL)
		http_add_header(req, "Link: %s", a->link);
	http_begin(req, 200, a->ctype, (long long)a->len);
	if (strcmp(req->method, "HEAD") != 0)
		http_write(req, a->body, a->len);
}

size_t
anscache_stamp_at(const char *body, size_t len)
{
	static const char key[] = "\"generated_at\":\"";
	const size_t klen = sizeof(key) - 1;
	size_t i;

	if (len < klen + ANSCACHE_STAMP_LEN + 1)
		return ANSCACHE_NO_STAMP;
	for (i = len - klen - ANSCACHE_STAMP_LEN - 1;; i--) {
		if (body[i] == '"' && memcmp(body + i, key, klen) == 0) {
			if (body[i + klen + ANSCACHE_STAMP_LEN] != '"')
				return ANSCACHE_NO_STAMP;
			return i + klen;
		}
		if (i == 0)
			return ANSCACHE_NO_STAMP;
	}
}

void
anscache_clear(void)
{
	size_t i;

	for (i = 0; i < ANSCACHE_ENTRIES; i++)
		answer_free(&kept[i]);
	kept_next = 0;
	kept_bytes = 0;
}
