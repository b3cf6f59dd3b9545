/**
 * `wfsim run --metrics`: scraped by a real Prometheus server (Debian's package) on loopback, queried
 * through its HTTP API; and the user's mistakes (a port in use, a bad address) as one line, exit 2.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { collect, parseLines, runCli, startCli } from "../helpers/cli.ts";
import { alertLines, pollUntil, PROMETHEUS, startPrometheus, stderrMatch } from "./helpers.ts";

const EXAMPLE = new URL("../../examples/checkout.yaml", import.meta.url).pathname;
const ADDRESS = /metrics at http:\/\/(127\.0\.0\.1:\d+)\/metrics/;

describe("wfsim run --metrics", () => {
  it("is scraped by a real Prometheus while the run goes on, with counts that agree with each other", { skip: existsSync(PROMETHEUS) ? false : `${PROMETHEUS} not found (apt-get install prometheus)` }, async (t) => {
    // A real-clock run long enough to be scraped many times; stopped by SIGINT once Prometheus has it.
    const child = startCli(["run", "--clock", "real", "--duration", "120s", "--samples", "unlimited", "--concurrency", "200", "--pre-max", "200", "--inter-max", "200", "--outlier-prob", "0.2", "-o", "/dev/null", "--metrics", "127.0.0.1:0"]);
    const done = collect(child, { timeoutMs: 120_000 });
    t.after(() => child.kill("SIGKILL"));
    const target = (await stderrMatch(child, ADDRESS))[1]!;
    const prometheus = await startPrometheus(target);
    t.after(() => prometheus.stop());

    const opened = await pollUntil("a scrape with transactions opened", async () => {
      const [sample] = await prometheus.query('wfsim_transactions_opened_total{job="wfsim"}');
      return sample !== undefined && sample.value > 0 ? sample.value : undefined;
    });
    assert.ok(opened >= 200, `the first 200 open at once, got ${opened}`);
    const [up] = await prometheus.query('up{job="wfsim"}');
    assert.equal(up?.value, 1);
    // Same scrape, two views of one tally: transaction_open events are the transactions opened.
    const [difference] = await prometheus.query('wfsim_events_total{type="transaction_open"} - ignoring(type) wfsim_transactions_opened_total');
    assert.equal(difference?.value, 0);
    const [inFlight] = await prometheus.query("wfsim_transactions_in_flight");
    assert.equal(inFlight?.value, 200, "closed model: the concurrency is always in flight");
    // Wakes happened on a real clock: the lateness histogram counts them, every bucket within +Inf.
    const wakes = await pollUntil("wakes in the lateness histogram", async () => {
      const [sample] = await prometheus.query("wfsim_wake_lateness_seconds_count");
      return sample !== undefined && sample.value > 0 ? sample.value : undefined;
    });
    const buckets = await prometheus.query("wfsim_wake_lateness_seconds_bucket");
    assert.equal(buckets.length, 14);
    const inf = buckets.find((sample) => sample.metric.le === "+Inf");
    assert.ok(inf !== undefined && inf.value >= wakes);
    for (const sample of buckets) assert.ok(sample.value <= inf.value, `bucket le=${sample.metric.le}`);
    const kinds = (await prometheus.query("wfsim_anomalies_injected_total")).map((sample) => sample.metric.kind).sort();
    assert.deepEqual(kinds, ["outlier", "step_failure", "stuck"]);

    child.kill("SIGINT");
    const result = await done;
    assert.equal(result.code, 130, result.stderr);
  });

  it("serves live scoring's figures: the scores so far, equal to the final report once every alert is in", async (t) => {
    const dir = await mkdtemp(join(tmpdir(), "wfsim-metrics-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const run = ["run", "--scenario", EXAMPLE, "--clock", "virtual", "--samples", "1000", "--seed", "3", "--start-time", "2026-01-01T00:00:00Z"];
    const first = await runCli([...run, "-q", "--truth", join(dir, "t1.jsonl"), "-o", join(dir, "e1.jsonl")]);
    assert.equal(first.code, 0, first.stderr);
    const lines = alertLines(parseLines(await readFile(join(dir, "t1.jsonl"), "utf8")), parseLines(await readFile(join(dir, "e1.jsonl"), "utf8")));
    await writeFile(join(dir, "alerts.jsonl"), `${lines.join("\n")}\n`);
    // A long grace keeps the finished run serving its scores until the signal.
    const child = startCli([...run, "--truth", join(dir, "t2.jsonl"), "-o", join(dir, "e2.jsonl"), "--score-alerts", `file:${join(dir, "alerts.jsonl")}`, "--score-grace", "10m", "--report", join(dir, "live.json"), "--metrics", "127.0.0.1:0"]);
    const done = collect(child, { timeoutMs: 120_000 });
    t.after(() => child.kill("SIGKILL"));
    const url = `http://${(await stderrMatch(child, ADDRESS))[1]!}/metrics`;
    const sample = (text: string, name: string) => {
      const match = new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, "m").exec(text);
      return match === null ? undefined : Number(match[1]);
    };
    // Scores are recomputed about once a second: wait for one with every alert line and every anomaly of the run.
    const truth = parseLines(await readFile(join(dir, "t1.jsonl"), "utf8"));
    const anomalies = new Set(truth.filter((record) => record.kind === "outlier" || record.kind === "stuck").map((record) => record.txn_id)).size;
    const settled = await pollUntil("scores of every alert and every anomaly", async () => {
      const body = await (await fetch(url)).text();
      return sample(body, "wfsim_alert_lines_total") === lines.length && sample(body, "wfsim_alert_anomalies_labelled") === anomalies ? body : undefined;
    });
    child.kill("SIGINT");
    const result = await done;
    assert.equal(result.code, 130, result.stderr);
    const report = JSON.parse(await readFile(join(dir, "live.json"), "utf8")) as { alerts: { precision: number; recall: number; invalid_lines: number; false_positives: number }; overdue: { outlier: number; stuck: number } };
    assert.equal(sample(settled, 'wfsim_alert_precision{kind="all"}'), report.alerts.precision);
    assert.equal(sample(settled, 'wfsim_alert_recall{kind="all"}'), report.alerts.recall);
    assert.equal(sample(settled, "wfsim_alert_false_positives"), report.alerts.false_positives);
    assert.equal(sample(settled, 'wfsim_errors_total{kind="alert_line"}'), report.alerts.invalid_lines);
    assert.equal(sample(settled, 'wfsim_anomalies_overdue_total{kind="outlier"}'), report.overdue.outlier);
    assert.equal(sample(settled, 'wfsim_anomalies_overdue_total{kind="stuck"}'), report.overdue.stuck);
  });

  it("refuses a port in use: one line naming the flag and the address, exit 2, no output file", async (t) => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    t.after(() => busy.close());
    const port = (busy.address() as { port: number }).port;
    const dir = await mkdtemp(join(tmpdir(), "wfsim-metrics-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const output = join(dir, "events.jsonl");
    const result = await runCli(["run", "--samples", "5", "-o", output, "--metrics", `127.0.0.1:${port}`]);
    assert.equal(result.code, 2);
    assert.equal(result.stderr, `wfsim: --metrics cannot listen on 127.0.0.1:${port}: the port is in use\n`);
    assert.equal(existsSync(output), false);
  });

  it("refuses an address that is not HOST:PORT, and one no interface has", async () => {
    const bad = await runCli(["run", "--samples", "5", "--metrics", "localhost:http"]);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, "wfsim: --metrics must be HOST:PORT, :PORT or PORT (a port from 0 to 65535), got 'localhost:http'\n");
    assert.equal(bad.stdout, "");
    // 192.0.2.0/24 is TEST-NET-1: documentation only, on no interface.
    const unbound = await runCli(["run", "--samples", "5", "--metrics", "192.0.2.1:9464"]);
    assert.equal(unbound.code, 2);
    assert.equal(unbound.stderr, "wfsim: --metrics cannot listen on 192.0.2.1:9464: no network interface has that address\n");
  });
});
