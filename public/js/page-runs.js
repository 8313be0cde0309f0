// page-runs.js - start a reconciliation run, watch the active one live,
// and the history of runs with durations and counts.
import { get, post } from "./api.js";
import { h, clear, fmtInt, fmtTime, fmtDuration, durationBetween, badge, emptyState, errorBox, loading, announce, scroller, warningBox } from "./dom.js";
import { ACTIVE_RUN, shortId, background } from "./util.js";
import { navigate } from "./app.js";

export const PHASES = [
  ["stage", "Reading and cleaning the files"],
  ["reconcile", "Matching records across systems"],
  ["load", "Building the reconciled tables"],
  ["quality", "Checking data quality"],
];
const PHASE_TEXT = Object.fromEntries(PHASES);

export const POLL_MS = 1000;

/** The live part of a run: state, phase and a progress bar. */
export function runProgress(run) {
  // progress is done/total of the current phase: the bar shows the whole
  // run, each of the four phases a quarter of it.
  const p = run.progress || {};
  const active = ACTIVE_RUN.has(run.state);
  const phaseIdx = PHASES.findIndex(([k]) => k === run.phase);
  const inPhase = p.total ? Math.min(1, p.done / p.total) : 0;
  const pct = run.state === "running" && phaseIdx >= 0 ? Math.floor(((phaseIdx + inPhase) / PHASES.length) * 100) : 0;
  const warnings = run.state === "done" ? run.warnings || [] : [];
  const box = h("div.run-progress", { "data-state": run.state, "data-warnings": warnings.length ? String(warnings.length) : null },
    h("p.run-state", stateBadge(run), " ",
      run.state === "queued" ? "Waiting to start…"
        : run.state === "running" ? `${PHASE_TEXT[run.phase] || "Working"}${phaseIdx >= 0 ? ` (step ${phaseIdx + 1} of ${PHASES.length}${p.total > 1 ? `, ${p.done} of ${p.total} parts done` : ""})` : ""}`
          : run.state === "done" ? `Finished in ${fmtDuration(run.timings_ms && run.timings_ms.total ? run.timings_ms.total : durationBetween(run.started_at, run.finished_at))}.`
            : run.state === "failed" ? "The run failed." : run.state === "cancelled" ? "The run was cancelled." : ""),
    active || run.state === "done" ? h("div.progress-row",
      h("progress", { max: "100", value: String(run.state === "done" ? 100 : pct), "aria-label": "Run progress" }),
      h("span.small", run.state === "done" ? "100%" : `${pct}%`)) : null,
    active ? h("ol.phases", PHASES.map(([k, text], i) => h("li", {
      class: i < phaseIdx ? "phase-done" : i === phaseIdx ? "phase-now" : "phase-todo",
      "aria-current": i === phaseIdx ? "step" : null,
    }, text))) : null,
    run.error ? h("p.alert.alert-error", { role: "alert" }, run.error) : null,
    warningBox(warnings, warnings.length === 1 ? "The run finished, but one thing needs your attention" : `The run finished, but ${warnings.length} things need your attention`,
      h("p.small", h("a", { href: `#/data/quarantine?run_id__exact=${encodeURIComponent(run.id)}` }, "See the quarantined rows"))));
  return box;
}

/** The run's state as a badge: a run that ended done but has warnings
 * says "done" in amber, with the count, never a plain green done. */
export function stateBadge(run) {
  const n = run.state === "done" ? (run.warnings || []).length : 0;
  if (!n) return badge(run.state);
  return h("span.badge.badge-warning", { "data-state": "done", title: run.warnings.map((w) => w.detail).join("\n") },
    `done · ${n} ${n === 1 ? "warning" : "warnings"}`);
}

export async function render(view, ctx) {
  ctx.setTitle("Runs");
  const startMsg = h("div");
  const startBtn = h("button.btn.btn-primary", { type: "button", id: "start-run" }, "Start a run");
  // the run setting missing_customer (POST /runs {"settings": ...})
  const missing = h("select", { id: "run-missing-customer", name: "missing_customer" },
    h("option", { value: "quarantine" }, "quarantine them (default)"),
    h("option", { value: "unknown_customer" }, "keep them as sales of “Unknown customer”"));
  const missingField = h("label.small", { for: "run-missing-customer" }, "Order lines without a customer: ", missing);
  const activeBox = h("section.section", { "aria-live": "polite", "aria-labelledby": "active-h" });
  const history = h("section.section", { "aria-labelledby": "hist-h" });
  let timer = null;
  ctx.onCleanup(() => clearTimeout(timer));

  view.append(h("div.page-head", h("h1", "Runs"), h("div.actions", missingField, startBtn)),
    h("p.lead", "A run reads every file with its mapping, cleans the values, matches the same customers and products across systems, and builds the reconciled tables and dashboards. Files whose mapping you have not confirmed are read with Concord's proposal."),
    startMsg, activeBox, history);

  startBtn.addEventListener("click", async () => {
    clear(startMsg);
    startBtn.disabled = true;
    try {
      const r = await post("/runs", { settings: { missing_customer: missing.value } }, { raw: true });
      const loc = r.headers.get("Location") || "";
      const id = (r.body && r.body.id) || loc.split("/").pop();
      announce("Run started.");
      navigate(`#/runs/${id}`);
    } catch (err) {
      startBtn.disabled = false;
      if (err.status === 409 && err.location) {
        const id = err.location.split("/").pop();
        startMsg.append(h("div.alert.alert-info", { role: "status" }, "A run is already in progress. ", h("a", { href: `#/runs/${id}` }, "Watch it"), "."));
      } else startMsg.append(errorBox(err, "The run could not be started"));
    }
  });

  async function refresh() {
    const doc = await get("/runs", { signal: ctx.signal });
    if (!ctx.alive) return;
    const runs = doc.runs || [];
    const active = runs.find((r) => ACTIVE_RUN.has(r.state));
    startBtn.disabled = !!active;
    clear(activeBox);
    if (active) {
      activeBox.append(h("h2#active-h", "Run in progress"), h("div.card", runProgress(active),
        h("p", h("a", { href: `#/runs/${active.id}` }, "Open the run"))));
    }
    clear(history).append(h("h2#hist-h", "History"));
    if (!runs.length) {
      history.append(emptyState("No runs yet.", "Upload your files and check their mappings, then start a run.",
        h("a.btn", { href: "#/files" }, "Go to files")));
    } else {
      history.append(scroller(h("table.data",
        h("caption.visually-hidden", "Runs, newest first"),
        h("thead", h("tr", ["Run", "State", "Started", "Duration", "Source rows", "Order lines", "Customers", "Products", "Quarantined", "Quality rules failing"]
          .map((t, i) => h("th", { scope: "col", class: i >= 3 ? "num" : null }, t)))),
        h("tbody", runs.map((r) => {
          const c = r.counts || {};
          const dur = r.timings_ms && r.timings_ms.total ? r.timings_ms.total : durationBetween(r.started_at, r.finished_at);
          return h("tr", { "data-run": r.id },
            h("td", h("a", { href: `#/runs/${r.id}` }, h("code", shortId(r.id)))),
            h("td", stateBadge(r), (r.state === "done" && r.warnings && r.warnings.length)
              ? h("p.small.warn-text.run-warning", r.warnings[0].detail) : null),
            h("td", fmtTime(r.started_at || r.created_at)),
            h("td.num", r.started_at ? fmtDuration(dur) : "—"),
            h("td.num", fmtInt(c.source_rows)),
            h("td.num", fmtInt(c.facts)),
            h("td.num", fmtInt(c.customer_entities)),
            h("td.num", fmtInt(c.product_entities)),
            h("td.num", fmtInt(c.quarantined)),
            h("td.num", c.quality_rules !== undefined ? `${fmtInt(c.quality_rules_failing)} of ${fmtInt(c.quality_rules)}` : "—"));
        }))), "Runs"));
    }
    if (active) timer = setTimeout(() => background(refresh), POLL_MS);
  }
  history.append(loading());
  await refresh();
}
