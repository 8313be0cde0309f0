/*
 * h_runs.c - reconciliation runs as a resource.  POST queues a run (202
 * with Location) that the runner process executes outside the request;
 * GET reports state, phase, progress and, at the end, counts and timings;
 * DELETE (or POST .../cancel) cancels.
 */
#include "config.h"

#include "concord/log.h"
#include "concord/runs.h"
#include "routes.h"


static void
not_found_or(struct http_req *req, cc_err err)
{
	if (err == CC_ENOTFOUND)
		http_error(req, 404, "not_found", "no such run");
	else
		http_error(req, http_status_of(err), "internal", "%s",
		    cc_strerror(err));
}

void
h_runs_create(struct http_req *req)
{
	char id[RUNS_ID_LEN + 1];
	struct workspace *ws;
	struct cc_diag diag;
	json_t *run = NULL, *sent = NULL, *settings = NULL;
	cc_err err;

	/* an optional body: {"settings": {...}} (runs_settings_check()) */
	if (req->content_length > 0 || (req->content_length < 0 &&
	    req->content_type != NULL && req->content_type[0] != '\0')) {
		if ((sent = http_read_json(req)) == NULL)
			return;
		cc_diag_clear(&diag);
		if (json_object_size(sent) > (json_object_get(sent, "settings") ?
		    1u : 0u)) {
			json_decref(sent);
			http_error(req, 400, "unknown_field", "the body of POST"
			    " /api/v1/runs has one field, settings");
			return;
		}
		err = runs_settings_check(json_incref(json_object_get(sent,
		    "settings")), &settings, &diag);
		json_decref(sent);
		if (err != CC_OK) {
			http_error(req, err == CC_EINVALID ? 400 : 500,
			    diag.code[0] ? diag.code : "internal", "%s",
			    diag.message[0] ? diag.message : cc_strerror(err));
			return;
		}
	}
	if ((ws = http_workspace(req)) == NULL) {
		json_decref(settings);
		return;
	}
	err = runs_create_with(ws, settings, id);
	json_decref(settings);
	if (err == CC_ECONFLICT) {
		ws_close(ws);
		http_add_header(req, "Location: /api/v1/runs/%s", id);
		http_error(req, 409, "run_in_progress", "run %s is queued or"
		    " running; wait for it or cancel it", id);
		return;
	}
	if (err == CC_OK && (err = control_queue_add(req->app->ctl, id,
	    req->ws.key)) != CC_OK)
		runs_cancel(ws, id);
	if (err == CC_OK)
		err = runs_get(ws, id, &run);
	ws_close(ws);
	if (err != CC_OK) {
		http_error(req, 500, "internal", "cannot queue the run");
		return;
	}
	http_audit(req, "run.create", id);
	http_add_header(req, "Location: /api/v1/runs/%s", id);
	http_reply_json(req, 202, json_pack("{s:b, s:s, s:o}", "ok", 1, "id",
	    id, "run", run));
}

void
h_runs_list(struct http_req *req)
{
	struct workspace *ws;
	json_t *runs;
	cc_err err;

	if ((ws = http_workspace(req)) == NULL)
		return;
	err = runs_list(ws, 100, &runs);
	ws_close(ws);
	if (err != CC_OK) {
		not_found_or(req, err);
		return;
	}
	http_reply_json(req, 200, json_pack("{s:b, s:o}", "ok", 1, "runs",
	    runs));
}

void
h_runs_get(struct http_req *req)
{
	struct workspace *ws;
	json_t *run;
	cc_err err;

	if ((ws = http_workspace(req)) == NULL)
		return;
	err = runs_get(ws, req->params[0], &run);
	ws_close(ws);
	if (err != CC_OK) {
		not_found_or(req, err);
		return;
	}
	http_reply_json(req, 200, json_pack("{s:b, s:o}", "ok", 1, "run", run));
}

void
h_runs_cancel(struct http_req *req)
{
	struct workspace *ws;
	json_t *run = NULL;
	cc_err err;

	if ((ws = http_workspace(req)) == NULL)
		return;
	err = runs_cancel(ws, req->params[0]);
	if (err == CC_OK)
		err = runs_get(ws, req->params[0], &run);
	ws_close(ws);
	if (err == CC_ECONFLICT) {
		http_error(req, 409, "run_ended", "the run has already ended");
		return;
	}
	if (err != CC_OK) {
		not_found_or(req, err);
		return;
	}
	http_audit(req, "run.cancel", req->params[0]);
	http_reply_json(req, 200, json_pack("{s:b, s:o}", "ok", 1, "run", run));
}

void
h_runs_quality(struct http_req *req)
{
	struct workspace *ws;
	json_t *q;
	cc_err err;

	if ((ws = http_workspace(req)) == NULL)
		return;
	err = runs_quality(ws, req->params[0], &q);
	ws_close(ws);
	if (err != CC_OK) {
		not_found_or(req, err);
		return;
	}
	json_object_set_new(q, "ok", json_true());
	http_reply_json(req, 200, q);
}
