/*
 * h_dashboards.c - the dashboards over HTTP (concord/dashboard.h).  The
 * query string is validated here, once, into struct dash_filters; the
 * figures come from core/dashboard.c, computed in the authenticated
 * user's workspace only.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "concord/dashboard.h"
#include "concord/log.h"
#include "concord/workspace.h"
#include "routes.h"


void
h_dashboards_list(struct http_req *req)
{
	json_t *all = dash_catalogue(), *d;
	char url[96];
	size_t i;

	json_array_foreach(all, i, d) {
		snprintf(url, sizeof(url), "/api/v1/dashboards/%s",
		    json_string_value(json_object_get(d, "name")));
		json_object_set_new(d, "url", json_string(url));
	}
	http_reply_json(req, 200, all == NULL ? NULL :
	    json_pack("{s:b, s:o}", "ok", 1, "dashboards", all));
}

/*
 * Reads the filters of dashboard d from the query string; answers 400
 * and returns -1 on a bad one.  Parameters starting with '_' are left to
 * the API's own options and ignored here.
 */
static int
read_filters(struct http_req *req, enum dash_name d, struct dash_filters *f)
{
	struct cc_diag diag;
	size_t i;
	cc_err err;

	/* http.c keeps HTTP_MAX_QUERY parameters and drops the rest: a full
	 * list may have lost filters, and a dashboard must not silently
	 * answer for fewer. */
	if (req->nquery >= HTTP_MAX_QUERY) {
		http_error(req, 400, "filter_too_many", "at most %d query"
		    " parameters", HTTP_MAX_QUERY - 1);
		return -1;
	}
	for (i = 0; i < req->nquery; i++) {
		if (req->query[i].key[0] == '_')
			continue;
		cc_diag_clear(&diag);
		err = dash_filter_add(f, d, req->query[i].key,
		    req->query[i].value, &diag);
		if (err == CC_EINVAL) {
			http_error_diag(req, 400, &diag);
			return -1;
		}
		if (err != CC_OK) {
			http_error(req, 500, "internal", "%s", cc_strerror(err));
			return -1;
		}
	}
	return 0;
}

void
h_dashboards_get(struct http_req *req)
{
	struct dash_filters f;
	struct workspace *ws;
	struct cc_diag diag;
	json_t *doc, *body;
	cc_err err;
	int d;

	if ((d = dash_lookup(req->params[0])) < 0) {
		http_error(req, 404, "not_found", "no such dashboard");
		return;
	}
	dash_filters_init(&f);
	if (read_filters(req, (enum dash_name)d, &f) != 0) {
		dash_filters_free(&f);
		return;
	}
	if ((ws = http_workspace(req)) == NULL) {
		dash_filters_free(&f);
		return;
	}
	cc_diag_clear(&diag);
	err = dash_build(ws->db, (enum dash_name)d, &f, time(NULL), &doc,
	    &diag);
	ws_close(ws);
	dash_filters_free(&f);
	if (err != CC_OK) {
		log_error("req=%s dashboard %s: %s", req->request_id,
		    req->params[0], diag.message);
		http_error(req, 500, "dashboard", "the dashboard cannot be"
		    " computed");
		return;
	}
	if ((body = json_pack("{s:b}", "ok", 1)) == NULL ||
	    json_object_update(body, doc) != 0) {
		json_decref(body);
		body = NULL;
	}
	json_decref(doc);
	http_reply_json(req, 200, body);
}
