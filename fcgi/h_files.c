/*
 * h_files.c - the file registry over HTTP: streamed uploads, list, one
 * file with its profile, the original bytes, delete.  Every handler works
 * in the authenticated user's workspace only, so another user's ids are
 * simply not found (404).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "concord/log.h"
#include "concord/registry.h"
#include "concord/util.h"
#include "routes.h"

#define CHUNK	65536


void
h_files_upload(struct http_req *req)
{
	const long long max = req->app->cfg.max_upload_bytes;
	const char *name = http_query_get(req, "name");
	const char *sheet = http_query_get(req, "sheet");
	struct registry_upload *up = NULL;
	struct workspace *ws;
	struct cc_diag diag;
	int duplicate;
	json_t *file;
	size_t got;
	cc_err err;
	char *buf;

	if (name == NULL || *name == '\0') {
		http_error(req, 400, "name_missing",
		    "give the file name: POST /api/v1/files?name=FILE");
		return;
	}
	if (sheet != NULL && (*sheet == '\0' || strlen(sheet) > 127)) {
		http_drain(req);
		http_error(req, 400, "sheet_invalid", "sheet names a sheet of"
		    " an xlsx workbook: 1 to 127 bytes");
		return;
	}
	if (req->content_length > max) {
		http_drain(req);
		http_error(req, 413, "too_large", "the upload limit is %lld"
		    " bytes", max);
		return;
	}
	if ((ws = http_workspace(req)) == NULL)
		return;
	if ((buf = malloc(CHUNK)) == NULL ||
	    registry_upload_begin(ws, max, &up) != CC_OK) {
		free(buf);
		ws_close(ws);
		http_error(req, 500, "internal", "cannot store the upload");
		return;
	}
	if (sheet != NULL)
		registry_upload_sheet(up, sheet);
	/* Stream to disk: constant memory, hashed as it is written.
	 * CONTENT_LENGTH may be absent (chunked): read to the end, which
	 * http_body_read() checks is the body's real end. */
	while ((err = http_body_read(req, buf, CHUNK, &got)) == CC_OK)
		if ((err = registry_upload_write(up, buf, got)) != CC_OK)
			break;
	free(buf);
	if (err != CC_EOF) {
		/* Nothing of a body cut off is kept: the temporary file goes
		 * with the upload. */
		registry_upload_abort(up);
		ws_close(ws);
		http_drain(req);
		if (err == CC_EINCOMPLETE)
			http_error_incomplete(req);
		else if (err == CC_ETOOBIG)
			http_error(req, 413, "too_large", "the upload limit is"
			    " %lld bytes", max);
		else
			http_error(req, 500, "io", "cannot store the upload");
		return;
	}
	cc_diag_clear(&diag);
	err = registry_upload_finish(ws, up, name, req->content_type, &file,
	    &duplicate, &diag);
	ws_close(ws);
	if (err != CC_OK) {
		log_info("req=%s upload refused: %s", req->request_id,
		    diag.code);
		if (err == CC_EIO || err == CC_EDB || err == CC_ENOMEM)
			log_error("req=%s upload: %s", req->request_id,
			    diag.message);
		http_error_diag(req, err == CC_EINVAL ? 400 :
		    http_status_of(err), &diag);
		return;
	}
	if (!duplicate)
		http_audit(req, "file.upload", json_string_value(
		    json_object_get(file, "id")));
	http_add_header(req, "Location: /api/v1/files/%s",
	    json_string_value(json_object_get(file, "id")));
	http_reply_json(req, duplicate ? 200 : 201, json_pack(
	    "{s:b, s:O, s:b, s:o}", "ok", 1, "id", json_object_get(file, "id"),
	    "duplicate", duplicate, "file", file));
}

void
h_files_list(struct http_req *req)
{
	const char *s = http_query_get(req, "_size"),
	    *after = http_query_get(req, "_next");
	int size = 100, max = req->app->cfg.page_size_max;
	char next[32], *end;
	struct workspace *ws;
	json_t *files, *body;
	cc_err err;

	if (s != NULL) {
		long v;
		errno = 0;
		v = strtol(s, &end, 10);
		if (errno != 0 || *end != '\0' || v < 1 || v > max) {
			http_error(req, 400, "size", "_size must be 1 to %d",
			    max);
			return;
		}
		size = (int)v;
	}
	if ((ws = http_workspace(req)) == NULL)
		return;
	err = registry_list(ws, size, after, &files, next);
	ws_close(ws);
	if (err != CC_OK) {
		if (err == CC_EINVAL)
			http_error(req, 400, "next", "invalid _next token");
		else
			http_error(req, 500, "internal", "cannot list files");
		return;
	}
	body = json_pack("{s:b, s:o}", "ok", 1, "files", files);
	if (next[0] != '\0') {
		char url[128];
		snprintf(url, sizeof(url), "/api/v1/files?_size=%d&_next=%s",
		    size, next);
		json_object_set_new(body, "next", json_string(next));
		json_object_set_new(body, "next_url", json_string(url));
		http_add_header(req, "Link: <%s>; rel=\"next\"", url);
	} else {
		json_object_set_new(body, "next", json_null());
		json_object_set_new(body, "next_url", json_null());
	}
	http_reply_json(req, 200, body);
}

void
h_files_get(struct http_req *req)
{
	json_t *file, *profile;
	struct workspace *ws;
	cc_err err;

	if ((ws = http_workspace(req)) == NULL)
		return;
	err = registry_get(ws, req->params[0], &file, &profile);
	ws_close(ws);
	if (err != CC_OK) {
		http_error(req, http_status_of(err), "not_found", "%s",
		    err == CC_ENOTFOUND ? "no such file" : cc_strerror(err));
		return;
	}
	http_reply_json(req, 200, json_pack("{s:b, s:o, s:o}", "ok", 1,
	    "file", file, "profile", profile));
}

/* Content-Disposition with an ASCII fallback and the RFC 8187 form. */
static void
add_disposition(struct http_req *req, const char *name)
{
	char ascii[256], enc[256 * 3 + 1];
	size_t i, a = 0, e = 0;

	for (i = 0; name[i] != '\0' && a < sizeof(ascii) - 1; i++) {
		unsigned char c = (unsigned char)name[i];
		ascii[a++] = (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ?
		    (char)c : '_';
	}
	ascii[a] = '\0';
	for (i = 0; name[i] != '\0' && e < sizeof(enc) - 4; i++) {
		unsigned char c = (unsigned char)name[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~", c) != NULL)
			enc[e++] = (char)c;
		else
			e += (size_t)snprintf(enc + e, 4, "%%%02X", c);
	}
	enc[e] = '\0';
	http_add_header(req, "Content-Disposition: attachment;"
	    " filename=\"%s\"; filename*=UTF-8''%s", ascii, enc);
}

void
h_files_raw(struct http_req *req)
{
	char path[PATH_MAX], *name = NULL, *ctype = NULL, *buf;
	struct workspace *ws;
	struct stat st;
	ssize_t n;
	cc_err err;
	int fd;

	if ((ws = http_workspace(req)) == NULL)
		return;
	err = registry_raw(ws, req->params[0], path, &name, &ctype);
	ws_close(ws);
	if (err != CC_OK) {
		http_error(req, http_status_of(err), "not_found", "%s",
		    err == CC_ENOTFOUND ? "no such file" : cc_strerror(err));
		return;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) != 0 ||
	    (buf = malloc(CHUNK)) == NULL) {
		if (fd >= 0)
			close(fd);
		free(name);
		free(ctype);
		http_error(req, 500, "io", "the stored file cannot be read");
		return;
	}
	add_disposition(req, name);
	http_begin(req, 200, ctype, (long long)st.st_size);
	if (strcmp(req->method, "HEAD") != 0)
		while ((n = read(fd, buf, CHUNK)) > 0)
			http_write(req, buf, (size_t)n);
	close(fd);
	free(buf);
	free(name);
	free(ctype);
}

void
h_files_delete(struct http_req *req)
{
	struct workspace *ws;
	cc_err err;

	if ((ws = http_workspace(req)) == NULL)
		return;
	err = registry_delete(ws, req->params[0]);
	ws_close(ws);
	if (err != CC_OK) {
		http_error(req, http_status_of(err), "not_found", "%s",
		    err == CC_ENOTFOUND ? "no such file" : cc_strerror(err));
		return;
	}
	http_audit(req, "file.delete", req->params[0]);
	http_reply_json(req, 200, json_pack("{s:b}", "ok", 1));
}
