import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLI, runCli } from "../helpers/cli.ts";

/** Each row: the arguments, then what the single stderr line must say. */
const BAD_INPUT: [string[], RegExp][] = [
  [["--status-every", "-1"], /^wfsim: --status-every must be a number from 0 to 86400, got -1$/],
  [["--samples", "-5"], /^wfsim: --samples must be a whole number of at least 1, or unlimited, got -5$/],
  [["--samples", "1.5"], /^wfsim: --samples must be a whole number of at least 1, or unlimited, got 1\.5$/],
  [["--samples", "0"], /--samples must be a whole number of at least 1, or unlimited, got 0/],
  [["--samples", "lots"], /--samples must be a whole number of at least 1, or unlimited, got lots/],
  [["--samples", ""], /--samples must be a whole number of at least 1, or unlimited, got an empty value/],
  [["--steps", "0"], /--steps must be a whole number from 1 to 100000, got 0/],
  [["--steps", "2.5"], /--steps must be a whole number/],
  [["--concurrency", "0"], /--concurrency must be a whole number from 1 to 10000000, got 0/],
  [["--concurrency", "-1"], /--concurrency must be a whole number/],
  [["--pre-min", "-1"], /--pre-min must be a whole number from 0 to 4294967295, got -1/],
  [["--pre-min", "3000"], /--pre-min must not exceed --pre-max, got 3000 > 2000/],
  [["--inter-min", "900", "--inter-max", "800"], /--inter-min must not exceed --inter-max, got 900 > 800/],
  [["--inter-max", "1e3"], /--inter-max must be a whole number/],
  [["--outlier-ms", "-15000"], /--outlier-ms must be a whole number from 0/],
  [["--outlier-prob", "1.5"], /^wfsim: --outlier-prob must be a number from 0 to 1, got 1\.5$/],
  [["--outlier-prob", "-0.1"], /--outlier-prob must be a number from 0 to 1, got -0\.1/],
  [["--outlier-prob", "often"], /--outlier-prob must be a number from 0 to 1, got often/],
  [["--seed", "abc"], /--seed must be a whole number from -9007199254740991 to 9007199254740991, or random, got abc/],
  [["--seed", "4.2"], /--seed must be a whole number/],
  [["--clock", "fast"], /--clock must be one of real, virtual, got fast/],
  [["--start-time", "yesterday"], /--start-time must be an ISO-8601 date or date-time .* or milliseconds since the Unix epoch, or now, got yesterday/],
  [["--start-time", "2026-13-45T00:00:00Z"], /--start-time must be an ISO-8601/],
  [["--start-time", "2024-02-30T00:00:00Z"], /--start-time must be an ISO-8601 .*, got 2024-02-30T00:00:00Z$/],
  [["--start-time", "2024-01-01T24:30:00Z"], /--start-time must be an ISO-8601/],
  [["--start-time", "2024-01-01T10:00:00+25:00"], /--start-time must be an ISO-8601/],
  [["--speed", "0"], /--speed must be a number greater than 0 and at most 1000000, got 0/],
  [["--speed", "-2"], /--speed must be a number greater than 0/],
  [["--speed", "fast"], /--speed must be a number greater than 0/],
  [["--speed", "10", "--clock", "virtual"], /--speed applies to the real clock only/],
  [["--timezone", "Mars/Olympus"], /--timezone must be an IANA time zone name .*, got Mars\/Olympus/],
  [["--kafka-bootstrap", ""], /--kafka-bootstrap must be a comma-separated list of host:port .*, got an empty value/],
  [["--kafka-bootstrap", "localhost"], /--kafka-bootstrap must be a comma-separated list of host:port .*"localhost" is not host:port/],
  [["--kafka-bootstrap", "a:1,,b:2"], /--kafka-bootstrap .*an empty entry/],
  [["--kafka-bootstrap", "a:99999"], /--kafka-bootstrap must be/],
  [["--topic-steps", "bad topic", "--kafka-bootstrap", "localhost:9092"], /--topic-steps must be a Kafka topic name/],
  [["--topic-steps", "same", "--topic-txn", "same", "--kafka-bootstrap", "a:1"], /^wfsim: --topic-txn and --topic-steps must differ, got same for both$/],
  [["--topic-txn", "__transaction_state", "--kafka-bootstrap", "a:1"], /^wfsim: --topic-txn: __transaction_state is a name Kafka keeps for its internal topics \(names starting with __\); choose another$/],
  [["--acks", "all"], /^wfsim: --acks applies to the Kafka output: add --kafka-bootstrap HOST:PORT$/],
  [["--undelivered", "lost.txt"], /^wfsim: --undelivered applies to the Kafka output: add --kafka-bootstrap HOST:PORT$/],
  [["--kafka-bootstrap", "a:1", "--output", "events.jsonl"], /^wfsim: --output and --kafka-bootstrap exclude each other/],
  [["--kafka-bootstrap", "a:1", "--acks", "2"], /^wfsim: --acks must be one of all, 1, 0 .*, got 2$/],
  [["--kafka-bootstrap", "a:1", "--compression", "brotli"], /^wfsim: --compression must be one of none, gzip, snappy, lz4, zstd, got brotli$/],
  [["--kafka-bootstrap", "a:1", "--partitions", "0"], /^wfsim: --partitions must be a whole number from 1 to 1000000, got 0$/],
  [["--kafka-bootstrap", "a:1", "--replication-factor", "three"], /^wfsim: --replication-factor must be a whole number from 1 to 32767, got three$/],
  [["--kafka-bootstrap", "a:1", "--kafka-timeout", "-5"], /^wfsim: --kafka-timeout must be a whole number from 1 to 86400000, got -5$/],
  [["--kafka-bootstrap", "a:1", "--kafka-ca", "ca.pem"], /^wfsim: --kafka-ca applies to TLS connections: add --kafka-ssl$/],
  [["--kafka-bootstrap", "a:1", "--kafka-ssl", "--kafka-ca", "/nonexistent/ca.pem"], /^wfsim: --kafka-ca \/nonexistent\/ca\.pem: cannot read \(no such file or directory\)$/],
  [["--kafka-bootstrap", "a:1", "--kafka-ssl", "--kafka-key", "client.key"], /^wfsim: --kafka-key needs --kafka-cert: a client certificate goes with its key$/],
  [["--kafka-bootstrap", "a:1", "--kafka-sasl-mechanism", "gssapi", "--kafka-user", "u"], /^wfsim: --kafka-sasl-mechanism must be one of plain, scram-sha-256, scram-sha-512, got gssapi$/],
  [["--kafka-bootstrap", "a:1", "--kafka-sasl-mechanism", "plain"], /^wfsim: --kafka-sasl-mechanism plain needs a user name: add --kafka-user$/],
  [["--kafka-bootstrap", "a:1", "--kafka-sasl-mechanism", "scram-sha-256", "--kafka-user", "u"], /^wfsim: --kafka-sasl-mechanism scram-sha-256 needs a password: set WFSIM_KAFKA_PASSWORD or add --kafka-password-file FILE$/],
  [["--kafka-bootstrap", "a:1", "--kafka-user", "u"], /^wfsim: --kafka-user applies to SASL logins: add --kafka-sasl-mechanism$/],
  [["--kafka-bootstrap", "a:1", "--kafka-sasl-mechanism", "plain", "--kafka-user", "u", "--kafka-password-file", "/nonexistent/pw"], /^wfsim: --kafka-password-file \/nonexistent\/pw: cannot read \(no such file or directory\)$/],
  [["--kafka-bootstrap", "a:1", "--kafka-password", "hunter2"], /^wfsim: unknown option '--kafka-password'( \(did you mean --kafka-password-file\?\))?$/],
  [["--instance", "3/3"], /^wfsim: --instance must be I\/N, this process's number I from 0 to N-1 among N processes sharing the workload \(for example 0\/4\), got 3\/3$/],
  [["--instance", "two"], /^wfsim: --instance must be I\/N/],
  [["--instance", "0/2", "--seed", "random"], /^wfsim: --seed random cannot be combined with --instance: every instance must be given the same seed$/],
  [["--output", ""], /--output must be a file path, got an empty value/],
  [["--output", "/nonexistent-dir/events.jsonl"], /^wfsim: --output \/nonexistent-dir\/events\.jsonl: cannot open for writing \(no such file or directory\)$/],
  [["--bogus"], /^wfsim: unknown option '--bogus'$/],
  [["--sampels", "3"], /^wfsim: unknown option '--sampels' \(did you mean --samples\?\)$/],
  [["--samples"], /option '--samples <n>' argument missing/],
  [["run", "extra"], /too many arguments for 'run'/],
  [["frobnicate"], /^wfsim: unknown command 'frobnicate' \(commands: .*\)$/],
];

describe("bad input", () => {
  // The system's Node.js, when it is older than wfsim needs: what a user gets who runs the bin on it.
  const SYSTEM_NODE = "/usr/bin/node";
  const old = existsSync(SYSTEM_NODE) ? execFileSync(SYSTEM_NODE, ["-p", "process.versions.node"], { encoding: "utf8" }).trim() : undefined;
  const tooOld = old !== undefined && (Number(old.split(".")[0]) < 22 || (Number(old.split(".")[0]) === 22 && Number(old.split(".")[1]) < 22));
  it("says in one line which Node.js wfsim needs, on an older one", { skip: tooOld ? false : `${SYSTEM_NODE} is not older than 22.22` }, () => {
    const result = spawnSync(SYSTEM_NODE, [CLI, "run", "--samples", "1"], { encoding: "utf8" });
    assert.equal(result.status, 2);
    assert.equal(result.stdout, "");
    assert.equal(result.stderr, `wfsim: needs Node.js 22.22 or later, found v${old}; in wfsim's own folder, npx wfsim runs it on the Node.js 24 that npm install brings\n`);
  });

  it("quotes a garbage file without its raw bytes: control characters and undecodable bytes are escaped", async () => {
    const dir = await mkdtemp(join(tmpdir(), "wfsim-garbage-"));
    try {
      const garbage = join(dir, "truth.jsonl");
      await writeFile(garbage, Buffer.from([0x1b, 0x5b, 0x33, 0x31, 0x6d, 0xff, 0xfe, 0x00, 0x07, 0x0d, 0x41, 0x0a]));
      const result = await runCli(["analyze", "/dev/null", "--truth", garbage]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /^wfsim: --truth .*truth\.jsonl: line 1 is not a wfsim truth record \(not valid JSON/);
      assert.ok(result.stderr.endsWith("\n") && result.stderr.indexOf("\n") === result.stderr.length - 1, "one line");
      assert.doesNotMatch(result.stderr.slice(0, -1), /[\u0000-\u001f\u007f-\u009f\ufffd]/, "no raw control or undecodable byte");
      assert.match(result.stderr, /\\x1b\[31m/, "the escape shown as text");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  for (const [args, message] of BAD_INPUT) {
    it(`wfsim ${args.map((a) => (a === "" ? "''" : a)).join(" ")}`, async () => {
      // No password from the environment: the rows above say where it is missing.
      const result = await runCli(args, { env: { WFSIM_KAFKA_PASSWORD: "" } });
      assert.equal(result.code, 2, `exit code; stderr: ${result.stderr}`);
      assert.equal(result.stdout, "", "nothing on stdout");
      const lines = result.stderr.split("\n").filter((line) => line !== "");
      assert.equal(lines.length, 1, `one line on stderr, got:\n${result.stderr}`);
      assert.match(lines[0]!, message);
      assert.doesNotMatch(result.stderr, /\s+at .*\(.*:\d+:\d+\)/, "no stack trace");
      assert.doesNotMatch(result.stderr, /hunter2/, "a password given on the command line is not echoed");
    });
  }
});

/** The files a refused analyze or compare must leave as they were, and the inputs they read. */
interface Paths {
  readonly events: string;
  readonly golden: string;
  /** The golden windows as a pipeline writes them: its own field names, ISO-8601 window starts. */
  readonly iso: string;
  readonly html: string;
  readonly report: string;
  readonly windows: string;
}

const KEEP = "keep me\n";

/** Each row: what is refused, the arguments, the single stderr line. Every output given exists beforehand, holding KEEP. */
const REFUSED_KEEPING: [string, (p: Paths) => string[], RegExp][] = [
  ["--mad-k -1", (p) => ["analyze", p.events, "--html", p.html, "--mad-k", "-1"], /^wfsim: --mad-k must be a number greater than 0 and at most 1000000, got -1$/],
  ["--list -3", (p) => ["analyze", p.events, "--html", p.html, "--list", "-3"], /^wfsim: --list must be a whole number from 0 to 100000, got -3$/],
  ["--threshold-ms abc", (p) => ["analyze", p.events, "--html", p.html, "--threshold-ms", "abc"], /^wfsim: --threshold-ms must be a number from 0 to \d+, got abc$/],
  ["--interval 0", (p) => ["analyze", p.events, "--html", p.html, "--interval", "0"], /^wfsim: --interval must be auto or a duration .*, got 0$/],
  // Found only once the events are read: the outputs must not have been opened before.
  ["windows longer than the run", (p) => ["analyze", p.events, "--html", p.html, "--windows", "1h", "--windows-out", p.windows], /^wfsim: --windows 1h is larger than the run: its events span [\d.]+[a-z]+ \(first/],
  ["--follow --mad-k -1", (p) => ["analyze", p.events, "--follow", "--report", p.report, "--mad-k", "-1"], /^wfsim: --mad-k must be a number greater than 0/],
  ["a percentile without a tolerance", (p) => ["compare", "--expected", p.golden, "--actual", p.golden, "--html", p.html, "--report", p.report, "--field", "duration_p95_ms=duration_p95_ms"], /^wfsim: duration_p95_ms needs a tolerance/],
  ["ISO window starts read as seconds", (p) => ["compare", "--expected", p.golden, "--actual", p.iso, "--window-field", "minute", "--window-unit", "s", "--html", p.html, "--report", p.report], /^wfsim: --actual .* line 1: minute \(the window's start\) must be epoch seconds, got "/],
  ["--report naming the --expected file", (p) => ["compare", "--expected", p.golden, "--actual", p.golden, "--html", p.html, "--report", p.golden], /^wfsim: --report and --expected name the same file .*: it would be overwritten; give --report another path$/],
];

describe("refused analyze and compare: the output files stay as they were", () => {
  let dir = "";
  let paths: Paths;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "wfsim-keep-"));
    const at = (name: string) => join(dir, name);
    paths = { events: at("events.jsonl"), golden: at("golden.jsonl"), iso: at("iso.jsonl"), html: at("report.html"), report: at("report.json"), windows: at("windows.jsonl") };
    const run = await runCli(["run", "--samples", "50", "--clock", "virtual", "--seed", "7", "--quiet", "--output", paths.events]);
    assert.equal(run.code, 0, run.stderr);
    const golden = await runCli(["analyze", paths.events, "--windows", "1s", "--windows-out", paths.golden]);
    assert.equal(golden.code, 0, golden.stderr);
    const rows = (await readFile(paths.golden, "utf8")).trim().split("\n").map((line) => JSON.parse(line) as { window_start: string; workflow: string; completed: number });
    await writeFile(paths.iso, rows.map((r) => `${JSON.stringify({ minute: r.window_start, workflow: r.workflow, completed: r.completed })}\n`).join(""));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  for (const [what, args, message] of REFUSED_KEEPING) {
    it(`keeps --html, --report, --windows-out and the inputs when refused: ${what}`, async () => {
      const inputs = await Promise.all([paths.events, paths.golden, paths.iso].map((path) => readFile(path, "utf8")));
      for (const output of [paths.html, paths.report, paths.windows]) await writeFile(output, KEEP);
      const result = await runCli(args(paths));
      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.stdout, "", "nothing on stdout");
      const lines = result.stderr.split("\n").filter((line) => line !== "");
      assert.equal(lines.length, 1, `one line on stderr, got:\n${result.stderr}`);
      assert.match(lines[0]!, message);
      for (const output of [paths.html, paths.report, paths.windows]) assert.equal(await readFile(output, "utf8"), KEEP, `${output} survived`);
      assert.deepEqual(await Promise.all([paths.events, paths.golden, paths.iso].map((path) => readFile(path, "utf8"))), inputs, "the inputs survived");
    });
  }

  it("creates no output file when refused after reading (windows longer than the run)", async () => {
    const html = join(dir, "new.html");
    const windows = join(dir, "new-windows.jsonl");
    const result = await runCli(["analyze", paths.events, "--html", html, "--windows", "1h", "--windows-out", windows]);
    assert.equal(result.code, 2, result.stderr);
    assert.equal(existsSync(html), false, "no --html file");
    assert.equal(existsSync(windows), false, "no --windows-out file");
  });

  it("replaces the existing files once the analysis and the comparison are done", async () => {
    for (const output of [paths.html, paths.report, paths.windows]) await writeFile(output, KEEP);
    const analyzed = await runCli(["analyze", paths.events, "--html", paths.html, "--windows", "1s", "--windows-out", paths.windows]);
    assert.equal(analyzed.code, 0, analyzed.stderr);
    assert.match(await readFile(paths.html, "utf8"), /^<!doctype html>/i);
    assert.equal(await readFile(paths.windows, "utf8"), await readFile(paths.golden, "utf8"), "the same windows as the golden ones, nothing of KEEP left");
    await writeFile(paths.html, KEEP);
    const compared = await runCli(["compare", "--expected", paths.golden, "--actual", paths.iso, "--window-field", "minute", "--window-unit", "iso", "--html", paths.html, "--report", paths.report]);
    assert.equal(compared.code, 0, compared.stderr);
    assert.equal((JSON.parse(await readFile(paths.report, "utf8")) as { verdict: string }).verdict, "pass");
    assert.match(await readFile(paths.html, "utf8"), /^<!doctype html>/i);
  });
});
