import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseScenario } from "../../src/config/scenario/load.ts";
import { isWfsimError } from "../../src/errors.ts";

/** A valid workflow list to append to scenarios that break something else. */
const OK = "workflows: [ { name: w, steps: [a] } ]";

/**
 * Broken scenarios and the exact message each gets: the file, the line and column of the value at
 * fault, its path, what was expected and what was found.
 */
const BROKEN: [name: string, text: string, message: string][] = [
  [
    "a word where a distribution goes",
    "workflows:\n  - name: a\n    steps: [x]\n  - name: b\n    steps:\n      - x\n      - y\n      - name: z\n        work: fast\n",
    's.yaml:9:15: workflows[1].steps[2].work: expected a distribution (constant, uniform, normal, lognormal, exponential, empirical) or a duration, got "fast"',
  ],
  [
    "a misspelt key",
    "workflows:\n  - name: a\n    steps:\n      - name: x\n        wrok: 5\n",
    's.yaml:5:9: workflows[0].steps[0].wrok: unknown key "wrok" (did you mean "work"?)',
  ],
  ["a misspelt top-level key", "workflow: []\n", 's.yaml:1:1: workflow: unknown key "workflow" (did you mean "workflows"?)'],
  ["an unknown key with nothing close", `${OK}\ncolour: red\n`, 's.yaml:2:1: colour: unknown key "colour"'],
  [
    "a misspelt distribution",
    "workflows:\n  - name: a\n    pre: { dist: unifrom, min: 1, max: 2 }\n    steps: [x]\n",
    's.yaml:3:18: workflows[0].pre.dist: expected one of constant, uniform, normal, lognormal, exponential, empirical, got "unifrom" (did you mean "uniform"?)',
  ],
  [
    "a distribution without dist",
    "workflows:\n  - name: a\n    pre: { min: 1, max: 2 }\n    steps: [x]\n",
    "s.yaml:3:10: workflows[0].pre: missing dist (one of constant, uniform, normal, lognormal, exponential, empirical)",
  ],
  [
    "uniform min above max",
    "workflows:\n  - name: a\n    pre: { dist: uniform, min: 2s, max: 100ms }\n    steps: [x]\n",
    's.yaml:3:41: workflows[0].pre.max: expected at least min (2s), got "100ms"',
  ],
  [
    "an empty empirical list",
    "workflows:\n  - name: a\n    work: { dist: empirical, values: [] }\n    steps: [x]\n",
    "s.yaml:3:38: workflows[0].work.values: expected a non-empty list of durations, got an empty list",
  ],
  [
    "a fractional constant",
    "workflows:\n  - name: a\n    work: 1.5ms\n    steps: [x]\n",
    's.yaml:3:11: workflows[0].work: expected a whole number of milliseconds, got "1.5ms"',
  ],
  [
    "a negative duration",
    "workflows:\n  - name: a\n    inter: -5\n    steps: [x]\n",
    "s.yaml:3:12: workflows[0].inter: expected a distribution (constant, uniform, normal, lognormal, exponential, empirical) or a duration, got -5",
  ],
  [
    "a lognormal without spread",
    "workflows:\n  - name: a\n    work: { dist: lognormal, median: 100ms }\n    steps: [x]\n",
    "s.yaml:3:11: workflows[0].work: missing sigma or p99 (the spread of a lognormal)",
  ],
  [
    "a lognormal p99 below its median",
    "workflows:\n  - name: a\n    work: { dist: lognormal, median: 1s, p99: 500ms }\n    steps: [x]\n",
    's.yaml:3:47: workflows[0].work.p99: expected more than the median (1s), got "500ms"',
  ],
  [
    "a zero weight",
    "workflows:\n  - name: a\n    weight: 0\n    steps: [x]\n",
    "s.yaml:3:13: workflows[0].weight: expected a number greater than 0, got 0",
  ],
  ["no workflows", "name: empty\nworkflows: []\n", "s.yaml:2:12: workflows: expected a non-empty list of workflows, got an empty list"],
  ["workflows missing", "name: empty\n", 's.yaml:1:1: missing workflows (a non-empty list of workflows)'],
  ["an empty file", "", "s.yaml: expected a scenario (an object with workflows), got an empty file"],
  ["a list instead of an object", "- a\n- b\n", "s.yaml:1:1: expected an object, got a list"],
  ["a step without a name", "workflows:\n  - name: a\n    steps: [ { work: 5 } ]\n", "s.yaml:3:14: workflows[0].steps[0]: missing name (a non-empty string)"],
  [
    "a step given as a number",
    "workflows:\n  - name: a\n    steps: [ 5 ]\n",
    "s.yaml:3:14: workflows[0].steps[0]: expected a step: a name, or an object with a name, got 5",
  ],
  [
    "two steps of one name",
    "workflows:\n  - name: a\n    steps: [x, y, x]\n",
    's.yaml:3:19: workflows[0].steps[2]: expected a step name not used by steps[0], got "x"',
  ],
  [
    "two workflows of one name",
    "workflows:\n  - { name: a, steps: [x] }\n  - { name: a, steps: [y] }\n",
    's.yaml:3:13: workflows[1].name: expected a workflow name not used by workflows[0], got "a"',
  ],
  [
    "a probability above 1",
    "workflows:\n  - name: a\n    outlier: { prob: 1.5, extra: 10s }\n    steps: [x, y]\n",
    "s.yaml:3:22: workflows[0].outlier.prob: expected a number from 0 to 1, got 1.5",
  ],
  [
    "an outlier without its size",
    "workflows:\n  - name: a\n    outlier: { prob: 0.1 }\n    steps: [x, y]\n",
    "s.yaml:3:14: workflows[0].outlier: missing extra (a distribution (constant, uniform, normal, lognormal, exponential, empirical) or a duration)",
  ],
  [
    "negative retries",
    "workflows:\n  - name: a\n    failure: { prob: 0.1, retries: -1 }\n    steps: [x]\n",
    "s.yaml:3:36: workflows[0].failure.retries: expected a whole number from 0 to 1000, got -1",
  ],
  [
    "stuck at a step that does not exist",
    "workflows:\n  - name: a\n    stuck: { prob: 0.1, at: pament }\n    steps: [cart, payment]\n",
    's.yaml:3:29: workflows[0].stuck.at: expected one of the workflow\'s steps (cart, payment), got "pament" (did you mean "payment"?)',
  ],
  [
    "an unknown load model",
    `load: { model: opne, rate: 5 }\n${OK}\n`,
    's.yaml:1:16: load.model: expected one of closed, open, got "opne" (did you mean "open"?)',
  ],
  ["an open model without a rate", `load: { model: open }\n${OK}\n`, "s.yaml:1:7: load: missing rate (arrivals per second) or stages"],
  ["a rate of 0 throughout", `load: { model: open, rate: 0 }\n${OK}\n`, "s.yaml:1:28: load.rate: expected an arrival rate above 0 at some point, got 0 throughout"],
  [
    "a ramp of no length",
    `load: { model: open, rate: 1, stages: [ { to: 5, over: 0s } ] }\n${OK}\n`,
    's.yaml:1:56: load.stages[0].over: expected a duration greater than 0, got "0s"',
  ],
  [
    "a stage that is neither ramp nor hold",
    `load: { model: open, rate: 1, stages: [ { to: 5 } ] }\n${OK}\n`,
    "s.yaml:1:41: load.stages[0]: expected { to: RATE, over: DURATION } or { hold: DURATION }, got { to }",
  ],
  [
    "a closed-model key on the open model",
    `load: { model: open, rate: 5, concurrency: 3 }\n${OK}\n`,
    's.yaml:1:31: load.concurrency: unknown key "concurrency"',
  ],
  ["zero samples", `load: { model: closed, samples: 0 }\n${OK}\n`, "s.yaml:1:33: load.samples: expected a whole number of at least 1, or unlimited, got 0"],
  ["a duration that is not one", `load: { model: closed, duration: soon }\n${OK}\n`, 's.yaml:1:34: load.duration: expected a duration such as 250ms, 1.5s, 10m, 2h, or a number of milliseconds, got "soon"'],
  ["an unknown time zone", `timezone: Mars/Olympus\n${OK}\n`, 's.yaml:1:11: timezone: expected an IANA time zone name such as Europe/Berlin or UTC, got "Mars/Olympus"'],
  ["bad YAML", "workflows:\n  - name: a\n   steps: [x]\n", "s.yaml:3:1: not valid YAML or JSON: Sequence item without - indicator"],
  ["a duplicate key", "workflows: []\nworkflows: []\n", "s.yaml:2:1: not valid YAML or JSON: Map keys must be unique"],
  [
    "bad JSON",
    '{"workflows": [ {"name": "a", "steps": ["x"],} ]',
    "s.yaml:1:49: not valid YAML or JSON: Flow map must end with a }",
  ],
  [
    "a JSON scenario with a bad value",
    '{\n  "workflows": [\n    { "name": "a", "steps": ["x"], "pre": {"dist": "normal", "mean": "fast", "sd": 1} }\n  ]\n}',
    's.yaml:3:70: workflows[0].pre.mean: expected a duration such as 250ms, 1.5s, 10m, 2h, or a number of milliseconds, got "fast"',
  ],
];

describe("broken scenarios", () => {
  for (const [name, text, message] of BROKEN) {
    it(name, () => {
      assert.throws(
        () => parseScenario(text, "s.yaml"),
        (error: unknown) => {
          assert.ok(isWfsimError(error), String(error));
          assert.equal(error.code, "SCENARIO");
          assert.ok(error.isUserError);
          assert.equal(error.message, message);
          return true;
        },
      );
    });
  }
});
