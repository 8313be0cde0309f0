"""Admin user management, member restrictions, disable and password reset."""
import secrets

from harness import check, eq, expect_error, expect_ok
from suite import test, backend
from tests_auth import check_user_doc, expect_invalid_token


@test("users_admin_endpoints")
def _(env):
    b = backend(env, "main")
    c, tok = b.client, env.admin_token(b)
    doc = expect_ok(c.get("/api/v1/users", token=tok))
    users = doc.get("users")
    check(isinstance(users, list), "GET /users: users must be a list")
    for u in users:
        check_user_doc(u, "GET /users")
    check("admin" in [u.get("username") for u in users], "GET /users does not list admin")

    pw = "exactly8"                                       # the minimum length
    r = c.post_json("/api/v1/users", {"username": "newbie", "password": pw, "role": "member"}, token=tok)
    u = expect_ok(r, 201, "create user").get("user")
    check_user_doc(u, "POST /users")
    eq((u.get("username"), u.get("role"), u.get("active")), ("newbie", "member", True), "created user")
    expect_ok(c.login("newbie", pw), 200, "login of the created user")
    listed = expect_ok(c.get("/api/v1/users", token=tok)).get("users")
    check(u["id"] in [x.get("id") for x in listed], "the new user's id is not in GET /users")

    r = c.post_json("/api/v1/users", {"username": "newbie", "password": "another-pass", "role": "member"}, token=tok)
    expect_error(r, 409, "same username again")
    r = c.post_json("/api/v1/users", {"username": "admin2", "password": "another-pass", "role": "admin"}, token=tok)
    eq(expect_ok(r, 201, "create an admin").get("user", {}).get("role"), "admin", "role of created admin")
    bad = [
        ({"username": "short-pw", "password": "seven77", "role": "member"}, "password of 7 characters"),
        ({"username": "long-pw", "password": "x" * 1025, "role": "member"}, "password of 1025 characters"),
        ({"username": "bad-role", "password": "long-enough-pw", "role": "root"}, "role root"),
        ({"username": "", "password": "long-enough-pw", "role": "member"}, "empty username"),
        ({"username": "a/b\n", "password": "long-enough-pw", "role": "member"}, "username with / and newline"),
    ]
    for body, what in bad:
        expect_error(c.post_json("/api/v1/users", body, token=tok), 422, what)
    names = [x.get("username") for x in expect_ok(c.get("/api/v1/users", token=tok)).get("users")]
    for body, what in bad:
        check(body["username"] not in names or body["username"] == "", "%s: user was created anyway" % what)
    expect_error(c.request("POST", "/api/v1/users", body=b"{bad", token=tok,
                           headers={"Content-Type": "application/json"}), 400, "malformed JSON")


@test("users_member_forbidden_403")
def _(env):
    b = backend(env, "main")
    c = b.client
    m = env.user(b, "plain-member")
    target = env.user(b, "member-target")
    expect_error(c.get("/api/v1/users", token=m.token), 403, "member lists users")
    expect_error(c.post_json("/api/v1/users", {"username": "x-by-member", "password": "long-enough-pw",
                                                "role": "admin"}, token=m.token), 403, "member creates a user")
    expect_error(c.request("POST", "/api/v1/users/%s/disable" % target.id, body=b"", token=m.token), 403,
                 "member disables a user")
    expect_error(c.put_json("/api/v1/users/%s/password" % target.id, {"password": "new-password-1"},
                            token=m.token), 403, "member resets a password")
    expect_error(c.put_json("/api/v1/users/%s/password" % m.id, {"password": "new-password-1"},
                            token=m.token), 403, "member resets own password via the admin endpoint")
    expect_ok(c.get("/api/v1/me", token=target.token), 200, "target unaffected")
    expect_ok(c.login(target.name, target.password), 200, "target's password unchanged")


@test("users_disable_revokes_tokens")
def _(env):
    b = backend(env, "main")
    c, tok = b.client, env.admin_token(b)
    u = env.user(b, "to-disable")
    second = expect_ok(c.login(u.name, u.password)).get("token")
    expect_ok(c.get("/api/v1/me", token=u.token), 200, "before disable")
    expect_ok(c.request("POST", "/api/v1/users/%s/disable" % u.id, body=b"", token=tok), 200, "disable")
    expect_invalid_token(c, u.token, "token of a disabled user")
    expect_invalid_token(c, second, "second token of a disabled user")
    r = c.login(u.name, u.password)
    check(r.status in (401, 403) and "token" not in r.json,
          "login of a disabled user must fail (401/403), got %d %r" % (r.status, r.body[:200]))
    listed = {x.get("id"): x for x in expect_ok(c.get("/api/v1/users", token=tok)).get("users")}
    eq(listed.get(u.id, {}).get("active"), False, "active flag of the disabled user in GET /users")
    expect_error(c.request("POST", "/api/v1/users/%s/disable" % ("nosuch" + secrets.token_hex(6)), body=b"",
                           token=tok), 404, "disable an unknown user id")


@test("users_password_reset_revokes_tokens")
def _(env):
    b = backend(env, "main")
    c, tok = b.client, env.admin_token(b)
    u = env.user(b, "to-reset")
    new = "brand-new-password-" + secrets.token_hex(4)
    expect_error(c.put_json("/api/v1/users/%s/password" % u.id, {"password": "short"}, token=tok), 422,
                 "reset to a 5-character password")
    expect_ok(c.get("/api/v1/me", token=u.token), 200, "a rejected reset leaves tokens alone")
    expect_ok(c.put_json("/api/v1/users/%s/password" % u.id, {"password": new}, token=tok), 200, "reset")
    expect_invalid_token(c, u.token, "token issued before the password reset")
    expect_error(c.login(u.name, u.password), 401, "login with the old password")
    tok2 = expect_ok(c.login(u.name, new), 200, "login with the new password").get("token")
    expect_ok(c.get("/api/v1/me", token=tok2), 200, "new token")
    expect_error(c.put_json("/api/v1/users/%s/password" % ("nosuch" + secrets.token_hex(6)),
                            {"password": "whatever-long"}, token=tok), 404, "reset of an unknown user id")
