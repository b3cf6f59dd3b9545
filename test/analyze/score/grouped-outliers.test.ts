/**
 * The default outlier rule: a baseline per workflow and gap. Exact figures on hand-made samples, the
 * small-group fallback, and the goal on every shipped example: precision >= 0.8 and recall
 * >= 0.95 for the injected outliers, with the ground truth from a truth file (`wfsim run --truth`).
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { FrequencyTable } from "../../../src/analyze/measure/frequency.ts";
import { logBaseline, MIN_GROUP } from "../../../src/analyze/score/grouped-outliers.ts";
import { MAD_TO_SIGMA } from "../../../src/analyze/score/outliers.ts";
import type { AnalysisReport } from "../../../src/analyze/report.ts";
import { analyzeText, byTime, compact, transaction, run, WFSIM, type Event } from "../helpers.ts";

describe("grouped outliers: the baseline of one group", () => {
  it("takes the median and the upper MAD of ln(1 + ms), exactly", () => {
    const table = new FrequencyTable();
    for (const value of [0, 1, 3, 7, 15, 1000]) table.add(value);
    const baseline = logBaseline(table.sorted(), 3.5)!;
    // ln(1 + v): 0, ln 2, ln 4, ln 8, ln 16, ln 1001. Nearest-rank median: rank 3 → ln 4 (v = 3).
    // At or above it: ln 4, ln 8, ln 16, ln 1001 → deviations 0, ln 2, ln 4, ln(1001/4); rank 2 → ln 2.
    assert.equal(baseline.medianMs, 3);
    assert.equal(baseline.median, Math.log(4));
    assert.ok(Math.abs(baseline.sigma - MAD_TO_SIGMA * Math.log(2)) < 1e-12);
    // Threshold: 4 · 2^(3.5 · 1.4826) − 1 ≈ 144.9 ms: 1000 is above, 15 below.
    assert.ok(Math.abs(baseline.thresholdMs - (4 * 2 ** (3.5 * MAD_TO_SIGMA) - 1)) < 1e-9);
  });

  it("falls back on the scaled mean deviation when the MAD is 0, and flags anything above when all are equal", () => {
    const table = new FrequencyTable();
    for (const value of [10, 10, 10, 10, 100]) table.add(value);
    const baseline = logBaseline(table.sorted(), 3.5)!;
    // At or above the median (10): four deviations 0 and one ln(101/11): upper MAD 0; mean ln(101/11) / 5.
    assert.ok(Math.abs(baseline.sigma - (1.2533 * Math.log(101 / 11)) / 5) < 1e-12);
    const flat = new FrequencyTable();
    flat.add(20, 7);
    assert.equal(logBaseline(flat.sorted(), 3.5)!.thresholdMs, 20);
  });
});

/** `count` two-step transactions (gap 1→2 of 100 + i ms), and three three-step ones whose gap 2→3 is 2000 ms or (injected) 60 s. */
function stream(count: number): Event[][] {
  const list: Event[][] = [];
  for (let i = 0; i < count; i++) list.push(transaction(`t${i}`, i * 10, [0, 10], [100 + i]));
  list.push(transaction("x1", 5, [0, 10, 10], [100, 1990]));
  list.push(transaction("x2", 6, [0, 10, 10], [101, 1990]));
  list.push(transaction("x3", 7, [0, 10, 10], [102, 59_990], [false, true]));
  return list;
}

describe("grouped outliers: a hand-made stream", () => {
  it("judges each gap against its own group, names the group and threshold, and lends a small group its workflow's baseline", async () => {
    const report = await analyzeText(compact(byTime(...stream(40))));
    const o = report.outliers;
    assert.equal(o.rule.method, "grouped");
    const [first, second] = o.groups!;
    assert.deepEqual([first!.from_step, first!.count, first!.baseline], [1, 43, "group"]);
    // Three gaps 2→3 are fewer than MIN_GROUP: the workflow's 46 gaps give the baseline.
    assert.ok(3 < MIN_GROUP);
    assert.deepEqual([second!.from_step, second!.count, second!.baseline, second!.baseline_count], [2, 3, "workflow", 46]);
    const all = new FrequencyTable();
    for (let i = 0; i < 40; i++) all.add(110 + i);
    for (const gap of [110, 111, 112, 2000, 2000, 60_000]) all.add(gap);
    assert.equal(second!.threshold_ms, logBaseline(all.sorted(), 3.5)!.thresholdMs);
    // Gaps 1→2 run 110..149 (the median 129); 2000 and 60 000 are far above the pooled baseline.
    assert.deepEqual(
      o.transactions.map((t) => [t.txn_id, t.value_ms, t.group, t.injected]),
      [
        ["x3", 60_000, "(no workflow) 2 -> 3", true],
        ["x1", 2000, "(no workflow) 2 -> 3", false],
        ["x2", 2000, "(no workflow) 2 -> 3", false],
      ],
    );
    assert.equal(o.transactions[0]!.threshold_ms, second!.threshold_ms);
    assert.deepEqual([o.flagged, o.true_positives, o.false_positives, o.injected_gaps, o.recall], [3, 1, 2, 1, 1]);
  });

  it("keeps the pooled rule by flag: one baseline for every gap, transactions counted", async () => {
    const report = await analyzeText(compact(byTime(...stream(40))), { rule: "pooled" });
    assert.equal(report.outliers.rule.method, "mad");
    assert.equal(report.outliers.groups, undefined);
  });

  it("measures a gap whose step_open came before its step_done of the same millisecond", async () => {
    const events = transaction("s", 0, [5, 0, 7], [0, 40]);
    const inOrder = await analyzeText(compact(events));
    // step_done 1, inter_step_wait 1→2 and step_open 2 share ts 5: write step_open 2 first.
    const doneAt = events.findIndex((e) => e.type === "step_done" && e.step === 1);
    const openAt = events.findIndex((e) => e.type === "step_open" && e.step === 2);
    const swapped = [...events];
    [swapped[doneAt], swapped[openAt]] = [events[openAt]!, events[doneAt]!];
    assert.equal(swapped[doneAt]!.ts_ms, swapped[openAt]!.ts_ms);
    const report = await analyzeText(compact(swapped));
    assert.deepEqual(report.gap_ms, inOrder.gap_ms);
    assert.equal(report.gap_ms.count, 2);
  });
});

describe("grouped outliers: counted by transaction", () => {
  it("counts a transaction with two flagged gaps once, as the pooled rule counts transactions", async () => {
    // 40 ordinary transactions, gaps of 100 to 139 ms after steps 1 and 2; "double" has both gaps
    // injected at a minute, "single" one ordinary gap of a minute (a false positive).
    const list: Event[][] = [];
    for (let i = 0; i < 40; i++) list.push(transaction(`t${i}`, i * 1000, [1, 1, 1], [100 + i, 100 + i]));
    list.push(transaction("double", 50_000, [1, 1, 1], [60_000, 60_000], [true, true]));
    list.push(transaction("single", 51_000, [1, 1, 1], [60_000, 120]));
    const text = compact(byTime(...list));
    const grouped = (await analyzeText(text)).outliers;
    assert.deepEqual([grouped.flagged, grouped.true_positives, grouped.injected_gaps], [3, 2, 2], "gaps");
    assert.deepEqual(grouped.by_transaction, {
      flagged: 2,
      true_positives: 1,
      false_positives: 1,
      false_negatives: 0,
      precision: 0.5,
      recall: 1,
      exact: true,
      flagged_at_most: 2,
    });
    const pooled = (await analyzeText(text, { rule: "pooled" })).outliers;
    assert.deepEqual([pooled.flagged, pooled.true_positives, pooled.precision, pooled.recall], [2, 1, 0.5, 1]);
    assert.deepEqual(pooled.by_transaction.flagged, pooled.flagged);
  });

  it("says when the count is not exact: a baseline that fell after the gaps that would now be flagged went by", async () => {
    // 200 transactions with gaps of 10 s first (the candidate threshold settles well above 1 s), then
    // 2,000 with gaps of 10 ms: the final threshold falls below 10 s, and the early gaps above it were never kept.
    const list: Event[][] = [];
    for (let i = 0; i < 200; i++) list.push(transaction(`slow${i}`, i * 100, [1, 1], [10_000 + (i % 50)]));
    for (let i = 0; i < 2000; i++) list.push(transaction(`fast${i}`, 100_000 + i * 100, [1, 1], [10 + (i % 5)]));
    const o = (await analyzeText(compact(byTime(...list)))).outliers;
    assert.equal(o.flagged, 200);
    assert.equal(o.by_transaction.exact, false);
    assert.ok(o.by_transaction.flagged < 200 && o.by_transaction.flagged_at_most === 200, JSON.stringify(o.by_transaction));
  });
});

const EXAMPLES = ["seed", "checkout", "flash-sale", "nightly-batch", "shop-orders", "payments-cloudevents", "onboarding"] as const;

describe("grouped outliers: every shipped example, ground truth from a truth file", () => {
  let dir = "";
  before(async () => (dir = await mkdtemp(join(tmpdir(), "wfsim-grouped-"))));
  after(() => rm(dir, { recursive: true, force: true }));

  for (const example of EXAMPLES) {
    it(`examples/${example}.yaml: precision >= 0.8 and recall >= 0.95`, { timeout: 120_000 }, async () => {
      const scenario = `examples/${example}.yaml`;
      const events = join(dir, `${example}.jsonl`);
      const truth = join(dir, `${example}.truth.jsonl`);
      const made = await run("/bin/sh", ["-c", `"${process.execPath}" "${WFSIM}" run --scenario ${scenario} --clock virtual --start-time 0 --samples 5000 --quiet --truth "${truth}" > "${events}"`]);
      assert.equal(made.code, 0, made.stderr);
      const analysed = await run(process.execPath, [WFSIM, "analyze", events, "--truth", truth, "--scenario", scenario, "--format", "json"]);
      assert.equal(analysed.code, 0, analysed.stderr);
      const o = (JSON.parse(analysed.stdout) as AnalysisReport).outliers;
      assert.equal(o.rule.method, "grouped");
      const figures = `${o.flagged} flagged, ${o.true_positives} right, of ${o.injected_gaps} injected gaps`;
      if (o.injected_gaps === 0) {
        // flash-sale injects no outliers: nothing to find, and nothing may be flagged.
        assert.equal(o.flagged, 0, figures);
        return;
      }
      assert.ok(o.precision !== null && o.precision >= 0.8, `precision ${o.precision}: ${figures}`);
      assert.ok(o.recall !== null && o.recall >= 0.95, `recall ${o.recall}: ${figures}`);
      // By transaction too, and exactly (every flagged gap was kept as a candidate).
      const b = o.by_transaction;
      assert.ok(b.exact && b.precision! >= 0.8 && b.recall! >= 0.95, JSON.stringify(b));
      // Every flagged entry names its group and threshold, and is above it.
      for (const t of o.transactions) assert.ok(t.group !== null && t.threshold_ms != null && t.value_ms! > t.threshold_ms, JSON.stringify(t));
    });
  }
});

/** Six skewed steps (lognormal and exponential waits and work) beside a refund's slow uniform waits. */
const SKEWED = `name: skewed-orders
seed: 11
start_time: 2026-03-02T08:00:00Z
load: { model: closed, concurrency: 50, samples: 6000 }
workflows:
  - name: order
    weight: 90
    inter: { dist: exponential, mean: 300ms }
    outlier: { prob: 0.004, extra: { dist: uniform, min: 30s, max: 90s } }
    steps:
      - { name: cart, work: { dist: lognormal, median: 40ms, p99: 400ms } }
      - { name: address, pre: { dist: lognormal, median: 800ms, p99: 6s }, work: { dist: lognormal, median: 100ms, sigma: 0.5 } }
      - { name: payment, pre: { dist: exponential, mean: 2s }, work: { dist: lognormal, median: 350ms, p99: 3s } }
      - { name: fraud_check, work: { dist: lognormal, median: 1s, p99: 8s } }
      - { name: fulfil, pre: { dist: lognormal, median: 3s, p99: 15s }, work: { dist: lognormal, median: 200ms, sigma: 0.6 } }
      - { name: confirm, work: 15ms }
  - name: refund
    weight: 10
    pre: { dist: uniform, min: 1s, max: 5s }
    outlier: { prob: 0.01, extra: { dist: uniform, min: 60s, max: 120s } }
    steps:
      - { name: request, work: 30ms }
      - { name: approve, work: { dist: exponential, mean: 2s } }
      - { name: payout, work: { dist: lognormal, median: 800ms, p99: 6s } }
`;

describe("grouped outliers: a generated scenario with skewed steps", () => {
  it("reaches precision >= 0.8 and recall >= 0.95 where the pooled rule drowns in false positives", { timeout: 120_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), "wfsim-skewed-"));
    try {
      const scenario = join(dir, "skewed.yaml");
      const events = join(dir, "events.jsonl");
      const truth = join(dir, "truth.jsonl");
      await writeFile(scenario, SKEWED);
      const made = await run("/bin/sh", ["-c", `"${process.execPath}" "${WFSIM}" run --scenario "${scenario}" --clock virtual --quiet --truth "${truth}" > "${events}"`]);
      assert.equal(made.code, 0, made.stderr);
      const judged = async (rule: string) => {
        const analysed = await run(process.execPath, [WFSIM, "analyze", events, "--truth", truth, "--outlier-rule", rule, "--format", "json"]);
        assert.equal(analysed.code, 0, analysed.stderr);
        return (JSON.parse(analysed.stdout) as AnalysisReport).outliers;
      };
      const grouped = await judged("grouped");
      assert.ok(grouped.injected_gaps >= 50, `${grouped.injected_gaps} injected gaps`);
      assert.ok(grouped.precision! >= 0.8 && grouped.recall! >= 0.95, `precision ${grouped.precision}, recall ${grouped.recall}`);
      // 5 gaps of orders and 2 of refunds, each its own group.
      assert.equal(grouped.groups!.length, 7);
      const pooled = await judged("pooled");
      assert.ok(pooled.precision! < 0.2, `pooled precision ${pooled.precision}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
