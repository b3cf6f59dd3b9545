/**
 * Regenerates docs/img/report.png, the README's picture of the HTML report, from the README tour's
 * run (checkout.yaml, 5 simulated minutes, scored against its truth file). Needs Chromium
 * (CHROMIUM=/path, default /usr/bin/chromium) and a built dist: `node scripts/report-screenshot.ts`.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CLI = join(ROOT, "dist", "cli", "main.js");
const dir = mkdtempSync(join(tmpdir(), "wfsim-shot-"));
try {
  const events = join(dir, "checkout.jsonl");
  const truth = join(dir, "truth.jsonl");
  const html = join(dir, "report.html");
  const run = ["run", "--scenario", join(ROOT, "examples", "checkout.yaml"), "--clock", "virtual", "--duration", "5m", "--output", events, "--truth", truth, "--quiet"];
  execFileSync(process.execPath, [CLI, ...run]);
  // Relative names, run from the folder: the report's title reads as the README's tour.
  execFileSync(process.execPath, [CLI, "analyze", "checkout.jsonl", "--truth", "truth.jsonl", "--html", "report.html"], { cwd: dir, stdio: "ignore" });
  const browser = await chromium.launchPersistentContext(join(dir, "profile"), {
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
  });
  try {
    const tab = await browser.newPage();
    await tab.goto(pathToFileURL(html).href);
    await tab.waitForSelector("html[data-rendered=true]", { timeout: 30_000 });
    await tab.screenshot({ path: join(ROOT, "docs", "img", "report.png") });
  } finally {
    await browser.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
