/*
 * er.c - entity resolution in a run (concord/pipeline.h, reconcile
 * phase): after key reconciliation has united the records that share a
 * key (reconcile.c), the records of an entity that share no key are
 * linked by what they say about themselves.
 *
 *  1. Identity rule (deterministic): a record without a key and another
 *     record with the same cleaned name and the same e-mail (or phone)
 *     are one entity, and so are records without a key that carry the
 *     same identifying attributes: the "normalised name and e-mail" rule
 *     of a sales export that names its customers without a key.  Two
 *     records that both carry keys are left to the matcher.
 *  2. Probabilistic record linkage (concord/match.h, Fellegi-Sunter with
 *     m/u by EM and no labels) over one record per key cluster, its
 *     values the first non-null of the cluster's records in staging
 *     order.  Blocking rules are unioned; each pair keeps the rule that
 *     found it.  A pair whose posterior match probability is at least
 *     ER_UPPER is a match; between ER_LOWER and ER_UPPER it waits for a
 *     person (the review queue); below, it is not kept.
 *  3. Decisions people made (the workspace's match_decisions, by the two
 *     records' lineage) win: an accepted pair always merges, a rejected
 *     pair never does (a cannot-link constraint on the clusters).
 *  4. Clusters: union-find over the accepted pairs first, then the
 *     matches by descending match weight, never joining two clusters
 *     that carry different values of a strong key or the two records of
 *     a rejected pair (match_clusters_constrained()).  Transitive.
 *
 * Every pair of steps 1-3 is written to match_pairs with its weight,
 * posterior probability, comparison levels per attribute, blocking rule,
 * decision and who decided; the fitted model (m and u per attribute and
 * level, pairs by blocking rule) to match_models and the run's report.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "concord/match.h"
#include "concord/schema.h"
#include "pipeline_int.h"

#define ER_UPPER	0.9	/* posterior P(match) of an automatic merge */
#define ER_LOWER	0.3	/* below: not a candidate for review */
#define ER_MAXF		16	/* compared attributes of an entity */
#define ER_MAXR		16	/* blocking rules of an entity */

/* "name" as a compared field: the whole name, or first + last. */
#define ER_NAME		"full_name"
#define ER_MODEL	"model_number"	/* from name and description when
					   not mapped */

struct er_field {
	const char	*attr;		/* staging column */
	enum match_kind	 kind;
	int		 tf;		/* term-frequency adjustment */
	const char	*swap;		/* entered the wrong way round */
	int		 strong;	/* different values: never one entity */
};

struct er_key {
	const char		*attr;
	enum match_block_fn	 fn;
};

struct er_rule {
	size_t		nkeys;
	struct er_key	keys[2];
	int		unordered;	/* match_blocking.unordered */
};

/* How an entity is compared: its fields, blocking rules and identity
 * rules (pairs of attributes whose equal values make one entity). */
struct er_spec {
	const char		*entity;
	struct er_field		 fields[ER_MAXF];
	struct er_rule		 rules[ER_MAXR];
	const char		*identity[3][2];
	const char		*ident[6];	/* attributes that identify a
						   record without a key */
};

static const struct er_spec specs[] = {
	{ "customer", {
		{ "first_name", MATCH_NAME, 1, "last_name", 0 },
		{ "last_name", MATCH_NAME, 1, "first_name", 0 },
		{ ER_NAME, MATCH_TEXT, 1, NULL, 0 },
		{ "email", MATCH_EMAIL, 0, NULL, 0 },
		{ "phone", MATCH_CODE, 0, NULL, 0 },
		{ "birth_date", MATCH_DATE, 0, NULL, 0 },
		{ "address", MATCH_TEXT, 0, NULL, 0 },
		{ "city", MATCH_NAME, 1, NULL, 0 },
		{ "postal_code", MATCH_POSTCODE, 0, NULL, 0 },
		{ "state", MATCH_EXACT, 0, NULL, 0 },
		{ "country", MATCH_EXACT, 0, NULL, 0 },
		{ "gender", MATCH_EXACT, 0, NULL, 0 },
	    }, {
		/* each rule selective enough for a million records (a
		 * Soundex code alone is shared by thousands); a duplicate
		 * with typos in both names still meets its original through
		 * its e-mail, phone, birth date or postcode */
		{ 1, { { "email", MATCH_BLOCK_EXACT } }, 0 },
		{ 1, { { "phone", MATCH_BLOCK_EXACT } }, 0 },
		{ 1, { { ER_NAME, MATCH_BLOCK_EXACT } }, 0 },
		{ 2, { { "last_name", MATCH_BLOCK_EXACT },
		    { "first_name", MATCH_BLOCK_FIRST3 } }, 0 },
		{ 2, { { "last_name", MATCH_BLOCK_SOUNDEX },
		    { "first_name", MATCH_BLOCK_EXACT } }, 0 },
		{ 2, { { "last_name", MATCH_BLOCK_SOUNDEX },
		    { "birth_date", MATCH_BLOCK_EXACT } }, 0 },
		{ 2, { { "first_name", MATCH_BLOCK_EXACT },
		    { "city", MATCH_BLOCK_EXACT } }, 0 },
		{ 2, { { "postal_code", MATCH_BLOCK_EXACT },
		    { "birth_date", MATCH_BLOCK_YEAR } }, 0 },
		{ 2, { { "birth_date", MATCH_BLOCK_EXACT },
		    { "city", MATCH_BLOCK_EXACT } }, 0 },
		{ 1, { { "email", MATCH_BLOCK_LOCAL } }, 0 },
		/* either order: names entered the wrong way round */
		{ 2, { { "first_name", MATCH_BLOCK_SOUNDEX },
		    { "last_name", MATCH_BLOCK_SOUNDEX } }, 1 },
		{ 2, { { "first_name", MATCH_BLOCK_SOUNDEX },
		    { "birth_date", MATCH_BLOCK_YEAR } }, 0 },
		{ 2, { { "first_name", MATCH_BLOCK_SOUNDEX },
		    { "city", MATCH_BLOCK_EXACT } }, 0 },
		{ 2, { { "last_name", MATCH_BLOCK_SOUNDEX },
		    { "city", MATCH_BLOCK_EXACT } }, 0 },
		/* broad: at scale only its smallest blocks fit the rule's
		 * share of the pairs (match.h) */
		{ 1, { { "birth_date", MATCH_BLOCK_EXACT } }, 0 },
	    }, { { ER_NAME, "email" }, { ER_NAME, "phone" } },
	    { "full_name", "first_name", "last_name", "email", "phone" } },
	{ "product", {
		/* product names and descriptions are word lists in any
		 * order: token-set cosine */
		{ "name", MATCH_LONGTEXT, 0, NULL, 0 },
		{ "description", MATCH_LONGTEXT, 0, NULL, 0 },
		{ "brand", MATCH_EXACT, 0, NULL, 0 },
		{ "manufacturer", MATCH_EXACT, 0, NULL, 0 },
		{ "category", MATCH_NAME, 0, NULL, 0 },
		{ "subcategory", MATCH_NAME, 0, NULL, 0 },
		{ "color", MATCH_EXACT, 0, NULL, 0 },
		{ "size", MATCH_EXACT, 0, NULL, 0 },
		{ "price", MATCH_NUMBER, 0, NULL, 0 },
		/* the model number: the strongest evidence two catalogues
		 * share, inside their names ("... - AM53BK") */
		{ ER_MODEL, MATCH_CODES, 0, NULL, 0 },
	    }, {
		{ 1, { { "name", MATCH_BLOCK_EXACT } }, 0 },
		{ 2, { { "name", MATCH_BLOCK_FIRST3 },
		    { "brand", MATCH_BLOCK_EXACT } }, 0 },
		{ 2, { { "name", MATCH_BLOCK_FIRST3 },
		    { "price", MATCH_BLOCK_EXACT } }, 0 },
		/* the model number in the name ("PSLX350H") */
		{ 1, { { "name", MATCH_BLOCK_CODEWORD } }, 0 },
		{ 1, { { "description", MATCH_BLOCK_CODEWORD } }, 0 },
		/* every code of the model number, and its first 5
		 * characters (a colour suffix: "WFW8300SWH", "WFW8300SW") */
		{ 1, { { ER_MODEL, MATCH_BLOCK_WORDS } }, 0 },
		{ 1, { { ER_MODEL, MATCH_BLOCK_WORDS5 } }, 0 },
	    }, { { "name", "brand" } }, { "name", "description" } },
	{ "product_category", {
		{ "category", MATCH_NAME, 1, NULL, 0 },
		{ "subcategory", MATCH_NAME, 1, NULL, 0 },
	    }, {
		{ 1, { { "category", MATCH_BLOCK_EXACT } }, 0 },
		{ 1, { { "subcategory", MATCH_BLOCK_EXACT } }, 0 },
	    }, { { NULL, NULL } }, { "category", "subcategory" } },
	{ "location", {
		{ "name", MATCH_TEXT, 1, NULL, 0 },
		{ "address", MATCH_TEXT, 0, NULL, 0 },
		{ "city", MATCH_NAME, 1, NULL, 0 },
		{ "postal_code", MATCH_POSTCODE, 0, NULL, 0 },
		{ "state", MATCH_EXACT, 0, NULL, 0 },
		{ "country", MATCH_EXACT, 0, NULL, 0 },
	    }, {
		{ 1, { { "name", MATCH_BLOCK_EXACT } }, 0 },
		{ 1, { { "postal_code", MATCH_BLOCK_EXACT } }, 0 },
		{ 2, { { "address", MATCH_BLOCK_FIRST3 },
		    { "city", MATCH_BLOCK_EXACT } }, 0 },
	    }, { { "name", "address" } },
	    { "name", "address", "city", "postal_code" } },
};

/* One representative record per key cluster. */
struct er {
	struct run		*r;
	const struct schema_entity *e;
	const struct er_spec	*spec;
	long long		*parent;	/* union-find by rowid */
	long long		 maxrow;
	/* the compared fields present in staging */
	const struct er_field	*f[ER_MAXF];
	int			 col[ER_MAXF];	/* staging column, -1: NAME */
	size_t			 nf;
	/* per staging row */
	char		       **rowval;	/* (maxrow + 1) * nf */
	char		       **file;		/* maxrow + 1 (lineage) */
	long long		*srow;		/* maxrow + 1 */
	struct arena_block	*arena;		/* rowval's and file's strings */
	char			*keyed;		/* maxrow + 1: has a key */
	/* representatives */
	long long		*rep_of;	/* rowid -> rep index or -1 */
	long long		*rep_row;	/* rep -> root rowid */
	size_t			 nrep;
	const char	       **rec;		/* nrep * nf, borrowed */
	int			 native_full;	/* a record has a whole name */
	sqlite3_stmt		*ins;		/* INSERT INTO match_pairs */
	long long		 pairs_written;
};

/* The staged values, copied into large blocks (a million records hold
 * millions of short strings: one allocation each would double them). */
struct arena_block {
	struct arena_block	*next;
	size_t			 used, size;
	char			 data[];
};

static char *
arena_dup(struct arena_block **a, const char *s)
{
	size_t n = strlen(s) + 1;
	struct arena_block *b = *a;

	if (b == NULL || b->size - b->used < n) {
		size_t size = n > (1 << 20) ? n : (1 << 20);
		if ((b = malloc(sizeof(*b) + size)) == NULL)
			return NULL;
		b->next = *a;
		b->used = 0;
		b->size = size;
		*a = b;
	}
	memcpy(b->data + b->used, s, n);
	b->used += n;
	return b->data + b->used - n;
}

static void
arena_free(struct arena_block *a)
{
	while (a != NULL) {
		struct arena_block *n = a->next;
		free(a);
		a = n;
	}
}



static cc_err
sqlerr(struct run *r, struct cc_diag *diag)
{
	return cc_diag_set(diag, CC_EDB, "sqlite", "%s", sqlite3_errmsg(r->db));
}

/* The spec of a user-defined entity, made from its attributes. */
static struct er_spec custom_spec;

/* "attr[:fn]" into a blocking key; 0 when fn is unknown. */
static int
parse_key(char *tok, struct er_key *k)
{
	char *c = strchr(tok, ':');

	k->fn = MATCH_BLOCK_EXACT;
	if (c != NULL) {
		*c++ = '\0';
		if (!strcmp(c, "first3"))
			k->fn = MATCH_BLOCK_FIRST3;
		else if (!strcmp(c, "soundex"))
			k->fn = MATCH_BLOCK_SOUNDEX;
		else if (!strcmp(c, "year"))
			k->fn = MATCH_BLOCK_YEAR;
		else if (!strcmp(c, "local"))
			k->fn = MATCH_BLOCK_LOCAL;
		else if (!strcmp(c, "codeword"))
			k->fn = MATCH_BLOCK_CODEWORD;
		else if (!strcmp(c, "words"))
			k->fn = MATCH_BLOCK_WORDS;
		else if (!strcmp(c, "words5"))
			k->fn = MATCH_BLOCK_WORDS5;
		else if (strcmp(c, "exact"))
			return 0;
	}
	k->attr = tok;
	return 1;
}

/*
 * A user-defined entity is compared by its attributes' "compare"
 * (concord/schema.h); strong attributes keep records apart.  Blocking:
 * the entity's own rules, else one rule per compared attribute: the
 * first 3 characters of a name or text, Soundex of a name too, the model
 * number in a text (the longest word with letters and digits), the whole
 * value of an e-mail, code, postcode or date (numbers and exact codes
 * alone make blocks too large to be rules).  A record without a key is
 * identified by its compared names and texts.
 */
static const struct er_spec *
custom_spec_of(const struct schema_entity *e)
{
	static char rulebuf[SCHEMA_CUSTOM_MAX_RULES][200];
	static const struct { const char *name; enum match_kind kind; }
	    kinds[] = { { "name", MATCH_NAME }, { "text", MATCH_TEXT },
	    { "longtext", MATCH_LONGTEXT }, { "code", MATCH_CODE },
	    { "exact", MATCH_EXACT }, { "date", MATCH_DATE },
	    { "number", MATCH_NUMBER }, { "postcode", MATCH_POSTCODE },
	    { "email", MATCH_EMAIL }, { "codes", MATCH_CODES } };
	struct er_spec *sp = &custom_spec;
	size_t k, q, nf = 0, nr = 0, ni = 0;

	memset(sp, 0, sizeof(*sp));
	sp->entity = e->name;
	for (k = 0; k < e->nattrs && nf < ER_MAXF; k++) {
		const struct schema_attr *a = &e->attrs[k];
		for (q = 0; q < sizeof(kinds) / sizeof(kinds[0]); q++)
			if (a->compare != NULL && !strcmp(a->compare,
			    kinds[q].name))
				break;
		if (q == sizeof(kinds) / sizeof(kinds[0]))
			continue;
		sp->fields[nf].attr = a->name;
		sp->fields[nf].kind = kinds[q].kind;
		sp->fields[nf].tf = kinds[q].kind == MATCH_NAME;
		sp->fields[nf].strong = a->strong;
		nf++;
		if (ni < 5 && (kinds[q].kind == MATCH_NAME || kinds[q].kind ==
		    MATCH_TEXT || kinds[q].kind == MATCH_LONGTEXT ||
		    kinds[q].kind == MATCH_EMAIL || kinds[q].kind == MATCH_CODE))
			sp->ident[ni++] = a->name;
	}
	if (e->blocking != NULL) {
		for (k = 0; e->blocking[k] != NULL && nr < ER_MAXR &&
		    k < SCHEMA_CUSTOM_MAX_RULES; k++) {
			char *tok, *save;
			size_t nk = 0;
			int ok = 1;
			snprintf(rulebuf[k], sizeof(rulebuf[k]), "%s",
			    e->blocking[k]);
			sp->rules[nr].unordered = strchr(rulebuf[k], '~') !=
			    NULL;
			for (tok = strtok_r(rulebuf[k], "+~", &save); tok !=
			    NULL && nk < 2; tok = strtok_r(NULL, "+~", &save))
				ok &= parse_key(tok, &sp->rules[nr].keys[nk++]);
			sp->rules[nr].nkeys = nk;
			if (ok && nk > 0)
				nr++;
		}
		return sp;
	}
	for (k = 0; k < nf && nr + 2 <= ER_MAXR; k++) {
		const struct er_field *f = &sp->fields[k];
		switch (f->kind) {
		case MATCH_NAME:
			sp->rules[nr].nkeys = 1;
			sp->rules[nr].keys[0].attr = f->attr;
			sp->rules[nr++].keys[0].fn = MATCH_BLOCK_SOUNDEX;
			/* FALLTHROUGH */
		case MATCH_TEXT:
		case MATCH_LONGTEXT:
			sp->rules[nr].nkeys = 1;
			sp->rules[nr].keys[0].attr = f->attr;
			sp->rules[nr++].keys[0].fn = MATCH_BLOCK_FIRST3;
			if (f->kind != MATCH_NAME && nr < ER_MAXR) {
				sp->rules[nr].nkeys = 1;
				sp->rules[nr].keys[0].attr = f->attr;
				sp->rules[nr++].keys[0].fn =
				    MATCH_BLOCK_CODEWORD;
			}
			break;
		case MATCH_EMAIL:
		case MATCH_CODE:
		case MATCH_POSTCODE:
		case MATCH_DATE:
			sp->rules[nr].nkeys = 1;
			sp->rules[nr].keys[0].attr = f->attr;
			sp->rules[nr++].keys[0].fn = MATCH_BLOCK_EXACT;
			break;
		default:
			break;
		}
	}
	return sp;
}

static const struct er_spec *
spec_of(const struct schema_entity *e)
{
	size_t i;

	if (e->custom)
		return custom_spec_of(e);
	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
		if (!strcmp(specs[i].entity, e->name))
			return &specs[i];
	return NULL;
}

static int
field_index(const struct er *x, const char *attr)
{
	size_t i;

	for (i = 0; i < x->nf; i++)
		if (!strcmp(x->f[i]->attr, attr))
			return (int)i;
	return -1;
}

/* Lower-case ASCII, single spaces, trimmed: the identity rule's form of
 * an already cleaned value.  Returns a new string or NULL. */
static char *
norm(const char *s)
{
	char *o, *p;
	int sp = 0;

	if (s == NULL || (o = malloc(strlen(s) + 1)) == NULL)
		return NULL;
	for (p = o; *s != '\0'; s++) {
		if (isspace((unsigned char)*s)) {
			sp = p != o;
			continue;
		}
		if (sp)
			*p++ = ' ';
		sp = 0;
		*p++ = (char)tolower((unsigned char)*s);
	}
	*p = '\0';
	if (p == o) {
		free(o);
		return NULL;
	}
	return o;
}

static int
str_pcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Drops from every MATCH_CODES value the codes that more than
 * max(5, rows / 1000) records carry: a model number names one product,
 * so a code that many records share is a specification ("1080P", "32GB")
 * or a product family, and agreeing on it says little.
 */
static cc_err
common_codes(struct er *x)
{
	size_t k, n = 0, cap = 0, i, j, lim, nc;
	long long row;
	char **all = NULL, **common = NULL, *w, *save, buf[512], out[512];
	cc_err err = CC_ENOMEM;

	lim = x->maxrow / 1000 > 5 ? (size_t)(x->maxrow / 1000) : 5;
	for (k = 0; k < x->nf; k++) {
		if (x->f[k]->kind != MATCH_CODES)
			continue;
		/* every code of every record, sorted: the runs count them */
		for (row = 0; row <= x->maxrow; row++) {
			const char *v = x->rowval[(size_t)row * x->nf + k];
			if (v == NULL)
				continue;
			snprintf(buf, sizeof(buf), "%s", v);
			for (w = strtok_r(buf, " ", &save); w != NULL;
			    w = strtok_r(NULL, " ", &save)) {
				if (n == cap) {
					char **t = realloc(all, (cap ? cap * 2 :
					    1024) * sizeof(*all));
					if (t == NULL)
						goto out;
					all = t;
					cap = cap ? cap * 2 : 1024;
				}
				if ((all[n] = strdup(w)) == NULL)
					goto out;
				n++;
			}
		}
		if (n > 1)	/* qsort(NULL, 0) is undefined (UBSan) */
			qsort(all, n, sizeof(*all), str_pcmp);
		if ((common = malloc((n + 1) * sizeof(*common))) == NULL)
			goto out;
		nc = 0;
		for (i = 0; i < n; i = j) {
			for (j = i + 1; j < n && !strcmp(all[i], all[j]); j++)
				continue;
			if (j - i > lim)
				common[nc++] = all[i];
		}
		for (row = 0; nc > 0 && row <= x->maxrow; row++) {
			char **slot = &x->rowval[(size_t)row * x->nf + k];
			size_t len = 0;
			if (*slot == NULL)
				continue;
			snprintf(buf, sizeof(buf), "%s", *slot);
			out[0] = '\0';
			for (w = strtok_r(buf, " ", &save); w != NULL;
			    w = strtok_r(NULL, " ", &save))
				if (bsearch(&w, common, nc, sizeof(*common),
				    str_pcmp) == NULL && len < sizeof(out))
					len += (size_t)snprintf(out + len,
					    sizeof(out) - len, "%s%s",
					    len ? " " : "", w);
			*slot = len > 0 ? arena_dup(&x->arena, out) : NULL;
		}
		free(common);
		common = NULL;
		for (i = 0; i < n; i++)
			free(all[i]);
		n = 0;
	}
	err = CC_OK;
out:
	for (i = 0; i < n; i++)
		free(all[i]);
	free(all);
	free(common);
	return err;
}

/* Reads the compared attributes of every staging row. */
static cc_err
load(struct er *x, struct cc_diag *diag)
{
	const struct schema_entity *e = x->e;
	int hasfirst = schema_attr(e, "first_name") != NULL,
	    haslast = schema_attr(e, "last_name") != NULL,
	    hasfull = schema_attr(e, ER_NAME) != NULL,
	    hasmodel = schema_attr(e, ER_MODEL) != NULL &&
	    schema_attr(e, "name") != NULL && schema_attr(e, "description") !=
	    NULL;
	char sql[2048], *p = sql;
	sqlite3_stmt *st;
	size_t i, k;

	for (i = 0; i < ER_MAXF && x->spec->fields[i].attr != NULL; i++) {
		const struct er_field *f = &x->spec->fields[i];
		if (schema_attr(e, f->attr) == NULL)
			continue;
		x->f[x->nf] = f;
		x->col[x->nf] = -1;
		x->nf++;
	}
	if (x->nf == 0)
		return CC_OK;
	p += snprintf(p, 64, "SELECT rowid, _file_id, _row");
	for (i = 0; i < x->nf; i++)
		p += snprintf(p, 96, ", \"%s\"", x->f[i]->attr);
	if (hasfirst && haslast && hasfull)
		p += snprintf(p, 96, ", first_name, last_name");
	else
		p += snprintf(p, 96, ", NULL, NULL");
	p += snprintf(p, 32, ", coalesce(");
	for (i = 0; i < e->nattrs; i++)
		if (e->attrs[i].role == SCHEMA_NATURAL_KEY ||
		    e->attrs[i].role == SCHEMA_ALTERNATE_KEY)
			p += snprintf(p, 96, "\"%s\", ", e->attrs[i].name);
	p += snprintf(p, 32, "NULL) IS NOT NULL");
	if (hasmodel)
		p += snprintf(p, 96, ", name, description");
	else
		p += snprintf(p, 96, ", NULL, NULL");
	snprintf(p, 96, " FROM \"stg_%s\" ORDER BY rowid", e->name);
	if (sqlite3_prepare_v2(x->r->db, sql, -1, &st, NULL) != SQLITE_OK)
		return sqlerr(x->r, diag);
	x->rowval = calloc((size_t)(x->maxrow + 1) * x->nf, sizeof(char *));
	x->file = calloc((size_t)x->maxrow + 1, sizeof(char *));
	x->srow = calloc((size_t)x->maxrow + 1, sizeof(long long));
	x->keyed = calloc((size_t)x->maxrow + 1, 1);
	if (x->rowval == NULL || x->file == NULL || x->srow == NULL ||
	    x->keyed == NULL) {
		sqlite3_finalize(st);
		return CC_ENOMEM;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		long long row = sqlite3_column_int64(st, 0);
		if (row < 0 || row > x->maxrow)
			continue;
		/* files repeat: one copy per file */
		{
			const char *fid = (const char *)sqlite3_column_text(st,
			    1);
			x->file[row] = row > 1 && x->file[row - 1] != NULL &&
			    !strcmp(x->file[row - 1], fid) ? x->file[row - 1] :
			    arena_dup(&x->arena, fid);
		}
		x->srow[row] = sqlite3_column_int64(st, 2);
		x->keyed[row] = (char)sqlite3_column_int(st, 5 + (int)x->nf);
		for (k = 0; k < x->nf; k++) {
			const char *v = (const char *)sqlite3_column_text(st,
			    3 + (int)k);
			char **slot = &x->rowval[(size_t)row * x->nf + k];
			char codes[512];
			/* the model number from the name and description */
			if ((v == NULL || *v == '\0') && hasmodel &&
			    !strcmp(x->f[k]->attr, ER_MODEL)) {
				/* the name's codes; the description's when
				 * the name has none (a description also
				 * lists the specifications and the models
				 * an accessory fits) */
				if (match_codewords((const char *)
				    sqlite3_column_text(st, 6 + (int)x->nf),
				    codes, sizeof(codes)) == 0)
					match_codewords((const char *)
					    sqlite3_column_text(st, 7 +
					    (int)x->nf), codes, sizeof(codes));
				v = codes;
			} else if (v != NULL && x->f[k]->kind == MATCH_CODES) {
				match_codewords(v, codes, sizeof(codes));
				v = codes;
			}
			if (v != NULL && *v != '\0') {
				*slot = arena_dup(&x->arena, v);
				if (!strcmp(x->f[k]->attr, ER_NAME))
					x->native_full = 1;
			}
			/* the whole name from its parts when only they are
			 * there, so that "Jane Doe" meets first/last */
			if (*slot == NULL && !strcmp(x->f[k]->attr, ER_NAME) &&
			    hasfirst && haslast) {
				const char *fn = (const char *)
				    sqlite3_column_text(st, 3 + (int)x->nf),
				    *ln = (const char *)sqlite3_column_text(st,
				    4 + (int)x->nf);
				if (fn != NULL && ln != NULL) {
					char whole[512];
					snprintf(whole, sizeof(whole), "%s %s",
					    fn, ln);
					*slot = arena_dup(&x->arena, whole);
				}
			}
		}
	}
	sqlite3_finalize(st);
	return common_codes(x);
}

/* 1 when record ra comes after rb in lineage order (file id, row). */
static int
lineage_after(const struct er *x, long long ra, long long rb)
{
	int c = strcmp(x->file[ra], x->file[rb]);

	return c > 0 || (c == 0 && x->srow[ra] > x->srow[rb]);
}

/* Writes one pair of records (rowids) to match_pairs; compared (may be
 * NULL) is the JSON of the values compared, a's first. */
static cc_err
put_pair(struct er *x, long long ra, long long rb, const double *weight,
    const double *prob, const char *levels, const char *rule,
    const char *decision, const char *by, const char *reason,
    const char *compared)
{
	sqlite3_stmt *st = x->ins;
	long long t;
	int swap;

	/* a before b in lineage order (lineage_after()) */
	swap = lineage_after(x, ra, rb);
	if (swap) {
		t = ra;
		ra = rb;
		rb = t;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	sqlite3_bind_text(st, 1, x->r->run_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, x->e->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, x->file[ra], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, x->srow[ra]);
	sqlite3_bind_text(st, 5, x->file[rb], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, x->srow[rb]);
	if (weight != NULL)
		sqlite3_bind_double(st, 7, *weight);
	if (prob != NULL)
		sqlite3_bind_double(st, 8, *prob);
	if (levels != NULL)
		sqlite3_bind_text(st, 9, levels, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 10, rule, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 11, decision, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 12, by, -1, SQLITE_STATIC);
	if (reason != NULL)
		sqlite3_bind_text(st, 13, reason, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 14, ra);
	sqlite3_bind_int64(st, 15, rb);
	if (compared != NULL)
		sqlite3_bind_text(st, 16, compared, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE)
		return CC_EDB;
	x->pairs_written++;
	return CC_OK;
}

struct idrow {
	char		*key;
	long long	 row;
};

static int
idrow_cmp(const void *a, const void *b)
{
	const struct idrow *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c != 0)
		return c;
	return x->row < y->row ? -1 : x->row > y->row;
}

/* The identity of a record without a key: its identifying attributes
 * (er_spec.ident) normalised and joined, a missing one empty; NULL when
 * it has none (or out of memory). */
static char *
ident_key(const struct er *x, long long row)
{
	char *out = NULL, *v;
	size_t len = 0, k;
	int any = 0, f;

	for (k = 0; k < 6 && x->spec->ident[k] != NULL; k++) {
		char *o;
		size_t n;
		if ((f = field_index(x, x->spec->ident[k])) < 0)
			continue;
		v = norm(x->rowval[(size_t)row * x->nf + (size_t)f]);
		any |= v != NULL;
		n = len + (v != NULL ? strlen(v) : 0) + 2;
		if ((o = realloc(out, n)) == NULL) {
			free(v);
			free(out);
			return NULL;
		}
		out = o;
		len += (size_t)snprintf(out + len, n - len, "%s\x1f",
		    v != NULL ? v : "");
		free(v);
	}
	if (!any) {
		free(out);
		return NULL;
	}
	return out;
}

/* Step 1: records with the same name and e-mail (or phone); records
 * without a key with the same identifying attributes. */
static cc_err
identity(struct er *x, json_t *report)
{
	struct idrow *ids = NULL;
	size_t n, k, i;
	long long row, merged = 0;
	int q;
	cc_err err = CC_OK;

	if ((ids = calloc((size_t)x->maxrow + 1, sizeof(*ids))) == NULL)
		return CC_ENOMEM;
	for (q = 0; q <= 3 && err == CC_OK; q++) {
		const char *a = q < 3 ? x->spec->identity[q][0] : NULL,
		    *b = q < 3 ? x->spec->identity[q][1] : NULL;
		int fa = -1, fb = -1;
		char rule[96];
		if (q < 3 && a == NULL)
			continue;
		if (q < 3 && ((fa = field_index(x, a)) < 0 ||
		    (fb = field_index(x, b)) < 0))
			continue;
		if (q < 3)
			snprintf(rule, sizeof(rule), "identity: %s = and %s =",
			    a, b);
		else
			snprintf(rule, sizeof(rule), "identity: no key, the same"
			    " identifying attributes");
		n = 0;
		for (row = 1; row <= x->maxrow; row++) {
			char *va, *vb;
			size_t len;
			if (x->file[row] == NULL)
				continue;
			if (q == 3) {
				/* a record without a key: all its identifying
				 * attributes together are its identity */
				if (x->keyed[row] ||
				    (ids[n].key = ident_key(x, row)) == NULL)
					continue;
				ids[n++].row = row;
				continue;
			}
			va = norm(x->rowval[(size_t)row * x->nf + (size_t)fa]);
			vb = norm(x->rowval[(size_t)row * x->nf + (size_t)fb]);
			if (va != NULL && vb != NULL) {
				len = strlen(va) + strlen(vb) + 2;
				if ((ids[n].key = malloc(len)) != NULL) {
					snprintf(ids[n].key, len, "%s\x1f%s",
					    va, vb);
					ids[n++].row = row;
				}
			}
			free(va);
			free(vb);
		}
		qsort(ids, n, sizeof(*ids), idrow_cmp);
		for (k = 0; k < n; k = i) {
			for (i = k + 1; i < n && !strcmp(ids[i].key,
			    ids[k].key); i++) {
				/* two records that both carry a key are
				 * linked by their keys or by the matcher's
				 * evidence, not by a shared name and phone */
				if (x->keyed[ids[i].row] && x->keyed[ids[k].row])
					continue;
				if (uf_find(x->parent, ids[i].row) ==
				    uf_find(x->parent, ids[k].row))
					continue;
				uf_unite(x->parent, ids[k].row, ids[i].row);
				merged++;
				if (put_pair(x, ids[k].row, ids[i].row, NULL,
				    NULL, NULL, rule, "matched", "rule",
				    "the same name and contact", NULL) != CC_OK)
					err = CC_EDB;
			}
		}
		for (k = 0; k < n; k++)
			free(ids[k].key);
	}
	free(ids);
	json_object_set_new(report, "identity_merges", json_integer(merged));
	return err;
}

/* One representative per key cluster: the first non-null value of each
 * field in staging order. */
static cc_err
representatives(struct er *x)
{
	long long row, root;
	size_t k;

	x->rep_of = malloc(((size_t)x->maxrow + 1) * sizeof(long long));
	x->rep_row = malloc(((size_t)x->maxrow + 1) * sizeof(long long));
	x->rec = calloc(((size_t)x->maxrow + 1) * x->nf, sizeof(char *));
	if (x->rep_of == NULL || x->rep_row == NULL || x->rec == NULL)
		return CC_ENOMEM;
	for (row = 0; row <= x->maxrow; row++)
		x->rep_of[row] = -1;
	for (row = 1; row <= x->maxrow; row++) {
		long long rp;
		if (x->file[row] == NULL)
			continue;
		root = uf_find(x->parent, row);
		if (x->rep_of[root] < 0) {
			x->rep_of[root] = (long long)x->nrep;
			x->rep_row[x->nrep++] = root;
		}
		rp = x->rep_of[root];
		for (k = 0; k < x->nf; k++) {
			const char **slot = &x->rec[(size_t)rp * x->nf + k];
			if (*slot == NULL)
				*slot = x->rowval[(size_t)row * x->nf + k];
		}
	}
	return CC_OK;
}

/* A person's decision on a pair of records, by their lineage. */
struct decision {
	long long	a, b;		/* rep indices */
	long long	ra, rb;		/* rowids */
	int		accept;
};

static cc_err
decisions(struct er *x, struct decision **out, size_t *nout,
    struct cc_diag *diag)
{
	sqlite3_stmt *st = NULL, *find = NULL;
	struct decision *d = NULL;
	size_t n = 0, cap = 0;
	char sql[256];
	cc_err err = CC_OK;

	*out = NULL;
	*nout = 0;
	snprintf(sql, sizeof(sql), "SELECT rowid FROM \"stg_%s\" WHERE"
	    " _file_id = ?1 AND _row = ?2 ORDER BY rowid LIMIT 1", x->e->name);
	if (sqlite3_prepare_v2(x->r->ws->db, "SELECT a_file_id, a_row,"
	    " b_file_id, b_row, decision FROM match_decisions WHERE entity ="
	    " ?1 ORDER BY id", -1, &st, NULL) != SQLITE_OK)
		return cc_diag_set(diag, CC_EDB, "sqlite", "%s",
		    sqlite3_errmsg(x->r->ws->db));
	if (sqlite3_prepare_v2(x->r->db, sql, -1, &find, NULL) != SQLITE_OK) {
		sqlite3_finalize(st);
		return sqlerr(x->r, diag);
	}
	sqlite3_bind_text(st, 1, x->e->name, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		long long rows[2] = { -1, -1 };
		int s;
		for (s = 0; s < 2; s++) {
			sqlite3_reset(find);
			sqlite3_bind_text(find, 1, (const char *)
			    sqlite3_column_text(st, 2 * s), -1,
			    SQLITE_TRANSIENT);
			sqlite3_bind_int64(find, 2, sqlite3_column_int64(st,
			    2 * s + 1));
			if (sqlite3_step(find) == SQLITE_ROW)
				rows[s] = sqlite3_column_int64(find, 0);
		}
		if (rows[0] < 1 || rows[1] < 1 || rows[0] > x->maxrow ||
		    rows[1] > x->maxrow)
			continue;	/* a file deleted since */
		if (n == cap) {
			struct decision *nd;
			cap = cap ? cap * 2 : 16;
			if ((nd = realloc(d, cap * sizeof(*d))) == NULL) {
				err = CC_ENOMEM;
				break;
			}
			d = nd;
		}
		d[n].ra = rows[0];
		d[n].rb = rows[1];
		d[n].a = x->rep_of[uf_find(x->parent, rows[0])];
		d[n].b = x->rep_of[uf_find(x->parent, rows[1])];
		d[n].accept = !strcmp((const char *)sqlite3_column_text(st, 4),
		    "accept");
		n++;
	}
	sqlite3_finalize(st);
	sqlite3_finalize(find);
	if (err != CC_OK) {
		free(d);
		return err;
	}
	*out = d;
	*nout = n;
	return CC_OK;
}

/* The levels of a pair as a JSON object text {"attr": "label", ...}. */
static char *
levels_json(const struct er *x, const struct match_result *m,
    const unsigned char *gamma)
{
	json_t *o = json_object();
	size_t f;
	char *s;

	for (f = 0; f < m->nfields; f++) {
		const char *lab = gamma[f] == MATCH_LEVEL_MISSING ? "missing" :
		    m->fields[f].levels[gamma[f]].label;
		json_object_set_new(o, m->fields[f].name, json_string(lab));
	}
	(void)x;
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return s;
}

/*
 * The values the matcher compared for representatives ia and ib (their
 * key clusters' first non-null values), as JSON text {"attr": [a, b]}:
 * what the review shows beside the levels.
 */
static char *
compared_json(const struct match_result *m, const char *const *recs,
    size_t nf, size_t ia, size_t ib)
{
	json_t *o = json_object();
	size_t f;
	char *s;

	for (f = 0; f < m->nfields && f < nf; f++) {
		const char *a = recs[ia * nf + f], *b = recs[ib * nf + f];
		json_object_set_new(o, m->fields[f].name, json_pack("[s?, s?]",
		    a, b));
	}
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return s;
}

/* The text of blocking rule k of cfg, e.g. "last_name:soundex+city". */
static void
rule_text(const struct match_config *cfg, size_t k, char *out, size_t n)
{
	static const char *const fn[] = { "", ":first3", ":soundex", ":year",
	    ":local", ":codeword", ":words", ":words5" };
	size_t i, len = 0;

	out[0] = '\0';
	if (k >= cfg->nrules)
		return;
	for (i = 0; i < cfg->rules[k].nkeys; i++)
		len += (size_t)snprintf(out + len, len < n ? n - len : 0, "%s%s%s",
		    i == 0 ? "" : cfg->rules[k].unordered ? "~" : "+",
		    cfg->fields[cfg->rules[k].keys[i].field].name,
		    fn[cfg->rules[k].keys[i].fn]);
}

/* The match weights of the candidate pairs (their comparison vectors'
 * weights, before term-frequency adjustment) in bins of 2 bits:
 * [{"from", "to", "count"}], the empty bins at either end left out. */
static json_t *
histogram(const struct match_result *m)
{
	enum { LO = -40, HI = 60, W = 2, NB = (HI - LO) / W };
	long long bins[NB];
	json_t *a = json_array();
	size_t k, f;
	int b, first = -1, last = -1;

	memset(bins, 0, sizeof(bins));
	for (k = 0; k < m->patterns; k++) {
		double w = 0;
		for (f = 0; f < m->nfields; f++) {
			unsigned char l = m->gamma_buf[k * m->nfields + f];
			if (l != MATCH_LEVEL_MISSING)
				w += m->fields[f].levels[l].weight;
		}
		b = (int)((w - LO) / W);
		b = b < 0 ? 0 : b >= NB ? NB - 1 : b;
		bins[b] += (long long)m->pattern_count[k];
	}
	for (b = 0; b < NB; b++)
		if (bins[b] > 0) {
			if (first < 0)
				first = b;
			last = b;
		}
	for (b = first; first >= 0 && b <= last; b++)
		json_array_append_new(a, json_pack("{s:i, s:i, s:I}", "from",
		    LO + b * W, "to", LO + (b + 1) * W, "count",
		    (json_int_t)bins[b]));
	return a;
}

/*
 * Two-source linkage of sources that are each deduplicated (an entity
 * with linkage one_to_one): of the matches in order (strongest first),
 * a pair within one source is dropped, and a record keeps its strongest
 * match into each other source (greedy, as Splink's and
 * recordlinkage's one-to-one assignment).  order is compacted in place;
 * *apart counts what was dropped.  Returns CC_ENOMEM.
 */
static cc_err
one_to_one(const struct er *x, const struct match_pair **order, size_t *no,
    size_t *apart)
{
	const char *files[64];
	size_t nfiles = 0, i, k, out = 0, fa, fb;
	unsigned char *used;

	for (i = 0; i < x->nrep && nfiles < 64; i++) {
		const char *f = x->file[x->rep_row[i]];
		for (k = 0; k < nfiles && strcmp(files[k], f); k++)
			;
		if (k == nfiles)
			files[nfiles++] = f;
	}
	if ((used = calloc(x->nrep * nfiles + 1, 1)) == NULL)
		return CC_ENOMEM;
	for (i = 0; i < *no; i++) {
		const struct match_pair *p = order[i];
		const char *a = x->file[x->rep_row[p->i]],
		    *b = x->file[x->rep_row[p->j]];
		for (fa = 0; fa < nfiles && strcmp(files[fa], a); fa++)
			;
		for (fb = 0; fb < nfiles && strcmp(files[fb], b); fb++)
			;
		if (fa == fb || fa == nfiles || fb == nfiles ||
		    used[p->i * nfiles + fb] || used[p->j * nfiles + fa]) {
			(*apart)++;
			continue;
		}
		used[p->i * nfiles + fb] = used[p->j * nfiles + fa] = 1;
		order[out++] = p;
	}
	*no = out;
	free(used);
	return CC_OK;
}

static int
pair_cmp(const void *a, const void *b)
{
	const struct match_pair *x = *(const struct match_pair *const *)a,
	    *y = *(const struct match_pair *const *)b;

	if (x->weight != y->weight)
		return x->weight > y->weight ? -1 : 1;
	if (x->i != y->i)
		return x->i < y->i ? -1 : 1;
	return x->j < y->j ? -1 : x->j > y->j;
}

/* Step 2-4 over the representatives. */
static cc_err
link(struct er *x, json_t *report, struct cc_diag *diag)
{
	struct match_field mf[ER_MAXF];
	struct match_blocking mb[ER_MAXR];
	struct match_config cfg;
	struct match_result *m = NULL;
	struct decision *dec = NULL;
	const struct match_pair **order = NULL;
	const char **recs = NULL, **strong = NULL;
	size_t *pairs = NULL, *cannot = NULL, *cluster = NULL, ndec = 0,
	    *slot_of = NULL, apart = 0,
	    nstrong = 0, npairs = 0, ncannot = 0, nclusters = 0, k, f, i,
	    nfu = 0, use[ER_MAXF];
	unsigned char *skipped = NULL, *kind = NULL;
	long long nonnull[ER_MAXF];
	long long matched = 0, review = 0, kept = 0, accepted = 0,
	    rejected = 0;
	char rule[128];
	cc_err err = CC_OK;

	memset(&cfg, 0, sizeof(cfg));
	memset(nonnull, 0, sizeof(nonnull));
	if ((err = decisions(x, &dec, &ndec, diag)) != CC_OK)
		return err;
	/* the fields that at least two records have; the name compared
	 * once: as a whole when some record has only the whole name (it is
	 * then made of first and last name for the others), else as first
	 * and last name (comparing both would count one agreement twice) */
	for (i = 0; i < x->nrep; i++)
		for (f = 0; f < x->nf; f++)
			nonnull[f] += x->rec[i * x->nf + f] != NULL;
	for (f = 0; f < x->nf; f++) {
		const char *a = x->f[f]->attr;
		if (nonnull[f] < 2)
			continue;
		if (x->native_full ? !strcmp(a, "first_name") ||
		    !strcmp(a, "last_name") : !strcmp(a, ER_NAME) &&
		    (field_index(x, "first_name") >= 0))
			continue;
		use[nfu++] = f;
	}
	if (nfu > 0 && x->nrep >= 2) {
		size_t nr = 0;
		for (k = 0; k < nfu; k++) {
			const struct er_field *ef = x->f[use[k]];
			mf[k].name = ef->attr;
			mf[k].kind = ef->kind;
			mf[k].tf_adjust = ef->tf;
			mf[k].swap_with = NULL;
			for (i = 0; ef->swap != NULL && i < nfu; i++)
				if (!strcmp(x->f[use[i]]->attr, ef->swap))
					mf[k].swap_with = ef->swap;
			if (ef->strong)
				nstrong++;
		}
		for (k = 0; k < ER_MAXR && x->spec->rules[k].nkeys > 0; k++) {
			const struct er_rule *er = &x->spec->rules[k];
			size_t q, ok = 1;
			mb[nr].nkeys = er->nkeys;
			mb[nr].unordered = er->unordered;
			for (q = 0; q < er->nkeys && ok; q++) {
				ok = 0;
				for (i = 0; i < nfu; i++)
					if (!strcmp(mf[i].name, er->keys[q].attr)) {
						mb[nr].keys[q].field = i;
						mb[nr].keys[q].fn = er->keys[q].fn;
						ok = 1;
					}
			}
			if (ok)
				nr++;
		}
		/* the compared fields of each representative, in place:
		 * x->rec becomes nrep rows of nfu (use[k] >= k, so no value
		 * is overwritten before it is read; a million records would
		 * otherwise hold a second table of pointers) */
		for (i = 0; i < x->nrep; i++)
			for (k = 0; k < nfu; k++)
				x->rec[i * nfu + k] = x->rec[i * x->nf + use[k]];
		{
			const char **t = realloc(x->rec, (x->nrep * nfu + 1) *
			    sizeof(*t));
			if (t != NULL)
				x->rec = t;
		}
		recs = x->rec;
		cfg.fields = mf;
		cfg.nfields = nfu;
		cfg.rules = mb;
		cfg.nrules = nr;
		cfg.threshold_probability = ER_LOWER;
		cfg.threads = x->r->threads;
		if (nr == 0 && x->nrep > 2000)
			goto cluster;	/* no rule fits: not all pairs */
		if ((err = match_run(&cfg, recs, x->nrep, &m, diag)) != CC_OK)
			goto out;
	}
cluster:
	/* the pairs to cluster: accepted by a person, then the matches by
	 * weight; kind 0 match, 1 accepted */
	k = (m != NULL ? m->npairs : 0) + ndec;
	if (k > 0 && ((pairs = malloc(2 * k * sizeof(*pairs))) == NULL ||
	    (skipped = calloc(k, 1)) == NULL || (kind = calloc(k, 1)) == NULL ||
	    (cannot = malloc(2 * ndec * sizeof(*cannot) + 1)) == NULL ||
	    (order = malloc(k * sizeof(*order) + 1)) == NULL)) {
		err = CC_ENOMEM;
		goto out;
	}
	for (i = 0; i < ndec; i++) {
		if (dec[i].accept) {
			pairs[2 * npairs] = (size_t)dec[i].a;
			pairs[2 * npairs + 1] = (size_t)dec[i].b;
			kind[npairs++] = 1;
			accepted++;
		} else if (dec[i].a != dec[i].b) {
			cannot[2 * ncannot] = (size_t)dec[i].a;
			cannot[2 * ncannot + 1] = (size_t)dec[i].b;
			ncannot++;
			rejected++;
		}
	}
	if (m != NULL && m->npairs > 0) {
		size_t no = 0;
		if ((slot_of = malloc(m->npairs * sizeof(*slot_of))) == NULL) {
			err = CC_ENOMEM;
			goto out;
		}
		for (i = 0; i < m->npairs; i++) {
			slot_of[i] = (size_t)-1;
			if (m->pairs[i].probability >= ER_UPPER)
				order[no++] = &m->pairs[i];
		}
		qsort(order, no, sizeof(*order), pair_cmp);
		if (x->e->one_to_one && (err = one_to_one(x, order, &no,
		    &apart)) != CC_OK)
			goto out;
		for (i = 0; i < no; i++) {
			slot_of[order[i] - m->pairs] = npairs;
			pairs[2 * npairs] = order[i]->i;
			pairs[2 * npairs + 1] = order[i]->j;
			npairs++;
		}
	}
	if (nstrong > 0 && (strong = calloc(x->nrep * nstrong,
	    sizeof(*strong))) == NULL) {
		err = CC_ENOMEM;
		goto out;
	}
	for (i = 0; i < x->nrep && nstrong > 0; i++) {
		size_t s = 0;
		for (f = 0; f < nfu; f++)
			if (x->f[use[f]]->strong)
				strong[i * nstrong + s++] = recs[i * nfu + f];
	}
	if ((cluster = malloc((x->nrep + 1) * sizeof(*cluster))) == NULL) {
		err = CC_ENOMEM;
		goto out;
	}
	if (match_clusters_constrained(x->nrep, pairs, npairs, strong,
	    nstrong, cannot, ncannot, cluster, &nclusters, skipped) != CC_OK) {
		err = CC_ENOMEM;
		goto out;
	}
	/* the evidence: people's decisions, then every pair the model
	 * kept */
	for (i = 0; i < ndec; i++) {
		char *lv = NULL;
		if ((err = put_pair(x, dec[i].ra, dec[i].rb, NULL, NULL, lv,
		    "review", dec[i].accept ? "accepted" : "rejected",
		    "person", NULL, NULL)) != CC_OK)
			goto out;
	}
	if (m != NULL) {
		for (i = 0; i < m->npairs; i++) {
			const struct match_pair *p = &m->pairs[i];
			long long ra = x->rep_row[p->i], rb = x->rep_row[p->j];
			const char *d = "review", *reason = NULL;
			char *lv, *cmp;
			size_t q;
			int byperson = 0;
			for (q = 0; q < ndec; q++)
				if ((dec[q].a == (long long)p->i &&
				    dec[q].b == (long long)p->j) ||
				    (dec[q].a == (long long)p->j &&
				    dec[q].b == (long long)p->i))
					byperson = 1;
			if (byperson)
				continue;	/* written above */
			if (p->probability >= ER_UPPER) {
				if (slot_of[i] == (size_t)-1) {
					d = "kept_apart";
					reason = "one-to-one linkage: a record"
					    " matches one record of another"
					    " source, none of its own";
					kept++;
				} else if (skipped[slot_of[i]]) {
					d = "kept_apart";
					reason = "a strong key or a rejected"
					    " pair keeps the two apart";
					kept++;
				} else {
					d = "matched";
					matched++;
				}
			} else
				review++;
			rule_text(&cfg, p->rule, rule, sizeof(rule));
			lv = levels_json(x, m, p->gamma);
			cmp = compared_json(m, recs, cfg.nfields, lineage_after(x,
			    ra, rb) ? p->j : p->i, lineage_after(x, ra, rb) ?
			    p->i : p->j);
			err = put_pair(x, ra, rb, &p->weight, &p->probability,
			    lv, rule, d, "model", reason, cmp);
			free(lv);
			free(cmp);
			if (err != CC_OK)
				goto out;
		}
	}
	/* clusters become entities: unite the key clusters */
	{
		long long *first = malloc((nclusters + 1) * sizeof(long long));
		if (first == NULL) {
			err = CC_ENOMEM;
			goto out;
		}
		for (i = 0; i < nclusters; i++)
			first[i] = -1;
		for (i = 0; i < x->nrep; i++) {
			if (first[cluster[i]] < 0)
				first[cluster[i]] = x->rep_row[i];
			else
				uf_unite(x->parent, first[cluster[i]],
				    x->rep_row[i]);
		}
		free(first);
	}
	/* the report */
	{
		json_t *rules = json_array(), *model;
		for (k = 0; m != NULL && k < cfg.nrules; k++) {
			rule_text(&cfg, k, rule, sizeof(rule));
			json_array_append_new(rules, json_pack("{s:s, s:I, s:I}",
			    "rule", rule, "pairs",
			    (json_int_t)m->rule_pairs[k], "blocks_skipped",
			    (json_int_t)m->blocks_skipped[k]));
		}
		json_object_set_new(report, "records", json_integer(
		    (json_int_t)x->nrep));
		json_object_set_new(report, "blocking_rules", rules);
		json_object_set_new(report, "pairs_compared", json_integer(
		    m != NULL ? m->candidate_pairs : 0));
		json_object_set_new(report, "pairs_matched",
		    json_integer(matched));
		json_object_set_new(report, "pairs_review",
		    json_integer(review));
		json_object_set_new(report, "pairs_kept_apart",
		    json_integer(kept));
		json_object_set_new(report, "pairs_accepted_by_person",
		    json_integer(accepted));
		json_object_set_new(report, "pairs_rejected_by_person",
		    json_integer(rejected));
		json_object_set_new(report, "clusters",
		    json_integer((json_int_t)nclusters));
		json_object_set_new(report, "threshold_upper",
		    json_real(ER_UPPER));
		json_object_set_new(report, "threshold_lower",
		    json_real(ER_LOWER));
		if (m != NULL && (model = match_result_model_json(m)) != NULL)
			json_object_set_new(report, "model", model);
		if (m != NULL)
			json_object_set_new(report, "histogram", histogram(m));
		if (m != NULL && m->truncated)
			json_object_set_new(report, "truncated", json_true());
	}
out:
	match_result_free(m);
	free(dec);
	free(strong);
	free(pairs);
	free(cannot);
	free(cluster);
	free(skipped);
	free(kind);
	free(order);
	free(slot_of);
	return err;
}

cc_err
er_entity(struct run *r, const struct schema_entity *e, long long *parent,
    long long maxrow, json_t *report, struct cc_diag *diag)
{
	struct er x;
	struct timespec t0;
	json_t *tm = NULL;
	cc_err err;

	memset(&x, 0, sizeof(x));
	x.r = r;
	x.e = e;
	x.parent = parent;
	x.maxrow = maxrow;
	if ((x.spec = spec_of(e)) == NULL || maxrow < 1)
		return CC_OK;
	/* the lookups of a row by its lineage use the staging table's
	 * primary key (_file_id, _row): no index of their own */
	if (sqlite3_prepare_v2(r->db, "INSERT INTO match_pairs (run_id,"
	    " entity, a_file_id, a_row, b_file_id, b_row, weight, probability,"
	    " levels, blocking_rule, decision, decided_by, reason,"
	    " a_canonical_id, b_canonical_id, compared) VALUES (?1, ?2, ?3, ?4,"
	    " ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)", -1,
	    &x.ins, NULL) !=
	    SQLITE_OK)
		return sqlerr(r, diag);
	if ((tm = json_object()) == NULL) {
		sqlite3_finalize(x.ins);
		return CC_ENOMEM;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((err = load(&x, diag)) != CC_OK || x.nf == 0)
		goto out;
	json_object_set_new(tm, "read", json_integer(run_ms_since(&t0)));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((err = identity(&x, report)) != CC_OK) {
		sqlerr(r, diag);
		goto out;
	}
	json_object_set_new(tm, "identity", json_integer(run_ms_since(&t0)));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((err = representatives(&x)) != CC_OK)
		goto out;
	/* the representatives point into the arena: the per-row table is
	 * no longer needed (a million rows: 8 bytes per row and field) */
	free(x.rowval);
	x.rowval = NULL;
	if ((err = link(&x, report, diag)) != CC_OK)
		goto out;
	json_object_set_new(tm, "match", json_integer(run_ms_since(&t0)));
	json_object_set(report, "timings_ms", tm);
	/* a_canonical_id / b_canonical_id hold rowids until the ids are
	 * assigned (er_finish()) */
out:
	if (err == CC_ENOMEM)
		cc_diag_set(diag, CC_ENOMEM, "nomem", "out of memory while"
		    " matching %s records", e->name);
	sqlite3_finalize(x.ins);
	json_decref(tm);
	arena_free(x.arena);
	free(x.rowval);
	free(x.file);
	free(x.srow);
	free(x.keyed);
	free(x.rep_of);
	free(x.rep_row);
	free(x.rec);
	return err;
}

cc_err
er_finish(struct run *r, const struct schema_entity *e, const long long *idof,
    long long maxrow, struct cc_diag *diag)
{
	sqlite3_stmt *sel = NULL, *upd = NULL;
	long long a, b;
	int rc;

	/* in pair_id order: each row rewritten once, in the table's order */
	if (sqlite3_prepare_v2(r->db, "SELECT pair_id, a_canonical_id,"
	    " b_canonical_id FROM match_pairs WHERE +entity = ?1 ORDER BY"
	    " pair_id", -1, &sel, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(r->db, "UPDATE match_pairs SET a_canonical_id ="
	    " ?2, b_canonical_id = ?3 WHERE pair_id = ?1", -1, &upd, NULL) !=
	    SQLITE_OK)
		goto fail;
	sqlite3_bind_text(sel, 1, e->name, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
		a = sqlite3_column_int64(sel, 1);
		b = sqlite3_column_int64(sel, 2);
		sqlite3_reset(upd);
		sqlite3_bind_int64(upd, 1, sqlite3_column_int64(sel, 0));
		if (a >= 1 && a <= maxrow && idof[a] > 0)
			sqlite3_bind_int64(upd, 2, idof[a]);
		else
			sqlite3_bind_null(upd, 2);
		if (b >= 1 && b <= maxrow && idof[b] > 0)
			sqlite3_bind_int64(upd, 3, idof[b]);
		else
			sqlite3_bind_null(upd, 3);
		if (sqlite3_step(upd) != SQLITE_DONE)
			goto fail;
	}
	if (rc != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	return CC_OK;
fail:
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	return sqlerr(r, diag);
}

const char *const *
er_identity_attrs(const char *entity)
{
	const struct schema_entity *e = schema_entity(entity);
	const struct er_spec *sp = e != NULL ? spec_of(e) : NULL;

	return sp != NULL ? sp->ident : NULL;
}
