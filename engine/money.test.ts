import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { bpsCeil, mulDivCeil, mulDivFloor, mulDivTrunc, notionalMinor, notionalRule, rateBpsCeil, rateBpsFloor, toCentiBps } from './money.js';

describe('money', () => {
  it('derives an exact notional rule from tick, lot and currency exponent', () => {
    expect(notionalRule('0.01', '1', 2)).toEqual({ num: 1, den: 1 });
    expect(notionalRule('0.05', '100', 2)).toEqual({ num: 500, den: 1 });
    expect(notionalRule('0.25', '1', 2, '50')).toEqual({ num: 1250, den: 1 }); // ES-like future
    expect(notionalRule('0.1', '0.001', 2)).toEqual({ num: 1, den: 100 });
    expect(notionalRule('1', '1', 0)).toEqual({ num: 1, den: 1 });
  });

  it('rounds an inexact notional half up and keeps exact ones exact', () => {
    // 0.1 price tick, 0.001 lot: 12345 ticks * 7 lots = 1234.5 * 0.007 = 8.6415 USD = 864.15 cents
    expect(notionalMinor(12345, 7, 1, 100)).toBe(864);
    expect(notionalMinor(12344, 5, 1, 100)).toBe(617);
    expect(notionalMinor(50, 1, 1, 100)).toBe(1);
    expect(notionalMinor(49, 1, 1, 100)).toBe(0);
    expect(notionalMinor(2 ** 30, 2 ** 24, 3, 7)).toBe(Number((2n ** 54n * 3n + 3n) / 7n));
    expect(notionalMinor(10_050, 3, 1, 1)).toBe(30_150);
  });

  it('multiplies and divides beyond 2^53 exactly', () => {
    const big = 2 ** 40;
    expect(mulDivFloor(big, 3 * 2 ** 20, 2 ** 20)).toBe(big * 3);
    expect(mulDivFloor(big + 1, 2 ** 13, 3)).toBe(Number((BigInt(big + 1) * 2n ** 13n) / 3n));
    expect(mulDivCeil(-7, 1, 2)).toBe(-3);
    expect(mulDivFloor(-7, 1, 2)).toBe(-4);
    expect(mulDivTrunc(-7, 1, 2)).toBe(-3);
    expect(mulDivTrunc(7, 1, 2)).toBe(3);
    // The float quotient near 2^53 rounds; the result must not.
    const p = 2 ** 53 - 1;
    expect(mulDivFloor(p, 1, 3)).toBe(Number(BigInt(p) / 3n));
  });

  // The safe-integer paths divide in floating point with no correction: a quotient that is not
  // an integer lies at least 1/c from one, more than the division's rounding (|p/c| * 2^-53)
  // while |p| < 2^53. Checked against BigInt on random products of every size up to 2^53,
  // most of them close to it, and never a -0 (it would print as "-0").
  it('divides safe products exactly in floating point, and never returns -0', () => {
    const rnd = seedrandom('mul-div');
    const floor = (p: bigint, c: bigint) => (p >= 0n || p % c === 0n ? p / c : p / c - 1n);
    const ceil = (p: bigint, c: bigint) => -floor(-p, c);
    for (let n = 0; n < 20_000; n++) {
      const c = 1 + Math.floor(rnd() ** 3 * 2 ** (1 + Math.floor(rnd() * 40)));
      const bits = n % 4 === 0 ? 53 : 1 + Math.floor(rnd() * 53);
      const mag = Math.floor(rnd() * 2 ** bits);
      const b = 1 + Math.floor(rnd() * 2 ** Math.floor(rnd() * 20));
      const a0 = Math.floor(mag / b);
      const a = rnd() < 0.5 ? a0 : -a0; // -0 too: the result must still be 0
      const p = BigInt(a) * BigInt(b);
      const at = `${a} * ${b} / ${c}`;
      const want = [floor(p, BigInt(c)), ceil(p, BigInt(c)), p >= 0n ? floor(p, BigInt(c)) : ceil(p, BigInt(c))].map(Number);
      const got = [mulDivFloor(a, b, c), mulDivCeil(a, b, c), mulDivTrunc(a, b, c)];
      expect(got, at).toEqual(want);
      for (const g of got) expect(Object.is(g, -0), at).toBe(false);
      const q = BigInt(a0 * b) / BigInt(c);
      const half = (BigInt(a0 * b) - q * BigInt(c)) * 2n >= BigInt(c) ? q + 1n : q;
      expect(notionalMinor(a0, b, 1, c), `${a0} * ${b} / ${c} half up`).toBe(Number(half));
    }
  });

  // A margin rate on an amount whose product with the rate passes 2^53 (from ~9e11 minor units
  // at 100%): split at the divisor, never BigInt, and still the exact ceiling.
  it('takes a rate in whole bps of any safe amount exactly, up or down, with no product beyond 2^53', () => {
    const rnd = seedrandom('rate-bps');
    const ceil = (p: bigint, c: bigint) => (p <= 0n || p % c === 0n ? p / c : p / c + 1n);
    const floor = (p: bigint, c: bigint) => (p >= 0n || p % c === 0n ? p / c : p / c - 1n);
    const cases: [number, number][] = [
      [Number.MAX_SAFE_INTEGER, 10_000],
      [Number.MAX_SAFE_INTEGER, 9_999],
      [-Number.MAX_SAFE_INTEGER, 5_000],
      [Number.MAX_SAFE_INTEGER - 1, 1],
      [4e12, 5_000],
      [9_999, 1],
      [-1, 1],
      [0, 10_000],
      [123, 0],
    ];
    for (let n = 0; n < 20_000; n++) {
      const a = Math.floor(rnd() * 2 ** (1 + Math.floor(rnd() * 53)));
      cases.push([rnd() < 0.25 ? -a : a, Math.floor(rnd() * 10_001) * (rnd() < 0.1 ? -1 : 1)]);
    }
    for (const [a, bps] of cases) {
      const p = BigInt(a) * BigInt(bps);
      const got = [rateBpsCeil(a, bps), rateBpsFloor(a, bps)];
      expect(got, `${a} * ${bps} bps`).toEqual([Number(ceil(p, 10_000n)), Number(floor(p, 10_000n))]);
      for (const g of got) expect(Object.is(g, -0), `${a} * ${bps} bps`).toBe(false);
    }
  });

  it('rounds fees up and rebates down in magnitude', () => {
    expect(bpsCeil(10_001, toCentiBps(1))).toBe(2); // 1.0001 -> 2
    expect(bpsCeil(10_001, toCentiBps(-1))).toBe(-1); // -1.0001 -> -1
    expect(bpsCeil(10_000, toCentiBps(-0.25))).toBe(0);
    expect(toCentiBps(-0.25)).toBe(-25);
    expect(() => toCentiBps(0.125)).toThrow();
  });
});
