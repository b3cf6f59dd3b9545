/**
 * Shaped records as JSON Lines, written by the compiled JavaScript serializers: the writer behind
 * `--routing` (each line a record with its Kafka topic, key and headers), and a plain reference for
 * the WebAssembly writer.
 */
import type { WfEvent } from "../../events/schema.ts";
import type { EventLineWriter } from "../fast-jsonl/fd-jsonl-sink.ts";
import type { ShapedPlans } from "./plans.ts";

/** Characters gathered before a chunk is handed on. */
const CHUNK_CHARS = 256 * 1024;


export class ShapedJsLines implements EventLineWriter {
  private readonly plans: ShapedPlans;
  private readonly onChunk: (chunk: Uint8Array) => void;
  private readonly routing: boolean;
  private text = "";
  /** Records written so far. */
  records = 0;

  constructor(plans: ShapedPlans, onChunk: (chunk: Uint8Array) => void, { routing = false }: { routing?: boolean } = {}) {
    this.plans = plans;
    this.onChunk = onChunk;
    this.routing = routing;
  }

  write(event: WfEvent): void {
    const shaper = this.plans.shaper;
    const emissions = shaper.enter(event);
    if (emissions.length === 0) return;
    const context = shaper.current;
    const helpers = this.plans.helpers;
    for (const emission of emissions) {
      if (shaper.drawsPerRecord) shaper.beforeRecord(emission);
      const plan = this.plans.plans[emission.index]!;
      const value = plan.serialize(event, context, helpers);
      if (this.routing) {
        let headers = "";
        for (const header of plan.headers) {
          const text = header.constant ?? header.render!(event, context, helpers);
          headers += `${headers === "" ? "" : ","}${JSON.stringify(header.name)}:${JSON.stringify(text)}`;
        }
        const key = JSON.stringify(plan.key(event, context, helpers));
        this.text += `{"topic":${JSON.stringify(plan.topic)},"key":${key},"headers":{${headers}},"timestamp":${event.ts_ms},"value":${value}}\n`;
      } else {
        this.text += `${value}\n`;
      }
      this.records++;
    }
    if (this.text.length >= CHUNK_CHARS) this.flush();
  }

  flush(): void {
    if (this.text === "") return;
    const chunk = Buffer.from(this.text, "utf8");
    this.text = "";
    this.onChunk(chunk);
  }
}
