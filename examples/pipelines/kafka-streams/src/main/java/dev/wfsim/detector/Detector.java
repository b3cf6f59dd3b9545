package dev.wfsim.detector;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The detector, in event time: one instance per task, which holds partition p of both input topics
 * (wfsim keys every event by txn_id, so all of a transaction's events are there).
 *
 * <p>Merging the two topics: Kafka orders each partition, and Kafka Streams hands a task's records
 * over roughly by timestamp, but records with the same timestamp on the two topics come in either
 * order. wfsim writes a transaction's events of one millisecond in the order open, steps, end
 * (docs/events.md), so a step record read after its transaction's end shares the end's millisecond and
 * happened before it: it changes nothing. The state of an ended transaction is kept for the grace
 * period, so that such a record finds it ended instead of opening it again.
 *
 * <p>Alerts come from a punctuator on stream time (the newest record time the task has read), every
 * second of it: a gap is slow once stream time passes its start plus gap-ms plus grace-ms with no next
 * step; a transaction is stuck once nothing of it was seen for stuck-ms plus grace-ms. The grace covers
 * records of the other topic that are read a little later than their time. Each transaction gets at
 * most one alert of each kind; the alert's ts_ms is the stream time it was found at.
 */
final class Detector implements Processor<String, String, String, String> {
  static final String STORE = "open-transactions";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration PUNCTUATE_EVERY = Duration.ofSeconds(1);

  private final DetectorConfig config;
  private final Event.Reader reader;
  private final AtomicLong lastActivity;
  private ProcessorContext<String, String> context;
  private KeyValueStore<String, TxnState> store;

  Detector(DetectorConfig config, Event.Reader reader, AtomicLong lastActivity) {
    this.config = config;
    this.reader = reader;
    this.lastActivity = lastActivity;
  }

  @Override
  public void init(ProcessorContext<String, String> context) {
    this.context = context;
    this.store = context.getStateStore(STORE);
    context.schedule(PUNCTUATE_EVERY, PunctuationType.STREAM_TIME, this::check);
  }

  @Override
  public void process(Record<String, String> record) {
    lastActivity.set(System.nanoTime());
    String topic = context.recordMetadata().map(m -> m.topic()).orElse("");
    Event event = reader.read(topic, record.value(), record.timestamp());
    if (event == null) return;
    TxnState state = store.get(event.txnId());
    if (state == null) state = new TxnState();
    // Read after the end, from the other topic: it shares the end's millisecond and changes nothing.
    if (state.endedAt >= 0) return;
    state.lastTs = Math.max(state.lastTs, event.ts());
    switch (event.kind()) {
      case STEP_OPEN -> {
        if (event.attempt() == 1 && event.step() > state.doneStep) state.waitingSince = -1;
      }
      case STEP_DONE -> {
        if (event.step() >= state.doneStep) {
          state.doneStep = event.step();
          state.waitingSince = event.ts();
        }
      }
      case END -> {
        state.endedAt = event.ts();
        state.waitingSince = -1;
      }
      default -> { }
    }
    store.put(event.txnId(), state);
  }

  /** Every second of stream time: alerts on slow gaps and silent transactions; forgets ended ones. */
  private void check(long streamTime) {
    List<KeyValue<String, TxnState>> changed = new ArrayList<>();
    List<String> forgotten = new ArrayList<>();
    try (KeyValueIterator<String, TxnState> all = store.all()) {
      while (all.hasNext()) {
        KeyValue<String, TxnState> entry = all.next();
        TxnState state = entry.value;
        if (state.endedAt >= 0) {
          if (streamTime > state.endedAt + config.graceMs()) forgotten.add(entry.key);
          continue;
        }
        boolean alerted = false;
        if (!state.alertedOutlier && state.waitingSince >= 0 && streamTime >= state.waitingSince + config.gapMs() + config.graceMs()) {
          alert("outlier", entry.key, streamTime, state.waitingSince, state.doneStep);
          state.alertedOutlier = alerted = true;
        }
        if (!state.alertedStuck && streamTime >= state.lastTs + config.stuckMs() + config.graceMs()) {
          alert("stuck", entry.key, streamTime, state.lastTs, state.doneStep);
          state.alertedStuck = alerted = true;
        }
        if (alerted) changed.add(KeyValue.pair(entry.key, state));
      }
    }
    store.putAll(changed);
    forgotten.forEach(store::delete);
  }

  /** One alert as `wfsim analyze --alerts` reads it: txn_id, ts_ms and kind, and what it is based on. */
  private void alert(String kind, String txnId, long at, long since, int step) {
    ObjectNode alert = JSON.createObjectNode()
        .put("type", "wfsim_detector_alert")
        .put("kind", kind)
        .put("txn_id", txnId)
        .put("ts_ms", at)
        .put("since_ms", since)
        .put("steps_done", step);
    context.forward(new Record<>(txnId, alert.toString(), at));
  }
}
