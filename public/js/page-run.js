// page-run.js - one run: live phase and progress while it works; then its
// counts, timings, files, key rules, quality report and quarantine.
import { get, post } from "./api.js";
import { h, clear, fmtInt, fmtTime, fmtDuration, fmtPct, durationBetween, errorBox, emptyState, humanize, announce, table, scroller, confirmDialog } from "./dom.js";
import { ACTIVE_RUN, shortId, background } from "./util.js";
import { runProgress, POLL_MS, PHASES } from "./page-runs.js";
import { tableView } from "./table-view.js";
import { chart, PASS, FAIL } from "./charts.js";
import { ruleStatus, ruleBadge, ruleWhat, ruleExplanation } from "./quality-rules.js";

const COUNT_LABELS = [
  ["source_rows", "Source rows read"],
  ["files_staged", "Files read"],
  ["customer_records", "Customer records"],
  ["customer_entities", "Customers after matching"],
  ["product_records", "Product records"],
  ["product_entities", "Products after matching"],
  ["product_category_entities", "Product categories"],
  ["location_entities", "Locations"],
  ["facts", "Order lines loaded"],
  ["quarantined", "Records quarantined"],
  ["superseded", "Records superseded by a later export"],
  ["amounts_derived", "Amounts computed from price × quantity"],
  ["amounts_inconsistent", "Amounts that disagree with price × quantity"],
  ["key_rules", "Key rules learned"],
  ["quality_rules_failing", "Quality rules with failures"],
  ["quality_rules_not_applicable", "Quality rules with nothing to check"],
];

export async function render(view, ctx) {
  const id = ctx.params[0];
  const enc = encodeURIComponent(id);
  ctx.setTitle(`Run ${shortId(id)}`);
  const live = h("div.card", { "aria-live": "polite", id: "run-live" });
  const actions = h("div.actions");
  const details = h("div");
  let timer = null;
  let failures = 0;
  ctx.onCleanup(() => clearTimeout(timer));
  view.append(h("p.crumbs", h("a", { href: "#/runs" }, "Runs"), " › ", shortId(id)),
    h("div.page-head", h("h1", "Run ", h("code", shortId(id))), actions), live, details);

  let shownFinal = false;
  async function poll() {
    let run;
    try {
      run = (await get(`/runs/${enc}`, { signal: ctx.signal })).run;
      failures = 0;
    } catch (err) {
      if (err.name === "AbortError" || err.status === 401 || !ctx.alive) return;
      if (err.status === 404) {
        clear(live).append(errorBox(err, "No such run"));
        return;
      }
      failures++;
      clear(live).append(errorBox(err, "Lost contact with the run; trying again…"));
      timer = setTimeout(() => background(poll), Math.min(10000, POLL_MS * 2 ** failures));
      return;
    }
    if (!ctx.alive) return;
    clear(live).append(runProgress(run), h("dl.facts.facts-inline",
      h("div", h("dt", "Queued"), h("dd", fmtTime(run.created_at))),
      h("div", h("dt", "Started"), h("dd", fmtTime(run.started_at))),
      h("div", h("dt", "Finished"), h("dd", fmtTime(run.finished_at))),
      h("div", h("dt", "Duration"), h("dd", run.started_at ? fmtDuration(run.timings_ms && run.timings_ms.total ? run.timings_ms.total : durationBetween(run.started_at, run.finished_at)) : "—"))));
    clear(actions);
    if (ACTIVE_RUN.has(run.state)) {
      actions.append(h("button.btn.btn-danger-quiet", {
        type: "button", id: "cancel-run", onclick: async () => {
          if (!await confirmDialog({ title: "Cancel this run?", text: "The tables and dashboards keep the result of the previous run.", confirm: "Cancel the run", danger: true })) return;
          try {
            await post(`/runs/${enc}/cancel`, {});
            background(poll);
          } catch (err) {
            live.append(errorBox(err, "The run could not be cancelled"));
          }
        },
      }, "Cancel run"));
      timer = setTimeout(() => background(poll), POLL_MS);
      return;
    }
    if (!shownFinal) {
      shownFinal = true;
      if (run.state === "done") {
        announce("The run has finished.");
        actions.append(h("a.btn.btn-primary", { href: "#/dashboards/sales" }, "Open the dashboards"));
      }
      await showResult(run);
    }
  }

  async function showResult(run) {
    clear(details);
    const c = run.counts || {};
    if (run.state !== "done" && !run.counts) return;
    details.append(h("section.section", { "aria-labelledby": "counts-h" },
      h("h2#counts-h", "What the run did"),
      h("dl.tiles.tiles-small", COUNT_LABELS.filter(([k]) => c[k] !== undefined).map(([k, label]) =>
        h("div.tile", { "data-count": k }, h("dt", label), h("dd", fmtInt(c[k])))))));
    if (run.timings_ms) {
      const t = run.timings_ms;
      details.append(h("section.section", h("h2", "Time per step"),
        h("dl.facts.facts-inline", PHASES.filter(([k]) => t[k] !== undefined).map(([k, text]) =>
          h("div", h("dt", text), h("dd", fmtDuration(t[k])))))));
    }
    if (Array.isArray(c.files) && c.files.length) {
      details.append(h("section.section", h("h2", "Files read"), scroller(table([
        { label: "File", value: (f) => h("a", { href: `#/files/${f.file_id}` }, f.name) },
        { label: "Mapping", value: (f) => f.mapping === "confirmed" ? "confirmed" : "Concord's proposal" },
        { label: "Rows", numeric: true, value: (f) => fmtInt(f.rows) },
        { label: "Read as", value: (f) => Object.entries(f.staged || {}).map(([e, n]) => `${humanize(e)}: ${fmtInt(n)}`).join(", ") || "—" },
      ], c.files), "Files read")));
    }
    if (Array.isArray(c.key_rules_detail) && c.key_rules_detail.length) {
      const names = Object.fromEntries((c.files || []).map((f) => [f.file_id, f.name]));
      details.append(h("section.section", h("h2", "How the systems' keys were matched"), scroller(table([
        { label: "Entity", value: (r) => humanize(r.entity) },
        { label: "From", value: (r) => `${names[r.from_file] || r.from_file} · ${r.from_column}` },
        { label: "To", value: (r) => `${names[r.to_file] || r.to_file} · ${r.to_column}` },
        { label: "Rule", value: (r) => r.found === false ? "no rule found" : r.description },
        { label: "Matched", numeric: true, value: (r) => fmtInt(r.matched) },
        { label: "Coverage", numeric: true, value: (r) => fmtPct(r.coverage) },
      ], c.key_rules_detail), "Key rules")));
    }
    const qBox = h("section.section", { "aria-labelledby": "quality-h" }, h("h2#quality-h", "Quality report"));
    details.append(qBox);
    try {
      const q = await get(`/runs/${enc}/quality`, { signal: ctx.signal });
      showQuality(qBox, q.rules || [], ctx, id);
    } catch (err) {
      if (err.name === "AbortError" || err.status === 401) throw err;
      qBox.append(err.status === 404 ? emptyState("No quality report for this run.") : errorBox(err, "The quality report could not be loaded"));
    }
    const quar = h("section.section", { "aria-labelledby": "quar-h" },
      h("h2#quar-h", "Quarantine", c.quarantined ? h("span.muted.heading-count", { id: "quarantine-total" }, ` · ${fmtInt(c.quarantined)} ${c.quarantined === 1 ? "record" : "records"}`) : null),
      h("p.muted", "Source records this run could not load, with the reason. Fix them in the source system and upload the file again."),
      c.quarantined ? h("p", { id: "quarantine-summary" }, `${fmtInt(c.quarantined)} ${c.quarantined === 1 ? "record was" : "records were"} quarantined in all${c.superseded ? `; the table also lists ${fmtInt(c.superseded)} superseded by a later export (${fmtInt(c.quarantined + c.superseded)} rows)` : ""}.`) : null);
    const tv = h("div.table-view", { id: "quarantine-view" });
    quar.append(tv, h("p", h("a", { href: `#/data/quarantine?run_id__exact=${enc}` }, "Open the quarantine in the data browser")));
    details.append(quar);
    if (!c.quarantined) {
      clear(tv).append(emptyState("Nothing was quarantined.", "Every source record of this run was loaded or matched."));
    } else {
      await tableView(tv, {
        name: "quarantine",
        params: new URLSearchParams({ run_id__exact: id, _size: "25" }),
        fixed: ["run_id__exact"],
        // every record this run quarantined, superseded ones included
        total: (c.quarantined || 0) + (c.superseded || 0),
        signal: ctx.signal,
      });
    }
  }

  await poll();
}

function showQuality(box, rules, ctx, runId) {
  if (!rules.length) {
    box.append(emptyState("No quality rules were checked."));
    return;
  }
  const failing = rules.filter((r) => ruleStatus(r) === "failed").length;
  const na = rules.filter((r) => ruleStatus(r) === "not_applicable").length;
  box.append(h("p", { id: "quality-summary" }, `${fmtInt(rules.length)} rules: ${fmtInt(rules.length - failing - na)} passed, ${fmtInt(failing)} with failures${na ? `, ${fmtInt(na)} not applicable (nothing to check)` : ""}.`));
  // The chart shows the rules that checked rows; a rule over 0 rows has
  // no share to draw.
  const sorted = [...rules].filter((r) => ruleStatus(r) !== "not_applicable").sort((a, b) => (a.pass_rate ?? 1) - (b.pass_rate ?? 1));
  const listed = [...sorted, ...rules.filter((r) => ruleStatus(r) === "not_applicable")];
  const chartEl = chart({
    type: "bar", horizontal: true, stacked: true, percent: true,
    title: "Share of rows passing each quality rule",
    labels: sorted.map((r) => humanize(r.rule)),
    labelHeader: "Rule",
    datasets: [
      { label: "Passed", data: sorted.map((r) => pct(r.passed, r)), color: PASS, format: (v) => `${Number(v).toFixed(2)}%` },
      { label: "Failed", data: sorted.map((r) => pct(r.failed, r)), color: FAIL, format: (v) => `${Number(v).toFixed(2)}%` },
    ],
    height: 60 + sorted.length * 24,
  }, ctx.track).el;
  if (sorted.length) box.append(chartEl);
  box.append(h("div.rules", listed.map((r) => h("details.rule", { "data-rule": r.rule, "data-status": ruleStatus(r) },
    h("summary",
      h("span.rule-name", humanize(r.rule)),
      ruleBadge(r),
      h("span.small.muted", ruleStatus(r) === "not_applicable" ? ` ${r.dimension} · ${r.target} · 0 of 0 rows`
        : ` ${r.dimension} · ${r.target} · ${fmtInt(r.passed)} of ${fmtInt((r.passed || 0) + (r.failed || 0))} passed · ${fmtPct(r.pass_rate)}`)),
    h("p.small", ruleWhat(r.rule)),
    ruleExplanation(r, runId),
    r.examples && r.examples.length ? examplesTable(r.examples) : h("p.small.muted", "No example rows.")))));
}

function pct(n, r) {
  const t = (r.passed || 0) + (r.failed || 0);
  return t ? (100 * n) / t : 0;
}

function examplesTable(examples) {
  const keys = [...new Set(examples.flatMap((e) => Object.keys(e)))];
  return scroller(h("table.data.compact",
    h("caption", "Example rows"),
    h("thead", h("tr", keys.map((k) => h("th", { scope: "col" }, k)))),
    h("tbody", examples.map((e) => h("tr", keys.map((k) => h("td", cellText(e[k]))))))), "Example rows");
}

function cellText(v) {
  if (v === null || v === undefined) return "";
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}
