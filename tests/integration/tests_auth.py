"""Login, tokens, throttling, logout, cookies and CSRF."""
import base64
import hashlib
import hmac
import json
import os
import statistics
import time

from harness import (Skip, b64url, b64url_json, check, eq, expect_error, expect_ok, parse_rfc3339)
from suite import test, backend

WRONG = "wrong-password-123"


def parse_set_cookie(values, name):
    """The Set-Cookie for `name`: (value, {attribute-lowercase: value-or-True})."""
    for v in values:
        parts = [p.strip() for p in v.split(";")]
        k, _, val = parts[0].partition("=")
        if k == name:
            attrs = {}
            for p in parts[1:]:
                a, _, av = p.partition("=")
                attrs[a.strip().lower()] = av.strip() if av else True
            return val, attrs
    return None, None


def check_user_doc(u, what):
    check(isinstance(u, dict), what + ": user must be an object")
    check(isinstance(u.get("id"), str) and u["id"], what + ": user.id must be a non-empty string (opaque id)")
    check(u.get("role") in ("admin", "member"), what + ": user.role %r" % u.get("role"))
    check(isinstance(u.get("active"), bool), what + ": user.active must be a boolean")
    leaked = [k for k in u if any(s in k.lower() for s in ("pass", "hash", "secret", "salt"))]
    check(not leaked, what + ": user object exposes %s" % leaked)


def cookie_name(b):
    return "concord" if b.environ.get("CONCORD_COOKIE_SECURE") == "0" else "__Host-concord"


@test("login_ok_token_and_cookie")
def _(env):
    b = backend(env, "main")
    t0 = time.time()
    r = b.client.login("admin", b.admin_password)
    doc = expect_ok(r, 200, "login")
    tok = doc.get("token")
    check(isinstance(tok, str) and tok.count(".") == 2, "token must be a JWT (three dot-separated parts): %r" % tok)
    hdr = b64url_json(tok.split(".")[0])
    eq(hdr.get("alg"), "HS256", "JWT header alg")
    claims = b64url_json(tok.split(".")[1])
    for k in ("exp", "iat"):
        check(type(claims.get(k)) is int, "JWT claim %s must be an integer: %r" % (k, claims.get(k)))
    exp = parse_rfc3339(doc.get("expires_at"))
    check(abs(exp - (t0 + 3600)) < 120, "expires_at %s is not about now + CONCORD_TOKEN_LIFETIME (3600 s)"
          % doc.get("expires_at"))
    check(abs(claims["exp"] - exp) <= 1, "expires_at %s disagrees with the token's exp %d" % (doc["expires_at"],
                                                                                          claims["exp"]))
    u = doc.get("user")
    check_user_doc(u, "login")
    eq(u.get("username"), "admin", "login user.username")
    eq(u.get("role"), "admin", "login user.role")
    eq(u.get("active"), True, "login user.active")
    # main runs behind HTTPS with CONCORD_COOKIE_SECURE at its default
    val, attrs = parse_set_cookie(r.header_all("Set-Cookie"), "__Host-concord")
    check(val, "no Set-Cookie __Host-concord on login (got %r)" % r.header_all("Set-Cookie"))
    for a in ("httponly", "secure"):
        check(attrs.get(a), "login cookie lacks %s: %r" % (a, attrs))
    eq(str(attrs.get("samesite", "")).lower(), "strict", "cookie SameSite")
    eq(attrs.get("path"), "/", "cookie Path")
    check("domain" not in attrs, "a __Host- cookie must not have a Domain attribute")


@test("login_plain_cookie_variant")
def _(env):
    b = backend(env, "limits")    # CONCORD_COOKIE_SECURE=0
    r = b.client.login("admin", b.admin_password)
    expect_ok(r, 200, "login")
    val, attrs = parse_set_cookie(r.header_all("Set-Cookie"), "concord")
    check(val, "CONCORD_COOKIE_SECURE=0: no Set-Cookie named concord (got %r)" % r.header_all("Set-Cookie"))
    check(attrs.get("httponly"), "cookie lacks HttpOnly")
    eq(str(attrs.get("samesite", "")).lower(), "strict", "cookie SameSite")
    eq(attrs.get("path"), "/", "cookie Path")
    r = b.client.get("/api/v1/me", cookie="concord=" + val)
    eq(expect_ok(r).get("user", {}).get("username"), "admin", "GET /me with the plain cookie")


@test("login_failures_401_no_enumeration")
def _(env):
    b = backend(env, "main")
    known = b.client.login("admin", WRONG)
    d1 = expect_error(known, 401, "wrong password")
    unknown = b.client.login("no-such-user-xyz", WRONG)
    d2 = expect_error(unknown, 401, "unknown user")
    eq(d2.get("error"), d1.get("error"), "error text for unknown user vs wrong password (must not reveal which)")
    check(not [c for c in known.header_all("Set-Cookie") if "concord=" in c and "concord=;" not in c],
          "a failed login must not set a session cookie")
    check("token" not in d1, "a failed login must not carry a token")


@test("login_malformed_400")
def _(env):
    c = backend(env, "main").client
    for body in (b'{"username": "admin", "password": ', b"not json at all", b'{"username": "admin"'):
        r = c.request("POST", "/api/v1/auth/login", body=body, headers={"Content-Type": "application/json"})
        expect_error(r, 400, "malformed JSON %r" % body[:20])


@test("login_timing_unknown_vs_known_user")
def _(env):
    b = backend(env, "main")
    u = env.user(b, "timing-user")
    c = b.client
    c.login(u.name, WRONG)
    c.login("timing-ghost-0", WRONG)            # warm both paths up
    known, unknown = [], []
    for i in range(6):
        for name, acc in ((u.name, known), ("timing-ghost-%d" % (i + 1), unknown)):
            t = time.perf_counter()
            r = c.login(name, WRONG)
            acc.append(time.perf_counter() - t)
            eq(r.status, 401, "failed login of %s" % name)
    mk, mu = statistics.median(known), statistics.median(unknown)
    detail = "median known-user %.1f ms, unknown-user %.1f ms" % (mk * 1e3, mu * 1e3)
    check(mk > 0.010 and mu > 0.010, "failed logins should cost a password hash (Argon2id) each: " + detail)
    check(0.5 <= mk / mu <= 2.0, "unknown user must be verified against a dummy hash (timing): " + detail)


def source_or_skip(c, src):
    try:
        s = c.conn(timeout=5, source=src)
        s.connect()
        s.close()
    except OSError as e:
        raise Skip("cannot connect from %s (%s): loopback aliases needed for per-address tests" % (src, e))


def check_retry_after(r):
    ra = r.header("Retry-After")
    check(ra, r.what() + ": 429 without Retry-After")
    if ra.strip().isdigit():
        check(1 <= int(ra) <= 3600, "Retry-After %r out of range" % ra)
    else:
        import email.utils
        check(email.utils.parsedate_to_datetime(ra), "Retry-After %r is neither seconds nor an HTTP date" % ra)


@test("login_throttle_per_account_429")
def _(env):
    b = backend(env, "limits")            # CONCORD_LOGIN_MAX_FAILURES=3
    c = b.client
    source_or_skip(c, "127.0.0.11")
    victim = env.user(b, "victim")
    for i in range(3):                    # one failure from each of 3 addresses
        r = c.login(victim.name, WRONG, source="127.0.0.%d" % (11 + i))
        expect_error(r, 401, "failure %d of 3" % (i + 1))
    r = c.login(victim.name, victim.password, source="127.0.0.14")
    expect_error(r, 429, "right password while the account is locked")
    check_retry_after(r)
    expect_error(c.login(victim.name, WRONG, source="127.0.0.15"), 429, "wrong password while locked")
    check("token" not in r.json, "a 429 must not carry a token")
    # the lock is per account: another user logs in fine
    other = env.user(b, "bystander")
    expect_ok(c.login(other.name, other.password, source="127.0.0.16"), 200, "other account while one is locked")


@test("login_throttle_per_address_429")
def _(env):
    b = backend(env, "limits")
    c = b.client
    source_or_skip(c, "127.0.0.21")
    other = env.user(b, "bystander")
    for i in range(3):                    # 3 failures from one address, 3 different accounts
        r = c.login("ghost-%d" % i, WRONG, source="127.0.0.21")
        expect_error(r, 401, "failure %d of 3 from one address" % (i + 1))
    r = c.login(other.name, other.password, source="127.0.0.21")
    expect_error(r, 429, "a good login from an address with 3 recent failures")
    check_retry_after(r)
    expect_ok(c.login(other.name, other.password, source="127.0.0.22"), 200, "same account from another address")


@test("auth_missing_token_401")
def _(env):
    c = backend(env, "main").client
    for path in ("/api/v1/me", "/api/v1/files", "/api/v1/users"):
        r = c.get(path)
        expect_error(r, 401, "no token")
        check((r.header("WWW-Authenticate") or "").startswith("Bearer"),
              "%s: WWW-Authenticate %r" % (r.what(), r.header("WWW-Authenticate")))


def expect_invalid_token(c, token, what):
    r = c.get("/api/v1/me", token=token)
    expect_error(r, 401, what)
    wa = r.header("WWW-Authenticate") or ""
    check(wa.startswith("Bearer") and 'error="invalid_token"' in wa,
          '%s: WWW-Authenticate must be Bearer error="invalid_token", got %r' % (what, wa))


@test("auth_invalid_tokens_401")
def _(env):
    b = backend(env, "main")
    c = b.client
    tok = env.admin_token(b)
    h, p, s = tok.split(".")
    claims = b64url_json(p)
    expect_invalid_token(c, "garbage", "garbage token")
    expect_invalid_token(c, h + "." + p + "." + b64url(os.urandom(32)), "random signature")
    expect_invalid_token(c, h + "." + p + ".", "empty signature")
    none_hdr = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    expect_invalid_token(c, none_hdr + "." + p + ".", "alg none")
    tampered = dict(claims, exp=claims.get("exp", 0) + 86400 * 365)
    expect_invalid_token(c, h + "." + b64url(json.dumps(tampered).encode()) + "." + s, "payload changed, old signature")
    expect_invalid_token(c, tok[:-4], "truncated token")
    expect_ok(c.get("/api/v1/me", token=tok), 200, "the untouched token still works")


def find_hmac_key(data_dir, token):
    """The HS256 key, if DATA/secret holds it raw, as hex or as base64."""
    with open(os.path.join(data_dir, "secret"), "rb") as f:
        raw = f.read()
    cands = [raw, raw.strip()]
    st = raw.strip()
    try:
        cands.append(bytes.fromhex(st.decode()))
    except ValueError:
        pass
    for dec in (base64.b64decode, base64.urlsafe_b64decode):
        try:
            cands.append(dec(st + b"=" * (-len(st) % 4)))
        except ValueError:
            pass
    h, p, s = token.split(".")
    sig = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
    for k in cands:
        if hmac.compare_digest(hmac.new(k, (h + "." + p).encode(), hashlib.sha256).digest(), sig):
            return k
    return None


def sign(key, header, claims, alg=hashlib.sha256):
    h = b64url(json.dumps(header).encode())
    p = b64url(json.dumps(claims).encode())
    return h + "." + p + "." + b64url(hmac.new(key, (h + "." + p).encode(), alg).digest())


@test("auth_forged_claims_rejected")
def _(env):
    """Tokens signed with the real key but with bad claims (security guide, libjwt 1.10 table)."""
    b = backend(env, "main")
    c = b.client
    u = env.user(b, "forge-target")
    key = find_hmac_key(b.data, u.token)
    if key is None:
        raise Skip("cannot reproduce the token signature from DATA/secret (raw/hex/base64): forged-claim cases "
                   "not run; cover them in unit tests")
    hdr = b64url_json(u.token.split(".")[0])
    claims = b64url_json(u.token.split(".")[1])
    now = int(time.time())
    expect_ok(c.get("/api/v1/me", token=sign(key, hdr, claims)), 200, "control: same claims re-signed")
    cases = [
        ("expired an hour ago", dict(claims, iat=now - 7200, exp=now - 3600)),
        ("expired 2 min ago (beyond 60 s leeway)", dict(claims, iat=now - 3720, exp=now - 120)),
        ("exp as a string", dict(claims, exp=str(claims["exp"]))),
        ("exp as a float", dict(claims, exp=claims["exp"] + 0.5)),
        ("no exp", {k: v for k, v in claims.items() if k != "exp"}),
        ("no iat", {k: v for k, v in claims.items() if k != "iat"}),
        ("iat an hour in the future", dict(claims, iat=now + 3600, exp=now + 7200)),
    ]
    for what, cl in cases:
        expect_invalid_token(c, sign(key, hdr, cl), what)
    expect_invalid_token(c, sign(key, dict(hdr, alg="HS512"), claims, hashlib.sha512), "alg HS512 with the same key")


@test("me")
def _(env):
    b = backend(env, "main")
    u = env.user(b, "me-user")
    doc = expect_ok(b.client.get("/api/v1/me", token=u.token))
    user = doc.get("user")
    check_user_doc(user, "GET /me")
    eq(user.get("id"), u.id, "me id")
    eq(user.get("username"), u.name, "me username")
    eq(user.get("role"), "member", "me role")


@test("logout_revokes_token")
def _(env):
    b = backend(env, "main")
    u = env.user(b, "logout-user")
    c = b.client
    tok = expect_ok(c.login(u.name, u.password)).get("token")
    expect_ok(c.get("/api/v1/me", token=tok), 200, "before logout")
    expect_ok(c.request("POST", "/api/v1/auth/logout", token=tok, body=b""), 200, "logout")
    expect_invalid_token(c, tok, "token after logout")
    expect_ok(c.login(u.name, u.password), 200, "login again after logout")


def token_code(r):
    errs = (r.json or {}).get("errors") or [{}]
    return errs[0].get("code")


@test("auth_kept_tokens_follow_every_change")
def _(env):
    """Each worker keeps the tokens it checked (fcgi/authcache.h): a token used
    many times on both workers is refused at the very next request after a
    logout, a password change, a disabled user and its expiry; a forged token
    that shares all but its signature with a kept one is refused too."""
    b = backend(env, "main")
    c, admin = b.client, env.admin_token(b)
    u = env.user(b, "kept-token-user")

    def used(tok, what, n=8):
        # nginx spreads the requests over the workers: each keeps the token
        for i in range(n):
            expect_ok(c.get("/api/v1/me", token=tok), 200, "%s: use %d" % (what, i + 1))
            expect_ok(c.get("/api/v1/files", token=tok), 200, "%s: workspace use %d" % (what, i + 1))

    def refused(tok, code, what, n=6):
        for i in range(n):
            for path in ("/api/v1/me", "/api/v1/files"):
                r = c.get(path, token=tok)
                expect_error(r, 401, "%s: %s, request %d" % (what, path, i + 1))
                eq(token_code(r), code, "%s: the code" % what)

    # a kept token and a forgery of it
    tok = expect_ok(c.login(u.name, u.password))["token"]
    used(tok, "before logout")
    h, p, _s = tok.split(".")
    refused(h + "." + p + "." + b64url(os.urandom(32)), "token_signature", "a kept token's forged signature", 2)
    expect_ok(c.request("POST", "/api/v1/auth/logout", token=tok, body=b""), 200, "logout")
    refused(tok, "token_revoked", "after logout")

    # the user's own password change makes the older token stale
    tok = expect_ok(c.login(u.name, u.password))["token"]
    used(tok, "before the password change")
    new_pw = u.password + "-2"
    expect_ok(c.put_json("/api/v1/me/password", {"current_password": u.password, "password": new_pw},
                         token=tok), 200, "password change")
    refused(tok, "token_stale", "after the password change")

    # the admin disables the user
    tok = expect_ok(c.login(u.name, new_pw))["token"]
    used(tok, "before disable")
    expect_ok(c.request("POST", "/api/v1/users/%s/disable" % u.id, token=admin, body=b""), 200, "disable")
    refused(tok, "user_disabled", "after disable")
    expect_ok(c.request("POST", "/api/v1/users/%s/enable" % u.id, token=admin, body=b""), 200, "enable")

    # expiry: a token re-signed with the real key, 3 s short of the 60 s leeway's end
    key = find_hmac_key(b.data, tok)
    if key is None:
        raise Skip("cannot reproduce the token signature from DATA/secret: the expiry case is not run")
    tok = expect_ok(c.login(u.name, new_pw))["token"]
    hdr, claims = b64url_json(tok.split(".")[0]), b64url_json(tok.split(".")[1])
    now = int(time.time())
    short = sign(key, hdr, dict(claims, iat=now - 120, exp=now - 60 + 3))
    used(short, "a token about to expire", 3)
    time.sleep(max(0.0, now + 4 - time.time()))
    refused(short, "token_expired", "after its expiry", 3)
    expect_ok(c.get("/api/v1/me", token=tok), 200, "the other token still works")


def csv_bytes(tag):
    return ("id,tag\n1,%s\n2,%s-b\n" % (tag, tag)).encode()


@test("cookie_auth_and_csrf")
def _(env):
    b = backend(env, "main")
    c = b.client
    u = env.user(b, "cookie-user")
    name = cookie_name(b)
    r = c.login(u.name, u.password)
    val, _ = parse_set_cookie(r.header_all("Set-Cookie"), name)
    check(val, "login set no %s cookie" % name)
    cookie = "%s=%s" % (name, val)
    eq(expect_ok(c.get("/api/v1/me", cookie=cookie)).get("user", {}).get("username"), u.name, "GET /me by cookie")
    same = c.origin                                    # e.g. https://127.0.0.1:PORT, as the Host header
    refused = [
        ("Sec-Fetch-Site: cross-site", {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}),
        ("Sec-Fetch-Site: cross-site, same Origin", {"Sec-Fetch-Site": "cross-site", "Origin": same}),
        ("Sec-Fetch-Site: same-site (guide: only same-origin/none pass)", {"Sec-Fetch-Site": "same-site"}),
        ("Origin of another host", {"Origin": "https://evil.example"}),
        ("Origin on another port", {"Origin": "https://127.0.0.1:%d" % (c.port + 1 if c.port < 65535 else 1)}),
        ("Origin: null", {"Origin": "null"}),
    ]
    for i, (what, hdrs) in enumerate(refused):
        r = c.upload("csrf-%d.csv" % i, csv_bytes("refused-%d" % i), cookie=cookie, headers=hdrs)
        expect_error(r, 403, "cookie POST with " + what)
    r = c.request("POST", "/api/v1/auth/logout", body=b"", cookie=cookie,
                  headers={"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"})
    expect_error(r, 403, "cookie logout, cross-site")
    expect_ok(c.get("/api/v1/me", cookie=cookie), 200, "cookie still valid after the refused logout")
    accepted = [
        ("Sec-Fetch-Site: same-origin + Origin", {"Sec-Fetch-Site": "same-origin", "Origin": same}),
        ("Origin only, same origin", {"Origin": same}),
    ]
    ids = []
    for i, (what, hdrs) in enumerate(accepted):
        r = c.upload("ok-%d.csv" % i, csv_bytes("accepted-%d" % i), cookie=cookie, headers=hdrs)
        ids.append(expect_ok(r, 201, "cookie POST with " + what).get("id"))
    # Bearer requests are not CSRF-checked
    r = c.upload("bearer.csv", csv_bytes("bearer"), token=u.token,
                 headers={"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"})
    ids.append(expect_ok(r, 201, "Bearer POST with cross-site headers").get("id"))
    listed = [f.get("id") for f in expect_ok(c.get("/api/v1/files", token=u.token)).get("files", [])]
    eq(sorted(listed), sorted(ids), "files after the refused (403) and accepted uploads")
