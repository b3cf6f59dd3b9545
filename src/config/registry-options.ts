/**
 * Where the Schema Registry is and how to log in, validated where it enters. Secrets come from a file
 * or an environment variable, never from a flag (argv is visible to every user of the machine).
 */
import { readFileSync } from "node:fs";
import { describeSystemError, WfsimError } from "../errors.ts";
import type { RegistryAuth, RegistryOptions } from "../kafka/registry/client.ts";

export const REGISTRY_PASSWORD_ENV = "WFSIM_SCHEMA_REGISTRY_PASSWORD";
export const REGISTRY_TOKEN_ENV = "WFSIM_SCHEMA_REGISTRY_TOKEN";

export interface RegistryOptionsInput {
  readonly schemaRegistry?: string;
  readonly schemaRegistryUser?: string;
  readonly schemaRegistryPasswordFile?: string;
  readonly schemaRegistryTokenFile?: string;
  readonly schemaRegistryCa?: string;
}

type NameOf = (key: string) => string;

function readSecret(path: string, name: string): string {
  if (path.trim() === "") throw new WfsimError("INVALID_OPTION", `${name} must be a file path, got an empty value`);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new WfsimError("FILE", `${name} ${path}: cannot read (${describeSystemError(error)})`, { cause: error });
  }
  const secret = text.replace(/\r?\n$/, "");
  if (secret === "") throw new WfsimError("FILE", `${name} ${path}: the file is empty`);
  return secret;
}

function authOf(input: RegistryOptionsInput, nameOf: NameOf, env: NodeJS.ProcessEnv): RegistryAuth {
  const user = input.schemaRegistryUser;
  if (user !== undefined && input.schemaRegistryTokenFile !== undefined) {
    throw new WfsimError(
      "INVALID_OPTION",
      `${nameOf("schemaRegistryUser")} and ${nameOf("schemaRegistryTokenFile")} exclude each other: basic auth or a bearer token`,
    );
  }
  if (user !== undefined) {
    if (user.trim() === "") throw new WfsimError("INVALID_OPTION", `${nameOf("schemaRegistryUser")} must be a user name, got an empty value`);
    if (input.schemaRegistryPasswordFile !== undefined) {
      return { kind: "basic", user, password: readSecret(input.schemaRegistryPasswordFile, nameOf("schemaRegistryPasswordFile")) };
    }
    const password = env[REGISTRY_PASSWORD_ENV];
    if (password === undefined || password === "") {
      throw new WfsimError(
        "INVALID_OPTION",
        `${nameOf("schemaRegistryUser")} needs a password: set ${REGISTRY_PASSWORD_ENV} or add ${nameOf("schemaRegistryPasswordFile")} FILE`,
      );
    }
    return { kind: "basic", user, password };
  }
  if (input.schemaRegistryPasswordFile !== undefined) {
    throw new WfsimError("INVALID_OPTION", `${nameOf("schemaRegistryPasswordFile")} is the password of ${nameOf("schemaRegistryUser")}: add it`);
  }
  if (input.schemaRegistryTokenFile !== undefined) {
    return { kind: "bearer", token: readSecret(input.schemaRegistryTokenFile, nameOf("schemaRegistryTokenFile")) };
  }
  const token = env[REGISTRY_TOKEN_ENV];
  if (token !== undefined && token !== "") return { kind: "bearer", token };
  return { kind: "none" };
}

/** The registry a command line or library caller names, or a user error naming the flag. */
export function resolveRegistryOptions(
  input: RegistryOptionsInput,
  { nameOf = (key: string) => key, env = process.env, timeoutMs }: { readonly nameOf?: NameOf; readonly env?: NodeJS.ProcessEnv; readonly timeoutMs: number },
): RegistryOptions {
  const raw = input.schemaRegistry;
  const flag = nameOf("schemaRegistry");
  if (raw === undefined) throw new WfsimError("INVALID_OPTION", `${flag} URL is missing`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WfsimError("INVALID_OPTION", `${flag} must be an http:// or https:// URL (Apicurio: http://HOST:PORT/apis/ccompat/v7), got ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new WfsimError("INVALID_OPTION", `${flag} must be an http:// or https:// URL, got ${JSON.stringify(raw)}`);
  }
  if (url.username !== "" || url.password !== "") {
    throw new WfsimError(
      "INVALID_OPTION",
      `${flag} must not carry credentials (they would show in the process list): use ${nameOf("schemaRegistryUser")} with ${REGISTRY_PASSWORD_ENV} or ${nameOf("schemaRegistryPasswordFile")}`,
    );
  }
  let ca: Buffer | undefined;
  if (input.schemaRegistryCa !== undefined) {
    const name = nameOf("schemaRegistryCa");
    if (url.protocol !== "https:") throw new WfsimError("INVALID_OPTION", `${name} applies to an https:// ${flag}, got ${JSON.stringify(raw)}`);
    try {
      ca = readFileSync(input.schemaRegistryCa);
    } catch (error) {
      throw new WfsimError("FILE", `${name} ${input.schemaRegistryCa}: cannot read (${describeSystemError(error)})`, { cause: error });
    }
  }
  return { url: raw, auth: authOf(input, nameOf, env), timeoutMs, ...(ca === undefined ? {} : { ca }) };
}
