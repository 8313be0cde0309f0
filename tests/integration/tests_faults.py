"""Fault injection: disk full, I/O errors, failed allocations and kill -9 at
chosen points of an upload, a mapping save and a run.

The faults come from tests/fault/libconcord_fault.so (built by `make check`,
see its header), preloaded into the `concord` command line, which runs the
same core code as the service (registry_upload_*, mapping confirm, runs_*).
First each operation runs once with CONCORD_FAULT=count to learn how many
SQLite allocations, SQLite writes and syncs, file writes, fsyncs and renames
it makes; then it runs again with one of those made to fail (or the process
killed with SIGKILL just before it), at the first, the last and a random
point of each, with the default failure and with a kill (seed printed; CONCORD_FAULT_SEED=N replays;
CONCORD_FAULT_EXTRA=K adds 3K random points per operation, for a longer
search by hand).  After every
injection, on the `faults` backend that serves the same data directory:

  - every SQLite database under the data directory passes
    PRAGMA integrity_check;
  - the model served is the one of the last run that succeeded (the run id in
    a table download's provenance and the rows are unchanged);
  - the upload is complete (listed, same size and SHA-256) or absent (not
    listed, and no stored or temporary file left that a sweep cannot remove);
  - the mapping is the old one or the new one, never a mix;
  - the next run (without a fault) succeeds.
"""
import csv
import fcntl
import hashlib
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import time

from harness import REPO, Skip, check, eq, expect_ok, wait_for
from suite import test, backend

SAMPLES = os.path.join(REPO, "conf", "demo", "samples", "retail-mini")
OPS = ("malloc", "write", "sync", "fwrite", "fsync", "rename")


def shim():
    lib = os.environ.get("CONCORD_FAULT_LIB") or os.path.join(REPO, "tests", "fault", "libconcord_fault.so")
    if not os.path.exists(lib):
        raise Skip("no %s: run `make check` (it builds the fault-injection shim)" % lib)
    return lib


def preload(env):
    """LD_PRELOAD for the shim; a sanitizer runtime the binary needs goes first."""
    def mk():
        libs = []
        out = subprocess.run(["ldd", env.bin], capture_output=True, text=True).stdout
        for m in re.finditer(r"(\S*lib[at]san\.so\S*) => (\S+)", out):
            libs.append(m.group(2))
        return ":".join(libs + [shim()])
    return env.fixture("fault-preload", mk)


def fault_cli(b, pre, spec, args, stdin=None, report=None):
    e = b.process_env()
    e["LD_PRELOAD"] = pre
    e["CONCORD_FAULT"] = spec
    if report:
        e["CONCORD_FAULT_REPORT"] = report
    p = subprocess.run([b.env.bin, "-d", b.data] + list(args), input=stdin, capture_output=True, env=e,
                       timeout=60)
    check(p.returncode != 99, "the shim refused CONCORD_FAULT=%s: %r" % (spec, p.stderr[-300:]))
    return p


def counts(b, pre, args, stdin=None):
    rep = os.path.join(b.dir, "fault-report")
    if os.path.exists(rep):
        os.unlink(rep)
    p = fault_cli(b, pre, "count", args, stdin, rep)
    check(p.returncode == 0, "%s without a fault: rc %d %r" % (args[0], p.returncode, p.stderr[-400:]))
    with open(rep) as f:
        out = dict((k, int(v)) for k, v in (line.split() for line in f) if k != "pid")
    return out


def integrity(b, what):
    bad = []
    n = 0
    for root, _dirs, files in os.walk(b.data):
        for f in files:
            if not f.endswith(".db"):
                continue
            path = os.path.join(root, f)
            db = sqlite3.connect(path, timeout=10)
            try:
                rows = [r[0] for r in db.execute("PRAGMA integrity_check")]
            finally:
                db.close()
            n += 1
            if rows != ["ok"]:
                bad.append("%s: %s" % (os.path.relpath(path, b.data), rows[:3]))
    check(not bad, "%s: integrity_check failed: %s" % (what, "; ".join(bad)))
    check(n >= 2, "%s: no databases found under the data directory" % what)


def served(b, u):
    """(run id of the model served, its dim_customer rows) through nginx."""
    r = b.client.get("/api/v1/tables/dim_customer.json?_size=1000&_sort=customer_id", token=u.token)
    doc = expect_ok(r, 200, "dim_customer")
    return doc["provenance"]["run_id"], doc["rows"]


def run_ok(b, u, what):
    p = b.cli("run", "--user", u.name, check_rc=False)
    check(p.returncode == 0, "%s: the next run failed: %r" % (what, (p.stderr or p.stdout)[-500:]))
    run = json.loads(p.stdout)
    eq(run["state"], "done", what + ": the next run")
    return run["id"]


def files_of(b, u):
    doc = expect_ok(b.client.get("/api/v1/files?_size=1000", token=u.token))
    return {f["id"]: f for f in doc["files"]}


def locked(path):
    """True if some live process holds path's lock (so no sweep may take it)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except OSError:
        return True
    finally:
        os.close(fd)


def stored_files(b, u):
    d = os.path.join(b.data, "workspaces", u.id, "uploads")
    return sorted(os.listdir(d))


def runner_pid(b):
    for pid in b.pids():
        try:
            with open("/proc/%d/comm" % pid) as f:
                if f.read().strip() == "concord-runner":
                    return pid
        except OSError:
            pass
    return None


def points(rng, n):
    """Where to break an operation that does something n times: the first,
    the last and a random time in between, each with a failure and with a
    kill -9, and a kill -9 half-way (a run killed while running, whatever the
    seed).  The first and the last are where the bugs were (a stored
    upload killed before its row; a run killed or out of disk right after
    installing its model, or before recording its end)."""
    if n <= 0:
        return []
    out = [(1, None), (n, None), (rng.randint(1, n), None),
           (1, "kill"), (n // 2 + 1, "kill"), (n, "kill"), (rng.randint(1, n), "kill")]
    for _ in range(int(os.environ.get("CONCORD_FAULT_EXTRA", "0"))):   # more, by hand
        out += [(rng.randint(1, n), None), (rng.randint(1, n), "kill"), (rng.randint(1, n), "ioerr")]
    return sorted(set(out), key=lambda x: (x[0], x[1] or ""))


def the_setup(env):
    def mk():
        b = backend(env, "faults")
        pre = preload(env)
        u = env.user(b, "faulty")
        for name in sorted(os.listdir(SAMPLES)):
            with open(os.path.join(SAMPLES, name), "rb") as f:
                expect_ok(b.client.upload(name, f.read(), token=u.token), 201, "upload " + name)
        run_ok(b, u, "the first run")
        return b, pre, u
    return env.fixture("faults-setup", mk)


class State:
    """What must hold after an injection; updated when an operation succeeded."""

    def __init__(self, b, u):
        self.b, self.u = b, u
        self.model = served(b, u)
        self.files = files_of(b, u)

    def verify(self, what, run_after=True):
        b, u = self.b, self.u
        integrity(b, what)
        rid, rows = served(b, u)
        eq(rid, self.model[0], what + ": run id of the model served (the previous one)")
        check(rows == self.model[1], what + ": the rows served changed")
        if run_after:
            rid = run_ok(b, u, what)
            self.model = served(b, u)
            eq(self.model[0], rid, what + ": the model served after the next run")
            check(self.model[1] == rows, what + ": the next run's rows differ from the previous run's")


def report_line(results):
    return "; ".join("%s %d injections (%d killed, %d failed, %d passed)" % (
        k, v[0], v[1], v[2], v[3]) for k, v in results.items())


def seed():
    s = os.environ.get("CONCORD_FAULT_SEED")
    return int(s) if s else int(time.time()) % 100000


@test("faults_upload_mapping_run_integrity")
def _(env):
    b, pre, u = the_setup(env)
    st = State(b, u)
    sd = seed()
    rng = random.Random(sd)
    results = {}
    cust = [f for f in st.files.values() if f["name"] == "customers.csv"][0]["id"]

    def note(group, p):
        r = results.setdefault(group, [0, 0, 0, 0])
        r[0] += 1
        if p.returncode == -signal.SIGKILL:
            r[1] += 1
        elif p.returncode != 0:
            r[2] += 1
        else:
            r[3] += 1

    # -- uploads: complete or absent
    path = os.path.join(b.dir, "fault-upload.csv")
    seq = [0]

    def new_upload():
        seq[0] += 1
        body = ("id,tag\n" + "".join("%d,fault-%d-%d\n" % (i, seq[0], i) for i in range(2000))).encode()
        with open(path, "wb") as f:
            f.write(body)
        return body

    body = new_upload()
    n = counts(b, pre, ["upload", "--user", u.name, path])
    added = [i for i in files_of(b, u) if i not in st.files]
    eq(len(added), 1, "the counting upload")
    expect_ok(b.client.request("DELETE", "/api/v1/files/" + added[0], token=u.token), 200, "delete")
    for op in OPS:
        for at, act in points(rng, n.get(op, 0)):
            spec = "%s:%d%s" % (op, at, ":" + act if act else "")
            what = "upload with %s (seed %d)" % (spec, sd)
            body = new_upload()
            before = set(stored_files(b, u))
            p = fault_cli(b, pre, spec, ["upload", "--user", u.name, path])
            note("upload", p)
            check(p.returncode <= 1 or p.returncode == -signal.SIGKILL, "%s: rc %d %r" % (
                what, p.returncode, p.stderr[-300:]))
            now = files_of(b, u)
            new = [i for i in now if i not in st.files]
            sha = hashlib.sha256(body).hexdigest()
            check(len(new) <= 1, what + ": %d new files" % len(new))
            if p.returncode == 0:
                eq(len(new), 1, what + ": a successful upload is listed")
            if new:
                f = now[new[0]]
                eq((f["size"], f["sha256"]), (len(body), sha), what + ": the file listed")
                raw = b.client.get("/api/v1/files/%s/raw" % new[0], token=u.token)
                eq(hashlib.sha256(raw.body).hexdigest(), sha, what + ": raw bytes")
            left = stored_files(b, u)
            registered = {x["sha256"] for x in now.values()}
            # a killed upload may leave its temporary or stored file, but
            # unlocked: the next sweep removes it (checked after the loop)
            held = [x for x in left if x not in registered and
                    locked(os.path.join(b.data, "workspaces", u.id, "uploads", x))]
            check(not held, what + ": unlisted files still locked after the process ended: %s" % held)
            if p.returncode >= 0:
                eq(sorted(set(left) - before - registered), [], what + ": files left by an upload that ended")
            st.verify(what, run_after=False)
            if new:
                expect_ok(b.client.request("DELETE", "/api/v1/files/" + new[0], token=u.token), 200,
                          what + ": delete")
    # what killed uploads left is removed by the next sweep (the runner's start)
    old = runner_pid(b)
    check(old is not None, "no concord-runner")
    os.kill(old, signal.SIGKILL)
    wait_for(lambda: runner_pid(b) not in (None, old), 15, "a new runner")
    registered = {x["sha256"] for x in files_of(b, u).values()}
    wait_for(lambda: set(stored_files(b, u)) == registered, 10, "the new runner's sweep")
    st.verify("after the uploads")

    # -- mapping saves: the old mapping or the new one
    def mapping_of():
        doc = expect_ok(b.client.get("/api/v1/files/%s/mapping" % cust, token=u.token))
        return [(c["source"], c.get("target")) for c in doc["mapping"]["columns"]]

    first = mapping_of()
    toggled = [c for c in first if c[1] and not c[1].endswith("customer_id")][-1][0]

    def edit_doc(cols):
        return json.dumps({"columns": [{"source": s, "target": t} for s, t in cols]}).encode()

    alt = [(s, None if s == toggled else t) for s, t in first]
    n = counts(b, pre, ["mapping", "edit", "--user", u.name, cust], edit_doc(first))
    current = mapping_of()
    eq(current, first, "the counting mapping save")
    for op in OPS:
        for at, act in points(rng, n.get(op, 0)):
            spec = "%s:%d%s" % (op, at, ":" + act if act else "")
            what = "mapping save with %s (seed %d)" % (spec, sd)
            want = alt if current == first else first
            p = fault_cli(b, pre, spec, ["mapping", "edit", "--user", u.name, cust], edit_doc(want))
            note("mapping", p)
            got = mapping_of()
            check(got in (current, want), what + ": the mapping is neither the old nor the new one: %r" % got)
            if p.returncode == 0:
                eq(got, want, what + ": a save that succeeded")
            current = got
            st.verify(what, run_after=False)
    if current != first:
        p = b.cli("mapping", "edit", "--user", u.name, cust, stdin=edit_doc(first))
    st.verify("after the mapping saves")

    # -- runs: the previous model served, the next run succeeds
    n = counts(b, pre, ["run", "--user", u.name])
    st.model = served(b, u)
    for op in OPS:
        pts = points(rng, n.get(op, 0))
        if op == "write":
            # every one of the run's first writes, disk full from there:
            # where the run is recorded before anything can record its
            # end (a run left queued that no process would execute blocked
            # every later run; seed 87815 found it)
            pts = sorted(set(pts) | {(k, None) for k in range(2, min(n.get(op, 0), 10) + 1)},
                         key=lambda x: (x[0], x[1] or ""))
        for at, act in pts:
            spec = "%s:%d%s" % (op, at, ":" + act if act else "")
            what = "run with %s (seed %d)" % (spec, sd)
            p = fault_cli(b, pre, spec, ["run", "--user", u.name])
            note("run", p)
            runs = expect_ok(b.client.get("/api/v1/runs", token=u.token))["runs"]
            tried = runs[0]["id"] if runs and runs[0]["id"] != st.model[0] else None
            rid = served(b, u)[0]
            if p.returncode == 0:
                check(rid != st.model[0], what + ": a run that succeeded installed no new model")
            if rid != st.model[0]:
                # installed before the fault (the rename is the commit
                # point): the whole new model, the attempted run's
                eq(rid, tried, what + ": the model served is neither the previous one nor the attempted run's")
                st.model = (rid, st.model[1])
            st.verify(what)
            if tried is not None:       # ended at the latest when the next run started
                run = expect_ok(b.client.get("/api/v1/runs/" + tried, token=u.token))["run"]
                eq(run["state"], "done" if rid == tried else "failed", what + ": the attempted run's state")
    return "seed %d; %s" % (sd, report_line(results))


def sales_copies(env, b, copies):
    """The CRM/ERP master files and a file of sales_details.csv's lines
    `copies` times (each copy's order ids suffixed, so that every line is a
    fact): (masters' paths, the lines' path, the number of lines)."""
    seeds = os.path.join(env.seeds_dir(), "crm-erp")
    big = os.path.join(b.dir, "sales_x%d.csv" % copies)
    with open(os.path.join(seeds, "source_crm", "sales_details.csv"), newline="") as f:
        rows = list(csv.reader(f))
    head, body = rows[0], rows[1:]
    oid = head.index("sls_ord_num")
    with open(big, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(head)
        for k in range(copies):
            for r in body:
                r = list(r)
                r[oid] = "%s-%d" % (r[oid], k)
                w.writerow(r)
    masters = [os.path.join(seeds, "source_crm", "cst_info.csv"), os.path.join(seeds, "source_crm", "prd_info.csv"),
               os.path.join(seeds, "source_erp", "CST_AZ12.csv"), os.path.join(seeds, "source_erp", "LOC_A101.csv"),
               os.path.join(seeds, "source_erp", "PX_CAT_G1V2.csv")]
    return masters, big, copies * len(body)


def upload_paths(b, u, paths):
    for path in paths:
        with open(path, "rb") as f:
            expect_ok(b.client.upload(os.path.basename(path), f.read(), token=u.token), 201,
                      "upload " + os.path.basename(path))


def model_bytes(b, u):
    with open(os.path.join(b.data, "workspaces", u.id, "model.db"), "rb") as f:
        return f.read()


def model_intact(b, u, before, what):
    """model.db has the bytes it had, no temporary model is left beside it,
    every database passes integrity_check."""
    wsdir = os.path.join(b.data, "workspaces", u.id)
    check(model_bytes(b, u) == before, what + ": model.db changed")
    left = [x for x in os.listdir(wsdir) if x.startswith("model.db") and x != "model.db"]
    eq(left, [], what + ": temporary models left")
    integrity(b, what)


def staged_and_loaded(b, u):
    """(staged order lines, facts) of u's model."""
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(b.data, "workspaces", u.id, "model.db"), uri=True)
    try:
        return tuple(db.execute("SELECT (SELECT count(*) FROM stg_order_line), (SELECT count(*) FROM fact_sales)"
                                ).fetchone())
    finally:
        db.close()


def last_run(b, u):
    runs = expect_ok(b.client.get("/api/v1/runs", token=u.token))["runs"]
    return expect_ok(b.client.get("/api/v1/runs/" + runs[0]["id"], token=u.token))["run"]


@test("faults_stage_insert_fails_run")
def _(env):
    """A staging INSERT that fails (the disk full: RLIMIT_FSIZE) while the
    stage's writer thread inserts a large file's rows fails the run in its
    stage phase with the file named, leaves the model served as it was and
    no temporary model behind, and the next run stages every row."""
    import resource
    b, _pre, _u = the_setup(env)
    u = env.user(b, "stagefull")
    masters, big, lines = sales_copies(env, b, 4)
    upload_paths(b, u, masters)
    run_ok(b, u, "the masters' run")
    upload_paths(b, u, [big])
    before = model_bytes(b, u)
    limit = len(before) + (8 << 20)     # room for the masters, not for the lines

    def fsize():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)       # write() fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    p = subprocess.run([env.bin, "-d", b.data, "run", "--user", u.name], capture_output=True,
                       env=b.process_env(), timeout=120, preexec_fn=fsize)
    eq(p.returncode, 1, "the run with the disk full: rc (stderr %r)" % p.stderr[-300:])
    run = last_run(b, u)
    eq(run["state"], "failed", "the run's state")
    eq(run.get("phase"), "stage", "the phase it failed in")
    err = run.get("error") or {}
    msg = err.get("message") if isinstance(err, dict) else str(err)
    name = os.path.basename(big)
    check(msg.startswith("file %s: " % name), "the error names the file: %r" % msg)
    check(len(msg) > len("file %s: " % name) + 8, "the error says what failed: %r" % msg)
    model_intact(b, u, before, "after the failed run")
    rid = run_ok(b, u, "the run after the failed one")
    run = expect_ok(b.client.get("/api/v1/runs/" + rid, token=u.token))["run"]
    # the masters' staging is the previous run's (their files are unchanged)
    eq(run["counts"]["source_rows"], lines, "rows the next run staged")
    eq(staged_and_loaded(b, u), (lines, lines), "staged lines and facts of the next run")
    return "limit %d bytes: %s; %d lines staged after" % (limit, msg, lines)


@test("faults_load_insert_fails_run")
def _(env):
    """A write that fails (disk full: the fault shim's write:N, every write
    from the Nth on) in the load phase's pass over 241,592 lines, where a
    writer thread inserts the facts that the run's thread reads and
    resolves: the run fails in its load phase with the pass's error,
    model.db and the workspace are intact, no temporary model is left,
    and the next run loads every line."""
    b, pre, _u = the_setup(env)
    u = env.user(b, "loadfull")
    masters, big, lines = sales_copies(env, b, 4)
    upload_paths(b, u, masters + [big])
    p = b.cli("run", "--user", u.name, "--phase", "reconcile")
    eq(json.loads(p.stdout)["state"], "done", "the run up to reconcile")
    # the writes of a run up to reconcile, then up to load (each from the
    # same state: the files are unchanged, their staging is copied); the
    # load's are its dimensions, the model shared for the second
    # connection (a COMMIT), the pass, the facts' indexes and, at the
    # end, the checkpoint out of WAL mode (about half of them).  The
    # pass's are from about 1/16 to 1/5 of the difference on these files
    # (CONCORD_FAULT=write:N at each point, 2026-12-06): 1/8 is the pass,
    # and the error says so.
    n1 = counts(b, pre, ["run", "--user", u.name, "--phase", "reconcile"])["write"]
    n2 = counts(b, pre, ["run", "--user", u.name, "--phase", "load"])["write"]
    check(n2 > n1 + 100, "the load's writes: %d then %d" % (n1, n2))
    b.cli("run", "--user", u.name, "--phase", "reconcile")
    before = model_bytes(b, u)
    at = n1 + (n2 - n1) // 8
    p = fault_cli(b, pre, "write:%d" % at, ["run", "--user", u.name])
    err = p.stderr.decode("utf-8", "replace")
    eq(p.returncode, 1, "the run with write:%d: rc (stderr %r)" % (at, err[-300:]))
    # the writer's INSERTs failed (not the commit that shares the model)
    check("failed: load: inserting the order lines: " in err, "the pass's error: %r" % err[-300:])
    eq(last_run(b, u).get("phase"), "load", "the phase it failed in")
    model_intact(b, u, before, "after the failed run")
    run_ok(b, u, "the run after the failed one")
    eq(staged_and_loaded(b, u), (lines, lines), "staged lines and facts of the next run")
    return "write:%d of %d..%d: %s" % (at, n1, n2, err.strip().splitlines()[-1][-80:])
