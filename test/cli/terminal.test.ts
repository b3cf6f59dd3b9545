/**
 * Feedback on a terminal: a live progress line on stderr when it is a TTY, a summary at the end, and
 * nothing with --quiet. `script` (util-linux) gives the CLI a real pseudo-terminal.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { CLI } from "../helpers/cli.ts";

const hasScript = spawnSync("script", ["--version"]).status === 0;

function onTerminal(args: string[]): string {
  const command = [process.execPath, CLI, ...args].map((part) => `'${part}'`).join(" ");
  const result = spawnSync("script", ["-qfec", command, "/dev/null"], { encoding: "utf8", timeout: 60_000 });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout;
}

// About a second of real time: several progress redraws at 250 ms.
const RUN = ["--samples", "6", "--concurrency", "3", "--steps", "3", "--pre-min", "200", "--pre-max", "300", "--inter-min", "100", "--inter-max", "200", "--output", "/dev/null"];

describe("on a terminal", { skip: hasScript ? false : "the `script` command (util-linux) is not installed" }, () => {
  it("redraws a progress line in place, then erases it and prints the summary", () => {
    const screen = onTerminal(RUN);
    const redraws = screen.split("\r\x1b[2K").slice(1);
    assert.ok(redraws.length >= 3, `progress redraws: ${JSON.stringify(screen)}`);
    for (const line of redraws.slice(0, -1)) assert.match(line, /^wfsim: \d\/6 done, \d in flight, [\d,]+ events\/s$/);
    assert.match(redraws.at(-1)!, /^wfsim: 6 transactions \(6 closed, 0 aborted\), 60 events to \/dev\/null, .*\.\r?\n$/);
  });

  it("draws no progress line when the events scroll through the same terminal, only the summary after them", () => {
    const RUN_HERE = RUN.filter((arg, i) => arg !== "--output" && RUN[i - 1] !== "--output");
    const screen = onTerminal(RUN_HERE);
    assert.doesNotMatch(screen, /in flight/);
    const lines = screen.split(/\r?\n/).filter((line) => line !== "");
    assert.equal(lines.length, 61, JSON.stringify(screen));
    for (const line of lines.slice(0, -1)) assert.match(line, /^\{"type":/);
    assert.match(lines.at(-1)!, /^wfsim: 6 transactions \(6 closed, 0 aborted\), 60 events to stdout, /);
  });

  it("prints nothing with --quiet", () => {
    assert.equal(onTerminal([...RUN, "--quiet"]), "");
  });
});
