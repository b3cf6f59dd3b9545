/**
 * Exact figures on a small hand-made stream, every number worked out by hand in the comments. The
 * same stream written three ways (wfsim's compact layout, the reference's spacing, fields reordered)
 * and cut into chunks anywhere must give the same report: the fast path and the strict path agree.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { analyze } from "../../src/analyze/analyze.ts";
import { MAD_TO_SIGMA } from "../../src/analyze/score/outliers.ts";
import { renderText } from "../../src/analyze/render/text.ts";
import type { EventSource } from "../../src/analyze/read/source.ts";
import { analyzeText, byTime, compact, ev, reordered, spaced, transaction } from "./helpers.ts";

// A: opens at 0, pre-step waits 100, 200, 300, planned waits 1000, 50.
//    step 1 at 100; step 2 at 100 + 1000 + 200 = 1300; step 3 at 1300 + 50 + 300 = 1650; duration 1650.
//    gaps: 1300 − 100 = 1200 and 1650 − 1300 = 350.
// B: opens at 500, pre-step waits 10, 20, 30, planned waits 5, 5000 (the second injected).
//    step 1 at 510; step 2 at 535; step 3 at 5565; duration 5065. gaps: 25 and 5030.
// C: opens at 600, one step after 40 ms, closes at 640: duration 40, no gap.
// D: opens at 700, step 1 at 701, wait 1, step 2 at 703, never closes. gap: 2.
const A = transaction("txn_a", 0, [100, 200, 300], [1000, 50]);
const B = transaction("txn_b", 500, [10, 20, 30], [5, 5000], [false, true]);
const C = transaction("txn_c", 600, [40], []);
const D = transaction("txn_d", 700, [1, 1], [1]).slice(0, -1);
const STREAM = byTime(A, B, C, D);

describe("analyze: figures of a hand-made stream", () => {
  it("counts events, transactions and the time span", async () => {
    const report = await analyzeText(compact(STREAM));
    assert.equal(report.events, 30);
    assert.deepEqual(report.events_by_type, {
      transaction_open: 4,
      step_open: 9,
      step_done: 9,
      inter_step_wait: 5,
      transaction_close: 3,
      transaction_aborted: 0,
      step_failed: 0,
      step_retry: 0,
      transaction_failed: 0,
    });
    assert.deepEqual(report.transactions, { total: 4, completed: 3, aborted: 0, failed: 0, open: 1, stuck: 0 });
    assert.deepEqual(report.time_span, { first_ts_ms: 0, last_ts_ms: 5565, span_ms: 5565 });
    assert.equal(report.invalid_lines, 0);
  });

  it("gives exact nearest-rank summaries of durations, gaps and pre-step delays", async () => {
    const report = await analyzeText(compact(STREAM));
    // Durations 40, 1650, 5065: p50 → rank 2; p90, p95, p99 → rank 3.
    assert.deepEqual(report.duration_ms, { count: 3, min: 40, mean: 6755 / 3, p50: 1650, p90: 5065, p95: 5065, p99: 5065, max: 5065 });
    assert.deepEqual(report.first_event_to_close_ms, report.duration_ms);
    // Gaps 2, 25, 350, 1200, 5030: p50 → rank 3; p90 → rank ⌈4.5⌉ = 5.
    assert.deepEqual(report.gap_ms, { count: 5, min: 2, mean: 6607 / 5, p50: 350, p90: 5030, p95: 5030, p99: 5030, max: 5030 });
    // Pre-step delays 1, 1, 10, 20, 30, 40, 100, 200, 300: p50 → rank ⌈4.5⌉ = 5; p90 → rank ⌈8.1⌉ = 9.
    assert.deepEqual(report.pre_delay_ms, { count: 9, min: 1, mean: 78, p50: 30, p90: 300, p95: 300, p99: 300, max: 300 });
  });

  it("finds the peak concurrency and the count over time", async () => {
    const report = await analyzeText(compact(STREAM));
    // Open at once: A (1), B (2), C (3, at 600), C closes (2), D (3), A closes (2), B closes (1).
    assert.equal(report.concurrency.peak, 3);
    assert.equal(report.concurrency.peak_ts_ms, 600);
    // 512 buckets: width doubles from 1 ms until 5565 fits, i.e. 16 ms; 5565 / 16 → bucket 347.
    const { timeline } = report.concurrency;
    assert.equal(timeline.start_ts_ms, 0);
    assert.equal(timeline.bucket_ms, 16);
    assert.equal(timeline.max.length, 348);
    assert.equal(timeline.max[0], 1); // A alone
    assert.equal(timeline.max[31], 2); // B opens at 500
    assert.equal(timeline.max[37], 3); // C opens at 600
    assert.equal(timeline.max[40], 3); // C closes at 640: the bucket began with 3 open
    assert.equal(timeline.max[200], 2); // nothing happens: B and D open
    assert.equal(Math.max(...timeline.max), 3);
  });

  it("flags by median + k·1.4826·MAD of all gaps with --outlier-rule pooled", async () => {
    const report = await analyzeText(compact(STREAM), { rule: "pooled" });
    // Gaps 2, 25, 350, 1200, 5030: median 350; |x − 350| = 348, 325, 0, 850, 4680 → median 348.
    const threshold = 350 + 3.5 * MAD_TO_SIGMA * 348;
    assert.deepEqual(report.outliers.rule, { measure: "gap", method: "mad", threshold_ms: threshold, median_ms: 350, mad_ms: 348, k: 3.5 });
    // Ended transactions' largest gaps: A 1200, B 5030 (injected), C none. Only B is above ≈2155.9.
    assert.equal(report.outliers.injected, 1);
    assert.equal(report.outliers.injected_gaps, 1);
    assert.equal(report.outliers.flagged, 1);
    assert.equal(report.outliers.true_positives, 1);
    assert.equal(report.outliers.precision, 1);
    assert.equal(report.outliers.recall, 1);
    assert.deepEqual(report.outliers.transactions, [
      { txn_id: "txn_b", value_ms: 5030, max_gap_ms: 5030, max_gap_after_step: 2, duration_ms: 5065, injected: true, opened_ts_ms: 500 },
    ]);
    assert.deepEqual(report.outliers.missed, []);
    assert.equal(report.violations.never_closed.count, 1);
    assert.equal(report.violations.never_closed.examples[0]?.txn_id, "txn_d");
  });

  it("judges durations instead when asked, and honours a fixed threshold", async () => {
    const byDuration = await analyzeText(compact(STREAM), { measure: "duration", thresholdMs: 1000 });
    // Durations 40, 1650, 5065: above 1000 are A (clean) and B (injected).
    assert.equal(byDuration.outliers.rule.method, "fixed");
    assert.equal(byDuration.outliers.flagged, 2);
    assert.equal(byDuration.outliers.true_positives, 1);
    assert.equal(byDuration.outliers.precision, 0.5);
    assert.deepEqual(byDuration.outliers.transactions.map((t) => t.txn_id), ["txn_b", "txn_a"]);
    const strict = await analyzeText(compact(STREAM), { thresholdMs: 6000 });
    assert.equal(strict.outliers.flagged, 0);
    assert.equal(strict.outliers.precision, null);
    assert.equal(strict.outliers.recall, 0);
    assert.deepEqual(strict.outliers.missed.map((t) => t.txn_id), ["txn_b"]);
  });

  it("reads the reference's spacing and any field order to the same report", async () => {
    const expected = await analyzeText(compact(STREAM));
    assert.deepEqual(await analyzeText(spaced(STREAM)), expected);
    assert.deepEqual(await analyzeText(reordered(STREAM)), expected);
    assert.deepEqual(await analyzeText(compact(STREAM).replace(/\n/g, "\r\n")), expected);
  });

  it("gives the same report whatever the chunk boundaries", async () => {
    const expected = await analyzeText(compact(STREAM));
    const bytes = Buffer.from(compact(STREAM));
    for (const size of [1, 7, 64, 1000]) {
      const source: EventSource = {
        name: "test.jsonl",
        async *chunks() {
          for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
        },
      };
      assert.deepEqual(await analyze(source), expected, `chunks of ${size} bytes`);
    }
  });

  it("reads several sources in order as one stream, numbering lines per source", async () => {
    const text = compact(STREAM);
    const lines = text.split("\n");
    const first = { name: "one.jsonl", async *chunks() { yield Buffer.from(`${lines.slice(0, 10).join("\n")}\n`); } };
    const second = { name: "two.jsonl", async *chunks() { yield Buffer.from(`${lines.slice(10).join("\n")}not json\n`); } };
    const report = await analyze([first, second]);
    // two.jsonl holds the other 20 events, then the bad line: its line 21.
    assert.equal(report.events, 30);
    assert.deepEqual(report.sources, ["one.jsonl", "two.jsonl"]);
    assert.deepEqual(report.invalid_examples.map((e) => [e.source, e.line]), [["two.jsonl", 21]]);
  });

  it("renders the figures in the text report", async () => {
    const text = renderText(await analyzeText(compact(STREAM), { rule: "pooled" }));
    assert.match(text, /Transactions: 4 \(3 completed, 0 aborted, 0 failed, 1 still open\)/);
    assert.match(text, /peak concurrency 3 open at once/);
    assert.match(text, /gap between steps\s+5\s+2\s+1,321\.4\s+350\s+5,030/);
    assert.match(text, /txn_b\s+largest gap 5,030 ms after step 2, duration 5,065 ms\s+\[injected\]/);
    assert.match(text, /never closed 1/);
    // The grouped rule: four gaps of ended transactions, too few for any group, judged on all of them
    // together (median 350, upper MAD ln(1201/351)): 5,030 stays below, and txn_b is listed as missed.
    const grouped = renderText(await analyzeText(compact(STREAM)));
    assert.match(grouped, /\n {4}\(no workflow\) 2 -> 3: 2 measured, median 350 ms, threshold [\d,]+ ms \(all's baseline\); flagged 0, injected 1, found 0\n/);
    assert.match(grouped, /injected but not flagged:\n {4}txn_b {2}gap 5,030 ms in \(no workflow\) 2 -> 3 \(threshold [\d,]+ ms\) {2}\[injected\]\n/);
  });

  it("counts aborted transactions apart from completed ones", async () => {
    const stream = [...transaction("txn_x", 0, [10], []), ev.open("txn_y", 5), ev.aborted("txn_y", 20, 15, 0)];
    const report = await analyzeText(compact(stream));
    assert.deepEqual(report.transactions, { total: 2, completed: 1, aborted: 1, failed: 0, open: 0, stuck: 0 });
    assert.equal(report.duration_ms.count, 1);
    assert.equal(report.violations.missing_steps.count, 0);
  });
});
