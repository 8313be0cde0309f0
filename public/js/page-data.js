// page-data.js - the reconciled tables of the workspace (GET /tables):
// what each holds, its rows and columns; each opens in the table browser.
import { get } from "./api.js";
import { h, fmtInt, emptyState, scroller } from "./dom.js";

export const TABLE_INFO = {
  fact_sales: "One row per order line: the reconciled sales, pointing at the customer and product versions valid on the order date.",
  dim_customer: "Reconciled customers: one golden record per person or company (a new version when their details change).",
  dim_product: "Reconciled products, with their price and category history.",
  dim_product_category: "Product categories and subcategories.",
  dim_location: "Locations: countries, regions, cities.",
  dim_date: "The calendar: one row per day, with year, quarter, month and weekday.",
  quarantine: "Source records a run could not load, with the reason.",
  clean_issues: "Values a run could not clean (a date that is not a date…), with the file and row.",
  clean_changes: "What cleaning changed, counted per file, column and rule.",
  key_rules: "How one system's keys were matched to another's (prefixes, padding…).",
  stg_customer: "Customers as read from each file, after cleaning (staging).",
  stg_product: "Products as read from each file, after cleaning (staging).",
  stg_product_category: "Categories as read from each file, after cleaning (staging).",
  stg_order_line: "Order lines as read from each file, after cleaning (staging).",
  stg_location: "Locations as read from each file, after cleaning (staging).",
};

const GROUPS = [
  ["Reconciled data", (n) => n.startsWith("fact_") || n.startsWith("dim_")],
  ["Data quality", (n) => ["quarantine", "clean_issues", "clean_changes", "key_rules"].includes(n)],
  ["Staging (each file, cleaned)", (n) => n.startsWith("stg_")],
];

export async function render(view, ctx) {
  ctx.setTitle("Data");
  const doc = await get("/tables", { signal: ctx.signal });
  const tables = doc.tables || [];
  view.append(h("h1", "Data"),
    h("p.lead", "Every table a run built. Open one to sort, filter and page through it, and export exactly what you see as CSV or JSON."));
  if (!tables.length) {
    view.append(emptyState("No tables yet.", "Tables are built by the first run: upload your files, check their mappings and start a run.",
      h("a.btn.btn-primary", { href: "#/runs" }, "Go to runs")));
    return;
  }
  const placed = new Set();
  for (const [title, test] of [...GROUPS, ["Other tables", () => true]]) {
    const list = tables.filter((t) => !placed.has(t.name) && test(t.name));
    if (!list.length) continue;
    list.forEach((t) => placed.add(t.name));
    view.append(h("h2", title), scroller(h("table.data",
      h("thead", h("tr", h("th", { scope: "col" }, "Table"), h("th", { scope: "col" }, "What it holds"), h("th.num", { scope: "col" }, "Rows"), h("th.num", { scope: "col" }, "Columns"))),
      h("tbody", list.map((t) => h("tr", { "data-table": t.name },
        h("td", h("a", { href: `#/data/${t.name}` }, h("code", t.name))),
        h("td", TABLE_INFO[t.name] || ""),
        h("td.num", fmtInt(t.rows)),
        h("td.num", fmtInt((t.columns || []).length)))))), title));
  }
}
