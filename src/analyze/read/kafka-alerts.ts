/**
 * `wfsim analyze --alerts kafka:TOPIC`: a detector's alerts read from a Kafka topic (every partition,
 * from its first record to its end when reading began), one record value per alert line, with the
 * connection flags that read the events.
 */
import type { KafkaConnection } from "../../config/kafka-options.ts";
import { parseTopic } from "../../config/kafka-options.ts";
import type { NameOf } from "../../kafka/connect.ts";
import type { EventSource } from "./source.ts";

/** `--alerts kafka:TOPIC` names a topic; a file whose name starts so is given as ./kafka:... */
export const KAFKA_ALERTS_PREFIX = "kafka:";

/** The topic of a `kafka:TOPIC` value, checked as a Kafka topic name; undefined for a file. */
export function kafkaAlertsTopic(value: string | undefined, flag = "--alerts"): string | undefined {
  if (value === undefined || !value.startsWith(KAFKA_ALERTS_PREFIX)) return undefined;
  return parseTopic(value.slice(KAFKA_ALERTS_PREFIX.length), `${flag} ${KAFKA_ALERTS_PREFIX}TOPIC's topic`);
}

export interface KafkaAlertSource extends EventSource {
  readonly topic: string;
  /** Offsets of the topic deleted before it was read (retention): alerts the scoring cannot see. */
  readonly deletedBeforeRead: number;
}

/**
 * Connects and looks at the topic (within --kafka-timeout): a missing topic fails here, in one line.
 * The source yields the alerts once, as JSON Lines; a record value holding line breaks stays one line.
 */
export async function openKafkaAlerts(
  connection: KafkaConnection,
  topic: string,
  settings: { readonly signal?: AbortSignal | undefined; readonly nameOf?: NameOf | undefined; readonly flag?: string | undefined } = {},
): Promise<KafkaAlertSource> {
  // Loaded here: the Kafka client is worth its load time only when alerts come from Kafka.
  const { TopicValues } = await import("../../kafka/read/topic-values.ts");
  const reader = await TopicValues.open(connection, topic, { ...settings, what: `${settings.flag ?? "--alerts"} ${KAFKA_ALERTS_PREFIX}${topic}`, role: settings.flag === undefined ? "alerts" : "topic-reader" });
  return {
    name: `kafka://${connection.bootstrap.join(",")}/${topic}`,
    topic,
    deletedBeforeRead: reader.deletedBeforeRead,
    async *chunks(signal) {
      try {
        for await (const values of reader.values(signal)) {
          const lines = values.map((value) => value.toString("utf8").replace(/[\r\n]/g, " "));
          yield Buffer.from(`${lines.join("\n")}\n`);
        }
      } finally {
        await reader.close();
      }
    },
  };
}
