// page-dashboards.js - the dashboards (GET /dashboards/{name}): sales with
// filters (from, to, country, category) kept in the URL hash so a view can
// be bookmarked; customers; products; data quality across runs; sources.
import { get } from "./api.js";
import { h, clear, fmtInt, fmtMoney, fmtPct, fmtTime, emptyState, errorBox, humanize, table, scroller, announce, skeleton } from "./dom.js";
import { ruleStatus, ruleBadge, ruleWhat, ruleExplanation } from "./quality-rules.js";
import { chart, PASS, FAIL, COLORS } from "./charts.js";
import { navigate } from "./app.js";
import { shortId, qs } from "./util.js";

export const BOARDS = [
  ["sales", "Sales"],
  ["customers", "Customers"],
  ["products", "Products"],
  ["quality", "Data quality"],
  ["sources", "Sources"],
];
const FILTERS = ["from", "to", "country", "category"];

let regionNames = null;
try { regionNames = new Intl.DisplayNames(["en"], { type: "region" }); } catch { /* old browser */ }
export function countryName(code) {
  if (!code) return "Unknown country";
  try { return `${regionNames ? regionNames.of(code) : code} (${code})`; } catch { return code; }
}
const NONE = (what) => `No ${what}`;

// The sales filters last used, so that the Sales tab brings them back.
let lastSalesQuery = "";
// Country and category choices of the unfiltered sales dashboard, per run.
let choices = { run: undefined, countries: [], categories: [] };

export async function render(view, ctx) {
  const name = ctx.params[0] || "sales";
  if (!BOARDS.some(([n]) => n === name)) {
    navigate("#/dashboards/sales", { replace: true });
    return;
  }
  const title = BOARDS.find(([n]) => n === name)[1];
  ctx.setTitle(`${title} dashboard`);
  if (name === "sales") lastSalesQuery = qs(Object.fromEntries(FILTERS.map((f) => [f, ctx.query.get(f)])));
  const tabs = h("nav.tabs", { "aria-label": "Dashboards" }, h("ul", BOARDS.map(([n, t]) =>
    h("li", h("a", { href: `#/dashboards/${n}${n === "sales" ? lastSalesQuery : ""}`, "aria-current": n === name ? "page" : null, id: `tab-${n}` }, t))),
    h("li", h("a", { href: "#/dashboards/matching", id: "tab-matching" }, "Matching")))); // page-matching.js
  view.append(h("h1", `${title} dashboard`), tabs);
  const body = h("div.dash", { id: `dash-${name}` });
  view.append(body);

  const filters = {};
  for (const f of FILTERS) if (name === "sales" && ctx.query.get(f)) filters[f] = ctx.query.get(f);
  let doc;
  // A skeleton in the dashboard's shape while it loads: never a blank page.
  const wait = skeleton({ tiles: name === "quality" ? 4 : name === "sources" ? 6 : 5, blocks: 2, text: `Loading the ${title.toLowerCase()} dashboard…` });
  body.append(wait);
  try {
    doc = await get(`/dashboards/${name}${qs(filters)}`, { signal: ctx.signal });
  } catch (err) {
    wait.remove();
    if (err.name === "AbortError" || err.status === 401) throw err;
    if (name === "sales" && err.status === 400) {
      body.append(filterForm(filters, null), errorBox(err, "These filters cannot be applied", plainFilterError(err)));
      return;
    }
    body.append(errorBox(err, "The dashboard could not be loaded"));
    return;
  }
  wait.remove();
  if (!doc.run_id && name !== "sources" && name !== "quality") {
    body.append(emptyState("Nothing to show yet.", "Dashboards are built from the reconciled data: upload your files, check their mappings and run the reconciliation.",
      h("a.btn.btn-primary", { href: "#/runs" }, "Go to runs")));
    return;
  }
  body.append(h("p.small.muted.asof", doc.run_id ? ["From run ", h("a", { href: `#/runs/${doc.run_id}` }, h("code", shortId(doc.run_id))), ` · figures as of ${fmtTime(doc.generated_at)}`] : `As of ${fmtTime(doc.generated_at)}`));
  const build = { sales, customers, products, quality, sources }[name];
  await build(body, doc, ctx, filters);
}

function plainFilterError(err) {
  const e = err.errors[0] || {};
  if (e.code === "filter_range") return "The “from” date is after the “to” date. Change one of them.";
  if (e.code === "filter_date") return "A date is not valid. Use the date picker or the form YYYY-MM-DD.";
  return err.plain;
}

/** A note on the currency of the amounts: one currency, several, or none
 * written in the files. */
function currencyNote(doc) {
  const cs = doc.currencies || [];
  if (doc.currency) return h("p.small.muted", { id: "currency-note" }, `Amounts in ${doc.currency}, the currency written in the files.`);
  if (cs.length > 1) return h("p.small.warn-text", { id: "currency-note" }, `The files mix currencies (${cs.join(", ")}): amounts are added as written, not converted.`);
  return h("p.small.muted", { id: "currency-note" }, "The files name no currency: amounts are shown as written.");
}

/**
 * Months from the first to the last with data, none skipped silently: a
 * short run of empty months (up to LONG_GAP) is drawn month by month as
 * empty bars; a longer one as one empty bar that names it
 * ("2014-02 – 2025-01"), so that the axis never jumps from 2014 to 2025
 * unsaid.  gaps: [{from, to, months}].  Entries without a month stay
 * last.
 */
const LONG_GAP = 3;
export function fillMonths(months, empty = { revenue: "0", orders: 0 }) {
  const dated = months.filter((m) => m.month).sort((a, b) => (a.month < b.month ? -1 : a.month > b.month ? 1 : 0));
  const undated = months.filter((m) => !m.month);
  const index = (k) => { const [y, mo] = k.split("-").map(Number); return y * 12 + mo - 1; };
  const key = (i) => `${Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, "0")}`;
  const out = [];
  const gaps = [];
  dated.forEach((m, n) => {
    if (n > 0) {
      const a = index(dated[n - 1].month) + 1;
      const b = index(m.month) - 1;
      if (b >= a) {
        gaps.push({ from: key(a), to: key(b), months: b - a + 1 });
        if (b - a + 1 <= LONG_GAP) for (let i = a; i <= b; i++) out.push({ month: key(i), ...empty, gap: true, label: key(i) });
        else out.push({ month: key(a), ...empty, gap: true, label: `${key(a)} – ${key(b)}` });
      }
    }
    out.push(m);
  });
  return { months: [...out, ...undated], gaps };
}

/** The sentence that names the empty months ("2014-02 – 2025-01"). */
function gapText(gaps, what) {
  const n = gaps.reduce((a, g) => a + g.months, 0);
  const spans = gaps.map((g) => (g.months === 1 ? g.from : `${g.from} – ${g.to}`));
  return `${fmtInt(n)} ${n === 1 ? "month has" : "months have"} no ${what}, drawn as empty bars: ${spans.length <= 6 ? spans.join(", ") : `${spans.slice(0, 6).join(", ")}…`}.`;
}

function tiles(list) {
  return h("dl.tiles", list.map(([key, label, value, shown, hint]) =>
    h("div.tile", { "data-tile": key, "data-value": value === null || value === undefined ? "" : String(value) },
      h("dt", label), h("dd", shown), hint ? h("p.tile-hint", hint) : null)));
}

function panel(title, ...content) {
  return h("section.panel", { "aria-label": title }, h("h2", title), content);
}

// ------------------------------------------------------------------ sales
function filterForm(filters, sel) {
  const from = h("input", { type: "date", id: "f-from", name: "from", value: filters.from || "" });
  const to = h("input", { type: "date", id: "f-to", name: "to", value: filters.to || "" });
  const country = h("select", { id: "f-country", name: "country" },
    h("option", { value: "" }, "All countries"),
    (sel ? sel.countries : []).map((c) => h("option", { value: c }, countryName(c))));
  const category = h("select", { id: "f-category", name: "category" },
    h("option", { value: "" }, "All categories"),
    (sel ? sel.categories : []).map((c) => h("option", { value: c }, c)));
  // A filter from the URL that is not among the choices still shows.
  if (filters.country && ![...country.options].some((o) => o.value === filters.country)) country.append(h("option", { value: filters.country }, countryName(filters.country)));
  if (filters.category && ![...category.options].some((o) => o.value === filters.category)) category.append(h("option", { value: filters.category }, filters.category));
  country.value = filters.country || "";
  category.value = filters.category || "";
  const apply = () => {
    const next = { from: from.value, to: to.value, country: country.value, category: category.value };
    announce("Updating the dashboard.");
    navigate(`#/dashboards/sales${qs(next)}`);
  };
  const form = h("form.filters", { id: "sales-filters", "aria-label": "Filters" },
    h("div.field", h("label", { for: "f-from" }, "From"), from),
    h("div.field", h("label", { for: "f-to" }, "To"), to),
    h("div.field", h("label", { for: "f-country" }, "Country"), country),
    h("div.field", h("label", { for: "f-category" }, "Category"), category),
    h("div.field.field-buttons",
      h("button.btn.btn-primary", { type: "submit" }, "Apply"),
      Object.keys(filters).length ? h("a.btn", { href: "#/dashboards/sales", id: "f-clear" }, "Clear filters") : null));
  form.addEventListener("submit", (e) => { e.preventDefault(); apply(); });
  country.addEventListener("change", apply);
  category.addEventListener("change", apply);
  return form;
}

async function sales(body, doc, ctx, filters) {
  const t = doc.tiles || {};
  const s = doc.series || {};
  if (choices.run !== doc.run_id) {
    const all = Object.keys(filters).length ? await get("/dashboards/sales", { signal: ctx.signal }) : doc;
    choices = {
      run: doc.run_id,
      countries: ((all.series || {}).by_country || []).map((r) => r.country).filter(Boolean).sort(),
      categories: ((all.series || {}).by_category || []).map((r) => r.category).filter(Boolean).sort(),
    };
  }
  body.append(filterForm(filters, choices));
  const active = Object.entries(filters).map(([k, v]) => `${k} ${k === "country" ? countryName(v) : v}`);
  body.append(h("p.small", { role: "status", id: "filter-status" }, active.length ? `Filtered by ${active.join(", ")}.` : "All sales, no filter."));
  const cur = doc.currency || null;
  body.append(tiles([
    ["gross_sales", cur ? `Gross sales (${cur})` : "Gross sales", t.gross_sales, fmtMoney(t.gross_sales), "lines that are not returns"],
    ["returns", cur ? `Returns (${cur})` : "Returns", t.returns, fmtMoney(t.returns),
      t.return_lines ? `${fmtInt(t.return_lines)} return or cancellation lines` : "no return lines"],
    ["revenue", cur ? `Net sales (${cur})` : "Net sales", t.revenue, fmtMoney(t.revenue), "gross sales − returns"],
    ["orders", "Orders", t.orders, fmtInt(t.orders),
      t.return_orders ? `with a sale line; ${fmtInt(t.return_orders)} return-only invoices apart` : "with a sale line"],
    ["average_order_value", cur ? `Average order value (${cur})` : "Average order value", t.average_order_value, fmtMoney(t.average_order_value)],
    ["customers", "Customers", t.customers, fmtInt(t.customers), "who ordered"],
    ["order_lines", "Order lines", t.order_lines, fmtInt(t.order_lines)],
  ]));
  body.append(currencyNote(doc));
  if (!t.orders) {
    body.append(Object.keys(filters).length
      ? emptyState("No sales match these filters.", "Widen the date range or choose another country or category.")
      : emptyState("No order lines were loaded.", "The last run loaded no sales: its page says why (for example order lines quarantined because no customer or product file names them).",
        h("a.btn.btn-primary", { href: `#/runs/${doc.run_id}` }, "See the run")));
    return;
  }
  const { months, gaps } = fillMonths(s.by_month || []);
  const grid = h("div.panels");
  grid.append(h("section.panel.panel-wide", { "aria-label": "Revenue by month" }, h("h2", cur ? `Revenue by month (${cur})` : "Revenue by month"),
    gaps.length ? h("p.small.warn-text", { id: "month-gaps" }, gapText(gaps, "sales")) : null,
    chart({
      type: "bar", title: "Revenue by month", money: true, height: 280,
      labels: months.map((m) => m.month ? (m.gap ? `${m.label} (no sales)` : m.month) : "no date"), labelHeader: "Month",
      datasets: [
        { label: "Revenue", data: months.map((m) => m.revenue), money: true, order: 2 },
        { label: "Orders", data: months.map((m) => m.orders), type: "line", axis: "y2", color: COLORS[1], order: 1 },
      ],
      secondAxis: "Orders",
    }, ctx.track).el));
  const byCountry = s.by_country || [];
  grid.append(panel(cur ? `Revenue by country (${cur})` : "Revenue by country",
    chart({
      type: "bar", horizontal: true, money: true, title: "Revenue by country",
      labels: byCountry.map((r) => r.country ? countryName(r.country) : NONE("country")), labelHeader: "Country",
      datasets: [{ label: "Revenue", data: byCountry.map((r) => r.revenue), money: true }],
      height: 50 + byCountry.length * 28,
      onClick: (i) => byCountry[i].country && navigate(`#/dashboards/sales${qs({ ...filters, country: byCountry[i].country })}`),
    }, ctx.track).el,
    h("p.small.muted", "Select a bar to filter by that country.")));
  const byCat = s.by_category || [];
  grid.append(panel(cur ? `Revenue by category (${cur})` : "Revenue by category",
    chart({
      type: "bar", horizontal: true, money: true, title: "Revenue by category",
      labels: byCat.map((r) => r.category || NONE("category")), labelHeader: "Category",
      datasets: [{ label: "Revenue", data: byCat.map((r) => r.revenue), money: true, color: COLORS[2] }],
      height: 50 + byCat.length * 28,
      onClick: (i) => byCat[i].category && navigate(`#/dashboards/sales${qs({ ...filters, category: byCat[i].category })}`),
    }, ctx.track).el,
    h("p.small.muted", "Select a bar to filter by that category.")));
  grid.append(panel("Top products", scroller(table([
    { label: "Product", value: (r) => r.name || `#${r.canonical_id}` },
    { label: "Quantity", numeric: true, value: (r) => fmtInt(r.quantity) },
    { label: cur ? `Revenue (${cur})` : "Revenue", numeric: true, value: (r) => fmtMoney(r.revenue) },
  ], s.top_products || [], { className: "compact" }), "Top products")));
  grid.append(panel("Top customers", scroller(table([
    { label: "Customer", value: (r) => r.name || `#${r.canonical_id}` },
    { label: "Orders", numeric: true, value: (r) => fmtInt(r.orders) },
    { label: cur ? `Revenue (${cur})` : "Revenue", numeric: true, value: (r) => fmtMoney(r.revenue) },
  ], s.top_customers || [], { className: "compact" }), "Top customers")));
  body.append(grid);
}

// -------------------------------------------------------------- customers
async function customers(body, doc, ctx) {
  const t = doc.tiles || {};
  const s = doc.series || {};
  body.append(tiles([
    ["customers", "Customers", t.customers, fmtInt(t.customers), "golden records"],
    ["source_records", "Source records", t.source_records, fmtInt(t.source_records), "read from the files"],
    ["duplicates_resolved", "Merged customers", t.duplicates_resolved, fmtInt(t.duplicates_resolved), "built from several records"],
    ["duplicate_records", "Duplicates merged away", t.duplicate_records, fmtInt(t.duplicate_records)],
    ["with_history", "With history", t.with_history, fmtInt(t.with_history), "details changed over time"],
  ]));
  const grid = h("div.panels");
  const { months: m, gaps } = fillMonths(s.new_by_month || [], { customers: 0 });
  grid.append(h("section.panel.panel-wide", { "aria-label": "New customers by month" }, h("h2", "New customers by month"),
    gaps.length ? h("p.small.muted", gapText(gaps, "new customers")) : null,
    m.length ? chart({ type: "bar", title: "New customers by month", labels: m.map((r) => r.month ? (r.gap ? `${r.label} (none)` : r.month) : "no date"), labelHeader: "Month", datasets: [{ label: "Customers", data: m.map((r) => r.customers) }], height: 240 }, ctx.track).el
      : h("p.muted", "No creation dates in the data.")));
  const bc = s.by_country || [];
  grid.append(panel("Customers by country", chart({
    type: "bar", horizontal: true, title: "Customers by country",
    labels: bc.map((r) => (r.country ? countryName(r.country) : NONE("country"))), labelHeader: "Country",
    datasets: [{ label: "Customers", data: bc.map((r) => r.customers) }], height: 50 + bc.length * 28,
  }, ctx.track).el));
  const bg = s.by_gender || [];
  grid.append(panel("Customers by gender", chart({
    type: "doughnut", title: "Customers by gender",
    labels: bg.map((r) => ({ M: "Male", F: "Female" }[r.gender] || r.gender || "Not known")), labelHeader: "Gender",
    datasets: [{ label: "Customers", data: bg.map((r) => r.customers) }], height: 220,
  }, ctx.track).el));
  // RFM segments (customer_segment): sizes and revenue, in the map's order
  const rfm = s.segments || [];
  if (rfm.length) {
    grid.append(h("section.panel.panel-wide", { "aria-label": "Customer segments (RFM)", id: "rfm-segments" },
      h("h2", "Customer segments (RFM)"),
      h("p.small.muted", `Recency, frequency and monetary scores (quintiles, 1-5) as of the last order date; ${fmtInt(t.segmented_customers)} customers scored` +
        (t.unsegmented_customers ? `, ${fmtInt(t.unsegmented_customers)} without an order (only returns) not scored.` : ".")),
      h("div.panels",
        panel("Customers by RFM segment", chart({
          type: "bar", horizontal: true, title: "Customers by RFM segment",
          labels: rfm.map((r) => r.segment), labelHeader: "Segment", table: false,
          datasets: [{ label: "Customers", data: rfm.map((r) => r.customers), color: COLORS[0] }], height: 50 + rfm.length * 26,
        }, ctx.track).el),
        panel("Revenue by RFM segment", chart({
          type: "bar", horizontal: true, money: true, title: "Revenue by RFM segment",
          labels: rfm.map((r) => r.segment), labelHeader: "Segment", table: false,
          datasets: [{ label: "Revenue", data: rfm.map((r) => r.revenue), money: true, color: COLORS[2] }], height: 50 + rfm.length * 26,
        }, ctx.track).el)),
      scroller(table([
        { label: "Segment", value: (r) => r.segment },
        { label: "Customers", numeric: true, value: (r) => fmtInt(r.customers) },
        { label: "Share of customers", numeric: true, value: (r) => fmtPct(r.customers_share) },
        { label: "Revenue", numeric: true, value: (r) => fmtMoney(r.revenue) },
        { label: "Share of revenue", numeric: true, value: (r) => fmtPct(r.revenue_share) },
      ], rfm, { className: "compact", caption: "Customer segments (RFM)" }), "Customer segments"),
      h("p.small", h("a", { href: "#/data/customer_segment" }, "Every customer's scores and segment"))));
  }
  const seg = (s.by_segment || []).filter((r) => r.segment !== null);
  if (seg.length) {
    grid.append(panel("Customers by segment (source attribute)", chart({
      type: "bar", horizontal: true, title: "Customers by segment (source attribute)",
      labels: seg.map((r) => r.segment), labelHeader: "Segment",
      datasets: [{ label: "Customers", data: seg.map((r) => r.customers), color: COLORS[3] }], height: 50 + seg.length * 28,
    }, ctx.track).el));
  }
  body.append(grid);
}

// --------------------------------------------------------------- products
async function products(body, doc, ctx) {
  const t = doc.tiles || {};
  const s = doc.series || {};
  body.append(tiles([
    ["products", "Products", t.products, fmtInt(t.products)],
    ["versions", "Versions", t.versions, fmtInt(t.versions), "price or details over time"],
    ["with_history", "With history", t.with_history, fmtInt(t.with_history)],
    ["categories", "Categories", t.categories, fmtInt(t.categories)],
    ["price_unknown", "Without a list price", t.price_unknown, fmtInt(t.price_unknown)],
  ]));
  const grid = h("div.panels");
  const bc = s.by_category || [];
  grid.append(panel("Products by category", chart({
    type: "bar", horizontal: true, title: "Products by category",
    labels: bc.map((r) => r.category || NONE("category")), labelHeader: "Category",
    datasets: [{ label: "Products", data: bc.map((r) => r.products), color: COLORS[2] }], height: 50 + bc.length * 28,
  }, ctx.track).el));
  const pb = s.price_bands || [];
  grid.append(panel("Products by list price", chart({
    type: "bar", title: "Products by list price",
    labels: pb.map((b) => (b.min === null ? `under ${fmtMoney(b.max)}` : b.max === null ? `${fmtMoney(b.min)} and above` : `${fmtMoney(b.min)}–${fmtMoney(b.max)}`)), labelHeader: "Price",
    datasets: [{ label: "Products", data: pb.map((b) => b.products), color: COLORS[5] }], height: 240,
  }, ctx.track).el));
  grid.append(h("section.panel.panel-wide", { "aria-label": "Best sellers" }, h("h2", "Best sellers by quantity"), scroller(table([
    { label: "Product", value: (r) => r.name || `#${r.canonical_id}` },
    { label: "Quantity", numeric: true, value: (r) => fmtInt(r.quantity) },
    { label: "Orders", numeric: true, value: (r) => fmtInt(r.orders) },
    { label: "Revenue", numeric: true, value: (r) => fmtMoney(r.revenue) },
  ], s.top_sellers || [], { className: "compact" }), "Best sellers")));
  body.append(grid);
}

// ---------------------------------------------------------------- quality
async function quality(body, doc, ctx) {
  const runs = (doc.runs || []).filter((r) => r.quality && r.quality.rules);
  if (!runs.length) {
    body.append(emptyState("No quality results yet.", "Each run checks the reconciled data against quality rules. Start a run to see them here.", h("a.btn.btn-primary", { href: "#/runs" }, "Go to runs")));
    return;
  }
  const last = runs[0].quality;
  body.append(tiles([
    ["rules", "Rules checked", last.rules, fmtInt(last.rules), "in the latest run"],
    ["rules_passed", "Rules passed", last.rules_passed, fmtInt(last.rules_passed), last.rules_not_applicable ? `${fmtInt(last.rules_not_applicable)} not applicable (nothing to check)` : null],
    ["rules_failed", "Rules with failures", last.rules_failed, fmtInt(last.rules_failed)],
    ["pass_rate", "Checks passed", last.passed, last.passed + last.failed ? fmtPct(last.passed / (last.passed + last.failed)) : "—",
      last.passed + last.failed ? `${fmtInt(last.failed)} failed` : "nothing to check"],
  ]));
  const grid = h("div.panels");
  const chrono = [...runs].reverse();
  grid.append(h("section.panel.panel-wide", { "aria-label": "Quality across runs" }, h("h2", "Quality across runs"),
    chart({
      type: "bar", stacked: true, title: "Rules with and without failures, per run",
      labels: chrono.map((r) => `${shortId(r.id)} · ${fmtTime(r.finished_at || r.created_at)}`), labelHeader: "Run",
      datasets: [
        { label: "Rules without failures", data: chrono.map((r) => r.quality.rules_passed), color: PASS },
        { label: "Rules with failures", data: chrono.map((r) => r.quality.rules_failed), color: FAIL },
      ], height: 240,
    }, ctx.track).el));
  const dims = last.by_dimension || [];
  grid.append(panel("Latest run by dimension", chart({
    type: "bar", horizontal: true, stacked: true, percent: true, title: "Share of checks passed by dimension",
    labels: dims.map((d) => humanize(d.dimension)), labelHeader: "Dimension",
    datasets: [
      { label: "Passed", data: dims.map((d) => share(d.passed, d)), color: PASS, format: (v) => `${Number(v).toFixed(2)}%` },
      { label: "Failed", data: dims.map((d) => share(d.failed, d)), color: FAIL, format: (v) => `${Number(v).toFixed(2)}%` },
    ], height: 60 + dims.length * 32,
  }, ctx.track).el));
  const rules = ((doc.latest || {}).rules || []).slice().sort((a, b) => (a.pass_rate ?? 2) - (b.pass_rate ?? 2));
  grid.append(panel("Rules of the latest run", scroller(table([
    { label: "Rule", value: (r) => humanize(r.rule) },
    { label: "Dimension", value: (r) => r.dimension },
    { label: "Result", value: (r) => ruleBadge(r) },
    { label: "Failed", numeric: true, value: (r) => ruleStatus(r) === "not_applicable" ? "—" : fmtInt(r.failed) },
    { label: "Pass rate", numeric: true, value: (r) => ruleStatus(r) === "not_applicable" ? "0 of 0" : fmtPct(r.pass_rate) },
  ], rules, { className: "compact" }), "Rules of the latest run"),
  h("p.small", h("a", { href: `#/runs/${runs[0].id}` }, "See the example rows in the run's quality report"))));
  body.append(grid);
  // The failing rules explained: what failed, in plain words, and where
  // the failing rows are.
  const failing = rules.filter((r) => ruleStatus(r) === "failed");
  const latestId = (doc.latest || {}).run_id || runs[0].id;
  body.append(h("section.section", { "aria-labelledby": "failing-h", id: "failing-rules" },
    h("h2#failing-h", failing.length ? `What failed in the latest run (${fmtInt(failing.length)} ${failing.length === 1 ? "rule" : "rules"})` : "What failed in the latest run"),
    failing.length ? h("ul.failing-rules", failing.map((r) => h("li", { "data-rule": r.rule },
      h("strong", ruleWhat(r.rule)), " ", ruleExplanation(r, latestId))))
      : h("p", "No rule found a failing row.")));
}

function share(n, d) {
  const t = (d.passed || 0) + (d.failed || 0);
  return t ? (100 * n) / t : 0;
}

// ---------------------------------------------------------------- sources
async function sources(body, doc, ctx) {
  const t = doc.tiles || {};
  const files = doc.files || [];
  if (!files.length) {
    body.append(emptyState("No source files yet.", "Upload the exports of your systems to see how each one feeds the reconciled data.", h("a.btn.btn-primary", { href: "#/files" }, "Upload files")));
    return;
  }
  body.append(tiles([
    ["files", "Files", t.files, fmtInt(t.files)],
    ["rows", "Rows", t.rows, fmtInt(t.rows), "data rows in the files"],
    ["facts_loaded", "Order lines loaded", t.facts_loaded, fmtInt(t.facts_loaded)],
    ["quarantined", "Quarantined", t.quarantined, fmtInt(t.quarantined)],
    ["clean_issues", "Values not cleaned", t.clean_issues, fmtInt(t.clean_issues)],
    ["lost", "Unaccounted", t.lost, fmtInt(t.lost), t.lost ? "should be 0: tell your administrator" : "every row is accounted for"],
  ]));
  const grid = h("div.panels");
  // One set of words for the tiles, the chart, the table and the note:
  // rows (of the file), staged (records per entity: a row feeding two
  // entities is staged twice), quarantined (rows set aside with a reason),
  // unaccounted (rows neither staged nor quarantined).  Each file's rows
  // split into loaded, quarantined and unaccounted, which add up to rows.
  const quarRows = (f) => (f.quarantined && f.quarantined.rows) || 0;
  const lost = (f) => f.lost || 0;
  const loaded = (f) => Math.max(0, (f.rows || 0) - quarRows(f) - lost(f));
  const stagedText = (f) => (f.entities || []).filter((e) => e.staged).map((e) => `${humanize(e.entity)} ${fmtInt(e.staged)}`).join(" · ") || "—";
  grid.append(h("section.panel.panel-wide", { "aria-label": "Where each file's rows went" }, h("h2", "Where each file's rows went"),
    chart({
      type: "bar", horizontal: true, stacked: true, title: "Rows of each file: loaded, quarantined, unaccounted",
      labels: files.map((f) => f.name), labelHeader: "File",
      datasets: [
        { label: "Loaded", data: files.map(loaded), color: PASS },
        { label: "Quarantined", data: files.map(quarRows), color: COLORS[1] },
        { label: "Unaccounted", data: files.map(lost), color: FAIL },
      ], height: 60 + files.length * 30,
    }, ctx.track).el));
  grid.append(h("section.panel.panel-wide", { "aria-label": "Files" }, h("h2", "Files"), scroller(table([
    { label: "File", value: (f) => h("a", { href: `#/files/${f.id}` }, f.name) },
    { label: "Status", value: (f) => f.status },
    { label: "Rows", numeric: true, value: (f) => fmtInt(f.rows) },
    { label: "Staged (records per entity)", value: stagedText },
    { label: "Quarantined", numeric: true, value: (f) => fmtInt(quarRows(f)) },
    { label: "Values not cleaned", numeric: true, value: (f) => fmtInt(f.clean_issues) },
    { label: "Order lines", numeric: true, value: (f) => fmtInt(f.facts_loaded) },
    { label: "Unaccounted", numeric: true, value: (f) => (f.lost === null || f.lost === undefined ? "—" : fmtInt(f.lost)) },
  ], files, { className: "compact" }), "Files"),
  h("p.small.muted", { id: "sources-note" }, "Rows: the data rows of a file. Staged: the records written for each entity the file feeds (one row feeding two entities is staged twice). Quarantined: rows set aside with a reason (see the quarantine). Unaccounted: rows neither staged nor quarantined for an entity the file feeds; it should be 0. In the chart, loaded = rows − quarantined − unaccounted, so that the three add up to the file's rows.")));
  body.append(grid);
}
