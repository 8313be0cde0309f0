/* h_misc.c - health and the OpenAPI document. */
#include "config.h"

#include <string.h>

#include "routes.h"

/* fcgi/openapi.json, linked in at build time (see Makefile.am). */
__asm__(
    ".section .rodata\n"
    ".global concord_openapi_json\n"
    "concord_openapi_json:\n"
    ".incbin \"" OPENAPI_JSON_PATH "\"\n"
    ".byte 0\n"
    ".previous\n");
extern const char concord_openapi_json[];

void
h_health(struct http_req *req)
{
	sqlite3_stmt *st;
	int ok = 0;

	if (sqlite3_prepare_v2(req->app->ctl->db, "SELECT count(*) FROM users",
	    -1, &st, NULL) == SQLITE_OK) {
		ok = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_finalize(st);
	}
	if (!ok) {
		http_error(req, 503, "control_db", "the control database does"
		    " not answer");
		return;
	}
	http_reply_json(req, 200, json_pack("{s:b, s:s, s:s}", "ok", 1,
	    "status", "ok", "version", PACKAGE_VERSION));
}

void
h_openapi(struct http_req *req)
{
	size_t len = strlen(concord_openapi_json);

	http_begin(req, 200, "application/json", (long long)len);
	http_write(req, concord_openapi_json, len);
}
