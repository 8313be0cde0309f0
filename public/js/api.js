// api.js - the only place that talks to the JSON API (/api/v1/).
//
// Authentication is the HttpOnly session cookie set by POST /auth/login:
// every request goes with credentials "same-origin" and the token in the
// login answer is never kept.  Unsafe requests are same-origin, so the
// service's CSRF check (Sec-Fetch-Site / Origin) lets them through.
//
// Errors become ApiError with a sentence a person can act on (`plain`).
// A 401 on anything but the sign-in call raises the "concord:signed-out"
// event: the app then shows the sign-in page.

export const BASE = "/api/v1";

// Whether this browser signed in and did not sign out: only a hint that
// lets the app skip GET /me (and the 401 it would log) when nobody is
// signed in.  Never the token: the session itself is the HttpOnly cookie.
const HINT = "concord.signedIn";
export const session = {
  get hinted() {
    try { return localStorage.getItem(HINT) === "1"; } catch { return true; }
  },
  set hinted(v) {
    try {
      if (v) localStorage.setItem(HINT, "1");
      else localStorage.removeItem(HINT);
    } catch { /* storage disabled: GET /me decides */ }
  },
};

// The workspace every request works in: "personal" or "team:ID" (GET
// /workspaces), sent as the X-Concord-Workspace header on every call and
// remembered per browser and user (localStorage).  The service checks it
// against the signed-in user's membership on every request.
export const WS_HEADER = "X-Concord-Workspace";
let wsUser = null;
export const workspace = {
  /** Picks whose remembered choice applies (the signed-in user's id). */
  forUser(id) { wsUser = id; },
  get current() {
    try { return (wsUser && localStorage.getItem("concord.workspace." + wsUser)) || "personal"; } catch { return "personal"; }
  },
  set current(v) {
    try {
      if (!wsUser) return;
      if (v && v !== "personal") localStorage.setItem("concord.workspace." + wsUser, v);
      else localStorage.removeItem("concord.workspace." + wsUser);
    } catch { /* storage disabled: the personal workspace after a reload */ }
  },
};

/** The headers that pick the current workspace (none for the personal one). */
export function workspaceHeaders() {
  const w = workspace.current;
  return w && w !== "personal" ? { [WS_HEADER]: w } : {};
}

export class ApiError extends Error {
  constructor(status, body, requestId) {
    const first = body && Array.isArray(body.errors) && body.errors[0] ? body.errors[0] : {};
    super((body && body.error) || `HTTP ${status}`);
    this.status = status;
    this.body = body || null;
    this.code = first.code || null;
    this.errors = (body && body.errors) || [];
    this.requestId = requestId || null;
    this.retryAfter = null;
    this.details = [];
  }

  /** One or two sentences for a person, no jargon. */
  get plain() {
    const e = this.errors[0] || {};
    switch (this.status) {
      case 0:
        return "Cannot reach the Concord service. Check your network connection and try again.";
      case 400:
        return `The request was not accepted: ${this.message}.`;
      case 401:
        return this.code === "unauthenticated" && /password/.test(this.message)
          ? "Wrong user name or password." : "Your session has ended. Please sign in again.";
      case 403:
        return this.code === "forbidden" && /workspace|team/.test(this.message)
          ? `Your role does not allow this here: ${this.message.replace(/[.\s]+$/, "")}. Ask an owner of the team.`
          : "You are not allowed to do this. Ask an administrator if you need access.";
      case 404:
        return "Not found: it may have been deleted, or it belongs to another account.";
      case 409:
        return `${capital(this.message)}.`;
      case 413:
        return "The file is larger than the server accepts. Split it or ask an administrator to raise the upload limit.";
      case 415:
        return "This kind of file is not supported: upload .csv, .json, .ndjson or .xlsx files.";
      case 422:
        if (e.line) return `The file is broken at line ${e.line}${e.column ? `, column ${e.column}` : ""}: ${stripPos(e.detail || this.message)}.`;
        return `${capital(e.detail || this.message)}.`;
      case 429:
        return `Too many attempts. Wait ${this.retryAfter ? this.retryAfter + " seconds" : "a minute"} and try again.`;
      case 503:
      case 504:
        return "The Concord service is not answering right now. Try again in a moment.";
      default:
        return this.status >= 500
          ? "The service had a problem and could not finish this. Try again; if it happens again, tell your administrator."
          : `${capital(this.message)}.`;
    }
  }
}

function capital(s) {
  s = String(s || "").replace(/[.\s]+$/, "");
  return s.charAt(0).toUpperCase() + s.slice(1);
}

// "line 3, column 3: unterminated quoted field: ..." -> "unterminated quoted field: ..."
function stripPos(s) {
  return String(s).replace(/^line \d+(, column \d+)?:\s*/, "").replace(/[.\s]+$/, "");
}

function signedOut() {
  session.hinted = false;
  window.dispatchEvent(new CustomEvent("concord:signed-out"));
}

async function parse(res) {
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { ok: false, error: text.slice(0, 200) };
  }
}

/**
 * api("GET", "/files") -> the parsed JSON body.  Throws ApiError.
 * opts: {body (JSON), signal, raw (return {body, headers, status}), auth401 (false: do not sign out on 401)}
 */
export async function api(method, path, opts = {}) {
  const headers = { Accept: "application/json", ...workspaceHeaders() };
  const init = { method, headers, credentials: "same-origin", cache: "no-store", signal: opts.signal };
  if (opts.body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(opts.body);
  }
  let res;
  try {
    res = await fetch(BASE + path, init);
  } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new ApiError(0, null);
  }
  const body = await parse(res);
  if (!res.ok || (body && body.ok === false)) {
    const err = new ApiError(res.status, body, res.headers.get("X-Request-Id"));
    err.retryAfter = res.headers.get("Retry-After");
    err.location = res.headers.get("Location");
    if (res.status === 401 && opts.auth401 !== false) signedOut();
    throw err;
  }
  if (opts.raw) return { body, headers: res.headers, status: res.status };
  return body;
}

export const get = (path, opts) => api("GET", path, opts);
export const post = (path, body, opts = {}) => api("POST", path, { ...opts, body });
export const put = (path, body, opts = {}) => api("PUT", path, { ...opts, body });
export const del = (path, opts) => api("DELETE", path, opts);

/** Follows `next` of a list (files) until the end; returns every item. */
export async function getAll(path, key, opts) {
  const out = [];
  let url = path;
  for (let i = 0; url && i < 1000; i++) {
    const doc = await get(url, opts);
    out.push(...(doc[key] || []));
    url = doc.next_url ? doc.next_url.replace(/^\/api\/v1/, "") : null;
  }
  return out;
}

// ---------------------------------------------------------------- uploads
export const UPLOAD_TYPES = {
  csv: "text/csv",
  tsv: "text/csv",
  txt: "text/csv",
  json: "application/json",
  ndjson: "application/x-ndjson",
  jsonl: "application/x-ndjson",
  xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
};

export function uploadType(name) {
  const m = /\.([^.]+)$/.exec(name || "");
  return m ? UPLOAD_TYPES[m[1].toLowerCase()] || null : null;
}

/**
 * Uploads one File as the raw body of POST /files?name=NAME.
 * onProgress(sent, total) follows the upload; resolves the JSON answer
 * ({file, duplicate}), rejects ApiError.  Returns {promise, abort}.
 */
export function upload(file, onProgress) {
  const xhr = new XMLHttpRequest();
  const promise = new Promise((resolve, reject) => {
    xhr.open("POST", `${BASE}/files?name=${encodeURIComponent(file.name)}`);
    xhr.setRequestHeader("Content-Type", uploadType(file.name) || "application/octet-stream");
    xhr.setRequestHeader("Accept", "application/json");
    for (const [k, v] of Object.entries(workspaceHeaders())) xhr.setRequestHeader(k, v);
    xhr.responseType = "text";
    xhr.upload.onprogress = (e) => onProgress && onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch { body = { ok: false, error: xhr.responseText.slice(0, 200) }; }
      if (xhr.status >= 200 && xhr.status < 300 && body && body.ok !== false) {
        resolve(body);
        return;
      }
      const err = new ApiError(xhr.status, body, xhr.getResponseHeader("X-Request-Id"));
      if (xhr.status === 401) signedOut();
      reject(err);
    };
    xhr.onerror = () => reject(new ApiError(0, null));
    xhr.onabort = () => reject(Object.assign(new Error("cancelled"), { name: "AbortError" }));
    xhr.send(file);
  });
  return { promise, abort: () => xhr.abort() };
}

/**
 * Downloads an API resource (an export, a file's original bytes) with the
 * workspace header, which a plain link cannot send: fetched, then saved
 * under the name of its Content-Disposition (or fallback).  The whole
 * answer is held in memory once, as a Blob.
 */
export async function download(url, fallback) {
  let res;
  try {
    res = await fetch(url, { credentials: "same-origin", cache: "no-store", headers: workspaceHeaders() });
  } catch {
    throw new ApiError(0, null);
  }
  if (!res.ok) {
    const err = new ApiError(res.status, await parse(res), res.headers.get("X-Request-Id"));
    if (res.status === 401) signedOut();
    throw err;
  }
  const cd = res.headers.get("Content-Disposition") || "";
  const m = /filename="([^"]+)"/.exec(cd);
  const blob = await res.blob();
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = (m && m[1]) || fallback || url.split("?")[0].split("/").pop();
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 60000);
}
