/**
 * From bytes to events: splits JSON Lines, reads each line and hands its event to a handler, without
 * building an object or a string per line.
 *
 * Two paths read a line. The fast path matches the exact layouts producers write (wfsim's compact
 * `{"type":"step_open","txn_id":...}` and Python's `json.dumps` spacing `{"type": "step_open", ...}`),
 * field by field in schema order, straight from the bytes, and validates what it extracts (digits,
 * bounds, string contents). Whenever a line is anything else (other field order, extra fields,
 * escapes, non-ASCII ids, numbers with fractions, junk), the fast path gives up without a verdict and
 * the strict path decides: JSON.parse plus the schema check. So the fast path changes how quickly a
 * line is read, never what is concluded from it.
 *
 * Memory: the scanner keeps at most one partial line between chunks, and no line longer than
 * MAX_LINE_BYTES.
 */
import { checkEvent, EVENT_SPECS, loadRegisters, REGISTER_COUNT, TEXT_REGISTER_COUNT, type FieldSpec } from "./event-fields.ts";

/** Lines longer than this are reported as invalid and skipped, so that one bad line cannot take all memory. */
export const MAX_LINE_BYTES = 1 << 20;

export interface EventHandler {
  /**
   * A valid event of a known type: its numbers and booleans are in `scanner.regs`, its txn_id is the
   * bytes [idStart, idEnd) of `bytes` (UTF-8), `hash` their FNV-1a hash.
   */
  event(code: number, bytes: Buffer, idStart: number, idEnd: number, hash: number): void;
  /** A well-formed event of a type the analyzer does not know: counted, not analysed. */
  unknownType(type: string): void;
  /** A line that is not a valid event. */
  invalid(reason: string): void;
  /** The event carried fields beyond its definition (tolerated). */
  extraFields(): void;
}

// Byte-level layout of one event type as a producer writes it: literals and typed holes.
const KIND_INT = 0;
const KIND_BOOL = 1;
const KIND_STRING = 2;
const KIND_ID = 3;
const KIND_END = 4;
/** Nothing but the literal (what closes an object before an optional field). */
const KIND_LITERAL = 5;

interface Op {
  /** Bytes that must come first, e.g. `,"ts_ms":`. */
  readonly literal: Uint8Array;
  readonly kind: number;
  /** Register the value goes to, or -1 when it is only validated. */
  readonly register: number;
  /** Text register a string goes to, or -1. */
  readonly text: number;
  readonly minimum: number;
  readonly minLength: number;
  /** An optional field: when its literal is not there, the field is absent and the next op is tried. */
  readonly optional: boolean;
}

interface Layout {
  readonly code: number;
  readonly typeName: Uint8Array;
  readonly ops: readonly Op[];
}

const encoder = new TextEncoder();

function compileLayout(code: number, type: string, fields: readonly FieldSpec[], spaced: boolean): Layout {
  const comma = spaced ? ", " : ",";
  const colon = spaced ? ": " : ":";
  const ops: Op[] = [];
  let pending = "";
  const hole = (kind: number, field: FieldSpec) => {
    ops.push({
      literal: encoder.encode(pending),
      kind,
      register: field.register,
      text: field.text,
      minimum: field.minimum ?? -Infinity,
      minLength: field.minLength ?? 0,
      optional: !field.required,
    });
    pending = "";
  };
  const walk = (list: readonly FieldSpec[], first: boolean, topLevel: boolean) => {
    list.forEach((field, index) => {
      // An optional field's literal must stand alone, so that its absence skips exactly that field.
      if (!field.required && pending !== "") {
        ops.push({ literal: encoder.encode(pending), kind: KIND_LITERAL, register: -1, text: -1, minimum: 0, minLength: 0, optional: false });
        pending = "";
      }
      pending += `${index === 0 && first ? "" : comma}${JSON.stringify(field.name)}${colon}`;
      if (field.type === "object") {
        pending += "{";
        walk(field.fields ?? [], true, false);
        pending += "}";
      } else if (field.type === "integer") hole(KIND_INT, field);
      else if (field.type === "boolean") hole(KIND_BOOL, field);
      else if (topLevel && field.name === "txn_id") hole(KIND_ID, field);
      else hole(KIND_STRING, field);
    });
  };
  walk(fields, false, true);
  pending += "}";
  ops.push({ literal: encoder.encode(pending), kind: KIND_END, register: -1, text: -1, minimum: 0, minLength: 0, optional: false });
  return { code, typeName: encoder.encode(type), ops };
}

const COMPACT = EVENT_SPECS.map((spec) => compileLayout(spec.code, spec.type, spec.fields, false));
const SPACED = EVENT_SPECS.map((spec) => compileLayout(spec.code, spec.type, spec.fields, true));
/** `{"type":` */
const HEAD = encoder.encode('{"type":');

/** FNV-1a over bytes: the txn table's hash, the same whichever path read the line. */
export function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5 | 0;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 16777619);
  return h;
}

export class LineScanner {
  /** Numeric and boolean fields of the event being handed over (see event-fields.ts for the slots). */
  readonly regs = new Float64Array(REGISTER_COUNT);
  // The strings the analysis reads, of the event being handed over: a byte range of the line (fast
  // path, start -1 when absent), or a parsed string (strict path). Read with `text()`.
  private readonly textStart = new Int32Array(TEXT_REGISTER_COUNT);
  private readonly textEnd = new Int32Array(TEXT_REGISTER_COUNT);
  private textBytes: Buffer = Buffer.alloc(0);
  private readonly parsedTexts: (string | undefined)[] = new Array<string | undefined>(TEXT_REGISTER_COUNT).fill(undefined);
  private parsed = false;
  /** 1-based number of the line being read, within the current source. */
  line = 0;
  /** Lines read by the fast path (for the curious and for tests). */
  fastLines = 0;
  private readonly handler: EventHandler;
  private carry: Buffer = Buffer.allocUnsafe(4096);
  private carryLength = 0;
  /** Skipping the rest of a line that grew past MAX_LINE_BYTES. */
  private skipping = false;
  private lastLine = false;
  /** Nothing of the current source read yet. */
  private atStart = true;
  // Set by the value readers: where the value ended, and the id's hash.
  private cursor = 0;
  private idHash = 0;

  constructor(handler: EventHandler) {
    this.handler = handler;
  }

  /** Starts a new source: line numbers restart at 1; a partial line left over is read as the previous source's last. */
  reset(): void {
    this.end();
    this.line = 0;
    this.atStart = true;
  }

  /** Reads a chunk; the lines may break anywhere across chunks. */
  push(chunk: Uint8Array): void {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let from = 0;
    if (this.atStart && bytes.length > 0) {
      // A byte order mark, as some Windows tools write before UTF-8 text: not part of the first line.
      if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) from = 3;
      this.atStart = false;
    }
    if (this.carryLength > 0 || this.skipping) {
      const newline = bytes.indexOf(10);
      if (newline < 0) {
        this.keep(bytes, 0, bytes.length);
        return;
      }
      this.keep(bytes, 0, newline + 1);
      if (this.skipping) {
        this.skipping = false;
      } else {
        this.scan(this.carry, 0, this.carryLength);
      }
      this.carryLength = 0;
      from = newline + 1;
    }
    const last = bytes.lastIndexOf(10);
    if (last >= from) {
      this.scan(bytes, from, last + 1);
      from = last + 1;
    }
    if (from < bytes.length) this.keep(bytes, from, bytes.length);
  }

  /**
   * Reads one whole line in place: the bytes [start, end) of `bytes`, where bytes[end] is a newline
   * (a Kafka record's value, see LineRanges). Between whole lines only; anything carried goes first.
   */
  pushLine(bytes: Buffer, start: number, end: number): void {
    if (this.carryLength > 0 || this.skipping) {
      this.push(bytes.subarray(start, end + 1));
      return;
    }
    this.atStart = false;
    this.scan(bytes, start, end + 1);
  }

  /** The input has ended: a last line without a newline is read now (and called truncated if it is invalid). */
  end(): void {
    if (this.skipping) {
      this.skipping = false;
      this.carryLength = 0;
      return;
    }
    if (this.carryLength === 0) return;
    this.keep(Buffer.from("\n"), 0, 1);
    this.lastLine = true;
    try {
      this.scan(this.carry, 0, this.carryLength);
    } finally {
      this.lastLine = false;
      this.carryLength = 0;
    }
  }

  private keep(bytes: Buffer, from: number, to: number): void {
    if (this.skipping) return;
    const length = to - from;
    // The limit is on the line without its newline, whichever way the chunks fell.
    if (this.carryLength + length - (bytes[to - 1] === 10 ? 1 : 0) > MAX_LINE_BYTES) {
      this.line++;
      this.handler.invalid(`line longer than ${MAX_LINE_BYTES} bytes, skipped`);
      this.carryLength = 0;
      // The line may end inside this very piece.
      this.skipping = bytes[to - 1] !== 10;
      return;
    }
    if (this.carryLength + length > this.carry.length) {
      const bigger = Buffer.allocUnsafe(Math.min(MAX_LINE_BYTES + 2, Math.max(this.carry.length * 2, this.carryLength + length)));
      this.carry.copy(bigger, 0, 0, this.carryLength);
      this.carry = bigger;
    }
    bytes.copy(this.carry, this.carryLength, from, to);
    this.carryLength += length;
  }

  /** Reads the whole lines in [from, to); bytes[to - 1] is a newline. */
  private scan(bytes: Buffer, from: number, to: number): void {
    let p = from;
    while (p < to) {
      this.line++;
      const next = this.fast(bytes, p);
      if (next > 0) {
        this.fastLines++;
        p = next;
        continue;
      }
      const newline = bytes.indexOf(10, p);
      this.strict(bytes, p, newline);
      p = newline + 1;
    }
  }

  /** Reads one line the fast way; returns where the next line starts, or -1 to leave it to `strict`. */
  private fast(b: Buffer, start: number): number {
    for (let i = 0; i < 8; i++) if (b[start + i] !== HEAD[i]) return -1;
    let p = start + 8;
    let layouts = COMPACT;
    if (b[p] === 32) {
      layouts = SPACED;
      p++;
    }
    if (b[p] !== 34) return -1;
    p++;
    const nameStart = p;
    while (b[p] !== 34) {
      if (p - nameStart > 64 || b[p]! < 32) return -1;
      p++;
    }
    const nameLength = p - nameStart;
    p++;
    let layout: Layout | undefined;
    for (let l = 0; l < layouts.length; l++) {
      const candidate = layouts[l]!;
      const name = candidate.typeName;
      if (name.length !== nameLength) continue;
      let same = true;
      for (let i = 0; i < nameLength; i++) {
        if (b[nameStart + i] !== name[i]) {
          same = false;
          break;
        }
      }
      if (same) {
        layout = candidate;
        break;
      }
    }
    if (layout === undefined) return -1;
    const regs = this.regs;
    const ops = layout.ops;
    this.textStart.fill(-1);
    let idStart = -1;
    let idEnd = -1;
    for (let o = 0; o < ops.length; o++) {
      const op = ops[o]!;
      const literal = op.literal;
      let matches = true;
      for (let i = 0; i < literal.length; i++) {
        if (b[p + i] !== literal[i]) {
          matches = false;
          break;
        }
      }
      if (!matches) {
        // Absent optional fields leave their register NaN, as the strict path does.
        if (!op.optional) return -1;
        if (op.register >= 0) regs[op.register] = NaN;
        continue;
      }
      p += literal.length;
      switch (op.kind) {
        case KIND_INT: {
          const value = this.readInt(b, p, op.minimum);
          if (this.cursor < 0) return -1;
          if (op.register >= 0) regs[op.register] = value;
          p = this.cursor;
          break;
        }
        case KIND_BOOL:
          if (b[p] === 116 && b[p + 1] === 114 && b[p + 2] === 117 && b[p + 3] === 101) {
            if (op.register >= 0) regs[op.register] = 1;
            p += 4;
          } else if (b[p] === 102 && b[p + 1] === 97 && b[p + 2] === 108 && b[p + 3] === 115 && b[p + 4] === 101) {
            if (op.register >= 0) regs[op.register] = 0;
            p += 5;
          } else return -1;
          break;
        case KIND_ID:
          idStart = p + 1;
          p = this.readString(b, p, op.minLength, true);
          if (p < 0) return -1;
          idEnd = p - 1;
          break;
        case KIND_STRING: {
          const start = p + 1;
          p = this.readString(b, p, op.minLength, false);
          if (p < 0) return -1;
          if (op.text >= 0) {
            this.textStart[op.text] = start;
            this.textEnd[op.text] = p - 1;
          }
          break;
        }
        case KIND_LITERAL:
          break;
        default: {
          // KIND_END: the closing brace was the literal; then the line's end.
          if (b[p] === 13) p++;
          if (b[p] !== 10 || p - start > MAX_LINE_BYTES) return -1;
          this.textBytes = b;
          this.parsed = false;
          this.handler.event(layout.code, b, idStart, idEnd, this.idHash);
          return p + 1;
        }
      }
    }
    return -1;
  }

  /** A string field of the event being handed over (see X in event-fields.ts), undefined when absent. Valid during `event()` only. */
  text(register: number): string | undefined {
    if (this.parsed) return this.parsedTexts[register];
    const start = this.textStart[register]!;
    // The fast path reads strings without escapes only: their bytes are their UTF-8.
    return start < 0 ? undefined : this.textBytes.toString("utf8", start, this.textEnd[register]);
  }

  /**
   * A JSON integer the way JSON.stringify writes a safe integer: optional minus, no leading zeros, at
   * most 15 digits (so the value is exact). Sets `cursor` after it, or to -1 to give up.
   */
  private readInt(b: Buffer, p: number, minimum: number): number {
    let negative = false;
    if (b[p] === 45) {
      negative = true;
      p++;
    }
    const first = p;
    let c = b[p]!;
    if (c === 48) {
      p++;
      c = b[p]!;
      if (c >= 48 && c <= 57) {
        this.cursor = -1;
        return 0;
      }
      // "-0" is left to the strict path, and so is a 0 below the field's minimum.
      this.cursor = negative || minimum > 0 ? -1 : p;
      return 0;
    }
    let value = 0;
    while (c >= 48 && c <= 57) {
      value = value * 10 + (c - 48);
      c = b[++p]!;
    }
    const digits = p - first;
    if (digits === 0 || digits > 15) {
      this.cursor = -1;
      return 0;
    }
    if (negative) value = -value;
    this.cursor = value < minimum ? -1 : p;
    return value;
  }

  /**
   * A JSON string without escapes; returns the position after its closing quote, or -1 to give up.
   * An id must be ASCII too (the strict path handles the rest), and its hash is kept in `idHash`.
   */
  private readString(b: Buffer, p: number, minLength: number, id: boolean): number {
    if (b[p] !== 34) return -1;
    const start = ++p;
    let h = 0x811c9dc5 | 0;
    let ascii = true;
    for (;;) {
      const c = b[p]!;
      if (c === 34) break;
      if (c === 92 || c < 32) return -1;
      if (c >= 128) {
        if (id) return -1;
        ascii = false;
      }
      if (id) h = Math.imul(h ^ c, 16777619);
      p++;
    }
    const length = p - start;
    if (length < minLength && (minLength > 0 || !ascii)) return -1;
    if (minLength > 1 && !ascii) return -1;
    if (id) this.idHash = h;
    return p + 1;
  }

  /** Reads one line [start, end) with JSON.parse and the schema check; end is its newline. */
  private strict(b: Buffer, start: number, end: number): void {
    if (end - start > MAX_LINE_BYTES) {
      this.handler.invalid(`line longer than ${MAX_LINE_BYTES} bytes, skipped`);
      return;
    }
    if (end > start && b[end - 1] === 13) end--;
    const text = b.toString("utf8", start, end);
    if (text.trim() === "") return; // blank lines separate nothing and mean nothing
    const truncated = this.lastLine ? "last line has no newline (truncated?): " : "";
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      this.handler.invalid(`${truncated}not valid JSON (${(error as Error).message})`);
      return;
    }
    const checked = checkEvent(value);
    switch (checked.kind) {
      case "invalid":
        this.handler.invalid(`${truncated}${checked.reason}`);
        return;
      case "unknown":
        this.handler.unknownType(checked.type);
        return;
      case "event": {
        loadRegisters(checked.spec, value as Record<string, unknown>, this.regs, this.parsedTexts);
        this.parsed = true;
        if (checked.extraFields) this.handler.extraFields();
        const id = Buffer.from(checked.txnId, "utf8");
        this.handler.event(checked.spec.code, id, 0, id.length, hashBytes(id, 0, id.length));
      }
    }
  }
}
