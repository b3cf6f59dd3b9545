/**
 * Realistic values (names, e-mails, addresses, IBANs, ...) from @faker-js/faker, driven by wfsim's
 * own random streams: faker's randomizer is replaced by one that draws from whichever stream the
 * caller hands over, so a value depends on the seed and the transaction only, never on what else ran.
 *
 * Faker is loaded only when a scenario uses it (its English data alone takes a tenth of a second to
 * load), one locale at a time, synchronously so that a scenario is checked in one pass.
 */
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/** The part of faker's Randomizer interface wfsim provides. */
interface Randomizer {
  next(): number;
  seed(seed: number | number[]): void;
}

interface FakerInstance {
  readonly rawDefinitions: unknown;
  setDefaultRefDate(date: number): void;
  readonly [module: string]: unknown;
}

type FakerClass = new (options: { locale: unknown; randomizer: Randomizer }) => FakerInstance;

/** A uniform float source: what a fake value draws from. */
export interface FloatSource {
  float(): number;
}

const loaded = new Map<string, FakerInstance>();

/** Faker's ready instance for a locale, or undefined when faker has no such locale. */
function localeFaker(locale: string): FakerInstance | undefined {
  if (!/^[a-z]{2,3}(_[A-Za-z_]+)?$/.test(locale)) return undefined;
  let faker = loaded.get(locale);
  if (faker === undefined) {
    try {
      faker = (require(`@faker-js/faker/locale/${locale}`) as { faker: FakerInstance }).faker;
    } catch {
      return undefined;
    }
    loaded.set(locale, faker);
  }
  return faker;
}

export const FAKE_LOCALES_HINT = "a @faker-js/faker locale such as en, de, fr, en_US";

/** Every `module.method` faker offers, for suggestions. */
export function fakeMethods(locale = "en"): string[] {
  const faker = localeFaker(locale);
  if (faker === undefined) return [];
  const names: string[] = [];
  for (const module of Object.keys(faker)) {
    const value = faker[module];
    if (typeof value !== "object" || value === null || module.startsWith("_")) continue;
    for (const method of methodNames(value)) names.push(`${module}.${method}`);
  }
  return names;
}

function methodNames(module: object): string[] {
  const names = new Set<string>();
  for (let proto: object | null = module; proto !== null && proto !== Object.prototype; proto = Object.getPrototypeOf(proto) as object | null) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (name !== "constructor" && !name.startsWith("_") && typeof (module as Record<string, unknown>)[name] === "function") names.add(name);
    }
  }
  return [...names];
}

/** Why a fake value spec cannot be used, phrased to follow its path, or undefined when it can. */
export type FakeProblem = { readonly what: "locale" | "method" | "call"; readonly message: string };

/**
 * A source of fake values for one locale. `call` draws from the stream set in `random`, which the
 * caller points at a transaction's attribute stream before each value.
 */
export class FakeData {
  random: FloatSource | undefined;
  private readonly faker: FakerInstance;

  private constructor(faker: FakerInstance) {
    this.faker = faker;
  }

  /** A faker for `locale` whose dates count from `referenceMs`; undefined when the locale does not exist. */
  static forLocale(locale: string, referenceMs: number): FakeData | undefined {
    const ready = localeFaker(locale);
    if (ready === undefined) return undefined;
    const Faker = ready.constructor as FakerClass;
    let data: FakeData | undefined = undefined;
    const randomizer: Randomizer = {
      next: () => data!.draw(),
      seed: () => {},
    };
    const faker = new Faker({ locale: ready.rawDefinitions, randomizer });
    faker.setDefaultRefDate(referenceMs);
    keepMustachePatterns(faker);
    data = new FakeData(faker);
    return data;
  }

  private draw(): number {
    const random = this.random;
    if (random === undefined) throw new Error("fake data drawn without a random stream");
    return random.float();
  }

  /** The function behind `module.method`, or undefined when faker has none. */
  method(name: string): ((...args: unknown[]) => unknown) | undefined {
    const [module, method, ...rest] = name.split(".");
    if (module === undefined || method === undefined || rest.length > 0 || module.startsWith("_")) return undefined;
    const target = this.faker[module];
    if (typeof target !== "object" || target === null) return undefined;
    const fn = (target as Record<string, unknown>)[method];
    if (typeof fn !== "function" || method.startsWith("_") || method === "constructor") return undefined;
    return (fn as (...args: unknown[]) => unknown).bind(target);
  }
}

type MustacheData = Record<string, string | ((substring: string, ...args: unknown[]) => string)>;
type Mustache = (text: string | undefined, data: MustacheData) => string;

/**
 * faker's helpers.mustache, which person.fullName calls on every name, makes a RegExp of every key on
 * every call (five for a full name: 40% of the name's time). This one keeps them and is otherwise the
 * same code: a global RegExp starts from 0 in every replace, so a kept one matches what a fresh one
 * matches. It takes faker's place only when both give the same text on a set of templates, so a faker
 * whose mustache works differently keeps its own.
 */
function keepMustachePatterns(faker: FakerInstance): void {
  const helpers = faker["helpers"] as { mustache?: Mustache } | undefined;
  const original = helpers?.mustache;
  if (helpers === undefined || typeof original !== "function") return;
  const patterns = new Map<string, RegExp>();
  const kept: Mustache = (text, data) => {
    if (text == null) return "";
    for (const key in data) {
      let pattern = patterns.get(key);
      if (pattern === undefined) {
        pattern = new RegExp(`{{${key}}}`, "g");
        patterns.set(key, pattern);
      }
      let value = data[key]!;
      if (typeof value === "string") value = value.replaceAll("$", "$$$$");
      text = text.replace(pattern, value as string);
    }
    return text;
  };
  const trials: [string | undefined, MustacheData][] = [
    ["{{a.b}} {{a.b}}{{aXb}} {{c}} $& {{d}}", { "a.b": () => "x$1", c: "$&y$$", d: (match) => `[${match}]` }],
    ["{{person.prefix}} {{person.firstName}} {{person.lastName}}", { "person.prefix": () => "Dr.", "person.firstName": () => "Ana", "person.lastName": "O'$Neil" }],
    [undefined, { a: "b" }],
  ];
  for (const [text, data] of trials) {
    if (original.call(helpers, text, data) !== kept(text, data)) return;
  }
  helpers.mustache = kept;
}

/**
 * A faker value as a record carries it: text, a number or true/false. Dates become ISO-8601 text;
 * anything else (objects, lists) is not a value a field can hold.
 */
export function fakeValue(value: unknown): string | number | boolean | undefined {
  if (typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Date) return value.toISOString();
  return undefined;
}
