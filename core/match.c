/*
 * match.c - probabilistic record linkage: normalisation, blocking,
 * comparison vectors, EM for the Fellegi-Sunter model, decision and
 * clusters (concord/match.h, which cites the sources).
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "concord/match.h"
#include "concord/strsim.h"

#define SMOOTH		1.0	/* add-one (Laplace) smoothing of m and u */
#define NO_ID		UINT32_MAX	/* record in no block / value missing */
#define PROB_MIN	1e-12	/* lambda and probabilities kept inside (0,1) */

/* The comparison levels; each kind lists some of them, strongest first. */
enum lvl {
	LV_EXACT,
	LV_WORDS,
	LV_LOCAL,
	LV_JW92,
	LV_JW88,
	LV_JW80,
	LV_EDIT1,
	LV_EDIT2,
	LV_DMSWAP,
	LV_YEAR1,
	LV_YEAR10,
	LV_NUM1,
	LV_NUM10,
	LV_PREFIX3,
	LV_SWAPPED,
	LV_COS90,
	LV_COS70,
	LV_COS50,
	LV_SHARED,
	LV_ELSE,
	LV__MAX
};

static const char *const lvl_label[LV__MAX] = {
	"exact",		/* LV_EXACT */
	"same words",		/* LV_WORDS */
	"same local part",	/* LV_LOCAL */
	"jw>=0.92",		/* LV_JW92 */
	"jw>=0.88",		/* LV_JW88 */
	"jw>=0.80",		/* LV_JW80 */
	"1 edit",		/* LV_EDIT1 */
	"2 edits",		/* LV_EDIT2 */
	"day/month transposed",	/* LV_DMSWAP */
	"years 1 apart",	/* LV_YEAR1 */
	"years 10 apart",	/* LV_YEAR10 */
	"within 1%",		/* LV_NUM1 */
	"within 10%",		/* LV_NUM10 */
	"same first 3",		/* LV_PREFIX3 */
	"swapped",		/* LV_SWAPPED */
	"cosine>=0.9",		/* LV_COS90 */
	"cosine>=0.7",		/* LV_COS70 */
	"cosine>=0.5",		/* LV_COS50 */
	"a code in common",	/* LV_SHARED */
	"else",			/* LV_ELSE */
};

enum norm { NORM_WORDS, NORM_ALNUM, NORM_EMAIL, NORM_DATE, NORM_NUMBER };

struct kind_info {
	const char	*name;
	enum norm	 norm;
	size_t		 nlevels;
	enum lvl	 levels[MATCH_MAX_LEVELS - 1];	/* room for swapped */
	enum lvl	 swap_test;	/* LV__MAX: no swap level, no tf */
	int		 soundex;	/* MATCH_BLOCK_SOUNDEX allowed */
};

static const struct kind_info kinds[MATCH_KIND__MAX] = {
	/* MATCH_NAME */
	{ "name", NORM_WORDS, 4, { LV_EXACT, LV_JW92, LV_JW80, LV_ELSE },
	  LV_JW92, 1 },
	/* MATCH_TEXT */
	{ "text", NORM_WORDS, 5,
	  { LV_EXACT, LV_WORDS, LV_JW92, LV_JW80, LV_ELSE }, LV_JW92, 1 },
	/* MATCH_CODE */
	{ "code", NORM_ALNUM, 4, { LV_EXACT, LV_EDIT1, LV_EDIT2, LV_ELSE },
	  LV_EDIT1, 0 },
	/* MATCH_DATE */
	{ "date", NORM_DATE, 6,
	  { LV_EXACT, LV_DMSWAP, LV_EDIT1, LV_YEAR1, LV_YEAR10, LV_ELSE },
	  LV__MAX, 0 },
	/* MATCH_NUMBER */
	{ "number", NORM_NUMBER, 4, { LV_EXACT, LV_NUM1, LV_NUM10, LV_ELSE },
	  LV__MAX, 0 },
	/* MATCH_POSTCODE */
	{ "postcode", NORM_ALNUM, 4,
	  { LV_EXACT, LV_EDIT1, LV_PREFIX3, LV_ELSE }, LV_EDIT1, 0 },
	/* MATCH_EMAIL */
	{ "email", NORM_EMAIL, 4, { LV_EXACT, LV_LOCAL, LV_JW88, LV_ELSE },
	  LV_JW92, 0 },
	/* MATCH_EXACT */
	{ "exact", NORM_ALNUM, 2, { LV_EXACT, LV_ELSE }, LV__MAX, 0 },
	/* MATCH_LONGTEXT */
	{ "longtext", NORM_WORDS, 5,
	  { LV_EXACT, LV_COS90, LV_COS70, LV_COS50, LV_ELSE }, LV__MAX, 1 },
	/* MATCH_CODES */
	{ "codes", NORM_WORDS, 4, { LV_EXACT, LV_WORDS, LV_SHARED, LV_ELSE },
	  LV__MAX, 0 },
};

/*
 * A normalised value: code points cps[off, off + len) (len 0: missing),
 * and a second form cps[off2, off2 + len2): TEXT, LONGTEXT and CODES its
 * words sorted, EMAIL its local part; or, for NUMBER (which has no second
 * form), num, its value.  16 bytes: a million records of ten fields hold
 * 160 MB of them.
 */
struct nval {
	uint32_t	off, len;
	union {				/* C11 anonymous members */
		struct {
			uint32_t	off2, len2;
		};
		double		num;
	};
};

/* A run of code points (a key or a word) and the record it belongs to. */
struct span {
	const uint32_t	*p;
	uint32_t	 n;
	uint32_t	 rec;
};

struct mctx {
	const struct match_config *cfg;
	size_t		 nrec, nf;
	struct nval	*nv;		/* nrec * nf */
	uint32_t	*cps;		/* all normalised text */
	size_t		 ncps, capcps;
	utf8proc_int32_t *tmp;		/* utf8proc output */
	size_t		 captmp;
	struct span	*words;		/* TEXT word sorting */
	size_t		 capwords;
	size_t		 nlev[MATCH_MAX_FIELDS];
	enum lvl	 lev[MATCH_MAX_FIELDS][MATCH_MAX_LEVELS];
	int		 swap[MATCH_MAX_FIELDS];	/* field or -1 */
	size_t		 unparsed[MATCH_MAX_FIELDS];
	double		*tfadj[MATCH_MAX_FIELDS];	/* per value id */
	uint32_t	*vid[MATCH_MAX_FIELDS];		/* per record */
	/* knobs with defaults applied */
	double		 threshold;
	int		 em_iterations;
	double		 em_tolerance;
	long long	 max_pairs;
	size_t		 max_block;
	long long	 blocks_skipped[MATCH_MAX_RULES];
	long long	 u_sample;
};

/* ---- configuration --------------------------------------------------- */

size_t
match_kind_nlevels(enum match_kind kind)
{
	if ((int)kind < 0 || kind >= MATCH_KIND__MAX)
		return 0;
	return kinds[kind].nlevels;
}

const char *
match_level_label(enum match_kind kind, size_t level)
{
	if ((int)kind < 0 || kind >= MATCH_KIND__MAX ||
	    level >= kinds[kind].nlevels)
		return NULL;
	return lvl_label[kinds[kind].levels[level]];
}

const char *
match_kind_name(enum match_kind kind)
{
	if ((int)kind < 0 || kind >= MATCH_KIND__MAX)
		return NULL;
	return kinds[kind].name;
}

static int
match_find_field(const struct match_config *cfg, const char *name)
{
	size_t f;

	for (f = 0; f < cfg->nfields; f++)
		if (cfg->fields[f].name != NULL &&
		    strcmp(cfg->fields[f].name, name) == 0)
			return (int)f;
	return -1;
}

/* Checks cfg and fills the level tables and knobs of c. */
static cc_err
match_setup(struct mctx *c, const struct match_config *cfg,
    struct cc_diag *diag)
{
	const struct match_field *fd;
	const struct kind_info *k;
	const struct match_blocking *rb;
	size_t f, l, r, n, q;
	int g;

	memset(c, 0, sizeof(*c));
	c->cfg = cfg;
	if (cfg->fields == NULL || cfg->nfields == 0 ||
	    cfg->nfields > MATCH_MAX_FIELDS)
		return cc_diag_set(diag, CC_EINVAL, "match_fields",
		    "between 1 and %d fields are needed", MATCH_MAX_FIELDS);
	if (cfg->nrules > 0 && cfg->rules == NULL)
		return cc_diag_set(diag, CC_EINVAL, "match_rules",
		    "blocking rules missing");
	if (cfg->nrules > MATCH_MAX_RULES)
		return cc_diag_set(diag, CC_EINVAL, "match_rules",
		    "at most %d blocking rules", MATCH_MAX_RULES);
	c->nf = cfg->nfields;
	for (f = 0; f < cfg->nfields; f++)
		if ((int)cfg->fields[f].kind < 0 ||
		    cfg->fields[f].kind >= MATCH_KIND__MAX)
			return cc_diag_set(diag, CC_EINVAL, "match_kind",
			    "field %zu: unknown kind %d", f + 1,
			    (int)cfg->fields[f].kind);
	for (f = 0; f < cfg->nfields; f++) {
		fd = &cfg->fields[f];
		k = &kinds[fd->kind];
		c->swap[f] = -1;
		if (fd->swap_with != NULL) {
			g = match_find_field(cfg, fd->swap_with);
			if (g < 0 || (size_t)g == f ||
			    k->swap_test == LV__MAX ||
			    kinds[cfg->fields[g].kind].swap_test == LV__MAX)
				return cc_diag_set(diag, CC_EINVAL,
				    "match_swap", "field %zu: cannot swap with "
				    "\"%s\"", f + 1, fd->swap_with);
			c->swap[f] = g;
		}
		if (fd->tf_adjust && k->swap_test == LV__MAX)
			return cc_diag_set(diag, CC_EINVAL, "match_tf",
			    "field %zu: no term frequencies for kind %s",
			    f + 1, k->name);
		/* the swapped level goes just above the weakest before else */
		n = 0;
		for (l = 0; l < k->nlevels; l++) {
			if (c->swap[f] >= 0 && l == k->nlevels - 2)
				c->lev[f][n++] = LV_SWAPPED;
			c->lev[f][n++] = k->levels[l];
		}
		c->nlev[f] = n;
	}
	for (r = 0; r < cfg->nrules; r++) {
		rb = &cfg->rules[r];
		if (rb->nkeys == 0 || rb->nkeys > MATCH_MAX_KEYS)
			return cc_diag_set(diag, CC_EINVAL, "match_rule",
			    "rule %zu: 1 to %d keys", r + 1, MATCH_MAX_KEYS);
		for (q = 0; q < rb->nkeys; q++) {
			f = rb->keys[q].field;
			if (f >= cfg->nfields ||
			    (int)rb->keys[q].fn < 0 ||
			    rb->keys[q].fn >= MATCH_BLOCK__MAX)
				return cc_diag_set(diag, CC_EINVAL,
				    "match_rule", "rule %zu key %zu: unknown "
				    "field or function", r + 1, q + 1);
			k = &kinds[cfg->fields[f].kind];
			if ((rb->keys[q].fn == MATCH_BLOCK_YEAR &&
			    k->norm != NORM_DATE) ||
			    (rb->keys[q].fn == MATCH_BLOCK_LOCAL &&
			    k->norm != NORM_EMAIL) ||
			    (rb->keys[q].fn == MATCH_BLOCK_CODEWORD &&
			    k->norm != NORM_WORDS) ||
			    (rb->keys[q].fn == MATCH_BLOCK_SOUNDEX &&
			    !k->soundex))
				return cc_diag_set(diag, CC_EINVAL,
				    "match_rule", "rule %zu key %zu: function "
				    "does not fit kind %s", r + 1, q + 1,
				    k->name);
		}
	}
	if (cfg->threshold_probability < 0 ||
	    cfg->threshold_probability >= 1 || cfg->em_iterations < 0 ||
	    cfg->em_tolerance < 0 || cfg->max_pairs < 0 ||
	    cfg->u_sample_pairs < 0 || isnan(cfg->threshold_probability) ||
	    isnan(cfg->em_tolerance))
		return cc_diag_set(diag, CC_EINVAL, "match_knob",
		    "a knob is out of range");
	c->threshold = cfg->threshold_probability > 0 ?
	    cfg->threshold_probability : MATCH_DEFAULT_THRESHOLD;
	c->em_iterations = cfg->em_iterations > 0 ? cfg->em_iterations :
	    MATCH_DEFAULT_EM_ITERATIONS;
	c->em_tolerance = cfg->em_tolerance > 0 ? cfg->em_tolerance :
	    MATCH_DEFAULT_EM_TOLERANCE;
	c->max_block = cfg->max_block_size > 0 ? cfg->max_block_size :
	    MATCH_DEFAULT_MAX_BLOCK;
	c->max_pairs = cfg->max_pairs > 0 ? cfg->max_pairs :
	    MATCH_DEFAULT_MAX_PAIRS;
	c->u_sample = cfg->u_sample_pairs > 0 ? cfg->u_sample_pairs :
	    MATCH_DEFAULT_U_SAMPLE;
	return CC_OK;
}

static void
match_ctx_free(struct mctx *c)
{
	size_t f;

	free(c->nv);
	free(c->cps);
	free(c->tmp);
	free(c->words);
	for (f = 0; f < MATCH_MAX_FIELDS; f++) {
		free(c->tfadj[f]);
		free(c->vid[f]);
	}
}

/* ---- normalisation --------------------------------------------------- */

static cc_err
match_reserve(struct mctx *c, size_t more)
{
	uint32_t *p;
	size_t cap;

	if (c->ncps + more <= c->capcps)
		return CC_OK;
	if (c->ncps + more >= UINT32_MAX)
		return CC_ETOOBIG;
	cap = c->capcps ? c->capcps : 4096;
	while (cap < c->ncps + more)
		cap *= 2;
	if ((p = realloc(c->cps, cap * sizeof(*p))) == NULL)
		return CC_ENOMEM;
	c->cps = p;
	c->capcps = cap;
	return CC_OK;
}

static int
match_is_alnum(uint32_t cp)
{
	utf8proc_category_t cat;

	if (cp < 0x80)
		return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
		    (cp >= '0' && cp <= '9');
	cat = utf8proc_category((utf8proc_int32_t)cp);
	return (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) ||
	    (cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO);
}

static int
match_is_space(uint32_t cp)
{
	utf8proc_category_t cat;

	if (cp < 0x80)
		return cp == ' ' || (cp >= '\t' && cp <= '\r');
	cat = utf8proc_category((utf8proc_int32_t)cp);
	return cat >= UTF8PROC_CATEGORY_ZS && cat <= UTF8PROC_CATEGORY_ZP;
}

/* Case-folds s into c->tmp; returns the number of code points, or -1
 * when s is not UTF-8, -2 when out of memory. */
static long
match_fold(struct mctx *c, const char *s)
{
	const utf8proc_option_t opt = UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT |
	    UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK | UTF8PROC_LUMP |
	    UTF8PROC_IGNORE | UTF8PROC_STRIPCC;
	utf8proc_ssize_t n, len = (utf8proc_ssize_t)strlen(s);
	utf8proc_int32_t *p;

	for (;;) {
		n = utf8proc_decompose((const utf8proc_uint8_t *)s, len,
		    c->tmp, (utf8proc_ssize_t)c->captmp, opt);
		if (n < 0)
			return n == UTF8PROC_ERROR_NOMEM ? -2 : -1;
		if ((size_t)n <= c->captmp)
			return (long)n;
		if ((p = realloc(c->tmp, (size_t)n * sizeof(*p))) == NULL)
			return -2;
		c->tmp = p;
		c->captmp = (size_t)n;
	}
}

static int
span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;
	uint32_t i, n = x->n < y->n ? x->n : y->n;

	for (i = 0; i < n; i++)
		if (x->p[i] != y->p[i])
			return x->p[i] < y->p[i] ? -1 : 1;
	if (x->n != y->n)
		return x->n < y->n ? -1 : 1;
	if (x->rec != y->rec)
		return x->rec < y->rec ? -1 : 1;
	return 0;
}

/* Appends the words of v (one space apart) in sorted order as v's
 * second form. */
static cc_err
match_sort_words(struct mctx *c, struct nval *v)
{
	struct span *w;
	size_t nw, i, s;
	uint32_t *base;
	cc_err err;

	if ((err = match_reserve(c, v->len + 1)) != CC_OK)
		return err;
	if (c->capwords < v->len / 2 + 1) {
		if ((w = realloc(c->words, (v->len / 2 + 1) *
		    sizeof(*w))) == NULL)
			return CC_ENOMEM;
		c->words = w;
		c->capwords = v->len / 2 + 1;
	}
	base = c->cps + v->off;
	nw = 0;
	for (i = 0; i < v->len; i = s + 1) {
		for (s = i; s < v->len && base[s] != ' '; s++)
			continue;
		c->words[nw].p = base + i;
		c->words[nw].n = (uint32_t)(s - i);
		c->words[nw].rec = 0;
		nw++;
	}
	qsort(c->words, nw, sizeof(*c->words), span_cmp);
	v->off2 = (uint32_t)c->ncps;
	for (i = 0; i < nw; i++) {
		if (i > 0)
			c->cps[c->ncps++] = ' ';
		memcpy(c->cps + c->ncps, c->words[i].p,
		    c->words[i].n * sizeof(uint32_t));
		c->ncps += c->words[i].n;
	}
	v->len2 = (uint32_t)(c->ncps - v->off2);
	return CC_OK;
}

/* Parses a date (see MATCH_DATE); 1 on success. */
static int
match_parse_date(const char *s, int *y, int *m, int *d)
{
	const char *p = s;
	int n, sep;

	while (*p == ' ' || *p == '\t')
		p++;
	for (n = 0; p[n] >= '0' && p[n] <= '9'; n++)
		continue;
	if (n == 8) {
		*y = (p[0] - '0') * 1000 + (p[1] - '0') * 100 +
		    (p[2] - '0') * 10 + (p[3] - '0');
		*m = (p[4] - '0') * 10 + (p[5] - '0');
		*d = (p[6] - '0') * 10 + (p[7] - '0');
		p += 8;
	} else if (n == 4 && (p[4] == '-' || p[4] == '/' || p[4] == '.')) {
		*y = (p[0] - '0') * 1000 + (p[1] - '0') * 100 +
		    (p[2] - '0') * 10 + (p[3] - '0');
		sep = p[4];
		p += 5;
		for (*m = 0, n = 0; n < 2 && *p >= '0' && *p <= '9'; n++)
			*m = *m * 10 + (*p++ - '0');
		if (n == 0 || *p++ != sep)
			return 0;
		for (*d = 0, n = 0; n < 2 && *p >= '0' && *p <= '9'; n++)
			*d = *d * 10 + (*p++ - '0');
		if (n == 0)
			return 0;
	} else
		return 0;
	return *p == '\0' || *p == 'T' || *p == ' ' || *p == '\t' ||
	    *p == '\r' || *p == '\n';
}

static int
match_blank(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
			return 0;
	return 1;
}

/* Appends the ASCII text s as code points: v becomes s. */
static cc_err
match_put_ascii(struct mctx *c, struct nval *v, const char *s)
{
	size_t n = strlen(s), i;
	cc_err err;

	if ((err = match_reserve(c, n)) != CC_OK)
		return err;
	v->off = (uint32_t)c->ncps;
	for (i = 0; i < n; i++)
		c->cps[c->ncps++] = (unsigned char)s[i];
	v->len = (uint32_t)n;
	return CC_OK;
}

/* Normalises s, field f's value, into *v.  Errors: CC_EENCODING,
 * CC_ENOMEM, CC_ETOOBIG. */
static cc_err
match_norm(struct mctx *c, size_t f, const char *s, struct nval *v)
{
	const struct kind_info *k = &kinds[c->cfg->fields[f].kind];
	char buf[40], *end;
	long n, i;
	int y, m, d, space;
	uint32_t cp;
	cc_err err;

	memset(v, 0, sizeof(*v));
	if (s == NULL)
		return CC_OK;
	if (k->norm == NORM_DATE) {
		if (!match_parse_date(s, &y, &m, &d)) {
			if (!match_blank(s))
				c->unparsed[f]++;
			return CC_OK;
		}
		snprintf(buf, sizeof(buf), "%04d%02d%02d", y, m, d);
		return match_put_ascii(c, v, buf);
	}
	if (k->norm == NORM_NUMBER) {
		if (match_blank(s))
			return CC_OK;
		errno = 0;
		v->num = strtod(s, &end);
		if (end == s || !match_blank(end) || errno == ERANGE ||
		    !isfinite(v->num)) {
			c->unparsed[f]++;
			v->num = 0;
			return CC_OK;
		}
		snprintf(buf, sizeof(buf), "%.15g", v->num);
		return match_put_ascii(c, v, buf);
	}
	if ((n = match_fold(c, s)) < 0)
		return n == -2 ? CC_ENOMEM : CC_EENCODING;
	if ((err = match_reserve(c, (size_t)n)) != CC_OK)
		return err;
	v->off = (uint32_t)c->ncps;
	space = 0;
	for (i = 0; i < n; i++) {
		cp = (uint32_t)c->tmp[i];
		if (k->norm == NORM_EMAIL) {
			if (!match_is_space(cp))
				c->cps[c->ncps++] = cp;
		} else if (match_is_alnum(cp)) {
			if (space && c->ncps > v->off)
				c->cps[c->ncps++] = ' ';
			space = 0;
			c->cps[c->ncps++] = cp;
		} else if (k->norm == NORM_WORDS && cp != '\'' && cp != '`')
			space = 1;
	}
	v->len = (uint32_t)(c->ncps - v->off);
	if (v->len == 0)
		return CC_OK;
	if (c->cfg->fields[f].kind == MATCH_TEXT ||
	    c->cfg->fields[f].kind == MATCH_LONGTEXT ||
	    c->cfg->fields[f].kind == MATCH_CODES)
		return match_sort_words(c, v);
	if (k->norm == NORM_EMAIL) {
		v->off2 = v->off;
		v->len2 = v->len;
		for (i = (long)v->len - 1; i >= 0; i--)
			if (c->cps[v->off + (uint32_t)i] == '@') {
				v->len2 = (uint32_t)i;
				break;
			}
	}
	return CC_OK;
}

static cc_err
match_normalise(struct mctx *c, const char *const *records, size_t nrec,
    struct cc_diag *diag)
{
	size_t r, f;
	cc_err err;

	c->nrec = nrec;
	if (nrec == 0)
		return CC_OK;
	if ((c->nv = calloc(nrec * c->nf, sizeof(*c->nv))) == NULL)
		return cc_diag_set(diag, CC_ENOMEM, "match_nomem",
		    "out of memory");
	for (r = 0; r < nrec; r++)
		for (f = 0; f < c->nf; f++) {
			err = match_norm(c, f, records[r * c->nf + f],
			    &c->nv[r * c->nf + f]);
			if (err == CC_EENCODING) {
				if (diag != NULL) {
					diag->line = (long)r + 1;
					diag->column = (long)f + 1;
				}
				return cc_diag_set(diag, err, "match_encoding",
				    "record %zu field %zu is not UTF-8",
				    r + 1, f + 1);
			}
			if (err == CC_ETOOBIG)
				return cc_diag_set(diag, err, "match_too_big",
				    "more than 4 G characters of values");
			if (err != CC_OK)
				return cc_diag_set(diag, err, "match_nomem",
				    "out of memory normalising values");
		}
	return CC_OK;
}

/* ---- comparison ------------------------------------------------------ */

/* A pair of values being compared, with lazily computed similarities. */
struct cmp {
	const uint32_t	*a, *b;
	size_t		 na, nb;
	double		 jw;		/* < 0: not yet */
	size_t		 edits;		/* SIZE_MAX: not yet (at most 3) */
	double		 cos;		/* < 0: not yet */
};

/*
 * The token-set cosine of two values' sorted words (their second form):
 * |A and B| / sqrt(|A| |B|) over the distinct words of each, in [0, 1]
 * (Ochiai; Cohen, Ravikumar and Fienberg, "A comparison of string
 * distance metrics for name-matching tasks", IIWeb 2003).  Words in any
 * order count; a word's frequency within the value does not.
 */
static double
cmp_cosine(const struct mctx *c, const struct nval *x, const struct nval *y)
{
	const uint32_t *a = c->cps + x->off2, *b = c->cps + y->off2;
	size_t na = x->len2, nb = y->len2, i = 0, j = 0, wa = 0, wb = 0,
	    both = 0, la, lb, k;
	const uint32_t *pa = NULL, *pb = NULL;
	size_t lpa = 0, lpb = 0;
	int cmpv;

	/* walk both sorted word lists, skipping repeated words */
	while (i < na || j < nb) {
		for (la = 0; i + la < na && a[i + la] != ' '; la++)
			;
		for (lb = 0; j + lb < nb && b[j + lb] != ' '; lb++)
			;
		if (i < na && pa != NULL && la == lpa &&
		    !memcmp(pa, a + i, la * sizeof(*a))) {
			i += la + 1;
			continue;
		}
		if (j < nb && pb != NULL && lb == lpb &&
		    !memcmp(pb, b + j, lb * sizeof(*b))) {
			j += lb + 1;
			continue;
		}
		if (i >= na)
			cmpv = 1;
		else if (j >= nb)
			cmpv = -1;
		else {
			cmpv = 0;
			for (k = 0; k < la && k < lb && !cmpv; k++)
				cmpv = a[i + k] < b[j + k] ? -1 :
				    a[i + k] > b[j + k];
			if (!cmpv)
				cmpv = la < lb ? -1 : la > lb;
		}
		if (cmpv <= 0) {
			pa = a + i;
			lpa = la;
			wa++;
			i += la + 1;
		}
		if (cmpv >= 0) {
			pb = b + j;
			lpb = lb;
			wb++;
			j += lb + 1;
		}
		if (cmpv == 0)
			both++;
	}
	if (wa == 0 || wb == 0)
		return 0;
	return (double)both / sqrt((double)wa * (double)wb);
}

/* MATCH_CODES: do two values' sorted codes share one, or does one code
 * start the other's (both of 5 or more characters)? */
static int
cmp_shared(const struct mctx *c, const struct nval *x, const struct nval *y)
{
	const uint32_t *a = c->cps + x->off2, *b = c->cps + y->off2;
	size_t i, j, la, lb;

	for (i = 0; i < x->len2; i += la + 1) {
		for (la = 0; i + la < x->len2 && a[i + la] != ' '; la++)
			continue;
		for (j = 0; j < y->len2; j += lb + 1) {
			for (lb = 0; j + lb < y->len2 && b[j + lb] != ' ';
			    lb++)
				continue;
			if (la == lb && !memcmp(a + i, b + j, la * sizeof(*a)))
				return 1;
			if (la >= 5 && lb >= 5 && !memcmp(a + i, b + j,
			    (la < lb ? la : lb) * sizeof(*a)))
				return 1;
		}
	}
	return 0;
}

static double
cmp_jw(struct cmp *p)
{
	if (p->jw < 0)
		p->jw = strsim_jaro_winkler(p->a, p->na, p->b, p->nb);
	return p->jw;
}

static size_t
cmp_edits(struct cmp *p)
{
	if (p->edits == SIZE_MAX)
		p->edits = strsim_levenshtein(p->a, p->na, p->b, p->nb, 2);
	return p->edits;
}

static int
match_same(const struct mctx *c, uint32_t o1, uint32_t n1, uint32_t o2,
    uint32_t n2)
{
	return n1 == n2 &&
	    memcmp(c->cps + o1, c->cps + o2, n1 * sizeof(uint32_t)) == 0;
}

/* Date parts of a normalised date (YYYYMMDD code points). */
static int
match_num2(const uint32_t *p, int n)
{
	int v = 0, i;

	for (i = 0; i < n; i++)
		v = v * 10 + (int)(p[i] - '0');
	return v;
}

static int
match_within(double a, double b, double rel)
{
	double big = fabs(a) > fabs(b) ? fabs(a) : fabs(b);

	return fabs(a - b) <= rel * big;
}

static int match_holds(const struct mctx *, size_t, enum lvl,
    const struct nval *, const struct nval *, const struct nval *,
    const struct nval *, struct cmp *);

/* Does level t hold between x and y (one field, both present)? xs, ys:
 * the swap field's values of the same records (for LV_SWAPPED). */
static int
match_holds(const struct mctx *c, size_t f, enum lvl t, const struct nval *x,
    const struct nval *y, const struct nval *xs, const struct nval *ys,
    struct cmp *p)
{
	enum lvl st;
	struct cmp q;

	switch (t) {
	case LV_EXACT:
		if (c->cfg->fields[f].kind == MATCH_NUMBER)
			return x->num == y->num;
		return match_same(c, x->off, x->len, y->off, y->len);
	case LV_WORDS:
	case LV_LOCAL:
		return x->len2 > 0 &&
		    match_same(c, x->off2, x->len2, y->off2, y->len2);
	case LV_JW92:
		return cmp_jw(p) >= 0.92;
	case LV_JW88:
		return cmp_jw(p) >= 0.88;
	case LV_JW80:
		return cmp_jw(p) >= 0.80;
	case LV_EDIT1:
		return cmp_edits(p) <= 1;
	case LV_EDIT2:
		return cmp_edits(p) <= 2;
	case LV_DMSWAP:
		return x->len == 8 && y->len == 8 &&
		    match_same(c, x->off, 4, y->off, 4) &&
		    match_same(c, x->off + 4, 2, y->off + 6, 2) &&
		    match_same(c, x->off + 6, 2, y->off + 4, 2);
	case LV_YEAR1:
		return abs(match_num2(p->a, 4) - match_num2(p->b, 4)) <= 1;
	case LV_YEAR10:
		return abs(match_num2(p->a, 4) - match_num2(p->b, 4)) <= 10;
	case LV_NUM1:
		return match_within(x->num, y->num, 0.01);
	case LV_NUM10:
		return match_within(x->num, y->num, 0.10);
	case LV_PREFIX3:
		return x->len >= 3 && y->len >= 3 &&
		    match_same(c, x->off, 3, y->off, 3);
	case LV_COS90:
	case LV_COS70:
	case LV_COS50:
		if (p->cos < 0)
			p->cos = cmp_cosine(c, x, y);
		return p->cos >= (t == LV_COS90 ? 0.9 : t == LV_COS70 ? 0.7 :
		    0.5);
	case LV_SHARED:
		return cmp_shared(c, x, y);
	case LV_SWAPPED:
		st = kinds[c->cfg->fields[f].kind].swap_test;
		q.jw = -1;
		q.edits = SIZE_MAX;
		q.cos = -1;
		if (ys->len > 0) {
			q.a = c->cps + x->off;
			q.na = x->len;
			q.b = c->cps + ys->off;
			q.nb = ys->len;
			if (match_holds(c, f, st, x, ys, NULL, NULL, &q))
				return 1;
		}
		if (xs->len > 0) {
			q.a = c->cps + xs->off;
			q.na = xs->len;
			q.b = c->cps + y->off;
			q.nb = y->len;
			q.jw = -1;
			q.edits = SIZE_MAX;
			q.cos = -1;
			if (match_holds(c, f, st, xs, y, NULL, NULL, &q))
				return 1;
		}
		return 0;
	case LV_ELSE:
	case LV__MAX:
		break;
	}
	return 1;
}

/* The comparison vector of records i and j into gamma (nf bytes). */
static void
match_gamma(const struct mctx *c, uint32_t i, uint32_t j,
    unsigned char *gamma)
{
	const struct nval *x, *y, *xs, *ys;
	struct cmp p;
	size_t f, l;

	for (f = 0; f < c->nf; f++) {
		x = &c->nv[(size_t)i * c->nf + f];
		y = &c->nv[(size_t)j * c->nf + f];
		if (x->len == 0 || y->len == 0) {
			gamma[f] = MATCH_LEVEL_MISSING;
			continue;
		}
		xs = ys = NULL;
		if (c->swap[f] >= 0) {
			xs = &c->nv[(size_t)i * c->nf + (size_t)c->swap[f]];
			ys = &c->nv[(size_t)j * c->nf + (size_t)c->swap[f]];
		}
		p.a = c->cps + x->off;
		p.na = x->len;
		p.b = c->cps + y->off;
		p.nb = y->len;
		p.jw = -1;
		p.edits = SIZE_MAX;
		p.cos = -1;
		for (l = 0; l + 1 < c->nlev[f]; l++)
			if (match_holds(c, f, c->lev[f][l], x, y, xs, ys, &p))
				break;
		gamma[f] = (unsigned char)l;
	}
}

/* The comparison vectors of n pairs (i << 32 | j) into g (n x nf bytes),
 * on two threads when there are many: match_gamma() only reads c, and
 * each vector has its own place, so the vectors are those of one
 * thread. */
struct gamma_job {
	const struct mctx	*c;
	const uint64_t		*pairs;
	size_t			 n;
	unsigned char		*g;
};

static void *
gamma_job_run(void *arg)
{
	const struct gamma_job *b = arg;
	size_t k;

	for (k = 0; k < b->n; k++)
		match_gamma(b->c, (uint32_t)(b->pairs[k] >> 32),
		    (uint32_t)(b->pairs[k] & 0xFFFFFFFFu), b->g + k *
		    b->c->nf);
	return NULL;
}

#define GAMMA_PARALLEL_MIN	4096	/* fewer pairs: one thread */

static void
match_gamma_many(const struct mctx *c, const uint64_t *pairs, size_t n,
    unsigned char *g)
{
	struct gamma_job half[2];
	pthread_t th;
	size_t h = n / 2;

	half[0].c = half[1].c = c;
	half[0].pairs = pairs;
	half[0].n = h;
	half[0].g = g;
	half[1].pairs = pairs + h;
	half[1].n = n - h;
	half[1].g = g + h * c->nf;
	if (n < GAMMA_PARALLEL_MIN || c->cfg->threads == 1 ||
	    pthread_create(&th, NULL, gamma_job_run, &half[1]) != 0) {
		half[0].n = n;
		gamma_job_run(&half[0]);
		return;
	}
	gamma_job_run(&half[0]);
	pthread_join(th, NULL);
}

/* ---- blocking -------------------------------------------------------- */

/* A span's hash (FNV-1a over its code points, then SplitMix64's
 * finaliser) and its place, for sorting by hash. */
struct hspan {
	uint64_t	h;
	uint32_t	rec;
	uint32_t	i;
};

static int
hspan_cmp(const void *a, const void *b)
{
	const struct hspan *x = a, *y = b;

	if (x->h != y->h)
		return x->h < y->h ? -1 : 1;
	return x->rec < y->rec ? -1 : x->rec > y->rec;
}

static uint64_t
span_hash(const struct span *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	uint32_t k;

	for (k = 0; k < s->n; k++)
		h = (h ^ s->p[k]) * 0x100000001b3ULL;
	h ^= s->n;
	h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9ULL;
	h = (h ^ (h >> 27)) * 0x94D049BB133111EBULL;
	return h ^ (h >> 31);
}

static int
span_same(const struct span *x, const struct span *y)
{
	return x->n == y->n && memcmp(x->p, y->p, x->n * sizeof(uint32_t)) ==
	    0;
}

/*
 * Gives each distinct span of e[0, n) an id (ids[rec]) and leaves e
 * ordered so that equal spans are adjacent, each group by record.  The
 * groups come in the order of a hash of their spans (a sort on 64-bit
 * hashes is several times faster than one on the code points); spans of
 * one hash that differ (a collision) are told apart by their code points.
 * Returns the number of ids.  Without memory for the hashes it sorts e
 * by span_cmp instead (the slow way; the same ids).
 */
static uint32_t
match_intern(struct span *e, size_t n, uint32_t *ids)
{
	struct hspan *hs;
	struct span *tmp;
	size_t a, b, k;
	uint32_t id = 0;

	if (n == 0)
		return 0;
	hs = malloc(n * sizeof(*hs));
	tmp = malloc(n * sizeof(*tmp));
	if (hs == NULL || tmp == NULL) {
		free(hs);
		free(tmp);
		qsort(e, n, sizeof(*e), span_cmp);
		for (a = 0; a < n; a++) {
			if (a > 0 && !span_same(&e[a], &e[a - 1]))
				id++;
			ids[e[a].rec] = id;
		}
		return id + 1;
	}
	for (a = 0; a < n; a++) {
		hs[a].h = span_hash(&e[a]);
		hs[a].rec = e[a].rec;
		hs[a].i = (uint32_t)a;
	}
	qsort(hs, n, sizeof(*hs), hspan_cmp);
	for (a = 0; a < n; a++)
		tmp[a] = e[hs[a].i];
	memcpy(e, tmp, n * sizeof(*e));
	for (a = 0; a < n; a = b) {
		int differ = 0;
		for (b = a + 1; b < n && hs[b].h == hs[a].h; b++)
			differ |= !span_same(&e[b], &e[a]);
		/* a collision: that group by its code points */
		if (differ)
			qsort(e + a, b - a, sizeof(*e), span_cmp);
		for (k = a; k < b; k++) {
			if (k > a && !span_same(&e[k], &e[k - 1]))
				id++;
			ids[e[k].rec] = id;
		}
		id++;
	}
	free(hs);
	free(tmp);
	return id;
}

static uint64_t
mix64(uint64_t h)
{
	h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9ULL;
	h = (h ^ (h >> 27)) * 0x94D049BB133111EBULL;
	return h ^ (h >> 31);
}

/* FNV-1a over n code points, finished by SplitMix64's mixer. */
static uint64_t
cps_hash(const uint32_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t k;

	for (k = 0; k < n; k++)
		h = (h ^ p[k]) * 0x100000001b3ULL;
	return mix64(h ^ n);
}

/*
 * The blocking key of rule rb for record r, as a 64-bit hash of its
 * parts (*out); 0 when a part is missing.  Records whose keys hash alike
 * share a block: two different keys that collide (about n^2 / 2^65 pairs
 * for n records) only make a candidate pair more, which the comparison
 * then judges; no record is merged for its key.  An unordered rule
 * (match_blocking.unordered) combines its two parts' hashes in sorted
 * order, so the key is the same for both orders.
 */
static int
match_key_hash(const struct mctx *c, const struct match_blocking *rb,
    size_t r, uint64_t *out)
{
	uint64_t part[MATCH_MAX_KEYS], h, t;
	const struct nval *v;
	size_t q, i;
	char sx[5];

	for (q = 0; q < rb->nkeys; q++) {
		v = &c->nv[r * c->nf + rb->keys[q].field];
		if (v->len == 0)
			return 0;
		switch (rb->keys[q].fn) {
		case MATCH_BLOCK_EXACT:
			part[q] = cps_hash(c->cps + v->off, v->len);
			break;
		case MATCH_BLOCK_FIRST3:
			part[q] = cps_hash(c->cps + v->off, v->len < 3 ?
			    v->len : 3);
			break;
		case MATCH_BLOCK_YEAR:
			part[q] = cps_hash(c->cps + v->off, v->len < 4 ?
			    v->len : 4);
			break;
		case MATCH_BLOCK_LOCAL:
			if (c->cfg->fields[rb->keys[q].field].kind !=
			    MATCH_EMAIL || v->len2 == 0)
				return 0;
			part[q] = cps_hash(c->cps + v->off2, v->len2);
			break;
		case MATCH_BLOCK_CODEWORD: {
			/* the longest word with both a letter and a digit, or
			 * of 4+ digits (the first of equal length): a model
			 * or part number inside a product's name */
			const uint32_t *w = c->cps + v->off;
			size_t bs = 0, bl = 0, s0, e0, d, a;
			for (s0 = 0; s0 < v->len; s0 = e0 + 1) {
				for (e0 = s0; e0 < v->len && w[e0] != ' '; e0++)
					continue;
				for (d = a = 0, i = s0; i < e0; i++) {
					d += w[i] >= '0' && w[i] <= '9';
					a += !(w[i] >= '0' && w[i] <= '9');
				}
				if (((d > 0 && a > 0 && e0 - s0 >= 3) || d >= 4) &&
				    e0 - s0 > bl) {
					bs = s0;
					bl = e0 - s0;
				}
			}
			if (bl == 0)
				return 0;
			part[q] = cps_hash(w + bs, bl);
			break;
		}
		case MATCH_BLOCK_SOUNDEX:
		case MATCH_BLOCK__MAX:
		default: {
			uint32_t code[4];
			if (!strsim_soundex(c->cps + v->off, v->len, sx))
				return 0;
			for (i = 0; i < 4; i++)
				code[i] = (unsigned char)sx[i];
			part[q] = cps_hash(code, 4);
			break;
		}
		}
	}
	if (rb->unordered && rb->nkeys == 2 && part[1] < part[0]) {
		t = part[0];
		part[0] = part[1];
		part[1] = t;
	}
	h = 0x9E3779B97F4A7C15ULL;
	for (q = 0; q < rb->nkeys; q++)
		h = mix64(h ^ part[q]) + q;
	*out = h;
	return 1;
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Appends pair (i, j) unless max_pairs is reached: 1 when full. */
static int
match_push(const struct mctx *c, uint64_t **pp, size_t *n, size_t *cap,
    uint32_t i, uint32_t j, int *nomem)
{
	uint64_t *p;
	size_t nc;

	if ((long long)*n >= c->max_pairs)
		return 1;
	if (*n == *cap) {
		nc = *cap ? *cap * 2 : 1024;
		if ((long long)nc > c->max_pairs)
			nc = (size_t)c->max_pairs;
		if ((p = realloc(*pp, nc * sizeof(*p))) == NULL) {
			*nomem = 1;
			return 1;
		}
		*pp = p;
		*cap = nc;
	}
	(*pp)[(*n)++] = (uint64_t)i << 32 | j;
	return 0;
}

/* A block of one rule: records e[start, start + size). */
struct block {
	size_t	start, size;
};

/* Smaller blocks first, then in the order match_intern() left them (the
 * hashes of their keys: deterministic). */
static int
block_cmp(const void *x, const void *y)
{
	const struct block *a = x, *b = y;

	if (a->size != b->size)
		return a->size < b->size ? -1 : 1;
	return a->start < b->start ? -1 : a->start > b->start;
}

/* A rule whose key gives a record several blocks (MATCH_BLOCK_WORDS*). */
static int
rule_multi(const struct match_blocking *rb)
{
	return rb->nkeys == 1 && (rb->keys[0].fn == MATCH_BLOCK_WORDS ||
	    rb->keys[0].fn == MATCH_BLOCK_WORDS5);
}

/* Appends one key per word of record r's value to *e (growing it):
 * MATCH_BLOCK_WORDS the whole word, WORDS5 the first 5 characters of
 * each word of at least 5.  Errors: CC_ENOMEM. */
static cc_err
match_word_keys(const struct mctx *c, const struct match_blocking *rb,
    size_t r, struct hspan **e, size_t *ne, size_t *cap)
{
	const struct nval *v = &c->nv[r * c->nf + rb->keys[0].field];
	const uint32_t *w = c->cps + v->off;
	size_t s0, e0, n;

	for (s0 = 0; s0 < v->len; s0 = e0 + 1) {
		for (e0 = s0; e0 < v->len && w[e0] != ' '; e0++)
			continue;
		n = e0 - s0;
		if (rb->keys[0].fn == MATCH_BLOCK_WORDS5) {
			if (n < 5)
				continue;
			n = 5;
		}
		if (n == 0)
			continue;
		if (*ne == *cap) {
			struct hspan *t = realloc(*e, *cap * 2 * sizeof(*t));
			if (t == NULL)
				return CC_ENOMEM;
			*e = t;
			*cap *= 2;
		}
		(*e)[*ne].h = mix64(cps_hash(w + s0, n) ^ rb->keys[0].fn);
		(*e)[*ne].rec = (uint32_t)r;
		(*e)[*ne].i = 0;
		(*ne)++;
	}
	return CC_OK;
}

/* Do records i and j share a key of multi-key rule rb? */
static int
share_word(const struct mctx *c, const struct match_blocking *rb, size_t i,
    size_t j)
{
	struct hspan *a = NULL, *b = NULL;
	size_t na = 0, nb = 0, ca = 4, cb = 4, x, y;
	int found = 0;

	if ((a = malloc(ca * sizeof(*a))) == NULL ||
	    (b = malloc(cb * sizeof(*b))) == NULL ||
	    match_word_keys(c, rb, i, &a, &na, &ca) != CC_OK ||
	    match_word_keys(c, rb, j, &b, &nb, &cb) != CC_OK)
		goto out;
	for (x = 0; x < na && !found; x++)
		for (y = 0; y < nb && !found; y++)
			found = a[x].h == b[y].h;
out:
	free(a);
	free(b);
	return found;
}

/*
 * Candidate pairs (i << 32 | j, i < j) sorted, each once: a pair is taken
 * by the first rule whose blocks hold both records.
 */
static cc_err
match_block(struct mctx *c, uint64_t **out, size_t *nout, int *truncated,
    unsigned char **rule_out, struct cc_diag *diag)
{
	const struct match_config *cfg = c->cfg;
	uint32_t *bid = NULL, id;
	uint64_t *pairs = NULL, h;
	struct hspan *e = NULL;
	size_t cape = 0;
	int multi, first_multi = -1;
	struct block *blk = NULL;
	size_t nb, k;
	long long share, added;
	size_t npairs = 0, cap = 0, r, q, a, b, s, ne;
	uint32_t i, j;
	int full = 0, nomem = 0, dup;
	cc_err err = CC_ENOMEM;

	*out = NULL;
	*nout = 0;
	*truncated = 0;
	if (rule_out != NULL)
		*rule_out = NULL;
	if (c->nrec < 2)
		return CC_OK;
	if (cfg->nrules == 0) {
		for (i = 0; i < c->nrec && !full; i++)
			for (j = i + 1; j < c->nrec && !full; j++)
				full = match_push(c, &pairs, &npairs, &cap, i,
				    j, &nomem);
		goto done;
	}
	cape = c->nrec;
	if ((bid = malloc(cfg->nrules * c->nrec * sizeof(*bid))) == NULL ||
	    (e = malloc(cape * sizeof(*e))) == NULL)
		goto out;
	for (r = 0; r < cfg->nrules && !full; r++) {
		multi = rule_multi(&cfg->rules[r]);
		if (multi && first_multi < 0)
			first_multi = (int)r;
		/* each record's key hash (a multi-key rule: one per word);
		 * sorted, equal keys are adjacent, each block by record */
		ne = 0;
		for (a = 0; a < c->nrec; a++) {
			bid[r * c->nrec + a] = NO_ID;
			if (multi) {
				if (match_word_keys(c, &cfg->rules[r], a, &e,
				    &ne, &cape) != CC_OK)
					goto out;
			} else if (match_key_hash(c, &cfg->rules[r], a, &h)) {
				e[ne].h = h;
				e[ne].rec = (uint32_t)a;
				e[ne].i = 0;
				ne++;
			}
		}
		qsort(e, ne, sizeof(*e), hspan_cmp);
		/* one block per record and rule, but for multi-key rules
		 * (a record in several blocks: no single id) */
		for (a = 0, id = 0; a < ne && !multi; a++) {
			if (a > 0 && e[a].h != e[a - 1].h)
				id++;
			bid[r * c->nrec + e[a].rec] = id;
		}
		if (blk == NULL || ne > c->nrec) {
			struct block *t = realloc(blk, (ne > c->nrec ? ne :
			    c->nrec) * sizeof(*blk));
			if (t == NULL)
				goto out;
			blk = t;
		}
		/* the blocks of this rule, smallest first: a rule may add
		 * at most its share of max_pairs, and when it must stop, the
		 * blocks it leaves out are its largest (the most common key
		 * values, which say least about who matches whom) */
		nb = 0;
		for (s = 0; s < ne; s = b) {
			for (b = s + 1; b < ne && e[b].h == e[s].h; b++)
				continue;
			if (b - s < 2)
				continue;
			blk[nb].start = s;
			blk[nb++].size = b - s;
		}
		qsort(blk, nb, sizeof(*blk), block_cmp);
		share = c->max_pairs / (long long)cfg->nrules;
		added = 0;
		for (k = 0; k < nb && !full; k++) {
			s = blk[k].start;
			b = s + blk[k].size;
			/* a block larger than the limit, or beyond the rule's
			 * share: left out, counted */
			if (blk[k].size > c->max_block || added +
			    (long long)(blk[k].size * (blk[k].size - 1) / 2) >
			    share) {
				c->blocks_skipped[r] += (long long)(nb - k);
				break;
			}
			added += (long long)(blk[k].size * (blk[k].size - 1) / 2);
			for (a = s; a < b && !full; a++)
				for (q = a + 1; q < b && !full; q++) {
					i = e[a].rec;
					j = e[q].rec;
					dup = i == j;	/* a word twice */
					for (size_t r2 = 0; r2 < r && !dup;
					    r2++)
						dup = bid[r2 * c->nrec + i] !=
						    NO_ID &&
						    bid[r2 * c->nrec + i] ==
						    bid[r2 * c->nrec + j];
					if (!dup)
						full = match_push(c, &pairs,
						    &npairs, &cap, i, j,
						    &nomem);
				}
		}
	}
done:
	if (nomem)
		goto out;
	*truncated = full;
	if (npairs > 0)
		qsort(pairs, npairs, sizeof(*pairs), u64_cmp);
	/* a pair that two blocks of a multi-key rule hold (two shared
	 * words), or that such a rule and a later one found: once */
	if (first_multi >= 0 && npairs > 0) {
		size_t w = 1;
		for (s = 1; s < npairs; s++)
			if (pairs[s] != pairs[w - 1])
				pairs[w++] = pairs[s];
		npairs = w;
	}
	/* the rule that found each pair: the first whose blocks hold both */
	if (rule_out != NULL && npairs > 0) {
		unsigned char *ru = calloc(npairs, 1);
		if (ru == NULL)
			goto out;
		for (s = 0; s < npairs && bid != NULL; s++) {
			i = (uint32_t)(pairs[s] >> 32);
			j = (uint32_t)(pairs[s] & 0xFFFFFFFFu);
			/* (a multi-key rule: do the two share a word?) */
			for (r = 0; r < cfg->nrules; r++)
				if (rule_multi(&cfg->rules[r]) ? first_multi >= 0 &&
				    share_word(c, &cfg->rules[r], i, j) :
				    bid[r * c->nrec + i] != NO_ID &&
				    bid[r * c->nrec + i] ==
				    bid[r * c->nrec + j])
					break;
			ru[s] = (unsigned char)(r < cfg->nrules ? r : 0);
		}
		*rule_out = ru;
	}
	*out = pairs;
	*nout = npairs;
	pairs = NULL;
	err = CC_OK;
out:
	free(pairs);
	free(bid);
	free(blk);
	free(e);
	if (err != CC_OK)
		return cc_diag_set(diag, err, "match_nomem",
		    "out of memory while blocking");
	return CC_OK;
}

/* ---- EM -------------------------------------------------------------- */

static double
match_clampp(double p)
{
	if (p < PROB_MIN)
		return PROB_MIN;
	if (p > 1 - PROB_MIN)
		return 1 - PROB_MIN;
	return p;
}

/*
 * EM over npat distinct comparison vectors pat (nf bytes each) with
 * counts cnt.  lambda, m, u hold start values and get the estimates.
 */
static void
match_em_fit(size_t nf, const size_t *nlev, const unsigned char *pat,
    const double *cnt, size_t npat, int maxit, double tol, int fix_u,
    double *lambda, double *m, double *u, int *iters, int *conv,
    double *loglik)
{
	double lm[MATCH_MAX_FIELDS * MATCH_MAX_LEVELS];
	double lu[MATCH_MAX_FIELDS * MATCH_MAX_LEVELS];
	double sm[MATCH_MAX_FIELDS * MATCH_MAX_LEVELS];
	double su[MATCH_MAX_FIELDS * MATCH_MAX_LEVELS];
	double tm, tu, total, summ, a, b, post, delta, v, ll, mx;
	size_t k, f, l, x;
	int it;

	*iters = 0;
	*conv = 0;
	*loglik = 0;
	total = 0;
	for (k = 0; k < npat; k++)
		total += cnt[k];
	if (total <= 0)
		return;
	for (it = 1; it <= maxit; it++) {
		for (f = 0; f < nf; f++)
			for (l = 0; l < nlev[f]; l++) {
				x = f * MATCH_MAX_LEVELS + l;
				lm[x] = log(match_clampp(m[x]));
				lu[x] = log(match_clampp(u[x]));
				sm[x] = su[x] = 0;
			}
		/* E step: posterior of M per pattern, summed per level */
		summ = 0;
		ll = 0;
		for (k = 0; k < npat; k++) {
			a = log(*lambda);
			b = log(1 - *lambda);
			for (f = 0; f < nf; f++) {
				l = pat[k * nf + f];
				if (l == MATCH_LEVEL_MISSING)
					continue;
				a += lm[f * MATCH_MAX_LEVELS + l];
				b += lu[f * MATCH_MAX_LEVELS + l];
			}
			mx = a > b ? a : b;
			ll += cnt[k] * (mx + log(exp(a - mx) + exp(b - mx)));
			post = 1 / (1 + exp(b - a));
			summ += cnt[k] * post;
			for (f = 0; f < nf; f++) {
				l = pat[k * nf + f];
				if (l == MATCH_LEVEL_MISSING)
					continue;
				sm[f * MATCH_MAX_LEVELS + l] += cnt[k] * post;
				su[f * MATCH_MAX_LEVELS + l] +=
				    cnt[k] * (1 - post);
			}
		}
		*loglik = ll;
		/* M step, add-one smoothed */
		delta = 0;
		v = match_clampp(summ / total);
		delta = fabs(v - *lambda);
		*lambda = v;
		for (f = 0; f < nf; f++) {
			tm = tu = 0;
			for (l = 0; l < nlev[f]; l++) {
				tm += sm[f * MATCH_MAX_LEVELS + l];
				tu += su[f * MATCH_MAX_LEVELS + l];
			}
			for (l = 0; l < nlev[f]; l++) {
				x = f * MATCH_MAX_LEVELS + l;
				v = (sm[x] + SMOOTH) / (tm + SMOOTH *
				    (double)nlev[f]);
				if (fabs(v - m[x]) > delta)
					delta = fabs(v - m[x]);
				m[x] = v;
				if (fix_u)
					continue;
				v = (su[x] + SMOOTH) / (tu + SMOOTH *
				    (double)nlev[f]);
				if (fabs(v - u[x]) > delta)
					delta = fabs(v - u[x]);
				u[x] = v;
			}
		}
		*iters = it;
		if (delta < tol) {
			*conv = 1;
			break;
		}
	}
}

/* Distinct comparison vectors: open addressing on FNV-1a. */
struct pattab {
	unsigned char	*pat;		/* npat * nf */
	double		*cnt;
	size_t		 npat, cappat, nf;
	uint32_t	*slot;		/* pattern + 1, 0 empty */
	size_t		 nslot;		/* power of 2 */
};

static uint64_t
match_hash(const unsigned char *g, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= g[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static int
pattab_grow(struct pattab *t)
{
	uint32_t *ns;
	size_t n = t->nslot ? t->nslot * 2 : 1024, k, h;

	if ((ns = calloc(n, sizeof(*ns))) == NULL)
		return -1;
	for (k = 0; k < t->npat; k++) {
		h = (size_t)match_hash(t->pat + k * t->nf, t->nf) & (n - 1);
		while (ns[h] != 0)
			h = (h + 1) & (n - 1);
		ns[h] = (uint32_t)k + 1;
	}
	free(t->slot);
	t->slot = ns;
	t->nslot = n;
	return 0;
}

/* The id of pattern g (added with count 0 when new), or -1 (no memory). */
static long
pattab_id(struct pattab *t, const unsigned char *g)
{
	unsigned char *np;
	double *nc;
	size_t h, k, n;

	if (2 * (t->npat + 1) > t->nslot && pattab_grow(t) != 0)
		return -1;
	h = (size_t)match_hash(g, t->nf) & (t->nslot - 1);
	while (t->slot[h] != 0) {
		k = t->slot[h] - 1;
		if (memcmp(t->pat + k * t->nf, g, t->nf) == 0)
			return (long)k;
		h = (h + 1) & (t->nslot - 1);
	}
	if (t->npat == t->cappat) {
		n = t->cappat ? t->cappat * 2 : 256;
		if ((np = realloc(t->pat, n * t->nf)) == NULL)
			return -1;
		t->pat = np;
		if ((nc = realloc(t->cnt, n * sizeof(*nc))) == NULL)
			return -1;
		t->cnt = nc;
		t->cappat = n;
	}
	memcpy(t->pat + t->npat * t->nf, g, t->nf);
	t->cnt[t->npat] = 0;
	t->slot[h] = (uint32_t)t->npat + 1;
	return (long)t->npat++;
}

static void
pattab_free(struct pattab *t)
{
	free(t->pat);
	free(t->cnt);
	free(t->slot);
}

cc_err
match_em(size_t nfields, const size_t *nlevels, const unsigned char *gamma,
    size_t npairs, int max_iterations, double tolerance, int fix_u,
    double *lambda, double *m, double *u, int *iterations, int *converged,
    struct cc_diag *diag)
{
	struct pattab t;
	size_t k, f, x;
	long id;
	int it, conv;
	double ll;

	if (nfields == 0 || nfields > MATCH_MAX_FIELDS || nlevels == NULL ||
	    (gamma == NULL && npairs > 0) || lambda == NULL || m == NULL ||
	    u == NULL || max_iterations < 1 || !(tolerance >= 0) ||
	    !(*lambda > 0 && *lambda < 1))
		return cc_diag_set(diag, CC_EINVAL, "match_em_args",
		    "bad arguments to match_em");
	for (f = 0; f < nfields; f++) {
		if (nlevels[f] < 2 || nlevels[f] > MATCH_MAX_LEVELS)
			return cc_diag_set(diag, CC_EINVAL, "match_em_args",
			    "field %zu: 2 to %d levels", f + 1,
			    MATCH_MAX_LEVELS);
		for (x = f * MATCH_MAX_LEVELS;
		    x < f * MATCH_MAX_LEVELS + nlevels[f]; x++)
			if (!(m[x] > 0 && m[x] < 1 && u[x] > 0 && u[x] < 1))
				return cc_diag_set(diag, CC_EINVAL,
				    "match_em_args", "field %zu: start values "
				    "must be in (0, 1)", f + 1);
	}
	for (k = 0; k < npairs * nfields; k++)
		if (gamma[k] != MATCH_LEVEL_MISSING &&
		    gamma[k] >= nlevels[k % nfields])
			return cc_diag_set(diag, CC_EINVAL, "match_em_args",
			    "pair %zu field %zu: level out of range",
			    k / nfields + 1, k % nfields + 1);
	memset(&t, 0, sizeof(t));
	t.nf = nfields;
	for (k = 0; k < npairs; k++) {
		if ((id = pattab_id(&t, gamma + k * nfields)) < 0) {
			pattab_free(&t);
			return cc_diag_set(diag, CC_ENOMEM, "match_nomem",
			    "out of memory");
		}
		t.cnt[id] += 1;
	}
	match_em_fit(nfields, nlevels, t.pat, t.cnt, t.npat, max_iterations,
	    tolerance, fix_u, lambda, m, u, &it, &conv, &ll);
	pattab_free(&t);
	if (iterations != NULL)
		*iterations = it;
	if (converged != NULL)
		*converged = conv;
	return CC_OK;
}

/* ---- random pairs, u ------------------------------------------------- */

static uint64_t
splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* u from random pairs (all pairs when fewer than the sample), smoothed,
 * into u; returns the number of pairs compared, or -1 when memory runs
 * out.  The pairs are drawn first (one SplitMix64 sequence, as before),
 * then compared through match_gamma_many(). */
static long long
match_u_random(const struct mctx *c, double *u)
{
	long long cnt[MATCH_MAX_FIELDS * MATCH_MAX_LEVELS];
	long long tot[MATCH_MAX_FIELDS];
	uint64_t s = c->cfg->seed, *pairs = NULL;
	unsigned char *g = NULL;
	double all;
	size_t n = 0, k, f, l;
	uint32_t i, j;

	memset(cnt, 0, sizeof(cnt));
	memset(tot, 0, sizeof(tot));
	all = (double)c->nrec * (double)(c->nrec - (c->nrec > 0)) / 2;
	if (c->nrec >= 2) {
		size_t want = all <= (double)c->u_sample ? (size_t)all :
		    (size_t)c->u_sample;
		if (want > 0 && ((pairs = malloc(want * sizeof(*pairs))) ==
		    NULL || (g = malloc(want * (c->nf > 0 ? c->nf : 1))) ==
		    NULL)) {
			free(pairs);
			return -1;
		}
		if (all <= (double)c->u_sample) {
			for (i = 0; i < c->nrec; i++)
				for (j = i + 1; j < c->nrec; j++)
					pairs[n++] = (uint64_t)i << 32 | j;
		} else
			for (n = 0; n < want; n++) {
				i = (uint32_t)(splitmix64(&s) % c->nrec);
				j = (uint32_t)(splitmix64(&s) % (c->nrec - 1));
				if (j >= i)
					j++;
				pairs[n] = (uint64_t)i << 32 | j;
			}
		match_gamma_many(c, pairs, n, g);
		for (k = 0; k < n; k++)
			for (f = 0; f < c->nf; f++)
				if (g[k * c->nf + f] != MATCH_LEVEL_MISSING) {
					cnt[f * MATCH_MAX_LEVELS +
					    g[k * c->nf + f]]++;
					tot[f]++;
				}
	}
	free(pairs);
	free(g);
	for (f = 0; f < c->nf; f++)
		for (l = 0; l < c->nlev[f]; l++)
			u[f * MATCH_MAX_LEVELS + l] =
			    ((double)cnt[f * MATCH_MAX_LEVELS + l] + SMOOTH) /
			    ((double)tot[f] + SMOOTH * (double)c->nlev[f]);
	return (long long)n;
}

/*
 * Start values of m: 0.9 on exact, the rest halving level by level;
 * long text (two sources rarely describe a thing word for word) 0.3 on
 * exact, then 0.25, 0.2, 0.15, 0.1 on else; codes 0.55 exact, 0.15 same
 * codes, 0.29 a code in common and 0.01 else (one thing's two records
 * rarely carry two different model numbers: their disagreement is
 * strong evidence, which a handful of candidates could not teach EM).
 */
static void
match_m_start(const struct mctx *c, double *m)
{
	static const double longtext[] = { 0.3, 0.25, 0.2, 0.15, 0.1 };
	static const double codes[] = { 0.55, 0.15, 0.29, 0.01 };
	size_t f, l, L;
	double w, sum;

	for (f = 0; f < c->nf; f++) {
		L = c->nlev[f];
		if (c->cfg->fields[f].kind == MATCH_LONGTEXT && L == 5 &&
		    c->swap[f] < 0) {
			for (l = 0; l < L; l++)
				m[f * MATCH_MAX_LEVELS + l] = longtext[l];
			continue;
		}
		if (c->cfg->fields[f].kind == MATCH_CODES && L == 4 &&
		    c->swap[f] < 0) {
			for (l = 0; l < L; l++)
				m[f * MATCH_MAX_LEVELS + l] = codes[l];
			continue;
		}
		sum = 0;
		for (l = 1, w = 1; l < L; l++, w /= 2)
			sum += w;
		m[f * MATCH_MAX_LEVELS] = 0.9;
		for (l = 1, w = 1; l < L; l++, w /= 2)
			m[f * MATCH_MAX_LEVELS + l] = 0.1 * w / sum;
	}
}

/* ---- term frequencies ------------------------------------------------ */

/* For each tf field: value ids per record and log2(sum f^2 / f_v). */
static cc_err
match_tf(struct mctx *c)
{
	struct span *e;
	size_t f, r, ne, *count = NULL;
	uint32_t nid, v;
	double s2;

	if (c->nrec == 0)
		return CC_OK;
	if ((e = malloc(c->nrec * sizeof(*e))) == NULL)
		return CC_ENOMEM;
	for (f = 0; f < c->nf; f++) {
		if (!c->cfg->fields[f].tf_adjust)
			continue;
		if ((c->vid[f] = malloc(c->nrec * sizeof(uint32_t))) == NULL)
			goto nomem;
		ne = 0;
		for (r = 0; r < c->nrec; r++) {
			const struct nval *x = &c->nv[r * c->nf + f];

			c->vid[f][r] = NO_ID;
			if (x->len == 0)
				continue;
			e[ne].p = c->cps + x->off;
			e[ne].n = x->len;
			e[ne].rec = (uint32_t)r;
			ne++;
		}
		nid = match_intern(e, ne, c->vid[f]);
		if ((count = calloc(nid + 1, sizeof(*count))) == NULL ||
		    (c->tfadj[f] = calloc(nid + 1, sizeof(double))) == NULL)
			goto nomem;
		for (r = 0; r < c->nrec; r++)
			if (c->vid[f][r] != NO_ID)
				count[c->vid[f][r]]++;
		s2 = 0;
		for (v = 0; v < nid; v++)
			s2 += ((double)count[v] / (double)ne) *
			    ((double)count[v] / (double)ne);
		for (v = 0; v < nid; v++)
			c->tfadj[f][v] = log2(s2 / ((double)count[v] /
			    (double)ne));
		free(count);
		count = NULL;
	}
	free(e);
	return CC_OK;
nomem:
	free(count);
	free(e);
	return CC_ENOMEM;
}

/* ---- clusters -------------------------------------------------------- */

static size_t
uf_find(size_t *parent, size_t x)
{
	while (parent[x] != x) {
		parent[x] = parent[parent[x]];	/* path halving */
		x = parent[x];
	}
	return x;
}

/*
 * Numbers the clusters of parent 0.. in the order of their first record
 * into cluster (nrec ids); scratch (nrec entries) is overwritten.
 * Returns the number of clusters.
 */
static size_t
uf_number(size_t *parent, size_t *scratch, size_t nrec, size_t *cluster)
{
	size_t r, a, n = 0;

	for (r = 0; r < nrec; r++)
		scratch[r] = SIZE_MAX;
	for (r = 0; r < nrec; r++) {
		a = uf_find(parent, r);
		if (scratch[a] == SIZE_MAX)
			scratch[a] = n++;
		cluster[r] = scratch[a];
	}
	return n;
}

cc_err
match_clusters_constrained(size_t nrec, const size_t *pairs, size_t npairs,
    const char *const *strong, size_t nstrong, const size_t *cannot,
    size_t ncannot, size_t *cluster, size_t *nclusters,
    unsigned char *skipped)
{
	size_t *parent = NULL, *size = NULL, k, a, b, r, t, q, x, y;
	const char **val = NULL;
	int ok;

	if (nclusters == NULL || (cluster == NULL && nrec > 0) ||
	    (pairs == NULL && npairs > 0) || (strong == NULL && nstrong > 0) ||
	    (cannot == NULL && ncannot > 0))
		return CC_EINVAL;
	*nclusters = 0;
	for (k = 0; k < 2 * npairs; k++)
		if (pairs[k] >= nrec)
			return CC_EINVAL;
	for (k = 0; k < 2 * ncannot; k++)
		if (cannot[k] >= nrec)
			return CC_EINVAL;
	if (nrec == 0)
		return CC_OK;
	if ((parent = malloc(nrec * sizeof(*parent))) == NULL ||
	    (size = malloc(nrec * sizeof(*size))) == NULL ||
	    (nstrong > 0 && (val = malloc(nrec * nstrong *
	    sizeof(*val))) == NULL)) {
		free(parent);
		free(size);
		return CC_ENOMEM;
	}
	for (r = 0; r < nrec; r++) {
		parent[r] = r;
		size[r] = 1;
		for (q = 0; q < nstrong; q++)
			val[r * nstrong + q] = strong[r * nstrong + q];
	}
	for (k = 0; k < npairs; k++) {
		if (skipped != NULL)
			skipped[k] = 0;
		a = uf_find(parent, pairs[2 * k]);
		b = uf_find(parent, pairs[2 * k + 1]);
		if (a == b)
			continue;
		ok = 1;
		for (q = 0; q < nstrong && ok; q++) {
			const char *va = val[a * nstrong + q],
			    *vb = val[b * nstrong + q];
			ok = va == NULL || vb == NULL || strcmp(va, vb) == 0;
		}
		for (q = 0; q < ncannot && ok; q++) {
			x = uf_find(parent, cannot[2 * q]);
			y = uf_find(parent, cannot[2 * q + 1]);
			ok = !((x == a && y == b) || (x == b && y == a));
		}
		if (!ok) {
			if (skipped != NULL)
				skipped[k] = 1;
			continue;
		}
		if (size[a] < size[b]) {
			t = a;
			a = b;
			b = t;
		}
		parent[b] = a;
		size[a] += size[b];
		for (q = 0; q < nstrong; q++)
			if (val[a * nstrong + q] == NULL)
				val[a * nstrong + q] = val[b * nstrong + q];
	}
	*nclusters = uf_number(parent, size, nrec, cluster);
	free(parent);
	free(size);
	free(val);
	return CC_OK;
}

cc_err
match_clusters(size_t nrec, const size_t *pairs, size_t npairs,
    size_t max_cluster_size, size_t *cluster, size_t *nclusters,
    size_t *rejected)
{
	size_t *parent, *size, k, a, b, r, t;

	if (rejected != NULL)
		*rejected = 0;
	if (nclusters == NULL || (cluster == NULL && nrec > 0) ||
	    (pairs == NULL && npairs > 0))
		return CC_EINVAL;
	*nclusters = 0;
	for (k = 0; k < 2 * npairs; k++)
		if (pairs[k] >= nrec)
			return CC_EINVAL;
	if (nrec == 0)
		return CC_OK;
	parent = malloc(nrec * sizeof(*parent));
	size = malloc(nrec * sizeof(*size));
	if (parent == NULL || size == NULL) {
		free(parent);
		free(size);
		return CC_ENOMEM;
	}
	for (r = 0; r < nrec; r++) {
		parent[r] = r;
		size[r] = 1;
	}
	for (k = 0; k < npairs; k++) {
		a = uf_find(parent, pairs[2 * k]);
		b = uf_find(parent, pairs[2 * k + 1]);
		if (a == b)
			continue;
		if (max_cluster_size > 0 &&
		    size[a] + size[b] > max_cluster_size) {
			if (rejected != NULL)
				(*rejected)++;
			continue;
		}
		if (size[a] < size[b]) {
			t = a;
			a = b;
			b = t;
		}
		parent[b] = a;
		size[a] += size[b];
	}
	*nclusters = uf_number(parent, size, nrec, cluster);
	free(parent);
	free(size);
	return CC_OK;
}

/* ---- the run --------------------------------------------------------- */

void
match_result_free(struct match_result *r)
{
	size_t f;

	if (r == NULL)
		return;
	if (r->fields != NULL)
		for (f = 0; f < r->nfields; f++)
			free(r->fields[f].name);
	free(r->fields);
	free(r->pairs);
	free(r->cluster);
	free(r->gamma_buf);
	free(r->pattern_count);
	free(r);
}

/* Accepted pairs in order of descending weight, then (i, j). */
static int
pair_weight_cmp(const void *a, const void *b)
{
	const struct match_pair *x = *(const struct match_pair *const *)a;
	const struct match_pair *y = *(const struct match_pair *const *)b;

	if (x->weight != y->weight)
		return x->weight > y->weight ? -1 : 1;
	if (x->i != y->i)
		return x->i < y->i ? -1 : 1;
	return x->j < y->j ? -1 : x->j > y->j;
}

static cc_err
match_prepare(struct mctx *c, const struct match_config *cfg,
    const char *const *records, size_t nrec, struct cc_diag *diag)
{
	cc_err err;

	memset(c, 0, sizeof(*c));
	cc_diag_clear(diag);
	if (cfg == NULL || (records == NULL && nrec > 0))
		return cc_diag_set(diag, CC_EINVAL, "match_args",
		    "configuration or records missing");
	if ((err = match_setup(c, cfg, diag)) != CC_OK)
		return err;
	if (nrec >= UINT32_MAX - 1)
		return cc_diag_set(diag, CC_ETOOBIG, "match_too_many",
		    "too many records (%zu)", nrec);
	return match_normalise(c, records, nrec, diag);
}

cc_err
match_candidates(const struct match_config *cfg, const char *const *records,
    size_t nrec, size_t **pairs, size_t *npairs, int *truncated,
    struct cc_diag *diag)
{
	struct mctx c;
	uint64_t *p = NULL;
	size_t n = 0, k;
	int trunc = 0;
	cc_err err;

	if (pairs == NULL || npairs == NULL)
		return cc_diag_set(diag, CC_EINVAL, "match_args",
		    "output missing");
	*pairs = NULL;
	*npairs = 0;
	if ((err = match_prepare(&c, cfg, records, nrec, diag)) != CC_OK ||
	    (err = match_block(&c, &p, &n, &trunc, NULL, diag)) != CC_OK)
		goto out;
	if ((*pairs = malloc((2 * n + 1) * sizeof(**pairs))) == NULL) {
		err = cc_diag_set(diag, CC_ENOMEM, "match_nomem",
		    "out of memory");
		goto out;
	}
	for (k = 0; k < n; k++) {
		(*pairs)[2 * k] = (size_t)(p[k] >> 32);
		(*pairs)[2 * k + 1] = (size_t)(p[k] & 0xFFFFFFFFu);
	}
	*npairs = n;
	if (truncated != NULL)
		*truncated = trunc;
out:
	free(p);
	match_ctx_free(&c);
	return err;
}

cc_err
match_compare(enum match_kind kind, const char *a, const char *b,
    int *level, struct cc_diag *diag)
{
	struct match_field fd = { "value", kind, 0, NULL };
	struct match_config cfg;
	const char *recs[2] = { a, b };
	struct mctx c;
	unsigned char g;
	cc_err err;

	if (level == NULL)
		return cc_diag_set(diag, CC_EINVAL, "match_args",
		    "level missing");
	memset(&cfg, 0, sizeof(cfg));
	cfg.fields = &fd;
	cfg.nfields = 1;
	if ((err = match_prepare(&c, &cfg, recs, 2, diag)) == CC_OK) {
		match_gamma(&c, 0, 1, &g);
		*level = g;
	}
	match_ctx_free(&c);
	return err;
}

/*
 * Data-driven start values of one EM session: m from the levels of the
 * candidate pairs that agree, at one of a field's two strongest levels
 * short of "else", on more than half of their compared fields (at least
 * two), add-one smoothed; lambda from their share.  Without such pairs
 * the fixed start values stay.  A start near the matches keeps EM from
 * sliding to the empty class when the matches of a source agree on no
 * field exactly (an abbreviated venue, authors in another order).
 */
static void
seed_start(const struct mctx *c, const struct pattab *t,
    const unsigned char *blocked, double *m, double *lam, double n)
{
	double cnt[MATCH_MAX_FIELDS * MATCH_MAX_LEVELS], tot[MATCH_MAX_FIELDS];
	double seeds = 0;
	size_t k, f, l, present, agree;

	memset(cnt, 0, sizeof(cnt));
	memset(tot, 0, sizeof(tot));
	for (k = 0; k < t->npat; k++) {
		const unsigned char *g = t->pat + k * c->nf;
		present = agree = 0;
		for (f = 0; f < c->nf; f++) {
			if (blocked[f] || g[f] == MATCH_LEVEL_MISSING)
				continue;
			present++;
			agree += g[f] <= 1 && (size_t)g[f] + 1 < c->nlev[f];
		}
		if (present < 2 || 2 * agree <= present)
			continue;
		seeds += t->cnt[k];
		for (f = 0; f < c->nf; f++)
			if (!blocked[f] && g[f] != MATCH_LEVEL_MISSING) {
				cnt[f * MATCH_MAX_LEVELS + g[f]] += t->cnt[k];
				tot[f] += t->cnt[k];
			}
	}
	if (seeds <= 0)
		return;
	for (f = 0; f < c->nf; f++)
		for (l = 0; tot[f] > 0 && l < c->nlev[f]; l++)
			m[f * MATCH_MAX_LEVELS + l] = (cnt[f * MATCH_MAX_LEVELS +
			    l] + SMOOTH) / (tot[f] + SMOOTH * (double)c->nlev[f]);
	*lam = seeds / n;
	*lam = *lam < 1e-4 ? 1e-4 : *lam > 0.5 ? 0.5 : *lam;
}

/*
 * The per-rule estimator (MATCH_ESTIMATE_RULES): one EM session per
 * blocking rule over the candidates that rule found, with the rule's own
 * fields left out (every candidate of the rule agrees on them, so they
 * say nothing about the classes there).  Each session fits lambda_r, m
 * and u among its candidates; its m estimates of the fields it compares
 * count with the session's expected matches E_r = lambda_r * n_r.  Then
 *   m(f, l) = (sum_r E_r m_r(f, l) + K m0(f, l)) / (sum_r E_r + K),
 * a Dirichlet prior of K = MATCH_PRIOR_MATCHES pseudo-matches at the
 * start values m0 (so a session that found a handful of look-alike pairs
 * cannot make disagreement look like a match), u(f, l) = u among random
 * pairs (the population the decision is about: a pair's posterior does
 * not depend on which block found it), and lambda, the probability that
 * two random records match, = sum_r E_r / (nrec (nrec - 1) / 2).  This is
 * Splink's way of training (m by EM under blocking rules, u by random
 * sampling; R. Linacre et al., Splink, 2022) with the prior added.
 * m holds the start values in and the estimates out; ur the random-pair
 * u; u gets ur; *lambda the population lambda.  Returns CC_ENOMEM.
 */
static cc_err
match_em_rules(const struct mctx *c, const struct pattab *vecs,
    const uint32_t *pid, const unsigned char *crule, size_t ncand, double *m,
    const double *ur, double *u, double *lambda, struct match_result *res)
{
	const struct match_config *cfg = c->cfg;
	double m0[MATCH_MAX_FIELDS * MATCH_MAX_LEVELS];
	double acc[MATCH_MAX_FIELDS * MATCH_MAX_LEVELS];
	double accE[MATCH_MAX_FIELDS];
	double mr[MATCH_MAX_FIELDS * MATCH_MAX_LEVELS];
	double uu[MATCH_MAX_FIELDS * MATCH_MAX_LEVELS];
	unsigned char g[MATCH_MAX_FIELDS], blocked[MATCH_MAX_FIELDS];
	double lam, expected = 0, all, ll;
	struct pattab t;
	size_t r, k, f, l, x, q, n;
	int it, conv;
	long id;

	memcpy(m0, m, sizeof(m0));
	memset(acc, 0, sizeof(acc));
	memset(accE, 0, sizeof(accE));
	for (r = 0; r < (cfg->nrules > 0 ? cfg->nrules : 1); r++) {
		memset(&t, 0, sizeof(t));
		t.nf = c->nf;
		memset(blocked, 0, sizeof(blocked));
		for (q = 0; cfg->nrules > 0 && q < cfg->rules[r].nkeys; q++)
			blocked[cfg->rules[r].keys[q].field] = 1;
		n = 0;
		for (k = 0; k < ncand; k++) {
			if (cfg->nrules > 0 && crule[k] != r)
				continue;
			/* the pair's comparison vector, computed once */
			memcpy(g, vecs->pat + (size_t)pid[k] * c->nf, c->nf);
			for (f = 0; f < c->nf; f++)
				if (blocked[f])
					g[f] = MATCH_LEVEL_MISSING;
			if ((id = pattab_id(&t, g)) < 0) {
				pattab_free(&t);
				return CC_ENOMEM;
			}
			t.cnt[id] += 1;
			n++;
		}
		if (n == 0) {
			pattab_free(&t);
			continue;
		}
		memcpy(mr, m0, sizeof(mr));
		memcpy(uu, ur, sizeof(uu));
		lam = (double)c->nrec / (2.0 * (double)n);
		lam = lam < 1e-4 ? 1e-4 : lam > 0.5 ? 0.5 : lam;
		seed_start(c, &t, blocked, mr, &lam, (double)n);
		match_em_fit(c->nf, c->nlev, t.pat, t.cnt, t.npat,
		    c->em_iterations, c->em_tolerance, 0, &lam, mr, uu, &it,
		    &conv, &ll);
		pattab_free(&t);
		if (it > res->em_iterations)
			res->em_iterations = it;
		res->em_converged = r == 0 ? conv : res->em_converged && conv;
		res->em_loglik += ll;
		expected += lam * (double)n;
		for (f = 0; f < c->nf; f++) {
			if (blocked[f])
				continue;
			accE[f] += lam * (double)n;
			for (l = 0; l < c->nlev[f]; l++) {
				x = f * MATCH_MAX_LEVELS + l;
				acc[x] += lam * (double)n * mr[x];
			}
		}
	}
	for (f = 0; f < c->nf; f++)
		for (l = 0; l < c->nlev[f]; l++) {
			x = f * MATCH_MAX_LEVELS + l;
			m[x] = (acc[x] + MATCH_PRIOR_MATCHES * m0[x]) /
			    (accE[f] + MATCH_PRIOR_MATCHES);
			u[x] = ur[x];
		}
	all = (double)c->nrec * (double)(c->nrec - 1) / 2;
	/* at least one expected match: with a handful of candidates every
	 * session may find an empty class, and a prior of 2^-30 would keep
	 * even identical records apart (a Laplace-like floor) */
	if (expected < 1)
		expected = 1;
	lam = all > 0 ? expected / all : 0.5;
	*lambda = lam < PROB_MIN ? PROB_MIN : lam > 0.5 ? 0.5 : lam;
	return CC_OK;
}

cc_err
match_run(const struct match_config *cfg, const char *const *records,
    size_t nrec, struct match_result **out, struct cc_diag *diag)
{
	struct mctx c;
	struct match_result *res = NULL;
	struct match_pair **order = NULL, *mp;
	struct pattab t;
	uint64_t *cand = NULL;
	uint32_t *pid = NULL;
	unsigned char *crule = NULL, *gv = NULL;
	double m[MATCH_MAX_FIELDS * MATCH_MAX_LEVELS];
	double u[MATCH_MAX_FIELDS * MATCH_MAX_LEVELS];
	double ur[MATCH_MAX_FIELDS * MATCH_MAX_LEVELS];
	double *pw = NULL, lam, prior, w, vl;
	size_t ncand = 0, k, f, l, x, *cp = NULL, i, j;
	long id;
	cc_err err;

	memset(&t, 0, sizeof(t));
	if (out == NULL)
		return cc_diag_set(diag, CC_EINVAL, "match_args",
		    "output missing");
	*out = NULL;
	if ((err = match_prepare(&c, cfg, records, nrec, diag)) != CC_OK)
		goto out;
	err = CC_ENOMEM;
	if ((res = calloc(1, sizeof(*res))) == NULL ||
	    (res->fields = calloc(c.nf, sizeof(*res->fields))) == NULL ||
	    (res->cluster = calloc(nrec + 1, sizeof(size_t))) == NULL)
		goto nomem;
	res->nrec = nrec;
	res->nfields = c.nf;
	for (f = 0; f < c.nf; f++) {
		res->fields[f].name = strdup(cfg->fields[f].name != NULL ?
		    cfg->fields[f].name : "");
		if (res->fields[f].name == NULL)
			goto nomem;
		res->fields[f].kind = cfg->fields[f].kind;
		res->fields[f].nlevels = c.nlev[f];
		res->fields[f].unparsed = c.unparsed[f];
	}
	if (match_tf(&c) != CC_OK)
		goto nomem;

	/* 2. blocking */
	if ((err = match_block(&c, &cand, &ncand, &res->truncated, &crule,
	    diag)) != CC_OK)
		goto out;
	err = CC_ENOMEM;
	res->candidate_pairs = (long long)ncand;
	for (k = 0; k < ncand && crule != NULL; k++)
		res->rule_pairs[crule[k]]++;
	memcpy(res->blocks_skipped, c.blocks_skipped,
	    sizeof(res->blocks_skipped));

	/* 3. comparison vectors, as distinct patterns with counts */
	t.nf = c.nf;
	if (ncand > 0 && (pid = malloc(ncand * sizeof(*pid))) == NULL)
		goto nomem;
	if (ncand > 0 && (gv = malloc(ncand * (c.nf > 0 ? c.nf : 1))) ==
	    NULL)
		goto nomem;
	match_gamma_many(&c, cand, ncand, gv);
	for (k = 0; k < ncand; k++) {
		if ((id = pattab_id(&t, gv + k * c.nf)) < 0)
			goto nomem;
		t.cnt[id] += 1;
		pid[k] = (uint32_t)id;
	}
	free(gv);
	gv = NULL;
	res->patterns = t.npat;
	for (k = 0; k < t.npat; k++)
		for (f = 0; f < c.nf; f++) {
			l = t.pat[k * c.nf + f];
			if (l == MATCH_LEVEL_MISSING)
				res->fields[f].missing += (long long)t.cnt[k];
			else
				res->fields[f].levels[l].count +=
				    (long long)t.cnt[k];
		}

	/* 4. model: u from random pairs, then EM */
	memset(m, 0, sizeof(m));
	memset(ur, 0, sizeof(ur));
	if ((res->random_pairs = match_u_random(&c, ur)) < 0)
		goto nomem;
	memcpy(u, ur, sizeof(u));
	match_m_start(&c, m);
	lam = ncand > 0 ? (double)nrec / (2.0 * (double)ncand) : 0.5;
	lam = lam < 1e-4 ? 1e-4 : lam > 0.5 ? 0.5 : lam;
	if (cfg->estimator == MATCH_ESTIMATE_CANDIDATES || crule == NULL)
		match_em_fit(c.nf, c.nlev, t.pat, t.cnt, t.npat,
		    c.em_iterations, c.em_tolerance, cfg->fix_u, &lam, m, u,
		    &res->em_iterations, &res->em_converged, &res->em_loglik);
	else if (match_em_rules(&c, &t, pid, crule, ncand, m, ur, u, &lam,
	    res) != CC_OK)
		goto nomem;
	res->lambda = lam;
	for (f = 0; f < c.nf; f++)
		for (l = 0; l < c.nlev[f]; l++) {
			x = f * MATCH_MAX_LEVELS + l;
			res->fields[f].levels[l].label = lvl_label[c.lev[f][l]];
			res->fields[f].levels[l].m = m[x];
			res->fields[f].levels[l].u = u[x];
			res->fields[f].levels[l].u_random = ur[x];
			res->fields[f].levels[l].weight = log2(m[x] / u[x]);
		}

	/* 5. decision */
	prior = log2(lam / (1 - lam));
	res->threshold_probability = c.threshold;
	res->threshold_weight = log2(c.threshold / (1 - c.threshold)) - prior;
	if (t.npat > 0 && (pw = calloc(t.npat, sizeof(*pw))) == NULL)
		goto nomem;
	for (k = 0; k < t.npat; k++)
		for (f = 0; f < c.nf; f++) {
			l = t.pat[k * c.nf + f];
			if (l != MATCH_LEVEL_MISSING)
				pw[k] += res->fields[f].levels[l].weight;
		}
	if (t.npat > 0 &&
	    (res->gamma_buf = malloc(t.npat * c.nf)) == NULL)
		goto nomem;
	if (t.npat > 0)
		memcpy(res->gamma_buf, t.pat, t.npat * c.nf);
	if (t.npat > 0 && (res->pattern_count = malloc(t.npat *
	    sizeof(double))) == NULL)
		goto nomem;
	if (t.npat > 0)
		memcpy(res->pattern_count, t.cnt, t.npat * sizeof(double));
	for (k = 0; k < ncand; k++) {
		i = (size_t)(cand[k] >> 32);
		j = (size_t)(cand[k] & 0xFFFFFFFFu);
		w = pw[pid[k]];
		for (f = 0; f < c.nf; f++)
			if (c.tfadj[f] != NULL &&
			    t.pat[pid[k] * c.nf + f] == 0)
				w += c.tfadj[f][c.vid[f][i]];
		vl = w + prior;
		if (1 / (1 + exp2(-vl)) < c.threshold)
			continue;
		if (res->npairs % 1024 == 0) {
			mp = realloc(res->pairs, (res->npairs + 1024) *
			    sizeof(*mp));
			if (mp == NULL)
				goto nomem;
			res->pairs = mp;
		}
		mp = &res->pairs[res->npairs++];
		mp->i = i;
		mp->j = j;
		mp->weight = w;
		mp->probability = 1 / (1 + exp2(-vl));
		mp->gamma = res->gamma_buf + (size_t)pid[k] * c.nf;
		mp->rule = crule != NULL ? crule[k] : 0;
	}

	/* 6. clusters over accepted pairs, strongest first */
	if (res->npairs > 0 &&
	    ((order = malloc(res->npairs * sizeof(*order))) == NULL ||
	    (cp = malloc(2 * res->npairs * sizeof(*cp))) == NULL))
		goto nomem;
	for (k = 0; k < res->npairs; k++)
		order[k] = &res->pairs[k];
	if (res->npairs > 0)
		qsort(order, res->npairs, sizeof(*order), pair_weight_cmp);
	for (k = 0; k < res->npairs; k++) {
		cp[2 * k] = order[k]->i;
		cp[2 * k + 1] = order[k]->j;
	}
	if ((err = match_clusters(nrec, cp, res->npairs,
	    cfg->max_cluster_size, res->cluster, &res->nclusters,
	    &res->guard_rejected)) != CC_OK)
		goto nomem;
	*out = res;
	res = NULL;
	err = CC_OK;
	goto out;
nomem:
	err = cc_diag_set(diag, CC_ENOMEM, "match_nomem", "out of memory");
out:
	match_result_free(res);
	pattab_free(&t);
	free(cand);
	free(crule);
	free(gv);
	free(pid);
	free(pw);
	free(order);
	free(cp);
	match_ctx_free(&c);
	return err;
}

/* ---- JSON ------------------------------------------------------------ */

json_t *
match_result_model_json(const struct match_result *r)
{
	json_t *o, *fields, *fo, *levels;
	const struct match_field_model *fm;
	size_t f, l;
	int bad = 0;

	if (r == NULL)
		return NULL;
	o = json_pack("{s:I, s:I, s:b, s:I, s:I, s:f, s:f, s:f, "
	    "s:{s:i, s:b, s:f}, s:I, s:I, s:I}",
	    "records", (json_int_t)r->nrec,
	    "candidate_pairs", (json_int_t)r->candidate_pairs,
	    "truncated", r->truncated,
	    "random_pairs", (json_int_t)r->random_pairs,
	    "patterns", (json_int_t)r->patterns,
	    "lambda", r->lambda,
	    "threshold_probability", r->threshold_probability,
	    "threshold_weight", r->threshold_weight,
	    "em", "iterations", r->em_iterations, "converged",
	    r->em_converged, "loglik", r->em_loglik,
	    "accepted_pairs", (json_int_t)r->npairs,
	    "clusters", (json_int_t)r->nclusters,
	    "guard_rejected", (json_int_t)r->guard_rejected);
	if (o == NULL || (fields = json_array()) == NULL ||
	    json_object_set_new(o, "fields", fields) != 0) {
		json_decref(o);
		return NULL;
	}
	for (f = 0; f < r->nfields && !bad; f++) {
		fm = &r->fields[f];
		fo = json_pack("{s:s, s:s, s:I, s:I}", "name", fm->name,
		    "kind", match_kind_name(fm->kind),
		    "missing", (json_int_t)fm->missing,
		    "unparsed", (json_int_t)fm->unparsed);
		levels = json_array();
		if (fo == NULL || levels == NULL ||
		    json_object_set_new(fo, "levels", levels) != 0 ||
		    json_array_append_new(fields, fo) != 0) {
			json_decref(fo);
			bad = 1;
			break;
		}
		for (l = 0; l < fm->nlevels; l++)
			if (json_array_append_new(levels, json_pack(
			    "{s:s, s:f, s:f, s:f, s:f, s:I}",
			    "label", fm->levels[l].label,
			    "m", fm->levels[l].m, "u", fm->levels[l].u,
			    "u_random", fm->levels[l].u_random,
			    "weight", fm->levels[l].weight,
			    "count", (json_int_t)fm->levels[l].count)) != 0)
				bad = 1;
	}
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* ---- code words ------------------------------------------------------ */

static int
cw_sep(unsigned char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' ||
	    ch == ',' || ch == ';' || ch == '(' || ch == ')' || ch == '[' ||
	    ch == ']' || ch == '"' || ch == '\'';
}

/* A quantity with its unit ("58GHZ", "500GB", "1080P", "4X"): at most 5
 * digits, then one of these units, nothing else. */
static int
cw_quantity(const char *w)
{
	static const char *const units[] = { "HZ", "KHZ", "MHZ", "GHZ",
	    "KB", "MB", "GB", "TB", "MBPS", "GBPS", "FT", "IN", "INCH", "OZ",
	    "LB", "LBS", "MM", "CM", "M", "W", "KW", "V", "MAH", "MP", "RPM",
	    "P", "I", "X", "CH", "PIN", "PK", "PACK", "PCS", "SPEED", "HOUR",
	    "HR", "MIN", "MS", "DB", "LINE", "HEAD", "WAY", "TH", "ST", "ND",
	    "RD", NULL };
	size_t d = strspn(w, "0123456789"), i;

	if (d == 0 || d > 5)
		return 0;
	for (i = 0; units[i] != NULL; i++)
		if (!strcmp(w + d, units[i]))
			return 1;
	return 0;
}

size_t
match_codewords(const char *text, char *out, size_t outsz)
{
	const unsigned char *p = (const unsigned char *)text, *w;
	char word[64];
	size_t n = 0, len = 0, wl, i, k;
	int letter, digit, other;

	if (outsz == 0)
		return 0;
	out[0] = '\0';
	if (text == NULL)
		return 0;
	while (*p != '\0') {
		while (*p != '\0' && cw_sep(*p))
			p++;
		for (w = p; *p != '\0' && !cw_sep(*p); p++)
			continue;
		wl = 0;
		letter = digit = other = 0;
		for (i = 0; w + i < p; i++) {
			unsigned char ch = w[i];
			if (ch == '-' || ch == '.' || ch == '/' || ch == '_')
				continue;
			if (ch >= 'a' && ch <= 'z')
				ch = (unsigned char)(ch - 'a' + 'A');
			if (ch >= 'A' && ch <= 'Z')
				letter = 1;
			else if (ch >= '0' && ch <= '9')
				digit = 1;
			else
				other = 1;
			if (wl + 1 < sizeof(word))
				word[wl++] = (char)ch;
			else
				other = 1;
		}
		if (!digit || other || wl < (letter ? 4 : 6))
			continue;
		word[wl] = '\0';
		if (cw_quantity(word))
			continue;
		/* distinct words only */
		for (i = 0, k = 0; i < len; i = k + 1) {
			for (k = i; k < len && out[k] != ' '; k++)
				continue;
			if (k - i == wl && !memcmp(out + i, word, wl))
				break;
		}
		if (i < len)
			continue;
		if (len + (len > 0) + wl + 1 > outsz)
			continue;
		if (len > 0)
			out[len++] = ' ';
		memcpy(out + len, word, wl);
		len += wl;
		out[len] = '\0';
		n++;
	}
	return n;
}
