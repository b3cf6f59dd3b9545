/**
 * `wfsim analyze --follow --metrics`: the follower's figures scraped while it follows the real broker:
 * every event read, the stuck transactions alerted on, no lag once caught up.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { describe, it } from "node:test";
import { kafkaSkip } from "../kafka/env.ts";
import { topicFlags } from "../kafka/wfsim.ts";
import { background, expectedAlerts, FollowerProcess, freshTopics, inTimeOrder, plaintext, produce, stuck, waitFor } from "../follow/helpers.ts";
import { runCli } from "../helpers/cli.ts";
import { pollUntil } from "./helpers.ts";

const CHROMIUM = "/usr/bin/chromium";
const START = Date.parse("2026-01-01T00:00:00Z");

describe("wfsim analyze --follow --metrics --ui", { skip: kafkaSkip(), timeout: 120_000 }, () => {
  it("serves the follower's figures: events read, alerts, open transactions, lag; the live page shows the same", async (t) => {
    const { bootstrap, options } = plaintext();
    const partitions = 2;
    const topics = await freshTopics(t, options, "follow-metrics", partitions);
    const events = inTimeOrder(await background(300, START, 9), stuck("txn-stuck-a", START + 1000), stuck("txn-stuck-b", START + 2000));
    await produce(t, options, topics, partitions, events);
    const stuckMs = 60_000;
    const alerts = expectedAlerts(events, partitions, stuckMs);

    const follower = new FollowerProcess(t, ["--kafka-bootstrap", bootstrap, ...topicFlags(topics), "--stuck-ms", `${stuckMs}`, "--metrics", "127.0.0.1:0", "--ui", "127.0.0.1:0"]);
    await waitFor("the addresses", () => /live page at http:\S+\n/.test(follower.stderr), 30_000, () => follower.stderr);
    const pageUrl = /live page at (http:\S+)\n/.exec(follower.stderr)![1]!;
    const url = /metrics at (http:\S+)\n/.exec(follower.stderr)![1]!;
    const sample = (text: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1]);
    const text = await pollUntil("every event read", async () => {
      const body = await (await fetch(url)).text();
      return sample(body, "wfsim_follow_events_total") === events.length && sample(body, "wfsim_follow_lag_records") === 0 ? body : undefined;
    });
    assert.equal(sample(text, "wfsim_follow_partitions"), partitions);
    assert.equal(sample(text, "wfsim_follow_open_transactions"), 2, "the two stuck ones stay open");
    assert.equal(sample(text, "wfsim_follow_event_time_seconds"), Math.max(...events.map((e) => e.ts_ms as number)) / 1000);
    // Alerts come as event time passes stuck-ms; the counter agrees with what was printed.
    await waitFor("the alerts", () => follower.alerts.length === alerts.size, 30_000);
    const after = await (await fetch(url)).text();
    assert.equal(sample(after, "wfsim_follow_alerts_total"), follower.alerts.length);

    // The live page, in headless Chromium: the same figures as the metrics endpoint.
    if (existsSync(CHROMIUM)) {
      const dir = await mkdtemp(join(tmpdir(), "wfsim-follow-ui-"));
      t.after(() => rm(dir, { recursive: true, force: true }));
      const browser = await chromium.launchPersistentContext(join(dir, "profile"), {
        executablePath: CHROMIUM,
        headless: true,
        args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      });
      t.after(() => browser.close());
      const tab = await browser.newPage();
      const errors: string[] = [];
      tab.on("pageerror", (error) => errors.push(error.message));
      await tab.goto(pageUrl);
      await tab.waitForSelector("body[data-updates='2']", { timeout: 30_000 });
      const shown = await tab.evaluate(() => {
        const values: Record<string, string> = {};
        // Runs in the page; the project's typecheck has no DOM types, hence the loose typing.
        for (const element of (globalThis as any).document.querySelectorAll("#follow-section [data-value]")) values[element.id] = element.dataset.value;
        return values;
      });
      const now = await (await fetch(url)).text();
      assert.equal(Number(shown["follow-events"]), sample(now, "wfsim_follow_events_total"));
      assert.equal(Number(shown["follow-alerts"]), sample(now, "wfsim_follow_alerts_total"));
      assert.equal(Number(shown["follow-open"]), sample(now, "wfsim_follow_open_transactions"));
      assert.equal(Number(shown["follow-lag"]), sample(now, "wfsim_follow_lag_records"));
      assert.equal(Number(shown["follow-partitions"]), partitions);
      assert.equal(Number(shown["follow-event-time"]) / 1000, sample(now, "wfsim_follow_event_time_seconds"));
      assert.equal(await tab.locator("#run-section").isHidden(), true);
      assert.deepEqual(errors, []);
    }
    const stopped = await follower.stop("SIGINT");
    assert.equal(stopped.code, 130, stopped.stderr);
  });

  it("applies to --follow only", async () => {
    const result = await runCli(["analyze", "--metrics", ":0", "events.jsonl"]);
    assert.equal(result.code, 2);
    assert.equal(result.stderr, "wfsim: --metrics applies to --follow\n");
  });
});
