// Where the registry tests find their Schema Registry. test/global-setup.ts starts Apicurio and sets
// WFSIM_TEST_REGISTRY_URL (its Confluent-compatible API); a user's own registry is given the same way.
// Without Java 21+ (outside CI) it sets WFSIM_TEST_REGISTRY_SKIP_REASON and the registry tests skip.
import { kafkaSkip } from "../kafka/env.ts";

export const REGISTRY_TEST_ENV = {
  url: "WFSIM_TEST_REGISTRY_URL",
  skipReason: "WFSIM_TEST_REGISTRY_SKIP_REASON",
} as const;

/** The registry to test against, or the reason there is none. */
export function testRegistry(env: Record<string, string | undefined> = process.env): { url: string } | { skip: string } {
  const url = env[REGISTRY_TEST_ENV.url];
  if (url) return { url };
  return { skip: env[REGISTRY_TEST_ENV.skipReason] ?? "no Schema Registry: run the tests with --test-global-setup=test/global-setup.ts" };
}

/** A test file that needs the broker and the registry: why it skips (false when it runs), and the registry's URL. */
export function kafkaAndRegistry(): { readonly skip: string | false; readonly url: () => string } {
  const target = testRegistry();
  return { skip: kafkaSkip() || ("skip" in target ? target.skip : false), url: () => ("url" in target ? target.url : "") };
}
