// Its own file: wfsim's public declarations reach it without loading the Kafka client's.

/** What wfsim found or made of one of its topics. */
export interface TopicInfo {
  readonly name: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  /** wfsim created it in this run (false: it existed and is used as it is). */
  readonly created: boolean;
}
