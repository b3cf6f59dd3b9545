import { open } from "node:fs";
import { promisify } from "node:util";
import { WfsimError } from "../errors.ts";

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

/** "no such file or directory" for ENOENT and the like: what a user can act on, without the errno noise. */
export function describeSystemError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case "ENOENT":
      return "no such file or directory";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EISDIR":
      return "it is a directory";
    case "ENOSPC":
      return "no space left on device";
    case "EROFS":
      return "read-only file system";
    case "ENOTDIR":
      return "a part of the path is not a directory";
    case "EPIPE":
      return "the reader closed the pipe";
    default:
      return error instanceof Error ? error.message : String(error);
  }
}
