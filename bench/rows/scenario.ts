/**
 * What scenarios cost: the seed's workload written as a scenario (examples/seed.yaml) against the
 * same workload from flags, on the virtual clock, whole process, runs alternated so that both see
 * the same machine. The goal: scenario mode at most 20% slower (throughput ratio >= 0.83).
 * A second row reports an open model with failures and retries, for scale.
 */
import { fileURLToPath } from "node:url";
import { median, runProcess, type BenchRow } from "../harness.ts";
import { NODE, WFSIM } from "../paths.ts";

const SAMPLES = 1_000_000;
const EVENTS = SAMPLES * 16;
const RUNS = 7;
const SEED_SCENARIO = fileURLToPath(new URL("../../examples/seed.yaml", import.meta.url));
const FLASH_SALE = fileURLToPath(new URL("../../examples/flash-sale.yaml", import.meta.url));

async function eventsPerSecond(args: readonly string[], events: number): Promise<number> {
  const run = await runProcess(NODE, [WFSIM, "run", "--clock", "virtual", "--start-time", "0", "--quiet", ...args], { stdout: "null" });
  if (run.code !== 0) throw new Error(`wfsim failed: ${run.stderr}`);
  return events / (run.wallMs / 1000);
}

export async function scenarioRows(): Promise<BenchRow[]> {
  const flags: number[] = [];
  const scenario: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    flags.push(await eventsPerSecond(["--samples", `${SAMPLES}`], EVENTS));
    scenario.push(await eventsPerSecond(["--samples", `${SAMPLES}`, "--scenario", SEED_SCENARIO], EVENTS));
  }
  // The open model's events per transaction vary; count them from one run's summary instead.
  const count = await runProcess(NODE, [WFSIM, "run", "--clock", "virtual", "--start-time", "0", "--scenario", FLASH_SALE], { stdout: "null" });
  const flashEvents = Number(/ ([\d,]+) events to/.exec(count.stderr)?.[1]?.replace(/,/g, "") ?? NaN);
  const flash: number[] = [];
  for (let i = 0; i < 3; i++) flash.push(await eventsPerSecond(["--scenario", FLASH_SALE], flashEvents));
  // Each scenario run against the flags run just before it: both saw about the same machine.
  const ratios = scenario.map((value, i) => value / flags[i]!);
  const ratio = median(ratios);
  return [
    {
      name: `virtual clock, seed workload: --scenario examples/seed.yaml vs flags, ${EVENTS / 1e6}M events to /dev/null (whole process, ${RUNS} alternated pairs)`,
      unit: "events/s",
      wfsim: median(scenario),
      reference: median(flags),
      referenceLabel: "flags",
      ratio,
      goal: { value: 1 / 1.2, better: "higher", on: "ratio" },
      note:
        `scenario mode takes ${((1 / ratio - 1) * 100).toFixed(1)}% more time (pairs: ${ratios.map((r) => r.toFixed(2)).join(", ")}); ` +
        "its lines carry workflow and step_name",
    },
    {
      name: `virtual clock, examples/flash-sale.yaml (open model, 2 workflows, failures and retries, ${(flashEvents / 1e6).toFixed(1)}M events)`,
      unit: "events/s",
      wfsim: median(flash),
    },
  ];
}
