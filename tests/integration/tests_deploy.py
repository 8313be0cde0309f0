"""The shipped web-server and service-manager configurations: nginx static UI,
gzip, nginx's own error envelopes, Apache, spawn-fcgi and systemd units."""
import grp
import gzip
import html.parser
import os
import re
import shutil
import subprocess

import harness
from harness import (Skip, SetupError, check, eq, expect_error, expect_ok, WEB_USER, file_mode, render,
                     port_open, wait_for, stop_process)
from suite import test, backend, require, have
from tests_auth import parse_set_cookie


def csp_allows_inline_script(csp):
    d = {}
    for part in csp.split(";"):
        bits = part.split()
        if bits:
            d[bits[0].lower()] = bits[1:]
    src = d.get("script-src", d.get("default-src", []))
    return any(s in ("'unsafe-inline'", "'unsafe-eval'", "*", "data:") for s in src) or not src


def check_static_headers(r, what):
    csp = r.header("Content-Security-Policy") or ""
    check("frame-ancestors 'none'" in csp, what + ": CSP %r lacks frame-ancestors 'none'" % csp)
    check(not csp_allows_inline_script(csp), what + ": CSP %r allows inline script" % csp)
    eq((r.header("X-Content-Type-Options") or "").lower(), "nosniff", what + ": X-Content-Type-Options")
    eq((r.header("Referrer-Policy") or "").lower(), "no-referrer", what + ": Referrer-Policy")


def repo_index():
    p = os.path.join(harness.REPO, "public", "index.html")
    if not os.path.isfile(p):
        raise AssertionError("public/index.html is missing from the repository")
    with open(p, "rb") as f:
        return f.read()


@test("nginx_config_test")
def _(env):
    conf = os.path.join(env.tmp, "nginx", "nginx.conf")
    p = subprocess.run([shutil.which("nginx") or "/usr/sbin/nginx", "-t", "-c", conf], capture_output=True,
                       timeout=30)
    eq(p.returncode, 0, "nginx -t on the rendered conf/nginx/*.conf: " + p.stderr.decode()[-300:])


@test("nginx_serves_public_index")
def _(env):
    c = backend(env, "main").client
    r = c.get("/_it_gzip_probe.css")
    eq(r.status, 200, "GET a static file")
    check_static_headers(r, "GET a static file")
    want = repo_index()
    for path in ("/", "/index.html"):
        r = c.get(path, headers={"Accept": "text/html"})
        eq(r.status, 200, "GET " + path)
        check(r.body == want, "GET %s: body differs from public/index.html" % path)
        check((r.header("Content-Type") or "").startswith("text/html"), "GET %s: Content-Type %r" % (
            path, r.header("Content-Type")))
        check_static_headers(r, "GET " + path)
    r = c.get("/no-such-file.js")
    eq(r.status, 404, "missing static file")
    eq((r.header("X-Content-Type-Options") or "").lower(), "nosniff", "404 of a static file: nosniff")


class ScriptFinder(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.inline, self.handlers, self._in_script = [], [], False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for k in a:
            if k.lower().startswith("on"):
                self.handlers.append("%s %s=" % (tag, k))
        if tag == "script":
            self._in_script = "src" not in a
        for k, v in a.items():
            if v and v.strip().lower().startswith("javascript:"):
                self.handlers.append("%s %s=javascript:" % (tag, k))

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline.append(data.strip()[:40])


@test("public_ui_has_no_inline_script")
def _(env):
    """The shipped CSP (script-src 'self') blocks inline script: the UI must not rely on it."""
    bad = []
    pub = os.path.join(harness.REPO, "public")
    repo_index()
    for root, _dirs, files in os.walk(pub):
        for f in files:
            if f.endswith((".html", ".htm")):
                p = ScriptFinder()
                with open(os.path.join(root, f), encoding="utf-8", errors="replace") as fh:
                    p.feed(fh.read())
                rel = os.path.relpath(os.path.join(root, f), pub)
                bad += ["%s: inline <script> %r" % (rel, s) for s in p.inline]
                bad += ["%s: inline handler %s" % (rel, h) for h in p.handlers]
    check(not bad, "blocked by the CSP: %s" % "; ".join(bad[:5]))


@test("nginx_gzip_static_not_api")
def _(env):
    c = backend(env, "main").client
    r = c.get("/_it_gzip_probe.css", headers={"Accept-Encoding": "gzip"})
    eq(r.status, 200, "GET a static css")
    eq(r.header("Content-Encoding"), "gzip", "Content-Encoding of a 10 KiB css")
    check("accept-encoding" in (r.header("Vary") or "").lower(), "Vary: Accept-Encoding missing")
    with open(os.path.join(env.public, "_it_gzip_probe.css"), "rb") as f:
        eq(gzip.decompress(r.body) == f.read(), True, "gunzipped body equals the file")
    r = c.get("/api/v1/health", headers={"Accept-Encoding": "gzip"})
    check(r.header("Content-Encoding") is None, "API responses must not be compressed by nginx (BREACH)")


@test("nginx_body_limit_413_envelope")
def _(env):
    """client_max_body_size: a declared 2 GiB body is refused by nginx itself, in the JSON envelope."""
    b = backend(env, "main")
    tok = env.admin_token(b)
    conn = b.client.conn(timeout=30)
    try:
        conn.putrequest("POST", "/api/v1/files?name=huge.csv")
        conn.putheader("Content-Type", "text/csv")
        conn.putheader("Authorization", "Bearer " + tok)
        conn.putheader("Content-Length", str(2 * 1024 ** 3))
        conn.endheaders()
        r = conn.getresponse()
        resp = harness.Resp("POST", "/api/v1/files?name=huge.csv", r.status, r.headers, r.read())
    finally:
        conn.close()
    expect_error(resp, 413, "2 GiB declared")
    harness.check_api_headers(resp)


@test("nginx_backend_down_503_envelope")
def _(env):
    r = env.dead.get("/api/v1/health")
    expect_error(r, 503, "service socket missing")
    check(r.header("Retry-After"), "503 without Retry-After")


# ---------------------------------------------------------------- Apache ---
APACHE_MODULES = ["mpm_event", "authz_core", "mime", "dir", "headers", "proxy", "proxy_fcgi", "ssl",
                  "socache_shmcb", "deflate", "filter", "setenvif", "unique_id"]   # unixd, log_config: built in


def apache(env):
    def mk():
        binary = shutil.which("apache2") or ("/usr/sbin/apache2" if os.path.exists("/usr/sbin/apache2") else None)
        if not binary:
            require("apache2", "apache2 is not installed (apt-get install apache2)")
        b = backend(env, "main")
        d = os.path.join(env.tmp, "apache")
        for sub in ("", "logs", "run"):
            os.makedirs(os.path.join(d, sub), exist_ok=True)
        os.chmod(d, 0o711)
        port = harness.free_port()
        with open(os.path.join(harness.REPO, "conf", "apache", "concord.conf")) as f:
            vhost = render(f.read(), [
                (r"^(\s*)<VirtualHost \*:443>", "<VirtualHost 127.0.0.1:%d>" % port, 1),
                (r'^(\s*)SSLCertificateFile\s+"/etc/ssl/concord/fullchain\.pem"', 'SSLCertificateFile "%s"' % env.cert,
                 1),
                (r'^(\s*)SSLCertificateKeyFile\s+"/etc/ssl/concord/privkey\.pem"',
                 'SSLCertificateKeyFile "%s"' % env.key, 1),
                (r'^(\s*)DocumentRoot "/usr/local/share/concord/public"', 'DocumentRoot "%s"' % env.public, 1),
                (r'^(\s*)<Directory "/usr/local/share/concord/public">', '<Directory "%s">' % env.public, 1),
                (r"unix:/run/concord/concord\.sock\|", "unix:%s|" % b.sock, 1),
                (r"^(\s*)LimitRequestBody 1073741824", "LimitRequestBody 1073741824", 1),
            ], "conf/apache/concord.conf")
        with open(os.path.join(d, "concord.conf"), "w") as f:
            f.write(vhost)
        mods = "\n".join("LoadModule %s_module /usr/lib/apache2/modules/mod_%s.so" % (m, m) for m in APACHE_MODULES)
        conf = os.path.join(d, "httpd.conf")
        with open(conf, "w") as f:
            f.write("""# generated by tests/integration (tests_deploy.py)
ServerRoot "%(d)s"
%(mods)s
PidFile "%(d)s/run/httpd.pid"
DefaultRuntimeDir "%(d)s/run"
Mutex file:%(d)s/run default
ErrorLog "%(d)s/logs/error.log"
LogLevel warn
Listen 127.0.0.1:%(port)d
ServerName 127.0.0.1
ServerTokens Prod
ServerSignature Off
%(user)s
TypesConfig /etc/mime.types
Define APACHE_LOG_DIR %(d)s/logs
Include "%(d)s/concord.conf"
""" % {"d": d, "mods": mods, "port": port,
       "user": "User %s\nGroup %s" % (WEB_USER, WEB_USER) if env.root else ""})
        t = subprocess.run([binary, "-t", "-f", conf], capture_output=True, timeout=30)
        if t.returncode != 0:
            raise SetupError("apache2 -t on the rendered conf/apache/concord.conf failed: " +
                             (t.stderr or t.stdout).decode()[-800:])
        logf = open(os.path.join(d, "logs", "stderr.log"), "ab")
        env.apache = subprocess.Popen([binary, "-f", conf, "-DFOREGROUND"], stdout=logf, stderr=subprocess.STDOUT,
                                      start_new_session=True)
        logf.close()
        wait_for(lambda: port_open(port), 15, "apache2", env.apache, os.path.join(d, "logs", "error.log"))
        return env.client(port, label="apache")
    return env.fixture("apache", mk)


@test("apache_config_test")
def _(env):
    apache(env)           # runs `apache2 -t` on the rendered vhost before starting


@test("apache_api_bearer_and_cookie_auth")
def _(env):
    a = apache(env)
    b = backend(env, "main")
    expect_ok(a.get("/api/v1/health"), 200, "Apache: health")
    r = a.login("admin", b.admin_password)
    tok = expect_ok(r, 200, "Apache: login").get("token")
    # CGIPassAuth On: the Authorization header reaches the FastCGI service
    doc = expect_ok(a.get("/api/v1/me", token=tok), 200, "Apache: GET /me with Bearer (Authorization passed?)")
    eq(doc.get("user", {}).get("username"), "admin", "Apache: /me user")
    val, _ = parse_set_cookie(r.header_all("Set-Cookie"), "__Host-concord")
    check(val, "Apache: login set no cookie")
    expect_ok(a.get("/api/v1/me", cookie="__Host-concord=" + val), 200, "Apache: GET /me with the cookie")
    r = a.get("/api/v1/me", token="garbage")
    expect_error(r, 401, "Apache: bad token")
    check('error="invalid_token"' in (r.header("WWW-Authenticate") or ""),
          "Apache: WWW-Authenticate not passed through")
    expect_error(a.get("/api/v1/no-such-route", token=tok), 404, "Apache: unknown route")


@test("apache_upload_and_download")
def _(env):
    a = apache(env)
    b = backend(env, "main")
    u = env.user(b, "apache-user")
    data = b"id,where\n1,apache\n2,fcgi\n3," + os.urandom(4).hex().encode() + b"\n"
    doc = expect_ok(a.upload("apache.csv", data, token=u.token), 201, "Apache: upload with Content-Length")
    eq(doc.get("file", {}).get("rows"), 3, "Apache: rows")
    eq(a.get("/api/v1/files/%s/raw" % doc["id"], token=u.token).body, data, "Apache: raw download")
    chunked = b"id,where\n1,chunked\n2," + os.urandom(4).hex().encode() + b"\n"
    doc = expect_ok(a.upload("chunked.csv", iter([chunked[:7], chunked[7:]]), token=u.token), 201,
                    "Apache: chunked upload (no Content-Length)")
    eq(doc.get("file", {}).get("size"), len(chunked), "Apache: size of the chunked upload")
    r = a.request("POST", "/api/v1/files?name=x.csv", body=b"id\n1\n", token=u.token,
                  headers={"Content-Type": "text/plain"})
    expect_error(r, 415, "Apache: wrong content type")


@test("apache_serves_public_index")
def _(env):
    a = apache(env)
    want = repo_index()
    r = a.get("/", headers={"Accept": "text/html"})
    eq(r.status, 200, "Apache: GET /")
    check(r.body == want, "Apache: GET / differs from public/index.html")
    check_static_headers(r, "Apache: GET /")
    r = a.get("/api/v1/health")
    check("'self'" not in (r.header("Content-Security-Policy") or ""),
          "Apache: the static CSP leaked onto API responses: %r" % r.header("Content-Security-Policy"))


# ------------------------------------------------------------ spawn-fcgi ---
@test("spawn_fcgi_socket_on_fd0")
def _(env):
    b = env.backends["spawn"]
    if b.error is not None:
        if isinstance(b.error, Skip):
            require("spawn-fcgi", str(b.error))
        raise b.error
    mode, gid = file_mode(b.sock)
    eq(oct(mode), oct(0o660), "spawn-fcgi -M 0660: socket mode")
    if env.root:
        eq(grp.getgrgid(gid).gr_name, WEB_USER, "spawn-fcgi -G: socket group")
    with open("/proc/%d/cmdline" % b.proc.pid, "rb") as f:
        cmd = f.read().split(b"\0")
    check(b"serve" in cmd and b"--socket" not in cmd, "spawn-fcgi -n should exec `concord ... serve` without "
                                                      "--socket, got %r" % cmd)
    expect_ok(b.client.get("/api/v1/health"), 200, "health through nginx -> spawn-fcgi'd concord")
    tok = expect_ok(b.client.login("admin", b.admin_password), 200, "login via spawn-fcgi").get("token")
    expect_ok(b.client.get("/api/v1/me", token=tok), 200, "me via spawn-fcgi")


# --------------------------------------------------------------- systemd ---
@test("systemd_units_verify")
def _(env):
    sa = shutil.which("systemd-analyze")
    if not sa:
        require("systemd-analyze", "systemd-analyze is not installed (apt-get install systemd)")
    src = os.path.join(harness.REPO, "conf", "systemd")
    d = os.path.join(env.tmp, "systemd")
    os.makedirs(d)
    with open(os.path.join(src, "concord.service")) as f:
        svc = f.read()
    with open(os.path.join(src, "concord.socket")) as f:
        sock = f.read()
    # static checks of what matters for socket activation
    check(re.search(r"^StandardInput=socket$", svc, re.M), "concord.service: StandardInput=socket missing")
    check(re.search(r"^StandardOutput=(journal|null|syslog)", svc, re.M),
          "concord.service: StandardOutput must not inherit the socket")
    check(re.search(r"^SocketMode=0660$", sock, re.M), "concord.socket: SocketMode=0660 missing")
    check(re.search(r"^Accept=no$", sock, re.M), "concord.socket: Accept=no missing")
    check(not re.search(r"^ExecStart=.*--socket", svc, re.M), "concord.service: ExecStart must not pass --socket")
    # systemd-analyze verify wants ExecStart= to exist: point it at the binary under test
    svc = render(svc, [(r"^(ExecStart=)/usr/local/bin/concord ", env.bin + " ", 1)], "conf/systemd/concord.service")
    with open(os.path.join(d, "concord.service"), "w") as f:
        f.write(svc)
    with open(os.path.join(d, "concord.socket"), "w") as f:
        f.write(sock)
    p = subprocess.run([sa, "verify", "concord.socket", "concord.service"], cwd=d, capture_output=True, timeout=60)
    out = (p.stdout + p.stderr).decode()
    lines = [ln for ln in out.splitlines() if "concord" in ln]
    check(p.returncode == 0 and not lines, "systemd-analyze verify: rc %d: %s" % (p.returncode, " | ".join(lines)))
    p = subprocess.run([sa, "security", "--offline=true", "concord.service"], cwd=d, capture_output=True,
                       timeout=60)
    m = re.search(r"Overall exposure level for concord\.service: ([0-9.]+)", (p.stdout + p.stderr).decode())
    if m:
        check(float(m.group(1)) <= 2.5, "systemd-analyze security: exposure %s (want <= 2.5)" % m.group(1))
