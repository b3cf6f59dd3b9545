import { Compile } from "typebox/compile";
import { createSimulation } from "../../src/api/simulate.ts";
import { resolveSimOptions, type SimOptionsInput } from "../../src/config/sim-options.ts";
import type { EventSink, RunSummary } from "../../src/engine/simulation.ts";
import { WfEvent } from "../../src/events/schema.ts";

/** Validates events against the JSON Schema that `wfsim schema` prints. */
export const eventValidator = Compile(WfEvent);

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

/** Runs a virtual-clock simulation in process and returns its events and summary. */
export async function simulateVirtual(input: SimOptionsInput = {}): Promise<{ events: WfEvent[]; summary: RunSummary }> {
  const options = resolveSimOptions({ clock: "virtual", startTime: 1_767_225_600_000, ...input });
  const sink = new CollectingSink();
  const summary = await createSimulation(options, { sink }).run();
  return { events: sink.events, summary };
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
