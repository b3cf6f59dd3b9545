/**
 * The report as one self-contained HTML page: Apache ECharts' minified build is inlined, so the page
 * needs no network to be viewed. Charts: a histogram of durations (and one of gaps); latency,
 * throughput and stream-check findings over time (per interval of the breakdown, over_time); tables
 * per workflow, per step and per interval; latency per workflow step (p50/p90/p99 and the grouped
 * rule's threshold); detected versus injected per step; a timeline of sampled transactions (one bar
 * per transaction: its pre-step waits, steps and inter-step waits, outliers highlighted, open ones
 * drawn to the stream's end), in stream time or aligned at each opening; and open transactions over
 * time. Time axes are in one stated zone (UTC unless told). A chart with nothing to draw says why.
 *
 * The data drawn is bounded whatever the stream's length: histograms come from the frequency tables,
 * the breakdown has at most a few hundred intervals, the timeline shows at most about a hundred
 * transactions, the concurrency line has a fixed number of buckets.
 *
 * The page marks itself rendered (`<html data-rendered="true">`) once every chart has fired ECharts'
 * `finished` event, which is what the headless-browser test waits for.
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import type { AnalysisReport, StepFigureReport } from "../report.ts";
import { VIOLATION_KINDS } from "../report.ts";
import { intervalName, renderText } from "./text.ts";

const require = createRequire(import.meta.url);

let echartsSource: Promise<string> | undefined;

/** ECharts' minified build, read once from the installed package. */
export function echarts(): Promise<string> {
  echartsSource ??= readFile(require.resolve("echarts/dist/echarts.min.js"), "utf8");
  return echartsSource;
}

/** JSON safe to place inside a <script> element. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

export const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

export interface HtmlOptions {
  /** The zone stream times are shown in (an IANA name); UTC by default. */
  readonly timeZone?: string | undefined;
}

export async function renderHtml(report: AnalysisReport, options: HtmlOptions = {}): Promise<string> {
  if (report.charts === undefined) throw new Error("renderHtml needs a report made with { charts: true }");
  const o = report.outliers;
  const data = {
    charts: report.charts,
    concurrency: report.concurrency,
    overTime: report.over_time,
    violationKinds: VIOLATION_KINDS,
    firstTs: report.time_span.first_ts_ms,
    lastTs: report.time_span.last_ts_ms,
    timeZone: options.timeZone ?? "UTC",
    outliers: {
      threshold: o.rule.threshold_ms,
      measure: o.rule.measure,
      method: o.rule.method,
      unit: o.rule.unit ?? "transaction",
      groups: o.groups ?? [],
      injected: o.rule.unit === "gap" ? o.injected_gaps : o.injected,
      flagged: o.flagged,
      truePositives: o.true_positives,
      missed: o.missed,
      byTransaction: o.by_transaction,
      injectedTransactions: o.injected,
    },
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
  p.empty { color: #5b6472; font-style: italic; border: 1px dashed #c9ced6; border-radius: 6px; padding: 24px; text-align: center; }
  table.missed, table.breakdown { border-collapse: collapse; font-size: 12.5px; margin-top: 8px; }
  table.missed td, table.missed th, table.breakdown td, table.breakdown th { border: 1px solid #e3e6eb; padding: 3px 8px; text-align: left; }
  table.breakdown td.n { text-align: right; font-variant-numeric: tabular-nums; }
  .modes button { font: inherit; font-size: 12.5px; padding: 2px 10px; margin-right: 6px; border: 1px solid #c9ced6; border-radius: 4px; background: #fff; cursor: pointer; }
  .modes button[aria-pressed=true] { background: #1d2433; color: #fff; }
  pre { background: #f6f7f9; border: 1px solid #e3e6eb; border-radius: 6px; padding: 12px; overflow-x: auto; font-size: 12.5px; }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p class="note">Made by wfsim analyze. Works offline: the charting library (Apache ECharts, Apache-2.0) is included in this file.</p>
<h2>Duration of transactions</h2>
<p class="note">Completed transactions by duration_ms; the gap histogram beside it shows where the waits between steps fell. Counts on a log scale so that rare outliers stay visible.</p>
<div id="histograms" class="chart"></div>
<h2>Latency over time</h2>
<p class="note">Per ${escapeHtml(intervalName(report.over_time.interval_ms))} (${report.over_time.chosen_by === "auto" ? "chosen to give at most " + report.over_time.max_rows + " intervals; --interval to choose" : "--interval"}):
p50, p99 and largest duration of the transactions completed in each interval (p50 and p99 to within 0.8%); times in <span class="zone"></span>.</p>
<div id="latency" class="chart"></div>
<h2>Throughput over time</h2>
<p class="note">Events per second (left axis), transactions opened and ended per second (right axis), per interval.</p>
<div id="throughput" class="chart"></div>
<h2>Stream-check findings over time</h2>
<p class="note">Findings per interval, by kind, at the time of the event that showed them (never closed: the transaction's last event).</p>
<div id="findings" class="chart"></div>
<h2>Per workflow and per step</h2>
${breakdownTables(report)}
<h2>Latency per workflow step</h2>
<p class="note">Each workflow's gaps between steps (from_step -> to_step; durations when judged instead): the p50, p90 and p99 of the group's own measurements,
and the threshold the outlier rule set for it (log scale).</p>
<div id="steps" class="chart"></div>
<h2>Detected versus injected</h2>
<p class="note">Per group: injected outliers the rule found (true positives), what it flagged that was not injected (false positives), and injected ones it missed.
<span id="confusion"></span></p>
<div id="detection" class="chart"></div>
<div id="missed"></div>
<h2>Timeline of transactions</h2>
<p class="note">One bar per transaction, placed in stream time (or aligned at each opening): pre-step waits, steps, and inter-step waits;
injected outlier waits in red, failed attempts in orange before their retry's backoff; flagged transactions marked ⚑, injected ones ✱, failed ones [failed],
stuck ones (labelled to go silent) [stuck], drawn on to the stream's end. Shown: samples spread over the whole run of ordinary transactions, of those
with an injected outlier and of those with failures, the most extreme flagged ones, injected ones the rule missed, and some still open at the end (stuck ones first).</p>
<p class="modes"><button type="button" id="mode-stream" aria-pressed="true">stream time</button><button type="button" id="mode-aligned" aria-pressed="false">aligned at opening</button></p>
<div id="timeline" class="chart"></div>
<h2>Open transactions over time</h2>
<p class="note">Most transactions open at once in each interval of the stream; times in <span id="zone" class="zone"></span>.</p>
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

/** The breakdown tables: per workflow, per workflow step, and per interval (the latter folded). */
function breakdownTables(report: AnalysisReport): string {
  const integer = new Intl.NumberFormat("en-US");
  const num = (value: number | null) => (value === null ? "-" : integer.format(Math.round(value)));
  const td = (value: string | number | null) => (typeof value === "string" ? `<td>${escapeHtml(value)}</td>` : `<td class="n">${num(value)}</td>`);
  const row = (cells: readonly (string | number | null)[]) => `<tr>${cells.map(td).join("")}</tr>`;
  const head = (names: readonly string[]) => `<tr>${names.map((name) => `<th>${escapeHtml(name)}</th>`).join("")}</tr>`;
  const parts: string[] = [];
  if (report.workflows.length > 0) {
    parts.push(
      `<table class="breakdown" id="workflow-table">${head(["workflow", "transactions", "completed", "failed", "aborted", "open", "stuck", "step failures", "retries", "duration p50", "p95", "p99", "max"])}` +
        report.workflows
          .map((w) => {
            const t = w.transactions;
            return row([w.name, t.total, t.completed, t.failed, t.aborted, t.open, t.stuck, w.step_failures, w.retries, w.duration_ms.p50, w.duration_ms.p95, w.duration_ms.p99, w.duration_ms.max]);
          })
          .join("") +
        `</table>`,
    );
  }
  const figure = (f: StepFigureReport | null) =>
    f === null ? "-" : `${num(f.p50_ms)} / ${num(f.p90_ms)} / ${num(f.p99_ms)}${f.threshold_ms === null ? "" : ` (> ${num(f.threshold_ms)}: ${num(f.above_threshold)})`}`;
  if (report.step_baselines.length > 0) {
    parts.push(
      `<table class="breakdown" id="step-table">${head(["step", "count", "work p50 / p90 / p99 (> threshold: above)", "pre-step wait", "gap to the next step", "failures", "retries", "stuck"])}` +
        report.step_baselines
          .map((s) => row([`${s.workflow ?? "(no workflow)"} ${s.step}`, s.work_ms?.count ?? 0, figure(s.work_ms), figure(s.pre_wait_ms), figure(s.gap_ms), s.failures, s.retries, s.stuck]))
          .join("") +
        `</table>`,
    );
  }
  const o = report.over_time;
  if (o.rows.length > 0) {
    const start = (ts: number) => new Date(ts).toISOString().replace(".000Z", "Z");
    parts.push(
      `<details><summary>Per ${escapeHtml(intervalName(o.interval_ms))}: ${o.rows.length} intervals (times in UTC)</summary>` +
        `<table class="breakdown" id="interval-table">${head(["interval start (UTC)", "opened", "completed", "failed", "aborted", "events", "events/s", "duration p50", "p99", "max", "findings"])}` +
        o.rows
          .map((r) =>
            row([start(r.start_ts_ms), r.opened, r.completed, r.failed, r.aborted, r.events, r.events_per_s, r.duration_p50_ms, r.duration_p99_ms, r.duration_max_ms,
              Object.values(r.findings).reduce((sum, count) => sum + count, 0)]),
          )
          .join("") +
        `</table></details>`,
    );
  }
  if (parts.length === 0) return `<p class="empty">No transaction in the stream: nothing to break down.</p>`;
  return `<p class="note">Durations in ms: p50 / p90 / p99 of each step's work (step_open to step_done), pre-step wait and gap to the next step; stuck: transactions labelled to go silent that did so in the step.</p>\n${parts.join("\n")}`;
}

/** Builds the charts in the browser from the embedded data. Plain ES2017, no modules. */
const PAGE_SCRIPT = String.raw`
(function () {
  var data = JSON.parse(document.getElementById("wfsim-data").textContent);
  var charts = [];
  var finished = 0;
  // A chart with nothing to draw says why instead of drawing empty axes.
  function empty(id, why) {
    var element = document.getElementById(id);
    element.className = "";
    element.innerHTML = '<p class="empty">' + escapeHtml(why) + "</p>";
  }
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
  // Stream times in one stated zone: ECharts places ticks in UTC (useUTC) and the labels are written
  // in data.timeZone, whatever the viewer's own zone.
  var zoneFormat = new Intl.DateTimeFormat("en-GB", { timeZone: data.timeZone, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
  var dayFormat = new Intl.DateTimeFormat("en-GB", { timeZone: data.timeZone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
  function clock(ms) { return zoneFormat.format(new Date(ms)); }
  Array.prototype.forEach.call(document.querySelectorAll(".zone"), function (el) { el.textContent = data.timeZone; });
  // Time axis labels: the clock, with the day when the span covers more than one.
  var spanMs = data.firstTs === null ? 0 : data.lastTs - data.firstTs;
  var dateFormat = new Intl.DateTimeFormat("en-GB", { timeZone: data.timeZone, month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  function axisClock(ms) { return spanMs > 86400000 ? dateFormat.format(new Date(ms)) : clock(ms); }
  function timeAxis(extra) {
    return Object.assign({ type: "time", name: "stream time (" + data.timeZone + ")", nameLocation: "middle", nameGap: 30, axisLabel: { formatter: axisClock, hideOverlap: true } }, extra || {});
  }
  function when(ms) { return dayFormat.format(new Date(ms)) + " " + escapeHtml(data.timeZone); }
  var d = data.charts.duration_histogram, g = data.charts.gap_histogram;
  // The rule's threshold, on the histogram of what it judged.
  function threshold(measure) {
    if (data.outliers.threshold === null || data.outliers.measure !== measure) return undefined;
    // The label inside the plot, at the top: clear of the axis labels.
    return { symbol: "none", label: { formatter: "threshold {c} ms", position: "insideEndTop" }, lineStyle: { color: "#c0392b", type: "dashed" },
      data: [{ xAxis: Math.round(data.outliers.threshold) }] };
  }
  // Log counts from 0.1, so that a bin of one (a lone outlier) is a bar a decade high, not nothing.
  function counts(name) {
    return { name: name, min: 0.1, logBase: 10, axisLabel: { formatter: function (v) { return v >= 1 ? String(v) : ""; } } };
  }
  var halves = [
    { h: d, axis: "duration (ms)", counted: "transactions", series: "duration", measure: "duration", color: "#4a78c2" },
    { h: g, axis: "gap between steps (ms)", counted: "gaps", series: "gap", measure: "gap", color: "#6aa56a" }
  ].filter(function (half) { return half.h.counts.length > 0; });
  if (halves.length === 0) empty("histograms", "No completed transaction and no gap between steps in the stream: nothing to count.");
  else make("histograms", {
    animation: false,
    tooltip: { trigger: "axis" },
    legend: { top: 4, left: "center" },
    grid: halves.length === 2 ? [{ left: 60, right: "53%", top: 56, bottom: 40 }, { left: "55%", right: 20, top: 56, bottom: 40 }] : [{ left: 60, right: 20, top: 56, bottom: 40 }],
    xAxis: halves.map(function (half, i) { return { type: "value", gridIndex: i, name: half.axis, nameLocation: "middle", nameGap: 26, scale: true }; }),
    yAxis: halves.map(function (half, i) { return Object.assign({ type: "log", gridIndex: i }, counts(half.counted)); }),
    series: halves.map(function (half, i) {
      return { name: half.series + " (bin " + half.h.bin_ms + " ms)", type: "bar", xAxisIndex: i, yAxisIndex: i, barWidth: "90%", data: bins(half.h),
        itemStyle: { color: half.color }, markLine: threshold(half.measure) };
    })
  });

  var ot = data.overTime;
  var width = ot.interval_ms;
  var rowsOT = ot.rows;
  function perInterval(key) { return rowsOT.map(function (r) { return [r.start_ts_ms, r[key]]; }); }
  function perSecond(key) { return rowsOT.map(function (r) { return [r.start_ts_ms, r[key] / (width / 1000)]; }); }
  function seriesTooltip(unit) {
    return { trigger: "axis", formatter: function (ps) {
      return when(ps[0].value[0]) + ps.map(function (p) { return "<br>" + escapeHtml(p.seriesName) + ": " + (p.value[1] === null ? "-" : Math.round(p.value[1] * 10) / 10) + unit; }).join("");
    } };
  }
  var completedAny = rowsOT.some(function (r) { return r.duration_p50_ms !== null; });
  if (rowsOT.length === 0) {
    empty("latency", "No events with a time: nothing to draw over time.");
    empty("throughput", "No events with a time: nothing to draw over time.");
  } else {
    if (!completedAny) empty("latency", "No transaction completed (transaction_close) in the stream: no duration to draw.");
    else make("latency", {
      animation: false, useUTC: true,
      tooltip: seriesTooltip(" ms"),
      legend: { top: 4 },
      grid: { left: 70, right: 30, top: 40, bottom: 50 },
      xAxis: timeAxis(),
      yAxis: { type: "value", name: "duration (ms)", min: 0 },
      series: [
        { name: "p50", type: "line", step: "start", showSymbol: rowsOT.length < 3, connectNulls: false, data: perInterval("duration_p50_ms"), itemStyle: { color: "#4a78c2" } },
        { name: "p99", type: "line", step: "start", showSymbol: rowsOT.length < 3, connectNulls: false, data: perInterval("duration_p99_ms"), itemStyle: { color: "#d9412b" } },
        { name: "max", type: "line", step: "start", showSymbol: rowsOT.length < 3, connectNulls: false, data: perInterval("duration_max_ms"), itemStyle: { color: "#c9ced6" }, lineStyle: { type: "dotted" } }
      ]
    });
    make("throughput", {
      animation: false, useUTC: true,
      tooltip: seriesTooltip("/s"),
      legend: { top: 4 },
      grid: { left: 70, right: 70, top: 40, bottom: 50 },
      xAxis: timeAxis(),
      yAxis: [{ type: "value", name: "events/s", min: 0 }, { type: "value", name: "transactions/s", min: 0, splitLine: { show: false } }],
      series: [
        { name: "events/s", type: "line", step: "start", showSymbol: rowsOT.length < 3, data: perInterval("events_per_s"), areaStyle: { opacity: 0.12 }, itemStyle: { color: "#1d2433" } },
        { name: "opened/s", type: "line", step: "start", showSymbol: rowsOT.length < 3, yAxisIndex: 1, data: perSecond("opened"), itemStyle: { color: "#4a78c2" } },
        { name: "completed/s", type: "line", step: "start", showSymbol: rowsOT.length < 3, yAxisIndex: 1, data: perSecond("completed"), itemStyle: { color: "#2e8b57" } },
        { name: "failed or aborted/s", type: "line", step: "start", showSymbol: rowsOT.length < 3, yAxisIndex: 1,
          data: rowsOT.map(function (r) { return [r.start_ts_ms, (r.failed + r.aborted) / (width / 1000)]; }), itemStyle: { color: "#e69b22" } }
      ]
    });
  }
  var FINDING_COLORS = { out_of_order: "#4a78c2", missing_steps: "#d9412b", duplicates: "#e69b22", close_without_open: "#8e44ad", never_closed: "#5b6472" };
  var findingKinds = data.violationKinds.filter(function (kind) { return rowsOT.some(function (r) { return r.findings[kind] > 0; }); });
  if (findingKinds.length === 0) empty("findings", rowsOT.length === 0 ? "No events with a time: nothing to draw over time." : "No stream-check findings: every transaction's events came complete and in order.");
  else make("findings", {
    animation: false, useUTC: true,
    tooltip: seriesTooltip(""),
    legend: { top: 4 },
    grid: { left: 70, right: 30, top: 40, bottom: 50 },
    xAxis: timeAxis(),
    yAxis: { type: "value", name: "findings", minInterval: 1, min: 0 },
    series: findingKinds.map(function (kind) {
      return { name: kind.replace(/_/g, " "), type: "bar", stack: "f", barMaxWidth: 24, data: rowsOT.map(function (r) { return [r.start_ts_ms + width / 2, r.findings[kind]]; }),
        itemStyle: { color: FINDING_COLORS[kind] } };
    })
  });

  var groups = data.outliers.groups;
  function groupName(g) { return (g.workflow === null ? "(no workflow)" : g.workflow) + (g.from_step === null ? "" : " " + g.from_step + "\u2192" + g.to_step); }
  var names = groups.map(groupName);
  if (groups.length === 0) {
    var why = data.outliers.method === "grouped" ? "Nothing was measured: no gap between steps (or no completed transaction) in the stream." :
      "Per-step baselines come from the grouped outlier rule; this report used --outlier-rule pooled or --threshold-ms.";
    empty("steps", why);
    empty("detection", why);
  } else {
    make("steps", {
      animation: false,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { top: 4 },
      grid: { left: 70, right: 20, top: 40, bottom: 90 },
      xAxis: { type: "category", data: names, axisLabel: { interval: 0, rotate: names.length > 6 ? 30 : 0, fontSize: 11 } },
      yAxis: { type: "log", name: "ms", min: 1 },
      series: [
        { name: "p50", type: "bar", data: groups.map(function (g) { return Math.max(1, g.p50_ms); }), itemStyle: { color: "#8fc98f" } },
        { name: "p90", type: "bar", data: groups.map(function (g) { return Math.max(1, g.p90_ms); }), itemStyle: { color: "#4a78c2" } },
        { name: "p99", type: "bar", data: groups.map(function (g) { return Math.max(1, g.p99_ms); }), itemStyle: { color: "#1d2433" } },
        { name: "threshold", type: "scatter", symbol: "rect", symbolSize: [26, 3], data: groups.map(function (g) { return Math.max(1, Math.round(g.threshold_ms)); }),
          itemStyle: { color: "#c0392b" } }
      ]
    });
    var compared = groups.some(function (g) { return g.flagged > 0 || g.injected > 0; });
    if (!compared) empty("detection", "No outlier was injected and none was flagged: nothing to compare.");
    else make("detection", {
      animation: false,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { top: 4 },
      grid: { left: 70, right: 20, top: 40, bottom: 90 },
      xAxis: { type: "category", data: names, axisLabel: { interval: 0, rotate: names.length > 6 ? 30 : 0, fontSize: 11 } },
      yAxis: { type: "value", name: data.outliers.unit === "gap" ? "gaps" : "transactions", minInterval: 1 },
      series: [
        { name: "found (true positive)", type: "bar", stack: "n", data: groups.map(function (g) { return g.true_positives; }), itemStyle: { color: "#2e8b57" } },
        { name: "flagged, not injected", type: "bar", stack: "n", data: groups.map(function (g) { return g.flagged - g.true_positives; }), itemStyle: { color: "#e69b22" } },
        { name: "injected, missed", type: "bar", stack: "n", data: groups.map(function (g) { return g.injected - g.true_positives; }), itemStyle: { color: "#d9412b" } }
      ]
    });
  }
  var o = data.outliers;
  document.getElementById("confusion").textContent = "In all: " + o.injected + " injected, " + o.flagged + " flagged, " + o.truePositives + " found, " +
    (o.flagged - o.truePositives) + " false positives, " + (o.injected - o.truePositives) + " missed (counted in " + (o.unit === "gap" ? "gaps" : "transactions") + ").";
  if (o.unit === "gap") {
    var bt = o.byTransaction;
    document.getElementById("confusion").textContent += " By transaction (flagged when any of its gaps is): " + bt.flagged + (bt.exact ? "" : " (at least; at most " + bt.flagged_at_most + ")") +
      " flagged, " + bt.true_positives + " of " + o.injectedTransactions + " injected found.";
  }
  if (o.missed.length > 0) {
    document.getElementById("missed").innerHTML = '<table class="missed"><tr><th>missed (first ' + o.missed.length + ')</th><th>group</th><th>value (ms)</th><th>threshold (ms)</th></tr>' +
      o.missed.map(function (m) {
        return "<tr><td>" + escapeHtml(m.txn_id) + "</td><td>" + escapeHtml(m.group == null ? "" : m.group) + "</td><td>" + (m.value_ms === null ? "not measured" : m.value_ms) +
          "</td><td>" + (m.threshold_ms == null ? "" : Math.round(m.threshold_ms)) + "</td></tr>";
      }).join("") + "</table>";
  }

  var rows = data.charts.timeline;
  var KINDS = [
    { name: "pre-step wait", color: "#b7c7e6" },
    { name: "step", color: "#1d2433" },
    { name: "inter-step wait", color: "#8fc98f" },
    { name: "injected outlier wait", color: "#d9412b" },
    { name: "failed attempt", color: "#e69b22" },
    { name: "retry backoff", color: "#f3d9a4" },
    { name: "silent until the stream's end", color: "#c9ced6" }
  ];
  // Two ways to place the bars: in stream time (where each transaction fell in the run), or aligned
  // at each transaction's opening (to compare their shapes).
  function timelineItems(aligned) {
    var items = [];
    rows.forEach(function (t, row) {
      var first = t.opened !== null ? t.opened : (t.steps.length ? t.steps[0].open : 0);
      var origin = aligned ? first : 0;
      var cursor = t.opened !== null ? t.opened : null;
      var waits = {};
      t.waits.forEach(function (w) { waits[w.from_step] = w; });
      t.steps.forEach(function (s) {
        if (cursor !== null && s.open > cursor) items.push([row, cursor - origin, s.open - origin, s.attempt > 1 ? 5 : 0, t.txn_id, first]);
        var done = s.done === null ? s.open : s.done;
        items.push([row, s.open - origin, done - origin, s.failed ? 4 : 1, t.txn_id, first]);
        cursor = done;
        var w = s.failed ? null : waits[s.step];
        if (w) {
          var end = w.start + w.planned_ms;
          items.push([row, w.start - origin, end - origin, w.injected ? 3 : 2, t.txn_id, first]);
          cursor = end;
        }
      });
      // Still open when the stream ended (stuck ones, above all): drawn on to the stream's end.
      if (t.outcome === "open" && data.lastTs !== null && cursor !== null && data.lastTs > cursor) items.push([row, cursor - origin, data.lastTs - origin, 6, t.txn_id, first]);
    });
    return items;
  }
  function timelineOption(aligned) {
    var items = timelineItems(aligned);
    return {
      animation: false,
      useUTC: true,
      // ECharts shows tooltips as HTML, and ids come from the stream: escaped.
      tooltip: { formatter: function (p) {
        var v = p.value;
        var at = aligned ? v[1] + " to " + v[2] + " ms after its opening" : "from " + clock(v[1]) + " to " + clock(v[2]) + " " + escapeHtml(data.timeZone);
        return escapeHtml(v[4]) + "<br>" + KINDS[v[3]].name + ": " + (v[2] - v[1]) + " ms (" + at + ")";
      } },
      legend: { top: 4, data: KINDS.map(function (k) { return k.name; }) },
      grid: { left: 190, right: 30, top: 56, bottom: 70 },
      dataZoom: [{ type: "slider", xAxisIndex: 0, bottom: 10 }, { type: "inside", xAxisIndex: 0 }],
      xAxis: aligned ? { type: "value", name: "ms since transaction_open", nameLocation: "middle", nameGap: 26 } :
        timeAxis({ min: data.firstTs, max: data.lastTs }),
      yAxis: { type: "category", inverse: true, axisLabel: { fontSize: 10, interval: 0 },
        data: rows.map(function (t) { return (t.flagged ? "⚑ " : "") + (t.injected ? "✱ " : "") + (t.stuck ? "[stuck] " : t.outcome === "failed" ? "[failed] " : "") + t.txn_id; }) },
      series: KINDS.map(function (kind, k) {
        return {
          name: kind.name, type: "custom", itemStyle: { color: kind.color },
          encode: { x: [1, 2], y: 0 },
          data: items.filter(function (it) { return it[3] === k; }),
          renderItem: function (params, api) {
            var start = api.coord([api.value(1), api.value(0)]);
            var end = api.coord([api.value(2), api.value(0)]);
            var step = k === 1 || k === 4;
            var height = api.size([0, 1])[1] * (step ? 0.8 : k === 6 ? 0.3 : 0.55);
            var width = Math.max(step ? 2 : 1, end[0] - start[0]);
            return { type: "rect", shape: { x: start[0], y: start[1] - height / 2, width: width, height: height },
              style: api.style(), transition: [] };
          }
        };
      })
    };
  }
  if (rows.length === 0) empty("timeline", "No transaction to draw: the stream has none.");
  else {
    // One row of at least 16 px per transaction, so that no two labels overlap.
    document.getElementById("timeline").style.height = Math.max(320, rows.length * 16 + 130) + "px";
    make("timeline", timelineOption(false));
    var timelineEntry = charts[charts.length - 1];
    [["mode-stream", false], ["mode-aligned", true]].forEach(function (mode) {
      document.getElementById(mode[0]).addEventListener("click", function () {
        document.getElementById("mode-stream").setAttribute("aria-pressed", String(!mode[1]));
        document.getElementById("mode-aligned").setAttribute("aria-pressed", String(mode[1]));
        timelineEntry.chart.setOption(timelineOption(mode[1]), { notMerge: true });
      });
    });
  }
  if (rows.length === 0) document.querySelector(".modes").style.display = "none";

  var c = data.concurrency;
  var points = c.timeline.max.map(function (v, i) { return [c.timeline.start_ts_ms + i * c.timeline.bucket_ms, v]; });
  if (points.length === 0) empty("concurrency", "No events with a time: nothing to draw over time.");
  else make("concurrency", {
    animation: false,
    useUTC: true,
    tooltip: { trigger: "axis", formatter: function (ps) { var p = ps[0]; return dayFormat.format(new Date(p.value[0])) + " " + escapeHtml(data.timeZone) + "<br>" + p.value[1] + " open"; } },
    grid: { left: 60, right: 60, top: 30, bottom: 50 },
    xAxis: { type: "time", name: "stream time (" + data.timeZone + ")", nameLocation: "middle", nameGap: 30, axisLabel: { formatter: clock, hideOverlap: true } },
    yAxis: { type: "value", name: "open transactions", min: 0 },
    series: [{ name: "most open at once", type: "line", step: "end", showSymbol: false, data: points,
      areaStyle: { opacity: 0.15 }, lineStyle: { width: 1.5 },
      markLine: { symbol: "none", data: [{ yAxis: c.peak, name: "peak" }], label: { formatter: "peak {c}" }, lineStyle: { type: "dashed" } } }]
  });

  if (charts.length === 0) document.documentElement.dataset.rendered = "true";
  charts.forEach(function (entry) { entry.chart.setOption(entry.option); });
  window.addEventListener("resize", function () { charts.forEach(function (entry) { entry.chart.resize(); }); });
})();
`;
