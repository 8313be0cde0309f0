// page-file.js - one file's profile: format and dialect, and per column
// the inferred type, empty values, distinct values, examples and a small
// distribution (histogram bins of numbers, else the most frequent values).
import { get, del, BASE } from "./api.js";
import { h, append, fmtInt, fmtBytes, fmtTime, fmtPct, badge, confirmDialog, errorBox, emptyState, table, scroller, chips } from "./dom.js";
import { chart } from "./charts.js";
import { navigate, setFlash } from "./app.js";

const ENCODING = { "utf-8": "UTF-8", "utf-8-bom": "UTF-8 with byte-order mark", "latin-1": "Latin-1 (converted to UTF-8)" };
const DELIM = { ",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe" };

export async function render(view, ctx) {
  const id = ctx.params[0];
  const doc = await get(`/files/${encodeURIComponent(id)}`, { signal: ctx.signal });
  const f = doc.file;
  const profile = doc.profile || { columns: [] };
  ctx.setTitle(f.name);

  const remove = async () => {
    const ok = await confirmDialog({ title: `Delete ${f.name}?`, text: "The file, its profile and its mapping are deleted.", confirm: "Delete file", danger: true });
    if (!ok) return;
    try {
      await del(`/files/${encodeURIComponent(f.id)}`);
      setFlash(h("div.alert.alert-success", { role: "status" }, `${f.name} was deleted.`));
      navigate("#/files");
    } catch (err) {
      view.prepend(errorBox(err, "The file could not be deleted"));
    }
  };

  const d = f.dialect || {};
  const facts = [
    ["Status", badge(f.status)],
    ["Format", (f.format || "").toUpperCase()],
    f.format === "csv" ? ["Separator", DELIM[d.delimiter] ? `${DELIM[d.delimiter]} (${d.delimiter === "\t" ? "\\t" : d.delimiter})` : d.delimiter] : null,
    f.format === "csv" ? ["Header row", d.header ? "yes" : "no"] : null,
    d.records_path ? ["Records at", d.records_path] : null,
    ["Encoding", ENCODING[d.encoding] || d.encoding || "—"],
    d.line_ending ? ["Line endings", d.line_ending.toUpperCase()] : null,
    ["Size", fmtBytes(f.size)],
    ["Rows", fmtInt(f.rows)],
    ["Columns", fmtInt(f.columns)],
    ["Uploaded", fmtTime(f.uploaded_at)],
    ["SHA-256", h("code.hash", f.sha256 || "—")],
  ].filter(Boolean);

  append(view, [
    h("p.crumbs", h("a", { href: "#/files" }, "Files"), " › ", f.name),
    h("div.page-head",
      h("h1", f.name),
      h("div.actions",
        h("a.btn.btn-primary", { href: `#/files/${f.id}/mapping` }, "Review mapping"),
        h("a.btn", { href: `${BASE}/files/${f.id}/raw`, download: f.name }, "Download original"),
        h("button.btn.btn-danger-quiet", { type: "button", onclick: remove }, "Delete"))),
    f.error ? h("div.alert.alert-error", { role: "alert" }, f.error) : null,
    h("dl.facts", facts.map(([k, v]) => h("div", h("dt", k), h("dd", v))))]);

  const cols = profile.columns || [];
  if (!cols.length) {
    view.append(emptyState("No column profile.", "This file has no columns Concord could read."));
    return;
  }
  const rows = profile.rows ?? f.rows ?? 0;
  view.append(h("h2", "Columns"),
    scroller(table([
      { label: "#", numeric: true, value: (c) => c.ordinal },
      { label: "Column", value: (c) => h("a", { href: `#col-${c.ordinal}`, onclick: (e) => { e.preventDefault(); document.getElementById(`col-${c.ordinal}`)?.focus(); } }, c.name) },
      { label: "Type", value: (c) => typeLabel(c) },
      { label: "Empty", numeric: true, value: (c) => emptyText(c, rows) },
      { label: "Distinct", numeric: true, value: (c) => distinctText(c) },
      { label: "Examples", class: "examples", value: (c) => chips(c.examples, { max: 3, label: `Examples of ${c.name}` }) },
    ], cols, { caption: "Summary of the columns" }), "Summary of the columns"));

  const grid = h("div.col-grid");
  for (const c of cols) grid.append(columnCard(c, rows, ctx));
  view.append(h("h2", "Distributions"), grid);
}

function typeLabel(c) {
  const conf = c.type_confidence !== undefined && c.type_confidence < 1 ? ` (${fmtPct(c.type_confidence)} of values)` : "";
  return `${c.type}${conf}`;
}

function emptyText(c, rows) {
  const n = (c.nulls || 0) + (c.blanks || 0);
  return n ? `${fmtInt(n)} (${fmtPct(rows ? n / rows : 0)})` : "none";
}

function distinctText(c) {
  return `${c.distinct_exact === false ? "≈ " : ""}${fmtInt(c.distinct)}`;
}

function columnCard(c, rows, ctx) {
  const card = h("section.card.col-card", { id: `col-${c.ordinal}`, tabindex: "-1", "aria-labelledby": `col-${c.ordinal}-h` },
    h("h3", { id: `col-${c.ordinal}-h` }, c.name, " ", h("span.type", c.type)),
    h("dl.mini",
      h("div", h("dt", "Empty"), h("dd", emptyText(c, rows))),
      h("div", h("dt", "Distinct"), h("dd", distinctText(c))),
      c.min !== undefined && c.min !== null ? h("div", h("dt", "Min"), h("dd", c.min)) : null,
      c.max !== undefined && c.max !== null ? h("div", h("dt", "Max"), h("dd", c.max)) : null),
    c.examples && c.examples.length ? h("div.small", h("span.muted", "Examples: "), chips(c.examples, { max: 5, label: `Examples of ${c.name}` })) : null);
  const hist = c.histogram && c.histogram.bins && c.histogram.bins.length ? c.histogram : null;
  if (hist) {
    const num = (v) => String(Math.abs(v) >= 100 ? Math.round(v) : Math.round(v * 100) / 100);
    card.append(h("p.small.muted", `Histogram${hist.sampled ? ` of a sample of ${fmtInt(hist.sample_size)} values` : ""}`),
      chart({
        type: "bar", small: true, title: `Distribution of ${c.name}`,
        labels: hist.bins.map((b) => `${num(b.lo)}–${num(b.hi)}`),
        labelHeader: "Range",
        datasets: [{ label: "Values", data: hist.bins.map((b) => b.count) }],
      }, ctx.track).el);
  } else if (c.top && c.top.length) {
    const top = c.top.slice(0, 8);
    card.append(h("p.small.muted", `Most frequent values${c.top_exact === false ? " (estimated)" : ""}`),
      chart({
        type: "bar", small: true, horizontal: true, title: `Most frequent values of ${c.name}`,
        labels: top.map((t) => (t.value === "" ? "(blank)" : t.value.length > 24 ? t.value.slice(0, 23) + "…" : t.value)),
        labelHeader: "Value",
        datasets: [{ label: "Rows", data: top.map((t) => t.count), color: "#12858a" }],
        height: 40 + top.length * 22,
      }, ctx.track).el);
  } else {
    card.append(h("p.small.muted", "No distribution: the column is empty."));
  }
  return card;
}
