// tests/e2e/lib/server.mjs - starts Concord for the end-to-end tests:
// `concord serve` on a unix socket and nginx with the shipped server block
// (conf/nginx/concord.conf) on a free loopback port, in one temporary
// directory, the way conf/demo/run does it: plain HTTP, so the session
// cookie is the non-Secure `concord` (CONCORD_COOKIE_SECURE=0).
// Environment: CONCORD_BIN, CONCORD_SHARED, CONCORD_E2E_PORT (default: a
// free port), CONCORD_E2E_KEEP=1 (keep the directory), CONCORD_E2E_NGINX_CONF.
//
// Run alone (`node tests/e2e/lib/server.mjs`) it starts a server with an
// admin account and waits for Ctrl-C: handy to look at the UI by hand.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(HERE, "..", "..", "..");
export const SHARED = process.env.CONCORD_SHARED || path.resolve(REPO, "..", "shared");
const WEB_USER = "www-data";

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function copyTree(src, dst) {
  fs.cpSync(src, dst, { recursive: true });
  const walk = (d) => {
    fs.chmodSync(d, 0o755);
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else fs.chmodSync(p, 0o644);
    }
  };
  walk(dst);
}

// The shipped server block with this run's values, as conf/demo/run renders
// it; each substitution must match, so a changed file fails loudly.
function renderServerBlock(text, { port, root, sock, log }) {
  const subs = [
    [/^(\s*)listen 443 ssl http2;/m, `$1listen 127.0.0.1:${port};`],
    [/^\s*ssl_[a-z_]+\s.*\n/gm, ""],
    [/^(\s*)root \/usr\/local\/share\/concord\/public;/m, `$1root ${root};`],
    [/^(\s*)access_log \/var\/log\/nginx\/concord\.access\.log concord;/m, `$1access_log ${log} concord;`],
    [/unix:\/run\/concord\/concord\.sock;/g, `unix:${sock};`],
  ];
  for (const [re, repl] of subs) {
    if (!re.test(text)) throw new Error(`conf/nginx/concord.conf: no match for ${re}`);
    re.lastIndex = 0;
    text = text.replace(re, repl);
  }
  return text;
}

async function waitFor(cond, ms, what, logFile) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await sleep(50);
  }
  let tail = "";
  if (logFile && fs.existsSync(logFile)) tail = "\n" + fs.readFileSync(logFile, "utf8").split("\n").slice(-15).join("\n");
  throw new Error(`${what}: not ready after ${ms} ms${tail}`);
}

function socketAccepts(p) {
  return new Promise((resolve) => {
    if (!fs.existsSync(p)) return resolve(false);
    const c = net.connect(p);
    c.on("connect", () => { c.destroy(); resolve(true); });
    c.on("error", () => resolve(false));
  });
}

function portOpen(port) {
  return new Promise((resolve) => {
    const c = net.connect(port, "127.0.0.1");
    c.on("connect", () => { c.destroy(); resolve(true); });
    c.on("error", () => resolve(false));
  });
}

/**
 * Starts concord + nginx.  Returns {url, port, dir, bin, cli(args, stdin),
 * stop()}.  users: [{name, password, role}] created with the command line.
 */
export async function startServer({ users = [], workers = 4, keep = process.env.CONCORD_E2E_KEEP === "1" } = {}) {
  const bin = path.resolve(process.env.CONCORD_BIN || path.join(REPO, "concord"));
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run make in ${REPO} (or set CONCORD_BIN)`);
  const nginx = ["/usr/sbin/nginx", "/usr/bin/nginx"].find((p) => fs.existsSync(p));
  if (!nginx) throw new Error("nginx is not installed (apt-get install nginx-light)");
  const root = process.getuid() === 0;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "concord-e2e-"));
  fs.chmodSync(dir, 0o711); // nginx's workers (www-data) must reach the socket
  const pub = path.join(dir, "public");
  copyTree(path.join(REPO, "public"), pub);
  const tmp = path.join(dir, "tmp");
  fs.mkdirSync(tmp);
  if (root) {
    const id = spawnSync("id", ["-u", WEB_USER], { encoding: "utf8" });
    if (id.status === 0) fs.chownSync(tmp, Number(id.stdout.trim()), -1);
  }
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith("CONCORD_") && k !== "CONCORD_BIN") delete env[k];
  env.CONCORD_DATA_DIR = path.join(dir, "data");
  env.CONCORD_COOKIE_SECURE = "0"; // plain HTTP on loopback
  const cli = (args, input) => {
    const r = spawnSync(bin, args, { env, input, encoding: "utf8", timeout: 60000 });
    if (r.status !== 0) throw new Error(`concord ${args.join(" ")} failed (${r.status}): ${r.stderr || r.stdout}`);
    return r.stdout;
  };
  cli(["init"]);
  for (const u of users) cli(["user", "add", u.name, "--role", u.role || "member"], u.password + "\n");

  const started = [];
  const abandon = async (e) => {
    for (const c of started.reverse()) {
      try { process.kill(c.pid, "SIGTERM"); } catch { /* gone */ }
    }
    await sleep(300);
    if (!keep) fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  };
  try {
    const sock = path.join(dir, "concord.sock");
    const concordLog = path.join(dir, "concord.log");
    const group = root ? ["--socket-group", WEB_USER] : [];
    const concord = spawn(bin, ["serve", "--socket", sock, "--workers", String(workers), ...group], {
      env, cwd: dir, detached: true, stdio: ["ignore", fs.openSync(concordLog, "a"), fs.openSync(concordLog, "a")],
    });
    started.push(concord);
    let concordExit = null;
    concord.on("exit", (code, sig) => { concordExit = code ?? sig; });
    await waitFor(async () => concordExit === null && (await socketAccepts(sock)), 15000, "concord serve", concordLog);

    const port = Number(process.env.CONCORD_E2E_PORT) || (await freePort());
    const ndir = path.join(dir, "nginx");
    fs.mkdirSync(ndir);
    fs.chmodSync(ndir, 0o711);
    // CONCORD_E2E_NGINX_CONF: another server block to test (default: the shipped one).
    const shipped = process.env.CONCORD_E2E_NGINX_CONF || path.join(REPO, "conf/nginx/concord.conf");
    const server = renderServerBlock(fs.readFileSync(shipped, "utf8"), {
      port, root: pub, sock, log: path.join(ndir, "access.log"),
    });
    // The tests sign in more often than a person would: lift nginx's login
    // rate limit (the service's own lockout still applies).
    const httpConf = fs.readFileSync(path.join(REPO, "conf/nginx/concord-http.conf"), "utf8").replace("rate=30r/m;", "rate=1000r/s;");
    fs.writeFileSync(path.join(ndir, "concord-http.conf"), httpConf);
    fs.writeFileSync(path.join(ndir, "server.conf"), server);
    const nginxErr = path.join(ndir, "error.log");
    const conf = path.join(ndir, "nginx.conf");
    fs.writeFileSync(conf, `# generated by tests/e2e/lib/server.mjs
daemon off;
worker_processes 1;
pid ${ndir}/nginx.pid;
error_log ${nginxErr};
${root ? `user ${WEB_USER};` : ""}
events { worker_connections 256; }
http {
      include /etc/nginx/mime.types;
      default_type application/octet-stream;
      client_body_temp_path ${tmp}/body;
      fastcgi_temp_path ${tmp}/fastcgi;
      proxy_temp_path ${tmp}/proxy;
      uwsgi_temp_path ${tmp}/uwsgi;
      scgi_temp_path ${tmp}/scgi;
      include ${ndir}/concord-http.conf;
      include ${ndir}/server.conf;
}
`);
    const t = spawnSync(nginx, ["-t", "-q", "-c", conf], { encoding: "utf8" });
    if (t.status !== 0) throw new Error("nginx -t failed:\n" + t.stderr);
    const ng = spawn(nginx, ["-c", conf], { detached: true, stdio: ["ignore", "ignore", fs.openSync(path.join(ndir, "stderr.log"), "a")] });
    started.push(ng);
    let nginxExit = null;
    ng.on("exit", (code, sig) => { nginxExit = code ?? sig; });
    await waitFor(async () => nginxExit === null && (await portOpen(port)), 10000, "nginx", nginxErr);
    const url = `http://127.0.0.1:${port}`;
    await waitFor(async () => {
      try { return (await fetch(url + "/api/v1/health")).ok; } catch { return false; }
    }, 10000, "health", concordLog);

    return finish({ url, port, dir, bin, cli, concordLog, nginxErr, ng, concord, getNginxExit: () => nginxExit, getConcordExit: () => concordExit, keep });
  } catch (e) {
    return abandon(e);
  }
}

function finish({ url, port, dir, bin, cli, concordLog, nginxErr, ng, concord, getNginxExit, getConcordExit, keep }) {
  async function stopChild(child, getExit) {
    if (getExit() !== null) return;
    const gone = new Promise((r) => child.once("exit", r));
    try { process.kill(child.pid, "SIGTERM"); } catch { return; }
    const t = setTimeout(() => { try { process.kill(child.pid, "SIGKILL"); } catch { /* gone */ } }, 10000);
    await gone;
    clearTimeout(t);
  }
  return {
    url, port, dir, bin, cli, concordLog, nginxLog: nginxErr,
    async stop() {
      await stopChild(ng, getNginxExit);
      await stopChild(concord, getConcordExit);
      if (!keep) fs.rmSync(dir, { recursive: true, force: true });
      else console.log(`# kept ${dir}`);
    },
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const password = process.env.CONCORD_E2E_PASSWORD || "concord-demo";
  const s = await startServer({
    users: [{ name: "admin", password, role: "admin" }, { name: "demo", password, role: "member" }],
  });
  console.log(`Concord on ${s.url}/  (admin / demo, password ${password}); data in ${s.dir}`);
  const stop = async () => { await s.stop(); process.exit(0); };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  setInterval(() => {}, 1 << 30);
}
