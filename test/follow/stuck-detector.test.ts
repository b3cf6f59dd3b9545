/** Stuck-transaction alerts: once each, on exactly the transactions open longer than stuck_ms. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { StuckDetector, type RecordPlace } from "../../src/follow/stuck-detector.ts";
import { StreamAnalysis } from "../../src/analyze/stream-analysis.ts";
import { IN_STREAM_TRUTH } from "../../src/analyze/score/truth.ts";
import { compact, ev, transaction } from "../analyze/helpers.ts";

/** An analysis whose transactions the detector follows, all in slot `slot`. */
function setup(stuckMs: number, slot = 0) {
  let place: RecordPlace = { slot, from: [0, 0] };
  const detector = new StuckDetector(stuckMs, "event", () => place);
  const analysis = new StreamAnalysis({ measure: "gap", madK: 3.5, listLimit: 20, truth: IN_STREAM_TRUTH, charts: false, observer: detector });
  analysis.beginSource("test");
  const feed = (...events: Record<string, unknown>[]) => analysis.push(Buffer.from(compact(events)));
  return { detector, analysis, feed, setPlace: (next: RecordPlace) => (place = next) };
}

describe("stuck detector", () => {
  it("alerts once on a transaction open longer than stuck_ms, measured from its first event", () => {
    const { detector, feed } = setup(1000);
    feed(ev.open("a", 0), ev.stepOpen("a", 1, 200, 200), ev.open("b", 500));
    assert.deepEqual(detector.check(0, 1000), [], "open exactly 1000 ms is not longer than 1000 ms");
    const [alert, ...rest] = detector.check(0, 1001);
    assert.deepEqual(rest, []);
    assert.deepEqual(alert, {
      type: "stuck_transaction_alert",
      txn_id: "a",
      ts_ms: 1001,
      open_since_ms: 0,
      open_for_ms: 1001,
      stuck_ms: 1000,
      clock: "event",
      partition: 0,
      last_event: "step_open 1",
      last_event_ts_ms: 200,
    });
    assert.deepEqual(detector.check(0, 5000).map((a) => a.txn_id), ["b"], "a is not alerted twice");
    assert.deepEqual(detector.check(0, 9000), []);
    assert.equal(detector.alerts, 2);
  });

  it("does not alert on transactions that ended in time", () => {
    const { detector, feed } = setup(1000);
    feed(...transaction("a", 0, [400, 500], [99]), ev.open("b", 100), ev.aborted("b", 600, 500, 0));
    assert.deepEqual(detector.check(0, 100_000), []);
    assert.equal(detector.openIn(0), 0);
  });

  it("says when a check has something to do", () => {
    const { detector, feed } = setup(1000);
    assert.equal(detector.due(0, 1e9), false);
    feed(ev.open("a", 10));
    assert.equal(detector.due(0, 1010), false);
    assert.equal(detector.due(0, 1011), true);
  });

  it("keeps slots apart, and forgets a slot handed over", () => {
    const { detector, feed, setPlace } = setup(100);
    feed(ev.open("a", 0));
    setPlace({ slot: 1, from: [7, 9] });
    feed(ev.open("b", 0));
    assert.ok(detector.follows("a", 0) && detector.follows("b", 1));
    detector.drop(0);
    assert.deepEqual(detector.check(0, 1000), []);
    assert.deepEqual(detector.check(1, 1000).map((a) => a.txn_id), ["b"]);
  });

  it("marks as alerted, silently, what a previous owner alerted on", () => {
    const { detector, feed } = setup(1000);
    feed(ev.open("old", 0), ev.open("young", 4000));
    assert.deepEqual(detector.check(0, 4500, true), []);
    assert.deepEqual(detector.check(0, 6000).map((a) => a.txn_id), ["young"]);
  });

  it("knows from where the open transactions of a slot can be read again", () => {
    const { detector, feed, setPlace } = setup(1000);
    setPlace({ slot: 0, from: [5, 40] });
    feed(ev.open("a", 0));
    setPlace({ slot: 0, from: [8, 30] });
    feed(ev.open("b", 0));
    assert.deepEqual(detector.replayFrom(0, [100, 100]), [5, 30]);
    feed(ev.stepOpen("a", 1, 5, 5), ev.stepDone("a", 1, 5), ev.close("a", 10, 10, 1));
    assert.deepEqual(detector.replayFrom(0, [100, 100]), [8, 30]);
    feed(ev.stepOpen("b", 1, 5, 5), ev.stepDone("b", 1, 5), ev.close("b", 10, 10, 1));
    assert.deepEqual(detector.replayFrom(0, [100, 90]), [100, 90], "nothing open: where reading stands");
  });
});
