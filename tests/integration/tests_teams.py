"""Team workspaces through nginx on `main` (concord/teams.h, fcgi/h_teams.c).

An admin creates a team with an owner; the owner adds an editor, a second
editor and a viewer; an outsider is in no team. The team's workspace is
picked with `X-Concord-Workspace: team:ID` and gets two customer files and
one run, like a user's (tests_review.py's files).

  roles       for every route of fcgi/routes.c (read from the file, as
              tests_attacks.py does): the table itself (every route that can
              change anything needs editor or owner; every route that reaches
              a workspace says so); a viewer gets 403 on each editor and owner
              route and reads every viewer route; nothing changed after.
  no leak     an outsider sending the team's id gets, on every workspace
              route and every /teams/{id} route, the 404 of a team id that
              never existed, body for body.
  members     an editor cannot manage members or delete the team (403); an
              owner adds, changes and removes; the last owner stays; a removed
              member's next request with the token they still hold is refused.
  runs        two editors starting a run at the same moment: one 202, one 409
              naming the other's run (several rounds).
  audit       upload, delete, mapping saved, run, review decision and member
              changes are in GET /api/v1/audit with the user and the request
              id of the answer; pages (_size/_next/Link) put together are the
              whole log; the CSV export (?_format=csv and .csv) has the same
              rows.
"""
import concurrent.futures
import csv
import io
import json
import os
import re
import threading
import time

from harness import REPO, SetupError, check, eq, expect_error, expect_ok
from suite import test, backend
from tests_review import crm_csv, shop_csv

HDR = "X-Concord-Workspace"

# Routes that reach no workspace: they must say so in the table (ROUTE_USER,
# PUBLIC or ADMIN); every other route is a workspace route.
NOT_WORKSPACE = ("/api/v1/health", "/api/v1/openapi.json", "/api/v1/auth/", "/api/v1/me", "/api/v1/users",
                 "/api/v1/teams", "/api/v1/workspaces")
# POST routes that only read: a preview of a mapping stored nowhere, a
# read-only SQL query, a question answered from the model.
READ_ONLY_POSTS = {("POST", "/api/v1/files/{}/preview"), ("POST", "/api/v1/query"), ("POST", "/api/v1/ask")}
WS_LEVELS = ("VIEWER", "EDITOR", "OWNER")


def routes():
    """[(method, path pattern, auth)] from the route table in fcgi/routes.c."""
    with open(os.path.join(REPO, "fcgi", "routes.c")) as f:
        text = f.read()
    out = re.findall(r'\{\s*"(GET|POST|PUT|DELETE|PATCH)",\s*"(/api/v1/[^"]*)",\s*\w+,\s*ROUTE_(\w+)\s*\}', text)
    check(len(out) >= 40, "routes.c: only %d routes parsed (did the table's format change?)" % len(out))
    return out


def fill(pattern, vals):
    vals = list(vals)
    return re.sub(r"\{\}", lambda _m: vals.pop(0) if vals else "x", pattern)


def hdr(team_id, extra=None):
    h = {HDR: "team:" + team_id}
    h.update(extra or {})
    return h


def strip_volatile(body):
    try:
        doc = json.loads(body)
    except ValueError:
        return body
    doc.pop("request_id", None)
    return json.dumps(doc, sort_keys=True)


def wait_run(b, u, team_id, run_id, timeout=300):
    end = time.time() + timeout
    while time.time() < end:
        run = expect_ok(b.client.get("/api/v1/runs/" + run_id, token=u.token, headers=hdr(team_id)))["run"]
        if run["state"] not in ("queued", "running"):
            return run
        time.sleep(0.3)
    raise AssertionError("run %s did not end in %ds" % (run_id, timeout))


def team_fixture(env):
    """The team, its members, and one of everything in its workspace."""
    def mk():
        b = backend(env, "main")
        c, admin = b.client, env.admin_token(b)
        users = {k: env.user(b, "tm-" + k) for k in ("owner", "editor", "editor2", "viewer", "outsider")}
        r = c.post_json("/api/v1/teams", {"name": "tm-sales", "owner": users["owner"].name}, token=admin)
        if r.status != 201:
            raise SetupError("create team: %r" % r)
        team = r.json["team"]
        tid = team["id"]
        for k, role in (("editor", "editor"), ("editor2", "editor"), ("viewer", "viewer")):
            r = c.post_json("/api/v1/teams/%s/members" % tid, {"username": users[k].name, "role": role},
                            token=users["owner"].token)
            if r.status != 201:
                raise SetupError("add %s: %r" % (k, r))
        ed = users["editor"]
        for name, body in (("crm_customers.csv", crm_csv()), ("shop_customers.csv", shop_csv())):
            r = c.upload(name, body.encode(), token=ed.token, headers=hdr(tid))
            if r.status != 201:
                raise SetupError("upload %s to the team: %r" % (name, r))
        r = c.request("POST", "/api/v1/runs", token=ed.token, headers=hdr(tid))
        if r.status != 202:
            raise SetupError("team run: %r" % r)
        run = wait_run(b, ed, tid, r.json["id"])
        if run["state"] != "done":
            raise SetupError("team run ended %s: %s" % (run["state"], run.get("error")))
        ent = {"name": "tm_thing", "attributes": [{"name": "code", "type": "key", "role": "natural_key"}]}
        r = c.post_json("/api/v1/schema/entities", ent, token=ed.token, headers=hdr(tid))
        if r.status != 201:
            raise SetupError("team entity: %r" % r)
        files = expect_ok(c.get("/api/v1/files", token=ed.token, headers=hdr(tid)))["files"]
        review = expect_ok(c.get("/api/v1/review?_size=100", token=ed.token, headers=hdr(tid)))["items"]
        dash = expect_ok(c.get("/api/v1/dashboards", token=ed.token, headers=hdr(tid)))["dashboards"]
        if not review:
            raise SetupError("the team's run left no pair to review")
        ids = {"file": files[0]["id"], "run": run["id"], "entity": "tm_thing", "pair": str(review[0]["pair_id"]),
               "cluster": "1", "table": "dim_customer",
               "dashboard": dash[0]["name"] if isinstance(dash[0], dict) else dash[0],
               "team": tid, "member": users["editor"].id}
        return b, users, team, ids
    return env.fixture("teams", mk)


def ids_for(pat, ids):
    """The capture values of pat for the team's objects."""
    if pat.startswith("/api/v1/teams/{}/members/{}"):
        return [ids["team"], ids["member"]]
    if pat.startswith("/api/v1/teams/{}"):
        return [ids["team"]]
    for prefix, key in (("/api/v1/files/", "file"), ("/api/v1/runs/", "run"), ("/api/v1/schema/entities/", "entity"),
                        ("/api/v1/review/", "pair"), ("/api/v1/tables/", "table"),
                        ("/api/v1/dashboards/", "dashboard")):
        if pat.startswith(prefix):
            return [ids[key]]
    if pat.startswith("/api/v1/clusters/"):
        return ["customer", ids["cluster"]]
    return []


def body_of(method, pat):
    """A well-formed body for the route, so that a refusal is the role's."""
    if method not in ("POST", "PUT", "PATCH"):
        return None
    if pat == "/api/v1/files":
        return b"id,name\n1,x\n"
    if pat == "/api/v1/query":
        return json.dumps({"sql": "SELECT 1"}).encode()
    if pat == "/api/v1/ask":
        return json.dumps({"question": "how many customers?"}).encode()
    if pat.startswith("/api/v1/review/"):
        return json.dumps({"decision": "accept"}).encode()
    if pat.endswith("/members"):
        return json.dumps({"username": "tm-outsider", "role": "viewer"}).encode()
    if "/members/" in pat:
        return json.dumps({"role": "viewer"}).encode()
    return b"{}"


def call(c, method, pat, ids, tok, team_id):
    body = body_of(method, pat)
    ctype = "text/csv" if pat == "/api/v1/files" else "application/json"
    path = fill(pat, ids_for(pat, ids)) + ("?name=t.csv" if pat == "/api/v1/files" else "")
    h = hdr(team_id, {"Content-Type": ctype} if body is not None else None)
    return c.request(method, path, body=body, token=tok, headers=h)


def snapshot(b, tok, tid):
    c = b.client
    return {k: expect_ok(c.get(u, token=tok, headers=hdr(tid))).get(k) for k, u in (
        ("files", "/api/v1/files"), ("runs", "/api/v1/runs"), ("entities", "/api/v1/schema/entities"),
        ("pending", "/api/v1/review?_size=1"))}


def members(b, tok, tid):
    doc = expect_ok(b.client.get("/api/v1/teams/%s/members" % tid, token=tok))
    return {m["username"]: m["role"] for m in doc["members"]}


@test("teams_route_table_every_change_needs_a_role")
def _(env):
    n = 0
    for method, pat, auth in routes():
        if pat.startswith(NOT_WORKSPACE):
            check(auth not in WS_LEVELS, "%s %s reaches no workspace but is %s" % (method, pat, auth))
            continue
        check(auth in WS_LEVELS, "%s %s reaches a workspace: its role must be VIEWER, EDITOR or OWNER, not %s"
              % (method, pat, auth))
        if method != "GET" and (method, pat) not in READ_ONLY_POSTS:
            check(auth in ("EDITOR", "OWNER"), "%s %s can change the workspace: a viewer must not (%s)"
                  % (method, pat, auth))
        n += 1
    return "%d workspace routes" % n


@test("teams_openapi_documents_the_header_and_role_of_every_workspace_route")
def _(env):
    b = backend(env, "main")
    r = b.client.get("/api/v1/openapi.json")
    eq(r.status, 200, "GET /api/v1/openapi.json")
    doc = r.json
    param = doc["components"]["parameters"]["Workspace"]
    eq((param["name"], param["in"]), (HDR, "header"), "the Workspace parameter")
    paths = {re.sub(r"\{[^}]*\}", "{}", k): v for k, v in doc["paths"].items()}
    n = 0
    for method, pat, auth in routes():
        if auth not in WS_LEVELS:
            continue
        item = paths.get(pat[len("/api/v1"):])
        check(item is not None, "%s %s is not in the OpenAPI document" % (method, pat))
        refs = [p.get("$ref") for p in item.get("parameters", []) + item[method.lower()].get("parameters", [])]
        check("#/components/parameters/Workspace" in refs, "%s %s: no X-Concord-Workspace parameter" % (method, pat))
        eq(item[method.lower()].get("x-concord-role"), auth.lower(), "%s %s: x-concord-role" % (method, pat))
        n += 1
    for k in ("/workspaces", "/teams", "/teams/{}", "/teams/{}/members", "/teams/{}/members/{}", "/audit"):
        check(k in paths, "OpenAPI documents %s" % k)
    return "%d operations" % n


@test("teams_viewer_reads_everything_changes_nothing_403")
def _(env):
    b, users, team, ids = team_fixture(env)
    c, tid, v = b.client, team["id"], users["viewer"]
    before = snapshot(b, users["owner"].token, tid)
    roster = members(b, users["owner"].token, tid)
    n403 = nread = 0
    for method, pat, auth in routes():
        if auth in ("EDITOR", "OWNER"):
            r = call(c, method, pat, ids, v.token, tid)
            expect_error(r, 403, "viewer: %s %s" % (method, pat))
            eq(r.json["errors"][0]["code"], "forbidden", "viewer: %s %s: code" % (method, pat))
            n403 += 1
        elif auth == "VIEWER":
            r = call(c, method, pat, ids, v.token, tid)
            if method == "GET":
                check(r.status == 200, "viewer reads %s %s: %r" % (method, pat, r))
            else:       # a read-only POST: any answer but a refusal of the role or the workspace
                check(r.status not in (401, 403, 404), "viewer: %s %s: %r" % (method, pat, r))
            nread += 1
        elif pat.startswith("/api/v1/teams/{}") and method != "GET":
            r = call(c, method, pat, ids, v.token, tid)
            # a member may leave; the route is called on another member here
            expect_error(r, 403, "viewer manages the team: %s %s" % (method, pat))
            n403 += 1
    eq(snapshot(b, users["owner"].token, tid), before, "the team's workspace after the viewer's attempts")
    eq(members(b, users["owner"].token, tid), roster, "the team's members after the viewer's attempts")
    return "%d refused, %d read" % (n403, nread)


@test("teams_outsider_gets_the_404_of_an_unknown_team_everywhere")
def _(env):
    b, users, team, ids = team_fixture(env)
    c, tid, o = b.client, team["id"], users["outsider"]
    fake = "0123456789abcdef0123456789abcdef"
    before = snapshot(b, users["owner"].token, tid)
    n = 0
    for method, pat, auth in routes():
        if auth not in WS_LEVELS and not pat.startswith("/api/v1/teams/{}"):
            continue
        bodies = []
        for team_id in (tid, fake):
            fids = dict(ids, team=team_id)
            r = call(c, method, pat, fids, o.token, team_id)
            expect_error(r, 404, "outsider: %s %s (team %s)" % (method, pat, "real" if team_id == tid else "fake"))
            bodies.append(strip_volatile(r.body))
            n += 1
        eq(bodies[0], bodies[1], "%s %s: a team the user is not in and one that does not exist must answer alike"
           % (method, pat))
    eq(snapshot(b, users["owner"].token, tid), before, "the team's workspace after the outsider's attempts")
    # the team is not in the outsider's lists either
    ws = expect_ok(c.get("/api/v1/workspaces", token=o.token))["workspaces"]
    eq([w["id"] for w in ws], ["personal"], "the outsider's workspaces")
    eq(expect_ok(c.get("/api/v1/teams", token=o.token))["teams"], [], "the outsider's teams")
    # a malformed selector is a 400, never another workspace
    # (trailing blanks are not part of a field value, RFC 9110 5.5: nginx drops them)
    for bad in ("team:" + tid.upper(), "team:../" + tid, "team:", users["owner"].id, "team:" + tid + "0",
                "team:" + tid[:-1], "Team:" + tid, "team:" + tid + ",personal"):
        expect_error(c.get("/api/v1/files", token=o.token, headers={HDR: bad}), 400, "selector %r" % bad)
    return "%d requests" % n


@test("teams_workspaces_list_and_isolation")
def _(env):
    b, users, team, ids = team_fixture(env)
    c, tid = b.client, team["id"]
    for k, role in (("owner", "owner"), ("editor", "editor"), ("viewer", "viewer")):
        ws = expect_ok(c.get("/api/v1/workspaces", token=users[k].token))["workspaces"]
        eq(ws[0], {"id": "personal", "kind": "personal", "name": users[k].name, "role": "owner"}, k + ": personal")
        mine = [w for w in ws if w["id"] == "team:" + tid]
        eq(len(mine), 1, k + ": the team listed once")
        eq((mine[0]["role"], mine[0]["name"], mine[0]["kind"]), (role, "tm-sales", "team"), k + ": the team")
    # personal and team workspaces are apart: the editor's own files are not the team's
    ed = users["editor"]
    own = expect_ok(c.get("/api/v1/files", token=ed.token))["files"]
    own2 = expect_ok(c.get("/api/v1/files", token=ed.token, headers={HDR: "personal"}))["files"]
    eq(own, own2, "no header and 'personal' are the same workspace")
    teamf = expect_ok(c.get("/api/v1/files", token=ed.token, headers=hdr(tid)))["files"]
    check(not {f["id"] for f in own} & {f["id"] for f in teamf}, "personal and team files are apart")
    check(os.path.isdir(os.path.join(b.data, "workspaces", "team-" + tid)), "the team's workspace directory")
    # the owner sees the same team files as the editor (one shared workspace)
    eq(expect_ok(c.get("/api/v1/files", token=users["owner"].token, headers=hdr(tid)))["files"], teamf,
       "the owner's view of the team's files")


@test("teams_members_owner_manages_editor_403_last_owner_409")
def _(env):
    b = backend(env, "main")
    c, admin = b.client, env.admin_token(b)
    own, ed, x = env.user(b, "tmm-owner"), env.user(b, "tmm-editor"), env.user(b, "tmm-x")
    r = c.post_json("/api/v1/teams", {"name": "tmm-team", "owner": own.name}, token=admin)
    t = expect_ok(r, 201, "create")["team"]
    eq(r.header("Location"), "/api/v1/teams/" + t["id"], "Location")
    tid = t["id"]
    # only an admin creates teams; names are checked
    expect_error(c.post_json("/api/v1/teams", {"name": "by-member"}, token=own.token), 403, "a member creates a team")
    expect_error(c.post_json("/api/v1/teams", {"name": "TMM-TEAM"}, token=admin), 409, "same name, other case")
    for bad in ("", "a b", "../x", "x" * 65):
        expect_error(c.post_json("/api/v1/teams", {"name": bad}, token=admin), 422, "team name %r" % bad)
    expect_error(c.post_json("/api/v1/teams", {"name": "tmm-2", "owner": "nobody-here"}, token=admin), 422,
                 "unknown owner")
    expect_error(c.post_json("/api/v1/teams", {"nom": "x"}, token=admin), 400, "no name")
    base = "/api/v1/teams/%s/members" % tid
    expect_ok(c.post_json(base, {"username": ed.name, "role": "editor"}, token=own.token), 201, "add editor")
    # who sees the team in the lists, with which role
    mine = expect_ok(c.get("/api/v1/teams", token=ed.token))["teams"]
    eq([(t["id"], t["role"], t["members"]) for t in mine], [(tid, "editor", 2)], "the editor's teams")
    eq(expect_ok(c.get("/api/v1/teams?all=1", token=ed.token))["teams"], mine, "?all=1 is an admin's")
    every = expect_ok(c.get("/api/v1/teams?all=1", token=admin))["teams"]
    check(tid in [t["id"] for t in every], "an admin's ?all=1 lists every team")
    one = expect_ok(c.get("/api/v1/teams/" + tid, token=ed.token))["team"]
    eq((one["name"], one["role"], one["workspace"], sorted(m["username"] for m in one["members"])),
       ("tmm-team", "editor", "team:" + tid, sorted([own.name, ed.name])), "GET /teams/{id} by a member")
    eq(expect_ok(c.get("/api/v1/teams/" + tid, token=admin))["team"]["role"], "none", "an admin who is not a member")
    expect_error(c.post_json(base, {"username": ed.name, "role": "viewer"}, token=own.token), 409, "added twice")
    expect_error(c.post_json(base, {"username": x.name, "role": "admin"}, token=own.token), 422, "role admin")
    expect_error(c.post_json(base, {"username": "nobody-here", "role": "viewer"}, token=own.token), 422,
                 "unknown user")
    expect_error(c.post_json(base, {"role": "viewer"}, token=own.token), 400, "no username")
    # the editor cannot manage members nor delete the team
    expect_error(c.post_json(base, {"username": x.name, "role": "viewer"}, token=ed.token), 403, "editor adds")
    expect_error(c.put_json(base + "/" + own.id, {"role": "viewer"}, token=ed.token), 403, "editor changes a role")
    expect_error(c.request("DELETE", base + "/" + own.id, token=ed.token), 403, "editor removes the owner")
    expect_error(c.request("DELETE", "/api/v1/teams/" + tid, token=ed.token), 403, "editor deletes the team")
    expect_error(c.get("/api/v1/audit", token=ed.token, headers=hdr(tid)), 403, "editor reads the audit log")
    eq(members(b, own.token, tid), {own.name: "owner", ed.name: "editor"}, "after the editor's attempts")
    # the owner changes a role; the last owner stays
    expect_ok(c.put_json(base + "/" + ed.id, {"role": "viewer"}, token=own.token), 200, "make viewer")
    expect_error(c.put_json(base + "/" + own.id, {"role": "editor"}, token=own.token), 409, "last owner steps down")
    expect_error(c.request("DELETE", base + "/" + own.id, token=own.token), 409, "last owner leaves")
    expect_error(c.put_json(base + "/" + x.id, {"role": "viewer"}, token=own.token), 404, "role of a non-member")
    expect_error(c.put_json(base + "/" + ed.id, {"role": "boss"}, token=own.token), 422, "bad role")
    eq(members(b, own.token, tid), {own.name: "owner", ed.name: "viewer"}, "after the owner's changes")
    # an admin who is no member manages members (a team without owners can be helped) but reads no data
    expect_ok(c.put_json(base + "/" + ed.id, {"role": "owner"}, token=admin), 200, "admin makes an owner")
    expect_error(c.get("/api/v1/files", token=admin, headers=hdr(tid)), 404, "admin, not a member, reads files")
    # a member may leave
    expect_ok(c.request("DELETE", base + "/" + ed.id, token=ed.token), 200, "the second owner leaves")
    eq(members(b, own.token, tid), {own.name: "owner"}, "after leaving")
    # delete: the team, its memberships and its workspace go
    expect_ok(c.upload("a.csv", b"id\n1\n", token=own.token, headers=hdr(tid)), 201, "upload to the team")
    d = os.path.join(b.data, "workspaces", "team-" + tid)
    check(os.path.isdir(d), "the team's workspace exists")
    expect_ok(c.request("DELETE", "/api/v1/teams/" + tid, token=own.token), 200, "owner deletes")
    check(not os.path.exists(d), "the team's workspace directory is removed")
    expect_error(c.get("/api/v1/files", token=own.token, headers=hdr(tid)), 404, "the deleted team's files")
    expect_error(c.get("/api/v1/teams/" + tid, token=own.token), 404, "the deleted team")


@test("teams_removed_member_refused_at_the_next_request")
def _(env):
    b = backend(env, "main")
    c, admin = b.client, env.admin_token(b)
    own, m = env.user(b, "tmr-owner"), env.user(b, "tmr-member")
    tid = expect_ok(c.post_json("/api/v1/teams", {"name": "tmr-team", "owner": own.name}, token=admin), 201)["team"]["id"]
    base = "/api/v1/teams/%s/members" % tid
    expect_ok(c.post_json(base, {"username": m.name, "role": "editor"}, token=own.token), 201, "add")
    tok = m.token       # issued before the removal, still valid
    expect_ok(c.upload("m.csv", b"id\n1\n", token=tok, headers=hdr(tid)), 201, "the member uploads")
    expect_ok(c.get("/api/v1/files", token=tok, headers=hdr(tid)), 200, "the member reads")
    # demoted: the very next write is refused, reads go on
    expect_ok(c.put_json(base + "/" + m.id, {"role": "viewer"}, token=own.token), 200, "demote")
    expect_error(c.upload("m2.csv", b"id\n2\n", token=tok, headers=hdr(tid)), 403, "upload after the demotion")
    expect_ok(c.get("/api/v1/files", token=tok, headers=hdr(tid)), 200, "a viewer reads")
    expect_ok(c.request("DELETE", base + "/" + m.id, token=own.token), 200, "remove")
    # the next request, same token, on both workers (nginx spreads them)
    for i in range(4):
        r = c.get("/api/v1/files", token=tok, headers=hdr(tid))
        expect_error(r, 404, "request %d after the removal" % (i + 1))
        eq(r.json["errors"][0]["code"], "workspace_not_found", "the code")
    expect_error(c.get("/api/v1/teams/" + tid, token=tok), 404, "the team after the removal")
    # the token itself is still good: the user and their personal workspace are untouched
    expect_ok(c.get("/api/v1/me", token=tok), 200, "/me after the removal")
    expect_ok(c.get("/api/v1/files", token=tok), 200, "personal files after the removal")
    eq([w["id"] for w in expect_ok(c.get("/api/v1/workspaces", token=tok))["workspaces"]], ["personal"],
       "workspaces after the removal")


@test("teams_two_editors_start_runs_at_once_one_202_one_409")
def _(env):
    b = backend(env, "main")
    c, admin = b.client, env.admin_token(b)
    own, e1, e2 = env.user(b, "tmx-owner"), env.user(b, "tmx-e1"), env.user(b, "tmx-e2")
    tid = expect_ok(c.post_json("/api/v1/teams", {"name": "tmx-team", "owner": own.name}, token=admin), 201)["team"]["id"]
    for u in (e1, e2):
        expect_ok(c.post_json("/api/v1/teams/%s/members" % tid, {"username": u.name, "role": "editor"},
                              token=own.token), 201, "add " + u.name)
    expect_ok(c.upload("c.csv", crm_csv().encode(), token=e1.token, headers=hdr(tid)), 201, "upload")
    rounds = 3
    for rnd in range(rounds):
        barrier = threading.Barrier(2)

        def start(u):
            barrier.wait()
            return c.request("POST", "/api/v1/runs", token=u.token, headers=hdr(tid))
        with concurrent.futures.ThreadPoolExecutor(2) as ex:
            got = list(ex.map(start, (e1, e2)))
        statuses = sorted(r.status for r in got)
        eq(statuses, [202, 409], "round %d: the two answers (%r)" % (rnd + 1, got))
        ok = [r for r in got if r.status == 202][0]
        conflict = [r for r in got if r.status == 409][0]
        expect_error(conflict, 409, "round %d: the refused one" % (rnd + 1))
        eq(conflict.json["errors"][0]["code"], "run_in_progress", "the 409's code")
        eq(conflict.header("Location"), "/api/v1/runs/" + ok.json["id"], "the 409 names the run that started")
        wait_run(b, e1, tid, ok.json["id"])
    runs = expect_ok(c.get("/api/v1/runs", token=own.token, headers=hdr(tid)))["runs"]
    eq(len(runs), rounds, "one run per round in the team's workspace")
    return "%d rounds" % rounds


def audit_all(b, tok, tid, size):
    """The whole audit log by pages of size, and the number of pages."""
    c = b.client
    url, seen, pages = "/api/v1/audit?_size=%d" % size, [], 0
    while url:
        r = c.get(url, token=tok, headers=hdr(tid))
        doc = expect_ok(r, 200, url)
        check(len(doc["entries"]) <= size, "a page holds at most _size entries")
        seen += doc["entries"]
        if doc["next"] is not None:
            check('rel="next"' in (r.header("Link") or ""), "Link header on a page with a next")
        url = doc["next_url"]
        pages += 1
        check(pages < 1000, "paging ends")
    return seen, pages


@test("teams_audit_log_records_who_what_and_the_request_id")
def _(env):
    b = backend(env, "main")
    c, admin = b.client, env.admin_token(b)
    own, ed, v = env.user(b, "tma-owner"), env.user(b, "tma-editor"), env.user(b, "tma-viewer")
    r = c.post_json("/api/v1/teams", {"name": "tma-team", "owner": own.name}, token=admin)
    tid = expect_ok(r, 201)["team"]["id"]
    done = []           # (action, username, request id, target or None)

    def did(r, status, action, user, target=None):
        expect_ok(r, status, action)
        done.append((action, user.name, r.header("X-Request-Id"), target))
        return r.json
    base = "/api/v1/teams/%s/members" % tid
    did(c.post_json(base, {"username": ed.name, "role": "editor"}, token=own.token), 201, "member.add", own, ed.id)
    did(c.post_json(base, {"username": v.name, "role": "editor"}, token=own.token), 201, "member.add", own, v.id)
    did(c.put_json(base + "/" + v.id, {"role": "viewer"}, token=own.token), 200, "member.role", own, v.id)
    f1 = did(c.upload("crm_customers.csv", crm_csv().encode(), token=ed.token, headers=hdr(tid)), 201,
             "file.upload", ed)["id"]
    done[-1] = done[-1][:3] + (f1,)
    f2 = did(c.upload("shop_customers.csv", shop_csv().encode(), token=ed.token, headers=hdr(tid)), 201,
             "file.upload", ed)["id"]
    done[-1] = done[-1][:3] + (f2,)
    f3 = expect_ok(c.upload("gone.csv", b"id\n1\n", token=ed.token, headers=hdr(tid)), 201)["id"]
    done.append(("file.upload", ed.name, None, f3))
    did(c.request("DELETE", "/api/v1/files/" + f3, token=ed.token, headers=hdr(tid)), 200, "file.delete", ed, f3)
    mapping = expect_ok(c.get("/api/v1/files/%s/mapping" % f1, token=ed.token, headers=hdr(tid)))["mapping"]
    did(c.put_json("/api/v1/files/%s/mapping" % f1, mapping, token=ed.token, headers=hdr(tid)), 200,
        "mapping.confirm", ed, f1)
    run = did(c.request("POST", "/api/v1/runs", token=ed.token, headers=hdr(tid)), 202, "run.create", ed)["id"]
    done[-1] = done[-1][:3] + (run,)
    eq(wait_run(b, ed, tid, run)["state"], "done", "the team's run")
    items = expect_ok(c.get("/api/v1/review?_size=1", token=ed.token, headers=hdr(tid)))["items"]
    check(items, "a pair to review")
    did(c.post_json("/api/v1/review/%d" % items[0]["pair_id"], {"decision": "accept"}, token=ed.token,
                    headers=hdr(tid)), 200, "review.accept", ed)
    did(c.request("DELETE", base + "/" + v.id, token=own.token), 200, "member.remove", own, v.id)
    # refused attempts change nothing and are not logged as actions
    expect_error(c.request("DELETE", "/api/v1/files/" + f1, token=v.token, headers=hdr(tid)), 404, "removed viewer")
    entries, pages = audit_all(b, own.token, tid, 2)
    whole = expect_ok(c.get("/api/v1/audit?_size=1000", token=own.token, headers=hdr(tid)))["entries"]
    eq(entries, whole, "the pages put together are the whole log")
    check(pages >= len(whole) // 2, "paged by 2: %d pages for %d entries" % (pages, len(whole)))
    ids = [e["id"] for e in whole]
    eq(ids, sorted(ids, reverse=True), "newest first")
    log = list(reversed(whole))
    eq(log[0]["action"], "team.create", "the first entry")
    eq(log[1]["action"], "member.add", "the owner added at creation")
    rest = [(e["action"], e["username"], e["request_id"], e["target"]) for e in log[2:]]
    want = [(a, u, rid, t) for a, u, rid, t in done]
    eq(len(rest), len(want), "one entry per action: %r" % [e[0] for e in rest])
    for got, exp in zip(rest, want):
        eq(got[0], exp[0], "action")
        eq(got[1], exp[1], "%s: who" % exp[0])
        if exp[2] is not None:
            eq(got[2], exp[2], "%s: the request id of the answer" % exp[0])
        if exp[3] is not None:
            eq(got[3], exp[3], "%s: the object" % exp[0])
    for e in whole:
        check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", e["at"] or ""), "at is RFC 3339 UTC: %r" % e["at"])
        eq(e["outcome"], "ok", "outcome")
    # CSV: the same rows, both ways of asking
    for url in ("/api/v1/audit?_format=csv", "/api/v1/audit.csv"):
        r = c.get(url, token=own.token, headers=hdr(tid))
        eq(r.status, 200, url)
        check((r.header("Content-Type") or "").startswith("text/csv"), "%s: Content-Type %r" % (url, r.header("Content-Type")))
        rows = list(csv.DictReader(io.StringIO(r.body.decode("utf-8"))))
        eq([int(x["id"]) for x in rows], ids, url + ": the ids")
        eq([(x["action"], x["username"], x["request_id"]) for x in rows],
           [(e["action"], e["username"] or "", e["request_id"] or "") for e in whole], url + ": the rows")
    r = c.get("/api/v1/audit.csv?_dl=1", token=own.token, headers=hdr(tid))
    check("attachment" in (r.header("Content-Disposition") or ""), "_dl=1: Content-Disposition")
    # who may read it: owners; not editors or viewers, not outsiders (404)
    expect_error(c.get("/api/v1/audit", token=ed.token, headers=hdr(tid)), 403, "editor")
    expect_error(c.get("/api/v1/audit", token=v.token, headers=hdr(tid)), 404, "removed viewer")
    # bad paging
    for q in ("_size=0", "_size=1001", "_size=x", "_next=abc", "_next=-1", "_format=xml"):
        expect_error(c.get("/api/v1/audit?" + q, token=own.token, headers=hdr(tid)), 400, q)
    # a user's personal log holds their own workspace's actions, not the team's
    mine = expect_ok(c.get("/api/v1/audit", token=ed.token))["entries"]
    check(not {e["id"] for e in mine} & set(ids), "the editor's personal log has none of the team's entries")
    r = c.upload("p.csv", b"id\n1\n", token=ed.token)
    check(r.status in (200, 201), "personal upload: %r" % r)
    if r.status == 201:
        mine = expect_ok(c.get("/api/v1/audit", token=ed.token))["entries"]
        eq((mine[0]["action"], mine[0]["request_id"]), ("file.upload", r.header("X-Request-Id")),
           "the personal upload in the personal log")
    return "%d entries, %d pages of 2" % (len(whole), pages)
