/**
 * Bad input is counted and located, never fatal. And the fast path never concludes anything the
 * strict path (JSON.parse + schema check) would not: a fuzz test mutates valid lines and compares.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { analyze } from "../../../src/analyze/analyze.ts";
import { checkEvent } from "../../../src/analyze/read/event-fields.ts";
import type { EventSource } from "../../../src/analyze/read/source.ts";
import { MAX_LINE_BYTES } from "../../../src/analyze/read/line-scanner.ts";
import { analyzeText, byTime, compact, ev, spaced, transaction } from "../helpers.ts";

describe("analyze: malformed input", () => {
  it("counts each bad line with its number and reason", async () => {
    const lines = [
      JSON.stringify(ev.open("x", 0)), // 1 fine
      '{"type":"step_open","txn_id":"x","step":"2","ts_ms":1,"pre_delay_ms":1}', // 2
      '{"type":"step_open","txn_id":"x","step":0,"ts_ms":1,"pre_delay_ms":1}', // 3
      '{"type":"step_done","txn_id":"x","step":1,"ts_ms":1.5}', // 4
      '{"type":"step_done","txn_id":"","step":1,"ts_ms":1}', // 5
      '{"type":"step_open","txn_id":"x","ts_ms":1,"pre_delay_ms":1}', // 6 (pre_delay_ms may be absent: a blind stream's)
      '{"type": "step_open", "txn_id": ', // 7
      "[1,2]", // 8
      '{"txn_id":"x"}', // 9
      '{"type":5}', // 10
      "", // 11 blank: skipped, not invalid
      '{"type":"step_done","txn_id":"x","step":1,"ts_ms":12345678901234567890}', // 12
      '{"type":"inter_step_wait","txn_id":"x","from_step":1,"to_step":2,"planned_wait_ms":-3,"outlier_injected":false,"ts_ms":1}', // 13
      '{"type":"inter_step_wait","txn_id":"x","from_step":1,"to_step":2,"planned_wait_ms":3,"outlier_injected":"no","ts_ms":1}', // 14
      '{"type":"transaction_open","txn_id":"y","ts_ms":0,"meta":"txn_5ssb48xg97dk"}', // 15
    ];
    const report = await analyzeText(`${lines.join("\n")}\n`);
    assert.equal(report.events, 1);
    assert.equal(report.invalid_lines, 13);
    assert.deepEqual(
      report.invalid_examples.map((e) => [e.line, e.reason]),
      [
        [2, 'step_open: step must be a whole number, got "2"'],
        [3, "step_open: step must be at least 1, got 0"],
        [4, "step_done: ts_ms must be a whole number, got 1.5"],
        [5, "step_done: txn_id must not be empty"],
        [6, "step_open: step is missing"],
        [7, `not valid JSON (${jsonError('{"type": "step_open", "txn_id": ')})`],
        [8, "not a JSON object, got an array"],
        [9, "type is missing"],
        [10, "type must be a string, got 5"],
        [12, "step_done: ts_ms must be a whole number, got 12345678901234567000"],
      ],
    );
  });

  it("calls an unterminated bad last line truncated, and accepts a good one", async () => {
    const good = compact(transaction("a", 0, [5], []));
    const truncated = await analyzeText(`${good}{"type":"step_done","txn_id":"a","st`);
    assert.equal(truncated.invalid_lines, 1);
    assert.equal(truncated.invalid_examples[0]?.line, 5);
    assert.match(truncated.invalid_examples[0]!.reason, /^last line has no newline \(truncated\?\): not valid JSON/);
    const unterminated = await analyzeText(good.trimEnd());
    assert.equal(unterminated.invalid_lines, 0);
    assert.equal(unterminated.transactions.completed, 1);
  });

  it("skips a byte order mark before the first line of each source, in events and in alerts", async () => {
    const bom = "\uFEFF";
    const events = compact(transaction("a", 0, [5, 5], [5000], [true]));
    const sources = [1, 2].map((n): EventSource => ({ name: `part${n}`, async *chunks() { yield Buffer.from(bom + (n === 1 ? events : "")); } }));
    const report = await analyze(sources, { alerts: { name: "alerts", async *chunks() { yield Buffer.from(`${bom}{"txn_id":"a","ts_ms":20}\n`); } } });
    assert.equal(report.invalid_lines, 0);
    assert.equal(report.transactions.completed, 1);
    assert.equal(report.alerts?.invalid_lines, 0);
    assert.equal(report.alerts?.true_positives, 1);
    // Anywhere else it is a character like any other: not valid JSON.
    const inside = await analyzeText(`${events}${bom}${compact([ev.open("b", 9)])}`);
    assert.equal(inside.invalid_lines, 1);
  });

  it("tolerates unknown event types and extra fields, counting them", async () => {
    const text =
      compact([{ ...ev.open("a", 0), region: "eu-west" }, ev.stepOpen("a", 1, 1, 1), ev.stepDone("a", 1, 1)]) +
      `${JSON.stringify({ type: "step_paused", txn_id: "a", step: 1, ts_ms: 2 })}\n` +
      `${JSON.stringify({ ...ev.close("a", 3, 3, 1), step_name: "pay", stuck: false })}\n`;
    const report = await analyzeText(text);
    assert.equal(report.events, 4);
    assert.equal(report.unknown_type_events, 1);
    assert.equal(report.events_by_type.step_paused, 1);
    assert.equal(report.events_with_extra_fields, 2);
    assert.equal(report.invalid_lines, 0);
    assert.deepEqual(report.transactions, { total: 1, completed: 1, aborted: 0, failed: 0, open: 0, stuck: 0 });
  });

  it("skips a line longer than the limit without keeping it, however the chunks fall", async () => {
    const huge = `{"type":"step_done","txn_id":"${"x".repeat(MAX_LINE_BYTES + 10)}","step":1,"ts_ms":1}\n`;
    const bytes = Buffer.from(`${huge}${compact(transaction("a", 0, [5], []))}`);
    for (const size of [bytes.length, 65_536, 1000]) {
      const source: EventSource = {
        name: "test.jsonl",
        async *chunks() {
          for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
        },
      };
      const report = await analyze(source);
      assert.equal(report.invalid_lines, 1);
      assert.deepEqual(report.invalid_examples[0], { source: "test.jsonl", line: 1, reason: `line longer than ${MAX_LINE_BYTES} bytes, skipped` });
      assert.equal(report.events, 4, `chunks of ${size} bytes`);
    }
  });

  it("reads ids with escapes and non-ASCII characters as the same transaction", async () => {
    const id = "txn_é\"ü";
    const text = compact(transaction(id, 0, [5, 5], [5])).replace('"txn_é\\"ü"', '"txn_\\u00e9\\"ü"');
    const report = await analyzeText(text);
    assert.deepEqual(report.transactions, { total: 1, completed: 1, aborted: 0, failed: 0, open: 0, stuck: 0 });
    assert.equal(report.violations.close_without_open.count, 0);
  });

  it("agrees with JSON.parse and the schema on thousands of mutated lines (fast path ≡ strict path)", async () => {
    const base = byTime(
      transaction("txn_a", 0, [10, 20, 30], [40, 50], [false, true]),
      transaction("txn_b", 5, [1, 2], [3]),
    );
    const valid = [...compact(base).split("\n"), ...spaced(base).split("\n")].filter((line) => line !== "");
    let seed = 12345;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const alphabet = '{}[]":,. -+0123456789eEtruefalsn\\\tab_xyzé';
    const mutated: string[] = [];
    for (let i = 0; i < 5000; i++) {
      let line = valid[Math.floor(next() * valid.length)]!;
      const edits = 1 + Math.floor(next() * 3);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(next() * line.length);
        const char = alphabet[Math.floor(next() * alphabet.length)]!;
        const op = next();
        line = op < 0.4 ? line.slice(0, at) + char + line.slice(at + 1) : op < 0.7 ? line.slice(0, at) + char + line.slice(at) : line.slice(0, at) + line.slice(at + 1);
      }
      mutated.push(line.replace(/\n/g, ""));
    }
    let events = 0;
    let invalid = 0;
    let unknown = 0;
    for (const line of mutated) {
      if (line.trim() === "") continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        invalid++;
        continue;
      }
      const checked = checkEvent(value);
      if (checked.kind === "event") events++;
      else if (checked.kind === "invalid") invalid++;
      else unknown++;
    }
    const report = await analyzeText(`${mutated.join("\n")}\n`);
    assert.equal(report.events, events);
    assert.equal(report.invalid_lines, invalid);
    assert.equal(report.unknown_type_events, unknown);
    assert.ok(events > 100 && invalid > 1000, `the mutations should give both kinds (${events} events, ${invalid} invalid)`);
  });
});

function jsonError(text: string): string {
  try {
    JSON.parse(text);
  } catch (error) {
    return (error as Error).message;
  }
  return "";
}
