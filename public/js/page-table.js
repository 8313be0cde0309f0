// page-table.js - one table in the table browser; its state (sort,
// filters, page size, page) is the hash's query string, so a view can be
// bookmarked and the browser's back button works.
import { get } from "./api.js";
import { h, append, emptyState } from "./dom.js";
import { tableView, tableUrl } from "./table-view.js";
import { TABLE_INFO } from "./page-data.js";
import { navigate } from "./app.js";

// Which page each keyset token opens, per table (see table-view.js).
let pages = { name: null, map: new Map() };

export async function render(view, ctx) {
  const name = ctx.params[0];
  ctx.setTitle(name);
  if (pages.name !== name) pages = { name, map: new Map() };
  let total;
  let known = true;
  try {
    const list = await get("/tables", { signal: ctx.signal });
    const t = (list.tables || []).find((x) => x.name === name);
    known = !!t;
    total = t ? t.rows : undefined;
  } catch (e) {
    if (e.name === "AbortError" || e.status === 401) throw e;
  }
  if (!known) {
    view.append(h("p.crumbs", h("a", { href: "#/data" }, "Data"), " › ", name), h("h1", h("code", name)),
      emptyState("This table does not exist yet.", "Tables are built by a run. Upload your files and start a run first.",
        h("a.btn", { href: "#/data" }, "See the tables"), " ", h("a.btn.btn-primary", { href: "#/runs" }, "Go to runs")));
    return;
  }
  const root = h("div.table-view", { id: "table-view" });
  append(view, [h("p.crumbs", h("a", { href: "#/data" }, "Data"), " › ", name),
    h("h1", h("code", name)),
    TABLE_INFO[name] ? h("p.lead", TABLE_INFO[name]) : null,
    h("p.small.muted.api-link", "The same rows from the API: ", h("a", { href: tableUrl(name, ctx.query, "json") }, tableUrl(name, ctx.query, "json"))),
    root]);
  await tableView(root, {
    name,
    params: ctx.query,
    signal: ctx.signal,
    total,
    pages: pages.map,
    onChange: (p) => {
      const q = p.toString();
      navigate(`#/data/${name}${q ? "?" + q : ""}`);
    },
  });
}
