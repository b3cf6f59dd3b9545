#!/usr/bin/env node
/**
 * The `wfsim` executable: the only place that touches the process itself (signals, exit code).
 * A first SIGINT/SIGTERM stops the run cleanly; a second one ends the process at once.
 */

// Checked before anything else is loaded: the Kafka client, and wfsim itself, use what older Node.js
// lacks, and would fail later with a stack trace instead of this line.
const MINIMUM = [22, 22] as const;
const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
if (major < MINIMUM[0] || (major === MINIMUM[0] && minor < MINIMUM[1])) {
  process.stderr.write(
    `wfsim: needs Node.js ${MINIMUM.join(".")} or later, found ${process.version}; in wfsim's own folder, npx wfsim runs it on the Node.js 24 that npm install brings\n`,
  );
  process.exit(2);
}

// Listening before anything else is loaded: a signal that comes while wfsim starts (loading its
// modules, the scenario, opening the outputs) is kept in the controller and honoured by the command.
const controller = new AbortController();
const onSignal = (name: "SIGINT" | "SIGTERM") => {
  if (controller.signal.aborted) {
    // Loaded with the rest by then (a second signal during loading finds the module in the cache or loads it).
    void import("./forced-exit.ts").then(({ forcedExit }) => {
      const { lines, exitCode } = forcedExit(name);
      for (const line of lines) process.stderr.write(`${line}\n`);
      process.exit(exitCode);
    });
    return;
  }
  controller.abort(name);
};
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);

const { runMain } = await import("./program.ts");

// Reports, schemas and help go through process.stdout. When its reader goes away (`wfsim analyze |
// head`), that is the end of the story, not a crash: leave quietly. Any other failure to write
// stdout is reported in one line. A command that listens for it itself (a follower, which stops
// cleanly when its alerts have no reader) is left to do so.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (process.stdout.listenerCount("error") > 1) return;
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
  process.stderr.write(`wfsim: cannot write to stdout: ${error.message}\n`);
  process.exit(1);
});

process.exitCode = await runMain(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr }, controller.signal);
