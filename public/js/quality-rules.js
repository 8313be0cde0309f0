// quality-rules.js - the quality rules of core/quality.c in plain words:
// what each one checks, what a failure means, and where the failing rows
// are in the data browser.  Shared by the run page and the quality
// dashboard.
import { h, fmtInt, fmtPct, humanize } from "./dom.js";

// rule -> [what it checks, what a failure means, link to the failing rows]
const RULES = {
  customer_name_present: ["Every customer has a name.", "customers have no first, last or full name", "dim_customer?is_current__exact=1&full_name__isnull=1"],
  customer_country_present: ["Every customer has a country.", "customers have no country", "dim_customer?is_current__exact=1&country__isnull=1"],
  customer_birth_date_present: ["Every customer has a birth date.", "customers have no birth date (or one that could not be read)", "dim_customer?is_current__exact=1&birth_date__isnull=1"],
  product_category_present: ["Every product has a category.", "product versions have no category", "dim_product?category__isnull=1"],
  values_cleaned: ["Every source value could be cleaned.", "values could not be cleaned (a date, number or code Concord could not read)", "clean_issues"],
  dates_valid: ["Every date in the files is a real, readable date.", "dates could not be read or do not exist (like 2023-02-30)", "clean_issues?issue__startswith=date_"],
  unit_price_positive: ["Every order line has a price above zero.", "order lines have no price, or a price of zero or less", "fact_sales?unit_price__lte=0"],
  order_line_unique: ["No order line is loaded twice.", "order lines share an order number and line number", "fact_sales"],
  customer_one_record: ["Each customer comes from one source record.", "customers were built from several records (duplicates merged): check that they are the same person", "dim_customer?is_current__exact=1"],
  sales_customer_resolved: ["Every order line names a known customer.", "order lines name a customer no customer file has, or none at all: they are in the quarantine", "quarantine?reason__in=customer_unresolved,customer_missing"],
  sales_product_resolved: ["Every order line names a known product.", "order lines name a product no product file has, or none at all: they are in the quarantine", "quarantine?reason__in=product_unresolved,product_missing"],
  sales_product_version: ["Every order line finds the product's version valid on its date.", "order lines have no product version for their date", "fact_sales?product_sk__isnull=1"],
  sales_within_product_version: ["Orders fall within their product version's validity.", "order lines are dated before their product version started", "fact_sales"],
  product_category_resolved: ["Every product's category exists in the category file.", "products name a category no category file has", "dim_product?category_sk__isnull=1"],
  ship_after_order: ["Goods ship on or after the order date.", "order lines ship before they were ordered", "fact_sales"],
  due_after_order: ["Payment is due on or after the order date.", "order lines are due before they were ordered", "fact_sales"],
  amount_is_quantity_times_price: ["Each line's amount is quantity × unit price.", "order lines have an amount that is not quantity × unit price", "fact_sales?amount_consistent__exact=0"],
  effective_end_after_start: ["A product version ends after it starts.", "product versions end before they start", "stg_product"],
};

/** The rule's status: passed, failed or not_applicable (0 rows checked). */
export function ruleStatus(r) {
  if (r.status) return r.status;
  const n = (r.passed || 0) + (r.failed || 0);
  return n === 0 ? "not_applicable" : r.failed > 0 ? "failed" : "passed";
}

/** The status as a badge: never "all passed" over zero rows. */
export function ruleBadge(r) {
  const st = ruleStatus(r);
  if (st === "not_applicable") return h("span.badge.badge-not-applicable", { "data-status": st, title: "Nothing to check: no rows" }, "not applicable (0 of 0)");
  if (st === "failed") return h("span.badge.badge-failed", { "data-status": st }, `${fmtInt(r.failed)} failed`);
  return h("span.badge.badge-done", { "data-status": st }, `all ${fmtInt(r.passed)} passed`);
}

/** What a rule checks, in plain words. */
export function ruleWhat(rule) {
  return (RULES[rule] || [`Checks ${humanize(rule).toLowerCase()}.`])[0];
}

/** A failing rule explained: "12 of 1,000 order lines …", with the link. */
export function ruleExplanation(r, runId) {
  const st = ruleStatus(r);
  const info = RULES[r.rule];
  if (st === "not_applicable") return h("p.small.muted.rule-why", "Not applicable: there was nothing to check (0 rows), so this rule neither passed nor failed.");
  if (st !== "failed") return null;
  const total = (r.passed || 0) + (r.failed || 0);
  const what = info ? info[1] : `rows fail ${humanize(r.rule).toLowerCase()}`;
  // dates_valid counts only the dates that failed (it has no passing
  // count): "35 dates", not "35 of 35 (100%)".
  const countOnly = !r.passed && r.rule === "dates_valid";
  let href = info ? `#/data/${info[2]}` : null;
  if (href && href.startsWith("#/data/quarantine") && runId) href += `&run_id__exact=${encodeURIComponent(runId)}`;
  return h("p.rule-why", { "data-rule": r.rule },
    countOnly ? `${fmtInt(r.failed)}: ${what}. ` : `${fmtInt(r.failed)} of ${fmtInt(total)} (${fmtPct(total ? r.failed / total : 0)}): ${what}. `,
    href ? h("a", { href }, "See the rows") : null);
}
