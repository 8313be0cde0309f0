// page-data.js - the reconciled tables of the workspace (GET /tables):
// what each holds, its rows and columns; each opens in the table browser.
import { get, post } from "./api.js";
import { h, clear, fmtInt, emptyState, scroller, errorBox } from "./dom.js";

export const TABLE_INFO = {
  fact_sales: "One row per order line: the reconciled sales, pointing at the customer and product versions valid on the order date.",
  dim_customer: "Reconciled customers: one golden record per person or company (a new version when their details change).",
  dim_product: "Reconciled products, with their price and category history.",
  dim_product_category: "Product categories and subcategories.",
  dim_location: "Locations: countries, regions, cities.",
  dim_date: "The calendar: one row per day, with year, quarter, month and weekday.",
  customer_segment: "Every customer's RFM scores (recency, frequency, monetary: quintiles 1-5 as of the last order date) and segment (Champions, At Risk…).",
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
  ["Reconciled data", (n) => n.startsWith("fact_") || n.startsWith("dim_") || n === "customer_segment"],
  ["Data quality", (n) => ["quarantine", "clean_issues", "clean_changes", "key_rules"].includes(n)],
  ["Staging (each file, cleaned)", (n) => n.startsWith("stg_")],
];

export async function render(view, ctx) {
  ctx.setTitle("Data");
  const doc = await get("/tables", { signal: ctx.signal });
  const tables = doc.tables || [];
  view.append(h("h1", "Data"),
    h("p.lead", "Every table a run built. Open one to sort, filter and page through it, and export exactly what you see as CSV or JSON, or the whole filtered table as an Excel workbook."));
  if (!tables.length) {
    view.append(emptyState("No tables yet.", "Tables are built by the first run: upload your files, check their mappings and start a run.",
      h("a.btn.btn-primary", { href: "#/runs" }, "Go to runs")));
    return;
  }
  view.append(askBox());
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

/** Questions to the tables: in plain words (POST /ask, when a language
 * model is configured) or in SQL (POST /query, always); read-only. */
function askBox() {
  const out = h("div", { id: "ask-result", "aria-live": "polite" });
  const text = h("textarea#ask-text", { rows: "3", maxlength: "10000", "aria-label": "Question or SQL" });
  const mode = h("select#ask-mode", { "aria-label": "Ask in" },
    h("option", { value: "ask" }, "plain words"), h("option", { value: "sql" }, "SQL (SELECT)"));
  const btn = h("button.btn.btn-primary", { type: "submit", id: "ask-go" }, "Ask");
  const form = h("form#ask-form", h("label", { for: "ask-text" }, "Ask the data "), mode, h("br"), text, h("br"), btn);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clear(out);
    btn.disabled = true;
    try {
      const doc = mode.value === "sql" ? await post("/query", { sql: text.value }) : await post("/ask", { question: text.value });
      out.append(h("p.small", "SQL: ", h("code#ask-sql", doc.sql)),
        doc.explanation ? h("p.small.muted", doc.explanation) : "",
        h("p.small.muted", { id: "ask-chart" }, `Suggested chart: ${doc.chart.type}${doc.chart.x ? ` of ${doc.chart.y} by ${doc.chart.x}` : ""}`,
          doc.truncated ? ` · the first ${fmtInt(doc.count)} rows` : ""),
        scroller(h("table#ask-rows.data.compact",
          h("thead", h("tr", doc.columns.map((c) => h("th", { scope: "col" }, c.name)))),
          h("tbody", doc.rows.map((r) => h("tr", r.map((v) => h("td", v === null ? "" : String(v))))))), "Answer"));
    } catch (err) {
      if (err.status === 503 && mode.value === "ask") err.details = ["Choose SQL to ask without a language model."];
      out.append(errorBox(err, err.status === 400 ? "The question was refused" : "No answer"));
      if (err.body && err.body.sql) out.append(h("p.small", "SQL: ", h("code", err.body.sql)));
    } finally {
      btn.disabled = false;
    }
  });
  return h("section.section", { "aria-labelledby": "ask-h" }, h("h2#ask-h", "Ask"), form, out);
}
