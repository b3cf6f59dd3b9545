/**
 * Shaped records as JSON Lines through the WebAssembly line writer, the fast path of a shaped run:
 * each (record type, moment) becomes a line template (constant text joined at compile time, holes for
 * what varies) and a generated encoder that copies the varying values into a numeric record. Numbers,
 * booleans and times are formatted in WebAssembly; text is interned once per table and copied. Per
 * record the JavaScript side does a handful of stores, with no string built and nothing interpreted.
 *
 * Writes byte for byte what the compiled JavaScript serializers (json-code.ts) write; a test holds
 * the two equal.
 */
import type { Placeholder, Shape, Template, ValueNode } from "../../config/shape/model.ts";
import type { Emission, TxnContext } from "../../engine/shape/shaper.ts";
import type { WfEvent } from "../../events/schema.ts";
import type { EventLineWriter } from "../fast-jsonl/fd-jsonl-sink.ts";
import { OPS, SHAPED_RECORD_SLOTS } from "../fast-jsonl/layout.ts";
import { LineWriter, type LineProgram, type StringTable } from "../fast-jsonl/line-writer.ts";
import type { CodeHelpers } from "./json-code.ts";
import { valueCode } from "./lifecycle-code.ts";
import type { ShapedPlans } from "./plans.ts";

const encoder = new TextEncoder();

type EmissionEncoder = (e: WfEvent, c: TxnContext, f: Float64Array, r: number, s: StringTable, T: CodeHelpers) => boolean;

/** Thrown when a record needs more varying values than a numeric record holds (then the JavaScript writer is used). */
export class TooManyFields extends Error {}

interface Compiled {
  readonly code: number[];
  readonly bound: number;
  readonly encode: EmissionEncoder;
  /** Slots its records use (the template index and the values). */
  readonly slots: number;
}

function u16(value: number): [number, number] {
  return [value & 0xff, value >> 8];
}

/** One emission's template and encoder. */
function compileEmission(plans: ShapedPlans, emission: Emission, templateIndex: number): Compiled {
  const shape = plans.shaper.shape;
  const stream = plans.shaper.settings;
  const code: number[] = [];
  const lines: string[] = [`f[r] = ${templateIndex};`];
  let bound = 0;
  let text = "";
  let slot = 1;
  const takeSlot = (): number => {
    if (slot >= SHAPED_RECORD_SLOTS) throw new TooManyFields(`${emission.record.path}: more than ${SHAPED_RECORD_SLOTS - 1} varying values in one record`);
    return slot++;
  };
  const flush = () => {
    const bytes = encoder.encode(text);
    text = "";
    for (let at = 0; at < bytes.length; at += 0xffff) {
      const part = bytes.subarray(at, at + 0xffff);
      code.push(OPS.LIT, ...u16(part.length), ...part);
      bound += part.length;
    }
  };
  const hole = (op: number, valueBound: number, assign: (slot: number) => string) => {
    flush();
    const s = takeSlot();
    code.push(op, s);
    bound += valueBound;
    lines.push(assign(s));
  };
  const internText = (expression: string) => (s: number) => `x = s.intern(${expression}, ${s}); if (x < 0) return false; f[r + ${s}] = x;`;
  // Text fixed for a whole transaction (its id, its attributes) recurs on each of its records: its
  // id in the string table is kept in the transaction's context while the table lasts. The cache is
  // checked against the table once per record (the preamble), not once per value.
  let cached = false;
  const internOnce = (expression: string, key: number) => (s: number) => {
    cached = true;
    return `x = w[${key + 1}]; if (x === undefined) { x = s.intern(${expression}, ${s}); if (x < 0) return false; w[${key + 1}] = x; } f[r + ${s}] = x;`;
  };
  const rawText = (template: Template): string | undefined => {
    let out = "";
    for (const part of template.parts) {
      if (typeof part === "string") {
        out += ` + ${JSON.stringify(part)}`;
        continue;
      }
      const source = valueCode(part, emission, shape, stream);
      if (source.kind === "unknown") return undefined;
      const value = source.kind === "constant" ? JSON.stringify(String(source.value)) : `String(${source.code})`;
      out += part.pad === undefined ? ` + ${value}` : ` + ${value}.padStart(${part.pad}, "0")`;
    }
    return `""${out}`;
  };
  /** Writes `node`; false when it has no value at this moment (its field is left out). */
  const known = (node: ValueNode): boolean => {
    if (node.kind === "value") return valueCode(node.placeholder, emission, shape, stream).kind !== "unknown";
    if (node.kind === "text") return rawText(node.template) !== undefined;
    return true;
  };
  const write = (node: ValueNode): void => {
    switch (node.kind) {
      case "constant":
        text += JSON.stringify(node.value);
        return;
      case "object": {
        text += "{";
        let first = true;
        for (const field of node.fields) {
          if (!known(field.value)) continue;
          text += `${first ? "" : ","}${JSON.stringify(field.name)}:`;
          write(field.value);
          first = false;
        }
        text += "}";
        return;
      }
      case "list":
        text += "[";
        node.items.forEach((item, i) => {
          if (i > 0) text += ",";
          if (known(item)) write(item);
          else text += "null";
        });
        text += "]";
        return;
      case "text": {
        const raw = rawText(node.template)!;
        hole(OPS.STR, 0, internText(raw));
        return;
      }
      case "value": {
        const source = valueCode(node.placeholder, emission, shape, stream);
        const pad = node.placeholder.pad;
        if (source.kind === "unknown") return;
        if (source.kind === "constant") {
          text += JSON.stringify(pad === undefined ? source.value : String(source.value).padStart(pad, "0"));
          return;
        }
        if (pad !== undefined) {
          hole(OPS.STR, 0, internText(`String(${source.code}).padStart(${pad}, "0")`));
          return;
        }
        const placeholder = node.placeholder;
        if (placeholder.source === "lifecycle" && placeholder.name === "time" && (placeholder.time === "iso" || placeholder.time === "iso_utc")) {
          flush();
          const ms = takeSlot();
          const offset = takeSlot();
          code.push(OPS.ISO, ms, offset);
          bound += 31;
          const offsetCode = placeholder.time === "iso" ? "T.zone.offsetMinutes(e.ts_ms)" : "0";
          lines.push(`f[r + ${ms}] = e.ts_ms; f[r + ${offset}] = ${offsetCode};`);
          return;
        }
        switch (source.type) {
          case "integer":
            hole(OPS.INT, 21, (s) => `f[r + ${s}] = ${source.code};`);
            return;
          case "boolean":
            hole(OPS.BOOL, 5, (s) => `f[r + ${s}] = ${source.code} ? 1 : 0;`);
            return;
          case "number":
            // Decimals are formatted by JavaScript (its shortest form), integral values by the writer.
            hole(OPS.STR, 0, (s) => `x = s.internJson(String(${source.code}), ${s}); if (x < 0) return false; f[r + ${s}] = x;`);
            return;
          case "string": {
            const key = transactionKey(placeholder, shape);
            hole(OPS.STR, 0, key === undefined ? internText(source.code) : internOnce(source.code, key));
            return;
          }
        }
      }
    }
  };
  write(emission.record.value);
  text += "\n";
  flush();
  code.push(OPS.END);
  const preamble = cached ? "w = c.writerCache; if (w[0] !== s.generation) { w.length = 0; w[0] = s.generation; } " : "";
  const encode = new Function("e", "c", "f", "r", "s", "T", `let x, w; ${preamble}${lines.join(" ")} return true;`) as EmissionEncoder;
  return { code, bound, encode, slots: slot };
}

/** A key for a string value that stays the same for a whole transaction: 0 for its id, 1 + i for attribute i. */
function transactionKey(placeholder: Placeholder, shape: Shape): number | undefined {
  if (placeholder.source === "lifecycle") return placeholder.name === "txn_id" ? 0 : undefined;
  return shape.attributes[placeholder.index]!.scope === "transaction" ? 1 + placeholder.index : undefined;
}

/** A shape's line program: one template per emission, and `select` says which the next record is. */
export interface ShapedLineProgram extends LineProgram<WfEvent> {
  select(emission: number): void;
}

/** The line program of a shape, or undefined when a record does not fit the writer's records. */
export function shapedLineProgram(plans: ShapedPlans): ShapedLineProgram | undefined {
  let compiled: Compiled[];
  try {
    compiled = plans.shaper.emissions.map((emission, index) => compileEmission(plans, emission, index));
  } catch (error) {
    if (error instanceof TooManyFields) return undefined;
    throw error;
  }
  const shaper = plans.shaper;
  const helpers = plans.helpers;
  let current: Compiled = compiled[0]!;
  // Records as wide as the widest template needs (8 bytes a slot, a power of two), not the widest
  // allowed: a batch of records then holds more of them and touches less memory.
  const slots = Math.max(8, ...compiled.map((c) => c.slots));
  return {
    templates: compiled,
    recordShift: Math.ceil(Math.log2(slots * 8)),
    describe: (event) => `a record at ${event.type}`,
    encode: (event, f, r, s) => current.encode(event, shaper.current, f, r, s, helpers),
    select(index: number) {
      current = compiled[index]!;
    },
  };
}

export class ShapedWasmLines implements EventLineWriter {
  private readonly plans: ShapedPlans;
  private readonly lines: LineWriter<WfEvent>;
  private readonly program: ShapedLineProgram;
  /** Records written so far. */
  records = 0;

  constructor(plans: ShapedPlans, program: ShapedLineProgram, onChunk: (chunk: Uint8Array) => void) {
    this.plans = plans;
    this.program = program;
    this.lines = new LineWriter(onChunk, program);
  }

  write(event: WfEvent): void {
    const shaper = this.plans.shaper;
    const emissions = shaper.enter(event);
    for (let i = 0; i < emissions.length; i++) {
      const emission = emissions[i]!;
      if (shaper.drawsPerRecord) shaper.beforeRecord(emission);
      this.program.select(emission.index);
      this.lines.write(event);
      this.records++;
    }
  }

  flush(): void {
    this.lines.flush();
  }
}
