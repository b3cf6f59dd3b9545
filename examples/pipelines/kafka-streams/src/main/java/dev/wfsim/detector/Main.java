package dev.wfsim.detector;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;

/**
 * Runs the detector until stopped (SIGINT, SIGTERM), or, with --exit-when-idle-ms, until its input
 * has been quiet that long: a bounded run for tests and backfills. Exit codes: 0 done, 1 failed,
 * 2 a bad option or missing topics (one line on stderr).
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) throws Exception {
    DetectorConfig config;
    try {
      if (List.of(args).contains("--help")) {
        System.out.print(DetectorConfig.USAGE);
        return;
      }
      config = DetectorConfig.parse(args);
      checkTopics(config);
    } catch (IllegalArgumentException e) {
      System.err.println("wfsim-detector: " + e.getMessage());
      System.exit(2);
      return;
    }
    System.exit(run(config));
  }

  /** Both input topics and the alerts topic must exist, and the input topics have as many partitions. */
  static void checkTopics(DetectorConfig config) throws Exception {
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrap(), AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000))) {
      List<String> names = List.of(config.topicTxn(), config.topicSteps(), config.alertsTopic());
      var existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
      List<String> missing = names.stream().filter(name -> !existing.contains(name)).toList();
      if (!missing.isEmpty()) {
        throw new IllegalArgumentException("no topic " + String.join(", ", missing) + " at " + config.bootstrap()
            + ": create them first (wfsim topics create --alerts-topic " + config.alertsTopic() + ")");
      }
      Map<String, TopicDescription> topics = admin.describeTopics(names.subList(0, 2)).allTopicNames().get(30, TimeUnit.SECONDS);
      int txn = topics.get(config.topicTxn()).partitions().size();
      int steps = topics.get(config.topicSteps()).partitions().size();
      if (txn != steps) {
        throw new IllegalArgumentException(config.topicTxn() + " has " + txn + " partitions and " + config.topicSteps() + " " + steps
            + ": a transaction's events must be on the same partition number of both");
      }
    }
  }

  static Properties properties(DetectorConfig config) {
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, config.applicationId());
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrap());
    props.put(StreamsConfig.STATE_DIR_CONFIG, config.stateDir().toString());
    // Alerts leave within a second; a duplicate after a crash is harmless (the earliest alert counts).
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.AT_LEAST_ONCE);
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 1000);
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
    return props;
  }

  static int run(DetectorConfig config) throws InterruptedException {
    AtomicLong lastActivity = new AtomicLong(0);
    KafkaStreams streams = new KafkaStreams(DetectorTopology.build(config, new DefaultEvents(), lastActivity), properties(config));
    CountDownLatch stopped = new CountDownLatch(1);
    int[] exitCode = {0};
    streams.setUncaughtExceptionHandler(error -> {
      System.err.println("wfsim-detector: failed: " + error);
      exitCode[0] = 1;
      stopped.countDown();
      return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    });
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      stopped.countDown();
      streams.close(Duration.ofSeconds(30));
    }));
    streams.start();
    System.err.println("wfsim-detector: reading " + config.topicTxn() + " and " + config.topicSteps() + " at " + config.bootstrap()
        + ", alerts to " + config.alertsTopic() + " (gap > " + config.gapMs() + " ms, silent > " + config.stuckMs() + " ms, grace " + config.graceMs() + " ms)");
    while (!stopped.await(200, TimeUnit.MILLISECONDS)) {
      long last = lastActivity.get();
      if (config.exitWhenIdleMs() > 0 && last != 0 && System.nanoTime() - last > TimeUnit.MILLISECONDS.toNanos(config.exitWhenIdleMs())) {
        System.err.println("wfsim-detector: no record for " + config.exitWhenIdleMs() + " ms: stopping");
        break;
      }
    }
    streams.close(Duration.ofSeconds(30));
    return exitCode[0];
  }
}
