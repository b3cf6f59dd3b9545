/**
 * `wfsim run --delivery` and a scenario's delivery section from the command line: refused input in one
 * line, faults in the file and the truth file, and `wfsim analyze --truth` setting what its stream
 * checks found against what was injected.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../helpers/cli.ts";

const RUN = ["run", "--clock", "virtual", "--start-time", "0", "--samples", "5", "-o", "/dev/null"];

/** Each row: the delivery flag's value, then what the single stderr line must say. */
const BAD_DELIVERY: [string, RegExp][] = [
  ["{drop: {prob: 1.5}}", /^wfsim: --delivery:1:15: drop\.prob: expected a number from 0 to 1, got 1\.5$/],
  ["{skew: {prob: -0.1, offset: 1s}}", /^wfsim: --delivery:1:15: skew\.prob: expected a number from 0 to 1, got -0\.1$/],
  ["{delay: {prob: 0.1, by: -5s}}", /^wfsim: --delivery:1:25: delay\.by: expected a distribution .* or a duration, got "-5s"$/],
  ["{duplicate: {prob: 0.1, after: {dist: normal, mean: -1s, sd: 1s}}}", /^wfsim: --delivery:1:\d+: duplicate\.after\.mean: expected a duration .*, got "-1s"$/],
  ["{skew: {prob: 0.1, offset: {dist: uniform, min: -2s, max: 2s}}}", /^wfsim: --delivery:1:\d+: skew\.offset\.min: expected a duration/],
  ["{drop: {prob: 0.6}, corrupt: {prob: 0.5}}", /^wfsim: --delivery:1:37: corrupt\.prob: expected the probabilities of drop, corrupt to add up to at most 1 .*, got 1\.1$/],
  ["{delay: {prob: 0.1}}", /^wfsim: --delivery:1:9: delay: missing by/],
  ["{drop: {prob: 0.1, workflows: [checkout]}}", /^wfsim: --delivery:1:\d+: drop\.workflows: expected no workflows filter/],
  ["{drop: {prob: 0.1, types: [step_opened]}}", /^wfsim: --delivery:1:\d+: drop\.types\[0\]: expected an event type/],
  ["{corrupt: {prob: 0.1, as: garbage}}", /^wfsim: --delivery:1:\d+: corrupt\.as: expected/],
  ["{teleport: {prob: 0.1}}", /^wfsim: --delivery:1:2: teleport: unknown key "teleport"/],
  ["/no/such/delivery.yaml", /^wfsim: --delivery \/no\/such\/delivery\.yaml: cannot read the delivery section \(no such file or directory\)$/],
  ["", /^wfsim: --delivery must be a file holding a delivery section or the section inline/],
  ["[]", /^wfsim: --delivery:1:1: expected an object, got an empty list$/],
  ["{drop: {prob: 0.1, records: [OrderPlaced]}}", /^wfsim: --delivery:1:\d+: drop\.records: expected no records filter: records are the record types of a scenario's output section, and a run without a scenario has none$/],
];

describe("wfsim run --delivery", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "wfsim-delivery-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  for (const [value, message] of BAD_DELIVERY) {
    it(`refuses ${JSON.stringify(value)} in one line, exit 2`, async () => {
      const result = await runCli([...RUN, "--delivery", value]);
      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.stderr.split("\n").filter((line) => line !== "").length, 1, result.stderr);
      assert.match(result.stderr.trim(), message);
    });
  }

  it("refuses a scenario's delivery section with its file, line and column, and a workflow it does not have", async () => {
    const scenario = join(dir, "bad.yaml");
    await writeFile(scenario, "workflows:\n  - name: checkout\n    steps: [cart, pay]\ndelivery:\n  drop: { prob: 0.1, workflows: [chekout] }\n");
    const result = await runCli([...RUN, "--scenario", scenario]);
    assert.equal(result.code, 2);
    assert.match(result.stderr.trim(), new RegExp(`^wfsim: ${scenario}:5:34: delivery\\.drop\\.workflows\\[0\\]: expected one of the scenario's workflows \\(checkout\\), got "chekout" \\(did you mean "checkout"\\?\\)$`));
  });

  it("takes the section from a file as from the scenario; analyze --truth sets found against injected per kind", async () => {
    const scenario = join(dir, "faulty.yaml");
    await writeFile(
      scenario,
      [
        "seed: 3",
        "start_time: 0",
        "load: { model: closed, concurrency: 30, samples: 3000 }",
        "workflows:",
        "  - name: checkout",
        "    pre: { dist: uniform, min: 10ms, max: 500ms }",
        "    steps: [cart, pay, ship]",
        "delivery:",
        "  drop: { prob: 0.01 }",
        "  duplicate: { prob: 0.01, after: 2s }",
        "  delay: { prob: 0.01, by: { dist: uniform, min: 1s, max: 5s } }",
        "  skew: { prob: 0.01, offset: 30s, direction: behind }",
        "  corrupt: { prob: 0.01 }",
        "",
      ].join("\n"),
    );
    const events = join(dir, "events.jsonl");
    const truth = join(dir, "truth.jsonl");
    const ran = await runCli(["run", "--clock", "virtual", "--scenario", scenario, "-o", events, "--truth", truth]);
    assert.equal(ran.code, 0, ran.stderr);
    assert.match(ran.stderr, /delivery faults: \d+ dropped, \d+ duplicated, \d+ delayed, \d+ corrupted records, \d+ skewed transactions/);
    // The same section given with --delivery, from a file: the same bytes.
    const section = join(dir, "delivery.yaml");
    await writeFile(section, (await readFile(scenario, "utf8")).split("delivery:\n")[1]!.replace(/^ {2}/gm, ""));
    const events2 = join(dir, "events2.jsonl");
    const truth2 = join(dir, "truth2.jsonl");
    const again = await runCli(["run", "--clock", "virtual", "--scenario", scenario, "--delivery", section, "-o", events2, "--truth", truth2]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(await readFile(events2, "utf8"), await readFile(events, "utf8"));
    assert.equal(await readFile(truth2, "utf8"), await readFile(truth, "utf8"));

    const faults = (await readFile(truth, "utf8")).split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as { kind: string; type: string; offset_ms?: number; due_ms: number });
    const injected = (kind: string) => faults.filter((f) => f.kind === kind).length;
    for (const kind of ["drop", "duplicate", "delay", "skew", "corrupt"]) assert.ok(injected(kind) > 0, kind);
    // Behind by 30 s, but never before the epoch (the run starts at 0).
    assert.ok(faults.filter((f) => f.kind === "skew").every((f) => f.offset_ms === Math.max(-30_000, -f.due_ms)));

    const analyzed = await runCli(["analyze", events, "--truth", truth, "--format", "json"]);
    assert.equal(analyzed.code, 0, analyzed.stderr);
    const report = JSON.parse(analyzed.stdout) as {
      delivery_faults: Record<string, { injected: number; found: number | null; checks: string[] }> & { ends_lost: number; records_lost: number };
      invalid_lines: number;
      violations: Record<string, { count: number }>;
      transactions: { total: number; open: number };
    };
    const d = report.delivery_faults;
    for (const kind of ["drop", "duplicate", "delay", "skew", "corrupt"]) assert.equal(d[kind]!.injected, injected(kind), kind);
    // Every copy is a duplicate to the checks, every malformed record an invalid line.
    assert.equal(d.duplicate!.found, injected("duplicate"));
    assert.equal(d.corrupt!.found, injected("corrupt"));
    assert.equal(report.invalid_lines, injected("corrupt"));
    assert.equal(d.skew!.found, null);
    // A delayed record arrives after a later one of its transaction, unless it was its last.
    assert.ok(d.delay!.found! > 0 && d.delay!.found! <= injected("delay"));
    // Transactions whose ending record was lost ended all the same: none is left open or never closed.
    const endsLost = new Set(
      faults.filter((f) => (f.kind === "drop" || f.kind === "corrupt") && /^transaction_(close|failed|aborted)$/.test(f.type)).map((f) => JSON.stringify(f)),
    ).size;
    assert.equal(d.ends_lost, endsLost);
    assert.equal(d.records_lost, injected("drop") + injected("corrupt"));
    assert.equal(report.violations.never_closed!.count, 0);
    assert.equal(report.transactions.open, 0);
    assert.equal(report.transactions.total, 3000);

    // The text's drop row sets its findings beside every record lost, corrupted ones included.
    const text = await runCli(["analyze", events, "--truth", truth]);
    const lost = injected("drop") + injected("corrupt");
    const dropRow = text.stdout.split("\n").find((line) => line.trimStart().startsWith("drop "));
    assert.match(dropRow ?? "", new RegExp(` ${injected("drop").toLocaleString("en-US")} injected \\(with corrupt's, ${lost.toLocaleString("en-US")} records lost\\), ${d.drop!.found!.toLocaleString("en-US")} found `));
    });

  it("a blind stream's transaction whose open was lost misses no inter_step_wait (a blind stream has none)", async () => {
    const events = join(dir, "blind.jsonl");
    const truth = join(dir, "blind-truth.jsonl");
    const ran = await runCli(["run", "--clock", "virtual", "--start-time", "0", "--samples", "3", "--concurrency", "1", "--seed", "4", "-o", events, "--truth", truth]);
    assert.equal(ran.code, 0, ran.stderr);
    // The second transaction's open lost on the way, as a drop fault records it.
    const lines = (await readFile(events, "utf8")).split("\n").filter((l) => l !== "");
    const opens = lines.filter((l) => l.includes('"transaction_open"'));
    const open = JSON.parse(opens[1]!) as { txn_id: string; ts_ms: number; steps_planned?: number };
    assert.ok(open.steps_planned !== undefined, "a run with --truth writes a blind stream");
    await writeFile(events, lines.filter((l) => l !== opens[1]).join("\n") + "\n");
    const drop = { kind: "drop", txn_id: open.txn_id, type: "transaction_open", seq: 0, ts_ms: open.ts_ms, due_ms: open.ts_ms };
    await writeFile(truth, (await readFile(truth, "utf8")) + JSON.stringify(drop) + "\n");
    const analyzed = await runCli(["analyze", events, "--truth", truth, "--format", "json"]);
    assert.equal(analyzed.code, 0, analyzed.stderr);
    const report = JSON.parse(analyzed.stdout) as { violations: Record<string, { count: number; examples: { detail: string }[] }> };
    assert.equal(report.violations.close_without_open!.count, 1);
    assert.equal(report.violations.missing_steps!.count, 0, JSON.stringify(report.violations.missing_steps!.examples));
});
});
