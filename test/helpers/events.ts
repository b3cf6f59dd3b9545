import { Compile } from "typebox/compile";
import { createSimulation, truthCallback } from "../../src/api/simulate.ts";
import { resolveSimOptions, type SimOptionsInput } from "../../src/config/sim-options.ts";
import type { EventSink, RunSummary } from "../../src/engine/simulation.ts";
import { WfEvent } from "../../src/events/schema.ts";
import { TruthRecord } from "../../src/events/truth.ts";

/** Validates events against the JSON Schema that `wfsim schema` prints. */
export const eventValidator = Compile(WfEvent);
/** Validates truth records against the JSON Schema that `wfsim schema --truth` prints. */
export const truthValidator = Compile(TruthRecord);

/** A sink that keeps every event, for tests. */
export class CollectingSink implements EventSink {
  readonly events: WfEvent[] = [];
  readonly backpressured = false;
  write(event: WfEvent): void {
    this.events.push(event);
  }
  flush(): void {}
  drain(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Runs a virtual-clock simulation in process and returns its events and summary; with `truth`, the
 * labels go to `labels` instead of inline, as with --truth FILE (and, unlike --truth, the stream is
 * not blind unless `blind` says so: these tests compare labels, not what a blind stream leaves out).
 */
export async function simulateVirtual(
  input: SimOptionsInput = {},
  { truth = false, blind = false }: { truth?: boolean; blind?: boolean } = {},
): Promise<{ events: WfEvent[]; summary: RunSummary; labels: TruthRecord[] }> {
  const options = resolveSimOptions({ clock: "virtual", startTime: 1_767_225_600_000, ...input });
  const sink = new CollectingSink();
  const labels: TruthRecord[] = [];
  const summary = await createSimulation(options, { sink, blind, ...(truth ? { truth: truthCallback((r) => labels.push(r)) } : {}) }).run();
  return { events: sink.events, summary, labels };
}

/** Groups events by transaction id, keeping their order. */
export function byTransaction(events: readonly WfEvent[]): Map<string, WfEvent[]> {
  const groups = new Map<string, WfEvent[]>();
  for (const event of events) {
    const list = groups.get(event.txn_id);
    if (list === undefined) groups.set(event.txn_id, [event]);
    else list.push(event);
  }
  return groups;
}

/** Compares two JSON Lines texts and, when they differ, names the first line that does. */
export function assertSameLines(actual: string, expected: string): void {
  if (actual === expected) return;
  const a = actual.split("\n");
  const b = expected.split("\n");
  const index = a.findIndex((line, i) => line !== b[i]);
  const at = index < 0 ? b.length : index;
  throw new Error(`outputs differ from line ${at + 1} (of ${a.length} vs ${b.length}):\n  got      ${a[at]?.slice(0, 300)}\n  expected ${b[at]?.slice(0, 300)}`);
}
