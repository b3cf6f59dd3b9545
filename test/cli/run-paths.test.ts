import assert from "node:assert/strict";
import { copyFileSync, linkSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { runCli } from "../helpers/cli.ts";

const RUN = ["--samples", "5", "--clock", "virtual", "--quiet"];
const CHECKOUT = fileURLToPath(new URL("../../examples/checkout.yaml", import.meta.url));
const KEEP = '{"keep":"me"}\n';

function folder(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), "wfsim-paths-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Exit 2, one line on stderr matching `pattern`, nothing on stdout. */
function assertRefused(result: { code: number | null; stdout: string; stderr: string }, pattern: RegExp): void {
  assert.equal(result.code, 2, result.stderr);
  assert.equal(result.stdout, "");
  assert.equal(result.stderr.split("\n").filter((l) => l !== "").length, 1, result.stderr);
  assert.match(result.stderr, pattern);
}

describe("wfsim run: no file lost", () => {
  it("refuses --output and --truth naming the same existing file, and leaves it as it was", async (t) => {
    const dir = folder(t);
    const file = join(dir, "keep.jsonl");
    writeFileSync(file, KEEP);
    const result = await runCli([...RUN, "--output", file, "--truth", file]);
    assertRefused(result, /^wfsim: --truth and --output name the same file .*keep\.jsonl.*\n$/);
    assert.equal(readFileSync(file, "utf8"), KEEP);
  });

  it("refuses --undelivered naming the --truth file, or a directory, before connecting, and leaves the file as it was", async (t) => {
    const dir = folder(t);
    const file = join(dir, "keep.jsonl");
    writeFileSync(file, KEEP);
    // 192.0.2.1 is TEST-NET-1: the paths are refused before any connection is tried.
    const kafka = ["--kafka-bootstrap", "192.0.2.1:9092", "--kafka-timeout", "60000"];
    const same = await runCli([...RUN, ...kafka, "--truth", file, "--undelivered", file]);
    assertRefused(same, /^wfsim: --undelivered and --truth name the same file .*keep\.jsonl.*\n$/);
    assert.equal(readFileSync(file, "utf8"), KEEP);
    const folderPath = await runCli([...RUN, ...kafka, "--undelivered", dir]);
    assertRefused(folderPath, /^wfsim: --undelivered .*: cannot open for writing \(.*directory.*\)\n$/);
  });

  it("refuses an output into the alert file --score-alerts follows, and leaves it as it was", async (t) => {
    const dir = folder(t);
    const file = join(dir, "alerts.jsonl");
    writeFileSync(file, KEEP);
    for (const flag of ["--output", "--truth", "--report"]) {
      const result = await runCli([...RUN, "--score-alerts", `file:${file}`, flag, file]);
      assertRefused(result, new RegExp(`^wfsim: ${flag} and --score-alerts name the same file .*alerts\\.jsonl.*: it would be overwritten`));
    }
    assert.equal(readFileSync(file, "utf8"), KEEP);
  });

  it("refuses corrupt faults into a typed (Avro, Protobuf) file before opening anything, --dry-run too, and leaves the files as they were", async (t) => {
    const dir = folder(t);
    const output = join(dir, "keep.avro");
    const truth = join(dir, "keep.jsonl");
    writeFileSync(output, KEEP);
    writeFileSync(truth, KEEP);
    for (const format of ["avro", "protobuf"]) {
      for (const dry of [[], ["--dry-run"]]) {
        const result = await runCli([...RUN, ...dry, "--delivery", "{corrupt: {prob: 0.1}}", "--format", format, "-o", output, "--truth", truth]);
        assertRefused(result, new RegExp(`^wfsim: --delivery: corrupt needs an output that can write a malformed record \\(JSON Lines or Kafka\\); --format ${format} writes typed records only\\n$`));
      }
    }
    assert.equal(readFileSync(output, "utf8"), KEEP);
    assert.equal(readFileSync(truth, "utf8"), KEEP);
  });

  it("refuses the same file under another name: a hard link, a symbolic link", async (t) => {
    const dir = folder(t);
    const file = join(dir, "keep.jsonl");
    writeFileSync(file, KEEP);
    linkSync(file, join(dir, "hard.jsonl"));
    symlinkSync(file, join(dir, "soft.jsonl"));
    for (const other of ["hard.jsonl", "soft.jsonl"]) {
      const result = await runCli([...RUN, "--output", file, "--truth", join(dir, other)]);
      assertRefused(result, /--truth and --output name the same file/);
    }
    assert.equal(readFileSync(file, "utf8"), KEEP);
  });

  it("refuses two spellings of one file that does not exist yet, and creates nothing", async (t) => {
    const dir = folder(t);
    const result = await runCli([...RUN, "--output", join(dir, "new.jsonl"), "--truth", join(dir, ".", "sub", "..", "new.jsonl")]);
    assertRefused(result, /--truth and --output name the same file/);
    assert.throws(() => readFileSync(join(dir, "new.jsonl")), { code: "ENOENT" });
  });

  for (const flag of ["--output", "--truth"]) {
    it(`refuses ${flag} naming the --scenario file, which stays intact`, async (t) => {
      const dir = folder(t);
      const scenario = join(dir, "checkout.yaml");
      copyFileSync(CHECKOUT, scenario);
      const before = readFileSync(scenario, "utf8");
      const others = flag === "--output" ? [] : ["--output", join(dir, "events.jsonl")];
      const result = await runCli([...RUN, "--scenario", scenario, ...others, flag, scenario]);
      assertRefused(result, new RegExp(`^wfsim: ${flag} and --scenario name the same file .*it would be overwritten`));
      assert.equal(readFileSync(scenario, "utf8"), before);
    });
  }

  for (const [what, truth] of [
    ["a folder that does not exist", "missing/truth.jsonl"],
    ["a directory", "."],
  ] as const) {
    it(`keeps the existing --output when --truth is ${what}`, async (t) => {
      const dir = folder(t);
      const keep = join(dir, "keep.jsonl");
      writeFileSync(keep, KEEP);
      const result = await runCli([...RUN, "--output", keep, "--truth", join(dir, truth)]);
      assertRefused(result, /^wfsim: --truth .*: cannot open for writing \((no such file or directory|it is a directory)\)\n$/);
      assert.equal(readFileSync(keep, "utf8"), KEEP, "keep.jsonl survived the refused run");
    });
  }

  it("keeps the existing --truth when --output cannot be written", async (t) => {
    const dir = folder(t);
    const keep = join(dir, "keep.jsonl");
    writeFileSync(keep, KEEP);
    writeFileSync(join(dir, "plain"), "");
    const result = await runCli([...RUN, "--output", join(dir, "plain", "events.jsonl"), "--truth", keep]);
    assertRefused(result, /^wfsim: --output .*: cannot open for writing \(a part of the path is not a directory\)\n$/);
    assert.equal(readFileSync(keep, "utf8"), KEEP);
  });

  it("replaces existing files once every check has passed (truncates, does not append)", async (t) => {
    const dir = folder(t);
    const events = join(dir, "events.jsonl");
    const truth = join(dir, "truth.jsonl");
    const report = join(dir, "report.json");
    const alerts = join(dir, "alerts.jsonl");
    writeFileSync(events, KEEP);
    writeFileSync(truth, KEEP);
    writeFileSync(report, KEEP);
    writeFileSync(alerts, "");
    const result = await runCli([...RUN, "--output", events, "--truth", truth, "--score-alerts", `file:${alerts}`, "--score-grace", "0", "--report", report]);
    assert.equal(result.code, 0, result.stderr);
    assert.ok(!readFileSync(events, "utf8").includes('"keep"'));
    assert.ok(!readFileSync(truth, "utf8").includes('"keep"'));
    assert.ok(readFileSync(events, "utf8").includes('"transaction_open"'));
    assert.equal((JSON.parse(readFileSync(report, "utf8")) as { alerts: { lines: number } }).alerts.lines, 0, "the live scores replaced KEEP");
  });

  it("refuses --report (live scores) naming the --truth file, and leaves it as it was", async (t) => {
    const dir = folder(t);
    const file = join(dir, "keep.jsonl");
    writeFileSync(file, KEEP);
    writeFileSync(join(dir, "alerts.jsonl"), "");
    const result = await runCli([...RUN, "--output", join(dir, "events.jsonl"), "--truth", file, "--score-alerts", `file:${join(dir, "alerts.jsonl")}`, "--report", file]);
    assertRefused(result, /^wfsim: --report and --truth name the same file .*keep\.jsonl.*\n$/);
    assert.equal(readFileSync(file, "utf8"), KEEP);
  });

  // 127.0.0.1:1: nothing listens there, so the connection is refused at once: no broker or registry needed.
  const UNREACHABLE = ["--kafka-bootstrap", "127.0.0.1:1", "--kafka-timeout", "2000"];
  for (const [what, more, message] of [
    ["the broker cannot be reached", [], /^wfsim: cannot connect to Kafka at 127\.0\.0\.1:1: /],
    ["the Schema Registry cannot be reached", ["--format", "avro", "--schema-registry", "http://127.0.0.1:1/apis/ccompat/v7"], /^wfsim: cannot reach the Schema Registry at http:\/\/127\.0\.0\.1:1\/apis\/ccompat\/v7: /],
  ] as const) {
    it(`keeps the existing --truth, --report and --undelivered when ${what}`, async (t) => {
      const dir = folder(t);
      const [truth, report, undelivered] = ["truth.jsonl", "report.json", "undelivered.txt"].map((name) => join(dir, name)) as [string, string, string];
      for (const file of [truth, report, undelivered]) writeFileSync(file, KEEP);
      writeFileSync(join(dir, "alerts.jsonl"), "");
      const result = await runCli([...RUN, ...UNREACHABLE, ...more, "--truth", truth, "--score-alerts", `file:${join(dir, "alerts.jsonl")}`, "--report", report, "--undelivered", undelivered]);
      assertRefused(result, message);
      for (const file of [truth, report, undelivered]) assert.equal(readFileSync(file, "utf8"), KEEP, `${file} survived the refused run`);
    });
  }

  it("creates no --truth or --report file when the broker cannot be reached", async (t) => {
    const dir = folder(t);
    writeFileSync(join(dir, "alerts.jsonl"), "");
    const result = await runCli([...RUN, ...UNREACHABLE, "--truth", join(dir, "truth.jsonl"), "--score-alerts", `file:${join(dir, "alerts.jsonl")}`, "--report", join(dir, "report.json")]);
    assertRefused(result, /cannot connect to Kafka/);
    for (const name of ["truth.jsonl", "report.json"]) assert.throws(() => readFileSync(join(dir, name)), { code: "ENOENT" }, name);
  });

  it("lets /dev/null take both outputs: a device, not a file two writers corrupt", async () => {
    const result = await runCli([...RUN, "--output", "/dev/null", "--truth", "/dev/null"]);
    assert.equal(result.code, 0, result.stderr);
  });
});
