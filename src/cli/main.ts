#!/usr/bin/env node
/**
 * The `wfsim` executable: the only place that touches the process itself (signals, exit code).
 * A first SIGINT/SIGTERM stops the run cleanly; a second one ends the process at once.
 */
import { runMain } from "./program.ts";

const controller = new AbortController();
const onSignal = (name: "SIGINT" | "SIGTERM") => {
  if (controller.signal.aborted) process.exit(name === "SIGINT" ? 130 : 143);
  controller.abort(name);
};
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);

process.exitCode = await runMain(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr }, controller.signal);
