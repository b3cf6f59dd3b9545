/**
 * Checks a parsed file against the scenario's JSON Schema (the one from schema.ts) and words the first
 * problem as a path, what was expected and what was found. Walking the schema itself, rather than
 * keeping a second description of the format here, keeps messages and format from drifting apart.
 *
 * It understands the subset of JSON Schema that schema.ts uses: objects with additionalProperties
 * false (and patternProperties whose keys it lets through unchecked), arrays, unions (discriminated by a constant property, or tried in turn), strings with const
 * and pattern, numbers and integers with bounds, booleans.
 */

export type PathSegment = string | number;

export interface Issue {
  readonly path: readonly PathSegment[];
  /** "expected ..., got ..." or another complete phrase. */
  readonly message: string;
  /** The issue is about the key at `path` (an unknown key), not its value. */
  readonly atKey?: boolean;
}

interface Schema {
  readonly type?: string;
  readonly anyOf?: readonly Schema[];
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean;
  readonly patternProperties?: Readonly<Record<string, Schema>>;
  readonly items?: Schema;
  readonly minItems?: number;
  readonly minLength?: number;
  readonly const?: unknown;
  readonly pattern?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly errorMessage?: string;
}

/** The first problem of `value` against `schema`, in document order, or undefined when it fits. */
export function checkAgainst(schema: unknown, value: unknown, path: readonly PathSegment[] = []): Issue | undefined {
  return check(schema as Schema, value, path);
}

function check(schema: Schema, value: unknown, path: readonly PathSegment[]): Issue | undefined {
  if (schema.anyOf !== undefined) return checkUnion(schema, schema.anyOf, value, path);
  const fail = (): Issue => ({ path, message: `expected ${expectedOf(schema)}, got ${describeFound(value)}` });
  switch (schema.type) {
    case "object": {
      if (!isPlainObject(value)) return fail();
      const properties = schema.properties ?? {};
      for (const [key, child] of Object.entries(value)) {
        const property = properties[key];
        if (property === undefined) {
          const pattern = Object.keys(schema.patternProperties ?? {}).find((p) => new RegExp(p).test(key));
          if (pattern !== undefined) {
            const issue = check(schema.patternProperties![pattern]!, child, [...path, key]);
            if (issue !== undefined) return issue;
            continue;
          }
          if (schema.additionalProperties === false) {
            const hint = didYouMean(key, Object.keys(properties).filter((k) => !(k in value)));
            return { path: [...path, key], atKey: true, message: `unknown key ${JSON.stringify(key)}${hint}` };
          }
          continue;
        }
        const issue = check(property, child, [...path, key]);
        if (issue !== undefined) return issue;
      }
      for (const key of schema.required ?? []) {
        if (!(key in value)) {
          const property = properties[key];
          return { path, message: `missing ${key}${property === undefined ? "" : ` (${expectedOf(property)})`}` };
        }
      }
      return undefined;
    }
    case "array": {
      if (!Array.isArray(value)) return fail();
      if (schema.minItems !== undefined && value.length < schema.minItems) return fail();
      if (schema.items === undefined) return undefined;
      for (let i = 0; i < value.length; i++) {
        const issue = check(schema.items, value[i], [...path, i]);
        if (issue !== undefined) return issue;
      }
      return undefined;
    }
    case "string": {
      if (typeof value !== "string") return fail();
      if (schema.const !== undefined && value !== schema.const) return fail();
      if (schema.minLength !== undefined && value.length < schema.minLength) return fail();
      if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(value)) return fail();
      return undefined;
    }
    case "number":
    case "integer": {
      if (typeof value !== "number" || !Number.isFinite(value)) return fail();
      if (schema.type === "integer" && !Number.isInteger(value)) return fail();
      if (schema.minimum !== undefined && value < schema.minimum) return fail();
      if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum) return fail();
      if (schema.maximum !== undefined && value > schema.maximum) return fail();
      return undefined;
    }
    case "boolean":
      return typeof value === "boolean" ? undefined : fail();
    default:
      return undefined;
  }
}

function checkUnion(schema: Schema, branches: readonly Schema[], value: unknown, path: readonly PathSegment[]): Issue | undefined {
  if (branches.length === 1) return check(branches[0]!, value, path);
  // An object branch told apart by a constant property (dist, model): go straight to it.
  const objects = branches.filter((b) => b.type === "object");
  const discriminator = discriminatorOf(objects);
  if (discriminator !== undefined && isPlainObject(value)) {
    const tag = value[discriminator];
    const choices = objects.map((b) => b.properties![discriminator]!.const as string);
    const branch = objects.find((b) => b.properties![discriminator]!.const === tag);
    if (branch !== undefined) return check(branch, value, path);
    if (tag === undefined) {
      return { path, message: `missing ${discriminator} (one of ${choices.join(", ")})` };
    }
    const hint = typeof tag === "string" ? didYouMean(tag, choices) : "";
    return { path: [...path, discriminator], message: `expected one of ${choices.join(", ")}, got ${describeFound(tag)}${hint}` };
  }
  if (branches.some((branch) => check(branch, value, path) === undefined)) return undefined;
  // One branch of the value's own kind: its message is the precise one (a bad key inside an object).
  const sameKind = branches.filter((b) => kindMatches(b, value));
  if (sameKind.length === 1 && sameKind[0]!.type === "object") return check(sameKind[0]!, value, path);
  return { path, message: `expected ${expectedOf(schema)}, got ${describeFound(value)}` };
}

function discriminatorOf(objects: readonly Schema[]): string | undefined {
  if (objects.length < 2) return undefined;
  const first = objects[0]!.properties ?? {};
  return Object.keys(first).find((key) => objects.every((b) => b.properties?.[key]?.const !== undefined));
}

function kindMatches(schema: Schema, value: unknown): boolean {
  switch (schema.type) {
    case "object":
      return isPlainObject(value);
    case "array":
      return Array.isArray(value);
    case "string":
      return typeof value === "string";
    case "number":
    case "integer":
      return typeof value === "number";
    case "boolean":
      return typeof value === "boolean";
    default:
      return false;
  }
}

/** What a value of this schema looks like, phrased to follow "expected". */
export function expectedOf(schema: Schema): string {
  if (schema.errorMessage !== undefined) return schema.errorMessage;
  if (schema.anyOf !== undefined) return schema.anyOf.map(expectedOf).join(" or ");
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  switch (schema.type) {
    case "object":
      return "an object";
    case "array":
      return schema.minItems ? "a non-empty list" : "a list";
    case "string":
      return schema.minLength ? "a non-empty string" : "a string";
    case "boolean":
      return "true or false";
    case "number":
    case "integer": {
      const noun = schema.type === "integer" ? "a whole number" : "a number";
      const { minimum: min, maximum: max, exclusiveMinimum: above } = schema;
      if (above !== undefined) return `${noun} greater than ${above}${max !== undefined ? ` and at most ${max}` : ""}`;
      if (min !== undefined && max !== undefined) return `${noun} from ${min} to ${max}`;
      if (min !== undefined) return `${noun} of at least ${min}`;
      if (max !== undefined) return `${noun} of at most ${max}`;
      return noun;
    }
    default:
      return "a value";
  }
}

/** How a found value is shown: strings quoted, so that `got "fast"` reads as the text in the file. */
export function describeFound(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "nothing (null)";
  if (Array.isArray(value)) return value.length === 0 ? "an empty list" : "a list";
  if (isPlainObject(value)) return "an object";
  if (typeof value === "string") return JSON.stringify(value);
  return String(value);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** ` (did you mean "work"?)` when one candidate is close enough to be what was meant, else "". */
export function didYouMean(word: string, candidates: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best === undefined || bestDistance > Math.max(1, Math.floor(Math.max(word.length, best.length) / 3))) return "";
  return ` (did you mean ${JSON.stringify(best)}?)`;
}

/** Optimal string alignment distance: insertions, deletions, substitutions, and swaps of neighbours ("wrok"). */
function editDistance(a: string, b: string): number {
  let twoBack: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, twoBack[j - 2]! + 1);
      current[j] = best;
    }
    twoBack = previous;
    previous = current;
  }
  return previous[b.length]!;
}

/** `workflows[1].steps[2].work` */
export function formatPath(path: readonly PathSegment[]): string {
  let text = "";
  for (const segment of path) {
    if (typeof segment === "number") text += `[${segment}]`;
    else text += text === "" ? segment : `.${segment}`;
  }
  return text;
}
