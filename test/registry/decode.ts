// An independent reader of the Confluent wire format for the tests: the schema fetched from the
// registry by the id in each value (plain HTTP, not wfsim's client), decoded with Avro's and
// Protobuf's own libraries, not with wfsim's encoders. What a consumer in another team would write.
import avro from "avsc";
import protobuf from "protobufjs";

interface Fetched {
  schemaType: string;
  schema: string;
}

export class IndependentReader {
  private readonly url: string;
  private readonly schemas = new Map<number, Promise<Fetched>>();
  private readonly avroTypes = new Map<number, avro.Type>();
  private readonly protoMessages = new Map<number, protobuf.Type[]>();

  constructor(url: string) {
    this.url = url;
  }

  fetched(id: number): Promise<Fetched> {
    let found = this.schemas.get(id);
    if (found === undefined) {
      found = fetch(`${this.url}/schemas/ids/${id}`).then(async (res) => {
        if (res.status !== 200) throw new Error(`schema ${id}: HTTP ${res.status}`);
        const body = (await res.json()) as { schema: string; schemaType?: string };
        return { schemaType: body.schemaType ?? "AVRO", schema: body.schema };
      });
      this.schemas.set(id, found);
    }
    return found;
  }

  /** The value as the JSON object it carries; optional fields the writer left out are absent. */
  async decode(value: Buffer): Promise<{ schemaId: number; schemaType: string; event: Record<string, unknown> }> {
    if (value[0] !== 0) throw new Error(`magic byte ${value[0]}`);
    const schemaId = value.readUInt32BE(1);
    const { schemaType, schema } = await this.fetched(schemaId);
    if (schemaType === "AVRO") {
      let type = this.avroTypes.get(schemaId);
      if (type === undefined) this.avroTypes.set(schemaId, (type = avro.Type.forSchema(JSON.parse(schema) as avro.Schema)));
      // avsc's default: a union of records is wrapped ({name: record}), a union with null is not.
      const wrapped = type.fromBuffer(value.subarray(5)) as Record<string, unknown>;
      // A schema of one record (RecordNameStrategy) is not a union.
      const record = type.typeName === "union:wrapped" ? Object.values(wrapped)[0] : wrapped;
      return { schemaId, schemaType, event: plain(record) as Record<string, unknown> };
    }
    if (schemaType === "PROTOBUF") {
      let messages = this.protoMessages.get(schemaId);
      if (messages === undefined) {
        const root = protobuf.parse(schema, { keepCase: true }).root;
        const pkg = root.nestedArray.find((n) => n instanceof protobuf.Namespace && !(n instanceof protobuf.Type)) as protobuf.Namespace | undefined;
        messages = (pkg ?? root).nestedArray.filter((n): n is protobuf.Type => n instanceof protobuf.Type);
        this.protoMessages.set(schemaId, messages);
      }
      // Message indexes: 0 alone is [0]; else a zigzag count and zigzag indexes (one level here).
      let at = 5;
      let index = 0;
      if (value[at] === 0) at += 1;
      else {
        const count = value[at++]! / 2;
        if (count !== 1) throw new Error(`nested message path of ${count}`);
        index = value[at++]! / 2;
      }
      const message = messages[index]!;
      const decoded = message.toObject(message.decode(value.subarray(at)), { longs: Number, enums: String, defaults: true });
      // protobufjs lists proto3 optional fields (oneofs underneath) last; the schema's order is by field number.
      const ordered = Object.fromEntries(message.fieldsArray.filter((field) => field.name in decoded).map((field) => [field.name, decoded[field.name]]));
      return { schemaId, schemaType, event: ordered };
    }
    if (schemaType === "JSON") return { schemaId, schemaType, event: JSON.parse(value.subarray(5).toString("utf8")) as Record<string, unknown> };
    throw new Error(`schema type ${schemaType}`);
  }
}

/** avsc's records as plain objects, with null (an absent optional field) left out. */
function plain(value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) if (inner !== null) out[key] = plain(inner);
  return out;
}
