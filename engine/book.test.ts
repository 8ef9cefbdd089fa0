import { describe, expect, it } from 'vitest';
import seedrandom from 'seedrandom';
import type { BookListener } from './book-listener.js';
import { OrderBook, type OrderBookOptions } from './book.js';
import { NaiveBook } from './naive-book.js';
import { CancelReason, NO_PRICE, OrderType, RejectReason, Side, StpMode, TimeInForce } from './types.js';

const { Buy, Sell } = Side;
const { Limit, Market } = OrderType;
const { GTC, DAY, IOC, FOK } = TimeInForce;

/** Records every callback as a compact string so two books' streams compare with toEqual. */
class Recorder implements BookListener {
  log: string[] = [];
  onTrade(takerId: number, makerId: number, priceTicks: number, sizeLots: number, takerLeavesLots: number, makerLeavesLots: number): void {
    this.log.push(`trade ${takerId}x${makerId} ${sizeLots}@${priceTicks} tl=${takerLeavesLots} ml=${makerLeavesLots}`);
  }
  onRest(orderId: number, side: Side, priceTicks: number, leavesLots: number): void {
    this.log.push(`rest ${orderId} ${side === Buy ? 'B' : 'S'} ${leavesLots}@${priceTicks}`);
  }
  onCancel(orderId: number, cancelledLots: number, reason: CancelReason): void {
    this.log.push(`cancel ${orderId} ${cancelledLots} ${CancelReason[reason]}`);
  }
  onLevel(side: Side, priceTicks: number, sizeLots: number, orderCount: number): void {
    this.log.push(`level ${side === Buy ? 'B' : 'S'} ${priceTicks} ${sizeLots}/${orderCount}`);
  }
  take(): string[] {
    const l = this.log;
    this.log = [];
    return l;
  }
}

function makeBook(opts?: OrderBookOptions): { book: OrderBook; rec: Recorder } {
  const rec = new Recorder();
  return { book: new OrderBook(rec, opts), rec };
}

/** GTC limit, no STP, not post-only. */
function lim(book: OrderBook | NaiveBook, id: number, owner: number, side: Side, price: number, size: number): number {
  return book.submit(id, owner, side, Limit, price, size, GTC, false, StpMode.None);
}

function l3(book: OrderBook | NaiveBook, side: Side): string[] {
  const out: string[] = [];
  book.forEachOrder(side, (id, p, q, owner) => out.push(`${id}:${q}@${p}/${owner}`));
  return out;
}

describe('OrderBook: resting and matching', () => {
  it('rests non-crossing limits, keeps best prices and levels', () => {
    const { book, rec } = makeBook();
    expect(book.bestBid()).toBe(NO_PRICE);
    expect(book.bestAsk()).toBe(NO_PRICE);
    expect([book.bestPrice(Buy), book.bestSize(Buy), book.bestPrice(Sell), book.bestSize(Sell)]).toEqual([NO_PRICE, 0, NO_PRICE, 0]);
    expect(book.priceToFill(Sell, 1)).toBe(NO_PRICE);
    expect(lim(book, 1, 1, Buy, 99, 5)).toBe(0);
    expect(lim(book, 2, 1, Buy, 100, 3)).toBe(0);
    expect(lim(book, 3, 2, Sell, 102, 4)).toBe(0);
    expect(lim(book, 4, 2, Sell, 101, 1)).toBe(0);
    expect(lim(book, 5, 2, Sell, 101, 2)).toBe(0);
    expect(rec.take()).toEqual([
      'rest 1 B 5@99', 'level B 99 5/1',
      'rest 2 B 3@100', 'level B 100 3/1',
      'rest 3 S 4@102', 'level S 102 4/1',
      'rest 4 S 1@101', 'level S 101 1/1',
      'rest 5 S 2@101', 'level S 101 3/2',
    ]);
    expect(book.bestBid()).toBe(100);
    expect(book.bestAsk()).toBe(101);
    expect([book.bestPrice(Buy), book.bestSize(Buy), book.bestPrice(Sell), book.bestSize(Sell)]).toEqual([100, 3, 101, 3]);
    expect(book.restingCount()).toBe(5);
    expect(book.levelCount(Buy)).toBe(2);
    expect(book.levelCount(Sell)).toBe(2);
    const p = new Float64Array(4), s = new Float64Array(4), c = new Float64Array(4);
    expect(book.depth(Sell, 4, p, s, c)).toBe(2);
    expect([...p.subarray(0, 2)]).toEqual([101, 102]);
    expect([...s.subarray(0, 2)]).toEqual([3, 4]);
    expect([...c.subarray(0, 2)]).toEqual([2, 1]);
    expect(book.depth(Buy, 1, p, s, c)).toBe(1);
    expect(p[0]).toBe(100);
    // Asks: 3 lots at 101, 4 at 102; bids: 3 at 100, 5 at 99. A taker of n lots is filled in full at:
    expect([1, 3, 4, 7, 8].map((n) => book.priceToFill(Sell, n))).toEqual([101, 101, 102, 102, 102]);
    expect([3, 4, 8, 9].map((n) => book.priceToFill(Buy, n))).toEqual([100, 99, 99, 99]);
    expect(l3(book, Sell)).toEqual(['4:1@101/2', '5:2@101/2', '3:4@102/2']);
    expect(book.priceOf(5)).toBe(101);
    expect(book.sideOf(5)).toBe(Sell);
    expect(book.ownerOf(1)).toBe(1);
    expect(book.submit(6, 1, Buy, Limit, 90, 1, DAY, false, StpMode.CancelBoth)).toBe(0);
    expect(book.tifOf(6)).toBe(DAY);
    expect(book.tifOf(1)).toBe(GTC);
    expect(book.cancel(6, CancelReason.Expired)).toBe(true);
    expect(book.leavesOf(3)).toBe(4);
    book.checkInvariants();
  });

  it('fills FIFO within a level at the maker price, partial fills, remainder rests', () => {
    const { book, rec } = makeBook();
    lim(book, 1, 1, Sell, 101, 2);
    lim(book, 2, 1, Sell, 101, 3);
    lim(book, 3, 1, Sell, 102, 4);
    rec.take();
    expect(lim(book, 4, 2, Buy, 102, 6)).toBe(0);
    expect(rec.take()).toEqual([
      'trade 4x1 2@101 tl=4 ml=0',
      'trade 4x2 3@101 tl=1 ml=0',
      'level S 101 0/0',
      'trade 4x3 1@102 tl=0 ml=3',
      'level S 102 3/1',
    ]);
    expect(book.isResting(1)).toBe(false);
    expect(book.leavesOf(3)).toBe(3);
    expect(lim(book, 5, 2, Buy, 103, 5)).toBe(0);
    expect(rec.take()).toEqual(['trade 5x3 3@102 tl=2 ml=0', 'level S 102 0/0', 'rest 5 B 2@103', 'level B 103 2/1']);
    expect(book.bestAsk()).toBe(NO_PRICE);
    expect(book.bestBid()).toBe(103);
    book.checkInvariants();
  });

  it('IOC trades what it can and cancels the rest; IOC without a cross is cancelled whole', () => {
    const { book, rec } = makeBook();
    lim(book, 1, 1, Buy, 100, 2);
    rec.take();
    expect(book.submit(2, 2, Sell, Limit, 99, 5, IOC, false, StpMode.None)).toBe(0);
    expect(rec.take()).toEqual(['trade 2x1 2@100 tl=3 ml=0', 'level B 100 0/0', 'cancel 2 3 ImmediateRemainder']);
    expect(book.submit(3, 2, Sell, Limit, 99, 5, IOC, false, StpMode.None)).toBe(0);
    expect(rec.take()).toEqual(['cancel 3 5 ImmediateRemainder']);
    expect(book.restingCount()).toBe(0);
  });

  it('FOK fills completely or is rejected with no state change', () => {
    const { book, rec } = makeBook();
    lim(book, 1, 1, Sell, 101, 2);
    lim(book, 2, 1, Sell, 102, 2);
    rec.take();
    expect(book.submit(3, 2, Buy, Limit, 101, 3, FOK, false, StpMode.None)).toBe(RejectReason.FokCannotFill);
    expect(book.submit(3, 2, Buy, Limit, 100, 1, FOK, false, StpMode.None)).toBe(RejectReason.FokCannotFill);
    expect(rec.take()).toEqual([]);
    expect(book.restingCount()).toBe(2);
    expect(book.submit(4, 2, Buy, Limit, 102, 3, FOK, false, StpMode.None)).toBe(0);
    expect(rec.take()).toEqual(['trade 4x1 2@101 tl=1 ml=0', 'level S 101 0/0', 'trade 4x2 1@102 tl=0 ml=1', 'level S 102 1/1']);
    book.checkInvariants();
  });

  it('FOK does not count own liquidity that STP would remove or stop at', () => {
    const { book } = makeBook();
    lim(book, 1, 7, Sell, 101, 5);
    lim(book, 2, 1, Sell, 101, 2);
    expect(book.submit(3, 7, Buy, Limit, 101, 3, FOK, false, StpMode.CancelResting)).toBe(RejectReason.FokCannotFill);
    expect(book.submit(3, 7, Buy, Limit, 101, 2, FOK, false, StpMode.CancelIncoming)).toBe(RejectReason.FokCannotFill);
    expect(book.restingCount()).toBe(2);
    expect(book.submit(3, 7, Buy, Limit, 101, 2, FOK, false, StpMode.CancelResting)).toBe(0);
    expect(book.isResting(1)).toBe(false);
    expect(book.restingCount()).toBe(0);
  });

  it('post-only rejects when it would cross and rests otherwise', () => {
    const { book, rec } = makeBook();
    lim(book, 1, 1, Sell, 101, 2);
    rec.take();
    expect(book.submit(2, 2, Buy, Limit, 101, 1, GTC, true, StpMode.None)).toBe(RejectReason.PostOnlyWouldCross);
    expect(rec.take()).toEqual([]);
    expect(book.submit(2, 2, Buy, Limit, 100, 1, GTC, true, StpMode.None)).toBe(0);
    expect(rec.take()).toEqual(['rest 2 B 1@100', 'level B 100 1/1']);
  });

  it('market orders sweep at any price, never rest, and need liquidity', () => {
    const { book, rec } = makeBook();
    expect(book.submit(1, 1, Buy, Market, 0, 5, IOC, false, StpMode.None)).toBe(RejectReason.NoLiquidity);
    lim(book, 2, 1, Sell, 101, 2);
    lim(book, 3, 1, Sell, 150, 2);
    rec.take();
    expect(book.submit(4, 2, Buy, Market, 0, 5, GTC, false, StpMode.None)).toBe(0);
    expect(rec.take()).toEqual([
      'trade 4x2 2@101 tl=3 ml=0', 'level S 101 0/0',
      'trade 4x3 2@150 tl=1 ml=0', 'level S 150 0/0',
      'cancel 4 1 ImmediateRemainder',
    ]);
    lim(book, 5, 1, Buy, 90, 2);
    rec.take();
    expect(book.submit(6, 2, Sell, Market, 0, 3, FOK, false, StpMode.None)).toBe(RejectReason.FokCannotFill);
    expect(book.submit(6, 2, Sell, Market, 0, 2, FOK, false, StpMode.None)).toBe(0);
    expect(rec.take()).toEqual(['trade 6x5 2@90 tl=0 ml=0', 'level B 90 0/0']);
    expect(book.restingCount()).toBe(0);
  });

  it('rejects bad input with no state change', () => {
    const { book, rec } = makeBook();
    lim(book, 1, 1, Sell, 101, 2);
    rec.take();
    expect(lim(book, 2, 1, Buy, 100, 0)).toBe(RejectReason.BadSize);
    expect(lim(book, 2, 1, Buy, 100, 1.5)).toBe(RejectReason.BadSize);
    expect(lim(book, 2, 1, Buy, 100, 2 ** 53)).toBe(RejectReason.BadSize);
    expect(lim(book, 2, 1, Buy, 100.5, 1)).toBe(RejectReason.BadPrice);
    expect(lim(book, 2, 1, Buy, 2 ** 31, 1)).toBe(RejectReason.BadPrice);
    expect(lim(book, 2, 1, Buy, NO_PRICE, 1)).toBe(RejectReason.BadPrice);
    expect(book.submit(2, 1, Buy, OrderType.StopLimit, 100, 1, GTC, false, StpMode.None)).toBe(RejectReason.BadOrderType);
    expect(rec.take()).toEqual([]);
    expect(() => lim(book, 1, 1, Buy, 90, 1)).toThrow(/already resting/);
    expect(() => lim(book, 0, 1, Buy, 90, 1)).toThrow(/bad orderId/);
  });

  it('handles extreme int32 prices and negative prices', () => {
    const { book } = makeBook();
    expect(lim(book, 1, 1, Sell, 2 ** 31 - 1, 1)).toBe(0);
    expect(lim(book, 2, 1, Buy, -(2 ** 31) + 1, 1)).toBe(0);
    expect(lim(book, 3, 1, Buy, -5, 1)).toBe(0);
    expect(book.bestBid()).toBe(-5);
    expect(book.bestAsk()).toBe(2 ** 31 - 1);
    expect(book.submit(4, 2, Buy, Market, 0, 1, IOC, false, StpMode.None)).toBe(0);
    expect(book.bestAsk()).toBe(NO_PRICE);
    book.checkInvariants();
  });
});

describe('OrderBook: self-trade prevention', () => {
  function setup(): { book: OrderBook; rec: Recorder } {
    const b = makeBook();
    lim(b.book, 1, 7, Sell, 101, 2); // own
    lim(b.book, 2, 1, Sell, 101, 3); // other
    b.rec.take();
    return b;
  }

  it('None: same owner trades', () => {
    const { book, rec } = setup();
    book.submit(3, 7, Buy, Limit, 101, 1, GTC, false, StpMode.None);
    expect(rec.take()).toEqual(['trade 3x1 1@101 tl=0 ml=1', 'level S 101 4/2']);
  });

  it('CancelResting: own maker cancelled, matching goes on', () => {
    const { book, rec } = setup();
    book.submit(3, 7, Buy, Limit, 101, 4, GTC, false, StpMode.CancelResting);
    expect(rec.take()).toEqual([
      'cancel 1 2 SelfTrade',
      'trade 3x2 3@101 tl=1 ml=0',
      'level S 101 0/0',
      'rest 3 B 1@101',
      'level B 101 1/1',
    ]);
    book.checkInvariants();
  });

  it('CancelIncoming: incoming remainder cancelled, maker untouched', () => {
    const { book, rec } = setup();
    book.submit(3, 7, Buy, Limit, 101, 4, GTC, false, StpMode.CancelIncoming);
    expect(rec.take()).toEqual(['cancel 3 4 SelfTrade']);
    expect(book.restingCount()).toBe(2);
  });

  it('CancelIncoming after partial fill on an earlier level', () => {
    const { book, rec } = makeBook();
    lim(book, 1, 1, Sell, 100, 1);
    lim(book, 2, 7, Sell, 101, 1);
    rec.take();
    book.submit(3, 7, Buy, Limit, 105, 4, GTC, false, StpMode.CancelIncoming);
    expect(rec.take()).toEqual(['trade 3x1 1@100 tl=3 ml=0', 'level S 100 0/0', 'cancel 3 3 SelfTrade']);
    expect(book.bestAsk()).toBe(101);
  });

  it('CancelBoth: both go', () => {
    const { book, rec } = setup();
    book.submit(3, 7, Buy, Limit, 101, 4, GTC, false, StpMode.CancelBoth);
    expect(rec.take()).toEqual(['cancel 1 2 SelfTrade', 'level S 101 3/1', 'cancel 3 4 SelfTrade']);
    expect(l3(book, Sell)).toEqual(['2:3@101/1']);
    book.checkInvariants();
  });
});

describe('OrderBook: cancel and modify', () => {
  it('cancel removes in O(1) and reports; unknown or repeated cancel is false', () => {
    const { book, rec } = makeBook();
    lim(book, 1, 1, Buy, 100, 2);
    lim(book, 2, 1, Buy, 100, 3);
    rec.take();
    expect(book.cancel(1, CancelReason.User)).toBe(true);
    expect(rec.take()).toEqual(['cancel 1 2 User', 'level B 100 3/1']);
    expect(book.cancel(1, CancelReason.User)).toBe(false);
    expect(book.cancel(99, CancelReason.User)).toBe(false);
    expect(book.cancel(-3, CancelReason.User)).toBe(false);
    expect(book.cancel(2, CancelReason.Expired)).toBe(true);
    expect(rec.take()).toEqual(['cancel 2 3 Expired', 'level B 100 0/0']);
    expect(book.bestBid()).toBe(NO_PRICE);
    book.checkInvariants();
  });

  it('size down keeps priority in place', () => {
    const { book, rec } = makeBook();
    lim(book, 1, 1, Sell, 101, 5);
    lim(book, 2, 1, Sell, 101, 5);
    rec.take();
    expect(book.modify(1, 101, 2)).toBe(0);
    expect(book.lastModifyKeptPriority).toBe(true);
    expect(rec.take()).toEqual(['level S 101 7/2']);
    expect(l3(book, Sell)).toEqual(['1:2@101/1', '2:5@101/1']);
    expect(book.modify(1, 101, 2)).toBe(RejectReason.ModifyNoChange);
    expect(book.modify(9, 101, 2)).toBe(RejectReason.UnknownOrder);
    expect(book.modify(1, 101, 0)).toBe(RejectReason.BadSize);
    expect(book.modify(1, 1.5, 1)).toBe(RejectReason.BadPrice);
    expect(rec.take()).toEqual([]);
  });

  it('size up loses priority at the same price', () => {
    const { book, rec } = makeBook();
    lim(book, 1, 1, Sell, 101, 5);
    lim(book, 2, 1, Sell, 101, 5);
    rec.take();
    expect(book.modify(1, 101, 6)).toBe(0);
    expect(book.lastModifyKeptPriority).toBe(false);
    expect(rec.take()).toEqual(['rest 1 S 6@101', 'level S 101 11/2']);
    expect(l3(book, Sell)).toEqual(['2:5@101/1', '1:6@101/1']);
    book.checkInvariants();
  });

  it('the sole order of a level modified up keeps the level', () => {
    const { book, rec } = makeBook();
    lim(book, 1, 1, Buy, 100, 5);
    rec.take();
    expect(book.modify(1, 100, 8)).toBe(0);
    expect(rec.take()).toEqual(['rest 1 B 8@100', 'level B 100 8/1']);
    book.checkInvariants();
  });

  it('price change moves the order; a crossing modify trades at once', () => {
    const { book, rec } = makeBook();
    lim(book, 1, 1, Buy, 99, 5);
    lim(book, 2, 2, Sell, 101, 3);
    rec.take();
    expect(book.modify(1, 100, 5)).toBe(0);
    expect(rec.take()).toEqual(['level B 99 0/0', 'rest 1 B 5@100', 'level B 100 5/1']);
    expect(book.modify(1, 102, 4)).toBe(0);
    expect(rec.take()).toEqual([
      'level B 100 0/0',
      'trade 1x2 3@101 tl=1 ml=0',
      'level S 101 0/0',
      'rest 1 B 1@102',
      'level B 102 1/1',
    ]);
    expect(book.leavesOf(1)).toBe(1);
    book.checkInvariants();
  });

  it('a crossing modify can fill the order completely', () => {
    const { book, rec } = makeBook();
    lim(book, 1, 1, Buy, 99, 2);
    lim(book, 2, 2, Sell, 101, 3);
    rec.take();
    expect(book.modify(1, 101, 2)).toBe(0);
    expect(rec.take()).toEqual(['level B 99 0/0', 'trade 1x2 2@101 tl=0 ml=1', 'level S 101 1/1']);
    expect(book.isResting(1)).toBe(false);
    book.checkInvariants();
  });

  it('modify keeps STP and post-only of the original order', () => {
    const { book, rec } = makeBook();
    book.submit(1, 7, Buy, Limit, 99, 2, GTC, true, StpMode.None);
    book.submit(2, 7, Buy, Limit, 98, 2, GTC, false, StpMode.CancelIncoming);
    lim(book, 3, 7, Sell, 101, 3);
    rec.take();
    expect(book.modify(1, 101, 2)).toBe(RejectReason.PostOnlyWouldCross);
    expect(rec.take()).toEqual([]);
    expect(book.modify(2, 101, 2)).toBe(0);
    expect(rec.take()).toEqual(['level B 98 0/0', 'cancel 2 2 SelfTrade']);
    expect(book.isResting(2)).toBe(false);
    book.checkInvariants();
  });
});

describe('OrderBook: limits and pool', () => {
  it('grows the pool in chunks and reuses freed slots', () => {
    const { book } = makeBook({ initialOrders: 4, ordersMax: 64 });
    expect(book.poolCapacity()).toBe(4);
    for (let i = 1; i <= 5; i++) lim(book, i, 1, Buy, 100 - i, 1);
    expect(book.poolCapacity()).toBe(8);
    for (let i = 6; i <= 17; i++) lim(book, i, 1, Buy, 100 - i, 1);
    expect(book.poolCapacity()).toBe(32);
    book.checkInvariants();
    for (let i = 1; i <= 17; i++) book.cancel(i, CancelReason.User);
    for (let i = 18; i <= 49; i++) lim(book, i, 1, Sell, 200 + i, 1);
    expect(book.poolCapacity()).toBe(32);
    book.checkInvariants();
  });

  it('rejects with PoolFull at ordersMax only when the order would rest', () => {
    const { book, rec } = makeBook({ initialOrders: 2, ordersMax: 3 });
    lim(book, 1, 1, Buy, 100, 1);
    lim(book, 2, 1, Buy, 99, 1);
    lim(book, 3, 1, Sell, 101, 2);
    rec.take();
    expect(lim(book, 4, 1, Buy, 98, 1)).toBe(RejectReason.PoolFull);
    expect(lim(book, 4, 1, Sell, 102, 1)).toBe(RejectReason.PoolFull);
    expect(lim(book, 4, 2, Sell, 100, 2)).toBe(RejectReason.PoolFull); // 1 fills, 1 would rest
    expect(rec.take()).toEqual([]);
    expect(lim(book, 4, 2, Sell, 100, 1)).toBe(0); // fully fills, needs no slot
    expect(book.submit(5, 2, Sell, Limit, 90, 5, IOC, false, StpMode.None)).toBe(0);
    expect(lim(book, 6, 1, Buy, 98, 1)).toBe(0);
    book.checkInvariants();
  });

  it('rejects with PriceLevelsFull for a new level beyond levelsMax', () => {
    const { book } = makeBook({ levelsMax: 2 });
    lim(book, 1, 1, Buy, 100, 1);
    lim(book, 2, 1, Buy, 99, 1);
    expect(lim(book, 3, 1, Buy, 98, 1)).toBe(RejectReason.PriceLevelsFull);
    expect(lim(book, 3, 1, Buy, 99, 1)).toBe(0);
    expect(lim(book, 4, 1, Sell, 110, 1)).toBe(0);
    expect(book.modify(1, 97, 1)).toBe(0); // its old level empties, so the count stays 2
    expect(book.modify(2, 96, 1)).toBe(RejectReason.PriceLevelsFull); // 99 keeps order 3
    book.checkInvariants();
  });

  it('grows the level arrays past their initial size, far from the touch too', () => {
    const { book } = makeBook();
    const r = seedrandom('levels');
    for (let i = 1; i <= 3000; i++) lim(book, i, 1, i % 2 === 0 ? Buy : Sell, i % 2 === 0 ? 10_000 - Math.floor(r() * 5000) : 10_001 + Math.floor(r() * 5000), 1);
    book.checkInvariants();
    for (let i = 1; i <= 3000; i += 3) book.cancel(i, CancelReason.User);
    book.checkInvariants();
    // The touch as the quote reads it is depth's first level, on either side.
    const p = new Float64Array(1), s = new Float64Array(1), c = new Float64Array(1);
    for (const side of [Buy, Sell]) {
      expect(book.depth(side, 1, p, s, c)).toBe(1);
      expect([book.bestPrice(side), book.bestSize(side)]).toEqual([p[0], s[0]]);
    }
    expect(book.bestPrice(Buy)).toBe(book.bestBid());
    expect(book.bestPrice(Sell)).toBe(book.bestAsk());
  });
});

// ───────────────────────── randomized differential test ─────────────────────────

interface Accounting {
  entered: Map<number, number>;
  filled: Map<number, number>;
  cancelled: Map<number, number>;
  cancelCount: Map<number, number>;
}

function account(acc: Accounting, log: string[]): void {
  const add = (m: Map<number, number>, id: number, q: number): void => {
    m.set(id, (m.get(id) ?? 0) + q);
  };
  for (const line of log) {
    const parts = line.split(' ');
    if (parts[0] === 'trade') {
      const [t, m] = parts[1].split('x').map(Number);
      const q = Number(parts[2].split('@')[0]);
      add(acc.filled, t, q);
      add(acc.filled, m, q);
    } else if (parts[0] === 'cancel') {
      add(acc.cancelled, Number(parts[1]), Number(parts[2]));
      add(acc.cancelCount, Number(parts[1]), 1);
    }
  }
}

/** What a run exercised, so a generator that drifts into trivia fails loudly. */
type Coverage = Map<string, number>;

function runDifferential(seed: string, commands: number, opts: OrderBookOptions, spreadTicks = 8): Coverage {
  const cov: Coverage = new Map();
  const hit = (k: string): void => {
    cov.set(k, (cov.get(k) ?? 0) + 1);
  };
  const rnd = seedrandom(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const recF = new Recorder();
  const recN = new Recorder();
  const fast = new OrderBook(recF, opts);
  const naive = new NaiveBook(recN, opts);
  const acc: Accounting = { entered: new Map(), filled: new Map(), cancelled: new Map(), cancelCount: new Map() };
  const accepted: number[] = [];
  let nextId = 1;
  let mid = 1000;
  const fail = (i: number, what: string): string => `seed=${seed} command #${i}: ${what}`;

  for (let i = 0; i < commands; i++) {
    if (rnd() < 0.02) mid += int(-3, 3);
    const roll = rnd();
    let desc: string;
    let rF: number | boolean;
    let rN: number | boolean;
    if (roll < 0.6 || accepted.length === 0) {
      const id = nextId++;
      const owner = int(1, 3);
      const side = rnd() < 0.5 ? Buy : Sell;
      const type = rnd() < 0.1 ? Market : rnd() < 0.005 ? OrderType.StopMarket : Limit;
      const price = rnd() < 0.01 ? 0.5 : mid + (side === Buy ? -1 : 1) * int(-3, spreadTicks);
      const size = rnd() < 0.01 ? 0 : int(1, 20);
      const tif = pick([GTC, GTC, GTC, DAY, IOC, FOK]);
      const postOnly = rnd() < 0.1;
      const stp = pick([StpMode.None, StpMode.None, StpMode.CancelResting, StpMode.CancelIncoming, StpMode.CancelBoth]);
      desc = `submit(${id}, ${owner}, ${Side[side]}, ${OrderType[type]}, ${price}, ${size}, ${TimeInForce[tif]}, ${postOnly}, ${StpMode[stp]})`;
      rF = fast.submit(id, owner, side, type, price, size, tif, postOnly, stp);
      rN = naive.submit(id, owner, side, type, price, size, tif, postOnly, stp);
      if (rF === 0) {
        accepted.push(id);
        acc.entered.set(id, size);
      }
    } else if (roll < 0.85) {
      const id = rnd() < 0.05 ? nextId + 5 : pick(accepted);
      const reason = rnd() < 0.8 ? CancelReason.User : CancelReason.Expired;
      desc = `cancel(${id}, ${CancelReason[reason]})`;
      rF = fast.cancel(id, reason);
      rN = naive.cancel(id, reason);
    } else {
      const id = pick(accepted);
      const before = fast.leavesOf(id);
      const oldPrice = fast.priceOf(id);
      const r = rnd();
      const price = r < 0.4 && oldPrice !== NO_PRICE ? oldPrice : mid + int(-spreadTicks - 2, spreadTicks + 2);
      const size = r < 0.2 ? before : r < 0.3 ? Math.max(1, before - int(1, 5)) : int(1, 25);
      desc = `modify(${id}, ${price}, ${size})`;
      rF = fast.modify(id, price, size);
      rN = naive.modify(id, price, size);
      if (rF === 0) {
        acc.entered.set(id, (acc.entered.get(id) ?? 0) + size - before);
        expect(fast.lastModifyKeptPriority, fail(i, desc)).toBe(naive.lastModifyKeptPriority);
      }
    }
    const logF = recF.take();
    const logN = recN.take();
    expect(rF, fail(i, `${desc} result`)).toBe(rN);
    expect(logF, fail(i, `${desc} callbacks`)).toEqual(logN);
    account(acc, logF);
    hit(`${desc.slice(0, desc.indexOf('('))}:${typeof rF === 'number' && rF !== 0 ? RejectReason[rF] : String(rF)}`);
    for (const line of logF) hit(line.startsWith('cancel') ? `cancel:${line.split(' ')[3]}` : line.split(' ')[0]);
    if (fast.levelCount(Buy) + fast.levelCount(Sell) > 0 && fast.lastModifyKeptPriority) hit('keptPriority');
    try {
      fast.checkInvariants();
    } catch (e) {
      throw new Error(fail(i, `${desc}: ${(e as Error).message}`));
    }
    expect([fast.bestBid(), fast.bestAsk(), fast.restingCount(), fast.levelCount(Buy), fast.levelCount(Sell)], fail(i, desc)).toEqual([
      naive.bestBid(), naive.bestAsk(), naive.restingCount(), naive.levelCount(Buy), naive.levelCount(Sell),
    ]);
    if (i % 50 === 0) {
      expect(l3(fast, Buy), fail(i, 'L3 bids')).toEqual(l3(naive, Buy));
      expect(l3(fast, Sell), fail(i, 'L3 asks')).toEqual(l3(naive, Sell));
    }
  }

  // Conservation and terminal states, per accepted order.
  for (const id of accepted) {
    const entered = acc.entered.get(id) ?? 0;
    const filled = acc.filled.get(id) ?? 0;
    const cancelled = acc.cancelled.get(id) ?? 0;
    const cancels = acc.cancelCount.get(id) ?? 0;
    const resting = fast.leavesOf(id);
    expect(entered, `seed=${seed} order ${id}: entered != filled + cancelled + resting`).toBe(filled + cancelled + resting);
    const states = (fast.isResting(id) ? 1 : 0) + cancels + (cancels === 0 && resting === 0 && filled === entered ? 1 : 0);
    expect(states, `seed=${seed} order ${id}: not in exactly one of resting / cancelled / filled`).toBe(1);
  }
  return cov;
}

describe('OrderBook vs NaiveBook (randomized)', () => {
  const soak = process.env.EXSIM_SOAK === '1';
  const seeds = soak ? Array.from({ length: 20 }, (_, i) => `soak-${i}`) : ['alpha', 'bravo', 'charlie'];
  const commands = soak ? 10_000 : 3_000;
  for (const seed of seeds) {
    it(`same callbacks, invariants and conservation, seed ${seed}`, () => {
      const cov = runDifferential(seed, commands, { initialOrders: 4 });
      for (const k of ['trade', 'rest', 'level', 'cancel:User', 'cancel:Expired', 'cancel:SelfTrade', 'cancel:ImmediateRemainder',
        'submit:0', 'submit:FokCannotFill', 'submit:PostOnlyWouldCross', 'submit:BadSize', 'submit:BadPrice', 'submit:BadOrderType',
        'cancel:true', 'cancel:false', 'modify:0', 'modify:ModifyNoChange', 'modify:UnknownOrder', 'modify:PostOnlyWouldCross']) {
        expect(cov.get(k) ?? 0, `seed=${seed}: nothing exercised ${k}`).toBeGreaterThan(0);
      }
    });
    it(`same behaviour with many levels (bisect and block shifts), seed ${seed}`, () => {
      const cov = runDifferential(`${seed}-wide`, soak ? commands / 2 : commands, { initialOrders: 8 }, 150);
      expect(cov.get('trade') ?? 0, `seed=${seed}: no trades`).toBeGreaterThan(0);
    });
    it(`same behaviour at tight limits, seed ${seed}`, () => {
      const cov = runDifferential(`${seed}-tight`, commands, { initialOrders: 2, ordersMax: 24, levelsMax: 6 });
      for (const k of ['submit:PoolFull', 'submit:PriceLevelsFull', 'modify:PriceLevelsFull', 'trade']) {
        expect(cov.get(k) ?? 0, `seed=${seed}: nothing exercised ${k}`).toBeGreaterThan(0);
      }
    });
  }
});
