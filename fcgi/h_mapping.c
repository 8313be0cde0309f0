/* h_mapping.c - a file's mapping onto the target schema, and the schema. */
#include "config.h"

#include "concord/log.h"
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

void
h_mapping_get(struct http_req *req)
{
	struct workspace *ws;
	json_t *doc = NULL;
	cc_err err;

	if ((ws = http_workspace(req)) == NULL)
		return;
	err = registry_mapping_get(ws, req->params[0], &doc);
	ws_close(ws);
	if (err != CC_OK) {
		http_error(req, http_status_of(err), err == CC_ENOTFOUND ?
		    "not_found" : "internal", "%s", err == CC_ENOTFOUND ?
		    "no such file" : cc_strerror(err));
		return;
	}
	http_reply_json(req, 200, json_pack("{s:b, s:s, s:o}", "ok", 1,
	    "file_id", req->params[0], "mapping", doc));
}

void
h_mapping_put(struct http_req *req)
{
	json_t *sent, *doc = NULL, *errors = NULL, *body;
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
	control_audit(req->app->ctl, req->user.id, req->user.username,
	    "mapping.confirm", req->params[0], req->remote_addr, "ok",
	    req->request_id);
	http_reply_json(req, 200, json_pack("{s:b, s:s, s:o}", "ok", 1,
	    "file_id", req->params[0], "mapping", doc));
}
