/**
 * The files `wfsim run` reads and writes, checked together before any of them is opened: a run refused
 * for its second path must not already have emptied the first one (opening for writing truncates).
 */
import { constants, type Stats } from "node:fs";
import { access, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { describeSystemError, WfsimError } from "../errors.ts";

/** A path given on the command line and the flag that gave it, for messages: "--truth", "--scenario". */
export interface FlagPath {
  readonly flag: string;
  readonly path: string;
}

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

async function statOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch {
    return undefined; // not there (yet): compared by its resolved path
  }
}

/** What opening `path` for writing would say, found without opening (and so without truncating) it. */
async function checkWritable({ flag, path }: FlagPath): Promise<void> {
  const refuse = (error: unknown): never => {
    throw new WfsimError("FILE", `${flag} ${path}: cannot open for writing (${describeSystemError(error)})`, { cause: error });
  };
  const info = await statOrUndefined(path);
  if (info !== undefined) {
    if (info.isDirectory()) refuse(Object.assign(new Error("is a directory"), { code: "EISDIR" }));
    await access(path, constants.W_OK).catch(refuse);
    return;
  }
  const parent = dirname(resolve(path));
  const parentInfo = await stat(parent).catch(refuse);
  if (!parentInfo.isDirectory()) refuse(Object.assign(new Error("not a directory"), { code: "ENOTDIR" }));
  await access(parent, constants.W_OK | constants.X_OK).catch(refuse);
}

/** `wfsim run`'s own paths from its flags: what it writes (--output, --truth, --undelivered) and what it reads. */
export function runPathsOf(
  flags: { readonly [key: string]: string | boolean | undefined },
  nameOf: (key: string) => string,
): { outputs: FlagPath[]; inputs: FlagPath[] } {
  const pick = (keys: readonly string[]): FlagPath[] =>
    keys.flatMap((key) => (typeof flags[key] === "string" ? [{ flag: nameOf(key), path: flags[key] }] : []));
  return {
    outputs: pick(["output", "truth", "undelivered"]),
    inputs: pick(["scenario", "kafkaCa", "kafkaCert", "kafkaKey", "kafkaPasswordFile"]),
  };
}
