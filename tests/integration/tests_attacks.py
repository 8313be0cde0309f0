"""Attacks as tests, for every route of fcgi/routes.c (read from the file, so a
new route is attacked too) through nginx on `main`:

  tokens      missing, garbage, forged signature, alg none, HS512 and RS256
              headers, expired, oversized (4.8 KiB: over the service's 4096-byte
              cap, under nginx's 8 KiB header buffers; 64 KiB, over them: nginx's
              own 431 envelope) and revoked (after logout): 401 with
              WWW-Authenticate on every authenticated route; a member on an
              admin route: 403.
  ids         another user's file, run, entity, review pair and cluster on
              every route that takes one: 404 with the same body as an id
              that never existed (no existence leak), and nothing changed.
  names       table, dashboard, entity and column names with quotes,
              semicolons, sqlite_master, ../ and NUL: 400/404/422.
  uploads     binary, empty, NUL-bearing, invalid UTF-8, 100,000 columns, one
              17 MiB line (field limit), a JSON array nested 100,000 deep
              (also as every JSON request body), lying CONTENT_LENGTH on the
              FastCGI socket for every route that takes a body.
Every answer is the JSON error envelope; afterwards the service is healthy,
its process ids are the same (no worker crashed or was replaced), each
worker's resident memory grew by less than RSS_BOUND_MIB (32 MiB) and its
peak (VmHWM) rose by less than HWM_BOUND_MIB (48 MiB).
"""
import base64
import concurrent.futures
import hashlib
import hmac
import json
import os
import re
import sqlite3
import time

from harness import REPO, b64url, b64url_json, check, eq, expect_error, expect_ok, proc_status
from suite import test, backend
from tests_auth import find_hmac_key, sign
from tests_review import review_run
from tests_upload_integrity import Fcgi

RSS_BOUND_MIB = 32          # growth of a worker's VmRSS over the attacks of one test
HWM_BOUND_MIB = 48          # rise of a worker's peak VmHWM over the attacks of one test


def routes():
    """[(method, path pattern, auth)] from the route table in fcgi/routes.c."""
    with open(os.path.join(REPO, "fcgi", "routes.c")) as f:
        text = f.read()
    out = re.findall(r'\{\s*"(GET|POST|PUT|DELETE|PATCH)",\s*"(/api/v1/[^"]*)",\s*\w+,\s*ROUTE_(\w+)\s*\}', text)
    check(len(out) >= 30, "routes.c: only %d routes parsed (did the table's format change?)" % len(out))
    return out


def fill(pattern, *vals):
    vals = list(vals)
    return re.sub(r"\{\}", lambda _m: vals.pop(0) if vals else "x", pattern)


def worker_state(b):
    pids = sorted(b.pids())
    return pids, {p: proc_status(p, "VmRSS") for p in pids}, {p: proc_status(p, "VmHWM") for p in pids}


def env_sanitized(b):
    return b.env.san_dir is not None


def check_alive(b, before, what):
    expect_ok(b.client.get("/api/v1/health"), 200, what + ": health")
    pids, rss, _hwm = worker_state(b)
    eq(pids, before[0], what + ": the service's process ids (a worker crashed or was replaced)")
    grown = {p: (rss[p] - before[1][p]) / 1024.0 for p in pids if rss[p] and before[1].get(p)}
    worst = max(grown.values()) if grown else 0.0
    # (not under ASan: its quarantine and shadow memory are not the program's)
    check(env_sanitized(b) or worst < RSS_BOUND_MIB, "%s: a worker's RSS grew by %.1f MiB (bound %d MiB)" % (what, worst, RSS_BOUND_MIB))
    peak = max(((proc_status(p, "VmHWM") or 0) - (before[2].get(p) or 0)) for p in pids) / 1024.0
    check(env_sanitized(b) or peak < HWM_BOUND_MIB, "%s: a worker's peak RSS (VmHWM) rose by %.1f MiB (bound %d MiB)" % (
        what, peak, HWM_BOUND_MIB))
    return worst, peak


def parallel(fn, items, n=4):
    with concurrent.futures.ThreadPoolExecutor(n) as ex:
        return list(ex.map(fn, items))


def body_for(method):
    return b"{}" if method in ("POST", "PUT", "PATCH") else None


# ------------------------------------------------------------- tokens ---
@test("attack_tokens_every_route_401")
def _(env):
    b = backend(env, "main")
    c = b.client
    victim = env.user(b, "attack-tokens")
    member = env.user(b, "attack-member")
    key = find_hmac_key(b.data, victim.token)
    check(key is not None, "the signing key cannot be read from DATA/secret")
    hdr = b64url_json(victim.token.split(".")[0])
    claims = b64url_json(victim.token.split(".")[1])
    now = int(time.time())
    h, p, s = victim.token.split(".")
    # a token revoked by logout
    revoked = expect_ok(c.login(victim.name, victim.password)).get("token")
    expect_ok(c.request("POST", "/api/v1/auth/logout", token=revoked, body=b""), 200, "logout")
    pad = "x" * 3500            # a 4.8 KiB token: over the service's 4096-byte cap, under nginx's 8k buffers
    attacks = [
        ("garbage", "garbage"),
        ("forged signature", h + "." + p + "." + b64url(os.urandom(32))),
        ("alg none", b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode()) + "." + p + "."),
        ("alg HS512, same key", sign(key, dict(hdr, alg="HS512"), claims, hashlib.sha512)),
        ("alg RS256 header, HMAC signature",
         sign(key, dict(hdr, alg="RS256"), claims)),
        ("expired", sign(key, hdr, dict(claims, iat=now - 7200, exp=now - 3600))),
        ("oversized 4.8 KiB (a padded claim, real key)", sign(key, hdr, dict(claims, pad=pad))),
        ("oversized 4.8 KiB, forged", h + "." + b64url(json.dumps(dict(claims, pad=pad)).encode()) + "." + s),
        ("revoked (logged out)", revoked),
    ]
    # control: the real key re-signing the same claims is accepted
    expect_ok(c.get("/api/v1/me", token=sign(key, hdr, claims)), 200, "control")
    before = worker_state(b)
    cases = []
    for method, pat, auth in routes():
        if auth == "PUBLIC":
            continue
        path = fill(pat)
        cases.append((method, path, "no token", None))
        cases.extend((method, path, what, tok) for what, tok in attacks)
        if auth == "ADMIN":
            cases.append((method, path, "member on an admin route", member.token))

    def one(case):
        method, path, what, tok = case
        r = c.request(method, path, token=tok, body=body_for(method),
                      headers={"Content-Type": "application/json"} if body_for(method) else None)
        want = 403 if what.startswith("member") else 401
        expect_error(r, want, "%s %s with %s" % (method, path, what))
        if want == 401:
            wa = r.header("WWW-Authenticate") or ""
            check(wa.startswith("Bearer"), "%s %s with %s: WWW-Authenticate %r" % (method, path, what, wa))
            if tok is not None:
                check('error="invalid_token"' in wa, "%s %s with %s: WWW-Authenticate %r" % (method, path, what, wa))
        return r.status
    got = parallel(one, cases)
    # over nginx's header buffers: nginx's own 400 envelope, never the service
    r = c.get("/api/v1/me", token=sign(key, hdr, dict(claims, pad="x" * 65536)))
    expect_error(r, 431, "64 KiB token (nginx's own answer, RFC 6585)")
    expect_ok(c.get("/api/v1/me", token=victim.token), 200, "the victim's own token still works")
    rss, peak = check_alive(b, before, "after the token attacks")
    return "%d requests on %d routes; worker RSS growth <= %.1f MiB, peak rise %.1f MiB" % (
        len(got), len(routes()), rss, peak)


# ---------------------------------------------------- another user's ids ---
def owner_ids(env):
    """A user of `main` (the review fixture's) with one of everything, and its ids."""
    def mk():
        b, u = review_run(env)
        c = b.client
        f = expect_ok(c.get("/api/v1/files", token=u.token))["files"][0]["id"]
        run = expect_ok(c.get("/api/v1/runs", token=u.token))["runs"][0]["id"]
        ent = {"name": "secret_thing", "attributes": [{"name": "code", "type": "key", "role": "natural_key"},
                                                      {"name": "label", "type": "text", "compare": "text"}]}
        r = c.post_json("/api/v1/schema/entities", ent, token=u.token)
        check(r.status in (201, 409), "create entity secret_thing: %r" % r)
        path = os.path.join(b.data, "workspaces", u.id, "model.db")
        db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
        try:
            pair = db.execute("SELECT pair_id FROM match_pairs ORDER BY pair_id LIMIT 1").fetchone()
            cl = db.execute("SELECT a_canonical_id FROM match_pairs WHERE entity = 'customer' AND"
                            " a_canonical_id = b_canonical_id LIMIT 1").fetchone()
        finally:
            db.close()
        check(pair is not None and cl is not None, "the review fixture has pairs and a cluster")
        return b, u, {"file": f, "run": run, "entity": "secret_thing", "pair": str(pair[0]),
                      "cluster": str(cl[0])}
    return env.fixture("attack-owner", mk)


def ids_for(pat, ids, fake):
    """The capture values of pat for the owner's objects (or fake ones)."""
    pick = ids if fake is None else fake
    if "/files/" in pat:
        return [pick["file"]]
    if "/runs/" in pat:
        return [pick["run"]]
    if "/schema/entities/" in pat:
        return [pick["entity"]]
    if "/review/" in pat:
        return [pick["pair"]]
    if "/clusters/" in pat:
        return ["customer", pick["cluster"]]
    return None


def strip_volatile(body):
    try:
        doc = json.loads(body)
    except ValueError:
        return body
    doc.pop("request_id", None)
    return json.dumps(doc, sort_keys=True)


@test("attack_other_users_ids_404_no_leak")
def _(env):
    b, owner, ids = owner_ids(env)
    c = b.client
    thief = env.user(b, "attack-thief")
    fake = {"file": "0123456789abcdef", "run": "0123456789abcdef", "entity": "no_such_thing",
            "pair": "987654321", "cluster": "987654321"}
    snap = {k: expect_ok(c.get(u, token=owner.token)).get(k) for k, u in (
        ("files", "/api/v1/files"), ("runs", "/api/v1/runs"), ("entities", "/api/v1/schema/entities"))}
    before = worker_state(b)
    n = 0
    for method, pat, auth in routes():
        if auth not in ("VIEWER", "EDITOR", "OWNER") or "{}" not in pat:
            continue        # workspace routes (/teams/{id}: tests_teams.py)
        if pat.startswith(("/api/v1/tables/", "/api/v1/dashboards/")):
            continue        # names of the schema, the same for everyone (tables_other_user_no_such_table)
        real = ids_for(pat, ids, None)
        check(real is not None, "no owner object for route %s %s: add it to ids_for()" % (method, pat))
        body = {"decision": "accept"} if "/review/" in pat else {}
        bodies = []
        for vals in (real, ids_for(pat, ids, fake)):
            path = fill(pat, *vals)
            if method in ("POST", "PUT"):
                r = c.request(method, path, token=thief.token, body=json.dumps(body).encode(),
                              headers={"Content-Type": "application/json"})
            else:
                r = c.request(method, path, token=thief.token)
            # PUT /schema/entities/{name} validates the body first (a name is the
            # user's own namespace, not an id): the same answer is what matters
            expect_error(r, r.status if "/schema/entities/" in pat and method == "PUT" else 404,
                         "%s %s by another user" % (method, path))
            bodies.append(strip_volatile(r.body))
            n += 1
        eq(bodies[0], bodies[1], "%s %s: another user's id and a made-up one must answer alike" % (method, pat))
    after = {k: expect_ok(c.get(u, token=owner.token)).get(k) for k, u in (
        ("files", "/api/v1/files"), ("runs", "/api/v1/runs"), ("entities", "/api/v1/schema/entities"))}
    eq(after, snap, "the owner's files, runs and entities after another user's DELETE/PUT/POST")
    check_alive(b, before, "after the id attacks")
    return "%d requests" % n


# ------------------------------------------------------------- names ---
NASTY = ['dim_customer"', "dim_customer'", 'x";DROP TABLE files;--', "x;DROP TABLE files", "sqlite_master",
         "sqlite_schema", "sqlite_temp_master", "../workspace", "../../control", "..", "main.files",
         "model.dim_customer", "ws.files", "dim_customer%00", "dim_customer\\", "%2e%2e%2fcontrol",
         "dim_customer OR 1=1", "files", "runs", "match_decisions"]


def q(s):
    import urllib.parse
    return urllib.parse.quote(s, safe="%")


@test("attack_sql_names_and_paths")
def _(env):
    b, owner, ids = owner_ids(env)
    c = b.client
    tok = owner.token
    before = worker_state(b)
    wsdb = os.path.join(b.data, "workspaces", owner.id, "workspace.db")
    files_before = expect_ok(c.get("/api/v1/files", token=tok))["files"]
    cases = []
    for name in NASTY:
        for fmt in ("", ".csv", ".json"):
            cases.append(("GET", "/api/v1/tables/%s%s" % (q(name), fmt), (400, 404)))
        cases.append(("GET", "/api/v1/dashboards/%s" % q(name), (400, 404)))
        cases.append(("GET", "/api/v1/schema/entities/%s" % q(name), (400, 404)))
        cases.append(("DELETE", "/api/v1/schema/entities/%s" % q(name), (400, 404)))
        cases.append(("GET", "/api/v1/files/%s" % q(name), (400, 404)))
        # column names in filters, sorting and column choice on a real table
        for param in ("%s__exact=1" % q(name), "_sort=%s" % q(name), "_sort_desc=%s" % q(name),
                      "_col=%s" % q(name), "_nocol=%s" % q(name)):
            cases.append(("GET", "/api/v1/tables/dim_customer?" + param, (400,)))
    cases.append(("GET", "/api/v1/tables/dim_customer?customer_id__in=1%27%29%3BDROP%20TABLE%20files%3B--", (200,)))

    def one(case):
        method, path, want = case
        r = c.request(method, path, token=tok)
        if 200 in want:
            check(r.status == 200, "%s %s: %r" % (method, path, r))
            return r.status
        check(r.status in want, "%s %s: want one of %s, got %r" % (method, path, want, r))
        expect_error(r, r.status, "%s %s" % (method, path))
        return r.status
    got = parallel(one, cases)
    # an entity and a mapping target with such names are refused, not stored
    for name in NASTY[:6]:
        ent = {"name": name, "attributes": [{"name": "code", "type": "key", "role": "natural_key"}]}
        r = c.post_json("/api/v1/schema/entities", ent, token=tok)
        if re.fullmatch(r"[a-z][a-z0-9_]*", name):     # snake_case, e.g. sqlite_master: a name like any
            expect_ok(r, 201, "entity named %r" % name)
            expect_ok(c.request("DELETE", "/api/v1/schema/entities/" + name, token=tok), 200, "delete " + name)
        else:
            check(r.status in (400, 422), "entity named %r: %r" % (name, r))
            expect_error(r, r.status, "entity named %r" % name)
        ent = {"name": "okname", "attributes": [{"name": name, "type": "key", "role": "natural_key"}]}
        r = c.post_json("/api/v1/schema/entities", ent, token=tok)
        if re.fullmatch(r"[a-z][a-z0-9_]*", name):
            expect_ok(r, 201, "attribute named %r" % name)
            expect_ok(c.request("DELETE", "/api/v1/schema/entities/okname", token=tok), 200, "delete okname")
        else:
            check(r.status in (400, 422), "attribute named %r: %r" % (name, r))
            expect_error(r, r.status, "attribute named %r" % name)
        r = c.put_json("/api/v1/files/%s/mapping" % ids["file"],
                       {"columns": [{"source": name, "target": "customer." + name}]}, token=tok)
        check(r.status in (400, 422), "mapping with %r: %r" % (name, r))
        expect_error(r, r.status, "mapping with %r" % name)
    eq(expect_ok(c.get("/api/v1/files", token=tok))["files"], files_before, "files after the name attacks")
    db = sqlite3.connect("file:%s?mode=ro" % wsdb, uri=True)
    try:
        eq([r[0] for r in db.execute("PRAGMA integrity_check")], ["ok"], "workspace.db integrity")
        eq(db.execute("SELECT count(*) FROM files").fetchone()[0], len(files_before), "files table")
    finally:
        db.close()
    check_alive(b, before, "after the name attacks")
    return "%d requests" % (len(got) + 18)


# ------------------------------------------------------------ uploads ---
def deep_json(n):
    return b"[" * n + b"]" * n


@test("attack_uploads_bad_bodies_4xx")
def _(env):
    b = backend(env, "main")
    c = b.client
    u = env.user(b, "attack-uploads")
    before = worker_state(b)
    files_before = expect_ok(c.get("/api/v1/files", token=u.token))["files"]
    rng = __import__("random").Random(7)
    binary = bytes(rng.randrange(256) for _ in range(65536))
    cases = [
        ("binary", binary, "text/csv", (415, 422)),
        ("binary as JSON", binary, "application/json", (415, 422)),
        ("empty", b"", "text/csv", (422,)),
        ("empty JSON", b"", "application/json", (422,)),
        ("NUL in a field", b"id,name\n1,a\x00b\n2,c\n", "text/csv", (422,)),
        ("invalid UTF-8 (C1 bytes, not Latin-1 either)", b"id,name\n1,\x81\x8d\x90\n2,ok\n", "text/csv", (422,)),
        ("100,000 columns", (",".join("c%d" % i for i in range(100000)) + "\n" +
                             ",".join("1" for _ in range(100000)) + "\n").encode(), "text/csv", (413, 422)),
        ("one 17 MiB line (the 16 MiB field limit)", b"id\n" + b"a" * (17 << 20) + b"\n", "text/csv", (413, 422)),
        ("one 17 MiB line of 2-byte fields (the column limit)", b"a," * (17 << 19) + b"a\n", "text/csv",
         (413, 422)),
        ("JSON nested 100,000 deep", deep_json(100000), "application/json", (422,)),
        ("NDJSON nested 100,000 deep", deep_json(100000) + b"\n", "application/x-ndjson", (422,)),
        ("JSON object nested 100,000 deep", b'{"a":' * 100000 + b"1" + b"}" * 100000, "application/json", (422,)),
    ]
    hw = {}
    for what, body, ct, want in cases:
        t = time.time()
        r = c.upload("attack.bin", body, ct, token=u.token, timeout=120)
        check(r.status in want, "upload %s: want one of %s, got %r" % (what, want, r))
        doc = expect_error(r, r.status, "upload " + what)
        check(doc["errors"] and all(e.get("detail") for e in doc["errors"]), "%s: every error says why" % what)
        hw[what] = time.time() - t
    # JSON nested 100,000 deep as the body of every JSON endpoint
    admin = env.admin_token(b)
    deep = deep_json(100000)
    for method, pat, auth in routes():
        if not reads_body(method, pat) or pat.endswith("/files") or "/preview" in pat:
            continue
        tok = admin if auth == "ADMIN" else (None if auth == "PUBLIC" else u.token)
        path = fill(pat, "0123456789abcdef")
        r = c.request(method, path, body=deep, token=tok, headers={"Content-Type": "application/json"})
        check(400 <= r.status < 500, "%s %s with JSON nested 100,000 deep: %r" % (method, path, r))
        expect_error(r, r.status, "%s %s deep JSON" % (method, path))
    eq(expect_ok(c.get("/api/v1/files", token=u.token))["files"], files_before, "nothing registered")
    tmp = [f for f in os.listdir(os.path.join(b.data, "workspaces", u.id, "uploads"))]
    eq(tmp, [], "nothing left in uploads/")
    rss, peak = check_alive(b, before, "after the upload attacks")
    return "worker RSS growth <= %.1f MiB, peak rise %.1f MiB; slowest %s %.1fs" % (
        rss, peak, max(hw, key=hw.get), max(hw.values()))


def reads_body(method, pat):
    if method not in ("POST", "PUT"):
        return False
    return method == "PUT" or any(pat.endswith(x) for x in ("/auth/login", "/users", "/files", "/preview",
                                                           "/schema/entities")) or "/review/" in pat


@test("attack_lying_content_length_every_body_route")
def _(env):
    """CONTENT_LENGTH larger and smaller than the body, on the FastCGI socket
    (nginx itself never forwards a lying length), for every route that reads
    a body: 400, and the service stays whole."""
    b = backend(env, "upload")
    u = env.user(b, "attack-cl")
    admin = env.admin_token(b)
    before = worker_state(b)
    body = b'{"username": "x", "password": "y"}'
    n = 0
    for method, pat, auth in routes():
        if method not in ("POST", "PUT"):
            continue
        tok = admin if auth == "ADMIN" else (None if auth == "PUBLIC" else u.token)
        path = fill(pat, "0123456789abcdef")
        if path.endswith("/files"):
            path += "?name=lie.csv"
        for announced in (len(body) + 1000, len(body) - 10):
            f = Fcgi(b.sock, timeout=10).begin(method, path, content_length=announced,
                                               content_type="application/json", token=tok)
            r = f.stdin(body).end_stdin().response()
            n += 1
            where = "%s %s CONTENT_LENGTH %d for %d bytes" % (method, path, announced, len(body))
            check(r.ended, where + ": no FCGI_END_REQUEST")
            # a route that reads its body says 400 (or refuses first: 401/403/404);
            # one that reads none (logout, enable, runs, cancel, split) may answer as usual
            if reads_body(method, pat):
                check(r.status in (400, 401, 403, 404), where + ": %r" % r)
            else:
                check(r.status < 500, where + ": %r" % r)
            doc = r.json
            if r.status >= 400:
                eq((doc.get("ok"), doc.get("status")), (False, r.status), where + ": envelope")
    check_alive(b, before, "after the lying lengths")
    return "%d requests" % n
