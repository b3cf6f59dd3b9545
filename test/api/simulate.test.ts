import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isTransactionEvent, loadScenario, ManualClock, simulate, WfsimError, type TruthRecord, type WfEvent } from "../../src/index.ts";
import { serializeEvent } from "../../src/events/serialize.ts";
import { runCli } from "../helpers/cli.ts";

async function take(iterable: AsyncIterable<WfEvent>, count = Infinity): Promise<WfEvent[]> {
  const events: WfEvent[] = [];
  for await (const event of iterable) {
    events.push(event);
    if (events.length >= count) break;
  }
  return events;
}

describe("simulate() from the library", () => {
  it("yields the same events as the CLI for the same options", async () => {
    const events = await take(simulate({ samples: 300, clock: "virtual", startTime: 1_767_225_600_000, outlierProb: 0.2 }));
    const cli = await runCli(["--samples", "300", "--clock", "virtual", "--start-time", "1767225600000", "--outlier-prob", "0.2"]);
    assert.equal(events.map(serializeEvent).join(""), cli.stdout);
  });

  it("accepts option values as text, as the command line passes them", async () => {
    const typed = await take(simulate({ samples: 5, clock: "virtual", startTime: 0, preMax: 300 }));
    const text = await take(simulate({ samples: "5", clock: "virtual", startTime: "0", preMax: "300" }));
    assert.deepEqual(text, typed);
  });

  it("throws a WfsimError naming the option for a bad value, before anything runs", () => {
    assert.throws(
      () => simulate({ outlierProb: 1.5 }),
      (error: unknown) => error instanceof WfsimError && error.code === "INVALID_OPTION" && error.message === "outlierProb must be a number from 0 to 1, got 1.5",
    );
    assert.throws(() => simulate({ preMin: 10, preMax: 5 }), /preMin must not exceed preMax, got 10 > 5/);
    // What TypeScript would refuse, from JavaScript: a misspelt option is not silently ignored.
    assert.throws(() => simulate({ outlierPorb: 0.5 } as never), /^WfsimError: unknown option "outlierPorb" \(did you mean "outlierProb"\?\); options: samples, /);
  });

  it("stops the simulation when the loop is left early", async () => {
    // Ten million transactions would take minutes; breaking out must end it at once.
    const started = performance.now();
    const events = await take(simulate({ samples: 10_000_000, clock: "virtual" }), 50);
    assert.equal(events.length, 50);
    assert.ok(performance.now() - started < 5000);
  });

  it("ends with transaction_aborted for every transaction in flight when its signal aborts", async () => {
    const controller = new AbortController();
    const clock = new ManualClock(0);
    const events: WfEvent[] = [];
    for await (const event of simulate({ samples: 10, concurrency: 4, signal: controller.signal, clockOverride: clock })) {
      events.push(event);
      if (events.length === 4) controller.abort("stop now");
    }
    assert.deepEqual(events.slice(0, 4).map((e) => e.type), Array(4).fill("transaction_open"));
    const aborted = events.slice(4);
    assert.equal(aborted.length, 4);
    for (const event of aborted) {
      assert.ok(event.type === "transaction_aborted");
      assert.equal(event.reason, "stop now");
      assert.equal(event.steps_completed, 0);
    }
  });

  it("runs a scenario and hands its labels to onTruth, leaving them out of the events, as the CLI with --truth", async () => {
    const path = new URL("../../examples/checkout.yaml", import.meta.url).pathname;
    const scenario = await loadScenario(path);
    const truth: TruthRecord[] = [];
    const events = await take(simulate({ scenario, samples: 2000, clock: "virtual", startTime: 0, onTruth: (r) => truth.push(r) }));
    const cli = await runCli(["--scenario", path, "--samples", "2000", "--clock", "virtual", "--start-time", "0", "--truth", "/dev/null"]);
    assert.equal(events.map(serializeEvent).join(""), cli.stdout);
    assert.ok(truth.length > 0);
    assert.ok(events.every((e) => !("outlier_injected" in e) && !("stuck" in e)));
    assert.ok(events.some((e) => isTransactionEvent(e) && e.type === "transaction_failed"));
  });
});
