// Attributes drawn from each transaction's own stream: their distributions, within bounds derived
// from the sample size, and their independence from everything but the seed and the index.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseScenario } from "../../src/config/scenario/load.ts";
import { Shaper } from "../../src/engine/shape/shaper.ts";
import type { AttributeValue } from "../../src/engine/shape/attributes.ts";
import { Z } from "../helpers/stats.ts";

const N = 20_000;
const SCENARIO = `
workflows: [ { name: a, weight: 1, steps: [x] }, { name: b, weight: 1, steps: [x] } ]
output:
  attributes:
    country: { choice: { DE: 40, FR: 25, NL: 20, US: 15 } }
    currency: { by: country, cases: { US: USD }, default: EUR }
    items: { int: [1, 6] }
    amount: { dist: lognormal, median: 45, p99: 400, round: 2 }
    vip: { chance: 0.1 }
    order_id: { format: "ORD-{seq:08}" }
    number: { sequence: { start: 1000, step: 10 } }
    id: { uuid: v4 }
    early: { uuid: v7 }
    channel: { by: workflow, cases: { a: web, b: { choice: [app, store] } } }
    name: { fake: person.lastName }
    customer: { fake: person.fullName, distinct: 50 }
  records:
    Opened: { at: transaction_open, fields: { id: "{txn_id}" } }
`;

/** The attribute values of transactions 0..n-1 by name, drawn as a run draws them at each transaction_open. */
function draw(n: number, seed = 7, text = SCENARIO): Record<string, AttributeValue>[] {
  const shape = parseScenario(text, "s.yaml").output!;
  const shaper = new Shaper(shape, { seed, startTime: 0, timezone: "UTC", inlineLabels: true, blind: false });
  const out: Record<string, AttributeValue>[] = [];
  for (let index = 0; index < n; index++) {
    shaper.current = shaper.startContext(index, `txn_${index}`, index % 2 === 0 ? undefined : shaper.current);
    const workflow = index % 3 === 0 ? "b" : "a";
    shaper.enter({ type: "transaction_open", txn_id: `txn_${index}`, ts_ms: 1_700_000_000_000 + index, meta: { timezone: "UTC", sim_version: "x" }, workflow });
    out.push(Object.fromEntries(shape.attributes.map((a) => [a.name, shaper.current.values[a.index]!])));
  }
  return out;
}

/** |observed share − p| within Z standard errors of a binomial share. */
function assertShare(count: number, n: number, p: number, what: string): void {
  const bound = Z * Math.sqrt((p * (1 - p)) / n);
  assert.ok(Math.abs(count / n - p) <= bound, `${what}: ${count / n} vs ${p} ± ${bound}`);
}

describe("attributes", () => {
  const values = draw(N);

  it("draw weighted choices, ranges, lognormals and chances with the asked-for distributions", () => {
    for (const [country, weight] of [["DE", 0.4], ["FR", 0.25], ["NL", 0.2], ["US", 0.15]] as const) {
      assertShare(values.filter((v) => v.country === country).length, N, weight, country);
    }
    for (let k = 1; k <= 6; k++) assertShare(values.filter((v) => v.items === k).length, N, 1 / 6, `items ${k}`);
    assert.ok(values.every((v) => Number.isInteger(v.items) && (v.items as number) >= 1 && (v.items as number) <= 6));
    // Below the median half the time; below the 99th percentile 99% of the time.
    assertShare(values.filter((v) => (v.amount as number) < 45).length, N, 0.5, "amount below its median");
    assertShare(values.filter((v) => (v.amount as number) < 400).length, N, 0.99, "amount below its p99");
    assert.ok(values.every((v) => /^\d+(\.\d{1,2})?$/.test(String(v.amount))), "written with at most 2 decimals");
    assertShare(values.filter((v) => v.vip === true).length, N, 0.1, "vip");
  });

  it("follow what they depend on: another attribute, the workflow", () => {
    for (const v of values) assert.equal(v.currency, v.country === "US" ? "USD" : "EUR");
    values.forEach((v, index) => {
      if (index % 3 === 0) assert.ok(v.channel === "app" || v.channel === "store");
      else assert.equal(v.channel, "web");
    });
  });

  it("number transactions, format text and make UUIDs", () => {
    values.forEach((v, index) => {
      assert.equal(v.order_id, `ORD-${String(index + 1).padStart(8, "0")}`);
      assert.equal(v.number, 1000 + 10 * index);
      assert.match(v.id as string, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.match(v.early as string, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      // v7: the first 48 bits are the time of the moment it was drawn.
      assert.equal(parseInt((v.early as string).replace("-", "").slice(0, 12), 16), 1_700_000_000_000 + index);
    });
    assert.equal(new Set(values.map((v) => v.id)).size, N, "no two v4 UUIDs alike");
  });

  it("draw fake values from the transaction's stream, or from a fixed set with distinct", () => {
    assert.ok(values.every((v) => typeof v.name === "string" && v.name !== ""));
    assert.ok(new Set(values.map((v) => v.name)).size > 100, "last names vary");
    const customers = new Set(values.map((v) => v.customer));
    assert.ok(customers.size <= 50 && customers.size > 40, `${customers.size} customers`);
  });

  it("depend on the seed and the index only: the same whatever came before, different with another seed", () => {
    const again = draw(200);
    assert.deepEqual(again, values.slice(0, 200));
    const other = draw(200, 8);
    assert.notDeepEqual(other.map((v) => v.id), again.map((v) => v.id));
    // Transaction 150 alone, with nothing drawn before it, has the values it has in a run.
    const shape = parseScenario(SCENARIO, "s.yaml").output!;
    const shaper = new Shaper(shape, { seed: 7, startTime: 0, timezone: "UTC", inlineLabels: true, blind: false });
    shaper.current = shaper.startContext(150, "txn_150", undefined);
    shaper.enter({ type: "transaction_open", txn_id: "txn_150", ts_ms: 1_700_000_000_150, meta: { timezone: "UTC", sim_version: "x" }, workflow: "b" });
    assert.equal(shaper.current.values[shape.attributes.find((a) => a.name === "id")!.index], values[150]!.id);
    assert.equal(shaper.current.values[shape.attributes.find((a) => a.name === "name")!.index], values[150]!.name);
  });
});
