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

/**
 * Alerts for a run: every kind of case the scorer tells apart, from its truth and its events: found
 * before, at and after the anomaly began, duplicates, wrong kinds, unlabelled and unknown transactions,
 * lines that are no alerts.
 */
export function alertLines(truth: Record<string, unknown>[], events: Record<string, unknown>[]): string[] {
  const labelled = new Set(truth.map((record) => record.txn_id));
  const alerts: unknown[] = [];
  truth.forEach((record, i) => {
    const ts = record.ts_ms as number;
    // Outliers: two in three found, a second before (early), at, or up to 3 s after the anomaly began.
    if (record.kind === "outlier" && i % 3 !== 0) alerts.push({ txn_id: record.txn_id, ts_ms: ts + ((i % 5) - 1) * 1000, kind: "outlier" });
    if (record.kind === "stuck" && i % 2 === 1) alerts.push({ txn_id: record.txn_id, ts_ms: (record.silent_since_ms as number) + 5000, kind: "stuck" });
    // Duplicates and wrong kinds: a second, later outlier alert on every seventh labelled transaction.
    if (i % 7 === 0) alerts.push({ txn_id: record.txn_id, ts_ms: ts + 9000, kind: "outlier" });
  });
  const unlabelled = events.filter((event) => event.type === "transaction_open" && !labelled.has(event.txn_id)).slice(0, 40);
  for (const event of unlabelled) alerts.push({ txn_id: event.txn_id, ts_ms: (event.ts_ms as number) + 5000, kind: "outlier" });
  alerts.push({ txn_id: "txn_never_in_the_run", ts_ms: 1, kind: "stuck" });
  // Lines that are no alerts are counted and skipped; the last line has no line break.
  return [...alerts.map((alert) => JSON.stringify(alert)), "not json", '{"ts_ms":3}'];
}

/** alertLines as a file's text, whose last line has no line break. */
export function alertsFor(truth: Record<string, unknown>[], events: Record<string, unknown>[]): string {
  return alertLines(truth, events).join("\n");
}
