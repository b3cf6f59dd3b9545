package dev.wfsim.detector;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** The detector's settings, from the command line: `--name value` pairs, each with a default. */
public record DetectorConfig(
    String bootstrap,
    String topicTxn,
    String topicSteps,
    String alertsTopic,
    long gapMs,
    long stuckMs,
    long graceMs,
    String applicationId,
    Path stateDir,
    long exitWhenIdleMs) {

  static final Map<String, String> DEFAULTS = new LinkedHashMap<>();
  static {
    DEFAULTS.put("bootstrap", "127.0.0.1:9092");
    DEFAULTS.put("topic-txn", "workflow.transactions");
    DEFAULTS.put("topic-steps", "workflow.steps");
    DEFAULTS.put("alerts-topic", "workflow.alerts");
    DEFAULTS.put("gap-ms", "4000");
    DEFAULTS.put("stuck-ms", "20000");
    DEFAULTS.put("grace-ms", "2000");
    DEFAULTS.put("application-id", "wfsim-detector");
    DEFAULTS.put("state-dir", Path.of(System.getProperty("java.io.tmpdir"), "wfsim-detector").toString());
    DEFAULTS.put("exit-when-idle-ms", "0");
  }

  static final String USAGE = """
      usage: java -jar target/wfsim-detector.jar [--name value ...]
        --bootstrap HOST:PORT       Kafka brokers (default 127.0.0.1:9092)
        --topic-txn T, --topic-steps T   wfsim's topics (default workflow.transactions, workflow.steps)
        --alerts-topic T            where alerts go (default workflow.alerts)
        --gap-ms MS                 alert on a gap between two steps longer than this (default 4000)
        --stuck-ms MS               alert on a transaction silent for longer than this (default 20000)
        --grace-ms MS               wait this much more stream time for late records (default 2000)
        --application-id ID         Kafka Streams application id: consumer group and internal topics (default wfsim-detector)
        --state-dir DIR             local state (default: the temporary folder's wfsim-detector)
        --exit-when-idle-ms MS      stop once no record came for this long after the first (default 0: run until stopped)
      """;

  /** Parses `--name value` pairs; throws IllegalArgumentException with a one-line message on a bad one. */
  public static DetectorConfig parse(String[] args) {
    Map<String, String> values = new LinkedHashMap<>(DEFAULTS);
    for (int i = 0; i < args.length; i += 2) {
      String name = args[i].startsWith("--") ? args[i].substring(2) : "";
      if (!DEFAULTS.containsKey(name)) throw new IllegalArgumentException("unknown option " + args[i]);
      if (i + 1 >= args.length) throw new IllegalArgumentException(args[i] + " needs a value");
      values.put(name, args[i + 1]);
    }
    return new DetectorConfig(
        values.get("bootstrap"),
        values.get("topic-txn"),
        values.get("topic-steps"),
        values.get("alerts-topic"),
        millis(values, "gap-ms"),
        millis(values, "stuck-ms"),
        millis(values, "grace-ms"),
        values.get("application-id"),
        Path.of(values.get("state-dir")),
        millis(values, "exit-when-idle-ms"));
  }

  private static long millis(Map<String, String> values, String name) {
    String raw = values.get(name);
    try {
      long value = Long.parseLong(raw);
      if (value >= 0) return value;
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException("--" + name + " must be a whole number of milliseconds, got " + raw);
  }
}
