import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { collect, firstLines, startCli } from "../helpers/cli.ts";

// Real clock, long enough that the run is in full flight when the signal comes.
const RUN = ["--samples", "1000", "--concurrency", "25", "--pre-min", "50", "--pre-max", "400", "--inter-min", "50", "--inter-max", "300"];

for (const [signal, code] of [
  ["SIGINT", 130],
  ["SIGTERM", 143],
] as const) {
  describe(`${signal}`, () => {
    it(`stops cleanly: transaction_aborted for each in flight, whole lines, exit ${code}`, async () => {
      const child = startCli(RUN);
      const done = collect(child);
      await firstLines(child, 40);
      child.kill(signal);
      const result = await done;
      assert.equal(result.code, code, result.stderr);
      assert.ok(result.stdout.endsWith("\n"), "the output ends with a whole line");
      const events = result.stdout
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line) as { type: string; txn_id: string; reason?: string; steps_completed?: number });
      const open = new Set<string>();
      const stepsDone = new Map<string, number>();
      let firstAbort = events.length;
      events.forEach((event, index) => {
        if (event.type === "transaction_open") open.add(event.txn_id);
        if (event.type === "step_done") stepsDone.set(event.txn_id, (stepsDone.get(event.txn_id) ?? 0) + 1);
        if (event.type === "transaction_close") open.delete(event.txn_id);
        if (event.type === "transaction_aborted") {
          firstAbort = Math.min(firstAbort, index);
          assert.ok(open.delete(event.txn_id), `aborted ${event.txn_id} was in flight`);
          assert.equal(event.reason, signal);
          assert.equal(event.steps_completed, stepsDone.get(event.txn_id) ?? 0);
        }
      });
      assert.equal(open.size, 0, "every transaction in flight was aborted");
      assert.ok(events.slice(firstAbort).every((e) => e.type === "transaction_aborted"), "nothing new after the stop");
      assert.ok(events.length - firstAbort >= 1 && events.length - firstAbort <= 25);
      assert.match(result.stderr, new RegExp(`stopped early by ${signal}\\.\\n$`));
    });
  });
}

describe("SIGINT with delivery faults", () => {
  // Drop alone holds nothing back; a delay or copy of a minute is still held when the signal comes.
  for (const delivery of ["{drop: {prob: 0.1}}", "{drop: {prob: 0.05}, duplicate: {prob: 0.2, after: 60s}, delay: {prob: 0.2, by: 60s}}"]) {
    it(`stops cleanly, the held records sent at once: ${delivery}`, async (t) => {
      const dir = await mkdtemp(join(tmpdir(), "wfsim-signal-faults-"));
      t.after(() => rm(dir, { recursive: true, force: true }));
      const truth = join(dir, "truth.jsonl");
      const child = startCli([...RUN, "--delivery", delivery, "--truth", truth]);
      const done = collect(child);
      await firstLines(child, 40);
      child.kill("SIGINT");
      const result = await done;
      assert.equal(result.code, 130, result.stderr);
      assert.ok(result.stdout.endsWith("\n"), "the output ends with a whole line");
      const lines = result.stdout.split("\n").filter((line) => line !== "");
      assert.ok(lines.some((line) => line.includes('"transaction_aborted"')), "transactions in flight were aborted");
      assert.match(result.stderr, /stopped early by SIGINT\.\n$/);
      const faults = (await readFile(truth, "utf8")).split("\n").filter((line) => line !== "").map((line) => JSON.parse(line) as { kind: string; due_ms: number; emitted_ms?: number });
      assert.ok(faults.some((fault) => fault.kind === "drop"));
      const held = faults.filter((fault) => fault.kind === "delay" || fault.kind === "duplicate");
      if (delivery.includes("delay")) assert.ok(held.length > 0, "records were held back");
      // Every held record left, at the stop at the latest: none is a minute late.
      for (const fault of held) assert.ok(fault.emitted_ms !== undefined && fault.emitted_ms >= fault.due_ms && fault.emitted_ms < fault.due_ms + 60_000, JSON.stringify(fault));
    });
  }
});

describe("a second SIGINT", () => {
  it("ends the process at once even while the output is stuck", async () => {
    const child = startCli(["--samples", "100000000", "--clock", "virtual", "--quiet"]);
    const done = collect(child, { timeoutMs: 30_000 });
    await once(child.stdout, "data");
    child.stdout.pause(); // the reader stops reading: the first SIGINT cannot flush
    await new Promise((resolve) => setTimeout(resolve, 300));
    child.kill("SIGINT");
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(child.exitCode, null, "still flushing after the first signal");
    child.kill("SIGINT");
    const exited = await Promise.race([
      once(child, "exit").then(() => true),
      new Promise((resolve) => setTimeout(() => resolve(false), 5000)),
    ]);
    assert.equal(exited, true, "exited after the second signal");
    child.stdout.resume();
    const result = await done;
    assert.equal(result.code, 130);
  });
});
