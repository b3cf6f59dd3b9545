/**
 * Seeded random streams. Every transaction draws from its own xoshiro128** generator whose state comes
 * from SplitMix64 at a counter derived from (seed, transaction index), so a transaction's id, delays and
 * outliers depend on nothing but the seed, its index and the workload parameters: not on concurrency,
 * clock, speed, or how many processes share the workload.
 *
 * These algorithms are part of wfsim's output contract: changing them changes every transaction id.
 */

const TWO_POW_32 = 2 ** 32;
const TWO_POW_53 = 2 ** 53;
const LEMIRE_MAX_RANGE = 2 ** 21;

/** High 32 bits of the 64-bit product of two unsigned 32-bit integers. */
function mulHigh32(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const t = a1 * b0 + ((a0 * b0) >>> 16);
  const w1 = (t & 0xffff) + a0 * b1;
  return (a1 * b1 + Math.floor(t / 65536) + Math.floor(w1 / 65536)) >>> 0;
}

/** A 64-bit unsigned integer as two 32-bit halves. */
interface U64 {
  hi: number;
  lo: number;
}

function mul64(a: U64, bHi: number, bLo: number): U64 {
  const lo = Math.imul(a.lo, bLo) >>> 0;
  const hi = (mulHigh32(a.lo, bLo) + Math.imul(a.hi, bLo) + Math.imul(a.lo, bHi)) >>> 0;
  return { hi, lo };
}

function add64(a: U64, b: U64): U64 {
  const lo = a.lo + b.lo;
  return { hi: (a.hi + b.hi + (lo >= TWO_POW_32 ? 1 : 0)) >>> 0, lo: lo >>> 0 };
}

function xorShiftRight64(z: U64, s: number): U64 {
  return { hi: (z.hi ^ (z.hi >>> s)) >>> 0, lo: (z.lo ^ ((z.lo >>> s) | (z.hi << (32 - s)))) >>> 0 };
}

/** SplitMix64's output function (Steele, Lea, Flood 2014): a bijection on 64-bit integers. */
function splitMix64Finalize(x: U64): U64 {
  let z = mul64(xorShiftRight64(x, 30), 0xbf58476d, 0x1ce4e5b9);
  z = mul64(xorShiftRight64(z, 27), 0x94d049bb, 0x133111eb);
  return xorShiftRight64(z, 31);
}

const GOLDEN_GAMMA_HI = 0x9e3779b9;
const GOLDEN_GAMMA_LO = 0x7f4a7c15;

/** The k-th SplitMix64 output for a generator seeded with `seed`: finalize(seed + k·γ). */
export function splitMix64At(seed: U64, k: number): U64 {
  const kHi = Math.floor(k / TWO_POW_32) >>> 0;
  const kLo = k >>> 0;
  // k·γ mod 2^64, with k split in halves: (kHi·2^32 + kLo)·γ.
  const low = mul64({ hi: 0, lo: kLo }, GOLDEN_GAMMA_HI, GOLDEN_GAMMA_LO);
  const high = Math.imul(kHi, GOLDEN_GAMMA_LO) >>> 0;
  const step = { hi: (low.hi + high) >>> 0, lo: low.lo };
  return splitMix64Finalize(add64(seed, step));
}

/** A signed safe integer as its 64-bit two's complement. */
export function seedToU64(seed: number): U64 {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`);
  const hi = Math.floor(seed / TWO_POW_32);
  return { hi: hi >>> 0, lo: (seed - hi * TWO_POW_32) >>> 0 };
}

/** xoshiro128** 1.1 (Blackman, Vigna): 128-bit state, 32-bit outputs. */
export class Random {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(s0: number, s1: number, s2: number, s3: number) {
    this.s0 = this.s1 = this.s2 = this.s3 = 0;
    this.reseed(s0, s1, s2, s3);
  }

  /**
   * Starts this generator over from another state: a stream reused for another transaction. The state
   * is kept as signed 32-bit integers (the same bits): V8 then keeps them in the object as small
   * integers, where unsigned values above 2^31 would each be a separate heap number, four more
   * scattered cache lines per wake with a million transactions in flight.
   */
  reseed(s0: number, s1: number, s2: number, s3: number): this {
    if ((s0 | s1 | s2 | s3) === 0) throw new RangeError("xoshiro128** state must not be all zero");
    this.s0 = s0 | 0;
    this.s1 = s1 | 0;
    this.s2 = s2 | 0;
    this.s3 = s3 | 0;
    return this;
  }

  /** Takes over another generator's state: both then give the same draws. */
  copyFrom(other: Random): this {
    this.s0 = other.s0;
    this.s1 = other.s1;
    this.s2 = other.s2;
    this.s3 = other.s3;
    return this;
  }

  /** The next 32-bit unsigned integer. */
  nextU32(): number {
    const s1 = this.s1;
    const product = Math.imul(s1, 5);
    const result = Math.imul((product << 7) | (product >>> 25), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    return result;
  }

  /** A uniform number in [0, 1) with 53 random bits (two draws). */
  float(): number {
    const a = this.nextU32() >>> 5;
    const b = this.nextU32() >>> 6;
    return (a * 67108864 + b) / TWO_POW_53;
  }

  /**
   * A uniform whole number in [min, max], both included, without bias. `max - min` must be below 2^32.
   * Always consumes at least one draw, even when min === max, so the sequence of draws does not depend
   * on the width of the range.
   *
   * Ranges up to 2^21 use Lemire's multiply-and-reject (x·range fits a double exactly); wider ones
   * reject the top of the 32-bit space and take the remainder.
   */
  int(min: number, max: number): number {
    const range = max - min + 1;
    if (range <= LEMIRE_MAX_RANGE) {
      let product = this.nextU32() * range;
      let high = Math.floor(product / TWO_POW_32);
      if (product - high * TWO_POW_32 < range) {
        const threshold = (TWO_POW_32 - range) % range;
        while (product - high * TWO_POW_32 < threshold) {
          product = this.nextU32() * range;
          high = Math.floor(product / TWO_POW_32);
        }
      }
      return min + high;
    }
    if (range === TWO_POW_32) return min + this.nextU32();
    const limit = TWO_POW_32 - (TWO_POW_32 % range);
    let x = this.nextU32();
    while (x >= limit) x = this.nextU32();
    return min + (x % range);
  }

  /** True with probability p (one 53-bit draw, consumed whatever p is). */
  chance(p: number): boolean {
    return this.float() < p;
  }
}

/** The random streams of one simulation run, all derived from its seed. */
export class RandomStreams {
  private readonly seed: U64;

  constructor(seed: number | U64) {
    this.seed = typeof seed === "number" ? seedToU64(seed) : seed;
  }

  /**
   * A family of streams of its own, rooted at this one's domain stream `domain`: per-transaction
   * streams that never meet the transactions' own (a shaped output's attributes draw from these, so
   * that adding attributes shifts no draw of the lifecycle).
   */
  derived(domain: number): RandomStreams {
    return new RandomStreams(splitMix64At(this.seed, Number.MAX_SAFE_INTEGER - 2 * (domain + 1)));
  }

  /**
   * The stream of the transaction with this index (0-based, in the order transactions open).
   * Its 128-bit state is SplitMix64 outputs 2i+1 and 2i+2: distinct indices get distinct states.
   */
  forTransaction(index: number, reuse?: Random): Random {
    return this.stream(2 * index + 1, reuse);
  }

  /**
   * A stream for something other than a transaction, told apart by a small domain number. These use
   * counters from the top of the 2^53 range, far from any transaction index.
   */
  forDomain(domain: number): Random {
    return this.stream(Number.MAX_SAFE_INTEGER - 2 * (domain + 1));
  }

  /** The stream at `counter`: a new generator, or `reuse` started over there (the same draws either way). */
  private stream(counter: number, reuse?: Random): Random {
    const a = splitMix64At(this.seed, counter);
    const b = splitMix64At(this.seed, counter + 1);
    return reuse === undefined ? new Random(a.hi, a.lo, b.hi, b.lo) : reuse.reseed(a.hi, a.lo, b.hi, b.lo);
  }
}
