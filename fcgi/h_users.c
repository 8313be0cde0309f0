/* h_users.c - user administration (admin role only: see routes.c). */
#include "config.h"

#include <string.h>

#include "concord/log.h"
#include "routes.h"

static void
audit(struct http_req *req, const char *action, const char *target,
    const char *outcome)
{
	if (control_audit(req->app->ctl, req->user.id, req->user.username,
	    action, target, req->remote_addr, outcome, req->request_id) != CC_OK)
		log_warn("req=%s audit log write failed", req->request_id);
}

void
h_users_list(struct http_req *req)
{
	json_t *users;

	if (control_user_list(req->app->ctl, &users) != CC_OK) {
		http_error(req, 500, "internal", "cannot list users");
		return;
	}
	http_reply_json(req, 200, json_pack("{s:b, s:o}", "ok", 1, "users",
	    users));
}

void
h_users_create(struct http_req *req)
{
	const char *name, *password, *role;
	struct cc_diag diag;
	struct cc_user u;
	json_t *body;
	cc_err err;

	if ((body = http_read_json(req)) == NULL)
		return;
	name = json_string_value(json_object_get(body, "username"));
	password = json_string_value(json_object_get(body, "password"));
	role = json_string_value(json_object_get(body, "role"));
	if (role == NULL && json_object_get(body, "role") == NULL)
		role = "member";
	if (name == NULL || password == NULL) {
		json_decref(body);
		http_error(req, 400, "fields", "send username and password as"
		    " strings (role: admin or member)");
		return;
	}
	cc_diag_clear(&diag);
	err = control_user_add(req->app->ctl, name, password, role, &u, &diag);
	audit(req, "user.create", name, err == CC_OK ? "ok" : "error");
	json_decref(body);
	if (err != CC_OK) {
		http_error_diag(req, err == CC_EINVALID ? 422 :
		    http_status_of(err), &diag);
		return;
	}
	http_add_header(req, "Location: /api/v1/users/%s", u.id);
	http_reply_json(req, 201, json_pack("{s:b, s:o}", "ok", 1, "user",
	    control_user_json(&u)));
}

static void
set_active(struct http_req *req, int active)
{
	const char *id = req->params[0];
	struct cc_user u;
	cc_err err;

	if (!active && strcmp(id, req->user.id) == 0) {
		http_error(req, 409, "self", "you cannot disable yourself");
		return;
	}
	err = control_user_set_active(req->app->ctl, id, active);
	audit(req, active ? "user.enable" : "user.disable", id,
	    err == CC_OK ? "ok" : "error");
	if (err != CC_OK || control_user_by_id(req->app->ctl, id, &u) != CC_OK) {
		http_error(req, http_status_of(err == CC_OK ? CC_ENOTFOUND :
		    err), "user", "%s", err == CC_ENOTFOUND || err == CC_OK ?
		    "no such user" : cc_strerror(err));
		return;
	}
	http_reply_json(req, 200, json_pack("{s:b, s:o}", "ok", 1, "user",
	    control_user_json(&u)));
}

void
h_users_disable(struct http_req *req)
{
	set_active(req, 0);
}

void
h_users_enable(struct http_req *req)
{
	set_active(req, 1);
}

void
h_users_password(struct http_req *req)
{
	const char *password;
	struct cc_diag diag;
	json_t *body;
	cc_err err;

	if ((body = http_read_json(req)) == NULL)
		return;
	if ((password = json_string_value(json_object_get(body, "password")))
	    == NULL) {
		json_decref(body);
		http_error(req, 400, "fields", "send password as a string");
		return;
	}
	cc_diag_clear(&diag);
	err = control_user_set_password(req->app->ctl, req->params[0],
	    password, &diag);
	json_decref(body);
	audit(req, "user.password", req->params[0], err == CC_OK ? "ok" :
	    "error");
	if (err == CC_ENOTFOUND) {
		http_error(req, 404, "not_found", "no such user");
		return;
	}
	if (err != CC_OK) {
		http_error_diag(req, err == CC_EINVALID ? 422 :
		    http_status_of(err), &diag);
		return;
	}
	http_reply_json(req, 200, json_pack("{s:b}", "ok", 1));
}
