/**
 * A SIGINT/SIGTERM that comes while `wfsim run` starts (its modules and scenario loading) is kept by the
 * executable's AbortController, whose "abort" event has fired by the time the command looks: it is read
 * here, before any output is opened, so that such a run writes nothing and leaves existing files alone.
 */
export function stoppedDuringStartup(context: { readonly signal: AbortSignal; readonly stderr: NodeJS.WritableStream }): boolean {
  if (!context.signal.aborted) return false;
  context.stderr.write(`wfsim: stopped by ${String(context.signal.reason)} while starting: no output was opened, nothing written\n`);
  return true;
}
