// An independent reader of shaped records in the wire format, for the tests: the schema's text only,
// decoded with avsc and protobufjs directly (not wfsim's decoder), as another team's consumer would.
import assert from "node:assert/strict";
import avro from "avsc";
import protobuf from "protobufjs";
import type { RegistryFormat } from "../../src/events/wire/formats.ts";
import { topLevelMessages } from "../../src/events/wire/proto-messages.ts";

/** A shape with every kind of field: optional ones, nested objects, a list, a padded number, two topics. */
export const SHAPE = `
start_time: 2026-03-08T05:29:50Z
workflows:
  - name: pay
    steps:
      - { name: authorize, work: 40ms, failure: { prob: 0.2, reasons: [declined], retries: 1, backoff: 300ms } }
      - capture
output:
  attributes:
    amount: { dist: normal, mean: 10, sd: 30, round: 3 }
    tier: { choice: [1, 2, 3] }
    vip: { chance: 0.5 }
  topic: "TOPIC.{record}"
  fields:
    id: "{txn_id}"
    at: "{time}"
  records:
    Opened:
      at: transaction_open
      fields: { money: { amount: "{amount}", tier: "{tier}", vip: "{vip}" }, times: ["{time:s}", "{elapsed_ms}"], seq: "{seq:06}", flag: true }
    Step:
      at: [step_open, step_done, step_failed, step_retry]
      topic: TOPIC.steps
      fields: { step: "{step}", how: { attempt: "{attempt}", reason: "{reason}" } }
    Closed:
      at: [transaction_close, transaction_failed]
      topic: TOPIC.steps
      fields: { duration: "{duration_ms}", text: "{record}/{event}" }
`;

/** avsc's decoded record as the JSON the writer had: an absent optional field is null in Avro. */
function plain(value: unknown, inArray = false): unknown {
  if (Array.isArray(value)) return value.map((v) => plain(v, true));
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) if (inner !== null || inArray) out[key] = plain(inner);
  return out;
}

const avroTypes = new Map<string, avro.Type>();
const protoFiles = new Map<string, protobuf.Type[]>();

/** A wire-format value decoded with the schema text alone (avsc, protobufjs), as the JSON the writer had. */
export function independentDecode(value: Buffer, registered: ReadonlyMap<number, string>, format: RegistryFormat): unknown {
  assert.equal(value[0], 0);
  const schema = registered.get(value.readUInt32BE(1))!;
  if (format === "json-schema") return JSON.parse(value.subarray(5).toString("utf8"));
  if (format === "avro") {
    let type = avroTypes.get(schema);
    if (type === undefined) avroTypes.set(schema, (type = avro.Type.forSchema(JSON.parse(schema) as avro.Schema)));
    const decoded = type.fromBuffer(value.subarray(5)) as Record<string, unknown>;
    return plain(type.typeName === "union:wrapped" ? Object.values(decoded)[0] : decoded);
  }
  let messages = protoFiles.get(schema);
  if (messages === undefined) protoFiles.set(schema, (messages = topLevelMessages(protobuf.parse(schema, { keepCase: true }).root)));
  const index = value[5] === 0 ? 0 : value[6]! / 2;
  const message = messages[index]!;
  const at = value[5] === 0 ? 6 : 7;
  const decoded = message.toObject(message.decode(value.subarray(at)), { longs: Number, defaults: true, arrays: true });
  const order = (type: protobuf.Type, object: Record<string, unknown>): Record<string, unknown> =>
    Object.fromEntries(
      type.fieldsArray
        .filter((f) => object[f.name] !== undefined && object[f.name] !== null)
        .map((f) => {
          f.resolve();
          const inner = object[f.name];
          if (f.resolvedType instanceof protobuf.Type) {
            const t = f.resolvedType;
            return [f.name, Array.isArray(inner) ? inner.map((i) => order(t, i as Record<string, unknown>)) : order(t, inner as Record<string, unknown>)];
          }
          return [f.name, inner];
        }),
    );
  return order(message, decoded);
}

