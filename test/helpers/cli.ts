/** Runs the built CLI (`dist/cli/main.js`) as a user would, on the project's Node.js. */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { fileURLToPath } from "node:url";

export const CLI = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));
export const REFERENCE_SCRIPT = fileURLToPath(new URL("../compat/simulate_workflows.py", import.meta.url));

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function startCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
}

/** Runs the CLI to its end (bounded by `timeoutMs`) and collects its output. */
export function runCli(
  args: readonly string[],
  { input, timeoutMs = 60_000, env = {} }: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  return collect(startCli(args, env), { input, timeoutMs });
}

export function collect(
  child: ChildProcessWithoutNullStreams,
  { input, timeoutMs = 60_000 }: { input?: string | undefined; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`CLI did not finish within ${timeoutMs} ms; stderr so far: ${stderr}`));
    }, timeoutMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
  });
}

/** Resolves with the first `count` complete lines of the child's stdout (and keeps collecting). */
export function firstLines(child: ChildProcessWithoutNullStreams, count: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    let buffered = "";
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      const lines = buffered.split("\n");
      if (lines.length > count) {
        child.stdout.off("data", onData);
        resolve(lines.slice(0, count));
      }
    };
    child.stdout.on("data", onData);
    child.on("close", () => reject(new Error(`stdout closed before ${count} lines`)));
  });
}

export function parseLines(text: string): Record<string, unknown>[] {
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
