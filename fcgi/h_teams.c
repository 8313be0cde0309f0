/*
 * h_teams.c - team workspaces over HTTP (concord/teams.h): the
 * workspaces a user may pick, teams (an admin creates them), their
 * members (the team's owners, or an admin, manage them), and the audit
 * log of the request's workspace.
 *
 * Who sees a team: its members and admins.  Anyone else asking for it
 * gets the 404 of a team that does not exist, body for body, so that
 * team ids do not leak.  A member without the owner role gets 403 on
 * what only owners may do.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "concord/log.h"
#include "concord/query.h"
#include "concord/teams.h"
#include "routes.h"

#define AUDIT_PAGE_DEFAULT	100
#define AUDIT_PAGE_MAX		1000	/* entries in one JSON page */
#define AUDIT_CSV_PAGE		500	/* entries read per step of a CSV export */

static int
is_admin(const struct http_req *req)
{
	return strcmp(req->user.role, "admin") == 0;
}

static void
team_audit(struct http_req *req, const char *team_id, const char *action,
    const char *target)
{
	char key[WS_KEY_MAX + 1];

	snprintf(key, sizeof(key), TEAM_WS_PREFIX "%s", team_id);
	if (control_audit_ws(req->app->ctl, key, req->user.id,
	    req->user.username, action, target, req->remote_addr, "ok",
	    req->request_id) != CC_OK)
		log_warn("req=%s audit log write failed", req->request_id);
}

static void
no_such_team(struct http_req *req)
{
	http_error(req, 404, "not_found", "no such team");
}

/*
 * The team of the path (params[0]) as the user may see it: its record
 * and the user's role there (TEAM_NONE for an admin who is not a
 * member).  0, or 1 after answering 404 (not visible: the same answer
 * as no such team), 403 (visible, below need) or 500.
 */
static int
team_refused(struct http_req *req, enum team_role need, struct cc_team *t,
    enum team_role *role)
{
	int r;

	if ((r = team_member_role(req->app->ctl, req->params[0],
	    req->user.id)) < 0) {
		http_error(req, 500, "internal", "the membership cannot be read");
		return 1;
	}
	if ((r == TEAM_NONE && !is_admin(req)) ||
	    team_get(req->app->ctl, req->params[0], t) != CC_OK) {
		no_such_team(req);
		return 1;
	}
	*role = (enum team_role)r;
	if (r < (int)need && !is_admin(req)) {
		http_error(req, 403, "forbidden", "this needs the %s role in the"
		    " team (yours: %s)", team_role_name(need),
		    team_role_name((enum team_role)r));
		return 1;
	}
	return 0;
}

void
h_workspaces_list(struct http_req *req)
{
	json_t *list;

	if (team_workspaces(req->app->ctl, &req->user, &list) != CC_OK) {
		http_error(req, 500, "internal", "cannot list workspaces");
		return;
	}
	http_reply_json(req, 200, json_pack("{s:b, s:s, s:o}", "ok", 1,
	    "header", "X-Concord-Workspace", "workspaces", list));
}

void
h_teams_list(struct http_req *req)
{
	json_t *list;

	if (team_list(req->app->ctl, is_admin(req) &&
	    http_query_get(req, "all") != NULL ? NULL : req->user.id, &list) !=
	    CC_OK) {
		http_error(req, 500, "internal", "cannot list teams");
		return;
	}
	http_reply_json(req, 200, json_pack("{s:b, s:o}", "ok", 1, "teams",
	    list));
}

/* A team as JSON; "workspace" is the X-Concord-Workspace value that
 * picks it, "role" the caller's ("none": an admin who is not a member);
 * members is stolen (NULL: none). */
static json_t *
team_doc(const struct cc_team *t, enum team_role role, json_t *members)
{
	char sel[TEAM_ID_LEN + 8];

	snprintf(sel, sizeof(sel), "team:%s", t->id);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "id", t->id, "name",
	    t->name, "created_at", t->created_at, "workspace", sel, "role",
	    team_role_name(role), "members", members != NULL ? members :
	    json_array());
}

void
h_teams_create(struct http_req *req)
{
	const char *name, *owner;
	struct cc_user u;
	struct cc_team t;
	struct cc_diag diag;
	json_t *body, *members = NULL;
	cc_err err;

	if ((body = http_read_json(req)) == NULL)
		return;
	name = json_string_value(json_object_get(body, "name"));
	owner = json_string_value(json_object_get(body, "owner"));
	if (name == NULL || (json_object_get(body, "owner") != NULL &&
	    owner == NULL)) {
		json_decref(body);
		http_error(req, 400, "fields", "send name (and optionally"
		    " owner, a user name) as strings");
		return;
	}
	cc_diag_clear(&diag);
	if (owner != NULL && control_user_by_name(req->app->ctl, owner, &u) !=
	    CC_OK) {
		json_decref(body);
		http_error(req, 422, "user_unknown", "no user named for owner");
		return;
	}
	err = team_create(req->app->ctl, name, owner != NULL ? u.id : NULL, &t,
	    &diag);
	json_decref(body);
	if (err != CC_OK) {
		http_error_diag(req, err == CC_EINVALID ? 422 :
		    http_status_of(err), &diag);
		return;
	}
	team_audit(req, t.id, "team.create", t.id);
	if (owner != NULL)
		team_audit(req, t.id, "member.add", u.id);
	if (team_members(req->app->ctl, t.id, &members) != CC_OK)
		members = NULL;
	http_add_header(req, "Location: /api/v1/teams/%s", t.id);
	http_reply_json(req, 201, json_pack("{s:b, s:o}", "ok", 1, "team",
	    team_doc(&t, TEAM_NONE, members)));
}

void
h_teams_get(struct http_req *req)
{
	enum team_role role;
	struct cc_team t;
	json_t *members;

	if (team_refused(req, TEAM_VIEWER, &t, &role))
		return;
	if (team_members(req->app->ctl, t.id, &members) != CC_OK) {
		http_error(req, 500, "internal", "cannot list the members");
		return;
	}
	http_reply_json(req, 200, json_pack("{s:b, s:o}", "ok", 1, "team",
	    team_doc(&t, role, members)));
}

void
h_teams_delete(struct http_req *req)
{
	enum team_role role;
	struct cc_team t;
	int busy;

	if (team_refused(req, TEAM_OWNER, &t, &role))
		return;
	if ((busy = team_runs_pending(req->app->ctl, t.id)) != 0) {
		if (busy < 0)
			http_error(req, 500, "internal", "cannot read the runs");
		else
			http_error(req, 409, "run_in_progress", "a run of the"
			    " team is queued or running; cancel it first");
		return;
	}
	if (team_delete(req->app->ctl, t.id) != CC_OK) {
		http_error(req, 500, "internal", "cannot delete the team");
		return;
	}
	team_audit(req, t.id, "team.delete", t.id);
	if (team_remove_dir(req->app->cfg.data_dir, t.id) != CC_OK)
		log_warn("req=%s team %s: its workspace directory was not"
		    " wholly removed: %s", req->request_id, t.id,
		    strerror(errno));
	http_reply_json(req, 200, json_pack("{s:b, s:s}", "ok", 1, "deleted",
	    t.id));
}

void
h_team_members_list(struct http_req *req)
{
	enum team_role role;
	struct cc_team t;
	json_t *members;

	if (team_refused(req, TEAM_VIEWER, &t, &role))
		return;
	if (team_members(req->app->ctl, t.id, &members) != CC_OK) {
		http_error(req, 500, "internal", "cannot list the members");
		return;
	}
	http_reply_json(req, 200, json_pack("{s:b, s:o}", "ok", 1, "members",
	    members));
}

/* The role field of a body: TEAM_NONE after answering 422. */
static enum team_role
body_role(struct http_req *req, json_t *body)
{
	enum team_role r = team_role_of(json_string_value(json_object_get(body,
	    "role")));

	if (r == TEAM_NONE)
		http_error(req, 422, "role_invalid", "role must be 'viewer',"
		    " 'editor' or 'owner'");
	return r;
}

/* Answers a membership change's error. */
static void
member_error(struct http_req *req, cc_err err, const struct cc_diag *d)
{
	http_error_diag(req, err == CC_EINVALID ? 422 : http_status_of(err), d);
}

static void
reply_members(struct http_req *req, int status, const char *team_id)
{
	json_t *members;

	if (team_members(req->app->ctl, team_id, &members) != CC_OK) {
		http_error(req, 500, "internal", "cannot list the members");
		return;
	}
	http_reply_json(req, status, json_pack("{s:b, s:o}", "ok", 1,
	    "members", members));
}

void
h_team_members_add(struct http_req *req)
{
	enum team_role role, r;
	struct cc_diag diag;
	struct cc_team t;
	struct cc_user u;
	const char *name;
	json_t *body;
	cc_err err;

	if (team_refused(req, TEAM_OWNER, &t, &role))
		return;
	if ((body = http_read_json(req)) == NULL)
		return;
	if ((name = json_string_value(json_object_get(body, "username"))) ==
	    NULL) {
		json_decref(body);
		http_error(req, 400, "fields", "send username and role"
		    " (viewer, editor or owner) as strings");
		return;
	}
	if ((r = body_role(req, body)) == TEAM_NONE) {
		json_decref(body);
		return;
	}
	err = control_user_by_name(req->app->ctl, name, &u);
	json_decref(body);
	if (err != CC_OK) {
		http_error(req, 422, "user_unknown", "no such user");
		return;
	}
	cc_diag_clear(&diag);
	if ((err = team_member_set(req->app->ctl, t.id, u.id, r, 1, &diag)) !=
	    CC_OK) {
		member_error(req, err, &diag);
		return;
	}
	team_audit(req, t.id, "member.add", u.id);
	reply_members(req, 201, t.id);
}

void
h_team_member_put(struct http_req *req)
{
	enum team_role role, r;
	struct cc_diag diag;
	struct cc_team t;
	json_t *body;
	cc_err err;

	if (team_refused(req, TEAM_OWNER, &t, &role))
		return;
	if ((body = http_read_json(req)) == NULL)
		return;
	r = body_role(req, body);
	json_decref(body);
	if (r == TEAM_NONE)
		return;
	cc_diag_clear(&diag);
	if ((err = team_member_set(req->app->ctl, t.id, req->params[1], r, 0,
	    &diag)) != CC_OK) {
		member_error(req, err, &diag);
		return;
	}
	team_audit(req, t.id, "member.role", req->params[1]);
	reply_members(req, 200, t.id);
}

void
h_team_member_delete(struct http_req *req)
{
	enum team_role role;
	struct cc_diag diag;
	struct cc_team t;
	cc_err err;

	/* a member may leave; removing others is the owners' */
	if (team_refused(req, strcmp(req->params[1], req->user.id) == 0 ?
	    TEAM_VIEWER : TEAM_OWNER, &t, &role))
		return;
	cc_diag_clear(&diag);
	if ((err = team_member_remove(req->app->ctl, t.id, req->params[1],
	    &diag)) != CC_OK) {
		member_error(req, err, &diag);
		return;
	}
	team_audit(req, t.id, "member.remove", req->params[1]);
	reply_members(req, 200, t.id);
}

/* ---- the audit log of the request's workspace ------------------------ */

static const char *const audit_cols[] = { "id", "at", "user_id", "username",
	"action", "target", "client", "outcome", "request_id" };

/* Writes one CSV row of entry e (or the header when e is NULL). */
static void
csv_row(struct http_req *req, json_t *e, int formula_safe)
{
	char field[1024], line[8192];
	size_t i, n = 0, len;
	const char *v;
	json_t *x;

	for (i = 0; i < sizeof(audit_cols) / sizeof(audit_cols[0]); i++) {
		char num[32];
		x = e != NULL ? json_object_get(e, audit_cols[i]) : NULL;
		if (e == NULL)
			v = audit_cols[i];
		else if (json_is_integer(x)) {
			snprintf(num, sizeof(num), "%lld",
			    (long long)json_integer_value(x));
			v = num;
		} else
			v = json_is_string(x) ? json_string_value(x) : "";
		len = query_csv_field(v, strlen(v), formula_safe, i == 0, field,
		    sizeof(field));
		if (len > sizeof(field) || n + len + 3 > sizeof(line))
			len = 0;	/* cannot happen: fields are short */
		if (i > 0)
			line[n++] = ',';
		memcpy(line + n, field, len);
		n += len;
	}
	line[n++] = '\r';
	line[n++] = '\n';
	http_write(req, line, n);
}

static void
audit_csv(struct http_req *req)
{
	const char *f = http_query_get(req, "_formulas"),
	    *h = http_query_get(req, "_header");
	long long before = 0, next;
	json_t *page, *e;
	size_t i;

	if (http_query_get(req, "_dl") != NULL)
		http_add_header(req, "Content-Disposition: attachment;"
		    " filename=\"audit.csv\"");
	http_stream(req);
	http_begin(req, 200, "text/csv; charset=utf-8", -1);
	if (h == NULL || strcmp(h, "off") != 0)
		csv_row(req, NULL, 0);
	do {
		if (control_audit_page(req->app->ctl, req->ws.key,
		    AUDIT_CSV_PAGE, before, &page, &next) != CC_OK) {
			/* headers are out: an in-band marker says it was cut */
			static const char cut[] = "# error: the audit log"
			    " could not be read to its end\r\n";
			http_write(req, cut, sizeof(cut) - 1);
			log_error("req=%s audit export cut", req->request_id);
			return;
		}
		json_array_foreach(page, i, e)
			csv_row(req, e, f == NULL || strcmp(f, "raw") != 0);
		json_decref(page);
		before = next;
	} while (next != 0);
}

void
h_audit_list(struct http_req *req)
{
	const char *s = http_query_get(req, "_size"),
	    *after = http_query_get(req, "_next"),
	    *fmt = http_query_get(req, "_format");
	long long before = 0, next = 0;
	char url[128], *end;
	json_t *page, *body;
	int size = AUDIT_PAGE_DEFAULT;
	size_t plen = strlen(req->path);

	if ((fmt != NULL && strcmp(fmt, "csv") == 0) || (plen > 4 &&
	    strcmp(req->path + plen - 4, ".csv") == 0)) {
		audit_csv(req);
		return;
	}
	if (fmt != NULL && strcmp(fmt, "json") != 0) {
		http_error(req, 400, "format", "_format is json or csv");
		return;
	}
	if (s != NULL) {
		long v;
		errno = 0;
		v = strtol(s, &end, 10);
		if (errno != 0 || *end != '\0' || v < 1 || v > AUDIT_PAGE_MAX) {
			http_error(req, 400, "size", "_size must be 1 to %d",
			    AUDIT_PAGE_MAX);
			return;
		}
		size = (int)v;
	}
	if (after != NULL) {
		errno = 0;
		before = strtoll(after, &end, 10);
		if (errno != 0 || *end != '\0' || before < 1) {
			http_error(req, 400, "next", "invalid _next token");
			return;
		}
	}
	if (control_audit_page(req->app->ctl, req->ws.key, size, before, &page,
	    &next) != CC_OK) {
		http_error(req, 500, "internal", "cannot read the audit log");
		return;
	}
	snprintf(url, sizeof(url), "team:%s", req->ws.team_id);
	body = json_pack("{s:b, s:s, s:o}", "ok", 1, "workspace",
	    req->ws.team_id[0] != '\0' ? url : "personal", "entries", page);
	if (next != 0) {
		char tok[32];
		snprintf(tok, sizeof(tok), "%lld", next);
		snprintf(url, sizeof(url), "/api/v1/audit?_size=%d&_next=%s",
		    size, tok);
		json_object_set_new(body, "next", json_string(tok));
		json_object_set_new(body, "next_url", json_string(url));
		http_add_header(req, "Link: <%s>; rel=\"next\"", url);
	} else {
		json_object_set_new(body, "next", json_null());
		json_object_set_new(body, "next_url", json_null());
	}
	http_reply_json(req, 200, body);
}
