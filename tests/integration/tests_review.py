"""The review queue of entity resolution over HTTP: GET /api/v1/review,
POST /api/v1/review/{pair}, POST /api/v1/clusters/{entity}/{id}/split and
GET /api/v1/matching.

The workspace gets two small customer files written here: a CRM export of
40 distinct people and a web shop's export that names some of them again
under its own ids, with typos, other birth dates or cities (the same design
as tests/e2e/lib/people.mjs).  After a run, what the API says is checked
against the model (model.db: match_pairs) and the workspace
(workspace.db: match_decisions) read with Python's sqlite3, and the audit
trail against control.db.
"""
import datetime
import json
import os
import sqlite3

from harness import SetupError, check, eq, expect_error, expect_ok
from suite import test, backend
from tests_pipeline import run_and_wait

FIRST = ["Anna", "Bruno", "Carla", "Dmitri", "Elena", "Farid", "Greta", "Hugo", "Ines", "Jonas",
         "Katja", "Lars", "Maren", "Nils", "Olga", "Pavel", "Quentin", "Rosa", "Stefan", "Tamara",
         "Ulrich", "Vera", "Walter", "Xenia", "Yusuf", "Zora", "Arne", "Bettina", "Conrad", "Doris",
         "Emil", "Frieda", "Gustav", "Hanna", "Igor", "Jana", "Kurt", "Lena", "Moritz", "Nora"]
LAST = ["Albers", "Brandt", "Classen", "Dietrich", "Engel", "Fischer", "Gruber", "Hartmann", "Imhof", "Jung",
        "Keller", "Lorenz", "Mayer", "Neumann", "Ott", "Pohl", "Quast", "Richter", "Schulz", "Thiel",
        "Urban", "Vogel", "Wagner", "Xander", "Yilmaz", "Ziegler", "Arndt", "Bauer", "Conrad", "Dorn",
        "Eckert", "Frank", "Graf", "Horn", "Iske", "Jansen", "Kraus", "Lang", "Marx", "Nagel"]
CITY = ["Berlin", "Hamburg", "Munich", "Cologne", "Frankfurt", "Stuttgart", "Leipzig", "Dresden", "Bremen", "Hanover"]
HEAD = "customer_id,first_name,last_name,email,birth_date,city,country\n"


def person(i):
    d = datetime.date(1950 + (i * 7) % 45, (i * 5) % 12 + 1, 1 + (i * 11) % 28)
    return {"id": "C%d" % (1001 + i), "first": FIRST[i], "last": LAST[i],
            "email": ("%s.%s@example.com" % (FIRST[i], LAST[i])).lower(), "birth": d.isoformat(),
            "city": CITY[i % len(CITY)]}


def crm_csv():
    return HEAD + "".join("%s,%s,%s,%s,%s,%s,DE\n" % (p["id"], p["first"], p["last"], p["email"], p["birth"], p["city"])
                          for p in map(person, range(40)))


def shop_csv():
    swap = lambda s: s[0] + s[2] + s[1] + s[3:]             # noqa: E731  "Carla" -> "Crala"
    end_typo = lambda s: s[:-1] + ("a" if s.endswith("e") else "e")  # noqa: E731
    last_typo = lambda s: s[:-2] + s[-1] + s[-2]            # noqa: E731
    other_city = lambda c: "Berlin" if c == "Bremen" else "Bremen"  # noqa: E731
    shop = [("clear", i) for i in (1, 3, 6, 8, 12, 16, 19, 23)] + [
        ("A", 2), ("B", 14), ("C", 17), ("D", 21), ("E", 27), ("F", 33), ("D", 29)]
    out = HEAD
    for k, (kind, i) in enumerate(shop):
        p = person(i)
        next_year = "%d%s" % (int(p["birth"][:4]) + 1, p["birth"][4:])
        r = {"clear": (swap(p["first"]), p["last"], p["birth"], p["city"]),
             "A": (p["first"], last_typo(p["last"]), "1990-06-15", p["city"]),
             "B": (end_typo(p["first"]), p["last"], next_year, p["city"]),
             "C": (p["first"], p["last"], "1991-09-09", p["city"]),
             "D": (swap(p["first"]), "Meyer", p["birth"], p["city"]),
             "E": (p["first"], p["last"], p["birth"], other_city(p["city"])),
             "F": (swap(p["first"]), p["last"], "1991-09-09", other_city(p["city"]))}[kind]
        out += "W-%d,%s,%s,,%s,%s,DE\n" % (501 + k, r[0], r[1], r[2], r[3])
    # weak evidence, no birth date: typos in both names, or the same name
    # in another city (the pairs a person should look at)
    for k, (kind, i) in enumerate((("G", 4), ("J", 25), ("G", 10), ("J", 37))):
        p = person(i)
        r = {"G": (end_typo(p["first"]), last_typo(p["last"]), ""),
             "J": (p["first"], p["last"], other_city(p["city"]))}[kind]
        out += "W-%d,%s,%s,,,%s,DE\n" % (601 + k, r[0], r[1], r[2])
    return out


def review_run(env):
    """A user of `main` with the two files and one run."""
    def mk():
        b = backend(env, "main")
        u = env.user(b, "reviewer")
        for name, body in (("crm_customers.csv", crm_csv()), ("shop_customers.csv", shop_csv())):
            r = b.client.upload(name, body.encode(), token=u.token)
            if r.status not in (200, 201):
                raise SetupError("upload %s: %r" % (name, r))
        run = run_and_wait(b, u)
        if run["state"] != "done":
            raise SetupError("review run ended %s: %s" % (run["state"], run.get("error")))
        return b, u
    return env.fixture("review-run", mk)


def db(b, user, name):
    path = os.path.join(b.data, "workspaces", user.id, name)
    check(os.path.exists(path), "no %s" % path)
    c = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=30)
    c.row_factory = sqlite3.Row
    return c


def review_pairs(b, u):
    """match_pairs in review without a person's decision, in the queue's order."""
    m = db(b, u, "model.db")
    m.execute("ATTACH DATABASE ? AS ws", ("file:%s?mode=ro" % os.path.join(b.data, "workspaces", u.id, "workspace.db"),))
    try:
        rows = m.execute(
            "SELECT * FROM match_pairs p WHERE decision = 'review' AND NOT EXISTS (SELECT 1 FROM ws.match_decisions d"
            " WHERE d.entity = p.entity AND d.a_file_id = p.a_file_id AND d.a_row = p.a_row AND d.b_file_id = p.b_file_id"
            " AND d.b_row = p.b_row) ORDER BY probability DESC, pair_id DESC").fetchall()
        return [dict(r) for r in rows]
    finally:
        m.close()


def audit(b, action):
    c = sqlite3.connect("file:%s?mode=ro" % os.path.join(b.data, "control.db"), uri=True, timeout=30)
    c.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in c.execute("SELECT * FROM audit_log WHERE action = ? ORDER BY id", (action,))]
    finally:
        c.close()


@test("review_queue_lists_the_pairs_between_the_thresholds_with_records")
def _(env):
    b, u = review_run(env)
    want = review_pairs(b, u)
    check(len(want) >= 2, "the data leaves at least two pairs in review (model.db has %d)" % len(want))
    doc = expect_ok(b.client.get("/api/v1/review?_size=100", token=u.token), 200, "GET /review")
    eq(doc["pending"], len(want), "pending")
    eq([p["pair_id"] for p in doc["items"]], [p["pair_id"] for p in want], "the queue's pairs, by probability")
    eq(doc["next"], None, "one page holds them")
    eq(doc["next_url"], None, "next_url")
    names = {f["id"]: f["name"] for f in expect_ok(b.client.get("/api/v1/files", token=u.token))["files"]}
    for got, row in zip(doc["items"], want):
        for k in ("pair_id", "entity", "weight", "probability", "blocking_rule", "levels", "decision", "a", "b"):
            check(k in got, "pair %s has no %s" % (got.get("pair_id"), k))
        check(0.3 <= got["probability"] < 0.9, "pair %s: probability %r between the thresholds" % (got["pair_id"], got["probability"]))
        eq(got["decision"], "review", "decision")
        eq(got["blocking_rule"], row["blocking_rule"], "blocking rule")
        for side in ("a", "b"):
            s = got[side]
            eq(s["file_id"], row[side + "_file_id"], "%s.file_id" % side)
            eq(s["row"], row[side + "_row"], "%s.row" % side)
            eq(s["file_name"], names[s["file_id"]], "%s.file_name" % side)
            eq(s["canonical_id"], row[side + "_canonical_id"], "%s.canonical_id" % side)
            check(isinstance(s["record"], dict) and s["record"].get("customer_id"), "%s.record: %r" % (side, s["record"]))
        check(got["a"]["canonical_id"] != got["b"]["canonical_id"], "a pair in review is two customers until decided")
    # entity filter; bad parameters
    eq(expect_ok(b.client.get("/api/v1/review?entity=customer", token=u.token))["pending"], len(want), "entity=customer")
    eq(expect_ok(b.client.get("/api/v1/review?entity=product", token=u.token))["pending"], 0, "entity=product")
    for q in ("_size=0", "_size=x", "_size=100000", "_next=x", "_next=0", "entity=nope", "entity=order_line"):
        expect_error(b.client.get("/api/v1/review?" + q, token=u.token), 400, "GET /review?" + q)
    expect_error(b.client.get("/api/v1/review"), 401, "GET /review without a token")


@test("review_queue_pages_with_next")
def _(env):
    b, u = review_run(env)
    full = [p["pair_id"] for p in expect_ok(b.client.get("/api/v1/review?_size=100", token=u.token))["items"]]
    seen, url, pages = [], "/api/v1/review?_size=1", 0
    while url:
        r = b.client.get(url, token=u.token)
        doc = expect_ok(r, 200, url)
        eq(len(doc["items"]), 1, "one pair a page")
        eq(doc["pending"], len(full), "pending on every page")
        seen += [p["pair_id"] for p in doc["items"]]
        if doc["next"] is not None:
            eq(doc["next"], doc["items"][-1]["pair_id"], "next names the last pair of the page")
            check(doc["next_url"] and ("rel=\"next\"" in (r.header("Link") or "")), "next_url and Link: %r" % r.header("Link"))
        url = doc["next_url"]
        pages += 1
        check(pages <= len(full) + 1, "paging ends")
    eq(seen, full, "the pages together are the queue, in order, each pair once")


@test("review_decisions_accept_reject_404_422_and_audit")
def _(env):
    b, u = review_run(env)
    before = expect_ok(b.client.get("/api/v1/review?_size=100", token=u.token))
    check(before["pending"] >= 2, "two pairs to decide")
    acc, rej = before["items"][0], before["items"][1]
    r = b.client.post_json("/api/v1/review/%d" % acc["pair_id"], {"decision": "accept"}, token=u.token)
    doc = expect_ok(r, 200, "accept")
    eq(doc["applies"], "at the next run", "applies")
    d = doc["decision"]
    eq((d["pair_id"], d["entity"], d["decision"]), (acc["pair_id"], "customer", "accept"), "the decision")
    eq(d["a"], {"file_id": acc["a"]["file_id"], "row": acc["a"]["row"]}, "decision.a")
    eq(d["b"], {"file_id": acc["b"]["file_id"], "row": acc["b"]["row"]}, "decision.b")
    accept_rid = r.header("X-Request-Id")
    r = b.client.post_json("/api/v1/review/%d" % rej["pair_id"], {"decision": "reject"}, token=u.token)
    expect_ok(r, 200, "reject")
    reject_rid = r.header("X-Request-Id")
    after = expect_ok(b.client.get("/api/v1/review?_size=100", token=u.token))
    eq(after["pending"], before["pending"] - 2, "pending after two decisions")
    check(not {acc["pair_id"], rej["pair_id"]} & {p["pair_id"] for p in after["items"]}, "decided pairs leave the queue")
    # kept in the workspace by lineage, with who decided
    w = db(b, u, "workspace.db")
    try:
        rows = {(x["a_file_id"], x["a_row"], x["b_file_id"], x["b_row"]): dict(x)
                for x in w.execute("SELECT * FROM match_decisions")}
    finally:
        w.close()
    for p, dec in ((acc, "accept"), (rej, "reject")):
        k = (p["a"]["file_id"], p["a"]["row"], p["b"]["file_id"], p["b"]["row"])
        check(k in rows, "match_decisions has pair %d" % p["pair_id"])
        eq(rows[k]["decision"], dec, "stored decision")
        eq(rows[k]["user_id"], u.id, "who decided")
    # errors
    for body, what in (({"decision": "maybe"}, "unknown decision"), ({}, "no decision"), ({"decision": 1}, "a number"),
                       ({"decision": "ACCEPT"}, "upper case")):
        expect_error(b.client.post_json("/api/v1/review/%d" % acc["pair_id"], body, token=u.token), 422, what)
    expect_error(b.client.post_json("/api/v1/review/987654321", {"decision": "accept"}, token=u.token), 404, "unknown pair")
    for bad in ("0", "-1", "abc", "1x"):
        expect_error(b.client.post_json("/api/v1/review/" + bad, {"decision": "accept"}, token=u.token), 404, "pair " + bad)
    expect_error(b.client.post_json("/api/v1/review/%d" % acc["pair_id"], {"decision": "accept"}), 401, "no token")
    # another user: none of these pairs (their workspace has no model)
    other = env.user(b, "reviewsnoop")
    expect_error(b.client.post_json("/api/v1/review/%d" % acc["pair_id"], {"decision": "reject"}, token=other.token), 404,
                 "another user's pair")
    eq(expect_ok(b.client.get("/api/v1/review", token=other.token))["pending"], 0, "another user's queue")
    eq(expect_ok(b.client.get("/api/v1/matching", token=other.token))["entities"], [], "another user's matching")
    eq(expect_ok(b.client.get("/api/v1/review?_size=100", token=u.token))["pending"], after["pending"],
       "the other user's attempt changed nothing")
    # audited, with the request id of the answer
    for action, p, rid in (("review.accept", acc, accept_rid), ("review.reject", rej, reject_rid)):
        hits = [a for a in audit(b, action) if a["request_id"] == rid]
        eq(len(hits), 1, "audit entry of %s" % action)
        a = hits[0]
        # the audit names the two records (a pair id is one model's)
        target = "%s %s:%d %s:%d" % (p["entity"], p["a"]["file_id"], p["a"]["row"], p["b"]["file_id"], p["b"]["row"])
        eq((a["user_id"], a["username"], a["target"], a["outcome"]), (u.id, u.name, target, "ok"), action)


@test("review_split_cluster_and_matching_summary")
def _(env):
    b, u = review_run(env)
    m = db(b, u, "model.db")
    try:
        row = m.execute("SELECT a_canonical_id AS id, count(*) AS n FROM match_pairs WHERE entity = 'customer' AND"
                        " a_canonical_id = b_canonical_id AND decision IN ('matched', 'accepted')"
                        " GROUP BY a_canonical_id ORDER BY a_canonical_id LIMIT 1").fetchone()
        compared = m.execute("SELECT model FROM match_models WHERE entity = 'customer'").fetchone()
        review = m.execute("SELECT count(*) FROM match_pairs WHERE entity = 'customer' AND decision = 'review'").fetchone()[0]
        matched = m.execute("SELECT count(*) FROM match_pairs WHERE entity = 'customer' AND decision = 'matched'"
                            " AND decided_by = 'model'").fetchone()[0]
    finally:
        m.close()
    check(row is not None, "the run merged some customers by matching")
    for path, what in (("/api/v1/clusters/customer/987654/split", "unknown cluster"),
                       ("/api/v1/clusters/customer/0/split", "cluster 0"),
                       ("/api/v1/clusters/customer/x/split", "cluster x"),
                       ("/api/v1/clusters/nope/%d/split" % row["id"], "unknown entity"),
                       ("/api/v1/clusters/order_line/%d/split" % row["id"], "a fact")):
        expect_error(b.client.request("POST", path, token=u.token), 404, what)
    r = b.client.request("POST", "/api/v1/clusters/customer/%d/split" % row["id"], token=u.token)
    doc = expect_ok(r, 200, "split")
    eq(doc["rejected"], row["n"], "every pair that joined the cluster is rejected")
    hits = [a for a in audit(b, "review.split") if a["request_id"] == r.header("X-Request-Id")]
    eq(len(hits), 1, "audit entry of the split")
    eq((hits[0]["username"], hits[0]["target"], hits[0]["outcome"]), (u.name, "customer %d" % row["id"], "ok"), "review.split")
    other = env.user(b, "reviewsnoop")
    expect_error(b.client.request("POST", "/api/v1/clusters/customer/%d/split" % row["id"], token=other.token), 404,
                 "another user's cluster")
    # the summary
    w = db(b, u, "workspace.db")
    try:
        decisions = w.execute("SELECT count(*) FROM match_decisions").fetchone()[0]
    finally:
        w.close()
    s = expect_ok(b.client.get("/api/v1/matching", token=u.token), 200, "GET /matching")
    eq(s["decisions"], decisions, "decisions")
    eq(s["pending"], len(review_pairs(b, u)), "pending")
    e = [x for x in s["entities"] if x["entity"] == "customer"]
    eq(len(e), 1, "customer in /matching")
    e = e[0]
    eq(e["pairs_review"], review, "pairs_review")
    check(e["pairs_matched"] >= matched, "pairs_matched %r counts the model's %d" % (e["pairs_matched"], matched))
    eq(sum(h["count"] for h in e["histogram"]), e["pairs_compared"], "the histogram holds every compared pair")
    for h0, h1 in zip(e["histogram"], e["histogram"][1:]):
        eq(h1["from"], h0["to"], "bins follow each other")
        eq(h0["to"] - h0["from"], 2, "bins of 2 bits")
    eq(sum(x["pairs"] for x in e["blocking_rules"]), e["pairs_compared"], "pairs by blocking rule")
    eq((e["threshold_lower"], e["threshold_upper"]), (0.3, 0.9), "thresholds")
    check(all("record" not in p["a"] for p in e["near_threshold"]), "near pairs without records")
    model = json.loads(compared["model"])["model"]
    eq([f["name"] for f in e["fields"]], [f["name"] for f in model["fields"]], "fields of the model")
    for f in e["fields"]:
        for lv in f["levels"]:
            check(0 <= lv["m"] <= 1 and 0 <= lv["u"] <= 1, "%s %s: m, u in [0, 1]" % (f["name"], lv["label"]))
