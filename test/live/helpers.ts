/** Helpers of the live tests: a real Prometheus server, free ports, waiting for a line on stderr. */
import { spawn, type ChildProcess, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const PROMETHEUS = "/usr/bin/prometheus";

/** A port free on loopback now (the system's choice for port 0, released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0));
    });
  });
}

/** Resolves with the first stderr line of `child` that matches `pattern` (its groups), or rejects when it exits first. */
export function stderrMatch(child: ChildProcessWithoutNullStreams, pattern: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let text = "";
    const onData = (chunk: Buffer) => {
      text += chunk.toString("utf8");
      const match = pattern.exec(text);
      if (match !== null) {
        child.stderr.off("data", onData);
        resolve(match);
      }
    };
    child.stderr.on("data", onData);
    child.once("close", (code) => reject(new Error(`exited (${code}) before stderr matched ${pattern}; stderr: ${text}`)));
  });
}

/** Calls `probe` until it returns a value (not undefined), at most until `timeoutMs` has passed. */
export async function pollUntil<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms${last === undefined ? "" : ` (last error: ${String(last)})`}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

export interface PrometheusServer {
  readonly url: string;
  /** The instant vector of a PromQL query: each sample's labels and value. */
  query(promql: string): Promise<{ metric: Record<string, string>; value: number }[]>;
  stop(): Promise<void>;
}

/** Starts Debian's Prometheus on a free loopback port, scraping `target` (host:port) every 250 ms. */
export async function startPrometheus(target: string): Promise<PrometheusServer> {
  const dir = await mkdtemp(join(tmpdir(), "wfsim-prometheus-"));
  const config = join(dir, "prometheus.yml");
  await writeFile(
    config,
    `global:\n  scrape_interval: 250ms\n  scrape_timeout: 200ms\nscrape_configs:\n  - job_name: wfsim\n    static_configs:\n      - targets: ["${target}"]\n`,
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    PROMETHEUS,
    [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`, "--log.level=warn"],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let log = "";
  child.stderr!.on("data", (chunk: Buffer) => (log += chunk.toString("utf8")));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await pollUntil(`Prometheus ready at ${url}`, async () => {
      if (child.exitCode !== null) throw new Error(`Prometheus exited ${child.exitCode}: ${log}`);
      const response = await fetch(`${url}/-/ready`);
      return response.ok ? true : undefined;
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url,
    async query(promql) {
      const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
      const body = (await response.json()) as { status: string; error?: string; data?: { result: { metric: Record<string, string>; value: [number, string] }[] } };
      if (body.status !== "success") throw new Error(`query ${promql}: ${body.error}`);
      return body.data!.result.map((sample) => ({ metric: sample.metric, value: Number(sample.value[1]) }));
    },
    stop,
  };
}
