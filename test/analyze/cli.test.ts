/** `wfsim analyze` end to end: the built CLI, real pipes, real files, exit codes and messages. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { compact, run, transaction, WFSIM } from "./helpers.ts";

const node = process.execPath;
let dir = "";

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "wfsim-analyze-cli-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** `wfsim run ARGS | wfsim analyze ANALYZE_ARGS` through a real pipe between two processes. */
function pipeline(runArgs: readonly string[], analyzeArgs: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const producer = spawn(node, [WFSIM, "run", ...runArgs], { stdio: ["ignore", "pipe", "pipe"] });
    const consumer = spawn(node, [WFSIM, "analyze", ...analyzeArgs], { stdio: [producer.stdout, "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    consumer.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    consumer.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    producer.on("error", reject);
    consumer.on("error", reject);
    consumer.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("wfsim analyze (CLI)", () => {
  it("analyses wfsim run's output through a pipe, as JSON with the documented keys", async () => {
    const result = await pipeline(["--clock", "virtual", "--samples", "2000", "--start-time", "0", "--quiet"], ["--format", "json"]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, "");
    const report = JSON.parse(result.stdout) as Record<string, any>;
    assert.deepEqual(Object.keys(report), [
      "report_version",
      "sources",
      "percentile_definition",
      "events",
      "events_by_type",
      "invalid_lines",
      "invalid_examples",
      "unknown_type_events",
      "events_with_extra_fields",
      "time_span",
      "transactions",
      "duration_ms",
      "first_event_to_close_ms",
      "gap_ms",
      "pre_delay_ms",
      "retry_backoff_ms",
      "concurrency",
      "workflows",
      "step_baselines",
      "over_time",
      "outliers",
      "ground_truth",
      "violations",
      "warnings",
    ]);
    assert.deepEqual(report.sources, ["stdin"]);
    assert.equal(report.events, 32_000);
    assert.deepEqual(report.transactions, { total: 2000, completed: 2000, aborted: 0, failed: 0, open: 0, stuck: 0 });
    for (const key of ["duration_ms", "gap_ms", "pre_delay_ms"]) {
      assert.deepEqual(Object.keys(report[key]), ["count", "min", "mean", "p50", "p90", "p95", "p99", "max"]);
    }
    for (const key of ["injected", "flagged", "true_positives", "precision", "recall", "transactions"]) assert.ok(key in report.outliers, key);
    assert.equal(report.concurrency.peak, 20);
  });

  it("reads stdin with no file or with -, and several files in order", async () => {
    const first = compact(transaction("a", 0, [5, 5], [5]));
    const second = compact(transaction("b", 100, [5], []));
    const one = join(dir, "one.jsonl");
    const two = join(dir, "two.jsonl");
    await writeFile(one, first);
    await writeFile(two, second);
    const none = await run(node, [WFSIM, "analyze", "--format", "json"], first);
    const dash = await run(node, [WFSIM, "analyze", "-", "--format", "json"], first);
    assert.equal(none.code, 0, none.stderr);
    assert.equal(JSON.parse(none.stdout).events, 7);
    assert.equal(dash.stdout, none.stdout);
    const both = await run(node, [WFSIM, "analyze", one, "-", "--format", "json"], second);
    assert.equal(both.code, 0, both.stderr);
    const report = JSON.parse(both.stdout);
    assert.deepEqual(report.sources, [one, "stdin"]);
    assert.equal(report.transactions.completed, 2);
  });

  it("writes the text report by default, data only on stdout", async () => {
    const result = await run(node, [WFSIM, "analyze"], compact(transaction("a", 0, [5, 5], [5])));
    assert.equal(result.code, 0);
    assert.match(result.stdout, /^wfsim analyze: stdin\n/);
    assert.match(result.stdout, /Transactions: 1 \(1 completed, 0 aborted, 0 failed, 0 still open\)/);
    assert.equal(result.stderr, "");
  });

  it("reports a missing file in one line with exit code 2, before reading anything", async () => {
    const good = join(dir, "good.jsonl");
    await writeFile(good, compact(transaction("a", 0, [5], [])));
    const missing = join(dir, "missing.jsonl");
    const result = await run(node, [WFSIM, "analyze", good, missing]);
    assert.equal(result.code, 2);
    assert.equal(result.stdout, "");
    assert.equal(result.stderr, `wfsim: input ${missing}: cannot read (no such file or directory)\n`);
    const directory = await run(node, [WFSIM, "analyze", dir]);
    assert.equal(directory.code, 2);
    assert.equal(directory.stderr, `wfsim: input ${dir}: cannot read (it is a directory)\n`);
  });

  for (const [args, message] of [
    [["--mad-k", "-1"], "--mad-k must be a number greater than 0 and at most 1000000, got -1"],
    [["--mad-k", "x"], "--mad-k must be a number greater than 0 and at most 1000000, got x"],
    [["--threshold-ms", "soon"], "--threshold-ms must be a number from 0 to 9007199254740991, got soon"],
    [["--format", "xml"], "--format must be one of text, json, got xml"],
    [["--outlier-measure", "steps"], "--outlier-measure must be one of gap, duration, got steps"],
    [["--list", "1.5"], "--list must be a whole number from 0 to 100000, got 1.5"],
    [["--threshold-ms", "5000", "--mad-k", "2"], "--mad-k applies to the median rule, which --threshold-ms replaces: give one of them"],
    [["--alerts", "-"], "stdin (-) can be read only once, got it for the events and --alerts"],
    [["-", "--truth", "-"], "stdin (-) can be read only once, got it for the events and --truth"],
    [["--truth", "/nonexistent/truth.jsonl"], "--truth /nonexistent/truth.jsonl: cannot read (no such file or directory)"],
    [["--alerts", "/nonexistent/alerts.jsonl"], "--alerts /nonexistent/alerts.jsonl: cannot read (no such file or directory)"],
    [["--html", "/nonexistent/dir/report.html"], "--html /nonexistent/dir/report.html: cannot open for writing (no such file or directory)"],
    [["--bogus"], "unknown option '--bogus'"],
    [["--follow"], "--follow follows Kafka topics (--kafka-bootstrap) or one growing FILE, got stdin"],
    [["--group", "g"], "--group applies to --follow"],
    [["--stuck-ms", "1000"], "--stuck-ms applies to --follow"],
    [["--report", "r.txt"], "--report applies to --follow"],
    [["--topic-txn", "t"], "--topic-txn applies to reading Kafka: add --kafka-bootstrap HOST:PORT"],
    [["--kafka-ssl"], "--kafka-ssl applies to reading Kafka: add --kafka-bootstrap HOST:PORT"],
    [["--kafka-bootstrap", "localhost"], "--kafka-bootstrap must be a comma-separated list of host:port (for example localhost:9092), got localhost (\"localhost\" is not host:port)"],
    [["--kafka-bootstrap", "h:1", "--follow", "--stuck-ms", "0"], "--stuck-ms must be a whole number from 1 to 2592000000, got 0"],
    [["--kafka-bootstrap", "h:1", "--follow", "--stuck-ms", "soon"], "--stuck-ms must be a whole number from 1 to 2592000000, got soon"],
    [["--kafka-bootstrap", "h:1", "--follow", "--stuck-clock", "cpu"], "--stuck-clock must be one of event, wall, got cpu"],
    [["--kafka-bootstrap", "h:1", "--follow", "--group", "a b"], "--group must be a Kafka consumer group name: 1 to 255 printable ASCII characters, no spaces, got a b"],
    [["--kafka-bootstrap", "h:1", "--follow", "--summary-ms", "-1"], "--summary-ms must be a whole number from 0 to 86400000, got -1"],
    [["--kafka-bootstrap", "h:1", "--kafka-timeout", "0"], "--kafka-timeout must be a whole number from 1 to 86400000, got 0"],
    [["--kafka-bootstrap", "h:1", "--topic-txn", "t", "--topic-steps", "t"], "--topic-txn and --topic-steps must differ, got t for both"],
    [["--kafka-bootstrap", "h:1", "--kafka-user", "u"], "--kafka-user applies to SASL logins: add --kafka-sasl-mechanism"],
    [["--kafka-bootstrap", "h:1", "--partitions", "3"], "unknown option '--partitions'"],
    [["events.jsonl", "--kafka-bootstrap", "h:1"], "FILE arguments and --kafka-bootstrap exclude each other: events come from files or stdin, or from Kafka (got events.jsonl; with files, it serves --alerts kafka:TOPIC only)"],
  ] as const) {
    it(`rejects ${args.join(" ")} in one line with exit code 2`, async () => {
      const result = await run(node, [WFSIM, "analyze", ...args], "");
      assert.equal(result.code, 2);
      assert.equal(result.stdout, "");
      assert.equal(result.stderr, `wfsim: ${message}\n`);
    });
  }

  it("refuses to write --html over a file it reads, before reading anything", async () => {
    const events = join(dir, "precious.jsonl");
    const alerts = join(dir, "precious-alerts.jsonl");
    const content = compact(transaction("a", 0, [5, 5], [5]));
    await writeFile(events, content);
    await writeFile(alerts, '{"txn_id":"a"}\n');
    const over = await run(node, [WFSIM, "analyze", events, "--html", events]);
    assert.equal(over.code, 2);
    assert.equal(over.stderr, `wfsim: --html ${events} is an input file (${events}): refusing to overwrite it\n`);
    const overAlerts = await run(node, [WFSIM, "analyze", events, "--alerts", alerts, "--html", alerts]);
    assert.equal(overAlerts.code, 2);
    assert.equal(overAlerts.stderr, `wfsim: --html ${alerts} is the --alerts file (${alerts}): refusing to overwrite it\n`);
    // Another name for the same file is the same file.
    const viaDot = join(dir, ".", "precious.jsonl").replace(dir, `${dir}/.`);
    const renamed = await run(node, [WFSIM, "analyze", viaDot, "--html", events]);
    assert.equal(renamed.code, 2);
    assert.equal(await readFile(events, "utf8"), content);
    assert.equal(await readFile(alerts, "utf8"), '{"txn_id":"a"}\n');
  });

  it("stops on SIGINT while stdin is still open, prints the report of what it read, exits 130", async () => {
    const child = spawn(node, [WFSIM, "analyze", "--format", "json"], { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const closed = new Promise<number | null>((resolve) => child.on("close", resolve));
    child.stdin.write(compact(transaction("a", 0, [5, 5], [5])));
    // stdin stays open: the analysis waits for more until the signal. Give the process time to start.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    child.kill("SIGINT");
    assert.equal(await closed, 130);
    const report = JSON.parse(stdout);
    assert.ok(report.events === 7 || report.events === 0, `${report.events} events`);
    assert.match(stderr, /stopped by SIGINT; the report covers what was read until then/);
    child.stdin.destroy();
  });

  it("scores an alerts file and writes an HTML report beside the text", async () => {
    const events = join(dir, "events.jsonl");
    const alerts = join(dir, "alerts.jsonl");
    const html = join(dir, "report.html");
    await writeFile(events, compact(transaction("a", 0, [5, 5], [5000], [true])));
    await writeFile(alerts, '{"txn_id":"a","ts_ms":1005}\n');
    const result = await run(node, [WFSIM, "analyze", events, "--alerts", alerts, "--html", html, "--format", "json"]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, `wfsim: HTML report written to ${html}\n`);
    const report = JSON.parse(result.stdout);
    assert.equal(report.alerts.true_positives, 1);
    assert.equal(report.alerts.detection_delay_ms.p50, 1000);
    const page = await readFile(html, "utf8");
    assert.match(page, /^<!doctype html>/);
    assert.doesNotMatch(page, /<script[^>]+src=/, "no external scripts: the page works offline");
  });
});
