// node scripts/detector-jar.ts    builds the reference pipeline (examples/pipelines/kafka-streams)
//                                 once: its jar, its dependencies in target/lib, its own tests.
//
// Maven runs only when the pom or a source file changed since the last build (a stamp in target/
// holds their hash), so the end-to-end test and CI build it once. Maven's repository persists on a
// machine, and Maven fetches from Maven Central what it lacks.

import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import * as fs from "node:fs/promises";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

export const PIPELINE_DIR = fileURLToPath(new URL("../examples/pipelines/kafka-streams/", import.meta.url));
export const DETECTOR_JAR = join(PIPELINE_DIR, "target", "wfsim-detector.jar");
const STAMP = join(PIPELINE_DIR, "target", ".wfsim-build-stamp");
const MAVEN_TIMEOUT_MS = 15 * 60_000;

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name)).sort();
}

/** A hash of the pom and every source file, names included. */
async function sourcesHash(): Promise<string> {
  const hash = createHash("sha256");
  for (const file of [join(PIPELINE_DIR, "pom.xml"), ...(await filesUnder(join(PIPELINE_DIR, "src")))]) {
    hash.update(relative(PIPELINE_DIR, file)).update("\0").update(await fs.readFile(file)).update("\0");
  }
  return hash.digest("hex");
}

/** Builds the detector unless the jar is there from the same sources; resolves with the jar's path. */
export async function ensureDetectorJar(): Promise<string> {
  const hash = await sourcesHash();
  if (existsSync(DETECTOR_JAR) && (await fs.readFile(STAMP, "utf8").catch(() => "")) === hash) return DETECTOR_JAR;
  await fs.rm(STAMP, { force: true });
  await new Promise<void>((resolve, reject) => {
    execFile("mvn", ["-B", "-q", "--no-transfer-progress", "-f", join(PIPELINE_DIR, "pom.xml"), "package"], { timeout: MAVEN_TIMEOUT_MS, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      if (error === null) resolve();
      else reject(new Error(`mvn package of ${PIPELINE_DIR} failed:\n${`${stdout}${stderr}`.split("\n").slice(-60).join("\n")}`, { cause: error }));
    });
  });
  await fs.writeFile(STAMP, hash);
  return DETECTOR_JAR;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const started = Date.now();
  const jar = await ensureDetectorJar();
  process.stderr.write(`reference pipeline ready: ${jar} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
}
