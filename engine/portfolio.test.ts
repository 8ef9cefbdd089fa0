import { describe, expect, it } from 'vitest';
import { Portfolio } from './portfolio.js';
import { Side } from './types.js';

const B = Side.Buy;
const S = Side.Sell;

describe('portfolio (average cost)', () => {
  it('realizes P&L on reductions and flips, keeping cost as an integer total', () => {
    const p = new Portfolio(1, [{ num: 1, den: 1, isFuture: false }], [0]);
    p.onFill(0, 0, B, 100, 10, 1); // cost 1000
    p.onFill(0, 0, B, 103, 20, 1); // cost 3060, avg 102
    expect(p.position(0, 0)).toBe(30);
    expect(p.costMinor(0, 0)).toBe(3060);
    p.onFill(0, 0, S, 110, 10, 1); // closes 10 of 30: removes 1020, proceeds 1100
    expect(p.realizedMinor(0, 0)).toBe(80);
    expect(p.costMinor(0, 0)).toBe(2040);
    p.onFill(0, 0, S, 90, 30, 1); // closes 20 (removes 2040, proceeds 1800 -> -240), opens 10 short at 90
    expect(p.realizedMinor(0, 0)).toBe(80 - 240);
    expect(p.position(0, 0)).toBe(-10);
    expect(p.costMinor(0, 0)).toBe(-900);
    expect(p.unrealizedMinor(0, 0, 85)).toBe(50);
    expect(p.markValueMinor(0, 0, 85)).toBe(-850);
    p.onFill(0, 0, B, 80, 10, 1);
    expect(p.position(0, 0)).toBe(0);
    expect(p.costMinor(0, 0)).toBe(0);
    expect(p.realizedMinor(0, 0)).toBe(80 - 240 + 100);
    expect(p.feesMinor(0, 0)).toBe(5);
    expect(p.accountPnlMinor(0, [85])).toBe(-60 - 5);
  });

  it('leaves the rounding remainder in the cost until the position is flat', () => {
    const p = new Portfolio(1, [{ num: 1, den: 1, isFuture: false }], [0]);
    p.onFill(0, 0, B, 100, 1, 0);
    p.onFill(0, 0, B, 101, 2, 0); // cost 302 over 3
    p.onFill(0, 0, S, 100, 1, 0); // removes trunc(302/3) = 100
    expect(p.costMinor(0, 0)).toBe(202);
    expect(p.realizedMinor(0, 0)).toBe(0);
    p.onFill(0, 0, S, 100, 2, 0); // removes the rest, 202
    expect(p.realizedMinor(0, 0)).toBe(-2);
    expect(p.costMinor(0, 0)).toBe(0);
  });

  it('aggregates accounts to firms and keeps a daily P&L history', () => {
    const p = new Portfolio(3, [{ num: 1, den: 1, isFuture: false }, { num: 50, den: 1, isFuture: true }], [0, 0, 1]);
    p.onFill(0, 0, B, 100, 5, 0);
    p.onFill(1, 0, S, 100, 2, 0);
    p.onFill(2, 1, B, 4000, 1, 3);
    expect(p.firmPosition(0, 0)).toBe(3);
    expect(p.firmPnlMinor(0, [110, 4000])).toBe(50 - 20);
    const d1 = p.snapshot(19_800, [110, 4010]);
    expect(d1[2]).toMatchObject({ account: 2, firm: 1, unrealizedMinor: 500, feesMinor: 3, totalMinor: 497, dayMinor: 497 });
    const d2 = p.snapshot(19_801, [110, 4000]);
    expect(d2[2]!.dayMinor).toBe(-500);
    expect(p.history.length).toBe(6);
    // Futures: variation margin pays the P&L and resets the basis.
    expect(p.cashFlowOfFill(1, B, 4000, 1)).toBe(0);
    expect(p.variationMarginDue(2, 1, 4010)).toBe(500);
    expect(p.applyVariationMargin(2, 1, 4010)).toBe(500);
    expect(p.variationMarginDue(2, 1, 4010)).toBe(0);
    expect(p.unrealizedMinor(2, 1, 4010)).toBe(500);
  });
});
