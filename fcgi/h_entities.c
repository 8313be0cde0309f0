/*
 * h_entities.c - the entities a user adds to their workspace's target
 * schema (concord/entities.h): list, create, read, replace, delete.  An
 * invalid definition gets a 422 with every reason and changes nothing.
 */
#include "config.h"

#include <string.h>

#include "concord/entities.h"
#include "concord/log.h"
#include "routes.h"

#define ENTITY_BODY_MAX	(1 << 20)	/* bytes of a definition */

/* The body as a JSON object of at most ENTITY_BODY_MAX bytes; answers
 * 400/413/415 itself and returns NULL. */
static json_t *
read_def(struct http_req *req)
{
	return http_read_json_max(req, ENTITY_BODY_MAX);
}

/* 422 with every reason in errors[] (stolen). */
static void
reply_invalid(struct http_req *req, json_t *errors)
{
	http_reply_json(req, 422, json_pack("{s:b, s:i, s:s, s:o}", "ok", 0,
	    "status", 422, "error", "the entity definition is invalid",
	    "errors", errors != NULL ? errors : json_array()));
}

void
h_entities_list(struct http_req *req)
{
	struct workspace *ws;
	struct cc_diag diag;
	json_t *defs;
	cc_err err;

	if ((ws = http_workspace(req)) == NULL)
		return;
	cc_diag_clear(&diag);
	err = entities_list(ws, &defs, &diag);
	ws_close(ws);
	if (err != CC_OK) {
		http_error(req, 500, "internal", "cannot list the entities");
		return;
	}
	http_reply_json(req, 200, json_pack("{s:b, s:o}", "ok", 1, "entities",
	    defs));
}

static json_t *
find(json_t *defs, const char *name)
{
	json_t *d;
	size_t i;

	json_array_foreach(defs, i, d)
		if (!strcmp(json_string_value(json_object_get(d, "name")),
		    name))
			return d;
	return NULL;
}

void
h_entities_get(struct http_req *req)
{
	struct workspace *ws;
	struct cc_diag diag;
	json_t *defs = NULL, *d;
	cc_err err;

	if ((ws = http_workspace(req)) == NULL)
		return;
	err = entities_list(ws, &defs, &diag);
	ws_close(ws);
	if (err != CC_OK || (d = find(defs, req->params[0])) == NULL) {
		json_decref(defs);
		http_error(req, err != CC_OK ? 500 : 404, err != CC_OK ?
		    "internal" : "not_found", "no such entity");
		return;
	}
	http_reply_json(req, 200, json_pack("{s:b, s:O}", "ok", 1, "entity",
	    d));
	json_decref(defs);
}

static void
put(struct http_req *req, int create)
{
	struct workspace *ws;
	struct cc_diag diag;
	json_t *def, *errors = NULL;
	cc_err err;

	if ((def = read_def(req)) == NULL)
		return;
	if ((ws = http_workspace(req)) == NULL) {
		json_decref(def);
		return;
	}
	cc_diag_clear(&diag);
	err = entities_put(ws, create ? NULL : req->params[0], def, create,
	    &errors, &diag);
	ws_close(ws);
	switch (err) {
	case CC_OK:
		http_audit(req, create ? "entity.create" : "entity.replace",
		    json_string_value(json_object_get(def, "name")));
		if (create)
			http_add_header(req, "Location: /api/v1/schema/entities/"
			    "%s", json_string_value(json_object_get(def,
			    "name")));
		http_reply_json(req, create ? 201 : 200, json_pack("{s:b,"
		    " s:O}", "ok", 1, "entity", def));
		break;
	case CC_EINVALID:
		reply_invalid(req, errors);
		errors = NULL;
		break;
	case CC_EEXIST:
		http_error(req, 409, "entity_exists", "%s", diag.message);
		break;
	case CC_ENOTFOUND:
		http_error(req, 404, "not_found", "%s", diag.message);
		break;
	case CC_ETOOBIG:
		http_error(req, 422, "too_many_entities", "%s", diag.message);
		break;
	default:
		log_error("req=%s entity: %s", req->request_id, diag.message);
		http_error(req, 500, "internal", "cannot store the entity");
		break;
	}
	json_decref(errors);
	json_decref(def);
}

void
h_entities_create(struct http_req *req)
{
	put(req, 1);
}

void
h_entities_put(struct http_req *req)
{
	put(req, 0);
}

void
h_entities_delete(struct http_req *req)
{
	struct workspace *ws;
	struct cc_diag diag;
	cc_err err;

	http_drain(req);
	if ((ws = http_workspace(req)) == NULL)
		return;
	cc_diag_clear(&diag);
	err = entities_delete(ws, req->params[0], &diag);
	ws_close(ws);
	if (err == CC_ENOTFOUND) {
		http_error(req, 404, "not_found", "no such entity");
		return;
	}
	if (err != CC_OK) {
		http_error(req, 500, "internal", "cannot delete the entity");
		return;
	}
	http_audit(req, "entity.delete", req->params[0]);
	http_reply_json(req, 200, json_pack("{s:b, s:s}", "ok", 1, "deleted",
	    req->params[0]));
}
