"""Integration-test harness for Concord: processes, rendered configs, HTTP client.

Everything runs on loopback inside one temporary directory that is removed at
the end.  Python 3.11 standard library only.  See README.md for the layout.
"""
import base64
import grp
import hashlib
import http.client
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import ssl
import stat
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
WEB_USER = "www-data"          # nginx/Apache workers' user on Debian
PASSWORD_LEN = 20


class Skip(Exception):
    """Raised by a test that cannot run here (printed as `skip - name: why`)."""


class SetupError(Exception):
    """A fixture (server, user, upload) could not be prepared."""


def fail(msg):
    raise AssertionError(msg)


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def eq(got, want, what):
    if got != want:
        raise AssertionError("%s: got %r, want %r" % (what, _short(got), _short(want)))


def _short(v, n=200):
    s = repr(v) if not isinstance(v, str) else v
    return s if len(s) <= n else s[:n] + "...(%d chars)" % len(s)


# --------------------------------------------------------------- HTTP ---
class Resp:
    def __init__(self, method, path, status, headers, body):
        self.method, self.path, self.status, self.headers, self.body = method, path, status, headers, body
        self._json = None

    def header(self, name, default=None):
        return self.headers.get(name, default)

    def header_all(self, name):
        return self.headers.get_all(name) or []

    @property
    def json(self):
        if self._json is None:
            try:
                self._json = json.loads(self.body)
            except ValueError:
                raise AssertionError("%s %s -> %d: body is not JSON: %r" % (
                    self.method, self.path, self.status, self.body[:200]))
        return self._json

    def what(self):
        return "%s %s -> %d" % (self.method, self.path, self.status)

    def __repr__(self):
        return "<%s %s>" % (self.what(), self.body[:300])


class Client:
    """One endpoint (scheme, host, port) of a web server in front of a backend."""

    def __init__(self, port, tls_ctx=None, host="127.0.0.1", strict_headers=True, label="nginx"):
        self.port, self.tls, self.host, self.strict, self.label = port, tls_ctx, host, strict_headers, label

    @property
    def origin(self):
        return "%s://%s:%d" % ("https" if self.tls else "http", self.host, self.port)

    def conn(self, timeout=60, source=None):
        kw = {"timeout": timeout}
        if source:
            kw["source_address"] = (source, 0)
        if self.tls:
            return http.client.HTTPSConnection(self.host, self.port, context=self.tls, **kw)
        return http.client.HTTPConnection(self.host, self.port, **kw)

    def request(self, method, path, body=None, headers=None, token=None, cookie=None,
                source=None, timeout=60, check_headers=None):
        h = {"Accept": "application/json"}
        if token:
            h["Authorization"] = "Bearer " + token
        if cookie:
            h["Cookie"] = cookie
        h.update(headers or {})
        h = {k: v for k, v in h.items() if v is not None}
        c = self.conn(timeout, source)
        try:
            try:
                c.request(method, path, body=body, headers=h)
            except (BrokenPipeError, ConnectionResetError, ssl.SSLEOFError, ssl.SSLZeroReturnError):
                # The server answered (e.g. 413) and closed before the whole body
                # was sent: read the answer it left for us.
                pass
            r = c.getresponse()
            data = r.read()
            resp = Resp(method, path, r.status, r.headers, data)
        finally:
            c.close()
        if (self.strict if check_headers is None else check_headers) and path.startswith("/api/"):
            check_api_headers(resp)
        return resp

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post_json(self, path, doc, **kw):
        hdr = kw.pop("headers", {}) or {}
        hdr.setdefault("Content-Type", "application/json")
        return self.request("POST", path, body=json.dumps(doc).encode(), headers=hdr, **kw)

    def put_json(self, path, doc, **kw):
        hdr = kw.pop("headers", {}) or {}
        hdr.setdefault("Content-Type", "application/json")
        return self.request("PUT", path, body=json.dumps(doc).encode(), headers=hdr, **kw)

    def login(self, username, password, **kw):
        return self.post_json("/api/v1/auth/login", {"username": username, "password": password}, **kw)

    def upload(self, name, body, content_type="text/csv", token=None, **kw):
        hdr = kw.pop("headers", {}) or {}
        hdr.setdefault("Content-Type", content_type)
        path = "/api/v1/files" + ("?name=" + quote(name) if name is not None else "")
        return self.request("POST", path, body=body, headers=hdr, token=token, **kw)


MONEY_UNIT = 10000      # the model's money: integer units of 10^-4 (core/model.c model_units)


def money_text(units):
    """Units of 10^-4 -> the contract's exact decimal string: at least two
    decimals, then every further non-zero digit ("12.50", "0.001")."""
    if units is None:
        return None
    frac = "%04d" % (abs(units) % MONEY_UNIT)
    while len(frac) > 2 and frac.endswith("0"):
        frac = frac[:-1]
    return "%s%d.%s" % ("-" if units < 0 else "", abs(units) // MONEY_UNIT, frac)


def quote(s):
    import urllib.parse
    return urllib.parse.quote(s, safe="")


API_HEADERS_HELP = "contract: every API response carries X-Request-Id and the security headers"


def check_api_headers(r):
    """The headers every API response must carry (errors included)."""
    where = r.what()
    rid = r.header("X-Request-Id")
    check(rid and rid.strip(), "%s: no X-Request-Id header (%s)" % (where, API_HEADERS_HELP))
    eq((r.header("X-Content-Type-Options") or "").lower(), "nosniff", where + ": X-Content-Type-Options")
    eq((r.header("Referrer-Policy") or "").lower(), "no-referrer", where + ": Referrer-Policy")
    csp = r.header("Content-Security-Policy") or ""
    check("frame-ancestors 'none'" in csp, "%s: Content-Security-Policy %r lacks frame-ancestors 'none'" % (where, csp))
    check("no-store" in (r.header("Cache-Control") or ""), "%s: Cache-Control %r lacks no-store" % (
        where, r.header("Cache-Control")))


def expect_error(r, status, what=""):
    """r is an error in the contract's envelope with this status."""
    where = (what + ": " if what else "") + r.what()
    check(r.status == status, "%s: want %d; body %s" % (where, status, _short(r.body, 300)))
    ct = (r.header("Content-Type") or "").split(";")[0].strip().lower()
    check(ct in ("application/json", "application/problem+json"), "%s: Content-Type %r" % (where, ct))
    doc = r.json
    check(isinstance(doc, dict), where + ": envelope is not an object")
    eq(doc.get("ok"), False, where + ": ok")
    eq(doc.get("status"), status, where + ": envelope status")
    err = doc.get("error")
    check(isinstance(err, str) and err.strip() and "\n" not in err, "%s: error must be one line, got %r" % (where, err))
    errs = doc.get("errors")
    check(isinstance(errs, list), "%s: errors must be a list, got %r" % (where, errs))
    for e in errs:
        check(isinstance(e, dict) and isinstance(e.get("code"), str), "%s: each errors[] needs a code: %r" % (where, e))
    return doc


def expect_ok(r, status=200, what=""):
    where = (what + ": " if what else "") + r.what()
    check(r.status == status, "%s: want %d; body %s" % (where, status, _short(r.body, 400)))
    ct = (r.header("Content-Type") or "").split(";")[0].strip().lower()
    eq(ct, "application/json", where + ": Content-Type")
    doc = r.json
    eq(doc.get("ok"), True, where + ": ok")
    return doc


def parse_rfc3339(s):
    import datetime
    check(isinstance(s, str) and re.fullmatch(
        r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", s), "not RFC 3339: %r" % (s,))
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def b64url_json(part):
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


# ----------------------------------------------------------- processes ---
def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(cond, timeout, what, proc=None, log=None):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return
        if proc is not None and proc.poll() is not None:
            raise SetupError("%s: process exited with %s%s" % (what, proc.returncode, tail(log)))
        time.sleep(0.05)
    raise SetupError("%s: not ready after %ss%s" % (what, timeout, tail(log)))


def tail(path, n=15):
    if not path or not os.path.exists(path):
        return ""
    with open(path, "rb") as f:
        lines = f.read().decode("utf-8", "replace").splitlines()[-n:]
    return "\n    | " + "\n    | ".join(lines) if lines else ""


def descendants(pid):
    """pid and all its descendant pids (from /proc)."""
    children = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def proc_status(pid, key):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def stop_process(proc, timeout=10):
    if proc is None or proc.poll() is not None:
        return
    try:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


class Backend:
    """One `concord serve` instance with its own data dir and socket."""

    def __init__(self, env, name, environ, launcher="direct"):
        self.env, self.name, self.launcher = env, name, launcher
        self.dir = os.path.join(env.tmp, name)
        self.data = os.path.join(self.dir, "data")
        self.sock = os.path.join(self.dir, "concord.sock")
        self.log = os.path.join(self.dir, "concord.log")
        self.environ = dict(environ)
        self.proc = None
        self.admin_password = secrets.token_urlsafe(PASSWORD_LEN)
        self.client = None          # set once a web server fronts it
        self.users = {}             # name -> User, see Env.user()
        os.makedirs(self.dir)
        os.chmod(self.dir, 0o711)   # the web server's user must reach the socket

    def process_env(self):
        e = {k: v for k, v in os.environ.items() if not k.startswith("CONCORD_") or k == "CONCORD_BIN"}
        e.update(self.environ)
        return e

    def cli(self, *args, stdin=None, check_rc=True):
        p = subprocess.run([self.env.bin, "-d", self.data] + list(args), input=stdin, capture_output=True,
                           env=self.process_env(), timeout=60)
        if check_rc and p.returncode != 0:
            raise SetupError("%s: `concord -d DATA %s` failed (rc %d): %s" % (
                self.name, " ".join(args), p.returncode, (p.stderr or p.stdout).decode("utf-8", "replace")[-800:]))
        return p

    def init(self):
        self.cli("init")
        self.cli("user", "add", "admin", "--role", "admin", stdin=(self.admin_password + "\n").encode())

    def start(self):
        logf = open(self.log, "ab")
        group = ["--socket-group", WEB_USER] if self.env.root else []
        if self.launcher == "spawn-fcgi":
            spawn = shutil.which("spawn-fcgi")
            if not spawn:
                raise Skip("spawn-fcgi is not installed")
            args = [spawn, "-s", self.sock, "-M", "0660"]
            if self.env.root:
                args += ["-G", WEB_USER]
            args += ["-n", "--", self.env.bin, "-d", self.data, "serve", "--workers", "2"]
        else:
            args = [self.env.bin, "-d", self.data, "serve", "--socket", self.sock, "--workers", "2"] + group
        self.proc = subprocess.Popen(args, stdout=logf, stderr=subprocess.STDOUT, env=self.process_env(),
                                     cwd=self.dir, start_new_session=True)
        logf.close()
        wait_for(lambda: self._socket_accepts(), 15, "%s: concord serve (%s)" % (self.name, self.launcher),
                 self.proc, self.log)

    def _socket_accepts(self):
        if not os.path.exists(self.sock):
            return False
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(self.sock)
            return True
        except OSError:
            return False
        finally:
            s.close()

    def pids(self):
        return descendants(self.proc.pid) if self.proc and self.proc.poll() is None else []

    def stop(self):
        stop_process(self.proc, 15)

    def snapshot(self):
        """Files under the data dir, except SQLite's own files: {relpath: size}."""
        out = {}
        for root, _dirs, files in os.walk(self.data):
            for f in files:
                p = os.path.join(root, f)
                rel = os.path.relpath(p, self.data)
                if re.search(r"\.(db|sqlite3?)(-wal|-shm|-journal)?$", f) or rel in ("secret",) or f.endswith(".log"):
                    continue
                try:
                    out[rel] = os.path.getsize(p)
                except OSError:
                    pass
        return out


class User:
    def __init__(self, name, password, uid, token, role):
        self.name, self.password, self.id, self.token, self.role = name, password, uid, token, role


# ------------------------------------------------------------ renderer ---
def render(text, subs, what):
    """Apply (regex, replacement, expected_count) substitutions; the count
    check makes sure the shipped file still has the lines the tests replace."""
    for pat, repl, want in subs:
        text, n = re.subn(pat, lambda m, r=repl: m.group(1) + r if m.groups() else r, text, flags=re.M)
        if (want == "+" and n < 1) or (want != "+" and n != want):
            raise SetupError("%s: expected %s match(es) of %r, found %d (did the shipped file change?)" % (
                what, want, pat, n))
    return text


def sanitizer_setup():
    """Under a build with --enable-sanitizers (tests/run sets
    CONCORD_SANITIZED=1): every concord process started from here (the
    CLI, `concord serve` and its workers) writes its AddressSanitizer,
    LeakSanitizer and UBSan reports into a directory of its own, which
    run.py checks once every server stopped (workers report leaks as they
    exit: memory still reachable, such as caches, is not a leak).  Returns
    that directory, or None."""
    if os.environ.get("CONCORD_SANITIZED") != "1":
        return None
    d = tempfile.mkdtemp(prefix="concord-san-")
    os.chmod(d, 0o1777)                 # workers may run as another user
    asan = "detect_leaks=1:abort_on_error=1:print_summary=1:log_path=%s/asan" % d
    ubsan = "print_stacktrace=1:halt_on_error=1:log_path=%s/ubsan" % d
    os.environ["ASAN_OPTIONS"] = (os.environ["ASAN_OPTIONS"] + ":" if os.environ.get("ASAN_OPTIONS") else "") + asan
    os.environ["UBSAN_OPTIONS"] = (os.environ["UBSAN_OPTIONS"] + ":" if os.environ.get("UBSAN_OPTIONS") else "") + ubsan
    return d


def sanitizer_reports(d):
    """The sanitizer reports written under d: [(file, first lines)]."""
    out = []
    for f in sorted(os.listdir(d)):
        with open(os.path.join(d, f), "rb") as fh:
            text = fh.read().decode("utf-8", "replace")
        if text.strip():
            lines = [ln for ln in text.splitlines() if ln.strip()]
            key = [ln for ln in lines if re.search(r"ERROR: |runtime error|SUMMARY:", ln)]
            out.append((f, " | ".join((key or lines)[:3])))
    return out


class Env:
    """The whole test installation: temp dir, TLS cert, backends, nginx, Apache."""

    def __init__(self):
        self.root = os.geteuid() == 0
        self.shared = os.environ.get("CONCORD_SHARED") or os.path.abspath(os.path.join(REPO, "..", "shared"))
        self.bin = os.path.abspath(os.environ.get("CONCORD_BIN") or os.path.join(REPO, "concord"))
        self.tmp = tempfile.mkdtemp(prefix="concord-it-")
        os.chmod(self.tmp, 0o711)
        self.backends = {}
        self.nginx = None
        self.nginx_log = None
        self.apache = None
        self.tls_ctx = None
        self.cert = self.key = None
        self._fixtures = {}
        self.keep = os.environ.get("CONCORD_IT_KEEP") == "1"
        self.san_dir = sanitizer_setup()

    # -- fixtures: computed once, failures remembered
    def fixture(self, name, fn):
        if name not in self._fixtures:
            try:
                self._fixtures[name] = (True, fn())
            except Exception as e:  # noqa: remembered and re-raised for every user
                self._fixtures[name] = (False, e)
        ok, val = self._fixtures[name]
        if ok:
            return val
        if isinstance(val, (Skip, SetupError)):
            raise val
        raise SetupError("fixture %s failed: %s" % (name, val))

    def seeds_dir(self):
        d = os.path.join(self.shared, "data", "seeds")
        if not os.path.isdir(d):
            raise SetupError("seed data not found at %s (set CONCORD_SHARED to the shared dir)" % d)
        return d

    # -- TLS
    def make_cert(self):
        d = os.path.join(self.tmp, "tls")
        os.makedirs(d)
        os.chmod(d, 0o755)
        self.cert, self.key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
        openssl = shutil.which("openssl")
        if not openssl:
            raise SetupError("openssl is needed to make the test TLS certificate (apt-get install openssl)")
        p = subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                            "-nodes", "-keyout", self.key, "-out", self.cert, "-days", "2",
                            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                           capture_output=True, timeout=60)
        if p.returncode != 0:
            raise SetupError("openssl req failed: " + p.stderr.decode()[-500:])
        os.chmod(self.key, 0o640)
        if self.root:
            os.chown(self.key, 0, grp.getgrnam(WEB_USER).gr_gid)
        ctx = ssl.create_default_context(cafile=self.cert)   # verifies chain and 127.0.0.1
        self.tls_ctx = ctx

    # -- public dir: a copy (the repo may not be readable by www-data)
    def make_public(self):
        dst = os.path.join(self.tmp, "public")
        src = os.path.join(REPO, "public")
        if os.path.isdir(src):
            shutil.copytree(src, dst)
        else:
            os.makedirs(dst)
        # a compressible asset for the gzip test (only in the copy)
        with open(os.path.join(dst, "_it_gzip_probe.css"), "w") as f:
            f.write("".join(".c%d { color: #%06x; margin: %dpx; }\n" % (i, i * 997 % 0xFFFFFF, i % 17)
                            for i in range(300)))
        for root, dirs, files in os.walk(dst):
            os.chmod(root, 0o755)
            for f in files:
                os.chmod(os.path.join(root, f), 0o644)
        self.public = dst

    def backend(self, name, environ, launcher="direct"):
        b = Backend(self, name, environ, launcher)
        self.backends[name] = b
        return b

    # -- nginx
    def nginx_server_block(self, name, port, sock):
        with open(os.path.join(REPO, "conf", "nginx", "concord.conf")) as f:
            text = f.read()
        d = os.path.join(self.tmp, "nginx")
        return render(text, [
            (r"^(\s*)listen 443 ssl http2;", "listen 127.0.0.1:%d ssl;" % port, 1),
            (r"^(\s*)ssl_certificate\s+/etc/ssl/concord/fullchain\.pem;", "ssl_certificate %s;" % self.cert, 1),
            (r"^(\s*)ssl_certificate_key\s+/etc/ssl/concord/privkey\.pem;", "ssl_certificate_key %s;" % self.key, 1),
            (r"^(\s*)root /usr/local/share/concord/public;", "root %s;" % self.public, 1),
            (r"^(\s*)client_max_body_size 1g;", "client_max_body_size 1g;", 1),
            (r"^(\s*)access_log /var/log/nginx/concord\.access\.log concord;",
             "access_log %s/access-%s.log concord;" % (d, name), 1),
            (r"unix:/run/concord/concord\.sock;", "unix:%s;" % sock, "+"),
        ], "conf/nginx/concord.conf")

    def start_nginx(self, blocks):
        """blocks: list of (name, port, socket path)."""
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        if not os.path.exists(nginx):
            raise SetupError("nginx is not installed")
        d = os.path.join(self.tmp, "nginx")
        os.makedirs(d)
        os.chmod(d, 0o711)
        temp = os.path.join(d, "temp")
        os.makedirs(temp)
        if self.root:
            os.chown(temp, pwd.getpwnam(WEB_USER).pw_uid, -1)
        with open(os.path.join(REPO, "conf", "nginx", "concord-http.conf")) as f:
            http_snippet = render(f.read(), [
                # the suite logs in far more often than a person: lift nginx's
                # login rate limit (the service's own lockout is what is tested)
                (r"rate=30r/m;", "rate=1000r/s;", 1),
            ], "conf/nginx/concord-http.conf")
        with open(os.path.join(d, "concord-http.conf"), "w") as f:
            f.write(http_snippet)
        includes = []
        for name, port, sock in blocks:
            p = os.path.join(d, "server-%s.conf" % name)
            with open(p, "w") as f:
                f.write(self.nginx_server_block(name, port, sock))
            includes.append("    include %s;" % p)
        self.nginx_log = os.path.join(d, "error.log")
        conf = os.path.join(d, "nginx.conf")
        with open(conf, "w") as f:
            f.write("""# generated by tests/integration/harness.py
daemon off;
worker_processes 2;
pid %(d)s/nginx.pid;
error_log %(d)s/error.log info;
%(user)s
events { worker_connections 256; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    access_log off;
    client_body_temp_path %(t)s/body;
    fastcgi_temp_path %(t)s/fastcgi;
    proxy_temp_path %(t)s/proxy;
    uwsgi_temp_path %(t)s/uwsgi;
    scgi_temp_path %(t)s/scgi;
    include %(d)s/concord-http.conf;
%(inc)s
}
""" % {"d": d, "t": temp, "inc": "\n".join(includes), "user": "user %s;" % WEB_USER if self.root else ""})
        t = subprocess.run([nginx, "-t", "-c", conf], capture_output=True, timeout=30)
        if t.returncode != 0:
            raise SetupError("nginx -t failed:\n" + t.stderr.decode()[-1500:])
        logf = open(os.path.join(d, "stderr.log"), "ab")
        self.nginx = subprocess.Popen([nginx, "-c", conf], stdout=logf, stderr=subprocess.STDOUT,
                                      start_new_session=True)
        logf.close()
        for name, port, sock in blocks:
            wait_for(lambda: port_open(port), 10, "nginx on port %d" % port, self.nginx, self.nginx_log)

    def client(self, port, **kw):
        return Client(port, self.tls_ctx, **kw)

    # -- users (created through the admin API; also exercises it)
    def admin_token(self, b):
        def mk():
            r = b.client.login("admin", b.admin_password)
            if r.status != 200:
                raise SetupError("%s: admin login failed: %r" % (b.name, r))
            return r.json["token"]
        return self.fixture("admin-token-" + b.name, mk)

    def user(self, b, name, role="member"):
        def mk():
            pw = secrets.token_urlsafe(PASSWORD_LEN)
            r = b.client.post_json("/api/v1/users", {"username": name, "password": pw, "role": role},
                                   token=self.admin_token(b))
            if r.status != 201:
                raise SetupError("%s: creating user %s failed: %r" % (b.name, name, r))
            uid = r.json["user"]["id"]
            r = b.client.login(name, pw)
            if r.status != 200:
                raise SetupError("%s: login of new user %s failed: %r" % (b.name, name, r))
            return User(name, pw, uid, r.json["token"], role)
        return self.fixture("user-%s-%s" % (b.name, name), mk)

    def cleanup(self):
        if self.apache:
            stop_process(self.apache)
        if self.nginx:
            stop_process(self.nginx)
        for b in self.backends.values():
            b.stop()
        if self.san_dir is not None:
            # a report some runtime wrote to stderr (the service's log)
            # instead of log_path: kept with the others
            for b in self.backends.values():
                try:
                    with open(b.log, "rb") as f:
                        text = f.read().decode("utf-8", "replace")
                except OSError:
                    continue
                hits = [ln for ln in text.splitlines()
                        if re.search(r"runtime error:|ERROR: (Address|Leak)Sanitizer", ln)]
                if hits:
                    with open(os.path.join(self.san_dir, "log-%s" % b.name), "w") as f:
                        f.write("\n".join(hits) + "\n")
        if self.keep:
            print("# kept %s" % self.tmp, flush=True)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def port_open(port):
    s = socket.socket()
    s.settimeout(0.5)
    try:
        s.connect(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def file_mode(path):
    st = os.stat(path)
    return stat.S_IMODE(st.st_mode), st.st_gid


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for c in iter(lambda: f.read(1 << 20), b""):
            h.update(c)
    return h.hexdigest()
