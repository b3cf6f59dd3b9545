/**
 * Reading a scenario: YAML or JSON text (JSON is read as the YAML it also is, so both get the same
 * positions and messages), checked against the schema, then resolved. Every problem becomes one
 * WfsimError line: `wfsim: checkout.yaml:14:15: workflows[1].steps[2].work: expected ..., got "fast"`.
 */
import { readFile, stat } from "node:fs/promises";
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from "yaml";
import { describeSystemError, WfsimError } from "../../errors.ts";
import { checkAgainst, formatPath, type Issue, type PathSegment } from "./check.ts";
import type { DeliverySpec, Scenario } from "./model.ts";
import { resolveDelivery, resolveScenario, ScenarioIssue } from "./resolve.ts";
import { Delivery, ScenarioFile, type DeliveryInput, type ScenarioInput } from "./schema.ts";

/**
 * Limits that keep a hostile or mistaken file from exhausting memory or the stack; a realistic scenario
 * (1,000 steps sharing anchors through merge keys takes about 3,000 alias expansions) stays far below.
 * Documented in docs/scenarios.md.
 */
export const SCENARIO_LIMITS = {
  /** Bytes of a scenario file. */
  bytes: 8 * 1024 * 1024,
  /** yaml's maxAliasCount: aliases expanded, an alias inside an anchor counted each time the anchor is. */
  aliasExpansions: 100_000,
} as const;

/** Reads and resolves the scenario in `path`; a missing file or a bad scenario throws a user error. */
export async function loadScenario(path: string): Promise<Scenario> {
  let text: string;
  try {
    const size = (await stat(path)).size; // 0 for a pipe, which is read as it comes
    if (size > SCENARIO_LIMITS.bytes) {
      throw new WfsimError("SCENARIO", `${path}: a scenario file of at most ${SCENARIO_LIMITS.bytes} bytes, got ${size} bytes`);
    }
    text = await readFile(path, "utf8");
  } catch (error) {
    if (error instanceof WfsimError) throw error;
    throw new WfsimError("FILE", `${path}: cannot read the scenario (${describeSystemError(error)})`, { cause: error });
  }
  return parseScenario(text, path);
}

/**
 * Parses scenario text. `source` names it in messages (a file path) and in the result. Throws a
 * WfsimError with code SCENARIO naming the source, the line and column, the path and the problem.
 */
export function parseScenario(text: string, source = "scenario"): Scenario {
  return parseChecked(text, source, ScenarioFile, "a scenario (an object with workflows)", (value) => resolveScenario(value as ScenarioInput, source));
}

/**
 * Parses a delivery section on its own (`wfsim run --delivery`): a file's text or inline YAML, with
 * the scenario's messages. `workflows` are the names its filters may use (none without a scenario),
 * `recordTypes` the output section's record types (undefined: no output section, no records filter).
 */
export function parseDelivery(text: string, source: string, workflows: readonly string[], recordTypes?: readonly string[]): DeliverySpec {
  return parseChecked(text, source, Delivery, "a delivery section (an object with drop, duplicate, delay, skew or corrupt)", (value) =>
    resolveDelivery(value as DeliveryInput, [], workflows, source, recordTypes),
  );
}

/** Reads a delivery section from a file (`--delivery FILE`), or takes the flag's text itself when it is an inline object (`{ drop: ... }`). */
export async function loadDelivery(spec: string, workflows: readonly string[], flag = "--delivery", recordTypes?: readonly string[]): Promise<DeliverySpec> {
  // Inline: a flow mapping (or a flow sequence, refused by the schema with its position) rather than a path.
  if (/^\s*[{[]/.test(spec)) return parseDelivery(spec, flag, workflows, recordTypes);
  let text: string;
  try {
    text = await readFile(spec, "utf8");
  } catch (error) {
    throw new WfsimError("FILE", `${flag} ${spec}: cannot read the delivery section (${describeSystemError(error)})`, { cause: error });
  }
  return parseDelivery(text, spec, workflows, recordTypes);
}

function parseChecked<T>(text: string, source: string, schema: unknown, what: string, resolve: (value: unknown) => T): T {
  const lineCounter = new LineCounter();
  // merge: YAML's `<<: *defaults`, so that workflows can share settings through an anchor.
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, merge: true });
  const syntax = doc.errors[0];
  if (syntax !== undefined) {
    const at = lineCounter.linePos(syntax.pos[0]);
    const where = `${source}:${at.line}:${at.col}`;
    const what = syntax.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
    throw new WfsimError("SCENARIO", `${where}: not valid YAML or JSON: ${what}`);
  }
  const value = toValue(doc, source);
  const fail = (issue: Issue): never => {
    const offset = offsetOf(doc, issue.path, issue.atKey === true);
    const at = offset === undefined ? undefined : lineCounter.linePos(offset);
    const where = at === undefined ? source : `${source}:${at.line}:${at.col}`;
    const path = formatPath(issue.path);
    throw new WfsimError("SCENARIO", `${where}: ${path === "" ? "" : `${path}: `}${issue.message}`);
  };
  if (value === null || value === undefined) return fail({ path: [], message: `expected ${what}, got an empty file` });
  const issue = checkAgainst(schema, value);
  if (issue !== undefined) return fail(issue);
  try {
    return resolve(value);
  } catch (error) {
    if (error instanceof ScenarioIssue) return fail(error);
    throw error;
  }
}

/** The document as plain data, with the limits that refuse an alias bomb or absurd nesting in one line. */
function toValue(doc: Document, source: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: SCENARIO_LIMITS.aliasExpansions });
  } catch (error) {
    // yaml throws a ReferenceError for aliases it will not expand (too many, or to a missing anchor),
    // and deep enough nesting overflows the stack (a RangeError): both are the file's doing.
    if (error instanceof ReferenceError) {
      throw new WfsimError(
        "SCENARIO",
        `${source}: aliases: at most ${SCENARIO_LIMITS.aliasExpansions} alias expansions, got more (${error.message.split("\n")[0]})`,
      );
    }
    if (error instanceof RangeError) throw new WfsimError("SCENARIO", `${source}: nested too deeply to read (${error.message})`);
    throw error;
  }
}

/** Where the value (or, for `atKey`, the key) at `path` starts in the text; the nearest parent's when it is missing. */
function offsetOf(doc: Document, path: readonly PathSegment[], atKey: boolean): number | undefined {
  let node: unknown = doc.contents;
  let offset = rangeStart(node);
  for (let i = 0; i < path.length; i++) {
    const segment = path[i]!;
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && item.key.value === segment);
      if (pair === undefined) return offset;
      if (last && atKey) return rangeStart(pair.key) ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === "number") {
      node = node.items[segment];
    } else {
      return offset;
    }
    offset = rangeStart(node) ?? offset;
  }
  return offset;
}

function rangeStart(node: unknown): number | undefined {
  return (node as Node | null | undefined)?.range?.[0];
}
