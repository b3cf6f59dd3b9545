/**
 * @platformatic/kafka, loaded when first asked for. Importing it costs about 0.3 s of CPU and 60 MB
 * of RSS (its protocol tables alone 22 MB), a fifth of a whole `analyze --kafka-bootstrap` of 1.6
 * million events, and a read over wfsim's own connections (no SASL) needs it only for what is rare:
 * a compressed batch's codecs, an error an answer carries (turned into the client's ResponseError,
 * so that messages and retries stay as they are), a CRC where the native one is missing.
 *
 * Loaded with require (an ES module required synchronously, Node 22.12 and later), so that
 * synchronous code such as the batch decoder can ask for it; it is the same module instance an
 * `import` of the package gets. Modules that always need the client (the producer, the group
 * member) import it as usual.
 */
import { createRequire } from "node:module";
import type * as KafkaClient from "@platformatic/kafka";

let loaded: typeof KafkaClient | undefined;

export function kafkaClient(): typeof KafkaClient {
  return (loaded ??= createRequire(import.meta.url)("@platformatic/kafka") as typeof KafkaClient);
}
