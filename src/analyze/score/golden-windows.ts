/**
 * Golden answers for a pipeline's windowed results: tumbling windows in event time, aligned on the
 * epoch (window k covers ts_ms in [k·size, (k+1)·size)), filled in the analysis's single pass.
 *
 * What puts a transaction (or, `by: "step"`, a step of one) in a window:
 * - opened: its transaction_open's ts_ms (a step: its first attempt's step_open);
 * - completed, failed, aborted: the ts_ms of the event that ends it (transaction_close,
 *   transaction_failed, transaction_aborted; a step: its step_done, or its transaction's failure or
 *   abort while it was open);
 * - stuck: the window it opened in, when the ground truth says it was made to go silent (a step: the
 *   step it went silent in);
 * - in_flight: opened before the window's end and not ended before it (transactions whose opening
 *   the stream did not show are not counted);
 * - duration percentiles: the duration_ms of the transactions completed in the window (a step: from
 *   its first step_open to its step_done), nearest-rank (frequency.ts).
 *
 * Memory: one row of counters per window and group, which is the output itself, plus the durations
 * of the windows still open. A window's durations are summed up and let go
 * once the stream's newest ts_ms is HOLD past its end; a completion that comes later still counts,
 * and is reported as late (its duration is not in the percentiles).
 */
import { percentile } from "../measure/frequency.ts";
import { WfsimError } from "../../errors.ts";
import { DURATION_EXPECTED, formatMs, parseDuration } from "../../config/units.ts";

export const WINDOW_GROUPINGS = ["workflow", "step"] as const;
export type WindowGrouping = (typeof WINDOW_GROUPINGS)[number];

export interface WindowOptions {
  /** The window's length in ms: a whole number, at least 1. */
  readonly sizeMs: number;
  /** Transactions of every kind together (undefined), per workflow, or per workflow and step. */
  readonly by?: WindowGrouping | undefined;
}

/** One window of one group: what the golden answer file holds, one line each. */
export interface WindowRow {
  readonly window_start_ms: number;
  readonly window_end_ms: number;
  readonly window_start: string;
  /** With by workflow or step: the workflow (null when the events name none). */
  readonly workflow?: string | null;
  /** With by step: the step's number in its workflow. */
  readonly step?: number;
  readonly opened: number;
  readonly completed: number;
  readonly failed: number;
  readonly aborted: number;
  readonly stuck: number;
  readonly in_flight: number;
  readonly duration_p50_ms: number | null;
  readonly duration_p95_ms: number | null;
  readonly duration_p99_ms: number | null;
  readonly duration_max_ms: number | null;
}

/** The figures of a row, in the order files list them: what `wfsim compare` compares. */
export const WINDOW_FIGURES = [
  "opened",
  "completed",
  "failed",
  "aborted",
  "stuck",
  "in_flight",
  "duration_p50_ms",
  "duration_p95_ms",
  "duration_p99_ms",
  "duration_max_ms",
] as const;
export type WindowFigure = (typeof WINDOW_FIGURES)[number];
export const PERCENTILE_FIGURES: readonly WindowFigure[] = ["duration_p50_ms", "duration_p95_ms", "duration_p99_ms", "duration_max_ms"];

export interface WindowsResult {
  readonly size_ms: number;
  readonly by: WindowGrouping | null;
  readonly rows: readonly WindowRow[];
  /** Completions that came after their window's durations were summed up (not in its percentiles). */
  readonly late_completions: number;
}

/** How long past a window's end its durations are kept for completions that come late. */
export function holdMs(sizeMs: number): number {
  return Math.max(sizeMs, 60_000);
}

export type WindowOutcome = "completed" | "failed" | "aborted";

class Cell {
  opened = 0;
  completed = 0;
  failed = 0;
  aborted = 0;
  stuck = 0;
  /** Ended here, having been opened in the stream (what in_flight subtracts). */
  closedOpened = 0;
  /** Durations completed here, until the window is sealed (a plain array: pushing is the cheapest per-event work). */
  durations: number[] | undefined = undefined;
  p50: number | null = null;
  p95: number | null = null;
  p99: number | null = null;
  max: number | null = null;
  sealed = false;

  seal(): void {
    this.sealed = true;
    const durations = this.durations;
    this.durations = undefined;
    if (durations === undefined || durations.length === 0) return;
    const values = Float64Array.from(durations).sort();
    const sorted = { values, counts: new Float64Array(values.length).fill(1), total: values.length };
    this.p50 = percentile(sorted, 50);
    this.p95 = percentile(sorted, 95);
    this.p99 = percentile(sorted, 99);
    this.max = values[values.length - 1]!;
  }
}

/** A group: its name(s), as rows show them. */
interface Group {
  readonly workflow: string | null;
  readonly step: number;
}

export class GoldenWindows {
  readonly sizeMs: number;
  readonly by: WindowGrouping | undefined;
  private readonly hold: number;
  /** Window index → cells by group id. */
  private readonly windows = new Map<number, Cell[]>();
  private readonly groups: Group[] = [];
  private readonly groupIds = new Map<string, number>();
  private lastIndex = NaN;
  private lastCells: Cell[] = [];
  /** The oldest window whose durations are still kept, and the ts_ms at which it is sealed. */
  private unsealed = NaN;
  private sealAt = Infinity;
  private firstTs = Infinity;
  private newestTs = -Infinity;
  private late = 0;

  /** `extraHoldMs`: how much later than their event time records may come (delivery faults: delayed ones). */
  constructor(options: WindowOptions, extraHoldMs = 0) {
    this.sizeMs = options.sizeMs;
    this.by = options.by;
    this.hold = holdMs(options.sizeMs) + extraHoldMs;
    // Ungrouped, every transaction is in group 0.
    if (options.by === undefined) this.group("");
  }

  /** The group id of a workflow (and step); "" when the events name no workflow. */
  group(workflow: string, step = 0): number {
    const key = step === 0 ? workflow : `${workflow}\u0000${step}`;
    let id = this.groupIds.get(key);
    if (id === undefined) {
      id = this.groups.length;
      this.groups.push({ workflow: workflow === "" ? null : workflow, step });
      this.groupIds.set(key, id);
    }
    return id;
  }

  /** Every event's ts_ms passes by: windows far enough behind the newest are sealed. */
  advance(ts: number): void {
    if (ts < this.firstTs) this.firstTs = ts;
    if (ts > this.newestTs) this.newestTs = ts;
    if (ts >= this.sealAt) this.sealUpTo(ts);
  }

  /** Windows whose durations are still kept (what memory grows with, besides one row per window). */
  get heldWindows(): number {
    let held = 0;
    for (const index of this.windows.keys()) if (!(index < this.unsealed)) held++;
    return held;
  }

  opened(ts: number, group: number): void {
    this.cell(ts, group).opened++;
  }

  /** A transaction (or step) ended; `wasOpened`: its opening was in the stream (counted in in_flight). */
  ended(ts: number, group: number, outcome: WindowOutcome, durationMs: number, wasOpened: boolean): void {
    const cell = this.cell(ts, group);
    if (wasOpened) cell.closedOpened++;
    if (outcome === "completed") {
      cell.completed++;
      if (Number.isNaN(durationMs)) return;
      if (cell.sealed) this.late++;
      else (cell.durations ??= []).push(durationMs);
    } else if (outcome === "failed") cell.failed++;
    else cell.aborted++;
  }

  /** A transaction (or step) that opened at `openedTs` went silent for good, as the truth says. */
  stuck(openedTs: number, group: number): void {
    this.cell(openedTs, group).stuck++;
  }

  private cell(ts: number, group: number): Cell {
    const index = Math.floor(ts / this.sizeMs);
    let cells: Cell[];
    if (index === this.lastIndex) cells = this.lastCells;
    else {
      let found = this.windows.get(index);
      if (found === undefined) {
        found = [];
        this.windows.set(index, found);
        if (Number.isNaN(this.unsealed)) this.unsealed = index;
        this.sealAt = Math.min(this.sealAt, (index + 1) * this.sizeMs + this.hold);
      }
      cells = found;
      this.lastIndex = index;
      this.lastCells = found;
    }
    let cell = cells[group];
    if (cell === undefined) {
      cell = new Cell();
      // A window already sealed gets no durations kept any more.
      if (index < this.unsealed) cell.sealed = true;
      cells[group] = cell;
    }
    return cell;
  }

  /** Seals the windows whose end is `hold` or more before `ts`. */
  private sealUpTo(ts: number): void {
    const last = Math.floor((ts - this.hold) / this.sizeMs) - 1;
    if (last - this.unsealed < this.windows.size) {
      for (let index = this.unsealed; index <= last; index++) {
        const cells = this.windows.get(index);
        if (cells !== undefined) for (const cell of cells) cell?.seal();
      }
    } else {
      // A jump far ahead (a clock off by years): the windows there are, not every index between.
      for (const [index, cells] of this.windows) if (index >= this.unsealed && index <= last) for (const cell of cells) cell?.seal();
    }
    this.unsealed = Math.max(this.unsealed, last + 1);
    this.sealAt = (this.unsealed + 1) * this.sizeMs + this.hold;
  }

  /**
   * The rows, window by window from the stream's first to its last, groups in the order they were
   * first seen. Ungrouped, every window has a row; grouped, a group has a row in a window where one
   * of its figures is not zero.
   */
  result(): WindowsResult {
    const rows: WindowRow[] = [];
    const inFlight: number[] = [];
    const size = this.sizeMs;
    if (this.firstTs <= this.newestTs) {
      // Every window with a cell counts, also one before the first event's (a stuck step's).
      let from = Math.floor(this.firstTs / size);
      const to = Math.floor(this.newestTs / size);
      for (const index of this.windows.keys()) if (index < from) from = index;
      for (let index = from; index <= to; index++) {
        const cells = this.windows.get(index) ?? [];
        const start = index * size;
        for (let id = 0; id < this.groups.length; id++) {
          const cell = cells[id];
          if (cell !== undefined && !cell.sealed) cell.seal();
          const flying = (inFlight[id] ?? 0) + (cell?.opened ?? 0) - (cell?.closedOpened ?? 0);
          inFlight[id] = flying;
          const empty = cell === undefined || cell.opened + cell.completed + cell.failed + cell.aborted + cell.stuck === 0;
          if (this.by !== undefined && empty && flying === 0) continue;
          const group = this.groups[id]!;
          rows.push({
            window_start_ms: start,
            window_end_ms: start + size,
            window_start: new Date(start).toISOString(),
            ...(this.by === undefined ? {} : { workflow: group.workflow }),
            ...(this.by === "step" ? { step: group.step } : {}),
            opened: cell?.opened ?? 0,
            completed: cell?.completed ?? 0,
            failed: cell?.failed ?? 0,
            aborted: cell?.aborted ?? 0,
            stuck: cell?.stuck ?? 0,
            in_flight: flying,
            duration_p50_ms: cell?.p50 ?? null,
            duration_p95_ms: cell?.p95 ?? null,
            duration_p99_ms: cell?.p99 ?? null,
            duration_max_ms: cell?.max ?? null,
          });
        }
      }
    }
    return { size_ms: size, by: this.by ?? null, rows, late_completions: this.late };
  }
}

/** A window size as given (`1m`, `500ms`, `30s`): whole milliseconds, at least 1. */
export function parseWindowSize(raw: unknown, name = "--windows"): number {
  const ms = parseDuration(raw);
  if (ms === undefined) throw new WfsimError("INVALID_OPTION", `${name} must be ${DURATION_EXPECTED}, got ${JSON.stringify(raw)}`);
  if (ms < 1) throw new WfsimError("INVALID_OPTION", `${name} must be at least 1ms, got ${JSON.stringify(raw)}`);
  if (!Number.isInteger(ms)) throw new WfsimError("INVALID_OPTION", `${name} must be a whole number of milliseconds, got ${JSON.stringify(raw)} (${ms} ms)`);
  return ms;
}

/** Refuses windows longer than the stream's span (its first to its last ts_ms). */
export function checkWindowsFitRun(sizeMs: number, spanMs: number | null, name = "--windows"): void {
  if (spanMs === null) throw new WfsimError("INVALID_OPTION", `${name}: the stream has no events to put in windows`);
  if (sizeMs > spanMs) {
    throw new WfsimError("INVALID_OPTION", `${name} ${formatMs(sizeMs)} is larger than the run: its events span ${formatMs(spanMs)} (first to last ts_ms)`);
  }
}
