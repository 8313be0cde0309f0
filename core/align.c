/*
 * align.c - key alignment: learns from two columns of key values how one
 * system writes the other system's key (see concord/align.h for the rule
 * model, the learning algorithm, the scores and the order of rules).
 *
 * Layout of this file: tables; byte helpers; slicing and normalising one
 * key; hash sets (a hash-only index for the votes, a string set with
 * counters for the scoring); per-side preparation (distinct values,
 * sample, self slices, index); votes; scoring; the public functions.
 */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "concord/align.h"
#include "concord/error.h"
#include "concord/util.h"

#define ALIGN_SELF_MAX		8	/* self slices per side */
#define ALIGN_DIGITS_SHARE	0.8	/* values with a digit, for DIGITS */
#define ALIGN_CHUNK		65536	/* arena chunk bytes */
#define ALIGN_SMALL_RATIO	8	/* F this many times smaller: F first */

/* Names of the slice kinds, indexed by enum align_slice. */
static const char *const align_slice_names[ALIGN_SLICE__MAX] = {
	"none",			/* ALIGN_SLICE_NONE */
	"strip_prefix",		/* ALIGN_SLICE_STRIP_PREFIX */
	"strip_suffix",		/* ALIGN_SLICE_STRIP_SUFFIX */
	"take_chars",		/* ALIGN_SLICE_TAKE_CHARS */
	"take_tokens",		/* ALIGN_SLICE_TAKE_TOKENS */
	"drop_chars",		/* ALIGN_SLICE_DROP_CHARS */
	"drop_tokens",		/* ALIGN_SLICE_DROP_TOKENS */
};

/* Simplicity cost of a slice kind (lower is simpler). */
static const int align_slice_cost[ALIGN_SLICE__MAX] = {
	0,			/* ALIGN_SLICE_NONE */
	2,			/* ALIGN_SLICE_STRIP_PREFIX */
	2,			/* ALIGN_SLICE_STRIP_SUFFIX */
	3,			/* ALIGN_SLICE_TAKE_CHARS */
	2,			/* ALIGN_SLICE_TAKE_TOKENS */
	3,			/* ALIGN_SLICE_DROP_CHARS */
	2,			/* ALIGN_SLICE_DROP_TOKENS */
};

/* Names of the normalisations, indexed by enum align_norm. */
static const char *const align_norm_names[ALIGN_NORM__MAX] = {
	"exact",		/* ALIGN_NORM_EXACT */
	"casefold",		/* ALIGN_NORM_CASEFOLD */
	"alnum",		/* ALIGN_NORM_ALNUM */
	"digits",		/* ALIGN_NORM_DIGITS */
};

/* Simplicity cost of a normalisation: DIGITS is the lossiest. */
static const int align_norm_cost[ALIGN_NORM__MAX] = {
	0,			/* ALIGN_NORM_EXACT */
	1,			/* ALIGN_NORM_CASEFOLD */
	2,			/* ALIGN_NORM_ALNUM */
	5,			/* ALIGN_NORM_DIGITS */
};

/* How the description says a normalisation. */
static const char *const align_norm_phrases[ALIGN_NORM__MAX] = {
	"compare exactly",					/* EXACT */
	"compare ignoring case",				/* CASEFOLD */
	"compare ignoring case and separators",			/* ALNUM */
	"compare the digits only, ignoring leading zeros",	/* DIGITS */
};

/* ---------------------------------------------------------------- bytes */

/* 1 if c is a token separator: - _ . / space tab. */
static int
align_is_sep(unsigned char c)
{
	return c == '-' || c == '_' || c == '.' || c == '/' || c == ' ' ||
	    c == '\t';
}

/* 1 if c is ASCII white space. */
static int
align_is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
	    c == '\v' || c == '\f';
}

/* 1 if c is a UTF-8 continuation byte (not the start of a character). */
static int
align_is_cont(unsigned char c)
{
	return (c & 0xc0) == 0x80;
}

/* 1 if c is an ASCII digit. */
static int
align_is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* ASCII upper case. */
static unsigned char
align_upper(unsigned char c)
{
	return c >= 'a' && c <= 'z' ? (unsigned char)(c - 'a' + 'A') : c;
}

/* Character class for boundaries: 0 separator, 1 digit, 2 letter (ASCII
 * letters and every non-ASCII byte), 3 anything else. */
static int
align_class(unsigned char c)
{
	if (align_is_sep(c))
		return 0;
	if (align_is_digit(c))
		return 1;
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80)
		return 2;
	return 3;
}

/*
 * 1 if a cut of s[0..len) before byte cut falls on a boundary: at an end,
 * or between bytes of different classes ("CO-RF|-FR", "AW|00011000"), but
 * not inside a run ("CLI_028|0").  A piece cut on a boundary is an
 * embedded key; one cut inside a run is a truncation.
 */
static int
align_boundary(const char *s, size_t len, size_t cut)
{
	if (cut == 0 || cut >= len)
		return 1;
	return align_class((unsigned char)s[cut - 1]) !=
	    align_class((unsigned char)s[cut]);
}

/* Number of characters (non-continuation bytes) in s[0..len). */
static unsigned
align_nchars(const char *s, size_t len)
{
	size_t i;
	unsigned n = 0;

	for (i = 0; i < len; i++)
		if (!align_is_cont((unsigned char)s[i]))
			n++;
	return n;
}

/* Number of separators in s[0..len). */
static unsigned
align_nseps(const char *s, size_t len)
{
	size_t i;
	unsigned n = 0;

	for (i = 0; i < len; i++)
		if (align_is_sep((unsigned char)s[i]))
			n++;
	return n;
}

/*
 * 1 if s[0..len) is valid UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF).  With nocontrol, ASCII control
 * bytes (below 0x20, 0x7f) are refused as well.
 */
static int
align_utf8_ok(const char *s, size_t len, int nocontrol)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k, need;
	unsigned char lo, hi;

	while (i < len) {
		if (p[i] < 0x80) {
			if (nocontrol && (p[i] < 0x20 || p[i] == 0x7f))
				return 0;
			i++;
			continue;
		}
		lo = 0x80;
		hi = 0xbf;
		if (p[i] >= 0xc2 && p[i] <= 0xdf)
			need = 1;
		else if (p[i] >= 0xe0 && p[i] <= 0xef) {
			need = 2;
			if (p[i] == 0xe0)
				lo = 0xa0;
			else if (p[i] == 0xed)
				hi = 0x9f;
		} else if (p[i] >= 0xf0 && p[i] <= 0xf4) {
			need = 3;
			if (p[i] == 0xf0)
				lo = 0x90;
			else if (p[i] == 0xf4)
				hi = 0x8f;
		} else
			return 0;
		if (len - i <= need)
			return 0;
		if (p[i + 1] < lo || p[i + 1] > hi)
			return 0;
		for (k = 2; k <= need; k++)
			if (!align_is_cont(p[i + k]))
				return 0;
		i += need + 1;
	}
	return 1;
}

/* ------------------------------------------------------ one key: canon */

/*
 * Cuts key[0..len) by side's slice: the piece is key[*off .. *off+*plen).
 * Returns 1, or 0 when the key yields nothing (empty piece).
 */
static int
align_slice_apply(const struct align_side *s, const char *key, size_t len,
    size_t *off, size_t *plen)
{
	size_t i, alen;
	unsigned k;

	*off = 0;
	*plen = len;
	switch (s->slice) {
	case ALIGN_SLICE_NONE:
		break;
	case ALIGN_SLICE_STRIP_PREFIX:
		alen = strnlen(s->affix, sizeof(s->affix));
		if (alen > 0 && alen <= len && memcmp(key, s->affix, alen) == 0) {
			*off = alen;
			*plen = len - alen;
		}
		break;
	case ALIGN_SLICE_STRIP_SUFFIX:
		alen = strnlen(s->affix, sizeof(s->affix));
		if (alen > 0 && alen <= len &&
		    memcmp(key + len - alen, s->affix, alen) == 0)
			*plen = len - alen;
		break;
	case ALIGN_SLICE_TAKE_CHARS:
	case ALIGN_SLICE_DROP_CHARS:
		/* i = byte offset of character number n (0-based). */
		for (i = 0, k = 0; i < len; i++) {
			if (align_is_cont((unsigned char)key[i]))
				continue;
			if (k == s->n)
				break;
			k++;
		}
		if (s->slice == ALIGN_SLICE_TAKE_CHARS)
			*plen = i;
		else {
			*off = i;
			*plen = len - i;
		}
		break;
	case ALIGN_SLICE_TAKE_TOKENS:
	case ALIGN_SLICE_DROP_TOKENS:
		/* i = byte offset of separator number n (1-based), or len. */
		i = len;
		if (s->n > 0) {
			for (i = 0, k = 0; i < len; i++)
				if (align_is_sep((unsigned char)key[i]) &&
				    ++k == s->n)
					break;
		}
		if (s->slice == ALIGN_SLICE_TAKE_TOKENS)
			*plen = s->n == 0 ? 0 : i;
		else if (s->n == 0)
			break;
		else if (i >= len)
			*plen = 0;
		else {
			*off = i + 1;
			*plen = len - i - 1;
		}
		break;
	default:
		*plen = 0;
		break;
	}
	return *plen > 0;
}

/*
 * Normalises p[0..len) by norm into out like snprintf (at most outsize - 1
 * bytes and a NUL when outsize > 0).  Returns the full length of the
 * normal form, 0 when nothing is left.
 */
static size_t
align_norm_apply(enum align_norm norm, const char *p, size_t len, char *out,
    size_t outsize)
{
	size_t i, w = 0;
	unsigned char c;
	int zero = 0;

	/* One loop per normalisation: this runs for every piece of every
	 * key, so the choice is made once per call, not once per byte. */
	switch (norm) {
	case ALIGN_NORM_EXACT:
		w = len;
		if (outsize > 0)
			memcpy(out, p, len < outsize ? len : outsize - 1);
		break;
	case ALIGN_NORM_CASEFOLD:
		for (i = 0; i < len && i + 1 < outsize; i++)
			out[i] = (char)align_upper((unsigned char)p[i]);
		w = len;
		break;
	case ALIGN_NORM_ALNUM:
		for (i = 0; i < len; i++) {
			c = (unsigned char)p[i];
			if (align_is_sep(c) || align_is_space(c))
				continue;
			if (w + 1 < outsize)
				out[w] = (char)align_upper(c);
			w++;
		}
		break;
	case ALIGN_NORM_DIGITS:
		for (i = 0; i < len; i++) {
			c = (unsigned char)p[i];
			if (!align_is_digit(c))
				continue;
			if (w == 0 && c == '0') {
				zero = 1;
				continue;
			}
			if (w + 1 < outsize)
				out[w] = (char)c;
			w++;
		}
		if (w == 0 && zero) {
			if (outsize > 1)
				out[0] = '0';
			w = 1;
		}
		break;
	default:
		break;
	}
	if (outsize > 0)
		out[w < outsize ? w : outsize - 1] = '\0';
	return w;
}

/* ------------------------------------------------------------- hashing */

/* splitmix64's finaliser: spreads FNV's low bits over the word. */
static uint64_t
align_mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/* FNV-1a 64 of s[0..len), mixed.  Deterministic across runs. */
static uint64_t
align_hash(const char *s, size_t len)
{
	return align_mix(util_fnv1a64(s, len));
}

/* The bit of a self slice number si and normalisation norm in an index
 * entry's mask (ALIGN_SELF_MAX * ALIGN_NORM__MAX <= 32). */
typedef char align_bits_fit[ALIGN_SELF_MAX * ALIGN_NORM__MAX <= 32 ? 1 : -1];

static uint32_t
align_bit(size_t si, enum align_norm norm)
{
	return (uint32_t)1 << (si * ALIGN_NORM__MAX + (size_t)norm);
}

/*
 * A map from the 64-bit hash of a canonical form to the mask of the
 * (self slice, normalisation) pairs that make it (open addressing,
 * linear probing).  A form made under several pairs ("11000" is the same
 * exactly, case-folded and alphanumeric) is one entry.  A false positive
 * (two forms with one hash) only adds a vote, which the exact scoring
 * then checks.
 */
struct align_hidx {
	uint64_t	*slots;		/* hash, never 0; 0 = empty */
	uint32_t	*masks;		/* align_bit()s of the entry */
	size_t		 mask;		/* capacity - 1, or 0 when empty */
	size_t		 n;
};

/* Sizes the empty x for about n hashes.  Errors: CC_ENOMEM. */
static cc_err
align_hidx_reserve(struct align_hidx *x, size_t n)
{
	size_t cap = 1024;

	while (cap < n * 2 && cap < SIZE_MAX / 32)
		cap *= 2;
	if ((x->slots = calloc(cap, sizeof(*x->slots))) == NULL ||
	    (x->masks = calloc(cap, sizeof(*x->masks))) == NULL) {
		free(x->slots);
		x->slots = NULL;
		return CC_ENOMEM;
	}
	x->mask = cap - 1;
	x->n = 0;
	return CC_OK;
}

/* Adds bit to the entry of h (0 is taken as 1) in the reserved x; *slot
 * (may be NULL) gets the entry's slot, valid until the next add.
 * Errors: CC_ENOMEM. */
static cc_err
align_hidx_add(struct align_hidx *x, uint64_t h, uint32_t bit, size_t *slot)
{
	uint64_t *ns;
	uint32_t *nm;
	size_t ncap, i, j;

	if (h == 0)
		h = 1;
	for (i = h & x->mask; x->slots[i] != 0; i = (i + 1) & x->mask)
		if (x->slots[i] == h) {
			x->masks[i] |= bit;
			if (slot != NULL)
				*slot = i;
			return CC_OK;
		}
	if ((x->n + 1) * 2 > x->mask + 1) {
		ncap = (x->mask + 1) * 2;
		if ((ns = calloc(ncap, sizeof(*ns))) == NULL ||
		    (nm = calloc(ncap, sizeof(*nm))) == NULL) {
			free(ns);
			return CC_ENOMEM;
		}
		for (i = 0; i <= x->mask; i++) {
			if (x->slots[i] == 0)
				continue;
			for (j = x->slots[i] & (ncap - 1); ns[j] != 0;
			    j = (j + 1) & (ncap - 1))
				;
			ns[j] = x->slots[i];
			nm[j] = x->masks[i];
		}
		free(x->slots);
		free(x->masks);
		x->slots = ns;
		x->masks = nm;
		x->mask = ncap - 1;
		for (i = h & x->mask; x->slots[i] != 0; i = (i + 1) & x->mask)
			;
	}
	x->slots[i] = h;
	x->masks[i] = bit;
	x->n++;
	if (slot != NULL)
		*slot = i;
	return CC_OK;
}

/* The mask of h's entry in x, 0 when h is not there. */
static uint32_t
align_hidx_get(const struct align_hidx *x, uint64_t h)
{
	size_t i;

	if (x->slots == NULL)
		return 0;
	if (h == 0)
		h = 1;
	for (i = h & x->mask; x->slots[i] != 0; i = (i + 1) & x->mask)
		if (x->slots[i] == h)
			return x->masks[i];
	return 0;
}

/* One string of a set, with two counters for the user of the set. */
struct align_item {
	const char	*s;		/* not NUL-terminated */
	size_t		 len;
	uint64_t	 hash;
	long long	 a, b;
};

/* A block of the arena that holds a set's copies of strings. */
struct align_chunk {
	struct align_chunk	*next;
	size_t			 used, size;
	char			 data[];
};

/*
 * A set of byte strings in order of insertion (items[0..n)), found by
 * hash.  With copy set, the set owns copies of the strings; otherwise it
 * points into the caller's memory.  Iteration goes over items, so nothing
 * depends on the hash order.
 */
struct align_set {
	size_t			*slots;	/* item index + 1; 0 = empty */
	size_t			 mask;
	struct align_item	*items;
	size_t			 n, cap;
	struct align_chunk	*chunks;
	int			 copy;
};

/* Empties st and frees the copies of strings, keeping the tables. */
static void
align_set_reset(struct align_set *st)
{
	struct align_chunk *c, *next;

	for (c = st->chunks; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	st->chunks = NULL;
	if (st->slots != NULL)
		memset(st->slots, 0, (st->mask + 1) * sizeof(*st->slots));
	st->n = 0;
}

/* Frees everything st holds; st can be used again (empty). */
static void
align_set_free(struct align_set *st)
{
	align_set_reset(st);
	free(st->slots);
	free(st->items);
	st->slots = NULL;
	st->items = NULL;
	st->mask = 0;
	st->cap = 0;
}

/* A copy of s[0..len) in st's arena, or NULL when memory runs out. */
static const char *
align_set_copy(struct align_set *st, const char *s, size_t len)
{
	struct align_chunk *c = st->chunks;
	size_t size;
	char *p;

	if (c == NULL || c->size - c->used < len + 1) {
		size = len + 1 > ALIGN_CHUNK / 4 ? len + 1 : ALIGN_CHUNK;
		if ((c = malloc(sizeof(*c) + size)) == NULL)
			return NULL;
		c->used = 0;
		c->size = size;
		if (size == ALIGN_CHUNK || st->chunks == NULL) {
			c->next = st->chunks;
			st->chunks = c;
		} else {
			/* A big string: keep the current chunk in front. */
			c->next = st->chunks->next;
			st->chunks->next = c;
		}
	}
	p = c->data + c->used;
	memcpy(p, s, len);
	p[len] = '\0';
	c->used += len + 1;
	return p;
}

/* Index of s[0..len) (hash h) in st, or SIZE_MAX. */
static size_t
align_set_find(const struct align_set *st, const char *s, size_t len,
    uint64_t h)
{
	const struct align_item *it;
	size_t i;

	if (st->slots == NULL)
		return SIZE_MAX;
	for (i = h & st->mask; st->slots[i] != 0; i = (i + 1) & st->mask) {
		it = &st->items[st->slots[i] - 1];
		if (it->hash == h && it->len == len &&
		    memcmp(it->s, s, len) == 0)
			return st->slots[i] - 1;
	}
	return SIZE_MAX;
}

/*
 * Adds s[0..len) (hash h) to st unless it is there; *idx gets its index
 * and *isnew 1 if it was added (counters 0).  Errors: CC_ENOMEM.
 */
static cc_err
align_set_add(struct align_set *st, const char *s, size_t len, uint64_t h,
    size_t *idx, int *isnew)
{
	struct align_item *ni;
	size_t *ns, cap, ncap, i, j;

	*isnew = 0;
	if ((*idx = align_set_find(st, s, len, h)) != SIZE_MAX)
		return CC_OK;
	cap = st->slots == NULL ? 0 : st->mask + 1;
	if ((st->n + 1) * 2 > cap) {
		ncap = cap == 0 ? 256 : cap * 2;
		if ((ns = calloc(ncap, sizeof(*ns))) == NULL)
			return CC_ENOMEM;
		for (i = 0; i < st->n; i++) {
			for (j = st->items[i].hash & (ncap - 1); ns[j] != 0;
			    j = (j + 1) & (ncap - 1))
				;
			ns[j] = i + 1;
		}
		free(st->slots);
		st->slots = ns;
		st->mask = ncap - 1;
	}
	if (st->n == st->cap) {
		ncap = st->cap == 0 ? 256 : st->cap * 2;
		if ((ni = realloc(st->items, ncap * sizeof(*ni))) == NULL)
			return CC_ENOMEM;
		st->items = ni;
		st->cap = ncap;
	}
	if (st->copy && (s = align_set_copy(st, s, len)) == NULL)
		return CC_ENOMEM;
	for (i = h & st->mask; st->slots[i] != 0; i = (i + 1) & st->mask)
		;
	st->items[st->n].s = s;
	st->items[st->n].len = len;
	st->items[st->n].hash = h;
	st->items[st->n].a = 0;
	st->items[st->n].b = 0;
	st->slots[i] = st->n + 1;
	*idx = st->n++;
	*isnew = 1;
	return CC_OK;
}

/* ------------------------------------------------------------ learning */

/* One side of the input, prepared for learning. */
struct align_vals {
	struct align_set	 set;		/* distinct raw values, no copy */
	size_t			 maxlen;	/* longest value, bytes */
	int			 digits;	/* mostly digit-bearing */
	int			 lower;		/* a value has a-z */
	int			 sep;		/* ... a separator or space */
	size_t			*sample;	/* indexes into set.items */
	size_t			 nsample;
	struct align_side	 self[ALIGN_SELF_MAX];
	size_t			 nself;
};

/* A column prepared once (align_column_new()) for any number of pairs:
 * its values and self slices, and its index for each way DIGITS can go
 * (built at the first pair that needs it). */
struct align_column {
	struct align_vals	 v;
	struct align_hidx	 idx[2];	/* [1]: with DIGITS */
	int			 built[2];
	char			*buf;		/* maxlen + 2 bytes */
	pthread_mutex_t		 mu;		/* built[], idx[], buf: two
						   threads may learn pairs of
						   the same column at once */
};

/* A candidate pair of slices and its votes. */
struct align_cand {
	struct align_side	 side[2];	/* [0] from, [1] to; norm unused */
	unsigned		 normmask;	/* 1 << norm that voted */
	long long		 votes;		/* sample values, once each */
	unsigned long long	 last;		/* last voter */
};

/* A scored rule. */
struct align_score {
	struct align_side	 side[2];
	long long		 matched;	/* distinct F values */
	long long		 matched_ok;	/* ... via one-to-one forms */
	long long		 to_matched;	/* distinct T values (final) */
	long long		 canon;		/* forms hit by both sides */
	long long		 canon_ok;	/* of which one unit each side */
	int			 dense;		/* forms too short to be chance-free */
	int			 pass;		/* guard */
	int			 cost;
};

/* Everything align_learn() works with. */
struct align_ctx {
	const struct align_vals	*v[2];		/* [0] from, [1] to */
	const struct align_hidx	*idx[2];	/* their indexes */
	int			 normok[ALIGN_NORM__MAX];
	const int		*twin;		/* [norm]: makes EXACT's forms */
	char			*buf, *base;	/* maxlen + 2 bytes each */
	struct align_cand	*cands;
	size_t			 ncands, capcands;
	struct align_set	 candkeys;	/* serialised pairs, copy */
	unsigned long long	 voter;
	struct align_set	 canon;		/* scoring: forms, copy */
	struct align_set	 units[2];	/* scoring: TAKE pieces */
	size_t			*fform;		/* scoring: F value -> form */
	struct align_side	 tkey;		/* T side canon was built for */
	int			 tvalid;
	uint64_t		 tlens;		/* align_lenbit()s of canon */
	struct align_set	 fset;		/* small F: its forms, copy */
	struct align_set	 sunits[2];	/* small F: TAKE pieces */
	struct align_score	*trials;	/* pairs to score */
	size_t			 ntrials, captrials;
};

/* 1 if the slice extracts an embedded key (the side's units are pieces). */
static int
align_is_take(enum align_slice s)
{
	return s == ALIGN_SLICE_TAKE_CHARS || s == ALIGN_SLICE_TAKE_TOKENS;
}

/* Total order on sides: kind, n, affix, normalisation. */
static int
align_side_cmp(const struct align_side *x, const struct align_side *y)
{
	int c;

	if (x->slice != y->slice)
		return x->slice < y->slice ? -1 : 1;
	if (x->n != y->n)
		return x->n < y->n ? -1 : 1;
	if ((c = strcmp(x->affix, y->affix)) != 0)
		return c < 0 ? -1 : 1;
	if (x->norm != y->norm)
		return x->norm < y->norm ? -1 : 1;
	return 0;
}

/* Sets *s to the slice kind with n or affix s[0..alen). */
static void
align_side_set(struct align_side *s, enum align_slice kind, unsigned n,
    const char *affix, size_t alen)
{
	memset(s, 0, sizeof(*s));
	s->slice = kind;
	s->n = n;
	if (affix != NULL && alen < sizeof(s->affix))
		memcpy(s->affix, affix, alen);
}

/*
 * Reads one side: distinct non-empty values, longest length, whether it
 * is mostly digit-bearing, and the sample (every k-th distinct value).
 * Errors: CC_ENOMEM.
 */
static cc_err
align_vals_load(struct align_vals *v, const char *const *vals, size_t n)
{
	size_t i, idx, len, withdigit = 0, step;
	int isnew;
	cc_err err;

	for (i = 0; i < n; i++) {
		if (vals[i] == NULL || vals[i][0] == '\0')
			continue;
		len = strlen(vals[i]);
		if ((err = align_set_add(&v->set, vals[i], len,
		    align_hash(vals[i], len), &idx, &isnew)) != CC_OK)
			return err;
		if (!isnew)
			continue;
		if (len > v->maxlen)
			v->maxlen = len;
		if (strpbrk(vals[i], "0123456789") != NULL)
			withdigit++;
		if (!v->lower && strpbrk(vals[i],
		    "abcdefghijklmnopqrstuvwxyz") != NULL)
			v->lower = 1;
		if (!v->sep && strpbrk(vals[i], "-_./ \t\n\r\v\f") != NULL)
			v->sep = 1;
	}
	v->digits = v->set.n > 0 &&
	    (double)withdigit >= ALIGN_DIGITS_SHARE * (double)v->set.n;
	if (v->set.n == 0)
		return CC_OK;
	step = (v->set.n + ALIGN_SAMPLE_MAX - 1) / ALIGN_SAMPLE_MAX;
	if ((v->sample = calloc(v->set.n / step + 1, sizeof(*v->sample))) ==
	    NULL)
		return CC_ENOMEM;
	for (i = 0; i < v->set.n; i += step)
		v->sample[v->nsample++] = i;
	return CC_OK;
}

/* Adds the slice to v's self slices unless present or full. */
static void
align_self_add(struct align_vals *v, const struct align_side *s)
{
	size_t i;

	if (v->nself == ALIGN_SELF_MAX)
		return;
	for (i = 0; i < v->nself; i++)
		if (align_side_cmp(&v->self[i], s) == 0)
			return;
	v->self[v->nself++] = *s;
}

/*
 * Counts s[0..len) in the frequency set f (no copy: s points into a
 * value).  Errors: CC_ENOMEM.
 */
static cc_err
align_freq_add(struct align_set *f, const char *s, size_t len)
{
	size_t idx;
	int isnew;
	cc_err err;

	if ((err = align_set_add(f, s, len, align_hash(s, len), &idx,
	    &isnew)) != CC_OK)
		return err;
	f->items[idx].a++;
	return CC_OK;
}

/* Adds "strip <kind> affix" for the most frequent string in f when at
 * least half of the nsample sample values carry it; ties go to the
 * smallest string, so the choice does not depend on the order. */
static void
align_freq_pick(struct align_vals *v, const struct align_set *f,
    enum align_slice kind)
{
	const struct align_item *best = NULL, *it;
	struct align_side s;
	size_t i, m;
	int c;

	for (i = 0; i < f->n; i++) {
		it = &f->items[i];
		if (best != NULL) {
			if (it->a < best->a)
				continue;
			if (it->a == best->a) {
				m = it->len < best->len ? it->len : best->len;
				c = memcmp(it->s, best->s, m);
				if (c > 0 || (c == 0 && it->len >= best->len))
					continue;
			}
		}
		best = it;
	}
	if (best == NULL || (size_t)best->a * 2 < v->nsample)
		return;
	align_side_set(&s, kind, 0, best->s, best->len);
	align_self_add(v, &s);
}

/*
 * Reads v's self slices off its sample (see the header, step 2).
 * Errors: CC_ENOMEM.
 */
static cc_err
align_self_slices(struct align_vals *v)
{
	struct align_set lead = { 0 }, run = { 0 }, tail = { 0 };
	const struct align_item *it;
	struct align_side s;
	size_t i, j, p, q, r;
	size_t deep[4] = { 0, 0, 0, 0 };
	unsigned k, seps;
	cc_err err = CC_OK;

	align_side_set(&s, ALIGN_SLICE_NONE, 0, NULL, 0);
	align_self_add(v, &s);
	for (i = 0; i < v->nsample; i++) {
		it = &v->set.items[v->sample[i]];
		if (it->len > ALIGN_ENUM_MAXLEN)
			continue;
		/* Separators followed by something, up to 3. */
		for (j = 0, seps = 0; j + 1 < it->len && seps < 3; j++)
			if (align_is_sep((unsigned char)it->s[j]))
				deep[++seps]++;
		/* First separator p, last separator q, first digit r. */
		for (p = 0; p < it->len &&
		    !align_is_sep((unsigned char)it->s[p]); p++)
			;
		for (q = it->len; q > 0 &&
		    !align_is_sep((unsigned char)it->s[q - 1]); q--)
			;
		for (r = 0; r < it->len &&
		    !align_is_digit((unsigned char)it->s[r]); r++)
			;
		if (p + 1 < it->len && p + 1 < ALIGN_AFFIX_MAX &&
		    align_utf8_ok(it->s, p + 1, 1) &&
		    (err = align_freq_add(&lead, it->s, p + 1)) != CC_OK)
			goto out;
		if (r > 0 && r < it->len && r < ALIGN_AFFIX_MAX &&
		    align_utf8_ok(it->s, r, 1) &&
		    (err = align_freq_add(&run, it->s, r)) != CC_OK)
			goto out;
		if (q > 1 && it->len - (q - 1) < ALIGN_AFFIX_MAX &&
		    q < it->len &&
		    align_utf8_ok(it->s + q - 1, it->len - (q - 1), 1) &&
		    (err = align_freq_add(&tail, it->s + q - 1,
		    it->len - (q - 1))) != CC_OK)
			goto out;
	}
	for (k = 1; k <= 3; k++) {
		if (deep[k] * 2 < v->nsample || deep[k] == 0)
			continue;
		align_side_set(&s, ALIGN_SLICE_DROP_TOKENS, k, NULL, 0);
		align_self_add(v, &s);
	}
	align_freq_pick(v, &lead, ALIGN_SLICE_STRIP_PREFIX);
	align_freq_pick(v, &run, ALIGN_SLICE_STRIP_PREFIX);
	align_freq_pick(v, &tail, ALIGN_SLICE_STRIP_SUFFIX);
out:
	align_set_free(&lead);
	align_set_free(&run);
	align_set_free(&tail);
	return err;
}

/*
 * Builds col's index for DIGITS usable (digits = 1) or not: the hash of
 * the canonical form of every distinct value under every self slice and
 * usable normalisation, with the pairs that make it.  Errors: CC_ENOMEM.
 */
static cc_err
align_index_build(struct align_column *col, int digits)
{
	const struct align_vals *v = &col->v;
	struct align_hidx *x = &col->idx[digits];
	const struct align_item *it;
	size_t i, k, si, off, plen, clen, slot;
	const unsigned char *p;
	int norm, same[ALIGN_NORM__MAX], lower, sep, alldigit;
	cc_err err;

	if (col->built[digits])
		return CC_OK;
	if ((err = align_hidx_reserve(x, v->set.n * v->nself)) != CC_OK)
		return err;
	for (i = 0; i < v->set.n; i++) {
		it = &v->set.items[i];
		for (si = 0; si < v->nself; si++) {
			if (!align_slice_apply(&v->self[si], it->s, it->len,
			    &off, &plen))
				continue;
			/* The exact form is the piece itself; the others are
			 * the same string (one entry, no second look-up) when
			 * the piece has nothing they change: no lower case
			 * letter (CASEFOLD), nor a separator or space (ALNUM),
			 * digits only and no leading zero (DIGITS). */
			p = (const unsigned char *)it->s + off;
			lower = sep = 0;
			alldigit = 1;
			for (k = 0; k < plen; k++) {
				lower |= p[k] >= 'a' && p[k] <= 'z';
				sep |= align_is_sep(p[k]) ||
				    align_is_space(p[k]);
				alldigit &= align_is_digit(p[k]);
			}
			same[ALIGN_NORM_EXACT] = 1;
			same[ALIGN_NORM_CASEFOLD] = !lower;
			same[ALIGN_NORM_ALNUM] = !lower && !sep;
			same[ALIGN_NORM_DIGITS] = alldigit &&
			    (p[0] != '0' || plen == 1);
			if ((err = align_hidx_add(x, align_hash((const char *)p,
			    plen), align_bit(si, ALIGN_NORM_EXACT), &slot)) !=
			    CC_OK)
				return err;
			for (norm = ALIGN_NORM_EXACT + 1; norm < ALIGN_NORM__MAX;
			    norm++)
				if (same[norm] &&
				    (norm != ALIGN_NORM_DIGITS || digits))
					x->masks[slot] |= align_bit(si, norm);
			for (norm = ALIGN_NORM_EXACT + 1; norm < ALIGN_NORM__MAX;
			    norm++) {
				if (same[norm] ||
				    (norm == ALIGN_NORM_DIGITS && !digits))
					continue;
				clen = align_norm_apply(norm, it->s + off,
				    plen, col->buf, v->maxlen + 2);
				if (clen == 0)
					continue;
				if ((err = align_hidx_add(x,
				    align_hash(col->buf, clen), align_bit(si,
				    norm), NULL)) != CC_OK)
					return err;
			}
		}
	}
	col->built[digits] = 1;
	return CC_OK;
}

/* align_index_build() under the column's lock: the index is built once,
 * by the first pair that needs it, and only read after. */
static cc_err
align_index(struct align_column *col, int digits)
{
	cc_err err;

	pthread_mutex_lock(&col->mu);
	err = align_index_build(col, digits);
	pthread_mutex_unlock(&col->mu);
	return err;
}

/* Writes side s's slice as bytes (kind, n, affix length, affix) to out
 * (ALIGN_AFFIX_MAX + 8 bytes); returns the length.  Different slices give
 * different bytes. */
static size_t
align_side_key(char *out, const struct align_side *s)
{
	size_t alen = strnlen(s->affix, sizeof(s->affix) - 1);

	out[0] = (char)s->slice;
	memcpy(out + 1, &s->n, sizeof(s->n));
	out[1 + sizeof(s->n)] = (char)alen;
	memcpy(out + 2 + sizeof(s->n), s->affix, alen);
	return 2 + sizeof(s->n) + alen;
}

/*
 * Records a vote of the current voter for the pair (sa on side a, sb on
 * the other side) under norm.  Errors: CC_ENOMEM.
 */
static cc_err
align_vote(struct align_ctx *c, int a, const struct align_side *sa,
    const struct align_side *sb, enum align_norm norm)
{
	struct align_cand *nc, *cand;
	const struct align_side *f = a == 0 ? sa : sb, *t = a == 0 ? sb : sa;
	char key[2 * (ALIGN_AFFIX_MAX + 8)];
	size_t idx, ncap, len = 0;
	int isnew;
	cc_err err;

	/* The pair as bytes, one to one: per side its kind, n and affix
	 * with its length. */
	len += align_side_key(key + len, f);
	len += align_side_key(key + len, t);
	if ((err = align_set_add(&c->candkeys, key, len, align_hash(key, len),
	    &idx, &isnew)) != CC_OK)
		return err;
	if (isnew) {
		if (c->ncands == c->capcands) {
			ncap = c->capcands == 0 ? 64 : c->capcands * 2;
			if ((nc = realloc(c->cands, ncap * sizeof(*nc))) ==
			    NULL)
				return CC_ENOMEM;
			c->cands = nc;
			c->capcands = ncap;
		}
		cand = &c->cands[c->ncands++];
		memset(cand, 0, sizeof(*cand));
		cand->side[0] = *f;
		cand->side[1] = *t;
		cand->side[0].norm = cand->side[1].norm = ALIGN_NORM_EXACT;
	}
	cand = &c->cands[idx];
	cand->normmask |= 1u << norm;
	if (cand->last != c->voter) {
		cand->last = c->voter;
		cand->votes++;
	}
	return CC_OK;
}

/* The self slices of the other side whose bits under norm the index
 * entry's mask m holds: bit si for self slice number si. */
static uint32_t
align_hits_of(const struct align_ctx *c, int a, uint32_t m,
    enum align_norm norm)
{
	size_t si, nself = c->v[1 - a]->nself;
	uint32_t hits = 0;

	if (m == 0)
		return 0;
	for (si = 0; si < nself; si++)
		if (m & align_bit(si, norm))
			hits |= (uint32_t)1 << si;
	return hits;
}

/*
 * The self slices of the other side under which the normalised piece
 * form[0..clen) is in its index: a mask with bit si set for self slice
 * number si (0 when none).
 */
static uint32_t
align_hits(const struct align_ctx *c, int a, const char *form, size_t clen,
    enum align_norm norm)
{
	return align_hits_of(c, a, align_hidx_get(c->idx[1 - a],
	    align_hash(form, clen)), norm);
}

/*
 * For each self slice si of the other side in hits (align_hits()), votes
 * for the pairs (each of the nsa slices in sa, that self slice).
 * Errors: CC_ENOMEM.
 */
static cc_err
align_probe(struct align_ctx *c, int a, uint32_t hits, enum align_norm norm,
    const struct align_side *sa, size_t nsa)
{
	const struct align_vals *b = c->v[1 - a];
	size_t si, k;
	cc_err err;

	for (si = 0; si < b->nself; si++) {
		if (!(hits & ((uint32_t)1 << si)))
			continue;
		for (k = 0; k < nsa; k++)
			if ((err = align_vote(c, a, &sa[k], &b->self[si],
			    norm)) != CC_OK)
				return err;
	}
	return CC_OK;
}

/*
 * The votes of side a's sample against the other side's index (see the
 * header, step 4).  Errors: CC_ENOMEM.
 */
static cc_err
align_votes(struct align_ctx *c, int a)
{
	const struct align_vals *v = c->v[a];
	const struct align_item *it;
	struct align_side sa[3];
	size_t i, cut, blen, clen, nsa, pos[ALIGN_ENUM_MAXLEN + 1];
	const char *form;
	uint32_t hits;
	int norm, bytewise;
	cc_err err;

	for (i = 0; i < v->nsample; i++) {
		it = &v->set.items[v->sample[i]];
		if (it->len > ALIGN_ENUM_MAXLEN)
			continue;
		c->voter++;
		for (norm = 0; norm < ALIGN_NORM__MAX; norm++) {
			if (!c->normok[norm] || c->twin[norm])
				continue;
			blen = align_norm_apply(norm, it->s, it->len, c->base,
			    v->maxlen + 2);
			if (blen == 0)
				continue;
			/* EXACT, CASEFOLD and ALNUM map each byte on its own
			 * (to itself, its upper case or nothing), so a piece's
			 * form is a piece of the key's: pos[k] is where the
			 * form of the first k bytes ends.  DIGITS is not
			 * (leading zeros), and its pieces are normalised. */
			bytewise = norm != ALIGN_NORM_DIGITS;
			if (bytewise) {
				pos[0] = 0;
				for (cut = 0; cut < it->len; cut++)
					pos[cut + 1] = pos[cut] +
					    (norm != ALIGN_NORM_ALNUM ||
					    !(align_is_sep((unsigned char)
					    it->s[cut]) || align_is_space(
					    (unsigned char)it->s[cut])));
			}
			/* The key itself. */
			if ((hits = align_hits(c, a, c->base, blen, norm)) != 0) {
				align_side_set(&sa[0], ALIGN_SLICE_NONE, 0, NULL,
				    0);
				if ((err = align_probe(c, a, hits, norm, sa, 1)) !=
				    CC_OK)
					return err;
			}
			for (cut = 1; cut < it->len; cut++) {
				if (align_is_cont((unsigned char)it->s[cut]))
					continue;
				/* Without the first cut bytes. */
				if (bytewise) {
					form = c->base + pos[cut];
					clen = blen - pos[cut];
				} else {
					form = c->buf;
					clen = align_norm_apply(norm, it->s + cut,
					    it->len - cut, c->buf, v->maxlen + 2);
				}
				if (clen > 0 && (clen != blen ||
				    memcmp(form, c->base, clen) != 0) &&
				    (hits = align_hits(c, a, form, clen, norm)) !=
				    0) {
					nsa = 0;
					align_side_set(&sa[nsa++],
					    ALIGN_SLICE_DROP_CHARS,
					    align_nchars(it->s, cut), NULL, 0);
					if (align_is_sep((unsigned char)
					    it->s[cut - 1]))
						align_side_set(&sa[nsa++],
						    ALIGN_SLICE_DROP_TOKENS,
						    align_nseps(it->s, cut),
						    NULL, 0);
					if (cut < ALIGN_AFFIX_MAX &&
					    align_utf8_ok(it->s, cut, 1))
						align_side_set(&sa[nsa++],
						    ALIGN_SLICE_STRIP_PREFIX,
						    0, it->s, cut);
					if ((err = align_probe(c, a, hits,
					    norm, sa, nsa)) != CC_OK)
						return err;
				}
				/* The first cut bytes only. */
				if (bytewise) {
					form = c->base;
					clen = pos[cut];
				} else {
					form = c->buf;
					clen = align_norm_apply(norm, it->s, cut,
					    c->buf, v->maxlen + 2);
				}
				if (clen > 0 && (clen != blen ||
				    memcmp(form, c->base, clen) != 0) &&
				    (hits = align_hits(c, a, form, clen, norm)) !=
				    0) {
					nsa = 0;
					if (align_boundary(it->s, it->len, cut))
						align_side_set(&sa[nsa++],
						    ALIGN_SLICE_TAKE_CHARS,
						    align_nchars(it->s, cut),
						    NULL, 0);
					if (align_is_sep((unsigned char)
					    it->s[cut]))
						align_side_set(&sa[nsa++],
						    ALIGN_SLICE_TAKE_TOKENS,
						    align_nseps(it->s, cut) + 1,
						    NULL, 0);
					if (it->len - cut < ALIGN_AFFIX_MAX &&
					    align_utf8_ok(it->s + cut,
					    it->len - cut, 1))
						align_side_set(&sa[nsa++],
						    ALIGN_SLICE_STRIP_SUFFIX,
						    0, it->s + cut,
						    it->len - cut);
					if ((err = align_probe(c, a, hits,
					    norm, sa, nsa)) != CC_OK)
						return err;
				}
			}
		}
	}
	return CC_OK;
}

/* qsort order of candidates: more votes first, then the pair's order. */
static int
align_cand_cmp(const void *x, const void *y)
{
	const struct align_cand *p = x, *q = y;
	int c;

	if (p->votes != q->votes)
		return p->votes > q->votes ? -1 : 1;
	if ((c = align_side_cmp(&p->side[0], &q->side[0])) != 0)
		return c;
	return align_side_cmp(&p->side[1], &q->side[1]);
}

/* The bit of a form length in a mask of lengths (63 for all >= 63). */
static uint64_t
align_lenbit(size_t len)
{
	return (uint64_t)1 << (len < 63 ? len : 63);
}

/* 1 if norm leaves the length of a piece unchanged. */
static int
align_norm_keeps_len(enum align_norm norm)
{
	return norm == ALIGN_NORM_EXACT || norm == ALIGN_NORM_CASEFOLD;
}

/*
 * With a TAKE slice a value's unit is the slice itself (the rest of the
 * value is only what the slice leaves out): 1 when the unit at s[off..
 * off+plen) was met before in units, so the value adds nothing; 0 when
 * it is new (now in units) or the slice is no TAKE; -1 when out of
 * memory.
 */
static inline int
unit_again(struct align_set *units, int take, const struct align_item *it,
    size_t off, size_t plen)
{
	size_t uidx;
	int isnew;

	if (!take || !align_boundary(it->s, it->len, plen))
		return 0;
	if (align_set_add(units, it->s + off, plen, align_hash(it->s + off,
	    plen), &uidx, &isnew) != CC_OK)
		return -1;
	return !isnew;
}

/*
 * The index in set of the form side sd makes of it, or SIZE_MAX when it
 * makes none or none of set's (lens: the set of form lengths, as
 * align_lenbit() bits; a length no form has is not looked up, nor, for a
 * normalisation that keeps the length, normalised).  *off and *plen get
 * the slice; buf (bufsize bytes) the form.
 */
static inline size_t
form_in(const struct align_side *sd, const struct align_item *it,
    uint64_t lens, const struct align_set *set, char *buf, size_t bufsize,
    size_t *off, size_t *plen)
{
	size_t clen;

	if (!align_slice_apply(sd, it->s, it->len, off, plen))
		return SIZE_MAX;
	if (align_norm_keeps_len(sd->norm) && !(lens & align_lenbit(*plen)))
		return SIZE_MAX;
	clen = align_norm_apply(sd->norm, it->s + *off, *plen, buf, bufsize);
	if (clen == 0 || !(lens & align_lenbit(clen)))
		return SIZE_MAX;
	return align_set_find(set, buf, clen, align_hash(buf, clen));
}

/*
 * Scores sc->side[0..1] on the full distinct sets (see the header,
 * "Scores"); with final, also counts to_matched.  Errors: CC_ENOMEM.
 */
static cc_err
align_score(struct align_ctx *c, struct align_score *sc, int final)
{
	const struct align_vals *f = c->v[0], *t = c->v[1];
	const struct align_item *it;
	struct align_item *ci;
	size_t i, off, plen, clen, idx, bufsize;
	int isnew, take, again;
	cc_err err;

	bufsize = (f->maxlen > t->maxlen ? f->maxlen : t->maxlen) + 2;
	sc->matched = sc->matched_ok = sc->to_matched = 0;
	sc->canon = sc->canon_ok = 0;
	align_set_reset(&c->units[0]);
	if (c->tvalid && align_side_cmp(&c->tkey, &sc->side[1]) == 0) {
		/* The T forms of the previous pair: clear the F counts. */
		for (i = 0; i < c->canon.n; i++)
			c->canon.items[i].b = 0;
		goto fside;
	}
	c->tvalid = 0;
	c->tlens = 0;
	align_set_reset(&c->canon);
	align_set_reset(&c->units[1]);

	/* T: each unit adds 1 to its form's a. */
	take = align_is_take(sc->side[1].slice);
	for (i = 0; i < t->set.n; i++) {
		it = &t->set.items[i];
		if (!align_slice_apply(&sc->side[1], it->s, it->len, &off,
		    &plen))
			continue;
		if ((again = unit_again(&c->units[1], take, it, off, plen)) < 0)
			return CC_ENOMEM;
		if (again)
			continue;
		clen = align_norm_apply(sc->side[1].norm, it->s + off, plen,
		    c->buf, bufsize);
		if (clen == 0)
			continue;
		if ((err = align_set_add(&c->canon, c->buf, clen,
		    align_hash(c->buf, clen), &idx, &isnew)) != CC_OK)
			return err;
		c->canon.items[idx].a++;
		c->tlens |= align_lenbit(clen);
	}
	c->tkey = sc->side[1];
	c->tvalid = 1;

fside:
	/* F: matched values; each matched unit adds 1 to its form's b. */
	take = align_is_take(sc->side[0].slice);
	for (i = 0; i < f->set.n; i++) {
		it = &f->set.items[i];
		/* A value whose form no T value makes is not matched. */
		c->fform[i] = idx = form_in(&sc->side[0], it, c->tlens,
		    &c->canon, c->buf, bufsize, &off, &plen);
		if (idx == SIZE_MAX)
			continue;
		sc->matched++;
		if ((again = unit_again(&c->units[0], take, it, off, plen)) < 0)
			return CC_ENOMEM;
		if (!again)
			c->canon.items[idx].b++;
	}

	for (i = 0; i < c->canon.n; i++) {
		ci = &c->canon.items[i];
		if (ci->b == 0)
			continue;
		sc->canon++;
		if (ci->a == 1 && ci->b == 1)
			sc->canon_ok++;
	}
	for (i = 0; i < f->set.n; i++) {
		if (c->fform[i] == SIZE_MAX)
			continue;
		ci = &c->canon.items[c->fform[i]];
		if (ci->a == 1 && ci->b == 1)
			sc->matched_ok++;
	}

	if (final) {
		for (i = 0; i < t->set.n; i++) {
			it = &t->set.items[i];
			if (!align_slice_apply(&sc->side[1], it->s, it->len,
			    &off, &plen))
				continue;
			clen = align_norm_apply(sc->side[1].norm, it->s + off,
			    plen, c->buf, bufsize);
			if (clen == 0)
				continue;
			idx = align_set_find(&c->canon, c->buf, clen,
			    align_hash(c->buf, clen));
			if (idx != SIZE_MAX && c->canon.items[idx].b > 0)
				sc->to_matched++;
		}
	}

	sc->cost = align_slice_cost[sc->side[0].slice] +
	    align_slice_cost[sc->side[1].slice] +
	    align_norm_cost[sc->side[0].norm];
	/* Chance: the bits of the forms (mean length, 10 symbols under
	 * DIGITS, else 36) against the T forms there are; when the forms
	 * could hold fewer than ALIGN_CHANCE_ROOM times as many values, any
	 * F value finds a partner by chance ("drop the first 4 characters"
	 * of five-digit ids leaves one digit, which every id shares with
	 * some other), and only a rule that pairs values one to one is
	 * evidence. */
	{
		double bits = 0, need;
		for (i = 0; i < c->canon.n; i++)
			bits += (double)c->canon.items[i].len;
		bits = c->canon.n > 0 ? bits / (double)c->canon.n *
		    log2(sc->side[0].norm == ALIGN_NORM_DIGITS ? 10.0 :
		    36.0) : 0;
		need = log2((double)(c->canon.n > 0 ? c->canon.n : 1) *
		    ALIGN_CHANCE_ROOM);
		sc->dense = bits < need;
	}
	/* The guard (see the header). */
	sc->pass = sc->canon > 0 &&
	    (double)sc->canon_ok >= (sc->dense ? ALIGN_DENSE_ONE_TO_ONE :
	    ALIGN_MIN_ONE_TO_ONE) * (double)sc->canon &&
	    (size_t)sc->matched >= (f->set.n < ALIGN_MIN_MATCHED ?
	    f->set.n : ALIGN_MIN_MATCHED) &&
	    (double)sc->matched >= ALIGN_MIN_COVERAGE * (double)f->set.n;
	return CC_OK;
}

/*
 * align_score() for a small F side, with the same results: F's forms are
 * made first (few) and T's values are only looked up in them, instead of
 * every T side's forms being made into a set (each trial of a small F
 * side tends to have its own T side).  Only the forms both sides make
 * count, except for the guard's chance test ("dense"), which needs all of
 * T's forms: when the guard's outcome depends on it (one-to-one between
 * ALIGN_MIN_ONE_TO_ONE and ALIGN_DENSE_ONE_TO_ONE), the pair is scored
 * by align_score().  Errors: CC_ENOMEM.
 */
static cc_err
align_score_small(struct align_ctx *c, struct align_score *sc, int final)
{
	const struct align_vals *f = c->v[0], *t = c->v[1];
	const struct align_item *it;
	struct align_item *fi;
	size_t i, off, plen, clen, idx, bufsize;
	long long to_matched = 0, need;
	uint64_t lens = 0;
	int isnew, take, again, lo, hi;
	cc_err err;

	bufsize = (f->maxlen > t->maxlen ? f->maxlen : t->maxlen) + 2;
	sc->matched = sc->matched_ok = sc->to_matched = 0;
	sc->canon = sc->canon_ok = 0;
	align_set_reset(&c->fset);
	align_set_reset(&c->sunits[0]);
	align_set_reset(&c->sunits[1]);

	/* F: each unit adds 1 to its form's b (a: T units, below). */
	take = align_is_take(sc->side[0].slice);
	for (i = 0; i < f->set.n; i++) {
		it = &f->set.items[i];
		c->fform[i] = SIZE_MAX;
		if (!align_slice_apply(&sc->side[0], it->s, it->len, &off,
		    &plen))
			continue;
		clen = align_norm_apply(sc->side[0].norm, it->s + off, plen,
		    c->buf, bufsize);
		if (clen == 0)
			continue;
		if ((err = align_set_add(&c->fset, c->buf, clen,
		    align_hash(c->buf, clen), &idx, &isnew)) != CC_OK)
			return err;
		c->fform[i] = idx;
		lens |= align_lenbit(clen);
		if ((again = unit_again(&c->sunits[0], take, it, off, plen)) < 0)
			return CC_ENOMEM;
		if (!again)
			c->fset.items[idx].b++;
	}

	/* T: each unit whose form F makes adds 1 to its a. */
	take = align_is_take(sc->side[1].slice);
	for (i = 0; i < t->set.n; i++) {
		it = &t->set.items[i];
		if ((idx = form_in(&sc->side[1], it, lens, &c->fset, c->buf,
		    bufsize, &off, &plen)) == SIZE_MAX)
			continue;
		to_matched++;
		if ((again = unit_again(&c->sunits[1], take, it, off, plen)) < 0)
			return CC_ENOMEM;
		if (!again)
			c->fset.items[idx].a++;
	}

	for (i = 0; i < c->fset.n; i++) {
		fi = &c->fset.items[i];
		if (fi->a == 0)
			continue;
		sc->canon++;
		if (fi->a == 1 && fi->b == 1)
			sc->canon_ok++;
	}
	for (i = 0; i < f->set.n; i++) {
		if (c->fform[i] == SIZE_MAX)
			continue;
		fi = &c->fset.items[c->fform[i]];
		if (fi->a == 0)
			continue;
		sc->matched++;
		if (fi->a == 1 && fi->b == 1)
			sc->matched_ok++;
	}
	if (final)
		sc->to_matched = to_matched;
	sc->cost = align_slice_cost[sc->side[0].slice] +
	    align_slice_cost[sc->side[1].slice] +
	    align_norm_cost[sc->side[0].norm];
	/* The guard of align_score() under both one-to-one thresholds. */
	need = (long long)(f->set.n < ALIGN_MIN_MATCHED ? f->set.n :
	    ALIGN_MIN_MATCHED);
	lo = sc->canon > 0 && sc->matched >= need &&
	    (double)sc->matched >= ALIGN_MIN_COVERAGE * (double)f->set.n;
	hi = lo && (double)sc->canon_ok >= ALIGN_DENSE_ONE_TO_ONE *
	    (double)sc->canon;
	lo = lo && (double)sc->canon_ok >= ALIGN_MIN_ONE_TO_ONE *
	    (double)sc->canon;
	if (lo != hi)
		return align_score(c, sc, final);
	sc->dense = -1;		/* not needed: the guard's answer is known */
	sc->pass = lo;
	return CC_OK;
}

/* The order of rules (see the header): < 0 when x ranks before y. */
static int
align_score_cmp(const struct align_score *x, const struct align_score *y)
{
	long long lx, ly;
	int c;

	if (x->pass != y->pass)
		return x->pass ? -1 : 1;
	if (x->matched_ok != y->matched_ok)
		return x->matched_ok > y->matched_ok ? -1 : 1;
	if (x->matched != y->matched)
		return x->matched > y->matched ? -1 : 1;
	/* canon_ok / canon, 0/0 = 0, as exact fractions. */
	lx = x->canon_ok * (y->canon > 0 ? y->canon : 1);
	ly = y->canon_ok * (x->canon > 0 ? x->canon : 1);
	if (lx != ly)
		return lx > ly ? -1 : 1;
	if (x->cost != y->cost)
		return x->cost < y->cost ? -1 : 1;
	if ((c = align_side_cmp(&x->side[0], &y->side[0])) != 0)
		return c;
	return align_side_cmp(&x->side[1], &y->side[1]);
}

/*
 * 1 if the unscored trial t cannot rank before best (align_score_cmp())
 * whatever its scores.  t's matched_ok is at most its bound: the F values
 * (from_distinct); and, unless t's F slice is a TAKE (whose units are
 * pieces that many F values can share), the T values (to_distinct) too,
 * as each one-to-one form then holds one F value and one T unit and a T
 * value makes at most one unit.  When best passes the guard and its
 * matched_ok exceeds t's bound, t ranks after it.  When best met its
 * bound in full (matched_ok = matched = the bound, every form one to
 * one), t can at most equal it: at the bound every F value t matches is
 * in a one-to-one form (with the T bound: every T unit is in one, so a
 * further F value would share a form and break it), so matched =
 * matched_ok and every form hit is one to one; only the cost and the
 * sides - known before scoring - can put t first.  Skipping such a
 * trial changes no answer; it only saves its scoring.
 */
static int
align_cannot_beat(const struct align_ctx *c, const struct align_score *t,
    const struct align_score *best)
{
	long long bound = (long long)c->v[0]->set.n;
	int cost;

	if (!align_is_take(t->side[0].slice) &&
	    (long long)c->v[1]->set.n < bound)
		bound = (long long)c->v[1]->set.n;
	if (!best->pass || best->matched_ok < bound)
		return 0;
	if (best->matched_ok > bound)
		return 1;
	if (best->matched != best->matched_ok || best->canon_ok != best->canon)
		return 0;
	cost = align_slice_cost[t->side[0].slice] +
	    align_slice_cost[t->side[1].slice] +
	    align_norm_cost[t->side[0].norm];
	if (cost != best->cost)
		return cost > best->cost;
	if (align_side_cmp(&t->side[0], &best->side[0]) != 0)
		return align_side_cmp(&t->side[0], &best->side[0]) > 0;
	return align_side_cmp(&t->side[1], &best->side[1]) >= 0;
}

/* Adds the pair (f, t) under norm to the trials.  Errors: CC_ENOMEM. */
static cc_err
align_trial_add(struct align_ctx *c, const struct align_side *f,
    const struct align_side *t, enum align_norm norm)
{
	struct align_score *nt, *sc;
	size_t ncap;

	if (c->ntrials == c->captrials) {
		ncap = c->captrials == 0 ? 64 : c->captrials * 2;
		if ((nt = realloc(c->trials, ncap * sizeof(*nt))) == NULL)
			return CC_ENOMEM;
		c->trials = nt;
		c->captrials = ncap;
	}
	sc = &c->trials[c->ntrials++];
	memset(sc, 0, sizeof(*sc));
	sc->side[0] = *f;
	sc->side[1] = *t;
	sc->side[0].norm = sc->side[1].norm = norm;
	return CC_OK;
}

/* qsort order of trials: by T side, so that align_score() reuses the T
 * forms; then by F side.  The winner does not depend on this order. */
static int
align_trial_cmp(const void *x, const void *y)
{
	const struct align_score *p = x, *q = y;
	int c;

	if ((c = align_side_cmp(&p->side[1], &q->side[1])) != 0)
		return c;
	return align_side_cmp(&p->side[0], &q->side[0]);
}

/* Appends to buf (size bytes, NUL-terminated) the phrase for one side. */
static void
align_describe_side(char *buf, size_t size, const struct align_side *s,
    const char *name)
{
	size_t used = strlen(buf);
	const char *plural = s->n == 1 ? "" : "s";

	if (used >= size)
		return;
	buf += used;
	size -= used;
	switch (s->slice) {
	case ALIGN_SLICE_STRIP_PREFIX:
		snprintf(buf, size, "strip the prefix '%s' (when present) "
		    "from the %s key", s->affix, name);
		break;
	case ALIGN_SLICE_STRIP_SUFFIX:
		snprintf(buf, size, "strip the suffix '%s' (when present) "
		    "from the %s key", s->affix, name);
		break;
	case ALIGN_SLICE_TAKE_CHARS:
		snprintf(buf, size, "keep the first %u character%s of the "
		    "%s key", s->n, plural, name);
		break;
	case ALIGN_SLICE_TAKE_TOKENS:
		snprintf(buf, size, "keep the first %u token%s of the %s key",
		    s->n, plural, name);
		break;
	case ALIGN_SLICE_DROP_CHARS:
		snprintf(buf, size, "drop the first %u character%s of the "
		    "%s key", s->n, plural, name);
		break;
	case ALIGN_SLICE_DROP_TOKENS:
		snprintf(buf, size, "drop the first %u token%s of the %s key",
		    s->n, plural, name);
		break;
	default:
		break;
	}
}

/* Writes r's description (see struct align_rule), cut at a character
 * boundary with "..." when it does not fit. */
static void
align_describe(struct align_rule *r)
{
	char tmp[512];
	size_t size = sizeof(r->description), len;
	int norm = r->from.norm;

	tmp[0] = '\0';
	if (r->from.slice != ALIGN_SLICE_NONE)
		align_describe_side(tmp, sizeof(tmp), &r->from, "from");
	if (r->to.slice != ALIGN_SLICE_NONE) {
		if (tmp[0] != '\0')
			strcat(tmp, " and ");
		align_describe_side(tmp, sizeof(tmp), &r->to, "to");
	}
	if (norm < 0 || norm >= ALIGN_NORM__MAX)
		norm = ALIGN_NORM_EXACT;
	len = strlen(tmp);
	snprintf(tmp + len, sizeof(tmp) - len, "%s%s",
	    tmp[0] != '\0' ? ", then " : "", align_norm_phrases[norm]);
	len = strlen(tmp);
	if (len < size) {
		memcpy(r->description, tmp, len + 1);
		return;
	}
	len = size - 4;
	while (len > 0 && align_is_cont((unsigned char)tmp[len]))
		len--;
	memcpy(r->description, tmp, len);
	memcpy(r->description + len, "...", 4);
}

/* Frees what c holds. */
static void
align_ctx_free(struct align_ctx *c)
{
	int a;

	for (a = 0; a < 2; a++)
		align_set_free(&c->units[a]);
	free(c->buf);
	free(c->base);
	free(c->fform);
	free(c->trials);
	free(c->cands);
	align_set_free(&c->candkeys);
	align_set_free(&c->canon);
	align_set_free(&c->fset);
	align_set_free(&c->sunits[0]);
	align_set_free(&c->sunits[1]);
}

cc_err
align_column_new(const char *const *vals, size_t n, struct align_column **out,
    struct cc_diag *diag)
{
	struct align_column *col;
	cc_err err;

	cc_diag_clear(diag);
	if (out == NULL || (vals == NULL && n > 0))
		return cc_diag_set(diag, CC_EINVAL, "align_invalid",
		    "align_column_new: missing argument");
	*out = NULL;
	if ((col = calloc(1, sizeof(*col))) == NULL)
		return cc_diag_set(diag, CC_ENOMEM, "align_nomem",
		    "out of memory while preparing a key column");
	pthread_mutex_init(&col->mu, NULL);
	if ((err = align_vals_load(&col->v, vals, n)) != CC_OK ||
	    (err = align_self_slices(&col->v)) != CC_OK ||
	    (col->buf = malloc(col->v.maxlen + 2)) == NULL) {
		align_column_free(col);
		return cc_diag_set(diag, CC_ENOMEM, "align_nomem",
		    "out of memory while preparing a key column");
	}
	*out = col;
	return CC_OK;
}

void
align_column_free(struct align_column *col)
{
	int d;

	if (col == NULL)
		return;
	align_set_free(&col->v.set);
	free(col->v.sample);
	for (d = 0; d < 2; d++) {
		free(col->idx[d].slots);
		free(col->idx[d].masks);
	}
	free(col->buf);
	pthread_mutex_destroy(&col->mu);
	free(col);
}

cc_err
align_learn(const char *const *from, size_t nfrom, const char *const *to,
    size_t nto, struct align_rule *out, struct cc_diag *diag)
{
	struct align_column *f = NULL, *t = NULL;
	cc_err err;

	cc_diag_clear(diag);
	if (out == NULL || (from == NULL && nfrom > 0) ||
	    (to == NULL && nto > 0))
		return cc_diag_set(diag, CC_EINVAL, "align_invalid",
		    "align_learn: missing argument");
	memset(out, 0, sizeof(*out));
	if ((err = align_column_new(from, nfrom, &f, diag)) == CC_OK &&
	    (err = align_column_new(to, nto, &t, diag)) == CC_OK)
		err = align_learn_columns(f, t, out, diag);
	align_column_free(f);
	align_column_free(t);
	return err;
}

cc_err
align_learn_columns(struct align_column *from, struct align_column *to,
    struct align_rule *out, struct cc_diag *diag)
{
	struct align_ctx c;
	struct align_score best;
	struct align_side none;
	size_t i, w, maxlen, ncand;
	long long minvotes;
	int a, norm, small, twin[ALIGN_NORM__MAX];
	cc_err err;

	cc_diag_clear(diag);
	if (out == NULL || from == NULL || to == NULL)
		return cc_diag_set(diag, CC_EINVAL, "align_invalid",
		    "align_learn_columns: missing argument");
	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	memset(&best, 0, sizeof(best));
	c.candkeys.copy = 1;
	c.canon.copy = 1;
	c.fset.copy = 1;
	c.v[0] = &from->v;
	c.v[1] = &to->v;

	out->from_distinct = (long long)c.v[0]->set.n;
	out->to_distinct = (long long)c.v[1]->set.n;
	if (c.v[0]->set.n == 0 || c.v[1]->set.n == 0) {
		err = cc_diag_set(diag, CC_ENOTFOUND, "align_empty",
		    "no key values on the %s side",
		    c.v[0]->set.n == 0 ? "from" : "to");
		goto out;
	}
	maxlen = c.v[0]->maxlen > c.v[1]->maxlen ? c.v[0]->maxlen :
	    c.v[1]->maxlen;
	if ((c.buf = malloc(maxlen + 2)) == NULL ||
	    (c.base = malloc(maxlen + 2)) == NULL ||
	    (c.fform = calloc(c.v[0]->set.n, sizeof(*c.fform))) == NULL) {
		err = CC_ENOMEM;
		goto out;
	}
	for (norm = 0; norm < ALIGN_NORM__MAX; norm++)
		c.normok[norm] = norm != ALIGN_NORM_DIGITS ||
		    (c.v[0]->digits && c.v[1]->digits);

	/* Indexes (self slices are the columns'); then votes both ways. */
	if ((err = align_index(from, c.normok[ALIGN_NORM_DIGITS])) != CC_OK ||
	    (err = align_index(to, c.normok[ALIGN_NORM_DIGITS])) != CC_OK)
		goto out;
	c.idx[0] = &from->idx[c.normok[ALIGN_NORM_DIGITS]];
	c.idx[1] = &to->idx[c.normok[ALIGN_NORM_DIGITS]];
	/* A normalisation that changes no byte of either column (CASEFOLD
	 * without lower case letters; ALNUM without them and without
	 * separators and spaces) makes the EXACT forms: its votes are
	 * EXACT's, and a pair scores under it as under EXACT and costs more,
	 * so it never ranks first.  It neither votes nor is scored when the
	 * pair is scored under EXACT. */
	twin[ALIGN_NORM_EXACT] = twin[ALIGN_NORM_DIGITS] = 0;
	twin[ALIGN_NORM_CASEFOLD] = !c.v[0]->lower && !c.v[1]->lower;
	twin[ALIGN_NORM_ALNUM] = twin[ALIGN_NORM_CASEFOLD] && !c.v[0]->sep &&
	    !c.v[1]->sep;
	c.twin = twin;
	for (a = 0; a < 2; a++)
		if ((err = align_votes(&c, a)) != CC_OK)
			goto out;

	/* Score (none, none) and the most voted pairs. */
	align_side_set(&none, ALIGN_SLICE_NONE, 0, NULL, 0);
	for (norm = 0; norm < ALIGN_NORM__MAX; norm++)
		if (c.normok[norm] && !twin[norm] &&
		    (err = align_trial_add(&c, &none, &none, norm)) != CC_OK)
			goto out;
	if (c.ncands > 0)
		qsort(c.cands, c.ncands, sizeof(*c.cands), align_cand_cmp);
	/* Keep at most ALIGN_CAND_MAX pairs, none with fewer votes than 1 %
	 * of the best pair's (nor a single vote, unless a sample is tiny). */
	ncand = c.ncands < ALIGN_CAND_MAX ? c.ncands : ALIGN_CAND_MAX;
	minvotes = c.v[0]->nsample >= 10 && c.v[1]->nsample >= 10 ? 2 : 1;
	if (ncand > 0 && c.cands[0].votes / 100 > minvotes)
		minvotes = c.cands[0].votes / 100;
	while (ncand > 0 && c.cands[ncand - 1].votes < minvotes)
		ncand--;
	for (i = 0; i < ncand; i++)
		for (norm = 0; norm < ALIGN_NORM__MAX; norm++)
			if ((c.cands[i].normmask & (1u << norm)) &&
			    (err = align_trial_add(&c, &c.cands[i].side[0],
			    &c.cands[i].side[1], norm)) != CC_OK)
				goto out;
	qsort(c.trials, c.ntrials, sizeof(*c.trials), align_trial_cmp);
	/* A voted pair can be one already added ((none, none) under every
	 * normalisation): equal trials are neighbours now; one is scored. */
	for (i = w = 0; i < c.ntrials; i++)
		if (w == 0 || align_trial_cmp(&c.trials[w - 1], &c.trials[i]) !=
		    0)
			c.trials[w++] = c.trials[i];
	c.ntrials = w;
	/* A small F side is scored F first (align_score_small()). */
	small = c.v[0]->set.n * ALIGN_SMALL_RATIO <= c.v[1]->set.n;
	for (i = 0; i < c.ntrials; i++) {
		if (i > 0 && align_cannot_beat(&c, &c.trials[i], &best))
			continue;
		if ((err = small ? align_score_small(&c, &c.trials[i], 0) :
		    align_score(&c, &c.trials[i], 0)) != CC_OK)
			goto out;
		if (i == 0 || align_score_cmp(&c.trials[i], &best) < 0)
			best = c.trials[i];
	}

	/* The winner, scored again with to_matched. */
	if ((err = small ? align_score_small(&c, &best, 1) :
	    align_score(&c, &best, 1)) != CC_OK)
		goto out;
	out->from = best.side[0];
	out->to = best.side[1];
	out->matched = best.matched;
	out->matched_one_to_one = best.matched_ok;
	out->to_matched = best.to_matched;
	out->coverage = (double)best.matched / (double)c.v[0]->set.n;
	out->one_to_one = best.canon > 0 ?
	    (double)best.canon_ok / (double)best.canon : 0.0;
	out->found = best.pass;
	align_describe(out);
	if (!best.pass)
		err = cc_diag_set(diag, CC_ENOTFOUND, "align_no_rule",
		    "no key rule found: best was '%s' (%lld of %lld values, "
		    "one-to-one %.2f)", out->description, out->matched,
		    out->from_distinct, out->one_to_one);
out:
	align_ctx_free(&c);
	if (err == CC_ENOMEM)
		cc_diag_set(diag, CC_ENOMEM, "align_nomem",
		    "out of memory while learning a key rule");
	return err;
}

size_t
align_canon(const struct align_side *side, const char *key, char *out,
    size_t outsize)
{
	size_t off, plen;

	if (outsize > 0)
		out[0] = '\0';
	if (side == NULL || key == NULL ||
	    (unsigned)side->slice >= ALIGN_SLICE__MAX ||
	    (unsigned)side->norm >= ALIGN_NORM__MAX)
		return 0;
	if (!align_slice_apply(side, key, strlen(key), &off, &plen))
		return 0;
	return align_norm_apply(side->norm, key + off, plen, out, outsize);
}

cc_err
align_match(const struct align_rule *r, const char *const *from,
    size_t nfrom, const char *const *to, size_t nto, long long *out_index,
    struct cc_diag *diag)
{
	struct align_set raw = { 0 }, canon = { 0 };
	char *buf = NULL;
	size_t i, len, maxlen = 0, off, plen, clen, idx;
	int isnew;
	cc_err err = CC_OK;

	cc_diag_clear(diag);
	if (r == NULL || (from == NULL && nfrom > 0) ||
	    (to == NULL && nto > 0) || (out_index == NULL && nfrom > 0) ||
	    (unsigned)r->from.slice >= ALIGN_SLICE__MAX ||
	    (unsigned)r->to.slice >= ALIGN_SLICE__MAX ||
	    (unsigned)r->from.norm >= ALIGN_NORM__MAX ||
	    (unsigned)r->to.norm >= ALIGN_NORM__MAX)
		return cc_diag_set(diag, CC_EINVAL, "align_invalid",
		    "align_match: invalid argument");
	canon.copy = 1;
	for (i = 0; i < nto; i++)
		if (to[i] != NULL && (len = strlen(to[i])) > maxlen)
			maxlen = len;
	for (i = 0; i < nfrom; i++)
		if (from[i] != NULL && (len = strlen(from[i])) > maxlen)
			maxlen = len;
	if ((buf = malloc(maxlen + 2)) == NULL) {
		err = CC_ENOMEM;
		goto out;
	}

	/* Form -> first index (a) and distinct raw values (b). */
	for (i = 0; i < nto; i++) {
		if (to[i] == NULL || to[i][0] == '\0')
			continue;
		len = strlen(to[i]);
		if ((err = align_set_add(&raw, to[i], len,
		    align_hash(to[i], len), &idx, &isnew)) != CC_OK)
			goto out;
		if (!isnew ||
		    !align_slice_apply(&r->to, to[i], len, &off, &plen))
			continue;
		clen = align_norm_apply(r->to.norm, to[i] + off, plen, buf,
		    maxlen + 2);
		if (clen == 0)
			continue;
		if ((err = align_set_add(&canon, buf, clen,
		    align_hash(buf, clen), &idx, &isnew)) != CC_OK)
			goto out;
		if (isnew)
			canon.items[idx].a = (long long)i;
		canon.items[idx].b++;
	}

	for (i = 0; i < nfrom; i++) {
		out_index[i] = ALIGN_NOMATCH;
		if (from[i] == NULL || from[i][0] == '\0')
			continue;
		len = strlen(from[i]);
		if (!align_slice_apply(&r->from, from[i], len, &off, &plen))
			continue;
		clen = align_norm_apply(r->from.norm, from[i] + off, plen, buf,
		    maxlen + 2);
		if (clen == 0)
			continue;
		idx = align_set_find(&canon, buf, clen, align_hash(buf, clen));
		if (idx == SIZE_MAX)
			continue;
		out_index[i] = canon.items[idx].b > 1 ? ALIGN_AMBIGUOUS :
		    canon.items[idx].a;
	}
out:
	free(buf);
	align_set_free(&raw);
	align_set_free(&canon);
	if (err == CC_ENOMEM)
		cc_diag_set(diag, CC_ENOMEM, "align_nomem",
		    "out of memory while matching keys");
	return err;
}

const char *
align_slice_name(enum align_slice s)
{
	return (unsigned)s < ALIGN_SLICE__MAX ? align_slice_names[s] : "?";
}

const char *
align_norm_name(enum align_norm n)
{
	return (unsigned)n < ALIGN_NORM__MAX ? align_norm_names[n] : "?";
}

/* The JSON of one side (see align_rule_json()), or NULL. */
static json_t *
align_side_json(const struct align_side *s)
{
	json_t *affix, *n;
	size_t alen;

	if ((unsigned)s->slice >= ALIGN_SLICE__MAX ||
	    (unsigned)s->norm >= ALIGN_NORM__MAX)
		return NULL;
	if (s->slice == ALIGN_SLICE_STRIP_PREFIX ||
	    s->slice == ALIGN_SLICE_STRIP_SUFFIX) {
		alen = strnlen(s->affix, sizeof(s->affix));
		if (alen == sizeof(s->affix) ||
		    !align_utf8_ok(s->affix, alen, 0))
			return NULL;
		affix = json_stringn(s->affix, alen);
		n = json_null();
	} else {
		affix = json_null();
		n = s->slice == ALIGN_SLICE_NONE ? json_null() :
		    json_integer((json_int_t)s->n);
	}
	if (affix == NULL || n == NULL) {
		json_decref(affix);
		json_decref(n);
		return NULL;
	}
	/* "o" steals the references, also when json_pack() fails. */
	return json_pack("{s:s, s:o, s:o, s:s}",
	    "slice", align_slice_names[s->slice],
	    "affix", affix,
	    "n", n,
	    "normalisation", align_norm_names[s->norm]);
}

json_t *
align_rule_json(const struct align_rule *r)
{
	json_t *f, *t;
	size_t dlen;

	if (r == NULL)
		return NULL;
	dlen = strnlen(r->description, sizeof(r->description));
	if (dlen == sizeof(r->description) ||
	    !align_utf8_ok(r->description, dlen, 0))
		return NULL;
	if ((f = align_side_json(&r->from)) == NULL)
		return NULL;
	if ((t = align_side_json(&r->to)) == NULL) {
		json_decref(f);
		return NULL;
	}
	return json_pack("{s:o, s:o, s:I, s:I, s:I, s:I, s:I, s:f, s:f, "
	    "s:b, s:s}",
	    "from", f,
	    "to", t,
	    "from_distinct", (json_int_t)r->from_distinct,
	    "to_distinct", (json_int_t)r->to_distinct,
	    "matched", (json_int_t)r->matched,
	    "matched_one_to_one", (json_int_t)r->matched_one_to_one,
	    "to_matched", (json_int_t)r->to_matched,
	    "coverage", r->coverage,
	    "one_to_one", r->one_to_one,
	    "found", r->found ? 1 : 0,
	    "description", r->description);
}
