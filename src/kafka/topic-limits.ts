/**
 * What a topic keeps and accepts by time: retention.ms (older records are deleted at the broker's
 * next retention check), message.timestamp.before.max.ms and message.timestamp.after.max.ms (records
 * stamped further in the past or the future than this from the broker's clock are refused with
 * INVALID_TIMESTAMP). A simulation dates its events itself, so it can run into all three: read from
 * the real topics (topic-configs.ts), they tell a run what will happen to its events before it starts.
 * No Kafka client here: the CLI loads this module on every run.
 */
import { formatMs } from "../config/units.ts";

export const RETENTION = "retention.ms";
export const BEFORE_MAX = "message.timestamp.before.max.ms";
export const AFTER_MAX = "message.timestamp.after.max.ms";
/** Kafka's "no limit" for all three: -1 for retention, Long.MAX_VALUE for the others. */
export const UNLIMITED = "9223372036854775807";

export interface TopicLimits {
  readonly name: string;
  /** Infinity: no limit. */
  readonly retentionMs: number;
  readonly beforeMaxMs: number;
  readonly afterMaxMs: number;
}

/** When a run's events will be stamped, as far as it can be told before it starts. */
export interface TimestampPlan {
  /** The first event's time, epoch ms. */
  readonly startMs: number;
  /** Virtual: the whole run is written at once; real: at `speed` simulated ms per real ms. */
  readonly clock: "real" | "virtual";
  readonly speed: number;
  /** Simulated ms after which no transaction opens; undefined: not known in advance. */
  readonly durationMs: number | undefined;
}

const show = (ms: number) => (ms === Infinity ? "unlimited" : formatMs(Math.round(ms)));
/** A span of time for a message: 3.7d, 5.0h, 12m, 40s. */
function roughly(ms: number): string {
  for (const [unit, size] of [["d", 86_400_000], ["h", 3_600_000], ["m", 60_000]] as const) if (ms >= 2 * size) return `${(ms / size).toFixed(1)}${unit}`;
  return `${Math.round(ms / 1000)}s`;
}
const at = (ms: number) => new Date(ms).toISOString();

/**
 * What a run as planned will run into on these topics, one line per problem, each naming the setting
 * to change (and how), or an empty list. `nowMs` is the wall clock, taken as the broker's.
 */
export function timestampWarnings(limits: readonly TopicLimits[], plan: TimestampPlan, nowMs: number): string[] {
  const warnings: string[] = [];
  const behind = nowMs - plan.startMs;
  // How far ahead of the wall clock the latest event will be, as far as it is known: a virtual run
  // writes its whole span at once (known with a duration); a real run at speed 1 stays at the start's
  // distance from the wall clock, a faster one runs further ahead the longer it runs.
  const span = plan.durationMs ?? 0;
  const ahead = plan.clock === "virtual" ? plan.startMs + span - nowMs : plan.speed > 1 ? Infinity : -behind;
  for (const topic of limits) {
    if (behind > topic.beforeMaxMs) {
      warnings.push(
        `topic ${topic.name} refuses records stamped more than ${show(topic.beforeMaxMs)} behind the broker's clock (${BEFORE_MAX}); ` +
          `the run starts at ${at(plan.startMs)}, ${roughly(behind)} ago, and Kafka will refuse its events (INVALID_TIMESTAMP): ` +
          `raise it (wfsim topics create --timestamp-before-max unlimited) or start later (--start-time)`,
      );
    } else if (behind > topic.retentionMs) {
      const enough = Math.ceil(behind / 86_400_000) * 86_400_000 + 86_400_000;
      warnings.push(
        `topic ${topic.name} keeps records for ${show(topic.retentionMs)} (${RETENTION}); the run starts at ${at(plan.startMs)}, ${roughly(behind)} ago, ` +
          `so the broker will delete its events at its next retention check: raise it (wfsim topics create --retention ${show(enough)}) or start later (--start-time)`,
      );
    }
    if (ahead > topic.afterMaxMs) {
      const lead = plan.startMs - nowMs;
      const which =
        lead > topic.afterMaxMs
          ? `the run starts at ${at(plan.startMs)}, ${roughly(lead)} ahead`
          : plan.clock === "real"
            ? `the run's events get further ahead after about ${roughly((topic.afterMaxMs - lead) / (plan.speed - 1))} of running at --speed ${plan.speed}`
            : `the run's events from ${at(nowMs + topic.afterMaxMs)} on are further ahead (they reach ${at(plan.startMs + span)})`;
      warnings.push(
        `topic ${topic.name} refuses records stamped more than ${show(topic.afterMaxMs)} ahead of the broker's clock (${AFTER_MAX}); ` +
          `${which}, and Kafka will refuse them (INVALID_TIMESTAMP): raise it (wfsim topics create --timestamp-after-max unlimited) or start earlier (--start-time)`,
      );
    }
  }
  return warnings;
}
