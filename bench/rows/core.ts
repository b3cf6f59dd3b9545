/**
 * Issue #2's goals: the virtual clock's throughput, and the real clock's lateness and memory with
 * 100,000 transactions in flight; each beside the reference script measured in the same run. Issue
 * #14's: the same at 1,000,000 in flight.
 */
import { createReadStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { medianOf, runProcess, type BenchRow } from "../harness.ts";
import { NODE, REFERENCE, WFSIM } from "../paths.ts";

const VIRTUAL_SAMPLES = 1_000_000;
const REFERENCE_SAMPLES = 20_000;
const EVENTS_PER_TRANSACTION = 16; // default workload: open + 5×(step_open, step_done) + 4 waits + close

export async function coreRows(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  rows.push(await virtualThroughput());
  rows.push(...(await realClockLoad()));
  rows.push(...(await millionInFlight()));
  return rows;
}

async function virtualThroughput(): Promise<BenchRow> {
  const ours = await medianOf(3, async () => {
    const run = await runProcess(NODE, [WFSIM, "run", "--samples", `${VIRTUAL_SAMPLES}`, "--clock", "virtual", "--start-time", "0", "--quiet"], { stdout: "null" });
    if (run.code !== 0) throw new Error(`wfsim failed: ${run.stderr}`);
    return (VIRTUAL_SAMPLES * EVENTS_PER_TRANSACTION) / (run.wallMs / 1000);
  });
  // The reference has no virtual clock: its fastest is the real clock with every delay at 0.
  const reference = await medianOf(3, async () => {
    const run = await runProcess(
      "python3",
      [REFERENCE, "--samples", `${REFERENCE_SAMPLES}`, "--pre-min", "0", "--pre-max", "0", "--inter-min", "0", "--inter-max", "0", "--outlier-ms", "0"],
      { stdout: "null" },
    );
    if (run.code !== 0) throw new Error(`reference failed: ${run.stderr}`);
    return (REFERENCE_SAMPLES * EVENTS_PER_TRANSACTION) / (run.wallMs / 1000);
  });
  return {
    name: "virtual clock, default workload, 16M events to /dev/null (whole process)",
    unit: "events/s",
    wfsim: ours,
    reference,
    referenceLabel: "reference (real clock, all delays 0)",
    goal: { value: 3_000_000, better: "higher", on: "wfsim" },
  };
}

/**
 * Lateness of each step_open: its timestamp minus when it was due, i.e. the timestamp of the event
 * that began the wait plus the waits announced (pre_delay_ms, and planned_wait_ms before it). Worked
 * out from the output the same way for both programs.
 */
async function latenessFromFile(path: string): Promise<number[]> {
  const waitStart = new Map<string, number>();
  const lateness: number[] = [];
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line === "") continue;
    const event = JSON.parse(line) as Record<string, number | string>;
    const id = event.txn_id as string;
    const ts = event.ts_ms as number;
    switch (event.type) {
      case "transaction_open":
        waitStart.set(id, ts);
        break;
      case "inter_step_wait":
        waitStart.set(id, ts + (event.planned_wait_ms as number));
        break;
      case "step_open":
        lateness.push(ts - ((waitStart.get(id) ?? ts) + (event.pre_delay_ms as number)));
        break;
      case "transaction_close":
      case "transaction_aborted":
        waitStart.delete(id);
        break;
    }
  }
  return lateness;
}

function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? NaN;
}

async function realClockLoad(): Promise<BenchRow[]> {
  const dir = await mkdtemp(join(tmpdir(), "wfsim-bench-"));
  try {
    const oursFile = join(dir, "ours.jsonl");
    const ours = await runProcess(
      NODE,
      [WFSIM, "run", "--samples", "200000", "--concurrency", "100000", "--outlier-prob", "0", "--quiet", "--output", oursFile],
    );
    if (ours.code !== 0) throw new Error(`wfsim failed: ${ours.stderr}`);
    const oursLate = (await latenessFromFile(oursFile)).sort((a, b) => a - b);
    await rm(oursFile);
    const small = await runProcess(NODE, [WFSIM, "run", "--samples", "2000", "--concurrency", "1000", "--outlier-prob", "0", "--quiet"], { stdout: "null" });

    const refFile = join(dir, "reference.jsonl");
    const reference = await runProcess("sh", ["-c", `exec python3 "$0" --samples 50000 --concurrency 50000 --outlier-prob 0 > "$1"`, REFERENCE, refFile]);
    if (reference.code !== 0) throw new Error(`reference failed: ${reference.stderr}`);
    const refLate = (await latenessFromFile(refFile)).sort((a, b) => a - b);
    const refSmall = await runProcess("python3", [REFERENCE, "--samples", "2000", "--concurrency", "1000", "--outlier-prob", "0"], { stdout: "null" });

    return [
      {
        name: "real clock, 100,000 in flight (reference: 50,000): p99 lateness of step_open",
        unit: "ms",
        wfsim: percentile(oursLate, 0.99),
        reference: percentile(refLate, 0.99),
        goal: { value: 10, better: "lower", on: "wfsim" },
        note: `p50 ${percentile(oursLate, 0.5)} ms vs ${percentile(refLate, 0.5)} ms; max ${oursLate.at(-1)} ms vs ${refLate.at(-1)} ms`,
      },
      {
        name: "real clock: memory per in-flight transaction (peak RSS at 100,000 minus at 1,000, per transaction; reference at 50,000)",
        unit: "bytes",
        wfsim: (ours.peakRssBytes - small.peakRssBytes) / 99_000,
        reference: (reference.peakRssBytes - refSmall.peakRssBytes) / 49_000,
        note: `peak RSS ${(ours.peakRssBytes / 2 ** 20).toFixed(0)} MiB vs ${(reference.peakRssBytes / 2 ** 20).toFixed(0)} MiB`,
      },
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}



const MILLION = 1_000_000;
/** Three transactions per place: the first million open, then two more generations at full load (about 8 s each). */
const MILLION_SAMPLES = 3 * MILLION;

/** The wake-up lateness of wfsim's summary line (the engine's own recorder: every wake, actual minus due). */
function summaryLateness(stderr: string): { p50: number; p99: number; max: number } {
  const match = /wake-up lateness p50 ([\d.]+) ms, p99 ([\d.]+) ms, max ([\d.]+) ms/.exec(stderr);
  if (match === null) throw new Error(`no lateness in wfsim's summary: ${stderr.slice(-500)}`);
  return { p50: Number(match[1]), p99: Number(match[2]), max: Number(match[3]) };
}

/**
 * Issue #14: 1,000,000 transactions in flight on the real clock with the seed's delays (2 million
 * events/s once they are all open), 3,000,000 transactions, to /dev/null. Lateness comes from the
 * engine's recorder (writing 48M events to a file to work it out again would take longer than the
 * run); memory is the peak RSS less that of a process that runs one transaction (the empty process)
 * and less that of the same run at 1,000 in flight.
 */
async function millionInFlight(): Promise<BenchRow[]> {
  const empty = await runProcess(NODE, [WFSIM, "run", "--samples", "1", "--clock", "virtual", "--quiet"], { stdout: "null" });
  const small = await runProcess(NODE, [WFSIM, "run", "--samples", "2000", "--concurrency", "1000", "--outlier-prob", "0", "--quiet"], { stdout: "null" });
  // The load average beside the figures: on a shared machine, lateness says as much about the others' work as about wfsim's.
  const loadBefore = loadavg()[0]!;
  const run = await runProcess(
    NODE,
    [WFSIM, "run", "--samples", `${MILLION_SAMPLES}`, "--concurrency", `${MILLION}`, "--outlier-prob", "0", "--status-every", "0"],
    { stdout: "null" },
  );
  const load = `load average ${loadBefore.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after`;
  if (run.code !== 0) throw new Error(`wfsim failed: ${run.stderr}`);
  const late = summaryLateness(run.stderr);
  const eventsPerSecond = (MILLION_SAMPLES * EVENTS_PER_TRANSACTION) / (run.wallMs / 1000);
  return [
    {
      name: "real clock, 1,000,000 in flight: p99 wake-up lateness (engine's recorder)",
      unit: "ms",
      wfsim: late.p99,
      goal: { value: 100, better: "lower", on: "wfsim" },
      note: `p50 ${late.p50} ms, max ${late.max} ms; ${MILLION_SAMPLES / MILLION}M transactions in ${(run.wallMs / 1000).toFixed(1)} s (${Math.round(eventsPerSecond)} events/s on average), ${((run.cpuMs * 1000) / (MILLION_SAMPLES * EVENTS_PER_TRANSACTION)).toFixed(2)} µs of CPU per event (${(run.cpuMs / 1000).toFixed(0)} s); ${load}`,
    },
    {
      name: "real clock: memory per in-flight transaction at 1,000,000 (peak RSS minus the empty process's)",
      unit: "bytes",
      wfsim: (run.peakRssBytes - empty.peakRssBytes) / MILLION,
      goal: { value: 1024, better: "lower", on: "wfsim" },
      note: `minus the run at 1,000 in flight instead: ${Math.round((run.peakRssBytes - small.peakRssBytes) / (MILLION - 1000))} bytes; peak RSS ${(run.peakRssBytes / 2 ** 20).toFixed(0)} MiB, empty process ${(empty.peakRssBytes / 2 ** 20).toFixed(0)} MiB, at 1,000 ${(small.peakRssBytes / 2 ** 20).toFixed(0)} MiB`,
    },
  ];
}
