/**
 * wfsim as a library: the same engine, options and events as the command line.
 *
 * ```ts
 * import { simulate } from "wfsim";
 * for await (const event of simulate({ samples: 10, clock: "virtual" })) console.log(event.type);
 * ```
 */
export {
  simulate,
  createSimulation,
  createClock,
  arrivalsOf,
  truthCallback,
  createShaper,
  type SimulateOptions,
  type RunOptions,
} from "./api/simulate.ts";
export {
  resolveSimOptions,
  SIM_DEFAULTS,
  CLOCKS,
  type SimOptions,
  type SimOptionsInput,
  type ClockKind,
  type ResolveContext,
} from "./config/sim-options.ts";
export { loadDelivery, loadScenario, parseDelivery, parseScenario } from "./config/scenario/load.ts";
export { ScenarioFile as ScenarioSchema, scenarioJsonSchema, type ScenarioInput } from "./config/scenario/schema.ts";
export type {
  Scenario,
  WorkflowSpec,
  StepSpec,
  DistributionSpec,
  FailureSpec,
  OutlierSpec,
  StuckSpec,
  LoadSpec,
  StageSpec,
} from "./config/scenario/model.ts";
export { parseDuration, formatMs } from "./config/units.ts";
export type {
  Shape,
  RecordType,
  RecordRoles,
  ValueNode,
  ValueType,
  ObjectField,
  Attribute,
  AttributeKind,
  AttributeScope,
  Moment,
  Template,
  Placeholder,
  TimeFormat,
  FieldPath,
  Envelope,
} from "./config/shape/model.ts";
export { LIFECYCLE, type LifecycleName } from "./config/shape/lifecycle.ts";
export { shapeJsonSchema } from "./config/shape/json-schema.ts";
export { Shaper, type ShaperSettings, type Emission } from "./engine/shape/shaper.ts";
export { VirtualClock, RealClock, ManualClock, type Clock, type TimerApi } from "./engine/clock.ts";
export { Random, RandomStreams } from "./engine/random.ts";
export { Simulation, type EventSink, type LabelSink, type Progress, type RunSummary } from "./engine/simulation.ts";
export { ScenarioWorkflow } from "./engine/scenario-workflow.ts";
export { RateCurve, PoissonArrivals, FixedArrivals, type ArrivalProcess } from "./engine/arrivals.ts";
export { samplerOf, type Sampler } from "./engine/distributions.ts";
export type { LatenessStats } from "./engine/lateness.ts";
export {
  WfEvent as EventSchema,
  EVENT_TYPES,
  isTransactionEvent,
  type WfEvent,
  type EventType,
  type TransactionOpen,
  type StepOpen,
  type StepDone,
  type InterStepWait,
  type TransactionClose,
  type TransactionAborted,
  type StepFailed,
  type StepRetry,
  type TransactionFailed,
} from "./events/schema.ts";
export {
  TruthRecord as TruthSchema,
  TRUTH_KINDS,
  serializeTruth,
  parseTruthLine,
  type TruthRecord,
  type TruthKind,
  type OutlierLabel,
  type StuckLabel,
  type StepFailureLabel,
  FaultRecord as FaultSchema,
  TruthLineSchema,
  type FaultRecord,
  type TruthLine,
} from "./events/truth.ts";
export { FAULT_KINDS, type DeliverySpec, type FaultKind, type FaultSpec } from "./config/scenario/model.ts";
export { serializeEvent } from "./events/serialize.ts";
export { JsonlSink } from "./sinks/jsonl-sink.ts";
export { TruthSink } from "./sinks/truth-sink.ts";
export {
  resolveKafkaOptions,
  resolveKafkaConnection,
  KAFKA_DEFAULTS,
  COMPRESSIONS,
  SASL_MECHANISMS,
  PASSWORD_ENV,
  type KafkaOptions,
  type KafkaConnection,
  type KafkaOptionsInput,
  type KafkaTopics,
  type KafkaTls,
  type KafkaSasl,
  type Compression,
  type SaslMechanism,
  type Acks,
} from "./config/kafka-options.ts";
export { instanceKind, samplesShare, concurrencyShare, SINGLE_INSTANCE, type Instance } from "./config/instance.ts";
export { openKafkaSink, type OpenKafkaSettings, type OpenedKafkaSink } from "./sinks/kafka/open.ts";
export { KafkaSink, KAFKA_SINK_DEFAULTS, type KafkaSinkSettings } from "./sinks/kafka/kafka-sink.ts";
export { DeliveryError, type RecordSender, type PartitionBatch } from "./kafka/sender.ts";
export { RecordBatchBuilder } from "./kafka/record-batch.ts";
export type { DeliveryReport } from "./sinks/kafka/delivery.ts";
export type { KafkaFailure, KafkaFailureKind } from "./kafka/errors.ts";
export type { TopicInfo } from "./kafka/topic-info.ts";
export { EVENT_TYPE_HEADER } from "./sinks/kafka/records.ts";
export { VALUE_FORMATS, SCHEMA_TYPES, type ValueFormat, type RegistryFormat, type SchemaType } from "./events/wire/formats.ts";
export { SchemaRegistryClient, type RegistryOptions, type RegistryAuth, type RegisteredSchema } from "./kafka/registry/client.ts";
export { resolveRegistryOptions, REGISTRY_PASSWORD_ENV, REGISTRY_TOKEN_ENV, type RegistryOptionsInput } from "./config/registry-options.ts";
export { registerEventSchemas, topicSchemaText, valueSubject, type ValueEncoder, type TopicSchema } from "./sinks/kafka/registry/value-encoders.ts";
export { RegistryEventRecords } from "./sinks/kafka/registry/registry-records.ts";
export { RegistryValueDecoder, type DecodedRecords } from "./analyze/read/registry-values.ts";
export { WfsimError, isWfsimError, type ErrorCode } from "./errors.ts";
export { VERSION } from "./version.ts";
export { analyze, analyzeWithWindows, type AnalyzeOptions, type AnalyzeProgress } from "./analyze/analyze.ts";
export {
  GoldenWindows,
  WINDOW_FIGURES,
  WINDOW_GROUPINGS,
  parseWindowSize,
  type WindowFigure,
  type WindowGrouping,
  type WindowOptions,
  type WindowRow,
  type WindowsResult,
} from "./analyze/score/golden-windows.ts";
export { renderWindows, windowFormatOf, type WindowFormat } from "./analyze/render/windows.ts";
export { compareWindows, judge, type CompareReport, type CompareResult, type CompareSeries, type Difference } from "./compare/compare.ts";
export { resolveMapping, parseTolerance, type MappingInput, type Tolerance, type WindowMapping } from "./compare/mapping.ts";
export { renderCompareHtml, renderCompareJson, renderCompareText } from "./compare/render.ts";
export { ANALYZE_DEFAULTS, type AnalyzeOptionsInput } from "./analyze/options.ts";
export { fileSource, streamSource, textSource, type EventSource, type LineLocator } from "./analyze/read/source.ts";
export { openKafkaSource, type KafkaSourceSettings } from "./analyze/read/kafka-source.ts";
export { follow, type FollowSettings, type FollowSummary } from "./follow/follow.ts";
export { resolveFollowOptions, FOLLOW_DEFAULTS, STUCK_CLOCKS, type FollowOptions, type FollowOptionsInput, type StuckClock } from "./follow/follow-options.ts";
export type { StuckAlert } from "./follow/stuck-detector.ts";
export { renderText as renderAnalysisText, renderJson as renderAnalysisJson } from "./analyze/render/text.ts";
export { renderHtml as renderAnalysisHtml } from "./analyze/render/html.ts";
export {
  IN_STREAM_TRUTH,
  type GroundTruth,
  type InjectedOutlier,
  type LabelTotals,
  type ObservedTransaction,
  type TransactionLabels,
  type TruthFileReading,
} from "./analyze/score/truth.ts";
export { TruthFile } from "./analyze/score/truth-file.ts";
export type { Summary } from "./analyze/measure/frequency.ts";
export type {
  AnalysisReport,
  AlertKindReport,
  AlertReport,
  GroundTruthReport,
  ConcurrencyReport,
  FlaggedTransaction,
  FollowReport,
  InvalidLine,
  KafkaInputReport,
  KafkaTopicReport,
  OutlierReport,
  OutlierRule,
  ViolationCount,
  ViolationExample,
  ViolationKind,
  TransactionCounts,
  WorkflowReport,
} from "./analyze/report.ts";
