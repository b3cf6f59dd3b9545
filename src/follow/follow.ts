/**
 * `wfsim analyze --follow`: reads wfsim's topics without end, analyses the events as they come, and
 * alerts once on each transaction open for longer than --stuck-ms (stuck-detector.ts). Stopping it
 * (the signal) ends reading and returns the same report as a bounded analysis of what was read.
 *
 * Alone, a follower reads every partition from its beginning. With a group, the followers share the
 * partitions: partition p of both topics goes to one of them (copartitioned-assigner.ts), and each
 * commits its progress to the group.
 *
 * Hand-over, so that alerts stay exactly once when partitions move between followers: for each
 * partition a follower commits, besides the offset where it stands, in the offset's metadata,
 *   replay: the offset from which every record of its still-open transactions can be read again,
 *   wm:     the partition's event time (largest record timestamp read) at that point,
 *   wall:   the wall clock at that point.
 * and prints the alerts it found up to that point only once the commit is accepted. Commits carry
 * the generation of the assignment the follower acted on, so once the group has rebalanced they are
 * refused and the alerts found since are dropped with the partitions (or kept, with partitions it
 * keeps, for its next commit). A follower that receives a partition reads it again from `replay` to
 * the committed offset into a separate analysis, adopts the transactions still open at the end,
 * counts as already alerted those open longer than --stuck-ms at `wm` (or `wall`) — exactly the ones
 * the previous owner alerted on — and goes on from the committed offset. A follower that loses a
 * partition hands its open transactions over (they leave its figures). So every transaction is
 * alerted on once across the group, and each follower's report counts the transactions that ended
 * while it held their partition, fully, without false stream-check findings.
 */
import type { KafkaConnection } from "../config/kafka-options.ts";
import { WfsimError } from "../errors.ts";
import { kafkaError, retrying, type LastFailure, type NameOf } from "../kafka/connect.ts";
import { AlertScorer } from "../analyze/score/alerts.ts";
import type { AnalyzeOptions } from "../analyze/analyze.ts";
import { resolveOutlierOptions } from "../analyze/options.ts";
import type { AnalysisReport, FollowReport } from "../analyze/report.ts";
import { StreamAnalysis } from "../analyze/stream-analysis.ts";
import { clockOffsetsOf, IN_STREAM_TRUTH } from "../analyze/score/truth.ts";
import type { FollowOptions } from "./follow-options.ts";
import type { Assignment, Committed, GroupMember, OffsetToCommit } from "../kafka/read/group-member.ts";
import { fetchedPerTopic, kafkaReport, kafkaSourceName, RecordLocator, wireFormatWithoutRegistry } from "../analyze/read/kafka-source.ts";
import type { RegistryValueDecoder } from "../analyze/read/registry-values.ts";
import { MAGIC_BYTE } from "../kafka/registry/wire-format.ts";
import { releaseAcross, type InputRecord, type MergeSettings, type PartitionInput, type Slot } from "../kafka/read/record-merge.ts";
import { LineChunk } from "../kafka/read/records.ts";
import { StuckDetector, type RecordPlace, type StuckAlert } from "./stuck-detector.ts";
import { TopicsReader, wfsimTopics, type TopicList } from "../kafka/read/topics-reader.ts";
import { SameMillisecondOrder, type PlacedRecord } from "../analyze/read/shaped/order.ts";
import { ShapedRebuilder } from "../analyze/read/shaped/rebuild.ts";
import { shapedReadPlan } from "../analyze/read/shaped/source.ts";
import { shapedTopics } from "../analyze/read/shaped/topics.ts";

/** How long a fetch waits for new records: also how often wall-clock alerts are checked. */
const FETCH_WAIT_MS = 200;
/** A record waits this long for an idle partition of the other topic before it is analysed anyway. */
const MERGE_WAIT_MS = 300;
/** Offsets are committed this often, and as soon as alerts wait for a commit. */
const COMMIT_INTERVAL_MS = 1_000;
/** Longest pause for a rebalance (beyond the group's rebalance timeout). */
const PAUSE_LIMIT_MS = 30_000;

const FOLLOW: MergeSettings = { follow: true, mergeWaitMs: MERGE_WAIT_MS };

export interface FollowSummary {
  /** Events analysed so far, and per second since the previous summary. */
  readonly events: number;
  readonly eventsPerSecond: number;
  readonly open: number;
  readonly alerts: number;
  /** Records in the partitions read that are not analysed yet (null before the first fetch answer). */
  readonly lag: number | null;
  /** The newest event time read (largest record timestamp), or null. */
  readonly eventTime: number | null;
  /** Partitions read (of both topics), and how many there are. */
  readonly partitions: readonly number[];
  readonly partitionCount: number;
  readonly group: string | undefined;
}

export interface FollowSettings {
  readonly connection: KafkaConnection;
  /**
   * The topics to follow; unless given, those of `analysis.scenario`'s output section (its shaped
   * records are then read back into the lifecycle), else wfsim's own two (--topic-txn, --topic-steps).
   */
  readonly topics?: TopicList | undefined;
  readonly options: FollowOptions;
  /** The analysis, as for a bounded one. */
  readonly analysis?: Omit<AnalyzeOptions, "signal" | "nameOf">;
  /** Stops following; the report covers what was read until then. */
  readonly signal: AbortSignal;
  /** How options are named in messages (the CLI passes its flag names). */
  readonly nameOf?: (key: string) => string;
  /** Each alert, once. */
  readonly onAlert: (alert: StuckAlert) => void;
  /** Every options.summaryMs. */
  readonly onSummary?: (summary: FollowSummary) => void;
  /** Things worth a line on stderr: the partitions received, a hand-over. */
  readonly onNotice?: (message: string) => void;
  /** Once following: a way to read the figures at any time (a metrics endpoint reads them when scraped). */
  readonly onReady?: (summary: () => FollowSummary) => void;
  /**
   * Decodes values in a Schema Registry's wire format (`--schema-registry`) into the JSON lines
   * analysed; without it such a value stops the follower with one line naming it.
   */
  readonly registry?: RegistryValueDecoder | undefined;
}

/** Follows until the signal; resolves with the report. Set-up failures are one-line WfsimErrors. */
export async function follow(settings: FollowSettings): Promise<AnalysisReport> {
  const follower = new Follower(settings);
  return follower.run();
}

/** Where a shaped record came from, while it waits for its millisecond to end. */
interface ShapedPlace {
  readonly input: PartitionInput;
  readonly offset: number;
}

interface OwnedSlot {
  readonly slot: Slot;
  /** While replaying: the analysis that rebuilds the transactions open at the committed point. */
  rebuild: StreamAnalysis | undefined;
  readonly rebuildLocator: RecordLocator;
  /** Offsets replay started from, per input (the `from` of the transactions it adopts). */
  readonly replayStart: readonly number[];
  /** The previous owner's event time and wall clock at its commit. */
  readonly handedWm: number | null;
  readonly handedWall: number | null;
  replayMaxTs: number;
  replayed: number;
  /** Alerts waiting for the commit that covers them (group only). */
  held: StuckAlert[];
  /** Input positions when the current pass began: where a transaction opened in it can be read again. */
  passStart: readonly number[];
}

class Follower {
  private readonly settings: FollowSettings;
  private readonly options: FollowOptions;
  private readonly nameOf: (key: string) => string;
  private reader!: TopicsReader;
  private member: GroupMember | undefined;
  private applied: Assignment | undefined;
  private readonly owned = new Map<number, OwnedSlot>();
  private analysis!: StreamAnalysis;
  private detector!: StuckDetector;
  private readonly locator = new RecordLocator();
  private readonly chunk = new LineChunk();
  private lines = 0;
  /** While adopting: where the adopted transactions come from. */
  private adopting: RecordPlace | undefined;
  private committing: Promise<void> | undefined;
  /** Commits in flight, awaited before leaving. */
  private readonly commits = new Set<Promise<void>>();
  /** A rebalance began (performance.now()): nothing is analysed until the new assignment is applied. */
  private pausedSince = NaN;
  private lastCommit = 0;
  /** Records fetched per topic from partitions handed over since. */
  private fetchedBefore: number[] = [];
  private alertsPrinted = 0;
  private assignments = 0;
  private adopted = 0;
  private rebuiltRecords = 0;
  private lastSummary = { at: performance.now(), events: 0 };
  private charts = false;
  private analysisOptions!: ConstructorParameters<typeof StreamAnalysis>[0];
  /** Shaped records (a scenario with an output section): read back into the lifecycle, each slot's milliseconds put in order. */
  private shaped: { readonly rebuilder: ShapedRebuilder; readonly orders: Map<number, SameMillisecondOrder<ShapedPlace>> } | undefined;

  constructor(settings: FollowSettings) {
    this.settings = settings;
    this.options = settings.options;
    this.nameOf = settings.nameOf ?? ((key) => key);
  }

  async run(): Promise<AnalysisReport> {
    const { settings, options } = this;
    const analysis = settings.analysis ?? {};
    const outliers = resolveOutlierOptions(analysis, this.nameOf);
    const alerts = analysis.alerts === undefined ? undefined : await AlertScorer.load(analysis.alerts, undefined, analysis.alertFields);
    this.charts = analysis.charts === true;
    this.detector = new StuckDetector(options.stuckMs, options.stuckClock, () => this.place());
    this.analysisOptions = { ...outliers, truth: analysis.truth ?? IN_STREAM_TRUTH, alerts, charts: this.charts, observer: this.detector };
    this.analysis = new StreamAnalysis(this.analysisOptions);
    const plan = shapedReadPlan(analysis.scenario);
    if (plan !== undefined) {
      if (options.group !== undefined) {
        throw new WfsimError("INVALID_OPTION", `${this.nameOf("group")} does not read shaped topics yet (--scenario with an output section): follow them without it`);
      }
      this.shaped = { rebuilder: new ShapedRebuilder(plan, { blind: analysis.blind ?? analysis.truth !== undefined }), orders: new Map() };
    }
    const list = settings.topics ?? (plan !== undefined ? shapedTopics(plan.scenario) : wfsimTopics(settings.connection));
    this.reader = await TopicsReader.open(settings.connection, list, { signal: settings.signal, nameOf: this.nameOf as NameOf, bounded: false, role: "follow" });
    // Skewed transactions merged at their true time (see PartitionInput.clockOffsets); a shaped stream's faults are undone by its rebuild.
    if (plan === undefined) this.reader.clockOffsets = clockOffsetsOf(analysis.truth?.faultRecords);
    this.fetchedBefore = list.topics.map(() => 0);
    this.analysis.beginSource(kafkaSourceName(settings.connection, list), this.locator);
    const layout = this.reader.layout;
    const counts = layout.topics.map((topic) => `${topic.name} ${topic.partitions}`).join(", ");
    let timer: NodeJS.Timeout | undefined;
    try {
      if (options.group !== undefined) {
        if (!layout.copartitioned) {
          throw new WfsimError(
            "KAFKA_TOPIC",
            list.sharedKey
              ? `${this.nameOf("group")} needs every topic read to have the same number of partitions (a transaction's events are on partition p of each), got ${counts}`
              : `${this.nameOf("group")} needs all of a transaction's records to have the same key (so that they are on partition p of every topic): give every record type the same key`,
          );
        }
        try {
          // Imported here: group membership is the Kafka client's, which a follower without a group does not load.
          const { GroupMember } = await import("../kafka/read/group-member.ts");
          this.member = await GroupMember.join(settings.connection, layout.topics.map((topic) => topic.name), options.group, { signal: settings.signal, nameOf: this.nameOf as NameOf });
        this.member.onRebalance(() => this.rebalancing());
        } catch (error) {
          // Stopped while joining: the report of nothing read.
          if (settings.signal.aborted) return this.report();
          throw error;
        }
      } else {
        if (!layout.copartitioned && list.sharedKey) settings.onNotice?.(`the topics have different partition counts (${counts}): all partitions are merged as one stream`);
        for (const slot of this.reader.allSlots()) this.own(slot, undefined);
        this.reader.setSlots([...this.owned.values()].map((o) => o.slot));
      }
      settings.onReady?.(() => this.summary(false));
      if (options.summaryMs > 0 && settings.onSummary !== undefined) {
        timer = setInterval(() => settings.onSummary?.(this.summary()), options.summaryMs);
      }
      while (!settings.signal.aborted) {
        if (this.member?.failure !== undefined) throw kafkaError(this.member.failure, settings.connection, this.nameOf as NameOf);
        if (this.member !== undefined) await this.applyAssignments();
        await this.reader.fetchRound(FETCH_WAIT_MS, settings.signal);
        // A rebalance that never brings an assignment (it always does) must not stop the analysis.
        if (performance.now() - this.pausedSince > PAUSE_LIMIT_MS) this.pausedSince = NaN;
        if (!Number.isNaN(this.pausedSince)) continue;
        if (settings.registry !== undefined) await this.prepareSchemas(settings.registry);
        this.process(performance.now());
        this.maybeCommit(performance.now());
      }
      if (this.member !== undefined) await this.track(this.commit());
      await Promise.all([...this.commits]);
    } finally {
      clearInterval(timer);
      await this.member?.close();
      await this.reader.close();
    }
    return this.report();
  }

  /** Where the record being analysed comes from (asked by the detector when a transaction opens). */
  private place(): RecordPlace {
    if (this.adopting !== undefined) return this.adopting;
    const input = this.locator.inputAt(this.analysis.line);
    const owned = input === undefined ? undefined : this.owned.get(input.slot);
    return { slot: input?.slot ?? -1, from: owned?.passStart ?? [] };
  }

  private own(slot: Slot, handed: { wm: number | null; wall: number | null } | undefined): void {
    const replaying = slot.inputs.some((input) => input.next < input.replayUntil);
    slot.replaying = replaying;
    const rebuildLocator = new RecordLocator();
    let rebuild: StreamAnalysis | undefined;
    if (replaying) {
      // Rebuilds state only: its figures and findings are the previous owner's, and are dropped.
      rebuild = new StreamAnalysis({ ...this.analysisOptions, alerts: undefined, observer: undefined });
      rebuild.beginSource("replay", rebuildLocator);
    }
    this.owned.set(slot.index, {
      slot,
      rebuild,
      rebuildLocator,
      replayStart: slot.positions(),
      handedWm: handed?.wm ?? null,
      handedWall: handed?.wall ?? null,
      replayMaxTs: -Infinity,
      replayed: 0,
      held: [],
      passStart: slot.positions(),
    });
  }

  /**
   * Looks up the schemas of the waiting values whose ids are new, so that process(), which releases
   * records synchronously in merged order, decodes each one as it comes: the order stays the merge's.
   * Records only arrive in fetchRound, so nothing released in this round escapes the look.
   */
  private async prepareSchemas(registry: RegistryValueDecoder): Promise<void> {
    await registry.prepareWaiting([...this.owned.values()].flatMap((owned) => owned.slot.inputs));
  }

  /** The registry that decodes this wire-format value; without one, the refusal naming the record. */
  private registryFor(input: PartitionInput, record: InputRecord): RegistryValueDecoder {
    const registry = this.settings.registry;
    if (registry === undefined) throw wireFormatWithoutRegistry(input, record);
    return registry;
  }

  /** Analyses what can be released: replays first, then the live slots in one merged order. */
  private process(now: number): void {
    for (const owned of this.owned.values()) {
      if (owned.rebuild === undefined) continue;
      this.chunk.reset();
      owned.rebuildLocator.begin(owned.rebuild.line + 1);
      owned.slot.release(FOLLOW, now, (input, record) => {
        if (inWireFormat(record)) this.registryFor(input, record).appendTo(this.chunk, record.bytes, record.valueStart, record.valueEnd);
        else this.chunk.appendRecord(record);
        owned.rebuildLocator.add(input, record.offset);
        if (record.ts > owned.replayMaxTs) owned.replayMaxTs = record.ts;
        owned.replayed++;
      });
      if (this.chunk.lines > 0) owned.rebuild.push(this.chunk.bytes());
      if (owned.slot.replayDone) this.adopt(owned);
    }
    const live = [...this.owned.values()].filter((owned) => owned.rebuild === undefined);
    for (const owned of live) owned.passStart = owned.slot.positions();
    this.chunk.reset();
    this.locator.begin(this.lines + 1);
    const event = this.options.stuckClock === "event";
    releaseAcross(
      live.map((owned) => owned.slot),
      FOLLOW,
      now,
      (slot: Slot, input: PartitionInput, record: InputRecord) => {
        // Event time reaches this record's timestamp: what is open longer than --stuck-ms by now is
        // found before the record is analysed (it may be the transaction's late close).
        if (event && this.detector.due(slot.index, record.ts)) this.deliver(slot.index, this.detector.check(slot.index, record.ts));
        if (this.shaped !== undefined) {
          this.pushShaped(slot.index, input, record);
          return;
        }
        // In place (the decoder left a newline after the value), or copied: with its line breaks made
        // spaces, or decoded from the wire format.
        const start = this.chunk.length;
        const wire = inWireFormat(record);
        if (wire) this.registryFor(input, record).appendTo(this.chunk, record.bytes, record.valueStart, record.valueEnd);
        else if (record.lineBreaks) this.chunk.appendRecord(record);
        this.locator.add(input, record.offset);
        this.lines++;
        if (wire || record.lineBreaks) this.analysis.push(this.chunk.bytes().subarray(start));
        else this.analysis.pushLine(record.bytes, record.valueStart, record.valueEnd);
      },
    );
    if (this.shaped !== undefined) {
      // A slot read to its end: its last millisecond is complete as far as anyone can know.
      for (const owned of live) {
        const order = this.shaped.orders.get(owned.slot.index);
        if (order !== undefined && order.held > 0 && owned.slot.inputs.every((input) => input.pending === 0 && (input.caughtUp || input.next >= input.end))) {
          order.flush(this.analyseShaped);
        }
      }
    }
    if (!event) {
      const wall = Date.now();
      for (const owned of live) this.deliver(owned.slot.index, this.detector.check(owned.slot.index, wall));
    }
  }

  /** A shaped record, released by the merge: into its slot's millisecond order. */
  private pushShaped(slot: number, input: PartitionInput, record: InputRecord): void {
    const shaped = this.shaped!;
    const parsed = shaped.rebuilder.parse((inWireFormat(record) ? this.registryFor(input, record).toLine(record.value) : record.value).toString("utf8"));
    if (parsed === undefined) return;
    let order = shaped.orders.get(slot);
    if (order === undefined) shaped.orders.set(slot, (order = new SameMillisecondOrder()));
    order.push({ parsed, place: { input, offset: record.offset } }, this.analyseShaped);
  }

  /** A shaped record whose order is settled: the lifecycle lines it stands for, analysed. */
  private readonly analyseShaped = ({ parsed, place }: PlacedRecord<ShapedPlace>): void => {
    this.shaped!.rebuilder.rebuildParsed(parsed, (text) => {
      const start = this.chunk.length;
      this.chunk.append(Buffer.from(text.endsWith("\n") ? text.slice(0, -1) : text, "utf8"));
      this.locator.add(place.input, place.offset);
      this.lines++;
      this.analysis.push(this.chunk.bytes().subarray(start));
    });
  };

  /** Alerts found in a slot: printed at once, or (group) held for the commit that covers them. */
  private deliver(slot: number, alerts: readonly StuckAlert[]): void {
    if (alerts.length === 0) return;
    if (this.member === undefined) this.print(alerts);
    else this.owned.get(slot)?.held.push(...alerts);
  }

  private print(alerts: readonly StuckAlert[]): void {
    for (const alert of alerts) this.settings.onAlert(alert);
    this.alertsPrinted += alerts.length;
  }

  /** Replay done: the transactions still open join the analysis; those the previous owner alerted on stay quiet. */
  private adopt(owned: OwnedSlot): void {
    const rebuild = owned.rebuild!;
    rebuild.endSource();
    owned.rebuild = undefined;
    owned.slot.replaying = false;
    this.adopting = { slot: owned.slot.index, from: owned.replayStart };
    try {
      this.adopted += this.analysis.adopt(rebuild.openStates());
    } finally {
      this.adopting = undefined;
    }
    this.rebuiltRecords += owned.replayed;
    const handed = this.options.stuckClock === "event" ? owned.handedWm : owned.handedWall;
    if (handed !== null) this.detector.check(owned.slot.index, handed, true);
    if (owned.handedWm !== null && owned.handedWm > owned.slot.watermark) owned.slot.watermark = owned.handedWm;
    if (owned.replayMaxTs > owned.slot.watermark) owned.slot.watermark = owned.replayMaxTs;
  }

  /** Applies the group's assignments in order: drops the partitions lost, takes over those gained. */
  private async applyAssignments(): Promise<void> {
    for (const next of this.member!.takeAssignments()) {
      this.assignments++;
      const previous = this.applied;
      // Kept only if nobody else can have had it in between: same member, the very next generation.
      const continuous = previous !== undefined && previous.memberId === next.memberId && next.generation === previous.generation + 1;
      const keep = new Set(continuous ? next.partitions.filter((p) => previous.partitions.includes(p)) : []);
      let handedOver = 0;
      for (const [index, owned] of [...this.owned]) {
        if (keep.has(index)) continue;
        for (const input of owned.slot.inputs) this.fetchedBefore[input.topicIndex]! += input.fetched;
        handedOver += this.analysis.handOver((txn) => this.detector.follows(txn.key, index)).length;
        this.detector.drop(index);
        this.owned.delete(index);
      }
      const gained = next.partitions.filter((p) => !keep.has(p));
      if (gained.length > 0) {
        const committed = await this.committedOffsets(gained);
        // Stopped meanwhile: take nothing over (committing a partition not read would move its offset back).
        if (committed === undefined) return;
        for (const p of gained) this.own(...this.resume(p, committed));
      }
      this.applied = next;
      this.pausedSince = NaN;
      this.reader.setSlots([...this.owned.values()].map((o) => o.slot));
      const count = this.reader.layout.partitions;
      this.settings.onNotice?.(
        `group ${this.options.group}: reading partition${next.partitions.length === 1 ? "" : "s"} ${next.partitions.join(", ") || "(none)"} of ${count}` +
          ` (generation ${next.generation})${handedOver > 0 ? `; ${handedOver} open transactions handed over` : ""}`,
      );
    }
  }

  /** What the group committed for these partitions, retried within --kafka-timeout (the coordinator may be moving). */
  private async committedOffsets(partitions: readonly number[]): Promise<Map<string, Committed> | undefined> {
    const connection = this.settings.connection;
    const deadline = performance.now() + connection.timeoutMs;
    const seen: LastFailure = { error: undefined };
    try {
      return await retrying(deadline, this.settings.signal, seen, () => this.member!.committed(partitions));
    } catch (error) {
      if (this.settings.signal.aborted) return undefined;
      throw kafkaError(error, connection, this.nameOf as NameOf);
    }
  }

  /** Partition p's slot, from where the group left it: replay from `replay` up to the committed offset. */
  private resume(p: number, committed: Map<string, Committed>): [Slot, { wm: number | null; wall: number | null } | undefined] {
    const layout = this.reader.layout;
    const names = layout.topics.map((topic) => topic.name);
    const found = names.map((name) => committed.get(`${name}:${p}`));
    const meta = found.map((entry) => parseMetadata(entry?.metadata ?? null));
    const from = names.map((_, t) => {
      const entry = found[t];
      const start = this.reader.starts[t]![p]!;
      if (entry === undefined || entry.offset < 0) return start;
      return Math.max(0, Math.min(meta[t]?.replay ?? entry.offset, entry.offset));
    });
    const slot = this.reader.slot(
      p,
      layout.topics.map((topic, t) => Array.from({ length: topic.partitions }, (_, q) => (q === p ? from[t]! : 0))),
    );
    slot.inputs.forEach((input) => {
      const entry = found[input.topicIndex];
      input.replayUntil = entry === undefined || entry.offset < 0 ? input.next : entry.offset;
    });
    const handed = meta.find((m) => m !== undefined);
    return [slot, handed === undefined ? undefined : { wm: handed.wm, wall: handed.wall }];
  }

  private maybeCommit(now: number): void {
    if (this.member === undefined || this.committing !== undefined) return;
    const waiting = [...this.owned.values()].some((owned) => owned.held.length > 0);
    if (!waiting && now - this.lastCommit < COMMIT_INTERVAL_MS) return;
    this.lastCommit = now;
    this.committing = this.track(this.commit()).finally(() => (this.committing = undefined));
  }

  private track(commit: Promise<void>): Promise<void> {
    this.commits.add(commit);
    return commit.finally(() => this.commits.delete(commit));
  }

  /**
   * A rebalance began. Analysing stops until the new assignment is applied, and a commit goes out at
   * once, ahead of the rejoin: the partitions that move are handed over exactly where this follower
   * stopped, and their next owner analyses nothing twice.
   */
  private rebalancing(): void {
    if (!Number.isNaN(this.pausedSince)) return;
    this.pausedSince = performance.now();
    this.lastCommit = this.pausedSince;
    void this.track(this.commit());
  }

  /**
   * Commits every live partition's position with what its next owner needs, then prints the alerts
   * found up to it. Refused (the group moved on): the alerts go back to wait, and are dropped with
   * their partition if it is lost.
   */
  private async commit(): Promise<void> {
    const member = this.member;
    const assignment = this.applied;
    if (member === undefined || assignment === undefined) return;
    const wall = Date.now();
    const offsets: OffsetToCommit[] = [];
    const batches: [OwnedSlot, StuckAlert[]][] = [];
    for (const owned of this.owned.values()) {
      if (owned.rebuild !== undefined) continue;
      if (this.options.stuckClock === "wall") this.deliver(owned.slot.index, this.detector.check(owned.slot.index, wall));
      const positions = owned.slot.positions();
      const replay = this.detector.replayFrom(owned.slot.index, positions);
      const wm = Number.isFinite(owned.slot.watermark) ? owned.slot.watermark : null;
      owned.slot.inputs.forEach((input, i) => {
        offsets.push({ topic: input.topic, partition: input.partition, offset: positions[i]!, metadata: JSON.stringify({ v: 1, replay: replay[i], wm, wall }) });
      });
      batches.push([owned, owned.held]);
      owned.held = [];
    }
    const outcome = await member.commit(assignment, offsets);
    for (const [owned, alerts] of batches) {
      if (outcome.ok) this.print(alerts);
      else if (this.owned.get(owned.slot.index) === owned) owned.held.unshift(...alerts);
    }
  }

  /** The figures now; `roll` starts the next events/s window (the rolling summary's; a metrics scrape only peeks). */
  private summary(roll = true): FollowSummary {
    const now = performance.now();
    const events = this.analysis.eventsRead;
    const seconds = (now - this.lastSummary.at) / 1000;
    const rate = seconds > 0 ? (events - this.lastSummary.events) / seconds : 0;
    if (roll) this.lastSummary = { at: now, events };
    let lag: number | null = null;
    let eventTime = -Infinity;
    for (const owned of this.owned.values()) {
      for (const input of owned.slot.inputs) {
        if (input.highWatermark < 0) continue;
        lag = (lag ?? 0) + Math.max(0, input.highWatermark - input.position);
      }
      if (owned.slot.watermark > eventTime) eventTime = owned.slot.watermark;
    }
    return {
      events,
      eventsPerSecond: rate,
      open: this.analysis.openTransactions,
      alerts: this.alertsPrinted,
      lag,
      eventTime: Number.isFinite(eventTime) ? eventTime : null,
      partitions: this.partitions(),
      partitionCount: this.reader.layout.partitions,
      group: this.options.group,
    };
  }

  private partitions(): number[] {
    const indices = [...this.owned.keys()].sort((a, b) => a - b);
    if (indices.length === 1 && indices[0] === -1) {
      return Array.from({ length: this.reader.layout.partitions }, (_, p) => p);
    }
    return indices;
  }

  private report(): AnalysisReport {
    if (this.shaped !== undefined) {
      this.chunk.reset();
      this.locator.begin(this.lines + 1);
      for (const order of this.shaped.orders.values()) order.flush(this.analyseShaped);
    }
    const report = this.analysis.finish();
    const slots = [...this.owned.values()].map((owned) => owned.slot);
    const fetched = fetchedPerTopic(this.reader, slots).map((records, t) => records + (this.fetchedBefore[t] ?? 0));
    const follow: FollowReport = {
      group: this.options.group ?? null,
      stuck_ms: this.options.stuckMs,
      stuck_clock: this.options.stuckClock,
      alerts: this.alertsPrinted,
      partitions: this.partitions(),
      assignments: this.assignments,
      handed_over: this.analysis.handedOverTransactions,
      adopted: this.adopted,
      rebuilt_records: this.rebuiltRecords,
    };
    return { ...report, kafka: { ...kafkaReport(this.reader, slots, fetched), follow } };
  }
}

/** A value in a Schema Registry's wire format: magic byte 0 and a schema id (a JSON line starts with `{` or a space). */
function inWireFormat(record: InputRecord): boolean {
  return record.bytes[record.valueStart] === MAGIC_BYTE && record.valueEnd - record.valueStart >= 5;
}

interface HandOverMetadata {
  readonly replay: number | undefined;
  readonly wm: number | null;
  readonly wall: number | null;
}

/** The metadata a follower commits (see the top of this file); undefined when it is not ours. */
function parseMetadata(text: string | null): HandOverMetadata | undefined {
  if (text === null || text === "") return undefined;
  try {
    const value = JSON.parse(text) as { v?: unknown; replay?: unknown; wm?: unknown; wall?: unknown };
    if (value.v !== 1) return undefined;
    const number = (x: unknown) => (typeof x === "number" && Number.isFinite(x) ? x : null);
    return { replay: number(value.replay) ?? undefined, wm: number(value.wm), wall: number(value.wall) };
  } catch {
    return undefined;
  }
}
