/**
 * `--schema-registry-use-latest --format json-schema` for wfsim's own events: the values are the JSON
 * lines as always, with the latest version's id, once the version is seen to accept them. Each event
 * type's schema is the branch of the version (an `anyOf`/`oneOf`, `$ref`s into `$defs`, or the schema
 * itself) whose `type` property admits the event's type; in it, every property wfsim writes must be
 * allowed (listed, or the object left open) with a type that holds it, and every required property one
 * wfsim always writes. Keywords beyond type, const/enum, properties, required and closing the object
 * (minimum, pattern, ...) are the registrant's to keep compatible: they are not checked.
 */
import { WfsimError } from "../../../errors.ts";
import type { EventShape, ShapeField } from "../../../events/wire/event-shapes.ts";
import { JSON_HOLDS } from "../../shaped/registry-values.ts";
import { cannotHold, type LatestVersion } from "./latest-version.ts";
import { jsonValueEncoder, type ValueEncoder } from "./value-encoders.ts";

interface JsonNode {
  readonly type?: string | readonly string[];
  readonly const?: unknown;
  readonly enum?: readonly unknown[];
  readonly properties?: Readonly<Record<string, JsonNode>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: unknown;
  readonly unevaluatedProperties?: unknown;
  readonly $ref?: string;
  readonly anyOf?: readonly JsonNode[];
  readonly oneOf?: readonly JsonNode[];
  readonly $defs?: Readonly<Record<string, JsonNode>>;
  readonly definitions?: Readonly<Record<string, JsonNode>>;
}

/** A local `$ref` (#/$defs/X, #/definitions/X) followed; other nodes as they are. */
function resolved(node: JsonNode, root: JsonNode): JsonNode {
  const ref = /^#\/(\$defs|definitions)\/(.+)$/.exec(node.$ref ?? "");
  if (ref === null) return node;
  const target = (ref[1] === "$defs" ? root.$defs : root.definitions)?.[ref[2]!];
  return target === undefined ? node : resolved(target, root);
}

/** The schemas a value may match: the branches of anyOf/oneOf, nested ones flattened. */
function branchesOf(node: JsonNode, root: JsonNode): JsonNode[] {
  const at = resolved(node, root);
  const alternatives = at.anyOf ?? at.oneOf;
  return alternatives === undefined ? [at] : alternatives.flatMap((branch) => branchesOf(branch, root));
}

/** Whether a property's schema admits this constant: "yes" by const/enum, "open" without either, else "no". */
function admits(node: JsonNode | undefined, value: string): "yes" | "open" | "no" {
  if (node === undefined) return "open";
  if (node.const !== undefined) return node.const === value ? "yes" : "no";
  if (node.enum !== undefined) return node.enum.includes(value) ? "yes" : "no";
  return "open";
}

function jsonType(field: ShapeField): string {
  return field.kind === "constant" ? "string" : field.kind;
}

function checkFields(fields: readonly ShapeField[], node: JsonNode, root: JsonNode, refuse: (why: string) => Error, path: string): void {
  const written = new Map(fields.map((field) => [field.name, field]));
  for (const name of node.required ?? []) {
    const at = path === "" ? name : `${path}.${name}`;
    const field = written.get(name);
    if (field === undefined) throw refuse(`it requires field ${at}, which wfsim does not write`);
    if (field.optional) throw refuse(`it requires field ${at}, which wfsim leaves out of some events`);
  }
  for (const field of fields) {
    const at = path === "" ? field.name : `${path}.${field.name}`;
    const property = node.properties?.[field.name];
    if (property === undefined) {
      if (node.additionalProperties === false || node.unevaluatedProperties === false) throw refuse(`it has no field ${at} and allows no other`);
      continue;
    }
    const place = resolved(property, root);
    const ours = jsonType(field);
    const theirs = place.type === undefined ? undefined : typeof place.type === "string" ? [place.type] : place.type;
    if (theirs !== undefined && !theirs.some((type) => (JSON_HOLDS[ours] ?? [ours]).includes(type))) {
      throw refuse(`its field ${at} is ${theirs.join(" or ")}, which does not hold wfsim's ${ours}`);
    }
    if (field.kind === "constant" && admits(place, field.constant!) === "no") throw refuse(`its field ${at} does not admit ${JSON.stringify(field.constant)}`);
    if (field.kind === "object") checkFields(field.fields ?? [], place, root, refuse, at);
  }
}

/** The encoders of the event types a subject's latest JSON Schema accepts, one per event type asked for. */
export function jsonSchemaEncoders(version: LatestVersion): (shape: EventShape) => ValueEncoder {
  let root: JsonNode;
  try {
    root = JSON.parse(version.schema.schema) as JsonNode;
  } catch (error) {
    throw new WfsimError("REGISTRY_SCHEMA", `${version.where} is not a JSON Schema: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (typeof root !== "object" || root === null) throw new WfsimError("REGISTRY_SCHEMA", `${version.where} is not a JSON Schema: not an object`);
  const branches = branchesOf(root, root);
  const encoder = jsonValueEncoder(version.schema.id);
  return (shape) => {
    const refuse = (why: string) => cannotHold(version, shape, why);
    const constant = shape.fields.find((field) => field.kind === "constant");
    const at = (branch: JsonNode) => (constant === undefined ? "open" : admits(branch.properties?.[constant.name], constant.constant!));
    // The branch naming the event's type; else one that does not exclude it (a schema for any event).
    const branch = branches.find((b) => at(b) === "yes") ?? branches.find((b) => at(b) === "open");
    if (branch === undefined) throw refuse(`it has no schema whose type is ${JSON.stringify(shape.type)}`);
    checkFields(shape.fields, branch, root, refuse, "");
    return encoder;
  };
}
