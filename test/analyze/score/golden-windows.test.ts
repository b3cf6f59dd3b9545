/**
 * Golden windows on a small hand-made stream whose every figure is worked out by hand below, ungrouped,
 * by workflow and by step; stuck from the stream's labels and from a truth file; the percentiles
 * against exact nearest-rank values; and the refusals.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { analyzeWithWindows } from "../../../src/analyze/analyze.ts";
import { textSource } from "../../../src/analyze/read/source.ts";
import { GoldenWindows, parseWindowSize, type WindowRow } from "../../../src/analyze/score/golden-windows.ts";
import { TruthFile } from "../../../src/analyze/score/truth-file.ts";
import { renderWindows, windowParts } from "../../../src/analyze/render/windows.ts";
import { compact, ev, type Event } from "../helpers.ts";

const wf = (workflow: string, event: Event): Event => ({ ...event, workflow });

/**
 * Windows of 10 ms: W0 = [0, 10), W1 = [10, 20), W2 = [20, 30).
 * Workflow a: A1 opens 1, step 1 from 1 to 4, closes 5 (duration 4).
 *             A2 opens 3, step 1 from 3 to 13, closes 14 (duration 11).
 *             A3 opens 12, step 1 opens 12, fails at 24, the transaction fails at 25.
 * Workflow b: B1 opens 8 (stuck), step 1 opens 9, then nothing more.
 *             B2 opens 15, step 1 from 15 to 16, closes 22 (duration 7).
 *             B3 opens 27, step 1 opens 27, still running when the stream ends (not stuck: in flight).
 */
function stream(stuckInline: boolean): string {
  const events: Event[] = [
    wf("a", ev.open("A1", 1)),
    wf("a", ev.stepOpen("A1", 1, 1, 0)),
    wf("a", ev.open("A2", 3)),
    wf("a", ev.stepOpen("A2", 1, 3, 0)),
    wf("a", ev.stepDone("A1", 1, 4)),
    wf("a", ev.close("A1", 5, 4, 1)),
    stuckInline ? { ...ev.open("B1", 8), workflow: "b", stuck: true } : wf("b", ev.open("B1", 8)),
    wf("b", ev.stepOpen("B1", 1, 9, 1)),
    wf("a", ev.open("A3", 12)),
    wf("a", ev.stepOpen("A3", 1, 12, 0)),
    wf("a", ev.stepDone("A2", 1, 13)),
    wf("a", ev.close("A2", 14, 11, 1)),
    wf("b", ev.open("B2", 15)),
    wf("b", ev.stepOpen("B2", 1, 15, 0)),
    wf("b", ev.stepDone("B2", 1, 16)),
    wf("b", ev.close("B2", 22, 7, 1)),
    { ...ev.stepFailed("A3", 1, 24, 1), workflow: "a" },
    { ...ev.failed("A3", 25, 13, 1, 1), workflow: "a" },
    wf("b", ev.open("B3", 27)),
    wf("b", ev.stepOpen("B3", 1, 27, 0)),
  ];
  return compact(events);
}

const TRUTH = `${JSON.stringify({ kind: "stuck", txn_id: "B1", ts_ms: 8, step: 1, step_name: "s1", silent_since_ms: 9, workflow: "b" })}\n`;

const row = (start: number, group: Partial<WindowRow>, figures: [number, number, number, number, number, number], duration: number | null): WindowRow => ({
  window_start_ms: start,
  window_end_ms: start + 10,
  window_start: new Date(start).toISOString(),
  ...group,
  opened: figures[0],
  completed: figures[1],
  failed: figures[2],
  aborted: figures[3],
  stuck: figures[4],
  in_flight: figures[5],
  duration_p50_ms: duration,
  duration_p95_ms: duration,
  duration_p99_ms: duration,
  duration_max_ms: duration,
});

async function windowsOf(text: string, by?: "workflow" | "step", truth?: string) {
  const options = { windows: { sizeMs: 10, by }, ...(truth === undefined ? {} : { truth: await TruthFile.load(textSource("truth.jsonl", truth)) }) };
  return (await analyzeWithWindows(textSource("events.jsonl", text), options)).windows;
}

describe("golden windows", () => {
  it("ungrouped: opened, completed, failed, stuck, in flight and durations per window, by hand", async () => {
    const windows = await windowsOf(stream(true));
    assert.deepEqual(windows.rows, [
      // opened A1 A2 B1; completed A1 (4); B1 stuck; in flight at 10: A2, B1
      row(0, {}, [3, 1, 0, 0, 1, 2], 4),
      // opened A3 B2; completed A2 (11); in flight at 20: B1, A3, B2
      row(10, {}, [2, 1, 0, 0, 0, 3], 11),
      // opened B3; completed B2 (7); failed A3; in flight at 30: B1, B3
      row(20, {}, [1, 1, 1, 0, 0, 2], 7),
    ]);
    assert.equal(windows.late_completions, 0);
  });

  it("stuck from a truth file when the stream carries no label: the same answers", async () => {
    assert.deepEqual((await windowsOf(stream(false), undefined, TRUTH)).rows, (await windowsOf(stream(true))).rows);
    // Without any truth, nothing is stuck: B1 is only in flight.
    assert.deepEqual(
      (await windowsOf(stream(false))).rows.map((r) => r.stuck),
      [0, 0, 0],
    );
  });

  it("by workflow: a row per window and workflow with something to say", async () => {
    const a = { workflow: "a" };
    const b = { workflow: "b" };
    assert.deepEqual((await windowsOf(stream(true), "workflow")).rows, [
      row(0, a, [2, 1, 0, 0, 0, 1], 4),
      row(0, b, [1, 0, 0, 0, 1, 1], null),
      row(10, a, [1, 1, 0, 0, 0, 1], 11),
      row(10, b, [1, 0, 0, 0, 0, 2], null),
      row(20, a, [0, 0, 1, 0, 0, 0], null),
      row(20, b, [1, 1, 0, 0, 0, 2], 7),
    ]);
  });

  it("by step: steps opened (first attempt), done, failed with their transaction, stuck where they went silent", async () => {
    const a = { workflow: "a", step: 1 };
    const b = { workflow: "b", step: 1 };
    const rows = (await windowsOf(stream(false), "step", TRUTH)).rows;
    assert.deepEqual(rows, [
      // A1's step 1 from 1 to 4 (3 ms); A2's opened at 3
      row(0, a, [2, 1, 0, 0, 0, 1], 3),
      // B1's step 1 opened at 9 and went silent
      row(0, b, [1, 0, 0, 0, 1, 1], null),
      // A3's step opened at 12; A2's done at 13 (10 ms)
      row(10, a, [1, 1, 0, 0, 0, 1], 10),
      // B2's step from 15 to 16 (1 ms)
      row(10, b, [1, 1, 0, 0, 0, 1], 1),
      // A3's step fails with A3 at 25
      row(20, a, [0, 0, 1, 0, 0, 0], null),
      row(20, b, [1, 0, 0, 0, 0, 2], null),
    ]);
  });

  it("percentiles are nearest-rank over the durations completed in the window", () => {
    const windows = new GoldenWindows({ sizeMs: 1000 });
    // 1..20 ms in a scrambled order, all completed in window 0.
    for (const duration of [7, 20, 1, 13, 2, 19, 5, 11, 3, 17, 9, 15, 4, 8, 6, 18, 10, 12, 14, 16]) {
      windows.advance(500);
      windows.ended(500, 0, "completed", duration, false);
    }
    const [only] = windows.result().rows;
    // ranks ceil(0.5·20) = 10, ceil(0.95·20) = 19, ceil(0.99·20) = 20
    assert.deepEqual([only!.duration_p50_ms, only!.duration_p95_ms, only!.duration_p99_ms, only!.duration_max_ms], [10, 19, 20, 20]);
    assert.equal(only!.in_flight, 0, "ends whose opening was not read leave in_flight alone");
  });

  it("a completion after its window has been let go counts, and is reported late", () => {
    const windows = new GoldenWindows({ sizeMs: 1000 });
    windows.ended(100, 0, "completed", 5, false);
    windows.advance(100);
    windows.advance(70_000); // window 0 ends at 1000; durations kept until 1000 + 60000
    windows.ended(70_000, 0, "completed", 9, false);
    windows.ended(200, 0, "completed", 50, false);
    const result = windows.result();
    assert.equal(result.late_completions, 1);
    assert.deepEqual([result.rows[0]!.completed, result.rows[0]!.duration_max_ms], [2, 5]);
  });

  it("keeps the durations of the open windows only, however long the stream", () => {
    const windows = new GoldenWindows({ sizeMs: 1000 });
    let most = 0;
    // An hour of one completion every 100 ms: 3600 windows; durations kept for about a minute's worth.
    for (let ts = 0; ts < 3_600_000; ts += 100) {
      windows.advance(ts);
      windows.ended(ts, 0, "completed", ts % 977, false);
      most = Math.max(most, windows.heldWindows);
    }
    assert.ok(most <= 62, `at most ${most} windows held`);
    const rows = windows.result().rows;
    assert.equal(rows.length, 3600);
    assert.ok(rows.every((row) => row.completed === 10 && row.duration_max_ms !== null));
    assert.equal(windows.result().late_completions, 0);
  });

  it("writes JSON Lines and CSV", async () => {
    const windows = await windowsOf(stream(true), "workflow");
    const csv = renderWindows(windows.rows, windows.by, "csv").split("\n");
    assert.equal(csv[0], "window_start_ms,window_end_ms,window_start,workflow,opened,completed,failed,aborted,stuck,in_flight,duration_p50_ms,duration_p95_ms,duration_p99_ms,duration_max_ms");
    assert.equal(csv[2], "0,10,1970-01-01T00:00:00.000Z,b,1,0,0,0,1,1,,,,");
    const jsonl = renderWindows(windows.rows, windows.by, "jsonl").trim().split("\n");
    assert.deepEqual(JSON.parse(jsonl[0]!), windows.rows[0]);
  });

  it("writes many rows in parts, CSV's header once", () => {
    const windows = new GoldenWindows({ sizeMs: 1 });
    for (let ts = 0; ts < 25_000; ts++) windows.opened(ts, 0);
    windows.advance(0);
    windows.advance(24_999);
    const rows = windows.result().rows;
    const parts = [...windowParts(rows, null, "csv")];
    assert.equal(parts.length, 3);
    const lines = parts.join("").trimEnd().split("\n");
    assert.equal(lines.length, 25_001);
    assert.equal(lines.filter((line) => line.startsWith("window_start_ms")).length, 1);
    assert.equal(lines[25_000], "24999,25000,1970-01-01T00:00:24.999Z,1,0,0,0,0,25000,,,,");
  });

  it("refuses sizes that are not whole milliseconds of at least 1, and windows longer than the run", async () => {
    assert.equal(parseWindowSize("5m"), 300_000);
    assert.equal(parseWindowSize("500ms"), 500);
    assert.throws(() => parseWindowSize("0.5ms"), /--windows must be at least 1ms, got "0.5ms"/);
    assert.throws(() => parseWindowSize("1.5ms"), /whole number of milliseconds/);
    assert.throws(() => parseWindowSize("five minutes"), /--windows must be a duration such as/);
    await assert.rejects(
      analyzeWithWindows(textSource("e.jsonl", stream(true)), { windows: { sizeMs: 27 } }),
      /--windows 27ms is larger than the run: its events span 26ms/,
    );
  });
});
