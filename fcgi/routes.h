/*
 * fcgi/routes.h - the route table and the dispatcher: which method and
 * path reach which handler, and who may call it (default deny).
 */
#ifndef CONCORD_FCGI_ROUTES_H
#define CONCORD_FCGI_ROUTES_H

#include "concord/workspace.h"
#include "http.h"

enum route_auth {
	ROUTE_PUBLIC = 0,	/* no token needed */
	ROUTE_USER,		/* any active user */
	ROUTE_ADMIN,		/* role admin */
	/* A workspace route: any active user, in the workspace the
	 * X-Concord-Workspace header picks among the user's own (teams.h;
	 * 400 malformed, 404 not a member or no such team), with at least
	 * this role there (403 otherwise). */
	ROUTE_VIEWER,
	ROUTE_EDITOR,
	ROUTE_OWNER,
};

typedef void (*route_handler)(struct http_req *req);

/* Handlers, one file per resource. */
void	h_health(struct http_req *);
void	h_openapi(struct http_req *);
void	h_login(struct http_req *);
void	h_logout(struct http_req *);
void	h_me(struct http_req *);
void	h_me_password(struct http_req *);
void	h_users_list(struct http_req *);
void	h_users_create(struct http_req *);
void	h_users_disable(struct http_req *);
void	h_users_enable(struct http_req *);
void	h_users_password(struct http_req *);
void	h_files_list(struct http_req *);
void	h_files_upload(struct http_req *);
void	h_files_get(struct http_req *);
void	h_files_raw(struct http_req *);
void	h_files_delete(struct http_req *);
void	h_mapping_get(struct http_req *);
void	h_mapping_put(struct http_req *);
void	h_preview(struct http_req *);
void	h_schema(struct http_req *);
void	h_runs_create(struct http_req *);
void	h_runs_list(struct http_req *);
void	h_runs_get(struct http_req *);
void	h_runs_cancel(struct http_req *);
void	h_runs_quality(struct http_req *);
void	h_dashboards_list(struct http_req *);
void	h_dashboards_get(struct http_req *);
void	h_tables_list(struct http_req *);
void	h_review_list(struct http_req *);
void	h_entities_list(struct http_req *);
void	h_entities_create(struct http_req *);
void	h_entities_get(struct http_req *);
void	h_entities_put(struct http_req *);
void	h_entities_delete(struct http_req *);
void	h_review_decide(struct http_req *);
void	h_cluster_split(struct http_req *);
void	h_matching(struct http_req *);
void	h_table_get(struct http_req *);
void	h_query(struct http_req *);
void	h_ask(struct http_req *);
void	h_workspaces_list(struct http_req *);
void	h_teams_list(struct http_req *);
void	h_teams_create(struct http_req *);
void	h_teams_get(struct http_req *);
void	h_teams_delete(struct http_req *);
void	h_team_members_list(struct http_req *);
void	h_team_members_add(struct http_req *);
void	h_team_member_put(struct http_req *);
void	h_team_member_delete(struct http_req *);
void	h_audit_list(struct http_req *);

/*
 * Writes an action that changed the request's workspace (req->ws) to the
 * audit log: who (the authenticated user), what (action, target: the
 * object's id, may be NULL), from where, outcome "ok", the request id.
 * A failed write is logged, never fails the request.
 */
void	http_audit(struct http_req *req, const char *action,
	    const char *target);

/*
 * Routes one request: 404 for an unknown path, 405 (with Allow) for a
 * known path and another method, 401/403 per the route's auth, CSRF
 * checks for cookie sessions, then the handler.
 */
void	routes_dispatch(struct http_req *req);

/*
 * Authenticates req from "Authorization: Bearer" or the session cookie
 * (auth_token_verify() then auth_session_check()).  Returns CC_OK and
 * fills req->user, or CC_EAUTH with diag.
 */
cc_err	routes_authenticate(struct http_req *req, struct cc_diag *diag);

/*
 * The request's workspace (req->ws, resolved by the dispatcher from the
 * user's membership; opened after fork, per request), or NULL after
 * answering 500.  The caller closes it with ws_close().
 */
struct workspace *http_workspace(struct http_req *req);

/*
 * The authenticated user's workspace for reading: the worker's cached
 * read-only handle (ws_cache_get(), concord/workspace.h), reopened when
 * model.db was replaced.  Borrowed: never ws_close() it.  *version (may
 * be NULL) changes whenever the data may have changed.  NULL after
 * answering 500.
 */
struct workspace *http_workspace_read(struct http_req *req,
		    long long *version);

/* The session cookie's name for this configuration. */
const char *routes_cookie_name(const struct cc_config *cfg);

/* Answers 403 and returns 1 when an unsafe request carries signs of
 * another site (Sec-Fetch-Site, else Origin vs Host). */
int	routes_csrf_refused(struct http_req *req);

#endif /* CONCORD_FCGI_ROUTES_H */
