import { resolveKafkaConnection } from "./src/config/kafka-options.ts";
import { openKafkaSource } from "./src/analyze/kafka/kafka-source.ts";
import { analyze } from "./src/analyze/analyze.ts";
const c = resolveKafkaConnection({ kafkaBootstrap: "127.0.0.1:29092", topicTxn: process.argv[2] + ".txn", topicSteps: process.argv[2] + ".steps" });
const timer = setInterval(() => { (globalThis as any).gc(); const m = process.memoryUsage(); console.log(`heap ${(m.heapUsed/2**20).toFixed(0)} MB, external ${(m.external/2**20).toFixed(0)} MB, ab ${(m.arrayBuffers/2**20).toFixed(0)} MB, rss ${(m.rss/2**20).toFixed(0)}`); }, 1000);
await analyze(await openKafkaSource(c));
clearInterval(timer);
