import { constants, open, type Stats } from "node:fs";
import { access, open as openFile, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { promisify } from "node:util";
import { describeSystemError, WfsimError } from "../errors.ts";

export { describeSystemError };

const openFd = promisify(open);

export interface OutputTarget {
  readonly fd: number;
  /** Whether the run should close the descriptor at the end (a file it opened; never stdout). */
  readonly owned: boolean;
  /** For messages: "stdout" or the file's path. */
  readonly description: string;
}

/** A path given on the command line and the flag that gave it, for messages: "--truth", "--html". */
export interface FlagPath {
  readonly flag: string;
  readonly path: string;
}

/**
 * Where JSON Lines go: stdout, or a file opened before the run starts, so that a bad path fails at
 * once with a message that names it rather than after the first event.
 */
export async function openOutput(path: string | undefined, flag: string): Promise<OutputTarget> {
  if (path === undefined || path === "-") return { fd: 1, owned: false, description: "stdout" };
  if (path.trim() === "") throw new WfsimError("INVALID_OPTION", `${flag} must be a file path, got an empty value`);
  try {
    return { fd: await openFd(path, "w"), owned: true, description: path };
  } catch (error) {
    throw cannotOpen({ flag, path }, error);
  }
}

/**
 * What opening `path` for writing would say, found without opening it: opening truncates, and a
 * command refused after this check (a bad flag, an unreachable broker, windows longer than the run)
 * must leave the file as it was.
 */
export async function checkWritable({ flag, path }: FlagPath): Promise<void> {
  if (path.trim() === "") throw new WfsimError("INVALID_OPTION", `${flag} must be a file path, got an empty value`);
  const refuse = (error: unknown): never => {
    throw cannotOpen({ flag, path }, error);
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

/**
 * Writes a command's finished result (a report, a page, windows) to a file checked by checkWritable
 * when the command started and opened only now: until the result is there, the file keeps what it held.
 * Opened in place rather than written beside it and renamed, so that a device (/dev/stderr), a link or
 * the file's owner and mode stay what the user made them.
 */
export async function writeResult(target: FlagPath, parts: string | Iterable<string>): Promise<void> {
  let handle;
  try {
    handle = await openFile(target.path, "w");
  } catch (error) {
    throw cannotOpen(target, error);
  }
  try {
    if (typeof parts === "string") await handle.writeFile(parts);
    else for (const part of parts) await handle.write(part);
  } catch (error) {
    throw new WfsimError("OUTPUT", `${target.flag} ${target.path}: cannot write (${describeSystemError(error)})`, { cause: error });
  } finally {
    await handle.close();
  }
}

/** Whether something is at `path` (followed through links); undefined when not (yet). */
export async function statOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch {
    return undefined;
  }
}

function cannotOpen({ flag, path }: FlagPath, error: unknown): WfsimError {
  return new WfsimError("FILE", `${flag} ${path}: cannot open for writing (${describeSystemError(error)})`, { cause: error });
}
