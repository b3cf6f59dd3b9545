import type { EventSink, Simulation } from "../engine/simulation.ts";
import { alertFieldFlags, alertFieldsFromFlags } from "./alert-field-flags.ts";
import type { TruthRecord } from "../events/truth.ts";
import type { KafkaSink } from "../sinks/kafka/kafka-sink.ts";
import { parseDuration, DURATION_EXPECTED } from "../config/units.ts";
import { WfsimError } from "../errors.ts";
import { parseListenAddress } from "../live/listen-address.ts";
import type { LiveScores, OverdueAnomaly } from "../live/live-scorer.ts";
import type { AlertFeed, LiveSession, LiveSettings } from "../live/live-session.ts";
import type { HttpEndpoint } from "../live/http-endpoint.ts";
import { flagName, type FlagSpec } from "./run-flags.ts";
import { writeResult } from "./output.ts";
import type { KafkaConnection } from "../config/kafka-options.ts";
import type { FollowSummary } from "../follow/follow.ts";
import { KAFKA_ALERTS_PREFIX, kafkaAlertsTopic } from "../analyze/read/kafka-alerts.ts";

const LIVE = "Live metrics and scores:";

export const LIVE_DEFAULTS = { alertDeadlineMs: 30_000, scoreGraceMs: 5_000, followEveryMs: 100 } as const;

/** The flags of `wfsim run` that watch the run while it goes on. */
export const LIVE_FLAGS = {
  metrics: {
    syntax: "--metrics <host:port>",
    help: "serve Prometheus metrics at http://HOST:PORT/metrics while the run goes on (HOST defaults to 127.0.0.1; port 0 picks a free one, named on stderr)",
    group: LIVE,
  },
  ui: {
    syntax: "--ui <host:port>",
    help: "serve a live page at http://HOST:PORT/ while the run goes on: events/s, in flight, lateness, injected anomalies, live scores and overdue anomalies, updated every second (HOST defaults to 127.0.0.1)",
    group: LIVE,
  },
  scoreAlerts: {
    syntax: "--score-alerts <file:path|kafka:topic>",
    help: "score a pipeline's alerts while the run goes on: file:PATH follows a growing JSON Lines file (tail -f), kafka:TOPIC reads what is written to that topic from the start of the run (with the Kafka output's connection flags), in the format analyze --alerts reads; live precision, recall and delays, overdue anomalies on stderr, final scores in the summary",
    group: LIVE,
  },
  scoreAlertsGroup: {
    syntax: "--score-alerts-group <name>",
    help: "with --score-alerts kafka:TOPIC: keep the offsets read in this consumer group (committed as alerts are read, about once a second, and at the end), and start from them: a restart resumes where the last run left off (default: no group, nothing committed, reading starts at the topic's end when the run starts)",
    group: LIVE,
  },
  alertDeadline: {
    syntax: "--alert-deadline <time>",
    help: "with --score-alerts: an anomaly with no alert this long after it began is reported as overdue",
    defaultText: "30s",
    group: LIVE,
  },
  scoreGrace: {
    syntax: "--score-grace <time>",
    help: "with --score-alerts: after the run, wait this long for late alerts before the final scores",
    defaultText: "5s",
    group: LIVE,
  },
  ...alertFieldFlags("--score-alerts", LIVE),
  report: {
    syntax: "--report <file>",
    help: "with --score-alerts: write the final scores to this file as JSON when the run ends (the alerts section of analyze --format json, and the overdue anomalies)",
    group: LIVE,
  },
} as const satisfies Record<string, FlagSpec>;

type Flags = { readonly [key: string]: string | boolean | undefined };

interface LiveIo {
  readonly stderr: NodeJS.WritableStream;
  readonly quiet: boolean;
  readonly signal: AbortSignal;
  /** The Kafka output's connection, when events go to Kafka: kafka:TOPIC alerts are read with it. */
  readonly kafka: KafkaConnection | undefined;
}

const FLAG = { metrics: "--metrics", ui: "--ui", scoreAlerts: "--score-alerts", scoreAlertsGroup: "--score-alerts-group", alertDeadline: "--alert-deadline", scoreGrace: "--score-grace", report: "--report" } as const;

/** What watches a run, as `wfsim run` uses it. */
export interface LiveRun {
  tap(sink: EventSink): EventSink;
  readonly onLabel: ((record: TruthRecord) => void) | undefined;
  attach(simulation: Simulation, kafka?: KafkaSink): void;
  /** After the run: the grace, the final scores (in the summary unless quiet), closing. */
  finish(signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts what the live flags ask for, before the run's first event; undefined when none is given.
 * A bad address, a port in use, an unreadable alert source: the user's flag, one line, exit 2,
 * before any output is opened.
 */
export async function openLive(flags: Flags, io: LiveIo): Promise<LiveRun | undefined> {
  checkLiveFlags(flags, io.kafka !== undefined);
  const scoring = flags.scoreAlerts !== undefined;
  if (flags.metrics === undefined && flags.ui === undefined && !scoring) return undefined;
  const settings: { -readonly [K in keyof LiveSettings]: LiveSettings[K] } = {
    onListening: (what, url) => {
      if (!io.quiet) io.stderr.write(`wfsim: ${what} at ${url}\n`);
    },
    onOverdue: (anomaly) => {
      if (!io.quiet) io.stderr.write(formatOverdue(anomaly));
    },
  };
  if (flags.metrics !== undefined) settings.metrics = { address: parseListenAddress(String(flags.metrics), FLAG.metrics), flag: FLAG.metrics };
  if (flags.ui !== undefined) settings.ui = { address: parseListenAddress(String(flags.ui), FLAG.ui), flag: FLAG.ui };
  let scoringLine: string | undefined;
  if (scoring) {
    const deadlineMs = durationFlag(flags, "alertDeadline", LIVE_DEFAULTS.alertDeadlineMs);
    const graceMs = durationFlag(flags, "scoreGrace", LIVE_DEFAULTS.scoreGraceMs);
    const group = flags.scoreAlertsGroup === undefined ? undefined : groupName(flags.scoreAlertsGroup);
    const feed = await openFeed(String(flags.scoreAlerts), io, group);
    // Said when the run starts (attach): a run refused after this (an unreachable broker, a port in use) prints its error alone.
    scoringLine = `wfsim: scoring alerts from ${feed.name} (overdue after ${deadlineMs} ms, ${graceMs} ms of grace at the end)\n`;
    settings.scoring = {
      feed,
      deadlineMs,
      graceMs,
      fields: alertFieldsFromFlags(flags, true, FLAG.scoreAlerts),
    };
  }
  const { LiveSession } = await import("../live/live-session.ts");
  let session: LiveSession;
  try {
    session = await LiveSession.start(settings);
  } catch (error) {
    await settings.scoring?.feed.close().catch(() => {});
    throw error;
  }
  return {
    tap: (sink) => session.tap(sink),
    onLabel: session.onLabel,
    attach(simulation, kafka) {
      if (scoringLine !== undefined && !io.quiet) io.stderr.write(scoringLine);
      session.attach(simulation, kafka);
    },
    async finish(signal) {
      const scores = await session.finish(signal);
      if (scores === undefined) return;
      if (!io.quiet) io.stderr.write(formatScores(scores));
      // Checked writable with the run's other paths, written only now: a refused or failed start leaves it as it was.
      if (typeof flags.report === "string") {
        await writeResult({ flag: FLAG.report, path: flags.report }, `${JSON.stringify({ ...scores, grace_ms: settings.scoring!.graceMs }, null, 2)}\n`);
      }
    },
    close: () => session.close(),
  };
}

/**
 * Checks the live flags without opening anything (what --dry-run does, and openLive first): the
 * addresses, the alert source's form, the durations, and the scoring flags given without --score-alerts.
 */
export function checkLiveFlags(flags: Flags, kafkaOutput: boolean): void {
  alertFieldsFromFlags(flags, flags.scoreAlerts !== undefined, FLAG.scoreAlerts);
  if (flags.scoreAlerts === undefined) {
    const stray = (["alertDeadline", "scoreGrace", "report", "scoreAlertsGroup"] as const).find((key) => flags[key] !== undefined);
    if (stray !== undefined) throw new WfsimError("INVALID_OPTION", `${FLAG[stray]} applies to ${FLAG.scoreAlerts}`);
  } else {
    const value = String(flags.scoreAlerts);
    const topic = kafkaAlertsTopic(value, FLAG.scoreAlerts);
    if (topic === undefined && !(value.startsWith("file:") && value.length > "file:".length)) {
      throw new WfsimError("INVALID_OPTION", `${FLAG.scoreAlerts} must be file:PATH or kafka:TOPIC, got '${value}'`);
    }
    if (topic !== undefined && !kafkaOutput) {
      throw new WfsimError("INVALID_OPTION", `${FLAG.scoreAlerts} ${KAFKA_ALERTS_PREFIX}${topic} reads with the Kafka output's connection flags: add ${flagName("kafkaBootstrap")} HOST:PORT`);
    }
    if (flags.scoreAlertsGroup !== undefined) {
      if (topic === undefined) throw new WfsimError("INVALID_OPTION", `${FLAG.scoreAlertsGroup} applies to ${FLAG.scoreAlerts} ${KAFKA_ALERTS_PREFIX}TOPIC (a file has no consumer group), got ${FLAG.scoreAlerts} '${value}'`);
      groupName(flags.scoreAlertsGroup);
    }
    durationFlag(flags, "alertDeadline", LIVE_DEFAULTS.alertDeadlineMs);
    durationFlag(flags, "scoreGrace", LIVE_DEFAULTS.scoreGraceMs);
  }
  if (flags.metrics !== undefined) parseListenAddress(String(flags.metrics), FLAG.metrics);
  if (flags.ui !== undefined) parseListenAddress(String(flags.ui), FLAG.ui);
}

/** A consumer group's name: Kafka takes any non-empty string; wfsim refuses blanks and control characters, which are typos. */
function groupName(raw: string | boolean): string {
  const name = typeof raw === "string" ? raw : "";
  // eslint-disable-next-line no-control-regex
  if (name.trim() === "" || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new WfsimError("INVALID_OPTION", `${FLAG.scoreAlertsGroup} must be a consumer group name (not blank, no control characters), got '${String(raw)}'`);
  }
  return name;
}

function durationFlag(flags: Flags, key: "alertDeadline" | "scoreGrace", fallback: number): number {
  const raw = flags[key];
  if (raw === undefined) return fallback;
  const ms = parseDuration(raw);
  if (ms === undefined) throw new WfsimError("INVALID_OPTION", `${FLAG[key]} must be ${DURATION_EXPECTED}, got '${String(raw)}'`);
  return ms;
}

/** The alert source a --score-alerts value names, opened (a file that cannot be read fails here). */
async function openFeed(value: string, io: LiveIo, group: string | undefined): Promise<AlertFeed> {
  if (value.startsWith("file:") && value.length > "file:".length) {
    const path = value.slice("file:".length);
    const { FileFollower } = await import("../live/file-follower.ts");
    const follower = await FileFollower.open(path, FLAG.scoreAlerts);
    return {
      name: path,
      follow: (onLine) => follower.follow(onLine, LIVE_DEFAULTS.followEveryMs),
      close: () => follower.close(),
    };
  }
  if (value.startsWith(KAFKA_ALERTS_PREFIX)) {
    const topic = kafkaAlertsTopic(value, FLAG.scoreAlerts)!;
    if (io.kafka === undefined) {
      throw new WfsimError("INVALID_OPTION", `${FLAG.scoreAlerts} ${KAFKA_ALERTS_PREFIX}${topic} reads with the Kafka output's connection flags: add ${flagName("kafkaBootstrap")} HOST:PORT`);
    }
    const connection = io.kafka;
    // Loaded here: the Kafka client is only worth its load time when Kafka is used.
    const { TopicValues } = await import("../kafka/read/topic-values.ts");
    const reader = await TopicValues.open(connection, topic, { signal: io.signal, nameOf: flagName, what: `${FLAG.scoreAlerts} ${KAFKA_ALERTS_PREFIX}${topic}`, role: "alerts", group });
    if (group !== undefined && !io.quiet) {
      const behind = reader.resumeFrom.reduce((sum, offset, p) => sum + (reader.ends[p]! - offset), 0);
      io.stderr.write(`wfsim: ${FLAG.scoreAlertsGroup} ${group}: ${behind === 0 ? "reading alerts from the topic's end" : `resuming ${behind.toLocaleString("en-US")} alert records behind the topic's end`}\n`);
    }
    const stop = { requested: false };
    let following: Promise<void> = Promise.resolve();
    return {
      // As analyze --alerts kafka:TOPIC names it, so that the reports match.
      name: `kafka://${connection.bootstrap.join(",")}/${topic}`,
      follow(onLine) {
        following = reader
          .follow((values) => {
            // One record value is one alert line, as analyze --alerts kafka:TOPIC reads it.
            for (const value of values) onLine(value.toString("utf8").replace(/[\r\n]/g, " "));
          }, stop, io.signal)
          .catch((error: unknown) => {
            io.stderr.write(`wfsim: warning: ${FLAG.scoreAlerts} ${KAFKA_ALERTS_PREFIX}${topic}: stopped reading alerts: ${error instanceof Error ? error.message : String(error)}\n`);
          });
      },
      async close() {
        stop.requested = true;
        await following;
        const failure = await reader.close();
        if (failure !== undefined) {
          const { describeKafkaFailure } = await import("../kafka/errors.ts");
          io.stderr.write(`wfsim: warning: ${FLAG.scoreAlertsGroup} ${group}: the last offsets read were not committed (${describeKafkaFailure(failure).reason}): a restart reads those alerts again\n`);
        }
      },
    };
  }
  throw new WfsimError("INVALID_OPTION", `${FLAG.scoreAlerts} must be file:PATH or kafka:TOPIC, got '${value}'`);
}

function formatOverdue(anomaly: OverdueAnomaly): string {
  return `wfsim: overdue: ${anomaly.kind} in ${anomaly.txn_id}, began ${new Date(anomaly.started_ms).toISOString()}, no alert by ${new Date(anomaly.due_ms).toISOString()}\n`;
}

const pct = (value: number | null) => (value === null ? "n/a" : `${(value * 100).toFixed(1)}%`);
const ms = (value: number | null) => (value === null ? "n/a" : `${value} ms`);

/** The end-of-run lines of live scoring. */
export function formatScores(scores: LiveScores): string {
  const a = scores.alerts;
  const lines = [
    `wfsim: alerts from ${a.source}: ${a.lines} lines (${a.invalid_lines} skipped), ${a.alerted} transactions alerted; precision ${pct(a.precision)}, recall ${pct(a.recall)} (${a.true_positives} found of ${a.labelled}, ${a.false_positives} false, ${a.unknown_transactions} unknown), delay p50 ${ms(a.detection_delay_ms.p50)} p99 ${ms(a.detection_delay_ms.p99)}`,
  ];
  for (const kind of ["outlier", "stuck"] as const) {
    const k = a.by_kind[kind];
    lines.push(`wfsim:   ${kind}: recall ${pct(k.recall)} (${k.detected} of ${k.labelled}), precision ${pct(k.precision)}, delay p50 ${ms(k.detection_delay_ms.p50)} p99 ${ms(k.detection_delay_ms.p99)}`);
  }
  lines.push(`wfsim:   overdue (no alert within ${scores.deadline_ms} ms): ${scores.overdue.total} (outlier ${scores.overdue.outlier}, stuck ${scores.overdue.stuck})`);
  return `${lines.join("\n")}\n`;
}

/**
 * `analyze --follow --metrics HOST:PORT --ui HOST:PORT`: the follower's metrics endpoint and live
 * page, listening before the follower connects (a port in use fails first); undefined without them.
 */
export async function openFollowLive(
  flags: { readonly metrics: string | boolean | undefined; readonly ui: string | boolean | undefined },
  stderr: NodeJS.WritableStream,
  quiet: boolean,
): Promise<{ attach: (read: () => FollowSummary) => void; close: () => Promise<void> } | undefined> {
  if (flags.metrics === undefined && flags.ui === undefined) return undefined;
  const metricsAddress = flags.metrics === undefined ? undefined : parseListenAddress(String(flags.metrics), FLAG.metrics);
  const uiAddress = flags.ui === undefined ? undefined : parseListenAddress(String(flags.ui), FLAG.ui);
  const endpoints: HttpEndpoint[] = [];
  const readers: ((read: () => FollowSummary) => void)[] = [];
  try {
    if (metricsAddress !== undefined) {
      // Loaded here: prom-client is only worth its load time when metrics are asked for.
      const { FollowMetrics } = await import("../live/follow-metrics.ts");
      const { serveMetrics } = await import("../live/metrics-endpoint.ts");
      const metrics = new FollowMetrics();
      const endpoint = await serveMetrics(metrics, metricsAddress, FLAG.metrics);
      endpoints.push(endpoint);
      readers.push((read) => metrics.attach(read));
      if (!quiet) stderr.write(`wfsim: metrics at ${endpoint.url}/metrics\n`);
    }
    if (uiAddress !== undefined) {
      const { FollowView } = await import("../live/live-view.ts");
      const { serveUi } = await import("../live/ui-endpoint.ts");
      const view = new FollowView();
      const endpoint = await serveUi(view, uiAddress, FLAG.ui);
      endpoints.push(endpoint);
      readers.push((read) => view.attach(read));
      if (!quiet) stderr.write(`wfsim: live page at ${endpoint.url}/\n`);
    }
  } catch (error) {
    await Promise.all(endpoints.map((endpoint) => endpoint.close()));
    throw error;
  }
  return {
    attach: (read) => readers.forEach((attach) => attach(read)),
    close: async () => {
      await Promise.all(endpoints.map((endpoint) => endpoint.close()));
    },
  };
}
