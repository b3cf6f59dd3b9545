// `wfsim analyze --follow FILE`: a growing JSON Lines file followed like `tail -f`, wfsim's own events
// or a shaped scenario's records: alerts once on transactions open longer than --stuck-ms as lines
// are appended, and when stopped the report of a bounded analysis of the same lines.

import assert from "node:assert/strict";
import { appendFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test, type TestContext } from "node:test";
import { runCli } from "../helpers/cli.ts";
import { FollowerProcess, waitFor } from "./helpers.ts";

const SHOP = new URL("../../examples/shop-orders.yaml", import.meta.url).pathname;

async function wfsim(args: readonly string[]): Promise<string> {
  const result = await runCli(args);
  assert.equal(result.code, 0, `wfsim ${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
}

function figures(json: string): Record<string, unknown> {
  const report = JSON.parse(json) as Record<string, unknown> & { ground_truth?: { source?: unknown } };
  delete report.sources;
  if (report.ground_truth !== undefined) delete report.ground_truth.source;
  return report;
}

/** Follows `file` while its lines `text` are appended in three parts; returns the follower, stopped, and its report. */
async function followWhileWritten(t: TestContext, dir: string, text: string, args: readonly string[], events: number) {
  const file = join(dir, "growing.jsonl");
  const lines = text.split("\n");
  const third = Math.floor(lines.length / 3);
  // Cut mid-line too: a line completed by a later write is read whole.
  await writeFile(file, `${lines.slice(0, third).join("\n")}\n${lines[third]!.slice(0, 20)}`);
  const report = join(dir, "follow.json");
  const follower = new FollowerProcess(t, [file, ...args, "--summary-ms", "200", "--format", "json", "--report", report]);
  await waitFor("the first part", () => follower.events > 0, 30_000, () => follower.stderr);
  await appendFile(file, `${lines[third]!.slice(20)}\n${lines.slice(third + 1, 2 * third).join("\n")}\n`);
  await appendFile(file, `${lines.slice(2 * third).join("\n")}`);
  await waitFor("every event", () => follower.events >= events, 60_000, () => follower.stderr);
  const { code, stderr } = await follower.stop("SIGINT");
  assert.equal(code, 130, stderr);
  return { follower, report: await readFile(report, "utf8") };
}

describe("wfsim analyze --follow FILE", () => {
  test("a shaped scenario's records: the report when stopped equals the bounded one; alerts on the stuck transactions", async (t) => {
    const dir = await mkdtemp(join(tmpdir(), "wfsim-file-follow-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const jsonl = join(dir, "records.jsonl");
    await wfsim(["run", "--scenario", SHOP, "--samples", "1500", "--clock", "virtual", "--quiet", "--output", jsonl, "--truth", join(dir, "run.truth")]);
    const truthArgs = ["--truth", join(dir, "run.truth")];
    const bounded = figures(await wfsim(["analyze", "--scenario", SHOP, jsonl, ...truthArgs, "--format", "json"]));
    const text = await readFile(jsonl, "utf8");
    // Longer than any transaction of this run that ends (72 s at most), shorter than the run (129 s).
    const stuckMs = 75_000;
    const { follower, report } = await followWhileWritten(t, dir, text, ["--scenario", SHOP, ...truthArgs, "--stuck-ms", String(stuckMs)], bounded.events as number);
    assert.deepEqual(figures(report), bounded);
    const truth = (await readFile(join(dir, "run.truth"), "utf8")).trimEnd().split("\n").map((line) => JSON.parse(line) as { kind: string; txn_id: string; ts_ms: number });
    const stuck = truth.filter((record) => record.kind === "stuck");
    const lastTs = Date.parse((JSON.parse(text.trimEnd().split("\n").at(-1)!) as { occurredAt: string }).occurredAt);
    const due = stuck.filter((record) => record.ts_ms < lastTs - stuckMs).map((record) => record.txn_id);
    assert.ok(due.length > 0);
    assert.deepEqual(new Set(follower.alerts.map((alert) => alert.txn_id)), new Set(due), "each stuck transaction open longer than --stuck-ms by the end, once");
    assert.equal(follower.alerts.length, due.length);
  });

  test("wfsim's own events: the same report as the bounded analysis", async (t) => {
    const dir = await mkdtemp(join(tmpdir(), "wfsim-file-follow-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const jsonl = join(dir, "events.jsonl");
    await wfsim(["run", "--samples", "800", "--clock", "virtual", "--quiet", "--output", jsonl]);
    const bounded = figures(await wfsim(["analyze", jsonl, "--format", "json"]));
    const { report } = await followWhileWritten(t, dir, await readFile(jsonl, "utf8"), ["--stuck-ms", "3600000"], bounded.events as number);
    assert.deepEqual(figures(report), bounded);
  });

  test("bad input: several files, stdin, --group, a missing file: one line, exit 2", async (t) => {
    const dir = await mkdtemp(join(tmpdir(), "wfsim-file-follow-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const a = join(dir, "a.jsonl");
    await writeFile(a, "");
    const oneLine = async (args: readonly string[]) => {
      const result = await runCli(["analyze", "--follow", ...args]);
      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.stdout, "");
      const lines = result.stderr.split("\n").filter((line) => line !== "");
      assert.equal(lines.length, 1, result.stderr);
      return lines[0]!;
    };
    assert.equal(await oneLine([a, a]), "wfsim: --follow follows Kafka topics (--kafka-bootstrap) or one growing FILE, got 2 files");
    assert.equal(await oneLine([]), "wfsim: --follow follows Kafka topics (--kafka-bootstrap) or one growing FILE, got stdin");
    assert.equal(await oneLine([a, "--group", "g"]), "wfsim: --group shares Kafka partitions between followers: it does not apply to following a file");
    assert.match(await oneLine([join(dir, "nope.jsonl")]), /^wfsim: input .*nope\.jsonl: cannot read \(/);
  });
});
