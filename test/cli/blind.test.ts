/**
 * Blind streams (`wfsim run --blind`, implied by `--truth`): nothing in the stream announces a wait
 * before it ends, so a detector cannot read the answers off it. A blind run is the full run with those
 * fields and events taken out (and steps_planned put in): the same transactions at the same times.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parseLines, runCli } from "../helpers/cli.ts";
import { eventValidator } from "../helpers/events.ts";

/** What a blind stream leaves out: every field whose value is a wait that has not ended, and the labels. */
const ANNOUNCING = ["planned_wait_ms", "pre_delay_ms", "work_ms", "backoff_ms", "outlier_injected", "stuck"];
const VIRTUAL = ["--clock", "virtual", "--start-time", "2026-01-01T00:00:00Z", "--quiet"];
const SCENARIOS = ["seed", "checkout", "onboarding", "flash-sale", "nightly-batch"];

let dir = "";
before(async () => (dir = await mkdtemp(join(tmpdir(), "wfsim-blind-"))));
after(() => rm(dir, { recursive: true, force: true }));

type Event = Record<string, unknown>;

/** The full stream as a blind one must be: announcing events and fields out, steps_planned on opens. */
function blinded(events: readonly Event[], stepsOf: (open: Event) => number): Event[] {
  return events
    .filter((event) => event.type !== "inter_step_wait")
    .map((event) => {
      const kept: Event = {};
      for (const [key, value] of Object.entries(event)) if (!ANNOUNCING.includes(key)) kept[key] = value;
      if (event.type === "transaction_open") {
        // steps_planned goes after workflow (and meta), where the schema puts it.
        return { ...kept, steps_planned: stepsOf(event) };
      }
      return kept;
    });
}

async function run(args: readonly string[]): Promise<Event[]> {
  const result = await runCli(["run", ...args, ...VIRTUAL], { timeoutMs: 120_000 });
  assert.equal(result.code, 0, result.stderr);
  return parseLines(result.stdout) as Event[];
}

describe("wfsim run --blind", () => {
  it("leaves out what announces a wait, and otherwise writes the full run's events: flags", async () => {
    const args = ["--samples", "500", "--steps", "4", "--outlier-prob", "0.1"];
    const [full, blind] = await Promise.all([run(args), run([...args, "--blind"])]);
    assert.deepEqual(blind, blinded(full, () => 4));
  });

  for (const name of SCENARIOS) {
    it(`leaves out what announces a wait, and otherwise writes the full run's events: examples/${name}.yaml`, async () => {
      const args = ["--scenario", `examples/${name}.yaml`, "--samples", "600"];
      const [full, blind] = await Promise.all([run(args), run([...args, "--blind"])]);
      for (const event of blind) {
        assert.ok(eventValidator.Check(event), JSON.stringify(event));
        for (const field of ANNOUNCING) assert.equal(field in event, false, `${field} in ${JSON.stringify(event)}`);
        assert.notEqual(event.type, "inter_step_wait");
      }
      // Each transaction's planned steps: as many as its workflow has (a closed one did them all).
      const planned = new Map(blind.filter((e) => e.type === "transaction_open").map((e) => [e.txn_id, e.steps_planned as number]));
      for (const close of blind.filter((e) => e.type === "transaction_close")) assert.equal(close.steps, planned.get(close.txn_id));
      const stepsByWorkflow = new Map<unknown, number>();
      for (const [id, steps] of planned) {
        const workflow = blind.find((e) => e.txn_id === id)!.workflow;
        assert.equal(stepsByWorkflow.get(workflow) ?? steps, steps, `every ${String(workflow)} transaction has the same steps`);
        stepsByWorkflow.set(workflow, steps);
      }
      assert.deepEqual(blind, blinded(full, (open) => planned.get(open.txn_id)!));
    });
  }

  it("is implied by --truth, unless --no-blind; the truth file is the same either way", async () => {
    const args = ["--scenario", "examples/onboarding.yaml", "--samples", "800"];
    const [withTruth, explicit, notBlind, full] = await Promise.all([
      run([...args, "--truth", join(dir, "a.jsonl")]),
      run([...args, "--truth", join(dir, "b.jsonl"), "--blind"]),
      run([...args, "--truth", join(dir, "c.jsonl"), "--no-blind"]),
      run(args),
    ]);
    assert.deepEqual(withTruth, explicit);
    assert.ok(withTruth.every((e) => e.type !== "inter_step_wait" && !("pre_delay_ms" in e)));
    // --no-blind: the full events, less the inline labels (they are in the truth file).
    assert.deepEqual(notBlind, full.map(({ outlier_injected: _o, stuck: _s, ...rest }) => rest));
    const [a, c] = await Promise.all([readFile(join(dir, "a.jsonl"), "utf8"), readFile(join(dir, "c.jsonl"), "utf8")]);
    assert.equal(a, c);
    assert.ok(a.includes('"kind":"stuck"') && a.includes('"kind":"outlier"'));
  });

  it("is analysed with its truth file as the full stream is: no stream faults, the same gaps and labels", async () => {
    const truth = join(dir, "truth.jsonl");
    const full = join(dir, "full.jsonl");
    const blind = join(dir, "blind.jsonl");
    const args = ["run", "--scenario", "examples/checkout.yaml", "--samples", "3000", ...VIRTUAL];
    const [a, b] = await Promise.all([runCli([...args, "--truth", truth, "--no-blind"]), runCli([...args, "--truth", join(dir, "truth2.jsonl")])]);
    await writeFile(full, a.stdout);
    await writeFile(blind, b.stdout);
    const [fromFull, fromBlind] = await Promise.all(
      [full, blind].map(async (file) => JSON.parse((await runCli(["analyze", file, "--truth", truth, "--format", "json"])).stdout)),
    );
    for (const [kind, found] of Object.entries(fromBlind.violations)) assert.equal((found as { count: number }).count, 0, kind);
    assert.deepEqual(fromBlind.gap_ms, fromFull.gap_ms);
    assert.deepEqual(fromBlind.duration_ms, fromFull.duration_ms);
    assert.deepEqual(fromBlind.transactions, fromFull.transactions);
    assert.deepEqual(fromBlind.outliers, fromFull.outliers);
    // The full stream's waits carry no labels (they are in the truth file); the blind one has no waits.
    assert.deepEqual({ ...fromBlind.ground_truth, unlabelled_waits: 0 }, { ...fromFull.ground_truth, unlabelled_waits: 0 });
    assert.equal(fromBlind.pre_delay_ms.count, 0, "a blind stream has no pre-step delays to show");
  });
});
