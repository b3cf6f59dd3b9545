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
import { renderHtml } from "../../src/analyze/render-html.ts";
import { analyzeText, compact, ev, WFSIM } from "./helpers.ts";

const exec = promisify(execFile);
const CHROMIUM = "/usr/bin/chromium";
const OUTPUT = fileURLToPath(new URL("../../test-output/", import.meta.url));
const available = existsSync(CHROMIUM);
if (!available) {
  const why = `Chromium not found at ${CHROMIUM} (apt-get install chromium)`;
  if (process.env.CI === "true") throw new Error(`${why}: the HTML report test must run in CI`);
  process.stderr.write(`\n*** SKIPPING the HTML report browser test: ${why} ***\n\n`);
}

describe("analyze: the HTML report in a browser", () => {
  it("renders every chart offline, and is saved as a screenshot", { skip: available ? false : `no ${CHROMIUM}`, timeout: 120_000 }, async () => {
    const { stdout } = await exec(process.execPath, [WFSIM, "run", "--clock", "virtual", "--samples", "3000", "--start-time", "2026-01-31T09:00:00Z", "--quiet"], {
      maxBuffer: 1 << 28,
    });
    // A few faults too, so the report's lists are not empty.
    const text = stdout + compact([ev.stepOpen("txn_orphan", 1, Date.parse("2026-01-31T09:10:00Z"), 5)]);
    const report = await analyzeText(text, { charts: true });
    assert.ok(report.charts!.timeline.length >= 40, "the timeline draws the sample and the flagged transactions");

    const dir = await mkdtemp(join(tmpdir(), "wfsim-html-"));
    const profile = join(dir, "profile");
    const page = join(dir, "report.html");
    await writeFile(page, await renderHtml(report));
    // A fresh profile directory for every run (playwright passes it as --user-data-dir).
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 900 },
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
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

      for (const id of ["histograms", "timeline", "concurrency"]) {
        const drawn = await tab.evaluate((chartId) => {
          // Runs in the page; the project's typecheck has no DOM types, hence the loose typing.
          const canvas = (globalThis as any).document.querySelector(`#${chartId} canvas`);
          if (canvas === null || canvas.width === 0 || canvas.height === 0) return 0;
          const pixels: Uint8ClampedArray = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
          let inked = 0;
          for (let i = 0; i < pixels.length; i += 4) {
            // Anything visibly darker than the white background.
            if (pixels[i + 3]! > 0 && pixels[i]! + pixels[i + 1]! + pixels[i + 2]! < 600) inked++;
          }
          return inked;
        }, id);
        assert.ok(drawn > 2000, `chart #${id} drew ${drawn} pixels`);
      }
      await mkdir(OUTPUT, { recursive: true });
      await tab.screenshot({ path: join(OUTPUT, "analyze-report.png"), fullPage: true });
    } finally {
      await browser.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
