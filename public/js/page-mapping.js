// page-mapping.js - review a file's mapping onto the target schema: the
// proposed entity, and per column the target attribute with the mapper's
// confidence and evidence; change targets, then confirm (PUT).  Before
// anything runs: what a run would do with the mapping (warnings when the
// order lines' grain or a reference is unmapped) and a preview of the
// first 20 rows per entity, cleaned as the run will clean them.
import { get, put, post } from "./api.js";
import { h, clear, fmtPct, fmtInt, badge, errorBox, humanize, announce, scroller, chips, warningBox, loading } from "./dom.js";
import { listFiles, mappingStates, background } from "./util.js";

const UNMAPPED = "";

export async function render(view, ctx) {
  const id = ctx.params[0];
  const enc = encodeURIComponent(id);
  const [fileDoc, mapDoc, schemaDoc] = await Promise.all([
    get(`/files/${enc}`, { signal: ctx.signal }),
    get(`/files/${enc}/mapping`, { signal: ctx.signal }),
    get("/schema", { signal: ctx.signal }),
  ]);
  const file = fileDoc.file;
  let mapping = mapDoc.mapping;
  const entities = schemaDoc.entities || [];
  const profileBy = {};
  for (const c of (fileDoc.profile && fileDoc.profile.columns) || []) profileBy[c.name] = c;
  const attrInfo = {};
  for (const e of entities) for (const a of e.attributes) attrInfo[`${e.name}.${a.name}`] = { entity: e, attr: a };
  const entityLabel = (name) => (entities.find((e) => e.name === name) || {}).label || humanize(name);
  ctx.setTitle(`Mapping of ${file.name}`);

  const head = h("div.page-head", h("h1", `Mapping of ${file.name}`));
  const stateBox = h("div");
  const entBox = h("section.section", { "aria-labelledby": "ent-h" });
  const msg = h("div", { id: "mapping-msg" });
  const body = h("tbody");
  const confirmBtn = h("button.btn.btn-primary", { type: "submit", id: "confirm-mapping" }, "Confirm mapping");
  const resetBtn = h("button.btn", { type: "button", id: "reset-mapping" }, "Undo my changes");
  const threshold = mapping.threshold ?? 0.5;
  let selects = [];

  function targetSelect(col, index) {
    const sel = h("select", { id: `target-${index}`, "aria-label": `Target of column ${col.source}`, "data-source": col.source });
    sel.append(h("option", { value: UNMAPPED }, "— keep unmapped —"));
    for (const e of entities) {
      const group = h("optgroup", { label: e.label || humanize(e.name) });
      for (const a of e.attributes) {
        const v = `${e.name}.${a.name}`;
        group.append(h("option", { value: v, title: a.description || "" }, v));
      }
      sel.append(group);
    }
    sel.value = col.target || UNMAPPED;
    sel.dataset.initial = sel.value;
    return sel;
  }

  function describe(sel, out) {
    const info = attrInfo[sel.value];
    out.textContent = info ? `${info.attr.description || ""}${info.attr.role && info.attr.role !== "attribute" ? ` · ${humanize(info.attr.role)}` : ""}` : "Not used by the reconciliation (kept in staging).";
  }

  function showState() {
    clear(stateBox);
    if (mapping.state === "confirmed") {
      stateBox.append(h("div.alert.alert-success", { role: "status", id: "mapping-state" },
        h("strong", "Confirmed. "), "Runs use this mapping. You can still change it and confirm again."));
      confirmBtn.textContent = "Confirm changes";
    } else {
      stateBox.append(h("div.alert.alert-info", { id: "mapping-state" },
        h("strong", "Proposed by Concord — please review. "),
        "Each column is matched to an attribute of the target schema. Check the targets, especially the ones marked “check”, change what is wrong, choose “— keep unmapped —” for columns to leave out, and confirm."));
    }
    const llmWhy = (mapping.fallbacks || []).filter((f) => f.mapper === "llm" && f.code !== "llm_not_configured");
    if (llmWhy.length) {
      stateBox.append(h("p.small.muted", { id: "llm-fallback" }, "The language model's suggestions are not shown: ", llmWhy.map((f) => f.reason).join("; "), ". The heuristic's proposal stands."));
    } else if (mapping.llm) {
      stateBox.append(h("p.small.muted", { id: "llm-used" }, `The language model (${mapping.llm.model}) proposed ${mapping.llm.proposed} columns; ${mapping.llm.disagreements} disagree with the heuristic, ${mapping.llm.taken} filled a gap.`));
    }
    clear(entBox).append(h("h2#ent-h", "What this file describes"));
    const ents = mapping.entities || [];
    if (!ents.length) entBox.append(h("p", "No entity: none of the columns fits the target schema."));
    else {
      entBox.append(h("ul.entities", ents.map((e) => h("li",
        h("strong", entityLabel(e.name)), ` (${e.name})`,
        e.confidence !== undefined ? h("span.conf", ` · confidence ${fmtPct(e.confidence)}`) : null,
        e.evidence && e.evidence.length ? h("span.muted", ` — ${e.evidence.join("; ")}`) : null))));
    }
  }

  function rows() {
    clear(body);
    selects = [];
    (mapping.columns || []).forEach((col, i) => {
      const sel = targetSelect(col, i);
      selects.push(sel);
      const desc = h("p.small.muted.target-desc");
      describe(sel, desc);
      const p = profileBy[col.source] || {};
      const low = mapping.state !== "confirmed" && col.target && (col.confidence ?? 1) < Math.max(threshold, 0.75);
      const changed = h("span.badge.badge-changed", { hidden: true }, "changed");
      const tr = h("tr", { "data-source": col.source },
        h("th", { scope: "row" }, h("span.colname", col.source),
          h("span.small.muted.block", p.type || "?"),
          chips(p.examples, { max: 3, label: `Examples of ${col.source}` })),
        h("td", h("label.visually-hidden", { for: sel.id }, `Target of column ${col.source}`), sel, " ", changed, desc),
        h("td.num", col.target || mapping.state === "confirmed"
          ? h("span", h("meter", { min: "0", max: "1", low: "0.5", high: "0.8", optimum: "1", value: String(col.confidence ?? 0), "aria-label": `Confidence ${fmtPct(col.confidence ?? 0)}` }), " ", fmtPct(col.confidence ?? 0))
          : "—",
          low ? h("span.badge.badge-check.block", "check") : null),
        h("td.evidence",
          col.proposed_by ? h("p.small.muted.proposed-by", `Proposed by the ${col.proposed_by === "llm" ? "language model" : "heuristic"}`,
            col.disagrees ? [" ", h("span.badge.badge-check.llm-disagrees", "the two disagree")] : null) : null,
          col.evidence && col.evidence.length ? h("ul.plain", col.evidence.map((e) => h("li", e))) : null,
          col.llm ? h("p.small.llm-proposal", { "data-llm-target": col.llm.target || "" },
            "Language model: ", h("code", col.llm.target || "no attribute"), ` (${fmtPct(col.llm.confidence ?? 0)})`,
            col.llm.reason ? ` — ${col.llm.reason}` : "",
            col.heuristic && col.proposed_by === "llm" ? ["; heuristic: ", h("code", col.heuristic.target || "no attribute")] : null) : null,
          col.paired_with ? h("p.small", `Read together with column ${col.paired_with}.`) : null,
          col.alternatives && col.alternatives.length ? h("p.small", "Other candidates: ",
            col.alternatives.map((a, k) => [k ? ", " : "", h("button.linklike", {
              type: "button",
              onclick: () => { sel.value = a.target; sel.dispatchEvent(new Event("change")); sel.focus(); },
              "aria-label": `Use ${a.target} for ${col.source}`,
            }, a.target), ` (${fmtPct(a.confidence)})`])) : null));
      sel.addEventListener("change", () => {
        describe(sel, desc);
        previewSoon();
        const c = sel.value !== sel.dataset.initial;
        changed.hidden = !c;
        tr.classList.toggle("row-changed", c);
        resetBtn.hidden = !selects.some((s) => s.value !== s.dataset.initial);
      });
      body.append(tr);
    });
    resetBtn.hidden = true;
  }

  // ---- the check and the preview of the mapping as it stands on the page
  const checkBox = h("div", { id: "mapping-warnings", "aria-live": "polite" });
  const previewBox = h("section.section", { "aria-labelledby": "preview-h", id: "mapping-preview" });
  let previewTimer = null;
  let previewSeq = 0;
  ctx.onCleanup(() => clearTimeout(previewTimer));
  const currentColumns = () => (mapping.columns || []).map((c, i) => ({ source: c.source, target: (selects[i] && selects[i].value) || null }));

  function showWarnings(warnings, confirmed) {
    clear(checkBox).append(warningBox(warnings, confirmed
      ? "Confirmed — but a run will not load these order lines as they are mapped"
      : "Before you run: with this mapping a run will not load the order lines", h("p.small", "Fix the mapping below, or upload the missing files, then run.")) || "");
  }

  async function preview() {
    const seq = ++previewSeq;
    clearTimeout(previewTimer);
    const edited = selects.some((sel) => sel.value !== sel.dataset.initial);
    const doc = edited
      ? await post(`/files/${enc}/preview`, { columns: currentColumns() }, { signal: ctx.signal })
      : await get(`/files/${enc}/preview`, { signal: ctx.signal });
    if (!ctx.alive || seq !== previewSeq) return;
    showWarnings(doc.warnings, mapping.state === "confirmed" && !edited);
    showPreview(previewBox, doc, edited);
  }
  function previewSoon() {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(() => background(() => preview().catch((err) => {
      if (err.name === "AbortError" || err.status === 401) throw err;
      clear(previewBox).append(h("h2#preview-h", "Preview of the cleaned rows"), errorBox(err, "The preview could not be made"));
    })), 500);
  }

  resetBtn.addEventListener("click", () => {
    for (const s of selects) {
      s.value = s.dataset.initial;
      s.dispatchEvent(new Event("change"));
    }
    announce("Changes undone.");
  });

  const form = h("form", { id: "mapping-form" },
    scroller(h("table.data.mapping",
      h("caption.visually-hidden", `Columns of ${file.name} and their targets`),
      h("thead", h("tr",
        h("th", { scope: "col" }, "Column in the file"),
        h("th", { scope: "col" }, "Maps to (entity.attribute)"),
        h("th.num", { scope: "col" }, "Confidence"),
        h("th", { scope: "col" }, "Why"))),
      body), "Column mapping"),
    h("div.form-actions", confirmBtn, resetBtn, h("a.btn.btn-quiet", { href: `#/files/${file.id}` }, "See the file's profile")));

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clear(msg);
    const payload = { columns: (mapping.columns || []).map((c, i) => ({ source: c.source, target: selects[i].value || null })) };
    confirmBtn.disabled = true;
    try {
      const doc = await put(`/files/${enc}/mapping`, payload);
      mapping = doc.mapping;
      showState();
      rows();
      showWarnings(doc.warnings || [], true);
      previewSoon();
      const next = await nextToReview(file.id, ctx.signal);
      if (doc.warnings && doc.warnings.length) {
        msg.append(warningBox(doc.warnings, "Mapping confirmed, but a run will quarantine the order lines",
          h("p.small", "What will happen and how to fix it is said above; a run now would end with these lines in the quarantine.")));
        const box = msg.lastChild;
        box.id = "mapping-confirm-warnings";
      }
      msg.append(h("div.alert.alert-success", { role: "status", id: "mapping-saved" },
        h("strong", "Mapping confirmed. "),
        next ? ["Next: ", h("a", { href: `#/files/${next.id}/mapping`, id: "next-mapping" }, `review ${next.name}`), "."]
          : ["All files are confirmed: ", h("a", { href: "#/runs", id: "go-runs" }, "run the reconciliation"), "."]));
      announce("Mapping confirmed.");
      msg.scrollIntoView({ block: "nearest" });
    } catch (err) {
      if (err.status === 422) {
        err.details = (err.errors || []).map((x) => `${x.column ? `Column “${x.column}”: ` : ""}${x.detail}`);
        msg.append(errorBox(err, "Please correct the mapping", "The mapping was not saved:"));
      } else msg.append(errorBox(err, "The mapping was not saved"));
      msg.scrollIntoView({ block: "nearest" });
    } finally {
      confirmBtn.disabled = false;
    }
  });

  showState();
  rows();
  showWarnings(mapDoc.warnings || [], mapping.state === "confirmed");
  clear(previewBox).append(h("h2#preview-h", "Preview of the cleaned rows"), loading("Cleaning the first rows…"));
  view.append(h("p.crumbs", h("a", { href: "#/files" }, "Files"), " › ", h("a", { href: `#/files/${file.id}` }, file.name), " › Mapping"),
    head, stateBox, checkBox, entBox, h("h2", "Columns"), msg, form, previewBox);
  previewSoon();
}

/** The first rows of each entity as a run will clean them: the cleaned
 * value, the raw value when it differs, and the issue of a value that
 * could not be cleaned. */
function showPreview(box, doc, edited) {
  clear(box).append(h("h2#preview-h", "Preview of the cleaned rows"),
    h("p.muted", `The first ${fmtInt(doc.rows_read)} rows of the file, cleaned with ${edited ? "the mapping as you have changed it (not saved yet)" : "this mapping"} by the same code a run uses. Nothing is saved or run.`));
  const ents = doc.entities || [];
  if (!ents.length) {
    box.append(h("p", "No column is mapped: a run would read nothing from this file."));
    return;
  }
  for (const e of ents) {
    const issues = e.rows.reduce((a, r) => a + r.issues.filter(Boolean).length, 0);
    box.append(h("h3", { "data-entity": e.entity }, humanize(e.entity), h("span.small.muted", ` · ${fmtInt(e.rows.length)} rows${issues ? ` · ${fmtInt(issues)} ${issues === 1 ? "value" : "values"} not cleaned` : ""}`)),
      scroller(h("table.data.compact.preview", { "data-entity": e.entity },
        h("caption.visually-hidden", `Preview of ${e.entity}`),
        h("thead", h("tr", h("th", { scope: "col" }, "Row"), e.columns.map((c) => h("th", { scope: "col" },
          h("span.block", c.attribute), h("span.small.muted.block", c.sources.join(" + ")))))),
        h("tbody", e.rows.map((r) => h("tr",
          h("th", { scope: "row" }, String(r.row)),
          r.values.map((v, i) => {
            const raw = r.raw[i];
            const issue = r.issues[i];
            if (issue) return h("td.cell-issue", { title: `Could not be cleaned (${issue}): ${raw}` }, h("span.badge.badge-failed", humanize(issue)), " ", raw ?? "");
            const changed = v !== null && raw !== null && raw !== undefined && String(raw) !== v;
            return h("td", { title: changed ? `In the file: ${raw}` : null, class: changed ? "cell-changed" : null }, v ?? "",
              changed ? h("span.small.muted.block", raw) : null);
          }))))), `Preview of ${e.entity}`));
  }
}

async function nextToReview(currentId, signal) {
  const files = await listFiles(signal);
  const states = await mappingStates(files.filter((f) => f.id !== currentId), signal);
  return files.find((f) => f.id !== currentId && states[f.id] !== "confirmed") || null;
}
