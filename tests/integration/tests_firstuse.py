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

from harness import MONEY_UNIT, check, eq, expect_error, expect_ok
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
    dates as 12/1/2010 8:26."""
    import random
    r = random.Random(seed)
    items = [("85123A", "WHITE HANGING HEART T-LIGHT HOLDER", "2.55"), ("71053", "WHITE METAL LANTERN", "3.39"),
             ("84406B", "CREAM CUPID HEARTS COAT HANGER", "2.75"), ("22752", "SET 7 BABUSHKA NESTING BOXES", "7.65"),
             ("21730", "GLASS STAR FROSTED T-LIGHT HOLDER", "4.25")]
    rows, invoices = [], []
    for i in range(n):
        if invoices and r.random() < 0.06:
            orig = r.choice(invoices)          # a cancellation of an earlier invoice
            code, desc, price, qty, cust, country = orig[1]
            rows.append({"InvoiceNo": "C" + orig[0], "StockCode": code, "Description": desc,
                         "Quantity": str(-qty), "InvoiceDate": "12/%d/2010 %d:%02d" % (r.randint(1, 9), r.randint(8, 17),
                                                                                      r.randint(0, 59)),
                         "UnitPrice": price, "CustomerID": cust, "Country": country})
            continue
        inv = str(536365 + i // 3)
        code, desc, price = r.choice(items)
        qty = r.randint(1, 12)
        cust = "" if r.random() < 0.25 else str(r.randint(12346, 12420))
        country = r.choice(["United Kingdom", "France", "Germany"])
        rows.append({"InvoiceNo": inv, "StockCode": code, "Description": desc, "Quantity": str(qty),
                     "InvoiceDate": "12/%d/2010 %d:%02d" % (r.randint(1, 9), r.randint(8, 17), r.randint(0, 59)),
                     "UnitPrice": price, "CustomerID": cust, "Country": country})
        if cust:
            invoices.append((inv, (code, desc, price, qty, cust, country)))
    return rows


@test("retail_export_returns_missing_customers_proposed_mapping")
def _(env):
    import csv as _csv
    import io as _io
    from decimal import Decimal
    from tests_pipeline import model, run_and_wait
    b = backend(env, "main")
    u = env.user(b, "retailer")
    rows = retail_export()
    out = _io.StringIO()
    w = _csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    fid = expect_ok(b.client.upload("online_retail.csv", out.getvalue().encode(), "text/csv", token=u.token),
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
    run = run_and_wait(b, u)
    eq(run["state"], "done", "run")
    db = model(b, u)
    # independent reading of the file
    with_cust = [r for r in rows if r["CustomerID"]]
    returns = [r for r in with_cust if r["InvoiceNo"].startswith("C")]
    sales = [r for r in with_cust if not r["InvoiceNo"].startswith("C")]
    cents = lambda rs: int(sum(Decimal(r["UnitPrice"]) * int(r["Quantity"]) for r in rs) * 100)
    eq(db.execute("SELECT count(*) FROM fact_sales").fetchone()[0], len(with_cust), "facts: the lines with a customer")
    eq(db.execute("SELECT count(*) FROM quarantine WHERE reason = 'customer_missing'").fetchone()[0],
       len(rows) - len(with_cust), "the lines without a customer are quarantined")
    eq(db.execute("SELECT count(DISTINCT canonical_id) FROM dim_customer").fetchone()[0],
       len({r["CustomerID"] for r in with_cust}), "one customer per id: no phantom customer without a key")
    eq(db.execute("SELECT count(*) FROM fact_sales WHERE is_return").fetchone()[0], len(returns), "returns")
    eq(db.execute("SELECT count(*) FROM fact_sales WHERE is_return AND original_order_id IS NULL").fetchone()[0], 0,
       "every return names its original invoice")
    gross, ret = db.execute("SELECT sum(amount) FILTER (WHERE NOT is_return), sum(amount) FILTER (WHERE is_return)"
                            " FROM fact_sales").fetchone()
    eq(gross, cents(sales), "gross sales")
    eq(ret, cents(returns), "returns (negative)")
    eq(run["counts"]["return_rule"]["prefix"], "C", "the cancellation mark learned from the data")
    q = {r["rule"]: r for r in expect_ok(b.client.get("/api/v1/runs/%s/quality" % run["id"], token=u.token))["rules"]}
    eq((q["return_has_original"]["passed"], q["return_has_original"]["failed"]), (len(returns), 0),
       "the quality report counts returns and their originals")
    return "%d lines, %d returns, gross %s, returns %s" % (len(rows), len(returns), gross, ret)
