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

  count(kind: ViolationKind): number {
    return this.counts.get(kind)!;
  }

  report(): Record<ViolationKind, ViolationCount> {
    const result = {} as Record<ViolationKind, ViolationCount>;
    for (const kind of VIOLATION_KINDS) result[kind] = { count: this.counts.get(kind)!, examples: this.examples.get(kind)! };
    return result;
  }
}
