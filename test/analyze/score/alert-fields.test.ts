/**
 * Alerts in a pipeline's own shape: the user names the field that holds the transaction id and the
 * one that holds the time (a dotted path; epoch ms, epoch s or ISO-8601), and the scores are those of
 * the same alerts in wfsim's own format. Bad paths and formats: one line, exit 2.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { analyze } from "../../../src/analyze/analyze.ts";
import { textSource } from "../../../src/analyze/read/source.ts";
import { resolveAlertFields, type AlertFieldsInput } from "../../../src/analyze/score/alert-fields.ts";
import { ALERT_FIELD_NAMES } from "../../../src/cli/alert-field-flags.ts";
import { runCli } from "../../helpers/cli.ts";
import { byTime, compact, ev, transaction } from "../helpers.ts";

// S goes silent at 40 (stuck); O1 and O2 have an outlier wait beginning at 110 and 210; N is clean.
const STREAM = compact(
  byTime(
    [ev.stuckOpen("S", 0), ev.stepOpen("S", 1, 40, 40)],
    transaction("O1", 100, [10, 10], [5000], [true]),
    transaction("O2", 200, [10, 10], [5000], [true]),
    transaction("N", 300, [10, 10], [100]),
  ),
);

// Times on whole seconds, so that epoch seconds say the same.
const BASE = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const ALERTS = [
  { txn: "S", ts: BASE + 60_000, kind: "stuck" },
  { txn: "O1", ts: BASE + 2_000, kind: "outlier" },
  { txn: "N", ts: BASE + 4_000, kind: "outlier" },
  { txn: "ghost", ts: BASE + 5_000, kind: "outlier" },
];
const STREAM_AT_BASE = STREAM.split("\n")
  .map((line) => (line === "" ? line : line.replace(/"ts_ms":(\d+)/, (_, ts: string) => `"ts_ms":${BASE + Number(ts)}`)))
  .join("\n");

async function scores(alerts: readonly object[], input?: AlertFieldsInput) {
  const text = alerts.map((alert) => JSON.stringify(alert)).join("\n");
  const alertFields = input === undefined ? undefined : resolveAlertFields(input, ALERT_FIELD_NAMES);
  const report = await analyze(textSource("events.jsonl", STREAM_AT_BASE), { alerts: textSource("alerts.jsonl", text), alertFields });
  return report.alerts!;
}

describe("alert fields: --alert-txn-field, --alert-time-field, --alert-time-format", () => {
  it("nested fields, epoch ms: the scores of the same alerts in wfsim's own format", async () => {
    const own = await scores(ALERTS.map((a) => ({ txn_id: a.txn, ts_ms: a.ts, kind: a.kind })));
    assert.equal(own.true_positives, 2);
    assert.equal(own.invalid_lines, 0);
    const shaped = await scores(
      ALERTS.map((a) => ({ alert: { about: { txn: a.txn } }, detectedAt: a.ts, kind: a.kind })),
      { txnField: "alert.about.txn", timeField: "detectedAt" },
    );
    assert.deepEqual({ ...shaped, source: own.source }, own);
  });

  it("epoch seconds and ISO-8601 text (with Z or an offset): the same scores", async () => {
    const own = await scores(ALERTS.map((a) => ({ txn_id: a.txn, ts_ms: a.ts, kind: a.kind })));
    const seconds = await scores(ALERTS.map((a) => ({ id: a.txn, at: a.ts / 1000, kind: a.kind })), { txnField: "id", timeField: "at", timeFormat: "s" });
    assert.deepEqual(seconds, own);
    const iso = (ms: number, i: number) => (i % 2 === 0 ? new Date(ms).toISOString() : new Date(ms + 2 * 3_600_000).toISOString().replace("Z", "+02:00"));
    const text = await scores(ALERTS.map((a, i) => ({ id: a.txn, at: iso(a.ts, i), kind: a.kind })), { txnField: "id", timeField: "at", timeFormat: "iso" });
    assert.deepEqual(text, own);
    assert.ok(own.detection_delay_ms.count > 0);
  });

  it("an alert whose fields are missing or of the wrong type: a counted, named invalid line, not a crash", async () => {
    const a = await scores(
      [
        { id: "S", at: "2026-01-01T00:01:00Z" },
        { id: 42, at: "2026-01-01T00:01:00Z" },
        { other: "S" },
        { id: "O1", at: 1_767_225_602_000 },
        { id: "O1", at: "yesterday" },
      ],
      { txnField: "id", timeField: "at", timeFormat: "iso" },
    );
    assert.equal(a.invalid_lines, 4);
    assert.deepEqual(
      a.invalid_examples.map((e) => e.reason),
      [
        "id must be a non-empty string",
        "id must be a non-empty string",
        "at must be ISO-8601 text with a zone (2026-01-31T12:00:00.000Z) when present",
        "at must be ISO-8601 text with a zone (2026-01-31T12:00:00.000Z) when present",
      ],
    );
  });

  it("refuses a path that is not names separated by dots, and an unknown format", () => {
    for (const path of ["", "a..b", ".a", "a.", " a"]) {
      assert.throws(() => resolveAlertFields({ txnField: path }, ALERT_FIELD_NAMES), /^WfsimError: --alert-txn-field must be a field path: names separated by dots/);
    }
    assert.throws(() => resolveAlertFields({ timeFormat: "us" }, ALERT_FIELD_NAMES), {
      message: '--alert-time-format must be ms (epoch milliseconds), s (epoch seconds) or iso (ISO-8601 text with a zone), got "us"',
    });
  });
});

describe("alert field flags on the command line", () => {
  let dir: string;
  let events: string;
  let alerts: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "wfsim-alert-fields-"));
    events = join(dir, "events.jsonl");
    alerts = join(dir, "alerts.jsonl");
    await writeFile(events, STREAM_AT_BASE);
    await writeFile(alerts, ALERTS.map((a) => JSON.stringify({ data: { txn: a.txn }, time: new Date(a.ts).toISOString() })).join("\n") + "\n");
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const oneLine = (result: { code: number | null; stdout: string; stderr: string }) => {
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stdout, "");
    const lines = result.stderr.split("\n").filter((line) => line !== "");
    assert.equal(lines.length, 1, result.stderr);
    return lines[0]!;
  };

  it("analyze --alerts with the fields named scores them", async () => {
    const result = await runCli(["analyze", events, "--alerts", alerts, "--alert-txn-field", "data.txn", "--alert-time-field", "time", "--alert-time-format", "iso", "--format", "json"]);
    assert.equal(result.code, 0, result.stderr);
    const a = JSON.parse(result.stdout).alerts;
    assert.deepEqual([a.alerted, a.true_positives, a.invalid_lines], [4, 2, 0]);
  });

  it("bad input: one line naming the flag, exit 2", async () => {
    assert.equal(
      oneLine(await runCli(["analyze", events, "--alerts", alerts, "--alert-txn-field", "data..txn"])),
      'wfsim: --alert-txn-field must be a field path: names separated by dots, such as txn_id or data.order.txn, got "data..txn"',
    );
    assert.match(oneLine(await runCli(["analyze", events, "--alerts", alerts, "--alert-time-format", "minutes"])), /^wfsim: --alert-time-format must be ms .*got "minutes"$/);
    assert.equal(oneLine(await runCli(["analyze", events, "--alert-time-field", "time"])), "wfsim: --alert-time-field applies to --alerts");
    assert.equal(oneLine(await runCli(["run", "--samples", "5", "--alert-txn-field", "id"])), "wfsim: --alert-txn-field applies to --score-alerts");
    assert.match(oneLine(await runCli(["run", "--samples", "5", "--score-alerts", `file:${alerts}`, "--alert-time-field", "a.", "--dry-run"])), /^wfsim: --alert-time-field must be a field path/);
  });
});

describe("alert fields with a shaped run: run --score-alerts and analyze --alerts", () => {
  const SHOP = new URL("../../../examples/shop-orders.yaml", import.meta.url).pathname;
  const RUN = ["run", "--scenario", SHOP, "--clock", "virtual", "--samples", "1500", "--seed", "5", "--start-time", "2026-01-01T00:00:00Z"];

  it("live scores and analyze's agree, and equal the scores of the same alerts in wfsim's own format", async (t) => {
    const dir = await mkdtemp(join(tmpdir(), "wfsim-alert-fields-shaped-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const first = await runCli([...RUN, "-q", "--truth", join(dir, "t1.jsonl"), "-o", join(dir, "e1.jsonl")]);
    assert.equal(first.code, 0, first.stderr);
    const truth = (await readFile(join(dir, "t1.jsonl"), "utf8")).split("\n").filter((line) => line !== "").map((line) => JSON.parse(line) as Record<string, unknown>);
    // Alerts on every other anomaly, 3 s after it began; and on a few clean transactions.
    const chosen: { txn: string; ts: number; kind: string }[] = [];
    let i = 0;
    for (const record of truth) {
      if (record.kind !== "outlier" && record.kind !== "stuck") continue;
      const began = (record.kind === "stuck" ? record.silent_since_ms : record.ts_ms) as number;
      if (i++ % 2 === 0) chosen.push({ txn: record.txn_id as string, ts: began + 3_000, kind: record.kind });
    }
    assert.ok(chosen.length > 5, `${chosen.length} alerts`);
    const shaped = join(dir, "alerts-shaped.jsonl");
    const own = join(dir, "alerts-own.jsonl");
    await writeFile(shaped, chosen.map((a) => JSON.stringify({ order: { txn: a.txn }, raisedAt: new Date(a.ts).toISOString(), kind: a.kind })).join("\n") + "\n");
    await writeFile(own, chosen.map((a) => JSON.stringify({ txn_id: a.txn, ts_ms: a.ts, kind: a.kind })).join("\n") + "\n");
    const fields = ["--alert-txn-field", "order.txn", "--alert-time-field", "raisedAt", "--alert-time-format", "iso"];

    const reportPath = join(dir, "live.json");
    const live = await runCli([...RUN, "--truth", join(dir, "t2.jsonl"), "-o", join(dir, "e2.jsonl"), "--score-alerts", `file:${shaped}`, ...fields, "--score-grace", "0", "--report", reportPath]);
    assert.equal(live.code, 0, live.stderr);
    const analyzed = async (alerts: string, extra: readonly string[]) => {
      const result = await runCli(["analyze", "--scenario", SHOP, join(dir, "e2.jsonl"), "--truth", join(dir, "t2.jsonl"), "--alerts", alerts, ...extra, "--format", "json"]);
      assert.equal(result.code, 0, result.stderr);
      return (JSON.parse(result.stdout) as { alerts: Record<string, unknown> }).alerts;
    };
    const liveAlerts = (JSON.parse(await readFile(reportPath, "utf8")) as { alerts: Record<string, unknown> }).alerts;
    const fromShaped = await analyzed(shaped, fields);
    assert.deepEqual(liveAlerts, fromShaped);
    const fromOwn = await analyzed(own, []);
    assert.deepEqual({ ...fromShaped, source: fromOwn.source }, fromOwn);
    assert.equal(fromOwn.true_positives, chosen.length);
    assert.equal(fromOwn.invalid_lines, 0);
  });
});
