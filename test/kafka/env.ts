// Where the Kafka tests find their cluster. test/global-setup.ts (in the test runner's process)
// starts a broker and writes these variables into process.env; test files run in child processes
// that inherit that env, and read it here. A user's own cluster is given the same way.
//
//   KAFKA_BOOTSTRAP                        host:port[,host:port...] PLAINTEXT listener (user's own
//                                          cluster when set before npm test; then nothing is started)
//   WFSIM_TEST_KAFKA_SASL_BOOTSTRAP        SASL_PLAINTEXT listener
//   WFSIM_TEST_KAFKA_SASL_PLAIN_USERNAME / _PASSWORD
//   WFSIM_TEST_KAFKA_SASL_SCRAM_SHA_256_USERNAME / _PASSWORD
//   WFSIM_TEST_KAFKA_SASL_SCRAM_SHA_512_USERNAME / _PASSWORD
//   WFSIM_TEST_KAFKA_SSL_BOOTSTRAP         SSL listener
//   WFSIM_TEST_KAFKA_SSL_CA_FILE           PEM CA that signed the broker's certificate
//   WFSIM_TEST_KAFKA_SSL_UNTRUSTED_CA_FILE PEM CA that did not (a client trusting it must fail)
//   WFSIM_TEST_KAFKA_SSL_CLIENT_CERT_FILE / _KEY_FILE  PEM client certificate and key (mutual TLS)
//   WFSIM_TEST_KAFKA_MANAGED=1             the broker is npm test's own: tests may start more
//   WFSIM_TEST_KAFKA_LOG_FILE              that broker's log
//   WFSIM_TEST_KAFKA_SKIP_REASON           why there is no broker; Kafka tests skip with it
//
// Inputs read by the global setup only: WFSIM_TEST_KAFKA=off (run without Kafka; refused in CI),
// WFSIM_TEST_KAFKA_KEEP_DATA=1 (keep the broker's data dir and logs after the run), CI.

import type { BrokerInfo, BrokerOptions, SaslUser } from "./broker.ts";

const NAMES = {
  bootstrap: "KAFKA_BOOTSTRAP",
  saslBootstrap: "WFSIM_TEST_KAFKA_SASL_BOOTSTRAP",
  plainUsername: "WFSIM_TEST_KAFKA_SASL_PLAIN_USERNAME",
  plainPassword: "WFSIM_TEST_KAFKA_SASL_PLAIN_PASSWORD",
  scram256Username: "WFSIM_TEST_KAFKA_SASL_SCRAM_SHA_256_USERNAME",
  scram256Password: "WFSIM_TEST_KAFKA_SASL_SCRAM_SHA_256_PASSWORD",
  scram512Username: "WFSIM_TEST_KAFKA_SASL_SCRAM_SHA_512_USERNAME",
  scram512Password: "WFSIM_TEST_KAFKA_SASL_SCRAM_SHA_512_PASSWORD",
  sslBootstrap: "WFSIM_TEST_KAFKA_SSL_BOOTSTRAP",
  caFile: "WFSIM_TEST_KAFKA_SSL_CA_FILE",
  untrustedCaFile: "WFSIM_TEST_KAFKA_SSL_UNTRUSTED_CA_FILE",
  clientCertFile: "WFSIM_TEST_KAFKA_SSL_CLIENT_CERT_FILE",
  clientKeyFile: "WFSIM_TEST_KAFKA_SSL_CLIENT_KEY_FILE",
  managed: "WFSIM_TEST_KAFKA_MANAGED",
  logFile: "WFSIM_TEST_KAFKA_LOG_FILE",
  skipReason: "WFSIM_TEST_KAFKA_SKIP_REASON",
  keepData: "WFSIM_TEST_KAFKA_KEEP_DATA",
} as const;
export const KAFKA_TEST_ENV = NAMES;

type Env = Record<string, string | undefined>;

/** The variables that point the test files at a broker started by the global setup. */
export function brokerEnv(info: BrokerInfo): Record<string, string> {
  return {
    [NAMES.bootstrap]: info.bootstrap.plaintext,
    [NAMES.saslBootstrap]: info.bootstrap.sasl,
    [NAMES.plainUsername]: info.sasl.plain.username,
    [NAMES.plainPassword]: info.sasl.plain.password,
    [NAMES.scram256Username]: info.sasl.scramSha256.username,
    [NAMES.scram256Password]: info.sasl.scramSha256.password,
    [NAMES.scram512Username]: info.sasl.scramSha512.username,
    [NAMES.scram512Password]: info.sasl.scramSha512.password,
    [NAMES.sslBootstrap]: info.bootstrap.ssl,
    [NAMES.caFile]: info.tls.caFile,
    [NAMES.untrustedCaFile]: info.tls.untrustedCaFile,
    [NAMES.clientCertFile]: info.tls.clientCertFile,
    [NAMES.clientKeyFile]: info.tls.clientKeyFile,
    [NAMES.managed]: "1",
    [NAMES.logFile]: info.logFile,
  };
}

export interface SaslTarget {
  bootstrap: string[];
  /** Users per mechanism; a mechanism the cluster was not given credentials for is absent. */
  users: Partial<Record<SaslUser["mechanism"], SaslUser>>;
}

export interface SslTarget {
  bootstrap: string[];
  caFile: string;
  untrustedCaFile: string | undefined;
  client: { certFile: string; keyFile: string } | undefined;
}

export interface KafkaTargets {
  plaintext: { bootstrap: string[] };
  sasl: SaslTarget;
  ssl: SslTarget;
  /** Tests that kill brokers start their own; these are the options to start it with. */
  "own-broker": BrokerOptions;
}
export type KafkaNeed = keyof KafkaTargets;

export type KafkaTestEnv =
  | {
      state: "ready";
      plaintext: { bootstrap: string[] };
      sasl: SaslTarget | undefined;
      ssl: SslTarget | undefined;
      /** Set when the global setup started the broker, so that tests may start more. */
      ownBroker: BrokerOptions | undefined;
      logFile: string | undefined;
    }
  | { state: "skip"; reason: string };

const HOW_TO_ENABLE =
  "Run the tests with `npm test` (its global setup starts a broker when Java and Maven are installed), " +
  "or set KAFKA_BOOTSTRAP=host:port to use a running cluster.";

function list(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function user(env: Env, mechanism: SaslUser["mechanism"], usernameVar: string, passwordVar: string): SaslUser[] {
  const username = env[usernameVar];
  const password = env[passwordVar];
  return username !== undefined && password !== undefined ? [{ mechanism, username, password }] : [];
}

export function kafkaTestEnv(env: Env = process.env): KafkaTestEnv {
  const bootstrap = list(env[NAMES.bootstrap]);
  if (bootstrap.length === 0) {
    const reason = env[NAMES.skipReason];
    return {
      state: "skip",
      reason: reason
        ? `NO KAFKA BROKER, Kafka tests skipped: ${reason}`
        : `NO KAFKA BROKER, Kafka tests skipped: KAFKA_BOOTSTRAP is not set. ${HOW_TO_ENABLE}`,
    };
  }
  const saslBootstrap = list(env[NAMES.saslBootstrap]);
  const sslBootstrap = list(env[NAMES.sslBootstrap]);
  const caFile = env[NAMES.caFile];
  const certFile = env[NAMES.clientCertFile];
  const keyFile = env[NAMES.clientKeyFile];
  const users = [
    ...user(env, "PLAIN", NAMES.plainUsername, NAMES.plainPassword),
    ...user(env, "SCRAM-SHA-256", NAMES.scram256Username, NAMES.scram256Password),
    ...user(env, "SCRAM-SHA-512", NAMES.scram512Username, NAMES.scram512Password),
  ];
  return {
    state: "ready",
    plaintext: { bootstrap },
    sasl:
      saslBootstrap.length > 0
        ? { bootstrap: saslBootstrap, users: Object.fromEntries(users.map((u) => [u.mechanism, u])) }
        : undefined,
    ssl:
      sslBootstrap.length > 0 && caFile
        ? {
            bootstrap: sslBootstrap,
            caFile,
            untrustedCaFile: env[NAMES.untrustedCaFile],
            client: certFile && keyFile ? { certFile, keyFile } : undefined,
          }
        : undefined,
    ownBroker: env[NAMES.managed] === "1" ? { keepDataDir: env[NAMES.keepData] === "1" } : undefined,
    logFile: env[NAMES.logFile],
  };
}

const current = kafkaTestEnv();

function missing(need: KafkaNeed): string | undefined {
  if (current.state === "skip") {
    return current.reason;
  }
  switch (need) {
    case "plaintext":
      return undefined;
    case "sasl":
      return current.sasl
        ? undefined
        : `Kafka SASL tests skipped: set ${NAMES.saslBootstrap} and the ${NAMES.plainUsername}-style credentials ` +
            "(see test/kafka/env.ts) to run them against KAFKA_BOOTSTRAP's cluster.";
    case "ssl":
      return current.ssl
        ? undefined
        : `Kafka TLS tests skipped: set ${NAMES.sslBootstrap} and ${NAMES.caFile} to run them against ` +
            "KAFKA_BOOTSTRAP's cluster.";
    case "own-broker":
      return current.ownBroker
        ? undefined
        : "Kafka broker fault tests skipped: they start and kill brokers of their own, which npm test does only " +
            "when it manages Kafka itself (KAFKA_BOOTSTRAP unset, Java and Maven installed).";
  }
}

/** For node:test's `skip` option: false when this run has what the test needs, else the loud reason. */
export function kafkaSkip(need: KafkaNeed = "plaintext"): string | false {
  return missing(need) ?? false;
}

/** What a test needs to reach Kafka; throws (with the skip reason) if the run has none. */
export function kafkaTarget<N extends KafkaNeed>(need: N): KafkaTargets[N] {
  const reason = missing(need);
  if (reason !== undefined || current.state !== "ready") {
    throw new Error(reason ?? "no Kafka");
  }
  const targets: { [K in KafkaNeed]: KafkaTargets[K] | undefined } = {
    plaintext: current.plaintext,
    sasl: current.sasl,
    ssl: current.ssl,
    "own-broker": current.ownBroker,
  };
  return targets[need] as KafkaTargets[N];
}
