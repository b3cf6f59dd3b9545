/**
 * The benchmark's plumbing: run commands as whole processes, time them, watch their memory, and print
 * rows that set wfsim's figure beside the reference measured in the same run. Figures are medians of
 * several runs; these machines are shared and noisy, so ratios say more than absolute values.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";

export interface BenchRow {
  /** What is measured, e.g. "virtual clock, default workload, to /dev/null". */
  readonly name: string;
  readonly unit: string;
  readonly wfsim: number;
  /** The comparison measured in the same run (the reference script, Kafka's own tool), if any. */
  readonly reference?: number;
  readonly referenceLabel?: string;
  /** The goal and whether higher or lower is better. */
  readonly goal?: { readonly value: number; readonly better: "higher" | "lower"; readonly on: "wfsim" | "ratio" };
  /**
   * wfsim / reference as measured pair by pair (runs alternated, the median of their ratios), which
   * holds when the machine's speed drifts during the runs; without it, the ratio of the two figures.
   */
  readonly ratio?: number;
  readonly note?: string;
}

export interface ProcessResult {
  readonly code: number | null;
  readonly wallMs: number;
  /** Highest resident set size seen while it ran (sampled from /proc every 50 ms), in bytes. */
  readonly peakRssBytes: number;
  /** CPU time (user + sys, all threads) at the last sample from /proc, in ms: short by up to 50 ms. */
  readonly cpuMs: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Where the child's stdout goes: "capture" keeps it, "null" sends it to /dev/null. */
  readonly stdout?: "capture" | "null";
  readonly env?: NodeJS.ProcessEnv;
  readonly timeoutMs?: number;
}

/** Runs a command to its end, timing it and sampling its memory. */
export function runProcess(command: string, args: readonly string[], options: RunOptions = {}): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, {
      stdio: ["ignore", options.stdout === "capture" ? "pipe" : "ignore", "pipe"],
      env: options.env ?? process.env,
    });
    let stdout = "";
    let stderr = "";
    let peak = 0;
    let cpuMs = 0;
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const sample = () => {
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
        const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
        peak = Math.max(peak, kb * 1024);
        cpuMs = cpuMsOf(child.pid!) ?? cpuMs;
      } catch {
        // The process has already gone.
      }
    };
    const sampler = setInterval(sample, 50);
    const timeout = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 600_000);
    child.on("error", (error) => {
      clearInterval(sampler);
      clearTimeout(timeout);
      reject(error);
    });
    child.on("close", (code) => {
      clearInterval(sampler);
      clearTimeout(timeout);
      resolve({ code, wallMs: performance.now() - started, peakRssBytes: peak, cpuMs, stdout, stderr });
    });
  });
}

/**
 * A running process's CPU time so far (user + sys, all its threads) from /proc/PID/stat, in ms;
 * undefined once it is gone. Linux counts it in clock ticks of 1/100 s (USER_HZ on every architecture
 * Node runs on).
 */
export function cpuMsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (in parentheses, which may hold spaces): utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Runs `measure` `times` times and returns the median of what it returns. */
export async function medianOf(times: number, measure: () => Promise<number>): Promise<number> {
  const values: number[] = [];
  for (let i = 0; i < times; i++) values.push(await measure());
  return median(values);
}

const numberFormat = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2 });

export function formatRow(row: BenchRow): string {
  const parts = [`${row.name}: wfsim ${numberFormat.format(row.wfsim)} ${row.unit}`];
  const ratio = row.ratio ?? (row.reference === undefined ? undefined : row.wfsim / row.reference);
  if (row.reference !== undefined && ratio !== undefined) {
    parts.push(`${row.referenceLabel ?? "reference"} ${numberFormat.format(row.reference)} ${row.unit}`);
    parts.push(`ratio ${numberFormat.format(ratio)}${row.ratio === undefined ? "" : " (median of pairs)"}`);
  }
  if (row.goal !== undefined) {
    const value = row.goal.on === "ratio" && ratio !== undefined ? ratio : row.wfsim;
    const met = row.goal.better === "higher" ? value >= row.goal.value : value <= row.goal.value;
    const sign = row.goal.better === "higher" ? ">=" : "<=";
    parts.push(`goal ${row.goal.on === "ratio" ? "ratio " : ""}${sign} ${numberFormat.format(row.goal.value)}: ${met ? "met" : "NOT met"}`);
  }
  if (row.note !== undefined) parts.push(row.note);
  return parts.join(" | ");
}
