// app.js - Concord's single-page interface: the hash router, the page
// frame (navigation, who is signed in) and the session.
//
// Routes (bookmarkable; filters live in the hash's query string):
//   #/                       overview: the four steps and where you are
//   #/login                  sign in
//   #/files                  upload, list
//   #/files/ID               a file's profile
//   #/files/ID/mapping       review and confirm a file's mapping
//   #/runs                   start a run, history
//   #/runs/ID                a run: progress, counts, quality, quarantine
//   #/dashboards/NAME?...    sales (from, to, country, category), customers,
//                            products, quality, sources
//   #/dashboards/matching    entity resolution: counts, blocking, weights, model
//   #/review?entity=&pair=   the review queue: accept or reject pairs of records
//   #/data, #/data/TABLE?... tables: sort, filter, page, export
//   #/schema                 the target schema; the workspace's own entities
//   #/users                  user administration (admins)
//   #/account                my password
//   #/members                the workspace: members and roles (owners
//                            manage them), its audit log, new teams (admins)
// The workspace switcher in the header picks the workspace of every API
// call (X-Concord-Workspace, api.js); links to API downloads are fetched
// with it (a link alone cannot send a header).
import { get, post, session, ApiError, workspace, download } from "./api.js";
import { h, clear, errorBox } from "./dom.js";

const pages = {
  login: () => import("./page-login.js"),
  home: () => import("./page-home.js"),
  files: () => import("./page-files.js"),
  file: () => import("./page-file.js"),
  mapping: () => import("./page-mapping.js"),
  runs: () => import("./page-runs.js"),
  run: () => import("./page-run.js"),
  dashboards: () => import("./page-dashboards.js"),
  matching: () => import("./page-matching.js"),
  review: () => import("./page-review.js"),
  data: () => import("./page-data.js"),
  table: () => import("./page-table.js"),
  users: () => import("./page-users.js"),
  account: () => import("./page-account.js"),
  schema: () => import("./page-schema.js"),
  members: () => import("./page-members.js"),
};

const routes = [
  [/^\/$/, "home"],
  [/^\/login$/, "login"],
  [/^\/files$/, "files"],
  [/^\/files\/([^/]+)$/, "file"],
  [/^\/files\/([^/]+)\/mapping$/, "mapping"],
  [/^\/runs$/, "runs"],
  [/^\/runs\/([^/]+)$/, "run"],
  [/^\/dashboards\/matching$/, "matching"],
  [/^\/dashboards(?:\/([a-z]+))?$/, "dashboards"],
  [/^\/review$/, "review"],
  [/^\/data$/, "data"],
  [/^\/data\/([A-Za-z0-9_]+)$/, "table"],
  [/^\/users$/, "users"],
  [/^\/account$/, "account"],
  [/^\/schema$/, "schema"],
  [/^\/members$/, "members"],
];

const NAV = [
  ["Overview", "#/", "home"],
  ["Files", "#/files", "files"],
  ["Runs", "#/runs", "runs"],
  ["Review", "#/review", "review"],
  ["Dashboards", "#/dashboards/sales", "dashboards"],
  ["Data", "#/data", "data"],
  ["Schema", "#/schema", "schema"],
  ["Workspace", "#/members", "members"],
  ["Users", "#/users", "users", "admin"],
];
const SECTION = { file: "files", mapping: "files", run: "runs", table: "data", account: "account", matching: "dashboards" };

export const state = { user: null, workspaces: [] };
let current = null; // {cleanups: [], controller}
let flash = null;

/** Shows a message on the next page (after navigate()). */
export function setFlash(node) {
  flash = node;
}

export function navigate(hash, { replace = false } = {}) {
  if (!hash.startsWith("#")) hash = "#" + hash;
  if (location.hash === hash) {
    render();
    return;
  }
  if (replace) {
    history.replaceState(null, "", hash);
    render();
  } else location.hash = hash;
}

/** The current route's path and query (hash "#/x/y?a=1"). */
export function parseHash() {
  const raw = location.hash.replace(/^#/, "") || "/";
  const q = raw.indexOf("?");
  const path = q < 0 ? raw : raw.slice(0, q);
  const query = new URLSearchParams(q < 0 ? "" : raw.slice(q + 1));
  return { path: path || "/", query };
}

async function loadUser() {
  if (!session.hinted) return null;
  try {
    const doc = await get("/me", { auth401: false });
    return doc.user;
  } catch (e) {
    if (e.status === 401) {
      session.hinted = false;
      return null;
    }
    throw e;
  }
}

/** The workspaces the user may pick; a remembered one that is not among
 * them any more (removed from the team) falls back to personal. */
export async function loadWorkspaces() {
  if (!state.user) return;
  workspace.forUser(state.user.id);
  try {
    state.workspaces = (await get("/workspaces")).workspaces || [];
  } catch (e) {
    if (e.status === 401) return;
    state.workspaces = [];
  }
  if (!state.workspaces.some((w) => w.id === workspace.current)) workspace.current = "personal";
}

/** The current workspace's entry of GET /workspaces (personal if unknown). */
export function currentWorkspace() {
  return state.workspaces.find((w) => w.id === workspace.current) ||
    { id: "personal", kind: "personal", name: state.user ? state.user.username : "", role: "owner" };
}

export async function switchWorkspace(id) {
  workspace.current = id;
  await loadWorkspaces();
  frame();
  navigate("#/");
}

export async function signedIn(user) {
  state.user = user;
  session.hinted = true;
  await loadWorkspaces();
  frame();
}

/** Forgets the signed-in user locally and shows the sign-in page. */
export function endSession(message, { remember = false } = {}) {
  session.hinted = false;
  state.user = null;
  frame();
  if (message) setFlash(h("div.alert.alert-info", { role: "status" }, message));
  if (remember) sessionStorage.setItem("concord.after", location.hash);
  else sessionStorage.removeItem("concord.after");
  navigate("#/login", { replace: true });
}

export async function signOut() {
  try {
    await post("/auth/logout", {}, { auth401: false });
  } catch { /* the session may already be gone: signed out either way */ }
  endSession("You are signed out.");
}

function frame() {
  const nav = document.getElementById("nav");
  const who = document.getElementById("who");
  clear(nav);
  clear(who);
  const u = state.user;
  nav.hidden = !u;
  who.hidden = !u;
  if (!u) return;
  const ul = h("ul");
  for (const [label, href, key, role] of NAV) {
    if (role && u.role !== role) continue;
    ul.append(h("li", h("a", { href, "data-section": key }, label)));
  }
  nav.append(ul);
  const cur = currentWorkspace();
  const pick = h("select#workspace", { "aria-label": "Workspace", "data-testid": "workspace",
    onchange: (e) => switchWorkspace(e.target.value) },
  (state.workspaces.length ? state.workspaces : [cur]).map((w) => h("option", { value: w.id, selected: w.id === cur.id },
    w.kind === "personal" ? "Personal" : `${w.name} (${w.role})`)));
  who.append(h("span.ws-pick", pick));
  who.append(
    h("span.who-name", { "data-testid": "who" }, "Signed in as ", h("strong", u.username), " ", h("span.role", `(${u.role})`)),
    h("a.btn.btn-small", { href: "#/account" }, "My account"),
    h("button.btn.btn-small", { type: "button", id: "signout", onclick: signOut }, "Sign out"),
  );
}

function markNav(section) {
  for (const a of document.querySelectorAll("#nav a")) {
    if (a.dataset.section === section) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

function cleanup() {
  if (!current) return;
  current.controller.abort();
  for (const fn of current.cleanups.splice(0)) {
    try { fn(); } catch { /* a cleanup must not stop the next page */ }
  }
}

let renderSeq = 0;

export async function render() {
  const seq = ++renderSeq;
  cleanup();
  const main = document.getElementById("main");
  const { path, query } = parseHash();
  let name = "home";
  let params = [];
  let found = false;
  for (const [re, n] of routes) {
    const m = re.exec(path);
    if (m) {
      name = n;
      params = m.slice(1).map((p) => {
        try { return p === undefined ? p : decodeURIComponent(p); } catch { return p; }
      });
      found = true;
      break;
    }
  }
  if (!state.user && name !== "login") {
    const back = location.hash && location.hash !== "#/login" ? location.hash : "";
    sessionStorage.setItem("concord.after", back);
    navigate("#/login", { replace: true });
    return;
  }
  if (state.user && name === "login") {
    navigate("#/", { replace: true });
    return;
  }
  const controller = new AbortController();
  const cleanups = [];
  const ctx = {
    params,
    query,
    path,
    user: state.user,
    signal: controller.signal,
    cleanups,
    onCleanup: (fn) => cleanups.push(fn),
    /** Chart.js instances to destroy when the page goes. */
    track: (chart) => cleanups.push(() => chart.destroy()),
    setTitle: (t) => { document.title = t ? `${t} · Concord` : "Concord"; },
    get alive() { return !controller.signal.aborted; },
  };
  current = { controller, cleanups: ctx.cleanups };
  markNav(SECTION[name] || name);
  // data-seq: which render this is (the end-to-end tests wait for a
  // higher one, without aria-busy, after each navigation).
  const view = h("div.view", { "aria-busy": "true", "data-seq": String(seq) });
  clear(main).append(view);
  // A message for this page (signed out...): the page may place it
  // (ctx.flash), otherwise it goes on top.
  ctx.flash = flash;
  flash = null;
  if (!found) {
    ctx.setTitle("Not found");
    view.append(h("h1", { tabindex: "-1" }, "Page not found"),
      h("p", "There is no page at this address. ", h("a", { href: "#/" }, "Go to the overview.")));
    if (ctx.flash) view.prepend(ctx.flash);
    view.removeAttribute("aria-busy");
    focusHeading(view);
    return;
  }
  try {
    const mod = await pages[name]();
    if (seq !== renderSeq) return;
    await mod.render(view, ctx);
  } catch (e) {
    if (e.name === "AbortError" || seq !== renderSeq) return;
    if (e.status === 401) return; // the signed-out handler shows the sign-in page
    // API errors are shown in plain words; anything else is a defect.
    if (!(e instanceof ApiError)) console.error("page failed", e);
    view.append(errorBox(e, "This page could not be shown"));
  } finally {
    if (seq === renderSeq) {
      if (ctx.flash && !ctx.flash.isConnected) view.prepend(ctx.flash);
      view.removeAttribute("aria-busy");
    }
  }
  if (seq === renderSeq) focusHeading(view);
}

let lastPath = null;
function focusHeading(view) {
  // Move focus to the page's heading when the page changes (not when only
  // its filters change), so keyboard and screen-reader users start there;
  // unless the page focused a field itself (sign-in).
  const { path } = parseHash();
  const first = lastPath === null; // a page load: leave focus where the browser puts it
  const changed = path !== lastPath;
  lastPath = path;
  if (first || !changed || view.contains(document.activeElement)) return;
  const h1 = view.querySelector("h1");
  if (!h1) return;
  h1.setAttribute("tabindex", "-1");
  h1.focus();
}

window.addEventListener("concord:signed-out", () => {
  if (state.user) endSession("Your session has ended. Please sign in again.", { remember: true });
});

window.addEventListener("hashchange", render);

// A link to an API download (CSV export, original file) in a team
// workspace: fetched with the workspace header instead.
document.addEventListener("click", (e) => {
  const a = e.target.closest && e.target.closest('a[href^="/api/v1/"]');
  if (!a || workspace.current === "personal" || e.defaultPrevented || e.button !== 0) return;
  e.preventDefault();
  download(a.getAttribute("href"), a.getAttribute("download")).catch((err) => {
    const main = document.getElementById("main");
    const view = main && main.querySelector(".view");
    if (view) view.prepend(errorBox(err, "The download did not work"));
  });
});

// Leaving a page (or signing out) aborts its requests: an aborted request
// that nobody awaits any more is not an error.
window.addEventListener("unhandledrejection", (e) => {
  if (e.reason && e.reason.name === "AbortError") e.preventDefault();
});

async function boot() {
  document.getElementById("skip").addEventListener("click", (e) => {
    e.preventDefault();
    const target = document.querySelector("#main h1") || document.getElementById("main");
    target.setAttribute("tabindex", "-1");
    target.focus();
  });
  try {
    state.user = await loadUser();
    await loadWorkspaces();
  } catch (e) {
    const main = document.getElementById("main");
    clear(main).append(h("h1", "Concord"), errorBox(e, "Concord is not available"));
    return;
  }
  frame();
  render();
}

boot();
