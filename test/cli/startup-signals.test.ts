/**
 * Signals that come while `wfsim run` starts. The test knows, without sleeping, that the CLI is at the
 * point it wants: the scenario or the output is a named pipe (FIFO), and opening the other end of it
 * returns only once the CLI has opened its own end. A scenario read from a pipe holds the CLI in its
 * loading until the test writes it, so the signal surely comes before the first event.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { once } from "node:events";
import { createServer, type AddressInfo, type Socket } from "node:net";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { collect, parseLines, startCli } from "../helpers/cli.ts";

const CHECKOUT = fileURLToPath(new URL("../../examples/checkout.yaml", import.meta.url));
const KEEP = '{"keep":"me"}\n';

function fifoIn(t: { after: (fn: () => void) => void }, name: string): { dir: string; fifo: string } {
  const dir = mkdtempSync(join(tmpdir(), "wfsim-startup-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const fifo = join(dir, name);
  execFileSync("mkfifo", [fifo]);
  return { dir, fifo };
}

for (const [signal, code] of [
  ["SIGINT", 130],
  ["SIGTERM", 143],
] as const) {
  describe(`${signal} while wfsim run starts`, () => {
    it(`during scenario loading: exit ${code}, no output opened, the existing --output untouched`, async (t) => {
      const { dir, fifo } = fifoIn(t, "scenario.yaml");
      const keep = join(dir, "keep.jsonl");
      writeFileSync(keep, KEEP);
      const child = startCli(["--scenario", fifo, "--clock", "virtual", "--samples", "200", "--output", keep]);
      const done = collect(child);
      const writer = await open(fifo, "w"); // returns once the CLI has opened the scenario to read it
      child.kill(signal);
      await writer.writeFile(readFileSync(CHECKOUT));
      await writer.close();
      const result = await done;
      assert.equal(result.code, code, result.stderr);
      assert.equal(result.stderr, `wfsim: stopped by ${signal} while starting: no output was opened, nothing written\n`);
      assert.equal(readFileSync(keep, "utf8"), KEEP);
    });

    it(`during output opening: exit ${code}, whole lines, every transaction it began closed or aborted`, async (t) => {
      const { dir, fifo } = fifoIn(t, "events.jsonl");
      const truth = join(dir, "truth.jsonl");
      const child = startCli(["--clock", "virtual", "--samples", "100000", "--output", fifo, "--truth", truth]);
      const done = collect(child);
      const reader = await open(fifo, "r"); // returns once the CLI has opened --output to write it
      child.kill(signal); // it may land before or after the first event: both must end cleanly
      const events = await reader.readFile("utf8"); // to the end: the CLI closed its end
      await reader.close();
      const result = await done;
      assert.equal(result.code, code, result.stderr);
      assert.ok(events === "" || events.endsWith("\n"), "whole lines only");
      const open_ = new Set<string>();
      let aborted = 0;
      for (const event of parseLines(events) as { type: string; txn_id: string; reason?: string }[]) {
        if (event.type === "transaction_open") open_.add(event.txn_id);
        if (event.type === "transaction_close") open_.delete(event.txn_id);
        if (event.type === "transaction_aborted") {
          aborted++;
          assert.equal(event.reason, signal);
          assert.ok(open_.delete(event.txn_id), `aborted ${event.txn_id} was in flight`);
        }
      }
      assert.equal(open_.size, 0, "every transaction begun was closed or aborted");
      assert.ok(aborted <= 20, "at most the default concurrency in flight");
      const truthText = readFileSync(truth, "utf8");
      assert.ok(truthText === "" || truthText.endsWith("\n"));
      assert.match(result.stderr, new RegExp(`stopped early by ${signal}\\.\\n$`));
    });
  });
}

describe("a signal at 0, 50, 100 and 200 ms after start", () => {
  // Where the run is at each of these moments depends on the machine (loading Node.js and wfsim takes
  // tens of ms); what must hold at any of them: the run ends by that signal, and --output is either
  // untouched (the signal came before it was opened) or whole lines in which every transaction opened
  // is closed or aborted. Only before Node.js runs wfsim's first line can the signal end the process
  // the default way (no code, killed by the signal, which a shell reports as 130/143 all the same).
  for (const delay of [0, 50, 100, 200]) {
    for (const [signal, code] of [
      ["SIGINT", 130],
      ["SIGTERM", 143],
    ] as const) {
      it(`${signal} at ${delay} ms: exit ${code}, --output untouched or consistent`, async (t) => {
        const dir = mkdtempSync(join(tmpdir(), "wfsim-signal-at-"));
        t.after(() => rmSync(dir, { recursive: true, force: true }));
        const out = join(dir, "out.jsonl");
        writeFileSync(out, KEEP);
        const child = startCli(["--scenario", CHECKOUT, "--clock", "real", "--speed", "50", "--start-time", "now", "--samples", "100000", "--output", out]);
        const done = collect(child);
        await new Promise((resolve) => setTimeout(resolve, delay));
        child.kill(signal);
        const result = await done;
        if (result.code === null) assert.equal(result.signal, signal, result.stderr);
        else assert.equal(result.code, code, result.stderr);
        const text = readFileSync(out, "utf8");
        if (text === KEEP) return;
        assert.ok(text === "" || text.endsWith("\n"), "whole lines only");
        const open = new Set<string>();
        for (const event of parseLines(text) as { type: string; txn_id: string }[]) {
          if (event.type === "transaction_open") open.add(event.txn_id);
          else if (event.type.startsWith("transaction_")) open.delete(event.txn_id);
        }
        assert.equal(open.size, 0, "every transaction opened is closed or aborted");
      });
    }
  }
});

describe("a signal while connecting to Kafka", () => {
  it("ends the run with one line saying nothing was sent", async (t) => {
    // A listener that takes the connection and never answers: wfsim is still connecting when the signal comes.
    const silent = createServer(() => {});
    const sockets: Socket[] = [];
    silent.on("connection", (socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    t.after(() => {
      for (const socket of sockets) socket.destroy();
      silent.close();
    });
    const connected = once(silent, "connection");
    const child = startCli(["--samples", "100", "--kafka-bootstrap", `127.0.0.1:${(silent.address() as AddressInfo).port}`, "--kafka-timeout", "60000"]);
    const done = collect(child);
    await connected;
    child.kill("SIGINT");
    const result = await done;
    assert.equal(result.code, 130, result.stderr);
    assert.equal(result.stderr, "wfsim: stopped by SIGINT while connecting to Kafka: nothing was sent\n");
  });
});
