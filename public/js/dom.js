// dom.js - building the page from JavaScript without HTML strings (the
// Content-Security-Policy forbids inline script and style attributes, and
// text from the API must never become markup), plus the formatters every
// page shares.

/**
 * h("tag#id.class1.class2", {attr: value, onclick: fn}, ...children)
 * Children: strings and numbers become text nodes; arrays are flattened;
 * null, undefined and false are skipped.  Attributes: "class", "for",
 * "data-*", "aria-*", "on<event>" (a listener), booleans (true sets the
 * attribute, false leaves it out), "value"/"checked"/"selected" as
 * properties.
 */
export function h(spec, attrs, ...children) {
  const m = /^([a-z0-9]*)(?:#([\w-]+))?((?:\.[\w-]+)*)$/i.exec(spec);
  if (!m) throw new Error(`h(): bad element spec ${spec}`);
  const el = document.createElement(m[1] || "div");
  if (m[2]) el.id = m[2];
  if (m[3]) el.className = m[3].slice(1).split(".").join(" ");
  if (attrs && (typeof attrs !== "object" || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = [el.className, v].filter(Boolean).join(" ");
    else if (k === "value" || k === "checked" || k === "selected" || k === "indeterminate") el[k] = v;
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

// ---------------------------------------------------------------- formats
const intFmt = new Intl.NumberFormat("en-US");
const pctFmt = new Intl.NumberFormat("en-US", { style: "percent", maximumFractionDigits: 1 });

export function fmtInt(n) {
  if (n === null || n === undefined || n === "") return "—";
  return intFmt.format(n);
}

/** A decimal string ("1234.5", "-0.05") with thousands separators and two
 * decimals, exactly: money is never turned into a binary float. */
export function fmtMoney(s) {
  if (s === null || s === undefined || s === "") return "—";
  const m = /^(-?)(\d+)(?:\.(\d*))?$/.exec(String(s));
  if (!m) return String(s);
  const int = m[2].replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  // every digit the API wrote (it writes the exact decimal: "0.001"), at least two
  const frac = ((m[3] || "") + "00").slice(0, Math.max(2, (m[3] || "").length));
  return `${m[1]}${int}.${frac}`;
}

/** Money as a number, for charts only (never for figures shown as text). */
export function moneyNumber(s) {
  return s === null || s === undefined ? null : Number(s);
}

export function fmtPct(x) {
  if (x === null || x === undefined || Number.isNaN(x)) return "—";
  // Never round a few failures away: 4 of 18,494 is "<0.1%", not "0%".
  if (x > 0 && x < 0.001) return "<0.1%";
  if (x < 1 && x > 0.999) return ">99.9%";
  return pctFmt.format(x);
}

export function fmtBytes(n) {
  if (n === null || n === undefined) return "—";
  const units = ["bytes", "KB", "MB", "GB", "TB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${intFmt.format(v)} bytes` : `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** RFC 3339 UTC -> "2026-11-22 14:05" in the viewer's time zone. */
export function fmtTime(s) {
  if (!s) return "—";
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) return s;
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

export function fmtDuration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}

export function durationBetween(a, b) {
  if (!a) return null;
  const end = b ? new Date(b) : new Date();
  return end - new Date(a);
}

/** A cell value from the tables API as text. */
export function fmtCell(v, type) {
  if (v === null || v === undefined) return "";
  if (type === "money") return fmtMoney(v);
  if (typeof v === "boolean") return v ? "true" : "false";
  return String(v);
}

export function plural(n, one, many) {
  return `${fmtInt(n)} ${n === 1 ? one : many || one + "s"}`;
}

export function humanize(id) {
  return String(id).replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
}

// ---------------------------------------------------------------- widgets
/** A status word as a coloured badge (colour is never the only cue: the word is there). */
export function badge(word, kind) {
  return h(`span.badge.badge-${kind || word}`, word);
}

export function emptyState(title, text, ...actions) {
  return h("div.empty", { role: "note" }, h("p.empty-title", title), text ? h("p", text) : null,
    actions.length ? h("p.actions", actions) : null);
}

export function errorBox(err, title, text) {
  const box = h("div.alert.alert-error", { role: "alert" },
    h("p.alert-title", title || "Something went wrong"),
    h("p", text || (err && err.plain ? err.plain : String(err && err.message ? err.message : err))));
  if (err && err.details && err.details.length) {
    box.append(h("ul", err.details.map((d) => h("li", d))));
  }
  if (err && err.requestId && err.status >= 500) box.append(h("p.small", `Reference for your administrator: ${err.requestId}`));
  return box;
}

export function notice(text, kind = "info") {
  return h(`div.alert.alert-${kind}`, { role: kind === "error" ? "alert" : "status" }, text);
}

export function loading(text = "Loading…") {
  return h("p.loading", { role: "status" }, text);
}

/**
 * A placeholder in the shape of what is coming (tiles, then chart
 * blocks), so that a page never stands blank while it loads.  Marked busy
 * for assistive technology, with the text said once.
 */
export function skeleton({ tiles = 4, blocks = 2, text = "Loading…" } = {}) {
  return h("div.skeleton", { role: "status", "aria-busy": "true", "aria-label": text },
    h("span.visually-hidden", text),
    tiles ? h("div.skeleton-tiles", Array.from({ length: tiles }, () => h("div.skeleton-box.skeleton-tile"))) : null,
    Array.from({ length: blocks }, () => h("div.skeleton-box.skeleton-block")));
}

/** Values as separate chips, so that a value with a comma in it
 * ("Dubois, Quinn") reads as one value. */
export function chips(values, { max = 5, label = "Examples" } = {}) {
  const vs = (values || []).slice(0, max);
  if (!vs.length) return null;
  return h("ul.chips", { "aria-label": label }, vs.map((v) => h("li.chip", { title: String(v) }, v === "" ? "(empty)" : String(v))));
}

/**
 * What a run or a mapping must say although nothing failed:
 * warnings [{code, detail, count}] as an amber box (null when none).
 */
export function warningBox(warnings, title, ...extra) {
  if (!warnings || !warnings.length) return null;
  return h("div.alert.alert-warning", { role: "status", "data-warnings": String(warnings.length) },
    h("p.alert-title", title),
    h("ul", warnings.map((w) => h("li", { "data-code": w.code, "data-count": w.count !== undefined ? String(w.count) : null }, w.detail))),
    extra);
}

/**
 * A simple accessible table.  columns: [{label, value(row) -> Node|string,
 * class, numeric}].
 */
export function table(columns, rows, { caption, className } = {}) {
  return h(`table.data${className ? "." + className : ""}`,
    caption ? h("caption", caption) : null,
    h("thead", h("tr", columns.map((c) => h("th", { scope: "col", class: c.numeric ? "num" : c.class }, c.label)))),
    h("tbody", rows.map((r) => h("tr", columns.map((c) => {
      const v = c.value(r);
      return h("td", { class: [c.numeric ? "num" : "", c.class || ""].filter(Boolean).join(" ") || null }, v);
    })))));
}

/** Wraps a wide table so it scrolls inside the page, keyboard-reachable. */
export function scroller(el, label) {
  return h("div.scroll", { tabindex: "0", role: "region", "aria-label": label }, el);
}

/**
 * A modal confirmation with <dialog> (keyboard: Esc cancels, focus stays
 * inside).  Resolves true when confirmed.
 */
export function confirmDialog({ title, text, confirm = "Confirm", danger = false }) {
  return new Promise((resolve) => {
    const yes = h(`button.btn${danger ? ".btn-danger" : ".btn-primary"}`, { type: "submit", value: "yes" }, confirm);
    const no = h("button.btn", { type: "submit", value: "no" }, "Cancel");
    const id = "dlg-" + Math.random().toString(36).slice(2);
    const dlg = h("dialog.dialog", { "aria-labelledby": id + "-t", "aria-describedby": id + "-d" },
      h("form", { method: "dialog" },
        h("h2", { id: id + "-t" }, title),
        h("p", { id: id + "-d" }, text),
        h("div.dialog-actions", no, yes)));
    document.body.append(dlg);
    dlg.addEventListener("close", () => {
      resolve(dlg.returnValue === "yes");
      dlg.remove();
    });
    dlg.showModal();
    no.focus();
  });
}

/** A dialog asking for one value (e.g. a new password).  Resolves the value or null. */
export function promptDialog({ title, text, label, type = "text", confirm = "Save", minlength, autocomplete }) {
  return new Promise((resolve) => {
    const id = "dlg-" + Math.random().toString(36).slice(2);
    const input = h("input", { id: id + "-i", type, required: true, minlength, autocomplete });
    const dlg = h("dialog.dialog", { "aria-labelledby": id + "-t" },
      h("form", { method: "dialog" },
        h("h2", { id: id + "-t" }, title),
        text ? h("p", text) : null,
        h("div.field", h("label", { for: id + "-i" }, label), input),
        h("div.dialog-actions",
          h("button.btn", { type: "submit", value: "no", formnovalidate: true }, "Cancel"),
          h("button.btn.btn-primary", { type: "submit", value: "yes" }, confirm))));
    document.body.append(dlg);
    dlg.addEventListener("close", () => {
      resolve(dlg.returnValue === "yes" ? input.value : null);
      dlg.remove();
    });
    dlg.showModal();
    input.focus();
  });
}

/** Announces a message to screen readers (the shared polite live region). */
export function announce(text) {
  const live = document.getElementById("live");
  if (!live) return;
  live.textContent = "";
  setTimeout(() => { live.textContent = text; }, 30);
}
