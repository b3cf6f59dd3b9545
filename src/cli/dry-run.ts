/** `--dry-run`: what a checked command line would do, in words, for the one line it prints. */
import type { KafkaOptions } from "../config/kafka-options.ts";
import type { SimOptions } from "../config/sim-options.ts";

const fmt = (n: number) => n.toLocaleString("en-US");

/** `wfsim run`'s workload and destination: "instance 2/4 of seed 42: 1,000,000 transactions, ... to Kafka at ...". */
export function describeRun(options: SimOptions, kafka: KafkaOptions | undefined, flags: { readonly [key: string]: unknown }): string {
  const instance = options.instance.count > 1 ? `instance ${options.instance.index}/${options.instance.count} of ` : "";
  const workload = options.scenario === undefined ? "the seed workload" : `scenario ${options.scenario.name ?? options.scenario.source}`;
  const samples = Number.isFinite(options.samples) ? `${fmt(options.samples)} transactions` : "transactions without end";
  const limit = options.duration === undefined ? "" : ` for at most ${fmt(options.duration)} ms`;
  const clock = options.clock === "virtual" ? "the virtual clock" : `the real clock${options.speed === 1 ? "" : ` at speed ${options.speed}`}`;
  const to =
    kafka !== undefined
      ? `to Kafka at ${kafka.bootstrap.join(",")}`
      : typeof flags["output"] === "string"
        ? `to ${flags["output"]}`
        : "to stdout";
  const truth = typeof flags["truth"] === "string" ? `, truth to ${flags["truth"]}` : "";
  return `would run ${instance}${workload} with seed ${options.seed}: ${samples}${limit}, ${fmt(options.concurrency)} in flight, on ${clock}, ${to}${truth}`;
}
