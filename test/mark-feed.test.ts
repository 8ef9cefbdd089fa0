import { describe, expect, it } from 'vitest';
import { BackOffice, type MarkTo } from '../engine/back-office.js';
import { BusinessCalendar, parseDate } from '../engine/calendar.js';
import { CommandRecord } from '../engine/command.js';
import { EventType, type EventRecord } from '../engine/event.js';
import { Exchange } from '../engine/exchange.js';
import type { Instrument } from '../engine/instrument.js';
import { futureTerms } from '../engine/margin.js';
import { notionalRule } from '../engine/money.js';
import { Side, StpMode } from '../engine/types.js';
import { parseScenario } from '../sim/scenario.js';
import { limitOrder } from './limit-order.js';

/**
 * markTo "feed": marks come from the scenario's mark actions (BackOffice.setFeedMark), move
 * unrealized P&L, margin and the end of day's variation margin without any trade, and trades
 * no longer move them once a feed mark exists (before it, the last trade does).
 *
 * ESZ6: tick 0.25, multiplier 50, so one tick of one contract is 12.50 = 1,250 minor and one
 * point is 50.00; 4500.00 is 18,000 ticks. Initial 12,000.00, maintenance 10,000.00 a contract.
 */
const ES: Instrument = { index: 0, symbol: 'ESZ6', tickSize: '0.25', lotSize: '1', referencePriceTicks: 18_000, priceBandBps: 0 };
const OPEN_NS = 34_200e9;
const CLOSE_NS = 57_600e9;
const px = (points: number): number => points * 4;

function setup(markTo: MarkTo, longCashMinor = 3_000_000) {
  const r = notionalRule('0.25', '1', 2, '50');
  const bo = new BackOffice({
    currencies: [{ code: 'USD', minorExponent: 2 }],
    instruments: [
      { symbol: 'ESZ6', currency: 0, num: r.num, den: r.den, isFuture: true, makerBps: 0, takerBps: 0, referencePriceTicks: ES.referencePriceTicks, margin: futureTerms(1_200_000, 1_000_000), markTo },
    ],
    accounts: [
      { name: 'mm', currency: 0, firm: 0, type: 'margin', depositMinor: 100_000_000 },
      { name: 'long', currency: 0, firm: 1, type: 'margin', depositMinor: longCashMinor },
    ],
    firms: [{}, {}],
    calendar: new BusinessCalendar([]),
    scenarioDay: parseDate('2026-01-05'),
    settlementLagDays: 1,
  });
  const events: EventRecord[] = [];
  const ex = new Exchange(
    { instruments: [ES], accounts: [{ name: 'mm', stp: StpMode.None }, { name: 'long', stp: StpMode.None }], quotes: false, levels: 0, orderHooks: bo },
    { emit: (e) => void events.push({ ...e } as EventRecord) },
  );
  bo.attach(ex);
  bo.fundAccounts(0);
  ex.openSession(OPEN_NS);
  const c = new CommandRecord();
  let clOrd = 0;
  const limit = (t: number, account: number, side: Side, ticks: number, lots: number): void => ex.apply(limitOrder(c, t, account, ++clOrd, side, ticks, lots));
  return { bo, ex, events, limit };
}

describe('markTo "feed"', () => {
  it('moves unrealized P&L, equity and margin on a mark, without a trade', () => {
    const { bo, limit } = setup('feed');
    limit(OPEN_NS + 1, 0, Side.Sell, px(4500), 2);
    limit(OPEN_NS + 2, 1, Side.Buy, px(4500), 2);
    expect(bo.clearing.portfolio.position(1, 0)).toBe(2);
    // No feed mark yet: the last trade.
    expect(bo.updateMarks()[0]).toBe(px(4500));
    expect(bo.equityMinor(1)).toBe(3_000_000);
    // 30,000.00 - 2 x 12,000.00 initial.
    expect(bo.marginExcessMinor(1)).toBe(600_000);

    bo.setFeedMark(OPEN_NS + 3, 0, px(4490));
    // 2 contracts x 10 points x 50.00 = 1,000.00 lost, no trade in between.
    expect(bo.clearing.portfolio.unrealizedMinor(1, 0, bo.updateMarks()[0]!)).toBe(-100_000);
    expect(bo.equityMinor(1)).toBe(2_900_000);
    expect(bo.marginExcessMinor(1)).toBe(500_000);
    expect(bo.equityMinor(0)).toBe(100_100_000);
    expect(bo.accountsToLiquidate()).toEqual([]);

    // 30,000 - 2 x 30 x 50 = 27,000.00 > maintenance 20,000; 30,000 - 2 x 110 x 50 = 19,000.00 < 20,000.
    bo.setFeedMark(OPEN_NS + 4, 0, px(4470));
    expect(bo.accountsToLiquidate()).toEqual([]);
    bo.setFeedMark(OPEN_NS + 5, 0, px(4390));
    expect(bo.equityMinor(1)).toBe(1_900_000);
    expect(bo.accountsToLiquidate()).toEqual([1]);
  });

  it('keeps the feed mark through later trades, and pays variation margin at it', () => {
    // Risk reserves initial margin for a reducing order too: enough cash for a third contract.
    const { bo, ex, events, limit } = setup('feed', 5_000_000);
    limit(OPEN_NS + 1, 0, Side.Sell, px(4500), 2);
    limit(OPEN_NS + 2, 1, Side.Buy, px(4500), 2);
    bo.setFeedMark(OPEN_NS + 3, 0, px(4510));
    // A trade at 4520.00 (long sells 1 back to mm) is not a mark for a feed instrument.
    limit(OPEN_NS + 4, 0, Side.Buy, px(4520), 1);
    limit(OPEN_NS + 5, 1, Side.Sell, px(4520), 1);
    expect(bo.clearing.portfolio.position(1, 0)).toBe(1);
    expect(bo.updateMarks()[0]).toBe(px(4510));
    ex.closeSession(CLOSE_NS);
    expect(bo.jobs.begin(parseDate('2026-01-05'), CLOSE_NS).done).toBe(true);
    const marks = events.filter((e) => e.type === EventType.Mark).map((e) => [e.tsNs, e.priceTicks, e.ref]);
    // The feed's mark (intraday) and the end of day's, both 4510.00 on the trade day.
    expect(marks).toEqual([
      [OPEN_NS + 3, px(4510), parseDate('2026-01-05')],
      [CLOSE_NS, px(4510), parseDate('2026-01-05')],
    ]);
    // long: 1 sold at 4520.00, (4520 - 4500) x 50 = 1,000.00, and 1 kept to the mark,
    // (4510 - 4500) x 50 = 500.00: +1,500.00; mm the opposite.
    const vm = events.filter((e) => e.type === EventType.VariationMargin).map((e) => [e.account, e.amountMinor]);
    expect(vm).toEqual([
      [0, -150_000],
      [1, 150_000],
    ]);
  });

  it('is refused for an instrument not marked to a feed', () => {
    const { bo } = setup('last');
    expect(() => bo.setFeedMark(OPEN_NS, 0, px(4500))).toThrow('not marked to a feed');
  });
});

describe('scenario mark actions', () => {
  const base = {
    name: 't',
    seed: 1,
    session: { date: '2026-01-05', open: '09:30:00', close: '16:00:00' },
    instruments: [{ symbol: 'ESZ6', tickSize: '0.25', lotSize: '1', referencePrice: '4500.00', multiplier: '50', margin: { style: 'futures', initial: '12000.00', maintenance: '10000.00' }, markTo: 'feed' }],
    accounts: [{ id: 'alice', type: 'margin', cash: '100000.00' }],
  };
  const parse = (actions: unknown[], instruments: unknown[] = base.instruments) => parseScenario(JSON.stringify({ ...base, instruments, actions }), 'x.json');

  it('normalises a mark to ticks and a time, for the back office', () => {
    const s = parse([{ at: '10:00:00', type: 'mark', instrument: 'ESZ6', price: '4501.25' }]);
    expect(s.backOffice!.marks).toEqual([{ index: 0, path: 'actions[0]', atNs: 36_000e9, instrument: 0, priceTicks: 18_005 }]);
    expect(s.backOffice!.instruments[0]!.markTo).toBe('feed');
    expect(s.actions).toEqual([]);
  });

  it('reports bad marks with the file and the JSON path', () => {
    expect(() => parse([{ at: '10:00:00', type: 'mark', instrument: 'ESZ6', price: '4501.10' }])).toThrow('x.json: actions[0].price: "4501.10" is not a whole multiple of the tick size "0.25" of ESZ6');
    expect(() => parse([{ at: '10:00:00', type: 'mark', instrument: 'NQ', price: '4501.25' }])).toThrow('x.json: actions[0].instrument: unknown instrument "NQ"');
    expect(() => parse([{ at: '10:00:00', type: 'mark', instrument: 'ESZ6' }])).toThrow('x.json: actions[0].price');
    expect(() => parse([{ at: '10:00:00', type: 'mark', instrument: 'ESZ6', price: '4501.25' }], [{ ...base.instruments[0], markTo: 'mid' }])).toThrow(
      'x.json: actions[0].instrument: ESZ6 is marked to "mid"; mark actions need "markTo": "feed" on the instrument',
    );
    expect(() => parse([{ at: '09:00:00', type: 'mark', instrument: 'ESZ6', price: '4501.25' }])).toThrow('x.json: actions[0].at: "09:00:00" is before the session opens');
  });
});
