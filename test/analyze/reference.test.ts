/** The reference script's own output (Python's json.dumps spacing, real clock) analysed as it comes. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { analyzeText, REFERENCE } from "./helpers.ts";

const exec = promisify(execFile);

describe("analyze: the reference script's output", () => {
  it("reads every line, finds every transaction complete and every injected outlier", async () => {
    // Small delays keep it to about a second of real time; outliers are 300 ms against gaps of at most 40.
    const args = ["--samples", "40", "--concurrency", "20", "--pre-min", "1", "--pre-max", "20", "--inter-min", "1", "--inter-max", "20"];
    const { stdout } = await exec("python3", [REFERENCE, ...args, "--outlier-ms", "300", "--outlier-prob", "0.1", "--seed", "7"]);
    const lines = stdout.split("\n").filter((line) => line !== "");
    assert.match(lines[0]!, /^\{"type": "transaction_open", "txn_id": "txn_/, "the reference writes Python's spacing");
    const report = await analyzeText(stdout);

    assert.equal(report.events, lines.length);
    assert.equal(report.invalid_lines, 0);
    assert.equal(report.events_with_extra_fields, 0);
    assert.deepEqual(report.transactions, { total: 40, completed: 40, aborted: 0, failed: 0, open: 0, stuck: 0 });
    assert.equal(report.events_by_type.step_open, 200);
    assert.equal(report.gap_ms.count, 160);
    assert.equal(report.pre_delay_ms.count, 200);
    assert.ok(report.pre_delay_ms.min! >= 1 && report.pre_delay_ms.max! <= 20);
    assert.equal(report.concurrency.peak, 20);
    for (const [kind, value] of Object.entries(report.violations)) assert.equal(value.count, 0, kind);
    // Durations are the script's own duration_ms; first-event-to-close is measured, and they agree.
    assert.deepEqual(report.first_event_to_close_ms, report.duration_ms);

    const injectedGaps = lines.filter((line) => line.includes('"outlier_injected": true')).length;
    assert.equal(report.outliers.injected_gaps, injectedGaps);
    assert.ok(report.outliers.injected > 0, "with p = 0.1 per gap, 40 transactions carry some outliers");
    // asyncio sleeps at least as long as asked, and timestamps are truncated to the ms, so an
    // injected gap measures at least 300 + 1 + 1 − 1 = 301 ms. Clean gaps are at most 40 ms plus
    // scheduling delays; their median and MAD put the threshold far below 301.
    // The grouped rule (default): one group per gap, each with its own threshold, all below 301.
    assert.equal(report.outliers.rule.method, "grouped");
    assert.equal(report.outliers.groups!.length, 4);
    for (const group of report.outliers.groups!) assert.ok(group.threshold_ms < 301, `threshold ${group.threshold_ms} of gap ${group.from_step}`);
    assert.equal(report.outliers.recall, 1);
    // The pooled rule: one threshold for all gaps, below 301 as well.
    const pooled = (await analyzeText(stdout, { rule: "pooled" })).outliers;
    assert.ok(pooled.rule.threshold_ms !== null && pooled.rule.threshold_ms < 301, `threshold ${pooled.rule.threshold_ms}`);
    assert.equal(pooled.recall, 1);
  });
});
