"""Entity resolution in runs: the matcher, the review queue and the CLI.

The data are written here: people with distinct names, e-mails and birth
dates, plus duplicates made from some of them with a known change (a typo
in the first name, same e-mail and birth date: strong; a typo in the last
name, no e-mail, another city: weak).  Which records are one person is
known from the construction, independently of Concord.  The seed files of
NexusFlow (500 customers sharing only ten names) check that look-alike
names alone never merge people, and that the reconciliation challenge's
CLI_nnnn customers still meet CUST_nnnn through their keys.
"""
import csv
import io
import json
import os
import random
import sqlite3

from harness import check, eq, expect_error, expect_ok
from suite import test, backend
from tests_pipeline import model, run_and_wait, upload_all

FIRST = ["Olivia", "Liam", "Emma", "Noah", "Ava", "Elijah", "Sophia", "Lucas", "Mia", "Mason", "Amelia",
         "Ethan", "Harper", "Logan", "Evelyn", "Aiden", "Abigail", "Jacob", "Emily", "Jackson"]
LAST = ["Garcia", "Martinez", "Robinson", "Clark", "Lewis", "Walker", "Hall", "Allen", "Young", "King",
        "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Carter", "Mitchell", "Perez", "Roberts"]
CITIES = ["Austin", "Denver", "Boston", "Seattle", "Portland", "Chicago"]
HEADER = ["customer_id", "first_name", "last_name", "email", "birth_date", "city"]


def people(n=60, seed=11):
    r = random.Random(seed)
    seen, out = set(), []
    while len(out) < n:
        f, l = r.choice(FIRST), r.choice(LAST)
        if (f, l) in seen:
            continue
        seen.add((f, l))
        out.append({"customer_id": "C%04d" % (len(out) + 1), "first_name": f, "last_name": l,
                    "email": "%s.%s@example.com" % (f.lower(), l.lower()),
                    "birth_date": "%04d-%02d-%02d" % (r.randint(1950, 2000), r.randint(1, 12), r.randint(1, 28)),
                    "city": r.choice(CITIES)})
    return out


def typo(s):
    return s[:-2] + s[-1] + s[-2]


def to_csv(rows):
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=HEADER, lineterminator="\n")
    w.writeheader()
    for p in rows:
        w.writerow(p)
    return out.getvalue().encode()


def dataset():
    """(rows, truth): truth maps a customer_id to the id of its person."""
    ps = people()
    rows, truth = list(ps), {p["customer_id"]: p["customer_id"] for p in ps}
    for k, p in enumerate(ps[:5]):
        d = dict(p, customer_id="D%04d" % (k + 1), first_name=typo(p["first_name"]))
        rows.append(d)
        truth[d["customer_id"]] = p["customer_id"]
    for k, p in enumerate(ps[5:8]):
        d = dict(p, customer_id="W%04d" % (k + 1), last_name=typo(p["last_name"]), email="", city="Miami")
        rows.append(d)
        truth[d["customer_id"]] = p["customer_id"]
    return rows, truth


def ids_by_key(db):
    """customer_id -> canonical id, from staging (every source record)."""
    return {r["customer_id"]: r["_key"] for r in db.execute("SELECT customer_id, _key FROM stg_customer")}


def workspace(env, name, files):
    b = backend(env, "main")
    u = env.user(b, name)
    for fname, body in files:
        expect_ok(b.client.upload(fname, body, "text/csv", token=u.token), 201, "upload " + fname)
    run = run_and_wait(b, u)
    eq(run["state"], "done", "run state")
    return b, u, run


@test("matching_merges_typo_duplicates_and_nothing_else")
def _(env):
    rows, truth = dataset()
    b, u, run = workspace(env, "match1", [("customers.csv", to_csv(rows))])
    db = model(b, u)
    ids = ids_by_key(db)
    for k in ("D0001", "D0002", "D0003", "D0004", "D0005"):
        eq(ids[k], ids[truth[k]], "%s (a typo of %s's first name) is the same customer" % (k, truth[k]))
    people_ids = [ids[p] for p in truth if truth[p] == p]
    eq(len(set(people_ids)), len(people_ids), "distinct people keep distinct ids")
    # every merged pair in match_pairs with its evidence, and nothing else merged
    merged = db.execute("SELECT a_canonical_id, b_canonical_id, weight, probability, levels, blocking_rule,"
                        " decided_by FROM match_pairs WHERE decision = 'matched'").fetchall()
    check(len(merged) >= 5, "the five strong duplicates are in match_pairs: %d" % len(merged))
    for m in merged:
        eq(m["a_canonical_id"], m["b_canonical_id"], "a matched pair is one entity")
        check(m["probability"] >= 0.9, "matched at or above the upper threshold: %r" % m["probability"])
        check(m["blocking_rule"], "the blocking rule is recorded")
        lv = json.loads(m["levels"])
        check("birth_date" in lv and "email" in lv, "levels per attribute: %r" % lv)
    n = db.execute("SELECT count(DISTINCT canonical_id) FROM dim_customer").fetchone()[0]
    strong = 5
    weak_merged = sum(1 for k in ("W0001", "W0002", "W0003") if ids[k] == ids[truth[k]])
    eq(n, len(rows) - strong - weak_merged, "customers after matching")
    # the run report: pairs compared, matched, clusters, m/u per attribute
    cm = run["counts"]["matching"]["customer"]
    check(cm["pairs_compared"] > 0 and cm["pairs_matched"] >= 5 and cm["clusters"] == n,
          "run report: %r" % {k: cm.get(k) for k in ("pairs_compared", "pairs_matched", "clusters")})
    fields = {f["name"]: f for f in cm["model"]["fields"]}
    check("email" in fields and all("m" in lv and "u" in lv for lv in fields["email"]["levels"]),
          "m and u per attribute in the report")
    doc = expect_ok(b.client.get("/api/v1/matching", token=u.token), 200, "GET /matching")
    ent = [e for e in doc["entities"] if e["entity"] == "customer"][0]
    check(ent["pairs_compared"] > 0 and ent["pairs_matched"] >= 5, "matching counts: %r" % ent)
    check(sum(r["pairs"] for r in ent["blocking_rules"]) == ent["pairs_compared"],
          "pairs per blocking rule add up to the pairs compared")
    check(ent["histogram"] and ent["fields"], "histogram and m/u per attribute")
    for f in ent["fields"]:
        for lv in f["levels"]:
            check(0 < lv["m"] < 1 and 0 < lv["u"] < 1, "m and u are probabilities: %r" % lv)
    return "%d records, %d customers, %d pairs compared" % (len(rows), n, ent["pairs_compared"])


@test("matching_review_reject_and_accept_apply_in_later_runs")
def _(env):
    rows, truth = dataset()
    b, u, _run = workspace(env, "match2", [("customers.csv", to_csv(rows))])
    c = b.client
    q = expect_ok(c.get("/api/v1/review?entity=customer", token=u.token), 200, "GET /review")
    check(q["pending"] >= 1 and q["items"], "a weak duplicate waits for review: %r" % q["pending"])
    item = q["items"][0]
    check(item["a"]["record"] and item["b"]["record"], "the two records side by side")
    check(0.3 <= item["probability"] < 0.9, "review band: %r" % item["probability"])
    ka, kb = item["a"]["record"]["customer_id"], item["b"]["record"]["customer_id"]
    eq(truth[ka], truth[kb], "the pair in review is a constructed duplicate (%s, %s)" % (ka, kb))
    # reject it, and reject a strong match too: neither merges in the next run
    db = model(b, u)
    strong = db.execute("SELECT pair_id FROM match_pairs WHERE decision = 'matched' LIMIT 1").fetchone()[0]
    sa, sb = db.execute("SELECT a_row, b_row FROM match_pairs WHERE pair_id = ?", (strong,)).fetchone()
    db.close()
    expect_ok(c.post_json("/api/v1/review/%d" % item["pair_id"], {"decision": "reject"}, token=u.token), 200,
              "reject")
    expect_ok(c.post_json("/api/v1/review/%d" % strong, {"decision": "reject"}, token=u.token), 200,
              "reject a match")
    q2 = expect_ok(c.get("/api/v1/review?entity=customer", token=u.token))
    eq(q2["pending"], q["pending"] - 1, "a decided pair leaves the queue")
    run = run_and_wait(b, u)
    eq(run["state"], "done", "second run")
    db = model(b, u)
    ids = ids_by_key(db)
    check(ids[ka] != ids[kb], "a rejected review pair stays apart")
    rej = db.execute("SELECT a_row, b_row, decided_by FROM match_pairs WHERE decision = 'rejected'").fetchall()
    eq(sorted((r["a_row"], r["b_row"]) for r in rej if (r["a_row"], r["b_row"]) == (sa, sb)), [(sa, sb)],
       "the rejected match is recorded as rejected by a person")
    srow = {r["_row"]: r["_key"] for r in db.execute("SELECT _row, _key FROM stg_customer")}
    check(srow[sa] != srow[sb], "a rejected match never merges again")
    # a third run: still apart (decisions persist)
    run = run_and_wait(b, u)
    db = model(b, u)
    ids = ids_by_key(db)
    check(ids[ka] != ids[kb], "still apart in the run after")
    # accept it now: the pair merges
    pid = db.execute("SELECT pair_id FROM match_pairs WHERE decision = 'rejected' AND a_row = ? OR"
                     " decision = 'rejected' AND b_row = ?", (int(item["a"]["row"]), int(item["a"]["row"]))).fetchone()
    check(pid is not None, "the decided pair is in match_pairs")
    expect_ok(c.post_json("/api/v1/review/%d" % pid[0], {"decision": "accept"}, token=u.token), 200, "accept")
    run_and_wait(b, u)
    ids = ids_by_key(model(b, u))
    eq(ids[ka], ids[kb], "an accepted pair merges")
    # every decision is audited
    ctl = sqlite3.connect(os.path.join(b.data, "control.db"))
    acts = [r[0] for r in ctl.execute("SELECT action FROM audit_log WHERE action LIKE 'review.%'")]
    check(acts.count("review.reject") >= 2 and "review.accept" in acts, "audited: %r" % acts)
    return "%d pending at first" % q["pending"]


@test("matching_ids_stable_when_a_record_is_added")
def _(env):
    rows, truth = dataset()
    b, u, _run = workspace(env, "match3", [("customers.csv", to_csv(rows))])
    before = ids_by_key(model(b, u))
    extra = people(62)[60:]                       # two new people
    dup = dict(rows[10], customer_id="D0099", first_name=typo(rows[10]["first_name"]))
    expect_ok(b.client.upload("more.csv", to_csv(extra + [dup]), "text/csv", token=u.token), 201, "upload more")
    run = run_and_wait(b, u)
    eq(run["state"], "done", "second run")
    after = ids_by_key(model(b, u))
    for k, v in before.items():
        eq(after[k], v, "%s keeps its canonical id" % k)
    new = {after[p["customer_id"]] for p in extra}
    check(not new & set(before.values()), "new people get new ids")
    eq(after["D0099"], before[rows[10]["customer_id"]], "a new duplicate joins the existing id")
    return "%d ids stable" % len(before)


@test("matching_nexusflow_lookalike_names_stay_apart")
def _(env):
    b = backend(env, "main")
    u = env.user(b, "match4")
    d = os.path.join(env.seeds_dir(), "nexusflow")
    upload_all(b, u, [os.path.join(d, f) for f in sorted(os.listdir(d)) if f.endswith((".json", ".csv"))])
    run = run_and_wait(b, u)
    eq(run["state"], "done", "run")
    with open(os.path.join(d, "customers_messy_data.json")) as f:
        custs = json.load(f)
    with open(os.path.join(d, "reconciliation_challenge_data.csv"), newline="") as f:
        chal = list(csv.DictReader(f))
    # independent reading: a customer is its number (1, CUST_0001, CLI_0001)
    numbers = {int(c["customer_id"]) for c in custs} | {int(r["client_reference"].split("_")[1]) for r in chal}
    names = {str(c["customer_name"]).strip().lower() for c in custs if c.get("customer_name")}
    check(len(names) <= 12 and len(custs) == 500, "500 customers share a dozen names")
    db = model(b, u)
    n = db.execute("SELECT count(DISTINCT canonical_id) FROM dim_customer").fetchone()[0]
    eq(n, len(numbers), "one customer per customer number: look-alike names never merge people")
    # the challenge rows of one client reference are one customer with CUST_n
    key = {}
    for r in db.execute("SELECT customer_id, _key FROM stg_customer WHERE customer_id IS NOT NULL"):
        key.setdefault(r["_key"], set()).add(int("".join(ch for ch in r["customer_id"] if ch.isdigit())))
    bad = [k for k, v in key.items() if len(v) > 1]
    eq(bad, [], "no customer holds two customer numbers")
    return "%d customers" % n


@test("review_bad_input_and_other_users")
def _(env):
    rows, _truth = dataset()
    b, u, _run = workspace(env, "match5", [("customers.csv", to_csv(rows))])
    other = env.user(b, "match5other")
    c = b.client
    q = expect_ok(c.get("/api/v1/review", token=u.token))
    pid = q["items"][0]["pair_id"]
    db = model(b, u)
    cid = db.execute("SELECT a_canonical_id FROM match_pairs WHERE decision = 'matched' LIMIT 1").fetchone()[0]
    db.close()
    # another user: nothing to see, nothing to decide (404, no existence leak)
    eq(expect_ok(c.get("/api/v1/review", token=other.token))["items"], [], "another user's queue is theirs")
    expect_error(c.post_json("/api/v1/review/%d" % pid, {"decision": "accept"}, token=other.token), 404,
                 "another user's pair")
    expect_error(c.request("POST", "/api/v1/clusters/customer/%d/split" % cid, token=other.token), 404,
                 "another user's cluster")
    # bad input
    expect_error(c.post_json("/api/v1/review/%d" % pid, {"decision": "maybe"}, token=u.token), 422, "decision")
    expect_error(c.post_json("/api/v1/review/%d" % pid, {}, token=u.token), 422, "no decision")
    expect_error(c.post_json("/api/v1/review/999999", {"decision": "accept"}, token=u.token), 404, "no pair")
    expect_error(c.post_json("/api/v1/review/%d" % pid, {"decision": "accept", "run_id": "0000000000000000"},
                             token=u.token), 409, "a pair id seen in another run")
    check(q["items"][0].get("run_id"), "a pending pair names its run")
    expect_error(c.post_json("/api/v1/review/x'1", {"decision": "accept"}, token=u.token), 404, "not an id")
    expect_error(c.request("POST", "/api/v1/review/%d" % pid, body=b"[1", headers={"Content-Type":
                 "application/json"}, token=u.token), 400, "broken JSON")
    for qs in ("_size=0", "_size=x", "_next=abc", "entity=order_line", "entity=nope"):
        expect_error(c.get("/api/v1/review?" + qs, token=u.token), 400, qs)
    expect_error(c.request("POST", "/api/v1/clusters/nope/1/split", token=u.token), 404, "unknown entity")
    expect_error(c.request("POST", "/api/v1/clusters/customer/0/split", token=u.token), 404, "bad id")
    expect_error(c.get("/api/v1/review"), 401, "no token")
    # paging: one at a time walks the whole queue once
    seen, nxt = [], None
    for _ in range(100):
        doc = expect_ok(c.get("/api/v1/review?_size=1" + ("&_next=%d" % nxt if nxt else ""), token=u.token))
        seen += [i["pair_id"] for i in doc["items"]]
        if doc["next"] is None:
            break
        nxt = doc["next"]
        check(doc["next_url"].startswith("/api/v1/review?"), "next_url")
    eq(len(seen), q["pending"], "paging walks every pending pair")
    eq(len(set(seen)), len(seen), "each pair once")
    # split: every pair inside the cluster is rejected
    doc = expect_ok(c.request("POST", "/api/v1/clusters/customer/%d/split" % cid, token=u.token), 200, "split")
    check(doc["rejected"] >= 1, "split rejects the cluster's pairs")
    run_and_wait(b, u)
    db = model(b, u)
    eq(db.execute("SELECT count(*) FROM stg_customer WHERE _key = ?", (cid,)).fetchone()[0] <= 1, True,
       "the split cluster fell apart")
    return "%d pending" % q["pending"]


@test("cli_pairs_and_match")
def _(env):
    rows, _truth = dataset()
    b, u, _run = workspace(env, "match6", [("customers.csv", to_csv(rows))])
    db = model(b, u)
    n = db.execute("SELECT count(*) FROM match_pairs").fetchone()[0]
    db.close()
    p = b.cli("pairs", "--user", "match6")
    got = list(csv.DictReader(io.StringIO(p.stdout.decode())))
    eq(len(got), n, "concord pairs prints every pair")
    check({"weight", "probability", "levels", "blocking_rule", "decision"} <= set(got[0]), "columns")
    p = b.cli("pairs", "--user", "match6", "--format", "json", "--decision", "matched")
    doc = json.loads(p.stdout)
    check(doc["rows"] and all(r["decision"] == "matched" for r in doc["rows"]), "filtered JSON")
    eq(b.cli("pairs", "--user", "nobody", check_rc=False).returncode, 1, "unknown user")
    eq(b.cli("pairs", check_rc=False).returncode, 2, "usage")
    p = b.cli("match", "--user", "match6")
    doc = json.loads(p.stdout)
    check(doc["entities"] and doc["run_id"], "concord match re-runs matching: %r" % list(doc))
    return "%d pairs" % n


@test("cli_mapping_show_edit_confirm")
def _(env):
    rows, _truth = dataset()
    b = backend(env, "main")
    u = env.user(b, "mapcli")
    fid = expect_ok(b.client.upload("people.csv", to_csv(rows), "text/csv", token=u.token), 201)["file"]["id"]
    api = expect_ok(b.client.get("/api/v1/files/%s/mapping" % fid, token=u.token))["mapping"]
    shown = json.loads(b.cli("mapping", "show", "--user", "mapcli", fid).stdout)
    eq([c["target"] for c in shown["columns"]], [c["target"] for c in api["columns"]], "show = GET")
    eq(shown["state"], "proposed", "not confirmed yet")
    # edit: the same validation as PUT; a refusal changes nothing
    bad = json.dumps({"columns": [{"source": "nope", "target": "customer.email"}]}).encode()
    p = b.cli("mapping", "edit", "--user", "mapcli", fid, stdin=bad, check_rc=False)
    eq(p.returncode, 1, "refused")
    check(json.loads(p.stderr)["errors"][0]["code"] == "unknown_column", "the reason: %r" % p.stderr[:200])
    eq(expect_ok(b.client.get("/api/v1/files/%s/mapping" % fid, token=u.token))["mapping"]["state"], "proposed",
       "nothing changed")
    edited = [{"source": c["source"], "target": None if c["source"] == "city" else c["target"]}
              for c in api["columns"]]
    doc = json.loads(b.cli("mapping", "edit", "--user", "mapcli", fid,
                           stdin=json.dumps({"columns": edited}).encode()).stdout)
    eq(doc["state"], "confirmed", "edited and confirmed")
    got = expect_ok(b.client.get("/api/v1/files/%s/mapping" % fid, token=u.token))["mapping"]
    eq([c["target"] for c in got["columns"] if c["source"] == "city"], [None], "the edit is what the API serves")
    eq(b.cli("mapping", "confirm", "--user", "mapcli", "nosuchfile", check_rc=False).returncode, 1, "no file")
    eq(b.cli("mapping", "frob", "--user", "mapcli", fid, check_rc=False).returncode, 2, "usage")
    eq(b.cli("mapping", "edit", "--user", "mapcli", fid, stdin=b"{", check_rc=False).returncode, 1, "bad JSON")
    doc = json.loads(b.cli("mapping", "confirm", "--user", "mapcli", fid).stdout)
    eq(doc["state"], "confirmed", "confirm")


@test("matching_products_by_model_number")
def _(env):
    """Two catalogues with unrelated ids: the same product is named in
    other words, its model number written with or without hyphens; two
    products of one family (other model numbers) stay apart."""
    models = [("Panasonic", "KX-TG9361B", "Expandable Digital Cordless Phone"),
              ("Sony", "DSC-H10", "Cyber-shot Digital Camera"),
              ("Garmin", "010-10823-00", "Vehicle Suction Cup Mount"),
              ("Canon", "CLI-8PM", "Photo Magenta Ink Cartridge"),
              ("Canon", "CLI-8C", "Cyan Ink Cartridge"),
              ("LG", "DLG2526W", "Super Capacity Gas Dryer"),
              ("Whirlpool", "WFW8300SW", "Front-Load Washer"),
              ("Sanus", "VMPL3B", "Tilting Wall Mount"),
              ("Sanus", "VMPL50B", "Flat Panel Wall Mount"),
              ("Pioneer", "GEX-P920XM", "Digital Satellite Tuner")]
    a = "product_id,product_name,brand\n" + "".join(
        "A%03d,%s %s - %s,%s\n" % (k, b, d, m.replace("-", ""), b) for k, (b, m, d) in enumerate(models))
    # the other shop: another id scheme, other words, the model number as printed
    words = {"Expandable Digital Cordless Phone": "Cordless Handset", "Front-Load Washer": "27in Washer"}
    ids = random.Random(11).sample(range(10000, 99999), len(models))   # no key rule can link them
    bb = "product_id,product_name,brand\n" + "".join(
        "%d,%s %s %s,%s\n" % (ids[k], b, m, words.get(d, d + " (new)"), b)
        for k, (b, m, d) in enumerate(models))
    b, u, _run = workspace(env, "matchprod", [("shop_a.csv", a.encode()), ("shop_b.csv", bb.encode())])
    db = model(b, u)
    key = {r["product_id"]: r["_key"] for r in db.execute("SELECT product_id, _key FROM stg_product")}
    eq(len(key), 2 * len(models), "every offer staged as a product")
    eq(db.execute("SELECT count(*) FROM key_rules WHERE entity = 'product'").fetchone()[0], 0, "no key rule")
    same = [key["A%03d" % k] == key[str(ids[k])] for k in range(len(models))]
    check(sum(same) >= len(models) - 2, "the two offers of a product are one product: %r" % same)
    # the rest wait for a person, with their model number as evidence
    pending = {(r["a_canonical_id"], r["b_canonical_id"]) for r in db.execute(
        "SELECT a_canonical_id, b_canonical_id FROM match_pairs WHERE entity = 'product' AND decision = 'review'")}
    for k in range(len(models)):
        if not same[k]:
            a_, b_ = int(key["A%03d" % k]), int(key[str(ids[k])])
            check((a_, b_) in pending or (b_, a_) in pending, "%s: merged or in review" % models[k][1])
    eq(len(set(key.values())), 2 * len(models) - sum(same),
       "no two products merged (CLI-8PM / CLI-8C, VMPL3B / VMPL50B)")
    lv = [json.loads(r[0]) for r in db.execute(
        "SELECT levels FROM match_pairs WHERE entity = 'product' AND decision = 'matched'")]
    check(lv and all("model_number" in x for x in lv), "the model number is in the evidence")
    return "%d products from %d offers" % (len(set(key.values())), len(key))
