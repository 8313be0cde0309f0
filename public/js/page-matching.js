// page-matching.js - how entity resolution decided (GET /matching), a tab
// of the dashboards: per entity the counts (records, pairs compared,
// matched, in review, clusters), the pairs each blocking rule found, the
// match weights of the compared pairs as a histogram with the two
// thresholds marked, the model (m, u and weight of each comparison level
// of each attribute), the pairs nearest the threshold (each linked to the
// review page or to match_pairs in the data browser) and splitting a
// cluster (POST /clusters/{entity}/{id}/split, confirmed first).
import { get, post } from "./api.js";
import { h, clear, fmtInt, fmtPct, emptyState, errorBox, notice, humanize, table, scroller, confirmDialog, announce } from "./dom.js";
import { chart, PASS } from "./charts.js";
import { BOARDS } from "./page-dashboards.js";
import { fmtBits, fmtProb, levelInfo } from "./page-review.js";
import { listFiles } from "./util.js";

const LOW = "#8d96a0";
const REVIEW = "#e8710a";
const log2 = (x) => Math.log(x) / Math.LN2;
const logit2 = (p) => log2(p / (1 - p));

export async function render(view, ctx) {
  ctx.setTitle("Matching dashboard");
  const tabs = h("nav.tabs", { "aria-label": "Dashboards" }, h("ul",
    BOARDS.map(([n, t]) => h("li", h("a", { href: `#/dashboards/${n}`, id: `tab-${n}` }, t))),
    h("li", h("a", { href: "#/dashboards/matching", id: "tab-matching", "aria-current": "page" }, "Matching"))));
  view.append(h("h1", "Matching dashboard"), tabs);
  const body = h("div.dash", { id: "dash-matching" });
  view.append(body);
  let doc;
  try {
    doc = await get("/matching", { signal: ctx.signal });
  } catch (err) {
    if (err.name === "AbortError" || err.status === 401) throw err;
    body.append(errorBox(err, "The matching summary could not be loaded"));
    return;
  }
  const ents = doc.entities || [];
  body.append(h("p.lead", "After the systems' keys have joined what they can, Concord compares the remaining records attribute by attribute (Fellegi-Sunter). Each agreement or disagreement adds or takes away match weight; pairs above the upper threshold merge on their own, pairs between the thresholds wait for a person."));
  body.append(h("dl.tiles", { id: "matching-tiles" },
    h("div.tile", { "data-tile": "pending", "data-value": String(doc.pending) }, h("dt", "Pairs waiting for review"), h("dd", fmtInt(doc.pending)),
      doc.pending ? h("p.tile-hint", h("a", { href: "#/review" }, "Review them")) : h("p.tile-hint", "nothing to decide")),
    h("div.tile", { "data-tile": "decisions", "data-value": String(doc.decisions) }, h("dt", "Decisions made by people"), h("dd", fmtInt(doc.decisions)),
      h("p.tile-hint", "kept across runs"))));
  if (!ents.length) {
    body.append(emptyState("Nothing was matched yet.", "A run matches the customers and products of your files. Upload files and start a run to see how they were matched.",
      h("a.btn.btn-primary", { href: "#/runs" }, "Go to runs")));
    return;
  }
  const splitMsg = h("div", { id: "split-msg" });
  body.append(splitMsg);
  // The near pairs name their records' files by id: show the names.
  const files = await listFiles(ctx.signal).catch((err) => {
    if (err.name === "AbortError" || err.status === 401) throw err;
    return [];
  });
  const names = Object.fromEntries(files.map((f) => [f.id, f.name]));
  for (const e of ents) {
    for (const p of e.near_threshold || []) {
      for (const s of [p.a, p.b]) if (s && !s.file_name && names[s.file_id]) s.file_name = names[s.file_id];
    }
    body.append(await entitySection(e, ctx, splitMsg));
  }
}

async function entitySection(e, ctx, splitMsg) {
  const name = humanize(e.entity);
  const sec = h("section.section.matching-entity", { "aria-labelledby": `m-${e.entity}-h`, "data-entity": e.entity },
    h("h2", { id: `m-${e.entity}-h` }, `${name} matching`));
  const tile = (key, label, value, hint) => h("div.tile", { "data-tile": key, "data-value": value === undefined || value === null ? "" : String(value) },
    h("dt", label), h("dd", fmtInt(value)), hint ? h("p.tile-hint", hint) : null);
  sec.append(h("dl.tiles.tiles-small",
    tile("records", "Records compared", e.records, "one per key cluster"),
    tile("pairs_compared", "Pairs compared", e.pairs_compared, "found by the blocking rules"),
    tile("pairs_matched", "Matched", e.pairs_matched, `probability ≥ ${fmtPct(e.threshold_upper)}`),
    tile("pairs_review", "In review", e.pairs_review, e.pairs_review ? h("a", { href: `#/review?entity=${encodeURIComponent(e.entity)}` }, "review them") : `between ${fmtPct(e.threshold_lower)} and ${fmtPct(e.threshold_upper)}`),
    tile("clusters", "Clusters", e.clusters, `${name.toLowerCase()}s after matching`),
    e.pairs_accepted_by_person !== undefined || e.pairs_rejected_by_person !== undefined
      ? tile("by_person", "Decided by people", (e.pairs_accepted_by_person || 0) + (e.pairs_rejected_by_person || 0),
        `${fmtInt(e.pairs_accepted_by_person || 0)} accepted, ${fmtInt(e.pairs_rejected_by_person || 0)} rejected`)
      : null));

  const grid = h("div.panels");
  // ---- the histogram with the thresholds
  const hist = e.histogram || [];
  const prior = await priorOf(e, ctx);
  const wLow = prior === null ? null : logit2(e.threshold_lower) - prior;
  const wUp = prior === null ? null : logit2(e.threshold_upper) - prior;
  const zone = (b) => {
    const mid = (b.from + b.to) / 2;
    if (wLow === null) return 0;
    return mid < wLow ? 0 : mid < wUp ? 1 : 2;
  };
  const thresholdText = wLow === null
    ? `Thresholds: probability ${fmtPct(e.threshold_lower)} and ${fmtPct(e.threshold_upper)}.`
    : `Thresholds: review from ${fmtBits(wLow)} (probability ${fmtPct(e.threshold_lower)}), automatic match from ${fmtBits(wUp)} (${fmtPct(e.threshold_upper)}).`;
  const labels = hist.map((b) => `${b.from} to ${b.to}`);
  const lines = wLow === null ? [] : [[wLow, `review ≥ ${fmtPct(e.threshold_lower)}`, REVIEW, [6, 4]], [wUp, `match ≥ ${fmtPct(e.threshold_upper)}`, PASS, [2, 3]]];
  const panel = h("section.panel.panel-wide", { "aria-label": `${name}: match weights`, id: `hist-${e.entity}` },
    h("h3", "Match weights of the compared pairs"),
    hist.length ? chart({
      type: "bar", stacked: true, height: 260,
      title: `${name}: compared pairs by match weight, in bits`,
      labels, labelHeader: "Match weight (bits)", labelAxisTitle: "match weight, bits (bins of 2)", axisTitle: "pairs",
      datasets: [
        { label: "Below review (not kept)", data: hist.map((b) => (zone(b) === 0 ? b.count : 0)), color: LOW },
        { label: "Wait for review", data: hist.map((b) => (zone(b) === 1 ? b.count : 0)), color: REVIEW },
        { label: "Matched automatically", data: hist.map((b) => (zone(b) === 2 ? b.count : 0)), color: PASS },
      ],
      plugins: [thresholdLines(hist, lines)],
    }, ctx.track).el : h("p.muted", "No pairs were compared."),
    h("p.small", { id: `thresholds-${e.entity}` }, thresholdText,
      " The weights here are before the term-frequency adjustment (a rare name weighs more), so a pair's own weight can differ a little."));
  grid.append(panel);

  // ---- blocking rules
  const rules = e.blocking_rules || [];
  grid.append(h("section.panel", { "aria-label": `${name}: blocking rules` }, h("h3", "Pairs found by each blocking rule"),
    rules.length ? scroller(table([
      { label: "Blocking rule", value: (r) => h("code", r.rule) },
      { label: "Pairs", numeric: true, value: (r) => fmtInt(r.pairs) },
    ], rules, { className: "compact.blocking-rules" }), "Blocking rules") : h("p.muted", "No blocking rules."),
    h("p.small.muted", "Only pairs that share a blocking key are compared; a pair is counted under the first rule that found it.")));

  // ---- split a cluster
  grid.append(splitPanel(e, splitMsg));

  // ---- near the threshold
  const near = e.near_threshold || [];
  grid.append(h("section.panel.panel-wide", { "aria-label": `${name}: pairs near the threshold` }, h("h3", "Pairs nearest the match threshold"),
    near.length ? scroller(table([
      { label: "Pair", value: (p) => h("a", { href: `#/data/match_pairs?pair_id__exact=${p.pair_id}` }, String(p.pair_id)) },
      { label: "Probability", numeric: true, value: (p) => fmtProb(p.probability) },
      { label: "Weight", numeric: true, value: (p) => fmtBits(p.weight) },
      { label: "Decision", value: (p) => h(`span.badge.badge-${decisionKind(p.decision)}`, p.decision.replace(/_/g, " ")) },
      { label: "Agree / differ", value: (p) => agreeSummary(p.levels) },
      { label: "Rule", value: (p) => h("code", p.blocking_rule || "—") },
      { label: "Records", value: (p) => h("span.small", lineage(p.a), h("br"), lineage(p.b)) },
      { label: "Cluster", value: (p) => clusterCell(e, p, splitMsg) },
      { label: "Action", value: (p) => p.decision === "review"
        ? h("a.btn.btn-small.btn-primary", { href: `#/review?entity=${encodeURIComponent(e.entity)}&pair=${p.pair_id}`, "aria-label": `Review pair ${p.pair_id}` }, "Review")
        : h("a.btn.btn-small", { href: `#/data/match_pairs?pair_id__exact=${p.pair_id}`, "aria-label": `Pair ${p.pair_id} in the data browser` }, "Details") },
    ], near, { className: "compact.near-threshold" }), "Pairs near the threshold") : h("p.muted", "No pairs."),
    h("p.small", h("a", { href: `#/data/match_pairs?entity__exact=${encodeURIComponent(e.entity)}&_sort_desc=probability` }, `Every ${name.toLowerCase()} pair in the data browser`))));

  // ---- the model
  grid.append(h("section.panel.panel-wide", { "aria-label": `${name}: the model` }, h("h3", "What each comparison level weighs"),
    h("p.small.muted", "m: how often the level occurs between two records of the same entity; u: between two records of different entities. Weight = log₂(m / u): positive weights speak for a match, negative ones against."),
    modelTable(e)));
  sec.append(grid);
  return sec;
}

function decisionKind(d) {
  return { matched: "done", accepted: "done", review: "proposed", rejected: "failed", kept_apart: "failed" }[d] || "queued";
}

function agreeSummary(levels) {
  const v = Object.values(levels || {});
  const n = (cls) => v.filter((l) => levelInfo(l).cls === cls).length;
  return `${n("cmp-agree")} agree, ${n("cmp-close")} close, ${n("cmp-differ")} differ`;
}

function lineage(s) {
  if (!s) return "—";
  return h("span.nowrap", h("a", { href: `#/files/${encodeURIComponent(s.file_id)}` }, s.file_name || s.file_id.slice(0, 8)), ` · row ${fmtInt(s.row)}`);
}

function clusterCell(e, p, splitMsg) {
  const a = p.a && p.a.canonical_id;
  const b = p.b && p.b.canonical_id;
  if (a === null || a === undefined) return "—";
  const link = (id) => h("a", { href: `#/data/dim_${e.entity}?canonical_id__exact=${id}` }, `#${id}`);
  if (a !== b) return h("span", link(a), " / ", link(b));
  return h("span.nowrap", link(a), " ", ["matched", "accepted"].includes(p.decision)
    ? h("button.btn.btn-small.btn-danger-quiet", { type: "button", "data-split": String(a), "aria-label": `Split ${e.entity} cluster ${a}`, onclick: () => split(e.entity, a, splitMsg) }, "Split")
    : null);
}

function splitPanel(e, splitMsg) {
  const id = `split-${e.entity}`;
  const input = h("input", { id, type: "number", min: "1", step: "1", required: true, inputmode: "numeric" });
  const form = h("form.split-form", { "aria-label": `Split a ${e.entity} cluster` },
    h("div.field", h("label", { for: id }, `${humanize(e.entity)} id (canonical id)`), input),
    h("div.field.field-buttons", h("button.btn.btn-danger-quiet", { type: "submit" }, "Split the cluster")));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const v = Number(input.value);
    if (Number.isInteger(v) && v > 0) split(e.entity, v, splitMsg);
  });
  return h("section.panel", { "aria-label": `${humanize(e.entity)}: split a cluster` }, h("h3", "Split a cluster"),
    h("p.small", "When the matcher joined records that are not the same ", humanize(e.entity).toLowerCase(), ", split their cluster: every pair that joined its records is rejected, and at the next run the records fall back to what their keys join."),
    form);
}

async function split(entity, id, splitMsg) {
  const ok = await confirmDialog({
    title: `Split ${humanize(entity).toLowerCase()} #${id}?`,
    text: `Every pair of records that the matcher or a person joined into ${humanize(entity).toLowerCase()} #${id} is rejected. The records stay apart from the next run on, also after later uploads.`,
    confirm: "Split the cluster", danger: true,
  });
  if (!ok) return;
  clear(splitMsg);
  try {
    const r = await post(`/clusters/${encodeURIComponent(entity)}/${id}/split`, {});
    announce(`Cluster ${id} split.`);
    const tile = document.querySelector('#matching-tiles [data-tile="decisions"]');
    if (tile) {
      const n = Number(tile.dataset.value) + r.rejected;
      tile.dataset.value = String(n);
      tile.querySelector("dd").textContent = fmtInt(n);
    }
    splitMsg.append(h("div.alert.alert-success", { role: "status", "data-rejected": String(r.rejected) },
      `${humanize(entity)} #${id}: ${fmtInt(r.rejected)} ${r.rejected === 1 ? "pair" : "pairs"} rejected. The split takes effect at the next run. `,
      h("a", { href: "#/runs" }, "Start a run")));
  } catch (err) {
    if (err.name === "AbortError") return;
    splitMsg.append(err.status === 404
      ? notice(`No pair of records joins ${humanize(entity).toLowerCase()} #${id}: it is not a cluster the matcher built (records joined by their keys cannot be split here), or the id is unknown.`, "error")
      : errorBox(err, "The cluster could not be split"));
  }
  splitMsg.scrollIntoView({ block: "nearest" });
}

function modelTable(e) {
  const rows = [];
  for (const f of e.fields || []) {
    (f.levels || []).forEach((l, k) => rows.push({ f, l, first: k === 0, n: f.levels.length }));
  }
  if (!rows.length) return h("p.muted", "No model.");
  const pct = (x) => (x === null || x === undefined ? "—" : `${(100 * x).toFixed(x < 0.001 ? 3 : 1)}%`);
  return scroller(h("table.data.compact.model-table", { id: `model-${e.entity}` },
    h("caption.visually-hidden", `${humanize(e.entity)}: m, u and weight of each comparison level`),
    h("thead", h("tr", ["Attribute", "Level", "m", "u", "Weight"].map((t, i) => h("th", { scope: "col", class: i > 1 ? "num" : null }, t)))),
    h("tbody", rows.map(({ f, l, first, n }) => h("tr", { "data-field": f.name, "data-level": l.label, class: first ? "field-first" : null },
      first ? h("th", { scope: "rowgroup", rowspan: String(n) }, humanize(f.name), f.kind ? h("span.block.small.muted", f.kind) : null) : null,
      h("td", l.label),
      h("td.num", pct(l.m)),
      h("td.num", pct(l.u)),
      h(`td.num.${l.weight >= 0 ? "w-pos" : "w-neg"}`, fmtBits(l.weight)))))), `${humanize(e.entity)} model`);
}

// The log-odds of the prior (log2 of lambda / (1 - lambda)), which turns
// a pair's match weight into its probability: from a pair that has both
// (probability = 1 / (1 + 2^-(weight + prior))), else from the model.
async function priorOf(e, ctx) {
  for (const p of e.near_threshold || []) {
    const pr = Number(p.probability);
    if (p.weight !== null && p.weight !== undefined && pr > 0 && pr < 1) return logit2(pr) - Number(p.weight);
  }
  try {
    const doc = await get(`/tables/match_models?entity__exact=${encodeURIComponent(e.entity)}`, { signal: ctx.signal });
    const row = (doc.rows || [])[0];
    const m = row ? JSON.parse(row.model) : null;
    const lam = m && m.model ? Number(m.model.lambda) : NaN;
    if (lam > 0 && lam < 1) return logit2(lam);
  } catch (err) {
    if (err.name === "AbortError" || err.status === 401) throw err;
  }
  return null;
}

// Dashed vertical lines at the thresholds' weights, with their names.
function thresholdLines(hist, lines) {
  return {
    id: "thresholds",
    afterDatasetsDraw(c) {
      if (!hist.length || !lines.length) return;
      const x = c.scales.x;
      const area = c.chartArea;
      const p0 = x.getPixelForValue(0);
      const step = hist.length > 1 ? x.getPixelForValue(1) - p0 : (area.right - area.left);
      const g = c.ctx;
      lines.forEach(([w, text, color, dash], k) => {
        // bin i spans [from_i, from_i + 2] and is centred on index i
        const px = p0 + ((w - hist[0].from) / 2 - 0.5) * step;
        if (px < area.left || px > area.right) return;
        g.save();
        g.strokeStyle = color;
        g.lineWidth = 2;
        g.setLineDash(dash);
        g.beginPath();
        g.moveTo(px, area.top);
        g.lineTo(px, area.bottom);
        g.stroke();
        g.setLineDash([]);
        g.fillStyle = color;
        g.font = "600 12px system-ui, sans-serif";
        // the name beside the line, on the side that has room
        const right = px + 4 + g.measureText(text).width <= area.right;
        g.textAlign = right ? "left" : "right";
        g.fillText(text, right ? px + 4 : px - 4, area.top + 12 + 14 * k);
        g.restore();
      });
    },
  };
}

