"""Service basics: data dir, socket, health, OpenAPI, request ids, headers, routing."""
import os
import grp

from harness import check, eq, expect_error, expect_ok, WEB_USER, file_mode
from suite import test, backend


@test("init_data_dir")
def _(env):
    d = backend(env, "main").data
    check(os.path.isfile(os.path.join(d, "control.db")), "no DATA/control.db after init")
    check(os.path.isdir(os.path.join(d, "workspaces")), "no DATA/workspaces/ after init")
    mode, _gid = file_mode(os.path.join(d, "secret"))
    eq(oct(mode), oct(0o600), "mode of DATA/secret")
    size = os.path.getsize(os.path.join(d, "secret"))
    check(size >= 32, "DATA/secret has %d bytes; the guide asks for a random secret of >= 32 bytes" % size)


@test("socket_mode_and_group")
def _(env):
    b = backend(env, "main")
    mode, gid = file_mode(b.sock)
    eq(oct(mode), oct(0o660), "mode of the --socket")
    if env.root:
        eq(grp.getgrgid(gid).gr_name, WEB_USER, "group of the socket (--socket-group %s)" % WEB_USER)


@test("health")
def _(env):
    r = backend(env, "main").client.get("/api/v1/health")
    doc = expect_ok(r)
    eq(doc.get("status"), "ok", "health status")
    check(isinstance(doc.get("version"), str) and doc["version"], "health: version must be a non-empty string")


@test("openapi_document")
def _(env):
    b = backend(env, "main")
    r = b.client.get("/api/v1/openapi.json")
    if r.status == 401:   # the contract does not say whether it needs a token
        r = b.client.get("/api/v1/openapi.json", token=env.admin_token(b))
    eq(r.status, 200, "GET /api/v1/openapi.json")
    doc = r.json
    check(str(doc.get("openapi", "")).startswith("3."), "openapi key must start with 3., got %r" % doc.get("openapi"))
    paths = doc.get("paths")
    check(isinstance(paths, dict) and paths, "OpenAPI document has no paths")
    for want in ("health", "auth/login", "files"):
        check(any(p.rstrip("/").endswith(want) for p in paths),
              "OpenAPI paths do not document .../%s: %s" % (want, sorted(paths)[:20]))


@test("request_id_header")
def _(env):
    c = backend(env, "main").client
    a, b = c.get("/api/v1/health"), c.get("/api/v1/health")
    ra, rb = a.header("X-Request-Id"), b.header("X-Request-Id")
    check(ra and rb and ra != rb, "two requests must get two different X-Request-Id values: %r %r" % (ra, rb))
    # conf/nginx: a well-formed inbound id (from a load balancer) is passed on as
    # REQUEST_ID; the service must echo the id nginx gives it.
    mine = "lb-0123456789abcdef"
    r = c.get("/api/v1/health", headers={"X-Request-Id": mine})
    eq(r.header("X-Request-Id"), mine, "X-Request-Id echo of a well-formed inbound id (REQUEST_ID param)")
    # a malformed one is replaced by nginx's own id, never reflected
    bad = "x" * 300
    r = c.get("/api/v1/health", headers={"X-Request-Id": bad})
    check(r.header("X-Request-Id") and r.header("X-Request-Id") != bad,
          "a malformed inbound X-Request-Id must not be reflected")
    r = c.get("/api/v1/no-such-route")
    check(r.header("X-Request-Id"), "error responses need X-Request-Id too")


@test("api_security_headers")
def _(env):
    # Client.request() checks the headers on every /api/ response of the suite;
    # this test names the check and covers a few kinds of answers explicitly.
    b = backend(env, "main")
    c = b.client
    for r in (c.get("/api/v1/health"), c.get("/api/v1/me"), c.get("/api/v1/nope"),
              c.get("/api/v1/files", token=env.admin_token(b)),
              c.request("POST", "/api/v1/auth/login", body=b"{", headers={"Content-Type": "application/json"})):
        eq((r.header("X-Content-Type-Options") or "").lower(), "nosniff", r.what())
        eq((r.header("Referrer-Policy") or "").lower(), "no-referrer", r.what())
        check("frame-ancestors 'none'" in (r.header("Content-Security-Policy") or ""), r.what() + ": CSP")
        check("no-store" in (r.header("Cache-Control") or ""), r.what() + ": Cache-Control no-store")
        check(r.header("Strict-Transport-Security"), r.what() + ": nginx adds HSTS on the API")


@test("unknown_route_404_wrong_method_405")
def _(env):
    b = backend(env, "main")
    c, tok = b.client, env.admin_token(b)
    expect_error(c.get("/api/v1/definitely-not-a-route", token=tok), 404)
    expect_error(c.get("/api/v2/health"), 404)
    expect_error(c.get("/api/v1/files/abc/nonsense", token=tok), 404)
    for method, path in (("DELETE", "/api/v1/health"), ("PUT", "/api/v1/files"), ("GET", "/api/v1/auth/login"),
                         ("PATCH", "/api/v1/me")):
        r = c.request(method, path, token=tok, body=b"" if method in ("PUT", "PATCH") else None)
        expect_error(r, 405, "wrong method on a known route")
