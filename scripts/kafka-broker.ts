// npm run kafka:start [-- --port 9092]   start a local broker in .kafka/run that outlives this command
// npm run kafka:stop                     stop it (its data stays in .kafka/run; delete the dir to reset)
//
// A thin shell over test/kafka/broker.ts, for trying wfsim's Kafka output without a cluster.
// Ports: PLAINTEXT = --port (default 9092, or WFSIM_KAFKA_PORT), SASL_PLAINTEXT +1, SSL +2, CONTROLLER +3.

import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  BrokerError,
  REPO_ROOT,
  isBrokerProcess,
  readBrokerInfo,
  startBroker,
  stopBrokerAt,
  type BrokerInfo,
  type BrokerPorts,
} from "../test/kafka/broker.ts";

const RUN_DIR = join(REPO_ROOT, ".kafka", "run");
const USAGE = "usage: npm run kafka:start [-- --port N]  |  npm run kafka:stop";

class UsageError extends Error {}

function portsFrom(value: string | undefined): BrokerPorts {
  const text = value ?? process.env["WFSIM_KAFKA_PORT"] ?? "9092";
  const base = Number(text);
  if (!Number.isInteger(base) || base < 1024 || base > 65532) {
    throw new UsageError(`--port must be an integer from 1024 to 65532, got ${text}`);
  }
  return { plaintext: base, sasl: base + 1, ssl: base + 2, controller: base + 3 };
}

function describe(info: BrokerInfo): string {
  const { plain, scramSha256, scramSha512 } = info.sasl;
  return [
    `PLAINTEXT       ${info.bootstrap.plaintext}`,
    `SASL_PLAINTEXT  ${info.bootstrap.sasl}`,
    ...[plain, scramSha256, scramSha512].map((u) => `  ${u.mechanism.padEnd(14)}username ${u.username}  password ${u.password}`),
    `SSL             ${info.bootstrap.ssl}`,
    `  CA            ${info.tls.caFile}`,
    `  client cert   ${info.tls.clientCertFile} (key ${info.tls.clientKeyFile})`,
    `data and logs   ${info.dataDir} (log ${info.logFile})`,
    `pid             ${info.pid ?? "?"}`,
    "",
    "Try: KAFKA_BOOTSTRAP=" + info.bootstrap.plaintext + " npm test   (or stop it with: npm run kafka:stop)",
  ].join("\n");
}

async function running(): Promise<BrokerInfo | undefined> {
  const info = await readBrokerInfo(RUN_DIR);
  return info?.pid !== undefined && (await isBrokerProcess(info.pid, RUN_DIR)) ? info : undefined;
}

async function start(portOption: string | undefined): Promise<void> {
  const ports = portsFrom(portOption);
  const current = await running();
  if (current) {
    if (current.ports.plaintext !== ports.plaintext) {
      throw new UsageError(
        `a broker already runs from ${RUN_DIR} on port ${current.ports.plaintext}; npm run kafka:stop first`,
      );
    }
    process.stderr.write("A Kafka broker is already running.\n");
    process.stdout.write(`${describe(current)}\n`);
    return;
  }
  process.stderr.write(`Starting a Kafka broker in ${RUN_DIR} ...\n`);
  const started = Date.now();
  const broker = await startBroker({ dataDir: RUN_DIR, ports, detached: true, jvm: "throughput" });
  process.stderr.write(`Kafka broker up in ${((Date.now() - started) / 1000).toFixed(1)} s.\n`);
  process.stdout.write(`${describe({ ...broker, pid: broker.pid })}\n`);
}

async function stop(): Promise<void> {
  if (await stopBrokerAt(RUN_DIR)) {
    process.stderr.write(`Stopped the Kafka broker of ${RUN_DIR}.\n`);
  } else {
    process.stderr.write(`No Kafka broker was running from ${RUN_DIR}.\n`);
  }
}

async function main(argv: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { port: { type: "string" } } });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { positionals, values } = parsed;
  const [command, ...rest] = positionals;
  if (rest.length > 0) {
    throw new UsageError(`unexpected arguments: ${rest.join(" ")}`);
  }
  if (command === "start") {
    await start(values.port);
  } else if (command === "stop") {
    await stop();
  } else {
    throw new UsageError(`unknown command ${command ?? "(none)"}`);
  }
}

try {
  await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError) {
    process.stderr.write(`kafka-broker: ${error.message}\n${USAGE}\n`);
    process.exit(2);
  }
  if (error instanceof BrokerError) {
    // Something about this machine (a tool, a port), not a bug: the message says what.
    process.stderr.write(`kafka-broker: ${error.message}\n`);
    process.exit(2);
  }
  throw error;
}
