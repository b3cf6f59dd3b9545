package dev.wfsim.detector;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * wfsim's default events (docs/events.md): {"type":"step_done","txn_id":"txn_…","step":2,"ts_ms":…}.
 * Only fields a fair detector may use are read: no planned_wait_ms, pre_delay_ms, work_ms or
 * backoff_ms, which a blind stream (wfsim run --truth) leaves out anyway.
 */
public final class DefaultEvents implements Event.Reader {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Override
  public Event read(String topic, String value, long timestamp) {
    if (value == null) return null;
    JsonNode node;
    try {
      node = JSON.readTree(value);
    } catch (JsonProcessingException e) {
      return null; // not JSON: not an event of ours
    }
    String txnId = node.path("txn_id").asText("");
    if (txnId.isEmpty()) return null;
    Event.Kind kind = switch (node.path("type").asText("")) {
      case "transaction_open" -> Event.Kind.OPEN;
      case "step_open" -> Event.Kind.STEP_OPEN;
      case "step_done" -> Event.Kind.STEP_DONE;
      case "transaction_close", "transaction_aborted", "transaction_failed" -> Event.Kind.END;
      default -> Event.Kind.OTHER;
    };
    return new Event(kind, txnId, node.path("step").asInt(0), node.path("attempt").asInt(1), timestamp);
  }
}
