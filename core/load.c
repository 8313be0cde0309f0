/*
 * load.c - the load phase of a run (concord/pipeline.h): dimensions from
 * the reconciled staging rows, then dim_date and fact_sales.
 *
 * Survivorship (golden record): a later export of the same source (a file
 * with the same columns, uploaded later) supersedes the earlier one's
 * records.  The other records of a cluster are ranked most
 * recent first (the later of updated_at and created_date; undated records
 * last), then most complete (non-null attributes), then latest staged
 * (the later upload); each attribute takes the first non-null value in
 * that order, so "the most recent complete record wins, attribute by
 * attribute".
 *
 * Slowly changing dimensions, type 2 (Kimball): an entity whose sources
 * carry effective dates (a product's start and end) gets one version per
 * distinct start date; the end of a version is its source end date when
 * that is valid, else the day before the next version starts (an end
 * before the start is an impossible value: replaced and reported).  An
 * entity without effective dates keeps history across runs: when its
 * golden record changes, the previous version ends the day before the
 * run and a new one starts on the run's date.  Facts join the version
 * valid on their date: the earliest version not ended by that date, so a
 * date before a member's first version joins that first version (its
 * initial row stands for the history before it), and a fact without any
 * date joins the current version.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "concord/db.h"
#include "concord/model.h"
#include "concord/schema.h"
#include "pipeline_int.h"

#define MAXA	32	/* attributes of an entity */

/* One staged record of a cluster, as text. */
struct rec {
	char		*v[MAXA];	/* attribute values (NULL = null) */
	char		*recdate;	/* the later record date, or NULL */
	char		*from;		/* effective from, or NULL */
	char		*to;		/* effective to, or NULL */
	int		 filled;	/* non-null attributes */
	long long	 rowid;
	char		*file;
	long long	 row;
};

struct dimspec {
	const char	*entity;
	const char	*table;
	const char	*sk;		/* surrogate key column */
};

static const struct dimspec dims[] = {
	{ "product_category", "dim_product_category", "category_sk" },
	{ "customer", "dim_customer", "customer_sk" },
	{ "product", "dim_product", "product_sk" },
};

static cc_err
sqlerr(struct run *r, struct cc_diag *diag)
{
	return cc_diag_set(diag, CC_EDB, "sqlite", "%s", sqlite3_errmsg(r->db));
}

static void
rec_free(struct rec *c, int na)
{
	int i;

	for (i = 0; i < na; i++)
		free(c->v[i]);
	free(c->recdate);
	free(c->from);
	free(c->to);
	free(c->file);
}

static char *
dup_col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t != NULL ? strdup((const char *)t) : NULL;
}

/* Rank: most recent record date first, then most complete, then the
 * later staged. */
static int
rec_cmp(const void *x, const void *y)
{
	const struct rec *a = x, *b = y;
	int c;

	if (a->recdate != NULL || b->recdate != NULL) {
		if (a->recdate == NULL)
			return 1;
		if (b->recdate == NULL)
			return -1;
		if ((c = strcmp(b->recdate, a->recdate)) != 0)
			return c;
	}
	if (a->filled != b->filled)
		return b->filled - a->filled;
	return a->rowid < b->rowid ? 1 : a->rowid > b->rowid ? -1 : 0;
}

/* The date before d ("YYYY-MM-DD"), into out (11 bytes). */
static void
day_before(const char *d, char *out)
{
	struct tm tm;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(d, "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) != 3) {
		snprintf(out, 11, "%s", d);
		return;
	}
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	tm.tm_mday -= 1;
	tm.tm_hour = 12;
	t = timegm(&tm);
	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/* A file's place: its columns' fingerprint and its upload order. */
struct fileinfo {
	char		*id;
	char		*fp;
	long long	 seq;
};

struct builder {
	struct run			*r;
	struct fileinfo			*files;
	int				 nfiles;
	const struct schema_entity	*e;
	const struct dimspec		*spec;
	const char			*attrs[MAXA];	/* dim columns = attrs */
	int				 na;
	int				 from_i, to_i;	/* effective attrs */
	int				 dated;		/* any effective dates */
	sqlite3_stmt			*ins;
	sqlite3_stmt			*old;		/* previous versions */
	sqlite3_stmt			*cat;		/* category reference */
	long long			 versions, members;
};

static const struct fileinfo *
file_info(const struct builder *b, const char *id)
{
	int i;

	for (i = 0; i < b->nfiles; i++)
		if (!strcmp(b->files[i].id, id))
			return &b->files[i];
	return NULL;
}

/*
 * A later export of the same source (a file with the same columns,
 * uploaded later) supersedes the earlier one: the earlier file's records
 * of this entity leave the cluster.  Returns the new count.
 */
static int
drop_superseded(const struct builder *b, struct rec *recs, int n)
{
	const struct fileinfo *fi, *fj;
	int i, j, k = 0, gone;
	char *drop;

	/* decide for every record first, then free and compact: a record
	 * compared later must not have been freed already */
	if (n <= 1 || (drop = calloc((size_t)n, 1)) == NULL)
		return n;
	for (i = 0; i < n; i++) {
		gone = 0;
		fi = file_info(b, recs[i].file);
		for (j = 0; j < n && !gone && fi != NULL; j++) {
			fj = file_info(b, recs[j].file);
			gone = fj != NULL && fj->seq > fi->seq && fi->fp != NULL &&
			    fj->fp != NULL && !strcmp(fi->fp, fj->fp);
		}
		drop[i] = (char)gone;
	}
	for (i = 0; i < n; i++) {
		if (drop[i]) {
			rec_free(&recs[i], b->na);
			continue;
		}
		recs[k++] = recs[i];
	}
	free(drop);
	return k;
}

static cc_err
load_fileinfo(struct builder *b)
{
	sqlite3_stmt *st;
	int cap = 0;

	if (sqlite3_prepare_v2(b->r->ws->db, "SELECT id, header_fingerprint,"
	    " seq FROM files", -1, &st, NULL) != SQLITE_OK)
		return CC_EDB;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (b->nfiles == cap) {
			cap = cap ? cap * 2 : 16;
			b->files = realloc(b->files, (size_t)cap * sizeof(*b->files));
			if (b->files == NULL) {
				sqlite3_finalize(st);
				return CC_ENOMEM;
			}
		}
		b->files[b->nfiles].id = dup_col(st, 0);
		b->files[b->nfiles].fp = dup_col(st, 1);
		b->files[b->nfiles++].seq = sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	return CC_OK;
}

/* The golden values of recs[0..n) (already ranked) into out[]. */
static void
golden(const struct builder *b, struct rec *recs, int n, const char **out)
{
	int a, i;

	for (a = 0; a < b->na; a++) {
		out[a] = NULL;
		for (i = 0; i < n && out[a] == NULL; i++)
			out[a] = recs[i].v[a];
	}
}

/* 1 if s is made of characters JSON never escapes (RFC 8259, 7) and
 * is valid UTF-8 on its own: letters, digits, '-', '_', '.'. */
static int
json_plain(const char *s)
{
	if (s == NULL)
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
		    *s == '.'))
			return 0;
	return 1;
}

/* "sources": the records' lineage as a JSON array, as json_dumps()
 * (JSON_COMPACT) writes it; written directly when every file id is
 * plain (file ids are hex), else through Jansson. */
static char *
lineage(struct rec *recs, int n)
{
	json_t *arr;
	size_t len = 3, off = 0;
	char *s;
	int i, k;

	for (i = 0; i < n && json_plain(recs[i].file); i++)
		len += strlen(recs[i].file) + 48;	/* ,{"file_id":"","row":int64} */
	if (i == n && (s = malloc(len)) != NULL) {
		s[off++] = '[';
		for (i = 0; i < n; i++) {
			k = snprintf(s + off, len - off, "%s{\"file_id\":\"%s\","
			    "\"row\":%lld}", i ? "," : "", recs[i].file,
			    recs[i].row);
			off += (size_t)k;
		}
		s[off++] = ']';
		s[off] = '\0';
		return s;
	}
	arr = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:s, s:I}", "file_id",
		    recs[i].file, "row", (json_int_t)recs[i].row));
	s = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	return s;
}

/* The category canonical id of a product version, or 0. */
static long long
category_of(struct builder *b, struct rec *recs, int n)
{
	int i, a, cat_i = -1, key_i = -1;

	if (b->cat == NULL)
		return 0;
	for (a = 0; a < b->na; a++) {
		if (!strcmp(b->attrs[a], "category_id"))
			cat_i = a;
		if (!strcmp(b->attrs[a], "product_id"))
			key_i = a;
	}
	for (i = 0; i < n; i++) {
		const char *v = cat_i >= 0 && recs[i].v[cat_i] != NULL ?
		    recs[i].v[cat_i] : key_i >= 0 ? recs[i].v[key_i] : NULL;
		if (v == NULL)
			continue;
		sqlite3_reset(b->cat);
		sqlite3_bind_text(b->cat, 1, recs[i].file, -1, SQLITE_STATIC);
		sqlite3_bind_text(b->cat, 2, v, -1, SQLITE_STATIC);
		if (sqlite3_step(b->cat) == SQLITE_ROW)
			return sqlite3_column_int64(b->cat, 0);
	}
	return 0;
}

/* Inserts one version: canonical id, natural key, attrs, validity. */
static cc_err
put_version(struct builder *b, long long canon, const char *natural,
    const char **vals, const char *from, const char *to, int current,
    int version, const char *sources, long long category)
{
	sqlite3_stmt *st = b->ins;
	int a, i = 1;

	sqlite3_reset(st);
	sqlite3_bind_int64(st, i++, canon);
	if (strcmp(b->e->name, "product_category") != 0)
		sqlite3_bind_text(st, i++, natural, -1, SQLITE_STATIC);
	for (a = 0; a < b->na; a++)
		if (a != b->from_i && a != b->to_i)	/* bound as validity */
			sqlite3_bind_text(st, i++, vals[a], -1, SQLITE_STATIC);
	if (strcmp(b->e->name, "product_category") != 0) {
		sqlite3_bind_text(st, i++, from, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, i++, to, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, i++, current);
		sqlite3_bind_int(st, i++, version);
	}
	sqlite3_bind_text(st, i++, sources, -1, SQLITE_STATIC);
	if (!strcmp(b->e->name, "product")) {
		if (category > 0)
			sqlite3_bind_int64(st, i++, category);
		else
			sqlite3_bind_null(st, i++);
	}
	b->versions++;
	return sqlite3_step(st) == SQLITE_DONE ? CC_OK : CC_EDB;
}

/* Versions from effective dates (products). */
static cc_err
dated_versions(struct builder *b, long long canon, const char *natural,
    struct rec *recs, int n)
{
	const char *vals[MAXA];
	char prev[11], *src;
	int i, j, start, version = 0, undated = 0;
	cc_err err = CC_OK;

	/* recs are sorted by effective-from (NULLs first), rank within */
	for (i = 0; i < n && recs[i].from == NULL; i++)
		undated++;
	for (start = undated; start < n && err == CC_OK; start = j) {
		struct rec *group;
		int m;
		for (j = start; j < n && !strcmp(recs[j].from,
		    recs[start].from); j++)
			;
		/* this version's records, ranked, then the undated ones */
		m = j - start;
		group = calloc((size_t)(m + undated), sizeof(*group));
		if (group == NULL)
			return CC_ENOMEM;
		memcpy(group, recs + start, (size_t)m * sizeof(*group));
		qsort(group, (size_t)m, sizeof(*group), rec_cmp);
		memcpy(group + m, recs, (size_t)undated * sizeof(*group));
		golden(b, group, m + undated, vals);
		{
			const char *to = NULL, *src_to = NULL;
			char next_to[11];
			for (i = 0; i < m; i++)
				if (group[i].to != NULL) {
					src_to = group[i].to;
					break;
				}
			if (j < n) {
				day_before(recs[j].from, next_to);
				/* the source's end if valid and not after the
				 * next start, else the day before it */
				to = src_to != NULL &&
				    strcmp(src_to, recs[start].from) >= 0 &&
				    strcmp(src_to, next_to) <= 0 ? src_to :
				    next_to;
			} else
				to = src_to != NULL &&
				    strcmp(src_to, recs[start].from) >= 0 ?
				    src_to : NULL;
			if (src_to != NULL && strcmp(src_to, recs[start].from) < 0)
				run_count(b->r, "effective_end_before_start", 1);
			snprintf(prev, sizeof(prev), "%s", recs[start].from);
			vals[b->from_i] = prev;
			vals[b->to_i] = to;
			src = lineage(group, m);
			err = put_version(b, canon, natural, vals, prev, to,
			    j >= n, ++version, src, category_of(b, group,
			    m + undated));
			free(src);
		}
		free(group);
	}
	if (version == 0 && undated > 0) {
		qsort(recs, (size_t)n, sizeof(*recs), rec_cmp);
		golden(b, recs, n, vals);
		src = lineage(recs, n);
		err = put_version(b, canon, natural, vals, NULL, NULL, 1, 1, src,
		    category_of(b, recs, n));
		free(src);
	}
	return err;
}

/* 1 if the golden values differ from the previous current version. */
static int
changed(struct builder *b, const char **vals, sqlite3_stmt *old)
{
	int a;

	for (a = 0; a < b->na; a++) {
		const char *o = (const char *)sqlite3_column_text(old, 4 + a);
		if ((o == NULL) != (vals[a] == NULL) ||
		    (o != NULL && strcmp(o, vals[a]) != 0))
			return 1;
	}
	return 0;
}

/* Versions across runs (customers; products without dates). */
static cc_err
run_versions(struct builder *b, long long canon, const char *natural,
    struct rec *recs, int n)
{
	const char *vals[MAXA];
	char yesterday[11], *src;
	int version = 0, rc, had = 0;
	cc_err err = CC_OK;

	qsort(recs, (size_t)n, sizeof(*recs), rec_cmp);
	golden(b, recs, n, vals);
	src = lineage(recs, n);
	if (b->old != NULL) {
		/* copy the previous history; the current one stays current
		 * unless the golden record changed */
		sqlite3_reset(b->old);
		sqlite3_bind_int64(b->old, 1, canon);
		while ((rc = sqlite3_step(b->old)) == SQLITE_ROW) {
			const char *ov[MAXA];
			const char *from = (const char *)
			    sqlite3_column_text(b->old, 0);
			const char *to = (const char *)
			    sqlite3_column_text(b->old, 1);
			int cur = sqlite3_column_int(b->old, 2), a;
			const char *osrc = (const char *)
			    sqlite3_column_text(b->old, 3);
			had = 1;
			version = sqlite3_column_int(b->old, 4 + b->na);
			for (a = 0; a < b->na; a++)
				ov[a] = (const char *)sqlite3_column_text(b->old,
				    4 + a);
			if (cur && changed(b, vals, b->old)) {
				day_before(b->r->today, yesterday);
				err = put_version(b, canon, natural, ov, from,
				    yesterday, 0, version, osrc, 0);
				if (err == CC_OK) {
					err = put_version(b, canon, natural,
					    vals, b->r->today, NULL, 1,
					    version + 1, src,
					    category_of(b, recs, n));
					run_count(b->r, "versions_added", 1);
				}
			} else if (cur)
				err = put_version(b, canon, natural, vals, from,
				    to, 1, version, src, category_of(b, recs, n));
			else
				err = put_version(b, canon, natural, ov, from,
				    to, 0, version, osrc, 0);
			if (err != CC_OK)
				break;
		}
	}
	if (!had && err == CC_OK)
		err = put_version(b, canon, natural, vals, NULL, NULL, 1, 1, src,
		    category_of(b, recs, n));
	free(src);
	return err;
}

/* Builds one dimension from its staging table. */
static cc_err
build_dim(struct run *r, const struct dimspec *spec, struct cc_diag *diag)
{
	const struct schema_entity *e = schema_entity(spec->entity);
	char sql[4096], cols[2048] = "", marks[512] = "", *p;
	struct builder b;
	struct rec *recs = NULL;
	sqlite3_stmt *st = NULL;
	size_t k, cap = 0;
	int n = 0, a, i, rc, rec_a[4], nrec = 0, is_cat;
	long long canon = -1;
	char *natural = NULL;
	cc_err err = CC_OK;

	memset(&b, 0, sizeof(b));
	b.r = r;
	b.e = e;
	b.spec = spec;
	b.from_i = b.to_i = -1;
	is_cat = !strcmp(spec->entity, "product_category");
	if ((err = load_fileinfo(&b)) != CC_OK)
		goto out;
	for (k = 0; k < e->nattrs && b.na < MAXA; k++) {
		const struct schema_attr *at = &e->attrs[k];
		if (at->role == SCHEMA_RECORD_DATE && nrec < 4)
			rec_a[nrec++] = b.na;
		if (at->role == SCHEMA_EFFECTIVE_FROM)
			b.from_i = b.na;
		if (at->role == SCHEMA_EFFECTIVE_TO)
			b.to_i = b.na;
		b.attrs[b.na++] = at->name;
	}
	/* the staging rows, cluster by cluster */
	p = cols;
	for (a = 0; a < b.na; a++)
		p += snprintf(p, 64, "%s\"%s\"", a ? ", " : "", b.attrs[a]);
	snprintf(sql, sizeof(sql), "SELECT _key, rowid, _file_id, _row, %s"
	    " FROM \"stg_%s\" WHERE _key IS NOT NULL ORDER BY"
	    " CAST(_key AS INTEGER), %s rowid", cols, e->name,
	    b.from_i >= 0 ? "valid_from IS NOT NULL, valid_from," : "");
	if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK) {
		err = sqlerr(r, diag);	/* and the files' list freed */
		goto out;
	}
	/* the INSERT: canonical_id, [natural_key,] attrs, [validity,]
	 * sources, [category_sk] */
	p = marks;
	for (a = 0; a < b.na + 8; a++)
		p += snprintf(p, 4, "%s?", a ? "," : "");
	{
		char dcols[2200];
		int nq = 1 + (is_cat ? 0 : 1) + b.na + (is_cat ? 0 : 4) + 1 +
		    (!strcmp(e->name, "product") ? 1 : 0);
		char q[256] = "";
		for (a = 0; a < nq; a++)
			snprintf(q + strlen(q), sizeof(q) - strlen(q), "%s?",
			    a ? "," : "");
		snprintf(dcols, sizeof(dcols), "canonical_id%s, %s%s, sources%s",
		    is_cat ? "" : ", natural_key", cols,
		    is_cat ? "" : ", valid_from, valid_to, is_current, version",
		    !strcmp(e->name, "product") ? ", category_sk" : "");
		/* dim columns without a staging counterpart are filled later */
		if (!strcmp(e->name, "product")) {
			/* "valid_from"/"valid_to" are both attrs and validity:
			 * the attrs' copies are dropped below */
		}
		snprintf(sql, sizeof(sql), "INSERT INTO \"%s\" (%s) VALUES (%s)",
		    spec->table, dcols, q);
	}
	/* products carry valid_from/valid_to as attributes too: insert them
	 * once, as validity */
	if (b.from_i >= 0) {
		char *s;
		char tmp[4096];
		snprintf(tmp, sizeof(tmp), "%s", sql);
		/* remove ', "valid_from", "valid_to"' from the attr list and
		 * two '?' */
		if ((s = strstr(tmp, ", \"valid_from\", \"valid_to\"")) != NULL)
			memmove(s, s + strlen(", \"valid_from\", \"valid_to\""),
			    strlen(s + strlen(", \"valid_from\", \"valid_to\""))
			    + 1);
		if ((s = strstr(tmp, "?,?,")) != NULL)
			memmove(s, s + 4, strlen(s + 4) + 1);
		snprintf(sql, sizeof(sql), "%s", tmp);
	}
	if (sqlite3_prepare_v2(r->db, sql, -1, &b.ins, NULL) != SQLITE_OK) {
		err = sqlerr(r, diag);
		goto out;
	}
	if (r->has_old && !is_cat) {
		snprintf(sql, sizeof(sql), "SELECT valid_from, valid_to,"
		    " is_current, sources, %s, version FROM old.\"%s\" WHERE"
		    " canonical_id = ?1 ORDER BY version", cols, spec->table);
		if (sqlite3_prepare_v2(r->db, sql, -1, &b.old, NULL) !=
		    SQLITE_OK)
			b.old = NULL;	/* an older model without a column */
	}
	if (!strcmp(e->name, "product") &&
	    sqlite3_prepare_v2(r->db, "SELECT canonical_id FROM ref_resolved"
	    " WHERE entity = 'product' AND attr = 'category_id' AND file_id ="
	    " ?1 AND value = ?2", -1, &b.cat, NULL) != SQLITE_OK) {
		err = sqlerr(r, diag);
		goto out;
	}
	for (;;) {
		long long key;
		rc = sqlite3_step(st);
		key = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -2;
		if (key != canon && n > 0)
			n = drop_superseded(&b, recs, n);
		if (key != canon && n > 0) {
			/* a cluster is complete */
			if (is_cat)
				err = run_versions(&b, canon, natural, recs, n);
			else if (b.from_i >= 0 && recs[n - 1].from != NULL)
				err = dated_versions(&b, canon, natural, recs, n);
			else
				err = run_versions(&b, canon, natural, recs, n);
			b.members++;
			for (i = 0; i < n; i++)
				rec_free(&recs[i], b.na);
			n = 0;
			free(natural);
			natural = NULL;
			if (err != CC_OK) {
				sqlerr(r, diag);
				goto out;
			}
		}
		if (rc != SQLITE_ROW)
			break;
		canon = key;
		if ((size_t)n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((recs = realloc(recs, cap * sizeof(*recs))) == NULL) {
				err = CC_ENOMEM;
				goto out;
			}
		}
		memset(&recs[n], 0, sizeof(recs[n]));
		recs[n].rowid = sqlite3_column_int64(st, 1);
		recs[n].file = dup_col(st, 2);
		recs[n].row = sqlite3_column_int64(st, 3);
		for (a = 0; a < b.na; a++) {
			recs[n].v[a] = dup_col(st, 4 + a);
			recs[n].filled += recs[n].v[a] != NULL;
		}
		for (i = 0; i < nrec; i++) {
			const char *d = recs[n].v[rec_a[i]];
			if (d != NULL && (recs[n].recdate == NULL ||
			    strcmp(d, recs[n].recdate) > 0)) {
				free(recs[n].recdate);
				recs[n].recdate = strdup(d);
			}
		}
		if (b.from_i >= 0 && recs[n].v[b.from_i] != NULL)
			recs[n].from = strdup(recs[n].v[b.from_i]);
		if (b.to_i >= 0 && recs[n].v[b.to_i] != NULL)
			recs[n].to = strdup(recs[n].v[b.to_i]);
		if (n == 0) {
			/* the first record (smallest rowid) is the anchor */
			const char *nk = NULL;
			for (a = 0; a < b.na && nk == NULL; a++)
				if (e->attrs[a].role == SCHEMA_NATURAL_KEY ||
				    e->attrs[a].role == SCHEMA_ALTERNATE_KEY)
					nk = recs[n].v[a];
			natural = nk != NULL ? strdup(nk) : NULL;
		}
		n++;
	}
	{
		char name[64];
		snprintf(name, sizeof(name), "%s_versions", spec->table);
		run_count(r, name, b.versions);
	}
out:
	for (i = 0; i < n; i++)
		rec_free(&recs[i], b.na);
	free(recs);
	free(natural);
	sqlite3_finalize(st);
	sqlite3_finalize(b.ins);
	sqlite3_finalize(b.old);
	sqlite3_finalize(b.cat);
	for (i = 0; i < b.nfiles; i++) {
		free(b.files[i].id);
		free(b.files[i].fp);
	}
	free(b.files);
	return err;
}

/* Category names onto products that lack them; locations; dates; facts. */
static const char *const load_sql =
	/* a product's category and subcategory from its category */
	"UPDATE dim_product SET"
	" category = coalesce(category, (SELECT c.category FROM"
	"  dim_product_category c WHERE c.canonical_id = dim_product.category_sk)),"
	" subcategory = coalesce(subcategory, (SELECT c.subcategory FROM"
	"  dim_product_category c WHERE c.canonical_id = dim_product.category_sk)),"
	" category_id = coalesce(category_id, (SELECT c.category_id FROM"
	"  dim_product_category c WHERE c.canonical_id = dim_product.category_sk));"
	/* category_sk holds the category's canonical id until here: turn it
	 * into the category row's surrogate key */
	"UPDATE dim_product SET category_sk = (SELECT c.category_sk FROM"
	" dim_product_category c WHERE c.canonical_id = dim_product.category_sk);"
	/* locations: the places customers live */
	"INSERT INTO dim_location (country, state, city, postal_code, region)"
	" SELECT DISTINCT country, state, city, postal_code, region FROM"
	" dim_customer WHERE coalesce(country, state, city, postal_code, region)"
	" IS NOT NULL;"
	"UPDATE dim_customer SET location_sk = (SELECT l.location_sk FROM"
	" dim_location l WHERE l.country IS dim_customer.country AND l.state IS"
	" dim_customer.state AND l.city IS dim_customer.city AND l.postal_code IS"
	" dim_customer.postal_code AND l.region IS dim_customer.region);";

/* Order lines without a line number (staged by an older version; stage.c
 * numbers them now): numbered in source order. */
static const char *const number_sql =
	"UPDATE stg_order_line SET line_number = n.ln FROM (SELECT rowid AS rid,"
	" row_number() OVER (PARTITION BY _file_id, order_id ORDER BY _row) AS ln"
	" FROM stg_order_line) AS n WHERE stg_order_line.rowid = n.rid AND"
	" stg_order_line.line_number IS NULL;";

/* dim_date: every day from the first to the last date of a fact (?1, ?2:
 * the least and the greatest order, ship or due date of the facts, as
 * min() and max() over them would give, counted by load_lines()). */
static const char *const dim_date_sql =
	"INSERT INTO dim_date (date_key, date, year, quarter, month, month_name,"
	" day, day_of_week, day_name, iso_week, is_weekend)"
	" WITH RECURSIVE span(d) AS (SELECT d FROM (SELECT ?1 AS d) WHERE d IS"
	"  NOT NULL UNION ALL SELECT date(d, '+1 day') FROM span WHERE d < ?2)"
	" SELECT CAST(strftime('%Y%m%d', d) AS INTEGER), d,"
	"  CAST(strftime('%Y', d) AS INTEGER),"
	"  (CAST(strftime('%m', d) AS INTEGER) + 2) / 3,"
	"  CAST(strftime('%m', d) AS INTEGER),"
	"  CASE strftime('%m', d) WHEN '01' THEN 'January' WHEN '02' THEN"
	"   'February' WHEN '03' THEN 'March' WHEN '04' THEN 'April' WHEN '05'"
	"   THEN 'May' WHEN '06' THEN 'June' WHEN '07' THEN 'July' WHEN '08' THEN"
	"   'August' WHEN '09' THEN 'September' WHEN '10' THEN 'October' WHEN"
	"   '11' THEN 'November' ELSE 'December' END,"
	"  CAST(strftime('%d', d) AS INTEGER),"
	"  (CAST(strftime('%w', d) AS INTEGER) + 6) % 7 + 1,"
	"  CASE strftime('%w', d) WHEN '0' THEN 'Sunday' WHEN '1' THEN 'Monday'"
	"   WHEN '2' THEN 'Tuesday' WHEN '3' THEN 'Wednesday' WHEN '4' THEN"
	"   'Thursday' WHEN '5' THEN 'Friday' ELSE 'Saturday' END,"
	"  (CAST(strftime('%j', date(d, '-3 days', 'weekday 4')) AS INTEGER) - 1)"
	"   / 7 + 1,"
	"  strftime('%w', d) IN ('0', '6')"
	" FROM span;";

/* A value as SQLite compares it (datatype3.html, "Sort Order"). */
struct val {
	int		 type;		/* SQLITE_NULL, _INTEGER, _FLOAT, _TEXT,
					   _BLOB */
	int		 len;		/* of s */
	union {
		long long i;		/* SQLITE_INTEGER */
		double	  f;		/* SQLITE_FLOAT */
	};
	const char	*s;		/* text or blob, len bytes */
};

/* x as a val (its text or blob x's: valid while x is). */
static void
val_of_value(sqlite3_value *x, struct val *v)
{
	v->type = sqlite3_value_type(x);
	v->s = NULL;
	v->len = 0;
	switch (v->type) {
	case SQLITE_INTEGER:
		v->i = sqlite3_value_int64(x);
		break;
	case SQLITE_FLOAT:
		v->f = sqlite3_value_double(x);
		break;
	case SQLITE_TEXT:
		v->s = (const char *)sqlite3_value_text(x);
		v->len = sqlite3_value_bytes(x);
		break;
	case SQLITE_BLOB:
		v->s = sqlite3_value_blob(x);
		v->len = sqlite3_value_bytes(x);
		break;
	}
}

/* Column i of st's row as a val (valid until st steps), through the
 * column's value: one sqlite3_column_*() call, which takes the
 * connection's mutex, instead of two or three. */
static void
val_of(sqlite3_stmt *st, int i, struct val *v)
{
	val_of_value(sqlite3_column_value(st, i), v);
}

/* Copies v into *dst, its text or blob into *buf (grown). */
static int
val_keep(struct val *dst, const struct val *v, char **buf, size_t *sz)
{
	*dst = *v;
	if (v->s == NULL)
		return 0;
	if ((size_t)v->len + 1 > *sz) {
		char *nb = realloc(*buf, (size_t)v->len + 64);
		if (nb == NULL)
			return -1;
		*buf = nb;
		*sz = (size_t)v->len + 64;
	}
	memcpy(*buf, v->s, (size_t)v->len);
	dst->s = *buf;
	return 0;
}

/* a < b: -1, a = b: 0, a > b: 1; NULL < numbers < text < blobs, text by
 * memcmp (BINARY collation). */
static int
val_cmp(const struct val *a, const struct val *b)
{
	int ca = a->type == SQLITE_FLOAT ? SQLITE_INTEGER : a->type;
	int cb = b->type == SQLITE_FLOAT ? SQLITE_INTEGER : b->type;
	static const int rank[] = { 0, 1, 1, 2, 3, 0 };
	int c;

	if (ca != cb)
		return rank[ca] < rank[cb] ? -1 : 1;
	switch (ca) {
	case SQLITE_NULL:
		return 0;
	case SQLITE_INTEGER:
		if (a->type == SQLITE_INTEGER && b->type == SQLITE_INTEGER)
			return a->i < b->i ? -1 : a->i > b->i;
		{
			double x = a->type == SQLITE_FLOAT ? a->f : (double)a->i;
			double y = b->type == SQLITE_FLOAT ? b->f : (double)b->i;
			return x < y ? -1 : x > y;
		}
	default:
		c = memcmp(a->s, b->s, (size_t)(a->len < b->len ? a->len :
		    b->len));
		return c != 0 ? (c < 0 ? -1 : 1) : a->len < b->len ? -1 :
		    a->len > b->len;
	}
}

/* The least and the greatest of values, as min() and max() would give
 * them (the first of equal values kept), their text or blob owned. */
struct span {
	struct val	 lo, hi;
	char		*lobuf, *hibuf;
	size_t		 losz, hisz;
	int		 exact;		/* the values are the stored ones */
};

/* Takes v into sp: 0, -1 when out of memory. */
static int
span_add(struct span *sp, const struct val *v)
{
	if (v->type == SQLITE_NULL)
		return 0;
	if ((sp->lo.type == SQLITE_NULL || val_cmp(v, &sp->lo) < 0) &&
	    val_keep(&sp->lo, v, &sp->lobuf, &sp->losz) != 0)
		return -1;
	if ((sp->hi.type == SQLITE_NULL || val_cmp(v, &sp->hi) > 0) &&
	    val_keep(&sp->hi, v, &sp->hibuf, &sp->hisz) != 0)
		return -1;
	return 0;
}

static void
bind_val(sqlite3_stmt *st, int i, const struct val *v)
{
	switch (v->type) {
	case SQLITE_INTEGER:
		sqlite3_bind_int64(st, i, v->i);
		break;
	case SQLITE_FLOAT:
		sqlite3_bind_double(st, i, v->f);
		break;
	case SQLITE_TEXT:
		sqlite3_bind_text(st, i, v->s, v->len, SQLITE_STATIC);
		break;
	case SQLITE_BLOB:
		sqlite3_bind_blob(st, i, v->s, v->len, SQLITE_STATIC);
		break;
	default:
		sqlite3_bind_null(st, i);
	}
}

/* One version of a dimension member, as the facts choose it. */
struct ver {
	long long	 cid;		/* canonical id */
	long long	 sk;
	int		 current;
	struct val	 to;		/* valid_to (its text owned) */
};

/* A dimension's versions, by canonical id, then as a fact picks them:
 * (valid_from IS NOT NULL, valid_from, surrogate key). */
struct vers {
	struct ver	*v;
	size_t		 n;
};

static void
vers_free(struct vers *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		free((char *)d->v[i].to.s);
	free(d->v);
	d->v = NULL;
	d->n = 0;
}

static cc_err
vers_load(struct run *r, const char *table, const char *sk, struct vers *d)
{
	sqlite3_stmt *st;
	char sql[256];
	size_t cap = 0;
	cc_err err = CC_OK;

	snprintf(sql, sizeof(sql), "SELECT canonical_id, %s, is_current,"
	    " valid_to FROM %s ORDER BY canonical_id, valid_from IS NOT NULL,"
	    " valid_from, %s", sk, table, sk);
	if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK)
		return CC_EDB;
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct ver *v;
		if (d->n == cap) {
			cap = cap ? cap * 2 : 256;
			if ((v = realloc(d->v, cap * sizeof(*v))) == NULL) {
				err = CC_ENOMEM;
				break;
			}
			d->v = v;
		}
		v = &d->v[d->n];
		v->cid = sqlite3_column_int64(st, 0);
		v->sk = sqlite3_column_int64(st, 1);
		v->current = sqlite3_column_int(st, 2) != 0;
		val_of(st, 3, &v->to);
		if (v->to.s != NULL) {
			char *t = malloc((size_t)v->to.len + 1);
			if (t == NULL) {
				err = CC_ENOMEM;
				break;
			}
			memcpy(t, v->to.s, (size_t)v->to.len);
			t[v->to.len] = '\0';
			v->to.s = t;
		}
		d->n++;
	}
	sqlite3_finalize(st);
	return err;
}

/*
 * The version a fact of member cid joins (the file's header comment):
 * with a date, the first version (in the dimension's order) not ended
 * by it; else, or when none, the current one.  0: none (*sk unset).
 */
static int
vers_pick(const struct vers *d, long long cid, const struct val *date,
    long long *sk)
{
	size_t lo = 0, hi = d->n, i;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (d->v[mid].cid < cid)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (date->type != SQLITE_NULL)
		for (i = lo; i < d->n && d->v[i].cid == cid; i++)
			if (d->v[i].to.type == SQLITE_NULL ||
			    val_cmp(&d->v[i].to, date) >= 0) {
				*sk = d->v[i].sk;
				return 1;
			}
	for (i = lo; i < d->n && d->v[i].cid == cid; i++)
		if (d->v[i].current) {
			*sk = d->v[i].sk;
			return 1;
		}
	return 0;
}

/* The order lines' columns as load_lines() reads them. */
enum {
	L_ROWID, L_FILE, L_ROW, L_ORDER, L_LINE, L_ODATE, L_SDATE, L_DDATE,
	L_CUST, L_PROD, L_QTY, L_PRICE, L_AMOUNT, L_DISC, L_TAX, L_SHIP,
	L_STATUS, L_PAYST, L_PAYM
};

/* A line's resolved customer or product: a canonical id, or the key of
 * the record inferred from the same source row (as text when it is not
 * an integer), or none. */
struct cid {
	int		 type;		/* SQLITE_NULL, _INTEGER, _TEXT */
	long long	 i;
	char		 s[64];
};

static void
bind_cid(sqlite3_stmt *st, int i, const struct cid *c)
{
	if (c->type == SQLITE_INTEGER)
		sqlite3_bind_int64(st, i, c->i);
	else if (c->type == SQLITE_TEXT)
		sqlite3_bind_text(st, i, c->s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

/*
 * The canonical id of a line's reference: through ref_resolved (refs:
 * "file id\0value" -> canonical id) when the line names it, else the key
 * of the record staged from the same source row (same: its stg_ lookup).
 * Returns -1 when out of memory.
 */
static int
resolve_cid(const struct keymap *refs, sqlite3_stmt *same, sqlite3_stmt *sel,
    const struct val *cols, int col, char **buf, size_t *bufsz,
    struct cid *c)
{
	const char *fid;
	size_t flen, vlen;
	const long long *cid;

	/* the file id and the value as text: the copies when they are
	 * texts, else sel's columns converted (the line not stepped past) */
	if (cols[L_FILE].type == SQLITE_TEXT) {
		fid = cols[L_FILE].s;
		flen = (size_t)cols[L_FILE].len;
	} else {
		fid = (const char *)sqlite3_column_text(sel, L_FILE);
		flen = (size_t)sqlite3_column_bytes(sel, L_FILE);
	}
	c->type = SQLITE_NULL;
	if (cols[col].type != SQLITE_NULL) {
		const char *v;
		if (cols[col].type == SQLITE_TEXT) {
			v = cols[col].s;
			vlen = (size_t)cols[col].len;
		} else {
			v = (const char *)sqlite3_column_text(sel, col);
			vlen = (size_t)sqlite3_column_bytes(sel, col);
		}
		if (flen + vlen + 1 > *bufsz) {
			char *nb = realloc(*buf, flen + vlen + 64);
			if (nb == NULL)
				return -1;
			*buf = nb;
			*bufsz = flen + vlen + 64;
		}
		memcpy(*buf, fid, flen);
		(*buf)[flen] = '\0';
		memcpy(*buf + flen + 1, v, vlen);
		if ((cid = keymap_get(refs, *buf, flen + 1 + vlen)) != NULL) {
			c->type = SQLITE_INTEGER;
			c->i = *cid;
		}
		return 0;
	}
	sqlite3_reset(same);
	bind_val(same, 1, &cols[L_FILE]);
	bind_val(same, 2, &cols[L_ROW]);
	if (sqlite3_step(same) == SQLITE_ROW && sqlite3_column_type(same, 0) !=
	    SQLITE_NULL) {
		const char *k = (const char *)sqlite3_column_text(same, 0);
		char *end;
		/* compared with the dimension's integer canonical_id as
		 * SQLite would: a text that is an integer is that integer */
		c->i = strtoll(k, &end, 10);
		if (*k != '\0' && *end == '\0' && sqlite3_column_type(same, 0) !=
		    SQLITE_FLOAT)
			c->type = SQLITE_INTEGER;
		else {
			c->type = SQLITE_TEXT;
			snprintf(c->s, sizeof(c->s), "%s", k);
		}
	}
	return 0;
}


/*
 * The facts, in one pass over the staged order lines sorted by order id,
 * line number and latest upload first (the order the facts are numbered
 * in): each line resolved to its customer and product (ref_resolved,
 * else the records inferred from the same source row) and to their
 * versions valid on its date (the order date, else ship, else due date;
 * the dimensions' versions held in memory, as large as the dimensions);
 * a line that cannot be loaded is quarantined for its first problem, a
 * line that a later upload holds again is quarantined as superseded, the
 * others become facts.  The price and amount rules are the INSERT's.
 */
#define LINES_COLS \
	"SELECT rowid, _file_id, _row, order_id, line_number, order_date," \
	" ship_date, due_date, customer_id, product_id, quantity, unit_price," \
	" amount, discount, tax, shipping_cost, status, payment_status," \
	" payment_method FROM stg_order_line"
static const char *const lines_sql = LINES_COLS " ORDER BY order_id,"
	" line_number, rowid DESC";
static const char *const lines_run_sql = LINES_COLS " WHERE rowid BETWEEN"
	" ?1 AND ?2 ORDER BY rowid";

/*
 * The staged lines in lines_sql's order without its sort when they are
 * already in sorted runs (a file of orders is mostly in order; the CRM's
 * 60,406 lines are one run per file; the sort was about 55 % of reading
 * them, 2.06 s of 1,026,766 lines against 0.72 s for a scan): a scan of
 * (order_id, line_number) in rowid order cuts the table into maximal
 * runs of strictly increasing keys, and the runs are merged, each read
 * by its own rowid range.  Equal keys are in different runs, the one of
 * the larger rowid first (rowid DESC).  The keys compare as ORDER BY
 * does (val_cmp(): NULL, integers, text by memcmp, the columns having no
 * collation); a REAL or BLOB key, or more than max runs, and the lines
 * are read through lines_sql.
 */
struct lrun {
	sqlite3_stmt	*st;		/* at its current row */
	long long	 lo, hi;	/* its rowids */
	struct val	 k[2];		/* that row's order_id, line_number
					   (valid until st steps) */
};

struct lines {
	sqlite3_stmt	*one;		/* lines_sql, or NULL: runs */
	struct lrun	*runs;
	size_t		 n;
	size_t		*heap;		/* run indexes, the next line first */
	size_t		 nheap;
	int		 started;
	int		 done;		/* one: stepped to its end */
};

/* 1 when run a's current line comes before run b's. */
static int
lrun_before(const struct lines *L, size_t a, size_t b)
{
	const struct lrun *x = &L->runs[a], *y = &L->runs[b];
	int c;

	if ((c = val_cmp(&x->k[0], &y->k[0])) == 0)
		c = val_cmp(&x->k[1], &y->k[1]);
	/* equal keys: the later run (larger rowids) first */
	return c != 0 ? c < 0 : a > b;
}

static void
lheap_down(struct lines *L, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i, t;
		if (l < L->nheap && lrun_before(L, L->heap[l], L->heap[m]))
			m = l;
		if (r < L->nheap && lrun_before(L, L->heap[r], L->heap[m]))
			m = r;
		if (m == i)
			return;
		t = L->heap[i];
		L->heap[i] = L->heap[m];
		L->heap[m] = t;
		i = m;
	}
}

/* Steps run i; on SQLITE_ROW its keys are read. */
static int
lrun_step(struct lrun *run)
{
	int rc;

	if ((rc = sqlite3_step(run->st)) == SQLITE_ROW) {
		val_of(run->st, L_ORDER, &run->k[0]);
		val_of(run->st, L_LINE, &run->k[1]);
	}
	return rc;
}

/* A key column's value the runs can be cut by: NULL, INTEGER or TEXT. */
static int
key_mergeable(sqlite3_stmt *st, int i)
{
	int t = sqlite3_column_type(st, i);

	return t == SQLITE_NULL || t == SQLITE_INTEGER || t == SQLITE_TEXT;
}

cc_err
lines_plan(sqlite3 *db, size_t max_runs, struct lines_plan *out)
{
	struct val k[2], prev[2];
	char *buf[2] = { NULL, NULL };
	size_t sz[2] = { 0, 0 }, cap = 0;
	sqlite3_stmt *scan = NULL;
	long long rowid = 0;
	int rc = SQLITE_DONE, merge = max_runs > 0, first = 1;
	cc_err err = CC_OK;

	memset(out, 0, sizeof(*out));
	if (merge && sqlite3_prepare_v2(db, "SELECT rowid, order_id,"
	    " line_number FROM stg_order_line ORDER BY rowid", -1, &scan,
	    NULL) != SQLITE_OK)
		return CC_EDB;
	while (merge && (rc = sqlite3_step(scan)) == SQLITE_ROW) {
		if (!key_mergeable(scan, 1) || !key_mergeable(scan, 2)) {
			merge = 0;
			break;
		}
		rowid = sqlite3_column_int64(scan, 0);
		val_of(scan, 1, &k[0]);
		val_of(scan, 2, &k[1]);
		if (first || val_cmp(&prev[0], &k[0]) > 0 ||
		    (val_cmp(&prev[0], &k[0]) == 0 &&
		    val_cmp(&prev[1], &k[1]) >= 0)) {
			/* a new run */
			if (out->n == max_runs) {
				merge = 0;
				break;
			}
			if (out->n == cap) {
				struct lines_range *nr;
				cap = cap ? cap * 2 : 8;
				if ((nr = realloc(out->runs, cap *
				    sizeof(*nr))) == NULL) {
					err = CC_ENOMEM;
					goto out;
				}
				out->runs = nr;
			}
			out->runs[out->n].lo = rowid;
			out->n++;
		}
		out->runs[out->n - 1].hi = rowid;
		first = 0;
		if (val_keep(&prev[0], &k[0], &buf[0], &sz[0]) != 0 ||
		    val_keep(&prev[1], &k[1], &buf[1], &sz[1]) != 0) {
			err = CC_ENOMEM;
			goto out;
		}
	}
	if (merge && rc != SQLITE_DONE)
		err = CC_EDB;
out:
	sqlite3_finalize(scan);
	free(buf[0]);
	free(buf[1]);
	if (err != CC_OK || !merge || out->n == 0) {
		free(out->runs);
		out->runs = NULL;
		out->n = 0;
	}
	out->ok = err == CC_OK;
	return err;
}

void
lines_plan_free(struct lines_plan *p)
{
	if (p == NULL)
		return;
	free(p->runs);
	memset(p, 0, sizeof(*p));
}

cc_err
lines_open_planned(sqlite3 *db, const struct lines_plan *p,
    struct lines **out)
{
	struct lines *L;
	cc_err err = CC_OK;
	size_t i;

	*out = NULL;
	if ((L = calloc(1, sizeof(*L))) == NULL)
		return CC_ENOMEM;
	if (p->n == 0) {
		if (sqlite3_prepare_v2(db, lines_sql, -1, &L->one, NULL) !=
		    SQLITE_OK)
			err = CC_EDB;
		goto out;
	}
	if ((L->runs = calloc(p->n, sizeof(*L->runs))) == NULL ||
	    (L->heap = malloc(p->n * sizeof(*L->heap))) == NULL) {
		err = CC_ENOMEM;
		goto out;
	}
	L->n = p->n;
	for (i = 0; i < L->n && err == CC_OK; i++) {
		L->runs[i].lo = p->runs[i].lo;
		L->runs[i].hi = p->runs[i].hi;
		if (sqlite3_prepare_v2(db, lines_run_sql, -1, &L->runs[i].st,
		    NULL) != SQLITE_OK) {
			err = CC_EDB;
			break;
		}
		sqlite3_bind_int64(L->runs[i].st, 1, L->runs[i].lo);
		sqlite3_bind_int64(L->runs[i].st, 2, L->runs[i].hi);
	}
out:
	if (err != CC_OK)
		lines_close(L);
	else
		*out = L;
	return err;
}

cc_err
lines_open(sqlite3 *db, size_t max_runs, struct lines **out)
{
	struct lines_plan p;
	cc_err err;

	*out = NULL;
	if ((err = lines_plan(db, max_runs, &p)) != CC_OK)
		return err;
	err = lines_open_planned(db, &p, out);
	lines_plan_free(&p);
	return err;
}

sqlite3_stmt *
lines_stmt(const struct lines *L)
{
	return L->one != NULL ? L->one : L->n > 0 ? L->runs[0].st : NULL;
}

int
lines_next(struct lines *L, sqlite3_stmt **st)
{
	size_t i;
	int rc;

	*st = NULL;
	if (L->one != NULL) {
		/* (a statement stepped past its end would start again) */
		if (L->done)
			return SQLITE_DONE;
		if ((rc = sqlite3_step(L->one)) == SQLITE_ROW)
			*st = L->one;
		else
			L->done = 1;
		return rc;
	}
	if (!L->started) {
		/* every run's first line, then the heap */
		L->started = 1;
		for (i = 0; i < L->n; i++) {
			if ((rc = lrun_step(&L->runs[i])) == SQLITE_ROW)
				L->heap[L->nheap++] = i;
			else if (rc != SQLITE_DONE)
				return rc;
		}
		for (i = L->nheap / 2; i-- > 0; )
			lheap_down(L, i);
	} else if (L->nheap > 0) {
		/* the line given last is done with: its run moves on */
		i = L->heap[0];
		if ((rc = lrun_step(&L->runs[i])) != SQLITE_ROW) {
			if (rc != SQLITE_DONE)
				return rc;
			L->heap[0] = L->heap[--L->nheap];
		}
		if (L->nheap > 0)
			lheap_down(L, 0);
	}
	if (L->nheap == 0)
		return SQLITE_DONE;
	*st = L->runs[L->heap[0]].st;
	return SQLITE_ROW;
}

size_t
lines_runs(const struct lines *L)
{
	return L->n;
}

void
lines_close(struct lines *L)
{
	size_t i;

	if (L == NULL)
		return;
	sqlite3_finalize(L->one);
	for (i = 0; i < L->n; i++)
		sqlite3_finalize(L->runs[i].st);
	free(L->runs);
	free(L->heap);
	free(L);
}

/* The parts of the fact INSERT's price and amount rules: the price
 * derived from amount / quantity (else ?11), the amount derived from
 * quantity x price (else ?12), the product version's list price (bound
 * by the caller: list_bind()). */
#define LOAD_PRICE0	"CASE WHEN (?11 IS NULL OR ?11 <= 0) AND ?12 IS NOT" \
	" NULL AND ?10 > 0 THEN (?12 * 2 + ?10) / (?10 * 2) ELSE ?11 END"
#define LOAD_AMOUNT0	"CASE WHEN (?12 IS NULL OR ?12 <= 0) AND ?10 IS NOT" \
	" NULL AND ?11 > 0 THEN ?10 * abs(?11) ELSE ?12 END"
#define LOAD_LIST	"?21"

/*
 * The fact INSERT (pipeline_int.h): the price and amount rules of the
 * INSERT and of the two UPDATEs that followed it (a line without a price
 * takes its product version's list price, then a missing amount is
 * quantity x price; both mark amount_derived), so that no UPDATE scans
 * the facts after them.
 */
const char *const load_fact_sql =
	"INSERT INTO fact_sales (order_id, line_number, date_key, order_date,"
	" ship_date, due_date, customer_sk, product_sk, customer_canonical_id,"
	" product_canonical_id, quantity, unit_price, amount, discount, tax,"
	" shipping_cost, status, payment_status, payment_method, amount_derived,"
	" amount_consistent, _file_id, _row) VALUES (?1, ?2,"
	" CAST(replace(?3, '-', '') AS INTEGER), ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
	" ?10,"
	/* price: derived from amount / quantity when missing or not positive
	 * (units of 10^-4, rounded half away from zero); else, when missing,
	 * the product version's list price */
	" coalesce(" LOAD_PRICE0 ", " LOAD_LIST "),"
	/* amount: derived from quantity x price when missing or not positive;
	 * else, when missing, quantity x the price above (which is ?11 or the
	 * list price then: the derived price needs an amount).  With an
	 * amount (?12) the first rule's result is never NULL. */
	" CASE WHEN ?12 IS NOT NULL THEN " LOAD_AMOUNT0 " WHEN " LOAD_AMOUNT0
	  " IS NULL AND ?10 IS NOT NULL AND coalesce(" LOAD_PRICE0 ", "
	  LOAD_LIST ") IS NOT NULL THEN ?10 * coalesce(" LOAD_PRICE0 ", "
	  LOAD_LIST ") ELSE " LOAD_AMOUNT0 " END,"
	" ?13, ?14, ?15, ?16, ?17, ?18,"
	/* amount_derived: by the first rules, or by the list price's (which
	 * cannot apply when ?11 > 0 and ?12 is there: neither result is NULL
	 * then) */
	" CASE WHEN (?11 > 0 AND ?12 IS NOT NULL) IS NOT TRUE AND ("
	  LOAD_PRICE0 " IS NULL AND " LOAD_LIST " IS NOT NULL OR "
	  LOAD_AMOUNT0 " IS NULL"
	  " AND ?10 IS NOT NULL AND coalesce(" LOAD_PRICE0 ", " LOAD_LIST ")"
	  " IS NOT NULL) THEN 1 ELSE"
	"  (?11 IS NULL OR ?11 <= 0) AND ?12 IS NOT NULL AND ?10 > 0 OR"
	"  (?12 IS NULL OR ?12 <= 0) AND ?10 IS NOT NULL AND ?11 > 0 END,"
	" CASE WHEN ?12 > 0 AND ?10 IS NOT NULL AND ?11 > 0 THEN"
	"  ?12 = ?10 * ?11 END,"
	" ?19, ?20)";

const char *const load_fact_plain_sql =
	"INSERT INTO fact_sales (order_id, line_number, date_key, order_date,"
	" ship_date, due_date, customer_sk, product_sk, customer_canonical_id,"
	" product_canonical_id, quantity, unit_price, amount, discount, tax,"
	" shipping_cost, status, payment_status, payment_method, amount_derived,"
	" amount_consistent, _file_id, _row) VALUES (?1, ?2,"
	" coalesce(?23, CAST(replace(?3, '-', '') AS INTEGER)), ?3, ?4, ?5,"
	" ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?21,"
	" ?22, ?19, ?20)";

int
load_date_key(int type, const char *s, int len, long long *key)
{
	const unsigned char *p = (const unsigned char *)s;
	static const int digit[] = { 0, 1, 2, 3, 5, 6, 8, 9 };
	long long k = 0;
	int i;

	if (type != SQLITE_TEXT || s == NULL || len != 10 || p[4] != '-' ||
	    p[7] != '-')
		return 0;
	for (i = 0; i < 8; i++) {
		if (p[digit[i]] < '0' || p[digit[i]] > '9')
			return 0;
		k = k * 10 + (p[digit[i]] - '0');
	}
	*key = k;
	return 1;
}

/* SQL's three-valued logic: 1 true, 0 false, -1 NULL. */
static int
t_and(int x, int y)
{
	return x == 0 || y == 0 ? 0 : x < 0 || y < 0 ? -1 : 1;
}

static int
t_or(int x, int y)
{
	return x == 1 || y == 1 ? 1 : x < 0 || y < 0 ? -1 : 0;
}

/* v > 0, v <= 0 (NULL: -1); v IS NULL, v IS NOT NULL (never NULL). */
#define T_GT0(v)	((v)->type == SQLITE_NULL ? -1 : (v)->i > 0)
#define T_LE0(v)	((v)->type == SQLITE_NULL ? -1 : (v)->i <= 0)
#define T_NULL(v)	((v)->type == SQLITE_NULL)
#define T_SET(v)	((v)->type != SQLITE_NULL)

int
load_fact_rules(const struct fact_num *q, const struct fact_num *p,
    const struct fact_num *a, const struct fact_num *list,
    struct fact_num *price, struct fact_num *amount,
    struct fact_num *derived, struct fact_num *consistent)
{
	const struct fact_num nul = { SQLITE_NULL, 0 };
	struct fact_num p0, a0, pl;
	long long x, y;
	int c;

	if ((T_SET(q) && q->type != SQLITE_INTEGER) ||
	    (T_SET(p) && p->type != SQLITE_INTEGER) ||
	    (T_SET(a) && a->type != SQLITE_INTEGER) ||
	    (T_SET(list) && list->type != SQLITE_INTEGER))
		return 0;
	/* LOAD_PRICE0: (a * 2 + q) / (q * 2) when the price is missing or
	 * not positive (SQL's integer division truncates, as C's) */
	p0 = *p;
	if (t_and(t_and(t_or(T_NULL(p), T_LE0(p)), T_SET(a)), T_GT0(q)) == 1) {
		if (__builtin_mul_overflow(a->i, 2LL, &x) ||
		    __builtin_add_overflow(x, q->i, &x) ||
		    __builtin_mul_overflow(q->i, 2LL, &y))
			return 0;
		p0.type = SQLITE_INTEGER;
		p0.i = x / y;
	}
	/* LOAD_AMOUNT0: q * abs(p) (p > 0) when the amount is missing or
	 * not positive */
	a0 = *a;
	if (t_and(t_and(t_or(T_NULL(a), T_LE0(a)), T_SET(q)), T_GT0(p)) == 1) {
		if (__builtin_mul_overflow(q->i, p->i, &x))
			return 0;
		a0.type = SQLITE_INTEGER;
		a0.i = x;
	}
	pl = T_SET(&p0) ? p0 : *list;		/* coalesce(price0, list) */
	*price = pl;
	/* the amount: a0 with an amount; else q x the price when a0 is NULL
	 * and both are there */
	if (T_SET(a))
		*amount = a0;
	else if (T_NULL(&a0) && T_SET(q) && T_SET(&pl)) {
		if (__builtin_mul_overflow(q->i, pl.i, &x))
			return 0;
		amount->type = SQLITE_INTEGER;
		amount->i = x;
	} else
		*amount = a0;
	/* amount_derived */
	c = t_and(t_and(T_GT0(p), T_SET(a)) == 1 ? 0 : 1,
	    t_or(t_and(T_NULL(&p0), T_SET(list)), t_and(t_and(T_NULL(&a0),
	    T_SET(q)), T_SET(&pl))));
	if (c == 1) {
		derived->type = SQLITE_INTEGER;
		derived->i = 1;
	} else {
		c = t_or(t_and(t_and(t_or(T_NULL(p), T_LE0(p)), T_SET(a)),
		    T_GT0(q)), t_and(t_and(t_or(T_NULL(a), T_LE0(a)), T_SET(q)),
		    T_GT0(p)));
		*derived = nul;
		if (c >= 0) {
			derived->type = SQLITE_INTEGER;
			derived->i = c;
		}
	}
	/* amount_consistent: a = q x p when all three are positive or set */
	*consistent = nul;
	if (t_and(t_and(T_GT0(a), T_SET(q)), T_GT0(p)) == 1) {
		if (__builtin_mul_overflow(q->i, p->i, &x))
			return 0;
		consistent->type = SQLITE_INTEGER;
		consistent->i = a->i == x;
	}
	return 1;
}

static const char *const quar_ins_sql =
	"INSERT INTO quarantine (run_id, entity, _file_id, _row, reason, detail,"
	" column_name, raw_value, record) VALUES (?1, 'order_line', ?2, ?3,"
	" CASE WHEN ?4 IS NULL THEN 'order_id_missing'"
	"  WHEN ?5 IS NULL AND ?6 IS NULL THEN 'customer_missing'"
	"  WHEN ?5 IS NULL THEN 'customer_unresolved'"
	"  WHEN ?7 IS NULL THEN 'product_missing'"
	"  ELSE 'product_unresolved' END,"
	" CASE WHEN ?4 IS NULL THEN 'the line has no order id'"
	/* the texts as the quarantine has always held them (four spaces
	 * where an older statement's lines broke) */
	"  WHEN ?5 IS NULL AND ?6 IS NULL THEN 'the line"
	"    names no customer, neither by key nor by name or e-mail'"
	"  WHEN ?5 IS NULL THEN 'no customer of any source has this"
	"    key (after key alignment)'"
	"  WHEN ?7 IS NULL THEN 'the line names no product, neither"
	"    by key nor by name'"
	"  ELSE 'no product of any source has this key (after key alignment)'"
	" END,"
	" CASE WHEN ?4 IS NULL THEN 'order_id' WHEN"
	"  ?5 IS NULL THEN 'customer_id' ELSE 'product_id' END,"
	" CASE WHEN ?4 IS NULL THEN NULL WHEN"
	"  ?5 IS NULL THEN ?6 ELSE ?7 END,"
	" json_object('order_id', ?4, 'customer_id', ?6, 'product_id', ?7,"
	"  'order_date', ?8, 'quantity', ?9, 'amount', ?10))";

/* Superseded lines wait in a temporary table: they are quarantined after
 * the lines that cannot be loaded, in the same order. */
static const char *const superseded_sql =
	"INSERT INTO quarantine (run_id, entity, _file_id, _row, reason, detail,"
	" column_name, raw_value, record)"
	" SELECT ?1, 'order_line', f, r, 'superseded', 'a later"
	"  upload holds the same order line', 'order_id', o,"
	"  json_object('order_id', o, 'line_number', n)"
	" FROM temp.superseded ORDER BY rowid";

/* The products' list prices by surrogate key (dim_product.price as it is
 * stored), for the fact INSERT's ?21. */
struct listp {
	struct keymap	 *sk;		/* product_sk -> index + 1 */
	sqlite3_value	**price;
	size_t		  n;
};

static void
list_free(struct listp *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		sqlite3_value_free(l->price[i]);
	free(l->price);
	keymap_free(l->sk);
	memset(l, 0, sizeof(*l));
}

static cc_err
list_load(sqlite3 *db, struct listp *l)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	cc_err err = CC_OK;
	int rc;

	if ((l->sk = keymap_new()) == NULL)
		return CC_ENOMEM;
	if (sqlite3_prepare_v2(db, "SELECT product_sk, price FROM"
	    " dim_product", -1, &st, NULL) != SQLITE_OK)
		return CC_EDB;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		long long sk = sqlite3_column_int64(st, 0), *slot;
		if (l->n == cap) {
			sqlite3_value **np;
			cap = cap ? cap * 2 : 256;
			if ((np = realloc(l->price, cap * sizeof(*np))) ==
			    NULL) {
				err = CC_ENOMEM;
				break;
			}
			l->price = np;
		}
		if ((l->price[l->n] = sqlite3_value_dup(sqlite3_column_value(st,
		    1))) == NULL || (slot = keymap_slot(l->sk, &sk,
		    sizeof(sk))) == NULL) {
			sqlite3_value_free(l->price[l->n]);
			err = CC_ENOMEM;
			break;
		}
		*slot = (long long)++l->n;
	}
	if (err == CC_OK && rc != SQLITE_DONE)
		err = CC_EDB;
	sqlite3_finalize(st);
	return err;
}

/* Product sk's list price, or NULL when it has none. */
static sqlite3_value *
list_value(const struct listp *l, long long sk)
{
	const long long *ix = keymap_get(l->sk, &sk, sizeof(sk));

	return ix != NULL ? l->price[*ix - 1] : NULL;
}

/* Column i of st as an operand of the rules (a REAL, text or blob keeps
 * its type: load_fact_rules() leaves it to the SQL). */
static void
num_of(const struct val *v, struct fact_num *n)
{
	n->type = v->type;
	n->i = v->type == SQLITE_INTEGER ? v->i : 0;
}

static void
bind_num(sqlite3_stmt *st, int i, const struct fact_num *n)
{
	if (n->type == SQLITE_INTEGER)
		sqlite3_bind_int64(st, i, n->i);
	else
		sqlite3_bind_null(st, i);
}

/* What load_lines() counts of the facts it inserts. */
struct load_counts {
	long long	 facts;
	long long	 derived;	/* amount_derived */
	long long	 inconsistent;	/* amount_consistent = 0 */
	long long	 unknown;	/* customer_sk = 0 */
};

/*
 * The pass over the lines is two sides: the reading side (the run's
 * thread) steps through the lines, resolves them and decides what each
 * becomes (a fact, a quarantined or a superseded line: a struct lop),
 * and the writing side inserts them.  With two threads (r->threads not
 * 1 and the model in WAL mode: run_model_share()), the lines are read on
 * a second connection (run_model_reader()) to the committed model, and
 * the writer (struct lwriter) inserts on the run's connection on a
 * thread of its own, a batch at a time, while the next batch is read
 * (the 1M-line load phase 3.1 -> 2.25 s on two cores, the model in WAL
 * mode from here on costing the aggregate phase ~0.2 s of checkpoint:
 * tests/bench/README.md).  Else the run's
 * connection reads and the run's thread writes each batch when it is
 * full, as one pass did before.  Either way the statements, their
 * order and what they are given are the same: only who steps them
 * differs.
 */
#define L_NCOLS		(L_PAYM + 1)
#define LOP_BATCH	1024		/* lines per batch */
#define LOAD_PLAIN_ROWS	32		/* plain facts per INSERT (one
					   statement of many rows costs SQLite
					   less than as many of one) */
#define LOAD_PLAIN_PARAMS 23		/* load_fact_plain_sql's parameters */
#define LOP_ARENA	(256 * 1024)	/* a batch's texts, bytes (grown for
					   one line longer than that) */

enum { LOP_FACT, LOP_QUAR, LOP_SUP };

struct lop {
	int			 kind;
	int			 plain;		/* LOP_FACT: the rules in C */
	struct val		 c[L_NCOLS];	/* the line's columns (texts in
						   the batch's arena) */
	struct cid		 cc, pc;	/* its customer and product */
	struct fact_num		 csk, psk, rp, ra, rd, rk;
	sqlite3_value		*listv;		/* the list price, or NULL */
};

struct lbatch {
	struct lop	*op;		/* [LOP_BATCH] */
	size_t		 n;
	char		*arena;
	size_t		 alen, acap;
};

struct lwriter {
	struct run		*r;
	sqlite3_stmt		*fact, *fplain, *back, *quar, *sup;
	sqlite3_stmt		*fplainb;	/* LOAD_PLAIN_ROWS facts of
						   load_fact_plain_sql in one
						   statement, or NULL */
	struct load_counts	*fc;
	struct lbatch		 b[HANDOFF_SETS];
	int			 cur;		/* the batch being filled */
	struct handoff		 h;		/* errors: CC_EDB, r->db's
						   message */
};

/* A fact's parameters (pipeline_int.h: load_fact_sql, or
 * load_fact_plain_sql when o->plain), numbered from base + 1. */
static void
bind_fact(sqlite3_stmt *st, int base, const struct lop *o)
{
	const struct val *c = o->c;
	int i;

	bind_val(st, base + 1, &c[L_ORDER]);
	bind_val(st, base + 2, &c[L_LINE]);
	for (i = 0; i < 3; i++)		/* order, ship, due date */
		bind_val(st, base + 3 + i, &c[L_ODATE + i]);
	bind_num(st, base + 6, &o->csk);
	bind_num(st, base + 7, &o->psk);
	bind_cid(st, base + 8, &o->cc);
	bind_cid(st, base + 9, &o->pc);
	for (i = 0; i < 9; i++)		/* quantity .. payment method */
		bind_val(st, base + 10 + i, &c[L_QTY + i]);
	bind_val(st, base + 19, &c[L_FILE]);
	bind_val(st, base + 20, &c[L_ROW]);
	if (o->plain) {
		long long dk;
		bind_num(st, base + 11, &o->rp);
		bind_num(st, base + 12, &o->ra);
		bind_num(st, base + 21, &o->rd);
		bind_num(st, base + 22, &o->rk);
		if (load_date_key(c[L_ODATE].type, c[L_ODATE].s,
		    c[L_ODATE].len, &dk))
			sqlite3_bind_int64(st, base + 23, dk);
		else
			sqlite3_bind_null(st, base + 23);
	} else if (o->listv != NULL)
		sqlite3_bind_value(st, base + 21, o->listv);
	else
		sqlite3_bind_null(st, base + 21);
}

/* A fact inserted: the facts' counts (load_counts). */
static void
count_fact(struct load_counts *fc, const struct lop *o)
{
	fc->facts++;
	fc->derived += o->rd.type != SQLITE_NULL && o->rd.i != 0;
	fc->inconsistent += o->rk.type != SQLITE_NULL && o->rk.i == 0;
	fc->unknown += o->csk.type == SQLITE_INTEGER && o->csk.i == 0;
}

/* 1 when the LOAD_PLAIN_ROWS operations of b from k on are all plain
 * facts (the caller checked that there are as many). */
static int
plain_run(const struct lbatch *b, size_t k)
{
	size_t i;

	for (i = 0; i < LOAD_PLAIN_ROWS; i++)
		if (b->op[k + i].kind != LOP_FACT || !b->op[k + i].plain)
			return 0;
	return 1;
}

/*
 * load_fact_plain_sql with rows rows of values: its VALUES tuple
 * repeated, row r's parameters ?N numbered ?N + r * LOAD_PLAIN_PARAMS
 * (new, the caller's to free), or NULL out of memory.
 */
static char *
plain_rows_sql(int rows)
{
	const char *t = strstr(load_fact_plain_sql, " VALUES (") + 8, *p;
	size_t head = (size_t)(t - load_fact_plain_sql), cap, marks = 0;
	char *sql, *o;
	int r;

	/* each row's tuple, its parameters up to 20 digits longer, and
	 * ", " */
	for (p = t; *p != '\0'; p++)
		marks += *p == '?';
	cap = head + (size_t)rows * (strlen(t) + 20 * marks + 2) + 1;
	if ((sql = malloc(cap)) == NULL)
		return NULL;
	memcpy(sql, load_fact_plain_sql, head);
	o = sql + head;
	for (r = 0; r < rows; r++) {
		if (r > 0) {
			*o++ = ',';
			*o++ = ' ';
		}
		for (p = t; *p != '\0';) {
			if (*p == '?') {
				char *end;
				long n = strtol(p + 1, &end, 10);
				o += sprintf(o, "?%ld", n + (long)r *
				    LOAD_PLAIN_PARAMS);
				p = end;
			} else
				*o++ = *p++;
		}
	}
	*o = '\0';
	return sql;
}

/* Does the batch's operations on the run's connection: CC_OK or CC_EDB;
 * the batch is emptied either way (discard: nothing done). */
static cc_err
lbatch_write(struct lwriter *w, struct lbatch *b, int discard)
{
	struct load_counts *fc = w->fc;
	cc_err err = CC_OK;
	size_t k;
	int i;

	for (k = 0; k < b->n && err == CC_OK && !discard; k++) {
		struct lop *o = &b->op[k];
		const struct val *c = o->c;
		sqlite3_stmt *st;
		if (o->kind == LOP_QUAR) {
			st = w->quar;
			sqlite3_reset(st);
			bind_val(st, 2, &c[L_FILE]);
			bind_val(st, 3, &c[L_ROW]);
			bind_val(st, 4, &c[L_ORDER]);
			bind_cid(st, 5, &o->cc);
			bind_val(st, 6, &c[L_CUST]);
			bind_val(st, 7, &c[L_PROD]);
			bind_val(st, 8, &c[L_ODATE]);
			bind_val(st, 9, &c[L_QTY]);
			bind_val(st, 10, &c[L_AMOUNT]);
			if (sqlite3_step(st) != SQLITE_DONE)
				err = CC_EDB;
			continue;
		}
		if (o->kind == LOP_SUP) {
			st = w->sup;
			sqlite3_reset(st);
			bind_val(st, 1, &c[L_FILE]);
			bind_val(st, 2, &c[L_ROW]);
			bind_val(st, 3, &c[L_ORDER]);
			bind_val(st, 4, &c[L_LINE]);
			if (sqlite3_step(st) != SQLITE_DONE)
				err = CC_EDB;
			continue;
		}
		/* plain facts LOAD_PLAIN_ROWS at a time while they come
		 * so, in their order */
		if (o->plain && w->fplainb != NULL && b->n - k >=
		    LOAD_PLAIN_ROWS && plain_run(b, k)) {
			st = w->fplainb;
			sqlite3_reset(st);
			for (i = 0; i < LOAD_PLAIN_ROWS; i++)
				bind_fact(st, i * LOAD_PLAIN_PARAMS,
				    &b->op[k + (size_t)i]);
			if (sqlite3_step(st) != SQLITE_DONE) {
				err = CC_EDB;
				break;
			}
			for (i = 0; i < LOAD_PLAIN_ROWS; i++)
				count_fact(fc, &b->op[k + (size_t)i]);
			k += LOAD_PLAIN_ROWS - 1;
			continue;
		}
		st = o->plain ? w->fplain : w->fact;
		sqlite3_reset(st);
		bind_fact(st, 0, o);
		if (sqlite3_step(st) != SQLITE_DONE) {
			err = CC_EDB;
			break;
		}
		if (!o->plain) {
			sqlite3_reset(w->back);
			sqlite3_bind_int64(w->back, 1,
			    sqlite3_last_insert_rowid(w->r->db));
			if (sqlite3_step(w->back) != SQLITE_ROW) {
				err = CC_EDB;
				break;
			}
			o->rd.type = sqlite3_column_type(w->back, 0);
			o->rd.i = sqlite3_column_int64(w->back, 0);
			o->rk.type = sqlite3_column_type(w->back, 1);
			o->rk.i = sqlite3_column_int64(w->back, 1);
		}
		count_fact(fc, o);
	}
	b->n = 0;
	b->alen = 0;
	return err;
}

static cc_err
lwriter_write(void *arg, int set, int discard)
{
	struct lwriter *w = arg;

	return lbatch_write(w, &w->b[set], discard);
}

/* Hands the batch being filled to the writer (or writes it) and makes
 * the next one current: handoff_post()'s error or CC_OK. */
static cc_err
lwriter_post(struct lwriter *w)
{
	cc_err err = handoff_post(&w->h, w->cur);

	w->cur = (w->cur + 1) % HANDOFF_SETS;
	return err;
}

/* The next operation of the current batch, with room for the line's
 * texts (its columns' values copied from sel): NULL when out of memory;
 * *err the writes' error when handing a full batch failed. */
static struct lop *
lop_next(struct lwriter *w, sqlite3_stmt *sel, cc_err *err)
{
	struct lbatch *b = &w->b[w->cur];
	struct val c[L_NCOLS];
	struct lop *o;
	size_t need = 0;
	int j;

	*err = CC_OK;
	if (b->n == LOP_BATCH) {
		if ((*err = lwriter_post(w)) != CC_OK)
			return NULL;
		b = &w->b[w->cur];
	}
	/* the columns straight into the batch's next operation */
	o = &b->op[b->n];
	for (j = 0; j < L_NCOLS; j++) {
		val_of(sel, j, &o->c[j]);
		need += (size_t)o->c[j].len;
	}
	if (b->n > 0 && b->alen + need > b->acap) {
		/* the texts don't fit: the line goes to the next batch */
		memcpy(c, o->c, sizeof(c));
		if ((*err = lwriter_post(w)) != CC_OK)
			return NULL;
		b = &w->b[w->cur];
		o = &b->op[b->n];
		memcpy(o->c, c, sizeof(c));
	}
	if (need > b->acap) {		/* an empty batch: nothing points
					   into its arena */
		char *na = realloc(b->arena, need);
		if (na == NULL)
			return NULL;
		b->arena = na;
		b->acap = need;
	}
	for (j = 0; j < L_NCOLS; j++)
		if (o->c[j].s != NULL) {
			memcpy(b->arena + b->alen, o->c[j].s,
			    (size_t)o->c[j].len);
			o->c[j].s = b->arena + b->alen;
			b->alen += (size_t)o->c[j].len;
		}
	b->n++;
	return o;
}

static cc_err
load_lines(struct run *r, struct span *dates, struct load_counts *fc,
    struct cc_diag *diag)
{
	sqlite3_stmt *sel = NULL, *samec = NULL, *samep = NULL,
	    *refs_st = NULL, *fin = NULL;
	struct fact_num nq, np, na, nl;
	sqlite3_value *listv;
	struct lines *lines = NULL;
	struct lwriter w;
	struct listp lp = { NULL, NULL, 0 };
	struct keymap *refs[2] = { NULL, NULL };
	struct vers vc = { NULL, 0 }, vp = { NULL, 0 };
	struct val prev_oid, prev_ln, oid, ln, date;
	sqlite3 *rdb = r->db, *two = NULL;	/* the reading connection */
	char *key = NULL, *prev = NULL, *prevln = NULL;
	size_t keysz = 0, prevsz = 0, prevlnsz = 0;
	long long unknown_lines = 0, superseded = 0, sk;
	int rc, first = 1, i, k, werr = 0, ins = 0;	/* werr: r->db's
							   error; ins: the
							   batches' INSERTs */
	cc_err err = CC_OK;

	memset(&w, 0, sizeof(w));
	w.r = r;
	w.fc = fc;
	handoff_start(&w.h, lwriter_write, &w, 0);
	if ((refs[0] = keymap_new()) == NULL ||
	    (refs[1] = keymap_new()) == NULL) {
		err = CC_ENOMEM;
		goto out;
	}
	/* the references the lines name, per file */
	if (sqlite3_prepare_v2(r->db, "SELECT attr = 'product_id', file_id,"
	    " value, canonical_id FROM ref_resolved WHERE entity = 'order_line'"
	    " AND attr IN ('customer_id', 'product_id') AND canonical_id IS NOT"
	    " NULL AND value IS NOT NULL", -1, &refs_st, NULL) != SQLITE_OK) {
		err = CC_EDB;
		goto out;
	}
	while (err == CC_OK && (rc = sqlite3_step(refs_st)) == SQLITE_ROW) {
		size_t fl = (size_t)sqlite3_column_bytes(refs_st, 1);
		size_t vl = (size_t)sqlite3_column_bytes(refs_st, 2);
		long long *slot;
		if (fl + vl + 1 > keysz) {
			free(key);
			keysz = fl + vl + 64;
			if ((key = malloc(keysz)) == NULL) {
				err = CC_ENOMEM;
				break;
			}
		}
		memcpy(key, sqlite3_column_text(refs_st, 1), fl);
		key[fl] = '\0';
		memcpy(key + fl + 1, sqlite3_column_text(refs_st, 2), vl);
		if ((slot = keymap_slot(refs[sqlite3_column_int(refs_st, 0)],
		    key, fl + 1 + vl)) == NULL)
			err = CC_ENOMEM;
		else
			*slot = sqlite3_column_int64(refs_st, 3);
	}
	sqlite3_finalize(refs_st);
	refs_st = NULL;
	if (err != CC_OK)
		goto out;
	if ((err = vers_load(r, "dim_customer", "customer_sk", &vc)) != CC_OK ||
	    (err = vers_load(r, "dim_product", "product_sk", &vp)) != CC_OK ||
	    (err = list_load(r->db, &lp)) != CC_OK)
		goto out;
	/* the writer's statements, on the run's connection */
	if (sqlite3_prepare_v2(r->db, load_fact_sql, -1, &w.fact, NULL) !=
	    SQLITE_OK ||
	    sqlite3_prepare_v2(r->db, load_fact_plain_sql, -1, &w.fplain,
	    NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(r->db, "SELECT amount_derived,"
	    " amount_consistent FROM fact_sales WHERE rowid = ?1", -1, &w.back,
	    NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(r->db, quar_ins_sql, -1, &w.quar, NULL) !=
	    SQLITE_OK ||
	    run_exec(r, "CREATE TEMP TABLE IF NOT EXISTS superseded (f, r, o,"
	    " n); DELETE FROM temp.superseded", diag) != CC_OK ||
	    sqlite3_prepare_v2(r->db, "INSERT INTO temp.superseded VALUES (?1,"
	    " ?2, ?3, ?4)", -1, &w.sup, NULL) != SQLITE_OK) {
		err = CC_EDB;
		goto out;
	}
	sqlite3_bind_text(w.quar, 1, r->run_id, -1, SQLITE_STATIC);
	/* the plain facts in statements of many rows (when the parameters'
	 * limit allows; else one by one) */
	if (sqlite3_limit(r->db, SQLITE_LIMIT_VARIABLE_NUMBER, -1) >=
	    LOAD_PLAIN_ROWS * LOAD_PLAIN_PARAMS) {
		char *sql = plain_rows_sql(LOAD_PLAIN_ROWS);
		if (sql == NULL) {
			err = CC_ENOMEM;
			goto out;
		}
		if (sqlite3_prepare_v2(r->db, sql, -1, &w.fplainb, NULL) !=
		    SQLITE_OK)
			w.fplainb = NULL;
		free(sql);
	}
	for (k = 0; k < HANDOFF_SETS; k++) {
		w.b[k].acap = LOP_ARENA;
		if ((w.b[k].op = malloc(LOP_BATCH * sizeof(*w.b[k].op))) ==
		    NULL || (w.b[k].arena = malloc(LOP_ARENA)) == NULL) {
			err = CC_ENOMEM;
			goto out;
		}
	}
	/* two threads: the lines read from the committed model on a
	 * connection of their own, the writer on the run's */
	if (r->threads != 1) {
		if ((err = run_model_share(r, diag)) != CC_OK)
			goto out;
		if (r->model_wal && run_model_reader(r, &two) == CC_OK) {
			handoff_start(&w.h, lwriter_write, &w, 1);
			if (w.h.on)
				rdb = two;
		}
	}
	/* the runs as the reconcile phase's thread found them, when it
	 * did and the lines have not changed since (lines_plan()) */
	if ((err = r->lines_plan != NULL && r->lines_plan->ok ?
	    lines_open_planned(rdb, r->lines_plan, &lines) :
	    lines_open(rdb, LINES_RUNS_MAX, &lines)) != CC_OK)
		goto out;
	sel = lines_stmt(lines);
	if (sqlite3_prepare_v2(rdb, "SELECT _key FROM stg_customer WHERE"
	    " _file_id = ?1 AND _row = ?2 AND _key IS NOT NULL", -1, &samec,
	    NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(rdb, "SELECT _key FROM stg_product WHERE"
	    " _file_id = ?1 AND _row = ?2 AND _key IS NOT NULL", -1, &samep,
	    NULL) != SQLITE_OK) {
		err = CC_EDB;
		goto out;
	}
	dates->exact = 1;
	for (i = L_ODATE; i <= L_DDATE; i++)
		if (sqlite3_column_decltype(sel, i) == NULL ||
		    sqlite3_stricmp(sqlite3_column_decltype(sel, i), "DATE") != 0)
			dates->exact = 0;
	memset(&prev_oid, 0, sizeof(prev_oid));
	memset(&prev_ln, 0, sizeof(prev_ln));
	while ((rc = lines_next(lines, &sel)) == SQLITE_ROW) {
		struct cid cc, pc;
		struct lop *o;
		int latest, bad;
		/* the line's columns copied: what it becomes is decided on
		 * the copies */
		if ((o = lop_next(&w, sel, &err)) == NULL) {
			if (err == CC_OK)
				err = CC_ENOMEM;
			else
				werr = ins = 1;
			break;
		}
		oid = o->c[L_ORDER];
		ln = o->c[L_LINE];
		/* the first of its (order id, line number) is the latest */
		latest = first || val_cmp(&oid, &prev_oid) != 0 ||
		    val_cmp(&ln, &prev_ln) != 0;
		first = 0;
		if (latest && (val_keep(&prev_oid, &oid, &prev, &prevsz) != 0 ||
		    val_keep(&prev_ln, &ln, &prevln, &prevlnsz) != 0)) {
			err = CC_ENOMEM;
			break;
		}
		if (resolve_cid(refs[0], samec, sel, o->c, L_CUST, &key,
		    &keysz, &cc) != 0 || resolve_cid(refs[1], samep, sel,
		    o->c, L_PROD, &key, &keysz, &pc) != 0) {
			err = CC_ENOMEM;
			break;
		}
		bad = oid.type == SQLITE_NULL || (cc.type == SQLITE_NULL &&
		    !(r->unknown_customer && o->c[L_CUST].type ==
		    SQLITE_NULL)) || pc.type == SQLITE_NULL;
		if (!bad && !latest)
			superseded++;
		o->cc = cc;
		o->pc = pc;
		if (bad || !latest) {
			o->kind = bad ? LOP_QUAR : LOP_SUP;
			continue;
		}
		o->kind = LOP_FACT;
		/* the date the versions are picked by: order, ship, due */
		date = o->c[L_ODATE].type != SQLITE_NULL ? o->c[L_ODATE] :
		    o->c[L_SDATE].type != SQLITE_NULL ? o->c[L_SDATE] :
		    o->c[L_DDATE];
		/* the versions: customer, product and its list price */
		o->csk.type = o->psk.type = SQLITE_NULL;
		if (cc.type == SQLITE_NULL) {
			o->csk.type = SQLITE_INTEGER;	/* the unknown member */
			o->csk.i = 0;
			unknown_lines++;
		} else if (cc.type == SQLITE_INTEGER && vers_pick(&vc, cc.i,
		    &date, &sk)) {
			o->csk.type = SQLITE_INTEGER;
			o->csk.i = sk;
		}
		listv = NULL;
		if (pc.type == SQLITE_INTEGER && vers_pick(&vp, pc.i, &date,
		    &sk)) {
			o->psk.type = SQLITE_INTEGER;
			o->psk.i = sk;
			listv = list_value(&lp, sk);
		}
		o->listv = listv;
		/* the price and amount rules in C where they apply, else in
		 * the INSERT (read back for the counts) */
		num_of(&o->c[L_QTY], &nq);
		num_of(&o->c[L_PRICE], &np);
		num_of(&o->c[L_AMOUNT], &na);
		nl.type = listv == NULL ? SQLITE_NULL :
		    sqlite3_value_type(listv);
		nl.i = listv == NULL ? 0 : sqlite3_value_int64(listv);
		o->plain = load_fact_rules(&nq, &np, &na, &nl, &o->rp, &o->ra,
		    &o->rd, &o->rk);
		/* the dates as fact_sales stores them when the staging
		 * columns' affinity is the facts' (DATE: dates->exact) */
		for (i = 0; i < 3; i++)
			if (span_add(dates, &o->c[L_ODATE + i]) != 0)
				err = CC_ENOMEM;
		if (err != CC_OK)
			break;
	}
	if (err == CC_OK && rc != SQLITE_DONE)
		err = CC_EDB;
	/* the last batch; the writer done before anything else writes */
	if (err == CC_OK && (err = lwriter_post(&w)) != CC_OK)
		werr = ins = 1;
	if (handoff_end(&w.h) != CC_OK && !werr) {
		err = CC_EDB;
		werr = ins = 1;
	}
	if (err == CC_OK && superseded > 0) {
		if (sqlite3_prepare_v2(r->db, superseded_sql, -1, &fin, NULL) !=
		    SQLITE_OK) {
			err = CC_EDB;
			werr = 1;
		} else {
			sqlite3_bind_text(fin, 1, r->run_id, -1, SQLITE_STATIC);
			if (sqlite3_step(fin) != SQLITE_DONE) {
				err = CC_EDB;
				werr = 1;
			}
		}
	}
	/* the unknown member (pipeline_options.unknown_customer): one row
	 * that the lines naming no customer are sales of */
	if (err == CC_OK && unknown_lines > 0)
		err = run_exec(r, "INSERT INTO dim_customer (customer_sk,"
		    " canonical_id, full_name, is_current, version, sources)"
		    " VALUES (0, 0, 'Unknown customer', 1, 1, '[]')", diag);
out:
	if (err == CC_ENOMEM)
		cc_diag_set(diag, err, "memory", "load: out of memory");
	else if (err != CC_OK && ins)
		cc_diag_set(diag, CC_EDB, "sqlite", "load: inserting the order"
		    " lines: %s", sqlite3_errmsg(r->db));
	else if (err != CC_OK && (werr || rdb == r->db))
		cc_diag_set(diag, CC_EDB, "sqlite", "load: %s",
		    sqlite3_errmsg(r->db));
	else if (err != CC_OK)
		cc_diag_set(diag, CC_EDB, "sqlite", "load: %s",
		    sqlite3_errmsg(rdb));
	handoff_end(&w.h);
	sqlite3_finalize(refs_st);
	lines_close(lines);
	sqlite3_finalize(samec);
	sqlite3_finalize(samep);
	sqlite3_close_v2(two);
	sqlite3_finalize(w.fact);
	sqlite3_finalize(w.fplain);
	sqlite3_finalize(w.fplainb);
	sqlite3_finalize(w.back);
	sqlite3_finalize(w.quar);
	sqlite3_finalize(w.sup);
	sqlite3_finalize(fin);
	for (k = 0; k < HANDOFF_SETS; k++) {
		free(w.b[k].op);
		free(w.b[k].arena);
	}
	list_free(&lp);
	keymap_free(refs[0]);
	keymap_free(refs[1]);
	vers_free(&vc);
	vers_free(&vp);
	free(key);
	free(prev);
	free(prevln);
	return err;
}

/*
 * Returns and cancellations.  A line is a return when its quantity is
 * negative, or when its order id carries the source's cancellation mark:
 * the leading letters of the order ids that most negative-quantity lines
 * share ("C" of C536379), learned from the data and taken only when at
 * least 90 % of the negative lines carry it and at most 1 % of the other
 * lines do.  A return's original order is the order id without the mark,
 * when such an order was loaded.  The rule and the counts go to the run's
 * report (return_rule, returns, returns_without_original).
 */
static cc_err
mark_returns(struct run *r, long long facts, struct cc_diag *diag)
{
	static const char *const lead = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz-_#/ ";
	sqlite3_stmt *st = NULL;
	char sql[1024], prefix[64] = "";
	long long neg = 0, pos = 0, neg_with = 0, pos_with = 0;
	cc_err err;

	/* the negative lines by their order ids' leading letters, most
	 * frequent first: the candidate mark, and the negative lines that
	 * carry it (those whose leading letters start with it) */
	snprintf(sql, sizeof(sql), "SELECT substr(order_id, 1, length(order_id)"
	    " - length(ltrim(order_id, '%s'))) AS p, count(*) FROM fact_sales"
	    " WHERE quantity < 0 GROUP BY p ORDER BY count(*) DESC, p",
	    lead);
	if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK)
		return cc_diag_set(diag, CC_EDB, "sqlite", "%s",
		    sqlite3_errmsg(r->db));
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *p = (const char *)sqlite3_column_text(st, 0);
		long long n = sqlite3_column_int64(st, 1);
		if (neg == 0 && p != NULL)
			snprintf(prefix, sizeof(prefix), "%s", p);
		neg += n;
		if (prefix[0] != '\0' && p != NULL &&
		    !strncmp(p, prefix, strlen(prefix)))
			neg_with += n;
	}
	sqlite3_finalize(st);
	/* the other lines that carry it, only for a mark that may hold */
	pos = facts - neg;
	if (prefix[0] != '\0' && neg_with * 10 >= neg * 9) {
		if (sqlite3_prepare_v2(r->db, "SELECT count(*) FROM fact_sales"
		    " WHERE (NOT quantity < 0 OR quantity IS NULL) AND"
		    " substr(order_id, 1, length(?1)) = ?1", -1, &st, NULL) !=
		    SQLITE_OK)
			return cc_diag_set(diag, CC_EDB, "sqlite", "%s",
			    sqlite3_errmsg(r->db));
		sqlite3_bind_text(st, 1, prefix, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			pos_with = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	if (prefix[0] == '\0' || neg == 0 || neg_with * 10 < neg * 9 ||
	    pos_with * 100 > pos)
		prefix[0] = '\0';	/* no mark: a return is a negative line */
	else
		json_object_set_new(r->counts, "return_rule", json_pack(
		    "{s:s, s:I, s:I, s:I, s:I}", "prefix", prefix,
		    "negative_lines", (json_int_t)neg,
		    "negative_lines_marked", (json_int_t)neg_with,
		    "other_lines", (json_int_t)pos, "other_lines_marked",
		    (json_int_t)pos_with));
	if (sqlite3_prepare_v2(r->db, "UPDATE fact_sales SET is_return = 1"
	    " WHERE quantity < 0 OR (?1 <> '' AND substr(order_id, 1,"
	    " length(?1)) = ?1)", -1, &st, NULL) != SQLITE_OK)
		return cc_diag_set(diag, CC_EDB, "sqlite", "%s",
		    sqlite3_errmsg(r->db));
	sqlite3_bind_text(st, 1, prefix, -1, SQLITE_STATIC);
	err = neg == 0 && prefix[0] == '\0' ? CC_OK :	/* none to mark */
	    sqlite3_step(st) == SQLITE_DONE ? CC_OK : CC_EDB;
	sqlite3_finalize(st);
	if (err == CC_OK && neg == 0 && prefix[0] == '\0') {
		run_count(r, "returns", 0);
		run_count(r, "returns_without_original", 0);
		return CC_OK;
	}
	if (err == CC_OK && prefix[0] == '\0') {
		/* a return is a negative line, none has an original */
		run_count(r, "returns", sqlite3_changes(r->db));
		run_count(r, "returns_without_original", sqlite3_changes(r->db));
		return CC_OK;
	}
	if (err != CC_OK)
		goto counts;
	if ((err = run_exec(r, "CREATE INDEX IF NOT EXISTS fact_sales_order"
	    " ON fact_sales (order_id)", diag)) != CC_OK)
		return err;
	if (sqlite3_prepare_v2(r->db, "UPDATE fact_sales SET original_order_id"
	    " = (SELECT o.order_id FROM fact_sales o WHERE o.order_id ="
	    " substr(fact_sales.order_id, length(?1) + 1) AND NOT o.is_return"
	    " LIMIT 1) WHERE is_return AND substr(order_id, 1, length(?1)) ="
	    " ?1", -1, &st, NULL) != SQLITE_OK)
		return cc_diag_set(diag, CC_EDB, "sqlite", "%s",
		    sqlite3_errmsg(r->db));
	sqlite3_bind_text(st, 1, prefix, -1, SQLITE_STATIC);
	err = sqlite3_step(st) == SQLITE_DONE ? CC_OK : CC_EDB;
	sqlite3_finalize(st);
counts:
	if (err != CC_OK)
		return cc_diag_set(diag, CC_EDB, "sqlite", "%s",
		    sqlite3_errmsg(r->db));
	if (sqlite3_prepare_v2(r->db, "SELECT count(*) FILTER (WHERE"
	    " is_return), count(*) FILTER (WHERE is_return AND"
	    " original_order_id IS NULL) FROM fact_sales", -1, &st, NULL) ==
	    SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
		run_count(r, "returns", sqlite3_column_int64(st, 0));
		run_count(r, "returns_without_original",
		    sqlite3_column_int64(st, 1));
	}
	sqlite3_finalize(st);
	return CC_OK;
}

/* Runs the statements of sql one at a time (:run, :unknown bound). */
static cc_err
run_steps(struct run *r, const char *sql, struct cc_diag *diag)
{
	sqlite3_stmt *st;
	const char *tail;
	int step = 0, rc;
	size_t i;

	while (sql != NULL && *sql != '\0') {
		if (sqlite3_prepare_v2(r->db, sql, -1, &st, &tail) != SQLITE_OK)
			return cc_diag_set(diag, CC_EDB, "sqlite",
			    "load step %d: %s", step, sqlite3_errmsg(r->db));
		if (st == NULL)
			break;
		i = (size_t)sqlite3_bind_parameter_index(st, ":run");
		if (i > 0)
			sqlite3_bind_text(st, (int)i, r->run_id, -1,
			    SQLITE_STATIC);
		i = (size_t)sqlite3_bind_parameter_index(st, ":unknown");
		if (i > 0)
			sqlite3_bind_int(st, (int)i, r->unknown_customer);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			;
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return cc_diag_set(diag, CC_EDB, "sqlite",
			    "load step %d: %s", step, sqlite3_errmsg(r->db));
		sql = tail;
		step++;
	}
	return CC_OK;
}

cc_err
load_all(struct run *r, struct cc_diag *diag)
{
	struct span dates;
	struct load_counts fc = { 0, 0, 0, 0 };
	sqlite3_stmt *st;
	long long facts = 0;
	size_t i;
	cc_err err;
	int rc;

	for (i = 0; i < sizeof(dims) / sizeof(dims[0]); i++) {
		if (run_tick(r, "load", (long long)i, 4))
			return CC_ECONFLICT;
		if ((err = build_dim(r, &dims[i], diag)) != CC_OK)
			return err;
	}
	/* the user-defined entities' dimensions, built the same way */
	{
		const struct schema_entity *es;
		size_t ne, k;
		es = schema_entities(&ne);
		for (k = 0; k < ne; k++) {
			char table[64], sk[64];
			struct dimspec cs;
			if (!es[k].custom)
				continue;
			snprintf(table, sizeof(table), "dim_%s", es[k].name);
			snprintf(sk, sizeof(sk), "%s_sk", es[k].name);
			cs.entity = es[k].name;
			cs.table = table;
			cs.sk = sk;
			if ((err = build_dim(r, &cs, diag)) != CC_OK)
				return err;
		}
	}
	if ((err = run_steps(r, load_sql, diag)) != CC_OK)
		return err;
	/* the lines' runs, from reconcile's thread, before any line may
	 * change */
	run_prefetch_join(r);
	/* the stage numbers every line it stages (stage.c number_line()):
	 * only copied rows may lack a number (a scan of the staged lines,
	 * 1M lines: about 50 ms, on the run's path) */
	rc = SQLITE_DONE;
	if (r->stage_copied) {
		if (sqlite3_prepare_v2(r->db, "SELECT 1 FROM stg_order_line"
		    " WHERE line_number IS NULL LIMIT 1", -1, &st, NULL) !=
		    SQLITE_OK)
			return sqlerr(r, diag);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
	}
	if (rc == SQLITE_ROW) {
		/* the lines change: runs found before are not theirs */
		if (r->lines_plan != NULL)
			r->lines_plan->ok = 0;
		if ((err = run_steps(r, number_sql, diag)) != CC_OK)
			return err;
	}
	/* the facts first, their indexes after */
	memset(&dates, 0, sizeof(dates));
	dates.lo.type = dates.hi.type = SQLITE_NULL;	/* none yet */
	if ((err = model_fact_indexes(r->db, 0, diag)) != CC_OK ||
	    (err = load_lines(r, &dates, &fc, diag)) != CC_OK) {
		free(dates.lobuf);
		free(dates.hibuf);
		return err;
	}
	/* dim_date over the facts' dates, their bounds from the pass (else,
	 * staging of another affinity, from a scan of the facts) */
	if (!dates.exact) {
		if (sqlite3_prepare_v2(r->db, "SELECT min(v), max(v) FROM"
		    " (SELECT min(order_date) v FROM fact_sales UNION ALL"
		    " SELECT min(ship_date) FROM fact_sales UNION ALL"
		    " SELECT min(due_date) FROM fact_sales UNION ALL"
		    " SELECT max(order_date) FROM fact_sales UNION ALL"
		    " SELECT max(ship_date) FROM fact_sales UNION ALL"
		    " SELECT max(due_date) FROM fact_sales)", -1, &st, NULL) !=
		    SQLITE_OK)
			err = sqlerr(r, diag);
		else if (sqlite3_step(st) != SQLITE_ROW)
			err = sqlerr(r, diag);
		else {
			struct val v;
			val_of(st, 0, &v);
			if (val_keep(&dates.lo, &v, &dates.lobuf,
			    &dates.losz) != 0)
				err = CC_ENOMEM;
			val_of(st, 1, &v);
			if (val_keep(&dates.hi, &v, &dates.hibuf,
			    &dates.hisz) != 0)
				err = CC_ENOMEM;
			if (err == CC_ENOMEM)
				cc_diag_set(diag, err, "memory",
				    "load: out of memory");
		}
		sqlite3_finalize(st);
	}
	if (err == CC_OK && sqlite3_prepare_v2(r->db, dim_date_sql, -1, &st,
	    NULL) != SQLITE_OK)
		err = sqlerr(r, diag);
	else if (err == CC_OK) {
		bind_val(st, 1, &dates.lo);
		bind_val(st, 2, &dates.hi);
		if (sqlite3_step(st) != SQLITE_DONE)
			err = sqlerr(r, diag);
		sqlite3_finalize(st);
	}
	free(dates.lobuf);
	free(dates.hibuf);
	if (err != CC_OK)
		return err;
	/* their indexes: run_fact_indexes(), after the run's reads */
	/* the facts' counts from the pass (fact_sales was empty before it),
	 * the quarantine's from its table */
	facts = fc.facts;
	run_count(r, "facts", facts);
	if (sqlite3_prepare_v2(r->db, "SELECT count(*) FILTER (WHERE reason"
	    " <> 'superseded'), count(*) FILTER (WHERE reason = 'superseded')"
	    " FROM quarantine", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		run_count(r, "quarantined", sqlite3_column_int64(st, 0));
		run_count(r, "superseded", sqlite3_column_int64(st, 1));
	}
	sqlite3_finalize(st);
	run_count(r, "amounts_derived", fc.derived);
	run_count(r, "amounts_inconsistent", fc.inconsistent);
	if (r->unknown_customer)
		run_count(r, "unknown_customer_lines", fc.unknown);
	if ((err = mark_returns(r, facts, diag)) != CC_OK)
		return err;
	run_tick(r, "load", 4, 4);
	return CC_OK;
}
