/*
 * reconcile.c - the reconcile phase of a run (concord/pipeline.h).
 *
 * For each dimension entity, the staged records are clustered with a
 * union-find structure (Tarjan 1975):
 *  - within one file, records with the same natural or alternate key are
 *    one entity (a CRM's duplicated customer rows);
 *  - across files, the key alignment rule learned between two files' key
 *    columns (align.h: how one system writes the other's keys) links the
 *    records whose keys meet (an ERP's NASAW00011000 is the CRM's
 *    AW00011000).
 * Each cluster gets a canonical id, kept across runs in canonical_ids
 * under the natural key of its anchor record (the earliest uploaded
 * file's); stg_<entity>._key holds it.  References (an order line's
 * customer, a product's category) are resolved the same way: a rule is
 * learned from the referencing values to each key column of the
 * referenced entity, and the best one (most values matched one-to-one)
 * is applied.  Every rule is recorded in key_rules with its coverage.
 */
#include "config.h"

#include <stdio.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "concord/align.h"
#include "concord/db.h"
#include "concord/registry.h"
#include "concord/schema.h"
#include "pipeline_int.h"

#define MAX_KEYS	4

/* The distinct values of one key column of one file, with a record. */
struct keycol {
	int		 file;		/* index into ent.files */
	const char	*attr;
	char	       **values;
	long long	*rep;		/* a staging rowid holding the value */
	size_t		 n;
	struct align_column *col;	/* prepared at its first pair */
};

struct ent {
	const struct schema_entity	*e;
	char			       **files;	/* file ids, upload order */
	int				 nfiles;
	const char			*keys[MAX_KEYS];
	int				 nkeys;
	long long			 maxrow;
	long long			*parent;	/* union-find by rowid */
	int				*filex;		/* file index by rowid */
	struct keycol			*cols;
	int				 ncols;
	int				 fallback;	/* keys[1..] only for files
							   without keys[0] */
	int				 nofilex;	/* filex not needed (a
							   reference's side) */
	int				 values_only;	/* cols: values, no rep;
							   no unions (a
							   referencing side) */
	long long			*idof;		/* rowid -> canonical id,
							   once assigned */
	/* values_only: the values of these attributes read already
	 * (reconcile_values_all(); an attribute listed with no entry for a
	 * file has no values there), taken from here by load_rows() */
	struct refvalues		*pre;
	size_t				 npre;
	const char			*pre_attrs[MAX_KEYS];
	int				 npre_attrs;
};

/* The dimension entities resolved by this phase, kept for their
 * references: their key columns (prepared for learning) and ids. */
struct resolved {
	struct ent	*v;
	size_t		 n;
};



static cc_err
sqlerr(struct run *r, struct cc_diag *diag)
{
	return cc_diag_set(diag, CC_EDB, "sqlite", "%s", sqlite3_errmsg(r->db));
}

static void
keycol_free(struct keycol *k)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		free(k->values[i]);
	free(k->values);
	free(k->rep);
	align_column_free(k->col);
}

static void
ent_free(struct ent *x)
{
	int i;

	for (i = 0; i < x->nfiles; i++)
		free(x->files[i]);
	free(x->files);
	for (i = 0; i < x->ncols; i++)
		keycol_free(&x->cols[i]);
	free(x->cols);
	free(x->parent);
	free(x->filex);
	free(x->idof);
}

/* Files that staged rows of the entity, in upload order. */
static cc_err
load_files(struct run *r, struct ent *x, struct cc_diag *diag)
{
	char sql[256];
	sqlite3_stmt *st, *first, *cur;
	int cap = 0, nomem = 0;

	/* Upload order comes from the workspace; the staging table says
	 * which files fed the entity: the next file id after the last one,
	 * a seek in the primary key (_file_id, _row) per file instead of a
	 * DISTINCT over every row (1,026,766 order lines: 30 ms). */
	snprintf(sql, sizeof(sql), "SELECT _file_id FROM \"stg_%s\" ORDER BY"
	    " _file_id LIMIT 1", x->e->name);
	if (sqlite3_prepare_v2(r->db, sql, -1, &first, NULL) != SQLITE_OK)
		return sqlerr(r, diag);
	snprintf(sql, sizeof(sql), "SELECT _file_id FROM \"stg_%s\" WHERE"
	    " _file_id > ?1 ORDER BY _file_id LIMIT 1", x->e->name);
	if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK) {
		sqlite3_finalize(first);
		return sqlerr(r, diag);
	}
	for (cur = first; sqlite3_step(cur) == SQLITE_ROW; cur = st) {
		if (x->nfiles == cap) {
			char **nf;
			cap = cap ? cap * 2 : 8;
			if ((nf = realloc(x->files, (size_t)cap *
			    sizeof(*nf))) == NULL) {
				nomem = 1;
				break;
			}
			x->files = nf;
		}
		if ((x->files[x->nfiles] = strdup((const char *)
		    sqlite3_column_text(cur, 0))) == NULL) {
			nomem = 1;
			break;
		}
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, x->files[x->nfiles++], -1,
		    SQLITE_STATIC);
	}
	sqlite3_finalize(first);
	sqlite3_finalize(st);
	if (nomem)
		return CC_ENOMEM;
	/* sort by the workspace's upload order (seq) */
	if (x->nfiles > 1) {
		long long *seq = calloc((size_t)x->nfiles, sizeof(*seq));
		int i, j;
		if (seq == NULL)
			return CC_ENOMEM;
		if (sqlite3_prepare_v2(r->ws->db, "SELECT seq FROM files"
		    " WHERE id = ?1", -1, &st, NULL) != SQLITE_OK) {
			free(seq);
			return CC_EDB;
		}
		for (i = 0; i < x->nfiles; i++) {
			sqlite3_reset(st);
			sqlite3_bind_text(st, 1, x->files[i], -1, SQLITE_STATIC);
			seq[i] = sqlite3_step(st) == SQLITE_ROW ?
			    sqlite3_column_int64(st, 0) : 0;
		}
		sqlite3_finalize(st);
		for (i = 1; i < x->nfiles; i++)
			for (j = i; j > 0 && seq[j - 1] > seq[j]; j--) {
				long long ts = seq[j];
				char *tf = x->files[j];
				seq[j] = seq[j - 1];
				seq[j - 1] = ts;
				x->files[j] = x->files[j - 1];
				x->files[j - 1] = tf;
			}
		free(seq);
	}
	return CC_OK;
}

static int
file_index(const struct ent *x, const char *id)
{
	int i;

	for (i = 0; i < x->nfiles; i++)
		if (!strcmp(x->files[i], id))
			return i;
	return -1;
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A set of distinct strings being collected: a hash set for the test,
 * the strings (owned) in an array, sorted when taken. */
struct distinct {
	struct keymap	*seen;
	char		**v;
	size_t		 n, cap;
};

static cc_err
distinct_add(struct distinct *d, const char *s, size_t len)
{
	long long *slot;
	char **nv;

	if (d->seen == NULL && (d->seen = keymap_new()) == NULL)
		return CC_ENOMEM;
	if ((slot = keymap_slot(d->seen, s, len)) == NULL)
		return CC_ENOMEM;
	if (*slot != 0)
		return CC_OK;
	*slot = 1;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 256;
		if ((nv = realloc(d->v, cap * sizeof(*nv))) == NULL)
			return CC_ENOMEM;
		d->v = nv;
		d->cap = cap;
	}
	if ((d->v[d->n] = malloc(len + 1)) == NULL)
		return CC_ENOMEM;
	memcpy(d->v[d->n], s, len);
	d->v[d->n][len] = '\0';
	d->n++;
	return CC_OK;
}

/* The strings sorted, moved to *values (*n; NULL when none); d empty. */
static void
distinct_take(struct distinct *d, char ***values, size_t *n)
{
	keymap_free(d->seen);
	if (d->n > 1)
		qsort(d->v, d->n, sizeof(*d->v), str_cmp);
	if (d->n == 0) {
		free(d->v);
		d->v = NULL;
	}
	*values = d->v;
	*n = d->n;
	memset(d, 0, sizeof(*d));
}

static void
distinct_free(struct distinct *d)
{
	size_t i;

	keymap_free(d->seen);
	for (i = 0; i < d->n; i++)
		free(d->v[i]);
	free(d->v);
	memset(d, 0, sizeof(*d));
}

cc_err
reconcile_values(sqlite3 *db, const char *entity, const char *attr,
    const char *file_id, char ***values, size_t *n)
{
	struct distinct d;
	sqlite3_stmt *st;
	char sql[512];
	cc_err err = CC_OK;
	int rc;

	*values = NULL;
	*n = 0;
	memset(&d, 0, sizeof(d));
	/* qualified names: an unknown column is an error, never taken for
	 * a string literal (SQLite's double-quoted string fallback) */
	snprintf(sql, sizeof(sql), "SELECT s.\"%s\" FROM \"stg_%s\" s WHERE"
	    " s._file_id = ?1 AND s.\"%s\" IS NOT NULL", attr, entity, attr);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return CC_EDB;
	sqlite3_bind_text(st, 1, file_id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(st, 0);
		if (v == NULL || (err = distinct_add(&d, v, strlen(v))) !=
		    CC_OK) {
			err = CC_ENOMEM;
			break;
		}
	}
	if (err == CC_OK && rc != SQLITE_DONE)
		err = CC_EDB;
	sqlite3_finalize(st);
	if (err != CC_OK) {
		distinct_free(&d);
		return err;
	}
	distinct_take(&d, values, n);
	return CC_OK;
}

void
reconcile_values_free(struct refvalues *v, size_t n)
{
	size_t i, k;

	for (i = 0; v != NULL && i < n; i++) {
		free(v[i].file_id);
		for (k = 0; k < v[i].n; k++)
			free(v[i].values[k]);
		free(v[i].values);
	}
	free(v);
}

cc_err
reconcile_values_all(sqlite3 *db, const char *entity,
    const char *const *attrs, int nattrs, struct refvalues **out,
    size_t *nout)
{
	struct distinct *d = NULL;	/* [nfiles][nattrs] */
	struct refvalues *v = NULL;
	char **files = NULL, sql[1024], *p;
	size_t nfiles = 0, cap = 0, cur = 0, i, nv = 0;
	sqlite3_stmt *st = NULL;
	cc_err err = CC_OK;
	int rc, k;

	*out = NULL;
	*nout = 0;
	if (nattrs < 1 || nattrs > 16)
		return CC_EINVAL;
	p = sql + snprintf(sql, sizeof(sql), "SELECT s._file_id");
	for (k = 0; k < nattrs; k++)
		p += snprintf(p, 80, ", s.\"%.60s\"", attrs[k]);
	snprintf(p, 80, " FROM \"stg_%.60s\" s", entity);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return CC_EDB;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *f = (const char *)sqlite3_column_text(st, 0);
		if (f == NULL)
			continue;
		/* the rows of a file come together: the last file first */
		if (nfiles == 0 || strcmp(files[cur], f) != 0) {
			for (cur = 0; cur < nfiles; cur++)
				if (!strcmp(files[cur], f))
					break;
			if (cur == nfiles) {
				if (nfiles == cap) {
					size_t nc = cap ? cap * 2 : 8;
					char **nf;
					struct distinct *nd;
					if ((nf = realloc(files, nc *
					    sizeof(*nf))) == NULL) {
						err = CC_ENOMEM;
						break;
					}
					files = nf;
					if ((nd = realloc(d, nc * (size_t)nattrs *
					    sizeof(*nd))) == NULL) {
						err = CC_ENOMEM;
						break;
					}
					d = nd;
					cap = nc;
				}
				memset(&d[nfiles * (size_t)nattrs], 0,
				    (size_t)nattrs * sizeof(*d));
				if ((files[nfiles] = strdup(f)) == NULL) {
					err = CC_ENOMEM;
					break;
				}
				nfiles++;
			}
		}
		for (k = 0; k < nattrs && err == CC_OK; k++) {
			const char *x = (const char *)sqlite3_column_text(st,
			    k + 1);
			if (x != NULL)
				err = distinct_add(&d[cur * (size_t)nattrs + k],
				    x, strlen(x));
			else if (sqlite3_column_type(st, k + 1) !=
			    SQLITE_NULL)
				err = CC_ENOMEM;
		}
		if (err != CC_OK)
			break;
	}
	if (err == CC_OK && rc != SQLITE_DONE)
		err = CC_EDB;
	sqlite3_finalize(st);
	if (err == CC_OK && nfiles > 0 && (v = calloc(nfiles *
	    (size_t)nattrs, sizeof(*v))) == NULL)
		err = CC_ENOMEM;
	for (i = 0; i < nfiles; i++)
		for (k = 0; k < nattrs; k++) {
			struct distinct *x = &d[i * (size_t)nattrs + k];
			if (err != CC_OK || x->n == 0) {
				distinct_free(x);
				continue;
			}
			if ((v[nv].file_id = strdup(files[i])) == NULL) {
				distinct_free(x);
				err = CC_ENOMEM;
				continue;
			}
			v[nv].attr = attrs[k];
			distinct_take(x, &v[nv].values, &v[nv].n);
			nv++;
		}
	for (i = 0; i < nfiles; i++)
		free(files[i]);
	free(files);
	free(d);
	if (err != CC_OK) {
		reconcile_values_free(v, nv);
		return err;
	}
	*out = v;
	*nout = nv;
	return CC_OK;
}

/* Key k's values in file f when x->pre has them (moved out of it): 1,
 * else 0 (not read with the others). */
static int
prefetched(struct ent *x, int f, int k, char ***values, size_t *n)
{
	size_t i;
	int a;

	for (a = 0; a < x->npre_attrs; a++)
		if (!strcmp(x->pre_attrs[a], x->keys[k]))
			break;
	if (a == x->npre_attrs)
		return 0;
	*values = NULL;
	*n = 0;
	for (i = 0; i < x->npre; i++)
		if (x->pre[i].values != NULL && !strcmp(x->pre[i].attr,
		    x->keys[k]) && !strcmp(x->pre[i].file_id, x->files[f])) {
			*values = x->pre[i].values;
			*n = x->pre[i].n;
			x->pre[i].values = NULL;
			x->pre[i].n = 0;
			break;
		}
	return 1;
}

/* Loads rowids, files and the distinct values of every key column. */
static cc_err
load_rows(struct run *r, struct ent *x, struct cc_diag *diag)
{
	char sql[512];
	sqlite3_stmt *st;
	long long i;
	int f, k;

	snprintf(sql, sizeof(sql), "SELECT coalesce(max(rowid), 0) FROM"
	    " \"stg_%s\"", x->e->name);
	if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK)
		return sqlerr(r, diag);
	x->maxrow = sqlite3_step(st) == SQLITE_ROW ?
	    sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	if (!x->values_only)
		x->parent = calloc((size_t)x->maxrow + 1, sizeof(*x->parent));
	if (!x->nofilex)
		x->filex = calloc((size_t)x->maxrow + 1, sizeof(*x->filex));
	x->cols = calloc((size_t)(x->nfiles * x->nkeys) + 1, sizeof(*x->cols));
	if ((!x->values_only && x->parent == NULL) ||
	    (!x->nofilex && x->filex == NULL) || x->cols == NULL)
		return CC_ENOMEM;
	for (i = 0; i <= x->maxrow && x->parent != NULL; i++)
		x->parent[i] = i;
	if (!x->nofilex) {
		for (i = 0; i <= x->maxrow; i++)
			x->filex[i] = -1;
		snprintf(sql, sizeof(sql), "SELECT rowid, _file_id FROM"
		    " \"stg_%s\"", x->e->name);
		if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK)
			return sqlerr(r, diag);
		while (sqlite3_step(st) == SQLITE_ROW)
			x->filex[sqlite3_column_int64(st, 0)] = file_index(x,
			    (const char *)sqlite3_column_text(st, 1));
		sqlite3_finalize(st);
	}

	/* Within a file, one key value is one entity: union its records
	 * and keep one representative per distinct value. */
	for (f = 0; f < x->nfiles; f++) {
		for (k = 0; k < x->nkeys; k++) {
			struct keycol *c = &x->cols[x->ncols];
			size_t cap = 0;
			if (x->fallback && k > 0 && x->ncols > 0 &&
			    x->cols[x->ncols - 1].file == f)
				break;	/* keys[0] has values: not needed */
			if (x->values_only) {
				cc_err err = CC_OK;
				c->file = f;
				c->attr = x->keys[k];
				if (prefetched(x, f, k, &c->values, &c->n))
					;	/* read with the others */
				else if ((err = reconcile_values(r->db,
				    x->e->name, x->keys[k], x->files[f],
				    &c->values, &c->n)) != CC_OK)
					return err == CC_EDB ? sqlerr(r, diag) :
					    err;
				if (c->n > 0)
					x->ncols++;
				else
					keycol_free(c);
				continue;
			}
			snprintf(sql, sizeof(sql), "SELECT \"%s\", rowid FROM"
			    " \"stg_%s\" WHERE _file_id = ?1 AND \"%s\" IS NOT"
			    " NULL ORDER BY \"%s\", rowid", x->keys[k],
			    x->e->name, x->keys[k], x->keys[k]);
			if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) !=
			    SQLITE_OK)
				return sqlerr(r, diag);
			sqlite3_bind_text(st, 1, x->files[f], -1, SQLITE_STATIC);
			c->file = f;
			c->attr = x->keys[k];
			while (sqlite3_step(st) == SQLITE_ROW) {
				const char *v = (const char *)
				    sqlite3_column_text(st, 0);
				long long row = sqlite3_column_int64(st, 1);
				if (c->n > 0 && !strcmp(c->values[c->n - 1], v)) {
					uf_unite(x->parent, c->rep[c->n - 1], row);
					continue;
				}
				if (c->n == cap) {
					cap = cap ? cap * 2 : 256;
					c->values = realloc(c->values,
					    cap * sizeof(char *));
					c->rep = realloc(c->rep,
					    cap * sizeof(long long));
					if (c->values == NULL || c->rep == NULL) {
						sqlite3_finalize(st);
						return CC_ENOMEM;
					}
				}
				c->values[c->n] = strdup(v);
				c->rep[c->n++] = row;
			}
			sqlite3_finalize(st);
			if (c->n > 0)
				x->ncols++;
			else
				keycol_free(c);
		}
	}
	return CC_OK;
}

static cc_err
record_rule(struct run *r, const char *entity, const char *from_file,
    const char *from_col, const char *to_file, const char *to_col,
    const struct align_rule *rule)
{
	json_t *j = align_rule_json(rule);
	sqlite3_stmt *st;
	char *text;
	int rc;

	json_object_set_new(j, "entity", json_string(entity));
	json_object_set_new(j, "from_file", json_string(from_file));
	json_object_set_new(j, "from_column", json_string(from_col));
	json_object_set_new(j, "to_file", json_string(to_file));
	json_object_set_new(j, "to_column", json_string(to_col));
	json_array_append(r->key_rules, j);
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (sqlite3_prepare_v2(r->db, "INSERT INTO key_rules (run_id, entity,"
	    " from_file, from_column, to_file, to_column, rule, coverage,"
	    " matched) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", -1, &st,
	    NULL) != SQLITE_OK) {
		free(text);
		return CC_EDB;
	}
	sqlite3_bind_text(st, 1, r->run_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, entity, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, from_file, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, from_col, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, to_file, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, to_col, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, text, -1, free);
	sqlite3_bind_double(st, 8, rule->coverage);
	sqlite3_bind_int64(st, 9, rule->matched);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? CC_OK : CC_EDB;
}

/* 1 if rule a is better evidence than b (more values met one-to-one,
 * then coverage). */
static int
better(const struct align_rule *a, const struct align_rule *b)
{
	if (a->matched_one_to_one != b->matched_one_to_one)
		return a->matched_one_to_one > b->matched_one_to_one;
	return a->coverage > b->coverage;
}

/*
 * 1 if no rule learned from the column from can be better() than best
 * (bf: NULL when there is no best yet): a rule meets at most every
 * distinct value of from (matched_one_to_one <= from_distinct <= from->n)
 * at a coverage of at most 1.  Such a pair is not learned: the answer
 * is the same, and so is every rule recorded.
 */
static int
cannot_be_better(const struct keycol *from, const struct keycol *bf,
    const struct align_rule *best)
{
	if (bf == NULL)
		return 0;
	return (long long)from->n < best->matched_one_to_one ||
	    ((long long)from->n == best->matched_one_to_one &&
	    best->coverage >= 1.0);
}

/*
 * The rule of one pair of an entity's files (link_files()): chosen by
 * pick_rule(), possibly on a second thread, then applied in file order.
 */
struct link {
	int			 fa, fb;
	struct align_rule	 best;
	struct keycol		*bf, *bt;	/* NULL: no rule */
	long long		 learned, reused;
	int			 reused_first;	/* the first pair learned was
						   reused (the order of the
						   run's counts) */
};

/*
 * The learning of an entity's pairs of files on two threads: both take
 * the next pair until none is left.  The key columns are prepared under
 * mu (a column is in several pairs); each thread learns through its own
 * workspace connection (ws).
 */
struct linkpool {
	struct ent		*x;
	struct link		*v;
	size_t			 n, next;
	pthread_mutex_t		 mu;
	struct workspace	 ws;		/* the second thread's */
};

/*
 * align_learn() of from -> to, or the rule learned before from the same
 * values in this run or an earlier one, by the stage's mapping proposals
 * or by reconcile (registry_align_learn(), on ws); each key column is
 * prepared once (align_column_new()) for all the pairs it is learned in,
 * under mu when two threads learn (NULL: one).  Counts the pair in
 * l->learned or l->reused.  Errors: those of align_learn().
 */
static cc_err
learn_on(struct workspace *ws, pthread_mutex_t *mu, struct link *l,
    struct keycol *from, struct keycol *to, struct align_rule *out)
{
	struct align_column *fc, *tc;
	int reused = 0;
	cc_err err;

	if (mu != NULL) {
		/* prepared here, not in registry_align_learn(): a column two
		 * threads need is made once */
		pthread_mutex_lock(mu);
		err = CC_OK;
		if (from->col == NULL)
			err = align_column_new((const char *const *)
			    from->values, from->n, &from->col, NULL);
		if (err == CC_OK && to->col == NULL)
			err = align_column_new((const char *const *)to->values,
			    to->n, &to->col, NULL);
		fc = from->col;
		tc = to->col;
		pthread_mutex_unlock(mu);
		if (err != CC_OK)
			return err;
		err = registry_align_learn(ws, (const char *const *)
		    from->values, from->n, (const char *const *)to->values,
		    to->n, &fc, &tc, out, &reused);
	} else
		err = registry_align_learn(ws, (const char *const *)
		    from->values, from->n, (const char *const *)to->values,
		    to->n, &from->col, &to->col, out, &reused);
	if (l->learned + l->reused == 0)
		l->reused_first = reused;
	if (reused)
		l->reused++;
	else
		l->learned++;
	return err;
}

/* Adds l's counts to the run's, in the order they were first met. */
static void
count_pairs(struct run *r, const struct link *l)
{
	int k;

	for (k = 0; k < 2; k++) {
		int reused = k == 0 ? l->reused_first : !l->reused_first;
		long long n = reused ? l->reused : l->learned;
		if (n > 0)
			run_count(r, reused ? "key_pairs_reused" :
			    "key_pairs_learned", n);
	}
}

/* learn_on() in one thread, counted in the run. */
static cc_err
learn(struct run *r, struct keycol *from, struct keycol *to,
    struct align_rule *out)
{
	struct link l;
	cc_err err;

	memset(&l, 0, sizeof(l));
	err = learn_on(r->ws, NULL, &l, from, to, out);
	count_pairs(r, &l);
	return err;
}

/*
 * The best rule over every pair of key columns of files l->fa and
 * l->fb, in both directions, into l (l->bf NULL: none).
 */
static void
pick_rule(struct workspace *ws, pthread_mutex_t *mu, struct ent *x,
    struct link *l)
{
	struct align_rule rule;
	int i, j, dir;

	memset(&l->best, 0, sizeof(l->best));
	l->bf = l->bt = NULL;
	for (i = 0; i < x->ncols; i++) {
		for (j = 0; j < x->ncols; j++) {
			struct keycol *a = &x->cols[i], *b = &x->cols[j];
			if (a->file != l->fa || b->file != l->fb)
				continue;
			for (dir = 0; dir < 2; dir++) {
				struct keycol *from = dir ? a : b,
				    *to = dir ? b : a;
				if (cannot_be_better(from, l->bf, &l->best) ||
				    learn_on(ws, mu, l, from, to, &rule) !=
				    CC_OK || !rule.found)
					continue;
				if (l->bf == NULL || better(&rule, &l->best)) {
					l->best = rule;
					l->bf = from;
					l->bt = to;
				}
				/* Every value met one to one, and the other
				 * column has no more distinct values: the
				 * other direction meets at most as many (one
				 * to one, at most one of its values each) at a
				 * coverage of at most 1, so it is never
				 * better(); not learned. */
				if (dir == 0 && rule.matched_one_to_one ==
				    rule.from_distinct && rule.to_distinct <=
				    rule.from_distinct)
					break;
			}
		}
	}
}

/* Links two files of an entity by the rule pick_rule() chose: its
 * matches unite the records; the rule is recorded. */
static cc_err
link_files(struct run *r, struct ent *x, const struct link *l,
    struct cc_diag *diag)
{
	const struct keycol *bf = l->bf, *bt = l->bt;
	long long *idx;
	size_t k;

	count_pairs(r, l);
	if (bf == NULL)
		return CC_OK;
	if ((idx = calloc(bf->n, sizeof(*idx))) == NULL)
		return CC_ENOMEM;
	if (align_match(&l->best, (const char *const *)bf->values, bf->n,
	    (const char *const *)bt->values, bt->n, idx, diag) != CC_OK) {
		free(idx);
		return CC_ENOMEM;
	}
	for (k = 0; k < bf->n; k++)
		if (idx[k] >= 0)
			uf_unite(x->parent, bf->rep[k], bt->rep[idx[k]]);
	free(idx);
	run_count(r, "key_rules", 1);
	return record_rule(r, x->e->name, x->files[bf->file], bf->attr,
	    x->files[bt->file], bt->attr, &l->best) == CC_OK ? CC_OK :
	    sqlerr(r, diag);
}

/* Takes pairs off the pool until none is left (ws: this thread's
 * connection). */
static void
pool_work(struct linkpool *p, struct workspace *ws)
{
	size_t i;

	for (;;) {
		pthread_mutex_lock(&p->mu);
		i = p->next++;
		pthread_mutex_unlock(&p->mu);
		if (i >= p->n)
			return;
		pick_rule(ws, &p->mu, p->x, &p->v[i]);
	}
}

static void *
pool_thread(void *arg)
{
	struct linkpool *p = arg;

	pool_work(p, &p->ws);
	return NULL;
}

/* FNV-1a of a key column's values, to tell columns with the same values
 * apart (equal lists hash equal). */
static uint64_t
keycol_hash(const struct keycol *k)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;
	const unsigned char *p;

	for (i = 0; i < k->n; i++) {
		for (p = (const unsigned char *)k->values[i]; *p != '\0'; p++)
			h = (h ^ *p) * 1099511628211ULL;
		h = (h ^ 0xff) * 1099511628211ULL;
	}
	return h ^ (uint64_t)k->n;
}

/*
 * 1 if the pairs of x's files may be learned on two threads with the
 * same answers and counts as one after the other: more than one pair of
 * files, and no two key columns with the same values (else a pair's
 * rule could be learned on one thread while the other looks it up,
 * counted as learned where in order it is reused).
 */
static int
links_parallel(const struct ent *x)
{
	uint64_t *h;
	int i, j, ok = 1;

	if (x->nfiles < 3 || x->ncols < 2 ||
	    (h = malloc((size_t)x->ncols * sizeof(*h))) == NULL)
		return 0;
	for (i = 0; i < x->ncols; i++)
		h[i] = keycol_hash(&x->cols[i]);
	for (i = 0; i < x->ncols && ok; i++)
		for (j = i + 1; j < x->ncols && ok; j++)
			ok = h[i] != h[j];
	free(h);
	return ok;
}

/*
 * Links every pair of x's files (a < b, in that order): the rules are
 * chosen first, on two threads where links_parallel() allows and a
 * second thread and connection can be had, then applied one pair after
 * the other in order, so the clusters, rules and counts are those of
 * one thread.
 */
static cc_err
link_all(struct run *r, struct ent *x, struct cc_diag *diag)
{
	struct linkpool p;
	pthread_t th;
	size_t k;
	int a, b, two = 0;
	cc_err err = CC_OK;

	memset(&p, 0, sizeof(p));
	p.x = x;
	if (x->nfiles < 2)
		return CC_OK;
	if ((p.v = calloc((size_t)x->nfiles * (size_t)x->nfiles,
	    sizeof(*p.v))) == NULL)
		return CC_ENOMEM;
	for (a = 0; a < x->nfiles; a++)
		for (b = a + 1; b < x->nfiles; b++) {
			p.v[p.n].fa = a;
			p.v[p.n++].fb = b;
		}
	pthread_mutex_init(&p.mu, NULL);
	if (r->threads != 1 && links_parallel(x) &&
	    run_ws_open(r, &p.ws) == CC_OK &&
	    pthread_create(&th, NULL, pool_thread, &p) == 0)
		two = 1;
	if (two) {
		pool_work(&p, r->ws);
		pthread_join(th, NULL);
	} else
		for (k = 0; k < p.n; k++)
			pick_rule(r->ws, NULL, x, &p.v[k]);
	run_ws_close(&p.ws);
	pthread_mutex_destroy(&p.mu);
	for (k = 0; k < p.n && err == CC_OK; k++)
		err = link_files(r, x, &p.v[k], diag);
	free(p.v);
	return err;
}

/* A staging row and its cluster, for assign_ids(). */
struct member {
	long long	root, row, old;	/* old: the id its key had, or 0 */
	long long	id;		/* given by this run, or 0 */
	char		*key;		/* natural key, or "#file:row" */
	int		 ident;		/* carries a key or an identity */
};

/* By row (rowid order: updates of a table in its own order). */
static int
member_row_cmp(const void *a, const void *b)
{
	const struct member *x = a, *y = b;

	return x->row < y->row ? -1 : x->row > y->row;
}

/* By key (index order: inserts into an index in its own order). */
static int
member_key_cmp(const void *a, const void *b)
{
	const struct member *const *x = a, *const *y = b;

	return strcmp((*x)->key, (*y)->key);
}

static int
member_cmp(const void *a, const void *b)
{
	const struct member *x = a, *y = b;

	if (x->root != y->root)
		return x->root < y->root ? -1 : 1;
	return x->row < y->row ? -1 : x->row > y->row;
}

/*
 * Gives every cluster its canonical id and writes it to _key.  The rule
 * that keeps ids stable across runs: every record's key (its natural
 * key, else its alternate key, else its lineage "#file:row") keeps the id
 * it was first given (canonical_ids).  Clusters are taken in the order of
 * their first record; a cluster takes the id of its earliest record
 * that has one and that no earlier cluster of this run took, else a new
 * id.  So a cluster that grows keeps its id, two clusters that merge keep
 * the earlier one's, and when a cluster splits the part holding its
 * earliest record keeps the id (the other part gets back an id one of its
 * records had, or a new one).  A cluster none of whose records carries a
 * key or an identifying attribute (a name, an e-mail: er_identity_attrs())
 * is no entity: its _key stays NULL and it is counted as
 * <entity>_without_identity.
 */
static cc_err
assign_ids(struct run *r, struct ent *x, long long *idof,
    struct cc_diag *diag)
{
	sqlite3_stmt *sel = NULL, *ins = NULL, *upd = NULL, *mx = NULL,
	    *updr = NULL;
	const char *const *ident = er_identity_attrs(x->e->name);
	struct member *mb = NULL, **fresh = NULL;
	size_t nfresh = 0;
	unsigned char *taken = NULL;
	long long next = 1, clusters = 0, noid = 0, row;
	size_t n = 0, i, j, k, cap_taken;
	char sql[2048], keys[512] = "", idl[512] = "";
	cc_err err = CC_EDB;

	if ((mb = calloc((size_t)x->maxrow + 1, sizeof(*mb))) == NULL)
		return CC_ENOMEM;
	if (sqlite3_prepare_v2(r->db, "SELECT coalesce(max(canonical_id), 0)"
	    " + 1 FROM canonical_ids WHERE entity = ?1", -1, &mx, NULL) !=
	    SQLITE_OK)
		goto out;
	sqlite3_bind_text(mx, 1, x->e->name, -1, SQLITE_STATIC);
	if (sqlite3_step(mx) == SQLITE_ROW)
		next = sqlite3_column_int64(mx, 0);
	sqlite3_reset(mx);
	for (k = 0; k < (size_t)x->nkeys; k++)
		snprintf(keys + strlen(keys), sizeof(keys) - strlen(keys),
		    "s.\"%s\", ", x->keys[k]);
	for (k = 0; ident != NULL && ident[k] != NULL; k++)
		if (schema_attr(x->e, ident[k]) != NULL)
			snprintf(idl + strlen(idl), sizeof(idl) - strlen(idl),
			    "s.\"%s\", ", ident[k]);
	snprintf(sql, sizeof(sql), "SELECT s.rowid, coalesce(%s'#' ||"
	    " s._file_id || ':' || s._row), c.canonical_id,"
	    " coalesce(%s%sNULL) IS NOT NULL FROM \"stg_%s\" s LEFT JOIN"
	    " canonical_ids c ON c.entity = ?1 AND c.natural_key ="
	    " coalesce(%s'#' || s._file_id || ':' || s._row)", keys, keys, idl,
	    x->e->name, keys);
	if (sqlite3_prepare_v2(r->db, sql, -1, &sel, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(sel, 1, x->e->name, -1, SQLITE_STATIC);
	while (sqlite3_step(sel) == SQLITE_ROW) {
		row = sqlite3_column_int64(sel, 0);
		if (row < 1 || row > x->maxrow || x->filex[row] < 0)
			continue;
		mb[n].row = row;
		mb[n].root = uf_find(x->parent, row);
		mb[n].key = strdup((const char *)sqlite3_column_text(sel, 1));
		mb[n].old = sqlite3_column_int64(sel, 2);
		mb[n].ident = sqlite3_column_int(sel, 3);
		if (mb[n].key == NULL) {
			err = CC_ENOMEM;
			goto out;
		}
		n++;
	}
	qsort(mb, n, sizeof(*mb), member_cmp);
	cap_taken = (size_t)next + 1;
	if ((taken = calloc(cap_taken, 1)) == NULL) {
		err = CC_ENOMEM;
		goto out;
	}
	if (sqlite3_prepare_v2(r->db, "INSERT OR IGNORE INTO canonical_ids"
	    " (entity, natural_key, canonical_id) VALUES (?1, ?2, ?3)", -1,
	    &ins, NULL) != SQLITE_OK)
		goto out;
	snprintf(sql, sizeof(sql), "UPDATE \"stg_%s\" SET _key = ?2"
	    " WHERE rowid = ?1", x->e->name);
	if (sqlite3_prepare_v2(r->db, sql, -1, &upd, NULL) != SQLITE_OK)
		goto out;
	/* a run of rows whose ids step with their rowids, in one statement
	 * (the same text _key: an integer stored with TEXT affinity) */
	snprintf(sql, sizeof(sql), "UPDATE \"stg_%s\" SET _key = rowid + ?3"
	    " WHERE rowid BETWEEN ?1 AND ?2", x->e->name);
	if (sqlite3_prepare_v2(r->db, sql, -1, &updr, NULL) != SQLITE_OK)
		goto out;
	for (i = 0; i < n; i = j) {
		long long id = 0;
		int any = 0;
		for (j = i; j < n && mb[j].root == mb[i].root; j++)
			any |= mb[j].ident;
		if (!any) {
			noid++;
			continue;
		}
		for (k = i; k < j && id == 0; k++)
			if (mb[k].old > 0 && (size_t)mb[k].old < cap_taken &&
			    !taken[mb[k].old])
				id = mb[k].old;
		if (id == 0)
			id = next++;
		if ((size_t)id < cap_taken)
			taken[id] = 1;
		clusters++;
		for (k = i; k < j; k++)
			mb[k].id = id;
	}
	/* the keys seen for the first time, in key order (a key that has
	 * an id keeps it: INSERT OR IGNORE would leave it) */
	if ((fresh = malloc((n + 1) * sizeof(*fresh))) == NULL) {
		err = CC_ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++)
		if (mb[i].id > 0 && mb[i].old <= 0)
			fresh[nfresh++] = &mb[i];
	qsort(fresh, nfresh, sizeof(*fresh), member_key_cmp);
	for (i = 0; i < nfresh; i++) {
		sqlite3_reset(ins);
		sqlite3_bind_text(ins, 1, x->e->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 2, fresh[i]->key, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 3, fresh[i]->id);
		if (sqlite3_step(ins) != SQLITE_DONE)
			goto out;
	}
	/* _key, in rowid order; rows i..j-1 that follow each other with
	 * ids that follow each other are one run (mb holds each row once) */
	qsort(mb, n, sizeof(*mb), member_row_cmp);
	for (i = 0; i < n; i = j) {
		if (mb[i].id <= 0) {
			j = i + 1;
			continue;
		}
		for (j = i + 1; j < n && mb[j].id > 0 &&
		    mb[j].row == mb[j - 1].row + 1 &&
		    mb[j].id == mb[j - 1].id + 1; j++)
			;
		for (k = i; k < j && idof != NULL; k++)
			idof[mb[k].row] = mb[k].id;
		if (j - i == 1) {
			sqlite3_reset(upd);
			sqlite3_bind_int64(upd, 1, mb[i].row);
			sqlite3_bind_int64(upd, 2, mb[i].id);
			if (sqlite3_step(upd) != SQLITE_DONE)
				goto out;
			continue;
		}
		sqlite3_reset(updr);
		sqlite3_bind_int64(updr, 1, mb[i].row);
		sqlite3_bind_int64(updr, 2, mb[j - 1].row);
		sqlite3_bind_int64(updr, 3, mb[i].id - mb[i].row);
		if (sqlite3_step(updr) != SQLITE_DONE)
			goto out;
	}
	{
		char name[64];
		snprintf(name, sizeof(name), "%s_records", x->e->name);
		run_count(r, name, (long long)n);
		snprintf(name, sizeof(name), "%s_entities", x->e->name);
		run_count(r, name, clusters);
		if (noid > 0) {
			snprintf(name, sizeof(name), "%s_without_identity",
			    x->e->name);
			run_count(r, name, noid);
		}
	}
	err = CC_OK;
out:
	if (err == CC_EDB)
		sqlerr(r, diag);
	sqlite3_finalize(mx);
	sqlite3_finalize(sel);
	sqlite3_finalize(ins);
	sqlite3_finalize(upd);
	sqlite3_finalize(updr);
	for (i = 0; i < n; i++)
		free(mb[i].key);
	free(mb);
	free(fresh);
	free(taken);
	return err;
}

/* Stores the match report of an entity in the model and the run. */
static cc_err
record_match(struct run *r, const char *entity, json_t *rep)
{
	sqlite3_stmt *st;
	char *text;
	int rc;

	json_object_set(r->matching, entity, rep);
	if ((text = json_dumps(rep, JSON_COMPACT)) == NULL)
		return CC_ENOMEM;
	if (sqlite3_prepare_v2(r->db, "INSERT OR REPLACE INTO match_models"
	    " (entity, run_id, model) VALUES (?1, ?2, ?3)", -1, &st, NULL) !=
	    SQLITE_OK) {
		free(text);
		return CC_EDB;
	}
	sqlite3_bind_text(st, 1, entity, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r->run_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, text, -1, free);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? CC_OK : CC_EDB;
}

/*
 * Resolves entity e: links its files, matches its records, assigns the
 * canonical ids.  On CC_OK *keep (zeroed by the caller) receives the
 * entity's key columns, with the columns prepared for learning, and its
 * ids (keep->idof), for resolve_reference(); the caller frees it with
 * ent_free().
 */
static cc_err
resolve_entity(struct run *r, const struct schema_entity *e,
    struct ent *keep, struct cc_diag *diag)
{
	struct ent x;
	long long *idof = NULL;	/* rowid -> canonical id */
	cc_err err;
	size_t k;

	memset(&x, 0, sizeof(x));
	x.e = e;
	for (k = 0; k < e->nattrs && x.nkeys < MAX_KEYS; k++)
		if ((e->attrs[k].role == SCHEMA_NATURAL_KEY ||
		    e->attrs[k].role == SCHEMA_ALTERNATE_KEY) &&
		    e->attrs[k].type == SCHEMA_KEY)
			x.keys[x.nkeys++] = e->attrs[k].name;
	if ((err = load_files(r, &x, diag)) != CC_OK ||
	    (err = load_rows(r, &x, diag)) != CC_OK)
		goto out;
	err = link_all(r, &x, diag);
	if (err == CC_OK && x.maxrow > 0) {
		json_t *rep = json_object();
		err = er_entity(r, e, x.parent, x.maxrow, rep, diag);
		if (err == CC_OK && json_object_size(rep) > 0 &&
		    record_match(r, e->name, rep) != CC_OK)
			err = sqlerr(r, diag);
		json_decref(rep);
	}
	if (err == CC_OK && x.maxrow > 0 &&
	    (idof = calloc((size_t)x.maxrow + 1, sizeof(*idof))) == NULL)
		err = CC_ENOMEM;
	if (err == CC_OK)
		err = assign_ids(r, &x, idof, diag);
	if (err == CC_OK && x.maxrow > 0)
		err = er_finish(r, e, idof, x.maxrow, diag);
	if (err == CC_OK) {
		/* the clusters and files are done with: only the key
		 * columns and the ids are kept */
		free(x.parent);
		free(x.filex);
		x.parent = NULL;
		x.filex = NULL;
		x.idof = idof;
		*keep = x;
		return CC_OK;
	}
	free(idof);
out:
	ent_free(&x);
	return err;
}

/*
 * Resolves the reference attr of entity e (order_line.customer_id,
 * product.category_id) to canonical ids of the referenced entity, per
 * referencing file, into ref_resolved.  When the attribute itself is not
 * mapped in a file, the entity's own natural key is tried (a product key
 * that embeds its category's key).
 */
static cc_err
resolve_reference(struct run *r, const struct schema_entity *e,
    const struct schema_attr *ref, struct resolved *done,
    struct refvalues *pre, size_t npre, struct cc_diag *diag)
{
	const struct schema_entity *te = schema_entity(ref->ref);
	struct ent from, own, *to = &own;
	const char *fromattr;
	sqlite3_stmt *ins = NULL, *canon = NULL;
	char sql[512];
	cc_err err;
	size_t k;
	int f, i;

	memset(&from, 0, sizeof(from));
	memset(&own, 0, sizeof(own));
	from.e = e;
	own.e = te;
	own.nofilex = 1;
	from.keys[from.nkeys++] = ref->name;
	from.fallback = 1;	/* the key only where the reference is not */
	from.nofilex = 1;
	from.values_only = 1;	/* its values are matched, not its rows */
	if (pre != NULL) {
		from.pre = pre;
		from.npre = npre;
		from.pre_attrs[from.npre_attrs++] = ref->name;
	}
	/* the referenced entity as resolve_entity() loaded it (the same
	 * keys, the same rows: only _key changed since), with its ids */
	for (k = 0; k < done->n; k++)
		if (done->v[k].e == te)
			to = &done->v[k];
	for (k = 0; k < e->nattrs; k++)
		if (e->attrs[k].role == SCHEMA_NATURAL_KEY &&
		    e->attrs[k].type == SCHEMA_KEY) {
			from.keys[from.nkeys++] = e->attrs[k].name;
			break;
		}
	for (k = 0; k < te->nattrs && own.nkeys < MAX_KEYS; k++)
		if ((te->attrs[k].role == SCHEMA_NATURAL_KEY ||
		    te->attrs[k].role == SCHEMA_ALTERNATE_KEY) &&
		    te->attrs[k].type == SCHEMA_KEY)
			own.keys[own.nkeys++] = te->attrs[k].name;
	if ((err = load_files(r, &from, diag)) != CC_OK ||
	    (err = load_rows(r, &from, diag)) != CC_OK ||
	    (to == &own && ((err = load_files(r, &own, diag)) != CC_OK ||
	    (err = load_rows(r, &own, diag)) != CC_OK)))
		goto out;
	snprintf(sql, sizeof(sql), "SELECT _key FROM \"stg_%s\" WHERE rowid"
	    " = ?1", te->name);
	if (sqlite3_prepare_v2(r->db, "INSERT OR REPLACE INTO ref_resolved"
	    " (entity, attr, file_id, value, canonical_id) VALUES (?1, ?2, ?3,"
	    " ?4, ?5)", -1, &ins, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(r->db, sql, -1, &canon, NULL) != SQLITE_OK) {
		err = sqlerr(r, diag);
		goto out;
	}
	for (f = 0; f < from.nfiles; f++) {
		struct align_rule best, rule;
		const struct keycol *bf = NULL, *bt = NULL;
		long long *idx;
		/* the reference column if the file has it, else its key */
		for (i = 0; i < from.ncols; i++)
			if (from.cols[i].file == f &&
			    !strcmp(from.cols[i].attr, ref->name))
				break;
		fromattr = i < from.ncols ? ref->name : from.keys[1];
		if (from.nkeys < 2 && i == from.ncols)
			continue;
		memset(&best, 0, sizeof(best));
		for (i = 0; i < from.ncols; i++) {
			struct keycol *fc = &from.cols[i];
			int j;
			if (fc->file != f || strcmp(fc->attr, fromattr))
				continue;
			for (j = 0; j < to->ncols; j++) {
				struct keycol *tc = &to->cols[j];
				if (cannot_be_better(fc, bf, &best) ||
				    learn(r, fc, tc, &rule) != CC_OK ||
				    !rule.found)
					continue;
				if (bf == NULL || better(&rule, &best)) {
					best = rule;
					bf = fc;
					bt = tc;
				}
			}
		}
		if (bf == NULL)
			continue;
		if ((idx = calloc(bf->n, sizeof(*idx))) == NULL) {
			err = CC_ENOMEM;
			goto out;
		}
		align_match(&best, (const char *const *)bf->values, bf->n,
		    (const char *const *)bt->values, bt->n, idx, NULL);
		for (k = 0; k < bf->n; k++) {
			long long id, row;
			if (idx[k] < 0)
				continue;
			row = bt->rep[idx[k]];
			if (to->idof != NULL) {
				/* _key as assign_ids() wrote it (NULL: 0) */
				id = row >= 1 && row <= to->maxrow ?
				    to->idof[row] : 0;
			} else {
				sqlite3_reset(canon);
				sqlite3_bind_int64(canon, 1, row);
				if (sqlite3_step(canon) != SQLITE_ROW)
					continue;
				id = sqlite3_column_int64(canon, 0);
			}
			sqlite3_reset(ins);
			sqlite3_bind_text(ins, 1, e->name, -1, SQLITE_STATIC);
			sqlite3_bind_text(ins, 2, ref->name, -1, SQLITE_STATIC);
			sqlite3_bind_text(ins, 3, from.files[f], -1,
			    SQLITE_STATIC);
			sqlite3_bind_text(ins, 4, bf->values[k], -1,
			    SQLITE_STATIC);
			sqlite3_bind_int64(ins, 5, id);
			if (sqlite3_step(ins) != SQLITE_DONE) {
				free(idx);
				err = sqlerr(r, diag);
				goto out;
			}
		}
		free(idx);
		if (record_rule(r, e->name, from.files[f], bf->attr,
		    to->files[bt->file], bt->attr, &best) != CC_OK) {
			err = sqlerr(r, diag);
			goto out;
		}
		run_count(r, "key_rules", 1);
	}
out:
	sqlite3_finalize(ins);
	sqlite3_finalize(canon);
	ent_free(&from);
	ent_free(&own);
	return err;
}

/* Entity e's reference attributes (at most MAX_KEYS): how many. */
static int
entity_refs(const struct schema_entity *e, const char **refs)
{
	size_t k;
	int n = 0;

	for (k = 0; k < e->nattrs && n < MAX_KEYS; k++)
		if (e->attrs[k].role == SCHEMA_REFERENCE)
			refs[n++] = e->attrs[k].name;
	return n;
}

/*
 * The values of the references of the entities that have several (the
 * sales lines' customer_id and product_id: reconcile_values_all()), read
 * on a thread of their own from the committed staging tables while the
 * run's thread resolves the dimensions (nothing it writes is read here:
 * the dimensions' _key, canonical_ids): 1M lines, its 0.13 s of scan
 * off the run's thread.  Without the thread (one thread, no WAL mode, a
 * failure) the run's thread reads them after the dimensions, as before.
 */
struct prefetch {
	const struct schema_entity	*es;
	size_t				 ne;
	sqlite3				*db;		/* its reader */
	struct refvalues		**pre;		/* [ne] */
	size_t				*npre;		/* [ne] */
	cc_err				*err;		/* [ne]; CC_EINVAL: not
							   read */
	struct lines_plan		*plan;		/* the order lines' runs
							   (lines_plan()), for the
							   load (struct run) */
	pthread_t			 th;
	pthread_mutex_t			 mu;		/* values_done, under mu;
							   cv: it was set */
	pthread_cond_t			 cv;
	int				 values_done;
	int				 started;
};

static void *
prefetch_main(void *arg)
{
	struct prefetch *p = arg;
	const char *refs[MAX_KEYS];
	size_t i;
	int n;

	for (i = 0; i < p->ne; i++)
		if ((n = entity_refs(&p->es[i], refs)) > 1)
			p->err[i] = reconcile_values_all(p->db, p->es[i].name,
			    refs, n, &p->pre[i], &p->npre[i]);
	/* the values are the reconcile phase's now (prefetch_values()) */
	pthread_mutex_lock(&p->mu);
	p->values_done = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	/* and the runs of the order lines, which nothing changes until the
	 * load reads them (but line numbers it gives: load.c), while the
	 * run goes on to the load's dimensions (run_prefetch_join()) */
	if (p->plan != NULL && lines_plan(p->db, LINES_RUNS_MAX, p->plan) !=
	    CC_OK)
		p->plan->ok = 0;
	return NULL;
}

/* Starts the thread when it can (CC_OK either way); errors: those of
 * run_model_share() (CC_EDB, diag). */
static cc_err
prefetch_start(struct prefetch *p, struct run *r, const struct schema_entity
    *es, size_t ne, struct cc_diag *diag)
{
	cc_err err;
	size_t i;

	memset(p, 0, sizeof(*p));
	p->es = es;
	p->ne = ne;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	if (r->threads == 1 || (p->pre = calloc(ne, sizeof(*p->pre))) ==
	    NULL || (p->npre = calloc(ne, sizeof(*p->npre))) == NULL ||
	    (p->err = calloc(ne, sizeof(*p->err))) == NULL)
		return CC_OK;
	for (i = 0; i < ne; i++)
		p->err[i] = CC_EINVAL;
	if (r->lines_plan == NULL)
		p->plan = calloc(1, sizeof(*p->plan));	/* NULL: not read */
	if ((err = run_model_share(r, diag)) != CC_OK)
		return err;
	if (!r->model_wal || run_model_reader(r, &p->db) != CC_OK)
		return CC_OK;
	if (pthread_create(&p->th, NULL, prefetch_main, p) != 0) {
		sqlite3_close_v2(p->db);
		p->db = NULL;
		return CC_OK;
	}
	p->started = 1;
	return CC_OK;
}

/* Joins the thread (once). */
static void
prefetch_join(struct prefetch *p)
{
	if (!p->started)
		return;
	pthread_join(p->th, NULL);
	p->started = 0;
	sqlite3_close_v2(p->db);
	p->db = NULL;
}

/* Waits until the thread has read the references' values (nothing when
 * it did not start). */
static void
prefetch_values(struct prefetch *p)
{
	if (!p->started)
		return;
	pthread_mutex_lock(&p->mu);
	while (!p->values_done)
		pthread_cond_wait(&p->cv, &p->mu);
	pthread_mutex_unlock(&p->mu);
}

/* Entity i's values, read by the thread (moved out of p): 1, else 0. */
static int
prefetch_take(struct prefetch *p, size_t i, struct refvalues **pre,
    size_t *npre)
{
	if (p->err == NULL || p->err[i] != CC_OK)
		return 0;
	*pre = p->pre[i];
	*npre = p->npre[i];
	p->pre[i] = NULL;
	p->npre[i] = 0;
	return 1;
}

/* Frees the values (after prefetch_values()). */
static void
prefetch_values_free(struct prefetch *p)
{
	size_t i;

	for (i = 0; p->pre != NULL && i < p->ne; i++)
		reconcile_values_free(p->pre[i], p->npre[i]);
	free(p->pre);
	free(p->npre);
	free(p->err);
	p->pre = NULL;
	p->npre = NULL;
	p->err = NULL;
}

/* Joins the thread and frees p: its lines' runs become the run's when
 * it read them (and the run has none). */
static void
prefetch_end(struct run *r, struct prefetch *p)
{
	prefetch_join(p);
	prefetch_values_free(p);
	if (p->plan != NULL && p->plan->ok && r->lines_plan == NULL) {
		r->lines_plan = p->plan;	/* the run's now */
		p->plan = NULL;
	}
	lines_plan_free(p->plan);
	free(p->plan);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

void
run_prefetch_join(struct run *r)
{
	struct prefetch *p = r->prefetch;

	if (p == NULL)
		return;
	r->prefetch = NULL;
	prefetch_end(r, p);
}

cc_err
reconcile_all(struct run *r, struct cc_diag *diag)
{
	const struct schema_entity *es;
	struct resolved done = { NULL, 0 };
	struct prefetch *pf;
	size_t ne, i, k;
	cc_err err = CC_OK;

	/* WITHOUT ROWID: one B-tree, the key's, not a table and its index
	 * (the 18,911 references of the CRM/ERP files: 37 -> 20 ms); no
	 * part of the key is ever NULL (such a table refuses it) */
	if (run_exec(r, "CREATE TEMP TABLE ref_resolved (entity TEXT, attr"
	    " TEXT, file_id TEXT, value TEXT, canonical_id INTEGER,"
	    " PRIMARY KEY (entity, attr, file_id, value)) WITHOUT ROWID",
	    diag) != CC_OK)
		return CC_EDB;
	es = schema_entities(&ne);
	run_prefetch_join(r);		/* a previous call's */
	if ((done.v = calloc(ne + 1, sizeof(*done.v))) == NULL ||
	    (pf = malloc(sizeof(*pf))) == NULL) {
		free(done.v);
		return CC_ENOMEM;
	}
	err = prefetch_start(pf, r, es, ne, diag);
	for (i = 0; i < ne && err == CC_OK; i++) {
		if (es[i].is_fact)
			continue;
		if (run_tick(r, "reconcile", (long long)i, (long long)ne))
			err = CC_ECONFLICT;
		else if ((err = resolve_entity(r, &es[i], &done.v[done.n],
		    diag)) == CC_OK)
			done.n++;
	}
	prefetch_values(pf);
	for (i = 0; i < ne && err == CC_OK; i++) {
		/* an entity's references read in one scan when it has
		 * several (the sales lines' customers and products: one
		 * scan of 1,026,766 lines instead of two), on the thread
		 * when it ran */
		const char *refs[MAX_KEYS];
		struct refvalues *pre = NULL;
		size_t npre = 0;
		int nref = entity_refs(&es[i], refs);
		if (nref > 1 && !prefetch_take(pf, i, &pre, &npre) &&
		    (err = reconcile_values_all(r->db, es[i].name, refs, nref,
		    &pre, &npre)) != CC_OK) {
			if (err == CC_EDB)
				sqlerr(r, diag);
			else
				cc_diag_set(diag, err, "memory",
				    "reconcile: out of memory");
			break;
		}
		for (k = 0; k < es[i].nattrs && err == CC_OK; k++)
			if (es[i].attrs[k].role == SCHEMA_REFERENCE)
				err = resolve_reference(r, &es[i],
				    &es[i].attrs[k], &done, nref > 1 ? pre :
				    NULL, npre, diag);
		reconcile_values_free(pre, npre);
	}
	/* the thread goes on with the lines' runs: joined by the load
	 * (run_prefetch_join()), or at the run's end */
	prefetch_values_free(pf);
	if (pf->started)
		r->prefetch = pf;
	else
		prefetch_end(r, pf);
	for (i = 0; i < done.n; i++)
		ent_free(&done.v[i]);
	free(done.v);
	if (err == CC_OK)
		run_tick(r, "reconcile", (long long)ne, (long long)ne);
	return err;
}
