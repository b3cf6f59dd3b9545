package dev.wfsim.detector;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * What the detector keeps of one transaction while it is open (and for a grace period after its end,
 * so that records sharing its end's millisecond, read after the end from the other topic, find it
 * ended instead of opening it again). Kept in a state store whose changelog makes it survive restarts.
 */
public final class TxnState {
  /** Latest event time seen of the transaction. */
  public long lastTs = -1;
  /** The latest step done, and when: a gap runs from then until the next step opens (-1: none running). */
  public int doneStep = 0;
  public long waitingSince = -1;
  /** When its transaction_close, _aborted or _failed was read; -1 while open. */
  public long endedAt = -1;
  public boolean alertedOutlier = false;
  public boolean alertedStuck = false;

  private static final ObjectMapper JSON = new ObjectMapper();

  /** JSON in the store and its changelog: readable with any Kafka tool. */
  public static Serde<TxnState> serde() {
    return Serdes.serdeFrom(
        (topic, state) -> {
          try {
            return state == null ? null : JSON.writeValueAsBytes(state);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        },
        (topic, bytes) -> {
          try {
            return bytes == null ? null : JSON.readValue(bytes, TxnState.class);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        });
  }
}
