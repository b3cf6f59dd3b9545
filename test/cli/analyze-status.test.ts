/**
 * Signs of life from `wfsim analyze`: plain status lines every --status-every seconds when stderr is
 * not a terminal, decided by an injected clock (no sleeping); progress figures exact on a source of
 * known chunks; the flag validated where it enters.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { analyze, type AnalyzeProgress } from "../../src/analyze/analyze.ts";
import type { EventSource } from "../../src/analyze/read/source.ts";
import { AnalyzeStatus } from "../../src/cli/analyze-status.ts";
import { compact, run, transaction, WFSIM } from "../analyze/helpers.ts";

/** A source that hands over the given texts as separate chunks. */
function chunked(name: string, texts: readonly string[]): EventSource {
  return {
    name,
    async *chunks() {
      for (const text of texts) yield Buffer.from(text);
    },
  };
}

describe("analyze: progress", () => {
  it("tells after each chunk the bytes and events read so far", async () => {
    const a = compact(transaction("a", 0, [5, 5], [5]));
    const b = compact(transaction("b", 100, [5], []));
    const seen: AnalyzeProgress[] = [];
    await analyze(chunked("two", [a, b]), { progress: (p) => seen.push(p) });
    // a: open, 2 × (step_open, step_done), one wait, close = 7 events; b: open, step_open, step_done, close = 4.
    assert.deepEqual(seen, [
      { source: "two", bytes: Buffer.byteLength(a), events: 7, openTransactions: 0 },
      { source: "two", bytes: Buffer.byteLength(a) + Buffer.byteLength(b), events: 11, openTransactions: 0 },
    ]);
  });
});

describe("analyze: status lines", () => {
  const progress = (bytes: number, events: number): AnalyzeProgress => ({ source: "f", bytes, events, openTransactions: 3 });

  it("writes a plain line every --status-every seconds of the clock given, and a last one at the end", () => {
    const written: string[] = [];
    let now = 1000;
    const status = new AnalyzeStatus({ stream: { write: (text: string) => written.push(text), isTTY: false }, everySeconds: 10, now: () => now, totalBytes: 4 * 2 ** 20 });
    now = 5000;
    status.progress(progress(2 ** 20, 1000));
    assert.deepEqual(written, [], "4 s: too early");
    now = 11_000;
    status.progress(progress(2 ** 20, 10_000));
    now = 15_000;
    status.progress(progress(2 * 2 ** 20, 12_000));
    now = 21_000;
    status.progress(progress(3 * 2 ** 20, 20_000));
    status.done();
    assert.deepEqual(written, [
      // 10 s in: 1 of 4 MiB read, so 30 s to go.
      "wfsim: analyze: 1.0 MiB of 4.0 MiB (25%), 10,000 events, 1,000 events/s, 3 open, ETA 30 s\n",
      "wfsim: analyze: 3.0 MiB of 4.0 MiB (75%), 20,000 events, 1,000 events/s, 3 open, ETA 7 s\n",
      "wfsim: analyze: 3.0 MiB of 4.0 MiB (75%), 20,000 events, 1,000 events/s, 3 open, ETA 7 s, done\n",
    ]);
  });

  it("writes nothing with --status-every 0, nor at the end of a run shorter than the interval", () => {
    const written: string[] = [];
    let now = 0;
    const off = new AnalyzeStatus({ stream: { write: (text: string) => written.push(text) }, everySeconds: 0, now: () => now });
    now = 1e9;
    off.progress(progress(10, 1));
    off.done();
    const quick = new AnalyzeStatus({ stream: { write: (text: string) => written.push(text) }, everySeconds: 10, now: () => now });
    quick.progress(progress(10, 1));
    quick.done();
    assert.deepEqual(written, []);
  });

  it("redraws one line in place on a terminal and clears it at the end", () => {
    const written: string[] = [];
    let now = 0;
    const status = new AnalyzeStatus({ stream: { write: (text: string) => written.push(text), isTTY: true, columns: 30 }, everySeconds: 0, now: () => now });
    now = 300;
    status.progress(progress(2 ** 20, 300));
    status.done();
    assert.deepEqual(written, [`\r\x1b[2K${"wfsim: analyze: 1.0 MiB, 300 events".slice(0, 29)}`, "\r\x1b[2K"]);
  });

  it("prints status lines on a stderr that is a pipe, and refuses a bad --status-every in one line", async () => {
    const dir = await mkdtemp(join(tmpdir(), "wfsim-status-"));
    try {
      const path = join(dir, "events.jsonl");
      // Over 1 MiB: the file is read in several chunks, each a chance for a line.
      const events: string[] = [];
      for (let i = 0; i < 6000; i++) events.push(compact(transaction(`t${i}`, i, [5, 5], [5])));
      await writeFile(path, events.join(""));
      const often = await run(process.execPath, [WFSIM, "analyze", path, "--format", "json", "--status-every", "0.000001"]);
      assert.equal(often.code, 0, often.stderr);
      const lines = often.stderr.split("\n").filter((line) => line !== "");
      assert.ok(lines.length >= 2, often.stderr);
      assert.ok(
        lines.every((line) => /^wfsim: analyze: [\d.]+ MiB of [\d.]+ MiB \(\d+%\), [\d,]+ events, [\d,]+ events\/s, [\d,]+ open/.test(line)),
        often.stderr,
      );
      assert.match(lines.at(-1)!, /, done$/);
      assert.equal(JSON.parse(often.stdout).transactions.total, 6000);
      const off = await run(process.execPath, [WFSIM, "analyze", path, "--format", "json", "--status-every", "0"]);
      assert.equal(off.stderr, "");
      const bad = await run(process.execPath, [WFSIM, "analyze", path, "--status-every", "soon"]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /^wfsim: --status-every must be a number from 0 to 86400, got "?soon"?\n$/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
