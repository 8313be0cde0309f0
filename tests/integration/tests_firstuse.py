"""A new user's first file alone: an orders export that names neither a
customer key nor a product (no customer or product file uploaded).  The
mapping's confirmation warns what a run will do; the preview shows the
first rows cleaned; the run ends "done" but says, with the count, that the
lines were quarantined and how to fix it; quality rules with nothing to
check are "not applicable", never passed.

The file is written here; its expected figures are counted here.
"""
import csv
import io
import time

from harness import MONEY_UNIT, check, eq, expect_error, expect_ok, money_text
from suite import test, backend
from tests_pipeline import run_and_wait

ROWS = 40


def bare_orders():
    """Order #, Order Date, Qty, Unit Price: nothing names a customer or a
    product.  Dates and prices in the forms the cleaners accept."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["Order #", "Order Date", "Qty", "Unit Price"])
    dates = ["1 Jun 2024", "11/09/2024", "2024-05-23"]
    prices = ["450.00", "$29.95", "USD 29.95"]
    for i in range(ROWS):
        w.writerow([str(5000 + i), dates[i % 3], str(1 + i % 4), prices[i % 3]])
    return out.getvalue().encode()


@test("firstuse_unattributable_file_warns_before_and_after_the_run")
def _(env):
    b = backend(env, "main")
    u = env.user(b, "firstuse")
    r = b.client.upload("orders_export.csv", bare_orders(), "text/csv", token=u.token)
    check(r.status == 201, "upload: %r" % r)
    fid = r.json["id"]
    m = expect_ok(b.client.get("/api/v1/files/%s/mapping" % fid, token=u.token))
    eq(isinstance(m.get("warnings"), list), True, "GET mapping carries warnings")
    cols = [{"source": c["source"], "target": c["target"]} for c in m["mapping"]["columns"]]
    targets = {c["source"]: c["target"] for c in cols}
    eq(targets.get("Order #"), "order_line.order_id", "Order # is the order id")

    # A preview of the first 20 rows, cleaned as a run would.
    pv = expect_ok(b.client.get("/api/v1/files/%s/preview" % fid, token=u.token))
    eq(pv["rows_read"], 20, "preview rows read")
    ol = [e for e in pv["entities"] if e["entity"] == "order_line"]
    check(ol, "the preview has order lines: %r" % [e["entity"] for e in pv["entities"]])
    ol = ol[0]
    eq(len(ol["rows"]), 20, "20 order lines previewed")
    names = [c["attribute"] for c in ol["columns"]]
    d = names.index("order_date")
    eq([row["values"][d] for row in ol["rows"][:3]], ["2024-06-01", "2024-11-09", "2024-05-23"],
       "dates cleaned (US order learned from the column)")
    p = names.index("unit_price")
    eq([row["values"][p] for row in ol["rows"][:3]], ["450.00", "29.95", "29.95"], "money cleaned")
    eq(ol["rows"][1]["raw"][p], "$29.95", "the raw value beside it")

    # A preview with a posted mapping (order id unmapped) is not stored.
    nograin = [dict(c, target=None) if c["source"] == "Order #" else c for c in cols]
    pv2 = expect_ok(b.client.post_json("/api/v1/files/%s/preview" % fid, {"columns": nograin},
                                       token=u.token))
    eq("grain_unmapped" in [w["code"] for w in pv2["warnings"]], True, "posted mapping without grain warned")
    m2 = expect_ok(b.client.get("/api/v1/files/%s/mapping" % fid, token=u.token))
    eq(m2["mapping"]["state"], "proposed", "a preview stores nothing")
    # A posted mapping naming a column the file does not have: 422.
    expect_error(b.client.post_json("/api/v1/files/%s/preview" % fid,
                                    {"columns": [{"source": "nope", "target": None}]}, token=u.token),
                 422, "preview with an unknown column")
    # Another user's file, or none: 404 (never another workspace's rows).
    other = env.user(b, "firstuse_other")
    expect_error(b.client.get("/api/v1/files/%s/preview" % fid, token=other.token), 404, "another user's file")
    expect_error(b.client.get("/api/v1/files/nosuchfile/preview", token=u.token), 404, "no such file")
    expect_error(b.client.get("/api/v1/files/%s/preview" % fid), 401, "preview without a token")

    # Confirming warns: no customer and no product reference.
    put = expect_ok(b.client.put_json("/api/v1/files/%s/mapping" % fid, {"columns": cols}, token=u.token))
    codes = sorted((w["code"], w.get("attribute")) for w in put["warnings"])
    eq(codes, [("reference_unmapped", "order_line.customer_id"),
               ("reference_unmapped", "order_line.product_id")], "confirm warnings")
    for w in put["warnings"]:
        check("quarantined" in w["detail"] and "map" in w["detail"], "says what happens and the fix: %r" % w)

    run = run_and_wait(b, u)
    eq(run["state"], "done", "the run itself succeeded")
    eq(run["counts"]["facts"], 0, "no fact loaded")
    eq(len(run["warnings"]), 1, "one warning: %r" % run["warnings"])
    w = run["warnings"][0]
    eq((w["code"], w["count"], w["reason"]), ("order_lines_quarantined", ROWS, "customer_missing"), "warning")
    check(w["detail"].startswith("%d of %d order lines quarantined: no customer" % (ROWS, ROWS)),
          "detail %r" % w["detail"])
    listed = expect_ok(b.client.get("/api/v1/runs", token=u.token))["runs"][0]
    eq(listed["warnings"], run["warnings"], "the runs list carries the warnings")

    q = expect_ok(b.client.get("/api/v1/runs/%s/quality" % run["id"], token=u.token))
    by = {x["rule"]: x for x in q["rules"]}
    for name in ("customer_name_present", "unit_price_positive", "ship_after_order"):
        eq((by[name]["status"], by[name]["checked"]), ("not_applicable", 0), name + " over no rows")
    eq(by["sales_customer_resolved"]["status"], "failed", "unresolved customers fail")
    # every line was set aside for its customer: none was checked for its
    # product, so that rule did not pass either
    eq((by["sales_product_resolved"]["status"], by["sales_product_resolved"]["checked"]),
       ("not_applicable", 0), "no line got as far as its product")

    # The amounts' currency, as written in the file ($ and USD).
    sales = expect_ok(b.client.get("/api/v1/dashboards/sales", token=u.token))
    eq((sales["currency"], sales["currencies"]), ("USD", ["USD"]), "sales currency")
    quality = expect_ok(b.client.get("/api/v1/dashboards/quality", token=u.token))
    check(quality["runs"][0]["quality"]["rules_not_applicable"] > 0, "quality dashboard counts rules over no rows")
    # the trend carries each run's counts without the run's details, which
    # the run itself answers
    full = expect_ok(b.client.get("/api/v1/runs/%s" % run["id"], token=u.token))["run"]["counts"]
    trend = quality["runs"][0]["counts"]
    for k in ("files", "key_rules_detail", "matching"):
        check(k in full, "GET /runs/{id} counts.%s" % k)
        check(k not in trend, "the quality trend leaves out counts.%s" % k)
    # (the run's answer lists its warnings beside its counts; the trend keeps them in them)
    eq(trend.get("warnings"), run["warnings"], "the quality trend's counts.warnings")
    eq({k: v for k, v in trend.items() if k != "warnings"},
       {k: v for k, v in full.items() if k not in ("files", "key_rules_detail", "matching", "warnings")},
       "the quality trend's counts are the run's other counts")


@test("firstuse_clean_run_has_no_warnings")
def _(env):
    b = backend(env, "main")
    u = env.user(b, "firstuse2")
    data = b"customer_id,first_name,last_name,country\nC1,Ana,Silva,PT\nC2,Li,Wei,CN\n"
    r = b.client.upload("customers.csv", data, "text/csv", token=u.token)
    check(r.status == 201, "upload: %r" % r)
    m = expect_ok(b.client.get("/api/v1/files/%s/mapping" % r.json["id"], token=u.token))
    eq(m["warnings"], [], "a customer file needs no order-line checks")
    run = run_and_wait(b, u)
    eq((run["state"], run["warnings"]), ("done", []), "done, no warnings")


# ---- a sales export alone is enough (issue: the first ten minutes) -------

def messy_orders(n=500, seed=3):
    """A 500-line orders export as a web shop writes it: the customer by
    name and e-mail (some names written "Last, First"), the item by name,
    dates and prices in several forms, countries spelled several ways."""
    import random
    r = random.Random(seed)
    people = [("Quinn", "Dubois", "quinn.dubois@example.com", ["FR", "France"]),
              ("Ana", "Silva", "ana.silva@example.org", ["U.S.", "United States", "USA"]),
              ("Bo", "Chen", "bo.chen@example.net", ["USA", "US"]),
              ("Dana", "Reyes", "dana.reyes@example.com", ["United States"]),
              ("Lena", "Berg", "lena@example.de", ["Germany", "DE"]),
              ("Omar", "Haddad", "omar.haddad@example.com", ["U.S."])]
    items = [("Desk Lamp", "450.00"), ("Notebook", "$29.95"), ("Pen Set", "USD 29.95"),
             ("Office Chair", "$1,249.00"), ("Stapler", "7.5")]
    dates = ["1 Jun 2024", "11/09/2024", "2024-05-23", "3 March 2024", "2024/02/29"]
    rows = []
    for i in range(n):
        f, l, e, cs = r.choice(people)
        name = "%s, %s" % (l, f) if r.random() < 0.15 else "%s %s" % (f, l)
        item, price = r.choice(items)
        rows.append({"Order #": "SO-%05d" % (10000 + i // 2), "Cust Name": name, "E-mail": e,
                     "Order Date": r.choice(dates), "Item": item, "Qty": str(r.randint(1, 4)),
                     "Unit Price": price, "Country": r.choice(cs)})
    return rows, people, items


def money(s):
    from decimal import Decimal
    return Decimal(s.replace("USD", "").replace("$", "").replace(",", "").strip())


@test("firstuse_orders_export_alone_gives_revenue_with_the_proposed_mapping")
def _(env):
    import csv as _csv
    import io as _io
    from tests_pipeline import model, run_and_wait
    b = backend(env, "main")
    u = env.user(b, "shopalone")
    rows, people, items = messy_orders()
    out = _io.StringIO()
    w = _csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    fid = expect_ok(b.client.upload("orders.csv", out.getvalue().encode(), "text/csv", token=u.token),
                    201)["file"]["id"]
    m = expect_ok(b.client.get("/api/v1/files/%s/mapping" % fid, token=u.token))["mapping"]
    # confirmed unchanged, as a new user would
    expect_ok(b.client.put_json("/api/v1/files/%s/mapping" % fid,
                                {"columns": [{"source": c["source"], "target": c["target"]} for c in m["columns"]]},
                                token=u.token))
    run = run_and_wait(b, u)
    eq(run["state"], "done", "run")
    eq(run["warnings"], [], "no warning: every line is attributed")
    db = model(b, u)
    facts, units = db.execute("SELECT count(*), sum(amount) FROM fact_sales").fetchone()
    want = sum(money(r["Unit Price"]) * int(r["Qty"]) for r in rows)
    eq(facts, len(rows), "every order line is a fact")
    eq(db.execute("SELECT count(*) FROM quarantine").fetchone()[0], 0, "nothing quarantined")
    eq(units, int(want * MONEY_UNIT), "revenue equals the file's sum of quantity x unit price (%s)" % want)
    # one customer per person (by e-mail), each order's customer present
    by_mail = {r["email"]: r for r in db.execute("SELECT email, canonical_id, full_name, country FROM dim_customer"
                                               " WHERE is_current")}
    eq(sorted(by_mail), sorted(p[2] for p in people), "one customer per person")
    eq(len({r["canonical_id"] for r in by_mail.values()}), len(people), "distinct customers")
    line_customer = {(r["_file_id"], r["_row"]): r["customer_canonical_id"] for r in db.execute(
        "SELECT _file_id, _row, customer_canonical_id FROM fact_sales")}
    cid = {r["email"]: r["canonical_id"] for r in by_mail.values()}
    for i, r in enumerate(rows):
        eq(line_customer[(fid, i + 1)], cid[r["E-mail"]], "line %d's customer" % (i + 1))
    eq(sorted(x[0] for x in db.execute("SELECT name FROM dim_product")), sorted(i[0] for i in items),
       "one product per item name")
    dash = expect_ok(b.client.get("/api/v1/dashboards/sales", token=u.token))
    return "%d lines, revenue %s, %d customers; dashboard %r" % (facts, want, len(by_mail),
                                                             dash.get("tiles", {}).get("revenue"))


def retail_export(n=600, seed=8):
    """A store's transaction export as such stores write it: invoices, a
    'C' before the number for a cancellation (negative quantity), a
    quarter of the lines without a customer, stock codes with letters,
    sub-cent unit prices (0.001, 0.0015), dates written two ways
    (12/1/2010 8:26 and 2010-12-03 10:05:00)."""
    import random
    r = random.Random(seed)
    items = [("85123A", "WHITE HANGING HEART T-LIGHT HOLDER", "2.55"), ("71053", "WHITE METAL LANTERN", "3.39"),
             ("84406B", "CREAM CUPID HEARTS COAT HANGER", "2.75"), ("22752", "SET 7 BABUSHKA NESTING BOXES", "7.65"),
             ("21730", "GLASS STAR FROSTED T-LIGHT HOLDER", "4.25"), ("PADS", "PADS TO MATCH ALL CUSHIONS", "0.001"),
             ("23084", "RABBIT NIGHT LIGHT", "0.0015")]

    def when():
        d, hh, mm = r.randint(1, 9), r.randint(8, 17), r.randint(0, 59)
        if r.random() < 0.3:
            return "2010-12-%02d %02d:%02d:00" % (d, hh, mm), "2010-12-%02d" % d
        return "12/%d/2010 %d:%02d" % (d, hh, mm), "2010-12-%02d" % d

    rows, invoices = [], []
    for i in range(n):
        if invoices and r.random() < 0.06:
            orig = r.choice(invoices)          # a cancellation of an earlier invoice
            code, desc, price, qty, cust, country = orig[1]
            text, day = when()
            rows.append({"InvoiceNo": "C" + orig[0], "StockCode": code, "Description": desc,
                         "Quantity": str(-qty), "InvoiceDate": text, "UnitPrice": price, "CustomerID": cust,
                         "Country": country, "_day": day})
            continue
        inv = str(536365 + i // 3)
        code, desc, price = r.choice(items)
        qty = r.randint(1, 12)
        cust = "" if r.random() < 0.25 else str(r.randint(12346, 12420))
        country = r.choice(["United Kingdom", "France", "Germany"])
        text, day = when()
        rows.append({"InvoiceNo": inv, "StockCode": code, "Description": desc, "Quantity": str(qty),
                     "InvoiceDate": text, "UnitPrice": price, "CustomerID": cust, "Country": country, "_day": day})
        invoices.append((inv, (code, desc, price, qty, cust, country)))
    return rows


def retail_file(rows, sep=","):
    """The rows as CSV text; sep ", " writes the ", "-separated dialect."""
    import csv as _csv
    import io as _io
    cols = [k for k in rows[0] if not k.startswith("_")]
    out = _io.StringIO()
    w = _csv.writer(out, lineterminator="\n")
    w.writerow(cols)
    w.writerows([r[c] for c in cols] for r in rows)
    text = out.getvalue()
    return (text.replace(",", ", ") if sep == ", " else text).encode()


def retail_expect(rows, unknown):
    """What the run must load, counted here from the rows: the lines it
    keeps (with a customer; all of them with the unknown member), and
    gross, returns and net in units of 10^-4 (Decimal, exact)."""
    from decimal import Decimal
    kept = [r for r in rows if r["CustomerID"] or unknown]
    ret = [r for r in kept if r["InvoiceNo"].startswith("C")]
    units = lambda rs: int(sum(Decimal(r["UnitPrice"]) * int(r["Quantity"]) for r in rs) * MONEY_UNIT)
    return {"facts": len(kept), "returns": len(ret), "quarantined": len(rows) - len(kept),
            "customers": len({r["CustomerID"] for r in rows if r["CustomerID"]}),
            "unknown_lines": sum(1 for r in kept if not r["CustomerID"]),
            "gross": units([r for r in kept if r not in ret]), "returned": -units(ret), "net": units(kept),
            # an order holds a sale line; an invoice of returns only is not one
            "orders": len({r["InvoiceNo"] for r in kept if r not in ret}),
            "return_orders": len({r["InvoiceNo"] for r in kept}) - len({r["InvoiceNo"] for r in kept
                                                                          if r not in ret}),
            "prices": int(sum(Decimal(r["UnitPrice"]) for r in kept) * MONEY_UNIT),
            "with_original": sum(1 for r in ret if any(o["InvoiceNo"] == r["InvoiceNo"][1:] and o in kept
                                                       for o in kept))}


def retail_check(b, u, rows, unknown, fid):
    """Runs with the setting and checks the model and the dashboard
    against retail_expect()."""
    from tests_pipeline import model
    want = retail_expect(rows, unknown)
    body = {"settings": {"missing_customer": "unknown_customer" if unknown else "quarantine"}}
    r = b.client.post_json("/api/v1/runs", body, token=u.token)
    doc = expect_ok(r, 202, "POST /runs with settings")
    eq(doc["run"]["settings"], body["settings"], "the run keeps its settings")
    end = time.time() + 300
    while True:
        run = expect_ok(b.client.get("/api/v1/runs/" + doc["id"], token=u.token))["run"]
        if run["state"] not in ("queued", "running") or time.time() > end:
            break
        time.sleep(0.3)
    eq(run["state"], "done", "run")
    db = model(b, u)
    one = lambda q: db.execute(q).fetchone()[0]
    mode = "unknown_customer" if unknown else "quarantine"
    eq(one("SELECT count(*) FROM fact_sales"), want["facts"], mode + ": facts")
    eq(one("SELECT count(*) FROM quarantine WHERE reason = 'customer_missing'"), want["quarantined"],
       mode + ": lines without a customer quarantined")
    eq(one("SELECT count(*) FROM quarantine"), want["quarantined"], mode + ": nothing else quarantined")
    eq(one("SELECT count(*) FROM dim_customer WHERE natural_key IS NOT NULL"), want["customers"],
       mode + ": one customer per id")
    eq(one("SELECT count(*) FROM dim_customer WHERE natural_key IS NULL"), 1 if unknown and want["unknown_lines"] else 0,
       mode + ": the unknown member, only when chosen: no phantom customer")
    eq(one("SELECT count(*) FROM fact_sales WHERE customer_sk = 0"), want["unknown_lines"],
       mode + ": sales of the unknown member")
    eq(one("SELECT count(*) FROM fact_sales WHERE customer_sk IS NULL"), 0, mode + ": every fact has its customer row")
    eq(one("SELECT count(*) FROM fact_sales WHERE is_return"), want["returns"], mode + ": returns")
    eq(one("SELECT count(*) FROM fact_sales WHERE is_return AND original_order_id IS NOT NULL"),
       want["with_original"], mode + ": returns that name their original invoice")
    # money: exact sums, sub-cent prices kept (the sum over the facts is the
    # sum over the source)
    eq(one("SELECT sum(unit_price) FROM fact_sales"), want["prices"], mode + ": sum of unit prices, exact")
    eq(one("SELECT sum(amount) FROM fact_sales"), want["net"], mode + ": sum of amounts = the file's")
    eq(one("SELECT count(*) FROM fact_sales WHERE typeof(amount) <> 'integer'"), 0, mode + ": no float amount")
    eq(one("SELECT count(*) FROM clean_changes WHERE rule = 'money_round'"), 0, mode + ": no price rounded")
    days = {(fid, i + 1): r["_day"] for i, r in enumerate(rows)}
    bad = [(r[0], r[1]) for r in db.execute("SELECT _row, order_date FROM fact_sales") if days[(fid, r[0])] != r[1]]
    eq(bad, [], mode + ": dates of both forms read")
    t = expect_ok(b.client.get("/api/v1/dashboards/sales", token=u.token))["tiles"]
    eq((t["gross_sales"], t["returns"], t["net_sales"], t["revenue"], t["return_lines"]),
       (money_text(want["gross"]), money_text(want["returned"]), money_text(want["net"]),
        money_text(want["net"]), want["returns"]), mode + ": gross, returns, net on the dashboard")
    eq((t["orders"], t["return_orders"]), (want["orders"], want["return_orders"]),
       mode + ": orders without the invoices that only cancel, counted apart")
    assert want["return_orders"] > 0, "the export holds cancellation invoices"
    # the API's export prints the exact decimal of a sub-cent price
    tab = expect_ok(b.client.get("/api/v1/tables/fact_sales?unit_price=0.001&_size=1", token=u.token))
    if any(r["UnitPrice"] == "0.001" for r in rows if r["CustomerID"] or unknown):
        eq(tab["rows"][0]["unit_price"], "0.001", mode + ": a sub-cent price through the tables API")
    return run, want


@test("retail_export_returns_missing_customers_proposed_mapping")
def _(env):
    b = backend(env, "main")
    u = env.user(b, "retailer")
    rows = retail_export()
    fid = expect_ok(b.client.upload("online_retail.csv", retail_file(rows), "text/csv", token=u.token),
                    201)["file"]["id"]
    m = expect_ok(b.client.get("/api/v1/files/%s/mapping" % fid, token=u.token))["mapping"]
    targets = {c["source"]: c["target"] for c in m["columns"]}
    want = {"InvoiceNo": "order_line.order_id", "StockCode": "order_line.product_id",
            "Description": "product.name", "Quantity": "order_line.quantity",
            "InvoiceDate": "order_line.order_date", "UnitPrice": "order_line.unit_price",
            "CustomerID": "order_line.customer_id", "Country": "customer.country"}
    eq({k: targets[k] for k in want}, want, "the proposal for a store's export")
    prof = {c["name"]: c["type"] for c in expect_ok(b.client.get("/api/v1/files/" + fid,
                                                                token=u.token))["profile"]["columns"]}
    eq((prof["InvoiceNo"], prof["StockCode"]), ("text", "text"), "codes with letters are text, not integers")
    run, w = retail_check(b, u, rows, False, fid)
    eq(run["counts"]["return_rule"]["prefix"], "C", "the cancellation mark learned from the data")
    q = {r["rule"]: r for r in expect_ok(b.client.get("/api/v1/runs/%s/quality" % run["id"], token=u.token))["rules"]}
    eq((q["return_has_original"]["passed"], q["return_has_original"]["failed"]),
       (w["with_original"], w["returns"] - w["with_original"]), "the quality report counts returns and their originals")
    # the same store, the other choice: every line kept, one unknown member
    run2, w2 = retail_check(b, u, rows, True, fid)
    eq(run2["counts"].get("unknown_customer_lines"), w2["unknown_lines"], "the run counts the unknown member's lines")
    # the CLI takes the same setting, checked the same way
    import json as _json
    p = b.cli("run", "--user", u.name, "--missing-customer", "drop", check_rc=False)
    check(p.returncode != 0 and b"missing_customer is" in p.stderr, "a bad --missing-customer: %r" % p.stderr[-200:])
    run3 = _json.loads(b.cli("run", "--user", u.name, "--missing-customer", "quarantine").stdout)
    eq((run3["state"], run3["settings"], run3["counts"]["facts"], run3["counts"]["quarantined"]),
       ("done", {"missing_customer": "quarantine"}, w["facts"], w["quarantined"]), "concord run --missing-customer")
    return "%d lines: %d facts / %d quarantined, then %d facts with %d of the unknown member; %d returns; " \
        "gross %s returns %s net %s" % (len(rows), w["facts"], w["quarantined"], w2["facts"], w2["unknown_lines"],
                                        w["returns"], money_text(w["gross"]), money_text(w["returned"]),
                                        money_text(w["net"]))


@test("retail_export_comma_space_dialect")
def _(env):
    """The same export written ", "-separated: the profile and the run
    read the values without the separator's spaces."""
    b = backend(env, "main")
    u = env.user(b, "retailer-spaced")
    rows = retail_export(n=300, seed=9)
    fid = expect_ok(b.client.upload("online_retail_spaced.csv", retail_file(rows, ", "), "text/csv",
                                    token=u.token), 201)["file"]["id"]
    prof = expect_ok(b.client.get("/api/v1/files/" + fid, token=u.token))["profile"]["columns"]
    eq([c["name"] for c in prof], [k for k in rows[0] if not k.startswith("_")], "column names without spaces")
    types = {c["name"]: c["type"] for c in prof}
    eq((types["Quantity"], types["UnitPrice"]), ("integer", "decimal"), "numbers typed as numbers")
    lead = [c["name"] for c in prof for v in (c.get("min_value"), c.get("max_value")) if isinstance(v, str) and
            v.startswith(" ")]
    eq(lead, [], "no profiled value keeps the separator's space")
    run, w = retail_check(b, u, rows, False, fid)
    return "%d lines, %d facts, net %s" % (len(rows), w["facts"], money_text(w["net"]))
