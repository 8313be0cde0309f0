/* routes.c - the route table and dispatcher (fcgi/routes.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "concord/log.h"
#include "authcache.h"
#include "routes.h"

/* "{}" in a pattern captures one path segment. */
static const struct route {
	const char	*method;
	const char	*pattern;
	route_handler	 handler;
	enum route_auth	 auth;
} routes[] = {
	{ "GET",    "/api/v1/health",			h_health,	 ROUTE_PUBLIC },
	{ "GET",    "/api/v1/openapi.json",		h_openapi,	 ROUTE_PUBLIC },
	{ "POST",   "/api/v1/auth/login",		h_login,	 ROUTE_PUBLIC },
	{ "POST",   "/api/v1/auth/logout",		h_logout,	 ROUTE_USER },
	{ "GET",    "/api/v1/me",			h_me,		 ROUTE_USER },
	{ "PUT",    "/api/v1/me/password",		h_me_password,	 ROUTE_USER },
	{ "GET",    "/api/v1/users",			h_users_list,	 ROUTE_ADMIN },
	{ "POST",   "/api/v1/users",			h_users_create,	 ROUTE_ADMIN },
	{ "POST",   "/api/v1/users/{}/disable",		h_users_disable, ROUTE_ADMIN },
	{ "POST",   "/api/v1/users/{}/enable",		h_users_enable,	 ROUTE_ADMIN },
	{ "PUT",    "/api/v1/users/{}/password",	h_users_password, ROUTE_ADMIN },
	{ "GET",    "/api/v1/files",			h_files_list,	 ROUTE_VIEWER },
	{ "POST",   "/api/v1/files",			h_files_upload,	 ROUTE_EDITOR },
	{ "GET",    "/api/v1/files/{}",			h_files_get,	 ROUTE_VIEWER },
	{ "DELETE", "/api/v1/files/{}",			h_files_delete,	 ROUTE_EDITOR },
	{ "GET",    "/api/v1/files/{}/raw",		h_files_raw,	 ROUTE_VIEWER },
	{ "GET",    "/api/v1/files/{}/mapping",		h_mapping_get,	 ROUTE_VIEWER },
	{ "PUT",    "/api/v1/files/{}/mapping",		h_mapping_put,	 ROUTE_EDITOR },
	{ "GET",    "/api/v1/files/{}/preview",		h_preview,	 ROUTE_VIEWER },
	{ "POST",   "/api/v1/files/{}/preview",		h_preview,	 ROUTE_VIEWER },
	{ "GET",    "/api/v1/schema",			h_schema,	 ROUTE_VIEWER },
	{ "GET",    "/api/v1/schema/entities",		h_entities_list, ROUTE_VIEWER },
	{ "POST",   "/api/v1/schema/entities",		h_entities_create, ROUTE_EDITOR },
	{ "GET",    "/api/v1/schema/entities/{}",	h_entities_get,	 ROUTE_VIEWER },
	{ "PUT",    "/api/v1/schema/entities/{}",	h_entities_put,	 ROUTE_EDITOR },
	{ "DELETE", "/api/v1/schema/entities/{}",	h_entities_delete, ROUTE_EDITOR },
	{ "GET",    "/api/v1/runs",			h_runs_list,	 ROUTE_VIEWER },
	{ "POST",   "/api/v1/runs",			h_runs_create,	 ROUTE_EDITOR },
	{ "GET",    "/api/v1/runs/{}",			h_runs_get,	 ROUTE_VIEWER },
	{ "DELETE", "/api/v1/runs/{}",			h_runs_cancel,	 ROUTE_EDITOR },
	{ "POST",   "/api/v1/runs/{}/cancel",		h_runs_cancel,	 ROUTE_EDITOR },
	{ "GET",    "/api/v1/runs/{}/quality",		h_runs_quality,	 ROUTE_VIEWER },
	{ "GET",    "/api/v1/dashboards",		h_dashboards_list, ROUTE_VIEWER },
	{ "GET",    "/api/v1/dashboards/{}",		h_dashboards_get, ROUTE_VIEWER },
	{ "GET",    "/api/v1/tables",			h_tables_list,	 ROUTE_VIEWER },
	{ "GET",    "/api/v1/tables/{}",		h_table_get,	 ROUTE_VIEWER },
	{ "GET",    "/api/v1/review",			h_review_list,	 ROUTE_VIEWER },
	{ "POST",   "/api/v1/review/{}",		h_review_decide, ROUTE_EDITOR },
	{ "POST",   "/api/v1/clusters/{}/{}/split",	h_cluster_split, ROUTE_EDITOR },
	{ "GET",    "/api/v1/matching",			h_matching,	 ROUTE_VIEWER },
	{ "POST",   "/api/v1/query",			h_query,	 ROUTE_VIEWER },
	{ "POST",   "/api/v1/ask",			h_ask,		 ROUTE_VIEWER },
	{ "GET",    "/api/v1/workspaces",		h_workspaces_list, ROUTE_USER },
	{ "GET",    "/api/v1/audit",			h_audit_list,	 ROUTE_OWNER },
	{ "GET",    "/api/v1/audit.csv",		h_audit_list,	 ROUTE_OWNER },
	{ "GET",    "/api/v1/teams",			h_teams_list,	 ROUTE_USER },
	{ "POST",   "/api/v1/teams",			h_teams_create,	 ROUTE_ADMIN },
	{ "GET",    "/api/v1/teams/{}",			h_teams_get,	 ROUTE_USER },
	{ "DELETE", "/api/v1/teams/{}",			h_teams_delete,	 ROUTE_USER },
	{ "GET",    "/api/v1/teams/{}/members",		h_team_members_list, ROUTE_USER },
	{ "POST",   "/api/v1/teams/{}/members",		h_team_members_add, ROUTE_USER },
	{ "PUT",    "/api/v1/teams/{}/members/{}",	h_team_member_put, ROUTE_USER },
	{ "DELETE", "/api/v1/teams/{}/members/{}",	h_team_member_delete, ROUTE_USER },
};

/* Matches path against pattern; on success stores the captures. */
static int
match(const char *pattern, const char *path, char **caps, size_t *ncaps)
{
	const char *p = pattern, *s = path, *e;
	size_t n = 0, i;

	while (*p != '\0' && *s != '\0') {
		if (p[0] == '{' && p[1] == '}') {
			e = s + strcspn(s, "/");
			if (e == s || n == HTTP_MAX_PARAMS)
				goto fail;
			if ((caps[n++] = strndup(s, (size_t)(e - s))) == NULL)
				goto fail;
			s = e;
			p += 2;
		} else if (*p++ != *s++)
			goto fail;
	}
	if (*p != '\0' || *s != '\0')
		goto fail;
	*ncaps = n;
	return 1;
fail:
	for (i = 0; i < n; i++) {
		free(caps[i]);
		caps[i] = NULL;
	}
	return 0;
}

static int workspace_refused(struct http_req *req, enum route_auth need);

/* A route the table does not mark as a workspace route reached for its
 * workspace (a route added without its role): resolved now, with the
 * role its method needs.  0, or 1 after answering. */
static int
workspace_late(struct http_req *req)
{
	if (req->ws.key[0] != '\0')
		return 0;
	return workspace_refused(req, !strcmp(req->method, "GET") ||
	    !strcmp(req->method, "HEAD") ? ROUTE_VIEWER : ROUTE_EDITOR);
}

struct workspace *
http_workspace(struct http_req *req)
{
	struct workspace *ws = NULL;
	struct cc_diag diag;

	if (workspace_late(req))
		return NULL;
	cc_diag_clear(&diag);
	if (ws_open(req->app->cfg.data_dir, req->ws.key, &ws, &diag) !=
	    CC_OK) {
		log_error("req=%s workspace: %s", req->request_id, diag.message);
		http_error(req, 500, "workspace", "the workspace cannot be"
		    " opened");
		return NULL;
	}
	return ws;
}

#define READERS_MAX	16	/* read-only workspace handles per worker */
#define AUTHCACHE_ENTRIES 64	/* checked tokens kept per worker */

struct workspace *
http_workspace_read(struct http_req *req, long long *version)
{
	struct workspace *ws = NULL;
	struct cc_diag diag;

	if (workspace_late(req))
		return NULL;
	cc_diag_clear(&diag);
	if (req->app->readers == NULL &&
	    ws_cache_new(READERS_MAX, &req->app->readers) != CC_OK) {
		http_error(req, 500, "workspace", "out of memory");
		return NULL;
	}
	if (ws_cache_get(req->app->readers, req->app->cfg.data_dir,
	    req->ws.key, &ws, version, &diag) != CC_OK) {
		log_error("req=%s workspace: %s", req->request_id, diag.message);
		http_error(req, 500, "workspace", "the workspace cannot be"
		    " opened");
		return NULL;
	}
	return ws;
}

void
http_audit(struct http_req *req, const char *action, const char *target)
{
	if (control_audit_ws(req->app->ctl, req->ws.key, req->user.id,
	    req->user.username, action, target, req->remote_addr, "ok",
	    req->request_id) != CC_OK)
		log_warn("req=%s audit log write failed", req->request_id);
}

/*
 * Picks the workspace of a workspace route from the user's memberships
 * (never from the request alone) and checks the route's role.  0, or 1
 * after answering 400, 404 (a team the user is not in answers exactly as
 * one that does not exist), 403 or 500.
 */
static int
workspace_refused(struct http_req *req, enum route_auth need)
{
	static const enum team_role role_of[] = {
		[ROUTE_VIEWER] = TEAM_VIEWER,
		[ROUTE_EDITOR] = TEAM_EDITOR,
		[ROUTE_OWNER] = TEAM_OWNER,
	};
	struct cc_diag diag;
	cc_err err;

	cc_diag_clear(&diag);
	if (authcache_ws_get(req->app->auth, req->auth_slot,
	    req->workspace_sel, &req->ws))
		err = CC_OK;
	else if ((err = team_resolve(req->app->ctl, &req->user,
	    req->workspace_sel, &req->ws, &diag)) == CC_OK)
		authcache_ws_put(req->app->auth, req->auth_slot,
		    req->workspace_sel, &req->ws);
	if (err != CC_OK) {
		if (err == CC_EDB)
			log_error("req=%s membership: %s", req->request_id,
			    diag.message);
		http_error(req, err == CC_EINVAL ? 400 : err == CC_ENOTFOUND ?
		    404 : 500, err == CC_EDB ? "internal" : diag.code, "%s",
		    err == CC_EDB ? "the membership cannot be read" :
		    diag.message);
		return 1;
	}
	if (req->ws.role < role_of[need]) {
		http_error(req, 403, "forbidden", "this needs the %s role in"
		    " this workspace (yours: %s)", team_role_name(role_of[need]),
		    team_role_name(req->ws.role));
		return 1;
	}
	return 0;
}

const char *
routes_cookie_name(const struct cc_config *cfg)
{
	/* __Host- requires Secure (RFC 6265bis): only then. */
	return cfg->cookie_secure ? "__Host-concord" : "concord";
}

/* The value of cookie name in a Cookie header, copied into out. */
static int
cookie_value(const char *header, const char *name, char *out, size_t size)
{
	size_t nlen = strlen(name), vlen;
	const char *p = header;

	while (p != NULL && *p != '\0') {
		while (*p == ' ' || *p == ';')
			p++;
		if (strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
			p += nlen + 1;
			vlen = strcspn(p, ";");
			if (vlen == 0 || vlen >= size)
				return 0;
			memcpy(out, p, vlen);
			out[vlen] = '\0';
			return 1;
		}
		p = strchr(p, ';');
	}
	return 0;
}

cc_err
routes_authenticate(struct http_req *req, struct cc_diag *diag)
{
	char token[4200];
	const char *a = req->authorization;
	struct app *app = req->app;
	long long gen[2];
	time_t now;
	cc_err err;

	if (a != NULL && strncasecmp(a, "Bearer ", 7) == 0) {
		snprintf(token, sizeof(token), "%s", a + 7);
		req->via_cookie = 0;
	} else if (req->cookie != NULL && cookie_value(req->cookie,
	    routes_cookie_name(&app->cfg), token, sizeof(token)))
		req->via_cookie = 1;
	else
		return cc_diag_set(diag, CC_EAUTH, "unauthenticated",
		    "sign in first: send an access token");
	now = time(NULL);
	req->auth_slot = -1;
	/* out of memory leaves app->auth NULL: every token is checked */
	if (app->auth == NULL)
		(void)authcache_new(AUTHCACHE_ENTRIES, &app->auth);
	/* control.db unchanged since a token was checked: what was read
	 * then still holds (authcache.h) */
	if (app->auth != NULL &&
	    control_generation(app->ctl, req->auth_gen) == CC_OK &&
	    (req->auth_slot = authcache_get(app->auth, token, req->auth_gen,
	    now, &req->claims, &req->user)) >= 0) {
		req->authed = 1;
		return CC_OK;
	}
	if ((err = auth_token_verify(app->key, app->keylen, token, now,
	    &req->claims, diag)) != CC_OK)
		return err == CC_ECONFIG ? CC_EAUTH : err;
	if ((err = auth_session_check(app->ctl, &req->claims, &req->user,
	    diag)) != CC_OK)
		return err;
	/* read again, in case the checks raced a write: kept only when
	 * the generation did not move across them */
	if (app->auth != NULL && control_generation(app->ctl, gen) == CC_OK &&
	    gen[0] == req->auth_gen[0] && gen[1] == req->auth_gen[1])
		req->auth_slot = authcache_put(app->auth, token, gen,
		    &req->claims, &req->user);
	req->authed = 1;
	return CC_OK;
}

static int
unsafe_method(const char *m)
{
	return strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0 &&
	    strcmp(m, "OPTIONS") != 0;
}

/* The host[:port] part of an Origin ("scheme://host[:port]"). */
static const char *
origin_host(const char *origin)
{
	const char *p = strstr(origin, "://");

	return p != NULL ? p + 3 : NULL;
}

int
routes_csrf_refused(struct http_req *req)
{
	const char *s = req->sec_fetch_site, *h;

	if (!unsafe_method(req->method))
		return 0;
	if (s != NULL) {
		if (strcmp(s, "same-origin") == 0 || strcmp(s, "none") == 0)
			return 0;
	} else if (req->origin == NULL || (req->host != NULL &&
	    (h = origin_host(req->origin)) != NULL &&
	    strcasecmp(h, req->host) == 0))
		return 0;
	http_error(req, 403, "cross_site",
	    "cross-site requests are refused for browser sessions");
	return 1;
}

void
routes_dispatch(struct http_req *req)
{
	char allow[128] = "";
	const struct route *r = NULL;
	struct cc_diag diag;
	size_t i, n;
	char *caps[HTTP_MAX_PARAMS] = { 0 };

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!match(routes[i].pattern, req->path, caps, &n))
			continue;
		if (strcmp(routes[i].method, req->method) == 0 ||
		    (strcmp(req->method, "HEAD") == 0 &&
		    strcmp(routes[i].method, "GET") == 0)) {
			r = &routes[i];
			memcpy(req->params, caps, sizeof(caps));
			req->nparams = n;
			break;
		}
		if (strlen(allow) + strlen(routes[i].method) + 3 <
		    sizeof(allow))
			snprintf(allow + strlen(allow),
			    sizeof(allow) - strlen(allow), "%s%s",
			    allow[0] != '\0' ? ", " : "", routes[i].method);
		while (n > 0)
			free(caps[--n]);
	}
	if (r == NULL) {
		if (allow[0] != '\0') {
			http_add_header(req, "Allow: %s", allow);
			http_error(req, 405, "method_not_allowed",
			    "%s is not allowed here", req->method);
		} else
			http_error(req, 404, "not_found", "no such resource");
		return;
	}
	if (r->auth != ROUTE_PUBLIC) {
		cc_diag_clear(&diag);
		if (routes_authenticate(req, &diag) != CC_OK) {
			http_error(req, 401, diag.code, "%s", diag.message);
			return;
		}
		if (r->auth == ROUTE_ADMIN &&
		    strcmp(req->user.role, "admin") != 0) {
			http_error(req, 403, "forbidden",
			    "this needs the admin role");
			return;
		}
		if (r->auth >= ROUTE_VIEWER && workspace_refused(req, r->auth))
			return;
	}
	/* Bearer tokens cannot be sent by another site; cookies can. */
	if ((r->auth == ROUTE_PUBLIC || req->via_cookie) &&
	    routes_csrf_refused(req))
		return;
	r->handler(req);
}
