/**
 * Issue #10's goals: a shaped output (bench/scenarios/shaped.yaml: five attributes with one fake-data
 * value per transaction, renamed and nested fields, an ISO-8601 time, three topics) against the same
 * scenario without its output section, on the virtual clock to /dev/null: at least 60% of its
 * throughput. To Kafka: at least 80% of the Kafka row's throughput (wfsim's own events, the seed's
 * workload), alternated with it against the same broker.
 *
 * Throughput is lifecycle events simulated per second, as the issue states both goals, on both rows:
 * the same work on both sides (the shaped run writes 12 records for a transaction's 16 events). The
 * Kafka row once counted the shaped run's records instead, which held it to 12/16 = 0.75 of the
 * reference when both took the same time, under the 0.8 goal whatever the shaping cost; its records/s
 * are still in the note. Beside the rows: what a fresh fake value costs.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { FakeData } from "../../src/config/shape/fake-data.ts";
import { Random } from "../../src/engine/random.ts";
import { startBroker, type BrokerHandle } from "../../test/kafka/broker.ts";
import { median, runProcess, type BenchRow } from "../harness.ts";
import { NODE, WFSIM } from "../paths.ts";

const SHAPED = fileURLToPath(new URL("../scenarios/shaped.yaml", import.meta.url));
const SAMPLES = 500_000;
const EVENTS = SAMPLES * 16;
const PAIRS = 5;
const KAFKA_SAMPLES = 100_000;
const KAFKA_ROUNDS = 5;
const PARTITIONS = 3;

/** CPU seconds of each run, by scenario: on a machine others load, a steadier measure than wall time. */
const cpuSeconds = new Map<string, number[]>();
const GNU_TIME = "/usr/bin/time";

async function eventsPerSecond(scenario: string, samples: number, events: number, extra: readonly string[] = []): Promise<number> {
  const args = [WFSIM, "run", "--scenario", scenario, "--samples", `${samples}`, "--clock", "virtual", "--quiet", ...extra];
  const timed = existsSync(GNU_TIME);
  const run = timed
    ? await runProcess(GNU_TIME, ["-f", "wfsim-cpu %U %S", NODE, ...args], { stdout: "null" })
    : await runProcess(NODE, args, { stdout: "null" });
  if (run.code !== 0) throw new Error(`wfsim failed: ${run.stderr}`);
  const cpu = /wfsim-cpu ([\d.]+) ([\d.]+)/.exec(run.stderr);
  if (cpu !== null) cpuSeconds.set(scenario, [...(cpuSeconds.get(scenario) ?? []), Number(cpu[1]) + Number(cpu[2])]);
  return events / (run.wallMs / 1000);
}

/** "CPU time ratio 0.63 (median CPU s: 4.1 vs 2.6)", or "" without GNU time. */
function cpuNote(shaped: string, plain: string): string {
  const a = cpuSeconds.get(shaped);
  const b = cpuSeconds.get(plain);
  if (a === undefined || b === undefined) return "";
  return `; by CPU time (user + system): ratio ${(median(b) / median(a)).toFixed(2)} (median ${median(a).toFixed(1)} s against ${median(b).toFixed(1)} s)`;
}

const format = (value: number) => Math.round(value).toLocaleString("en-US");

export async function shapeRows(): Promise<BenchRow[]> {
  const dir = await mkdtemp(join(tmpdir(), "wfsim-bench-shape-"));
  try {
    const text = await readFile(SHAPED, "utf8");
    const plain = join(dir, "plain.yaml");
    await writeFile(plain, text.replace(/^output:[\s\S]*$/m, ""));
    const fresh = join(dir, "fresh.yaml");
    await writeFile(fresh, text.replace("{ fake: person.fullName, distinct: 10000 }", "{ fake: person.fullName }"));

    const plainRuns: number[] = [];
    const shapedRuns: number[] = [];
    const freshRuns: number[] = [];
    for (let i = 0; i < PAIRS; i++) {
      plainRuns.push(await eventsPerSecond(plain, SAMPLES, EVENTS));
      shapedRuns.push(await eventsPerSecond(SHAPED, SAMPLES, EVENTS));
      if (i < 3) freshRuns.push(await eventsPerSecond(fresh, SAMPLES, EVENTS));
    }
    const ratios = shapedRuns.map((value, i) => value / plainRuns[i]!);
    const freshRatios = freshRuns.map((value, i) => value / plainRuns[i]!);
    const rows: BenchRow[] = [
      {
        name: `shaped output (5 attributes, 1 fake value from 10,000 customers, nested fields, 3 topics) vs the same scenario without it, virtual clock, ${EVENTS / 1e6}M events to /dev/null (${PAIRS} alternated pairs)`,
        unit: "events/s",
        wfsim: median(shapedRuns),
        reference: median(plainRuns),
        referenceLabel: "without output",
        ratio: median(ratios),
        goal: { value: 0.6, better: "higher", on: "ratio" },
        note: `pairs: ${ratios.map((r) => r.toFixed(2)).join(", ")}${cpuNote(SHAPED, plain)}`,
      },
      {
        name: "the same with a fresh fake value (person.fullName) per transaction",
        unit: "events/s",
        wfsim: median(freshRuns),
        reference: median(plainRuns),
        referenceLabel: "without output",
        ratio: median(freshRatios),
        note: `${fakeCosts()}; pairs: ${freshRatios.map((r) => r.toFixed(2)).join(", ")}${cpuNote(fresh, plain)}`,
      },
    ];
    try {
      rows.push(await kafkaRow(dir, text));
    } catch (error) {
      rows.push({ name: "Kafka: the shaped scenario vs the Kafka row's workload", unit: "records/s", wfsim: NaN, note: `not measured: ${(error as Error).message.split("\n")[0]}` });
    }
    return rows;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Microseconds per call of a few faker methods, driven by wfsim's random stream as a shaped run drives them. */
function fakeCosts(): string {
  const data = FakeData.forLocale("en", 0)!;
  data.random = new Random(1, 2, 3, 4);
  const costs: string[] = [];
  for (const name of ["person.fullName", "internet.email", "finance.iban", "internet.ipv4", "person.firstName"]) {
    const method = data.method(name)!;
    for (let i = 0; i < 1000; i++) method();
    const calls = 20_000;
    const started = performance.now();
    for (let i = 0; i < calls; i++) method();
    costs.push(`${name} ${(((performance.now() - started) * 1000) / calls).toFixed(1)} µs`);
  }
  return `faker per call: ${costs.join(", ")}`;
}

/** The shaped scenario to Kafka against the Kafka row's workload (wfsim's own events), alternated. */
async function kafkaRow(dir: string, text: string): Promise<BenchRow> {
  const external = process.env["KAFKA_BOOTSTRAP"];
  let broker: BrokerHandle | undefined;
  if (external === undefined || external === "") broker = await startBroker({ jvm: "throughput" });
  const bootstrap = external || broker!.bootstrap.plaintext;
  try {
    const start = String(Date.now() - 86_400_000);
    const common = ["--clock", "virtual", "--samples", `${KAFKA_SAMPLES}`, "--start-time", start, "--quiet", "--kafka-bootstrap", bootstrap, "--partitions", `${PARTITIONS}`];
    const shapedRecords = await recordsPerRun();
    const ours: number[] = [];
    const today: number[] = [];
    const records: number[] = [];
    for (let round = 0; round < KAFKA_ROUNDS; round++) {
      const suffix = randomBytes(4).toString("hex");
      const plainArgs = [WFSIM, "run", ...common, "--topic-txn", `bench-txn-${suffix}`, "--topic-steps", `bench-steps-${suffix}`];
      let plainRun = await runProcess(NODE, plainArgs);
      // A topic just created can be unknown to the broker's metadata for a moment on a loaded machine: once more.
      if (plainRun.code !== 0 && /unknown topic/.test(plainRun.stderr)) plainRun = await runProcess(NODE, plainArgs);
      if (plainRun.code !== 0) throw new Error(`wfsim failed: ${plainRun.stderr}`);
      today.push((KAFKA_SAMPLES * 16) / (plainRun.wallMs / 1000));
      const scenario = join(dir, `kafka-${suffix}.yaml`);
      await writeFile(scenario, text.replace('topic: "bench.{workflow}"', `topic: "bench-shaped-${suffix}.{workflow}"`));
      let shapedRun = await runProcess(NODE, [WFSIM, "run", "--scenario", scenario, ...common]);
      if (shapedRun.code !== 0 && /unknown topic/.test(shapedRun.stderr)) shapedRun = await runProcess(NODE, [WFSIM, "run", "--scenario", scenario, ...common]);
      if (shapedRun.code !== 0) throw new Error(`wfsim failed: ${shapedRun.stderr}`);
      ours.push((KAFKA_SAMPLES * 16) / (shapedRun.wallMs / 1000));
      records.push(shapedRecords / (shapedRun.wallMs / 1000));
    }
    return {
      name: `Kafka: the shaped scenario (${format(shapedRecords)} records, 3 topics) vs the Kafka row's workload (${format(KAFKA_SAMPLES * 16)} records, 2 topics), ${format(KAFKA_SAMPLES * 16)} lifecycle events each, acks=all, idempotent, ${PARTITIONS} partitions per topic`,
      unit: "events/s",
      wfsim: median(ours),
      reference: median(today),
      referenceLabel: "wfsim's own events, the seed's workload",
      ratio: median(ours.map((value, i) => value / today[i]!)),
      goal: { value: 0.8, better: "higher", on: "ratio" },
      note:
        `runs: shaped ${ours.map(format).join(", ")}; own events ${today.map(format).join(", ")}; ` +
        `shaped records/s ${records.map(format).join(", ")}; broker ${external ? `KAFKA_BOOTSTRAP=${external}` : "started by the bench"}`,
    };
  } finally {
    await broker?.stop();
  }
}

/** Records the shaped scenario writes for KAFKA_SAMPLES transactions. */
async function recordsPerRun(): Promise<number> {
  const run = await runProcess(NODE, [WFSIM, "run", "--scenario", SHAPED, "--clock", "virtual", "--samples", `${KAFKA_SAMPLES}`, "--quiet"], { stdout: "capture" });
  if (run.code !== 0) throw new Error(`wfsim failed: ${run.stderr}`);
  return run.stdout.split("\n").filter((line) => line !== "").length;
}
