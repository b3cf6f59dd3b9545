// The global setup's part for the Schema Registry. WFSIM_TEST_REGISTRY_URL already set: the user's
// registry, nothing is started. WFSIM_TEST_REGISTRY=off: none (refused in CI). Otherwise Apicurio is
// started; without Java 21+ or Maven the registry tests skip, loudly, except in CI, where they must run.
import { REGISTRY_TEST_ENV } from "./env.ts";
import { RegistryServerError, startRegistry, type RegistryHandle } from "./server.ts";

export async function startTestRegistry(inCi: boolean, banner: (lines: string[]) => void): Promise<RegistryHandle | undefined> {
  const given = process.env[REGISTRY_TEST_ENV.url];
  if (given) {
    process.stderr.write(`Registry tests use ${REGISTRY_TEST_ENV.url}=${given}; no registry is started.\n`);
    return undefined;
  }
  const skip = (reason: string) => {
    process.env[REGISTRY_TEST_ENV.skipReason] = reason;
    banner(["SCHEMA REGISTRY TESTS WILL BE SKIPPED", reason, "To run them: a JDK 21+ (WFSIM_REGISTRY_JAVA_HOME) and Maven, or WFSIM_TEST_REGISTRY_URL=http://HOST:PORT/apis/ccompat/v7."]);
    return undefined;
  };
  if (process.env["WFSIM_TEST_REGISTRY"] === "off") {
    if (inCi) throw new Error("WFSIM_TEST_REGISTRY=off is refused in CI: the Schema Registry tests must run there.");
    return skip("WFSIM_TEST_REGISTRY=off.");
  }
  const started = Date.now();
  try {
    const registry = await startRegistry();
    process.env[REGISTRY_TEST_ENV.url] = registry.url;
    process.stderr.write(`Schema Registry (Apicurio) up in ${((Date.now() - started) / 1000).toFixed(1)} s at ${registry.url} (log: ${registry.logFile})\n`);
    return registry;
  } catch (error) {
    if (error instanceof RegistryServerError && error.code === "TOOL_MISSING" && !inCi) return skip(error.message);
    throw new Error(
      "could not start the Schema Registry for the tests" +
        (inCi ? " (CI=true: the registry tests must run)" : "; WFSIM_TEST_REGISTRY=off runs the tests without it") +
        `:\n${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}
