package dev.wfsim.detector;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The detector's rules in event time, with records fed in the orders Kafka may hand them over: the
 * two topics of one millisecond in either order.
 */
class DetectorTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private TopologyTestDriver driver;
  private TestInputTopic<String, String> transactions;
  private TestInputTopic<String, String> steps;
  private TestOutputTopic<String, String> alerts;

  @BeforeEach
  void start() throws Exception {
    DetectorConfig config = DetectorConfig.parse(new String[] {"--gap-ms", "5000", "--stuck-ms", "60000", "--grace-ms", "1000"});
    Properties props = Main.properties(config);
    props.put(StreamsConfig.STATE_DIR_CONFIG, Files.createTempDirectory("wfsim-detector-test").toString());
    driver = new TopologyTestDriver(DetectorTopology.build(config, new DefaultEvents(), new AtomicLong()), props);
    var strings = new StringSerializer();
    transactions = driver.createInputTopic(config.topicTxn(), strings, strings);
    steps = driver.createInputTopic(config.topicSteps(), strings, strings);
    alerts = driver.createOutputTopic(config.alertsTopic(), new StringDeserializer(), new StringDeserializer());
  }

  @AfterEach
  void stop() {
    driver.close();
  }

  private void txn(String type, String id, long ts) {
    transactions.pipeInput(id, "{\"type\":\"" + type + "\",\"txn_id\":\"" + id + "\",\"ts_ms\":" + ts + "}", ts);
  }

  private void step(String type, String id, int step, long ts) {
    steps.pipeInput(id, "{\"type\":\"" + type + "\",\"txn_id\":\"" + id + "\",\"step\":" + step + ",\"ts_ms\":" + ts + "}", ts);
  }

  /** A transaction of `n` instant steps, `gap` ms apart, ended by a close: its close read before its last step_done. */
  private void closedCloseFirst(String id, long start, int n, long gap) {
    txn("transaction_open", id, start);
    long at = start;
    for (int k = 1; k <= n; k++) {
      at += gap;
      step("step_open", id, k, at);
      if (k == n) txn("transaction_close", id, at);
      step("step_done", id, k, at);
    }
  }

  /** Moves stream time: a record of another transaction at `ts`. */
  private void tick(long ts) {
    txn("transaction_open", "clock-" + ts, ts);
    txn("transaction_close", "clock-" + ts, ts);
  }

  private List<String> alerted() throws Exception {
    var found = new java.util.ArrayList<String>();
    for (var record : alerts.readRecordsToList()) {
      JsonNode alert = JSON.readTree(record.value());
      found.add(alert.get("kind").asText() + " " + alert.get("txn_id").asText() + " " + alert.get("ts_ms").asLong());
    }
    return found;
  }

  @Test
  void aStepReadAfterItsTransactionsEndChangesNothing() throws Exception {
    closedCloseFirst("a", 0, 3, 1000);
    tick(200_000);
    assertEquals(List.of(), alerted());
  }

  @Test
  void stepsReadBeforeTheirOpenAtTheSameMillisecondAreOneLife() throws Exception {
    step("step_open", "b", 1, 100);
    step("step_done", "b", 1, 100);
    txn("transaction_open", "b", 100);
    txn("transaction_close", "b", 100);
    tick(200_000);
    assertEquals(List.of(), alerted());
  }

  @Test
  void aSlowGapIsAlertedOnceItsGraceHasPassedAndOnlyOnce() throws Exception {
    txn("transaction_open", "c", 0);
    step("step_open", "c", 1, 10);
    step("step_done", "c", 1, 10);
    tick(6_000); // 5,990 ms into the gap: within gap + grace
    assertEquals(List.of(), alerted());
    tick(6_010); // gap + grace reached: found at the next whole second of stream time
    tick(7_000);
    step("step_open", "c", 2, 20_000);
    step("step_done", "c", 2, 20_000);
    txn("transaction_close", "c", 20_000);
    tick(30_000);
    assertEquals(List.of("outlier c 7000"), alerted());
  }

  @Test
  void aFastGapIsNoAlert() throws Exception {
    txn("transaction_open", "d", 0);
    step("step_open", "d", 1, 10);
    step("step_done", "d", 1, 10);
    step("step_open", "d", 2, 4_000);
    step("step_done", "d", 2, 4_000);
    txn("transaction_close", "d", 4_000);
    tick(100_000);
    assertEquals(List.of(), alerted());
  }

  @Test
  void aSilentTransactionIsStuckOnceStuckMsAndGraceHavePassed() throws Exception {
    txn("transaction_open", "e", 0);
    step("step_open", "e", 1, 500);
    tick(61_000);
    assertEquals(List.of(), alerted());
    tick(61_500);
    tick(62_000);
    tick(200_000);
    assertEquals(List.of("stuck e 62000"), alerted());
  }

  @Test
  void recordsThatAreNotEventsAreSkipped() throws Exception {
    steps.pipeInput("x", "not json", 5);
    steps.pipeInput("x", "{\"type\":\"step_open\"}", 5);
    tick(100_000);
    assertEquals(List.of(), alerted());
  }
}
