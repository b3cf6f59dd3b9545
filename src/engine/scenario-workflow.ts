/**
 * A scenario's workflows as a TransactionFactory: each transaction picks a workflow by weight, walks
 * its named steps with their own delays, may fail and retry, may carry an outlier, may go silent.
 *
 * Draw order on the transaction's stream (part of wfsim's output contract, like the seed's):
 *  1. the id (as the seed's);
 *  2. the workflow: one float, only when the scenario has two or more workflows;
 *  3. the outlier, when the workflow's is per transaction: one float; if it hits, the gap (Random.int);
 *  4. stuck, when the workflow has it: one float; if it hits and `at` is not set, the step (Random.int);
 *     (a transaction bound to get stuck that would fail for good before its step goes silent there
 *     instead, without drawing the failure's reason);
 *  5. step 1's pre-step wait;
 *  then for each attempt of each step, when it opens:
 *  6. its work time; 7. when the step has a failure policy, one float for failure;
 *  and when it ends:
 *  - failed: the reason (Random.int, only with two or more reasons), then, if a retry is left, the
 *    backoff;
 *  - done, not the last step: the wait between steps, then (outlier per gap) one float and, if it hits,
 *    the extra wait, then the next step's pre-step wait.
 * A draw that a setting makes pointless is skipped (a constant delay, a single workflow), which is
 * what makes the seed's workload written as a scenario draw exactly what the seed draws.
 */
import type { FailureSpec, Scenario, StepSpec, WorkflowSpec } from "../config/scenario/model.ts";
import { MAX_DELAY_MS } from "../config/sim-options.ts";
import type { TransactionOpen } from "../events/schema.ts";
import { VERSION } from "../version.ts";
import { samplerOf, type Sampler } from "./distributions.ts";
import type { Random } from "./random.ts";
import { CLOSED, drawTransactionId, type Emit, type Label, type SimTransaction, type TransactionFactory } from "./transaction.ts";

interface CompiledFailure {
  readonly prob: number;
  readonly reasons: readonly string[];
  readonly retries: number;
  readonly backoff: Sampler;
  readonly factor: number;
  readonly maxBackoff: number;
}

interface CompiledStep {
  readonly name: string;
  readonly pre: Sampler;
  readonly work: Sampler;
  /** False when the work time is always 0: step_done then carries no work_ms. */
  readonly hasWork: boolean;
  readonly inter: Sampler;
  readonly failure: CompiledFailure | undefined;
}

interface CompiledWorkflow {
  readonly name: string;
  readonly steps: readonly CompiledStep[];
  readonly outlierPerGap: { readonly prob: number; readonly extra: Sampler } | undefined;
  readonly outlierPerTransaction: { readonly prob: number; readonly extra: Sampler } | undefined;
  readonly stuck: { readonly prob: number; readonly at: number | undefined } | undefined;
}

function compileFailure(failure: FailureSpec): CompiledFailure {
  return {
    prob: failure.prob,
    reasons: failure.reasons,
    retries: failure.retries,
    backoff: samplerOf(failure.backoff),
    factor: failure.backoffFactor,
    maxBackoff: failure.maxBackoff,
  };
}

function compileStep(step: StepSpec): CompiledStep {
  return {
    name: step.name,
    pre: samplerOf(step.pre),
    work: samplerOf(step.work),
    hasWork: !(step.work.kind === "constant" && step.work.value === 0),
    inter: samplerOf(step.inter),
    failure: step.failure === undefined ? undefined : compileFailure(step.failure),
  };
}

function compileWorkflow(workflow: WorkflowSpec): CompiledWorkflow {
  const outlier = workflow.outlier === undefined ? undefined : { prob: workflow.outlier.prob, extra: samplerOf(workflow.outlier.extra) };
  return {
    name: workflow.name,
    steps: workflow.steps.map(compileStep),
    outlierPerGap: workflow.outlier?.per === "gap" ? outlier : undefined,
    outlierPerTransaction: workflow.outlier?.per === "transaction" ? outlier : undefined,
    stuck: workflow.stuck,
  };
}

export interface ScenarioWorkflowOptions {
  readonly timezone: string;
  /** Labels inline (outlier_injected, stuck) as well as through `label`; false when they go to a truth file. */
  readonly inlineLabels?: boolean;
  /**
   * Leave out what announces a wait before it ends (inter_step_wait, pre_delay_ms, work_ms,
   * backoff_ms) and the inline labels, and put steps_planned on transaction_open. Draws are the same.
   */
  readonly blind?: boolean;
}

export class ScenarioWorkflow implements TransactionFactory {
  private readonly workflows: readonly CompiledWorkflow[];
  /** Upper ends of each workflow's share of [0, 1), in order. */
  private readonly thresholds: readonly number[];
  readonly meta: TransactionOpen["meta"];
  readonly inlineLabels: boolean;
  readonly blind: boolean;

  constructor(scenario: Pick<Scenario, "workflows">, options: ScenarioWorkflowOptions) {
    this.workflows = scenario.workflows.map(compileWorkflow);
    const total = scenario.workflows.reduce((sum, w) => sum + w.weight, 0);
    let running = 0;
    this.thresholds = scenario.workflows.map((w) => (running += w.weight) / total);
    this.meta = Object.freeze({ timezone: options.timezone, sim_version: VERSION });
    this.blind = options.blind ?? false;
    this.inlineLabels = (options.inlineLabels ?? true) && !this.blind;
  }

  create(index: number, random: Random, recycled?: SimTransaction): SimTransaction {
    const id = drawTransactionId(random);
    let workflow = this.workflows[0]!;
    if (this.workflows.length > 1) {
      const u = random.float();
      const thresholds = this.thresholds;
      let i = 0;
      while (i < thresholds.length - 1 && u >= thresholds[i]!) i++;
      workflow = this.workflows[i]!;
    }
    if (recycled instanceof ScenarioTransaction) return recycled.start(index, id, workflow);
    return new ScenarioTransaction(index, id, random, workflow, this);
  }
}

const OPEN_STEP = 0;
const END_STEP = 1;

class ScenarioTransaction implements SimTransaction {
  due = 0;
  seq = 0;
  index = 0;
  id = "";
  faults: unknown = undefined;
  readonly random: Random;
  private workflow: CompiledWorkflow;
  private readonly factory: ScenarioWorkflow;
  private openedAt = 0;
  /** 0-based index of the current step; also the number of steps done. */
  private current = 0;
  private attempt = 1;
  private phase = OPEN_STEP;
  private preDelay = 0;
  private work = 0;
  private failing = false;
  /** Per-transaction outlier: the 1-based step after which the extra wait comes; 0 for none. */
  private outlierAfter = 0;
  /** 0-based step that never completes; -1 for none. */
  private stuckAt = -1;
  /** When the current step last opened. */
  private lastOpen = 0;

  constructor(index: number, id: string, random: Random, workflow: CompiledWorkflow, factory: ScenarioWorkflow) {
    this.random = random;
    this.workflow = workflow;
    this.factory = factory;
    this.start(index, id, workflow);
  }

  /** Makes this the transaction with `index` (an ended one is started over: every field is set here). */
  start(index: number, id: string, workflow: CompiledWorkflow): this {
    this.index = index;
    this.id = id;
    this.workflow = workflow;
    this.openedAt = 0;
    this.current = 0;
    this.attempt = 1;
    this.phase = OPEN_STEP;
    this.preDelay = 0;
    this.work = 0;
    this.failing = false;
    this.outlierAfter = 0;
    this.stuckAt = -1;
    this.lastOpen = 0;
    return this;
  }

  open(now: number, emit: Emit): number {
    const random = this.random;
    const workflow = this.workflow;
    const steps = workflow.steps;
    this.openedAt = now;
    const perTransaction = workflow.outlierPerTransaction;
    if (perTransaction !== undefined && random.chance(perTransaction.prob) && steps.length > 1) {
      this.outlierAfter = random.int(1, steps.length - 1);
    }
    const stuck = workflow.stuck;
    if (stuck !== undefined && random.chance(stuck.prob)) {
      this.stuckAt = stuck.at ?? random.int(0, steps.length - 1);
    }
    const event: TransactionOpen = { type: "transaction_open", txn_id: this.id, ts_ms: now, meta: this.factory.meta, workflow: workflow.name };
    if (this.factory.blind) event.steps_planned = steps.length;
    if (this.stuckAt >= 0 && this.factory.inlineLabels) event.stuck = true;
    emit(event);
    this.preDelay = steps[0]!.pre(random);
    return this.preDelay;
  }

  wake(now: number, emit: Emit, label: Label): number {
    if (this.phase === END_STEP) return this.endStep(now, emit, label);
    const step = this.workflow.steps[this.current]!;
    const number = this.current + 1;
    this.lastOpen = now;
    const blind = this.factory.blind;
    if (this.attempt === 1) {
      if (blind) emit({ type: "step_open", txn_id: this.id, step: number, ts_ms: now, workflow: this.workflow.name, step_name: step.name });
      else {
        emit({
          type: "step_open",
          txn_id: this.id,
          step: number,
          ts_ms: now,
          pre_delay_ms: this.preDelay,
          workflow: this.workflow.name,
          step_name: step.name,
        });
      }
      if (this.current === this.stuckAt) return this.goSilent(now, label);
    } else if (blind) {
      emit({ type: "step_open", txn_id: this.id, step: number, ts_ms: now, workflow: this.workflow.name, step_name: step.name, attempt: this.attempt });
    } else {
      emit({
        type: "step_open",
        txn_id: this.id,
        step: number,
        ts_ms: now,
        pre_delay_ms: this.preDelay,
        workflow: this.workflow.name,
        step_name: step.name,
        attempt: this.attempt,
      });
    }
    // A step without work time draws nothing for it (as a constant would), and skips the call.
    this.work = step.hasWork ? step.work(this.random) : 0;
    const failure = step.failure;
    this.failing = failure !== undefined && this.random.chance(failure.prob);
    if (this.work > 0) {
      this.phase = END_STEP;
      return this.work;
    }
    return this.endStep(now, emit, label);
  }

  private endStep(now: number, emit: Emit, label: Label): number {
    this.phase = OPEN_STEP;
    const random = this.random;
    const workflow = this.workflow;
    const steps = workflow.steps;
    const step = steps[this.current]!;
    const number = this.current + 1;
    if (this.failing) {
      // A transaction bound to get stuck later never ends before: a failure that would end it leaves
      // it silent where it is, so that `stuck` on its open stays true.
      if (this.stuckAt > this.current && this.attempt > step.failure!.retries) return this.goSilent(this.lastOpen, label);
      return this.fail(now, step, step.failure!, emit, label);
    }

    if (this.attempt === 1 && (!step.hasWork || this.factory.blind)) {
      emit({ type: "step_done", txn_id: this.id, step: number, ts_ms: now, workflow: workflow.name, step_name: step.name });
    } else if (this.attempt === 1) {
      emit({ type: "step_done", txn_id: this.id, step: number, ts_ms: now, workflow: workflow.name, step_name: step.name, work_ms: this.work });
    } else if (this.factory.blind) {
      emit({ type: "step_done", txn_id: this.id, step: number, ts_ms: now, workflow: workflow.name, step_name: step.name, attempt: this.attempt });
    } else {
      emit({
        type: "step_done",
        txn_id: this.id,
        step: number,
        ts_ms: now,
        workflow: workflow.name,
        step_name: step.name,
        attempt: this.attempt,
        work_ms: this.work,
      });
    }
    if (number === steps.length) {
      emit({ type: "transaction_close", txn_id: this.id, ts_ms: now, duration_ms: now - this.openedAt, steps: number, workflow: workflow.name });
      return CLOSED;
    }
    let wait = step.inter(random);
    let outlier = false;
    let extra = 0;
    const perGap = workflow.outlierPerGap;
    if (perGap !== undefined) {
      outlier = random.chance(perGap.prob);
      if (outlier) extra = perGap.extra(random);
    } else if (this.outlierAfter === number) {
      outlier = true;
      extra = workflow.outlierPerTransaction!.extra(random);
    }
    wait += extra;
    const next = steps[number]!;
    if (outlier) {
      label({ kind: "outlier", txn_id: this.id, ts_ms: now, from_step: number, to_step: number + 1, extra_ms: extra, workflow: workflow.name });
    }
    if (this.factory.blind) {
      // The wait is drawn and labelled, and not announced.
    } else if (this.factory.inlineLabels) {
      emit({
        type: "inter_step_wait",
        txn_id: this.id,
        from_step: number,
        to_step: number + 1,
        planned_wait_ms: wait,
        outlier_injected: outlier,
        ts_ms: now,
        workflow: workflow.name,
      });
    } else {
      emit({
        type: "inter_step_wait",
        txn_id: this.id,
        from_step: number,
        to_step: number + 1,
        planned_wait_ms: wait,
        ts_ms: now,
        workflow: workflow.name,
      });
    }
    this.current = number;
    this.attempt = 1;
    this.preDelay = next.pre(random);
    return wait + this.preDelay;
  }

  /** The transaction opened its current step at `since` and is never heard of again. */
  private goSilent(since: number, label: Label): number {
    const step = this.workflow.steps[this.current]!;
    label({
      kind: "stuck",
      txn_id: this.id,
      ts_ms: this.openedAt,
      step: this.current + 1,
      step_name: step.name,
      silent_since_ms: since,
      workflow: this.workflow.name,
    });
    return CLOSED;
  }

  private fail(now: number, step: CompiledStep, failure: CompiledFailure, emit: Emit, label: Label): number {
    const random = this.random;
    const workflow = this.workflow;
    const number = this.current + 1;
    const reasons = failure.reasons;
    const reason = reasons.length > 1 ? reasons[random.int(0, reasons.length - 1)]! : reasons[0]!;
    const final = this.attempt > failure.retries;
    if (this.factory.blind) {
      emit({ type: "step_failed", txn_id: this.id, step: number, ts_ms: now, attempt: this.attempt, reason, workflow: workflow.name, step_name: step.name });
    } else {
      emit({
        type: "step_failed",
        txn_id: this.id,
        step: number,
        ts_ms: now,
        attempt: this.attempt,
        reason,
        work_ms: this.work,
        workflow: workflow.name,
        step_name: step.name,
      });
    }
    label({
      kind: "step_failure",
      txn_id: this.id,
      ts_ms: now,
      step: number,
      step_name: step.name,
      attempt: this.attempt,
      reason,
      final,
      workflow: workflow.name,
    });
    if (final) {
      emit({
        type: "transaction_failed",
        txn_id: this.id,
        ts_ms: now,
        duration_ms: now - this.openedAt,
        steps_completed: this.current,
        failed_step: number,
        reason,
        attempts: this.attempt,
        workflow: workflow.name,
        step_name: step.name,
      });
      return CLOSED;
    }
    const scaled = failure.backoff(random) * failure.factor ** (this.attempt - 1);
    const backoff = Math.round(Math.min(scaled, failure.maxBackoff, MAX_DELAY_MS));
    this.attempt++;
    if (this.factory.blind) {
      emit({ type: "step_retry", txn_id: this.id, step: number, ts_ms: now, attempt: this.attempt, workflow: workflow.name, step_name: step.name });
    } else {
      emit({
        type: "step_retry",
        txn_id: this.id,
        step: number,
        ts_ms: now,
        attempt: this.attempt,
        backoff_ms: backoff,
        workflow: workflow.name,
        step_name: step.name,
      });
    }
    this.preDelay = backoff;
    return backoff;
  }

  abort(now: number, reason: string, emit: Emit): void {
    emit({
      type: "transaction_aborted",
      txn_id: this.id,
      ts_ms: now,
      duration_ms: now - this.openedAt,
      steps_completed: this.current,
      reason,
      workflow: this.workflow.name,
    });
  }
}
