/** Per-step baselines of work and pre-step wait: exact figures on hand-made streams. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FrequencyTable } from "../../../src/analyze/measure/frequency.ts";
import { logBaseline } from "../../../src/analyze/score/grouped-outliers.ts";
import { renderText } from "../../../src/analyze/render/text.ts";
import { analyzeText, byTime, compact, ev, type Event } from "../helpers.ts";

/** A two-step transaction: step 1 after `pre` ms, working `work` ms; step 2 right after, working 1 ms. */
function worked(txn: string, start: number, pre: number, work: number): Event[] {
  const s1 = start + pre;
  const d1 = s1 + work;
  return [
    ev.open(txn, start),
    ev.stepOpen(txn, 1, s1, pre),
    ev.stepDone(txn, 1, d1),
    ev.wait(txn, 1, d1, 0),
    ev.stepOpen(txn, 2, d1, 0),
    ev.stepDone(txn, 2, d1 + 1),
    ev.close(txn, d1 + 1, d1 + 1 - start, 2),
  ];
}

describe("per-step baselines", () => {
  it("gives each step's work and pre-wait nearest-rank figures, without a threshold under 30 measurements", async () => {
    const report = await analyzeText(compact(byTime(worked("a", 0, 5, 10), worked("b", 100, 6, 20), worked("c", 200, 7, 30))));
    const [one, two] = report.step_baselines;
    assert.deepEqual(one, {
      workflow: null,
      step: 1,
      work_ms: { count: 3, p50_ms: 20, p90_ms: 30, p99_ms: 30, max_ms: 30, threshold_ms: null, above_threshold: null },
      pre_wait_ms: { count: 3, p50_ms: 6, p90_ms: 7, p99_ms: 7, max_ms: 7, threshold_ms: null, above_threshold: null },
      // The wait after step 1 is 0 ms (step 2 opens at step 1's done).
      gap_ms: { count: 3, p50_ms: 0, p90_ms: 0, p99_ms: 0, max_ms: 0, threshold_ms: null, above_threshold: null },
      failures: 0,
      retries: 0,
      stuck: 0,
    });
    assert.equal(two!.gap_ms, null, "the last step has no gap after it");
    assert.deepEqual(two!.work_ms, { count: 3, p50_ms: 1, p90_ms: 1, p99_ms: 1, max_ms: 1, threshold_ms: null, above_threshold: null });
  });

  it("sets a threshold from 30 measurements and counts the steps above it", async () => {
    const list: Event[][] = [];
    for (let i = 0; i < 30; i++) list.push(worked(`t${i}`, i * 1000, 10, 100 + i));
    list.push(worked("slow", 40_000, 10, 60_000));
    const report = await analyzeText(compact(byTime(...list)));
    const work = report.step_baselines[0]!.work_ms!;
    const table = new FrequencyTable();
    for (let i = 0; i < 30; i++) table.add(100 + i);
    table.add(60_000);
    assert.equal(work.threshold_ms, logBaseline(table.sorted(), 3.5)!.thresholdMs);
    assert.equal(work.above_threshold, 1);
    assert.equal(work.count, 31);
    assert.match(renderText(report), /\n {2}\(no workflow\) 1 +31 +115\/127\/60,000 > \d[\d,]*: 1 +10\/10\/10 > 10: 0 +0\/0\/0 > 0: 0 +0 +0 +0\n/);
  });
});
