"""Reconciliation runs through nginx on the real seed files.

Every expected figure is computed here from the raw files with Python's csv
and json modules (an independent reading of the data, with the rules the
issue states: newest complete record wins, ISO 3166 codes, amount =
quantity x price, ...), never copied from Concord's answers.  The star
schema is read from the workspace's model.db with Python's sqlite3.
"""
import csv
import datetime
import io
import json
import os
import sqlite3
import time

from harness import SetupError, check, eq, expect_error, expect_ok
from suite import test, backend

# ISO 3166-1 alpha-2 of the country spellings in the ERP export
# (independent of Concord's tables: from the ISO 3166 list).
ISO = {"australia": "AU", "canada": "CA", "france": "FR", "germany": "DE",
       "de": "DE", "united kingdom": "GB", "united states": "US", "usa": "US",
       "us": "US"}
TODAY = datetime.datetime.utcnow().date().isoformat()


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def crm(env, *parts):
    return os.path.join(env.seeds_dir(), "crm-erp", *parts)


def upload_all(b, user, paths):
    for p in paths:
        ct = "application/json" if p.endswith(".json") else "text/csv"
        with open(p, "rb") as f:
            r = b.client.upload(os.path.basename(p), f.read(), ct, token=user.token)
        if r.status not in (200, 201):
            raise SetupError("upload %s: %r" % (p, r))


def run_and_wait(b, user, timeout=300):
    r = b.client.request("POST", "/api/v1/runs", token=user.token)
    doc = expect_ok(r, 202, "POST /runs")
    loc = r.header("Location")
    check(loc == "/api/v1/runs/" + doc["id"], "Location %r" % loc)
    end = time.time() + timeout
    while time.time() < end:
        run = expect_ok(b.client.get(loc, token=user.token), 200, "GET run")["run"]
        if run["state"] not in ("queued", "running"):
            return run
        time.sleep(0.3)
    raise AssertionError("run %s did not end in %ds" % (doc["id"], timeout))


def model(b, user):
    path = os.path.join(b.data, "workspaces", user.id, "model.db")
    check(os.path.exists(path), "no model.db after a run")
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    db.row_factory = sqlite3.Row
    return db


def crm_run(env):
    """One workspace with every file of crm-erp, and one run."""
    def mk():
        b = backend(env, "main")
        u = env.user(b, "crmrun")
        paths = sorted(os.path.join(d, f) for d in (crm(env, "source_crm"), crm(env, "source_erp"))
                       for f in os.listdir(d))
        upload_all(b, u, paths)
        run = run_and_wait(b, u)
        if run["state"] != "done":
            raise SetupError("crm-erp run ended %s: %s" % (run["state"], run["error"]))
        return b, u, run
    return env.fixture("crm-run", mk)


@test("runs_resource_states_progress_counts")
def _(env):
    b, u, run = crm_run(env)
    for k in ("id", "state", "phase", "progress", "counts", "timings_ms", "created_at",
              "started_at", "finished_at"):
        check(k in run, "run has no %s: %r" % (k, sorted(run)))
    for phase in ("stage", "reconcile", "load", "quality"):
        check(isinstance(run["timings_ms"].get(phase), int), "timing of %s: %r" % (phase, run["timings_ms"]))
    eq(run["progress"]["done"], run["progress"]["total"], "progress at the end")
    listed = expect_ok(b.client.get("/api/v1/runs", token=u.token))["runs"]
    check(any(x["id"] == run["id"] for x in listed), "the run is not listed")
    # an ended run cannot be cancelled; another user does not see it
    expect_error(b.client.request("DELETE", "/api/v1/runs/" + run["id"], token=u.token), 409,
                 "cancel an ended run")
    other = env.user(b, "runsnoop")
    for path in ("/api/v1/runs/" + run["id"], "/api/v1/runs/" + run["id"] + "/quality"):
        expect_error(b.client.get(path, token=other.token), 404, "another user's run")
    expect_error(b.client.request("DELETE", "/api/v1/runs/" + run["id"], token=other.token), 404,
                 "another user's run")
    expect_error(b.client.get("/api/v1/runs/0000000000000000", token=u.token), 404, "unknown run")
    check(expect_ok(b.client.get("/api/v1/runs", token=other.token))["runs"] == [],
          "another user lists runs")


@test("crm_every_sales_line_joins_customer_and_product_version")
def _(env):
    b, u, _run = crm_run(env)
    sales = read_csv(crm(env, "source_crm", "sales_details.csv"))
    toy = read_csv(crm(env, "source_erp", "sales_transactions.csv"))
    db = model(b, u)
    eq(db.execute("SELECT count(*) FROM fact_sales").fetchone()[0], len(sales) + len(toy),
       "fact rows (one per sales line of both sales files)")
    eq(db.execute("SELECT count(*) FROM quarantine").fetchone()[0], 0, "quarantined lines")
    eq(db.execute("SELECT count(*) FROM fact_sales WHERE customer_sk IS NULL OR product_sk IS NULL"
                  ).fetchone()[0], 0, "facts without a customer or product version")
    # the version joined is valid on the order date, or is the first version
    # when the order precedes the product's first version (initial row)
    bad = db.execute("""
        SELECT count(*) FROM fact_sales f JOIN dim_product p ON p.product_sk = f.product_sk
        WHERE f.order_date IS NOT NULL AND NOT (
          (p.valid_from IS NULL OR p.valid_from <= f.order_date)
            AND (p.valid_to IS NULL OR p.valid_to >= f.order_date)
          OR (f.order_date < p.valid_from AND p.version = (SELECT min(version) FROM dim_product q
                                                          WHERE q.canonical_id = p.canonical_id)))
        """).fetchone()[0]
    eq(bad, 0, "facts joined to a product version not valid at their order date")
    # independent check of one product's versions: the CRM rows of a key
    prd = read_csv(crm(env, "source_crm", "prd_info.csv"))
    keys = {}
    for r in prd:
        keys.setdefault(r["prd_key"].strip(), []).append(r["prd_start_dt"])
    multi = sorted(k for k, v in keys.items() if len(set(v)) > 1)
    check(multi, "the seed has products with several versions")
    for k in multi[:20]:
        got = [r[0] for r in db.execute("SELECT valid_from FROM dim_product WHERE natural_key = ?"
                                         " ORDER BY valid_from", (k,))]
        eq(got, sorted(set(keys[k])), "versions of product %s" % k)
    # every line's customer is the CRM customer with that id (or the
    # entity it was resolved into: its records include that id)
    members = {}
    for r in db.execute("SELECT CAST(_key AS INTEGER), customer_id FROM stg_customer WHERE customer_id IS NOT NULL"):
        members.setdefault(r[0], set()).add(r[1])
    cust = {r[0]: (r[1], r[2]) for r in db.execute(
        "SELECT f._row, d.canonical_id, f.order_id FROM fact_sales f JOIN dim_customer d"
        " ON d.customer_sk = f.customer_sk WHERE f._row <= 2000 AND f.order_id LIKE 'SO%'")}
    check(len(cust) >= 1000, "sample of CRM sales lines")
    wrong = [row for row, (cid, _o) in cust.items()
             if sales[row - 1]["sls_cust_id"].strip() not in members.get(cid, set())]
    eq(wrong, [], "sales lines joined to a customer they do not name")


@test("crm_facts_carry_their_source_lines_values")
def _(env):
    """Every fact of sales_details.csv holds its own line's values (the
    load writes plain facts many to an INSERT: a row's parameters out of
    place would show here), checked against the CSV read by Python."""
    b, u, _run = crm_run(env)
    sales = read_csv(crm(env, "source_crm", "sales_details.csv"))
    db = model(b, u)
    fid = db.execute("SELECT _file_id FROM fact_sales WHERE order_id = ?",
                     (sales[0]["sls_ord_num"].strip(),)).fetchone()[0]
    rows = db.execute("SELECT _row, order_id, quantity, order_date, ship_date, unit_price, amount"
                      " FROM fact_sales WHERE _file_id = ? ORDER BY sales_sk", (fid,)).fetchall()
    eq(len(rows), len(sales), "facts of sales_details.csv")
    eq([r[0] for r in rows], sorted(r[0] for r in rows), "facts in their lines' order")

    def day(v):
        v = v.strip()
        if len(v) != 8 or not v.isdigit():
            return None
        try:
            return datetime.date(int(v[:4]), int(v[4:6]), int(v[6:])).isoformat()
        except ValueError:
            return None

    wrong, dated, priced = [], 0, 0
    for r in rows:
        src = sales[r[0] - 1]
        want = [src["sls_ord_num"].strip(), int(src["sls_quantity"])]
        got = [r[1], r[2]]
        d = day(src["sls_order_dt"])
        if d is not None:
            want.append(d)
            got.append(r[3])
            dated += 1
        if day(src["sls_ship_dt"]) is not None:
            want.append(day(src["sls_ship_dt"]))
            got.append(r[4])
        price, amount, qty = src["sls_price"].strip(), src["sls_sales"].strip(), int(src["sls_quantity"])
        if price.isdigit() and amount.isdigit() and int(price) > 0 and int(amount) == qty * int(price):
            want += [int(price) * 10000, int(amount) * 10000]   # money in units of 10^-4
            got += [r[5], r[6]]
            priced += 1
        if got != want:
            wrong.append((r[0], got, want))
    eq(wrong[:5], [], "facts whose values are not their line's")
    check(dated > len(rows) * 0.9 and priced > len(rows) * 0.9,
          "most lines dated and priced (%d, %d of %d)" % (dated, priced, len(rows)))
    return "%d facts, %d dated, %d priced" % (len(rows), dated, priced)


@test("crm_erp_attributes_attach_through_learned_keys")
def _(env):
    b, u, run = crm_run(env)
    db = model(b, u)
    crm_rows = read_csv(crm(env, "source_crm", "cst_info.csv"))
    erp = {r["CID"].strip(): r for r in read_csv(crm(env, "source_erp", "CST_AZ12.csv"))}
    loc = {r["CID"].strip(): r for r in read_csv(crm(env, "source_erp", "LOC_A101.csv"))}

    def erp_key(cst_key):            # the ERP writes AW00011000 as NASAW00011000 or AW00011000
        return erp.get("NAS" + cst_key) or erp.get(cst_key)

    def loc_key(cst_key):            # and AW-00011000 in the location export
        return loc.get(cst_key[:2] + "-" + cst_key[2:])

    # the current dimension row of each CRM key, through its staged record
    # (entity resolution may have merged two CRM customers: such clusters
    # hold two CRM keys, their golden record one set of attributes, and
    # are checked by tests_matching, not here)
    dims, per_cluster = {}, {}
    for r in db.execute("SELECT s.customer_number AS k, d.* FROM stg_customer s JOIN dim_customer d ON"
                        " d.canonical_id = s._key AND d.is_current WHERE s.customer_number IS NOT NULL"
                        " AND s._file_id = (SELECT _file_id FROM stg_customer WHERE customer_number ="
                        " 'AW00011000' LIMIT 1)"):
        dims[r["k"]] = r
        per_cluster.setdefault(r["canonical_id"], set()).add(r["k"])
    merged = {k for ks in per_cluster.values() if len(ks) > 1 for k in ks}
    check(len(merged) <= 20, "entity resolution merges a handful of CRM customers, not many: %d" % len(merged))
    checked = {"birth": 0, "country": 0, "gender": 0}
    newest = {}
    for r in crm_rows:
        key = r["cst_key"].strip()
        if r["cst_id"].strip() and (key not in newest or r["cst_create_date"] >= newest[key]["cst_create_date"]):
            newest[key] = r
    for key, r in newest.items():
        d = dims.get(key)
        check(d is not None, "CRM customer %s has no dimension row" % key)
        if key in merged:
            continue
        e, l = erp_key(key), loc_key(key)
        if e is not None:
            bd = e["BDATE"].strip()
            want = bd if bd and "1900-01-01" <= bd <= TODAY else None
            eq(d["birth_date"], want, "birth date of %s (ERP %r)" % (key, bd))
            checked["birth"] += 1
            crm_g = r["cst_gndr"].strip().upper()[:1] or None
            erp_g = {"male": "M", "female": "F", "m": "M", "f": "F"}.get(e["GEN"].strip().lower())
            eq(d["gender"], crm_g or erp_g, "gender of %s (CRM %r, ERP %r)" % (key, r["cst_gndr"], e["GEN"]))
            checked["gender"] += 1
        if l is not None and l["CNTRY"].strip():
            eq(d["country"], ISO[l["CNTRY"].strip().lower()], "country of %s (%r)" % (key, l["CNTRY"]))
            checked["country"] += 1
    check(checked["birth"] > 18000 and checked["country"] > 18000, "customers checked: %r" % checked)
    bad = [r[0] for r in db.execute("SELECT DISTINCT country FROM dim_customer WHERE country IS NOT NULL")
           if not (len(r[0]) == 2 and r[0].isupper())]
    eq(bad, [], "countries that are not ISO 3166-1 alpha-2 codes")
    rules = [k for k in run["counts"]["key_rules_detail"] if k["entity"] == "customer"]
    check(any(k["from"]["affix"] == "NAS" or k["to"]["affix"] == "NAS" for k in rules) or
          any(k["from"]["normalisation"] == "digits" for k in rules),
          "the ERP key rule is reported: %r" % [k["description"] for k in rules])
    check(all(k["coverage"] >= 0.99 for k in rules), "coverage of the customer rules: %r" %
          [(k["description"], k["coverage"]) for k in rules])
    return "%d birth dates, %d genders, %d countries checked" % (checked["birth"], checked["gender"],
                                                                 checked["country"])


@test("crm_duplicated_customer_ids_resolve_to_newest_complete")
def _(env):
    b, u, _run = crm_run(env)
    db = model(b, u)
    rows = {}
    for r in read_csv(crm(env, "source_crm", "cst_info.csv")):
        if r["cst_id"].strip():
            rows.setdefault(r["cst_id"].strip(), []).append(r)
    dups = {k: v for k, v in rows.items() if len(v) > 1}
    check(len(dups) >= 5, "the seed has duplicated customer ids: %d" % len(dups))
    for cid, recs in dups.items():
        got = db.execute("SELECT * FROM dim_customer WHERE is_current AND customer_id = ?",
                         (cid,)).fetchall()
        eq(len(got), 1, "current customers with id %s" % cid)
        recs = sorted(recs, key=lambda r: r["cst_create_date"], reverse=True)
        for col, attr in (("cst_firstname", "first_name"), ("cst_lastname", "last_name")):
            want = next((r[col].strip() for r in recs if r[col].strip()), None)
            eq(got[0][attr], want, "%s of duplicated customer %s" % (attr, cid))
        want = next((r["cst_marital_status"].strip() for r in recs if r["cst_marital_status"].strip()), None)
        eq(got[0]["marital_status"], want, "marital status of duplicated customer %s" % cid)


@test("crm_quality_report_lists_dates_amounts_categories")
def _(env):
    b, u, run = crm_run(env)
    q = expect_ok(b.client.get("/api/v1/runs/%s/quality" % run["id"], token=u.token))
    rules = {r["rule"]: r for r in q["rules"]}
    for dim in ("completeness", "validity", "uniqueness", "referential_integrity", "consistency"):
        check(dim in q["summary"], "no %s rules: %r" % (dim, sorted(q["summary"])))
    sales = read_csv(crm(env, "source_crm", "sales_details.csv"))

    def bad_yyyymmdd(s):
        s = s.strip()
        if not s:
            return False
        try:
            datetime.datetime.strptime(s, "%Y%m%d")
            return len(s) != 8
        except ValueError:
            return True
    bad_dates = sum(bad_yyyymmdd(r[c]) for r in sales for c in ("sls_order_dt", "sls_ship_dt", "sls_due_dt"))
    crm_rows = read_csv(crm(env, "source_crm", "cst_info.csv"))
    erp_rows = read_csv(crm(env, "source_erp", "CST_AZ12.csv"))
    future = sum(1 for r in erp_rows if r["BDATE"].strip() > TODAY)
    db = model(b, u)
    date_issues = db.execute("SELECT count(*) FROM clean_issues WHERE issue LIKE 'date_%'").fetchone()[0]
    eq(date_issues, bad_dates + future, "invalid dates reported (sales %d + future birth dates %d)" %
       (bad_dates, future))
    eq(rules["dates_valid"]["failed"], bad_dates + future, "dates_valid failures in the report")
    check(rules["dates_valid"]["examples"], "examples of invalid dates")

    def num(s):
        s = s.strip()
        return int(s) if s.lstrip("-").isdigit() else None
    inconsistent = 0
    for r in sales:
        a, qn, p = num(r["sls_sales"]), num(r["sls_quantity"]), num(r["sls_price"])
        if a is not None and a > 0 and qn is not None and p is not None and p > 0 and a != qn * p:
            inconsistent += 1
    eq(rules["amount_is_quantity_times_price"]["failed"], inconsistent, "inconsistent amounts")
    cats = {r["ID"].strip() for r in read_csv(crm(env, "source_erp", "PX_CAT_G1V2.csv"))}
    prd = read_csv(crm(env, "source_crm", "prd_info.csv"))
    unresolved = {r["prd_key"].strip() for r in prd if r["prd_key"][:5].replace("-", "_") not in cats}
    check(unresolved, "the seed has products whose category code the ERP lacks")
    got = {r[0] for r in db.execute("SELECT DISTINCT natural_key FROM dim_product WHERE category_sk IS NULL"
                                    " AND natural_key LIKE '%-%'")}
    eq(got, unresolved, "products whose category code is unresolved")
    check(rules["product_category_resolved"]["failed"] > 0 and rules["product_category_resolved"]["examples"],
          "the report lists the unresolved category codes")
    ends = sum(1 for r in prd if r["prd_end_dt"].strip() and r["prd_end_dt"] < r["prd_start_dt"])
    eq(rules["effective_end_after_start"]["failed"], ends, "products ending before they start")


@test("run_cancel_leaves_previous_result")
def _(env):
    b, u, _run = crm_run(env)
    db = model(b, u)
    before = db.execute("SELECT count(*) FROM fact_sales").fetchone()[0]
    db.close()
    r = b.client.request("POST", "/api/v1/runs", token=u.token)
    rid = expect_ok(r, 202, "second run")["id"]
    c = b.client.request("DELETE", "/api/v1/runs/" + rid, token=u.token)
    check(c.status in (200, 409), "cancel: %r" % c)
    end = time.time() + 120
    while time.time() < end:
        run = expect_ok(b.client.get("/api/v1/runs/" + rid, token=u.token))["run"]
        if run["state"] not in ("queued", "running"):
            break
        time.sleep(0.2)
    check(run["state"] in ("cancelled", "done"), "state after cancel: %s" % run["state"])
    if c.status == 200:
        eq(run["state"], "cancelled", "a run cancelled in time ends cancelled")
    db = model(b, u)
    eq(db.execute("SELECT count(*) FROM fact_sales").fetchone()[0], before, "facts after a cancelled run")
    return "cancel answered %d, run %s" % (c.status, run["state"])


def nexus(env, *parts):
    return os.path.join(env.seeds_dir(), "nexusflow", *parts)


@test("nexus_runs_resolves_challenge_rows_and_keeps_history")
def _(env):
    b = backend(env, "main")
    u = env.user(b, "nexusrun")
    originals = sorted(nexus(env, f) for f in os.listdir(nexus(env)) if f.endswith((".csv", ".json")))
    upload_all(b, u, originals)
    run = run_and_wait(b, u)
    eq(run["state"], "done", "first run (%s)" % run["error"])
    db = model(b, u)
    files = {f["name"]: f["id"] for f in expect_ok(b.client.get("/api/v1/files", token=u.token))["files"]}
    challenge = read_csv(nexus(env, "reconciliation_challenge_data.csv"))
    orders = read_csv(nexus(env, "orders_unstructured_data.csv"))
    eq(db.execute("SELECT count(*) FROM fact_sales WHERE _file_id = ?",
                  (files["reconciliation_challenge_data.csv"],)).fetchone()[0], len(challenge),
       "reconciliation-challenge rows loaded as facts")
    eq(db.execute("SELECT count(*) FROM quarantine").fetchone()[0], 0, "quarantined lines")
    # CLI_0280 is the customer CUST_0280; ITM_076 the product PROD_076
    for r in challenge[:50]:
        num = int(r["client_reference"].split("_")[1])
        got = db.execute("SELECT d.customer_number FROM fact_sales f JOIN dim_customer d ON"
                         " d.customer_sk = f.customer_sk WHERE f._file_id = ? AND f._row = ?",
                         (files["reconciliation_challenge_data.csv"], challenge.index(r) + 1)).fetchone()
        eq(got[0], "CUST_%04d" % num, "customer of %s" % r["client_reference"])
    eq(db.execute("SELECT count(*) FROM fact_sales WHERE _file_id = ?",
                  (files["orders_unstructured_data.csv"],)).fetchone()[0], len(orders), "order lines")
    # every timestamp form of the seeds parses
    eq(db.execute("SELECT count(*) FROM clean_issues WHERE issue IN ('date_invalid', 'date_order_unknown',"
                  " 'date_order_conflict')").fetchone()[0], 0, "unreadable dates and timestamps")
    custs = {}
    with open(nexus(env, "customers_messy_data.json")) as f:
        for o in json.load(f):
            custs[o["customer_id"]] = o
    eq(db.execute("SELECT count(DISTINCT canonical_id) FROM dim_customer").fetchone()[0], len(custs),
       "customers (the challenge rows add none)")
    db.close()

    upload_all(b, u, sorted(nexus(env, "reupload", f) for f in os.listdir(nexus(env, "reupload"))))
    run2 = run_and_wait(b, u)
    eq(run2["state"], "done", "second run (%s)" % run2["error"])
    check(run2["counts"].get("files_reused", 0) == len(originals), "unchanged files are not parsed again: %r"
          % run2["counts"].get("files_reused"))
    db = model(b, u)
    later = {}
    with open(nexus(env, "reupload", "test.json")) as f:
        for o in json.load(f):
            later[o["customer_id"]] = o
    # the later export supersedes the earlier one: a customer whose address
    # (a column only the customer exports hold) changed has a new version
    moved = [k for k in custs if k in later and (later[k].get("address") or "").strip() and
             (later[k].get("address") or "").strip() != (custs[k].get("address") or "").strip()]
    versions = {r[0]: r[1] for r in db.execute(
        "SELECT customer_id, count(*) FROM dim_customer GROUP BY canonical_id")}
    check(moved, "the later export changes addresses")
    for k in moved:
        eq(versions.get(k), 2, "versions of customer %s whose address changed" % k)
    eq(db.execute("SELECT count(*) FROM dim_customer WHERE is_current AND address IS NOT NULL AND"
                  " address NOT IN (%s)" % ",".join("?" * len(later)),
                  [o.get("address") or "" for o in later.values()]).fetchone()[0], 0,
       "current addresses that are not the later export's")
    changed = len(moved)
    bad = db.execute("SELECT count(*) FROM (SELECT canonical_id FROM dim_customer GROUP BY canonical_id"
                     " HAVING sum(is_current) <> 1)").fetchone()[0]
    eq(bad, 0, "customers without exactly one current version")
    gaps = db.execute("SELECT count(*) FROM dim_customer a JOIN dim_customer b ON a.canonical_id ="
                      " b.canonical_id AND b.version = a.version + 1 WHERE a.valid_to IS NULL OR"
                      " b.valid_from IS NULL OR date(a.valid_to, '+1 day') <> b.valid_from").fetchone()[0]
    eq(gaps, 0, "versions that do not follow each other day to day")
    eq(db.execute("SELECT count(*) FROM quarantine WHERE reason = 'superseded'").fetchone()[0],
       len(read_csv(nexus(env, "reupload", "test1.csv"))),
       "order lines of the first export superseded by the later one")
    return "%d customers with a new version" % changed


@test("retail_mini_runs_to_the_end")
def _(env):
    b = backend(env, "main")
    u = env.user(b, "retailrun")
    d = os.path.join(env.seeds_dir(), "retail-mini")
    upload_all(b, u, sorted(os.path.join(d, f) for f in os.listdir(d)))
    run = run_and_wait(b, u)
    eq(run["state"], "done", "run (%s)" % run["error"])
    db = model(b, u)
    orders = read_csv(os.path.join(d, "orders.csv"))
    loaded = db.execute("SELECT count(*) FROM fact_sales").fetchone()[0]
    quarantined = db.execute("SELECT count(*) FROM quarantine").fetchone()[0]
    eq(loaded + quarantined, len(orders), "every order line is loaded or quarantined")
    # price comes from the product list: amount derived = quantity x price
    prices = {r["product_id"]: r["price"] for r in read_csv(os.path.join(d, "products.csv"))}
    check(all(r["product_id"] in prices for r in orders), "the seed's orders name listed products")
    eq(quarantined, 0, "quarantined order lines")


@test("runs_bad_input")
def _(env):
    b = backend(env, "main")
    u = env.user(b, "runempty")
    r = b.client.request("POST", "/api/v1/runs", token=u.token)
    rid = expect_ok(r, 202, "a run with no files")["id"]
    end = time.time() + 60
    while time.time() < end:
        run = expect_ok(b.client.get("/api/v1/runs/" + rid, token=u.token))["run"]
        if run["state"] not in ("queued", "running"):
            break
        time.sleep(0.2)
    eq(run["state"], "failed", "a run with nothing to reconcile")
    check("upload" in (run["error"] or ""), "the failure says what to do: %r" % run["error"])
    expect_error(b.client.get("/api/v1/runs/not-an-id", token=u.token), 404, "malformed run id")
    expect_error(b.client.request("PUT", "/api/v1/runs", token=u.token), 405, "PUT /runs")
    expect_error(b.client.request("POST", "/api/v1/runs"), 401, "POST /runs without a token")
    # run settings: every bad body is a 400 that queues nothing
    before = len(expect_ok(b.client.get("/api/v1/runs", token=u.token))["runs"])
    for body, code in (({"settings": {"missing_customer": "drop"}}, "bad_setting"),
                       ({"settings": {"missing_customer": 1}}, "bad_setting"),
                       ({"settings": {"missing_customers": "quarantine"}}, "unknown_setting"),
                       ({"settings": ["quarantine"]}, "bad_settings"),
                       ({"setting": {}}, "unknown_field")):
        r = b.client.post_json("/api/v1/runs", body, token=u.token)
        e = expect_error(r, 400, "POST /runs %r" % body)
        eq(e["errors"][0]["code"], code, "error code for %r" % body)
    expect_error(b.client.request("POST", "/api/v1/runs", body=b"{not json", token=u.token,
                                  headers={"Content-Type": "application/json"}), 400, "malformed JSON")
    expect_error(b.client.request("POST", "/api/v1/runs", body=b"x", token=u.token,
                                  headers={"Content-Type": "text/plain"}), 415, "not JSON")
    eq(len(expect_ok(b.client.get("/api/v1/runs", token=u.token))["runs"]), before, "no run queued by a bad body")


def runner_pid(b):
    for pid in b.pids():
        try:
            with open("/proc/%d/comm" % pid) as f:
                if f.read().strip() == "concord-runner":
                    return pid
        except OSError:
            pass
    return None


@test("run_killed_leaves_previous_result_and_fails")
def _(env):
    import signal
    b, u, _run = crm_run(env)
    path = os.path.join(b.data, "workspaces", u.id, "model.db")
    with open(path, "rb") as f:
        before = f.read()
    old = runner_pid(b)
    check(old is not None, "no concord-runner process among %r" % b.pids())
    r = b.client.request("POST", "/api/v1/runs?", token=u.token)
    rid = expect_ok(r, 202, "a run to kill")["id"]
    # kill the runner in the middle of the run (the crm run takes seconds)
    end = time.time() + 60
    while time.time() < end:
        run = expect_ok(b.client.get("/api/v1/runs/" + rid, token=u.token))["run"]
        if run["state"] == "running" and run["phase"] in ("reconcile", "load"):
            break
        time.sleep(0.05)
    check(run["state"] == "running", "the run never reached the middle: %r" % run)
    os.kill(old, signal.SIGKILL)
    # the master starts a new runner, which marks the orphaned run failed
    end = time.time() + 30
    while time.time() < end:
        run = expect_ok(b.client.get("/api/v1/runs/" + rid, token=u.token))["run"]
        if run["state"] != "running":
            break
        time.sleep(0.2)
    eq(run["state"], "failed", "a run whose process was killed")
    check(runner_pid(b) not in (None, old), "a new runner was started")
    with open(path, "rb") as f:
        eq(f.read() == before, True, "model.db unchanged by the killed run")
    # and the next run works, and leaves no half-written file behind
    run = run_and_wait(b, u)
    eq(run["state"], "done", "a run after the crash (%s)" % run["error"])
    check(not os.path.exists(path + ".tmp"), "model.db.tmp left after a run")


@test("runs_stage_only_phase")
def _(env):
    """`concord run --phase stage`: the staging tables are queryable over the
    API (every row of the file, cleaned) and the star schema is empty; the
    next full run replaces that model; an unknown phase fails the run."""
    b = backend(env, "main")
    u = env.user(b, "stageonly")
    path = os.path.join(crm(env, "source_crm"), "cst_info.csv")
    upload_all(b, u, [path])
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = sum(1 for _ in csv.reader(f)) - 1
    p = b.cli("run", "--user", u.name, "--phase", "stage")
    run = json.loads(p.stdout)
    eq(run["state"], "done", "stage-only run")
    eq(sorted(run["timings_ms"]), ["stage", "total"], "phases of a stage-only run")
    c = b.client
    doc = expect_ok(c.get("/api/v1/tables/stg_customer?_size=1", token=u.token), 200, "stg_customer")
    n = sum(1 for _ in c.get("/api/v1/tables/stg_customer.csv?_stream=1", token=u.token).body.splitlines()) - 1
    eq(n, rows, "staged rows of cst_info.csv")
    doc = expect_ok(c.get("/api/v1/tables/dim_customer?_size=1", token=u.token), 200, "dim_customer")
    eq(doc["count"], 0, "dim_customer after a stage-only run")
    p = b.cli("run", "--user", u.name, "--phase", "nope", check_rc=False)
    check(p.returncode != 0, "an unknown phase must fail")
    check(b"no phase nope" in p.stderr, "unknown phase message: %r" % p.stderr[-200:])
    run = json.loads(b.cli("run", "--user", u.name).stdout)
    eq(run["state"], "done", "full run after the stage-only one")
    doc = expect_ok(c.get("/api/v1/tables/dim_customer?_size=1", token=u.token), 200, "dim_customer")
    eq(doc["count"], 1, "dim_customer after the full run")


@test("key_rules_learned_once_and_reused_while_values_are_unchanged")
def _(env):
    """A run keeps the key rules it learned by the fingerprint of the two
    value lists (workspace.db align_cache): the next run on the same data
    reuses them (same rules, nothing learned again); changed values are
    learned anew, never answered from the cache."""
    b = backend(env, "main")
    u = env.user(b, "alignc")
    n = 60
    crm_csv = "cst_key,cst_firstname,cst_lastname\n" + "".join(
        "AW%08d,Ann%d,Lee%d\n" % (11000 + k, k, k) for k in range(n))
    erp_csv = "CID,BDATE,GEN\n" + "".join(
        "NASAW%08d,1980-01-%02d,F\n" % (11000 + k, 1 + k % 28) for k in range(n))
    for name, body in (("crm_customers.csv", crm_csv), ("erp_customers.csv", erp_csv)):
        expect_ok(b.client.upload(name, body.encode(), "text/csv", token=u.token), 201, "upload " + name)
    wsdb = os.path.join(b.data, "workspaces", u.id, "workspace.db")

    def state():
        run = run_and_wait(b, u)
        eq(run["state"], "done", "run: %s" % run.get("error"))
        db = model(b, u)
        rules = sorted(tuple(r) for r in db.execute(
            "SELECT entity, from_column, to_column, rule FROM key_rules"))
        ents = db.execute("SELECT count(DISTINCT canonical_id) FROM dim_customer").fetchone()[0]
        db.close()
        w = sqlite3.connect(wsdb)
        cached = w.execute("SELECT count(*) FROM align_cache").fetchone()[0]
        w.close()
        return rules, ents, cached, run["counts"]
    rules1, ents1, cached1, counts1 = state()
    check(rules1, "the CRM and ERP keys are linked by a learned rule")
    eq(ents1, n, "one customer per CRM key")
    check(cached1 > 0, "the learned rules are kept")
    # the run's mapping proposals learn the pairs first; reconcile asks for
    # them (learned then, or answered from what the proposals learned)
    asked1 = counts1.get("key_pairs_learned", 0) + counts1.get("key_pairs_reused", 0)
    check(asked1 > 0, "the first run's reconcile learns key rules: %r" % counts1)
    rules2, ents2, cached2, counts2 = state()
    eq(rules2, rules1, "the same rules the next run")
    eq(ents2, ents1, "the same customers")
    eq(cached2, cached1, "no new rule kept")
    eq(counts2.get("key_pairs_learned", 0), 0, "nothing learned again")
    eq(counts2.get("key_pairs_reused", 0), asked1,
       "every column pair answered from the cache")
    # another export of the ERP file, its ids changed: learned anew
    erp2 = "CID,BDATE,GEN\n" + "".join(
        "NASAW%08d,1980-02-%02d,M\n" % (21000 + k, 1 + k % 28) for k in range(n))
    expect_ok(b.client.upload("erp_customers.csv", erp2.encode(), "text/csv", token=u.token), 201, "re-upload")
    _rules3, _ents3, cached3, counts3 = state()
    check(counts3.get("key_pairs_learned", 0) + counts3.get("key_pairs_reused", 0) > 0,
          "reconcile learns the changed file's pairs: %r" % counts3)
    check(cached3 > cached2, "changed values are learned, not answered from the cache (%d -> %d)"
          % (cached2, cached3))
    return "%d rules kept" % cached1


@test("order_lines_without_a_number_are_numbered_in_source_order")
def _(env):
    # an export whose line numbers are partly missing or invalid: each such
    # line takes its place among the file's lines of the same order id
    # (numbered or not, empty order id included), counted here in file order
    rows = [("A1", "1"), ("B7", ""), ("A1", ""), ("A1", "9"), ("", ""),
            ("B7", "x"), ("A1", ""), ("", ""), ("C3", "")]
    text = "order_id,line_number,order_date,customer_id,product_id,quantity,amount\n" + "".join(
        "%s,%s,2025-01-0%d,K%d,P1,1,10.00\n" % (o, n, 1 + i % 9, i) for i, (o, n) in enumerate(rows))
    seen, want = {}, []
    for o, n in rows:
        seen[o] = seen.get(o, 0) + 1
        want.append(int(n) if n.isdigit() else seen[o])
    b = backend(env, "main")
    u = env.user(b, "linenumbers")
    r = b.client.upload("lines.csv", text.encode(), "text/csv", token=u.token)
    check(r.status in (200, 201), "upload %r" % r)
    run = run_and_wait(b, u)
    eq(run["state"], "done", "run (%s)" % run["error"])
    got = [r[0] for r in model(b, u).execute("SELECT line_number FROM stg_order_line ORDER BY _row")]
    eq(got, want, "line numbers of the staged lines")
    return "%d lines" % len(got)


@test("staged_values_do_not_depend_on_repetition_or_batching")
def _(env):
    # the stage keeps cleaned values for repeated raw ones and inserts rows
    # 32 at a time: a value staged in a long file, where it repeats, must be
    # the value (and quarantine reason) it gets in a file where it appears
    # once; nearly all customer ids are distinct (kept values turned off for
    # them); 4,500 order ids of 2 lines each, interleaved, are numbered
    pools = {
        "order_date": ["2025-01-%02d" % d for d in range(1, 29)] +
                      ["n/a", " 2025-02-03 ", "2025-13-01", "2025-02-30", "3025-01-01", "", "null"],
        "customer_id": ["K%d" % k for k in range(40)] + [" K3", '"K4"', "'K5'", "NULL", "-", "K\u00a06"],
        "product_id": ["P-%02d" % k for k in range(30)] + ["p-01", "P\u201101", "\u201cP-02\u201d"],
        "quantity": ["1", "2", "3", "10", "1.5", "x", "-1", "1,000", "+4", "007"],
        "amount": ["10.00", "$1,234.50", "-3.5", "abc", "12.345", "(7.25)", "0", "1e3", "\u20ac9.99",
                   "99999999999999999999", ".30", "5%"],
    }
    cols = ["order_id"] + list(pools)
    n = 9000
    seed = 12345

    def pick(pool):
        nonlocal seed
        seed = (seed * 1103515245 + 12345) % 2 ** 31
        return pool[seed % len(pool)]

    def text(rows):
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(cols)
        w.writerows(rows)
        return out.getvalue().encode()

    lines = []
    for i in range(n):
        row = ["SO%d" % (i % 4500)] + [pick(pools[c]) for c in pools]
        if i % 20:
            row[cols.index("customer_id")] = "C%d" % i
        lines.append(row)
    # every raw value once, in order of first appearance (order ids of their
    # own); short columns padded with an empty value, which is never kept
    distinct = {}
    for c in pools:
        distinct[c] = list(dict.fromkeys(r[cols.index(c)] for r in lines))
    width = max(len(v) for v in distinct.values())
    once = [["ONE%d" % i] + [distinct[c][i] if i < len(distinct[c]) else "" for c in pools]
            for i in range(width)]
    b = backend(env, "main")
    u = env.user(b, "stagememo")
    fid = expect_ok(b.client.upload("lines.csv", text(lines), "text/csv", token=u.token), 201)["file"]["id"]
    oid = expect_ok(b.client.upload("once.csv", text(once), "text/csv", token=u.token), 201)["file"]["id"]
    run = run_and_wait(b, u)
    eq(run["state"], "done", "run (%s)" % run["error"])
    db = model(b, u)
    staged = {}
    for f, rows in ((fid, lines), (oid, once)):
        got = db.execute("SELECT _row, %s, line_number FROM stg_order_line WHERE _file_id = ?"
                         " ORDER BY _row" % ", ".join('"%s"' % c for c in cols), (f,)).fetchall()
        eq(len(got), len(rows), "staged rows of %s" % f)
        issues = {}
        for r in db.execute("SELECT _row, column_name, issue FROM clean_issues WHERE _file_id = ?", (f,)):
            issues[(r[0], r[1])] = r[2]
        staged[f] = (got, issues)
    got, issues = staged[fid]
    eq([r["_row"] for r in got], list(range(1, n + 1)), "rows in source order")
    eq([r["line_number"] for r in got], [1 + i // 4500 for i in range(n)],
       "each order's lines numbered in file order")
    once_got, once_issues = staged[oid]
    checked = 0
    for c in pools:
        want = {}
        for i, raw in enumerate(distinct[c]):
            want[raw] = (once_got[i][c], once_issues.get((i + 1, c)))
        for i, r in enumerate(got):
            raw = lines[i][cols.index(c)]
            eq((r[c], issues.get((i + 1, c))), want[raw],
               "row %d %s %r: staged as where it appears once" % (i + 1, c, raw))
            checked += 1
    eq([r["order_id"] for r in got], ["SO%d" % (i % 4500) for i in range(n)], "order ids")
    check(len(set(r["amount"] for r in got)) > 3, "amounts vary")
    check(any(issues.values()), "some values are quarantined")
    db.close()
    return "%d values compared" % checked
