/**
 * The documented way to run wfsim under a process manager or in a pod: `sh -c 'exec wfsim ...'` (the
 * Job's command) or the binary itself as the entrypoint. The manager signals the process it started;
 * with exec that process is wfsim, so the run ends cleanly with 143, not killed mid-line.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, it } from "node:test";
import { CLI, collect, firstLines, parseLines } from "../helpers/cli.ts";

describe("signals through the documented entrypoint", () => {
  it("SIGTERM to the parent started as sh -c 'exec wfsim ...' reaches wfsim: exit 143, whole lines, every open transaction aborted", async () => {
    const run = "--samples 1000 --concurrency 25 --pre-min 50 --pre-max 400 --inter-min 50 --inter-max 300";
    const child = spawn("sh", ["-c", `exec ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} run ${run}`]);
    const done = collect(child);
    await firstLines(child, 40); // running: the shell has long handed over to wfsim
    child.kill("SIGTERM"); // to the process the manager started, as Kubernetes does
    const result = await done;
    assert.equal(result.code, 143, result.stderr);
    assert.ok(result.stdout.endsWith("\n"));
    const open = new Set<string>();
    for (const event of parseLines(result.stdout) as { type: string; txn_id: string; reason?: string }[]) {
      if (event.type === "transaction_open") open.add(event.txn_id);
      if (event.type === "transaction_close") open.delete(event.txn_id);
      if (event.type === "transaction_aborted") {
        assert.equal(event.reason, "SIGTERM");
        open.delete(event.txn_id);
      }
    }
    assert.equal(open.size, 0, "every transaction in flight was aborted");
    assert.match(result.stderr, /stopped early by SIGTERM\.\n$/);
  });
});
