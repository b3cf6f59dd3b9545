/**
 * Compatibility with the seed's reference script: its flags mean the same, and every event carries
 * the reference's fields under the same names and JSON types, so a consumer written for the reference
 * reads wfsim unchanged. The script runs here side by side with wfsim.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { parseLines, REFERENCE_SCRIPT, runCli } from "../helpers/cli.ts";
import { eventValidator } from "../helpers/events.ts";

const python = spawnSync("python3", ["--version"]).status === 0;
const skip = python ? false : "python3 is not installed: the reference script cannot run";

/** Small delays so the reference finishes fast; outliers often so that both kinds of gap appear. */
const ARGS = ["--samples", "12", "--steps", "4", "--pre-min", "1", "--pre-max", "20", "--inter-min", "1", "--inter-max", "10", "--outlier-ms", "30", "--outlier-prob", "0.3", "--concurrency", "5"];

function shape(event: Record<string, unknown>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(event)) {
    result[key] = value === null ? "null" : Array.isArray(value) ? "array" : typeof value;
    if (typeof value === "object" && value !== null) {
      for (const [inner, innerValue] of Object.entries(value)) result[`${key}.${inner}`] = typeof innerValue;
    }
  }
  return result;
}

describe("compatibility with the reference script", { skip }, () => {
  it("takes the same flags and gives events with the same fields and JSON types", async () => {
    const reference = spawnSync("python3", [REFERENCE_SCRIPT, ...ARGS], { encoding: "utf8", timeout: 60_000 });
    assert.equal(reference.status, 0, reference.stderr);
    const ours = await runCli(ARGS);
    assert.equal(ours.code, 0, ours.stderr);

    const referenceEvents = parseLines(reference.stdout);
    const ourEvents = parseLines(ours.stdout);
    assert.equal(ourEvents.length, referenceEvents.length, "same number of events for the same workload");

    const shapesByType = (events: Record<string, unknown>[]) => {
      const shapes = new Map<string, string>();
      for (const event of events) {
        const key = String(event.type);
        const found = JSON.stringify(Object.entries(shape(event)).sort());
        const previous = shapes.get(key);
        assert.ok(previous === undefined || previous === found, `${key} events differ in shape within one stream`);
        shapes.set(key, found);
      }
      return shapes;
    };
    const referenceShapes = shapesByType(referenceEvents);
    const ourShapes = shapesByType(ourEvents);
    assert.deepEqual([...ourShapes.keys()].sort(), [...referenceShapes.keys()].sort());
    for (const [type, referenceShape] of referenceShapes) {
      // Every reference field is there with the same JSON type (wfsim may add fields, never rename).
      const ourShape = new Map(JSON.parse(ourShapes.get(type)!) as [string, string][]);
      for (const [field, jsonType] of JSON.parse(referenceShape) as [string, string][]) {
        assert.equal(ourShape.get(field), jsonType, `${type}.${field}`);
      }
    }
  });

  it("accepts the reference's own output under wfsim's schema", () => {
    const reference = spawnSync("python3", [REFERENCE_SCRIPT, ...ARGS], { encoding: "utf8", timeout: 60_000 });
    for (const event of parseLines(reference.stdout)) assert.ok(eventValidator.Check(event), JSON.stringify(event));
  });

  it("has the same defaults as the reference", async () => {
    const help = spawnSync("python3", [REFERENCE_SCRIPT, "--help"], { encoding: "utf8" }).stdout.replace(/\s+/g, " ");
    const ours = (await runCli(["run", "--help"])).stdout.replace(/\s+/g, " ");
    const flags = [...help.matchAll(/(--[a-z-]+) [A-Z_]+/g)].map((m) => m[1]!).filter((flag) => flag !== "--help");
    assert.ok(flags.length >= 13, `found the reference's flags: ${flags.join(" ")}`);
    for (const flag of flags) assert.ok(ours.includes(`${flag} `), `wfsim run has ${flag}`);
  });
});
