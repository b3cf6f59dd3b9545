/**
 * `wfsim compare` on hand-made golden windows and hand-made pipeline outputs: each verdict (exact,
 * within tolerance, off, missing window, extra window), a mapping file with ISO-8601 window starts
 * and the pipeline's own field names, a window updated twice (the last record counts), the exit
 * codes, and bad input (one line, exit 2), including analyze --windows' own refusals.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { compareWindows, judge } from "../../src/compare/compare.ts";
import { parseTolerance, resolveMapping } from "../../src/compare/mapping.ts";
import { textSource } from "../../src/analyze/read/source.ts";
import { runCli } from "../helpers/cli.ts";
import { compact, ev } from "../analyze/helpers.ts";

const golden = (start: number, workflow: string, opened: number, completed: number, p95: number | null) => ({
  window_start_ms: start,
  window_end_ms: start + 60_000,
  window_start: new Date(start).toISOString(),
  workflow,
  opened,
  completed,
  failed: 0,
  aborted: 0,
  stuck: 0,
  in_flight: 1,
  duration_p50_ms: p95 === null ? null : p95 / 2,
  duration_p95_ms: p95,
  duration_p99_ms: p95,
  duration_max_ms: p95,
});
const lines = (records: readonly object[]) => records.map((r) => `${JSON.stringify(r)}\n`).join("");

const GOLDEN = lines([golden(0, "a", 10, 8, 200), golden(0, "b", 5, 5, 300), golden(60_000, "a", 7, 7, 100), golden(60_000, "b", 4, 4, 120)]);

/** The pipeline's own names: minute (ISO-8601), wf, done, p95. */
const PIPELINE = lines([
  { minute: "1970-01-01T00:00:00Z", wf: "a", done: 3, p95: 150 }, // an early update of a@0, replaced below
  { minute: "1970-01-01T00:00:00Z", wf: "b", done: 5, p95: 310 }, // p95 within 5% of 300
  { minute: "1970-01-01T00:01:00Z", wf: "a", done: 6, p95: 100 }, // completed off by one (exact required)
  { minute: "1970-01-01T00:00:00Z", wf: "a", done: 8, p95: 200 }, // exact
  { minute: "1970-01-01T00:02:00Z", wf: "a", done: 1, p95: 90 }, // extra window; b@1m is missing
]);

const MAPPING = `window_start: { field: minute, unit: iso }
workflow: wf
figures:
  completed: done
  duration_p95_ms: p95
tolerance:
  duration_p95_ms: "5%"
`;

let dir = "";
before(async () => (dir = await mkdtemp(join(tmpdir(), "wfsim-compare-test-"))));
after(() => rm(dir, { recursive: true, force: true }));

async function files(pipeline = PIPELINE, mapping = MAPPING) {
  const paths = { golden: join(dir, "golden.jsonl"), actual: join(dir, "actual.jsonl"), mapping: join(dir, "mapping.yaml") };
  await writeFile(paths.golden, GOLDEN);
  await writeFile(paths.actual, pipeline);
  await writeFile(paths.mapping, mapping);
  return paths;
}

describe("compare: verdicts", () => {
  it("judges |actual - expected| against max(absolute, relative x |expected|)", () => {
    const tolerance = parseTolerance("5, 2%", "t");
    assert.deepEqual(tolerance, { absolute: 5, relative: 0.02 });
    assert.equal(judge(100, 100, tolerance), "exact");
    assert.equal(judge(100, 105, tolerance), "within");
    assert.equal(judge(1000, 1020, tolerance), "within");
    assert.equal(judge(1000, 1021, tolerance), "off");
    assert.equal(judge(null, null, tolerance), "exact");
    assert.equal(judge(null, 0, tolerance), "off");
  });

  it("exact, within tolerance, off, missing and extra windows, on the pipeline's own field names", async () => {
    const paths = await files();
    const mapping = await resolveMapping({ file: paths.mapping });
    const { report } = await compareWindows(textSource("golden.jsonl", GOLDEN), textSource("actual.jsonl", PIPELINE), mapping);
    assert.deepEqual(report.windows, { expected: 4, actual: 4, matched: 3, missing: 1, extra: 1, empty_missing: 0, empty_extra: 0, actual_records: 5, replaced_updates: 1 });
    assert.deepEqual(report.figures, {
      completed: { tolerance: { absolute: 0, relative: 0 }, compared: 3, exact: 2, within: 0, off: 1 },
      duration_p95_ms: { tolerance: { absolute: 0, relative: 0.05 }, compared: 3, exact: 2, within: 1, off: 0 },
    });
    assert.deepEqual(report.differences, [
      { window_start_ms: 60_000, window_start: "1970-01-01T00:01:00.000Z", workflow: "a", kind: "off", figure: "completed", expected: 7, actual: 6, difference: -1 },
      { window_start_ms: 60_000, window_start: "1970-01-01T00:01:00.000Z", workflow: "b", kind: "missing" },
      { window_start_ms: 120_000, window_start: "1970-01-01T00:02:00.000Z", workflow: "a", kind: "extra" },
    ]);
    assert.equal(report.verdict, "differences");
  });

  it("a window on one side only whose compared figures are all 0 or null is no difference", async () => {
    const golden0 = lines([golden(0, "a", 1, 0, null), golden(60_000, "a", 0, 2, 50)]);
    // The pipeline writes nothing for a@0 (nothing completed) and a zero row for b@1m.
    const pipeline = lines([
      { window_start_ms: 60_000, workflow: "a", completed: 2 },
      { window_start_ms: 60_000, workflow: "b", completed: 0 },
    ]);
    const mapping = await resolveMapping({ fields: ["completed=completed"] });
    const { report } = await compareWindows(textSource("golden.jsonl", golden0), textSource("actual.jsonl", pipeline), mapping);
    assert.deepEqual([report.windows.matched, report.windows.empty_missing, report.windows.empty_extra, report.verdict], [1, 1, 1, "pass"]);
  });

  it("CLI: exit 0 when everything is within tolerance, 1 with differences, the JSON report beside the text", async () => {
    const paths = await files();
    const same = await runCli(["compare", "--expected", paths.golden, "--actual", paths.golden, "--tolerance", "duration_p50_ms=0", "--tolerance", "duration_p95_ms=0", "--tolerance", "duration_p99_ms=0"]);
    assert.equal(same.code, 0, same.stderr);
    assert.match(same.stdout, /verdict: every window and figure within tolerance/);

    const report = join(dir, "report.json");
    const differs = await runCli(["compare", "--expected", paths.golden, "--actual", paths.actual, "--mapping", paths.mapping, "--report", report]);
    assert.equal(differs.code, 1, differs.stderr);
    assert.match(differs.stdout, /1970-01-01T00:01:00.000Z {2}workflow=a {2}completed: expected 7, actual 6 \(-1\)/);
    assert.match(differs.stdout, /1970-01-01T00:01:00.000Z {2}workflow=b {2}missing/);
    assert.match(differs.stdout, /verdict: differences \(3\)/);
    assert.equal(JSON.parse(await readFile(report, "utf8")).differences.length, 3);

    // Flags instead of the file, epoch seconds as the window start; tolerance loosened for completed.
    const seconds = lines([
      { t: 0, wf: "a", done: 8 },
      { t: 0, wf: "b", done: 5 },
      { t: 60, wf: "a", done: 6 },
      { t: 60, wf: "b", done: 4 },
    ]);
    await writeFile(paths.actual, seconds);
    const flags = ["compare", "--expected", paths.golden, "--actual", paths.actual, "--window-field", "t", "--window-unit", "s", "--workflow-field", "wf", "--field", "completed=done"];
    assert.equal((await runCli([...flags, "--tolerance", "completed=1"])).code, 0);
    assert.equal((await runCli(flags)).code, 1);
  });
});

describe("compare and analyze --windows: bad input, one line, exit 2", () => {
  const oneLine = (result: { code: number | null; stderr: string }) => {
    assert.equal(result.code, 2, result.stderr);
    const text = result.stderr.trimEnd();
    assert.equal(text.split("\n").length, 1, text);
    return text;
  };

  it("a mapping naming a field the pipeline output lacks, a percentile without a tolerance, an unreadable window start", async () => {
    const paths = await files();
    const base = ["compare", "--expected", paths.golden, "--actual", paths.actual, "--mapping", paths.mapping];
    assert.equal(oneLine(await runCli([...base, "--field", "failed=failures"])), `wfsim: --actual ${paths.actual}: no record has the field "failures" (mapped to failed)`);
    assert.equal(oneLine(await runCli([...base, "--window-field", "ts"])), `wfsim: --actual ${paths.actual}: no record has the field "ts" (the window's start, --window-field)`);
    assert.match(oneLine(await runCli([...base, "--field", "duration_p99_ms=p95"])), /^wfsim: duration_p99_ms needs a tolerance \(--tolerance duration_p99_ms=ABS,REL%/);
    assert.equal(
      oneLine(await runCli([...base, "--window-unit", "ms"])),
      `wfsim: --actual ${paths.actual} line 1: minute (the window's start) must be epoch milliseconds, got "1970-01-01T00:00:00Z"`,
    );
    assert.match(oneLine(await runCli([...base, "--tolerance", "completed=-1"])), /^wfsim: --tolerance completed must be an absolute amount/);
    assert.match(oneLine(await runCli([...base, "--field", "speed=done"])), /^wfsim: --field: "speed" is not a figure of the golden windows/);
    await writeFile(paths.mapping, "figures: [completed]\n");
    assert.match(oneLine(await runCli(base)), /--mapping .*: figures must be a mapping of figure names/);
    await writeFile(paths.actual, "{not json\n");
    assert.match(oneLine(await runCli(["compare", "--expected", paths.golden, "--actual", paths.actual])), /line 1: not valid JSON/);
    assert.match(oneLine(await runCli(["compare", "--expected", paths.actual, "--actual", paths.golden])), /--expected .* line 1: not valid JSON/);
  });

  it("analyze --windows: unparseable sizes, under 1 ms, larger than the run (leaving an existing file as it was), no --windows-out", async () => {
    const events = join(dir, "events.jsonl");
    await writeFile(events, compact([ev.open("A", 1000), ev.stepOpen("A", 1, 1000, 0), ev.stepDone("A", 1, 1500), ev.close("A", 2000, 1000, 1)]));
    const out = join(dir, "windows.jsonl");
    await writeFile(out, "keep me\n");
    const windows = (size: string, ...more: string[]) => runCli(["analyze", events, "--windows", size, "--windows-out", out, ...more]);
    assert.match(oneLine(await windows("soon")), /^wfsim: --windows must be a duration such as 250ms, .*, got "soon"$/);
    assert.equal(oneLine(await windows("0.5ms")), 'wfsim: --windows must be at least 1ms, got "0.5ms"');
    assert.equal(oneLine(await windows("2s")), "wfsim: --windows 2s is larger than the run: its events span 1s (first to last ts_ms)");
    assert.equal(await readFile(out, "utf8"), "keep me\n");
    assert.match(oneLine(await windows("1s", "--by", "txn")), /^wfsim: --by must be one of workflow, step/);
    assert.match(oneLine(await runCli(["analyze", events, "--windows", "1s"])), /^wfsim: --windows needs --windows-out FILE/);
    assert.equal(oneLine(await runCli(["analyze", events, "--by", "step"])), "wfsim: --by applies to --windows SIZE");

    const ok = await windows("500ms");
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(
      (await readFile(out, "utf8")).trim().split("\n").map((line) => JSON.parse(line).completed),
      [0, 0, 1],
    );
    const csv = await runCli(["analyze", events, "--windows", "1s", "--windows-out", "-", "--windows-format", "csv"]);
    assert.equal(csv.code, 0, csv.stderr);
    assert.equal(csv.stdout.split("\n")[2], "2000,3000,1970-01-01T00:00:02.000Z,0,1,0,0,0,0,1000,1000,1000,1000");
  });
});
