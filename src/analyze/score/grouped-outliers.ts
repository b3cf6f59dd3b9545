/**
 * The default outlier rule: a baseline per workflow and per gap (`from_step -> to_step`), or per
 * workflow for durations, because a refund's 1 to 5 s wait and a checkout's exponential wait are
 * different steps, not outliers of one another. Pooling every gap of every workflow (the `pooled`
 * rule, outliers.ts) flags whole steps whose normal waits are long.
 *
 * The rule, per group: x = ln(1 + ms) for every measurement of the group; m = the nearest-rank median
 * of x; s = 1.4826 · the upper MAD (the nearest-rank median of x − m over the values x >= m), the MAD
 * scaled to a normal's standard deviation; flagged when x > m + k · s (k = `--mad-k`, 3.5 by default:
 * Iglewicz and Hoaglin's cut-off for the modified z-score). The logarithm makes lognormal waits
 * symmetric and tames other skewed ones, so one k fits them; only the upper half sets the scale
 * because only high values are flagged, and the log of an exponential wait has a long lower tail
 * that a two-sided MAD would count as spread. When the upper MAD is 0 (half the values equal the
 * median), s = 1.2533 · the mean of those deviations (scaled the same way); when that is 0 too,
 * anything above the median is flagged.
 *
 * What no rule can do: find an injected extra that lies inside the ordinary distribution. With
 * exponential waits of mean 2 min and exponential extras of mean 30 min (examples/onboarding.yaml
 * before it was changed), even thresholds chosen per group knowing the truth reach a precision of
 * 0.014 at recall 0.95 (0.29 at recall 0.6): such extras are not outliers a detector could find.
 *
 * Small groups: a group with fewer than MIN_GROUP measurements borrows the baseline of its workflow
 * (all its gaps together), and, when the workflow has fewer too, of every measurement of the stream.
 *
 * The unit judged and counted is one measurement: a gap (measure "gap") or a completed transaction
 * (measure "duration"). A gap's ground truth is its own: the outlier labels name the gap they were
 * injected into (`from_step`). Counts are exact and memory is bounded by the number of groups and
 * their distinct values: each group keeps two frequency tables (apart by ground truth) and two small
 * heaps (the most extreme, and the injected closest to being missed), which hold, whatever the
 * thresholds turn out to be, the top of the flagged list and of the missed list.
 */
import { BoundedHeap } from "../measure/bounded-heap.ts";
import { FrequencyTable, percentile, type SortedCounts } from "../measure/frequency.ts";
import type { FlaggedTransaction, OutlierGroupReport, OutlierReport, OutlierRule, TransactionLevelReport } from "../report.ts";
import { MAD_TO_SIGMA, type Judged } from "./outliers.ts";

/** Groups with fewer measurements borrow a wider baseline (their workflow's, or the stream's). */
export const MIN_GROUP = 30;
/** Per-group tables count values under 4,096 ms in a flat array of 32 KiB (most waits), the rest in a map. */
export const GROUP_DENSE_SIZE = 1 << 12;
/** Groups kept apart at most; later ones share "(other)". */
const MAX_GROUPS = 10_000;
/** Steps up to this are found by index; beyond, by a key (a stream with absurd step numbers). */
const MAX_INDEXED_STEP = 10_000;
/**
 * Transaction-level counts (a transaction is flagged when any of its gaps is): gaps above a running
 * candidate threshold are kept, with their transaction, up to this many (see TransactionCandidates).
 */
const MAX_CANDIDATE_GAPS = 1_000_000;
/** Scales the mean absolute deviation to a normal's standard deviation (√(π/2)). */
export const MEAN_AD_TO_SIGMA = 1.2533;

/** One measurement as the grouped rule sees it. */
export interface Measured extends Judged {
  readonly workflow: string;
  /** The gap's from_step; NaN for a duration. */
  readonly fromStep: number;
}

interface Baseline {
  readonly source: "group" | "workflow" | "all";
  readonly count: number;
  /** In ln(1 + ms). */
  readonly median: number;
  readonly sigma: number;
  readonly thresholdMs: number;
  readonly medianMs: number;
}

const better = (a: Measured, b: Measured) => a.value > b.value || (a.value === b.value && a.seq < b.seq);
const closerToMissed = (a: Measured, b: Measured) => a.value < b.value || (a.value === b.value && a.seq < b.seq);

class Group {
  /** Index among the groups, as candidate gaps name it. */
  readonly id: number;
  /** Gaps above this (ms) are kept as candidates; refreshed as the group grows (TransactionCandidates). */
  candidateMs = -Infinity;
  nextRefresh = MIN_GROUP;
  readonly clean = new FrequencyTable({ denseSize: GROUP_DENSE_SIZE });
  readonly injected = new FrequencyTable({ denseSize: GROUP_DENSE_SIZE });
  readonly extreme: BoundedHeap<Measured>;
  readonly nearMisses: BoundedHeap<Measured>;
  readonly workflow: string;
  readonly fromStep: number;
  constructor(id: number, workflow: string, fromStep: number, limit: number) {
    this.id = id;
    this.workflow = workflow;
    this.fromStep = fromStep;
    this.extreme = new BoundedHeap(limit, better);
    this.nearMisses = new BoundedHeap(limit, closerToMissed);
  }
  get count(): number {
    return this.clean.count + this.injected.count;
  }
  all(): FrequencyTable {
    const table = new FrequencyTable({ denseSize: GROUP_DENSE_SIZE });
    table.merge(this.clean);
    table.merge(this.injected);
    return table;
  }
}

/** The baseline of `tables` taken together (ln(1 + ms) space), or undefined when they are empty. */
export function logBaseline(sorted: SortedCounts, k: number): Omit<Baseline, "source"> | undefined {
  if (sorted.total === 0) return undefined;
  const logs = sorted.values.map((v) => Math.log1p(Math.max(0, v)));
  const rank = (p: number) => Math.max(1, Math.ceil(p * sorted.total));
  const at = (wanted: number, order: Float64Array, counts: Float64Array) => {
    let seen = 0;
    for (let i = 0; i < order.length; i++) {
      seen += counts[i]!;
      if (seen >= wanted) return order[i]!;
    }
    return order[order.length - 1]!;
  };
  const middle = at(rank(0.5), sorted.values, sorted.counts);
  const median = Math.log1p(Math.max(0, middle));
  // The upper half's deviations (values at or above the median), sorted as the values are.
  let upper = 0;
  for (let i = 0; i < logs.length; i++) if (logs[i]! >= median) upper += sorted.counts[i]!;
  const deviations = Array.from(logs, (x, i) => [x - median, sorted.counts[i]!] as const).filter(([d]) => d >= 0);
  const mad = at(Math.max(1, Math.ceil(0.5 * upper)), Float64Array.from(deviations, (d) => d[0]), Float64Array.from(deviations, (d) => d[1]));
  let sigma = MAD_TO_SIGMA * mad;
  if (sigma === 0) {
    let sum = 0;
    deviations.forEach(([deviation, count]) => (sum += deviation * count));
    sigma = MEAN_AD_TO_SIGMA * (sum / upper);
  }
  return { count: sorted.total, median, sigma, thresholdMs: Math.expm1(median + k * sigma), medianMs: middle };
}

function listed(m: Measured, group: string, threshold: number): FlaggedTransaction {
  const nullable = (value: number) => (Number.isNaN(value) ? null : value);
  return {
    txn_id: m.txnId,
    value_ms: nullable(m.value),
    max_gap_ms: nullable(m.maxGap),
    max_gap_after_step: nullable(m.maxGapAfterStep),
    duration_ms: nullable(m.duration),
    injected: m.injected,
    opened_ts_ms: nullable(m.opened),
    group,
    threshold_ms: threshold,
  };
}

export const groupName = (workflow: string, fromStep: number) =>
  `${workflow === "" ? "(no workflow)" : workflow}${Number.isNaN(fromStep) ? "" : ` ${fromStep} -> ${fromStep + 1}`}`;

export class GroupedJudge {
  private readonly measure: "gap" | "duration";
  private readonly k: number;
  private readonly limit: number;
  private readonly groups = new Map<string, Group>();
  /** Injected transactions and gaps (injected gaps without a measurement count as missed). */
  private injectedTransactions = 0;
  private injectedGaps = 0;
  private readonly unmeasuredList: BoundedHeap<Measured>;
  /** Gaps only: a duration is its transaction's one measurement, so transactions are what is counted. */
  private readonly candidates: TransactionCandidates | undefined;

  constructor(options: { measure: "gap" | "duration"; madK: number; listLimit: number }) {
    this.measure = options.measure;
    this.k = options.madK;
    this.limit = options.listLimit;
    this.candidates = options.measure === "gap" ? new TransactionCandidates(options.madK) : undefined;
    this.unmeasuredList = new BoundedHeap(options.listLimit, (a, b) => a.seq < b.seq);
  }

  private overflow: Group | undefined;
  private newOverflow(): Group {
    const group = new Group(this.groups.size, "(other)", NaN, this.limit);
    this.groups.set("(other)", group);
    return group;
  }

  /** By workflow, then by from_step (0 for durations): no key to build for every measurement. */
  private readonly byWorkflow = new Map<string, Group[]>();

  private group(workflow: string, fromStep: number): Group {
    let groups = this.byWorkflow.get(workflow);
    if (groups === undefined) this.byWorkflow.set(workflow, (groups = []));
    const index = Number.isNaN(fromStep) ? 0 : fromStep;
    let group = Number.isInteger(index) && index >= 0 && index <= MAX_INDEXED_STEP ? groups[index] : this.groups.get(`${workflow}\u0000${fromStep}`);
    if (group === undefined) {
      // Bounded whatever the stream claims: past MAX_GROUPS, further groups share one.
      if (this.groups.size >= MAX_GROUPS) return (this.overflow ??= this.newOverflow());
      group = new Group(this.groups.size, workflow, fromStep, this.limit);
      if (Number.isInteger(index) && index >= 0 && index <= MAX_INDEXED_STEP) groups[index] = group;
      this.groups.set(`${workflow}\u0000${fromStep}`, group);
    }
    return group;
  }

  /** An injected transaction ended: `gaps` injected gaps (or 1 for a duration), of which `measured` were measured. */
  countInjected(gaps: number, measured: number, example: () => Measured): void {
    this.injectedTransactions++;
    this.injectedGaps += gaps;
    if (gaps > measured && (this.unmeasuredList.peek() === undefined || this.unmeasuredList.peek()!.seq > example().seq)) {
      this.unmeasuredList.push(example());
    }
  }

  /**
   * Counts one measurement; says whether it should be kept by name (then the caller builds it and
   * hands it to `keep`), so the common case builds nothing.
   */
  count(workflow: string, fromStep: number, value: number, injected: boolean, seq: number, txnInjected = injected): boolean {
    const group = this.group(workflow, fromStep);
    (injected ? group.injected : group.clean).add(value);
    if (this.candidates !== undefined) {
      if (group.count >= group.nextRefresh) this.candidates.refresh(group);
      if (value > group.candidateMs) this.candidates.add(group.id, value, seq, txnInjected);
    }
    const top = group.extreme.peek();
    const near = group.nearMisses.peek();
    return (
      top === undefined ||
      value > top.value ||
      (value === top.value && seq < top.seq) ||
      (injected && (near === undefined || value < near.value || (value === near.value && seq < near.seq)))
    );
  }

  keep(measured: Measured): void {
    const group = this.group(measured.workflow, measured.fromStep);
    group.extreme.push(measured);
    if (measured.injected) group.nearMisses.push(measured);
  }

  report(): { report: OutlierReport; flagged: Judged[]; missed: Judged[] } {
    const byWorkflow = new Map<string, FrequencyTable>();
    const everything = new FrequencyTable({ denseSize: GROUP_DENSE_SIZE });
    const tables = new Map<Group, FrequencyTable>();
    for (const group of this.groups.values()) {
      const all = group.all();
      tables.set(group, all);
      let workflow = byWorkflow.get(group.workflow);
      if (workflow === undefined) byWorkflow.set(group.workflow, (workflow = new FrequencyTable({ denseSize: GROUP_DENSE_SIZE })));
      workflow.merge(all);
      everything.merge(all);
    }
    const workflowBaselines = new Map<string, Omit<Baseline, "source"> | undefined>();
    const everythingBaseline = logBaseline(everything.sorted(), this.k);
    const baselineOf = (group: Group): Baseline | undefined => {
      const own = tables.get(group)!;
      if (own.count >= MIN_GROUP) {
        const b = logBaseline(own.sorted(), this.k);
        return b && { ...b, source: "group" };
      }
      const workflow = byWorkflow.get(group.workflow)!;
      if (workflow.count >= MIN_GROUP) {
        if (!workflowBaselines.has(group.workflow)) workflowBaselines.set(group.workflow, logBaseline(workflow.sorted(), this.k));
        const b = workflowBaselines.get(group.workflow);
        return b && { ...b, source: "workflow" };
      }
      return everythingBaseline && { ...everythingBaseline, source: "all" };
    };

    let flagged = 0;
    let truePositives = 0;
    const thresholds = new Map<number, { threshold: number; flagged: number }>();
    const groups: OutlierGroupReport[] = [];
    const flaggedList: { m: Measured; z: number; group: string; threshold: number }[] = [];
    const missedList: { m: Measured; z: number; group: string; threshold: number }[] = [];
    const sorted = [...this.groups.values()].sort((a, b) => (a.workflow < b.workflow ? -1 : a.workflow > b.workflow ? 1 : a.fromStep - b.fromStep));
    for (const group of sorted) {
      const baseline = baselineOf(group);
      if (baseline === undefined) continue;
      const threshold = baseline.thresholdMs;
      const tp = group.injected.countAbove(threshold);
      const fp = group.clean.countAbove(threshold);
      flagged += tp + fp;
      truePositives += tp;
      thresholds.set(group.id, { threshold, flagged: tp + fp });
      const name = groupName(group.workflow, group.fromStep);
      const z = (value: number) => (baseline.sigma === 0 ? (value > threshold ? Infinity : 0) : (Math.log1p(value) - baseline.median) / baseline.sigma);
      for (const m of group.extreme.sorted()) if (m.value > threshold) flaggedList.push({ m, z: z(m.value), group: name, threshold });
      for (const m of group.nearMisses.sorted()) if (!(m.value > threshold)) missedList.push({ m, z: z(m.value), group: name, threshold });
      const own = tables.get(group)!.sorted();
      groups.push({
        workflow: group.workflow === "" ? null : group.workflow,
        from_step: Number.isNaN(group.fromStep) ? null : group.fromStep,
        to_step: Number.isNaN(group.fromStep) ? null : group.fromStep + 1,
        count: group.count,
        baseline: baseline.source,
        baseline_count: baseline.count,
        median_ms: baseline.medianMs,
        p50_ms: percentile(own, 50),
        p90_ms: percentile(own, 90),
        p99_ms: percentile(own, 99),
        max_ms: own.values[own.values.length - 1]!,
        sigma_log: baseline.sigma,
        threshold_ms: threshold,
        flagged: tp + fp,
        injected: group.injected.count,
        true_positives: tp,
      });
    }
    const bySeq = (a: { m: Measured }, b: { m: Measured }) => a.m.seq - b.m.seq;
    flaggedList.sort((a, b) => b.z - a.z || bySeq(a, b));
    missedList.sort((a, b) => a.z - b.z || bySeq(a, b));
    const unmeasured = this.unmeasuredList.sorted().sort((a, b) => a.seq - b.seq);
    const shownFlagged = flaggedList.slice(0, this.limit);
    const shownMissed = [...unmeasured.map((m) => ({ m, group: groupName(m.workflow, NaN), threshold: NaN })), ...missedList].slice(0, this.limit);
    const injectedUnits = this.measure === "gap" ? this.injectedGaps : this.injectedTransactions;
    const rule: OutlierRule = {
      measure: this.measure,
      method: "grouped",
      threshold_ms: null,
      median_ms: null,
      mad_ms: null,
      k: this.k,
      unit: this.measure,
      min_group: MIN_GROUP,
    };
    const nanToNull = (entry: { m: Measured; group: string; threshold: number }) => {
      const item = listed(entry.m, entry.group, entry.threshold);
      return Number.isNaN(entry.threshold) ? { ...item, group: null, threshold_ms: null } : item;
    };
    const byTransaction: TransactionLevelReport =
      this.candidates?.report(thresholds, this.injectedTransactions) ?? {
        flagged,
        true_positives: truePositives,
        false_positives: flagged - truePositives,
        false_negatives: this.injectedTransactions - truePositives,
        precision: flagged === 0 ? null : truePositives / flagged,
        recall: this.injectedTransactions === 0 ? null : truePositives / this.injectedTransactions,
        exact: true,
        flagged_at_most: flagged,
      };
    return {
      report: {
        rule,
        by_transaction: byTransaction,
        injected: this.injectedTransactions,
        injected_gaps: this.injectedGaps,
        flagged,
        true_positives: truePositives,
        false_positives: flagged - truePositives,
        false_negatives: injectedUnits - truePositives,
        precision: flagged === 0 ? null : truePositives / flagged,
        recall: injectedUnits === 0 ? null : truePositives / injectedUnits,
        transactions: shownFlagged.map(nanToNull),
        listed_limit: this.limit,
        truncated: flagged > shownFlagged.length,
        missed: shownMissed.map(nanToNull),
        groups,
      },
      flagged: shownFlagged.map((entry) => entry.m),
      missed: shownMissed.map((entry) => entry.m),
    };
  }
}

/**
 * Transaction-level counts under the grouped rule: a transaction is flagged when any of its gaps is
 * above its group's threshold. Thresholds are known only at the end, and counting "any of its gaps"
 * exactly would need every transaction's gaps; instead each group keeps a running candidate threshold
 * (the rule's, with k lowered to max(k / 2, k − 1), from the group's measurements so far, refreshed
 * whenever the group has doubled), and the gaps above it are kept with their transaction.
 * At the end the kept gaps are judged against the final thresholds. The count is exact when, in every
 * group, the kept gaps above its threshold are as many as the gaps it flagged (every flagged gap was
 * kept); otherwise (a stream whose baselines fell a lot, or more than MAX_CANDIDATE_GAPS candidates)
 * `exact` is false and `flagged_at_most` bounds the count from above.
 */
class TransactionCandidates {
  private readonly k: number;
  private readonly groupIds: number[] = [];
  private readonly values: number[] = [];
  /** Index into txnInjected of each kept gap. */
  private readonly txnOf: number[] = [];
  private readonly txnInjected: boolean[] = [];
  private lastSeq = NaN;
  private overflow = false;

  constructor(k: number) {
    this.k = Math.max(k / 2, k - 1);
  }

  refresh(group: Group): void {
    const baseline = logBaseline(group.all().sorted(), this.k);
    group.candidateMs = baseline?.thresholdMs ?? -Infinity;
    // Doubling: a refresh reads the group's whole table, so a few dozen per group at most.
    group.nextRefresh = 2 * group.count;
  }

  add(groupId: number, value: number, seq: number, txnInjected: boolean): void {
    if (this.values.length >= MAX_CANDIDATE_GAPS) {
      this.overflow = true;
      return;
    }
    if (seq !== this.lastSeq) {
      this.lastSeq = seq;
      this.txnInjected.push(txnInjected);
    }
    this.groupIds.push(groupId);
    this.values.push(value);
    this.txnOf.push(this.txnInjected.length - 1);
  }

  report(thresholds: ReadonlyMap<number, { threshold: number; flagged: number }>, injected: number): TransactionLevelReport {
    const flaggedTxn = new Uint8Array(this.txnInjected.length);
    const keptAbove = new Map<number, number>();
    for (let i = 0; i < this.values.length; i++) {
      const group = thresholds.get(this.groupIds[i]!);
      if (group === undefined || !(this.values[i]! > group.threshold)) continue;
      flaggedTxn[this.txnOf[i]!] = 1;
      keptAbove.set(this.groupIds[i]!, (keptAbove.get(this.groupIds[i]!) ?? 0) + 1);
    }
    let unseen = 0;
    for (const [id, group] of thresholds) unseen += group.flagged - (keptAbove.get(id) ?? 0);
    let flagged = 0;
    let truePositives = 0;
    flaggedTxn.forEach((isFlagged, i) => {
      if (isFlagged === 0) return;
      flagged++;
      if (this.txnInjected[i]) truePositives++;
    });
    const exact = unseen === 0 && !this.overflow;
    return {
      flagged,
      true_positives: truePositives,
      false_positives: flagged - truePositives,
      false_negatives: injected - truePositives,
      precision: flagged === 0 ? null : truePositives / flagged,
      recall: injected === 0 ? null : truePositives / injected,
      exact,
      flagged_at_most: flagged + unseen,
    };
  }
}
