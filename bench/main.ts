/**
 * `npm run bench [-- GROUP...]`: wfsim's speed and memory goals, each beside its comparison measured
 * in the same run. Not a test: it fails nothing, it reports. Groups: core, scenario, faults, analyze, kafka, shape, registry, live (default: all).
 */
import { formatRow, type BenchRow } from "./harness.ts";
import { analyzeRows } from "./rows/analyze.ts";
import { coreRows } from "./rows/core.ts";
import { faultRows } from "./rows/faults.ts";
import { kafkaRows } from "./rows/kafka.ts";
import { registryRows } from "./rows/registry.ts";
import { liveRows } from "./rows/live.ts";
import { scenarioRows } from "./rows/scenario.ts";
import { shapeRows } from "./rows/shape.ts";

const GROUPS: Record<string, () => Promise<BenchRow[]>> = {
  core: coreRows,
  scenario: scenarioRows,
  faults: faultRows,
  analyze: analyzeRows,
  kafka: kafkaRows,
  shape: shapeRows,
  registry: registryRows,
  live: liveRows,
};

const wanted = process.argv.slice(2);
for (const name of wanted) {
  if (!(name in GROUPS)) {
    process.stderr.write(`bench: unknown group ${name}; groups: ${Object.keys(GROUPS).join(", ")}\n`);
    process.exit(2);
  }
}
for (const [name, rows] of Object.entries(GROUPS)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  process.stdout.write(`# ${name}\n`);
  for (const row of await rows()) process.stdout.write(`${formatRow(row)}\n`);
}
