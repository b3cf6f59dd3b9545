/**
 * The README's tour promises that every command in it runs as written from the project's folder: the
 * block is taken from the README itself and run by sh, `npx wfsim` being the built CLI, in a scratch
 * folder that sees the project's examples. Needs `npm run build`.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { CLI } from "../helpers/cli.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

function tourBlock(): string {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const section = readme.split(/^## /m).find((part) => part.startsWith("A tour"));
  assert.ok(section !== undefined, "README has a section 'A tour'");
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(block !== undefined, "the tour has a sh block");
  return block;
}

describe("README: the tour", () => {
  it("runs as written, on the virtual clock, each output bounded and in a file", (t) => {
    const dir = mkdtempSync(join(tmpdir(), "wfsim-tour-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    symlinkSync(join(ROOT, "examples"), join(dir, "examples"));
    const block = tourBlock();
    assert.doesNotMatch(block, /--clock real|kafka1|my-|more\.jsonl/, "no real clock, no placeholder");
    const script = `set -e\nnpx() { [ "$1" = wfsim ] && shift; node ${JSON.stringify(CLI)} "$@"; }\n${block}`;
    const result = spawnSync("sh", ["-c", script], { cwd: dir, encoding: "utf8", timeout: 120_000 });
    assert.equal(result.status, 0, `${result.stderr}`);
    for (const file of ["events.jsonl", "checkout.jsonl", "truth.jsonl", "report.html", "event.schema.json"]) {
      assert.ok(existsSync(join(dir, file)), `${file} written`);
      assert.ok(statSync(join(dir, file)).size > 0, `${file} not empty`);
    }
    assert.ok(statSync(join(dir, "checkout.jsonl")).size < 50 * 1024 * 1024, "the scenario run is bounded");
    assert.equal(readFileSync(join(dir, "events.jsonl"), "utf8").split("\n").filter((l) => l.includes('"transaction_open"')).length, 1000);
    assert.match(result.stdout, /outlier/i, "analyze printed its report on stdout");
  });
});
