/**
 * Compiles each (record type, moment) of a shape into a JavaScript function that writes the record's
 * JSON text: constant text is joined at compile time, every value is read straight from the event or
 * the transaction's context, and fields unknown at the moment are left out before the function
 * exists. Writing a record is then one string concatenation, with nothing looked up or interpreted.
 *
 * The WebAssembly line writer (wasm-templates.ts) writes the same bytes from the same shape; a test
 * holds the two equal.
 */
import type { Shape, Template, ValueNode } from "../../config/shape/model.ts";
import type { Emission, TxnContext } from "../../engine/shape/shaper.ts";
import type { WfEvent } from "../../events/schema.ts";
import { isoUtc, type ZonedTime } from "../../events/iso-time.ts";
import { valueCode } from "./lifecycle-code.ts";
import type { StreamKind } from "../../config/shape/lifecycle.ts";

/** What generated code may call. */
export interface CodeHelpers {
  readonly zone: ZonedTime;
  readonly isoUtc: (ms: number) => string;
}

export function codeHelpers(zone: ZonedTime): CodeHelpers {
  return { zone, isoUtc };
}

/** A record's JSON text, without a newline. */
export type RecordSerializer = (e: WfEvent, c: TxnContext, T: CodeHelpers) => string;
/** A template's text (a key, a header value). */
export type TextRenderer = (e: WfEvent, c: TxnContext, T: CodeHelpers) => string;

/** A piece of generated output: constant text, or an expression that evaluates to text. */
type Piece = { readonly text: string } | { readonly code: string };

export class JsonCompiler {
  private readonly shape: Shape;
  private readonly stream: StreamKind;

  constructor(shape: Shape, stream: StreamKind) {
    this.shape = shape;
    this.stream = stream;
  }

  /** The serializer of `emission`'s records. */
  serializer(emission: Emission): RecordSerializer {
    const pieces = this.node(emission.record.value, emission) ?? [{ text: "{}" }];
    return new Function("e", "c", "T", `return ${joinPieces(pieces)};`) as RecordSerializer;
  }

  /** A template's raw text at `emission`'s moment; undefined when one of its values is unknown there. */
  text(template: Template, emission: Emission): TextRenderer | undefined {
    const raw = this.rawText(template, emission);
    if (raw === undefined) return undefined;
    return new Function("e", "c", "T", `return ${joinPieces(raw.pieces)};`) as TextRenderer;
  }

  /** The same template's text, when it is the same at every event of the moment (no per-event value). */
  constantText(template: Template, emission: Emission): string | undefined {
    const raw = this.rawText(template, emission);
    if (raw === undefined || raw.pieces.some((piece) => "code" in piece)) return undefined;
    return raw.pieces.map((piece) => (piece as { text: string }).text).join("");
  }

  /** JSON of `node` as pieces; undefined when the node is unknown at the moment. */
  node(node: ValueNode, emission: Emission): Piece[] | undefined {
    switch (node.kind) {
      case "constant":
        return [{ text: JSON.stringify(node.value) }];
      case "object": {
        const pieces: Piece[] = [{ text: "{" }];
        let first = true;
        for (const field of node.fields) {
          const value = this.node(field.value, emission);
          if (value === undefined) continue;
          pieces.push({ text: `${first ? "" : ","}${JSON.stringify(field.name)}:` }, ...value);
          first = false;
        }
        pieces.push({ text: "}" });
        return pieces;
      }
      case "list": {
        const pieces: Piece[] = [{ text: "[" }];
        node.items.forEach((item, i) => {
          if (i > 0) pieces.push({ text: "," });
          pieces.push(...(this.node(item, emission) ?? [{ text: "null" }]));
        });
        pieces.push({ text: "]" });
        return pieces;
      }
      case "value": {
        const source = valueCode(node.placeholder, emission, this.shape, this.stream);
        const pad = node.placeholder.pad;
        if (source.kind === "unknown") return undefined;
        if (source.kind === "constant") {
          const value = pad === undefined ? source.value : String(source.value).padStart(pad, "0");
          return [{ text: JSON.stringify(value) }];
        }
        if (pad !== undefined) return [{ text: '"' }, { code: `String(${source.code}).padStart(${pad}, "0")` }, { text: '"' }];
        switch (source.type) {
          case "string":
            return source.safeText ? [{ text: '"' }, { code: source.code }, { text: '"' }] : [{ code: `JSON.stringify(${source.code})` }];
          case "boolean":
            return [{ code: `(${source.code} ? "true" : "false")` }];
          default:
            return [{ code: `String(${source.code})` }];
        }
      }
      case "text": {
        const raw = this.rawText(node.template, emission);
        if (raw === undefined) return undefined;
        if (raw.safe) return [{ text: '"' }, ...raw.pieces.map((p) => ("text" in p ? { text: JSON.stringify(p.text).slice(1, -1) } : p)), { text: '"' }];
        return [{ code: `JSON.stringify(${joinPieces(raw.pieces)})` }];
      }
    }
  }

  /** A template's raw text as pieces, and whether it needs no JSON escaping beyond its constant parts. */
  private rawText(template: Template, emission: Emission): { pieces: Piece[]; safe: boolean } | undefined {
    const pieces: Piece[] = [];
    let safe = true;
    for (const part of template.parts) {
      if (typeof part === "string") {
        pieces.push({ text: part });
        continue;
      }
      const source = valueCode(part, emission, this.shape, this.stream);
      if (source.kind === "unknown") return undefined;
      if (source.kind === "constant") {
        const text = String(source.value);
        pieces.push({ text: part.pad === undefined ? text : text.padStart(part.pad, "0") });
        continue;
      }
      if (!source.safeText) safe = false;
      pieces.push({ code: part.pad === undefined ? `String(${source.code})` : `String(${source.code}).padStart(${part.pad}, "0")` });
    }
    return { pieces, safe };
  }
}

/** Pieces as one JavaScript expression, adjacent constant text joined. */
function joinPieces(pieces: readonly Piece[]): string {
  const merged: Piece[] = [];
  for (const piece of pieces) {
    const last = merged.at(-1);
    if ("text" in piece && last !== undefined && "text" in last) merged[merged.length - 1] = { text: last.text + piece.text };
    else merged.push(piece);
  }
  if (merged.length === 0) return '""';
  return merged.map((piece) => ("text" in piece ? JSON.stringify(piece.text) : `(${piece.code})`)).join(" + ");
}
