/**
 * Scoring against the injected ground truth: the analyzer's own rule, and someone else's alerts, on
 * streams whose answers are known.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { textSource } from "../../../src/analyze/read/source.ts";
import type { GroundTruth } from "../../../src/analyze/score/truth.ts";
import { analyze } from "../../../src/analyze/analyze.ts";
import { renderText } from "../../../src/analyze/render/text.ts";
import { analyzeText, byTime, compact, ev, transaction, WFSIM } from "../helpers.ts";

const exec = promisify(execFile);

// A: injected outlier on its second gap; its wait begins at 0 + 10 + 5 + 10 = 25.
// C: injected outlier on its first gap; its wait begins at 100 + 10 = 110.
// B and D: clean.
const A = transaction("A", 0, [10, 10, 10], [5, 6000], [false, true]);
const B = transaction("B", 1, [10, 10, 10], [5, 6]);
const C = transaction("C", 100, [10, 10], [7000], [true]);
const D = transaction("D", 101, [10, 10], [8]);
const STREAM = compact(byTime(A, B, C, D));

describe("analyze: ground truth", () => {
  it("scores someone else's alerts: precision, recall and detection delay", async () => {
    const alerts = [
      '{"txn_id":"A","ts_ms":725}', // A's wait began at 25: delay 700
      '{"txn_id":"A","ts_ms":925}', // a later alert on A: the first one counts
      '{"txn_id":"B","ts_ms":5}', // B had nothing injected: false positive
      '{"txn_id":"Z","ts_ms":9}', // not in the stream: false positive
      '{"txn_id":"C","severity":"high"}', // true positive without a time: no delay
      "not json",
      '{"ts_ms":3}',
    ].join("\n");
    const report = await analyzeText(STREAM, { alerts: textSource("alerts.jsonl", alerts) });
    const a = report.alerts!;
    assert.equal(a.lines, 7);
    assert.equal(a.invalid_lines, 2);
    assert.deepEqual(a.invalid_examples.map((e) => e.line), [6, 7]);
    assert.equal(a.alerted, 4);
    assert.equal(a.true_positives, 2);
    assert.equal(a.false_positives, 2);
    assert.equal(a.unknown_transactions, 1);
    assert.equal(a.false_negatives, 0);
    assert.equal(a.precision, 0.5);
    assert.equal(a.recall, 1);
    assert.deepEqual(a.detection_delay_ms, { count: 1, min: 700, mean: 700, p50: 700, p90: 700, p95: 700, p99: 700, max: 700 });
  });

  it("counts the analyzer's own flags against the same truth", async () => {
    const report = await analyzeText(STREAM, { thresholdMs: 1000 });
    assert.equal(report.outliers.injected, 2);
    assert.equal(report.outliers.flagged, 2);
    assert.deepEqual(report.outliers.transactions.map((t) => [t.txn_id, t.value_ms]), [
      ["C", 7010],
      ["A", 6010],
    ]);
    const noisy = await analyzeText(STREAM, { thresholdMs: 10 });
    // Every transaction has a gap above 10 ms: 4 flagged, 2 of them injected.
    assert.equal(noisy.outliers.flagged, 4);
    assert.equal(noisy.outliers.precision, 0.5);
    assert.equal(noisy.outliers.recall, 1);
  });

  it("counts an outlier injected into a transaction still open at the end, and an alert on it as found", async () => {
    // O's outlier wait began at 10 and the stream ends before O closes (a run stopped with kill -9).
    const open = [ev.open("O", 0), ev.stepOpen("O", 1, 10, 10), ev.stepDone("O", 1, 10), ev.wait("O", 1, 10, 9000, true)];
    const text = compact(byTime(C, open));
    const report = await analyze(textSource("cut.jsonl", text), { alerts: textSource("alerts", '{"txn_id":"O","ts_ms":4010}\n') });
    assert.equal(report.outliers.injected, 1, "the rule judges the transactions that ended");
    assert.deepEqual(report.ground_truth.outlier, { transactions: 2, gaps: 2 });
    assert.deepEqual([report.alerts!.true_positives, report.alerts!.false_positives, report.alerts!.detection_delay_ms.max], [1, 0, 4000]);
    assert.match(renderText(report), /^  1 of the transactions with outliers were still open at the end: not judged above$/m);
  });

  it("takes the truth from elsewhere through the GroundTruth interface", async () => {
    // As a truth file does: here, B and D are said to be the injected ones.
    const truth: GroundTruth = {
      description: "a test's list",
      labelsOf: (txn) => (txn.id === "B" || txn.id === "D" ? { outlier: { waitStartedMs: 0, gaps: 1 } } : undefined),
    };
    const report = await analyzeText(STREAM, { thresholdMs: 1000, truth });
    assert.equal(report.outliers.injected, 2);
    assert.equal(report.outliers.true_positives, 0);
    assert.equal(report.outliers.recall, 0);
  });

  it("finds every 15 s outlier of the default workload with either rule", async () => {
    const { stdout } = await exec(process.execPath, [WFSIM, "run", "--clock", "virtual", "--samples", "20000", "--start-time", "0", "--quiet"], {
      maxBuffer: 1 << 30,
    });
    const injectedLines = stdout.split("\n").filter((line) => line.includes('"outlier_injected":true'));
    const injectedTxns = new Set(injectedLines.map((line) => (JSON.parse(line) as { txn_id: string }).txn_id));
    const report = await analyzeText(stdout, { rule: "pooled" });
    const o = report.outliers;
    assert.equal(report.invalid_lines, 0);
    // The grouped rule (default) judges each gap on its own baseline: one group per gap 1→2 .. 4→5,
    // all clean gaps in [300, 3200] and every injected one at least 15,300, so every group's threshold
    // must fall between for precision and recall 1.
    const grouped = (await analyzeText(stdout)).outliers;
    assert.equal(grouped.groups!.length, 4);
    for (const g of grouped.groups!) assert.ok(g.threshold_ms >= 3200 && g.threshold_ms < 15300, JSON.stringify(g));
    assert.deepEqual([grouped.flagged, grouped.true_positives, grouped.injected_gaps], [injectedLines.length, injectedLines.length, injectedLines.length]);
    assert.equal(o.injected_gaps, injectedLines.length);
    assert.equal(o.injected, injectedTxns.size);
    assert.ok(o.injected > 500, `about 1 − 0.99⁴ ≈ 3.9% of 20,000 transactions carry an outlier, got ${o.injected}`);

    // Why the rule separates them perfectly: a clean gap is an inter-step wait U{200..1200} plus a
    // pre-step wait U{100..2000}, so it lies in [300, 3200]; an injected one adds 15,000: at least
    // 15,300. Any threshold in [3200, 15300) flags exactly the injected transactions. The threshold
    // is m + 3.5·1.4826·MAD. With outliers in about 1% of gaps, all on the high side, the sample
    // median m stays within the clean quantiles q(0.49) and q(0.5), i.e. near the clean median 1750
    // (the distribution is symmetric about 1750); certainly inside [869, 2631], where every clean gap
    // lies within 2331 of m, so MAD <= 2331 and m + 5.19·MAD < 2631 + 12098 < 15300. From below, the
    // clean distribution's MAD is 476 (worked out exactly from the convolution of the two uniforms), and 1% of
    // outliers can only widen it, so m + 5.19·MAD >= 1700 + 5.19·450 > 3200.
    const rule = o.rule;
    assert.ok(rule.median_ms! >= 869 && rule.median_ms! <= 2631, `median ${rule.median_ms}`);
    assert.ok(rule.mad_ms! >= 450 && rule.mad_ms! <= 2331, `MAD ${rule.mad_ms}`);
    assert.ok(rule.threshold_ms! >= 3200 && rule.threshold_ms! < 15300, `threshold ${rule.threshold_ms}`);
    assert.equal(o.recall, 1);
    assert.equal(o.precision, 1);
    assert.equal(report.gap_ms.min! >= 300, true);
  });
});
