/*
 * review.c - the review queue of entity resolution (concord/review.h).
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "concord/db.h"
#include "concord/review.h"
#include "concord/schema.h"
#include "concord/util.h"

static cc_err
dberr(struct workspace *ws, struct cc_diag *diag)
{
	return cc_diag_set(diag, CC_EDB, "sqlite", "%s", sqlite3_errmsg(ws->db));
}

/* 1 when the model (attached by ws_open()) has match_pairs. */
static int
has_pairs(struct workspace *ws)
{
	sqlite3_stmt *st;
	int has = 0;

	if (sqlite3_prepare_v2(ws->db, "SELECT 1 FROM model.sqlite_schema"
	    " WHERE type = 'table' AND name = 'match_pairs'", -1, &st, NULL) !=
	    SQLITE_OK)
		return 0;
	has = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return has;
}

int
review_decision_parse(const char *s, enum review_decision *d)
{
	if (s != NULL && !strcmp(s, "accept")) {
		*d = REVIEW_ACCEPT;
		return 0;
	}
	if (s != NULL && !strcmp(s, "reject")) {
		*d = REVIEW_REJECT;
		return 0;
	}
	return -1;
}

/* One staged record as {attr: value} (the entity's attributes only),
 * or JSON null when it is gone. */
static json_t *
record_of(struct workspace *ws, const struct schema_entity *e,
    const char *file_id, long long row)
{
	char sql[256];
	sqlite3_stmt *st;
	json_t *o = NULL;
	size_t k;

	snprintf(sql, sizeof(sql), "SELECT * FROM model.\"stg_%s\" WHERE"
	    " _file_id = ?1 AND _row = ?2 ORDER BY rowid LIMIT 1", e->name);
	if (sqlite3_prepare_v2(ws->db, sql, -1, &st, NULL) != SQLITE_OK)
		return json_null();
	sqlite3_bind_text(st, 1, file_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, row);
	if (sqlite3_step(st) == SQLITE_ROW) {
		int i, n = sqlite3_column_count(st);
		o = json_object();
		for (k = 0; k < e->nattrs; k++)
			for (i = 0; i < n; i++)
				if (!strcmp(sqlite3_column_name(st, i),
				    e->attrs[k].name)) {
					const char *v = (const char *)
					    sqlite3_column_text(st, i);
					json_object_set_new(o, e->attrs[k].name,
					    v != NULL ? json_string(v) :
					    json_null());
				}
	}
	sqlite3_finalize(st);
	return o != NULL ? o : json_null();
}

static const char *
file_name(struct workspace *ws, const char *id)
{
	static char name[256];
	sqlite3_stmt *st;

	name[0] = '\0';
	if (sqlite3_prepare_v2(ws->db, "SELECT name FROM main.files WHERE id ="
	    " ?1", -1, &st, NULL) != SQLITE_OK)
		return name;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(name, sizeof(name), "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return name;
}

#define PAIR_COLS "p.pair_id, p.entity, p.weight, p.probability," \
	" p.blocking_rule, p.levels, p.a_file_id, p.a_row, p.a_canonical_id," \
	" p.b_file_id, p.b_row, p.b_canonical_id, p.decision, p.run_id," \
	" p.compared"

/* A pair of a SELECT PAIR_COLS as JSON; with records when ws is given. */
static json_t *
pair_json(sqlite3_stmt *st, struct workspace *ws)
{
	const struct schema_entity *e = schema_entity((const char *)
	    sqlite3_column_text(st, 1));
	json_t *o, *lv;
	int s;

	lv = sqlite3_column_type(st, 5) == SQLITE_NULL ? json_object() :
	    json_loads((const char *)sqlite3_column_text(st, 5), 0, NULL);
	o = json_pack("{s:I, s:s, s:o, s:o, s:s?, s:o, s:s}",
	    "pair_id", (json_int_t)sqlite3_column_int64(st, 0),
	    "entity", (const char *)sqlite3_column_text(st, 1),
	    "weight", sqlite3_column_type(st, 2) == SQLITE_NULL ? json_null() :
	    json_real(sqlite3_column_double(st, 2)),
	    "probability", sqlite3_column_type(st, 3) == SQLITE_NULL ?
	    json_null() : json_real(sqlite3_column_double(st, 3)),
	    "blocking_rule", (const char *)sqlite3_column_text(st, 4),
	    "levels", lv != NULL ? lv : json_object(),
	    "decision", (const char *)sqlite3_column_text(st, 12));
	if (o != NULL && sqlite3_column_text(st, 13) != NULL)
		json_object_set_new(o, "run_id", json_string((const char *)
		    sqlite3_column_text(st, 13)));
	for (s = 0; s < 2 && o != NULL; s++) {
		const char *fid = (const char *)sqlite3_column_text(st,
		    6 + 3 * s);
		long long row = sqlite3_column_int64(st, 7 + 3 * s);
		json_t *side = json_pack("{s:s, s:I, s:o}", "file_id", fid,
		    "row", (json_int_t)row, "canonical_id",
		    sqlite3_column_type(st, 8 + 3 * s) == SQLITE_NULL ?
		    json_null() : json_integer(sqlite3_column_int64(st,
		    8 + 3 * s)));
		if (ws != NULL && e != NULL && side != NULL) {
			json_t *rec = record_of(ws, e, fid, row), *cmp, *v;
			const char *k;
			json_object_set_new(side, "file_name",
			    json_string(file_name(ws, fid)));
			/* the values compared are the key cluster's (its
			 * records' first non-null ones): shown, and marked */
			cmp = sqlite3_column_type(st, 14) == SQLITE_NULL ? NULL :
			    json_loads((const char *)sqlite3_column_text(st, 14),
			    0, NULL);
			json_object_foreach(cmp, k, v)
				if (json_is_object(rec) && json_is_string(
				    json_array_get(v, (size_t)s)))
					json_object_set(rec, k, json_array_get(v,
					    (size_t)s));
			json_decref(cmp);
			json_object_set_new(side, "record", rec);
		}
		json_object_set_new(o, s ? "b" : "a", side);
	}
	return o;
}

/* The pending pairs: in review, no person's decision on the same two
 * records. */
#define PENDING "FROM model.match_pairs p WHERE p.decision = 'review' AND" \
	" NOT EXISTS (SELECT 1 FROM main.match_decisions d WHERE d.entity =" \
	" p.entity AND d.a_file_id = p.a_file_id AND d.a_row = p.a_row AND" \
	" d.b_file_id = p.b_file_id AND d.b_row = p.b_row)" \
	" AND (?1 IS NULL OR p.entity = ?1)"

cc_err
review_list(struct workspace *ws, const char *entity, int limit,
    long long after_id, json_t **out, struct cc_diag *diag)
{
	sqlite3_stmt *st = NULL;
	json_t *items, *doc;
	long long last = 0, pending = 0;
	int n = 0, more = 0;

	*out = NULL;
	if (limit < 1 || limit > REVIEW_PAGE_MAX)
		return cc_diag_set(diag, CC_EINVAL, "page_size", "_size must"
		    " be 1..%d", REVIEW_PAGE_MAX);
	if (entity != NULL && (schema_entity(entity) == NULL ||
	    schema_entity(entity)->is_fact))
		return cc_diag_set(diag, CC_EINVAL, "entity", "no entity %s"
		    " is matched", entity);
	if ((items = json_array()) == NULL)
		return CC_ENOMEM;
	if (!has_pairs(ws))
		goto done;
	if (sqlite3_prepare_v2(ws->db, "SELECT count(*) " PENDING, -1, &st,
	    NULL) != SQLITE_OK)
		goto fail;
	if (entity != NULL)
		sqlite3_bind_text(st, 1, entity, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		pending = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(ws->db, "SELECT " PAIR_COLS " " PENDING
	    " AND (?2 = 0 OR (p.probability, p.pair_id) < (SELECT"
	    " probability, pair_id FROM model.match_pairs WHERE pair_id ="
	    " ?2)) ORDER BY p.probability DESC, p.pair_id DESC LIMIT ?3", -1,
	    &st, NULL) != SQLITE_OK)
		goto fail;
	if (entity != NULL)
		sqlite3_bind_text(st, 1, entity, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, after_id);
	sqlite3_bind_int(st, 3, limit + 1);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n == limit) {
			more = 1;
			break;
		}
		json_array_append_new(items, pair_json(st, ws));
		last = sqlite3_column_int64(st, 0);
		n++;
	}
	sqlite3_finalize(st);
done:
	doc = json_pack("{s:o, s:I, s:o}", "items", items, "pending",
	    (json_int_t)pending, "next", more ? json_integer(last) :
	    json_null());
	if (doc == NULL)
		return CC_ENOMEM;
	*out = doc;
	return CC_OK;
fail:
	json_decref(items);
	return dberr(ws, diag);
}

/* Inserts or replaces one decision on records (fa, ra) and (fb, rb). */
static cc_err
put_decision(struct workspace *ws, const char *entity, const char *fa,
    long long ra, const char *fb, long long rb, const char *decision,
    const char *user_id, const char *request_id, char *when)
{
	sqlite3_stmt *st;
	int rc;

	util_rfc3339(time(NULL), when, 32);
	if (sqlite3_prepare_v2(ws->db, "INSERT INTO main.match_decisions"
	    " (entity, a_file_id, a_row, b_file_id, b_row, decision, user_id,"
	    " request_id, decided_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
	    " ?9) ON CONFLICT (entity, a_file_id, a_row, b_file_id, b_row) DO"
	    " UPDATE SET decision = excluded.decision, user_id ="
	    " excluded.user_id, request_id = excluded.request_id, decided_at ="
	    " excluded.decided_at", -1, &st, NULL) != SQLITE_OK)
		return CC_EDB;
	sqlite3_bind_text(st, 1, entity, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, fa, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, ra);
	sqlite3_bind_text(st, 4, fb, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, rb);
	sqlite3_bind_text(st, 6, decision, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, user_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, request_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, when, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? CC_OK : CC_EDB;
}

cc_err
review_decide(struct workspace *ws, long long pair_id, enum review_decision d,
    const char *run_id, const char *user_id, const char *request_id,
    json_t **out, struct cc_diag *diag)
{
	const char *dec = d == REVIEW_ACCEPT ? "accept" : "reject";
	sqlite3_stmt *st;
	char when[32];
	json_t *o = NULL;
	cc_err err;

	if (out != NULL)
		*out = NULL;
	if (!has_pairs(ws))
		return cc_diag_set(diag, CC_ENOTFOUND, "not_found", "no such"
		    " pair");
	if (sqlite3_prepare_v2(ws->db, "SELECT entity, a_file_id, a_row,"
	    " b_file_id, b_row, run_id FROM model.match_pairs WHERE pair_id ="
	    " ?1", -1, &st, NULL) != SQLITE_OK)
		return dberr(ws, diag);
	sqlite3_bind_int64(st, 1, pair_id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return cc_diag_set(diag, CC_ENOTFOUND, "not_found", "no such"
		    " pair");
	}
	/* a pair id names a pair of one model: a later run renumbers */
	if (run_id != NULL && (sqlite3_column_text(st, 5) == NULL ||
	    strcmp(run_id, (const char *)sqlite3_column_text(st, 5)) != 0)) {
		sqlite3_finalize(st);
		return cc_diag_set(diag, CC_ECONFLICT, "pair_changed", "pair"
		    " %lld is of another run now: reload the queue", pair_id);
	}
	err = put_decision(ws, (const char *)sqlite3_column_text(st, 0),
	    (const char *)sqlite3_column_text(st, 1), sqlite3_column_int64(st,
	    2), (const char *)sqlite3_column_text(st, 3),
	    sqlite3_column_int64(st, 4), dec, user_id, request_id, when);
	if (err == CC_OK && out != NULL)
		o = json_pack("{s:I, s:s, s:s, s:{s:s, s:I}, s:{s:s, s:I},"
		    " s:s}", "pair_id", (json_int_t)pair_id, "entity",
		    (const char *)sqlite3_column_text(st, 0), "decision", dec,
		    "a", "file_id", (const char *)sqlite3_column_text(st, 1),
		    "row", (json_int_t)sqlite3_column_int64(st, 2),
		    "b", "file_id", (const char *)sqlite3_column_text(st, 3),
		    "row", (json_int_t)sqlite3_column_int64(st, 4),
		    "decided_at", when);
	sqlite3_finalize(st);
	if (err != CC_OK)
		return dberr(ws, diag);
	if (out != NULL)
		*out = o;
	return CC_OK;
}

cc_err
review_split(struct workspace *ws, const char *entity, long long canonical_id,
    const char *user_id, const char *request_id, long long *rejected,
    struct cc_diag *diag)
{
	sqlite3_stmt *st;
	char when[32];
	cc_err err = CC_OK;

	*rejected = 0;
	if (entity == NULL || schema_entity(entity) == NULL ||
	    schema_entity(entity)->is_fact)
		return cc_diag_set(diag, CC_EINVAL, "entity", "no entity %s"
		    " is matched", entity != NULL ? entity : "");
	if (!has_pairs(ws))
		return cc_diag_set(diag, CC_ENOTFOUND, "not_found", "no such"
		    " cluster");
	if (sqlite3_prepare_v2(ws->db, "SELECT a_file_id, a_row, b_file_id,"
	    " b_row FROM model.match_pairs WHERE entity = ?1 AND"
	    " a_canonical_id = ?2 AND b_canonical_id = ?2 AND decision IN"
	    " ('matched', 'accepted')", -1, &st, NULL) != SQLITE_OK)
		return dberr(ws, diag);
	sqlite3_bind_text(st, 1, entity, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, canonical_id);
	if (db_exec(ws->db, "SAVEPOINT split", NULL) != CC_OK) {
		sqlite3_finalize(st);
		return dberr(ws, diag);
	}
	while (err == CC_OK && sqlite3_step(st) == SQLITE_ROW) {
		err = put_decision(ws, entity, (const char *)
		    sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1),
		    (const char *)sqlite3_column_text(st, 2),
		    sqlite3_column_int64(st, 3), "reject", user_id, request_id,
		    when);
		(*rejected)++;
	}
	sqlite3_finalize(st);
	if (err != CC_OK) {
		db_exec(ws->db, "ROLLBACK TO split; RELEASE split", NULL);
		*rejected = 0;
		return dberr(ws, diag);
	}
	db_exec(ws->db, "RELEASE split", NULL);
	if (*rejected == 0)
		return cc_diag_set(diag, CC_ENOTFOUND, "not_found", "no pair"
		    " joins records of %s %lld", entity, canonical_id);
	return CC_OK;
}

cc_err
review_summary(struct workspace *ws, json_t **out, struct cc_diag *diag)
{
	sqlite3_stmt *st = NULL, *near = NULL;
	json_t *ents = json_array(), *doc;
	long long pending = 0, decisions = 0;

	*out = NULL;
	if (ents == NULL)
		return CC_ENOMEM;
	if (sqlite3_prepare_v2(ws->db, "SELECT count(*) FROM"
	    " main.match_decisions", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		decisions = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	if (!has_pairs(ws))
		goto done;
	if (sqlite3_prepare_v2(ws->db, "SELECT count(*) " PENDING, -1, &st,
	    NULL) != SQLITE_OK)
		goto fail;
	if (sqlite3_step(st) == SQLITE_ROW)
		pending = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	/* the pairs closest to the upper threshold, in log-odds */
	if (sqlite3_prepare_v2(ws->db, "SELECT model, entity FROM"
	    " model.match_models ORDER BY entity", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(ws->db, "SELECT " PAIR_COLS " FROM"
	    " model.match_pairs p WHERE p.entity = ?1 AND p.probability IS NOT"
	    " NULL AND p.probability > 0 AND p.probability < 1 ORDER BY"
	    " abs(ln(p.probability / (1 - p.probability)) - ln(?2 / (1 -"
	    " ?2))), p.pair_id LIMIT 20", -1, &near, NULL) != SQLITE_OK)
		goto fail;
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_t *m = json_loads((const char *)sqlite3_column_text(st, 0),
		    0, NULL), *e, *nl = json_array(), *fields = json_array(),
		    *fm, *f;
		size_t i, j;
		static const char *const keep[] = { "records",
		    "identity_merges", "pairs_compared", "pairs_matched",
		    "pairs_review", "pairs_kept_apart",
		    "pairs_accepted_by_person", "pairs_rejected_by_person",
		    "clusters", "threshold_upper", "threshold_lower",
		    "blocking_rules", "histogram" };
		if (m == NULL)
			continue;
		e = json_pack("{s:s}", "entity", (const char *)
		    sqlite3_column_text(st, 1));
		for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
			if (json_object_get(m, keep[i]) != NULL)
				json_object_set(e, keep[i], json_object_get(m,
				    keep[i]));
		json_array_foreach(json_object_get(json_object_get(m, "model"),
		    "fields"), i, fm) {
			json_t *levels = json_array(), *l;
			json_array_foreach(json_object_get(fm, "levels"), j, l)
				json_array_append_new(levels, json_pack(
				    "{s:O, s:O, s:O, s:O}", "label",
				    json_object_get(l, "label"), "m",
				    json_object_get(l, "m"), "u",
				    json_object_get(l, "u"), "weight",
				    json_object_get(l, "weight")));
			f = json_pack("{s:O, s:O, s:o}", "name",
			    json_object_get(fm, "name"), "kind",
			    json_object_get(fm, "kind"), "levels", levels);
			json_array_append_new(fields, f);
		}
		json_object_set_new(e, "fields", fields);
		/* the prior and the thresholds as match weights: a pair's
		 * posterior is 1 / (1 + 2^-(weight + prior)) */
		{
			json_t *md = json_object_get(m, "model");
			double lam = json_number_value(json_object_get(md,
			    "lambda")), up = json_number_value(json_object_get(m,
			    "threshold_upper")), lo = json_number_value(
			    json_object_get(m, "threshold_lower")), prior;
			if (lam > 0 && lam < 1 && up > 0 && up < 1 && lo > 0 &&
			    lo < 1) {
				prior = log2(lam / (1 - lam));
				json_object_set_new(e, "lambda", json_real(lam));
				json_object_set_new(e, "prior_weight",
				    json_real(prior));
				json_object_set_new(e, "threshold_upper_weight",
				    json_real(log2(up / (1 - up)) - prior));
				json_object_set_new(e, "threshold_lower_weight",
				    json_real(log2(lo / (1 - lo)) - prior));
			}
		}
		sqlite3_reset(near);
		sqlite3_bind_text(near, 1, (const char *)sqlite3_column_text(st,
		    1), -1, SQLITE_TRANSIENT);
		sqlite3_bind_double(near, 2, json_is_number(json_object_get(m,
		    "threshold_upper")) ? json_number_value(json_object_get(m,
		    "threshold_upper")) : 0.9);
		while (sqlite3_step(near) == SQLITE_ROW)
			json_array_append_new(nl, pair_json(near, NULL));
		json_object_set_new(e, "near_threshold", nl);
		json_array_append_new(ents, e);
		json_decref(m);
	}
	sqlite3_finalize(st);
	sqlite3_finalize(near);
done:
	doc = json_pack("{s:I, s:I, s:o}", "pending", (json_int_t)pending,
	    "decisions", (json_int_t)decisions, "entities", ents);
	if (doc == NULL)
		return CC_ENOMEM;
	*out = doc;
	return CC_OK;
fail:
	sqlite3_finalize(st);
	sqlite3_finalize(near);
	json_decref(ents);
	return dberr(ws, diag);
}
