/**
 * The live page's snapshot: events per second are measured between two snapshots, and the first one
 * after a run (or a follower) starts is measured from that start, not shown as 0.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LatenessRecorder } from "../../src/engine/lateness.ts";
import type { FollowSummary } from "../../src/follow/follow.ts";
import { FollowView, LiveView } from "../../src/live/live-view.ts";
import type { RunProbe } from "../../src/live/run-metrics.ts";

function runWith(events: () => number): RunProbe {
  const lateness = new LatenessRecorder();
  return {
    progress: () => ({ opened: 0, closed: 0, aborted: 0, failed: 0, stuck: 0, inFlight: 0, events: events(), dropped: 0 }),
    // The page reads no counts by type or label here: empty ones are enough.
    tallies: () => ({ eventsByType: {} as never, labels: {} as never, lateness }),
  };
}

describe("LiveView", () => {
  it("measures the first snapshot's rate from the run's start, later ones from the snapshot before", () => {
    let now = 10_000;
    let events = 0;
    let run: RunProbe | undefined;
    const view = new LiveView({ run: () => run, scores: () => undefined, now: () => now });
    assert.equal(view.snapshot().run, null);
    run = runWith(() => events);
    view.runStarted();
    now += 500;
    events = 2_000;
    assert.equal(view.snapshot().run?.eventsPerSecond, 4_000);
    now += 1_000;
    events = 3_000;
    assert.equal(view.snapshot().run?.eventsPerSecond, 1_000);
  });
});

describe("FollowView", () => {
  it("measures the first snapshot's rate from the follower's start", () => {
    let now = 0;
    let events = 100;
    const view = new FollowView(() => now);
    const summary = (): FollowSummary => ({ events, eventsPerSecond: 0, open: 0, alerts: 0, lag: null, eventTime: null, partitions: [], partitionCount: 0, group: undefined });
    assert.equal(view.snapshot().follow, null);
    view.attach(summary);
    now = 2_000;
    events = 1_100;
    assert.equal(view.snapshot().follow?.eventsPerSecond, 500);
  });
});
