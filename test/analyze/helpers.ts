/** Hand-made streams for the analyzer's tests: events written as wfsim writes them, or otherwise. */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { analyze, type AnalyzeOptions } from "../../src/analyze/analyze.ts";
import type { AnalysisReport } from "../../src/analyze/report.ts";
import { textSource } from "../../src/analyze/read/source.ts";

export const WFSIM = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));
export const REFERENCE = fileURLToPath(new URL("../compat/simulate_workflows.py", import.meta.url));

const META = { timezone: "UTC", sim_version: "test" };

/** Builders in schema field order, so JSON.stringify writes exactly wfsim's compact layout. */
export const ev = {
  open: (txn: string, ts: number) => ({ type: "transaction_open", txn_id: txn, ts_ms: ts, meta: META }),
  stepOpen: (txn: string, step: number, ts: number, pre: number) => ({ type: "step_open", txn_id: txn, step, ts_ms: ts, pre_delay_ms: pre }),
  stepDone: (txn: string, step: number, ts: number) => ({ type: "step_done", txn_id: txn, step, ts_ms: ts }),
  wait: (txn: string, from: number, ts: number, planned: number, injected = false) => ({
    type: "inter_step_wait",
    txn_id: txn,
    from_step: from,
    to_step: from + 1,
    planned_wait_ms: planned,
    outlier_injected: injected,
    ts_ms: ts,
  }),
  close: (txn: string, ts: number, duration: number, steps: number) => ({ type: "transaction_close", txn_id: txn, ts_ms: ts, duration_ms: duration, steps }),
  aborted: (txn: string, ts: number, duration: number, done: number) => ({
    type: "transaction_aborted",
    txn_id: txn,
    ts_ms: ts,
    duration_ms: duration,
    steps_completed: done,
    reason: "SIGINT",
  }),
  // Scenario events, with the fields a scenario run adds.
  stuckOpen: (txn: string, ts: number) => ({ type: "transaction_open", txn_id: txn, ts_ms: ts, meta: META, workflow: "w", stuck: true }),
  retryOpen: (txn: string, step: number, ts: number, backoff: number, attempt: number) => ({
    type: "step_open",
    txn_id: txn,
    step,
    ts_ms: ts,
    pre_delay_ms: backoff,
    workflow: "w",
    step_name: `s${step}`,
    attempt,
  }),
  stepFailed: (txn: string, step: number, ts: number, attempt: number, work = 0) => ({
    type: "step_failed",
    txn_id: txn,
    step,
    ts_ms: ts,
    attempt,
    reason: "boom",
    work_ms: work,
    workflow: "w",
    step_name: `s${step}`,
  }),
  stepRetry: (txn: string, step: number, ts: number, attempt: number, backoff: number) => ({
    type: "step_retry",
    txn_id: txn,
    step,
    ts_ms: ts,
    attempt,
    backoff_ms: backoff,
    workflow: "w",
    step_name: `s${step}`,
  }),
  failed: (txn: string, ts: number, duration: number, failedStep: number, attempts: number) => ({
    type: "transaction_failed",
    txn_id: txn,
    ts_ms: ts,
    duration_ms: duration,
    steps_completed: failedStep - 1,
    failed_step: failedStep,
    reason: "boom",
    attempts,
    workflow: "w",
    step_name: `s${failedStep}`,
  }),
};

export type Event = Record<string, unknown>;

/**
 * A whole transaction the way the engine writes it: `pres[k]` is step k+1's pre-step wait and
 * `waits[k]` the planned wait after step k+1 (with `injected[k]`). Steps take no time.
 */
export function transaction(txn: string, start: number, pres: readonly number[], waits: readonly number[], injected: readonly boolean[] = []): Event[] {
  const events: Event[] = [ev.open(txn, start)];
  let t = start;
  pres.forEach((pre, k) => {
    t += pre;
    events.push(ev.stepOpen(txn, k + 1, t, pre), ev.stepDone(txn, k + 1, t));
    if (k < pres.length - 1) {
      events.push(ev.wait(txn, k + 1, t, waits[k]!, injected[k] === true));
      t += waits[k]!;
    }
  });
  events.push(ev.close(txn, t, t - start, pres.length));
  return events;
}

/** Interleaves transactions by time (stable), as a real producer would emit them. */
export function byTime(...transactions: Event[][]): Event[] {
  return transactions.flat().sort((a, b) => (a.ts_ms as number) - (b.ts_ms as number));
}

export const compact = (events: readonly Event[]) => events.map((e) => `${JSON.stringify(e)}\n`).join("");
/** Python's json.dumps spacing, as the reference script writes. */
export const spaced = (events: readonly Event[]) =>
  events.map((e) => `${JSON.stringify(e).replace(/":/g, '": ').replace(/,"/g, ', "')}\n`).join("");
/** Same content, fields in reverse order: only the strict path reads it. */
export const reordered = (events: readonly Event[]) =>
  events.map((e) => `${JSON.stringify(Object.fromEntries(Object.entries(e).reverse()))}\n`).join("");

export function analyzeText(text: string | Uint8Array, options: AnalyzeOptions = {}): Promise<AnalysisReport> {
  return analyze(textSource("test.jsonl", text), options);
}

export interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to its end with optional stdin text. */
export function run(command: string, args: readonly string[], input?: string): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? "");
  });
}
