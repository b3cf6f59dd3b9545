/**
 * Figures per workflow, for scenario streams whose events name theirs (`workflow`): a checkout and a
 * refund have different durations, and one distribution of both describes neither. Bounded: the first
 * MAX_WORKFLOWS names get their own figures, later ones share "(other)".
 */
import { FrequencyTable } from "./frequency.ts";
import type { Outcome } from "./transaction-state.ts";
import type { WorkflowReport } from "../report.ts";

export const MAX_WORKFLOWS = 100;
export const OTHER_WORKFLOWS = "(other)";

export class WorkflowFigures {
  readonly name: string;
  completed = 0;
  aborted = 0;
  failed = 0;
  open = 0;
  stuck = 0;
  stepFailures = 0;
  retries = 0;
  readonly durations = new FrequencyTable();

  constructor(name: string) {
    this.name = name;
  }

  ended(outcome: Outcome, duration: number): void {
    this[outcome]++;
    if (outcome === "completed") this.durations.add(duration);
  }

  stillOpen(stuck: boolean): void {
    this.open++;
    if (stuck) this.stuck++;
  }

  report(): WorkflowReport {
    const { completed, aborted, failed, open, stuck } = this;
    return {
      name: this.name,
      transactions: { total: completed + aborted + failed + open, completed, aborted, failed, open, stuck },
      duration_ms: this.durations.summary(),
      step_failures: this.stepFailures,
      retries: this.retries,
    };
  }
}

export class WorkflowTally {
  private readonly byName = new Map<string, WorkflowFigures>();

  of(name: string): WorkflowFigures {
    let figures = this.byName.get(name);
    if (figures === undefined) {
      const key = this.byName.size < MAX_WORKFLOWS ? name : OTHER_WORKFLOWS;
      figures = this.byName.get(key) ?? new WorkflowFigures(key);
      this.byName.set(key, figures);
    }
    return figures;
  }

  /** Most transactions first; names in order of first appearance among equals. */
  report(): WorkflowReport[] {
    return [...this.byName.values()].map((figures) => figures.report()).sort((a, b) => b.transactions.total - a.transactions.total);
  }
}
