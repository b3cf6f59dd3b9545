package dev.wfsim.detector;

/**
 * What the detector needs of one wfsim event: which transaction, what happened, at which step and
 * attempt, and when (the record's timestamp, which wfsim sets to the event's ts_ms).
 */
public record Event(Kind kind, String txnId, int step, int attempt, long ts) {

  /** The events the detector tells apart; the others (step_failed, step_retry, ...) only show life. */
  public enum Kind { OPEN, STEP_OPEN, STEP_DONE, END, OTHER }

  /**
   * Turns a record of the input topics into an Event, or null for a record that is not one. The
   * default events have one reader (DefaultEvents); a shaped output would have its own, for its field
   * names and topics, and the detector would stay as it is.
   */
  @FunctionalInterface
  public interface Reader {
    Event read(String topic, String value, long timestamp);
  }
}
