/**
 * A Schema Registry client for the Confluent-compatible REST API (Confluent Schema Registry, Apicurio
 * under /apis/ccompat/v7, Karapace, Redpanda): register a schema under a subject, look one up by id
 * (cached: an id's schema never changes), read a subject's latest version and compatibility rule.
 * node:http(s) rather than fetch, for a CA file without another dependency. Failures are WfsimErrors
 * whose one line names the registry's URL and what went wrong, never the credentials.
 */
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { WfsimError } from "../../errors.ts";
import type { SchemaType } from "../../events/wire/formats.ts";

export type RegistryAuth =
  | { readonly kind: "none" }
  | { readonly kind: "basic"; readonly user: string; readonly password: string }
  | { readonly kind: "bearer"; readonly token: string };

export interface RegistryOptions {
  /** Base URL of the Confluent-compatible API, e.g. http://localhost:8080/apis/ccompat/v7. */
  readonly url: string;
  readonly auth: RegistryAuth;
  /** PEM CA(s) to trust for an https URL (default: the system's). */
  readonly ca?: Buffer;
  /** Bound on each request. */
  readonly timeoutMs: number;
}

export interface RegisteredSchema {
  readonly id: number;
  readonly schemaType: SchemaType;
  readonly schema: string;
}

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

const CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";

export class SchemaRegistryClient {
  readonly url: string;
  private readonly options: RegistryOptions;
  private readonly byId = new Map<number, Promise<RegisteredSchema>>();

  constructor(options: RegistryOptions) {
    this.options = options;
    this.url = options.url.replace(/\/+$/, "");
  }

  /**
   * Registers `schema` under `subject` (or finds it registered already) and returns its id. A schema
   * the subject's compatibility rule refuses is a REGISTRY_SCHEMA error naming the rule.
   */
  async register(subject: string, schemaType: SchemaType, schema: string): Promise<number> {
    // A registry may take a schema of another type as a new version of a subject (Apicurio does) and
    // then report the subject's type for it: its values could not be read. Refused before, and checked after.
    const held = await this.latestType(subject);
    if (held !== undefined && held.schemaType !== schemaType) throw this.otherType(subject, held.schemaType, schemaType, `its latest version ${held.version}, id ${held.id}`);
    const answer = await this.call("POST", `/subjects/${encodeURIComponent(subject)}/versions`, { schema, schemaType });
    if (answer.status === 200) {
      const id = (answer.body as { id?: unknown }).id;
      if (typeof id === "number") {
        // A registry that cannot show the id it just gave leaves the check undone, not the run.
        const registered = await this.schemaById(id).catch(() => undefined);
        if (registered !== undefined && registered.schemaType !== schemaType) throw this.otherType(subject, registered.schemaType, schemaType, `schema id ${id}`);
        return id;
      }
      throw this.notARegistry(`answered a registration without an id`);
    }
    if (answer.status === 409) {
      const rule = await this.compatibility(subject).catch(() => undefined);
      throw new WfsimError(
        "REGISTRY_SCHEMA",
        `the Schema Registry at ${this.url} refused the ${schemaType} schema for subject ${subject}: incompatible with its registered versions` +
          `${rule === undefined ? "" : ` under the ${rule} compatibility rule`} (${errorText(answer.body)})`,
      );
    }
    if (answer.status === 422 || answer.status === 400) {
      throw new WfsimError("REGISTRY_SCHEMA", `the Schema Registry at ${this.url} refused the ${schemaType} schema for subject ${subject} as invalid: ${errorText(answer.body)}`);
    }
    throw this.unexpected(answer, `registering subject ${subject}`);
  }

  /**
   * The latest version registered under `subject` (`--schema-registry-use-latest`): its id, type and
   * text. An unknown subject is a REGISTRY_SCHEMA error saying so.
   */
  async latest(subject: string): Promise<RegisteredSchema> {
    const answer = await this.call("GET", `/subjects/${encodeURIComponent(subject)}/versions/latest`);
    if (answer.status === 404) {
      const body = answer.body as { error_code?: unknown };
      // 40401: no such subject (40402: no such version); anything else is a URL that is not a registry.
      if (body.error_code === 40401 || body.error_code === 40402) {
        throw new WfsimError("REGISTRY_SCHEMA", `the Schema Registry at ${this.url} has no subject ${subject}: register a schema under it, or leave out --schema-registry-use-latest`);
      }
    }
    if (answer.status !== 200) throw this.unexpected(answer, `reading the latest version of subject ${subject}`);
    const body = answer.body as { id?: unknown; schema?: unknown; schemaType?: unknown };
    if (typeof body.id !== "number" || typeof body.schema !== "string") throw this.notARegistry(`answered subject ${subject}'s latest version without an id and schema`);
    const schemaType = (typeof body.schemaType === "string" ? body.schemaType : "AVRO") as SchemaType;
    return { id: body.id, schemaType, schema: body.schema };
  }

  /** The type, version and id of the subject's latest version, or undefined when the subject has none. */
  private async latestType(subject: string): Promise<{ readonly schemaType: SchemaType; readonly version: unknown; readonly id: unknown } | undefined> {
    const answer = await this.call("GET", `/subjects/${encodeURIComponent(subject)}/versions/latest`);
    if (answer.status !== 200) return undefined; // unknown subject; anything worse shows when registering
    const body = answer.body as { schemaType?: unknown; version?: unknown; id?: unknown };
    return { schemaType: (typeof body.schemaType === "string" ? body.schemaType : "AVRO") as SchemaType, version: body.version, id: body.id };
  }

  private otherType(subject: string, found: SchemaType, wanted: SchemaType, which: string): WfsimError {
    return new WfsimError(
      "REGISTRY_SCHEMA",
      `the Schema Registry at ${this.url} holds subject ${subject} as ${found} (${which}), not ${wanted}: a subject keeps one schema type; ` +
        `write ${found} to it, or choose other subjects (--subject-strategy topic or topic-record)`,
    );
  }

  /** The schema with this id (fetched once, then cached). */
  schemaById(id: number): Promise<RegisteredSchema> {
    let found = this.byId.get(id);
    if (found === undefined) {
      found = this.fetchById(id);
      this.byId.set(id, found);
      found.catch(() => this.byId.delete(id));
    }
    return found;
  }

  /** The subjects and versions that hold the schema with this id (empty when the registry does not say). */
  async versionsOf(id: number): Promise<readonly { readonly subject: string; readonly version: number }[]> {
    const answer = await this.call("GET", `/schemas/ids/${id}/versions`);
    if (answer.status !== 200 || !Array.isArray(answer.body)) return [];
    return (answer.body as { subject?: unknown; version?: unknown }[]).filter(
      (v): v is { subject: string; version: number } => typeof v.subject === "string" && typeof v.version === "number",
    );
  }

  /** The subject's compatibility rule, or the registry's global one when the subject has none. */
  async compatibility(subject: string): Promise<string | undefined> {
    for (const path of [`/config/${encodeURIComponent(subject)}`, "/config"]) {
      const answer = await this.call("GET", path);
      if (answer.status !== 200) continue;
      const body = answer.body as { compatibilityLevel?: unknown; compatibility?: unknown };
      const rule = body.compatibilityLevel ?? body.compatibility;
      if (typeof rule === "string") return rule;
    }
    return undefined;
  }

  private async fetchById(id: number): Promise<RegisteredSchema> {
    const answer = await this.call("GET", `/schemas/ids/${id}`);
    if (answer.status === 404) throw new WfsimError("REGISTRY_SCHEMA", `the Schema Registry at ${this.url} has no schema with id ${id}`);
    if (answer.status !== 200) throw this.unexpected(answer, `looking up schema id ${id}`);
    const body = answer.body as { schema?: unknown; schemaType?: unknown };
    if (typeof body.schema !== "string") throw this.notARegistry(`answered schema id ${id} without a schema`);
    const schemaType = (typeof body.schemaType === "string" ? body.schemaType : "AVRO") as SchemaType;
    return { id, schemaType, schema: body.schema };
  }

  private unexpected(answer: Answer, what: string): WfsimError {
    if (answer.status === 401 || answer.status === 403) {
      const how = this.options.auth.kind === "none" ? "no credentials were given" : `the ${this.options.auth.kind} credentials were refused`;
      return new WfsimError("REGISTRY_AUTH", `the Schema Registry at ${this.url} answered ${answer.status} ${what}: ${how}`);
    }
    if (answer.status === 404) return this.notARegistry(`answered 404 ${what}`);
    return new WfsimError("REGISTRY_CONNECT", `the Schema Registry at ${this.url} answered ${answer.status} ${what}: ${errorText(answer.body)}`);
  }

  private notARegistry(what: string): WfsimError {
    return new WfsimError(
      "REGISTRY_CONNECT",
      `${this.url} ${what}: is it a Schema Registry's Confluent-compatible API (Apicurio: http://HOST:PORT/apis/ccompat/v7)?`,
    );
  }

  private async call(method: "GET" | "POST" | "PUT", path: string, body?: unknown): Promise<Answer> {
    if (method !== "GET") return this.send(method, path, body);
    try {
      return await this.send(method, path, body);
    } catch (error) {
      // A lookup is asked once more, on a connection of its own, when its answer never came or its
      // kept-alive connection was reset: a request lost on a reused connection would otherwise stop
      // a long follow. Registering (POST, PUT) is not repeated: its first attempt may have landed.
      const code = ((error as { cause?: NodeJS.ErrnoException }).cause ?? {}).code;
      if (code !== "ETIMEDOUT" && code !== "ECONNRESET") throw error;
      return this.send(method, path, body, true);
    }
  }

  private send(method: "GET" | "POST" | "PUT", path: string, body: unknown, fresh = false): Promise<Answer> {
    const target = new URL(this.url + path);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string> = { accept: `${CONTENT_TYPE}, application/json` };
    if (payload !== undefined) {
      headers["content-type"] = CONTENT_TYPE;
      headers["content-length"] = String(payload.length);
    }
    const auth = this.options.auth;
    if (auth.kind === "basic") headers["authorization"] = `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString("base64")}`;
    if (auth.kind === "bearer") headers["authorization"] = `Bearer ${auth.token}`;
    const send = target.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise<Answer>((resolve, reject) => {
      const req = send(
        target,
        { method, headers, timeout: this.options.timeoutMs, ...(fresh ? { agent: false } : {}), ...(this.options.ca === undefined ? {} : { ca: this.options.ca }) },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("error", reject);
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            let parsed: unknown = text;
            try {
              parsed = text === "" ? {} : JSON.parse(text);
            } catch {
              // Not JSON: kept as text for the message (a proxy's HTML page, say).
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
        },
      );
      req.on("timeout", () => req.destroy(Object.assign(new Error(`no answer within ${this.options.timeoutMs} ms`), { code: "ETIMEDOUT" })));
      req.on("error", (error: NodeJS.ErrnoException) => {
        reject(new WfsimError("REGISTRY_CONNECT", `cannot reach the Schema Registry at ${this.url}: ${describeNetworkError(error)}`, { cause: error }));
      });
      req.end(payload);
    });
  }
}

function errorText(body: unknown): string {
  if (typeof body === "string") return body.trim().slice(0, 200) || "no details";
  const message = (body as { message?: unknown } | undefined)?.message;
  return typeof message === "string" ? message.split("\n")[0]!.slice(0, 300) : JSON.stringify(body).slice(0, 200);
}

/** OpenSSL's codes for a certificate chain that does not lead to a trusted CA. */
const UNTRUSTED_CERTIFICATE = /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_UNTRUSTED)$/;

function describeNetworkError(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case "ECONNREFUSED":
      return "connection refused";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "unknown host";
    case "ETIMEDOUT":
      return error.message;
    case "ECONNRESET":
      return "the connection was reset (an https URL for an http registry, or the reverse?)";
    case "EPROTO": {
      // OpenSSL's own text (codes, a source path, a trailing newline) reduced to its reason.
      const reason = /error:[0-9A-F]+:[^:]*:[^:]*:([^:\n]+)/.exec(error.message)?.[1]?.trim() ?? error.message.trim().split("\n")[0]!;
      // A plain HTTP listener answers the TLS hello with HTTP text, which OpenSSL reads as a record of a wrong version.
      if (/wrong version number|packet length too long|http request/i.test(reason)) return `it did not answer TLS (${reason}): is it an http:// registry?`;
      return `TLS: ${reason}`;
    }
    default: {
      const code = error.code ?? "";
      // Node's own hint (--use-system-ca) is not what a wfsim user can act on: the CA file is.
      const reason = error.message.split(";")[0]!;
      if (UNTRUSTED_CERTIFICATE.test(code)) return `TLS: the registry's certificate is not trusted (${reason}): give the CA that signed it with --schema-registry-ca FILE`;
      return code.startsWith("ERR_TLS") || code.startsWith("ERR_SSL") || code.includes("CERT") ? `TLS: ${reason}` : error.message;
    }
  }
}
