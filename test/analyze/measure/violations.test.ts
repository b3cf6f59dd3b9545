/** Every kind of stream fault, counted and shown with the line it was found on. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { analyzeText, compact, ev, transaction } from "../helpers.ts";

describe("analyze: stream checks", () => {
  it("counts and locates each kind of violation", async () => {
    const stream = [
      // 1-6  o1: its first wait arrives after the step it precedes (reordered).
      ev.open("o1", 0),
      ev.stepOpen("o1", 1, 10, 10),
      ev.stepDone("o1", 1, 10),
      ev.stepOpen("o1", 2, 40, 10),
      ev.wait("o1", 1, 41, 20),
      ev.stepDone("o1", 2, 42),
      // 7-8  o2: time goes backwards.
      ev.open("o2", 100),
      ev.stepOpen("o2", 1, 90, 5),
      // 9-14 m: step_open 2 never arrives.
      ev.open("m", 200),
      ev.stepOpen("m", 1, 210, 10),
      ev.stepDone("m", 1, 210),
      ev.wait("m", 1, 210, 5),
      ev.stepDone("m", 2, 230),
      ev.close("m", 230, 30, 2),
      // 15-19 d: step_done 1 twice, then the close twice.
      ev.open("d", 300),
      ev.stepOpen("d", 1, 310, 10),
      ev.stepDone("d", 1, 310),
      ev.stepDone("d", 1, 310),
      ev.close("d", 310, 10, 1),
      // 20-22 c: no transaction_open.
      ev.stepOpen("c", 1, 400, 1),
      ev.stepDone("c", 1, 400),
      ev.close("c", 400, 1, 1),
      // 23 d's close again; 24 o1 ends; 25 a straggler for m after its end.
      ev.close("d", 310, 10, 1),
      ev.close("o1", 42, 42, 2),
      ev.stepOpen("m", 2, 229, 14),
      // 26-27 n: never closed.
      ev.open("n", 500),
      ev.stepOpen("n", 1, 501, 1),
      // 28-31 g: ends after 2 steps with only step 1 seen; nothing comes later.
      ev.open("g", 600),
      ev.stepOpen("g", 1, 601, 1),
      ev.stepDone("g", 1, 601),
      ev.close("g", 700, 100, 2),
    ];
    const report = await analyzeText(compact(stream));
    const v = report.violations;
    const located = (kind: keyof typeof v) => v[kind].examples.map((e) => [e.line, e.txn_id, e.detail]);

    assert.equal(v.out_of_order.count, 3);
    assert.deepEqual(located("out_of_order"), [
      [5, "o1", "inter_step_wait 1→2 after step_open 2"],
      [8, "o2", "step_open 1 at ts_ms 90, before the previous event's 100"],
      [25, "m", "step_open 2 after the transaction ended"],
    ]);
    // m's step_open 2, missing when m ended (line 14), came late (line 25): one late event is one
    // finding, out of order, and m's missing_steps finding is taken back. g's steps never come.
    assert.equal(v.missing_steps.count, 1);
    assert.deepEqual(located("missing_steps"), [[31, "g", "ended after 2 steps without inter_step_wait 1→2, step_open 2, step_done 2"]]);
    assert.equal(v.duplicates.count, 2);
    assert.deepEqual(located("duplicates"), [
      [18, "d", "step_done 1 again"],
      [23, "d", "transaction_close again, after the transaction ended"],
    ]);
    assert.equal(v.close_without_open.count, 1);
    assert.deepEqual(located("close_without_open"), [[22, "c", "transaction_close without transaction_open"]]);
    assert.equal(v.never_closed.count, 2);
    assert.deepEqual(v.never_closed.examples.map((e) => [e.line, e.txn_id]), [
      [7, "o2"],
      [26, "n"],
    ]);
    // Duplicates are not counted twice in the figures: d has one step and one close.
    assert.equal(report.transactions.completed, 5);
    assert.equal(report.duration_ms.count, 5);
    assert.equal(report.events, 31);
  });

  it("reports a clean stream as clean", async () => {
    const report = await analyzeText(compact([...transaction("a", 0, [1, 2, 3], [4, 5]), ...transaction("b", 100, [1], [])]));
    for (const [kind, value] of Object.entries(report.violations)) assert.equal(value.count, 0, kind);
  });

  it("keeps only the first few examples but counts them all", async () => {
    const stream = Array.from({ length: 50 }, (_, i) => ev.close(`orphan${i}`, i, 0, 1));
    const report = await analyzeText(compact(stream));
    assert.equal(report.violations.close_without_open.count, 50);
    assert.equal(report.violations.close_without_open.examples.length, 10);
    assert.equal(report.violations.missing_steps.count, 50);
  });
});
