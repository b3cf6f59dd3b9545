import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Compile } from "typebox/compile";
import { CLI, collect, firstLines, parseLines, runCli, startCli } from "../helpers/cli.ts";
import { eventValidator } from "../helpers/events.ts";

const VIRTUAL = ["--clock", "virtual", "--start-time", "2026-01-01T00:00:00Z"];
let dir = "";
before(async () => (dir = await mkdtemp(join(tmpdir(), "wfsim-cli-"))));
after(() => rm(dir, { recursive: true, force: true }));

describe("wfsim run", () => {
  it("prints the seed's workload as JSON Lines that match the schema, and a summary on stderr", async () => {
    const result = await runCli(["run", ...VIRTUAL]);
    assert.equal(result.code, 0, result.stderr);
    const events = parseLines(result.stdout);
    assert.equal(events.length, 100 * 16);
    for (const event of events) assert.ok(eventValidator.Check(event), JSON.stringify(event));
    assert.match(result.stderr, /^wfsim: 100 transactions \(100 closed, 0 aborted\), 1,600 events to stdout, \d+ outliers injected, in .* on the virtual clock; simulated 2026-01-01T00:00:00\.000Z to .*; seed 42\.\n$/);
  });

  it("runs `wfsim run` when given flags and no command", async () => {
    const [plain, run] = await Promise.all([runCli(["--samples", "30", ...VIRTUAL]), runCli(["run", "--samples", "30", ...VIRTUAL])]);
    assert.equal(plain.code, 0);
    assert.equal(plain.stdout, run.stdout);
  });

  it("is byte-identical for the same seed and start time on the virtual clock, and differs for another seed", async () => {
    const args = ["--samples", "500", "--concurrency", "40", "--outlier-prob", "0.1", ...VIRTUAL];
    const [a, b, c] = await Promise.all([runCli(args), runCli(args), runCli([...args, "--seed", "7"])]);
    assert.equal(a.stdout, b.stdout);
    assert.notEqual(a.stdout, c.stdout);
  });

  it("draws and reports a seed for --seed random, and that seed repeats the run", async () => {
    const first = await runCli(["--seed", "random", "--samples", "20", ...VIRTUAL]);
    assert.equal(first.code, 0);
    const seed = /^wfsim: seed (\d+) \(pass --seed \1 to repeat this run\)$/m.exec(first.stderr)?.[1];
    assert.ok(seed !== undefined, first.stderr);
    const again = await runCli(["--seed", seed, "--samples", "20", ...VIRTUAL]);
    assert.equal(again.stdout, first.stdout);
    // --quiet silences progress and summary, not what it takes to repeat the run.
    const quiet = await runCli(["--seed", "random", "--samples", "2", "--quiet", ...VIRTUAL]);
    assert.match(quiet.stderr, /^wfsim: seed (\d+) \(pass --seed \1 to repeat this run\)\n$/);
  });

  it("reads --start-time as UTC without an offset, whatever the machine's time zone, and honours an offset", async () => {
    const firstTs = async (start: string, tz: string) => {
      const result = await runCli(["--samples", "1", "--clock", "virtual", "--quiet", "--start-time", start], { env: { TZ: tz } });
      assert.equal(result.code, 0, result.stderr);
      return (JSON.parse(result.stdout.split("\n")[0]!) as { ts_ms: number }).ts_ms;
    };
    const utc = Date.UTC(2024, 1, 29, 10, 0);
    assert.equal(await firstTs("2024-02-29T10:00:00", "America/New_York"), utc);
    assert.equal(await firstTs("2024-02-29T10:00:00", "Asia/Tokyo"), utc);
    assert.equal(await firstTs("2024-02-29 10:00", "Asia/Tokyo"), utc);
    assert.equal(await firstTs("2024-02-29T10:00:00Z", "Asia/Tokyo"), utc);
    assert.equal(await firstTs("2024-02-29T11:30:00.250+01:30", "UTC"), utc + 250);
    assert.equal(await firstTs("2024-02-29", "America/New_York"), Date.UTC(2024, 1, 29));
  });

  it("writes the same lines to --output FILE as to stdout, and keeps stdout empty", async () => {
    const file = join(dir, "events.jsonl");
    const [toFile, toStdout] = await Promise.all([
      runCli(["--samples", "50", "--output", file, ...VIRTUAL]),
      runCli(["--samples", "50", ...VIRTUAL]),
    ]);
    assert.equal(toFile.code, 0, toFile.stderr);
    assert.equal(toFile.stdout, "");
    assert.match(toFile.stderr, new RegExp(`events to ${file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}`));
    assert.equal(await readFile(file, "utf8"), toStdout.stdout);
  });

  it("is silent on stderr with --quiet", async () => {
    const result = await runCli(["--samples", "5", "--quiet", ...VIRTUAL]);
    assert.equal(result.code, 0);
    assert.equal(result.stderr, "");
    assert.equal(parseLines(result.stdout).length, 80);
  });

  it("says how it goes every --status-every seconds when stderr is no terminal, and nothing more with 0", async () => {
    // About 2.5 s on the real clock at ten times speed: status lines every 0.5 s, then the summary.
    const args = ["run", "--speed", "10", "--samples", "50", "--output", "/dev/null"];
    const status = /^wfsim: [\d,]+\/50 done, [\d,]+ in flight, [\d,]+ events\/s$/gm;
    const lines = await runCli([...args, "--status-every", "0.5"]);
    assert.equal(lines.code, 0, lines.stderr);
    assert.ok((lines.stderr.match(status) ?? []).length >= 2, lines.stderr);
    assert.match(lines.stderr, /^wfsim: 50 transactions/m, "the summary follows");
    const none = await runCli([...args, "--status-every", "0"]);
    assert.equal(none.code, 0, none.stderr);
    assert.equal((none.stderr.match(status) ?? []).length, 0, none.stderr);
  });

  it("prints help with every flag of the reference and its default, on stdout, exit 0", async () => {
    const result = await runCli(["run", "--help"]);
    assert.equal(result.code, 0);
    const help = result.stdout.replace(/\s+/g, " ");
    for (const [flag, value] of [
      ["--samples", "100"],
      ["--steps", "5"],
      ["--pre-min", "100"],
      ["--pre-max", "2000"],
      ["--inter-min", "200"],
      ["--inter-max", "1200"],
      ["--outlier-ms", "15000"],
      ["--outlier-prob", "0.01"],
      ["--concurrency", "20"],
      ["--seed", "42"],
      ["--topic-steps", "workflow.steps"],
      ["--topic-txn", "workflow.transactions"],
    ]) {
      const entry = help.split(/ (?=-)/).find((part) => part.startsWith(`${flag} `));
      assert.ok(entry?.endsWith(`(default: ${value})`), `${flag}: ${entry}`);
    }
    assert.match(help, /--kafka-bootstrap/);
    assert.match((await runCli(["--version"])).stdout, /^\d+\.\d+\.\d+\n$/);
  });
});

describe("wfsim schema", () => {
  it("prints a JSON Schema that real output validates against, and that rejects a renamed field", async () => {
    const result = await runCli(["schema"]);
    assert.equal(result.code, 0);
    const schema = JSON.parse(result.stdout) as Record<string, unknown>;
    assert.equal(schema.$schema, "https://json-schema.org/draft/2020-12/schema");
    const check = Compile(schema as never);
    const events = parseLines((await runCli(["--samples", "20", "--outlier-prob", "0.5", ...VIRTUAL])).stdout);
    for (const event of events) assert.ok(check.Check(event), JSON.stringify(event));
    const renamed = { ...events[0]!, txnId: events[0]!.txn_id };
    delete (renamed as Record<string, unknown>).txn_id;
    assert.equal(check.Check(renamed), false);
  });
});

describe("output streams", () => {
  it("ends at once and quietly when the reader closes the pipe (wfsim | head)", async () => {
    const child = startCli(["--samples", "100000000", "--clock", "virtual"]);
    const done = collect(child);
    const lines = await firstLines(child, 3);
    assert.equal(lines.length, 3);
    child.stdout.destroy();
    const result = await done;
    assert.equal(result.code, 0);
    assert.equal(result.stderr, "");
  });

  it("works through a real shell pipe into head", async () => {
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn("sh", ["-c", `"$0" "$1" --samples 100000000 --clock virtual | head -n 2`, process.execPath, CLI]);
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
    assert.equal(result.code, 0);
    assert.equal(result.stdout.split("\n").filter(Boolean).length, 2);
    assert.equal(result.stderr, "");
  });

  it("leaves quietly when the reader of a report closes the pipe (wfsim analyze | head)", async () => {
    const events = join(dir, "many-outliers.jsonl");
    assert.equal((await runCli(["--samples", "5000", "--outlier-prob", "0.5", "--output", events, "--quiet", ...VIRTUAL])).code, 0);
    // A report of several MB: far more than a pipe holds, so writing it meets the closed pipe.
    const child = startCli(["analyze", events, "--format", "json", "--list", "100000"]);
    const done = collect(child);
    await firstLines(child, 1);
    child.stdout.destroy();
    const result = await done;
    assert.equal(result.code, 0);
    assert.equal(result.stderr, "");
  });

  it("writes every line once, in order, to a reader that keeps stopping (partial writes, a full pipe)", { timeout: 60_000 }, async () => {
    const args = ["--samples", "20000", "--outlier-prob", "0.1", "--quiet", ...VIRTUAL];
    const file = join(dir, "steady.jsonl");
    assert.equal((await runCli([...args, "--output", file])).code, 0);
    const child = startCli(args);
    const received: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => {
      received.push(chunk);
      // Stop reading for a moment every few chunks: the pipe fills, writes come back short or EAGAIN.
      if (received.length % 4 === 0) {
        child.stdout.pause();
        setTimeout(() => child.stdout.resume(), 5);
      }
    });
    const closed = new Promise<number | null>((resolve) => child.on("close", resolve));
    child.stdin.end();
    assert.equal(await closed, 0);
    assert.ok(received.length > 100, `${received.length} chunks`);
    assert.ok(Buffer.concat(received).equals(await readFile(file)), "the same bytes as written to a file");
  });

  it("holds memory bounded while the reader does not read (backpressure)", async () => {
    const child = startCli(["--samples", "100000000", "--clock", "virtual", "--quiet"]);
    const done = collect(child, { timeoutMs: 30_000 });
    child.stdout.pause();
    let peakKb = 0;
    // Without backpressure this run would buffer gigabytes within a second.
    for (let i = 0; i < 15; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const status = await readFile(`/proc/${child.pid}/status`, "utf8").catch(() => "");
      peakKb = Math.max(peakKb, Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0));
    }
    child.kill("SIGTERM");
    child.stdout.resume();
    const result = await done;
    assert.ok(peakKb > 0, "measured the child");
    assert.ok(peakKb < 200 * 1024, `peak RSS ${Math.round(peakKb / 1024)} MiB while stalled`);
    assert.equal(result.code, 143);
  });
});

describe("real clock", () => {
  it("never makes a gap shorter than planned, and --speed keeps timestamps on the simulated timeline", async () => {
    // About 3 simulated seconds at 20x speed.
    const started = performance.now();
    const result = await runCli(["--samples", "10", "--concurrency", "10", "--steps", "3", "--pre-max", "1000", "--inter-max", "500", "--outlier-prob", "0", "--speed", "20"]);
    const wallMs = performance.now() - started;
    assert.equal(result.code, 0, result.stderr);
    const events = parseLines(result.stdout) as { type: string; txn_id: string; ts_ms: number; pre_delay_ms?: number; planned_wait_ms?: number }[];
    assert.equal(events.length, 10 * 10);
    const waitStart = new Map<string, number>();
    for (const event of events) {
      if (event.type === "transaction_open") waitStart.set(event.txn_id, event.ts_ms);
      if (event.type === "inter_step_wait") waitStart.set(event.txn_id, event.ts_ms + event.planned_wait_ms!);
      if (event.type === "step_open") assert.ok(event.ts_ms >= waitStart.get(event.txn_id)! + event.pre_delay_ms!, JSON.stringify(event));
    }
    const span = events.at(-1)!.ts_ms - events[0]!.ts_ms;
    assert.ok(span >= 1000, `simulated span ${span} ms`);
    assert.ok(wallMs < span, `ran ${Math.round(wallMs)} ms of real time for ${span} simulated ms at 20x`);
    assert.match(result.stderr, /wake-up lateness p50 [\d.]+ ms, p99 [\d.]+ ms/);
  });
});
