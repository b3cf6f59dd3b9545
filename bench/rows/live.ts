/**
 * Issue #13's goals: what --metrics and --ui cost a run while a client polls both. A virtual-clock
 * run keeps at least 90% of its events/s; a real-clock run of 100,000 in flight keeps its wake-up
 * lateness p99 within 2 ms of the same run without them. Runs with and without alternate, and the
 * ratio is the median of the pairs' ratios, since these machines are shared and noisy.
 */
import { spawn } from "node:child_process";
import { median, type BenchRow } from "../harness.ts";
import { NODE, WFSIM } from "../paths.ts";

const VIRTUAL_SAMPLES = 500_000;
const EVENTS_PER_TRANSACTION = 16;
const PAIRS = 3;
/** How often the client asks for /metrics and /snapshot.json. */
const POLL_MS = 200;

interface Watched {
  readonly wallMs: number;
  readonly stderr: string;
  readonly polls: number;
}

/** Runs wfsim to its end; with `live`, on endpoints it announces on stderr that a client polls meanwhile. */
function runWatched(args: readonly string[], live: boolean): Promise<Watched> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(NODE, [WFSIM, ...args, ...(live ? ["--metrics", "127.0.0.1:0", "--ui", "127.0.0.1:0"] : [])], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    let polls = 0;
    let timer: NodeJS.Timeout | undefined;
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
      const metrics = /metrics at (http:\S+)/.exec(stderr)?.[1];
      const page = /live page at (http:\S+)/.exec(stderr)?.[1];
      if (timer === undefined && metrics !== undefined && page !== undefined) {
        timer = setInterval(() => {
          for (const url of [metrics, `${page}snapshot.json`]) {
            fetch(url).then((response) => response.text()).then(() => polls++, () => {});
          }
        }, POLL_MS);
      }
    });
    child.on("error", reject);
    child.on("close", (code) => {
      clearInterval(timer);
      if (code !== 0) reject(new Error(`wfsim ${args.join(" ")} failed (${code}): ${stderr}`));
      else resolve({ wallMs: performance.now() - started, stderr, polls });
    });
  });
}

export async function liveRows(): Promise<BenchRow[]> {
  return [await virtualOverhead(), await realClockLateness()];
}

async function virtualOverhead(): Promise<BenchRow> {
  const args = ["run", "--samples", `${VIRTUAL_SAMPLES}`, "--clock", "virtual", "--start-time", "0", "-o", "/dev/null"];
  const ratios: number[] = [];
  const watched: number[] = [];
  const plain: number[] = [];
  for (let i = 0; i < PAIRS; i++) {
    const without = await runWatched(args, false);
    const with_ = await runWatched(args, true);
    const rate = (run: Watched) => (VIRTUAL_SAMPLES * EVENTS_PER_TRANSACTION) / (run.wallMs / 1000);
    plain.push(rate(without));
    watched.push(rate(with_));
    ratios.push(rate(with_) / rate(without));
  }
  return {
    name: `virtual clock, ${VIRTUAL_SAMPLES / 1000}k transactions, --metrics and --ui polled every ${POLL_MS} ms (whole process)`,
    unit: "events/s",
    wfsim: median(watched),
    reference: median(plain),
    referenceLabel: "same run without --metrics and --ui",
    ratio: median(ratios),
    goal: { value: 0.9, better: "higher", on: "ratio" },
  };
}

/** The p99 the end-of-run summary reports: "wake-up lateness p50 x ms, p99 y ms". */
function latenessP99(stderr: string): number {
  const match = /wake-up lateness p50 [\d.]+ ms, p99 ([\d.]+) ms/.exec(stderr);
  if (match === null) throw new Error(`no lateness in the summary: ${stderr}`);
  return Number(match[1]);
}

async function realClockLateness(): Promise<BenchRow> {
  const args = ["run", "--clock", "real", "--samples", "200000", "--concurrency", "100000", "--outlier-prob", "0", "-o", "/dev/null"];
  const differences: number[] = [];
  const watched: number[] = [];
  const plain: number[] = [];
  for (let i = 0; i < PAIRS; i++) {
    const without = latenessP99((await runWatched(args, false)).stderr);
    const with_ = latenessP99((await runWatched(args, true)).stderr);
    plain.push(without);
    watched.push(with_);
    differences.push(with_ - without);
  }
  return {
    name: "real clock, 100,000 in flight, wake-up lateness p99 with --metrics and --ui polled minus without (median of pairs)",
    unit: "ms",
    wfsim: median(differences),
    goal: { value: 2, better: "lower", on: "wfsim" },
    note: `p99 with ${median(watched).toFixed(2)} ms, without ${median(plain).toFixed(2)} ms`,
  };
}
