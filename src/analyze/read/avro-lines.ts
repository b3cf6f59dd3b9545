/**
 * Avro values straight to JSON lines, for the analysis of Avro topics. Reading a value with avsc makes
 * an object (a record, its strings), which serializeEvent or JSON.stringify then writes as text, which
 * is encoded to UTF-8, which the analysis parses again: most of the time went into that round trip. A
 * schema is compiled here once (JavaScript source built per schema, as avsc does for its own readers)
 * into a function that reads the Avro binary in place (zigzag varints, doubles, strings as their UTF-8
 * bytes) and writes the JSON text's bytes into the chunk, with no object in between.
 *
 * The line is byte for byte the one the avsc path writes (registry-values.ts), checked against it in
 * test/analyze/read/avro-lines.test.ts:
 * - wfsim's events ("events"): serializeEvent's line: the event's fields in its template's order, a
 *   null optional field left out, integers and booleans as String() writes them, strings and nested
 *   values as JSON.stringify writes them.
 * - shaped records ("shaped"): JSON.stringify of the decoded record, a null in a field whose type is a
 *   union with null left out (absent), other nulls kept.
 *
 * What is not compiled (compileAvroLines throws UnsupportedAvro and the caller keeps avsc): maps
 * (JSON.stringify puts integer-like keys first, not in the value's order), bytes and fixed (avsc gives
 * Buffers), unions other than one type with null (avsc wraps them in objects), error records, a field
 * named __proto__; for events, a record whose `type` is not an enum of one wfsim event type, whose
 * fields come in another order than the event's, or that lacks a field the event requires (avsc's
 * path then says what is wrong with each value, as before).
 */
import { isUtf8 } from "node:buffer";
import avro from "avsc";
import { WfsimError } from "../../errors.ts";
import { LINE_TEMPLATES, type LineTemplate, type TemplateField } from "../../events/templates.ts";

/** Where the line is written: the chunk's buffer, grown on demand. */
export interface LineRoom {
  /** The buffer to write in, with at least `need` bytes free after `at`; its bytes before `at` are kept. */
  room(at: number, need: number): Buffer;
}

/**
 * Reads the Avro value at [offset, end) of `bytes` and writes its JSON line (no newline) from `at`
 * on, in `out.room(...)`'s buffer; returns where the line ends.
 */
export type AvroLineReader = (bytes: Buffer, offset: number, end: number, out: LineRoom, at: number) => number;

/** A schema compileAvroLines does not handle (see the module's comment): the caller decodes with avsc. */
export class UnsupportedAvro extends Error {
  constructor(why: string) {
    super(why);
    this.name = "UnsupportedAvro";
  }
}

export type AvroLineRecords = "events" | "shaped";

/** How values that cannot be read are reported: the schema's id and registry, as registry-values.ts says them. */
export interface AvroLineSource {
  readonly id: number;
  readonly url: string;
}

const TEMPLATES = new Map<string, LineTemplate>(LINE_TEMPLATES.map((template) => [template.type, template]));

/** Longs beyond this lose digits in a JavaScript number (avsc's own bound: one below 2^53 - 1). */
const SAFE_LONG = 9007199254740990;
/** Bytes the longest number text takes: "-2.2250738585072014e-308" is 24, a long 17, plus room. */
const NUMBER_BYTES = 26;
/** Items of an array whose items take no bytes (nulls, empty records) a value may claim, at most. */
const MAX_EMPTY_ITEMS = 1 << 24;

/** JSON.stringify's escapes of the ASCII characters it escapes; undefined: written as they are. */
const ESCAPES: (Uint8Array | undefined)[] = Array.from({ length: 128 }, (_, c) => {
  const text = JSON.stringify(String.fromCharCode(c)).slice(1, -1);
  return text.length === 1 ? undefined : Buffer.from(text, "latin1");
});

/** "00" to "99": digits are written two at a time, with half the divisions. */
const DIGIT_PAIRS = Buffer.from(Array.from({ length: 100 }, (_, i) => String(i).padStart(2, "0")).join(""), "latin1");

/** The digits of 0 <= n < 2^31. */
function smallDigits(o: Buffer, q: number, n: number): number {
  const length = n < 1e5 ? (n < 10 ? 1 : n < 100 ? 2 : n < 1e3 ? 3 : n < 1e4 ? 4 : 5) : n < 1e6 ? 6 : n < 1e7 ? 7 : n < 1e8 ? 8 : n < 1e9 ? 9 : 10;
  const end = q + length;
  let at = end;
  while (n >= 100) {
    const pair = (n % 100) * 2;
    n = (n / 100) | 0;
    at -= 2;
    o[at] = DIGIT_PAIRS[pair]!;
    o[at + 1] = DIGIT_PAIRS[pair + 1]!;
  }
  if (n >= 10) {
    o[at - 2] = DIGIT_PAIRS[n * 2]!;
    o[at - 1] = DIGIT_PAIRS[n * 2 + 1]!;
  } else o[at - 1] = 48 + n;
  return end;
}

/** What the compiled code calls: the slow or rare paths, kept out of its source. */
class Runtime {
  /** Where the last slow varint read ended. */
  pos = 0;
  private readonly source: AvroLineSource;

  constructor(source: AvroLineSource) {
    this.source = source;
  }

  bad(why: string): WfsimError {
    return new WfsimError("REGISTRY_SCHEMA", `AVRO schema id ${this.source.id} at ${this.source.url} cannot be read: ${why}`);
  }

  /** avsc's readLong, from the first byte on (the compiled code reads one-byte values itself); `long`: refuse what a number cannot hold. */
  varint(b: Buffer, p: number, long: boolean, field: string): number {
    let n = 0;
    let k = 0;
    let c: number;
    let more: number;
    do {
      c = b[p++]!;
      more = c & 0x80;
      n |= (c & 0x7f) << k;
      k += 7;
    } while (more && k < 28);
    if (!more) {
      this.pos = p;
      return (n >> 1) ^ -(n & 1);
    }
    let f = n;
    let fk = 268435456;
    do {
      c = b[p++]!;
      f += (c & 0x7f) * fk;
      fk *= 128;
    } while (c & 0x80);
    this.pos = p;
    const value = (f % 2 ? -(f + 1) : f) / 2;
    if (long && !(value >= -SAFE_LONG && value <= SAFE_LONG)) {
      throw this.bad(`${field} holds a long beyond 2^53, which a JSON number cannot carry exactly`);
    }
    return value;
  }

  /** An integer's digits, as String() writes them. */
  digits(o: Buffer, q: number, n: number): number {
    if (n < 0) {
      o[q++] = 45;
      n = -n;
    }
    if (n < 2147483648) return smallDigits(o, q, n);
    // A millisecond timestamp and the like: the digits above the last eight, then those eight, each
    // part small enough for integer arithmetic (a safe long over 1e8 is below 2^31).
    const high = Math.floor(n / 1e8);
    let low = n - high * 1e8;
    const end = smallDigits(o, q, high) + 8;
    for (let at = end - 2; at >= end - 8; at -= 2) {
      const pair = (low % 100) * 2;
      low = (low / 100) | 0;
      o[at] = DIGIT_PAIRS[pair]!;
      o[at + 1] = DIGIT_PAIRS[pair + 1]!;
    }
    return end;
  }

  /** A double as JSON.stringify writes it (NaN and infinities as null). */
  number(o: Buffer, q: number, x: number): number {
    const text = Number.isFinite(x) ? String(x) : "null";
    for (let i = 0; i < text.length; i++) o[q++] = text.charCodeAt(i);
    return q;
  }

  /**
   * The string of `n` UTF-8 bytes at `p` as JSON.stringify writes it, quotes included: valid UTF-8 is
   * copied (JSON.stringify escapes only ASCII controls, `"` and `\` there), with escapes; bytes that
   * are not UTF-8 are decoded as avsc does (U+FFFD for each bad sequence) and written again.
   */
  string(b: Buffer, p: number, n: number, o: Buffer, q: number): number {
    const start = q;
    o[q++] = 34;
    let ascii = true;
    for (let i = p, end = p + n; i < end; i++) {
      const c = b[i]!;
      if (c >= 0x80) {
        ascii = false;
        o[q++] = c;
        continue;
      }
      const escape = ESCAPES[c];
      if (escape === undefined) {
        o[q++] = c;
        continue;
      }
      for (let j = 0; j < escape.length; j++) o[q++] = escape[j]!;
    }
    if (!ascii && !isUtf8(b.subarray(p, p + n))) {
      // At most 3 bytes (U+FFFD) per byte read: within the room asked for (6 per byte).
      return start + o.write(JSON.stringify(b.toString("utf8", p, p + n)), start, "utf8");
    }
    o[q++] = 34;
    return q;
  }
}

/** A JavaScript string literal of `text`: the only way schema text enters the generated source. */
function lit(text: string): string {
  return JSON.stringify(text);
}

interface Nullable {
  /** The branch index of null and of the other type. */
  readonly nullIndex: number;
  readonly index: number;
  readonly type: avro.Type;
}

/** A union of null and one other type, else undefined. */
function nullable(type: avro.Type): Nullable | undefined {
  if (type.typeName !== "union:unwrapped") return undefined;
  const types = (type as unknown as { readonly types: readonly avro.Type[] }).types;
  if (types.length !== 2) throw new UnsupportedAvro(`a union of ${types.length} types`);
  const nullIndex = types.findIndex((t) => t.typeName === "null");
  if (nullIndex < 0) throw new UnsupportedAvro("a union of two types without null");
  return { nullIndex, index: 1 - nullIndex, type: types[1 - nullIndex]! };
}

function fieldsOf(type: avro.Type): readonly { readonly name: string; readonly type: avro.Type }[] {
  const fields = (type as avro.types.RecordType).fields;
  for (const field of fields) if (field.name === "__proto__") throw new UnsupportedAvro("a field named __proto__");
  return fields;
}

/** The fewest bytes a value of this type takes: whether an array's item count can be checked against the bytes left. */
function minimumBytes(type: avro.Type): number {
  switch (type.typeName) {
    case "null":
      return 0;
    case "float":
      return 4;
    case "double":
      return 8;
    case "record":
      return fieldsOf(type).reduce((sum, field) => sum + minimumBytes(field.type), 0);
    default:
      return 1;
  }
}

/**
 * JavaScript source for one schema. The generated function's variables: `b` the fetched bytes, `p`
 * where it reads, `e` the value's end; `o` the chunk's buffer, `q` where it writes, `s` the chunk;
 * `n` a number read; `R` the Runtime, `K` constants (enum symbols). Room in `o` is asked for once per
 * straight run of writes of known size (a segment: never across a branch or a loop, and ended by a
 * write of unknown size: a string's bytes, a nested record or array), so one comparison covers many
 * writes.
 */
class Compiler {
  private readonly code: string[] = [];
  readonly constants: unknown[] = [];
  private names = 0;
  private segmentAt = -1;
  private segmentBytes = 0;

  source(): string {
    this.closeSegment();
    return this.code.join("\n");
  }

  line(text: string): void {
    this.code.push(text);
  }

  fresh(prefix: string): string {
    return `${prefix}${this.names++}`;
  }

  /** `bytes` more bytes of known size will be written in the current segment. */
  fixed(bytes: number): void {
    if (this.segmentAt < 0) {
      this.segmentAt = this.code.length;
      this.code.push("");
      this.segmentBytes = 0;
    }
    this.segmentBytes += bytes;
  }

  /** Ends the segment: at a branch, a loop, or after a write of unknown size. */
  closeSegment(): void {
    if (this.segmentAt >= 0) this.code[this.segmentAt] = `if (q + ${this.segmentBytes} > o.length) o = s.room(q, ${this.segmentBytes});`;
    this.segmentAt = -1;
  }

  /** Writes constant bytes. */
  bytes(bytes: Uint8Array): void {
    this.fixed(bytes.length);
    this.line(`${Array.from(bytes, (byte, i) => `o[q${i === 0 ? "" : ` + ${i}`}] = ${byte};`).join(" ")} q += ${bytes.length};`);
  }

  text(text: string): void {
    this.bytes(Buffer.from(text, "utf8"));
  }

  /** Reads a varint into `n`. */
  varint(long: boolean, field: string): void {
    this.line(`c = b[p++]; if (c < 128) n = (c >>> 1) ^ -(c & 1); else { n = R.varint(b, p - 1, ${long}, ${lit(field)}); p = R.pos; }`);
  }

  /** Reads a union's branch index into `n`. */
  branch(field: string): void {
    this.varint(false, field);
  }

  /** Emits code that reads a value of `type` and, when `write`, writes its JSON; `omitNulls`: a null in a field of a union with null is left out (shaped records). */
  value(type: avro.Type, field: string, write: boolean, omitNulls: boolean): void {
    switch (type.typeName) {
      case "null":
        if (write) this.text("null");
        return;
      case "boolean":
        if (write) {
          this.fixed(5);
          this.line(`if (b[p++]) { o[q] = 116; o[q + 1] = 114; o[q + 2] = 117; o[q + 3] = 101; q += 4; } else { o[q] = 102; o[q + 1] = 97; o[q + 2] = 108; o[q + 3] = 115; o[q + 4] = 101; q += 5; }`);
        } else this.line("p++;");
        return;
      case "int":
      case "long":
        this.varint(type.typeName === "long", field);
        if (write) {
          this.fixed(NUMBER_BYTES);
          this.line("if (n >= 0 && n < 10) o[q++] = 48 + n; else q = R.digits(o, q, n);");
        }
        return;
      case "float":
      case "double": {
        const size = type.typeName === "float" ? 4 : 8;
        this.line(`if (p + ${size} > e) throw R.bad("a value is shorter than its schema says");`);
        if (write) {
          this.fixed(NUMBER_BYTES);
          this.line(`q = R.number(o, q, b.read${type.typeName === "float" ? "Float" : "Double"}LE(p));`);
        }
        this.line(`p += ${size};`);
        return;
      }
      case "string":
        this.varint(false, field);
        this.line(`if (n < 0 || p + n > e) throw R.bad("a value is shorter than its schema says");`);
        if (write) {
          this.closeSegment();
          this.line("if (q + 6 * n + 2 > o.length) o = s.room(q, 6 * n + 2);");
          this.line("q = R.string(b, p, n, o, q);");
        }
        this.line("p += n;");
        return;
      case "enum": {
        const symbols = (type as avro.types.EnumType).symbols.map((symbol) => Buffer.from(JSON.stringify(symbol), "utf8"));
        const k = this.constants.push(symbols) - 1;
        this.varint(false, field);
        this.line(`if (K[${k}][n] === undefined) throw R.bad("an enum index " + n + " of ${symbols.length} symbols at " + ${lit(field)});`);
        if (write) {
          const longest = Math.max(...symbols.map((symbol) => symbol.length));
          this.fixed(longest);
          this.line(`for (let j = 0, y = K[${k}][n]; j < y.length; j++) o[q++] = y[j];`);
        }
        return;
      }
      case "record":
        this.record(type, field, write, omitNulls);
        return;
      case "array":
        this.array(type as avro.types.ArrayType, field, write, omitNulls);
        return;
      case "union:unwrapped": {
        const union = nullable(type)!;
        this.branch(field);
        this.closeSegment();
        this.line(`if (n === ${union.nullIndex}) {`);
        if (write) this.text("null");
        this.closeSegment();
        this.line(`} else if (n === ${union.index}) {`);
        this.value(union.type, field, write, omitNulls);
        this.closeSegment();
        this.line(`} else throw R.bad("a union branch " + n + " of 2 at " + ${lit(field)});`);
        return;
      }
      default:
        throw new UnsupportedAvro(`type ${type.typeName}`);
    }
  }

  private record(type: avro.Type, where: string, write: boolean, omitNulls: boolean): void {
    const fields = fieldsOf(type);
    if (write) this.text("{");
    // Whether a field has been written before: known at compile time until an omitted field may come.
    let state: "none" | "some" | string = "none";
    // The text before a field's value: its name, after a comma unless it is the first written.
    for (const field of fields) {
      const at = `${where}.${field.name}`;
      const name = Buffer.from(JSON.stringify(field.name), "utf8");
      const union = omitNulls && write ? nullable(field.type) : undefined;
      const prefix = () => {
        if (state === "none") this.bytes(Buffer.concat([name, Buffer.from(":")]));
        else if (state === "some") this.bytes(Buffer.concat([Buffer.from(","), name, Buffer.from(":")]));
        else {
          this.closeSegment();
          this.fixed(1);
          this.line(`if (${state}) o[q++] = 44; else ${state} = 1;`);
          this.bytes(Buffer.concat([name, Buffer.from(":")]));
        }
      };
      if (!write) {
        this.value(field.type, at, false, omitNulls);
        continue;
      }
      if (union === undefined) {
        prefix();
        this.value(field.type, at, true, omitNulls);
        state = "some";
        continue;
      }
      // A union with null: the field is left out when null.
      if (state === "none") {
        state = this.fresh("w");
        this.line(`let ${state} = 0;`);
      }
      this.branch(at);
      this.closeSegment();
      this.line(`if (n === ${union.index}) {`);
      prefix();
      this.value(union.type, at, true, omitNulls);
      this.closeSegment();
      this.line(`} else if (n !== ${union.nullIndex}) throw R.bad("a union branch " + n + " of 2 at " + ${lit(at)});`);
    }
    if (write) this.text("}");
  }

  private array(type: avro.types.ArrayType, where: string, write: boolean, omitNulls: boolean): void {
    const items = type.itemsType;
    const count = this.fresh("k");
    const any = this.fresh("a");
    const limit = minimumBytes(items) > 0 ? "e - p" : `${MAX_EMPTY_ITEMS}`;
    if (write) this.text("[");
    this.closeSegment();
    this.line(`let ${any} = 0;`);
    this.line("for (;;) {");
    this.varint(false, where);
    this.line(`let ${count} = n; if (${count} === 0) break;`);
    // A negative count is followed by the block's size in bytes (not needed to read it).
    this.line(`if (${count} < 0) { ${count} = -${count}; c = b[p++]; if (c >= 128) { R.varint(b, p - 1, false, ""); p = R.pos; } }`);
    this.line(`if (${count} > ${limit}) throw R.bad("an array at " + ${lit(where)} + " claims more items than its bytes hold");`);
    this.line(`for (; ${count} > 0; ${count}--) {`);
    if (write) {
      this.fixed(1);
      this.line(`if (${any}) o[q++] = 44; else ${any} = 1;`);
    }
    this.value(items, `${where}[]`, write, omitNulls);
    this.closeSegment();
    this.line("}");
    this.line("}");
    if (write) this.text("]");
  }

  /** wfsim's event: the template's head, its fields in the template's order (checked), a null optional field left out. */
  event(type: avro.Type, template: LineTemplate, where: string, requiredMissing: (field: TemplateField) => string): void {
    const fields = fieldsOf(type);
    const order = new Map(template.fields.map((field, i) => [field.name, i]));
    let last = -1;
    const written = new Set<string>();
    this.text(template.head);
    for (const field of fields) {
      const at = `${where}.${field.name}`;
      if (field.name === "type") {
        // A one-symbol enum (checked by the caller): only its index is in the value.
        this.varint(false, at);
        this.line(`if (n !== 0) throw R.bad("an enum index " + n + " of 1 symbol at " + ${lit(at)});`);
        continue;
      }
      const index = order.get(field.name);
      if (index === undefined) {
        this.value(field.type, at, false, false);
        continue;
      }
      if (index < last) throw new UnsupportedAvro(`field ${field.name} comes before a field the event lists before it`);
      last = index;
      const target = template.fields[index]!;
      written.add(target.name);
      const union = nullable(field.type);
      const inner = union?.type ?? field.type;
      const fits =
        target.kind === "integer"
          ? inner.typeName === "long" || inner.typeName === "int"
          : target.kind === "boolean"
            ? inner.typeName === "boolean"
            : true;
      if (!fits) throw new UnsupportedAvro(`field ${field.name} is ${inner.typeName}, the event's is ${target.kind}`);
      const prefix = Buffer.from(target.prefix, "utf8");
      if (union === undefined) {
        this.bytes(prefix);
        this.value(inner, at, true, false);
        continue;
      }
      this.branch(at);
      this.closeSegment();
      this.line(`if (n === ${union.index}) {`);
      this.bytes(prefix);
      this.value(inner, at, true, false);
      this.closeSegment();
      if (target.optional) this.line(`} else if (n !== ${union.nullIndex}) throw R.bad("a union branch " + n + " of 2 at " + ${lit(at)});`);
      else {
        const k = this.constants.push(requiredMissing(target)) - 1;
        this.line(`} else if (n === ${union.nullIndex}) throw new R.Error("REGISTRY_SCHEMA", K[${k}]); else throw R.bad("a union branch " + n + " of 2 at " + ${lit(at)});`);
      }
    }
    for (const field of template.fields) {
      if (!field.optional && !written.has(field.name)) throw new UnsupportedAvro(`no field ${field.name}, which the event requires`);
    }
    this.closeSegment();
    this.text("}");
  }
}

/** The event type of a record whose `type` field is an enum of one known event type, else UnsupportedAvro. */
function eventTemplate(type: avro.Type): LineTemplate {
  const field = fieldsOf(type).find((f) => f.name === "type");
  const symbols = field?.type.typeName === "enum" ? (field.type as avro.types.EnumType).symbols : undefined;
  const template = symbols?.length === 1 ? TEMPLATES.get(symbols[0]!) : undefined;
  if (template === undefined) throw new UnsupportedAvro("a record whose type field is not an enum of one wfsim event type");
  return template;
}

/**
 * Compiles the reader of values of `type` (avsc's, from the writer schema): a record, or a union of
 * records (avsc's wrapped union: the branch index, then the record). Throws UnsupportedAvro for
 * schemas it does not handle.
 */
export function compileAvroLines(type: avro.Type, records: AvroLineRecords, source: AvroLineSource): AvroLineReader {
  const branches = type.typeName === "union:wrapped" ? (type as unknown as { readonly types: readonly avro.Type[] }).types : [type];
  for (const branch of branches) if (branch.typeName !== "record") throw new UnsupportedAvro(`a ${branch.typeName} at the top, not a record`);
  const compiler = new Compiler();
  const compileRecord = (record: avro.Type) => {
    const name = record.name ?? "record";
    if (records === "shaped") compiler.value(record, name, true, true);
    else {
      const template = eventTemplate(record);
      compiler.event(record, template, name, (field) => `a record with AVRO schema id ${source.id} at ${source.url}: ${template.type} event lacks its ${field.name} field`);
    }
  };
  if (branches.length === 1 && type.typeName !== "union:wrapped") compileRecord(type);
  else {
    compiler.branch("the union");
    compiler.closeSegment();
    compiler.line("switch (n) {");
    branches.forEach((branch, i) => {
      compiler.line(`case ${i}: {`);
      compileRecord(branch);
      compiler.closeSegment();
      compiler.line("break; }");
    });
    compiler.line(`default: throw R.bad("a value names union branch " + n + " of ${branches.length}");`);
    compiler.line("}");
  }
  // Events are read from the batch as avsc's decode reads them (a value may not reach past its end);
  // shaped records as avsc's fromBuffer (nor stop short of it).
  const ends = records === "events" ? "p > e" : "p !== e";
  const body = [
    "return function read(b, p, e, s, q) {",
    "let o = s.room(q, 0), c = 0, n = 0;",
    compiler.source(),
    `if (${ends}) throw R.bad(p > e ? "a value is shorter than its schema says" : "a value is longer than its schema says");`,
    "return q;",
    "};",
  ].join("\n");
  const runtime = Object.assign(new Runtime(source), { Error: WfsimError });
  // The source holds no text of the schema's: names and symbols are constants (K), field names are
  // written as bytes, and the places named in messages are JSON string literals.
  return new Function("R", "K", body)(runtime, compiler.constants) as AvroLineReader;
}
