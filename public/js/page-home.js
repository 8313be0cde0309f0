// page-home.js - the overview: Concord's four steps and how far this
// workspace is along them, each with the link to do the next thing.
import { get } from "./api.js";
import { h, fmtInt, fmtTime, badge, loading } from "./dom.js";
import { listFiles, mappingStates, ACTIVE_RUN } from "./util.js";
import { pendingNote } from "./page-review.js";

export async function render(view, ctx) {
  ctx.setTitle("Overview");
  view.append(h("h1", `Welcome, ${ctx.user.username}`),
    h("p.lead", "Concord takes the exports of your business systems, matches the same customers, products and orders across them, and gives you one clean data set with dashboards. Four steps:"));
  const wait = loading();
  view.append(wait);
  const [files, runsDoc] = await Promise.all([listFiles(ctx.signal), get("/runs", { signal: ctx.signal })]);
  const mapWarnings = {};
  const states = files.length ? await mappingStates(files, ctx.signal, mapWarnings) : {};
  const reviewNote = await pendingNote(ctx.signal); // pairs of records waiting for a person
  wait.remove();
  const runs = runsDoc.runs || [];
  const confirmed = files.filter((f) => states[f.id] === "confirmed").length;
  const lastDone = runs.find((r) => r.state === "done");
  const active = runs.find((r) => ACTIVE_RUN.has(r.state));
  const firstUnconfirmed = files.find((f) => states[f.id] !== "confirmed");
  const newer = lastDone ? files.filter((f) => f.uploaded_at > lastDone.created_at).length : 0;

  // A step is ticked only when it really happened: every mapping
  // confirmed; a run that loaded something, without warnings, on
  // confirmed mappings.  A run that ended done with warnings is amber.
  const allConfirmed = files.length > 0 && confirmed === files.length;
  // A confirmed mapping a run cannot load order lines with is checked,
  // but not done: amber, with the file to fix.
  const warnedFiles = files.filter((f) => (mapWarnings[f.id] || []).length);
  const warnings = lastDone ? lastDone.warnings || [] : [];
  const c = (lastDone && lastDone.counts) || {};
  const loadedSomething = (c.facts || 0) + (c.customer_entities || 0) + (c.product_entities || 0) + (c.product_category_entities || 0) > 0;
  const runOk = !!lastDone && !warnings.length && loadedSomething && allConfirmed;
  const runWarn = !!lastDone && (warnings.length > 0 || !loadedSomething);
  const step = (n, title, done, text, action, warn) => h(`li.step${done ? ".step-done" : warn ? ".step-warn" : ""}`, { "data-step": String(n), "data-done": done ? "true" : "false" },
    h("div.step-n", { "aria-hidden": "true" }, done ? "✓" : warn ? "!" : String(n)),
    h("div.step-body",
      h("h2", title, done ? h("span.visually-hidden", " (done)") : warn ? h("span.visually-hidden", " (needs attention)") : null),
      h("p", text),
      action ? h("p", action) : null));
  const runText = () => {
    if (active) return h("span", "A run is ", badge(active.state), " now.");
    if (!lastDone) return "Cleans the values, matches records across systems and builds the reconciled tables.";
    const parts = [`Last finished run: ${fmtTime(lastDone.finished_at)}.`];
    if (warnings.length) return h("span", parts[0], " It needs your attention: ", h("span.warn-text.run-warning", warnings.map((w) => w.detail).join(" ")));
    if (!loadedSomething) return h("span", parts[0], " ", h("span.warn-text", "It loaded nothing: check the mappings and the quarantine."));
    if (!allConfirmed) parts.push(`It read Concord's proposals for ${fmtInt(files.length - confirmed)} of ${fmtInt(files.length)} files: confirm their mappings and run again.`);
    if (newer) parts.push(`${fmtInt(newer)} ${newer === 1 ? "file was" : "files were"} uploaded since: run again to include ${newer === 1 ? "it" : "them"}.`);
    return parts.join(" ");
  };

  view.append(h("ol.steps",
    step(1, "Upload the files of your systems", files.length > 0,
      files.length ? `${fmtInt(files.length)} ${files.length === 1 ? "file" : "files"} uploaded, ${fmtInt(files.reduce((a, f) => a + (f.rows || 0), 0))} rows in all.`
        : "CSV, JSON or NDJSON exports: customers, products, orders — from as many systems as you have.",
      h("a.btn" + (files.length ? "" : ".btn-primary"), { href: "#/files" }, files.length ? "Manage files" : "Upload files")),
    step(2, "Check how their columns map", allConfirmed && !warnedFiles.length,
      files.length ? h("span", `${fmtInt(confirmed)} of ${fmtInt(files.length)} mappings confirmed. Concord proposes which column holds what; you confirm or correct it.`,
        warnedFiles.length ? h("span.warn-text.mapping-warning", ` With the mapping of ${warnedFiles.map((f) => f.name).join(", ")}, a run cannot load the order lines: ${mapWarnings[warnedFiles[0].id][0].detail}`) : null)
        : "Concord proposes which column holds what (a customer's e-mail, an order date…); you confirm or correct it.",
      firstUnconfirmed ? h("a.btn" + (files.length && !active && !lastDone ? ".btn-primary" : ""), { href: `#/files/${firstUnconfirmed.id}/mapping` }, "Review the next mapping")
        : warnedFiles.length ? h("a.btn", { href: `#/files/${warnedFiles[0].id}/mapping` }, "Fix the mapping")
          : files.length ? h("a.btn", { href: "#/files" }, "See the mappings") : null,
      allConfirmed && warnedFiles.length > 0),
    step(3, "Run the reconciliation", runOk && !active, runText(),
      h("a.btn" + (files.length && (!lastDone || newer) ? ".btn-primary" : ""), { href: active ? `#/runs/${active.id}` : runWarn ? `#/runs/${lastDone.id}` : "#/runs" }, active ? "Watch the run" : runWarn ? "See what happened" : "Go to runs"),
      runWarn && !active),
    step(4, "Read the dashboards and the data", false,
      !lastDone ? "Available after the first run."
        : (c.facts || 0) === 0 ? "The last run loaded no order lines, so the sales figures are empty; the quality and sources dashboards say why."
          : "Sales, customers, products, data quality and sources — and every reconciled table, to filter and export.",
      lastDone ? h("span.actions", h(`a.btn${runWarn ? "" : ".btn-primary"}`, { href: runWarn ? "#/dashboards/quality" : "#/dashboards/sales" }, runWarn ? "See the data quality" : "Open the dashboards"), " ", h("a.btn", { href: "#/data" }, "Browse the data")) : null)));
  if (reviewNote) view.append(reviewNote);
}
