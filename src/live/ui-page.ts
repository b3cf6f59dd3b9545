/**
 * The live page: one self-contained HTML document (styles and script inline, no asset from the
 * network), fed by Server-Sent Events from /events. Each figure is an element whose id names it and
 * whose data-value holds the raw number, so a test (or a user's script) can read exactly what the
 * page shows. Charts are inline SVG polylines of the last few minutes, redrawn on each snapshot.
 */
export const UI_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>wfsim live</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font: 14px system-ui, sans-serif; margin: 1.5rem; color: #1d2433; background: #fafbfc; }
  h1 { font-size: 1.2rem; margin: 0 0 1rem; }
  h2 { font-size: 1rem; margin: 1.5rem 0 .5rem; }
  .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(10rem, 1fr)); gap: .5rem; }
  .card { background: #fff; border: 1px solid #d8dee8; border-radius: 6px; padding: .5rem .75rem; }
  .card .label { color: #5b6579; font-size: .8rem; }
  .card .value { font-size: 1.3rem; font-variant-numeric: tabular-nums; }
  svg { background: #fff; border: 1px solid #d8dee8; border-radius: 6px; width: 100%; height: 120px; }
  polyline { fill: none; stroke-width: 1.5; }
  table { border-collapse: collapse; background: #fff; }
  td, th { border: 1px solid #d8dee8; padding: .2rem .5rem; text-align: left; font-variant-numeric: tabular-nums; }
  #status { color: #5b6579; }
</style>
</head>
<body>
<h1>wfsim live <span id="status">connecting…</span></h1>
<section id="run-section">
  <h2>Run</h2>
  <div class="grid">
    <div class="card"><div class="label">events/s</div><div class="value" id="events-per-second">–</div></div>
    <div class="card"><div class="label">events</div><div class="value" id="events">–</div></div>
    <div class="card"><div class="label">in flight</div><div class="value" id="in-flight">–</div></div>
    <div class="card"><div class="label">opened</div><div class="value" id="opened">–</div></div>
    <div class="card"><div class="label">closed</div><div class="value" id="closed">–</div></div>
    <div class="card"><div class="label">failed</div><div class="value" id="failed">–</div></div>
    <div class="card"><div class="label">stuck</div><div class="value" id="stuck">–</div></div>
    <div class="card"><div class="label">wake lateness p99 (ms)</div><div class="value" id="lateness-p99">–</div></div>
    <div class="card"><div class="label">outliers injected</div><div class="value" id="anomalies-outlier">–</div></div>
    <div class="card"><div class="label">stuck injected</div><div class="value" id="anomalies-stuck">–</div></div>
    <div class="card"><div class="label">step failures injected</div><div class="value" id="anomalies-step_failure">–</div></div>
  </div>
  <h2>Events/s and in flight</h2>
  <svg id="chart-run" viewBox="0 0 600 120" preserveAspectRatio="none"><polyline id="line-rate" stroke="#2f6fdf"/><polyline id="line-inflight" stroke="#d9822b"/></svg>
</section>
<section id="follow-section" hidden>
  <h2>Follower</h2>
  <div class="grid">
    <div class="card"><div class="label">events/s</div><div class="value" id="follow-events-per-second">–</div></div>
    <div class="card"><div class="label">events read</div><div class="value" id="follow-events">–</div></div>
    <div class="card"><div class="label">open transactions</div><div class="value" id="follow-open">–</div></div>
    <div class="card"><div class="label">alerts</div><div class="value" id="follow-alerts">–</div></div>
    <div class="card"><div class="label">lag (records)</div><div class="value" id="follow-lag">–</div></div>
    <div class="card"><div class="label">partitions</div><div class="value" id="follow-partitions">–</div></div>
    <div class="card"><div class="label">event time</div><div class="value" id="follow-event-time">–</div></div>
  </div>
  <h2>Events/s and alerts</h2>
  <svg id="chart-follow" viewBox="0 0 600 120" preserveAspectRatio="none"><polyline id="line-follow-rate" stroke="#2f6fdf"/><polyline id="line-follow-alerts" stroke="#c2413b"/></svg>
</section>
<section id="scores-section" hidden>
  <h2>Alerts <span id="alerts-source"></span></h2>
  <div class="grid">
    <div class="card"><div class="label">precision</div><div class="value" id="precision">–</div></div>
    <div class="card"><div class="label">recall</div><div class="value" id="recall">–</div></div>
    <div class="card"><div class="label">delay p50 (ms)</div><div class="value" id="delay-p50">–</div></div>
    <div class="card"><div class="label">delay p99 (ms)</div><div class="value" id="delay-p99">–</div></div>
    <div class="card"><div class="label">alert lines</div><div class="value" id="alert-lines">–</div></div>
    <div class="card"><div class="label">skipped lines</div><div class="value" id="alert-skipped">–</div></div>
    <div class="card"><div class="label">found / to find</div><div class="value"><span id="true-positives">–</span> / <span id="labelled">–</span></div></div>
    <div class="card"><div class="label">false alerts</div><div class="value" id="false-positives">–</div></div>
    <div class="card"><div class="label">outlier recall</div><div class="value" id="recall-outlier">–</div></div>
    <div class="card"><div class="label">stuck recall</div><div class="value" id="recall-stuck">–</div></div>
    <div class="card"><div class="label">overdue</div><div class="value" id="overdue">–</div></div>
  </div>
  <h2>Alert lines and anomalies injected</h2>
  <svg id="chart-alerts" viewBox="0 0 600 120" preserveAspectRatio="none"><polyline id="line-alerts" stroke="#2f9e5a"/><polyline id="line-anomalies" stroke="#c2413b"/></svg>
  <h2>Overdue anomalies (newest first; no alert within <span id="deadline">–</span> ms)</h2>
  <table><thead><tr><th>transaction</th><th>kind</th><th>began</th><th>due</th></tr></thead><tbody id="overdue-list"></tbody></table>
</section>
<script>
"use strict";
const HISTORY = 300;
const history = [];
const number = new Intl.NumberFormat("en-US");
function show(id, value, text) {
  const element = document.getElementById(id);
  if (element === null) return;
  element.dataset.value = value === null || value === undefined ? "" : String(value);
  element.textContent = value === null || value === undefined ? "n/a" : (text ?? number.format(value));
}
const percent = (value) => (value === null ? null : (value * 100).toFixed(1) + "%");
function draw(id, values, max) {
  const points = values.map((value, i) => (i * 600) / Math.max(1, HISTORY - 1) + "," + (118 - (value / (max || 1)) * 116)).join(" ");
  document.getElementById(id).setAttribute("points", points);
}
function render(snapshot) {
  const run = snapshot.run;
  if (run !== null) {
    show("events-per-second", run.eventsPerSecond);
    show("events", run.events);
    show("in-flight", run.inFlight);
    show("opened", run.opened);
    show("closed", run.closed);
    show("failed", run.failed);
    show("stuck", run.stuck);
    show("lateness-p99", run.wakes === 0 ? null : run.latenessP99Ms, run.wakes === 0 ? "n/a" : run.latenessP99Ms.toFixed(2));
    for (const [kind, count] of Object.entries(run.anomalies)) show("anomalies-" + kind, count);
  }
  const follow = snapshot.follow ?? null;
  document.getElementById("run-section").hidden = run === null && follow !== null;
  if (follow !== null) {
    document.getElementById("follow-section").hidden = false;
    show("follow-events-per-second", follow.eventsPerSecond);
    show("follow-events", follow.events);
    show("follow-open", follow.open);
    show("follow-alerts", follow.alerts);
    show("follow-lag", follow.lag);
    show("follow-partitions", follow.partitions);
    show("follow-event-time", follow.eventTime, follow.eventTime === null ? "none yet" : new Date(follow.eventTime).toISOString());
  }
  const scores = snapshot.scores;
  if (scores !== null) {
    document.getElementById("scores-section").hidden = false;
    document.getElementById("alerts-source").textContent = "from " + scores.source;
    show("precision", scores.precision, percent(scores.precision));
    show("recall", scores.recall, percent(scores.recall));
    show("delay-p50", scores.delayP50Ms);
    show("delay-p99", scores.delayP99Ms);
    show("alert-lines", scores.lines);
    show("alert-skipped", scores.skipped);
    show("true-positives", scores.truePositives);
    show("labelled", scores.labelled);
    show("false-positives", scores.falsePositives);
    show("recall-outlier", scores.byKind.outlier.recall, percent(scores.byKind.outlier.recall));
    show("recall-stuck", scores.byKind.stuck.recall, percent(scores.byKind.stuck.recall));
    show("overdue", scores.overdue);
    document.getElementById("deadline").textContent = number.format(scores.deadlineMs);
    const rows = scores.overdueShown.map((o) => "<tr><td>" + escape(o.txn_id) + "</td><td>" + o.kind + "</td><td>" + new Date(o.started_ms).toISOString() + "</td><td>" + new Date(o.due_ms).toISOString() + "</td></tr>");
    document.getElementById("overdue-list").innerHTML = rows.join("");
  }
  history.push({ followRate: follow?.eventsPerSecond ?? 0, followAlerts: follow?.alerts ?? 0, rate: run?.eventsPerSecond ?? 0, inFlight: run?.inFlight ?? 0, alerts: scores?.lines ?? 0, anomalies: run === null ? 0 : (run.anomalies.outlier ?? 0) + (run.anomalies.stuck ?? 0) });
  if (history.length > HISTORY) history.shift();
  const max = (key) => Math.max(1, ...history.map((h) => h[key]));
  draw("line-rate", history.map((h) => h.rate), max("rate"));
  draw("line-inflight", history.map((h) => h.inFlight), max("inFlight"));
  draw("line-follow-rate", history.map((h) => h.followRate), max("followRate"));
  draw("line-follow-alerts", history.map((h) => h.followAlerts), max("followAlerts"));
  const alertsMax = Math.max(max("alerts"), max("anomalies"));
  draw("line-alerts", history.map((h) => h.alerts), alertsMax);
  draw("line-anomalies", history.map((h) => h.anomalies), alertsMax);
  document.getElementById("status").textContent = "updated " + new Date(snapshot.at).toLocaleTimeString();
  document.body.dataset.updates = String(Number(document.body.dataset.updates ?? 0) + 1);
}
function escape(text) {
  return String(text).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
}
const source = new EventSource("events");
source.onmessage = (message) => render(JSON.parse(message.data));
source.onerror = () => (document.getElementById("status").textContent = "disconnected (the run may be over)");
</script>
</body>
</html>
`;
