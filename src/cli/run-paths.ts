/**
 * The files `wfsim run` (and `wfsim compare`) read and write, checked together before any of them is
 * opened: a run refused for its second path must not already have emptied the first one (opening for
 * writing truncates).
 */
import { resolve } from "node:path";
import { WfsimError } from "../errors.ts";
import { checkWritable, statOrUndefined, type FlagPath } from "./output.ts";

export type { FlagPath };

/**
 * Refuses, in one line naming both flags, an output that is one of the inputs or the same file as
 * another output (by device and inode when the file exists, else by resolved path), then checks that
 * every output can be opened for writing, without opening it. "-" (stdout) is not a file.
 */
export async function checkRunPaths(outputs: readonly FlagPath[], inputs: readonly FlagPath[]): Promise<void> {
  for (const { flag, path } of outputs) {
    if (path.trim() === "") throw new WfsimError("INVALID_OPTION", `${flag} must be a file path, got an empty value`);
  }
  const seen: { readonly entry: FlagPath; readonly id: string; readonly input: boolean }[] = [];
  for (const [entries, input] of [[inputs, true], [outputs, false]] as const) {
    for (const entry of entries) {
      if (entry.path === "-" || entry.path.trim() === "") continue; // an empty input path is refused where it is read
      const info = await statOrUndefined(entry.path);
      // A terminal or /dev/null is not a file two writers can corrupt: sharing it is the user's choice.
      if (!input && info?.isCharacterDevice() === true) continue;
      const id = info === undefined ? `path:${resolve(entry.path)}` : `inode:${info.dev}:${info.ino}`;
      const other = seen.find((s) => s.id === id);
      if (other !== undefined && !input) {
        const what = other.input ? "it would be overwritten" : "both would write into one corrupt file";
        throw new WfsimError(
          "INVALID_OPTION",
          `${entry.flag} and ${other.entry.flag} name the same file (${entry.path}): ${what}; give ${entry.flag} another path`,
        );
      }
      seen.push({ entry, id, input });
    }
  }
  for (const output of outputs) if (output.path !== "-") await checkWritable(output);
}

/** `wfsim run`'s own paths from its flags: what it writes (--output, --truth, --undelivered, --report) and what it reads (--score-alerts file:PATH among them). */
export function runPathsOf(
  flags: { readonly [key: string]: string | boolean | undefined },
  nameOf: (key: string) => string,
): { outputs: FlagPath[]; inputs: FlagPath[] } {
  const pick = (keys: readonly string[]): FlagPath[] =>
    keys.flatMap((key) => (typeof flags[key] === "string" ? [{ flag: nameOf(key), path: flags[key] }] : []));
  // A followed alert file (--score-alerts file:PATH) is read while the run writes: an output into it would feed the scorer its own lines.
  const alerts = flags.scoreAlerts;
  const alertFile = typeof alerts === "string" && alerts.startsWith("file:") && alerts.length > "file:".length ? [{ flag: nameOf("scoreAlerts"), path: alerts.slice("file:".length) }] : [];
  return {
    outputs: pick(["output", "truth", "undelivered", "report"]),
    inputs: [...pick(["scenario", "kafkaCa", "kafkaCert", "kafkaKey", "kafkaPasswordFile"]), ...alertFile],
  };
}
