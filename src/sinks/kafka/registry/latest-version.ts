/**
 * A subject's latest version as `--schema-registry-use-latest` uses it for wfsim's own events, in any
 * format: fetched once however many event types it holds, and the one-line refusal naming it.
 */
import { WfsimError } from "../../../errors.ts";
import type { EventShape } from "../../../events/wire/event-shapes.ts";
import { SCHEMA_TYPES, type RegistryFormat } from "../../../events/wire/formats.ts";
import type { RegisteredSchema, SchemaRegistryClient } from "../../../kafka/registry/client.ts";

export interface LatestVersion {
  readonly subject: string;
  readonly schema: RegisteredSchema;
  /** How messages name it: `subject S's latest version (id N) at URL`. */
  readonly where: string;
}

/** The subject's latest version, refused unless it is of the format's schema type. */
export async function fetchLatest(client: SchemaRegistryClient, subject: string, format: RegistryFormat): Promise<LatestVersion> {
  const schema = await client.latest(subject);
  const where = `subject ${subject}'s latest version (id ${schema.id}) at ${client.url}`;
  const expected = SCHEMA_TYPES[format];
  if (schema.schemaType !== expected) throw new WfsimError("REGISTRY_SCHEMA", `${where} is ${schema.schemaType}, not ${expected} (--format ${format})`);
  return { subject, schema, where };
}

export function cannotHold(version: LatestVersion, shape: EventShape, why: string): WfsimError {
  return new WfsimError("REGISTRY_SCHEMA", `${version.where} cannot hold wfsim's ${shape.type} events: ${why}`);
}
