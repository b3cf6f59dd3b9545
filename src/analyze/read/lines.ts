/**
 * The lines of a small side input (an alerts file, a truth file) as strings. Each chunk is decoded
 * before the next is asked for, since sources may reuse their buffers.
 */
import { StringDecoder } from "node:string_decoder";
import { MAX_LINE_BYTES } from "./line-scanner.ts";
import type { EventSource } from "./source.ts";

/** Yields each line without its line break; a line longer than MAX_LINE_BYTES is cut there (it is no valid record anyway). */
export async function* linesOf(source: EventSource): AsyncGenerator<string> {
  const decoder = new StringDecoder("utf8");
  let rest = "";
  let skipping = false;
  let first = true;
  for await (const chunk of source.chunks()) {
    let text = rest + decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    // A byte order mark is not part of the first line.
    if (first && text !== "") {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
    }
    let from = 0;
    for (let newline = text.indexOf("\n"); newline >= 0; newline = text.indexOf("\n", from)) {
      if (!skipping) yield text.charCodeAt(newline - 1) === 13 ? text.slice(from, newline - 1) : text.slice(from, newline);
      skipping = false;
      from = newline + 1;
    }
    rest = text.slice(from);
    if (rest.length > MAX_LINE_BYTES) {
      if (!skipping) yield rest.slice(0, MAX_LINE_BYTES);
      skipping = true;
      rest = "";
    }
  }
  rest += decoder.end();
  if (rest !== "" && !skipping) yield rest;
}
