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
  const states = files.length ? await mappingStates(files, ctx.signal) : {};
  const reviewNote = await pendingNote(ctx.signal); // pairs of records waiting for a person
  wait.remove();
  const runs = runsDoc.runs || [];
  const confirmed = files.filter((f) => states[f.id] === "confirmed").length;
  const lastDone = runs.find((r) => r.state === "done");
  const active = runs.find((r) => ACTIVE_RUN.has(r.state));
  const firstUnconfirmed = files.find((f) => states[f.id] !== "confirmed");
  const newer = lastDone ? files.filter((f) => f.uploaded_at > lastDone.created_at).length : 0;

  const step = (n, title, done, text, action) => h(`li.step${done ? ".step-done" : ""}`,
    h("div.step-n", { "aria-hidden": "true" }, done ? "✓" : String(n)),
    h("div.step-body",
      h("h2", title, done ? h("span.visually-hidden", " (done)") : null),
      h("p", text),
      action ? h("p", action) : null));

  view.append(h("ol.steps",
    step(1, "Upload the files of your systems", files.length > 0,
      files.length ? `${fmtInt(files.length)} ${files.length === 1 ? "file" : "files"} uploaded, ${fmtInt(files.reduce((a, f) => a + (f.rows || 0), 0))} rows in all.`
        : "CSV, JSON or NDJSON exports: customers, products, orders — from as many systems as you have.",
      h("a.btn" + (files.length ? "" : ".btn-primary"), { href: "#/files" }, files.length ? "Manage files" : "Upload files")),
    step(2, "Check how their columns map", files.length > 0 && confirmed === files.length,
      files.length ? `${fmtInt(confirmed)} of ${fmtInt(files.length)} mappings confirmed. Concord proposes which column holds what; you confirm or correct it.`
        : "Concord proposes which column holds what (a customer's e-mail, an order date…); you confirm or correct it.",
      firstUnconfirmed ? h("a.btn" + (files.length && !active && !lastDone ? ".btn-primary" : ""), { href: `#/files/${firstUnconfirmed.id}/mapping` }, "Review the next mapping")
        : files.length ? h("a.btn", { href: "#/files" }, "See the mappings") : null),
    step(3, "Run the reconciliation", !!lastDone,
      active ? h("span", "A run is ", badge(active.state), " now.")
        : lastDone ? `Last finished run: ${fmtTime(lastDone.finished_at)}.${newer ? ` ${fmtInt(newer)} ${newer === 1 ? "file was" : "files were"} uploaded since: run again to include ${newer === 1 ? "it" : "them"}.` : ""}`
          : "Cleans the values, matches records across systems and builds the reconciled tables.",
      h("a.btn" + (files.length && (!lastDone || newer) ? ".btn-primary" : ""), { href: active ? `#/runs/${active.id}` : "#/runs" }, active ? "Watch the run" : "Go to runs")),
    step(4, "Read the dashboards and the data", false,
      lastDone ? "Sales, customers, products, data quality and sources — and every reconciled table, to filter and export." : "Available after the first run.",
      lastDone ? h("span.actions", h("a.btn.btn-primary", { href: "#/dashboards/sales" }, "Open the dashboards"), " ", h("a.btn", { href: "#/data" }, "Browse the data")) : null)));
  if (reviewNote) view.append(reviewNote);
}
