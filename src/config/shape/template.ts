/**
 * Templates: text with `{name}` and `{name:spec}` placeholders (`{{` and `}}` for braces). A spec is
 * a time format for `time` (ms, s, iso, iso_utc) or a zero-padded width for a whole number (`08`).
 */
import type { Placeholder, Template, TimeFormat, ValueType } from "./model.ts";

export class TemplateError extends Error {}

const TIME_FORMATS: readonly TimeFormat[] = ["ms", "s", "iso", "iso_utc"];
const PLACEHOLDER = /^([A-Za-z_][A-Za-z0-9_]*)(?::(.*))?$/;

/** What a name refers to: a placeholder without spec and its type; undefined for an unknown name (the resolver words the error). */
export type NameLookup = (name: string) => { readonly placeholder: Placeholder; readonly type: ValueType } | undefined;

/** Parses `text`; throws a TemplateError with the phrase that follows the path in a message. */
export function parseTemplate(text: string, lookup: NameLookup): Template {
  const parts: (string | Placeholder)[] = [];
  let literal = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "}") {
      if (text[i + 1] !== "}") throw new TemplateError(`expected }} for a brace in text, got a lone } in ${JSON.stringify(text)}`);
      literal += "}";
      i++;
      continue;
    }
    if (c !== "{") {
      literal += c;
      continue;
    }
    if (text[i + 1] === "{") {
      literal += "{";
      i++;
      continue;
    }
    const end = text.indexOf("}", i);
    if (end < 0) throw new TemplateError(`expected a closing } in ${JSON.stringify(text)}`);
    const inner = text.slice(i + 1, end);
    const match = PLACEHOLDER.exec(inner);
    if (match === null) throw new TemplateError(`expected {name} or {name:spec}, got {${inner}} in ${JSON.stringify(text)}`);
    const found = lookup(match[1]!);
    if (found === undefined) throw new TemplateError(`unknown name {${match[1]}}`);
    if (literal !== "") parts.push(literal);
    literal = "";
    parts.push(withSpec(found.placeholder, found.type, match[2], inner));
    i = end;
  }
  if (literal !== "" || parts.length === 0) parts.push(literal);
  return { parts, text };
}

function withSpec(placeholder: Placeholder, type: ValueType, spec: string | undefined, inner: string): Placeholder {
  if (spec === undefined) return placeholder;
  if (placeholder.source === "lifecycle" && placeholder.name === "time") {
    if ((TIME_FORMATS as readonly string[]).includes(spec)) return { ...placeholder, time: spec as TimeFormat };
    throw new TemplateError(`expected a time format (${TIME_FORMATS.join(", ")}) in {${inner}}, got ${JSON.stringify(spec)}`);
  }
  const pad = /^0(\d{1,2})$/.exec(spec);
  if (pad !== null && type === "integer") return { ...placeholder, pad: Number(pad[1]) };
  if (pad !== null) throw new TemplateError(`{${inner}}: zero padding applies to whole numbers, and this value is a ${type}`);
  throw new TemplateError(`expected a zero-padded width such as {${placeholder.name}:08}, got {${inner}}`);
}

/** The JSON type of a template's value when it stands alone in a field: the placeholder's own, or text. */
export function typeOfPlaceholder(placeholder: Placeholder, type: ValueType): ValueType {
  if (placeholder.pad !== undefined) return "string";
  if (placeholder.source === "lifecycle" && placeholder.name === "time") {
    return placeholder.time === "iso" || placeholder.time === "iso_utc" ? "string" : "integer";
  }
  return type;
}

/** The placeholders of a template. */
export function placeholdersOf(template: Template): Placeholder[] {
  return template.parts.filter((part): part is Placeholder => typeof part !== "string");
}
