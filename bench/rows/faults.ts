/**
 * What delivery faults cost (issue 12): the seed's workload on the virtual clock with all five faults
 * at 1% each against the same run without them, whole process, runs alternated so that both see the
 * same machine. Both write their truth to /dev/null, so the fault run pays for its truth records.
 * The goal: at least 80% of the events/s without faults.
 */
import { median, runProcess, type BenchRow } from "../harness.ts";
import { NODE, WFSIM } from "../paths.ts";

const SAMPLES = 300_000;
// With --truth the run is blind (no inter_step_wait): 12 lifecycle events per transaction of the seed's 5 steps.
const EVENTS = SAMPLES * 12;
const RUNS = 5;
const DELIVERY =
  "{drop: {prob: 0.01}, duplicate: {prob: 0.01, after: 2s}, delay: {prob: 0.01, by: {dist: uniform, min: 1s, max: 30s}}, " +
  "skew: {prob: 0.01, offset: {dist: uniform, min: 1s, max: 60s}}, corrupt: {prob: 0.01}}";

async function eventsPerSecond(args: readonly string[]): Promise<number> {
  const run = await runProcess(
    NODE,
    [WFSIM, "run", "--clock", "virtual", "--start-time", "0", "--quiet", "--samples", `${SAMPLES}`, "--truth", "/dev/null", ...args],
    { stdout: "null" },
  );
  if (run.code !== 0) throw new Error(`wfsim failed: ${run.stderr}`);
  return EVENTS / (run.wallMs / 1000);
}

export async function faultRows(): Promise<BenchRow[]> {
  const clean: number[] = [];
  const faulty: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    clean.push(await eventsPerSecond([]));
    faulty.push(await eventsPerSecond(["--delivery", DELIVERY]));
  }
  // Each fault run against the clean run just before it: both saw about the same machine.
  const ratios = faulty.map((value, i) => value / clean[i]!);
  return [
    {
      name: `virtual clock, seed workload, all five delivery faults at 1% each vs none, ${EVENTS / 1e6}M lifecycle events to /dev/null (whole process, ${RUNS} alternated pairs)`,
      unit: "events/s",
      wfsim: median(faulty),
      reference: median(clean),
      referenceLabel: "no faults",
      ratio: median(ratios),
      goal: { value: 0.8, better: "higher", on: "ratio" },
      note: `pairs: ${ratios.map((r) => r.toFixed(2)).join(", ")}; events/s counts lifecycle events, not records written`,
    },
  ];
}
