/*
 * h_dashboards.c - the dashboards over HTTP (concord/dashboard.h).  The
 * query string is validated here, once, into struct dash_filters; the
 * figures come from core/dashboard.c, computed in the authenticated
 * user's workspace only.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "concord/dashboard.h"
#include "concord/log.h"
#include "concord/util.h"
#include "concord/workspace.h"
#include "anscache.h"
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

/*
 * The worker's documents (dashboard_cache): kept answers (anscache.h)
 * under the key "dashboard N FILTERS" (N: enum dash_name; FILTERS: the
 * filters as applied, dash_filters_json()'s canonical text).  A hit
 * answers the same figures with a new generated_at.
 */

/* generated_at of a kept body: as long as every RFC 3339 UTC stamp of
 * util_rfc3339(), overwritten when the body is sent again. */
#define STAMP_HOLDER	"0000-00-00T00:00:00Z"

/*
 * The answer's body for doc (ok first, as http_reply_json() would write
 * it), with generated_at set to STAMP_HOLDER; *at is that value's offset.
 * NULL when out of memory.
 */
static char *
body_text(json_t *doc, size_t *len, size_t *at)
{
	static const char key[] = "\"generated_at\":\"";
	json_t *body;
	char *text, *p;

	if ((body = json_pack("{s:b}", "ok", 1)) == NULL ||
	    json_object_update(body, doc) != 0 ||
	    json_object_set_new(body, "generated_at",
	    json_string(STAMP_HOLDER)) != 0) {
		json_decref(body);
		return NULL;
	}
	text = json_dumps(body, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(body);
	if (text == NULL || (p = strstr(text, "\"generated_at\":\""
	    STAMP_HOLDER "\"")) == NULL) {
		free(text);
		return NULL;
	}
	*at = (size_t)(p - text) + sizeof(key) - 1;
	*len = strlen(text);
	return text;
}

void
h_dashboards_get(struct http_req *req)
{
	struct dash_limits lim;
	struct dash_filters f;
	const struct answer *hit;
	struct workspace *ws;
	struct cc_diag diag;
	json_t *doc = NULL, *body, *fj;
	char *fkey = NULL, *text;
	long long version = 0;
	size_t len, at;
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
	if ((ws = http_workspace_read(req, &version)) == NULL) {
		dash_filters_free(&f);
		return;
	}
	if (req->app->cfg.dashboard_cache) {
		fj = dash_filters_json(&f, (enum dash_name)d);
		text = fj != NULL ? json_dumps(fj, JSON_COMPACT |
		    JSON_SORT_KEYS) : NULL;
		json_decref(fj);
		if (text != NULL && (fkey = malloc(strlen(text) + 80)) != NULL)
			sprintf(fkey, "dashboard %d %s", d, text);
		free(text);
		if (fkey != NULL && (hit = anscache_find(req->ws.key, fkey,
		    version)) != NULL) {
			free(fkey);
			dash_filters_free(&f);
			anscache_send(req, hit);
			return;
		}
	}
	{
		memset(&lim, 0, sizeof(lim));
		lim.deadline_ms = req->app->cfg.request_deadline_ms;
		lim.gone = http_client_gone_cb;
		lim.ctx = req;
		cc_diag_clear(&diag);
		err = dash_build_limited(ws->db, (enum dash_name)d, &f,
		    time(NULL), &lim, &doc, &diag);
		if (err != CC_OK) {
			dash_filters_free(&f);
			free(fkey);
			if (strcmp(diag.code, "query_time_limit") == 0 ||
			    strcmp(diag.code, "client_gone") == 0) {
				log_warn("req=%s dashboard %s: %s",
				    req->request_id, req->params[0], diag.code);
				http_unavailable(req, &diag);
				return;
			}
			log_error("req=%s dashboard %s: %s", req->request_id,
			    req->params[0], diag.message);
			http_error(req, 500, "dashboard", "the dashboard cannot"
			    " be computed");
			return;
		}
		if (fkey != NULL && (text = body_text(doc, &len, &at)) !=
		    NULL && anscache_keep(req->ws.key, fkey, version,
		    "application/json", NULL, text, len, at) &&
		    (hit = anscache_find(req->ws.key, fkey, version)) !=
		    NULL) {
			/* the text just written, as a hit sends it */
			free(fkey);
			dash_filters_free(&f);
			json_decref(doc);
			anscache_send(req, hit);
			return;
		}
	}
	free(fkey);
	dash_filters_free(&f);
	if ((body = json_pack("{s:b}", "ok", 1)) == NULL ||
	    json_object_update(body, doc) != 0) {
		json_decref(body);
		body = NULL;
	}
	json_decref(doc);
	http_reply_json(req, 200, body);
}
