/** Reading and setting the topic configs behind TopicLimits (topic-limits.ts), with an Admin client. */
import { ConfigResourceTypes, IncrementalAlterConfigOperationTypes, type Admin } from "@platformatic/kafka";
import { AFTER_MAX, BEFORE_MAX, RETENTION, type TopicLimits } from "./topic-limits.ts";

/** A topic config's milliseconds: Infinity for -1 or values too large to mean a limit. */
function millis(value: string | null | undefined): number {
  if (value === null || value === undefined) return Infinity;
  const ms = Number(value);
  return !Number.isFinite(ms) || ms < 0 || ms >= Number.MAX_SAFE_INTEGER ? Infinity : ms;
}

/** The three limits of each topic, as the broker applies them (its defaults included). */
export async function readTopicLimits(admin: Admin, names: readonly string[]): Promise<TopicLimits[]> {
  const described = await admin.describeConfigs({
    resources: names.map((name) => ({ resourceType: ConfigResourceTypes.TOPIC, resourceName: name, configurationKeys: [RETENTION, BEFORE_MAX, AFTER_MAX] })),
  });
  return names.map((name) => {
    const configs = described.find((resource) => resource.resourceName === name)?.configs ?? [];
    const value = (key: string) => configs.find((config) => config.name === key)?.value;
    return { name, retentionMs: millis(value(RETENTION)), beforeMaxMs: millis(value(BEFORE_MAX)), afterMaxMs: millis(value(AFTER_MAX)) };
  });
}

/** Sets topic configs (only those given), leaving the others as they are. */
export async function setTopicConfigs(admin: Admin, names: readonly string[], configs: Readonly<Record<string, string>>): Promise<void> {
  const entries = Object.entries(configs);
  if (entries.length === 0 || names.length === 0) return;
  await admin.incrementalAlterConfigs({
    resources: names.map((name) => ({
      resourceType: ConfigResourceTypes.TOPIC,
      resourceName: name,
      configs: entries.map(([key, value]) => ({ name: key, configOperation: IncrementalAlterConfigOperationTypes.SET, value })),
    })),
  });
}

