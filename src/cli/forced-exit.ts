/**
 * A second SIGINT/SIGTERM ends the process at once (main.ts). What would be lost by that says so
 * first: a part of a command that holds emitted data not yet written or delivered registers here, and
 * the exit code then tells that data was lost (3, as for events Kafka did not acknowledge) instead of
 * the 130/143 that promise everything emitted was written or delivered.
 */

/** What a holder of undelivered data says on a forced exit; undefined when it holds nothing. */
export type ForcedExitCheck = () => { readonly line: string; readonly exitCode: number } | undefined;

const checks = new Set<ForcedExitCheck>();

/** Registers `check` until the returned function is called. */
export function onForcedExit(check: ForcedExitCheck): () => void {
  checks.add(check);
  return () => checks.delete(check);
}

/** The lines to print and the exit code of a forced exit by `signal` (130 or 143 when nothing is lost). */
export function forcedExit(signal: "SIGINT" | "SIGTERM"): { lines: string[]; exitCode: number } {
  let exitCode = signal === "SIGINT" ? 130 : 143;
  const lines: string[] = [];
  for (const check of checks) {
    const lost = check();
    if (lost === undefined) continue;
    lines.push(lost.line);
    exitCode = lost.exitCode;
  }
  return { lines, exitCode };
}
