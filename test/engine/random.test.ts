import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Random, RandomStreams, seedToU64, splitMix64At } from "../../src/engine/random.ts";
import { meanBound, uniformIntMoments, Z } from "../helpers/stats.ts";

const MASK64 = (1n << 64n) - 1n;

/** SplitMix64 written from its definition with BigInt, to check the 32-bit arithmetic against. */
function splitMix64Reference(seed: bigint, k: bigint): bigint {
  let z = (seed + k * 0x9e3779b97f4a7c15n) & MASK64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return z ^ (z >> 31n);
}

/** xoshiro128** 1.1 from its definition, with BigInt masks. */
function* xoshiroReference(state: [number, number, number, number]): Generator<number> {
  const s = state.map(BigInt);
  const mask = 0xffffffffn;
  const rotl = (x: bigint, k: bigint) => ((x << k) | (x >> (32n - k))) & mask;
  for (;;) {
    const result = (rotl((s[1]! * 5n) & mask, 7n) * 9n) & mask;
    const t = (s[1]! << 9n) & mask;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11n);
    yield Number(result);
  }
}

describe("SplitMix64", () => {
  it("matches its definition for seeds of every sign and size and counters up to 2^53", () => {
    const seeds = [0, 1, 42, -1, -42, 2 ** 32, 2 ** 32 - 1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER];
    const counters = [0, 1, 2, 3, 1000, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 40 + 12345, Number.MAX_SAFE_INTEGER];
    for (const seed of seeds) {
      const seed64 = BigInt.asUintN(64, BigInt(seed));
      const u64 = seedToU64(seed);
      assert.equal((BigInt(u64.hi) << 32n) | BigInt(u64.lo), seed64, `seed ${seed}`);
      for (const k of counters) {
        const got = splitMix64At(u64, k);
        assert.equal((BigInt(got.hi) << 32n) | BigInt(got.lo), splitMix64Reference(seed64, BigInt(k)), `seed ${seed} k ${k}`);
      }
    }
  });

  it("gives the published first output for seed 0", () => {
    // The first value of Vigna's splitmix64.c seeded with 0.
    const first = splitMix64At(seedToU64(0), 1);
    assert.equal((BigInt(first.hi) << 32n) | BigInt(first.lo), 0xe220a8397b1dcdafn);
  });

  it("rejects seeds that are not safe integers", () => {
    assert.throws(() => seedToU64(1.5), RangeError);
    assert.throws(() => seedToU64(2 ** 53), RangeError);
  });
});

describe("xoshiro128**", () => {
  it("matches its definition", () => {
    for (const state of [
      [1, 2, 3, 4],
      [0xdeadbeef, 0, 0x12345678, 0xffffffff],
    ] as [number, number, number, number][]) {
      const random = new Random(...state);
      const reference = xoshiroReference(state);
      for (let i = 0; i < 1000; i++) assert.equal(random.nextU32(), reference.next().value, `draw ${i}`);
    }
  });

  it("refuses the all-zero state, which would only ever give zeros", () => {
    assert.throws(() => new Random(0, 0, 0, 0), RangeError);
  });
});

describe("Random.int", () => {
  it("returns both ends of the range and nothing outside it", () => {
    const random = new RandomStreams(7).forTransaction(0);
    const seen = new Set<number>();
    for (let i = 0; i < 20_000; i++) {
      const value = random.int(3, 9);
      assert.ok(Number.isInteger(value) && value >= 3 && value <= 9, `${value}`);
      seen.add(value);
    }
    assert.deepEqual([...seen].sort(), [3, 4, 5, 6, 7, 8, 9]);
  });

  it("is uniform: chi-square over 10 values stays below the 1e-6 critical value", () => {
    const random = new RandomStreams(11).forTransaction(3);
    const n = 100_000;
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < n; i++) counts[random.int(0, 9)]!++;
    const expected = n / 10;
    const chi2 = counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
    // 9 degrees of freedom: P(chi2 > 42.3) ≈ 1e-6.
    assert.ok(chi2 < 42.3, `chi-square ${chi2.toFixed(1)} for counts ${counts.join(",")}`);
  });

  it("has the mean of the uniform distribution, for narrow and for wide (rejection) ranges", () => {
    for (const [min, max] of [
      [100, 2000],
      [0, 2 ** 30],
      [5, 2 ** 32 + 4],
    ] as const) {
      const random = new RandomStreams(99).forTransaction(min);
      const n = 50_000;
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const value = random.int(min, max);
        assert.ok(value >= min && value <= max);
        sum += value;
      }
      const { mean, sd } = uniformIntMoments(min, max);
      assert.ok(Math.abs(sum / n - mean) < meanBound(sd, n), `[${min}, ${max}]: mean ${sum / n}, expected ${mean}`);
    }
  });

  it("consumes a draw even for a one-value range, so later draws do not depend on range widths", () => {
    const a = new RandomStreams(5).forTransaction(0);
    const b = new RandomStreams(5).forTransaction(0);
    assert.equal(a.int(7, 7), 7);
    b.nextU32();
    assert.equal(a.nextU32(), b.nextU32());
  });
});

describe("Random.chance", () => {
  it("comes true with the given probability (binomial bound)", () => {
    const random = new RandomStreams(3).forTransaction(1);
    const n = 200_000;
    for (const p of [0.01, 0.5]) {
      let hits = 0;
      for (let i = 0; i < n; i++) if (random.chance(p)) hits++;
      const sd = Math.sqrt(n * p * (1 - p));
      assert.ok(Math.abs(hits - n * p) < Z * sd, `p=${p}: ${hits} of ${n}`);
    }
  });

  it("is never true for 0 and always true for 1", () => {
    const random = new RandomStreams(3).forTransaction(2);
    for (let i = 0; i < 10_000; i++) {
      assert.equal(random.chance(0), false);
      assert.equal(random.chance(1), true);
    }
  });

  it("draws floats in [0, 1) with 53 bits", () => {
    const random = new RandomStreams(8).forTransaction(0);
    let lowBitsSet = 0;
    for (let i = 0; i < 1000; i++) {
      const x = random.float();
      assert.ok(x >= 0 && x < 1);
      if ((x * 2 ** 53) % 2 === 1) lowBitsSet++;
    }
    assert.ok(lowBitsSet > 0, "the lowest of 53 bits is never set: fewer random bits than promised");
  });
});

describe("RandomStreams", () => {
  it("gives the same stream for the same seed and index, and different ones otherwise", () => {
    const draws = (seed: number, index: number) => {
      const random = new RandomStreams(seed).forTransaction(index);
      return Array.from({ length: 4 }, () => random.nextU32());
    };
    assert.deepEqual(draws(42, 17), draws(42, 17));
    assert.notDeepEqual(draws(42, 17), draws(42, 18));
    assert.notDeepEqual(draws(42, 17), draws(43, 17));
  });

  it("keeps domain streams apart from transaction streams", () => {
    const streams = new RandomStreams(42);
    const domain = streams.forDomain(0).nextU32();
    for (let i = 0; i < 1000; i++) assert.notEqual(streams.forTransaction(i).nextU32(), domain);
  });
});
