/**
 * A comparison as text (stdout), as JSON (--report FILE), and as one self-contained HTML page
 * (--html FILE): expected against actual over time, one chart per figure, the way the analyzer's
 * page is made (ECharts inlined, data embedded, `data-rendered` set once every chart has drawn).
 */
import { echarts, escapeHtml, scriptJson } from "../analyze/render/html.ts";
import type { CompareReport, CompareSeries, Difference } from "./compare.ts";
import type { Tolerance } from "./mapping.ts";

/** Differences listed by the text report; the JSON report lists them all. */
export const TEXT_DIFFERENCES = 20;

export function describeTolerance(tolerance: Tolerance): string {
  const parts = [
    ...(tolerance.absolute > 0 ? [`±${tolerance.absolute}`] : []),
    ...(tolerance.relative > 0 ? [`±${+(tolerance.relative * 100).toFixed(6)}%`] : []),
  ];
  return parts.length === 0 ? "exact" : parts.join(" or ");
}

function where(d: Difference): string {
  const group = d.workflow === undefined ? "" : `  workflow=${d.workflow ?? "(none)"}${d.step === undefined ? "" : ` step=${d.step}`}`;
  return `${d.window_start}${group}`;
}

export function describeDifference(d: Difference): string {
  if (d.kind !== "off") return d.kind === "missing" ? `${where(d)}  missing: the pipeline wrote no such window` : `${where(d)}  extra: no such golden window`;
  const by = d.difference === null ? "" : ` (${d.difference > 0 ? "+" : ""}${+d.difference.toFixed(6)})`;
  return `${where(d)}  ${d.figure}: expected ${d.expected ?? "none"}, actual ${d.actual ?? "none"}${by}`;
}

export function renderCompareText(report: CompareReport): string {
  const w = report.windows;
  const lines = [
    `wfsim compare: expected ${report.expected}, actual ${report.actual}`,
    `windows of ${report.window_size_ms} ms${report.by === null ? "" : `, by ${report.by}`}: ${w.expected} expected, ${w.actual} actual (${w.actual_records} records${w.replaced_updates > 0 ? `, ${w.replaced_updates} earlier updates of a window replaced by later ones` : ""}), ${w.matched} matched, ${w.missing} missing, ${w.extra} extra${w.empty_missing + w.empty_extra > 0 ? ` (and ${w.empty_missing + w.empty_extra} on one side only with every compared figure 0: not differences)` : ""}`,
    "",
    `${"figure".padEnd(18)}${"compared".padStart(9)}${"exact".padStart(8)}${"within".padStart(8)}${"off".padStart(7)}  tolerance`,
  ];
  for (const [figure, tally] of Object.entries(report.figures)) {
    lines.push(`${figure.padEnd(18)}${String(tally.compared).padStart(9)}${String(tally.exact).padStart(8)}${String(tally.within).padStart(8)}${String(tally.off).padStart(7)}  ${describeTolerance(tally.tolerance)}`);
  }
  if (report.differences.length > 0) {
    const shown = report.differences.slice(0, TEXT_DIFFERENCES);
    lines.push("", `differences${report.differences.length > shown.length ? ` (first ${shown.length} of ${report.differences.length}; all in --report FILE)` : ` (${shown.length})`}:`);
    for (const d of shown) lines.push(`  ${describeDifference(d)}`);
  }
  lines.push("", report.verdict === "pass" ? "verdict: every window and figure within tolerance" : `verdict: differences (${report.differences.length})`);
  return `${lines.join("\n")}\n`;
}

export function renderCompareJson(report: CompareReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

export async function renderCompareHtml(report: CompareReport, series: CompareSeries): Promise<string> {
  const title = `wfsim compare: ${report.actual} against ${report.expected}`;
  const figures = Object.keys(series.points);
  const data = { series, tolerances: report.figures };
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
  .chart { width: 100%; height: 340px; border: 1px solid #e3e6eb; border-radius: 6px; }
  pre { background: #f6f7f9; padding: 12px; border-radius: 6px; overflow-x: auto; font-size: 12.5px; }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p class="note">Expected (the golden windows) as lines, the pipeline's values as points: green within tolerance, red off; a red cross on the axis is a window the pipeline did not write, an orange one a window it wrote that has no golden counterpart. Times in UTC.</p>
${figures.map((figure) => `<h2>${escapeHtml(figure)}</h2>\n<div class="chart" id="chart-${escapeHtml(figure)}"></div>`).join("\n")}
<h2>Summary</h2>
<pre>${escapeHtml(renderCompareText(report))}</pre>
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
  var groups = data.series.groups;
  var charts = [];
  var finished = 0;
  var COLORS = ["#4a78c2", "#8e44ad", "#16a085", "#b9770e", "#2c3e50", "#c0392b", "#7f8c8d", "#27ae60"];
  Object.keys(data.series.points).forEach(function (figure) {
    var points = data.series.points[figure];
    var series = [];
    groups.forEach(function (name, g) {
      var mine = points.filter(function (p) { return p[1] === g; });
      var color = COLORS[g % COLORS.length];
      var label = groups.length > 1 ? name + " " : "";
      series.push({ name: label + "expected", type: "line", showSymbol: false, connectNulls: false, lineStyle: { color: color, width: 2 }, itemStyle: { color: color },
        data: mine.filter(function (p) { return p[4] !== "extra"; }).map(function (p) { return [p[0], p[2]]; }) });
      series.push({ name: label + "actual", type: "scatter", symbolSize: 7,
        itemStyle: { color: function (params) { return params.data[2] === "off" ? "#d9412b" : "#2e8b57"; } },
        data: mine.filter(function (p) { return p[3] !== null && p[4] !== "missing" && p[4] !== "extra"; }).map(function (p) { return [p[0], p[3], p[4]]; }) });
    });
    var gone = points.filter(function (p) { return p[4] === "missing" || p[4] === "extra"; });
    if (gone.length > 0) series.push({ name: "missing / extra window", type: "scatter", symbol: "path://M0,0L10,10M10,0L0,10", symbolSize: 10,
      itemStyle: { color: function (params) { return params.data[2] === "missing" ? "#d9412b" : "#e69b22"; }, borderWidth: 2, borderColor: "#d9412b" },
      data: gone.map(function (p) { return [p[0], 0, p[4]]; }) });
    var chart = echarts.init(document.getElementById("chart-" + figure), null, { renderer: "canvas" });
    chart.on("finished", function once() {
      chart.off("finished", once);
      finished++;
      if (finished === charts.length) document.documentElement.dataset.rendered = "true";
    });
    charts.push({ chart: chart, option: {
      animation: false,
      tooltip: { trigger: "item", formatter: function (p) { return new Date(p.value[0]).toISOString() + "<br>" + p.seriesName.replace(/[<>&]/g, "") + ": " + p.value[1] + (p.value[2] ? " (" + p.value[2] + ")" : ""); } },
      legend: { top: 4, type: "scroll" },
      grid: { left: 70, right: 20, top: 40, bottom: 40 },
      xAxis: { type: "time" },
      yAxis: { type: "value", scale: true },
      series: series
    } });
  });
  if (charts.length === 0) document.documentElement.dataset.rendered = "true";
  charts.forEach(function (entry) { entry.chart.setOption(entry.option); });
  window.addEventListener("resize", function () { charts.forEach(function (entry) { entry.chart.resize(); }); });
})();
`;
