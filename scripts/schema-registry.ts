// npm run registry:start [-- --port 8080]   start a local Apicurio Schema Registry that outlives this command
// npm run registry:stop                     stop it (its data is in memory: a restart starts empty)
//
// A thin shell over test/registry/server.ts, for trying --format avro|protobuf|json-schema without a
// registry of your own. Needs Java 21+ (WFSIM_REGISTRY_JAVA_HOME) and Maven for the first fetch.

import { existsSync, readFileSync } from "node:fs";
import * as fs from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { RegistryServerError, startRegistry } from "../test/registry/server.ts";

const RUN_DIR = fileURLToPath(new URL("../.registry/run/", import.meta.url));
const INFO = join(RUN_DIR, "registry.json");
const USAGE = "usage: npm run registry:start [-- --port N]  |  npm run registry:stop";

interface Info {
  readonly pid: number;
  readonly url: string;
  readonly logFile: string;
}

function running(info: Info): boolean {
  try {
    return readFileSync(`/proc/${info.pid}/cmdline`, "utf8").includes("quarkus-run.jar");
  } catch {
    return false;
  }
}

function readInfo(): Info | undefined {
  if (!existsSync(INFO)) return undefined;
  return JSON.parse(readFileSync(INFO, "utf8")) as Info;
}

async function start(portText: string | undefined): Promise<number> {
  const text = portText ?? process.env["WFSIM_REGISTRY_PORT"] ?? "8080";
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1024 || port > 65535) {
    process.stderr.write(`registry:start: --port must be an integer from 1024 to 65535, got ${text}\n`);
    return 2;
  }
  const known = readInfo();
  if (known !== undefined && running(known)) {
    process.stdout.write(`Schema Registry already running (pid ${known.pid}): ${known.url}\n`);
    return 0;
  }
  await fs.mkdir(RUN_DIR, { recursive: true });
  const logFile = join(RUN_DIR, "registry.log");
  try {
    const registry = await startRegistry({ port, detached: true, logFile });
    await fs.writeFile(INFO, `${JSON.stringify({ pid: registry.pid, url: registry.url, logFile }, null, 2)}\n`);
    process.stdout.write(`Schema Registry (Apicurio) running, pid ${registry.pid}: --schema-registry ${registry.url}\nlog: ${logFile}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`registry:start: ${error instanceof RegistryServerError ? error.message : String(error)}\n`);
    return 1;
  }
}

async function stop(): Promise<number> {
  const info = readInfo();
  if (info === undefined || !running(info)) {
    process.stdout.write("no Schema Registry started by registry:start is running\n");
    await fs.rm(INFO, { force: true });
    return 0;
  }
  process.kill(info.pid, "SIGTERM");
  for (let i = 0; i < 100 && running(info); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  if (running(info)) process.kill(info.pid, "SIGKILL");
  await fs.rm(INFO, { force: true });
  process.stdout.write(`Schema Registry stopped (pid ${info.pid})\n`);
  return 0;
}

const { positionals, values } = parseArgs({ allowPositionals: true, options: { port: { type: "string" } } });
const command = positionals[0];
process.exitCode = command === "start" ? await start(values.port) : command === "stop" ? await stop() : (process.stderr.write(`${USAGE}\n`), 2);
