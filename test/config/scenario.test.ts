import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Compile } from "typebox/compile";
import { parse as parseYaml } from "yaml";
import { loadScenario, parseScenario } from "../../src/config/scenario/load.ts";
import { scenarioJsonSchema } from "../../src/config/scenario/schema.ts";
import { resolveSimOptions } from "../../src/config/sim-options.ts";
import { formatMs, parseDuration } from "../../src/config/units.ts";
import { WfEvent } from "../../src/events/schema.ts";
import { TruthLineSchema } from "../../src/events/truth.ts";

const EXAMPLES = new URL("../../examples/", import.meta.url).pathname;
const SCHEMA_DIR = new URL("../../schema/", import.meta.url).pathname;
export const EXAMPLE_FILES = readdirSync(EXAMPLES).filter((name) => /\.(ya?ml|json)$/.test(name)).map((name) => join(EXAMPLES, name));

describe("durations", () => {
  it("reads units and plain numbers as milliseconds", () => {
    const cases: [unknown, number | undefined][] = [
      [250, 250],
      ["250", 250],
      ["250ms", 250],
      ["1.5s", 1500],
      [" 10m ", 600_000],
      ["2h", 7_200_000],
      ["1d", 86_400_000],
      [".5s", 500],
      ["0", 0],
      ["-5ms", undefined],
      [-1, undefined],
      ["5 minutes", undefined],
      ["1e3", undefined],
      [Infinity, undefined],
      [null, undefined],
      ["", undefined],
    ];
    for (const [raw, ms] of cases) assert.equal(parseDuration(raw), ms, JSON.stringify(raw));
  });

  it("writes them back in the largest whole unit", () => {
    assert.deepEqual([600_000, 1500, 250, 7_200_000, 0].map(formatMs), ["10m", "1.5s", "250ms", "2h", "0ms"]);
  });
});

describe("a scenario resolved", () => {
  it("turns units into ms, fills in defaults and lets steps override their workflow", () => {
    const scenario = parseScenario(
      [
        "name: shop",
        "seed: 5",
        "load: { model: open, rate: 2, stages: [ { to: 10, over: 1m }, { hold: 30s } ], max_in_flight: 50, duration: 10m }",
        "workflows:",
        "  - name: checkout",
        "    weight: 3",
        "    pre: { dist: uniform, min: 1s, max: 2s }",
        "    failure: { prob: 0.5, retries: 2 }",
        "    outlier: { prob: 0.1, extra: 1m, per: transaction }",
        "    stuck: { prob: 0.2, at: pay }",
        "    steps:",
        "      - cart",
        "      - name: pay",
        "        work: { dist: lognormal, median: 100ms, p99: 1s }",
        "        failure: { prob: 0.1, reasons: [timeout, declined], backoff: { dist: exponential, mean: 200ms }, backoff_factor: 3, max_backoff: 2s }",
        "  - name: refund",
        "    steps: [ask]",
      ].join("\n"),
      "shop.yaml",
    );
    assert.equal(scenario.source, "shop.yaml");
    assert.equal(scenario.seed, 5);
    assert.equal(scenario.durationMs, 600_000);
    assert.equal(scenario.samples, undefined);
    assert.deepEqual(scenario.load, {
      model: "open",
      arrivals: "poisson",
      rate: 2,
      stages: [
        { toRate: 10, durationMs: 60_000 },
        { toRate: 10, durationMs: 30_000 },
      ],
      maxInFlight: 50,
    });
    const [checkout, refund] = scenario.workflows;
    assert.equal(checkout!.weight, 3);
    assert.equal(refund!.weight, 1);
    const [cart, pay] = checkout!.steps;
    assert.deepEqual(cart, {
      name: "cart",
      pre: { kind: "uniform", min: 1000, max: 2000 },
      work: { kind: "constant", value: 0 },
      inter: { kind: "constant", value: 0 },
      failure: { prob: 0.5, reasons: ["error"], retries: 2, backoff: { kind: "constant", value: 1000 }, backoffFactor: 2, maxBackoff: Infinity },
    });
    assert.equal(pay!.work.kind, "lognormal");
    if (pay!.work.kind === "lognormal") {
      assert.ok(Math.abs(Math.exp(pay!.work.mu) - 100) < 1e-9);
      assert.ok(Math.abs(Math.exp(pay!.work.mu + 2.3263478740408408 * pay!.work.sigma) - 1000) < 1e-6, "p99 recovered");
    }
    assert.deepEqual(pay!.failure, {
      prob: 0.1,
      reasons: ["timeout", "declined"],
      retries: 0,
      backoff: { kind: "exponential", mean: 200 },
      backoffFactor: 3,
      maxBackoff: 2000,
    });
    assert.deepEqual(checkout!.outlier, { prob: 0.1, extra: { kind: "constant", value: 60_000 }, per: "transaction" });
    assert.deepEqual(checkout!.stuck, { prob: 0.2, at: 1 });
  });

  it("reads JSON as well as YAML", () => {
    const scenario = parseScenario('{"workflows": [{"name": "a", "steps": ["x", {"name": "y", "work": "5ms"}]}], "load": {"model": "closed", "samples": "unlimited"}}');
    assert.equal(scenario.samples, Infinity);
    assert.deepEqual(scenario.load, { model: "closed", concurrency: undefined });
    assert.deepEqual(scenario.workflows[0]!.steps[1]!.work, { kind: "constant", value: 5 });
  });

  it("shares settings through YAML anchors, aliases and merge keys", () => {
    const scenario = parseScenario(
      [
        "x-defaults: &defaults",
        "  pre: &fast { dist: exponential, mean: 50ms }",
        "  failure: { prob: 0.1 }",
        "workflows:",
        "  - { <<: *defaults, name: a, steps: [x] }",
        "  - { name: b, pre: *fast, steps: [y] }",
      ].join("\n"),
    );
    assert.deepEqual(scenario.workflows.map((w) => w.steps[0]!.pre), [
      { kind: "exponential", mean: 50 },
      { kind: "exponential", mean: 50 },
    ]);
    assert.equal(scenario.workflows[0]!.steps[0]!.failure?.prob, 0.1);
  });

  it("names a missing file", async () => {
    await assert.rejects(loadScenario("/nonexistent/s.yaml"), /^WfsimError: \/nonexistent\/s\.yaml: cannot read the scenario \(no such file or directory\)$/);
  });
});

describe("flags over a scenario", () => {
  const scenario = parseScenario(
    [
      "seed: 9",
      "timezone: UTC",
      "start_time: 2026-01-01T00:00:00Z",
      "load: { model: closed, concurrency: 3, samples: 40 }",
      "workflows:",
      "  - { name: a, steps: [x, y], outlier: { prob: 0.5, extra: 5s, per: transaction } }",
      "  - { name: b, steps: [x] }",
    ].join("\n"),
  );

  it("take the scenario's values when not given", () => {
    const options = resolveSimOptions({ scenario, clock: "virtual" });
    assert.equal(options.seed, 9);
    assert.equal(options.timezone, "UTC");
    assert.equal(options.startTime, Date.parse("2026-01-01T00:00:00Z"));
    assert.equal(options.concurrency, 3);
    assert.equal(options.samples, 40);
    assert.equal(options.duration, undefined);
    assert.equal(options.scenario, scenario);
  });

  it("override them when given", () => {
    const options = resolveSimOptions({ scenario, seed: "1", timezone: "Asia/Tokyo", startTime: "0", concurrency: "8", samples: "7", duration: "1m" });
    assert.deepEqual(
      [options.seed, options.timezone, options.startTime, options.concurrency, options.samples, options.duration],
      [1, "Asia/Tokyo", 0, 8, 7, 60_000],
    );
  });

  it("set every workflow's outlier probability and size", () => {
    const options = resolveSimOptions({ scenario, clock: "virtual", outlierProb: "0.25", outlierMs: "1000" });
    assert.deepEqual(options.scenario!.workflows.map((w) => w.outlier), [
      { prob: 0.25, extra: { kind: "constant", value: 1000 }, per: "transaction" },
      { prob: 0.25, extra: { kind: "constant", value: 1000 }, per: "gap" },
    ]);
    const sizeOnly = resolveSimOptions({ scenario, clock: "virtual", outlierMs: "1000" });
    assert.equal(sizeOnly.scenario!.workflows[1]!.outlier, undefined, "no probability given: no outliers added");
  });

  it("refuse the seed's workflow flags, which a scenario's workflows replace", () => {
    for (const key of ["steps", "preMin", "preMax", "interMin", "interMax"] as const) {
      assert.throws(() => resolveSimOptions({ scenario, [key]: "3" }), /does not apply to a scenario \(scenario\), whose workflows set their own steps and delays/);
    }
  });

  it("leave a duration-bound or open run without a count, and the closed model at the seed's 100", () => {
    const open = parseScenario("load: { model: open, rate: 5 }\nworkflows: [ { name: a, steps: [x] } ]");
    const closed = parseScenario("workflows: [ { name: a, steps: [x] } ]");
    assert.equal(resolveSimOptions({ scenario: open }).samples, Infinity);
    assert.equal(resolveSimOptions({ scenario: open }).concurrency, 10_000);
    assert.equal(resolveSimOptions({ scenario: closed }).samples, 100);
    assert.equal(resolveSimOptions({ scenario: closed }).concurrency, 20);
    assert.equal(resolveSimOptions({ scenario: closed, duration: "5s" }).samples, Infinity);
    assert.equal(resolveSimOptions({ duration: "5s" }).samples, Infinity);
    assert.equal(resolveSimOptions({ samples: "unlimited" }).samples, Infinity);
  });
});

describe("the bundled examples", () => {
  it("are at least five, the seed's workload among them", () => {
    assert.ok(EXAMPLE_FILES.length >= 5, EXAMPLE_FILES.join(", "));
    assert.ok(EXAMPLE_FILES.some((file) => file.endsWith("/seed.yaml")));
  });

  for (const file of EXAMPLE_FILES) {
    it(`${file.slice(EXAMPLES.length)} validates, and fits the printed JSON Schema`, async () => {
      await loadScenario(file);
      const check = Compile(scenarioJsonSchema() as never);
      const value = parseYaml(readFileSync(file, "utf8")) as unknown;
      assert.ok(check.Check(value), JSON.stringify([...check.Errors(value)].slice(0, 3)));
    });
  }
});

describe("the shipped schema files", () => {
  it("are what wfsim schema prints (regenerate: wfsim schema [--scenario|--truth] > schema/...)", () => {
    const scenario = JSON.parse(readFileSync(join(SCHEMA_DIR, "scenario.schema.json"), "utf8")) as unknown;
    const truth = JSON.parse(readFileSync(join(SCHEMA_DIR, "truth.schema.json"), "utf8")) as unknown;
    assert.deepEqual(scenario, JSON.parse(JSON.stringify(scenarioJsonSchema())));
    assert.deepEqual(truth, JSON.parse(JSON.stringify(TruthLineSchema)));
    const events = JSON.parse(readFileSync(join(SCHEMA_DIR, "event.schema.json"), "utf8")) as unknown;
    assert.deepEqual(events, JSON.parse(JSON.stringify(WfEvent)));
  });

  it("reject a scenario the validator rejects", () => {
    const check = Compile(scenarioJsonSchema() as never);
    assert.equal(check.Check({ workflows: [{ name: "a", steps: ["x"], work: "fast" }] }), false);
    assert.equal(check.Check({ workflows: [{ name: "a", steps: ["x"], wrok: 5 }] }), false);
    assert.equal(check.Check({ workflows: [{ name: "a", steps: ["x"], work: { dist: "uniform", min: 1, max: "2s" } }] }), true);
  });
});
