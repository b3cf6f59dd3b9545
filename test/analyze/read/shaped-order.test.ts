/**
 * The millisecond order of a shaped stream merged from several topics (analyze/read/shaped/order.ts),
 * with delivery faults in the way: records of one lane keep the order they came in, a record older
 * than the millisecond held (a delayed one, fetched late) does not cut it in two, and the moments the
 * truth says were lost move a transaction on as if they had come.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { parseScenario } from "../../../src/config/scenario/load.ts";
import type { EventType } from "../../../src/events/schema.ts";
import { readPlan, type ReadPlan } from "../../../src/analyze/read/shaped/plan.ts";
import { SameMillisecondOrder, type PlacedRecord, type TimedMoment } from "../../../src/analyze/read/shaped/order.ts";
import type { ParsedRecord } from "../../../src/analyze/read/shaped/rebuild.ts";

const PAYMENTS = new URL("../../../examples/payments-cloudevents.yaml", import.meta.url);

/** payments-cloudevents with its topic template: one topic per workflow, or per record type too. */
async function plan(topic: string): Promise<ReadPlan> {
  const text = (await readFile(PAYMENTS, "utf8")).replace('topic: "payments.{workflow}"', `topic: "${topic}"`);
  return readPlan(parseScenario(text, "payments.yaml"));
}

const T = 1_800_000_000_000;

/** A card payment's record of `name` at `event` of 0-based `step`, as read. */
function record(readPlan: ReadPlan, txnId: string, name: string, event: EventType, step: number, ts: number): PlacedRecord<string> {
  const candidate = readPlan.candidates.find((c) => c.primary && c.record.name === name && c.moment.workflow === 0 && c.moment.event === event && c.moment.step === step);
  assert.ok(candidate !== undefined, `${name} at ${event} ${step}`);
  const parsed: ParsedRecord = { line: "", value: {}, candidate, txnId, ts };
  return { parsed, place: `${txnId} ${event} ${step}` };
}

function order(records: readonly PlacedRecord<string>[], lost?: ReadonlyMap<string, readonly TimedMoment[]>): string[] {
  const stage = new SameMillisecondOrder<string>(lost);
  const out: string[] = [];
  const emit = (r: PlacedRecord<string>) => void out.push(r.place);
  for (const r of records) stage.push(r, emit);
  stage.flush(emit);
  return out;
}

describe("the millisecond order of a shaped stream with delivery faults", () => {
  it("puts a retry's open after its failure from the lost step open the truth names, and keeps one lane's order", async () => {
    // Attempt 1's StepStarted of step 2 (0-based 1) was dropped; its failure and attempt 2's open
    // share a millisecond (come from two topics in the wrong order).
    const perRecord = await plan("payments.{workflow}.{record}");
    const came = (p: ReadPlan) => [
      record(p, "a", "PaymentStarted", "transaction_open", -1, T),
      record(p, "a", "StepStarted", "step_open", 0, T + 10),
      record(p, "a", "StepSucceeded", "step_done", 0, T + 20),
      record(p, "a", "StepStarted", "step_open", 1, T + 50),
      record(p, "a", "StepFailed", "step_failed", 1, T + 50),
    ];
    const lifecycle = ["a transaction_open -1", "a step_open 0", "a step_done 0", "a step_failed 1", "a step_open 1"];
    const lost = new Map([["a", [{ event: "step_open" as const, step: 1, ts: T + 30 }]]]);
    assert.deepEqual(order(came(perRecord), lost), lifecycle);
    // Without the truth the transaction seems to wait for step 2's open: it takes the retry's for it.
    assert.notDeepEqual(order(came(perRecord)), lifecycle);
    // On one topic the records came in the order they were written, and keep it.
    const perWorkflow = await plan("payments.{workflow}");
    const written = came(perWorkflow);
    [written[3], written[4]] = [written[4]!, written[3]!];
    assert.deepEqual(order(written), lifecycle);
  });

  it("hands a record older than the millisecond held on before it, and keeps the millisecond whole", async () => {
    const p = await plan("payments.{workflow}.{record}");
    const came = [
      record(p, "a", "StepStarted", "step_open", 0, T - 100),
      record(p, "a", "StepStarted", "step_open", 1, T),
      // Delayed (a record of another transaction, 5 s late), fetched between the two records of T.
      record(p, "b", "StepSucceeded", "step_done", 2, T - 5000),
      record(p, "a", "StepSucceeded", "step_done", 0, T),
    ];
    assert.deepEqual(order(came), ["a step_open 0", "b step_done 2", "a step_done 0", "a step_open 1"]);
  });

  it("never puts a transaction's end before another of its moments of the same millisecond", async () => {
    // Step 3's open was lost and the truth is not given: the transaction seems to be after step 2.
    const p = await plan("payments.{workflow}.{record}");
    const came = [
      record(p, "a", "StepSucceeded", "step_done", 1, T - 200),
      record(p, "a", "PaymentCompleted", "transaction_close", -1, T),
      record(p, "a", "StepSucceeded", "step_done", 2, T),
    ];
    assert.deepEqual(order(came), ["a step_done 1", "a step_done 2", "a transaction_close -1"]);
  });
});
