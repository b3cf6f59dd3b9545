/**
 * Alert scores that name names: which alerts were false and which anomalies were missed, on
 * hand-made alert files, and the warnings for alert times in seconds and for a truth file of
 * another run.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { textSource } from "../../../src/analyze/read/source.ts";
import { TruthFile } from "../../../src/analyze/score/truth-file.ts";
import { analyzeText, byTime, compact, run, transaction, WFSIM } from "../helpers.ts";

const T0 = 1_700_000_000_000;
// a: clean; b: injected on its gap 1→2 (the wait at T0 + 110); c: injected at T0 + 1120; d: clean.
const STREAM = compact(
  byTime(
    transaction("a", T0, [10, 10], [100]),
    transaction("b", T0 + 100, [10, 10], [5000], [true]),
    transaction("c", T0 + 1000, [10, 10, 10], [100, 9000], [false, true]),
    transaction("d", T0 + 2000, [10, 10], [100]),
  ),
);
const lines = (...alerts: Record<string, unknown>[]) => alerts.map((a) => `${JSON.stringify(a)}\n`).join("");

describe("alerts: false positives and misses by name", () => {
  it("lists each false alert (in the stream or not) and each missed anomaly, earliest first", async () => {
    const alerts = lines(
      { txn_id: "d", ts_ms: T0 + 2050, kind: "outlier" },
      { txn_id: "b", ts_ms: T0 + 3000, kind: "outlier" },
      { txn_id: "a", ts_ms: T0 + 50 },
      { txn_id: "elsewhere", ts_ms: T0 + 70, kind: "stuck" },
    );
    const report = await analyzeText(STREAM, { alerts: textSource("alerts.jsonl", alerts) });
    const a = report.alerts!;
    assert.deepEqual([a.alerted, a.true_positives, a.false_positives, a.false_negatives], [4, 1, 3, 1]);
    // a ends at T0 + 120, d at T0 + 2120; "elsewhere" never shows up.
    assert.deepEqual(a.false_positive_list, [
      { txn_id: "a", alert_kind: null, alert_ts_ms: T0 + 50, in_stream: true },
      { txn_id: "d", alert_kind: "outlier", alert_ts_ms: T0 + 2050, in_stream: true },
      { txn_id: "elsewhere", alert_kind: "stuck", alert_ts_ms: T0 + 70, in_stream: false },
    ]);
    // c's injected wait (2→3) began when step 2 was done: T0 + 1000 + 10 + 100 + 10.
    assert.deepEqual(a.missed, [{ txn_id: "c", kind: "outlier", anomaly_began_ms: T0 + 1120 }]);
    assert.deepEqual(report.warnings, []);
  });

  it("bounds both lists by --list", async () => {
    const alerts = lines({ txn_id: "a" }, { txn_id: "d" }, { txn_id: "x" });
    const report = await analyzeText(STREAM, { alerts: textSource("alerts.jsonl", alerts), listLimit: 1 });
    assert.deepEqual(
      report.alerts!.false_positive_list.map((f) => f.txn_id),
      ["a"],
    );
    assert.equal(report.alerts!.missed.length, 1);
    assert.equal(report.alerts!.listed_limit, 1);
  });
});

describe("alerts and truth: warnings", () => {
  it("says when alert times lie more than a day before the stream, and when they look like seconds", async () => {
    const alerts = lines({ txn_id: "b", ts_ms: (T0 + 3000) / 1000 }, { txn_id: "c", ts_ms: T0 + 2000 });
    const report = await analyzeText(STREAM, { alerts: textSource("alerts.jsonl", alerts) });
    assert.equal(report.warnings.length, 1);
    assert.match(report.warnings[0]!, /^alerts\.jsonl: 1 of 2 alerted transactions have ts_ms more than a day before the stream's first event/);
    assert.match(report.warnings[0]!, /1 of them look like seconds, not milliseconds/);
  });

  it("says when no alerted transaction is in the stream", async () => {
    const report = await analyzeText(STREAM, { alerts: textSource("other.jsonl", lines({ txn_id: "p", ts_ms: T0 }, { txn_id: "q", ts_ms: T0 })) });
    assert.deepEqual(report.warnings, ["other.jsonl: none of the 2 alerted transactions is in the stream: alerts of another run?"]);
  });

  it("says when a truth file shares no transaction with the stream, in the report and on stderr", async () => {
    const truthText = lines({ kind: "outlier", txn_id: "zz", ts_ms: T0, from_step: 1, to_step: 2, extra_ms: 100 });
    const truth = await TruthFile.load(textSource("truth.jsonl", truthText));
    const report = await analyzeText(STREAM, { truth });
    assert.deepEqual(report.warnings, ["truth file truth.jsonl: none of its 1 labelled transactions is in the stream: the truth of another run?"]);

    const dir = await mkdtemp(join(tmpdir(), "wfsim-warn-"));
    try {
      await writeFile(join(dir, "events.jsonl"), STREAM);
      await writeFile(join(dir, "truth.jsonl"), truthText);
      const ran = await run(process.execPath, [WFSIM, "analyze", join(dir, "events.jsonl"), "--truth", join(dir, "truth.jsonl"), "--format", "json"]);
      assert.equal(ran.code, 0, ran.stderr);
      assert.match(ran.stderr, /^wfsim: warning: truth file .*truth\.jsonl: none of its 1 labelled transactions is in the stream/m);
      assert.equal((JSON.parse(ran.stdout) as { warnings: string[] }).warnings.length, 1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("alerts: the text report", () => {
  it("shows the false alerts and the misses by name, and the warnings", async () => {
    const { renderText } = await import("../../../src/analyze/render/text.ts");
    const alerts = lines({ txn_id: "a", ts_ms: T0 + 50 }, { txn_id: "b", ts_ms: (T0 + 3000) / 1000, kind: "outlier" });
    const text = renderText(await analyzeText(STREAM, { alerts: textSource("alerts.jsonl", alerts) }));
    assert.match(text, /\n {2}false alerts:\n {4}a {2}alert at ts_ms 1700000000050\n/);
    assert.match(text, /\n {2}missed:\n {4}c {2}outlier since ts_ms 1700000001120\n/);
    assert.match(text, /\nWarnings:\n {2}alerts\.jsonl: 1 of 2 alerted transactions have ts_ms more than a day before/);
  });
});
