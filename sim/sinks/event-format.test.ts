import { describe, expect, it } from 'vitest';
import { EventRecord, EventType } from '../../engine/event.js';
import { CancelReason, NO_PRICE, OrderType, RejectReason, Side, TimeInForce } from '../../engine/types.js';
import { createEventFormatter } from './event-format.js';
import { SAMPLE_ACCOUNTS as TEST_ACCOUNTS, SAMPLE_INSTRUMENTS as TEST_INSTRUMENTS } from './sample-events.js';



function ev(type: EventType, fields: Partial<EventRecord>): EventRecord {
  const e = new EventRecord();
  Object.assign(e, { seq: 7, tsNs: 1_000_000_123 }, fields, { type });
  return e;
}

const fmt = createEventFormatter(TEST_INSTRUMENTS, TEST_ACCOUNTS);

function keysOf(line: string): string[] {
  return Object.keys(JSON.parse(line) as object);
}

describe('createEventFormatter', () => {
  it('writes an accepted limit order with keys in canonical order and decimal strings', () => {
    const line = fmt(
      ev(EventType.OrderAccepted, {
        instrument: 0, account: 1, orderId: 42, clOrdId: 9, side: Side.Buy, orderType: OrderType.Limit,
        tif: TimeInForce.GTC, priceTicks: 2005, sizeLots: 10, flags: 1,
      }),
    );
    expect(line).toBe(
      '{"seq":7,"ts":1000000123,"type":"accepted","instrument":"ACME","account":"bob","orderId":42,"clOrdId":9,"side":"buy","orderType":"limit","tif":"GTC","price":"100.25","size":"10","stopPrice":null,"postOnly":true}',
    );
  });

  it('writes integers of every magnitude up to 2^53 - 1 exactly, and scaled values with their zero padding', () => {
    // Every power-of-ten boundary, its neighbours, and seeded values of every bit length.
    const ns: number[] = [0, Number.MAX_SAFE_INTEGER];
    for (let k = 0; k <= 15; k++) ns.push(10 ** k - 1, 10 ** k, 10 ** k + 1);
    let x = 12345;
    for (let bits = 1; bits <= 53; bits++) {
      for (let r = 0; r < 20; r++) {
        x = (Math.imul(x, 1103515245) + 12345) >>> 0;
        ns.push(Math.floor((x / 2 ** 32) * 2 ** bits));
      }
    }
    for (const n of ns.filter((v) => Number.isSafeInteger(v))) {
      const o = JSON.parse(fmt(ev(EventType.Level, { seq: n, tsNs: n, instrument: 1, priceTicks: 1, sizeLots: n, mdSeq: 3, orderCount: 2 }))) as Record<string, unknown>;
      expect(o.seq).toBe(n);
      expect(o.ts).toBe(n);
      // Instrument 1: lot 0.001, so size is n with three decimals.
      const size = String(n).padStart(4, '0');
      expect(o.size).toBe(`${size.slice(0, -3)}.${size.slice(-3)}`);
    }
  });

  it('prints null for the price of a market order and the trigger of a non-stop order', () => {
    const o = JSON.parse(fmt(ev(EventType.OrderAccepted, { instrument: 1, orderType: OrderType.Market, tif: TimeInForce.IOC, sizeLots: 1500, side: Side.Sell }))) as Record<string, unknown>;
    expect(o.price).toBeNull();
    expect(o.stopPrice).toBeNull();
    expect(o.size).toBe('1.500');
    expect(o.side).toBe('sell');
    const s = JSON.parse(fmt(ev(EventType.OrderAccepted, { instrument: 1, orderType: OrderType.StopLimit, priceTicks: 3, stopPriceTicks: 4, sizeLots: 1 }))) as Record<string, unknown>;
    expect(s.price).toBe('1.5');
    expect(s.stopPrice).toBe('2.0');
  });

  it('formats small, zero, negative and very large scaled values exactly', () => {
    const q = (ticks: number, lots: number) => JSON.parse(fmt(ev(EventType.Level, { instrument: 1, priceTicks: ticks, sizeLots: lots, mdSeq: 3, orderCount: 2 }))) as Record<string, string>;
    expect(q(0, 0)).toMatchObject({ price: '0.0', size: '0.000' });
    expect(q(1, 1)).toMatchObject({ price: '0.5', size: '0.001' });
    expect(q(-3, 1001)).toMatchObject({ price: '-1.5', size: '1.001' });
    // 2^53 - 1 lots of 0.001: the float division lands on the boundary; the result must still be exact.
    expect(q(0, Number.MAX_SAFE_INTEGER).size).toBe('9007199254740.991');
    expect(q(0, 9007199254740000).size).toBe('9007199254740.000');
    expect(() => fmt(ev(EventType.Level, { instrument: 0, priceTicks: Number.MAX_SAFE_INTEGER }))).toThrow(/safe integer/);
  });

  it('writes a quote with null price and "0" size on an empty side', () => {
    const line = fmt(ev(EventType.Quote, { instrument: 0, bidPriceTicks: NO_PRICE, bidSizeLots: 0, askPriceTicks: 2001, askSizeLots: 5 }));
    expect(line).toBe('{"seq":7,"ts":1000000123,"type":"quote","instrument":"ACME","bidPrice":null,"bidSize":"0","askPrice":"100.05","askSize":"5"}');
  });

  it('escapes names and prints null for unknown or "all" indexes', () => {
    const r = JSON.parse(fmt(ev(EventType.OrderRejected, { instrument: 5, account: 2, reason: RejectReason.UnknownInstrument, sizeLots: 1 }))) as Record<string, unknown>;
    expect(r).toMatchObject({ instrument: null, account: 'mm-"1"', price: null, size: null, reason: 'unknown-instrument' });
    expect(fmt(ev(EventType.SessionOpen, { instrument: -1 }))).toBe('{"seq":7,"ts":1000000123,"type":"session-open","instrument":null}');
    expect(JSON.parse(fmt(ev(EventType.OrderRejected, { instrument: 0, account: 99, reason: RejectReason.UnknownAccount }))).account).toBeNull();
  });

  it('throws on an unknown type or enum value instead of writing a wrong line', () => {
    expect(() => fmt(ev(77 as EventType, {}))).toThrow(/unknown type 77/);
    expect(() => fmt(ev(EventType.OrderRejected, { reason: 0 }))).toThrow(/reject reason/);
    expect(() => fmt(ev(EventType.Level, { side: 2 }))).toThrow(/side/);
  });

  it('writes payment events with money in minor units, dates and nulls for what does not apply', () => {
    expect(fmt(ev(EventType.PaymentState, { ref: 3, account: 0, flags: 3, code: 4, reason: 1, amountMinor: 1000000, amount2Minor: -840000 }))).toBe(
      '{"seq":7,"ts":1000000123,"type":"payment-state","paymentId":3,"account":"alice","from":"settled","to":"returned","reason":"R01","amountMinor":1000000,"availableMinor":-840000}',
    );
    expect(fmt(ev(EventType.ReconBreak, { ref: 6, mdSeq: 20460, tif: 0, code: 5, flags: 2, amount2Minor: -2500 }))).toBe(
      '{"seq":7,"ts":1000000123,"type":"recon-break","breakId":6,"date":"2026-01-07","bankIndex":0,"class":"unknown-item","paymentId":null,"ledgerAmountMinor":null,"bankAmountMinor":-2500}',
    );
    expect(JSON.parse(fmt(ev(EventType.BankResponse, { ref: 1, mdSeq: 2, code: 3, orderId: 36000000000000 })))).toMatchObject({ result: 'rate-limited', retryAt: 36000000000000 });
    expect(() => fmt(ev(EventType.PaymentState, { code: 9 }))).toThrow(/payment state/);
  });

  it('every event type parses as JSON with its documented keys in order', () => {
    const base = ['seq', 'ts', 'type'];
    const cases: Array<[EventType, Partial<EventRecord>, string[]]> = [
      [EventType.SessionOpen, {}, ['instrument']],
      [EventType.SessionClose, {}, ['instrument']],
      [EventType.OrderAccepted, {}, ['instrument', 'account', 'orderId', 'clOrdId', 'side', 'orderType', 'tif', 'price', 'size', 'stopPrice', 'postOnly']],
      [EventType.OrderRejected, { reason: RejectReason.BadTick }, ['instrument', 'account', 'clOrdId', 'side', 'orderType', 'tif', 'price', 'size', 'stopPrice', 'reason']],
      [EventType.Trade, {}, ['instrument', 'tradeId', 'price', 'size', 'aggressor', 'orderId', 'account', 'leaves', 'makerOrderId', 'makerAccount', 'makerLeaves']],
      [EventType.OrderCancelled, { reason: CancelReason.SelfTrade }, ['instrument', 'account', 'orderId', 'clOrdId', 'size', 'leaves', 'reason']],
      [EventType.OrderCancelled, { reason: CancelReason.Risk, flags: RejectReason.InsufficientBuyingPower }, ['instrument', 'account', 'orderId', 'clOrdId', 'size', 'leaves', 'reason', 'riskReason']],
      [EventType.OrderExpired, {}, ['instrument', 'account', 'orderId', 'clOrdId', 'size']],
      [EventType.OrderModified, {}, ['instrument', 'account', 'orderId', 'clOrdId', 'price', 'leaves', 'priorityKept']],
      [EventType.ModifyRejected, { reason: RejectReason.ModifyNoChange }, ['instrument', 'account', 'orderId', 'clOrdId', 'reason']],
      [EventType.CancelRejected, { reason: RejectReason.UnknownOrder }, ['instrument', 'account', 'orderId', 'clOrdId', 'reason']],
      [EventType.StopTriggered, {}, ['instrument', 'account', 'orderId', 'clOrdId', 'stopPrice', 'triggerPrice']],
      [EventType.OrderRested, {}, ['instrument', 'account', 'orderId', 'clOrdId', 'side', 'price', 'leaves']],
      [EventType.Quote, {}, ['instrument', 'bidPrice', 'bidSize', 'askPrice', 'askSize']],
      [EventType.Level, {}, ['instrument', 'mdSeq', 'side', 'price', 'size', 'orders']],
      [EventType.BookSnapshot, {}, ['instrument', 'mdSeq', 'bidLevels', 'askLevels']],
      [EventType.SnapshotLevel, {}, ['instrument', 'mdSeq', 'side', 'price', 'size', 'orders']],
      [EventType.Action, {}, ['actionIndex', 'account', 'clOrdId']],
      [EventType.PaymentRequested, {}, ['paymentId', 'request', 'account', 'direction', 'rail', 'bankIndex', 'amountMinor', 'outcome']],
      [EventType.PaymentState, {}, ['paymentId', 'account', 'from', 'to', 'reason', 'amountMinor', 'availableMinor']],
      [EventType.BankCall, {}, ['paymentId', 'bankIndex', 'op', 'attempt']],
      [EventType.BankResponse, {}, ['paymentId', 'bankIndex', 'attempt', 'result', 'retryAt']],
      [EventType.BankCallback, {}, ['paymentId', 'bankIndex', 'version', 'status', 'reason', 'amountMinor', 'duplicate', 'early', 'stale']],
      [EventType.FraudDecision, {}, ['paymentId', 'account', 'decision', 'rule', 'score', 'alert']],
      [EventType.ReconBreak, { mdSeq: 20458 }, ['breakId', 'date', 'bankIndex', 'class', 'paymentId', 'ledgerAmountMinor', 'bankAmountMinor']],
      [EventType.ReconResolved, { mdSeq: 20458 }, ['breakId', 'date', 'bankIndex', 'class', 'paymentId']],
      [EventType.ReconRun, { mdSeq: 20458 }, ['date', 'bankIndex', 'matched', 'breaks', 'open']],
      [EventType.CashHold, {}, ['account', 'request', 'amountMinor', 'availableMinor', 'result']],
      [EventType.MarketTrade, { code: 1 }, ['instrument', 'price', 'size', 'aggressor', 'kind', 'dataId']],
      [EventType.Fill, { code: 2 }, ['instrument', 'tradeId', 'account', 'orderId', 'clOrdId', 'side', 'price', 'size', 'leaves', 'liquidity', 'queueAtEntry', 'queueNs']],
      [EventType.Deposit, {}, ['account', 'amount', 'balance']],
      [EventType.Fee, {}, ['instrument', 'account', 'tradeId', 'liquidity', 'amount']],
      [EventType.CashSettled, {}, ['account', 'date', 'amount']],
      [EventType.SecuritiesSettled, {}, ['instrument', 'account', 'date', 'size']],
      [EventType.Mark, {}, ['instrument', 'date', 'price']],
      [EventType.Pnl, {}, ['account', 'date', 'pnl', 'equity']],
      [EventType.VariationMargin, {}, ['instrument', 'account', 'date', 'amount']],
      [EventType.MarginCall, {}, ['account', 'date', 'amount', 'equity']],
      [EventType.LiquidationStart, {}, ['account', 'equity', 'maintenance']],
      [EventType.LiquidationOrder, {}, ['instrument', 'account', 'clOrdId', 'side', 'size']],
      [EventType.Job, { reason: 1 }, ['job', 'date', 'attempt', 'status']],
      [EventType.KillSwitch, {}, ['account', 'scope', 'on']],
      [EventType.Cleared, {}, ['instrument', 'account', 'tradeId', 'orderId', 'side', 'price', 'size', 'amount', 'settleDate']],
      [EventType.TradeSettled, {}, ['instrument', 'account', 'tradeId', 'orderId', 'side', 'size', 'amount', 'date']],
    ];
    expect(new Set(cases.map((c) => c[0])).size).toBe(43);
    for (const [type, fields, keys] of cases) {
      const line = fmt(ev(type, fields));
      expect(line.includes('\n'), line).toBe(false);
      expect(keysOf(line), line).toEqual([...base, ...keys]);
    }
  });

  it('writes replay events: a recorded print (aggressor may be unknown) and an own fill with its queue', () => {
    expect(fmt(ev(EventType.MarketTrade, { instrument: 0, priceTicks: 2001, sizeLots: 7, side: Side.Buy, code: 1, ref: 16166035 }))).toBe(
      '{"seq":7,"ts":1000000123,"type":"market-trade","instrument":"ACME","price":"100.05","size":"7","aggressor":"buy","kind":"visible","dataId":16166035}',
    );
    expect(JSON.parse(fmt(ev(EventType.MarketTrade, { instrument: 0, side: 2, code: 4, ref: -1 })))).toMatchObject({ aggressor: null, kind: 'print', dataId: -1 });
    expect(
      fmt(ev(EventType.Fill, { instrument: 1, tradeId: 3, account: 0, orderId: 5, clOrdId: 2, side: Side.Sell, priceTicks: 4, sizeLots: 1500, leavesLots: 500, code: 2, makerLeavesLots: 18000, ref: 175072491 })),
    ).toBe(
      '{"seq":7,"ts":1000000123,"type":"fill","instrument":"BTC-USD","tradeId":3,"account":"alice","orderId":5,"clOrdId":2,"side":"sell","price":"2.0","size":"1.500","leaves":"0.500","liquidity":"queue","queueAtEntry":"18.000","queueNs":175072491}',
    );
    expect(() => fmt(ev(EventType.Fill, { instrument: 0, code: 9 }))).toThrow(/fill liquidity/);
  });

  it('writes account events with money in the account currency, dates and signed amounts', () => {
    const f = createEventFormatter(TEST_INSTRUMENTS, TEST_ACCOUNTS, [2, 0]);
    expect(f(ev(EventType.Fee, { instrument: 0, account: 0, tradeId: 3, code: 1, amountMinor: -7 }))).toBe(
      '{"seq":7,"ts":1000000123,"type":"fee","instrument":"ACME","account":"alice","tradeId":3,"liquidity":"maker","amount":"-0.07"}',
    );
    // Account 1 has a currency without minor units (exponent 0).
    expect(f(ev(EventType.Deposit, { account: 1, amountMinor: 1500, amount2Minor: 2500 }))).toBe('{"seq":7,"ts":1000000123,"type":"deposit","account":"bob","amount":"1500","balance":"2500"}');
    const day = 20_468; // 2026-01-15
    expect(f(ev(EventType.SecuritiesSettled, { instrument: 1, account: 0, ref: day, sizeLots: -1500 }))).toBe(
      '{"seq":7,"ts":1000000123,"type":"securities-settled","instrument":"BTC-USD","account":"alice","date":"2026-01-15","size":"-1.500"}',
    );
    expect(f(ev(EventType.Cleared, { instrument: 1, account: 1, tradeId: 9, orderId: 4, side: Side.Sell, priceTicks: 4, sizeLots: 1500, amountMinor: 6000, ref: day }))).toBe(
      '{"seq":7,"ts":1000000123,"type":"cleared","instrument":"BTC-USD","account":"bob","tradeId":9,"orderId":4,"side":"sell","price":"2.0","size":"1.500","amount":"6000","settleDate":"2026-01-15"}',
    );
    expect(f(ev(EventType.TradeSettled, { instrument: 0, account: 0, tradeId: 9, orderId: 5, side: Side.Buy, sizeLots: 10, amountMinor: -100_007, ref: day + 1 }))).toBe(
      '{"seq":7,"ts":1000000123,"type":"trade-settled","instrument":"ACME","account":"alice","tradeId":9,"orderId":5,"side":"buy","size":"10","amount":"-1000.07","date":"2026-01-16"}',
    );
    expect(() => f(ev(EventType.Cleared, { instrument: 0, side: 7 }))).toThrow(/side/);
    expect(f(ev(EventType.Job, { code: 2, ref: day, flags: 2, reason: 2 }))).toBe('{"seq":7,"ts":1000000123,"type":"job","job":"settlement","date":"2026-01-15","attempt":2,"status":"retrying"}');
    expect(f(ev(EventType.KillSwitch, { account: 0, code: 1, flags: 1 }))).toBe('{"seq":7,"ts":1000000123,"type":"kill-switch","account":"alice","scope":"firm","on":true}');
    expect(() => f(ev(EventType.Job, { code: 9, reason: 1 }))).toThrow(/job/);
  });
});
