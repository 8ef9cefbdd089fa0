import { describe, expect, it } from 'vitest';
import { COMMAND_SLOTS, CommandRecord, CommandType, encodeCommand } from '../../engine/command.js';
import { OrderType, TimeInForce } from '../../engine/types.js';
import type { FeedSource } from './feed.js';
import { syntheticFeed, type SyntheticFeedParams } from './synthetic.js';

const SEC = 1_000_000_000;

const baseParams: SyntheticFeedParams = {
  instrument: 0,
  account: 3,
  startNs: 9 * 3600 * SEC,
  endNs: 17 * 3600 * SEC,
  ordersMax: 20_000,
  limitRatePerSec: 50,
  cancelRatePerSec: 30,
  marketRatePerSec: 5,
  referencePriceTicks: 10_000,
  tickVolatility: 2,
  depthTicks: 20,
  sizeMinLots: 1,
  sizeMaxLots: 10,
  clOrdIdStart: 1_000,
};

function encodeAll(f: FeedSource, max = Infinity): Float64Array[] {
  const c = new CommandRecord();
  const out: Float64Array[] = [];
  while (out.length < max && f.next(c)) {
    const rec = new Float64Array(COMMAND_SLOTS);
    encodeCommand(c, rec, 0);
    out.push(rec);
  }
  return out;
}

describe('syntheticFeed', () => {
  it('same seed -> identical stream; different seed -> different stream', () => {
    const a = encodeAll(syntheticFeed(baseParams, 42));
    const b = encodeAll(syntheticFeed(baseParams, 42));
    const c = encodeAll(syntheticFeed(baseParams, 43));
    // ordersMax counts orders; the cancels come on top.
    expect(a.filter((r) => r[0] === CommandType.Submit)).toHaveLength(baseParams.ordersMax);
    expect(a.length).toBeGreaterThan(baseParams.ordersMax * 1.2);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('commands are well-formed: non-decreasing integer timestamps in the window, safe-integer fields, valid cancels', () => {
    for (const seed of [1, 2, 'abc']) {
      const f = syntheticFeed({ ...baseParams, dayOrderFraction: 0.3 }, seed);
      const c = new CommandRecord();
      let prev = baseParams.startNs;
      let nextId = baseParams.clOrdIdStart;
      const submittedLimits = new Set<number>();
      const cancelled = new Set<number>();
      let problems = 0;
      let dayOrders = 0;
      let n = 0;
      while (f.next(c)) {
        n++;
        const fields = [c.type, c.tsNs, c.instrument, c.account, c.clOrdId, c.side, c.orderType, c.tif, c.priceTicks, c.sizeLots, c.stopPriceTicks, c.flags, c.stp, c.actionIndex];
        if (!fields.every(Number.isSafeInteger)) problems++;
        if (c.tsNs < prev || c.tsNs > baseParams.endNs) problems++;
        prev = c.tsNs;
        if (c.instrument !== 0 || c.account !== 3) problems++;
        if (c.type === CommandType.Submit) {
          if (c.clOrdId !== nextId++) problems++;
          if (c.sizeLots < 1 || c.sizeLots > 10) problems++;
          if (c.orderType === OrderType.Limit) {
            submittedLimits.add(c.clOrdId);
            if (c.priceTicks < 1) problems++;
            if (c.tif === TimeInForce.DAY) dayOrders++;
            else if (c.tif !== TimeInForce.GTC) problems++;
          } else if (c.orderType !== OrderType.Market || c.tif !== TimeInForce.IOC) problems++;
        } else if (c.type === CommandType.Cancel) {
          // Only its own limit orders, each at most once.
          if (!submittedLimits.has(c.clOrdId) || cancelled.has(c.clOrdId)) problems++;
          cancelled.add(c.clOrdId);
        } else problems++;
      }
      expect(problems, `seed ${seed}`).toBe(0);
      expect(nextId - baseParams.clOrdIdStart).toBe(baseParams.ordersMax);
      expect(n).toBe(baseParams.ordersMax + cancelled.size);
      expect(dayOrders / submittedLimits.size).toBeGreaterThan(0.25);
      expect(dayOrders / submittedLimits.size).toBeLessThan(0.35);
    }
  });

  it('stops at endNs when that comes before ordersMax', () => {
    const p = { ...baseParams, endNs: baseParams.startNs + 10 * SEC, ordersMax: 1_000_000 };
    const cmds = encodeAll(syntheticFeed(p, 5));
    // ~85 arrivals per second minus lost cancels, over 10 s.
    expect(cmds.length).toBeGreaterThan(500);
    expect(cmds.length).toBeLessThan(1100);
    expect(cmds[cmds.length - 1]![1]).toBeLessThanOrEqual(p.endNs);
  });

  it('respects the rates over a long window (wide tolerance)', () => {
    const seconds = 2000;
    const p: SyntheticFeedParams = { ...baseParams, endNs: baseParams.startNs + seconds * SEC, ordersMax: 10_000_000, limitRatePerSec: 40, cancelRatePerSec: 10, marketRatePerSec: 8 };
    const f = syntheticFeed(p, 'rates');
    const c = new CommandRecord();
    let limits = 0;
    let cancels = 0;
    let markets = 0;
    let buys = 0;
    let lastTs = 0;
    while (f.next(c)) {
      lastTs = c.tsNs;
      if (c.type === CommandType.Cancel) cancels++;
      else if (c.orderType === OrderType.Market) markets++;
      else limits++;
      if (c.type === CommandType.Submit && c.side === 0) buys++;
    }
    expect(limits / seconds).toBeGreaterThan(40 * 0.95);
    expect(limits / seconds).toBeLessThan(40 * 1.05);
    expect(markets / seconds).toBeGreaterThan(8 * 0.9);
    expect(markets / seconds).toBeLessThan(8 * 1.1);
    // Cancels outpaced by submits always find a target, so their rate holds too.
    expect(cancels / seconds).toBeGreaterThan(10 * 0.9);
    expect(cancels / seconds).toBeLessThan(10 * 1.1);
    expect(Math.abs(buys / (limits + markets) - 0.5)).toBeLessThan(0.02);
    expect(lastTs).toBeGreaterThan(p.endNs - 5 * SEC);
  });

  it('places passive limits within depth of a moving reference, mostly near the touch', () => {
    const p = { ...baseParams, tickVolatility: 0, marketableFraction: 0, cancelRatePerSec: 0, marketRatePerSec: 0, depthTicks: 20 };
    const c = new CommandRecord();
    const f = syntheticFeed(p, 9);
    let near = 0;
    let n = 0;
    let outside = 0;
    while (f.next(c)) {
      n++;
      const dist = c.side === 0 ? 10_000 - c.priceTicks : c.priceTicks - 10_000;
      if (dist < 0 || dist > 20) outside++;
      if (dist <= 5) near++;
    }
    expect(outside).toBe(0);
    expect(near / n).toBeGreaterThan(0.5);
    // With volatility the prices wander away from the start.
    const moving = encodeAll(syntheticFeed({ ...baseParams, tickVolatility: 5, cancelRatePerSec: 0 }, 9));
    const lastPrices = moving.slice(-100).map((r) => r[8]!).filter((x) => x > 0);
    expect(lastPrices.some((x) => Math.abs(x - 10_000) > 30)).toBe(true);
  });

  it('empty when ordersMax is 0 or all rates are 0', () => {
    expect(encodeAll(syntheticFeed({ ...baseParams, ordersMax: 0 }, 1))).toEqual([]);
    expect(encodeAll(syntheticFeed({ ...baseParams, limitRatePerSec: 0, cancelRatePerSec: 0, marketRatePerSec: 0 }, 1))).toEqual([]);
  });

  it('rejects bad params with a reason', () => {
    expect(() => syntheticFeed({ ...baseParams, sizeMinLots: 5, sizeMaxLots: 2 }, 1)).toThrow(/sizeMinLots/);
    expect(() => syntheticFeed({ ...baseParams, startNs: 1.5 }, 1)).toThrow(/startNs/);
    expect(() => syntheticFeed({ ...baseParams, limitRatePerSec: -1 }, 1)).toThrow(/limitRatePerSec/);
  });
});
