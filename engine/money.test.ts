import { describe, expect, it } from 'vitest';
import { bpsCeil, mulDivCeil, mulDivFloor, mulDivTrunc, notionalMinor, notionalRule, toCentiBps } from './money.js';

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

  it('rounds fees up and rebates down in magnitude', () => {
    expect(bpsCeil(10_001, toCentiBps(1))).toBe(2); // 1.0001 -> 2
    expect(bpsCeil(10_001, toCentiBps(-1))).toBe(-1); // -1.0001 -> -1
    expect(bpsCeil(10_000, toCentiBps(-0.25))).toBe(0);
    expect(toCentiBps(-0.25)).toBe(-25);
    expect(() => toCentiBps(0.125)).toThrow();
  });
});
