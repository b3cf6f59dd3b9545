/**
 * The topics a scenario's shaped records go to, as a list for the topic reader: every name its topic
 * templates give over its workflows and record types. A template may use only {workflow} and
 * {record} (the scenario's compiler refuses anything else, in one line), so the list is always
 * known before anything is read.
 */
import type { Scenario } from "../../../config/scenario/model.ts";
import type { TopicList } from "../../../kafka/read/topics-reader.ts";

export function shapedTopics(scenario: Scenario): TopicList {
  const shape = scenario.output;
  if (shape === undefined) throw new Error(`shapedTopics: ${scenario.source} has no output section`);
  const from = `the output section of ${scenario.source}`;
  return {
    topics: shape.topics.map((name) => ({ name, role: name, from })),
    // A transaction's records are on partition p of every topic only when every record type has the same key.
    sharedKey: shape.records.every((record) => record.key.text === shape.records[0]!.key.text),
  };
}
