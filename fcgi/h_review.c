/*
 * h_review.c - the review queue of entity resolution over HTTP
 * (concord/review.h): the pending pairs, a person's decision on a pair,
 * splitting a cluster, and what the matcher did (the matching page).
 * Every decision is audited; it takes effect at the next run.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "concord/log.h"
#include "concord/review.h"
#include "routes.h"

/* A positive integer of a query parameter or path segment; -1 when it is
 * not one. */
static long long
positive(const char *s)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1)
		return -1;
	return v;
}

void
h_review_list(struct http_req *req)
{
	const char *s = http_query_get(req, "_size"),
	    *after = http_query_get(req, "_next"),
	    *entity = http_query_get(req, "entity");
	long long size = 50, next = 0;
	int max = req->app->cfg.page_size_max < REVIEW_PAGE_MAX ?
	    req->app->cfg.page_size_max : REVIEW_PAGE_MAX;
	struct workspace *ws;
	struct cc_diag diag;
	json_t *doc;
	cc_err err;

	if (s != NULL && ((size = positive(s)) < 1 || size > max)) {
		http_error(req, 400, "size", "_size must be 1 to %d", max);
		return;
	}
	if (after != NULL && (next = positive(after)) < 1) {
		http_error(req, 400, "next", "invalid _next token");
		return;
	}
	if ((ws = http_workspace(req)) == NULL)
		return;
	cc_diag_clear(&diag);
	err = review_list(ws, entity, (int)size, next, &doc, &diag);
	ws_close(ws);
	if (err == CC_EINVAL) {
		http_error_diag(req, 400, &diag);
		return;
	}
	if (err != CC_OK) {
		log_error("req=%s review list: %s", req->request_id,
		    diag.message);
		http_error(req, 500, "internal", "cannot list the review queue");
		return;
	}
	if (json_is_integer(json_object_get(doc, "next"))) {
		char url[256];
		snprintf(url, sizeof(url), "/api/v1/review?_size=%lld&_next=%lld"
		    "%s%s", size, (long long)json_integer_value(json_object_get(
		    doc, "next")), entity != NULL ? "&entity=" : "",
		    entity != NULL ? entity : "");
		json_object_set_new(doc, "next_url", json_string(url));
		http_add_header(req, "Link: <%s>; rel=\"next\"", url);
	} else
		json_object_set_new(doc, "next_url", json_null());
	json_object_set_new(doc, "ok", json_true());
	http_reply_json(req, 200, doc);
}

void
h_review_decide(struct http_req *req)
{
	long long id = positive(req->params[0]);
	enum review_decision d;
	struct workspace *ws;
	struct cc_diag diag;
	json_t *body, *out = NULL;
	char what[96], run[64] = "";
	cc_err err;

	if ((body = http_read_json(req)) == NULL)
		return;
	if (json_is_string(json_object_get(body, "run_id")))
		snprintf(run, sizeof(run), "%s", json_string_value(
		    json_object_get(body, "run_id")));
	if (id < 1) {
		json_decref(body);
		http_error(req, 404, "not_found", "no such pair");
		return;
	}
	if (review_decision_parse(json_string_value(json_object_get(body,
	    "decision")), &d) != 0) {
		json_decref(body);
		http_error(req, 422, "decision", "decision must be \"accept\" or"
		    " \"reject\"");
		return;
	}
	json_decref(body);
	if ((ws = http_workspace(req)) == NULL)
		return;
	cc_diag_clear(&diag);
	err = review_decide(ws, id, d, run[0] != '\0' ? run : NULL,
	    req->user.id, req->request_id, &out, &diag);
	ws_close(ws);
	if (err == CC_ENOTFOUND) {
		http_error(req, 404, "not_found", "no such pair");
		return;
	}
	if (err == CC_ECONFLICT) {
		http_error(req, 409, "pair_changed", "%s", diag.message);
		return;
	}
	if (err != CC_OK) {
		log_error("req=%s review decide: %s", req->request_id,
		    diag.message);
		http_error(req, 500, "internal", "cannot record the decision");
		return;
	}
	/* the audit names the two records, which outlive the pair id */
	snprintf(what, sizeof(what), "%.20s %.16s:%lld %.16s:%lld",
	    json_string_value(json_object_get(out, "entity")),
	    json_string_value(json_object_get(json_object_get(out, "a"),
	    "file_id")), (long long)json_integer_value(json_object_get(
	    json_object_get(out, "a"), "row")), json_string_value(
	    json_object_get(json_object_get(out, "b"), "file_id")),
	    (long long)json_integer_value(json_object_get(json_object_get(out,
	    "b"), "row")));
	http_audit(req, d == REVIEW_ACCEPT ? "review.accept" :
	    "review.reject", what);
	http_reply_json(req, 200, json_pack("{s:b, s:o, s:s}", "ok", 1,
	    "decision", out, "applies", "at the next run"));
}

void
h_cluster_split(struct http_req *req)
{
	long long id = positive(req->params[1]), n = 0;
	struct workspace *ws;
	struct cc_diag diag;
	char what[96];
	cc_err err;

	http_drain(req);
	if (id < 1) {
		http_error(req, 404, "not_found", "no such cluster");
		return;
	}
	if ((ws = http_workspace(req)) == NULL)
		return;
	cc_diag_clear(&diag);
	err = review_split(ws, req->params[0], id, req->user.id,
	    req->request_id, &n, &diag);
	ws_close(ws);
	if (err == CC_ENOTFOUND || err == CC_EINVAL) {
		http_error(req, 404, "not_found", "no such cluster");
		return;
	}
	if (err != CC_OK) {
		log_error("req=%s cluster split: %s", req->request_id,
		    diag.message);
		http_error(req, 500, "internal", "cannot split the cluster");
		return;
	}
	snprintf(what, sizeof(what), "%.40s %lld", req->params[0], id);
	http_audit(req, "review.split", what);
	http_reply_json(req, 200, json_pack("{s:b, s:I, s:s}", "ok", 1,
	    "rejected", (json_int_t)n, "applies", "at the next run"));
}

void
h_matching(struct http_req *req)
{
	struct workspace *ws;
	struct cc_diag diag;
	json_t *doc;
	cc_err err;

	if ((ws = http_workspace(req)) == NULL)
		return;
	cc_diag_clear(&diag);
	err = review_summary(ws, &doc, &diag);
	ws_close(ws);
	if (err != CC_OK) {
		log_error("req=%s matching: %s", req->request_id, diag.message);
		http_error(req, 500, "internal", "cannot summarise matching");
		return;
	}
	json_object_set_new(doc, "ok", json_true());
	http_reply_json(req, 200, doc);
}
