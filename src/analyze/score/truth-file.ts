/**
 * Ground truth from a wfsim truth file (`wfsim run --truth FILE`): the answers for a stream that
 * carries no hints. The file is read once, before the stream, and kept by transaction: memory grows
 * with the labelled transactions (about 4% of them on the seed's workload), not with the stream.
 */
import type { InvalidLine } from "../report.ts";
import { linesOf } from "../read/lines.ts";
import type { EventSource } from "../read/source.ts";
import { tableKey } from "../measure/txn-table.ts";
import { MAX_EXAMPLES } from "../measure/violations.ts";
import type { GroundTruth, LabelTotals, ObservedTransaction, TransactionLabels, TruthFileReading } from "./truth.ts";
import { OutlierLabel, StepFailureLabel, StuckLabel, TRUTH_KINDS, type TruthKind, type TruthRecord } from "../../events/truth.ts";
import { WfsimError } from "../../errors.ts";

/** from_step of at most this many outlier waits per transaction are kept, for the HTML timeline. */
const MAX_STEPS_KEPT = 16;

/** What the file says of one transaction. */
export interface Entry {
  outlierGaps: number;
  outlierAt: number;
  fromSteps: number[] | undefined;
  stuckSince: number;
  failures: number;
  final: boolean;
}

export class TruthFile implements GroundTruth {
  readonly description: string;
  readonly file: TruthFileReading;
  readonly recorded: LabelTotals;
  private readonly byTxn: ReadonlyMap<string, Entry>;

  private constructor(source: string, byTxn: Map<string, Entry>, file: TruthFileReading) {
    this.description = `truth file ${source}`;
    this.byTxn = byTxn;
    this.file = file;
    const totals = { outlier: { transactions: 0, gaps: 0 }, stuck: { transactions: 0 }, step_failure: { transactions: 0, failures: 0, final: 0 } };
    for (const entry of byTxn.values()) {
      if (entry.outlierGaps > 0) {
        totals.outlier.transactions++;
        totals.outlier.gaps += entry.outlierGaps;
      }
      if (!Number.isNaN(entry.stuckSince)) totals.stuck.transactions++;
      if (entry.failures > 0) {
        totals.step_failure.transactions++;
        totals.step_failure.failures += entry.failures;
        if (entry.final) totals.step_failure.final++;
      }
    }
    this.recorded = totals;
  }

  /**
   * Reads a truth file. Lines that are not truth records are counted and the first few kept; a file
   * whose first record is not one is refused (most likely the wrong file: the events, say).
   */
  static async load(source: EventSource, flag = "--truth"): Promise<TruthFile> {
    const { Compile } = await import("typebox/compile");
    const validators = new Map<string, ReturnType<typeof Compile>>([
      ["outlier", Compile(OutlierLabel)],
      ["stuck", Compile(StuckLabel)],
      ["step_failure", Compile(StepFailureLabel)],
    ]);
    const byTxn = new Map<string, Entry>();
    let lines = 0;
    let records = 0;
    let invalid = 0;
    const examples: InvalidLine[] = [];
    for await (const line of linesOf(source)) {
      lines++;
      if (line.trim() === "") continue;
      const checked = checkRecord(line, validators);
      if (typeof checked === "string") {
        if (records === 0 && invalid === 0) {
          throw new WfsimError(
            "FILE",
            `${flag} ${source.name}: line ${lines} is not a wfsim truth record (${checked}); expected the file written by wfsim run --truth`,
          );
        }
        invalid++;
        if (examples.length < MAX_EXAMPLES) examples.push({ source: source.name, line: lines, reason: checked });
        continue;
      }
      records++;
      addTruthRecord(byTxn, checked);
    }
    return new TruthFile(source.name, byTxn, { lines, records, invalid_lines: invalid, invalid_examples: examples });
  }

  labelsOf(txn: ObservedTransaction): TransactionLabels | undefined {
    const entry = this.byTxn.get(txn.key);
    return entry === undefined ? undefined : entryLabels(entry);
  }
}

/** What one transaction's truth records say was injected into it (live scoring reads them this way too). */
export function entryLabels(entry: Entry): TransactionLabels {
  return {
    outlier:
      entry.outlierGaps > 0
        ? { waitStartedMs: entry.outlierAt, gaps: entry.outlierGaps, ...(entry.fromSteps !== undefined ? { fromSteps: entry.fromSteps } : {}) }
        : undefined,
    stuck: Number.isNaN(entry.stuckSince) ? undefined : { silentSinceMs: entry.stuckSince },
    failures: entry.failures > 0 ? { count: entry.failures, final: entry.final } : undefined,
  };
}

/** The record on a line, or why it is not one. */
function checkRecord(line: string, validators: ReadonlyMap<string, { Check(value: unknown): boolean; Errors(value: unknown): readonly { instancePath: string; message: string }[] }>): TruthRecord | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return `not valid JSON (${(error as Error).message})`;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "not a JSON object";
  const kind = (value as { kind?: unknown }).kind;
  const validator = typeof kind === "string" ? validators.get(kind) : undefined;
  if (validator === undefined) {
    return kind === undefined ? "kind is missing" : `kind must be one of ${TRUTH_KINDS.join(", ")}, got ${JSON.stringify(kind)}`;
  }
  if (validator.Check(value)) return value as TruthRecord;
  const error = validator.Errors(value)[0];
  const where = error?.instancePath.replace(/^\//, "").replaceAll("/", ".") ?? "";
  return `${kind as TruthKind} record: ${where === "" ? "" : `${where} `}${error?.message ?? "does not match its schema"}`;
}

/** Adds a truth record to its transaction's entry (keyed by table key). */
export function addTruthRecord(byTxn: Map<string, Entry>, record: TruthRecord): void {
  const key = tableKey(record.txn_id);
  let entry = byTxn.get(key);
  if (entry === undefined) {
    entry = { outlierGaps: 0, outlierAt: NaN, fromSteps: undefined, stuckSince: NaN, failures: 0, final: false };
    byTxn.set(key, entry);
  }
  switch (record.kind) {
    case "outlier":
      entry.outlierGaps++;
      if (!(record.ts_ms >= entry.outlierAt)) entry.outlierAt = record.ts_ms;
      if ((entry.fromSteps ??= []).length < MAX_STEPS_KEPT) entry.fromSteps.push(record.from_step);
      break;
    case "stuck":
      entry.stuckSince = record.silent_since_ms;
      break;
    case "step_failure":
      entry.failures++;
      if (record.final) entry.final = true;
      break;
  }
}
