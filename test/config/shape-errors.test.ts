import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseScenario } from "../../src/config/scenario/load.ts";
import { isWfsimError } from "../../src/errors.ts";

const W = "workflows:\n  - name: shop\n    steps: [cart, payment]\n";
const OPENED = '    Opened: { at: transaction_open, fields: { id: "{txn_id}" } }\n';

/** Broken output sections and the exact one-line message each gets. */
const BROKEN: [name: string, text: string, message: string][] = [
  [
    "an unknown lifecycle value",
    `${W}output:\n  records:\n    Opened:\n      at: transaction_open\n      fields: { id: "{txn_idd}" }\n`,
    "s.yaml:8:21: output.records.Opened.fields.id: expected a lifecycle value (txn_id, seq, workflow, record, event, time, elapsed_ms, event_seq, step, step_number, attempt, reason, pre_delay_ms, work_ms, planned_wait_ms, from_step, to_step, outlier_injected, backoff_ms, duration_ms, steps_completed, stuck), got {txn_idd} (did you mean \"txn_id\"?)",
  ],
  [
    "an unknown attribute",
    `${W}output:\n  attributes:\n    order_id: { format: "O-{seq}" }\n  records:\n    Opened: { at: transaction_open, fields: { id: "{ordr_id}" } }\n`,
    's.yaml:8:51: output.records.Opened.fields.id: expected a lifecycle value (txn_id, seq, workflow, record, event, time, elapsed_ms, event_seq, step, step_number, attempt, reason, pre_delay_ms, work_ms, planned_wait_ms, from_step, to_step, outlier_injected, backoff_ms, duration_ms, steps_completed, stuck) or an attribute (order_id), got {ordr_id} (did you mean "order_id"?)',
  ],
  [
    "an attribute that depends on itself through another",
    `${W}output:\n  attributes:\n    a: { by: b, cases: { x: 1 }, default: 2 }\n    b: { format: "{a}" }\n  records:\n${OPENED}`,
    "s.yaml:6:8: output.attributes.a: attribute a depends on itself (a → b → a)",
  ],
  [
    "an attribute that depends on itself",
    `${W}output:\n  attributes:\n    a: { format: "x{a}" }\n  records:\n${OPENED}`,
    "s.yaml:6:8: output.attributes.a: attribute a depends on itself",
  ],
  [
    "two fields on one path",
    `${W}output:\n  records:\n    Opened:\n      at: transaction_open\n      fields:\n        order.id: "{txn_id}"\n        order: { id: "{seq}" }\n`,
    "s.yaml:10:9: output.records.Opened.fields.order: expected one field per path, got a second one at order (the first is output.records.Opened.fields.order.id)",
  ],
  [
    "a fake-data method that does not exist",
    `${W}output:\n  attributes:\n    name: { fake: person.fulName }\n  records:\n${OPENED}`,
    's.yaml:6:19: output.attributes.name.fake: expected a @faker-js/faker method (module.method) such as person.fullName or internet.email, got "person.fulName" (did you mean "person.fullName"?)',
  ],
  [
    "a fake-data locale that does not exist",
    `${W}output:\n  attributes:\n    name: { fake: person.fullName, locale: xx }\n  records:\n${OPENED}`,
    's.yaml:6:44: output.attributes.name.locale: expected a @faker-js/faker locale such as en, de, fr, en_US, got "xx"',
  ],
  [
    "a topic template that yields an invalid topic name",
    `${W}output:\n  topic: "orders/{workflow}"\n  records:\n${OPENED}`,
    's.yaml:5:10: output.topic: expected a Kafka topic name (1 to 249 of A-Z a-z 0-9 . _ -), got "orders/shop" from "orders/{workflow}" for workflow shop',
  ],
  [
    "a topic template that yields one of Kafka's internal topics",
    `${W}output:\n  topic: "__{workflow}"\n  records:\n${OPENED}`,
    "s.yaml:5:10: output.topic: __shop is a name Kafka keeps for its internal topics (names starting with __); choose another (workflow shop)",
  ],
  [
    "a topic over a value that is not fixed for the run",
    `${W}output:\n  topic: "orders.{step}"\n  records:\n${OPENED}`,
    "s.yaml:5:10: output.topic: a topic template can use {workflow} and {record}, got {step}",
  ],
  [
    "a key that changes within a transaction",
    `${W}output:\n  key: "{step}"\n  records:\n${OPENED}`,
    "s.yaml:5:8: output.key: a key must stay the same for all of a transaction's records (so that they keep their order): use txn_id, seq, workflow or a per-transaction attribute, got {step}",
  ],
  [
    "an unknown lifecycle moment",
    `${W}output:\n  records:\n    Done: { at: step_doen, fields: { id: "{txn_id}" } }\n`,
    's.yaml:6:17: output.records.Done.at: expected a lifecycle event (transaction_open, step_open, step_done, inter_step_wait, transaction_close, transaction_aborted, step_failed, step_retry, transaction_failed), got "step_doen" (did you mean "step_done"?)',
  ],
  [
    "an unknown step",
    `${W}output:\n  records:\n    Done: { at: { event: step_done, step: paymnet }, fields: { id: "{txn_id}" } }\n`,
    's.yaml:6:43: output.records.Done.at.step: expected a step of the workflows (cart, payment), got "paymnet" (did you mean "payment"?)',
  ],
  [
    "a value never known where the record is produced",
    `${W}output:\n  records:\n    Opened: { at: transaction_open, fields: { why: "{reason}" } }\n`,
    "s.yaml:6:52: output.records.Opened.fields.why: {reason} is not known at transaction_open, where record Opened is produced",
  ],
  [
    "two kinds in one attribute",
    `${W}output:\n  attributes:\n    a: { int: [1, 2], choice: [x] }\n  records:\n${OPENED}`,
    "s.yaml:6:23: output.attributes.a.choice: expected one of dist, int, choice, chance, by, sequence, uuid, format, fake, value per attribute, got int and choice",
  ],
  [
    "a misspelt attribute key",
    `${W}output:\n  attributes:\n    a: { choise: [x] }\n  records:\n${OPENED}`,
    's.yaml:6:10: output.attributes.a.choise: unknown key "choise" (did you mean "choice"?)',
  ],
  [
    "cases that cannot name every value, without a default",
    `${W}output:\n  attributes:\n    a: { int: [1, 3] }\n    b: { by: a, cases: { "1": x } }\n  records:\n${OPENED}`,
    "s.yaml:7:8: output.attributes.b: missing default: the values of a are not a fixed list, so cases cannot name them all",
  ],
  [
    "cases that miss a value of a choice",
    `${W}output:\n  attributes:\n    country: { choice: [DE, US] }\n    currency: { by: country, cases: { DE: EUR } }\n  records:\n${OPENED}`,
    's.yaml:7:37: output.attributes.currency.cases: missing a case for "US" of country (or a default)',
  ],
  [
    "zero padding of text",
    `${W}output:\n  records:\n    Opened: { at: transaction_open, fields: { id: "{txn_id:08}" } }\n`,
    "s.yaml:6:51: output.records.Opened.fields.id: {txn_id:08}: zero padding applies to whole numbers, and this value is a string",
  ],
  [
    "an attribute named like a lifecycle value",
    `${W}output:\n  attributes:\n    step: { int: [1, 2] }\n  records:\n${OPENED}`,
    's.yaml:6:5: output.attributes.step: expected an attribute name other than the lifecycle values\' (txn_id, seq, workflow, record, event, time, elapsed_ms, event_seq, step, step_number, attempt, reason, pre_delay_ms, work_ms, planned_wait_ms, from_step, to_step, outlier_injected, backoff_ms, duration_ms, steps_completed, stuck), got "step"',
  ],
  [
    "a CloudEvents key on plain JSON records",
    `${W}output:\n  records:\n    Opened: { at: transaction_open, type: x.opened, fields: { id: "{txn_id}" } }\n`,
    "s.yaml:6:37: output.records.Opened.type: applies to envelope: cloudevents only, got it with envelope: json",
  ],
];

describe("a scenario's output section with a mistake", () => {
  for (const [name, text, message] of BROKEN) {
    it(name, () => {
      assert.throws(
        () => parseScenario(text, "s.yaml"),
        (error: unknown) => {
          assert.ok(isWfsimError(error) && error.code === "SCENARIO", String(error));
          assert.equal(error.message, message);
          return true;
        },
      );
    });
  }
});
