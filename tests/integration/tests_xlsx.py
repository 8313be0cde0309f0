"""Excel workbooks in and out: xlsx uploads (shared and inline strings,
numbers, booleans, dates by cell style, merged header cells, ?sheet=),
bad workbooks refused with 422 and a reason, a workbook that runs to the
same facts as its CSV twin, and the .xlsx export read back with openpyxl.

Workbooks are written here by openpyxl (Debian's python3-openpyxl), a real
spreadsheet producer; expected values come from Python (datetime for the
dates, csv for the CSV twin, the JSON export for the xlsx export), never
from Concord's answers about the same workbook.
"""
import csv
import datetime
import io
import json
import os
import re
import sys
import urllib.parse
import xml.etree.ElementTree as ET
import zipfile

from harness import check, eq, expect_error, expect_ok
from suite import test, backend
from tests_files import expect_nothing_registered, snapshot_state
from tests_pipeline import model, run_and_wait

try:
    import openpyxl
except ImportError:             # a python3 outside Debian's (pyenv): use Debian's openpyxl
    sys.path.append("/usr/lib/python3/dist-packages")
    import openpyxl

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def book_bytes(wb):
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def with_shared_strings(data):
    """The workbook with its inline strings moved to a shared strings table,
    as Excel writes them (openpyxl 3.0 writes inline strings only)."""
    zin = zipfile.ZipFile(io.BytesIO(data))
    sst, index = [], {}
    out = io.BytesIO()
    zout = zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED)
    ET.register_namespace("", NS)
    for item in zin.infolist():
        body = zin.read(item.filename)
        if item.filename.startswith("xl/worksheets/sheet"):
            root = ET.fromstring(body)
            for c in root.iter("{%s}c" % NS):
                if c.get("t") != "inlineStr":
                    continue
                text = "".join(t.text or "" for t in c.iter("{%s}t" % NS))
                for child in list(c):
                    c.remove(child)
                c.set("t", "s")
                if text not in index:
                    index[text] = len(sst)
                    sst.append(text)
                ET.SubElement(c, "{%s}v" % NS).text = str(index[text])
            body = ET.tostring(root, xml_declaration=True, encoding="UTF-8")
        elif item.filename == "xl/_rels/workbook.xml.rels":
            body = body.replace(b"</Relationships>", b'<Relationship Id="rIdSST" Type="http://schemas.'
                                b'openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
                                b'Target="sharedStrings.xml"/></Relationships>')
        elif item.filename == "[Content_Types].xml":
            body = body.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType='
                                b'"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings'
                                b'+xml"/></Types>')
        zout.writestr(item, body)
    root = ET.Element("{%s}sst" % NS, count=str(len(sst)), uniqueCount=str(len(sst)))
    for s in sst:
        ET.SubElement(ET.SubElement(root, "{%s}si" % NS), "{%s}t" % NS).text = s
    zout.writestr("xl/sharedStrings.xml", ET.tostring(root, xml_declaration=True, encoding="UTF-8"))
    zout.close()
    return out.getvalue()


def upload(b, user, name, data, ctype=XLSX, sheet=None):
    path = "/api/v1/files?name=" + urllib.parse.quote(name)
    if sheet is not None:
        path += "&sheet=" + urllib.parse.quote(sheet)
    return b.client.request("POST", path, body=data, headers={"Content-Type": ctype}, token=user.token)


def profile_of(b, user, fid):
    return expect_ok(b.client.get("/api/v1/files/" + fid, token=user.token), 200, "GET file")["profile"]


def top_values(col):
    """The values of a column with few distinct values, from its exact top list."""
    check(col.get("top_exact"), "column %s: top list not exact" % col.get("name"))
    return sorted(t["value"] for t in col["top"])


# Rows of the typed workbook: what is written, and what Python says the
# reader must give back (dates by datetime's isoformat).
D1 = datetime.date(2024, 2, 29)
D2 = datetime.datetime(1900, 1, 1, 12, 30)     # serial 1.52: before Excel's fictitious 1900-02-29
D3 = datetime.date(1900, 3, 1)                 # serial 61: after it
D4 = datetime.datetime(2023, 12, 31, 23, 59, 59)


def typed_workbook():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sales"
    ws.append(["Order", "Amount", None, "Paid", "When", "Custom date", "Ratio", "Note"])
    ws.merge_cells("B1:C1")                     # "Amount" over two columns
    rows = [
        [1, 12.5, 3, True, D1, 45000, 0.125, "hello"],
        [2, -0.25, None, False, D2, 45001, 2, "with, comma"],
        [3, 1e20, 7, None, D3, None, None, None],
        [4, 0, 1, True, D4, 45002, 1.5, "é ünïcode"],
    ]
    for r in rows:
        ws.append(r)
    for row in ws.iter_rows(min_row=2, min_col=6, max_col=6):
        row[0].number_format = 'dd/mm/yyyy;@'   # a custom date format on a plain number
    for row in ws.iter_rows(min_row=2, min_col=7, max_col=7):
        row[0].number_format = '0.00 "days"'    # d, a, y inside quotes: not a date
    other = wb.create_sheet("Other")
    other.append(["code", "qty"])
    other.append(["A", 1])
    other.append(["B", 2])
    return wb, rows


def excel_date(serial):
    """Serial (1900 system, > 60) -> ISO date, from Python's datetime."""
    return (datetime.date(1899, 12, 30) + datetime.timedelta(days=serial)).isoformat()


@test("xlsx_cells_strings_numbers_booleans_dates_merged_header")
def _(env):
    b = backend(env, "main")
    u = env.user(b, "xlsxcells")
    wb, rows = typed_workbook()
    for variant, data in (("inline", book_bytes(wb)), ("shared", with_shared_strings(book_bytes(wb)))):
        if variant == "shared":
            # the rewritten workbook is still one openpyxl reads, with the same strings
            ws = openpyxl.load_workbook(io.BytesIO(data))["Sales"]
            eq(ws["H2"].value, "hello", "openpyxl reads the shared-strings twin")
            check(b"sharedStrings" in data, "shared strings part present")
        what = "xlsx (%s strings)" % variant
        doc = expect_ok(upload(b, u, "typed-%s.xlsx" % variant, data), 201, what)
        f = doc["file"]
        eq(f["format"], "xlsx", what + ": format")
        eq(f["dialect"].get("sheet"), "Sales", what + ": the first sheet by default")
        eq(f["rows"], len(rows), what + ": rows")
        prof = profile_of(b, u, doc["id"])
        cols = prof["columns"]
        # merged B1:C1 gives "Amount" to both columns, made unique as CSV headers are
        eq([c["name"] for c in cols], ["Order", "Amount", "Amount_2", "Paid", "When", "Custom date",
                                       "Ratio", "Note"], what + ": column names")
        by = {c["name"]: c for c in cols}
        eq(top_values(by["Order"]), sorted(str(r[0]) for r in rows), what + ": integers")
        eq(by["Order"]["type"], "integer", what + ": Order type")
        eq(top_values(by["Amount"]), sorted(["12.5", "-0.25", "1e+20", "0"]), what + ": numbers as stored")
        eq(top_values(by["Paid"]), ["false", "true"],
           what + ": booleans")
        eq(by["Paid"]["nulls"] + by["Paid"]["blanks"], 1, what + ": the empty boolean cell")
        want_when = sorted(d.isoformat() for d in (D1, D2, D3, D4))
        eq(top_values(by["When"]), want_when, what + ": dates by style, 1900 leap-year bug handled")
        eq(top_values(by["Custom date"]), sorted(excel_date(s) for s in (45000, 45001, 45002)),
           what + ": a custom date format")
        eq(top_values(by["Ratio"]), sorted(["0.125", "2", "1.5"]), what + ": quoted d/y are not a date")
        eq(top_values(by["Note"]), sorted(["hello", "with, comma", "é ünïcode"]), what + ": strings")
        eq(by["Amount_2"]["nulls"] + by["Amount_2"]["blanks"], 1, what + ": a gap is an empty value")


@test("xlsx_sheet_parameter")
def _(env):
    b = backend(env, "main")
    u = env.user(b, "xlsxsheet")
    wb, _rows = typed_workbook()
    data = book_bytes(wb)
    before = snapshot_state(b, b.client, u.token)
    doc = expect_error(upload(b, u, "t.xlsx", data, sheet="Nope"), 422, "?sheet=Nope")
    eq(doc["errors"][0].get("code") or doc.get("code"), "xlsx_no_such_sheet", "?sheet=Nope: code")
    check("Other" in json.dumps(doc), "the error lists the sheets: %s" % doc)
    expect_nothing_registered(b, b.client, u.token, before, "?sheet=Nope")
    expect_error(upload(b, u, "t.xlsx", data, sheet=""), 400, "?sheet= empty")
    doc = expect_ok(upload(b, u, "t.xlsx", data, sheet="Other"), 201, "?sheet=Other")
    eq(doc["file"]["dialect"].get("sheet"), "Other", "dialect.sheet")
    eq(doc["file"]["rows"], 2, "rows of Other")
    prof = profile_of(b, u, doc["id"])
    eq([c["name"] for c in prof["columns"]], ["code", "qty"], "columns of Other")
    # the same bytes again: a duplicate when the sheet is the same, 409 for another
    eq(expect_ok(upload(b, u, "t.xlsx", data, sheet="Other"), 200, "again")["duplicate"], True, "dup")
    doc = expect_error(upload(b, u, "t.xlsx", data, sheet="Sales"), 409, "another sheet of a registered book")
    check("xlsx_sheet_registered" in json.dumps(doc), "409 reason: %s" % doc)


def zip_of(parts):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in parts.items():
            z.writestr(name, body)
    return out.getvalue()


def bomb_workbook():
    """A real workbook whose sheet part is 300 MB of one repeated row
    (deflate packs it about 1000:1)."""
    good = zipfile.ZipFile(io.BytesIO(book_bytes(typed_workbook()[0])))
    parts = {i.filename: good.read(i.filename) for i in good.infolist()}
    head = b'<worksheet xmlns="%s"><sheetData>' % NS.encode()
    row = b'<row><c t="inlineStr"><is><t>aaaaaaaaaaaaaaaaaaaaaaaa</t></is></c></row>'
    body = head + row * (300 * 1024 * 1024 // len(row)) + b"</sheetData></worksheet>"
    parts["xl/worksheets/sheet1.xml"] = body
    return zip_of(parts)


def wide_workbook():
    """A header cell past column XFD, Excel's last (16,384 columns)."""
    good = zipfile.ZipFile(io.BytesIO(book_bytes(typed_workbook()[0])))
    parts = {i.filename: good.read(i.filename) for i in good.infolist()}
    parts["xl/worksheets/sheet1.xml"] = (
        b'<worksheet xmlns="%s"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c>'
        b'<c r="XFE1" t="inlineStr"><is><t>b</t></is></c></row></sheetData></worksheet>' % NS.encode())
    return zip_of(parts)


@test("xlsx_bad_workbooks_422_with_reason")
def _(env):
    b = backend(env, "main")
    u = env.user(b, "xlsxbad")
    good = book_bytes(typed_workbook()[0])
    cases = [
        ("encrypted (OLE compound file)", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 4088,
         "xlsx_encrypted"),
        ("truncated zip", good[:len(good) // 2], "xlsx_corrupt"),
        ("zip bomb", bomb_workbook(), "xlsx_zip_bomb"),
        ("a zip that is not a workbook", zip_of({"hello.txt": b"hello"}), "xlsx_not_workbook"),
        ("a workbook without its sheet part",
         zip_of({n: zipfile.ZipFile(io.BytesIO(good)).read(n) for n in
                 zipfile.ZipFile(io.BytesIO(good)).namelist() if "worksheets" not in n}),
         "xlsx_missing_part"),
        ("too many columns", wide_workbook(), "xlsx_too_many_columns"),
        ("CSV sent as xlsx", b"a,b\n1,2\n", "xlsx_not_zip"),
    ]
    problems = []
    for what, data, code in cases:
        before = snapshot_state(b, b.client, u.token)
        try:
            doc = expect_error(upload(b, u, "bad.xlsx", data), 422, what)
            got = [e.get("code") for e in doc.get("errors") or []]
            check(code in got or doc.get("code") == code, "%s: want reason %s, got %s" % (what, code, doc))
            check(len(doc.get("error") or "") > 20, what + ": a readable reason: %r" % doc.get("error"))
            expect_nothing_registered(b, b.client, u.token, before, what)
        except AssertionError as e:
            problems.append(str(e))
    # an xlsx body sent as text/csv is a mismatch, not CSV garbage
    try:
        doc = expect_error(upload(b, u, "book.csv", good, "text/csv"), 422, "xlsx sent as text/csv")
        check("content_type_mismatch" in json.dumps(doc), "xlsx as text/csv: %s" % doc)
    except AssertionError as e:
        problems.append(str(e))
    check(not problems, "%d cases wrong: %s" % (len(problems), " | ".join(problems)))


INT = re.compile(r"-?[0-9]+$")
DEC = re.compile(r"-?[0-9]+\.[0-9]+$")
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def csv_to_xlsx(path):
    """The CSV as a workbook with typed cells, as a user's spreadsheet holds it."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = os.path.splitext(os.path.basename(path))[0]
    with open(path, newline="", encoding="utf-8") as f:
        for i, rec in enumerate(csv.reader(f)):
            if i == 0:
                ws.append(rec)
                continue
            out = []
            for v in rec:
                if INT.match(v) and not v.startswith("0"):
                    out.append(int(v))
                elif DEC.match(v):
                    out.append(float(v))
                elif DATE.match(v):
                    out.append(datetime.date.fromisoformat(v))
                else:
                    out.append(v if v != "" else None)
            ws.append(out)
    return book_bytes(wb)


def twin_runs(env):
    """retail-mini run twice: once from its CSV files, once from the same
    rows as xlsx workbooks (in two workspaces)."""
    def mk():
        b = backend(env, "main")
        d = os.path.join(env.seeds_dir(), "retail-mini")
        paths = sorted(os.path.join(d, f) for f in os.listdir(d))
        out = {}
        for kind in ("csv", "xlsx"):
            u = env.user(b, "twin" + kind)
            for p in paths:
                if kind == "csv":
                    with open(p, "rb") as f:
                        r = upload(b, u, os.path.basename(p), f.read(), "text/csv")
                else:
                    r = upload(b, u, os.path.basename(p)[:-4] + ".xlsx", csv_to_xlsx(p))
                expect_ok(r, 201, "upload %s as %s" % (p, kind))
            run = run_and_wait(b, u)
            eq(run["state"], "done", "%s run (%s)" % (kind, run.get("error")))
            out[kind] = u
        return b, out
    return env.fixture("xlsx-twin-runs", mk)


@test("xlsx_upload_runs_to_the_same_facts_as_its_csv_twin")
def _(env):
    b, users = twin_runs(env)
    figures = {}
    for kind, u in users.items():
        db = model(b, u)
        figures[kind] = {
            "facts": db.execute("SELECT count(*) FROM fact_sales").fetchone()[0],
            "quarantine": db.execute("SELECT count(*) FROM quarantine").fetchone()[0],
            "customers": db.execute("SELECT count(*) FROM dim_customer").fetchone()[0],
            "products": db.execute("SELECT count(*) FROM dim_product").fetchone()[0],
            "amount": db.execute("SELECT total(amount) FROM fact_sales").fetchone()[0],
            "quantity": db.execute("SELECT total(quantity) FROM fact_sales").fetchone()[0],
        }
    with open(os.path.join(env.seeds_dir(), "retail-mini", "orders.csv"), newline="") as f:
        orders = list(csv.DictReader(f))
    eq(figures["csv"]["facts"] + figures["csv"]["quarantine"], len(orders), "CSV run: every order line")
    check(figures["csv"]["facts"] > 0, "CSV run loaded facts")
    eq(figures["xlsx"], figures["csv"], "xlsx run vs CSV run")


def json_rows(b, u, path):
    doc = expect_ok(b.client.get(path, token=u.token), 200, path)
    return doc


@test("xlsx_export_typed_frozen_provenance_equals_json")
def _(env):
    b, users = twin_runs(env)
    u = users["xlsx"]
    jdoc = json_rows(b, u, "/api/v1/tables/fact_sales?_stream=1")
    r = b.client.get("/api/v1/tables/fact_sales.xlsx", token=u.token, headers={"Accept": None})
    eq(r.status, 200, "GET fact_sales.xlsx")
    eq(r.header("Content-Type"), XLSX, "Content-Type")
    check('attachment; filename="fact_sales.xlsx"' in (r.header("Content-Disposition") or ""),
          "Content-Disposition %r" % r.header("Content-Disposition"))
    wb = openpyxl.load_workbook(io.BytesIO(r.body))
    eq(wb.sheetnames, ["data", "provenance"], "sheets")
    ws = wb["data"]
    eq(ws.freeze_panes, "A2", "frozen header row")
    rows = list(ws.iter_rows(values_only=True))
    cols = jdoc["columns"]
    eq(list(rows[0]), [c["name"] for c in cols], "header row")
    eq(len(rows) - 1, len(jdoc["rows"]), "rows vs the JSON export")
    for c in cols:
        letter = openpyxl.utils.get_column_letter(cols.index(c) + 1)
        check(ws.column_dimensions[letter].width and ws.column_dimensions[letter].width >= len(c["name"]),
              "column %s has a width" % c["name"])
    types = {c["type"] for c in cols}
    check({"money", "date", "integer"} <= types, "fact_sales has money, date and integer columns: %s" % types)
    bad = []
    for jrow, xrow in zip(jdoc["rows"], rows[1:]):
        for i, c in enumerate(cols):
            jv, xv = jrow[c["name"]], xrow[i]
            t = c["type"]
            if jv is None:
                ok = xv is None
            elif t == "money":
                ok = isinstance(xv, (int, float)) and abs(xv - float(jv)) < 1e-9
            elif t in ("integer", "real"):
                ok = isinstance(xv, (int, float)) and not isinstance(xv, bool) and xv == jv
            elif t == "boolean":
                ok = xv is jv
            elif t == "date":
                ok = isinstance(xv, datetime.datetime) and xv.date().isoformat() == jv
            elif t == "timestamp":
                ok = isinstance(xv, datetime.datetime) and xv.strftime("%Y-%m-%dT%H:%M:%S") == jv[:19]
            else:
                ok = xv == jv
            if not ok:
                bad.append("%s: xlsx %r vs json %r" % (c["name"], xv, jv))
    check(not bad, "%d cells differ; first: %s" % (len(bad), bad[:3]))
    money_col = next(i for i, c in enumerate(cols) if c["type"] == "money")
    fmt = ws.cell(row=2, column=money_col + 1).number_format
    check(fmt.startswith("#,##0.00"), "money number format %r" % fmt)
    prov = {k: v for k, v in wb["provenance"].iter_rows(values_only=True)}
    jp = jdoc["provenance"]
    eq(prov["table"], jp["table"], "provenance table")
    eq(prov["row_count"], jp["row_count"], "provenance row_count")
    eq(prov["run_id"], jp["run_id"], "provenance run_id")
    eq(json.loads(prov["filters"]), jp["filters"], "provenance filters")
    eq(prov["truncated"], False, "provenance truncated")
    check(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", prov["generated_at"] or ""), "generated_at")


@test("xlsx_export_format_parameter_filters_and_bad_format")
def _(env):
    b, users = twin_runs(env)
    u = users["csv"]
    jdoc = json_rows(b, u, "/api/v1/tables/fact_sales?_stream=1&quantity__gte=2")
    r = b.client.get("/api/v1/tables/fact_sales?_format=xlsx&quantity__gte=2", token=u.token)
    eq(r.status, 200, "?_format=xlsx")
    eq(r.header("Content-Type"), XLSX, "Content-Type")
    wb = openpyxl.load_workbook(io.BytesIO(r.body))
    eq(wb["data"].max_row - 1, len(jdoc["rows"]), "filtered rows vs JSON")
    prov = {k: v for k, v in wb["provenance"].iter_rows(values_only=True)}
    eq(json.loads(prov["filters"]), jdoc["provenance"]["filters"], "filters in the provenance")
    r = b.client.get("/api/v1/tables/fact_sales?_format=xls", token=u.token)
    expect_error(r, 400, "?_format=xls")
    r = b.client.get("/api/v1/tables/fact_sales.xlsx?nosuchcolumn=1", token=u.token)
    expect_error(r, 400, "unknown column on .xlsx")
    r = b.client.get("/api/v1/tables/nosuchtable.xlsx", token=u.token)
    expect_error(r, 404, "unknown table .xlsx")
