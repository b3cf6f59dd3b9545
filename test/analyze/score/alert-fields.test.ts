/**
 * Alerts in a pipeline's own shape: the user names the field that holds the transaction id and the
 * one that holds the time (a dotted path; epoch ms, epoch s or ISO-8601), and the scores are those of
 * the same alerts in wfsim's own format. Bad paths and formats: one line, exit 2.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
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
