/**
 * Shaped records back into wfsim's lifecycle events, so that the whole analysis (figures, outliers,
 * ground truth, alerts) reads a shaped stream as it reads wfsim's own. Each record is matched to its
 * record type and moment by its signature (plan.ts); its event is rebuilt from the fields that hold
 * lifecycle values, and what no field holds is worked out from the scenario and the transaction's
 * earlier records:
 * - type, workflow, step, step_name, from_step, to_step, steps: from the moment and the scenario;
 * - attempt: the count of the step's step_open records; duration_ms: the time minus the open's;
 *   steps_completed: the steps done; work_ms: the time minus the step_open's;
 * - pre_delay_ms: the time minus the open's (step 1), the retry's (a retry), or the wait's end;
 * - a moment without a record that follows another at the same instant (inter_step_wait after a
 *   step_done, step_retry after a failure with retries left, transaction_close after the last step,
 *   transaction_failed after the last failure): made up; its wait (planned_wait_ms, backoff_ms) is
 *   known when the next step_open comes, and it is handed on just before that step_open.
 * - a blind stream (`wfsim run --truth`, unless --no-blind) announces no wait: the values that would
 *   (pre_delay_ms, work_ms, planned_wait_ms, backoff_ms) come only from a field that holds them, no
 *   inter_step_wait is made up, and transaction_open carries steps_planned, as wfsim's own blind
 *   events do. The report is then the one the same blind run without the section gets.
 * Transactions are kept from their open to their end, as the analysis keeps them.
 */
import type { WfEvent } from "../../../events/schema.ts";
import { serializeEvent } from "../../../events/serialize.ts";
import { VERSION } from "../../../version.ts";
import { momentKey, type Candidate, type Path, type ReadPlan } from "./plan.ts";
import type { ShapedFaultRepair } from "./fault-repair.ts";
import type { TimedMoment } from "./order.ts";

interface TxnState {
  readonly workflow: number;
  readonly openTs: number;
  /** 0-based step of the last step_open, -1 before the first. */
  step: number;
  attempt: number;
  stepsDone: number;
  lastOpenTs: number;
  waitTs: number;
  /** NaN when the wait's length is not known (yet). */
  waitPlanned: number;
  retryTs: number;
  failReason: string;
  failAttempt: number;
  /** A made-up wait or retry whose length the next step_open tells. */
  pending: (WfEvent & { type: "inter_step_wait" | "step_retry" }) | undefined;
}

/** A transaction followed from its open at `openTs` (NaN: its open was not read), before its first step. */
function newState(workflow: number, openTs: number, lastOpenTs: number): TxnState {
  return { workflow, openTs, step: -1, attempt: 0, stepsDone: 0, lastOpenTs, waitTs: NaN, waitPlanned: NaN, retryTs: NaN, failReason: "", failAttempt: 0, pending: undefined };
}

/** One record's line, read: its value, record type and moment, transaction and time (when it stands for a moment). */
export interface ParsedRecord {
  readonly line: string;
  /** Undefined when the line is not JSON. */
  readonly value: unknown;
  /** Undefined when the record is none of the scenario's. */
  readonly candidate: Candidate | undefined;
  /** "" when the record holds no transaction id (or is not a primary record of its moment). */
  readonly txnId: string;
  /** NaN when the record holds no readable time. */
  readonly ts: number;
}

/** A record that stands for a lifecycle moment of a transaction, at a known time. */
export function isLifecycleRecord(parsed: ParsedRecord): parsed is ParsedRecord & { readonly candidate: Candidate } {
  return parsed.candidate !== undefined && parsed.candidate.primary && parsed.txnId !== "" && Number.isFinite(parsed.ts);
}

/** Stands for a record that is not one of the scenario's: the analysis counts it as an invalid line. */
const NO_LOSSES: ReadonlyMap<string, readonly TimedMoment[]> = new Map();

const UNRECOGNISED = '{"unrecognised_record":true}';

export class ShapedRebuilder {
  private readonly plan: ReadPlan;
  private readonly transactions = new Map<string, TxnState>();
  private readonly primaries = new Set<string>();
  private readonly meta: { timezone: string; sim_version: string };
  private readonly lastStep: readonly number[];
  private readonly blind: boolean;

  /** Delivery faults the truth names, undone before the rebuild (fault-repair.ts). */
  private readonly repair: ShapedFaultRepair | undefined;

  /** `blind`: the records come from a blind run (see above); `repair`: the faults to undo. */
  constructor(plan: ReadPlan, { blind = false, repair }: { blind?: boolean; repair?: ShapedFaultRepair } = {}) {
    this.plan = plan;
    this.blind = blind;
    this.repair = repair;
    for (const candidate of plan.candidates) if (candidate.primary) this.primaries.add(momentKey(candidate.moment));
    this.meta = { timezone: plan.scenario.timezone ?? "UTC", sim_version: VERSION };
    this.lastStep = plan.scenario.workflows.map((w) => w.steps.length - 1);
  }

  /** Per transaction, the moments whose records the truth says were lost (for the millisecond order); empty without faults to undo. */
  get lostMoments(): ReadonlyMap<string, readonly TimedMoment[]> {
    return this.repair?.lostMoments ?? NO_LOSSES;
  }

  /** Transactions followed now. */
  get open(): number {
    return this.transactions.size;
  }

  /** The lifecycle lines (with newlines) that one record's line stands for: none, one, or more. */
  record(line: string, out: (text: string) => void): void {
    const parsed = this.parse(line);
    if (parsed !== undefined) this.rebuildParsed(parsed, out);
  }

  /** A record's line read and matched to its record type and moment (undefined for a blank line). */
  parse(line: string): ParsedRecord | undefined {
    if (line.trim() === "") return undefined;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return { line, value: undefined, candidate: undefined, txnId: "", ts: NaN };
    }
    const candidate = this.match(value);
    if (candidate === undefined || !candidate.primary) return { line, value, candidate, txnId: "", ts: NaN };
    const txnId = read(value, candidate.fields.txn_id!);
    const ts = this.time(read(value, candidate.fields.time!), candidate);
    return { line, value, candidate, txnId: typeof txnId === "string" ? txnId : "", ts };
  }

  /** The lifecycle lines a parsed record stands for (with faults to undo: and those it lets go on). */
  rebuildParsed(parsed: ParsedRecord, out: (text: string) => void): void {
    if (this.repair === undefined) return this.rebuildOne(parsed, out);
    this.repair.push(parsed, (settled) => this.rebuildOne(settled, out));
  }

  /** The lines of records held to undo faults: the stream has ended. */
  finish(out: (text: string) => void): void {
    this.repair?.finish((settled) => this.rebuildOne(settled, out));
  }

  private rebuildOne(parsed: ParsedRecord, out: (text: string) => void): void {
    const { candidate, value } = parsed;
    if (candidate === undefined) {
      // Not JSON: handed on as it is, for the analysis to count as an invalid line.
      out(value === undefined ? `${parsed.line}\n` : `${UNRECOGNISED}\n`);
      return;
    }
    if (!candidate.primary) return;
    if (!isLifecycleRecord(parsed)) {
      out(`${UNRECOGNISED}\n`);
      return;
    }
    const emit = (event: WfEvent) => out(serializeEvent(event));
    this.rebuild(candidate, value, parsed.txnId, parsed.ts, emit);
  }

  private match(value: unknown): Candidate | undefined {
    for (const candidate of this.plan.candidates) {
      if (candidate.signature.every((sig) => jsonOf(read(value, sig.path)) === sig.json)) return candidate;
    }
    return undefined;
  }

  private time(raw: unknown, candidate: Candidate): number {
    if (candidate.timeFormat === "iso" || candidate.timeFormat === "iso_utc") return typeof raw === "string" ? Date.parse(raw) : NaN;
    return typeof raw === "number" && Number.isSafeInteger(raw) ? raw : NaN;
  }

  private rebuild(candidate: Candidate, value: unknown, txnId: string, ts: number, emit: (event: WfEvent) => void): void {
    const { moment, fields } = candidate;
    const workflow = this.plan.scenario.workflows[moment.workflow]!;
    const field = (name: keyof Candidate["fields"]): unknown => (fields[name] === undefined ? undefined : read(value, fields[name]!));
    const integer = (name: keyof Candidate["fields"]): number | undefined => {
      const v = field(name);
      return typeof v === "number" && Number.isSafeInteger(v) ? v : undefined;
    };
    const text = (name: keyof Candidate["fields"]): string | undefined => {
      const v = field(name);
      return typeof v === "string" ? v : undefined;
    };
    const boolean = (name: keyof Candidate["fields"]): boolean | undefined => {
      const v = field(name);
      return typeof v === "boolean" ? v : undefined;
    };
    const base = { txn_id: txnId, ts_ms: ts };
    if (moment.event === "transaction_open") {
      this.transactions.set(txnId, newState(moment.workflow, ts, ts));
      const stuck = boolean("stuck");
      emit({
        type: "transaction_open",
        ...base,
        meta: this.meta,
        workflow: workflow.name,
        ...(stuck === true ? { stuck } : {}),
        ...(this.blind ? { steps_planned: workflow.steps.length } : {}),
      });
      return;
    }
    const state = this.transactions.get(txnId) ?? this.adopt(txnId, moment.workflow, ts);
    const s = moment.step;
    const stepName = s >= 0 ? workflow.steps[s]!.name : "";
    switch (moment.event) {
      case "step_open": {
        const attempt = integer("attempt") ?? (state.step === s ? state.attempt + 1 : 1);
        let preDelay = integer("pre_delay_ms");
        if (preDelay === undefined && !this.blind) {
          if (attempt > 1) preDelay = ts - state.retryTs;
          else if (s === 0) preDelay = ts - state.openTs;
          else preDelay = ts - state.waitTs - state.waitPlanned;
        }
        this.completePending(state, ts, preDelay ?? NaN, emit);
        state.step = s;
        state.attempt = attempt;
        state.lastOpenTs = ts;
        emit({
          type: "step_open",
          ...base,
          step: s + 1,
          ts_ms: ts,
          ...(preDelay === undefined ? {} : { pre_delay_ms: Number.isFinite(preDelay) ? Math.max(0, preDelay) : 0 }),
          workflow: workflow.name,
          step_name: stepName,
          ...(attempt > 1 ? { attempt } : {}),
        });
        return;
      }
      case "step_done": {
        const attempt = integer("attempt") ?? state.attempt;
        state.stepsDone = s + 1;
        emit({
          type: "step_done",
          ...base,
          step: s + 1,
          workflow: workflow.name,
          step_name: stepName,
          ...(attempt > 1 ? { attempt } : {}),
          ...this.workMs(integer("work_ms"), ts, state),
        });
        if (s === this.lastStep[moment.workflow]) {
          if (!this.hasRecord("transaction_close", moment.workflow, -1)) this.close(txnId, state, ts, undefined, emit);
        } else if (!this.blind && !this.hasRecord("inter_step_wait", moment.workflow, s)) {
          state.waitTs = ts;
          state.waitPlanned = NaN;
          state.pending = { type: "inter_step_wait", ...base, from_step: s + 1, to_step: s + 2, planned_wait_ms: 0, workflow: workflow.name };
        }
        return;
      }
      case "inter_step_wait": {
        const planned = integer("planned_wait_ms");
        const outlier = boolean("outlier_injected");
        state.waitTs = ts;
        state.waitPlanned = planned ?? NaN;
        const event: WfEvent & { type: "inter_step_wait" } = {
          type: "inter_step_wait",
          ...base,
          from_step: s + 1,
          to_step: s + 2,
          planned_wait_ms: planned ?? 0,
          ...(outlier === undefined ? {} : { outlier_injected: outlier }),
          workflow: workflow.name,
        };
        if (planned === undefined) state.pending = event;
        else emit(event);
        return;
      }
      case "step_failed": {
        const attempt = integer("attempt") ?? state.attempt;
        const reason = text("reason") ?? "unknown";
        state.failReason = reason;
        state.failAttempt = attempt;
        state.retryTs = ts;
        emit({
          type: "step_failed",
          ...base,
          step: s + 1,
          attempt,
          reason,
          ...this.workMs(integer("work_ms"), ts, state),
          workflow: workflow.name,
          step_name: stepName,
        });
        const retries = this.plan.retries[moment.workflow]![s]!;
        if (attempt > retries) {
          if (!this.hasRecord("transaction_failed", moment.workflow, -1)) this.fail(txnId, state, ts, undefined, emit);
        } else if (!this.hasRecord("step_retry", moment.workflow, s)) {
          const retry = { type: "step_retry", ...base, step: s + 1, attempt: attempt + 1, workflow: workflow.name, step_name: stepName } as const;
          // A blind stream's retry says nothing of its backoff: it goes out at once, as wfsim's own does.
          if (this.blind) emit(retry);
          else state.pending = { ...retry, backoff_ms: 0 };
        }
        return;
      }
      case "step_retry": {
        const backoff = integer("backoff_ms");
        state.retryTs = ts;
        const event: WfEvent & { type: "step_retry" } = {
          type: "step_retry",
          ...base,
          step: s + 1,
          attempt: integer("attempt") ?? state.attempt + 1,
          ...(backoff === undefined && this.blind ? {} : { backoff_ms: backoff ?? 0 }),
          workflow: workflow.name,
          step_name: stepName,
        };
        if (backoff === undefined && !this.blind) state.pending = event;
        else emit(event);
        return;
      }
      case "transaction_close":
        this.close(txnId, state, ts, integer("duration_ms"), emit);
        return;
      case "transaction_failed":
        this.fail(txnId, state, ts, integer("duration_ms"), emit, text("reason"), integer("attempt"));
        return;
      case "transaction_aborted":
        this.completePending(state, NaN, NaN, emit);
        this.transactions.delete(txnId);
        emit({
          type: "transaction_aborted",
          ...base,
          duration_ms: integer("duration_ms") ?? ts - state.openTs,
          steps_completed: integer("steps_completed") ?? state.stepsDone,
          reason: text("reason") ?? "aborted",
          workflow: workflow.name,
        });
        return;
    }
  }

  /** A step's work_ms: the field's, else (unless blind) the time since the step's open. */
  private workMs(field: number | undefined, ts: number, state: TxnState): { work_ms?: number } {
    if (field !== undefined) return { work_ms: field };
    return this.blind ? {} : { work_ms: Math.max(0, ts - state.lastOpenTs) };
  }

  /** A record of a transaction whose open was not read (the stream began later): followed from here. */
  private adopt(txnId: string, workflow: number, ts: number): TxnState {
    const state = newState(workflow, NaN, ts);
    this.transactions.set(txnId, state);
    return state;
  }

  private hasRecord(event: Candidate["moment"]["event"], workflow: number, step: number): boolean {
    return this.primaries.has(momentKey({ event, workflow, step }));
  }

  /** Hands on a made-up wait or retry, its length worked out from the step_open at `ts` (NaN: unknown). */
  private completePending(state: TxnState, ts: number, preDelay: number, emit: (event: WfEvent) => void): void {
    const pending = state.pending;
    if (pending === undefined) return;
    state.pending = undefined;
    if (pending.type === "inter_step_wait") {
      const planned = ts - pending.ts_ms - preDelay;
      emit({ ...pending, planned_wait_ms: Number.isFinite(planned) ? Math.max(0, planned) : 0 });
    } else {
      const backoff = ts - pending.ts_ms;
      emit({ ...pending, backoff_ms: Number.isFinite(backoff) ? Math.max(0, backoff) : 0 });
    }
  }

  private close(txnId: string, state: TxnState, ts: number, duration: number | undefined, emit: (event: WfEvent) => void): void {
    this.transactions.delete(txnId);
    const workflow = this.plan.scenario.workflows[state.workflow]!;
    emit({
      type: "transaction_close",
      txn_id: txnId,
      ts_ms: ts,
      duration_ms: duration ?? ts - state.openTs,
      steps: workflow.steps.length,
      workflow: workflow.name,
    });
  }

  private fail(
    txnId: string,
    state: TxnState,
    ts: number,
    duration: number | undefined,
    emit: (event: WfEvent) => void,
    reason?: string,
    attempts?: number,
  ): void {
    this.transactions.delete(txnId);
    const workflow = this.plan.scenario.workflows[state.workflow]!;
    emit({
      type: "transaction_failed",
      txn_id: txnId,
      ts_ms: ts,
      duration_ms: duration ?? ts - state.openTs,
      steps_completed: state.step,
      failed_step: state.step + 1,
      reason: reason ?? state.failReason,
      attempts: attempts ?? state.failAttempt,
      workflow: workflow.name,
      step_name: workflow.steps[state.step]?.name ?? "",
    });
  }
}

function read(value: unknown, path: Path): unknown {
  let node = value;
  for (const name of path) {
    if (typeof node !== "object" || node === null || Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[name];
  }
  return node;
}

function jsonOf(value: unknown): string | undefined {
  return value === undefined ? undefined : JSON.stringify(value);
}
