/*
 * h_auth.c - sign in, sign out, who am I, change my password.
 * Throttling: failed logins are counted per account and per client
 * address (security.md, "Passwords"); a locked subject answers 429 with
 * Retry-After, whatever the password.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "concord/log.h"
#include "concord/util.h"
#include "routes.h"

static void
audit(struct http_req *req, const char *user_id, const char *username,
    const char *action, const char *target, const char *outcome)
{
	if (control_audit(req->app->ctl, user_id, username, action, target,
	    req->remote_addr, outcome, req->request_id) != CC_OK)
		log_warn("req=%s audit log write failed", req->request_id);
}

static void
set_cookie(struct http_req *req, const char *value, long max_age)
{
	const struct cc_config *cfg = &req->app->cfg;

	http_add_header(req, "Set-Cookie: %s=%s; Path=/; HttpOnly;"
	    " SameSite=Strict; Max-Age=%ld%s", routes_cookie_name(cfg), value,
	    max_age, cfg->cookie_secure ? "; Secure" : "");
}

static void
throttle_keys(struct http_req *req, const char *username, char *ukey,
    char *ckey, size_t size)
{
	size_t i, n;

	n = (size_t)snprintf(ukey, size, "user:%s", username);
	for (i = 5; i < n && i < size; i++)
		ukey[i] = (char)tolower((unsigned char)ukey[i]);
	snprintf(ckey, size, "client:%s",
	    req->remote_addr != NULL ? req->remote_addr : "-");
}

void
h_login(struct http_req *req)
{
	char ukey[128], ckey[128], expires[32], *token = NULL;
	const struct cc_config *cfg = &req->app->cfg;
	struct control *ctl = req->app->ctl;
	const char *username, *password;
	long retry = 0, retry2 = 0;
	struct cc_user u;
	long long exp;
	json_t *body;
	time_t now = time(NULL);
	cc_err err;

	if ((body = http_read_json(req)) == NULL)
		return;
	username = json_string_value(json_object_get(body, "username"));
	password = json_string_value(json_object_get(body, "password"));
	if (username == NULL || password == NULL || strlen(username) > 200) {
		json_decref(body);
		http_error(req, 400, "fields",
		    "send {\"username\": ..., \"password\": ...} as strings");
		return;
	}
	throttle_keys(req, username, ukey, ckey, sizeof(ukey));
	if (control_throttle_check(ctl, ukey, now, cfg->login_max_failures,
	    cfg->login_window, &retry) == CC_ERATE ||
	    control_throttle_check(ctl, ckey, now,
	    cfg->login_max_failures_per_client, cfg->login_window,
	    &retry2) == CC_ERATE) {
		http_add_header(req, "Retry-After: %ld",
		    retry > retry2 ? retry : retry2);
		audit(req, NULL, username, "login", NULL, "throttled");
		json_decref(body);
		http_error(req, 429, "throttled",
		    "too many failed sign-ins; try again later");
		return;
	}
	err = control_user_authenticate(ctl, username, password, &u);
	if (err != CC_OK) {
		if (err == CC_EAUTH) {
			control_throttle_fail(ctl, ukey, now, cfg->login_window);
			control_throttle_fail(ctl, ckey, now, cfg->login_window);
		}
		audit(req, NULL, username, "login", NULL, "denied");
		json_decref(body);
		if (err == CC_EAUTH)
			http_error(req, 401, "unauthenticated",
			    "wrong user name or password");
		else
			http_error(req, 500, "internal", "%s", cc_strerror(err));
		return;
	}
	json_decref(body);
	control_throttle_clear(ctl, ukey);
	if (auth_token_issue(req->app->key, req->app->keylen, &u,
	    cfg->token_lifetime, now, &token, &exp, NULL) != CC_OK) {
		http_error(req, 500, "internal", "cannot issue a token");
		return;
	}
	audit(req, u.id, u.username, "login", NULL, "ok");
	set_cookie(req, token, cfg->token_lifetime);
	body = json_pack("{s:b, s:s, s:s, s:o}", "ok", 1, "token", token,
	    "expires_at", util_rfc3339((time_t)exp, expires, sizeof(expires)),
	    "user", control_user_json(&u));
	free(token);
	http_reply_json(req, 200, body);
}

void
h_logout(struct http_req *req)
{
	if (control_token_revoke(req->app->ctl, req->claims.jti, req->user.id,
	    req->claims.exp, time(NULL)) != CC_OK) {
		http_error(req, 500, "internal", "cannot revoke the token");
		return;
	}
	audit(req, req->user.id, req->user.username, "logout", NULL, "ok");
	set_cookie(req, "", 0);
	http_reply_json(req, 200, json_pack("{s:b}", "ok", 1));
}

void
h_me(struct http_req *req)
{
	http_reply_json(req, 200, json_pack("{s:b, s:o}", "ok", 1, "user",
	    control_user_json(&req->user)));
}

void
h_me_password(struct http_req *req)
{
	const char *current, *password;
	struct cc_diag diag;
	json_t *body;
	cc_err err;

	if ((body = http_read_json(req)) == NULL)
		return;
	current = json_string_value(json_object_get(body, "current_password"));
	password = json_string_value(json_object_get(body, "password"));
	if (current == NULL || password == NULL) {
		json_decref(body);
		http_error(req, 400, "fields", "send current_password and"
		    " password as strings");
		return;
	}
	if (control_user_authenticate(req->app->ctl, req->user.username,
	    current, NULL) != CC_OK) {
		json_decref(body);
		audit(req, req->user.id, req->user.username, "password", NULL,
		    "denied");
		http_error(req, 403, "wrong_password",
		    "the current password is wrong");
		return;
	}
	cc_diag_clear(&diag);
	err = control_user_set_password(req->app->ctl, req->user.id, password,
	    &diag);
	json_decref(body);
	if (err != CC_OK) {
		http_error_diag(req, http_status_of(err), &diag);
		return;
	}
	audit(req, req->user.id, req->user.username, "password", NULL, "ok");
	http_reply_json(req, 200, json_pack("{s:b}", "ok", 1));
}
