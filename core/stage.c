/*
 * stage.c - the stage phase of a run (concord/pipeline.h): each file's
 * mapped columns, cleaned, into stg_<entity>.
 *
 * Per file: the effective mapping (confirmed targets, or proposed ones at
 * or above the threshold); a first pass over a sample of the rows learns
 * each date and number column's format (field order, decimal separator,
 * a local-midnight offset) so that no value is guessed on its own; the
 * second pass cleans every value, records what could not be cleaned and
 * counts every change per column and rule.  stage_preview() runs the
 * same plan, format learning and cleaning over a file's first rows
 * without writing anything.
 */
#include "config.h"

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "concord/clean.h"
#include "concord/db.h"
#include "concord/map.h"
#include "concord/query.h"
#include "concord/registry.h"
#include "concord/schema.h"
#include "concord/source.h"
#include "concord/util.h"
#include "pipeline_int.h"

#define SAMPLE_ROWS	5000	/* rows read to learn column formats */
#define MAX_SOURCES	4	/* source columns feeding one attribute */
#define VALUE_SIZE	1024	/* a cleaned value; longer ones are cut */
#define MEMO_SLOTS	4096	/* cleaned values kept per attribute (2^k) */
#define MEMO_BYTES	40	/* longest raw and cleaned value kept */
#define MEMO_PROBE	8192	/* lookups before the hit rate is judged */
/* the bits of rules 1 to CLEAN_RULE__MAX - 1 */
#define RULE_MASK	((CLEAN_RULE__MAX >= 64 ? ~UINT64_C(0) : \
	(UINT64_C(1) << (CLEAN_RULE__MAX % 64)) - 1) & ~CLEAN_RULE_BIT(0))
#define BATCH_ROWS	32	/* rows per staging INSERT statement */
#define KEEP_BATCHES	16	/* batches per set handed to the writer */

/*
 * A cleaned value kept for the next row with the same raw value:
 * cleaning is a function of the raw value and of what is fixed for the
 * whole file (the attribute, its learnt formats, the options and today),
 * so a repeated value (a date, a product key, a price) is cleaned once
 * per slot.  Direct-mapped by FNV-1a (draft-eastlake-fnv) of the raw
 * value: bounded memory whatever the input.  Each slot's tag (the hash's
 * high half, never 0) sits in an array of its own, so that a miss reads
 * 4 bytes, not the slot.
 */
struct memo_slot {
	struct clean_result	 res;
	unsigned char		 rawlen;	/* 0: empty slot */
	unsigned char		 outlen;
	char			 raw[MEMO_BYTES];
	char			 out[MEMO_BYTES + 1];
};

/* One attribute of one entity, fed by one or more source columns. */
struct target {
	const struct schema_entity	*e;
	const struct schema_attr	*a;
	int				 cols[MAX_SOURCES]; /* reader indexes */
	int				 ncols;
	struct clean_date_format	 dfmt;
	struct clean_number_format	 nfmt;
	enum clean_codelist		 list;
	int				 has_list;
	long long			 changes[MAX_SOURCES][CLEAN_RULE__MAX];
	long long			 issues;
	enum clean_issue		 issue;		/* of the current row */
	char				 cur[4][4];	/* currencies of the
							   values (ISO 4217) */
	long long			 ncur[4];	/* values of each */
	long long			 disagreements;	/* paired columns that
							   differ after cleaning */
	/* cleaned values kept (NULL until the first lookup), lookups and
	 * hits; off: the column repeats too few values to gain */
	struct memo_slot		*memo;
	uint32_t			*memo_tag;
	long long			 memo_look, memo_hit;
	int				 memo_off;
	/* The value of the current row. */
	int				 isnull;
	long long			 i64;
	double				 f64;
	size_t				 len;		/* strlen(text) */
	char				 text[VALUE_SIZE];
};

/*
 * An order id's line count: the lines of a file's orders, for numbering
 * the lines without a number.  Records { count, length, id bytes } follow
 * one another in one arena (8-byte aligned); an open-addressing table
 * (linear probing, Knuth TAOCP vol. 3, 6.4, algorithm L; at most half
 * full) holds for each its offset / 8 + 1 (low 40 bits) and 24 bits of
 * its FNV-1a hash (draft-eastlake-fnv).  An order id of up to 8 bytes
 * takes 24 bytes of arena and 16 to 32 of table, in two allocations for
 * all ids, where a keymap takes 64 to 128 of table and a malloc()ed copy
 * of each id.
 */
struct ordmap {
	uint64_t	*slot;		/* 0: empty */
	size_t		 cap;		/* a power of two */
	size_t		 n;
	char		*arena;
	size_t		 alen, acap;
};

struct ordrec {
	long long	 count;
	uint32_t	 len;
	char		 id[];		/* len bytes */
};

#define ORD_INDEX(s)	((s) & ((UINT64_C(1) << 40) - 1))
#define ORD_TAG(h)	((h) >> 40)


static struct ordrec *
ord_rec(const struct ordmap *m, uint64_t s)
{
	return (struct ordrec *)(void *)(m->arena + (ORD_INDEX(s) - 1) * 8);
}

/* Doubles m's table: 0, or -1 when out of memory (m unchanged). */
static int
ord_grow(struct ordmap *m)
{
	size_t cap = m->cap ? m->cap * 2 : 1024, i, j;
	uint64_t *t = calloc(cap, sizeof(*t)), h;

	if (t == NULL)
		return -1;
	for (i = 0; i < m->cap; i++) {
		const struct ordrec *r;
		if (m->slot[i] == 0)
			continue;
		r = ord_rec(m, m->slot[i]);
		h = util_fnv1a64(r->id, r->len);
		for (j = h & (cap - 1); t[j] != 0; j = (j + 1) & (cap - 1))
			;
		t[j] = m->slot[i];
	}
	free(m->slot);
	m->slot = t;
	m->cap = cap;
	return 0;
}

/* The count of order id p[0..n) (0 when new); NULL when out of memory.
 * Valid until the next new id. */
static long long *
ord_count(struct ordmap *m, const char *p, size_t n)
{
	uint64_t h = util_fnv1a64(p, n), tag = ORD_TAG(h);
	size_t i, need = (sizeof(struct ordrec) + n + 7) & ~(size_t)7;
	struct ordrec *r;
	char *a;

	if (n > UINT32_MAX)
		return NULL;
	if ((m->n + 1) * 2 > m->cap && ord_grow(m) != 0)
		return NULL;
	for (i = h & (m->cap - 1); m->slot[i] != 0; i = (i + 1) & (m->cap - 1))
		if ((m->slot[i] >> 40) == tag && (r = ord_rec(m,
		    m->slot[i]))->len == n && memcmp(r->id, p, n) == 0)
			return &r->count;
	if (m->alen + need > m->acap) {
		size_t cap = m->acap ? m->acap * 2 : 64 * 1024;
		while (cap < m->alen + need)
			cap *= 2;
		if ((a = realloc(m->arena, cap)) == NULL)
			return NULL;
		m->arena = a;
		m->acap = cap;
	}
	if ((m->alen / 8 + 1) >> 40)
		return NULL;
	r = (struct ordrec *)(void *)(m->arena + m->alen);
	r->count = 0;
	r->len = (uint32_t)n;
	memcpy(r->id, p, n);
	m->slot[i] = (tag << 40) | (m->alen / 8 + 1);
	m->alen += need;
	m->n++;
	return &r->count;
}

static void
ord_free(struct ordmap *m)
{
	if (m == NULL)
		return;
	free(m->slot);
	free(m->arena);
	free(m);
}

/* A value of a staged row, kept until its INSERT runs. */
struct bval {
	enum { BV_NULL, BV_INT, BV_REAL, BV_TEXT } type;
	long long	 i64;
	double		 f64;
	const char	*text;	/* file id, the row's extra columns (owned:
				   fed.extra) or a slot of fed.arena */
	int		 len;	/* BV_TEXT: strlen(text), bound as is */
};

/* One set of an entity's kept rows (nb of them, at most fed.nkeep). */
struct kept {
	struct bval	*bv;		/* [nkeep][nparam] */
	char		*arena;		/* [nkeep][nt + 1][VALUE_SIZE] */
	char		**extra;	/* [nkeep] */
	int		 nb;
};

/* A value that could not be cleaned, kept for clean_issues until its
 * set is written (the names are the file's and the schema's). */
struct issue {
	long long	 row;
	const char	*entity, *column;
	char		*raw;		/* owned */
	enum clean_issue issue;
};

struct issues {
	struct issue	*v;
	size_t		 n, cap;
};

/*
 * An entity the file feeds: its targets and its INSERTs.  Rows are kept
 * in sets (k[HANDOFF_SETS]: one filled by the reading thread while the
 * writer inserts another, see struct writer) of nkeep rows, inserted
 * BATCH_ROWS at a time by one multi-row INSERT (insb), which costs
 * SQLite about half of BATCH_ROWS single-row statements
 * (tests/bench/README.md); the rest, at the end, one by one through ins.
 */
struct fed {
	const struct schema_entity	*e;
	int				 targets[64];	/* indexes into file.t */
	int				 nt;
	sqlite3_stmt			*ins;
	sqlite3_stmt			*insb;		/* nbatch rows; NULL:
							   none */
	int				 nbatch;
	int				 nparam;	/* parameters per row */
	int				 nkeep;		/* rows per set */
	struct kept			 k[HANDOFF_SETS];
	long long			 rows;
	/* order lines: a line without a line number is numbered in
	 * source order within its order (the file's lines of the same
	 * order id, numbered or not, counted); ln_t, oid_t: the targets
	 * (-1: not mapped; the number is bound after the targets) */
	int				 ln_t, oid_t;
	struct ordmap			*orders;	/* order id -> lines */
	long long			 no_order;	/* lines without one */
	/* the previous line's order id and its count in orders (valid
	 * until the next insertion: lines of one order come together) */
	long long			*last_n;
	size_t				 last_len;
	char				 last[VALUE_SIZE];
};

struct file {
	const char		*id;
	const char		*name;
	char			 path[PATH_MAX + 80];
	struct source_dialect	 d;
	struct target		*t;
	int			 nt;
	struct fed		 fed[8];
	int			 nfed;
	int			*extra;		/* unmapped reader columns */
	int			 nextra;
	size_t			 ncols;
	const char *const	*names;		/* reader column names */
	int			 cur;		/* the set being filled */
	struct issues		 q[HANDOFF_SETS]; /* each set's clean issues */
};

static const char *
jstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* The attribute's source columns, from the mapping document. */
static int
add_target(struct file *f, const struct schema_entity *e,
    const struct schema_attr *a, int col)
{
	struct target *t;
	int i;

	for (i = 0; i < f->nt; i++) {
		t = &f->t[i];
		if (t->e == e && t->a == a) {
			if (t->ncols < MAX_SOURCES)
				t->cols[t->ncols++] = col;
			return i;
		}
	}
	t = &f->t[f->nt];
	memset(t, 0, sizeof(*t));
	t->e = e;
	t->a = a;
	t->cols[0] = col;
	t->ncols = 1;
	clean_date_format_init(&t->dfmt);
	clean_number_format_init(&t->nfmt);
	if (a->type == SCHEMA_CODE && a->code_list != NULL &&
	    clean_codelist_by_name(a->code_list, &t->list) == CC_OK)
		t->has_list = 1;
	return f->nt++;
}

static struct fed *
fed_of(struct file *f, const struct schema_entity *e)
{
	int i;

	for (i = 0; i < f->nfed; i++)
		if (f->fed[i].e == e)
			return &f->fed[i];
	if (f->nfed == (int)(sizeof(f->fed) / sizeof(f->fed[0])))
		return NULL;
	memset(&f->fed[f->nfed], 0, sizeof(f->fed[0]));
	f->fed[f->nfed].e = e;
	return &f->fed[f->nfed++];
}

/*
 * Builds the file's targets from the effective mapping: confirmed
 * targets, or proposed ones at or above the threshold.  A paired column
 * joins its partner's target after it (lower priority).
 */
static cc_err
plan(struct file *f, const json_t *mapping, struct cc_diag *diag)
{
	const json_t *cols = json_object_get(mapping, "columns"), *c;
	int confirmed = jstr(mapping, "state") != NULL &&
	    !strcmp(jstr(mapping, "state"), "confirmed");
	double threshold = json_real_value(json_object_get(mapping,
	    "threshold"));
	const struct schema_entity *e;
	const struct schema_attr *a;
	char *used;
	size_t i, k;
	int pass, idx;

	if (threshold <= 0.0)
		threshold = MAP_THRESHOLD;
	f->t = calloc(json_array_size(cols) + 8, sizeof(*f->t));
	used = calloc(f->ncols + 1, 1);
	f->extra = calloc(f->ncols + 1, sizeof(int));
	if (f->t == NULL || used == NULL || f->extra == NULL) {
		free(used);
		return CC_ENOMEM;
	}
	/* Pass 0: unpaired columns first, so that a pair's first column
	 * (the stronger) leads. */
	for (pass = 0; pass < 2; pass++) {
		json_array_foreach(cols, i, c) {
			const char *target = jstr(c, "target");
			int paired = json_object_get(c, "paired_with") != NULL;
			double conf = json_number_value(json_object_get(c,
			    "confidence"));
			long long ord = json_integer_value(json_object_get(c,
			    "ordinal"));
			if (paired != pass || target == NULL)
				continue;
			if (!confirmed && conf < threshold)
				continue;
			if ((a = schema_lookup(target, &e)) == NULL)
				continue;
			if (ord < 1 || (size_t)ord > f->ncols ||
			    strcmp(f->names[ord - 1], jstr(c, "source") != NULL ?
			    jstr(c, "source") : "") != 0) {
				free(used);
				return cc_diag_set(diag, CC_EINVALID,
				    "mapping_stale", "file %s: the mapping names"
				    " column %lld '%s', which the file does not"
				    " have there", f->name, ord,
				    jstr(c, "source") != NULL ?
				    jstr(c, "source") : "");
			}
			idx = add_target(f, e, a, (int)ord - 1);
			used[ord - 1] = 1;
			if (fed_of(f, e) == NULL) {
				free(used);
				return cc_diag_set(diag, CC_EINVALID,
				    "mapping_entities", "too many entities");
			}
			(void)idx;
		}
	}
	/* An entity fed without its natural key takes it from the column
	 * that references it (a sales export's customer_id feeds the
	 * customer's key). */
	for (i = 0; i < (size_t)f->nfed; i++) {
		const struct schema_entity *fe = f->fed[i].e;
		const struct schema_attr *key = NULL;
		int have = 0, t;
		for (k = 0; k < fe->nattrs; k++)
			if (fe->attrs[k].role == SCHEMA_NATURAL_KEY) {
				key = &fe->attrs[k];
				break;
			}
		for (t = 0; key != NULL && t < f->nt; t++)
			if (f->t[t].e == fe && f->t[t].a == key)
				have = 1;
		for (t = 0; key != NULL && !have && t < f->nt; t++) {
			const struct schema_attr *ra = f->t[t].a;
			if (ra->role == SCHEMA_REFERENCE && ra->ref != NULL &&
			    !strcmp(ra->ref, fe->name)) {
				int c0 = f->t[t].cols[0];
				add_target(f, fe, key, c0);
				have = 1;
			}
		}
	}
	for (i = 0; i < f->ncols; i++)
		if (!used[i])
			f->extra[f->nextra++] = (int)i;
	for (i = 0; i < (size_t)f->nt; i++) {
		struct fed *fd = fed_of(f, f->t[i].e);
		if (fd != NULL && fd->nt < 64)
			fd->targets[fd->nt++] = (int)i;
	}
	free(used);
	return CC_OK;
}

/* Reads up to SAMPLE_ROWS rows to learn date and number formats. */
static cc_err
learn_formats(struct file *f, struct cc_diag *diag)
{
	struct source_reader *rd = NULL;
	const char *const *vals;
	char ***sample;
	size_t *n, i;
	long rows = 0;
	cc_err err;
	int t, k;

	sample = calloc((size_t)f->nt, sizeof(*sample));
	n = calloc((size_t)f->nt, sizeof(*n));
	if (sample == NULL || n == NULL) {
		free(sample);
		free(n);
		return CC_ENOMEM;
	}
	for (t = 0; t < f->nt; t++)
		sample[t] = calloc(SAMPLE_ROWS * MAX_SOURCES, sizeof(char *));
	if ((err = source_open(f->path, &f->d, &rd, diag)) != CC_OK)
		goto out;
	while (rows < SAMPLE_ROWS &&
	    (err = source_next(rd, &vals, diag)) == CC_OK) {
		rows++;
		for (t = 0; t < f->nt; t++) {
			enum schema_type ty = f->t[t].a->type;
			if (ty != SCHEMA_DATE && ty != SCHEMA_TIMESTAMP &&
			    ty != SCHEMA_MONEY && ty != SCHEMA_DECIMAL &&
			    ty != SCHEMA_INTEGER)
				continue;
			for (k = 0; k < f->t[t].ncols; k++) {
				const char *v = vals[f->t[t].cols[k]];
				if (v != NULL && *v != '\0' && sample[t] != NULL)
					sample[t][n[t]++] = strdup(v);
			}
		}
	}
	if (err == CC_EOF)
		err = CC_OK;
	for (t = 0; err == CC_OK && t < f->nt; t++) {
		enum schema_type ty = f->t[t].a->type;
		if (ty == SCHEMA_DATE || ty == SCHEMA_TIMESTAMP)
			clean_date_infer((const char *const *)sample[t], n[t],
			    &f->t[t].dfmt);
		else if (ty == SCHEMA_MONEY || ty == SCHEMA_DECIMAL ||
		    ty == SCHEMA_INTEGER)
			clean_number_infer((const char *const *)sample[t], n[t],
			    &f->t[t].nfmt);
	}
out:
	source_close(rd);
	for (t = 0; t < f->nt; t++) {
		for (i = 0; i < n[t]; i++)
			free(sample[t][i]);
		free(sample[t]);
	}
	free(sample);
	free(n);
	return err;
}

/* Cleans one raw value for an attribute (today: "YYYY-MM-DD", the
 * bound of plausible record dates). */
static void
clean_one(const struct clean_opts *o, const char *today, struct target *t,
    const char *raw, char *out, size_t size, struct clean_result *res)
{
	const char *name = t->a->name;

	switch (t->a->type) {
	case SCHEMA_KEY:
		clean_key(raw, o, out, size, res);
		break;
	case SCHEMA_NAME:
		if (!strcmp(name, "full_name"))
			clean_name(raw, o, out, size, res);
		else
			clean_name_part(raw, o, out, size, res);
		break;
	case SCHEMA_INTEGER:
		clean_number(raw, &t->nfmt, o, out, size, res);
		if (res->status == CLEAN_VALUE && !res->has_i64) {
			res->status = CLEAN_INVALID;
			res->issue = CLEAN_ISSUE_NUMBER_INVALID;
		}
		break;
	case SCHEMA_DECIMAL:
		clean_number(raw, &t->nfmt, o, out, size, res);
		break;
	case SCHEMA_MONEY:
		clean_money(raw, &t->nfmt, o, out, size, res);
		break;
	case SCHEMA_DATE:
		clean_date(raw, &t->dfmt, o, out, size, res);
		break;
	case SCHEMA_TIMESTAMP:
		clean_timestamp(raw, &t->dfmt, o, out, size, res);
		break;
	case SCHEMA_BOOLEAN:
		clean_bool(raw, o, out, size, res);
		break;
	case SCHEMA_CODE:
		if (t->has_list)
			clean_code(raw, t->list, o, out, size, res);
		else
			clean_code_key(raw, o, out, size, res);
		break;
	case SCHEMA_EMAIL:
		clean_email(raw, o, out, size, res);
		break;
	case SCHEMA_PHONE:
		clean_phone(raw, o, out, size, res);
		break;
	case SCHEMA_COUNTRY:
		clean_country(raw, o, out, size, res);
		break;
	case SCHEMA_STATE:
		clean_state(raw, o, out, size, res);
		break;
	case SCHEMA_POSTAL:
		clean_postal(raw, o, out, size, res);
		break;
	case SCHEMA_TEXT:
	default:
		if (!strcmp(name, "city"))
			clean_city(raw, o, out, size, res);
		else
			clean_text(raw, o, out, size, res);
		break;
	}
	/* Plausibility: nobody is born in the future or before 1900; no
	 * record was created after today. */
	if (res->status == CLEAN_VALUE && t->a->type == SCHEMA_DATE &&
	    (!strcmp(name, "birth_date") || t->a->role == SCHEMA_RECORD_DATE)) {
		enum clean_issue issue = CLEAN_ISSUE_NONE;
		clean_date_check_range(out, !strcmp(name, "birth_date") ?
		    "1900-01-01" : NULL, NULL, today, &issue);
		if (issue != CLEAN_ISSUE_NONE) {
			res->status = CLEAN_INVALID;
			res->issue = issue;
		}
	}
}

/*
 * clean_one() through t's memo: the same result and output for a raw
 * value seen before in its slot.  Values longer than MEMO_BYTES, and
 * every value of a column whose first MEMO_PROBE lookups hit less than
 * one in eight, are cleaned each time.  Returns strlen(out) when known
 * on the way, else (size_t)-1.
 */
static size_t
clean_memo(const struct clean_opts *o, const char *today, struct target *t,
    const char *raw, char *out, size_t size, struct clean_result *res)
{
	const unsigned char *p = (const unsigned char *)raw;
	struct memo_slot *m;
	uint64_t h;
	uint32_t tag;
	size_t n, on;

	if (raw == NULL || raw[0] == '\0' || t->memo_off || size <=
	    MEMO_BYTES || (n = strnlen(raw, MEMO_BYTES + 1)) > MEMO_BYTES) {
		clean_one(o, today, t, raw, out, size, res);
		return (size_t)-1;
	}
	if (t->memo == NULL && ((t->memo = calloc(MEMO_SLOTS,
	    sizeof(*t->memo))) == NULL || (t->memo_tag = calloc(MEMO_SLOTS,
	    sizeof(*t->memo_tag))) == NULL)) {
		free(t->memo);
		t->memo = NULL;
		t->memo_off = 1;
		clean_one(o, today, t, raw, out, size, res);
		return (size_t)-1;
	}
	h = util_fnv1a64(p, n);
	tag = (uint32_t)(h >> 32) | 1;
	m = &t->memo[h & (MEMO_SLOTS - 1)];
	t->memo_look++;
	if (t->memo_tag[h & (MEMO_SLOTS - 1)] == tag && m->rawlen == n &&
	    memcmp(m->raw, raw, n) == 0) {
		t->memo_hit++;
		*res = m->res;
		memcpy(out, m->out, (size_t)m->outlen + 1);
		return m->outlen;
	}
	clean_one(o, today, t, raw, out, size, res);
	if ((on = strnlen(out, MEMO_BYTES + 1)) <= MEMO_BYTES) {
		m->res = *res;
		m->rawlen = (unsigned char)n;
		memcpy(m->raw, raw, n);
		m->outlen = (unsigned char)on;
		memcpy(m->out, out, on + 1);
		t->memo_tag[h & (MEMO_SLOTS - 1)] = tag;
	}
	if (t->memo_look == MEMO_PROBE && t->memo_hit < MEMO_PROBE / 8) {
		t->memo_off = 1;
		free(t->memo);
		free(t->memo_tag);
		t->memo = NULL;
		t->memo_tag = NULL;
	}
	return on <= MEMO_BYTES ? on : (size_t)-1;
}

/* Notes the issue in t and keeps it in q (NULL: a preview, t only):
 * CC_OK or CC_ENOMEM. */
static cc_err
record_issue(struct issues *q, struct file *f, long long row,
    struct target *t, int col, const char *raw, enum clean_issue issue)
{
	struct issue *v;

	t->issue = issue;
	if (q == NULL)
		return CC_OK;
	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 64;
		if ((v = realloc(q->v, cap * sizeof(*v))) == NULL)
			return CC_ENOMEM;
		q->v = v;
		q->cap = cap;
	}
	v = &q->v[q->n];
	if ((v->raw = strdup(raw)) == NULL)
		return CC_ENOMEM;
	v->row = row;
	v->entity = t->e->name;
	v->column = f->names[col];
	v->issue = issue;
	q->n++;
	t->issues++;
	return CC_OK;
}

/* Drops q's issues (keeps its memory when keep). */
static void
issues_clear(struct issues *q, int keep)
{
	size_t i;

	for (i = 0; i < q->n; i++)
		free(q->v[i].raw);
	q->n = 0;
	if (!keep) {
		free(q->v);
		q->v = NULL;
		q->cap = 0;
	}
}

/* Counts a currency written in one of t's values (the first four kept). */
static void
note_currency(struct target *t, const char *code)
{
	int i;

	for (i = 0; i < 4 && t->cur[i][0] != '\0'; i++)
		if (!strcmp(t->cur[i], code)) {
			t->ncur[i]++;
			return;
		}
	if (i < 4) {
		snprintf(t->cur[i], sizeof(t->cur[i]), "%s", code);
		t->ncur[i] = 1;
	}
}

/*
 * Cleans the row's value of target t from its source columns; each value
 * that cannot be cleaned is kept in q for clean_issues (NULL: only
 * t->issue keeps the last one, for a preview).  CC_OK or CC_ENOMEM.
 */
static cc_err
clean_target(const struct clean_opts *o, const char *today, struct file *f,
    struct target *t, const char *const *vals, long long row,
    struct issues *q)
{
	char buf[VALUE_SIZE];
	struct clean_result res;
	uint64_t rules;
	size_t n, len;
	int k;

	t->isnull = 1;
	t->issue = CLEAN_ISSUE_NONE;
	for (k = 0; k < t->ncols; k++) {
		const char *raw = vals[t->cols[k]];
		len = clean_memo(o, today, t, raw, buf, sizeof(buf), &res);
		/* each rule's bit (rule 0, none, is not counted) */
		for (rules = res.rules & RULE_MASK; rules != 0;
		    rules &= rules - 1)
			t->changes[k][__builtin_ctzll(rules)]++;
		if (res.issue != CLEAN_ISSUE_NONE && raw != NULL &&
		    record_issue(q, f, row, t, t->cols[k], raw,
		    res.issue) != CC_OK)
			return CC_ENOMEM;
		if (res.status != CLEAN_VALUE)
			continue;
		if (res.currency[0] != '\0')
			note_currency(t, res.currency);
		if (!t->isnull) {
			if (strcmp(buf, t->text) != 0)
				t->disagreements++;
			continue;
		}
		t->isnull = 0;
		/* the value, not the whole buffer (per value of every row) */
		n = len != (size_t)-1 ? len : strnlen(buf, sizeof(buf) - 1);
		memcpy(t->text, buf, n);
		t->text[n] = '\0';
		t->len = n;
		t->i64 = res.i64;
		t->f64 = res.f64;
		if (t->a->type == SCHEMA_BOOLEAN)
			t->i64 = !strcmp(buf, "true");
	}
	return CC_OK;
}

/* Keeps t's value of the row in v; a text is copied to slot (VALUE_SIZE
 * bytes). */
static void
keep_target(struct bval *v, const struct target *t, char *slot)
{
	if (t->isnull) {
		v->type = BV_NULL;
		return;
	}
	switch (t->a->type) {
	case SCHEMA_INTEGER:
	case SCHEMA_MONEY:
	case SCHEMA_BOOLEAN:
		v->type = BV_INT;
		v->i64 = t->i64;
		break;
	case SCHEMA_DECIMAL:
		v->type = BV_REAL;
		v->f64 = t->f64;
		break;
	default:
		v->type = BV_TEXT;
		memcpy(slot, t->text, t->len + 1);
		v->text = slot;
		v->len = (int)t->len;
		break;
	}
}

static cc_err
prepare_inserts(struct run *r, struct file *f, struct cc_diag *diag)
{
	char sql[8192], *p, *batch;
	size_t head, rowlen, len;
	int i, k, rc;

	for (i = 0; i < f->nfed; i++) {
		struct fed *fd = &f->fed[i];
		p = sql;
		fd->ln_t = fd->oid_t = -1;
		if (!strcmp(fd->e->name, "order_line")) {
			for (k = 0; k < fd->nt; k++) {
				const char *a = f->t[fd->targets[k]].a->name;
				if (!strcmp(a, "line_number"))
					fd->ln_t = k;
				if (!strcmp(a, "order_id"))
					fd->oid_t = k;
			}
			if ((fd->orders = calloc(1, sizeof(*fd->orders))) ==
			    NULL)
				return cc_diag_set(diag, CC_ENOMEM, "memory",
				    "out of memory");
		}
		p += snprintf(p, 128, "INSERT INTO \"stg_%s\" (_file_id, _row,"
		    " _line, _extra", fd->e->name);
		for (k = 0; k < fd->nt; k++)
			p += snprintf(p, 80, ", \"%s\"",
			    f->t[fd->targets[k]].a->name);
		if (fd->orders != NULL && fd->ln_t < 0)
			p += snprintf(p, 40, ", \"line_number\"");
		p += snprintf(p, 40, ") VALUES ");
		fd->nparam = 4 + fd->nt + (fd->orders != NULL && fd->ln_t < 0);
		/* one row's "(?, ...)", then as many as a batch has */
		head = (size_t)(p - sql);
		p += snprintf(p, 8, "(?");
		for (k = 1; k < fd->nparam; k++)
			p += snprintf(p, 8, ", ?");
		snprintf(p, 8, ")");
		if (sqlite3_prepare_v2(r->db, sql, -1, &fd->ins, NULL) !=
		    SQLITE_OK)
			return cc_diag_set(diag, CC_EDB, "sqlite", "%s",
			    sqlite3_errmsg(r->db));
		/* the same for every entity (their rows go in together):
		 * room for the most parameters a row can have */
		fd->nbatch = sqlite3_limit(r->db, SQLITE_LIMIT_VARIABLE_NUMBER,
		    -1) / (4 + (int)(sizeof(fd->targets) /
		    sizeof(fd->targets[0])) + 1);
		if (fd->nbatch > BATCH_ROWS)
			fd->nbatch = BATCH_ROWS;
		if (fd->nbatch < 1)
			fd->nbatch = 1;
		fd->nkeep = fd->nbatch * KEEP_BATCHES;
		for (k = 0; k < HANDOFF_SETS; k++) {
			struct kept *kp = &fd->k[k];
			if ((kp->bv = calloc((size_t)fd->nkeep *
			    (size_t)fd->nparam, sizeof(*kp->bv))) == NULL ||
			    (kp->arena = malloc((size_t)fd->nkeep *
			    (size_t)(fd->nt + 1) * VALUE_SIZE)) == NULL ||
			    (kp->extra = calloc((size_t)fd->nkeep,
			    sizeof(*kp->extra))) == NULL)
				return cc_diag_set(diag, CC_ENOMEM, "memory",
				    "out of memory");
		}
		if (fd->nbatch < 2)
			continue;
		rowlen = strlen(sql + head);
		len = head + (size_t)fd->nbatch * (rowlen + 2) + 1;
		if ((batch = malloc(len)) == NULL)
			return cc_diag_set(diag, CC_ENOMEM, "memory",
			    "out of memory");
		memcpy(batch, sql, head + rowlen);
		for (p = batch + head + rowlen, k = 1; k < fd->nbatch; k++) {
			memcpy(p, ", ", 2);
			memcpy(p + 2, sql + head, rowlen);
			p += 2 + rowlen;
		}
		*p = '\0';
		rc = sqlite3_prepare_v2(r->db, batch, -1, &fd->insb, NULL);
		free(batch);
		if (rc != SQLITE_OK)
			return cc_diag_set(diag, CC_EDB, "sqlite", "%s",
			    sqlite3_errmsg(r->db));
	}
	return CC_OK;
}

/* Binds the kept row b of fd's set kp to st's parameters from first + 1
 * on. */
static void
bind_kept(sqlite3_stmt *st, int first, const struct fed *fd,
    const struct kept *kp, int b)
{
	const struct bval *v = &kp->bv[(size_t)b * (size_t)fd->nparam];
	int j;

	for (j = 0; j < fd->nparam; j++, v++)
		switch (v->type) {
		case BV_NULL:
			sqlite3_bind_null(st, first + j + 1);
			break;
		case BV_INT:
			sqlite3_bind_int64(st, first + j + 1, v->i64);
			break;
		case BV_REAL:
			sqlite3_bind_double(st, first + j + 1, v->f64);
			break;
		case BV_TEXT:
			sqlite3_bind_text(st, first + j + 1, v->text, v->len,
			    SQLITE_STATIC);
			break;
		}
}

/* Inserts the rows of fd's set kp in order: whole batches through insb,
 * the rest one by one through ins.  CC_OK or CC_EDB (diag set). */
static cc_err
fed_flush(struct run *r, struct fed *fd, const struct kept *kp,
    struct cc_diag *diag)
{
	int b = 0, j;

	while (b < kp->nb) {
		sqlite3_stmt *st = fd->insb != NULL && kp->nb - b >=
		    fd->nbatch ? fd->insb : fd->ins;
		int n = st == fd->insb ? fd->nbatch : 1;
		sqlite3_reset(st);
		for (j = 0; j < n; j++)
			bind_kept(st, j * fd->nparam, fd, kp, b + j);
		if (sqlite3_step(st) != SQLITE_DONE)
			return cc_diag_set(diag, CC_EDB, "sqlite", "%s",
			    sqlite3_errmsg(r->db));
		b += n;
	}
	return CC_OK;
}

/*
 * Writes set s of file f: every entity's kept rows (each has as many),
 * then the set's clean issues through issue_st; then frees the extra
 * texts the entities shared and empties the set.  With discard, only
 * empties it.  CC_OK or CC_EDB (diag set).
 */
static cc_err
flush_set(struct run *r, struct file *f, int s, sqlite3_stmt *issue_st,
    int discard, struct cc_diag *diag)
{
	struct issues *q = &f->q[s];
	cc_err err = CC_OK;
	size_t n;
	int i, b;

	for (i = 0; i < f->nfed && err == CC_OK && !discard; i++)
		err = fed_flush(r, &f->fed[i], &f->fed[i].k[s], diag);
	for (n = 0; n < q->n && err == CC_OK && !discard; n++) {
		sqlite3_reset(issue_st);
		sqlite3_bind_text(issue_st, 1, f->id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(issue_st, 2, q->v[n].row);
		sqlite3_bind_text(issue_st, 3, q->v[n].entity, -1,
		    SQLITE_STATIC);
		sqlite3_bind_text(issue_st, 4, q->v[n].column, -1,
		    SQLITE_STATIC);
		sqlite3_bind_text(issue_st, 5, q->v[n].raw, -1, SQLITE_STATIC);
		sqlite3_bind_text(issue_st, 6, clean_issue_name(q->v[n].issue),
		    -1, SQLITE_STATIC);
		if (sqlite3_step(issue_st) != SQLITE_DONE)
			err = cc_diag_set(diag, CC_EDB, "sqlite", "%s",
			    sqlite3_errmsg(r->db));
	}
	issues_clear(q, 1);
	for (i = 0; i < f->nfed; i++) {
		struct kept *kp = &f->fed[i].k[s];
		for (b = 0; b < kp->nb; b++) {
			free(kp->extra[b]);
			kp->extra[b] = NULL;
		}
		kp->nb = 0;
	}
	return err;
}

/*
 * The writer: a thread that inserts the sets the reading thread (the
 * run's) hands it (struct handoff), so that reading and cleaning a file
 * overlaps SQLite's inserts (two cores: the 1M-line stage 1.65 -> 1.13 s,
 * tests/bench/README.md).  Only the writer uses r->db between
 * handoff_start() and handoff_end(); the reader's ticks go to the
 * workspace's connection.  The first error stops the writes: the later
 * sets are discarded.  Without a thread (r->threads == 1, or
 * pthread_create() failing) each set is written when it is handed.
 */
struct writer {
	struct run	*r;
	struct file	*f;
	sqlite3_stmt	*issue_st;
	struct cc_diag	 diag;		/* the writes' first error */
	struct handoff	 h;
};

static cc_err
writer_write(void *arg, int set, int discard)
{
	struct writer *w = arg;

	return flush_set(w->r, w->f, set, w->issue_st, discard, &w->diag);
}

/* Frees what prepare_inserts() made for fd (kept rows are dropped). */
static void
fed_free(struct fed *fd)
{
	int b, k;

	sqlite3_finalize(fd->ins);
	sqlite3_finalize(fd->insb);
	fd->ins = fd->insb = NULL;
	for (k = 0; k < HANDOFF_SETS; k++) {
		struct kept *kp = &fd->k[k];
		for (b = 0; kp->extra != NULL && b < fd->nkeep; b++)
			free(kp->extra[b]);
		free(kp->extra);
		free(kp->bv);
		free(kp->arena);
		memset(kp, 0, sizeof(*kp));
	}
	ord_free(fd->orders);
	fd->orders = NULL;
	fd->last_n = NULL;
}

/* The unmapped columns of the row as a JSON object text (or NULL). */
static char *
extra_json(const struct file *f, const char *const *vals)
{
	json_t *o;
	char *s;
	int i, n = 0;

	if (f->nextra == 0)
		return NULL;
	o = json_object();
	for (i = 0; i < f->nextra; i++) {
		const char *v = vals[f->extra[i]];
		if (v == NULL || *v == '\0')
			continue;
		json_object_set_new(o, f->names[f->extra[i]], json_string(v));
		n++;
	}
	s = n > 0 ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	return s;
}

/* The currencies the file's values were written in, per attribute. */
static cc_err
write_currencies(struct run *r, struct file *f)
{
	sqlite3_stmt *st;
	int t, i;

	if (sqlite3_prepare_v2(r->db, "INSERT INTO clean_currencies (_file_id,"
	    " entity, attribute, currency, count) VALUES (?1, ?2, ?3, ?4, ?5)",
	    -1, &st, NULL) != SQLITE_OK)
		return CC_EDB;
	for (t = 0; t < f->nt; t++)
		for (i = 0; i < 4 && f->t[t].cur[i][0] != '\0'; i++) {
			sqlite3_reset(st);
			sqlite3_bind_text(st, 1, f->id, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, f->t[t].e->name, -1,
			    SQLITE_STATIC);
			sqlite3_bind_text(st, 3, f->t[t].a->name, -1,
			    SQLITE_STATIC);
			sqlite3_bind_text(st, 4, f->t[t].cur[i], -1,
			    SQLITE_STATIC);
			sqlite3_bind_int64(st, 5, f->t[t].ncur[i]);
			if (sqlite3_step(st) != SQLITE_DONE) {
				sqlite3_finalize(st);
				return CC_EDB;
			}
		}
	sqlite3_finalize(st);
	return CC_OK;
}

static cc_err
write_changes(struct run *r, struct file *f, json_t *report)
{
	sqlite3_stmt *st;
	json_t *pairs = json_array();
	int t, k, b;

	if (sqlite3_prepare_v2(r->db, "INSERT INTO clean_changes (_file_id,"
	    " entity, column_name, rule, count) VALUES (?1, ?2, ?3, ?4, ?5)"
	    " ON CONFLICT DO UPDATE SET count = count + ?5", -1, &st, NULL) !=
	    SQLITE_OK) {
		json_decref(pairs);
		return CC_EDB;
	}
	for (t = 0; t < f->nt; t++) {
		struct target *tg = &f->t[t];
		for (k = 0; k < tg->ncols; k++)
			for (b = 1; b < CLEAN_RULE__MAX; b++) {
				if (tg->changes[k][b] == 0)
					continue;
				sqlite3_reset(st);
				sqlite3_bind_text(st, 1, f->id, -1, SQLITE_STATIC);
				sqlite3_bind_text(st, 2, tg->e->name, -1,
				    SQLITE_STATIC);
				sqlite3_bind_text(st, 3, f->names[tg->cols[k]], -1,
				    SQLITE_STATIC);
				sqlite3_bind_text(st, 4, clean_rule_name(
				    (enum clean_rule)b), -1, SQLITE_STATIC);
				sqlite3_bind_int64(st, 5, tg->changes[k][b]);
				if (sqlite3_step(st) != SQLITE_DONE) {
					sqlite3_finalize(st);
					json_decref(pairs);
					return CC_EDB;
				}
			}
		if (tg->ncols > 1) {
			json_t *cols = json_array();
			for (k = 0; k < tg->ncols; k++)
				json_array_append_new(cols,
				    json_string(f->names[tg->cols[k]]));
			json_array_append_new(pairs, json_pack("{s:s, s:o, s:I}",
			    "target", tg->a->name, "columns", cols,
			    "disagreements", (json_int_t)tg->disagreements));
		}
	}
	sqlite3_finalize(st);
	json_object_set_new(report, "pairs", pairs);
	return write_currencies(r, f);
}

/* Reads the file's column names (the reader's, as the profile has them). */
static cc_err
read_columns(struct file *f, struct cc_diag *diag)
{
	struct source_reader *rd = NULL;
	cc_err err;
	size_t i;

	if ((err = source_open(f->path, &f->d, &rd, diag)) != CC_OK)
		return err;
	f->ncols = source_ncolumns(rd);
	if ((f->names = calloc(f->ncols + 1, sizeof(char *))) == NULL) {
		source_close(rd);
		return CC_ENOMEM;
	}
	for (i = 0; i < f->ncols; i++)
		if ((((const char **)f->names)[i] =
		    strdup(source_column(rd, i))) == NULL)
			err = CC_ENOMEM;
	source_close(rd);
	return err;
}

/*
 * An order line's number: the line's own when it has one, else its place
 * among the file's lines of the same order id (the rows are read in
 * source order), bound after the targets when line_number is not mapped.
 */
static cc_err
number_line(struct file *f, struct fed *fd, struct bval *v)
{
	const struct target *oid = fd->oid_t >= 0 ?
	    &f->t[fd->targets[fd->oid_t]] : NULL;
	long long *n = &fd->no_order;

	if (oid != NULL && !oid->isnull) {
		if (fd->last_n != NULL && fd->last_len == oid->len &&
		    memcmp(fd->last, oid->text, oid->len) == 0)
			n = fd->last_n;
		else if ((n = ord_count(fd->orders, oid->text, oid->len)) ==
		    NULL)
			return CC_ENOMEM;
		else {
			fd->last_n = n;
			fd->last_len = oid->len;
			memcpy(fd->last, oid->text, oid->len);
		}
	}
	++*n;
	if (fd->ln_t < 0) {
		v[4 + fd->nt].type = BV_INT;
		v[4 + fd->nt].i64 = *n;
	} else if (f->t[fd->targets[fd->ln_t]].isnull) {
		v[4 + fd->ln_t].type = BV_INT;
		v[4 + fd->ln_t].i64 = *n;
	}
	return CC_OK;
}

/*
 * Stages one file's rows after plan(): sample pass, then cleaning pass.
 * The rows are read and cleaned here and written by the writer (struct
 * writer) a set at a time.  Errors: the reader's (diag set), CC_ENOMEM,
 * CC_ECONFLICT (cancelled), or the writes' CC_EDB; a write's error wins
 * over the reader's later one, except a cancellation.
 */
static cc_err
stage_rows(struct run *r, struct file *f, long long *done, long long total,
    json_t *report, struct cc_diag *diag)
{
	struct source_reader *rd = NULL;
	sqlite3_stmt *issue_st = NULL;
	const char *const *vals;
	struct writer w;
	long long row = 0;
	cc_err err, werr;
	char *extra;
	int i, k, writing = 0, idlen = (int)strlen(f->id);

	memset(&w, 0, sizeof(w));
	if ((err = learn_formats(f, diag)) != CC_OK ||
	    (err = prepare_inserts(r, f, diag)) != CC_OK)
		return err;
	if (sqlite3_prepare_v2(r->db, "INSERT INTO clean_issues (_file_id,"
	    " _row, entity, column_name, raw_value, issue) VALUES (?1, ?2, ?3,"
	    " ?4, ?5, ?6)", -1, &issue_st, NULL) != SQLITE_OK)
		return cc_diag_set(diag, CC_EDB, "sqlite", "%s",
		    sqlite3_errmsg(r->db));
	if ((err = source_open(f->path, &f->d, &rd, diag)) != CC_OK)
		goto out;
	f->cur = 0;
	w.r = r;
	w.f = f;
	w.issue_st = issue_st;
	handoff_start(&w.h, writer_write, &w, r->threads != 1);
	writing = 1;
	while ((err = source_next(rd, &vals, diag)) == CC_OK) {
		int s = f->cur;
		row++;
		for (i = 0; i < f->nt; i++)
			if ((err = clean_target(&r->copt, r->today, f,
			    &f->t[i], vals, row, &f->q[s])) != CC_OK) {
				cc_diag_set(diag, err, "memory", "out of memory");
				goto out;
			}
		extra = extra_json(f, vals);
		/* the first entity keeps the row's extra text, for all */
		if (f->nfed > 0)
			f->fed[0].k[s].extra[f->fed[0].k[s].nb] = extra;
		else
			free(extra);
		for (i = 0; i < f->nfed; i++) {
			struct fed *fd = &f->fed[i];
			struct kept *kp = &fd->k[s];
			struct bval *v = &kp->bv[(size_t)kp->nb *
			    (size_t)fd->nparam];
			char *slot = kp->arena + (size_t)kp->nb *
			    (size_t)(fd->nt + 1) * VALUE_SIZE;
			v[0].type = BV_TEXT;
			v[0].text = f->id;
			v[0].len = idlen;
			v[1].type = BV_INT;
			v[1].i64 = row;
			v[2].type = BV_INT;
			v[2].i64 = source_record_line(rd);
			v[3].type = extra != NULL ? BV_TEXT : BV_NULL;
			v[3].text = extra;
			v[3].len = extra != NULL ? (int)strlen(extra) : 0;
			for (k = 0; k < fd->nt; k++)
				keep_target(&v[4 + k], &f->t[fd->targets[k]],
				    slot + (size_t)k * VALUE_SIZE);
			if (fd->orders != NULL && (err = number_line(f, fd,
			    v)) != CC_OK) {
				cc_diag_set(diag, err, "memory", "out of memory");
				goto out;
			}
			fd->rows++;
		}
		for (i = 0; i < f->nfed; i++)
			f->fed[i].k[s].nb++;
		if (f->nfed > 0 && f->fed[0].k[s].nb == f->fed[0].nkeep) {
			if ((err = handoff_post(&w.h, s)) != CC_OK)
				goto out;
			f->cur = (s + 1) % HANDOFF_SETS;
		}
		if (++*done % 10000 == 0 && run_tick(r, "stage", *done, total)) {
			err = CC_ECONFLICT;
			goto out;
		}
	}
	if (err != CC_EOF)
		goto out;
	/* the last set, then the file's counts once the writer is done */
	if ((err = handoff_post(&w.h, f->cur)) != CC_OK)
		goto out;
	writing = 0;
	if ((err = handoff_end(&w.h)) != CC_OK)
		goto out;
	err = write_changes(r, f, report);
	json_object_set_new(report, "rows", json_integer(row));
	{
		json_t *ents = json_object();
		for (i = 0; i < f->nfed; i++)
			json_object_set_new(ents, f->fed[i].e->name,
			    json_integer(f->fed[i].rows));
		json_object_set_new(report, "staged", ents);
	}
	run_count(r, "source_rows", row);
out:
	if (writing) {
		/* the writer done with the sets before they are freed; its
		 * error is the cause of a later one here */
		werr = handoff_end(&w.h);
		if (werr != CC_OK && err != CC_ECONFLICT) {
			err = werr;
			*diag = w.diag;
		}
	} else if (err != CC_OK && w.h.err != CC_OK && err == w.h.err)
		*diag = w.diag;
	source_close(rd);
	sqlite3_finalize(issue_st);
	for (i = 0; i < f->nfed; i++)
		fed_free(&f->fed[i]);
	for (i = 0; i < HANDOFF_SETS; i++)
		issues_clear(&f->q[i], 0);
	return err;
}

static void
file_free(struct file *f)
{
	size_t i;

	for (i = 0; f->names != NULL && i < f->ncols; i++)
		free((char *)f->names[i]);
	free((void *)f->names);
	for (i = 0; f->t != NULL && i < (size_t)f->nt; i++) {
		free(f->t[i].memo);
		free(f->t[i].memo_tag);
	}
	free(f->t);
	free(f->extra);
}

/* sha256 hex of the mapping's effective part (what staging depends on). */
static void
mapping_hash(const json_t *mapping, char *out)
{
	unsigned char h[crypto_hash_sha256_BYTES];
	char *s = json_dumps(json_object_get(mapping, "columns"),
	    JSON_COMPACT | JSON_SORT_KEYS);
	char *st = json_dumps(json_object_get(mapping, "state"), JSON_ENCODE_ANY);

	crypto_hash_sha256_state hs;
	crypto_hash_sha256_init(&hs);
	if (s != NULL)
		crypto_hash_sha256_update(&hs, (unsigned char *)s, strlen(s));
	if (st != NULL)
		crypto_hash_sha256_update(&hs, (unsigned char *)st, strlen(st));
	/* The cleaning rules are part of the result too, and so are the
	 * workspace's own entities (a changed definition stages again). */
	crypto_hash_sha256_update(&hs, (const unsigned char *)PACKAGE_VERSION,
	    strlen(PACKAGE_VERSION));
	{
		char *defs = schema_custom_defs() != NULL ?
		    json_dumps(schema_custom_defs(), JSON_COMPACT |
		    JSON_SORT_KEYS) : NULL;
		if (defs != NULL)
			crypto_hash_sha256_update(&hs, (unsigned char *)defs,
			    strlen(defs));
		free(defs);
	}
	crypto_hash_sha256_final(&hs, h);
	util_hex(h, sizeof(h), out);
	free(s);
	free(st);
}

/* Copies an unchanged file's staged rows from the previous model. */
static cc_err
copy_previous(struct run *r, const char *file_id, struct cc_diag *diag)
{
	static const char *const fixed[] = {
		"clean_issues", "clean_changes", "clean_currencies", "stage_state",
	};
	const struct schema_entity *es;
	char sql[256], name[64];
	const char *tables[SCHEMA_CUSTOM_MAX_ENTITIES + 16];
	sqlite3_stmt *st;
	size_t i, ne, nt = 0;
	cc_err err = CC_OK;
	int rc;

	/* every entity's staging (a user-defined entity's too: its
	 * definition is in the mapping hash, so its columns are the same),
	 * then the reports */
	es = schema_entities(&ne);
	for (i = 0; i < ne && nt < SCHEMA_CUSTOM_MAX_ENTITIES + 12; i++) {
		snprintf(name, sizeof(name), "stg_%s", es[i].name);
		if ((tables[nt] = strdup(name)) != NULL)
			nt++;
	}
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		tables[nt++] = fixed[i];
	for (i = 0; i < nt && err == CC_OK; i++) {
		snprintf(sql, sizeof(sql), "INSERT INTO main.\"%s\" SELECT *"
		    " FROM old.\"%s\" WHERE %s = ?1", tables[i], tables[i],
		    strcmp(tables[i], "stage_state") ? "_file_id" : "file_id");
		if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK) {
			err = cc_diag_set(diag, CC_EDB, "sqlite", "%s",
			    sqlite3_errmsg(r->db));
			break;
		}
		sqlite3_bind_text(st, 1, file_id, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			err = cc_diag_set(diag, CC_EDB, "sqlite", "%s",
			    sqlite3_errmsg(r->db));
	}
	for (i = 0; i + sizeof(fixed) / sizeof(fixed[0]) < nt; i++)
		free((char *)tables[i]);
	return err;
}

/* 1 if the previous model staged this file with the same hash. */
static int
unchanged(struct run *r, const char *file_id, const char *sha,
    const char *mhash)
{
	sqlite3_stmt *st;
	int same = 0;

	if (!r->has_old || r->restage)
		return 0;
	/* A model from before clean_currencies existed is staged again. */
	if (sqlite3_prepare_v2(r->db, "SELECT 1 FROM old.stage_state WHERE"
	    " file_id = ?1 AND sha256 = ?2 AND mapping_hash = ?3 AND EXISTS"
	    " (SELECT 1 FROM old.sqlite_schema WHERE type = 'table' AND name ="
	    " 'clean_currencies')", -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, file_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, sha, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, mhash, -1, SQLITE_STATIC);
	same = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return same;
}

static const char *
col(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

/*
 * The mapping proposals of a run's files, made on a second thread ahead
 * of the staging (their key overlap learns key rules: about a third of
 * the stage phase's CPU on the CRM/ERP files), so that file i+1's
 * proposal runs while file i is staged.  The proposer takes the files in
 * the stage's order, each through registry_mapping_get_cached() as the
 * stage did, on its own connection to workspace.db (WAL: its writes of
 * proposals and caches do not wait for the run's readers), so every
 * proposal sees the mappings of the files before it, as before; it
 * stops after a failed proposal or when the stage stops.  The one
 * difference: when the stage fails or is cancelled at a file, proposals
 * of later files may already be stored (the ones a later run or a GET of
 * their mapping would make).  Without a thread (pthread_create() or the
 * connection failing) the stage proposes each file itself.
 */
struct pfile {
	char		*id, *name, *sha;
	json_t		*mapping;	/* the proposer's answer, once done */
	cc_err		 err;
	int		 done;
};

struct proposer {
	struct workspace	 ws;	/* r->ws with its own connection */
	struct registry_samples	*samples;
	struct pfile		*f;
	size_t			 n;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	pthread_t		 th;
	int			 started, stop, finished;
};

static void *
propose_all(void *arg)
{
	struct proposer *p = arg;
	json_t *m;
	cc_err err;
	size_t i;
	int stop;

	for (i = 0; i < p->n; i++) {
		pthread_mutex_lock(&p->mu);
		stop = p->stop;
		pthread_mutex_unlock(&p->mu);
		if (stop)
			break;
		m = NULL;
		err = registry_mapping_get_cached(&p->ws, p->f[i].id, &m,
		    p->samples);
		pthread_mutex_lock(&p->mu);
		p->f[i].mapping = m;
		p->f[i].err = err;
		p->f[i].done = 1;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
		if (err != CC_OK)
			break;
	}
	pthread_mutex_lock(&p->mu);
	p->finished = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* Starts the proposer over p->f (p->n files); on failure p->started
 * stays 0 and the stage proposes itself. */
static void
proposer_start(struct proposer *p, struct run *r)
{
	if (p->n < 2 || r->threads == 1 || run_ws_open(r, &p->ws) != CC_OK)
		goto fail;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	if (pthread_create(&p->th, NULL, propose_all, p) != 0) {
		pthread_mutex_destroy(&p->mu);
		pthread_cond_destroy(&p->cv);
		goto fail;
	}
	p->started = 1;
	return;
fail:
	run_ws_close(&p->ws);
}

/* The mapping of file i (a new reference in *mapping), from the proposer
 * or, without it, proposed here through samples. */
static cc_err
proposer_get(struct proposer *p, struct run *r, size_t i,
    struct registry_samples *samples, json_t **mapping)
{
	cc_err err;

	if (!p->started)
		return registry_mapping_get_cached(r->ws, p->f[i].id, mapping,
		    samples);
	pthread_mutex_lock(&p->mu);
	while (!p->f[i].done && !p->finished)
		pthread_cond_wait(&p->cv, &p->mu);
	err = p->f[i].done ? p->f[i].err : CC_EDB;
	*mapping = p->f[i].mapping;
	p->f[i].mapping = NULL;
	pthread_mutex_unlock(&p->mu);
	return err;
}

/* Stops and joins the proposer; frees what it proposed that was not
 * taken, and the file list. */
static void
proposer_end(struct proposer *p)
{
	size_t i;

	if (p->started) {
		pthread_mutex_lock(&p->mu);
		p->stop = 1;
		pthread_mutex_unlock(&p->mu);
		pthread_join(p->th, NULL);
		pthread_mutex_destroy(&p->mu);
		pthread_cond_destroy(&p->cv);
		run_ws_close(&p->ws);
	}
	for (i = 0; i < p->n; i++) {
		json_decref(p->f[i].mapping);
		free(p->f[i].id);
		free(p->f[i].name);
		free(p->f[i].sha);
	}
	free(p->f);
	registry_samples_free(p->samples);
}

cc_err
stage_all(struct run *r, struct cc_diag *diag)
{
	sqlite3_stmt *st = NULL, *ss = NULL;
	struct registry_samples *samples;
	struct proposer prop;
	long long done = 0, total = 0;
	json_t *mapping = NULL, *rep;
	char mhash[65];
	struct file f;
	cc_err err = CC_OK;
	size_t cap = 0, i;
	int nfiles = 0;

	if (run_exec(r, "CREATE TABLE IF NOT EXISTS stage_state ("
	    " file_id TEXT PRIMARY KEY, sha256 TEXT NOT NULL,"
	    " mapping_hash TEXT NOT NULL, rows INTEGER)", diag) != CC_OK)
		return CC_EDB;
	if (sqlite3_prepare_v2(r->ws->db, "SELECT coalesce(sum(row_count), 0)"
	    " FROM files WHERE status IN ('profiled', 'mapped', 'processed')",
	    -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		total = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(r->ws->db, "SELECT id, name, sha256 FROM files"
	    " WHERE status IN ('profiled', 'mapped', 'processed') ORDER BY seq",
	    -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(r->db, "INSERT INTO stage_state (file_id,"
	    " sha256, mapping_hash, rows) VALUES (?1, ?2, ?3, ?4)", -1, &ss,
	    NULL) != SQLITE_OK) {
		sqlite3_finalize(st);
		return cc_diag_set(diag, CC_EDB, "sqlite", "%s",
		    sqlite3_errmsg(r->ws->db));
	}
	/* The file list read whole first: no read transaction of the run's
	 * connection stays open while the proposer writes. */
	memset(&prop, 0, sizeof(prop));
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct pfile *nf;
		if (prop.n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nf = realloc(prop.f, cap * sizeof(*nf))) == NULL) {
				err = CC_ENOMEM;
				break;
			}
			prop.f = nf;
		}
		nf = &prop.f[prop.n++];
		memset(nf, 0, sizeof(*nf));
		nf->id = col(st, 0) != NULL ? strdup(col(st, 0)) : NULL;
		nf->name = col(st, 1) != NULL ? strdup(col(st, 1)) : NULL;
		nf->sha = strdup(col(st, 2) != NULL ? col(st, 2) : "");
		if (nf->id == NULL || nf->name == NULL || nf->sha == NULL) {
			err = CC_ENOMEM;
			break;
		}
	}
	sqlite3_finalize(st);
	/* other files' key columns, read once for all proposals */
	samples = registry_samples_new();
	prop.samples = registry_samples_new();
	if (err != CC_OK) {
		cc_diag_set(diag, err, "memory", "out of memory");
		goto out;
	}
	proposer_start(&prop, r);
	for (i = 0; err == CC_OK && i < prop.n; i++) {
		const char *id = prop.f[i].id, *sha = prop.f[i].sha;
		memset(&f, 0, sizeof(f));
		f.id = id;
		f.name = prop.f[i].name;
		if ((err = registry_source(r->ws, id, f.path, &f.d)) != CC_OK) {
			cc_diag_set(diag, err, "file", "file %s: not readable",
			    f.name);
			break;
		}
		if ((err = proposer_get(&prop, r, i, samples, &mapping)) !=
		    CC_OK) {
			cc_diag_set(diag, err, "mapping", "file %s: no mapping",
			    f.name);
			break;
		}
		mapping_hash(mapping, mhash);
		rep = json_pack("{s:s, s:s, s:s}", "file_id", id, "name", f.name,
		    "mapping", json_string_value(json_object_get(mapping,
		    "state")));
		if (unchanged(r, id, sha, mhash)) {
			err = copy_previous(r, id, diag);
			r->stage_copied = 1;
			json_object_set_new(rep, "reused", json_true());
			run_count(r, "files_reused", 1);
		} else if ((err = read_columns(&f, diag)) ==
		    CC_OK && (err = plan(&f, mapping, diag)) == CC_OK &&
		    (err = stage_rows(r, &f, &done, total, rep, diag)) == CC_OK) {
			sqlite3_reset(ss);
			sqlite3_bind_text(ss, 1, id, -1, SQLITE_STATIC);
			sqlite3_bind_text(ss, 2, sha, -1, SQLITE_STATIC);
			sqlite3_bind_text(ss, 3, mhash, -1, SQLITE_STATIC);
			sqlite3_bind_int64(ss, 4, json_integer_value(
			    json_object_get(rep, "rows")));
			if (sqlite3_step(ss) != SQLITE_DONE)
				err = CC_EDB;
			run_count(r, "files_staged", 1);
		}
		if (err != CC_OK && err != CC_ECONFLICT && diag != NULL &&
		    strstr(diag->message, f.name) == NULL) {
			char m[sizeof(diag->message)], c[sizeof(diag->code)];
			snprintf(m, sizeof(m), "%.180s", diag->message);
			snprintf(c, sizeof(c), "%s", diag->code);
			/* through cc_diag_set(): a name cut at 60 bytes may
			 * end inside a character */
			cc_diag_set(diag, err, c, "file %.60s: %.180s", f.name,
			    m);
		}
		json_array_append_new(r->files, rep);
		json_decref(mapping);
		mapping = NULL;
		file_free(&f);
		nfiles++;
	}
out:
	proposer_end(&prop);
	registry_samples_free(samples);
	sqlite3_finalize(ss);
	if (err == CC_OK && nfiles == 0)
		return cc_diag_set(diag, CC_EINVALID, "nothing_to_run",
		    "no file to reconcile: upload files first");
	if (err == CC_OK)
		run_tick(r, "stage", total, total);
	return err;
}

/* One entity of a preview: {"entity", "columns": [{"attribute",
 * "sources"}], "rows": []}. */
static json_t *
preview_entity(const struct file *f, const struct fed *fd)
{
	json_t *cols = json_array(), *srcs;
	int k, j;

	for (k = 0; k < fd->nt; k++) {
		const struct target *t = &f->t[fd->targets[k]];
		srcs = json_array();
		for (j = 0; j < t->ncols; j++)
			json_array_append_new(srcs,
			    json_string(f->names[t->cols[j]]));
		json_array_append_new(cols, json_pack("{s:s, s:s, s:o}",
		    "attribute", t->a->name, "type",
		    schema_type_name(t->a->type), "sources", srcs));
	}
	return json_pack("{s:s, s:o, s:[]}", "entity", fd->e->name, "columns",
	    cols, "rows");
}

cc_err
stage_preview(struct workspace *ws, const char *file_id,
    const json_t *mapping, int limit, const char *today, json_t **out,
    struct cc_diag *diag)
{
	struct source_reader *rd = NULL;
	const char *const *vals;
	struct clean_opts copt;
	struct file f;
	json_t *ents = NULL, *row, *raw, *issues, *values;
	char day[32];
	long long n = 0;
	cc_err err;
	int i, k;

	if (ws == NULL || file_id == NULL || mapping == NULL || out == NULL ||
	    limit < 1)
		return CC_EINVAL;
	*out = NULL;
	if (today == NULL) {
		util_rfc3339(time(NULL), day, sizeof(day));
		day[10] = '\0';
		today = day;
	}
	clean_opts_init(&copt);
	copt.unit_digits = QUERY_MONEY_DIGITS;	/* money as stored */
	memset(&f, 0, sizeof(f));
	f.id = file_id;
	f.name = file_id;
	if ((err = registry_source(ws, file_id, f.path, &f.d)) != CC_OK) {
		if (err != CC_ENOTFOUND)
			cc_diag_set(diag, err, "file", "the file is not"
			    " readable");
		return err;
	}
	if ((err = read_columns(&f, diag)) != CC_OK ||
	    (err = plan(&f, mapping, diag)) != CC_OK ||
	    (err = learn_formats(&f, diag)) != CC_OK)
		goto out;
	ents = json_array();
	for (i = 0; i < f.nfed; i++)
		json_array_append_new(ents, preview_entity(&f, &f.fed[i]));
	if ((err = source_open(f.path, &f.d, &rd, diag)) != CC_OK)
		goto out;
	while (n < limit && (err = source_next(rd, &vals, diag)) == CC_OK) {
		n++;
		for (i = 0; i < f.nt; i++)
			if ((err = clean_target(&copt, today, &f, &f.t[i], vals,
			    n, NULL)) != CC_OK)
				goto out;
		for (i = 0; i < f.nfed; i++) {
			const struct fed *fd = &f.fed[i];
			values = json_array();
			raw = json_array();
			issues = json_array();
			for (k = 0; k < fd->nt; k++) {
				const struct target *t = &f.t[fd->targets[k]];
				const char *rv = vals[t->cols[0]];
				json_array_append_new(values, t->isnull ?
				    json_null() : json_string(t->text));
				json_array_append_new(raw, rv != NULL ?
				    json_string(rv) : json_null());
				json_array_append_new(issues, t->issue !=
				    CLEAN_ISSUE_NONE ? json_string(
				    clean_issue_name(t->issue)) : json_null());
			}
			row = json_pack("{s:I, s:o, s:o, s:o}", "row",
			    (json_int_t)n, "values", values, "raw", raw,
			    "issues", issues);
			json_array_append_new(json_object_get(
			    json_array_get(ents, (size_t)i), "rows"), row);
		}
	}
	if (err == CC_EOF)
		err = CC_OK;
	if (err == CC_OK)
		*out = json_pack("{s:I, s:i, s:o}", "rows_read", (json_int_t)n,
		    "limit", limit, "entities", json_incref(ents));
out:
	source_close(rd);
	json_decref(ents);
	file_free(&f);
	return err;
}
