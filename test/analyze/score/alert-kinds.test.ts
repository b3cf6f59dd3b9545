/**
 * Alerts that say which kind they are (`kind`: outlier or stuck) are scored per kind: each kind's
 * precision, recall and delays come from its own alerts, beside the pooled figures.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { analyze } from "../../../src/analyze/analyze.ts";
import { textSource } from "../../../src/analyze/read/source.ts";
import { renderText } from "../../../src/analyze/render/text.ts";
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

async function score(alerts: readonly object[]) {
  const text = alerts.map((alert) => JSON.stringify(alert)).join("\n");
  const report = await analyze(textSource("events.jsonl", STREAM), { alerts: textSource("alerts.jsonl", text) });
  return { report, a: report.alerts! };
}

describe("analyze --alerts: alerts with a kind", () => {
  it("matches alerts to anomalies by kind: precision, recall and delay per kind beside the pooled figures", async () => {
    const { report, a } = await score([
      { txn_id: "S", ts_ms: 60_040, kind: "stuck" }, // right
      { txn_id: "O1", ts_ms: 2_110, kind: "outlier" }, // right, delay 2,000
      { txn_id: "O2", ts_ms: 4_210, kind: "stuck" }, // a slow transaction called stuck: wrong for stuck, O2 not found as an outlier
      { txn_id: "N", ts_ms: 400, kind: "outlier" }, // wrong
      { txn_id: "ghost", ts_ms: 500, kind: "outlier" }, // wrong, not in the stream
      { txn_id: "O1", ts_ms: 3_000, kind: "outlier" }, // a later alert of the same transaction: the earliest counts
    ]);
    // Pooled, any alert on a transaction to find finds it: S, O1 and O2 of 3.
    assert.deepEqual([a.alerted, a.labelled, a.true_positives, a.false_positives, a.false_negatives], [5, 3, 3, 2, 0]);
    assert.equal(a.alerts_with_kind, 6);
    const { outlier, stuck } = a.by_kind;
    assert.deepEqual(
      [outlier.alerted, outlier.true_positives, outlier.false_positives, outlier.precision, outlier.labelled, outlier.detected, outlier.recall],
      [3, 1, 2, 1 / 3, 2, 1, 0.5],
    );
    assert.deepEqual([outlier.detection_delay_ms.count, outlier.detection_delay_ms.max], [1, 2000]);
    assert.deepEqual(
      [stuck.alerted, stuck.true_positives, stuck.false_positives, stuck.precision, stuck.labelled, stuck.detected, stuck.recall],
      [2, 1, 1, 0.5, 1, 1, 1],
    );
    assert.deepEqual([stuck.detection_delay_ms.count, stuck.detection_delay_ms.max], [1, 60_000]);
    const text = renderText(report);
    assert.match(text, /outliers: 3 alerted, 1 right, 2 wrong; 1 of 2 found; precision 33\.33%, recall 50\.00%/);
    assert.match(text, /stuck: 2 alerted, 1 right, 1 wrong; 1 of 1 found; precision 50\.00%, recall 100\.00%/);
  });

  it("scores a stuck-only detector's recall on stuck transactions, not on all of them", async () => {
    const { a } = await score([{ txn_id: "S", ts_ms: 60_040, kind: "stuck" }]);
    assert.equal(a.recall, 1 / 3, "pooled: one of the three to find");
    assert.deepEqual([a.by_kind.stuck.precision, a.by_kind.stuck.recall], [1, 1]);
    assert.deepEqual([a.by_kind.outlier.alerted, a.by_kind.outlier.precision, a.by_kind.outlier.recall], [0, null, 0]);
  });

  it("counts kinds it does not score apart, in the pooled figures only", async () => {
    const { report, a } = await score([
      { txn_id: "O1", ts_ms: 2_110, kind: "slow" },
      { txn_id: "S", ts_ms: 60_040, kind: "stuck" },
    ]);
    assert.deepEqual(a.other_kinds, { slow: 1 });
    assert.equal(a.true_positives, 2);
    assert.equal(a.by_kind.outlier.detected, 0, "a kind outlier alert is what finds an outlier");
    assert.match(renderText(report), /other kinds \(pooled figures only\): slow 1/);
  });

  it("without kind, scores each kind by any alert on its transactions, and reports no per-kind precision", async () => {
    const { a } = await score([{ txn_id: "S", ts_ms: 60_040 }, { txn_id: "O1", ts_ms: 2_110 }, { txn_id: "N", ts_ms: 400 }]);
    assert.equal(a.alerts_with_kind, 0);
    assert.deepEqual([a.by_kind.outlier.detected, a.by_kind.outlier.precision, a.by_kind.outlier.alerted], [1, null, null]);
    assert.deepEqual([a.by_kind.stuck.detected, a.by_kind.stuck.recall], [1, 1]);
  });

  it("refuses a kind that is not a string, as an invalid line", async () => {
    const { a } = await score([{ txn_id: "S", ts_ms: 60_040, kind: 3 }]);
    assert.equal(a.invalid_lines, 1);
    assert.equal(a.invalid_examples[0]!.reason, "kind must be a string when present");
  });
});
