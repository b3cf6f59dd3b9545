import { readFileSync } from "node:fs";
import type { WfEvent } from "../../events/schema.ts";
import { FAULT_LINE_TEMPLATES, LINE_TEMPLATES, type LineTemplate } from "../../events/templates.ts";
import type { FaultRecord } from "../../events/truth.ts";
import { FAULT_KINDS } from "../../config/scenario/model.ts";
import { LAYOUT, MAX_FIELDS, OPS, RECORD_SHIFT } from "./layout.ts";

interface LineWriterExports {
  readonly memory: WebAssembly.Memory;
  setup(templates: number, strings: number, pairs: number, result: number, cache: number, shift: number): void;
  format(records: number, count: number, out: number, outEnd: number): number;
}

/** Fills one record (the f64 slots from `slot` on) from an item; returns false when a string did not fit in the table. */
export type RecordEncoder<T> = (item: T, f64: Float64Array, slot: number, strings: StringTable) => boolean;

/** What the line writer writes: templates (bytecode, see wasm/line-writer.ts), the encoder that fills their records, the record size. */
export interface LineProgram<T> {
  readonly templates: readonly { readonly code: readonly number[]; readonly bound: number }[];
  readonly encode: RecordEncoder<T>;
  /** log2 of a record's bytes (8 per slot). */
  readonly recordShift: number;
  /** Names an item in messages. */
  readonly describe: (item: T) => string;
}

// From src/sinks/fast-jsonl/ and dist/sinks/fast-jsonl/ alike, the module is in build/ at the top.
const WASM_URL = new URL("../../../build/line-writer.wasm", import.meta.url);
let compiled: WebAssembly.Module | undefined;
/** Distinct values of a string field in one table beyond which it is no longer looked up. */
const NAME_LIMIT = 64;
/** String fields over all event types (txn_id, meta, workflow, step_name, reason, ...), with room to grow; a shaped record's slots. */
const MAX_STRING_FIELDS = 64;
const textEncoder = new TextEncoder();
/** A line of text as it is: its one string slot, then the newline (see LineWriter.writeText). */
const TEXT_LINE = { code: [OPS.STR, 1, OPS.LIT, 1, 0, 10, OPS.END], bound: 1 } as const;
/** The string table's one-entry cache a text line uses (any field: a hit is the same text anyway). */
const TEXT_FIELD = MAX_STRING_FIELDS - 1;
/** The caches a not-JSON line's transaction id and type use (raw text, not JSON strings). */
const RAW_ID_FIELD = MAX_STRING_FIELDS - 2;
const RAW_TYPE_FIELD = MAX_STRING_FIELDS - 3;

/** Template bytecode for constant text. */
function literal(text: string): number[] {
  const bytes = textEncoder.encode(text);
  return [OPS.LIT, ...u16(bytes.length), ...bytes];
}

/**
 * A corrupt fault's not_json line, `txn_id=ID type=TYPE ts_ms=MS[ step=STEP]` (delivery's
 * notJsonText, byte for byte: a test holds them equal): slots 1 and 2 raw text, 3 and 4 integers
 * (4 absent: NaN).
 */
function notJsonLine(): { code: number[]; bound: number } {
  const step = literal(" step=");
  const code = [
    ...literal("txn_id="), OPS.STR, 1,
    ...literal(" type="), OPS.STR, 2,
    ...literal(" ts_ms="), OPS.INT, 3,
    OPS.OPT, 4, ...u16(step.length + 2), ...step, OPS.INT, 4,
    ...literal("\n"), OPS.END,
  ];
  return { code, bound: "txn_id= type= ts_ms= step=\n".length + 2 * 21 };
}

/**
 * JSON text of strings and objects, interned in the module's memory. Transaction ids repeat on every
 * event of a transaction and meta objects on every open, so each is encoded once per table.
 */
export class StringTable {
  private readonly bytes: Uint8Array;
  private readonly index: Uint32Array;
  private readonly objectIds = new Map<unknown, number>();
  // Names (a scenario's workflow and step names) come back on event after event, from a handful of
  // values: each is written once per table and then found in a map. A field whose values keep
  // changing (txn_id) leaves the map after NAME_LIMIT distinct values in a table, so ids are still
  // appended without a lookup, which for them is cheaper.
  private readonly nameIds = new Map<string, number>();
  private readonly distinctNames = new Int32Array(MAX_STRING_FIELDS);
  private count = 0;
  private end: number = LAYOUT.stringBytes;
  /** Counts resets: an id is valid as long as this is what it was when the id was given. */
  generation = 0;
  // The last value of each string field (txn_id, meta, ...): consecutive events mostly repeat it.
  private readonly lastValues: unknown[] = [];
  private readonly lastIds: number[] = [];
  private readonly lastJson: string[] = [];
  private readonly lastJsonIds: number[] = [];

  constructor(memory: WebAssembly.Memory) {
    this.bytes = new Uint8Array(memory.buffer);
    this.index = new Uint32Array(memory.buffer);
  }

  /**
   * The id of `value`'s JSON text, or -1 when the table has no room left for it. `field` numbers the
   * field the value comes from, for its one-entry cache. Strings of fields with few values (names)
   * are looked up; others are appended without looking for an earlier copy (a map lookup costs more
   * than writing a transaction id again); objects are looked up by identity, since the same meta
   * object is shared by a whole run.
   */
  intern(value: unknown, field: number): number {
    if (value === this.lastValues[field]) return this.lastIds[field]!;
    let id: number;
    if (typeof value === "string") {
      if (this.distinctNames[field]! > NAME_LIMIT) {
        id = this.append(value);
      } else {
        id = this.nameIds.get(value) ?? -1;
        if (id < 0) {
          this.distinctNames[field]!++;
          id = this.append(value);
          if (id >= 0) this.nameIds.set(value, id);
        }
      }
    } else {
      id = this.objectIds.get(value) ?? -1;
      if (id < 0) {
        id = this.append(JSON.stringify(value), true);
        if (id >= 0) this.objectIds.set(value, id);
      }
    }
    if (id >= 0) {
      this.lastValues[field] = value;
      this.lastIds[field] = id;
    }
    return id;
  }

  /** The id of a text that already is JSON (a number's digits), or -1 when the table is full. */
  internJson(text: string, field: number): number {
    if (text === this.lastJson[field]) return this.lastJsonIds[field]!;
    const id = this.append(text, true);
    if (id >= 0) {
      this.lastJson[field] = text;
      this.lastJsonIds[field] = id;
    }
    return id;
  }

  /** True when an entry of `bytes` bytes fits in the table. */
  fits(bytes: number): boolean {
    return this.count < LAYOUT.stringCapacity && this.end + bytes <= LAYOUT.stringBytesEnd;
  }

  /** Adds an entry of the module's bytes [from, from + length), as they are; -1 when they do not fit. */
  appendBytes(from: number, length: number): number {
    if (!this.fits(length)) return -1;
    const start = this.end;
    this.bytes.copyWithin(start, from, from + length);
    const id = this.count++;
    const entry = (LAYOUT.stringIndex >> 2) + id * 2;
    this.index[entry] = start;
    this.index[entry + 1] = length;
    this.end = start + length;
    return id;
  }

  /** Adds an entry: `text` quoted as a JSON string, or as it is when it already is JSON. */
  private append(text: string, isJson = false): number {
    if (this.count === LAYOUT.stringCapacity) return -1;
    const bytes = this.bytes;
    const start = this.end;
    let end = start;
    if (isJson && start + text.length <= LAYOUT.stringBytesEnd) {
      // JSON text in ASCII is its own UTF-8: copied without an encoder (a call of which costs more
      // than the copy for short texts, such as malformed lines).
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c > 127) {
          end = -1;
          break;
        }
        bytes[end++] = c;
      }
    } else if (!isJson && start + text.length + 2 <= LAYOUT.stringBytesEnd) {
      // Plain printable ASCII needs no escaping and no encoder: the common case, ids and names.
      bytes[end++] = 34;
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c < 32 || c > 126 || c === 34 || c === 92) {
          end = -1;
          break;
        }
        bytes[end++] = c;
      }
      if (end >= 0) bytes[end++] = 34;
    } else {
      end = -1;
    }
    if (end < 0) {
      const json = isJson ? text : JSON.stringify(text);
      const { read, written } = textEncoder.encodeInto(json, bytes.subarray(start, LAYOUT.stringBytesEnd));
      if (read < json.length) return -1;
      end = start + written;
    }
    const id = this.count++;
    const entry = (LAYOUT.stringIndex >> 2) + id * 2;
    this.index[entry] = start;
    this.index[entry + 1] = end - start;
    this.end = end;
    return id;
  }

  reset(): void {
    this.generation++;
    this.objectIds.clear();
    this.nameIds.clear();
    this.distinctNames.fill(0);
    this.count = 0;
    this.end = LAYOUT.stringBytes;
    this.lastValues.length = 0;
    this.lastIds.length = 0;
    this.lastJson.length = 0;
    this.lastJsonIds.length = 0;
  }
}

/** Template bytecode (see wasm/line-writer.ts) and the line's length bound without its strings. */
export function compileTemplate(template: LineTemplate): { code: number[]; bound: number } {
  if (template.fields.length > MAX_FIELDS) {
    throw new Error(`event ${template.type} has ${template.fields.length} fields; records hold ${MAX_FIELDS}`);
  }
  const code: number[] = [];
  let bound = 0;
  let pendingText = template.head;
  const flushText = () => {
    const bytes = textEncoder.encode(pendingText);
    pendingText = "";
    if (bytes.length === 0) return;
    if (bytes.length > 0xffff) throw new Error(`event ${template.type}: constant text too long`);
    code.push(OPS.LIT, bytes.length & 0xff, bytes.length >> 8, ...bytes);
    bound += bytes.length;
  };
  template.fields.forEach((field, index) => {
    const slot = index + 1;
    const valueOp = field.kind === "integer" ? OPS.INT : field.kind === "boolean" ? OPS.BOOL : OPS.STR;
    const valueBound = field.kind === "integer" ? 21 : field.kind === "boolean" ? 5 : 0;
    if (field.optional) {
      flushText();
      const prefix = textEncoder.encode(field.prefix);
      code.push(OPS.OPT, slot, ...u16(3 + prefix.length + 2), OPS.LIT, ...u16(prefix.length), ...prefix, valueOp, slot);
      bound += prefix.length + valueBound;
    } else {
      pendingText += field.prefix;
      flushText();
      code.push(valueOp, slot);
      bound += valueBound;
    }
  });
  pendingText += "}\n";
  flushText();
  code.push(OPS.END);
  return { code, bound };
}

function u16(value: number): [number, number] {
  return [value & 0xff, value >> 8];
}

/**
 * The record encoder for all event types, generated from the templates so that each type gets a
 * straight-line function with constant property names (what keeps this path fast), and so that it
 * covers exactly the fields the schemas define.
 */
function compileEncoder<T>(templates: readonly LineTemplate[], discriminant: "type" | "kind" = "type"): RecordEncoder<T> {
  const stringFields: string[] = [];
  const cases = templates.map((template, typeIndex) => {
    const lines = [`f[r] = ${typeIndex};`];
    template.fields.forEach((field, index) => {
      const slot = `r + ${index + 1}`;
      const read = `e[${JSON.stringify(field.name)}]`;
      let encode: string;
      if (field.kind === "integer") encode = `f[${slot}] = v;`;
      else if (field.kind === "boolean") encode = `f[${slot}] = v ? 1 : 0;`;
      else {
        if (!stringFields.includes(field.name)) stringFields.push(field.name);
        encode = `x = s.intern(v, ${stringFields.indexOf(field.name)}); if (x < 0) return false; f[${slot}] = x;`;
      }
      lines.push(
        field.optional
          ? `v = ${read}; if (v === undefined) f[${slot}] = NaN; else { ${encode} }`
          : `v = ${read}; ${encode}`,
      );
    });
    return `case ${JSON.stringify(template.type)}: ${lines.join(" ")} return true;`;
  });
  const body = `let v, x; switch (e.${discriminant}) { ${cases.join("\n")} default: throw new TypeError("unknown ${discriminant} " + JSON.stringify(e.${discriminant})); }`;
  return new Function("e", "f", "r", "s", body) as RecordEncoder<T>;
}

let eventProgram: LineProgram<WfEvent> | undefined;

/** wfsim's events: one template per event type, from their schemas. */
export function eventLineProgram(): LineProgram<WfEvent> {
  eventProgram ??= {
    templates: LINE_TEMPLATES.map(compileTemplate),
    encode: compileEncoder(LINE_TEMPLATES),
    recordShift: RECORD_SHIFT,
    describe: (event) => `a ${event.type} event`,
  };
  return eventProgram;
}

let faultProgram: LineProgram<FaultRecord> | undefined;

/**
 * The fault record's fields in the templates' order, each at slot (its place here + 1); its string
 * fields take the string table's caches 0 to 4 in this order (compileEncoder's numbering). What
 * FaultLineWriter.writeFields fills: checked against the templates once, so that a field added to the
 * schema fails here and not in a line.
 */
const FAULT_FIELDS = ["txn_id", "type", "record", "step", "attempt", "workflow", "seq", "ts_ms", "due_ms", "emitted_ms", "delay_ms", "offset_ms", "as"];
const FAULT_STRING_FIELDS = ["txn_id", "type", "record", "workflow", "as"];

function checkFaultFields(): void {
  const fields = FAULT_LINE_TEMPLATES[0]!.fields;
  const same = FAULT_LINE_TEMPLATES.length === FAULT_KINDS.length && FAULT_LINE_TEMPLATES.every((template, i) => template.type === FAULT_KINDS[i] && template.fields === fields);
  const strings = fields.filter((field) => field.kind === "string").map((field) => field.name);
  if (!same || fields.map((field) => field.name).join() !== FAULT_FIELDS.join() || strings.join() !== FAULT_STRING_FIELDS.join()) {
    throw new Error("the fault record templates differ from the fields FaultLineWriter.writeFields fills");
  }
}

/** A truth file's delivery fault records: one template per kind, from their schema. */
export function faultLineProgram(): LineProgram<FaultRecord> {
  faultProgram ??= {
    templates: FAULT_LINE_TEMPLATES.map(compileTemplate),
    encode: compileEncoder(FAULT_LINE_TEMPLATES, "kind"),
    recordShift: RECORD_SHIFT,
    describe: (record) => `a ${record.kind} fault record`,
  };
  return faultProgram;
}

/**
 * Turns events into JSON lines in WebAssembly: events are encoded as fixed-size numeric records,
 * and the module fills in the line templates. Produces exactly what serializeEvent produces (a test
 * holds them equal), several times faster, because number-to-text and string building stay out of
 * the JavaScript heap.
 */
export class LineWriter<T = WfEvent> {
  private readonly exports: LineWriterExports;
  protected readonly f64: Float64Array;
  private readonly bytes: Uint8Array;
  private readonly resultCell: Uint32Array;
  protected readonly strings: StringTable;
  protected readonly program: LineProgram<T>;
  protected readonly encode: RecordEncoder<T>;
  private readonly onChunk: (chunk: Uint8Array) => void;
  protected readonly recordSlots: number;
  protected readonly recordCapacity: number;
  /** The template index of a line of text as it is (after the program's). */
  private readonly textTemplate: number;
  /** The template index of a not-JSON line (after the text line's). */
  private readonly notJsonTemplate: number;
  protected count = 0;
  private outputView: Buffer | undefined;

  /**
   * `onChunk` receives formatted lines, whole lines only, in order, as a view of the module's output
   * area: valid during the call only (the next flush writes over it), so a caller that keeps the
   * lines copies them, into memory of its own choosing.
   */
  constructor(onChunk: (chunk: Uint8Array) => void, program?: LineProgram<T>) {
    compiled ??= new WebAssembly.Module(readFileSync(WASM_URL));
    const instance = new WebAssembly.Instance(compiled, { env: { abort: () => { throw new Error("line writer aborted"); } } });
    this.exports = instance.exports as unknown as LineWriterExports;
    const memory = this.exports.memory;
    const missing = LAYOUT.totalBytes - memory.buffer.byteLength;
    if (missing > 0) memory.grow(Math.ceil(missing / 65536));
    this.f64 = new Float64Array(memory.buffer);
    this.bytes = new Uint8Array(memory.buffer);
    this.resultCell = new Uint32Array(memory.buffer, LAYOUT.resultCell, 1);
    this.strings = new StringTable(memory);
    this.program = program ?? (eventLineProgram() as unknown as LineProgram<T>);
    this.encode = this.program.encode;
    this.recordSlots = (1 << this.program.recordShift) / 8;
    this.recordCapacity = (LAYOUT.recordsEnd - LAYOUT.records) >> this.program.recordShift;
    this.onChunk = onChunk;
    this.textTemplate = this.program.templates.length;
    this.notJsonTemplate = this.textTemplate + 1;
    this.writeTemplates();
    for (let i = 0; i < 100; i++) {
      this.bytes[LAYOUT.digitPairs + 2 * i] = 48 + Math.floor(i / 10);
      this.bytes[LAYOUT.digitPairs + 2 * i + 1] = 48 + (i % 10);
    }
    this.exports.setup(LAYOUT.templateTable, LAYOUT.stringIndex, LAYOUT.digitPairs, LAYOUT.resultCell, LAYOUT.intCache, this.program.recordShift);
  }

  write(item: T): void {
    const slot = (LAYOUT.records >> 3) + this.count * this.recordSlots;
    if (!this.encode(item, this.f64, slot, this.strings)) {
      // The string table is full: write out the records that refer to it, start a new one, retry.
      this.flush();
      this.strings.reset();
      if (!this.encode(item, this.f64, LAYOUT.records >> 3, this.strings)) {
        throw new RangeError(`a string field of ${this.program.describe(item)} is too long to write`);
      }
    }
    if (++this.count === this.recordCapacity) this.flush();
  }

  /**
   * Formats `item` alone, outside any batch (none may be pending): its line, newline included, is
   * then at `lineBytes[0, returned length)`, valid until the next call. For writers that place each
   * line themselves: the Kafka output copies each into its partition's record batch.
   */
  formatOne(item: T): number {
    const slot = LAYOUT.records >> 3;
    if (!this.encode(item, this.f64, slot, this.strings)) {
      this.strings.reset();
      if (!this.encode(item, this.f64, slot, this.strings)) {
        throw new RangeError(`a string field of ${this.program.describe(item)} is too long to write`);
      }
    }
    if (this.exports.format(LAYOUT.records, 1, LAYOUT.output, LAYOUT.outputEnd) === 0) {
      throw new RangeError("an event line is longer than the line writer's output area");
    }
    return this.resultCell[0]!;
  }

  /** The module's output area, where formatOne() leaves its line. */
  get lineBytes(): Buffer {
    return (this.outputView ??= Buffer.from(this.bytes.buffer, LAYOUT.output, LAYOUT.outputEnd - LAYOUT.output));
  }

  /**
   * A line of `text` as it is (no newline in it; a malformed record, a delivery fault), in its place
   * among the records: the batch goes on, no flush and no chunk of its own.
   */
  writeText(text: string): void {
    let slot = (LAYOUT.records >> 3) + this.count * this.recordSlots;
    let id = this.strings.internJson(text, TEXT_FIELD);
    if (id < 0) {
      this.flush();
      this.strings.reset();
      slot = LAYOUT.records >> 3;
      id = this.strings.internJson(text, TEXT_FIELD);
      if (id < 0) throw new RangeError("a malformed line is too long to write");
    }
    this.f64[slot] = this.textTemplate;
    this.f64[slot + 1] = id;
    if (++this.count === this.recordCapacity) this.flush();
  }

  /**
   * A corrupt fault's truncated line in place of `item`'s: its line without the newline, cut to the
   * `cut(length)` first of its `length` characters. Made from the line's bytes, in the batch, with
   * no string. False when the line is not ASCII (its characters are not its bytes): nothing is
   * written and `cut` is not called, so the caller cuts the text itself.
   */
  writeTruncated(item: T, cut: (length: number) => number): boolean {
    let slot = this.encodeNext(item);
    let length = this.formatAlone(slot);
    if (length < 0) return false;
    if (!this.strings.fits(length)) {
      // Before the cut is drawn: the table is started over and the line made again.
      this.flush();
      this.strings.reset();
      slot = this.encodeNext(item);
      length = this.formatAlone(slot);
    }
    const id = this.strings.appendBytes(LAYOUT.output, cut(length));
    this.f64[slot] = this.textTemplate;
    this.f64[slot + 1] = id;
    if (++this.count === this.recordCapacity) this.flush();
    return true;
  }

  /**
   * A corrupt fault's not_json line, `txn_id=ID type=TYPE ts_ms=MS[ step=STEP]`, in the batch, with
   * no string made. `tsMs` and `step` must be safe integers (the line writer's integers).
   */
  writeNotJson(txnId: string, type: string, tsMs: number, step: number | undefined): void {
    let slot = (LAYOUT.records >> 3) + this.count * this.recordSlots;
    let id = this.strings.internJson(txnId, RAW_ID_FIELD);
    let typeId = id < 0 ? -1 : this.strings.internJson(type, RAW_TYPE_FIELD);
    if (typeId < 0) {
      this.flush();
      this.strings.reset();
      slot = LAYOUT.records >> 3;
      id = this.strings.internJson(txnId, RAW_ID_FIELD);
      typeId = id < 0 ? -1 : this.strings.internJson(type, RAW_TYPE_FIELD);
      if (typeId < 0) throw new RangeError("a malformed line is too long to write");
    }
    const f64 = this.f64;
    f64[slot] = this.notJsonTemplate;
    f64[slot + 1] = id;
    f64[slot + 2] = typeId;
    f64[slot + 3] = tsMs;
    f64[slot + 4] = step ?? NaN;
    if (++this.count === this.recordCapacity) this.flush();
  }

  /** Encodes `item` as the next record (starting the string table over when full); returns its first slot. */
  private encodeNext(item: T): number {
    const slot = (LAYOUT.records >> 3) + this.count * this.recordSlots;
    if (this.encode(item, this.f64, slot, this.strings)) return slot;
    this.flush();
    this.strings.reset();
    if (!this.encode(item, this.f64, LAYOUT.records >> 3, this.strings)) {
      throw new RangeError(`a string field of ${this.program.describe(item)} is too long to write`);
    }
    return LAYOUT.records >> 3;
  }

  /**
   * Formats the record at `slot` alone into the output area (free between flushes: `onChunk`'s
   * receivers copy at once); returns its line's length without the newline, or -1 when the line
   * is not ASCII.
   */
  private formatAlone(slot: number): number {
    if (this.exports.format(slot * 8, 1, LAYOUT.output, LAYOUT.outputEnd) === 0) {
      throw new RangeError("an event line is longer than the line writer's output area");
    }
    const bytes = this.bytes;
    const end = LAYOUT.output + this.resultCell[0]! - 1;
    for (let i = LAYOUT.output; i < end; i++) if (bytes[i]! > 127) return -1;
    return end - LAYOUT.output;
  }

  /** Formats every record held so far and hands the lines to `onChunk`. */
  flush(): void {
    let done = 0;
    while (done < this.count) {
      const formatted = this.exports.format(
        LAYOUT.records + done * this.recordSlots * 8,
        this.count - done,
        LAYOUT.output,
        LAYOUT.outputEnd,
      );
      if (formatted === 0) throw new RangeError("an event line is longer than the line writer's output area");
      done += formatted;
      this.onChunk(this.bytes.subarray(LAYOUT.output, LAYOUT.output + this.resultCell[0]!));
    }
    this.count = 0;
  }

  private writeTemplates(): void {
    const templates = [...this.program.templates, TEXT_LINE, notJsonLine()];
    if (templates.length * 8 > LAYOUT.templateCode - LAYOUT.templateTable) throw new Error("too many line templates");
    const table = new Uint32Array(this.bytes.buffer, LAYOUT.templateTable, templates.length * 2);
    let offset: number = LAYOUT.templateCode;
    templates.forEach(({ code, bound }, index) => {
      if (offset + code.length > LAYOUT.templateCodeEnd) throw new Error("line templates do not fit");
      this.bytes.set(code, offset);
      table[index * 2] = offset;
      table[index * 2 + 1] = bound;
      offset += code.length;
    });
  }
}

/**
 * A truth file's fault records through the line writer. `write` is LineWriter's, as a function of its
 * own: a run with faults has two line writers (events and truth), and the call of the encoder in a
 * shared `write` would see two encoders, be inlined in neither, and slow every event (the faults bench).
 */
export class FaultLineWriter extends LineWriter<FaultRecord> {
  constructor(onChunk: (chunk: Uint8Array) => void) {
    super(onChunk, faultLineProgram());
    checkFaultFields();
  }

  /**
   * A fault record of wfsim's own events from its fields (FaultTruth.writeFields): the record's slots
   * filled as the encoder fills them from an object, with no object made and no field looked up.
   * `kind` indexes FAULT_KINDS (the templates' order); absent numbers are NaN, absent strings undefined.
   */
  writeFields(
    kind: number, txnId: string, type: string, step: number, workflow: string | undefined, seq: number,
    tsMs: number, dueMs: number, emittedMs: number, delayMs: number, offsetMs: number, as: string | undefined,
  ): void {
    let slot = (LAYOUT.records >> 3) + this.count * this.recordSlots;
    if (!this.encodeFields(slot, kind, txnId, type, step, workflow, seq, tsMs, dueMs, emittedMs, delayMs, offsetMs, as)) {
      this.flush();
      this.strings.reset();
      slot = LAYOUT.records >> 3;
      if (!this.encodeFields(slot, kind, txnId, type, step, workflow, seq, tsMs, dueMs, emittedMs, delayMs, offsetMs, as)) {
        throw new RangeError(`a string field of a ${FAULT_KINDS[kind]} fault record is too long to write`);
      }
    }
    if (++this.count === this.recordCapacity) this.flush();
  }

  private encodeFields(
    slot: number, kind: number, txnId: string, type: string, step: number, workflow: string | undefined, seq: number,
    tsMs: number, dueMs: number, emittedMs: number, delayMs: number, offsetMs: number, as: string | undefined,
  ): boolean {
    const f = this.f64;
    const strings = this.strings;
    // Slots and string caches as FAULT_FIELDS and FAULT_STRING_FIELDS place them (checked in the constructor).
    const id = strings.intern(txnId, 0);
    if (id < 0) return false;
    const typeId = strings.intern(type, 1);
    if (typeId < 0) return false;
    let workflowId = NaN;
    if (workflow !== undefined) {
      workflowId = strings.intern(workflow, 3);
      if (workflowId < 0) return false;
    }
    let asId = NaN;
    if (as !== undefined) {
      asId = strings.intern(as, 4);
      if (asId < 0) return false;
    }
    f[slot] = kind;
    f[slot + 1] = id;
    f[slot + 2] = typeId;
    f[slot + 3] = NaN; // record
    f[slot + 4] = step;
    f[slot + 5] = NaN; // attempt
    f[slot + 6] = workflowId;
    f[slot + 7] = seq;
    f[slot + 8] = tsMs;
    f[slot + 9] = dueMs;
    f[slot + 10] = emittedMs;
    f[slot + 11] = delayMs;
    f[slot + 12] = offsetMs;
    f[slot + 13] = asId;
    return true;
  }

  override write(record: FaultRecord): void {
    const slot = (LAYOUT.records >> 3) + this.count * this.recordSlots;
    if (!this.encode(record, this.f64, slot, this.strings)) {
      this.flush();
      this.strings.reset();
      if (!this.encode(record, this.f64, LAYOUT.records >> 3, this.strings)) {
        throw new RangeError(`a string field of ${this.program.describe(record)} is too long to write`);
      }
    }
    if (++this.count === this.recordCapacity) this.flush();
  }
}
