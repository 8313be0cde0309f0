// page-review.js - the review queue of entity resolution (GET /review):
// the pairs of records the matcher is unsure about (posterior probability
// between its lower and upper thresholds), one at a time, the two records
// side by side with the comparison level of each attribute, the
// probability, the match weight, the blocking rule that found the pair and
// where each record comes from (file and row).  A person accepts (the two
// are one entity), rejects (two entities) or skips; keyboard: a, r, n or
// the right arrow, p or the left arrow.  Decisions take effect at the next
// run (POST /runs), which the page offers to start.
//
// Route: #/review[?entity=E][&pair=ID] (pair: show that pair first).
import { get, post } from "./api.js";
import { h, clear, fmtInt, fmtPct, emptyState, errorBox, notice, humanize, announce, loading } from "./dom.js";
import { navigate } from "./app.js";
import { qs } from "./util.js";

const PAGE = 100;

/** How a comparison level reads, and its class: agree, close, differ, missing. */
export function levelInfo(label) {
  if (label === undefined || label === null) return { cls: "cmp-none", mark: "·", text: "not compared" };
  if (label === "exact") return { cls: "cmp-agree", mark: "✓", text: "agree" };
  if (label === "else") return { cls: "cmp-differ", mark: "✗", text: "differ" };
  if (label === "missing") return { cls: "cmp-missing", mark: "–", text: "missing on one side" };
  const jw = /^jw>=([\d.]+)$/.exec(label);
  if (jw) return { cls: "cmp-close", mark: "≈", text: `similar (Jaro-Winkler ≥ ${jw[1]})` };
  return { cls: "cmp-close", mark: "≈", text: label };
}

/** Match weight in bits, signed: "+9.8 bits". */
export function fmtBits(w) {
  if (w === null || w === undefined || Number.isNaN(Number(w))) return "—";
  const v = Number(w);
  return `${v > 0 ? "+" : v < 0 ? "−" : ""}${Math.abs(v).toFixed(1)} bits`;
}

/** A probability as a percentage with one decimal ("56.7%"). */
export function fmtProb(p) {
  if (p === null || p === undefined) return "—";
  return fmtPct(Number(p));
}

/**
 * For the overview: a line with the number of pairs waiting for review and
 * a link here, or null when none wait (or the queue cannot be read).
 */
export async function pendingNote(signal) {
  let doc;
  try {
    doc = await get("/review?_size=1", { signal });
  } catch (e) {
    if (e.name === "AbortError" || e.status === 401) throw e;
    return null;
  }
  if (!doc.pending) return null;
  return h("p.review-note", { id: "home-review", "data-pending": String(doc.pending) },
    h("span.review-note-n", fmtInt(doc.pending)),
    ` ${doc.pending === 1 ? "pair of records waits" : "pairs of records wait"} for your review: the matcher could not tell whether they are the same. `,
    h("a.btn.btn-small.btn-primary", { href: "#/review" }, "Review them"));
}

export async function render(view, ctx) {
  ctx.setTitle("Review matches");
  const entity = ctx.query.get("entity") || "";
  const wanted = Number(ctx.query.get("pair")) || 0;
  const status = h("p.review-status", { id: "review-pending", role: "status" });
  const card = h("div", { id: "review-card" });
  const after = h("div", { id: "review-after" });
  const log = h("ol.review-log", { id: "review-log", "aria-label": "Your decisions on this page" });
  view.append(
    h("div.page-head", h("h1", "Review matches"),
      h("a.btn", { href: "#/dashboards/matching" }, "How the matcher decided")),
    h("p.lead", "These pairs of records look alike, but not enough for Concord to merge them on its own. Decide for each pair whether the two records are the same ",
      entity ? humanize(entity).toLowerCase() : "customer or product", "."),
    h("p.small.muted.review-keys", "Keyboard: ", h("kbd", "a"), " accept, ", h("kbd", "r"), " reject, ",
      h("kbd", "n"), " or ", h("kbd", "→"), " next, ", h("kbd", "p"), " or ", h("kbd", "←"), " previous."),
    status, card, after);

  const wait = loading("Loading the pairs to review…");
  card.append(wait);
  // The model's weight of each level, to show what each attribute added.
  const [first, matching] = await Promise.all([
    get(`/review${qs({ entity, _size: PAGE })}`, { signal: ctx.signal }),
    get("/matching", { signal: ctx.signal }).catch((e) => {
      if (e.name === "AbortError" || e.status === 401) throw e;
      return null;
    }),
  ]);
  wait.remove();
  const weights = {};
  for (const e of (matching && matching.entities) || []) {
    weights[e.entity] = {};
    for (const f of e.fields || []) {
      weights[e.entity][f.name] = Object.fromEntries((f.levels || []).map((l) => [l.label, l.weight]));
    }
  }

  const items = [...(first.items || [])];
  let next = first.next;
  let pending = first.pending || 0;
  let decided = 0;
  let i = 0;
  let busy = false;

  async function more() {
    if (!next) return false;
    const doc = await get(`/review${qs({ entity, _size: PAGE, _next: next })}`, { signal: ctx.signal });
    items.push(...(doc.items || []));
    next = doc.next;
    pending = doc.pending;
    return (doc.items || []).length > 0;
  }

  if (wanted) {
    // Page on until the pair asked for (the matching page links here).
    let at = items.findIndex((p) => p.pair_id === wanted);
    for (let k = 0; at < 0 && next && k < 50; k++) {
      await more();
      at = items.findIndex((p) => p.pair_id === wanted);
    }
    if (at >= 0) i = at;
    else {
      after.before(notice(`Pair ${wanted} is not waiting for review: it was decided already, or a run has replaced it. The pairs that wait are below.`, "info"));
    }
  }

  function showStatus() {
    status.dataset.pending = String(pending);
    clear(status).append(pending
      ? `${fmtInt(pending)} ${pending === 1 ? "pair waits" : "pairs wait"} for review${entity ? ` (${humanize(entity).toLowerCase()})` : ""}.`
      : "No pairs wait for review.");
    if (decided) status.append(` You decided ${fmtInt(decided)} on this page.`);
  }

  function showAfter() {
    clear(after);
    if (!decided && !log.children.length) return;
    const msg = h("p", { id: "review-run-msg" });
    after.append(h("section.card.review-apply", { "aria-labelledby": "apply-h" },
      h("h2#apply-h", "Your decisions take effect at the next run"),
      h("p", "Until then the reconciled tables and dashboards keep the previous result. Start a run when you are done reviewing."),
      h("p.actions", h("button.btn.btn-primary", { type: "button", id: "review-start-run", onclick: () => startRun(msg) }, "Start a run now"),
        h("a.btn", { href: "#/runs" }, "Go to runs")),
      msg, h("h3", "Decided on this page"), log));
  }

  async function startRun(msg) {
    clear(msg);
    try {
      const r = await post("/runs", {}, { raw: true });
      const loc = r.headers.get("Location") || "";
      const id = (r.body && (r.body.id || (r.body.run && r.body.run.id))) || loc.split("/").pop();
      announce("Run started.");
      navigate(id ? `#/runs/${id}` : "#/runs");
    } catch (err) {
      if (err.name === "AbortError") return;
      if (err.status === 409) {
        const id = err.location ? err.location.split("/").pop() : "";
        msg.append(notice("A run is already queued or running: your decisions apply at the run after it.", "info"),
          h("p", h("a", { href: id ? `#/runs/${id}` : "#/runs" }, "Watch that run")));
      } else msg.append(errorBox(err, "The run could not be started"));
    }
  }

  function show() {
    showStatus();
    clear(card);
    if (items.length && i >= items.length) {
      card.append(emptyState("You are at the end of the queue.", `You skipped ${items.length === 1 ? "one pair" : `${fmtInt(items.length)} pairs`}: they still wait for a decision.`,
        h("button.btn", { type: "button", id: "review-restart", onclick: () => { i = 0; show(); focusPair(); } }, "Back to the first pair")));
      return;
    }
    if (!items.length && !decided && matching && !(matching.entities || []).length) {
      card.append(emptyState("Nothing to review yet.", "Pairs to review come from a run: it matches the customers and products of your files and keeps here the pairs it is unsure about.",
        h("a.btn.btn-primary", { href: "#/runs" }, "Go to runs")));
      return;
    }
    if (!items.length) {
      card.append(decided
        ? emptyState("You have reviewed every pair.", "Start a run to apply your decisions.")
        : emptyState("Nothing to review.", "No pair of records waits for a decision: every pair the matcher found was clear enough to merge or to keep apart. New pairs can appear after the next run.",
          h("a.btn", { href: "#/dashboards/matching" }, "See how the matcher decided")));
      return;
    }
    card.append(pairView(items[i], i, weights[items[i].entity] || {}));
  }

  function pairView(p, idx, w) {
    const a = p.a || {};
    const b = p.b || {};
    const ra = a.record || {};
    const rb = b.record || {};
    const levels = p.levels || {};
    // Compared attributes first (in the levels' order), then the others
    // that have a value on either side.
    const compared = Object.keys(levels);
    const rest = [...new Set([...Object.keys(ra), ...Object.keys(rb)])].filter((k) => !(k in levels));
    const shown = rest.filter((k) => ra[k] !== null && ra[k] !== undefined || rb[k] !== null && rb[k] !== undefined);
    const hidden = rest.length - shown.length;
    const side = (s, name) => h("th", { scope: "col" },
      h("span.block", `Record ${name}`),
      h("span.block.small.lineage", { "data-side": name.toLowerCase() },
        h("a", { href: `#/files/${encodeURIComponent(s.file_id)}` }, s.file_name || s.file_id), ` · row ${fmtInt(s.row)}`),
      s.canonical_id !== null && s.canonical_id !== undefined
        ? h("span.block.small.muted", "now ", h("a", { href: `#/data/dim_${p.entity}?canonical_id__exact=${s.canonical_id}` }, `${humanize(p.entity).toLowerCase()} #${s.canonical_id}`))
        : null);
    const val = (v) => (v === null || v === undefined || v === "" ? h("span.muted", h("span", { "aria-hidden": "true" }, "∅"), h("span.visually-hidden", "empty")) : String(v));
    const row = (attr) => {
      const lv = levels[attr];
      const info = levelInfo(lv);
      const wt = lv !== undefined && w[attr] ? w[attr][lv] : undefined;
      return h(`tr.${info.cls}`, { "data-attr": attr, "data-level": lv === undefined ? "" : lv },
        h("th", { scope: "row" }, humanize(attr)),
        h("td.val", val(ra[attr])),
        h("td.val", val(rb[attr])),
        h("td.cmp", h("span.cmp-mark", { "aria-hidden": "true" }, info.mark), " ",
          h("span.cmp-text", info.text),
          wt !== undefined && lv !== "missing" ? h("span.cmp-w.small", ` ${fmtBits(wt)}`) : null,
          // The matcher compares a key cluster's values (the first of its
          // records that has one), which this row may not carry itself.
          lv !== undefined && lv !== "missing" && (empty(ra[attr]) || empty(rb[attr]))
            ? h("span.block.small.muted.cmp-note", "compared on another record with the same key") : null));
    };
    const prob = Number(p.probability);
    const accept = h("button.btn.btn-primary", { type: "button", id: "review-accept", "aria-keyshortcuts": "a", onclick: () => decide("accept") },
      "Accept: the same ", h("kbd", "a"));
    const reject = h("button.btn.btn-danger-quiet", { type: "button", id: "review-reject", "aria-keyshortcuts": "r", onclick: () => decide("reject") },
      "Reject: different ", h("kbd", "r"));
    const skip = h("button.btn", { type: "button", id: "review-skip", "aria-keyshortcuts": "n ArrowRight", onclick: () => step(1) },
      "Skip ", h("kbd", "n"));
    const prev = h("button.btn.btn-quiet", { type: "button", id: "review-prev", "aria-keyshortcuts": "p ArrowLeft", disabled: idx === 0, onclick: () => step(-1) },
      "‹ Previous");
    return h("section.card.review-pair", { "aria-labelledby": "pair-h", "data-pair-id": String(p.pair_id), "data-entity": p.entity },
      h("div.review-pair-head",
        h("h2#pair-h", { tabindex: "-1" }, `Pair ${fmtInt(idx + 1)} of ${fmtInt(Math.max(pending, items.length))}`,
          h("span.small.muted", ` · ${humanize(p.entity)} · pair id ${p.pair_id}`)),
        h("dl.facts.facts-inline.review-evidence",
          h("div", h("dt", "Probability they are the same"), h("dd", { id: "review-prob", "data-value": String(p.probability) },
            h("meter", { min: "0", max: "1", low: "0.3", high: "0.9", optimum: "1", value: String(Number.isFinite(prob) ? prob : 0), "aria-hidden": "true" }), " ", fmtProb(p.probability))),
          h("div", h("dt", "Match weight"), h("dd", { id: "review-weight" }, fmtBits(p.weight))),
          h("div", h("dt", "Found by the blocking rule"), h("dd", h("code", { id: "review-rule" }, p.blocking_rule || "—"))))),
      h("div.scroll", { tabindex: "0", role: "region", "aria-label": "The two records side by side" },
        h("table.data.compare", { id: "review-compare" },
          h("caption.visually-hidden", "The two records, attribute by attribute, and how the matcher compared them"),
          h("thead", h("tr", h("th", { scope: "col" }, "Attribute"), side(a, "A"), side(b, "B"), h("th", { scope: "col" }, "Comparison"))),
          h("tbody", compared.map(row), shown.map(row)))),
      hidden ? h("p.small.muted", `${fmtInt(hidden)} attributes empty in both records are not shown.`) : null,
      h("div.review-actions", accept, reject, skip, prev),
      h("p.small.muted", "Accept merges the two records into one at the next run; reject keeps them apart for good (also when later files are uploaded)."));
  }

  function step(d) {
    if (busy) return;
    const k = i + d;
    if (k < 0) return;
    if (k >= items.length && next) {
      busy = true;
      more().then(() => { busy = false; i = Math.min(k, items.length); show(); focusPair(); })
        .catch((err) => { busy = false; if (err.name !== "AbortError") card.append(errorBox(err, "The next pairs could not be loaded")); });
      return;
    }
    i = Math.min(k, items.length);
    show();
    focusPair();
  }

  function focusPair() {
    const t = card.querySelector("#pair-h");
    if (t) t.focus();
  }

  async function decide(decision) {
    if (busy || i >= items.length) return;
    const p = items[i];
    busy = true;
    for (const b of card.querySelectorAll(".review-actions button")) b.disabled = true;
    try {
      // the run the pair comes from: a later run renumbers pairs (409)
      await post(`/review/${p.pair_id}`, { decision, run_id: p.run_id });
    } catch (err) {
      busy = false;
      if (err.name === "AbortError") return;
      if (err.status === 404) {
        // The pair is gone (a run replaced the model): start again.
        card.prepend(errorBox(err, "This pair no longer exists", "A run has replaced the pairs since this page was loaded. Reload the page to see the current ones."));
      } else card.prepend(errorBox(err, "The decision could not be saved"));
      for (const b of card.querySelectorAll(".review-actions button")) b.disabled = false;
      return;
    }
    busy = false;
    items.splice(i, 1);
    pending = Math.max(0, pending - 1);
    decided++;
    log.append(h("li", { "data-pair-id": String(p.pair_id), "data-decision": decision },
      h(`span.badge.${decision === "accept" ? "badge-done" : "badge-failed"}`, decision === "accept" ? "accepted" : "rejected"),
      ` pair ${p.pair_id}: ${recordName(p.a)} and ${recordName(p.b)}`));
    announce(`Pair ${p.pair_id} ${decision === "accept" ? "accepted" : "rejected"}. ${pending ? `${pending} left.` : "No pairs left."}`);
    if (i >= items.length && next) await more().catch(() => {});
    show();
    showAfter();
    focusPair();
  }

  const onKey = (e) => {
    if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey) return;
    const t = e.target;
    if (t && (t.isContentEditable || /^(INPUT|SELECT|TEXTAREA)$/.test(t.tagName))) return;
    if (document.querySelector("dialog[open]")) return;
    const k = e.key;
    // The arrows scroll a focused wide table or a button group as usual.
    if ((k === "ArrowLeft" || k === "ArrowRight") && t && t.closest && t.closest(".scroll")) return;
    if (k === "a" || k === "A") decide("accept");
    else if (k === "r" || k === "R") decide("reject");
    else if (k === "n" || k === "N" || k === "ArrowRight") step(1);
    else if (k === "p" || k === "P" || k === "ArrowLeft") step(-1);
    else return;
    e.preventDefault();
  };
  document.addEventListener("keydown", onKey);
  ctx.onCleanup(() => document.removeEventListener("keydown", onKey));

  show();
}

function empty(v) {
  return v === null || v === undefined || v === "";
}

function recordName(s) {
  const r = (s && s.record) || {};
  const name = r.full_name || [r.first_name, r.last_name].filter(Boolean).join(" ") || r.name;
  return name ? `“${name}”` : `row ${s ? s.row : "?"}`;
}
