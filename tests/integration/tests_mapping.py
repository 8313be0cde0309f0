"""Mappings over HTTP: the proposal, confirmation, validation, reuse for a
file with the same columns, and a confirmed mapping driving a run.

The expected targets are a person's reading of the seed headers (what a
CRM column called cst_firstname means), written down here, not Concord's
output.
"""
import os
import time

from harness import check, eq, expect_error, expect_ok
from suite import test, backend

# A person's mapping of the CRM and ERP headers onto the target schema.
EXPECTED = {
    "cst_info.csv": {"cst_id": "customer.customer_id", "cst_key": "customer.customer_number",
                     "cst_firstname": "customer.first_name", "cst_lastname": "customer.last_name",
                     "cst_marital_status": "customer.marital_status", "cst_gndr": "customer.gender",
                     "cst_create_date": "customer.created_date"},
    "prd_info.csv": {"prd_key": "product.product_id", "prd_nm": "product.name", "prd_cost": "product.cost",
                     "prd_line": "product.product_line", "prd_start_dt": "product.valid_from",
                     "prd_end_dt": "product.valid_to"},
    "sales_details.csv": {"sls_ord_num": "order_line.order_id", "sls_prd_key": "order_line.product_id",
                          "sls_cust_id": "order_line.customer_id", "sls_order_dt": "order_line.order_date",
                          "sls_ship_dt": "order_line.ship_date", "sls_due_dt": "order_line.due_date",
                          "sls_sales": "order_line.amount", "sls_quantity": "order_line.quantity",
                          "sls_price": "order_line.unit_price"},
    "CST_AZ12.csv": {"CID": "customer.customer_id", "BDATE": "customer.birth_date", "GEN": "customer.gender"},
    "LOC_A101.csv": {"CID": "customer.customer_id", "CNTRY": "customer.country"},
    "PX_CAT_G1V2.csv": {"ID": "product_category.category_id", "CAT": "product_category.category",
                        "SUBCAT": "product_category.subcategory",
                        "MAINTENANCE": "product_category.maintenance"},
}


def seed(env, name):
    for d in ("source_crm", "source_erp"):
        p = os.path.join(env.seeds_dir(), "crm-erp", d, name)
        if os.path.exists(p):
            return p
    raise AssertionError("no seed " + name)


def put_file(b, u, name, data):
    r = b.client.upload(name, data, "text/csv", token=u.token)
    check(r.status in (200, 201), "upload %s: %r" % (name, r))
    return r.json["id"]


@test("mapping_proposed_for_crm_erp_headers")
def _(env):
    b = backend(env, "main")
    u = env.user(b, "mapper")
    wrong = []
    overlap = {}
    for name, want in EXPECTED.items():
        with open(seed(env, name), "rb") as f:
            fid = put_file(b, u, name, f.read())
        doc = expect_ok(b.client.get("/api/v1/files/%s/mapping" % fid, token=u.token))
        m = doc["mapping"]
        eq(m["state"], "proposed", "state of a new mapping")
        for c in m["columns"]:
            check(0.0 <= c["confidence"] <= 1.0 and c["evidence"], "confidence and evidence: %r" % c)
            if c["source"] in want and c["target"] != want[c["source"]]:
                wrong.append("%s.%s -> %s (want %s)" % (name, c["source"], c["target"], want[c["source"]]))
            if c["source"] in want and c["confidence"] < m["threshold"]:
                wrong.append("%s.%s below the threshold" % (name, c["source"]))
            overlap[(name, c["source"])] = [e for e in c["evidence"] if e.startswith("values meet")]
    eq(wrong, [], "columns mapped differently from a person's reading")
    # key overlap with the files mapped before: the ERP's customer ids meet
    # the CRM's keys, the sales lines' product keys meet the product list's
    for name, column, other in (("CST_AZ12.csv", "CID", "cst_info.csv"), ("LOC_A101.csv", "CID", "cst_info.csv"),
                                ("sales_details.csv", "sls_cust_id", "cst_info.csv"),
                                ("sales_details.csv", "sls_prd_key", "prd_info.csv")):
        ev = overlap.get((name, column), [])
        check(any(other in e for e in ev), "key overlap evidence of %s.%s with %s: %r" % (name, column, other, ev))


@test("mapping_key_overlap_learned_once")
def _(env):
    """The key-overlap evidence of a pair of columns is learned once per
    workspace (key_overlap_cache, by file SHA-256 and column): a file deleted
    and uploaded again gets the same evidence without a new row, and the
    second proposal does not learn again."""
    import sqlite3
    b = backend(env, "main")
    u = env.user(b, "overlapper")
    me = expect_ok(b.client.get("/api/v1/me", token=u.token))["user"]
    ws = os.path.join(b.data, "workspaces", me["id"], "workspace.db")

    def cached():
        db = sqlite3.connect("file:%s?mode=ro" % ws, uri=True)
        try:
            return db.execute("SELECT count(*), coalesce(sum(found), 0) FROM key_overlap_cache").fetchone()
        finally:
            db.close()

    def evidence(fid):
        m = expect_ok(b.client.get("/api/v1/files/%s/mapping" % fid, token=u.token))["mapping"]
        return {c["source"]: [e for e in c["evidence"] if e.startswith("values meet")] for c in m["columns"]}

    with open(seed(env, "cst_info.csv"), "rb") as f:
        put_file(b, u, "cst_info.csv", f.read())
    evidence(b.client.get("/api/v1/files", token=u.token).json["files"][0]["id"])
    with open(seed(env, "CST_AZ12.csv"), "rb") as f:
        az = f.read()
    fid = put_file(b, u, "CST_AZ12.csv", az)
    first = evidence(fid)
    check(any("cst_info.csv" in e for e in first.get("CID", [])), "overlap evidence of CID: %r" % first)
    n = cached()
    check(n[0] >= 1 and n[1] >= 1, "cache rows after the first proposal: %r" % (n,))
    expect_ok(b.client.request("DELETE", "/api/v1/files/" + fid, token=u.token), 200, "delete")
    fid2 = put_file(b, u, "CST_AZ12 again.csv", az)
    check(fid2 != fid, "a new file id for the same bytes")
    eq(evidence(fid2), first, "evidence of the same bytes proposed again")
    eq(cached(), n, "cache rows after the second proposal (nothing learned again)")


@test("mapping_proposed_by_run_same_as_one_by_one")
def _(env):
    """A run proposes the mappings of its files on a second thread, ahead
    of the staging (core/stage.c): each proposal must be the one made
    without a run, file by file in upload order (GET of each mapping, each
    seeing the mappings of the files before it), key-overlap evidence and
    confidences included; and a run whose file cannot be read fails with
    that file named, without hanging."""
    b = backend(env, "main")
    names = list(EXPECTED)
    datas = {}
    for name in names:
        with open(seed(env, name), "rb") as f:
            datas[name] = f.read()

    def proposals(u):
        out = {}
        for f in expect_ok(b.client.get("/api/v1/files", token=u.token))["files"]:
            m = expect_ok(b.client.get("/api/v1/files/%s/mapping" % f["id"], token=u.token))["mapping"]
            out[f["name"]] = (m["state"], [(c["source"], c["target"], c["confidence"], c["evidence"])
                                           for c in m["columns"]])
        return out

    by_hand = env.user(b, "propbyhand")
    for name in names:
        fid = put_file(b, by_hand, name, datas[name])
        expect_ok(b.client.get("/api/v1/files/%s/mapping" % fid, token=by_hand.token))
    want = proposals(by_hand)
    check(any("values meet" in e for _, cols in want.values() for c in cols for e in c[3]),
          "key-overlap evidence among the proposals: %r" % want)

    by_run = env.user(b, "propbyrun")
    for name in names:
        put_file(b, by_run, name, datas[name])
    r = b.client.request("POST", "/api/v1/runs", token=by_run.token)
    rid = expect_ok(r, 202, "run")["id"]

    def wait(rid, u):
        end = time.time() + 120
        while time.time() < end:
            run = expect_ok(b.client.get("/api/v1/runs/" + rid, token=u.token))["run"]
            if run["state"] not in ("queued", "running"):
                return run
            time.sleep(0.2)
        raise AssertionError("run %s did not end" % rid)

    run = wait(rid, by_run)
    eq(run["state"], "done", "run (%s)" % run["error"])
    eq(proposals(by_run), want, "the mappings a run proposed")

    # a file whose stored bytes are gone: the run fails at it, naming it
    broken = env.user(b, "propbroken")
    ids = [put_file(b, broken, name, datas[name]) for name in names]
    sha = expect_ok(b.client.get("/api/v1/files/" + ids[2], token=broken.token))["file"]["sha256"]
    os.unlink(os.path.join(b.data, "workspaces", broken.id, "uploads", sha))
    r = b.client.request("POST", "/api/v1/runs", token=broken.token)
    run = wait(expect_ok(r, 202, "run")["id"], broken)
    eq(run["state"], "failed", "a run over a file without its bytes")
    check(names[2] in (run["error"] or ""), "the error names the file: %r" % run["error"])
    run = wait(expect_ok(b.client.request("POST", "/api/v1/runs", token=by_run.token), 202, "run")["id"],
               by_run)
    eq(run["state"], "done", "a second run, every mapping stored (%s)" % run["error"])


@test("mapping_confirm_validate_and_reuse")
def _(env):
    b = backend(env, "main")
    u = env.user(b, "confirmer")
    with open(seed(env, "cst_info.csv"), "rb") as f:
        data = f.read()
    lines = data.split(b"\n")
    fid = put_file(b, u, "crm-part1.csv", b"\n".join(lines[:101]) + b"\n")
    m = expect_ok(b.client.get("/api/v1/files/%s/mapping" % fid, token=u.token))["mapping"]
    cols = [{"source": c["source"], "target": c["target"]} for c in m["columns"]]
    for c in cols:                      # a person unmaps the last name
        if c["source"] == "cst_lastname":
            c["target"] = None
    path = "/api/v1/files/%s/mapping" % fid
    # bad input: each refused with reasons, nothing stored
    for body, status, what in (
            ({"columns": [{"source": "nope", "target": "customer.email"}]}, 422, "unknown column"),
            ({"columns": [{"source": "cst_id", "target": "customer.shoe_size"}]}, 422, "unknown attribute"),
            ({"columns": [{"source": "cst_id", "target": "martian.id"}]}, 422, "unknown entity"),
            ({"columns": "all of them"}, 422, "columns not a list"),
            ([1, 2], 400, "not an object")):
        r = b.client.put_json(path, body, token=u.token)
        doc = expect_error(r, status, what)
        if status == 422:
            check(doc["errors"] and all("code" in e for e in doc["errors"]), "%s: reasons %r" % (what, doc))
    eq(expect_ok(b.client.get(path, token=u.token))["mapping"]["state"], "proposed",
       "the mapping after refused edits")
    r = b.client.request("PUT", path, body=b"{not json", headers={"Content-Type": "application/json"},
                         token=u.token)
    expect_error(r, 400, "malformed JSON")
    r = b.client.request("PUT", path, body=b"cst_id=x", headers={"Content-Type": "text/plain"},
                         token=u.token)
    expect_error(r, 415, "not JSON")
    other = env.user(b, "mapsnoop")
    expect_error(b.client.get(path, token=other.token), 404, "another user's mapping")
    expect_error(b.client.put_json(path, {"columns": cols}, token=other.token), 404,
                 "another user's mapping (PUT)")

    doc = expect_ok(b.client.put_json(path, {"columns": cols}, token=u.token))
    eq(doc["mapping"]["state"], "confirmed", "state after PUT")
    eq(expect_ok(b.client.get(path, token=u.token))["mapping"]["state"], "confirmed", "state on GET")
    f = expect_ok(b.client.get("/api/v1/files/" + fid, token=u.token))["file"]
    eq(f["status"], "mapped", "file status after confirming")
    last = [c for c in expect_ok(b.client.get(path, token=u.token))["mapping"]["columns"]
            if c["source"] == "cst_lastname"][0]
    eq(last["target"], None, "the unmapped column stays unmapped")

    # a later file with the same columns gets the confirmed mapping
    fid2 = put_file(b, u, "crm-part2.csv", lines[0] + b"\n" + b"\n".join(lines[101:201]) + b"\n")
    m2 = expect_ok(b.client.get("/api/v1/files/%s/mapping" % fid2, token=u.token))["mapping"]
    eq(m2["state"], "confirmed", "mapping of a file with the same columns")
    eq(m2.get("reused_from"), fid, "the mapping it reuses")

    # the run follows the confirmed mapping: no last names, first names kept
    r = b.client.request("POST", "/api/v1/runs", token=u.token)
    rid = expect_ok(r, 202, "run")["id"]
    end = time.time() + 120
    while time.time() < end:
        run = expect_ok(b.client.get("/api/v1/runs/" + rid, token=u.token))["run"]
        if run["state"] not in ("queued", "running"):
            break
        time.sleep(0.2)
    eq(run["state"], "done", "run (%s)" % run["error"])
    import sqlite3
    db = sqlite3.connect(os.path.join(b.data, "workspaces", u.id, "model.db"))
    eq(db.execute("SELECT count(last_name) FROM dim_customer").fetchone()[0], 0, "last names after unmapping")
    check(db.execute("SELECT count(first_name) FROM dim_customer").fetchone()[0] > 150, "first names kept")
    extra = db.execute("SELECT _extra FROM stg_customer WHERE _extra IS NOT NULL LIMIT 1").fetchone()
    check(extra is not None and "cst_lastname" in extra[0], "the unmapped column is kept in staging: %r" % (extra,))


@test("schema_served")
def _(env):
    b = backend(env, "main")
    u = env.user(b, "schemareader")
    doc = expect_ok(b.client.get("/api/v1/schema", token=u.token))
    names = [e["name"] for e in doc["entities"]]
    for want in ("customer", "product", "product_category", "location", "order_line"):
        check(want in names, "entity %s in the schema: %r" % (want, names))
    for e in doc["entities"]:
        for a in e["attributes"]:
            check(a["type"] and a["role"], "attribute %s.%s has a type and a role" % (e["name"], a["name"]))
    expect_error(b.client.get("/api/v1/schema"), 401, "schema without a token")
