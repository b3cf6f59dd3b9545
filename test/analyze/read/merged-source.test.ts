/**
 * Several files merged by ts_ms into one stream: the outputs of `wfsim run --instance i/3` analyse
 * as the stream their lines make in time order, concurrency included; --concat keeps reading them one
 * after the other; findings still name the file and line they come from.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { analyze } from "../../../src/analyze/analyze.ts";
import { tsOf } from "../../../src/analyze/read/merged-source.ts";
import { fileSource, textSource } from "../../../src/analyze/read/source.ts";
import type { AnalysisReport } from "../../../src/analyze/report.ts";
import { compact, ev, run, transaction, WFSIM } from "../helpers.ts";

const withoutSources = ({ sources: _sources, ...rest }: AnalysisReport) => rest;


describe("merged sources", () => {
  let dir = "";
  const parts: string[] = [];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "wfsim-merge-"));
    for (let i = 0; i < 3; i++) {
      const path = join(dir, `part${i}.jsonl`);
      const made = await run("/bin/sh", ["-c", `"${process.execPath}" "${WFSIM}" run --clock virtual --start-time 0 --samples 2000 --quiet --instance ${i}/3 > "${path}"`]);
      assert.equal(made.code, 0, made.stderr);
      parts.push(path);
    }
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("reads the files of --instance runs as the one stream of their lines in time order", async () => {
    const lines = (await Promise.all(parts.map((path) => readFile(path, "utf8"))))
      .flatMap((text, file) => text.split("\n").filter((line) => line !== "").map((line, at) => ({ line, file, at })))
      // Stable: by ts_ms, then the earlier file, then the line's place in its file.
      .sort((a, b) => tsOf(Buffer.from(a.line)) - tsOf(Buffer.from(b.line)) || a.file - b.file || a.at - b.at);
    const sorted = await analyze(textSource("sorted.jsonl", lines.map((l) => `${l.line}\n`).join("")));
    const merged = await analyze(parts.map(fileSource), { merge: true });
    assert.deepEqual(withoutSources(merged), withoutSources(sorted));
    assert.equal(merged.transactions.total, 2000);
    assert.deepEqual(merged.sources, parts);
    assert.equal(merged.violations.out_of_order.count, 0);
    // Read one after the other, each file starts the clock again: its events come before the last one read.
    const concatenated = await analyze(parts.map(fileSource));
    assert.ok(concatenated.violations.out_of_order.count === 0);
    assert.notEqual(concatenated.concurrency.peak, merged.concurrency.peak);
  });

  it("merges by default on the command line, and --concat keeps today's reading", async () => {
    const merged = await run(process.execPath, [WFSIM, "analyze", ...parts, "--format", "json"]);
    assert.equal(merged.code, 0, merged.stderr);
    const concat = await run(process.execPath, [WFSIM, "analyze", "--concat", ...parts, "--format", "json"]);
    assert.equal(concat.code, 0, concat.stderr);
    const fromLibrary = await analyze(parts.map(fileSource), { merge: true });
    const m = JSON.parse(merged.stdout) as AnalysisReport;
    const c = JSON.parse(concat.stdout) as AnalysisReport;
    assert.deepEqual(m.concurrency, fromLibrary.concurrency);
    assert.notDeepEqual(c.concurrency, m.concurrency);
    assert.deepEqual(c.sources, parts);
  });

  it("names the file and line of a finding in a merged stream", async () => {
    const a = join(dir, "a.jsonl");
    const b = join(dir, "b.jsonl");
    await writeFile(a, compact(transaction("x", 0, [10, 10], [5])));
    // b: y at 3..; its step_done 1 twice (b's line 4).
    await writeFile(b, compact([ev.open("y", 3), ev.stepOpen("y", 1, 4, 1), ev.stepDone("y", 1, 4), ev.stepDone("y", 1, 4), ev.close("y", 4, 1, 1)]));
    const report = await analyze([fileSource(a), fileSource(b)], { merge: true });
    assert.deepEqual(
      report.violations.duplicates.examples.map((e) => [e.source, e.line, e.txn_id]),
      [[b, 4, "y"]],
    );
  });

  it("finds ts_ms whatever the spacing, and says NaN when there is none", () => {
    assert.equal(tsOf(Buffer.from('{"type":"x","ts_ms":1234}')), 1234);
    assert.equal(tsOf(Buffer.from('{"type": "x", "ts_ms" : -5, "a": 1}')), -5);
    assert.ok(Number.isNaN(tsOf(Buffer.from('{"type":"x"}'))));
  });
});
