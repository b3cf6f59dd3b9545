// The two writers of shaped records, the WebAssembly line writer (files, stdout) and the compiled
// JavaScript serializers (Kafka values, --routing), write the same bytes for every record, on a shape
// that uses every kind of value, and analyze reads a shape with inline labels back into the report of
// the same run without its output section.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createShaper, createSimulation } from "../../src/api/simulate.ts";
import { parseScenario } from "../../src/config/scenario/load.ts";
import { resolveSimOptions } from "../../src/config/sim-options.ts";
import type { EventSink } from "../../src/engine/simulation.ts";
import type { WfEvent } from "../../src/events/schema.ts";
import { serializeEvent } from "../../src/events/serialize.ts";
import { ShapedJsLines } from "../../src/sinks/shaped/js-lines.ts";
import { ShapedPlans } from "../../src/sinks/shaped/plans.ts";
import { shapedLineProgram, ShapedWasmLines } from "../../src/sinks/shaped/wasm-lines.ts";
import { analyze } from "../../src/analyze/analyze.ts";
import { textSource } from "../../src/analyze/read/source.ts";

const WORKFLOWS = `
timezone: America/St_Johns
start_time: 2026-03-08T05:29:50Z
workflows:
  - name: pay
    weight: 2
    pre: { dist: exponential, mean: 300ms }
    inter: { dist: uniform, min: 10ms, max: 90ms }
    outlier: { prob: 0.05, extra: 20s }
    stuck: { prob: 0.02, at: capture }
    steps:
      - { name: authorize, work: 40ms, failure: { prob: 0.2, reasons: [declined, "time\\"out"], retries: 1, backoff: 300ms } }
      - capture
      - { name: settle, work: { dist: uniform, min: 0, max: 900ms } }
  - name: refund
    steps: [request, "payout ünïcode"]
`;

const EVERYTHING = `${WORKFLOWS}
output:
  attributes:
    who: { fake: person.fullName, locale: de }
    amount: { dist: normal, mean: 10, sd: 30, round: 3 }
    share: { dist: uniform, min: 0, max: 1 }
    tier: { choice: [1, 2, 3] }
    vip: { chance: 0.5 }
    note: { format: "für {who} «{tier}» \\\\ \\"q\\"" }
    attempt_id: { uuid: v7, per: step }
    event_id: { uuid: v4, per: record }
  fields:
    id: "{txn_id}"
    at: "{time}"
  records:
    Everything:
      at: [transaction_open, step_open, step_done, inter_step_wait, step_failed, step_retry, transaction_close, transaction_failed, transaction_aborted]
      fields:
        seq: "{seq:06}"
        times: ["{time:s}", "{time:iso}", "{time:iso_utc}", "{elapsed_ms}", "{event_seq}"]
        where: { workflow: "{workflow}", step: "{step}", n: "{step_number}", from: "{from_step}", to: "{to_step}" }
        how: { attempt: "{attempt}", reason: "{reason}", pre: "{pre_delay_ms}", work: "{work_ms}", wait: "{planned_wait_ms}", backoff: "{backoff_ms}" }
        end: { duration: "{duration_ms}", steps: "{steps_completed}" }
        truth: { outlier: "{outlier_injected}", stuck: "{stuck}" }
        who: "{who}"
        money: { amount: "{amount}", share: "{share}", tier: "{tier}", vip: "{vip}" }
        note: "{note}"
        text: "{{literal}} {record}/{event} {attempt_id} {event_id}"
        nothing: [null, 1]
        flag: true
`;

/** A run's shaped lines through one writer. */
async function lines(text: string, writer: "wasm" | "js", inlineLabels = true, samples = 400, seed = 3, blind = !inlineLabels): Promise<string> {
  const options = resolveSimOptions({ scenario: parseScenario(text, "s.yaml"), clock: "virtual", samples, seed });
  const shaper = createShaper(options, { inlineLabels, blind })!;
  const plans = new ShapedPlans(shaper);
  const chunks: Buffer[] = [];
  const onChunk = (chunk: Uint8Array) => chunks.push(Buffer.from(chunk));
  const program = shapedLineProgram(plans);
  assert.ok(program !== undefined);
  const out = writer === "wasm" ? new ShapedWasmLines(plans, program, onChunk) : new ShapedJsLines(plans, onChunk);
  const sink: EventSink = { write: (event) => out.write(event), backpressured: false, drain: () => Promise.resolve(), flush: () => out.flush() };
  const labels: unknown[] = [];
  await createSimulation(options, {
    sink,
    shaper,
    blind,
    ...(inlineLabels ? {} : { truth: { write: (r) => labels.push(r), backpressured: false, drain: () => Promise.resolve(), flush: () => {} } }),
  }).run();
  out.flush();
  return Buffer.concat(chunks).toString("utf8");
}

describe("shaped writers", () => {
  it("write the same bytes through WebAssembly as through JavaScript, every kind of value included", async () => {
    // Inline labels; a truth file with the announcing values kept (--no-blind); a blind stream (--truth).
    for (const [inline, blind] of [[true, false], [false, false], [false, true]] as const) {
      const wasm = await lines(EVERYTHING, "wasm", inline, 400, 3, blind);
      const js = await lines(EVERYTHING, "js", inline, 400, 3, blind);
      assert.ok(wasm.length > 100_000);
      assert.equal(wasm, js);
      const records = wasm.trimEnd().split("\n").map((line) => JSON.parse(line) as Record<string, any>);
      // Fields unknown at a moment are left out; inline labels only without a truth file.
      const open = records.find((r) => r.times[4] === 0)!;
      assert.deepEqual(Object.keys(open.how), []);
      assert.equal("stuck" in open.truth, inline);
      // A blind stream leaves out what announces a wait: backoff_ms, work_ms, pre_delay_ms.
      const retry = records.find((r) => r.how.backoff !== undefined);
      assert.equal(retry?.how.backoff, blind ? undefined : 300);
      assert.equal(records.some((r) => "work" in r.how), !blind);
      assert.ok(records.some((r) => r.where.step === "payout ünïcode"));
      assert.ok(records.some((r) => r.how.reason === 'time"out'));
      assert.equal(open.note, `für ${open.who} «${open.money.tier}» \\ "q"`);
      // St. John's: UTC-3:30, and -2:30 once summer time begins (2026-03-08 at 05:30 UTC).
      assert.ok(records.some((r) => r.times[1].endsWith("-03:30")) && records.some((r) => r.times[1].endsWith("-02:30")));
      for (const r of records) {
        assert.equal(Date.parse(r.times[1]), r.at);
        assert.equal(r.times[2], new Date(r.at).toISOString());
        assert.equal(r.times[0], Math.floor(r.at / 1000));
      }
    }
  });

  it("write ISO-8601 times before 1970 in local time the same through both (the WebAssembly writer keeps the last second's text)", async () => {
    // At the epoch, St. John's local time is 1969-12-31T20:30-03:30: negative local milliseconds.
    const text = EVERYTHING.replace("start_time: 2026-03-08T05:29:50Z", "start_time: 1970-01-01T00:00:00Z");
    const wasm = await lines(text, "wasm", true, 200);
    assert.equal(wasm, await lines(text, "js", true, 200));
    const records = wasm.trimEnd().split("\n").map((line) => JSON.parse(line) as Record<string, any>);
    assert.ok(records.some((r) => r.times[1].startsWith("1969-12-31T20:3")));
    for (const r of records) assert.equal(Date.parse(r.times[1]), r.at);
  });
});

describe("analyze --scenario", () => {
  it("reads records that carry the inline labels into the same report as wfsim's own events, without a truth file", async () => {
    const shape = `${WORKFLOWS}
output:
  fields: { txn: "{txn_id}", t: "{time:iso_utc}", kind: "{record}" }
  records:
    Open: { at: transaction_open, fields: { stuck: "{stuck}", wf: "{workflow}" } }
    Start: { at: step_open, fields: { step: "{step}", wf: "{workflow}" } }
    Done: { at: step_done, fields: { step: "{step}", wf: "{workflow}" } }
    Wait: { at: inter_step_wait, fields: { after: "{step}", wf: "{workflow}", planned: "{planned_wait_ms}", outlier: "{outlier_injected}" } }
    Failed: { at: step_failed, fields: { step: "{step}", wf: "{workflow}", why: "{reason}" } }
    Aborted: { at: transaction_aborted, fields: { wf: "{workflow}" } }
`;
    const scenario = parseScenario(shape, "s.yaml");
    const own: string[] = [];
    const ownSink: EventSink = { write: (e: WfEvent) => own.push(serializeEvent(e)), backpressured: false, drain: () => Promise.resolve(), flush: () => {} };
    await createSimulation(resolveSimOptions({ scenario: { ...scenario, output: undefined }, clock: "virtual", samples: 2000, seed: 5 }), { sink: ownSink }).run();
    const shaped = await lines(shape, "wasm", true, 2000, 5);
    const fromShaped = await analyze(textSource("shaped", shaped), { scenario });
    const fromOwn = await analyze(textSource("own", own.join("")), {});
    const strip = (report: Record<string, unknown>) => ({ ...report, sources: [] });
    assert.ok(fromOwn.ground_truth.outlier.transactions > 10 && fromOwn.transactions.stuck > 5, JSON.stringify(fromOwn.ground_truth));
    assert.deepEqual(strip(fromShaped as never), strip(fromOwn as never));
  });
});
