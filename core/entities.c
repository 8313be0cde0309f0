/*
 * entities.c - user-defined entities of a workspace (concord/entities.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "concord/entities.h"
#include "concord/schema.h"
#include "concord/util.h"

static cc_err
dberr(struct workspace *ws, struct cc_diag *diag)
{
	return cc_diag_set(diag, CC_EDB, "sqlite", "%s", sqlite3_errmsg(ws->db));
}

cc_err
entities_list(struct workspace *ws, json_t **out, struct cc_diag *diag)
{
	sqlite3_stmt *st;
	json_t *a = json_array(), *d;
	int rc;

	*out = NULL;
	if (a == NULL)
		return CC_ENOMEM;
	if (sqlite3_prepare_v2(ws->db, "SELECT definition FROM"
	    " main.custom_entities ORDER BY seq", -1, &st, NULL) != SQLITE_OK) {
		json_decref(a);
		return dberr(ws, diag);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((d = json_loads((const char *)sqlite3_column_text(st, 0), 0,
		    NULL)) != NULL)
			json_array_append_new(a, d);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		json_decref(a);
		return dberr(ws, diag);
	}
	*out = a;
	return CC_OK;
}

cc_err
entities_load(struct workspace *ws, struct cc_diag *diag)
{
	json_t *defs;
	cc_err err;

	if ((err = entities_list(ws, &defs, diag)) != CC_OK)
		return err;
	err = schema_custom_set(json_array_size(defs) > 0 ? defs : NULL);
	json_decref(defs);
	return err;
}

static long long
count(struct workspace *ws, const char *name)
{
	sqlite3_stmt *st;
	long long n = -1;

	if (sqlite3_prepare_v2(ws->db, "SELECT count(*), coalesce(sum(name ="
	    " ?1), 0) FROM main.custom_entities", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0) * 2 +
		    (sqlite3_column_int64(st, 1) > 0);
	sqlite3_finalize(st);
	return n;	/* 2 * entities + (name exists) */
}

cc_err
entities_put(struct workspace *ws, const char *name, const json_t *def,
    int create, json_t **errors, struct cc_diag *diag)
{
	const char *dn = json_string_value(json_object_get(def, "name"));
	sqlite3_stmt *st;
	json_t *errs;
	char now[32], *text;
	long long c;
	int rc;

	if (errors != NULL)
		*errors = NULL;
	if ((errs = json_array()) == NULL)
		return CC_ENOMEM;
	if (schema_custom_validate(def, errs) > 0) {
		if (errors != NULL)
			*errors = errs;
		else
			json_decref(errs);
		return cc_diag_set(diag, CC_EINVALID, "invalid_entity", "the"
		    " entity definition is invalid");
	}
	json_decref(errs);
	if (!create && (name == NULL || strcmp(name, dn) != 0))
		return cc_diag_set(diag, CC_ENOTFOUND, "not_found", "the name"
		    " in the body is not the entity's");
	if ((c = count(ws, dn)) < 0)
		return dberr(ws, diag);
	if (create && (c & 1))
		return cc_diag_set(diag, CC_EEXIST, "entity_exists", "an"
		    " entity %s exists", dn);
	if (!create && !(c & 1))
		return cc_diag_set(diag, CC_ENOTFOUND, "not_found", "no such"
		    " entity");
	if (create && c / 2 >= SCHEMA_CUSTOM_MAX_ENTITIES)
		return cc_diag_set(diag, CC_ETOOBIG, "too_many_entities", "at"
		    " most %d entities per workspace",
		    SCHEMA_CUSTOM_MAX_ENTITIES);
	if ((text = json_dumps(def, JSON_COMPACT | JSON_PRESERVE_ORDER)) ==
	    NULL)
		return CC_ENOMEM;
	util_rfc3339(time(NULL), now, sizeof(now));
	if (sqlite3_prepare_v2(ws->db, create ? "INSERT INTO"
	    " main.custom_entities (name, definition, created_at, updated_at)"
	    " VALUES (?1, ?2, ?3, ?3)" : "UPDATE main.custom_entities SET"
	    " definition = ?2, updated_at = ?3 WHERE name = ?1", -1, &st,
	    NULL) != SQLITE_OK) {
		free(text);
		return dberr(ws, diag);
	}
	sqlite3_bind_text(st, 1, dn, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, text, -1, free);
	sqlite3_bind_text(st, 3, now, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return dberr(ws, diag);
	return entities_load(ws, diag);
}

cc_err
entities_delete(struct workspace *ws, const char *name, struct cc_diag *diag)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(ws->db, "DELETE FROM main.custom_entities"
	    " WHERE name = ?1", -1, &st, NULL) != SQLITE_OK)
		return dberr(ws, diag);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return dberr(ws, diag);
	if (sqlite3_changes(ws->db) == 0)
		return cc_diag_set(diag, CC_ENOTFOUND, "not_found", "no such"
		    " entity");
	return entities_load(ws, diag);
}
