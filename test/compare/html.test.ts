/**
 * The comparison's HTML page in a real headless Chromium: one chart per compared figure, each really
 * drawn (canvas pixels), expected as a line and the pipeline's values as points coloured by verdict,
 * missing and extra windows marked; nothing loaded from the network. A screenshot goes to test-output/.
 *
 * Without Chromium the test is skipped, loudly; under CI=true it must run (.ci/run installs it).
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, it } from "node:test";
import { chromium } from "playwright-core";
import { analyzeWithWindows } from "../../src/analyze/analyze.ts";
import { textSource } from "../../src/analyze/read/source.ts";
import { renderWindows } from "../../src/analyze/render/windows.ts";
import { compareWindows } from "../../src/compare/compare.ts";
import { resolveMapping } from "../../src/compare/mapping.ts";
import { renderCompareHtml } from "../../src/compare/render.ts";
import { runCli } from "../helpers/cli.ts";

const CHROMIUM = "/usr/bin/chromium";
const OUTPUT = fileURLToPath(new URL("../../test-output/", import.meta.url));
const available = existsSync(CHROMIUM);
if (!available) {
  const why = `Chromium not found at ${CHROMIUM} (apt-get install chromium)`;
  if (process.env.CI === "true") throw new Error(`${why}: the compare HTML test must run in CI`);
  process.stderr.write(`\n*** SKIPPING the compare HTML browser test: ${why} ***\n\n`);
}
const skip = available ? false : `no ${CHROMIUM}`;

describe("compare: the HTML page in a browser", () => {
  it("draws expected against actual over time for each figure, offline", { skip, timeout: 120_000 }, async () => {
    const run = await runCli(["run", "--clock", "virtual", "--quiet", "--samples", "3000", "--start-time", "2026-01-31T09:00:00Z", "--scenario", "examples/checkout.yaml"]);
    assert.equal(run.code, 0, run.stderr);
    const { windows } = await analyzeWithWindows(textSource("events.jsonl", run.stdout), { windows: { sizeMs: 60_000, by: "workflow" } });
    const golden = renderWindows(windows.rows, windows.by, "jsonl");
    // A pipeline that is mostly right: one count off, p95 a little off, one window dropped.
    const actual = windows.rows
      .filter((_, i) => i !== 3)
      .map((row, i) => ({ ...row, completed: i === 5 ? row.completed + 2 : row.completed, duration_p95_ms: row.duration_p95_ms === null ? null : Math.round(row.duration_p95_ms * (i % 2 === 0 ? 1.01 : 1.2)) }));
    const mapping = await resolveMapping({ fields: ["completed=completed", "in_flight=in_flight", "duration_p95_ms=duration_p95_ms"], tolerances: ["duration_p95_ms=5%"] });
    const { report, series } = await compareWindows(textSource("golden.jsonl", golden), textSource("actual.jsonl", actual.map((r) => JSON.stringify(r)).join("\n")), mapping);
    assert.equal(report.windows.missing, 1);
    assert.ok(report.figures.duration_p95_ms!.within > 0 && report.figures.duration_p95_ms!.off > 0);

    const dir = await mkdtemp(join(tmpdir(), "wfsim-compare-html-"));
    const page = join(dir, "compare.html");
    await writeFile(page, await renderCompareHtml(report, series));
    const browser = await chromium.launchPersistentContext(join(dir, "profile"), {
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
      for (const figure of ["completed", "in_flight", "duration_p95_ms"]) {
        const drawn = await tab.evaluate((id) => {
          // Runs in the page; the project's typecheck has no DOM types, hence the loose typing.
          const canvas = (globalThis as any).document.querySelector(`#chart-${id} canvas`);
          if (canvas === null || canvas.width === 0) return 0;
          const pixels: Uint8ClampedArray = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
          let count = 0;
          for (let i = 0; i < pixels.length; i += 4) if (pixels[i + 3]! > 0 && pixels[i]! + pixels[i + 1]! + pixels[i + 2]! < 600) count++;
          return count;
        }, figure);
        assert.ok(drawn > 2000, `chart of ${figure} drew ${drawn} pixels`);
      }
      const names = await tab.evaluate(() => {
        const chart = (globalThis as any).echarts.getInstanceByDom((globalThis as any).document.getElementById("chart-completed"));
        return chart.getOption().series.map((s: { name: string; data: unknown[] }) => [s.name, s.data.length]);
      });
      const byName = Object.fromEntries(names as [string, number][]);
      assert.equal(byName["missing / extra window"], 1, JSON.stringify(byName));
      assert.ok(Object.keys(byName).some((name) => name.endsWith("expected")) && Object.keys(byName).some((name) => name.endsWith("actual")));
      await mkdir(OUTPUT, { recursive: true });
      await tab.screenshot({ path: join(OUTPUT, "compare-report.png"), fullPage: true });
    } finally {
      await browser.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
