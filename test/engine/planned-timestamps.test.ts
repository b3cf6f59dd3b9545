/**
 * `--timestamps planned`: on the real clock each event is stamped with the time it was due, so every
 * transaction lives exactly the life the virtual clock gives it, however late the engine wakes. Checked
 * on a clock moved in coarse jumps (every wake late by up to the jump, deterministically) and on the
 * real clock beside a process that keeps a core busy.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, it } from "node:test";
import { createSimulation } from "../../src/api/simulate.ts";
import { resolveSimOptions, type SimOptionsInput } from "../../src/config/sim-options.ts";
import { ManualClock } from "../../src/engine/clock.ts";
import type { WfEvent } from "../../src/events/schema.ts";
import { parseLines, runCli } from "../helpers/cli.ts";
import { byTransaction, CollectingSink, simulateVirtual } from "../helpers/events.ts";

const START = 1_767_225_600_000;

/** Each transaction's events as text, sorted by transaction: what must not depend on the clock. */
function lives(events: readonly WfEvent[]): string[] {
  return [...byTransaction(events).values()].map((list) => list.map((event) => JSON.stringify(event)).join("\n")).sort();
}

/** Runs on a clock that only moves in jumps of `jumpMs`: every wake is late by up to a jump. */
async function runJumping(input: SimOptionsInput, jumpMs: number): Promise<{ events: WfEvent[]; lateMaxMs: number }> {
  const clock = new ManualClock(START);
  const sink = new CollectingSink();
  const options = resolveSimOptions({ startTime: START, ...input });
  const running = createSimulation(options, { sink, clock }).run();
  let finished = false;
  void running.finally(() => (finished = true));
  while (!finished) {
    for (let i = 0; i < 50 && clock.pendingWaits === 0 && !finished; i++) await new Promise((resolve) => setImmediate(resolve));
    if (!finished) clock.advanceTo(clock.now() + jumpMs);
  }
  const summary = await running;
  return { events: sink.events, lateMaxMs: summary.lateness?.maxMs ?? 0 };
}

describe("--timestamps planned", () => {
  const workload = { samples: 300, concurrency: 40, outlierProb: 0.05, seed: 5 } as const;

  it("gives every transaction its virtual-clock life on a clock that wakes the engine up to 2.5 s late", async () => {
    const virtual = await simulateVirtual(workload);
    const planned = await runJumping({ ...workload, timestamps: "planned" }, 2_500);
    assert.ok(planned.lateMaxMs > 1_000, `the engine was woken late (max ${planned.lateMaxMs} ms)`);
    assert.deepEqual(lives(planned.events), lives(virtual.events));
  });

  it("stamps actual times by default: the lateness then lengthens the gaps", async () => {
    const virtual = await simulateVirtual(workload);
    const actual = await runJumping(workload, 2_500);
    const spans = (events: readonly WfEvent[]) => [...byTransaction(events).values()].map((list) => list.at(-1)!.ts_ms - list[0]!.ts_ms);
    const longer = spans(actual.events).reduce((sum, span) => sum + span, 0) - spans(virtual.events).reduce((sum, span) => sum + span, 0);
    assert.ok(longer > 300 * 1_000, `lateness adds to the durations (by ${longer} ms in all)`);
  });

  it("on the real clock beside a busy process, every transaction's events equal the virtual clock's", { timeout: 120_000 }, async () => {
    // A sibling that keeps a core busy for as long as the run lasts: the engine's wakes come late.
    const busy = spawn(process.execPath, ["-e", "const end = Date.now() + 60000; while (Date.now() < end) {}"], { stdio: "ignore" });
    try {
      const args = ["--samples", "400", "--concurrency", "100", "--outlier-prob", "0.05", "--seed", "9", "--start-time", String(START), "--quiet"];
      const [real, virtual] = await Promise.all([
        runCli(["run", ...args, "--speed", "40", "--timestamps", "planned"], { timeoutMs: 100_000 }),
        runCli(["run", ...args, "--clock", "virtual"]),
      ]);
      assert.equal(real.code, 0, real.stderr);
      assert.deepEqual(lives(parseLines(real.stdout) as WfEvent[]), lives(parseLines(virtual.stdout) as WfEvent[]));
    } finally {
      busy.kill("SIGKILL");
    }
  });

  it("is refused with another value, naming the values", async () => {
    const result = await runCli(["run", "--timestamps", "drawn"]);
    assert.equal(result.code, 2);
    assert.equal(result.stderr, "wfsim: --timestamps must be one of actual, planned, got drawn\n");
  });
});
