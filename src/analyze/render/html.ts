/**
 * The report as one self-contained HTML page: Apache ECharts' minified build is inlined, so the page
 * needs no network to be viewed. Charts: a histogram of durations (and one of gaps), a timeline of
 * transactions (one bar per transaction: its pre-step waits, steps and inter-step waits, outliers
 * highlighted), and open transactions over time.
 *
 * The data drawn is bounded whatever the stream's length: histograms come from the frequency tables,
 * the timeline shows at most a few dozen transactions (the first to end, the most extreme flagged and
 * the missed ones), the concurrency line has a fixed number of buckets.
 *
 * The page marks itself rendered (`<html data-rendered="true">`) once every chart has fired ECharts'
 * `finished` event, which is what the headless-browser test waits for.
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import type { AnalysisReport } from "../report.ts";
import { renderText } from "./text.ts";

const require = createRequire(import.meta.url);

let echartsSource: Promise<string> | undefined;

/** ECharts' minified build, read once from the installed package. */
function echarts(): Promise<string> {
  echartsSource ??= readFile(require.resolve("echarts/dist/echarts.min.js"), "utf8");
  return echartsSource;
}

/** JSON safe to place inside a <script> element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

export async function renderHtml(report: AnalysisReport): Promise<string> {
  if (report.charts === undefined) throw new Error("renderHtml needs a report made with { charts: true }");
  const data = {
    charts: report.charts,
    concurrency: report.concurrency,
    outliers: { threshold: report.outliers.rule.threshold_ms, measure: report.outliers.rule.measure },
  };
  const title = `wfsim analyze: ${report.sources.join(", ")}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
  body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1200px; padding: 0 16px; color: #1d2433; }
  h1 { font-size: 20px; margin: 0 0 4px; }
  h2 { font-size: 16px; margin: 28px 0 6px; }
  p.note { color: #5b6472; margin: 0 0 8px; }
  .chart { width: 100%; height: 360px; border: 1px solid #e3e6eb; border-radius: 6px; }
  #timeline { height: 640px; }
  pre { background: #f6f7f9; border: 1px solid #e3e6eb; border-radius: 6px; padding: 12px; overflow-x: auto; font-size: 12.5px; }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p class="note">Made by wfsim analyze. Works offline: the charting library (Apache ECharts, Apache-2.0) is included in this file.</p>
<h2>Duration of transactions</h2>
<p class="note">Completed transactions by duration_ms; the gap histogram beside it shows where the waits between steps fell. Counts on a log scale so that rare outliers stay visible.</p>
<div id="histograms" class="chart"></div>
<h2>Timeline of transactions</h2>
<p class="note">One bar per transaction, aligned at its opening (x: ms since transaction_open): pre-step waits, steps, and inter-step waits;
injected outlier waits in red, failed attempts in orange before their retry's backoff; flagged transactions marked ⚑, failed ones [failed],
stuck ones (labelled to go silent) [stuck]. Shown: the first transactions to end, the most extreme flagged ones, any injected ones the rule missed, and the first still open.</p>
<div id="timeline" class="chart"></div>
<h2>Open transactions over time</h2>
<p class="note">Most transactions open at once in each interval of the stream.</p>
<div id="concurrency" class="chart"></div>
<h2>Report</h2>
<pre>${escapeHtml(renderText(report))}</pre>
<script type="application/json" id="wfsim-data">${scriptJson(data)}</script>
<script>${await echarts()}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}

/** Builds the charts in the browser from the embedded data. Plain ES2017, no modules. */
const PAGE_SCRIPT = String.raw`
(function () {
  var data = JSON.parse(document.getElementById("wfsim-data").textContent);
  var charts = [];
  var finished = 0;
  function make(id, option) {
    var chart = echarts.init(document.getElementById(id), null, { renderer: "canvas" });
    chart.on("finished", function once() {
      chart.off("finished", once);
      finished++;
      if (finished === charts.length) document.documentElement.dataset.rendered = "true";
    });
    charts.push({ chart: chart, option: option });
  }
  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]; });
  }
  function bins(h) {
    return h.counts.map(function (c, i) { return [h.start_ms + i * h.bin_ms + h.bin_ms / 2, c]; });
  }
  var d = data.charts.duration_histogram, g = data.charts.gap_histogram;
  // The rule's threshold, on the histogram of what it judged.
  function threshold(measure) {
    if (data.outliers.threshold === null || data.outliers.measure !== measure) return undefined;
    return { symbol: "none", label: { formatter: "threshold {c} ms" }, lineStyle: { color: "#c0392b", type: "dashed" },
      data: [{ xAxis: Math.round(data.outliers.threshold) }] };
  }
  // Log counts from 0.1, so that a bin of one (a lone outlier) is a bar a decade high, not nothing.
  function counts(name) {
    return { name: name, min: 0.1, logBase: 10, axisLabel: { formatter: function (v) { return v >= 1 ? String(v) : ""; } } };
  }
  make("histograms", {
    animation: false,
    tooltip: { trigger: "axis" },
    legend: { top: 4, left: "center" },
    grid: [{ left: 60, right: "53%", top: 56, bottom: 40 }, { left: "55%", right: 20, top: 56, bottom: 40 }],
    xAxis: [
      { type: "value", gridIndex: 0, name: "duration (ms)", nameLocation: "middle", nameGap: 26, scale: true },
      { type: "value", gridIndex: 1, name: "gap between steps (ms)", nameLocation: "middle", nameGap: 26, scale: true }
    ],
    yAxis: [
      Object.assign({ type: "log", gridIndex: 0 }, counts("transactions")),
      Object.assign({ type: "log", gridIndex: 1 }, counts("gaps"))
    ],
    series: [
      { name: "duration (bin " + d.bin_ms + " ms)", type: "bar", xAxisIndex: 0, yAxisIndex: 0, barWidth: "90%", data: bins(d), itemStyle: { color: "#4a78c2" },
        markLine: threshold("duration") },
      { name: "gap (bin " + g.bin_ms + " ms)", type: "bar", xAxisIndex: 1, yAxisIndex: 1, barWidth: "90%", data: bins(g), itemStyle: { color: "#6aa56a" },
        markLine: threshold("gap") }
    ]
  });

  var rows = data.charts.timeline;
  var KINDS = [
    { name: "pre-step wait", color: "#b7c7e6" },
    { name: "step", color: "#1d2433" },
    { name: "inter-step wait", color: "#8fc98f" },
    { name: "injected outlier wait", color: "#d9412b" },
    { name: "failed attempt", color: "#e69b22" },
    { name: "retry backoff", color: "#f3d9a4" }
  ];
  var items = [];
  rows.forEach(function (t, row) {
    var origin = t.opened !== null ? t.opened : (t.steps.length ? t.steps[0].open : 0);
    var cursor = t.opened !== null ? t.opened : null;
    var waits = {};
    t.waits.forEach(function (w) { waits[w.from_step] = w; });
    t.steps.forEach(function (s) {
      if (cursor !== null && s.open > cursor) items.push([row, cursor - origin, s.open - origin, s.attempt > 1 ? 5 : 0, t.txn_id]);
      var done = s.done === null ? s.open : s.done;
      items.push([row, s.open - origin, done - origin, s.failed ? 4 : 1, t.txn_id]);
      cursor = done;
      var w = s.failed ? null : waits[s.step];
      if (w) {
        var end = w.start + w.planned_ms;
        items.push([row, w.start - origin, end - origin, w.injected ? 3 : 2, t.txn_id]);
        cursor = end;
      }
    });
  });
  make("timeline", {
    animation: false,
    // ECharts shows tooltips as HTML, and ids come from the stream: escaped.
    tooltip: { formatter: function (p) { return escapeHtml(p.value[4]) + "<br>" + KINDS[p.value[3]].name + ": " + (p.value[2] - p.value[1]) + " ms (" + p.value[1] + " to " + p.value[2] + " ms)"; } },
    legend: { top: 4, data: KINDS.map(function (k) { return k.name; }) },
    grid: { left: 170, right: 30, top: 40, bottom: 60 },
    dataZoom: [{ type: "slider", xAxisIndex: 0, bottom: 10 }, { type: "inside", xAxisIndex: 0 }],
    xAxis: { type: "value", name: "ms since transaction_open", nameLocation: "middle", nameGap: 24 },
    yAxis: { type: "category", inverse: true, axisLabel: { fontSize: 10 },
      data: rows.map(function (t) { return (t.flagged ? "⚑ " : "") + (t.stuck ? "[stuck] " : t.outcome === "failed" ? "[failed] " : "") + t.txn_id; }) },
    series: KINDS.map(function (kind, k) {
      return {
        name: kind.name, type: "custom", itemStyle: { color: kind.color },
        encode: { x: [1, 2], y: 0 },
        data: items.filter(function (it) { return it[3] === k; }),
        renderItem: function (params, api) {
          var start = api.coord([api.value(1), api.value(0)]);
          var end = api.coord([api.value(2), api.value(0)]);
          var step = k === 1 || k === 4;
          var height = api.size([0, 1])[1] * (step ? 0.8 : 0.55);
          var width = Math.max(step ? 2 : 1, end[0] - start[0]);
          return { type: "rect", shape: { x: start[0], y: start[1] - height / 2, width: width, height: height },
            style: api.style(), transition: [] };
        }
      };
    })
  });

  var c = data.concurrency;
  var points = c.timeline.max.map(function (v, i) { return [c.timeline.start_ts_ms + i * c.timeline.bucket_ms, v]; });
  make("concurrency", {
    animation: false,
    tooltip: { trigger: "axis" },
    grid: { left: 60, right: 60, top: 30, bottom: 50 },
    xAxis: { type: "time", name: "stream time (ts_ms, UTC)", nameLocation: "middle", nameGap: 30 },
    yAxis: { type: "value", name: "open transactions", min: 0 },
    series: [{ name: "most open at once", type: "line", step: "end", showSymbol: false, data: points,
      areaStyle: { opacity: 0.15 }, lineStyle: { width: 1.5 },
      markLine: { symbol: "none", data: [{ yAxis: c.peak, name: "peak" }], label: { formatter: "peak {c}" }, lineStyle: { type: "dashed" } } }]
  });

  charts.forEach(function (entry) { entry.chart.setOption(entry.option); });
  window.addEventListener("resize", function () { charts.forEach(function (entry) { entry.chart.resize(); }); });
})();
`;
