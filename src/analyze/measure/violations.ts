/**
 * What a stream got wrong, per kind: how often, and the first few cases with where they were found,
 * so that a user can go and look at what their pipeline dropped, duplicated or reordered.
 */
import { VIOLATION_KINDS, type ViolationCount, type ViolationExample, type ViolationKind } from "../report.ts";

export const MAX_EXAMPLES = 10;

export class Violations {
  private readonly counts = new Map<ViolationKind, number>(VIOLATION_KINDS.map((kind) => [kind, 0]));
  private readonly examples = new Map<ViolationKind, ViolationExample[]>(VIOLATION_KINDS.map((kind) => [kind, []]));

  add(kind: ViolationKind, example: () => ViolationExample, times = 1): void {
    this.counts.set(kind, this.counts.get(kind)! + times);
    const list = this.examples.get(kind)!;
    if (list.length < MAX_EXAMPLES) list.push(example());
  }

  /**
   * Takes back one finding of `kind` about `txnId` (what looked missing came late: it is one
   * out-of-order event, not two findings), and its example if it was kept.
   */
  retract(kind: ViolationKind, txnId: string): void {
    this.counts.set(kind, this.counts.get(kind)! - 1);
    const list = this.examples.get(kind)!;
    const index = list.findIndex((example) => example.txn_id === txnId);
    if (index >= 0) list.splice(index, 1);
  }

  count(kind: ViolationKind): number {
    return this.counts.get(kind)!;
  }

  report(): Record<ViolationKind, ViolationCount> {
    const result = {} as Record<ViolationKind, ViolationCount>;
    for (const kind of VIOLATION_KINDS) result[kind] = { count: this.counts.get(kind)!, examples: this.examples.get(kind)! };
    return result;
  }
}
