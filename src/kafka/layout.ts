/**
 * How wfsim lays events out in Kafka, which its output writes and its input reads: transaction
 * lifecycle events (transaction_*) on the transactions topic, step events on the steps topic, both
 * keyed by txn_id (so a transaction's events sit on the same partition number of both topics when
 * they have the same partition count), record timestamp = ts_ms, and this header naming the type.
 */

/** The record header that names the event type (its value: the event's `type`, e.g. step_open). */
export const EVENT_TYPE_HEADER = "event_type";
