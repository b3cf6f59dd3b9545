/** The warnings a run gets before it starts, from its topics' retention and timestamp limits. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { timestampWarnings, type TopicLimits } from "../../src/kafka/topic-limits.ts";

const NOW = Date.parse("2026-12-04T12:00:00Z");
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const open: TopicLimits = { name: "t", retentionMs: Infinity, beforeMaxMs: Infinity, afterMaxMs: Infinity };
const kafkaDefaults: TopicLimits = { name: "t", retentionMs: 7 * DAY, beforeMaxMs: Infinity, afterMaxMs: HOUR };
const plan = (startMs: number, clock: "real" | "virtual", durationMs?: number, speed = 1) => ({ startMs, clock, speed, durationMs });

describe("timestamp warnings", () => {
  it("say nothing for topics without limits, or a run inside them", () => {
    assert.deepEqual(timestampWarnings([open], plan(NOW - 300 * DAY, "virtual", 300 * DAY), NOW), []);
    assert.deepEqual(timestampWarnings([kafkaDefaults], plan(NOW, "real"), NOW), []);
    assert.deepEqual(timestampWarnings([kafkaDefaults], plan(NOW - 6 * DAY, "virtual", 6 * DAY), NOW), []);
  });

  it("warn of a start older than retention.ms, with a retention that would keep it", () => {
    const [warning, ...rest] = timestampWarnings([kafkaDefaults], plan(NOW - 9.5 * DAY, "virtual", HOUR), NOW);
    assert.equal(rest.length, 0);
    assert.equal(
      warning,
      "topic t keeps records for 7d (retention.ms); the run starts at 2026-11-25T00:00:00.000Z, 9.5d ago, so the broker will delete its events " +
        "at its next retention check: raise it (wfsim topics create --retention 11d) or start later (--start-time)",
    );
  });

  it("warn of events further ahead than message.timestamp.after.max.ms: a virtual run's span, a fast real run, a future start", () => {
    const [virtual] = timestampWarnings([kafkaDefaults], plan(NOW, "virtual", 3 * HOUR), NOW);
    assert.match(virtual!, /^topic t refuses records stamped more than 1h ahead of the broker's clock \(message\.timestamp\.after\.max\.ms\); the run's events from 2026-12-04T13:00:00\.000Z on are further ahead \(they reach 2026-12-04T15:00:00\.000Z\), and Kafka will refuse them \(INVALID_TIMESTAMP\): raise it \(wfsim topics create --timestamp-after-max unlimited\)/);
    const [fast] = timestampWarnings([kafkaDefaults], plan(NOW, "real", undefined, 10), NOW);
    assert.match(fast!, /the run's events get further ahead after about 6\.7m of running at --speed 10,/);
    const [future] = timestampWarnings([kafkaDefaults], plan(NOW + 2 * HOUR, "real"), NOW);
    assert.match(future!, /the run starts at 2026-12-04T14:00:00\.000Z, 2\.0h ahead, and Kafka will refuse them/);
    // Without a duration, a virtual run's span is not known: no guess.
    assert.deepEqual(timestampWarnings([kafkaDefaults], plan(NOW, "virtual"), NOW), []);
  });

  it("warn of a start further back than message.timestamp.before.max.ms, one line per topic", () => {
    const strict = { ...kafkaDefaults, beforeMaxMs: DAY };
    const warnings = timestampWarnings([strict, { ...strict, name: "u" }], plan(NOW - 2 * DAY, "virtual", HOUR), NOW);
    assert.equal(warnings.length, 2);
    assert.match(warnings[1]!, /^topic u refuses records stamped more than 1d behind the broker's clock \(message\.timestamp\.before\.max\.ms\); the run starts at .*, 2\.0d ago, and Kafka will refuse its events/);
  });
});
