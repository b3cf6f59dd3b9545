import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { concurrencyShare, instanceKind, samplesShare } from "../../src/config/instance.ts";
import { resolveSimOptions } from "../../src/config/sim-options.ts";
import type { WfEvent } from "../../src/events/schema.ts";
import { byTransaction, simulateVirtual } from "../helpers/events.ts";

/** A transaction as everything but time decides it: its id and each event without its times. */
function withoutTimes(events: readonly WfEvent[]): Map<string, string> {
  const result = new Map<string, string>();
  for (const [id, list] of byTransaction(events)) {
    result.set(
      id,
      list.map((event) => JSON.stringify({ ...event, ts_ms: undefined, duration_ms: undefined })).join("\n"),
    );
  }
  return result;
}

describe("--instance I/N", () => {
  it("parses I/N with 0 <= I < N, from text or as an object", () => {
    assert.deepEqual(instanceKind.parse("0/1"), { index: 0, count: 1 });
    assert.deepEqual(instanceKind.parse(" 2 / 3 "), { index: 2, count: 3 });
    assert.deepEqual(instanceKind.parse({ index: 1, count: 4 }), { index: 1, count: 4 });
    for (const bad of ["3/3", "1/0", "-1/2", "1", "a/b", "1/2/3", "", { index: 2, count: 2 }, 5]) {
      assert.equal(instanceKind.parse(bad), undefined, JSON.stringify(bad));
    }
  });

  it("splits samples and concurrency so that the shares add up", () => {
    for (const count of [1, 2, 3, 7]) {
      for (const samples of [1, 5, 100, 101]) {
        const shares = Array.from({ length: count }, (_, index) => samplesShare(samples, { index, count }));
        assert.equal(shares.reduce((a, b) => a + b, 0), samples, `${samples} over ${count}`);
      }
      for (const concurrency of [20, 21, 100]) {
        const shares = Array.from({ length: count }, (_, index) => concurrencyShare(concurrency, { index, count }));
        assert.equal(shares.reduce((a, b) => a + b, 0), concurrency);
        assert.ok(Math.max(...shares) - Math.min(...shares) <= 1);
      }
    }
    // More instances than concurrency: each still runs one at a time.
    assert.equal(concurrencyShare(2, { index: 4, count: 5 }), 1);
  });

  it("together run exactly the transactions of one process with the same seed, each the same", async () => {
    const workload = { samples: 203, concurrency: 10, outlierProb: 0.2, seed: 1234 };
    const whole = withoutTimes((await simulateVirtual(workload)).events);
    assert.equal(whole.size, 203);
    for (const count of [2, 3, 5]) {
      const union = new Map<string, string>();
      let opened = 0;
      for (let index = 0; index < count; index++) {
        const { events, summary } = await simulateVirtual({ ...workload, instance: `${index}/${count}` });
        assert.equal(summary.opened, samplesShare(203, { index, count }));
        opened += summary.opened;
        for (const [id, transaction] of withoutTimes(events)) {
          assert.ok(!union.has(id), `transaction ${id} in two instances of ${count}`);
          union.set(id, transaction);
        }
      }
      assert.equal(opened, 203);
      assert.deepEqual(union, whole, `${count} instances`);
    }
  });

  it("runs the transactions whose index is I mod N: instance 1/4 opens the whole run's 2nd, 6th, 10th ...", async () => {
    const { events: all } = await simulateVirtual({ samples: 12, concurrency: 1 });
    const { events: mine } = await simulateVirtual({ samples: 12, concurrency: 1, instance: "1/4" });
    const opens = (events: readonly WfEvent[]) => events.filter((e) => e.type === "transaction_open").map((e) => e.txn_id);
    const order = opens(all);
    assert.deepEqual(opens(mine), [order[1], order[5], order[9]]);
  });

  it("refuses --seed random: the instances would not share a seed", () => {
    assert.throws(() => resolveSimOptions({ instance: "0/2", seed: "random" }), /seed random cannot be combined with instance/);
    assert.doesNotThrow(() => resolveSimOptions({ instance: "0/1", seed: "random" }));
  });
});
