import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { CommandRecord, CommandType, FLAG_POST_ONLY, STP_ACCOUNT_DEFAULT } from './command.js';
import { EventRecord, EventType, type EventSink } from './event.js';
import { Exchange, type ExchangeConfig } from './exchange.js';
import type { Instrument } from './instrument.js';
import { CancelReason, NO_PRICE, OrderType, RejectReason, Side, StpMode, TimeInForce } from './types.js';

const ACME: Instrument = { index: 0, symbol: 'ACME', tickSize: '0.01', lotSize: '1', referencePriceTicks: 10_000, priceBandBps: 0 };

class Recorder implements EventSink {
  readonly events: EventRecord[] = [];
  emit(e: EventRecord): void {
    this.events.push(Object.assign(new EventRecord(), e));
  }
  ofType(t: EventType): EventRecord[] {
    return this.events.filter((e) => e.type === t);
  }
  clear(): void {
    this.events.length = 0;
  }
}

function setup(over: Partial<ExchangeConfig> = {}, accounts = 4) {
  const rec = new Recorder();
  const ex = new Exchange(
    {
      instruments: [ACME],
      accounts: Array.from({ length: accounts }, (_, i) => ({ name: `a${i}`, stp: StpMode.None })),
      quotes: true,
      levels: 5,
      ...over,
    },
    rec,
  );
  ex.openSession(1);
  rec.clear();
  return { ex, rec };
}

let t = 10;
function submit(
  ex: Exchange,
  account: number,
  clOrdId: number,
  side: Side,
  price: number,
  size: number,
  o: { type?: OrderType; tif?: TimeInForce; stop?: number; postOnly?: boolean; stp?: StpMode } = {},
): void {
  const c = new CommandRecord();
  c.type = CommandType.Submit;
  c.tsNs = ++t;
  c.instrument = 0;
  c.account = account;
  c.clOrdId = clOrdId;
  c.side = side;
  c.orderType = o.type ?? OrderType.Limit;
  c.tif = o.tif ?? TimeInForce.GTC;
  c.priceTicks = price;
  c.sizeLots = size;
  c.stopPriceTicks = o.stop ?? 0;
  c.flags = o.postOnly ? FLAG_POST_ONLY : 0;
  c.stp = o.stp ?? STP_ACCOUNT_DEFAULT;
  ex.apply(c);
}
function cancel(ex: Exchange, account: number, clOrdId: number): void {
  const c = new CommandRecord();
  c.type = CommandType.Cancel;
  c.tsNs = ++t;
  c.account = account;
  c.clOrdId = clOrdId;
  ex.apply(c);
}
function modify(ex: Exchange, account: number, clOrdId: number, price: number, size: number): void {
  const c = new CommandRecord();
  c.type = CommandType.Modify;
  c.tsNs = ++t;
  c.account = account;
  c.clOrdId = clOrdId;
  c.priceTicks = price;
  c.sizeLots = size;
  ex.apply(c);
}

describe('Exchange', () => {
  it('sequences events with increasing seq and announces accepted before trades', () => {
    const { ex, rec } = setup();
    submit(ex, 0, 1, Side.Sell, 10_000, 5);
    submit(ex, 1, 1, Side.Buy, 10_000, 3);
    const types = rec.events.map((e) => e.type);
    expect(types).toEqual([
      EventType.OrderAccepted,
      EventType.OrderRested,
      EventType.Level,
      EventType.Quote,
      EventType.OrderAccepted,
      EventType.Trade,
      EventType.Level,
      EventType.Quote,
    ]);
    rec.events.forEach((e, i) => i > 0 && expect(e.seq).toBe(rec.events[i - 1]!.seq + 1));
    const tr = rec.ofType(EventType.Trade)[0]!;
    expect([tr.priceTicks, tr.sizeLots, tr.leavesLots, tr.makerLeavesLots, tr.side]).toEqual([10_000, 3, 0, 2, Side.Buy]);
  });

  it('refuses FOK, post-only and market-without-liquidity as rejects, never as accepted orders', () => {
    const { ex, rec } = setup();
    submit(ex, 0, 1, Side.Buy, 0, 5, { type: OrderType.Market });
    submit(ex, 0, 2, Side.Sell, 10_000, 5);
    submit(ex, 1, 1, Side.Buy, 10_000, 6, { tif: TimeInForce.FOK });
    submit(ex, 1, 2, Side.Buy, 10_000, 1, { postOnly: true });
    const rej = rec.ofType(EventType.OrderRejected).map((e) => e.reason);
    expect(rej).toEqual([RejectReason.NoLiquidity, RejectReason.FokCannotFill, RejectReason.PostOnlyWouldCross]);
    expect(rec.ofType(EventType.OrderAccepted)).toHaveLength(1);
    // Refused orders use no venue order id: the next accepted order gets id 2.
    submit(ex, 1, 3, Side.Buy, 9_999, 1);
    expect(rec.ofType(EventType.OrderAccepted)[1]!.orderId).toBe(2);
  });

  it('rejects bad ticks, lots, sizes, unknown accounts and duplicate client ids with their reason codes', () => {
    const { ex, rec } = setup();
    submit(ex, 0, 1, Side.Buy, 100.5, 1);
    submit(ex, 0, 2, Side.Buy, 100, 1.5);
    submit(ex, 0, 3, Side.Buy, 100, 0);
    submit(ex, 9, 1, Side.Buy, 100, 1);
    submit(ex, 0, 4, Side.Buy, 100, 1);
    submit(ex, 0, 4, Side.Buy, 100, 1);
    expect(rec.ofType(EventType.OrderRejected).map((e) => e.reason)).toEqual([
      RejectReason.BadTick,
      RejectReason.BadLot,
      RejectReason.BadSize,
      RejectReason.UnknownAccount,
      RejectReason.DuplicateClientOrderId,
    ]);
  });

  it('enforces price bands around the last trade', () => {
    const { ex, rec } = setup({ instruments: [{ ...ACME, priceBandBps: 100 }] });
    submit(ex, 0, 1, Side.Sell, 10_101, 1);
    submit(ex, 0, 2, Side.Sell, 10_100, 1);
    expect(rec.ofType(EventType.OrderRejected).map((e) => e.reason)).toEqual([RejectReason.OutsidePriceBand]);
    submit(ex, 1, 1, Side.Buy, 10_100, 1); // trade at 101.00: band becomes [99.99, 102.01]
    rec.clear();
    submit(ex, 0, 3, Side.Sell, 10_201, 1);
    submit(ex, 0, 4, Side.Sell, 10_202, 1);
    expect(rec.ofType(EventType.OrderRejected).map((e) => e.reason)).toEqual([RejectReason.OutsidePriceBand]);
  });

  it('triggers stops on the last trade price, in time priority, and cascades', () => {
    const { ex, rec } = setup();
    submit(ex, 0, 1, Side.Sell, 10_010, 10);
    submit(ex, 0, 2, Side.Sell, 10_020, 10);
    submit(ex, 1, 1, Side.Buy, 0, 5, { type: OrderType.StopMarket, stop: 10_010 });
    submit(ex, 2, 1, Side.Buy, 10_030, 5, { type: OrderType.StopLimit, stop: 10_020 });
    submit(ex, 3, 1, Side.Buy, 10_010, 10); // trades at 100.10 -> stop 1 buys 5 at 100.20 -> stop 2 triggers
    const trig = rec.ofType(EventType.StopTriggered);
    expect(trig.map((e) => [e.account, e.priceTicks])).toEqual([
      [1, 10_010],
      [2, 10_020],
    ]);
    expect(rec.ofType(EventType.Trade).map((e) => [e.account, e.priceTicks, e.sizeLots])).toEqual([
      [3, 10_010, 10],
      [1, 10_020, 5],
      [2, 10_020, 5],
    ]);
    expect(ex.pendingStops(0)).toHaveLength(0);
    // A stop that would trigger at once is refused.
    submit(ex, 1, 2, Side.Buy, 0, 1, { type: OrderType.StopMarket, stop: 10_000 });
    expect(rec.ofType(EventType.OrderRejected).at(-1)!.reason).toBe(RejectReason.BadStopPrice);
  });

  it('expires DAY orders and DAY stops at the close; GTC stays; submits after the close are refused', () => {
    const { ex, rec } = setup();
    submit(ex, 0, 1, Side.Buy, 9_990, 10, { tif: TimeInForce.DAY });
    submit(ex, 0, 2, Side.Buy, 9_980, 10);
    submit(ex, 1, 1, Side.Sell, 0, 5, { type: OrderType.StopMarket, stop: 9_900, tif: TimeInForce.DAY });
    ex.closeSession(++t);
    const exp = rec.ofType(EventType.OrderExpired);
    expect(exp.map((e) => [e.orderId, e.sizeLots])).toEqual([
      [1, 10],
      [3, 5],
    ]);
    expect(ex.book(0).restingCount()).toBe(1);
    submit(ex, 0, 9, Side.Buy, 9_000, 1);
    expect(rec.ofType(EventType.OrderRejected).at(-1)!.reason).toBe(RejectReason.MarketClosed);
    cancel(ex, 0, 2);
    expect(rec.ofType(EventType.OrderCancelled).at(-1)!.reason).toBe(CancelReason.User);
  });

  it('applies the account STP mode unless the order overrides it', () => {
    const rec = new Recorder();
    const ex = new Exchange(
      { instruments: [ACME], accounts: [{ name: 'x', stp: StpMode.CancelResting }, { name: 'y', stp: StpMode.None }], quotes: false, levels: 0 },
      rec,
    );
    ex.openSession(1);
    submit(ex, 0, 1, Side.Sell, 10_000, 5);
    submit(ex, 0, 2, Side.Buy, 10_000, 5);
    expect(rec.ofType(EventType.OrderCancelled).map((e) => [e.orderId, e.reason])).toEqual([[1, CancelReason.SelfTrade]]);
    submit(ex, 0, 3, Side.Sell, 10_000, 5, { stp: StpMode.CancelIncoming });
    expect(rec.ofType(EventType.OrderCancelled).map((e) => [e.orderId, e.reason])).toEqual([
      [1, CancelReason.SelfTrade],
      [3, CancelReason.SelfTrade],
    ]);
    expect(rec.ofType(EventType.Trade)).toHaveLength(0);
  });

  it('modify: size down keeps priority, size up loses it, and the modified event comes before trades', () => {
    const { ex, rec } = setup();
    submit(ex, 0, 1, Side.Buy, 10_000, 10);
    submit(ex, 1, 1, Side.Buy, 10_000, 10);
    modify(ex, 0, 1, 10_000, 6);
    expect(rec.ofType(EventType.OrderModified).at(-1)!.flags).toBe(1);
    modify(ex, 1, 1, 10_000, 12);
    modify(ex, 0, 1, 10_000, 12);
    expect(rec.ofType(EventType.OrderModified).map((e) => e.flags)).toEqual([1, 0, 0]);
    submit(ex, 2, 1, Side.Sell, 10_010, 4);
    rec.clear();
    modify(ex, 1, 1, 10_010, 12); // crosses: trades 4 at 100.10
    const types = rec.events.map((e) => e.type);
    expect(types[0]).toBe(EventType.OrderModified);
    expect(types.indexOf(EventType.Trade)).toBeGreaterThan(0);
    modify(ex, 2, 1, 10_010, 3);
    expect(rec.ofType(EventType.ModifyRejected).at(-1)!.reason).toBe(RejectReason.UnknownOrder);
    modify(ex, 0, 1, 10_000, 12);
    expect(rec.ofType(EventType.ModifyRejected).at(-1)!.reason).toBe(RejectReason.ModifyNoChange);
  });
});

/** Randomized: the venue's invariants hold after every command, for many seeds. */
describe('Exchange invariants under random flow', () => {
  const seeds = process.env.EXSIM_SOAK ? 200 : 12;
  for (let s = 1; s <= seeds; s++) {
    it(`seed ${s}`, () => randomRun(s, 3_000));
  }
});

/** Depth of the L2 view in the random test: shallow, so levels often enter and leave it. */
const L2_DEPTH = 3;

function randomRun(seed: number, steps: number): void {
  const rng = seedrandom(`exchange-invariants/${seed}`);
  const int = (lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
  const rec = new Recorder();
  const accounts = [StpMode.None, StpMode.CancelResting, StpMode.CancelIncoming, StpMode.CancelBoth].map((stp, i) => ({ name: `a${i}`, stp }));
  const ex = new Exchange({ instruments: [{ ...ACME, priceBandBps: 500 }], accounts, quotes: true, levels: L2_DEPTH }, rec);
  ex.openSession(1);
  const nextCl = [1, 1, 1, 1];
  const live: [number, number][] = [];
  // The L2 view a consumer keeps: snapshot at some point, then incrementals.
  let l2: Map<string, number> | null = null;
  let l2Seq = 0;
  const submitted = new Map<number, number>();
  const leaves = new Map<number, number>();
  const terminal = new Map<number, string>();
  let ts = 10;
  const fail = (msg: string) => {
    throw new Error(`seed ${seed}: ${msg}`);
  };
  const consume = (from: number) => {
    for (let k = from; k < rec.events.length; k++) {
    const e = rec.events[k]!;
    switch (e.type) {
      case EventType.OrderAccepted:
        submitted.set(e.orderId, e.sizeLots);
        leaves.set(e.orderId, e.sizeLots);
        break;
      case EventType.Trade: {
        // Quantity is conserved: each trade takes exactly its size off both orders.
        const lt = leaves.get(e.orderId)! - e.sizeLots;
        const lm = leaves.get(e.makerOrderId)! - e.sizeLots;
        if (lt !== e.leavesLots || lm !== e.makerLeavesLots) fail(`trade ${e.tradeId}: leaves ${e.leavesLots}/${e.makerLeavesLots}, expected ${lt}/${lm}`);
        leaves.set(e.orderId, lt);
        leaves.set(e.makerOrderId, lm);
        if (lt === 0) terminal.set(e.orderId, (terminal.get(e.orderId) ?? '') + 'F');
        if (lm === 0) terminal.set(e.makerOrderId, (terminal.get(e.makerOrderId) ?? '') + 'F');
        break;
      }
      case EventType.OrderCancelled:
      case EventType.OrderExpired: {
        const l = leaves.get(e.orderId)! - e.sizeLots;
        if (l !== 0) fail(`order ${e.orderId} ${e.type === EventType.OrderExpired ? 'expired' : 'cancelled'} ${e.sizeLots} of ${leaves.get(e.orderId)}`);
        leaves.set(e.orderId, 0);
        terminal.set(e.orderId, (terminal.get(e.orderId) ?? '') + 'C');
        break;
      }
      case EventType.OrderModified:
        leaves.set(e.orderId, e.sizeLots);
        break;
      case EventType.Level:
        if (l2 !== null) {
          if (e.mdSeq !== l2Seq + 1) fail(`level mdSeq ${e.mdSeq} after ${l2Seq}`);
          l2Seq = e.mdSeq;
          if (e.sizeLots === 0) l2.delete(`${e.side}:${e.priceTicks}`);
          else l2.set(`${e.side}:${e.priceTicks}`, e.sizeLots);
        }
        break;
    }
  }
  };
  for (let i = 0; i < steps; i++) {
    if (i === Math.floor(steps / 2)) {
      const snap = ex.snapshotL2(0, L2_DEPTH);
      l2 = new Map();
      for (const b of snap.bids) l2.set(`0:${b.priceTicks}`, b.sizeLots);
      for (const a of snap.asks) l2.set(`1:${a.priceTicks}`, a.sizeLots);
      l2Seq = snap.mdSeq;
    }
    const from = rec.events.length;
    const r = rng();
    const c = new CommandRecord();
    c.tsNs = ts += int(0, 3);
    c.instrument = 0;
    if (r < 0.55 || live.length === 0) {
      const acct = int(0, 3);
      c.type = CommandType.Submit;
      c.account = acct;
      c.clOrdId = nextCl[acct]!++;
      c.side = int(0, 1);
      const k = rng();
      c.orderType = k < 0.08 ? OrderType.Market : k < 0.12 ? OrderType.StopMarket : k < 0.15 ? OrderType.StopLimit : OrderType.Limit;
      c.tif = [TimeInForce.GTC, TimeInForce.GTC, TimeInForce.DAY, TimeInForce.IOC, TimeInForce.FOK][int(0, 4)]!;
      c.priceTicks = 10_000 + int(-20, 20);
      c.stopPriceTicks = 10_000 + int(-30, 30);
      c.sizeLots = int(1, 20);
      c.flags = c.orderType === OrderType.Limit && c.tif !== TimeInForce.IOC && c.tif !== TimeInForce.FOK && rng() < 0.1 ? FLAG_POST_ONLY : 0;
      c.stp = STP_ACCOUNT_DEFAULT;
      live.push([acct, c.clOrdId]);
    } else {
      const j = int(0, live.length - 1);
      const [acct, cl] = live[j]!;
      c.account = acct;
      c.clOrdId = cl;
      if (rng() < 0.6) {
        c.type = CommandType.Cancel;
        live.splice(j, 1);
      } else {
        c.type = CommandType.Modify;
        c.priceTicks = 10_000 + int(-20, 20);
        c.sizeLots = int(1, 20);
      }
    }
    ex.apply(c);
    consume(from);
    if (l2 !== null) {
      // A consumer holding snapshot + incrementals sees exactly the venue's top-N view after every command.
      const snap = ex.snapshotL2(0, L2_DEPTH);
      const view = [...snap.bids.map((b) => `0:${b.priceTicks}=${b.sizeLots}`), ...snap.asks.map((a) => `1:${a.priceTicks}=${a.sizeLots}`)].sort();
      const mine = [...l2.entries()].map(([k, v]) => `${k}=${v}`).sort();
      if (view.join() !== mine.join()) fail(`L2 view after command ${i}: consumer ${mine.join(' ')} != venue ${view.join(' ')}`);
      if (l2Seq !== snap.mdSeq) fail(`mdSeq ${l2Seq} != ${snap.mdSeq}`);
    }
    const book = ex.book(0);
    book.checkInvariants();
    const bid = book.bestBid();
    const ask = book.bestAsk();
    if (bid !== NO_PRICE && ask !== NO_PRICE && bid >= ask) fail(`crossed book ${bid} >= ${ask}`);
    // The last quote published equals the book's actual top of book.
    const quotes = rec.ofType(EventType.Quote);
    const q = quotes.at(-1);
    if (q && (q.bidPriceTicks !== bid || q.askPriceTicks !== ask)) fail(`quote ${q.bidPriceTicks}/${q.askPriceTicks} != book ${bid}/${ask}`);
  }
  const beforeClose = rec.events.length;
  ex.closeSession(ts + 1);
  consume(beforeClose);
  // Every order ends in exactly one terminal state or rests (only GTC may rest after the close).
  const resting = new Map<number, number>();
  for (const s of [Side.Buy, Side.Sell]) ex.book(0).forEachOrder(s, (id, _p, leaves) => resting.set(id, leaves));
  for (const [id] of submitted) {
    const term = terminal.get(id) ?? '';
    const rests = resting.has(id);
    if ((leaves.get(id) ?? 0) !== (resting.get(id) ?? (ex.pendingStops(0).includes(id) ? leaves.get(id) : 0))) {
      const hist = rec.events.filter((e) => e.orderId === id || e.makerOrderId === id).map((e) => `${e.seq}:${e.type}:${e.sizeLots}/${e.leavesLots}/${e.reason}`);
      fail(`order ${id}: events say ${leaves.get(id)} lots left, the book holds ${resting.get(id) ?? 0}: ${hist.join(' ')}`);
    }
    if (term.length + (rests ? 1 : 0) !== 1 && !(ex.pendingStops(0).includes(id) && term.length === 0)) fail(`order ${id}: terminal states "${term}", resting ${rests}`);
  }
  // The L2 view rebuilt from the snapshot plus incrementals equals the final book.
  const snap = ex.snapshotL2(0, L2_DEPTH);
  const final = new Map<string, number>();
  for (const b of snap.bids) final.set(`0:${b.priceTicks}`, b.sizeLots);
  for (const a of snap.asks) final.set(`1:${a.priceTicks}`, a.sizeLots);
  expect([...l2!.entries()].sort()).toEqual([...final.entries()].sort());
  expect(l2Seq).toBe(snap.mdSeq);
}
