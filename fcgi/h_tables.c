/*
 * h_tables.c - the star schema's tables over HTTP (fcgi/h_tables.h): the
 * list, and one table in three formats.  Parsing, SQL and rendering live
 * in core/query.c; this file picks the format, maps errors to statuses,
 * sets the headers (Link, Content-Disposition) and hands FCGX's output
 * stream to the core as the writer (streams, downloads) or a buffer
 * sent with its length, a JSON page's becoming a kept answer
 * (page_cache, anscache.h).  Every handler reads the
 * authenticated user's workspace only (http_workspace(): workspace.db
 * with the last run's model.db attached as "model").
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "concord/log.h"
#include "concord/model.h"
#include "concord/query.h"
#include "concord/workspace.h"
#include "anscache.h"
#include "routes.h"

/* The limits of a request: _size up to the configured page_size_max,
 * the configured request_deadline_ms for pages (streams keep their own
 * limit), and the client checked while SQLite works; stream caps are
 * query_limits_default()'s. */
static void
limits(struct http_req *req, struct query_limits *lim)
{
	query_limits_default(lim);
	lim->size_max = req->app->cfg.page_size_max;
	if (lim->size_default > lim->size_max)
		lim->size_default = lim->size_max;
	lim->time_limit_ms = req->app->cfg.request_deadline_ms;
	lim->gone = http_client_gone_cb;
	lim->gone_ctx = req;
}

/* 1 when diag says a limit stopped the request (503 + Retry-After). */
static int
unavailable(const struct cc_diag *diag)
{
	return strcmp(diag->code, "query_time_limit") == 0 ||
	    strcmp(diag->code, "client_gone") == 0;
}

void
h_tables_list(struct http_req *req)
{
	struct query_limits lim;
	struct workspace *ws;
	struct cc_diag diag;
	json_t *tables;
	cc_err err;

	limits(req, &lim);
	if ((ws = http_workspace_read(req, NULL)) == NULL)
		return;
	cc_diag_clear(&diag);
	err = query_tables(ws->db, &lim, &tables, &diag);
	if (err != CC_OK) {
		log_error("req=%s tables: %s", req->request_id, diag.message);
		if (unavailable(&diag))
			http_unavailable(req, &diag);
		else
			http_error(req, 500, "internal", "cannot list tables");
		return;
	}
	http_reply_json(req, 200, json_pack("{s:b, s:o}", "ok", 1, "tables",
	    tables));
}

/* A format by the name's extension; strips it.  -1: no extension. */
static int
format_of_name(char *name)
{
	static const struct {
		const char		*ext;
		enum query_format	 fmt;
	} exts[] = {
		{ ".json", QUERY_JSON },
		{ ".csv", QUERY_CSV },
		{ ".ndjson", QUERY_NDJSON },
		{ ".xlsx", QUERY_XLSX },
	};
	size_t i, n = strlen(name), e;

	for (i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		e = strlen(exts[i].ext);
		if (n > e && strcmp(name + n - e, exts[i].ext) == 0) {
			name[n - e] = '\0';
			return (int)exts[i].fmt;
		}
	}
	return -1;
}

/*
 * The format an Accept header prefers (RFC 9110 12.5.1: the highest q;
 * the first listed among equals).  JSON for anything else, including no
 * header, * / * and application/ *.
 */
static enum query_format
format_of_accept(const char *accept)
{
	enum query_format best = QUERY_JSON, f;
	double bestq = -1.0, qv;
	const char *p = accept, *e, *semi, *qp;
	char media[64];
	size_t n;

	while (p != NULL && *p != '\0') {
		e = p + strcspn(p, ",");
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		semi = memchr(p, ';', (size_t)(e - p));
		n = (size_t)((semi != NULL ? semi : e) - p);
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		qv = 1.0;
		for (qp = semi; qp != NULL && qp < e;
		    qp = memchr(qp + 1, ';', (size_t)(e - qp - 1))) {
			const char *v = qp + 1;
			while (v < e && *v == ' ')
				v++;
			if (e - v > 2 && (v[0] == 'q' || v[0] == 'Q') &&
			    v[1] == '=')
				qv = strtod(v + 2, NULL);
		}
		if (n < sizeof(media)) {
			memcpy(media, p, n);
			media[n] = '\0';
			if (strcasecmp(media, "text/csv") == 0)
				f = QUERY_CSV;
			else if (strcasecmp(media,
			    "application/x-ndjson") == 0 ||
			    strcasecmp(media, "application/ndjson") == 0)
				f = QUERY_NDJSON;
			else if (strcasecmp(media, "application/json") == 0)
				f = QUERY_JSON;
			else if (strcasecmp(media, query_content_type(
			    QUERY_XLSX)) == 0)
				f = QUERY_XLSX;
			else
				f = QUERY__FORMAT_MAX;
			if (f != QUERY__FORMAT_MAX && qv > 0 && qv > bestq) {
				best = f;
				bestq = qv;
			}
		}
		p = *e == ',' ? e + 1 : e;
	}
	return best;
}

/* The core's writer: FCGX's output stream.  -1 once the client is gone. */
static int
fcgx_writer(void *ctx, const void *buf, size_t len)
{
	struct http_req *req = ctx;

	http_write(req, buf, len);
	return FCGX_GetError(req->fcgx->out) != 0 ? -1 : 0;
}

/*
 * A page (not a stream, not a download): its text is gathered here, up
 * to PAGE_KEEP bytes, and sent with its Content-Length once whole (the
 * web server then need not chunk it); a JSON page is then kept
 * (page_cache).  A longer page is sent as it comes from then on (no
 * length, not kept).
 */
#define PAGE_KEEP	(ANSCACHE_BYTES / 8)

struct page_buf {
	struct http_req	*req;
	const char	*ctype;
	char		*text;
	size_t		 len;
	size_t		 cap;
	int		 through;	/* 1: past PAGE_KEEP, written as it comes */
};

static int
page_writer(void *ctx, const void *buf, size_t len)
{
	struct page_buf *pb = ctx;
	size_t cap;
	char *t;

	if (!pb->through) {
		if (pb->len + len <= PAGE_KEEP) {
			if (pb->len + len > pb->cap) {
				cap = pb->cap == 0 ? 16384 : pb->cap;
				while (cap < pb->len + len)
					cap *= 2;
				if ((t = realloc(pb->text, cap)) == NULL)
					goto through;
				pb->text = t;
				pb->cap = cap;
			}
			memcpy(pb->text + pb->len, buf, len);
			pb->len += len;
			return 0;
		}
through:
		pb->through = 1;
		http_begin(pb->req, 200, pb->ctype, -1);
		http_write(pb->req, pb->text, pb->len);
		free(pb->text);
		pb->text = NULL;
	}
	return fcgx_writer(pb->req, buf, len);
}

/*
 * The kept answer's key of a page: its format, path and parameters as
 * sent (each length-prefixed, so that no value can pose as another
 * parameter).  NULL when out of memory.
 */
static char *
page_key(const struct http_req *req, enum query_format fmt)
{
	size_t i, n = strlen(req->path) + 64;
	char *k, *p;

	for (i = 0; i < req->nquery; i++)
		n += strlen(req->query[i].key) + strlen(req->query[i].value) +
		    48;
	if ((k = malloc(n)) == NULL)
		return NULL;
	p = k + sprintf(k, "table %d %d %zu:%s", (int)fmt, (int)req->ws.role,
	    strlen(req->path), req->path);
	for (i = 0; i < req->nquery; i++)
		p += sprintf(p, " %zu:%s=%zu:%s", strlen(req->query[i].key),
		    req->query[i].key, strlen(req->query[i].value),
		    req->query[i].value);
	return k;
}

void
h_table_get(struct http_req *req)
{
	struct query_param params[HTTP_MAX_QUERY];
	struct query_limits lim;
	struct query *q = NULL;
	const struct answer *hit;
	struct workspace *ws;
	struct page_buf pb;
	struct cc_diag diag;
	enum query_format fmt;
	enum query_cut cut;
	long long rows, version = 0;
	char name[160], *pkey = NULL, *link = NULL;
	size_t i, at;
	cc_err err;
	int f, buffered;

	if (strlen(req->params[0]) >= sizeof(name)) {
		http_error(req, 404, "not_found", "no such table");
		return;
	}
	snprintf(name, sizeof(name), "%s", req->params[0]);
	if ((f = format_of_name(name)) >= 0)
		fmt = (enum query_format)f;
	else if (http_query_get(req, "_format") != NULL) {
		/* ?_format=json|csv|ndjson|xlsx, where a suffix is awkward */
		const char *v = http_query_get(req, "_format");
		for (f = 0; f < QUERY__FORMAT_MAX; f++)
			if (strcmp(v, query_extension(
			    (enum query_format)f)) == 0)
				break;
		if (f == QUERY__FORMAT_MAX) {
			http_error(req, 400, "bad_parameter", "_format is one"
			    " of json, csv, ndjson, xlsx");
			return;
		}
		fmt = (enum query_format)f;
	} else
		fmt = format_of_accept(FCGX_GetParam("HTTP_ACCEPT",
		    req->fcgx->envp));
	/* Before anything else: only the model's public tables exist here
	 * (a user-defined entity's stg_ and dim_ tables are known once the
	 * workspace is open: query_parse() checks again). */
	if (!model_is_public_table(name) && strncmp(name, "stg_", 4) != 0 &&
	    strncmp(name, "dim_", 4) != 0) {
		http_error(req, 404, "not_found", "no such table");
		return;
	}
	for (i = 0; i < req->nquery; i++) {
		params[i].key = req->query[i].key;
		params[i].value = req->query[i].value;
	}
	limits(req, &lim);
	if ((ws = http_workspace_read(req, &version)) == NULL)
		return;
	if (req->app->cfg.page_cache && fmt == QUERY_JSON &&
	    (pkey = page_key(req, fmt)) != NULL &&
	    (hit = anscache_find(req->ws.key, pkey, version)) != NULL) {
		free(pkey);
		http_add_header(req, "Vary: Accept");
		anscache_send(req, hit);
		return;
	}
	cc_diag_clear(&diag);
	if ((err = query_parse(ws->db, name, fmt, params, req->nquery, &lim,
	    &q, &diag)) != CC_OK) {
		if (err == CC_ENOTFOUND || err == CC_EINVAL)
			http_error(req, err == CC_ENOTFOUND ? 404 : 400,
			    diag.code, "%s", diag.message);
		else {
			log_error("req=%s table %s: %s", req->request_id, name,
			    diag.message);
			http_error(req, 500, "internal",
			    "cannot read the table");
		}
		free(pkey);
		return;
	}
	cc_diag_clear(&diag);
	if ((err = query_open(q, ws->db, req->path, &diag)) != CC_OK) {
		query_close(q);
		query_free(q);
		free(pkey);
		if (unavailable(&diag)) {
			log_warn("req=%s table %s: %s", req->request_id,
			    name, diag.code);
			http_unavailable(req, &diag);
		} else {
			log_error("req=%s table %s: %s", req->request_id, name,
			    diag.message);
			http_error(req, 500, "internal",
			    "cannot read the table");
		}
		return;
	}
	http_add_header(req, "Vary: Accept");
	if (query_next_url(q) != NULL) {
		if ((link = malloc(strlen(query_next_url(q)) + 16)) != NULL)
			sprintf(link, "<%s>; rel=\"next\"", query_next_url(q));
		http_add_header(req, "Link: <%s>; rel=\"next\"",
		    query_next_url(q));
	}
	if (query_is_download(q))
		http_add_header(req, "Content-Disposition: attachment;"
		    " filename=\"%s.%s\"", name, query_extension(fmt));
	buffered = !query_is_stream(q) && !query_is_download(q);
	if (!buffered) {
		http_stream(req);
		free(pkey);
		pkey = NULL;
	}
	if (strcmp(req->method, "HEAD") == 0) {
		http_begin(req, 200, query_content_type(fmt), -1);
		goto done;
	}
	memset(&pb, 0, sizeof(pb));
	pb.req = req;
	pb.ctype = query_content_type(fmt);
	if (!buffered)
		http_begin(req, 200, query_content_type(fmt), -1);
	cc_diag_clear(&diag);
	query_write(q, buffered ? page_writer : fcgx_writer,
	    buffered ? (void *)&pb : (void *)req, &rows, &cut, &diag);
	if (cut == QUERY_CUT_ERROR || cut == QUERY_CUT_TIME)
		log_warn("req=%s table %s: cut after %lld rows: %s",
		    req->request_id, name, rows, diag.message);
	else if (cut == QUERY_CUT_ROWS || cut == QUERY_CUT_BYTES)
		log_info("req=%s table %s: stream cap after %lld rows",
		    req->request_id, name, rows);
	else if (cut == QUERY_CUT_WRITER)
		log_info("req=%s table %s: client went away after %lld"
		    " rows", req->request_id, name, rows);
	if (buffered && !pb.through) {
		/* the whole page: sent with its length, kept when whole */
		http_begin(req, 200, pb.ctype, (long long)pb.len);
		http_write(req, pb.text, pb.len);
		at = pkey != NULL ? anscache_stamp_at(pb.text, pb.len) :
		    ANSCACHE_NO_STAMP;
		if ((cut == QUERY_CUT_NONE || cut == QUERY_CUT_PAGE) &&
		    at != ANSCACHE_NO_STAMP)
			anscache_keep(req->ws.key, pkey, version, pb.ctype,
			    link, pb.text, pb.len, at);
		else
			free(pb.text);
	}
done:
	free(pkey);
	free(link);
	query_close(q);
	query_free(q);
}
