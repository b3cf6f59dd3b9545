/**
 * Everything a writer needs per (record type, moment), compiled once per run from the shape: the
 * record's serializer, its topic, how to make its key, its headers.
 */
import type { Shape } from "../../config/shape/model.ts";
import { topicOf } from "../../config/shape/resolve.ts";
import type { Emission, Shaper, TxnContext } from "../../engine/shape/shaper.ts";
import type { WfEvent } from "../../events/schema.ts";
import { codeHelpers, JsonCompiler, type CodeHelpers, type RecordSerializer, type TextRenderer } from "./json-code.ts";

export interface HeaderPlan {
  readonly name: string;
  /** The value when it is the same at every event of the moment; else `render` makes it. */
  readonly constant: string | undefined;
  readonly render: TextRenderer | undefined;
}

export interface EmissionPlan {
  readonly emission: Emission;
  readonly serialize: RecordSerializer;
  readonly topic: string;
  /** Index in Shape.topics. */
  readonly topicIndex: number;
  /** The key's text (fixed for a transaction: see the shape's key rules). */
  readonly key: TextRenderer;
  /** Index of the record type's key template among the shape's distinct keys (a transaction caches each once). */
  readonly keyIndex: number;
  readonly headers: readonly HeaderPlan[];
}

export class ShapedPlans {
  readonly shaper: Shaper;
  readonly plans: readonly EmissionPlan[];
  readonly helpers: CodeHelpers;
  /** Distinct key templates, by text. */
  readonly keyCount: number;

  constructor(shaper: Shaper) {
    this.shaper = shaper;
    const shape: Shape = shaper.shape;
    const compiler = new JsonCompiler(shape, shaper.settings);
    this.helpers = codeHelpers(shaper.zone);
    const keyTexts: string[] = [];
    this.plans = shaper.emissions.map((emission) => {
      const record = emission.record;
      const topic = topicOf(record, shape.workflows[emission.moment.workflow]!.name);
      if (!keyTexts.includes(record.key.text)) keyTexts.push(record.key.text);
      return {
        emission,
        serialize: compiler.serializer(emission),
        topic,
        topicIndex: shape.topics.indexOf(topic),
        key: compiler.text(record.key, emission)!,
        keyIndex: keyTexts.indexOf(record.key.text),
        headers: record.headers.map((header) => {
          const constant = compiler.constantText(header.value, emission);
          return { name: header.name, constant, render: constant === undefined ? compiler.text(header.value, emission) : undefined };
        }),
      };
    });
    this.keyCount = keyTexts.length;
  }

  /** The JSON text of one record (no newline): for samples, tests and the library. */
  json(plan: EmissionPlan, event: WfEvent, context: TxnContext): string {
    return plan.serialize(event, context, this.helpers);
  }
}
