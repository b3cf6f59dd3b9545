import type { SimOptions } from "../config/sim-options.ts";
import type { TransactionOpen } from "../events/schema.ts";
import { VERSION } from "../version.ts";
import { Random } from "./random.ts";
import { CLOSED, drawTransactionId, type Emit, type Label, type SimTransaction, type TransactionFactory } from "./transaction.ts";

type SeedParameters = Pick<
  SimOptions,
  "steps" | "preMin" | "preMax" | "interMin" | "interMax" | "outlierMs" | "outlierProb" | "timezone"
>;

/**
 * The seed's workflow: `steps` ordered steps, a uniform pre-step wait before each, and between two
 * steps a uniform wait to which, with probability outlierProb, outlierMs is added.
 *
 * Draw order on the transaction's stream: the id, then pre-step 1, then for each gap the wait, the
 * outlier decision and the next pre-step wait. Every draw is made whatever the parameters, so changing
 * outlierProb changes which gaps carry outliers and nothing else.
 *
 * With `inlineLabels` (the default) each inter_step_wait carries `outlier_injected`, as the reference's
 * does; without, the field is left out and outliers are known from their labels only (--truth FILE).
 * `blind` leaves out what announces a wait before it ends (the inter_step_wait events, pre_delay_ms)
 * and puts `steps_planned` on transaction_open; every draw is made all the same, so a blind run's
 * transactions are those of the full run.
 */
export class SeedWorkflow implements TransactionFactory {
  private readonly settings: SeedSettings;

  constructor(parameters: SeedParameters, { inlineLabels = true, blind = false }: { inlineLabels?: boolean; blind?: boolean } = {}) {
    this.settings = {
      p: parameters,
      meta: Object.freeze({ timezone: parameters.timezone, sim_version: VERSION }),
      inlineLabels: inlineLabels && !blind,
      blind,
    };
  }

  create(index: number, random: Random, recycled?: SimTransaction): SimTransaction {
    if (recycled instanceof SeedTransaction) return recycled.start(index);
    return new SeedTransaction(index, random, this.settings);
  }
}

/** What every transaction of a run shares: one field on each of a million transactions, not four. */
interface SeedSettings {
  readonly p: SeedParameters;
  readonly meta: TransactionOpen["meta"];
  readonly inlineLabels: boolean;
  readonly blind: boolean;
}

/**
 * A transaction of the seed's workflow is its own random stream (it extends Random, and the stream it
 * is given is copied into it): with a million in flight, a wake that reached a separate stream object
 * paid a cache miss for it.
 */
class SeedTransaction extends Random implements SimTransaction {
  due = 0;
  seq = 0;
  index = 0;
  id = "";
  faults: unknown = undefined;
  private readonly settings: SeedSettings;
  private openedAt = 0;
  private stepsDone = 0;
  private nextPreDelay = 0;

  constructor(index: number, random: Random, settings: SeedSettings) {
    super(1, 0, 0, 0);
    this.copyFrom(random);
    this.settings = settings;
    this.start(index);
  }

  get random(): Random {
    return this;
  }

  /** Makes this the transaction with `index`, its random stream already started over for it. */
  start(index: number): this {
    this.index = index;
    this.openedAt = 0;
    this.stepsDone = 0;
    this.nextPreDelay = 0;
    this.id = drawTransactionId(this);
    return this;
  }

  open(now: number, emit: Emit): number {
    this.openedAt = now;
    const { p, meta } = this.settings;
    if (this.settings.blind) emit({ type: "transaction_open", txn_id: this.id, ts_ms: now, meta, steps_planned: p.steps });
    else emit({ type: "transaction_open", txn_id: this.id, ts_ms: now, meta });
    this.nextPreDelay = this.int(p.preMin, p.preMax);
    return this.nextPreDelay;
  }

  wake(now: number, emit: Emit, label: Label): number {
    const { p, blind } = this.settings;
    const step = this.stepsDone + 1;
    if (blind) emit({ type: "step_open", txn_id: this.id, step, ts_ms: now });
    else emit({ type: "step_open", txn_id: this.id, step, ts_ms: now, pre_delay_ms: this.nextPreDelay });
    emit({ type: "step_done", txn_id: this.id, step, ts_ms: now });
    this.stepsDone = step;
    if (step === p.steps) {
      emit({ type: "transaction_close", txn_id: this.id, ts_ms: now, duration_ms: now - this.openedAt, steps: step });
      return CLOSED;
    }
    let wait = this.int(p.interMin, p.interMax);
    const outlier = this.chance(p.outlierProb);
    if (outlier) {
      wait += p.outlierMs;
      label({ kind: "outlier", txn_id: this.id, ts_ms: now, from_step: step, to_step: step + 1, extra_ms: p.outlierMs });
    }
    if (blind) {
      // The wait is drawn and labelled, and not announced.
    } else if (this.settings.inlineLabels) {
      emit({
        type: "inter_step_wait",
        txn_id: this.id,
        from_step: step,
        to_step: step + 1,
        planned_wait_ms: wait,
        outlier_injected: outlier,
        ts_ms: now,
      });
    } else {
      emit({ type: "inter_step_wait", txn_id: this.id, from_step: step, to_step: step + 1, planned_wait_ms: wait, ts_ms: now });
    }
    this.nextPreDelay = this.int(p.preMin, p.preMax);
    return wait + this.nextPreDelay;
  }

  abort(now: number, reason: string, emit: Emit): void {
    emit({
      type: "transaction_aborted",
      txn_id: this.id,
      ts_ms: now,
      duration_ms: now - this.openedAt,
      steps_completed: this.stepsDone,
      reason,
    });
  }
}
