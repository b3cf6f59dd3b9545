/**
 * `wfsim run --score-alerts file:PATH`: live scoring of a pipeline's alerts. Its final scores must be
 * those `wfsim analyze --alerts` computes afterwards from the same run and alerts (it reuses the
 * analyzer's scorer; this test holds it to that), with alerts before, during and after their
 * anomaly, duplicates, alerts of the wrong kind, on unlabelled and unknown transactions, and lines
 * that are no alerts. Then a real-clock run whose alerts arrive while it goes on.
 */
import assert from "node:assert/strict";
import { appendFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { collect, parseLines, runCli, startCli } from "../helpers/cli.ts";
import { alertsFor, pollUntil } from "./helpers.ts";

const EXAMPLE = new URL("../../examples/checkout.yaml", import.meta.url).pathname;
const RUN = ["run", "--scenario", EXAMPLE, "--clock", "virtual", "--samples", "2000", "--seed", "11", "--start-time", "2026-01-01T00:00:00Z"];

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "wfsim-score-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe("wfsim run --score-alerts", () => {
  it("ends with the scores analyze --alerts computes afterwards from the same run and alerts", async (t) => {
    const dir = await tempDir(t);
    // A first run gives the transactions and anomalies the alerts are written about; the second,
    // the same run again (same seed and start), is scored live.
    const first = await runCli([...RUN, "-q", "--truth", join(dir, "t1.jsonl"), "-o", join(dir, "e1.jsonl")]);
    assert.equal(first.code, 0, first.stderr);
    const truth = parseLines(await readFile(join(dir, "t1.jsonl"), "utf8"));
    const alertsPath = join(dir, "alerts.jsonl");
    await writeFile(alertsPath, alertsFor(truth, parseLines(await readFile(join(dir, "e1.jsonl"), "utf8"))));

    const reportPath = join(dir, "live.json");
    const live = await runCli([...RUN, "--truth", join(dir, "t2.jsonl"), "-o", join(dir, "e2.jsonl"), "--score-alerts", `file:${alertsPath}`, "--score-grace", "0", "--alert-deadline", "10s", "--report", reportPath]);
    assert.equal(live.code, 0, live.stderr);
    const after = await runCli(["analyze", join(dir, "e2.jsonl"), "--truth", join(dir, "t2.jsonl"), "--alerts", alertsPath, "--format", "json"]);
    assert.equal(after.code, 0, after.stderr);

    const report = JSON.parse(await readFile(reportPath, "utf8")) as { alerts: Record<string, unknown>; deadline_ms: number; overdue: { total: number; stuck: number; outlier: number; listed: { txn_id: string; kind: string; started_ms: number; due_ms: number }[] } };
    const analyzed = (JSON.parse(after.stdout) as { alerts: Record<string, unknown> }).alerts;
    assert.deepEqual(report.alerts, analyzed);
    // Not an agreement on nothing: every case is there.
    const a = report.alerts as { true_positives: number; false_positives: number; unknown_transactions: number; invalid_lines: number; early_alerts: number; labelled: number };
    assert.ok(a.true_positives > 10 && a.false_positives > 40 && a.early_alerts > 0, JSON.stringify(a));
    assert.equal(a.unknown_transactions, 1);
    assert.equal(a.invalid_lines, 2);

    // Overdue: each anomaly with no alert of its kind by 10 s after it began, on stderr and in the report.
    const alerts = parseLines(await readFile(alertsPath, "utf8").then((text) => text.split("\n").slice(0, -2).join("\n")));
    const expected = new Set<string>();
    for (const record of truth) {
      if (record.kind !== "outlier" && record.kind !== "stuck") continue;
      const started = record.kind === "stuck" ? (record.silent_since_ms as number) : (record.ts_ms as number);
      const key = `${record.kind}:${record.txn_id}`;
      if (record.kind === "outlier" && truth.some((other) => other !== record && other.kind === "outlier" && other.txn_id === record.txn_id && (other.ts_ms as number) < started)) continue;
      const found = alerts.some((alert) => alert.txn_id === record.txn_id && alert.kind === record.kind && (alert.ts_ms as number) <= started + 10_000);
      if (!found) expected.add(key);
    }
    assert.ok(expected.size > 0);
    assert.deepEqual(new Set(report.overdue.listed.map((o) => `${o.kind}:${o.txn_id}`)), expected);
    assert.equal(report.overdue.total, expected.size);
    assert.equal(live.stderr.split("\n").filter((line) => line.startsWith("wfsim: overdue: ")).length, expected.size);
    assert.match(live.stderr, /wfsim: alerts from .*alerts\.jsonl: \d+ lines \(2 skipped\)/);
  });

  it("scores alerts appended while a real-clock run goes on, and lists overdue anomalies as they happen", async (t) => {
    const dir = await tempDir(t);
    const alertsPath = join(dir, "alerts.jsonl");
    const truthPath = join(dir, "truth.jsonl");
    await writeFile(alertsPath, "");
    // Every gap an outlier. Of the outlier transactions, every other one gets an alert as soon as its
    // label shows in the truth file; the others never do and must become overdue, while the run goes on.
    const child = startCli(["run", "--clock", "real", "--speed", "20", "--samples", "200", "--concurrency", "20", "--pre-max", "200", "--inter-max", "200", "--outlier-prob", "1", "--outlier-ms", "2000",
      "--truth", truthPath, "-o", join(dir, "events.jsonl"), "--score-alerts", `file:${alertsPath}`, "--alert-deadline", "20s", "--score-grace", "5s", "--report", join(dir, "live.json")]);
    const done = collect(child, { timeoutMs: 120_000 });
    t.after(() => child.kill("SIGKILL"));
    const seen = new Set<string>();
    const ignored = new Set<string>();
    let finished = false;
    void done.then(() => (finished = true));
    await pollUntil("the run's end", async () => {
      const text = await readFile(truthPath, "utf8").catch(() => "");
      const fresh: Record<string, unknown>[] = [];
      for (const record of parseLines(text.slice(0, text.lastIndexOf("\n") + 1))) {
        const id = record.txn_id as string;
        if (record.kind !== "outlier" || seen.has(id)) continue;
        seen.add(id);
        if (seen.size % 2 === 0) fresh.push(record);
        else ignored.add(id);
      }
      if (fresh.length > 0) await appendFile(alertsPath, fresh.map((record) => `${JSON.stringify({ txn_id: record.txn_id, ts_ms: (record.ts_ms as number) + 100 })}\n`).join(""));
      return finished ? true : undefined;
    }, 100_000, 50);
    const result = await done;
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(await readFile(join(dir, "live.json"), "utf8")) as { alerts: { recall: number; precision: number; labelled: number; true_positives: number; detection_delay_ms: { p50: number } }; overdue: { listed: { txn_id: string }[] } };
    // Alerts written while the run went on all counted: each answered transaction found 100 ms after its anomaly began.
    assert.equal(report.alerts.labelled, seen.size);
    assert.equal(report.alerts.true_positives, seen.size - ignored.size);
    assert.equal(report.alerts.precision, 1);
    assert.equal(report.alerts.detection_delay_ms.p50, 100);
    // Every ignored one overdue, reported before the run's final scores.
    const overdue = new Set(report.overdue.listed.map((o) => o.txn_id));
    for (const id of ignored) assert.ok(overdue.has(id), `${id} should be overdue`);
    const lines = result.stderr.split("\n");
    const firstOverdue = lines.findIndex((line) => line.startsWith("wfsim: overdue: outlier in "));
    const finalScores = lines.findIndex((line) => line.startsWith("wfsim: alerts from "));
    assert.ok(firstOverdue >= 0 && firstOverdue < finalScores, result.stderr);
  });

  it("refuses an unreadable alert file, a source that is not file:PATH, and its flags without it: one line, exit 2", async (t) => {
    const dir = await tempDir(t);
    const missing = await runCli(["run", "--samples", "5", "-o", join(dir, "e.jsonl"), "--score-alerts", `file:${join(dir, "nope.jsonl")}`]);
    assert.equal(missing.code, 2);
    assert.equal(missing.stderr, `wfsim: --score-alerts: cannot read ${join(dir, "nope.jsonl")}: no such file or directory\n`);
    const bad = await runCli(["run", "--samples", "5", "--score-alerts", "alerts.jsonl"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^wfsim: --score-alerts must be file:PATH.*, got 'alerts\.jsonl'\n$/);
    const stray = await runCli(["run", "--samples", "5", "--score-grace", "2s"]);
    assert.equal(stray.code, 2);
    assert.equal(stray.stderr, "wfsim: --score-grace applies to --score-alerts\n");
    // --dry-run checks them too, opening nothing.
    const dry = await runCli(["run", "--samples", "5", "--dry-run", "--metrics", "127.0.0.1:1", "--score-alerts", "kafka:alerts"]);
    assert.equal(dry.code, 2);
    assert.equal(dry.stderr, "wfsim: --score-alerts kafka:alerts reads with the Kafka output's connection flags: add --kafka-bootstrap HOST:PORT\n");
    const dryOk = await runCli(["run", "--samples", "5", "--dry-run", "--metrics", "127.0.0.1:1", "--score-alerts", `file:${join(dir, "nope.jsonl")}`]);
    assert.equal(dryOk.code, 0, dryOk.stderr);
    await writeFile(join(dir, "a.jsonl"), "");
    const deadline = await runCli(["run", "--samples", "5", "--score-alerts", `file:${join(dir, "a.jsonl")}`, "--alert-deadline", "soon"]);
    assert.equal(deadline.code, 2);
    assert.match(deadline.stderr, /^wfsim: --alert-deadline must be a duration such as .*, got 'soon'\n$/);
    // Refused after the alert file was opened (the metrics port is taken): the error alone, no "scoring alerts from".
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    t.after(() => new Promise<void>((resolve) => taken.close(() => resolve())));
    const port = (taken.address() as AddressInfo).port;
    const busy = await runCli(["run", "--samples", "5", "-o", join(dir, "e.jsonl"), "--metrics", `127.0.0.1:${port}`, "--score-alerts", `file:${join(dir, "a.jsonl")}`]);
    assert.equal(busy.code, 2);
    assert.equal(busy.stderr, `wfsim: --metrics cannot listen on 127.0.0.1:${port}: the port is in use\n`);
  });
});
