/*
 * keymap.c - a hash map of byte-string keys to 64-bit integers, for the
 * run's phases (pipeline_int.h): open addressing with linear probing
 * (Knuth, TAOCP vol. 3, 6.4, algorithm L), FNV-1a 64-bit hashes
 * (Fowler, Noll, Vo; draft-eastlake-fnv), at most half full.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "concord/util.h"

#include "pipeline_int.h"

struct keyent {
	char		*key;		/* NULL: empty */
	size_t		 len;
	uint64_t	 hash;
	long long	 value;
};

struct keymap {
	struct keyent	*t;
	size_t		 cap;		/* a power of two */
	size_t		 n;
};


struct keymap *
keymap_new(void)
{
	struct keymap *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->cap = 64;
	if ((m->t = calloc(m->cap, sizeof(*m->t))) == NULL) {
		free(m);
		return NULL;
	}
	return m;
}

void
keymap_free(struct keymap *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->cap; i++)
		free(m->t[i].key);
	free(m->t);
	free(m);
}

static struct keyent *
find(const struct keymap *m, const void *key, size_t len, uint64_t h)
{
	size_t i = (size_t)h & (m->cap - 1);

	for (;; i = (i + 1) & (m->cap - 1)) {
		struct keyent *e = &m->t[i];
		if (e->key == NULL || (e->hash == h && e->len == len &&
		    memcmp(e->key, key, len) == 0))
			return e;
	}
}

static int
grow(struct keymap *m)
{
	struct keyent *old = m->t, *e;
	size_t i, oldcap = m->cap;

	if ((m->t = calloc(oldcap * 2, sizeof(*m->t))) == NULL) {
		m->t = old;
		return -1;
	}
	m->cap = oldcap * 2;
	for (i = 0; i < oldcap; i++)
		if (old[i].key != NULL) {
			e = find(m, old[i].key, old[i].len, old[i].hash);
			*e = old[i];
		}
	free(old);
	return 0;
}

long long *
keymap_slot(struct keymap *m, const void *key, size_t len)
{
	uint64_t h = util_fnv1a64(key, len);
	struct keyent *e = find(m, key, len, h);

	if (e->key != NULL)
		return &e->value;
	if ((m->n + 1) * 2 > m->cap) {
		if (grow(m) != 0)
			return NULL;
		e = find(m, key, len, h);
	}
	/* one byte more, so that an empty key is not a NULL pointer */
	if ((e->key = malloc(len + 1)) == NULL)
		return NULL;
	memcpy(e->key, key, len);
	e->key[len] = '\0';
	e->len = len;
	e->hash = h;
	e->value = 0;
	m->n++;
	return &e->value;
}

const long long *
keymap_get(const struct keymap *m, const void *key, size_t len)
{
	const struct keyent *e = find(m, key, len, util_fnv1a64(key, len));

	return e->key != NULL ? &e->value : NULL;
}
