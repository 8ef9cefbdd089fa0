import { describe, expect, it } from 'vitest';
import { FeeSchedule } from './fees.js';

describe('fees', () => {
  it('charges takers, rebates makers, rounding in the venue favour', () => {
    const f = new FeeSchedule(2);
    f.set(0, { makerBps: -0.2, takerBps: 0.3, num: 1, den: 1 });
    f.set(1, { makerBps: 1, takerBps: 2, num: 500, den: 1 });
    // notional 10_000 * 123 = 1_230_000 minor; taker 0.3 bp = 36.9 -> 37; maker -0.2 bp = -24.6 -> -24
    expect(f.fee(0, false, 10_000, 123)).toBe(37);
    expect(f.fee(0, true, 10_000, 123)).toBe(-24);
    expect(f.fee(1, false, 2_000, 1)).toBe(200); // 1_000_000 * 2bp
    expect(f.maxRateCentiBps(0)).toBe(30);
    expect(f.fee(0, false, 1, 1)).toBe(1);
    expect(f.fee(0, true, 1, 1)).toBe(0);
  });

  it('refuses a rebate larger than the taker fee', () => {
    const f = new FeeSchedule(1);
    expect(() => f.set(0, { makerBps: -3, takerBps: 2, num: 1, den: 1 })).toThrow();
  });
});
