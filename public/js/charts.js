// charts.js - charts with Chart.js (vendored: public/vendor/chart.umd.min.js,
// loaded by index.html before the app).  Every chart comes with the same
// figures as a table for screen readers and for copying.
import { h, fmtInt, fmtMoney } from "./dom.js";

export const COLORS = ["#0b57d0", "#e8710a", "#188038", "#a142f4", "#c5221f", "#12858a", "#795548", "#5f6368"];
export const PASS = "#188038";
export const FAIL = "#c5221f";

function lib() {
  const C = globalThis.Chart;
  if (!C) throw new Error("the chart library did not load (public/vendor/chart.umd.min.js)");
  if (!lib.done) {
    C.defaults.font.family = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
    C.defaults.font.size = 13;
    C.defaults.color = "#3c4043";
    C.defaults.borderColor = "#e0e3e7";
    C.defaults.animation = false; // calmer, and screenshots show the final state
    C.defaults.maintainAspectRatio = false;
    C.defaults.plugins.legend.labels.boxWidth = 14;
    lib.done = true;
  }
  return C;
}

// Axis ticks: short ("2.5M"), the exact figures are in the tooltips and tables.
const compact = new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 1 });
const tick = (v) => compact.format(v);

/**
 * chart(spec) -> {el, chart}.  spec: {type: "bar"|"line"|"doughnut", title,
 * labels, datasets: [{label, data, money?, color?}], horizontal, stacked,
 * money (value axis is money), height, table: false to omit the table,
 * format(v) for the table, onClick(index), axisTitle and labelAxisTitle
 * (the value and the label axis), plugins (inline Chart.js plugins)}.
 * The caller passes `track` (a function receiving the Chart) so the page
 * can destroy it when it goes away.
 */
export function chart(spec, track) {
  const C = lib();
  const canvas = h("canvas", { role: "img", "aria-label": spec.title + ": " + summary(spec) });
  const box = h(`div.chart-box${spec.small ? ".chart-small" : ""}`, canvas);
  if (spec.height) box.style.height = spec.height + "px";
  const fmt = spec.format || (spec.money ? (v) => fmtMoney(v) : (v) => fmtInt(v));
  const datasets = spec.datasets.map((d, i) => {
    const color = d.color || (spec.type === "doughnut" ? null : COLORS[i % COLORS.length]);
    return {
      label: d.label,
      data: d.data.map((v) => (v === null || v === undefined ? null : Number(v))),
      backgroundColor: spec.type === "doughnut" ? spec.labels.map((_, j) => COLORS[j % COLORS.length]) : (spec.type === "line" ? color + "33" : color),
      borderColor: spec.type === "doughnut" ? "#fff" : color,
      borderWidth: spec.type === "line" ? 2 : 1,
      fill: spec.type === "line" && spec.datasets.length === 1,
      pointRadius: spec.type === "line" ? 2 : undefined,
      tension: 0.2,
      yAxisID: d.axis || undefined,
      type: d.type || undefined,
      order: d.order,
    };
  });
  const valueAxis = spec.horizontal ? "x" : "y";
  const scales = spec.type === "doughnut" ? {} : {
    x: { stacked: !!spec.stacked, grid: { display: valueAxis === "x" }, ticks: { autoSkip: true, maxRotation: 0 } },
    y: { stacked: !!spec.stacked, grid: { display: valueAxis === "y" }, beginAtZero: true },
  };
  if (spec.type !== "doughnut") {
    scales[valueAxis].ticks = { ...(scales[valueAxis].ticks || {}), callback: tick, precision: spec.money ? undefined : 0 };
    if (spec.percent) {
      scales[valueAxis].ticks.callback = (v) => v + "%";
      scales[valueAxis].max = 100;
    }
    if (spec.secondAxis) {
      scales.y2 = { position: "right", beginAtZero: true, grid: { display: false }, ticks: { callback: tick }, title: { display: true, text: spec.secondAxis } };
    }
    if (spec.axisTitle) scales[valueAxis].title = { display: true, text: spec.axisTitle };
    if (spec.labelAxisTitle) scales[valueAxis === "x" ? "y" : "x"].title = { display: true, text: spec.labelAxisTitle };
  }
  const chartObj = new C(canvas, {
    type: spec.type || "bar",
    data: { labels: spec.labels, datasets },
    options: {
      indexAxis: spec.horizontal ? "y" : "x",
      responsive: true,
      scales,
      plugins: {
        legend: { display: spec.datasets.length > 1 || spec.type === "doughnut", position: spec.type === "doughnut" ? "right" : "top" },
        tooltip: {
          callbacks: {
            label: (ctx) => {
              const d = spec.datasets[ctx.datasetIndex];
              const raw = d.data[ctx.dataIndex];
              const f = d.format || (d.money ? fmtMoney : spec.percent ? (v) => `${Number(v).toFixed(1)}%` : fmt);
              return `${d.label}: ${f(raw)}`;
            },
          },
        },
      },
      onClick: spec.onClick ? (_e, els) => { if (els.length) spec.onClick(els[0].index); } : undefined,
    },
    plugins: spec.plugins || [],
  });
  if (track) track(chartObj);
  const parts = [box];
  if (spec.table !== false) {
    parts.push(h("details.chart-table",
      h("summary", "Show the figures as a table"),
      h("table.data.compact",
        h("thead", h("tr", h("th", { scope: "col" }, spec.labelHeader || ""), spec.datasets.map((d) => h("th.num", { scope: "col" }, d.label)))),
        h("tbody", spec.labels.map((l, i) => h("tr", h("th", { scope: "row" }, l),
          spec.datasets.map((d) => h("td.num", (d.format || (d.money ? fmtMoney : fmt))(d.data[i])))))))));
  }
  return { el: h("div.chart", parts), chart: chartObj };
}

function summary(spec) {
  const n = spec.labels.length;
  if (!n) return "no data";
  const d = spec.datasets[0];
  let max = -Infinity;
  let at = 0;
  d.data.forEach((v, i) => { if (v !== null && Number(v) > max) { max = Number(v); at = i; } });
  const f = d.format || (d.money ? fmtMoney : fmtInt);
  return `${n} ${n === 1 ? "bar" : "values"}; highest ${spec.labels[at]} with ${f(d.data[at])} (${d.label}). The figures are in the table below.`;
}
