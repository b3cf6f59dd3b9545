/**
 * Drawing a shaped output's attributes. Each transaction has an attribute stream of its own, derived
 * from the seed and its index (never its lifecycle stream), so that an output section changes no
 * transaction, delay or anomaly, and an attribute has the same value whatever the clock, speed,
 * concurrency or --instance.
 *
 * Draw order on the attribute stream (part of the output contract): at transaction_open the
 * transaction attributes, at each step's first step_open the step attributes, before each record its
 * record attributes; within a scope in the shape's attribute order (each after those it depends on).
 * What each kind draws:
 * - number: uniform and exponential one float, normal and lognormal two, empirical one Random.int;
 * - int, choice without weights: one Random.int; choice with weights, chance: one float;
 * - uuid: v4 four 32-bit draws, v7 three (its first 48 bits are the time);
 * - fake: what faker asks for (one float per random decision); with `distinct`, one Random.int
 *   (the value itself comes from a stream of its own, the same for every transaction that picks it);
 * - by: what its case draws; sequence, format, constant: nothing.
 */
import type { Attribute, AttributeKind, NumberDistribution, Placeholder, Shape, Template } from "../../config/shape/model.ts";
import { FakeData, fakeValue } from "../../config/shape/fake-data.ts";
import { isoUtc, type ZonedTime } from "../../events/iso-time.ts";
import { standardNormal } from "../distributions.ts";
import { Random, RandomStreams } from "../random.ts";

export type AttributeValue = string | number | boolean;

/** Domains of the seed's streams that shaped outputs use (arrivals use 0). */
export const ATTRIBUTE_DOMAIN = 1;
const FAKE_POOL_DOMAIN = 2;

/** What an attribute may depend on when it is drawn: the transaction and the moment. */
export interface DrawContext {
  readonly random: Random;
  /** Attribute values by index (those drawn so far). */
  readonly values: AttributeValue[];
  readonly index: number;
  readonly txnId: string;
  readonly workflowName: string;
  /** The time of the moment it is drawn at. */
  readonly time: number;
  readonly openedAt: number;
  readonly stepName: string | undefined;
  readonly stepNumber: number;
  readonly record: string;
  readonly event: string;
  readonly eventSeq: number;
}

export type Drawer = (c: DrawContext) => AttributeValue;

export interface DrawSettings {
  readonly seed: number;
  /** Reference time of faker's date methods: the run's start, so that dates repeat with the seed. */
  readonly startTime: number;
  readonly zone: ZonedTime;
}

/** Reads a lifecycle value or attribute from a draw context (what `by` and `format` read). */
export type PlaceholderReader = (c: DrawContext) => AttributeValue | undefined;

/**
 * The reader of `placeholder`, its kind settled once here rather than on every draw: a format
 * attribute (an order number) is drawn for every transaction.
 */
export function placeholderReader(placeholder: Placeholder, zone: ZonedTime): PlaceholderReader {
  if (placeholder.source === "attribute") {
    const index = placeholder.index;
    return (c) => c.values[index];
  }
  switch (placeholder.name) {
    case "txn_id":
      return (c) => c.txnId;
    case "seq":
      return (c) => c.index + 1;
    case "workflow":
      return (c) => c.workflowName;
    case "time":
      switch (placeholder.time) {
        case "s":
          return (c) => Math.floor(c.time / 1000);
        case "iso":
          return (c) => zone.iso(c.time);
        case "iso_utc":
          return (c) => isoUtc(c.time);
        default:
          return (c) => c.time;
      }
    case "step":
      return (c) => c.stepName;
    case "step_number":
      return (c) => c.stepNumber;
    case "record":
      return (c) => c.record;
    case "event":
      return (c) => c.event;
    case "elapsed_ms":
      return (c) => c.time - c.openedAt;
    case "event_seq":
      return (c) => c.eventSeq;
    default:
      return () => undefined;
  }
}

/**
 * A template's text as one generated expression ("ORD-" + String(r0(c)).padStart(8, "0")), with
 * no loop over its parts and no switch on their kinds per draw.
 */
export function templateRenderer(template: Template, zone: ZonedTime): (c: DrawContext) => string {
  const readers: PlaceholderReader[] = [];
  let body = '""';
  for (const part of template.parts) {
    if (typeof part === "string") {
      body += ` + ${JSON.stringify(part)}`;
      continue;
    }
    const read = `String(r${readers.length}(c))`;
    readers.push(placeholderReader(part, zone));
    body += part.pad === undefined ? ` + ${read}` : ` + ${read}.padStart(${part.pad}, "0")`;
  }
  const names = readers.map((_, i) => `r${i}`);
  return new Function(...names, `return (c) => ${body};`)(...readers) as (c: DrawContext) => string;
}

/** murmur3's 32-bit finalizer: a bijection that mixes every input bit into every output bit. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Each transaction's attribute stream: an xoshiro128** generator whose state comes from the
 * transaction's index mixed with four words drawn from the seed's attribute domain. Made without
 * allocating (one is made for every transaction); distinct indices give distinct states.
 */
export class AttributeStreams {
  private readonly keys: readonly [number, number, number, number];

  constructor(seed: number) {
    const root = new RandomStreams(seed).forDomain(ATTRIBUTE_DOMAIN);
    this.keys = [root.nextU32(), root.nextU32(), root.nextU32(), root.nextU32()];
  }

  forTransaction(index: number, reuse?: Random): Random {
    const lo = index >>> 0;
    const hi = Math.floor(index / 2 ** 32) >>> 0;
    const [k0, k1, k2, k3] = this.keys;
    const s0 = fmix32(fmix32(k0 ^ lo) ^ hi);
    const s1 = fmix32(fmix32((k1 + 0x9e3779b9) ^ lo) ^ hi);
    const s2 = fmix32(fmix32((k2 + 0x3c6ef372) ^ lo) ^ hi);
    // fmix32 is a bijection: s3 is 0 for one lo only, and s0..s2 are not all 0 then in practice; 1 keeps the state valid.
    const s3 = fmix32(fmix32((k3 + 0xdaa66d2b) ^ lo) ^ hi) || 1;
    return reuse === undefined ? new Random(s0, s1, s2, s3) : reuse.reseed(s0, s1, s2, s3);
  }
}

export class AttributeDrawers {
  /** One drawer per attribute, by index. */
  readonly drawers: readonly Drawer[];
  readonly streams: AttributeStreams;

  constructor(shape: Shape, settings: DrawSettings) {
    this.streams = new AttributeStreams(settings.seed);
    const fakers = new Map<string, FakeData>();
    const build = (attribute: Attribute, spec: AttributeKind): Drawer => compileDrawer(spec, attribute, settings, fakers, build);
    this.drawers = shape.attributes.map((attribute) => build(attribute, attribute.spec));
  }
}

function compileDrawer(
  spec: AttributeKind,
  attribute: Attribute,
  settings: DrawSettings,
  fakers: Map<string, FakeData>,
  build: (attribute: Attribute, spec: AttributeKind) => Drawer,
): Drawer {
  switch (spec.kind) {
    case "constant": {
      const value = spec.value;
      return () => value;
    }
    case "number":
      return numberDrawer(spec.dist, spec.round, spec.min, spec.max);
    case "int": {
      const { min, max } = spec;
      return (c) => c.random.int(min, max);
    }
    case "choice": {
      const { values, cumulative } = spec;
      const last = values.length - 1;
      if (cumulative === undefined) return (c) => values[c.random.int(0, last)]!;
      return (c) => {
        const u = c.random.float();
        let i = 0;
        while (i < last && u >= cumulative[i]!) i++;
        return values[i]!;
      };
    }
    case "chance": {
      const prob = spec.prob;
      return (c) => c.random.chance(prob);
    }
    case "sequence": {
      const { start, step } = spec;
      return (c) => start + c.index * step;
    }
    case "uuid":
      return spec.version === 4 ? (c) => uuidV4(c.random) : (c) => uuidV7(c.random, c.time);
    case "format":
      return templateRenderer(spec.template, settings.zone);
    case "by": {
      const cases = new Map([...spec.cases].map(([key, kind]) => [key, build(attribute, kind)]));
      const fallback = spec.fallback === undefined ? undefined : build(attribute, spec.fallback);
      const on = placeholderReader(spec.on, settings.zone);
      return (c) => {
        const key = String(on(c));
        const drawer = cases.get(key) ?? fallback;
        if (drawer === undefined) throw new Error(`attribute ${attribute.name}: no case for ${key}`);
        return drawer(c);
      };
    }
    case "fake": {
      let data = fakers.get(spec.locale);
      if (data === undefined) {
        data = FakeData.forLocale(spec.locale, settings.startTime)!;
        fakers.set(spec.locale, data);
      }
      const method = data.method(spec.method)!;
      const args = spec.args;
      const fake = data;
      const draw = (random: Random): AttributeValue => {
        fake.random = random;
        try {
          return fakeValue(method(...args)) ?? "";
        } finally {
          fake.random = undefined;
        }
      };
      if (spec.distinct === undefined) return (c) => draw(c.random);
      // A fixed set of values (a customer base): value k comes from stream k of the attribute's own
      // family, made when first picked and kept, so it is the same for every transaction that picks it.
      const pool: (AttributeValue | undefined)[] = new Array(spec.distinct).fill(undefined);
      const streams = new RandomStreams(settings.seed).derived(FAKE_POOL_DOMAIN + attribute.index);
      const last = spec.distinct - 1;
      return (c) => {
        const k = c.random.int(0, last);
        return (pool[k] ??= draw(streams.forTransaction(k)));
      };
    }
  }
}

function numberDrawer(dist: NumberDistribution, round: number | undefined, min: number | undefined, max: number | undefined): Drawer {
  let sample: (random: Random) => number;
  switch (dist.kind) {
    case "constant": {
      const value = dist.value;
      sample = () => value;
      break;
    }
    case "uniform": {
      const { min: low, max: high } = dist;
      sample = (random) => low + (high - low) * random.float();
      break;
    }
    case "normal": {
      const { mean, sd } = dist;
      sample = (random) => mean + sd * standardNormal(random);
      break;
    }
    case "lognormal": {
      const { mu, sigma } = dist;
      sample = (random) => Math.exp(mu + sigma * standardNormal(random));
      break;
    }
    case "exponential": {
      const mean = dist.mean;
      sample = (random) => -mean * Math.log(1 - random.float());
      break;
    }
    case "empirical": {
      const values = dist.values;
      const last = values.length - 1;
      sample = (random) => values[random.int(0, last)]!;
      break;
    }
  }
  const low = min ?? -Infinity;
  const high = max ?? Infinity;
  const scale = round === undefined ? 0 : 10 ** round;
  return (c) => {
    let value = sample(c.random);
    if (value < low) value = low;
    else if (value > high) value = high;
    return scale === 0 ? value : roundTo(value, scale);
  };
}

/** value rounded to 1/scale, as a number whose JSON text has at most that many decimals. */
function roundTo(value: number, scale: number): number {
  return Math.round(value * scale) / scale;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

function hex32(x: number): string {
  return HEX[x >>> 24]! + HEX[(x >>> 16) & 255]! + HEX[(x >>> 8) & 255]! + HEX[x & 255]!;
}

/** RFC 9562 version 4: 122 random bits. */
export function uuidV4(random: Random): string {
  const a = random.nextU32();
  const b = (random.nextU32() & 0xffff0fff) | 0x00004000;
  const c = ((random.nextU32() & 0x3fffffff) | 0x80000000) >>> 0;
  const d = random.nextU32();
  const bx = hex32(b >>> 0);
  const cx = hex32(c);
  return `${hex32(a)}-${bx.slice(0, 4)}-${bx.slice(4)}-${cx.slice(0, 4)}-${cx.slice(4)}${hex32(d)}`;
}

/** RFC 9562 version 7: 48 bits of Unix time in ms, then 74 random bits. */
export function uuidV7(random: Random, ms: number): string {
  const high = Math.floor(ms / 2 ** 16);
  const low = ms % 2 ** 16;
  const b = random.nextU32();
  const c = ((random.nextU32() & 0x3fffffff) | 0x80000000) >>> 0;
  const d = random.nextU32();
  const time = hex32(high >>> 0) + HEX[low >>> 8]! + HEX[low & 255]!;
  const bx = hex32(((b & 0x0fff0000) | 0x70000000) >>> 0);
  const cx = hex32(c);
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-${bx.slice(0, 4)}-${cx.slice(0, 4)}-${cx.slice(4)}${hex32(d)}`;
}
