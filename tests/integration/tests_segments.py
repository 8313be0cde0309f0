"""Customer segments: RFM scores and segments of a real run (customer_segment).

The crm-erp run of tests_pipeline is read back with Python's sqlite3: the
scores and segments of every customer are computed here from fact_sales
with the rules of concord/segment.h (as of the model's last order date;
frequency = distinct orders with a sale line; monetary = net amount;
score = ceil(5 * c / n) with c the scored customers whose value is <= the
customer's, ties included; the CRAN rfm package's segment map, the first
rule that holds) and compared with the table the run wrote, with the
customers dashboard's segments series, with the tables API (JSON and its
CSV export), and bad filters on the table get a 400.
"""
import bisect
import csv
import datetime
import io
import urllib.parse

from harness import check, eq, expect_error, expect_ok, money_text
from suite import test

# concord/segment.h: the rfm package's map (rfm_segment() documentation,
# version 0.3.0): name, (R lo, hi), (F lo, hi), (M lo, hi)
RULES = [
    ("Champions", (5, 5), (5, 5), (5, 5)),
    ("Potential Loyalist", (3, 5), (3, 5), (2, 5)),
    ("Loyal Customers", (2, 4), (2, 4), (2, 4)),
    ("Promising", (3, 4), (1, 3), (3, 5)),
    ("New Customers", (4, 5), (1, 3), (1, 5)),
    ("Can't Lose Them", (1, 2), (3, 4), (4, 5)),
    ("At Risk", (1, 2), (2, 5), (4, 5)),
    ("Need Attention", (1, 3), (3, 5), (3, 5)),
    ("About To Sleep", (2, 3), (1, 3), (1, 4)),
    ("Lost", (1, 1), (1, 5), (1, 5)),
]
COLUMNS = ["canonical_id", "last_order_date", "recency_days", "frequency", "monetary", "r_score",
           "f_score", "m_score", "rfm", "segment", "as_of"]


def segment_of(r, f, m):
    for name, (a, b), (c, d), (e, g) in RULES:
        if a <= r <= b and c <= f <= d and e <= m <= g:
            return name
    return "Others"


def expected(db):
    """{canonical_id: row dict} computed from fact_sales here."""
    facts = db.execute("SELECT customer_canonical_id AS cid, order_id, order_date, amount, is_return"
                       " FROM fact_sales").fetchall()
    sale_dates = [f["order_date"] for f in facts if not f["is_return"] and f["order_date"] is not None]
    as_of = max(sale_dates) if sale_dates else None
    per = {}
    for f in facts:
        if f["cid"] is None or f["cid"] == 0:
            continue
        c = per.setdefault(f["cid"], {"last": None, "orders": set(), "money": 0})
        c["money"] += f["amount"] or 0
        if not f["is_return"]:
            c["orders"].add(f["order_id"])
            if f["order_date"] is not None and (c["last"] is None or f["order_date"] > c["last"]):
                c["last"] = f["order_date"]
    scored = {k: v for k, v in per.items() if v["orders"] and v["last"] is not None}
    n = len(scored)

    def scores(key):
        vals = sorted(key(v) for v in scored.values())
        out = {}
        for k, v in scored.items():
            c = bisect.bisect_right(vals, key(v))       # values <= v, ties included
            out[k] = -(-5 * c // n)                      # ceil(5 c / n)
        return out
    rs = scores(lambda v: v["last"])
    fs = scores(lambda v: len(v["orders"]))
    ms = scores(lambda v: v["money"])
    rows = {}
    for k, v in per.items():
        row = {"canonical_id": k, "last_order_date": v["last"], "frequency": len(v["orders"]),
               "monetary": v["money"], "as_of": as_of, "recency_days": None, "r_score": None,
               "f_score": None, "m_score": None, "rfm": None, "segment": None}
        if v["last"] is not None:
            row["recency_days"] = (datetime.date.fromisoformat(as_of) -
                                   datetime.date.fromisoformat(v["last"])).days
        if k in scored:
            row.update(r_score=rs[k], f_score=fs[k], m_score=ms[k], rfm="%d%d%d" % (rs[k], fs[k], ms[k]),
                       segment=segment_of(rs[k], fs[k], ms[k]))
        rows[k] = row
    return rows


def table_pages(b, u, fmt, **params):
    """Every page of /tables/customer_segment{fmt} (following Link)."""
    path = "/api/v1/tables/customer_segment%s?%s" % (fmt, urllib.parse.urlencode(dict(params, _size=1000)))
    bodies = []
    while path:
        r = b.client.get(path, token=u.token)
        eq(r.status, 200, "GET " + path)
        bodies.append(r)
        link = r.header("Link")
        path = link[1:link.index(">")] if link else None
    return bodies


@test("segments_of_a_real_run_match_python")
def _(env):
    import tests_dashboards
    import tests_pipeline
    b, u, run = tests_pipeline.crm_run(env)
    db = tests_dashboards.open_db(b, u)
    want = expected(db)
    got = {r["canonical_id"]: dict(r) for r in db.execute("SELECT * FROM customer_segment")}
    eq(sorted(got), sorted(want), "customers of customer_segment")
    bad = [(k, got[k], want[k]) for k in want if got[k] != want[k]]
    eq(bad[:3], [], "rows that differ from the computation here (%d)" % len(bad))
    check(len(want) > 100, "customers with facts: %d" % len(want))
    names = {r["segment"] for r in want.values() if r["segment"]}
    check(len(names) >= 4, "segments used: %r" % sorted(names))
    # the unknown customer (canonical id 0) and customers without facts get no row
    eq(db.execute("SELECT count(*) FROM customer_segment WHERE canonical_id = 0").fetchone()[0], 0,
       "no segment for canonical id 0")
    # the run's report: the phase is timed and counted
    r = expect_ok(b.client.get("/api/v1/runs/" + run["id"], token=u.token))
    r = r.get("run", r)
    check(isinstance(r["timings_ms"].get("segments"), int), "timings_ms.segments: %r" % r["timings_ms"])
    eq(r["counts"].get("segment_customers"), len(want), "counts.segment_customers")
    eq(r["counts"].get("segmented_customers"), sum(1 for x in want.values() if x["segment"]),
       "counts.segmented_customers")
    return "%d customers, %d segments; segments %d ms of aggregate %d ms" % (
        len(want), len(names), r["timings_ms"]["segments"], r["timings_ms"]["aggregate"])


@test("segments_dashboard_series")
def _(env):
    import tests_dashboards
    import tests_pipeline
    b, u, _run = tests_pipeline.crm_run(env)
    db = tests_dashboards.open_db(b, u)
    want = [r for r in expected(db).values() if r["segment"]]
    total = sum(r["monetary"] for r in want)
    series = []
    for name in [x[0] for x in RULES] + ["Others"]:
        mine = [r["monetary"] for r in want if r["segment"] == name]
        series.append({"segment": name, "customers": len(mine), "revenue": money_text(sum(mine)),
                       "customers_share": len(mine) / len(want), "revenue_share": sum(mine) / total})
    doc = tests_dashboards.get(b, u, "customers")
    got = doc["series"]["segments"]
    eq([g["segment"] for g in got], [s["segment"] for s in series], "segments in the map's order")
    for g, w in zip(got, series):
        eq({k: g[k] for k in ("segment", "customers", "revenue")},
           {k: w[k] for k in ("segment", "customers", "revenue")}, "segment " + w["segment"])
        check(abs(g["customers_share"] - w["customers_share"]) < 1e-12 and
              abs(g["revenue_share"] - w["revenue_share"]) < 1e-12, "shares of %s: %r" % (w["segment"], g))
    eq(doc["tiles"]["segmented_customers"], len(want), "tiles.segmented_customers")
    eq(sum(g["customers"] for g in got), len(want), "segment sizes add up")


@test("segments_table_browsable_and_exportable")
def _(env):
    import tests_dashboards
    import tests_pipeline
    b, u, _run = tests_pipeline.crm_run(env)
    db = tests_dashboards.open_db(b, u)
    want = expected(db)
    lst = expect_ok(b.client.get("/api/v1/tables", token=u.token))["tables"]
    t = [x for x in lst if x["name"] == "customer_segment"]
    eq(len(t), 1, "customer_segment is listed")
    eq([c["name"] for c in t[0]["columns"]], COLUMNS, "columns")
    eq({c["name"]: c["type"] for c in t[0]["columns"]}["monetary"], "money", "monetary is money")
    eq(t[0]["rows"], len(want), "rows")
    # CSV export, every page: the rows computed here, money as decimals
    rows = []
    for i, r in enumerate(table_pages(b, u, ".csv")):
        eq(r.header("Content-Type"), "text/csv; charset=utf-8", "CSV Content-Type")
        recs = list(csv.reader(io.StringIO(r.body.decode("utf-8"), newline="")))
        eq(recs[0], COLUMNS, "CSV header (page %d)" % i)
        rows += recs[1:]
    def text(v, k):
        if v is None:
            return ""
        return money_text(v) if k == "monetary" else str(v)
    eq(sorted(rows, key=lambda x: int(x[0])),
       [[text(w[k], k) for k in COLUMNS] for _id, w in sorted(want.items())], "CSV export")
    # filtered by segment (JSON)
    seg = next(w["segment"] for w in want.values() if w["segment"])
    got = []
    for r in table_pages(b, u, ".json", segment=seg):
        got += [x["canonical_id"] for x in r.json["rows"]]
    eq(sorted(got), sorted(k for k, w in want.items() if w["segment"] == seg), "segment=" + seg)
    # bad input: 400, nothing else
    for q in ("monetary__gt=abc", "r_score__gt=x", "nosuchcolumn=1", "_sort=nosuch"):
        expect_error(b.client.get("/api/v1/tables/customer_segment?" + q, token=u.token), 400, q)
    return "%d rows exported" % len(rows)
