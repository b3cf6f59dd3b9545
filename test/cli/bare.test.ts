import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runCli } from "../helpers/cli.ts";

describe("bare wfsim", () => {
  it("prints the help on stdout and exits 0 at once, instead of starting a real-clock run", async () => {
    const [bare, help] = await Promise.all([runCli([], { timeoutMs: 20_000 }), runCli(["--help"])]);
    assert.equal(bare.code, 0, bare.stderr);
    assert.equal(bare.stderr, "");
    assert.equal(bare.stdout, help.stdout);
    assert.match(bare.stdout, /^Usage: wfsim /);
    assert.match(bare.stdout, /with nothing at all, it\s+prints this help/);
  });
});
