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
#include "concord/teams.h"

struct authcache;
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
	struct authcache	*auth;		/* checked tokens
						   (fcgi/authcache.h), created
						   on first use */
};

#define HTTP_MAX_QUERY		64	/* query parameters kept */
#define HTTP_MAX_PARAMS		4	/* captures of a route pattern */
#define HTTP_MAX_HEADERS	8	/* extra response headers */

/*
 * What became of a request body (http_body_read()).  Complete means the
 * FastCGI stdin stream ended with its end record (the web server's
 * "that was all": for a chunked body, nginx sends it after the
 * terminating chunk) and, when CONTENT_LENGTH was given, exactly that
 * many bytes came.  Every other end is a body cut off.
 */
enum http_body_end {
	HTTP_BODY_READING = 0,	/* not at its end yet */
	HTTP_BODY_COMPLETE,	/* ended as announced */
	HTTP_BODY_SHORT,	/* ended before CONTENT_LENGTH bytes */
	HTTP_BODY_LONG,		/* more bytes than CONTENT_LENGTH */
	HTTP_BODY_CLOSED,	/* connection closed or request aborted
				   (FCGI_ABORT_REQUEST) before the end */
	HTTP_BODY_TIMEOUT,	/* no byte for body_idle_timeout seconds */
	HTTP_BODY_ERROR,	/* another read error */
};

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
	char			*workspace_sel;	/* X-Concord-Workspace */
	long long		 content_length;	/* -1 when absent */
	/* The body (http_body_read()): bytes read so far, how it ended,
	 * and libfcgi's stream error when it was cut (errno > 0, FCGX_*
	 * < 0). */
	long long		 body_received;
	enum http_body_end	 body_end;
	int			 body_errno;
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
	/* The authentication cache's slot of this request's token (-1:
	 * none) and control.db's generation when it was checked. */
	int			 auth_slot;
	long long		 auth_gen[2];
	/* Set by the dispatcher on workspace routes (teams.h): the
	 * workspace, from the user's membership, and the role there. */
	struct ws_access	 ws;
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

/*
 * Before http_begin(): the answer is a stream of unbounded length (an
 * export, _stream=1): nginx is asked to pass it on as it is written
 * (X-Accel-Buffering: no, which nginx reads and does not forward) rather
 * than to buffer it, so the client sees rows while they are produced and
 * nothing is spooled to nginx's temporary files.  Bounded answers (a
 * page, a dashboard) stay buffered: nginx then frees the worker as soon
 * as the answer is written.
 */
void		 http_stream(struct http_req *req);

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
 * Reads the next bytes of the request body: at most size (>= 1) bytes
 * into buf (the caller's), *got set to how many.  The one place that
 * decides whether a body arrived whole (see enum http_body_end): every
 * handler that reads a body reads it through here.  A read waits at most
 * body_idle_timeout seconds for a byte (the worker sets SO_RCVTIMEO on
 * the connection).  Returns CC_OK with *got > 0; CC_EOF (*got = 0) when
 * the body is complete, also on every later call; CC_EINCOMPLETE
 * (*got = 0) when it was cut off (req->body_end says how,
 * req->body_received how many bytes came), also on every later call.
 * Bytes returned before CC_EINCOMPLETE must be thrown away.  CC_EINVAL
 * when size is 0 (nothing read).
 */
cc_err		 http_body_read(struct http_req *req, void *buf, size_t size,
		     size_t *got);

/*
 * Answers 400 for a body cut off (after http_body_read() returned
 * CC_EINCOMPLETE): the error envelope with one errors[] entry {"code":
 * "upload_incomplete", "detail", "reason" ("ended_early", "too_long",
 * "connection_closed", "idle_timeout", "read_error"), "announced" (the
 * CONTENT_LENGTH, null when absent), "received" (bytes read)}, and a log
 * line with the counts.  The client may be gone: then nobody reads it.
 */
void		 http_error_incomplete(struct http_req *req);

/*
 * Reads a whole request body of at most max bytes into a new
 * NUL-terminated buffer (*out, the caller frees it; *len its length
 * without the NUL).  Errors: CC_ETOOBIG (announced or sent more than
 * max), CC_EINCOMPLETE (cut off: see http_body_read()), CC_ENOMEM; *out
 * is untouched then.
 */
cc_err		 http_read_body(struct http_req *req, size_t max, char **out,
		     size_t *len);

/*
 * Reads the body as JSON (at most 64 KiB) and answers itself when it is
 * not a whole JSON object: 415 (not application/json), 413, 400
 * upload_incomplete (cut off, http_error_incomplete()) or 400
 * json_malformed; returns NULL then.  Otherwise a new reference the
 * caller decrefs.
 */
json_t		*http_read_json(struct http_req *req);

/* The same with a limit of max bytes (413 above it). */
json_t		*http_read_json_max(struct http_req *req, size_t max);

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

/*
 * Reads and discards the rest of the body (bounded by the upload limit
 * plus 64 MiB, and by the idle timeout).  Returns 1 when the web server's
 * FCGI_STDIN stream was read to its end without an error (nothing more
 * can arrive for this request), 0 otherwise (limit reached, timeout,
 * read error).
 */
int		 http_drain(struct http_req *req);

#endif /* CONCORD_FCGI_HTTP_H */
