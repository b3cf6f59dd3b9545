/**
 * `wfsim analyze --truth` undoes the delivery faults its truth file names before measuring: a run with
 * all five faults and the same seed without faults give the same golden windows and the same lifecycle
 * figures, while the stream checks still describe the faulty stream as read.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../helpers/cli.ts";

const FAULTS =
  "{drop: {prob: 0.05}, duplicate: {prob: 0.05, after: 2s}, delay: {prob: 0.05, by: {dist: uniform, min: 1s, max: 30s}}, " +
  "skew: {prob: 0.05, offset: {dist: uniform, min: 1s, max: 60s}}, corrupt: {prob: 0.05}}";
// examples/checkout.yaml has retries, failures, aborts and stuck transactions: every ending and step kind.
const RUN = ["run", "--scenario", "examples/checkout.yaml", "--clock", "virtual", "--samples", "3000", "--seed", "11", "--start-time", "0"];

interface Report {
  transactions: unknown;
  duration_ms: unknown;
  workflows: unknown;
  invalid_lines: number;
  violations: Record<string, { count: number }>;
  delivery_faults?: Record<string, { injected: number; found: number | null }>;
}

describe("analyze --truth undoes delivery faults", () => {
  let dir: string;
  const path = (name: string) => join(dir, name);
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "wfsim-undone-"));
    for (const [name, extra] of [
      ["clean", []],
      ["faulty", ["--delivery", FAULTS]],
    ] as const) {
      const ran = await runCli([...RUN, ...extra, "-o", path(`${name}.jsonl`), "--truth", path(`${name}-truth.jsonl`)]);
      assert.equal(ran.code, 0, ran.stderr);
    }
  });
  after(() => rm(dir, { recursive: true, force: true }));

  async function analyze(name: string, args: readonly string[], truth = true): Promise<Report> {
    const result = await runCli(["analyze", path(`${name}.jsonl`), ...(truth ? ["--truth", path(`${name}-truth.jsonl`)] : []), "--format", "json", ...args]);
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as Report;
  }

  for (const by of [[], ["--by", "workflow"], ["--by", "step"]]) {
    it(`gives the golden windows of the run without faults ${by.join(" ") || "(ungrouped)"}`, async () => {
      await analyze("clean", ["--windows", "10s", ...by, "--windows-out", path("clean-windows.jsonl")]);
      await analyze("faulty", ["--windows", "10s", ...by, "--windows-out", path("faulty-windows.jsonl")]);
      const clean = await readFile(path("clean-windows.jsonl"), "utf8");
      assert.ok(clean.split("\n").length > 10);
      assert.equal(await readFile(path("faulty-windows.jsonl"), "utf8"), clean);
    });
  }

  it("gives the lifecycle figures of the run without faults; the stream checks describe the stream as read", async () => {
    const clean = await analyze("clean", []);
    const faulty = await analyze("faulty", []);
    // Transactions (completed, failed, aborted, open, stuck), durations, per-workflow figures (failures, retries).
    assert.deepEqual(faulty.transactions, clean.transactions);
    assert.deepEqual(faulty.duration_ms, clean.duration_ms);
    assert.deepEqual(faulty.workflows, clean.workflows);
    // The checks as without the truth: the truth changes what is measured, not what was read.
    const asRead = await analyze("faulty", [], false);
    for (const check of ["duplicates", "out_of_order", "missing_steps", "close_without_open"]) {
      assert.equal(faulty.violations[check]!.count, asRead.violations[check]!.count, check);
    }
    assert.ok(faulty.violations.duplicates!.count > 0 && faulty.violations.out_of_order!.count > 0 && faulty.violations.missing_steps!.count > 0);
    assert.equal(faulty.invalid_lines, asRead.invalid_lines);
    const d = faulty.delivery_faults!;
    assert.equal(d.duplicate!.found, d.duplicate!.injected);
    assert.equal(d.corrupt!.found, d.corrupt!.injected);
    assert.equal(faulty.invalid_lines, d.corrupt!.injected);
  });

  it("tells a skew once per transaction: one offset for all its records", async () => {
    const truth = (await readFile(path("faulty-truth.jsonl"), "utf8")).split("\n").filter((l) => l.includes('"kind":"skew"'));
    const skews = truth.map((l) => JSON.parse(l) as { txn_id: string; seq: number; offset_ms: number; ts_ms: number; due_ms: number });
    assert.ok(skews.length > 0);
    assert.equal(new Set(skews.map((s) => s.txn_id)).size, skews.length);
    for (const s of skews) {
      assert.equal(s.seq, 0);
      assert.equal(s.ts_ms, s.due_ms + s.offset_ms);
      assert.ok(s.ts_ms >= 0);
    }
    // Every record of a skewed transaction in the stream is off by its offset from the clean run's.
    const clean = new Map<string, number[]>();
    for (const line of (await readFile(path("clean.jsonl"), "utf8")).split("\n")) {
      if (line === "") continue;
      const e = JSON.parse(line) as { txn_id: string; ts_ms: number };
      clean.set(e.txn_id, [...(clean.get(e.txn_id) ?? []), e.ts_ms]);
    }
    const offsets = new Map(skews.map((s) => [s.txn_id, s.offset_ms]));
    let checked = 0;
    for (const line of (await readFile(path("faulty.jsonl"), "utf8")).split("\n")) {
      if (!line.startsWith("{") || !line.endsWith("}")) continue;
      const e = JSON.parse(line) as { txn_id: string; ts_ms: number };
      const offset = offsets.get(e.txn_id);
      if (offset === undefined) continue;
      assert.ok(clean.get(e.txn_id)!.includes(e.ts_ms - offset), line);
      checked++;
    }
    assert.ok(checked > skews.length);
  });
});
