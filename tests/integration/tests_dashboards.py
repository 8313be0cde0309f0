"""Dashboards: GET /api/v1/dashboards/{sales,customers,products,quality,sources}.

A reconciled workspace is written directly with Python's sqlite3 from
fixtures/dashboards.sql, as a run leaves it: the model part into
DATA/workspaces/<user id>/model.db (the workspace attaches it), the rest
(files, runs, quality_results) into workspace.db.  Every figure the
service answers is then compared with the same figure computed here: raw
rows read with plain SELECTs and aggregated in Python (collections, Decimal
half-even rounding), never with the service's statements nor from its
answers.  Then: the same with filters, a second user who sees zeros, bad
filters (400 with the envelope), and the dashboards of a real run.
"""
import collections
import decimal
import json
import os
import sqlite3
import urllib.parse

from harness import MONEY_UNIT, SetupError, check, eq, expect_error, expect_ok, money_text, parse_rfc3339
from suite import test, backend

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "fixtures", "dashboards.sql")
MARK = "\n-- @@ workspace.db"
NAMES = ("sales", "customers", "products", "quality", "sources")
ENTITIES = ("customer", "product_category", "product", "location", "order_line")   # schema order
LINEAGE = {"customer": "dim_customer", "product_category": "dim_product_category",
           "product": "dim_product"}
BANDS = [(None, 10), (10, 50), (50, 100), (100, 500), (500, 1000), (1000, 5000), (5000, None)]
BANDS = [tuple(None if x is None else x * MONEY_UNIT for x in b) for b in BANDS]   # units, [min, max)


# ------------------------------------------------------------- fixture ---
def workspace_dir(b, uid):
    return os.path.join(b.data, "workspaces", uid)


def load_fixture(b, uid):
    """Writes the fixture into the workspace of user uid (created by a first request)."""
    d = workspace_dir(b, uid)
    ws = os.path.join(d, "workspace.db")
    if not os.path.exists(ws):
        raise SetupError("no workspace.db at %s" % ws)
    if os.path.exists(os.path.join(d, "model.db")):
        raise SetupError("the workspace already has a model.db")
    with open(FIXTURE, encoding="utf-8") as f:
        text = f.read()
    cut = text.index(MARK)
    m = sqlite3.connect(os.path.join(d, "model.db"))
    m.executescript(text[:cut])
    m.close()
    w = sqlite3.connect(ws)
    w.execute("ATTACH DATABASE ? AS model", (os.path.join(d, "model.db"),))
    w.executescript(text[cut + 1:])
    w.close()


def fixture_user(env):
    """alice's workspace holds the fixture; checked empty before it is loaded."""
    def mk():
        b = backend(env, "main")
        u = env.user(b, "dashalice")
        me = expect_ok(b.client.get("/api/v1/me", token=u.token), 200, "GET /me")["user"]
        eq(me.get("id"), u.id, "GET /me id")
        for name in NAMES:       # also creates workspace.db
            check_empty(get(b, u, name), name, "before the fixture")
        load_fixture(b, me["id"])
        return b, u
    return env.fixture("dash-fixture", mk)


def open_db(b, u):
    """The workspace as the service reads it: workspace.db with model.db attached."""
    d = workspace_dir(b, u.id)
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(d, "workspace.db"), uri=True)
    if os.path.exists(os.path.join(d, "model.db")):
        db.execute("ATTACH DATABASE ? AS model", ("file:%s?mode=ro" % os.path.join(d, "model.db"),))
    db.row_factory = sqlite3.Row
    return db


def get(b, u, name, query="", status=200):
    r = b.client.get("/api/v1/dashboards/%s%s" % (name, "?" + query if query else ""), token=u.token)
    if status != 200:
        return expect_error(r, status, "dashboard %s?%s" % (name, query))
    doc = expect_ok(r, 200, "dashboard %s?%s" % (name, query))
    eq(doc.get("dashboard"), name, "dashboard name")
    parse_rfc3339(doc.get("generated_at"))
    return doc


# ---------------------------------------------------------- arithmetic ---
def money(c):
    """Units of 10^-4 -> the contract's decimal string."""
    return money_text(c)


def half_even(num, den):
    return int((decimal.Decimal(num) / decimal.Decimal(den)).quantize(decimal.Decimal(1),
                                                                      rounding=decimal.ROUND_HALF_EVEN))


def null_last(v):
    return (v is None, v if v is not None else "")


def latest_version(rows, sk):
    """The current version, else the latest: is_current, valid_from (NULL last), sk, all descending."""
    return max(rows, key=lambda r: (r["is_current"], r["valid_from"] is not None, r["valid_from"] or "", r[sk]))


def customer_name(r):
    full = (r["full_name"] or "").strip(" ")
    if full:
        return full
    both = ((r["first_name"] or "") + " " + (r["last_name"] or "")).strip(" ")
    return both or None


def sources_len(text):
    try:
        v = json.loads(text) if text is not None else None
    except ValueError:
        return 0
    return len(v) if isinstance(v, list) else 0


def has_table(db, name):
    """In any schema (model.db is attached as "model")."""
    return db.execute("SELECT count(*) FROM pragma_table_list WHERE name = ? AND type = 'table'",
                      (name,)).fetchone()[0] > 0


# -------------------------------------------------------- expectations ---
def expect_sales(db, flt):
    """The sales dashboard from raw rows: facts filtered in Python."""
    cust = {r["customer_sk"]: r["country"] for r in db.execute("SELECT customer_sk, country FROM dim_customer")}
    prod = {r["product_sk"]: r["category"] for r in db.execute("SELECT product_sk, category FROM dim_product")}
    facts = []
    for r in db.execute("SELECT order_id, order_date, amount, quantity, customer_sk, product_sk,"
                        " customer_canonical_id, product_canonical_id, is_return FROM fact_sales"):
        country, category = cust.get(r["customer_sk"]), prod.get(r["product_sk"])
        if flt.get("from") and not (r["order_date"] is not None and r["order_date"] >= flt["from"]):
            continue
        if flt.get("to") and not (r["order_date"] is not None and r["order_date"] <= flt["to"]):
            continue
        if flt.get("country") and country not in flt["country"]:
            continue
        if flt.get("category") and category not in flt["category"]:
            continue
        facts.append(dict(r, country=country, category=category))

    def group(key, with_customers):
        g = collections.OrderedDict()
        for f in facts:
            e = g.setdefault(f[key], {"revenue": 0, "orders": set(), "customers": set()})
            e["revenue"] += f["amount"] or 0
            if not f["is_return"]:  # an invoice of returns only is no order
                e["orders"].add(f["order_id"])
            if f["customer_canonical_id"] is not None:
                e["customers"].add(f["customer_canonical_id"])
        out = []
        for k, e in g.items():
            o = {key: k, "revenue": e["revenue"], "orders": len(e["orders"])}
            if with_customers:
                o["customers"] = len(e["customers"])
            out.append(o)
        return out

    months = collections.OrderedDict()
    for f in facts:
        e = months.setdefault(f["order_date"][:7] if f["order_date"] else None, {"revenue": 0, "orders": set()})
        e["revenue"] += f["amount"] or 0
        if not f["is_return"]:
            e["orders"].add(f["order_id"])
    by_month = [{"month": m, "revenue": money(e["revenue"]), "orders": len(e["orders"])}
                for m, e in sorted(months.items(), key=lambda kv: null_last(kv[0]))]

    def ranked(rows, key):
        rows.sort(key=lambda o: (-o["revenue"], null_last(o[key])))
        for o in rows:
            o["revenue"] = money(o["revenue"])
        return rows

    pver = collections.defaultdict(list)
    for r in db.execute("SELECT product_sk, canonical_id, name, is_current, valid_from FROM dim_product"):
        pver[r["canonical_id"]].append(r)
    cver = collections.defaultdict(list)
    for r in db.execute("SELECT customer_sk, canonical_id, full_name, first_name, last_name, is_current,"
                        " valid_from FROM dim_customer"):
        cver[r["canonical_id"]].append(r)
    tp = collections.defaultdict(lambda: [0, 0])
    tc = collections.defaultdict(lambda: [0, set()])
    for f in facts:
        if f["product_canonical_id"] is not None:
            tp[f["product_canonical_id"]][0] += f["amount"] or 0
            tp[f["product_canonical_id"]][1] += f["quantity"] or 0
        if f["customer_canonical_id"] is not None:
            tc[f["customer_canonical_id"]][0] += f["amount"] or 0
            if not f["is_return"]:
                tc[f["customer_canonical_id"]][1].add(f["order_id"])
    top_products = [{"canonical_id": k, "revenue": money(v[0]), "quantity": v[1],
                     "name": latest_version(pver[k], "product_sk")["name"] if pver.get(k) else None}
                    for k, v in sorted(tp.items(), key=lambda kv: (-kv[1][0], kv[0]))[:10]]
    top_customers = [{"canonical_id": k, "revenue": money(v[0]), "orders": len(v[1]),
                      "name": customer_name(latest_version(cver[k], "customer_sk")) if cver.get(k) else None}
                     for k, v in sorted(tc.items(), key=lambda kv: (-kv[1][0], kv[0]))[:10]]
    revenue = sum(f["amount"] or 0 for f in facts)
    orders = len({f["order_id"] for f in facts if not f["is_return"]})
    cent = MONEY_UNIT // 100
    return {
        "tiles": {"revenue": money(revenue), "orders": orders, "order_lines": len(facts),
                  # averages to the cent, half to even
                  "average_order_value": money(half_even(revenue, orders * cent) * cent) if orders else None,
                  "customers": len({f["customer_canonical_id"] for f in facts} - {None}),
                  "gross_sales": money(sum(f["amount"] or 0 for f in facts if not f["is_return"])),
                  "returns": money(-sum(f["amount"] or 0 for f in facts if f["is_return"])),
                  "net_sales": money(revenue),
                  "return_lines": sum(1 for f in facts if f["is_return"]),
                  "return_orders": len({f["order_id"] for f in facts}) - orders},
        "series": {"by_month": by_month,
                   "by_country": ranked(group("country", True), "country"),
                   "by_category": ranked(group("category", False), "category"),
                   "top_products": top_products, "top_customers": top_customers},
    }


def counted(rows, key, what):
    """[{key, what: distinct canonical ids}] by count descending, then value, null last."""
    g = collections.defaultdict(set)
    for r in rows:
        g[r[key]].add(r["canonical_id"])
    return [{key: k, what: len(v)} for k, v in sorted(g.items(), key=lambda kv: (-len(kv[1]), null_last(kv[0])))]


def expect_customers(db):
    rows = db.execute("SELECT * FROM dim_customer").fetchall()
    cur = [r for r in rows if r["is_current"]]
    per = collections.Counter(r["canonical_id"] for r in rows)
    n = [(r["canonical_id"], sources_len(r["sources"])) for r in cur]
    months = collections.defaultdict(set)
    for r in cur:
        months[r["created_date"][:7] if r["created_date"] else None].add(r["canonical_id"])
    return {
        "tiles": {"customers": len({r["canonical_id"] for r in cur}), "versions": len(rows),
                  "with_history": sum(1 for v in per.values() if v > 1),
                  "duplicates_resolved": len({c for c, k in n if k > 1}),
                  "duplicate_records": sum(k - 1 for _c, k in n if k > 1),
                  "source_records": sum(k for _c, k in n), **segment_tiles(db)},
        "series": {"new_by_month": [{"month": m, "customers": len(v)}
                                    for m, v in sorted(months.items(), key=lambda kv: null_last(kv[0]))],
                   "by_country": counted(cur, "country", "customers"),
                   "by_gender": counted(cur, "gender", "customers"),
                   "by_segment": counted(cur, "segment", "customers"),
                   "segments": expect_segments(db)},
    }


# the RFM segment map (concord/segment.h: the CRAN rfm package's rfm_segment()
# documentation, version 0.3.0), in its order, then "Others"
RFM_SEGMENTS = ["Champions", "Potential Loyalist", "Loyal Customers", "Promising", "New Customers",
                "Can't Lose Them", "At Risk", "Need Attention", "About To Sleep", "Lost", "Others"]


def expect_segments(db):
    """The customers dashboard's segments series from customer_segment's rows, summed here."""
    if not has_table(db, "customer_segment"):
        return []
    rows = db.execute("SELECT segment, monetary FROM customer_segment WHERE segment IS NOT NULL").fetchall()
    n, total = len(rows), sum(r["monetary"] for r in rows)
    out = []
    for name in RFM_SEGMENTS:
        mine = [r["monetary"] for r in rows if r["segment"] == name]
        out.append({"segment": name, "customers": len(mine), "revenue": money(sum(mine)),
                    "customers_share": len(mine) / n if n else None,
                    "revenue_share": sum(mine) / total if total > 0 else None})
    return out


def segment_tiles(db):
    if not has_table(db, "customer_segment"):
        return {"segmented_customers": 0, "unsegmented_customers": 0}
    a, b = db.execute("SELECT count(segment), count(*) - count(segment) FROM customer_segment").fetchone()
    return {"segmented_customers": a, "unsegmented_customers": b}


def expect_products(db):
    rows = db.execute("SELECT * FROM dim_product").fetchall()
    cur = [r for r in rows if r["is_current"]]
    per = collections.Counter(r["canonical_id"] for r in rows)
    bands = []
    for lo, hi in BANDS:
        ids = {r["canonical_id"] for r in cur if r["price"] is not None and
               (lo is None or r["price"] >= lo) and (hi is None or r["price"] < hi)}
        bands.append({"min": money(lo), "max": money(hi), "products": len(ids)})
    ver = collections.defaultdict(list)
    for r in rows:
        ver[r["canonical_id"]].append(r)
    sold = collections.defaultdict(lambda: [0, 0, set()])
    for f in db.execute("SELECT product_canonical_id, quantity, amount, order_id, is_return FROM fact_sales"
                        " WHERE product_canonical_id IS NOT NULL"):
        s = sold[f[0]]
        s[0] += f[1] or 0
        s[1] += f[2] or 0
        if not f[4]:
            s[2].add(f[3])
    top = [{"canonical_id": k, "name": latest_version(ver[k], "product_sk")["name"] if ver.get(k) else None,
            "quantity": v[0], "revenue": money(v[1]), "orders": len(v[2])}
           for k, v in sorted(sold.items(), key=lambda kv: (-kv[1][0], kv[0]))[:10]]
    return {
        "tiles": {"products": len({r["canonical_id"] for r in cur}), "versions": len(rows),
                  "with_history": sum(1 for v in per.values() if v > 1),
                  "categories": len({r["category"] for r in cur} - {None}),
                  "price_unknown": len({r["canonical_id"] for r in cur if r["price"] is None})},
        "series": {"by_category": counted(cur, "category", "products"), "top_sellers": top,
                   "price_bands": bands},
    }


def expect_quality(db, run_id):
    runs = []
    for r in db.execute("SELECT * FROM runs ORDER BY seq DESC LIMIT 20"):
        try:
            counts = json.loads(r["counts"]) if r["counts"] is not None else None
        except ValueError:
            counts = None
        if isinstance(counts, dict):    # the run's details stay with GET /runs/{id}
            counts = {k: v for k, v in counts.items() if k not in ("files", "key_rules_detail", "matching")}
        dims = collections.OrderedDict()
        for q in db.execute("SELECT dimension, passed, failed FROM quality_results WHERE run_id = ?"
                            " ORDER BY dimension", (r["id"],)):
            d = dims.setdefault(q["dimension"], {"dimension": q["dimension"], "rules": 0, "rules_passed": 0,
                                                 "rules_failed": 0, "passed": 0, "failed": 0,
                                                 "rules_not_applicable": 0})
            d["rules"] += 1
            # a rule that checked no row is not applicable, never passed
            d["rules_failed" if q["failed"] else "rules_passed" if q["passed"] else "rules_not_applicable"] += 1
            d["passed"] += q["passed"]
            d["failed"] += q["failed"]
        tot = {k: sum(d[k] for d in dims.values()) for k in ("rules", "rules_passed", "rules_failed",
                                                              "passed", "failed", "rules_not_applicable")}
        tot["by_dimension"] = list(dims.values())
        runs.append({"id": r["id"], "state": r["state"], "created_at": r["created_at"],
                     "started_at": r["started_at"], "finished_at": r["finished_at"], "counts": counts,
                     "quality": tot})
    rules = []
    if run_id is not None:
        for q in db.execute("SELECT rule, dimension, target, passed, failed FROM quality_results"
                            " WHERE run_id = ? ORDER BY dimension, rule, target", (run_id,)):
            p, f = q["passed"], q["failed"]
            rules.append({"rule": q["rule"], "dimension": q["dimension"], "target": q["target"],
                          "passed": p, "failed": f, "pass_rate": p / (p + f) if p + f else None,
                          "status": "failed" if f else "passed" if p else "not_applicable"})
    return {"runs": runs, "latest": {"run_id": run_id, "rules": rules}}


def expect_sources(db):
    files = db.execute("SELECT id, name, status, format, row_count FROM files ORDER BY seq").fetchall()
    staged = {e: collections.defaultdict(set) for e in ENTITIES}
    for e in ENTITIES:
        if has_table(db, "stg_" + e):
            for r in db.execute('SELECT _file_id, _row FROM "stg_%s"' % e):
                staged[e][r[0]].add(r[1])
    refs = {e: set() for e in LINEAGE}
    for e, dim in LINEAGE.items():
        if not has_table(db, dim):
            continue
        for (text,) in db.execute("SELECT sources FROM %s" % dim):
            try:
                arr = json.loads(text) if text is not None else []
            except ValueError:
                continue
            for x in arr if isinstance(arr, list) else []:
                if isinstance(x, dict):
                    refs[e].add((x.get("file_id"), x.get("row")))
    q = collections.defaultdict(list)
    if has_table(db, "quarantine"):
        for r in db.execute("SELECT _file_id, entity, _row, reason FROM quarantine"):
            q[r[0]].append(r)
    issues = collections.Counter(r[0] for r in db.execute("SELECT _file_id FROM clean_issues")) \
        if has_table(db, "clean_issues") else {}
    facts = collections.Counter(r[0] for r in db.execute("SELECT _file_id FROM fact_sales")) \
        if has_table(db, "fact_sales") else {}
    out, tiles = [], {"files": len(files), "rows": 0, "quarantined": 0, "clean_issues": 0,
                      "facts_loaded": 0, "lost": 0, "files_with_loss": 0}
    for f in files:
        fid, rows = f["id"], f["row_count"]
        qents = collections.defaultdict(set)
        for r in q[fid]:
            qents[r["entity"]].add(r["_row"])
        ents = []
        for e in list(ENTITIES) + sorted(set(qents) - set(ENTITIES)):
            st, qr = staged.get(e, {}).get(fid, set()), qents.get(e, set())
            if not st and not qr:
                continue
            ents.append({"entity": e, "staged": len(st), "quarantined": len(qr),
                         "matched": len({(fid, r) for r in st} & refs[e]) if e in LINEAGE else None,
                         "lost": rows - len(st | qr) if rows is not None else None})
        lost = sum(x["lost"] for x in ents) if ents and rows is not None else None
        reasons = collections.Counter(r["reason"] for r in q[fid])
        doc = {"id": fid, "name": f["name"], "status": f["status"], "format": f["format"], "rows": rows,
               "entities": ents,
               "quarantined": {"rows": len(q[fid]), "records": len({r["_row"] for r in q[fid]}),
                               "by_reason": dict(reasons)},
               "clean_issues": issues.get(fid, 0), "facts_loaded": facts.get(fid, 0), "lost": lost}
        out.append(doc)
        tiles["rows"] += rows or 0
        tiles["quarantined"] += len(q[fid])
        tiles["clean_issues"] += doc["clean_issues"]
        tiles["facts_loaded"] += doc["facts_loaded"]
        if lost is not None:
            tiles["lost"] += lost
            tiles["files_with_loss"] += lost != 0
    return {"tiles": tiles, "files": out}


def latest_done(db):
    r = db.execute("SELECT id FROM runs WHERE state = 'done' ORDER BY seq DESC LIMIT 1").fetchone()
    return r[0] if r else None


def same(got, want, what):
    """Deep equality with the first differing path in the message."""
    def walk(g, w, path):
        if isinstance(w, dict):
            check(isinstance(g, dict), "%s%s: got %r, want an object" % (what, path, g))
            eq(sorted(g), sorted(w), "%s%s: keys" % (what, path))
            for k in w:
                walk(g[k], w[k], "%s.%s" % (path, k))
        elif isinstance(w, list):
            check(isinstance(g, list), "%s%s: got %r, want a list" % (what, path, g))
            eq(len(g), len(w), "%s%s: length" % (what, path))
            for i, (a, b) in enumerate(zip(g, w)):
                walk(a, b, "%s[%d]" % (path, i))
        else:
            check(type(g) is type(w) and g == w, "%s%s: got %r, want %r" % (what, path, g, w))
    walk(got, want, "")


def check_empty(doc, name, what):
    w = "%s (%s)" % (name, what)
    eq(doc.get("run_id"), None, w + ": run_id")
    if name == "sales":
        same({k: doc[k] for k in ("tiles", "series")}, {
            "tiles": {"revenue": "0.00", "orders": 0, "order_lines": 0, "average_order_value": None,
                      "customers": 0, "gross_sales": "0.00", "returns": "0.00", "net_sales": "0.00",
                      "return_lines": 0, "return_orders": 0},
            "series": {k: [] for k in ("by_month", "by_country", "by_category", "top_products",
                                       "top_customers")}}, w)
    elif name == "customers":
        check(all(v == 0 for v in doc["tiles"].values()), w + ": tiles %r" % doc["tiles"])
        check(all(v == [] for v in doc["series"].values()), w + ": series")
    elif name == "products":
        check(all(v == 0 for v in doc["tiles"].values()), w + ": tiles %r" % doc["tiles"])
        eq([b["products"] for b in doc["series"]["price_bands"]], [0] * len(BANDS), w + ": price bands")
        eq(doc["series"]["top_sellers"], [], w + ": top sellers")
    elif name == "quality":
        eq(doc["runs"], [], w + ": runs")
        eq(doc["latest"], {"run_id": None, "rules": []}, w + ": latest")
    else:
        eq(doc["files"], [], w + ": files")
        check(all(v == 0 for v in doc["tiles"].values()), w + ": tiles %r" % doc["tiles"])


# --------------------------------------------------------------- tests ---
# (query string, the filters it means)
SALES_QUERIES = [
    ("", {}),
    ("from=2024-03-01", {"from": "2024-03-01"}),
    ("to=2024-05-31", {"to": "2024-05-31"}),
    ("from=2024-01-01&to=2024-06-30", {"from": "2024-01-01", "to": "2024-06-30"}),
    ("from=2024-06-01&to=2024-06-01", {"from": "2024-06-01", "to": "2024-06-01"}),
    ("country=US", {"country": ["US"]}),
    ("country=us,de", {"country": ["US", "DE"]}),
    ("country=GB&country=FR&country=gb", {"country": ["GB", "FR"]}),
    ("country=NL", {"country": ["NL"]}),                 # only versions after a move
    ("country=ZZ", {"country": ["ZZ"]}),                 # nobody: zeros
    ("category=Bikes", {"category": ["Bikes"]}),
    ("category=Clothing&category=Accessories", {"category": ["Clothing", "Accessories"]}),
    ("category=Bikes&country=US,CA&from=2024-02-01&to=2024-11-30",
     {"category": ["Bikes"], "country": ["US", "CA"], "from": "2024-02-01", "to": "2024-11-30"}),
    ("from=2030-01-01", {"from": "2030-01-01"}),
    ("from=2025-01-01", {"from": "2025-01-01"}),         # the two tie orders: 0.05 / 2 -> "0.02"
    ("_=123&category=Accessories", {"category": ["Accessories"]}),   # _ parameters are not filters
]


@test("dashboards_sales_matches_sqlite")
def _(env):
    b, u = fixture_user(env)
    db = open_db(b, u)
    for q, flt in SALES_QUERIES:
        doc = get(b, u, "sales", q)
        what = "sales?" + q
        eq(doc.get("run_id"), latest_done(db), what + ": run_id")
        eq(doc.get("filters"), {"from": flt.get("from"), "to": flt.get("to"), "country": flt.get("country", []),
                                "category": flt.get("category", [])}, what + ": filters applied")
        same({k: doc[k] for k in ("tiles", "series")}, expect_sales(db, flt), what)
        if q == "from=2025-01-01":
            eq(doc["tiles"]["average_order_value"], "0.02", "0.025 rounded half to even")
        if q == "":
            check(doc["tiles"]["orders"] >= 150 and len(doc["series"]["by_month"]) >= 14,
                  "the fixture has the orders and months it promises")
            check(any(g["country"] is None for g in doc["series"]["by_country"]), "a null country group")
    return "%d filter sets" % len(SALES_QUERIES)


@test("dashboards_sales_type2_history_counts_old_country")
def _(env):
    # customer 1005 lived in GB until 2024-05-31, then in NL: her orders before
    # the move count under GB, after it under NL (customer_sk: the version on
    # the order date), and filtering on either finds only those orders
    b, u = fixture_user(env)
    db = open_db(b, u)
    rows = db.execute("SELECT f.order_date, c.country FROM fact_sales f JOIN dim_customer c"
                      " ON c.customer_sk = f.customer_sk WHERE f.customer_canonical_id = 1005").fetchall()
    before = [r for r in rows if r["order_date"] and r["order_date"] < "2024-06-01"]
    after = [r for r in rows if r["order_date"] and r["order_date"] >= "2024-06-01"]
    check(before and after, "customer 1005 ordered before and after moving")
    check(all(r["country"] == "GB" for r in before) and all(r["country"] == "NL" for r in after),
          "the fixture joins each fact to the version of its date")
    gb = get(b, u, "sales", "country=GB")
    nl = get(b, u, "sales", "country=NL")
    ids = lambda d: {c["canonical_id"] for c in d["series"]["top_customers"]}  # noqa: E731
    check(1005 in ids(gb), "1005 under GB")
    check(1005 in ids(nl), "1005 under NL")
    both = get(b, u, "sales", "country=GB,NL")
    eq(both["tiles"]["orders"], gb["tiles"]["orders"] + nl["tiles"]["orders"], "GB + NL orders")
    check(both["tiles"]["customers"] < gb["tiles"]["customers"] + nl["tiles"]["customers"],
          "customers who moved count once over both countries")


@test("dashboards_customers_products_match_sqlite")
def _(env):
    b, u = fixture_user(env)
    db = open_db(b, u)
    doc = get(b, u, "customers")
    eq(doc.get("filters"), {}, "customers: filters")
    same({k: doc[k] for k in ("tiles", "series")}, expect_customers(db), "customers")
    check(doc["tiles"]["with_history"] == 6 and doc["tiles"]["duplicates_resolved"] >= 7,
          "the fixture's history and merges are seen: %r" % doc["tiles"])
    doc = get(b, u, "products")
    same({k: doc[k] for k in ("tiles", "series")}, expect_products(db), "products")
    check(all(band["products"] > 0 for i, band in enumerate(doc["series"]["price_bands"]) if i != 3 and i != 4),
          "the fixture fills the bands it means to: %r" % doc["series"]["price_bands"])


@test("dashboards_quality_matches_sqlite")
def _(env):
    b, u = fixture_user(env)
    db = open_db(b, u)
    doc = get(b, u, "quality")
    eq(doc["run_id"], "r-fix-3", "quality: run_id (latest done run)")
    same({k: doc[k] for k in ("runs", "latest")}, expect_quality(db, "r-fix-3"), "quality")
    eq(len(doc["runs"]), 20, "the latest 20 runs of 26")


@test("dashboards_sources_matches_sqlite")
def _(env):
    b, u = fixture_user(env)
    db = open_db(b, u)
    doc = get(b, u, "sources")
    same({k: doc[k] for k in ("tiles", "files")}, expect_sources(db), "sources")
    check(isinstance(doc.get("lost_note"), str) and "0" in doc["lost_note"], "lost_note says lost should be 0")
    byid = {f["id"]: f for f in doc["files"]}
    # what the fixture was built to show (see its comments)
    eq(byid["fx-customers"]["lost"], 1, "fx-customers: row 40 went nowhere")
    eq(byid["fx-sales"]["lost"], 0, "fx-sales: quarantined lines are staged too, not counted twice")
    eq(byid["fx-notes"]["lost"], None, "fx-notes fed nothing")
    check("fx-gone" not in byid, "an unregistered file is not reported")


@test("dashboards_second_user_sees_zeros")
def _(env):
    b, _alice = fixture_user(env)
    bob = env.user(b, "dashbob")
    for name in NAMES:
        r = b.client.get("/api/v1/dashboards/" + name, token=bob.token)
        doc = expect_ok(r, 200, "bob: " + name)
        check_empty(doc, name, "another user's workspace")
        for leak in (b"fx-customers", b"Road Bike", b"r-fix-3", b"Customer 1"):
            check(leak not in r.body, "bob's %s dashboard shows alice's %r" % (name, leak))
    doc = get(b, bob, "sales", "country=US&from=2024-01-01")
    check_empty(doc, "sales", "bob, filtered")
    expect_error(b.client.get("/api/v1/dashboards/sales"), 401, "no token")


@test("dashboards_bad_filters_400")
def _(env):
    b, u = fixture_user(env)
    bad = [
        ("sales", "from=2024-02-30", "filter_date"),
        ("sales", "from=2023-02-29", "filter_date"),
        ("sales", "to=2024-13-01", "filter_date"),
        ("sales", "from=24-01-01", "filter_date"),
        ("sales", "from=2024-01-01T00:00:00Z", "filter_date"),
        ("sales", "from=", "filter_date"),
        ("sales", "to=today", "filter_date"),
        ("sales", "from=2024-05-01&to=2024-04-30", "filter_range"),
        ("sales", "from=2024-01-01&from=2024-02-01", "filter_repeated"),
        ("sales", "country=USA", "filter_country"),
        ("sales", "country=U1", "filter_country"),
        ("sales", "country=US,,DE", "filter_country"),
        ("sales", "country=", "filter_country"),
        ("sales", "category=", "filter_category"),
        ("sales", "category=" + "x" * 201, "filter_category"),
        ("sales", "category=%FF%FE", "filter_category"),
        ("sales", "countries=US", "filter_unknown"),
        ("sales", "from_date=2024-01-01", "filter_unknown"),
        ("sales", "&".join("country=%s" % c for c in ("A%s" % chr(65 + i % 26) + "," + "B%s" % chr(65 + i % 26)
                                                       for i in range(26))) + "&country=CA,CB,CC",
         "filter_too_many"),
        ("sales", "&".join("category=c%d" % i for i in range(70)), "filter_too_many"),
        ("customers", "country=US", "filter_unknown"),
        ("products", "category=Bikes", "filter_unknown"),
        ("quality", "from=2024-01-01", "filter_unknown"),
        ("sources", "x=1", "filter_unknown"),
    ]
    for name, q, code in bad:
        doc = get(b, u, name, q, status=400)
        errs = doc.get("errors") or [{}]
        eq(errs[0].get("code"), code, "%s?%s: error code" % (name, q[:60]))
    for name in ("nosuch", "Sales", "sales.json", "sales/x", ""):
        r = b.client.get("/api/v1/dashboards/" + name, token=u.token)
        expect_error(r, 404, "unknown dashboard %r" % name)
    r = b.client.request("POST", "/api/v1/dashboards/sales", body=b"{}", token=u.token,
                         headers={"Content-Type": "application/json"})
    expect_error(r, 405, "POST a dashboard")
    # a good filter still works after all that
    get(b, u, "sales", "country=" + urllib.parse.quote("us, de"))
    return "%d bad filter sets" % len(bad)


@test("dashboards_list")
def _(env):
    b, u = fixture_user(env)
    doc = expect_ok(b.client.get("/api/v1/dashboards", token=u.token), 200, "GET /dashboards")
    eq([d.get("name") for d in doc.get("dashboards", [])], list(NAMES), "dashboard names")
    eq(doc["dashboards"][0].get("filters"), ["from", "to", "country", "category"], "sales filters")
    eq(doc["dashboards"][0].get("url"), "/api/v1/dashboards/sales", "sales url")
    check(all(d["filters"] == [] for d in doc["dashboards"][1:]), "only sales takes filters")


@test("dashboards_of_a_real_run")
def _(env):
    # the crm-erp run of tests_pipeline: every dashboard against its model.db
    # and workspace.db, and no source record lost by the pipeline
    import tests_pipeline
    b, u, _run = tests_pipeline.crm_run(env)
    db = open_db(b, u)
    for q, flt in (("", {}), ("from=2012-01-01&to=2012-12-31", {"from": "2012-01-01", "to": "2012-12-31"}),
                   ("country=US,DE", {"country": ["US", "DE"]})):
        doc = get(b, u, "sales", q)
        eq(doc["run_id"], latest_done(db), "real run: run_id (other tests may have run it again)")
        same({k: doc[k] for k in ("tiles", "series")}, expect_sales(db, flt), "real run: sales?" + q)
    check(get(b, u, "sales")["tiles"]["orders"] > 1000, "real run: orders")
    same({k: v for k, v in get(b, u, "customers").items() if k in ("tiles", "series")}, expect_customers(db),
         "real run: customers")
    same({k: v for k, v in get(b, u, "products").items() if k in ("tiles", "series")}, expect_products(db),
         "real run: products")
    doc = get(b, u, "quality")
    same({k: doc[k] for k in ("runs", "latest")}, expect_quality(db, latest_done(db)), "real run: quality")
    doc = get(b, u, "sources")
    same({k: doc[k] for k in ("tiles", "files")}, expect_sources(db), "real run: sources")
    eq(doc["tiles"]["lost"], 0, "real run: records neither staged nor quarantined")
    check(all(f["lost"] == 0 for f in doc["files"]), "real run: lost per file %r" %
          [(f["name"], f["lost"]) for f in doc["files"] if f["lost"]])
    return "%d orders, %d files" % (get(b, u, "sales")["tiles"]["orders"], len(doc["files"]))
