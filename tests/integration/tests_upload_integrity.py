"""A request body cut off part-way is never stored, nor kept on disk.

Through the real nginx with the shipped configuration (uploads streamed with
`fastcgi_request_buffering off`) and directly on the service's FastCGI socket
with a small FastCGI client written here (records of the FastCGI 1.0
specification: BEGIN_REQUEST, PARAMS, STDIN, ABORT_REQUEST).

What nginx 1.22 sends the backend, as these tests establish: a body with
Content-Length as CONTENT_LENGTH plus STDIN records ending with an empty one;
a chunked body without CONTENT_LENGTH, its end record sent after the
terminating chunk; for a client that disconnects mid-body (FIN or RST) or
sends a malformed chunk, no end record: nginx closes the FastCGI connection
(it never sends FCGI_ABORT_REQUEST).  The service must then register nothing.

The `upload` backend runs with CONCORD_BODY_IDLE_TIMEOUT=2 (seconds), so that
the idle timeout can be seen, and is restarted by the tests that check what
the next start of the service removes.
"""
import fcntl  # noqa: F401  (used by the lock-holder child, imported here to fail early)
import hashlib
import json
import os
import re
import secrets
import signal
import socket
import ssl
import stat
import struct
import subprocess
import sys
import threading
import time

from harness import REPO, SetupError, check, eq, expect_ok, wait_for
from suite import test, backend
from tests_files import exact_csv, expect_nothing_registered, files_of, snapshot_state

IDLE = 2                        # CONCORD_BODY_IDLE_TIMEOUT of the upload backend

# ------------------------------------------------------------ FastCGI ---
FCGI_BEGIN_REQUEST, FCGI_ABORT_REQUEST, FCGI_END_REQUEST = 1, 2, 3
FCGI_PARAMS, FCGI_STDIN, FCGI_STDOUT, FCGI_STDERR = 4, 5, 6, 7
FCGI_RESPONDER = 1


def fcgi_record(rtype, content=b"", rid=1):
    pad = (-len(content)) % 8
    return struct.pack("!BBHHBx", 1, rtype, rid, len(content), pad) + content + b"\0" * pad


def fcgi_pair(name, value):
    def length(n):
        return bytes([n]) if n < 128 else struct.pack("!I", n | 0x80000000)
    name, value = name.encode(), value.encode()
    return length(len(name)) + length(len(value)) + name + value


class FcgiResp:
    def __init__(self, status, headers, body, ended):
        self.status, self.headers, self.body, self.ended = status, headers, body, ended

    @property
    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "<FastCGI %s %r>" % (self.status, self.body[:300])


class Fcgi:
    """One request on the service's unix socket, as a web server would send it."""

    def __init__(self, sock_path, timeout=30):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(sock_path)

    def begin(self, method, uri, params=None, content_length=None, content_type=None, token=None,
              request_id=None):
        p = {"REQUEST_METHOD": method, "REQUEST_URI": uri, "DOCUMENT_URI": uri.split("?")[0],
             "QUERY_STRING": uri.split("?", 1)[1] if "?" in uri else "", "SERVER_PROTOCOL": "HTTP/1.1",
             "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "127.0.0.1", "GATEWAY_INTERFACE": "CGI/1.1"}
        if content_length is not None:
            p["CONTENT_LENGTH"] = str(content_length)
        if content_type:
            p["CONTENT_TYPE"] = content_type
        if token:
            p["HTTP_AUTHORIZATION"] = "Bearer " + token
        if request_id:
            p["REQUEST_ID"] = request_id
        p.update(params or {})
        body = b"".join(fcgi_pair(k, v) for k, v in p.items())
        self.s.sendall(fcgi_record(FCGI_BEGIN_REQUEST, struct.pack("!HB5x", FCGI_RESPONDER, 0)) +
                       fcgi_record(FCGI_PARAMS, body) + fcgi_record(FCGI_PARAMS))
        return self

    def stdin(self, data):
        for i in range(0, len(data), 32768):
            self.s.sendall(fcgi_record(FCGI_STDIN, data[i:i + 32768]))
        return self

    def end_stdin(self):
        self.s.sendall(fcgi_record(FCGI_STDIN))
        return self

    def abort(self):
        self.s.sendall(fcgi_record(FCGI_ABORT_REQUEST))
        return self

    def close(self, reset=False):
        if reset:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.s.close()

    def response(self):
        """Reads records up to FCGI_END_REQUEST (or the connection's end)."""
        buf, out, ended = b"", b"", False
        while True:
            while len(buf) >= 8:
                _v, rtype, _rid, clen, pad = struct.unpack("!BBHHBx", buf[:8])
                if len(buf) < 8 + clen + pad:
                    break
                content, buf = buf[8:8 + clen], buf[8 + clen + pad:]
                if rtype == FCGI_STDOUT:
                    out += content
                elif rtype == FCGI_END_REQUEST:
                    ended = True
            if ended:
                break
            try:
                chunk = self.s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                chunk = b""
            if not chunk:
                break
            buf += chunk
        self.s.close()
        head, _sep, body = out.partition(b"\r\n\r\n")
        headers = {}
        for line in head.decode("latin-1").split("\r\n"):
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        status = int(headers.get("status", "0").split()[0] or 0)
        return FcgiResp(status, headers, body, ended)


def fcgi_upload(b, token, name, data, content_length="exact", end=True, rid=None):
    """A whole upload on the socket; content_length "exact", None or a number."""
    cl = len(data) if content_length == "exact" else content_length
    f = Fcgi(b.sock).begin("POST", "/api/v1/files?name=" + name, content_length=cl,
                           content_type="text/csv", token=token, request_id=rid)
    f.stdin(data)
    if end:
        f.end_stdin()
    return f.response()


def expect_incomplete(r, reason, announced, received, what):
    """The 400 envelope of a body cut off, with its counts."""
    check(r.status == 400, "%s: want 400, got %s %r" % (what, r.status, r.body[:300]))
    doc = r.json
    eq(doc.get("ok"), False, what + ": ok")
    eq(doc.get("status"), 400, what + ": envelope status")
    errs = doc.get("errors") or [{}]
    e = errs[0]
    eq(e.get("code"), "upload_incomplete", what + ": errors[0].code")
    eq(e.get("reason"), reason, what + ": errors[0].reason")
    eq(e.get("announced"), announced, what + ": errors[0].announced")
    if received is not None:
        eq(e.get("received"), received, what + ": errors[0].received")
    check(isinstance(e.get("detail"), str) and "nothing was stored" in e["detail"],
          what + ": errors[0].detail %r" % e.get("detail"))
    return e


# ---------------------------------------------------------- HTTP, raw ---
class Raw:
    """A TLS connection to nginx that can stop mid-body, as a client that drops would."""

    def __init__(self, env, port):
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.s = env.tls_ctx.wrap_socket(s, server_hostname="127.0.0.1")
        self.port = port

    def head(self, path, token, headers):
        h = ["POST %s HTTP/1.1" % path, "Host: 127.0.0.1:%d" % self.port, "Authorization: Bearer " + token,
             "Content-Type: text/csv", "Connection: close"] + ["%s: %s" % kv for kv in headers.items()]
        self.s.sendall(("\r\n".join(h) + "\r\n\r\n").encode())
        return self

    def send(self, data):
        self.s.sendall(data)
        return self

    def drop(self, how):
        """how: "fin" (close), "rst" (reset) or "half" (shutdown the sending side, keep reading)."""
        time.sleep(0.3)                       # let nginx forward what it has
        if how == "half":
            # TCP's shutdown, not SSLSocket.shutdown() (which drops the TLS state)
            socket.socket.shutdown(self.s, socket.SHUT_WR)
            return self
        if how == "rst":
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.s.close()
        return self

    def read_all(self, timeout=30):
        self.s.settimeout(timeout)
        out = b""
        try:
            while True:
                c = self.s.recv(65536)
                if not c:
                    break
                out += c
        except (OSError, ssl.SSLError):
            pass
        self.s.close()
        return out


def parse_http(raw):
    head, _sep, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.[01] (\d{3})", lines[0] if lines else "")
    return (int(m.group(1)) if m else None), body


def chunked(data, size):
    return b"".join(b"%x\r\n%s\r\n" % (len(data[i:i + size]), data[i:i + size])
                    for i in range(0, len(data), size))


# ---------------------------------------------------------- the service ---
def log_lines(b, rid):
    with open(b.log, "rb") as f:
        text = f.read().decode("utf-8", "replace")
    return [ln for ln in text.splitlines() if "req=%s " % rid in ln]


INCOMPLETE_RE = re.compile(r"body incomplete: (\w+), announced (-?\d+), received (\d+)")


def wait_incomplete(b, rid, timeout=20):
    """The service's log of request rid: (reason, announced, received, status)."""
    end = time.time() + timeout
    while time.time() < end:
        lines = log_lines(b, rid)
        inc = [INCOMPLETE_RE.search(ln) for ln in lines]
        inc = [m for m in inc if m]
        done = [ln for ln in lines if re.search(r" (POST|PUT) /api/v1/\S+ \d{3} ", ln)]
        if inc and done:
            status = int(re.search(r" (?:POST|PUT) /api/v1/\S+ (\d{3}) ", done[0]).group(1))
            m = inc[0]
            return m.group(1), int(m.group(2)), int(m.group(3)), status
        if done and not inc:
            raise AssertionError("request %s ended without a cut-off body: %s" % (rid, done[0]))
        time.sleep(0.1)
    raise AssertionError("no log line of request %s after %ss: %r" % (rid, timeout, log_lines(b, rid)))


def rid_of(what):
    return "it-%s-%s" % (what, secrets.token_hex(6))


def temp_uploads(b, user):
    d = os.path.join(b.data, "workspaces", user.id, "uploads")
    return sorted(os.path.join(d, f) for f in os.listdir(d) if f.startswith(".upload-")) if os.path.isdir(d) else []


def up(env):
    return backend(env, "upload")


def fresh(env, name):
    b = up(env)
    return b, env.user(b, name)


# ------------------------------------------------------ through nginx ---
@test("body_cut_nginx_content_length_nothing_stored")
def _(env):
    """The issue's case: 543,065 bytes announced, the sender gone after 327,680."""
    b, u = fresh(env, "cutlen")
    c = b.client
    data = exact_csv(543065)
    before = snapshot_state(b, c, u.token)
    for how in ("fin", "rst", "half"):
        rid = rid_of("cutlen-" + how)
        raw = Raw(env, b.port).head("/api/v1/files?name=cut-%s.csv" % how, u.token,
                                    {"Content-Length": str(len(data)), "X-Request-Id": rid})
        raw.send(data[:327680]).drop(how)
        reason, announced, received, status = wait_incomplete(b, rid)
        if how == "half":
            raw.read_all(10)
        what = "client %s after 327,680 of 543,065 bytes" % how
        eq(reason, "connection_closed", what + ": why the service saw the body end")
        eq(announced, 543065, what + ": announced")
        check(0 < received <= 327680, what + ": received %d" % received)
        eq(status, 400, what + ": the service's answer")
        expect_nothing_registered(b, c, u.token, before, what)
        eq(temp_uploads(b, u), [], what + ": temporary files left")
    # the twin: the same bytes sent whole are registered
    doc = expect_ok(c.upload("whole.csv", data, token=u.token), 201, "the same file, whole")
    eq(doc["file"]["size"], 543065, "size of the whole file")


@test("body_cut_nginx_chunked_nothing_stored")
def _(env):
    """No CONTENT_LENGTH: only the terminating chunk says the body is whole."""
    b, u = fresh(env, "cutchunk")
    c = b.client
    data = exact_csv(836901)
    body = chunked(data, 30011)
    before = snapshot_state(b, c, u.token)
    cut = body.index(b"\r\n", 300000) + 2 + 1000      # inside a chunk's data
    for how in ("fin", "rst"):
        rid = rid_of("cutchunk-" + how)
        raw = Raw(env, b.port).head("/api/v1/files?name=cutchunk-%s.csv" % how, u.token,
                                    {"Transfer-Encoding": "chunked", "X-Request-Id": rid})
        raw.send(body[:cut]).drop(how)
        reason, announced, received, status = wait_incomplete(b, rid)
        what = "chunked, client %s mid-chunk" % how
        eq(reason, "connection_closed", what + ": reason")
        eq(announced, -1, what + ": no CONTENT_LENGTH for a chunked body")
        check(0 < received < len(data), what + ": received %d" % received)
        eq(status, 400, what + ": the service's answer")
        expect_nothing_registered(b, c, u.token, before, what)
        eq(temp_uploads(b, u), [], what + ": temporary files left")
    # all chunks but not the terminating one, then gone: still incomplete
    rid = rid_of("cutchunk-last")
    raw = Raw(env, b.port).head("/api/v1/files?name=nolast.csv", u.token,
                                {"Transfer-Encoding": "chunked", "X-Request-Id": rid})
    raw.send(body).drop("fin")
    reason, announced, received, status = wait_incomplete(b, rid)
    eq((reason, status), ("connection_closed", 400), "every chunk but the last-chunk")
    eq(received, len(data), "every byte arrived, the end did not")
    expect_nothing_registered(b, c, u.token, before, "chunked without its terminating chunk")
    # a malformed chunk: nginx refuses it and closes the FastCGI connection
    rid = rid_of("badchunk")
    raw = Raw(env, b.port).head("/api/v1/files?name=badchunk.csv", u.token,
                                {"Transfer-Encoding": "chunked", "X-Request-Id": rid})
    raw.send(body[:cut - 1000] + b"zz\r\nnot a chunk\r\n")
    status, _body = parse_http(raw.read_all(20))
    reason, announced, received, sstatus = wait_incomplete(b, rid)
    eq(reason, "connection_closed", "malformed chunk: reason")
    eq(status, 400, "malformed chunk: the answer nginx gives the client")
    expect_nothing_registered(b, c, u.token, before, "malformed chunk")
    # the twin: the whole chunked body, terminating chunk included
    raw = Raw(env, b.port).head("/api/v1/files?name=whole-chunked.csv", u.token,
                                {"Transfer-Encoding": "chunked", "X-Request-Id": rid_of("chunk-ok")})
    raw.send(body + b"0\r\n\r\n")
    status, rbody = parse_http(raw.read_all(60))
    eq(status, 201, "the whole chunked body: %r" % rbody[:300])
    f = json.loads(rbody)["file"]
    eq((f["size"], f["sha256"]), (len(data), hashlib.sha256(data).hexdigest()), "size and sha256")


@test("body_idle_timeout_nginx_frees_worker")
def _(env):
    """A client that stops sending: the service gives up after CONCORD_BODY_IDLE_TIMEOUT."""
    b, u = fresh(env, "idlenginx")
    c = b.client
    before = snapshot_state(b, c, u.token)
    data = exact_csv(5000)
    raws, t0 = [], time.time()
    for i in range(2):                 # both workers of the backend
        rid = rid_of("idle-nginx-%d" % i)
        raws.append((rid, Raw(env, b.port).head("/api/v1/files?name=idle%d.csv" % i, u.token,
                                                 {"Content-Length": str(len(data)), "X-Request-Id": rid})
                     .send(data[:1000])))
    for rid, raw in raws:
        status, body = parse_http(raw.read_all(IDLE + 20))
        took = time.time() - t0
        check(IDLE - 0.5 <= took <= IDLE + 15, "answered after %.1fs, want about %ds" % (took, IDLE))
        eq(status, 400, "a stalled upload through nginx: %r" % body[:300])
        e = expect_incomplete(FcgiResp(status, {}, body, True), "idle_timeout", 5000, None, "stalled via nginx")
        check(0 < e["received"] <= 1000, "received %r" % e["received"])
        reason, _a, _r, _s = wait_incomplete(b, rid)
        eq(reason, "idle_timeout", "the service's log")
    t = time.time()
    expect_ok(c.get("/api/v1/health"), 200, "a worker is free again")
    check(time.time() - t < 5, "health took %.1fs" % (time.time() - t))
    expect_nothing_registered(b, c, u.token, before, "stalled uploads")


# ---------------------------------------------------------- on the socket ---
@test("body_fcgi_short_long_abort_cut_400_nothing_stored")
def _(env):
    b, u = fresh(env, "fcgicut")
    c = b.client
    before = snapshot_state(b, c, u.token)
    body15 = b"id,name\n1,abc\n\n"
    eq(len(body15), 15, "test data")
    # CONTENT_LENGTH 1000, 15 bytes, then the end record
    r = fcgi_upload(b, u.token, "short.csv", body15, content_length=1000)
    expect_incomplete(r, "ended_early", 1000, 15, "1000 announced, 15 sent")
    check(r.ended, "the request ends with FCGI_END_REQUEST")
    expect_nothing_registered(b, c, u.token, before, "short body")
    # more than announced
    r = fcgi_upload(b, u.token, "long.csv", b"id\n" + b"1\n" * 9, content_length=10)
    expect_incomplete(r, "too_long", 10, None, "10 announced, 21 sent")
    expect_nothing_registered(b, c, u.token, before, "long body")
    # FCGI_ABORT_REQUEST after 2,000 of 5,000 bytes
    data = exact_csv(5000)
    f = Fcgi(b.sock).begin("POST", "/api/v1/files?name=abort.csv", content_length=5000,
                           content_type="text/csv", token=u.token)
    r = f.stdin(data[:2000]).abort().response()
    expect_incomplete(r, "connection_closed", 5000, 2000, "FCGI_ABORT_REQUEST")
    expect_nothing_registered(b, c, u.token, before, "aborted request")
    # the stream cut at 300,027 of 836,901 bytes (the web server's connection closes)
    data = exact_csv(836901)
    for reset in (False, True):
        rid = rid_of("fcgicut")
        f = Fcgi(b.sock).begin("POST", "/api/v1/files?name=cut.csv", content_length=len(data),
                               content_type="text/csv", token=u.token, request_id=rid)
        f.stdin(data[:300027])
        time.sleep(0.2)
        f.close(reset=reset)
        reason, announced, received, status = wait_incomplete(b, rid)
        what = "stream %s at 300,027 of 836,901" % ("reset" if reset else "closed")
        eq((reason, announced, received, status), ("connection_closed", 836901, 300027, 400), what)
        expect_nothing_registered(b, c, u.token, before, what)
    # no CONTENT_LENGTH (a chunked body passed on) and the connection closes: cut
    rid = rid_of("fcginolen")
    f = Fcgi(b.sock).begin("POST", "/api/v1/files?name=nolen.csv", content_type="text/csv",
                           token=u.token, request_id=rid)
    f.stdin(data[:100000])
    time.sleep(0.2)
    f.close()
    eq(wait_incomplete(b, rid), ("connection_closed", -1, 100000, 400), "no CONTENT_LENGTH, closed")
    expect_nothing_registered(b, c, u.token, before, "no CONTENT_LENGTH, closed")
    eq(temp_uploads(b, u), [], "temporary files left")
    # the twins: exact CONTENT_LENGTH, and no CONTENT_LENGTH with the end record
    r = fcgi_upload(b, u.token, "exact.csv", data)
    eq(r.status, 201, "CONTENT_LENGTH equal to the bytes sent: %r" % r)
    eq(r.json["file"]["size"], len(data), "size")
    r = fcgi_upload(b, u.token, "nolen.csv", exact_csv(7000), content_length=None)
    eq(r.status, 201, "no CONTENT_LENGTH, ended by the end record: %r" % r)
    eq(r.json["file"]["size"], 7000, "size")


@test("body_fcgi_json_endpoints_400_nothing_changed")
def _(env):
    """Every endpoint that reads a body: a whole JSON object that is not the whole body."""
    b, u = fresh(env, "fcgijson")
    c = b.client
    admin = env.admin_token(b)
    fid = expect_ok(c.upload("map.csv", b"customer_id,name\nC1,Ann\nC2,Bo\n", token=u.token), 201)["id"]
    mapping = expect_ok(c.get("/api/v1/files/%s/mapping" % fid, token=u.token))["mapping"]
    check(mapping.get("state") != "confirmed", "a fresh file's mapping is only proposed: %r" % mapping.get("state"))
    name = "cut" + secrets.token_hex(3)
    doc = json.dumps({"username": name, "password": secrets.token_urlsafe(16), "role": "member"}).encode()
    cases = [
        ("POST /users", "POST", "/api/v1/users", admin, doc),
        ("POST /auth/login", "POST", "/api/v1/auth/login", None,
         json.dumps({"username": u.name, "password": u.password}).encode()),
        ("PUT /me/password", "PUT", "/api/v1/me/password", u.token,
         json.dumps({"current_password": u.password, "password": "x" + secrets.token_urlsafe(16)}).encode()),
        ("PUT /files/{id}/mapping", "PUT", "/api/v1/files/%s/mapping" % fid, u.token, json.dumps(mapping).encode()),
    ]
    for what, method, uri, token, body in cases:
        for announced, reason in ((len(body) + 50, "ended_early"), (len(body) - 5, "too_long")):
            f = Fcgi(b.sock).begin(method, uri, content_length=announced, content_type="application/json",
                                   token=token)
            r = f.stdin(body).end_stdin().response()
            expect_incomplete(r, reason, announced, len(body) if reason == "ended_early" else None,
                              "%s, %d announced, %d sent" % (what, announced, len(body)))
        f = Fcgi(b.sock).begin(method, uri, content_length=len(body) + 50, content_type="application/json",
                               token=token)
        f.stdin(body)
        f.abort()
        expect_incomplete(f.response(), "connection_closed", len(body) + 50, len(body), what + ", aborted")
    users = expect_ok(c.get("/api/v1/users", token=admin))["users"]
    check(all(x.get("username") != name for x in users), "a user was created from a cut-off body")
    expect_ok(c.login(u.name, u.password), 200, "the password is unchanged")
    after = expect_ok(c.get("/api/v1/files/%s/mapping" % fid, token=u.token))["mapping"]
    eq(after.get("state"), mapping.get("state"), "the mapping's state after cut-off PUTs")
    # the twin: the same mapping sent whole is confirmed
    r = c.put_json("/api/v1/files/%s/mapping" % fid, mapping, token=u.token)
    eq(expect_ok(r, 200, "the mapping sent whole")["mapping"].get("state"), "confirmed", "state")


@test("body_idle_timeout_fcgi_frees_workers_and_trickle_passes")
def _(env):
    b, u = fresh(env, "idlefcgi")
    c = b.client
    before = snapshot_state(b, c, u.token)
    data = exact_csv(4000)
    conns, t0 = [], time.time()
    for i in range(2):                 # every worker of the backend holds a stalled body
        f = Fcgi(b.sock, timeout=IDLE + 20).begin("POST", "/api/v1/files?name=stall%d.csv" % i,
                                                  content_length=4000, content_type="text/csv", token=u.token)
        conns.append(f.stdin(data[:100 + i]))
    for i, f in enumerate(conns):
        r = f.response()
        took = time.time() - t0
        expect_incomplete(r, "idle_timeout", 4000, 100 + i, "stalled body %d" % i)
        check(IDLE - 0.5 <= took <= IDLE + 10, "answered after %.1fs, want about %ds" % (took, IDLE))
    expect_ok(c.get("/api/v1/health"), 200, "the workers are free again")
    expect_nothing_registered(b, c, u.token, before, "stalled bodies")
    eq(temp_uploads(b, u), [], "temporary files left")
    # an idle timer, not a deadline: a body slower than IDLE in all but never silent that long
    body = exact_csv(40000)
    f = Fcgi(b.sock, timeout=60).begin("POST", "/api/v1/files?name=trickle.csv", content_length=len(body),
                                       content_type="text/csv", token=u.token)
    t0 = time.time()
    for i in range(0, len(body), 5000):
        f.stdin(body[i:i + 5000])
        time.sleep(IDLE / 3.0)
    r = f.end_stdin().response()
    check(time.time() - t0 > IDLE * 2, "the trickle took longer than two timeouts")
    eq(r.status, 201, "a slow body that keeps moving: %r" % r)
    eq(r.json["file"]["size"], len(body), "size of the slow body")


@test("worker_free_once_answered_while_web_server_holds_connection")
def _(env):
    """A worker whose request was read to its end closes at once: it does not
    wait on the web server's end of the connection (libfcgi's lingering close
    waits up to 2 s).  Both workers answer a request whose connection the
    client then keeps open; a third request must be answered at once."""
    b, u = fresh(env, "freeworker")

    def answered_kept_open(method, uri, body=None):
        f = Fcgi(b.sock, timeout=10).begin(method, uri, content_length=len(body) if body else None,
                                          content_type="application/json" if body else None, token=u.token)
        if body:
            f.stdin(body)
        f.end_stdin()
        buf, ended = b"", False
        while not ended:               # the records up to END_REQUEST, the socket left open
            chunk = f.s.recv(65536)
            check(chunk, "%s %s: the connection ended before END_REQUEST" % (method, uri))
            buf += chunk
            while len(buf) >= 8:
                _v, rtype, _rid, clen, pad = struct.unpack("!BBHHBx", buf[:8])
                if len(buf) < 8 + clen + pad:
                    break
                ended = ended or rtype == FCGI_END_REQUEST
                buf = buf[8 + clen + pad:]
        return f

    cases = [("GET", "/api/v1/health", None),
             ("POST", "/api/v1/auth/login", json.dumps({"username": "freeworker", "password": "wrong one"}).encode())]
    for method, uri, body in cases:
        held = [answered_kept_open(method, uri, body) for _ in range(2)]
        t0 = time.time()
        r = Fcgi(b.sock, timeout=10).begin("GET", "/api/v1/health").end_stdin().response()
        took = time.time() - t0
        eq(r.status, 200, "%s %s twice, connections held: the third request" % (method, uri))
        check(took < 1.0, "%s %s twice, connections held: the third request took %.2fs (a worker "
              "still waited on a held connection)" % (method, uri, took))
        for f in held:
            f.s.settimeout(5)
            eq(f.s.recv(1), b"", "%s %s: the worker closed its end" % (method, uri))
            f.close()


# ----------------------------------------------- what killed processes leave ---
HOLDER = r"""
import fcntl, os, sys, time
f = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(f, fcntl.LOCK_EX)
os.write(f, b"x" * 4096)
print("locked", flush=True)
time.sleep(600)
"""


def hold(path):
    """A process that created path and holds its lock, as a run or an upload does."""
    p = subprocess.Popen([sys.executable, "-c", HOLDER, path], stdout=subprocess.PIPE)
    line = p.stdout.readline()
    if line.strip() != b"locked":
        p.kill()
        raise SetupError("lock holder for %s did not start" % path)
    return p


def kill(p):
    p.send_signal(signal.SIGKILL)
    p.wait(10)


def worker_with(b, path):
    """The concord process that has path open."""
    for pid in b.pids():
        try:
            for fd in os.listdir("/proc/%d/fd" % pid):
                if os.readlink("/proc/%d/fd/%s" % (pid, fd)) == path:
                    return pid
        except OSError:
            pass
    return None


def runner_pid(b):
    for pid in b.pids():
        try:
            with open("/proc/%d/comm" % pid) as f:
                if f.read().strip() == "concord-runner":
                    return pid
        except OSError:
            pass
    return None


def live_pids(b):
    out = []
    for pid in b.pids():
        try:
            with open("/proc/%d/stat" % pid) as f:
                if f.read().rsplit(")", 1)[1].split()[0] != "Z":
                    out.append(pid)
        except (OSError, IndexError):
            pass
    return out


def restart(b):
    """Stops and starts the service; returns what it logged at the start."""
    b.stop()
    at = os.path.getsize(b.log)
    b.start()
    wait_for(lambda: runner_pid(b) is not None, 15, "the runner after the restart")
    time.sleep(0.5)
    with open(b.log, "rb") as f:
        f.seek(at)
        return f.read().decode("utf-8", "replace")


@test("body_killed_worker_upload_removed_at_next_start")
def _(env):
    b, u = fresh(env, "killed")
    c = b.client
    before = snapshot_state(b, c, u.token)
    data = exact_csv(20 * 1024 * 1024)
    f = Fcgi(b.sock, timeout=60).begin("POST", "/api/v1/files?name=killed.csv", content_length=len(data),
                                       content_type="text/csv", token=u.token)
    f.stdin(data[:10 * 1024 * 1024])
    wait_for(lambda: any(os.path.getsize(p) >= 10 * 1024 * 1024 for p in temp_uploads(b, u)), 30,
             "the upload's temporary file reaching 10 MiB")
    tmp = temp_uploads(b, u)
    eq(len(tmp), 1, "one temporary upload")
    pid = worker_with(b, tmp[0])
    check(pid is not None, "no concord process has %s open" % tmp[0])
    os.kill(pid, signal.SIGKILL)
    f.close()
    wait_for(lambda: pid not in live_pids(b) and len(live_pids(b)) == 4, 15,
             "the master replacing the killed worker")
    check(os.path.exists(tmp[0]), "the killed worker's temporary file is still there (the case to clean up)")
    eq(os.path.getsize(tmp[0]), 10 * 1024 * 1024, "what the killed worker wrote")
    eq(sorted(x["id"] for x in files_of(c, u.token)), before[1], "a killed upload is never a file")
    log = restart(b)
    check(not os.path.exists(tmp[0]), "the next start of the service removed %s" % tmp[0])
    check("removed 1 temporary file left by killed processes" in log, "the start says what it removed: %r" %
          log[-800:])
    expect_nothing_registered(b, c, u.token, before, "after the restart")


@test("body_runner_start_removes_only_what_the_dead_left")
def _(env):
    b, u = fresh(env, "sweeper")
    other = env.user(b, "sweeper2")
    c = b.client
    expect_ok(c.upload("seed.csv", b"id\n1\n", token=other.token), 201, "a workspace for the second user")
    ws = os.path.join(b.data, "workspaces", u.id)
    ws2 = os.path.join(b.data, "workspaces", other.id)
    expect_ok(c.upload("seed.csv", b"id\n1\n", token=u.token), 201, "a workspace for the first user")
    # left by killed processes: an upload and a run (they held the lock, like concord's)
    dead_upload, dead_model = os.path.join(ws, "uploads", ".upload-dead01"), os.path.join(ws, "model.db.tmp")
    for p in (dead_upload, dead_model):
        kill(hold(p))
    # an old temporary upload nobody ever locked
    stale = os.path.join(ws2, "uploads", ".upload-stale1")
    open(stale, "wb").close()
    # alive: another workspace's run building its model, and a real upload in progress
    live_model = os.path.join(ws2, "model.db.tmp")
    holder = hold(live_model)
    body = exact_csv(60000)
    f = Fcgi(b.sock, timeout=60).begin("POST", "/api/v1/files?name=live.csv", content_length=len(body),
                                       content_type="text/csv", token=u.token)
    f.stdin(body[:20000])
    wait_for(lambda: len([p for p in temp_uploads(b, u) if p != dead_upload]) == 1, 10, "the live upload's file")
    live_upload = [p for p in temp_uploads(b, u) if p != dead_upload][0]
    # keep it moving (a gap of IDLE seconds would end it) while the runner restarts
    stop, sent = threading.Event(), [20000]

    def trickle():
        while not stop.is_set() and sent[0] < 50000:
            f.stdin(body[sent[0]:sent[0] + 500])
            sent[0] += 500
            stop.wait(0.25)
    mover = threading.Thread(target=trickle, daemon=True)
    mover.start()
    try:
        old = runner_pid(b)
        check(old is not None, "no concord-runner")
        os.kill(old, signal.SIGKILL)
        wait_for(lambda: runner_pid(b) not in (None, old), 15, "a new runner")
        wait_for(lambda: not os.path.exists(dead_upload), 10, "the runner's sweep")
        for p in (dead_upload, dead_model, stale):
            check(not os.path.exists(p), "the runner's start left %s" % p)
        check(os.path.exists(live_upload), "the runner's start removed a live upload")
        check(os.path.exists(live_model), "the runner's start removed a locked model.db.tmp")
        stop.set()
        mover.join(10)
        f.stdin(body[sent[0]:])
        r = f.end_stdin().response()
        eq(r.status, 201, "the live upload completes: %r" % r)
        eq((r.json["file"]["size"], r.json["file"]["sha256"]), (len(body), hashlib.sha256(body).hexdigest()),
           "size and sha256 of the live upload")
    finally:
        stop.set()
        kill(holder)
    restart(b)
    check(not os.path.exists(live_model), "the service's start removes it once its process is gone")


@test("body_killed_run_model_tmp_removed_by_next_runner")
def _(env):
    """A real run killed with its runner: the new runner removes its model.db.tmp."""
    b, u = fresh(env, "killedrun")
    c = b.client
    top = os.path.join(env.seeds_dir(), "crm-erp")
    for d in sorted(os.listdir(top)):
        for name in sorted(os.listdir(os.path.join(top, d))):
            with open(os.path.join(top, d, name), "rb") as fh:
                r = c.upload(name, fh.read(), "application/json" if name.endswith(".json") else "text/csv",
                             token=u.token, timeout=300)
            check(r.status in (200, 201), "upload %s: %r" % (name, r))
    tmp = os.path.join(b.data, "workspaces", u.id, "model.db.tmp")
    rid = expect_ok(c.request("POST", "/api/v1/runs", token=u.token), 202, "POST /runs")["id"]
    end = time.time() + 120
    while time.time() < end:
        run = expect_ok(c.get("/api/v1/runs/" + rid, token=u.token))["run"]
        if run["state"] == "running" and os.path.exists(tmp):
            break
        check(run["state"] in ("queued", "running"), "the run ended before it could be killed: %r" % run)
        time.sleep(0.05)
    old = runner_pid(b)
    check(old is not None and os.path.exists(tmp), "no runner building model.db.tmp")
    eq(oct(stat.S_IMODE(os.stat(tmp).st_mode)), oct(0o600), "model.db.tmp while it is built")
    at = os.path.getsize(b.log)
    os.kill(old, signal.SIGKILL)
    wait_for(lambda: runner_pid(b) not in (None, old), 15, "a new runner")
    wait_for(lambda: not os.path.exists(tmp), 10, "the new runner removing the killed run's model.db.tmp")
    def since():
        with open(b.log, "rb") as f:
            f.seek(at)
            return f.read().decode("utf-8", "replace")
    # the file goes before the line is written: wait for the line too
    said = "runner: removed 1 temporary file left by killed processes"
    end = time.time() + 10
    while said not in since() and time.time() < end:
        time.sleep(0.05)
    check(said in since(), "the runner says so: %r" % since()[-600:])
    end = time.time() + 30
    while time.time() < end:
        run = expect_ok(c.get("/api/v1/runs/" + rid, token=u.token))["run"]
        if run["state"] != "running":
            break
        time.sleep(0.2)
    eq(run["state"], "failed", "the killed run")
    eq(len(files_of(c, u.token)), len([n for d in os.listdir(top) for n in os.listdir(os.path.join(top, d))]),
       "files: the model.db.tmp is never one")


@test("body_sigterm_lets_the_upload_in_hand_finish")
def _(env):
    """SIGTERM must not cut the read of a body: the request in hand is finished first."""
    b, u = fresh(env, "sigterm")
    body = exact_csv(300000)
    f = Fcgi(b.sock, timeout=60).begin("POST", "/api/v1/files?name=term.csv", content_length=len(body),
                                       content_type="text/csv", token=u.token)
    f.stdin(body[:100000])
    wait_for(lambda: temp_uploads(b, u), 10, "the upload's temporary file")
    b.proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)                    # the master passes it on to every worker
    f.stdin(body[100000:]).end_stdin()
    r = f.response()
    try:
        b.proc.wait(15)
    finally:
        b.start()
    eq(r.status, 201, "the upload in hand when SIGTERM came: %r" % r)
    eq((r.json["file"]["size"], r.json["file"]["sha256"]), (len(body), hashlib.sha256(body).hexdigest()),
       "size and sha256")
    ids = [x["id"] for x in files_of(b.client, u.token)]
    check(r.json["id"] in ids, "the file is registered after the restart")


@test("body_timeouts_shipped_nginx_outlasts_service")
def _(env):
    """The shipped nginx gives up on a silent client only after the service did, so the
    service's 400 reaches a client that is still there (nginx's own timeout answers nothing)."""
    with open(os.path.join(REPO, "conf", "nginx", "concord.conf")) as f:
        m = re.findall(r"^\s*client_body_timeout\s+(\d+)s?;", f.read(), re.M)
    eq(len(m), 1, "client_body_timeout lines in conf/nginx/concord.conf")
    with open(os.path.join(REPO, "conf", "concord.conf")) as f:
        svc = re.findall(r"^body_idle_timeout\s*=\s*(\d+)\s*$", f.read(), re.M)
    eq(svc, ["30"], "body_idle_timeout in conf/concord.conf (the built-in default)")
    check(int(svc[0]) < int(m[0]) <= int(svc[0]) + 30, "nginx client_body_timeout %ss must be a little longer than"
          " body_idle_timeout %ss" % (m[0], svc[0]))


@test("body_openapi_documents_upload_incomplete")
def _(env):
    doc = expect_ok_json(up(env).client.get("/api/v1/openapi.json"))
    r400 = doc["paths"]["/files"]["post"]["responses"].get("400", {})
    check("upload_incomplete" in r400.get("description", ""), "POST /files 400: %r" % r400)
    props = doc["components"]["schemas"]["Error"]["properties"]["errors"]["items"]["properties"]
    for k in ("reason", "announced", "received"):
        check(k in props, "Error.errors[] does not document %s" % k)
    for path, method in (("/auth/login", "post"), ("/users", "post"), ("/me/password", "put"),
                         ("/users/{id}/password", "put"), ("/files/{id}/mapping", "put")):
        check("400" in doc["paths"][path][method]["responses"], "%s %s: no 400" % (method.upper(), path))


def expect_ok_json(r):
    eq(r.status, 200, r.what())
    return r.json


@test("workspace_files_created_0600")
def _(env):
    b, u = fresh(env, "modes")
    c = b.client
    base = os.path.join(REPO, "conf", "demo", "samples", "retail-mini")
    for name in sorted(os.listdir(base)):
        with open(os.path.join(base, name), "rb") as fh:
            expect_ok(c.upload(name, fh.read(), token=u.token), 201, "upload " + name)
    ws = os.path.join(b.data, "workspaces", u.id)
    for i in range(2):                 # the first model, then one that replaces it
        r = c.request("POST", "/api/v1/runs", token=u.token)
        loc = expect_ok(r, 202, "POST /runs")["id"]
        end = time.time() + 120
        while time.time() < end:
            run = expect_ok(c.get("/api/v1/runs/" + loc, token=u.token))["run"]
            if run["state"] not in ("queued", "running"):
                break
            time.sleep(0.3)
        eq(run["state"], "done", "run %d (%s)" % (i + 1, run.get("error")))
        eq(oct(stat.S_IMODE(os.stat(os.path.join(ws, "model.db")).st_mode)), oct(0o600), "model.db after run %d" %
           (i + 1))
    wrong = []
    for root, dirs, files in os.walk(b.data):
        for d in dirs:
            m = stat.S_IMODE(os.stat(os.path.join(root, d)).st_mode)
            if m & 0o077:
                wrong.append("%s/ %o" % (os.path.relpath(os.path.join(root, d), b.data), m))
        for f in files:
            m = stat.S_IMODE(os.lstat(os.path.join(root, f)).st_mode)
            if m & 0o077:
                wrong.append("%s %o" % (os.path.relpath(os.path.join(root, f), b.data), m))
    check(not wrong, "files of the data directory open to group or others: %s" % ", ".join(wrong[:10]))
    check(not os.path.exists(os.path.join(ws, "model.db.tmp")), "model.db.tmp left after the runs")
