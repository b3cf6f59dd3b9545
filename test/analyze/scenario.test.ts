/**
 * Scenario streams: retries, failed transactions and stuck ones are lives of their own, not stream
 * faults; ground truth comes from inline labels or from a truth file, counted by kind; alerts are
 * scored per kind.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { analyze } from "../../src/analyze/analyze.ts";
import type { AnalysisReport } from "../../src/analyze/report.ts";
import { fileSource, textSource } from "../../src/analyze/read/source.ts";
import { TruthFile } from "../../src/analyze/score/truth-file.ts";
import { analyzeText, byTime, compact, ev, reordered, run, transaction, WFSIM, type Event } from "./helpers.ts";

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "wfsim-analyze-scenario-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A retried step 1 (one failure, backoff 300), then step 2: a complete life. */
function retried(txn: string, start: number): Event[] {
  return [
    ev.open(txn, start),
    ev.stepOpen(txn, 1, start + 10, 10),
    ev.stepFailed(txn, 1, start + 60, 1, 50),
    ev.stepRetry(txn, 1, start + 60, 2, 300),
    ev.retryOpen(txn, 1, start + 360, 300, 2),
    ev.stepDone(txn, 1, start + 400),
    ev.wait(txn, 1, start + 400, 100),
    ev.stepOpen(txn, 2, start + 520, 20),
    ev.stepDone(txn, 2, start + 520),
    ev.close(txn, start + 520, 520, 2),
  ];
}

/** Step 2 fails for good after two attempts. */
function failing(txn: string, start: number): Event[] {
  return [
    ev.open(txn, start),
    ev.stepOpen(txn, 1, start + 5, 5),
    ev.stepDone(txn, 1, start + 5),
    ev.wait(txn, 1, start + 5, 10),
    ev.stepOpen(txn, 2, start + 20, 5),
    ev.stepFailed(txn, 2, start + 30, 1),
    ev.stepRetry(txn, 2, start + 30, 2, 100),
    ev.retryOpen(txn, 2, start + 130, 100, 2),
    ev.stepFailed(txn, 2, start + 140, 2),
    ev.failed(txn, start + 140, 140, 2, 2),
  ];
}

const noViolations = (report: AnalysisReport) =>
  Object.fromEntries(Object.entries(report.violations).map(([kind, v]) => [kind, v.count]));
const ZERO = { out_of_order: 0, missing_steps: 0, duplicates: 0, close_without_open: 0, never_closed: 0 };

describe("analyze: scenario streams", () => {
  it("reads retries and failed transactions as whole lives, with no stream faults", async () => {
    const report = await analyzeText(compact(byTime(retried("A", 0), failing("B", 1000))));
    assert.deepEqual(noViolations(report), ZERO);
    assert.deepEqual(report.transactions, { total: 2, completed: 1, aborted: 0, failed: 1, open: 0, stuck: 0 });
    // Pre-step delays of first attempts only (10, 20 of A; 5, 5 of B); retries' backoffs apart.
    assert.equal(report.pre_delay_ms.count, 4);
    assert.equal(report.pre_delay_ms.max, 20);
    assert.deepEqual([report.retry_backoff_ms.count, report.retry_backoff_ms.min, report.retry_backoff_ms.max], [2, 100, 300]);
    // One gap per step boundary reached: A's 400 → 520, B's 5 → 20; a retry opens no new gap.
    assert.deepEqual([report.gap_ms.count, report.gap_ms.min, report.gap_ms.max], [2, 15, 120]);
    assert.deepEqual([report.duration_ms.count, report.duration_ms.max], [1, 520]);
    assert.deepEqual(report.ground_truth.step_failure, { transactions: 2, failures: 3, final: 1 });
  });

  it("finds faults in the retry path: a duplicate failure, a retry before its failure, a missing wait before a failed step", async () => {
    const duplicated = retried("A", 0);
    duplicated.splice(3, 0, ev.stepFailed("A", 1, 60, 1, 50));
    const swapped = retried("B", 1000);
    [swapped[2], swapped[3]] = [swapped[3]!, swapped[2]!];
    const gapless = failing("C", 2000).filter((e) => e.type !== "inter_step_wait");
    const report = await analyzeText(compact([...duplicated, ...swapped, ...gapless]));
    assert.equal(report.violations.duplicates.count, 1);
    assert.equal(report.violations.duplicates.examples[0]!.detail, "step_failed 1 (attempt 1) again");
    assert.equal(report.violations.out_of_order.count, 1);
    assert.equal(report.violations.out_of_order.examples[0]!.detail, "step_failed 1 (attempt 1) after step_retry 1 (attempt 2)");
    assert.equal(report.violations.missing_steps.count, 1);
    assert.equal(report.violations.missing_steps.examples[0]!.detail, "failed at step 2 without inter_step_wait 1→2");
    assert.equal(report.violations.never_closed.count, 0);
  });

  it("counts a transaction labelled stuck that stays silent as stuck, not as never closed", async () => {
    const stuck = [ev.stuckOpen("S", 0), ev.stepOpen("S", 1, 40, 40)];
    const lost = [ev.open("L", 5), ev.stepOpen("L", 1, 45, 40)];
    const report = await analyzeText(compact(byTime(stuck, lost, transaction("T", 10, [5, 5], [10]))));
    assert.deepEqual(report.transactions, { total: 3, completed: 1, aborted: 0, failed: 0, open: 2, stuck: 1 });
    assert.equal(report.violations.never_closed.count, 1);
    assert.equal(report.violations.never_closed.examples[0]!.txn_id, "L");
    assert.deepEqual(report.ground_truth.stuck, { transactions: 1, silent: 1, ended: 0 });
  });

  it("scores alerts per kind, timing a stuck transaction's detection from when it went silent", async () => {
    const stream = compact(
      byTime(
        [ev.stuckOpen("S", 0), ev.stepOpen("S", 1, 40, 40)],
        transaction("O", 100, [10, 10], [5000], [true]),
        transaction("N", 200, [10, 10], [100]),
        transaction("E", 300, [10, 10], [5000], [true]),
      ),
    );
    // S went silent at 40: alerted at 60,040; O's outlier wait began at 110: alerted at 2,110; N is
    // clean; E is alerted on at 305, before its outlier wait began at 310: found, but early.
    const alerts = ['{"txn_id":"S","ts_ms":60040}', '{"txn_id":"O","ts_ms":2110}', '{"txn_id":"N","ts_ms":300}', '{"txn_id":"E","ts_ms":305}'].join("\n");
    const report = await analyze(textSource("events.jsonl", stream), { alerts: textSource("alerts.jsonl", alerts) });
    const a = report.alerts!;
    assert.deepEqual([a.alerted, a.labelled, a.true_positives, a.false_positives, a.false_negatives], [4, 3, 3, 1, 0]);
    const { outlier, stuck } = a.by_kind;
    assert.deepEqual([outlier.labelled, outlier.detected, outlier.detection_delay_ms.count, outlier.detection_delay_ms.max, outlier.early_alerts], [2, 2, 1, 2000, 1]);
    assert.deepEqual([stuck.labelled, stuck.detected, stuck.detection_delay_ms.max, stuck.early_alerts], [1, 1, 60_000, 0]);
    assert.deepEqual([a.detection_delay_ms.count, a.detection_delay_ms.min, a.detection_delay_ms.max, a.early_alerts], [2, 2000, 60_000, 1]);
  });
});

/** Runs the built CLI; the stream and its truth file. */
async function scenarioRun(args: readonly string[]): Promise<string> {
  const result = await run(process.execPath, [WFSIM, "run", "--scenario", "examples/checkout.yaml", "--clock", "virtual", "--start-time", "0", "--quiet", ...args]);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout;
}

describe("analyze: wfsim's own output of every example scenario", () => {
  for (const example of ["seed", "checkout", "onboarding", "flash-sale", "nightly-batch"]) {
    it(`finds no stream faults in examples/${example}.yaml, and every stuck transaction labelled`, async () => {
      const result = await run(process.execPath, [WFSIM, "run", "--scenario", `examples/${example}.yaml`, "--clock", "virtual", "--samples", "3000", "--quiet"]);
      assert.equal(result.code, 0, result.stderr);
      const report = await analyzeText(result.stdout);
      assert.equal(report.invalid_lines, 0);
      assert.deepEqual(noViolations(report), ZERO);
      assert.equal(report.transactions.open, report.transactions.stuck, "only stuck transactions are left open");
      assert.ok(report.transactions.total > 0);
    });
  }
});

describe("analyze: ground truth of a scenario run", () => {
  const SAMPLES = ["--samples", "8000"];
  let inline = "";
  let bare = "";
  let truthPath = "";

  before(async () => {
    truthPath = join(dir, "truth.jsonl");
    [inline, bare] = await Promise.all([scenarioRun(SAMPLES), scenarioRun([...SAMPLES, "--truth", truthPath, "--no-blind"])]);
  });

  it("counts every kind of label in the stream, and finds no stream faults in wfsim's own output", async () => {
    const report = await analyzeText(inline);
    const events = inline.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line) as Event);
    const outlierTxns = new Set(events.filter((e) => e.outlier_injected === true).map((e) => e.txn_id));
    const stuckTxns = new Set(events.filter((e) => e.stuck === true).map((e) => e.txn_id));
    const failures = events.filter((e) => e.type === "step_failed");
    const failed = events.filter((e) => e.type === "transaction_failed").length;
    assert.ok(outlierTxns.size > 0 && stuckTxns.size > 0 && failed > 0, "the example injects every kind at this size");
    assert.equal(report.invalid_lines, 0);
    assert.deepEqual(noViolations(report), ZERO);
    assert.deepEqual(report.ground_truth.outlier, {
      transactions: outlierTxns.size,
      gaps: events.filter((e) => e.outlier_injected === true).length,
    });
    assert.deepEqual(report.ground_truth.stuck, { transactions: stuckTxns.size, silent: stuckTxns.size, ended: 0 });
    assert.deepEqual(report.ground_truth.step_failure, {
      transactions: new Set(failures.map((e) => e.txn_id)).size,
      failures: failures.length,
      final: failed,
    });
    assert.equal(report.transactions.failed, failed);
    assert.equal(report.transactions.stuck, stuckTxns.size);
    assert.equal(report.transactions.open, stuckTxns.size);
    assert.equal(report.ground_truth.unlabelled_waits, 0);
  });

  it("gives each workflow its own figures, the same whichever path reads the lines", async () => {
    const report = await analyzeText(inline);
    const events = inline.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line) as Event);
    const count = (type: string, workflow: string) => events.filter((e) => e.type === type && e.workflow === workflow).length;
    const names = [...new Set(events.map((e) => e.workflow as string))];
    assert.deepEqual(new Set(report.workflows.map((w) => w.name)), new Set(names));
    for (const w of report.workflows) {
      assert.equal(w.transactions.total, count("transaction_open", w.name), w.name);
      assert.equal(w.transactions.completed, count("transaction_close", w.name), w.name);
      assert.equal(w.transactions.failed, count("transaction_failed", w.name), w.name);
      assert.equal(w.transactions.stuck, events.filter((e) => e.stuck === true && e.workflow === w.name).length, w.name);
      const durations = events.filter((e) => e.type === "transaction_close" && e.workflow === w.name).map((e) => e.duration_ms as number);
      assert.equal(w.duration_ms.max, Math.max(...durations), w.name);
    }
    assert.deepEqual(
      report.workflows.map((w) => w.transactions.total),
      [...report.workflows.map((w) => w.transactions.total)].sort((a, b) => b - a),
      "most transactions first",
    );
    // Fields in another order go through JSON.parse instead of the byte-level reader: same figures.
    const strict = await analyzeText(reordered(events));
    assert.deepEqual(strict.workflows, report.workflows);
    assert.deepEqual((await analyzeText(compact(events.slice(0, 50)).replaceAll('"workflow":', '"workflow_":'))).workflows, []);
  });

  it("knows the same answers from the truth file for the stream without labels", async () => {
    const fromInline = await analyzeText(inline);
    const truth = await TruthFile.load(fileSource(truthPath));
    const fromFile = await analyze(textSource("test.jsonl", bare), { truth });
    const withoutTruth = await analyzeText(bare);
    assert.equal(withoutTruth.outliers.injected, 0, "the bare stream carries no outlier labels");
    assert.equal(withoutTruth.ground_truth.unlabelled_waits, fromInline.events_by_type.inter_step_wait);
    for (const key of ["transactions", "duration_ms", "gap_ms", "outliers", "violations"] as const) {
      assert.deepEqual(fromFile[key], fromInline[key], key);
    }
    const { source: _a, not_in_stream, file, unlabelled_waits, ...labels } = fromFile.ground_truth;
    const { source: _b, not_in_stream: _c, file: _d, unlabelled_waits: _e, ...inlineLabels } = fromInline.ground_truth;
    assert.deepEqual(labels, inlineLabels);
    assert.deepEqual(not_in_stream, { outlier: 0, stuck: 0, step_failure: 0 });
    assert.equal(unlabelled_waits, fromInline.events_by_type.inter_step_wait);
    const lines = (await readFile(truthPath, "utf8")).split("\n").filter((line) => line !== "").length;
    assert.deepEqual(file, { lines, records: lines, invalid_lines: 0, invalid_examples: [] });
  });

  it("counts labelled transactions the stream lost", async () => {
    const truthLines = (await readFile(truthPath, "utf8")).split("\n").filter((line) => line !== "");
    const stuckIds = truthLines.filter((line) => line.includes('"kind":"stuck"')).map((line) => (JSON.parse(line) as { txn_id: string }).txn_id);
    const dropped = new Set(stuckIds.slice(0, 2));
    const outlierOnly = truthLines
      .map((line) => JSON.parse(line) as { kind: string; txn_id: string })
      .filter((r) => r.kind === "outlier" && !truthLines.some((line) => line.includes(`"txn_id":"${r.txn_id}"`) && !line.includes('"kind":"outlier"')));
    dropped.add(outlierOnly[0]!.txn_id);
    const kept = bare
      .split("\n")
      .filter((line) => line !== "" && !dropped.has((JSON.parse(line) as { txn_id: string }).txn_id))
      .map((line) => `${line}\n`)
      .join("");
    const report = await analyze(textSource("lossy.jsonl", kept), { truth: await TruthFile.load(fileSource(truthPath)) });
    assert.deepEqual(report.ground_truth.not_in_stream, { outlier: 1, stuck: 2, step_failure: 0 });
  });

  it("takes --truth FILE on the command line, and refuses a file that is not a truth file in one line", async () => {
    const events = join(dir, "bare.jsonl");
    await writeFile(events, bare);
    const ok = await run(process.execPath, [WFSIM, "analyze", events, "--truth", truthPath, "--format", "json"]);
    assert.equal(ok.code, 0, ok.stderr);
    const report = JSON.parse(ok.stdout) as AnalysisReport;
    assert.equal(report.ground_truth.source, `truth file ${truthPath}`);
    assert.ok(report.outliers.injected > 0);

    const hint = await run(process.execPath, [WFSIM, "analyze", events]);
    assert.match(hint.stdout, /inter_step_wait events carry no outlier_injected label: for a stream made with wfsim run --truth FILE, give analyze --truth FILE/);

    const wrong = await run(process.execPath, [WFSIM, "analyze", events, "--truth", events]);
    assert.equal(wrong.code, 2);
    assert.equal(wrong.stdout, "");
    assert.match(wrong.stderr, /^wfsim: --truth .*bare\.jsonl: line 1 is not a wfsim truth record \(kind is missing\); expected the file written by wfsim run --truth\n$/);

    const missing = await run(process.execPath, [WFSIM, "analyze", events, "--truth", join(dir, "nope.jsonl")]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^wfsim: --truth .*nope\.jsonl: cannot read \(no such file\b.*\)\n$/);

    const damaged = join(dir, "damaged.jsonl");
    const truthText = await readFile(truthPath, "utf8");
    await writeFile(damaged, `${truthText}{"kind":"outlier","txn_id":"x"}\n{"kind":"stuck",`);
    const partial = await run(process.execPath, [WFSIM, "analyze", events, "--truth", damaged, "--format", "json"]);
    assert.equal(partial.code, 0, partial.stderr);
    assert.match(partial.stderr, /^wfsim: --truth .*damaged\.jsonl: 2 lines are not truth records and were skipped \(first: line \d+: outlier record: must have required properties/);
    const partialReport = JSON.parse(partial.stdout) as AnalysisReport;
    assert.equal(partialReport.ground_truth.file!.invalid_lines, 2);
    assert.equal(partialReport.outliers.injected, report.outliers.injected);
  });
});
