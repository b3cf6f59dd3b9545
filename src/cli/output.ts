import { open } from "node:fs";
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
    throw new WfsimError("FILE", `${flag} ${path}: cannot open for writing (${describeSystemError(error)})`, {
      cause: error,
    });
  }
}
