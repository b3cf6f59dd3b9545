/**
 * `wfsim run --metrics`: scraped by a real Prometheus server (Debian's package) on loopback, queried
 * through its HTTP API; and the user's mistakes (a port in use, a bad address) as one line, exit 2.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { collect, runCli, startCli } from "../helpers/cli.ts";
import { pollUntil, PROMETHEUS, startPrometheus, stderrMatch } from "./helpers.ts";

const ADDRESS = /metrics at http:\/\/(127\.0\.0\.1:\d+)\/metrics/;

describe("wfsim run --metrics", () => {
  it("is scraped by a real Prometheus while the run goes on, with counts that agree with each other", { skip: existsSync(PROMETHEUS) ? false : `${PROMETHEUS} not found (apt-get install prometheus)` }, async (t) => {
    // A real-clock run long enough to be scraped many times; stopped by SIGINT once Prometheus has it.
    const child = startCli(["run", "--clock", "real", "--duration", "120s", "--samples", "unlimited", "--concurrency", "200", "--pre-max", "200", "--inter-max", "200", "--outlier-prob", "0.2", "-o", "/dev/null", "--metrics", "127.0.0.1:0"]);
    const done = collect(child, { timeoutMs: 120_000 });
    t.after(() => child.kill("SIGKILL"));
    const target = (await stderrMatch(child, ADDRESS))[1]!;
    const prometheus = await startPrometheus(target);
    t.after(() => prometheus.stop());

    const opened = await pollUntil("a scrape with transactions opened", async () => {
      const [sample] = await prometheus.query('wfsim_transactions_opened_total{job="wfsim"}');
      return sample !== undefined && sample.value > 0 ? sample.value : undefined;
    });
    assert.ok(opened >= 200, `the first 200 open at once, got ${opened}`);
    const [up] = await prometheus.query('up{job="wfsim"}');
    assert.equal(up?.value, 1);
    // Same scrape, two views of one tally: transaction_open events are the transactions opened.
    const [difference] = await prometheus.query('wfsim_events_total{type="transaction_open"} - ignoring(type) wfsim_transactions_opened_total');
    assert.equal(difference?.value, 0);
    const [inFlight] = await prometheus.query("wfsim_transactions_in_flight");
    assert.equal(inFlight?.value, 200, "closed model: the concurrency is always in flight");
    // Wakes happened on a real clock: the lateness histogram counts them, every bucket within +Inf.
    const wakes = await pollUntil("wakes in the lateness histogram", async () => {
      const [sample] = await prometheus.query("wfsim_wake_lateness_seconds_count");
      return sample !== undefined && sample.value > 0 ? sample.value : undefined;
    });
    const buckets = await prometheus.query("wfsim_wake_lateness_seconds_bucket");
    assert.equal(buckets.length, 14);
    const inf = buckets.find((sample) => sample.metric.le === "+Inf");
    assert.ok(inf !== undefined && inf.value >= wakes);
    for (const sample of buckets) assert.ok(sample.value <= inf.value, `bucket le=${sample.metric.le}`);
    const kinds = (await prometheus.query("wfsim_anomalies_injected_total")).map((sample) => sample.metric.kind).sort();
    assert.deepEqual(kinds, ["outlier", "step_failure", "stuck"]);

    child.kill("SIGINT");
    const result = await done;
    assert.equal(result.code, 130, result.stderr);
  });

  it("refuses a port in use: one line naming the flag and the address, exit 2, no output file", async (t) => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    t.after(() => busy.close());
    const port = (busy.address() as { port: number }).port;
    const dir = await mkdtemp(join(tmpdir(), "wfsim-metrics-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const output = join(dir, "events.jsonl");
    const result = await runCli(["run", "--samples", "5", "-o", output, "--metrics", `127.0.0.1:${port}`]);
    assert.equal(result.code, 2);
    assert.equal(result.stderr, `wfsim: --metrics cannot listen on 127.0.0.1:${port}: the port is in use\n`);
    assert.equal(existsSync(output), false);
  });

  it("refuses an address that is not HOST:PORT, and one no interface has", async () => {
    const bad = await runCli(["run", "--samples", "5", "--metrics", "localhost:http"]);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, "wfsim: --metrics must be HOST:PORT, :PORT or PORT (a port from 0 to 65535), got 'localhost:http'\n");
    assert.equal(bad.stdout, "");
    // 192.0.2.0/24 is TEST-NET-1: documentation only, on no interface.
    const unbound = await runCli(["run", "--samples", "5", "--metrics", "192.0.2.1:9464"]);
    assert.equal(unbound.code, 2);
    assert.equal(unbound.stderr, "wfsim: --metrics cannot listen on 192.0.2.1:9464: no network interface has that address\n");
  });
});
