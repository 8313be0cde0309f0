#!/usr/bin/env python3
"""tests/bench/soak.py - a bounded load and soak test of the whole service.

A measuring program, not a test (never run by tests/run or CI).  It builds the
integration tests' installation (tests/integration/harness.py: `concord serve
--workers 2` behind nginx with the shipped conf/nginx/*.conf, TLS, loopback
only, in a temporary directory removed at the end), gives user `soak` a model
(the files of DATA, default conf/demo/samples/retail-mini, and one run), then
drives CONNS keep-alive HTTPS connections (threads) for SECONDS of mixed
traffic and stops by itself:

  dashboard  GET /api/v1/dashboards/{name} (every dashboard in turn)
  table      GET /api/v1/tables/{name}?_size=50 (every table in turn)
  export     GET /api/v1/tables/{name}.csv?_stream=1
  upload     POST /api/v1/files, a new small CSV each time
  badlogin   POST /api/v1/auth/login, user `victim` with a wrong password
             (401, then 429 once the account is locked: expected answers)
  login      POST /api/v1/auth/login, user `soak` with its password
  list       GET /api/v1/files?_size=20, GET /api/v1/me

Afterwards every upload answered 201 must be listed with its size and SHA-256
and its raw bytes must be the ones sent; one that is not is "lost".

Report (Markdown on stdout): requests, req/s, non-2xx (and how many of them
were the expected 401/429 of badlogin), 5xx, transport errors, p50/p99
latency per kind and overall, uploads answered 201 and lost.  Exit status 1
when the bar is missed: any 5xx, any transport error, any lost upload.

usage: python3 tests/bench/soak.py [--seconds 60] [--conns 64] [--data DIR]
       [--bin ./concord] [--seed N]
Run as root from the repository root (nginx drops to www-data, as in the
integration tests), after `make`.
"""
import argparse
import hashlib
import http.client
import json
import os
import random
import secrets
import ssl
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import harness  # noqa: E402

MIX = [("dashboard", 30), ("table", 25), ("export", 10), ("upload", 12), ("badlogin", 10), ("login", 1),
       ("list", 10)]


def pct(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


class Conn:
    """One keep-alive HTTPS connection; reopened after an error or a close."""

    def __init__(self, port, ctx):
        self.port, self.ctx, self.c = port, ctx, None

    def request(self, method, path, body=None, headers=None):
        for attempt in (0, 1):
            if self.c is None:
                self.c = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx, timeout=60)
            try:
                self.c.request(method, path, body=body, headers=headers or {})
                r = self.c.getresponse()
                data = r.read()
                if (r.getheader("Connection") or "").lower() == "close":
                    self.c.close()
                    self.c = None
                return r.status, data
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as e:
                # a keep-alive connection nginx closed between requests: retry once, fresh
                self.c.close()
                self.c = None
                if attempt == 1:
                    raise e
        raise AssertionError("unreachable")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--conns", type=int, default=64)
    ap.add_argument("--data", default=os.path.join(harness.REPO, "conf", "demo", "samples", "retail-mini"))
    ap.add_argument("--bin", default=os.environ.get("CONCORD_BIN") or os.path.join(harness.REPO, "concord"))
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    os.environ["CONCORD_BIN"] = os.path.abspath(a.bin)
    env = harness.Env()
    try:
        return run(env, a)
    finally:
        env.cleanup()


def run(env, a):
    log = lambda s: print("soak: " + s, file=sys.stderr, flush=True)  # noqa: E731
    env.make_cert()
    env.make_public()
    b = env.backend("soak", {})
    b.init()
    b.start()
    b.port = harness.free_port()
    env.start_nginx([(b.name, b.port, b.sock)])
    b.client = env.client(b.port)
    soak = env.user(b, "soak")
    env.user(b, "victim")
    log("uploading %s and running" % a.data)
    for name in sorted(os.listdir(a.data)):
        with open(os.path.join(a.data, name), "rb") as f:
            ct = "application/json" if name.endswith(".json") else "text/csv"
            r = b.client.upload(name, f.read(), ct, token=soak.token, timeout=600)
            if r.status != 201:
                raise SystemExit("upload %s: %r" % (name, r))
    p = b.cli("run", "--user", soak.name)
    if json.loads(p.stdout)["state"] != "done":
        raise SystemExit("the run failed: %s" % p.stdout[-500:])
    tok = soak.token
    auth = {"Authorization": "Bearer " + tok, "Accept": "application/json"}
    dashboards = [d["name"] for d in b.client.get("/api/v1/dashboards", token=tok).json["dashboards"]]
    tables = [t["name"] for t in b.client.get("/api/v1/tables", token=tok).json["tables"]]
    small = [t for t in b.client.get("/api/v1/tables", token=tok).json["tables"]
             if (t.get("rows") or t.get("count") or 0) <= 5000] or [{"name": tables[0]}]
    exports = [t["name"] for t in small]
    log("%d dashboards, %d tables; %d connections for %.0f s" % (len(dashboards), len(tables), a.conns, a.seconds))

    lock = threading.Lock()
    lat = {k: [] for k, _ in MIX}
    status = {k: {} for k, _ in MIX}
    errors = []
    uploads = []            # (id, size, sha256)
    kinds = [k for k, w in MIX for _ in range(w)]
    stop_at = time.time() + a.seconds
    seq = [0]

    def worker(i):
        rng = random.Random(a.seed * 1000 + i)
        c = Conn(b.port, env.tls_ctx)
        while time.time() < stop_at:
            kind = rng.choice(kinds)
            body, hdr, method = None, dict(auth), "GET"
            if kind == "dashboard":
                path = "/api/v1/dashboards/" + rng.choice(dashboards)
            elif kind == "table":
                path = "/api/v1/tables/%s?_size=50" % rng.choice(tables)
            elif kind == "export":
                path = "/api/v1/tables/%s.csv?_stream=1" % rng.choice(exports)
            elif kind == "upload":
                with lock:
                    seq[0] += 1
                    n = seq[0]
                body = ("id,label,amount\n" + "".join("%d,soak-%d-%d-%s,%d.%02d\n" % (
                    j, n, j, secrets.token_hex(4), rng.randrange(10000), rng.randrange(100))
                    for j in range(rng.randrange(5, 200)))).encode()
                method, path = "POST", "/api/v1/files?name=soak-%d.csv" % n
                hdr["Content-Type"] = "text/csv"
            elif kind in ("badlogin", "login"):
                method, path = "POST", "/api/v1/auth/login"
                hdr = {"Content-Type": "application/json", "Accept": "application/json"}
                body = json.dumps({"username": "victim", "password": "wrong-%d" % rng.randrange(1 << 30)}
                                  if kind == "badlogin" else {"username": soak.name, "password": soak.password}).encode()
            else:
                path = rng.choice(["/api/v1/files?_size=20", "/api/v1/me"])
            t0 = time.perf_counter()
            try:
                st, data = c.request(method, path, body, hdr)
            except Exception as e:  # noqa: a transport error is a finding
                with lock:
                    errors.append("%s %s: %s: %s" % (method, path, type(e).__name__, e))
                c = Conn(b.port, env.tls_ctx)
                continue
            dt = time.perf_counter() - t0
            with lock:
                lat[kind].append(dt)
                status[kind][st] = status[kind].get(st, 0) + 1
                if kind == "upload" and st == 201:
                    d = json.loads(data)
                    uploads.append((d["id"], len(body), hashlib.sha256(body).hexdigest()))

    t0 = time.time()
    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(a.conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(a.seconds + 120)
    took = time.time() - t0
    log("checking %d uploads" % len(uploads))
    listed, after = {}, None
    while True:
        r = b.client.get("/api/v1/files?_size=100" + ("&_next=" + after if after else ""), token=tok)
        doc = r.json
        for f in doc["files"]:
            listed[f["id"]] = f
        after = doc.get("next")
        if not after:
            break
    lost = []
    for fid, size, sha in uploads:
        f = listed.get(fid)
        if f is None or (f["size"], f["sha256"]) != (size, sha):
            lost.append(fid)
            continue
        raw = b.client.get("/api/v1/files/%s/raw" % fid, token=tok, check_headers=False)
        if hashlib.sha256(raw.body).hexdigest() != sha:
            lost.append(fid)
    healthy = b.client.get("/api/v1/health").status == 200

    total = sum(len(v) for v in lat.values())
    allx = [x for v in lat.values() for x in v]
    non2xx = sum(n for k in status for s, n in status[k].items() if not 200 <= s < 300)
    expected = sum(n for s, n in status["badlogin"].items() if s in (401, 429))
    five = sum(n for k in status for s, n in status[k].items() if s >= 500)
    print("| kind | requests | statuses | p50 ms | p99 ms |")
    print("|---|---|---|---|---|")
    for k, _w in MIX:
        print("| %s | %d | %s | %.1f | %.1f |" % (k, len(lat[k]), ", ".join(
            "%d: %d" % (s, n) for s, n in sorted(status[k].items())), pct(lat[k], 50) * 1e3, pct(lat[k], 99) * 1e3))
    print("| **all** | **%d** | | **%.1f** | **%.1f** |" % (total, pct(allx, 50) * 1e3, pct(allx, 99) * 1e3))
    print()
    print("%d connections, %.0f s: %d requests (%.0f req/s); non-2xx %d (%d of them the expected 401/429 of"
          " wrong-password logins, %d others); 5xx %d; transport errors %d; uploads answered 201: %d, lost: %d;"
          " health afterwards: %s" % (a.conns, took, total, total / took, non2xx, expected, non2xx - expected,
                                      five, len(errors), len(uploads), len(lost), "ok" if healthy else "FAILED"))
    for e in errors[:10]:
        print("    transport error: " + e)
    if lost:
        print("    lost uploads: " + ", ".join(lost[:20]))
    return 1 if five or errors or lost or not healthy else 0


if __name__ == "__main__":
    sys.exit(main())
