/**
 * The fast path must read every line wfsim writes, in every mode: the strict path (JSON.parse) gives
 * the same verdicts, only several times slower, so a layout the fast path misses shows up as speed,
 * never as a wrong figure. Here it shows up as a failing count.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { resolveOutlierOptions } from "../../../src/analyze/options.ts";
import { StreamAnalysis } from "../../../src/analyze/stream-analysis.ts";
import { IN_STREAM_TRUTH } from "../../../src/analyze/score/truth.ts";
import { runCli } from "../../helpers/cli.ts";

let dir = "";
before(async () => (dir = await mkdtemp(join(tmpdir(), "wfsim-fast-path-"))));
after(() => rm(dir, { recursive: true, force: true }));

async function fastShare(args: string[]): Promise<{ lines: number; fast: number; invalid: number }> {
  const result = await runCli([...args, "--clock", "virtual", "--start-time", "0", "--quiet"]);
  assert.equal(result.code, 0, result.stderr);
  const analysis = new StreamAnalysis({ ...resolveOutlierOptions({}), truth: IN_STREAM_TRUTH, charts: false });
  analysis.beginSource("run");
  analysis.push(Buffer.from(result.stdout));
  analysis.endSource();
  const report = analysis.finish();
  return { lines: result.stdout.split("\n").length - 1, fast: analysis.fastLines, invalid: report.invalid_lines };
}

describe("the analyzer's fast path", () => {
  it("reads every line of a run with the reference's flags", async () => {
    const { lines, fast, invalid } = await fastShare(["--samples", "300", "--outlier-prob", "0.2"]);
    assert.equal(invalid, 0);
    assert.equal(fast, lines);
  });

  it("reads scenario lines: workflow and step names, failures, retries, work times, stuck labels", async () => {
    const { lines, fast, invalid } = await fastShare(["--scenario", "examples/flash-sale.yaml", "--samples", "2000"]);
    assert.equal(invalid, 0);
    assert.equal(fast, lines);
  });

  it("reads lines without inline labels (--truth)", async () => {
    const truth = join(dir, "truth.jsonl");
    const { lines, fast, invalid } = await fastShare(["--scenario", "examples/checkout.yaml", "--samples", "500", "--truth", truth]);
    assert.ok((await readFile(truth, "utf8")).length > 0);
    assert.equal(invalid, 0);
    assert.equal(fast, lines);
  });
});
