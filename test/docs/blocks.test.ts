/**
 * Every shell block in the README and in docs/ says what becomes of it, in an HTML comment on the line
 * before it (invisible on GitHub):
 *   <!-- runnable -->                  run here as written, in a scratch folder that sees examples/
 *   <!-- runnable: kafka -->           the same against the test broker (127.0.0.1:9092 and
 *                                      localhost:9092 stand for it; npm run kafka:start is already done)
 *   <!-- runnable: kafka registry -->  and the test Schema Registry (for http://127.0.0.1:8080/apis/ccompat/v7)
 *   <!-- tested: test/x.test.ts -->    run by that test, which checks more of it
 *   <!-- not run: why -->              a reference or what needs what this machine has not
 * A new block without one fails here: nothing in the docs goes untried by accident. `npx wfsim` is the
 * built CLI (npm run build first).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { CLI } from "../helpers/cli.ts";
import { kafkaSkip, kafkaTarget } from "../kafka/env.ts";
import { testRegistry } from "../registry/env.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const FILES = ["README.md", ...readdirSync(join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];

interface Block {
  readonly where: string;
  readonly marker: string | undefined;
  readonly text: string;
}

function blocks(file: string): Block[] {
  const lines = readFileSync(join(ROOT, file), "utf8").split("\n");
  const found: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(sh|bash|shell)\s*$/.test(lines[i]!)) continue;
    let before = i - 1;
    while (before >= 0 && lines[before]!.trim() === "") before--;
    const marker = /^<!-- (runnable(?:: [a-z ]+)?|tested: \S+|not run: .+) -->$/.exec(lines[before] ?? "")?.[1];
    const end = lines.indexOf("```", i + 1);
    assert.ok(end > i, `${file}:${i + 1}: a block that does not end`);
    found.push({ where: `${file}:${i + 1}`, marker, text: lines.slice(i + 1, end).join("\n") });
    i = end;
  }
  return found;
}

const ALL = FILES.flatMap(blocks);

function run(block: Block, needs: readonly string[]): void {
  const dir = mkdtempSync(join(tmpdir(), "wfsim-doc-"));
  try {
    symlinkSync(join(ROOT, "examples"), join(dir, "examples"));
    let text = block.text;
    if (needs.includes("kafka")) text = text.replaceAll(/(127\.0\.0\.1|localhost):9092/g, kafkaTarget("plaintext").bootstrap.join(","));
    if (needs.includes("registry")) {
      const registry = testRegistry();
      assert.ok("url" in registry);
      text = text.replaceAll(/http:\/\/(127\.0\.0\.1|localhost):8080\/apis\/ccompat\/v7/g, registry.url);
    }
    const shims = [
      `npx() { [ "$1" = wfsim ] && shift; ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} "$@"; }`,
      // The test broker and registry are up already.
      `npm() { case "$1 $2" in "run kafka:start"|"run kafka:stop"|"run registry:start"|"run registry:stop") return 0;; esac; command npm "$@"; }`,
    ];
    const result = spawnSync("sh", ["-c", `set -e\n${shims.join("\n")}\n${text}`], { cwd: dir, encoding: "utf8", timeout: 120_000 });
    assert.equal(result.status, 0, `${block.where}:\n${result.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("shell blocks in the docs", () => {
  it("each says whether it is run, and by what", () => {
    assert.ok(ALL.length > 10, `${ALL.length} blocks found`);
    const unmarked = ALL.filter((b) => b.marker === undefined).map((b) => b.where);
    assert.deepEqual(unmarked, [], "blocks without <!-- runnable -->, <!-- tested: ... --> or <!-- not run: ... -->");
    for (const block of ALL.filter((b) => b.marker!.startsWith("tested: "))) {
      assert.ok(existsSync(join(ROOT, block.marker!.slice("tested: ".length))), `${block.where}: ${block.marker}`);
    }
  });

  for (const block of ALL.filter((b) => b.marker?.startsWith("runnable") === true)) {
    const needs = block.marker!.includes(":") ? block.marker!.split(":")[1]!.trim().split(/\s+/) : [];
    const skip = needs.includes("kafka") && kafkaSkip() !== false ? kafkaSkip() : needs.includes("registry") && "skip" in testRegistry() ? (testRegistry() as { skip: string }).skip : false;
    it(`${block.where} runs as written${needs.length > 0 ? ` (with the test ${needs.join(" and ")})` : ""}`, { skip }, () => run(block, needs));
  }
});
