// A real single-node Apache Kafka broker (KRaft, broker + controller in one JVM) on loopback, for
// tests, benchmarks and `npm run kafka:start`. Node built-ins only: this module must work before
// (and without) any npm dependency of the app.
//
// Life of a broker:
//   ensureKafkaJars()  Maven copies the jars named in kafka/pom.xml into .kafka/lib (once).
//   startBroker()      free loopback ports, a data dir, TLS files (openssl), server.properties,
//                      `StorageTool format --standalone` (+ SCRAM users), then `java kafka.Kafka`;
//                      resolves when the broker logged "Kafka Server started" and answered a real
//                      ApiVersions request.
//   kill() / restart() SIGKILL (a crash), then start again on the same ports and data dir.
//   stop()             SIGTERM, bounded wait, then SIGKILL; removes a data dir it created.
//
// Leaks: unless `detached`, java runs under a small sh watchdog that holds a pipe from this Node
// process. When Node exits for any reason, SIGKILL included, the kernel closes the pipe and the
// watchdog SIGKILLs the broker. What is left behind after such a crash is the temporary data dir
// (under the OS temp dir, named wfsim-kafka-*), never a running broker. A `detached` broker (the
// one `npm run kafka:start` leaves running) is meant to outlive Node; its pid is in broker.json.

import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { closeSync, existsSync, openSync } from "node:fs";
import * as fs from "node:fs/promises";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const KAFKA_LIB_DIR = join(REPO_ROOT, ".kafka", "lib");
const POM_FILE = join(REPO_ROOT, "kafka", "pom.xml");
const LOG4J_CONFIG = join(REPO_ROOT, "kafka", "log4j2.xml");
// Written last into the lib dir; holds a hash of pom.xml so that a changed pom refetches.
const JARS_STAMP = ".wfsim-jars-complete";

const LOOPBACK = "127.0.0.1";
const READY_LINE = "Kafka Server started";

export const BrokerErrorCodes = [
  "TOOL_MISSING", // java, mvn or openssl is not installed
  "JARS_FETCH_FAILED", // Maven could not fetch the broker jars
  "PORT_IN_USE", // a listener port is taken
  "SETUP_FAILED", // openssl or StorageTool format failed
  "START_FAILED", // the JVM exited before the broker was up
  "START_TIMEOUT", // the broker did not come up in time
  "NOT_RUNNING", // restart() after stop(), or stop of a broker that is gone
] as const;
export type BrokerErrorCode = (typeof BrokerErrorCodes)[number];

export class BrokerError extends Error {
  readonly code: BrokerErrorCode;
  constructor(code: BrokerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "BrokerError";
    this.code = code;
  }
}

export interface BrokerPorts {
  plaintext: number;
  sasl: number;
  ssl: number;
  controller: number;
}

export type SaslMechanism = "PLAIN" | "SCRAM-SHA-256" | "SCRAM-SHA-512";

export interface SaslUser {
  mechanism: SaslMechanism;
  username: string;
  password: string;
}

/** Everything a client needs to reach the broker; JSON-serialisable (it is also broker.json). */
export interface BrokerInfo {
  /** host:port per client listener. */
  bootstrap: { plaintext: string; sasl: string; ssl: string };
  ports: BrokerPorts;
  /** One user per mechanism, each known to its own mechanism only, on the SASL_PLAINTEXT listener. */
  sasl: { plain: SaslUser; scramSha256: SaslUser; scramSha512: SaslUser };
  tls: {
    /** CA that signed the broker's certificate (PEM). */
    caFile: string;
    /** An unrelated CA (PEM): a client that trusts only it must fail to connect. */
    untrustedCaFile: string;
    /** Client certificate and key (PEM) signed by caFile, for mutual TLS on the SSL listener. */
    clientCertFile: string;
    clientKeyFile: string;
  };
  dataDir: string;
  /** The broker's own log (log4j, INFO). Console output is in consoleLogFile. */
  logFile: string;
  consoleLogFile: string;
  pid: number | undefined;
}

export interface BrokerHandle extends BrokerInfo {
  readonly running: boolean;
  /** SIGKILL, like a crash: no flush, no controlled shutdown. Resolves once the JVM is gone. */
  kill(): Promise<void>;
  /** Starts the broker again on the same ports and data dir (stops it first if it runs). */
  restart(): Promise<void>;
  /** SIGTERM, up to stopTimeoutMs for a clean shutdown, then SIGKILL. Removes a data dir it created. */
  stop(): Promise<void>;
}

export type JvmProfile = "fast-start" | "throughput";

export interface BrokerOptions {
  /** Default: a new temporary dir, removed by stop(). A given dir is reused (formatted once) and kept. */
  dataDir?: string;
  /** Default: free loopback ports picked at random, so brokers of several worktrees can coexist. */
  ports?: BrokerPorts;
  /**
   * "fast-start" (default): small heap, C1 only, serial GC; about a second faster to start.
   * "throughput": Kafka's own defaults (1 GiB heap, G1), for benchmarks.
   */
  jvm?: JvmProfile;
  extraJvmArgs?: string[];
  /** Keep a temporary data dir after stop() (to read its logs). */
  keepDataDir?: boolean;
  /** The JVM outlives this Node process (no watchdog); used by `npm run kafka:start`. */
  detached?: boolean;
  startTimeoutMs?: number;
  stopTimeoutMs?: number;
}

const DEFAULT_START_TIMEOUT_MS = 60_000;
const DEFAULT_STOP_TIMEOUT_MS = 20_000;
const KILL_WAIT_MS = 10_000;
const MAVEN_TIMEOUT_MS = 10 * 60_000;
const TOOL_TIMEOUT_MS = 60_000;

// Test credentials of a loopback-only broker: fixed so that `npm run kafka:start` can print them and
// a restarted broker keeps them. One user per mechanism, so a test cannot pass with the wrong one.
const SASL_USERS: BrokerInfo["sasl"] = {
  plain: { mechanism: "PLAIN", username: "wfsim-plain", password: "wfsim-plain-secret" },
  scramSha256: { mechanism: "SCRAM-SHA-256", username: "wfsim-scram256", password: "wfsim-scram256-secret" },
  scramSha512: { mechanism: "SCRAM-SHA-512", username: "wfsim-scram512", password: "wfsim-scram512-secret" },
};

// ---------------------------------------------------------------------------------------------
// Tools and jars

/** The java to run: $JAVA_HOME/bin/java, else java on PATH. */
export function javaCommand(): string {
  const home = process.env["JAVA_HOME"];
  return home ? join(home, "bin", "java") : "java";
}

interface RunResult {
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], options: { cwd?: string; timeoutMs: number }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { cwd: options.cwd, timeout: options.timeoutMs, maxBuffer: 16 * 1024 * 1024, killSignal: "SIGKILL" },
      (error, stdout, stderr) => {
        if (error) {
          reject(Object.assign(error, { stdout, stderr }));
        } else {
          resolve({ stdout, stderr });
        }
      },
    );
  });
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === "ENOENT";
}

function outputTail(error: unknown, lines = 40): string {
  const { stdout = "", stderr = "" } = error as Partial<RunResult>;
  // Maven 3.8 prints ANSI resets even in batch mode.
  const text = `${stdout}\n${stderr}`.replace(/\u001b\[[0-9;]*m/g, "").trim();
  return text.split("\n").slice(-lines).join("\n");
}

async function requireTool(command: string, versionArgs: string[], install: string): Promise<void> {
  try {
    await run(command, versionArgs, { timeoutMs: TOOL_TIMEOUT_MS });
  } catch (error) {
    if (isNotFound(error)) {
      throw new BrokerError("TOOL_MISSING", `${command} was not found: ${install}`, { cause: error });
    }
    throw new BrokerError("TOOL_MISSING", `${command} ${versionArgs.join(" ")} failed: ${outputTail(error)}`, {
      cause: error,
    });
  }
}

const JAVA_INSTALL = "install a JDK or JRE 17+ (Debian: apt-get install openjdk-17-jre-headless) or set JAVA_HOME";
const MAVEN_INSTALL = "install Apache Maven 3.6+ (Debian: apt-get install maven)";
const OPENSSL_INSTALL = "install OpenSSL (Debian: apt-get install openssl)";

async function pomHash(): Promise<string> {
  return createHash("sha256")
    .update(await fs.readFile(POM_FILE))
    .digest("hex");
}

async function jarsAreComplete(): Promise<boolean> {
  try {
    const stamp = await fs.readFile(join(KAFKA_LIB_DIR, JARS_STAMP), "utf8");
    return stamp.trim() === (await pomHash());
  } catch {
    return false;
  }
}

/**
 * Makes sure .kafka/lib holds the jars kafka/pom.xml names, running Maven when it is missing,
 * incomplete or older than the pom. Maven copies into a temporary dir that is then renamed, so an
 * interrupted fetch never looks complete and two concurrent callers do not mix their files.
 */
export async function ensureKafkaJars(): Promise<void> {
  if (await jarsAreComplete()) {
    return;
  }
  await requireTool(javaCommand(), ["-version"], JAVA_INSTALL);
  await requireTool("mvn", ["-v"], MAVEN_INSTALL);
  const hash = await pomHash();
  const staging = `${KAFKA_LIB_DIR}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    await run(
      "mvn",
      [
        "-B",
        "-q",
        "--no-transfer-progress",
        "-f",
        POM_FILE,
        `-Dkafka.lib.dir=${staging}`,
        "dependency:copy-dependencies",
      ],
      { cwd: REPO_ROOT, timeoutMs: MAVEN_TIMEOUT_MS },
    );
  } catch (error) {
    await fs.rm(staging, { recursive: true, force: true });
    throw new BrokerError(
      "JARS_FETCH_FAILED",
      `mvn could not fetch the Kafka jars of ${POM_FILE} (it needs Maven Central):\n${outputTail(error)}`,
      { cause: error },
    );
  }
  await fs.writeFile(join(staging, JARS_STAMP), `${hash}\n`);
  if (await jarsAreComplete()) {
    // Someone else finished first.
    await fs.rm(staging, { recursive: true, force: true });
    return;
  }
  await fs.rm(KAFKA_LIB_DIR, { recursive: true, force: true });
  try {
    await fs.rename(staging, KAFKA_LIB_DIR);
  } catch (error) {
    await fs.rm(staging, { recursive: true, force: true });
    if (!(await jarsAreComplete())) {
      throw error;
    }
  }
}

/** The java classpath of the broker jars, for running Kafka's own tools (e.g. ProducerPerformance). */
export function kafkaClasspath(): string {
  return join(KAFKA_LIB_DIR, "*");
}

// ---------------------------------------------------------------------------------------------
// Ports

async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === "object") {
          resolve(address.port);
        } else {
          reject(new Error(`no port from ${String(address)}`));
        }
      });
    });
  });
}

async function pickPorts(): Promise<BrokerPorts> {
  const picked = new Set<number>();
  while (picked.size < 4) {
    picked.add(await freeLoopbackPort());
  }
  const [plaintext, sasl, ssl, controller] = [...picked] as [number, number, number, number];
  return { plaintext, sasl, ssl, controller };
}

async function assertPortFree(port: number, listener: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", (error: NodeJS.ErrnoException) => {
      reject(
        new BrokerError("PORT_IN_USE", `port ${port} (${listener} listener) on ${LOOPBACK} is in use: ${error.code}`, {
          cause: error,
        }),
      );
    });
    server.listen(port, LOOPBACK, () => server.close(() => resolve()));
  });
}

// ---------------------------------------------------------------------------------------------
// Data dir: TLS files, server.properties, format

interface Layout {
  dataDir: string;
  kraftDir: string;
  logsDir: string;
  tlsDir: string;
  propertiesFile: string;
  infoFile: string;
  serverKeystore: string;
}

function layoutOf(dataDir: string): Layout {
  const tlsDir = join(dataDir, "tls");
  return {
    dataDir,
    kraftDir: join(dataDir, "kraft"),
    logsDir: join(dataDir, "logs"),
    tlsDir,
    propertiesFile: join(dataDir, "server.properties"),
    infoFile: join(dataDir, "broker.json"),
    serverKeystore: join(tlsDir, "server-keystore.pem"),
  };
}

function infoOf(layout: Layout, ports: BrokerPorts, pid: number | undefined): BrokerInfo {
  const address = (port: number) => `${LOOPBACK}:${port}`;
  return {
    bootstrap: { plaintext: address(ports.plaintext), sasl: address(ports.sasl), ssl: address(ports.ssl) },
    ports,
    sasl: SASL_USERS,
    tls: {
      caFile: join(layout.tlsDir, "ca.pem"),
      untrustedCaFile: join(layout.tlsDir, "untrusted-ca.pem"),
      clientCertFile: join(layout.tlsDir, "client.pem"),
      clientKeyFile: join(layout.tlsDir, "client.key"),
    },
    dataDir: layout.dataDir,
    logFile: join(layout.logsDir, "server.log"),
    consoleLogFile: join(layout.logsDir, "console.log"),
    pid,
  };
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run("openssl", args, { cwd, timeoutMs: TOOL_TIMEOUT_MS });
  } catch (error) {
    if (isNotFound(error)) {
      throw new BrokerError("TOOL_MISSING", `openssl was not found: ${OPENSSL_INSTALL}`, { cause: error });
    }
    throw new BrokerError("SETUP_FAILED", `openssl ${args.join(" ")} failed:\n${outputTail(error)}`, { cause: error });
  }
}

const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

async function selfSignedCa(dir: string, name: string, commonName: string): Promise<void> {
  await openssl(
    [
      "req", "-x509", ...EC_KEY, "-keyout", `${name}.key`, "-out", `${name}.pem`, "-days", "3650",
      "-subj", `/CN=${commonName}`,
      "-addext", "basicConstraints=critical,CA:TRUE",
      "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    ],
    dir,
  );
}

async function signedCert(dir: string, name: string, commonName: string, extensions: string): Promise<void> {
  await fs.writeFile(join(dir, `${name}.ext`), extensions);
  await openssl(["req", ...EC_KEY, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${commonName}`], dir);
  await openssl(
    [
      "x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key",
      "-set_serial", `0x${randomBytes(8).toString("hex")}`, "-days", "825",
      "-extfile", `${name}.ext`, "-out", `${name}.pem`,
    ],
    dir,
  );
}

/** A CA, a server certificate for 127.0.0.1/localhost, a client certificate, and an unrelated CA. */
async function createTlsFiles(layout: Layout): Promise<void> {
  const dir = layout.tlsDir;
  await fs.mkdir(dir, { recursive: true });
  await selfSignedCa(dir, "ca", "wfsim test CA");
  await selfSignedCa(dir, "untrusted-ca", "wfsim untrusted test CA");
  await signedCert(
    dir,
    "server",
    "localhost",
    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n" +
      "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
  );
  await signedCert(
    dir,
    "client",
    "wfsim-test-client",
    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n",
  );
  // Kafka's PEM keystore: an unencrypted PKCS#8 key (what `openssl req` writes) then the chain.
  const parts = await Promise.all(["server.key", "server.pem", "ca.pem"].map((f) => fs.readFile(join(dir, f), "utf8")));
  await fs.writeFile(layout.serverKeystore, parts.join(""));
}

function propertyValue(value: string): string {
  // java.util.Properties: backslash escapes; keep paths and JAAS strings literal.
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function serverProperties(layout: Layout, info: BrokerInfo): string {
  const { ports } = info;
  const plainUsers = `user_${SASL_USERS.plain.username}="${SASL_USERS.plain.password}"`;
  const props: [string, string | number][] = [
    // KRaft, one node that is both broker and controller, formatted with --standalone.
    ["process.roles", "broker,controller"],
    ["node.id", 1],
    ["controller.quorum.bootstrap.servers", `${LOOPBACK}:${ports.controller}`],
    ["controller.listener.names", "CONTROLLER"],
    [
      "listeners",
      `PLAINTEXT://${LOOPBACK}:${ports.plaintext},SASL_PLAINTEXT://${LOOPBACK}:${ports.sasl},` +
        `SSL://${LOOPBACK}:${ports.ssl},CONTROLLER://${LOOPBACK}:${ports.controller}`,
    ],
    [
      "advertised.listeners",
      `PLAINTEXT://${LOOPBACK}:${ports.plaintext},SASL_PLAINTEXT://${LOOPBACK}:${ports.sasl},SSL://${LOOPBACK}:${ports.ssl}`,
    ],
    ["listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL,CONTROLLER:PLAINTEXT"],
    ["inter.broker.listener.name", "PLAINTEXT"],
    // After a SIGKILL the controller holds the dead incarnation's registration until its session
    // expires (default 9 s), and the restarted broker waits for that: restart() took 12 s.
    ["broker.heartbeat.interval.ms", 500],
    ["broker.session.timeout.ms", 3000],
    ["log.dirs", layout.kraftDir],

    // SASL_PLAINTEXT: PLAIN users live in the JAAS line, SCRAM users in the metadata log (added at format).
    ["listener.name.sasl_plaintext.sasl.enabled.mechanisms", "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512"],
    [
      "listener.name.sasl_plaintext.plain.sasl.jaas.config",
      `org.apache.kafka.common.security.plain.PlainLoginModule required ${plainUsers};`,
    ],
    ["listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required;"],
    ["listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required;"],

    // SSL: PEM files straight from openssl; a client certificate is checked if one is sent.
    ["listener.name.ssl.ssl.keystore.type", "PEM"],
    ["listener.name.ssl.ssl.keystore.location", layout.serverKeystore],
    ["listener.name.ssl.ssl.truststore.type", "PEM"],
    ["listener.name.ssl.ssl.truststore.location", info.tls.caFile],
    ["listener.name.ssl.ssl.client.auth", "requested"],

    // One node: every internal topic has one replica; few partitions keep the first group join fast.
    ["num.partitions", 1],
    ["default.replication.factor", 1],
    ["min.insync.replicas", 1],
    ["offsets.topic.replication.factor", 1],
    ["offsets.topic.num.partitions", 3],
    ["transaction.state.log.replication.factor", 1],
    ["transaction.state.log.min.isr", 1],
    ["transaction.state.log.num.partitions", 3],
    ["share.coordinator.state.topic.replication.factor", 1],
    ["share.coordinator.state.topic.min.isr", 1],
    ["group.initial.rebalance.delay.ms", 0],
    // The app creates its topics; a typo must not create one silently.
    ["auto.create.topics.enable", "false"],
  ];
  return `# Written by test/kafka/broker.ts\n${props.map(([k, v]) => `${k}=${propertyValue(String(v))}`).join("\n")}\n`;
}

/** Kafka's Uuid.toString(): 16 random bytes in unpadded base64url, never starting with "-". */
function kafkaClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString("base64url");
    if (!id.startsWith("-")) {
      return id;
    }
  }
}

function jvmArgs(layout: Layout, profile: JvmProfile, extra: string[]): string[] {
  const profileArgs =
    profile === "fast-start"
      ? ["-Xms64m", "-Xmx512m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]
      : ["-Xms1g", "-Xmx1g", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-XX:InitiatingHeapOccupancyPercent=35"];
  return [
    ...profileArgs,
    "-Djava.awt.headless=true",
    `-Dlog4j2.configurationFile=${LOG4J_CONFIG}`,
    `-Dkafka.logs.dir=${layout.logsDir}`,
    ...extra,
    "-cp",
    kafkaClasspath(),
  ];
}

async function formatStorage(layout: Layout): Promise<void> {
  const scram = [SASL_USERS.scramSha256, SASL_USERS.scramSha512].flatMap((user) => [
    "--add-scram",
    `${user.mechanism}=[name=${user.username},password=${user.password}]`,
  ]);
  try {
    await run(
      javaCommand(),
      [
        ...jvmArgs(layout, "fast-start", []),
        "kafka.tools.StorageTool",
        "format",
        "--cluster-id",
        kafkaClusterId(),
        "--config",
        layout.propertiesFile,
        "--standalone",
        ...scram,
      ],
      { cwd: layout.dataDir, timeoutMs: TOOL_TIMEOUT_MS },
    );
  } catch (error) {
    if (isNotFound(error)) {
      throw new BrokerError("TOOL_MISSING", `${javaCommand()} was not found: ${JAVA_INSTALL}`, { cause: error });
    }
    throw new BrokerError("SETUP_FAILED", `kafka StorageTool format failed:\n${outputTail(error)}`, { cause: error });
  }
}

async function isFormatted(layout: Layout): Promise<boolean> {
  return existsSync(join(layout.kraftDir, "meta.properties"));
}

// ---------------------------------------------------------------------------------------------
// Readiness

async function fileSize(path: string): Promise<number> {
  try {
    return (await fs.stat(path)).size;
  } catch {
    return 0;
  }
}

async function readFrom(path: string, offset: number): Promise<string> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(path, "r");
    const { size } = await handle.stat();
    if (size <= offset) {
      return "";
    }
    const buffer = Buffer.alloc(size - offset);
    await handle.read(buffer, 0, buffer.length, offset);
    return buffer.toString("utf8");
  } catch {
    return "";
  } finally {
    await handle?.close();
  }
}

async function logTail(path: string, lines = 30): Promise<string> {
  const size = await fileSize(path);
  const text = await readFrom(path, Math.max(0, size - 64 * 1024));
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Kafka ApiVersions v0 over a raw socket: proves the broker answers Kafka requests, not only that
 * the port accepts connections.
 */
function kafkaApiVersions(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const clientId = Buffer.from("wfsim-broker-check");
    const correlationId = 0x5f5f;
    const request = Buffer.alloc(4 + 2 + 2 + 4 + 2 + clientId.length);
    let at = request.writeInt32BE(request.length - 4, 0);
    at = request.writeInt16BE(18, at); // ApiVersions
    at = request.writeInt16BE(0, at);
    at = request.writeInt32BE(correlationId, at);
    at = request.writeInt16BE(clientId.length, at);
    clientId.copy(request, at);

    let received = Buffer.alloc(0);
    const socket = createConnection({ host, port });
    const timer = setTimeout(() => fail(new Error(`no ApiVersions answer from ${host}:${port} in ${timeoutMs} ms`)), timeoutMs);
    function fail(error: Error): void {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    }
    socket.on("error", fail);
    socket.on("connect", () => socket.write(request));
    socket.on("data", (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 10) {
        return;
      }
      const gotCorrelation = received.readInt32BE(4);
      const errorCode = received.readInt16BE(8);
      clearTimeout(timer);
      socket.destroy();
      if (gotCorrelation !== correlationId || errorCode !== 0) {
        reject(new Error(`ApiVersions from ${host}:${port}: correlation ${gotCorrelation}, error code ${errorCode}`));
      } else {
        resolve();
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------
// The process

// sh runs java in its own place (exec keeps the pid) after starting a watchdog that reads the pipe
// from Node on fd 3: a line means "java is done, exit quietly"; end of file means Node is gone, so
// kill java. Background jobs of a non-interactive sh get stdin from /dev/null, hence fd 3.
const WATCHDOG = [
  "exec 3<&0",
  '( if read -r line <&3; then exit 0; fi; kill -KILL "$$" 2>/dev/null ) &',
  'exec "$@" 0</dev/null 3<&-',
].join("\n");

class ManagedBroker implements BrokerHandle {
  readonly bootstrap: BrokerInfo["bootstrap"];
  readonly ports: BrokerPorts;
  readonly sasl: BrokerInfo["sasl"];
  readonly tls: BrokerInfo["tls"];
  readonly dataDir: string;
  readonly logFile: string;
  readonly consoleLogFile: string;
  readonly #layout: Layout;
  readonly #options: BrokerOptions;
  readonly #ownsDataDir: boolean;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #removed = false;

  constructor(layout: Layout, ports: BrokerPorts, options: BrokerOptions, ownsDataDir: boolean) {
    const info = infoOf(layout, ports, undefined);
    this.bootstrap = info.bootstrap;
    this.ports = info.ports;
    this.sasl = info.sasl;
    this.tls = info.tls;
    this.dataDir = info.dataDir;
    this.logFile = info.logFile;
    this.consoleLogFile = info.consoleLogFile;
    this.#layout = layout;
    this.#options = options;
    this.#ownsDataDir = ownsDataDir;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  toJSON(): BrokerInfo {
    return infoOf(this.#layout, this.ports, this.pid);
  }

  async start(): Promise<void> {
    if (this.#removed) {
      throw new BrokerError("NOT_RUNNING", `the broker in ${this.dataDir} was stopped and its data dir removed`);
    }
    let logOffset = await fileSize(this.logFile);
    const args = [
      ...jvmArgs(this.#layout, this.#options.jvm ?? "fast-start", this.#options.extraJvmArgs ?? []),
      "kafka.Kafka",
      this.#layout.propertiesFile,
    ];
    // Synchronous from spawn() to the listeners: "spawn" and "error" are emitted on the next tick.
    const out = openSync(this.consoleLogFile, "a");
    let child: ChildProcess;
    try {
      child = this.#options.detached
        ? spawn(javaCommand(), args, { cwd: this.dataDir, detached: true, stdio: ["ignore", out, out] })
        : spawn("/bin/sh", ["-c", WATCHDOG, "wfsim-kafka-broker", javaCommand(), ...args], {
            cwd: this.dataDir,
            stdio: ["pipe", out, out],
          });
    } finally {
      closeSync(out);
    }
    this.#child = child;
    const spawned = new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", reject);
    });
    let exitCode: string | undefined;
    this.#exited = new Promise<void>((resolve) => {
      child.once("exit", (code, signal) => {
        exitCode = signal ?? String(code);
        if (this.#child === child) {
          this.#child = undefined;
        }
        // Tell the watchdog that java is gone, so that it leaves without killing anything.
        child.stdin?.end("exited\n");
        resolve();
      });
    });
    // The JVM must not keep Node alive: the watchdog, stop() or kill() end it.
    child.unref();
    (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    child.stdin?.on("error", () => {});
    try {
      await spawned;
    } catch (error) {
      this.#child = undefined;
      throw new BrokerError("TOOL_MISSING", `could not run ${javaCommand()}: ${JAVA_INSTALL}`, { cause: error });
    }
    await this.#writeInfo();

    const timeoutMs = this.#options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    let carry = "";
    for (;;) {
      const text = await readFrom(this.logFile, logOffset);
      logOffset += Buffer.byteLength(text);
      if ((carry + text).includes(READY_LINE)) {
        break;
      }
      carry = (carry + text).slice(-READY_LINE.length);
      if (exitCode !== undefined) {
        const tail = await this.#tails();
        const code = /Address already in use|BindException/.test(tail) ? "PORT_IN_USE" : "START_FAILED";
        throw new BrokerError(code, `the Kafka broker exited (${exitCode}) before it was up.\n${tail}`);
      }
      if (Date.now() > deadline) {
        await this.kill();
        throw new BrokerError(
          "START_TIMEOUT",
          `the Kafka broker did not log "${READY_LINE}" within ${timeoutMs} ms.\n${await this.#tails()}`,
        );
      }
      await sleep(100);
    }
    try {
      await kafkaApiVersions(LOOPBACK, this.ports.plaintext, Math.max(1000, deadline - Date.now()));
    } catch (error) {
      await this.kill();
      throw new BrokerError("START_FAILED", `the Kafka broker logged "${READY_LINE}" but ${String(error)}`, {
        cause: error,
      });
    }
  }

  async #tails(): Promise<string> {
    return (
      `--- ${this.logFile} (last lines) ---\n${await logTail(this.logFile)}\n` +
      `--- ${this.consoleLogFile} (last lines) ---\n${await logTail(this.consoleLogFile)}`
    );
  }

  async #writeInfo(): Promise<void> {
    await fs.writeFile(this.#layout.infoFile, `${JSON.stringify(this.toJSON(), null, 2)}\n`);
  }

  async #signalAndWait(signal: NodeJS.Signals, waitMs: number): Promise<boolean> {
    const child = this.#child;
    if (!child) {
      return true;
    }
    child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), waitMs);
    });
    const gone = await Promise.race([this.#exited.then(() => true), timedOut]);
    clearTimeout(timer);
    return gone;
  }

  async kill(): Promise<void> {
    if (!(await this.#signalAndWait("SIGKILL", KILL_WAIT_MS))) {
      throw new Error(`broker pid ${this.pid} survived SIGKILL for ${KILL_WAIT_MS} ms`);
    }
  }

  async restart(): Promise<void> {
    if (this.running) {
      await this.#halt();
    }
    await this.start();
  }

  async #halt(): Promise<void> {
    const stopTimeoutMs = this.#options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
    if (!(await this.#signalAndWait("SIGTERM", stopTimeoutMs))) {
      await this.kill();
    }
  }

  async stop(): Promise<void> {
    await this.#halt();
    if (this.#ownsDataDir && !this.#options.keepDataDir && !this.#removed) {
      this.#removed = true;
      await fs.rm(this.dataDir, { recursive: true, force: true });
    }
  }
}

async function prepare(layout: Layout, ports: BrokerPorts): Promise<void> {
  await fs.mkdir(layout.logsDir, { recursive: true });
  const info = infoOf(layout, ports, undefined);
  if (!existsSync(layout.serverKeystore)) {
    await createTlsFiles(layout);
  }
  await fs.writeFile(layout.propertiesFile, serverProperties(layout, info));
  if (!(await isFormatted(layout))) {
    await formatStorage(layout);
  }
}

/** Starts a single-node KRaft broker on loopback; see BrokerOptions and the top of this file. */
export async function startBroker(options: BrokerOptions = {}): Promise<BrokerHandle> {
  await ensureKafkaJars();
  const attempts = options.ports ? 1 : 3;
  for (let attempt = 1; ; attempt++) {
    const ownsDataDir = options.dataDir === undefined;
    const dataDir = options.dataDir ?? (await fs.mkdtemp(join(tmpdir(), "wfsim-kafka-")));
    const ports = options.ports ?? (await pickPorts());
    if (options.ports) {
      for (const [listener, port] of Object.entries(options.ports)) {
        await assertPortFree(port, listener);
      }
    }
    const layout = layoutOf(dataDir);
    const broker = new ManagedBroker(layout, ports, options, ownsDataDir);
    try {
      await prepare(layout, ports);
      await broker.start();
      return broker;
    } catch (error) {
      // A port picked as free can be taken by someone else before java binds it: retry afresh.
      const retry = error instanceof BrokerError && error.code === "PORT_IN_USE" && attempt < attempts;
      if (ownsDataDir && (retry || !options.keepDataDir)) {
        await fs.rm(dataDir, { recursive: true, force: true });
      }
      if (!retry) {
        throw error;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// A detached broker, seen from another process (npm run kafka:stop)

/** The broker.json that startBroker() writes into its data dir, or undefined if there is none. */
export async function readBrokerInfo(dataDir: string): Promise<BrokerInfo | undefined> {
  try {
    return JSON.parse(await fs.readFile(layoutOf(dataDir).infoFile, "utf8")) as BrokerInfo;
  } catch {
    return undefined;
  }
}

async function commandLineOf(pid: number): Promise<string | undefined> {
  try {
    return (await fs.readFile(`/proc/${pid}/cmdline`, "utf8")).replace(/\0/g, " ").trim();
  } catch {
    // No procfs (macOS): ask ps.
    try {
      return (await run("ps", ["-o", "args=", "-p", String(pid)], { timeoutMs: TOOL_TIMEOUT_MS })).stdout.trim();
    } catch {
      return undefined;
    }
  }
}

/** Whether pid is a live broker of this data dir (and not a recycled pid or a zombie). */
export async function isBrokerProcess(pid: number, dataDir: string): Promise<boolean> {
  const commandLine = await commandLineOf(pid);
  return commandLine !== undefined && commandLine.includes("kafka.Kafka") && commandLine.includes(dataDir);
}

/**
 * Stops the broker whose broker.json is in dataDir, even one started by another process:
 * SIGTERM, up to timeoutMs, then SIGKILL. Resolves false if no broker was running there.
 */
export async function stopBrokerAt(dataDir: string, timeoutMs = DEFAULT_STOP_TIMEOUT_MS): Promise<boolean> {
  const info = await readBrokerInfo(dataDir);
  const pid = info?.pid;
  if (pid === undefined || !(await isBrokerProcess(pid, dataDir))) {
    return false;
  }
  for (const [signal, waitMs] of [
    ["SIGTERM", timeoutMs],
    ["SIGKILL", KILL_WAIT_MS],
  ] as const) {
    try {
      process.kill(pid, signal);
    } catch {
      return true;
    }
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline) {
      if (!(await isBrokerProcess(pid, dataDir))) {
        return true;
      }
      await sleep(100);
    }
  }
  throw new Error(`broker pid ${pid} survived SIGKILL for ${KILL_WAIT_MS} ms`);
}
