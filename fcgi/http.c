/* http.c - requests, responses and the error envelope (fcgi/http.h). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <poll.h>
#include <sys/socket.h>

#include "concord/log.h"
#include "concord/util.h"
#include "http.h"

static char *
param_dup(FCGX_Request *f, const char *name)
{
	const char *v = FCGX_GetParam(name, f->envp);

	return v != NULL ? strdup(v) : NULL;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Percent-decodes s in place (and '+' as space if plus); -1 on a bad
 * escape or an encoded NUL. */
static int
url_decode(char *s, int plus)
{
	char *o = s;
	int hi, lo;

	for (; *s != '\0'; s++) {
		if (*s == '%') {
			if ((hi = hexval((unsigned char)s[1])) < 0 ||
			    (lo = hexval((unsigned char)s[2])) < 0 ||
			    (hi == 0 && lo == 0))
				return -1;
			*o++ = (char)(hi * 16 + lo);
			s += 2;
		} else if (*s == '+' && plus)
			*o++ = ' ';
		else
			*o++ = *s;
	}
	*o = '\0';
	return 0;
}

static cc_err
parse_query(struct http_req *req, const char *qs)
{
	char *copy, *part, *save = NULL, *eq;

	if (qs == NULL || *qs == '\0')
		return CC_OK;
	if ((copy = strdup(qs)) == NULL)
		return CC_ENOMEM;
	for (part = strtok_r(copy, "&", &save); part != NULL;
	    part = strtok_r(NULL, "&", &save)) {
		if (req->nquery == HTTP_MAX_QUERY)
			break;
		if ((eq = strchr(part, '=')) != NULL)
			*eq++ = '\0';
		else
			eq = part + strlen(part);
		if (url_decode(part, 1) != 0 || url_decode(eq, 1) != 0) {
			free(copy);
			return CC_EINVAL;
		}
		req->query[req->nquery].key = strdup(part);
		req->query[req->nquery].value = strdup(eq);
		if (req->query[req->nquery].key == NULL ||
		    req->query[req->nquery].value == NULL) {
			free(copy);
			return CC_ENOMEM;
		}
		req->nquery++;
	}
	free(copy);
	return CC_OK;
}

static int
valid_request_id(const char *s)
{
	size_t i;

	if (s == NULL || *s == '\0' || strlen(s) > 64)
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("-._:@", s[i]) == NULL)
			return 0;
	return 1;
}

cc_err
http_req_init(struct http_req *req, FCGX_Request *fcgx, struct app *app)
{
	const char *v, *uri;
	char *end;
	size_t n;

	memset(req, 0, sizeof(*req));
	req->auth_slot = -1;
	clock_gettime(CLOCK_MONOTONIC, &req->start);
	req->fcgx = fcgx;
	req->app = app;
	req->content_length = -1;
	v = FCGX_GetParam("REQUEST_ID", fcgx->envp);
	if (valid_request_id(v))
		snprintf(req->request_id, sizeof(req->request_id), "%s", v);
	else
		util_random_hex(req->request_id, 16);
	v = FCGX_GetParam("REQUEST_METHOD", fcgx->envp);
	snprintf(req->method, sizeof(req->method), "%s", v != NULL ? v : "");
	req->content_type = param_dup(fcgx, "CONTENT_TYPE");
	req->remote_addr = param_dup(fcgx, "REMOTE_ADDR");
	req->host = param_dup(fcgx, "HTTP_HOST");
	req->origin = param_dup(fcgx, "HTTP_ORIGIN");
	req->sec_fetch_site = param_dup(fcgx, "HTTP_SEC_FETCH_SITE");
	req->authorization = param_dup(fcgx, "HTTP_AUTHORIZATION");
	req->cookie = param_dup(fcgx, "HTTP_COOKIE");
	req->workspace_sel = param_dup(fcgx, "HTTP_X_CONCORD_WORKSPACE");
	if ((v = FCGX_GetParam("CONTENT_LENGTH", fcgx->envp)) != NULL &&
	    *v != '\0') {
		errno = 0;
		req->content_length = strtoll(v, &end, 10);
		if (errno != 0 || *end != '\0' || req->content_length < 0)
			return CC_EINVAL;
	}
	/* REQUEST_URI is the raw target in nginx and Apache alike. */
	uri = FCGX_GetParam("REQUEST_URI", fcgx->envp);
	if (uri == NULL)
		uri = FCGX_GetParam("DOCUMENT_URI", fcgx->envp);
	if (uri == NULL || *uri != '/')
		return CC_EINVAL;
	n = strcspn(uri, "?");
	if ((req->path = strndup(uri, n)) == NULL)
		return CC_ENOMEM;
	if (url_decode(req->path, 0) != 0 || strstr(req->path, "/..") != NULL)
		return CC_EINVAL;
	return parse_query(req, uri[n] == '?' ? uri + n + 1 :
	    FCGX_GetParam("QUERY_STRING", fcgx->envp));
}

void
http_req_free(struct http_req *req)
{
	size_t i;

	free(req->path);
	free(req->content_type);
	free(req->remote_addr);
	free(req->host);
	free(req->origin);
	free(req->sec_fetch_site);
	free(req->authorization);
	free(req->cookie);
	free(req->workspace_sel);
	for (i = 0; i < req->nquery; i++) {
		free(req->query[i].key);
		free(req->query[i].value);
	}
	for (i = 0; i < req->nparams; i++)
		free(req->params[i]);
	for (i = 0; i < req->nheaders; i++)
		free(req->headers[i]);
}

const char *
http_query_get(const struct http_req *req, const char *key)
{
	size_t i;

	for (i = 0; i < req->nquery; i++)
		if (strcmp(req->query[i].key, key) == 0)
			return req->query[i].value;
	return NULL;
}

void
http_add_header(struct http_req *req, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (req->nheaders == HTTP_MAX_HEADERS)
		return;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s != NULL)
		req->headers[req->nheaders++] = s;
}

static const char *
reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Status";
	}
}

void
http_stream(struct http_req *req)
{
	http_add_header(req, "X-Accel-Buffering: no");
}

void
http_begin(struct http_req *req, int status, const char *content_type,
    long long content_length)
{
	FCGX_Stream *out = req->fcgx->out;
	size_t i;

	req->status = status;
	FCGX_FPrintF(out, "Status: %d %s\r\n", status, reason(status));
	FCGX_FPrintF(out, "Content-Type: %s\r\n", content_type);
	if (content_length >= 0)
		FCGX_FPrintF(out, "Content-Length: %lld\r\n", content_length);
	FCGX_FPrintF(out, "X-Request-Id: %s\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Referrer-Policy: no-referrer\r\n"
	    "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n"
	    "Cache-Control: no-store\r\n", req->request_id);
	for (i = 0; i < req->nheaders; i++)
		FCGX_FPrintF(out, "%s\r\n", req->headers[i]);
	FCGX_PutS("\r\n", out);
}

void
http_write(struct http_req *req, const void *buf, size_t len)
{
	if (len == 0)
		return;
	if (FCGX_PutStr(buf, (int)len, req->fcgx->out) == (int)len)
		req->sent += (long long)len;
}

void
http_reply_json(struct http_req *req, int status, json_t *body)
{
	char *text;

	if (body == NULL || (text = json_dumps(body,
	    JSON_COMPACT | JSON_ENSURE_ASCII)) == NULL) {
		json_decref(body);
		static const char oom[] = "{\"ok\":false,\"status\":500,"
		    "\"error\":\"out of memory\",\"errors\":[]}";
		http_begin(req, 500, "application/json", sizeof(oom) - 1);
		http_write(req, oom, sizeof(oom) - 1);
		return;
	}
	json_decref(body);
	http_begin(req, status, "application/json", (long long)strlen(text));
	http_write(req, text, strlen(text));
	free(text);
}

/* The envelope; extra (stolen, may be NULL) adds members to errors[0]. */
static void
reply_error(struct http_req *req, int status, const char *code,
    const char *detail, const struct cc_diag *d, json_t *extra)
{
	json_t *err, *body;

	err = json_pack("{s:s, s:s}", "code", code, "detail", detail);
	if (err != NULL && extra != NULL)
		json_object_update(err, extra);
	json_decref(extra);
	if (d != NULL && d->line > 0)
		json_object_set_new(err, "line", json_integer(d->line));
	if (d != NULL && d->column > 0)
		json_object_set_new(err, "column", json_integer(d->column));
	if (d != NULL && (d->offset > 0 || d->line > 0))
		json_object_set_new(err, "offset", json_integer(d->offset));
	body = json_pack("{s:b, s:i, s:s, s:[o]}", "ok", 0, "status", status,
	    "error", detail, "errors", err);
	if (status == 401)
		http_add_header(req, "WWW-Authenticate: Bearer realm=\"concord\""
		    "%s", strcmp(code, "unauthenticated") == 0 ? "" :
		    ", error=\"invalid_token\"");
	http_reply_json(req, status, body);
}

void
http_error(struct http_req *req, int status, const char *code,
    const char *fmt, ...)
{
	char detail[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	reply_error(req, status, code, detail, NULL, NULL);
}

void
http_error_diag(struct http_req *req, int status, const struct cc_diag *d)
{
	char detail[512];

	if (d->line > 0 && d->column > 0)
		snprintf(detail, sizeof(detail), "line %ld, column %ld: %s",
		    d->line, d->column, d->message);
	else if (d->line > 0)
		snprintf(detail, sizeof(detail), "line %ld: %s", d->line,
		    d->message);
	else
		snprintf(detail, sizeof(detail), "%s", d->message[0] != '\0' ?
		    d->message : reason(status));
	reply_error(req, status, d->code[0] != '\0' ? d->code : "error",
	    detail, d, NULL);
}

int
http_status_of(cc_err err)
{
	switch (err) {
	case CC_OK:		return 200;
	case CC_EINVAL:
	case CC_EINCOMPLETE:	return 400;
	case CC_EAUTH:		return 401;
	case CC_EFORBIDDEN:	return 403;
	case CC_ENOTFOUND:	return 404;
	case CC_EEXIST:
	case CC_ECONFLICT:	return 409;
	case CC_ETOOBIG:	return 413;
	case CC_EUNSUPPORTED:	return 415;
	case CC_EPARSE:
	case CC_EENCODING:
	case CC_EINVALID:	return 422;
	case CC_ERATE:		return 429;
	default:		return 500;
	}
}

cc_err
http_body_read(struct http_req *req, void *buf, size_t size, size_t *got)
{
	FCGX_Stream *in = req->fcgx->in;
	const long long announced = req->content_length;
	int n, e;

	*got = 0;
	if (size == 0)
		return CC_EINVAL;
	if (req->body_end == HTTP_BODY_COMPLETE)
		return CC_EOF;
	if (req->body_end != HTTP_BODY_READING)
		return CC_EINCOMPLETE;
	n = FCGX_GetStr(buf, size > INT_MAX ? INT_MAX : (int)size, in);
	if (n > 0) {
		req->body_received += n;
		if (announced >= 0 && req->body_received > announced) {
			req->body_end = HTTP_BODY_LONG;
			return CC_EINCOMPLETE;
		}
		*got = (size_t)n;
		return CC_OK;
	}
	/* libfcgi closes the stream at the end record (no error), and
	 * sets an error when the connection ends first (read() == 0:
	 * FCGX_PROTOCOL_ERROR), when another record type comes instead
	 * (FCGI_ABORT_REQUEST: FCGX_PROTOCOL_ERROR), or when read()
	 * fails (errno; EAGAIN after SO_RCVTIMEO). */
	if ((e = FCGX_GetError(in)) == 0) {
		req->body_end = announced >= 0 &&
		    req->body_received != announced ? HTTP_BODY_SHORT :
		    HTTP_BODY_COMPLETE;
		return req->body_end == HTTP_BODY_COMPLETE ? CC_EOF :
		    CC_EINCOMPLETE;
	}
	req->body_errno = e;
	if (e == EAGAIN || e == EWOULDBLOCK)
		req->body_end = HTTP_BODY_TIMEOUT;
	else if (e == FCGX_PROTOCOL_ERROR || e == ECONNRESET || e == EPIPE)
		req->body_end = HTTP_BODY_CLOSED;
	else
		req->body_end = HTTP_BODY_ERROR;
	return CC_EINCOMPLETE;
}

void
http_error_incomplete(struct http_req *req)
{
	static const char *const reasons[] = {
		"reading",		/* HTTP_BODY_READING */
		"complete",		/* HTTP_BODY_COMPLETE */
		"ended_early",		/* HTTP_BODY_SHORT */
		"too_long",		/* HTTP_BODY_LONG */
		"connection_closed",	/* HTTP_BODY_CLOSED */
		"idle_timeout",		/* HTTP_BODY_TIMEOUT */
		"read_error",		/* HTTP_BODY_ERROR */
	};
	const long long announced = req->content_length,
	    received = req->body_received;
	const char *reason = reasons[req->body_end];
	char detail[256], of[64] = "";

	if (announced >= 0)
		snprintf(of, sizeof(of), " of %lld announced", announced);
	switch (req->body_end) {
	case HTTP_BODY_LONG:
		snprintf(detail, sizeof(detail), "the request body is longer"
		    " than the %lld bytes announced; nothing was stored",
		    announced);
		break;
	case HTTP_BODY_TIMEOUT:
		snprintf(detail, sizeof(detail), "no byte of the request body"
		    " arrived for %ld s after %lld%s bytes; nothing was stored",
		    req->app->cfg.body_idle_timeout, received, of);
		break;
	default:
		snprintf(detail, sizeof(detail), "the request body was cut"
		    " off after %lld%s bytes (%s); nothing was stored",
		    received, of, req->body_end == HTTP_BODY_SHORT ?
		    "it ended early" : req->body_end == HTTP_BODY_CLOSED ?
		    "the connection closed before its end" : "read error");
		break;
	}
	log_info("req=%s body incomplete: %s, announced %lld, received %lld"
	    " (stream error %d)", req->request_id, reason, announced, received,
	    req->body_errno);
	reply_error(req, http_status_of(CC_EINCOMPLETE), "upload_incomplete",
	    detail, NULL, json_pack("{s:s, s:o, s:I}", "reason", reason,
	    "announced", announced >= 0 ? json_integer(announced) :
	    json_null(), "received", (json_int_t)received));
}

cc_err
http_read_body(struct http_req *req, size_t max, char **out, size_t *len)
{
	size_t cap = 4096, n = 0, got;
	char *buf, *nb;
	cc_err err;

	if (req->content_length > (long long)max)
		return CC_ETOOBIG;
	if ((buf = malloc(cap + 1)) == NULL)
		return CC_ENOMEM;
	for (;;) {
		if (n == cap) {
			if (cap >= max + 1) {
				free(buf);
				return CC_ETOOBIG;
			}
			cap *= 2;
			if ((nb = realloc(buf, cap + 1)) == NULL) {
				free(buf);
				return CC_ENOMEM;
			}
			buf = nb;
		}
		if ((err = http_body_read(req, buf + n, cap - n, &got)) !=
		    CC_OK)
			break;
		n += got;
		if (n > max) {
			free(buf);
			return CC_ETOOBIG;
		}
	}
	if (err != CC_EOF) {
		free(buf);
		return err;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return CC_OK;
}

json_t *
http_read_json(struct http_req *req)
{
	return http_read_json_max(req, 65536);
}

json_t *
http_read_json_max(struct http_req *req, size_t max)
{
	json_error_t jerr;
	json_t *doc;
	size_t len;
	char *body;
	cc_err err;

	if (req->content_type == NULL ||
	    strncasecmp(req->content_type, "application/json", 16) != 0) {
		http_error(req, 415, "content_type",
		    "send the request body as application/json");
		return NULL;
	}
	if ((err = http_read_body(req, max, &body, &len)) != CC_OK) {
		if (err == CC_EINCOMPLETE)
			http_error_incomplete(req);
		else
			http_error(req, http_status_of(err), "body",
			    "cannot read the request body: %s",
			    cc_strerror(err));
		return NULL;
	}
	doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	free(body);
	if (doc == NULL || !json_is_object(doc)) {
		json_decref(doc);
		http_error(req, 400, "json_malformed",
		    "the request body must be a JSON object%s%s",
		    doc == NULL ? ": " : "", doc == NULL ? jerr.text : "");
		return NULL;
	}
	return doc;
}

int
http_drain(struct http_req *req)
{
	char buf[65536];
	long long total = 0,
	    max = req->app->cfg.max_upload_bytes + (64LL << 20);
	int got;

	while ((got = FCGX_GetStr(buf, sizeof(buf), req->fcgx->in)) > 0)
		if ((total += got) > max)
			return 0;
	return FCGX_HasSeenEOF(req->fcgx->in) == EOF &&
	    FCGX_GetError(req->fcgx->in) == 0;
}

int
http_client_gone(struct http_req *req)
{
	struct pollfd p;
	char c;

	if (req == NULL || req->fcgx == NULL || req->fcgx->ipcFd < 0)
		return 0;
	p.fd = req->fcgx->ipcFd;
	p.events = POLLIN | POLLRDHUP;
	p.revents = 0;
	if (poll(&p, 1, 0) <= 0)
		return 0;
	if (p.revents & (POLLHUP | POLLERR | POLLNVAL | POLLRDHUP))
		return 1;
	if (p.revents & POLLIN)
		return recv(p.fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
	return 0;
}

int
http_client_gone_cb(void *req)
{
	return http_client_gone(req);
}

void
http_unavailable(struct http_req *req, const struct cc_diag *d)
{
	long ms = req->app != NULL ? req->app->cfg.request_deadline_ms : 0;

	http_add_header(req, "Retry-After: %ld", ms > 0 ? (ms + 999) / 1000 :
	    1);
	http_error_diag(req, 503, d);
}
