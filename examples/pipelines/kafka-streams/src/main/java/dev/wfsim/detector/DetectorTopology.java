package dev.wfsim.detector;

import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.Stores;

/**
 * Both input topics into one processor (so that partition p of each lands in the same task), its
 * state store, and the alerts topic. For another event layout (a shaped output), build the same
 * topology with another Event.Reader and its topics.
 */
public final class DetectorTopology {
  private DetectorTopology() {}

  public static Topology build(DetectorConfig config, Event.Reader reader, AtomicLong lastActivity) {
    var strings = Serdes.String();
    Topology topology = new Topology();
    topology.addSource("transactions", strings.deserializer(), strings.deserializer(), config.topicTxn());
    topology.addSource("steps", strings.deserializer(), strings.deserializer(), config.topicSteps());
    topology.addProcessor("detector", () -> new Detector(config, reader, lastActivity), "transactions", "steps");
    topology.addStateStore(
        Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(Detector.STORE), strings, TxnState.serde())
            // Its changelog carries event time too: a run on the virtual clock is stamped hours ahead,
            // which Kafka refuses by default (message.timestamp.after.max.ms: one hour).
            .withLoggingEnabled(Map.of("message.timestamp.after.max.ms", String.valueOf(Long.MAX_VALUE))),
        "detector");
    topology.addSink("alerts", config.alertsTopic(), strings.serializer(), strings.serializer(), "detector");
    return topology;
  }
}
