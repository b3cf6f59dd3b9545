/**
 * Issue #4's goals for `wfsim analyze`: events analysed per second from a JSON Lines file (whole
 * process, median of 3), beside plain Python parsing the same file line by line with json.loads and
 * `wc -l` counting its lines; and peak memory on a file ten times larger than another.
 * Issue #12's: what `--windows 1m` (golden windows, in the same pass) adds to analyze's time on the
 * same file, each run with windows paired with the plain run just before it.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { median, medianOf, runProcess, type BenchRow } from "../harness.ts";
import { NODE, WFSIM } from "../paths.ts";

const LARGE_SAMPLES = 1_000_000; // 16 million events, about 1.7 GB
const SMALL_SAMPLES = 100_000;
const EVENTS_PER_TRANSACTION = 16;
const PYTHON_PARSE = "import json, sys\nn = 0\nfor line in open(sys.argv[1], 'rb'):\n    json.loads(line)\n    n += 1\nprint(n)";

async function generate(path: string, samples: number): Promise<void> {
  const run = await runProcess(NODE, [WFSIM, "run", "--clock", "virtual", "--samples", `${samples}`, "--start-time", "0", "--quiet", "--output", path]);
  if (run.code !== 0) throw new Error(`wfsim run failed: ${run.stderr}`);
}

async function analyzeRun(path: string, extra: readonly string[] = []) {
  const run = await runProcess(NODE, [WFSIM, "analyze", path, "--format", "json", ...extra], { stdout: "capture" });
  if (run.code !== 0) throw new Error(`wfsim analyze failed: ${run.stderr}`);
  const report = JSON.parse(run.stdout) as { events: number; invalid_lines: number };
  return { ...run, lines: report.events + report.invalid_lines };
}

export async function analyzeRows(): Promise<BenchRow[]> {
  const dir = await mkdtemp(join(tmpdir(), "wfsim-bench-analyze-"));
  try {
    const large = join(dir, "large.jsonl");
    const small = join(dir, "small.jsonl");
    await generate(large, LARGE_SAMPLES);
    await generate(small, SMALL_SAMPLES);
    const lines = LARGE_SAMPLES * EVENTS_PER_TRANSACTION;

    let largeRss = 0;
    const windowRatios: number[] = [];
    let windowRss = 0;
    const windowSeconds: number[] = [];
    const windowsOut = join(dir, "windows.jsonl");
    const ours = await medianOf(3, async () => {
      const run = await analyzeRun(large);
      if (run.lines !== lines) throw new Error(`analyze read ${run.lines} lines of ${lines}`);
      largeRss = Math.max(largeRss, run.peakRssBytes);
      const windowed = await analyzeRun(large, ["--windows", "1m", "--windows-out", windowsOut]);
      if (windowed.code !== 0 || windowed.lines !== lines) throw new Error(`analyze --windows failed: ${windowed.stderr}`);
      windowRatios.push(windowed.wallMs / run.wallMs);
      windowRss = Math.max(windowRss, windowed.peakRssBytes);
      windowSeconds.push(windowed.wallMs / 1000);
      return lines / (run.wallMs / 1000);
    });
    let smallRss = 0;
    for (let i = 0; i < 3; i++) smallRss = Math.max(smallRss, (await analyzeRun(small)).peakRssBytes);

    const python = await runProcess("python3", ["-c", PYTHON_PARSE, large], { stdout: "capture" });
    if (python.code !== 0 || Number(python.stdout.trim()) !== lines) throw new Error(`python failed: ${python.stderr}`);
    const wc = await medianOf(3, async () => {
      const run = await runProcess("wc", ["-l", large], { stdout: "capture" });
      return lines / (run.wallMs / 1000);
    });
    const mib = (bytes: number) => bytes / 2 ** 20;
    return [
      {
        name: "analyze a 16M-event JSONL file (1.7 GB, page cache warm), whole process, median of 3",
        unit: "events/s",
        wfsim: ours,
        reference: lines / (python.wallMs / 1000),
        referenceLabel: "python3 json.loads per line, nothing else (one run)",
        goal: { value: 1_500_000, better: "higher", on: "wfsim" },
        note: `wc -l counts the same lines at ${new Intl.NumberFormat("en-US").format(Math.round(wc))} lines/s`,
      },
      {
        name: "analyze --windows 1m --windows-out FILE on the same 16M-event file, whole process, 3 pairs",
        unit: "s",
        wfsim: median(windowSeconds),
        reference: lines / ours,
        referenceLabel: "analyze without --windows",
        ratio: median(windowRatios),
        goal: { value: 1.25, better: "lower", on: "ratio" },
        note: `peak RSS ${mib(windowRss).toFixed(0)} MiB with windows, ${mib(largeRss).toFixed(0)} MiB without`,
      },
      {
        name: "analyze: peak RSS on the 16M-event file vs a 1.6M-event file",
        unit: "MiB",
        wfsim: mib(largeRss),
        reference: mib(smallRss),
        referenceLabel: "the 10x smaller file",
        goal: { value: 1.25, better: "lower", on: "ratio" },
      },
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
