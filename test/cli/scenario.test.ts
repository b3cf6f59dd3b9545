import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Compile } from "typebox/compile";
import { collect, firstLines, parseLines, runCli, startCli } from "../helpers/cli.ts";
import { eventValidator } from "../helpers/events.ts";

const VIRTUAL = ["--clock", "virtual", "--start-time", "2026-01-01T00:00:00Z"];
const START = Date.parse("2026-01-01T00:00:00Z");
const EXAMPLES = new URL("../../examples/", import.meta.url).pathname;
const SEED = join(EXAMPLES, "seed.yaml");
const CHECKOUT = join(EXAMPLES, "checkout.yaml");
let dir = "";
before(async () => (dir = await mkdtemp(join(tmpdir(), "wfsim-scenario-"))));
after(() => rm(dir, { recursive: true, force: true }));

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

type Line = Record<string, unknown> & { type: string; txn_id: string; ts_ms: number };

/** Each transaction's events without their times: what it drew, whatever the clock. */
function fingerprint(events: readonly Line[]): string[] {
  const groups = new Map<string, string[]>();
  for (const { ts_ms: _ts, duration_ms: _d, ...rest } of events) {
    const list = groups.get(rest.txn_id) ?? [];
    list.push(JSON.stringify(rest));
    groups.set(rest.txn_id, list);
  }
  return [...groups.values()].map((list) => list.join(" ")).sort();
}

describe("wfsim run --scenario", () => {
  for (const name of ["seed.yaml", "checkout.yaml", "onboarding.yaml", "flash-sale.yaml", "nightly-batch.yaml"]) {
    it(`runs examples/${name} on the virtual clock, every event fitting the schema`, async () => {
      const result = await runCli(["run", "--scenario", join(EXAMPLES, name), "--samples", "300", ...VIRTUAL]);
      assert.equal(result.code, 0, result.stderr);
      const events = parseLines(result.stdout);
      assert.ok(events.length > 300);
      for (const event of events) assert.ok(eventValidator.Check(event), JSON.stringify(event));
      assert.ok(events.every((e) => typeof e.workflow === "string"));
      assert.match(result.stderr, /^wfsim: scenario [\w-]+: 300 transactions \(/);
    });
  }

  it("writes the seed's output from examples/seed.yaml, byte for byte once its names are taken out", async () => {
    const [flags, scenario] = await Promise.all([
      runCli(["--samples", "400", "--outlier-prob", "0.2", ...VIRTUAL]),
      runCli(["--scenario", SEED, "--samples", "400", "--outlier-prob", "0.2", ...VIRTUAL]),
    ]);
    assert.equal(scenario.code, 0, scenario.stderr);
    const stripped = scenario.stdout.replace(/,"workflow":"seed"/g, "").replace(/,"step_name":"step_\d"/g, "");
    assert.equal(stripped, flags.stdout);
  });

  it("lets flags override the scenario's values", async () => {
    const scenarioPath = await file("small.yaml", "seed: 5\nload: { model: closed, concurrency: 2, samples: 10 }\nworkflows: [ { name: w, pre: 10ms, steps: [a] } ]\n");
    const plain = parseLines((await runCli(["--scenario", scenarioPath, "--quiet", ...VIRTUAL])).stdout);
    assert.equal(plain.filter((e) => e.type === "transaction_open").length, 10);
    const overridden = await runCli(["--scenario", scenarioPath, "--samples", "4", "--seed", "6", "--concurrency", "4", ...VIRTUAL]);
    const events = parseLines(overridden.stdout);
    assert.equal(events.filter((e) => e.type === "transaction_open").length, 4);
    assert.ok(events.slice(0, 4).every((e) => e.type === "transaction_open"), "four in flight at once");
    assert.match(overridden.stderr, /seed 6\./);
    assert.notEqual(events[0]!.txn_id, plain[0]!.txn_id);
  });

  it("writes the same lines to --output FILE as to stdout", async () => {
    const out = join(dir, "events.jsonl");
    const [toFile, toStdout] = await Promise.all([
      runCli(["--scenario", CHECKOUT, "--samples", "200", "--output", out, ...VIRTUAL]),
      runCli(["--scenario", CHECKOUT, "--samples", "200", ...VIRTUAL]),
    ]);
    assert.equal(toFile.code, 0, toFile.stderr);
    assert.equal(await readFile(out, "utf8"), toStdout.stdout);
  });

  it("--truth FILE: labels in the file, none in the stream, and they answer for what happened", async () => {
    const truthPath = join(dir, "truth.jsonl");
    const anomalies = await file(
      "anomalies.yaml",
      [
        "load: { model: open, rate: 100 }",
        "workflows:",
        "  - name: w",
        "    pre: { dist: uniform, min: 0, max: 500ms }",
        "    outlier: { prob: 0.1, extra: 10s }",
        "    stuck: { prob: 0.05 }",
        "    steps: [a, { name: b, work: 20ms, failure: { prob: 0.2, reasons: [x, y], retries: 1 } }, c]",
      ].join("\n"),
    );
    const [withTruth, inline, schema] = await Promise.all([
      runCli(["--scenario", anomalies, "--samples", "3000", "--truth", truthPath, ...VIRTUAL]),
      runCli(["--scenario", anomalies, "--samples", "3000", ...VIRTUAL]),
      runCli(["schema", "--truth"]),
    ]);
    assert.equal(withTruth.code, 0, withTruth.stderr);
    const labels = parseLines(await readFile(truthPath, "utf8"));
    const check = Compile(JSON.parse(schema.stdout) as never);
    for (const label of labels) assert.ok(check.Check(label), JSON.stringify(label));
    assert.doesNotMatch(withTruth.stdout, /outlier_injected|"stuck"/);
    assert.match(withTruth.stderr, new RegExp(`; ${labels.length.toLocaleString("en-US")} ground-truth labels to ${truthPath.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}`));
    const kinds = new Set(labels.map((l) => l.kind));
    assert.deepEqual([...kinds].sort(), ["outlier", "step_failure", "stuck"]);
    // Inline, the same run carries exactly these outliers and stuck transactions as labels.
    const events = parseLines(inline.stdout);
    const inlineOutliers = events.filter((e) => e.type === "inter_step_wait" && e.outlier_injected === true).map((e) => `${e.txn_id} ${e.ts_ms}`);
    const inlineStuck = events.filter((e) => e.type === "transaction_open" && e.stuck === true).map((e) => `${e.txn_id} ${e.ts_ms}`);
    assert.deepEqual(labels.filter((l) => l.kind === "outlier").map((l) => `${l.txn_id} ${l.ts_ms}`).sort(), inlineOutliers.sort());
    assert.deepEqual(labels.filter((l) => l.kind === "stuck").map((l) => `${l.txn_id} ${l.ts_ms}`).sort(), inlineStuck.sort());
    const failures = events.filter((e) => e.type === "step_failed").length;
    assert.equal(labels.filter((l) => l.kind === "step_failure").length, failures);
  });

  it("--truth with flags: the seed's outliers go to the file and out of the stream", async () => {
    const truthPath = join(dir, "seed-truth.jsonl");
    const result = await runCli(["--samples", "200", "--outlier-prob", "0.3", "--truth", truthPath, ...VIRTUAL]);
    assert.equal(result.code, 0, result.stderr);
    const labels = parseLines(await readFile(truthPath, "utf8"));
    assert.ok(labels.length > 0 && labels.every((l) => l.kind === "outlier" && l.extra_ms === 15_000));
    assert.doesNotMatch(result.stdout, /outlier_injected/);
    assert.match(result.stderr, new RegExp(`${labels.length} outliers injected`));
  });

  it("--duration bounds a run on the virtual clock: nothing opens after it, and the rest finish", async () => {
    const result = await runCli(["--scenario", CHECKOUT, "--duration", "90s", ...VIRTUAL]);
    assert.equal(result.code, 0, result.stderr);
    const events = parseLines(result.stdout) as Line[];
    const opens = events.filter((e) => e.type === "transaction_open");
    assert.ok(opens.length > 300);
    assert.ok(opens.every((e) => e.ts_ms < START + 90_000));
    assert.ok(events.every((e) => e.type !== "transaction_aborted"));
    assert.match(result.stderr, /0 aborted/);
  });

  it("--duration bounds a run on the real clock, and the draws are those of the virtual clock", async () => {
    const scenarioPath = await file(
      "steady.yaml",
      "load: { model: open, rate: 50 }\nworkflows: [ { name: w, pre: { dist: exponential, mean: 100ms }, work: { dist: uniform, min: 10ms, max: 200ms }, steps: [a, b, c] } ]\n",
    );
    const real = await runCli(["--scenario", scenarioPath, "--duration", "4s", "--speed", "20", "--start-time", `${START}`]);
    assert.equal(real.code, 0, real.stderr);
    const events = parseLines(real.stdout) as Line[];
    const opens = events.filter((e) => e.type === "transaction_open");
    assert.ok(opens.length > 100, `${opens.length} opened`);
    // The same transactions, drawn the same way, on the virtual clock, whose run the test above shows
    // to open nothing after the deadline. No wall-time bound here: on a loaded machine the real clock
    // wakes late, which moves ts_ms but must not change which transactions run (arrival times may
    // fall a millisecond apart on the real clock, which can move the last arrival across the deadline).
    const virtual = parseLines((await runCli(["--scenario", scenarioPath, "--duration", "4s", "--clock", "virtual", "--start-time", `${START}`])).stdout) as Line[];
    const virtualOpens = virtual.filter((e) => e.type === "transaction_open").length;
    assert.ok(Math.abs(opens.length - virtualOpens) <= 1, `${opens.length} opened on the real clock, ${virtualOpens} on the virtual one`);
    const realPrints = fingerprint(events);
    const virtualPrints = new Set(fingerprint(virtual));
    const missing = realPrints.filter((p) => !virtualPrints.has(p));
    assert.ok(missing.length <= 1, `${missing.length} transactions differ`);
  });

  it("splits a scenario between --instance processes: together they run the single run's transactions", async () => {
    const open = await file(
      "shared.yaml",
      "load: { model: open, rate: 200, duration: 20s }\nworkflows: [ { name: a, weight: 2, pre: { dist: exponential, mean: 300ms }, steps: [x, y] }, { name: b, failure: { prob: 0.3, retries: 1 }, steps: [z] } ]\n",
    );
    for (const args of [["--scenario", open], ["--scenario", CHECKOUT, "--samples", "900"], ["--scenario", SEED, "--samples", "300"]]) {
      const whole = fingerprint(parseLines((await runCli([...args, ...VIRTUAL, "--quiet"])).stdout) as Line[]);
      const parts = await Promise.all(["0/3", "1/3", "2/3"].map((instance) => runCli([...args, "--instance", instance, ...VIRTUAL, "--quiet"])));
      const union = parts.flatMap((part) => fingerprint(parseLines(part.stdout) as Line[])).sort();
      assert.ok(whole.length > 100);
      assert.deepEqual(union, whole, args.join(" "));
    }
  });

  it("stops an open model on SIGINT: every transaction in flight aborted, exit 130", async () => {
    const child = startCli(["--scenario", CHECKOUT, "--speed", "50", "--start-time", `${START}`]);
    const done = collect(child, { timeoutMs: 30_000 });
    await firstLines(child, 200);
    child.kill("SIGINT");
    const result = await done;
    assert.equal(result.code, 130, result.stderr);
    const events = parseLines(result.stdout) as Line[];
    const ended = new Set(events.filter((e) => /^transaction_(close|failed|aborted)$/.test(e.type)).map((e) => e.txn_id));
    const stuck = new Set(events.filter((e) => e.type === "transaction_open" && e.stuck === true).map((e) => e.txn_id));
    const aborted = events.filter((e) => e.type === "transaction_aborted");
    assert.ok(aborted.length > 0);
    assert.ok(aborted.every((e) => e.reason === "SIGINT" && typeof e.workflow === "string"));
    for (const open of events.filter((e) => e.type === "transaction_open")) {
      assert.ok(ended.has(open.txn_id) || stuck.has(open.txn_id), `${open.txn_id} neither ended nor stuck`);
    }
    assert.match(result.stderr, /stopped early by SIGINT/);
  });

  it("runs --samples unlimited until stopped (SIGTERM, exit 143)", async () => {
    const child = startCli(["--samples", "unlimited", "--clock", "virtual", "--quiet"]);
    const done = collect(child, { timeoutMs: 30_000 });
    await firstLines(child, 5000);
    child.kill("SIGTERM");
    const result = await done;
    assert.equal(result.code, 143);
  });
});

describe("flag mode", () => {
  // SHA-256 of the output of wfsim before scenarios existed (commit a53959b), for the same flags:
  // with no --scenario, a seed's output must not change by a byte.
  const GOLDEN: [string[], string][] = [
    [["--clock", "virtual", "--start-time", "2026-01-01T00:00:00Z"], "6fcebd44af021bdd41619549bc99628fd997cbc1e7c9112b6290dd4be1336f29"],
    [
      ["--samples", "3000", "--outlier-prob", "0.1", "--concurrency", "37", "--clock", "virtual", "--start-time", "2026-01-01T00:00:00Z"],
      "0213889a7e57d42100e9859587303196d54d53ac72889503d31ca47686865244",
    ],
    [
      ["--samples", "500", "--steps", "3", "--pre-min", "0", "--pre-max", "50", "--inter-min", "5", "--inter-max", "5", "--outlier-prob", "0.5", "--outlier-ms", "7", "--seed", "-9", "--timezone", "UTC", "--clock", "virtual", "--start-time", "0"],
      "f0aa4a701d5965cf780964b893b9976050d9be5b2cb702c810e7a23053d3546b",
    ],
  ];
  for (const [args, sha256] of GOLDEN) {
    it(`writes what it wrote before scenarios: ${args.slice(0, 4).join(" ")} ...`, async () => {
      const result = await runCli(["run", ...args, "--quiet"]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(createHash("sha256").update(result.stdout).digest("hex"), sha256);
    });
  }
});

describe("wfsim validate", () => {
  it("says what a valid scenario would run, on stdout", async () => {
    const result = await runCli(["validate", CHECKOUT]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      result.stdout,
      `${CHECKOUT}: valid: 3 workflows: checkout (5 steps, 80%), refund (3 steps, 5%), wishlist (1 step, 15%); ` +
        "open model, poisson arrivals from 5/s through 3 stages (40m) to 10/s, at most 2000 in flight\n",
    );
    assert.equal(result.stderr, "");
  });

  it("reports a bad one in one line naming the file, line, column, path, expected and found; exit 2", async () => {
    const bad = await file("bad.yaml", "workflows:\n  - name: a\n    steps:\n      - name: x\n        work: fast\n");
    for (const args of [["validate", bad], ["run", "--scenario", bad, ...VIRTUAL]]) {
      const result = await runCli(args);
      assert.equal(result.code, 2);
      assert.equal(result.stdout, "");
      assert.equal(
        result.stderr,
        `wfsim: ${bad}:5:15: workflows[0].steps[0].work: expected a distribution (constant, uniform, normal, lognormal, exponential, empirical) or a duration, got "fast"\n`,
      );
    }
  });
});

describe("scenario flags that do not fit", () => {
  const rows: [string[], RegExp][] = [
    [["--scenario", "/nonexistent/x.yaml"], /^wfsim: \/nonexistent\/x\.yaml: cannot read the scenario \(no such file or directory\)$/],
    [["--scenario", ""], /^wfsim: --scenario must be a scenario file \(YAML or JSON\), got an empty value$/],
    [["--scenario", SEED, "--steps", "3"], /^wfsim: --steps does not apply to a scenario \(.*seed\.yaml\), whose workflows set their own steps and delays$/],
    [["--scenario", SEED, "--pre-max", "3"], /^wfsim: --pre-max does not apply to a scenario/],
    [["--duration", "0"], /^wfsim: --duration must be a duration such as 250ms, 1\.5s, 10m, 2h, or a number of milliseconds, greater than 0, got 0$/],
    [["--duration", "soon"], /^wfsim: --duration must be a duration .*, got soon$/],
    [["--truth", "-"], /^wfsim: --truth must be a file: stdout carries the events$/],
    [["--truth", "/nonexistent-dir/t.jsonl"], /^wfsim: --truth \/nonexistent-dir\/t\.jsonl: cannot open for writing \(no such file or directory\)$/],
    [["validate"], /^wfsim: missing required argument 'file'$/],
    [["validate", "/nonexistent/x.yaml"], /^wfsim: \/nonexistent\/x\.yaml: cannot read the scenario \(no such file or directory\)$/],
  ];
  for (const [args, message] of rows) {
    it(`wfsim ${args.map((a) => (a === "" ? "''" : a)).join(" ")}`, async () => {
      const result = await runCli(args);
      assert.equal(result.code, 2, result.stderr);
      const lines = result.stderr.split("\n").filter((line) => line !== "");
      assert.equal(lines.length, 1, result.stderr);
      assert.match(lines[0]!, message);
      assert.doesNotMatch(result.stderr, /\s+at .*:\d+:\d+/);
    });
  }
});

describe("help", () => {
  it("names the scenario flags and commands", async () => {
    const run = (await runCli(["run", "--help"])).stdout;
    for (const flag of ["--scenario <file>", "--truth <file>", "--duration <time>"]) assert.ok(run.includes(flag), flag);
    const top = (await runCli(["--help"])).stdout;
    assert.match(top, /validate <file>/);
    const schema = (await runCli(["schema", "--help"])).stdout;
    assert.match(schema, /--scenario/);
    assert.match(schema, /--truth/);
  });
});
