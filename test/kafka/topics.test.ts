// ensureTopics against a stand-in Admin (no broker): a topic a broker does not list yet right after
// its creation (its metadata lags behind the controller's, a race seen under load) is asked for again
// until the deadline, not reported as unknown; other failures, and the deadline, end it at once.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MultipleErrors, UserError, type Admin } from "@platformatic/kafka";
import { ensureTopics } from "../../src/kafka/topics.ts";

/** An Admin that creates the topics, then answers `failures` metadata calls with `failure`. */
function admin(failures: number, failure: (topic: string) => Error = (topic) => new MultipleErrors("metadata failed 1 times.", [new UserError(`Unknown topic ${topic}.`)])) {
  const calls = { metadata: 0, created: [] as string[] };
  const fake = {
    listTopics: async () => [],
    createTopics: async ({ topics }: { topics: string[] }) => {
      calls.created.push(...topics);
      return topics.map((name) => ({ name, partitions: 3, replicas: 1 }));
    },
    metadata: async ({ topics }: { topics: string[] }) => {
      calls.metadata++;
      if (calls.metadata <= failures) throw failure(topics[1]!);
      const partition = { leader: 1, replicas: [1] };
      return { topics: new Map(topics.map((name) => [name, { partitionsCount: 3, partitions: [partition, partition, partition] }])) };
    },
  };
  return { admin: fake as unknown as Admin, calls };
}

const SPEC = { partitions: 3, replicationFactor: 1 };
const NAMES = ["wf-transactions-1", "wf-steps-1"];

describe("ensureTopics", () => {
  it("asks again for a topic it just created that the broker does not know yet", async () => {
    const { admin: fake, calls } = admin(2);
    const topics = await ensureTopics(fake, NAMES, SPEC, performance.now() + 60_000);
    assert.deepEqual(calls.created, NAMES);
    assert.equal(calls.metadata, 3);
    assert.deepEqual(
      topics.map((t) => [t.name, t.partitions, t.replicationFactor, t.created]),
      NAMES.map((name) => [name, 3, 1, true]),
    );
  });

  it("gives up at the deadline with the broker's answer", async () => {
    const { admin: fake, calls } = admin(Infinity);
    await assert.rejects(ensureTopics(fake, NAMES, SPEC, performance.now()), /Unknown topic wf-steps-1/);
    assert.equal(calls.metadata, 1);
  });

  it("does not retry other failures", async () => {
    const { admin: fake, calls } = admin(1, () => new UserError("Cannot find broker 3."));
    await assert.rejects(ensureTopics(fake, NAMES, SPEC, performance.now() + 60_000), /Cannot find broker 3/);
    assert.equal(calls.metadata, 1);
  });
});
