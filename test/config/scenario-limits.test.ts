import assert from "node:assert/strict";
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseScenario, SCENARIO_LIMITS } from "../../src/config/scenario/load.ts";
import { isWfsimError } from "../../src/errors.ts";
import { parseLines, runCli } from "../helpers/cli.ts";

/** `steps` steps that share their settings through anchors, aliases and merge keys, as docs/scenarios.md advises. */
function sharedAnchors(steps: number): string {
  const lines = [
    "name: shared",
    "x-work: &work { dist: lognormal, median: 40ms, p99: 250ms }",
    "x-failure: &failure { prob: 0.01, reasons: [timeout], retries: 1, backoff: 100ms }",
    "x-step: &step { work: *work, failure: *failure }",
    "load: { model: closed, concurrency: 5 }",
    "workflows:",
    "  - name: long",
    "    pre: &fast { dist: exponential, mean: 5ms }",
    "    inter: *fast",
    "    steps:",
  ];
  for (let i = 0; i < steps; i++) lines.push(`      - { <<: *step, name: s${i} }`);
  return `${lines.join("\n")}\n`;
}

/** The billion laughs: nine levels of nine aliases, 9^9 strings once expanded. */
const BOMB = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
  .concat("bcdefghi".split("").map((name, i) => `${name}: &${name} [${Array(9).fill(`*${"abcdefgh"[i]}`).join(", ")}]`))
  .join("\n");

function folder(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), "wfsim-yaml-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe("scenario files: aliases and limits", () => {
  for (const steps of [300, 1000]) {
    it(`loads ${steps} steps sharing anchors through merge keys`, () => {
      const scenario = parseScenario(sharedAnchors(steps), "shared.yaml");
      const workflow = scenario.workflows[0]!;
      assert.equal(workflow.steps.length, steps);
      assert.equal(workflow.steps[steps - 1]!.name, `s${steps - 1}`);
      assert.equal(workflow.steps[steps - 1]!.failure?.retries, 1, "the merged failure settings reached the last step");
    });
  }

  it("refuses an alias bomb with a SCENARIO error naming the file and the limit", () => {
    assert.throws(
      () => parseScenario(BOMB, "bomb.yaml"),
      (error: unknown) =>
        isWfsimError(error) &&
        error.code === "SCENARIO" &&
        error.message.startsWith(`bomb.yaml: aliases: at most ${SCENARIO_LIMITS.aliasExpansions} alias expansions`),
    );
  });

  it("wfsim run: 300 steps sharing anchors run; an alias bomb, a file over the size limit and deep nesting are one line and exit 2", async (t) => {
    const dir = folder(t);
    const shared = join(dir, "shared.yaml");
    writeFileSync(shared, sharedAnchors(300));
    const ok = await runCli(["--scenario", shared, "--clock", "virtual", "--samples", "3", "--quiet"]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(parseLines(ok.stdout).filter((e) => e.type === "step_open").length >= 300, true);

    const bomb = join(dir, "bomb.yaml");
    writeFileSync(bomb, BOMB);
    const huge = join(dir, "huge.yaml");
    writeFileSync(huge, "");
    truncateSync(huge, SCENARIO_LIMITS.bytes + 1); // sparse: the size is what is refused, before reading
    const deep = join(dir, "deep.yaml");
    writeFileSync(deep, `a: ${"[".repeat(200_000)}${"]".repeat(200_000)}\n`);
    for (const [file, pattern] of [
      [bomb, /alias expansions/],
      [huge, new RegExp(`a scenario file of at most ${SCENARIO_LIMITS.bytes} bytes, got ${SCENARIO_LIMITS.bytes + 1} bytes`)],
      [deep, /deep\.yaml/],
    ] as const) {
      for (const args of [["--scenario", file, "--clock", "virtual"], ["validate", file]]) {
        const result = await runCli(args);
        assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
        assert.equal(result.stdout, "");
        assert.match(result.stderr, /^wfsim: [^\n]*\n$/, "one line, no stack");
        assert.match(result.stderr, pattern);
      }
    }
  });
});
