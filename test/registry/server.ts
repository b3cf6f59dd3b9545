// A real Schema Registry for tests and benchmarks: Apicurio Registry 3.3.3 (Apache-2.0), whose
// ready-to-run distribution Maven fetches from Maven Central (registry/pom.xml) into .registry/app
// once. It serves the Confluent-compatible API under /apis/ccompat/v7, keeps its data in memory and
// needs Java 21+: $WFSIM_REGISTRY_JAVA_HOME, else the Temurin 25 these machines have beside Java 17,
// else $JAVA_HOME or java on PATH when that is 21 or later. Node built-ins only, like kafka/broker.ts.
//
// Leaks: java runs under the same sh watchdog as the test broker: when Node exits for any reason, the
// kernel closes the pipe and the watchdog SIGKILLs the registry.

import { execFile, spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, openSync } from "node:fs";
import * as fs from "node:fs/promises";
import { request } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const APP_DIR = join(REPO_ROOT, ".registry", "app");
const RUN_JAR = join(APP_DIR, "quarkus-run.jar");
const POM_FILE = join(REPO_ROOT, "registry", "pom.xml");
const DEFAULT_JAVA_HOME = "/usr/lib/jvm/temurin-25-jdk-amd64";
const LOOPBACK = "127.0.0.1";
export const CCOMPAT_PATH = "/apis/ccompat/v7";

export const RegistryErrorCodes = ["TOOL_MISSING", "FETCH_FAILED", "START_FAILED", "START_TIMEOUT"] as const;
export class RegistryServerError extends Error {
  readonly code: (typeof RegistryErrorCodes)[number];
  constructor(code: (typeof RegistryErrorCodes)[number], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RegistryServerError";
    this.code = code;
  }
}

export interface RegistryHandle {
  /** Base URL of the Confluent-compatible API. */
  readonly url: string;
  readonly logFile: string;
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

function run(command: string, args: string[], timeoutMs: number): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd: REPO_ROOT, timeout: timeoutMs, maxBuffer: 16 << 20, killSignal: "SIGKILL" }, (error, stdout, stderr) => {
      if (error) reject(Object.assign(error, { stdout, stderr }));
      else resolve({ stdout, stderr });
    });
  });
}

async function javaMajor(java: string): Promise<number | undefined> {
  try {
    const { stderr, stdout } = await run(java, ["-version"], 30_000);
    const match = /version "(\d+)/.exec(stderr + stdout);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** A java of version 21 or later, or a TOOL_MISSING error saying where it was looked for. */
export async function registryJava(): Promise<string> {
  const candidates: string[] = [];
  const override = process.env["WFSIM_REGISTRY_JAVA_HOME"];
  if (override) candidates.push(join(override, "bin", "java"));
  else {
    if (existsSync(DEFAULT_JAVA_HOME)) candidates.push(join(DEFAULT_JAVA_HOME, "bin", "java"));
    const home = process.env["JAVA_HOME"];
    candidates.push(home ? join(home, "bin", "java") : "java");
  }
  for (const java of candidates) {
    const major = await javaMajor(java);
    if (major !== undefined && major >= 21) return java;
  }
  throw new RegistryServerError(
    "TOOL_MISSING",
    `Apicurio Registry needs Java 21+; none found (looked at ${candidates.join(", ")}). Set WFSIM_REGISTRY_JAVA_HOME to a JDK 21+.`,
  );
}

/** Unpacks the Apicurio distribution into .registry/app with Maven, once. */
export async function ensureRegistryApp(): Promise<void> {
  if (existsSync(RUN_JAR)) return;
  try {
    await run("mvn", ["-B", "-q", "--no-transfer-progress", "-f", POM_FILE, "dependency:unpack"], 15 * 60_000);
  } catch (error) {
    const { code, stdout = "", stderr = "" } = error as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    if (code === "ENOENT") throw new RegistryServerError("TOOL_MISSING", "mvn was not found: install Apache Maven 3.6+ to fetch Apicurio Registry");
    throw new RegistryServerError("FETCH_FAILED", `mvn could not fetch Apicurio Registry (${POM_FILE}):\n${`${stdout}\n${stderr}`.trim().split("\n").slice(-20).join("\n")}`);
  }
  if (!existsSync(RUN_JAR)) throw new RegistryServerError("FETCH_FAILED", `mvn ran but ${RUN_JAR} is missing`);
}

async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      server.close(() => (address && typeof address === "object" ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

function httpStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { timeout: 2000 }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(0));
    req.end();
  });
}

// As in kafka/broker.ts: a line on fd 3 means "java is done"; end of file means Node is gone.
const WATCHDOG = ["exec 3<&0", '( if read -r line <&3; then exit 0; fi; kill -KILL "$$" 2>/dev/null ) &', 'exec "$@" 0</dev/null 3<&-'].join("\n");

/** Starts Apicurio on free loopback ports and resolves once its Confluent-compatible API answers. */
export interface RegistryStartOptions {
  readonly startTimeoutMs?: number;
  /** The API's port (default: a free one); the management port is a free one. */
  readonly port?: number;
  /** The JVM outlives this Node process (no watchdog); used by `npm run registry:start`. */
  readonly detached?: boolean;
  /** Where the log goes (default: a new temporary dir). */
  readonly logFile?: string;
}

export async function startRegistry(options: RegistryStartOptions = {}): Promise<RegistryHandle> {
  const java = await registryJava();
  await ensureRegistryApp();
  const httpPort = options.port ?? (await freeLoopbackPort());
  let managementPort = await freeLoopbackPort();
  while (managementPort === httpPort) managementPort = await freeLoopbackPort();
  const logFile = options.logFile ?? join(await fs.mkdtemp(join(tmpdir(), "wfsim-registry-")), "registry.log");
  const out = openSync(logFile, "a");
  const javaArgs = ["-Xmx512m", "-jar", RUN_JAR];
  let child: ChildProcess;
  try {
    const [command, args] = options.detached ? [java, javaArgs] : ["/bin/sh", ["-c", WATCHDOG, "wfsim-schema-registry", java, ...javaArgs]];
    child = spawn(command, args, {
      cwd: APP_DIR,
      detached: options.detached === true,
      stdio: [options.detached ? "ignore" : "pipe", out, out],
      env: {
        ...process.env,
        QUARKUS_HTTP_HOST: LOOPBACK,
        QUARKUS_HTTP_PORT: String(httpPort),
        QUARKUS_MANAGEMENT_HOST: LOOPBACK,
        QUARKUS_MANAGEMENT_PORT: String(managementPort),
      },
    });
  } finally {
    closeSync(out);
  }
  let exit: string | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once("exit", (code, signal) => {
      exit = signal ?? String(code);
      child.stdin?.end("exited\n");
      resolve();
    }),
  );
  child.unref();
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  child.stdin?.on("error", () => {});
  const url = `http://${LOOPBACK}:${httpPort}${CCOMPAT_PATH}`;
  const stop = async () => {
    if (exit !== undefined) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  };
  const timeoutMs = options.startTimeoutMs ?? 120_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await httpStatus(`${url}/subjects`)) === 200) break;
    if (exit !== undefined) {
      const tail = (await fs.readFile(logFile, "utf8").catch(() => "")).split("\n").slice(-30).join("\n");
      throw new RegistryServerError("START_FAILED", `Apicurio Registry exited (${exit}) before it was up:\n${tail}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new RegistryServerError("START_TIMEOUT", `Apicurio Registry did not answer ${url}/subjects within ${timeoutMs} ms (log: ${logFile})`);
    }
    await sleep(200);
  }
  return {
    url,
    logFile,
    get pid() {
      return child.pid;
    },
    stop,
  };
}
