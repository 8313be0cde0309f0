"""Entities a user defines in their workspace's target schema.

Two bibliographic tables are written here: source A lists publications,
source B lists the same ones the way another index would (the title in
lower case with a word dropped, the authors in another order, the venue
abbreviated), plus publications of its own; which B record is which A
record is known from the construction.  The sources are each
deduplicated, so the entity is declared one-to-one.
"""
import csv
import io
import json
import random

from harness import check, eq, expect_error, expect_ok
from suite import test, backend
from tests_pipeline import model, run_and_wait

PUBLICATION = {
    "name": "publication", "label": "Publication", "linkage": "one_to_one",
    "blocking": ["title:first3", "authors:first3", "year", "title:first3~authors:first3", "title:words5"],
    "attributes": [
        {"name": "pub_id", "type": "key", "role": "natural_key", "synonyms": ["id", "paper id"]},
        {"name": "title", "type": "text", "compare": "longtext"},
        {"name": "authors", "type": "text", "compare": "longtext"},
        {"name": "venue", "type": "text", "compare": "text"},
        {"name": "year", "type": "integer", "compare": "number"},
    ],
}

WORDS = ("adaptive query processing data streams indexing learned joins approximate entity resolution "
         "scalable graph mining transactions distributed consensus benchmarks columnar storage "
         "probabilistic record linkage privacy sketches sampling optimisation caching").split()
AUTHORS = ["A. Smith", "B. Chen", "C. Garcia", "D. Okafor", "E. Novak", "F. Rossi", "G. Tanaka", "H. Weber",
           "I. Kowalski", "J. Silva", "K. Haddad", "L. Moreau"]
VENUES = [("Proceedings of the VLDB Endowment", "PVLDB"), ("ACM SIGMOD Conference", "SIGMOD"),
          ("IEEE International Conference on Data Engineering", "ICDE")]


def sources(n=40, extra=8, seed=5):
    """Source B's ids are unrelated to A's (no key rule can link them)."""
    r = random.Random(seed)
    a, b, truth = [], [], {}
    bids = r.sample(range(10000, 99999), n + extra)
    for i in range(n + extra):
        title = " ".join(r.sample(WORDS, 6)).capitalize()
        authors = r.sample(AUTHORS, 3)
        venue = r.choice(VENUES)
        year = r.randint(1998, 2012)
        if i < n:
            a.append({"pub_id": "A%03d" % i, "title": title, "authors": ", ".join(authors), "venue": venue[0],
                      "year": year})
            words = title.lower().split()
            del words[r.randrange(len(words))]
            b.append({"pub_id": "acm-%d" % bids[i], "title": " ".join(words),
                      "authors": ", ".join(reversed(authors)), "venue": venue[1], "year": year})
            truth["acm-%d" % bids[i]] = "A%03d" % i
        else:
            b.append({"pub_id": "acm-%d" % bids[i], "title": title, "authors": ", ".join(authors), "venue": venue[1],
                      "year": year})
    return a, b, truth


def to_csv(rows, header):
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    w.writeheader()
    for p in rows:
        w.writerow(p)
    return out.getvalue().encode()


def entities(c, u):
    return expect_ok(c.get("/api/v1/schema/entities", token=u.token))["entities"]


@test("entities_bad_definitions_422_and_nothing_changes")
def _(env):
    b = backend(env, "main")
    u = env.user(b, "definer1")
    c = b.client
    good = json.loads(json.dumps(PUBLICATION))
    cases = []
    d = json.loads(json.dumps(good)); d["attributes"][1]["type"] = "colour"
    cases.append((d, "unknown_type"))
    d = json.loads(json.dumps(good)); d["attributes"].append({"name": "title", "type": "text"})
    cases.append((d, "duplicate_name"))
    d = json.loads(json.dumps(good)); d["attributes"][0]["role"] = "attribute"
    cases.append((d, "natural_key"))
    d = json.loads(json.dumps(good)); d["attributes"] = [{"name": "a%d" % i, "type": "text"} for i in range(10000)]
    cases.append((d, "too_many_attributes"))
    d = json.loads(json.dumps(good)); d["name"] = "customer"
    cases.append((d, "builtin_name"))
    d = json.loads(json.dumps(good)); d["name"] = "Bad Name;"
    cases.append((d, "bad_name"))
    d = json.loads(json.dumps(good)); d["attributes"][4]["compare"] = "date"
    cases.append((d, "bad_compare"))
    d = json.loads(json.dumps(good)); d["blocking"] = ["nosuch:first3"]
    cases.append((d, "bad_blocking"))
    d = json.loads(json.dumps(good)); d["blocking"] = ["title:first3~authors:first3+year"]
    cases.append((d, "bad_blocking"))
    d = json.loads(json.dumps(good)); d["blocking"] = ["title:words+year"]
    cases.append((d, "bad_blocking"))
    d = json.loads(json.dumps(good)); d["linkage"] = "sometimes"
    cases.append((d, "bad_linkage"))
    d = json.loads(json.dumps(good)); d["attributes"] = []
    cases.append((d, "no_attributes"))
    for body, code in cases:
        doc = expect_error(c.post_json("/api/v1/schema/entities", body, token=u.token), 422, code)
        codes = [e["code"] for e in doc["errors"]]
        check(code in codes, "%s among the reasons %r" % (code, codes))
        check(all(e["detail"] for e in doc["errors"]), "every reason says why")
    expect_error(c.post_json("/api/v1/schema/entities", [1], token=u.token), 400, "not an object")
    expect_error(c.request("POST", "/api/v1/schema/entities", body=b"{", headers={"Content-Type":
                 "application/json"}, token=u.token), 400, "broken JSON")
    expect_error(c.request("POST", "/api/v1/schema/entities", body=b"name=x", headers={"Content-Type":
                 "text/plain"}, token=u.token), 415, "not JSON")
    eq(entities(c, u), [], "nothing was stored")
    names = [e["name"] for e in expect_ok(c.get("/api/v1/schema", token=u.token))["entities"]]
    check("publication" not in names, "the schema is unchanged")
    return "%d bad definitions refused" % len(cases)


@test("entities_define_map_run_match_export")
def _(env):
    b = backend(env, "main")
    u = env.user(b, "definer2")
    other = env.user(b, "definer2other")
    c = b.client
    doc = expect_ok(c.post_json("/api/v1/schema/entities", PUBLICATION, token=u.token), 201, "create")
    eq(doc["entity"]["name"], "publication", "created")
    expect_error(c.post_json("/api/v1/schema/entities", PUBLICATION, token=u.token), 409, "twice")
    sch = {e["name"]: e for e in expect_ok(c.get("/api/v1/schema", token=u.token))["entities"]}
    check(sch["publication"]["custom"] and not sch["customer"]["custom"], "the schema has it, marked custom")
    eq([e["name"] for e in expect_ok(c.get("/api/v1/schema", token=other.token))["entities"]
        if e["name"] == "publication"], [], "another user's schema does not")
    expect_error(c.get("/api/v1/schema/entities/publication", token=other.token), 404, "another user's entity")

    a, bb, truth = sources()
    header = ["pub_id", "title", "authors", "venue", "year"]
    r = random.Random(9)
    r.shuffle(bb)
    fids = []
    for name, rows in (("dblp.csv", a), ("acm.csv", bb)):
        fids.append(expect_ok(c.upload(name, to_csv(rows, header), "text/csv", token=u.token), 201)["file"]["id"])
    # the mapper proposes onto the user's entity
    for fid in fids:
        m = expect_ok(c.get("/api/v1/files/%s/mapping" % fid, token=u.token))["mapping"]
        targets = {col["source"]: col["target"] for col in m["columns"]}
        for col in header:
            eq(targets[col], "publication." + col, "proposed target of " + col)
        expect_ok(c.put_json("/api/v1/files/%s/mapping" % fid,
                             {"columns": [{"source": k, "target": "publication." + k} for k in header]},
                             token=u.token))
    run = run_and_wait(b, u)
    eq(run["state"], "done", "run: %s" % run.get("error"))
    db = model(b, u)
    key = {r["pub_id"]: r["_key"] for r in db.execute("SELECT pub_id, _key FROM stg_publication")}
    tp = sum(1 for bid, aid in truth.items() if key[bid] == key[aid])
    pairs = {}
    for k, v in key.items():
        pairs.setdefault(v, []).append(k)
    predicted = sum(len(v) * (len(v) - 1) // 2 for v in pairs.values())
    precision = tp / predicted if predicted else 0
    recall = tp / len(truth)
    check(precision == 1.0, "no false merge (precision %.3f)" % precision)
    check(recall >= 0.9, "recall %.3f of %d true pairs" % (recall, len(truth)))
    check(all(len(v) <= 2 for v in pairs.values()), "one-to-one: no cluster holds two records of one source")
    n = db.execute("SELECT count(DISTINCT canonical_id) FROM dim_publication").fetchone()[0]
    eq(n, len(set(key.values())), "dim_publication: one row per entity")
    mp = db.execute("SELECT count(*) FROM match_pairs WHERE entity = 'publication' AND decision = 'matched'"
                    ).fetchone()[0]
    eq(mp, tp, "match_pairs holds the merged pairs (no key links the sources)")
    eq(db.execute("SELECT count(*) FROM key_rules WHERE entity = 'publication'").fetchone()[0], 0,
       "no key rule between the sources")
    rules = {r["rule"]: r["pairs"] for r in json.loads(db.execute(
        "SELECT model FROM match_models WHERE entity = 'publication'").fetchone()[0])["blocking_rules"]}
    eq(sorted(rules), sorted(PUBLICATION["blocking"]), "the run reports each of the entity's blocking rules")
    # exportable like any table
    t = expect_ok(c.get("/api/v1/tables/dim_publication?_size=5", token=u.token))
    eq(len(t["rows"]), 5, "dim_publication through /tables")
    expect_ok(c.get("/api/v1/tables/match_pairs?entity=publication&_size=5", token=u.token))
    expect_error(c.get("/api/v1/tables/dim_publication", token=other.token), 404, "another user's table")
    # replace and delete
    d = json.loads(json.dumps(PUBLICATION))
    d["attributes"].append({"name": "doi", "type": "key", "role": "alternate_key"})
    expect_ok(c.request("PUT", "/api/v1/schema/entities/publication", body=json.dumps(d).encode(),
                        headers={"Content-Type": "application/json"}, token=u.token), 200, "replace")
    eq(len(entities(c, u)[0]["attributes"]), 6, "replaced")
    expect_error(c.request("PUT", "/api/v1/schema/entities/nosuch", body=json.dumps(dict(d, name="nosuch")).encode(),
                           headers={"Content-Type": "application/json"}, token=u.token), 404, "replace unknown")
    doc = expect_error(c.request("PUT", "/api/v1/schema/entities/publication",
                                 body=json.dumps(dict(d, name="paper")).encode(),
                                 headers={"Content-Type": "application/json"}, token=u.token), 422, "rename")
    eq([e["code"] for e in doc["errors"]], ["name_changed"], "an entity is not renamed")
    expect_error(c.request("DELETE", "/api/v1/schema/entities/publication", token=other.token), 404,
                 "another user deletes")
    expect_ok(c.request("DELETE", "/api/v1/schema/entities/publication", token=u.token), 200, "delete")
    eq(entities(c, u), [], "deleted")
    return "precision %.3f, recall %.3f, %d entities" % (precision, recall, n)


@test("cli_entity_list_put_delete")
def _(env):
    """concord entity: the same definitions and checks as /schema/entities."""
    b = backend(env, "main")
    c = b.client
    u = env.user(b, "entcli")
    eq(json.loads(b.cli("entity", "list", "--user", "entcli").stdout), [], "none yet")
    p = b.cli("entity", "put", "--user", "entcli", stdin=json.dumps(PUBLICATION).encode())
    check(b"created" in p.stdout, "created: %r" % p.stdout)
    eq([e["name"] for e in entities(c, u)], ["publication"], "what the API serves")
    eq(json.loads(b.cli("entity", "list", "--user", "entcli").stdout)[0]["name"], "publication", "list")
    # put again with one more attribute: replaced
    d = json.loads(json.dumps(PUBLICATION))
    d["attributes"].append({"name": "doi", "type": "key", "role": "alternate_key"})
    p = b.cli("entity", "put", "--user", "entcli", stdin=json.dumps(d).encode())
    check(b"replaced" in p.stdout, "replaced: %r" % p.stdout)
    eq(len(entities(c, u)[0]["attributes"]), len(PUBLICATION["attributes"]) + 1, "the replacement is served")
    # refused: every reason on stderr, nothing changes
    bad = json.loads(json.dumps(PUBLICATION))
    bad["attributes"][1]["type"] = "colour"
    bad["blocking"] = ["nosuch:first3"]
    p = b.cli("entity", "put", "--user", "entcli", stdin=json.dumps(bad).encode(), check_rc=False)
    eq(p.returncode, 1, "refused")
    codes = sorted(e["code"] for e in json.loads(p.stderr)["errors"])
    check("bad_blocking" in codes and len(codes) >= 2, "every reason: %r" % codes)
    eq(len(entities(c, u)[0]["attributes"]), len(PUBLICATION["attributes"]) + 1, "nothing changed")
    eq(b.cli("entity", "put", "--user", "entcli", stdin=b"{", check_rc=False).returncode, 1, "bad JSON")
    eq(b.cli("entity", "put", "--user", "entcli", stdin=b"[1]", check_rc=False).returncode, 1, "not an object")
    eq(b.cli("entity", "list", "--user", "nobody", check_rc=False).returncode, 1, "unknown user")
    eq(b.cli("entity", "frob", "--user", "entcli", check_rc=False).returncode, 2, "usage")
    eq(b.cli("entity", "delete", "--user", "entcli", check_rc=False).returncode, 2, "delete needs a name")
    eq(b.cli("entity", "delete", "--user", "entcli", "nosuch", check_rc=False).returncode, 1, "no such entity")
    b.cli("entity", "delete", "--user", "entcli", "publication")
    eq(entities(c, u), [], "deleted")
    return "list, put, replace, refuse, delete"
