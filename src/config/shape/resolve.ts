/**
 * From a scenario's `output` section (already checked against its schema) to a compiled Shape: every
 * template parsed, every name looked up, attribute dependencies ordered, each record's moments listed,
 * topics enumerated and checked. Problems are thrown as a ScenarioIssue with the path of the value at
 * fault, so they read like every other scenario error:
 * `wfsim: shop.yaml:41:17: output.records.OrderPlaced.fields.order.id: unknown name {ordr_id} (did you mean "order_id"?)`.
 */
import { internalTopicProblem } from "../kafka-options.ts";
import { EVENT_TYPES, type EventType } from "../../events/schema.ts";
import { describeFound, didYouMean, isPlainObject, type PathSegment } from "../scenario/check.ts";
import { ScenarioIssue } from "../scenario/issue.ts";
import { FakeData, fakeMethods, fakeValue, FAKE_LOCALES_HINT } from "./fake-data.ts";
import { isLifecycleName, LIFECYCLE, LIFECYCLE_NAMES, placeholderKnown, TRANSACTION_EVENTS, type LifecycleName } from "./lifecycle.ts";
import type {
  Attribute,
  AttributeKind,
  AttributeScope,
  Moment,
  NumberDistribution,
  ObjectField,
  Placeholder,
  RecordRoles,
  RecordType,
  Shape,
  Template,
  TimeFormat,
  ValueNode,
  ValueType,
} from "./model.ts";
import type { AttributeInput, MomentInput, OutputInput, RecordInput } from "./schema.ts";
import { parseTemplate, placeholdersOf, TemplateError, typeOfPlaceholder, type NameLookup } from "./template.ts";

type Path = readonly PathSegment[];

export interface ShapeContext {
  readonly workflows: readonly { readonly name: string; readonly steps: readonly { readonly name: string }[] }[];
}

const ATTRIBUTE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const KINDS = ["dist", "int", "choice", "chance", "by", "sequence", "uuid", "format", "fake", "value"] as const;
type KindKey = (typeof KINDS)[number];
/** Keys that belong to one kind only, besides the kind's own key. */
const KIND_KEYS: Record<KindKey, readonly string[]> = {
  dist: ["min", "max", "mean", "sd", "median", "p99", "sigma", "values", "round"],
  int: [],
  choice: ["weights"],
  chance: [],
  by: ["cases", "default"],
  sequence: [],
  uuid: [],
  format: [],
  fake: ["args", "locale", "distinct"],
  value: [],
};
const SCOPE_ORDER: Record<AttributeScope, number> = { transaction: 0, step: 1, record: 2 };
/** Lifecycle values an attribute of each scope may use: those fixed when it is drawn. */
const SCOPE_LIFECYCLE: Record<AttributeScope, readonly LifecycleName[]> = {
  transaction: ["txn_id", "seq", "workflow", "time"],
  step: ["txn_id", "seq", "workflow", "time", "step", "step_number"],
  record: ["txn_id", "seq", "workflow", "time", "record", "event", "elapsed_ms", "event_seq"],
};
/** Kafka's legal topic names (topic names longer than 249 characters are refused). */
const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;
/** Z such that Φ(z) = 0.99, as for delays. */
const Z_99 = 2.3263478740408408;
/** Seeds the one trial call that checks a fake method and learns its type. */
const TRIAL_SEED = 0x5eed;

interface Draft {
  readonly name: string;
  readonly scope: AttributeScope;
  readonly input: AttributeInput;
  readonly path: Path;
  readonly order: number;
  deps: Set<string>;
  spec?: AttributeKind;
  type?: ValueType;
}

export function resolveOutput(raw: OutputInput, context: ShapeContext): Shape {
  return new ShapeCompiler(raw, context, 0).compile();
}

class ShapeCompiler {
  private readonly raw: OutputInput;
  private readonly workflows: ShapeContext["workflows"];
  private readonly referenceMs: number;
  private readonly drafts = new Map<string, Draft>();
  private attributes: Attribute[] = [];
  private readonly byName = new Map<string, Attribute>();
  private readonly fakers = new Map<string, FakeData>();

  constructor(raw: OutputInput, context: ShapeContext, referenceMs: number) {
    this.raw = raw;
    this.workflows = context.workflows;
    this.referenceMs = referenceMs;
  }

  compile(): Shape {
    this.compileAttributes();
    const names = Object.keys(this.raw.records);
    if (names.length === 0) throw new ScenarioIssue(["output", "records"], "expected at least one record type, got none");
    const envelope = this.raw.envelope ?? "json";
    if (envelope !== "cloudevents") {
      for (const key of ["source"] as const) {
        if (this.raw[key] !== undefined) throw new ScenarioIssue(["output", key], `applies to envelope: cloudevents only, got it with envelope: ${envelope}`);
      }
    }
    const records = names.map((name, index) => this.compileRecord(name, this.raw.records[name]!, index, envelope));
    const topics: string[] = [];
    for (const record of records) {
      for (const workflow of new Set(record.moments.map((moment) => moment.workflow))) {
        const topic = this.topicName(record, workflow);
        if (!topics.includes(topic)) topics.push(topic);
      }
    }
    return {
      envelope,
      attributes: this.attributes,
      records,
      topics,
      partitions: this.raw.partitions,
      workflows: this.workflows.map((w) => ({ name: w.name, steps: w.steps.map((s) => s.name) })),
    };
  }

  // ---- attributes ----

  private compileAttributes(): void {
    const raw = this.raw.attributes ?? {};
    Object.entries(raw).forEach(([name, input], order) => {
      const path: Path = ["output", "attributes", name];
      if (!ATTRIBUTE_NAME.test(name)) {
        throw new ScenarioIssue(path, `expected an attribute name of letters, digits and _ (not starting with a digit), got ${JSON.stringify(name)}`).aboutKey();
      }
      if (isLifecycleName(name)) {
        throw new ScenarioIssue(path, `expected an attribute name other than the lifecycle values' (${LIFECYCLE_NAMES.join(", ")}), got ${JSON.stringify(name)}`).aboutKey();
      }
      this.drafts.set(name, { name, scope: input.per ?? "transaction", input, path, order, deps: new Set() });
    });
    for (const draft of this.drafts.values()) {
      const found = this.attributeKind(draft.input, draft.path, draft);
      draft.spec = found.spec;
      draft.type = found.type;
    }
    const ordered = this.orderAttributes();
    this.attributes = ordered.map((draft, index) => ({ name: draft.name, index, scope: draft.scope, type: draft.type!, spec: draft.spec! }));
    for (const attribute of this.attributes) this.byName.set(attribute.name, attribute);
    // The specs were compiled before indices existed: placeholders are resolved again with them.
    this.attributes = this.attributes.map((attribute) => ({ ...attribute, spec: this.withIndices(attribute.spec) }));
    for (const attribute of this.attributes) this.byName.set(attribute.name, attribute);
  }

  private withIndices(spec: AttributeKind): AttributeKind {
    const fix = (placeholder: Placeholder): Placeholder =>
      placeholder.source === "attribute" ? { ...placeholder, index: this.byName.get(placeholder.name)!.index } : placeholder;
    const fixTemplate = (template: Template): Template => ({ ...template, parts: template.parts.map((part) => (typeof part === "string" ? part : fix(part))) });
    switch (spec.kind) {
      case "by":
        return {
          ...spec,
          on: fix(spec.on),
          cases: new Map([...spec.cases].map(([key, value]) => [key, this.withIndices(value)])),
          fallback: spec.fallback === undefined ? undefined : this.withIndices(spec.fallback),
        };
      case "format":
        return { ...spec, template: fixTemplate(spec.template) };
      default:
        return spec;
    }
  }

  /** Scopes in order, and within one an order where each attribute follows what it depends on; a cycle is an error. */
  private orderAttributes(): Draft[] {
    const ordered: Draft[] = [];
    const state = new Map<string, "visiting" | "done">();
    const visit = (draft: Draft, chain: string[]) => {
      const seen = state.get(draft.name);
      if (seen === "done") return;
      if (seen === "visiting") {
        const cycle = [...chain.slice(chain.indexOf(draft.name)), draft.name];
        const self = cycle.length === 2 ? "itself" : `itself (${cycle.join(" → ")})`;
        throw new ScenarioIssue(this.drafts.get(cycle[0]!)!.path, `attribute ${cycle[0]} depends on ${self}`);
      }
      state.set(draft.name, "visiting");
      for (const dep of draft.deps) visit(this.drafts.get(dep)!, [...chain, draft.name]);
      state.set(draft.name, "done");
      ordered.push(draft);
    };
    const drafts = [...this.drafts.values()].sort((a, b) => SCOPE_ORDER[a.scope] - SCOPE_ORDER[b.scope] || a.order - b.order);
    for (const draft of drafts) visit(draft, []);
    return ordered.sort((a, b) => SCOPE_ORDER[a.scope] - SCOPE_ORDER[b.scope] || ordered.indexOf(a) - ordered.indexOf(b));
  }

  /** Names an attribute's template or `by` may use: attributes of its scope or an earlier one, and the lifecycle values fixed when it is drawn. */
  private attributeLookup(draft: Draft, path: Path): NameLookup {
    return (name) => {
      const other = this.drafts.get(name);
      if (other !== undefined) {
        if (SCOPE_ORDER[other.scope] > SCOPE_ORDER[draft.scope]) {
          throw new ScenarioIssue(path, `attribute ${draft.name} is drawn per ${draft.scope} and cannot use ${name}, which is drawn per ${other.scope}`);
        }
        draft.deps.add(name);
        // The type is known once the other is compiled; until then assume text (only padding depends on it).
        const type = other.type ?? this.peekType(other);
        return { placeholder: { source: "attribute", name, index: -1 }, type };
      }
      if (isLifecycleName(name)) {
        const allowed = SCOPE_LIFECYCLE[draft.scope];
        if (!allowed.includes(name)) {
          throw new ScenarioIssue(path, `an attribute drawn per ${draft.scope} can use ${allowed.join(", ")} of the lifecycle values, got {${name}}`);
        }
        return { placeholder: { source: "lifecycle", name }, type: LIFECYCLE[name].type };
      }
      return undefined;
    };
  }

  private peekType(draft: Draft): ValueType {
    const input = draft.input;
    if (input.int !== undefined || input.sequence !== undefined) return "integer";
    if (input.dist !== undefined) return input.round === 0 ? "integer" : "number";
    if (input.chance !== undefined) return "boolean";
    return "string";
  }

  private attributeKind(input: AttributeInput, path: Path, draft: Draft): { spec: AttributeKind; type: ValueType } {
    const kinds = KINDS.filter((kind) => input[kind] !== undefined);
    if (kinds.length === 0) {
      throw new ScenarioIssue(path, `expected an attribute: an object with one of ${KINDS.join(", ")}, got none of them`);
    }
    if (kinds.length > 1) throw new ScenarioIssue([...path, kinds[1]!], `expected one of ${KINDS.join(", ")} per attribute, got ${kinds.join(" and ")}`).aboutKey();
    const kind = kinds[0]!;
    for (const [other, keys] of Object.entries(KIND_KEYS)) {
      if (other === kind) continue;
      for (const key of keys) {
        if ((input as Record<string, unknown>)[key] !== undefined && !KIND_KEYS[kind].includes(key)) {
          throw new ScenarioIssue([...path, key], `applies to an attribute with ${other}, not to one with ${kind}`).aboutKey();
        }
      }
    }
    switch (kind) {
      case "dist":
        return this.numberKind(input, path);
      case "int": {
        const [min, max, ...rest] = input.int!;
        if (rest.length > 0) throw new ScenarioIssue([...path, "int"], `expected a list of two whole numbers: [min, max], got ${input.int!.length} numbers`);
        if (max! < min!) throw new ScenarioIssue([...path, "int", 1], `expected at least min (${min}), got ${max}`);
        if (max! - min! >= 2 ** 32) throw new ScenarioIssue([...path, "int"], `expected a range of fewer than 2^32 values, got [${min}, ${max}]`);
        return { spec: { kind: "int", min: min!, max: max! }, type: "integer" };
      }
      case "choice":
        return this.choiceKind(input, path);
      case "chance":
        return { spec: { kind: "chance", prob: input.chance! }, type: "boolean" };
      case "by":
        return this.byKind(input, path, draft);
      case "sequence":
        return { spec: { kind: "sequence", start: input.sequence!.start ?? 1, step: input.sequence!.step ?? 1 }, type: "integer" };
      case "uuid":
        return { spec: { kind: "uuid", version: input.uuid === "v7" ? 7 : 4 }, type: "string" };
      case "format": {
        const template = this.template(input.format!, [...path, "format"], this.attributeLookup(draft, [...path, "format"]));
        return { spec: { kind: "format", template }, type: "string" };
      }
      case "fake":
        return this.fakeKind(input, path);
      case "value": {
        const value = input.value;
        if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") {
          throw new ScenarioIssue([...path, "value"], `expected a string, a number or true/false, got ${describeFound(value)}`);
        }
        return { spec: { kind: "constant", value }, type: scalarType(value) };
      }
    }
  }

  private numberKind(input: AttributeInput, path: Path): { spec: AttributeKind; type: ValueType } {
    const need = (key: "min" | "max" | "mean" | "sd" | "median" | "values" | "value"): number => {
      const value = (input as Record<string, unknown>)[key];
      if (value === undefined) throw new ScenarioIssue(path, `missing ${key} (a number) for dist: ${input.dist}`);
      return value as number;
    };
    const allowed: Record<string, readonly string[]> = {
      constant: ["value"],
      uniform: ["min", "max"],
      normal: ["mean", "sd", "min", "max"],
      lognormal: ["median", "p99", "sigma", "min", "max"],
      exponential: ["mean", "min", "max"],
      empirical: ["values"],
    };
    for (const key of ["min", "max", "mean", "sd", "median", "p99", "sigma", "values"]) {
      if ((input as Record<string, unknown>)[key] !== undefined && !allowed[input.dist!]!.includes(key)) {
        throw new ScenarioIssue([...path, key], `does not apply to dist: ${input.dist} (it takes ${allowed[input.dist!]!.join(", ")})`).aboutKey();
      }
    }
    let dist: NumberDistribution;
    let clampMin: number | undefined;
    let clampMax: number | undefined;
    switch (input.dist!) {
      case "constant": {
        const value = input.value;
        if (typeof value !== "number") throw new ScenarioIssue([...path, "value"], `expected a number, got ${describeFound(value)}`);
        dist = { kind: "constant", value };
        break;
      }
      case "uniform": {
        const min = need("min");
        const max = need("max");
        if (max < min) throw new ScenarioIssue([...path, "max"], `expected at least min (${min}), got ${max}`);
        dist = { kind: "uniform", min, max };
        break;
      }
      case "normal":
        dist = { kind: "normal", mean: need("mean"), sd: need("sd") };
        break;
      case "lognormal": {
        const median = need("median");
        if (input.sigma !== undefined && input.p99 !== undefined) throw new ScenarioIssue([...path, "p99"], "expected sigma or p99, not both");
        if (input.sigma !== undefined) dist = { kind: "lognormal", mu: Math.log(median), sigma: input.sigma };
        else if (input.p99 === undefined) throw new ScenarioIssue(path, "missing sigma or p99 (the spread of a lognormal)");
        else if (input.p99 <= median) throw new ScenarioIssue([...path, "p99"], `expected more than the median (${median}), got ${input.p99}`);
        else dist = { kind: "lognormal", mu: Math.log(median), sigma: Math.log(input.p99 / median) / Z_99 };
        break;
      }
      case "exponential": {
        const mean = need("mean");
        if (mean <= 0) throw new ScenarioIssue([...path, "mean"], `expected a number greater than 0, got ${mean}`);
        dist = { kind: "exponential", mean };
        break;
      }
      case "empirical":
        dist = { kind: "empirical", values: need("values") as unknown as number[] };
        break;
    }
    if (input.dist !== "uniform") {
      clampMin = input.min;
      clampMax = input.max;
      if (clampMin !== undefined && clampMax !== undefined && clampMax < clampMin) {
        throw new ScenarioIssue([...path, "max"], `expected at least min (${clampMin}), got ${clampMax}`);
      }
    }
    return { spec: { kind: "number", dist, round: input.round, min: clampMin, max: clampMax }, type: input.round === 0 ? "integer" : "number" };
  }

  private choiceKind(input: AttributeInput, path: Path): { spec: AttributeKind; type: ValueType } {
    const choice = input.choice!;
    let values: (string | number | boolean)[];
    let weights: readonly number[] | undefined;
    if (Array.isArray(choice)) {
      values = choice as (string | number | boolean)[];
      weights = input.weights;
      if (weights !== undefined && weights.length !== values.length) {
        throw new ScenarioIssue([...path, "weights"], `expected ${values.length} weights, one per value of choice, got ${weights.length}`);
      }
    } else {
      if (input.weights !== undefined) throw new ScenarioIssue([...path, "weights"], "applies to a choice list; a choice map holds its weights").aboutKey();
      values = Object.keys(choice);
      weights = Object.values(choice);
      if (values.length === 0) throw new ScenarioIssue([...path, "choice"], "expected a non-empty list of values, or a map of value → weight, got an empty map");
    }
    let cumulative: number[] | undefined;
    if (weights !== undefined) {
      const total = weights.reduce((sum, w) => sum + w, 0);
      if (!(total > 0)) throw new ScenarioIssue([...path, Array.isArray(choice) ? "weights" : "choice"], "expected weights that add up to more than 0, got 0");
      let running = 0;
      cumulative = weights.map((w) => (running += w) / total);
    }
    const types = new Set(values.map(scalarType));
    const type: ValueType = types.size === 1 ? [...types][0]! : types.has("string") || types.has("boolean") ? "string" : "number";
    if (types.size > 1 && type === "string") {
      throw new ScenarioIssue([...path, "choice"], "expected values of one kind (all text, all numbers or all true/false), got a mix");
    }
    return { spec: { kind: "choice", values, cumulative }, type };
  }

  private byKind(input: AttributeInput, path: Path, draft: Draft): { spec: AttributeKind; type: ValueType } {
    const on = input.by!;
    const lookup = this.attributeLookup(draft, [...path, "by"]);
    const found = lookup(on);
    if (found === undefined) throw new ScenarioIssue([...path, "by"], this.unknownName(on, [...SCOPE_LIFECYCLE[draft.scope]]));
    if (input.cases === undefined) throw new ScenarioIssue(path, "missing cases (value of by → a constant or an attribute)");
    const cases = new Map<string, AttributeKind>();
    const types = new Set<ValueType>();
    for (const [key, value] of Object.entries(input.cases)) {
      const resolved = this.caseValue(value, [...path, "cases", key], draft);
      cases.set(key, resolved.spec);
      types.add(resolved.type);
    }
    let fallback: AttributeKind | undefined;
    if (input.default !== undefined) {
      const resolved = this.caseValue(input.default, [...path, "default"], draft);
      fallback = resolved.spec;
      types.add(resolved.type);
    } else {
      const known = this.knownValues(on);
      const missing = known?.filter((value) => !cases.has(value));
      if (known === undefined) throw new ScenarioIssue(path, `missing default: the values of ${on} are not a fixed list, so cases cannot name them all`);
      if (missing!.length > 0) throw new ScenarioIssue([...path, "cases"], `missing a case for ${missing!.map((v) => JSON.stringify(v)).join(", ")} of ${on} (or a default)`);
    }
    if (types.size > 1 && !(types.size === 2 && types.has("integer") && types.has("number"))) {
      throw new ScenarioIssue([...path, "cases"], `expected cases of one kind, got ${[...types].join(" and ")}`);
    }
    const type: ValueType = types.has("number") ? "number" : [...types][0]!;
    return { spec: { kind: "by", on: found.placeholder, cases, fallback }, type };
  }

  /** The values `name` can take, as text, when they form a fixed list (a choice, a workflow); else undefined. */
  private knownValues(name: string): string[] | undefined {
    if (name === "workflow") return this.workflows.map((w) => w.name);
    if (name === "step") return [...new Set(this.workflows.flatMap((w) => w.steps.map((s) => s.name)))];
    const draft = this.drafts.get(name);
    const choice = draft?.input.choice;
    if (choice === undefined) return draft?.input.chance !== undefined ? ["true", "false"] : undefined;
    return Array.isArray(choice) ? choice.map(String) : Object.keys(choice);
  }

  private caseValue(value: unknown, path: Path, draft: Draft): { spec: AttributeKind; type: ValueType } {
    if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return { spec: { kind: "constant", value }, type: scalarType(value) };
    if (!isPlainObject(value)) throw new ScenarioIssue(path, `expected a constant or an attribute (an object with one of ${KINDS.join(", ")}), got ${describeFound(value)}`);
    const allowed = new Set<string>([...KINDS, ...Object.values(KIND_KEYS).flat()]);
    for (const key of Object.keys(value)) {
      if (!allowed.has(key)) throw new ScenarioIssue([...path, key], `unknown key ${JSON.stringify(key)}${didYouMean(key, [...allowed])}`).aboutKey();
    }
    return this.attributeKind(value as AttributeInput, path, draft);
  }

  private fakeKind(input: AttributeInput, path: Path): { spec: AttributeKind; type: ValueType } {
    const locale = input.locale ?? "en";
    let data = this.fakers.get(locale);
    if (data === undefined) {
      data = FakeData.forLocale(locale, this.referenceMs);
      if (data === undefined) throw new ScenarioIssue([...path, "locale"], `expected ${FAKE_LOCALES_HINT}, got ${JSON.stringify(locale)}`);
      this.fakers.set(locale, data);
    }
    const method = data.method(input.fake!);
    if (method === undefined) {
      const hint = didYouMean(input.fake!, fakeMethods(locale));
      throw new ScenarioIssue([...path, "fake"], `expected a @faker-js/faker method (module.method) such as person.fullName or internet.email, got ${JSON.stringify(input.fake)}${hint}`);
    }
    const args = input.args ?? [];
    // One trial call, from a fixed stream: does it work with these arguments, and what does it give?
    let state = TRIAL_SEED;
    data.random = { float: () => ((state = (Math.imul(state, 48271) >>> 0) % 2147483647) / 2147483647) };
    let value: unknown;
    try {
      value = method(...args);
    } catch (error) {
      throw new ScenarioIssue([...path, input.args === undefined ? "fake" : "args"], `${input.fake}(${args.map((a) => JSON.stringify(a)).join(", ")}) failed: ${(error as Error).message}`);
    } finally {
      data.random = undefined;
    }
    const converted = fakeValue(value);
    if (converted === undefined) {
      throw new ScenarioIssue([...path, "fake"], `expected a method that gives text, a number or true/false, got ${input.fake}, which gives ${describeFound(value)}`);
    }
    const type = typeof converted === "string" ? "string" : typeof converted === "boolean" ? "boolean" : "number";
    return { spec: { kind: "fake", method: input.fake!, args, locale, distinct: input.distinct }, type };
  }

  // ---- records ----

  private compileRecord(name: string, input: RecordInput, index: number, envelope: "json" | "cloudevents"): RecordType {
    const path: Path = ["output", "records", name];
    const moments = this.moments(input.at, [...path, "at"]);
    if (envelope === "json") {
      for (const key of ["type", "subject"] as const) {
        if (input[key] !== undefined) throw new ScenarioIssue([...path, key], `applies to envelope: cloudevents only, got it with envelope: json`).aboutKey();
      }
    }
    const events = [...new Set(moments.map((m) => m.event))];
    const lookup = this.recordLookup();
    const fields = this.fieldsOf(input, path, lookup);
    let value: ValueNode & { kind: "object" };
    if (envelope === "cloudevents") {
      const text = (template: string, at: Path): ValueNode => this.leaf(template, at, lookup);
      const sourcePath: Path = this.raw.source === undefined ? path : ["output", "source"];
      value = {
        kind: "object",
        fields: [
          { name: "specversion", value: { kind: "constant", value: "1.0" } },
          { name: "id", value: text("{txn_id}-{event_seq}", path) },
          { name: "source", value: text(this.raw.source ?? "/wfsim/{workflow}", sourcePath) },
          { name: "type", value: text(input.type ?? "{record}", input.type === undefined ? path : [...path, "type"]) },
          { name: "time", value: text("{time:iso}", path) },
          { name: "subject", value: text(input.subject ?? "{txn_id}", input.subject === undefined ? path : [...path, "subject"]) },
          { name: "datacontenttype", value: { kind: "constant", value: "application/json" } },
          { name: "data", value: fields },
        ],
      };
    } else {
      value = fields;
    }
    this.checkKnown(fields, events, [...path, "fields"], name);
    if (envelope === "cloudevents") {
      for (const key of ["type", "subject"] as const) {
        const field = value.fields.find((f) => f.name === key)!;
        this.checkKnown(field.value, events, input[key] === undefined ? path : [...path, key], name);
      }
      this.checkKnown(value.fields.find((f) => f.name === "source")!.value, events, this.raw.source === undefined ? path : ["output", "source"], name);
    }
    const topicText = input.topic ?? this.raw.topic ?? "wfsim.{record}";
    const topicPath: Path = input.topic !== undefined ? [...path, "topic"] : this.raw.topic !== undefined ? ["output", "topic"] : path;
    const topic = this.template(topicText, topicPath, (n) => {
      if (n === "workflow" || n === "record") return { placeholder: { source: "lifecycle", name: n }, type: "string" };
      throw new ScenarioIssue(topicPath, `a topic template can use {workflow} and {record}, got {${n}}`);
    });
    const keyText = input.key ?? this.raw.key ?? "{txn_id}";
    const keyPath: Path = input.key !== undefined ? [...path, "key"] : this.raw.key !== undefined ? ["output", "key"] : path;
    const key = this.template(keyText, keyPath, this.keyLookup(keyPath));
    const headerInputs = { ...this.raw.headers, ...input.headers };
    const headers = Object.entries(headerInputs).map(([headerName, raw]) => {
      const headerPath: Path = input.headers?.[headerName] !== undefined ? [...path, "headers", headerName] : ["output", "headers", headerName];
      const template = this.template(String(raw), headerPath, lookup);
      this.checkKnown({ kind: "text", template }, events, headerPath, name);
      return { name: headerName, value: template };
    });
    const record: RecordType = { name, index, moments, value, topic, key, headers, roles: rolesOf(value), path: `output.records.${name}` };
    for (const workflow of new Set(moments.map((m) => m.workflow))) {
      const topicName = this.topicName(record, workflow);
      if (!TOPIC_NAME.test(topicName) || topicName === "." || topicName === "..") {
        throw new ScenarioIssue(topicPath, `expected a Kafka topic name (1 to 249 of A-Z a-z 0-9 . _ -), got ${JSON.stringify(topicName)} from ${JSON.stringify(topic.text)} for workflow ${this.workflows[workflow]!.name}`);
      }
      const internal = internalTopicProblem(topicName);
      if (internal !== undefined) throw new ScenarioIssue(topicPath, `${internal} (workflow ${this.workflows[workflow]!.name})`);
    }
    return record;
  }

  private topicName(record: Pick<RecordType, "topic" | "name">, workflow: number): string {
    return topicOf(record, this.workflows[workflow]!.name);
  }

  /** Keys use values fixed for the whole transaction, so that its records keep one partition per topic. */
  private keyLookup(path: Path): NameLookup {
    return (n) => {
      const attribute = this.byName.get(n);
      if (attribute !== undefined) {
        if (attribute.scope !== "transaction") {
          throw new ScenarioIssue(path, `a key must stay the same for all of a transaction's records (so that they keep their order), and ${n} is drawn per ${attribute.scope}`);
        }
        return { placeholder: { source: "attribute", name: n, index: attribute.index }, type: attribute.type };
      }
      if (isLifecycleName(n)) {
        if (LIFECYCLE[n].constancy !== "transaction") {
          throw new ScenarioIssue(path, `a key must stay the same for all of a transaction's records (so that they keep their order): use txn_id, seq, workflow or a per-transaction attribute, got {${n}}`);
        }
        return { placeholder: { source: "lifecycle", name: n }, type: LIFECYCLE[n].type };
      }
      throw new ScenarioIssue(path, this.unknownName(n, ["txn_id", "seq", "workflow"]));
    };
  }

  private recordLookup(): NameLookup {
    return (n) => {
      const attribute = this.byName.get(n);
      if (attribute !== undefined) return { placeholder: { source: "attribute", name: n, index: attribute.index }, type: attribute.type };
      if (isLifecycleName(n)) return { placeholder: { source: "lifecycle", name: n }, type: LIFECYCLE[n].type };
      return undefined;
    };
  }

  private unknownName(name: string, lifecycle: readonly string[]): string {
    const attributes = [...this.drafts.keys()];
    const candidates = [...attributes, ...lifecycle];
    const attributeText = attributes.length === 0 ? "" : ` or an attribute (${attributes.join(", ")})`;
    return `expected a lifecycle value (${lifecycle.join(", ")})${attributeText}, got {${name}}${didYouMean(name, candidates)}`;
  }

  private template(text: string, path: Path, lookup: NameLookup): Template {
    try {
      return parseTemplate(text, (n) => {
        const found = lookup(n);
        if (found === undefined) throw new ScenarioIssue(path, this.unknownName(n, LIFECYCLE_NAMES));
        return found;
      });
    } catch (error) {
      if (error instanceof TemplateError) throw new ScenarioIssue(path, error.message);
      throw error;
    }
  }

  private leaf(text: string, path: Path, lookup: NameLookup): ValueNode {
    const template = this.template(text, path, lookup);
    const only = template.parts.length === 1 ? template.parts[0] : undefined;
    if (only === undefined || typeof only === "string") {
      return template.parts.length === 1 ? { kind: "constant", value: only as string } : { kind: "text", template };
    }
    const base = only.source === "attribute" ? this.byName.get(only.name)!.type : LIFECYCLE[only.name].type;
    return { kind: "value", placeholder: only, type: typeOfPlaceholder(only, base) };
  }

  /** output.fields and the record's fields, with dotted names turned into nested objects; null removes a shared field. */
  private fieldsOf(input: RecordInput, path: Path, lookup: NameLookup): ValueNode & { kind: "object" } {
    const root: MutableObject = { fields: new Map() };
    const add = (source: Readonly<Record<string, unknown>>, at: Path, shared: boolean) => {
      for (const [key, value] of Object.entries(source)) {
        const names = key.split(".");
        if (names.some((n) => n === "")) throw new ScenarioIssue([...at, key], `expected a field name or a dotted path (order.id), got ${JSON.stringify(key)}`).aboutKey();
        if (value === null) {
          if (shared || !removeField(root, names)) throw new ScenarioIssue([...at, key], `null removes a field of output.fields, and there is no ${key} there`);
          continue;
        }
        this.place(root, names, value, [...at, key], lookup, shared);
      }
    };
    add(this.raw.fields ?? {}, ["output", "fields"], true);
    add(input.fields ?? {}, [...path, "fields"], false);
    return freeze(root);
  }

  private place(target: MutableObject, names: readonly string[], value: unknown, path: Path, lookup: NameLookup, shared: boolean): void {
    let object = target;
    for (let i = 0; i < names.length - 1; i++) {
      const existing = object.fields.get(names[i]!);
      if (existing === undefined) {
        const child: MutableObject = { fields: new Map() };
        object.fields.set(names[i]!, { node: child, path, shared });
        object = child;
      } else if ("fields" in existing.node && existing.node.fields instanceof Map) {
        object = existing.node as MutableObject;
      } else {
        throw this.twoFields(path, existing.path, names.slice(0, i + 1));
      }
    }
    const last = names.at(-1)!;
    const existing = object.fields.get(last);
    if (existing !== undefined && !(existing.shared && !shared)) throw this.twoFields(path, existing.path, names);
    if (isPlainObject(value)) {
      const child: MutableObject = { fields: new Map() };
      // A record's own object replaces a shared field of the same name wholly.
      object.fields.set(last, { node: child, path, shared });
      for (const [key, inner] of Object.entries(value)) {
        if (inner === null) throw new ScenarioIssue([...path, key], "expected a value, got nothing (null)");
        this.place(child, key.split("."), inner, [...path, key], lookup, shared);
      }
      return;
    }
    object.fields.set(last, { node: this.valueNode(value, path, lookup), path, shared });
  }

  private twoFields(path: Path, earlier: Path, names: readonly string[]): ScenarioIssue {
    const where = earlier.map((s) => (typeof s === "number" ? `[${s}]` : s)).join(".");
    return new ScenarioIssue(path, `expected one field per path, got a second one at ${names.join(".")} (the first is ${where})`).aboutKey();
  }

  private valueNode(value: unknown, path: Path, lookup: NameLookup): ValueNode {
    if (typeof value === "string") return this.leaf(value, path, lookup);
    if (typeof value === "number" || typeof value === "boolean") return { kind: "constant", value };
    if (Array.isArray(value)) return { kind: "list", items: value.map((item, i) => this.valueNode(item, [...path, i], lookup)) };
    if (isPlainObject(value)) {
      const root: MutableObject = { fields: new Map() };
      for (const [key, inner] of Object.entries(value)) this.place(root, key.split("."), inner, [...path, key], lookup, false);
      return freeze(root);
    }
    if (value === null) return { kind: "constant", value: null };
    throw new ScenarioIssue(path, `expected a constant, a template, an object or a list, got ${describeFound(value)}`);
  }

  /** Every value a record uses must be known at one of its moments at least (where it is not, the field is left out). */
  private checkKnown(node: ValueNode, events: readonly EventType[], path: Path, record: string): void {
    if (node.kind === "object") {
      for (const field of node.fields) this.checkKnown(field.value, events, [...path, field.name], record);
      return;
    }
    if (node.kind === "list") {
      node.items.forEach((item, i) => this.checkKnown(item, events, [...path, i], record));
      return;
    }
    const placeholders = placeholdersOfNode(node);
    for (const placeholder of placeholders) {
      if (events.some((event) => this.placeholderKnownAt(placeholder, event))) continue;
      const where = events.length === 1 ? events[0] : `any of ${events.join(", ")}`;
      throw new ScenarioIssue(path, `{${placeholder.name}} is not known at ${where}, where record ${record} is produced`);
    }
  }

  private placeholderKnownAt(placeholder: Placeholder, event: EventType): boolean {
    if (placeholder.source === "lifecycle") return placeholderKnown(placeholder, event);
    return placeholderKnown({ source: "attribute", scope: this.byName.get(placeholder.name)!.scope }, event);
  }

  private moments(at: RecordInput["at"], path: Path): Moment[] {
    const list = Array.isArray(at) ? at : [at];
    const found: Moment[] = [];
    list.forEach((item, i) => {
      const itemPath = Array.isArray(at) ? [...path, i] : path;
      for (const moment of this.expandMoment(item as MomentInput, itemPath)) {
        if (!found.some((m) => m.event === moment.event && m.workflow === moment.workflow && m.step === moment.step)) found.push(moment);
      }
    });
    const eventOrder = (e: EventType) => EVENT_TYPES.indexOf(e);
    return found.sort((a, b) => a.workflow - b.workflow || a.step - b.step || eventOrder(a.event) - eventOrder(b.event));
  }

  private expandMoment(input: MomentInput, path: Path): Moment[] {
    const spec = typeof input === "string" ? { event: input } : input;
    const eventPath = typeof input === "string" ? path : [...path, "event"];
    if (!(EVENT_TYPES as readonly string[]).includes(spec.event)) {
      throw new ScenarioIssue(eventPath, `expected a lifecycle event (${EVENT_TYPES.join(", ")}), got ${JSON.stringify(spec.event)}${didYouMean(spec.event, EVENT_TYPES)}`);
    }
    const event = spec.event as EventType;
    const workflowNames = this.workflows.map((w) => w.name);
    const wanted = spec.workflow === undefined ? undefined : Array.isArray(spec.workflow) ? spec.workflow : [spec.workflow];
    wanted?.forEach((name, i) => {
      if (!workflowNames.includes(name)) {
        const at = Array.isArray(spec.workflow) ? [...path, "workflow", i] : [...path, "workflow"];
        throw new ScenarioIssue(at, `expected a workflow of the scenario (${workflowNames.join(", ")}), got ${JSON.stringify(name)}${didYouMean(name, workflowNames)}`);
      }
    });
    const workflows = this.workflows.map((_, i) => i).filter((i) => wanted === undefined || wanted.includes(this.workflows[i]!.name));
    const steps = spec.step === undefined ? undefined : Array.isArray(spec.step) ? spec.step : [spec.step];
    const transactional = TRANSACTION_EVENTS.includes(event);
    if (steps !== undefined && transactional) throw new ScenarioIssue([...path, "step"], `applies to step events, not to ${event}`).aboutKey();
    steps?.forEach((name, i) => {
      if (!workflows.some((w) => this.workflows[w]!.steps.some((s) => s.name === name))) {
        const names = [...new Set(workflows.flatMap((w) => this.workflows[w]!.steps.map((s) => s.name)))];
        const at = Array.isArray(spec.step) ? [...path, "step", i] : [...path, "step"];
        throw new ScenarioIssue(at, `expected a step of ${wanted === undefined ? "the workflows" : `workflow ${wanted.join(", ")}`} (${names.join(", ")}), got ${JSON.stringify(name)}${didYouMean(name, names)}`);
      }
    });
    const moments: Moment[] = [];
    for (const workflow of workflows) {
      if (transactional) {
        moments.push({ event, workflow, step: -1 });
        continue;
      }
      const stepNames = this.workflows[workflow]!.steps;
      stepNames.forEach((step, index) => {
        if (steps !== undefined && !steps.includes(step.name)) return;
        // The last step has no wait after it.
        if (event === "inter_step_wait" && index === stepNames.length - 1) return;
        moments.push({ event, workflow, step: index });
      });
    }
    if (moments.length === 0) throw new ScenarioIssue(path, `expected a moment that happens, got none: ${event} at ${steps?.join(", ")} (a last step has no inter_step_wait)`);
    return moments;
  }
}

interface MutableEntry {
  node: MutableObject | ValueNode;
  path: Path;
  shared: boolean;
}
interface MutableObject {
  fields: Map<string, MutableEntry>;
}

function freeze(object: MutableObject): ValueNode & { kind: "object" } {
  const fields: ObjectField[] = [];
  for (const [name, entry] of object.fields) {
    const node = entry.node;
    fields.push({ name, value: "fields" in node && node.fields instanceof Map ? freeze(node as MutableObject) : (node as ValueNode) });
  }
  return { kind: "object", fields };
}

function removeField(object: MutableObject, names: readonly string[]): boolean {
  let current = object;
  for (let i = 0; i < names.length - 1; i++) {
    const next = current.fields.get(names[i]!)?.node;
    if (next === undefined || !("fields" in next && next.fields instanceof Map)) return false;
    current = next as MutableObject;
  }
  return current.fields.delete(names.at(-1)!);
}

function scalarType(value: string | number | boolean): ValueType {
  if (typeof value === "string") return "string";
  if (typeof value === "boolean") return "boolean";
  return Number.isInteger(value) ? "integer" : "number";
}

/** Every placeholder under a node. */
export function placeholdersOfNode(node: ValueNode): Placeholder[] {
  switch (node.kind) {
    case "object":
      return node.fields.flatMap((field) => placeholdersOfNode(field.value));
    case "list":
      return node.items.flatMap(placeholdersOfNode);
    case "value":
      return [node.placeholder];
    case "text":
      return placeholdersOf(node.template);
    case "constant":
      return [];
  }
}

/** The first fields (in document order) that hold {txn_id} and {time} alone. */
function rolesOf(value: ValueNode & { kind: "object" }): RecordRoles {
  let txnId: RecordRoles["txnId"];
  let time: RecordRoles["time"];
  const walk = (node: ValueNode, path: string[]) => {
    if (node.kind === "object") for (const field of node.fields) walk(field.value, [...path, field.name]);
    if (node.kind !== "value" || node.placeholder.source !== "lifecycle" || node.placeholder.pad !== undefined) return;
    if (node.placeholder.name === "txn_id") txnId ??= path;
    if (node.placeholder.name === "time") time ??= { path, format: (node.placeholder.time ?? "ms") as TimeFormat };
  };
  walk(value, []);
  return { txnId, time };
}

/** The topic a record of `record`'s type takes in a workflow: its topic template filled in. */
export function topicOf(record: Pick<RecordType, "topic" | "name">, workflowName: string): string {
  return record.topic.parts.map((part) => (typeof part === "string" ? part : part.name === "workflow" ? workflowName : record.name)).join("");
}
