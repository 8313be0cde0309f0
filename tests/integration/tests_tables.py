"""The star schema's tables: GET /api/v1/tables and /api/v1/tables/NAME[.json|.csv|.ndjson].

Runs (which build the star schema) are not needed to test the read side: each
user here gets a workspace through the API (GET /api/v1/files opens it), then
the test writes fixtures/star.sql into DATA/workspaces/<user-id>/model.db with
Python's sqlite3, where a run leaves its result (the service attaches that
file to workspace.db as "model").  The fixture mirrors core/model.c's DDL; the
unit test test_query.c checks that it still does.

Expected values are computed here from the database with Python's sqlite3,
csv and json modules, never from the service's answers.
"""
import csv
import io
import json
import os
import re
import sqlite3
import time
import urllib.parse

from harness import Skip, SetupError, check, eq, expect_error, expect_ok, money_text, parse_rfc3339
from suite import test, backend

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "fixtures", "star.sql")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\0")


# ------------------------------------------------------------ fixtures ---
def workspace_dir(b, c, user):
    """The user's workspace directory (created by the service on first use)."""
    me = expect_ok(c.get("/api/v1/me", token=user.token), 200, "me")
    uid = me.get("user", {}).get("id")
    check(isinstance(uid, str) and re.fullmatch(r"[0-9a-z_-]{1,64}", uid), "/me: odd user id %r" % (uid,))
    expect_ok(c.get("/api/v1/files", token=user.token), 200, "open the workspace")
    d = os.path.join(b.data, "workspaces", uid)
    if not os.path.exists(os.path.join(d, "workspace.db")):
        raise SetupError("no workspace database in %s" % d)
    if os.path.exists(os.path.join(d, "model.db")):
        raise SetupError("the workspace of %s already has a model.db" % user.name)
    return d


def load_sql(path, sql):
    db = sqlite3.connect(path, timeout=30)
    try:
        db.executescript(sql)
        db.commit()
    finally:
        db.close()


def star_user(env, name="tabby", extra_sql=None):
    """A user of `main` whose model.db holds the fixture (+ extra_sql)."""
    def mk():
        b = backend(env, "main")
        u = env.user(b, name)
        d = workspace_dir(b, b.client, u)
        path = os.path.join(d, "model.db")
        with open(FIXTURE, encoding="utf-8") as f:
            load_sql(path, f.read())
        if extra_sql:
            load_sql(path, extra_sql)
        return b, u, Star(path, os.path.join(d, "workspace.db"))
    return env.fixture("tables-star-" + name, mk)


# ---------------------------------------------------------- expectations ---
def money(v):
    return money_text(v)


class Star:
    """What Python's sqlite3 reads in one workspace's model.db."""

    def __init__(self, path, workspace):
        self.path, self.workspace = path, workspace

    def db(self):
        return sqlite3.connect("file:%s?mode=ro" % self.path, uri=True, timeout=30)

    def columns(self, table):
        with self.db() as db:
            return db.execute(
                "SELECT c.column_name, c.type FROM table_columns AS c JOIN pragma_table_info(?1) AS p"
                " ON p.name = c.column_name WHERE c.table_name = ?1 ORDER BY c.ordinal", (table,)).fetchall()

    def rows(self, table, where="", order="rowid", params=(), cols=None):
        """[(rowid, {column: raw value})] in the given order."""
        names = [n for n, _t in self.columns(table)] if cols is None else cols
        sql = "SELECT rowid, %s FROM \"%s\"%s ORDER BY %s" % (
            ", ".join('"%s"' % n.replace('"', '""') for n in names), table,
            " WHERE " + where if where else "", order)
        with self.db() as db:
            return [(r[0], dict(zip(names, r[1:]))) for r in db.execute(sql, params)]

    def types(self, table):
        return dict(self.columns(table))


def json_value(v, t):
    if v is None:
        return None
    if isinstance(v, int) and t == "money":
        return money(v)
    if isinstance(v, int) and t == "boolean" and v in (0, 1):
        return bool(v)
    return v


def csv_value(v, t, safe=True):
    if v is None:
        return ""
    if isinstance(v, int) and t == "money":
        return money(v)
    if isinstance(v, int) and t == "boolean" and v in (0, 1):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v) if isinstance(v, float) else str(v)
    if safe and v.startswith(FORMULA_START):
        return "'" + v
    return v


def expected_objects(star, table, **kw):
    types = star.types(table)
    return [{k: json_value(v, types[k]) for k, v in row.items()} for _rid, row in star.rows(table, **kw)]


def expected_csv(star, table, safe=True, **kw):
    types = star.types(table)
    out = []
    for _rid, row in star.rows(table, **kw):
        out.append([csv_value(v, types[k], safe) for k, v in row.items()])
    return out


def read_csv(body):
    return list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))


def record_terminators(body):
    """The line ends between CSV records (outside quotes)."""
    ends, quoted, i = [], False, 0
    while i < len(body):
        ch = body[i:i + 1]
        if ch == b'"':
            quoted = not quoted
        elif not quoted and ch in (b"\r", b"\n"):
            end = body[i:i + 2] if body[i:i + 2] == b"\r\n" else ch
            ends.append(end)
            i += len(end)
            continue
        i += 1
    return ends


def path_of(url):
    u = urllib.parse.urlsplit(url)
    check(not u.scheme and not u.netloc, "next_url must be relative, got %r" % url)
    return u.path + ("?" + u.query if u.query else "")


def walk(c, token, first, what):
    """Every page from first on, following next_url: (rows, pages, docs)."""
    rows, pages, path, docs = [], 0, first, []
    while path:
        pages += 1
        check(pages < 500, what + ": paging does not end")
        r = c.get(path, token=token)
        doc = expect_ok(r, 200, what)
        docs.append(doc)
        check(isinstance(doc.get("rows"), list), what + ": rows must be a list")
        eq(doc.get("count"), len(doc["rows"]), what + ": count")
        nxt = doc.get("next_url")
        eq(doc.get("next") is None, nxt is None, what + ": next and next_url null together")
        eq(doc.get("truncated"), nxt is not None, what + ": truncated (a next page exists)")
        link = r.header("Link")
        if nxt:
            eq(link, '<%s>; rel="next"' % nxt, what + ": Link header")
            check("_next=" + urllib.parse.quote(doc["next"], safe="") in nxt or
                  "_next=" + doc["next"] in nxt, what + ": next_url carries the token")
            path = path_of(nxt)
        else:
            check(link is None, what + ": Link header on the last page: %r" % link)
            path = None
        rows.extend(doc["rows"])
    return rows, pages, docs


def q(table, fmt="", **params):
    items = []
    for k, v in params.items():
        for one in (v if isinstance(v, list) else [v]):
            items.append((k, one))
    return "/api/v1/tables/%s%s%s" % (table, fmt, "?" + urllib.parse.urlencode(items) if items else "")


# --------------------------------------------------------------- tests ---
@test("tables_list")
def _(env):
    b, u, star = star_user(env)
    c = b.client
    doc = expect_ok(c.get("/api/v1/tables", token=u.token), 200, "list")
    tables = doc.get("tables")
    check(isinstance(tables, list), "tables must be a list")
    names = [t.get("name") for t in tables]
    eq(sorted(names), ["dim_date", "dim_product", "fact_sales"], "tables of the fixture (catalogued, public)")
    for t in tables:
        with star.db() as db:
            count = db.execute('SELECT count(*) FROM "%s"' % t["name"]).fetchone()[0]
        eq(t.get("rows"), count, t["name"] + ": rows")
        eq([(x.get("name"), x.get("type")) for x in t.get("columns", [])], star.columns(t["name"]),
           t["name"] + ": columns and types from table_columns")
        eq(t.get("url"), "/api/v1/tables/" + t["name"], t["name"] + ": url")
    # A user without a run: an empty list.
    fresh = env.user(b, "tables-fresh")
    doc = expect_ok(c.get("/api/v1/tables", token=fresh.token), 200, "list without a run")
    eq(doc.get("tables"), [], "tables of a workspace without a run")


@test("tables_json_page_walk")
def _(env):
    b, u, star = star_user(env)
    c = b.client
    want = expected_objects(star, "fact_sales")
    for size in (1, 7, 32, 100):
        rows, pages, docs = walk(c, u.token, q("fact_sales", ".json", _size=size), "walk _size=%d" % size)
        eq(rows, want, "rows of every page (_size=%d) against Python's reading of the fixture" % size)
        eq(pages, max(1, -(-len(want) // size)), "pages (_size=%d): a full last page has no next" % size)
        d = docs[0]
        eq(d.get("table"), "fact_sales", "table")
        eq([(x["name"], x["type"]) for x in d["columns"]], star.columns("fact_sales"), "columns")
        eq(d.get("filters"), {}, "filters")
    # The default page is 100 rows and the format defaults to JSON.
    doc = expect_ok(c.get("/api/v1/tables/fact_sales", token=u.token), 200, "default")
    eq(doc["rows"], want, "default page")
    eq(doc["next"], None, "next of the only page")
    # Arrays shape, same values in the order of "columns".
    rows, _p, docs = walk(c, u.token, q("fact_sales", ".json", _size=10, _shape="arrays"), "arrays")
    names = [x["name"] for x in docs[0]["columns"]]
    eq([dict(zip(names, r)) for r in rows], want, "arrays shape")
    # Money, booleans, NULLs, unicode as the contract says.
    byid = {r["sales_sk"]: r for r in want}
    eq(byid[1]["shipping_cost"], "3578.00", "money 357800 minor units")
    eq(byid[4]["amount"], "-37.50", "negative money")
    eq(byid[5]["unit_price"], "922337203685477.5807", "money INT64_MAX")
    eq(byid[6]["unit_price"], "-922337203685477.5808", "money INT64_MIN")
    eq(byid[13]["amount"], None, "NULL money")
    eq(byid[3]["amount_derived"], True, "boolean")


@test("tables_sorted_walks_with_nulls")
def _(env):
    b, u, star = star_user(env)
    c = b.client
    cases = [("_sort", "ship_date", "ship_date, rowid"),
             ("_sort_desc", "ship_date", "ship_date DESC, rowid DESC"),
             ("_sort", "amount", "amount, rowid"),
             ("_sort_desc", "amount", "amount DESC, rowid DESC"),
             ("_sort", "payment_method", "payment_method, rowid"),
             ("_sort_desc", "status", "status DESC, rowid DESC"),
             ("_sort", "amount_consistent", "amount_consistent, rowid")]
    for key, col, order in cases:
        want = [r["sales_sk"] for r in expected_objects(star, "fact_sales", order=order)]
        for size in (1, 3, 10):
            rows, pages, docs = walk(c, u.token, q("fact_sales", ".json", _size=size, **{key: col}),
                                     "%s=%s _size=%d" % (key, col, size))
            eq([r["sales_sk"] for r in rows], want, "%s=%s, _size=%d: order across pages" % (key, col, size))
            eq(docs[0].get("sort"), {"column": col, "desc": key == "_sort_desc"}, "sort echo")
    # A sorted walk with a filter and a column selection keeps both in next_url.
    want = [[r["sales_sk"], r["order_id"]] for r in expected_objects(
        star, "fact_sales", where="status IS NOT 'open'", order="ship_date DESC, rowid DESC")]
    rows, pages, docs = walk(c, u.token, q("fact_sales", ".json", _size=4, _sort_desc="ship_date",
                                           status__not="open", _col="sales_sk,order_id", _shape="arrays"),
                             "filtered sorted walk")
    eq(rows, want, "filtered, sorted, selected walk")
    check(pages > 3, "several pages expected")


FILTER_CASES = [
    ({"status": "shipped"}, "status = 'shipped'"),
    ({"status__exact": "shipped"}, "status = 'shipped'"),
    ({"status__not": "shipped"}, "status IS NOT 'shipped'"),
    ({"status__contains": "i"}, "instr(status, 'i') > 0"),
    ({"order_id__startswith": "SO-10"}, "substr(order_id, 1, 5) = 'SO-10'"),
    ({"payment_method__startswith": "="}, "substr(payment_method, 1, 1) = '='"),
    ({"quantity__gt": "1"}, "quantity > 1"),
    ({"quantity__gte": "2"}, "quantity >= 2"),
    ({"quantity__lt": "1"}, "quantity < 1"),
    ({"quantity__lte": "-3"}, "quantity <= -3"),
    ({"quantity__in": "1,2,10"}, "quantity IN (1, 2, 10)"),
    ({"amount": "12.5"}, "amount = 125000"),
    ({"amount": "0.001"}, "amount = 10"),
    ({"amount__gt": "3578"}, "amount > 35780000"),
    ({"amount__gte": "-0.05"}, "amount >= -500"),
    ({"amount__lt": "0"}, "amount < 0"),
    ({"amount__lte": "0.05"}, "amount <= 500"),
    ({"amount__in": "12.5,0.05,-37.5"}, "amount IN (125000, 500, -375000)"),
    ({"unit_price": "922337203685477.5807"}, "unit_price = 9223372036854775807"),
    ({"order_date__gte": "2024-02"}, "order_date >= '2024-02'"),
    ({"order_date__lt": "2024-01-06"}, "order_date < '2024-01-06'"),
    ({"ship_date__isnull": "1"}, "ship_date IS NULL"),
    ({"ship_date__isnull": "0"}, "ship_date IS NOT NULL"),
    ({"amount_derived": "true"}, "amount_derived = 1"),
    ({"amount_consistent__not": "1"}, "amount_consistent IS NOT 1"),
    ({"status__in": '["a,b","open"]'}, "status IN ('a,b', 'open')"),
    ({"_file_id": "f2"}, "_file_id = 'f2'"),
    ({"payment_method": "日本語"}, "payment_method = '日本語'"),
    ({"payment_method": "x;DROP TABLE fact_sales"}, "payment_method = 'x;DROP TABLE fact_sales'"),
    ({"payment_method": 'a"b'}, "payment_method = 'a\"b'"),
    ({"status": "shipped", "quantity__gte": "2", "ship_date__isnull": "0"},
     "status = 'shipped' AND quantity >= 2 AND ship_date IS NOT NULL"),
]


@test("tables_filters_every_op")
def _(env):
    b, u, star = star_user(env)
    c = b.client
    ops = set()
    for params, where in FILTER_CASES:
        want = [r["sales_sk"] for r in expected_objects(star, "fact_sales", where=where)]
        doc = expect_ok(c.get(q("fact_sales", ".json", _col="sales_sk", _size=1000, **params), token=u.token),
                        200, "filter %s" % params)
        eq([r["sales_sk"] for r in doc["rows"]], want, "filter %s (oracle: %s)" % (params, where))
        for k, v in params.items():
            key = k if "__" in k else k + "__exact"
            ops.add(key.rsplit("__", 1)[1])
            eq(doc["filters"].get(key), v, "filters echo of %s" % k)
    eq(ops, {"exact", "not", "contains", "startswith", "gt", "gte", "lt", "lte", "in", "isnull"}, "operators covered")
    with star.db() as db:
        eq(db.execute("SELECT count(*) FROM fact_sales").fetchone()[0], 32, "rows after the injection attempts")


@test("tables_bad_requests_400")
def _(env):
    b, u, _star = star_user(env)
    c = b.client
    cases = [
        ({"nosuch": "1"}, "unknown_column", "nosuch"),
        ({"nosuch__gt": "1"}, "unknown_column", "nosuch"),
        ({"amount__like": "1"}, "unknown_operator", "like"),
        ({"x; DROP TABLE fact_sales": "1"}, "unknown_column", "DROP TABLE"),
        ({'a"b': "1"}, "unknown_column", 'a"b'),
        ({"quantity": "abc"}, "bad_value", "quantity"),
        ({"amount": "12.34567"}, "bad_value", "amount"),
        ({"amount_derived": "maybe"}, "bad_value", "amount_derived"),
        ({"ship_date__isnull": "2"}, "bad_value", "isnull"),
        ({"quantity__contains": "1"}, "bad_operator", "contains"),
        ({"_size": "0"}, "bad_size", "_size"),
        ({"_size": "1001"}, "bad_size", "_size"),
        ({"_size": "ten"}, "bad_size", "_size"),
        ({"_next": "garbage!"}, "bad_next", "_next"),
        ({"_next": "eyJyIjoxfQ", "_sort": "amount"}, "bad_next", "_next"),
        ({"_sort": "nosuch"}, "unknown_column", "nosuch"),
        ({"_sort": "amount", "_sort_desc": "amount"}, "bad_sort", "_sort"),
        ({"_col": "nosuch"}, "unknown_column", "nosuch"),
        ({"_shape": "dict"}, "bad_parameter", "_shape"),
        ({"_formulas": "maybe"}, "bad_parameter", "_formulas"),
    ]
    for params, code, name in cases:
        for fmt in (".json", ".csv"):
            d = expect_error(c.get(q("fact_sales", fmt, **params), token=u.token), 400, "%s%s" % (params, fmt))
            eq(d["errors"][0].get("code"), code, "%s: error code" % params)
            check(name in d["error"], "%s: the message %r must name %r" % (params, d["error"], name))
    # Request text echoed in messages stays valid UTF-8 (else the envelope
    # could not be built and a 400 would become a 500).
    for raw in ("%FF=1", "amount__%FF=1", "_sort=%C3", "_col=a%FFb", "%C3%A9" * 150 + "=1"):
        d = expect_error(c.get("/api/v1/tables/fact_sales.json?" + raw, token=u.token), 400, "raw " + raw[:20])
        check(d["errors"][0]["code"] in ("unknown_column", "unknown_operator"), "raw %s: code" % raw[:20])
    # A token from one sort given to another.
    doc = expect_ok(c.get(q("fact_sales", ".json", _size=2, _sort="amount"), token=u.token))
    d = expect_error(c.get(q("fact_sales", ".json", _size=2, _sort_desc="amount", _next=doc["next"]),
                           token=u.token), 400, "token of another sort")
    eq(d["errors"][0]["code"], "bad_next", "token of another sort")
    # A tampered token.
    tok = doc["next"]
    bad = tok[:-2] + ("A" if tok[-2] != "A" else "B") + tok[-1]
    expect_error(c.get(q("fact_sales", ".json", _size=2, _sort="amount", _next=bad), token=u.token), 400,
                 "tampered token")


@test("tables_not_public_404")
def _(env):
    b, u, _star = star_user(env)
    c = b.client
    ref = expect_error(c.get("/api/v1/tables/no_such_thing", token=u.token), 404, "unknown table")
    for name in ("sqlite_master", "table_columns", "files", "runs", "mappings", "canonical_ids",
                 "FACT_SALES", "fact_sales.xml", "fact_sales.json.csv", "fact_sales%3B%20DROP%20TABLE%20runs",
                 "fact_sales%22", "main.fact_sales", "fact_sales%20"):
        d = expect_error(c.get("/api/v1/tables/" + name, token=u.token), 404, name)
        eq(d["errors"][0]["code"], "not_found", name + ": code")
        eq(d["error"], ref["error"], name + ": same answer as an unknown name")
    expect_error(c.get("/api/v1/tables/fact_sales.csv"), 401, "no token")


@test("tables_other_user_no_such_table")
def _(env):
    """Tables are per workspace: before a run, a public table is 404 no_such_table."""
    b, _u, _star = star_user(env)
    c = b.client
    other = env.user(b, "tables-other")
    for path in ("/api/v1/tables/fact_sales", "/api/v1/tables/fact_sales.csv", "/api/v1/tables/dim_product.ndjson"):
        d = expect_error(c.get(path, token=other.token), 404, "other user: " + path)
        eq(d["errors"][0]["code"], "no_such_table", path + ": code")
        check("SO-10" not in d["error"], "the answer leaks another user's data")


@test("tables_csv_download")
def _(env):
    b, u, star = star_user(env)
    c = b.client
    r = c.get(q("fact_sales", ".csv", _dl=1, _size=1000), token=u.token)
    eq(r.status, 200, "CSV status")
    eq(r.header("Content-Type"), "text/csv; charset=utf-8", "CSV Content-Type")
    eq(r.header("Content-Disposition"), 'attachment; filename="fact_sales.csv"', "Content-Disposition")
    got = read_csv(r.body)
    names = [n for n, _t in star.columns("fact_sales")]
    eq(got[0], names, "header row")
    want = expected_csv(star, "fact_sales")
    eq(got[1:], want, "CSV records (formula cells of text columns prefixed with ')")
    ends = record_terminators(r.body)
    eq(set(ends), {b"\r\n"}, "CSV record terminators")
    eq(len(ends), len(want) + 1, "CSV records")
    # Spot checks of the contract's choices.
    byid = {row[0]: row for row in got[1:]}
    eq(byid["3"][names.index("order_id")], "'=1+2", "formula in a text column")
    eq(byid["4"][names.index("status")], "'-3", "negative-looking text")
    eq(byid["4"][names.index("quantity")], "-3", "negative integer: data, no prefix")
    eq(byid["4"][names.index("amount")], "-37.50", "negative money: data, no prefix")
    r = c.get(q("fact_sales", ".csv", _col="order_id,sales_sk", order_id__startswith="#"), token=u.token)
    eq(r.body, b'order_id,sales_sk\r\n"#SO-1015",15\r\n', "a first-column cell starting with # is quoted")
    # _formulas=raw, _header=off.
    r = c.get(q("fact_sales", ".csv", _formulas="raw", _header="off"), token=u.token)
    eq(read_csv(r.body), expected_csv(star, "fact_sales", safe=False), "_formulas=raw, _header=off")
    # Paged CSV: the Link header leads to the rest.
    r = c.get(q("fact_sales", ".csv", _size=20), token=u.token)
    link = r.header("Link")
    check(link and link.startswith("</api/v1/tables/fact_sales.csv?"), "CSV page: Link %r" % link)
    r2 = c.get(link[1:link.index(">")], token=u.token)
    eq(read_csv(r.body)[1:] + read_csv(r2.body)[1:], want, "CSV pages joined")
    check(r2.header("Link") is None, "last CSV page has no Link")


@test("tables_ndjson_and_accept")
def _(env):
    b, u, star = star_user(env)
    c = b.client
    want = expected_objects(star, "fact_sales")
    r = c.get(q("fact_sales", ".ndjson", _dl=1), token=u.token)
    eq(r.status, 200, "NDJSON status")
    eq(r.header("Content-Type"), "application/x-ndjson", "NDJSON Content-Type")
    eq(r.header("Content-Disposition"), 'attachment; filename="fact_sales.ndjson"', "NDJSON Content-Disposition")
    check(r.body.endswith(b"\n"), "NDJSON ends with a newline")
    eq([json.loads(x) for x in r.body.decode().split("\n")[:-1]], want, "NDJSON rows")
    # Accept without an extension; the extension wins over Accept.
    for accept, ctype in (("text/csv", "text/csv; charset=utf-8"), ("application/x-ndjson", "application/x-ndjson"),
                          ("application/json", "application/json"), ("*/*", "application/json"),
                          ("text/html, text/csv;q=0.9", "text/csv; charset=utf-8"),
                          ("text/csv;q=0.5, application/x-ndjson", "application/x-ndjson"),
                          ("image/png", "application/json")):
        r = c.get("/api/v1/tables/fact_sales", token=u.token, headers={"Accept": accept})
        eq(r.status, 200, "Accept: " + accept)
        eq(r.header("Content-Type"), ctype, "Accept: " + accept)
    r = c.get("/api/v1/tables/fact_sales.json", token=u.token, headers={"Accept": "text/csv"})
    eq(r.header("Content-Type"), "application/json", "extension over Accept")
    # JSON download: provenance with the latest finished run.
    load_sql(star.workspace, "INSERT INTO runs (id, state, created_at) VALUES"
             " ('run-old', 'done', '2026-01-01T00:00:00Z'), ('run-new', 'done', '2026-01-02T00:00:00Z'),"
             " ('run-failed', 'failed', '2026-01-03T00:00:00Z')")
    t0 = time.time()
    r = c.get(q("fact_sales", ".json", _dl=1, status="shipped", _sort_desc="amount"), token=u.token)
    doc = expect_ok(r, 200, "JSON download")
    eq(r.header("Content-Disposition"), 'attachment; filename="fact_sales.json"', "JSON Content-Disposition")
    p = doc.get("provenance")
    check(isinstance(p, dict), "provenance object")
    eq(p.get("table"), "fact_sales", "provenance.table")
    eq(p.get("filters"), {"status__exact": "shipped"}, "provenance.filters")
    eq(p.get("sort"), {"column": "amount", "desc": True}, "provenance.sort")
    eq(p.get("row_count"), len(doc["rows"]), "provenance.row_count")
    eq(p.get("run_id"), "run-new", "provenance.run_id: the latest run in state done")
    check(abs(parse_rfc3339(p.get("generated_at")) - t0) < 120, "provenance.generated_at")
    # HEAD: headers only.
    r = c.request("HEAD", q("fact_sales", ".csv", _size=5), token=u.token)
    eq(r.status, 200, "HEAD")
    eq(r.body, b"", "HEAD body")
    check((r.header("Link") or "").startswith("</api/v1/tables/fact_sales.csv?"), "HEAD keeps the Link header")


STREAM_ROWS = 3000
STREAM_SQL = """
INSERT INTO fact_sales (sales_sk, order_id, line_number, order_date, ship_date, quantity, amount, status,
                        payment_method, amount_derived, _file_id, _row)
WITH RECURSIVE n(i) AS (SELECT 100 UNION ALL SELECT i + 1 FROM n WHERE i < %d)
SELECT i, CASE WHEN i %% 97 = 0 THEN '=HYPERLINK(' || i || ')' ELSE 'G-' || i END, 1,
       printf('2025-%%02d-%%02d', 1 + i %% 12, 1 + i %% 28),
       CASE WHEN i %% 5 = 0 THEN NULL ELSE printf('2025-%%02d-%%02d', 1 + i %% 12, 1 + i %% 28) END,
       i %% 9 - 4, (i %% 2000) * 37 - 20000, 's' || (i %% 4), 'pay, "' || i || '"' || char(10) || 'x',
       i %% 2, 'gen', i FROM n;
""" % (STREAM_ROWS + 99)


@test("tables_stream_all_rows")
def _(env):
    b, u, star = star_user(env, "streamer", STREAM_SQL)
    c = b.client
    total = 32 + STREAM_ROWS
    want = expected_objects(star, "fact_sales")
    eq(len(want), total, "rows in the streamed table")
    r = c.get(q("fact_sales", ".ndjson", _stream=1, _size=5), token=u.token, timeout=120)
    eq(r.status, 200, "NDJSON stream")
    check(r.header("Link") is None, "a stream has no Link header")
    lines = r.body.decode().split("\n")
    eq(lines[-1], "", "NDJSON ends with a newline")
    eq([json.loads(x) for x in lines[:-1]], want, "NDJSON stream (_size ignored)")
    r = c.get(q("fact_sales", ".csv", _stream=1), token=u.token, timeout=120)
    eq(read_csv(r.body)[1:], expected_csv(star, "fact_sales"), "CSV stream")
    check(b"# truncated" not in r.body, "no truncation marker under the caps")
    doc = expect_ok(c.get(q("fact_sales", ".json", _stream=1, amount__gte="0"), token=u.token, timeout=120),
                    200, "JSON stream")
    eq(doc["rows"], expected_objects(star, "fact_sales", where="amount >= 0"), "JSON stream, filtered")
    eq(doc["truncated"], False, "JSON stream: truncated")
    eq(doc["next"], None, "JSON stream: next")
    eq(doc["provenance"]["row_count"], len(doc["rows"]), "JSON stream: provenance.row_count")
    sorted_ids = [r["sales_sk"] for r in expected_objects(star, "fact_sales", order="ship_date DESC, rowid DESC")]
    doc = expect_ok(c.get(q("fact_sales", ".json", _stream=1, _sort_desc="ship_date", _col="sales_sk",
                            _shape="arrays"), token=u.token, timeout=120), 200, "sorted JSON stream")
    eq([x[0] for x in doc["rows"]], sorted_ids, "sorted JSON stream")


BIG_ROWS = 300000
BIG_SQL = """
INSERT INTO fact_sales (sales_sk, order_id, line_number, order_date, ship_date, quantity, unit_price, amount,
                        status, payment_method, amount_derived, amount_consistent, _file_id, _row)
WITH RECURSIVE n(i) AS (SELECT 1000 UNION ALL SELECT i + 1 FROM n WHERE i < %d)
SELECT i, 'SO-' || (i / 3), i %% 3 + 1, printf('2024-01-%%02d', 1 + i %% 28), NULL, 1 + i %% 5,
       100 + i %% 90000, (1 + i %% 5) * (100 + i %% 90000), 'shipped', 'card, "visa"', i %% 2, 1, 'big', i
FROM n;
""" % (BIG_ROWS + 999)


@test("tables_stream_constant_memory")
def _(env):
    from harness import proc_status
    b, u, _star = star_user(env, "bigtable", BIG_SQL)
    c = b.client
    # Reset the peak-RSS counters (as files_stream_200mb_constant_memory does).
    before = {}
    for p in b.pids():
        try:
            with open("/proc/%d/clear_refs" % p, "w") as f:
                f.write("5")
        except OSError as e:
            raise SetupError("cannot reset the peak RSS of pid %d: %s" % (p, e))
        before[p] = proc_status(p, "VmRSS") or 0
    t = time.time()
    r = c.get(q("fact_sales", ".csv", _stream=1), token=u.token, timeout=600)
    took = time.time() - t
    eq(r.status, 200, "big CSV stream")
    nrec = len(record_terminators(r.body)) - 1
    eq(nrec, 32 + BIG_ROWS, "records in the big CSV stream")
    grew = max((proc_status(p, "VmHWM") or 0) - before.get(p, 0) for p in b.pids())
    # (not under ASan: see files_stream_200mb_constant_memory)
    check(env.san_dir is not None or grew < 16 * 1024, "streaming %d MB of CSV grew a concord process by %.1f MiB (must stay under 16 MiB)" % (
        len(r.body) // 1000000, grew / 1024))
    return "%d rows, %.1f MB in %.1fs (%.0f rows/s through nginx+TLS), peak RSS growth %.1f MiB" % (
        nrec, len(r.body) / 1e6, took, nrec / took, grew / 1024)


@test("tables_stream_client_disconnect")
def _(env):
    """A client that leaves mid-stream frees its worker at once."""
    b, u, _star = star_user(env, "bigtable", BIG_SQL)
    c = b.client
    for _i in range(2):                       # as many as there are workers
        conn = c.conn(timeout=60)
        conn.request("GET", q("fact_sales", ".csv", _stream=1),
                     headers={"Authorization": "Bearer " + u.token})
        r = conn.getresponse()
        eq(r.status, 200, "big stream")
        check(len(r.read(65536)) == 65536, "the first 64 KiB arrive")
        conn.close()
    t = time.time()
    for _i in range(4):
        doc = expect_ok(c.get(q("fact_sales", ".json", _size=1), token=u.token), 200, "after the disconnects")
        eq(doc["count"], 1, "a page after the disconnects")
    took = time.time() - t
    check(took < 10, "requests after two abandoned streams took %.1fs: workers are stuck" % took)
    deadline = time.time() + 10
    while time.time() < deadline:
        with open(b.log, "rb") as f:
            if f.read().count(b"client went away") >= 2:
                break
        time.sleep(0.2)
    else:
        raise AssertionError("the service log does not say the streams stopped (\"client went away\")")


# The sales dashboard also reads dim_customer (star.sql has none): an empty
# one, so that the dashboard is computed from the facts (no aggregates).
DIM_CUSTOMER_SQL = """
CREATE TABLE IF NOT EXISTS dim_customer (customer_sk INTEGER PRIMARY KEY, canonical_id INTEGER NOT NULL,
    first_name TEXT, last_name TEXT, full_name TEXT, country TEXT, valid_from DATE, is_current BOOLEAN NOT NULL);
"""


@test("tables_deadline_503_retry_after")
def _(env):
    """Over request_deadline_ms (1 ms on `limits`) a table page and a dashboard
    stop and answer 503 with Retry-After and the error envelope; the worker is
    free at once for the next request."""
    b = backend(env, "limits")
    c = b.client
    u = env.user(b, "slowpoke")
    d = workspace_dir(b, c, u)
    path = os.path.join(d, "model.db")
    with open(FIXTURE, encoding="utf-8") as f:
        load_sql(path, f.read())
    load_sql(path, BIG_SQL)
    load_sql(path, DIM_CUSTOMER_SQL)
    for what, url in (("sorted page", q("fact_sales", ".json", _sort="amount", _size=5)),
                      ("dashboard from the facts", "/api/v1/dashboards/sales?from=2024-01-02&to=2024-01-28")):
        t = time.time()
        r = c.get(url, token=u.token, timeout=60)
        took = time.time() - t
        doc = expect_error(r, 503, what)
        eq(doc["errors"][0]["code"], "query_time_limit", what + ": error code")
        eq(r.header("Retry-After"), "1", what + ": Retry-After (1 ms rounded up to a second)")
        check(took < 2, "%s: the 503 took %.2fs" % (what, took))
    expect_ok(c.get("/api/v1/tables", token=u.token), 200, "a light request after the 503s")


@test("tables_dashboard_client_gone")
def _(env):
    """A client that leaves before a heavy dashboard is computed frees its
    worker within a second: the service checks the connection while SQLite
    works (the log says client_gone)."""
    b, u, _star = star_user(env, "gonebig", BIG_SQL + DIM_CUSTOMER_SQL)
    c = b.client
    with open(b.log, "rb") as f:
        before = f.read().count(b"client_gone")
    t = time.time()
    r = c.get("/api/v1/dashboards/sales?from=2024-01-03&to=2024-01-28", token=u.token, timeout=60)
    expect_ok(r, 200, "the heavy dashboard, waited for")
    full = time.time() - t
    if full < 0.8:
        raise Skip("the dashboard takes only %.2fs here: nothing to abandon" % full)
    conn = c.conn(timeout=60)
    conn.request("GET", "/api/v1/dashboards/sales?from=2024-01-04&to=2024-01-28",
                 headers={"Authorization": "Bearer " + u.token})
    time.sleep(0.2)
    conn.close()
    left = time.time()
    while time.time() - left < 5:
        with open(b.log, "rb") as f:
            if f.read().count(b"client_gone") > before:
                break
        time.sleep(0.05)
    else:
        raise AssertionError("no client_gone in the log 5 s after the client left")
    stopped = time.time() - left
    check(stopped < 1.0 + 0.3, "the abandoned dashboard stopped %.2fs after the client left (full: %.2fs)"
          % (stopped, full))
    return "full request %.2fs, stopped %.2fs after the client left" % (full, stopped)


def same_csv(got, want, what):
    """CSV records equal; a real is compared as a number (the service writes
    the shortest round-trip form, Python's repr may differ: 100 vs 100.0)."""
    eq(len(got), len(want), what + ": records")
    for i, (g, w) in enumerate(zip(got, want)):
        eq(len(g), len(w), "%s: fields of record %d" % (what, i + 1))
        for k, (gc, wc) in enumerate(zip(g, w)):
            if isinstance(wc, float):
                check(gc != "" and float(gc) == wc, "%s: record %d field %d: %r != %r" % (what, i + 1, k + 1, gc, wc))
            elif gc != wc:
                raise AssertionError("%s: record %d field %d: got %r, want %r" % (what, i + 1, k + 1, gc, wc))


@test("tables_of_a_real_run")
def _(env):
    """The crm-erp run of tests_pipeline: every public table of its model.db,
    streamed as CSV, equals Python's reading of that file."""
    import tests_pipeline
    b, u, _run = tests_pipeline.crm_run(env)
    c = b.client
    d = os.path.join(b.data, "workspaces", u.id)
    star = Star(os.path.join(d, "model.db"), os.path.join(d, "workspace.db"))
    with star.db() as db:
        names = sorted(n for (n,) in db.execute("SELECT DISTINCT table_name FROM table_columns")
                       if n in PUBLIC and db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                                                     (n,)).fetchone())
    doc = expect_ok(c.get("/api/v1/tables", token=u.token), 200, "list after a run")
    eq([t["name"] for t in doc["tables"]], names, "tables of a real run")
    total = 0
    for t in doc["tables"]:
        with star.db() as db:
            count = db.execute('SELECT count(*) FROM "%s"' % t["name"]).fetchone()[0]
        eq(t["rows"], count, t["name"] + ": rows")
        types = star.types(t["name"])
        want = []
        for _rid, row in star.rows(t["name"]):
            want.append([v if isinstance(v, float) else csv_value(v, types[k]) for k, v in row.items()])
        r = c.get(q(t["name"], ".csv", _stream=1), token=u.token, timeout=300)
        eq(r.status, 200, t["name"] + ".csv")
        got = read_csv(r.body)
        eq(got[0], [n for n, _t in star.columns(t["name"])], t["name"] + ": header")
        same_csv(got[1:], want, t["name"] + ".csv")
        total += count
    check(total > 10000, "a real run has rows (%d)" % total)
    # fact_sales as JSON pages of 1000, and its provenance.
    with sqlite3.connect("file:%s?mode=ro" % star.workspace, uri=True) as w:
        latest = w.execute("SELECT id FROM runs WHERE state = 'done' ORDER BY seq DESC LIMIT 1").fetchone()[0]
    rows, pages, docs = walk(c, u.token, q("fact_sales", ".json", _size=1000), "fact_sales of a real run")
    eq(rows, expected_objects(star, "fact_sales"), "fact_sales of a real run, page by page")
    eq(docs[-1]["provenance"]["run_id"], latest, "provenance.run_id of a real run")
    return "%d tables, %d rows, %d pages of fact_sales" % (len(names), total, pages)


PUBLIC = ("dim_date", "dim_location", "dim_product_category", "dim_customer", "dim_product", "fact_sales",
          "quarantine", "clean_issues", "clean_changes", "key_rules", "match_pairs", "match_models",
          "stg_customer", "stg_product",
          "stg_product_category", "stg_location", "stg_order_line", "customer_segment")


@test("tables_exports_unbuffered_pages_buffered")
def _(env):
    """What the service asks of nginx (conf/nginx/concord.conf): an export is
    passed on as it is written (X-Accel-Buffering: no, read on the FastCGI
    socket: nginx does not forward it), a page is left to nginx's buffers."""
    from tests_upload_integrity import Fcgi
    b, u, _star = star_user(env)
    cases = [(q("fact_sales", ".csv", _stream=1), "no"),
             (q("fact_sales", ".json", _stream=1), "no"),
             (q("fact_sales", ".csv", _dl=1, _size=2), "no"),
             (q("dim_product", ".json", _size=5), None),
             (q("fact_sales", ".csv", _size=5), None),
             ("/api/v1/dashboards/sales", None)]
    for uri, want in cases:
        r = Fcgi(b.sock).begin("GET", uri, token=u.token).end_stdin().response()
        eq(r.status, 200, "%s on the socket" % uri)
        eq(r.headers.get("x-accel-buffering"), want, "%s: X-Accel-Buffering" % uri)
        # and through nginx the header is consumed, the answer whole
        raw = b.client.get(uri, token=u.token)
        eq(raw.status, 200, "%s through nginx" % uri)
        eq(raw.headers.get("X-Accel-Buffering"), None, "%s: nginx forwards no X-Accel-Buffering" % uri)
        eq(len(raw.body), len(r.body), "%s: the same bytes through nginx" % uri)


def without_stamp(body):
    """A JSON page's text with its provenance's generated_at masked, and that stamp."""
    m = list(re.finditer(rb'"generated_at":"([0-9TZ:-]{20})"', body))
    check(m, "a JSON page has a generated_at: %r" % body[-200:])
    last = m[-1]
    return body[:last.start(1)] + b"X" * 20 + body[last.end(1):], last.group(1).decode()


@test("tables_kept_pages_follow_the_model")
def _(env):
    """Each worker keeps the JSON pages it wrote (page_cache, fcgi/anscache.h)
    and answers them again while the workspace and its model stand: the same
    bytes as a service that keeps nothing (backend `upload`, page_cache off),
    with a Content-Length and a new generated_at; a changed model.db is read
    at once; parameters that differ by one character are different pages,
    also where a value holds what looks like another parameter."""
    b, u, star = star_user(env, name="kept-pages")
    c = b.client
    uris = [q("dim_product", ".json", _size=2), q("dim_product", ".json", _size=2, _shape="arrays"),
            q("dim_product", "", category="Tools", _size=1),
            q("dim_product", "", category="Tools&_size=1"), "/api/v1/tables/dim_product?category=Tools%26%5Fsize%3D1"]

    def page(uri, client=c, token=u.token):
        r = client.get(uri, token=token)
        expect_ok(r, 200, uri)
        eq(r.header("Content-Length"), str(len(r.body)), "%s: a page carries its length" % uri)
        return r

    def same_bodies(uri, n, what):
        bodies = set()
        for _ in range(n):
            r = page(uri)
            text, _stamp = without_stamp(r.body)
            nxt = json.loads(text).get("next_url")
            eq(r.header("Link"), '<%s>; rel="next"' % nxt if nxt else None, "%s: %s: Link header" % (uri, what))
            bodies.add(text)
        eq(len(bodies), 1, "%s: %s, %d requests, one answer" % (uri, what, n))
        return bodies.pop()

    # no page can be kept from an earlier state: requests to both workers
    first = {uri: same_bodies(uri, 6, "first") for uri in uris}
    eq([r["name"] for r in json.loads(first[uris[0]])["rows"]],
       [r["name"] for r in expected_objects(star, "dim_product")[:2]], "the page's rows are the fixture's")
    tools = expected_objects(star, "dim_product", where="category = 'Tools'")
    check(len(tools) >= 2, "the fixture has two Tools")
    eq(json.loads(first[uris[2]])["rows"], tools[:1], "category=Tools, _size=1: the first Tools row")
    check(json.loads(first[uris[2]])["next_url"], "category=Tools, _size=1: a next page")
    eq(json.loads(first[uris[3]])["rows"], [], "a category holding '&_size=1' has no row")
    eq(first[uris[4]], first[uris[3]], "the same parameters spelled with escapes")
    # a new generated_at on every answer
    time.sleep(1.1)
    t0 = time.time()
    _text, stamp = without_stamp(page(uris[0]).body)
    check(parse_rfc3339(stamp) >= int(t0), "a kept page answers with a new generated_at: %s before %d" % (stamp, t0))
    # the same bytes as a worker that keeps nothing
    o = backend(env, "upload")
    ou = env.user(o, "kept-pages-peer")
    path = os.path.join(workspace_dir(o, o.client, ou), "model.db")
    with open(FIXTURE, encoding="utf-8") as f:
        load_sql(path, f.read())
    for uri in uris:
        r = o.client.get(uri, token=ou.token)
        expect_ok(r, 200, "page_cache off: " + uri)
        eq(without_stamp(r.body)[0], first[uri], "%s: kept and computed pages are the same bytes" % uri)
    # the model changes in place (as after a run, model.db's identity changes)
    new = "Renamed while kept %d" % os.getpid()
    with sqlite3.connect(star.path, timeout=30) as db:
        db.execute("UPDATE dim_product SET name = ? WHERE rowid = (SELECT min(rowid) FROM dim_product)", (new,))
    after = same_bodies(uris[0], 6, "after the model changed")
    eq(json.loads(after)["rows"][0]["name"], new, "every answer reads the changed model")
