/**
 * The HTML report opened in a real headless Chromium (Debian's `chromium`): every chart must really
 * render (the page marks itself rendered after ECharts' `finished` events, and each chart's canvas
 * must hold drawn pixels), the page must load nothing from the network, and a screenshot is saved
 * under test-output/ for a person to look at.
 *
 * Without Chromium the test is skipped, loudly; under CI=true it must run (.ci/run installs it).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { chromium } from "playwright-core";
import { renderHtml } from "../../../src/analyze/render/html.ts";
import type { AnalysisReport } from "../../../src/analyze/report.ts";
import { analyzeText, compact, ev, WFSIM } from "../helpers.ts";

const exec = promisify(execFile);
const CHROMIUM = "/usr/bin/chromium";
const OUTPUT = fileURLToPath(new URL("../../../test-output/", import.meta.url));
const available = existsSync(CHROMIUM);
if (!available) {
  const why = `Chromium not found at ${CHROMIUM} (apt-get install chromium)`;
  if (process.env.CI === "true") throw new Error(`${why}: the HTML report test must run in CI`);
  process.stderr.write(`\n*** SKIPPING the HTML report browser test: ${why} ***\n\n`);
}

type Page = Awaited<ReturnType<Awaited<ReturnType<typeof chromium.launchPersistentContext>>["newPage"]>>;

/** Opens a report's page in headless Chromium, waits until every chart rendered, runs `check` on the tab. */
async function inBrowser(report: AnalysisReport, check: (tab: Page) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "wfsim-html-"));
  const profile = join(dir, "profile");
  const page = join(dir, "report.html");
  await writeFile(page, await renderHtml(report));
  // A fresh profile directory for every run (playwright passes it as --user-data-dir).
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    const tab = await browser.newPage();
    const requests: string[] = [];
    const errors: string[] = [];
    tab.on("request", (request) => requests.push(request.url()));
    tab.on("pageerror", (error) => errors.push(error.message));
    await tab.goto(pathToFileURL(page).href);
    await tab.waitForSelector("html[data-rendered=true]", { timeout: 30_000 });
    assert.deepEqual(errors, []);
    assert.deepEqual(requests.filter((url) => !url.startsWith("file:")), [], "the page loads nothing from the network");
    await check(tab);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** How many pixels of a chart's canvas are visibly darker than the white background. */
function inked(tab: Page, id: string): Promise<number> {
  return tab.evaluate((chartId) => {
    // Runs in the page; the project's typecheck has no DOM types, hence the loose typing.
    const canvas = (globalThis as any).document.querySelector(`#${chartId} canvas`);
    if (canvas === null || canvas.width === 0 || canvas.height === 0) return 0;
    const pixels: Uint8ClampedArray = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let count = 0;
    for (let i = 0; i < pixels.length; i += 4) {
      if (pixels[i + 3]! > 0 && pixels[i]! + pixels[i + 1]! + pixels[i + 2]! < 600) count++;
    }
    return count;
  }, id);
}

async function screenshot(tab: Page, name: string): Promise<void> {
  await mkdir(OUTPUT, { recursive: true });
  await tab.screenshot({ path: join(OUTPUT, name), fullPage: true });
}

const skip = available ? false : `no ${CHROMIUM}`;

async function wfsimRun(args: readonly string[]): Promise<string> {
  const { stdout } = await exec(process.execPath, [WFSIM, "run", "--clock", "virtual", "--quiet", ...args], { maxBuffer: 1 << 28 });
  return stdout;
}

describe("analyze: the HTML report in a browser", () => {
  it("renders every chart offline, and is saved as a screenshot", { skip, timeout: 120_000 }, async () => {
    const stdout = await wfsimRun(["--samples", "3000", "--start-time", "2026-01-31T09:00:00Z"]);
    // A few faults too, so the report's lists are not empty.
    const text = stdout + compact([ev.stepOpen("txn_orphan", 1, Date.parse("2026-01-31T09:10:00Z"), 5)]);
    const report = await analyzeText(text, { charts: true });
    assert.ok(report.charts!.timeline.length >= 40, "the timeline draws the sample and the flagged transactions");
    await inBrowser(report, async (tab) => {
      for (const id of ["histograms", "timeline", "concurrency"]) {
        const drawn = await inked(tab, id);
        assert.ok(drawn > 2000, `chart #${id} drew ${drawn} pixels`);
      }
      await screenshot(tab, "analyze-report.png");
    });
  });

  it("draws a scenario's failed attempts, retries and stuck transactions, and the duration threshold", { skip, timeout: 120_000 }, async () => {
    const stdout = await wfsimRun(["--scenario", "examples/checkout.yaml", "--samples", "4000", "--start-time", "2026-03-02T08:00:00Z"]);
    // The pooled rule has one threshold to draw; the grouped rule has one per workflow.
    const report = await analyzeText(stdout, { charts: true, measure: "duration", rule: "pooled" });
    const timeline = report.charts!.timeline;
    assert.ok(timeline.some((t) => t.steps.some((s) => s.failed)), "a failed attempt is drawn");
    assert.ok(timeline.some((t) => t.stuck), "a stuck transaction is drawn");
    await inBrowser(report, async (tab) => {
      const series = await tab.evaluate(() => {
        const chart = (globalThis as any).echarts.getInstanceByDom((globalThis as any).document.getElementById("timeline"));
        return chart.getOption().series.map((s: { name: string; data: unknown[] }) => [s.name, s.data.length]);
      });
      const drawn = Object.fromEntries(series as [string, number][]);
      assert.ok(drawn["failed attempt"]! > 0 && drawn["retry backoff"]! > 0, JSON.stringify(drawn));
      const marked = await tab.evaluate(() => {
        const chart = (globalThis as any).echarts.getInstanceByDom((globalThis as any).document.getElementById("histograms"));
        return chart.getOption().series.map((s: { markLine?: { data?: { xAxis: number }[] } }) => s.markLine?.data?.[0]?.xAxis ?? null);
      });
      assert.deepEqual(marked, [Math.round(report.outliers.rule.threshold_ms!), null], "the threshold is on the durations' histogram");
      await screenshot(tab, "analyze-report-scenario.png");
    });
  });

  it("shows transaction ids in tooltips as text, never as markup", { skip, timeout: 120_000 }, async () => {
    const id = `<img src=x onerror="document.title='PWNED'">`;
    const events = [ev.open(id, 0), ev.stepOpen(id, 1, 10, 10), ev.stepDone(id, 1, 10), ev.close(id, 10, 10, 1)];
    const report = await analyzeText(compact(events), { charts: true });
    await inBrowser(report, async (tab) => {
      const title = await tab.title();
      const shown = await tab.evaluate(async () => {
        const document = (globalThis as any).document;
        const chart = (globalThis as any).echarts.getInstanceByDom(document.getElementById("timeline"));
        chart.dispatchAction({ type: "showTip", seriesIndex: 1, dataIndex: 0 });
        await new Promise((resolve) => setTimeout(resolve, 300));
        const tip = [...document.querySelectorAll("#timeline div")].map((el: any) => el.innerHTML).find((html: string) => html.includes("onerror"));
        return { tip: tip ?? null, images: document.querySelectorAll("#timeline img").length, title: document.title };
      });
      assert.ok(shown.tip !== null, "the tooltip is shown");
      assert.match(shown.tip!, /&lt;img src=x onerror=/);
      assert.equal(shown.images, 0);
      assert.equal(shown.title, title);
    });
  });
});
