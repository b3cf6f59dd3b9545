/**
 * Ground truth from a wfsim truth file (`wfsim run --truth FILE`): the answers for a stream that
 * carries no hints. The file is read once, before the stream, and kept by transaction: memory grows
 * with the labelled transactions (about 4% of them on the seed's workload), not with the stream.
 */
import type { InvalidLine } from "../report.ts";
import { linesOf } from "../read/lines.ts";
import { hashBytes } from "../read/line-scanner.ts";
import type { EventSource } from "../read/source.ts";
import { tableKey } from "../measure/txn-table.ts";
import { MAX_EXAMPLES } from "../measure/violations.ts";
import type { FaultTruth, GroundTruth, LostRecord, TxnRepair, LabelTotals, ObservedTransaction, TransactionLabels, TruthFileReading } from "./truth.ts";
import { FaultRecord, OutlierLabel, StepFailureLabel, StuckLabel, TRUTH_KINDS, type TruthKind, type TruthLine, type TruthRecord } from "../../events/truth.ts";
import { FAULT_KINDS } from "../../config/scenario/model.ts";
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
  readonly faults: FaultTruth | undefined;
  /** Every fault record, as read (a shaped stream's faults are undone from them: fault-repair.ts). */
  readonly faultRecords: readonly FaultRecord[];
  /** step_failure reasons by `txn_id/step/attempt`. */
  readonly failureReasons: ReadonlyMap<string, string>;
  private readonly byTxn: ReadonlyMap<string, Entry>;

  private constructor(source: string, byTxn: Map<string, Entry>, file: TruthFileReading, faults: FaultTally, reasons: ReadonlyMap<string, string>) {
    this.description = `truth file ${source}`;
    this.faultRecords = faults.list;
    this.failureReasons = reasons;
    this.byTxn = byTxn;
    this.file = file;
    const lostInOrder: { key: string; hash: number; ts: number }[] = [];
    for (const [key, repair] of faults.repairs) {
      repair.lost.sort((a, b) => a.ts - b.ts || a.seq - b.seq);
      if (repair.lost.length === 0) continue;
      const bytes = Buffer.from(key, "latin1");
      const hash = hashBytes(bytes, 0, bytes.length);
      for (const lost of repair.lost) lostInOrder.push({ key, hash, ts: lost.ts });
    }
    lostInOrder.sort((a, b) => a.ts - b.ts);
    this.faults =
      faults.records === 0
        ? undefined
        : { injected: faults.injected, endLost: (key) => faults.endsLost.has(key), repairOf: (key) => repairState(faults.repairs.get(key)), maxDelayMs: faults.maxDelayMs, lostInOrder };
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
    const faultValidator = Compile(FaultRecord);
    for (const kind of FAULT_KINDS) validators.set(kind, faultValidator);
    const reasons = new Map<string, string>();
    const faults: FaultTally = { list: [], records: 0, injected: { drop: 0, duplicate: 0, delay: 0, skew: 0, corrupt: 0 }, endsLost: new Set(), repairs: new Map(), maxDelayMs: 0 };
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
      if (isFault(checked)) addFault(faults, checked);
      else {
        addTruthRecord(byTxn, checked);
        if (checked.kind === "step_failure") reasons.set(`${checked.txn_id}/${checked.step}/${checked.attempt}`, checked.reason);
      }
    }
    return new TruthFile(source.name, byTxn, { lines, records, invalid_lines: invalid, invalid_examples: examples }, faults, reasons);
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

/** What the file says was done to one transaction's records. */
interface TxnFaults {
  skewMs: number;
  readonly lost: LostRecord[];
  readonly delayed: LostRecord[];
}

/** A fresh state of undoing a transaction's faults: each analysis reading the truth keeps its own. */
function repairState(faults: TxnFaults | undefined): TxnRepair | undefined {
  if (faults === undefined) return undefined;
  return { skewMs: faults.skewMs, lost: faults.lost, next: 0, delayed: [...faults.delayed], queue: [], endRead: false, endTs: NaN, endComplete: 0 };
}

interface FaultTally {
  readonly list: FaultRecord[];
  records: number;
  readonly injected: Record<FaultRecord["kind"], number>;
  /** Table keys of transactions whose ending record was dropped or corrupted. */
  readonly endsLost: Set<string>;
  /** By table key: what to undo (skews, lost records). */
  readonly repairs: Map<string, TxnFaults>;
  maxDelayMs: number;
}

const ENDINGS: ReadonlySet<string> = new Set(["transaction_close", "transaction_failed", "transaction_aborted"]);

function isFault(record: TruthLine): record is FaultRecord {
  return (FAULT_KINDS as readonly string[]).includes(record.kind);
}

function addFault(tally: FaultTally, record: FaultRecord): void {
  tally.records++;
  tally.list.push(record);
  tally.injected[record.kind]++;
  const key = tableKey(record.txn_id);
  if ((record.kind === "drop" || record.kind === "corrupt") && ENDINGS.has(record.type)) tally.endsLost.add(key);
  if (record.kind === "delay" || record.kind === "duplicate") {
    if (record.delay_ms !== undefined && record.delay_ms > tally.maxDelayMs) tally.maxDelayMs = record.delay_ms;
    // A duplicate's first copy is in place; the later one is told apart by the stream checks.
    if (record.kind === "duplicate") return;
  }
  let repair = tally.repairs.get(key);
  if (repair === undefined) {
    repair = { skewMs: 0, lost: [], delayed: [] };
    tally.repairs.set(key, repair);
  }
  if (record.kind === "skew") repair.skewMs = record.offset_ms ?? 0;
  // A lost record's event time: its ts_ms as it would have been emitted, less its transaction's skew
  // (due_ms is that event time).
  else if (record.kind === "delay") repair.delayed.push({ type: record.type, step: record.step ?? NaN, ts: record.due_ms, seq: record.seq });
  else (repair.lost as LostRecord[]).push({ type: record.type, step: record.step ?? NaN, ts: record.due_ms, seq: record.seq });
}

/** The record on a line, or why it is not one. */
function checkRecord(line: string, validators: ReadonlyMap<string, { Check(value: unknown): boolean; Errors(value: unknown): readonly { instancePath: string; message: string }[] }>): TruthLine | string {
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
    return kind === undefined ? "kind is missing" : `kind must be one of ${[...TRUTH_KINDS, ...FAULT_KINDS].join(", ")}, got ${JSON.stringify(kind)}`;
  }
  if (validator.Check(value)) return value as TruthLine;
  const error = validator.Errors(value)[0];
  const where = error?.instancePath.replace(/^\//, "").replaceAll("/", ".") ?? "";
  return `${kind as string} record: ${where === "" ? "" : `${where} `}${error?.message ?? "does not match its schema"}`;
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
