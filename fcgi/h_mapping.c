/*
 * h_mapping.c - a file's mapping onto the target schema (with what a run
 * would do with it), a preview of its first rows cleaned, and the schema.
 */
#include "config.h"

#include <string.h>

#include "concord/log.h"
#include "concord/map.h"
#include "concord/pipeline.h"
#include "concord/registry.h"
#include "concord/schema.h"
#include "routes.h"


void
h_schema(struct http_req *req)
{
	struct workspace *ws;
	json_t *doc;

	/* the built-in entities and the workspace's own */
	if ((ws = http_workspace(req)) == NULL)
		return;
	doc = schema_json();
	ws_close(ws);
	http_reply_json(req, 200, json_pack("{s:b, s:o}", "ok", 1, "entities",
	    doc));
}

/*
 * What a run would do with this mapping that a person should hear first
 * (map_check()): a new array, empty when nothing or on any failure.
 */
static json_t *
mapping_warnings(struct workspace *ws, const char *id, const json_t *doc)
{
	json_t *file = NULL, *profile = NULL, *prop = NULL, *w = NULL;

	if (registry_get(ws, id, &file, &profile) != CC_OK ||
	    map_propose_heuristic(profile, json_string_value(json_object_get(
	    file, "name")), &prop, NULL) != CC_OK)
		prop = NULL;
	if (map_check(doc, prop, &w) != CC_OK)
		w = json_array();
	json_decref(prop);
	json_decref(profile);
	json_decref(file);
	return w;
}

void
h_mapping_get(struct http_req *req)
{
	struct workspace *ws;
	json_t *doc = NULL, *warnings = NULL;
	cc_err err;

	if ((ws = http_workspace(req)) == NULL)
		return;
	err = registry_mapping_get(ws, req->params[0], &doc);
	if (err == CC_OK)
		warnings = mapping_warnings(ws, req->params[0], doc);
	ws_close(ws);
	if (err != CC_OK) {
		http_error(req, http_status_of(err), err == CC_ENOTFOUND ?
		    "not_found" : "internal", "%s", err == CC_ENOTFOUND ?
		    "no such file" : cc_strerror(err));
		return;
	}
	http_reply_json(req, 200, json_pack("{s:b, s:s, s:o, s:o}", "ok", 1,
	    "file_id", req->params[0], "mapping", doc, "warnings", warnings));
}

void
h_mapping_put(struct http_req *req)
{
	json_t *sent, *doc = NULL, *errors = NULL, *body, *warnings = NULL;
	struct workspace *ws;
	struct cc_diag diag;
	cc_err err;

	if ((sent = http_read_json(req)) == NULL)
		return;
	if ((ws = http_workspace(req)) == NULL) {
		json_decref(sent);
		return;
	}
	cc_diag_clear(&diag);
	err = registry_mapping_put(ws, req->params[0], sent, &doc, &errors,
	    &diag);
	if (err == CC_OK)
		warnings = mapping_warnings(ws, req->params[0], doc);
	ws_close(ws);
	json_decref(sent);
	if (err == CC_EINVALID && errors != NULL) {
		body = json_pack("{s:b, s:i, s:s, s:o}", "ok", 0, "status", 422,
		    "error", "the mapping is invalid", "errors", errors);
		http_reply_json(req, 422, body);
		return;
	}
	json_decref(errors);
	if (err != CC_OK) {
		http_error(req, http_status_of(err), err == CC_ENOTFOUND ?
		    "not_found" : "internal", "%s", err == CC_ENOTFOUND ?
		    "no such file" : cc_strerror(err));
		return;
	}
	http_audit(req, "mapping.confirm", req->params[0]);
	http_reply_json(req, 200, json_pack("{s:b, s:s, s:o, s:o}", "ok", 1,
	    "file_id", req->params[0], "mapping", doc, "warnings", warnings));
}

#define PREVIEW_ROWS	20	/* rows a preview cleans */

/*
 * GET: the first PREVIEW_ROWS rows cleaned with the file's current
 * mapping; POST {"columns": [{"source", "target"}]}: with that mapping
 * instead (validated like a PUT, stored nowhere), before confirming it.
 */
void
h_preview(struct http_req *req)
{
	json_t *sent = NULL, *doc = NULL, *errors = NULL, *file = NULL,
	    *profile = NULL, *pv = NULL, *warnings, *body;
	struct workspace *ws;
	struct cc_diag diag;
	cc_err err;

	if (!strcmp(req->method, "POST") && (sent = http_read_json(req)) ==
	    NULL)
		return;
	if ((ws = http_workspace(req)) == NULL) {
		json_decref(sent);
		return;
	}
	cc_diag_clear(&diag);
	if (sent == NULL)
		err = registry_mapping_get(ws, req->params[0], &doc);
	else if ((err = registry_get(ws, req->params[0], &file, &profile)) ==
	    CC_OK)
		err = map_validate(sent, profile, &doc, &errors, &diag);
	json_decref(sent);
	json_decref(file);
	json_decref(profile);
	if (err == CC_OK)
		err = stage_preview(ws, req->params[0], doc, PREVIEW_ROWS, NULL,
		    &pv, &diag);
	warnings = err == CC_OK ? mapping_warnings(ws, req->params[0], doc) :
	    NULL;
	ws_close(ws);
	json_decref(doc);
	if (err == CC_EINVALID) {
		body = json_pack("{s:b, s:i, s:s, s:o}", "ok", 0, "status", 422,
		    "error", errors != NULL ? "the mapping is invalid" :
		    diag.message, "errors", errors != NULL ? errors :
		    json_pack("[{s:s, s:s}]", "code", diag.code, "detail",
		    diag.message));
		http_reply_json(req, 422, body);
		return;
	}
	json_decref(errors);
	if (err != CC_OK) {
		http_error(req, http_status_of(err), err == CC_ENOTFOUND ?
		    "not_found" : "internal", "%s", err == CC_ENOTFOUND ?
		    "no such file" : diag.message[0] != '\0' ? diag.message :
		    cc_strerror(err));
		return;
	}
	json_object_set_new(pv, "ok", json_true());
	json_object_set_new(pv, "file_id", json_string(req->params[0]));
	json_object_set_new(pv, "warnings", warnings);
	http_reply_json(req, 200, pv);
}
