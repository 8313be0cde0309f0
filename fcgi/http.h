/*
 * fcgi/http.h - one request and its response: parameters copied out of
 * libfcgi (its strings die at the next accept), the query string decoded
 * once, the JSON envelope of ../shared/guides/http-api.md, the security
 * headers, and the one place where core errors become HTTP statuses.
 */
#ifndef CONCORD_FCGI_HTTP_H
#define CONCORD_FCGI_HTTP_H

#include <stddef.h>
#include <time.h>

#include <fcgiapp.h>
#include <jansson.h>

#include "concord/auth.h"
#include "concord/config.h"
#include "concord/control.h"
#include "concord/error.h"

struct ws_cache;

/* What a worker holds for its whole life (opened after fork). */
struct app {
	struct cc_config	 cfg;
	struct control		*ctl;
	unsigned char		 key[AUTH_SECRET_MAX];
	size_t			 keylen;
	struct ws_cache		*readers;	/* read-only workspace handles,
						   created on first use
						   (http_workspace_read()) */
};

#define HTTP_MAX_QUERY		64	/* query parameters kept */
#define HTTP_MAX_PARAMS		4	/* captures of a route pattern */
#define HTTP_MAX_HEADERS	8	/* extra response headers */

struct http_query {
	char	*key;
	char	*value;
};

struct http_req {
	FCGX_Request		*fcgx;
	struct app		*app;
	char			 method[16];
	char			*path;		/* decoded path, no query */
	char			*content_type;
	char			*remote_addr;
	char			*host;
	char			*origin;
	char			*sec_fetch_site;
	char			*authorization;
	char			*cookie;
	long long		 content_length;	/* -1 when absent */
	char			 request_id[72];	/* [A-Za-z0-9._:@-]{1,64} */
	struct http_query	 query[HTTP_MAX_QUERY];
	size_t			 nquery;
	char			*params[HTTP_MAX_PARAMS];	/* route captures */
	size_t			 nparams;
	/* Set by authentication. */
	int			 authed;
	int			 via_cookie;
	struct cc_user		 user;
	struct auth_claims	 claims;
	/* Response state. */
	char			*headers[HTTP_MAX_HEADERS];
	size_t			 nheaders;
	int			 status;
	long long		 sent;
	struct timespec		 start;
};

/*
 * Fills req from the FastCGI parameters.  Returns CC_OK or CC_ENOMEM /
 * CC_EINVAL (malformed path or query: the caller answers 400).
 */
cc_err		 http_req_init(struct http_req *req, FCGX_Request *fcgx,
		     struct app *app);
void		 http_req_free(struct http_req *req);

/* The decoded value of query parameter key, or NULL. */
const char	*http_query_get(const struct http_req *req, const char *key);

/* Adds a response header line "Name: value" (copied). */
void		 http_add_header(struct http_req *req, const char *fmt, ...)
		     __attribute__((format(printf, 2, 3)));

/* Starts a response: status line and headers (common + added). */
void		 http_begin(struct http_req *req, int status,
		     const char *content_type, long long content_length);

/* Writes body bytes after http_begin(). */
void		 http_write(struct http_req *req, const void *buf, size_t len);

/* Answers with a JSON body (stolen reference). */
void		 http_reply_json(struct http_req *req, int status, json_t *body);

/*
 * Answers with the error envelope {"ok": false, "status", "error",
 * "errors": [{"code", "detail"}]}; for 401 adds WWW-Authenticate.
 */
void		 http_error(struct http_req *req, int status, const char *code,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The same from a diagnostic: adds line, column and offset when set. */
void		 http_error_diag(struct http_req *req, int status,
		     const struct cc_diag *d);

/* The HTTP status for a core error (the one mapping in the program). */
int		 http_status_of(cc_err err);

/*
 * Reads a whole request body of at most max bytes into a new
 * NUL-terminated buffer.  Errors: CC_ETOOBIG, CC_ENOMEM, CC_EIO.
 */
cc_err		 http_read_body(struct http_req *req, size_t max, char **out,
		     size_t *len);

/*
 * Reads the body as JSON (at most 64 KiB) and answers 400/413/415 itself
 * when it is not a JSON object; returns NULL then.
 */
json_t		*http_read_json(struct http_req *req);

/*
 * 1 when the client of req has gone: the web server closed the FastCGI
 * connection (it does when its client disconnects; nginx's default
 * fastcgi_ignore_client_abort off).  A non-blocking poll() and, when
 * data is waiting, a MSG_PEEK of one byte: nothing is consumed.
 */
int		 http_client_gone(struct http_req *req);

/* http_client_gone() with a void * argument, for core callbacks. */
int		 http_client_gone_cb(void *req);

/*
 * Answers 503 with Retry-After (seconds: the configured
 * request_deadline_ms rounded up, at least 1) and the error envelope of
 * d (its code: query_time_limit or client_gone).
 */
void		 http_unavailable(struct http_req *req, const struct cc_diag *d);

/* Reads and discards the rest of the body (bounded by the upload limit). */
void		 http_drain(struct http_req *req);

#endif /* CONCORD_FCGI_HTTP_H */
