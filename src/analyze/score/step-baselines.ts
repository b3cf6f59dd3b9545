/**
 * Baselines of each workflow step's own figures (and its failures, retries and stuck transactions): its work (a step_open to its step_done, the attempt
 * that succeeded) and its pre-step wait (`pre_delay_ms` of the first attempt), by the grouped rule's
 * recipe (grouped-outliers.ts: median and upper MAD of ln(1 + ms), k robust standard deviations),
 * so a user sees per step what is usual and how many went past it. No outliers are injected there,
 * so nothing is scored against ground truth; the counts say how often a step ran unusually long.
 *
 * Memory: three frequency tables per workflow step (distinct values only), bounded by the steps.
 */
import { FrequencyTable, percentile } from "../measure/frequency.ts";
import type { StepBaselineReport, StepFigureReport } from "../report.ts";
import { GROUP_DENSE_SIZE, logBaseline, MIN_GROUP } from "./grouped-outliers.ts";

interface Step {
  readonly workflow: string;
  readonly step: number;
  readonly work: FrequencyTable;
  readonly preWait: FrequencyTable;
  /** The gap from this step to the next. */
  readonly gap: FrequencyTable;
  failures: number;
  retries: number;
  stuck: number;
}

/** Steps followed by name; more (a stream with absurd step numbers) are not broken down. */
const MAX_STEPS = 1000;

export class StepBaselines {
  /** By workflow name, then by step number: two lookups and no key to build on every event. */
  private readonly byWorkflow = new Map<string, (Step | undefined)[]>();
  private count = 0;

  private of(workflow: string, step: number): Step | undefined {
    let steps = this.byWorkflow.get(workflow);
    if (steps === undefined) this.byWorkflow.set(workflow, (steps = []));
    let entry = steps[step];
    if (entry === undefined) {
      if (this.count >= MAX_STEPS || !Number.isInteger(step) || step < 1 || step > MAX_STEPS) return undefined;
      const table = () => new FrequencyTable({ denseSize: GROUP_DENSE_SIZE });
      entry = { workflow, step, work: table(), preWait: table(), gap: table(), failures: 0, retries: 0, stuck: 0 };
      steps[step] = entry;
      this.count++;
    }
    return entry;
  }

  private get steps(): Step[] {
    return [...this.byWorkflow.values()].flatMap((steps) => steps.filter((step): step is Step => step !== undefined));
  }

  work(workflow: string, step: number, ms: number): void {
    if (ms >= 0) this.of(workflow, step)?.work.add(ms);
  }

  preWait(workflow: string, step: number, ms: number): void {
    if (ms >= 0) this.of(workflow, step)?.preWait.add(ms);
  }

  /** A gap from step `step` to the next (measured by the analysis whatever the outlier rule). */
  gap(workflow: string, step: number, ms: number): void {
    if (ms >= 0) this.of(workflow, step)?.gap.add(ms);
  }

  failure(workflow: string, step: number): void {
    const entry = this.of(workflow, step);
    if (entry !== undefined) entry.failures++;
  }

  retry(workflow: string, step: number): void {
    const entry = this.of(workflow, step);
    if (entry !== undefined) entry.retries++;
  }

  /** A transaction labelled stuck went silent in step `step`. */
  stuck(workflow: string, step: number): void {
    const entry = this.of(workflow, step);
    if (entry !== undefined) entry.stuck++;
  }

  report(k: number): StepBaselineReport[] {
    const figure = (table: FrequencyTable): StepFigureReport | null => {
      if (table.count === 0) return null;
      const sorted = table.sorted();
      // A step measured fewer than MIN_GROUP times gets its figures but no threshold: too few to set one.
      const baseline = table.count >= MIN_GROUP ? logBaseline(sorted, k) : undefined;
      return {
        count: table.count,
        p50_ms: percentile(sorted, 50),
        p90_ms: percentile(sorted, 90),
        p99_ms: percentile(sorted, 99),
        max_ms: sorted.values[sorted.values.length - 1]!,
        threshold_ms: baseline?.thresholdMs ?? null,
        above_threshold: baseline === undefined ? null : table.countAbove(baseline.thresholdMs),
      };
    };
    return this.steps
      .sort((a, b) => (a.workflow < b.workflow ? -1 : a.workflow > b.workflow ? 1 : a.step - b.step))
      .map((s) => ({
        workflow: s.workflow === "" ? null : s.workflow,
        step: s.step,
        work_ms: figure(s.work),
        pre_wait_ms: figure(s.preWait),
        gap_ms: figure(s.gap),
        failures: s.failures,
        retries: s.retries,
        stuck: s.stuck,
      }));
  }
}
