/**
 * `wfsim run --ui`: the live page in headless Chromium (Debian's `chromium`, driven by playwright-core).
 * It must load nothing but what wfsim serves, update from its event stream, and show the numbers the
 * metrics endpoint gives for the same run and scores.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { chromium } from "playwright-core";
import { collect, parseLines, runCli, startCli } from "../helpers/cli.ts";
import { alertLines, pollUntil, stderrMatch } from "./helpers.ts";

const CHROMIUM = "/usr/bin/chromium";
const available = existsSync(CHROMIUM);
if (!available && process.env.CI === "true") throw new Error(`Chromium not found at ${CHROMIUM}: the live page test must run in CI`);
const EXAMPLE = new URL("../../examples/checkout.yaml", import.meta.url).pathname;

/** `name{labels} value` lines of a metrics text: the value of one sample, or the sum of a metric's samples. */
function metric(text: string, name: string, labels?: string): number {
  let sum = 0;
  let found = false;
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const [series, value] = line.split(" ");
    if (series === undefined || value === undefined) continue;
    const bare = series.replace(/\{.*\}$/, "");
    if (bare !== name) continue;
    if (labels !== undefined && series !== `${name}{${labels}}`) continue;
    sum += Number(value);
    found = true;
  }
  if (!found) throw new Error(`${name}${labels === undefined ? "" : `{${labels}}`} not in the metrics`);
  return sum;
}

describe("wfsim run --ui", { skip: available ? false : `${CHROMIUM} not found (apt-get install chromium)` }, () => {
  it("shows in a real browser, from its own assets, the numbers the metrics endpoint gives", async (t) => {
    const dir = await mkdtemp(join(tmpdir(), "wfsim-ui-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const run = ["run", "--scenario", EXAMPLE, "--clock", "virtual", "--samples", "1000", "--seed", "3", "--start-time", "2026-01-01T00:00:00Z"];
    const first = await runCli([...run, "-q", "--truth", join(dir, "t1.jsonl"), "-o", join(dir, "e1.jsonl")]);
    assert.equal(first.code, 0, first.stderr);
    const truth = parseLines(await readFile(join(dir, "t1.jsonl"), "utf8"));
    const lines = alertLines(truth, parseLines(await readFile(join(dir, "e1.jsonl"), "utf8")));
    await writeFile(join(dir, "alerts.jsonl"), `${lines.join("\n")}\n`);
    const anomalies = new Set(truth.filter((record) => record.kind === "outlier" || record.kind === "stuck").map((record) => record.txn_id)).size;

    // A long grace keeps the finished run serving its final figures until the signal: both endpoints then hold still.
    const child = startCli([...run, "--truth", join(dir, "t2.jsonl"), "-o", join(dir, "e2.jsonl"), "--score-alerts", `file:${join(dir, "alerts.jsonl")}`, "--score-grace", "10m", "--alert-deadline", "10s",
      "--metrics", "127.0.0.1:0", "--ui", "127.0.0.1:0"]);
    const done = collect(child, { timeoutMs: 120_000 });
    t.after(() => child.kill("SIGKILL"));
    const [, metricsUrl, pageUrl] = (await stderrMatch(child, /metrics at (http:\S+)\n[\s\S]*?live page at (http:\S+)\n/)) as unknown as [string, string, string];
    const text = await pollUntil("final scores in the metrics", async () => {
      const body = await (await fetch(metricsUrl)).text();
      return /^wfsim_alert_lines_total (\d+)$/m.exec(body)?.[1] === String(lines.length) && /^wfsim_alert_anomalies_labelled (\d+)$/m.exec(body)?.[1] === String(anomalies) && /^wfsim_transactions_in_flight 0$/m.test(body) ? body : undefined;
    });

    const profile = join(dir, "profile");
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    t.after(() => browser.close());
    const tab = await browser.newPage();
    const requests: string[] = [];
    const errors: string[] = [];
    tab.on("request", (request) => requests.push(request.url()));
    tab.on("pageerror", (error) => errors.push(error.message));
    await tab.goto(pageUrl);
    // Updated from the event stream more than once: the page keeps listening.
    await tab.waitForSelector("body[data-updates='3']", { timeout: 30_000 });
    const shown = await tab.evaluate(() => {
      // Runs in the page; the project's typecheck has no DOM types, hence the loose typing.
      const values: Record<string, string> = {};
      for (const element of (globalThis as any).document.querySelectorAll("[data-value]")) values[element.id] = element.dataset.value;
      return values;
    });
    const value = (id: string) => {
      assert.ok(shown[id] !== undefined && shown[id] !== "", `#${id} shows a value: ${JSON.stringify(shown)}`);
      return Number(shown[id]);
    };
    assert.equal(value("events"), metric(text, "wfsim_events_total"));
    assert.equal(value("opened"), metric(text, "wfsim_transactions_opened_total"));
    assert.equal(value("closed"), metric(text, "wfsim_transactions_closed_total"));
    assert.equal(value("failed"), metric(text, "wfsim_transactions_failed_total"));
    assert.equal(value("stuck"), metric(text, "wfsim_transactions_stuck_total"));
    assert.equal(value("in-flight"), metric(text, "wfsim_transactions_in_flight"));
    for (const kind of ["outlier", "stuck", "step_failure"]) assert.equal(value(`anomalies-${kind}`), metric(text, "wfsim_anomalies_injected_total", `kind="${kind}"`));
    assert.equal(value("precision"), metric(text, "wfsim_alert_precision", 'kind="all"'));
    assert.equal(value("recall"), metric(text, "wfsim_alert_recall", 'kind="all"'));
    assert.equal(value("recall-outlier"), metric(text, "wfsim_alert_recall", 'kind="outlier"'));
    assert.equal(value("alert-lines"), metric(text, "wfsim_alert_lines_total"));
    assert.equal(value("alert-skipped"), metric(text, 'wfsim_errors_total', 'kind="alert_line"'));
    assert.equal(value("false-positives"), metric(text, "wfsim_alert_false_positives"));
    assert.equal(value("labelled"), anomalies);
    assert.equal(value("overdue"), metric(text, "wfsim_anomalies_overdue_total"));
    assert.equal(value("delay-p50") / 1000, metric(text, "wfsim_alert_detection_delay_seconds", 'kind="all",quantile="0.5"'));
    // The overdue list: as many rows as overdue anomalies (up to the 50 it shows).
    const rows = await tab.locator("#overdue-list tr").count();
    assert.equal(rows, Math.min(50, value("overdue")));
    assert.ok(rows > 0);
    assert.deepEqual(errors, []);
    assert.deepEqual(requests.filter((url) => !url.startsWith(pageUrl)), [], "the page loads nothing from elsewhere");

    child.kill("SIGINT");
    const result = await done;
    assert.equal(result.code, 130, result.stderr);
  });
});
