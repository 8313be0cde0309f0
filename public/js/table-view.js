// table-view.js - one table of the tables API, browsable: sort by a
// column, filter (column__op=value), page size, keyset paging (next), and
// export of exactly the rows shown as CSV or JSON (the same URL with .csv
// or .json and _dl=1), and of the whole filtered view as an Excel
// workbook (.xlsx).  Used by the data page and a run's quarantine.
import { get, BASE } from "./api.js";
import { h, clear, fmtInt, fmtCell, errorBox, emptyState, loading, announce } from "./dom.js";

export const OPS = [
  ["exact", "is"],
  ["not", "is not"],
  ["contains", "contains"],
  ["startswith", "starts with"],
  ["gt", ">"],
  ["gte", "≥"],
  ["lt", "<"],
  ["lte", "≤"],
  ["in", "is one of"],
  ["isnull", "is empty"],
];
const OP_TEXT = Object.fromEntries(OPS);
const NUMERIC = new Set(["integer", "real", "money"]);
const TEXTUAL = new Set(["text", "date", "timestamp"]);
const SIZES = [25, 50, 100, 250, 500];
export const RESERVED = new Set(["_sort", "_sort_desc", "_size", "_next", "_col", "_nocol", "_shape", "_header", "_formulas", "_stream", "_dl"]);

/** Splits "col__op" into [col, op]; a bare "col" is [col, "exact"]. */
export function splitFilter(key) {
  const m = /^(.*?)__([a-z]+)$/.exec(key);
  if (m && OP_TEXT[m[2]]) return [m[1], m[2]];
  return [key, "exact"];
}

/** The API URL of the view in a format ("json", "csv"), for export or fetch. */
export function tableUrl(name, params, fmt, download) {
  const p = new URLSearchParams(params);
  if (download) p.set("_dl", "1");
  const q = p.toString();
  return `${BASE}/tables/${encodeURIComponent(name)}${fmt ? "." + fmt : ""}${q ? "?" + q : ""}`;
}

/**
 * Renders into `root`.  opts: {name, params (URLSearchParams of API
 * parameters), fixed (keys that cannot be removed), onChange(params)
 * (navigation; default: re-render in place), signal, total (row count of
 * what the fixed filters select — the whole table without any — if
 * known), label}.
 */
export async function tableView(root, opts) {
  const { name, signal } = opts;
  const fixed = new Set(opts.fixed || []);
  const params = new URLSearchParams(opts.params || "");
  // Keyset paging only goes forward: remember which page each token opens
  // (token -> page index) so that "Previous" and the row numbers work,
  // also with the browser's back button.
  const pages = opts.pages || new Map();
  const change = (p) => {
    if (opts.onChange) opts.onChange(p);
    else tableView(root, { ...opts, params: p, pages });
  };

  clear(root).append(loading("Loading rows…"));
  let doc;
  try {
    doc = await get(tableUrl(name, params).slice(BASE.length), { signal });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    clear(root);
    if (err.status === 404) {
      root.append(emptyState("This table does not exist yet.", "Tables are built by a run. Start one on the Runs page.", h("a.btn", { href: "#/runs" }, "Go to runs")));
      return;
    }
    root.append(errorBox(err, "The rows could not be loaded"));
    if (err.status === 400 && [...params.keys()].some((k) => !RESERVED.has(k) || k === "_next")) {
      const reset = new URLSearchParams();
      for (const k of fixed) if (params.has(k)) reset.set(k, params.get(k));
      root.append(h("p", h("button.btn", { type: "button", onclick: () => change(reset) }, "Clear the filters")));
    }
    return;
  }
  const columns = doc.columns || [];
  const types = Object.fromEntries(columns.map((c) => [c.name, c.type]));
  clear(root);

  // ---- filters
  const filterKeys = [...params.keys()].filter((k) => !RESERVED.has(k));
  const colSel = h("select", { id: `${name}-fcol`, "aria-label": "Column" }, columns.map((c) => h("option", { value: c.name }, c.name)));
  const opSel = h("select", { id: `${name}-fop`, "aria-label": "Condition" });
  const valIn = h("input", { id: `${name}-fval`, "aria-label": "Value", placeholder: "value", autocomplete: "off" });
  const boolSel = h("select", { id: `${name}-fbool`, "aria-label": "Value", hidden: true },
    h("option", { value: "true" }, "yes"), h("option", { value: "false" }, "no"));
  const fillOps = () => {
    const t = types[colSel.value];
    clear(opSel);
    for (const [op, text] of OPS) {
      if ((op === "contains" || op === "startswith") && !TEXTUAL.has(t)) continue;
      opSel.append(h("option", { value: op }, text));
    }
    valIn.placeholder = t === "money" ? "e.g. 12.50" : t === "date" ? "YYYY-MM-DD" : NUMERIC.has(t) ? "a number" : "value";
    syncValue();
  };
  const syncValue = () => {
    const isnull = opSel.value === "isnull";
    const bool = isnull || types[colSel.value] === "boolean";
    boolSel.hidden = !bool;
    valIn.hidden = bool;
    if (opSel.value === "in") valIn.placeholder = "values separated by commas";
  };
  colSel.addEventListener("change", fillOps);
  opSel.addEventListener("change", syncValue);
  fillOps();
  const addForm = h("form.filter-add", { "aria-label": "Add a filter" },
    h("span.filter-label", "Filter:"), colSel, opSel, valIn, boolSel,
    h("button.btn", { type: "submit" }, "Add filter"));
  addForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const v = boolSel.hidden ? valIn.value : boolSel.value;
    if (!boolSel.hidden || v !== "") {
      const p = new URLSearchParams(params);
      p.delete("_next");
      p.set(opSel.value === "exact" ? `${colSel.value}__exact` : `${colSel.value}__${opSel.value}`, v);
      announce("Filter added.");
      change(p);
    } else valIn.focus();
  });
  const chips = h("ul.chips", { "aria-label": "Active filters" }, filterKeys.map((k) => {
    const [col, op] = splitFilter(k);
    const v = params.get(k);
    const text = op === "isnull" ? `${col} ${v === "true" || v === "1" ? "is empty" : "is not empty"}` : `${col} ${OP_TEXT[op]} ${v}`;
    return h("li.chip", h("span", text), fixed.has(k) ? null : h("button.chip-x", {
      type: "button", "aria-label": `Remove filter ${text}`,
      onclick: () => {
        const p = new URLSearchParams(params);
        p.delete(k);
        p.delete("_next");
        change(p);
      },
    }, "×"));
  }));

  // ---- page size, paging, export
  const size = Number(params.get("_size")) || 100;
  const sizeSel = h("select", { id: `${name}-size`, "aria-label": "Rows per page" },
    [...new Set([...SIZES, size])].sort((a, b) => a - b).map((n) => h("option", { value: String(n), selected: n === size }, String(n))));
  sizeSel.addEventListener("change", () => {
    const p = new URLSearchParams(params);
    p.set("_size", sizeSel.value);
    p.delete("_next");
    change(p);
  });
  const count = doc.count ?? (doc.rows || []).length;
  const token = params.get("_next");
  const onFirst = !token;
  const pageIdx = onFirst ? 0 : pages.get(token);
  const anyFilter = filterKeys.length > 0;
  // The total is known for the rows the fixed filters select (a run's
  // quarantine), not for a filter the person added.
  const totalKnown = opts.total !== undefined && filterKeys.every((k) => fixed.has(k));
  let status;
  if (count === 0) status = "No rows";
  else if (pageIdx === undefined) status = `${fmtInt(count)} rows from a later page${doc.next ? ", more on the next pages" : ""}`;
  else if (onFirst && !doc.next) status = `${fmtInt(count)} ${count === 1 ? "row" : "rows"}${anyFilter && !totalKnown ? " match" : ""}`;
  else {
    const first = pageIdx * size;
    status = `Rows ${fmtInt(first + 1)}–${fmtInt(first + count)}${totalKnown ? ` of ${fmtInt(opts.total)}` : doc.next ? ", more on the next pages" : ""}`;
  }
  const sortCol = params.get("_sort") || params.get("_sort_desc");
  if (sortCol && count) status += ` · sorted by ${sortCol}${params.get("_sort_desc") ? ", descending" : ""}`;
  if (doc.next) pages.set(doc.next, (pageIdx ?? 0) + 1);
  const prevToken = pageIdx ? [...pages].find(([, i]) => i === pageIdx - 1) : null;
  const pager = h("div.pager",
    h("p.pager-status", { role: "status", id: `${name}-status` }, status),
    h("span.pager-buttons",
      h("button.btn.btn-small", {
        type: "button", disabled: onFirst, id: `${name}-prev`, onclick: () => {
          const p = new URLSearchParams(params);
          if (prevToken) p.set("_next", prevToken[0]);
          else p.delete("_next");
          change(p);
        },
      }, "‹ Previous"),
      h("button.btn.btn-small", {
        type: "button", disabled: !doc.next, id: `${name}-next`, onclick: () => {
          const p = new URLSearchParams(params);
          p.set("_next", doc.next);
          change(p);
        },
      }, "Next ›")),
    h("label.inline", { for: sizeSel.id }, "Rows per page ", sizeSel),
    h("span.export", "Export these rows: ",
      h("a.btn.btn-small", { href: tableUrl(name, params, "csv", true), download: `${name}.csv`, id: `${name}-csv` }, "CSV"), " ",
      h("a.btn.btn-small", { href: tableUrl(name, params, "json", true), download: `${name}.json`, id: `${name}-json` }, "JSON"), " ",
      // a workbook is the whole filtered view (every page), typed cells
      h("a.btn.btn-small", {
        href: tableUrl(name, params, "xlsx", true), download: `${name}.xlsx`, id: `${name}-xlsx`,
        title: "Every row that matches the filters, as an Excel workbook",
      }, "Excel")));

  // ---- the table
  const sort = params.get("_sort");
  const sortDesc = params.get("_sort_desc");
  const head = h("tr", columns.map((c) => {
    const dir = sort === c.name ? "ascending" : sortDesc === c.name ? "descending" : null;
    const next = dir === "ascending" ? "descending" : "ascending";
    return h("th", { scope: "col", "aria-sort": dir || null, class: NUMERIC.has(c.type) ? "num" : null },
      h("button.sort", {
        type: "button",
        title: `Sort by ${c.name}, ${next}`,
        "aria-label": `${c.name} (${c.type}), sort ${next}`,
        onclick: () => {
          const p = new URLSearchParams(params);
          p.delete("_sort");
          p.delete("_sort_desc");
          p.delete("_next");
          p.set(next === "ascending" ? "_sort" : "_sort_desc", c.name);
          change(p);
        },
      }, c.name, h("span.sort-ind", { "aria-hidden": "true" }, dir === "ascending" ? " ▲" : dir === "descending" ? " ▼" : " ↕")));
  }));
  const rows = doc.rows || [];
  const body = h("tbody", rows.map((r) => h("tr", columns.map((c) => {
    const v = Array.isArray(r) ? r[columns.indexOf(c)] : r[c.name];
    return h("td", { class: [NUMERIC.has(c.type) ? "num" : "", v === null ? "null" : ""].filter(Boolean).join(" ") || null },
      v === null ? [h("span.null-mark", { "aria-hidden": "true" }, "∅"), h("span.visually-hidden", "empty")] : fmtCell(v, c.type));
  }))));
  const grid = h("div.scroll.table-scroll", { tabindex: "0", role: "region", "aria-label": `Rows of ${name}` },
    h("table.data.compact.rows", { id: `${name}-rows` }, h("caption.visually-hidden", `${name}: ${status}`), h("thead", head), body));

  root.append(h("div.table-tools", addForm, chips.children.length ? chips : null), pager,
    rows.length ? grid : emptyState(anyFilter ? "No rows match these filters." : "This table is empty.", anyFilter ? "Remove a filter to see more rows." : null),
  );
}
