/*
 * h_ask.c - questions to the model tables (concord/ask.h): read-only SQL
 * (POST /api/v1/query {"sql"}) and questions in plain words answered
 * through the language model (POST /api/v1/ask {"question"}).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "concord/ask.h"
#include "concord/llm.h"
#include "concord/log.h"
#include "routes.h"

#define ASK_BODY_MAX	(64 * 1024)	/* bytes of a request body */

/* The limits of a statement of req: the request deadline, a row cap. */
static int
limits(struct http_req *req, const json_t *body, struct ask_limits *lim)
{
	const json_t *m = json_object_get(body, "max_rows");

	memset(lim, 0, sizeof(*lim));
	lim->deadline_ms = req->app->cfg.request_deadline_ms;
	lim->max_rows = ASK_MAX_ROWS;
	lim->gone = http_client_gone_cb;
	lim->gone_ctx = req;
	if (m != NULL) {
		if (!json_is_integer(m) || json_integer_value(m) < 1 ||
		    json_integer_value(m) > ASK_MAX_ROWS) {
			http_error(req, 400, "max_rows", "max_rows must be an"
			    " integer from 1 to %d", ASK_MAX_ROWS);
			return -1;
		}
		lim->max_rows = (int)json_integer_value(m);
	}
	return 0;
}

/* 400 for refused SQL: the reason, and the statement it concerns. */
static void
refused(struct http_req *req, const struct cc_diag *d, const char *sql)
{
	http_reply_json(req, 400, json_pack("{s:b, s:i, s:s, s:[{s:s, s:s}],"
	    " s:s?}", "ok", 0, "status", 400, "error", d->message, "errors",
	    "code", d->code, "detail", d->message, "sql", sql));
}

/* The answer to a failed ask_run()/ask_question(). */
static void
failed(struct http_req *req, cc_err err, const struct cc_diag *d,
    const char *sql)
{
	if (err == CC_EINVALID && !strncmp(d->code, "sql_", 4)) {
		refused(req, d, sql);
		return;
	}
	if (err == CC_EDB && (!strcmp(d->code, "query_time_limit") ||
	    !strcmp(d->code, "client_gone"))) {
		http_unavailable(req, d);
		return;
	}
	if (err == CC_EDB && !strcmp(d->code, "sql_error")) {
		refused(req, d, sql);
		return;
	}
	if (err == CC_EINVAL) {
		http_error_diag(req, 400, d);
		return;
	}
	if (err == CC_ERATE && !strcmp(d->code, "llm_budget")) {
		time_t now = time(NULL);
		http_add_header(req, "Retry-After: %ld",
		    (long)(86400 - now % 86400));
		http_error_diag(req, 429, d);
		return;
	}
	if (!strncmp(d->code, "llm_", 4)) {
		/* the model is a dependency: not configured, down, slow,
		 * rate-limited or talking nonsense */
		http_error_diag(req, 503, d);
		return;
	}
	log_error("req=%s ask: %s", req->request_id, d->message);
	http_error(req, 500, "internal", "%s", cc_strerror(err));
}

void
h_query(struct http_req *req)
{
	struct ask_limits lim;
	struct workspace *ws;
	struct cc_diag diag;
	json_t *body, *out = NULL;
	const char *sql;
	cc_err err;

	if ((body = http_read_json_max(req, ASK_BODY_MAX)) == NULL)
		return;
	sql = json_string_value(json_object_get(body, "sql"));
	if (!json_is_object(body) || sql == NULL) {
		json_decref(body);
		http_error(req, 400, "bad_request", "send {\"sql\": \"SELECT"
		    " ...\"}");
		return;
	}
	if (limits(req, body, &lim) != 0 ||
	    (ws = http_workspace_read(req, NULL)) == NULL) {
		json_decref(body);
		return;
	}
	cc_diag_clear(&diag);
	err = ask_run(ws->db, sql, &lim, NULL, &out, &diag);
	if (err != CC_OK)
		failed(req, err, &diag, sql);
	else {
		json_object_set_new(out, "ok", json_true());
		http_reply_json(req, 200, out);
	}
	json_decref(body);
}

void
h_ask(struct http_req *req)
{
	struct workspace *rw, *ro;
	struct ask_limits lim;
	struct cc_diag diag;
	json_t *body, *out = NULL;
	const char *q;
	char *sql = NULL;
	cc_err err;

	if ((body = http_read_json_max(req, ASK_BODY_MAX)) == NULL)
		return;
	q = json_string_value(json_object_get(body, "question"));
	if (!json_is_object(body) || q == NULL) {
		json_decref(body);
		http_error(req, 400, "bad_request", "send {\"question\":"
		    " \"...\"}");
		return;
	}
	if (q[0] == '\0' || strlen(q) > ASK_QUESTION_MAX) {
		json_decref(body);
		http_error(req, 400, "question", "the question must be 1 to %d"
		    " bytes", ASK_QUESTION_MAX);
		return;
	}
	if (!llm_enabled()) {
		json_decref(body);
		http_error(req, 503, "llm_not_configured", "no language model"
		    " is configured on this server (llm_endpoint): write the"
		    " question in SQL with POST /api/v1/query");
		return;
	}
	if (limits(req, body, &lim) != 0) {
		json_decref(body);
		return;
	}
	/* the read-write connection (cache, budget) first: the read
	 * handle's schema of the user's entities is loaded last */
	if ((rw = http_workspace(req)) == NULL) {
		json_decref(body);
		return;
	}
	if ((ro = http_workspace_read(req, NULL)) == NULL) {
		ws_close(rw);
		json_decref(body);
		return;
	}
	cc_diag_clear(&diag);
	err = ask_question(ro->db, rw->db, q, &lim, &out, &sql, &diag);
	if (err != CC_OK)
		failed(req, err, &diag, sql);
	else {
		json_object_set_new(out, "ok", json_true());
		http_reply_json(req, 200, out);
	}
	ws_close(rw);
	free(sql);
	json_decref(body);
}
