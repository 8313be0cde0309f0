"""Uploads, listing, profiles, downloads, duplicates, deletion, bad input,
limits, streaming, and isolation between users.

Expected values are computed here from the seed files with Python's own csv
and json modules and hashlib, never copied from the service's answers.
"""
import collections
import csv
import gzip
import hashlib
import io
import json
import os
import re
import secrets
import time
import urllib.parse

from harness import (SetupError, Skip, check, eq, expect_error, expect_ok, parse_rfc3339, sha256_file)
from suite import test, backend

INT_RE = re.compile(r"-?(0|[1-9][0-9]*)$")       # no leading zeros: "007" may be an identifier
CTYPE = {".csv": "text/csv", ".json": "application/json", ".ndjson": "application/x-ndjson"}
FORMAT = {"text/csv": "csv", "application/json": "json", "application/x-ndjson": "ndjson"}
SEED_DIRS = ("crm-erp", "nexusflow")             # every file below them, reupload/ included
T0 = time.time()


# ------------------------------------------------------- expectations ---
class Expected:
    """What Python itself reads in one file."""

    def __init__(self, name, data, ctype, path=None):
        self.name, self.path, self.ctype = name, path, ctype
        self.format = FORMAT[ctype]
        self.size = len(data)
        self.sha256 = hashlib.sha256(data).hexdigest()
        self._data = None if path else data
        if data.startswith(b"\xef\xbb\xbf"):
            self.encoding, text = "utf-8-bom", data[3:].decode("utf-8")
        else:
            try:
                self.encoding, text = "utf-8", data.decode("utf-8")
            except UnicodeDecodeError:
                self.encoding, text = "latin-1", data.decode("latin-1")
        first = data.split(b"\n", 1)[0]
        self.line_ending = "crlf" if first.endswith(b"\r") else "lf"
        self.values = collections.OrderedDict()     # column name -> list of values
        if self.format == "csv":
            recs = [r for r in csv.reader(io.StringIO(text, newline="")) if r]
            self.columns = recs[0]
            for i, n in enumerate(self.columns):
                self.values[n] = [r[i] if i < len(r) else "" for r in recs[1:]]
            self.rows = len(recs) - 1
        else:
            if self.format == "json":
                doc = json.loads(text)
                if isinstance(doc, dict):
                    doc = next(iter(doc.values()))
            else:
                doc = [json.loads(ln) for ln in text.splitlines() if ln.strip()]
            self.columns = []
            for o in doc:
                for k in o:
                    if k not in self.columns:
                        self.columns.append(k)
            for n in self.columns:
                self.values[n] = [o.get(n) for o in doc]
            self.rows = len(doc)

    def data(self):
        if self._data is not None:
            return self._data
        with open(self.path, "rb") as f:
            return f.read()


def seed_paths(env):
    base = env.seeds_dir()
    out = []
    for d in SEED_DIRS:
        top = os.path.join(base, d)
        check(os.path.isdir(top), "seed dir %s missing" % top)
        for root, dirs, files in os.walk(top):
            dirs.sort()
            for f in sorted(files):
                out.append(os.path.join(root, f))
    return out


def seed_expectations(env):
    def mk():
        exps = []
        for p in seed_paths(env):
            ext = os.path.splitext(p)[1].lower()
            if ext not in CTYPE:
                raise AssertionError("seed %s: no content type known for %s files" % (p, ext))
            with open(p, "rb") as f:
                exps.append(Expected(os.path.basename(p), f.read(), CTYPE[ext], path=p))
        return exps
    return env.fixture("seed-expectations", mk)


# ----------------------------------------------------------- checking ---
def check_file_doc(f, exp, what):
    check(isinstance(f, dict), what + ": FILE must be an object")
    check(isinstance(f.get("id"), str) and f["id"], what + ": id must be a non-empty string")
    eq(f.get("name"), exp.name, what + ": name")
    eq(f.get("size"), exp.size, what + ": size (bytes)")
    eq(str(f.get("sha256", "")).lower(), exp.sha256, what + ": sha256")
    eq(str(f.get("content_type", "")).split(";")[0].strip().lower(), exp.ctype, what + ": content_type")
    eq(f.get("format"), exp.format, what + ": format")
    eq(f.get("status"), "profiled", what + ": status")
    eq(f.get("rows"), exp.rows, what + ": rows (Python's count)")
    eq(f.get("columns"), len(exp.columns), what + ": columns (Python's count)")
    d = f.get("dialect")
    check(isinstance(d, dict), what + ": dialect must be an object")
    eq(d.get("encoding"), exp.encoding, what + ": dialect.encoding")
    if exp.format == "csv":
        eq(d.get("delimiter"), ",", what + ": dialect.delimiter")
        eq(d.get("quote"), '"', what + ": dialect.quote")
        eq(d.get("header"), True, what + ": dialect.header")
        eq(d.get("line_ending"), exp.line_ending, what + ": dialect.line_ending")
    t = parse_rfc3339(f.get("uploaded_at"))
    check(T0 - 300 <= t <= time.time() + 300, what + ": uploaded_at %s is not about now" % f.get("uploaded_at"))


def is_null(v, fmt):
    return v is None or (fmt == "csv" and v == "")


def is_blank(v):
    return isinstance(v, str) and v != "" and v.strip() == ""


def key(v):
    return v if isinstance(v, str) else json.dumps(v, sort_keys=True)


def check_profile(doc, exp, what):
    prof = doc.get("profile")
    check(isinstance(prof, dict), what + ": no profile object")
    eq(prof.get("rows"), exp.rows, what + ": profile.rows")
    cols = prof.get("columns")
    check(isinstance(cols, list), what + ": profile.columns must be a list")
    eq(len(cols), len(exp.columns), what + ": number of profiled columns")
    names = [c.get("name") for c in cols]
    if exp.format == "csv":
        eq(names, exp.columns, what + ": column names in file order")
    else:
        eq(sorted(names), sorted(exp.columns), what + ": column names")
    ords = [c.get("ordinal") for c in cols]
    check(ords and ords[0] in (0, 1) and ords == list(range(ords[0], ords[0] + len(ords))),
          what + ": ordinals must count up from 0 or 1: %r" % ords[:10])
    need = ("ordinal", "name", "type", "nulls", "blanks", "distinct", "distinct_exact", "min", "max", "top",
            "examples")
    checked_int = 0
    for c in cols:
        w = "%s: column %r" % (what, c.get("name"))
        missing = [k for k in need if k not in c]
        check(not missing, w + ": missing keys %s" % missing)
        vals = exp.values[c["name"]]
        nulls = sum(1 for v in vals if is_null(v, exp.format))
        blanks = sum(1 for v in vals if is_blank(v))
        present = [v for v in vals if not is_null(v, exp.format)]
        solid = [v for v in present if not is_blank(v)]
        # nulls: the contract counts empty CSV fields (and JSON null/missing)
        if exp.format == "csv":
            eq(c["nulls"], nulls, w + ": nulls (Python's count of empty values)")
        else:
            empty_str = sum(1 for v in present if v == "")
            check(nulls <= c["nulls"] <= nulls + empty_str + blanks,
                  w + ": nulls %r, Python sees %d JSON null/missing (+%d empty strings)" % (c["nulls"], nulls,
                                                                                        empty_str))
        check(isinstance(c["blanks"], int) and c["blanks"] >= (blanks if exp.format == "csv" else 0),
              w + ": blanks %r, Python sees %d whitespace-only values" % (c["blanks"], blanks))
        # type: a column whose every non-empty value is an integer is an integer column
        # (CSV: text matching an integer; JSON: JSON integers only, "12" stays a string)
        if solid and all((exp.format == "csv" and INT_RE.match(v)) or (exp.format != "csv" and type(v) is int)
                         for v in solid):
            eq(c["type"], "integer", w + ": type (all %d non-empty values are integers)" % len(solid))
            ints = [int(v) for v in solid]
            check(c["min"] is not None and int(str(c["min"])) == min(ints), w + ": min %r, want %d" % (c["min"],
                                                                                                   min(ints)))
            check(c["max"] is not None and int(str(c["max"])) == max(ints), w + ": max %r, want %d" % (c["max"],
                                                                                                   max(ints)))
            checked_int += 1
        check(isinstance(c["distinct_exact"], bool), w + ": distinct_exact must be a boolean")
        if c["distinct_exact"]:
            # whether empty strings, blanks and nulls count as values is not fixed
            # by the contract: accept any of these readings
            filled = [v for v in solid if v != ""]
            options = {len(set(map(key, xs))) for xs in (vals, present, solid, filled)}
            check(c["distinct"] in options, w + ": distinct %r (exact), Python counts %s" % (c["distinct"],
                                                                                          sorted(options)))
        else:
            check(isinstance(c["distinct"], int) and c["distinct"] > 0, w + ": distinct estimate %r" % c["distinct"])
        top = c["top"]
        check(isinstance(top, list), w + ": top must be a list")
        if solid:
            check(top, w + ": top is empty for a column with values")
            counts = [t.get("count") for t in top]
            check(all(isinstance(n, int) for n in counts) and counts == sorted(counts, reverse=True),
                  w + ": top counts must be integers, most frequent first: %r" % counts[:10])
            best = {collections.Counter(map(key, xs)).most_common(1)[0][1]
                    for xs in (present, solid, [v for v in solid if v != ""]) if xs}
            # (with an estimated distinct count, top may be approximate too)
            check(counts[0] in best or not c["distinct_exact"],
                  w + ": top[0].count %r, Python's most frequent value occurs %s times" % (counts[0], sorted(best)))
            if exp.format == "csv" and c["distinct_exact"]:
                counter = collections.Counter(vals)
                for t in top:
                    v = t.get("value")
                    if isinstance(v, str) and v in counter:
                        eq(t["count"], counter[v], w + ": count of top value %r" % v)
        check(isinstance(c["examples"], list), w + ": examples must be a list")
    return checked_int


def files_of(c, token, size=None):
    """Every FILE of the user, following next_url; also checks the paging fields."""
    path = "/api/v1/files" + ("?_size=%d" % size if size else "")
    out, pages = [], 0
    while path:
        pages += 1
        check(pages < 200, "paging does not end")
        doc = expect_ok(c.get(path, token=token), 200, "list")
        files = doc.get("files")
        check(isinstance(files, list), "list: files must be a list")
        if size:
            check(len(files) <= size, "list: %d files on a page of _size=%d" % (len(files), size))
        check("next" in doc and "next_url" in doc, "list: next and next_url keys are required (null at the end)")
        check((doc["next"] is None) == (doc["next_url"] is None), "list: next and next_url must be null together")
        out.extend(files)
        nxt = doc["next_url"]
        if nxt:
            u = urllib.parse.urlsplit(nxt)
            check(not u.netloc or u.netloc == "%s:%d" % (c.host, c.port),
                  "next_url %r points to another host (built from a forged Host header?)" % nxt)
            path = u.path + ("?" + u.query if u.query else "")
            check(path.startswith("/api/v1/files"), "next_url %r does not page /api/v1/files" % nxt)
            if size:
                check(len(files) == size, "a page before the last must be full (%d of %d)" % (len(files), size))
        else:
            path = None
    ids = [f.get("id") for f in out]
    eq(len(ids), len(set(ids)), "list: a file appears on two pages")
    return out


def snapshot_state(b, c, token):
    return b.snapshot(), sorted(f.get("id") for f in files_of(c, token))


def expect_nothing_registered(b, c, token, before, what):
    snap, ids = snapshot_state(b, c, token)
    eq(ids, before[1], what + ": the file list changed")
    new = sorted(set(snap) - set(before[0]))
    check(not new, what + ": files left behind in the data dir: %s" % new[:5])


# ------------------------------------------------------------ fixtures ---
def seed_uploads(env):
    """alice (main) uploads every seed file once: [(Expected, Resp)]."""
    def mk():
        b = backend(env, "main")
        alice = env.user(b, "alice")
        out = []
        for exp in seed_expectations(env):
            r = b.client.upload(exp.name, exp.data(), exp.ctype, token=alice.token, timeout=300)
            out.append((exp, r))
        return alice, out
    return env.fixture("seed-uploads", mk)


def alice_files(env):
    """{id: Expected} of alice's successfully uploaded seeds."""
    alice, ups = seed_uploads(env)
    good = {}
    for exp, r in ups:
        if r.status in (200, 201):
            good[r.json.get("id")] = exp
    if not good:
        raise AssertionError("no seed upload succeeded (see files_upload_all_seeds)")
    return alice, good


# --------------------------------------------------------------- tests ---
@test("files_upload_all_seeds")
def _(env):
    b = backend(env, "main")
    alice, ups = seed_uploads(env)
    check(len(ups) >= 16, "expected the 16 seed files of crm-erp/ and nexusflow/, found %d" % len(ups))
    seen, failures = {}, []
    for exp, r in ups:
        what = "upload %s" % os.path.relpath(exp.path, env.seeds_dir())
        try:
            dup = exp.sha256 in seen
            doc = expect_ok(r, 200 if dup else 201, what)
            eq(doc.get("duplicate"), dup, what + ": duplicate")
            fid = doc.get("id")
            check(isinstance(fid, str) and fid, what + ": id")
            eq(r.header("Location"), "/api/v1/files/" + fid, what + ": Location")
            check_file_doc(doc.get("file"), exp, what)
            eq(doc["file"].get("id"), fid, what + ": file.id vs id")
            seen.setdefault(exp.sha256, fid)
        except AssertionError as e:
            failures.append(str(e))
    check(not failures, "%d of %d uploads wrong; first: %s" % (len(failures), len(ups), failures[0] if failures
                                                                  else ""))


@test("files_list_and_paging")
def _(env):
    b = backend(env, "main")
    alice, good = alice_files(env)
    c = b.client
    all_default = files_of(c, alice.token)
    eq(sorted(f.get("id") for f in all_default), sorted(good), "default list (_size 100) vs uploaded ids")
    for f in all_default:
        check_file_doc(f, good[f["id"]], "list entry %s" % f.get("name"))
    paged = files_of(c, alice.token, size=3)
    eq(sorted(f.get("id") for f in paged), sorted(good), "ids collected over pages of _size=3")
    check(len(good) <= 3 or len(paged) == len(good), "paging lost files")
    one = files_of(c, alice.token, size=1000)
    eq(len(one), len(good), "_size=1000 (the maximum)")


@test("files_profile")
def _(env):
    b = backend(env, "main")
    alice, good = alice_files(env)
    ints = 0
    for fid, exp in good.items():
        r = b.client.get("/api/v1/files/" + fid, token=alice.token, timeout=120)
        doc = expect_ok(r, 200, "GET file %s" % exp.name)
        check_file_doc(doc.get("file"), exp, "GET /files/{id} %s" % exp.name)
        ints += check_profile(doc, exp, "profile of %s" % exp.name)
    check(ints >= 10, "only %d all-integer columns were checked" % ints)


@test("files_raw_download_identical")
def _(env):
    b = backend(env, "main")
    alice, good = alice_files(env)
    for fid, exp in good.items():
        r = b.client.get("/api/v1/files/%s/raw" % fid, token=alice.token, timeout=120)
        eq(r.status, 200, "raw %s" % exp.name)
        check(r.body == exp.data(), "raw %s: %d bytes, sha256 %s; want the original %d bytes" % (
            exp.name, len(r.body), hashlib.sha256(r.body).hexdigest()[:12], exp.size))
        cd = r.header("Content-Disposition") or ""
        check(cd.startswith("attachment") and 'filename="%s"' % exp.name in cd,
              "raw %s: Content-Disposition %r" % (exp.name, cd))


@test("files_duplicate_upload")
def _(env):
    b = backend(env, "main")
    alice, good = alice_files(env)
    fid, exp = min(good.items(), key=lambda kv: kv[1].size)
    before = len(files_of(b.client, alice.token))
    r = b.client.upload(exp.name, exp.data(), exp.ctype, token=alice.token)
    doc = expect_ok(r, 200, "same bytes again")
    eq(doc.get("duplicate"), True, "duplicate flag")
    eq(doc.get("id"), fid, "id of the duplicate")
    eq(len(files_of(b.client, alice.token)), before, "number of files after a duplicate upload")


@test("files_delete")
def _(env):
    b = backend(env, "main")
    c = b.client
    u = env.user(b, "deleter")
    body = b"id,word\n1,alpha\n2,beta\n3,gamma-" + secrets.token_hex(8).encode() + b"\n"
    fid = expect_ok(c.upload("del.csv", body, token=u.token), 201, "upload").get("id")
    eq(c.get("/api/v1/files/%s/raw" % fid, token=u.token).body, body, "raw before delete")
    expect_ok(c.request("DELETE", "/api/v1/files/" + fid, token=u.token), 200, "delete")
    expect_error(c.get("/api/v1/files/" + fid, token=u.token), 404, "GET after delete")
    expect_error(c.get("/api/v1/files/%s/raw" % fid, token=u.token), 404, "raw after delete")
    expect_error(c.request("DELETE", "/api/v1/files/" + fid, token=u.token), 404, "second delete")
    eq(files_of(c, u.token), [], "list after delete")
    want = hashlib.sha256(body).hexdigest()
    for rel, size in b.snapshot().items():
        if size == len(body):
            check(sha256_file(os.path.join(b.data, rel)) != want, "deleted bytes still stored at DATA/" + rel)
    # the same bytes can be uploaded again (not a duplicate of a deleted file)
    r = c.upload("del.csv", body, token=u.token)
    eq(expect_ok(r, 201, "re-upload after delete").get("duplicate"), False, "duplicate after delete")


@test("files_content_types")
def _(env):
    b = backend(env, "main")
    c = b.client
    u = env.user(b, "ctypes")
    # charset parameters are fine
    data = "id,city\n1,Köln\n2,Zürich\n".encode()
    exp = Expected("cities.csv", data, "text/csv")
    doc = expect_ok(c.upload("cities.csv", data, "text/csv; charset=utf-8", token=u.token), 201,
                    "text/csv; charset=utf-8")
    check_file_doc(doc.get("file"), exp, "text/csv; charset=utf-8")
    jdata = b'[{"a": 1, "b": "x"}, {"a": 2, "b": null}]'
    doc = expect_ok(c.upload("j.json", jdata, "application/json; charset=UTF-8", token=u.token), 201,
                    "application/json; charset=UTF-8")
    check_file_doc(doc.get("file"), Expected("j.json", jdata, "application/json"), "json with charset")
    # NDJSON, made from the first 50 records of a seed file
    with open(os.path.join(env.seeds_dir(), "nexusflow", "customers_messy_data.json"), "rb") as f:
        recs = json.load(f)[:50]
    nd = "".join(json.dumps(o) + "\n" for o in recs).encode()
    nexp = Expected("customers.ndjson", nd, "application/x-ndjson")
    doc = expect_ok(c.upload("customers.ndjson", nd, "application/x-ndjson", token=u.token), 201, "ndjson")
    check_file_doc(doc.get("file"), nexp, "ndjson")
    eq(nexp.rows, 50, "test data")
    before = snapshot_state(b, c, u.token)
    for ct in ("text/plain", "application/octet-stream", "multipart/form-data; boundary=xyz", "application/xml",
               "text/html", "application/vnd.ms-excel"):
        expect_error(c.upload("x.csv", b"id\n1\n", ct, token=u.token), 415, "Content-Type " + ct)
    r = c.request("POST", "/api/v1/files?name=x.csv", body=b"id\n1\n", token=u.token)   # no Content-Type
    check(r.status in (400, 415), "upload without Content-Type: want 415 (or 400), got %d" % r.status)
    expect_nothing_registered(b, c, u.token, before, "refused content types")


@test("files_name_required_and_sanitised")
def _(env):
    b = backend(env, "main")
    c = b.client
    u = env.user(b, "names")
    before = snapshot_state(b, c, u.token)
    expect_error(c.upload(None, b"id\n1\n", token=u.token), 400, "no name parameter")
    expect_error(c.upload("", b"id\n1\n", token=u.token), 400, "empty name")
    expect_nothing_registered(b, c, u.token, before, "uploads without a name")
    marker = "evil-" + secrets.token_hex(4)
    for i, name in enumerate(("../../../%s.csv" % marker, "/tmp/%s.csv" % marker, "..\\..\\%s.csv" % marker)):
        r = c.upload(name, ("id\n%d\n" % i).encode(), token=u.token)
        check(r.status in (201, 400, 422), "name %r: want 201 (sanitised) or 400/422, got %d" % (name, r.status))
        if r.status == 201:
            stored = r.json.get("file", {}).get("name", "")
            check("/" not in stored and "\\" not in stored and ".." not in stored,
                  "name %r stored as %r" % (name, stored))
    for root, _dirs, files in os.walk(env.tmp):
        for f in files:
            if marker in f:
                check(os.path.join(b.data, "workspaces") in root,
                      "a file named after the upload escaped the workspace: %s" % os.path.join(root, f))
    check(not any(marker in f for f in os.listdir("/tmp")), "a file named after the upload appeared in /tmp")


BAD_INPUTS = [
    # (what, name, content type, body, expected line or None)
    ("CSV unterminated quote (opens on line 3)", "quote.csv", "text/csv",
     b'id,name,note\n1,a,fine\n2,b,"never closed\n3,c,more\n4,d,end\n', 3),
    ("CSV invalid UTF-8 that is not Latin-1 (C1 bytes, line 3)", "bad-utf8.csv", "text/csv",
     b"id,name\n1,ok\n2,bad \x81\x8d\x9d here\n3,fine\n", 3),
    ("CSV with NUL bytes (line 3)", "nul.csv", "text/csv", b"id,name\n1,ok\n2,\x00\x00\x00\x00\n3,x\n", 3),
    ("gzip data sent as text/csv", "data.csv", "text/csv", gzip.compress(b"id,name\n1,a\n" * 50), None),
    ("JSON syntax error on line 3", "bad.json", "application/json",
     b'[\n  {"a": 1},\n  {"a": 2,, "b": 3}\n]\n', 3),
    ("JSON that is not records", "nums.json", "application/json", b"[1, 2, 3]\n", None),
    ("NDJSON syntax error on line 3", "bad.ndjson", "application/x-ndjson",
     b'{"a": 1}\n{"a": 2}\n{"a": \n{"a": 4}\n', 3),
    ("empty CSV body", "empty.csv", "text/csv", b"", None),
    ("empty JSON body", "empty.json", "application/json", b"", None),
]


@test("files_bad_content_422_nothing_registered")
def _(env):
    b = backend(env, "main")
    c = b.client
    u = env.user(b, "badinput")
    problems = []
    for what, name, ct, body, line in BAD_INPUTS:
        before = snapshot_state(b, c, u.token)
        try:
            doc = expect_error(c.upload(name, body, ct, token=u.token), 422, what)
            errs = doc.get("errors") or []
            check(errs, what + ": errors[] is empty")
            e0 = errs[0]
            if body:
                check(isinstance(e0.get("line"), int) and e0["line"] >= 1, what + ": errors[0].line %r" %
                      e0.get("line"))
                check(isinstance(e0.get("column"), int) or isinstance(e0.get("offset"), int),
                      what + ": errors[0] needs a column or an offset: %r" % e0)
            if line is not None:
                eq(e0.get("line"), line, what + ": errors[0].line")
            expect_nothing_registered(b, c, u.token, before, what)
        except AssertionError as e:
            problems.append(str(e))
    check(not problems, "%d of %d cases wrong: %s" % (len(problems), len(BAD_INPUTS), " | ".join(problems)))


@test("files_encodings_and_dialects_accepted")
def _(env):
    b = backend(env, "main")
    c = b.client
    u = env.user(b, "encodings")
    cases = [
        ("latin-1", "latin1.csv", "id,name,city\n1,Müller,Köln\n2,José,São Paulo\n3,Ærø,Århus\n".encode("latin-1")),
        ("utf-8 with BOM", "bom.csv", b"\xef\xbb\xbfid,name\n1,x\n2,y\n"),
        ("CRLF with a quoted line break", "crlf.csv", b'id,note\r\n1,"two\r\nlines"\r\n2,plain\r\n'),
        ("no final newline", "nofinal.csv", b"id,name\n1,a\n2,b"),
    ]
    for what, name, data in cases:
        exp = Expected(name, data, "text/csv")
        doc = expect_ok(c.upload(name, data, token=u.token), 201, what)
        check_file_doc(doc.get("file"), exp, what)
        fid = doc["id"]
        eq(c.get("/api/v1/files/%s/raw" % fid, token=u.token).body, data, what + ": raw download")
        prof = expect_ok(c.get("/api/v1/files/" + fid, token=u.token))
        check_profile(prof, exp, what)
        if what == "latin-1":
            vals = [str(t.get("value")) for col in prof["profile"]["columns"] if col.get("name") == "name"
                    for t in col.get("top", [])]
            vals += [str(e) for col in prof["profile"]["columns"] if col.get("name") == "name"
                     for e in col.get("examples", [])]
            check("Müller" in vals or "José" in vals, "latin-1 values must come out as UTF-8 text: %r" % vals)
    eq(Expected("bom.csv", cases[1][2], "text/csv").encoding, "utf-8-bom", "test data")


@test("files_chunked_upload_without_length")
def _(env):
    b = backend(env, "main")
    c = b.client
    u = env.user(b, "chunky")
    for rel, ct in (("nexusflow/orders_unstructured_data.csv", "text/csv"),
                    ("nexusflow/products_inconsistent_data.json", "application/json")):
        path = os.path.join(env.seeds_dir(), rel)
        with open(path, "rb") as f:
            data = f.read()
        exp = Expected(os.path.basename(path), data, ct, path=path)

        def gen(d=data):
            for i in range(0, len(d), 7919):      # odd chunk sizes, no Content-Length
                yield d[i:i + 7919]
        doc = expect_ok(c.upload(exp.name, gen(), ct, token=u.token), 201, "chunked " + rel)
        check_file_doc(doc.get("file"), exp, "chunked " + rel)


def exact_csv(n):
    """A valid CSV of exactly n bytes."""
    head = b"id,text\n"
    rows, i = [], 0
    size = len(head)
    while size < n:
        i += 1
        row = b"%d,%s\n" % (i, b"x" * 40)
        rows.append(row)
        size += len(row)
    data = head + b"".join(rows)
    extra = len(data) - n
    last = rows[-1]
    pad = len(last) - len(b"%d,\n" % i) - extra
    if pad < 1:                    # make the last row absorb the difference
        rows.pop()
        data = head + b"".join(rows)
        missing = n - len(data)
        data += b"%d,%s\n" % (i, b"y" * (missing - len(b"%d,\n" % i)))
    else:
        data = head + b"".join(rows[:-1]) + b"%d,%s\n" % (i, b"x" * pad)
    assert len(data) == n, (len(data), n)
    return data


@test("files_upload_limit_413_nothing_registered")
def _(env):
    b = backend(env, "limits")           # CONCORD_MAX_UPLOAD_BYTES=4096, nginx allows 1g
    c = b.client
    u = env.user(b, "limited")
    at = exact_csv(4096)
    doc = expect_ok(c.upload("at-limit.csv", at, token=u.token), 201, "exactly CONCORD_MAX_UPLOAD_BYTES")
    eq(doc.get("file", {}).get("size"), 4096, "size at the limit")
    before = snapshot_state(b, c, u.token)
    over = exact_csv(4097)
    expect_error(c.upload("over.csv", over, token=u.token), 413, "one byte over, with Content-Length")
    expect_nothing_registered(b, c, u.token, before, "413 with Content-Length")

    def chunks(total=64 * 1024):
        data = exact_csv(total)
        for i in range(0, len(data), 1000):
            yield data[i:i + 1000]
    expect_error(c.upload("over-chunked.csv", chunks(), token=u.token), 413, "chunked, no CONTENT_LENGTH")
    expect_nothing_registered(b, c, u.token, before, "413 chunked")
    big = exact_csv(2 * 1024 * 1024)
    expect_error(c.upload("big.csv", big, token=u.token), 413, "2 MiB with Content-Length")
    expect_nothing_registered(b, c, u.token, before, "413 2 MiB")
    expect_ok(c.get("/api/v1/health"), 200, "service still healthy after 413s")


class BigCSV:
    """A ~200 MiB CSV produced in 1 MiB blocks; sha256, size and rows counted on the way."""

    def __init__(self, target):
        self.target, self.rows, self.size, self.h = target, 0, 0, hashlib.sha256()

    def __iter__(self):
        head = b"id,customer,amount,created,status,note\n"
        self.h.update(head)
        self.size += len(head)
        yield head
        note = b"lorem ipsum dolor sit amet consectetur adipiscing elit " * 6
        i = 0
        while self.size < self.target:
            lines = []
            for _ in range(2500):
                i += 1
                lines.append(b"%d,CUST_%05d,%d.%02d,2024-%02d-%02d,%s,%s\n" % (
                    i, i % 20000, i % 9973, i % 100, i % 12 + 1, i % 28 + 1,
                    (b"open", b"paid", b"void")[i % 3], note))
            block = b"".join(lines)
            self.rows += len(lines)
            self.size += len(block)
            self.h.update(block)
            yield block


@test("files_stream_200mb_constant_memory")
def _(env):
    b = backend(env, "main")
    c = b.client
    u = env.user(b, "bigup")
    # Signing in costs each worker Argon2id's 64 MiB (freed again): reset
    # the peak-RSS counter (clear_refs 5, Linux >= 4.0) so that VmHWM below
    # measures the upload alone.
    for p in b.pids():
        try:
            with open("/proc/%d/clear_refs" % p, "w") as f:
                f.write("5")
        except OSError as e:
            raise SetupError("cannot reset the peak RSS of pid %d: %s" % (p, e))
    gen = BigCSV(200 * 1024 * 1024)
    t = time.time()
    r = c.upload("big.csv", iter(gen), token=u.token, timeout=900)
    took = time.time() - t
    doc = expect_ok(r, 201, "200 MiB chunked upload")
    f = doc.get("file", {})
    eq(f.get("size"), gen.size, "size of the 200 MiB upload")
    eq(f.get("sha256"), gen.h.hexdigest(), "sha256 of the 200 MiB upload")
    eq(f.get("rows"), gen.rows, "rows of the 200 MiB upload")
    eq(f.get("columns"), 6, "columns of the 200 MiB upload")
    pids = b.pids()
    check(pids, "no concord processes found")
    hwm = {p: (env_proc_hwm(p) or 0) for p in pids}
    worst = max(hwm.values())
    # (ASan's quarantine and shadow memory make RSS no measure of the
    # program's: the bound is checked on the plain build only)
    check(env.san_dir is not None or worst < 64 * 1024,
          "peak RSS (VmHWM) of concord processes must stay under 64 MiB: %s" % (
              ", ".join("pid %d %.1f MiB" % (p, k / 1024) for p, k in sorted(hwm.items()))))
    expect_ok(c.request("DELETE", "/api/v1/files/" + doc["id"], token=u.token), 200, "delete the big file")
    return "upload %.1fs, %d rows, peak RSS %.1f MiB" % (took, gen.rows, worst / 1024)


def env_proc_hwm(pid):
    from harness import proc_status
    return proc_status(pid, "VmHWM")


@test("files_isolation_between_users")
def _(env):
    b = backend(env, "main")
    c = b.client
    alice, good = alice_files(env)
    bob = env.user(b, "bob")
    eq(files_of(c, bob.token), [], "bob's list (alice has %d files)" % len(good))
    ref = expect_error(c.get("/api/v1/files/" + "0" * 16 + "nosuch", token=bob.token), 404, "unknown id")
    for fid in good:
        for method, path, body in (("GET", "/api/v1/files/" + fid, None),
                                   ("GET", "/api/v1/files/%s/raw" % fid, None),
                                   ("GET", "/api/v1/files/%s/mapping" % fid, None),
                                   ("DELETE", "/api/v1/files/" + fid, None)):
            r = c.request(method, path, body=body, token=bob.token)
            d = expect_error(r, 404, "bob: %s alice's file" % method)
            eq(d.get("error"), ref.get("error"), "404 for another user's id must look like one for an unknown id")
            check(alice_name_not_in(r.body, good[fid].name), "%s leaks the file name" % r.what())
    still = {f.get("id") for f in files_of(c, alice.token)}
    check(set(good) <= still, "alice lost files after bob's DELETE attempts")
    # the same bytes in bob's workspace are a new file, not alice's duplicate
    fid, exp = min(good.items(), key=lambda kv: kv[1].size)
    doc = expect_ok(c.upload(exp.name, exp.data(), exp.ctype, token=bob.token), 201, "bob uploads alice's bytes")
    eq(doc.get("duplicate"), False, "duplicate flag across users")
    eq([f.get("id") for f in files_of(c, bob.token)], [doc["id"]], "bob's list after his upload")
    expect_ok(c.request("DELETE", "/api/v1/files/" + doc["id"], token=bob.token), 200, "bob deletes his copy")
    eq(c.get("/api/v1/files/%s/raw" % fid, token=alice.token).body, exp.data(), "alice's file after bob's delete")


def alice_name_not_in(body, name):
    return name.encode() not in body


@test("files_odd_ids_404")
def _(env):
    b = backend(env, "main")
    c = b.client
    alice, _good = alice_files(env)
    # (bare ".." is left out: removing dot segments may legitimately turn it into the list)
    for raw in ("..%2F..%2Fcontrol.db", "..%2f..%2fsecret", "%00", "1%20OR%201%3D1", "'%3B--", "x" * 3000,
                "%C0%AE%C0%AE", "*"):
        for suffix in ("", "/raw"):
            r = c.get("/api/v1/files/" + raw + suffix, token=alice.token)
            if r.status == 400:
                expect_error(r, 400, "odd id %r" % raw[:20])
            else:
                expect_error(r, 404, "odd id %r" % raw[:20])


@test("files_cli_upload_several_in_order")
def _(env):
    """`concord upload FILE...` reads and profiles several files at once
    but registers them in the order given: the listing's order, one line
    per argument on standard output in that order, a duplicate found
    within the same command, and a broken or missing file reported (line
    and column as the service gives them for the same bytes) without
    stopping the others; each registered file as Python reads it."""
    b = backend(env, "main")
    u = env.user(b, "cliup")
    c = b.client
    seeds = [os.path.join(env.seeds_dir(), "crm-erp", d, n)
             for d in ("source_crm", "source_erp")
             for n in sorted(os.listdir(os.path.join(env.seeds_dir(), "crm-erp", d)))
             if n.endswith(".csv")]
    check(len(seeds) >= 8, "only %d CRM/ERP seed files" % len(seeds))
    work = os.path.join(b.dir, "cliup")
    os.makedirs(work, exist_ok=True)
    broken = os.path.join(work, "broken.csv")
    # the quote opened on line 4, column 3 is never closed
    with open(broken, "w") as f:
        f.write('id,name\n1,Ann\n2,Bo\n3,"Cy\n4,Di\n')
    copy = os.path.join(work, "copy of cst_info.csv")
    with open(seeds[0], "rb") as src, open(copy, "wb") as dst:
        dst.write(src.read())
    missing = os.path.join(work, "missing.csv")
    args = seeds[:3] + [broken] + seeds[3:5] + [missing, copy] + seeds[5:]
    p = b.cli("upload", "--user", u.name, *args, check_rc=False)
    eq(p.returncode, 1, "rc with a broken and a missing file: %r" % p.stderr[-300:])
    out = p.stdout.decode().splitlines()
    err = p.stderr.decode().splitlines()
    good = [a for a in args if a not in (broken, missing)]
    eq(len(out), len(good), "one line per file registered or duplicate: %r" % out)
    # the service's word on the same broken bytes
    r = c.upload("broken.csv", open(broken, "rb").read(), "text/csv", token=u.token)
    doc = expect_error(r, 422 if r.status == 422 else 400, "broken.csv over HTTP")
    e = doc["errors"][0]
    eq((e.get("line"), e.get("column")), (4, 3), "where the service places the problem")
    prefix = "line 4, column 3: "
    check(doc["error"].startswith(prefix), "the service's error %r" % doc["error"])
    eq([x for x in err if "broken.csv" in x],
       ["concord: %s:4:3: %s" % (broken, doc["error"][len(prefix):])],
       "the broken file's error (stderr %r)" % err)
    eq([e for e in err if "missing.csv" in e], ["concord: %s: cannot open" % missing], "the missing file")
    eq(len(err), 2, "nothing else on standard error: %r" % err)
    ids = {}
    for line, path in zip(out, good):
        m = re.match(r"([0-9a-f]+) (registered|duplicate) (.+) rows ([0-9]+)$", line)
        check(m is not None, "line %r" % line)
        exp = Expected(os.path.basename(path), open(path, "rb").read(), "text/csv", path=path)
        eq(m.group(3), exp.name, "the line of %s (in argument order)" % exp.name)
        eq(int(m.group(4)), exp.rows, "rows of %s" % exp.name)
        eq(m.group(2), "duplicate" if path == copy else "registered", "%s: registered or duplicate" % exp.name)
        if path == copy:
            eq(m.group(1), ids[seeds[0]], "the duplicate's id is the first upload's")
            continue
        ids[path] = m.group(1)
        doc = expect_ok(c.get("/api/v1/files/" + m.group(1), token=u.token), 200, "GET " + exp.name)
        check_file_doc(doc.get("file"), exp, "CLI upload of " + exp.name)
        check_profile(doc, exp, "profile of the CLI upload of " + exp.name)
    listed = [f["name"] for f in files_of(c, u.token)]
    eq(listed, [os.path.basename(a) for a in good if a != copy], "the listing is in argument order")
