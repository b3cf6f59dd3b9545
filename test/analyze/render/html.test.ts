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
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
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
async function inBrowser(report: AnalysisReport | { html: string }, check: (tab: Page) => Promise<void>, timezoneId?: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "wfsim-html-"));
  const profile = join(dir, "profile");
  const page = join(dir, "report.html");
  await writeFile(page, "html" in report ? report.html : await renderHtml(report));
  // A fresh profile directory for every run (playwright passes it as --user-data-dir).
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    // The viewer's own zone, which the report's times must not depend on.
    ...(timezoneId === undefined ? {} : { timezoneId }),
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
    assert.ok(timeline.some((t) => t.injected) && timeline.some((t) => t.flagged) && timeline.some((t) => t.outcome === "failed"), "injected, flagged and failed ones are drawn");
    assert.ok(timeline.some((t) => !t.injected && !t.flagged && !t.stuck && t.outcome === "completed"), "ordinary ones are drawn");
    // Spread over the whole run, not its first seconds: some open in its first tenth, some in its last.
    const { first_ts_ms: first, span_ms: span } = report.time_span;
    assert.ok(timeline.some((t) => t.opened! < first! + span! / 10) && timeline.some((t) => t.opened! > first! + (span! * 8) / 10), "the sample spans the run");
    await inBrowser(report, async (tab) => {
      const series = await tab.evaluate(() => {
        const chart = (globalThis as any).echarts.getInstanceByDom((globalThis as any).document.getElementById("timeline"));
        return chart.getOption().series.map((s: { name: string; data: unknown[] }) => [s.name, s.data.length]);
      });
      const drawn = Object.fromEntries(series as [string, number][]);
      assert.ok(drawn["failed attempt"]! > 0 && drawn["retry backoff"]! > 0, JSON.stringify(drawn));
      // Stuck bars reach the stream's end.
      const silentEnds = await tab.evaluate(() => {
        const chart = (globalThis as any).echarts.getInstanceByDom((globalThis as any).document.getElementById("timeline"));
        const silent = chart.getOption().series.find((s: { name: string }) => s.name === "silent until the stream's end");
        return silent.data.map((item: number[]) => item[2]);
      });
      assert.ok(silentEnds.length > 0 && silentEnds.every((end: number) => end === report.time_span.last_ts_ms), JSON.stringify(silentEnds));
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

const EXAMPLES = ["seed", "checkout", "flash-sale", "nightly-batch", "shop-orders", "payments-cloudevents", "onboarding"] as const;
const VIEWS = ["histograms", "latency", "throughput", "findings", "steps", "detection", "timeline", "concurrency"] as const;

describe("analyze: the HTML report of every shipped example", () => {
  for (const example of EXAMPLES) {
    it(`examples/${example}.yaml: every chart has data or says why not; stream times in UTC whatever the viewer's zone`, { skip, timeout: 180_000 }, async () => {
      const dir = await mkdtemp(join(tmpdir(), "wfsim-html-ex-"));
      try {
        const scenario = `examples/${example}.yaml`;
        const events = join(dir, "events.jsonl");
        const truth = join(dir, "truth.jsonl");
        const page = join(dir, "report.html");
        await exec("/bin/sh", ["-c", `"${process.execPath}" "${WFSIM}" run --scenario ${scenario} --clock virtual --quiet --samples 2000 --start-time 2026-01-31T09:00:00Z --truth "${truth}" > "${events}"`]);
        const { stdout } = await exec(process.execPath, [WFSIM, "analyze", events, "--truth", truth, "--scenario", scenario, "--format", "json", "--html", page], { maxBuffer: 1 << 26 });
        const report = JSON.parse(stdout) as AnalysisReport;
        const html = await readFile(page, "utf8");
        await inBrowser(
          { html },
          async (tab) => {
            for (const id of VIEWS) {
              const note = await tab.evaluate((chartId) => (globalThis as any).document.querySelector(`#${chartId} p.empty`)?.textContent ?? null, id);
              const drawn = await inked(tab, id);
              assert.ok(note !== null || drawn > 1000, `#${id}: ${drawn} pixels and no note`);
              assert.ok(note === null || drawn === 0, `#${id} says "${note}" and draws ${drawn} pixels`);
            }
            // Every example's steps have gaps: the per-step view has data; detection has when anything was injected or flagged.
            assert.ok((await inked(tab, "steps")) > 1000, "#steps drawn");
            // Every example completes transactions over its run: latency and throughput over time are drawn, one point per interval.
            for (const id of ["latency", "throughput", "timeline"]) assert.ok((await inked(tab, id)) > 1000, `#${id} drawn`);
            const points = await tab.evaluate(() => {
              const chart = (globalThis as any).echarts.getInstanceByDom((globalThis as any).document.getElementById("throughput"));
              return chart.getOption().series[0].data.length;
            });
            assert.equal(points, report.over_time.rows.length);
            assert.ok(report.over_time.rows.length > 1 && report.over_time.rows.length <= 200, `${report.over_time.rows.length} intervals`);
            // wfsim's own output has no stream-check finding: the chart says so.
            const findingsNote = await tab.evaluate(() => (globalThis as any).document.querySelector("#findings p.empty")?.textContent ?? null);
            assert.match(findingsNote ?? "", /^No stream-check findings/);
            // The timeline spans the run: its stream-time axis goes from the first event to the last, and its rows are not crowded.
            const timeline = await tab.evaluate(() => {
              const document = (globalThis as any).document;
              const chart = (globalThis as any).echarts.getInstanceByDom(document.getElementById("timeline"));
              const option = chart.getOption();
              return { min: option.xAxis[0].min, max: option.xAxis[0].max, rows: option.yAxis[0].data.length, height: document.getElementById("timeline").clientHeight };
            });
            assert.deepEqual([timeline.min, timeline.max], [report.time_span.first_ts_ms, report.time_span.last_ts_ms]);
            assert.ok(timeline.height >= timeline.rows * 16, `${timeline.rows} rows in ${timeline.height} px`);
            assert.ok((await tab.evaluate(() => (globalThis as any).document.querySelectorAll("#step-table tr").length)) > 1, "the per-step table");
            const compared = report.outliers.injected_gaps > 0 || report.outliers.flagged > 0;
            assert.equal((await inked(tab, "detection")) > 1000, compared, "#detection drawn when there is something to compare");
            // The viewer is in New York; the axis speaks UTC: 09:00 UTC is "09:00:00", not 04:00.
            const label = await tab.evaluate(() => {
              const chart = (globalThis as any).echarts.getInstanceByDom((globalThis as any).document.getElementById("concurrency"));
              return chart.getOption().xAxis[0].axisLabel.formatter(Date.UTC(2026, 0, 31, 9, 0, 0));
            });
            assert.equal(label, "09:00:00");
            const confusion = await tab.evaluate(() => (globalThis as any).document.getElementById("confusion").textContent);
            assert.match(confusion, new RegExp(`${report.outliers.flagged} flagged, ${report.outliers.true_positives} found`));
            await screenshot(tab, `analyze-report-${example}.png`);
          },
          "America/New_York",
        );
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }

  it("shows stream times in the zone --timezone names", { skip, timeout: 120_000 }, async () => {
    const stdout = await wfsimRun(["--samples", "300", "--start-time", "2026-01-31T09:00:00Z"]);
    const report = await analyzeText(stdout, { charts: true });
    const html = await renderHtml(report, { timeZone: "Asia/Kolkata" });
    await inBrowser({ html }, async (tab) => {
      const label = await tab.evaluate(() => {
        const chart = (globalThis as any).echarts.getInstanceByDom((globalThis as any).document.getElementById("concurrency"));
        return chart.getOption().xAxis[0].axisLabel.formatter(Date.UTC(2026, 0, 31, 9, 0, 0));
      });
      // UTC+05:30.
      assert.equal(label, "14:30:00");
    });
  });

  it("says why instead of drawing empty axes", { skip, timeout: 120_000 }, async () => {
    // One single-step transaction: a duration, no gap, nothing for the per-step views.
    const report = await analyzeText(compact([ev.open("solo", 0), ev.stepOpen("solo", 1, 10, 10), ev.stepDone("solo", 1, 10), ev.close("solo", 10, 10, 1)]), { charts: true });
    await inBrowser(report, async (tab) => {
      const notes = await tab.evaluate(() =>
        Object.fromEntries(["histograms", "steps", "detection"].map((id) => [id, (globalThis as any).document.querySelector(`#${id} p.empty`)?.textContent ?? null])),
      );
      assert.equal(notes.histograms, null, "the durations are drawn");
      assert.match(notes.steps, /^Nothing was measured/);
      assert.match(notes.detection, /^Nothing was measured/);
      assert.equal(await inked(tab, "steps"), 0);
      // The histogram has one half only: the durations.
      const series = await tab.evaluate(() => (globalThis as any).echarts.getInstanceByDom((globalThis as any).document.getElementById("histograms")).getOption().series.length);
      assert.equal(series, 1);
    });
  });
});
